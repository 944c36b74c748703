/*
 * dl1_floor.c — the measured protocol floor of the DL-1 (issue 3, acceptance 4).
 *
 * ECHO of 512 bytes through the reference host routine (tests/sim_key/refhost.c) on
 * a simulated PS/2 port, in nibble and in byte mode, on an ISA port (tIO 1 us) and a
 * PCIe card (0.25 us). For each phase it prints register accesses and machine time,
 * per byte of that phase: forward = the 519-byte request frame, wait = from the last
 * strobe to nDataAvail, reverse = the 519-byte response frame. "per payload byte"
 * divides the whole exchange by the 512 payload bytes. Then one BENCH line (report.h)
 * per figure of the whole exchange, per byte moved, against the ECHO floors of floor.c,
 * as dongbench reports the real driver. Machine time is virtual, so the numbers are
 * exact and repeatable.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "floor.h"
#include "refhost.h"
#include "report.h"
#include "sim/bus.h"
#include "sim/clock.h"
#include "sim/key.h"
#include "sim/port.h"

#define BASE        0x378u
#define ECHO        0x07u
#define PAYLOAD     512u

typedef struct phase {
    uint64_t accesses;
    sim_time_t ns;
} phase;

typedef struct run {
    phase fwd, wait, rev;
} run;

/* mark - the bus counters at one instant. */
static phase mark(sim_bus *bus)
{
    phase p = { sim_bus_access_count(bus), sim_now(sim_bus_clock(bus)) };
    return p;
}

static phase since(sim_bus *bus, phase a)
{
    phase b = mark(bus);
    phase d = { b.accesses - a.accesses, b.ns - a.ns };
    return d;
}

/* measure - one ECHO 512 exchange in a fresh machine; returns 0 or -1. */
static int measure(uint8_t link, sim_time_t tio, run *out)
{
    sim_clock *clk = sim_clock_create();
    sim_bus *bus = sim_bus_create(clk);
    sim_port *port = sim_port_create(bus, BASE, 7, SIM_CHIP_PS2, tio);
    sim_key_config cfg;
    uint8_t payload[PAYLOAD], frame[REFHOST_FRAME_MAX];
    refhost_resp resp;
    refhost h;
    char err[256];
    size_t n, sent;
    int rc = -1;
    phase t;

    memset(&cfg, 0, sizeof cfg);
    sim_peripheral *key = sim_key_create(clk, &cfg, NULL, err, sizeof err);
    if (!port || !key) {
        fprintf(stderr, "dl1_floor: cannot build the machine: %s\n", key ? "port" : err);
        goto out;
    }
    sim_port_attach(port, key);
    sim_clock_advance(clk, SIM_MS(100));      /* power-up NOT-READY */
    refhost_init(&h, bus, BASE, tio);
    if (refhost_open(&h, link) != RH_OK) {
        fprintf(stderr, "dl1_floor: session 0x%02X not opened\n", link);
        goto out;
    }
    for (unsigned i = 0; i < PAYLOAD; i++)
        payload[i] = (uint8_t)(i * 37 + 11);
    n = refhost_frame(frame, 1, ECHO, payload, PAYLOAD);

    t = mark(bus);
    if (refhost_send(&h, frame, n, &sent) != RH_OK || sent != n)
        goto fail;
    out->fwd = since(bus, t);
    t = mark(bus);
    if (refhost_wait_response(&h, SIM_US(10)) != RH_OK)
        goto fail;
    out->wait = since(bus, t);
    t = mark(bus);
    if (refhost_recv(&h, &resp, NULL, NULL) != RH_OK)
        goto fail;
    out->rev = since(bus, t);
    if (!resp.crc_ok || resp.status != 0 || resp.len != PAYLOAD ||
        memcmp(resp.payload, payload, PAYLOAD) != 0)
        goto fail;
    if (refhost_close(&h) != RH_OK)
        goto fail;
    rc = 0;
    goto out;
fail:
    fprintf(stderr, "dl1_floor: ECHO 512 failed (link 0x%02X, tIO %llu ns)\n", link,
            (unsigned long long)tio);
out:
    if (port)
        sim_port_destroy(port);
    else if (key)
        key->ops->destroy(key);
    sim_bus_destroy(bus);
    sim_clock_destroy(clk);
    return rc;
}

static void print_phase(const char *name, phase p, double bytes)
{
    printf("    %-8s %8llu accesses %7.2f/byte   %10.3f us %7.3f us/byte\n", name,
           (unsigned long long)p.accesses, (double)p.accesses / bytes, (double)p.ns / 1000.0,
           (double)p.ns / 1000.0 / bytes);
}

int main(void)
{
    static const struct { const char *name; uint8_t link; } modes[] = {
        { "nibble", 0x4C }, { "byte", 0x4D },
    };
    static const struct { const char *name; const char *tag; sim_time_t tio; } ports[] = {
        { "ISA 1 us", "isa-ps2", SIM_US(1) }, { "PCIe 0.25 us", "pcie-ps2", SIM_NS(250) },
    };
    run results[2][2];
    bool ok[2][2] = { { false, false }, { false, false } };
    int status = 0;

    printf("DL-1 protocol floor: ECHO of %u bytes through the reference host (PS/2 port)\n",
           PAYLOAD);
    printf("frame = %u bytes each way (5 header + %u payload + 2 CRC)\n\n", PAYLOAD + 7, PAYLOAD);
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        for (size_t p = 0; p < sizeof ports / sizeof ports[0]; p++) {
            run r;
            if (measure(modes[m].link, ports[p].tio, &r) != 0) {
                status = 1;
                continue;
            }
            results[m][p] = r;
            ok[m][p] = true;
            uint64_t acc = r.fwd.accesses + r.wait.accesses + r.rev.accesses;
            sim_time_t ns = r.fwd.ns + r.wait.ns + r.rev.ns;
            printf("%s mode, %s port\n", modes[m].name, ports[p].name);
            print_phase("forward", r.fwd, PAYLOAD + 7);
            print_phase("wait", r.wait, PAYLOAD + 7);
            print_phase("reverse", r.rev, PAYLOAD + 7);
            printf("    total    %8llu accesses %7.2f/payload byte  %10.3f us %7.3f us/payload byte\n\n",
                   (unsigned long long)acc, (double)acc / PAYLOAD, (double)ns / 1000.0,
                   (double)ns / 1000.0 / PAYLOAD);
        }
    }
    /* The whole exchange as BENCH lines, per byte moved, against the ECHO floors of
       floor.c: the reference routine is written from the event sequence, not tuned,
       so it shows what a straightforward host costs. */
    for (size_t m = 0; m < 2; m++) {
        for (size_t p = 0; p < 2; p++) {
            const run *r = &results[m][p];
            floor_mode rmode = modes[m].link == 0x4D ? FLOOR_BYTE : FLOOR_NIBBLE;
            floor_pair fl = floor_echo(rmode, PAYLOAD, (double)ports[p].tio,
                                       (double)SIM_KEY_DEFAULT_ANSWER_NS);
            double moved = 2.0 * (PAYLOAD + 7);
            char name[96];

            if (!ok[m][p])
                continue;
            snprintf(name, sizeof name, "refhost.%s.%s.exchange.accesses_per_byte", ports[p].tag,
                     modes[m].name);
            report_figure(name, (double)(r->fwd.accesses + r->wait.accesses + r->rev.accesses) / moved,
                          "accesses", fl.accesses / moved);
            snprintf(name, sizeof name, "refhost.%s.%s.exchange.time_per_byte", ports[p].tag,
                     modes[m].name);
            report_figure(name, (double)(r->fwd.ns + r->wait.ns + r->rev.ns) / moved, "ns",
                          fl.ns / moved);
        }
    }
    report_flush();
    return status;
}
