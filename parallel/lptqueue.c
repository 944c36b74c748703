/*
 * lptqueue.c - how the port's worker thread serves its queue (ddklib's KL_QUEUE):
 * one request at a time, in arrival order.
 *
 * A queued request is cancellable through the queue. The request being served has a
 * cancel routine that only wakes the worker: the worker sees Irp->Cancel at its next
 * byte or wait, stops, and completes the request with what was printed so far.
 * Queue.Lock also guards ActiveIrp.
 */
#include "lptdrv.h"

/*
 * LptCancelFileRequests - IRP_MJ_CLEANUP: every request of FileObject ends with
 * STATUS_CANCELLED; the one being served stops at its next byte.
 * IRQL: PASSIVE_LEVEL.
 */
VOID LptCancelFileRequests(PLPT_EXTENSION Extension, PFILE_OBJECT FileObject)
{
    KIRQL irql;

    KlCancelFileRequests(&Extension->Queue, FileObject);
    /* Under the lock the worker cannot complete ActiveIrp, so it is safe to cancel. */
    KeAcquireSpinLock(&Extension->Queue.Lock, &irql);
    if (Extension->ActiveIrp != NULL && IoGetCurrentIrpStackLocation(Extension->ActiveIrp)->FileObject == FileObject) {
        IoCancelIrp(Extension->ActiveIrp);
    }
    KeReleaseSpinLock(&Extension->Queue.Lock, irql);
}

/*
 * LptRequestAbandoned - should the worker stop serving Irp: cancelled, or the
 * device is stopping?
 * IRQL: <= DISPATCH_LEVEL.
 */
BOOLEAN LptRequestAbandoned(PLPT_EXTENSION Extension, PIRP Irp)
{
    return Irp->Cancel || Extension->Queue.Stopping;
}

/*
 * LptWaitOrAbandon - wait WaitMs for the printer, or less when the worker is woken
 * (a cancel, a stop, a new request: the caller just looks again).
 * IRQL: PASSIVE_LEVEL, worker thread.
 * Returns TRUE when Irp is to be abandoned.
 */
BOOLEAN LptWaitOrAbandon(PLPT_EXTENSION Extension, PIRP Irp, ULONG WaitMs)
{
    LARGE_INTEGER timeout;

    timeout.QuadPart = -(LONGLONG)WaitMs * 10000;
    KeWaitForSingleObject(&Extension->Queue.WakeEvent, Executive, KernelMode, FALSE, &timeout);
    return LptRequestAbandoned(Extension, Irp);
}

/*
 * LptCancelActive - cancel routine of the request being served: wake the worker,
 * which completes it.
 * IRQL: DISPATCH_LEVEL, called with the cancel spin lock held; releases it.
 */
static VOID NTAPI LptCancelActive(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    IoReleaseCancelSpinLock(Irp->CancelIrql);
    KlWakeWorker(&LPT_EXTENSION_OF(DeviceObject)->Queue);
}

/*
 * LptServe - serve one request taken from the queue and complete it.
 * IRQL: PASSIVE_LEVEL, worker thread.
 */
static VOID LptServe(PLPT_EXTENSION Extension, PIRP Irp)
{
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    ULONG_PTR information = 0;
    NTSTATUS status = STATUS_CANCELLED;
    KIRQL irql;

    KeAcquireSpinLock(&Extension->Queue.Lock, &irql);
    Extension->ActiveIrp = Irp;
    KeReleaseSpinLock(&Extension->Queue.Lock, irql);

    IoSetCancelRoutine(Irp, LptCancelActive);
    if (!Irp->Cancel) {
        if (stack->MajorFunction == IRP_MJ_WRITE) {
            status = LptServeWrite(Extension, Irp, &information);
        } else {
            status = LptServeQueryInformation(Extension, Irp, &information);
        }
    }

    KeAcquireSpinLock(&Extension->Queue.Lock, &irql);
    Extension->ActiveIrp = NULL;
    KeReleaseSpinLock(&Extension->Queue.Lock, irql);
    if (IoSetCancelRoutine(Irp, NULL) == NULL) {
        /* LptCancelActive runs or ran: let it drop the cancel spin lock first. */
        IoAcquireCancelSpinLock(&irql);
        IoReleaseCancelSpinLock(irql);
    }
    LptCompleteRequest(Irp, status, information);
}

/*
 * LptWorkerThread - the port's worker: sleeps until woken, serves the queue; when
 * the device stops, fails what is still queued.
 * IRQL: PASSIVE_LEVEL (system thread).
 */
static VOID NTAPI LptWorkerThread(PVOID Context)
{
    PLPT_EXTENSION extension = (PLPT_EXTENSION)Context;
    PIRP irp;

    for (;;) {
        KeWaitForSingleObject(&extension->Queue.WakeEvent, Executive, KernelMode, FALSE, NULL);
        while (!extension->Queue.Stopping && (irp = KlNextRequest(&extension->Queue)) != NULL) {
            LptServe(extension, irp);
        }
        if (extension->Queue.Stopping) {
            break;
        }
    }
    KlCancelQueuedRequests(&extension->Queue);
    PsTerminateSystemThread(STATUS_SUCCESS);
}

/*
 * LptStartWorker - start the port's worker thread (KlStopWorker ends it: the request
 * being served stops at its next byte with the count printed, queued ones end with
 * STATUS_CANCELLED).
 * IRQL: PASSIVE_LEVEL.
 */
NTSTATUS LptStartWorker(PLPT_EXTENSION Extension)
{
    return KlStartWorker(&Extension->Queue, LptWorkerThread, Extension);
}
