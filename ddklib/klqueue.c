/*
 * klqueue.c - a device's cancel-safe request queue (IoCsq) and the worker system
 * thread that serves it.
 *
 * Dispatch routines queue; one worker thread per device takes the requests in
 * arrival order. A queued request stays cancellable (CancelIo, CloseHandle,
 * IoCancelIrp) until the worker takes it with KlNextRequest; how the worker serves
 * it, and how it treats the request it is serving, is the driver's business.
 */
#include "ddklib.h"

#define KL_QUEUE_FROM(Csq) CONTAINING_RECORD((Csq), KL_QUEUE, Csq)

/*
 * KlFailRequest - complete Irp that was never served with Status and no data.
 * IRQL: <= DISPATCH_LEVEL.
 */
static NTSTATUS KlFailRequest(PIRP Irp, NTSTATUS Status)
{
    Irp->IoStatus.Status = Status;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return Status;
}

/*
 * KlCsqInsertIrp - queue Irp at the tail, unless the device is stopping.
 * IRQL: DISPATCH_LEVEL, queue lock held.
 * Returns STATUS_DEVICE_REMOVED when stopping (the caller completes the IRP).
 */
static NTSTATUS NTAPI KlCsqInsertIrp(PIO_CSQ Csq, PIRP Irp, PVOID InsertContext)
{
    PKL_QUEUE queue = KL_QUEUE_FROM(Csq);

    UNREFERENCED_PARAMETER(InsertContext);
    if (queue->Stopping) {
        return STATUS_DEVICE_REMOVED;
    }
    InsertTailList(&queue->PendingList, &Irp->Tail.Overlay.ListEntry);
    return STATUS_SUCCESS;
}

/*
 * KlCsqRemoveIrp - take Irp out of the queue.
 * IRQL: DISPATCH_LEVEL, queue lock held.
 */
static VOID NTAPI KlCsqRemoveIrp(PIO_CSQ Csq, PIRP Irp)
{
    UNREFERENCED_PARAMETER(Csq);
    RemoveEntryList(&Irp->Tail.Overlay.ListEntry);
}

/*
 * KlCsqPeekNextIrp - the first queued IRP after Irp (from the head when Irp is NULL)
 * that was sent through file object PeekContext (any file when NULL).
 * IRQL: DISPATCH_LEVEL, queue lock held.
 */
static PIRP NTAPI KlCsqPeekNextIrp(PIO_CSQ Csq, PIRP Irp, PVOID PeekContext)
{
    PKL_QUEUE queue = KL_QUEUE_FROM(Csq);
    PLIST_ENTRY entry = (Irp == NULL) ? queue->PendingList.Flink : Irp->Tail.Overlay.ListEntry.Flink;

    for (; entry != &queue->PendingList; entry = entry->Flink) {
        PIRP next = CONTAINING_RECORD(entry, IRP, Tail.Overlay.ListEntry);
        if (PeekContext == NULL || IoGetCurrentIrpStackLocation(next)->FileObject == PeekContext) {
            return next;
        }
    }
    return NULL;
}

/*
 * KlCsqAcquireLock / KlCsqReleaseLock - the queue lock.
 * IRQL: acquire raises to DISPATCH_LEVEL; release restores Irql.
 */
static VOID NTAPI KlCsqAcquireLock(PIO_CSQ Csq, PKIRQL Irql)
{
    KeAcquireSpinLock(&KL_QUEUE_FROM(Csq)->Lock, Irql);
}

static VOID NTAPI KlCsqReleaseLock(PIO_CSQ Csq, KIRQL Irql)
{
    KeReleaseSpinLock(&KL_QUEUE_FROM(Csq)->Lock, Irql);
}

/*
 * KlCsqCompleteCanceledIrp - a queued request was cancelled: complete it, and wake
 * the worker, which may be waiting (for the port) only for this request.
 * IRQL: <= DISPATCH_LEVEL.
 */
static VOID NTAPI KlCsqCompleteCanceledIrp(PIO_CSQ Csq, PIRP Irp)
{
    KlFailRequest(Irp, STATUS_CANCELLED);
    KlWakeWorker(KL_QUEUE_FROM(Csq));
}

/*
 * KlInitializeQueue - empty queue, worker not started.
 * IRQL: PASSIVE_LEVEL.
 */
VOID KlInitializeQueue(PKL_QUEUE Queue)
{
    KeInitializeSpinLock(&Queue->Lock);
    InitializeListHead(&Queue->PendingList);
    Queue->Stopping = FALSE;
    Queue->WorkerThread = NULL;
    KeInitializeEvent(&Queue->WakeEvent, SynchronizationEvent, FALSE);
    IoCsqInitializeEx(&Queue->Csq, KlCsqInsertIrp, KlCsqRemoveIrp, KlCsqPeekNextIrp, KlCsqAcquireLock,
                      KlCsqReleaseLock, KlCsqCompleteCanceledIrp);
}

/*
 * KlWakeWorker - make the worker look at its queue (and its current request) again.
 * IRQL: <= DISPATCH_LEVEL.
 */
VOID KlWakeWorker(PKL_QUEUE Queue)
{
    KeSetEvent(&Queue->WakeEvent, IO_NO_INCREMENT, FALSE);
}

/*
 * KlQueueRequest - hand Irp to the worker.
 * IRQL: <= DISPATCH_LEVEL.
 * Returns STATUS_PENDING (queued and marked pending), or completes Irp with
 * STATUS_DEVICE_REMOVED when the device is stopping and returns that.
 */
NTSTATUS KlQueueRequest(PKL_QUEUE Queue, PIRP Irp)
{
    NTSTATUS status = IoCsqInsertIrpEx(&Queue->Csq, Irp, NULL, NULL);

    if (!NT_SUCCESS(status)) {
        return KlFailRequest(Irp, status);
    }
    KlWakeWorker(Queue);
    return STATUS_PENDING;
}

/*
 * KlNextRequest - take the oldest queued request for the worker to serve; from now
 * on it is no longer cancellable through the queue.
 * IRQL: <= DISPATCH_LEVEL.
 * Returns the IRP, or NULL when the queue is empty.
 */
PIRP KlNextRequest(PKL_QUEUE Queue)
{
    return IoCsqRemoveNextIrp(&Queue->Csq, NULL);
}

/*
 * KlCancelFileRequests - IRP_MJ_CLEANUP: every request of FileObject still queued
 * completes with STATUS_CANCELLED, and the worker is woken to see the change.
 * IRQL: PASSIVE_LEVEL.
 */
VOID KlCancelFileRequests(PKL_QUEUE Queue, PFILE_OBJECT FileObject)
{
    PIRP irp;

    while ((irp = IoCsqRemoveNextIrp(&Queue->Csq, FileObject)) != NULL) {
        KlFailRequest(irp, STATUS_CANCELLED);
    }
    KlWakeWorker(Queue);
}

/*
 * KlCancelQueuedRequests - every queued request completes with STATUS_CANCELLED
 * (the worker on its way out).
 * IRQL: <= DISPATCH_LEVEL.
 */
VOID KlCancelQueuedRequests(PKL_QUEUE Queue)
{
    PIRP irp;

    while ((irp = KlNextRequest(Queue)) != NULL) {
        KlFailRequest(irp, STATUS_CANCELLED);
    }
}

/*
 * KlStartWorker - create the worker system thread (Routine(Context)) and keep a
 * reference to it so that KlStopWorker can wait for its end. Routine runs until it
 * sees Queue->Stopping, then calls PsTerminateSystemThread.
 * IRQL: PASSIVE_LEVEL.
 * Returns the failure of thread creation or referencing; in the second case the
 * thread is told to stop and ends on its own.
 */
NTSTATUS KlStartWorker(PKL_QUEUE Queue, PKSTART_ROUTINE Routine, PVOID Context)
{
    HANDLE handle;
    NTSTATUS status;

    status = PsCreateSystemThread(&handle, SYNCHRONIZE, NULL, NULL, NULL, Routine, Context);
    if (!NT_SUCCESS(status)) {
        return status;
    }
    status = ObReferenceObjectByHandle(handle, SYNCHRONIZE, *PsThreadType, KernelMode, &Queue->WorkerThread, NULL);
    ZwClose(handle);
    if (!NT_SUCCESS(status)) {
        KlStopWorker(Queue);
    }
    return status;
}

/*
 * KlStopWorker - refuse new requests, wake the worker and wait for its thread to end
 * (it finishes or abandons what it serves and cancels what is queued). Idempotent
 * (IRP_MJ_SHUTDOWN, then DriverUnload).
 * IRQL: PASSIVE_LEVEL.
 */
VOID KlStopWorker(PKL_QUEUE Queue)
{
    KIRQL irql;

    KeAcquireSpinLock(&Queue->Lock, &irql);
    Queue->Stopping = TRUE;
    KeReleaseSpinLock(&Queue->Lock, irql);
    KlWakeWorker(Queue);

    if (Queue->WorkerThread != NULL) {
        KeWaitForSingleObject(Queue->WorkerThread, Executive, KernelMode, FALSE, NULL);
        ObDereferenceObject(Queue->WorkerThread);
        Queue->WorkerThread = NULL;
    }
}
