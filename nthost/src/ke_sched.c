/*
 * ke_sched.c — the uniprocessor token scheduler: thread creation and exit, the
 * ready queues (one per priority), preemption points, the idle thread (virtual-time
 * jump, real-time sleep) and the deadlock report.
 *
 * Scheduling is NT's: the highest-priority ready thread runs; within a priority,
 * round robin with a quantum of machine time. A readied thread that outranks the
 * running one takes the CPU at the next preemption point, and the preempted thread
 * goes back to the head of its queue keeping what is left of its quantum.
 *
 * The CPU token is Ki.Lock. The running nthost thread holds it for as long as it
 * runs, including while it executes driver or host code; a thread that gives up the
 * CPU names its successor in Ki.Current, signals the successor's condition variable
 * and waits on its own until it is named again. So exactly one nthost thread runs,
 * and every hand-over is a mutex hand-over (which also gives the sanitizers the
 * happens-before edges they need).
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "io_internal.h"
#include "ki.h"
#include "ob_internal.h"

KI_STATE Ki = { .Lock = PTHREAD_MUTEX_INITIALIZER };
__thread PKTHREAD KiSelf;

/* Machine time, or number of idle jumps, with no runnable thread and only device
 * events moving the clock, after which the machine counts as deadlocked (a device
 * that polls forever would otherwise hide a deadlock). */
#define KI_IDLE_DEVICE_ONLY_LIMIT SIM_S(3600)
#define KI_IDLE_DEVICE_ONLY_JUMPS 1000000u

/* 100 ns units between 1601-01-01 and 1970-01-01. */
#define KI_UNIX_EPOCH_AS_NT 116444736000000000LL

static sim_time_t KipHostMonotonicNs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (sim_time_t)ts.tv_sec * 1000000000u + (sim_time_t)ts.tv_nsec;
}

sim_clock *KiClock(void) { return Ki.Clock; }
sim_bus *KiBus(void) { return Ki.Bus; }
BOOLEAN KiIsInitialized(void) { return Ki.Initialized; }
BOOLEAN KiIsRealTime(void) { return Ki.Config.RealTime; }

/* KiNow: machine time; in real mode the clock is first brought up to host time
 * (which runs every device event due by then). */
sim_time_t KiNow(void)
{
    if (Ki.Config.RealTime && Ki.Clock) {
        sim_time_t host = KipHostMonotonicNs() - Ki.RealBase;
        if (host > sim_now(Ki.Clock))
            sim_clock_advance_to(Ki.Clock, host);
    }
    return Ki.Clock ? sim_now(Ki.Clock) : 0;
}

/* KiTimeoutToDeadline: NT timeout (negative relative, positive absolute system
 * time, 100 ns units) to absolute machine time. An absolute time in the past is now. */
sim_time_t KiTimeoutToDeadline(LONGLONG Timeout)
{
    sim_time_t now = KiNow();
    if (Timeout < 0) {
        ULONGLONG rel = (ULONGLONG)(-(Timeout + 1)) + 1; /* no overflow for MINLONGLONG */
        if (rel > (UINT64_MAX - now) / KI_NS_PER_TICK100)
            return UINT64_MAX;
        return now + rel * KI_NS_PER_TICK100;
    }
    if (Timeout <= Ki.SystemTimeBase)
        return now;
    ULONGLONG since_boot = (ULONGLONG)(Timeout - Ki.SystemTimeBase);
    if (since_boot > UINT64_MAX / KI_NS_PER_TICK100)
        return UINT64_MAX;
    sim_time_t t = since_boot * KI_NS_PER_TICK100;
    return t < now ? now : t;
}

PKTHREAD KiCurrentThread(void) { return KiSelf; }

PKTHREAD KiRequireCurrentThread(PCSTR Routine)
{
    if (KiSelf == NULL) {
        fprintf(stderr,
                "nthost: %s called on a thread nthost does not know (not booted, or a host "
                "thread that was never attached with KiAttachHostThread)\n",
                Routine);
        abort();
    }
    return KiSelf;
}

ULONG KiLiveThreadCount(void)
{
    ULONG n = 0;
    for (PLIST_ENTRY e = Ki.ThreadList.Flink; e != &Ki.ThreadList; e = e->Flink) {
        PKTHREAD t = CONTAINING_RECORD(e, KTHREAD, ThreadListEntry);
        if (t->Kind != KiThreadKindIdle && t->State != KiThreadTerminated)
            n++;
    }
    return n;
}

/* ---- Hand-over ------------------------------------------------------------------ */

/* KipRun: make Next the running thread and wake its pthread. Its quantum starts
 * afresh, less what it used before a higher-priority thread preempted it. */
static void KipRun(PKTHREAD Next)
{
    Ki.Current = Next;
    Next->State = KiThreadRunning;
    Next->SliceStart = (Ki.Clock ? sim_now(Ki.Clock) : 0) - Next->SliceCarried;
    Next->SliceCarried = 0;
    pthread_cond_signal(&Next->Wakeup);
}

/* KipWaitForCpu: sleep until this thread is named the running thread. */
static void KipWaitForCpu(PKTHREAD Self)
{
    while (Ki.Current != Self)
        pthread_cond_wait(&Self->Wakeup, &Ki.Lock);
}

/* KipHighestReady: priority of the best ready thread, -1 when none is ready. */
static LONG KipHighestReady(void)
{
    return Ki.ReadySummary ? 31 - __builtin_clz(Ki.ReadySummary) : -1;
}

/* KipDequeue: take the thread at the head of ReadyQueue[Priority] (not empty). */
static PKTHREAD KipDequeue(LONG Priority)
{
    PLIST_ENTRY e = RemoveHeadList(&Ki.ReadyQueue[Priority]);
    if (IsListEmpty(&Ki.ReadyQueue[Priority]))
        Ki.ReadySummary &= ~(1u << Priority);
    return CONTAINING_RECORD(e, KTHREAD, ReadyListEntry);
}

/* KipSelectNext: the thread to run next: the head of the highest non-empty ready
 * queue, or the idle thread. */
static PKTHREAD KipSelectNext(void)
{
    LONG top = KipHighestReady();
    return top >= 0 ? KipDequeue(top) : Ki.Idle;
}

VOID KiReadyThread(PKTHREAD Thread)
{
    Thread->State = KiThreadReady;
    InsertTailList(&Ki.ReadyQueue[Thread->Priority], &Thread->ReadyListEntry);
    Ki.ReadySummary |= 1u << Thread->Priority;
}

/* KipReadyAtHead: Thread was preempted by a higher-priority thread: it runs first
 * among its priority, with the rest of its quantum. */
static void KipReadyAtHead(PKTHREAD Thread)
{
    Thread->State = KiThreadReady;
    Thread->SliceCarried = KiNow() - Thread->SliceStart;
    InsertHeadList(&Ki.ReadyQueue[Thread->Priority], &Thread->ReadyListEntry);
    Ki.ReadySummary |= 1u << Thread->Priority;
}

VOID KiSetThreadPriority(PKTHREAD Thread, KPRIORITY Priority)
{
    if (Thread->State != KiThreadReady || Thread == Ki.Idle) {
        Thread->Priority = Priority;
        return;
    }
    RemoveEntryList(&Thread->ReadyListEntry);
    if (IsListEmpty(&Ki.ReadyQueue[Thread->Priority]))
        Ki.ReadySummary &= ~(1u << Thread->Priority);
    Thread->Priority = Priority;
    KiReadyThread(Thread);
}

/* KipSwitchTo: give the CPU to Next (dequeued, or Self when it keeps running) and
 * return when Self runs again (at once for Next == Self, never when terminated). */
static void KipSwitchTo(PKTHREAD Next)
{
    PKTHREAD self = KiSelf;
    if (Next == self) {
        self->State = KiThreadRunning;
        return;
    }
    KipRun(Next);
    if (self->State == KiThreadTerminated)
        return;
    KipWaitForCpu(self);
}

VOID KiSwapThread(void)
{
    KipSwitchTo(KipSelectNext());
}

VOID KiUnwaitThread(PKTHREAD Thread, NTSTATUS WaitStatus)
{
    for (ULONG i = 0; i < Thread->WaitCount; i++)
        RemoveEntryList(&Thread->WaitBlockList[i].WaitListEntry);
    Thread->WaitCount = 0;
    Thread->WaitHasDeadline = FALSE;
    Thread->WaitStatus = WaitStatus;
    KiReadyThread(Thread);
}

/* KipRandomPercent: xorshift32 from the configured seed, 0..99. */
static ULONG KipRandomPercent(void)
{
    ULONG x = Ki.RandomState;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    Ki.RandomState = x;
    return x % 100;
}

typedef enum _KIP_PREEMPTION {
    KipKeepRunning,
    KipOutranked,   /* a higher-priority thread is ready */
    KipQuantumEnd,  /* the quantum expired and a thread of the same priority is ready */
    KipRandomTurn,  /* the random-preemption dice */
} KIP_PREEMPTION;

/* KipShouldPreempt: whether, and why, Self gives up the CPU at this point. */
static KIP_PREEMPTION KipShouldPreempt(PKTHREAD Self)
{
    LONG top = KipHighestReady();
    if (top < 0)
        return KipKeepRunning;
    if (Self == Ki.Idle || top > Self->Priority)
        return KipOutranked;
    if (Ki.Config.RandomPreemptSeed != 0 && KipRandomPercent() < Ki.Config.RandomPreemptPercent)
        return KipRandomTurn;
    if (top == Self->Priority && KiNow() - Self->SliceStart >= Ki.Config.Quantum)
        return KipQuantumEnd;
    return KipKeepRunning;
}

/* KipSelectRandom: a random preemption stands in for the other processors of a real
 * machine, on which threads of lower priority run at the same time as the higher
 * ones: it hands the CPU to the head of a ready queue of any priority, chosen by the
 * dice. (An outranked thread takes the CPU back at its next preemption point.) */
static PKTHREAD KipSelectRandom(void)
{
    ULONG levels = (ULONG)__builtin_popcount(Ki.ReadySummary);
    ULONG pick = KipRandomPercent() % levels;
    ULONG summary = Ki.ReadySummary;
    while (pick-- > 0)
        summary &= summary - 1;
    return KipDequeue(__builtin_ctz(summary));
}

/* KipReap: drop the running reference of threads that terminated (their memory may
 * only go once they no longer use it, i.e. after they handed the CPU over). */
static void KipReap(void)
{
    while (!IsListEmpty(&Ki.ReapList)) {
        PKTHREAD t = CONTAINING_RECORD(RemoveHeadList(&Ki.ReapList), KTHREAD, ReadyListEntry);
        ObDereferenceObject(t);
    }
}

VOID KiDeliverPending(void)
{
    PKTHREAD self = KiSelf;
    if (self == NULL || !Ki.Initialized)
        return;
    KiDeliverInterrupts();
    if (self->Irql < DISPATCH_LEVEL) {
        KiExpireTimers();
        KiRunDpcs();
        KipReap();
        /* Delete procedures may block: never on the idle thread. */
        if (self->Irql == PASSIVE_LEVEL && self != Ki.Idle)
            ObpProcessDeferredDeletes();
    }
}

VOID KiPreemptionPoint(void)
{
    PKTHREAD self = KiSelf;
    if (self == NULL || !Ki.Initialized)
        return;
    KiDeliverPending();
    if (self->Irql >= DISPATCH_LEVEL)
        return;
    switch (KipShouldPreempt(self)) {
    case KipKeepRunning:
        return;
    case KipOutranked:
        if (self == Ki.Idle) {
            self->State = KiThreadReady; /* never queued: runs when no thread is ready */
            KiSwapThread();
            break;
        }
        KipReadyAtHead(self);
        KiSwapThread();
        break;
    case KipQuantumEnd:
        KiReadyThread(self);
        KiSwapThread();
        break;
    case KipRandomTurn:
        KiReadyThread(self);
        KipSwitchTo(KipSelectRandom());
        break;
    }
    KiDeliverPending();
}

BOOLEAN KiYield(void)
{
    PKTHREAD self = KiRequireCurrentThread("KiYield");
    KiDeliverPending();
    if (KipHighestReady() < self->Priority)
        return FALSE;
    KiReadyThread(self);
    KiSwapThread();
    KiDeliverPending();
    return TRUE;
}

/* ---- Thread creation and exit ------------------------------------------------------ */

/*
 * Where KiExitThread leaves a created thread: back in KipThreadMain, by longjmp. Not
 * pthread_exit, whose unwinding reads the frames of the driver that called
 * PsTerminateSystemThread, while the thread object it has just signalled lets
 * DriverUnload return and the driver image be unmapped.
 */
static _Thread_local jmp_buf *KipExitJump;

/* KipThreadMain: pthread body of every created nthost thread. */
static void *KipThreadMain(void *Arg)
{
    PKTHREAD self = Arg;
    jmp_buf exit_jump;
    if (setjmp(exit_jump) != 0)
        return NULL;                 /* KiExitThread: Ki.Lock already released */
    KipExitJump = &exit_jump;
    pthread_mutex_lock(&Ki.Lock);
    KiSelf = self;
    KipWaitForCpu(self);
    KiDeliverPending();
    self->StartRoutine(self->StartContext);
    if (self->Kind == KiThreadKindIdle) {
        /* Shutdown: hand the CPU back without choosing a successor; KiShutdown joins
         * this pthread and releases the idle thread object. */
        self->State = KiThreadTerminated;
        RemoveEntryList(&self->ThreadListEntry);
        InitializeListHead(&self->ThreadListEntry);
        KiSelf = NULL;
        pthread_mutex_unlock(&Ki.Lock);
        return NULL;
    }
    KiExitThread(STATUS_SUCCESS);
}

NTSTATUS KiCreateThread(KI_THREAD_KIND Kind, PCSTR Name, PKSTART_ROUTINE Start, PVOID Context, PKTHREAD *Thread)
{
    PKTHREAD t;
    NTSTATUS status = ObpCreateObject(ObpThreadType, sizeof(KTHREAD), (PVOID *)&t);
    if (!NT_SUCCESS(status))
        return status;
    KiInitializeThreadObject(t, Kind, Name);
    t->StartRoutine = Start;
    t->StartContext = Context;
    VfImageOfAddress((const void *)(ULONG_PTR)Start, (PVOID *)&t->StartImage);
    t->Irql = PASSIVE_LEVEL;
    /* One reference for the caller, one held by the running thread until it exits. */
    ObReferenceObject(t);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    if (Kind != KiThreadKindIdle)
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&t->Pthread, &attr, KipThreadMain, t);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        RemoveEntryList(&t->ThreadListEntry);
        t->State = KiThreadTerminated;
        ObDereferenceObject(t);
        ObDereferenceObject(t);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    t->PthreadStarted = TRUE;
    if (Kind != KiThreadKindIdle)
        KiReadyThread(t);
    *Thread = t;
    return STATUS_SUCCESS;
}

/* KipVerifyThreadExit: what a terminating thread must not leave behind. */
static void KipVerifyThreadExit(PKTHREAD Self)
{
    if (Self->SpinLocksHeld != 0 || Self->Irql != PASSIVE_LEVEL)
        VfBugCheck(IRQL_NOT_LESS_OR_EQUAL, 0, Self->Irql, 0, (ULONG_PTR)Self->StartRoutine,
                   (const void *)(ULONG_PTR)Self->StartRoutine, NULL,
                   "thread %s exited at IRQL %u holding %lu spin lock(s)", Self->Name, Self->Irql,
                   (unsigned long)Self->SpinLocksHeld);
    if (!IsListEmpty(&Self->MutantListHead) && VfIsEnabled()) {
        PKMUTEX m = CONTAINING_RECORD(Self->MutantListHead.Flink, KMUTEX, MutantListEntry);
        VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, 0x100A, (ULONG_PTR)Self, (ULONG_PTR)m, 0,
                   (const void *)(ULONG_PTR)Self->StartRoutine, NULL,
                   "thread %s terminated while owning mutex %p", Self->Name, (void *)m);
    }
    if (Self->KernelApcDisable != 0 && VfIsEnabled())
        VfBugCheck(APC_INDEX_MISMATCH, (ULONG_PTR)Self->StartRoutine, 0, (ULONG_PTR)Self->KernelApcDisable, 0,
                   (const void *)(ULONG_PTR)Self->StartRoutine, NULL,
                   "thread %s exited inside a critical region (KeEnterCriticalRegion without "
                   "KeLeaveCriticalRegion)",
                   Self->Name);
}

/* KipLeaveCpu: the current thread ends as an nthost thread — its mutexes are
 * abandoned, waiters on the thread object are released, the reaper gets the object —
 * and gives the CPU to the next thread for good; the host thread goes on without it. */
static void KipLeaveCpu(PKTHREAD Self)
{
    KiAbandonMutexes(Self);
    Self->State = KiThreadTerminated;
    RemoveEntryList(&Self->ThreadListEntry);
    InitializeListHead(&Self->ThreadListEntry);
    Self->Header.SignalState = 1;
    KiSignalObject(&Self->Header);
    InsertTailList(&Ki.ReapList, &Self->ReadyListEntry);
    KiSwapThread();
    KiSelf = NULL;
    pthread_mutex_unlock(&Ki.Lock);
}

VOID KiExitThread(NTSTATUS ExitStatus)
{
    PKTHREAD self = KiRequireCurrentThread("KiExitThread");
    IopThreadRundown(self); /* IoCancelThreadIo: the thread's outstanding IRPs */
    KiDeliverPending();
    KipVerifyThreadExit(self);
    self->ExitStatus = ExitStatus;
    KipLeaveCpu(self);
    if (KipExitJump)
        longjmp(*KipExitJump, 1);
    pthread_exit(NULL);
}

PKTHREAD KiAttachHostThread(PCSTR Name)
{
    PKTHREAD t;
    pthread_mutex_lock(&Ki.Lock);
    if (ObpCreateObject(ObpThreadType, sizeof(KTHREAD), (PVOID *)&t) != STATUS_SUCCESS) {
        pthread_mutex_unlock(&Ki.Lock);
        return NULL;
    }
    KiInitializeThreadObject(t, KiThreadKindBoot, Name);
    t->Pthread = pthread_self();
    ObReferenceObject(t); /* the running reference */
    KiSelf = t;
    KiReadyThread(t);
    KipWaitForCpu(t);
    return t;
}

VOID KiDetachHostThread(void)
{
    KipLeaveCpu(KiRequireCurrentThread("KiDetachHostThread"));
}

/* ---- Idle thread ----------------------------------------------------------------------- */

static void KipDeadlock(void)
{
    /* The thread list (what each one waits on) follows in the bug check report. */
    fprintf(stderr, "*** nthost: DEADLOCK — every thread is blocked and no timer, timeout or device "
                    "event can wake any of them (machine time %.6f s)\n",
            (double)KiNow() / 1e9);
    PKTHREAD first = NULL;
    for (PLIST_ENTRY e = Ki.ThreadList.Flink; e != &Ki.ThreadList; e = e->Flink) {
        PKTHREAD t = CONTAINING_RECORD(e, KTHREAD, ThreadListEntry);
        if (t->Kind != KiThreadKindIdle && t->WaitCount > 0) {
            first = t;
            break;
        }
    }
    PVOID object = first ? first->WaitBlockList[0].Object : NULL;
    VfBugCheck(DRIVER_VERIFIER_DETECTED_VIOLATION, 0x1001, (ULONG_PTR)object, (ULONG_PTR)first, 0,
               first ? first->WaitCaller : NULL, first && !first->WaitCaller ? first->WaitDescription : NULL,
               "deadlock: every thread waits and nothing can wake any of them (threads below)");
}

/* KipIdleWait: let machine time pass until When (or until a device event). */
static void KipIdleWait(PKTHREAD Self, sim_time_t When)
{
    if (!Ki.Config.RealTime) {
        sim_clock_advance_to(Ki.Clock, When);
        return;
    }
    sim_time_t host_deadline = Ki.RealBase + When;
    struct timespec ts = { .tv_sec = (time_t)(host_deadline / 1000000000u),
                           .tv_nsec = (long)(host_deadline % 1000000000u) };
    /* Nothing signals the idle thread in real mode but shutdown; a spurious or early
     * wake-up just loops. Ki.Current stays Self, so no other thread runs meanwhile. */
    pthread_cond_timedwait(&Self->Wakeup, &Ki.Lock, &ts);
    KiNow();
}

static void KipIdleMain(void *Context)
{
    PKTHREAD self = KiSelf;
    sim_time_t device_only_since = 0;
    ULONG device_only_jumps = 0;
    BOOLEAN device_only = FALSE;
    UNREFERENCED_PARAMETER(Context);
    for (;;) {
        if (Ki.ShuttingDown)
            return;
        KiDeliverPending();
        if (Ki.ReadySummary != 0) {
            /* The idle thread is never queued: it runs again when KiSwapThread finds
             * the ready queue empty. */
            device_only = FALSE;
            KipRun(KipSelectNext());
            self->State = KiThreadReady;
            KipWaitForCpu(self);
            continue;
        }
        sim_time_t kernel_deadline, device_deadline;
        BOOLEAN have_kernel = KiNextDeadline(&kernel_deadline);
        BOOLEAN have_device = sim_clock_next_event(Ki.Clock, &device_deadline);
        if (!have_kernel && !have_device)
            KipDeadlock();
        if (!have_kernel || (have_device && device_deadline < kernel_deadline)) {
            if (!have_kernel) {
                if (!device_only) {
                    device_only = TRUE;
                    device_only_since = KiNow();
                    device_only_jumps = 0;
                } else if (KiNow() - device_only_since > KI_IDLE_DEVICE_ONLY_LIMIT ||
                           ++device_only_jumps > KI_IDLE_DEVICE_ONLY_JUMPS) {
                    KipDeadlock();
                }
            }
            KipIdleWait(self, device_deadline);
        } else {
            device_only = FALSE;
            KipIdleWait(self, kernel_deadline);
        }
    }
}

/* ---- Initialization and shutdown ---------------------------------------------------- */

VOID KiInitialize(const KI_CONFIG *Config, sim_clock *Clock, sim_bus *Bus, PCSTR BootThreadName)
{
    pthread_mutex_lock(&Ki.Lock);
    KI_CONFIG cfg = { 0 };
    if (Config)
        cfg = *Config;
    else
        cfg.Verifier = DBG ? TRUE : FALSE;
    if (cfg.Quantum == 0)
        cfg.Quantum = KI_DEFAULT_QUANTUM;
    if (cfg.RandomPreemptPercent == 0)
        cfg.RandomPreemptPercent = 25;
    /* $NTHOST_PREEMPT_SEED turns random preemption on for any host (race hunting over
     * a whole test suite) unless the configuration already chose a seed. */
    const char *seed = getenv("NTHOST_PREEMPT_SEED");
    if (cfg.RandomPreemptSeed == 0 && seed && *seed)
        cfg.RandomPreemptSeed = (ULONG)strtoul(seed, NULL, 0);
    Ki.Config = cfg;
    Ki.ShuttingDown = FALSE;
    Ki.Clock = Clock;
    Ki.Bus = NULL;
    InitializeListHead(&Ki.ThreadList);
    for (int i = 0; i < KI_PRIORITY_LEVELS; i++)
        InitializeListHead(&Ki.ReadyQueue[i]);
    Ki.ReadySummary = 0;
    InitializeListHead(&Ki.TimerList);
    InitializeListHead(&Ki.DpcList);
    InitializeListHead(&Ki.ReapList);
    for (int i = 0; i < KI_ISA_IRQS; i++) {
        InitializeListHead(&Ki.InterruptList[i]);
        Ki.IrqLine[i] = Ki.IrqLatched[i] = FALSE;
    }
    Ki.PendingIrqs = 0;
    Ki.NextThreadId = 4;
    Ki.RandomState = cfg.RandomPreemptSeed ? cfg.RandomPreemptSeed : 1;
    Ki.RealBase = KipHostMonotonicNs() - (Clock ? sim_now(Clock) : 0);
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    Ki.SystemTimeBase = KI_UNIX_EPOCH_AS_NT + (LONGLONG)rt.tv_sec * 10000000LL + rt.tv_nsec / 100 -
                        (LONGLONG)((Clock ? sim_now(Clock) : 0) / KI_NS_PER_TICK100);
    VfSetEnabled(cfg.Verifier);
    KiSystemProcess.Header.Type = ProcessObject;
    KiSystemProcess.UniqueProcessId = 4;
    strcpy(KiSystemProcess.ImageFileName, "System");

    PKTHREAD boot;
    ObpCreateObject(ObpThreadType, sizeof(KTHREAD), (PVOID *)&boot);
    KiInitializeThreadObject(boot, KiThreadKindBoot, BootThreadName ? BootThreadName : "boot");
    boot->Pthread = pthread_self();
    ObReferenceObject(boot); /* the running reference */
    KiSelf = boot;
    Ki.Current = boot;
    boot->State = KiThreadRunning;
    Ki.Initialized = TRUE;
    KiSetMachineBus(Bus);

    PKTHREAD idle;
    if (!NT_SUCCESS(KiCreateThread(KiThreadKindIdle, "Idle", KipIdleMain, NULL, &idle))) {
        fprintf(stderr, "nthost: cannot create the idle thread\n");
        abort();
    }
    idle->State = KiThreadReady;
    Ki.Idle = idle;
}

VOID KiShutdown(void)
{
    PKTHREAD self = KiRequireCurrentThread("KiShutdown");
    KiDeliverPending();
    ULONG others = KiLiveThreadCount() - 1;
    if (others != 0) {
        fprintf(stderr, "nthost: shutdown with %lu other thread(s) still alive; abandoning them:\n",
                (unsigned long)others);
        KiDumpThreads(stderr);
    }
    /* Let the idle thread see the flag and exit, then take the CPU back. */
    Ki.ShuttingDown = TRUE;
    PKTHREAD idle = Ki.Idle;
    Ki.Current = idle;
    pthread_cond_signal(&idle->Wakeup);
    pthread_mutex_unlock(&Ki.Lock);
    pthread_join(idle->Pthread, NULL);
    pthread_mutex_lock(&Ki.Lock);
    Ki.Current = self;
    Ki.Idle = NULL;
    ObDereferenceObject(idle); /* its running reference */
    ObDereferenceObject(idle); /* the creation reference */
    KipReap();
    KiSetMachineBus(NULL);
    RemoveEntryList(&self->ThreadListEntry);
    InitializeListHead(&self->ThreadListEntry);
    self->State = KiThreadTerminated;
    /* From here on no thread is current: pool and Ob treat that as PASSIVE_LEVEL. */
    Ki.Current = NULL;
    KiSelf = NULL;
    ObDereferenceObject(self); /* the running reference */
    ObDereferenceObject(self); /* the creation reference */
    ObpProcessDeferredDeletes();
    ObpShutdown();
    Ki.Initialized = FALSE;
    pthread_mutex_unlock(&Ki.Lock);
}

/* ---- Reports -------------------------------------------------------------------------- */

static const char *KipStateName(KI_THREAD_STATE State)
{
    switch (State) {
    case KiThreadInitialized: return "initialized";
    case KiThreadReady: return "ready";
    case KiThreadRunning: return "running";
    case KiThreadWaiting: return "waiting";
    case KiThreadTerminated: return "terminated";
    }
    return "?";
}

VOID KiDumpThreads(void *File)
{
    FILE *f = File;
    sim_time_t now = Ki.Clock ? sim_now(Ki.Clock) : 0;
    for (PLIST_ENTRY e = Ki.ThreadList.Flink; e != &Ki.ThreadList; e = e->Flink) {
        PKTHREAD t = CONTAINING_RECORD(e, KTHREAD, ThreadListEntry);
        if (t->Kind == KiThreadKindIdle)
            continue;
        fprintf(f, "  thread %lu \"%s\": %s, IRQL %u", (unsigned long)t->UniqueThread, t->Name,
                KipStateName(t->State), t->Irql);
        if (t->State != KiThreadWaiting) {
            fputc('\n', f);
            continue;
        }
        fprintf(f, ", in %s", t->WaitDescription ? t->WaitDescription : "a wait");
        if (t->WaitCaller) {
            char caller[160];
            VfDescribeAddress(t->WaitCaller, caller, sizeof caller);
            PCSTR image = VfImageOfAddress(t->WaitCaller, NULL);
            fprintf(f, " called from %s%s%s", caller, image ? " in driver " : "", image ? image : "");
        }
        fprintf(f, " since %.6f s", (double)t->WaitStart / 1e9);
        if (t->WaitHasDeadline)
            fprintf(f, ", timeout in %.6f s", (double)(t->WaitDeadline - now) / 1e9);
        else
            fputs(", no timeout", f);
        fputc('\n', f);
        for (ULONG i = 0; i < t->WaitCount; i++) {
            PDISPATCHER_HEADER obj = t->WaitBlockList[i].Object;
            char where[160];
            VfDescribeAddress(obj, where, sizeof where);
            fprintf(f, "    %s %s %p (%s)", i == 0 ? "waits for" : (t->WaitType == WaitAll ? "and" : "or"),
                    KiObjectKindName(obj), (void *)obj, where);
            if (obj->Type == MutantObject) {
                PKMUTEX m = (PKMUTEX)obj;
                if (m->OwnerThread)
                    fprintf(f, ", owned by thread %lu \"%s\"", (unsigned long)m->OwnerThread->UniqueThread,
                            m->OwnerThread->Name);
            } else if (obj->Type == ThreadObject) {
                fprintf(f, ", thread %lu \"%s\" to exit", (unsigned long)((PKTHREAD)obj)->UniqueThread,
                        ((PKTHREAD)obj)->Name);
            }
            fputc('\n', f);
        }
    }
}
