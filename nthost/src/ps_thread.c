/*
 * ps_thread.c — system threads (PsCreateSystemThread, PsTerminateSystemThread), the
 * thread, process, event and semaphore object types, and the thread queries.
 *
 * A thread object is waitable: it is signalled when the thread terminates, so a
 * driver's unload routine can wait for its worker thread to finish (the NT idiom:
 * ObReferenceObjectByHandle(PsThreadType) + KeWaitForSingleObject).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ex_internal.h"
#include "ki.h"
#include "ob_internal.h"

KPROCESS KiSystemProcess;

static VOID PspDeleteThread(PVOID Object)
{
    PKTHREAD t = Object;
    pthread_cond_destroy(&t->Wakeup);
}

static OBJECT_TYPE PspThreadType = {
    .Name = "Thread",
    .PoolTag = 'erhT',
    .DeleteProcedure = PspDeleteThread,
    .GenericMapping = { STANDARD_RIGHTS_READ | THREAD_QUERY_INFORMATION | SYNCHRONIZE,
                        STANDARD_RIGHTS_WRITE | THREAD_TERMINATE | THREAD_SUSPEND_RESUME | THREAD_SET_INFORMATION,
                        STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE, THREAD_ALL_ACCESS },
    .ValidAccessMask = THREAD_ALL_ACCESS,
    .WaitObjectOffset = 0,
};
static OBJECT_TYPE PspProcessType = {
    .Name = "Process",
    .PoolTag = 'corP',
    .GenericMapping = { STANDARD_RIGHTS_READ | SYNCHRONIZE, STANDARD_RIGHTS_WRITE, STANDARD_RIGHTS_EXECUTE,
                        STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0xFFFF },
    .WaitObjectOffset = 0,
};
static OBJECT_TYPE ExpEventType = {
    .Name = "Event",
    .PoolTag = 'tnvE',
    .GenericMapping = { STANDARD_RIGHTS_READ | EVENT_QUERY_STATE, STANDARD_RIGHTS_WRITE | EVENT_MODIFY_STATE,
                        STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE, EVENT_ALL_ACCESS },
    .ValidAccessMask = EVENT_ALL_ACCESS,
    .WaitObjectOffset = 0,
};
static OBJECT_TYPE ExpSemaphoreType = {
    .Name = "Semaphore",
    .PoolTag = 'ameS',
    .GenericMapping = { STANDARD_RIGHTS_READ | SEMAPHORE_QUERY_STATE, STANDARD_RIGHTS_WRITE | SEMAPHORE_MODIFY_STATE,
                        STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE, SEMAPHORE_ALL_ACCESS },
    .ValidAccessMask = SEMAPHORE_ALL_ACCESS,
    .WaitObjectOffset = 0,
};

POBJECT_TYPE ObpThreadType = &PspThreadType;
POBJECT_TYPE ObpEventType = &ExpEventType;
POBJECT_TYPE ObpSemaphoreType = &ExpSemaphoreType;
static POBJECT_TYPE PspProcessTypePtr = &PspProcessType;
POBJECT_TYPE *PsThreadType = &ObpThreadType;
POBJECT_TYPE *PsProcessType = &PspProcessTypePtr;
POBJECT_TYPE *ExEventObjectType = &ObpEventType;
POBJECT_TYPE *ExSemaphoreObjectType = &ObpSemaphoreType;

VOID KiInitializeThreadObject(PKTHREAD Thread, KI_THREAD_KIND Kind, PCSTR Name)
{
    Thread->Header.Type = ThreadObject;
    Thread->Header.Size = sizeof(KTHREAD) / sizeof(LONG);
    Thread->Header.SignalState = 0;
    InitializeListHead(&Thread->Header.WaitListHead);
    InitializeListHead(&Thread->MutantListHead);
    InitializeListHead(&Thread->ReadyListEntry);
    /* Monotonic: the idle thread's real-time sleeps are deadlines on CLOCK_MONOTONIC. */
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&Thread->Wakeup, &attr);
    pthread_condattr_destroy(&attr);
    Thread->Kind = Kind;
    Thread->State = KiThreadInitialized;
    Thread->Irql = PASSIVE_LEVEL;
    Thread->Priority = Kind == KiThreadKindIdle ? LOW_PRIORITY : KI_DEFAULT_PRIORITY;
    Thread->PreviousMode = Kind == KiThreadKindWin32 || Kind == KiThreadKindBoot ? UserMode : KernelMode;
    snprintf(Thread->Name, sizeof Thread->Name, "%s", Name ? Name : "thread");
    Thread->UniqueThread = Ki.NextThreadId;
    Ki.NextThreadId += 4;
    InsertTailList(&Ki.ThreadList, &Thread->ThreadListEntry);
}

NTSTATUS ExpCreateEventObject(EVENT_TYPE Type, BOOLEAN InitialState, PKEVENT *Event)
{
    NTSTATUS status = ObpCreateObject(ObpEventType, sizeof(KEVENT), (PVOID *)Event);
    if (NT_SUCCESS(status))
        KeInitializeEvent(*Event, Type, InitialState);
    return status;
}

NTSTATUS ExpCreateSemaphoreObject(LONG Count, LONG Limit, PKSEMAPHORE *Semaphore)
{
    NTSTATUS status = ObpCreateObject(ObpSemaphoreType, sizeof(KSEMAPHORE), (PVOID *)Semaphore);
    if (NT_SUCCESS(status))
        KeInitializeSemaphore(*Semaphore, Count, Limit);
    return status;
}

/* PsCreateSystemThread: a kernel thread running StartRoutine(StartContext), readied
 * at once; *ThreadHandle is a handle with DesiredAccess (kernel handle when the
 * attributes say OBJ_KERNEL_HANDLE, as drivers should ask). */
NTSTATUS NTAPI PsCreateSystemThread(PHANDLE ThreadHandle, ULONG DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                                    HANDLE ProcessHandle, PCLIENT_ID ClientId, PKSTART_ROUTINE StartRoutine,
                                    PVOID StartContext)
{
    PKTHREAD self = KiRequireCurrentThread("PsCreateSystemThread");
    UNREFERENCED_PARAMETER(ProcessHandle);
    if (self->Irql != PASSIVE_LEVEL && VfIsEnabled())
        VfBugCheck(IRQL_NOT_LESS_OR_EQUAL, 0, self->Irql, 0, (ULONG_PTR)__builtin_return_address(0),
                   __builtin_return_address(0), NULL, "PsCreateSystemThread at IRQL %u (must be PASSIVE_LEVEL)",
                   self->Irql);
    char name[KI_THREAD_NAME_MAX];
    VfDescribeAddress((const void *)(ULONG_PTR)StartRoutine, name, sizeof name);
    PKTHREAD t;
    NTSTATUS status = KiCreateThread(KiThreadKindSystem, name, StartRoutine, StartContext, &t);
    if (!NT_SUCCESS(status))
        return status;
    status = ObpCreateHandle(t, DesiredAccess, ObjectAttributes ? ObjectAttributes->Attributes : 0, ThreadHandle);
    if (NT_SUCCESS(status) && ClientId) {
        ClientId->UniqueProcess = (HANDLE)KiSystemProcess.UniqueProcessId;
        ClientId->UniqueThread = (HANDLE)t->UniqueThread;
    }
    ObDereferenceObject(t);
    /* Readying a thread is a preemption point. */
    KiPreemptionPoint();
    return status;
}

/* PsTerminateSystemThread: ends the calling system thread; any other caller gets
 * STATUS_INVALID_PARAMETER, as on NT. */
NTSTATUS NTAPI PsTerminateSystemThread(NTSTATUS ExitStatus)
{
    PKTHREAD self = KiRequireCurrentThread("PsTerminateSystemThread");
    if (self->Kind != KiThreadKindSystem)
        return STATUS_INVALID_PARAMETER;
    KiExitThread(ExitStatus);
}

PETHREAD NTAPI PsGetCurrentThread(VOID) { return KiRequireCurrentThread("PsGetCurrentThread"); }
PKTHREAD NTAPI KeGetCurrentThread(VOID) { return KiRequireCurrentThread("KeGetCurrentThread"); }
HANDLE NTAPI PsGetCurrentThreadId(VOID) { return (HANDLE)KiRequireCurrentThread("PsGetCurrentThreadId")->UniqueThread; }
HANDLE NTAPI PsGetThreadId(PETHREAD Thread) { return (HANDLE)Thread->UniqueThread; }
PEPROCESS NTAPI PsGetCurrentProcess(VOID) { return &KiSystemProcess; }
HANDLE NTAPI PsGetCurrentProcessId(VOID) { return (HANDLE)KiSystemProcess.UniqueProcessId; }
BOOLEAN NTAPI PsIsSystemThread(PETHREAD Thread) { return Thread->Kind == KiThreadKindSystem; }
ULONG NTAPI KeGetCurrentProcessorNumber(VOID) { return 0; }
KPROCESSOR_MODE NTAPI ExGetPreviousMode(VOID) { return KiRequireCurrentThread("ExGetPreviousMode")->PreviousMode; }

/* KeSetPriorityThread: Thread's new priority (LOW_PRIORITY+1..HIGH_PRIORITY, which NT
 * asserts); returns the old one. A ready thread moves to its new ready queue; a
 * thread now outranked, or outranking the caller, switches at once when the caller's
 * IRQL allows (<= DISPATCH_LEVEL to call; the switch waits for IRQL below DISPATCH). */
KPRIORITY NTAPI KeSetPriorityThread(PKTHREAD Thread, KPRIORITY Priority)
{
    PKTHREAD self = KiRequireCurrentThread("KeSetPriorityThread");
    if ((Priority <= LOW_PRIORITY || Priority > HIGH_PRIORITY || Thread->Kind == KiThreadKindIdle) &&
        VfIsEnabled())
        VfBugCheck(KMODE_EXCEPTION_NOT_HANDLED, (ULONG_PTR)(ULONG)STATUS_BREAKPOINT,
                   (ULONG_PTR)__builtin_return_address(0), 0, 0, __builtin_return_address(0), NULL,
                   "KeSetPriorityThread: priority %ld for thread %s (must be %d..%d, not the idle thread)",
                   (long)Priority, Thread->Name, LOW_PRIORITY + 1, HIGH_PRIORITY);
    KPRIORITY old = Thread->Priority;
    if (Priority < LOW_PRIORITY || Priority > HIGH_PRIORITY || Thread->Kind == KiThreadKindIdle)
        return old;
    KiSetThreadPriority(Thread, Priority);
    if (self->Irql < DISPATCH_LEVEL)
        KiPreemptionPoint();
    return old;
}

KPRIORITY NTAPI KeQueryPriorityThread(PKTHREAD Thread)
{
    return Thread->Priority;
}

/* NT 5.1 (XP), build 2600: the classic legacy-driver platform DongLpt targets. */
BOOLEAN NTAPI PsGetVersion(PULONG MajorVersion, PULONG MinorVersion, PULONG BuildNumber, PUNICODE_STRING CSDVersion)
{
    if (MajorVersion)
        *MajorVersion = 5;
    if (MinorVersion)
        *MinorVersion = 1;
    if (BuildNumber)
        *BuildNumber = 2600;
    if (CSDVersion)
        CSDVersion->Length = 0;
    return FALSE; /* free build */
}
