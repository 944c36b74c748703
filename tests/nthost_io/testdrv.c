/*
 * testdrv.c — the nthost I/O test driver (service TstIo): a legacy NT driver written
 * against the DDK only, loaded by the service manager from testdrv.so.
 *
 * \Device\TstIo is a byte pipe: writes append data, reads take it, and a read with
 * nothing to take pends (cancellably) in a cancel-safe queue until data arrives.
 * IOCTLs exercise each METHOD kind (tstio.h). IRP_MJ_CLEANUP completes the handle's
 * pending IRPs, as a driver must. \Device\TstExcl is an exclusive device.
 */
#include <ntddk.h>

#include "tstio.h"

#define TST_DATA_SIZE 4096

typedef struct _TST_EXTENSION {
    KSPIN_LOCK Lock; /* Queue, Data */
    IO_CSQ Csq;
    LIST_ENTRY Queue;
    UCHAR Data[TST_DATA_SIZE];
    ULONG Count;
} TST_EXTENSION, *PTST_EXTENSION;

/* Which queued IRPs a removal wants (NULL fields match anything). */
typedef struct _TST_PEEK {
    PFILE_OBJECT FileObject;
    UCHAR MajorFunction; /* 0xFF: any */
    ULONG IoControlCode; /* 0: any */
} TST_PEEK;

static TST_STATS TstStats;
static PDEVICE_OBJECT TstPipe, TstExcl;

DRIVER_INITIALIZE DriverEntry;
static DRIVER_UNLOAD TstUnload;
static DRIVER_DISPATCH TstCreateClose, TstCleanup, TstRead, TstWrite, TstDeviceControl;

/* ---- cancel-safe queue callbacks ----------------------------------------------- */

/* Called with the queue lock (which also guards Data) held. A read (InsertContext
 * non-NULL) is refused when data arrived since it looked: the write that brought the
 * data has already searched the queue for waiting reads. */
static NTSTATUS NTAPI TstCsqInsert(PIO_CSQ Csq, PIRP Irp, PVOID InsertContext)
{
    PTST_EXTENSION ext = CONTAINING_RECORD(Csq, TST_EXTENSION, Csq);
    if (InsertContext && ext->Count)
        return STATUS_RETRY;
    InsertTailList(&ext->Queue, &Irp->Tail.Overlay.ListEntry);
    return STATUS_SUCCESS;
}

static VOID NTAPI TstCsqRemove(PIO_CSQ Csq, PIRP Irp)
{
    UNREFERENCED_PARAMETER(Csq);
    RemoveEntryList(&Irp->Tail.Overlay.ListEntry);
}

static BOOLEAN TstMatches(PIRP Irp, const TST_PEEK *Peek)
{
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    if (!Peek)
        return TRUE;
    if (Peek->FileObject && sp->FileObject != Peek->FileObject)
        return FALSE;
    if (Peek->MajorFunction != 0xFF && sp->MajorFunction != Peek->MajorFunction)
        return FALSE;
    return !Peek->IoControlCode || (sp->MajorFunction == IRP_MJ_DEVICE_CONTROL &&
                                    sp->Parameters.DeviceIoControl.IoControlCode == Peek->IoControlCode);
}

static PIRP NTAPI TstCsqPeek(PIO_CSQ Csq, PIRP Irp, PVOID PeekContext)
{
    PTST_EXTENSION ext = CONTAINING_RECORD(Csq, TST_EXTENSION, Csq);
    PLIST_ENTRY e = Irp ? Irp->Tail.Overlay.ListEntry.Flink : ext->Queue.Flink;
    for (; e != &ext->Queue; e = e->Flink) {
        PIRP candidate = CONTAINING_RECORD(e, IRP, Tail.Overlay.ListEntry);
        if (TstMatches(candidate, PeekContext))
            return candidate;
    }
    return NULL;
}

static VOID NTAPI TstCsqAcquire(PIO_CSQ Csq, PKIRQL Irql)
{
    KeAcquireSpinLock(&CONTAINING_RECORD(Csq, TST_EXTENSION, Csq)->Lock, Irql);
}

static VOID NTAPI TstCsqRelease(PIO_CSQ Csq, KIRQL Irql)
{
    KeReleaseSpinLock(&CONTAINING_RECORD(Csq, TST_EXTENSION, Csq)->Lock, Irql);
}

static VOID NTAPI TstCsqCompleteCanceled(PIO_CSQ Csq, PIRP Irp)
{
    UNREFERENCED_PARAMETER(Csq);
    InterlockedIncrement((LONG *)&TstStats.Cancelled);
    Irp->IoStatus.Status = STATUS_CANCELLED;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
}

/* ---- helpers ---------------------------------------------------------------------- */

static NTSTATUS TstComplete(PIRP Irp, NTSTATUS Status, ULONG_PTR Information)
{
    Irp->IoStatus.Status = Status;
    Irp->IoStatus.Information = Information;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return Status;
}

/* Take up to Length queued bytes into Buffer (lock held). */
static ULONG TstTake(PTST_EXTENSION ext, PUCHAR Buffer, ULONG Length)
{
    ULONG n = Length < ext->Count ? Length : ext->Count;
    RtlCopyMemory(Buffer, ext->Data, n);
    RtlMoveMemory(ext->Data, ext->Data + n, ext->Count - n);
    ext->Count -= n;
    return n;
}

/* ---- dispatch routines -------------------------------------------------------------- */

static NTSTATUS NTAPI TstCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    if (IoGetCurrentIrpStackLocation(Irp)->MajorFunction == IRP_MJ_CREATE)
        InterlockedIncrement((LONG *)&TstStats.Creates);
    else
        InterlockedIncrement((LONG *)&TstStats.Closes);
    return TstComplete(Irp, STATUS_SUCCESS, 0);
}

/* The handle is gone: finish every IRP still queued for its file object. */
static NTSTATUS NTAPI TstCleanup(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    InterlockedIncrement((LONG *)&TstStats.Cleanups);
    if (DeviceObject == TstPipe) {
        PTST_EXTENSION ext = DeviceObject->DeviceExtension;
        TST_PEEK peek = { IoGetCurrentIrpStackLocation(Irp)->FileObject, 0xFF, 0 };
        PIRP pending;
        while ((pending = IoCsqRemoveNextIrp(&ext->Csq, &peek)) != NULL) {
            InterlockedIncrement((LONG *)&TstStats.CleanupCompleted);
            TstComplete(pending, STATUS_CANCELLED, 0);
        }
    }
    return TstComplete(Irp, STATUS_SUCCESS, 0);
}

static NTSTATUS NTAPI TstRead(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PTST_EXTENSION ext = DeviceObject->DeviceExtension;
    ULONG length = IoGetCurrentIrpStackLocation(Irp)->Parameters.Read.Length;
    KIRQL irql;
    if (DeviceObject != TstPipe)
        return TstComplete(Irp, STATUS_INVALID_DEVICE_REQUEST, 0);
    for (;;) {
        KeAcquireSpinLock(&ext->Lock, &irql);
        ULONG n = ext->Count ? TstTake(ext, Irp->AssociatedIrp.SystemBuffer, length) : 0;
        KeReleaseSpinLock(&ext->Lock, irql);
        if (n || !length)
            return TstComplete(Irp, STATUS_SUCCESS, n);
        /* Nothing yet: wait in the queue — unless data came in meanwhile. */
        if (IoCsqInsertIrpEx(&ext->Csq, Irp, NULL, Irp) == STATUS_SUCCESS)
            return STATUS_PENDING;
    }
}

static NTSTATUS NTAPI TstWrite(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PTST_EXTENSION ext = DeviceObject->DeviceExtension;
    ULONG length = IoGetCurrentIrpStackLocation(Irp)->Parameters.Write.Length;
    KIRQL irql;
    if (DeviceObject != TstPipe)
        return TstComplete(Irp, STATUS_INVALID_DEVICE_REQUEST, 0);
    KeAcquireSpinLock(&ext->Lock, &irql);
    if (length > TST_DATA_SIZE - ext->Count) {
        KeReleaseSpinLock(&ext->Lock, irql);
        return TstComplete(Irp, STATUS_DEVICE_BUSY, 0);
    }
    RtlCopyMemory(ext->Data + ext->Count, Irp->AssociatedIrp.SystemBuffer, length);
    ext->Count += length;
    KeReleaseSpinLock(&ext->Lock, irql);
    TstComplete(Irp, STATUS_SUCCESS, length);

    /* Satisfy reads that were waiting for data. */
    TST_PEEK reads = { NULL, IRP_MJ_READ, 0 };
    for (;;) {
        KeAcquireSpinLock(&ext->Lock, &irql);
        BOOLEAN more = ext->Count != 0;
        KeReleaseSpinLock(&ext->Lock, irql);
        PIRP waiting = more ? IoCsqRemoveNextIrp(&ext->Csq, &reads) : NULL;
        if (!waiting)
            break;
        KeAcquireSpinLock(&ext->Lock, &irql);
        ULONG n = TstTake(ext, waiting->AssociatedIrp.SystemBuffer,
                          IoGetCurrentIrpStackLocation(waiting)->Parameters.Read.Length);
        KeReleaseSpinLock(&ext->Lock, irql);
        TstComplete(waiting, STATUS_SUCCESS, n);
    }
    return STATUS_SUCCESS;
}

static VOID TstReverse(PUCHAR Out, const UCHAR *In, ULONG Length)
{
    for (ULONG i = 0; i < Length; i++)
        Out[i] = In[Length - 1 - i];
}

static NTSTATUS NTAPI TstDeviceControl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    ULONG in = sp->Parameters.DeviceIoControl.InputBufferLength;
    ULONG out = sp->Parameters.DeviceIoControl.OutputBufferLength;
    PUCHAR sys = Irp->AssociatedIrp.SystemBuffer;
    PTST_EXTENSION ext = DeviceObject->DeviceExtension;

    switch (sp->Parameters.DeviceIoControl.IoControlCode) {
    case IOCTL_TST_BUFFERED: {
        if (in < sizeof(ULONG))
            return TstComplete(Irp, STATUS_INVALID_PARAMETER, 0);
        ULONG report;
        RtlCopyMemory(&report, sys, sizeof(report));
        for (ULONG i = 0; i < out; i++)
            sys[i] = i < in ? (UCHAR)(sys[i] + 1) : 0xEE;
        return TstComplete(Irp, STATUS_SUCCESS, report);
    }
    case IOCTL_TST_IN_DIRECT: {
        ULONG sum = 0;
        if (Irp->MdlAddress) {
            PUCHAR p = MmGetSystemAddressForMdlSafe(Irp->MdlAddress, NormalPagePriority);
            for (ULONG i = 0; i < MmGetMdlByteCount(Irp->MdlAddress); i++)
                sum += p[i];
        }
        return TstComplete(Irp, STATUS_SUCCESS, sum);
    }
    case IOCTL_TST_OUT_DIRECT: {
        if (!Irp->MdlAddress || out < in)
            return TstComplete(Irp, STATUS_BUFFER_TOO_SMALL, 0);
        TstReverse(MmGetSystemAddressForMdlSafe(Irp->MdlAddress, NormalPagePriority), sys, in);
        return TstComplete(Irp, STATUS_SUCCESS, in);
    }
    case IOCTL_TST_NEITHER:
        if (out < in)
            return TstComplete(Irp, STATUS_BUFFER_TOO_SMALL, 0);
        TstReverse(Irp->UserBuffer, sp->Parameters.DeviceIoControl.Type3InputBuffer, in);
        return TstComplete(Irp, STATUS_SUCCESS, in);
    case IOCTL_TST_NEEDS_WRITE:
        return TstComplete(Irp, STATUS_SUCCESS, 0);
    case IOCTL_TST_STATS: {
        TST_STATS s;
        KIRQL irql;
        if (out < sizeof(s))
            return TstComplete(Irp, STATUS_BUFFER_TOO_SMALL, 0);
        s = TstStats;
        s.InitializingNow = (TstPipe->Flags & DO_DEVICE_INITIALIZING) != 0;
        KeAcquireSpinLock(&ext->Lock, &irql);
        s.BytesQueued = ext->Count;
        s.Pended = 0;
        TST_PEEK pends = { NULL, IRP_MJ_DEVICE_CONTROL, IOCTL_TST_PEND };
        for (PIRP q = TstCsqPeek(&ext->Csq, NULL, &pends); q; q = TstCsqPeek(&ext->Csq, q, &pends))
            s.Pended++;
        KeReleaseSpinLock(&ext->Lock, irql);
        RtlCopyMemory(sys, &s, sizeof(s));
        return TstComplete(Irp, STATUS_SUCCESS, sizeof(s));
    }
    case IOCTL_TST_PEND:
        if (DeviceObject != TstPipe)
            return TstComplete(Irp, STATUS_INVALID_DEVICE_REQUEST, 0);
        IoCsqInsertIrpEx(&ext->Csq, Irp, NULL, NULL);
        return STATUS_PENDING;
    case IOCTL_TST_RELEASE: {
        TST_PEEK peek = { NULL, IRP_MJ_DEVICE_CONTROL, IOCTL_TST_PEND };
        PIRP pended;
        ULONG released = 0;
        while ((pended = IoCsqRemoveNextIrp(&ext->Csq, &peek)) != NULL) {
            released++;
            TstComplete(pended, STATUS_SUCCESS, 7);
        }
        return TstComplete(Irp, STATUS_SUCCESS, released);
    }
    case IOCTL_TST_FAIL:
        return TstComplete(Irp, STATUS_DEVICE_NOT_CONNECTED, 0);
    case IOCTL_TST_OUTCOME: {
        TST_OUTCOME outcome;
        if (in != sizeof(outcome))
            return TstComplete(Irp, STATUS_INVALID_PARAMETER, 0);
        RtlCopyMemory(&outcome, sys, sizeof(outcome));
        for (ULONG i = 0; i < out; i++)
            sys[i] = (UCHAR)(0x40 + i);
        return TstComplete(Irp, outcome.Status, outcome.Information);
    }
    default:
        return TstComplete(Irp, STATUS_INVALID_DEVICE_REQUEST, 0);
    }
}

/* ---- load and unload ------------------------------------------------------------------- */

static NTSTATUS TstCreate(PDRIVER_OBJECT DriverObject, PCWSTR Name, PCWSTR Link, BOOLEAN Exclusive, ULONG Flags,
                          PDEVICE_OBJECT *Device)
{
    UNICODE_STRING name, link;
    RtlInitUnicodeString(&name, Name);
    RtlInitUnicodeString(&link, Link);
    NTSTATUS status = IoCreateDevice(DriverObject, sizeof(TST_EXTENSION), &name, TST_DEVICE_TYPE, 0, Exclusive,
                                     Device);
    if (!NT_SUCCESS(status))
        return status;
    if ((*Device)->Flags & DO_DEVICE_INITIALIZING)
        TstStats.InitializingInDriverEntry = 1;
    (*Device)->Flags |= Flags;
    PTST_EXTENSION ext = (*Device)->DeviceExtension;
    KeInitializeSpinLock(&ext->Lock);
    InitializeListHead(&ext->Queue);
    IoCsqInitializeEx(&ext->Csq, TstCsqInsert, TstCsqRemove, TstCsqPeek, TstCsqAcquire, TstCsqRelease,
                      TstCsqCompleteCanceled);
    status = IoCreateSymbolicLink(&link, &name);
    if (!NT_SUCCESS(status)) {
        IoDeleteDevice(*Device);
        *Device = NULL;
    }
    return status;
}

static VOID TstDelete(PDEVICE_OBJECT Device, PCWSTR Link)
{
    UNICODE_STRING link;
    RtlInitUnicodeString(&link, Link);
    IoDeleteSymbolicLink(&link);
    IoDeleteDevice(Device);
}

static VOID NTAPI TstUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    TstDelete(TstExcl, L"\\DosDevices\\TstExcl");
    TstDelete(TstPipe, L"\\DosDevices\\TstIo");
}

NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    RtlZeroMemory(&TstStats, sizeof(TstStats));
    NTSTATUS status = TstCreate(DriverObject, L"\\Device\\TstIo", L"\\DosDevices\\TstIo", FALSE, DO_BUFFERED_IO,
                                &TstPipe);
    if (!NT_SUCCESS(status))
        return status;
    status = TstCreate(DriverObject, L"\\Device\\TstExcl", L"\\DosDevices\\TstExcl", TRUE, 0, &TstExcl);
    if (!NT_SUCCESS(status)) {
        TstDelete(TstPipe, L"\\DosDevices\\TstIo");
        return status;
    }
    DriverObject->MajorFunction[IRP_MJ_CREATE] = TstCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = TstCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLEANUP] = TstCleanup;
    DriverObject->MajorFunction[IRP_MJ_READ] = TstRead;
    DriverObject->MajorFunction[IRP_MJ_WRITE] = TstWrite;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = TstDeviceControl;
    DriverObject->DriverUnload = TstUnload;
    return STATUS_SUCCESS;
}
