/*
 * test_ke_sched.c — scheduler modes: seeded random preemption (exposes a race, and
 * the same seed replays the same interleaving), real-time mode (the machine clock
 * follows the host's), and host threads attaching to the kernel.
 */
#include <pthread.h>

#include <stdlib.h>

#include "ke_rig.h"

#define RACE_ITERATIONS 200

static LONG race_counter;

/* A read-modify-write with a register access in the middle: a race whenever the
 * thread can be preempted between the read and the write. */
static VOID NTAPI racer(PVOID ctx)
{
    (void)ctx;
    for (int i = 0; i < RACE_ITERATIONS; i++) {
        LONG v = race_counter;
        READ_PORT_UCHAR((PUCHAR)(ULONG_PTR)0x80);
        race_counter = v + 1;
    }
}

static LONG run_race(ULONG seed)
{
    KI_CONFIG cfg = { .Verifier = TRUE, .RandomPreemptSeed = seed };
    rig_boot_with(&cfg);
    race_counter = 0;
    PKTHREAD a = rig_thread(racer, NULL);
    PKTHREAD b = rig_thread(racer, NULL);
    rig_join(a);
    rig_join(b);
    LONG result = race_counter;
    rig_halt(NULL);
    return result;
}

static void test_round_robin_alone_hides_the_race(void **state)
{
    (void)state;
    /* 200 accesses take far less than one quantum: no preemption inside the loop. */
    assert_int_equal(run_race(0), 2 * RACE_ITERATIONS);
}

static void test_random_preemption_exposes_race_reproducibly(void **state)
{
    (void)state;
    LONG first = run_race(12345);
    assert_true(first < 2 * RACE_ITERATIONS); /* updates were lost */
    assert_int_equal(run_race(12345), first); /* same seed, same interleaving */
    LONG other = run_race(777);
    assert_true(other < 2 * RACE_ITERATIONS);
}

static void test_real_time_mode_follows_host_clock(void **state)
{
    (void)state;
    KI_CONFIG cfg = { .Verifier = TRUE, .RealTime = TRUE };
    rig_boot_with(&cfg);
    assert_true(KiIsRealTime());
    KEVENT ev;
    KeInitializeEvent(&ev, NotificationEvent, FALSE);
    LARGE_INTEGER t = rig_rel_ms(20);
    sim_time_t before = KiNow();
    assert_int_equal(KeWaitForSingleObject(&ev, Executive, KernelMode, FALSE, &t), STATUS_TIMEOUT);
    sim_time_t waited = KiNow() - before;
    assert_true(waited >= SIM_MS(20));
    assert_true(waited < SIM_S(5));
    rig_halt(NULL);
}

typedef struct {
    PKEVENT go;
    NTSTATUS status;
    ULONG_PTR id;
} host_ctx;

static void *host_thread(void *arg)
{
    host_ctx *c = arg;
    PKTHREAD self = KiAttachHostThread("host-helper");
    c->id = (ULONG_PTR)PsGetCurrentThreadId();
    c->status = KeWaitForSingleObject(c->go, Executive, UserMode, FALSE, NULL);
    ObDereferenceObject(self);
    KiDetachHostThread();
    return NULL;
}

static void test_host_thread_attaches(void **state)
{
    (void)state;
    KEVENT go;
    KeInitializeEvent(&go, NotificationEvent, FALSE);
    host_ctx c = { &go, -1, 0 };
    pthread_t pt;
    assert_int_equal(pthread_create(&pt, NULL, host_thread, &c), 0);
    /* Give the CPU away until the helper has attached and blocked on the event. */
    LARGE_INTEGER d = rig_rel_ms(1);
    while (c.id == 0)
        KeDelayExecutionThread(KernelMode, FALSE, &d);
    assert_int_equal(KiLiveThreadCount(), 2);
    KeSetEvent(&go, 0, FALSE);
    while (KiLiveThreadCount() != 1)
        KeDelayExecutionThread(KernelMode, FALSE, &d);
    assert_int_equal(c.status, STATUS_WAIT_0);
    assert_true(c.id != (ULONG_PTR)PsGetCurrentThreadId());
    /* The helper's pthread no longer touches the kernel; joining it needs no CPU. */
    pthread_join(pt, NULL);
}

int main(void)
{
    /* These tests choose their own preemption modes: a race-hunting seed from the
     * environment would change what they measure. */
    unsetenv("NTHOST_PREEMPT_SEED");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_robin_alone_hides_the_race),
        cmocka_unit_test(test_random_preemption_exposes_race_reproducibly),
        cmocka_unit_test(test_real_time_mode_follows_host_clock),
        cmocka_unit_test_setup_teardown(test_host_thread_attaches, rig_boot, rig_halt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
