/*
 * dongdisp.c - DongLpt's dispatch routines.
 *
 * They run in the caller's thread at PASSIVE_LEVEL, check the buffers (so a bad
 * request fails at once, before it waits behind others) and queue the request for
 * the port's worker thread. Only the timeouts, which touch no hardware, are read and
 * set here. Buffers are METHOD_BUFFERED / DO_BUFFERED_IO: one system buffer holds the
 * input, then the output; Information never exceeds the output length.
 *
 * Buffer rules (docs/DRIVER.md): an input that is too short, too long, or whose
 * Length field does not fit is STATUS_INVALID_PARAMETER; an output buffer too small
 * for the result is STATUS_BUFFER_TOO_SMALL; an IOCTL that takes no input fails with
 * STATUS_INVALID_PARAMETER when given some.
 */
#include "dongdrv.h"

#define DONG_EXTENSION_OF(DeviceObject) ((PDONG_EXTENSION)(DeviceObject)->DeviceExtension)

/*
 * DongCompleteRequest - finish Irp with Status and Information.
 * IRQL: <= DISPATCH_LEVEL.
 */
NTSTATUS DongCompleteRequest(PIRP Irp, NTSTATUS Status, ULONG_PTR Information)
{
    Irp->IoStatus.Status = Status;
    Irp->IoStatus.Information = NT_ERROR(Status) ? 0 : Information;
    IoCompleteRequest(Irp, NT_SUCCESS(Status) ? IO_PARALLEL_INCREMENT : IO_NO_INCREMENT);
    return Status;
}

/*
 * DongCheckTransactRequest - is Request (InputLength bytes) a well-formed TRANSACT
 * request that this caller may send? KeyChangingAllowed is FALSE for
 * IOCTL_DONG_TRANSACT_READ; a key-programming command needs an administrator's
 * privilege, checked against the requestor (this runs in its thread).
 * IRQL: PASSIVE_LEVEL.
 * Returns STATUS_SUCCESS, STATUS_INVALID_PARAMETER, STATUS_ACCESS_DENIED or
 * STATUS_PRIVILEGE_NOT_HELD.
 */
static NTSTATUS DongCheckTransactRequest(const DONG_TRANSACT_REQUEST *Request, ULONG InputLength,
                                         BOOLEAN KeyChangingAllowed, KPROCESSOR_MODE RequestorMode)
{
    BOOLEAN keyChanging;

    if (Request == NULL || InputLength < DONG_TRANSACT_REQUEST_HEADER ||
        InputLength > sizeof(DONG_TRANSACT_REQUEST) || Request->Length > DL1_MAX_PAYLOAD ||
        DONG_TRANSACT_REQUEST_HEADER + (ULONG)Request->Length > InputLength ||
        (Request->Flags & ~DONG_TRANSACT_CALLER_TXID) != 0) {
        return STATUS_INVALID_PARAMETER;
    }
    keyChanging = DL1_CMD_IS_KEY_CHANGING(Request->Command);
    if (!KeyChangingAllowed && !DL1_CMD_IS_READ_ONLY(Request->Command)) {
        return STATUS_ACCESS_DENIED;
    }
    if (DL1_CMD_IS_KEY_PROGRAMMING(Request->Command) &&
        !SeSinglePrivilegeCheck(RtlConvertLongToLuid(SE_LOAD_DRIVER_PRIVILEGE), RequestorMode)) {
        return STATUS_PRIVILEGE_NOT_HELD;
    }
    if (keyChanging) {
        /* The txid goes first on the wire: the caller's, or one the driver adds. */
        if (Request->Flags & DONG_TRANSACT_CALLER_TXID) {
            if (Request->Length < DL1_TXID_SIZE) {
                return STATUS_INVALID_PARAMETER;
            }
        } else if (Request->Length > DL1_MAX_PAYLOAD - DL1_TXID_SIZE) {
            return STATUS_INVALID_PARAMETER;
        }
    } else if (Request->Flags & DONG_TRANSACT_CALLER_TXID) {
        return STATUS_INVALID_PARAMETER;
    }
    return STATUS_SUCCESS;
}

/*
 * DongDispatchCreate - IRP_MJ_CREATE: a handle gets its DONG_FILE (the response a
 * WriteFile leaves for ReadFile). Under AllocatePerOpen the worker now takes the port.
 * Opening a name below the device (\\.\DongLpt1\x) is STATUS_OBJECT_NAME_NOT_FOUND.
 * IRQL: PASSIVE_LEVEL.
 */
NTSTATUS NTAPI DongDispatchCreate(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PDONG_EXTENSION extension = DONG_EXTENSION_OF(DeviceObject);
    PFILE_OBJECT fileObject = IoGetCurrentIrpStackLocation(Irp)->FileObject;
    PDONG_FILE file;

    if (extension->Queue.Stopping) {
        return DongCompleteRequest(Irp, STATUS_DEVICE_REMOVED, 0);
    }
    if (fileObject->FileName.Length != 0) {
        return DongCompleteRequest(Irp, STATUS_OBJECT_NAME_NOT_FOUND, 0);
    }
    file = (PDONG_FILE)ExAllocatePoolWithTag(NonPagedPool, sizeof(DONG_FILE), DONG_POOL_TAG);
    if (file == NULL) {
        return DongCompleteRequest(Irp, STATUS_INSUFFICIENT_RESOURCES, 0);
    }
    file->HasResponse = FALSE;
    file->ResponseLength = 0;
    fileObject->FsContext = file;
    InterlockedIncrement(&extension->OpenCount);
    if (extension->AllocatePerOpen) {
        KlWakeWorker(&extension->Queue);
    }
    return DongCompleteRequest(Irp, STATUS_SUCCESS, 0);
}

/*
 * DongDispatchCleanup - IRP_MJ_CLEANUP (last handle of a file object closed): its
 * queued requests end with STATUS_CANCELLED; under AllocatePerOpen the last handle
 * gives the port back before this returns (the worker may first finish the request
 * it is serving, within the link timeouts).
 * IRQL: PASSIVE_LEVEL.
 */
NTSTATUS NTAPI DongDispatchCleanup(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PDONG_EXTENSION extension = DONG_EXTENSION_OF(DeviceObject);

    KlCancelFileRequests(&extension->Queue, IoGetCurrentIrpStackLocation(Irp)->FileObject);
    if (InterlockedDecrement(&extension->OpenCount) == 0 && extension->AllocatePerOpen) {
        DongSyncWithWorker(extension);     /* the port is back with parport on return */
    } else {
        KlWakeWorker(&extension->Queue);
    }
    return DongCompleteRequest(Irp, STATUS_SUCCESS, 0);
}

/*
 * DongDispatchClose - IRP_MJ_CLOSE (last reference): free the handle's DONG_FILE.
 * IRQL: PASSIVE_LEVEL.
 */
NTSTATUS NTAPI DongDispatchClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PFILE_OBJECT fileObject = IoGetCurrentIrpStackLocation(Irp)->FileObject;

    UNREFERENCED_PARAMETER(DeviceObject);
    if (fileObject->FsContext != NULL) {
        ExFreePoolWithTag(fileObject->FsContext, DONG_POOL_TAG);
        fileObject->FsContext = NULL;
    }
    return DongCompleteRequest(Irp, STATUS_SUCCESS, 0);
}

/*
 * DongDispatchReadWrite - IRP_MJ_WRITE sends one request (a DONG_TRANSACT_REQUEST,
 * every command allowed: the handle has write access); IRP_MJ_READ returns the
 * response of the handle's last WriteFile (a DONG_TRANSACT_RESPONSE). Both are
 * served in queue order, so a ReadFile issued after a WriteFile waits for it.
 * IRQL: PASSIVE_LEVEL.
 */
NTSTATUS NTAPI DongDispatchReadWrite(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PDONG_EXTENSION extension = DONG_EXTENSION_OF(DeviceObject);
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    NTSTATUS status;

    if (stack->MajorFunction == IRP_MJ_WRITE) {
        status = DongCheckTransactRequest((const DONG_TRANSACT_REQUEST *)Irp->AssociatedIrp.SystemBuffer,
                                          stack->Parameters.Write.Length, TRUE, Irp->RequestorMode);
    } else {
        status = stack->Parameters.Read.Length < DONG_TRANSACT_RESPONSE_HEADER ? STATUS_BUFFER_TOO_SMALL
                                                                             : STATUS_SUCCESS;
    }
    if (!NT_SUCCESS(status)) {
        return DongCompleteRequest(Irp, status, 0);
    }
    return KlQueueRequest(&extension->Queue, Irp);
}

/*
 * DongGetTimeouts - a consistent copy of the port's timeouts.
 * IRQL: <= DISPATCH_LEVEL.
 */
VOID DongGetTimeouts(PDONG_EXTENSION Extension, PDONG_TIMEOUTS Timeouts)
{
    KIRQL irql;

    KeAcquireSpinLock(&Extension->TimeoutLock, &irql);
    *Timeouts = Extension->Timeouts;
    KeReleaseSpinLock(&Extension->TimeoutLock, irql);
}

/*
 * DongTimeoutsValid - are Timeouts inside the documented ranges?
 * IRQL: any.
 */
BOOLEAN DongTimeoutsValid(const DONG_TIMEOUTS *Timeouts)
{
    return Timeouts->HandshakeMs >= 1 && Timeouts->HandshakeMs <= DONG_TIMEOUT_HANDSHAKE_MAX &&
           Timeouts->ResponseMs >= 1 && Timeouts->ResponseMs <= DONG_TIMEOUT_RESPONSE_MAX &&
           Timeouts->Retries <= DONG_TIMEOUT_RETRIES_MAX;
}

/*
 * DongSetTimeouts - IOCTL_DONG_SET_TIMEOUTS: new timeouts for the port's next
 * requests (the worker hands them to the link before each one).
 * IRQL: PASSIVE_LEVEL.
 */
static NTSTATUS DongSetTimeouts(PDONG_EXTENSION Extension, const DONG_TIMEOUTS *Timeouts, ULONG InputLength)
{
    KIRQL irql;

    if (InputLength != sizeof(DONG_TIMEOUTS) || !DongTimeoutsValid(Timeouts)) {
        return STATUS_INVALID_PARAMETER;
    }
    KeAcquireSpinLock(&Extension->TimeoutLock, &irql);
    Extension->Timeouts = *Timeouts;
    KeReleaseSpinLock(&Extension->TimeoutLock, irql);
    return STATUS_SUCCESS;
}

/*
 * DongDispatchDeviceControl - IRP_MJ_DEVICE_CONTROL: the IOCTL_DONG_* codes of
 * donglpt.h. The I/O manager has already checked each code's RequiredAccess against
 * the handle. Unknown codes are STATUS_INVALID_DEVICE_REQUEST.
 * IRQL: PASSIVE_LEVEL.
 */
NTSTATUS NTAPI DongDispatchDeviceControl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PDONG_EXTENSION extension = DONG_EXTENSION_OF(DeviceObject);
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    ULONG inputLength = stack->Parameters.DeviceIoControl.InputBufferLength;
    ULONG outputLength = stack->Parameters.DeviceIoControl.OutputBufferLength;
    PVOID buffer = Irp->AssociatedIrp.SystemBuffer;
    ULONG needInput = 0;        /* input length an input-less IOCTL must have */
    ULONG needOutput = 0;
    NTSTATUS status;

    switch (stack->Parameters.DeviceIoControl.IoControlCode) {
    case IOCTL_DONG_GET_INFO:
        needOutput = sizeof(DONG_INFO);
        break;
    case IOCTL_DONG_GET_STATUS:
        needOutput = sizeof(DONG_PORT_STATUS);
        break;
    case IOCTL_DONG_GET_STATS:
        needOutput = sizeof(DONG_STATISTICS);
        break;
    case IOCTL_DONG_RESET:
        break;
    case IOCTL_DONG_GET_TIMEOUTS:
        if (inputLength != 0) {
            return DongCompleteRequest(Irp, STATUS_INVALID_PARAMETER, 0);
        }
        if (outputLength < sizeof(DONG_TIMEOUTS)) {
            return DongCompleteRequest(Irp, STATUS_BUFFER_TOO_SMALL, 0);
        }
        DongGetTimeouts(extension, (PDONG_TIMEOUTS)buffer);
        return DongCompleteRequest(Irp, STATUS_SUCCESS, sizeof(DONG_TIMEOUTS));
    case IOCTL_DONG_SET_TIMEOUTS:
        status = DongSetTimeouts(extension, (const DONG_TIMEOUTS *)buffer, inputLength);
        return DongCompleteRequest(Irp, status, 0);
    case IOCTL_DONG_TRANSACT_READ:
    case IOCTL_DONG_TRANSACT_WRITE:
        status = DongCheckTransactRequest((const DONG_TRANSACT_REQUEST *)buffer, inputLength,
                                          stack->Parameters.DeviceIoControl.IoControlCode ==
                                              IOCTL_DONG_TRANSACT_WRITE,
                                          Irp->RequestorMode);
        if (!NT_SUCCESS(status)) {
            return DongCompleteRequest(Irp, status, 0);
        }
        needInput = inputLength;
        needOutput = sizeof(DONG_TRANSACT_RESPONSE);
        break;
    default:
        return DongCompleteRequest(Irp, STATUS_INVALID_DEVICE_REQUEST, 0);
    }

    if (inputLength != needInput) {
        return DongCompleteRequest(Irp, STATUS_INVALID_PARAMETER, 0);
    }
    if (outputLength < needOutput) {
        return DongCompleteRequest(Irp, STATUS_BUFFER_TOO_SMALL, 0);
    }
    return KlQueueRequest(&extension->Queue, Irp);
}

/*
 * DongDispatchShutdown - IRP_MJ_SHUTDOWN: finish the request being served, fail the
 * queued ones, close the key session and park the lines, give the port back. Later
 * requests fail with STATUS_DEVICE_REMOVED.
 * IRQL: PASSIVE_LEVEL.
 */
NTSTATUS NTAPI DongDispatchShutdown(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    KlStopWorker(&DONG_EXTENSION_OF(DeviceObject)->Queue);
    return DongCompleteRequest(Irp, STATUS_SUCCESS, 0);
}
