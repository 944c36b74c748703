/*
 * ki.h — state shared by the kernel core's own files (ke_*.c, ps_thread.c, hal_port.c).
 * Everything here is touched only by the thread holding the CPU token (Ki.Lock).
 */
#ifndef NTHOST_KI_H
#define NTHOST_KI_H

#include "bugcheck.h"
#include "ke_internal.h"

typedef struct _KI_STATE {
    pthread_mutex_t Lock; /* the CPU token: held by the running nthost thread */
    BOOLEAN Initialized;
    BOOLEAN ShuttingDown;
    KI_CONFIG Config;
    sim_clock *Clock;
    sim_bus *Bus;
    PKTHREAD Current;
    PKTHREAD Idle;
    LIST_ENTRY ThreadList; /* live threads (idle included) */
    LIST_ENTRY ReadyQueue[KI_PRIORITY_LEVELS]; /* ready threads, one FIFO per priority */
    ULONG ReadySummary;                        /* bit n set: ReadyQueue[n] is not empty */
    LIST_ENTRY TimerList;  /* set KTIMERs, by DueTime */
    LIST_ENTRY DpcList;
    LIST_ENTRY ReapList;   /* terminated threads whose running reference is still held */
    ULONG_PTR NextThreadId;
    LONGLONG SystemTimeBase; /* NT system time (100 ns since 1601) at machine time 0 */
    sim_time_t RealBase;     /* CLOCK_MONOTONIC ns at machine time 0 (real mode) */
    ULONG RandomState;
    /* Interrupts: lines as the bus reports them, latched rising edges, connections. */
    BOOLEAN IrqLine[KI_ISA_IRQS];
    BOOLEAN IrqLatched[KI_ISA_IRQS];
    LIST_ENTRY InterruptList[KI_ISA_IRQS];
    ULONG PendingIrqs; /* count of lines that may need delivery */
} KI_STATE;

extern KI_STATE Ki;

/* Thread of the calling pthread (TLS). */
extern __thread PKTHREAD KiSelf;

/* Scheduler (ke_sched.c). */
/* Queues Thread at the tail of the ready queue of its priority. */
VOID KiReadyThread(PKTHREAD Thread);
/* Moves Thread to Priority, requeueing it when it is ready (KeSetPriorityThread). */
VOID KiSetThreadPriority(PKTHREAD Thread, KPRIORITY Priority);
/* Gives up the CPU; Self->State says why (Ready and queued, Waiting, Terminated).
 * Returns when the thread runs again (never for Terminated). */
VOID KiSwapThread(VOID);
VOID KiUnwaitThread(PKTHREAD Thread, NTSTATUS WaitStatus);

/* IRQL primitives without verifier checks (ke_irql.c). */
VOID KiSetIrql(PKTHREAD Thread, KIRQL NewIrql);
VOID KiRunDpcs(VOID);
VOID KiDeliverInterrupts(VOID);
VOID KiAcquireSpinLockChecked(PKSPIN_LOCK Lock, const void *Caller);
VOID KiReleaseSpinLockChecked(PKSPIN_LOCK Lock, const void *Caller);

/* Timers and deadlines (ke_timer.c). */
VOID KiExpireTimers(VOID);
BOOLEAN KiNextDeadline(sim_time_t *When);
/* A set timer, queued DPC or timer whose DPC routine lies in [Lo, Hi), or NULL. */
PKTIMER KiFindTimerInRange(ULONG_PTR Lo, ULONG_PTR Hi, ULONG *What);

/* Dispatcher helpers (ke_wait.c). */
VOID KiAbandonMutexes(PKTHREAD Thread);

/* Interrupts (ke_interrupt.c). */
VOID KiBusIrq(void *Context, unsigned Irq, bool Asserted);
PKINTERRUPT KiFindInterruptInRange(ULONG_PTR Lo, ULONG_PTR Hi);

/* Thread object type operations (ps_thread.c). */
VOID KiInitializeThreadObject(PKTHREAD Thread, KI_THREAD_KIND Kind, PCSTR Name);

#endif /* NTHOST_KI_H */
