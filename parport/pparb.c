/*
 * pparb.c - port arbitration: the allocation counter and the ALLOCATE wait queue.
 *
 * AllocCount: -1 free, 0 owned, N > 0 owned with N live waiters. Every change of the
 * counter and of WaitQueue happens under Extension->Lock, so TryAllocatePort, FreePort,
 * a queued ALLOCATE and a cancel see one consistent state. IRPs are completed only
 * after the lock is released. A waiter whose cancel routine has already been taken by
 * IoCancelIrp is no longer live: it leaves the queue (and the count) at once and its
 * cancel routine completes it; FreePort then hands the port to the next live waiter.
 */
#include "parport.h"

/*
 * PptRemoveWaiter - take Irp out of the wait queue and the counter.
 * IRQL: DISPATCH_LEVEL, Extension->Lock held.
 * The list entry is re-initialised so that a later cancel routine can tell that
 * the IRP has already left the queue.
 */
static VOID PptRemoveWaiter(PPPT_EXTENSION Extension, PIRP Irp)
{
    RemoveEntryList(&Irp->Tail.Overlay.ListEntry);
    InitializeListHead(&Irp->Tail.Overlay.ListEntry);
    Extension->AllocCount--;
}

/*
 * PptTryAllocatePort - PARALLEL_PORT_INFORMATION.TryAllocatePort: take the port if
 * it is free. Never waits and never queues.
 * IRQL: <= DISPATCH_LEVEL.
 * Returns TRUE when the caller now owns the port.
 */
BOOLEAN NTAPI PptTryAllocatePort(PVOID Context)
{
    PPPT_EXTENSION extension = (PPPT_EXTENSION)Context;
    KIRQL oldIrql;
    BOOLEAN allocated = FALSE;

    KeAcquireSpinLock(&extension->Lock, &oldIrql);
    if (extension->AllocCount == PPT_ALLOC_FREE) {
        extension->AllocCount = 0;
        allocated = TRUE;
    }
    KeReleaseSpinLock(&extension->Lock, oldIrql);
    return allocated;
}

/*
 * PptFreePort - PARALLEL_PORT_INFORMATION.FreePort: the owner gives the port back.
 * With live waiters the oldest one becomes the owner (its ALLOCATE completes with
 * STATUS_SUCCESS); otherwise the port is free.
 * IRQL: <= DISPATCH_LEVEL.
 */
VOID NTAPI PptFreePort(PVOID Context)
{
    PPPT_EXTENSION extension = (PPPT_EXTENSION)Context;
    KIRQL oldIrql;
    PIRP granted = NULL;

    KeAcquireSpinLock(&extension->Lock, &oldIrql);
    while (!IsListEmpty(&extension->WaitQueue)) {
        PIRP irp = CONTAINING_RECORD(extension->WaitQueue.Flink, IRP, Tail.Overlay.ListEntry);
        PptRemoveWaiter(extension, irp);
        if (IoSetCancelRoutine(irp, NULL) != NULL) {
            granted = irp;
            break;
        }
        /* Being cancelled: its cancel routine completes it; try the next waiter. */
    }
    if (granted == NULL) {
        ASSERT(extension->AllocCount == 0);
        extension->AllocCount = PPT_ALLOC_FREE;
    }
    KeReleaseSpinLock(&extension->Lock, oldIrql);

    if (granted != NULL) {
        granted->IoStatus.Status = STATUS_SUCCESS;
        granted->IoStatus.Information = 0;
        IoCompleteRequest(granted, IO_PARALLEL_INCREMENT);
    }
}

/*
 * PptQueryNumWaiters - PARALLEL_PORT_INFORMATION.QueryNumWaiters: how many ALLOCATE
 * requests wait for the port now.
 * IRQL: <= DISPATCH_LEVEL.
 */
ULONG NTAPI PptQueryNumWaiters(PVOID Context)
{
    PPPT_EXTENSION extension = (PPPT_EXTENSION)Context;
    KIRQL oldIrql;
    LONG count;

    KeAcquireSpinLock(&extension->Lock, &oldIrql);
    count = extension->AllocCount;
    KeReleaseSpinLock(&extension->Lock, oldIrql);
    return count > 0 ? (ULONG)count : 0;
}

/*
 * PptCancelAllocate - cancel routine of a waiting ALLOCATE request.
 * IRQL: DISPATCH_LEVEL, called with the cancel spin lock held; releases it first.
 * FreePort may have dequeued the IRP already (and found its cancel routine gone);
 * then only the completion is left to do here.
 */
static VOID NTAPI PptCancelAllocate(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PPPT_EXTENSION extension = (PPPT_EXTENSION)DeviceObject->DeviceExtension;
    KIRQL oldIrql;

    IoReleaseCancelSpinLock(Irp->CancelIrql);

    KeAcquireSpinLock(&extension->Lock, &oldIrql);
    if (!IsListEmpty(&Irp->Tail.Overlay.ListEntry)) {
        PptRemoveWaiter(extension, Irp);
    }
    KeReleaseSpinLock(&extension->Lock, oldIrql);

    Irp->IoStatus.Status = STATUS_CANCELLED;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
}

/*
 * PptQueueAllocate - IOCTL_INTERNAL_PARALLEL_PORT_ALLOCATE: own the port now, or
 * wait for it in arrival order.
 * IRQL: <= DISPATCH_LEVEL (dispatch routine).
 * Returns STATUS_SUCCESS (Irp left for the caller to complete), STATUS_CANCELLED (Irp
 * already cancelled; caller completes) or STATUS_PENDING (Irp queued and marked
 * pending; FreePort or the cancel routine completes it).
 */
NTSTATUS PptQueueAllocate(PPPT_EXTENSION Extension, PIRP Irp)
{
    KIRQL oldIrql;
    NTSTATUS status;

    KeAcquireSpinLock(&Extension->Lock, &oldIrql);
    if (Extension->AllocCount == PPT_ALLOC_FREE) {
        Extension->AllocCount = 0;
        status = STATUS_SUCCESS;
    } else {
        IoSetCancelRoutine(Irp, PptCancelAllocate);
        if (Irp->Cancel && IoSetCancelRoutine(Irp, NULL) != NULL) {
            status = STATUS_CANCELLED;
        } else {
            /* Even if IoCancelIrp has just taken the routine, it waits for this lock. */
            IoMarkIrpPending(Irp);
            InsertTailList(&Extension->WaitQueue, &Irp->Tail.Overlay.ListEntry);
            Extension->AllocCount++;
            status = STATUS_PENDING;
        }
    }
    KeReleaseSpinLock(&Extension->Lock, oldIrql);
    return status;
}

/*
 * PptCancelWaitersOfFile - IRP_MJ_CLEANUP: the waiting ALLOCATE requests sent through
 * FileObject end with STATUS_CANCELLED, as NT cancels a closing handle's requests.
 * IRQL: PASSIVE_LEVEL.
 */
VOID PptCancelWaitersOfFile(PPPT_EXTENSION Extension, PFILE_OBJECT FileObject)
{
    LIST_ENTRY cancelled;
    PLIST_ENTRY entry;
    KIRQL oldIrql;

    InitializeListHead(&cancelled);
    KeAcquireSpinLock(&Extension->Lock, &oldIrql);
    entry = Extension->WaitQueue.Flink;
    while (entry != &Extension->WaitQueue) {
        PIRP irp = CONTAINING_RECORD(entry, IRP, Tail.Overlay.ListEntry);
        entry = entry->Flink;
        if (IoGetCurrentIrpStackLocation(irp)->FileObject != FileObject) {
            continue;
        }
        if (IoSetCancelRoutine(irp, NULL) == NULL) {
            continue;   /* its cancel routine is already on the way */
        }
        PptRemoveWaiter(Extension, irp);
        InsertTailList(&cancelled, &irp->Tail.Overlay.ListEntry);
    }
    KeReleaseSpinLock(&Extension->Lock, oldIrql);

    while (!IsListEmpty(&cancelled)) {
        PIRP irp = CONTAINING_RECORD(RemoveHeadList(&cancelled), IRP, Tail.Overlay.ListEntry);
        irp->IoStatus.Status = STATUS_CANCELLED;
        irp->IoStatus.Information = 0;
        IoCompleteRequest(irp, IO_NO_INCREMENT);
    }
}
