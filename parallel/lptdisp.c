/*
 * lptdisp.c - the printer driver's dispatch routines. They run in the caller's
 * thread, check the request and queue it for the port's worker; none of them waits
 * for the hardware.
 */
#include "lptdrv.h"

/*
 * LptCompleteRequest - finish Irp with Status and Information.
 * IRQL: <= DISPATCH_LEVEL.
 */
NTSTATUS LptCompleteRequest(PIRP Irp, NTSTATUS Status, ULONG_PTR Information)
{
    Irp->IoStatus.Status = Status;
    Irp->IoStatus.Information = Information;
    IoCompleteRequest(Irp, NT_SUCCESS(Status) ? IO_PARALLEL_INCREMENT : IO_NO_INCREMENT);
    return Status;
}

/*
 * LptDispatchCreate - IRP_MJ_CREATE: the printer is a device, not a directory, and
 * has no names below it. Opening costs nothing: the port is taken per request.
 * IRQL: PASSIVE_LEVEL.
 */
NTSTATUS NTAPI LptDispatchCreate(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);

    if (LPT_EXTENSION_OF(DeviceObject)->Queue.Stopping) {
        return LptCompleteRequest(Irp, STATUS_DEVICE_REMOVED, 0);
    }
    if (stack->Parameters.Create.Options & FILE_DIRECTORY_FILE) {
        return LptCompleteRequest(Irp, STATUS_NOT_A_DIRECTORY, 0);
    }
    if (stack->FileObject->FileName.Length != 0) {
        return LptCompleteRequest(Irp, STATUS_OBJECT_NAME_NOT_FOUND, 0);
    }
    return LptCompleteRequest(Irp, STATUS_SUCCESS, 0);
}

/*
 * LptDispatchClose - IRP_MJ_CLOSE: nothing is kept per handle.
 * IRQL: PASSIVE_LEVEL.
 */
NTSTATUS NTAPI LptDispatchClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    return LptCompleteRequest(Irp, STATUS_SUCCESS, 0);
}

/*
 * LptDispatchCleanup - IRP_MJ_CLEANUP (the handle's last user closed it): its
 * requests end with STATUS_CANCELLED.
 * IRQL: PASSIVE_LEVEL.
 */
NTSTATUS NTAPI LptDispatchCleanup(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    LptCancelFileRequests(LPT_EXTENSION_OF(DeviceObject), IoGetCurrentIrpStackLocation(Irp)->FileObject);
    return LptCompleteRequest(Irp, STATUS_SUCCESS, 0);
}

/*
 * LptDispatchWrite - IRP_MJ_WRITE: queue the buffer for printing (buffered I/O).
 * A zero-length write succeeds at once without touching the port.
 * IRQL: PASSIVE_LEVEL.
 */
NTSTATUS NTAPI LptDispatchWrite(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    if (IoGetCurrentIrpStackLocation(Irp)->Parameters.Write.Length == 0) {
        return LptCompleteRequest(Irp, STATUS_SUCCESS, 0);
    }
    return KlQueueRequest(&LPT_EXTENSION_OF(DeviceObject)->Queue, Irp);
}

/*
 * LptIsPortFree - IOCTL_PAR_IS_PORT_FREE: is the port free right now (no parport
 * client owns it, this driver's worker included)? Answered by taking the port
 * with TryAllocatePort and giving it straight back: that never waits, and a free
 * port has no waiter that the release could hand it to.
 * IRQL: PASSIVE_LEVEL.
 */
static NTSTATUS LptIsPortFree(PLPT_EXTENSION Extension, PIRP Irp, ULONG OutputLength)
{
    BOOLEAN free;

    if (OutputLength < sizeof(BOOLEAN)) {
        return LptCompleteRequest(Irp, STATUS_BUFFER_TOO_SMALL, 0);
    }
    free = Extension->Port.Info.TryAllocatePort(Extension->Port.Info.Context);
    if (free) {
        Extension->Port.Info.FreePort(Extension->Port.Info.Context);
    }
    *(PBOOLEAN)Irp->AssociatedIrp.SystemBuffer = free;
    return LptCompleteRequest(Irp, STATUS_SUCCESS, sizeof(BOOLEAN));
}

/*
 * LptDispatchDeviceControl - IRP_MJ_DEVICE_CONTROL: IOCTL_PAR_QUERY_INFORMATION is
 * queued like a write (reading the printer's lines needs the port);
 * IOCTL_PAR_IS_PORT_FREE is answered at once; every other code is
 * STATUS_INVALID_PARAMETER, as NT's printer driver answers. Public codes that equal
 * parport's internal ones never reach parport from here.
 * IRQL: PASSIVE_LEVEL.
 */
NTSTATUS NTAPI LptDispatchDeviceControl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    ULONG outputLength = stack->Parameters.DeviceIoControl.OutputBufferLength;

    switch (stack->Parameters.DeviceIoControl.IoControlCode) {
    case IOCTL_PAR_QUERY_INFORMATION:
        if (outputLength < sizeof(PAR_QUERY_INFORMATION)) {
            return LptCompleteRequest(Irp, STATUS_BUFFER_TOO_SMALL, 0);
        }
        return KlQueueRequest(&LPT_EXTENSION_OF(DeviceObject)->Queue, Irp);

    case IOCTL_PAR_IS_PORT_FREE:
        return LptIsPortFree(LPT_EXTENSION_OF(DeviceObject), Irp, outputLength);

    default:
        return LptCompleteRequest(Irp, STATUS_INVALID_PARAMETER, 0);
    }
}

/*
 * LptDispatchShutdown - IRP_MJ_SHUTDOWN: the system is going down. Printing stops
 * at the next byte and the port goes back to parport with the lines parked; new
 * requests fail with STATUS_DEVICE_REMOVED.
 * IRQL: PASSIVE_LEVEL.
 */
NTSTATUS NTAPI LptDispatchShutdown(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    KlStopWorker(&LPT_EXTENSION_OF(DeviceObject)->Queue);
    return LptCompleteRequest(Irp, STATUS_SUCCESS, 0);
}
