/*
 * io_file.c — file objects: opening a device (IRP_MJ_CREATE), IRP_MJ_CLEANUP when the
 * last handle goes, IRP_MJ_CLOSE when the last reference goes; IoGetDeviceObjectPointer;
 * thread rundown of outstanding I/O.
 *
 * A file object holds a reference on its device object (and counts in the device's
 * ReferenceCount) from a successful create until its close IRP has been sent.
 */
#include <ntddk.h>
#include <stdlib.h>

#include "io_internal.h"
#include "se_internal.h"
#include "ob_internal.h"

static VOID iop_close_file(PVOID Object, ULONG_PTR HandleCount);
static VOID iop_delete_file(PVOID Object);

static struct _OBJECT_TYPE iop_file_type = {
    .Name = "File",
    .PoolTag = 0x656C6946, /* 'File' */
    .DeleteProcedure = iop_delete_file,
    .CloseProcedure = iop_close_file,
    .GenericMapping = { FILE_GENERIC_READ, FILE_GENERIC_WRITE, FILE_GENERIC_EXECUTE, FILE_ALL_ACCESS },
    .WaitObjectOffset = offsetof(FILE_OBJECT, Event),
};
POBJECT_TYPE IopFileType = &iop_file_type;
POBJECT_TYPE *IoFileObjectType = &IopFileType;

/* The device that receives a file object's IRPs: the top of its device's stack. */
PDEVICE_OBJECT NTAPI IoGetRelatedDeviceObject(PFILE_OBJECT FileObject)
{
    return IoGetAttachedDevice(FileObject->DeviceObject);
}

/*
 * Send a create/cleanup/close IRP for `fo` to `target` and wait for it (these IRPs
 * are synchronous on NT too). Returns the final status.
 */
static NTSTATUS iop_send_file_irp(PDEVICE_OBJECT target, PFILE_OBJECT fo, UCHAR major, ULONG flags,
                                  KPROCESSOR_MODE mode, const iop_open_params *open, IO_SECURITY_CONTEXT *sec)
{
    PIRP irp = IoAllocateIrp(target->StackSize, FALSE);
    if (!irp)
        return STATUS_INSUFFICIENT_RESOURCES;
    KEVENT done;
    IO_STATUS_BLOCK iosb = { 0 };
    KeInitializeEvent(&done, NotificationEvent, FALSE);
    irp->Flags = IRP_SYNCHRONOUS_API | flags;
    irp->RequestorMode = mode;
    irp->UserIosb = &iosb;
    irp->UserEvent = &done;
    irp->Tail.Overlay.OriginalFileObject = fo;
    PIO_STACK_LOCATION sp = IoGetNextIrpStackLocation(irp);
    sp->MajorFunction = major;
    sp->FileObject = fo;
    if (open) {
        sp->Parameters.Create.SecurityContext = sec;
        sp->Parameters.Create.Options = (open->Disposition << 24) | (open->CreateOptions & 0x00FFFFFF);
        sp->Parameters.Create.FileAttributes = (USHORT)open->FileAttributes;
        sp->Parameters.Create.ShareAccess = (USHORT)open->ShareAccess;
    }
    IopQueueThreadIrp(irp);
    NTSTATUS st = IoCallDriver(target, irp);
    if (st == STATUS_PENDING) {
        KeWaitForSingleObject(&done, Executive, KernelMode, FALSE, NULL);
        st = iosb.Status;
    }
    if (open && open->Information)
        *open->Information = iosb.Information;
    return st;
}

/*
 * IopOpenDevice: what NtCreateFile does for a device: resolve the name, count the
 * open on the device (exclusive devices refuse a second one), build the file object
 * and send IRP_MJ_CREATE to the top of the device's stack.
 */
NTSTATUS IopOpenDevice(PCUNICODE_STRING Path, const iop_open_params *Params, PFILE_OBJECT *FileObject)
{
    ob_ns_lookup res;
    *FileObject = NULL;
    NTSTATUS st = ObpNsLookup(Path, &res);
    if (!NT_SUCCESS(st))
        return st;
    if (res.Kind != OB_NS_DEVICE) {
        if (res.Object)
            ObDereferenceObject(res.Object);
        ObpNsLookupDone(&res);
        return STATUS_OBJECT_TYPE_MISMATCH;
    }
    PDEVICE_OBJECT dev = res.Object;
    st = SepDeviceAccessCheck(dev, Params->DesiredAccess, Params->Mode);
    if (NT_SUCCESS(st))
        st = IopReferenceDeviceForOpen(dev);
    PFILE_OBJECT fo = NULL;
    if (NT_SUCCESS(st)) {
        st = ObpCreateObject(IopFileType, sizeof(FILE_OBJECT), (PVOID *)&fo);
        if (!NT_SUCCESS(st))
            IopDereferenceDeviceForOpen(dev);
    }
    if (!NT_SUCCESS(st)) {
        ObDereferenceObject(dev);
        ObpNsLookupDone(&res);
        return st;
    }
    fo->Type = IO_TYPE_FILE;
    fo->Size = sizeof(FILE_OBJECT);
    fo->DeviceObject = dev;
    fo->FileName = res.Remaining; /* the file object owns the buffer now */
    res.Remaining.Buffer = NULL;
    ObpNsLookupDone(&res);
    if (Params->CreateOptions & (FILE_SYNCHRONOUS_IO_ALERT | FILE_SYNCHRONOUS_IO_NONALERT))
        fo->Flags |= FO_SYNCHRONOUS_IO;
    if (Params->CreateOptions & FILE_SYNCHRONOUS_IO_ALERT)
        fo->Flags |= FO_ALERTABLE_IO;
    fo->ReadAccess = (Params->DesiredAccess & (FILE_READ_DATA | FILE_EXECUTE)) != 0;
    fo->WriteAccess = (Params->DesiredAccess & (FILE_WRITE_DATA | FILE_APPEND_DATA)) != 0;
    fo->DeleteAccess = (Params->DesiredAccess & DELETE) != 0;
    fo->SharedRead = (Params->ShareAccess & FILE_SHARE_READ) != 0;
    fo->SharedWrite = (Params->ShareAccess & FILE_SHARE_WRITE) != 0;
    fo->SharedDelete = (Params->ShareAccess & FILE_SHARE_DELETE) != 0;
    KeInitializeEvent(&fo->Lock, SynchronizationEvent, FALSE);
    KeInitializeEvent(&fo->Event, NotificationEvent, FALSE);

    IO_SECURITY_CONTEXT sec = { .DesiredAccess = Params->DesiredAccess };
    st = iop_send_file_irp(IoGetRelatedDeviceObject(fo), fo, IRP_MJ_CREATE, IRP_CREATE_OPERATION, Params->Mode,
                           Params, &sec);
    if (!NT_SUCCESS(st)) {
        /* A file object whose create failed is never cleaned up or closed. */
        IopDereferenceDeviceForOpen(dev);
        ObDereferenceObject(fo);
        return st;
    }
    fo->Flags |= FO_FILE_OPEN;
    *FileObject = fo;
    return st;
}

/* Ob close procedure: the last handle to an opened file object went. */
static VOID iop_close_file(PVOID Object, ULONG_PTR HandleCount)
{
    if (HandleCount == 0)
        IopCleanupFile(Object);
}

VOID IopCleanupFile(PFILE_OBJECT FileObject)
{
    if (!(FileObject->Flags & FO_FILE_OPEN) || (FileObject->Flags & FO_CLEANUP_COMPLETE))
        return;
    iop_send_file_irp(IoGetRelatedDeviceObject(FileObject), FileObject, IRP_MJ_CLEANUP, 0, KernelMode, NULL, NULL);
    FileObject->Flags |= FO_CLEANUP_COMPLETE;
}

/* Ob delete procedure: the last reference went: IRP_MJ_CLOSE, then release the device. */
static VOID iop_delete_file(PVOID Object)
{
    PFILE_OBJECT fo = Object;
    PDEVICE_OBJECT dev = fo->DeviceObject;
    if (fo->Flags & FO_FILE_OPEN) {
        iop_send_file_irp(IoGetRelatedDeviceObject(fo), fo, IRP_MJ_CLOSE, IRP_CLOSE_OPERATION, KernelMode, NULL,
                          NULL);
        IopDereferenceDeviceForOpen(dev);
    }
    free(fo->FileName.Buffer);
    if (dev)
        ObDereferenceObject(dev);
}

/*
 * IoGetDeviceObjectPointer: open the named device as NT does (a kernel handle that is
 * closed at once, so the driver sees IRP_MJ_CREATE then IRP_MJ_CLEANUP) and return
 * the referenced file object and the device at the top of its stack.
 */
NTSTATUS NTAPI IoGetDeviceObjectPointer(PUNICODE_STRING ObjectName, ACCESS_MASK DesiredAccess,
                                        PFILE_OBJECT *FileObject, PDEVICE_OBJECT *DeviceObject)
{
    iop_open_params p = {
        .DesiredAccess = ObpMapGenericAccess(IopFileType, DesiredAccess),
        .Disposition = FILE_OPEN,
        .CreateOptions = FILE_NON_DIRECTORY_FILE,
        .Mode = KernelMode,
    };
    PFILE_OBJECT fo;
    NTSTATUS st = IopOpenDevice(ObjectName, &p, &fo);
    if (!NT_SUCCESS(st))
        return st;
    HANDLE h;
    st = ObpCreateHandle(fo, p.DesiredAccess, OBJ_KERNEL_HANDLE, &h);
    if (NT_SUCCESS(st)) {
        fo->Flags |= FO_HANDLE_CREATED;
        ObpCloseHandle(h, KernelMode);
    } else {
        IopCleanupFile(fo);
    }
    *FileObject = fo;
    *DeviceObject = IoGetRelatedDeviceObject(fo);
    return STATUS_SUCCESS;
}

/* ---- thread rundown ----------------------------------------------------------------- */

/* NT waits this long (in 100 ms steps) for cancelled IRPs of an exiting thread. */
#define IOP_RUNDOWN_STEPS 3000

VOID IopThreadRundown(PETHREAD Thread)
{
    if (!IopThreadIrpsPending(Thread, NULL, NULL))
        return;
    IopCancelThreadIrps(Thread, NULL, NULL);
    LARGE_INTEGER step = { .QuadPart = -100LL * 10000 };
    for (ULONG i = 0; i < IOP_RUNDOWN_STEPS && IopThreadIrpsPending(Thread, NULL, NULL); i++)
        KeDelayExecutionThread(KernelMode, FALSE, &step);
    if (IopThreadIrpsPending(Thread, NULL, NULL))
        IopDisassociateThreadIrps(Thread);
}

/* ---- small Io routines --------------------------------------------------------------- */

KPROCESSOR_MODE NTAPI IoGetRequestorMode(PIRP Irp)
{
    return Irp->RequestorMode;
}

/* The statuses NT attributes to the user (media removed, not ready, ...). */
BOOLEAN NTAPI IoIsErrorUserInduced(NTSTATUS Status)
{
    return Status == STATUS_DEVICE_NOT_READY || Status == STATUS_IO_TIMEOUT ||
           Status == STATUS_MEDIA_WRITE_PROTECTED || Status == STATUS_NO_MEDIA_IN_DEVICE ||
           Status == STATUS_UNRECOGNIZED_MEDIA || Status == STATUS_VERIFY_REQUIRED || Status == STATUS_WRONG_VOLUME;
}

/*
 * NT records the device for the "verify volume" hard-error popup of the requesting
 * thread; nthost has no removable-media file systems that would ever ask for it, so
 * there is nothing to record.
 */
VOID NTAPI IoSetHardErrorOrVerifyDevice(PIRP Irp, PDEVICE_OBJECT DeviceObject)
{
    UNREFERENCED_PARAMETER(Irp);
    UNREFERENCED_PARAMETER(DeviceObject);
}
