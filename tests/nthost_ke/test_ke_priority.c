/*
 * test_ke_priority.c — thread priorities in the scheduler: defaults, KeSetPriorityThread
 * and KeQueryPriorityThread, the highest-priority ready thread runs first (at once
 * when readied or raised, at the next preemption point), never a lower one while a
 * higher one is ready, round robin by quantum within a priority, and a zero-length
 * delay yields only to threads of the same priority or higher.
 */
#include <stdlib.h>
#include <string.h>

#include "ke_rig.h"

#define LOG_MAX 256

/* Who ran, in order: one letter per step. */
static char run_log[LOG_MAX];
static ULONG run_len;

static void log_step(char who)
{
    if (run_len < LOG_MAX - 1)
        run_log[run_len++] = who;
    run_log[run_len] = '\0';
}

static int reset_log(void **state)
{
    run_len = 0;
    run_log[0] = '\0';
    return rig_boot(state);
}

/* Thread body: logs its letter once. */
static VOID NTAPI log_once(PVOID ctx)
{
    log_step((char)(ULONG_PTR)ctx);
}

typedef struct {
    char who;
    ULONG steps;
    ULONG stall_us;
} busy_ctx;

/* Thread body: `steps` times, log its letter and keep the processor busy for
 * stall_us (each stall is a preemption point). */
static VOID NTAPI log_busy(PVOID ctx)
{
    busy_ctx *c = ctx;
    for (ULONG i = 0; i < c->steps; i++) {
        log_step(c->who);
        KeStallExecutionProcessor(c->stall_us);
    }
}

static void test_default_priorities(void **state)
{
    (void)state;
    /* The booting thread and PsCreateSystemThread's threads start at 8, as on NT. */
    assert_int_equal(KeQueryPriorityThread(KeGetCurrentThread()), 8);
    KeSetPriorityThread(KeGetCurrentThread(), 9); /* the new thread must not run yet */
    PKTHREAD t = rig_thread(log_once, (PVOID)(ULONG_PTR)'T');
    assert_int_equal(KeQueryPriorityThread(t), 8);
    KeSetPriorityThread(KeGetCurrentThread(), 8);
    rig_join(t);
    assert_string_equal(run_log, "T");
}

static void test_set_priority_returns_old(void **state)
{
    (void)state;
    PKTHREAD self = KeGetCurrentThread();
    assert_int_equal(KeSetPriorityThread(self, LOW_REALTIME_PRIORITY), 8);
    assert_int_equal(KeQueryPriorityThread(self), LOW_REALTIME_PRIORITY);
    assert_int_equal(KeSetPriorityThread(self, HIGH_PRIORITY), LOW_REALTIME_PRIORITY);
    assert_int_equal(KeSetPriorityThread(self, 8), HIGH_PRIORITY);
    assert_int_equal(KeQueryPriorityThread(self), 8);
}

static void test_raised_ready_thread_runs_first(void **state)
{
    (void)state;
    /* Two ready threads at the caller's priority: neither runs while the caller's
       quantum lasts. Raising the second makes it run before KeSetPriorityThread
       returns, ahead of the first, queued earlier. */
    PKTHREAD low = rig_thread(log_once, (PVOID)(ULONG_PTR)'L');
    PKTHREAD high = rig_thread(log_once, (PVOID)(ULONG_PTR)'H');
    assert_string_equal(run_log, "");
    assert_int_equal(KeSetPriorityThread(high, 20), 8);
    assert_string_equal(run_log, "H");
    rig_join(low);
    rig_join(high);
    assert_string_equal(run_log, "HL");
}

static VOID NTAPI wait_then_log(PVOID ctx)
{
    PKEVENT ev = ctx;
    KeSetPriorityThread(KeGetCurrentThread(), LOW_REALTIME_PRIORITY);
    KeWaitForSingleObject(ev, Executive, KernelMode, FALSE, NULL);
    log_step('W');
}

static void test_readied_higher_thread_preempts(void **state)
{
    (void)state;
    KEVENT ev;
    KeInitializeEvent(&ev, NotificationEvent, FALSE);
    PKTHREAD w = rig_thread(wait_then_log, &ev);
    /* Let it start, raise itself and block. */
    LARGE_INTEGER d = rig_rel_ms(1);
    KeDelayExecutionThread(KernelMode, FALSE, &d);
    assert_int_equal(KeQueryPriorityThread(w), LOW_REALTIME_PRIORITY);
    assert_string_equal(run_log, "");
    KeSetEvent(&ev, IO_NO_INCREMENT, FALSE);
    /* The waiter outranks the setter: it ran at KeSetEvent's preemption point. */
    assert_string_equal(run_log, "W");
    rig_join(w);
}

static void test_lower_thread_never_runs_while_higher_is_ready(void **state)
{
    (void)state;
    PKTHREAD self = KeGetCurrentThread();
    KeSetPriorityThread(self, 12);
    PKTHREAD low = rig_thread(log_once, (PVOID)(ULONG_PTR)'L');
    /* Many quanta of busy time, each stall a preemption point: the priority-8
       thread stays ready. A zero delay yields only to equal or higher priority. */
    for (int i = 0; i < 20; i++)
        KeStallExecutionProcessor((ULONG)(KI_DEFAULT_QUANTUM / 1000));
    LARGE_INTEGER zero = { .QuadPart = 0 };
    KeDelayExecutionThread(KernelMode, FALSE, &zero);
    assert_string_equal(run_log, "");
    /* Dropping below it hands the processor over at once. */
    assert_int_equal(KeSetPriorityThread(self, 7), 12);
    assert_string_equal(run_log, "L");
    KeSetPriorityThread(self, 8);
    rig_join(low);
}

static void test_round_robin_within_priority(void **state)
{
    (void)state;
    PKTHREAD self = KeGetCurrentThread();
    /* Each thread is busy for 10 quanta, a step a quarter quantum long. */
    ULONG step_us = (ULONG)(KI_DEFAULT_QUANTUM / 4000);
    busy_ctx a = { 'A', 40, step_us }, b = { 'B', 40, step_us };
    KeSetPriorityThread(self, 10);
    PKTHREAD ta = rig_thread(log_busy, &a);
    PKTHREAD tb = rig_thread(log_busy, &b);
    KeSetPriorityThread(ta, 9);
    KeSetPriorityThread(tb, 9);
    assert_string_equal(run_log, "");
    /* Below them now: they run until both are done before this thread goes on. */
    KeSetPriorityThread(self, 8);
    assert_int_equal(run_len, 80);
    /* Turns of about a quantum each, A first (queued first): AAAA BBBB AAAA ... */
    ULONG switches = 0;
    for (ULONG i = 1; i < run_len; i++) {
        if (run_log[i] != run_log[i - 1])
            switches++;
    }
    assert_int_equal(run_log[0], 'A');
    assert_true(switches >= 15);
    assert_true(switches <= 21);
    assert_true(strncmp(run_log, "AAAAB", 5) == 0 || strncmp(run_log, "AAAB", 4) == 0);
    rig_join(ta);
    rig_join(tb);
}

static void set_priority_out_of_range(void)
{
    KeSetPriorityThread(KeGetCurrentThread(), MAXIMUM_PRIORITY);
}

static void test_priority_out_of_range_bugchecks(void **state)
{
    (void)state;
    rig_expect_bugcheck(set_priority_out_of_range, KMODE_EXCEPTION_NOT_HANDLED, (ULONG)STATUS_BREAKPOINT,
                        "KeSetPriorityThread: priority 32");
}

int main(void)
{
    /* Random preemption would reorder what these tests pin down. */
    unsetenv("NTHOST_PREEMPT_SEED");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_default_priorities, reset_log, rig_halt),
        cmocka_unit_test_setup_teardown(test_set_priority_returns_old, reset_log, rig_halt),
        cmocka_unit_test_setup_teardown(test_raised_ready_thread_runs_first, reset_log, rig_halt),
        cmocka_unit_test_setup_teardown(test_readied_higher_thread_preempts, reset_log, rig_halt),
        cmocka_unit_test_setup_teardown(test_lower_thread_never_runs_while_higher_is_ready, reset_log, rig_halt),
        cmocka_unit_test_setup_teardown(test_round_robin_within_priority, reset_log, rig_halt),
        cmocka_unit_test(test_priority_out_of_range_bugchecks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
