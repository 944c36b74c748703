/*
 * test_ke_time.c — the machine clock as drivers see it: wait timeouts, delays, timers
 * (one-shot, periodic, with DPCs), the idle thread's virtual-time jump, stalls, the
 * KeQuery* routines; HAL port routing and interrupts from the bus; preemption.
 * Nothing here measures host time: machine time is asserted instead.
 */
#include <stdlib.h>

#include "ke_rig.h"

static void test_wait_timeout_advances_machine_time(void **state)
{
    (void)state;
    KEVENT ev;
    KeInitializeEvent(&ev, NotificationEvent, FALSE);
    LARGE_INTEGER t = rig_rel_ms(250);
    sim_time_t before = sim_now(rig_clock);
    assert_int_equal(KeWaitForSingleObject(&ev, Executive, KernelMode, FALSE, &t), STATUS_TIMEOUT);
    assert_true(NT_SUCCESS(STATUS_TIMEOUT)); /* the trap: a timeout is a success code */
    assert_int_equal(sim_now(rig_clock) - before, SIM_MS(250));
    LARGE_INTEGER zero = { .QuadPart = 0 };
    before = sim_now(rig_clock);
    assert_int_equal(KeWaitForSingleObject(&ev, Executive, KernelMode, FALSE, &zero), STATUS_TIMEOUT);
    assert_int_equal(sim_now(rig_clock), before); /* a poll takes no time */
}

static void test_absolute_timeout(void **state)
{
    (void)state;
    KEVENT ev;
    KeInitializeEvent(&ev, NotificationEvent, FALSE);
    LARGE_INTEGER now, until;
    KeQuerySystemTime(&now);
    until.QuadPart = now.QuadPart + 30000000LL; /* +3 s */
    sim_time_t before = sim_now(rig_clock);
    assert_int_equal(KeWaitForSingleObject(&ev, Executive, KernelMode, FALSE, &until), STATUS_TIMEOUT);
    assert_int_equal(sim_now(rig_clock) - before, SIM_S(3));
    /* In the past: immediate. */
    before = sim_now(rig_clock);
    assert_int_equal(KeWaitForSingleObject(&ev, Executive, KernelMode, FALSE, &now), STATUS_TIMEOUT);
    assert_int_equal(sim_now(rig_clock), before);
}

static void test_delay_execution(void **state)
{
    (void)state;
    LARGE_INTEGER d = rig_rel_ms(1500);
    sim_time_t before = sim_now(rig_clock);
    assert_int_equal(KeDelayExecutionThread(KernelMode, FALSE, &d), STATUS_SUCCESS);
    assert_int_equal(sim_now(rig_clock) - before, SIM_MS(1500));
}

static LONG timer_dpcs;
static sim_time_t timer_dpc_times[8];

static VOID NTAPI timer_dpc(PKDPC Dpc, PVOID Ctx, PVOID A1, PVOID A2)
{
    (void)Dpc;
    (void)Ctx;
    (void)A1;
    (void)A2;
    if (timer_dpcs < 8)
        timer_dpc_times[timer_dpcs] = sim_now(rig_clock);
    timer_dpcs++;
}

static void test_one_shot_timer_with_dpc(void **state)
{
    (void)state;
    KTIMER timer;
    KDPC dpc;
    timer_dpcs = 0;
    KeInitializeTimer(&timer);
    KeInitializeDpc(&dpc, timer_dpc, NULL);
    sim_time_t start = sim_now(rig_clock);
    assert_false(KeSetTimer(&timer, rig_rel_ms(100), &dpc));
    assert_false(KeReadStateTimer(&timer));
    assert_int_equal(KeWaitForSingleObject(&timer, Executive, KernelMode, FALSE, NULL), STATUS_WAIT_0);
    assert_int_equal(sim_now(rig_clock) - start, SIM_MS(100));
    assert_true(KeReadStateTimer(&timer));
    assert_int_equal(timer_dpcs, 1);
    assert_int_equal(timer_dpc_times[0] - start, SIM_MS(100));
    /* Re-setting resets the state; cancelling a set timer returns TRUE. */
    assert_false(KeSetTimer(&timer, rig_rel_ms(100), &dpc));
    assert_false(KeReadStateTimer(&timer));
    assert_true(KeSetTimer(&timer, rig_rel_ms(200), &dpc));
    assert_true(KeCancelTimer(&timer));
    assert_false(KeCancelTimer(&timer));
    LARGE_INTEGER d = rig_rel_ms(500);
    KeDelayExecutionThread(KernelMode, FALSE, &d);
    assert_int_equal(timer_dpcs, 1);
}

static void test_periodic_timer(void **state)
{
    (void)state;
    KTIMER timer;
    KDPC dpc;
    timer_dpcs = 0;
    KeInitializeTimerEx(&timer, SynchronizationTimer);
    KeInitializeDpc(&dpc, timer_dpc, NULL);
    sim_time_t start = sim_now(rig_clock);
    KeSetTimerEx(&timer, rig_rel_ms(10), 20, &dpc);
    for (int i = 0; i < 4; i++)
        assert_int_equal(KeWaitForSingleObject(&timer, Executive, KernelMode, FALSE, NULL), STATUS_WAIT_0);
    assert_true(KeCancelTimer(&timer));
    assert_int_equal(timer_dpcs, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(timer_dpc_times[i] - start, SIM_MS(10 + 20 * i));
    assert_false(KeReadStateTimer(&timer)); /* synchronization timer: consumed by the wait */
}

/* A driver-style 10-second timeout: thread waits on an event a timer DPC sets. */
static KEVENT ten_s_event;
static VOID NTAPI ten_s_dpc(PKDPC Dpc, PVOID Ctx, PVOID A1, PVOID A2)
{
    (void)Dpc;
    (void)Ctx;
    (void)A1;
    (void)A2;
    KeSetEvent(&ten_s_event, IO_NO_INCREMENT, FALSE);
}

static void test_ten_second_driver_timer(void **state)
{
    (void)state;
    KTIMER timer;
    KDPC dpc;
    KeInitializeEvent(&ten_s_event, NotificationEvent, FALSE);
    KeInitializeTimer(&timer);
    KeInitializeDpc(&dpc, ten_s_dpc, NULL);
    sim_time_t start = sim_now(rig_clock);
    LARGE_INTEGER tick0;
    KeQueryTickCount(&tick0);
    KeSetTimer(&timer, rig_rel_ms(10000), &dpc);
    assert_int_equal(KeWaitForSingleObject(&ten_s_event, Executive, KernelMode, FALSE, NULL), STATUS_WAIT_0);
    assert_int_equal(sim_now(rig_clock) - start, SIM_S(10));
    LARGE_INTEGER tick1;
    KeQueryTickCount(&tick1);
    assert_int_equal((tick1.QuadPart - tick0.QuadPart) * KeQueryTimeIncrement(), 100000000LL);
}

static void test_stall_and_time_queries(void **state)
{
    (void)state;
    LARGE_INTEGER freq, c0, c1, s0, s1;
    c0 = KeQueryPerformanceCounter(&freq);
    ULONGLONG i0 = KeQueryInterruptTime();
    KeQuerySystemTime(&s0);
    KIRQL old;
    KeRaiseIrql(HIGH_LEVEL, &old); /* stalls are legal at any IRQL */
    KeStallExecutionProcessor(40);
    KeLowerIrql(old);
    c1 = KeQueryPerformanceCounter(NULL);
    KeQuerySystemTime(&s1);
    assert_int_equal(freq.QuadPart, 10000000);
    assert_int_equal(c1.QuadPart - c0.QuadPart, 400);
    assert_int_equal(KeQueryInterruptTime() - i0, 400);
    assert_int_equal(s1.QuadPart - s0.QuadPart, 400);
    assert_true(s0.QuadPart > 130000000000000000LL); /* after 2012: a real calendar time */
}

/* ---- HAL --------------------------------------------------------------------------------- */

typedef struct {
    UCHAR regs[4];
    int reads, writes;
} fake_dev;

static uint8_t fake_read(void *dev, uint16_t off)
{
    fake_dev *d = dev;
    d->reads++;
    return d->regs[off];
}

static void fake_write(void *dev, uint16_t off, uint8_t v)
{
    fake_dev *d = dev;
    d->writes++;
    d->regs[off] = v;
}

static const sim_io_ops fake_ops = { fake_read, fake_write };

static void test_hal_routes_ports_to_the_bus(void **state)
{
    (void)state;
    fake_dev d = { { 0x11, 0x22, 0x33, 0x44 }, 0, 0 };
    assert_int_equal(sim_bus_claim(rig_bus, 0x378, 4, SIM_US(1), &fake_ops, &d), 0);
    PUCHAR base = (PUCHAR)(ULONG_PTR)0x378;
    sim_time_t t0 = sim_now(rig_clock);
    assert_int_equal(READ_PORT_UCHAR(base + 1), 0x22);
    WRITE_PORT_UCHAR(base + 2, 0xA5);
    assert_int_equal(d.regs[2], 0xA5);
    assert_int_equal(READ_PORT_USHORT((PUSHORT)(base + 2)), 0x44A5);
    assert_int_equal(sim_now(rig_clock) - t0, SIM_US(4)); /* 1 + 1 + 2 byte accesses of 1 us */
    UCHAR buf[3];
    READ_PORT_BUFFER_UCHAR(base, buf, 3);
    assert_int_equal(buf[0], 0x11);
    assert_int_equal(buf[2], 0x11);
    assert_int_equal(d.reads, 6);
    /* Unclaimed: 0xFF, and still costs an ISA access. */
    t0 = sim_now(rig_clock);
    assert_int_equal(READ_PORT_UCHAR((PUCHAR)(ULONG_PTR)0x3BC), 0xFF);
    assert_int_equal(READ_PORT_ULONG((PULONG)(ULONG_PTR)0x2F8), 0xFFFFFFFFu);
    assert_int_equal(sim_now(rig_clock) - t0, SIM_US(5));
    sim_bus_release(rig_bus, 0x378);
}

/* ---- Interrupts ------------------------------------------------------------------------------- */

typedef struct {
    sim_event ev;
    sim_bus *bus;
    int isr_runs, dpc_runs;
    KIRQL isr_irql;
    KDPC dpc;
    KEVENT done;
} irq_dev;

static void irq_fire(sim_event *ev, void *ctx)
{
    (void)ev;
    irq_dev *d = ctx;
    sim_bus_set_irq(d->bus, 7, true);
    sim_bus_set_irq(d->bus, 7, false); /* an edge, like the parallel port's nAck pulse */
}

static BOOLEAN NTAPI irq_isr(PKINTERRUPT Interrupt, PVOID Ctx)
{
    (void)Interrupt;
    irq_dev *d = Ctx;
    d->isr_runs++;
    d->isr_irql = KeGetCurrentIrql();
    KeInsertQueueDpc(&d->dpc, NULL, NULL);
    return TRUE;
}

static VOID NTAPI irq_dpc(PKDPC Dpc, PVOID Ctx, PVOID A1, PVOID A2)
{
    (void)Dpc;
    (void)A1;
    (void)A2;
    irq_dev *d = Ctx;
    d->dpc_runs++;
    KeSetEvent(&d->done, 0, FALSE);
}

static BOOLEAN NTAPI sync_routine(PVOID Ctx)
{
    *(KIRQL *)Ctx = KeGetCurrentIrql();
    return TRUE;
}

static void test_interrupt_from_bus_runs_isr_then_dpc(void **state)
{
    (void)state;
    irq_dev d = { .bus = rig_bus };
    KIRQL irql;
    KAFFINITY aff;
    ULONG vector = HalGetInterruptVector(Isa, 0, 7, 7, &irql, &aff);
    assert_true(vector != 0);
    assert_true(irql > DISPATCH_LEVEL && irql <= PROFILE_LEVEL);
    KeInitializeDpc(&d.dpc, irq_dpc, &d);
    KeInitializeEvent(&d.done, NotificationEvent, FALSE);
    PKINTERRUPT intr;
    assert_int_equal(IoConnectInterrupt(&intr, irq_isr, &d, NULL, vector, irql, irql, Latched, FALSE, aff, FALSE),
                     STATUS_SUCCESS);
    /* The device interrupts 3 ms from now; the waiting thread wakes through ISR + DPC. */
    sim_event_init(&d.ev, irq_fire, &d);
    sim_event_schedule(rig_clock, &d.ev, sim_now(rig_clock) + SIM_MS(3));
    sim_time_t t0 = sim_now(rig_clock);
    assert_int_equal(KeWaitForSingleObject(&d.done, Executive, KernelMode, FALSE, NULL), STATUS_WAIT_0);
    assert_int_equal(sim_now(rig_clock) - t0, SIM_MS(3));
    assert_int_equal(d.isr_runs, 1);
    assert_int_equal(d.dpc_runs, 1);
    assert_int_equal(d.isr_irql, irql);
    KIRQL seen = 0;
    assert_true(KeSynchronizeExecution(intr, sync_routine, &seen));
    assert_int_equal(seen, irql);
    assert_int_equal(KeGetCurrentIrql(), PASSIVE_LEVEL);
    /* While the IRQL is at the device level the interrupt waits. */
    KIRQL old;
    KeRaiseIrql(irql, &old);
    irq_fire(NULL, &d);
    KeStallExecutionProcessor(1);
    assert_int_equal(d.isr_runs, 1);
    KeLowerIrql(old);
    assert_int_equal(d.isr_runs, 2);
    assert_int_equal(d.dpc_runs, 2);
    IoDisconnectInterrupt(intr);
}

/* A level-triggered device: the line stays asserted until the ISR reads its status
 * port; two ISRs share the vector and only the second one claims the interrupt. */
typedef struct {
    BOOLEAN pending;
    sim_bus *bus;
    int status_reads;
} level_dev;

static uint8_t level_read(void *dev, uint16_t off)
{
    level_dev *d = dev;
    (void)off;
    d->status_reads++;
    if (d->pending) {
        d->pending = FALSE;
        sim_bus_set_irq(d->bus, 5, false);
        return 1;
    }
    return 0;
}

static void level_write(void *dev, uint16_t off, uint8_t v)
{
    (void)dev;
    (void)off;
    (void)v;
}

static const sim_io_ops level_ops = { level_read, level_write };
static int isr_not_mine_runs, isr_mine_runs;

static BOOLEAN NTAPI isr_not_mine(PKINTERRUPT Interrupt, PVOID Ctx)
{
    (void)Interrupt;
    (void)Ctx;
    isr_not_mine_runs++;
    return FALSE;
}

static BOOLEAN NTAPI isr_mine(PKINTERRUPT Interrupt, PVOID Ctx)
{
    (void)Interrupt;
    (void)Ctx;
    isr_mine_runs++;
    return READ_PORT_UCHAR((PUCHAR)(ULONG_PTR)0x300) != 0;
}

static void test_level_triggered_shared_interrupt(void **state)
{
    (void)state;
    level_dev d = { FALSE, rig_bus, 0 };
    assert_int_equal(sim_bus_claim(rig_bus, 0x300, 1, SIM_US(1), &level_ops, &d), 0);
    KIRQL irql;
    KAFFINITY aff;
    ULONG vector = HalGetInterruptVector(Isa, 0, 5, 5, &irql, &aff);
    PKINTERRUPT a, b, c;
    assert_int_equal(IoConnectInterrupt(&a, isr_not_mine, NULL, NULL, vector, irql, irql, LevelSensitive, TRUE, aff,
                                        FALSE),
                     STATUS_SUCCESS);
    assert_int_equal(IoConnectInterrupt(&b, isr_mine, NULL, NULL, vector, irql, irql, LevelSensitive, TRUE, aff,
                                        FALSE),
                     STATUS_SUCCESS);
    /* A connection that will not share, or uses the other mode, is refused. */
    assert_int_equal(IoConnectInterrupt(&c, isr_mine, NULL, NULL, vector, irql, irql, Latched, TRUE, aff, FALSE),
                     STATUS_INVALID_PARAMETER);
    isr_not_mine_runs = isr_mine_runs = 0;
    d.pending = TRUE;
    sim_bus_set_irq(rig_bus, 5, true);
    KeStallExecutionProcessor(1); /* a delivery point */
    assert_int_equal(isr_not_mine_runs, 1);
    assert_int_equal(isr_mine_runs, 1);
    assert_int_equal(d.status_reads, 1);
    KeStallExecutionProcessor(1);
    assert_int_equal(isr_mine_runs, 1); /* acknowledged: no second interrupt */
    IoDisconnectInterrupt(a);
    IoDisconnectInterrupt(b);
    sim_bus_release(rig_bus, 0x300);
}

/* ---- Preemption ---------------------------------------------------------------------------------- */

static volatile LONG spin_flag;

static VOID NTAPI flag_setter(PVOID ctx)
{
    (void)ctx;
    spin_flag = 1;
}

static void test_round_robin_preempts_port_polling(void **state)
{
    (void)state;
    spin_flag = 0;
    PKTHREAD t = rig_thread(flag_setter, NULL);
    /* Busy-poll a port like a driver waiting for hardware: the quantum expires and the
     * other thread runs, without any wait. */
    int polls = 0;
    while (!spin_flag && polls < 1000000) {
        READ_PORT_UCHAR((PUCHAR)(ULONG_PTR)0x379);
        polls++;
    }
    assert_int_equal(spin_flag, 1);
    /* The whole quantum first, 1 us per access. */
    assert_true(polls >= (int)(KI_DEFAULT_QUANTUM / SIM_US(1)) - 1);
    rig_join(t);
}

static void test_no_preemption_at_dispatch_level(void **state)
{
    (void)state;
    spin_flag = 0;
    PKTHREAD t = rig_thread(flag_setter, NULL);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    VfSetEnabled(FALSE); /* this holds DISPATCH_LEVEL far past the 50 us warning */
    for (int i = 0; i < 30000; i++)
        READ_PORT_UCHAR((PUCHAR)(ULONG_PTR)0x379);
    assert_int_equal(spin_flag, 0);
    KeLowerIrql(old);
    VfSetEnabled(TRUE);
    rig_join(t);
    assert_int_equal(spin_flag, 1);
}

int main(void)
{
    /* These tests count polls per quantum: a race-hunting seed from the environment
     * would change what they measure. */
    unsetenv("NTHOST_PREEMPT_SEED");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_wait_timeout_advances_machine_time, rig_boot, rig_halt),
        cmocka_unit_test_setup_teardown(test_absolute_timeout, rig_boot, rig_halt),
        cmocka_unit_test_setup_teardown(test_delay_execution, rig_boot, rig_halt),
        cmocka_unit_test_setup_teardown(test_one_shot_timer_with_dpc, rig_boot, rig_halt),
        cmocka_unit_test_setup_teardown(test_periodic_timer, rig_boot, rig_halt),
        cmocka_unit_test_setup_teardown(test_ten_second_driver_timer, rig_boot, rig_halt),
        cmocka_unit_test_setup_teardown(test_stall_and_time_queries, rig_boot, rig_halt),
        cmocka_unit_test_setup_teardown(test_hal_routes_ports_to_the_bus, rig_boot, rig_halt),
        cmocka_unit_test_setup_teardown(test_interrupt_from_bus_runs_isr_then_dpc, rig_boot, rig_halt),
        cmocka_unit_test_setup_teardown(test_level_triggered_shared_interrupt, rig_boot, rig_halt),
        cmocka_unit_test_setup_teardown(test_round_robin_preempts_port_polling, rig_boot, rig_halt),
        cmocka_unit_test_setup_teardown(test_no_preemption_at_dispatch_level, rig_boot, rig_halt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
