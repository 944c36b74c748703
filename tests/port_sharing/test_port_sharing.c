/*
 * test_port_sharing.c - the printer class driver (parallel) beside DongLpt, both
 * parport clients, end to end through nthost's Win32 API (issue 8).
 *
 * Each test boots the default machine's layout, written into a fresh temporary state
 * directory, with parport.reg, donglpt.reg and parallel.reg imported (plus a .reg
 * with the test's own settings), in virtual time:
 *
 *   LPT1 0x378 ps2 DL-1 key with a printer behind it  -> \Device\Parallel0, DongLpt1
 *   LPT2 0x278 spp printer                            -> \Device\Parallel1, DongLpt2
 *   LPT3 0x3BC ecp nothing                            -> \Device\Parallel2, DongLpt3
 *
 * (one test puts LPT2's printer on an ECP chip of a PCIe card). Some tests run again
 * with nthost's random preemption (PORT_SHARING_SEED picks the seed).
 *
 * What a printer received is read from the simulated machine (sim/printer.h), what
 * the key saw from its counters (sim/key.h).
 */
#include <windows.h>
#include <winioctl.h>
#include <donglpt.h>
#include <nthost/nthost.h>
#include "sim/machine.h"
#include "sim/printer.h"
#include "sim/key.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* <ntddpar.h>'s public query, as a Win32 program declares it. */
#define IOCTL_PAR_QUERY_INFORMATION CTL_CODE(FILE_DEVICE_PARALLEL_PORT, 1, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define IOCTL_PAR_IS_PORT_FREE      CTL_CODE(FILE_DEVICE_PARALLEL_PORT, 21, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define STATUS_CANCELLED_VALUE      0xC0000120u

/* parallel.mc's event codes (severity << 30 | facility 0x1C << 16 | id). */
#define LPT_MSG_DOS_NAME_TAKEN  0x801C0001u
#define LPT_MSG_BAD_PARAMETER   0x801C0002u
#define LPT_MSG_WRITE_TIMEOUT   0x801C0003u
#define LPT_MSG_NO_PORTS        0xC01C0011u
#define DONG_MSG_DOS_NAME_TAKEN 0x81070014u

#define KEY_SECRET_HEX "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"
#define DOC_SIZE       (64 * 1024)
#define SERVICES       "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\"

typedef struct fixture {
    uint64_t preempt_seed;      /* 0: round-robin only */
    const char *lpt2;           /* LPT2's chip and bus lines */
    char dir[256];
    char machine[300];
    char extra_reg[300];
} fixture;

/* ------------------------------------------------------------------ set-up */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Boot with the three service files and, when Extra is given, a .reg body of the
 * test's own keys and values. */
static void boot(fixture *fx, const char *extra)
{
    const char *regs[5] = { PARPORT_REG, DONGLPT_REG, PARALLEL_REG, NULL, NULL };
    nthost_config cfg;
    const char *err;

    if (extra != NULL) {
        char text[2048];
        snprintf(text, sizeof(text), "Windows Registry Editor Version 5.00\r\n\r\n%s", extra);
        snprintf(fx->extra_reg, sizeof(fx->extra_reg), "%s/extra.reg", fx->dir);
        write_file(fx->extra_reg, text);
        regs[3] = fx->extra_reg;
    }
    memset(&cfg, 0, sizeof(cfg));
    cfg.machine = fx->machine;
    cfg.reg_files = regs;
    cfg.time_mode = NTHOST_TIME_VIRTUAL;
    cfg.verifier = NTHOST_VERIFIER_ON;
    cfg.driver_dir = DRIVER_DIR;
    cfg.preempt_seed = fx->preempt_seed;
    err = nthost_boot(&cfg);
    if (err != NULL) {
        fail_msg("nthost_boot: %s", err);
    }
}

/* Extra: "" boots with the service files only; NULL does not boot. */
static int setup_machine(void **state, const char *extra, uint64_t preempt_seed, const char *lpt2)
{
    fixture *fx = calloc(1, sizeof(*fx));
    char text[1024];

    if (fx == NULL) {
        return -1;
    }
    fx->preempt_seed = preempt_seed;
    fx->lpt2 = lpt2;
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/port_sharing.XXXXXX");
    if (mkdtemp(fx->dir) == NULL) {
        return -1;
    }
    setenv("DONGLPT_STATE_DIR", fx->dir, 1);
    snprintf(text, sizeof(text),
             "[LPT1]\nbase = 0x378\nirq = 7\nchip = ps2\nattach = key+printer\n"
             "key.image = %s/lpt1.img\nkey.serial = 444C310000000001\nkey.secret = " KEY_SECRET_HEX "\n"
             "[LPT2]\nbase = 0x278\nirq = 5\n%sattach = printer\n"
             "[LPT3]\nbase = 0x3BC\nirq = 7\nchip = ecp\nattach = none\n",
             fx->dir, fx->lpt2);
    snprintf(fx->machine, sizeof(fx->machine), "%s/machine.ini", fx->dir);
    write_file(fx->machine, text);
    if (extra != NULL) {
        boot(fx, extra[0] != '\0' ? extra : NULL);
    }
    *state = fx;
    return 0;
}

static int setup_with(void **state, const char *extra)
{
    return setup_machine(state, extra, 0, "chip = spp\n");
}

/* LPT2 an ECP chip on a PCIe card: registers take 0.25 us, not 1 us. */
static int setup_fast_port(void **state)
{
    return setup_machine(state, "", 0, "chip = ecp\nbus = pcie\n");
}

static int setup(void **state)
{
    return setup_with(state, "");
}

/* Random preemption at preemption points, with a fixed seed so that a failure
 * reproduces; PORT_SHARING_SEED chooses another one. */
static int setup_preempt(void **state)
{
    const char *seed = getenv("PORT_SHARING_SEED");
    return setup_machine(state, "", seed != NULL ? strtoull(seed, NULL, 0) : 0x5EED0008u, "chip = spp\n");
}

/* The machine and state directory only: the test runs dongctl, its own machine. */
static int setup_no_boot(void **state)
{
    return setup_with(state, NULL);
}

/* A short write timeout, so that a printer that never recovers fails quickly. */
static int setup_short_timeout(void **state)
{
    return setup_with(state, SERVICES "Parallel\\Parameters]\r\n\"WriteTimeoutMs\"=dword:000003e8\r\n");
}

/* A write timeout of 0 ms is out of range. */
static int setup_bad_timeout(void **state)
{
    return setup_with(state, SERVICES "Parallel\\Parameters]\r\n\"WriteTimeoutMs\"=dword:00000000\r\n");
}

/* DongLpt keeps its default group and asks for COM9 as well. */
static int setup_com9(void **state)
{
    return setup_with(state, SERVICES "DongLpt\\Parameters]\r\n\"DosName\"=\"COM9\"\r\n");
}

/* DongLpt asks for LPT1 but loads in "Extended Base", after the printer driver. */
static int setup_lpt1_late(void **state)
{
    return setup_with(state, SERVICES "DongLpt\\Parameters]\r\n\"DosName\"=\"LPT1\"\r\n");
}

/* DongLpt asks for LPT1 and loads in "Parallel key", before the printer driver. */
static int setup_lpt1_early(void **state)
{
    return setup_with(state, SERVICES "DongLpt]\r\n\"Group\"=\"Parallel key\"\r\n\r\n" SERVICES
                             "DongLpt\\Parameters]\r\n\"DosName\"=\"LPT1\"\r\n");
}

/* DongLpt keeps the port while a handle is open; the printer gives up after 1 s. */
static int setup_key_holds_port(void **state)
{
    return setup_with(state, SERVICES "DongLpt\\Parameters]\r\n\"AllocatePerOpen\"=dword:00000001\r\n\r\n" SERVICES
                             "Parallel\\Parameters]\r\n\"WriteTimeoutMs\"=dword:000003e8\r\n");
}

static int teardown(void **state)
{
    fixture *fx = *state;
    char cmd[300];

    if (nthost_running()) {
        nthost_shutdown();
    }
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
    if (system(cmd) != 0) {
        return -1;
    }
    free(fx);
    return 0;
}

/* ----------------------------------------------------------------- helpers */

typedef struct link_query {
    const char *path;
    char target[128];
} link_query;

static void find_link(const nthost_object_info *obj, void *ctx)
{
    link_query *q = ctx;

    if (!strcasecmp(obj->path, q->path) && !strcmp(obj->type, "SymbolicLink") && obj->link_target != NULL) {
        snprintf(q->target, sizeof(q->target), "%s", obj->link_target);
    }
}

/* The target of \??\Name, or "" when there is no such link. */
static const char *dos_target(const char *name, link_query *q)
{
    static char path[64];

    snprintf(path, sizeof(path), "\\??\\%s", name);
    q->path = path;
    q->target[0] = '\0';
    nthost_namespace_walk(find_link, q);
    return q->target;
}

static void expect_link(const char *name, const char *target)
{
    link_query q;
    assert_string_equal(dos_target(name, &q), target);
}

static HANDLE open_name(const char *name, DWORD flags)
{
    char path[64];

    snprintf(path, sizeof(path), "\\\\.\\%s", name);
    return CreateFileA(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, flags, NULL);
}

static sim_printer *printer_of(unsigned port)
{
    sim_printer *p = sim_machine_printer(nthost_machine(), port);
    assert_non_null(p);
    return p;
}

static size_t received(unsigned port, const uint8_t **bytes)
{
    const uint8_t *dummy;
    return sim_printer_received(printer_of(port), bytes ? bytes : &dummy);
}

/* Pseudo-random document: every byte value, 0x00 and 0x5A (a DL-1 start byte) among
 * them, in an order that a lost or repeated byte would show. */
static void make_document(uint8_t *doc, size_t size, uint32_t seed)
{
    size_t i;
    for (i = 0; i < size; i++) {
        seed = seed * 1103515245u + 12345u;
        doc[i] = (uint8_t)(seed >> 16);
    }
}

static UCHAR query_status(HANDLE h)
{
    UCHAR out[4] = { 0 };
    DWORD bytes = 0;

    assert_true(DeviceIoControl(h, IOCTL_PAR_QUERY_INFORMATION, NULL, 0, out, 1, &bytes, NULL));
    assert_int_equal(bytes, 1);
    return out[0];
}

/* The index of the first event from Source with Code at or after From, or -1. */
static long find_event(size_t from, const char *source, uint32_t code)
{
    size_t i;
    for (i = from; i < nthost_errlog_count(); i++) {
        nthost_errlog_entry e;
        if (nthost_errlog_get(i, &e) && e.source != NULL && !strcasecmp(e.source, source) &&
            e.error_code == code) {
            return (long)i;
        }
    }
    return -1;
}

static void expect_event_text(long index, const char *part)
{
    char *text;

    assert_true(index >= 0);
    text = nthost_errlog_format((size_t)index);
    assert_non_null(text);
    if (strstr(text, part) == NULL) {
        fail_msg("event %ld: \"%s\" lacks \"%s\"", index, text, part);
    }
    free(text);
}

/* One DL-1 command through DongLpt; returns the key status, or -1 (GetLastError). */
static int transact(HANDLE h, UCHAR command, const void *payload, USHORT length, DONG_TRANSACT_RESPONSE *resp)
{
    DONG_TRANSACT_REQUEST req;
    DWORD bytes = 0;

    memset(&req, 0, sizeof(req));
    req.Command = command;
    req.Length = length;
    if (length != 0) {
        memcpy(req.Payload, payload, length);
    }
    if (!DeviceIoControl(h, IOCTL_DONG_TRANSACT_READ, &req, DONG_TRANSACT_REQUEST_HEADER + length, resp,
                         sizeof(*resp), &bytes, NULL)) {
        return -1;
    }
    return resp->KeyStatus;
}

static void hex_to_bytes(const char *hex, uint8_t *out, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

/* CHALLENGE with Nonce, answered MAC checked against HMAC-SHA256 of DL1.md section 7. */
static BOOL authenticate(HANDLE h, const uint8_t serial[DL1_SERIAL_SIZE], const uint8_t nonce[16])
{
    static DONG_TRANSACT_RESPONSE resp;
    uint8_t secret[32];
    uint8_t message[3 + DL1_SERIAL_SIZE + 16];
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned macLength = 0;

    if (transact(h, DL1_CMD_CHALLENGE, nonce, 16, &resp) != DL1_STATUS_OK || resp.Length != 16) {
        return FALSE;
    }
    hex_to_bytes(KEY_SECRET_HEX, secret, sizeof(secret));
    memcpy(message, "DL1", 3);
    memcpy(message + 3, serial, DL1_SERIAL_SIZE);
    memcpy(message + 3 + DL1_SERIAL_SIZE, nonce, 16);
    HMAC(EVP_sha256(), secret, sizeof(secret), message, sizeof(message), mac, &macLength);
    return macLength >= 16 && memcmp(mac, resp.Payload, 16) == 0;
}

static void dong_info(HANDLE h, DONG_INFO *info)
{
    DWORD bytes = 0;
    assert_true(DeviceIoControl(h, IOCTL_DONG_GET_INFO, NULL, 0, info, sizeof(*info), &bytes, NULL));
}

static void dong_stats(HANDLE h, DONG_STATISTICS *stats)
{
    DWORD bytes = 0;
    assert_true(DeviceIoControl(h, IOCTL_DONG_GET_STATS, NULL, 0, stats, sizeof(*stats), &bytes, NULL));
}

/* ------------------------------------------------------- names and devices */

/* The printer driver owns LPTn on every port; stopping it gives each name back to
 * its port (parport's device) and leaves nothing behind: namespace and pool are as
 * before it started. Started again, it takes the names again. */
static void test_names_and_unload(void **state)
{
    char *running;
    char *stopped;
    char *again;
    size_t pool;

    (void)state;
    running = nthost_namespace_snapshot();
    assert_non_null(strstr(running, "\\Device\\Parallel0 Device"));
    assert_non_null(strstr(running, "\\Device\\Parallel2 Device"));
    assert_null(strstr(running, "\\Device\\Parallel3"));
    expect_link("LPT1", "\\Device\\Parallel0");
    expect_link("LPT2", "\\Device\\Parallel1");
    expect_link("LPT3", "\\Device\\Parallel2");

    assert_int_equal(nthost_service_stop("Parallel"), 0);
    expect_link("LPT1", "\\Device\\ParallelPort0");
    expect_link("LPT3", "\\Device\\ParallelPort2");
    stopped = nthost_namespace_snapshot();
    assert_null(strstr(stopped, "\\Device\\Parallel0 "));
    pool = nthost_pool_outstanding();

    assert_int_equal(nthost_service_start("Parallel"), 0);
    again = nthost_namespace_snapshot();
    assert_string_equal(running, again);
    free(again);
    assert_int_equal(nthost_service_stop("Parallel"), 0);
    again = nthost_namespace_snapshot();
    assert_string_equal(stopped, again);
    assert_int_equal(nthost_pool_outstanding(), pool);
    free(again);
    free(running);
    free(stopped);
}

/* Without parport there is no port: the printer driver does not start, and says why. */
static void test_no_ports(void **state)
{
    size_t events;
    char *snap;

    (void)state;
    assert_int_equal(nthost_service_stop("Parallel"), 0);
    assert_int_equal(nthost_service_stop("DongLpt"), 0);
    assert_int_equal(nthost_service_stop("Parport"), 0);
    events = nthost_errlog_count();
    assert_int_not_equal(nthost_service_start("Parallel"), 0);
    expect_event_text(find_event(events, "Parallel", LPT_MSG_NO_PORTS), "parport");
    snap = nthost_namespace_snapshot();
    assert_null(strstr(snap, "\\Device\\Parallel"));
    free(snap);
}

/* An out-of-range WriteTimeoutMs is logged and the default (10 s) used: a printer
 * off line for 5 s does not end the write. */
static void test_bad_parameter(void **state)
{
    static uint8_t doc[100];
    sim_printer *p = printer_of(1);
    DWORD written = 0;
    HANDLE h;
    long ev;

    (void)state;
    ev = find_event(0, "Parallel", LPT_MSG_BAD_PARAMETER);
    expect_event_text(ev, "WriteTimeoutMs");
    expect_event_text(ev, "10000");
    make_document(doc, sizeof(doc), 12);
    sim_printer_set_state(p, SIM_PRINTER_OFFLINE);
    sim_printer_set_state_at(p, SIM_PRINTER_ONLINE, sim_now(sim_machine_clock(nthost_machine())) + SIM_MS(5000));
    h = open_name("LPT2", 0);
    assert_true(WriteFile(h, doc, sizeof(doc), &written, NULL));
    assert_int_equal(written, sizeof(doc));
    CloseHandle(h);
}

static void test_open_rules(void **state)
{
    HANDLE h;
    DWORD bytes = 0;
    UCHAR out[4];

    (void)state;
    h = open_name("LPT2\\sub", 0);
    assert_true(h == INVALID_HANDLE_VALUE);
    h = open_name("LPT2", 0);
    assert_true(h != INVALID_HANDLE_VALUE);
    /* Nothing to print is done at once, without the port. */
    assert_true(WriteFile(h, out, 0, &bytes, NULL));
    assert_int_equal(bytes, 0);
    /* Only the query is a public control; a short buffer is refused before the port. */
    assert_false(DeviceIoControl(h, IOCTL_PAR_QUERY_INFORMATION, NULL, 0, out, 0, &bytes, NULL));
    assert_int_equal(GetLastError(), ERROR_INSUFFICIENT_BUFFER);
    assert_false(DeviceIoControl(h, CTL_CODE(FILE_DEVICE_PARALLEL_PORT, 11, METHOD_BUFFERED, FILE_ANY_ACCESS),
                                 NULL, 0, out, sizeof(out), &bytes, NULL));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    assert_true(CloseHandle(h));
}

/* ---------------------------------------------------------------- printing */

/* More than the printer's 4 KiB buffer: the driver waits for it to drain, with
 * the port given back, and every byte arrives once, in order. */
static void test_print_lpt2(void **state)
{
    static uint8_t doc[12 * 1024];
    const uint8_t *got;
    unsigned warnings = nthost_verifier_warnings();
    DWORD written = 0;
    HANDLE h;

    (void)state;
    make_document(doc, sizeof(doc), 2);
    h = open_name("LPT2", 0);
    assert_true(h != INVALID_HANDLE_VALUE);
    assert_true(WriteFile(h, doc, sizeof(doc), &written, NULL));
    assert_int_equal(written, sizeof(doc));
    assert_true(CloseHandle(h));
    assert_int_equal(received(1, &got), sizeof(doc));
    assert_memory_equal(got, doc, sizeof(doc));
    assert_int_equal(sim_printer_lost_strobes(printer_of(1)), 0);
    /* Never more than 50 us at raised IRQL. */
    assert_int_equal(nthost_verifier_warnings(), warnings);
}

/* The same on a fast port (0.25 us per register access): the stalls keep the
 * handshake's 0.5 us minimums, and DongLpt's probe of the ECP chip before does not
 * disturb printing. */
static void test_print_fast_port(void **state)
{
    static uint8_t doc[6000];
    const uint8_t *got;
    DWORD written = 0;
    HANDLE h;

    (void)state;
    make_document(doc, sizeof(doc), 13);
    h = open_name("LPT2", 0);
    assert_true(h != INVALID_HANDLE_VALUE);
    assert_true(WriteFile(h, doc, sizeof(doc), &written, NULL));
    assert_int_equal(written, sizeof(doc));
    assert_int_equal(received(1, &got), sizeof(doc));
    assert_memory_equal(got, doc, sizeof(doc));
    assert_int_equal(sim_printer_lost_strobes(printer_of(1)), 0);
    CloseHandle(h);
}

/* IOCTL_PAR_QUERY_INFORMATION for each printer state and for an empty port. */
static void test_query_states(void **state)
{
    sim_printer *p = printer_of(1);
    HANDLE h = open_name("LPT2", 0);
    HANDLE none = open_name("LPT3", 0);

    (void)state;
    assert_true(h != INVALID_HANDLE_VALUE);
    assert_true(none != INVALID_HANDLE_VALUE);
    assert_int_equal(query_status(h), DONG_PARALLEL_SELECTED);
    sim_printer_set_state(p, SIM_PRINTER_PAPER_OUT);
    assert_int_equal(query_status(h), DONG_PARALLEL_PAPER_EMPTY | DONG_PARALLEL_BUSY);
    sim_printer_set_state(p, SIM_PRINTER_OFFLINE);
    assert_int_equal(query_status(h), DONG_PARALLEL_OFF_LINE | DONG_PARALLEL_BUSY);
    sim_printer_set_state(p, SIM_PRINTER_POWERED_OFF);
    assert_int_equal(query_status(h), DONG_PARALLEL_POWER_OFF);
    sim_printer_set_state(p, SIM_PRINTER_BUSY);
    assert_int_equal(query_status(h), DONG_PARALLEL_BUSY | DONG_PARALLEL_SELECTED);
    sim_printer_set_state(p, SIM_PRINTER_ONLINE);
    assert_int_equal(query_status(h), DONG_PARALLEL_SELECTED);
    assert_int_equal(query_status(none), DONG_PARALLEL_NOT_CONNECTED);
    /* Through the key in pass-through, the printer behind it answers. */
    {
        HANDLE lpt1 = open_name("LPT1", 0);
        assert_true(lpt1 != INVALID_HANDLE_VALUE);
        assert_int_equal(query_status(lpt1), DONG_PARALLEL_SELECTED);
        CloseHandle(lpt1);
    }
    CloseHandle(h);
    CloseHandle(none);
}

/* Nothing on the port, or a printer without power: the write fails at once with
 * NT's status (as its Win32 error), nothing printed. */
static void test_write_fails_at_once(void **state)
{
    uint8_t doc[64];
    DWORD written = 1234;
    HANDLE h;

    (void)state;
    make_document(doc, sizeof(doc), 3);
    h = open_name("LPT3", 0);
    assert_true(h != INVALID_HANDLE_VALUE);
    assert_false(WriteFile(h, doc, sizeof(doc), &written, NULL));
    assert_int_equal(GetLastError(), ERROR_DEVICE_NOT_CONNECTED);
    assert_int_equal(written, 0);
    CloseHandle(h);

    sim_printer_set_state(printer_of(1), SIM_PRINTER_POWERED_OFF);
    h = open_name("LPT2", 0);
    assert_false(WriteFile(h, doc, sizeof(doc), &written, NULL));
    assert_int_equal(GetLastError(), ERROR_NOT_READY);
    assert_int_equal(written, 0);
    assert_int_equal(received(1, NULL), 0);
    CloseHandle(h);
}

/* Paper runs out after 1000 bytes and nobody refills it: after WriteTimeoutMs
 * (1 s here) the write fails with ERROR_OUT_OF_PAPER, reports the 1000 bytes, and
 * the timeout is in the event log. */
static void test_paper_out_times_out(void **state)
{
    static uint8_t doc[3000];
    size_t events = nthost_errlog_count();
    DWORD written = 0;
    HANDLE h;
    long ev;

    (void)state;
    make_document(doc, sizeof(doc), 4);
    sim_printer_set_state_after_bytes(printer_of(1), SIM_PRINTER_PAPER_OUT, 1000);
    h = open_name("LPT2", 0);
    assert_false(WriteFile(h, doc, sizeof(doc), &written, NULL));
    assert_int_equal(GetLastError(), ERROR_OUT_OF_PAPER);
    assert_int_equal(written, 1000);
    assert_int_equal(received(1, NULL), 1000);
    ev = find_event(events, "Parallel", LPT_MSG_WRITE_TIMEOUT);
    expect_event_text(ev, "1000 bytes");
    CloseHandle(h);
}

/* Off line, then back on line 3 s later: the write waits and completes whole. */
static void test_off_line_then_back(void **state)
{
    static uint8_t doc[2000];
    const uint8_t *got;
    sim_printer *p = printer_of(1);
    DWORD written = 0;
    HANDLE h;

    (void)state;
    make_document(doc, sizeof(doc), 5);
    sim_printer_set_state_after_bytes(p, SIM_PRINTER_OFFLINE, 500);
    sim_printer_set_state_at(p, SIM_PRINTER_ONLINE, sim_now(sim_machine_clock(nthost_machine())) +
                                                        SIM_MS(3000));
    h = open_name("LPT2", 0);
    assert_true(WriteFile(h, doc, sizeof(doc), &written, NULL));
    assert_int_equal(written, sizeof(doc));
    assert_int_equal(received(1, &got), sizeof(doc));
    assert_memory_equal(got, doc, sizeof(doc));
    CloseHandle(h);
}

/* CancelIo ends a write that waits for paper: STATUS_CANCELLED with what was
 * printed. */
static void test_cancel_waiting_write(void **state)
{
    static uint8_t doc[800];
    OVERLAPPED ov;
    DWORD written = 0;
    HANDLE h;

    (void)state;
    make_document(doc, sizeof(doc), 6);
    sim_printer_set_state_after_bytes(printer_of(1), SIM_PRINTER_PAPER_OUT, 300);
    h = open_name("LPT2", FILE_FLAG_OVERLAPPED);
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = CreateEventA(NULL, TRUE, FALSE, NULL);
    assert_false(WriteFile(h, doc, sizeof(doc), NULL, &ov));
    assert_int_equal(GetLastError(), ERROR_IO_PENDING);
    Sleep(200);     /* virtual time: the printer is out of paper by now */
    assert_int_equal(received(1, NULL), 300);
    assert_true(CancelIo(h));
    assert_false(GetOverlappedResult(h, &ov, &written, TRUE));
    assert_int_equal(GetLastError(), ERROR_OPERATION_ABORTED);
    assert_int_equal(written, 300);
    CloseHandle(ov.hEvent);
    CloseHandle(h);
}

/* CloseHandle ends the write the handle has waiting for paper; the request reports
 * STATUS_CANCELLED and the bytes printed before. */
static void test_close_cancels_waiting_write(void **state)
{
    static uint8_t doc[500];
    OVERLAPPED ov;
    HANDLE h;

    (void)state;
    make_document(doc, sizeof(doc), 10);
    sim_printer_set_state_after_bytes(printer_of(1), SIM_PRINTER_PAPER_OUT, 120);
    h = open_name("LPT2", FILE_FLAG_OVERLAPPED);
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = CreateEventA(NULL, TRUE, FALSE, NULL);
    assert_false(WriteFile(h, doc, sizeof(doc), NULL, &ov));
    assert_int_equal(GetLastError(), ERROR_IO_PENDING);
    Sleep(100);
    assert_int_equal(WaitForSingleObject(ov.hEvent, 0), WAIT_TIMEOUT);
    assert_true(CloseHandle(h));
    assert_int_equal(WaitForSingleObject(ov.hEvent, INFINITE), WAIT_OBJECT_0);
    assert_int_equal((uint32_t)ov.Internal, STATUS_CANCELLED_VALUE);
    assert_int_equal(ov.InternalHigh, 120);
    CloseHandle(ov.hEvent);
}

/* -------------------------------------------------------- sharing LPT1 */

static BOOL port_free(HANDLE h)
{
    BOOLEAN free = 2;
    DWORD bytes = 0;

    assert_true(DeviceIoControl(h, IOCTL_PAR_IS_PORT_FREE, NULL, 0, &free, sizeof(free), &bytes, NULL));
    assert_int_equal(bytes, sizeof(BOOLEAN));
    return free;
}

/* DongLpt with AllocatePerOpen keeps LPT1's port while its handle is open: the port
 * is not free, and a print job waits for it, then fails with ERROR_BUSY after
 * WriteTimeoutMs, nothing printed. With the handle closed, the port is free and the
 * job prints. */
static void test_print_waits_for_port(void **state)
{
    static DONG_TRANSACT_RESPONSE resp;
    static uint8_t doc[300];
    const uint8_t *got;
    DWORD written = 77;
    HANDLE lpt = open_name("LPT1", 0);
    HANDLE key = open_name("DongLpt1", 0);

    (void)state;
    make_document(doc, sizeof(doc), 11);
    assert_true(lpt != INVALID_HANDLE_VALUE);
    assert_true(key != INVALID_HANDLE_VALUE);
    assert_int_equal(transact(key, DL1_CMD_ECHO, "hold", 4, &resp), DL1_STATUS_OK);
    assert_false(port_free(lpt));
    assert_false(WriteFile(lpt, doc, sizeof(doc), &written, NULL));
    assert_int_equal(GetLastError(), ERROR_BUSY);
    assert_int_equal(written, 0);
    assert_int_equal(received(0, NULL), 0);

    CloseHandle(key);
    assert_true(port_free(lpt));
    assert_true(WriteFile(lpt, doc, sizeof(doc), &written, NULL));
    assert_int_equal(written, sizeof(doc));
    assert_int_equal(received(0, &got), sizeof(doc));
    assert_memory_equal(got, doc, sizeof(doc));
    CloseHandle(lpt);
}


/* While the printer behind the key is out of paper and a write waits for it, the
 * port is free: DongLpt's key requests go through. New paper, and the write ends. */
static void test_key_works_while_print_waits(void **state)
{
    static uint8_t doc[600];
    static DONG_TRANSACT_RESPONSE resp;
    const uint8_t *got;
    sim_printer *p = printer_of(0);
    OVERLAPPED ov;
    DWORD written = 0;
    HANDLE lpt;
    HANDLE key;

    (void)state;
    make_document(doc, sizeof(doc), 7);
    sim_printer_set_state(p, SIM_PRINTER_PAPER_OUT);
    lpt = open_name("LPT1", FILE_FLAG_OVERLAPPED);
    key = open_name("DongLpt1", 0);
    assert_true(lpt != INVALID_HANDLE_VALUE);
    assert_true(key != INVALID_HANDLE_VALUE);
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = CreateEventA(NULL, TRUE, FALSE, NULL);
    assert_false(WriteFile(lpt, doc, sizeof(doc), NULL, &ov));
    assert_int_equal(GetLastError(), ERROR_IO_PENDING);

    assert_int_equal(transact(key, DL1_CMD_ECHO, "ping", 4, &resp), DL1_STATUS_OK);
    assert_memory_equal(resp.Payload, "ping", 4);
    assert_int_equal(WaitForSingleObject(ov.hEvent, 0), WAIT_TIMEOUT);
    assert_int_equal(received(0, NULL), 0);

    sim_printer_set_state(p, SIM_PRINTER_ONLINE);
    assert_true(GetOverlappedResult(lpt, &ov, &written, TRUE));
    assert_int_equal(written, sizeof(doc));
    assert_int_equal(received(0, &got), sizeof(doc));
    assert_memory_equal(got, doc, sizeof(doc));
    CloseHandle(ov.hEvent);
    CloseHandle(key);
    CloseHandle(lpt);
}

typedef struct auth_loop {
    HANDLE key;
    uint8_t serial[DL1_SERIAL_SIZE];
    volatile LONG printing;     /* cleared by the printing thread when WriteFile returns */
    unsigned done;              /* authentications completed */
    unsigned failed;            /* a request failed or a MAC did not match */
    unsigned during;            /* completed while the printer had part of the document */
} auth_loop;

/* The key user: authenticate with a fresh nonce, pause 20 ms, again, while the
 * document prints. */
static DWORD WINAPI auth_thread(LPVOID arg)
{
    auth_loop *a = arg;
    uint32_t seed = 0x5EED;
    uint8_t nonce[16];
    unsigned i;

    while (a->printing) {
        size_t got;
        for (i = 0; i < sizeof(nonce); i++) {
            seed = seed * 1664525u + 1013904223u;
            nonce[i] = (uint8_t)(seed >> 24);
        }
        if (!authenticate(a->key, a->serial, nonce)) {
            a->failed++;
        }
        a->done++;
        got = received(0, NULL);
        if (got > 0 && got < DOC_SIZE) {
            a->during++;
        }
        Sleep(20);
    }
    return 0;
}

/* A 64 KiB document to \\.\LPT1 while another thread authenticates the key in a loop:
 * both finish; the printer behind the key gets exactly the document, in order; the
 * key saw no print data (its framing, overrun and CRC counters do not move, and it
 * latched exactly the bytes DongLpt sent it); DongLpt had to wait for the port. */
static void test_print_and_authenticate_lpt1(void **state)
{
    static uint8_t doc[DOC_SIZE];
    static auth_loop a;
    const uint8_t *got;
    sim_key *k = sim_machine_key(nthost_machine(), 0);
    sim_key_stats keyBefore, keyAfter;
    DONG_STATISTICS dongBefore, dongAfter;
    DONG_INFO info;
    unsigned warnings;
    DWORD written = 0;
    HANDLE lpt;
    HANDLE thread;

    (void)state;
    make_document(doc, sizeof(doc), 8);
    memset(&a, 0, sizeof(a));
    a.key = open_name("DongLpt1", 0);
    assert_true(a.key != INVALID_HANDLE_VALUE);
    dong_info(a.key, &info);
    assert_int_equal(info.Attached, DONG_PERIPHERAL_KEY);
    memcpy(a.serial, info.Serial, sizeof(a.serial));
    assert_true(authenticate(a.key, a.serial, (const uint8_t *)"0123456789abcdef"));
    sim_key_get_stats(k, &keyBefore);
    dong_stats(a.key, &dongBefore);
    warnings = nthost_verifier_warnings();

    lpt = open_name("LPT1", 0);
    assert_true(lpt != INVALID_HANDLE_VALUE);
    a.printing = 1;
    thread = CreateThread(NULL, 0, auth_thread, &a, 0, NULL);
    assert_non_null(thread);
    assert_true(WriteFile(lpt, doc, sizeof(doc), &written, NULL));
    a.printing = 0;
    assert_int_equal(WaitForSingleObject(thread, INFINITE), WAIT_OBJECT_0);
    CloseHandle(thread);
    assert_int_equal(written, sizeof(doc));

    assert_int_equal(received(0, &got), sizeof(doc));
    assert_memory_equal(got, doc, sizeof(doc));
    assert_int_equal(sim_printer_lost_strobes(printer_of(0)), 0);

    assert_int_equal(a.failed, 0);
    assert_true(a.during >= 10);
    sim_key_get_stats(k, &keyAfter);
    dong_stats(a.key, &dongAfter);
    assert_int_equal(keyAfter.framing_errors, keyBefore.framing_errors);
    assert_int_equal(keyAfter.overruns, keyBefore.overruns);
    assert_int_equal(keyAfter.crc_errors, keyBefore.crc_errors);
    assert_int_equal(keyAfter.resets, keyBefore.resets);
    assert_int_equal(keyAfter.forward_bytes - keyBefore.forward_bytes, dongAfter.BytesSent - dongBefore.BytesSent);
    assert_true(dongAfter.PortWaits > dongBefore.PortWaits);
    assert_int_equal(dongAfter.Retries, dongBefore.Retries);
    assert_int_equal(nthost_verifier_warnings(), warnings);
    CloseHandle(lpt);
    CloseHandle(a.key);
}

/* ------------------------------------------------- DOS names, load order */

/* A plain alias: \\.\COM9 reaches DongLpt's first port; LPT1 stays the printer's. */
static void test_dos_name_alias(void **state)
{
    static DONG_TRANSACT_RESPONSE resp;
    HANDLE h;

    (void)state;
    expect_link("COM9", "\\Device\\DongLpt0");
    expect_link("LPT1", "\\Device\\Parallel0");
    h = open_name("COM9", 0);
    assert_true(h != INVALID_HANDLE_VALUE);
    assert_int_equal(transact(h, DL1_CMD_ECHO, "com9", 4, &resp), DL1_STATUS_OK);
    CloseHandle(h);
    assert_int_equal(nthost_service_stop("DongLpt"), 0);
    expect_link("COM9", "");
}

/* DongLpt in its default group loads after the printer driver: LPT1 is taken, DongLpt
 * logs it and keeps DongLpt1. */
static void test_lpt1_taken_by_printer(void **state)
{
    (void)state;
    expect_link("LPT1", "\\Device\\Parallel0");
    expect_link("DongLpt1", "\\Device\\DongLpt0");
    assert_true(find_event(0, "DongLpt", DONG_MSG_DOS_NAME_TAKEN) >= 0);
    assert_int_equal(find_event(0, "Parallel", LPT_MSG_DOS_NAME_TAKEN), -1);
}

/* DongLpt in "Parallel key" loads before the printer driver and takes LPT1; the
 * printer driver warns and goes on with LPT2 and LPT3. Stopping DongLpt gives LPT1
 * back to the port; the printer driver takes it only when it starts again (as NT's). */
static void test_lpt1_taken_by_dongle(void **state)
{
    static DONG_TRANSACT_RESPONSE resp;
    static uint8_t doc[100];
    DWORD written = 0;
    HANDLE h;
    long ev;

    (void)state;
    expect_link("LPT1", "\\Device\\DongLpt0");
    expect_link("LPT2", "\\Device\\Parallel1");
    expect_link("LPT3", "\\Device\\Parallel2");
    ev = find_event(0, "Parallel", LPT_MSG_DOS_NAME_TAKEN);
    expect_event_text(ev, "LPT1");
    assert_int_equal(find_event(0, "DongLpt", DONG_MSG_DOS_NAME_TAKEN), -1);

    h = open_name("LPT1", 0);
    assert_true(h != INVALID_HANDLE_VALUE);
    assert_int_equal(transact(h, DL1_CMD_ECHO, "lpt1", 4, &resp), DL1_STATUS_OK);
    CloseHandle(h);
    /* The printer on LPT2 prints as usual. */
    make_document(doc, sizeof(doc), 9);
    h = open_name("LPT2", 0);
    assert_true(WriteFile(h, doc, sizeof(doc), &written, NULL));
    assert_int_equal(written, sizeof(doc));
    CloseHandle(h);

    assert_int_equal(nthost_service_stop("DongLpt"), 0);
    expect_link("LPT1", "\\Device\\ParallelPort0");
    assert_int_equal(nthost_service_stop("Parallel"), 0);
    assert_int_equal(nthost_service_start("Parallel"), 0);
    expect_link("LPT1", "\\Device\\Parallel0");
}

/* --------------------------------------------------------- dongctl ports */
#ifdef DONGCTL

/* Run dongctl with Args on the test's machine; its standard output, malloc'ed. */
static char *run_dongctl(fixture *fx, const char *args)
{
    char cmd[1024];
    char *out = calloc(1, 16384);
    size_t used = 0;
    FILE *p;

    assert_non_null(out);
    snprintf(cmd, sizeof(cmd), "'%s' --machine '%s' %s", DONGCTL, fx->machine, args);
    p = popen(cmd, "r");
    assert_non_null(p);
    while (used < 16383) {
        size_t n = fread(out + used, 1, 16383 - used, p);
        if (n == 0) {
            break;
        }
        used += n;
    }
    assert_int_equal(pclose(p), 0);
    return out;
}

static const char *line_of(const char *text, const char *start)
{
    const char *line = text;
    while (line != NULL && *line != '\0') {
        if (!strncmp(line, start, strlen(start))) {
            return line;
        }
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    fail_msg("no line starting \"%s\" in:\n%s", start, text);
    return NULL;
}

static void expect_columns(const char *text, const char *port, const char *owner, const char *now)
{
    const char *line = line_of(text, port);
    char want[64];
    const char *end = strchr(line, '\n');
    size_t length = end ? (size_t)(end - line) : strlen(line);
    char copy[512];

    snprintf(copy, sizeof(copy), "%.*s", (int)length, line);
    snprintf(want, sizeof(want), " %-10s %-8s ", owner, now);
    if (strstr(copy, want) == NULL) {
        fail_msg("%s: \"%s\" lacks \"%s\"", port, copy, want);
    }
}

/* dongctl ports: who owns each LPTn, and whether each port is free now. */
static void test_dongctl_ports(void **state)
{
    fixture *fx = *state;
    char path[300];
    char args[400];
    char *out;

    out = run_dongctl(fx, "ports");
    expect_columns(out, "LPT1 ", "Parallel", "free");
    expect_columns(out, "LPT2 ", "Parallel", "free");
    expect_columns(out, "LPT3 ", "Parallel", "free");
    free(out);

    snprintf(path, sizeof(path), "%s/lpt1.reg", fx->dir);
    write_file(path, "Windows Registry Editor Version 5.00\r\n\r\n" SERVICES "DongLpt]\r\n\"Group\"=\"Parallel key\"\r\n\r\n"
                     SERVICES "DongLpt\\Parameters]\r\n\"DosName\"=\"LPT1\"\r\n");
    snprintf(args, sizeof(args), "--reg '%s' ports", path);
    out = run_dongctl(fx, args);
    expect_columns(out, "LPT1 ", "DongLpt", "?");
    expect_columns(out, "LPT2 ", "Parallel", "free");
    free(out);
    snprintf(args, sizeof(args), "--reg '%s' --json ports", path);
    out = run_dongctl(fx, args);
    assert_non_null(strstr(out, "\"name_owner\":\"DongLpt\",\"name_target\":\"\\\\Device\\\\DongLpt0\""));
    assert_non_null(strstr(out, "\"name_owner\":\"Parallel\",\"name_target\":\"\\\\Device\\\\Parallel1\",\"port_free\":true"));
    free(out);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_names_and_unload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_ports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_parameter, setup_bad_timeout, teardown),
        cmocka_unit_test_setup_teardown(test_open_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_print_lpt2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_print_fast_port, setup_fast_port, teardown),
        cmocka_unit_test_setup_teardown(test_query_states, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_fails_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paper_out_times_out, setup_short_timeout, teardown),
        cmocka_unit_test_setup_teardown(test_off_line_then_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_waiting_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_cancels_waiting_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_works_while_print_waits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_print_waits_for_port, setup_key_holds_port, teardown),
        cmocka_unit_test_setup_teardown(test_print_and_authenticate_lpt1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_print_and_authenticate_lpt1, setup_preempt, teardown),
        cmocka_unit_test_setup_teardown(test_close_cancels_waiting_write, setup_preempt, teardown),
        cmocka_unit_test_setup_teardown(test_key_works_while_print_waits, setup_preempt, teardown),
        cmocka_unit_test_setup_teardown(test_dos_name_alias, setup_com9, teardown),
        cmocka_unit_test_setup_teardown(test_lpt1_taken_by_printer, setup_lpt1_late, teardown),
        cmocka_unit_test_setup_teardown(test_lpt1_taken_by_dongle, setup_lpt1_early, teardown),
#ifdef DONGCTL
        cmocka_unit_test_setup_teardown(test_dongctl_ports, setup_no_boot, teardown),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
