/*
 * ex_sync.c — fast mutexes and the spin-lock-protected (Ex*Interlocked*) lists.
 *
 * A fast mutex is NT's: Count 1 = free, 0 = owned, below 0 = owned with waiters, a
 * synchronization event for the waiters, and acquiring raises to APC_LEVEL (the old
 * IRQL is kept in the mutex). It is not recursive: the owner acquiring it again would
 * wait forever, which the verifier reports as a self-deadlock.
 */
#include "ki.h"

VOID NTAPI ExInitializeFastMutex(PFAST_MUTEX FastMutex)
{
    FastMutex->Count = 1;
    FastMutex->Owner = NULL;
    FastMutex->Contention = 0;
    FastMutex->OldIrql = PASSIVE_LEVEL;
    KeInitializeEvent(&FastMutex->Event, SynchronizationEvent, FALSE);
}

static void ExpAcquireCheck(PFAST_MUTEX FastMutex, PKTHREAD Self, const void *Caller)
{
    if (!VfIsEnabled())
        return;
    if (Self->Irql > APC_LEVEL)
        VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VF_ACQUIRE_FAST_MUTEX_ABOVE_APC, Self->Irql,
                   (ULONG_PTR)FastMutex, 0, Caller, NULL, "fast mutex acquired at IRQL %u (must be <= APC_LEVEL)",
                   Self->Irql);
    if (FastMutex->Owner == Self)
        VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, 0x1000, (ULONG_PTR)FastMutex, 0, 0, Caller, NULL,
                   "fast mutex %p acquired again by its owner (fast mutexes are not recursive)", (void *)FastMutex);
}

static void ExpAcquire(PFAST_MUTEX FastMutex, PKTHREAD Self, BOOLEAN RaiseIrql, const void *Caller)
{
    KIRQL old = Self->Irql;
    if (RaiseIrql && old < APC_LEVEL)
        KiSetIrql(Self, APC_LEVEL);
    if (InterlockedDecrement(&FastMutex->Count) != 0) {
        FastMutex->Contention++;
        PVOID objects[1] = { &FastMutex->Event };
        Self->WaitCaller = Caller;
        KiWaitForObjects(1, objects, WaitAny, WrExecutive, KernelMode, NULL, NULL, "ExAcquireFastMutex");
        Self->WaitCaller = NULL;
    }
    FastMutex->Owner = Self;
    FastMutex->OldIrql = old;
}

VOID NTAPI ExAcquireFastMutex(PFAST_MUTEX FastMutex)
{
    PKTHREAD self = KiRequireCurrentThread("ExAcquireFastMutex");
    ExpAcquireCheck(FastMutex, self, __builtin_return_address(0));
    ExpAcquire(FastMutex, self, TRUE, __builtin_return_address(0));
}

VOID NTAPI ExAcquireFastMutexUnsafe(PFAST_MUTEX FastMutex)
{
    PKTHREAD self = KiRequireCurrentThread("ExAcquireFastMutexUnsafe");
    ExpAcquireCheck(FastMutex, self, __builtin_return_address(0));
    ExpAcquire(FastMutex, self, FALSE, __builtin_return_address(0));
}

BOOLEAN NTAPI ExTryToAcquireFastMutex(PFAST_MUTEX FastMutex)
{
    PKTHREAD self = KiRequireCurrentThread("ExTryToAcquireFastMutex");
    if (self->Irql > APC_LEVEL && VfIsEnabled())
        VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VF_ACQUIRE_FAST_MUTEX_ABOVE_APC, self->Irql,
                   (ULONG_PTR)FastMutex, 0, __builtin_return_address(0), NULL,
                   "fast mutex acquired at IRQL %u (must be <= APC_LEVEL)", self->Irql);
    if (FastMutex->Count != 1)
        return FALSE;
    KIRQL old = self->Irql;
    if (old < APC_LEVEL)
        KiSetIrql(self, APC_LEVEL);
    FastMutex->Count = 0;
    FastMutex->Owner = self;
    FastMutex->OldIrql = old;
    return TRUE;
}

static void ExpRelease(PFAST_MUTEX FastMutex, PKTHREAD Self, BOOLEAN Unsafe, const void *Caller)
{
    if (VfIsEnabled()) {
        if (!Unsafe && Self->Irql != APC_LEVEL)
            VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VF_RELEASE_FAST_MUTEX_NOT_APC, Self->Irql,
                       (ULONG_PTR)FastMutex, 0, Caller, NULL,
                       "fast mutex released at IRQL %u (must be APC_LEVEL, where acquiring left it)", Self->Irql);
        if (FastMutex->Owner != Self)
            VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, 0x1004, (ULONG_PTR)FastMutex, (ULONG_PTR)FastMutex->Owner,
                       (ULONG_PTR)Self, Caller, NULL, "fast mutex %p released by a thread that does not own it",
                       (void *)FastMutex);
    }
    KIRQL old = (KIRQL)FastMutex->OldIrql;
    FastMutex->Owner = NULL;
    if (InterlockedIncrement(&FastMutex->Count) != 1)
        KeSetEvent(&FastMutex->Event, 0, FALSE);
    if (!Unsafe)
        KeLowerIrql(old);
}

VOID NTAPI ExReleaseFastMutex(PFAST_MUTEX FastMutex)
{
    ExpRelease(FastMutex, KiRequireCurrentThread("ExReleaseFastMutex"), FALSE, __builtin_return_address(0));
}

VOID NTAPI ExReleaseFastMutexUnsafe(PFAST_MUTEX FastMutex)
{
    ExpRelease(FastMutex, KiRequireCurrentThread("ExReleaseFastMutexUnsafe"), TRUE, __builtin_return_address(0));
}

/* ---- Interlocked lists -------------------------------------------------------------- */

/* The lock may be shared with an ISR, so it is held with the IRQL the caller is at or
 * DISPATCH_LEVEL, whichever is higher. */
static KIRQL ExpLockList(PKSPIN_LOCK Lock, const void *Caller)
{
    PKTHREAD self = KiRequireCurrentThread("ExInterlocked list");
    KIRQL old = self->Irql;
    if (old < DISPATCH_LEVEL)
        KiSetIrql(self, DISPATCH_LEVEL);
    KiAcquireSpinLockChecked(Lock, Caller);
    return old;
}

static void ExpUnlockList(PKSPIN_LOCK Lock, KIRQL Old, const void *Caller)
{
    KiReleaseSpinLockChecked(Lock, Caller);
    if (Old < DISPATCH_LEVEL)
        KeLowerIrql(Old);
}

PLIST_ENTRY NTAPI ExInterlockedInsertHeadList(PLIST_ENTRY ListHead, PLIST_ENTRY ListEntry, PKSPIN_LOCK Lock)
{
    KIRQL old = ExpLockList(Lock, __builtin_return_address(0));
    PLIST_ENTRY first = IsListEmpty(ListHead) ? NULL : ListHead->Flink;
    InsertHeadList(ListHead, ListEntry);
    ExpUnlockList(Lock, old, __builtin_return_address(0));
    return first;
}

PLIST_ENTRY NTAPI ExInterlockedInsertTailList(PLIST_ENTRY ListHead, PLIST_ENTRY ListEntry, PKSPIN_LOCK Lock)
{
    KIRQL old = ExpLockList(Lock, __builtin_return_address(0));
    PLIST_ENTRY last = IsListEmpty(ListHead) ? NULL : ListHead->Blink;
    InsertTailList(ListHead, ListEntry);
    ExpUnlockList(Lock, old, __builtin_return_address(0));
    return last;
}

PLIST_ENTRY NTAPI ExInterlockedRemoveHeadList(PLIST_ENTRY ListHead, PKSPIN_LOCK Lock)
{
    KIRQL old = ExpLockList(Lock, __builtin_return_address(0));
    PLIST_ENTRY first = IsListEmpty(ListHead) ? NULL : RemoveHeadList(ListHead);
    ExpUnlockList(Lock, old, __builtin_return_address(0));
    return first;
}

PSINGLE_LIST_ENTRY NTAPI ExInterlockedPushEntryList(PSINGLE_LIST_ENTRY ListHead, PSINGLE_LIST_ENTRY ListEntry,
                                                    PKSPIN_LOCK Lock)
{
    KIRQL old = ExpLockList(Lock, __builtin_return_address(0));
    PSINGLE_LIST_ENTRY first = ListHead->Next;
    PushEntryList(ListHead, ListEntry);
    ExpUnlockList(Lock, old, __builtin_return_address(0));
    return first;
}

PSINGLE_LIST_ENTRY NTAPI ExInterlockedPopEntryList(PSINGLE_LIST_ENTRY ListHead, PKSPIN_LOCK Lock)
{
    KIRQL old = ExpLockList(Lock, __builtin_return_address(0));
    PSINGLE_LIST_ENTRY first = PopEntryList(ListHead);
    ExpUnlockList(Lock, old, __builtin_return_address(0));
    return first;
}
