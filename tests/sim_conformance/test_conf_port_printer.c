/*
 * test_conf_port_printer.c — DL1.md section 10 (printer model) and section 11 (port
 * registers), at register level with exact instants, including the printer seen
 * through a DL-1 in PASS-THROUGH.
 */
#include "conf.h"

#define B RIG_BASE

typedef struct prig {
    sim_clock *clk;
    sim_bus *bus;
    sim_port *port;
    sim_printer *pr;
} prig;

static prig prig_up(sim_chip_kind chip, const sim_printer_config *cfg)
{
    prig r;
    r.clk = sim_clock_create();
    r.bus = sim_bus_create(r.clk);
    r.port = sim_port_create(r.bus, B, 7, chip, SIM_US(1));
    assert_non_null(r.port);
    r.pr = cfg ? sim_printer_create(r.clk, cfg) : NULL;
    if (r.pr)
        sim_port_attach(r.port, sim_printer_peripheral(r.pr));
    return r;
}

static void prig_down(prig *r)
{
    sim_port_destroy(r->port);
    sim_bus_destroy(r->bus);
    sim_clock_destroy(r->clk);
}

static uint8_t st(prig *r) { return sim_bus_read8(r->bus, B + 1); }
static void ctl(prig *r, uint8_t v) { sim_bus_write8(r->bus, B + 2, v); }

/* One byte: data, strobe low (returns the falling edge), strobe high. */
static sim_time_t pstrobe(prig *r, uint8_t b)
{
    sim_bus_write8(r->bus, B, b);
    ctl(r, CT_NINIT | CT_SELECTIN | CT_STROBE);
    sim_time_t fall = sim_now(r->clk);
    ctl(r, CT_NINIT | CT_SELECTIN);
    return fall;
}

/* Section 10: Busy from the falling edge for tPRN = 10 us, nAck low for its last 5 us;
   a strobe while Busy is lost; the status bytes of every printer state. */
static void test_printer_cycle_and_states(void **state)
{
    sim_printer_config cfg = { 0 };
    prig r = prig_up(SIM_CHIP_SPP, &cfg);
    (void)state;

    assert_int_equal(st(&r), 0xDF);
    sim_time_t fall = pstrobe(&r, 'A');
    assert_int_equal(st(&r), 0x5F);
    sim_clock_advance_to(r.clk, fall + SIM_US(5) - 1);
    assert_true(sim_port_periph_lines(r.port).nAck);
    sim_clock_advance_to(r.clk, fall + SIM_US(5));
    assert_false(sim_port_periph_lines(r.port).nAck);
    assert_true(sim_port_periph_lines(r.port).busy);
    pstrobe(&r, 'B');                                           /* while Busy: lost */
    sim_clock_advance_to(r.clk, fall + SIM_US(10) - 1);
    assert_false(sim_port_periph_lines(r.port).nAck);
    sim_clock_advance_to(r.clk, fall + SIM_US(10));
    assert_int_equal(st(&r), 0xDF);
    assert_int_equal(sim_printer_lost_strobes(r.pr), 1);
    const uint8_t *got;
    assert_int_equal(sim_printer_received(r.pr, &got), 1);
    assert_int_equal(got[0], 'A');
    sim_printer_set_state(r.pr, SIM_PRINTER_OFFLINE);
    assert_int_equal(st(&r), 0x47);
    sim_printer_set_state(r.pr, SIM_PRINTER_POWERED_OFF);
    assert_int_equal(st(&r), 0x87);
    sim_printer_set_state(r.pr, SIM_PRINTER_BUSY);
    assert_int_equal(st(&r), 0x5F);
    sim_printer_set_state(r.pr, SIM_PRINTER_ONLINE);
    assert_int_equal(st(&r), 0xDF);
    prig_down(&r);
}

/* Section 10: paper out after a count; the byte reaching the count is taken normally
   (full Busy/nAck cycle), then 0x67 and later strobes are lost. */
static void test_paper_out_after_count(void **state)
{
    sim_printer_config cfg = { .paper_out_after = 2 };
    prig r = prig_up(SIM_CHIP_SPP, &cfg);
    (void)state;

    pstrobe(&r, '1');
    sim_clock_advance(r.clk, SIM_US(20));
    sim_time_t fall = pstrobe(&r, '2');
    sim_clock_advance_to(r.clk, fall + SIM_US(5));
    assert_int_equal(st(&r) & 0x40, 0);                         /* its nAck pulse */
    sim_clock_advance_to(r.clk, fall + SIM_US(10) - 1);
    assert_int_equal(sim_printer_get_state(r.pr), SIM_PRINTER_ONLINE);
    sim_clock_advance_to(r.clk, fall + SIM_US(10));
    assert_int_equal(st(&r), 0x67);
    pstrobe(&r, '3');
    assert_int_equal(sim_printer_received(r.pr, NULL), 2);
    assert_int_equal(sim_printer_lost_strobes(r.pr), 1);
    prig_down(&r);
}

/* Section 10: the 4 KiB buffer; full, the printer stays Busy until one byte has
   drained at 2 KiB/s (1/2048 s); nInit low >= 50 us empties it, 49 us does not. */
static void test_buffer_and_reset(void **state)
{
    sim_printer_config cfg = { 0 };
    prig r = prig_up(SIM_CHIP_SPP, &cfg);
    (void)state;

    sim_time_t first = 0, fall = 0;
    for (unsigned i = 0; i < 4096; i++) {
        while (!(st(&r) & 0x80))
            ;
        fall = pstrobe(&r, (uint8_t)i);
        if (i == 0)
            first = fall;
    }
    /* Drained so far: floor((fall - first) * 2048 / 1 s) bytes. */
    uint64_t drained = (fall - first) * 2048u / SIM_S(1);
    assert_int_equal(sim_printer_buffer_level(r.pr), 4096 - drained);
    sim_clock_advance(r.clk, SIM_US(20));
    assert_true(sim_printer_buffer_level(r.pr) > 0);
    ctl(&r, CT_SELECTIN);
    sim_time_t t = sim_now(r.clk);
    sim_clock_advance_to(r.clk, t + SIM_US(48));
    ctl(&r, CT_SELECTIN | CT_NINIT);                            /* 49 us */
    assert_int_equal(sim_printer_resets(r.pr), 0);
    ctl(&r, CT_SELECTIN);
    t = sim_now(r.clk);
    sim_clock_advance_to(r.clk, t + SIM_US(50) - 1);
    assert_int_equal(sim_printer_resets(r.pr), 0);
    sim_clock_advance_to(r.clk, t + SIM_US(50));
    assert_int_equal(sim_printer_resets(r.pr), 1);
    assert_int_equal(sim_printer_buffer_level(r.pr), 0);
    ctl(&r, CT_SELECTIN | CT_NINIT);
    assert_int_equal(st(&r), 0xDF);
    prig_down(&r);

    /* A full buffer: the 4096th byte keeps Busy until a byte drained. */
    sim_printer_config fast = { .buffer_size = 4, .drain_bytes_per_s = 1000 };
    r = prig_up(SIM_CHIP_SPP, &fast);
    first = pstrobe(&r, 0);
    for (unsigned i = 1; i < 4; i++) {
        sim_clock_advance(r.clk, SIM_US(20));
        fall = pstrobe(&r, (uint8_t)i);
    }
    /* level 4 = full: Busy until first + 1 ms (one byte at 1000 B/s). */
    sim_clock_advance_to(r.clk, first + SIM_MS(1) - 1);
    assert_true(sim_port_periph_lines(r.port).busy);
    sim_clock_advance_to(r.clk, first + SIM_MS(1));
    assert_false(sim_port_periph_lines(r.port).busy);
    assert_int_equal(st(&r), 0xDF);
    prig_down(&r);
}

/* Section 11: STATUS bits 2..0 and CONTROL bits 7..6 read 1; the direction bit does
   nothing on an SPP and works on an ECP chip only in ECR mode 001. */
static void test_register_semantics(void **state)
{
    (void)state;
    static const sim_chip_kind chips[] = { SIM_CHIP_SPP, SIM_CHIP_PS2, SIM_CHIP_ECP };

    for (unsigned c = 0; c < 3; c++) {
        prig r = prig_up(chips[c], NULL);
        assert_int_equal(st(&r), 0x7F);                         /* pull-ups, bits 2..0 */
        assert_int_equal(sim_bus_read8(r.bus, B + 2) & 0xC0, 0xC0);
        assert_int_equal(sim_bus_read8(r.bus, B + 2) & 0x1F, CT_NINIT | CT_SELECTIN);
        sim_bus_write8(r.bus, B, 0x00);
        ctl(&r, CT_NINIT | CT_DIR);
        sim_host_lines l = sim_port_host_lines(r.port);
        bool reverses = chips[c] == SIM_CHIP_PS2;
        assert_int_equal(l.data_driven, !reverses);
        assert_int_equal(sim_bus_read8(r.bus, B), reverses ? 0xFF : 0x00);
        assert_true(l.nStrobe && l.nAutoFd && l.nInit && l.nSelectIn);
        ctl(&r, CT_STROBE | CT_AUTOFD | CT_SELECTIN);
        l = sim_port_host_lines(r.port);
        assert_true(!l.nStrobe && !l.nAutoFd && !l.nInit && !l.nSelectIn);
        if (chips[c] == SIM_CHIP_ECP) {
            static const uint8_t modes[] = { 0x00, 0x20, 0x40, 0x60, 0xC0 };
            for (unsigned m = 0; m < sizeof modes; m++) {
                sim_bus_write8(r.bus, B + 0x402, modes[m]);
                assert_int_equal(sim_bus_read8(r.bus, B + 0x402) & 0xE0, modes[m]);
                ctl(&r, CT_NINIT | CT_DIR);
                assert_int_equal(sim_port_reverse(r.port), modes[m] == 0x20);
            }
        } else {
            assert_int_equal(sim_bus_read8(r.bus, B + 0x402), 0xFF);   /* no ECR */
        }
        prig_down(&r);
    }
}

/* Section 2: in PASS-THROUGH the host sees the printer's status (0xDF), bytes reach
   it, and a key in a session shows its own lines while the printer sees idle ones. */
static void test_printer_behind_key(void **state)
{
    rig r;
    const uint8_t *got;
    (void)state;

    rig_up(&r, SIM_CHIP_SPP, SIM_US(1), true);
    assert_int_equal(refhost_status(&r.h), 0xDF);
    sim_printer_set_state(r.pr, SIM_PRINTER_PAPER_OUT);
    assert_int_equal(refhost_status(&r.h), 0x67);
    sim_printer_set_state(r.pr, SIM_PRINTER_ONLINE);
    assert_int_equal(refhost_print(&r.h, (const uint8_t *)"ok", 2), RH_OK);
    sim_clock_advance(r.clk, SIM_US(20));
    assert_int_equal(sim_printer_received(r.pr, &got), 2);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    assert_int_equal(refhost_status(&r.h), R_FWD_IDLE);
    sim_printer_set_state(r.pr, SIM_PRINTER_OFFLINE);
    assert_int_equal(refhost_status(&r.h), R_FWD_IDLE);
    assert_int_equal(refhost_close(&r.h), RH_OK);
    assert_int_equal(refhost_status(&r.h), 0x47);
    rig_down(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_printer_cycle_and_states),
        cmocka_unit_test(test_paper_out_after_count),
        cmocka_unit_test(test_buffer_and_reset),
        cmocka_unit_test(test_register_semantics),
        cmocka_unit_test(test_printer_behind_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
