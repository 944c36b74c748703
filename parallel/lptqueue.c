/*
 * lptqueue.c - each port's cancel-safe queue (IoCsq) and the worker system thread
 * that serves it, one request at a time, in arrival order.
 *
 * A queued request is cancellable through the queue. The request being served has a
 * cancel routine that only wakes the worker: the worker sees Irp->Cancel at its next
 * byte or wait, stops, and completes the request with what was printed so far.
 * QueueLock guards PendingList, ActiveIrp and Stopping, and is held only for list
 * updates (well under the 50 us budget at DISPATCH_LEVEL).
 */
#include "lptdrv.h"

#define LPT_CSQ_FROM(Csq) CONTAINING_RECORD((Csq), LPT_EXTENSION, Csq)

/*
 * LptCsqInsertIrp - queue Irp at the tail, unless the device is stopping.
 * IRQL: DISPATCH_LEVEL, queue lock held.
 * Returns STATUS_DEVICE_REMOVED when stopping (the caller completes the IRP).
 */
static NTSTATUS NTAPI LptCsqInsertIrp(PIO_CSQ Csq, PIRP Irp, PVOID InsertContext)
{
    PLPT_EXTENSION extension = LPT_CSQ_FROM(Csq);

    UNREFERENCED_PARAMETER(InsertContext);
    if (extension->Stopping) {
        return STATUS_DEVICE_REMOVED;
    }
    InsertTailList(&extension->PendingList, &Irp->Tail.Overlay.ListEntry);
    return STATUS_SUCCESS;
}

/*
 * LptCsqRemoveIrp - take Irp out of the queue.
 * IRQL: DISPATCH_LEVEL, queue lock held.
 */
static VOID NTAPI LptCsqRemoveIrp(PIO_CSQ Csq, PIRP Irp)
{
    UNREFERENCED_PARAMETER(Csq);
    RemoveEntryList(&Irp->Tail.Overlay.ListEntry);
}

/*
 * LptCsqPeekNextIrp - the first queued IRP after Irp (from the head when Irp is
 * NULL) sent through file object PeekContext (any file when NULL).
 * IRQL: DISPATCH_LEVEL, queue lock held.
 */
static PIRP NTAPI LptCsqPeekNextIrp(PIO_CSQ Csq, PIRP Irp, PVOID PeekContext)
{
    PLPT_EXTENSION extension = LPT_CSQ_FROM(Csq);
    PLIST_ENTRY entry = (Irp == NULL) ? extension->PendingList.Flink : Irp->Tail.Overlay.ListEntry.Flink;

    for (; entry != &extension->PendingList; entry = entry->Flink) {
        PIRP next = CONTAINING_RECORD(entry, IRP, Tail.Overlay.ListEntry);
        if (PeekContext == NULL || IoGetCurrentIrpStackLocation(next)->FileObject == PeekContext) {
            return next;
        }
    }
    return NULL;
}

/*
 * LptCsqAcquireLock / LptCsqReleaseLock - the queue lock.
 * IRQL: acquire raises to DISPATCH_LEVEL; release restores Irql.
 */
static VOID NTAPI LptCsqAcquireLock(PIO_CSQ Csq, PKIRQL Irql)
{
    KeAcquireSpinLock(&LPT_CSQ_FROM(Csq)->QueueLock, Irql);
}

static VOID NTAPI LptCsqReleaseLock(PIO_CSQ Csq, KIRQL Irql)
{
    KeReleaseSpinLock(&LPT_CSQ_FROM(Csq)->QueueLock, Irql);
}

/*
 * LptCsqCompleteCanceledIrp - a queued request was cancelled: nothing was printed.
 * IRQL: <= DISPATCH_LEVEL.
 */
static VOID NTAPI LptCsqCompleteCanceledIrp(PIO_CSQ Csq, PIRP Irp)
{
    UNREFERENCED_PARAMETER(Csq);
    LptCompleteRequest(Irp, STATUS_CANCELLED, 0);
}

/*
 * LptInitializeQueue - empty queue, worker not started.
 * IRQL: PASSIVE_LEVEL.
 */
VOID LptInitializeQueue(PLPT_EXTENSION Extension)
{
    KeInitializeSpinLock(&Extension->QueueLock);
    InitializeListHead(&Extension->PendingList);
    KeInitializeEvent(&Extension->WakeEvent, SynchronizationEvent, FALSE);
    IoCsqInitializeEx(&Extension->Csq, LptCsqInsertIrp, LptCsqRemoveIrp, LptCsqPeekNextIrp, LptCsqAcquireLock,
                      LptCsqReleaseLock, LptCsqCompleteCanceledIrp);
}

/*
 * LptWake - make the worker look at its queue and its current request again.
 * IRQL: <= DISPATCH_LEVEL.
 */
static VOID LptWake(PLPT_EXTENSION Extension)
{
    KeSetEvent(&Extension->WakeEvent, IO_NO_INCREMENT, FALSE);
}

/*
 * LptQueueRequest - hand Irp to the worker.
 * IRQL: <= DISPATCH_LEVEL.
 * Returns STATUS_PENDING (queued and marked pending), or completes Irp with
 * STATUS_DEVICE_REMOVED when the device is stopping and returns that.
 */
NTSTATUS LptQueueRequest(PLPT_EXTENSION Extension, PIRP Irp)
{
    NTSTATUS status = IoCsqInsertIrpEx(&Extension->Csq, Irp, NULL, NULL);

    if (!NT_SUCCESS(status)) {
        return LptCompleteRequest(Irp, status, 0);
    }
    LptWake(Extension);
    return STATUS_PENDING;
}

/*
 * LptCancelFileRequests - IRP_MJ_CLEANUP: every request of FileObject ends with
 * STATUS_CANCELLED; the one being served stops at its next byte.
 * IRQL: PASSIVE_LEVEL.
 */
VOID LptCancelFileRequests(PLPT_EXTENSION Extension, PFILE_OBJECT FileObject)
{
    KIRQL irql;
    PIRP irp;

    while ((irp = IoCsqRemoveNextIrp(&Extension->Csq, FileObject)) != NULL) {
        LptCompleteRequest(irp, STATUS_CANCELLED, 0);
    }
    /* Under the lock the worker cannot complete ActiveIrp, so it is safe to cancel. */
    KeAcquireSpinLock(&Extension->QueueLock, &irql);
    if (Extension->ActiveIrp != NULL && IoGetCurrentIrpStackLocation(Extension->ActiveIrp)->FileObject == FileObject) {
        IoCancelIrp(Extension->ActiveIrp);
    }
    KeReleaseSpinLock(&Extension->QueueLock, irql);
}

/*
 * LptRequestAbandoned - should the worker stop serving Irp: cancelled, or the
 * device is stopping?
 * IRQL: <= DISPATCH_LEVEL.
 */
BOOLEAN LptRequestAbandoned(PLPT_EXTENSION Extension, PIRP Irp)
{
    return Irp->Cancel || Extension->Stopping;
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
    KeWaitForSingleObject(&Extension->WakeEvent, Executive, KernelMode, FALSE, &timeout);
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
    LptWake(LPT_EXTENSION_OF(DeviceObject));
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

    KeAcquireSpinLock(&Extension->QueueLock, &irql);
    Extension->ActiveIrp = Irp;
    KeReleaseSpinLock(&Extension->QueueLock, irql);

    IoSetCancelRoutine(Irp, LptCancelActive);
    if (!Irp->Cancel) {
        if (stack->MajorFunction == IRP_MJ_WRITE) {
            status = LptServeWrite(Extension, Irp, &information);
        } else {
            status = LptServeQueryInformation(Extension, Irp, &information);
        }
    }

    KeAcquireSpinLock(&Extension->QueueLock, &irql);
    Extension->ActiveIrp = NULL;
    KeReleaseSpinLock(&Extension->QueueLock, irql);
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
        KeWaitForSingleObject(&extension->WakeEvent, Executive, KernelMode, FALSE, NULL);
        while (!extension->Stopping && (irp = IoCsqRemoveNextIrp(&extension->Csq, NULL)) != NULL) {
            LptServe(extension, irp);
        }
        if (extension->Stopping) {
            break;
        }
    }
    while ((irp = IoCsqRemoveNextIrp(&extension->Csq, NULL)) != NULL) {
        LptCompleteRequest(irp, STATUS_CANCELLED, 0);
    }
    PsTerminateSystemThread(STATUS_SUCCESS);
}

/*
 * LptStartWorker - create the port's worker thread and keep a reference to it so
 * that LptStopWorker can wait for its end.
 * IRQL: PASSIVE_LEVEL.
 */
NTSTATUS LptStartWorker(PLPT_EXTENSION Extension)
{
    HANDLE handle;
    NTSTATUS status;

    status = PsCreateSystemThread(&handle, SYNCHRONIZE, NULL, NULL, NULL, LptWorkerThread, Extension);
    if (!NT_SUCCESS(status)) {
        return status;
    }
    status = ObReferenceObjectByHandle(handle, SYNCHRONIZE, *PsThreadType, KernelMode, &Extension->WorkerThread,
                                       NULL);
    ZwClose(handle);
    if (!NT_SUCCESS(status)) {
        /* Cannot wait for it: stop it and let it end on its own. */
        LptStopWorker(Extension);
    }
    return status;
}

/*
 * LptStopWorker - refuse new requests, end the one being served at its next byte
 * (STATUS_CANCELLED with the count printed), fail the queued ones with
 * STATUS_CANCELLED and wait for the thread to end. Idempotent (IRP_MJ_SHUTDOWN,
 * then DriverUnload).
 * IRQL: PASSIVE_LEVEL.
 */
VOID LptStopWorker(PLPT_EXTENSION Extension)
{
    KIRQL irql;

    KeAcquireSpinLock(&Extension->QueueLock, &irql);
    Extension->Stopping = TRUE;
    KeReleaseSpinLock(&Extension->QueueLock, irql);
    LptWake(Extension);

    if (Extension->WorkerThread != NULL) {
        KeWaitForSingleObject(Extension->WorkerThread, Executive, KernelMode, FALSE, NULL);
        ObDereferenceObject(Extension->WorkerThread);
        Extension->WorkerThread = NULL;
    }
}
