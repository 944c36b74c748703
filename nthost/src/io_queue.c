/*
 * io_queue.c — the two ways a driver queues IRPs with the I/O manager's help:
 * the device queue with StartIo (IoStartPacket / IoStartNextPacket[ByKey]) and
 * cancel-safe queues (IoCsq*).
 */
#include <ntddk.h>

#include "io_internal.h"

/* ---- StartIo ------------------------------------------------------------------------ */

/*
 * IoStartPacket: hand the IRP to StartIo now if the device is idle, else queue it
 * (by key when given). With a cancel routine, the IRP is cancellable while queued; an
 * IRP cancelled before it could be queued gets its cancel routine called at once.
 */
VOID NTAPI IoStartPacket(PDEVICE_OBJECT DeviceObject, PIRP Irp, PULONG Key, PDRIVER_CANCEL CancelFunction)
{
    KIRQL old, cancel_irql = PASSIVE_LEVEL;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    if (CancelFunction) {
        IoAcquireCancelSpinLock(&cancel_irql);
        Irp->CancelRoutine = CancelFunction;
    }
    BOOLEAN queued = Key ? KeInsertByKeyDeviceQueue(&DeviceObject->DeviceQueue, &Irp->Tail.Overlay.DeviceQueueEntry, *Key)
                         : KeInsertDeviceQueue(&DeviceObject->DeviceQueue, &Irp->Tail.Overlay.DeviceQueueEntry);
    if (!queued) {
        DeviceObject->CurrentIrp = Irp;
        if (CancelFunction)
            IoReleaseCancelSpinLock(cancel_irql);
        DeviceObject->DriverObject->DriverStartIo(DeviceObject, Irp);
    } else if (CancelFunction) {
        if (Irp->Cancel && IoSetCancelRoutine(Irp, NULL)) {
            /* Cancelled while being queued: the routine dequeues and completes it. */
            Irp->CancelIrql = cancel_irql;
            CancelFunction(DeviceObject, Irp);
        } else {
            IoReleaseCancelSpinLock(cancel_irql);
        }
    }
    KeLowerIrql(old);
}

static void iop_start_next(PDEVICE_OBJECT DeviceObject, BOOLEAN Cancelable, const ULONG *Key)
{
    KIRQL cancel_irql = PASSIVE_LEVEL;
    if (Cancelable)
        IoAcquireCancelSpinLock(&cancel_irql);
    DeviceObject->CurrentIrp = NULL;
    PKDEVICE_QUEUE_ENTRY e = Key ? KeRemoveByKeyDeviceQueue(&DeviceObject->DeviceQueue, *Key)
                                 : KeRemoveDeviceQueue(&DeviceObject->DeviceQueue);
    PIRP irp = e ? CONTAINING_RECORD(e, IRP, Tail.Overlay.DeviceQueueEntry) : NULL;
    DeviceObject->CurrentIrp = irp;
    if (Cancelable)
        IoReleaseCancelSpinLock(cancel_irql);
    if (irp)
        DeviceObject->DriverObject->DriverStartIo(DeviceObject, irp);
}

/* IoStartNextPacket: StartIo is done with CurrentIrp: start the next queued IRP. Called
 * at DISPATCH_LEVEL (from a DPC, typically). */
VOID NTAPI IoStartNextPacket(PDEVICE_OBJECT DeviceObject, BOOLEAN Cancelable)
{
    iop_start_next(DeviceObject, Cancelable, NULL);
}

/* IoStartNextPacketByKey: the same, taking the first IRP whose key is >= Key. */
VOID NTAPI IoStartNextPacketByKey(PDEVICE_OBJECT DeviceObject, BOOLEAN Cancelable, ULONG Key)
{
    iop_start_next(DeviceObject, Cancelable, &Key);
}

/* ---- cancel-safe queues ------------------------------------------------------------------ */

/*
 * Where an IRP in a CSQ keeps its queue: DriverContext[3] holds the IO_CSQ, or the
 * caller's IO_CSQ_IRP_CONTEXT (which points at the IO_CSQ); the Type field at the
 * start of both tells them apart.
 */
static PIO_CSQ iop_csq_of(PIRP Irp, PIO_CSQ_IRP_CONTEXT *ctx)
{
    PVOID p = Irp->Tail.Overlay.DriverContext[3];
    *ctx = NULL;
    if (p && *(ULONG *)p == IO_TYPE_CSQ_IRP_CONTEXT) {
        *ctx = p;
        return (*ctx)->Csq;
    }
    return p;
}

/* The cancel routine of every IRP in a CSQ. */
static VOID NTAPI iop_csq_cancel(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    IoReleaseCancelSpinLock(Irp->CancelIrql);
    PIO_CSQ_IRP_CONTEXT ctx;
    PIO_CSQ csq = iop_csq_of(Irp, &ctx);
    KIRQL irql;
    csq->CsqAcquireLock(csq, &irql);
    csq->CsqRemoveIrp(csq, Irp);
    if (ctx)
        ctx->Irp = NULL;
    Irp->Tail.Overlay.DriverContext[3] = NULL;
    csq->CsqReleaseLock(csq, irql);
    csq->CsqCompleteCanceledIrp(csq, Irp);
}

static NTSTATUS iop_csq_init(PIO_CSQ Csq, ULONG Type, PVOID Insert, PIO_CSQ_REMOVE_IRP Remove,
                             PIO_CSQ_PEEK_NEXT_IRP Peek, PIO_CSQ_ACQUIRE_LOCK Acquire, PIO_CSQ_RELEASE_LOCK Release,
                             PIO_CSQ_COMPLETE_CANCELED_IRP Complete)
{
    Csq->Type = Type;
    Csq->CsqInsertIrp = Type == IO_TYPE_CSQ ? (PIO_CSQ_INSERT_IRP)Insert : NULL;
    Csq->ReservePointer = Type == IO_TYPE_CSQ_EX ? Insert : NULL;
    Csq->CsqRemoveIrp = Remove;
    Csq->CsqPeekNextIrp = Peek;
    Csq->CsqAcquireLock = Acquire;
    Csq->CsqReleaseLock = Release;
    Csq->CsqCompleteCanceledIrp = Complete;
    return STATUS_SUCCESS;
}

/* IoCsqInitialize / IoCsqInitializeEx: set up a cancel-safe queue with the driver's
 * callbacks (the Ex insert routine may refuse an IRP). */
NTSTATUS NTAPI IoCsqInitialize(PIO_CSQ Csq, PIO_CSQ_INSERT_IRP CsqInsertIrp, PIO_CSQ_REMOVE_IRP CsqRemoveIrp,
                               PIO_CSQ_PEEK_NEXT_IRP CsqPeekNextIrp, PIO_CSQ_ACQUIRE_LOCK CsqAcquireLock,
                               PIO_CSQ_RELEASE_LOCK CsqReleaseLock,
                               PIO_CSQ_COMPLETE_CANCELED_IRP CsqCompleteCanceledIrp)
{
    return iop_csq_init(Csq, IO_TYPE_CSQ, (PVOID)(ULONG_PTR)CsqInsertIrp, CsqRemoveIrp, CsqPeekNextIrp,
                        CsqAcquireLock, CsqReleaseLock, CsqCompleteCanceledIrp);
}

NTSTATUS NTAPI IoCsqInitializeEx(PIO_CSQ Csq, PIO_CSQ_INSERT_IRP_EX CsqInsertIrp, PIO_CSQ_REMOVE_IRP CsqRemoveIrp,
                                 PIO_CSQ_PEEK_NEXT_IRP CsqPeekNextIrp, PIO_CSQ_ACQUIRE_LOCK CsqAcquireLock,
                                 PIO_CSQ_RELEASE_LOCK CsqReleaseLock,
                                 PIO_CSQ_COMPLETE_CANCELED_IRP CsqCompleteCanceledIrp)
{
    return iop_csq_init(Csq, IO_TYPE_CSQ_EX, (PVOID)(ULONG_PTR)CsqInsertIrp, CsqRemoveIrp, CsqPeekNextIrp,
                        CsqAcquireLock, CsqReleaseLock, CsqCompleteCanceledIrp);
}

/*
 * IoCsqInsertIrpEx: queue the IRP (the Ex insert routine may refuse it: its status is
 * returned and nothing is queued), mark it pending and make it cancellable; an IRP
 * already cancelled is taken out again and completed through CsqCompleteCanceledIrp.
 */
NTSTATUS NTAPI IoCsqInsertIrpEx(PIO_CSQ Csq, PIRP Irp, PIO_CSQ_IRP_CONTEXT Context, PVOID InsertContext)
{
    KIRQL irql;
    NTSTATUS st = STATUS_SUCCESS;
    Csq->CsqAcquireLock(Csq, &irql);
    if (Csq->Type == IO_TYPE_CSQ_EX) {
        st = ((PIO_CSQ_INSERT_IRP_EX)(ULONG_PTR)Csq->ReservePointer)(Csq, Irp, InsertContext);
        if (!NT_SUCCESS(st)) {
            Csq->CsqReleaseLock(Csq, irql);
            return st;
        }
    } else {
        Csq->CsqInsertIrp(Csq, Irp);
    }
    IoMarkIrpPending(Irp);
    if (Context) {
        Context->Type = IO_TYPE_CSQ_IRP_CONTEXT;
        Context->Irp = Irp;
        Context->Csq = Csq;
        Irp->Tail.Overlay.DriverContext[3] = Context;
    } else {
        Irp->Tail.Overlay.DriverContext[3] = Csq;
    }
    IoSetCancelRoutine(Irp, iop_csq_cancel);
    if (Irp->Cancel && IoSetCancelRoutine(Irp, NULL)) {
        Csq->CsqRemoveIrp(Csq, Irp);
        Irp->Tail.Overlay.DriverContext[3] = NULL;
        if (Context)
            Context->Irp = NULL;
        Csq->CsqReleaseLock(Csq, irql);
        Csq->CsqCompleteCanceledIrp(Csq, Irp);
        return st;
    }
    Csq->CsqReleaseLock(Csq, irql);
    return st;
}

/* IoCsqInsertIrp: IoCsqInsertIrpEx with the plain insert routine. */
VOID NTAPI IoCsqInsertIrp(PIO_CSQ Csq, PIRP Irp, PIO_CSQ_IRP_CONTEXT Context)
{
    IoCsqInsertIrpEx(Csq, Irp, Context, NULL);
}

/* Take the IRP out of the queue unless cancellation already owns it (lock held). */
static BOOLEAN iop_csq_take(PIO_CSQ Csq, PIRP Irp)
{
    if (!IoSetCancelRoutine(Irp, NULL))
        return FALSE;
    PIO_CSQ_IRP_CONTEXT ctx;
    iop_csq_of(Irp, &ctx);
    Csq->CsqRemoveIrp(Csq, Irp);
    if (ctx)
        ctx->Irp = NULL;
    Irp->Tail.Overlay.DriverContext[3] = NULL;
    return TRUE;
}

/* IoCsqRemoveIrp: the IRP the context was inserted with, or NULL if it was cancelled. */
PIRP NTAPI IoCsqRemoveIrp(PIO_CSQ Csq, PIO_CSQ_IRP_CONTEXT Context)
{
    KIRQL irql;
    Csq->CsqAcquireLock(Csq, &irql);
    PIRP irp = Context->Irp;
    if (irp && !iop_csq_take(Csq, irp))
        irp = NULL;
    Csq->CsqReleaseLock(Csq, irql);
    return irp;
}

/* IoCsqRemoveNextIrp: the first IRP (per CsqPeekNextIrp) that is not being cancelled. */
PIRP NTAPI IoCsqRemoveNextIrp(PIO_CSQ Csq, PVOID PeekContext)
{
    KIRQL irql;
    Csq->CsqAcquireLock(Csq, &irql);
    PIRP irp = Csq->CsqPeekNextIrp(Csq, NULL, PeekContext);
    while (irp && !iop_csq_take(Csq, irp))
        irp = Csq->CsqPeekNextIrp(Csq, irp, PeekContext);
    Csq->CsqReleaseLock(Csq, irql);
    return irp;
}
