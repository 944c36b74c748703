/*
 * test_driver_e2e.c - parport + DongLpt end to end, through the Win32 API of nthost.
 *
 * Each test boots a five-port machine written into a fresh temporary state directory
 * (keys on a PS/2, an SPP and an ECP port, a printer alone, nothing), with
 * parport.reg and donglpt.reg imported, and talks to \\.\DongLptN like any Win32
 * program. Virtual time: timeouts cost no host time.
 *
 *   LPT1 0x378 ps2 key+printer  -> DongLpt1: key, byte mode
 *   LPT2 0x278 spp key          -> DongLpt2: key, nibble mode
 *   LPT3 0x3BC spp printer      -> DongLpt3: printer, no key
 *   LPT4 0x2B8 ecp key          -> DongLpt4: key, byte mode through ECR mode 001
 *   LPT5 0x2E0 spp none         -> DongLpt5: nothing
 */
#include <windows.h>
#include <winioctl.h>
#include <donglpt.h>
#include <nthost/nthost.h>
#include "sim/machine.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PORTS           5
#define KEY_SECRET      "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"

typedef struct fixture {
    char dir[256];
    char machine[300];
    char extra_reg[300];
    char hog_reg[300];
    uint64_t preempt_seed;      /* 0: round-robin only; else random preemption */
} fixture;

/* Device handles still open, so that a failed test's teardown can close them before
 * shutting nthost down (an open handle at unload is a verifier stop there). */
static HANDLE open_handles[64];

static void track(HANDLE h)
{
    unsigned i;
    for (i = 0; i < 64; i++) {
        if (open_handles[i] == NULL) {
            open_handles[i] = h;
            return;
        }
    }
}

static void close_dong(HANDLE h)
{
    unsigned i;
    for (i = 0; i < 64; i++) {
        if (open_handles[i] == h) {
            open_handles[i] = NULL;
        }
    }
    assert_true(CloseHandle(h));
}

static void close_leftovers(void)
{
    unsigned i;
    for (i = 0; i < 64; i++) {
        if (open_handles[i] != NULL) {
            CloseHandle(open_handles[i]);
            open_handles[i] = NULL;
        }
    }
}

/* --------------------------------------------------------------- set-up */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void make_machine(fixture *fx)
{
    char text[2048];

    snprintf(text, sizeof(text),
             "[LPT1]\nbase = 0x378\nirq = 7\nchip = ps2\nattach = key+printer\n"
             "key.image = %s/lpt1.img\nkey.serial = 444C310000000001\nkey.secret = " KEY_SECRET "\n"
             "[LPT2]\nbase = 0x278\nirq = 5\nchip = spp\nattach = key\n"
             "key.image = %s/lpt2.img\nkey.serial = 444C310000000002\nkey.secret = " KEY_SECRET "\n"
             "[LPT3]\nbase = 0x3BC\nchip = spp\nattach = printer\n"
             "[LPT4]\nbase = 0x2B8\nchip = ecp\nattach = key\n"
             "key.image = %s/lpt4.img\nkey.serial = 444C310000000004\nkey.secret = " KEY_SECRET "\n"
             "[LPT5]\nbase = 0x2E0\nchip = spp\nattach = none\n",
             fx->dir, fx->dir, fx->dir);
    snprintf(fx->machine, sizeof(fx->machine), "%s/machine.ini", fx->dir);
    write_file(fx->machine, text);
}

/* Boot the machine with the two service files and, when extra is given, a .reg with
 * more DongLpt parameters. */
static void boot(fixture *fx, const char *extra, bool autostart)
{
    const char *regs[5] = { PARPORT_REG, DONGLPT_REG, NULL, NULL, NULL };
    nthost_config cfg;
    const char *err;

    /* PortHog (porthog.c): another parport client, started on demand by the tests. */
    snprintf(fx->hog_reg, sizeof(fx->hog_reg), "%s/porthog.reg", fx->dir);
    write_file(fx->hog_reg,
               "Windows Registry Editor Version 5.00\r\n\r\n"
               "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\PortHog]\r\n"
               "\"Type\"=dword:00000001\r\n\"Start\"=dword:00000003\r\n\"ErrorControl\"=dword:00000001\r\n"
               "\"ImagePath\"=\"System32\\\\drivers\\\\porthog.sys\"\r\n");
    regs[2] = fx->hog_reg;

    if (extra != NULL) {
        char text[1024];
        snprintf(text, sizeof(text),
                 "Windows Registry Editor Version 5.00\r\n\r\n"
                 "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\DongLpt\\Parameters]\r\n%s",
                 extra);
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
    cfg.no_autostart = !autostart;
    cfg.preempt_seed = fx->preempt_seed;
    err = nthost_boot(&cfg);
    if (err != NULL) {
        fail_msg("nthost_boot: %s", err);
    }
}

static int setup_dir(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/driver_e2e.XXXXXX");
    if (fx == NULL || mkdtemp(fx->dir) == NULL) {
        return -1;
    }
    setenv("DONGLPT_STATE_DIR", fx->dir, 1);
    make_machine(fx);
    *state = fx;
    return 0;
}

static int setup(void **state)
{
    if (setup_dir(state) != 0) {
        return -1;
    }
    boot(*state, NULL, true);
    return 0;
}

/* Random preemption (nthost_config.preempt_seed), to shake the queue, the cancel
 * paths and the port arbitration: DONG_PREEMPT_SEED picks the seed, else a fixed one
 * so that a run is reproducible. */
static int setup_preempt(void **state)
{
    const char *seed = getenv("DONG_PREEMPT_SEED");

    if (setup_dir(state) != 0) {
        return -1;
    }
    ((fixture *)*state)->preempt_seed = seed != NULL ? strtoull(seed, NULL, 0) : 0x5EED;
    boot(*state, NULL, true);
    return 0;
}

static int setup_per_open(void **state)
{
    if (setup_dir(state) != 0) {
        return -1;
    }
    boot(*state, "\"AllocatePerOpen\"=dword:00000001\r\n", true);
    return 0;
}

static int setup_log_all(void **state)
{
    if (setup_dir(state) != 0) {
        return -1;
    }
    boot(*state, "\"ErrorLogLevel\"=dword:00000003\r\n", true);
    return 0;
}

static int setup_log_errors(void **state)
{
    if (setup_dir(state) != 0) {
        return -1;
    }
    boot(*state, "\"ErrorLogLevel\"=dword:00000001\r\n", true);
    return 0;
}

static int setup_dos_name(void **state)
{
    if (setup_dir(state) != 0) {
        return -1;
    }
    boot(*state, "\"DosName\"=\"COM9\"\r\n", true);
    return 0;
}

static int setup_bad_params(void **state)
{
    if (setup_dir(state) != 0) {
        return -1;
    }
    /* A taken DOS name, an out-of-range timeout and a string where a DWORD goes. */
    boot(*state, "\"DosName\"=\"LPT3\"\r\n\"TimeoutMs\"=dword:00000000\r\n\"Retries\"=\"lots\"\r\n", true);
    return 0;
}

static int setup_no_autostart(void **state)
{
    if (setup_dir(state) != 0) {
        return -1;
    }
    boot(*state, NULL, false);
    return 0;
}

static void remove_dir(const char *dir)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "could not remove %s\n", dir);
    }
}

static int teardown(void **state)
{
    fixture *fx = *state;
    int result = 0;

    if (nthost_running()) {
        /* Nothing the drivers did held a spin lock or raised IRQL for over 50 us. */
        if (nthost_verifier_warnings() != 0) {
            fprintf(stderr, "%u verifier warning(s)\n", nthost_verifier_warnings());
            result = -1;
        }
        close_leftovers();
        nthost_shutdown();
    }
    remove_dir(fx->dir);
    free(fx);
    return result;
}

/* -------------------------------------------------------------- helpers */

static HANDLE open_dong(unsigned n, DWORD access, DWORD flags)
{
    char name[32];
    HANDLE h;
    snprintf(name, sizeof(name), DONG_WIN32_NAME_FORMAT_A, n);
    h = CreateFileA(name, access, 0, NULL, OPEN_EXISTING, flags, NULL);
    if (h != INVALID_HANDLE_VALUE) {
        track(h);
    }
    return h;
}

static HANDLE open_rw(unsigned n)
{
    HANDLE h = open_dong(n, GENERIC_READ | GENERIC_WRITE, 0);
    assert_true(h != INVALID_HANDLE_VALUE);
    return h;
}

/* DeviceIoControl that also checks Information never exceeds the output length. */
static BOOL dong_ioctl(HANDLE h, DWORD code, void *in, DWORD inLen, void *out, DWORD outLen, DWORD *returned)
{
    DWORD bytes = 0;
    BOOL ok = DeviceIoControl(h, code, in, inLen, out, outLen, &bytes, NULL);
    DWORD err = GetLastError();
    assert_true(bytes <= outLen);
    if (returned != NULL) {
        *returned = bytes;
    }
    SetLastError(err);
    return ok;
}

static void request(DONG_TRANSACT_REQUEST *req, UCHAR cmd, const void *payload, USHORT len)
{
    memset(req, 0, sizeof(*req));
    req->Command = cmd;
    req->Length = len;
    if (len != 0) {
        memcpy(req->Payload, payload, len);
    }
}

/* One TRANSACT; returns the key status, fails the test on a link failure. */
static UCHAR transact(HANDLE h, UCHAR cmd, const void *payload, USHORT len, DONG_TRANSACT_RESPONSE *resp)
{
    DONG_TRANSACT_REQUEST req;
    DWORD code = DL1_CMD_IS_READ_ONLY(cmd) ? IOCTL_DONG_TRANSACT_READ : IOCTL_DONG_TRANSACT_WRITE;
    DWORD bytes;

    request(&req, cmd, payload, len);
    if (!dong_ioctl(h, code, &req, DONG_TRANSACT_REQUEST_HEADER + len, resp, sizeof(*resp), &bytes)) {
        fail_msg("TRANSACT 0x%02x failed: error %lu", cmd, (unsigned long)GetLastError());
    }
    assert_int_equal(bytes, DONG_TRANSACT_RESPONSE_HEADER + resp->Length);
    return resp->KeyStatus;
}

static void put_u16(UCHAR *p, unsigned v) { p[0] = (UCHAR)v; p[1] = (UCHAR)(v >> 8); }
static void put_u32(UCHAR *p, unsigned long v) { put_u16(p, v & 0xFFFF); put_u16(p + 2, (v >> 16) & 0xFFFF); }
static unsigned long get_u32(const UCHAR *p)
{
    return p[0] | ((unsigned long)p[1] << 8) | ((unsigned long)p[2] << 16) | ((unsigned long)p[3] << 24);
}

static unsigned long counter_read(HANDLE h, UCHAR index)
{
    DONG_TRANSACT_RESPONSE resp;
    assert_int_equal(transact(h, DL1_CMD_COUNTER_READ, &index, 1, &resp), DL1_STATUS_OK);
    assert_int_equal(resp.Length, 4);
    return get_u32(resp.Payload);
}

static DONG_STATISTICS get_stats(HANDLE h)
{
    DONG_STATISTICS stats;
    DWORD bytes;
    assert_true(dong_ioctl(h, IOCTL_DONG_GET_STATS, NULL, 0, &stats, sizeof(stats), &bytes));
    assert_int_equal(bytes, sizeof(stats));
    return stats;
}

/* The number of DongLpt events with this code. */
static unsigned count_events(uint32_t code)
{
    size_t i, n = nthost_errlog_count();
    unsigned found = 0;

    for (i = 0; i < n; i++) {
        nthost_errlog_entry e;
        if (nthost_errlog_get(i, &e) && strcmp(e.source, "DongLpt") == 0 && e.error_code == code) {
            found++;
        }
    }
    return found;
}

/* The codes docs/DRIVER.md publishes (programs may hard-code them). */
_Static_assert(IOCTL_DONG_GET_INFO == 0x8D066000u, "GET_INFO code");
_Static_assert(IOCTL_DONG_TRANSACT_READ == 0x8D066004u, "TRANSACT_READ code");
_Static_assert(IOCTL_DONG_TRANSACT_WRITE == 0x8D06E008u, "TRANSACT_WRITE code");
_Static_assert(IOCTL_DONG_GET_STATUS == 0x8D06600Cu, "GET_STATUS code");
_Static_assert(IOCTL_DONG_RESET == 0x8D06A010u, "RESET code");
_Static_assert(IOCTL_DONG_GET_TIMEOUTS == 0x8D066014u, "GET_TIMEOUTS code");
_Static_assert(IOCTL_DONG_SET_TIMEOUTS == 0x8D06A018u, "SET_TIMEOUTS code");
_Static_assert(IOCTL_DONG_GET_STATS == 0x8D06601Cu, "GET_STATS code");

/* ---------------------------------------------------------------- tests */

/* Every port has its parport device and DOS name, and a DongLpt device and link. */
static void test_namespace(void **state)
{
    char *snap = nthost_namespace_snapshot();
    char needle[64];
    unsigned i;

    (void)state;
    assert_non_null(snap);
    for (i = 0; i < PORTS; i++) {
        snprintf(needle, sizeof(needle), "\\Device\\ParallelPort%u Device", i);
        assert_non_null(strstr(snap, needle));
        snprintf(needle, sizeof(needle), "\\Device\\DongLpt%u Device", i);
        assert_non_null(strstr(snap, needle));
        snprintf(needle, sizeof(needle), "LPT%u SymbolicLink -> \\Device\\ParallelPort%u", i + 1, i);
        assert_non_null(strstr(snap, needle));
        snprintf(needle, sizeof(needle), "DongLpt%u SymbolicLink -> \\Device\\DongLpt%u", i + 1, i);
        assert_non_null(strstr(snap, needle));
    }
    assert_null(strstr(snap, "DongLpt6"));
    free(snap);
}

/* GET_INFO tells key, printer and nothing apart and reports chip and mode. */
static void test_get_info_each_port(void **state)
{
    static const struct {
        ULONG chip, mode, attached, base;
        UCHAR last_serial;
    } expect[PORTS] = {
        { DONG_CHIP_PS2, DONG_MODE_BYTE, DONG_PERIPHERAL_KEY, 0x378, 1 },
        { DONG_CHIP_SPP, DONG_MODE_NIBBLE, DONG_PERIPHERAL_KEY, 0x278, 2 },
        { DONG_CHIP_SPP, DONG_MODE_NONE, DONG_PERIPHERAL_PRINTER, 0x3BC, 0 },
        { DONG_CHIP_ECP, DONG_MODE_BYTE, DONG_PERIPHERAL_KEY, 0x2B8, 4 },
        { DONG_CHIP_SPP, DONG_MODE_NONE, DONG_PERIPHERAL_NOTHING, 0x2E0, 0 },
    };
    static const UCHAR serial_prefix[7] = { 0x44, 0x4C, 0x31, 0, 0, 0, 0 };
    unsigned i;

    (void)state;
    for (i = 0; i < PORTS; i++) {
        HANDLE h = open_dong(i + 1, GENERIC_READ, 0);
        DONG_INFO info;
        DWORD bytes;

        assert_true(h != INVALID_HANDLE_VALUE);
        memset(&info, 0xCC, sizeof(info));
        assert_true(dong_ioctl(h, IOCTL_DONG_GET_INFO, NULL, 0, &info, sizeof(info), &bytes));
        assert_int_equal(bytes, sizeof(info));
        assert_int_equal(info.PortNumber, i);
        assert_int_equal(info.PortBase, expect[i].base);
        assert_int_equal(info.Chip, expect[i].chip);
        assert_int_equal(info.Attached, expect[i].attached);
        if (expect[i].attached == DONG_PERIPHERAL_KEY) {
            assert_int_equal(info.Mode, expect[i].mode);
            assert_true(info.Flags & DONG_INFO_KEY_VALID);
            assert_memory_equal(info.Serial, serial_prefix, 7);
            assert_int_equal(info.Serial[7], expect[i].last_serial);
            assert_int_equal(info.FirmwareVersion, 0x0110);
            assert_int_equal(info.MemorySize, DL1_MEMORY_SIZE);
            assert_int_equal(info.Counters, DL1_COUNTER_COUNT);
            assert_int_equal(info.VendorId, 0xD06C);
            assert_int_equal(info.ProductId, 0x0001);
        } else {
            assert_false(info.Flags & DONG_INFO_KEY_VALID);
            assert_true(info.ProbeStatus < 0);  /* an error status says why */
        }
        close_dong(h);
    }
}

/* Every IOCTL's buffer errors, access rules and unknown codes. */
static void test_ioctl_errors(void **state)
{
    HANDLE h = open_rw(1);
    HANDLE ro = open_dong(1, GENERIC_READ, 0);
    DONG_TRANSACT_REQUEST req;
    DONG_TRANSACT_RESPONSE resp;
    DONG_INFO info;
    DONG_TIMEOUTS timeouts;
    DONG_PORT_STATUS status;
    DONG_STATISTICS stats;
    UCHAR small[8];
    UCHAR big[sizeof(DONG_TRANSACT_REQUEST) + 4];
    DWORD bytes;

    (void)state;
    assert_true(ro != INVALID_HANDLE_VALUE);

    /* Output buffers one byte short. */
    assert_false(dong_ioctl(h, IOCTL_DONG_GET_INFO, NULL, 0, &info, sizeof(info) - 1, &bytes));
    assert_int_equal(GetLastError(), ERROR_INSUFFICIENT_BUFFER);
    assert_false(dong_ioctl(h, IOCTL_DONG_GET_STATUS, NULL, 0, &status, sizeof(status) - 1, &bytes));
    assert_int_equal(GetLastError(), ERROR_INSUFFICIENT_BUFFER);
    assert_false(dong_ioctl(h, IOCTL_DONG_GET_TIMEOUTS, NULL, 0, &timeouts, sizeof(timeouts) - 1, &bytes));
    assert_int_equal(GetLastError(), ERROR_INSUFFICIENT_BUFFER);
    assert_false(dong_ioctl(h, IOCTL_DONG_GET_STATS, NULL, 0, &stats, sizeof(stats) - 1, &bytes));
    assert_int_equal(GetLastError(), ERROR_INSUFFICIENT_BUFFER);
    request(&req, DL1_CMD_ECHO, "abc", 3);
    assert_false(dong_ioctl(h, IOCTL_DONG_TRANSACT_READ, &req, DONG_TRANSACT_REQUEST_HEADER + 3, &resp,
                       sizeof(resp) - 1, &bytes));
    assert_int_equal(GetLastError(), ERROR_INSUFFICIENT_BUFFER);

    /* Input where none is taken. */
    assert_false(dong_ioctl(h, IOCTL_DONG_GET_INFO, small, sizeof(small), &info, sizeof(info), &bytes));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    assert_false(dong_ioctl(h, IOCTL_DONG_RESET, small, 1, NULL, 0, &bytes));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);

    /* TRANSACT inputs: short header, Length beyond the input, Length > 512, too long. */
    assert_false(dong_ioctl(h, IOCTL_DONG_TRANSACT_READ, &req, 3, &resp, sizeof(resp), &bytes));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    assert_false(dong_ioctl(h, IOCTL_DONG_TRANSACT_READ, &req, DONG_TRANSACT_REQUEST_HEADER + 2, &resp,
                       sizeof(resp), &bytes));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    req.Length = DL1_MAX_PAYLOAD + 1;
    assert_false(dong_ioctl(h, IOCTL_DONG_TRANSACT_READ, &req, sizeof(req), &resp, sizeof(resp), &bytes));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    memset(big, 0, sizeof(big));
    big[0] = DL1_CMD_ECHO;
    assert_false(dong_ioctl(h, IOCTL_DONG_TRANSACT_READ, big, sizeof(big), &resp, sizeof(resp), &bytes));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    request(&req, DL1_CMD_ECHO, "abc", 3);
    req.Flags = 0x80;
    assert_false(dong_ioctl(h, IOCTL_DONG_TRANSACT_READ, &req, sizeof(req), &resp, sizeof(resp), &bytes));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    req.Flags = DONG_TRANSACT_CALLER_TXID;      /* ECHO has no txid */
    assert_false(dong_ioctl(h, IOCTL_DONG_TRANSACT_READ, &req, sizeof(req), &resp, sizeof(resp), &bytes));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    request(&req, DL1_CMD_WRITE, NULL, 0);      /* no room left for the driver's txid */
    req.Length = DL1_MAX_PAYLOAD - DL1_TXID_SIZE + 1;
    assert_false(dong_ioctl(h, IOCTL_DONG_TRANSACT_WRITE, &req, sizeof(req), &resp, sizeof(resp), &bytes));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);

    /* Key-changing commands: not through TRANSACT_READ, not on a read-only handle. */
    request(&req, DL1_CMD_LOCK, NULL, 0);
    assert_false(dong_ioctl(h, IOCTL_DONG_TRANSACT_READ, &req, DONG_TRANSACT_REQUEST_HEADER, &resp, sizeof(resp),
                       &bytes));
    assert_int_equal(GetLastError(), ERROR_ACCESS_DENIED);
    assert_false(dong_ioctl(ro, IOCTL_DONG_TRANSACT_WRITE, &req, DONG_TRANSACT_REQUEST_HEADER, &resp, sizeof(resp),
                       &bytes));
    assert_int_equal(GetLastError(), ERROR_ACCESS_DENIED);
    assert_false(dong_ioctl(ro, IOCTL_DONG_RESET, NULL, 0, NULL, 0, &bytes));
    assert_int_equal(GetLastError(), ERROR_ACCESS_DENIED);

    /* SET_TIMEOUTS: exact size, valid ranges. */
    assert_true(dong_ioctl(h, IOCTL_DONG_GET_TIMEOUTS, NULL, 0, &timeouts, sizeof(timeouts), &bytes));
    assert_false(dong_ioctl(h, IOCTL_DONG_SET_TIMEOUTS, &timeouts, sizeof(timeouts) - 1, NULL, 0, &bytes));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    timeouts.HandshakeMs = 0;
    assert_false(dong_ioctl(h, IOCTL_DONG_SET_TIMEOUTS, &timeouts, sizeof(timeouts), NULL, 0, &bytes));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);

    /* Unknown code of our device type; a parport internal code on our device. */
    assert_false(dong_ioctl(h, CTL_CODE(FILE_DEVICE_DONGLPT, 0x8FF, METHOD_BUFFERED, FILE_ANY_ACCESS), NULL, 0,
                       NULL, 0, &bytes));
    assert_int_equal(GetLastError(), ERROR_INVALID_FUNCTION);

    /* Nothing above reached the key. */
    stats = get_stats(h);
    assert_int_equal(stats.Requests, 0);
    close_dong(ro);
    close_dong(h);
}

/* Timeouts round-trip and stay per port. */
static void test_timeouts(void **state)
{
    HANDLE h1 = open_rw(1);
    HANDLE h2 = open_rw(2);
    DONG_TIMEOUTS t, back;
    DWORD bytes;

    (void)state;
    assert_true(dong_ioctl(h1, IOCTL_DONG_GET_TIMEOUTS, NULL, 0, &t, sizeof(t), &bytes));
    assert_int_equal(bytes, sizeof(t));
    assert_int_equal(t.HandshakeMs, 35);
    assert_int_equal(t.ResponseMs, 10);
    assert_int_equal(t.Retries, 3);
    assert_int_equal(t.PortWaitMs, 10000);
    t.HandshakeMs = 50;
    t.Retries = 5;
    assert_true(dong_ioctl(h1, IOCTL_DONG_SET_TIMEOUTS, &t, sizeof(t), NULL, 0, &bytes));
    assert_int_equal(bytes, 0);
    assert_true(dong_ioctl(h1, IOCTL_DONG_GET_TIMEOUTS, NULL, 0, &back, sizeof(back), &bytes));
    assert_memory_equal(&t, &back, sizeof(t));
    assert_true(dong_ioctl(h2, IOCTL_DONG_GET_TIMEOUTS, NULL, 0, &back, sizeof(back), &bytes));
    assert_int_equal(back.HandshakeMs, 35);
    close_dong(h1);
    close_dong(h2);
}

/* ECHO, WRITE/READ, counters and the key statuses, on the byte, nibble and ECP ports. */
static void test_transact_commands(void **state)
{
    static const unsigned ports[3] = { 1, 2, 4 };
    unsigned p;

    (void)state;
    for (p = 0; p < 3; p++) {
        HANDLE h = open_rw(ports[p]);
        DONG_TRANSACT_RESPONSE resp;
        UCHAR payload[DL1_MAX_PAYLOAD];
        unsigned i;

        for (i = 0; i < sizeof(payload); i++) {
            payload[i] = (UCHAR)(i * 7 + p);
        }
        assert_int_equal(transact(h, DL1_CMD_ECHO, payload, sizeof(payload), &resp), DL1_STATUS_OK);
        assert_int_equal(resp.Length, sizeof(payload));
        assert_memory_equal(resp.Payload, payload, sizeof(payload));
        assert_int_equal(resp.Txid, 0);

        /* WRITE 40 bytes at 0x300 (the driver adds the txid), READ them back. */
        put_u16(payload, 0x300);
        assert_int_equal(transact(h, DL1_CMD_WRITE, payload, 2 + 40, &resp), DL1_STATUS_OK);
        assert_int_not_equal(resp.Txid, 0);
        {
            UCHAR rd[4];
            put_u16(rd, 0x300);
            put_u16(rd + 2, 40);
            assert_int_equal(transact(h, DL1_CMD_READ, rd, 4, &resp), DL1_STATUS_OK);
            assert_int_equal(resp.Length, 40);
            assert_memory_equal(resp.Payload, payload + 2, 40);
            put_u16(rd, 2040);
            assert_int_equal(transact(h, DL1_CMD_READ, rd, 4, &resp), DL1_STATUS_BAD_ADDRESS);
        }

        /* Counter 3: set 2, dec 1 -> 1, dec 2 -> EXHAUSTED and unchanged. */
        {
            UCHAR set[5] = { 3 };
            UCHAR dec[5] = { 3 };
            ULONG first;
            put_u32(set + 1, 2);
            assert_int_equal(transact(h, DL1_CMD_COUNTER_SET, set, 5, &resp), DL1_STATUS_OK);
            first = resp.Txid;
            put_u32(dec + 1, 1);
            assert_int_equal(transact(h, DL1_CMD_COUNTER_DEC, dec, 5, &resp), DL1_STATUS_OK);
            assert_int_equal(get_u32(resp.Payload), 1);
            assert_int_not_equal(resp.Txid, first);
            put_u32(dec + 1, 2);
            assert_int_equal(transact(h, DL1_CMD_COUNTER_DEC, dec, 5, &resp), DL1_STATUS_EXHAUSTED);
            assert_int_equal(resp.Length, 0);
            assert_int_equal(counter_read(h, 3), 1);
        }
        assert_int_equal(transact(h, 0x7E, NULL, 0, &resp), DL1_STATUS_UNKNOWN_CMD);
        close_dong(h);
    }
}

/* A caller's own txid: resending the same COUNTER_DEC executes it once. */
static void test_caller_txid_resend(void **state)
{
    HANDLE h = open_rw(1);
    DONG_TRANSACT_REQUEST req;
    DONG_TRANSACT_RESPONSE resp;
    UCHAR set[5] = { 5 };
    UCHAR dec[4 + 5];
    DWORD bytes;
    int i;

    (void)state;
    put_u32(set + 1, 100);
    assert_int_equal(transact(h, DL1_CMD_COUNTER_SET, set, 5, &resp), DL1_STATUS_OK);
    put_u32(dec, 0x5EED1234ul);
    dec[4] = 5;
    put_u32(dec + 5, 7);
    for (i = 0; i < 3; i++) {
        request(&req, DL1_CMD_COUNTER_DEC, dec, sizeof(dec));
        req.Flags = DONG_TRANSACT_CALLER_TXID;
        assert_true(dong_ioctl(h, IOCTL_DONG_TRANSACT_WRITE, &req, sizeof(req), &resp, sizeof(resp), &bytes));
        assert_int_equal(resp.KeyStatus, DL1_STATUS_OK);
        assert_int_equal(resp.Txid, 0x5EED1234ul);
        assert_int_equal(get_u32(resp.Payload), 93);
    }
    assert_int_equal(counter_read(h, 5), 93);
    close_dong(h);
}

/* WriteFile sends one request, ReadFile returns its response; errors as documented. */
static void test_readfile_writefile(void **state)
{
    HANDLE h = open_rw(1);
    DONG_TRANSACT_REQUEST req;
    DONG_TRANSACT_RESPONSE resp;
    UCHAR small[DONG_TRANSACT_RESPONSE_HEADER + 4];
    DWORD bytes;
    UCHAR dec[5] = { 6 };

    (void)state;
    /* Nothing written yet. */
    assert_false(ReadFile(h, &resp, sizeof(resp), &bytes, NULL));
    assert_int_equal(GetLastError(), ERROR_NO_MORE_ITEMS);

    request(&req, DL1_CMD_ECHO, "hello, key", 10);
    assert_true(WriteFile(h, &req, DONG_TRANSACT_REQUEST_HEADER + 10, &bytes, NULL));
    assert_int_equal(bytes, DONG_TRANSACT_REQUEST_HEADER + 10);
    /* Too small: the response stays for the next ReadFile. */
    assert_false(ReadFile(h, small, sizeof(small), &bytes, NULL));
    assert_int_equal(GetLastError(), ERROR_INSUFFICIENT_BUFFER);
    assert_true(ReadFile(h, &resp, sizeof(resp), &bytes, NULL));
    assert_int_equal(bytes, DONG_TRANSACT_RESPONSE_HEADER + 10);
    assert_int_equal(resp.KeyStatus, DL1_STATUS_OK);
    assert_memory_equal(resp.Payload, "hello, key", 10);
    assert_false(ReadFile(h, &resp, sizeof(resp), &bytes, NULL));
    assert_int_equal(GetLastError(), ERROR_NO_MORE_ITEMS);

    /* A malformed request fails WriteFile at once. */
    req.Length = 600;
    assert_false(WriteFile(h, &req, sizeof(req), &bytes, NULL));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);

    /* A key refusal fails WriteFile with the mapped error and keeps the response. */
    put_u32(dec + 1, 1);
    request(&req, DL1_CMD_COUNTER_DEC, dec, 5);     /* counter 6 is 0: EXHAUSTED */
    assert_false(WriteFile(h, &req, DONG_TRANSACT_REQUEST_HEADER + 5, &bytes, NULL));
    assert_int_equal(GetLastError(), ERROR_NOT_ENOUGH_QUOTA);   /* STATUS_QUOTA_EXCEEDED */
    assert_true(ReadFile(h, &resp, sizeof(resp), &bytes, NULL));
    assert_int_equal(resp.KeyStatus, DL1_STATUS_EXHAUSTED);
    close_dong(h);
}

/* The printer port and the empty port: no key, and the status says why. */
static void test_printer_and_nothing(void **state)
{
    static const unsigned ports[2] = { 3, 5 };
    unsigned i;

    (void)state;
    for (i = 0; i < 2; i++) {
        HANDLE h = open_rw(ports[i]);
        DONG_TRANSACT_REQUEST req;
        DONG_TRANSACT_RESPONSE resp;
        DONG_PORT_STATUS st;
        DWORD bytes;

        request(&req, DL1_CMD_ECHO, "x", 1);
        assert_false(dong_ioctl(h, IOCTL_DONG_TRANSACT_READ, &req, DONG_TRANSACT_REQUEST_HEADER + 1, &resp,
                           sizeof(resp), &bytes));
        /* A printer is "a device, but no key"; nothing at all is "not connected". */
        assert_int_equal(GetLastError(), ports[i] == 3 ? ERROR_DEV_NOT_EXIST : ERROR_DEVICE_NOT_CONNECTED);
        assert_int_equal(bytes, 0);

        assert_true(dong_ioctl(h, IOCTL_DONG_GET_STATUS, NULL, 0, &st, sizeof(st), &bytes));
        assert_int_equal(bytes, sizeof(st));
        if (ports[i] == 3) {
            /* An idle on-line printer: selected, not busy (DL1.md section 10: 0xDF). */
            assert_int_equal(st.StatusRegister & 0xF8, 0xD8);
            assert_true(st.ParallelStatus & DONG_PARALLEL_SELECTED);
            assert_false(st.ParallelStatus & DONG_PARALLEL_BUSY);
        } else {
            assert_int_equal(st.StatusRegister & 0xF8, 0x78);   /* pulled up: Busy line high */
        }
        close_dong(h);
    }
}

/* Statistics count requests and bytes. */
static void test_stats(void **state)
{
    HANDLE h = open_rw(2);
    DONG_TRANSACT_RESPONSE resp;
    DONG_STATISTICS before, after;
    int i;

    (void)state;
    before = get_stats(h);
    for (i = 0; i < 5; i++) {
        assert_int_equal(transact(h, DL1_CMD_ECHO, "12345678", 8, &resp), DL1_STATUS_OK);
    }
    after = get_stats(h);
    assert_int_equal(after.Requests - before.Requests, 5);
    assert_true(after.FramesSent - before.FramesSent >= 5);
    assert_true(after.FramesReceived - before.FramesReceived >= 5);
    assert_true(after.BytesSent - before.BytesSent >= 5 * (7 + 8));
    assert_true(after.BytesReceived - before.BytesReceived >= 5 * (7 + 8));
    close_dong(h);
}

/* ------------------------------------------------- 8 threads x 1000 requests */

#define THREADS         8
#define PER_THREAD      1000
#define WINDOW          4
#define ECHO_LEN        12

typedef struct worker {
    unsigned id;
    unsigned completed;
    unsigned errors;
    char message[160];
    unsigned char seen[PER_THREAD];
} worker;

static void worker_fail(worker *w, const char *what, unsigned long value)
{
    if (w->errors++ == 0) {
        snprintf(w->message, sizeof(w->message), "thread %u: %s (%lu)", w->id, what, value);
    }
}

static DWORD WINAPI echo_worker(LPVOID param)
{
    worker *w = param;
    HANDLE h = open_dong(1, GENERIC_READ, FILE_FLAG_OVERLAPPED);
    DONG_TRANSACT_REQUEST req[WINDOW];
    DONG_TRANSACT_RESPONSE resp[WINDOW];
    OVERLAPPED ov[WINDOW];
    HANDLE events[WINDOW];
    unsigned seq[WINDOW];
    unsigned next = 0, slot;
    unsigned busy = 0;

    if (h == INVALID_HANDLE_VALUE) {
        worker_fail(w, "open", GetLastError());
        return 1;
    }
    for (slot = 0; slot < WINDOW; slot++) {
        events[slot] = CreateEventA(NULL, TRUE, FALSE, NULL);
    }
    while (w->completed + w->errors < PER_THREAD) {
        /* Keep WINDOW requests in flight. */
        for (slot = 0; slot < WINDOW && next < PER_THREAD; slot++) {
            UCHAR payload[ECHO_LEN];
            unsigned k;
            if (busy & (1u << slot)) {
                continue;
            }
            put_u32(payload, w->id);
            put_u32(payload + 4, next);
            for (k = 8; k < ECHO_LEN; k++) {
                payload[k] = (UCHAR)(w->id * 31 + next + k);
            }
            request(&req[slot], DL1_CMD_ECHO, payload, ECHO_LEN);
            memset(&resp[slot], 0, sizeof(resp[slot]));
            memset(&ov[slot], 0, sizeof(ov[slot]));
            ResetEvent(events[slot]);
            ov[slot].hEvent = events[slot];
            seq[slot] = next++;
            if (!DeviceIoControl(h, IOCTL_DONG_TRANSACT_READ, &req[slot], DONG_TRANSACT_REQUEST_HEADER + ECHO_LEN,
                                 &resp[slot], sizeof(resp[slot]), NULL, &ov[slot]) &&
                GetLastError() != ERROR_IO_PENDING) {
                worker_fail(w, "DeviceIoControl", GetLastError());
                continue;
            }
            busy |= 1u << slot;
        }
        if (busy == 0) {
            break;
        }
        {
            HANDLE wait[WINDOW];
            unsigned map[WINDOW], n = 0;
            DWORD r, bytes;
            for (slot = 0; slot < WINDOW; slot++) {
                if (busy & (1u << slot)) {
                    map[n] = slot;
                    wait[n++] = events[slot];
                }
            }
            r = WaitForMultipleObjects(n, wait, FALSE, INFINITE);
            if (r >= WAIT_OBJECT_0 + n) {
                worker_fail(w, "wait", r);
                break;
            }
            slot = map[r - WAIT_OBJECT_0];
            busy &= ~(1u << slot);
            if (!GetOverlappedResult(h, &ov[slot], &bytes, FALSE)) {
                worker_fail(w, "request failed", GetLastError());
                continue;
            }
            if (bytes != DONG_TRANSACT_RESPONSE_HEADER + ECHO_LEN || resp[slot].KeyStatus != DL1_STATUS_OK ||
                resp[slot].Length != ECHO_LEN || memcmp(resp[slot].Payload, req[slot].Payload, ECHO_LEN) != 0) {
                worker_fail(w, "wrong response for seq", seq[slot]);
                continue;
            }
            if (w->seen[seq[slot]]++ != 0) {
                worker_fail(w, "duplicate seq", seq[slot]);
                continue;
            }
            w->completed++;
        }
    }
    for (slot = 0; slot < WINDOW; slot++) {
        CloseHandle(events[slot]);
    }
    close_dong(h);
    return 0;
}

static void test_threads_overlapped(void **state)
{
    worker *workers = calloc(THREADS, sizeof(worker));
    HANDLE threads[THREADS];
    HANDLE h;
    DONG_STATISTICS stats;
    unsigned i, j;

    (void)state;
    assert_non_null(workers);
    for (i = 0; i < THREADS; i++) {
        workers[i].id = i;
        threads[i] = CreateThread(NULL, 0, echo_worker, &workers[i], 0, NULL);
        assert_non_null(threads[i]);
    }
    assert_int_equal(WaitForMultipleObjects(THREADS, threads, TRUE, INFINITE), WAIT_OBJECT_0);
    for (i = 0; i < THREADS; i++) {
        CloseHandle(threads[i]);
        if (workers[i].errors != 0) {
            fail_msg("%s; %u errors", workers[i].message, workers[i].errors);
        }
        assert_int_equal(workers[i].completed, PER_THREAD);
        for (j = 0; j < PER_THREAD; j++) {
            assert_int_equal(workers[i].seen[j], 1);
        }
    }
    h = open_rw(1);
    stats = get_stats(h);
    assert_int_equal(stats.Requests, THREADS * PER_THREAD);
    close_dong(h);
    free(workers);
}

/* RESET pulses nInit: the key resets (and keeps its EEPROM); the next request
 * waits out its NOT-READY time and works. GET_STATUS reads the lines as they are. */
static void test_reset_and_status(void **state)
{
    HANDLE h = open_rw(2);
    sim_key *key = sim_machine_key(nthost_machine(), 1);
    sim_key_stats before, after;
    DONG_TRANSACT_RESPONSE resp;
    DONG_PORT_STATUS st;
    DWORD bytes;

    (void)state;
    assert_non_null(key);
    sim_key_get_stats(key, &before);
    assert_true(dong_ioctl(h, IOCTL_DONG_RESET, NULL, 0, NULL, 0, &bytes));
    assert_int_equal(bytes, 0);
    sim_key_get_stats(key, &after);
    assert_int_equal(after.resets - before.resets, 1);
    assert_int_equal(transact(h, DL1_CMD_ECHO, "again", 5, &resp), DL1_STATUS_OK);

    /* Between sessions a key drives no status line: alone on the cable it shows the
       pull-ups; with a printer behind it, the printer's idle status. */
    assert_true(dong_ioctl(h, IOCTL_DONG_GET_STATUS, NULL, 0, &st, sizeof(st), &bytes));
    assert_int_equal(bytes, sizeof(st));
    assert_int_equal(st.StatusRegister & 0xF8, 0x78);
    assert_true(st.ParallelStatus & DONG_PARALLEL_NOT_CONNECTED);
    close_dong(h);
    h = open_rw(1);
    assert_true(dong_ioctl(h, IOCTL_DONG_GET_STATUS, NULL, 0, &st, sizeof(st), &bytes));
    assert_int_equal(st.StatusRegister & 0xF8, 0xD8);
    assert_true(st.ParallelStatus & DONG_PARALLEL_SELECTED);
    assert_false(st.ParallelStatus & (DONG_PARALLEL_BUSY | DONG_PARALLEL_NOT_CONNECTED));
    close_dong(h);
}

/* ----------------------------------------------------- lost response */

/* The key's response to a COUNTER_DEC is corrupted on the way back: the driver
 * resends the same bytes, the key answers from its cache, the counter drops once. */
static void test_counter_dec_lost_response(void **state)
{
    HANDLE h = open_rw(1);
    DONG_TRANSACT_RESPONSE resp;
    sim_key *key = sim_machine_key(nthost_machine(), 0);
    sim_key_trigger now = { .kind = SIM_KEY_TRIGGER_NOW };
    sim_key_fault corrupt = { .kind = SIM_KEY_FAULT_CORRUPT_CRC, .arg = 1 };
    UCHAR set[5] = { 7 };
    UCHAR dec[5] = { 7 };
    DONG_STATISTICS before, after;
    sim_key_stats kbefore, kafter;

    (void)state;
    assert_non_null(key);
    put_u32(set + 1, 10);
    assert_int_equal(transact(h, DL1_CMD_COUNTER_SET, set, 5, &resp), DL1_STATUS_OK);
    before = get_stats(h);

    sim_key_get_stats(key, &kbefore);
    assert_int_equal(sim_key_inject(key, &now, &corrupt), 0);
    put_u32(dec + 1, 3);
    assert_int_equal(transact(h, DL1_CMD_COUNTER_DEC, dec, 5, &resp), DL1_STATUS_OK);
    sim_key_get_stats(key, &kafter);
    assert_int_equal(kafter.commands_executed - kbefore.commands_executed, 1);
    assert_true(kafter.cache_resends > kbefore.cache_resends);   /* the resend hit the cache */
    assert_int_equal(get_u32(resp.Payload), 7);
    assert_true(resp.Retries >= 1);
    after = get_stats(h);
    assert_true(after.CrcErrors > before.CrcErrors);
    assert_true(after.Retries > before.Retries);

    assert_int_equal(sim_key_counter(key, 7), 7);
    assert_int_equal(counter_read(h, 7), 7);
    close_dong(h);
}

/* The key loses power just as its COUNTER_DEC response is ready: the volatile cache
 * is gone, so only the txid journal keeps the resent command from running twice. */
static void test_counter_dec_power_loss(void **state)
{
    HANDLE h = open_rw(1);
    DONG_TRANSACT_RESPONSE resp;
    sim_key *key = sim_machine_key(nthost_machine(), 0);
    sim_key_trigger when = { .kind = SIM_KEY_TRIGGER_AFTER_RESPONSES, .count = 1 };
    sim_key_fault loss = { .kind = SIM_KEY_FAULT_POWER_LOSS, .duration = SIM_NS(1000000) };
    UCHAR set[5] = { 6 };
    UCHAR dec[5] = { 6 };
    sim_key_stats kbefore, kafter;

    (void)state;
    assert_non_null(key);
    put_u32(set + 1, 50);
    assert_int_equal(transact(h, DL1_CMD_COUNTER_SET, set, 5, &resp), DL1_STATUS_OK);

    sim_key_get_stats(key, &kbefore);
    assert_int_equal(sim_key_inject(key, &when, &loss), 0);
    put_u32(dec + 1, 5);
    assert_int_equal(transact(h, DL1_CMD_COUNTER_DEC, dec, 5, &resp), DL1_STATUS_OK);
    sim_key_get_stats(key, &kafter);
    assert_true(kafter.journal_replays > kbefore.journal_replays);   /* the resend hit the journal */
    assert_int_equal(get_u32(resp.Payload), 45);
    assert_true(resp.Retries >= 1);
    assert_int_equal(sim_key_counter(key, 6), 45);
    assert_int_equal(counter_read(h, 6), 45);
    close_dong(h);
}

/* The key loses power as its COUNTER_DEC answer is ready and stays off: the outcome
 * is unknown (ERROR_RETRY). The failed METHOD_BUFFERED call copies nothing back, so
 * the response's Txid never reaches a Win32 caller: only the caller's own txid lets
 * it resend. With the key back, that resend is answered from the journal: once. */
static void test_unknown_outcome_caller_txid(void **state)
{
    HANDLE h = open_rw(1);
    DONG_TRANSACT_REQUEST req;
    DONG_TRANSACT_RESPONSE resp;
    sim_key *key = sim_machine_key(nthost_machine(), 0);
    sim_key_trigger when = { .kind = SIM_KEY_TRIGGER_AFTER_RESPONSES, .count = 1 };
    sim_key_trigger now = { .kind = SIM_KEY_TRIGGER_NOW };
    sim_key_fault loss = { .kind = SIM_KEY_FAULT_POWER_LOSS, .duration = 0 };
    sim_key_fault on = { .kind = SIM_KEY_FAULT_POWER_ON };
    UCHAR set[5] = { 4 };
    UCHAR dec[4 + 5];
    sim_key_stats kbefore, kafter;
    DWORD bytes;

    (void)state;
    assert_non_null(key);
    put_u32(set + 1, 30);
    assert_int_equal(transact(h, DL1_CMD_COUNTER_SET, set, 5, &resp), DL1_STATUS_OK);
    put_u32(dec, 0x0DD0B7EDul);
    dec[4] = 4;
    put_u32(dec + 5, 6);
    request(&req, DL1_CMD_COUNTER_DEC, dec, sizeof(dec));
    req.Flags = DONG_TRANSACT_CALLER_TXID;

    assert_int_equal(sim_key_inject(key, &when, &loss), 0);
    memset(&resp, 0xEE, sizeof(resp));
    bytes = 12345;
    assert_false(DeviceIoControl(h, IOCTL_DONG_TRANSACT_WRITE, &req, DONG_TRANSACT_REQUEST_HEADER + sizeof(dec),
                                 &resp, sizeof(resp), &bytes, NULL));
    assert_int_equal(GetLastError(), ERROR_RETRY);
    assert_int_equal(bytes, 0);
    assert_int_equal(resp.Txid, 0xEEEEEEEEul);     /* nothing came back */
    assert_int_equal(sim_key_counter(key, 4), 24);  /* it had run */

    assert_int_equal(sim_key_inject(key, &now, &on), 0);
    Sleep(200);                                      /* past NOT-READY */
    sim_key_get_stats(key, &kbefore);
    assert_true(dong_ioctl(h, IOCTL_DONG_TRANSACT_WRITE, &req, DONG_TRANSACT_REQUEST_HEADER + sizeof(dec), &resp,
                           sizeof(resp), &bytes));
    sim_key_get_stats(key, &kafter);
    assert_int_equal(resp.KeyStatus, DL1_STATUS_OK);
    assert_int_equal(resp.Txid, 0x0DD0B7EDul);
    assert_int_equal(get_u32(resp.Payload), 24);
    assert_int_equal(kafter.commands_executed, kbefore.commands_executed);
    assert_int_equal(kafter.journal_replays - kbefore.journal_replays, 1);
    assert_int_equal(counter_read(h, 4), 24);
    close_dong(h);
}

/* ------------------------------------------------------------- cancel */

#define QUEUED 16

/* Queue a slow WRITE (16 pages: 80 ms of key time) and QUEUED ECHOs behind it. */
static void queue_behind_slow_write(HANDLE h, DONG_TRANSACT_REQUEST *req, DONG_TRANSACT_RESPONSE *resp,
                                    OVERLAPPED *ov)
{
    UCHAR write[2 + 256];
    unsigned i;

    put_u16(write, 0x400);
    memset(write + 2, 0x5A, 256);
    for (i = 0; i <= QUEUED; i++) {
        memset(&ov[i], 0, sizeof(ov[i]));
        ov[i].hEvent = CreateEventA(NULL, TRUE, FALSE, NULL);
        if (i == 0) {
            request(&req[i], DL1_CMD_WRITE, write, sizeof(write));
        } else {
            UCHAR echo[4];
            put_u32(echo, i);
            request(&req[i], DL1_CMD_ECHO, echo, 4);
        }
        if (!DeviceIoControl(h, IOCTL_DONG_TRANSACT_WRITE, &req[i], DONG_TRANSACT_REQUEST_HEADER + req[i].Length,
                             &resp[i], sizeof(resp[i]), NULL, &ov[i])) {
            assert_int_equal(GetLastError(), ERROR_IO_PENDING);
        }
    }
}

static void test_cancelio(void **state)
{
    HANDLE h = open_dong(1, GENERIC_READ | GENERIC_WRITE, FILE_FLAG_OVERLAPPED);
    DONG_TRANSACT_REQUEST req[QUEUED + 1];
    DONG_TRANSACT_RESPONSE resp[QUEUED + 1];
    OVERLAPPED ov[QUEUED + 1];
    unsigned i, aborted = 0;
    DWORD bytes;

    (void)state;
    assert_true(h != INVALID_HANDLE_VALUE);
    queue_behind_slow_write(h, req, resp, ov);
    assert_true(CancelIo(h));
    for (i = 0; i <= QUEUED; i++) {
        if (GetOverlappedResult(h, &ov[i], &bytes, TRUE)) {
            assert_int_equal(resp[i].KeyStatus, DL1_STATUS_OK);
            if (i != 0) {
                assert_memory_equal(resp[i].Payload, req[i].Payload, 4);
            }
        } else {
            assert_int_equal(GetLastError(), ERROR_OPERATION_ABORTED);
            assert_int_equal(bytes, 0);
            aborted++;
        }
        CloseHandle(ov[i].hEvent);
    }
    /* The WRITE was being served; the ECHOs behind it were still queued. */
    assert_true(aborted >= QUEUED / 2);
    /* The handle still works. */
    {
        DONG_TRANSACT_RESPONSE r;
        HANDLE h2 = open_rw(1);
        assert_int_equal(transact(h2, DL1_CMD_ECHO, "ok", 2, &r), DL1_STATUS_OK);
        close_dong(h2);
    }
    close_dong(h);
}

static void test_closehandle_cancels(void **state)
{
    HANDLE h = open_dong(1, GENERIC_READ | GENERIC_WRITE, FILE_FLAG_OVERLAPPED);
    DONG_TRANSACT_REQUEST req[QUEUED + 1];
    DONG_TRANSACT_RESPONSE resp[QUEUED + 1];
    OVERLAPPED ov[QUEUED + 1];
    unsigned i, aborted = 0;

    (void)state;
    assert_true(h != INVALID_HANDLE_VALUE);
    queue_behind_slow_write(h, req, resp, ov);
    close_dong(h);
    for (i = 0; i <= QUEUED; i++) {
        assert_int_equal(WaitForSingleObject(ov[i].hEvent, INFINITE), WAIT_OBJECT_0);
        if ((ULONG)ov[i].Internal == 0xC0000120u) {     /* STATUS_CANCELLED */
            aborted++;
        } else {
            assert_int_equal((ULONG)ov[i].Internal, 0);
        }
        CloseHandle(ov[i].hEvent);
    }
    assert_true(aborted >= QUEUED / 2);
}

/* ------------------------------------------------- allocation policies */

/* Per request (default): the port is given back after each request, so each one
 * opens a new key session. */
static void test_allocate_per_request(void **state)
{
    HANDLE h = open_rw(1);
    DONG_TRANSACT_RESPONSE resp;
    DONG_STATISTICS before, after;
    int i;

    (void)state;
    before = get_stats(h);
    for (i = 0; i < 4; i++) {
        assert_int_equal(transact(h, DL1_CMD_ECHO, "pr", 2, &resp), DL1_STATUS_OK);
    }
    after = get_stats(h);
    assert_int_equal(after.SessionsOpened - before.SessionsOpened, 4);
    close_dong(h);
}

/* Requests queued back to back share one session while nobody else waits for the
 * port: a slow WRITE, then ECHOs queued behind it. */
static void test_back_to_back_requests_keep_session(void **state)
{
    HANDLE h = open_dong(1, GENERIC_READ | GENERIC_WRITE, FILE_FLAG_OVERLAPPED);
    HANDLE sync = open_rw(1);
    DONG_TRANSACT_REQUEST req[QUEUED + 1];
    DONG_TRANSACT_RESPONSE resp[QUEUED + 1];
    OVERLAPPED ov[QUEUED + 1];
    DONG_STATISTICS before, after;
    DWORD bytes;
    unsigned i;

    (void)state;
    assert_true(h != INVALID_HANDLE_VALUE);
    before = get_stats(sync);
    queue_behind_slow_write(h, req, resp, ov);
    for (i = 0; i <= QUEUED; i++) {
        assert_true(GetOverlappedResult(h, &ov[i], &bytes, TRUE));
        assert_int_equal(resp[i].KeyStatus, DL1_STATUS_OK);
        CloseHandle(ov[i].hEvent);
    }
    after = get_stats(sync);
    assert_int_equal(after.Requests - before.Requests, QUEUED + 1);
    assert_true(after.SessionsOpened - before.SessionsOpened < QUEUED / 2);
    close_dong(sync);
    close_dong(h);
}

/* Per open handle: the port and the session stay while a handle is open. */
static void test_allocate_per_open(void **state)
{
    HANDLE h = open_rw(1);
    HANDLE h2;
    DONG_TRANSACT_RESPONSE resp;
    DONG_STATISTICS before, after;
    int i;

    (void)state;
    before = get_stats(h);
    for (i = 0; i < 4; i++) {
        assert_int_equal(transact(h, DL1_CMD_ECHO, "po", 2, &resp), DL1_STATUS_OK);
    }
    h2 = open_rw(1);
    assert_int_equal(transact(h2, DL1_CMD_ECHO, "po", 2, &resp), DL1_STATUS_OK);
    after = get_stats(h);
    assert_int_equal(after.SessionsOpened - before.SessionsOpened, 1);
    close_dong(h2);
    close_dong(h);
    /* Every handle closed: the port went back; a new open starts a new session. */
    h = open_rw(1);
    assert_int_equal(transact(h, DL1_CMD_ECHO, "po", 2, &resp), DL1_STATUS_OK);
    after = get_stats(h);
    assert_int_equal(after.SessionsOpened - before.SessionsOpened, 2);
    close_dong(h);
}

/* ------------------------------------------------------- event log */

static void test_event_log(void **state)
{
    size_t i, n = nthost_errlog_count();
    unsigned started = 0, first = 0;

    (void)state;
    for (i = 0; i < n; i++) {
        nthost_errlog_entry e;
        assert_true(nthost_errlog_get(i, &e));
        if (strcmp(e.source, "DongLpt") == 0 && e.error_code == 0x41070001u) {
            char *text = nthost_errlog_format(i);
            assert_non_null(text);
            assert_non_null(strstr(text, "is ready on parallel port"));
            if (strstr(text, "\\Device\\DongLpt0 is ready on parallel port 1 (I/O base 0x378, PS/2 chip).")) {
                first++;
            }
            free(text);
            started++;
        }
    }
    assert_int_equal(started, PORTS);
    assert_int_equal(first, 1);

    /* A probe that finds something new is logged once: three keys, two without. */
    for (i = 1; i <= PORTS; i++) {
        HANDLE h = open_dong((unsigned)i, GENERIC_READ, 0);
        DONG_INFO info;
        DWORD bytes;
        assert_true(h != INVALID_HANDLE_VALUE);
        assert_true(dong_ioctl(h, IOCTL_DONG_GET_INFO, NULL, 0, &info, sizeof(info), &bytes));
        assert_true(dong_ioctl(h, IOCTL_DONG_GET_INFO, NULL, 0, &info, sizeof(info), &bytes));
        close_dong(h);
    }
    assert_int_equal(count_events(0x41070003u), 3);     /* DONG_MSG_KEY_FOUND */
    assert_int_equal(count_events(0x81070010u), 2);     /* DONG_MSG_NO_KEY */
}

/* ErrorLogLevel 1: errors only, so no "port started" information. */
static void test_event_log_filtered(void **state)
{
    size_t i, n = nthost_errlog_count();

    (void)state;
    for (i = 0; i < n; i++) {
        nthost_errlog_entry e;
        assert_true(nthost_errlog_get(i, &e));
        if (strcmp(e.source, "DongLpt") == 0) {
            assert_int_equal(e.severity, 3);
        }
    }
}

/* Parameters\DosName: \\.\COM9 is the first port. */
static void test_dos_name(void **state)
{
    HANDLE h = CreateFileA("\\\\.\\COM9", GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL);
    DONG_INFO info;
    DWORD bytes;

    (void)state;
    assert_true(h != INVALID_HANDLE_VALUE);
    assert_true(dong_ioctl(h, IOCTL_DONG_GET_INFO, NULL, 0, &info, sizeof(info), &bytes));
    assert_int_equal(info.PortNumber, 0);
    close_dong(h);
    {
        char *snap = nthost_namespace_snapshot();
        assert_non_null(strstr(snap, "COM9 SymbolicLink -> \\Device\\DongLpt0"));
        free(snap);
    }
}

/* Bad parameters are logged and replaced by defaults; a taken DOS name is logged
 * and the device works without it. */
static void test_bad_parameters(void **state)
{
    HANDLE h = open_rw(1);
    DONG_TIMEOUTS t;
    DONG_TRANSACT_RESPONSE resp;
    DWORD bytes;
    char *snap;

    (void)state;
    assert_true(dong_ioctl(h, IOCTL_DONG_GET_TIMEOUTS, NULL, 0, &t, sizeof(t), &bytes));
    assert_int_equal(t.HandshakeMs, 35);
    assert_int_equal(t.Retries, 3);
    assert_int_equal(count_events(0x81070013u), 2);     /* DONG_MSG_BAD_PARAMETER */
    assert_int_equal(count_events(0x81070014u), 1);     /* DONG_MSG_DOS_NAME_TAKEN */
    snap = nthost_namespace_snapshot();
    assert_non_null(strstr(snap, "LPT3 SymbolicLink -> \\Device\\ParallelPort2"));
    free(snap);
    assert_int_equal(transact(h, DL1_CMD_ECHO, "ok", 2, &resp), DL1_STATUS_OK);
    close_dong(h);
}

/* ------------------------------------------------- another parport client */

/* While another driver owns the port, requests wait for it: they time out after
 * PortWaitMs (ERROR_BUSY, logged), can be cancelled while waiting, and are served
 * as soon as the port is given back. Between two requests DongLpt holds nothing. */
static void test_port_shared_with_another_driver(void **state)
{
    HANDLE h = open_dong(1, GENERIC_READ | GENERIC_WRITE, FILE_FLAG_OVERLAPPED);
    DONG_TIMEOUTS t;
    DONG_TRANSACT_REQUEST req;
    DONG_TRANSACT_RESPONSE resp;
    OVERLAPPED ov;
    DWORD bytes;

    (void)state;
    assert_true(h != INVALID_HANDLE_VALUE);
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = CreateEventA(NULL, TRUE, FALSE, NULL);
    assert_true(DeviceIoControl(h, IOCTL_DONG_GET_TIMEOUTS, NULL, 0, &t, sizeof(t), &bytes, &ov) ||
                GetLastError() == ERROR_IO_PENDING);
    assert_true(GetOverlappedResult(h, &ov, &bytes, TRUE));

    assert_int_equal(nthost_service_start("PortHog"), 0);

    /* Timed out waiting for the port. */
    t.PortWaitMs = 50;
    ResetEvent(ov.hEvent);
    assert_true(DeviceIoControl(h, IOCTL_DONG_SET_TIMEOUTS, &t, sizeof(t), NULL, 0, &bytes, &ov) ||
                GetLastError() == ERROR_IO_PENDING);
    assert_true(GetOverlappedResult(h, &ov, &bytes, TRUE));
    request(&req, DL1_CMD_ECHO, "wait", 4);
    ResetEvent(ov.hEvent);
    if (!DeviceIoControl(h, IOCTL_DONG_TRANSACT_READ, &req, DONG_TRANSACT_REQUEST_HEADER + 4, &resp, sizeof(resp),
                         &bytes, &ov)) {
        assert_int_equal(GetLastError(), ERROR_IO_PENDING);
    }
    assert_false(GetOverlappedResult(h, &ov, &bytes, TRUE));
    assert_int_equal(GetLastError(), ERROR_BUSY);
    assert_int_equal(count_events(0x81070011u), 1);     /* DONG_MSG_PORT_BUSY */

    /* Cancelled while waiting for the port (no time limit now). */
    t.PortWaitMs = 0;
    ResetEvent(ov.hEvent);
    assert_true(DeviceIoControl(h, IOCTL_DONG_SET_TIMEOUTS, &t, sizeof(t), NULL, 0, &bytes, &ov) ||
                GetLastError() == ERROR_IO_PENDING);
    assert_true(GetOverlappedResult(h, &ov, &bytes, TRUE));
    ResetEvent(ov.hEvent);
    assert_false(DeviceIoControl(h, IOCTL_DONG_TRANSACT_READ, &req, DONG_TRANSACT_REQUEST_HEADER + 4, &resp,
                                 sizeof(resp), &bytes, &ov));
    assert_int_equal(GetLastError(), ERROR_IO_PENDING);
    assert_int_equal(WaitForSingleObject(ov.hEvent, 0), WAIT_TIMEOUT);
    assert_true(CancelIo(h));
    assert_false(GetOverlappedResult(h, &ov, &bytes, TRUE));
    assert_int_equal(GetLastError(), ERROR_OPERATION_ABORTED);

    /* Served when the other driver gives the port back. */
    ResetEvent(ov.hEvent);
    assert_false(DeviceIoControl(h, IOCTL_DONG_TRANSACT_READ, &req, DONG_TRANSACT_REQUEST_HEADER + 4, &resp,
                                 sizeof(resp), &bytes, &ov));
    assert_int_equal(GetLastError(), ERROR_IO_PENDING);
    assert_int_equal(nthost_service_stop("PortHog"), 0);
    assert_true(GetOverlappedResult(h, &ov, &bytes, TRUE));
    assert_memory_equal(resp.Payload, "wait", 4);
    {
        HANDLE sync = open_rw(1);
        assert_true(get_stats(sync).PortWaits >= 1);   /* at least the one that timed out */
        close_dong(sync);
    }

    /* Per-request allocation: with the handle still open, the port is free again. */
    assert_int_equal(nthost_service_start("PortHog"), 0);
    assert_int_equal(nthost_service_stop("PortHog"), 0);
    CloseHandle(ov.hEvent);
    close_dong(h);
}

/* AllocatePerOpen: another driver cannot have the port while a handle is open. */
static void test_per_open_holds_port(void **state)
{
    HANDLE h = open_rw(1);
    DONG_TRANSACT_RESPONSE resp;

    (void)state;
    assert_int_equal(transact(h, DL1_CMD_ECHO, "held", 4, &resp), DL1_STATUS_OK);
    assert_int_equal(nthost_service_start("PortHog"), ERROR_BUSY);
    {
        /* A probe in the middle of the kept session still finds the key. */
        DONG_INFO info;
        DWORD bytes;
        assert_true(dong_ioctl(h, IOCTL_DONG_GET_INFO, NULL, 0, &info, sizeof(info), &bytes));
        assert_int_equal(info.Attached, DONG_PERIPHERAL_KEY);
        assert_int_equal(transact(h, DL1_CMD_ECHO, "again", 5, &resp), DL1_STATUS_OK);
    }
    close_dong(h);
    assert_int_equal(nthost_service_start("PortHog"), 0);
    assert_int_equal(nthost_service_stop("PortHog"), 0);
}

/* ------------------------------------------------ parport from user mode */

/* parport has no public controls: internal codes sent through DeviceIoControl do
 * not allocate the port. */
static void test_parport_user_ioctl(void **state)
{
    HANDLE lpt = CreateFileA("\\\\.\\LPT3", GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
    HANDLE h;
    UCHAR out[64];
    DWORD bytes;
    DONG_TRANSACT_RESPONSE resp;

    (void)state;
    assert_true(lpt != INVALID_HANDLE_VALUE);
    assert_false(DeviceIoControl(lpt, 0x16002C, NULL, 0, NULL, 0, &bytes, NULL));  /* ALLOCATE */
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    assert_false(DeviceIoControl(lpt, 0x160030, NULL, 0, out, sizeof(out), &bytes, NULL));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    close_dong(lpt);
    /* And the port is still free for DongLpt. */
    h = open_rw(1);
    assert_int_equal(transact(h, DL1_CMD_ECHO, "f", 1, &resp), DL1_STATUS_OK);
    close_dong(h);
}

/* ------------------------------------------------------ stop and unload */

static void test_stop_with_handles_open(void **state)
{
    char *before;
    char *after;
    size_t pool_before;
    HANDLE h;
    DONG_TRANSACT_REQUEST req[QUEUED + 1];
    DONG_TRANSACT_RESPONSE resp[QUEUED + 1];
    OVERLAPPED ov[QUEUED + 1];
    DONG_TRANSACT_RESPONSE r;
    unsigned i;

    (void)state;
    before = nthost_namespace_snapshot();
    pool_before = nthost_pool_outstanding();
    assert_int_equal(nthost_service_start("Parport"), 0);
    assert_int_equal(nthost_service_start("DongLpt"), 0);

    /* NT's rule: the stop succeeds, the unload waits for the last handle. */
    h = open_dong(1, GENERIC_READ | GENERIC_WRITE, FILE_FLAG_OVERLAPPED);
    assert_true(h != INVALID_HANDLE_VALUE);
    queue_behind_slow_write(h, req, resp, ov);
    assert_int_equal(nthost_service_stop("DongLpt"), 0);
    assert_true(open_dong(1, GENERIC_READ, 0) == INVALID_HANDLE_VALUE);

    /* The open handle keeps working: its queued requests are served... */
    for (i = 0; i <= QUEUED; i++) {
        assert_int_equal(WaitForSingleObject(ov[i].hEvent, INFINITE), WAIT_OBJECT_0);
        assert_int_equal((ULONG)ov[i].Internal, 0);
        assert_int_equal(resp[i].KeyStatus, DL1_STATUS_OK);
        CloseHandle(ov[i].hEvent);
    }
    /* ...and so is a new one. */
    {
        DONG_TRANSACT_REQUEST one;
        DWORD bytes;
        OVERLAPPED o;
        memset(&o, 0, sizeof(o));
        o.hEvent = CreateEventA(NULL, TRUE, FALSE, NULL);
        request(&one, DL1_CMD_ECHO, "still", 5);
        if (!DeviceIoControl(h, IOCTL_DONG_TRANSACT_READ, &one, DONG_TRANSACT_REQUEST_HEADER + 5, &r, sizeof(r),
                             NULL, &o)) {
            assert_int_equal(GetLastError(), ERROR_IO_PENDING);
        }
        assert_true(GetOverlappedResult(h, &o, &bytes, TRUE));
        assert_memory_equal(r.Payload, "still", 5);
        CloseHandle(o.hEvent);
    }
    /* The last handle closes: DriverUnload, and nothing is left. */
    close_dong(h);
    assert_int_equal(nthost_service_stop("Parport"), 0);
    after = nthost_namespace_snapshot();
    assert_string_equal(before, after);
    assert_int_equal(nthost_pool_outstanding(), pool_before);
    assert_int_equal(nthost_irps_outstanding(), 0);
    free(before);
    free(after);
}

/* Stopped with no handle open: unloaded at once, nothing left behind. */
static void test_stop_unloads(void **state)
{
    char *before, *after;
    size_t pool_before;
    HANDLE h;
    DONG_TRANSACT_RESPONSE r;

    (void)state;
    before = nthost_namespace_snapshot();
    pool_before = nthost_pool_outstanding();
    assert_int_equal(nthost_service_start("Parport"), 0);
    assert_int_equal(nthost_service_start("DongLpt"), 0);
    h = open_rw(1);
    assert_int_equal(transact(h, DL1_CMD_ECHO, "x", 1, &r), DL1_STATUS_OK);
    close_dong(h);
    assert_int_equal(nthost_service_stop("DongLpt"), 0);
    assert_true(open_dong(1, GENERIC_READ, 0) == INVALID_HANDLE_VALUE);
    assert_int_equal(GetLastError(), ERROR_FILE_NOT_FOUND);
    /* A second start works as the first did. */
    assert_int_equal(nthost_service_start("DongLpt"), 0);
    h = open_rw(1);
    assert_int_equal(transact(h, DL1_CMD_ECHO, "y", 1, &r), DL1_STATUS_OK);
    close_dong(h);
    assert_int_equal(nthost_service_stop("DongLpt"), 0);
    assert_int_equal(nthost_service_stop("Parport"), 0);
    after = nthost_namespace_snapshot();
    assert_string_equal(before, after);
    assert_int_equal(nthost_pool_outstanding(), pool_before);
    free(before);
    free(after);
}

/* ----------------------------------------------------- a new process */

/* Child: boot, do one thing, shut down; exit status 0 when it worked. */
static int child_write_or_check(const char *machine, const UCHAR *data, int write)
{
    const char *regs[3] = { PARPORT_REG, DONGLPT_REG, NULL };
    nthost_config cfg;
    HANDLE h;
    DONG_TRANSACT_RESPONSE resp;
    UCHAR payload[2 + 32];
    int ok;

    memset(&cfg, 0, sizeof(cfg));
    cfg.machine = machine;
    cfg.reg_files = regs;
    cfg.driver_dir = DRIVER_DIR;
    if (nthost_boot(&cfg) != NULL) {
        return 2;
    }
    h = open_dong(2, GENERIC_READ | GENERIC_WRITE, 0);
    if (h == INVALID_HANDLE_VALUE) {
        nthost_shutdown();
        return 3;
    }
    {
        DONG_TRANSACT_REQUEST req;
        DWORD bytes;
        if (write) {
            put_u16(payload, 0x600);
            memcpy(payload + 2, data, 32);
            request(&req, DL1_CMD_WRITE, payload, sizeof(payload));
            ok = DeviceIoControl(h, IOCTL_DONG_TRANSACT_WRITE, &req, sizeof(req), &resp, sizeof(resp), &bytes, NULL) &&
                 resp.KeyStatus == DL1_STATUS_OK;
        } else {
            put_u16(payload, 0x600);
            put_u16(payload + 2, 32);
            request(&req, DL1_CMD_READ, payload, 4);
            ok = DeviceIoControl(h, IOCTL_DONG_TRANSACT_READ, &req, sizeof(req), &resp, sizeof(resp), &bytes, NULL) &&
                 resp.KeyStatus == DL1_STATUS_OK && resp.Length == 32 && memcmp(resp.Payload, data, 32) == 0;
        }
    }
    close_dong(h);
    nthost_shutdown();
    return ok ? 0 : 1;
}

static int run_child(const char *machine, const UCHAR *data, int write)
{
    int status;
    pid_t pid = fork();
    if (pid == 0) {
        _exit(child_write_or_check(machine, data, write));
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
        return -1;
    }
    return WEXITSTATUS(status);
}

static void test_new_process_sees_write(void **state)
{
    fixture *fx = *state;
    UCHAR data[32];
    unsigned i;

    srand((unsigned)getpid());
    for (i = 0; i < sizeof(data); i++) {
        data[i] = (UCHAR)rand();
    }
    assert_int_equal(run_child(fx->machine, data, 1), 0);
    assert_int_equal(run_child(fx->machine, data, 0), 0);
    data[0] ^= 0xFF;        /* the check really compares */
    assert_int_equal(run_child(fx->machine, data, 0), 1);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_namespace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_info_each_port, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ioctl_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeouts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transact_commands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_caller_txid_resend, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readfile_writefile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_printer_and_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_and_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counter_dec_lost_response, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counter_dec_power_loss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_outcome_caller_txid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancelio, setup, teardown),
        cmocka_unit_test_setup_teardown(test_closehandle_cancels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allocate_per_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_back_to_back_requests_keep_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allocate_per_open, setup_per_open, teardown),
        cmocka_unit_test_setup_teardown(test_event_log, setup_log_all, teardown),
        cmocka_unit_test_setup_teardown(test_event_log_filtered, setup_log_errors, teardown),
        cmocka_unit_test_setup_teardown(test_dos_name, setup_dos_name, teardown),
        cmocka_unit_test_setup_teardown(test_bad_parameters, setup_bad_params, teardown),
        cmocka_unit_test_setup_teardown(test_port_shared_with_another_driver, setup, teardown),
        cmocka_unit_test_setup_teardown(test_per_open_holds_port, setup_per_open, teardown),
        cmocka_unit_test_setup_teardown(test_parport_user_ioctl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_unloads, setup_no_autostart, teardown),
        cmocka_unit_test_setup_teardown(test_stop_with_handles_open, setup_no_autostart, teardown),
        cmocka_unit_test_setup_teardown(test_new_process_sees_write, setup_dir, teardown),
        cmocka_unit_test_setup_teardown(test_threads_overlapped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_overlapped, setup_preempt, teardown),
        cmocka_unit_test_setup_teardown(test_cancelio, setup_preempt, teardown),
        cmocka_unit_test_setup_teardown(test_closehandle_cancels, setup_preempt, teardown),
        cmocka_unit_test_setup_teardown(test_port_shared_with_another_driver, setup_preempt, teardown),
        cmocka_unit_test_setup_teardown(test_back_to_back_requests_keep_session, setup_preempt, teardown),
    };
    /* test_driver_e2e [PATTERN]: only the matching tests (for debugging one). */
    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
