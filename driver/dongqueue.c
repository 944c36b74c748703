/*
 * dongqueue.c - each port's cancel-safe queue (IoCsq) and the worker system thread
 * that serves it.
 *
 * Dispatch routines only queue. One worker thread per port takes requests in arrival
 * order, so requests from every handle and thread are serialized on the port. A
 * request stays in the queue (cancellable by CancelIo, CloseHandle, IoCancelIrp)
 * while the worker waits to own the port; it leaves the queue only when the worker
 * is about to serve it. The queue lock guards PendingList, PendingCount and Stopping;
 * it is held only for list updates (well under the 50 us budget at DISPATCH_LEVEL).
 */
#include "dongdrv.h"

#define DONG_CSQ_FROM(Csq) CONTAINING_RECORD((Csq), DONG_EXTENSION, Csq)

/*
 * DongCsqInsertIrp - queue Irp at the tail, unless the device is stopping.
 * IRQL: DISPATCH_LEVEL, queue lock held.
 * Returns STATUS_DEVICE_REMOVED when stopping (the caller completes the IRP).
 */
static NTSTATUS NTAPI DongCsqInsertIrp(PIO_CSQ Csq, PIRP Irp, PVOID InsertContext)
{
    PDONG_EXTENSION extension = DONG_CSQ_FROM(Csq);

    UNREFERENCED_PARAMETER(InsertContext);
    if (extension->Stopping) {
        return STATUS_DEVICE_REMOVED;
    }
    InsertTailList(&extension->PendingList, &Irp->Tail.Overlay.ListEntry);
    extension->PendingCount++;
    return STATUS_SUCCESS;
}

/*
 * DongCsqRemoveIrp - take Irp out of the queue.
 * IRQL: DISPATCH_LEVEL, queue lock held.
 */
static VOID NTAPI DongCsqRemoveIrp(PIO_CSQ Csq, PIRP Irp)
{
    PDONG_EXTENSION extension = DONG_CSQ_FROM(Csq);

    RemoveEntryList(&Irp->Tail.Overlay.ListEntry);
    extension->PendingCount--;
}

/*
 * DongCsqPeekNextIrp - the first queued IRP after Irp (from the head when Irp is
 * NULL) that was sent through file object PeekContext (any file when NULL).
 * IRQL: DISPATCH_LEVEL, queue lock held.
 */
static PIRP NTAPI DongCsqPeekNextIrp(PIO_CSQ Csq, PIRP Irp, PVOID PeekContext)
{
    PDONG_EXTENSION extension = DONG_CSQ_FROM(Csq);
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
 * DongCsqAcquireLock / DongCsqReleaseLock - the queue lock.
 * IRQL: acquire raises to DISPATCH_LEVEL; release restores Irql.
 */
static VOID NTAPI DongCsqAcquireLock(PIO_CSQ Csq, PKIRQL Irql)
{
    KeAcquireSpinLock(&DONG_CSQ_FROM(Csq)->QueueLock, Irql);
}

static VOID NTAPI DongCsqReleaseLock(PIO_CSQ Csq, KIRQL Irql)
{
    KeReleaseSpinLock(&DONG_CSQ_FROM(Csq)->QueueLock, Irql);
}

/*
 * DongCsqCompleteCanceledIrp - a queued request was cancelled: complete it, and wake
 * the worker, which may be waiting for the port only for this request.
 * IRQL: <= DISPATCH_LEVEL.
 */
static VOID NTAPI DongCsqCompleteCanceledIrp(PIO_CSQ Csq, PIRP Irp)
{
    DongCompleteRequest(Irp, STATUS_CANCELLED, 0);
    DongWakeWorker(DONG_CSQ_FROM(Csq));
}

/*
 * DongInitializeQueue - empty queue, worker not started.
 * IRQL: PASSIVE_LEVEL.
 */
VOID DongInitializeQueue(PDONG_EXTENSION Extension)
{
    KeInitializeSpinLock(&Extension->QueueLock);
    InitializeListHead(&Extension->PendingList);
    KeInitializeEvent(&Extension->WakeEvent, SynchronizationEvent, FALSE);
    KeInitializeEvent(&Extension->PassEvent, NotificationEvent, FALSE);
    IoCsqInitializeEx(&Extension->Csq, DongCsqInsertIrp, DongCsqRemoveIrp, DongCsqPeekNextIrp,
                      DongCsqAcquireLock, DongCsqReleaseLock, DongCsqCompleteCanceledIrp);
}

/*
 * DongWakeWorker - make the worker look at its queue and open count again.
 * IRQL: <= DISPATCH_LEVEL.
 */
VOID DongWakeWorker(PDONG_EXTENSION Extension)
{
    KeSetEvent(&Extension->WakeEvent, IO_NO_INCREMENT, FALSE);
}

/*
 * DongQueueRequest - hand Irp to the worker.
 * IRQL: <= DISPATCH_LEVEL.
 * Returns STATUS_PENDING (queued and marked pending), or completes Irp with
 * STATUS_DEVICE_REMOVED when the device is stopping and returns that.
 */
NTSTATUS DongQueueRequest(PDONG_EXTENSION Extension, PIRP Irp)
{
    NTSTATUS status = IoCsqInsertIrpEx(&Extension->Csq, Irp, NULL, NULL);

    if (!NT_SUCCESS(status)) {
        return DongCompleteRequest(Irp, status, 0);
    }
    DongWakeWorker(Extension);
    return STATUS_PENDING;
}

/*
 * DongCancelFileRequests - IRP_MJ_CLEANUP: every request of FileObject still in the
 * queue completes with STATUS_CANCELLED. The one the worker is serving finishes
 * normally (within the link timeouts).
 * IRQL: PASSIVE_LEVEL.
 */
VOID DongCancelFileRequests(PDONG_EXTENSION Extension, PFILE_OBJECT FileObject)
{
    PIRP irp;

    while ((irp = IoCsqRemoveNextIrp(&Extension->Csq, FileObject)) != NULL) {
        DongCompleteRequest(irp, STATUS_CANCELLED, 0);
    }
    DongWakeWorker(Extension);
}

/*
 * DongPeekHead - is there a queued request, and does the oldest one need the port?
 * IRQL: <= DISPATCH_LEVEL.
 */
static BOOLEAN DongPeekHead(PDONG_EXTENSION Extension, PBOOLEAN NeedsPort)
{
    KIRQL irql;
    BOOLEAN queued;

    KeAcquireSpinLock(&Extension->QueueLock, &irql);
    queued = !Extension->Stopping && !IsListEmpty(&Extension->PendingList);
    *NeedsPort = queued && DongRequestNeedsPort(
        CONTAINING_RECORD(Extension->PendingList.Flink, IRP, Tail.Overlay.ListEntry));
    KeReleaseSpinLock(&Extension->QueueLock, irql);
    return queued;
}

/*
 * DongWorkerWantsPort - is there still a reason to own the port: a queued request
 * that needs it, or (AllocatePerOpen) an open handle?
 * IRQL: <= DISPATCH_LEVEL.
 */
BOOLEAN DongWorkerWantsPort(PDONG_EXTENSION Extension)
{
    BOOLEAN needsPort;

    if (DongPeekHead(Extension, &needsPort) && needsPort) {
        return TRUE;
    }
    return Extension->AllocatePerOpen && !Extension->Stopping && Extension->OpenCount > 0;
}

/*
 * DongKeepPortForNext - per-request policy: keep the port (and the key session) for
 * the next queued request only when it needs the port and no other parport client
 * is waiting for it; a waiting ALLOCATE always gets the port between two requests.
 * IRQL: PASSIVE_LEVEL, worker thread, port owned.
 */
static BOOLEAN DongKeepPortForNext(PDONG_EXTENSION Extension)
{
    BOOLEAN needsPort;

    return DongPeekHead(Extension, &needsPort) && needsPort &&
           Extension->PortInfo.QueryNumWaiters(Extension->PortInfo.Context) == 0;
}

/*
 * DongPortWaitMs - the current Timeouts.PortWaitMs.
 * IRQL: <= DISPATCH_LEVEL.
 */
static ULONG DongPortWaitMs(PDONG_EXTENSION Extension)
{
    DONG_TIMEOUTS timeouts;

    DongGetTimeouts(Extension, &timeouts);
    return timeouts.PortWaitMs;
}

/*
 * DongLogPortBusy - the port did not come within PortWaitMs.
 * IRQL: PASSIVE_LEVEL.
 */
static VOID DongLogPortBusy(PDONG_EXTENSION Extension, ULONG WaitMs, UCHAR MajorFunction)
{
    WCHAR text[12];
    PCWSTR strings[1];

    strings[0] = DongFormatUlong(WaitMs, 10, text, sizeof(text));
    DongLogEvent(Extension->DeviceObject, Extension->ErrorLogLevel, DONG_MSG_PORT_BUSY, STATUS_DEVICE_BUSY,
                 MajorFunction, 2, strings, 1);
}

/*
 * DongServeQueue - serve queued requests until the queue is empty. The port is
 * taken before a request that needs it leaves the queue, and (per-request policy)
 * given back after it unless the next request follows at once and nobody else
 * waits for the port, so another parport client can use the port between our
 * requests. Under AllocatePerOpen the port is kept while a handle is open.
 * IRQL: PASSIVE_LEVEL, worker thread.
 */
static VOID DongServeQueue(PDONG_EXTENSION Extension)
{
    BOOLEAN needsPort;
    NTSTATUS portStatus;
    ULONG waitMs = 0;
    PIRP irp;

    for (;;) {
        if (!DongPeekHead(Extension, &needsPort)) {
            /* Nothing queued: under AllocatePerOpen an open handle still wants the
               port. A failure is logged once; the next request tries again. */
            if (Extension->AllocatePerOpen && !Extension->PortOwned && DongWorkerWantsPort(Extension)) {
                waitMs = DongPortWaitMs(Extension);
                portStatus = DongAcquirePort(Extension, waitMs);
                if (portStatus == STATUS_DEVICE_BUSY) {
                    DongLogPortBusy(Extension, waitMs, IRP_MJ_CREATE);
                } else if (NT_SUCCESS(portStatus) || portStatus == STATUS_CANCELLED) {
                    continue;   /* requests may have come while waiting */
                }
            }
            break;
        }
        portStatus = STATUS_SUCCESS;
        if (needsPort && !Extension->PortOwned) {
            waitMs = DongPortWaitMs(Extension);
            portStatus = DongAcquirePort(Extension, waitMs);
            if (portStatus == STATUS_CANCELLED) {
                continue;   /* the queue changed while waiting: look again */
            }
        }
        irp = IoCsqRemoveNextIrp(&Extension->Csq, NULL);
        if (irp == NULL) {
            continue;
        }
        if (DongRequestNeedsPort(irp) && !Extension->PortOwned) {
            if (NT_SUCCESS(portStatus)) {
                /* The head was cancelled between the peek and the removal, and this
                   request behind it needs the port: wait for it here. */
                waitMs = DongPortWaitMs(Extension);
                portStatus = DongAcquirePort(Extension, waitMs);
            }
            if (!Extension->PortOwned) {
                if (portStatus == STATUS_CANCELLED) {
                    portStatus = STATUS_DEVICE_BUSY;
                }
                if (portStatus == STATUS_DEVICE_BUSY) {
                    DongLogPortBusy(Extension, waitMs, IoGetCurrentIrpStackLocation(irp)->MajorFunction);
                }
                DongCompleteRequest(irp, portStatus, 0);
                continue;
            }
        }
        DongProcessRequest(Extension, irp);
        if (!Extension->AllocatePerOpen && !DongKeepPortForNext(Extension)) {
            DongReleasePort(Extension);
        }
    }
    if (Extension->PortOwned && !DongWorkerWantsPort(Extension)) {
        DongReleasePort(Extension);
    }
}

/*
 * DongSyncWithWorker - wake the worker and wait until it has made one whole pass
 * over its queue and open count after this call (so the last IRP_MJ_CLEANUP under
 * AllocatePerOpen returns with the port given back). Returns at once when the
 * worker has stopped.
 * IRQL: PASSIVE_LEVEL.
 */
VOID DongSyncWithWorker(PDONG_EXTENSION Extension)
{
    LONG target = InterlockedIncrement(&Extension->PassRequested);

    DongWakeWorker(Extension);
    for (;;) {
        KeClearEvent(&Extension->PassEvent);
        if (Extension->PassCompleted - target >= 0 || Extension->Stopping) {
            break;
        }
        KeWaitForSingleObject(&Extension->PassEvent, Executive, KernelMode, FALSE, NULL);
    }
}

/*
 * DongFinishPass - record that the pass which began when PassRequested was Seen is
 * over, and release the waiters of DongSyncWithWorker.
 * IRQL: PASSIVE_LEVEL, worker thread.
 */
static VOID DongFinishPass(PDONG_EXTENSION Extension, LONG Seen)
{
    InterlockedExchange(&Extension->PassCompleted, Seen);
    KeSetEvent(&Extension->PassEvent, IO_NO_INCREMENT, FALSE);
}

/*
 * DongWorkerThread - the port's worker: sleeps until woken, serves the queue; when
 * the device stops, fails what is still queued and gives the port back.
 * IRQL: PASSIVE_LEVEL (system thread).
 */
static VOID NTAPI DongWorkerThread(PVOID Context)
{
    PDONG_EXTENSION extension = (PDONG_EXTENSION)Context;
    PIRP irp;

    for (;;) {
        LONG seen;

        KeWaitForSingleObject(&extension->WakeEvent, Executive, KernelMode, FALSE, NULL);
        if (extension->Stopping) {
            break;
        }
        seen = extension->PassRequested;
        DongServeQueue(extension);
        DongFinishPass(extension, seen);
    }
    while ((irp = IoCsqRemoveNextIrp(&extension->Csq, NULL)) != NULL) {
        DongCompleteRequest(irp, STATUS_CANCELLED, 0);
    }
    DongReleasePort(extension);
    DongFinishPass(extension, extension->PassRequested);
    PsTerminateSystemThread(STATUS_SUCCESS);
}

/*
 * DongStartWorker - create the port's worker thread and keep a reference to it so
 * that DongStopWorker can wait for its end.
 * IRQL: PASSIVE_LEVEL.
 */
NTSTATUS DongStartWorker(PDONG_EXTENSION Extension)
{
    HANDLE handle;
    NTSTATUS status;

    status = PsCreateSystemThread(&handle, SYNCHRONIZE, NULL, NULL, NULL, DongWorkerThread, Extension);
    if (!NT_SUCCESS(status)) {
        return status;
    }
    status = ObReferenceObjectByHandle(handle, SYNCHRONIZE, *PsThreadType, KernelMode,
                                       &Extension->WorkerThread, NULL);
    ZwClose(handle);
    if (!NT_SUCCESS(status)) {
        /* Cannot wait for it: stop it and let it go on its own. */
        DongStopWorker(Extension);
    }
    return status;
}

/*
 * DongStopWorker - refuse new requests, let the worker finish the request it is
 * serving, fail the queued ones with STATUS_CANCELLED, free the port and wait for
 * the thread to end. Idempotent (IRP_MJ_SHUTDOWN, then DriverUnload).
 * IRQL: PASSIVE_LEVEL.
 */
VOID DongStopWorker(PDONG_EXTENSION Extension)
{
    KIRQL irql;

    KeAcquireSpinLock(&Extension->QueueLock, &irql);
    Extension->Stopping = TRUE;
    KeReleaseSpinLock(&Extension->QueueLock, irql);
    DongWakeWorker(Extension);

    if (Extension->WorkerThread != NULL) {
        KeWaitForSingleObject(Extension->WorkerThread, Executive, KernelMode, FALSE, NULL);
        ObDereferenceObject(Extension->WorkerThread);
        Extension->WorkerThread = NULL;
    }
}
