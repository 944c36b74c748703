/*
 * ke_irql.c — IRQL, spin locks and DPCs on nthost's single processor.
 *
 * Raising IRQL only changes the running thread's IRQL: nothing preempts a thread at
 * DISPATCH_LEVEL or above, so on one processor acquiring a spin lock is raising to
 * DISPATCH_LEVEL. The lock word records its owner (the KTHREAD), which lets the
 * verifier catch a release of a lock not held; acquiring a lock the thread already
 * holds would spin forever on a multiprocessor and bugchecks here.
 *
 * Lowering IRQL is a delivery point (pending DPCs and interrupts of the new level run)
 * and, below DISPATCH_LEVEL, a preemption point.
 */
#include <stdio.h>

#include "ki.h"

/* Verifier: longest acceptable time at DISPATCH_LEVEL or above / holding a spin lock. */
#define KI_RAISED_WARN_NS SIM_US(50)

static void KipNoteRaised(PKTHREAD Thread, KIRQL Old, KIRQL New)
{
    if (Old < DISPATCH_LEVEL && New >= DISPATCH_LEVEL) {
        Thread->RaisedSince = Ki.Clock ? sim_now(Ki.Clock) : 0;
        Thread->RaisedWarned = FALSE;
    }
}

/* KipCheckRaisedTime: the 50 us rule, checked when the IRQL drops below
 * DISPATCH_LEVEL. Spin-lock releases report their own overruns first. */
static void KipCheckRaisedTime(PKTHREAD Thread, const void *Caller)
{
    if (!VfIsEnabled() || Ki.Clock == NULL || Thread->InDpc || Thread->RaisedWarned)
        return;
    sim_time_t held = sim_now(Ki.Clock) - Thread->RaisedSince;
    if (held > KI_RAISED_WARN_NS)
        VfWarning(Caller, "IRQL was at DISPATCH_LEVEL or above for %llu us of machine time (limit 50 us)",
                  (unsigned long long)(held / 1000u));
}

VOID KiSetIrql(PKTHREAD Thread, KIRQL NewIrql)
{
    KipNoteRaised(Thread, Thread->Irql, NewIrql);
    Thread->Irql = NewIrql;
}

KIRQL NTAPI KeGetCurrentIrql(VOID)
{
    return KiSelf ? KiSelf->Irql : PASSIVE_LEVEL;
}

KIRQL NTAPI KfRaiseIrql(KIRQL NewIrql)
{
    PKTHREAD self = KiRequireCurrentThread("KeRaiseIrql");
    KIRQL old = self->Irql;
    if (NewIrql < old || NewIrql > HIGH_LEVEL) {
        if (VfIsEnabled())
            VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VF_RAISE_IRQL_INVALID, old, NewIrql, 0,
                       __builtin_return_address(0), NULL,
                       "KeRaiseIrql to IRQL %u from the higher IRQL %u", NewIrql, old);
        VfBugCheck(IRQL_NOT_GREATER_OR_EQUAL, (ULONG_PTR)__builtin_return_address(0), old, NewIrql, 0,
                   __builtin_return_address(0), NULL, "KeRaiseIrql to IRQL %u from the higher IRQL %u",
                   NewIrql, old);
    }
    KiSetIrql(self, NewIrql);
    return old;
}

KIRQL NTAPI KeRaiseIrqlToDpcLevel(VOID)
{
    PKTHREAD self = KiRequireCurrentThread("KeRaiseIrqlToDpcLevel");
    KIRQL old = self->Irql;
    if (old > DISPATCH_LEVEL && VfIsEnabled())
        VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VF_RAISE_IRQL_INVALID, old, DISPATCH_LEVEL, 0,
                   __builtin_return_address(0), NULL, "KeRaiseIrqlToDpcLevel called at IRQL %u", old);
    KiSetIrql(self, DISPATCH_LEVEL);
    return old;
}

KIRQL NTAPI KeRaiseIrqlToSynchLevel(VOID)
{
    PKTHREAD self = KiRequireCurrentThread("KeRaiseIrqlToSynchLevel");
    KIRQL old = self->Irql;
    KiSetIrql(self, old > SYNCH_LEVEL ? old : SYNCH_LEVEL);
    return old;
}

/* KipLower: lower to NewIrql, apply the 50 us rule, then deliver and maybe preempt. */
static void KipLower(PKTHREAD Self, KIRQL NewIrql, const void *Caller)
{
    KIRQL old = Self->Irql;
    Self->Irql = NewIrql;
    if (old >= DISPATCH_LEVEL && NewIrql < DISPATCH_LEVEL)
        KipCheckRaisedTime(Self, Caller);
    if (NewIrql < old)
        KiPreemptionPoint();
}

VOID NTAPI KeLowerIrql(KIRQL NewIrql)
{
    PKTHREAD self = KiRequireCurrentThread("KeLowerIrql");
    if (NewIrql > self->Irql && VfIsEnabled())
        VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VF_LOWER_IRQL_INVALID, self->Irql, NewIrql, 0,
                   __builtin_return_address(0), NULL, "KeLowerIrql to IRQL %u from the lower IRQL %u", NewIrql,
                   self->Irql);
    KipLower(self, NewIrql, __builtin_return_address(0));
}

/* ---- Spin locks --------------------------------------------------------------------- */

VOID NTAPI KeInitializeSpinLock(PKSPIN_LOCK SpinLock)
{
    *SpinLock = 0;
}

BOOLEAN NTAPI KeTestSpinLock(PKSPIN_LOCK SpinLock)
{
    return *SpinLock == 0;
}

VOID KiAcquireSpinLockChecked(PKSPIN_LOCK Lock, const void *Caller)
{
    PKTHREAD self = KiSelf;
    if (*Lock == (ULONG_PTR)self)
        VfBugCheck(SPIN_LOCK_ALREADY_OWNED, (ULONG_PTR)Lock, 0, 0, 0, Caller, NULL,
                   "spin lock %p acquired again by the thread that holds it (deadlock on a "
                   "multiprocessor)",
                   (void *)Lock);
    if (*Lock != 0) {
        PKTHREAD owner = (PKTHREAD)*Lock;
        VfBugCheck(SPIN_LOCK_ALREADY_OWNED, (ULONG_PTR)Lock, (ULONG_PTR)owner, 0, 0, Caller, NULL,
                   "spin lock %p is held by thread \"%s\", which lowered its IRQL without releasing it",
                   (void *)Lock, owner->Name);
    }
    *Lock = (ULONG_PTR)self;
    if (self->SpinLocksHeld++ == 0)
        self->LockedSince = Ki.Clock ? sim_now(Ki.Clock) : 0;
}

VOID KiReleaseSpinLockChecked(PKSPIN_LOCK Lock, const void *Caller)
{
    PKTHREAD self = KiSelf;
    if (*Lock != (ULONG_PTR)self) {
        if (VfIsEnabled() || *Lock == 0)
            VfBugCheck(SPIN_LOCK_NOT_OWNED, (ULONG_PTR)Lock, *Lock, (ULONG_PTR)self, 0, Caller, NULL,
                       "spin lock %p released but %s", (void *)Lock,
                       *Lock == 0 ? "it was not held" : "another thread holds it");
    }
    *Lock = 0;
    if (self->SpinLocksHeld && --self->SpinLocksHeld == 0 && VfIsEnabled() && Ki.Clock && !self->InDpc) {
        sim_time_t held = sim_now(Ki.Clock) - self->LockedSince;
        if (held > KI_RAISED_WARN_NS) {
            VfWarning(Caller, "spin lock %p held for %llu us of machine time (limit 50 us)", (void *)Lock,
                      (unsigned long long)(held / 1000u));
            self->RaisedWarned = TRUE; /* one warning for this stretch at raised IRQL */
        }
    }
}

KIRQL NTAPI KeAcquireSpinLockRaiseToDpc(PKSPIN_LOCK SpinLock)
{
    PKTHREAD self = KiRequireCurrentThread("KeAcquireSpinLock");
    KIRQL old = self->Irql;
    if (old > DISPATCH_LEVEL && VfIsEnabled())
        VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VF_ACQUIRE_SPINLOCK_ABOVE_DISPATCH, old,
                   (ULONG_PTR)SpinLock, 0, __builtin_return_address(0), NULL,
                   "KeAcquireSpinLock called at IRQL %u (above DISPATCH_LEVEL)", old);
    KiSetIrql(self, DISPATCH_LEVEL);
    KiAcquireSpinLockChecked(SpinLock, __builtin_return_address(0));
    return old;
}

VOID NTAPI KeReleaseSpinLock(PKSPIN_LOCK SpinLock, KIRQL NewIrql)
{
    PKTHREAD self = KiRequireCurrentThread("KeReleaseSpinLock");
    if (self->Irql != DISPATCH_LEVEL && VfIsEnabled())
        VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VF_RELEASE_SPINLOCK_WRONG_IRQL, self->Irql,
                   (ULONG_PTR)SpinLock, 0, __builtin_return_address(0), NULL,
                   "KeReleaseSpinLock called at IRQL %u, not DISPATCH_LEVEL (released twice?)", self->Irql);
    KiReleaseSpinLockChecked(SpinLock, __builtin_return_address(0));
    KipLower(self, NewIrql, __builtin_return_address(0));
}

VOID NTAPI KeAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock)
{
    PKTHREAD self = KiRequireCurrentThread("KeAcquireSpinLockAtDpcLevel");
    if (self->Irql < DISPATCH_LEVEL && VfIsEnabled())
        VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VF_ACQUIRE_SPINLOCK_AT_DPC_BELOW_DISPATCH, self->Irql,
                   (ULONG_PTR)SpinLock, 0, __builtin_return_address(0), NULL,
                   "KeAcquireSpinLockAtDpcLevel called at IRQL %u (below DISPATCH_LEVEL)", self->Irql);
    KiAcquireSpinLockChecked(SpinLock, __builtin_return_address(0));
}

VOID NTAPI KeReleaseSpinLockFromDpcLevel(PKSPIN_LOCK SpinLock)
{
    PKTHREAD self = KiRequireCurrentThread("KeReleaseSpinLockFromDpcLevel");
    if (self->Irql < DISPATCH_LEVEL && VfIsEnabled())
        VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VF_RELEASE_SPINLOCK_FROM_DPC_BELOW_DISPATCH,
                   self->Irql, (ULONG_PTR)SpinLock, 0, __builtin_return_address(0), NULL,
                   "KeReleaseSpinLockFromDpcLevel called at IRQL %u (below DISPATCH_LEVEL)", self->Irql);
    KiReleaseSpinLockChecked(SpinLock, __builtin_return_address(0));
}

BOOLEAN NTAPI KeTryToAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock)
{
    PKTHREAD self = KiRequireCurrentThread("KeTryToAcquireSpinLockAtDpcLevel");
    if (*SpinLock != 0)
        return FALSE;
    *SpinLock = (ULONG_PTR)self;
    if (self->SpinLocksHeld++ == 0)
        self->LockedSince = Ki.Clock ? sim_now(Ki.Clock) : 0;
    return TRUE;
}

/* ---- DPCs ------------------------------------------------------------------------------ */

VOID NTAPI KeInitializeDpc(PRKDPC Dpc, PKDEFERRED_ROUTINE DeferredRoutine, PVOID DeferredContext)
{
    Dpc->Type = DpcObject;
    Dpc->Importance = MediumImportance;
    Dpc->Number = 0;
    Dpc->DeferredRoutine = DeferredRoutine;
    Dpc->DeferredContext = DeferredContext;
    Dpc->SystemArgument1 = Dpc->SystemArgument2 = NULL;
    Dpc->DpcData = NULL;
    InitializeListHead(&Dpc->DpcListEntry);
}

VOID NTAPI KeSetImportanceDpc(PRKDPC Dpc, KDPC_IMPORTANCE Importance)
{
    Dpc->Importance = (UCHAR)Importance;
}

/* KeInsertQueueDpc: queues the DPC unless it already is; below DISPATCH_LEVEL it runs
 * before this returns (as NT's DPC interrupt would fire on lowering IRQL). */
BOOLEAN NTAPI KeInsertQueueDpc(PRKDPC Dpc, PVOID SystemArgument1, PVOID SystemArgument2)
{
    PKTHREAD self = KiRequireCurrentThread("KeInsertQueueDpc");
    if (Dpc->DpcData != NULL)
        return FALSE;
    Dpc->SystemArgument1 = SystemArgument1;
    Dpc->SystemArgument2 = SystemArgument2;
    Dpc->DpcData = &Ki.DpcList;
    if (Dpc->Importance == HighImportance)
        InsertHeadList(&Ki.DpcList, &Dpc->DpcListEntry);
    else
        InsertTailList(&Ki.DpcList, &Dpc->DpcListEntry);
    if (self->Irql < DISPATCH_LEVEL)
        KiDeliverPending();
    return TRUE;
}

BOOLEAN NTAPI KeRemoveQueueDpc(PRKDPC Dpc)
{
    if (Dpc->DpcData == NULL)
        return FALSE;
    RemoveEntryList(&Dpc->DpcListEntry);
    Dpc->DpcData = NULL;
    return TRUE;
}

VOID NTAPI KeFlushQueuedDpcs(VOID)
{
    KiDeliverPending();
}

/* KiRunDpcs: drain the DPC queue at DISPATCH_LEVEL on the current thread. */
VOID KiRunDpcs(void)
{
    PKTHREAD self = KiSelf;
    while (!IsListEmpty(&Ki.DpcList) && self->Irql < DISPATCH_LEVEL) {
        PKDPC dpc = CONTAINING_RECORD(RemoveHeadList(&Ki.DpcList), KDPC, DpcListEntry);
        PVOID a1 = dpc->SystemArgument1, a2 = dpc->SystemArgument2;
        dpc->DpcData = NULL;
        KIRQL old = self->Irql;
        BOOLEAN was_in_dpc = self->InDpc;
        KiSetIrql(self, DISPATCH_LEVEL);
        self->InDpc = TRUE;
        ULONG locks = self->SpinLocksHeld;
        dpc->DeferredRoutine(dpc, dpc->DeferredContext, a1, a2);
        if (self->Irql != DISPATCH_LEVEL || self->SpinLocksHeld != locks)
            VfBugCheck(IRQL_UNEXPECTED_VALUE, self->Irql, DISPATCH_LEVEL, (ULONG_PTR)dpc->DeferredRoutine, 0,
                       (const void *)(ULONG_PTR)dpc->DeferredRoutine, NULL,
                       "DPC routine returned at IRQL %u (must be DISPATCH_LEVEL) or with a spin lock held",
                       self->Irql);
        if (VfIsEnabled() && Ki.Clock && sim_now(Ki.Clock) - self->RaisedSince > KI_RAISED_WARN_NS)
            VfWarning((const void *)(ULONG_PTR)dpc->DeferredRoutine,
                      "DPC routine ran for %llu us of machine time (limit 50 us)",
                      (unsigned long long)((sim_now(Ki.Clock) - self->RaisedSince) / 1000u));
        self->InDpc = was_in_dpc;
        self->Irql = old;
    }
}

/* ---- Interrupt delivery ------------------------------------------------------------ */

/* KipIrqWanted: does line Irq need service now (latched edge, or level held)? */
static BOOLEAN KipIrqWanted(unsigned Irq)
{
    if (IsListEmpty(&Ki.InterruptList[Irq]))
        return FALSE;
    PKINTERRUPT first = CONTAINING_RECORD(Ki.InterruptList[Irq].Flink, struct _KINTERRUPT, InterruptListEntry);
    return first->Mode == Latched ? Ki.IrqLatched[Irq] : Ki.IrqLine[Irq];
}

/* KiDeliverInterrupts: run the ISRs of every pending line whose DIRQL is above the
 * current IRQL, highest DIRQL first, each at its SynchronizeIrql holding its lock. */
VOID KiDeliverInterrupts(void)
{
    PKTHREAD self = KiSelf;
    ULONG served = 0; /* each line once per call: a line held asserted re-fires later */
    if (Ki.PendingIrqs == 0)
        return;
    for (;;) {
        int best = -1;
        KIRQL best_irql = self->Irql;
        for (unsigned irq = 0; irq < KI_ISA_IRQS; irq++) {
            if (!(served & (1u << irq)) && KipIrqWanted(irq) && KiIrqlForIrq(irq) > best_irql) {
                best = (int)irq;
                best_irql = KiIrqlForIrq(irq);
            }
        }
        if (best < 0)
            break;
        served |= 1u << best;
        Ki.IrqLatched[best] = FALSE;
        BOOLEAN was_level = Ki.IrqLine[best];
        KIRQL old = self->Irql;
        BOOLEAN claimed = FALSE;
        for (PLIST_ENTRY e = Ki.InterruptList[best].Flink; e != &Ki.InterruptList[best] && !claimed; e = e->Flink) {
            PKINTERRUPT intr = CONTAINING_RECORD(e, struct _KINTERRUPT, InterruptListEntry);
            KiSetIrql(self, intr->SynchronizeIrql);
            KiAcquireSpinLockChecked(intr->ActualLock, (const void *)(ULONG_PTR)intr->ServiceRoutine);
            claimed = intr->ServiceRoutine(intr, intr->ServiceContext);
            KiReleaseSpinLockChecked(intr->ActualLock, (const void *)(ULONG_PTR)intr->ServiceRoutine);
            if (self->Irql != intr->SynchronizeIrql)
                VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, 0x111, (ULONG_PTR)intr->ServiceRoutine,
                           intr->SynchronizeIrql, self->Irql, (const void *)(ULONG_PTR)intr->ServiceRoutine,
                           NULL, "interrupt service routine returned at IRQL %u instead of %u", self->Irql,
                           intr->SynchronizeIrql);
        }
        self->Irql = old;
        /* A level-triggered line nobody claimed would storm; leave it until it changes. */
        if (!claimed && was_level)
            Ki.IrqLine[best] = FALSE;
        Ki.PendingIrqs = 0;
        for (unsigned irq = 0; irq < KI_ISA_IRQS; irq++)
            if (Ki.IrqLatched[irq] || Ki.IrqLine[irq])
                Ki.PendingIrqs++;
    }
}
