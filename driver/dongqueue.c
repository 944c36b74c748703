/*
 * dongqueue.c - how each port's worker system thread serves its cancel-safe queue
 * (ddklib's KL_QUEUE).
 *
 * Dispatch routines only queue. One worker thread per port takes requests in arrival
 * order, so requests from every handle and thread are serialized on the port. A
 * request stays in the queue (cancellable by CancelIo, CloseHandle, IoCancelIrp)
 * while the worker waits to own the port; it leaves the queue only when the worker
 * is about to serve it.
 */
#include "dongdrv.h"

/*
 * DongInitializeQueue - empty queue, worker not started, no pass asked for.
 * IRQL: PASSIVE_LEVEL.
 */
VOID DongInitializeQueue(PDONG_EXTENSION Extension)
{
    KlInitializeQueue(&Extension->Queue);
    KeInitializeEvent(&Extension->PassEvent, NotificationEvent, FALSE);
}

/*
 * DongPeekHead - is there a queued request, and does the oldest one need the port?
 * IRQL: <= DISPATCH_LEVEL.
 */
static BOOLEAN DongPeekHead(PDONG_EXTENSION Extension, PBOOLEAN NeedsPort)
{
    KIRQL irql;
    BOOLEAN queued;

    KeAcquireSpinLock(&Extension->Queue.Lock, &irql);
    queued = !Extension->Queue.Stopping && !IsListEmpty(&Extension->Queue.PendingList);
    *NeedsPort = queued && DongRequestNeedsPort(
        CONTAINING_RECORD(Extension->Queue.PendingList.Flink, IRP, Tail.Overlay.ListEntry));
    KeReleaseSpinLock(&Extension->Queue.Lock, irql);
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
    return Extension->AllocatePerOpen && !Extension->Queue.Stopping && Extension->OpenCount > 0;
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
           Extension->Port.Info.QueryNumWaiters(Extension->Port.Info.Context) == 0;
}

/*
 * DongReleasePortAfterRequest - per-request policy, applied by DongProcessRequest
 * once a request is served and before it completes: give the port back (closing the
 * key session) unless DongKeepPortForNext says to keep it. Before, not after, the
 * completion: a caller whose request has completed must find the session closed and
 * the port back with parport, instead of racing its next request against the worker.
 * IRQL: PASSIVE_LEVEL, worker thread.
 */
VOID DongReleasePortAfterRequest(PDONG_EXTENSION Extension)
{
    if (!Extension->AllocatePerOpen && !DongKeepPortForNext(Extension)) {
        DongReleasePort(Extension);
    }
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
    WCHAR text[KL_NUMBER_CHARS];
    PCWSTR strings[1];

    strings[0] = KlFormatUlong(WaitMs, 10, text, sizeof(text));
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
        irp = KlNextRequest(&Extension->Queue);
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

    KlWakeWorker(&Extension->Queue);
    for (;;) {
        KeClearEvent(&Extension->PassEvent);
        if (Extension->PassCompleted - target >= 0 || Extension->Queue.Stopping) {
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

    for (;;) {
        LONG seen;

        KeWaitForSingleObject(&extension->Queue.WakeEvent, Executive, KernelMode, FALSE, NULL);
        if (extension->Queue.Stopping) {
            break;
        }
        seen = extension->PassRequested;
        DongServeQueue(extension);
        DongFinishPass(extension, seen);
    }
    KlCancelQueuedRequests(&extension->Queue);
    DongReleasePort(extension);
    DongFinishPass(extension, extension->PassRequested);
    PsTerminateSystemThread(STATUS_SUCCESS);
}

/*
 * DongStartWorker - start the port's worker thread. KlStopWorker ends it: the
 * request being served finishes (within the link timeouts), queued ones end with
 * STATUS_CANCELLED, and the port goes back with the key session closed.
 * IRQL: PASSIVE_LEVEL.
 */
NTSTATUS DongStartWorker(PDONG_EXTENSION Extension)
{
    return KlStartWorker(&Extension->Queue, DongWorkerThread, Extension);
}
