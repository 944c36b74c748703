/*
 * tests/tools_dongctl/test_dongctl.c — the real dongctl binary, run as a user runs
 * it, on the default simulated machine (machines/default.ini: LPT1 the demo key with
 * a printer behind it, LPT2 a printer, LPT3 nothing), each test with a fresh key
 * state directory so the demo key starts new. Through dongctl this is the whole
 * stack: Win32 personality, I/O manager, DongLpt, parport, HAL, simulated port and key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "run.h"

#define EXIT_OK       0
#define EXIT_USAGE    1
#define EXIT_NO_KEY   2
#define EXIT_REFUSED  3
#define EXIT_SYSTEM   5

static int setup(void **state)
{
    (void)state;
    state_dir_create();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    state_dir_remove();
    return 0;
}

/* expect — the exit status, with both outputs in the failure message. */
static void expect(const run_result *r, int status, const char *what)
{
    if (r->status != status)
        fail_msg("%s: exit %d, want %d\n--- stdout\n%s--- stderr\n%s", what, r->status, status,
                 r->out, r->err);
}

static void expect_in(const char *text, const char *needle, const char *what)
{
    if (!strstr(text, needle))
        fail_msg("%s: '%s' not found in:\n%s", what, needle, text);
}

/* line_of — the output line that starts with prefix (static copy), or fail. */
static const char *line_of(const char *text, const char *prefix)
{
    static char line[512];
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, prefix, strlen(prefix)) == 0) {
            size_t n = strcspn(p, "\n");
            snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line - 1 ? n : sizeof line - 1), p);
            return line;
        }
    }
    fail_msg("no line starting '%s' in:\n%s", prefix, text);
    return NULL;
}

/* default_serial — key.serial of the default machine description, as dongctl prints it. */
static const char *default_serial(void)
{
    static char serial[17];
    char *ini = read_file(getenv("DONG_DEFAULT_MACHINE"), NULL);
    const char *p = strstr(ini, "key.serial");
    assert_non_null(p);
    p += strcspn(p, "=") + 1;
    p += strspn(p, " \t");
    snprintf(serial, sizeof serial, "%.16s", p);
    free(ini);
    return serial;
}

static void random_bytes(uint8_t *buf, size_t n)
{
    FILE *f = fopen("/dev/urandom", "rb");
    assert_non_null(f);
    assert_int_equal(fread(buf, 1, n, f), n);
    fclose(f);
}

static void hex(char *out, const uint8_t *data, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", data[i]);
}

/* ---- ports and info ------------------------------------------------------------------ */

static void test_ports(void **state)
{
    (void)state;
    run_result r = run_dongctl("ports", NULL);
    expect(&r, EXIT_OK, "ports");
    const char *l1 = line_of(r.out, "LPT1 ");
    expect_in(l1, " key ", "LPT1");
    expect_in(l1, "PS/2", "LPT1 chip");
    const char *l2 = line_of(r.out, "LPT2 ");
    expect_in(l2, " printer ", "LPT2");
    expect_in(l2, "no key — a printer is attached", "LPT2 reason");
    const char *l3 = line_of(r.out, "LPT3 ");
    expect_in(l3, " nothing ", "LPT3");
    expect_in(l3, "ECP", "LPT3 chip");
    expect_in(l3, "nothing is attached", "LPT3 reason");
    assert_null(strstr(r.out, "LPT4"));
    run_free(&r);
}

static void test_info(void **state)
{
    char want[64];
    (void)state;

    run_result r = run_dongctl("info", NULL);
    expect(&r, EXIT_OK, "info");
    snprintf(want, sizeof want, "serial:    %s", default_serial());
    expect_in(r.out, want, "info serial");
    expect_in(r.out, "LPT1", "info port");
    expect_in(r.out, "memory:    2048 bytes", "info memory");
    expect_in(r.out, "counters:  0 0 0 0 0 0 0 0", "fresh key counters");
    expect_in(r.out, "locked:    no", "info lock");
    expect_in(r.out, "vendor:    0xD06C", "info vendor");
    run_free(&r);
}

/* test_port_without_key — the reason, not just a failure, and exit code 2. */
static void test_port_without_key(void **state)
{
    (void)state;
    run_result r = run_dongctl("--port", "2", "info", NULL);
    expect(&r, EXIT_NO_KEY, "info on LPT2");
    expect_in(r.err, "LPT2: no key — a printer is attached", "LPT2 message");
    run_free(&r);

    r = run_dongctl("info", "--port", "3", NULL);
    expect(&r, EXIT_NO_KEY, "info on LPT3");
    expect_in(r.err, "LPT3: no key — nothing is attached", "LPT3 message");
    run_free(&r);

    r = run_dongctl("--port", "9", "info", NULL);
    expect(&r, EXIT_NO_KEY, "info on LPT9");
    expect_in(r.err, "LPT9: open: no such port", "LPT9 message");
    run_free(&r);
}

/* ---- auth -------------------------------------------------------------------------------- */

static void test_auth_demo_key(void **state)
{
    (void)state;
    run_result r = run_dongctl("auth", NULL);
    expect(&r, EXIT_OK, "auth with the demo key");
    expect_in(r.out, "is authentic", "auth");
    run_free(&r);
}

static void test_auth_wrong_key(void **state)
{
    char path[512];
    static const char wrong[] =
        "# not the demo key's secret\n"
        "11 11 11 11 11 11 11 11 11 11 11 11 11 11 11 11\n"
        "11 11 11 11 11 11 11 11 11 11 11 11 11 11 11 11\n";
    (void)state;

    snprintf(path, sizeof path, "%s/wrong.key", state_dir());
    write_file(path, wrong, sizeof wrong - 1);
    run_result r = run_dongctl("auth", "--key", path, NULL);
    expect(&r, EXIT_REFUSED, "auth with a wrong key");
    expect_in(r.err, "authentication FAILED", "auth failure message");
    run_free(&r);

    write_file(path, "12 34\n", 6);
    r = run_dongctl("auth", "--key", path, NULL);
    expect(&r, EXIT_SYSTEM, "auth with a malformed key file");
    expect_in(r.err, "not a key file", "malformed key file message");
    run_free(&r);
}

/* ---- memory -------------------------------------------------------------------------------- */

/* test_write_then_read — what one process writes, a new process reads back. */
static void test_write_then_read(void **state)
{
    uint8_t data[40];
    char hexdata[2 * sizeof data + 1], addr[16], want[128];
    (void)state;

    random_bytes(data, sizeof data);
    hex(hexdata, data, sizeof data);
    snprintf(addr, sizeof addr, "0x%x", 0x300 + (data[0] & 0x7F));
    run_result r = run_dongctl("write", addr, hexdata, NULL);
    expect(&r, EXIT_OK, "write");
    run_free(&r);

    r = run_dongctl("--json", "read", addr, "40", NULL);
    expect(&r, EXIT_OK, "read in a new process");
    assert_true(json_valid(r.out));
    snprintf(want, sizeof want, "\"data\":\"%s\"", hexdata);
    expect_in(r.out, want, "data written by the previous process");
    run_free(&r);

    r = run_dongctl("read", addr, "40", NULL);
    expect(&r, EXIT_OK, "read as a hex dump");
    snprintf(want, sizeof want, "%02x %02x %02x", data[0], data[1], data[2]);
    expect_in(r.out, want, "hex dump");
    run_free(&r);
}

/* test_write_file_many_requests — a file larger than one request goes out in
   page-aligned pieces and comes back whole through --out. */
static void test_write_file_many_requests(void **state)
{
    uint8_t data[1500];
    char in[512], out[512];
    size_t got;
    (void)state;

    random_bytes(data, sizeof data);
    snprintf(in, sizeof in, "%s/in.bin", state_dir());
    snprintf(out, sizeof out, "%s/out.bin", state_dir());
    write_file(in, data, sizeof data);
    run_result r = run_dongctl("write", "0x105", "--file", in, NULL);
    expect(&r, EXIT_OK, "write --file");
    expect_in(r.out, "wrote 1500 bytes at 0x0105", "write summary");
    run_free(&r);

    r = run_dongctl("read", "0x105", "1500", "--out", out, NULL);
    expect(&r, EXIT_OK, "read --out");
    run_free(&r);
    char *back = read_file(out, &got);
    assert_int_equal(got, sizeof data);
    assert_memory_equal(back, data, sizeof data);
    free(back);

    r = run_dongctl("read", "0x7f0", "17", NULL);
    expect(&r, EXIT_USAGE, "read past the end of memory");
    expect_in(r.err, "outside the key's memory", "range message");
    run_free(&r);
}

/* ---- counters ------------------------------------------------------------------------------- */

static void test_counter(void **state)
{
    (void)state;
    run_result r = run_dongctl("counter", "set", "2", "5", NULL);
    expect(&r, EXIT_OK, "counter set");
    run_free(&r);

    r = run_dongctl("counter", "dec", "2", NULL);
    expect(&r, EXIT_OK, "counter dec");
    expect_in(r.out, "counter 2 = 4", "dec by the default 1");
    run_free(&r);

    r = run_dongctl("--json", "counter", "read", "2", NULL);
    expect(&r, EXIT_OK, "counter read in a new process");
    assert_true(json_valid(r.out));
    expect_in(r.out, "\"value\":4", "persisted counter");
    run_free(&r);

    r = run_dongctl("counter", "dec", "2", "10", NULL);
    expect(&r, EXIT_REFUSED, "counter dec below zero");
    expect_in(r.err, "counter 2 is exhausted: 4 left, 10 asked", "exhausted message");
    run_free(&r);

    r = run_dongctl("counter", "dec", "2", "4", NULL);
    expect(&r, EXIT_OK, "counter dec to zero");
    expect_in(r.out, "counter 2 = 0", "counter at zero");
    run_free(&r);

    r = run_dongctl("counter", "read", "3", NULL);
    expect(&r, EXIT_OK, "another counter");
    expect_in(r.out, "counter 3 = 0", "untouched counter");
    run_free(&r);
}

/*
 * test_concurrent_runs — dongctl runs started together take turns with the key
 * state, like programs sharing one physical key: no decrement is lost.
 */
static void test_concurrent_runs(void **state)
{
    enum { RUNS = 6 };
    int pids[RUNS];
    (void)state;

    run_result r = run_dongctl("counter", "set", "5", "100", NULL);
    expect(&r, EXIT_OK, "counter set");
    run_free(&r);
    for (int i = 0; i < RUNS; i++)
        pids[i] = run_start("counter", "dec", "5", "3", NULL);
    for (int i = 0; i < RUNS; i++)
        assert_int_equal(run_wait(pids[i]), EXIT_OK);
    r = run_dongctl("counter", "read", "5", NULL);
    expect(&r, EXIT_OK, "counter read");
    expect_in(r.out, "counter 5 = 82", "every decrement counted once");
    run_free(&r);
}

/* ---- the other subcommands ------------------------------------------------------------------ */

static void test_echo_stats_reset(void **state)
{
    (void)state;
    run_result r = run_dongctl("echo", "hello, key", NULL);
    expect(&r, EXIT_OK, "echo");
    expect_in(r.out, "echo of 10 bytes came back intact", "echo");
    run_free(&r);

    r = run_dongctl("echo", "--size", "512", NULL);
    expect(&r, EXIT_OK, "echo of a full frame");
    run_free(&r);

    r = run_dongctl("stats", NULL);
    expect(&r, EXIT_OK, "stats");
    expect_in(r.out, "requests", "driver statistics");
    expect_in(r.out, "key (since power-up)", "key statistics");
    run_free(&r);

    r = run_dongctl("write", "0x400", "a55a", NULL);
    expect(&r, EXIT_OK, "write before a reset");
    run_free(&r);
    r = run_dongctl("reset", NULL);
    expect(&r, EXIT_OK, "reset");
    expect_in(r.out, "key reset", "reset message");
    run_free(&r);
    r = run_dongctl("--json", "read", "0x400", "2", NULL);
    expect(&r, EXIT_OK, "read after a reset");
    expect_in(r.out, "\"data\":\"a55a\"", "memory kept across a reset");
    run_free(&r);
}

/* test_json — every subcommand's --json output is one well-formed document. */
static void test_json(void **state)
{
    static const char *const cmds[][4] = {
        { "ports" }, { "info" }, { "auth" }, { "read", "0", "16" }, { "counter", "read", "0" },
        { "echo", "abc" }, { "stats" }, { "log" }, { "write", "0x200", "00ff" }, { "reset" },
    };
    char want[64];
    (void)state;

    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        run_result r = run_dongctl("--json", cmds[i][0], cmds[i][1], cmds[i][2], cmds[i][3], NULL);
        expect(&r, EXIT_OK, cmds[i][0]);
        if (!json_valid(r.out))
            fail_msg("%s --json printed invalid JSON:\n%s", cmds[i][0], r.out);
        if (i == 1) {
            snprintf(want, sizeof want, "\"serial\":\"%s\"", default_serial());
            expect_in(r.out, want, "info --json serial");
        }
        run_free(&r);
    }
    /* An error is a JSON document too, so a script never reads an empty stdout. */
    run_result r = run_dongctl("--json", "--port", "2", "info", NULL);
    expect(&r, EXIT_NO_KEY, "--json error");
    assert_true(json_valid(r.out));
    expect_in(r.out, "\"exit\":2", "error object");
    run_free(&r);
}

/* test_usage — bad command lines: exit 1 and the usage on stderr, nothing run. */
static void test_usage(void **state)
{
    static const char *const bad[][4] = {
        { NULL }, { "frobnicate" }, { "read" }, { "read", "0" }, { "read", "zero", "1" },
        { "--port", "0", "info" }, { "--port" }, { "--bogus", "info" }, { "info", "--key", "x" },
        { "counter", "frob", "1" }, { "echo", "--size", "513" }, { "write", "0", "xyz" },
    };
    (void)state;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        run_result r = run_dongctl(bad[i][0], bad[i][1], bad[i][2], bad[i][3], NULL);
        if (r.status != EXIT_USAGE || !strstr(r.err, "usage"))
            fail_msg("case %zu (%s %s): exit %d, stderr:\n%s", i, bad[i][0] ? bad[i][0] : "",
                     bad[i][1] ? bad[i][1] : "", r.status, r.err);
        run_free(&r);
    }
    run_result r = run_dongctl("--help", NULL);
    expect(&r, EXIT_OK, "--help");
    expect_in(r.out, "exit codes", "help text");
    run_free(&r);
}

/* test_machine_option — another machine description, and a broken one. */
static void test_machine_option(void **state)
{
    char path[512];
    static const char printer_only[] =
        "[LPT1]\nbase = 0x378\nchip = spp\nattach = printer\n";
    (void)state;

    snprintf(path, sizeof path, "%s/printer.ini", state_dir());
    write_file(path, printer_only, sizeof printer_only - 1);
    run_result r = run_dongctl("--machine", path, "ports", NULL);
    expect(&r, EXIT_OK, "ports on a one-printer machine");
    expect_in(line_of(r.out, "LPT1 "), " printer ", "LPT1 printer");
    assert_null(strstr(r.out, "LPT2"));
    run_free(&r);

    r = run_dongctl("--machine", path, "info", NULL);
    expect(&r, EXIT_NO_KEY, "info with no key anywhere");
    expect_in(r.err, "no DL-1 key on any port", "no key message");
    run_free(&r);

    write_file(path, "[LPT1]\nbse = 0x378\n", 19);
    r = run_dongctl("--machine", path, "ports", NULL);
    expect(&r, EXIT_SYSTEM, "broken machine description");
    expect_in(r.err, "printer.ini:2", "file:line of the problem");
    run_free(&r);
}

/*
 * test_other_chips — keys on an SPP port (nibble-mode responses) and on an ECP chip
 * (byte mode through ECR mode 001): the same commands, the same answers.
 */
static void test_other_chips(void **state)
{
    char path[512], ini[1024];
    static const char secret[] = "444c312d64656d6f2d6b65792d7365637265742d446f6e674c70742d30303031";
    (void)state;

    snprintf(ini, sizeof ini,
             "[LPT1]\nbase = 0x378\nchip = spp\nattach = key\nkey.image = ${STATE}/spp.img\n"
             "key.serial = 0000000000000011\nkey.secret = %s\n"
             "[LPT2]\nbase = 0x278\nchip = ecp\nattach = key\nkey.image = ${STATE}/ecp.img\n"
             "key.serial = 0000000000000022\nkey.secret = %s\n", secret, secret);
    snprintf(path, sizeof path, "%s/two-keys.ini", state_dir());
    write_file(path, ini, strlen(ini));

    run_result r = run_dongctl("--machine", path, "ports", NULL);
    expect(&r, EXIT_OK, "ports with two keys");
    expect_in(line_of(r.out, "LPT1 "), "DL-1 key 0000000000000011 answered (nibble mode)", "SPP key");
    expect_in(line_of(r.out, "LPT2 "), "DL-1 key 0000000000000022 answered (byte mode)", "ECP key");
    run_free(&r);

    for (int port = 1; port <= 2; port++) {
        char p[4];
        snprintf(p, sizeof p, "%d", port);
        r = run_dongctl("--machine", path, "--port", p, "echo", "--size", "512", NULL);
        expect(&r, EXIT_OK, "a full-size echo");
        run_free(&r);
        r = run_dongctl("--machine", path, "--port", p, "auth", NULL);
        expect(&r, EXIT_OK, "auth");
        expect_in(r.out, port == 1 ? "0000000000000011 is authentic" : "0000000000000022 is authentic",
                  "auth on the chosen port");
        run_free(&r);
    }
}

/* test_trace — --trace records the port's lines as a VCD file while the command runs. */
static void test_trace(void **state)
{
    char path[512];
    (void)state;

    snprintf(path, sizeof path, "%s/lpt1.vcd", state_dir());
    run_result r = run_dongctl("--trace", path, "echo", "traced", NULL);
    expect(&r, EXIT_OK, "echo with --trace");
    run_free(&r);
    char *vcd = read_file(path, NULL);
    expect_in(vcd, "$timescale", "VCD header");
    expect_in(vcd, "nStrobe", "host lines in the trace");
    expect_in(vcd, "nFault", "status lines in the trace");
    const char *body = strstr(vcd, "$enddefinitions");
    assert_non_null(body);
    /* A request is many strobes: the body holds many timestamps. */
    unsigned stamps = 0;
    for (const char *p = body; (p = strstr(p, "\n#")); p++)
        stamps++;
    if (stamps < 20)
        fail_msg("only %u timestamps in the trace", stamps);
    free(vcd);
}

/*
 * test_log — with ErrorLogLevel 3 (through --reg) the driver logs its informational
 * events at start, and `log` prints them with their text from donglpt.mc.
 */
static void test_log(void **state)
{
    char path[512];
    static const char reg[] =
        "Windows Registry Editor Version 5.00\r\n\r\n"
        "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\DongLpt\\Parameters]\r\n"
        "\"ErrorLogLevel\"=dword:00000003\r\n";
    (void)state;

    snprintf(path, sizeof path, "%s/verbose.reg", state_dir());
    write_file(path, reg, sizeof reg - 1);
    run_result r = run_dongctl("--reg", path, "log", NULL);
    expect(&r, EXIT_OK, "log");
    expect_in(r.out, "information", "informational events");
    expect_in(r.out, "DongLpt", "the driver as the source");
    expect_in(r.out, "is ready on parallel port", "message text from donglpt.mc");
    assert_null(strstr(r.out, "(no message text)"));
    run_free(&r);

    r = run_dongctl("--json", "--reg", path, "log", NULL);
    expect(&r, EXIT_OK, "log --json");
    assert_true(json_valid(r.out));
    expect_in(r.out, "\"severity\":\"information\"", "severity in JSON");
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_info, setup, teardown),
        cmocka_unit_test_setup_teardown(test_port_without_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth_demo_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth_wrong_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_then_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_file_many_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_echo_stats_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_machine_option, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_chips, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
