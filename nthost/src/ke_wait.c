/*
 * ke_wait.c — dispatcher objects (events, semaphores, mutexes, and the waiting part
 * of timers and threads) and the waits on them, with NT's semantics:
 *
 *  - a notification event stays signalled and releases every waiter; a
 *    synchronization event releases one waiter and resets itself;
 *  - a semaphore's count is decremented per satisfied wait, never exceeds its limit;
 *  - a mutex is owned by a thread, may be acquired recursively by its owner, and is
 *    abandoned (next acquirer gets STATUS_ABANDONED) if the owner terminates;
 *  - wait-any returns STATUS_WAIT_0 + the index of the first signalled object (in
 *    array order), wait-all acquires all objects at once; waiters are satisfied in
 *    FIFO order; STATUS_TIMEOUT (a success code) when the timeout passes.
 */
#include "ki.h"

PCSTR KiObjectKindName(const DISPATCHER_HEADER *Object)
{
    switch (Object->Type) {
    case EventNotificationObject: return "NotificationEvent";
    case EventSynchronizationObject: return "SynchronizationEvent";
    case MutantObject: return "Mutex";
    case SemaphoreObject: return "Semaphore";
    case ThreadObject: return "Thread";
    case TimerNotificationObject: return "NotificationTimer";
    case TimerSynchronizationObject: return "SynchronizationTimer";
    case ProcessObject: return "Process";
    default: return "DispatcherObject";
    }
}

static void KipInitHeader(PDISPATCHER_HEADER Header, UCHAR Type, UCHAR Size, LONG SignalState)
{
    Header->Type = Type;
    Header->Absolute = 0;
    Header->Size = Size;
    Header->Inserted = 0;
    Header->SignalState = SignalState;
    InitializeListHead(&Header->WaitListHead);
}

/* KipIsSignaled: could Thread's wait on Object be satisfied now? */
static BOOLEAN KipIsSignaled(PDISPATCHER_HEADER Object, PKTHREAD Thread)
{
    if (Object->Type == MutantObject)
        return Object->SignalState > 0 || ((PKMUTEX)Object)->OwnerThread == Thread;
    return Object->SignalState > 0;
}

/* KipConsume: the side effect of a satisfied wait; returns STATUS_ABANDONED for an
 * abandoned mutex, else STATUS_SUCCESS. */
static NTSTATUS KipConsume(PDISPATCHER_HEADER Object, PKTHREAD Thread)
{
    switch (Object->Type) {
    case EventSynchronizationObject:
    case TimerSynchronizationObject:
        Object->SignalState = 0;
        break;
    case SemaphoreObject:
        Object->SignalState--;
        break;
    case MutantObject: {
        PKMUTEX m = (PKMUTEX)Object;
        Object->SignalState--;
        if (Object->SignalState == 0) {
            m->OwnerThread = Thread;
            InsertTailList(&Thread->MutantListHead, &m->MutantListEntry);
            Thread->KernelApcDisable--;
            if (m->Abandoned) {
                m->Abandoned = FALSE;
                return STATUS_ABANDONED;
            }
        }
        break;
    }
    default:
        break;
    }
    return STATUS_SUCCESS;
}

/* KipAllSignaled: wait-all test over a thread's wait blocks. */
static BOOLEAN KipAllSignaled(PKWAIT_BLOCK Blocks, ULONG Count, PKTHREAD Thread)
{
    for (ULONG i = 0; i < Count; i++)
        if (!KipIsSignaled(Blocks[i].Object, Thread))
            return FALSE;
    return TRUE;
}

static NTSTATUS KipConsumeAll(PVOID Objects[], ULONG Count, PKTHREAD Thread)
{
    NTSTATUS status = STATUS_WAIT_0;
    for (ULONG i = 0; i < Count; i++)
        if (KipConsume(Objects[i], Thread) == STATUS_ABANDONED)
            status = STATUS_ABANDONED_WAIT_0;
    return status;
}

VOID KiSignalObject(PDISPATCHER_HEADER Object)
{
    PLIST_ENTRY e = Object->WaitListHead.Flink;
    while (e != &Object->WaitListHead && Object->SignalState > 0) {
        PKWAIT_BLOCK wb = CONTAINING_RECORD(e, KWAIT_BLOCK, WaitListEntry);
        PKTHREAD t = wb->Thread;
        if (wb->WaitType == WaitAny) {
            NTSTATUS st = KipConsume(Object, t);
            KiUnwaitThread(t, (st == STATUS_ABANDONED ? STATUS_ABANDONED_WAIT_0 : STATUS_WAIT_0) + wb->WaitKey);
        } else if (KipAllSignaled(t->WaitBlockList, t->WaitCount, t)) {
            NTSTATUS st = STATUS_WAIT_0;
            for (ULONG i = 0; i < t->WaitCount; i++)
                if (KipConsume(t->WaitBlockList[i].Object, t) == STATUS_ABANDONED)
                    st = STATUS_ABANDONED_WAIT_0;
            KiUnwaitThread(t, st);
        } else {
            e = e->Flink;
            continue;
        }
        /* The unwait unlinked entries of this list: start over. */
        e = Object->WaitListHead.Flink;
    }
}

/* KipWaitIrqlCheck: waits block, so only below DISPATCH_LEVEL unless they poll. */
static void KipWaitIrqlCheck(PKTHREAD Self, PVOID Object, PLARGE_INTEGER Timeout, const void *Caller)
{
    if (!VfIsEnabled())
        return;
    if (Self->Irql > DISPATCH_LEVEL)
        VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VF_WAIT_ABOVE_DISPATCH, Self->Irql, (ULONG_PTR)Object,
                   (ULONG_PTR)Timeout, Caller, NULL, "wait at IRQL %u (above DISPATCH_LEVEL)", Self->Irql);
    if (Self->Irql == DISPATCH_LEVEL && Timeout == NULL)
        VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VF_WAIT_AT_DISPATCH_NULL_TIMEOUT, Self->Irql,
                   (ULONG_PTR)Object, 0, Caller, NULL,
                   "wait without timeout at DISPATCH_LEVEL (only a zero timeout is allowed there)");
    if (Self->Irql == DISPATCH_LEVEL && Timeout->QuadPart != 0)
        VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VF_WAIT_AT_DISPATCH_NONZERO_TIMEOUT, Self->Irql,
                   (ULONG_PTR)Object, (ULONG_PTR)Timeout, Caller, NULL,
                   "wait with a nonzero timeout at DISPATCH_LEVEL (only a zero timeout is allowed there)");
}

/* KipBlock: enqueue wait blocks and give up the CPU until satisfied or timed out. */
static NTSTATUS KipBlock(PKTHREAD Self, ULONG Count, PVOID Objects[], WAIT_TYPE WaitType, KWAIT_REASON Reason,
                         PKWAIT_BLOCK Blocks, BOOLEAN HasDeadline, sim_time_t Deadline, PCSTR Description)
{
    for (ULONG i = 0; i < Count; i++) {
        Blocks[i].Thread = Self;
        Blocks[i].Object = Objects[i];
        Blocks[i].WaitKey = (USHORT)i;
        Blocks[i].WaitType = (USHORT)WaitType;
        Blocks[i].NextWaitBlock = &Blocks[(i + 1) % Count];
        InsertTailList(&((PDISPATCHER_HEADER)Objects[i])->WaitListHead, &Blocks[i].WaitListEntry);
    }
    Self->WaitBlockList = Blocks;
    Self->WaitCount = Count;
    Self->WaitType = WaitType;
    Self->WaitReason = Reason;
    Self->WaitHasDeadline = HasDeadline;
    Self->WaitDeadline = Deadline;
    Self->WaitStart = KiNow();
    Self->WaitDescription = Description;
    Self->WaitStatus = STATUS_PENDING;
    Self->State = KiThreadWaiting;
    KiSwapThread();
    KiDeliverPending();
    return Self->WaitStatus;
}

NTSTATUS KiWaitForObjects(ULONG Count, PVOID Objects[], WAIT_TYPE WaitType, KWAIT_REASON Reason,
                          KPROCESSOR_MODE Mode, PLARGE_INTEGER Timeout, PKWAIT_BLOCK WaitBlockArray,
                          PCSTR Description)
{
    PKTHREAD self = KiRequireCurrentThread(Description);
    UNREFERENCED_PARAMETER(Mode);
    /* Acquiring one object twice in a wait-all cannot be satisfied consistently; NT
     * refuses it. */
    if (WaitType == WaitAll)
        for (ULONG i = 0; i < Count; i++)
            for (ULONG j = i + 1; j < Count; j++)
                if (Objects[i] == Objects[j])
                    return STATUS_INVALID_PARAMETER_MIX;
    KiDeliverPending();
    if (WaitType == WaitAny) {
        for (ULONG i = 0; i < Count; i++) {
            if (KipIsSignaled(Objects[i], self)) {
                NTSTATUS st = KipConsume(Objects[i], self);
                return (st == STATUS_ABANDONED ? STATUS_ABANDONED_WAIT_0 : STATUS_WAIT_0) + i;
            }
        }
    } else {
        BOOLEAN all = TRUE;
        for (ULONG i = 0; i < Count && all; i++)
            all = KipIsSignaled(Objects[i], self);
        if (all)
            return KipConsumeAll(Objects, Count, self);
    }
    if (Timeout && Timeout->QuadPart == 0)
        return STATUS_TIMEOUT;
    sim_time_t deadline = Timeout ? KiTimeoutToDeadline(Timeout->QuadPart) : 0;
    if (Timeout && deadline <= KiNow())
        return STATUS_TIMEOUT;
    PKWAIT_BLOCK blocks = Count <= THREAD_WAIT_OBJECTS ? self->WaitBlock : WaitBlockArray;
    return KipBlock(self, Count, Objects, WaitType, Reason, blocks, Timeout != NULL, deadline, Description);
}

NTSTATUS NTAPI KeWaitForSingleObject(PVOID Object, KWAIT_REASON WaitReason, KPROCESSOR_MODE WaitMode,
                                     BOOLEAN Alertable, PLARGE_INTEGER Timeout)
{
    PKTHREAD self = KiRequireCurrentThread("KeWaitForSingleObject");
    UNREFERENCED_PARAMETER(Alertable);
    KipWaitIrqlCheck(self, Object, Timeout, __builtin_return_address(0));
    PVOID objects[1] = { Object };
    self->WaitCaller = __builtin_return_address(0);
    NTSTATUS status = KiWaitForObjects(1, objects, WaitAny, WaitReason, WaitMode, Timeout, NULL,
                                       "KeWaitForSingleObject");
    self->WaitCaller = NULL;
    return status;
}

NTSTATUS NTAPI KeWaitForMultipleObjects(ULONG Count, PVOID Object[], WAIT_TYPE WaitType, KWAIT_REASON WaitReason,
                                        KPROCESSOR_MODE WaitMode, BOOLEAN Alertable, PLARGE_INTEGER Timeout,
                                        PKWAIT_BLOCK WaitBlockArray)
{
    PKTHREAD self = KiRequireCurrentThread("KeWaitForMultipleObjects");
    UNREFERENCED_PARAMETER(Alertable);
    KipWaitIrqlCheck(self, Count ? Object[0] : NULL, Timeout, __builtin_return_address(0));
    if (Count == 0 || Count > MAXIMUM_WAIT_OBJECTS || (Count > THREAD_WAIT_OBJECTS && WaitBlockArray == NULL))
        VfBugCheck(0x0000000C /* MAXIMUM_WAIT_OBJECTS_EXCEEDED */, Count, (ULONG_PTR)WaitBlockArray, 0, 0,
                   __builtin_return_address(0), NULL,
                   "KeWaitForMultipleObjects on %lu objects %s", (unsigned long)Count,
                   Count > THREAD_WAIT_OBJECTS && WaitBlockArray == NULL
                       ? "without a WaitBlockArray (more than THREAD_WAIT_OBJECTS)"
                       : "(must be 1..MAXIMUM_WAIT_OBJECTS)");
    self->WaitCaller = __builtin_return_address(0);
    NTSTATUS status = KiWaitForObjects(Count, Object, WaitType, WaitReason, WaitMode, Timeout, WaitBlockArray,
                                       "KeWaitForMultipleObjects");
    self->WaitCaller = NULL;
    if (status == STATUS_INVALID_PARAMETER_MIX)
        ExRaiseStatus(status); /* kernel callers get the exception, as on NT */
    return status;
}

/* KeDelayExecutionThread: a wait on nothing; zero interval just yields. */
NTSTATUS NTAPI KeDelayExecutionThread(KPROCESSOR_MODE WaitMode, BOOLEAN Alertable, PLARGE_INTEGER Interval)
{
    PKTHREAD self = KiRequireCurrentThread("KeDelayExecutionThread");
    UNREFERENCED_PARAMETER(WaitMode);
    UNREFERENCED_PARAMETER(Alertable);
    if (self->Irql > APC_LEVEL && VfIsEnabled())
        VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VF_WAIT_AT_DISPATCH_NONZERO_TIMEOUT, self->Irql, 0,
                   (ULONG_PTR)Interval, __builtin_return_address(0), NULL,
                   "KeDelayExecutionThread at IRQL %u (must be <= APC_LEVEL)", self->Irql);
    if (Interval->QuadPart == 0) {
        KiYield();
        return STATUS_SUCCESS;
    }
    sim_time_t deadline = KiTimeoutToDeadline(Interval->QuadPart);
    KiDeliverPending();
    if (deadline <= KiNow())
        return STATUS_SUCCESS;
    self->WaitCaller = __builtin_return_address(0);
    KipBlock(self, 0, NULL, WaitAny, DelayExecution, self->WaitBlock, TRUE, deadline, "KeDelayExecutionThread");
    self->WaitCaller = NULL;
    return STATUS_SUCCESS;
}

/* ---- Events ------------------------------------------------------------------------- */

VOID NTAPI KeInitializeEvent(PRKEVENT Event, EVENT_TYPE Type, BOOLEAN State)
{
    KipInitHeader(&Event->Header, Type == NotificationEvent ? EventNotificationObject : EventSynchronizationObject,
                  sizeof(KEVENT) / sizeof(LONG), State ? 1 : 0);
}

/* KipEventCheck: KeSetEvent and friends above DISPATCH_LEVEL. */
static void KipEventCheck(PRKEVENT Event, const void *Caller)
{
    PKTHREAD self = KiRequireCurrentThread("KeSetEvent");
    if (self->Irql > DISPATCH_LEVEL && VfIsEnabled())
        VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VF_SET_EVENT_ABOVE_DISPATCH, self->Irql,
                   (ULONG_PTR)Event, 0, Caller, NULL, "KeSetEvent at IRQL %u (above DISPATCH_LEVEL)", self->Irql);
}

LONG NTAPI KeSetEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait)
{
    UNREFERENCED_PARAMETER(Increment);
    UNREFERENCED_PARAMETER(Wait);
    KipEventCheck(Event, __builtin_return_address(0));
    LONG previous = Event->Header.SignalState;
    if (previous == 0) {
        Event->Header.SignalState = 1;
        KiSignalObject(&Event->Header);
        if (KiSelf->Irql < DISPATCH_LEVEL)
            KiPreemptionPoint();
    }
    return previous;
}

LONG NTAPI KePulseEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait)
{
    UNREFERENCED_PARAMETER(Increment);
    UNREFERENCED_PARAMETER(Wait);
    KipEventCheck(Event, __builtin_return_address(0));
    LONG previous = Event->Header.SignalState;
    if (previous == 0) {
        Event->Header.SignalState = 1;
        KiSignalObject(&Event->Header);
    }
    Event->Header.SignalState = 0;
    if (KiSelf->Irql < DISPATCH_LEVEL)
        KiPreemptionPoint();
    return previous;
}

LONG NTAPI KeResetEvent(PRKEVENT Event)
{
    LONG previous = Event->Header.SignalState;
    Event->Header.SignalState = 0;
    return previous;
}

VOID NTAPI KeClearEvent(PRKEVENT Event)
{
    Event->Header.SignalState = 0;
}

LONG NTAPI KeReadStateEvent(PRKEVENT Event)
{
    return Event->Header.SignalState;
}

/* ---- Semaphores ---------------------------------------------------------------------- */

VOID NTAPI KeInitializeSemaphore(PRKSEMAPHORE Semaphore, LONG Count, LONG Limit)
{
    KipInitHeader(&Semaphore->Header, SemaphoreObject, sizeof(KSEMAPHORE) / sizeof(LONG), Count);
    Semaphore->Limit = Limit;
}

/* KeReleaseSemaphore: raises STATUS_SEMAPHORE_LIMIT_EXCEEDED (an unhandled exception in
 * kernel mode, i.e. a bug check) when the count would pass the limit. */
LONG NTAPI KeReleaseSemaphore(PRKSEMAPHORE Semaphore, KPRIORITY Increment, LONG Adjustment, BOOLEAN Wait)
{
    UNREFERENCED_PARAMETER(Increment);
    UNREFERENCED_PARAMETER(Wait);
    KiRequireCurrentThread("KeReleaseSemaphore");
    LONG previous = Semaphore->Header.SignalState;
    if (Adjustment <= 0 || previous > Semaphore->Limit - Adjustment)
        VfBugCheck(KMODE_EXCEPTION_NOT_HANDLED, (ULONG_PTR)(ULONG)STATUS_SEMAPHORE_LIMIT_EXCEEDED,
                   (ULONG_PTR)__builtin_return_address(0), (ULONG_PTR)Semaphore, (ULONG_PTR)Adjustment,
                   __builtin_return_address(0), NULL,
                   "KeReleaseSemaphore by %ld would take the count from %ld past the limit %ld",
                   (long)Adjustment, (long)previous, (long)Semaphore->Limit);
    Semaphore->Header.SignalState = previous + Adjustment;
    if (previous == 0) {
        KiSignalObject(&Semaphore->Header);
        if (KiSelf->Irql < DISPATCH_LEVEL)
            KiPreemptionPoint();
    }
    return previous;
}

LONG NTAPI KeReadStateSemaphore(PRKSEMAPHORE Semaphore)
{
    return Semaphore->Header.SignalState;
}

/* ---- Mutexes ----------------------------------------------------------------------------- */

VOID NTAPI KeInitializeMutex(PRKMUTEX Mutex, ULONG Level)
{
    UNREFERENCED_PARAMETER(Level);
    KipInitHeader(&Mutex->Header, MutantObject, sizeof(KMUTEX) / sizeof(LONG), 1);
    Mutex->OwnerThread = NULL;
    Mutex->Abandoned = FALSE;
    Mutex->ApcDisable = 1;
    InitializeListHead(&Mutex->MutantListEntry);
}

LONG NTAPI KeReadStateMutex(PRKMUTEX Mutex)
{
    return Mutex->Header.SignalState;
}

/* KeReleaseMutex: only the owner may release (else STATUS_MUTANT_NOT_OWNED is raised,
 * a bug check in kernel mode); the last release frees it and wakes a waiter. */
LONG NTAPI KeReleaseMutex(PRKMUTEX Mutex, BOOLEAN Wait)
{
    PKTHREAD self = KiRequireCurrentThread("KeReleaseMutex");
    UNREFERENCED_PARAMETER(Wait);
    LONG previous = Mutex->Header.SignalState;
    if (Mutex->OwnerThread != self)
        VfBugCheck(KMODE_EXCEPTION_NOT_HANDLED, (ULONG_PTR)(ULONG)STATUS_MUTANT_NOT_OWNED,
                   (ULONG_PTR)__builtin_return_address(0), (ULONG_PTR)Mutex, (ULONG_PTR)Mutex->OwnerThread,
                   __builtin_return_address(0), NULL, "KeReleaseMutex on mutex %p %s", (void *)Mutex,
                   Mutex->OwnerThread ? "owned by another thread" : "that is not owned");
    Mutex->Header.SignalState++;
    if (Mutex->Header.SignalState == 1) {
        RemoveEntryList(&Mutex->MutantListEntry);
        InitializeListHead(&Mutex->MutantListEntry);
        Mutex->OwnerThread = NULL;
        self->KernelApcDisable++;
        KiSignalObject(&Mutex->Header);
        if (self->Irql < DISPATCH_LEVEL)
            KiPreemptionPoint();
    }
    return previous;
}

VOID KiAbandonMutexes(PKTHREAD Thread)
{
    while (!IsListEmpty(&Thread->MutantListHead)) {
        PKMUTEX m = CONTAINING_RECORD(RemoveHeadList(&Thread->MutantListHead), KMUTEX, MutantListEntry);
        InitializeListHead(&m->MutantListEntry);
        m->OwnerThread = NULL;
        m->Abandoned = TRUE;
        m->Header.SignalState = 1;
        Thread->KernelApcDisable++;
        KiSignalObject(&m->Header);
    }
}

/* ---- Critical regions (no APCs in nthost; the count is kept for the checks) ----- */

VOID NTAPI KeEnterCriticalRegion(VOID)
{
    KiRequireCurrentThread("KeEnterCriticalRegion")->KernelApcDisable--;
}

VOID NTAPI KeLeaveCriticalRegion(VOID)
{
    PKTHREAD self = KiRequireCurrentThread("KeLeaveCriticalRegion");
    if (self->KernelApcDisable >= 0 && VfIsEnabled())
        VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, VF_LEAVE_CRITICAL_REGION_NOT_IN_ONE, 0, 0, 0,
                   __builtin_return_address(0), NULL,
                   "KeLeaveCriticalRegion for a thread that is not in a critical region");
    self->KernelApcDisable++;
}

BOOLEAN NTAPI KeAreApcsDisabled(VOID)
{
    PKTHREAD self = KiRequireCurrentThread("KeAreApcsDisabled");
    return self->KernelApcDisable != 0 || self->Irql >= APC_LEVEL;
}
