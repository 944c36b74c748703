/*
 * test_clock_bus.c — the machine clock's event queue and the I/O bus (access time,
 * claims, unclaimed ports, wide accesses, IRQ forwarding).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sim/bus.h"
#include "sim/clock.h"

/* ---- clock ----------------------------------------------------------------------- */

typedef struct log_ctx {
    sim_clock *clk;
    int order[64];
    sim_time_t at[64];
    int n;
} log_ctx;

typedef struct logged_event {
    sim_event ev;
    log_ctx *log;
    int id;
} logged_event;

static void log_fire(sim_event *ev, void *ctx)
{
    logged_event *le = ctx;
    (void)ev;
    le->log->order[le->log->n] = le->id;
    le->log->at[le->log->n] = sim_now(le->log->clk);
    le->log->n++;
}

static void init_logged(logged_event *le, log_ctx *log, int id)
{
    sim_event_init(&le->ev, log_fire, le);
    le->log = log;
    le->id = id;
}

/* Time order first, scheduling order for equal times, now() = the event's time. */
static void test_clock_order_and_ties(void **state)
{
    (void)state;
    log_ctx log = { .clk = sim_clock_create() };
    logged_event e[5];
    for (int i = 0; i < 5; i++)
        init_logged(&e[i], &log, i);
    sim_event_schedule(log.clk, &e[0].ev, 300);
    sim_event_schedule(log.clk, &e[1].ev, 100);
    sim_event_schedule(log.clk, &e[2].ev, 200);
    sim_event_schedule(log.clk, &e[3].ev, 100);
    sim_event_schedule(log.clk, &e[4].ev, 200);

    sim_clock_advance_to(log.clk, 250);
    assert_int_equal(log.n, 4);
    assert_int_equal(log.order[0], 1);
    assert_int_equal(log.order[1], 3);
    assert_int_equal(log.order[2], 2);
    assert_int_equal(log.order[3], 4);
    assert_int_equal(log.at[0], 100);
    assert_int_equal(log.at[2], 200);
    assert_int_equal(sim_now(log.clk), 250);
    assert_true(sim_event_pending(&e[0].ev));
    assert_false(sim_event_pending(&e[1].ev));

    sim_clock_advance(log.clk, 50);   /* exactly at 300: due events run */
    assert_int_equal(log.n, 5);
    assert_int_equal(log.at[4], 300);
    sim_clock_destroy(log.clk);
}

/* A rescheduled event goes behind events already queued for its new time. */
static void test_clock_reschedule_cancel(void **state)
{
    (void)state;
    log_ctx log = { .clk = sim_clock_create() };
    logged_event a, b, c;
    init_logged(&a, &log, 1);
    init_logged(&b, &log, 2);
    init_logged(&c, &log, 3);
    sim_event_schedule(log.clk, &a.ev, 10);
    sim_event_schedule(log.clk, &b.ev, 50);
    sim_event_schedule(log.clk, &c.ev, 20);
    sim_event_schedule(log.clk, &a.ev, 50);  /* moved behind b */
    sim_event_cancel(log.clk, &c.ev);
    sim_event_cancel(log.clk, &c.ev);        /* cancelling twice is harmless */
    assert_false(sim_event_pending(&c.ev));

    sim_time_t next = 0;
    assert_true(sim_clock_next_event(log.clk, &next));
    assert_int_equal(next, 50);
    sim_clock_advance_to(log.clk, 1000);
    assert_int_equal(log.n, 2);
    assert_int_equal(log.order[0], 2);
    assert_int_equal(log.order[1], 1);
    assert_false(sim_clock_next_event(log.clk, &next));
    sim_clock_destroy(log.clk);
}

/* A zero-initialised event is not queued (the contract: zero-initialise first). */
static void test_clock_zero_event(void **state)
{
    (void)state;
    sim_event ev = { 0 };
    assert_false(sim_event_pending(&ev));
}

typedef struct chain_ctx {
    sim_clock *clk;
    sim_event ev;
    int fired;
    sim_time_t times[4];
} chain_ctx;

/* Each firing schedules the next one 10 ns later (and once in the past: clamped). */
static void chain_fire(sim_event *ev, void *ctx)
{
    chain_ctx *c = ctx;
    c->times[c->fired++] = sim_now(c->clk);
    if (c->fired == 1)
        sim_event_schedule(c->clk, ev, 0);
    else if (c->fired < 4)
        sim_event_schedule(c->clk, ev, sim_now(c->clk) + 10);
}

/* Events scheduled by events run in the same advance when due; past times clamp. */
static void test_clock_events_schedule_events(void **state)
{
    (void)state;
    chain_ctx c = { .clk = sim_clock_create() };
    sim_clock_advance_to(c.clk, 100);
    sim_clock_advance_to(c.clk, 50);   /* backwards: no-op */
    assert_int_equal(sim_now(c.clk), 100);
    sim_event_init(&c.ev, chain_fire, &c);
    sim_event_schedule(c.clk, &c.ev, 5); /* in the past: runs at now */
    sim_clock_advance_to(c.clk, 115);
    assert_int_equal(c.fired, 3);
    assert_int_equal(c.times[0], 100);
    assert_int_equal(c.times[1], 100);
    assert_int_equal(c.times[2], 110);
    assert_true(sim_event_pending(&c.ev));
    sim_clock_advance_to(c.clk, 120);
    assert_int_equal(c.fired, 4);
    sim_clock_destroy(c.clk);
}

typedef struct stress_ev {
    sim_event ev;
    sim_time_t *last;
    int *count;
    sim_clock *clk;
    int *bad;
} stress_ev;

static void stress_fire(sim_event *ev, void *ctx)
{
    stress_ev *s = ctx;
    if (ev->when < *s->last || sim_now(s->clk) != ev->when)
        (*s->bad)++;
    *s->last = ev->when;
    (*s->count)++;
}

/* Many events at pseudo-random times (with duplicates) come out sorted. */
static void test_clock_heap_stress(void **state)
{
    (void)state;
    enum { N = 2000 };
    static stress_ev evs[N];
    sim_clock *clk = sim_clock_create();
    sim_time_t last = 0;
    int count = 0, bad = 0;
    uint32_t x = 12345;
    for (int i = 0; i < N; i++) {
        evs[i] = (stress_ev){ .last = &last, .count = &count,
                              .clk = clk, .bad = &bad };
        sim_event_init(&evs[i].ev, stress_fire, &evs[i]);
        x = x * 1103515245u + 12345u;
        sim_event_schedule(clk, &evs[i].ev, (x >> 16) % 500);
    }
    for (int i = 0; i < N; i += 7)
        sim_event_cancel(clk, &evs[i].ev);
    sim_clock_advance_to(clk, 1000);
    assert_int_equal(bad, 0);
    assert_int_equal(count, N - (N + 6) / 7);
    sim_clock_destroy(clk);
}

/* ---- bus ------------------------------------------------------------------------- */

typedef struct dev {
    sim_clock *clk;
    uint8_t regs[4];
    sim_time_t last_access;
    uint16_t offsets[8];
    int naccess;
    bool event_seen_at_access;
    sim_event ev;
    bool event_fired;
} dev;

static uint8_t dev_read(void *d, uint16_t off)
{
    dev *v = d;
    v->last_access = sim_now(v->clk);
    v->event_seen_at_access = v->event_fired;
    v->offsets[v->naccess++ % 8] = off;
    return v->regs[off];
}

static void dev_write(void *d, uint16_t off, uint8_t val)
{
    dev *v = d;
    v->last_access = sim_now(v->clk);
    v->offsets[v->naccess++ % 8] = off;
    v->regs[off] = val;
}

static const sim_io_ops dev_ops = { dev_read, dev_write };

static void dev_event(sim_event *ev, void *ctx)
{
    (void)ev;
    ((dev *)ctx)->event_fired = true;
}

/* Unclaimed ports read 0xFF, ignore writes and still take 1 us of bus time. */
static void test_bus_unclaimed(void **state)
{
    (void)state;
    sim_clock *clk = sim_clock_create();
    sim_bus *bus = sim_bus_create(clk);
    assert_ptr_equal(sim_bus_clock(bus), clk);
    assert_int_equal(sim_bus_read8(bus, 0x300), 0xFF);
    sim_bus_write8(bus, 0x300, 0x12);
    assert_int_equal(sim_bus_read8(bus, 0x300), 0xFF);
    assert_int_equal(sim_now(clk), SIM_US(3));
    assert_int_equal(sim_bus_access_count(bus), 3);
    sim_bus_destroy(bus);
    sim_clock_destroy(clk);
}

/*
 * An access advances the clock by exactly the device's tIO, runs the device events
 * due by the end of the access, and only then calls the hook.
 */
static void test_bus_access_time(void **state)
{
    (void)state;
    sim_clock *clk = sim_clock_create();
    sim_bus *bus = sim_bus_create(clk);
    dev d = { .clk = clk };
    assert_int_equal(sim_bus_claim(bus, 0x378, 3, SIM_NS(250), &dev_ops, &d), 0);
    sim_clock_advance_to(clk, SIM_US(10));

    sim_event_init(&d.ev, dev_event, &d);
    sim_event_schedule(clk, &d.ev, SIM_US(10) + SIM_NS(250)); /* due exactly at the end */
    (void)sim_bus_read8(bus, 0x379);
    assert_int_equal(d.last_access, SIM_US(10) + SIM_NS(250));
    assert_true(d.event_seen_at_access);
    assert_int_equal(d.offsets[0], 1);

    sim_bus_write8(bus, 0x37A, 0x42);
    assert_int_equal(sim_now(clk), SIM_US(10) + SIM_NS(500));
    assert_int_equal(d.regs[2], 0x42);
    assert_int_equal(sim_bus_access_count(bus), 2);
    sim_bus_destroy(bus);
    sim_clock_destroy(clk);
}

/* Wider accesses are byte accesses in ascending port order, each charged. */
static void test_bus_wide_access(void **state)
{
    (void)state;
    sim_clock *clk = sim_clock_create();
    sim_bus *bus = sim_bus_create(clk);
    dev d = { .clk = clk };
    assert_int_equal(sim_bus_claim(bus, 0x100, 4, SIM_US(1), &dev_ops, &d), 0);
    sim_bus_write32(bus, 0x100, 0x44332211u);
    assert_int_equal(d.regs[0], 0x11);
    assert_int_equal(d.regs[3], 0x44);
    assert_int_equal(d.offsets[0], 0);
    assert_int_equal(d.offsets[3], 3);
    assert_int_equal(sim_now(clk), SIM_US(4));
    assert_int_equal(sim_bus_read16(bus, 0x102), 0x4433);
    assert_int_equal(sim_bus_read32(bus, 0x100), 0x44332211u);
    sim_bus_write16(bus, 0x101, 0xBBAA);
    assert_int_equal(d.regs[1], 0xAA);
    assert_int_equal(d.regs[2], 0xBB);
    /* straddling the end of the claim: the byte past it is unclaimed */
    assert_int_equal(sim_bus_read16(bus, 0x103), 0xFF44);
    assert_int_equal(sim_bus_access_count(bus), 4 + 2 + 4 + 2 + 2);
    sim_bus_destroy(bus);
    sim_clock_destroy(clk);
}

static void test_bus_claims(void **state)
{
    (void)state;
    sim_clock *clk = sim_clock_create();
    sim_bus *bus = sim_bus_create(clk);
    dev a = { .clk = clk }, b = { .clk = clk };
    a.regs[0] = 0xA0;
    b.regs[0] = 0xB0;
    assert_int_equal(sim_bus_claim(bus, 0x378, 3, SIM_US(1), &dev_ops, &a), 0);
    assert_int_equal(sim_bus_claim(bus, 0x37A, 2, SIM_US(1), &dev_ops, &b), -1);
    assert_int_equal(sim_bus_claim(bus, 0x376, 3, SIM_US(1), &dev_ops, &b), -1);
    assert_int_equal(sim_bus_claim(bus, 0xFFFF, 2, SIM_US(1), &dev_ops, &b), -1);
    assert_int_equal(sim_bus_claim(bus, 0x37B, 1, SIM_US(1), &dev_ops, &b), 0);
    assert_int_equal(sim_bus_read8(bus, 0x378), 0xA0);
    assert_int_equal(sim_bus_read8(bus, 0x37B), 0xB0);
    sim_bus_release(bus, 0x379);  /* not a claim's base: nothing happens */
    assert_int_equal(sim_bus_read8(bus, 0x378), 0xA0);
    sim_bus_release(bus, 0x378);
    assert_int_equal(sim_bus_read8(bus, 0x378), 0xFF);
    assert_int_equal(sim_bus_claim(bus, 0x376, 3, SIM_US(1), &dev_ops, &b), 0);
    sim_bus_destroy(bus);
    sim_clock_destroy(clk);
}

typedef struct irq_log {
    unsigned irq[8];
    bool level[8];
    int n;
} irq_log;

static void irq_handler(void *ctx, unsigned irq, bool asserted)
{
    irq_log *l = ctx;
    l->irq[l->n] = irq;
    l->level[l->n] = asserted;
    l->n++;
}

static void test_bus_irq_forwarding(void **state)
{
    (void)state;
    sim_clock *clk = sim_clock_create();
    sim_bus *bus = sim_bus_create(clk);
    sim_bus_set_irq(bus, 7, true);  /* no handler yet: dropped */
    irq_log log = { .n = 0 };
    sim_bus_set_irq_handler(bus, irq_handler, &log);
    sim_bus_set_irq(bus, 7, true);
    sim_bus_set_irq(bus, 5, false);
    assert_int_equal(log.n, 2);
    assert_int_equal(log.irq[0], 7);
    assert_true(log.level[0]);
    assert_int_equal(log.irq[1], 5);
    assert_false(log.level[1]);
    sim_bus_destroy(bus);
    sim_clock_destroy(clk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clock_order_and_ties),
        cmocka_unit_test(test_clock_reschedule_cancel),
        cmocka_unit_test(test_clock_zero_event),
        cmocka_unit_test(test_clock_events_schedule_events),
        cmocka_unit_test(test_clock_heap_stress),
        cmocka_unit_test(test_bus_unclaimed),
        cmocka_unit_test(test_bus_access_time),
        cmocka_unit_test(test_bus_wide_access),
        cmocka_unit_test(test_bus_claims),
        cmocka_unit_test(test_bus_irq_forwarding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
