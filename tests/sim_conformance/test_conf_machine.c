/*
 * test_conf_machine.c — machines/README.md against the parser: comment styles,
 * defaults of every setting, the key and printer settings reaching the built models,
 * and errors naming file, line and problem.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/machine.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/conf_machine_XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    char st[128];
    snprintf(st, sizeof st, "%s/state", dir);
    setenv("DONGLPT_STATE_DIR", st, 1);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *desc(const char *text)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/m.ini", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static sim_machine *load_ok(const char *text)
{
    char err[512] = "";
    sim_machine *m = NULL;
    if (sim_machine_load(desc(text), &m, err, sizeof err) != 0)
        fail_msg("load: %s", err);
    return m;
}

static uint8_t status(sim_machine *m, uint16_t base)
{
    return sim_bus_read8(sim_machine_bus(m), (uint16_t)(base + 1));
}

/* Comments (';' and '#' lines, inline ' ;'), and every documented default: irq none,
   chip spp, bus isa (1 us), attach none (pull-ups). */
static void test_comments_and_defaults(void **state)
{
    (void)state;
    sim_machine *m = load_ok("# hash comment\n; semicolon comment\n[P]\n"
                             "base = 0x278   ; inline comment\n");
    sim_port_info info;
    assert_int_equal(sim_machine_port_info(m, 0, &info), 0);
    assert_int_equal(info.base, 0x278);
    assert_int_equal(info.span, 8);
    assert_int_equal(info.irq, SIM_IRQ_NONE);
    assert_int_equal(info.chip, SIM_CHIP_SPP);
    assert_int_equal(info.access_ns, SIM_US(1));
    assert_int_equal(info.attach, SIM_ATTACH_NONE);
    sim_time_t t = sim_now(sim_machine_clock(m));
    assert_int_equal(status(m, 0x278), 0x7F);
    assert_int_equal(sim_now(sim_machine_clock(m)) - t, SIM_US(1));
    sim_machine_destroy(m);
}

/* key.answer_ns and key.slow_factor reach the key: Event 2 comes answer_ns x k after
   Event 1; the key is NOT-READY for the first 100 ms of machine time. */
static void test_key_settings_applied(void **state)
{
    (void)state;
    sim_machine *m = load_ok("[K]\nbase = 0x378\nchip = ps2\nattach = key\nkey.image = none\n"
                             "key.serial = 0102030405060708\nkey.secret = "
                             "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
                             "key.answer_ns = 300\nkey.slow_factor = 2\n");
    sim_clock *clk = sim_machine_clock(m);
    sim_bus *bus = sim_machine_bus(m);
    sim_key *k = sim_machine_key(m, 0);
    assert_non_null(k);
    sim_clock_advance_to(clk, SIM_MS(100) - 1);
    assert_int_equal(sim_key_get_state(k), SIM_KEY_NOT_READY);
    sim_clock_advance_to(clk, SIM_MS(100));
    assert_int_equal(sim_key_get_state(k), SIM_KEY_PASS_THROUGH);
    sim_bus_write8(bus, 0x378, 0x80);
    sim_bus_write8(bus, 0x37A, 0x06);                          /* Event 1 */
    sim_time_t t1 = sim_now(clk);
    sim_port *port = sim_machine_port(m, 0);
    sim_clock_advance_to(clk, t1 + SIM_NS(600) - 1);
    assert_true(sim_port_periph_lines(port).nAck);
    sim_clock_advance_to(clk, t1 + SIM_NS(600));
    assert_false(sim_port_periph_lines(port).nAck);
    sim_machine_destroy(m);
}

/* printer.paper_out_after, printer.buffer and printer.drain_bps reach the printer. */
static void test_printer_settings_applied(void **state)
{
    (void)state;
    sim_machine *m = load_ok("[P]\nbase = 0x278\nattach = printer\nprinter.paper_out_after = 1\n"
                             "printer.buffer = 8\nprinter.drain_bps = 100\n");
    sim_bus *bus = sim_machine_bus(m);
    assert_int_equal(status(m, 0x278), 0xDF);
    sim_bus_write8(bus, 0x278, 'x');
    sim_bus_write8(bus, 0x27A, 0x0D);
    sim_bus_write8(bus, 0x27A, 0x0C);
    sim_clock_advance(sim_machine_clock(m), SIM_US(20));
    assert_int_equal(status(m, 0x278), 0x67);                  /* paper out after 1 */
    sim_printer *pr = sim_machine_printer(m, 0);
    assert_int_equal(sim_printer_buffer_level(pr), 1);
    sim_clock_advance(sim_machine_clock(m), SIM_MS(10));       /* 100 B/s: 1 byte */
    assert_int_equal(sim_printer_buffer_level(pr), 0);
    sim_machine_destroy(m);
}

/* Errors name file, line and problem; key.create = no with a missing image fails. */
static void test_error_format(void **state)
{
    (void)state;
    char err[512] = "";
    sim_machine *m = NULL;
    const char *path = desc("[K]\nbase = 0x378\nattach = key\nkey.image = missing.img\n"
                            "key.create = no\n");
    assert_int_equal(sim_machine_load(path, &m, err, sizeof err), -1);
    assert_null(m);
    char want[256];
    snprintf(want, sizeof want, "%s:4: [K] key: ", path);
    if (strncmp(err, want, strlen(want)) != 0 || !strstr(err, "does not exist"))
        fail_msg("got \"%s\"", err);
    path = desc("[K]\nbase = 0x378\naccess_ns = 0\n");
    assert_int_equal(sim_machine_load(path, &m, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s:3: bad access_ns '0'", path);
    if (strncmp(err, want, strlen(want)) != 0)
        fail_msg("got \"%s\"", err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_comments_and_defaults),
        cmocka_unit_test(test_key_settings_applied),
        cmocka_unit_test(test_printer_settings_applied),
        cmocka_unit_test(test_error_format),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
