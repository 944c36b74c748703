/*
 * ke_timer.c — kernel timers, wait timeouts and the time routines, all on the one
 * machine clock (DESIGN.md, "Time").
 *
 * A set KTIMER sits in Ki.TimerList ordered by due time (machine ns). Timers and wait
 * timeouts fire at the first delivery point below DISPATCH_LEVEL at or after their
 * due time, however the clock got there (this thread's register accesses, another
 * thread's, a stall, or the idle thread's jump). An expiring timer is signalled, its
 * DPC queued, and a periodic one re-armed.
 */
#include "ki.h"

/* Tick length as KeQueryTimeIncrement reports it: 15.625 ms (100 ns units), the
 * common x86/x64 default clock interval. */
#define KI_TIME_INCREMENT 156250u
/* KeQueryPerformanceCounter frequency: 10 MHz, as on current x64 Windows. */
#define KI_PERFORMANCE_FREQUENCY 10000000LL

static void KipInsertTimer(PKTIMER Timer)
{
    PLIST_ENTRY e = Ki.TimerList.Flink;
    while (e != &Ki.TimerList) {
        PKTIMER t = CONTAINING_RECORD(e, KTIMER, TimerListEntry);
        if (t->DueTime.QuadPart > Timer->DueTime.QuadPart)
            break;
        e = e->Flink;
    }
    /* Insert before e (ties keep setting order). */
    InsertTailList(e, &Timer->TimerListEntry);
    Timer->Header.Inserted = TRUE;
}

VOID NTAPI KeInitializeTimerEx(PKTIMER Timer, TIMER_TYPE Type)
{
    Timer->Header.Type = Type == NotificationTimer ? TimerNotificationObject : TimerSynchronizationObject;
    Timer->Header.Absolute = 0;
    Timer->Header.Size = sizeof(KTIMER) / sizeof(LONG);
    Timer->Header.Inserted = FALSE;
    Timer->Header.SignalState = 0;
    InitializeListHead(&Timer->Header.WaitListHead);
    InitializeListHead(&Timer->TimerListEntry);
    Timer->DueTime.QuadPart = 0;
    Timer->Dpc = NULL;
    Timer->Period = 0;
}

VOID NTAPI KeInitializeTimer(PKTIMER Timer)
{
    KeInitializeTimerEx(Timer, NotificationTimer);
}

/* KeSetTimerEx: (re)arms the timer, resetting it to non-signalled; returns whether it
 * was already set. */
BOOLEAN NTAPI KeSetTimerEx(PKTIMER Timer, LARGE_INTEGER DueTime, LONG Period, PKDPC Dpc)
{
    PKTHREAD self = KiRequireCurrentThread("KeSetTimer");
    if (self->Irql > DISPATCH_LEVEL && VfIsEnabled())
        VfBugCheck(IRQL_NOT_LESS_OR_EQUAL, (ULONG_PTR)Timer, self->Irql, 0, (ULONG_PTR)__builtin_return_address(0),
                   __builtin_return_address(0), NULL, "KeSetTimer at IRQL %u (above DISPATCH_LEVEL)", self->Irql);
    BOOLEAN was_set = Timer->Header.Inserted;
    if (was_set)
        RemoveEntryList(&Timer->TimerListEntry);
    Timer->Header.SignalState = 0;
    Timer->Header.Absolute = DueTime.QuadPart > 0;
    Timer->Dpc = Dpc;
    Timer->Period = Period > 0 ? Period : 0;
    Timer->DueTime.QuadPart = (LONGLONG)KiTimeoutToDeadline(DueTime.QuadPart);
    KipInsertTimer(Timer);
    /* A timer due now fires at the next delivery point, like one that just expired. */
    if (self->Irql < DISPATCH_LEVEL)
        KiDeliverPending();
    return was_set;
}

BOOLEAN NTAPI KeSetTimer(PKTIMER Timer, LARGE_INTEGER DueTime, PKDPC Dpc)
{
    return KeSetTimerEx(Timer, DueTime, 0, Dpc);
}

BOOLEAN NTAPI KeCancelTimer(PKTIMER Timer)
{
    KiRequireCurrentThread("KeCancelTimer");
    if (!Timer->Header.Inserted)
        return FALSE;
    RemoveEntryList(&Timer->TimerListEntry);
    InitializeListHead(&Timer->TimerListEntry);
    Timer->Header.Inserted = FALSE;
    return TRUE;
}

BOOLEAN NTAPI KeReadStateTimer(PKTIMER Timer)
{
    return Timer->Header.SignalState > 0;
}

/* Machine time of the last walk over the waiting threads (KiExpireTimers). */
static sim_time_t KipWaitsScannedAt = UINT64_MAX;

/* KiExpireTimers: fire due timers and time out due waits. */
VOID KiExpireTimers(void)
{
    sim_time_t now = KiNow();
    while (!IsListEmpty(&Ki.TimerList)) {
        PKTIMER t = CONTAINING_RECORD(Ki.TimerList.Flink, KTIMER, TimerListEntry);
        if ((sim_time_t)t->DueTime.QuadPart > now)
            break;
        RemoveEntryList(&t->TimerListEntry);
        InitializeListHead(&t->TimerListEntry);
        t->Header.Inserted = FALSE;
        if (t->Period) {
            sim_time_t next = (sim_time_t)t->DueTime.QuadPart + SIM_MS(t->Period);
            t->DueTime.QuadPart = (LONGLONG)(next > now ? next : now + SIM_MS(t->Period));
            KipInsertTimer(t);
        }
        t->Header.SignalState = 1;
        KiSignalObject(&t->Header);
        if (t->Dpc) {
            LARGE_INTEGER st;
            KeQuerySystemTime(&st);
            KeInsertQueueDpc(t->Dpc, (PVOID)(ULONG_PTR)st.LowPart, (PVOID)(ULONG_PTR)(ULONG)st.HighPart);
        }
    }
    /* A wait blocks only with its deadline after now, and only after a call here at
     * that same now (KiWaitForObjects). So while the clock stands where the last walk
     * left it, no wait can be due: skip the walk. Virtual time stands still between
     * HAL accesses, and this runs at every delivery point (a null DeviceIoControl
     * passes a dozen). */
    if (now == KipWaitsScannedAt)
        return;
    KipWaitsScannedAt = now;
    for (PLIST_ENTRY e = Ki.ThreadList.Flink; e != &Ki.ThreadList; e = e->Flink) {
        PKTHREAD th = CONTAINING_RECORD(e, KTHREAD, ThreadListEntry);
        if (th->State == KiThreadWaiting && th->WaitHasDeadline && th->WaitDeadline <= now)
            KiUnwaitThread(th, STATUS_TIMEOUT);
    }
}

/* KiNextDeadline: the earliest timer or wait timeout. */
BOOLEAN KiNextDeadline(sim_time_t *When)
{
    BOOLEAN found = FALSE;
    sim_time_t best = UINT64_MAX;
    if (!IsListEmpty(&Ki.TimerList)) {
        best = (sim_time_t)CONTAINING_RECORD(Ki.TimerList.Flink, KTIMER, TimerListEntry)->DueTime.QuadPart;
        found = TRUE;
    }
    for (PLIST_ENTRY e = Ki.ThreadList.Flink; e != &Ki.ThreadList; e = e->Flink) {
        PKTHREAD th = CONTAINING_RECORD(e, KTHREAD, ThreadListEntry);
        if (th->State == KiThreadWaiting && th->WaitHasDeadline && th->WaitDeadline < best) {
            best = th->WaitDeadline;
            found = TRUE;
        }
    }
    *When = best;
    return found;
}

PKTIMER KiFindTimerInRange(ULONG_PTR Lo, ULONG_PTR Hi, ULONG *What)
{
    for (PLIST_ENTRY e = Ki.TimerList.Flink; e != &Ki.TimerList; e = e->Flink) {
        PKTIMER t = CONTAINING_RECORD(e, KTIMER, TimerListEntry);
        if ((ULONG_PTR)t >= Lo && (ULONG_PTR)t < Hi) {
            *What = 0;
            return t;
        }
        if (t->Dpc && (ULONG_PTR)t->Dpc >= Lo && (ULONG_PTR)t->Dpc < Hi) {
            *What = 1;
            return t;
        }
        if (t->Dpc && (ULONG_PTR)t->Dpc->DeferredRoutine >= Lo && (ULONG_PTR)t->Dpc->DeferredRoutine < Hi) {
            *What = 2;
            return t;
        }
    }
    return NULL;
}

/* ---- Time ------------------------------------------------------------------------------ */

VOID NTAPI KeQuerySystemTime(PLARGE_INTEGER CurrentTime)
{
    CurrentTime->QuadPart = Ki.SystemTimeBase + (LONGLONG)KiNsToInterruptTime(KiNow());
}

ULONGLONG NTAPI KeQueryInterruptTime(VOID)
{
    return KiNsToInterruptTime(KiNow());
}

VOID NTAPI KeQueryTickCount(PLARGE_INTEGER TickCount)
{
    TickCount->QuadPart = (LONGLONG)(KiNsToInterruptTime(KiNow()) / KI_TIME_INCREMENT);
}

ULONG NTAPI KeQueryTimeIncrement(VOID)
{
    return KI_TIME_INCREMENT;
}

LARGE_INTEGER NTAPI KeQueryPerformanceCounter(PLARGE_INTEGER PerformanceFrequency)
{
    LARGE_INTEGER counter;
    if (PerformanceFrequency)
        PerformanceFrequency->QuadPart = KI_PERFORMANCE_FREQUENCY;
    counter.QuadPart = (LONGLONG)(KiNow() / (1000000000u / KI_PERFORMANCE_FREQUENCY));
    return counter;
}

/* KeStallExecutionProcessor: busy-waits MicroSeconds of machine time (virtual mode:
 * advances the clock, running device events on the way). Legal at any IRQL. */
VOID NTAPI KeStallExecutionProcessor(ULONG MicroSeconds)
{
    KiRequireCurrentThread("KeStallExecutionProcessor");
    if (Ki.Config.RealTime) {
        sim_time_t until = KiNow() + SIM_US(MicroSeconds);
        while (KiNow() < until)
            ;
    } else {
        sim_clock_advance(Ki.Clock, SIM_US(MicroSeconds));
    }
    KiPreemptionPoint();
}
