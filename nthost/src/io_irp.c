/*
 * io_irp.c — I/O request packets: allocation, IoCallDriver, IoCompleteRequest with
 * completion routines, cancellation and the cancel spin lock, and the tracking of
 * every IRP in flight that the verifier's checks rely on.
 *
 * Every IRP the I/O manager knows of has a record (allocated beside it, looked up by
 * the IRP's address) saying who owns it now: its creator, a driver (dispatched), or
 * IoCompleteRequest. The record lets the checks look at an IRP without touching freed
 * memory: a freed IRP stays in a quarantine, poisoned, for a while, so completing it
 * again is caught (MULTIPLE_IRP_COMPLETE_REQUESTS) instead of corrupting the heap.
 *
 * IRP memory comes from the C heap, not from pool: pool accounting is for drivers.
 */
#include <ntddk.h>
#include <stdlib.h>

#include "io_internal.h"
#include "ke_internal.h"

#define IOP_HASH_BUCKETS 256
/* Freed IRPs kept poisoned before their memory goes back to the heap. */
#define IOP_QUARANTINE 64
#define IOP_POISON 0xDD

typedef enum iop_irp_state {
    IOP_IRP_OWNED,      /* with its creator, or with a driver after MORE_PROCESSING_REQUIRED */
    IOP_IRP_DISPATCHED, /* handed to a driver by IoCallDriver and not completed */
    IOP_IRP_COMPLETING, /* inside IoCompleteRequest */
    IOP_IRP_FREED,      /* freed; memory quarantined */
} iop_irp_state;

typedef struct iop_irp_rec iop_irp_rec;
struct iop_irp_rec {
    iop_irp_rec *hash_next;
    LIST_ENTRY link;          /* every record, oldest first */
    PIRP irp;
    iop_irp_state state;
    BOOLEAN io_memory;        /* from IoAllocateIrp: the I/O manager frees the memory */
    BOOLEAN counted;          /* in iop_live_irps: allocated by the I/O manager, not freed */
    BOOLEAN threaded;         /* on the thread IRP list (Irp->ThreadListEntry) */
    LONG busy;                /* IoCallDriver/IoCompleteRequest frames using the IRP */
    ULONG64 pending_seen[2];  /* per stack location: SL_PENDING_RETURNED when completion passed */
    iop_final final;          /* what the final stage undoes */
};

static KSPIN_LOCK iop_lock;          /* records, the thread IRP list, the quarantine */
static KSPIN_LOCK iop_cancel_lock;   /* the cancel spin lock */
static iop_irp_rec *iop_hash[IOP_HASH_BUCKETS];
/* Valid (empty) from the start: a thread may exit before the I/O manager starts. */
static LIST_ENTRY iop_records = { &iop_records, &iop_records };
static LIST_ENTRY iop_thread_irps = { &iop_thread_irps, &iop_thread_irps };
static iop_irp_rec *iop_quarantine[IOP_QUARANTINE];
static ULONG iop_quarantine_next;
static size_t iop_live_irps;

static ULONG iop_hash_of(PIRP irp)
{
    ULONG_PTR p = (ULONG_PTR)irp;
    return (ULONG)((p >> 4) ^ (p >> 12)) % IOP_HASH_BUCKETS;
}

/* Lock held. */
static iop_irp_rec *iop_find(PIRP irp)
{
    for (iop_irp_rec *r = iop_hash[iop_hash_of(irp)]; r; r = r->hash_next)
        if (r->irp == irp)
            return r;
    return NULL;
}

/* Lock held. Forget a record (and free the IRP memory the I/O manager owns). */
static void iop_drop(iop_irp_rec *r)
{
    iop_irp_rec **pp = &iop_hash[iop_hash_of(r->irp)];
    while (*pp != r)
        pp = &(*pp)->hash_next;
    *pp = r->hash_next;
    RemoveEntryList(&r->link);
    if (r->counted)
        iop_live_irps--;
    if (r->io_memory && r->state == IOP_IRP_FREED)
        free(r->irp);
    free(r);
}

/* Lock held. A freed IRP whose last user left: poison and quarantine the I/O
 * manager's memory; a caller-allocated IRP is simply forgotten. */
static void iop_retire(iop_irp_rec *r)
{
    if (!r->io_memory) {
        iop_drop(r);
        return;
    }
    memset(r->irp, IOP_POISON, r->irp->Size);
    iop_irp_rec *old = iop_quarantine[iop_quarantine_next];
    iop_quarantine[iop_quarantine_next] = r;
    iop_quarantine_next = (iop_quarantine_next + 1) % IOP_QUARANTINE;
    if (old)
        iop_drop(old);
}

static void iop_quarantine_remove(iop_irp_rec *r)
{
    for (ULONG i = 0; i < IOP_QUARANTINE; i++)
        if (iop_quarantine[i] == r)
            iop_quarantine[i] = NULL;
}

/*
 * Lock held. Start tracking `irp`; a stale record at the same address (driver memory
 * that was freed and reused, or a quarantined IRP) is dropped first.
 */
static iop_irp_rec *iop_track(PIRP irp, BOOLEAN io_memory)
{
    iop_irp_rec *stale = iop_find(irp);
    if (stale) {
        iop_quarantine_remove(stale);
        if (stale->threaded)
            RemoveEntryList(&irp->ThreadListEntry);
        stale->io_memory = FALSE; /* the memory is being reused, never free it here */
        iop_drop(stale);
    }
    iop_irp_rec *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->irp = irp;
    r->io_memory = io_memory;
    r->state = IOP_IRP_OWNED;
    r->hash_next = iop_hash[iop_hash_of(irp)];
    iop_hash[iop_hash_of(irp)] = r;
    InsertTailList(&iop_records, &r->link);
    /* Only the I/O manager's IRPs count as outstanding: an IRP in a driver's own
     * memory (IoInitializeIrp) is given back with that memory, which nthost never sees. */
    r->counted = io_memory;
    if (r->counted)
        iop_live_irps++;
    return r;
}

static void iop_init_packet(PIRP Irp, USHORT PacketSize, CCHAR StackSize)
{
    memset(Irp, 0, PacketSize);
    Irp->Type = IO_TYPE_IRP;
    Irp->Size = PacketSize;
    Irp->StackCount = StackSize;
    Irp->CurrentLocation = (CHAR)(StackSize + 1);
    InitializeListHead(&Irp->ThreadListEntry);
    Irp->Tail.Overlay.CurrentStackLocation =
        (PIO_STACK_LOCATION)((PUCHAR)Irp + sizeof(IRP) + (size_t)StackSize * sizeof(IO_STACK_LOCATION));
}

/* IoAllocateIrp: an IRP with StackSize stack locations, none current yet. */
PIRP NTAPI IoAllocateIrp(CCHAR StackSize, BOOLEAN ChargeQuota)
{
    if (StackSize < 1)
        return NULL;
    USHORT size = IoSizeOfIrp(StackSize);
    PIRP irp = calloc(1, size);
    if (!irp)
        return NULL;
    iop_init_packet(irp, size, StackSize);
    irp->AllocationFlags = IRP_ALLOCATED_FIXED_SIZE | (ChargeQuota ? IRP_QUOTA_CHARGED : 0);
    KIRQL irql;
    KeAcquireSpinLock(&iop_lock, &irql);
    iop_irp_rec *r = iop_track(irp, TRUE);
    KeReleaseSpinLock(&iop_lock, irql);
    if (!r) {
        free(irp);
        return NULL;
    }
    return irp;
}

/* IoInitializeIrp: format caller-allocated memory as an IRP (never one from IoAllocateIrp). */
VOID NTAPI IoInitializeIrp(PIRP Irp, USHORT PacketSize, CCHAR StackSize)
{
    KIRQL irql;
    KeAcquireSpinLock(&iop_lock, &irql);
    iop_irp_rec *r = iop_find(Irp);
    BOOLEAN from_io = r && r->io_memory && r->state != IOP_IRP_FREED;
    KeReleaseSpinLock(&iop_lock, irql);
    if (from_io && IopVerifierEnabled())
        IOP_VERIFIER_STOP(IOP_VF_INIT_ALLOCATED_IRP, __builtin_return_address(0), Irp, 0, __builtin_return_address(0),
                          "IoInitializeIrp was given an IRP allocated by IoAllocateIrp (use IoReuseIrp)");
    iop_init_packet(Irp, PacketSize, StackSize);
    KeAcquireSpinLock(&iop_lock, &irql);
    iop_track(Irp, from_io);
    KeReleaseSpinLock(&iop_lock, irql);
}

/* IoReuseIrp: reinitialize an IRP for another request, keeping its allocation. */
VOID NTAPI IoReuseIrp(PIRP Irp, NTSTATUS Iostatus)
{
    UCHAR flags = Irp->AllocationFlags;
    KIRQL irql;
    iop_init_packet(Irp, Irp->Size, Irp->StackCount);
    Irp->AllocationFlags = flags;
    Irp->IoStatus.Status = Iostatus;
    KeAcquireSpinLock(&iop_lock, &irql);
    iop_irp_rec *r = iop_find(Irp);
    if (r) {
        r->state = IOP_IRP_OWNED;
        r->pending_seen[0] = r->pending_seen[1] = 0;
    }
    KeReleaseSpinLock(&iop_lock, irql);
}

/* IoFreeIrp: give back an IRP from IoAllocateIrp that nobody uses any more. */
VOID NTAPI IoFreeIrp(PIRP Irp)
{
    KIRQL irql;
    KeAcquireSpinLock(&iop_lock, &irql);
    iop_irp_rec *r = iop_find(Irp);
    if (!r || r->state == IOP_IRP_FREED) {
        KeReleaseSpinLock(&iop_lock, irql);
        IOP_VERIFIER_STOP(IOP_VF_FREE_NOT_IRP, Irp, 0, 0, __builtin_return_address(0),
                          "IoFreeIrp was given something that is not an allocated IRP (freed twice?)");
    }
    /* Freeing from a completion routine (then returning MORE_PROCESSING_REQUIRED) is
     * how a creator takes its IRP back; freeing one a driver still holds is not. */
    if (r->state == IOP_IRP_DISPATCHED) {
        KeReleaseSpinLock(&iop_lock, irql);
        IOP_VERIFIER_STOP(IOP_VF_FREE_IRP_IN_USE, __builtin_return_address(0), Irp, 0, __builtin_return_address(0),
                          "IoFreeIrp was given an IRP that a driver still holds");
    }
    if (r->threaded) {
        KeReleaseSpinLock(&iop_lock, irql);
        IOP_VERIFIER_STOP(IOP_VF_FREE_THREADED_IRP, Irp, 0, 0, __builtin_return_address(0),
                          "IoFreeIrp was given an IRP still queued to a thread");
    }
    r->state = IOP_IRP_FREED;
    if (r->counted)
        iop_live_irps--;
    r->counted = FALSE;
    if (r->busy == 0)
        iop_retire(r);
    KeReleaseSpinLock(&iop_lock, irql);
}

size_t nthost_irps_outstanding(void)
{
    if (!KiIsInitialized())
        return iop_live_irps; /* not booted: no kernel to lock with, nothing changes it */
    KIRQL irql;
    KeAcquireSpinLock(&iop_lock, &irql);
    size_t n = iop_live_irps;
    KeReleaseSpinLock(&iop_lock, irql);
    return n;
}

/* IopIrpFinal: where the final stage of `irp` must copy back and what it must release. */
iop_final *IopIrpFinal(PIRP Irp)
{
    KIRQL irql;
    KeAcquireSpinLock(&iop_lock, &irql);
    iop_irp_rec *r = iop_find(Irp);
    KeReleaseSpinLock(&iop_lock, irql);
    return r ? &r->final : NULL;
}

/* IopQueueThreadIrp: associate the IRP with the current thread (CancelIo, thread exit). */
VOID IopQueueThreadIrp(PIRP Irp)
{
    KIRQL irql;
    Irp->Tail.Overlay.Thread = PsGetCurrentThread();
    KeAcquireSpinLock(&iop_lock, &irql);
    iop_irp_rec *r = iop_find(Irp);
    if (r && !r->threaded) {
        r->threaded = TRUE;
        InsertTailList(&iop_thread_irps, &Irp->ThreadListEntry);
    }
    KeReleaseSpinLock(&iop_lock, irql);
}

static void iop_dequeue_thread_irp(PIRP Irp)
{
    KIRQL irql;
    KeAcquireSpinLock(&iop_lock, &irql);
    iop_irp_rec *r = iop_find(Irp);
    if (r && r->threaded) {
        r->threaded = FALSE;
        RemoveEntryList(&Irp->ThreadListEntry);
        InitializeListHead(&Irp->ThreadListEntry);
    }
    KeReleaseSpinLock(&iop_lock, irql);
}

/* Does a threaded IRP match a CancelIo/CancelIoEx/rundown filter (NULL = any)? */
static BOOLEAN iop_irp_matches(PIRP irp, PETHREAD thread, PFILE_OBJECT file, PIO_STATUS_BLOCK iosb)
{
    return (!thread || irp->Tail.Overlay.Thread == thread) && (!file || irp->Tail.Overlay.OriginalFileObject == file) &&
           (!iosb || irp->UserIosb == iosb);
}

/*
 * IopCancelThreadIrps: IoCancelIrp on every threaded IRP issued by `thread`, on
 * `file`, for the request whose status block is `iosb` (each NULL = any). Returns
 * how many IRPs matched. IoCancelIrp runs without the tracking lock, so the list is
 * rescanned after each cancel.
 */
ULONG IopCancelThreadIrps(PETHREAD thread, PFILE_OBJECT file, PIO_STATUS_BLOCK iosb)
{
    ULONG matched = 0;
    PIRP done[64];
    ULONG ndone = 0;
    for (;;) {
        PIRP victim = NULL;
        iop_irp_rec *vr = NULL;
        KIRQL irql;
        KeAcquireSpinLock(&iop_lock, &irql);
        for (PLIST_ENTRY e = iop_thread_irps.Flink; e != &iop_thread_irps; e = e->Flink) {
            PIRP irp = CONTAINING_RECORD(e, IRP, ThreadListEntry);
            if (!iop_irp_matches(irp, thread, file, iosb))
                continue;
            BOOLEAN seen = FALSE;
            for (ULONG i = 0; i < ndone; i++)
                seen |= done[i] == irp;
            if (seen || irp->Cancel)
                continue;
            victim = irp;
            /* Keep its memory while the lock is dropped: another thread may complete
             * and free the IRP before IoCancelIrp gets to it. */
            vr = iop_find(irp);
            if (vr)
                vr->busy++;
            break;
        }
        KeReleaseSpinLock(&iop_lock, irql);
        if (!victim)
            break;
        matched++;
        if (ndone < RTL_NUMBER_OF(done))
            done[ndone++] = victim;
        IoCancelIrp(victim);
        KeAcquireSpinLock(&iop_lock, &irql);
        if (vr && --vr->busy == 0 && vr->state == IOP_IRP_FREED)
            iop_retire(vr);
        KeReleaseSpinLock(&iop_lock, irql);
    }
    return matched;
}

/* IopThreadIrpsPending: are threaded IRPs matching the filter still in flight? */
BOOLEAN IopThreadIrpsPending(PETHREAD thread, PFILE_OBJECT file, PIO_STATUS_BLOCK iosb)
{
    BOOLEAN any = FALSE;
    KIRQL irql;
    KeAcquireSpinLock(&iop_lock, &irql);
    for (PLIST_ENTRY e = iop_thread_irps.Flink; e != &iop_thread_irps && !any; e = e->Flink)
        any = iop_irp_matches(CONTAINING_RECORD(e, IRP, ThreadListEntry), thread, file, iosb);
    KeReleaseSpinLock(&iop_lock, irql);
    return any;
}

/*
 * IopDisassociateThreadIrps: after a thread exits with IRPs its drivers never
 * completed, those IRPs no longer belong to it (NT logs this and lets them go).
 */
VOID IopDisassociateThreadIrps(PETHREAD thread)
{
    KIRQL irql;
    KeAcquireSpinLock(&iop_lock, &irql);
    for (PLIST_ENTRY e = iop_thread_irps.Flink; e != &iop_thread_irps;) {
        PIRP irp = CONTAINING_RECORD(e, IRP, ThreadListEntry);
        e = e->Flink;
        if (irp->Tail.Overlay.Thread != thread)
            continue;
        iop_irp_rec *r = iop_find(irp);
        RemoveEntryList(&irp->ThreadListEntry);
        InitializeListHead(&irp->ThreadListEntry);
        irp->Tail.Overlay.Thread = NULL;
        if (r)
            r->threaded = FALSE;
    }
    KeReleaseSpinLock(&iop_lock, irql);
}

/*
 * IopCountDriverIrps: IRPs a driver holds now (dispatched to one of its devices and
 * not completed) — the verifier's "unload with pending IRPs" check.
 */
ULONG IopCountDriverIrps(PDRIVER_OBJECT DriverObject)
{
    ULONG n = 0;
    KIRQL irql;
    KeAcquireSpinLock(&iop_lock, &irql);
    for (PLIST_ENTRY e = iop_records.Flink; e != &iop_records; e = e->Flink) {
        iop_irp_rec *r = CONTAINING_RECORD(e, iop_irp_rec, link);
        if (r->state != IOP_IRP_DISPATCHED)
            continue;
        PIRP irp = r->irp;
        if (irp->CurrentLocation < 1 || irp->CurrentLocation > irp->StackCount)
            continue;
        PDEVICE_OBJECT dev = IoGetCurrentIrpStackLocation(irp)->DeviceObject;
        if (dev && dev->DriverObject == DriverObject)
            n++;
    }
    KeReleaseSpinLock(&iop_lock, irql);
    return n;
}

/* ---- the cancel spin lock ------------------------------------------------------ */

/* The one system-wide cancel spin lock (raises to DISPATCH_LEVEL). */
VOID NTAPI IoAcquireCancelSpinLock(PKIRQL Irql)
{
    KeAcquireSpinLock(&iop_cancel_lock, Irql);
}

VOID NTAPI IoReleaseCancelSpinLock(KIRQL Irql)
{
    KeReleaseSpinLock(&iop_cancel_lock, Irql);
}

/*
 * IoCancelIrp: mark the IRP cancelled and, if it has a cancel routine, call it with
 * the cancel spin lock held (Irp->CancelIrql holds the IRQL to give back); the
 * routine must release the lock. Returns whether a cancel routine was called.
 */
BOOLEAN NTAPI IoCancelIrp(PIRP Irp)
{
    KIRQL irql, entry_irql = KeGetCurrentIrql();
    IoAcquireCancelSpinLock(&irql);
    Irp->Cancel = TRUE;
    PDRIVER_CANCEL routine = IoSetCancelRoutine(Irp, NULL);
    if (!routine) {
        IoReleaseCancelSpinLock(irql);
        return FALSE;
    }
    if (Irp->CurrentLocation > Irp->StackCount + 1) {
        IoReleaseCancelSpinLock(irql);
        VfBugCheck(CANCEL_STATE_IN_COMPLETED_IRP, (ULONG_PTR)Irp, (ULONG_PTR)routine, 0, 0,
                   (const void *)(ULONG_PTR)routine, NULL, "IoCancelIrp found a cancel routine in a completed IRP");
    }
    Irp->CancelIrql = irql;
    PDEVICE_OBJECT dev = Irp->CurrentLocation <= Irp->StackCount ? IoGetCurrentIrpStackLocation(Irp)->DeviceObject : NULL;
    routine(dev, Irp);
    if (KeGetCurrentIrql() != entry_irql)
        VfBugCheck(IRQL_UNEXPECTED_VALUE, ((ULONG_PTR)KeGetCurrentIrql() << 16) | ((ULONG_PTR)entry_irql << 8),
                   (ULONG_PTR)routine, (ULONG_PTR)Irp, 0, (const void *)(ULONG_PTR)routine, NULL,
                   "the cancel routine returned without releasing the cancel spin lock");
    return TRUE;
}

/* ---- IoCallDriver ----------------------------------------------------------------- */

/* The dispatch routine a driver object starts with for every major function. */
NTSTATUS NTAPI IopInvalidDeviceRequest(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    Irp->IoStatus.Status = STATUS_INVALID_DEVICE_REQUEST;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_INVALID_DEVICE_REQUEST;
}

/* Was SL_PENDING_RETURNED set at any location from `loc` down to the current one? */
static BOOLEAN iop_pending_marked(PIRP irp, iop_irp_rec *r, CHAR loc)
{
    for (CHAR l = loc; l >= 1; l--) {
        if (r->pending_seen[(UCHAR)l / 64] & (1ull << ((UCHAR)l % 64)))
            return TRUE;
        if (r->state != IOP_IRP_FREED && l >= irp->CurrentLocation && l <= irp->StackCount) {
            PIO_STACK_LOCATION sp = (PIO_STACK_LOCATION)((PUCHAR)irp + sizeof(IRP)) + (l - 1);
            if (sp->Control & SL_PENDING_RETURNED)
                return TRUE;
        }
    }
    return FALSE;
}

/*
 * IofCallDriver: make the next stack location current, note the device in it and
 * call the driver's dispatch routine for its major function.
 */
NTSTATUS FASTCALL IofCallDriver(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    KIRQL irql = KeGetCurrentIrql();
    if (irql > DISPATCH_LEVEL)
        IOP_VERIFIER_STOP(IOP_VF_CALL_ABOVE_DISPATCH, irql, 0, 0, __builtin_return_address(0),
                          "IoCallDriver was called above DISPATCH_LEVEL");
    KIRQL lk;
    KeAcquireSpinLock(&iop_lock, &lk);
    iop_irp_rec *r = iop_find(Irp);
    if (r && r->state != IOP_IRP_FREED) {
        r->busy++;
        r->state = IOP_IRP_DISPATCHED;
    }
    KeReleaseSpinLock(&iop_lock, lk);
    if (!r || r->state == IOP_IRP_FREED || Irp->Type != IO_TYPE_IRP)
        IOP_VERIFIER_STOP(IOP_VF_CALL_NOT_IRP, Irp, 0, 0, __builtin_return_address(0),
                          "IoCallDriver was given something that is not a live IRP");
    if (!DeviceObject || DeviceObject->Type != IO_TYPE_DEVICE)
        IOP_VERIFIER_STOP(IOP_VF_CALL_BAD_DEVICE, DeviceObject, 0, 0, __builtin_return_address(0),
                          "IoCallDriver was given an invalid device object");
    if (Irp->CancelRoutine && IopVerifierEnabled())
        IOP_VERIFIER_STOP(IOP_VF_CALL_WITH_CANCEL_ROUTINE, __builtin_return_address(0), Irp, DeviceObject,
                          __builtin_return_address(0), "IoCallDriver was given an IRP whose cancel routine is still set");

    Irp->CurrentLocation--;
    if (Irp->CurrentLocation <= 0)
        VfBugCheck(NO_MORE_IRP_STACK_LOCATIONS, (ULONG_PTR)Irp, 0, 0, 0, __builtin_return_address(0), NULL,
                   "IoCallDriver was given an IRP with no stack location left for the next driver");
    PIO_STACK_LOCATION sp = --Irp->Tail.Overlay.CurrentStackLocation;
    sp->DeviceObject = DeviceObject;
    CHAR loc = Irp->CurrentLocation;
    PDRIVER_DISPATCH dispatch = DeviceObject->DriverObject->MajorFunction[sp->MajorFunction];
    if (!dispatch)
        dispatch = IopInvalidDeviceRequest;

    NTSTATUS status = dispatch(DeviceObject, Irp);

    if (KeGetCurrentIrql() != irql)
        IOP_VERIFIER_STOP(IOP_VF_DISPATCH_IRQL_CHANGED, DeviceObject, irql, KeGetCurrentIrql(), dispatch,
                          "the dispatch routine returned at IRQL %u, it was called at %u", KeGetCurrentIrql(), irql);
    KeAcquireSpinLock(&iop_lock, &lk);
    BOOLEAN unmarked = status == STATUS_PENDING && !iop_pending_marked(Irp, r, loc);
    KeReleaseSpinLock(&iop_lock, lk);
    if (unmarked && IopVerifierEnabled())
        IOP_VERIFIER_STOP(IOP_VF_PENDING_NOT_MARKED, dispatch, Irp, DeviceObject, dispatch,
                          "the dispatch routine returned STATUS_PENDING without calling IoMarkIrpPending");
    KeAcquireSpinLock(&iop_lock, &lk);
    if (--r->busy == 0 && r->state == IOP_IRP_FREED)
        iop_retire(r);
    KeReleaseSpinLock(&iop_lock, lk);
    return status;
}

/* ---- IoCompleteRequest ------------------------------------------------------------ */

/*
 * The final stage of a completed IRP (what NT's IopCompleteRequest does in the
 * requesting thread): copy buffered output back (only IoStatus.Information bytes, and
 * only when the status is not an error), free the system buffer and the MDLs, store
 * the IO_STATUS_BLOCK and signal the event, then release the IRP.
 */
static void iop_final_stage(PIRP irp, iop_irp_rec *r, CCHAR boost)
{
    iop_final *f = &r->final;
    NTSTATUS status = irp->IoStatus.Status;
    PFILE_OBJECT fo = irp->Tail.Overlay.OriginalFileObject;

    if (irp->Flags & IRP_BUFFERED_IO) {
        if ((irp->Flags & IRP_INPUT_OPERATION) && !NT_ERROR(status) && irp->UserBuffer &&
            irp->AssociatedIrp.SystemBuffer) {
            ULONG_PTR n = irp->IoStatus.Information;
            /* Too large is a verifier stop at completion; without the verifier the
               copy stays inside the requester's buffer. */
            if (f->user_length_valid && n > f->user_length)
                n = f->user_length;
            memcpy(irp->UserBuffer, irp->AssociatedIrp.SystemBuffer, n);
        }
        if ((irp->Flags & IRP_DEALLOCATE_BUFFER) && irp->AssociatedIrp.SystemBuffer) {
            ExFreePool(irp->AssociatedIrp.SystemBuffer);
            irp->AssociatedIrp.SystemBuffer = NULL;
        }
    }
    for (PMDL mdl = irp->MdlAddress, next; mdl; mdl = next) {
        next = mdl->Next;
        IoFreeMdl(mdl);
    }
    irp->MdlAddress = NULL;

    /* NT leaves an overlapped caller's IOSB and event alone when the request failed
     * without pending: the caller got the error directly. */
    BOOLEAN report = !(f->win32_async && NT_ERROR(status) && !irp->PendingReturned);
    if (report && fo && (fo->Flags & FO_SYNCHRONOUS_IO) && NT_SUCCESS(status) && f->advance_offset)
        fo->CurrentByteOffset.QuadPart += (LONGLONG)irp->IoStatus.Information;
    if (report && irp->UserIosb)
        *irp->UserIosb = irp->IoStatus;
    iop_dequeue_thread_irp(irp);
    /* Drop the request's file reference before waking the requester: the requester's
     * own handle then keeps the file object alive, so the close IRP it may trigger
     * runs in the requester's CloseHandle, not here (possibly at DISPATCH_LEVEL). */
    /* A file object whose handles are all closed goes with the request's reference:
     * it is then neither read nor signalled (nobody can wait on it). */
    LONG_PTR fo_refs = 1;
    if (f->file_ref) {
        LONG_PTR left = ObDereferenceObject(f->file_ref);
        if (f->file_ref == fo)
            fo_refs = left;
    }
    PKEVENT ev_ref = f->event_ref;
    PKEVENT user_event = report ? irp->UserEvent : NULL;
    BOOLEAN signal_file = report && fo && fo_refs != 0 && (!user_event || (fo->Flags & FO_SYNCHRONOUS_IO));
    /* Back with the I/O manager, which releases its own IRPs before the requester is
     * woken: on NT the requester's own completion APC frees the IRP before its call
     * returns, so a requester never finds its finished request still allocated. */
    KIRQL lk;
    KeAcquireSpinLock(&iop_lock, &lk);
    r->state = IOP_IRP_OWNED;
    KeReleaseSpinLock(&iop_lock, lk);
    if (r->io_memory)
        IoFreeIrp(irp);
    /* The file object is the event of requests without one, and of every request
     * on a synchronous file object (a wait on its handle sees them end). It is
     * signalled first: once the requester is woken it may close its handle and
     * free the file object, so nothing here reads it after a KeSetEvent. */
    if (signal_file) {
        fo->FinalStatus = status;
        KeSetEvent(&fo->Event, boost, FALSE);
    }
    if (user_event)
        KeSetEvent(user_event, boost, FALSE);
    if (ev_ref)
        ObDereferenceObject(ev_ref);
}

/*
 * The I/O manager copies IoStatus.Information bytes of a buffered request's system
 * buffer back to the requester unless the status is an error: more than the
 * requester's buffer holds is a driver bug (a size reported with a warning such as
 * STATUS_BUFFER_OVERFLOW is the usual one). Without the verifier the final stage
 * clamps the copy; with it, the machine stops here, naming the completing driver.
 */
static void iop_check_information(PIRP irp, iop_irp_rec *r, const void *caller)
{
    const iop_final *f = &r->final;

    if ((irp->Flags & (IRP_BUFFERED_IO | IRP_INPUT_OPERATION)) != (IRP_BUFFERED_IO | IRP_INPUT_OPERATION) ||
        !f->user_length_valid || NT_ERROR(irp->IoStatus.Status) || irp->IoStatus.Information <= f->user_length)
        return;
    VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VF_IO_INFORMATION_EXCEEDS_BUFFER, (ULONG_PTR)irp,
               irp->IoStatus.Information, f->user_length, caller, NULL,
               "IoCompleteRequest: IoStatus.Information (%lu) is larger than the requester's buffer (%lu bytes)",
               (unsigned long)irp->IoStatus.Information, (unsigned long)f->user_length);
}

/*
 * IofCompleteRequest: the driver is done with the IRP. Unwind the stack locations
 * bottom-up, calling each completion routine whose invoke-on condition holds (with
 * the device object of the location that set it), propagating PendingReturned, and
 * stop when a routine returns STATUS_MORE_PROCESSING_REQUIRED; then the final stage.
 */
VOID FASTCALL IofCompleteRequest(PIRP Irp, CCHAR PriorityBoost)
{
    KIRQL lk;
    if (KeGetCurrentIrql() > DISPATCH_LEVEL)
        IOP_VERIFIER_STOP(IOP_VF_COMPLETE_ABOVE_DISPATCH, KeGetCurrentIrql(), Irp, 0, __builtin_return_address(0),
                          "IoCompleteRequest was called above DISPATCH_LEVEL");
    KeAcquireSpinLock(&iop_lock, &lk);
    iop_irp_rec *r = iop_find(Irp);
    BOOLEAN twice = !r || r->state == IOP_IRP_FREED || r->state == IOP_IRP_COMPLETING;
    if (!twice)
        r->busy++;
    KeReleaseSpinLock(&iop_lock, lk);
    if (twice || Irp->Type != IO_TYPE_IRP || Irp->CurrentLocation > Irp->StackCount + 1)
        VfBugCheck(MULTIPLE_IRP_COMPLETE_REQUESTS, (ULONG_PTR)Irp, 0, 0, 0, __builtin_return_address(0), NULL,
                   "IoCompleteRequest was called for an IRP that was already completed");
    if (IopVerifierEnabled()) {
        const void *caller = __builtin_return_address(0);
        if (Irp->IoStatus.Status == STATUS_PENDING || Irp->IoStatus.Status == (NTSTATUS)-1)
            IOP_VERIFIER_STOP(IOP_VF_COMPLETE_PENDING, (ULONG)Irp->IoStatus.Status, Irp, 0, caller,
                              "IoCompleteRequest was called with IoStatus.Status = STATUS_PENDING");
        if (Irp->CancelRoutine)
            IOP_VERIFIER_STOP(IOP_VF_COMPLETE_WITH_CANCEL_ROUTINE, Irp->CancelRoutine, Irp, 0, caller,
                              "IoCompleteRequest was called while the IRP's cancel routine was still set");
        iop_check_information(Irp, r, caller);
    }
    r->state = IOP_IRP_COMPLETING;

    while (Irp->CurrentLocation <= Irp->StackCount) {
        PIO_STACK_LOCATION sp = Irp->Tail.Overlay.CurrentStackLocation;
        UCHAR control = sp->Control;
        PIO_COMPLETION_ROUTINE routine = sp->CompletionRoutine;
        PVOID context = sp->Context;
        if (control & SL_PENDING_RETURNED)
            r->pending_seen[(UCHAR)Irp->CurrentLocation / 64] |= 1ull << ((UCHAR)Irp->CurrentLocation % 64);
        Irp->CurrentLocation++;
        Irp->Tail.Overlay.CurrentStackLocation++;
        Irp->PendingReturned = (control & SL_PENDING_RETURNED) != 0;
        sp->Control = 0;
        sp->CompletionRoutine = NULL;
        sp->Context = NULL;
        NTSTATUS st = Irp->IoStatus.Status;
        BOOLEAN invoke = routine && ((NT_SUCCESS(st) && (control & SL_INVOKE_ON_SUCCESS)) ||
                                     (!NT_SUCCESS(st) && (control & SL_INVOKE_ON_ERROR)) ||
                                     (Irp->Cancel && (control & SL_INVOKE_ON_CANCEL)));
        if (!invoke) {
            if (Irp->PendingReturned && Irp->CurrentLocation <= Irp->StackCount)
                IoMarkIrpPending(Irp);
            continue;
        }
        PDEVICE_OBJECT dev =
            Irp->CurrentLocation <= Irp->StackCount ? IoGetCurrentIrpStackLocation(Irp)->DeviceObject : NULL;
        if (routine(dev, Irp, context) == STATUS_MORE_PROCESSING_REQUIRED) {
            KeAcquireSpinLock(&iop_lock, &lk);
            if (r->state == IOP_IRP_COMPLETING)
                r->state = IOP_IRP_OWNED;
            if (--r->busy == 0 && r->state == IOP_IRP_FREED)
                iop_retire(r);
            KeReleaseSpinLock(&iop_lock, lk);
            return;
        }
    }

    iop_final_stage(Irp, r, PriorityBoost);
    KeAcquireSpinLock(&iop_lock, &lk);
    if (--r->busy == 0 && r->state == IOP_IRP_FREED)
        iop_retire(r);
    KeReleaseSpinLock(&iop_lock, lk);
}

/* ---- MDLs ------------------------------------------------------------------------- */

/*
 * IoAllocateMdl: describe a buffer. nthost maps every buffer, so the MDL's system
 * address is the buffer itself; with an IRP, the MDL becomes its MdlAddress (or is
 * chained after it when SecondaryBuffer).
 */
PMDL NTAPI IoAllocateMdl(PVOID VirtualAddress, ULONG Length, BOOLEAN SecondaryBuffer, BOOLEAN ChargeQuota, PIRP Irp)
{
    UNREFERENCED_PARAMETER(ChargeQuota);
    PMDL mdl = calloc(1, sizeof(*mdl));
    if (!mdl)
        return NULL;
    mdl->Size = (CSHORT)sizeof(*mdl);
    mdl->StartVa = (PVOID)((ULONG_PTR)VirtualAddress & ~(ULONG_PTR)(PAGE_SIZE - 1));
    mdl->ByteOffset = (ULONG)((ULONG_PTR)VirtualAddress & (PAGE_SIZE - 1));
    mdl->ByteCount = Length;
    mdl->MappedSystemVa = VirtualAddress;
    mdl->MdlFlags = MDL_MAPPED_TO_SYSTEM_VA | MDL_PAGES_LOCKED;
    if (Irp) {
        if (SecondaryBuffer && Irp->MdlAddress) {
            PMDL last = Irp->MdlAddress;
            while (last->Next)
                last = last->Next;
            last->Next = mdl;
        } else {
            Irp->MdlAddress = mdl;
        }
    }
    return mdl;
}

/* IoFreeMdl: free an MDL from IoAllocateMdl (the buffer it describes stays). */
VOID NTAPI IoFreeMdl(PMDL Mdl)
{
    free(Mdl);
}

/* ---- lifetime ----------------------------------------------------------------------- */

VOID IopIrpInitialize(void)
{
    KeInitializeSpinLock(&iop_lock);
    KeInitializeSpinLock(&iop_cancel_lock);
    InitializeListHead(&iop_records);
    InitializeListHead(&iop_thread_irps);
    memset(iop_hash, 0, sizeof(iop_hash));
    memset(iop_quarantine, 0, sizeof(iop_quarantine));
    iop_quarantine_next = 0;
    iop_live_irps = 0;
}

/* Free every record and the IRP memory the I/O manager owns: after every driver
 * is unloaded nothing can reach an IRP any more. */
VOID IopIrpTeardown(void)
{
    while (!IsListEmpty(&iop_records)) {
        iop_irp_rec *r = CONTAINING_RECORD(iop_records.Flink, iop_irp_rec, link);
        if (r->io_memory && r->state != IOP_IRP_FREED)
            r->state = IOP_IRP_FREED;
        iop_drop(r);
    }
    memset(iop_quarantine, 0, sizeof(iop_quarantine));
}
