/*
 * trace_vcd.c — a port's cable lines as an IEEE 1364 Value Change Dump.
 *
 * Only changes are written: each sample compares every signal's text with what was
 * last dumped, and opens a "#time" block the first time something changes at a new
 * machine time.
 */
#include "sim/trace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

enum {
    SIG_DATA, SIG_NSTROBE, SIG_NAUTOFD, SIG_NINIT, SIG_NSELECTIN,
    SIG_BUSY, SIG_NACK, SIG_PERROR, SIG_SELECT, SIG_NFAULT, SIG_DIR,
    SIG_COUNT
};

static const char *const sig_names[SIG_COUNT] = {
    "D", "nStrobe", "nAutoFd", "nInit", "nSelectIn",
    "Busy", "nAck", "PError", "Select", "nFault", "dir",
};

#define IRQ_ID  ","          /* identifier of the irq event: the one after the wires */
#define VAL_MAX 10           /* "b" + 8 bits + NUL */

struct sim_vcd {
    FILE *f;
    bool time_open;          /* a "#t" line for last_time has been written */
    sim_time_t last_time;
    char last[SIG_COUNT][VAL_MAX];
};

/* Identifier codes: printable ASCII from '!' on, one character each. */
static char sig_id(int sig)
{
    return (char)('!' + sig);
}

/* D0-D7 on the cable: who drives each bit decides 0/1, z (nobody) or x (a fight). */
static void data_text(const sim_line_snapshot *s, char out[VAL_MAX])
{
    out[0] = 'b';
    for (int bit = 7; bit >= 0; bit--) {
        int h = (s->host.data >> bit) & 1, p = (s->periph.data >> bit) & 1;
        char c;
        if (s->host.data_driven && s->periph.data_driven)
            c = h == p ? (char)('0' + h) : 'x';
        else if (s->host.data_driven)
            c = (char)('0' + h);
        else if (s->periph.data_driven)
            c = (char)('0' + p);
        else
            c = 'z';
        out[8 - bit] = c;
    }
    out[9] = '\0';
}

static void bit_text(bool level, char out[VAL_MAX])
{
    out[0] = level ? '1' : '0';
    out[1] = '\0';
}

static void snapshot_texts(const sim_line_snapshot *s, char v[SIG_COUNT][VAL_MAX])
{
    data_text(s, v[SIG_DATA]);
    bit_text(s->host.nStrobe, v[SIG_NSTROBE]);
    bit_text(s->host.nAutoFd, v[SIG_NAUTOFD]);
    bit_text(s->host.nInit, v[SIG_NINIT]);
    bit_text(s->host.nSelectIn, v[SIG_NSELECTIN]);
    bit_text(s->periph.busy, v[SIG_BUSY]);
    bit_text(s->periph.nAck, v[SIG_NACK]);
    bit_text(s->periph.perror, v[SIG_PERROR]);
    bit_text(s->periph.select, v[SIG_SELECT]);
    bit_text(s->periph.nFault, v[SIG_NFAULT]);
    bit_text(s->reverse, v[SIG_DIR]);
}

/* One value change line: vectors as "b... id", scalars as "vid". */
static void emit_value(FILE *f, int sig, const char *text)
{
    if (text[0] == 'b')
        fprintf(f, "%s %c\n", text, sig_id(sig));
    else
        fprintf(f, "%s%c\n", text, sig_id(sig));
}

static void open_time(sim_vcd *vcd, sim_time_t now)
{
    if (vcd->time_open && vcd->last_time == now)
        return;
    fprintf(vcd->f, "#%llu\n", (unsigned long long)now);
    vcd->time_open = true;
    vcd->last_time = now;
}

void sim_vcd_sample(sim_vcd *vcd, sim_time_t now, const sim_line_snapshot *s)
{
    char v[SIG_COUNT][VAL_MAX];
    snapshot_texts(s, v);
    for (int i = 0; i < SIG_COUNT; i++) {
        if (strcmp(v[i], vcd->last[i]) == 0)
            continue;
        open_time(vcd, now);
        emit_value(vcd->f, i, v[i]);
        memcpy(vcd->last[i], v[i], VAL_MAX);
    }
}

void sim_vcd_irq(sim_vcd *vcd, sim_time_t now)
{
    open_time(vcd, now);
    fprintf(vcd->f, "1%s\n", IRQ_ID);
}

void sim_vcd_close(sim_vcd *vcd, sim_time_t now)
{
    if (!vcd->time_open || now > vcd->last_time)
        fprintf(vcd->f, "#%llu\n", (unsigned long long)now);
    fclose(vcd->f);
    free(vcd);
}

/* Header: VCD identifiers may not contain whitespace; keep the scope name printable. */
static void write_header(FILE *f, const char *scope)
{
    fputs("$version DongLpt simulated parallel port $end\n", f);
    fputs("$timescale 1ns $end\n", f);
    fputs("$scope module ", f);
    for (const char *c = scope; *c; c++)
        fputc(*c > ' ' && *c < 0x7F ? *c : '_', f);
    fputs(" $end\n", f);
    for (int i = 0; i < SIG_COUNT; i++)
        fprintf(f, "$var wire %d %c %s%s $end\n", i == SIG_DATA ? 8 : 1, sig_id(i),
                sig_names[i], i == SIG_DATA ? " [7:0]" : "");
    fprintf(f, "$var event 1 %s irq $end\n", IRQ_ID);
    fputs("$upscope $end\n$enddefinitions $end\n", f);
}

int sim_trace_start(sim_port *port, const char *path, const char *scope,
                    char *err, size_t errlen)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    sim_vcd *vcd = calloc(1, sizeof(*vcd));
    if (!vcd) {
        fclose(f);
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    vcd->f = f;
    sim_trace_stop(port);
    write_header(f, scope && *scope ? scope : "lpt");

    /* Initial values: everything differs from the empty "last" texts. */
    sim_time_t now = sim_now(sim_port_clock(port));
    sim_line_snapshot s = sim_port_snapshot(port);
    open_time(vcd, now);
    fputs("$dumpvars\n", f);
    char v[SIG_COUNT][VAL_MAX];
    snapshot_texts(&s, v);
    for (int i = 0; i < SIG_COUNT; i++) {
        emit_value(f, i, v[i]);
        memcpy(vcd->last[i], v[i], VAL_MAX);
    }
    fputs("$end\n", f);
    sim_port_set_vcd(port, vcd);
    return 0;
}

void sim_trace_stop(sim_port *port)
{
    sim_vcd *vcd = sim_port_vcd(port);
    if (!vcd)
        return;
    sim_port_set_vcd(port, NULL);
    sim_vcd_close(vcd, sim_now(sim_port_clock(port)));
}

bool sim_trace_active(const sim_port *port)
{
    return sim_port_vcd(port) != NULL;
}
