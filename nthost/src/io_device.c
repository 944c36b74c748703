/*
 * io_device.c — driver and device objects, symbolic links, device stacks, and the
 * I/O manager's unload checks.
 *
 * A device object lives as long as references to it: IoCreateDevice gives it one
 * (dropped by IoDeleteDevice), every open file object counts in ReferenceCount, and
 * ObReferenceObject holders keep the memory. IoDeleteDevice removes the name at once;
 * the device leaves its driver's list when the last file object on it is closed, and
 * its memory goes with the last reference — as on NT.
 */
#include <ntddk.h>
#include <stdio.h>
#include <stdlib.h>

#include "cm_internal.h"
#include "io_internal.h"
#include "ob_internal.h"

/* DEVOBJ_EXTENSION.ExtensionFlags (NT's values). */
#define DOE_UNLOAD_PENDING 0x00000001
#define DOE_DELETE_PENDING 0x00000002

/* What NT keeps in the DEVOBJ_EXTENSION: back pointer, deletion state, and here the
 * name to remove from the namespace. */
typedef struct iop_devobj_ext {
    CSHORT Type; /* IO_TYPE_DEVICE_OBJECT_EXTENSION */
    USHORT Size;
    PDEVICE_OBJECT DeviceObject;
    ULONG ExtensionFlags;
    UNICODE_STRING Name;
    PDEVICE_OBJECT AttachedTo; /* the device this one is attached on top of */
} iop_devobj_ext;

/* Guards every driver's device list, the attachment links and the quarantine. */
static KSPIN_LOCK iop_database_lock;
static LONG iop_autogen_counter;

/*
 * With the verifier on, a deleted device object is kept (referenced) until its driver
 * goes, so that a second IoDeleteDevice finds it marked instead of freed memory.
 */
#define IOP_DELETED_KEPT 32
static PDEVICE_OBJECT iop_deleted[IOP_DELETED_KEPT];
static ULONG iop_deleted_next;

/* Keep `dev` referenced in the quarantine; returns the device it pushed out, if any. */
static PDEVICE_OBJECT iop_quarantine_device(PDEVICE_OBJECT dev)
{
    ObReferenceObject(dev);
    KIRQL irql;
    KeAcquireSpinLock(&iop_database_lock, &irql);
    PDEVICE_OBJECT old = iop_deleted[iop_deleted_next];
    iop_deleted[iop_deleted_next] = dev;
    iop_deleted_next = (iop_deleted_next + 1) % IOP_DELETED_KEPT;
    KeReleaseSpinLock(&iop_database_lock, irql);
    return old;
}

/* Release the quarantined devices of `drv` (NULL: all of them). */
static void iop_release_deleted(PDRIVER_OBJECT drv)
{
    for (ULONG i = 0; i < IOP_DELETED_KEPT; i++) {
        KIRQL irql;
        KeAcquireSpinLock(&iop_database_lock, &irql);
        PDEVICE_OBJECT d = iop_deleted[i];
        if (d && (!drv || d->DriverObject == drv))
            iop_deleted[i] = NULL;
        else
            d = NULL;
        KeReleaseSpinLock(&iop_database_lock, irql);
        if (d)
            ObDereferenceObject(d);
    }
}

static VOID iop_delete_device_object(PVOID Object);
static VOID iop_delete_driver_object(PVOID Object);

static struct _OBJECT_TYPE iop_device_type = {
    .Name = "Device",
    .PoolTag = 0x69766544, /* 'Devi' */
    .DeleteProcedure = iop_delete_device_object,
    .GenericMapping = { FILE_GENERIC_READ, FILE_GENERIC_WRITE, FILE_GENERIC_EXECUTE, FILE_ALL_ACCESS },
    .WaitObjectOffset = -1,
};
static struct _OBJECT_TYPE iop_driver_type = {
    .Name = "Driver",
    .PoolTag = 0x76697244, /* 'Driv' */
    .DeleteProcedure = iop_delete_driver_object,
    .GenericMapping = { STANDARD_RIGHTS_READ, STANDARD_RIGHTS_WRITE, STANDARD_RIGHTS_EXECUTE, 0x1F01FF },
    .WaitObjectOffset = -1,
};
POBJECT_TYPE IopDeviceType = &iop_device_type;
POBJECT_TYPE IopDriverType = &iop_driver_type;
POBJECT_TYPE *IoDeviceObjectType = &IopDeviceType;
POBJECT_TYPE *IoDriverObjectType = &IopDriverType;

static iop_devobj_ext *iop_ext(PDEVICE_OBJECT dev)
{
    return (iop_devobj_ext *)dev->DeviceObjectExtension;
}

static NTSTATUS iop_copy_string(PUNICODE_STRING dst, PCUNICODE_STRING src)
{
    dst->Length = src->Length;
    dst->MaximumLength = (USHORT)(src->Length + sizeof(WCHAR));
    dst->Buffer = malloc(dst->MaximumLength);
    if (!dst->Buffer)
        return STATUS_INSUFFICIENT_RESOURCES;
    memcpy(dst->Buffer, src->Buffer, src->Length);
    dst->Buffer[src->Length / sizeof(WCHAR)] = 0;
    return STATUS_SUCCESS;
}

/* ---- driver objects ------------------------------------------------------------------ */

static VOID iop_delete_driver_object(PVOID Object)
{
    PDRIVER_OBJECT drv = Object;
    free(drv->DriverName.Buffer);
    if (drv->DriverExtension)
        free(drv->DriverExtension->ServiceKeyName.Buffer);
}

NTSTATUS IopCreateDriverObject(PCUNICODE_STRING ServiceName, PVOID ImageBase, ULONG ImageSize,
                               PDRIVER_OBJECT *DriverObject)
{
    PDRIVER_OBJECT drv;
    NTSTATUS st = ObpCreateObject(IopDriverType, sizeof(DRIVER_OBJECT) + sizeof(DRIVER_EXTENSION), (PVOID *)&drv);
    if (!NT_SUCCESS(st))
        return st;
    drv->Type = IO_TYPE_DRIVER;
    drv->Size = sizeof(DRIVER_OBJECT);
    drv->Flags = DRVO_LEGACY_DRIVER;
    drv->DriverStart = ImageBase;
    drv->DriverSize = ImageSize;
    drv->DriverExtension = (PDRIVER_EXTENSION)(drv + 1);
    drv->DriverExtension->DriverObject = drv;
    for (ULONG i = 0; i <= IRP_MJ_MAXIMUM_FUNCTION; i++)
        drv->MajorFunction[i] = IopInvalidDeviceRequest;

    static const WCHAR prefix[] = L"\\Driver\\";
    USHORT plen = (USHORT)(sizeof(prefix) - sizeof(WCHAR));
    drv->DriverName.Length = (USHORT)(plen + ServiceName->Length);
    drv->DriverName.MaximumLength = (USHORT)(drv->DriverName.Length + sizeof(WCHAR));
    drv->DriverName.Buffer = malloc(drv->DriverName.MaximumLength);
    st = drv->DriverName.Buffer ? iop_copy_string(&drv->DriverExtension->ServiceKeyName, ServiceName)
                                : STATUS_INSUFFICIENT_RESOURCES;
    if (NT_SUCCESS(st)) {
        memcpy(drv->DriverName.Buffer, prefix, plen);
        memcpy((PUCHAR)drv->DriverName.Buffer + plen, ServiceName->Buffer, ServiceName->Length);
        drv->DriverName.Buffer[drv->DriverName.Length / sizeof(WCHAR)] = 0;
        st = ObpNsInsertObject(&drv->DriverName, OB_NS_DRIVER, "Driver", drv);
    }
    if (!NT_SUCCESS(st)) {
        ObDereferenceObject(drv);
        return st;
    }
    *DriverObject = drv;
    return STATUS_SUCCESS;
}

PCUNICODE_STRING IopDeviceName(PDEVICE_OBJECT DeviceObject)
{
    return &iop_ext(DeviceObject)->Name;
}

BOOLEAN IopDeviceDeletePending(PDEVICE_OBJECT DeviceObject)
{
    return (iop_ext(DeviceObject)->ExtensionFlags & DOE_DELETE_PENDING) != 0;
}

VOID IopDriverEntryReturned(PDRIVER_OBJECT DriverObject)
{
    KIRQL irql;
    KeAcquireSpinLock(&iop_database_lock, &irql);
    for (PDEVICE_OBJECT d = DriverObject->DeviceObject; d; d = d->NextDevice)
        d->Flags &= ~DO_DEVICE_INITIALIZING;
    KeReleaseSpinLock(&iop_database_lock, irql);
}

VOID IopDeleteDriverObject(PDRIVER_OBJECT DriverObject)
{
    iop_release_deleted(DriverObject);
    ObpNsRemove(&DriverObject->DriverName, OB_NS_DRIVER, DriverObject);
    ObDereferenceObject(DriverObject);
}

VOID IopCheckDriverUnload(PDRIVER_OBJECT DriverObject, PCSTR ImageName, PVOID Base, SIZE_T Size)
{
    ULONG irps = IopCountDriverIrps(DriverObject);
    if (irps)
        VfBugCheck(DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS, (ULONG_PTR)DriverObject, irps,
                   (ULONG_PTR)DriverObject->DriverUnload, 0, (const void *)(ULONG_PTR)DriverObject->DriverUnload, NULL,
                   "driver %s unloaded with %lu IRP(s) it never completed", ImageName, (unsigned long)irps);
    ULONG items = IopCountDriverWorkItems(DriverObject);
    if (items)
        VfBugCheck(DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS, (ULONG_PTR)DriverObject, items,
                   (ULONG_PTR)DriverObject->DriverUnload, 0, (const void *)(ULONG_PTR)DriverObject->DriverUnload, NULL,
                   "driver %s unloaded with %lu work item(s) still queued", ImageName, (unsigned long)items);
    PDEVICE_OBJECT left = NULL;
    KIRQL irql;
    KeAcquireSpinLock(&iop_database_lock, &irql);
    for (PDEVICE_OBJECT d = DriverObject->DeviceObject; d && !left; d = d->NextDevice)
        if (!(iop_ext(d)->ExtensionFlags & DOE_DELETE_PENDING))
            left = d;
    KeReleaseSpinLock(&iop_database_lock, irql);
    if (left)
        VfBugCheck(DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS, (ULONG_PTR)left, 0,
                   (ULONG_PTR)DriverObject->DriverUnload, 0, (const void *)(ULONG_PTR)DriverObject->DriverUnload, NULL,
                   "driver %s unloaded without deleting device object %p", ImageName, (void *)left);
    ULONG links = ObpNsCountLinksCreatedIn((ULONG_PTR)Base, (ULONG_PTR)Base + Size);
    if (links)
        VfBugCheck(DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS, 0, links,
                   (ULONG_PTR)DriverObject->DriverUnload, 0, (const void *)(ULONG_PTR)DriverObject->DriverUnload, NULL,
                   "driver %s unloaded without deleting %lu symbolic link(s) it created", ImageName,
                   (unsigned long)links);
}

/* ---- device objects ------------------------------------------------------------------ */

static VOID iop_delete_device_object(PVOID Object)
{
    PDEVICE_OBJECT dev = Object;
    free(iop_ext(dev)->Name.Buffer);
}

/*
 * IoCreateDevice: a device object with a zeroed extension, named (or unnamed), on
 * the driver's list, DO_DEVICE_INITIALIZING set until DriverEntry returns.
 */
NTSTATUS NTAPI IoCreateDevice(PDRIVER_OBJECT DriverObject, ULONG DeviceExtensionSize, PUNICODE_STRING DeviceName,
                              DEVICE_TYPE DeviceType, ULONG DeviceCharacteristics, BOOLEAN Exclusive,
                              PDEVICE_OBJECT *DeviceObject)
{
    *DeviceObject = NULL;
    SIZE_T ext_off = ALIGN_UP_BY(sizeof(DEVICE_OBJECT), 16);
    SIZE_T doe_off = ALIGN_UP_BY(ext_off + DeviceExtensionSize, 16);
    PDEVICE_OBJECT dev;
    NTSTATUS st = ObpCreateObject(IopDeviceType, doe_off + sizeof(iop_devobj_ext), (PVOID *)&dev);
    if (!NT_SUCCESS(st))
        return st;
    iop_devobj_ext *doe = (iop_devobj_ext *)((PUCHAR)dev + doe_off);
    doe->Type = IO_TYPE_DEVICE_OBJECT_EXTENSION;
    doe->Size = sizeof(*doe);
    doe->DeviceObject = dev;
    dev->Type = IO_TYPE_DEVICE;
    dev->Size = (USHORT)(sizeof(DEVICE_OBJECT) + DeviceExtensionSize);
    dev->DriverObject = DriverObject;
    dev->DeviceExtension = DeviceExtensionSize ? (PUCHAR)dev + ext_off : NULL;
    dev->DeviceType = DeviceType;
    dev->Characteristics = DeviceCharacteristics;
    dev->StackSize = 1;
    dev->Flags = DO_DEVICE_INITIALIZING | (Exclusive ? DO_EXCLUSIVE : 0);
    dev->DeviceObjectExtension = doe;
    KeInitializeDeviceQueue(&dev->DeviceQueue);
    KeInitializeEvent(&dev->DeviceLock, SynchronizationEvent, TRUE);

    UNICODE_STRING autoname;
    WCHAR autobuf[32];
    PCUNICODE_STRING name = DeviceName && DeviceName->Length ? DeviceName : NULL;
    if (!name && (DeviceCharacteristics & FILE_AUTOGENERATED_DEVICE_NAME)) {
        char a[32];
        int n = snprintf(a, sizeof(a), "\\Device\\%08lx", (unsigned long)InterlockedIncrement(&iop_autogen_counter));
        for (int i = 0; i <= n; i++)
            autobuf[i] = (WCHAR)a[i];
        RtlInitUnicodeString(&autoname, autobuf);
        name = &autoname;
    }
    if (name) {
        st = iop_copy_string(&doe->Name, name);
        if (NT_SUCCESS(st))
            st = ObpNsInsertObject(&doe->Name, OB_NS_DEVICE, "Device", dev);
        if (!NT_SUCCESS(st)) {
            ObDereferenceObject(dev);
            return st;
        }
        dev->Flags |= DO_DEVICE_HAS_NAME;
    }
    KIRQL irql;
    KeAcquireSpinLock(&iop_database_lock, &irql);
    dev->NextDevice = DriverObject->DeviceObject;
    DriverObject->DeviceObject = dev;
    KeReleaseSpinLock(&iop_database_lock, irql);
    *DeviceObject = dev;
    return STATUS_SUCCESS;
}

/* The device leaves its driver's list and drops IoCreateDevice's reference. */
static void iop_complete_delete(PDEVICE_OBJECT dev)
{
    KIRQL irql;
    KeAcquireSpinLock(&iop_database_lock, &irql);
    for (PDEVICE_OBJECT *pp = &dev->DriverObject->DeviceObject; *pp; pp = &(*pp)->NextDevice) {
        if (*pp == dev) {
            *pp = dev->NextDevice;
            break;
        }
    }
    KeReleaseSpinLock(&iop_database_lock, irql);
    ObDereferenceObject(dev);
}

/* IoDeleteDevice: remove the name now; the object goes when nothing uses it. */
VOID NTAPI IoDeleteDevice(PDEVICE_OBJECT DeviceObject)
{
    iop_devobj_ext *doe = iop_ext(DeviceObject);
    if (doe->ExtensionFlags & DOE_DELETE_PENDING) {
        if (IopVerifierEnabled())
            IOP_VERIFIER_STOP(IOP_VF_DELETE_DELETED_DEVICE, __builtin_return_address(0), 0, DeviceObject,
                              __builtin_return_address(0), "IoDeleteDevice was called twice for device %p",
                              (void *)DeviceObject);
        return;
    }
    if (IopVerifierEnabled()) {
        PDEVICE_OBJECT old = iop_quarantine_device(DeviceObject);
        if (old)
            ObDereferenceObject(old);
    }
    if (DeviceObject->Flags & DO_SHUTDOWN_REGISTERED)
        IoUnregisterShutdownNotification(DeviceObject);
    if (DeviceObject->Timer)
        IopDeleteDeviceTimer(DeviceObject);
    if (doe->Name.Buffer)
        ObpNsRemove(&doe->Name, OB_NS_DEVICE, DeviceObject);
    KIRQL irql;
    KeAcquireSpinLock(&iop_database_lock, &irql);
    doe->ExtensionFlags |= DOE_DELETE_PENDING;
    BOOLEAN unused = DeviceObject->ReferenceCount == 0;
    KeReleaseSpinLock(&iop_database_lock, irql);
    if (unused)
        iop_complete_delete(DeviceObject);
}

/*
 * IopReferenceDeviceForOpen: count an open of the device (its ReferenceCount), refusing
 * devices still initializing or being deleted (STATUS_NO_SUCH_DEVICE, as NT's parse
 * routine) and second opens of exclusive devices (STATUS_ACCESS_DENIED).
 */
NTSTATUS IopReferenceDeviceForOpen(PDEVICE_OBJECT DeviceObject)
{
    NTSTATUS st = STATUS_SUCCESS;
    KIRQL irql;
    KeAcquireSpinLock(&iop_database_lock, &irql);
    if ((DeviceObject->Flags & DO_DEVICE_INITIALIZING) ||
        (iop_ext(DeviceObject)->ExtensionFlags & (DOE_DELETE_PENDING | DOE_UNLOAD_PENDING)))
        st = STATUS_NO_SUCH_DEVICE;
    else if ((DeviceObject->Flags & DO_EXCLUSIVE) && DeviceObject->ReferenceCount != 0)
        st = STATUS_ACCESS_DENIED;
    else
        DeviceObject->ReferenceCount++;
    KeReleaseSpinLock(&iop_database_lock, irql);
    return st;
}

/* IopDereferenceDeviceForOpen: an open of the device ended (close, or failed create).
 * The last open of an unload-pending driver's devices lets its unload proceed. */
VOID IopDereferenceDeviceForOpen(PDEVICE_OBJECT DeviceObject)
{
    KIRQL irql;
    KeAcquireSpinLock(&iop_database_lock, &irql);
    BOOLEAN finish = --DeviceObject->ReferenceCount == 0 && (iop_ext(DeviceObject)->ExtensionFlags & DOE_DELETE_PENDING);
    BOOLEAN unload = DeviceObject->ReferenceCount == 0 && (iop_ext(DeviceObject)->ExtensionFlags & DOE_UNLOAD_PENDING);
    for (PDEVICE_OBJECT d = DeviceObject->DriverObject->DeviceObject; unload && d; d = d->NextDevice)
        unload = d->ReferenceCount == 0;
    KeReleaseSpinLock(&iop_database_lock, irql);
    if (finish)
        iop_complete_delete(DeviceObject);
    if (unload)
        svc_unload_ready(DeviceObject->DriverObject);
}

BOOLEAN IopMarkDriverUnloadPending(PDRIVER_OBJECT DriverObject)
{
    BOOLEAN open = FALSE;
    KIRQL irql;
    KeAcquireSpinLock(&iop_database_lock, &irql);
    for (PDEVICE_OBJECT d = DriverObject->DeviceObject; d; d = d->NextDevice) {
        iop_ext(d)->ExtensionFlags |= DOE_UNLOAD_PENDING;
        open |= d->ReferenceCount != 0;
    }
    KeReleaseSpinLock(&iop_database_lock, irql);
    return open;
}

/* ---- device stacks ------------------------------------------------------------------- */

/* IoGetAttachedDevice: the top of the device's stack. */
PDEVICE_OBJECT NTAPI IoGetAttachedDevice(PDEVICE_OBJECT DeviceObject)
{
    while (DeviceObject->AttachedDevice)
        DeviceObject = DeviceObject->AttachedDevice;
    return DeviceObject;
}

/* IoGetAttachedDeviceReference: the top of the stack, referenced for the caller. */
PDEVICE_OBJECT NTAPI IoGetAttachedDeviceReference(PDEVICE_OBJECT DeviceObject)
{
    KIRQL irql;
    KeAcquireSpinLock(&iop_database_lock, &irql);
    PDEVICE_OBJECT top = IoGetAttachedDevice(DeviceObject);
    ObReferenceObject(top);
    KeReleaseSpinLock(&iop_database_lock, irql);
    return top;
}

/* IoAttachDeviceToDeviceStack: put SourceDevice on top of TargetDevice's stack. */
PDEVICE_OBJECT NTAPI IoAttachDeviceToDeviceStack(PDEVICE_OBJECT SourceDevice, PDEVICE_OBJECT TargetDevice)
{
    KIRQL irql;
    KeAcquireSpinLock(&iop_database_lock, &irql);
    PDEVICE_OBJECT top = IoGetAttachedDevice(TargetDevice);
    if (iop_ext(top)->ExtensionFlags & (DOE_DELETE_PENDING | DOE_UNLOAD_PENDING)) {
        KeReleaseSpinLock(&iop_database_lock, irql);
        return NULL;
    }
    top->AttachedDevice = SourceDevice;
    iop_ext(SourceDevice)->AttachedTo = top;
    SourceDevice->StackSize = (CCHAR)(top->StackSize + 1);
    SourceDevice->AlignmentRequirement = top->AlignmentRequirement;
    ObReferenceObject(top);
    KeReleaseSpinLock(&iop_database_lock, irql);
    return top;
}

/* IoDetachDevice: TargetDevice no longer has a device attached on top of it. */
VOID NTAPI IoDetachDevice(PDEVICE_OBJECT TargetDevice)
{
    KIRQL irql;
    KeAcquireSpinLock(&iop_database_lock, &irql);
    PDEVICE_OBJECT above = TargetDevice->AttachedDevice;
    TargetDevice->AttachedDevice = NULL;
    if (above)
        iop_ext(above)->AttachedTo = NULL;
    KeReleaseSpinLock(&iop_database_lock, irql);
    if (above)
        ObDereferenceObject(TargetDevice);
}

/* ---- symbolic links ------------------------------------------------------------------- */

/* IoCreateSymbolicLink: a link resolved on open; its creator (a code address) is kept
 * for the verifier's unload check. */
NTSTATUS NTAPI IoCreateSymbolicLink(PUNICODE_STRING SymbolicLinkName, PUNICODE_STRING DeviceName)
{
    return ObpNsCreateSymbolicLink(SymbolicLinkName, DeviceName, __builtin_return_address(0));
}

/* No security descriptors in nthost: an unprotected link is an ordinary one. */
NTSTATUS NTAPI IoCreateUnprotectedSymbolicLink(PUNICODE_STRING SymbolicLinkName, PUNICODE_STRING DeviceName)
{
    return ObpNsCreateSymbolicLink(SymbolicLinkName, DeviceName, __builtin_return_address(0));
}

/* IoDeleteSymbolicLink: remove the link itself (the last component is not followed). */
NTSTATUS NTAPI IoDeleteSymbolicLink(PUNICODE_STRING SymbolicLinkName)
{
    return ObpNsRemove(SymbolicLinkName, OB_NS_SYMLINK, NULL);
}

VOID IopDeviceInitialize(void)
{
    KeInitializeSpinLock(&iop_database_lock);
    iop_autogen_counter = 0;
    iop_deleted_next = 0;
}

VOID IopDeviceTeardown(void)
{
    iop_release_deleted(NULL);
}
