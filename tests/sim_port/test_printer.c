/*
 * test_printer.c — the printer model of DL1.md section 10 behind an SPP, driven
 * through the registers and measured on the machine clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sim/port.h"
#include "sim/printer.h"

#define BASE 0x378
#define CTL_IDLE 0x0C                 /* nInit high, nSelectIn low */
#define CTL_STROBE (CTL_IDLE | SIM_CTRL_STROBE)

typedef struct rig {
    sim_clock *clk;
    sim_bus *bus;
    sim_port *port;
    sim_printer *pr;
} rig;

static rig rig_make(const sim_printer_config *cfg)
{
    rig r;
    r.clk = sim_clock_create();
    r.bus = sim_bus_create(r.clk);
    r.port = sim_port_create(r.bus, BASE, 7, SIM_CHIP_SPP, SIM_US(1));
    r.pr = sim_printer_create(r.clk, cfg);
    assert_non_null(r.port);
    assert_non_null(r.pr);
    sim_port_attach(r.port, sim_printer_peripheral(r.pr));
    return r;
}

static void rig_free(rig *r)
{
    sim_port_destroy(r->port);
    sim_bus_destroy(r->bus);
    sim_clock_destroy(r->clk);
}

static uint8_t status(rig *r)
{
    return sim_bus_read8(r->bus, BASE + SIM_LPT_STATUS);
}

/* Put b on D0-D7 and strobe; returns the time of the falling edge. */
static sim_time_t strobe_byte(rig *r, uint8_t b)
{
    sim_bus_write8(r->bus, BASE + SIM_LPT_DATA, b);
    sim_bus_write8(r->bus, BASE + SIM_LPT_CONTROL, CTL_STROBE);
    sim_time_t fall = sim_now(r->clk);
    sim_bus_write8(r->bus, BASE + SIM_LPT_CONTROL, CTL_IDLE);
    return fall;
}

/* Busy from the falling edge for 10 us, nAck low for the last 5 us, then idle. */
static void test_busy_and_ack_timing(void **state)
{
    (void)state;
    rig r = rig_make(NULL);
    assert_int_equal(status(&r), 0xDF);
    sim_time_t t = strobe_byte(&r, 0x41);
    assert_int_equal(status(&r), 0x5F);           /* Busy, nAck still high */

    sim_clock_advance_to(r.clk, t + SIM_US(5) - 1);
    assert_true(sim_port_periph_lines(r.port).busy);
    assert_true(sim_port_periph_lines(r.port).nAck);
    sim_clock_advance_to(r.clk, t + SIM_US(5));
    assert_false(sim_port_periph_lines(r.port).nAck);
    assert_true(sim_port_periph_lines(r.port).busy);
    sim_clock_advance_to(r.clk, t + SIM_US(10) - 1);
    assert_false(sim_port_periph_lines(r.port).nAck);
    sim_clock_advance_to(r.clk, t + SIM_US(10));
    assert_true(sim_port_periph_lines(r.port).nAck);
    assert_false(sim_port_periph_lines(r.port).busy);
    assert_int_equal(status(&r), 0xDF);

    const uint8_t *rx;
    assert_int_equal(sim_printer_received(r.pr, &rx), 1);
    assert_int_equal(rx[0], 0x41);
    rig_free(&r);
}

/* A strobe while Busy is lost and counted; bytes arrive in order. */
static void test_strobe_while_busy_lost(void **state)
{
    (void)state;
    rig r = rig_make(NULL);
    strobe_byte(&r, 'A');
    strobe_byte(&r, 'X');                      /* 3 us later: still busy */
    assert_int_equal(sim_printer_lost_strobes(r.pr), 1);
    sim_clock_advance(r.clk, SIM_US(10));
    strobe_byte(&r, 'B');
    sim_clock_advance(r.clk, SIM_US(10));
    strobe_byte(&r, 'C');
    const uint8_t *rx;
    assert_int_equal(sim_printer_received(r.pr, &rx), 3);
    assert_memory_equal(rx, "ABC", 3);
    sim_printer_clear_received(r.pr);
    sim_clock_advance(r.clk, SIM_US(10));
    strobe_byte(&r, 'D');
    assert_int_equal(sim_printer_received(r.pr, &rx), 1);
    assert_int_equal(rx[0], 'D');
    rig_free(&r);
}

/*
 * A byte that fills the buffer keeps Busy until one byte has drained, with the nAck
 * pulse at the end of that longer cycle. Buffer 4, 1000 bytes/s: one byte per ms.
 */
static void test_buffer_full_and_drain(void **state)
{
    (void)state;
    sim_printer_config cfg = { .buffer_size = 4, .drain_bytes_per_s = 1000 };
    rig r = rig_make(&cfg);
    sim_time_t t0 = strobe_byte(&r, 1);
    for (int i = 2; i <= 3; i++) {
        sim_clock_advance(r.clk, SIM_US(10));
        strobe_byte(&r, (uint8_t)i);
    }
    assert_int_equal(sim_printer_buffer_level(r.pr), 3);
    sim_clock_advance(r.clk, SIM_US(10));
    strobe_byte(&r, 4);                         /* fills the buffer */
    sim_time_t room = t0 + SIM_MS(1);           /* first byte printed */
    sim_clock_advance_to(r.clk, room - SIM_US(5) - 1);
    assert_true(sim_port_periph_lines(r.port).nAck);
    assert_true(sim_printer_busy(r.pr));
    sim_clock_advance_to(r.clk, room - SIM_US(5));
    assert_false(sim_port_periph_lines(r.port).nAck);
    sim_clock_advance_to(r.clk, room - 1);
    assert_true(sim_printer_busy(r.pr));
    assert_int_equal(sim_printer_buffer_level(r.pr), 4);
    sim_clock_advance_to(r.clk, room);
    assert_false(sim_printer_busy(r.pr));
    assert_int_equal(sim_printer_buffer_level(r.pr), 3);
    /* Drains in closed form: 3 ms later it is empty. */
    sim_clock_advance_to(r.clk, room + SIM_MS(3));
    assert_int_equal(sim_printer_buffer_level(r.pr), 0);
    assert_int_equal(sim_printer_lost_strobes(r.pr), 0);
    rig_free(&r);
}

/* The default 4 KiB buffer at 2 KiB/s: sending flat out fills it, then 1 byte/488 us. */
static void test_default_buffer_fills(void **state)
{
    (void)state;
    rig r = rig_make(NULL);
    uint64_t sent = 0;
    sim_time_t long_cycle = 0;
    while (sent < 10000) {
        while (!(status(&r) & SIM_STATUS_NBUSY))
            sim_clock_advance(r.clk, SIM_US(1));
        sim_time_t t = strobe_byte(&r, (uint8_t)sent);
        sent++;
        sim_clock_advance_to(r.clk, t + SIM_US(10));
        if (sim_printer_busy(r.pr)) {
            long_cycle = t;
            break;
        }
    }
    assert_int_not_equal(long_cycle, 0);
    assert_int_equal(sim_printer_buffer_level(r.pr), SIM_PRINTER_BUFFER);
    assert_in_range(sent, SIM_PRINTER_BUFFER, SIM_PRINTER_BUFFER + 400);
    sim_time_t t = sim_now(r.clk);
    while (sim_printer_busy(r.pr))
        sim_clock_advance(r.clk, SIM_US(1));
    assert_true(sim_now(r.clk) - t <= SIM_US(489));
    assert_int_equal(sim_printer_buffer_level(r.pr), SIM_PRINTER_BUFFER - 1);
    rig_free(&r);
}

/* nInit low for 50 us resets (buffer emptied, cycle cut short); 49 us does nothing. */
static void test_ninit_reset(void **state)
{
    (void)state;
    rig r = rig_make(NULL);
    strobe_byte(&r, 1);
    sim_clock_advance(r.clk, SIM_US(10));
    strobe_byte(&r, 2);
    sim_bus_write8(r.bus, BASE + SIM_LPT_CONTROL, CTL_IDLE & ~SIM_CTRL_NINIT);
    sim_time_t low = sim_now(r.clk);
    sim_clock_advance_to(r.clk, low + SIM_US(48));
    sim_bus_write8(r.bus, BASE + SIM_LPT_CONTROL, CTL_IDLE);  /* high at low + 49 us */
    assert_int_equal(sim_printer_resets(r.pr), 0);
    assert_int_equal(sim_printer_buffer_level(r.pr), 2);

    strobe_byte(&r, 3);
    sim_bus_write8(r.bus, BASE + SIM_LPT_CONTROL, CTL_IDLE & ~SIM_CTRL_NINIT);
    low = sim_now(r.clk);
    sim_clock_advance_to(r.clk, low + SIM_US(50) - 1);
    assert_int_equal(sim_printer_resets(r.pr), 0);
    sim_clock_advance_to(r.clk, low + SIM_US(50));
    assert_int_equal(sim_printer_resets(r.pr), 1);
    assert_int_equal(sim_printer_buffer_level(r.pr), 0);
    assert_false(sim_printer_busy(r.pr));
    sim_bus_write8(r.bus, BASE + SIM_LPT_CONTROL, CTL_IDLE);
    assert_int_equal(status(&r), 0xDF);
    rig_free(&r);
}

/* Every state's status register value (DL1.md section 10 table); strobes are lost. */
static void test_state_status_bytes(void **state)
{
    (void)state;
    static const struct { sim_printer_state s; uint8_t status; } table[] = {
        { SIM_PRINTER_BUSY, 0x5F },
        { SIM_PRINTER_PAPER_OUT, 0x67 },
        { SIM_PRINTER_OFFLINE, 0x47 },
        { SIM_PRINTER_POWERED_OFF, 0x87 },
        { SIM_PRINTER_ONLINE, 0xDF },
    };
    rig r = rig_make(NULL);
    uint64_t lost = 0;
    for (unsigned i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        sim_printer_set_state(r.pr, table[i].s);
        assert_int_equal(sim_printer_get_state(r.pr), table[i].s);
        assert_int_equal(status(&r), table[i].status);
        if (table[i].s != SIM_PRINTER_ONLINE) {
            strobe_byte(&r, 0x33);
            assert_int_equal(sim_printer_lost_strobes(r.pr), ++lost);
            assert_int_equal(status(&r), table[i].status);
        }
    }
    assert_int_equal(sim_printer_received(r.pr, NULL), 0);
    assert_string_equal(sim_printer_state_name(SIM_PRINTER_PAPER_OUT), "paper out");
    assert_ptr_equal(sim_printer_from_peripheral(sim_port_peripheral(r.port)), r.pr);
    assert_null(sim_printer_from_peripheral(NULL));
    rig_free(&r);
}

/* Paper out after 3 bytes: the third is taken with a full cycle, then 0x67. */
static void test_paper_out_after_count(void **state)
{
    (void)state;
    sim_printer_config cfg = { .paper_out_after = 3 };
    rig r = rig_make(&cfg);
    sim_time_t t = 0;
    for (int i = 0; i < 3; i++) {
        t = strobe_byte(&r, (uint8_t)('a' + i));
        sim_clock_advance_to(r.clk, t + SIM_US(5));
        assert_false(sim_port_periph_lines(r.port).nAck);   /* the third too */
        sim_clock_advance_to(r.clk, t + SIM_US(10) - 1);
        assert_int_equal(sim_printer_get_state(r.pr), SIM_PRINTER_ONLINE);
        sim_clock_advance_to(r.clk, t + SIM_US(10));
    }
    assert_int_equal(sim_printer_get_state(r.pr), SIM_PRINTER_PAPER_OUT);
    assert_int_equal(status(&r), 0x67);
    strobe_byte(&r, 'z');
    assert_int_equal(sim_printer_received(r.pr, NULL), 3);
    assert_int_equal(sim_printer_lost_strobes(r.pr), 1);
    sim_printer_set_state(r.pr, SIM_PRINTER_ONLINE);     /* new paper */
    strobe_byte(&r, 'd');
    assert_int_equal(sim_printer_received(r.pr, NULL), 4);
    rig_free(&r);
}

/* Fault triggers at a machine time and after a count of bytes. */
static void test_state_triggers(void **state)
{
    (void)state;
    rig r = rig_make(NULL);
    sim_time_t when = sim_now(r.clk) + SIM_US(100);
    sim_printer_set_state_at(r.pr, SIM_PRINTER_OFFLINE, when);
    sim_clock_advance_to(r.clk, when - SIM_US(1) - 1);
    assert_int_equal(status(&r), 0xDF);                   /* read ends just before */
    assert_int_equal(sim_printer_get_state(r.pr), SIM_PRINTER_ONLINE);
    sim_clock_advance_to(r.clk, when - SIM_US(1));  /* the read ends exactly at `when` */
    assert_int_equal(status(&r), 0x47);

    sim_printer_set_state(r.pr, SIM_PRINTER_ONLINE);
    sim_printer_set_state_after_bytes(r.pr, SIM_PRINTER_POWERED_OFF, 2);
    sim_time_t t = strobe_byte(&r, 1);
    sim_clock_advance_to(r.clk, t + SIM_US(10));
    t = strobe_byte(&r, 2);
    sim_clock_advance_to(r.clk, t + SIM_US(10));
    assert_int_equal(status(&r), 0x87);
    assert_int_equal(sim_printer_buffer_level(r.pr), 0);   /* power loss empties it */
    rig_free(&r);
}

typedef struct irq_count { int asserts; sim_time_t at; sim_clock *clk; } irq_count;

static void on_irq(void *ctx, unsigned irq, bool asserted)
{
    irq_count *c = ctx;
    (void)irq;
    if (asserted) {
        c->asserts++;
        c->at = sim_now(c->clk);
    }
}

/* The printer's acknowledge interrupts at the end of the nAck pulse, if enabled. */
static void test_printer_irq(void **state)
{
    (void)state;
    rig r = rig_make(NULL);
    irq_count c = { 0, 0, r.clk };
    sim_bus_set_irq_handler(r.bus, on_irq, &c);
    sim_time_t t = strobe_byte(&r, 1);
    sim_clock_advance_to(r.clk, t + SIM_US(20));
    assert_int_equal(c.asserts, 0);

    sim_bus_write8(r.bus, BASE + SIM_LPT_CONTROL, CTL_IDLE | SIM_CTRL_IRQEN);
    sim_bus_write8(r.bus, BASE + SIM_LPT_DATA, 2);
    sim_bus_write8(r.bus, BASE + SIM_LPT_CONTROL, CTL_STROBE | SIM_CTRL_IRQEN);
    t = sim_now(r.clk);
    sim_bus_write8(r.bus, BASE + SIM_LPT_CONTROL, CTL_IDLE | SIM_CTRL_IRQEN);
    sim_clock_advance_to(r.clk, t + SIM_US(20));
    assert_int_equal(c.asserts, 1);
    assert_int_equal(c.at, t + SIM_US(10));
    rig_free(&r);
}

/* IEEE 1284 Event 1 (nSelectIn high, nAutoFd low) gets no answer from a printer. */
static void test_no_1284_negotiation(void **state)
{
    (void)state;
    rig r = rig_make(NULL);
    sim_bus_write8(r.bus, BASE + SIM_LPT_DATA, 0x00);
    sim_bus_write8(r.bus, BASE + SIM_LPT_CONTROL, SIM_CTRL_NINIT | SIM_CTRL_AUTOFD);
    sim_clock_advance(r.clk, SIM_MS(40));          /* past IEEE 1284's 35 ms */
    assert_int_equal(status(&r), 0xDF);
    sim_bus_write8(r.bus, BASE + SIM_LPT_CONTROL, CTL_IDLE);
    assert_int_equal(sim_printer_received(r.pr, NULL), 0);
    rig_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_busy_and_ack_timing),
        cmocka_unit_test(test_strobe_while_busy_lost),
        cmocka_unit_test(test_buffer_full_and_drain),
        cmocka_unit_test(test_default_buffer_fills),
        cmocka_unit_test(test_ninit_reset),
        cmocka_unit_test(test_state_status_bytes),
        cmocka_unit_test(test_paper_out_after_count),
        cmocka_unit_test(test_state_triggers),
        cmocka_unit_test(test_printer_irq),
        cmocka_unit_test(test_no_1284_negotiation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
