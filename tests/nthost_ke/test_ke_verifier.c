/*
 * test_ke_verifier.c — every bug check the kernel core owns, provoked in a forked
 * child: the report's code, first parameter, driver and routine; the deadlock report;
 * the 50 us warning.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ke_rig.h"

/* ---- IRQL ----------------------------------------------------------------------------------- */

static void wait_with_timeout_at_dispatch(void)
{
    KEVENT ev;
    KIRQL old;
    KeInitializeEvent(&ev, NotificationEvent, FALSE);
    LARGE_INTEGER t = rig_rel_ms(10);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KeWaitForSingleObject(&ev, Executive, KernelMode, FALSE, &t);
}

static void test_wait_with_timeout_at_dispatch(void **state)
{
    (void)state;
    rig_expect_bugcheck(wait_with_timeout_at_dispatch, DRIVER_VERIFIER_DETECTED_VIOLATION,
                        VF_WAIT_AT_DISPATCH_NONZERO_TIMEOUT, "DRIVER_VERIFIER_DETECTED_VIOLATION");
}

static void wait_forever_at_dispatch(void)
{
    KEVENT ev;
    KIRQL old;
    KeInitializeEvent(&ev, NotificationEvent, FALSE);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KeWaitForSingleObject(&ev, Executive, KernelMode, FALSE, NULL);
}

static void test_wait_without_timeout_at_dispatch(void **state)
{
    (void)state;
    rig_expect_bugcheck(wait_forever_at_dispatch, DRIVER_VERIFIER_DETECTED_VIOLATION,
                        VF_WAIT_AT_DISPATCH_NULL_TIMEOUT, NULL);
}

static void poll_at_dispatch_is_fine(void)
{
    KEVENT ev;
    KIRQL old;
    KeInitializeEvent(&ev, NotificationEvent, TRUE);
    LARGE_INTEGER zero = { .QuadPart = 0 };
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    if (KeWaitForSingleObject(&ev, Executive, KernelMode, FALSE, &zero) != STATUS_WAIT_0)
        _exit(3);
    KeLowerIrql(old);
}

static void test_zero_timeout_wait_at_dispatch_is_legal(void **state)
{
    (void)state;
    char *out;
    assert_int_equal(rig_run_child(poll_at_dispatch_is_fine, &out), 0);
    free(out);
}

static void pageable_routine(void)
{
    PAGED_CODE();
}

static void paged_code_at_dispatch(void)
{
    KIRQL old;
    pageable_routine(); /* fine at PASSIVE_LEVEL */
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    pageable_routine();
}

static void test_paged_code_at_dispatch(void **state)
{
    (void)state;
#if !DBG
    skip(); /* PAGED_CODE() is compiled out of free builds, as on NT */
#endif
    rig_expect_bugcheck(paged_code_at_dispatch, DRIVER_IRQL_NOT_LESS_OR_EQUAL, ~(ULONG_PTR)0,
                        "Routine: pageable_routine");
}

static void raise_to_lower_irql(void)
{
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KeRaiseIrql(APC_LEVEL, &old);
}

static void test_raise_irql_to_lower_level(void **state)
{
    (void)state;
    rig_expect_bugcheck(raise_to_lower_irql, DRIVER_VERIFIER_DETECTED_VIOLATION, VF_RAISE_IRQL_INVALID, NULL);
}

static void lower_irql_to_higher(void)
{
    KeLowerIrql(DISPATCH_LEVEL);
}

static void test_lower_irql_to_higher_level(void **state)
{
    (void)state;
    rig_expect_bugcheck(lower_irql_to_higher, DRIVER_VERIFIER_DETECTED_VIOLATION, VF_LOWER_IRQL_INVALID, NULL);
}

/* ---- Spin locks and fast mutexes ------------------------------------------------------------- */

static void release_unheld_spin_lock(void)
{
    KSPIN_LOCK lock;
    KIRQL old;
    KeInitializeSpinLock(&lock);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KeReleaseSpinLock(&lock, old);
}

static void test_release_spin_lock_not_held(void **state)
{
    (void)state;
    rig_expect_bugcheck(release_unheld_spin_lock, SPIN_LOCK_NOT_OWNED, ~(ULONG_PTR)0, "it was not held");
}

static void release_spin_lock_twice(void)
{
    KSPIN_LOCK lock;
    KIRQL old;
    KeInitializeSpinLock(&lock);
    KeAcquireSpinLock(&lock, &old);
    KeReleaseSpinLock(&lock, old);
    KeReleaseSpinLock(&lock, old);
}

static void test_release_spin_lock_twice(void **state)
{
    (void)state;
    rig_expect_bugcheck(release_spin_lock_twice, DRIVER_VERIFIER_DETECTED_VIOLATION, VF_RELEASE_SPINLOCK_WRONG_IRQL,
                        NULL);
}

static void acquire_spin_lock_recursively(void)
{
    KSPIN_LOCK lock;
    KIRQL old, old2;
    KeInitializeSpinLock(&lock);
    KeAcquireSpinLock(&lock, &old);
    KeAcquireSpinLock(&lock, &old2);
}

static void test_spin_lock_recursion(void **state)
{
    (void)state;
    rig_expect_bugcheck(acquire_spin_lock_recursively, SPIN_LOCK_ALREADY_OWNED, ~(ULONG_PTR)0, NULL);
}

static void at_dpc_level_from_passive(void)
{
    KSPIN_LOCK lock;
    KeInitializeSpinLock(&lock);
    KeAcquireSpinLockAtDpcLevel(&lock);
}

static void test_acquire_at_dpc_level_below_dispatch(void **state)
{
    (void)state;
    rig_expect_bugcheck(at_dpc_level_from_passive, DRIVER_VERIFIER_DETECTED_VIOLATION,
                        VF_ACQUIRE_SPINLOCK_AT_DPC_BELOW_DISPATCH, NULL);
}

static void fast_mutex_at_dispatch(void)
{
    FAST_MUTEX fm;
    KIRQL old;
    ExInitializeFastMutex(&fm);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    ExAcquireFastMutex(&fm);
}

static void test_fast_mutex_above_apc(void **state)
{
    (void)state;
    rig_expect_bugcheck(fast_mutex_at_dispatch, DRIVER_VERIFIER_DETECTED_VIOLATION, VF_ACQUIRE_FAST_MUTEX_ABOVE_APC,
                        NULL);
}

/* ---- Pool -------------------------------------------------------------------------------------- */

static void pool_double_free(void)
{
    PVOID p = ExAllocatePoolWithTag(NonPagedPool, 32, 'tseT');
    ExFreePoolWithTag(p, 'tseT');
    ExFreePoolWithTag(p, 'tseT');
}

static void test_pool_double_free(void **state)
{
    (void)state;
    rig_expect_bugcheck(pool_double_free, BAD_POOL_CALLER, BAD_POOL_CALLER_DOUBLE_FREE, "freed twice");
}

static void pool_wrong_tag(void)
{
    PVOID p = ExAllocatePoolWithTag(PagedPool, 32, 'tseT');
    ExFreePoolWithTag(p, 'gnoD');
}

static void test_pool_wrong_tag(void **state)
{
    (void)state;
    rig_expect_bugcheck(pool_wrong_tag, BAD_POOL_CALLER, BAD_POOL_CALLER_WRONG_TAG, "freed with tag 'Dong'");
}

static void pool_overrun(void)
{
    PUCHAR p = ExAllocatePoolWithTag(NonPagedPool, 10, 'tseT');
    p[10] = 0; /* one past the end */
    ExFreePoolWithTag(p, 'tseT');
}

static void test_pool_overrun_caught_at_free(void **state)
{
    (void)state;
    rig_expect_bugcheck(pool_overrun, DRIVER_VERIFIER_DETECTED_VIOLATION, VF_POOL_OVERRUN,
                        "written past its end, at offset 10");
}

static void paged_pool_at_dispatch(void)
{
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    ExAllocatePoolWithTag(PagedPool, 8, 'tseT');
}

static void test_paged_pool_at_dispatch(void **state)
{
    (void)state;
    rig_expect_bugcheck(paged_pool_at_dispatch, DRIVER_VERIFIER_DETECTED_VIOLATION, VF_PAGED_ALLOC_ABOVE_APC, NULL);
}

static void free_pool_holding_timer(void)
{
    PKTIMER t = ExAllocatePoolWithTag(NonPagedPool, sizeof(KTIMER), 'rmiT');
    KeInitializeTimer(t);
    KeSetTimer(t, rig_rel_ms(100), NULL);
    ExFreePoolWithTag(t, 'rmiT');
}

static void test_free_pool_holding_set_timer(void **state)
{
    (void)state;
    rig_expect_bugcheck(free_pool_holding_timer, DRIVER_VERIFIER_DETECTED_VIOLATION, VF_FREE_POOL_WITH_ACTIVE_TIMER,
                        NULL);
}

/* ---- Unload checks ------------------------------------------------------------------------------ */

static void unload_with_pool(void)
{
    SIZE_T size;
    PVOID base = rig_register_fake_driver(&size);
    ExAllocatePoolWithTag(NonPagedPool, 100, 'kaeL');
    VfCheckImageUnload("fakedrv", base, size);
}

static void test_unload_with_pool(void **state)
{
    (void)state;
    rig_expect_bugcheck(unload_with_pool, DRIVER_VERIFIER_DETECTED_VIOLATION, VF_UNLOAD_WITH_POOL,
                        "*** Driver: fakedrv  Routine: unload_with_pool");
}

static VOID NTAPI nop_dpc(PKDPC Dpc, PVOID Ctx, PVOID A1, PVOID A2)
{
    (void)Dpc;
    (void)Ctx;
    (void)A1;
    (void)A2;
}

static KTIMER unload_timer;
static KDPC unload_dpc;

static void unload_with_timer(void)
{
    SIZE_T size;
    PVOID base = rig_register_fake_driver(&size);
    KeInitializeTimer(&unload_timer);
    KeInitializeDpc(&unload_dpc, nop_dpc, NULL);
    KeSetTimer(&unload_timer, rig_rel_ms(1000), &unload_dpc);
    VfCheckImageUnload("fakedrv", base, size);
}

static void test_unload_with_timer_set(void **state)
{
    (void)state;
    rig_expect_bugcheck(unload_with_timer, TIMER_OR_DPC_INVALID, 0, "Routine: nop_dpc");
}

static VOID NTAPI forever_thread(PVOID ctx)
{
    KeWaitForSingleObject(ctx, Executive, KernelMode, FALSE, NULL);
}

static void unload_with_thread(void)
{
    SIZE_T size;
    static KEVENT never;
    PVOID base = rig_register_fake_driver(&size);
    KeInitializeEvent(&never, NotificationEvent, FALSE);
    HANDLE h;
    PsCreateSystemThread(&h, THREAD_ALL_ACCESS, NULL, NULL, NULL, forever_thread, &never);
    VfCheckImageUnload("fakedrv", base, size);
}

static void test_unload_with_thread_running(void **state)
{
    (void)state;
    rig_expect_bugcheck(unload_with_thread, DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS, ~(ULONG_PTR)0,
                        "still runs");
}

static BOOLEAN NTAPI nop_isr(PKINTERRUPT i, PVOID c)
{
    (void)i;
    (void)c;
    return FALSE;
}

static void unload_with_interrupt(void)
{
    SIZE_T size;
    PVOID base = rig_register_fake_driver(&size);
    KIRQL irql;
    KAFFINITY aff;
    ULONG v = HalGetInterruptVector(Isa, 0, 5, 5, &irql, &aff);
    PKINTERRUPT intr;
    IoConnectInterrupt(&intr, nop_isr, NULL, NULL, v, irql, irql, Latched, FALSE, aff, FALSE);
    VfCheckImageUnload("fakedrv", base, size);
}

static void test_unload_with_interrupt_connected(void **state)
{
    (void)state;
    rig_expect_bugcheck(unload_with_interrupt, DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS, ~(ULONG_PTR)0,
                        "interrupt still connected");
}

/* ---- Deadlock ------------------------------------------------------------------------------------ */

static KEVENT never_a, never_b;

static VOID NTAPI stuck_thread(PVOID ctx)
{
    (void)ctx;
    KeWaitForSingleObject(&never_b, Executive, KernelMode, FALSE, NULL);
}

static void deadlock(void)
{
    KeInitializeEvent(&never_a, NotificationEvent, FALSE);
    KeInitializeEvent(&never_b, SynchronizationEvent, FALSE);
    HANDLE h;
    PsCreateSystemThread(&h, THREAD_ALL_ACCESS, NULL, NULL, NULL, stuck_thread, NULL);
    KeWaitForSingleObject(&never_a, Executive, KernelMode, FALSE, NULL);
}

static void test_deadlock_report(void **state)
{
    (void)state;
    char *out;
    int status = rig_run_child(deadlock, &out);
    static const char *const want[] = { "DEADLOCK",
                                        "\"test-main\": waiting, IRQL 0, in KeWaitForSingleObject called from deadlock+0x",
                                        "waits for NotificationEvent", "(never_a)", "\"stuck_thread\": waiting",
                                        "waits for SynchronizationEvent",
                                        "*** STOP: 0x000000C4 (0x0000000000001001," };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (strstr(out, want[i]) == NULL)
            fprintf(stderr, "missing \"%s\" in:\n%s\n", want[i], out);
    assert_int_equal(status, NTHOST_BUGCHECK_EXIT);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_non_null(strstr(out, want[i]));
    /* The STOP line comes first, then the thread list. */
    assert_true(strstr(out, "*** STOP") < strstr(out, "\"stuck_thread\""));
    free(out);
}

/* ---- Warnings ---------------------------------------------------------------------------------------- */

static void test_spin_lock_held_too_long_warns(void **state)
{
    (void)state;
    KSPIN_LOCK lock;
    KIRQL old;
    KeInitializeSpinLock(&lock);
    ULONG before = VfWarningCount();
    KeAcquireSpinLock(&lock, &old);
    KeStallExecutionProcessor(30);
    KeReleaseSpinLock(&lock, old);
    assert_int_equal(VfWarningCount(), before);
    KeAcquireSpinLock(&lock, &old);
    KeStallExecutionProcessor(80);
    KeReleaseSpinLock(&lock, old); /* one warning, naming the lock, not two */
    assert_int_equal(VfWarningCount(), before + 1);
    assert_int_equal(nthost_verifier_warnings(), before + 1);
    /* Raised IRQL without a lock counts the same. */
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KeStallExecutionProcessor(60);
    KeLowerIrql(old);
    assert_int_equal(VfWarningCount(), before + 2);
    /* Verifier off: no warnings. */
    VfSetEnabled(FALSE);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KeStallExecutionProcessor(60);
    KeLowerIrql(old);
    VfSetEnabled(TRUE);
    assert_int_equal(VfWarningCount(), before + 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wait_with_timeout_at_dispatch),
        cmocka_unit_test(test_wait_without_timeout_at_dispatch),
        cmocka_unit_test(test_zero_timeout_wait_at_dispatch_is_legal),
        cmocka_unit_test(test_paged_code_at_dispatch),
        cmocka_unit_test(test_raise_irql_to_lower_level),
        cmocka_unit_test(test_lower_irql_to_higher_level),
        cmocka_unit_test(test_release_spin_lock_not_held),
        cmocka_unit_test(test_release_spin_lock_twice),
        cmocka_unit_test(test_spin_lock_recursion),
        cmocka_unit_test(test_acquire_at_dpc_level_below_dispatch),
        cmocka_unit_test(test_fast_mutex_above_apc),
        cmocka_unit_test(test_pool_double_free),
        cmocka_unit_test(test_pool_wrong_tag),
        cmocka_unit_test(test_pool_overrun_caught_at_free),
        cmocka_unit_test(test_paged_pool_at_dispatch),
        cmocka_unit_test(test_free_pool_holding_set_timer),
        cmocka_unit_test(test_unload_with_pool),
        cmocka_unit_test(test_unload_with_timer_set),
        cmocka_unit_test(test_unload_with_thread_running),
        cmocka_unit_test(test_unload_with_interrupt_connected),
        cmocka_unit_test(test_deadlock_report),
        cmocka_unit_test_setup_teardown(test_spin_lock_held_too_long_warns, rig_boot, rig_halt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
