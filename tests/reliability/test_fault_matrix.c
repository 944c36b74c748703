/*
 * test_fault_matrix.c — every fault of DL1.md section 9, injected in every phase of a
 * request, on every transfer mode, through the real driver stack (issue 6).
 *
 * A case is (fault, phase, mode, command). A watcher on the machine clock follows the
 * key's state and injects the fault the moment the request reaches the phase:
 *   negotiation  the key is NEGOTIATING or in LINK
 *   forward      SESSION-FORWARD with 3 bytes of this request latched
 *   execution    SESSION-EXEC
 *   reverse      SESSION-REVERSE with 2 response bytes handed over
 *   termination  TERMINATING
 * A lasting fault is cleared by the machine itself after a short (2 ms, inside the
 * driver's retries) or a long (300 ms, beyond them) time. The command is an ECHO, a
 * COUNTER_DEC or a one-page WRITE, so both read-only and key-changing requests meet
 * every fault.
 *
 * Each case must end in success with the right answer (always, for the faults the
 * driver must absorb: one-off faults, a slow key, missing nAck pulses, a worn page,
 * a printer fault behind the key), or in an error the driver documents (docs/DRIVER.md, docs/LINK.md); never in a hang (nthost's virtual-time
 * deadlock detection turns one into a report) nor with an IRP left over. A
 * key-changing command that failed with anything but ERROR_RETRY must not have run;
 * one that ended in ERROR_RETRY ("outcome unknown") is resent with its txid and must
 * then have run exactly once. After the fault clears, the next request on the same
 * handle succeeds at once: nothing is restarted. At the end DongLpt is stopped and
 * the namespace and the pool are back to their state before it started.
 *
 * Printed: cases run, faults injected, failures, and every outcome per fault.
 */
#include "rel_rig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define SHORT_CLEAR      SIM_MS(2)
#define LONG_CLEAR       SIM_MS(300)
#define SETTLE_MS        250u          /* after a clear: power-up NOT-READY is 100 ms */
#define WATCH_PERIOD     SIM_US(1)
#define WATCH_LIFETIME   SIM_S(20)
#define COUNTER_INDEX    3u
#define COUNTER_START    1000000u
#define WRITE_ADDR       0x400u
#define WRITE_PAGE       (WRITE_ADDR / 16u)
#define ECHO_LEN         48u
#define NOISE_P          0.02          /* each status line of each read flips with this */

typedef enum phase { PH_NEGOTIATION, PH_FORWARD, PH_EXECUTION, PH_REVERSE, PH_TERMINATION, PHASES } phase;
static const char *const phase_name[PHASES] = { "negotiation", "forward", "execution", "reverse",
                                                "termination" };

typedef enum action { ACT_KEY, ACT_PRINTER, ACT_NOISE } action;

typedef struct fault_def {
    const char *name;
    action act;
    sim_key_fault on;           /* ACT_KEY: what to inject */
    sim_key_fault off;          /* ACT_KEY with lasting: what clears it */
    sim_printer_state pstate;   /* ACT_PRINTER */
    bool lasting;               /* cleared after a delay (short and long variants) */
    bool transparent;           /* the driver must absorb it: the request succeeds */
} fault_def;

#define KF(k, a) { .kind = SIM_KEY_FAULT_##k, .arg = (a) }
#define KEY_FAULT(n, k, a, ok_, oa, last, tr) \
    { .name = (n), .act = ACT_KEY, .on = KF(k, a), .off = KF(ok_, oa), .lasting = (last), \
      .transparent = (tr) }
/* A printer behind the key is cut off while the key holds a session (DL1.md section 2). */
#define PRINTER_FAULT(n, st) \
    { .name = (n), .act = ACT_PRINTER, .pstate = (st), .lasting = true, .transparent = true }
/* Power loss also stands for "a printer attached with no key": while the key is off,
   its passive pass-through shows the host the printer behind it. */
static const fault_def faults[] = {
    /* One-off faults are within the retries; the forward handshake waits on Busy, not
       on nAck pulses (docs/LINK.md); a slow key still answers within the timeouts; a
       worn page is a key status (EEPROM_FAULT), not a link failure. */
    KEY_FAULT("unplug", UNPLUG, 0, PLUG, 0, true, false),
    KEY_FAULT("power loss", POWER_LOSS, 0, POWER_ON, 0, true, false),
    KEY_FAULT("stuck Busy", STUCK_BUSY, 1, STUCK_BUSY, 0, true, false),
    KEY_FAULT("missing nAck x1", MISSING_NACK, 1, MISSING_NACK, 0, false, true),
    KEY_FAULT("missing nAck", MISSING_NACK, UINT32_MAX, MISSING_NACK, 0, true, true),
    KEY_FAULT("slow key x8", SLOW, 8, SLOW, 1, true, true),
    KEY_FAULT("dropped byte x1", DROP_FORWARD, 1, DROP_FORWARD, 0, false, true),
    KEY_FAULT("dropped bytes", DROP_FORWARD, UINT32_MAX, DROP_FORWARD, 0, true, false),
    KEY_FAULT("bad CRC x1", CORRUPT_CRC, 1, CORRUPT_CRC, 0, false, true),
    KEY_FAULT("bad CRC", CORRUPT_CRC, UINT32_MAX, CORRUPT_CRC, 0, true, false),
    KEY_FAULT("worn page", WORN_PAGE, WRITE_PAGE, HEAL_PAGE, WRITE_PAGE, true, true),
    { .name = "noise p=0.02", .act = ACT_NOISE, .lasting = true },
    PRINTER_FAULT("printer busy", SIM_PRINTER_BUSY),
    PRINTER_FAULT("printer off line", SIM_PRINTER_OFFLINE),
    PRINTER_FAULT("printer paper out", SIM_PRINTER_PAPER_OUT),
    PRINTER_FAULT("printer powered off", SIM_PRINTER_POWERED_OFF),
};
#define FAULTS (sizeof faults / sizeof faults[0])

enum { CMD_ECHO, CMD_DEC, CMD_WRITE, CMDS };
static const char *const cmd_name[CMDS] = { "ECHO", "COUNTER_DEC", "WRITE" };

/* The Win32 errors a failed request may end in (docs/DRIVER.md's tables). */
static const DWORD documented[] = {
    ERROR_SEM_TIMEOUT, ERROR_DEVICE_NOT_CONNECTED, ERROR_DEV_NOT_EXIST, ERROR_OUT_OF_PAPER,
    ERROR_NOT_READY, ERROR_BUSY, ERROR_CRC, ERROR_IO_DEVICE, ERROR_NOT_SUPPORTED,
};

/* ------------------------------------------------------------------ watcher */

typedef struct watcher {
    sim_event ev;               /* polls the key's state */
    sim_event clear_ev;         /* ends a noise fault */
    unsigned port;
    const fault_def *f;
    phase ph;
    sim_time_t clear_after;
    sim_time_t started, fired_at;
    uint64_t fwd_base, rev_base;
    bool fired;
} watcher;

/* apply - inject w's fault now, and arrange its end when it lasts. */
static void apply(watcher *w, sim_time_t now)
{
    const fault_def *f = w->f;
    sim_key *k = rig_key(w->port);
    sim_key_trigger at = { .kind = SIM_KEY_TRIGGER_AT, .time = now };
    sim_key_trigger end = { .kind = SIM_KEY_TRIGGER_AT, .time = now + w->clear_after };

    switch (f->act) {
    case ACT_KEY: {
        sim_key_fault on = f->on;
        if (on.kind == SIM_KEY_FAULT_POWER_LOSS)
            on.duration = w->clear_after;
        assert_int_equal(sim_key_inject(k, &at, &on), 0);
        if (f->lasting && on.kind != SIM_KEY_FAULT_POWER_LOSS)
            assert_int_equal(sim_key_inject(k, &end, &f->off), 0);
        break;
    }
    case ACT_PRINTER:
        sim_printer_set_state(rig_printer(w->port), f->pstate);
        sim_printer_set_state_at(rig_printer(w->port), SIM_PRINTER_ONLINE, now + w->clear_after);
        break;
    case ACT_NOISE:
        sim_port_set_noise(rig_port(w->port), NOISE_P, now);
        sim_event_schedule(rig_clock(), &w->clear_ev, now + w->clear_after);
        break;
    }
    w->fired = true;
    w->fired_at = now;
}

/* in_phase - whether the key is in the watched phase of the request. */
static bool in_phase(const watcher *w, sim_key *k)
{
    sim_key_stats st;

    sim_key_get_stats(k, &st);
    switch (w->ph) {
    case PH_NEGOTIATION:
        return sim_key_get_state(k) == SIM_KEY_NEGOTIATING || sim_key_get_state(k) == SIM_KEY_LINK;
    case PH_FORWARD:
        return sim_key_get_state(k) == SIM_KEY_SESSION_FORWARD && st.forward_bytes >= w->fwd_base + 3;
    case PH_EXECUTION:
        return sim_key_get_state(k) == SIM_KEY_SESSION_EXEC;
    case PH_REVERSE:
        return sim_key_get_state(k) == SIM_KEY_SESSION_REVERSE && st.reverse_bytes >= w->rev_base + 2;
    case PH_TERMINATION:
        return sim_key_get_state(k) == SIM_KEY_TERMINATING;
    default:
        return false;
    }
}

static void watch_tick(sim_event *ev, void *ctx)
{
    watcher *w = ctx;
    sim_time_t now = sim_now(rig_clock());

    if (in_phase(w, rig_key(w->port))) {
        apply(w, now);
        return;
    }
    if (now - w->started < WATCH_LIFETIME)
        sim_event_schedule(rig_clock(), ev, now + WATCH_PERIOD);
}

static void noise_off(sim_event *ev, void *ctx)
{
    watcher *w = ctx;
    (void)ev;
    sim_port_set_noise(rig_port(w->port), 0.0, 0);
}

static void watch_start(watcher *w, unsigned port, const fault_def *f, phase ph, sim_time_t clear)
{
    sim_key_stats st;

    memset(w, 0, sizeof *w);
    w->port = port;
    w->f = f;
    w->ph = ph;
    w->clear_after = clear;
    sim_key_get_stats(rig_key(port), &st);
    w->fwd_base = st.forward_bytes;
    w->rev_base = st.reverse_bytes;
    w->started = sim_now(rig_clock());
    sim_event_init(&w->ev, watch_tick, w);
    sim_event_init(&w->clear_ev, noise_off, w);
    sim_event_schedule(rig_clock(), &w->ev, w->started);
}

/* watch_end - stop watching and put every fault back to normal (a count-limited
   fault injected late may still be armed). */
static void watch_end(watcher *w)
{
    static const sim_key_fault reset[] = {
        KF(STUCK_BUSY, 0), KF(MISSING_NACK, 0), KF(SLOW, 1), KF(DROP_FORWARD, 0),
        KF(CORRUPT_CRC, 0), KF(HEAL_PAGE, WRITE_PAGE), KF(PLUG, 0), KF(POWER_ON, 0),
    };
    sim_key_trigger now = { .kind = SIM_KEY_TRIGGER_NOW };
    sim_key *k = rig_key(w->port);

    sim_event_cancel(rig_clock(), &w->ev);
    if (sim_event_pending(&w->clear_ev)) {
        sim_event_cancel(rig_clock(), &w->clear_ev);
        sim_port_set_noise(rig_port(w->port), 0.0, 0);
    }
    for (size_t i = 0; i < sizeof reset / sizeof reset[0]; i++)
        assert_int_equal(sim_key_inject(k, &now, &reset[i]), 0);
    sim_printer_set_state(rig_printer(w->port), SIM_PRINTER_ONLINE);
}

/* ------------------------------------------------------------------- figures */

#define MAX_OUTCOMES 12
typedef struct outcome_count {
    DWORD err;                  /* 0 success, else the Win32 error */
    unsigned n;
} outcome_count;

typedef struct matrix {
    HANDLE h[RIG_PORTS];
    uint64_t rng;
    unsigned cases, injected, failures;
    outcome_count outcomes[FAULTS][MAX_OUTCOMES];
} matrix;

static void count_outcome(matrix *m, size_t fi, DWORD err)
{
    for (unsigned i = 0; i < MAX_OUTCOMES; i++) {
        if (m->outcomes[fi][i].n == 0 || m->outcomes[fi][i].err == err) {
            m->outcomes[fi][i].err = err;
            m->outcomes[fi][i].n++;
            return;
        }
    }
}

static bool is_documented(DWORD err)
{
    for (size_t i = 0; i < sizeof documented / sizeof documented[0]; i++)
        if (documented[i] == err)
            return true;
    return false;
}

#define CASE_CHECK(cond, ...)                                                        \
    do {                                                                             \
        if (!(cond)) {                                                               \
            printf("FAIL %s / %s / %s / %s: ", f->name, phase_name[ph],              \
                   rig_mode_name[port], cmd_name[cmd]);                              \
            printf(__VA_ARGS__);                                                     \
            printf("\n");                                                            \
            m->failures++;                                                           \
            ok = false;                                                              \
        }                                                                            \
    } while (0)

/* build - the payload of cmd for this case. A key-changing command carries the
   caller's own txid (DONG_TRANSACT_CALLER_TXID): a failed DeviceIoControl copies no
   output back (METHOD_BUFFERED), so only a txid the caller chose can be resent. */
static USHORT build(int cmd, UCHAR *p, UCHAR fill, uint32_t txid)
{
    switch (cmd) {
    case CMD_ECHO:
        for (unsigned i = 0; i < ECHO_LEN; i++)
            p[i] = (UCHAR)(fill + i);
        return ECHO_LEN;
    case CMD_DEC:
        rig_put32(p, txid);
        p[4] = COUNTER_INDEX;
        rig_put32(p + 5, 1);
        return 9;
    default:
        rig_put32(p, txid);
        rig_put16(p + 4, WRITE_ADDR);
        memset(p + 6, fill, 16);
        return 22;
    }
}

static void run_case(matrix *m, size_t fi, phase ph, unsigned port, int cmd, sim_time_t clear)
{
    static const UCHAR wire[CMDS] = { DL1_CMD_ECHO, DL1_CMD_COUNTER_DEC, DL1_CMD_WRITE };
    const fault_def *f = &faults[fi];
    sim_key *k = rig_key(port);
    HANDLE h = m->h[port];
    DONG_TRANSACT_RESPONSE resp;
    UCHAR payload[64], old_page[16], new_page[16], page_now[16];
    UCHAR fill = (UCHAR)(rig_rand(&m->rng) % 0xFE);   /* never the erased 0xFF */
    uint32_t txid = (uint32_t)rig_rand(&m->rng) | 1u;
    size_t irps = nthost_irps_outstanding();
    uint32_t count_before = sim_key_counter(k, COUNTER_INDEX);
    UCHAR flags = cmd == CMD_ECHO ? 0 : DONG_TRANSACT_CALLER_TXID;
    USHORT len = build(cmd, payload, fill, txid);
    bool ok = true, ran, unknown = false;
    watcher w;
    DWORD err;

    sim_key_read_eeprom(k, WRITE_ADDR, old_page, sizeof old_page);
    m->cases++;

    watch_start(&w, port, f, ph, clear);
    err = rig_transact(h, wire[cmd], flags, payload, len, &resp);
    if (err == ERROR_RETRY && cmd != CMD_ECHO) {
        /* Outcome unknown: once the fault is gone, resend the same bytes. */
        unknown = true;
        Sleep((DWORD)(clear / SIM_MS(1)) + SETTLE_MS);
        err = rig_transact(h, wire[cmd], flags, payload, len, &resp);
        CASE_CHECK(err == 0, "resend with the txid failed: error %lu", (unsigned long)err);
    }
    count_outcome(m, fi, unknown ? ERROR_RETRY : err);
    CASE_CHECK(!(unknown && f->transparent), "outcome unknown for a fault the driver must absorb");
    if (w.fired)
        m->injected++;

    if (err == 0) {
        CASE_CHECK(resp.Txid == (cmd == CMD_ECHO ? 0 : txid), "response txid 0x%08x",
                   (unsigned)resp.Txid);
        switch (cmd) {
        case CMD_ECHO:
            CASE_CHECK(resp.KeyStatus == DL1_STATUS_OK && resp.Length == ECHO_LEN &&
                           memcmp(resp.Payload, payload, ECHO_LEN) == 0,
                       "ECHO answered status 0x%02x, %u bytes", resp.KeyStatus, resp.Length);
            break;
        case CMD_DEC:
            CASE_CHECK(resp.KeyStatus == DL1_STATUS_OK && resp.Length == 4 &&
                           rig_get32(resp.Payload) == count_before - 1,
                       "COUNTER_DEC answered status 0x%02x value %u (before %u)", resp.KeyStatus,
                       (unsigned)rig_get32(resp.Payload), (unsigned)count_before);
            break;
        default:
            CASE_CHECK(resp.KeyStatus == DL1_STATUS_OK ||
                           (resp.KeyStatus == DL1_STATUS_EEPROM_FAULT &&
                            f->act == ACT_KEY && f->on.kind == SIM_KEY_FAULT_WORN_PAGE),
                       "WRITE answered status 0x%02x", resp.KeyStatus);
            break;
        }
    } else {
        CASE_CHECK(is_documented(err), "undocumented error %lu", (unsigned long)err);
        CASE_CHECK(!f->transparent, "error %lu for a fault the driver must absorb",
                   (unsigned long)err);
    }

    /* Exactly once, or not at all when the driver said it did not happen. */
    ran = err == 0 && resp.KeyStatus == DL1_STATUS_OK;
    if (cmd == CMD_DEC)
        CASE_CHECK(sim_key_counter(k, COUNTER_INDEX) == count_before - (ran ? 1u : 0u),
                   "counter %u -> %u after %s", (unsigned)count_before,
                   (unsigned)sim_key_counter(k, COUNTER_INDEX), ran ? "one decrement" : "none");
    if (cmd == CMD_WRITE) {
        memset(new_page, fill, sizeof new_page);
        sim_key_read_eeprom(k, WRITE_ADDR, page_now, 16);
        CASE_CHECK(memcmp(page_now, ran ? new_page : old_page, 16) == 0,
                   "page holds neither what the result says (%s)", ran ? "new" : "old");
    }

    /* The fault clears by itself; then the next request succeeds on the same handle. */
    Sleep((DWORD)(clear / SIM_MS(1)) + SETTLE_MS);
    watch_end(&w);
    len = build(CMD_ECHO, payload, (UCHAR)(fill + 1), 0);
    err = rig_transact(h, DL1_CMD_ECHO, 0, payload, len, &resp);
    CASE_CHECK(err == 0 && resp.KeyStatus == DL1_STATUS_OK && memcmp(resp.Payload, payload, len) == 0,
               "request after the fault cleared: error %lu status 0x%02x", (unsigned long)err,
               resp.KeyStatus);
    CASE_CHECK(nthost_irps_outstanding() == irps, "%zu IRPs left (before: %zu)",
               nthost_irps_outstanding(), irps);
    if (!ok)
        printf("     (case %u, outcome %s%lu)\n", m->cases, unknown ? "in doubt, then " : "",
               (unsigned long)err);
}

static void test_fault_matrix(void **state)
{
    static matrix m;
    static const sim_time_t clears[2] = { SHORT_CLEAR, LONG_CLEAR };
    rel_rig rig;
    UCHAR set[5] = { COUNTER_INDEX };
    DONG_TRANSACT_RESPONSE resp;
    (void)state;

    memset(&m, 0, sizeof m);
    m.rng = rig_param("REL_SEED", 0x6A7E5EEDu);
    rig_boot(&rig, NULL, 0);
    rig_put32(set + 1, COUNTER_START);
    for (unsigned p = 0; p < RIG_PORTS; p++) {
        m.h[p] = rig_open(p, GENERIC_READ | GENERIC_WRITE, 0);
        assert_true(m.h[p] != INVALID_HANDLE_VALUE);
        assert_int_equal(rig_transact(m.h[p], DL1_CMD_COUNTER_SET, 0, set, 5, &resp), 0);
        assert_int_equal(resp.KeyStatus, DL1_STATUS_OK);
    }

    for (size_t fi = 0; fi < FAULTS; fi++)
        for (unsigned c = 0; c < (faults[fi].lasting ? 2u : 1u); c++)
            for (int ph = 0; ph < PHASES; ph++)
                for (unsigned p = 0; p < RIG_PORTS; p++)
                    for (int cmd = 0; cmd < CMDS; cmd++)
                        run_case(&m, fi, (phase)ph, p, cmd, clears[c]);

    printf("fault matrix: %u cases run, %u faults injected, %u failures\n", m.cases, m.injected,
           m.failures);
    for (size_t fi = 0; fi < FAULTS; fi++) {
        printf("  %-20s", faults[fi].name);
        for (unsigned i = 0; i < MAX_OUTCOMES && m.outcomes[fi][i].n; i++) {
            if (m.outcomes[fi][i].err)
                printf(" err%lu:%u", (unsigned long)m.outcomes[fi][i].err, m.outcomes[fi][i].n);
            else
                printf(" ok:%u", m.outcomes[fi][i].n);
        }
        printf("\n");
    }
    for (unsigned p = 0; p < RIG_PORTS; p++)
        assert_true(CloseHandle(m.h[p]));
    rig_shutdown(&rig);
    assert_int_equal(m.failures, 0);
    assert_true(m.injected > m.cases / 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fault_matrix),
    };
    return cmocka_run_group_tests_name("reliability_fault_matrix", tests, NULL, NULL);
}
