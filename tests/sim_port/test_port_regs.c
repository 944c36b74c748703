/*
 * test_port_regs.c — register semantics of the SPP, PS/2 and ECP chip models
 * (DL1.md section 11): inversions, read-as-one bits, data direction, ECR, host line
 * propagation, IRQ on nAck, noise, unplug, access time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sim/port.h"
#include "sim/printer.h"
#include "fake_periph.h"

#define BASE 0x378

typedef struct rig {
    sim_clock *clk;
    sim_bus *bus;
    sim_port *port;
    fake_periph *fake;
} rig;

static rig rig_make(sim_chip_kind chip, bool with_fake)
{
    rig r;
    r.clk = sim_clock_create();
    r.bus = sim_bus_create(r.clk);
    r.port = sim_port_create(r.bus, BASE, 7, chip, SIM_US(1));
    assert_non_null(r.port);
    r.fake = NULL;
    if (with_fake) {
        r.fake = fake_create(r.clk);
        sim_port_attach(r.port, &r.fake->p);
    }
    return r;
}

static void rig_free(rig *r)
{
    sim_port_destroy(r->port);
    sim_bus_destroy(r->bus);
    sim_clock_destroy(r->clk);
}

static uint8_t rd(rig *r, uint16_t off) { return sim_bus_read8(r->bus, (uint16_t)(BASE + off)); }
static void wr(rig *r, uint16_t off, uint8_t v) { sim_bus_write8(r->bus, (uint16_t)(BASE + off), v); }

/* Nothing attached: every status line pulled high -> 0x7F; power-on CONTROL 0x0C. */
static void test_pullups_and_reset_state(void **state)
{
    (void)state;
    sim_chip_kind chips[] = { SIM_CHIP_SPP, SIM_CHIP_PS2, SIM_CHIP_ECP };
    for (unsigned i = 0; i < 3; i++) {
        rig r = rig_make(chips[i], false);
        assert_int_equal(rd(&r, SIM_LPT_STATUS), 0x7F);
        assert_int_equal(rd(&r, SIM_LPT_DATA), 0xFF);
        assert_int_equal(rd(&r, SIM_LPT_CONTROL) & 0x1F, 0x0C);
        sim_host_lines h = sim_port_host_lines(r.port);
        assert_true(h.nInit);
        assert_false(h.nSelectIn);
        assert_true(h.nStrobe);
        assert_true(h.data_driven);
        assert_int_equal(sim_port_chip(r.port), chips[i]);
        static const char *const names[] = { "spp", "ps2", "ecp" };
        assert_string_equal(sim_chip_name(chips[i]), names[i]);
        rig_free(&r);
    }
}

/* STATUS bit 7 is NOT Busy; 6..3 follow nAck, PError, Select, nFault; 2..0 read 1. */
static void test_status_inversion(void **state)
{
    (void)state;
    rig r = rig_make(SIM_CHIP_SPP, true);
    sim_periph_lines l = sim_lines_pulled_up();
    l.busy = false;
    fake_set(r.fake, l);
    assert_int_equal(rd(&r, SIM_LPT_STATUS), 0xFF);
    l = (sim_periph_lines){ .busy = true, .nAck = false, .perror = false, .select = false,
                            .nFault = false };
    fake_set(r.fake, l);
    assert_int_equal(rd(&r, SIM_LPT_STATUS), 0x07);
    l.select = true;
    fake_set(r.fake, l);
    assert_int_equal(rd(&r, SIM_LPT_STATUS), 0x17);
    l.nFault = true;
    l.perror = true;
    fake_set(r.fake, l);
    assert_int_equal(rd(&r, SIM_LPT_STATUS), 0x3F);
    wr(&r, SIM_LPT_STATUS, 0x00);  /* read-only */
    assert_int_equal(rd(&r, SIM_LPT_STATUS), 0x3F);
    rig_free(&r);
}

/* CONTROL bits 0, 1, 3 are inverted onto nStrobe, nAutoFd, nSelectIn; bit 2 is nInit. */
static void test_control_lines(void **state)
{
    (void)state;
    rig r = rig_make(SIM_CHIP_SPP, true);
    wr(&r, SIM_LPT_CONTROL, 0x00);
    sim_host_lines h = r.fake->last;
    assert_true(h.nStrobe);
    assert_true(h.nAutoFd);
    assert_false(h.nInit);
    assert_true(h.nSelectIn);
    wr(&r, SIM_LPT_CONTROL, SIM_CTRL_STROBE | SIM_CTRL_AUTOFD | SIM_CTRL_NINIT | SIM_CTRL_SELECTIN);
    h = r.fake->last;
    assert_false(h.nStrobe);
    assert_false(h.nAutoFd);
    assert_true(h.nInit);
    assert_false(h.nSelectIn);
    rig_free(&r);
}

/* SPP: bits 7..5 read 1 (no direction bit), 4..0 read back; DATA always the latch. */
static void test_spp_control_and_data(void **state)
{
    (void)state;
    rig r = rig_make(SIM_CHIP_SPP, true);
    wr(&r, SIM_LPT_CONTROL, 0x00);
    assert_int_equal(rd(&r, SIM_LPT_CONTROL), 0xE0);
    wr(&r, SIM_LPT_CONTROL, 0x1F);
    assert_int_equal(rd(&r, SIM_LPT_CONTROL), 0xFF);
    wr(&r, SIM_LPT_CONTROL, 0x2C);   /* direction bit: nothing happens */
    assert_int_equal(rd(&r, SIM_LPT_CONTROL), 0xEC);
    assert_false(sim_port_reverse(r.port));
    sim_periph_lines l = sim_lines_pulled_up();
    l.data_driven = true;
    l.data = 0x3C;
    fake_set(r.fake, l);
    wr(&r, SIM_LPT_DATA, 0x55);
    assert_int_equal(rd(&r, SIM_LPT_DATA), 0x55);
    assert_true(r.fake->last.data_driven);
    assert_int_equal(r.fake->last.data, 0x55);
    rig_free(&r);
}

/* PS/2: the direction bit tri-states D0-D7; DATA then reads the far end (or 0xFF). */
static void test_ps2_reverse(void **state)
{
    (void)state;
    rig r = rig_make(SIM_CHIP_PS2, true);
    wr(&r, SIM_LPT_DATA, 0x5A);
    wr(&r, SIM_LPT_CONTROL, 0x0C | SIM_CTRL_DIR);
    assert_int_equal(rd(&r, SIM_LPT_CONTROL), 0xEC);
    assert_true(sim_port_reverse(r.port));
    assert_false(r.fake->last.data_driven);
    assert_int_equal(rd(&r, SIM_LPT_DATA), 0xFF);      /* undriven: pulled up */

    unsigned calls = r.fake->host_calls;
    wr(&r, SIM_LPT_DATA, 0x12);                          /* latch only, lines unchanged */
    assert_int_equal(r.fake->host_calls, calls);
    assert_int_equal(rd(&r, SIM_LPT_DATA), 0xFF);

    sim_periph_lines l = sim_lines_pulled_up();
    l.data_driven = true;
    l.data = 0xA7;
    fake_set(r.fake, l);
    assert_int_equal(rd(&r, SIM_LPT_DATA), 0xA7);

    wr(&r, SIM_LPT_CONTROL, 0x0C);                       /* forward: the latch again */
    assert_true(r.fake->last.data_driven);
    assert_int_equal(r.fake->last.data, 0x12);
    assert_int_equal(rd(&r, SIM_LPT_DATA), 0x12);
    rig_free(&r);
}

/* ECP: ECR reads back bits 7..2 with FIFO empty set; direction works only in mode 001. */
static void test_ecp_ecr(void **state)
{
    (void)state;
    rig r = rig_make(SIM_CHIP_ECP, true);
    assert_int_equal(sim_bus_read8(r.bus, BASE + SIM_LPT_ECR), 0x01);
    sim_bus_write8(r.bus, BASE + SIM_LPT_ECR, 0x34);
    assert_int_equal(sim_bus_read8(r.bus, BASE + SIM_LPT_ECR), 0x35);
    sim_bus_write8(r.bus, BASE + SIM_LPT_ECR, 0xFF);    /* bits 1..0 are read-only */
    assert_int_equal(sim_bus_read8(r.bus, BASE + SIM_LPT_ECR), 0xFD);
    /* The ECR is its own register: CONTROL writes leave it alone and vice versa. */
    wr(&r, SIM_LPT_CONTROL, 0x04);
    assert_int_equal(sim_bus_read8(r.bus, BASE + SIM_LPT_ECR), 0xFD);
    assert_int_equal(rd(&r, SIM_LPT_CONTROL), 0xC4);

    /* mode 000: direction bit reads back but does nothing */
    sim_bus_write8(r.bus, BASE + SIM_LPT_ECR, SIM_ECR_MODE_SPP);
    wr(&r, SIM_LPT_DATA, 0x66);
    wr(&r, SIM_LPT_CONTROL, 0x0C | SIM_CTRL_DIR);
    assert_int_equal(rd(&r, SIM_LPT_CONTROL), 0xEC);
    assert_false(sim_port_reverse(r.port));
    assert_int_equal(rd(&r, SIM_LPT_DATA), 0x66);
    /* mode 001: the same bit reverses; the mode write itself changes the lines */
    unsigned calls = r.fake->host_calls;
    sim_bus_write8(r.bus, BASE + SIM_LPT_ECR, SIM_ECR_MODE_PS2);
    assert_int_equal(r.fake->host_calls, calls + 1);
    assert_false(r.fake->last.data_driven);
    assert_int_equal(rd(&r, SIM_LPT_DATA), 0xFF);
    /* an unimplemented mode behaves as 000 but reads back */
    sim_bus_write8(r.bus, BASE + SIM_LPT_ECR, SIM_ECR_MODE_ECP);
    assert_int_equal(sim_bus_read8(r.bus, BASE + SIM_LPT_ECR), 0x61);
    assert_false(sim_port_reverse(r.port));
    rig_free(&r);
}

/* Mode 111: cnfgA says 8-bit, cnfgB carries the IRQ code (IRQ 7 = 001 in bits 5..3). */
static void test_ecp_config_mode(void **state)
{
    (void)state;
    rig r = rig_make(SIM_CHIP_ECP, false);
    assert_int_equal(sim_bus_read8(r.bus, BASE + SIM_LPT_ECP_FIFO), 0xFF);
    sim_bus_write8(r.bus, BASE + SIM_LPT_ECR, SIM_ECR_MODE_CFG);
    assert_int_equal(sim_bus_read8(r.bus, BASE + SIM_LPT_ECP_FIFO), 0x10);
    assert_int_equal(sim_bus_read8(r.bus, BASE + SIM_LPT_ECP_CFGB) & 0x38, 0x08);
    rig_free(&r);
}

/* The peripheral hears about a write exactly when a line changed. */
static void test_host_changed_exactly_on_change(void **state)
{
    (void)state;
    rig r = rig_make(SIM_CHIP_PS2, true);
    unsigned calls = r.fake->host_calls;
    wr(&r, SIM_LPT_DATA, 0xFF);      /* same as power-on latch */
    assert_int_equal(r.fake->host_calls, calls);
    wr(&r, SIM_LPT_DATA, 0x80);
    assert_int_equal(r.fake->host_calls, calls + 1);
    wr(&r, SIM_LPT_DATA, 0x80);
    assert_int_equal(r.fake->host_calls, calls + 1);
    wr(&r, SIM_LPT_CONTROL, 0x0C | SIM_CTRL_IRQEN);   /* not a line */
    assert_int_equal(r.fake->host_calls, calls + 1);
    wr(&r, SIM_LPT_CONTROL, 0x0D);
    assert_int_equal(r.fake->host_calls, calls + 2);
    assert_false(r.fake->last.nStrobe);
    rig_free(&r);
}

typedef struct irq_log {
    int asserts, deasserts;
    unsigned irq;
    sim_time_t at;
    sim_clock *clk;
} irq_log;

static void irq_handler(void *ctx, unsigned irq, bool asserted)
{
    irq_log *l = ctx;
    l->irq = irq;
    if (asserted) {
        l->asserts++;
        l->at = sim_now(l->clk);
    } else {
        l->deasserts++;
    }
}

/* With CONTROL bit 4 set, one IRQ pulse per nAck rising edge; none without it. */
static void test_irq_on_nack_rising_edge(void **state)
{
    (void)state;
    rig r = rig_make(SIM_CHIP_SPP, true);
    irq_log log = { .clk = r.clk };
    sim_bus_set_irq_handler(r.bus, irq_handler, &log);
    sim_periph_lines l = sim_lines_pulled_up();

    l.nAck = false;
    fake_set(r.fake, l);
    l.nAck = true;
    fake_set(r.fake, l);
    assert_int_equal(log.asserts, 0);           /* enable bit clear */

    wr(&r, SIM_LPT_CONTROL, 0x0C | SIM_CTRL_IRQEN);
    sim_clock_advance(r.clk, SIM_US(3));
    l.nAck = false;
    fake_set(r.fake, l);
    assert_int_equal(log.asserts, 0);           /* falling edge: nothing */
    sim_clock_advance(r.clk, SIM_US(5));
    l.nAck = true;
    fake_set(r.fake, l);
    assert_int_equal(log.asserts, 1);
    assert_int_equal(log.deasserts, 1);
    assert_int_equal(log.irq, 7);
    assert_int_equal(log.at, sim_now(r.clk));
    fake_set(r.fake, l);                        /* no change: no edge */
    assert_int_equal(log.asserts, 1);
    assert_int_equal(sim_port_irq_count(r.port), 1);
    rig_free(&r);
}

/* Same seed, same flips; p = 0 never flips; p = 1 always flips all five lines. */
static void test_noise_deterministic(void **state)
{
    (void)state;
    uint8_t a[200], b[200], c[200];
    uint8_t *runs[3] = { a, b, c };
    uint64_t seeds[3] = { 42, 42, 43 };
    for (int run = 0; run < 3; run++) {
        rig r = rig_make(SIM_CHIP_SPP, false);
        sim_port_set_noise(r.port, 0.1, seeds[run]);
        for (int i = 0; i < 200; i++)
            runs[run][i] = rd(&r, SIM_LPT_STATUS);
        rig_free(&r);
    }
    assert_memory_equal(a, b, sizeof(a));
    assert_memory_not_equal(a, c, sizeof(a));
    int flips = 0;
    for (int i = 0; i < 200; i++) {
        uint8_t diff = a[i] ^ 0x7F;
        assert_int_equal(diff & 0x07, 0);      /* bits 2..0 are not lines */
        for (int bit = 3; bit < 8; bit++)
            flips += (diff >> bit) & 1;
    }
    /* 1000 line samples at p = 0.1: far from 0 and from 1000 */
    assert_in_range(flips, 50, 170);

    rig r = rig_make(SIM_CHIP_SPP, false);
    sim_port_set_noise(r.port, 1.0, 7);
    assert_int_equal(rd(&r, SIM_LPT_STATUS), 0x87);
    sim_port_set_noise(r.port, 0.0, 7);
    assert_int_equal(rd(&r, SIM_LPT_STATUS), 0x7F);
    rig_free(&r);
}

/* Unplugged: pull-ups, host changes held back, delivered when plugged back. */
static void test_unplug(void **state)
{
    (void)state;
    rig r = rig_make(SIM_CHIP_SPP, true);
    sim_periph_lines l = sim_lines_pulled_up();
    l.busy = false;
    l.perror = false;
    fake_set(r.fake, l);
    assert_int_equal(rd(&r, SIM_LPT_STATUS), 0xDF);
    sim_port_set_unplugged(r.port, true);
    assert_true(sim_port_unplugged(r.port));
    assert_int_equal(rd(&r, SIM_LPT_STATUS), 0x7F);
    unsigned calls = r.fake->host_calls;
    wr(&r, SIM_LPT_DATA, 0x11);
    wr(&r, SIM_LPT_DATA, 0x22);
    assert_int_equal(r.fake->host_calls, calls);
    sim_port_set_unplugged(r.port, false);
    assert_int_equal(r.fake->host_calls, calls + 1);
    assert_int_equal(r.fake->last.data, 0x22);
    assert_int_equal(rd(&r, SIM_LPT_STATUS), 0xDF);

    sim_time_t when = sim_now(r.clk) + SIM_US(10);
    sim_port_set_unplugged_at(r.port, true, when);
    sim_clock_advance_to(r.clk, when - 1);
    assert_false(sim_port_unplugged(r.port));
    sim_clock_advance_to(r.clk, when);
    assert_true(sim_port_unplugged(r.port));
    rig_free(&r);
}

/* Every register access costs the port's access time, ISA or PCIe. */
static void test_access_time_per_port(void **state)
{
    (void)state;
    sim_clock *clk = sim_clock_create();
    sim_bus *bus = sim_bus_create(clk);
    sim_port *isa = sim_port_create(bus, 0x378, 7, SIM_CHIP_PS2, SIM_US(1));
    sim_port *pcie = sim_port_create(bus, 0xD000, SIM_IRQ_NONE, SIM_CHIP_ECP, SIM_NS(250));
    assert_non_null(isa);
    assert_non_null(pcie);
    assert_null(sim_port_create(bus, 0x37C, 5, SIM_CHIP_SPP, SIM_US(1)));  /* in the span */
    assert_null(sim_port_create(bus, 0xCC00, 5, SIM_CHIP_ECP, SIM_US(1))); /* ECR window */
    assert_null(sim_port_create(bus, 0x3BE, 5, SIM_CHIP_SPP, SIM_US(1)));  /* unaligned */

    sim_time_t t0 = sim_now(clk);
    (void)sim_bus_read8(bus, 0x379);
    assert_int_equal(sim_now(clk) - t0, SIM_US(1));
    t0 = sim_now(clk);
    sim_bus_write8(bus, 0xD000, 1);
    (void)sim_bus_read8(bus, 0xD402);
    assert_int_equal(sim_now(clk) - t0, SIM_NS(500));
    t0 = sim_now(clk);
    assert_int_equal(sim_bus_read8(bus, 0xD007), 0xFF);    /* in the span, no register */
    assert_int_equal(sim_now(clk) - t0, SIM_NS(250));
    assert_int_equal(sim_port_span(pcie), 8);
    assert_int_equal(sim_port_access_ns(pcie), SIM_NS(250));
    assert_int_equal(sim_port_irq(pcie), SIM_IRQ_NONE);

    sim_port_destroy(pcie);
    assert_int_equal(sim_bus_read8(bus, 0xD402), 0xFF); /* both windows released */
    sim_port_destroy(isa);
    sim_bus_destroy(bus);
    sim_clock_destroy(clk);
}

/* Attaching replaces (and destroys) the old peripheral; destroy takes the last one. */
static void test_attach_ownership(void **state)
{
    (void)state;
    rig r = rig_make(SIM_CHIP_SPP, false);
    int gone1 = 0, gone2 = 0;
    fake_periph *f1 = fake_create(r.clk), *f2 = fake_create(r.clk);
    f1->destroyed = &gone1;
    f2->destroyed = &gone2;
    sim_port_attach(r.port, &f1->p);
    assert_int_equal(f1->host_calls, 0);  /* power-on lines are the idle lines */
    sim_bus_write8(r.bus, BASE + SIM_LPT_DATA, 0x42);
    sim_port_attach(r.port, &f2->p);
    assert_int_equal(f2->host_calls, 1);  /* told the lines that differ from idle */
    assert_int_equal(f2->last.data, 0x42);
    assert_int_equal(gone1, 1);
    assert_ptr_equal(sim_port_peripheral(r.port), &f2->p);
    rig_free(&r);
    assert_int_equal(gone2, 1);
}

#define ECR(r) ((uint16_t)(BASE + SIM_LPT_ECR))
#define FIFO(r) ((uint16_t)(BASE + SIM_LPT_ECP_FIFO))

/* Test mode: a probe measures the FIFO depth by writing until the full bit shows. */
static void test_ecp_fifo_test_mode(void **state)
{
    (void)state;
    rig r = rig_make(SIM_CHIP_ECP, false);
    sim_bus_write8(r.bus, ECR(r), SIM_ECR_MODE_TEST);
    assert_int_equal(sim_bus_read8(r.bus, ECR(r)), 0xC1);
    unsigned depth = 0;
    while (!(sim_bus_read8(r.bus, ECR(r)) & SIM_ECR_FULL) && depth < 100)
        sim_bus_write8(r.bus, FIFO(r), (uint8_t)(0xA0 + depth++));
    assert_int_equal(depth, SIM_ECP_FIFO_DEPTH);
    assert_int_equal(sim_bus_read8(r.bus, ECR(r)), 0xC2);
    sim_bus_write8(r.bus, FIFO(r), 0x55);                 /* full: lost */
    for (unsigned i = 0; i < depth; i++)
        assert_int_equal(sim_bus_read8(r.bus, FIFO(r)), 0xA0 + i);
    assert_int_equal(sim_bus_read8(r.bus, ECR(r)), 0xC1);
    /* leaving for mode 000 empties it */
    sim_bus_write8(r.bus, FIFO(r), 1);
    sim_bus_write8(r.bus, ECR(r), SIM_ECR_MODE_SPP);
    assert_int_equal(sim_port_fifo_level(r.port), 0);
    sim_bus_write8(r.bus, FIFO(r), 1);                    /* mode 000: no FIFO */
    assert_int_equal(sim_bus_read8(r.bus, ECR(r)), 0x01);
    rig_free(&r);
}

/* Mode 010 prints through the FIFO with the chip doing the handshake. */
static void test_ecp_fifo_compat_mode(void **state)
{
    (void)state;
    rig r = rig_make(SIM_CHIP_ECP, false);
    sim_printer *pr = sim_printer_create(r.clk, NULL);
    sim_port_attach(r.port, sim_printer_peripheral(pr));
    sim_bus_write8(r.bus, ECR(r), SIM_ECR_MODE_FIFO);
    const char *msg = "HELLO, FIFO";
    for (const char *c = msg; *c; c++)
        sim_bus_write8(r.bus, FIFO(r), (uint8_t)*c);
    assert_int_equal(sim_bus_read8(r.bus, ECR(r)) & SIM_ECR_EMPTY, 0);
    sim_clock_advance(r.clk, SIM_MS(1));
    const uint8_t *rx;
    assert_int_equal(sim_printer_received(pr, &rx), strlen(msg));
    assert_memory_equal(rx, msg, strlen(msg));
    assert_int_equal(sim_printer_lost_strobes(pr), 0);
    assert_int_equal(sim_port_fifo_sent(r.port), strlen(msg));
    assert_int_equal(sim_bus_read8(r.bus, ECR(r)), 0x41);
    assert_true(sim_port_host_lines(r.port).nStrobe);
    rig_free(&r);
}

/* The engine waits for Busy low: with nothing attached Busy floats high. */
static void test_ecp_fifo_waits_for_busy(void **state)
{
    (void)state;
    rig r = rig_make(SIM_CHIP_ECP, true);
    sim_periph_lines l = sim_lines_pulled_up();   /* Busy high */
    fake_set(r.fake, l);
    sim_bus_write8(r.bus, ECR(r), SIM_ECR_MODE_FIFO);
    sim_bus_write8(r.bus, FIFO(r), 0x42);
    unsigned calls = r.fake->host_calls;
    sim_clock_advance(r.clk, SIM_US(100));
    assert_int_equal(r.fake->host_calls, calls);
    assert_int_equal(sim_port_fifo_level(r.port), 1);

    l.busy = false;
    sim_time_t t = sim_now(r.clk);
    fake_set(r.fake, l);                           /* Busy drops: the byte goes */
    assert_int_equal(r.fake->last.data, 0x42);
    assert_true(r.fake->last.nStrobe);
    sim_clock_advance_to(r.clk, t + SIM_NS(500));
    assert_false(r.fake->last.nStrobe);
    sim_clock_advance_to(r.clk, t + SIM_NS(1000));
    assert_true(r.fake->last.nStrobe);
    assert_int_equal(sim_port_fifo_level(r.port), 0);
    rig_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pullups_and_reset_state),
        cmocka_unit_test(test_status_inversion),
        cmocka_unit_test(test_control_lines),
        cmocka_unit_test(test_spp_control_and_data),
        cmocka_unit_test(test_ps2_reverse),
        cmocka_unit_test(test_ecp_ecr),
        cmocka_unit_test(test_ecp_config_mode),
        cmocka_unit_test(test_host_changed_exactly_on_change),
        cmocka_unit_test(test_irq_on_nack_rising_edge),
        cmocka_unit_test(test_noise_deterministic),
        cmocka_unit_test(test_unplug),
        cmocka_unit_test(test_access_time_per_port),
        cmocka_unit_test(test_attach_ownership),
        cmocka_unit_test(test_ecp_fifo_test_mode),
        cmocka_unit_test(test_ecp_fifo_compat_mode),
        cmocka_unit_test(test_ecp_fifo_waits_for_busy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
