/*
 * tools/commands.c — dongctl's subcommands. Each gets the port main() chose (with
 * its DONG_INFO already read) and returns one of the documented exit codes. Text
 * goes to stdout for people; with --json the same facts go out as one JSON document.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "dongctl.h"
#include "home.h"

#define DL1_PAGE_SIZE       16
#define DL1_SECRET_SIZE     32
#define DL1_NONCE_SIZE      16
#define DL1_MAC_SIZE        16
#define DL1_ADDR_SIZE       2
/* Data per WRITE: the wire payload is txid + addr + data <= 512; port_transact adds
   the txid. Chunks end on page boundaries so each request touches whole pages only. */
#define WRITE_CHUNK_MAX     (31 * DL1_PAGE_SIZE)
#define COUNTER_ARG_SIZE    5   /* index u8 + u32 */

static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, unsigned long v)
{
    put16(p, (unsigned)(v & 0xFFFF));
    put16(p + 2, (unsigned)(v >> 16));
}
static unsigned get16(const uint8_t *p) { return p[0] | (unsigned)p[1] << 8; }
static unsigned long get32(const uint8_t *p) { return get16(p) | (unsigned long)get16(p + 2) << 16; }

/* serial_text — the serial as DL1.md's device ID spells it: 16 upper-case hex digits. */
static const char *serial_text(const DONG_INFO *info, char buf[2 * DL1_SERIAL_SIZE + 1])
{
    for (int i = 0; i < DL1_SERIAL_SIZE; i++)
        snprintf(buf + 2 * i, 3, "%02X", info->Serial[i]);
    return buf;
}

/*
 * check_status — a response the key sent must be OK; a refusal is reported (as
 * "LPTn: <doing>: ...") and turned into its exit code; 0 means OK.
 */
static int check_status(const dong_port *p, const DONG_TRANSACT_RESPONSE *rsp, const char *doing)
{
    if (rsp->KeyStatus == DL1_STATUS_EEPROM_FAULT && rsp->Length >= 2)
        return dong_fail(DONG_EXIT_REFUSED, "LPT%u: %s: %s (page at 0x%04x)", p->number, doing,
                    key_status_text(rsp->KeyStatus), get16(rsp->Payload));
    if (rsp->KeyStatus != DL1_STATUS_OK)
        return dong_fail(DONG_EXIT_REFUSED, "LPT%u: %s: the key refused: %s", p->number, doing,
                    key_status_text(rsp->KeyStatus));
    return 0;
}

/* transact — one command that must come back OK; 0, or the exit code (reported). */
static int transact(dong_port *p, UCHAR cmd, const void *payload, USHORT len,
                    DONG_TRANSACT_RESPONSE *rsp, const char *doing)
{
    if (!port_transact(p, cmd, payload, len, rsp))
        return port_fail(p->number, doing, GetLastError());
    return check_status(p, rsp, doing);
}

/* expect_length — a response payload of the wrong size is a broken key or driver. */
static int expect_length(dong_port *p, const DONG_TRANSACT_RESPONSE *rsp, unsigned want,
                         const char *doing)
{
    if (rsp->Length == want)
        return 0;
    return dong_fail(DONG_EXIT_IO, "LPT%u: %s: the key answered %u bytes instead of %u", p->number,
                doing, rsp->Length, want);
}

/* ---- ports ------------------------------------------------------------------------ */

/* <ntddpar.h>'s public query (NT's printer driver answers it on \\.\LPTn). */
#ifndef IOCTL_PAR_IS_PORT_FREE
#define IOCTL_PAR_IS_PORT_FREE CTL_CODE(FILE_DEVICE_PARALLEL_PORT, 21, METHOD_BUFFERED, FILE_ANY_ACCESS)
#endif

/*
 * name_owner — the driver a DOS name belongs to, from the device it leads to:
 * parport's \Device\ParallelPortN (holding it while no class driver has it), the
 * printer driver's \Device\ParallelN, DongLpt's \Device\DongLptN (its DosName);
 * another device's path as it is; "-" when the name does not exist.
 */
static const char *name_owner(const char *lpt, char *target, size_t len)
{
    static const struct { const char *prefix; const char *driver; } owners[] = {
        { "\\Device\\ParallelPort", "parport" },
        { "\\Device\\Parallel", "Parallel" },
        { "\\Device\\DongLpt", "DongLpt" },
    };

    if (home_dos_target(lpt, target, len) != 0)
        return "-";
    for (size_t i = 0; i < sizeof owners / sizeof owners[0]; i++)
        if (!strncmp(target, owners[i].prefix, strlen(owners[i].prefix)))
            return owners[i].driver;
    return target;
}

/*
 * port_now — "free" or "in use" right now, asked through the printer driver
 * (IOCTL_PAR_IS_PORT_FREE on \\.\LPTn); "?" when LPTn is not the printer driver's.
 */
static const char *port_now(const char *lpt, const char *owner, int *is_free)
{
    char path[32];
    BOOLEAN free_now = FALSE;
    DWORD bytes = 0;
    HANDLE h;
    BOOL ok;

    *is_free = -1;
    if (strcmp(owner, "Parallel"))
        return "?";
    snprintf(path, sizeof path, "\\\\.\\%s", lpt);
    h = CreateFileA(path, GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return "?";
    ok = DeviceIoControl(h, IOCTL_PAR_IS_PORT_FREE, NULL, 0, &free_now, sizeof free_now, &bytes, NULL);
    CloseHandle(h);
    if (!ok || bytes != sizeof free_now)
        return "?";
    *is_free = free_now ? 1 : 0;
    return free_now ? "free" : "in use";
}

/*
 * cmd_ports — probe every \\.\DongLptN until the first name that does not exist, and
 * say what is on each port and why the driver thinks so.
 */
static int cmd_ports(dong_port *unused, const dong_args *a)
{
    dong_port probe;
    (void)unused;
    (void)a;

    /* Decide before printing anything, so --json never emits two documents. */
    if (!port_open(1, false, &probe)) {
        DWORD e = GetLastError();
        if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND)
            return dong_fail(DONG_EXIT_SYSTEM, "no DongLpt ports: the DongLpt driver is not running");
    } else {
        port_close(&probe);
    }
    if (g_json) {
        js_begin_obj(NULL);
        js_begin_arr("ports");
    } else {
        printf("%-5s %-14s %-5s %-6s %-8s %-10s %-8s %s\n", "PORT", "DEVICE", "CHIP", "BASE", "ATTACHED",
               "NAME-OWNER", "PORT-NOW", "WHY");
    }
    for (unsigned n = 1; n <= DONG_MAX_PORTS; n++) {
        dong_port p;
        DONG_INFO info;
        bool probed = false;
        char device[24], why[160], serial[2 * DL1_SERIAL_SIZE + 1], lpt[16], chip[8], base[16];

        if (!port_open(n, false, &p)) {
            DWORD e = GetLastError();
            if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND)
                break;
            snprintf(why, sizeof why, "cannot open: %s", win32_error_text(e) ? win32_error_text(e) : "error");
        } else if (!port_info(&p, &info)) {
            DWORD e = GetLastError();
            snprintf(why, sizeof why, "probe failed: %s", win32_error_text(e) ? win32_error_text(e) : "error");
            port_close(&p);
        } else {
            attached_reason(&info, why, sizeof why);
            probed = true;
            port_close(&p);
        }
        snprintf(device, sizeof device, DONG_WIN32_NAME_FORMAT_A, n);
        snprintf(lpt, sizeof lpt, "LPT%u", n);
        snprintf(chip, sizeof chip, "%s", probed ? chip_name(info.Chip) : "?");
        if (probed)
            snprintf(base, sizeof base, "0x%03lX", (unsigned long)info.PortBase);
        else
            snprintf(base, sizeof base, "?");
        const char *attached = probed ? attached_name(info.Attached) : "?";
        char target[128] = "";
        int is_free;
        const char *owner = name_owner(lpt, target, sizeof target);
        const char *now = port_now(lpt, owner, &is_free);
        if (!g_json) {
            printf("%-5s %-14s %-5s %-6s %-8s %-10s %-8s %s\n", lpt, device, chip, base, attached, owner, now,
                   why);
            continue;
        }
        js_begin_obj(NULL);
        js_uint("port", n);
        js_str("name", lpt);
        js_str("device", device);
        js_bool("probed", probed);
        if (probed) {
            js_str("chip", chip);
            js_uint("base", info.PortBase);
            js_str("attached", attached);
            js_str("mode", mode_name(info.Mode));
            js_uint("status_register", info.StatusRegister);
            if (info.Flags & DONG_INFO_KEY_VALID)
                js_str("serial", serial_text(&info, serial));
        }
        js_str("reason", why);
        js_str("name_owner", owner);
        if (target[0])
            js_str("name_target", target);
        if (is_free >= 0)
            js_bool("port_free", is_free == 1);
        js_end_obj();
    }
    if (g_json) {
        js_end_arr();
        js_end_obj();
        js_done();
    }
    return DONG_EXIT_OK;
}

/* ---- info ------------------------------------------------------------------------- */

static int cmd_info(dong_port *p, const dong_args *a)
{
    const DONG_INFO *info = &p->info;
    DONG_TRANSACT_RESPONSE rsp;
    unsigned long counters[DL1_COUNTER_COUNT];
    unsigned ncounters = info->Counters < DL1_COUNTER_COUNT ? info->Counters : DL1_COUNTER_COUNT;
    char serial[2 * DL1_SERIAL_SIZE + 1], doing[32];
    int rc;
    (void)a;

    for (unsigned i = 0; i < ncounters; i++) {
        UCHAR idx = (UCHAR)i;
        snprintf(doing, sizeof doing, "reading counter %u", i);
        if ((rc = transact(p, DL1_CMD_COUNTER_READ, &idx, 1, &rsp, doing)) ||
            (rc = expect_length(p, &rsp, 4, doing)))
            return rc;
        counters[i] = get32(rsp.Payload);
    }
    serial_text(info, serial);
    if (g_json) {
        js_begin_obj(NULL);
        js_uint("port", p->number);
        js_uint("base", info->PortBase);
        js_str("chip", chip_name(info->Chip));
        js_str("mode", mode_name(info->Mode));
        js_str("serial", serial);
        js_uint("firmware", info->FirmwareVersion);
        js_uint("memory_size", info->MemorySize);
        js_begin_arr("counters");
        for (unsigned i = 0; i < ncounters; i++)
            js_uint(NULL, counters[i]);
        js_end_arr();
        js_bool("locked", (info->Flags & DONG_INFO_LOCKED) != 0);
        js_uint("vendor", info->VendorId);
        js_uint("product", info->ProductId);
        js_end_obj();
        js_done();
        return DONG_EXIT_OK;
    }
    printf("port:      LPT%u (" DONG_WIN32_NAME_FORMAT_A ", base 0x%03lX, %s chip, %s mode)\n",
           p->number, p->number, (unsigned long)info->PortBase, chip_name(info->Chip),
           mode_name(info->Mode));
    printf("serial:    %s\n", serial);
    printf("firmware:  0x%04X\n", info->FirmwareVersion);
    printf("memory:    %u bytes\n", info->MemorySize);
    printf("counters: ");
    for (unsigned i = 0; i < ncounters; i++)
        printf(" %lu", counters[i]);
    printf("\nlocked:    %s\n", info->Flags & DONG_INFO_LOCKED ? "yes" : "no");
    printf("vendor:    0x%04X\n", info->VendorId);
    printf("product:   0x%04X\n", info->ProductId);
    return DONG_EXIT_OK;
}

/* ---- auth ------------------------------------------------------------------------- */

/*
 * read_secret — a key file: 64 hex digits (32 bytes), whitespace anywhere, lines
 * starting with '#' are comments (machines/README.md).
 */
static int read_secret(const char *path, uint8_t secret[DL1_SECRET_SIZE])
{
    FILE *f = fopen(path, "r");
    char line[256];
    unsigned nibbles = 0;

    if (!f)
        return dong_fail(DONG_EXIT_SYSTEM, "%s: cannot open the key file", path);
    while (fgets(line, sizeof line, f)) {
        const char *s = line;
        while (isspace((unsigned char)*s))
            s++;
        if (*s == '#')
            continue;
        for (; *s; s++) {
            if (isspace((unsigned char)*s))
                continue;
            if (!isxdigit((unsigned char)*s) || nibbles == 2 * DL1_SECRET_SIZE) {
                fclose(f);
                return dong_fail(DONG_EXIT_SYSTEM, "%s: not a key file (want 64 hex digits)", path);
            }
            unsigned v = isdigit((unsigned char)*s) ? (unsigned)(*s - '0')
                                                    : (unsigned)(tolower((unsigned char)*s) - 'a' + 10);
            if (nibbles % 2 == 0)
                secret[nibbles / 2] = (uint8_t)(v << 4);
            else
                secret[nibbles / 2] |= (uint8_t)v;
            nibbles++;
        }
    }
    fclose(f);
    if (nibbles != 2 * DL1_SECRET_SIZE)
        return dong_fail(DONG_EXIT_SYSTEM, "%s: not a key file (want 64 hex digits, found %u)", path, nibbles);
    return 0;
}

/* same_bytes — comparison whose time does not depend on where the MACs differ. */
static bool same_bytes(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint8_t diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= a[i] ^ b[i];
    return diff == 0;
}

/*
 * cmd_auth — challenge-response: a fresh random nonce, the key's MAC over it, and the
 * MAC this host computes from the key file's secret (DL1.md section 7).
 */
static int cmd_auth(dong_port *p, const dong_args *a)
{
    const char *path = a->key_file ? a->key_file : home_default_key_path();
    uint8_t secret[DL1_SECRET_SIZE], nonce[DL1_NONCE_SIZE], mac[DONG_SHA256_LEN];
    uint8_t msg[3 + DL1_SERIAL_SIZE + DL1_NONCE_SIZE];
    DONG_TRANSACT_RESPONSE rsp;
    char serial[2 * DL1_SERIAL_SIZE + 1];
    int rc;

    if ((rc = read_secret(path, secret)))
        return rc;
    if (dong_random(nonce, sizeof nonce))
        return dong_fail(DONG_EXIT_SYSTEM, "the system's random number source failed");
    if ((rc = transact(p, DL1_CMD_CHALLENGE, nonce, sizeof nonce, &rsp, "challenge")) ||
        (rc = expect_length(p, &rsp, DL1_MAC_SIZE, "challenge")))
        return rc;
    memcpy(msg, "DL1", 3);
    memcpy(msg + 3, p->info.Serial, DL1_SERIAL_SIZE);
    memcpy(msg + 3 + DL1_SERIAL_SIZE, nonce, DL1_NONCE_SIZE);
    if (dong_hmac_sha256(secret, sizeof secret, msg, sizeof msg, mac))
        return dong_fail(DONG_EXIT_SYSTEM, "HMAC-SHA256 is not available");
    bool ok = same_bytes(mac, rsp.Payload, DL1_MAC_SIZE);
    serial_text(&p->info, serial);
    if (g_json) {
        js_begin_obj(NULL);
        js_uint("port", p->number);
        js_str("serial", serial);
        js_str("key_file", path);
        js_hex("nonce", nonce, sizeof nonce);
        js_hex("mac", rsp.Payload, DL1_MAC_SIZE);
        js_bool("authentic", ok);
        js_end_obj();
        js_done();
    } else if (ok) {
        printf("LPT%u: key %s is authentic (its answer matches the secret in %s)\n", p->number,
               serial, path);
    }
    if (!ok) {
        fflush(stdout);
        fprintf(stderr, "dongctl: LPT%u: authentication FAILED: key %s does not know the secret in %s\n",
                p->number, serial, path);
        return DONG_EXIT_REFUSED;
    }
    return DONG_EXIT_OK;
}

/* ---- read / write ---------------------------------------------------------------------- */

/* check_range — [addr, addr + len) must lie inside the key's memory. */
static int check_range(const dong_port *p, unsigned long addr, unsigned long len)
{
    unsigned long size = p->info.MemorySize;

    if (len == 0)
        return dong_fail(DONG_EXIT_USAGE, "nothing to do: length 0");
    if (addr >= size || len > size - addr)
        return dong_fail(DONG_EXIT_USAGE, "0x%lx..0x%lx is outside the key's memory (0..0x%lx)", addr,
                    addr + len - 1, size - 1);
    return 0;
}

static int cmd_read(dong_port *p, const dong_args *a)
{
    unsigned long addr, len;
    DONG_TRANSACT_RESPONSE rsp;
    uint8_t *data;
    int rc;

    if (a->argc != 2 || !parse_uint(a->argv[0], 0xFFFF, &addr) || !parse_uint(a->argv[1], 0xFFFF, &len))
        return dong_fail(DONG_EXIT_USAGE, "read wants ADDR and LEN (decimal, or 0x hex)");
    if ((rc = check_range(p, addr, len)))
        return rc;
    data = malloc(len);
    if (!data)
        return dong_fail(DONG_EXIT_SYSTEM, "out of memory");
    progress_begin("reading", len > DL1_MAX_PAYLOAD ? len : 0);
    for (unsigned long done = 0; done < len;) {
        unsigned long n = len - done > DL1_MAX_PAYLOAD ? DL1_MAX_PAYLOAD : len - done;
        uint8_t req[4];
        char doing[48];
        put16(req, (unsigned)(addr + done));
        put16(req + 2, (unsigned)n);
        snprintf(doing, sizeof doing, "reading 0x%04lx..0x%04lx", addr + done, addr + done + n - 1);
        if ((rc = transact(p, DL1_CMD_READ, req, sizeof req, &rsp, doing)) ||
            (rc = expect_length(p, &rsp, (unsigned)n, doing))) {
            progress_end();
            free(data);
            return rc;
        }
        memcpy(data + done, rsp.Payload, n);
        done += n;
        progress_update(done);
    }
    progress_end();
    rc = DONG_EXIT_OK;
    if (a->out_file) {
        FILE *f = fopen(a->out_file, "wb");
        if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
            rc = dong_fail(DONG_EXIT_SYSTEM, "%s: cannot write the file", a->out_file);
        } else if (!g_json) {
            printf("LPT%u: read %lu bytes at 0x%04lx into %s\n", p->number, len, addr, a->out_file);
        }
    }
    if (rc == DONG_EXIT_OK && g_json) {
        js_begin_obj(NULL);
        js_uint("port", p->number);
        js_uint("address", addr);
        js_uint("length", len);
        js_hex("data", data, len);
        js_end_obj();
        js_done();
    } else if (rc == DONG_EXIT_OK && !a->out_file) {
        hexdump(stdout, (unsigned)addr, data, len);
    }
    free(data);
    return rc;
}

/* parse_hex_data — "41 42 43", "414243" or "41:42:43" into a malloc'ed buffer. */
static uint8_t *parse_hex_data(const char *s, unsigned long *len)
{
    size_t digits = 0;
    for (const char *c = s; *c; c++) {
        if (isxdigit((unsigned char)*c))
            digits++;
        else if (!isspace((unsigned char)*c) && *c != ':')
            return NULL;
    }
    if (digits == 0 || digits % 2)
        return NULL;
    uint8_t *out = malloc(digits / 2);
    if (!out)
        return NULL;
    size_t n = 0;
    for (const char *c = s; *c; c++) {
        if (!isxdigit((unsigned char)*c))
            continue;
        unsigned v = isdigit((unsigned char)*c) ? (unsigned)(*c - '0')
                                                : (unsigned)(tolower((unsigned char)*c) - 'a' + 10);
        if (n % 2 == 0)
            out[n / 2] = (uint8_t)(v << 4);
        else
            out[n / 2] |= (uint8_t)v;
        n++;
    }
    *len = (unsigned long)(digits / 2);
    return out;
}

/* read_file_data — the whole of a (small) local file; the key holds 2 KiB at most. */
static uint8_t *read_file_data(const char *path, unsigned long max, unsigned long *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    fclose(f);
    *len = (unsigned long)n;
    return buf;
}

static int cmd_write(dong_port *p, const dong_args *a)
{
    unsigned long addr, len = 0;
    uint8_t *data;
    int rc;

    if ((a->in_file ? a->argc != 1 : a->argc != 2) || !parse_uint(a->argv[0], 0xFFFF, &addr))
        return dong_fail(DONG_EXIT_USAGE, "write wants ADDR and HEX data, or ADDR and --file FILE");
    if (a->in_file) {
        data = read_file_data(a->in_file, p->info.MemorySize, &len);
        if (!data)
            return dong_fail(DONG_EXIT_SYSTEM, "%s: cannot read the file", a->in_file);
    } else if (!(data = parse_hex_data(a->argv[1], &len))) {
        return dong_fail(DONG_EXIT_USAGE, "'%s' is not hex data (pairs of hex digits, e.g. 48656c6c6f)", a->argv[1]);
    }
    if ((rc = check_range(p, addr, len))) {
        free(data);
        return rc;
    }
    progress_begin("writing", len > WRITE_CHUNK_MAX ? len : 0);
    for (unsigned long done = 0; done < len;) {
        unsigned long at = addr + done;
        unsigned long end = (at & ~(unsigned long)(DL1_PAGE_SIZE - 1)) + WRITE_CHUNK_MAX;
        unsigned long n = end - at < len - done ? end - at : len - done;
        uint8_t req[DL1_ADDR_SIZE + WRITE_CHUNK_MAX];
        DONG_TRANSACT_RESPONSE rsp;
        char doing[48];
        put16(req, (unsigned)at);
        memcpy(req + DL1_ADDR_SIZE, data + done, n);
        snprintf(doing, sizeof doing, "writing 0x%04lx..0x%04lx", at, at + n - 1);
        if ((rc = transact(p, DL1_CMD_WRITE, req, (USHORT)(DL1_ADDR_SIZE + n), &rsp, doing))) {
            progress_end();
            free(data);
            return rc;
        }
        done += n;
        progress_update(done);
    }
    progress_end();
    free(data);
    if (g_json) {
        js_begin_obj(NULL);
        js_uint("port", p->number);
        js_uint("address", addr);
        js_uint("written", len);
        js_end_obj();
        js_done();
    } else {
        printf("LPT%u: wrote %lu bytes at 0x%04lx\n", p->number, len, addr);
    }
    return DONG_EXIT_OK;
}

/* ---- counters --------------------------------------------------------------------------- */

static int counter_result(const dong_port *p, const char *op, unsigned long idx, unsigned long value)
{
    if (g_json) {
        js_begin_obj(NULL);
        js_uint("port", p->number);
        js_str("op", op);
        js_uint("counter", idx);
        js_uint("value", value);
        js_end_obj();
        js_done();
    } else {
        printf("LPT%u: counter %lu = %lu\n", p->number, idx, value);
    }
    return DONG_EXIT_OK;
}

/*
 * cmd_counter — read, dec (by AMOUNT, default 1) or set (provisioning an unlocked
 * key). Each goes with its own txid (port_transact), so a resent dec never counts twice.
 */
static int cmd_counter(dong_port *p, const dong_args *a)
{
    unsigned long idx, arg = 1;
    uint8_t req[COUNTER_ARG_SIZE];
    DONG_TRANSACT_RESPONSE rsp;
    char doing[48];
    int rc;

    if (a->argc < 2 || !parse_uint(a->argv[1], 0xFF, &idx))
        return dong_fail(DONG_EXIT_USAGE, "counter wants read N, dec N [AMOUNT] or set N VALUE");
    const char *op = a->argv[0];
    bool is_read = strcmp(op, "read") == 0, is_dec = strcmp(op, "dec") == 0,
         is_set = strcmp(op, "set") == 0;
    if ((!is_read && !is_dec && !is_set) || (is_read && a->argc != 2) ||
        (is_dec && a->argc > 3) || (is_set && a->argc != 3) ||
        (a->argc == 3 && !parse_uint(a->argv[2], 0xFFFFFFFFul, &arg)))
        return dong_fail(DONG_EXIT_USAGE, "counter wants read N, dec N [AMOUNT] or set N VALUE");
    if (idx >= p->info.Counters)
        return dong_fail(DONG_EXIT_USAGE, "the key has counters 0..%u", p->info.Counters - 1u);

    req[0] = (uint8_t)idx;
    put32(req + 1, arg);
    snprintf(doing, sizeof doing, "counter %lu %s", idx, op);
    if (is_read) {
        if ((rc = transact(p, DL1_CMD_COUNTER_READ, req, 1, &rsp, doing)) ||
            (rc = expect_length(p, &rsp, 4, doing)))
            return rc;
        return counter_result(p, op, idx, get32(rsp.Payload));
    }
    if (is_set) {
        if ((rc = transact(p, DL1_CMD_COUNTER_SET, req, COUNTER_ARG_SIZE, &rsp, doing)))
            return rc;
        return counter_result(p, op, idx, arg);
    }
    if (!port_transact(p, DL1_CMD_COUNTER_DEC, req, COUNTER_ARG_SIZE, &rsp))
        return port_fail(p->number, doing, GetLastError());
    if (rsp.KeyStatus == DL1_STATUS_EXHAUSTED) {
        /* Nothing changed on the key; say how much is left, which is what a user needs. */
        UCHAR i = (UCHAR)idx;
        DONG_TRANSACT_RESPONSE left;
        if (port_transact(p, DL1_CMD_COUNTER_READ, &i, 1, &left) &&
            left.KeyStatus == DL1_STATUS_OK && left.Length == 4)
            return dong_fail(DONG_EXIT_REFUSED, "LPT%u: counter %lu is exhausted: %lu left, %lu asked",
                        p->number, idx, get32(left.Payload), arg);
    }
    if ((rc = check_status(p, &rsp, doing)) || (rc = expect_length(p, &rsp, 4, doing)))
        return rc;
    return counter_result(p, op, idx, get32(rsp.Payload));
}

/* ---- echo ----------------------------------------------------------------------------- */

/*
 * cmd_echo — the link test: DATA as given, or --size N random bytes, must come back
 * byte for byte. Corruption the link layer missed is an I/O failure.
 */
static int cmd_echo(dong_port *p, const dong_args *a)
{
    uint8_t data[DL1_MAX_PAYLOAD];
    size_t len;
    DONG_TRANSACT_RESPONSE rsp;
    int rc;

    if (a->argc > 1 || (a->argc == 1 && a->echo_size >= 0))
        return dong_fail(DONG_EXIT_USAGE, "echo wants DATA or --size N (not both)");
    if (a->echo_size >= 0) {
        len = (size_t)a->echo_size;
        if (dong_random(data, len))
            return dong_fail(DONG_EXIT_SYSTEM, "the system's random number source failed");
    } else {
        const char *text = a->argc == 1 ? a->argv[0] : "DongLpt";
        len = strlen(text);
        if (len > DL1_MAX_PAYLOAD)
            return dong_fail(DONG_EXIT_USAGE, "echo carries at most %d bytes", DL1_MAX_PAYLOAD);
        memcpy(data, text, len);
    }
    if ((rc = transact(p, DL1_CMD_ECHO, data, (USHORT)len, &rsp, "echo")))
        return rc;
    bool intact = rsp.Length == len && memcmp(rsp.Payload, data, len) == 0;
    if (g_json) {
        js_begin_obj(NULL);
        js_uint("port", p->number);
        js_uint("length", len);
        js_bool("intact", intact);
        js_uint("retries", rsp.Retries);
        js_end_obj();
        js_done();
    } else if (intact) {
        printf("LPT%u: echo of %zu bytes came back intact (%lu link retries)\n", p->number, len,
               (unsigned long)rsp.Retries);
    }
    if (!intact)
        return dong_fail(DONG_EXIT_IO, "LPT%u: echo came back different (%u of %zu bytes)", p->number,
                    rsp.Length, len);
    return DONG_EXIT_OK;
}

/* ---- log ------------------------------------------------------------------------------ */

static void print_log_entry(const home_log_entry *e, void *ctx)
{
    (void)ctx;
    if (g_json) {
        js_begin_obj(NULL);
        js_uint("index", e->index);
        js_uint("time_ns", e->time_ns);
        js_str("source", e->source);
        js_uint("event", e->event_code);
        js_str("severity", e->severity);
        js_uint("final_status", e->final_status);
        js_uint("unique_value", e->unique_value);
        js_uint("major_function", e->major_function);
        js_str("text", e->text);
        js_end_obj();
        return;
    }
    printf("%4u %10.6fs  %-11s %-8s 0x%08lX  %s\n", e->index, e->time_ns / 1e9, e->severity,
           e->source, e->event_code, e->text[0] ? e->text : "(no message text)");
}

static int cmd_log(dong_port *unused, const dong_args *a)
{
    char err[256];
    (void)unused;

    if (a->argc)
        return dong_fail(DONG_EXIT_USAGE, "log takes no arguments");
    if (g_json) {
        js_begin_obj(NULL);
        js_begin_arr("events");
    }
    long n = home_log(print_log_entry, NULL, err, sizeof err);
    if (g_json) {
        js_end_arr();
        if (n < 0)
            js_str("hint", err);
        js_end_obj();
        js_done();
    } else if (n < 0) {
        printf("%s\n", err);
    } else if (n == 0) {
        printf("no events logged\n");
    }
    return DONG_EXIT_OK;
}

/* ---- stats ----------------------------------------------------------------------------- */

/*
 * cmd_stats — both ends of the link: the driver's counters since it loaded, and the
 * key's own (DL-1 GET_STATS, since the key powered up) when a key is there.
 */
static int cmd_stats(dong_port *p, const dong_args *a)
{
    DONG_STATISTICS s;
    DONG_TRANSACT_RESPONSE rsp;
    DWORD got = 0;
    bool have_key = p->info.Attached == DONG_PERIPHERAL_KEY;
    int rc;

    if (a->argc)
        return dong_fail(DONG_EXIT_USAGE, "stats takes no arguments");
    if (!DeviceIoControl(p->handle, IOCTL_DONG_GET_STATS, NULL, 0, &s, sizeof s, &got, NULL))
        return port_fail(p->number, "reading the driver's statistics", GetLastError());
    if (got != sizeof s)
        return port_fail(p->number, "reading the driver's statistics", ERROR_INVALID_DATA);
    if (have_key && ((rc = transact(p, DL1_CMD_GET_STATS, NULL, 0, &rsp, "reading the key's statistics")) ||
                     (rc = expect_length(p, &rsp, 8, "reading the key's statistics"))))
        return rc;

    static const char *const key_names[] = { "framing_errors", "overruns", "crc_errors", "resets" };
    const struct { const char *name; unsigned long long v; } drv[] = {
        { "bytes_sent", s.BytesSent }, { "bytes_received", s.BytesReceived },
        { "requests", s.Requests }, { "frames_sent", s.FramesSent },
        { "frames_received", s.FramesReceived }, { "retries", s.Retries },
        { "crc_errors", s.CrcErrors }, { "framing_errors", s.FramingErrors },
        { "overruns", s.Overruns }, { "timeouts", s.Timeouts },
        { "sessions_opened", s.SessionsOpened }, { "sessions_lost", s.SessionsLost },
        { "port_waits", s.PortWaits },
    };
    if (g_json) {
        js_begin_obj(NULL);
        js_uint("port", p->number);
        js_begin_obj("driver");
        for (size_t i = 0; i < sizeof drv / sizeof drv[0]; i++)
            js_uint(drv[i].name, drv[i].v);
        js_end_obj();
        if (have_key) {
            js_begin_obj("key");
            for (int i = 0; i < 4; i++)
                js_uint(key_names[i], get16(rsp.Payload + 2 * i));
            js_end_obj();
        }
        js_end_obj();
        js_done();
        return DONG_EXIT_OK;
    }
    printf("LPT%u driver (since load):\n", p->number);
    for (size_t i = 0; i < sizeof drv / sizeof drv[0]; i++)
        printf("  %-16s %llu\n", drv[i].name, drv[i].v);
    if (have_key) {
        printf("LPT%u key (since power-up):\n", p->number);
        for (int i = 0; i < 4; i++)
            printf("  %-16s %u\n", key_names[i], get16(rsp.Payload + 2 * i));
    }
    return DONG_EXIT_OK;
}

/* ---- reset ---------------------------------------------------------------------------- */

static int cmd_reset(dong_port *p, const dong_args *a)
{
    DWORD got = 0;

    if (a->argc)
        return dong_fail(DONG_EXIT_USAGE, "reset takes no arguments");
    if (!DeviceIoControl(p->handle, IOCTL_DONG_RESET, NULL, 0, NULL, 0, &got, NULL))
        return port_fail(p->number, "reset", GetLastError());
    if (g_json) {
        js_begin_obj(NULL);
        js_uint("port", p->number);
        js_bool("reset", true);
        js_end_obj();
        js_done();
    } else {
        printf("LPT%u: key reset (memory, counters and lock are kept)\n", p->number);
    }
    return DONG_EXIT_OK;
}

const dong_command g_commands[] = {
    { "ports",   "ports",                      "every port: chip, what is attached and why", DONG_PORT_NONE, false, cmd_ports },
    { "info",    "info",                       "the key's identity, memory, counters, lock", DONG_PORT_KEY, false, cmd_info },
    { "auth",    "auth [--key FILE]",          "challenge-response with the key's secret", DONG_PORT_KEY, false, cmd_auth },
    { "read",    "read ADDR LEN [--out FILE]", "read key memory (hex dump, or into FILE)", DONG_PORT_KEY, false, cmd_read },
    { "write",   "write ADDR HEX|--file FILE", "write key memory", DONG_PORT_KEY, true, cmd_write },
    { "counter", "counter read|dec|set N [V]", "licence counters (dec by V, default 1)", DONG_PORT_KEY, true, cmd_counter },
    { "echo",    "echo [DATA|--size N]",       "link test: the key sends DATA back", DONG_PORT_KEY, false, cmd_echo },
    { "log",     "log",                        "the driver's event log entries", DONG_PORT_NONE, false, cmd_log },
    { "stats",   "stats",                      "link statistics of the driver and the key", DONG_PORT_ANY, false, cmd_stats },
    { "reset",   "reset",                      "reset the key (nInit pulse)", DONG_PORT_ANY, true, cmd_reset },
    { NULL, NULL, NULL, DONG_PORT_NONE, false, NULL },
};
