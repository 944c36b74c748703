/*
 * test_ke_sync.c — IRQL rules, spin locks, dispatcher objects (events, semaphores,
 * mutexes), wait-any / wait-all, fast mutexes, DPCs, system threads and waiting on a
 * thread object.
 */
#include "ke_rig.h"

/* ---- IRQL and spin locks -------------------------------------------------------------- */

static void test_irql_raise_lower(void **state)
{
    (void)state;
    assert_int_equal(KeGetCurrentIrql(), PASSIVE_LEVEL);
    KIRQL old;
    KeRaiseIrql(APC_LEVEL, &old);
    assert_int_equal(old, PASSIVE_LEVEL);
    assert_int_equal(KeGetCurrentIrql(), APC_LEVEL);
    KIRQL old2;
    KeRaiseIrql(DISPATCH_LEVEL, &old2);
    assert_int_equal(old2, APC_LEVEL);
    KeLowerIrql(old2);
    assert_int_equal(KeGetCurrentIrql(), APC_LEVEL);
    KeLowerIrql(old);
    assert_int_equal(KeGetCurrentIrql(), PASSIVE_LEVEL);
    assert_int_equal(KeRaiseIrqlToDpcLevel(), PASSIVE_LEVEL);
    assert_int_equal(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeLowerIrql(PASSIVE_LEVEL);
}

static void test_spin_lock_raises_and_tracks_owner(void **state)
{
    (void)state;
    KSPIN_LOCK lock;
    KIRQL old;
    KeInitializeSpinLock(&lock);
    assert_true(KeTestSpinLock(&lock));
    KeAcquireSpinLock(&lock, &old);
    assert_int_equal(old, PASSIVE_LEVEL);
    assert_int_equal(KeGetCurrentIrql(), DISPATCH_LEVEL);
    assert_false(KeTestSpinLock(&lock));
    assert_ptr_equal((PVOID)lock, KeGetCurrentThread());
    KeReleaseSpinLock(&lock, old);
    assert_int_equal(KeGetCurrentIrql(), PASSIVE_LEVEL);
    assert_true(KeTestSpinLock(&lock));

    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KeAcquireSpinLockAtDpcLevel(&lock);
    assert_false(KeTryToAcquireSpinLockAtDpcLevel(&lock));
    KeReleaseSpinLockFromDpcLevel(&lock);
    assert_int_equal(KeGetCurrentIrql(), DISPATCH_LEVEL);
    KeLowerIrql(old);
}

/* ---- Events ---------------------------------------------------------------------------- */

typedef struct {
    PKEVENT event;
    LONG *woken;
    NTSTATUS status;
} waiter_ctx;

static VOID NTAPI event_waiter(PVOID ctx)
{
    waiter_ctx *w = ctx;
    w->status = KeWaitForSingleObject(w->event, Executive, KernelMode, FALSE, NULL);
    (*w->woken)++;
}

static void test_notification_event_releases_all(void **state)
{
    (void)state;
    KEVENT ev;
    LONG woken = 0;
    KeInitializeEvent(&ev, NotificationEvent, FALSE);
    waiter_ctx w[3];
    PKTHREAD t[3];
    for (int i = 0; i < 3; i++) {
        w[i] = (waiter_ctx){ &ev, &woken, -1 };
        t[i] = rig_thread(event_waiter, &w[i]);
    }
    LARGE_INTEGER ms = rig_rel_ms(1);
    KeDelayExecutionThread(KernelMode, FALSE, &ms); /* let them block */
    assert_int_equal(woken, 0);
    assert_int_equal(t[0]->State, KiThreadWaiting);
    assert_int_equal(KeSetEvent(&ev, IO_NO_INCREMENT, FALSE), 0);
    for (int i = 0; i < 3; i++)
        rig_join(t[i]);
    assert_int_equal(woken, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(w[i].status, STATUS_WAIT_0);
    assert_int_equal(KeReadStateEvent(&ev), 1); /* stays signalled */
    assert_int_equal(KeSetEvent(&ev, IO_NO_INCREMENT, FALSE), 1);
    assert_int_equal(KeResetEvent(&ev), 1);
    assert_int_equal(KeReadStateEvent(&ev), 0);
}

static void test_synchronization_event_releases_one(void **state)
{
    (void)state;
    KEVENT ev;
    LONG woken = 0;
    KeInitializeEvent(&ev, SynchronizationEvent, FALSE);
    waiter_ctx w[2] = { { &ev, &woken, -1 }, { &ev, &woken, -1 } };
    PKTHREAD t0 = rig_thread(event_waiter, &w[0]);
    PKTHREAD t1 = rig_thread(event_waiter, &w[1]);
    LARGE_INTEGER ms = rig_rel_ms(1);
    KeDelayExecutionThread(KernelMode, FALSE, &ms);
    KeSetEvent(&ev, IO_NO_INCREMENT, FALSE);
    KeDelayExecutionThread(KernelMode, FALSE, &ms);
    assert_int_equal(woken, 1);
    assert_int_equal(KeReadStateEvent(&ev), 0); /* auto-reset by the satisfied wait */
    /* FIFO: the first waiter got it. */
    assert_int_equal(t0->State, KiThreadTerminated);
    assert_int_equal(t1->State, KiThreadWaiting);
    KeSetEvent(&ev, IO_NO_INCREMENT, FALSE);
    rig_join(t0);
    rig_join(t1);
    assert_int_equal(woken, 2);
    /* Set with nobody waiting: stays set until one wait consumes it. */
    KeSetEvent(&ev, IO_NO_INCREMENT, FALSE);
    LARGE_INTEGER zero = { .QuadPart = 0 };
    assert_int_equal(KeWaitForSingleObject(&ev, Executive, KernelMode, FALSE, &zero), STATUS_WAIT_0);
    assert_int_equal(KeWaitForSingleObject(&ev, Executive, KernelMode, FALSE, &zero), STATUS_TIMEOUT);
}

static void test_pulse_event(void **state)
{
    (void)state;
    KEVENT ev;
    LONG woken = 0;
    KeInitializeEvent(&ev, NotificationEvent, FALSE);
    waiter_ctx w = { &ev, &woken, -1 };
    PKTHREAD t = rig_thread(event_waiter, &w);
    LARGE_INTEGER ms = rig_rel_ms(1);
    KeDelayExecutionThread(KernelMode, FALSE, &ms);
    assert_int_equal(KePulseEvent(&ev, 0, FALSE), 0);
    assert_int_equal(KeReadStateEvent(&ev), 0);
    rig_join(t);
    assert_int_equal(woken, 1);
}

/* ---- Semaphores ------------------------------------------------------------------------- */

static void test_semaphore_counts(void **state)
{
    (void)state;
    KSEMAPHORE s;
    LARGE_INTEGER zero = { .QuadPart = 0 };
    KeInitializeSemaphore(&s, 2, 3);
    assert_int_equal(KeWaitForSingleObject(&s, Executive, KernelMode, FALSE, &zero), STATUS_WAIT_0);
    assert_int_equal(KeWaitForSingleObject(&s, Executive, KernelMode, FALSE, &zero), STATUS_WAIT_0);
    assert_int_equal(KeWaitForSingleObject(&s, Executive, KernelMode, FALSE, &zero), STATUS_TIMEOUT);
    assert_int_equal(KeReadStateSemaphore(&s), 0);
    assert_int_equal(KeReleaseSemaphore(&s, 0, 3, FALSE), 0);
    assert_int_equal(KeReadStateSemaphore(&s), 3);
}

static void semaphore_over_limit(void)
{
    KSEMAPHORE s;
    KeInitializeSemaphore(&s, 2, 3);
    KeReleaseSemaphore(&s, 0, 2, FALSE);
}

static void test_semaphore_limit_bugchecks(void **state)
{
    (void)state;
    rig_expect_bugcheck(semaphore_over_limit, KMODE_EXCEPTION_NOT_HANDLED, (ULONG)STATUS_SEMAPHORE_LIMIT_EXCEEDED,
                        "past the limit 3");
}

/* ---- Mutexes ------------------------------------------------------------------------------- */

typedef struct {
    PKMUTEX m;
    NTSTATUS status;
    BOOLEAN release;
} mutex_ctx;

static VOID NTAPI mutex_taker(PVOID ctx)
{
    mutex_ctx *c = ctx;
    c->status = KeWaitForSingleObject(c->m, Executive, KernelMode, FALSE, NULL);
    if (c->release)
        KeReleaseMutex(c->m, FALSE);
}

static void test_mutex_recursion_and_ownership(void **state)
{
    (void)state;
    KMUTEX m;
    KeInitializeMutex(&m, 0);
    assert_int_equal(KeReadStateMutex(&m), 1);
    assert_int_equal(KeWaitForSingleObject(&m, Executive, KernelMode, FALSE, NULL), STATUS_WAIT_0);
    assert_int_equal(KeWaitForSingleObject(&m, Executive, KernelMode, FALSE, NULL), STATUS_WAIT_0);
    assert_ptr_equal(m.OwnerThread, KeGetCurrentThread());
    mutex_ctx c = { &m, -1, TRUE };
    PKTHREAD t = rig_thread(mutex_taker, &c);
    LARGE_INTEGER ms = rig_rel_ms(1);
    KeDelayExecutionThread(KernelMode, FALSE, &ms);
    assert_int_equal(t->State, KiThreadWaiting);
    KeReleaseMutex(&m, FALSE); /* still held once */
    KeDelayExecutionThread(KernelMode, FALSE, &ms);
    assert_int_equal(t->State, KiThreadWaiting);
    KeReleaseMutex(&m, FALSE);
    rig_join(t);
    assert_int_equal(c.status, STATUS_WAIT_0);
    assert_int_equal(KeReadStateMutex(&m), 1);
    assert_null(m.OwnerThread);
}

static void test_mutex_abandoned(void **state)
{
    (void)state;
    KMUTEX m;
    KeInitializeMutex(&m, 0);
    mutex_ctx c = { &m, -1, FALSE }; /* takes it and exits owning it */
    VfSetEnabled(FALSE);             /* the verifier would bug check the exit */
    rig_join(rig_thread(mutex_taker, &c));
    VfSetEnabled(TRUE);
    assert_int_equal(c.status, STATUS_WAIT_0);
    assert_int_equal(KeWaitForSingleObject(&m, Executive, KernelMode, FALSE, NULL), STATUS_ABANDONED);
    KeReleaseMutex(&m, FALSE);
}

static void mutex_release_not_owner(void)
{
    KMUTEX m;
    KeInitializeMutex(&m, 0);
    KeReleaseMutex(&m, FALSE);
}

static void test_mutex_release_by_non_owner_bugchecks(void **state)
{
    (void)state;
    rig_expect_bugcheck(mutex_release_not_owner, KMODE_EXCEPTION_NOT_HANDLED, (ULONG)STATUS_MUTANT_NOT_OWNED, NULL);
}

/* ---- Wait any / all ------------------------------------------------------------------------- */

typedef struct {
    PVOID objects[3];
    WAIT_TYPE type;
    NTSTATUS status;
} multi_ctx;

static VOID NTAPI multi_waiter(PVOID ctx)
{
    multi_ctx *c = ctx;
    c->status = KeWaitForMultipleObjects(3, c->objects, c->type, Executive, KernelMode, FALSE, NULL, NULL);
}

static void test_wait_any_returns_index(void **state)
{
    (void)state;
    KEVENT e[3];
    for (int i = 0; i < 3; i++)
        KeInitializeEvent(&e[i], SynchronizationEvent, FALSE);
    multi_ctx c = { { &e[0], &e[1], &e[2] }, WaitAny, -1 };
    PKTHREAD t = rig_thread(multi_waiter, &c);
    LARGE_INTEGER ms = rig_rel_ms(1);
    KeDelayExecutionThread(KernelMode, FALSE, &ms);
    KeSetEvent(&e[2], 0, FALSE);
    rig_join(t);
    assert_int_equal(c.status, STATUS_WAIT_0 + 2);
    assert_int_equal(KeReadStateEvent(&e[2]), 0);
    /* Already signalled: the lowest index wins. */
    KeSetEvent(&e[1], 0, FALSE);
    KeSetEvent(&e[2], 0, FALSE);
    PVOID objs[3] = { &e[0], &e[1], &e[2] };
    assert_int_equal(KeWaitForMultipleObjects(3, objs, WaitAny, Executive, KernelMode, FALSE, NULL, NULL),
                     STATUS_WAIT_1);
    assert_int_equal(KeReadStateEvent(&e[2]), 1);
}

static void test_wait_all_needs_every_object(void **state)
{
    (void)state;
    KEVENT e[2];
    KSEMAPHORE s;
    KeInitializeEvent(&e[0], NotificationEvent, FALSE);
    KeInitializeEvent(&e[1], SynchronizationEvent, FALSE);
    KeInitializeSemaphore(&s, 1, 1);
    multi_ctx c = { { &e[0], &e[1], &s }, WaitAll, -1 };
    PKTHREAD t = rig_thread(multi_waiter, &c);
    LARGE_INTEGER ms = rig_rel_ms(1);
    KeDelayExecutionThread(KernelMode, FALSE, &ms);
    KeSetEvent(&e[0], 0, FALSE);
    KeDelayExecutionThread(KernelMode, FALSE, &ms);
    assert_int_equal(t->State, KiThreadWaiting);
    /* Partial satisfaction must not consume anything. */
    assert_int_equal(KeReadStateSemaphore(&s), 1);
    KeSetEvent(&e[1], 0, FALSE);
    rig_join(t);
    assert_int_equal(c.status, STATUS_WAIT_0);
    assert_int_equal(KeReadStateEvent(&e[0]), 1);
    assert_int_equal(KeReadStateEvent(&e[1]), 0);
    assert_int_equal(KeReadStateSemaphore(&s), 0);
    /* One object twice in a wait-all is refused. */
    PVOID twice[2] = { &e[0], &e[0] };
    assert_int_equal(KiWaitForObjects(2, twice, WaitAll, UserRequest, UserMode, NULL, NULL, "test"),
                     STATUS_INVALID_PARAMETER_MIX);
}

/* ---- Fast mutexes --------------------------------------------------------------------------- */

typedef struct {
    PFAST_MUTEX fm;
    LONG *inside;
    LONG max_inside;
    KIRQL irql_inside; /* checked by the main thread: cmocka asserts belong there */
} fm_ctx;

static VOID NTAPI fm_worker(PVOID ctx)
{
    fm_ctx *c = ctx;
    for (int i = 0; i < 20; i++) {
        ExAcquireFastMutex(c->fm);
        c->irql_inside = KeGetCurrentIrql();
        (*c->inside)++;
        if (*c->inside > c->max_inside)
            c->max_inside = *c->inside;
        LARGE_INTEGER t = { .QuadPart = -10 };
        KeDelayExecutionThread(KernelMode, FALSE, &t); /* give the others a chance */
        (*c->inside)--;
        ExReleaseFastMutex(c->fm);
    }
}

static void test_fast_mutex_excludes(void **state)
{
    (void)state;
    FAST_MUTEX fm;
    LONG inside = 0;
    ExInitializeFastMutex(&fm);
    fm_ctx c[3];
    PKTHREAD t[3];
    for (int i = 0; i < 3; i++) {
        c[i] = (fm_ctx){ &fm, &inside, 0, PASSIVE_LEVEL };
        t[i] = rig_thread(fm_worker, &c[i]);
    }
    for (int i = 0; i < 3; i++)
        rig_join(t[i]);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(c[i].max_inside, 1);
        assert_int_equal(c[i].irql_inside, APC_LEVEL);
    }
    assert_true(fm.Contention > 0);
    assert_int_equal(fm.Count, 1);
    assert_true(ExTryToAcquireFastMutex(&fm));
    assert_int_equal(KeGetCurrentIrql(), APC_LEVEL);
    assert_false(ExTryToAcquireFastMutex(&fm)); /* held: never waits, just fails */
    ExReleaseFastMutex(&fm);
    assert_int_equal(KeGetCurrentIrql(), PASSIVE_LEVEL);
}

/* ---- DPCs ------------------------------------------------------------------------------------- */

static LONG dpc_runs;
static KIRQL dpc_irql;

static VOID NTAPI count_dpc(PKDPC Dpc, PVOID Ctx, PVOID A1, PVOID A2)
{
    (void)Dpc;
    (void)A2;
    dpc_runs += (LONG)(ULONG_PTR)Ctx;
    dpc_irql = KeGetCurrentIrql();
    assert_ptr_equal(A1, (PVOID)0x1234);
}

static void test_dpc_runs_when_irql_drops(void **state)
{
    (void)state;
    KDPC dpc;
    KIRQL old;
    dpc_runs = 0;
    KeInitializeDpc(&dpc, count_dpc, (PVOID)1);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    assert_true(KeInsertQueueDpc(&dpc, (PVOID)0x1234, NULL));
    assert_false(KeInsertQueueDpc(&dpc, (PVOID)0x1234, NULL)); /* already queued */
    assert_int_equal(dpc_runs, 0);
    KeLowerIrql(old);
    assert_int_equal(dpc_runs, 1);
    assert_int_equal(dpc_irql, DISPATCH_LEVEL);
    /* At PASSIVE_LEVEL it runs before KeInsertQueueDpc returns. */
    assert_true(KeInsertQueueDpc(&dpc, (PVOID)0x1234, NULL));
    assert_int_equal(dpc_runs, 2);
    /* A removed DPC does not run. */
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KeInsertQueueDpc(&dpc, (PVOID)0x1234, NULL);
    assert_true(KeRemoveQueueDpc(&dpc));
    assert_false(KeRemoveQueueDpc(&dpc));
    KeLowerIrql(old);
    assert_int_equal(dpc_runs, 2);
}

/* ---- System threads ---------------------------------------------------------------------------- */

static VOID NTAPI sys_thread(PVOID ctx)
{
    LARGE_INTEGER d = rig_rel_ms(5);
    KeDelayExecutionThread(KernelMode, FALSE, &d);
    *(LONG *)ctx = 42;
    PsTerminateSystemThread(STATUS_UNSUCCESSFUL);
    *(LONG *)ctx = -1; /* never reached */
}

static void test_system_thread_and_thread_object(void **state)
{
    (void)state;
    LONG value = 0;
    HANDLE h;
    OBJECT_ATTRIBUTES oa;
    CLIENT_ID cid;
    InitializeObjectAttributes(&oa, NULL, OBJ_KERNEL_HANDLE, NULL, NULL);
    assert_int_equal(PsCreateSystemThread(&h, THREAD_ALL_ACCESS, &oa, NULL, &cid, sys_thread, &value),
                     STATUS_SUCCESS);
    assert_true(((ULONG_PTR)h & 0x80000000u) != 0); /* a kernel handle */
    assert_ptr_equal(cid.UniqueProcess, PsGetCurrentProcessId());
    PKTHREAD t;
    assert_int_equal(ObReferenceObjectByHandle(h, SYNCHRONIZE, *PsThreadType, KernelMode, (PVOID *)&t, NULL),
                     STATUS_SUCCESS);
    assert_ptr_equal(PsGetThreadId(t), cid.UniqueThread);
    assert_true(PsIsSystemThread(t));
    PVOID wrong;
    assert_int_equal(ObReferenceObjectByHandle(h, 0, *ExEventObjectType, KernelMode, &wrong, NULL),
                     STATUS_OBJECT_TYPE_MISMATCH);
    /* A kernel handle is invisible to user mode. */
    assert_int_equal(ObReferenceObjectByHandle(h, 0, NULL, UserMode, &wrong, NULL), STATUS_INVALID_HANDLE);
    assert_int_equal(ZwClose(h), STATUS_SUCCESS);
    assert_int_equal(ZwClose(h), STATUS_INVALID_HANDLE);
    sim_time_t before = sim_now(rig_clock);
    assert_int_equal(KeWaitForSingleObject(t, Executive, KernelMode, FALSE, NULL), STATUS_WAIT_0);
    assert_true(sim_now(rig_clock) - before >= SIM_MS(5));
    assert_int_equal(value, 42);
    assert_int_equal(t->ExitStatus, STATUS_UNSUCCESSFUL);
    ObDereferenceObject(t);
    /* Only system threads may call PsTerminateSystemThread. */
    assert_int_equal(PsTerminateSystemThread(STATUS_SUCCESS), STATUS_INVALID_PARAMETER);
}

static void test_handle_access_check_for_user_mode(void **state)
{
    (void)state;
    PKEVENT ev;
    HANDLE h;
    assert_int_equal(ExpCreateEventObject(NotificationEvent, FALSE, &ev), STATUS_SUCCESS);
    assert_int_equal(ObpCreateHandle(ev, SYNCHRONIZE, 0, &h), STATUS_SUCCESS);
    ObDereferenceObject(ev);
    PVOID obj;
    OBJECT_HANDLE_INFORMATION info;
    assert_int_equal(ObReferenceObjectByHandle(h, EVENT_MODIFY_STATE, *ExEventObjectType, UserMode, &obj, NULL),
                     STATUS_ACCESS_DENIED);
    /* Kernel mode skips the access check, as on NT. */
    assert_int_equal(ObReferenceObjectByHandle(h, EVENT_MODIFY_STATE, *ExEventObjectType, KernelMode, &obj, &info),
                     STATUS_SUCCESS);
    assert_int_equal(info.GrantedAccess, SYNCHRONIZE);
    assert_int_equal(ObpHandleCount(obj), 1);
    ObDereferenceObject(obj);
    assert_int_equal(ZwClose(h), STATUS_SUCCESS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_irql_raise_lower, rig_boot, rig_halt),
        cmocka_unit_test_setup_teardown(test_spin_lock_raises_and_tracks_owner, rig_boot, rig_halt),
        cmocka_unit_test_setup_teardown(test_notification_event_releases_all, rig_boot, rig_halt),
        cmocka_unit_test_setup_teardown(test_synchronization_event_releases_one, rig_boot, rig_halt),
        cmocka_unit_test_setup_teardown(test_pulse_event, rig_boot, rig_halt),
        cmocka_unit_test_setup_teardown(test_semaphore_counts, rig_boot, rig_halt),
        cmocka_unit_test(test_semaphore_limit_bugchecks),
        cmocka_unit_test_setup_teardown(test_mutex_recursion_and_ownership, rig_boot, rig_halt),
        cmocka_unit_test_setup_teardown(test_mutex_abandoned, rig_boot, rig_halt),
        cmocka_unit_test(test_mutex_release_by_non_owner_bugchecks),
        cmocka_unit_test_setup_teardown(test_wait_any_returns_index, rig_boot, rig_halt),
        cmocka_unit_test_setup_teardown(test_wait_all_needs_every_object, rig_boot, rig_halt),
        cmocka_unit_test_setup_teardown(test_fast_mutex_excludes, rig_boot, rig_halt),
        cmocka_unit_test_setup_teardown(test_dpc_runs_when_irql_drops, rig_boot, rig_halt),
        cmocka_unit_test_setup_teardown(test_system_thread_and_thread_object, rig_boot, rig_halt),
        cmocka_unit_test_setup_teardown(test_handle_access_check_for_user_mode, rig_boot, rig_halt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
