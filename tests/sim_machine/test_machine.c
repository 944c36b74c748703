/*
 * test_machine.c — machine descriptions: the default machine (ports, chips, what is
 * attached, the demo key, ${STATE}), every class of description error reported as
 * "file:line: problem" with nothing built, paths, access time, unplug, trace, noise.
 *
 * Every test points DONGLPT_STATE_DIR (or XDG_STATE_HOME) at a fresh temporary
 * directory, so nothing touches the user's real key state.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "sim/machine.h"
#include "sim/trace.h"

typedef struct fixture {
    char dir[64];       /* scratch directory: descriptions and the state dir live here */
    char state[96];
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/sim_machine_XXXXXX");
    if (!mkdtemp(fx->dir))
        return -1;
    snprintf(fx->state, sizeof(fx->state), "%s/state", fx->dir);
    setenv("DONGLPT_STATE_DIR", fx->state, 1);
    unsetenv("DONGLPT_MACHINE");
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
    if (system(cmd) != 0)
        return -1;
    free(fx);
    return 0;
}

/* Write text as <dir>/<name> and return its path (static buffer). */
static const char *write_desc(fixture *fx, const char *name, const char *text)
{
    static char path[160];
    snprintf(path, sizeof(path), "%s/%s", fx->dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* Load must fail with exactly "<path>:<line>: " followed by text containing `what`. */
static void expect_error(fixture *fx, const char *text, int line, const char *what)
{
    const char *path = write_desc(fx, "bad.ini", text);
    char err[512] = "";
    sim_machine *m = (sim_machine *)1;
    assert_int_equal(sim_machine_load(path, &m, err, sizeof(err)), -1);
    assert_null(m);
    char prefix[200];
    snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
    if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, what))
        fail_msg("got \"%s\", want prefix \"%s\" and \"%s\"", err, prefix, what);
}

static uint8_t status(sim_machine *m, unsigned port)
{
    sim_port_info info;
    assert_int_equal(sim_machine_port_info(m, port, &info), 0);
    return sim_bus_read8(sim_machine_bus(m), (uint16_t)(info.base + SIM_LPT_STATUS));
}

static void test_default_machine(void **state)
{
    fixture *fx = *state;
    char err[512] = "";
    sim_machine *m = NULL;
    if (sim_machine_load(sim_machine_default_path(), &m, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_int_equal(sim_machine_port_count(m), 3);
    assert_int_equal(sim_now(sim_machine_clock(m)), 0);

    static const struct { const char *name; uint16_t base; int irq; sim_chip_kind chip;
                          sim_attach_kind attach; } want[] = {
        { "LPT1", 0x378, 7, SIM_CHIP_PS2, SIM_ATTACH_KEY_PRINTER },
        { "LPT2", 0x278, 5, SIM_CHIP_SPP, SIM_ATTACH_PRINTER },
        { "LPT3", 0x3BC, 7, SIM_CHIP_ECP, SIM_ATTACH_NONE },
    };
    for (unsigned i = 0; i < 3; i++) {
        sim_port_info info;
        assert_int_equal(sim_machine_port_info(m, i, &info), 0);
        assert_string_equal(info.name, want[i].name);
        assert_int_equal(info.base, want[i].base);
        assert_int_equal(info.span, want[i].base == 0x3BC ? 4 : 8);
        assert_int_equal(info.irq, want[i].irq);
        assert_int_equal(info.chip, want[i].chip);
        assert_int_equal(info.attach, want[i].attach);
        assert_int_equal(info.access_ns, SIM_US(1));
        assert_int_equal(sim_machine_find_port(m, want[i].name), (int)i);
    }
    assert_int_equal(sim_machine_find_port(m, "lpt2"), 1);
    assert_int_equal(sim_machine_find_port(m, "LPT9"), -1);
    assert_int_equal(sim_machine_port_info(m, 3, &(sim_port_info){ 0 }), -1);

    assert_non_null(sim_machine_key(m, 0));
    assert_non_null(sim_machine_printer(m, 0));
    assert_null(sim_machine_key(m, 1));
    assert_non_null(sim_machine_printer(m, 1));
    assert_null(sim_machine_key(m, 2));
    assert_null(sim_machine_printer(m, 2));
    assert_null(sim_machine_port(m, 3));

    /* The demo key: documented serial and the secret of machines/demo.key. */
    uint8_t serial[8], secret[32];
    sim_key_serial(sim_machine_key(m, 0), serial);
    sim_key_secret(sim_machine_key(m, 0), secret);
    assert_memory_equal(serial, "\x44\x4C\x31\x00\x00\x00\x00\x01", 8);
    assert_memory_equal(secret, "DL1-demo-key-secret-DongLpt-0001", 32);

    /* ${STATE}: the image lives in the state directory, created on demand. */
    sim_port_info info;
    sim_machine_port_info(m, 0, &info);
    char img[160];
    snprintf(img, sizeof(img), "%s/lpt1-dl1.img", fx->state);
    assert_string_equal(info.key_image, img);
    struct stat st;
    assert_int_equal(stat(img, &st), 0);

    /* At power-up the key passes the printer through; LPT3 has only pull-ups. */
    assert_int_equal(status(m, 0), 0xDF);
    assert_int_equal(status(m, 1), 0xDF);
    assert_int_equal(status(m, 2), 0x7F);
    sim_bus *bus = sim_machine_bus(m);
    sim_bus_write8(bus, 0x3BC + SIM_LPT_ECR, 0x34);
    assert_int_equal(sim_bus_read8(bus, 0x3BC + SIM_LPT_ECR), 0x35);
    assert_int_equal(sim_bus_read8(bus, 0x378 + SIM_LPT_ECR), 0xFF);  /* PS/2: no ECR */
    sim_machine_destroy(m);

    /* The image persists: loading again uses it. */
    assert_int_equal(sim_machine_load(sim_machine_default_path(), &m, err, sizeof(err)), 0);
    sim_key_stats ks;
    sim_key_get_stats(sim_machine_key(m, 0), &ks);
    assert_int_equal(ks.image_writes, 0);
    sim_machine_destroy(m);
}

/* ${STATE} falls back to $XDG_STATE_HOME/donglpt. */
static void test_state_dir_fallbacks(void **state)
{
    fixture *fx = *state;
    char buf[256], err[256], want[200];
    unsetenv("DONGLPT_STATE_DIR");
    setenv("XDG_STATE_HOME", fx->dir, 1);
    assert_int_equal(sim_machine_state_dir(buf, sizeof(buf), true, err, sizeof(err)), 0);
    snprintf(want, sizeof(want), "%s/donglpt", fx->dir);
    assert_string_equal(buf, want);
    struct stat st;
    assert_int_equal(stat(want, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    unsetenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    char *saved_home = home ? strdup(home) : NULL;
    setenv("HOME", "/home/nobody-here", 1);
    assert_int_equal(sim_machine_state_dir(buf, sizeof(buf), false, err, sizeof(err)), 0);
    assert_string_equal(buf, "/home/nobody-here/.local/state/donglpt");
    if (saved_home)
        setenv("HOME", saved_home, 1);
    else
        unsetenv("HOME");
    free(saved_home);
    setenv("DONGLPT_STATE_DIR", fx->state, 1);
}

static void test_default_path_override(void **state)
{
    (void)state;
    assert_non_null(strstr(sim_machine_default_path(), "machines/default.ini"));
    setenv("DONGLPT_MACHINE", "/x/y.ini", 1);
    assert_string_equal(sim_machine_default_path(), "/x/y.ini");
    unsetenv("DONGLPT_MACHINE");
}

static void test_errors(void **state)
{
    fixture *fx = *state;
    expect_error(fx, "[LPT1]\nbase = 0x378\nbse = 1\n", 3, "unknown setting 'bse' in [LPT1]");
    expect_error(fx, "[LPT1]\nbase = 0x37G\n", 2, "bad base '0x37G'");
    expect_error(fx, "[LPT1]\nbase = 888x\n", 2, "bad base");
    expect_error(fx, "; c\n[LPT1]\nbase = 0x378\nchip = epp\n", 4, "unknown chip 'epp'");
    expect_error(fx, "[LPT1]\nbase = 0x378\n[LPT2]\nbase = 0x37C\n", 4,
                 "[LPT2] registers overlap [LPT1] (line 2)");
    /* an ECP port's ECR window (0x778..0x77A) collides with another port */
    expect_error(fx, "[A]\nbase = 0x378\nchip = ecp\n[B]\nbase = 0x778\n", 5, "overlap [A]");
    /* 0x3BC spans 4 registers: a port right after it fits */
    expect_error(fx, "[A]\nbase = 0x3BC\n[B]\nbase = 0x3C0\n[C]\nbase = 0x3C4\n", 6,
                 "[C] registers overlap [B] (line 4)");
    expect_error(fx, "[LPT1]\nbase = 0x379\n", 2, "must be a multiple of 4");
    expect_error(fx, "[LPT1]\nirq = 7\n", 1, "[LPT1] has no base");
    expect_error(fx, "[LPT1]\nbase = 0x378\n\n[LPT2]\n", 4, "section has no settings");
    expect_error(fx, "[LPT1]\nbase = 0x378\nthis is not ini\n", 3, "syntax error");
    expect_error(fx, "base = 0x378\n", 1, "outside a [port] section");
    expect_error(fx, "[LPT1]\nbase = 0x378\n[LPT2]\nbase = 0x278\n[lpt1]\nbase = 0x3BC\n", 5,
                 "duplicate port [lpt1] (first at line 1)");
    expect_error(fx, "[LPT 1]\nbase = 0x378\n", 1, "bad port name");
    expect_error(fx, "[LPT1]\nbase = 0x378\nirq = 16\n", 3, "bad irq '16'");
    expect_error(fx, "[LPT1]\nbase = 0x378\nbus = isa\naccess_ns = 250\n", 4,
                 "access time given twice (line 3)");
    expect_error(fx, "[LPT1]\nbase = 0x378\nbus = vlb\n", 3, "unknown bus 'vlb'");
    expect_error(fx, "[LPT1]\nbase = 0x378\nattach = modem\n", 3, "unknown attach 'modem'");
    expect_error(fx, "[LPT1]\nbase = 0x378\nattach = printer\nkey.image = none\n", 4,
                 "key.* setting but [LPT1] has no key (attach = printer)");
    expect_error(fx, "[LPT1]\nbase = 0x378\nprinter.buffer = 10\n", 3,
                 "printer.* setting but [LPT1] has no printer (attach = none)");
    expect_error(fx, "[LPT1]\nbase = 0x378\nattach = key\n", 3, "needs key.image");
    expect_error(fx, "[LPT1]\nbase = 0x378\nattach = key\nkey.image = k.img\n", 4,
                 "needs key.serial and key.secret");
    expect_error(fx, "[LPT1]\nbase = 0x378\nattach = key\nkey.secret = 00ff\n", 4,
                 "bad key.secret (64 hex digits");
    expect_error(fx, "[LPT1]\nbase = 0x378\nattach = key\nkey.serial = 0123456789abcdeg\n", 4,
                 "bad key.serial");
    expect_error(fx, "[LPT1]\nbase = 0x378\nattach = key\nkey.secret_file = nope.key\n", 4,
                 "nope.key: No such file");
    expect_error(fx, "[LPT1]\nbase = 0x378\nattach = key\nkey.image = ${HOME}/k.img\n", 4,
                 "unknown variable");
    expect_error(fx, "[LPT1]\nbase = 0x378\nattach = key+printer\nkey.color = red\n", 4,
                 "unknown setting 'key.color'");
    expect_error(fx, "[LPT1]\nbase = 0x378\nnoise = 1.5\n", 3, "bad noise '1.5'");
    expect_error(fx, "[LPT1]\nbase = 0x10000\n", 2, "bad base");
    expect_error(fx, "[LPT1]\nbase = 0xFD00\nchip = ecp\n", 2, "beyond port 0xFFFF");
    expect_error(fx, "", 1, "no ports described");
    /* a byte order mark does not hide the first header's line */
    expect_error(fx, "\xEF\xBB\xBF[LPT1]\n\nirq = 7\n", 1, "[LPT1] has no base");

    char longline[400];
    memset(longline, 'x', sizeof(longline));
    snprintf(longline, sizeof(longline), "[LPT1]\nbase = 0x378\n; %0300d\n", 0);
    expect_error(fx, longline, 3, "line too long");
}

/* The first error wins, even when a syntax error comes later. */
static void test_first_error_reported(void **state)
{
    fixture *fx = *state;
    expect_error(fx, "[LPT1]\nbase = zz\nnot ini at all\n", 2, "bad base");
    expect_error(fx, "[LPT1]\nnot ini at all\nbase = zz\n", 2, "syntax error");
}

/* A key that cannot be built (missing image, create = no; corrupt image) fails the
   whole load with the key setting's line. */
static void test_key_build_errors(void **state)
{
    fixture *fx = *state;
    expect_error(fx, "[LPT1]\nbase = 0x378\nattach = key+printer\nkey.image = missing.img\n"
                     "key.create = no\n", 4, "[LPT1] key:");

    char img[160];
    snprintf(img, sizeof(img), "%s/corrupt.img", fx->dir);
    FILE *f = fopen(img, "w");
    fputs("this is not a key image", f);
    fclose(f);
    expect_error(fx, "[LPT2]\nbase = 0x278\nattach = printer\n"
                     "[LPT1]\nbase = 0x378\nattach = key\nkey.image = corrupt.img\n"
                     "key.create = no\n", 7, "corrupt.img");
}

static const char two_ports[] =
    "[FAST]\n"
    "base = 0xD000\n"
    "irq = none\n"
    "chip = ecp\n"
    "bus = pcie\n"
    "attach = key+printer\n"
    "key.image = keys.img   ; relative to this file\n"
    "key.serial = 0102030405060708\n"
    "key.secret = 000102030405060708090a0b0c0d0e0f 101112131415161718191a1b1c1d1e1f\n"
    "key.answer_ns = 800\n"
    "printer.paper_out_after = 2\n"
    "[SLOW]\n"
    "base = 888\n"
    "access_ns = 2000\n"
    "attach = printer\n"
    "noise = 0.25\n"
    "noise_seed = 99\n";

/* Settings reach the built machine: relative path, PCIe access time, volatile key. */
static void test_settings_applied(void **state)
{
    fixture *fx = *state;
    const char *path = write_desc(fx, "two.ini", two_ports);
    char err[512] = "";
    sim_machine *m = NULL;
    if (sim_machine_load(path, &m, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    sim_port_info info;
    sim_machine_port_info(m, 0, &info);
    char img[160];
    snprintf(img, sizeof(img), "%s/keys.img", fx->dir);
    assert_string_equal(info.key_image, img);
    assert_int_equal(info.irq, SIM_IRQ_NONE);
    assert_int_equal(info.access_ns, SIM_NS(250));
    sim_machine_port_info(m, 1, &info);
    assert_int_equal(info.base, 888);
    assert_int_equal(info.chip, SIM_CHIP_SPP);
    assert_null(info.key_image);

    sim_clock *clk = sim_machine_clock(m);
    sim_bus *bus = sim_machine_bus(m);
    sim_time_t t0 = sim_now(clk);
    (void)sim_bus_read8(bus, 0xD001);
    assert_int_equal(sim_now(clk) - t0, SIM_NS(250));
    t0 = sim_now(clk);
    (void)sim_bus_read8(bus, 888 + 1);
    assert_int_equal(sim_now(clk) - t0, SIM_NS(2000));
    sim_machine_destroy(m);
}

/* Noise from the description is reproducible: two loads read the same statuses. */
static void test_noise_from_description(void **state)
{
    fixture *fx = *state;
    const char *path = write_desc(fx, "two.ini", two_ports);
    uint8_t runs[2][64];
    for (int run = 0; run < 2; run++) {
        char err[512];
        sim_machine *m = NULL;
        assert_int_equal(sim_machine_load(path, &m, err, sizeof(err)), 0);
        for (int i = 0; i < 64; i++)
            runs[run][i] = status(m, 1);
        sim_machine_destroy(m);
    }
    assert_memory_equal(runs[0], runs[1], 64);
    int not_idle = 0;
    for (int i = 0; i < 64; i++)
        not_idle += runs[0][i] != 0xDF;
    assert_in_range(not_idle, 20, 63);   /* 1 - 0.75^5 = 76% of reads disturbed */
}

/* Unplugging the cable shows pull-ups; plugging back powers the key up again. */
static void test_unplug_and_trace(void **state)
{
    fixture *fx = *state;
    char err[512];
    sim_machine *m = NULL;
    assert_int_equal(sim_machine_load(sim_machine_default_path(), &m, err, sizeof(err)), 0);
    char vcd[160];
    snprintf(vcd, sizeof(vcd), "%s/lpt1.vcd", fx->dir);
    assert_int_equal(sim_machine_trace_start(m, 0, vcd, err, sizeof(err)), 0);
    assert_int_equal(sim_machine_trace_start(m, 7, vcd, err, sizeof(err)), -1);

    assert_int_equal(status(m, 0), 0xDF);
    sim_machine_unplug(m, 0, true);
    assert_true(sim_port_unplugged(sim_machine_port(m, 0)));
    assert_false(sim_key_plugged(sim_machine_key(m, 0)));
    assert_int_equal(status(m, 0), 0x7F);
    sim_machine_unplug(m, 0, false);
    assert_true(sim_key_plugged(sim_machine_key(m, 0)));
    assert_int_equal(sim_key_get_state(sim_machine_key(m, 0)), SIM_KEY_NOT_READY);
    assert_int_equal(status(m, 0), 0xDF);
    sim_machine_trace_stop(m, 0);

    FILE *f = fopen(vcd, "r");
    assert_non_null(f);
    char text[4096];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    assert_non_null(strstr(text, "$scope module LPT1 $end"));
    assert_non_null(strstr(text, "$enddefinitions $end"));
    sim_machine_destroy(m);
}

/* A description with a good key port and a bad one builds nothing: no key image. */
static void test_nothing_half_built(void **state)
{
    fixture *fx = *state;
    expect_error(fx, "[LPT1]\nbase = 0x378\nattach = key\nkey.image = fresh.img\n"
                     "key.serial = 0000000000000001\nkey.secret = "
                     "0000000000000000000000000000000000000000000000000000000000000000\n"
                     "[LPT2]\nbase = 0x278\nchip = fast\n", 9, "unknown chip 'fast'");
    char img[160];
    snprintf(img, sizeof(img), "%s/fresh.img", fx->dir);
    struct stat st;
    assert_int_equal(stat(img, &st), -1);

    /* A build failure after the first port was built tears it down (its key image
       was created, but the machine is gone and the load reports the failure). */
    expect_error(fx, "[LPT1]\nbase = 0x378\nattach = key\nkey.image = fresh.img\n"
                     "key.serial = 0000000000000001\nkey.secret = "
                     "0000000000000000000000000000000000000000000000000000000000000000\n"
                     "[LPT2]\nbase = 0x278\nattach = key\nkey.image = gone.img\n"
                     "key.create = no\n", 10, "[LPT2] key:");
}

/* A missing file names the file and the reason. */
static void test_missing_file(void **state)
{
    (void)state;
    char err[256] = "";
    sim_machine *m = NULL;
    assert_int_equal(sim_machine_load("/nonexistent/machine.ini", &m, err, sizeof(err)), -1);
    assert_null(m);
    assert_string_equal(err, "/nonexistent/machine.ini: No such file or directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_default_machine, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_dir_fallbacks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_path_override, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_error_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_build_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_settings_applied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_noise_from_description, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unplug_and_trace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nothing_half_built, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
