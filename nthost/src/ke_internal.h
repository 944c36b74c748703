/*
 * ke_internal.h — nthost's kernel core as the other nthost subsystems see it: the
 * thread structure, the uniprocessor token scheduler, the machine clock and bus,
 * dispatcher-object helpers and the init/shutdown hooks. (Drivers never see this.)
 *
 * The model (docs/INTERNALS.md, "The kernel model"): exactly one nthost thread runs
 * at a time — it holds the CPU token (KiLock, a pthread mutex, is held by the running
 * thread for as long as it runs). A thread gives the token up only when it blocks,
 * terminates, or is preempted at a preemption point below DISPATCH_LEVEL. Every
 * routine in this header must be called by the running nthost thread unless it says
 * otherwise.
 */
#ifndef NTHOST_KE_INTERNAL_H
#define NTHOST_KE_INTERNAL_H

#include <pthread.h>
#include <ntddk.h>
#include "sim/bus.h"
#include "sim/clock.h"

/* ---- Configuration and life cycle ----------------------------------------------- */

typedef struct _KI_CONFIG {
    BOOLEAN RealTime;          /* clock follows CLOCK_MONOTONIC; idle sleeps instead of jumping */
    sim_time_t Quantum;        /* round-robin time slice in machine ns; 0 = KI_DEFAULT_QUANTUM */
    ULONG RandomPreemptSeed;   /* nonzero: also preempt at random preemption points (race tests) */
    ULONG RandomPreemptPercent; /* chance per preemption point, 0 = 25 */
    BOOLEAN Verifier;          /* driver verifier checks (default: on when DBG) */
} KI_CONFIG, *PKI_CONFIG;

#define KI_DEFAULT_QUANTUM SIM_MS(1)

/* Thread priorities, as NT's: 0..31, 16..31 real time; the scheduler runs the
 * highest-priority ready thread, round robin within a priority. System, Win32 and
 * boot threads start at 8 (PsCreateSystemThread's default); the idle thread is 0. */
#define KI_PRIORITY_LEVELS 32
#define KI_DEFAULT_PRIORITY 8

/* Starts the kernel on `Clock` (and `Bus`, may be NULL until the machine exists) and
 * makes the calling pthread the first nthost thread, named `BootThreadName`, at
 * PASSIVE_LEVEL. Creates the idle thread. `Config` may be NULL for defaults. */
VOID KiInitialize(const KI_CONFIG *Config, sim_clock *Clock, sim_bus *Bus, PCSTR BootThreadName);
/* Stops the kernel. Called by the boot thread after every other nthost thread has
 * terminated (others still alive are reported and abandoned). */
VOID KiShutdown(VOID);
BOOLEAN KiIsInitialized(VOID);

sim_clock *KiClock(VOID);
sim_bus *KiBus(VOID);
/* Installs the machine's bus: HAL port I/O goes there and its IRQ lines reach
 * IoConnectInterrupt'ed ISRs. NULL detaches (ports then read 0xFF). */
VOID KiSetMachineBus(sim_bus *Bus);
BOOLEAN KiIsRealTime(VOID);

/* Machine time now, in ns since power-on (real mode: brings the clock up to date). */
sim_time_t KiNow(VOID);
/* NT interrupt time (100 ns units since boot) <-> machine time. */
#define KI_NS_PER_TICK100 100u
static inline ULONGLONG KiNsToInterruptTime(sim_time_t ns) { return ns / KI_NS_PER_TICK100; }
/* Converts an NT timeout (negative relative / positive absolute system time, 100 ns)
 * to an absolute machine time. */
sim_time_t KiTimeoutToDeadline(LONGLONG Timeout);

/* ---- Threads --------------------------------------------------------------------- */

typedef enum _KI_THREAD_STATE {
    KiThreadInitialized,
    KiThreadReady,
    KiThreadRunning,
    KiThreadWaiting,
    KiThreadTerminated,
} KI_THREAD_STATE;

typedef enum _KI_THREAD_KIND {
    KiThreadKindBoot,   /* the thread that booted nthost (a host program's main thread) */
    KiThreadKindSystem, /* PsCreateSystemThread */
    KiThreadKindWin32,  /* CreateThread in the Win32 personality */
    KiThreadKindIdle,
} KI_THREAD_KIND;

#define KI_THREAD_NAME_MAX 48

/* The thread object (also PETHREAD). The dispatcher header comes first: a thread is
 * waitable and signalled when it terminates. Allocated as an Ob object of type
 * *PsThreadType, so handles and references keep it alive after it exits. */
struct _KTHREAD {
    DISPATCHER_HEADER Header;
    LIST_ENTRY ThreadListEntry; /* KiThreadList */
    LIST_ENTRY ReadyListEntry;  /* KiReadyList while Ready */
    KI_THREAD_STATE State;
    KI_THREAD_KIND Kind;
    KIRQL Irql;
    char Name[KI_THREAD_NAME_MAX];
    ULONG_PTR UniqueThread; /* thread id (multiple of 4, as on NT) */
    pthread_t Pthread;
    pthread_cond_t Wakeup; /* the thread sleeps here while it does not hold the CPU */
    BOOLEAN PthreadStarted;

    PKSTART_ROUTINE StartRoutine;
    PVOID StartContext;
    NTSTATUS ExitStatus;

    /* Wait state. */
    KWAIT_BLOCK WaitBlock[THREAD_WAIT_OBJECTS];
    PKWAIT_BLOCK WaitBlockList;
    ULONG WaitCount;
    WAIT_TYPE WaitType;
    KWAIT_REASON WaitReason;
    NTSTATUS WaitStatus;
    BOOLEAN WaitHasDeadline;
    sim_time_t WaitDeadline;
    sim_time_t WaitStart;
    PCSTR WaitDescription; /* for the deadlock report, e.g. "KeDelayExecutionThread" */
    const void *WaitCaller; /* code that called the wait routine (set by the Ke wrappers) */

    LIST_ENTRY MutantListHead; /* mutexes owned */
    LONG KernelApcDisable;     /* KeEnterCriticalRegion / mutex depth (negative when disabled) */
    KPRIORITY Priority;           /* 0..31: which ready queue the thread joins */
    KPROCESSOR_MODE PreviousMode; /* ExGetPreviousMode: UserMode while Io runs a Win32 request */

    /* Scheduling and verifier bookkeeping. */
    sim_time_t SliceStart;
    sim_time_t SliceCarried;    /* quantum used before a higher-priority thread preempted it */
    sim_time_t RaisedSince;     /* machine time the IRQL went to DISPATCH_LEVEL or above */
    ULONG SpinLocksHeld;
    sim_time_t LockedSince;     /* machine time the first spin lock now held was acquired */
    BOOLEAN RaisedWarned;       /* a 50 us warning was given for the current raised interval */
    BOOLEAN InDpc;
    const void *StartImage;     /* base of the driver image that owns StartRoutine, if any */

    /* Win32 personality slots (owned by win32_*.c). */
    ULONG Win32LastError;
    PVOID Win32Context;
};

/* The running thread (NULL on a pthread that is not an nthost thread). */
PKTHREAD KiCurrentThread(VOID);
/* Like KiCurrentThread but bugchecks with a clear message when the caller is not an
 * nthost thread (a host thread calling into nthost without being registered). */
PKTHREAD KiRequireCurrentThread(PCSTR Routine);

/* Creates and readies a thread running Start(Context). Returns it referenced once
 * (the caller dereferences it with ObDereferenceObject). The driver image owning
 * Start is recorded for the unload checks. */
NTSTATUS KiCreateThread(KI_THREAD_KIND Kind, PCSTR Name, PKSTART_ROUTINE Start, PVOID Context, PKTHREAD *Thread);
/* Terminates the calling thread (signals the thread object). */
DECLSPEC_NORETURN VOID KiExitThread(NTSTATUS ExitStatus);
/* Registers the calling pthread as an nthost thread (a Win32 program's main thread
 * after boot, or a second host thread); returns its referenced thread object. */
PKTHREAD KiAttachHostThread(PCSTR Name);
/* Unregisters a thread attached with KiAttachHostThread (it must hold the CPU). */
VOID KiDetachHostThread(VOID);
/* Number of live (not terminated) nthost threads, idle excluded. */
ULONG KiLiveThreadCount(VOID);

/* ---- Scheduling ------------------------------------------------------------------- */

/* A preemption point: delivers due timers, DPCs and interrupts, and below
 * DISPATCH_LEVEL switches threads if a higher-priority thread is ready, the quantum
 * expired with another thread of the same priority ready (or random preemption says
 * so). Every HAL access and stall calls this. */
VOID KiPreemptionPoint(VOID);
/* Delivers what is due at the current IRQL without switching threads. */
VOID KiDeliverPending(VOID);
/* Yields the CPU to the next ready thread of the caller's priority or higher, if any
 * (Win32 SwitchToThread / Sleep(0), KeDelayExecutionThread with a zero interval). */
BOOLEAN KiYield(VOID);

/* ---- Dispatcher objects ----------------------------------------------------------- */

/* Generic wait used by KeWaitFor*; `Objects` point at DISPATCHER_HEADERs. Win32 waits
 * call this too (UserMode, Alertable ignored: nthost has no APCs). Returns
 * STATUS_INVALID_PARAMETER_MIX for a wait-all naming one object twice. */
NTSTATUS KiWaitForObjects(ULONG Count, PVOID Objects[], WAIT_TYPE WaitType, KWAIT_REASON Reason,
                          KPROCESSOR_MODE Mode, PLARGE_INTEGER Timeout, PKWAIT_BLOCK WaitBlockArray,
                          PCSTR Description);
/* Satisfies waiters after an object's SignalState became positive. */
VOID KiSignalObject(PDISPATCHER_HEADER Object);
/* Human-readable kind of a dispatcher object, for reports. */
PCSTR KiObjectKindName(const DISPATCHER_HEADER *Object);

/* The one process (System). */
struct _KPROCESS {
    DISPATCHER_HEADER Header;
    ULONG_PTR UniqueProcessId;
    char ImageFileName[16];
};
extern KPROCESS KiSystemProcess;

/* ---- Interrupts --------------------------------------------------------------------- */

struct _KINTERRUPT {
    CSHORT Type; /* InterruptObject */
    CSHORT Size;
    LIST_ENTRY InterruptListEntry;
    PKSERVICE_ROUTINE ServiceRoutine;
    PVOID ServiceContext;
    KSPIN_LOCK SpinLock; /* used unless the caller supplied one */
    PKSPIN_LOCK ActualLock;
    ULONG Vector;
    KIRQL Irql;
    KIRQL SynchronizeIrql;
    KINTERRUPT_MODE Mode;
    BOOLEAN ShareVector;
    BOOLEAN Connected;
};

/* ISA IRQ <-> system vector and DIRQL, as HalGetInterruptVector hands them out. */
#define KI_PRIMARY_VECTOR_BASE 0x30
#define KI_ISA_IRQS 16
KIRQL KiIrqlForIrq(ULONG Irq);

/* ---- Unload checks ------------------------------------------------------------------ */

/* Bugchecks if anything still refers to code or data in [Base, Base+Size): set timers
 * (TIMER_OR_DPC_INVALID), queued DPCs, connected interrupts, live threads started in
 * the image (DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS). */
VOID KiCheckImageUnload(PCSTR ImageName, PVOID Base, SIZE_T Size);

/* ---- Reports -------------------------------------------------------------------------- */

/* Writes every thread, its state and what it waits on (the deadlock report body). */
VOID KiDumpThreads(void *File /* FILE* */);

#endif /* NTHOST_KE_INTERNAL_H */
