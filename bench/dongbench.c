/*
 * dongbench.c - the DongLpt benchmarks (issue 7, docs/PERFORMANCE.md).
 *
 * Boots nthost on bench/machines/bench.ini with parport, DongLpt and the null driver
 * BenchNull, and measures, as a Win32 program:
 *
 *   1. ECHO of 512 bytes through the whole stack (DeviceIoControl, and WriteFile +
 *      ReadFile -> IRP -> DongLpt's worker -> link engine -> simulated port -> key),
 *      on ISA and PCIe ports in byte and nibble mode: register accesses and machine
 *      time per byte of the forward handshake, of the reverse handshake and of the
 *      whole exchange, against the floors of floor.c. A tap on the key's line inputs
 *      (tap_*) timestamps every forward strobe and every reverse Event 7, so the
 *      handshakes are measured edge to edge inside the real request.
 *   2. Null round trips: DeviceIoControl to BenchNull (completed in its dispatch
 *      routine), DongLpt's GET_TIMEOUTS, and a Linux ioctl() for comparison.
 *   3. Simulated bus time per second of host CPU time: the simulator alone (the
 *      reference host routine on a bare port and key) and the whole stack.
 *   4. Throughput of ECHO 512 with 1, 2 and 8 client threads on one port, and with
 *      2 and 8 threads spread over two ports.
 *   5. The ECHO exchange again after a second boot with bench/keep-port.reg
 *      (AllocatePerOpen = 1: port and key session kept between requests).
 *
 * Machine time is virtual (nthost's default): exact and repeatable. Host round trips
 * are the fastest of many short rounds, since a shared machine only ever adds to them.
 * Prints readable tables, then one BENCH line per figure (report.h).
 * Usage: dongbench [--quick] [--only speed|echo|null|throughput]
 * (--quick: few iterations, for the smoke test; --only: one section, for profiling).
 * Exit status 0 when every measurement ran (figures are not assertions), 1 if one
 * could not be made (boot failed, a request failed or came back wrong).
 */
#include <windows.h>
#include <winioctl.h>
#include <donglpt.h>
#include <nthost/nthost.h>
#include "sim/machine.h"

#include "benchnull.h"
#include "floor.h"
#include "refhost.h"
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define ECHO_PAYLOAD     512u
#define ECHO_FRAME       (ECHO_PAYLOAD + DL1_FRAME_OVERHEAD)
#define MAX_CLIENTS      8u
#define ISA_LIMIT        1.05   /* acceptance: ISA accesses and time, x of the floor */
#define PCIE_LIMIT       1.10   /* acceptance: PCIe time */
#define NULL_TARGET_NS   1000.0 /* acceptance: nthost's null IOCTL */

static bool quick;
static const char *only;   /* --only SECTION: run just that section */
static int failures;

/* wanted - whether a section runs (every one without --only). */
static bool wanted(const char *section)
{
    return only == NULL || strcmp(only, section) == 0;
}

/* --------------------------------------------------------------- host clocks */

/* clock_ns - a host clock in nanoseconds. */
static double clock_ns(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* cpu_ns - the CPU time of the whole process (every nthost thread). */
static double cpu_ns(void)
{
    return clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

/* fail - a measurement that could not be made: say why, exit 1 at the end. */
static void fail(const char *what)
{
    fprintf(stderr, "dongbench: %s\n", what);
    failures++;
}

/* ------------------------------------------------------------ the line tap */

/* First and last of a kind of edge: when, and the bus's access count then. */
typedef struct span {
    uint64_t edges;
    uint64_t first_acc, last_acc;
    sim_time_t first_ns, last_ns;
} span;

/*
 * A tap sits in the ops table of the peripheral a port drives (the key) and sees
 * every host line change before the key does, with the key's state before it.
 */
typedef struct tap {
    sim_peripheral *periph;
    const sim_peripheral_ops *orig;
    sim_peripheral_ops ops;
    sim_key *key;
    sim_bus *bus;
    sim_clock *clk;
    sim_host_lines last;
    span fwd;   /* nStrobe falling in SESSION-FORWARD: a forward byte */
    span rev;   /* nAutoFd falling in SESSION-REVERSE: Event 7 */
} tap;

static tap *tap_active;

/* span_mark - one more edge of the kind s counts, now. */
static void span_mark(span *s, const tap *t)
{
    uint64_t acc = sim_bus_access_count(t->bus);
    sim_time_t now = sim_now(t->clk);

    if (s->edges++ == 0) {
        s->first_acc = acc;
        s->first_ns = now;
    }
    s->last_acc = acc;
    s->last_ns = now;
}

/* tap_host_changed - classify the change, then hand it to the key. */
static void tap_host_changed(sim_peripheral *p, const sim_host_lines *lines)
{
    tap *t = tap_active;
    sim_key_state state = sim_key_get_state(t->key);

    if (state == SIM_KEY_SESSION_FORWARD && t->last.nStrobe && !lines->nStrobe)
        span_mark(&t->fwd, t);
    if (state == SIM_KEY_SESSION_REVERSE && t->last.nAutoFd && !lines->nAutoFd)
        span_mark(&t->rev, t);
    t->last = *lines;
    t->orig->host_changed(p, lines);
}

/* tap_install - tap port `index` of the machine; false when no key is there. */
static bool tap_install(tap *t, sim_machine *m, unsigned index)
{
    sim_port *port = sim_machine_port(m, index);

    memset(t, 0, sizeof(*t));
    t->key = sim_machine_key(m, index);
    if (port == NULL || t->key == NULL)
        return false;
    t->periph = sim_port_peripheral(port);
    t->orig = t->periph->ops;
    t->ops = *t->orig;
    t->ops.host_changed = tap_host_changed;
    t->bus = sim_machine_bus(m);
    t->clk = sim_machine_clock(m);
    t->last = sim_port_host_lines(port);
    tap_active = t;
    t->periph->ops = &t->ops;
    return true;
}

/* tap_remove - give the key its own ops table back. */
static void tap_remove(tap *t)
{
    t->periph->ops = t->orig;
    tap_active = NULL;
}

/* Per-edge figures of a span: (last - first) / (edges - 1). */
static floor_pair span_per_edge(const span *s)
{
    floor_pair f = { 0, 0 };

    if (s->edges > 1) {
        f.accesses = (double)(s->last_acc - s->first_acc) / (double)(s->edges - 1);
        f.ns = (double)(s->last_ns - s->first_ns) / (double)(s->edges - 1);
    }
    return f;
}

/* ------------------------------------------------------------ Win32 helpers */

/* open_port - \\.\DongLpt<index + 1>, for reading and writing. */
static HANDLE open_port(unsigned index)
{
    char name[32];

    snprintf(name, sizeof(name), DONG_WIN32_NAME_FORMAT_A, index + 1);
    return CreateFileA(name, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE,
                       NULL, OPEN_EXISTING, 0, NULL);
}

/* echo_request - an ECHO of 512 bytes whose payload depends on seed. */
static void echo_request(DONG_TRANSACT_REQUEST *req, unsigned seed)
{
    memset(req, 0, sizeof(*req));
    req->Command = DL1_CMD_ECHO;
    req->Length = ECHO_PAYLOAD;
    for (unsigned i = 0; i < ECHO_PAYLOAD; i++)
        req->Payload[i] = (UCHAR)(i * 31 + seed * 7 + 3);
}

/* echo_ok - the response is the request's payload, intact. */
static bool echo_ok(const DONG_TRANSACT_REQUEST *req, const DONG_TRANSACT_RESPONSE *resp,
                    DWORD bytes)
{
    return bytes == DONG_TRANSACT_RESPONSE_HEADER + ECHO_PAYLOAD &&
           resp->KeyStatus == DL1_STATUS_OK && resp->Length == ECHO_PAYLOAD &&
           memcmp(resp->Payload, req->Payload, ECHO_PAYLOAD) == 0;
}

/* One ECHO 512 by DeviceIoControl; true when it came back intact. */
static bool echo_ioctl(HANDLE h, unsigned seed, DONG_TRANSACT_RESPONSE *resp)
{
    DONG_TRANSACT_REQUEST req;
    DWORD bytes = 0;

    echo_request(&req, seed);
    if (!DeviceIoControl(h, IOCTL_DONG_TRANSACT_READ, &req, DONG_TRANSACT_REQUEST_HEADER + ECHO_PAYLOAD,
                         resp, sizeof(*resp), &bytes, NULL))
        return false;
    return echo_ok(&req, resp, bytes);
}

/* One ECHO 512 by WriteFile (the request) and ReadFile (its response). */
static bool echo_write_read(HANDLE h, unsigned seed, DONG_TRANSACT_RESPONSE *resp)
{
    DONG_TRANSACT_REQUEST req;
    DWORD bytes = 0;

    echo_request(&req, seed);
    if (!WriteFile(h, &req, DONG_TRANSACT_REQUEST_HEADER + ECHO_PAYLOAD, &bytes, NULL))
        return false;
    if (!ReadFile(h, resp, sizeof(*resp), &bytes, NULL))
        return false;
    return echo_ok(&req, resp, bytes);
}

/* bus_name - the figure-name word for a port's access time. */
static const char *bus_name(sim_time_t tio)
{
    return tio == SIM_US(1) ? "isa" : tio == SIM_NS(250) ? "pcie" : "bus";
}

/* ------------------------------------------- 1. ECHO 512 through the stack */

typedef struct echo_port {
    const char *port;   /* section of bench.ini */
    const char *chip;   /* for the figure names */
} echo_port;

static const echo_port echo_ports[] = {
    { "LPT1", "ps2" }, { "LPT2", "spp" }, { "LPT3", "ecp" }, { "LPT4", "spp" },
};

/* echo_row - one row of an ECHO table and its two BENCH figures. */
static void echo_row(const char *name, const char *what, floor_pair got, floor_pair fl, bool isa)
{
    double ra = report_ratio(got.accesses, fl.accesses);
    double rt = report_ratio(got.ns, fl.ns);
    bool ok = isa ? ra <= ISA_LIMIT && rt <= ISA_LIMIT : rt <= PCIE_LIMIT;
    char fig[96];

    printf("  %-28s %7.3f %7.3f  x%.3f  %8.1f %8.1f  x%.3f  %s\n", what, got.accesses,
           fl.accesses, ra, got.ns, fl.ns, rt, ok ? "ok" : "MISSED");
    snprintf(fig, sizeof(fig), "%s.accesses_per_byte", name);
    report_figure(fig, got.accesses, "accesses", fl.accesses);
    snprintf(fig, sizeof(fig), "%s.time_per_byte", name);
    report_figure(fig, got.ns, "ns", fl.ns);
}

/* measure_exchange - one ECHO 512 (DeviceIoControl, or WriteFile + ReadFile) and its
   accesses and machine time per byte moved; false when it failed or was retried. */
static bool measure_exchange(sim_machine *m, HANDLE h, unsigned seed, bool write_read,
                             DONG_TRANSACT_RESPONSE *resp, floor_pair *per_byte)
{
    sim_bus *bus = sim_machine_bus(m);
    sim_clock *clk = sim_machine_clock(m);
    uint64_t a0 = sim_bus_access_count(bus);
    sim_time_t t0 = sim_now(clk);
    bool ok = write_read ? echo_write_read(h, seed, resp) : echo_ioctl(h, seed, resp);

    per_byte->accesses = (double)(sim_bus_access_count(bus) - a0) / (2.0 * ECHO_FRAME);
    per_byte->ns = (double)(sim_now(clk) - t0) / (2.0 * ECHO_FRAME);
    return ok && resp->Retries == 0;
}

/* The port a bench_echo_port call measures, and its floors. */
typedef struct echo_setup {
    HANDLE h;
    unsigned index;
    bool isa;
    floor_mode rmode;
    double tio;
    char base[64];   /* figure name prefix */
} echo_setup;

/* echo_open - open the port, find its mode, run the request that measures tIO and
   probes (figures start after it). False when the port has no working key. */
static bool echo_open(sim_machine *m, const echo_port *ep, echo_setup *es)
{
    static DONG_TRANSACT_RESPONSE resp;
    int index = sim_machine_find_port(m, ep->port);
    sim_port_info info;
    DONG_INFO dinfo;
    DWORD bytes;

    if (index < 0 || sim_machine_port_info(m, (unsigned)index, &info) != 0) {
        fail("bench machine: a port is missing");
        return false;
    }
    es->index = (unsigned)index;
    es->h = open_port(es->index);
    if (es->h == INVALID_HANDLE_VALUE) {
        fail("cannot open a DongLpt port");
        return false;
    }
    if (!DeviceIoControl(es->h, IOCTL_DONG_GET_INFO, NULL, 0, &dinfo, sizeof(dinfo), &bytes, NULL) ||
        dinfo.Attached != DONG_PERIPHERAL_KEY ||
        (dinfo.Mode != DONG_MODE_BYTE && dinfo.Mode != DONG_MODE_NIBBLE) || !echo_ioctl(es->h, 0, &resp)) {
        fail("no working key in byte or nibble mode");
        CloseHandle(es->h);
        return false;
    }
    es->tio = (double)info.access_ns;
    es->isa = info.access_ns >= SIM_US(1);
    es->rmode = dinfo.Mode == DONG_MODE_BYTE ? FLOOR_BYTE : FLOOR_NIBBLE;
    snprintf(es->base, sizeof(es->base), "echo512.%s-%s", bus_name(info.access_ns), ep->chip);
    printf("%s (%s, %s chip, tIO %.0f ns), %s mode\n", ep->port, es->isa ? "ISA" : "PCIe",
           ep->chip, es->tio, es->rmode == FLOOR_BYTE ? "byte" : "nibble");
    return true;
}

/* exchange_floor - the ECHO 512 floors per byte moved on the port of es. */
static floor_pair exchange_floor(const echo_setup *es)
{
    floor_pair fx = floor_echo(es->rmode, ECHO_PAYLOAD, es->tio, (double)SIM_KEY_DEFAULT_ANSWER_NS);

    fx.accesses /= 2.0 * ECHO_FRAME;
    fx.ns /= 2.0 * ECHO_FRAME;
    return fx;
}

/* bench_echo_port - ECHO 512 on one port of the machine: handshakes edge to edge,
   the whole exchange by DeviceIoControl and by WriteFile + ReadFile. */
static void bench_echo_port(sim_machine *m, const echo_port *ep)
{
    static DONG_TRANSACT_RESPONSE resp;
    const char *rname;
    echo_setup es;
    floor_pair fwd, rev, whole;
    char name[96];
    tap t;

    if (!echo_open(m, ep, &es))
        return;
    rname = es.rmode == FLOOR_BYTE ? "byte" : "nibble";
    if (!tap_install(&t, m, es.index)) {
        fail("no key to tap");
        CloseHandle(es.h);
        return;
    }
    bool ok = measure_exchange(m, es.h, 1, false, &resp, &whole);
    tap_remove(&t);
    uint64_t rev_edges = es.rmode == FLOOR_BYTE ? ECHO_FRAME : 2 * ECHO_FRAME;
    if (!ok || t.fwd.edges != ECHO_FRAME || t.rev.edges != rev_edges) {
        fail("ECHO 512 failed, was retried, or its edges did not add up");
        CloseHandle(es.h);
        return;
    }
    fwd = span_per_edge(&t.fwd);
    rev = span_per_edge(&t.rev);
    if (es.rmode == FLOOR_NIBBLE) {
        rev.accesses *= 2;
        rev.ns *= 2;
    }
    snprintf(name, sizeof(name), "%s.forward", es.base);
    echo_row(name, "forward (per byte)", fwd,
             floor_per_byte(FLOOR_FORWARD, es.tio, (double)SIM_KEY_DEFAULT_ANSWER_NS), es.isa);
    snprintf(name, sizeof(name), "%s.%s", es.base, rname);
    echo_row(name, es.rmode == FLOOR_BYTE ? "byte reverse (per byte)" : "nibble reverse (per byte)",
             rev, floor_per_byte(es.rmode, es.tio, (double)SIM_KEY_DEFAULT_ANSWER_NS), es.isa);
    snprintf(name, sizeof(name), "%s.exchange", es.base);
    echo_row(name, "DeviceIoControl, per byte", whole, exchange_floor(&es), es.isa);

    if (!measure_exchange(m, es.h, 2, true, &resp, &whole)) {
        fail("WriteFile + ReadFile ECHO failed");
    } else {
        snprintf(name, sizeof(name), "%s.writefile_readfile", es.base);
        echo_row(name, "WriteFile+ReadFile, per byte", whole, exchange_floor(&es), es.isa);
    }
    CloseHandle(es.h);
}

/* echo_header - the column heads of an ECHO table. */
static void echo_header(void)
{
    printf("  %-28s %7s %7s  %6s  %8s %8s  %6s\n", "", "acc/B", "floor", "ratio", "ns/B", "floor",
           "ratio");
}

/* bench_echo - section 1: ECHO 512 on every port of echo_ports. */
static void bench_echo(sim_machine *m)
{
    printf("ECHO of %u bytes through the whole stack (Win32 -> IRP -> DongLpt -> port -> key)\n",
           ECHO_PAYLOAD);
    printf("frames of %u bytes each way; handshakes measured edge to edge, the exchange per\n"
           "byte moved (%u), session open and close included (the driver's default)\n\n",
           ECHO_FRAME, 2 * ECHO_FRAME);
    echo_header();
    for (size_t i = 0; i < sizeof(echo_ports) / sizeof(echo_ports[0]); i++)
        bench_echo_port(m, &echo_ports[i]);
    printf("  (target: ISA accesses and time <= x%.2f of their floors, PCIe time <= x%.2f)\n\n",
           ISA_LIMIT, PCIE_LIMIT);
}

/* bench_echo_kept - the exchange again on a machine booted with keep-port.reg:
   DongLpt keeps the port and the key session while the handle is open. */
static void bench_echo_kept(sim_machine *m)
{
    static DONG_TRANSACT_RESPONSE resp;
    floor_pair whole;
    echo_setup es;
    char name[96];

    printf("ECHO of %u bytes with AllocatePerOpen = 1 (port and key session kept)\n\n",
           ECHO_PAYLOAD);
    echo_header();
    for (size_t i = 0; i < sizeof(echo_ports) / sizeof(echo_ports[0]); i++) {
        if (!echo_open(m, &echo_ports[i], &es))
            continue;
        if (!measure_exchange(m, es.h, 3, false, &resp, &whole)) {
            fail("ECHO 512 failed or was retried");
        } else {
            snprintf(name, sizeof(name), "%s.exchange_session_kept", es.base);
            echo_row(name, "DeviceIoControl, per byte", whole, exchange_floor(&es), es.isa);
        }
        CloseHandle(es.h);
    }
    printf("\n");
}

/* ----------------------------------------------------- 2. null round trips */

typedef bool call_fn(void *ctx);

/* Fastest of many short rounds (one that no other process interrupted), in host ns
   per call; -1 when a call failed. */
static double time_calls(call_fn *fn, void *ctx)
{
    unsigned rounds = quick ? 2 : 50;
    unsigned calls = quick ? 500 : 4000;
    double best = -1;

    for (unsigned r = 0; r < rounds; r++) {
        double t0 = clock_ns(CLOCK_MONOTONIC);
        for (unsigned i = 0; i < calls; i++) {
            if (!fn(ctx))
                return -1;
        }
        double per = (clock_ns(CLOCK_MONOTONIC) - t0) / calls;
        if (best < 0 || per < best)
            best = per;
    }
    return best;
}

/* call_benchnull - one null IOCTL to BenchNull (ctx: the handle). */
static bool call_benchnull(void *ctx)
{
    DWORD bytes;

    return DeviceIoControl(*(HANDLE *)ctx, IOCTL_BENCHNULL_NOTHING, NULL, 0, NULL, 0, &bytes, NULL) != 0;
}

/* call_get_timeouts - one GET_TIMEOUTS to DongLpt (ctx: the handle). */
static bool call_get_timeouts(void *ctx)
{
    DONG_TIMEOUTS to;
    DWORD bytes;

    return DeviceIoControl(*(HANDLE *)ctx, IOCTL_DONG_GET_TIMEOUTS, NULL, 0, &to, sizeof(to), &bytes,
                           NULL) != 0;
}

/* call_linux_ioctl - one ioctl(FIONREAD) system call (ctx: a pipe's fd). */
static bool call_linux_ioctl(void *ctx)
{
    int avail;

    return ioctl(*(int *)ctx, FIONREAD, &avail) == 0;
}

/* bench_null - section 2: the null round trips, printed side by side. */
static void bench_null(void)
{
    double null_ns = -1, dong_ns = -1, linux_ns = -1;
    HANDLE h;
    int fds[2];

    if (nthost_service_start("BenchNull") != 0) {
        fail("cannot start BenchNull");
    } else {
        h = CreateFileA(BENCHNULL_WIN32_NAME_A, GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL);
        if (h == INVALID_HANDLE_VALUE) {
            fail("cannot open BenchNull");
        } else {
            null_ns = time_calls(call_benchnull, &h);
            CloseHandle(h);
        }
        nthost_service_stop("BenchNull");
    }
    h = open_port(0);
    if (h != INVALID_HANDLE_VALUE) {
        dong_ns = time_calls(call_get_timeouts, &h);
        CloseHandle(h);
    }
    if (pipe(fds) == 0) {
        linux_ns = time_calls(call_linux_ioctl, &fds[0]);
        close(fds[0]);
        close(fds[1]);
    }
    if (null_ns < 0 || dong_ns < 0 || linux_ns < 0) {
        fail("a null round trip failed");
        return;
    }
    printf("Null round trips (host time per call, fastest of several rounds)\n");
    printf("  nthost DeviceIoControl -> BenchNull (completed in dispatch) %8.1f ns  "
           "(target < %.0f ns: %s)\n", null_ns, NULL_TARGET_NS, null_ns < NULL_TARGET_NS ? "ok" : "MISSED");
    printf("  nthost DeviceIoControl -> DongLpt GET_TIMEOUTS              %8.1f ns\n", dong_ns);
    printf("  Linux ioctl(FIONREAD) on a pipe (a real system call)       %8.1f ns\n", linux_ns);
    printf("  nthost null IOCTL / Linux ioctl                            x%.2f\n\n",
           null_ns / linux_ns);
    report_figure("nthost.null_ioctl", null_ns, "ns", 0);
    report_figure("nthost.donglpt_get_timeouts", dong_ns, "ns", 0);
    report_figure("linux.ioctl_fionread", linux_ns, "ns", 0);
}

/* ------------------------------------------ 3. bus time per host CPU second */

/* Machine seconds per host CPU second of the simulator alone: the reference host
   routine's ECHO 512 on a bare ISA PS/2 port and key, session kept open. */
static void bench_sim_speed(void)
{
    static uint8_t payload[ECHO_PAYLOAD];
    sim_clock *clk = sim_clock_create();
    sim_bus *bus = sim_bus_create(clk);
    sim_port *port = sim_port_create(bus, 0x378, 7, SIM_CHIP_PS2, SIM_US(1));
    sim_key_config cfg;
    refhost_resp resp;
    refhost h;
    char err[256];
    double budget = quick ? 2e7 : 3e8;

    memset(&cfg, 0, sizeof(cfg));
    sim_peripheral *key = sim_key_create(clk, &cfg, NULL, err, sizeof(err));
    if (port == NULL || key == NULL) {
        fail("cannot build the bare simulator");
        goto out;
    }
    sim_port_attach(port, key);
    sim_clock_advance(clk, SIM_MS(100));
    refhost_init(&h, bus, 0x378, SIM_US(1));
    if (refhost_open(&h, 0x4D) != RH_OK) {
        fail("reference host: no session");
        goto out;
    }
    sim_time_t m0 = sim_now(clk);
    double c0 = cpu_ns(), c1;
    unsigned n = 0;
    do {
        payload[0] = (uint8_t)n;
        if (refhost_transact(&h, (uint8_t)(n + 1), DL1_CMD_ECHO, payload, ECHO_PAYLOAD, &resp) != RH_OK ||
            resp.status != 0) {
            fail("reference host: ECHO failed");
            goto out;
        }
        n++;
        c1 = cpu_ns();
    } while (c1 - c0 < budget);
    double ratio = (double)(sim_now(clk) - m0) / (c1 - c0);
    printf("Simulated bus time per second of host CPU time (ISA PS/2, ECHO 512, byte mode)\n");
    printf("  simulator alone (reference host routine)   %8.2f s/s  (%u requests)\n", ratio, n);
    report_figure("sim.bus_time_per_cpu_second", ratio, "s/s", 1.0);
out:
    if (port)
        sim_port_destroy(port);
    else if (key)
        key->ops->destroy(key);
    sim_bus_destroy(bus);
    sim_clock_destroy(clk);
}

/* The same through the whole stack: DeviceIoControl on LPT1 (ISA PS/2). */
static void bench_stack_speed(sim_machine *m)
{
    static DONG_TRANSACT_RESPONSE resp;
    sim_clock *clk = sim_machine_clock(m);
    double budget = quick ? 2e7 : 3e8;
    HANDLE h = open_port(0);
    unsigned n = 0;

    /* The first request waits out the key's power-up and measures tIO. */
    if (h == INVALID_HANDLE_VALUE || !echo_ioctl(h, 0, &resp)) {
        fail("cannot open DongLpt1, or its first ECHO failed");
        if (h != INVALID_HANDLE_VALUE)
            CloseHandle(h);
        return;
    }
    sim_time_t m0 = sim_now(clk);
    double c0 = cpu_ns(), c1;
    do {
        if (!echo_ioctl(h, n, &resp)) {
            fail("ECHO failed");
            CloseHandle(h);
            return;
        }
        n++;
        c1 = cpu_ns();
    } while (c1 - c0 < budget);
    CloseHandle(h);
    double ratio = (double)(sim_now(clk) - m0) / (c1 - c0);
    printf("  whole stack (DeviceIoControl -> DongLpt)   %8.2f s/s  (%u requests, %.1f us CPU each)\n",
           ratio, n, (c1 - c0) / n / 1000.0);
    printf("  (1 s/s = as fast as the real port; above it the simulation outruns the hardware)\n\n");
    report_figure("nthost.bus_time_per_cpu_second", ratio, "s/s", 1.0);
}

/* ----------------------------------------------------------- 4. throughput */

typedef struct client {
    unsigned port_index;
    unsigned seed;
    unsigned requests;
    bool queued;        /* all its requests at once, overlapped, instead of one by one */
    unsigned retries;   /* link retries its requests needed */
    bool ok;
} client;

#define MAX_QUEUED 64   /* requests in flight per queued client */

/* client_queued - a queued client: every request submitted overlapped on one
   handle before the first is waited for, so the port's worker always has the next
   request in its queue (and, with two ports, both workers always have work). */
static bool client_queued(client *c)
{
    static DONG_TRANSACT_REQUEST req[MAX_CLIENTS][MAX_QUEUED];
    static DONG_TRANSACT_RESPONSE resp[MAX_CLIENTS][MAX_QUEUED];
    OVERLAPPED ov[MAX_QUEUED];
    char name[32];
    unsigned n = c->requests < MAX_QUEUED ? c->requests : MAX_QUEUED;
    bool ok = true;

    snprintf(name, sizeof(name), DONG_WIN32_NAME_FORMAT_A, c->port_index + 1);
    HANDLE h = CreateFileA(name, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                           OPEN_EXISTING, FILE_FLAG_OVERLAPPED, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return false;
    for (unsigned i = 0; i < n; i++) {
        echo_request(&req[c->seed][i], c->seed * 1000 + i);
        memset(&ov[i], 0, sizeof(ov[i]));
        ov[i].hEvent = CreateEventA(NULL, TRUE, FALSE, NULL);
        if (!DeviceIoControl(h, IOCTL_DONG_TRANSACT_READ, &req[c->seed][i],
                             DONG_TRANSACT_REQUEST_HEADER + ECHO_PAYLOAD, &resp[c->seed][i],
                             sizeof(resp[c->seed][i]), NULL, &ov[i]) &&
            GetLastError() != ERROR_IO_PENDING)
            ok = false;
    }
    for (unsigned i = 0; i < n; i++) {
        DWORD bytes = 0;
        if (!GetOverlappedResult(h, &ov[i], &bytes, TRUE) || !echo_ok(&req[c->seed][i], &resp[c->seed][i], bytes))
            ok = false;
        c->retries += resp[c->seed][i].Retries;
        CloseHandle(ov[i].hEvent);
    }
    CloseHandle(h);
    return ok && n == c->requests;
}

/* client_main - a throughput client: its requests on its own handle. */
static DWORD WINAPI client_main(LPVOID arg)
{
    client *c = arg;
    DONG_TRANSACT_RESPONSE resp;

    if (c->queued) {
        c->ok = client_queued(c);
        return 0;
    }
    HANDLE h = open_port(c->port_index);
    c->ok = h != INVALID_HANDLE_VALUE;
    for (unsigned i = 0; c->ok && i < c->requests; i++) {
        c->ok = echo_ioctl(h, c->seed * 1000 + i, &resp);
        c->retries += resp.Retries;
    }
    if (h != INVALID_HANDLE_VALUE)
        CloseHandle(h);
    return 0;
}

/* bench_throughput_one - `threads` clients spread over `nports` ports, each making
   `requests` ECHO 512 requests on its own handle, one by one or all `queued`. */
static void bench_throughput_one(sim_machine *m, const unsigned *ports, unsigned nports,
                                 unsigned threads, unsigned requests, bool queued)
{
    client clients[MAX_CLIENTS];
    HANDLE th[MAX_CLIENTS];
    sim_clock *clk = sim_machine_clock(m);
    sim_port_info info;
    char name[96];

    sim_machine_port_info(m, ports[0], &info);
    sim_time_t m0 = sim_now(clk);
    double c0 = cpu_ns();
    for (unsigned i = 0; i < threads; i++) {
        clients[i].port_index = ports[i % nports];
        clients[i].seed = i;
        clients[i].requests = requests;
        clients[i].queued = queued;
        clients[i].retries = 0;
        clients[i].ok = false;
        th[i] = CreateThread(NULL, 0, client_main, &clients[i], 0, NULL);
        if (th[i] == NULL) {
            fail("CreateThread failed");
            threads = i;
            break;
        }
    }
    WaitForMultipleObjects(threads, th, TRUE, INFINITE);
    double cpu = cpu_ns() - c0;
    double machine = (double)(sim_now(clk) - m0);
    unsigned retries = 0;
    for (unsigned i = 0; i < threads; i++) {
        CloseHandle(th[i]);
        retries += clients[i].retries;
        if (!clients[i].ok) {
            fail("a client's ECHO failed");
            return;
        }
    }

    double bytes = (double)threads * requests * ECHO_PAYLOAD;
    double per_byte = machine / bytes;
    double fl = floor_echo_throughput_ns(FLOOR_BYTE, ECHO_PAYLOAD, nports, (double)info.access_ns,
                                         (double)SIM_KEY_DEFAULT_ANSWER_NS);
    double reqs_per_cpu_s = threads * requests / (cpu / 1e9);

    printf("  %u port%s, %u thread%s%s  %9.1f KiB/s  %8.1f ns/B  floor %8.1f  x%.3f  %8.0f req/CPU s"
           "  %u retries\n", nports, nports > 1 ? "s" : " ", threads, threads > 1 ? "s" : " ",
           queued ? ", queued" : "", bytes / 1024.0 / (machine / 1e9), per_byte, fl, per_byte / fl,
           reqs_per_cpu_s, retries);
    snprintf(name, sizeof(name), "throughput.%s-ps2.%uport.%uthreads%s.time_per_byte",
             bus_name(info.access_ns), nports, threads, queued ? ".queued" : "");
    report_figure(name, per_byte, "ns", fl);
    snprintf(name, sizeof(name), "throughput.%s-ps2.%uport.%uthreads%s.requests_per_cpu_second",
             bus_name(info.access_ns), nports, threads, queued ? ".queued" : "");
    report_figure(name, reqs_per_cpu_s, "req/s", 0);
}

/* bench_throughput - section 4: LPT1 alone, then LPT1 and LPT5 together. */
static void bench_throughput(sim_machine *m)
{
    int a = sim_machine_find_port(m, "LPT1");
    int b = sim_machine_find_port(m, "LPT5");
    unsigned total = quick ? 8 : 64;   /* requests per run, whatever the thread count */

    if (a < 0 || b < 0) {
        fail("bench machine: LPT1 or LPT5 missing");
        return;
    }
    unsigned one[1] = { (unsigned)a }, two[2] = { (unsigned)a, (unsigned)b };
    /* A port's first request waits out the key's power-up and measures tIO. */
    for (unsigned i = 0; i < 2; i++) {
        static DONG_TRANSACT_RESPONSE resp;
        HANDLE h = open_port(two[i]);
        bool ok = h != INVALID_HANDLE_VALUE && echo_ioctl(h, 0, &resp);

        if (h != INVALID_HANDLE_VALUE)
            CloseHandle(h);
        if (!ok) {
            fail("throughput warm-up ECHO failed");
            return;
        }
    }
    printf("Throughput of ECHO %u (ISA PS/2 ports, byte mode; machine time; payload bytes)\n",
           ECHO_PAYLOAD);
    bench_throughput_one(m, one, 1, 1, total, false);
    bench_throughput_one(m, one, 1, 2, total / 2, false);
    bench_throughput_one(m, one, 1, 8, total / 8, false);
    bench_throughput_one(m, two, 2, 2, total / 2, false);
    bench_throughput_one(m, two, 2, 8, total / 8, false);
    bench_throughput_one(m, one, 1, 1, total, true);
    bench_throughput_one(m, two, 2, 2, total / 2, true);
    printf("  (floor: the ECHO's time floor per port, or every port's access floor made one\n"
           "   access at a time by the one processor, whichever is longer)\n\n");
}

/* ------------------------------------------------------------------- main */

/* boot - nthost on the bench machine; extra_reg (or NULL) is imported last. */
static const char *boot(const char *extra_reg)
{
    const char *regs[] = { BENCH_PARPORT_REG, BENCH_DONGLPT_REG, BENCH_NULL_REG, extra_reg, NULL };
    nthost_config cfg;

    memset(&cfg, 0, sizeof(cfg));
    cfg.machine = BENCH_MACHINE;
    cfg.reg_files = regs;
    cfg.time_mode = NTHOST_TIME_VIRTUAL;
    cfg.verifier = NTHOST_VERIFIER_DEFAULT;
    cfg.driver_dir = BENCH_DRIVER_DIR;
    return nthost_boot(&cfg);
}

/* main - parse the options, run the sections, print the BENCH lines. */
int main(int argc, char **argv)
{
    const char *why;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = true;
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else {
            fprintf(stderr, "usage: dongbench [--quick] [--only speed|echo|null|throughput]\n");
            return 2;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("DongLpt benchmarks%s: machine %s\n", quick ? " (quick)" : "", BENCH_MACHINE);
    /* Machine-time figures do not depend on the build; host times do. */
    printf("%s\n\n", DBG ? "checked build (DBG=1, verifier on, no optimisation): host times "
                           "are not representative, use `make bench`"
                         : "free build");

    if (wanted("speed"))
        bench_sim_speed();
    why = boot(NULL);
    if (why != NULL) {
        fprintf(stderr, "dongbench: nthost_boot: %s\n", why);
        return 1;
    }
    if (wanted("speed"))
        bench_stack_speed(nthost_machine());
    if (wanted("echo"))
        bench_echo(nthost_machine());
    if (wanted("null"))
        bench_null();
    if (wanted("throughput"))
        bench_throughput(nthost_machine());
    nthost_shutdown();
    if (wanted("echo")) {
        why = boot(BENCH_KEEP_REG);
        if (why != NULL) {
            fprintf(stderr, "dongbench: nthost_boot: %s\n", why);
            return 1;
        }
        bench_echo_kept(nthost_machine());
        nthost_shutdown();
    }

    report_flush();
    return failures ? 1 : 0;
}
