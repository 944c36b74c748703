/*
 * io_internal.h — the I/O manager, the object namespace and the Win32 personality
 * inside nthost: the contract between io_*.c, ob_namespace.c, win32_*.c, boot.c and
 * the other parts of nthost that call into them (the service loader, the verifier's
 * unload checks).
 *
 * Names follow NT's internal prefixes: Iop (I/O manager private), Obp (namespace).
 */
#ifndef NTHOST_IO_INTERNAL_H
#define NTHOST_IO_INTERNAL_H

#include <ntddk.h>

#include "bugcheck.h"
#include "nthost/nthost.h"

#ifndef CANCEL_STATE_IN_COMPLETED_IRP
#define CANCEL_STATE_IN_COMPLETED_IRP 0x00000048
#endif

/* ======================= object namespace (ob_namespace.c) ======================== */

typedef enum ob_ns_kind {
    OB_NS_DIRECTORY,
    OB_NS_SYMLINK,
    OB_NS_DEVICE,
    OB_NS_DRIVER,
} ob_ns_kind;

typedef struct ob_ns_lookup {
    ob_ns_kind Kind;
    const char *TypeName;
    PVOID Object;             /* referenced (devices, drivers); NULL for directories */
    UNICODE_STRING Remaining; /* path left after a non-directory object ("\..."), or empty */
} ob_ns_lookup;

NTSTATUS ObpNsInitialize(void);
void ObpNsTeardown(void);
NTSTATUS ObpNsCreateDirectory(PCUNICODE_STRING path);
NTSTATUS ObpNsInsertObject(PCUNICODE_STRING path, ob_ns_kind kind, const char *type_name, PVOID object);
NTSTATUS ObpNsCreateSymbolicLink(PCUNICODE_STRING path, PCUNICODE_STRING target, PVOID creator);
NTSTATUS ObpNsRemove(PCUNICODE_STRING path, ob_ns_kind kind, PVOID object);
NTSTATUS ObpNsLookup(PCUNICODE_STRING path, ob_ns_lookup *res);
void ObpNsLookupDone(ob_ns_lookup *res);
ULONG ObpNsCountLinksCreatedIn(ULONG_PTR lo, ULONG_PTR hi);

/* ======================= verifier (I/O checks) ===================================== */

/* Bug check 0xC9 DRIVER_VERIFIER_IOMANAGER_VIOLATION, parameter 1 (NT's values). */
#define IOP_VF_FREE_NOT_IRP 0x01
#define IOP_VF_FREE_THREADED_IRP 0x02
#define IOP_VF_CALL_NOT_IRP 0x03
#define IOP_VF_CALL_BAD_DEVICE 0x04
#define IOP_VF_DISPATCH_IRQL_CHANGED 0x05
#define IOP_VF_COMPLETE_PENDING 0x06
#define IOP_VF_COMPLETE_WITH_CANCEL_ROUTINE 0x07
#define IOP_VF_TIMER_REINITIALIZED 0x0A
#define IOP_VF_COMPLETE_ABOVE_DISPATCH 0x0E
#define IOP_VF_CALL_ABOVE_DISPATCH 0x10
#define IOP_VF_CALL_WITH_CANCEL_ROUTINE 0x203
#define IOP_VF_FREE_IRP_IN_USE 0x20B
#define IOP_VF_INIT_ALLOCATED_IRP 0x20D
#define IOP_VF_PENDING_NOT_MARKED 0x23D
#define IOP_VF_DELETE_DELETED_DEVICE 0x240

#define IopVerifierEnabled() VfIsEnabled()
/* Bug check 0xC9 naming the driver code at `culprit`. */
#define IOP_VERIFIER_STOP(p1, p2, p3, p4, culprit, ...)                                           \
    VfBugCheck(DRIVER_VERIFIER_IOMANAGER_VIOLATION, (p1), (ULONG_PTR)(p2), (ULONG_PTR)(p3),       \
               (ULONG_PTR)(p4), (const void *)(culprit), NULL, __VA_ARGS__)

/* ======================= IRPs (io_irp.c) =========================================== */

/* What the final stage of an IRP undoes besides what the IRP itself says. */
typedef struct iop_final {
    ULONG user_length;        /* the requester's output buffer length (copy-back limit) */
    BOOLEAN user_length_valid;
    BOOLEAN win32_async;      /* overlapped Win32 request: failures not pended are not reported */
    BOOLEAN advance_offset;   /* read/write on a synchronous file object moves its offset */
    PFILE_OBJECT file_ref;    /* referenced for the request, dropped at the final stage */
    PKEVENT event_ref;        /* event object referenced for the request */
} iop_final;

VOID IopIrpInitialize(void);
VOID IopIrpTeardown(void);
iop_final *IopIrpFinal(PIRP Irp);
VOID IopQueueThreadIrp(PIRP Irp);
ULONG IopCancelThreadIrps(PETHREAD Thread, PFILE_OBJECT File, PIO_STATUS_BLOCK Iosb);
BOOLEAN IopThreadIrpsPending(PETHREAD Thread, PFILE_OBJECT File, PIO_STATUS_BLOCK Iosb);
VOID IopDisassociateThreadIrps(PETHREAD Thread);
ULONG IopCountDriverIrps(PDRIVER_OBJECT DriverObject);
NTSTATUS NTAPI IopInvalidDeviceRequest(PDEVICE_OBJECT DeviceObject, PIRP Irp);

/*
 * IopThreadRundown: a thread is exiting: cancel the IRPs it issued and wait (machine
 * time, up to NT's five minutes) for their drivers to complete them; IRPs still not
 * completed are disassociated from it. Called by the exiting thread at PASSIVE_LEVEL
 * from KiExitThread, and by nthost_shutdown for the booting thread.
 */
VOID IopThreadRundown(PETHREAD Thread);

/* ======================= objects and devices (io_device.c, io_file.c) ============== */

/*
 * For the service loader (cm): the driver object of service `ServiceName`, named
 * \Driver\<ServiceName>, every MajorFunction set to the invalid-request routine,
 * DriverExtension->ServiceKeyName set. Referenced once (the loader's reference).
 */
NTSTATUS IopCreateDriverObject(PCUNICODE_STRING ServiceName, PVOID ImageBase, ULONG ImageSize,
                               PDRIVER_OBJECT *DriverObject);
/* The name a device was created with (empty for an unnamed device); for the error
 * log's %1. */
PCUNICODE_STRING IopDeviceName(PDEVICE_OBJECT DeviceObject);
/* IoDeleteDevice was called on it (it lingers while referenced). */
BOOLEAN IopDeviceDeletePending(PDEVICE_OBJECT DeviceObject);
/* DriverEntry returned success: clear DO_DEVICE_INITIALIZING on the driver's devices. */
VOID IopDriverEntryReturned(PDRIVER_OBJECT DriverObject);
/* A stop request (NT's IopUnloadDriver): every device of the driver becomes
 * unload-pending, so new opens fail. TRUE when a device is still open: DriverUnload
 * must then wait, and svc_unload_ready(DriverObject) is called when the last open
 * of the driver's devices ends. */
BOOLEAN IopMarkDriverUnloadPending(PDRIVER_OBJECT DriverObject);
/* The driver is gone (DriverEntry failed or DriverUnload returned): remove its name and
 * drop the loader's reference. */
VOID IopDeleteDriverObject(PDRIVER_OBJECT DriverObject);
/*
 * Verifier unload checks that belong to the I/O manager: IRPs the driver still holds,
 * its work items still queued, devices not deleted, symbolic links created by the
 * image still present. Bugchecks DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS
 * (0xCE) naming the driver; returns when all is clean.
 */
VOID IopCheckDriverUnload(PDRIVER_OBJECT DriverObject, PCSTR ImageName, PVOID Base, SIZE_T Size);

/* Open a device by path (links followed), sending IRP_MJ_CREATE, as NtCreateFile does.
 * On success *FileObject is referenced once (the caller's) and the device's
 * ReferenceCount counts the open. */
typedef struct iop_open_params {
    ACCESS_MASK DesiredAccess; /* GENERIC_* already mapped to FILE_* rights */
    ULONG ShareAccess;
    ULONG Disposition;         /* FILE_OPEN, ... */
    ULONG CreateOptions;       /* FILE_SYNCHRONOUS_IO_NONALERT for synchronous handles */
    ULONG FileAttributes;
    KPROCESSOR_MODE Mode;
    ULONG_PTR *Information;    /* if not NULL: the create IRP's IoStatus.Information (FILE_OPENED, ...) */
} iop_open_params;
NTSTATUS IopOpenDevice(PCUNICODE_STRING Path, const iop_open_params *Params, PFILE_OBJECT *FileObject);
/* Handle count of a file object fell to zero: IRP_MJ_CLEANUP (Ob close procedure). */
VOID IopCleanupFile(PFILE_OBJECT FileObject);

/* Object types Io defines. */
extern POBJECT_TYPE IopFileType;
extern POBJECT_TYPE IopDeviceType;
extern POBJECT_TYPE IopDriverType;

/* Device opens (io_device.c): ReferenceCount bookkeeping, exclusive devices. */
VOID IopDeviceInitialize(void);
VOID IopDeviceTeardown(void);
NTSTATUS IopReferenceDeviceForOpen(PDEVICE_OBJECT DeviceObject);
VOID IopDereferenceDeviceForOpen(PDEVICE_OBJECT DeviceObject);

/* Buffer set-up shared by IoBuild* and the Win32 personality (io_build.c). System
 * buffers are nonpaged pool (tag IOP_SYSBUF_TAG), as on NT, so that the creator of an
 * IRP whose completion it cuts short (MORE_PROCESSING_REQUIRED) can ExFreePool it. */
#define IOP_SYSBUF_TAG 0x62536F49 /* 'IoSb' */
VOID IopDiscardIrp(PIRP Irp);
NTSTATUS IopSetupBufferedIo(PIRP Irp, ULONG length, const void *copy_in, ULONG copy_len, BOOLEAN output,
                            ULONG output_len);
NTSTATUS IopSetupDeviceControl(PIRP Irp, PIO_STACK_LOCATION sp, ULONG code, PVOID in, ULONG inlen, PVOID out,
                               ULONG outlen);
NTSTATUS IopSetupReadWrite(PIRP Irp, PDEVICE_OBJECT dev, UCHAR major, PVOID buffer, ULONG length);

/* ======================= machine-level state (io_misc.c) =========================== */

/* Start the I/O manager: namespace, IRP tracking, the I/O timer and the work queue.
 * The configuration counts start at 0 (drivers add their devices, as parport does). */
NTSTATUS IopInitialize(void);
/* IRP_MJ_SHUTDOWN to every device registered for it (last registered first). */
VOID IopShutdownNotify(void);
/* Stop the I/O timer and the work queue, free the tracking and the namespace. */
VOID IopTeardown(void);

/* I/O timer and work items (io_timer.c, io_workitem.c). */
NTSTATUS IopTimerInitialize(void);
VOID IopTimerTeardown(void);
VOID IopDeleteDeviceTimer(PDEVICE_OBJECT DeviceObject);
NTSTATUS IopWorkerInitialize(void);
VOID IopWorkerTeardown(void);
VOID IopShutdownListInitialize(void);
ULONG IopCountDriverWorkItems(PDRIVER_OBJECT DriverObject);

#endif /* NTHOST_IO_INTERNAL_H */
