/*
 * test_trace.c — the VCD line trace: a well-formed IEEE 1364 dump (header, declared
 * identifiers, increasing timestamps) whose value changes match the machine times of
 * a printed byte's handshake.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "sim/port.h"
#include "sim/printer.h"
#include "sim/trace.h"

#define BASE 0x378

typedef struct change {
    unsigned long long t;
    char id;
    char value[12];
} change;

typedef struct vcd {
    char ids[32];           /* declared identifier characters */
    char names[32][16];
    int nvars;
    change ch[512];
    int nch;
    bool timescale_ns, enddefs;
    char scope[32];
    unsigned long long last_t;
} vcd;

/* Parse the subset the writer produces, failing the test on anything malformed. */
static void vcd_parse(const char *path, vcd *v)
{
    memset(v, 0, sizeof(*v));
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[256];
    bool have_time = false;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        char id, name[16], kind[8];
        int width;
        if (!v->enddefs) {
            if (strcmp(line, "$timescale 1ns $end") == 0)
                v->timescale_ns = true;
            else if (sscanf(line, "$scope module %31s $end", v->scope) == 1)
                ;
            else if (sscanf(line, "$var %7s %d %c %15s", kind, &width, &id, name) == 4) {
                assert_true(strcmp(kind, "wire") == 0 || strcmp(kind, "event") == 0);
                assert_int_equal(width, strcmp(name, "D") == 0 ? 8 : 1);
                v->ids[v->nvars] = id;
                strcpy(v->names[v->nvars++], name);
            } else if (strcmp(line, "$enddefinitions $end") == 0)
                v->enddefs = true;
            continue;
        }
        if (line[0] == '#') {
            unsigned long long t = strtoull(line + 1, NULL, 10);
            assert_true(!have_time || t > v->last_t);   /* strictly increasing */
            v->last_t = t;
            have_time = true;
            continue;
        }
        if (strcmp(line, "$dumpvars") == 0 || strcmp(line, "$end") == 0)
            continue;
        assert_true(have_time);
        change *c = &v->ch[v->nch++];
        c->t = v->last_t;
        if (line[0] == 'b') {
            char bits[16];
            assert_int_equal(sscanf(line, "b%15s %c", bits, &c->id), 2);
            assert_int_equal(strlen(bits), 8);
            assert_int_equal(strspn(bits, "01xz"), 8);
            strcpy(c->value, bits);
        } else {
            assert_non_null(strchr("01xz", line[0]));
            assert_int_equal(strlen(line), 2);
            c->value[0] = line[0];
            c->id = line[1];
        }
        assert_non_null(memchr(v->ids, c->id, (size_t)v->nvars));
    }
    fclose(f);
}

static char id_of(const vcd *v, const char *name)
{
    for (int i = 0; i < v->nvars; i++)
        if (strcmp(v->names[i], name) == 0)
            return v->ids[i];
    fail_msg("no variable %s", name);
    return 0;
}

/* Time of the n-th (0-based) change of `name` to `value`, or ~0 if none. */
static unsigned long long change_time(const vcd *v, const char *name, const char *value, int n)
{
    char id = id_of(v, name);
    for (int i = 0; i < v->nch; i++)
        if (v->ch[i].id == id && strcmp(v->ch[i].value, value) == 0 && n-- == 0)
            return v->ch[i].t;
    return ~0ull;
}

static void temp_path(char *buf, size_t len)
{
    snprintf(buf, len, "/tmp/sim_trace_%d_XXXXXX", (int)getpid());
    int fd = mkstemp(buf);
    assert_true(fd >= 0);
    close(fd);
}

static void test_vcd_printer_byte(void **state)
{
    (void)state;
    sim_clock *clk = sim_clock_create();
    sim_bus *bus = sim_bus_create(clk);
    sim_port *port = sim_port_create(bus, BASE, 7, SIM_CHIP_SPP, SIM_US(1));
    sim_port_attach(port, sim_printer_peripheral(sim_printer_create(clk, NULL)));
    sim_clock_advance_to(clk, SIM_US(100));

    char path[64], err[128];
    temp_path(path, sizeof(path));
    assert_int_equal(sim_trace_start(port, path, "LPT1", err, sizeof(err)), 0);
    assert_true(sim_trace_active(port));
    sim_bus_write8(bus, BASE + SIM_LPT_CONTROL, 0x0C | SIM_CTRL_IRQEN); /* no line: not traced */
    sim_bus_write8(bus, BASE + SIM_LPT_DATA, 0x41);             /* at 102 us */
    sim_bus_write8(bus, BASE + SIM_LPT_CONTROL, 0x1D);          /* strobe low at 103 us */
    sim_bus_write8(bus, BASE + SIM_LPT_CONTROL, 0x1C);          /* high at 104 us */
    sim_clock_advance_to(clk, SIM_US(130));
    sim_trace_stop(port);
    assert_false(sim_trace_active(port));

    vcd v;
    vcd_parse(path, &v);
    assert_true(v.timescale_ns);
    assert_true(v.enddefs);
    assert_string_equal(v.scope, "LPT1");
    assert_int_equal(v.nvars, 12);
    assert_int_equal(v.last_t, 130000);                         /* closing timestamp */
    assert_int_equal(change_time(&v, "D", "11111111", 0), 100000); /* initial dump */
    assert_int_equal(change_time(&v, "D", "01000001", 0), 102000);
    assert_int_equal(change_time(&v, "nStrobe", "0", 0), 103000);
    assert_int_equal(change_time(&v, "nStrobe", "1", 1), 104000);
    assert_int_equal(change_time(&v, "Busy", "1", 0), 103000);
    assert_int_equal(change_time(&v, "nAck", "0", 0), 108000);
    assert_int_equal(change_time(&v, "nAck", "1", 1), 113000);
    assert_int_equal(change_time(&v, "Busy", "0", 1), 113000);
    assert_int_equal(change_time(&v, "irq", "1", 0), 113000);
    unlink(path);

    sim_port_destroy(port);
    sim_bus_destroy(bus);
    sim_clock_destroy(clk);
}

/* In reverse with nobody driving, D0-D7 are 'z'; the direction bit is traced. */
static void test_vcd_reverse_undriven(void **state)
{
    (void)state;
    sim_clock *clk = sim_clock_create();
    sim_bus *bus = sim_bus_create(clk);
    sim_port *port = sim_port_create(bus, BASE, 7, SIM_CHIP_PS2, SIM_US(1));
    char path[64], err[128];
    temp_path(path, sizeof(path));
    assert_int_equal(sim_trace_start(port, path, NULL, err, sizeof(err)), 0);
    sim_bus_write8(bus, BASE + SIM_LPT_CONTROL, 0x2C);
    sim_port_destroy(port);                                      /* closes the trace */

    vcd v;
    vcd_parse(path, &v);
    assert_string_equal(v.scope, "lpt");
    assert_int_equal(change_time(&v, "D", "zzzzzzzz", 0), 1000);
    assert_int_equal(change_time(&v, "dir", "1", 0), 1000);
    unlink(path);
    sim_bus_destroy(bus);
    sim_clock_destroy(clk);
}

static void test_vcd_bad_path(void **state)
{
    (void)state;
    sim_clock *clk = sim_clock_create();
    sim_bus *bus = sim_bus_create(clk);
    sim_port *port = sim_port_create(bus, BASE, 7, SIM_CHIP_SPP, SIM_US(1));
    char err[256] = "";
    assert_int_equal(sim_trace_start(port, "/nonexistent-dir/x.vcd", NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent-dir/x.vcd"));
    assert_false(sim_trace_active(port));
    sim_port_destroy(port);
    sim_bus_destroy(bus);
    sim_clock_destroy(clk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vcd_printer_byte),
        cmocka_unit_test(test_vcd_reverse_undriven),
        cmocka_unit_test(test_vcd_bad_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
