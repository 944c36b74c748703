/*
 * ntconf.c — the NT conformance test driver (service NtConf): a legacy driver written
 * against the DDK only, from the documented behaviour of each routine, as a third
 * party would write it. Each CONF_CASE (ntconf.h) runs inside IOCTL_CONF_RUN at
 * PASSIVE_LEVEL and reports the first check that failed; the other IOCTLs and the
 * read/write/create/cleanup/close paths give the Win32 program observable behaviour.
 */
#include <ntddk.h>

#include "ntconf.h"

#define CONF_TAG 'fnoC'
#define CONF_OPEN_MAGIC 0x4E54434Fu
#define MS(n) ((LONGLONG)(n) * 10000) /* 100-ns units */

DRIVER_INITIALIZE DriverEntry;

static PDEVICE_OBJECT ConfDevice;  /* \Device\NtConf */
static PDEVICE_OBJECT ConfLower;   /* unnamed: target of IRPs the cases build */
static PDEVICE_OBJECT ConfQueued;  /* unnamed: StartIo device */
static PDEVICE_OBJECT ConfDirect;  /* \Device\NtConfDirect: DO_DIRECT_IO reads and writes */
static CONF_RESULT *ConfOut;       /* result of the case running now */
static struct {
    KIRQL Irql;
    BOOLEAN SystemThread;
    KPROCESSOR_MODE PreviousMode;
    PDRIVER_OBJECT Driver;
} EntrySeen;                       /* how DriverEntry was called */
static KSPIN_LOCK ConfLogLock;
static WCHAR ConfRegistryPathBuffer[128];
static UNICODE_STRING ConfRegistryPath; /* DriverEntry's RegistryPath, kept */
static CONF_LOG ConfLog;

/* ---- checks -------------------------------------------------------------------------- */

static VOID ConfFail(ULONG Line, const char *What, LONGLONG Got, LONGLONG Expected)
{
    if (ConfOut->Line)
        return;
    ConfOut->Line = Line;
    ConfOut->Got = Got;
    ConfOut->Expected = Expected;
    ULONG i = 0;
    for (; What[i] && i < sizeof(ConfOut->What) - 1; i++)
        ConfOut->What[i] = What[i];
    ConfOut->What[i] = 0;
}

/* Stop the case at the first failed check: later checks usually depend on it. */
#define CHECK_EQ(got, expected)                                                        \
    do {                                                                               \
        LONGLONG g_ = (LONGLONG)(got), e_ = (LONGLONG)(expected);                      \
        if (g_ != e_) {                                                                \
            ConfFail(__LINE__, #got, g_, e_);                                          \
            return;                                                                    \
        }                                                                              \
    } while (0)
#define CHECK(cond) CHECK_EQ(!!(cond), 1)

static LARGE_INTEGER Rel(LONGLONG Ms)
{
    LARGE_INTEGER t;
    t.QuadPart = -MS(Ms);
    return t;
}

static LARGE_INTEGER ZeroTimeout(void)
{
    LARGE_INTEGER t;
    t.QuadPart = 0;
    return t;
}

static NTSTATUS WaitZero(PVOID Object)
{
    LARGE_INTEGER zero = ZeroTimeout();
    return KeWaitForSingleObject(Object, Executive, KernelMode, FALSE, &zero);
}

/* ---- dispatcher objects -------------------------------------------------------------- */

static VOID CaseEvents(void)
{
    KEVENT n, s;
    KeInitializeEvent(&n, NotificationEvent, FALSE);
    CHECK_EQ(KeReadStateEvent(&n), 0);
    CHECK_EQ(WaitZero(&n), STATUS_TIMEOUT);
    CHECK_EQ(KeSetEvent(&n, IO_NO_INCREMENT, FALSE), 0);
    CHECK(KeSetEvent(&n, IO_NO_INCREMENT, FALSE) != 0); /* previous state: signalled */
    CHECK_EQ(WaitZero(&n), STATUS_SUCCESS);
    CHECK_EQ(WaitZero(&n), STATUS_SUCCESS); /* a notification event stays signalled */
    CHECK(KeResetEvent(&n) != 0);
    CHECK_EQ(KeResetEvent(&n), 0);
    CHECK_EQ(WaitZero(&n), STATUS_TIMEOUT);

    KeInitializeEvent(&s, SynchronizationEvent, TRUE);
    CHECK(KeReadStateEvent(&s) != 0);
    CHECK_EQ(WaitZero(&s), STATUS_SUCCESS);
    CHECK_EQ(KeReadStateEvent(&s), 0); /* a satisfied wait resets it */
    CHECK_EQ(WaitZero(&s), STATUS_TIMEOUT);
    KeSetEvent(&s, IO_NO_INCREMENT, FALSE);
    KeClearEvent(&s);
    CHECK_EQ(KeReadStateEvent(&s), 0);
    CHECK_EQ(KePulseEvent(&n, IO_NO_INCREMENT, FALSE), 0);
    CHECK_EQ(KeReadStateEvent(&n), 0);

    /* At DISPATCH_LEVEL: setting is allowed, and so is a wait with a zero timeout. */
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    NTSTATUS before = WaitZero(&s);
    LONG prev = KeSetEvent(&s, IO_NO_INCREMENT, FALSE);
    NTSTATUS after = WaitZero(&s);
    KeLowerIrql(old);
    CHECK_EQ(before, STATUS_TIMEOUT);
    CHECK_EQ(prev, 0);
    CHECK_EQ(after, STATUS_SUCCESS);
}

static VOID CaseWaitTimeout(void)
{
    KEVENT e;
    KeInitializeEvent(&e, NotificationEvent, FALSE);
    ULONGLONG t0 = KeQueryInterruptTime();
    LARGE_INTEGER rel = Rel(10);
    CHECK_EQ(KeWaitForSingleObject(&e, Executive, KernelMode, FALSE, &rel), STATUS_TIMEOUT);
    CHECK(KeQueryInterruptTime() - t0 >= (ULONGLONG)MS(10));

    /* An absolute timeout already in the past: no wait at all. */
    LARGE_INTEGER past;
    KeQuerySystemTime(&past);
    past.QuadPart -= MS(1000);
    t0 = KeQueryInterruptTime();
    CHECK_EQ(KeWaitForSingleObject(&e, Executive, KernelMode, FALSE, &past), STATUS_TIMEOUT);
    CHECK(KeQueryInterruptTime() - t0 < (ULONGLONG)MS(1));

    /* An absolute timeout 10 ms ahead. */
    LARGE_INTEGER due;
    KeQuerySystemTime(&due);
    due.QuadPart += MS(10);
    CHECK_EQ(KeWaitForSingleObject(&e, Executive, KernelMode, FALSE, &due), STATUS_TIMEOUT);
    LARGE_INTEGER now;
    KeQuerySystemTime(&now);
    CHECK(now.QuadPart >= due.QuadPart);
}

static VOID CaseSemaphore(void)
{
    KSEMAPHORE s;
    KeInitializeSemaphore(&s, 0, 3);
    CHECK_EQ(KeReadStateSemaphore(&s), 0);
    CHECK_EQ(WaitZero(&s), STATUS_TIMEOUT);
    CHECK_EQ(KeReleaseSemaphore(&s, IO_NO_INCREMENT, 1, FALSE), 0); /* previous count */
    CHECK_EQ(KeReleaseSemaphore(&s, IO_NO_INCREMENT, 2, FALSE), 1);
    CHECK_EQ(KeReadStateSemaphore(&s), 3);
    CHECK_EQ(WaitZero(&s), STATUS_SUCCESS);
    CHECK_EQ(KeReadStateSemaphore(&s), 2);
    CHECK_EQ(WaitZero(&s), STATUS_SUCCESS);
    CHECK_EQ(WaitZero(&s), STATUS_SUCCESS);
    CHECK_EQ(KeReadStateSemaphore(&s), 0);
    CHECK_EQ(WaitZero(&s), STATUS_TIMEOUT);
}

static VOID CaseMutex(void)
{
    KMUTEX m;
    KeInitializeMutex(&m, 0);
    CHECK_EQ(KeReadStateMutex(&m), 1);
    CHECK_EQ(KeWaitForSingleObject(&m, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    CHECK_EQ(KeReadStateMutex(&m), 0);
    CHECK(KeAreApcsDisabled()); /* holding a mutex disables normal kernel APCs */
    CHECK_EQ(KeWaitForSingleObject(&m, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS); /* recursive */
    CHECK_EQ(KeReadStateMutex(&m), -1);
    CHECK(KeReleaseMutex(&m, FALSE) != 0); /* still owned after this release */
    CHECK_EQ(KeReleaseMutex(&m, FALSE), 0);  /* 0: released and signalled */
    CHECK_EQ(KeReadStateMutex(&m), 1);
    CHECK(!KeAreApcsDisabled());
}

static VOID CaseWaitMultiple(void)
{
    KEVENT s, n;
    PVOID both[2] = { &s, &n };
    LARGE_INTEGER zero = ZeroTimeout();
    KeInitializeEvent(&s, SynchronizationEvent, FALSE);
    KeInitializeEvent(&n, NotificationEvent, FALSE);
    CHECK_EQ(KeWaitForMultipleObjects(2, both, WaitAny, Executive, KernelMode, FALSE, &zero, NULL), STATUS_TIMEOUT);
    KeSetEvent(&n, IO_NO_INCREMENT, FALSE);
    CHECK_EQ(KeWaitForMultipleObjects(2, both, WaitAny, Executive, KernelMode, FALSE, &zero, NULL), STATUS_WAIT_1);
    KeSetEvent(&s, IO_NO_INCREMENT, FALSE);
    /* Both signalled: wait-any reports the lowest index and consumes only it. */
    CHECK_EQ(KeWaitForMultipleObjects(2, both, WaitAny, Executive, KernelMode, FALSE, &zero, NULL), STATUS_WAIT_0);
    CHECK_EQ(KeReadStateEvent(&s), 0);
    /* Wait-all with one unsignalled times out and consumes nothing. */
    CHECK_EQ(KeWaitForMultipleObjects(2, both, WaitAll, Executive, KernelMode, FALSE, &zero, NULL), STATUS_TIMEOUT);
    CHECK(KeReadStateEvent(&n) != 0);
    KeSetEvent(&s, IO_NO_INCREMENT, FALSE);
    CHECK_EQ(KeWaitForMultipleObjects(2, both, WaitAll, Executive, KernelMode, FALSE, &zero, NULL), STATUS_SUCCESS);
    CHECK_EQ(KeReadStateEvent(&s), 0);
    CHECK(KeReadStateEvent(&n) != 0);
}

/* ---- timers and DPCs ------------------------------------------------------------------ */

typedef struct _DPC_SEEN {
    LONG Count;
    LONG Target;       /* set Done when Count reaches it */
    KIRQL Irql;
    PVOID Context, Arg1, Arg2;
    KEVENT Done;
} DPC_SEEN;

static VOID NTAPI ConfDpc(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    DPC_SEEN *seen = Context;
    UNREFERENCED_PARAMETER(Dpc);
    seen->Irql = KeGetCurrentIrql();
    seen->Context = Context;
    seen->Arg1 = Arg1;
    seen->Arg2 = Arg2;
    if (++seen->Count == seen->Target)
        KeSetEvent(&seen->Done, IO_NO_INCREMENT, FALSE);
}

static VOID SeenInit(DPC_SEEN *Seen, LONG Target)
{
    RtlZeroMemory(Seen, sizeof(*Seen));
    Seen->Target = Target;
    Seen->Irql = 0xFF;
    KeInitializeEvent(&Seen->Done, NotificationEvent, FALSE);
}

static VOID CaseTimer(void)
{
    KTIMER t;
    KDPC dpc;
    DPC_SEEN seen;
    KeInitializeTimer(&t);
    CHECK_EQ(KeReadStateTimer(&t), FALSE);
    CHECK_EQ(KeSetTimer(&t, Rel(10), NULL), FALSE);
    CHECK_EQ(KeSetTimer(&t, Rel(50), NULL), TRUE); /* was still in the timer queue */
    CHECK_EQ(KeCancelTimer(&t), TRUE);
    CHECK_EQ(KeCancelTimer(&t), FALSE);
    CHECK_EQ(KeReadStateTimer(&t), FALSE);

    SeenInit(&seen, 1);
    KeInitializeDpc(&dpc, ConfDpc, &seen);
    ULONGLONG t0 = KeQueryInterruptTime();
    CHECK_EQ(KeSetTimer(&t, Rel(10), &dpc), FALSE);
    CHECK_EQ(KeWaitForSingleObject(&t, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    CHECK(KeQueryInterruptTime() - t0 >= (ULONGLONG)MS(10));
    CHECK_EQ(KeWaitForSingleObject(&seen.Done, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    CHECK_EQ(seen.Irql, DISPATCH_LEVEL);
    CHECK(seen.Context == &seen);
    CHECK_EQ(KeReadStateTimer(&t), TRUE); /* a notification timer stays signalled */
    CHECK_EQ(KeCancelTimer(&t), FALSE);    /* no longer queued */
    CHECK_EQ(KeSetTimer(&t, Rel(1000), NULL), FALSE);
    CHECK_EQ(KeReadStateTimer(&t), FALSE); /* setting resets the state */
    CHECK_EQ(KeCancelTimer(&t), TRUE);

    KTIMER sync;
    KeInitializeTimerEx(&sync, SynchronizationTimer);
    KeSetTimer(&sync, Rel(5), NULL);
    CHECK_EQ(KeWaitForSingleObject(&sync, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    CHECK_EQ(KeReadStateTimer(&sync), FALSE); /* a synchronization timer resets on a satisfied wait */
}

static VOID CasePeriodicTimer(void)
{
    KTIMER t;
    KDPC dpc;
    DPC_SEEN seen;
    SeenInit(&seen, 3);
    KeInitializeTimerEx(&t, NotificationTimer);
    KeInitializeDpc(&dpc, ConfDpc, &seen);
    ULONGLONG t0 = KeQueryInterruptTime();
    CHECK_EQ(KeSetTimerEx(&t, Rel(10), 20, &dpc), FALSE);
    CHECK_EQ(KeWaitForSingleObject(&seen.Done, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    ULONGLONG elapsed = KeQueryInterruptTime() - t0;
    CHECK(elapsed >= (ULONGLONG)MS(50)); /* 10 + 20 + 20 */
    CHECK(elapsed < (ULONGLONG)MS(70));
    CHECK_EQ(KeCancelTimer(&t), TRUE); /* a periodic timer is requeued after each expiry */
}

static VOID CaseDpc(void)
{
    KDPC dpc;
    DPC_SEEN seen;
    KIRQL old;
    SeenInit(&seen, 1);
    KeInitializeDpc(&dpc, ConfDpc, &seen);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    CHECK_EQ(old, PASSIVE_LEVEL);
    BOOLEAN first = KeInsertQueueDpc(&dpc, (PVOID)1, (PVOID)2);
    BOOLEAN second = KeInsertQueueDpc(&dpc, (PVOID)3, (PVOID)4);
    BOOLEAN removed = KeRemoveQueueDpc(&dpc);
    BOOLEAN removed_again = KeRemoveQueueDpc(&dpc);
    BOOLEAN third = KeInsertQueueDpc(&dpc, (PVOID)5, (PVOID)6);
    LONG ran_raised = seen.Count;
    KeLowerIrql(old);
    KeFlushQueuedDpcs();
    CHECK_EQ(first, TRUE);
    CHECK_EQ(second, FALSE); /* already queued */
    CHECK_EQ(removed, TRUE);
    CHECK_EQ(removed_again, FALSE);
    CHECK_EQ(third, TRUE);
    CHECK_EQ(ran_raised, 0); /* nothing runs while the IRQL is DISPATCH_LEVEL */
    CHECK_EQ(seen.Count, 1);
    CHECK_EQ(seen.Irql, DISPATCH_LEVEL);
    CHECK(seen.Arg1 == (PVOID)5 && seen.Arg2 == (PVOID)6);

    /* Queued below DISPATCH_LEVEL, a DPC for this processor has run by the time
     * KeInsertQueueDpc returns (the DISPATCH_LEVEL interrupt is taken at once). */
    CHECK_EQ(KeInsertQueueDpc(&dpc, (PVOID)7, NULL), TRUE);
    CHECK_EQ(seen.Count, 2);
    CHECK(seen.Arg1 == (PVOID)7);
    CHECK_EQ(KeRemoveQueueDpc(&dpc), FALSE);
}

/* ---- IRQL, spin locks, fast mutexes --------------------------------------------------- */

static VOID CaseIrql(void)
{
    KIRQL old, old2;
    KSPIN_LOCK lock;
    FAST_MUTEX fm;
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    KeInitializeSpinLock(&lock);
    KeAcquireSpinLock(&lock, &old);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    CHECK_EQ(old, PASSIVE_LEVEL);
    KeReleaseSpinLock(&lock, old);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);

    KeRaiseIrql(APC_LEVEL, &old);
    CHECK_EQ(old, PASSIVE_LEVEL);
    KeAcquireSpinLock(&lock, &old2);
    CHECK_EQ(old2, APC_LEVEL); /* the release goes back to where the acquire came from */
    KeReleaseSpinLock(&lock, old2);
    CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
    KeLowerIrql(old);

    old = KeRaiseIrqlToDpcLevel();
    CHECK_EQ(old, PASSIVE_LEVEL);
    KeAcquireSpinLockAtDpcLevel(&lock);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeReleaseSpinLockFromDpcLevel(&lock);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeLowerIrql(old);

    ExInitializeFastMutex(&fm);
    ExAcquireFastMutex(&fm);
    CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
    ExReleaseFastMutex(&fm);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_EQ(ExTryToAcquireFastMutex(&fm), TRUE);
    CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
    ExReleaseFastMutex(&fm);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
}

/* ---- time ---------------------------------------------------------------------------------- */

static VOID CaseTime(void)
{
    LARGE_INTEGER sys, freq, c0, c1, ticks;
    TIME_FIELDS tf;
    KeQuerySystemTime(&sys);
    RtlTimeToTimeFields(&sys, &tf);
    /* 100-ns units since 1601: the host's wall clock lands in this century. */
    CHECK(tf.Year >= 2020 && tf.Year < 2100);
    /* 2000-01-01 00:00:00 was a Saturday, 125911584000000000 units after 1601. */
    LARGE_INTEGER y2k;
    y2k.QuadPart = 125911584000000000LL;
    RtlTimeToTimeFields(&y2k, &tf);
    CHECK(tf.Year == 2000 && tf.Month == 1 && tf.Day == 1 && tf.Hour == 0 && tf.Weekday == 6);
    TIME_FIELDS leap = { 2024, 2, 29, 23, 59, 58, 999, 0 };
    LARGE_INTEGER back;
    CHECK_EQ(RtlTimeFieldsToTime(&leap, &back), TRUE);
    RtlTimeToTimeFields(&back, &tf);
    CHECK(tf.Year == 2024 && tf.Month == 2 && tf.Day == 29 && tf.Second == 58 && tf.Milliseconds == 999);
    leap.Year = 2023; /* no 29 February */
    CHECK_EQ(RtlTimeFieldsToTime(&leap, &back), FALSE);

    c0 = KeQueryPerformanceCounter(&freq);
    CHECK(freq.QuadPart >= 1000000);
    ULONGLONG i0 = KeQueryInterruptTime();
    KeStallExecutionProcessor(1000);
    c1 = KeQueryPerformanceCounter(NULL);
    ULONGLONG i1 = KeQueryInterruptTime();
    CHECK(i1 - i0 >= (ULONGLONG)MS(1));
    CHECK(c1.QuadPart - c0.QuadPart >= freq.QuadPart / 1000);
    CHECK(c1.QuadPart - c0.QuadPart < freq.QuadPart / 10);

    ULONG inc = KeQueryTimeIncrement();
    CHECK(inc > 0 && inc <= 1000000);
    KeQueryTickCount(&ticks);
    ULONGLONG now = KeQueryInterruptTime();
    ULONGLONG by_ticks = (ULONGLONG)ticks.QuadPart * inc;
    /* The tick count is interrupt time in clock ticks. */
    CHECK(by_ticks <= now);
    CHECK(now - by_ticks <= inc);
}

static VOID CaseDelay(void)
{
    LARGE_INTEGER rel = Rel(20), due, now;
    ULONGLONG t0 = KeQueryInterruptTime();
    CHECK_EQ(KeDelayExecutionThread(KernelMode, FALSE, &rel), STATUS_SUCCESS);
    CHECK(KeQueryInterruptTime() - t0 >= (ULONGLONG)MS(20));
    CHECK(KeQueryInterruptTime() - t0 < (ULONGLONG)MS(40));

    KeQuerySystemTime(&due);
    due.QuadPart += MS(30);
    CHECK_EQ(KeDelayExecutionThread(KernelMode, FALSE, &due), STATUS_SUCCESS);
    KeQuerySystemTime(&now);
    CHECK(now.QuadPart >= due.QuadPart);
    CHECK(now.QuadPart - due.QuadPart < MS(20));
}

/* ---- pool ----------------------------------------------------------------------------------- */

static VOID CasePool(void)
{
    PUCHAR a = ExAllocatePoolWithTag(NonPagedPool, 100, CONF_TAG);
    PUCHAR b = ExAllocatePoolWithTag(PagedPool, 3000, CONF_TAG);
    CHECK(a != NULL && b != NULL);
    CHECK_EQ((ULONG_PTR)a % MEMORY_ALLOCATION_ALIGNMENT, 0);
    CHECK_EQ((ULONG_PTR)b % MEMORY_ALLOCATION_ALIGNMENT, 0);
    RtlFillMemory(a, 100, 0x11);
    RtlFillMemory(b, 3000, 0x22);
    CHECK_EQ(a[99], 0x11);
    ExFreePoolWithTag(a, CONF_TAG);
    ExFreePool(b);
    /* ExAllocatePool2 zeroes unless asked not to; a zero tag or no pool is refused. */
    PULONG z = ExAllocatePool2(POOL_FLAG_NON_PAGED, 64, CONF_TAG);
    CHECK(z != NULL);
    CHECK_EQ(RtlCompareMemoryUlong(z, 64, 0), 64);
    ExFreePoolWithTag(z, CONF_TAG);
    z = ExAllocatePool2(POOL_FLAG_PAGED | POOL_FLAG_UNINITIALIZED, 16, CONF_TAG);
    CHECK(z != NULL);
    ExFreePoolWithTag(z, CONF_TAG);
    CHECK(ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 0) == NULL);
    CHECK(ExAllocatePool2(POOL_FLAG_UNINITIALIZED, 16, CONF_TAG) == NULL);
    CHECK(ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_PAGED, 16, CONF_TAG) == NULL);
    z = ExAllocatePoolZero(NonPagedPool, 32, CONF_TAG);
    CHECK(z != NULL);
    CHECK_EQ(RtlCompareMemoryUlong(z, 32, 0), 32);
    ExFreePoolWithTag(z, CONF_TAG);

    /* More than the machine has: NULL, not a crash. */
    CHECK(ExAllocatePoolWithTag(NonPagedPool, (SIZE_T)1 << 50, CONF_TAG) == NULL);
    PVOID c = ExAllocatePool(NonPagedPool, 8);
    CHECK(c != NULL);
    ExFreePool(c);
}

static struct {
    LONG Allocs, Frees;
    SIZE_T Bytes;
    ULONG Tag;
    POOL_TYPE Type;
} LaSeen;

static PVOID NTAPI ConfLaAllocate(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    LaSeen.Allocs++;
    LaSeen.Bytes = NumberOfBytes;
    LaSeen.Tag = Tag;
    LaSeen.Type = PoolType;
    return ExAllocatePoolWithTag(PoolType, NumberOfBytes, Tag);
}

static VOID NTAPI ConfLaFree(PVOID Buffer)
{
    LaSeen.Frees++;
    ExFreePool(Buffer);
}

static VOID CaseLookaside(void)
{
    /* The list's own allocate/free routines get its size, tag and pool type; every
     * entry is given back through the free routine by the time the list is deleted. */
    NPAGED_LOOKASIDE_LIST custom;
    PVOID c[3];
    RtlZeroMemory(&LaSeen, sizeof(LaSeen));
    ExInitializeNPagedLookasideList(&custom, ConfLaAllocate, ConfLaFree, 0, 40, CONF_TAG, 0);
    for (int i = 0; i < 3; i++)
        c[i] = ExAllocateFromNPagedLookasideList(&custom);
    CHECK(c[0] && c[1] && c[2]);
    CHECK_EQ(LaSeen.Allocs, 3);
    CHECK(LaSeen.Bytes >= 40);
    CHECK_EQ(LaSeen.Tag, CONF_TAG);
    CHECK_EQ(LaSeen.Type, NonPagedPool);
    for (int i = 0; i < 3; i++)
        ExFreeToNPagedLookasideList(&custom, c[i]);
    ExDeleteNPagedLookasideList(&custom);
    CHECK_EQ(LaSeen.Frees, LaSeen.Allocs);

    NPAGED_LOOKASIDE_LIST np;
    PAGED_LOOKASIDE_LIST pg;
    PVOID e[4];
    ExInitializeNPagedLookasideList(&np, NULL, NULL, 0, 48, CONF_TAG, 0);
    for (int i = 0; i < 4; i++) {
        e[i] = ExAllocateFromNPagedLookasideList(&np);
        CHECK(e[i] != NULL);
        RtlFillMemory(e[i], 48, (UCHAR)i);
        for (int j = 0; j < i; j++)
            CHECK(e[i] != e[j]);
    }
    for (int i = 0; i < 4; i++)
        ExFreeToNPagedLookasideList(&np, e[i]);
    e[0] = ExAllocateFromNPagedLookasideList(&np);
    CHECK(e[0] != NULL);
    ExFreeToNPagedLookasideList(&np, e[0]);
    ExDeleteNPagedLookasideList(&np);

    ExInitializePagedLookasideList(&pg, NULL, NULL, 0, 200, CONF_TAG, 0);
    e[1] = ExAllocateFromPagedLookasideList(&pg);
    CHECK(e[1] != NULL);
    RtlFillMemory(e[1], 200, 0x33);
    ExFreeToPagedLookasideList(&pg, e[1]);
    ExDeletePagedLookasideList(&pg);
}

/* ---- system threads ------------------------------------------------------------------------ */

typedef struct _THREAD_CTX {
    KEVENT Go;
    KIRQL Irql;
    LONG Ran;
    LONG AfterTerminate;
    PETHREAD Self;
} THREAD_CTX;

static VOID NTAPI ConfThread(PVOID Context)
{
    THREAD_CTX *ctx = Context;
    ctx->Irql = KeGetCurrentIrql();
    ctx->Self = PsGetCurrentThread();
    KeWaitForSingleObject(&ctx->Go, Executive, KernelMode, FALSE, NULL);
    ctx->Ran = 1;
    PsTerminateSystemThread(STATUS_SUCCESS);
    ctx->AfterTerminate = 1; /* never reached */
}

static VOID CaseThread(void)
{
    THREAD_CTX ctx;
    HANDLE h;
    PVOID thread;
    OBJECT_ATTRIBUTES oa;
    RtlZeroMemory(&ctx, sizeof(ctx));
    KeInitializeEvent(&ctx.Go, NotificationEvent, FALSE);
    InitializeObjectAttributes(&oa, NULL, OBJ_KERNEL_HANDLE, NULL, NULL);
    CHECK_EQ(PsCreateSystemThread(&h, THREAD_ALL_ACCESS, &oa, NULL, NULL, ConfThread, &ctx), STATUS_SUCCESS);
    CHECK_EQ(ObReferenceObjectByHandle(h, SYNCHRONIZE, *PsThreadType, KernelMode, &thread, NULL), STATUS_SUCCESS);
    PVOID wrong;
    CHECK_EQ(ObReferenceObjectByHandle(h, SYNCHRONIZE, *IoFileObjectType, KernelMode, &wrong, NULL),
             STATUS_OBJECT_TYPE_MISMATCH);
    CHECK_EQ(ZwClose(h), STATUS_SUCCESS);
    CHECK_EQ(WaitZero(thread), STATUS_TIMEOUT); /* still running: it waits for Go */
    KeSetEvent(&ctx.Go, IO_NO_INCREMENT, FALSE);
    CHECK_EQ(KeWaitForSingleObject(thread, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    CHECK_EQ(WaitZero(thread), STATUS_SUCCESS); /* a terminated thread stays signalled */
    CHECK(ctx.Self == thread);
    CHECK(ctx.Self != PsGetCurrentThread());
    ObDereferenceObject(thread);
    CHECK_EQ(ctx.Irql, PASSIVE_LEVEL);
    CHECK_EQ(ctx.Ran, 1);
    CHECK_EQ(ctx.AfterTerminate, 0);
}

/* The request log so far (and a fresh one from now on). */
static CONF_LOG ConfTakeLog(void)
{
    KIRQL irql;
    CONF_LOG log;
    KeAcquireSpinLock(&ConfLogLock, &irql);
    log = ConfLog;
    RtlZeroMemory(&ConfLog, sizeof(ConfLog));
    KeReleaseSpinLock(&ConfLogLock, irql);
    return log;
}

/* Mutex contention between threads: a wait on a mutex another thread owns times out,
 * then succeeds once the owner releases it. */
typedef struct _MUTEX_CTX {
    KMUTEX Mutex;
    KEVENT Held, Release;
} MUTEX_CTX;

static VOID NTAPI ConfMutexOwner(PVOID Context)
{
    MUTEX_CTX *ctx = Context;
    KeWaitForSingleObject(&ctx->Mutex, Executive, KernelMode, FALSE, NULL);
    KeSetEvent(&ctx->Held, IO_NO_INCREMENT, FALSE);
    KeWaitForSingleObject(&ctx->Release, Executive, KernelMode, FALSE, NULL);
    KeReleaseMutex(&ctx->Mutex, FALSE);
    PsTerminateSystemThread(STATUS_SUCCESS);
}

static VOID CaseContention(void)
{
    MUTEX_CTX ctx;
    HANDLE h;
    PVOID thread;
    KeInitializeMutex(&ctx.Mutex, 0);
    KeInitializeEvent(&ctx.Held, NotificationEvent, FALSE);
    KeInitializeEvent(&ctx.Release, NotificationEvent, FALSE);
    CHECK_EQ(PsCreateSystemThread(&h, THREAD_ALL_ACCESS, NULL, NULL, NULL, ConfMutexOwner, &ctx), STATUS_SUCCESS);
    CHECK_EQ(ObReferenceObjectByHandle(h, SYNCHRONIZE, *PsThreadType, KernelMode, &thread, NULL), STATUS_SUCCESS);
    ZwClose(h);
    KeWaitForSingleObject(&ctx.Held, Executive, KernelMode, FALSE, NULL);
    LARGE_INTEGER ten = Rel(10);
    NTSTATUS busy = KeWaitForSingleObject(&ctx.Mutex, Executive, KernelMode, FALSE, &ten);
    KeSetEvent(&ctx.Release, IO_NO_INCREMENT, FALSE);
    NTSTATUS got = busy == STATUS_TIMEOUT ? KeWaitForSingleObject(&ctx.Mutex, Executive, KernelMode, FALSE, NULL)
                                          : busy;
    LONG state = KeReadStateMutex(&ctx.Mutex);
    if (got == STATUS_SUCCESS)
        KeReleaseMutex(&ctx.Mutex, FALSE);
    KeWaitForSingleObject(thread, Executive, KernelMode, FALSE, NULL);
    ObDereferenceObject(thread);
    CHECK_EQ(busy, STATUS_TIMEOUT);
    CHECK_EQ(got, STATUS_SUCCESS);
    CHECK_EQ(state, 0); /* owned by us, once */
}

/* ---- names ---------------------------------------------------------------------------------- */

static VOID CaseNames(void)
{
    UNICODE_STRING dev, link, missing, target, nodir, lower;
    PDEVICE_OBJECT d;
    PFILE_OBJECT f;
    RtlInitUnicodeString(&dev, L"\\Device\\NtConf");
    RtlInitUnicodeString(&link, L"\\DosDevices\\NtConf");
    RtlInitUnicodeString(&missing, L"\\Device\\NtConfMissing");
    RtlInitUnicodeString(&nodir, L"\\NoSuchDirectory\\NtConf");
    CHECK_EQ(IoCreateDevice(ConfDevice->DriverObject, 0, &dev, FILE_DEVICE_UNKNOWN, 0, FALSE, &d),
             STATUS_OBJECT_NAME_COLLISION);
    CHECK_EQ(IoCreateSymbolicLink(&link, &dev), STATUS_OBJECT_NAME_COLLISION);
    UNICODE_STRING nodirdev;
    RtlInitUnicodeString(&nodirdev, L"\\NoSuchDirectory\\NtConfX");
    CHECK_EQ(IoCreateDevice(ConfDevice->DriverObject, 0, &nodirdev, FILE_DEVICE_UNKNOWN, 0, FALSE, &d),
             STATUS_OBJECT_PATH_NOT_FOUND);
    CHECK_EQ(IoDeleteSymbolicLink(&dev), STATUS_OBJECT_TYPE_MISMATCH); /* a device, not a link */
    RtlInitUnicodeString(&target, L"\\DosDevices\\NtConfMissing");
    CHECK_EQ(IoDeleteSymbolicLink(&target), STATUS_OBJECT_NAME_NOT_FOUND);
    CHECK_EQ(IoGetDeviceObjectPointer(&missing, FILE_READ_DATA, &f, &d), STATUS_OBJECT_NAME_NOT_FOUND);
    CHECK_EQ(IoGetDeviceObjectPointer(&nodir, FILE_READ_DATA, &f, &d), STATUS_OBJECT_PATH_NOT_FOUND);

    /* Through the link, in any case: the device itself and a real file object. The
     * handle it opened is closed at once: the driver sees CREATE and CLEANUP, and
     * CLOSE only when the file object's last reference goes. */
    ConfTakeLog(); /* from an empty log */
    RtlInitUnicodeString(&lower, L"\\??\\NTCONF");
    CHECK_EQ(IoGetDeviceObjectPointer(&lower, FILE_READ_DATA, &f, &d), STATUS_SUCCESS);
    CONF_LOG opened = ConfTakeLog();
    CHECK(d == ConfDevice);
    CHECK(f != NULL && f->DeviceObject == ConfDevice);
    CHECK_EQ(f->Type, IO_TYPE_FILE);
    ObDereferenceObject(f);
    CONF_LOG closed = ConfTakeLog();
    CHECK_EQ(opened.Count, 2);
    CHECK_EQ(opened.Major[0], IRP_MJ_CREATE);
    CHECK_EQ(opened.Major[1], IRP_MJ_CLEANUP);
    CHECK_EQ(closed.Count, 1);
    CHECK_EQ(closed.Major[0], IRP_MJ_CLOSE);

    /* A link may point at nothing (yet): creating it works, following it does not. */
    UNICODE_STRING dangling, nowhere, chain, sub;
    RtlInitUnicodeString(&dangling, L"\\DosDevices\\NtConfDangling");
    RtlInitUnicodeString(&nowhere, L"\\Device\\NtConfNowhere");
    CHECK_EQ(IoCreateSymbolicLink(&dangling, &nowhere), STATUS_SUCCESS);
    CHECK_EQ(IoGetDeviceObjectPointer(&dangling, FILE_READ_DATA, &f, &d), STATUS_OBJECT_NAME_NOT_FOUND);
    CHECK_EQ(IoDeleteSymbolicLink(&dangling), STATUS_SUCCESS);
    /* Links to links resolve all the way; a link into a device keeps its path. */
    RtlInitUnicodeString(&chain, L"\\DosDevices\\NtConfChain");
    CHECK_EQ(IoCreateSymbolicLink(&chain, &link), STATUS_SUCCESS);
    CHECK_EQ(IoGetDeviceObjectPointer(&chain, FILE_READ_DATA, &f, &d), STATUS_SUCCESS);
    CHECK(d == ConfDevice);
    ObDereferenceObject(f);
    CHECK_EQ(IoDeleteSymbolicLink(&chain), STATUS_SUCCESS);
    RtlInitUnicodeString(&sub, L"\\DosDevices\\NtConfSub");
    RtlInitUnicodeString(&target, L"\\Device\\NtConf\\inner");
    CHECK_EQ(IoCreateSymbolicLink(&sub, &target), STATUS_SUCCESS);
    RtlInitUnicodeString(&target, L"\\DosDevices\\NtConfSub\\x");
    CHECK_EQ(IoGetDeviceObjectPointer(&target, FILE_READ_DATA, &f, &d), STATUS_SUCCESS);
    UNICODE_STRING rest;
    RtlInitUnicodeString(&rest, L"\\inner\\x");
    CHECK(RtlEqualUnicodeString(&f->FileName, &rest, FALSE));
    ObDereferenceObject(f);
    CHECK_EQ(IoDeleteSymbolicLink(&sub), STATUS_SUCCESS);
    ConfTakeLog(); /* the opens above are not what the next check counts */

    /* An unprotected link works like any other and goes away on delete. */
    UNICODE_STRING alias;
    RtlInitUnicodeString(&alias, L"\\DosDevices\\NtConfAlias");
    CHECK_EQ(IoCreateUnprotectedSymbolicLink(&alias, &dev), STATUS_SUCCESS);
    CHECK_EQ(IoGetDeviceObjectPointer(&alias, FILE_READ_DATA, &f, &d), STATUS_SUCCESS);
    CHECK(d == ConfDevice);
    ObDereferenceObject(f);
    CHECK_EQ(IoDeleteSymbolicLink(&alias), STATUS_SUCCESS);
    CHECK_EQ(IoGetDeviceObjectPointer(&alias, FILE_READ_DATA, &f, &d), STATUS_OBJECT_NAME_NOT_FOUND);

    /* A new device: type, characteristics, extension zeroed, initializing until cleared. */
    UNICODE_STRING tmp;
    RtlInitUnicodeString(&tmp, L"\\Device\\NtConfTmp");
    CHECK_EQ(IoCreateDevice(ConfDevice->DriverObject, 64, &tmp, FILE_DEVICE_PARALLEL_PORT,
                            FILE_DEVICE_SECURE_OPEN, TRUE, &d), STATUS_SUCCESS);
    CHECK_EQ(d->DeviceType, FILE_DEVICE_PARALLEL_PORT);
    CHECK(d->Characteristics & FILE_DEVICE_SECURE_OPEN);
    CHECK(d->Flags & DO_DEVICE_INITIALIZING);
    CHECK(d->Flags & DO_EXCLUSIVE);
    CHECK_EQ(d->Type, IO_TYPE_DEVICE);
    CHECK(d->DriverObject == ConfDevice->DriverObject);
    CHECK(d->DeviceExtension != NULL);
    CHECK_EQ(RtlCompareMemoryUlong(d->DeviceExtension, 64, 0), 64);
    /* Still initializing: opening it fails. */
    CHECK(!NT_SUCCESS(IoGetDeviceObjectPointer(&tmp, FILE_READ_DATA, &f, &d)));
    /* A deleted device loses its name at once; the object lives on while referenced. */
    ObReferenceObject(d);
    *(PULONG)d->DeviceExtension = 0x5A5A5A5A;
    IoDeleteDevice(d);
    CHECK_EQ(IoGetDeviceObjectPointer(&tmp, FILE_READ_DATA, &f, &d), STATUS_OBJECT_NAME_NOT_FOUND);
    CHECK_EQ(*(PULONG)d->DeviceExtension, 0x5A5A5A5A);
    ObDereferenceObject(d);
}

/* ---- IRPs the driver builds ------------------------------------------------------------------- */

/* What the lower device saw of the last IRP. */
static struct {
    UCHAR Major;
    ULONG Code, InLength, OutLength;
    PVOID SystemBuffer, Type3Input, UserBuffer;
    PMDL Mdl;
    UCHAR FirstIn;
    ULONG MdlBytes;
    KIRQL Irql;
    KPROCESSOR_MODE Mode;
    BOOLEAN ThreadIsCaller;
    LONGLONG Offset;
    PDEVICE_OBJECT StackDevice; /* the current stack location's DeviceObject */
    PIRP Held;     /* pended by LOWER_PEND */
    KTIMER Timer;
    KDPC Dpc;
} LowerSeen;

#define LOWER_ECHO CTL_CODE(FILE_DEVICE_UNKNOWN, 0x900, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define LOWER_IN_DIRECT CTL_CODE(FILE_DEVICE_UNKNOWN, 0x901, METHOD_IN_DIRECT, FILE_ANY_ACCESS)
#define LOWER_OUT_DIRECT CTL_CODE(FILE_DEVICE_UNKNOWN, 0x902, METHOD_OUT_DIRECT, FILE_ANY_ACCESS)
#define LOWER_NEITHER CTL_CODE(FILE_DEVICE_UNKNOWN, 0x903, METHOD_NEITHER, FILE_ANY_ACCESS)
#define LOWER_PEND CTL_CODE(FILE_DEVICE_UNKNOWN, 0x904, METHOD_BUFFERED, FILE_ANY_ACCESS)
/* Fill the output, report 2 bytes, but complete with an error / a warning. */
#define LOWER_FAIL CTL_CODE(FILE_DEVICE_UNKNOWN, 0x905, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define LOWER_WARN CTL_CODE(FILE_DEVICE_UNKNOWN, 0x906, METHOD_BUFFERED, FILE_ANY_ACCESS)

/* Completes a pended lower IRP from a timer DPC (at DISPATCH_LEVEL). */
static VOID NTAPI LowerComplete(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    PIRP irp = LowerSeen.Held;
    LowerSeen.Held = NULL;
    irp->IoStatus.Status = STATUS_DEVICE_BUSY;
    irp->IoStatus.Information = 5;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
}

/* The lower device: fills the output buffer (however it is passed) with the input
 * bytes + 1 and reports 2 bytes; LOWER_PEND holds the IRP for 10 ms. */
static NTSTATUS LowerDispatch(PIRP Irp)
{
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    ULONG code = sp->Parameters.DeviceIoControl.IoControlCode;
    LowerSeen.Major = sp->MajorFunction;
    LowerSeen.Code = code;
    LowerSeen.InLength = sp->Parameters.DeviceIoControl.InputBufferLength;
    LowerSeen.OutLength = sp->Parameters.DeviceIoControl.OutputBufferLength;
    LowerSeen.SystemBuffer = Irp->AssociatedIrp.SystemBuffer;
    LowerSeen.Type3Input = sp->Parameters.DeviceIoControl.Type3InputBuffer;
    LowerSeen.UserBuffer = Irp->UserBuffer;
    LowerSeen.Mdl = Irp->MdlAddress;
    LowerSeen.MdlBytes = Irp->MdlAddress ? MmGetMdlByteCount(Irp->MdlAddress) : 0;
    LowerSeen.Irql = KeGetCurrentIrql();
    LowerSeen.StackDevice = sp->DeviceObject;
    if (sp->MajorFunction == IRP_MJ_READ || sp->MajorFunction == IRP_MJ_WRITE) {
        LowerSeen.OutLength = sp->Parameters.Write.Length;
        LowerSeen.Offset = sp->Parameters.Write.ByteOffset.QuadPart;
        Irp->IoStatus.Status = STATUS_SUCCESS;
        Irp->IoStatus.Information = sp->Parameters.Write.Length;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        return STATUS_SUCCESS;
    }
    LowerSeen.Mode = Irp->RequestorMode;
    LowerSeen.ThreadIsCaller = Irp->Tail.Overlay.Thread == PsGetCurrentThread();
    if (code == LOWER_PEND) {
        IoMarkIrpPending(Irp);
        LowerSeen.Held = Irp;
        KeSetTimer(&LowerSeen.Timer, Rel(10), &LowerSeen.Dpc);
        return STATUS_PENDING;
    }
    PUCHAR in = code == LOWER_NEITHER ? LowerSeen.Type3Input : LowerSeen.SystemBuffer;
    PUCHAR out = code == LOWER_NEITHER ? Irp->UserBuffer
                 : Irp->MdlAddress     ? MmGetSystemAddressForMdlSafe(Irp->MdlAddress, NormalPagePriority)
                                       : LowerSeen.SystemBuffer;
    LowerSeen.FirstIn = in ? in[0] : 0;
    UCHAR copy[16];
    ULONG n = LowerSeen.InLength < sizeof(copy) ? LowerSeen.InLength : sizeof(copy);
    RtlCopyMemory(copy, in, n);
    for (ULONG i = 0; i < LowerSeen.OutLength; i++)
        out[i] = i < n ? (UCHAR)(copy[i] + 1) : 0xEE;
    NTSTATUS st = code == LOWER_FAIL ? STATUS_INVALID_PARAMETER : code == LOWER_WARN ? STATUS_BUFFER_OVERFLOW
                                                                                     : STATUS_SUCCESS;
    Irp->IoStatus.Status = st;
    Irp->IoStatus.Information = 2;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return st;
}

/* Sends one IOCTL to the lower device through IoBuildDeviceIoControlRequest and waits. */
static NTSTATUS SendLower(ULONG Code, PVOID In, ULONG InLength, PVOID Out, ULONG OutLength, BOOLEAN Internal,
                          PIO_STATUS_BLOCK Iosb, NTSTATUS *CallStatus)
{
    KEVENT done;
    KeInitializeEvent(&done, NotificationEvent, FALSE);
    Iosb->Status = 0x12345678;
    Iosb->Information = 0x77;
    PIRP irp = IoBuildDeviceIoControlRequest(Code, ConfLower, In, InLength, Out, OutLength, Internal, &done, Iosb);
    if (!irp)
        return STATUS_INSUFFICIENT_RESOURCES;
    *CallStatus = IoCallDriver(ConfLower, irp);
    if (*CallStatus == STATUS_PENDING)
        KeWaitForSingleObject(&done, Executive, KernelMode, FALSE, NULL);
    return Iosb->Status;
}

static VOID CaseBuildIoctl(void)
{
    UCHAR in[4] = { 10, 20, 30, 40 }, out[6];
    IO_STATUS_BLOCK iosb;
    NTSTATUS call;

    /* METHOD_BUFFERED: one system buffer of max(in, out) holding the input; only
     * Information bytes come back. */
    RtlFillMemory(out, sizeof(out), 0x55);
    CHECK_EQ(SendLower(LOWER_ECHO, in, 4, out, 6, FALSE, &iosb, &call), STATUS_SUCCESS);
    CHECK_EQ(call, STATUS_SUCCESS);
    CHECK_EQ(iosb.Information, 2);
    CHECK_EQ(LowerSeen.Major, IRP_MJ_DEVICE_CONTROL);
    CHECK(LowerSeen.SystemBuffer != NULL && LowerSeen.SystemBuffer != in && LowerSeen.SystemBuffer != out);
    CHECK_EQ(LowerSeen.FirstIn, 10);
    CHECK_EQ(LowerSeen.InLength, 4);
    CHECK_EQ(LowerSeen.OutLength, 6);
    CHECK_EQ(LowerSeen.Irql, PASSIVE_LEVEL);
    CHECK_EQ(LowerSeen.Mode, KernelMode);
    CHECK_EQ(LowerSeen.ThreadIsCaller, TRUE); /* a threaded IRP */
    CHECK(LowerSeen.StackDevice == ConfLower);  /* IoCallDriver fills it in */
    CHECK_EQ(out[0], 11);
    CHECK_EQ(out[1], 21);
    CHECK_EQ(out[2], 0x55); /* past Information: untouched */

    CHECK_EQ(SendLower(LOWER_ECHO, in, 4, out, 6, TRUE, &iosb, &call), STATUS_SUCCESS);
    CHECK_EQ(LowerSeen.Major, IRP_MJ_INTERNAL_DEVICE_CONTROL);

    /* An error copies nothing back; a warning copies Information bytes. */
    RtlFillMemory(out, sizeof(out), 0x55);
    CHECK_EQ(SendLower(LOWER_FAIL, in, 4, out, 6, FALSE, &iosb, &call), STATUS_INVALID_PARAMETER);
    CHECK_EQ(call, STATUS_INVALID_PARAMETER);
    CHECK_EQ(out[0], 0x55);
    CHECK_EQ(SendLower(LOWER_WARN, in, 4, out, 6, FALSE, &iosb, &call), STATUS_BUFFER_OVERFLOW);
    CHECK_EQ(iosb.Information, 2);
    CHECK_EQ(out[0], 11);
    CHECK_EQ(out[2], 0x55);

    /* METHOD_IN_DIRECT / OUT_DIRECT: input in the system buffer, output through an MDL. */
    RtlFillMemory(out, sizeof(out), 0x55);
    CHECK_EQ(SendLower(LOWER_OUT_DIRECT, in, 4, out, 6, FALSE, &iosb, &call), STATUS_SUCCESS);
    CHECK(LowerSeen.SystemBuffer != NULL && LowerSeen.SystemBuffer != in);
    CHECK(LowerSeen.Mdl != NULL);
    CHECK_EQ(LowerSeen.MdlBytes, 6);
    CHECK_EQ(out[0], 11);
    CHECK_EQ(out[5], 0xEE); /* written in place, all of it */
    CHECK_EQ(SendLower(LOWER_IN_DIRECT, in, 4, out, 6, FALSE, &iosb, &call), STATUS_SUCCESS);
    CHECK(LowerSeen.Mdl != NULL);
    CHECK_EQ(LowerSeen.MdlBytes, 6);

    /* METHOD_NEITHER: the caller's own buffers. */
    RtlFillMemory(out, sizeof(out), 0x55);
    CHECK_EQ(SendLower(LOWER_NEITHER, in, 4, out, 6, FALSE, &iosb, &call), STATUS_SUCCESS);
    CHECK(LowerSeen.Type3Input == in);
    CHECK(LowerSeen.UserBuffer == out);
    CHECK(LowerSeen.SystemBuffer == NULL);
    CHECK_EQ(out[3], 41);

    /* IoBuildSynchronousFsdRequest to a device with neither buffered nor direct I/O:
     * the caller's buffer itself, with the length and offset asked for. */
    KEVENT done;
    LARGE_INTEGER offset;
    offset.QuadPart = 0x1234;
    KeInitializeEvent(&done, NotificationEvent, FALSE);
    PIRP fsd = IoBuildSynchronousFsdRequest(IRP_MJ_WRITE, ConfLower, in, 3, &offset, &done, &iosb);
    CHECK(fsd != NULL);
    call = IoCallDriver(ConfLower, fsd);
    if (call == STATUS_PENDING)
        KeWaitForSingleObject(&done, Executive, KernelMode, FALSE, NULL);
    CHECK_EQ(iosb.Status, STATUS_SUCCESS);
    CHECK_EQ(iosb.Information, 3);
    CHECK_EQ(LowerSeen.Major, IRP_MJ_WRITE);
    CHECK_EQ(LowerSeen.OutLength, 3);
    CHECK_EQ(LowerSeen.Offset, 0x1234);
    CHECK(LowerSeen.UserBuffer == in);

    /* Pending: IoCallDriver says STATUS_PENDING, the event and IOSB tell the end. */
    CHECK_EQ(SendLower(LOWER_PEND, in, 4, out, 6, FALSE, &iosb, &call), STATUS_DEVICE_BUSY);
    CHECK_EQ(call, STATUS_PENDING);
    CHECK_EQ(iosb.Information, 5);
}

typedef struct _COMPLETION_SEEN {
    LONG Calls;
    KIRQL Irql;
    BOOLEAN PendingReturned;
    NTSTATUS Status;
    KEVENT Done;
} COMPLETION_SEEN;

static NTSTATUS NTAPI ConfCompletion(PDEVICE_OBJECT DeviceObject, PIRP Irp, PVOID Context)
{
    COMPLETION_SEEN *seen = Context;
    UNREFERENCED_PARAMETER(DeviceObject);
    seen->Calls++;
    seen->Irql = KeGetCurrentIrql();
    seen->PendingReturned = Irp->PendingReturned;
    seen->Status = Irp->IoStatus.Status;
    KeSetEvent(&seen->Done, IO_NO_INCREMENT, FALSE);
    return STATUS_MORE_PROCESSING_REQUIRED; /* the IRP is ours to free */
}

/* A driver-allocated IRP with a completion routine, completed synchronously and
 * from a DPC. */
static VOID CasePending(void)
{
    COMPLETION_SEEN seen;
    for (int pend = 0; pend < 2; pend++) {
        RtlZeroMemory(&seen, sizeof(seen));
        KeInitializeEvent(&seen.Done, NotificationEvent, FALSE);
        PIRP irp = IoAllocateIrp(ConfLower->StackSize, FALSE);
        CHECK(irp != NULL);
        CHECK_EQ(irp->Type, IO_TYPE_IRP);
        CHECK_EQ(irp->StackCount, ConfLower->StackSize);
        CHECK_EQ(irp->CurrentLocation, ConfLower->StackSize + 1);
        PIO_STACK_LOCATION next = IoGetNextIrpStackLocation(irp);
        next->MajorFunction = IRP_MJ_DEVICE_CONTROL;
        next->Parameters.DeviceIoControl.IoControlCode = pend ? LOWER_PEND : LOWER_ECHO;
        next->Parameters.DeviceIoControl.InputBufferLength = 0;
        next->Parameters.DeviceIoControl.OutputBufferLength = 0;
        UCHAR dummy[4] = { 0 };
        irp->AssociatedIrp.SystemBuffer = dummy;
        irp->IoStatus.Status = STATUS_NOT_SUPPORTED;
        IoSetCompletionRoutine(irp, ConfCompletion, &seen, TRUE, TRUE, TRUE);
        NTSTATUS st = IoCallDriver(ConfLower, irp);
        KeWaitForSingleObject(&seen.Done, Executive, KernelMode, FALSE, NULL);
        IoFreeIrp(irp);
        CHECK_EQ(st, pend ? STATUS_PENDING : STATUS_SUCCESS);
        CHECK_EQ(seen.Calls, 1);
        CHECK_EQ(seen.PendingReturned, pend ? TRUE : FALSE);
        CHECK_EQ(seen.Status, pend ? STATUS_DEVICE_BUSY : STATUS_SUCCESS);
        /* Completed from a DPC: the completion routine runs at DISPATCH_LEVEL. */
        CHECK_EQ(seen.Irql, pend ? DISPATCH_LEVEL : PASSIVE_LEVEL);
    }

    /* IoReuseIrp: back to a fresh IRP with the status given; IoInitializeIrp on the
     * caller's own memory of IoSizeOfIrp bytes. */
    PIRP irp = IoAllocateIrp(2, FALSE);
    CHECK(irp != NULL);
    IoSetNextIrpStackLocation(irp);
    irp->Cancel = TRUE;
    irp->PendingReturned = TRUE;
    IoReuseIrp(irp, STATUS_NOT_FOUND);
    CHECK_EQ(irp->IoStatus.Status, STATUS_NOT_FOUND);
    CHECK_EQ(irp->CurrentLocation, 3);
    CHECK_EQ(irp->StackCount, 2);
    CHECK_EQ(irp->Cancel, FALSE);
    CHECK_EQ(irp->PendingReturned, FALSE);
    CHECK_EQ(irp->Type, IO_TYPE_IRP);
    IoFreeIrp(irp);
    USHORT size = IoSizeOfIrp(3);
    PIRP own = ExAllocatePoolWithTag(NonPagedPool, size, CONF_TAG);
    CHECK(own != NULL);
    IoInitializeIrp(own, size, 3);
    CHECK_EQ(own->Type, IO_TYPE_IRP);
    CHECK_EQ(own->Size, size);
    CHECK_EQ(own->StackCount, 3);
    CHECK_EQ(own->CurrentLocation, 4);
    CHECK(IoGetNextIrpStackLocation(own) == (PIO_STACK_LOCATION)(own + 1) + 2);
    ExFreePoolWithTag(own, CONF_TAG);
}

/* ---- cancellation -------------------------------------------------------------------------- */

static struct {
    LONG Calls;
    KIRQL Irql;
    BOOLEAN CancelFlag;
    PDRIVER_CANCEL RoutineInside;
    KIRQL CancelIrql;
} CancelSeen;

static VOID NTAPI ConfCancelRecord(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    CancelSeen.Calls++;
    CancelSeen.Irql = KeGetCurrentIrql();
    CancelSeen.CancelFlag = Irp->Cancel;
    CancelSeen.RoutineInside = Irp->CancelRoutine;
    CancelSeen.CancelIrql = Irp->CancelIrql;
    IoReleaseCancelSpinLock(Irp->CancelIrql);
}

static VOID CaseCancel(void)
{
    PIRP irp = IoAllocateIrp(1, FALSE);
    CHECK(irp != NULL);
    RtlZeroMemory(&CancelSeen, sizeof(CancelSeen));
    CHECK(IoSetCancelRoutine(irp, ConfCancelRecord) == NULL);
    CHECK(IoSetCancelRoutine(irp, ConfCancelRecord) == ConfCancelRecord); /* the previous one */
    CHECK_EQ(IoCancelIrp(irp), TRUE);
    CHECK_EQ(CancelSeen.Calls, 1);
    CHECK_EQ(CancelSeen.Irql, DISPATCH_LEVEL); /* the cancel spin lock is held */
    CHECK_EQ(CancelSeen.CancelFlag, TRUE);
    CHECK(CancelSeen.RoutineInside == NULL);
    CHECK_EQ(CancelSeen.CancelIrql, PASSIVE_LEVEL);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK(irp->Cancel);
    /* Nothing to call the second time. */
    CHECK_EQ(IoCancelIrp(irp), FALSE);
    CHECK_EQ(CancelSeen.Calls, 1);
    IoFreeIrp(irp);

    irp = IoAllocateIrp(1, FALSE);
    CHECK_EQ(IoCancelIrp(irp), FALSE); /* no cancel routine: only the flag is set */
    CHECK_EQ(irp->Cancel, TRUE);
    IoFreeIrp(irp);

    /* The cancel spin lock raises to DISPATCH_LEVEL and gives back the old IRQL. */
    KIRQL old;
    IoAcquireCancelSpinLock(&old);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    IoReleaseCancelSpinLock(old);
    CHECK_EQ(old, PASSIVE_LEVEL);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
}

/* ---- cancel-safe queue ------------------------------------------------------------------------ */

static struct {
    IO_CSQ Csq;
    KSPIN_LOCK Lock;
    LIST_ENTRY List;
    LONG Canceled;
    PIRP LastCanceled;
    KIRQL LockIrql;
} Q;

static VOID NTAPI QInsert(PIO_CSQ Csq, PIRP Irp)
{
    UNREFERENCED_PARAMETER(Csq);
    InsertTailList(&Q.List, &Irp->Tail.Overlay.ListEntry);
}

static VOID NTAPI QRemove(PIO_CSQ Csq, PIRP Irp)
{
    UNREFERENCED_PARAMETER(Csq);
    RemoveEntryList(&Irp->Tail.Overlay.ListEntry);
}

/* Peek context: the key stored in IoStatus.Information (NULL: any). */
static PIRP NTAPI QPeek(PIO_CSQ Csq, PIRP Irp, PVOID PeekContext)
{
    UNREFERENCED_PARAMETER(Csq);
    for (PLIST_ENTRY e = Irp ? Irp->Tail.Overlay.ListEntry.Flink : Q.List.Flink; e != &Q.List; e = e->Flink) {
        PIRP c = CONTAINING_RECORD(e, IRP, Tail.Overlay.ListEntry);
        if (!PeekContext || c->IoStatus.Information == *(ULONG_PTR *)PeekContext)
            return c;
    }
    return NULL;
}

static VOID NTAPI QAcquire(PIO_CSQ Csq, PKIRQL Irql)
{
    UNREFERENCED_PARAMETER(Csq);
    KeAcquireSpinLock(&Q.Lock, Irql);
}

static VOID NTAPI QRelease(PIO_CSQ Csq, KIRQL Irql)
{
    UNREFERENCED_PARAMETER(Csq);
    KeReleaseSpinLock(&Q.Lock, Irql);
}

/* The IRPs are the case's own (never sent anywhere): recorded, freed by the case. */
static VOID NTAPI QCompleteCanceled(PIO_CSQ Csq, PIRP Irp)
{
    UNREFERENCED_PARAMETER(Csq);
    Q.Canceled++;
    Q.LastCanceled = Irp;
    Q.LockIrql = KeGetCurrentIrql();
}

static VOID CaseCsq(void)
{
    IO_CSQ_IRP_CONTEXT ctx[3];
    PIRP irp[3];
    ULONG_PTR keys[3] = { 1, 2, 1 };
    RtlZeroMemory(&Q, sizeof(Q));
    KeInitializeSpinLock(&Q.Lock);
    InitializeListHead(&Q.List);
    CHECK_EQ(IoCsqInitialize(&Q.Csq, QInsert, QRemove, QPeek, QAcquire, QRelease, QCompleteCanceled),
             STATUS_SUCCESS);
    for (int i = 0; i < 3; i++) {
        irp[i] = IoAllocateIrp(1, FALSE);
        CHECK(irp[i] != NULL);
        IoSetNextIrpStackLocation(irp[i]); /* as in a dispatch routine: the queue marks it pending */
        irp[i]->IoStatus.Information = keys[i];
        IoCsqInsertIrp(&Q.Csq, irp[i], &ctx[i]);
        CHECK(irp[i]->CancelRoutine != NULL); /* the queue made it cancelable */
    }
    ULONG_PTR two = 2, one = 1;
    CHECK(IoCsqRemoveNextIrp(&Q.Csq, &two) == irp[1]);
    CHECK(irp[1]->CancelRoutine == NULL);
    CHECK(IoCsqRemoveNextIrp(&Q.Csq, &two) == NULL);
    CHECK(IoCsqRemoveNextIrp(&Q.Csq, &one) == irp[0]);
    CHECK(IoCsqRemoveIrp(&Q.Csq, &ctx[0]) == NULL); /* already out */

    /* Cancelling a queued IRP takes it out and hands it to CompleteCanceledIrp. */
    CHECK_EQ(IoCancelIrp(irp[2]), TRUE);
    CHECK_EQ(Q.Canceled, 1);
    CHECK(Q.LastCanceled == irp[2]);
    CHECK(IsListEmpty(&Q.List));
    CHECK(IoCsqRemoveIrp(&Q.Csq, &ctx[2]) == NULL);
    CHECK(IoCsqRemoveNextIrp(&Q.Csq, NULL) == NULL);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);

    /* IoCsqRemoveIrp by context takes the IRP back out (and its cancel routine away). */
    IoCsqInsertIrp(&Q.Csq, irp[1], &ctx[1]);
    CHECK(IoCsqRemoveIrp(&Q.Csq, &ctx[1]) == irp[1]);
    CHECK(irp[1]->CancelRoutine == NULL);
    CHECK_EQ(IoCancelIrp(irp[1]), FALSE);
    CHECK_EQ(Q.Canceled, 1);
    for (int i = 0; i < 3; i++)
        IoFreeIrp(irp[i]);
}

/* ---- StartIo -------------------------------------------------------------------------------------- */

static struct {
    LONG Calls;
    PIRP Order[4];
    KIRQL Irql;
    BOOLEAN HadCancelRoutine[4];
    LONG Canceled;
    BOOLEAN RemovedFromQueue;
} SIo;

static VOID NTAPI ConfStartIo(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    if (SIo.Calls < 4) {
        SIo.Order[SIo.Calls] = Irp;
        SIo.HadCancelRoutine[SIo.Calls] = IoSetCancelRoutine(Irp, NULL) != NULL;
    }
    SIo.Irql = KeGetCurrentIrql();
    SIo.Calls++;
}

/* The queued-IRP cancel routine of the classic StartIo pattern. */
static VOID NTAPI ConfStartIoCancel(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    if (Irp == DeviceObject->CurrentIrp) {
        IoReleaseCancelSpinLock(Irp->CancelIrql);
        return;
    }
    SIo.RemovedFromQueue = KeRemoveEntryDeviceQueue(&DeviceObject->DeviceQueue, &Irp->Tail.Overlay.DeviceQueueEntry);
    IoReleaseCancelSpinLock(Irp->CancelIrql);
    SIo.Canceled++;
}

/* Device queues by hand (at DISPATCH_LEVEL, as documented): the first insert into an
 * idle queue only makes it busy; keyed inserts sort; removal by key takes the first
 * entry whose key is at least the one given (else the first); an empty removal
 * makes the queue idle again. */
static VOID CaseDeviceQueue(void)
{
    KDEVICE_QUEUE q;
    KDEVICE_QUEUE_ENTRY e[5];
    KIRQL old;
    BOOLEAN inserted[5];
    PKDEVICE_QUEUE_ENTRY got[6];
    KeInitializeDeviceQueue(&q);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    inserted[0] = KeInsertDeviceQueue(&q, &e[0]);
    inserted[1] = KeInsertByKeyDeviceQueue(&q, &e[1], 30);
    inserted[2] = KeInsertByKeyDeviceQueue(&q, &e[2], 10);
    inserted[3] = KeInsertByKeyDeviceQueue(&q, &e[3], 20);
    got[0] = KeRemoveByKeyDeviceQueue(&q, 15); /* e[3] (20) */
    got[1] = KeRemoveByKeyDeviceQueue(&q, 99); /* none >= 99: the first, e[2] (10) */
    got[2] = KeRemoveDeviceQueue(&q);          /* e[1] */
    got[3] = KeRemoveDeviceQueue(&q);          /* empty: NULL, idle again */
    inserted[4] = KeInsertDeviceQueue(&q, &e[4]);
    got[4] = KeRemoveDeviceQueue(&q);
    KeLowerIrql(old);
    CHECK_EQ(inserted[0], FALSE);
    CHECK_EQ(inserted[1], TRUE);
    CHECK_EQ(inserted[2], TRUE);
    CHECK_EQ(inserted[3], TRUE);
    CHECK(got[0] == &e[3]);
    CHECK(got[1] == &e[2]);
    CHECK(got[2] == &e[1]);
    CHECK(got[3] == NULL);
    CHECK_EQ(inserted[4], FALSE);
    CHECK(got[4] == NULL);
}

static VOID CaseStartIo(void)
{
    PIRP irp[3];
    RtlZeroMemory(&SIo, sizeof(SIo));
    for (int i = 0; i < 3; i++) {
        irp[i] = IoAllocateIrp(1, FALSE);
        CHECK(irp[i] != NULL);
        /* As IoCallDriver would leave it: the cancel routine gets the location's device. */
        IoSetNextIrpStackLocation(irp[i]);
        IoGetCurrentIrpStackLocation(irp[i])->MajorFunction = IRP_MJ_DEVICE_CONTROL;
        IoGetCurrentIrpStackLocation(irp[i])->DeviceObject = ConfQueued;
    }
    IoStartPacket(ConfQueued, irp[0], NULL, ConfStartIoCancel);
    CHECK_EQ(SIo.Calls, 1); /* idle device: straight to StartIo */
    CHECK(SIo.Order[0] == irp[0]);
    CHECK(ConfQueued->CurrentIrp == irp[0]);
    CHECK_EQ(SIo.Irql, DISPATCH_LEVEL);
    CHECK(SIo.HadCancelRoutine[0]);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    IoStartPacket(ConfQueued, irp[1], NULL, ConfStartIoCancel);
    IoStartPacket(ConfQueued, irp[2], NULL, ConfStartIoCancel);
    CHECK_EQ(SIo.Calls, 1); /* busy: queued */

    CHECK_EQ(IoCancelIrp(irp[1]), TRUE);
    CHECK_EQ(SIo.Canceled, 1);
    CHECK_EQ(SIo.RemovedFromQueue, TRUE);

    IoStartNextPacket(ConfQueued, TRUE);
    CHECK_EQ(SIo.Calls, 2);
    CHECK(SIo.Order[1] == irp[2]); /* the cancelled one was skipped */
    CHECK(ConfQueued->CurrentIrp == irp[2]);
    CHECK(SIo.HadCancelRoutine[1]);
    IoStartNextPacket(ConfQueued, TRUE);
    CHECK_EQ(SIo.Calls, 2);
    CHECK(ConfQueued->CurrentIrp == NULL);
    for (int i = 0; i < 3; i++)
        IoFreeIrp(irp[i]);
}

/* ---- interrupts, work items ------------------------------------------------------------------------ */

static KIRQL SyncIrql;

static BOOLEAN NTAPI ConfIsr(PKINTERRUPT Interrupt, PVOID Context)
{
    UNREFERENCED_PARAMETER(Interrupt);
    UNREFERENCED_PARAMETER(Context);
    return FALSE; /* not ours */
}

static BOOLEAN NTAPI ConfSynchronize(PVOID Context)
{
    SyncIrql = KeGetCurrentIrql();
    *(PLONG)Context += 1;
    return TRUE;
}

static VOID CaseInterrupt(void)
{
    KIRQL irql;
    KAFFINITY affinity;
    PKINTERRUPT interrupt;
    LONG calls = 0;
    /* ISA IRQ 5: nothing on the test machine uses it. */
    ULONG vector = HalGetInterruptVector(Isa, 0, 5, 5, &irql, &affinity);
    CHECK(vector != 0);
    CHECK(irql > DISPATCH_LEVEL);
    CHECK_EQ(IoConnectInterrupt(&interrupt, ConfIsr, NULL, NULL, vector, irql, irql, Latched, FALSE, affinity,
                                FALSE),
             STATUS_SUCCESS);
    SyncIrql = 0;
    CHECK_EQ(KeSynchronizeExecution(interrupt, ConfSynchronize, &calls), TRUE);
    CHECK_EQ(calls, 1);
    CHECK_EQ(SyncIrql, irql); /* the synchronize routine runs at the interrupt's DIRQL */
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    KIRQL old = KeAcquireInterruptSpinLock(interrupt);
    CHECK_EQ(KeGetCurrentIrql(), irql);
    KeReleaseInterruptSpinLock(interrupt, old);
    CHECK_EQ(old, PASSIVE_LEVEL);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    IoDisconnectInterrupt(interrupt);
}

typedef struct _WORK_SEEN {
    KEVENT Done;
    KIRQL Irql;
    PDEVICE_OBJECT Device;
    PVOID Context;
    PETHREAD Thread;
} WORK_SEEN;

static VOID NTAPI ConfWork(PDEVICE_OBJECT DeviceObject, PVOID Context)
{
    WORK_SEEN *seen = Context;
    seen->Irql = KeGetCurrentIrql();
    seen->Device = DeviceObject;
    seen->Context = Context;
    seen->Thread = PsGetCurrentThread();
    KeSetEvent(&seen->Done, IO_NO_INCREMENT, FALSE);
}

typedef struct _IO_TIMER_SEEN {
    LONG Calls;
    KIRQL Irql;
    PVOID Context;
    ULONGLONG First, Third;
    KEVENT Done;
} IO_TIMER_SEEN;

static VOID NTAPI ConfIoTimer(PDEVICE_OBJECT DeviceObject, PVOID Context)
{
    IO_TIMER_SEEN *seen = Context;
    UNREFERENCED_PARAMETER(DeviceObject);
    seen->Irql = KeGetCurrentIrql();
    seen->Context = Context;
    if (++seen->Calls == 1)
        seen->First = KeQueryInterruptTime();
    if (seen->Calls == 3) {
        seen->Third = KeQueryInterruptTime();
        KeSetEvent(&seen->Done, IO_NO_INCREMENT, FALSE);
    }
}

/* The I/O timer: once a second at DISPATCH_LEVEL between IoStartTimer and IoStopTimer. */
static VOID CaseIoTimer(void)
{
    IO_TIMER_SEEN seen;
    RtlZeroMemory(&seen, sizeof(seen));
    KeInitializeEvent(&seen.Done, NotificationEvent, FALSE);
    CHECK_EQ(IoInitializeTimer(ConfQueued, ConfIoTimer, &seen), STATUS_SUCCESS);
    IoStartTimer(ConfQueued);
    CHECK_EQ(KeWaitForSingleObject(&seen.Done, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    IoStopTimer(ConfQueued);
    LONG calls = seen.Calls;
    LARGE_INTEGER later = Rel(2500);
    KeDelayExecutionThread(KernelMode, FALSE, &later);
    CHECK_EQ(seen.Calls, calls); /* stopped */
    CHECK_EQ(seen.Irql, DISPATCH_LEVEL);
    CHECK(seen.Context == &seen);
    ULONGLONG two = seen.Third - seen.First;
    CHECK(two >= (ULONGLONG)MS(1900) && two <= (ULONGLONG)MS(2100));

    /* Error log packets: zeroed, at most ERROR_LOG_MAXIMUM_SIZE bytes. */
    CHECK(IoAllocateErrorLogEntry(ConfDevice, ERROR_LOG_MAXIMUM_SIZE + 1) == NULL);
    PIO_ERROR_LOG_PACKET packet = IoAllocateErrorLogEntry(ConfDevice, sizeof(IO_ERROR_LOG_PACKET));
    CHECK(packet != NULL);
    CHECK_EQ(packet->ErrorCode, 0);
    CHECK_EQ(packet->DumpDataSize, 0);
    IoFreeErrorLogEntry(packet);
}

static VOID CaseWorkItem(void)
{
    WORK_SEEN seen;
    RtlZeroMemory(&seen, sizeof(seen));
    seen.Irql = 0xFF;
    KeInitializeEvent(&seen.Done, NotificationEvent, FALSE);
    PIO_WORKITEM wi = IoAllocateWorkItem(ConfDevice);
    CHECK(wi != NULL);
    IoQueueWorkItem(wi, ConfWork, DelayedWorkQueue, &seen);
    CHECK_EQ(KeWaitForSingleObject(&seen.Done, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    IoFreeWorkItem(wi);
    CHECK_EQ(seen.Irql, PASSIVE_LEVEL);
    CHECK(seen.Device == ConfDevice);
    CHECK(seen.Context == &seen);
    CHECK(seen.Thread != PsGetCurrentThread()); /* a system worker thread */
}

/* ---- Rtl --------------------------------------------------------------------------------------------- */

static BOOLEAN SameW(PCUNICODE_STRING s, PCWSTR w)
{
    USHORT i = 0;
    for (; i < s->Length / sizeof(WCHAR); i++)
        if (s->Buffer[i] != w[i])
            return FALSE;
    return w[i] == 0;
}

static VOID CaseUnicode(void)
{
    UNICODE_STRING u, v;
    static const WCHAR abc[] = L"abc";
    RtlInitUnicodeString(&u, abc);
    CHECK_EQ(u.Length, 6);
    CHECK_EQ(u.MaximumLength, 8);
    CHECK(u.Buffer == abc);
    RtlInitUnicodeString(&u, NULL);
    CHECK_EQ(u.Length, 0);
    CHECK_EQ(u.MaximumLength, 0);
    CHECK(u.Buffer == NULL);
    RtlInitUnicodeString(&u, L"");
    CHECK_EQ(u.Length, 0);
    CHECK_EQ(u.MaximumLength, 2);

    WCHAR buf[8];
    C_ASSERT(sizeof(buf) == 16);
    RtlFillMemory(buf, sizeof(buf), 0xFF);
    RtlInitEmptyUnicodeString(&u, buf, sizeof(buf));
    CHECK(u.Length == 0 && u.MaximumLength == 16 && u.Buffer == buf);
    CHECK_EQ(RtlAppendUnicodeToString(&u, L"abcd"), STATUS_SUCCESS);
    CHECK_EQ(u.Length, 8);
    CHECK_EQ(buf[4], 0); /* terminated while there is room */
    CHECK_EQ(RtlAppendUnicodeToString(&u, L"efghi"), STATUS_BUFFER_TOO_SMALL);
    CHECK_EQ(u.Length, 8);
    CHECK(SameW(&u, L"abcd"));
    CHECK_EQ(buf[4], 0); /* unchanged */
    RtlInitUnicodeString(&v, L"efgh");
    CHECK_EQ(RtlAppendUnicodeStringToString(&u, &v), STATUS_SUCCESS);
    CHECK_EQ(u.Length, 16); /* exactly full: no terminator */
    CHECK(SameW(&u, L"abcdefgh"));
    RtlInitUnicodeString(&v, L"x");
    CHECK_EQ(RtlAppendUnicodeStringToString(&u, &v), STATUS_BUFFER_TOO_SMALL);
    CHECK_EQ(u.Length, 16);
    CHECK_EQ(RtlAppendUnicodeToString(&u, NULL), STATUS_SUCCESS);

    /* Copy truncates to the destination's MaximumLength. */
    WCHAR small[3];
    UNICODE_STRING d = { 0, sizeof(small), small };
    RtlInitUnicodeString(&v, L"abcdef");
    RtlCopyUnicodeString(&d, &v);
    CHECK_EQ(d.Length, 6);
    CHECK(SameW(&d, L"abc"));
    RtlCopyUnicodeString(&d, NULL);
    CHECK_EQ(d.Length, 0);
    WCHAR big[10];
    UNICODE_STRING b = { 0, sizeof(big), big };
    RtlInitUnicodeString(&v, L"ab");
    RtlCopyUnicodeString(&b, &v);
    CHECK_EQ(b.Length, 4);
    CHECK_EQ(big[2], 0);

    /* Comparisons. */
    UNICODE_STRING s1, s2;
    RtlInitUnicodeString(&s1, L"abc");
    RtlInitUnicodeString(&s2, L"ABD");
    CHECK(RtlCompareUnicodeString(&s1, &s2, TRUE) < 0);
    CHECK(RtlCompareUnicodeString(&s1, &s2, FALSE) > 0); /* 'a' > 'A' */
    CHECK(RtlCompareUnicodeString(&s2, &s1, TRUE) > 0);
    RtlInitUnicodeString(&s2, L"ABC");
    CHECK_EQ(RtlCompareUnicodeString(&s1, &s2, TRUE), 0);
    CHECK(RtlCompareUnicodeString(&s1, &s2, FALSE) != 0);
    CHECK_EQ(RtlEqualUnicodeString(&s1, &s2, TRUE), TRUE);
    CHECK_EQ(RtlEqualUnicodeString(&s1, &s2, FALSE), FALSE);
    RtlInitUnicodeString(&s2, L"ab");
    CHECK(RtlCompareUnicodeString(&s2, &s1, FALSE) < 0); /* a prefix sorts first */
    CHECK(RtlCompareUnicodeString(&s1, &s2, FALSE) > 0);
    CHECK_EQ(RtlEqualUnicodeString(&s1, &s2, TRUE), FALSE);
    RtlInitUnicodeString(&s2, L"AB");
    CHECK_EQ(RtlPrefixUnicodeString(&s2, &s1, TRUE), TRUE);
    CHECK_EQ(RtlPrefixUnicodeString(&s2, &s1, FALSE), FALSE);
    CHECK_EQ(RtlPrefixUnicodeString(&s1, &s2, TRUE), FALSE);
    /* Case-insensitive order is by upper case: '_' (0x5F) sorts after 'A'..'Z'. */
    RtlInitUnicodeString(&s1, L"a");
    RtlInitUnicodeString(&s2, L"_");
    CHECK(RtlCompareUnicodeString(&s1, &s2, TRUE) < 0);
    CHECK(RtlCompareUnicodeString(&s1, &s2, FALSE) > 0);

    /* Case mapping into a new string. */
    RtlInitUnicodeString(&s1, L"aBc1");
    CHECK_EQ(RtlUpcaseUnicodeString(&u, &s1, TRUE), STATUS_SUCCESS);
    CHECK(SameW(&u, L"ABC1"));
    RtlFreeUnicodeString(&u);
    CHECK(u.Buffer == NULL);
    CHECK_EQ(RtlUpcaseUnicodeChar(L'z'), L'Z');
    CHECK_EQ(RtlUpcaseUnicodeChar(L'1'), L'1');

    ANSI_STRING a;
    RtlInitAnsiString(&a, "hi!");
    CHECK_EQ(a.Length, 3);
    CHECK_EQ(a.MaximumLength, 4);
    CHECK_EQ(RtlAnsiStringToUnicodeString(&u, &a, TRUE), STATUS_SUCCESS);
    CHECK_EQ(u.Length, 6);
    CHECK(SameW(&u, L"hi!"));
    /* Into the caller's buffer: the text and a terminator must fit. */
    WCHAR wide[4];
    UNICODE_STRING w = { 0, 3 * sizeof(WCHAR), wide };
    CHECK_EQ(RtlAnsiStringToUnicodeString(&w, &a, FALSE), STATUS_BUFFER_OVERFLOW);
    w.MaximumLength = sizeof(wide);
    CHECK_EQ(RtlAnsiStringToUnicodeString(&w, &a, FALSE), STATUS_SUCCESS);
    CHECK_EQ(w.Length, 6);
    CHECK_EQ(wide[3], 0);
    ANSI_STRING back;
    CHECK_EQ(RtlUnicodeStringToAnsiString(&back, &u, TRUE), STATUS_SUCCESS);
    CHECK_EQ(back.Length, 3);
    CHECK(RtlEqualMemory(back.Buffer, "hi!", 3));
    RtlFreeAnsiString(&back);
    RtlFreeUnicodeString(&u);

    /* RtlFreeUnicodeString frees whatever pool the buffer came from. */
    u.Buffer = ExAllocatePoolWithTag(PagedPool, 16, CONF_TAG);
    CHECK(u.Buffer != NULL);
    u.Length = 0;
    u.MaximumLength = 16;
    RtlFreeUnicodeString(&u);
    CHECK(u.Buffer == NULL);
}

static VOID CaseIntegerString(void)
{
    WCHAR buf[40];
    UNICODE_STRING u = { 0, sizeof(buf), buf };
    ULONG v;
    CHECK_EQ(RtlIntegerToUnicodeString(1234, 10, &u), STATUS_SUCCESS);
    CHECK_EQ(u.Length, 8);
    CHECK(SameW(&u, L"1234"));
    CHECK_EQ(RtlIntegerToUnicodeString(1234, 0, &u), STATUS_SUCCESS); /* 0 means 10 */
    CHECK(SameW(&u, L"1234"));
    CHECK_EQ(RtlIntegerToUnicodeString(255, 16, &u), STATUS_SUCCESS);
    CHECK(SameW(&u, L"FF"));
    CHECK_EQ(RtlIntegerToUnicodeString(5, 2, &u), STATUS_SUCCESS);
    CHECK(SameW(&u, L"101"));
    CHECK_EQ(RtlIntegerToUnicodeString(8, 8, &u), STATUS_SUCCESS);
    CHECK(SameW(&u, L"10"));
    CHECK_EQ(RtlIntegerToUnicodeString(0, 10, &u), STATUS_SUCCESS);
    CHECK(SameW(&u, L"0"));
    CHECK_EQ(RtlIntegerToUnicodeString(0xFFFFFFFF, 10, &u), STATUS_SUCCESS);
    CHECK(SameW(&u, L"4294967295"));
    CHECK_EQ(RtlIntegerToUnicodeString(0xFFFFFFFF, 2, &u), STATUS_SUCCESS);
    CHECK_EQ(u.Length, 64);
    CHECK_EQ(RtlIntegerToUnicodeString(10, 3, &u), STATUS_INVALID_PARAMETER);
    CHECK_EQ(RtlIntegerToUnicodeString(10, 7, &u), STATUS_INVALID_PARAMETER);
    UNICODE_STRING tiny = { 0, 2 * sizeof(WCHAR), buf };
    CHECK_EQ(RtlIntegerToUnicodeString(12345, 10, &tiny), STATUS_BUFFER_OVERFLOW);
    /* The result is NUL-terminated: two digits need three characters of room. */
    CHECK_EQ(RtlIntegerToUnicodeString(12, 10, &tiny), STATUS_BUFFER_OVERFLOW);
    tiny.MaximumLength = 3 * sizeof(WCHAR);
    buf[2] = 0xFFFF;
    CHECK_EQ(RtlIntegerToUnicodeString(12, 10, &tiny), STATUS_SUCCESS);
    CHECK_EQ(tiny.Length, 4);
    CHECK_EQ(buf[2], 0);

    UNICODE_STRING s;
    RtlInitUnicodeString(&s, L"123");
    CHECK_EQ(RtlUnicodeStringToInteger(&s, 0, &v), STATUS_SUCCESS);
    CHECK_EQ(v, 123);
    RtlInitUnicodeString(&s, L"-123");
    CHECK_EQ(RtlUnicodeStringToInteger(&s, 10, &v), STATUS_SUCCESS);
    CHECK_EQ(v, (ULONG)-123);
    RtlInitUnicodeString(&s, L"+77");
    CHECK_EQ(RtlUnicodeStringToInteger(&s, 0, &v), STATUS_SUCCESS);
    CHECK_EQ(v, 77);
    RtlInitUnicodeString(&s, L"0x1A");
    CHECK_EQ(RtlUnicodeStringToInteger(&s, 0, &v), STATUS_SUCCESS);
    CHECK_EQ(v, 26);
    RtlInitUnicodeString(&s, L"0o17");
    CHECK_EQ(RtlUnicodeStringToInteger(&s, 0, &v), STATUS_SUCCESS);
    CHECK_EQ(v, 15);
    RtlInitUnicodeString(&s, L"0b101");
    CHECK_EQ(RtlUnicodeStringToInteger(&s, 0, &v), STATUS_SUCCESS);
    CHECK_EQ(v, 5);
    RtlInitUnicodeString(&s, L"1a");
    CHECK_EQ(RtlUnicodeStringToInteger(&s, 16, &v), STATUS_SUCCESS);
    CHECK_EQ(v, 26);
    RtlInitUnicodeString(&s, L"  42");
    CHECK_EQ(RtlUnicodeStringToInteger(&s, 10, &v), STATUS_SUCCESS);
    CHECK_EQ(v, 42);
    RtlInitUnicodeString(&s, L"12x9");
    CHECK_EQ(RtlUnicodeStringToInteger(&s, 10, &v), STATUS_SUCCESS); /* stops at the first non-digit */
    CHECK_EQ(v, 12);
    RtlInitUnicodeString(&s, L"19");
    CHECK_EQ(RtlUnicodeStringToInteger(&s, 8, &v), STATUS_SUCCESS);
    CHECK_EQ(v, 1);
    CHECK_EQ(RtlUnicodeStringToInteger(&s, 5, &v), STATUS_INVALID_PARAMETER);
    CHECK_EQ(RtlCharToInteger("0x10", 0, &v), STATUS_SUCCESS);
    CHECK_EQ(v, 16);
    CHECK_EQ(RtlCharToInteger("-5", 10, &v), STATUS_SUCCESS);
    CHECK_EQ(v, (ULONG)-5);
}

static VOID CaseMemory(void)
{
    /* ExInterlocked lists: insert returns the old first entry (NULL when empty). */
    KSPIN_LOCK lock;
    LIST_ENTRY head, e1, e2;
    SINGLE_LIST_ENTRY shead, s1;
    KeInitializeSpinLock(&lock);
    InitializeListHead(&head);
    CHECK(ExInterlockedInsertHeadList(&head, &e1, &lock) == NULL);
    CHECK(ExInterlockedInsertTailList(&head, &e2, &lock) == &e1);
    CHECK(ExInterlockedRemoveHeadList(&head, &lock) == &e1);
    CHECK(ExInterlockedRemoveHeadList(&head, &lock) == &e2);
    CHECK(ExInterlockedRemoveHeadList(&head, &lock) == NULL);
    shead.Next = NULL;
    CHECK(ExInterlockedPushEntryList(&shead, &s1, &lock) == NULL);
    CHECK(ExInterlockedPopEntryList(&shead, &lock) == &s1);
    CHECK(ExInterlockedPopEntryList(&shead, &lock) == NULL);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);


    UCHAR a[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, b[8] = { 1, 2, 3, 9, 5, 6, 7, 8 };
    CHECK_EQ(RtlCompareMemory(a, b, 8), 3); /* bytes that match before the first difference */
    CHECK_EQ(RtlCompareMemory(a, a, 8), 8);
    CHECK_EQ(RtlCompareMemory(a, b, 0), 0);
    CHECK(!RtlEqualMemory(a, b, 8));
    CHECK(RtlEqualMemory(a, b, 3));
    ULONG pat[3] = { 0xDEADBEEF, 0xDEADBEEF, 0 };
    CHECK_EQ(RtlCompareMemoryUlong(pat, 12, 0xDEADBEEF), 8);
    RtlMoveMemory(a + 1, a, 4); /* overlapping */
    CHECK_EQ(a[1], 1);
    CHECK_EQ(a[4], 4);
    RtlZeroMemory(a, 8);
    CHECK_EQ(RtlCompareMemoryUlong(a, 8, 0), 8);
}

static VOID CaseStatusMap(void)
{
    static const struct {
        NTSTATUS Status;
        ULONG Error;
    } map[] = {
        { STATUS_SUCCESS, 0 },
        { STATUS_UNSUCCESSFUL, 31 },                /* ERROR_GEN_FAILURE */
        { STATUS_NOT_IMPLEMENTED, 1 },              /* ERROR_INVALID_FUNCTION */
        { STATUS_INVALID_DEVICE_REQUEST, 1 },
        { STATUS_INVALID_HANDLE, 6 },
        { STATUS_INVALID_PARAMETER, 87 },
        { STATUS_NO_SUCH_DEVICE, 2 },               /* ERROR_FILE_NOT_FOUND */
        { STATUS_END_OF_FILE, 38 },                 /* ERROR_HANDLE_EOF */
        { STATUS_NO_MEMORY, 8 },                    /* ERROR_NOT_ENOUGH_MEMORY */
        { STATUS_ACCESS_DENIED, 5 },
        { STATUS_BUFFER_TOO_SMALL, 122 },           /* ERROR_INSUFFICIENT_BUFFER */
        { STATUS_BUFFER_OVERFLOW, 234 },            /* ERROR_MORE_DATA */
        { STATUS_OBJECT_NAME_NOT_FOUND, 2 },
        { STATUS_OBJECT_NAME_COLLISION, 183 },      /* ERROR_ALREADY_EXISTS */
        { STATUS_OBJECT_PATH_NOT_FOUND, 3 },
        { STATUS_SHARING_VIOLATION, 32 },
        { STATUS_INSUFFICIENT_RESOURCES, 1450 },    /* ERROR_NO_SYSTEM_RESOURCES */
        { STATUS_NOT_SUPPORTED, 50 },
        { STATUS_DEVICE_NOT_READY, 21 },
        { STATUS_DEVICE_BUSY, 170 },                /* ERROR_BUSY */
        { STATUS_IO_TIMEOUT, 121 },                 /* ERROR_SEM_TIMEOUT */
        { STATUS_CANCELLED, 995 },                  /* ERROR_OPERATION_ABORTED */
        { STATUS_PENDING, 997 },                    /* ERROR_IO_PENDING */
        { STATUS_DEVICE_NOT_CONNECTED, 1167 },
        { STATUS_INVALID_DEVICE_STATE, 22 },        /* ERROR_BAD_COMMAND */
        { STATUS_INVALID_PARAMETER_1, 87 },
        { STATUS_NO_MORE_ENTRIES, 259 },            /* ERROR_NO_MORE_ITEMS */
        { (NTSTATUS)0xC0070015, 21 },               /* facility Win32: the code itself */
        { (NTSTATUS)0xC0070490, 1168 },
        { (NTSTATUS)0xC0FFEE01, 317 },              /* unknown: ERROR_MR_MID_NOT_FOUND */
    };
    for (ULONG i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        CHECK_EQ(RtlNtStatusToDosError(map[i].Status), map[i].Error);
}

static VOID CaseObjectRefs(void)
{
    PFILE_OBJECT f;
    PDEVICE_OBJECT d;
    UNICODE_STRING name;
    RtlInitUnicodeString(&name, L"\\Device\\NtConf");
    CHECK_EQ(ObReferenceObjectByPointer(ConfDevice, 0, NULL, KernelMode), STATUS_SUCCESS);
    ObDereferenceObject(ConfDevice);
    CHECK_EQ(ObReferenceObjectByPointer(ConfDevice, 0, *IoDeviceObjectType, KernelMode), STATUS_SUCCESS);
    ObDereferenceObject(ConfDevice);
    CHECK_EQ(ObReferenceObjectByPointer(ConfDevice, 0, *PsThreadType, KernelMode), STATUS_OBJECT_TYPE_MISMATCH);
    CHECK_EQ(IoGetDeviceObjectPointer(&name, FILE_READ_DATA, &f, &d), STATUS_SUCCESS);
    CHECK_EQ(ObReferenceObjectByPointer(f, 0, *IoFileObjectType, KernelMode), STATUS_SUCCESS);
    ObDereferenceObject(f);
    CHECK(IoGetRelatedDeviceObject(f) == ConfDevice);
    ObDereferenceObject(f);
}

/* ---- registry --------------------------------------------------------------------------- */

static NTSTATUS OpenKey(PHANDLE Key, HANDLE Root, PCWSTR Name)
{
    UNICODE_STRING name;
    OBJECT_ATTRIBUTES oa;
    RtlInitUnicodeString(&name, Name);
    InitializeObjectAttributes(&oa, Root ? &name : &ConfRegistryPath, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE,
                               Root, NULL);
    /* Creating subkeys below a handle takes KEY_CREATE_SUB_KEY on it. */
    return ZwOpenKey(Key, KEY_READ | KEY_CREATE_SUB_KEY, &oa);
}

typedef struct _MULTI_SEEN {
    ULONG Calls;
    ULONG Types[4];
    ULONG Lengths[4];
    WCHAR First[4];
} MULTI_SEEN;

static NTSTATUS NTAPI ConfQueryRoutine(PWSTR ValueName, ULONG ValueType, PVOID ValueData, ULONG ValueLength,
                                       PVOID Context, PVOID EntryContext)
{
    MULTI_SEEN *seen = EntryContext;
    UNREFERENCED_PARAMETER(ValueName);
    UNREFERENCED_PARAMETER(Context);
    if (seen->Calls < 4) {
        seen->Types[seen->Calls] = ValueType;
        seen->Lengths[seen->Calls] = ValueLength;
        seen->First[seen->Calls] = *(PWCHAR)ValueData;
    }
    seen->Calls++;
    return STATUS_SUCCESS;
}

static VOID CaseRegistry(void)
{
    HANDLE service, params, created;
    UCHAR buf[64];
    PKEY_VALUE_PARTIAL_INFORMATION kv = (PKEY_VALUE_PARTIAL_INFORMATION)buf;
    ULONG len = 0, fixed = FIELD_OFFSET(KEY_VALUE_PARTIAL_INFORMATION, Data);
    UNICODE_STRING value;

    CHECK_EQ(OpenKey(&service, NULL, NULL), STATUS_SUCCESS);
    CHECK_EQ(OpenKey(&params, service, L"NoSuchKey"), STATUS_OBJECT_NAME_NOT_FOUND);
    CHECK_EQ(OpenKey(&params, service, L"PARAMETERS"), STATUS_SUCCESS);

    RtlInitUnicodeString(&value, L"Number");
    CHECK_EQ(ZwQueryValueKey(params, &value, KeyValuePartialInformation, kv, sizeof(buf), &len), STATUS_SUCCESS);
    CHECK_EQ(len, fixed + sizeof(ULONG));
    CHECK_EQ(kv->Type, REG_DWORD);
    CHECK_EQ(kv->DataLength, sizeof(ULONG));
    CHECK_EQ(*(PULONG)kv->Data, 42);
    /* Smaller than the fixed part: nothing; the fixed part but not the data: overflow. */
    len = 0;
    CHECK_EQ(ZwQueryValueKey(params, &value, KeyValuePartialInformation, kv, fixed - 1, &len),
             STATUS_BUFFER_TOO_SMALL);
    CHECK_EQ(len, fixed + sizeof(ULONG));
    len = 0;
    CHECK_EQ(ZwQueryValueKey(params, &value, KeyValuePartialInformation, kv, fixed + 1, &len),
             STATUS_BUFFER_OVERFLOW);
    CHECK_EQ(len, fixed + sizeof(ULONG));
    CHECK_EQ(kv->Type, REG_DWORD);
    RtlInitUnicodeString(&value, L"text");
    CHECK_EQ(ZwQueryValueKey(params, &value, KeyValuePartialInformation, kv, sizeof(buf), &len), STATUS_SUCCESS);
    CHECK_EQ(kv->Type, REG_SZ);
    CHECK_EQ(kv->DataLength, sizeof(L"hello")); /* the terminator is part of the data */
    RtlInitUnicodeString(&value, L"NoSuchValue");
    CHECK_EQ(ZwQueryValueKey(params, &value, KeyValuePartialInformation, kv, sizeof(buf), &len),
             STATUS_OBJECT_NAME_NOT_FOUND);

    /* A new volatile key: created, then opened; values set and read back. */
    UNICODE_STRING name;
    OBJECT_ATTRIBUTES oa;
    ULONG disposition = 0, dword = 7;
    RtlInitUnicodeString(&name, L"Scratch");
    InitializeObjectAttributes(&oa, &name, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, service, NULL);
    CHECK_EQ(ZwCreateKey(&created, KEY_ALL_ACCESS, &oa, 0, NULL, REG_OPTION_VOLATILE, &disposition), STATUS_SUCCESS);
    CHECK_EQ(disposition, REG_CREATED_NEW_KEY);
    ZwClose(created);
    CHECK_EQ(ZwCreateKey(&created, KEY_ALL_ACCESS, &oa, 0, NULL, REG_OPTION_VOLATILE, &disposition), STATUS_SUCCESS);
    CHECK_EQ(disposition, REG_OPENED_EXISTING_KEY);
    RtlInitUnicodeString(&value, L"Seven");
    CHECK_EQ(ZwSetValueKey(created, &value, 0, REG_DWORD, &dword, sizeof(dword)), STATUS_SUCCESS);
    CHECK_EQ(ZwQueryValueKey(created, &value, KeyValuePartialInformation, kv, sizeof(buf), &len), STATUS_SUCCESS);
    CHECK_EQ(*(PULONG)kv->Data, 7);
    CHECK_EQ(ZwDeleteKey(created), STATUS_SUCCESS);
    ZwClose(created);
    CHECK_EQ(OpenKey(&created, service, L"Scratch"), STATUS_OBJECT_NAME_NOT_FOUND);
    ZwClose(params);
    CHECK_EQ(ZwClose(service), STATUS_SUCCESS);

    /* RtlQueryRegistryValues: direct values, defaults, required values, MULTI_SZ. */
    RTL_QUERY_REGISTRY_TABLE table[5];
    ULONG number = 0, fallback = 0, def = 99;
    UNICODE_STRING text = { 0, 0, NULL };
    MULTI_SEEN multi;
    RtlZeroMemory(table, sizeof(table));
    RtlZeroMemory(&multi, sizeof(multi));
    table[0].Flags = RTL_QUERY_REGISTRY_DIRECT;
    table[0].Name = L"Number";
    table[0].EntryContext = &number;
    table[1].Flags = RTL_QUERY_REGISTRY_DIRECT;
    table[1].Name = L"Text";
    table[1].EntryContext = &text; /* Buffer NULL: allocated for us */
    table[2].Flags = RTL_QUERY_REGISTRY_DIRECT;
    table[2].Name = L"Absent";
    table[2].EntryContext = &fallback;
    table[2].DefaultType = REG_DWORD;
    table[2].DefaultData = &def;
    table[2].DefaultLength = sizeof(def);
    table[3].QueryRoutine = ConfQueryRoutine;
    table[3].Name = L"Multi";
    table[3].EntryContext = &multi;
    CHECK_EQ(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, L"NtConf\\Parameters", table, NULL, NULL),
             STATUS_SUCCESS);
    CHECK_EQ(number, 42);
    CHECK_EQ(fallback, 99);
    CHECK(text.Buffer != NULL);
    CHECK_EQ(text.Length, 10);
    CHECK(SameW(&text, L"hello"));
    RtlFreeUnicodeString(&text);
    /* Once per string of a REG_MULTI_SZ, each as REG_SZ with its terminator. */
    CHECK_EQ(multi.Calls, 2);
    CHECK_EQ(multi.Types[0], REG_SZ);
    CHECK_EQ(multi.Lengths[0], 2 * sizeof(WCHAR));
    CHECK_EQ(multi.First[0], L'a');
    CHECK_EQ(multi.Lengths[1], 3 * sizeof(WCHAR));
    CHECK_EQ(multi.First[1], L'b');

    RtlZeroMemory(table, sizeof(table));
    table[0].Flags = RTL_QUERY_REGISTRY_DIRECT | RTL_QUERY_REGISTRY_REQUIRED;
    table[0].Name = L"Absent";
    table[0].EntryContext = &fallback;
    CHECK_EQ(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, L"NtConf\\Parameters", table, NULL, NULL),
             STATUS_OBJECT_NAME_NOT_FOUND);
    CHECK(!NT_SUCCESS(RtlQueryRegistryValues(RTL_REGISTRY_SERVICES, L"NtConf\\NoSuchKey", table, NULL, NULL)));
}

/* The driver object as the loader built it, DriverEntry's context, device stacks. */
static VOID CaseDriverObject(void)
{
    PDRIVER_OBJECT drv = ConfDevice->DriverObject;
    UNICODE_STRING expect;
    CHECK(drv == EntrySeen.Driver);
    CHECK_EQ(drv->Type, IO_TYPE_DRIVER);
    RtlInitUnicodeString(&expect, L"\\Driver\\NtConf");
    CHECK(RtlEqualUnicodeString(&drv->DriverName, &expect, TRUE));
    RtlInitUnicodeString(&expect, L"\\Registry\\Machine\\System\\CurrentControlSet\\Services\\NtConf");
    CHECK(RtlEqualUnicodeString(&ConfRegistryPath, &expect, TRUE));
    CHECK(drv->DriverExtension != NULL);
    RtlInitUnicodeString(&expect, L"NtConf");
    CHECK(RtlEqualUnicodeString(&drv->DriverExtension->ServiceKeyName, &expect, TRUE));
    CHECK(drv->DriverUnload != NULL);
    CHECK_EQ(EntrySeen.Irql, PASSIVE_LEVEL);
    CHECK_EQ(EntrySeen.SystemThread, TRUE);
    CHECK_EQ(EntrySeen.PreviousMode, KernelMode);

    /* The driver's devices, newest first. */
    ULONG n = 0;
    BOOLEAN conf = FALSE, lower = FALSE, queued = FALSE;
    for (PDEVICE_OBJECT d = drv->DeviceObject; d; d = d->NextDevice, n++) {
        conf |= d == ConfDevice;
        lower |= d == ConfLower;
        queued |= d == ConfQueued;
    }
    CHECK_EQ(n, 4);
    CHECK(conf && lower && queued);
    CHECK(drv->DeviceObject == ConfDirect);

    /* A filter on top: one more stack location, and the stack's top changes. */
    PDEVICE_OBJECT filter, below;
    CHECK_EQ(IoCreateDevice(drv, 0, NULL, FILE_DEVICE_UNKNOWN, 0, FALSE, &filter), STATUS_SUCCESS);
    below = IoAttachDeviceToDeviceStack(filter, ConfLower);
    CHECK(below == ConfLower);
    CHECK_EQ(filter->StackSize, ConfLower->StackSize + 1);
    CHECK(ConfLower->AttachedDevice == filter);
    CHECK(IoGetAttachedDevice(ConfLower) == filter);
    PDEVICE_OBJECT top = IoGetAttachedDeviceReference(ConfLower);
    CHECK(top == filter);
    ObDereferenceObject(top);
    IoDetachDevice(ConfLower);
    CHECK(ConfLower->AttachedDevice == NULL);
    CHECK(IoGetAttachedDevice(ConfLower) == ConfLower);
    IoDeleteDevice(filter);
}

/* HAL port access: an unclaimed port reads all ones and ignores writes; the test
 * machine's LPT1 (0x378, SPP, nothing attached) latches its data register. */
static VOID CaseHalPorts(void)
{
    PUCHAR none = (PUCHAR)(ULONG_PTR)0x2E8, lpt = (PUCHAR)(ULONG_PTR)0x378;
    UCHAR buf[4] = { 0, 0, 0, 0 };
    CHECK_EQ(READ_PORT_UCHAR(none), 0xFF);
    CHECK_EQ(READ_PORT_USHORT((PUSHORT)none), 0xFFFF);
    CHECK_EQ(READ_PORT_ULONG((PULONG)none), 0xFFFFFFFF);
    WRITE_PORT_UCHAR(none, 0x12);
    CHECK_EQ(READ_PORT_UCHAR(none), 0xFF);
    READ_PORT_BUFFER_UCHAR(none, buf, 3);
    CHECK(buf[0] == 0xFF && buf[1] == 0xFF && buf[2] == 0xFF && buf[3] == 0);

    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old); /* the HAL works at any IRQL */
    WRITE_PORT_UCHAR(lpt, 0x5A);
    UCHAR data = READ_PORT_UCHAR(lpt);
    KeLowerIrql(old);
    CHECK_EQ(data, 0x5A);
    WRITE_PORT_UCHAR(lpt, 0xFF); /* as the BIOS left it */
}

/* A real interrupt: the printer on LPT1 acknowledges a strobed byte with an nAck
 * pulse, which interrupts on IRQ 7 while CONTROL's IRQ enable is set. The ISR runs
 * at the interrupt's DIRQL and requests its DPC, which runs at DISPATCH_LEVEL. */
#define LPT_DATA ((PUCHAR)(ULONG_PTR)0x378)
#define LPT_STATUS ((PUCHAR)(ULONG_PTR)0x379)
#define LPT_CONTROL ((PUCHAR)(ULONG_PTR)0x37A)
#define LPT_CONTROL_STROBE 0x01  /* asserts nStrobe */
#define LPT_CONTROL_NOT_INIT 0x04 /* nInit high: not resetting the printer */
#define LPT_CONTROL_SELECT_IN 0x08
#define LPT_CONTROL_IRQ_ENABLE 0x10

static struct {
    LONG IsrCalls;
    KIRQL IsrIrql;
    PVOID IsrContext;
    LONG DpcCalls;
    KIRQL DpcIrql;
    PVOID DpcContext;
    KEVENT Done;
} IsrSeen;

static BOOLEAN NTAPI ConfLptIsr(PKINTERRUPT Interrupt, PVOID Context)
{
    UNREFERENCED_PARAMETER(Interrupt);
    IsrSeen.IsrCalls++;
    IsrSeen.IsrIrql = KeGetCurrentIrql();
    IsrSeen.IsrContext = Context;
    READ_PORT_UCHAR(LPT_STATUS);
    IoRequestDpc(ConfQueued, NULL, Context);
    return TRUE;
}

static VOID NTAPI ConfLptDpc(PKDPC Dpc, PVOID DeferredContext, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Arg1);
    IsrSeen.DpcCalls++;
    IsrSeen.DpcIrql = KeGetCurrentIrql();
    IsrSeen.DpcContext = DeferredContext == ConfQueued ? Arg2 : NULL;
    KeSetEvent(&IsrSeen.Done, IO_NO_INCREMENT, FALSE);
}

static VOID CaseIsr(void)
{
    KIRQL irql;
    KAFFINITY affinity;
    PKINTERRUPT interrupt;
    RtlZeroMemory(&IsrSeen, sizeof(IsrSeen));
    KeInitializeEvent(&IsrSeen.Done, NotificationEvent, FALSE);
    IoInitializeDpcRequest(ConfQueued, ConfLptDpc);
    ULONG vector = HalGetInterruptVector(Isa, 0, 7, 7, &irql, &affinity);
    CHECK_EQ(IoConnectInterrupt(&interrupt, ConfLptIsr, &IsrSeen, NULL, vector, irql, irql, Latched, FALSE,
                                affinity, FALSE),
             STATUS_SUCCESS);
    UCHAR idle = LPT_CONTROL_NOT_INIT | LPT_CONTROL_SELECT_IN | LPT_CONTROL_IRQ_ENABLE;
    WRITE_PORT_UCHAR(LPT_CONTROL, idle);
    WRITE_PORT_UCHAR(LPT_DATA, 'A');
    WRITE_PORT_UCHAR(LPT_CONTROL, idle | LPT_CONTROL_STROBE);
    KeStallExecutionProcessor(1);
    WRITE_PORT_UCHAR(LPT_CONTROL, idle);
    LARGE_INTEGER limit = Rel(100);
    NTSTATUS st = KeWaitForSingleObject(&IsrSeen.Done, Executive, KernelMode, FALSE, &limit);
    WRITE_PORT_UCHAR(LPT_CONTROL, LPT_CONTROL_NOT_INIT | LPT_CONTROL_SELECT_IN);
    IoDisconnectInterrupt(interrupt);
    CHECK_EQ(st, STATUS_SUCCESS);
    CHECK_EQ(IsrSeen.IsrCalls, 1);
    CHECK_EQ(IsrSeen.IsrIrql, irql); /* DIRQL */
    CHECK(IsrSeen.IsrContext == &IsrSeen);
    CHECK_EQ(IsrSeen.DpcCalls, 1);
    CHECK_EQ(IsrSeen.DpcIrql, DISPATCH_LEVEL);
    CHECK(IsrSeen.DpcContext == &IsrSeen);
}

typedef VOID CONF_FN(void);
static CONF_FN *const ConfCases[CONF_CASE_COUNT] = {
    [CONF_EVENTS] = CaseEvents,
    [CONF_WAIT_TIMEOUT] = CaseWaitTimeout,
    [CONF_SEMAPHORE] = CaseSemaphore,
    [CONF_MUTEX] = CaseMutex,
    [CONF_WAIT_MULTIPLE] = CaseWaitMultiple,
    [CONF_TIMER] = CaseTimer,
    [CONF_PERIODIC_TIMER] = CasePeriodicTimer,
    [CONF_DPC] = CaseDpc,
    [CONF_IRQL] = CaseIrql,
    [CONF_TIME] = CaseTime,
    [CONF_DELAY] = CaseDelay,
    [CONF_POOL] = CasePool,
    [CONF_LOOKASIDE] = CaseLookaside,
    [CONF_THREAD] = CaseThread,
    [CONF_NAMES] = CaseNames,
    [CONF_BUILD_IOCTL] = CaseBuildIoctl,
    [CONF_PENDING] = CasePending,
    [CONF_CANCEL] = CaseCancel,
    [CONF_CSQ] = CaseCsq,
    [CONF_STARTIO] = CaseStartIo,
    [CONF_INTERRUPT] = CaseInterrupt,
    [CONF_WORK_ITEM] = CaseWorkItem,
    [CONF_UNICODE] = CaseUnicode,
    [CONF_INTEGER_STRING] = CaseIntegerString,
    [CONF_MEMORY] = CaseMemory,
    [CONF_STATUS_MAP] = CaseStatusMap,
    [CONF_OBJECT_REFS] = CaseObjectRefs,
    [CONF_REGISTRY] = CaseRegistry,
    [CONF_IO_TIMER] = CaseIoTimer,
    [CONF_DRIVER_OBJECT] = CaseDriverObject,
    [CONF_HAL_PORTS] = CaseHalPorts,
    [CONF_ISR] = CaseIsr,
    [CONF_DEVICE_QUEUE] = CaseDeviceQueue,
    [CONF_CONTENTION] = CaseContention,
};

/* ---- provocations: each ends in a bug check ------------------------------------------------------ */

static VOID ConfProvoke(ULONG What, PIRP Irp)
{
    switch (What) {
    case PROVOKE_WAIT_TOO_MANY: {
        KEVENT e[4];
        PVOID objects[4];
        for (int i = 0; i < 4; i++) {
            KeInitializeEvent(&e[i], NotificationEvent, TRUE);
            objects[i] = &e[i];
        }
        KeWaitForMultipleObjects(4, objects, WaitAny, Executive, KernelMode, FALSE, NULL, NULL);
        break;
    }
    case PROVOKE_SPIN_LOCK_TWICE: {
        KSPIN_LOCK lock;
        KIRQL a, b;
        KeInitializeSpinLock(&lock);
        KeAcquireSpinLock(&lock, &a);
        KeAcquireSpinLock(&lock, &b);
        break;
    }
    case PROVOKE_SPIN_LOCK_NOT_HELD: {
        KSPIN_LOCK lock;
        KIRQL old;
        KeInitializeSpinLock(&lock);
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        KeReleaseSpinLockFromDpcLevel(&lock);
        KeLowerIrql(old);
        break;
    }
    case PROVOKE_COMPLETE_TWICE:
        Irp->IoStatus.Status = STATUS_SUCCESS;
        Irp->IoStatus.Information = 0;
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        IoCompleteRequest(Irp, IO_NO_INCREMENT);
        break;
    case PROVOKE_SEMAPHORE_LIMIT: {
        KSEMAPHORE s;
        KeInitializeSemaphore(&s, 1, 1);
        KeReleaseSemaphore(&s, IO_NO_INCREMENT, 1, FALSE);
        break;
    }
    case PROVOKE_FREE_WRONG_TAG: {
        PVOID p = ExAllocatePoolWithTag(NonPagedPool, 16, 'AAAA');
        ExFreePoolWithTag(p, 'BBBB');
        break;
    }
    case PROVOKE_ALLOCATE_ZERO:
        ExAllocatePoolWithTag(NonPagedPool, 0, CONF_TAG);
        break;
    case PROVOKE_MUTEX_NOT_OWNED: {
        KMUTEX m;
        KeInitializeMutex(&m, 0);
        KeReleaseMutex(&m, FALSE);
        break;
    }
    case PROVOKE_BUGCHECK:
        KeBugCheckEx(0xDEAD, 1, 2, 3, 4);
        break;
    case PROVOKE_FREE_TWICE: {
        PVOID p = ExAllocatePoolWithTag(NonPagedPool, 16, CONF_TAG);
        ExFreePoolWithTag(p, CONF_TAG);
        ExFreePoolWithTag(p, CONF_TAG);
        break;
    }
    default:
        break;
    }
}

/* ---- per-open state and the request log ------------------------------------------------------------ */

typedef struct _CONF_OPEN {
    ULONG Magic;
    CONF_OPEN_INFO Info;
} CONF_OPEN;

static VOID ConfLogMajor(UCHAR Major, ULONG Length)
{
    KIRQL irql;
    KeAcquireSpinLock(&ConfLogLock, &irql);
    if (ConfLog.Count < CONF_LOG_MAX) {
        ConfLog.Major[ConfLog.Count] = Major;
        ConfLog.Length[ConfLog.Count] = Length;
        ConfLog.Count++;
    }
    KeReleaseSpinLock(&ConfLogLock, irql);
}

static NTSTATUS Complete(PIRP Irp, NTSTATUS Status, ULONG_PTR Information)
{
    Irp->IoStatus.Status = Status;
    Irp->IoStatus.Information = Information;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return Status;
}

static NTSTATUS ConfCreate(PIO_STACK_LOCATION Sp, PIRP Irp)
{
    PFILE_OBJECT fo = Sp->FileObject;
    UNICODE_STRING refuse;
    RtlInitUnicodeString(&refuse, L"\\refuse");
    if (RtlEqualUnicodeString(&fo->FileName, &refuse, TRUE))
        return Complete(Irp, STATUS_ACCESS_DENIED, 0);
    CONF_OPEN *open = ExAllocatePoolWithTag(NonPagedPool, sizeof(*open), CONF_TAG);
    if (!open)
        return Complete(Irp, STATUS_INSUFFICIENT_RESOURCES, 0);
    RtlZeroMemory(open, sizeof(*open));
    open->Magic = CONF_OPEN_MAGIC;
    open->Info.DesiredAccess = Sp->Parameters.Create.SecurityContext
                                   ? Sp->Parameters.Create.SecurityContext->DesiredAccess
                                   : 0xFFFFFFFF;
    open->Info.CreateOptions = Sp->Parameters.Create.Options;
    open->Info.ShareAccess = Sp->Parameters.Create.ShareAccess;
    USHORT n = fo->FileName.Length;
    if (n > sizeof(open->Info.FileName))
        n = sizeof(open->Info.FileName);
    if (n)
        RtlCopyMemory(open->Info.FileName, fo->FileName.Buffer, n);
    open->Info.FileNameLength = fo->FileName.Length;
    fo->FsContext = open;
    return Complete(Irp, STATUS_SUCCESS, FILE_OPENED);
}

/* ---- pending requests for the Win32 side ------------------------------------------------------------ */

typedef struct _TIMED_IRP {
    KTIMER Timer;
    KDPC Dpc;
    PIRP Irp;
    ULONG Ms;
} TIMED_IRP;

static VOID NTAPI ConfTimedComplete(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    TIMED_IRP *t = Context;
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    PIRP irp = t->Irp;
    ULONG ms = t->Ms;
    ExFreePoolWithTag(t, CONF_TAG);
    Complete(irp, STATUS_SUCCESS, ms);
}

static VOID NTAPI ConfCancelPending(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    IoReleaseCancelSpinLock(Irp->CancelIrql);
    Complete(Irp, STATUS_CANCELLED, 0);
}

static NTSTATUS ConfDeviceControl(PIO_STACK_LOCATION Sp, PIRP Irp)
{
    ULONG in = Sp->Parameters.DeviceIoControl.InputBufferLength;
    ULONG out = Sp->Parameters.DeviceIoControl.OutputBufferLength;
    PUCHAR sys = Irp->AssociatedIrp.SystemBuffer;
    CONF_OPEN *open = Sp->FileObject->FsContext;

    switch (Sp->Parameters.DeviceIoControl.IoControlCode) {
    case IOCTL_CONF_RUN: {
        ULONG which;
        if (in < sizeof(ULONG) || out < sizeof(CONF_RESULT))
            return Complete(Irp, STATUS_BUFFER_TOO_SMALL, 0);
        RtlCopyMemory(&which, sys, sizeof(which));
        if (which >= CONF_CASE_COUNT)
            return Complete(Irp, STATUS_INVALID_PARAMETER, 0);
        CONF_RESULT result;
        RtlZeroMemory(&result, sizeof(result));
        ConfOut = &result;
        ConfCases[which]();
        ConfOut = NULL;
        result.Ran = 1;
        RtlCopyMemory(sys, &result, sizeof(result));
        return Complete(Irp, STATUS_SUCCESS, sizeof(result));
    }
    case IOCTL_CONF_STATUS: {
        NTSTATUS st;
        if (in < sizeof(st))
            return Complete(Irp, STATUS_INVALID_PARAMETER, 0);
        RtlCopyMemory(&st, sys, sizeof(st));
        RtlFillMemory(sys, out, 0xA5);
        return Complete(Irp, st, out);
    }
    case IOCTL_CONF_OPEN_INFO:
        if (out < sizeof(CONF_OPEN_INFO))
            return Complete(Irp, STATUS_BUFFER_TOO_SMALL, 0);
        open->Info.FsContextIntact = open->Magic == CONF_OPEN_MAGIC;
        open->Info.SynchronousIo = (Sp->FileObject->Flags & FO_SYNCHRONOUS_IO) != 0;
        open->Info.RequestorMode = Irp->RequestorMode;
        open->Info.ThreadIsCaller = Irp->Tail.Overlay.Thread == PsGetCurrentThread();
        open->Info.SystemThread = PsIsSystemThread(PsGetCurrentThread());
        open->Info.PreviousMode = ExGetPreviousMode();
        RtlCopyMemory(sys, &open->Info, sizeof(CONF_OPEN_INFO));
        return Complete(Irp, STATUS_SUCCESS, sizeof(CONF_OPEN_INFO));
    case IOCTL_CONF_LOG: {
        if (out < sizeof(CONF_LOG))
            return Complete(Irp, STATUS_BUFFER_TOO_SMALL, 0);
        CONF_LOG log = ConfTakeLog();
        RtlCopyMemory(sys, &log, sizeof(CONF_LOG));
        return Complete(Irp, STATUS_SUCCESS, sizeof(CONF_LOG));
    }
    case IOCTL_CONF_PEND_TIMER: {
        ULONG ms;
        if (in < sizeof(ms))
            return Complete(Irp, STATUS_INVALID_PARAMETER, 0);
        RtlCopyMemory(&ms, sys, sizeof(ms));
        TIMED_IRP *t = ExAllocatePoolWithTag(NonPagedPool, sizeof(*t), CONF_TAG);
        if (!t)
            return Complete(Irp, STATUS_INSUFFICIENT_RESOURCES, 0);
        t->Irp = Irp;
        t->Ms = ms;
        KeInitializeTimer(&t->Timer);
        KeInitializeDpc(&t->Dpc, ConfTimedComplete, t);
        IoMarkIrpPending(Irp);
        KeSetTimer(&t->Timer, Rel(ms), &t->Dpc);
        return STATUS_PENDING;
    }
    case IOCTL_CONF_PEND_CANCEL: {
        KIRQL irql;
        IoMarkIrpPending(Irp);
        IoAcquireCancelSpinLock(&irql);
        if (Irp->Cancel) {
            IoReleaseCancelSpinLock(irql);
            Complete(Irp, STATUS_CANCELLED, 0);
        } else {
            IoSetCancelRoutine(Irp, ConfCancelPending);
            IoReleaseCancelSpinLock(irql);
        }
        return STATUS_PENDING;
    }
    case IOCTL_CONF_PROVOKE: {
        ULONG what;
        if (in < sizeof(what))
            return Complete(Irp, STATUS_INVALID_PARAMETER, 0);
        RtlCopyMemory(&what, sys, sizeof(what));
        ConfProvoke(what, Irp);
        return Complete(Irp, STATUS_UNSUCCESSFUL, 0); /* survived: the caller sees a failure */
    }
    default:
        return Complete(Irp, STATUS_INVALID_DEVICE_REQUEST, 0);
    }
}

/* DO_DIRECT_IO: the data moves through Irp->MdlAddress (none for zero bytes). The log
 * records the MDL's byte count, or CONF_LOG_NO_MDL | length without one. Reads fill
 * the buffer with 'd'; writes report the sum of the bytes as Information. */
static NTSTATUS ConfDirectReadWrite(PIO_STACK_LOCATION Sp, PIRP Irp, ULONG Length)
{
    PMDL mdl = Irp->MdlAddress;
    ConfLogMajor(Sp->MajorFunction, mdl ? MmGetMdlByteCount(mdl) : CONF_LOG_NO_MDL | Length);
    if (!mdl)
        return Complete(Irp, STATUS_SUCCESS, 0);
    PUCHAR va = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
    if (!va)
        return Complete(Irp, STATUS_INSUFFICIENT_RESOURCES, 0);
    if (Sp->MajorFunction == IRP_MJ_READ) {
        RtlFillMemory(va, MmGetMdlByteCount(mdl), 'd');
        return Complete(Irp, STATUS_SUCCESS, MmGetMdlByteCount(mdl));
    }
    ULONG sum = 0;
    for (ULONG i = 0; i < MmGetMdlByteCount(mdl); i++)
        sum += va[i];
    return Complete(Irp, STATUS_SUCCESS, sum);
}

static NTSTATUS NTAPI ConfDispatch(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(Irp);
    if (DeviceObject == ConfLower)
        return LowerDispatch(Irp);
    if (DeviceObject != ConfDevice && DeviceObject != ConfDirect)
        return Complete(Irp, STATUS_INVALID_DEVICE_REQUEST, 0);
    ULONG length = sp->MajorFunction == IRP_MJ_READ    ? sp->Parameters.Read.Length
                   : sp->MajorFunction == IRP_MJ_WRITE ? sp->Parameters.Write.Length
                                                       : 0;
    if (DeviceObject == ConfDirect && (sp->MajorFunction == IRP_MJ_READ || sp->MajorFunction == IRP_MJ_WRITE))
        return ConfDirectReadWrite(sp, Irp, length);
    if (!(sp->MajorFunction == IRP_MJ_DEVICE_CONTROL &&
          sp->Parameters.DeviceIoControl.IoControlCode == IOCTL_CONF_LOG))
        ConfLogMajor(sp->MajorFunction, length);
    CONF_OPEN *open = sp->FileObject ? sp->FileObject->FsContext : NULL;
    if (open && sp->MajorFunction != IRP_MJ_CREATE)
        open->Info.Requests++;

    switch (sp->MajorFunction) {
    case IRP_MJ_CREATE:
        return ConfCreate(sp, Irp);
    case IRP_MJ_CLOSE:
        if (open)
            ExFreePoolWithTag(open, CONF_TAG);
        return Complete(Irp, STATUS_SUCCESS, 0);
    case IRP_MJ_CLEANUP:
        return Complete(Irp, STATUS_SUCCESS, 0);
    case IRP_MJ_READ:
        if (length) /* a zero-length read has no system buffer */
            RtlFillMemory(Irp->AssociatedIrp.SystemBuffer, length, 'r');
        return Complete(Irp, STATUS_SUCCESS, length);
    case IRP_MJ_WRITE:
        return Complete(Irp, STATUS_SUCCESS, length);
    case IRP_MJ_DEVICE_CONTROL:
        return ConfDeviceControl(sp, Irp);
    default:
        return Complete(Irp, STATUS_INVALID_DEVICE_REQUEST, 0);
    }
}

/* ---- load and unload ------------------------------------------------------------------------------------- */

static VOID NTAPI ConfUnload(PDRIVER_OBJECT DriverObject)
{
    UNICODE_STRING link;
    UNREFERENCED_PARAMETER(DriverObject);
    RtlInitUnicodeString(&link, L"\\DosDevices\\NtConf");
    IoDeleteSymbolicLink(&link);
    RtlInitUnicodeString(&link, L"\\DosDevices\\NtConfDirect");
    IoDeleteSymbolicLink(&link);
    IoDeleteDevice(ConfDirect);
    IoDeleteDevice(ConfQueued);
    IoDeleteDevice(ConfLower);
    IoDeleteDevice(ConfDevice);
}

NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING name, link;
    NTSTATUS status;
    EntrySeen.Irql = KeGetCurrentIrql();
    EntrySeen.SystemThread = PsIsSystemThread(PsGetCurrentThread());
    EntrySeen.PreviousMode = ExGetPreviousMode();
    EntrySeen.Driver = DriverObject;
    ConfRegistryPath.Buffer = ConfRegistryPathBuffer;
    ConfRegistryPath.Length = 0;
    ConfRegistryPath.MaximumLength = sizeof(ConfRegistryPathBuffer);
    RtlCopyUnicodeString(&ConfRegistryPath, RegistryPath);
    KeInitializeSpinLock(&ConfLogLock);
    RtlZeroMemory(&ConfLog, sizeof(ConfLog));
    RtlZeroMemory(&LowerSeen, sizeof(LowerSeen));
    KeInitializeTimer(&LowerSeen.Timer);
    KeInitializeDpc(&LowerSeen.Dpc, LowerComplete, NULL);
    RtlInitUnicodeString(&name, L"\\Device\\NtConf");
    RtlInitUnicodeString(&link, L"\\DosDevices\\NtConf");
    status = IoCreateDevice(DriverObject, 0, &name, CONF_DEVICE_TYPE, 0, FALSE, &ConfDevice);
    if (!NT_SUCCESS(status))
        return status;
    ConfDevice->Flags |= DO_BUFFERED_IO;
    status = IoCreateDevice(DriverObject, 0, NULL, FILE_DEVICE_UNKNOWN, 0, FALSE, &ConfLower);
    if (NT_SUCCESS(status)) {
        status = IoCreateDevice(DriverObject, 0, NULL, FILE_DEVICE_UNKNOWN, 0, FALSE, &ConfQueued);
        if (!NT_SUCCESS(status))
            IoDeleteDevice(ConfLower);
    }
    if (NT_SUCCESS(status)) {
        status = IoCreateSymbolicLink(&link, &name);
        if (!NT_SUCCESS(status)) {
            IoDeleteDevice(ConfQueued);
            IoDeleteDevice(ConfLower);
        }
    }
    if (!NT_SUCCESS(status)) {
        IoDeleteDevice(ConfDevice);
        return status;
    }
    UNICODE_STRING dname, dlink;
    RtlInitUnicodeString(&dname, L"\\Device\\NtConfDirect");
    RtlInitUnicodeString(&dlink, L"\\DosDevices\\NtConfDirect");
    status = IoCreateDevice(DriverObject, 0, &dname, CONF_DEVICE_TYPE, 0, FALSE, &ConfDirect);
    if (NT_SUCCESS(status)) {
        ConfDirect->Flags |= DO_DIRECT_IO;
        status = IoCreateSymbolicLink(&dlink, &dname);
        if (!NT_SUCCESS(status))
            IoDeleteDevice(ConfDirect);
    }
    if (!NT_SUCCESS(status)) {
        IoDeleteSymbolicLink(&link);
        IoDeleteDevice(ConfQueued);
        IoDeleteDevice(ConfLower);
        IoDeleteDevice(ConfDevice);
        return status;
    }
    for (int i = 0; i <= IRP_MJ_MAXIMUM_FUNCTION; i++)
        DriverObject->MajorFunction[i] = ConfDispatch;
    DriverObject->DriverStartIo = ConfStartIo;
    DriverObject->DriverUnload = ConfUnload;
    return STATUS_SUCCESS;
}
