/*
 * machine.c — build a simulated machine from an INI description (machines/README.md).
 *
 * Three phases, so that a bad description builds nothing: parse (libinih, every
 * setting checked as it arrives, each error tagged with its line), validate (what
 * needs the whole file: required settings, overlaps, settings that do not fit the
 * attachment), build (chips, printers, keys; a failure here tears everything down).
 */
#include "sim/machine.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "sim/trace.h"

#define NAME_MAX_LEN   15
#define MAX_PORTS      16
#define MAX_HEADERS    64
#define ISA_ACCESS_NS  SIM_US(1)
#define PCIE_ACCESS_NS SIM_NS(250)
#define ECP_OFFSET     0x400u
#define ECP_SPAN       3u

/* One port section as parsed. Lines are kept to point errors at the right place. */
typedef struct port_cfg {
    char name[NAME_MAX_LEN + 1];
    int line;                       /* the [section] header */
    int base_line, access_line, attach_line, key_line, printer_line;
    long base;                      /* -1 until set */
    int irq;
    sim_chip_kind chip;
    sim_time_t access_ns;
    bool access_set;
    sim_attach_kind attach;

    char *key_image;                /* resolved; NULL with "none" (volatile key) */
    bool key_image_set;
    bool key_create;
    bool serial_set, secret_set;
    uint8_t serial[SIM_KEY_SERIAL_LEN];
    uint8_t secret[SIM_KEY_SECRET_LEN];
    sim_time_t answer_ns;
    unsigned slow_factor;

    sim_printer_config printer;

    double noise;
    uint64_t noise_seed;
} port_cfg;

/* Parser state shared by the line reader and the ini handler. */
typedef struct parse_ctx {
    const char *file;
    char *dir;                      /* directory of the description, for relative paths */
    FILE *f;
    int line;                       /* line last handed to inih */
    int headers[MAX_HEADERS];       /* line of each [section] header seen */
    bool header_used[MAX_HEADERS];
    int nheaders;
    port_cfg ports[MAX_PORTS];
    int nports;
    port_cfg *cur;
    int cur_header;
    int err_line;                   /* first error found by us, 0 = none */
    char err[512];
} parse_ctx;

typedef struct machine_port {
    char name[NAME_MAX_LEN + 1];
    sim_port *port;
    sim_attach_kind attach;
    char *key_image;
    sim_key *key;
    sim_printer *printer;
} machine_port;

struct sim_machine {
    sim_clock *clk;
    sim_bus *bus;
    machine_port ports[MAX_PORTS];
    unsigned nports;
};

const char *sim_attach_name(sim_attach_kind a)
{
    switch (a) {
    case SIM_ATTACH_NONE: return "none";
    case SIM_ATTACH_KEY: return "key";
    case SIM_ATTACH_KEY_PRINTER: return "key+printer";
    case SIM_ATTACH_PRINTER: return "printer";
    }
    return "?";
}

static bool attach_has_key(sim_attach_kind a)
{
    return a == SIM_ATTACH_KEY || a == SIM_ATTACH_KEY_PRINTER;
}

static bool attach_has_printer(sim_attach_kind a)
{
    return a == SIM_ATTACH_PRINTER || a == SIM_ATTACH_KEY_PRINTER;
}

/* Record the first problem found, tagged with its line. */
static void __attribute__((format(printf, 3, 4)))
fail_at(parse_ctx *pc, int line, const char *fmt, ...)
{
    if (pc->err_line)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pc->err, sizeof(pc->err), fmt, ap);
    va_end(ap);
    pc->err_line = line > 0 ? line : 1;
}

/* ---- value parsers ---------------------------------------------------------------- */

/* Unsigned integer, decimal or 0x-prefixed hex, nothing trailing. */
static bool parse_u64(const char *s, uint64_t *out)
{
    int base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (!isxdigit((unsigned char)*s) || (base == 10 && !isdigit((unsigned char)*s)))
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, base);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static bool parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = { "yes", "true", "on", "1" };
    static const char *const no[] = { "no", "false", "off", "0" };
    for (unsigned i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) { *out = true; return true; }
        if (strcasecmp(s, no[i]) == 0) { *out = false; return true; }
    }
    return false;
}

static int hex_digit(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Exactly 2*len hex digits, whitespace ignored. */
static bool parse_hex_bytes(const char *s, uint8_t *out, size_t len)
{
    size_t n = 0;
    int hi = -1;
    for (; *s; s++) {
        if (isspace((unsigned char)*s))
            continue;
        int d = hex_digit((unsigned char)*s);
        if (d < 0 || n == len)
            return false;
        if (hi < 0) {
            hi = d;
        } else {
            out[n++] = (uint8_t)(hi << 4 | d);
            hi = -1;
        }
    }
    return n == len && hi < 0;
}

/* ---- paths -------------------------------------------------------------------------- */

/* mkdir -p with mode 0700 for what it creates. */
static int make_dirs(const char *path)
{
    char buf[4096];
    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1; ; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = saved;
        if (!saved)
            break;
    }
    return 0;
}

int sim_machine_state_dir(char *buf, size_t buflen, bool create, char *err, size_t errlen)
{
    const char *env = getenv("DONGLPT_STATE_DIR");
    const char *xdg = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    int n;
    if (env && *env)
        n = snprintf(buf, buflen, "%s", env);
    else if (xdg && *xdg)
        n = snprintf(buf, buflen, "%s/donglpt", xdg);
    else if (home && *home)
        n = snprintf(buf, buflen, "%s/.local/state/donglpt", home);
    else {
        snprintf(err, errlen, "no state directory: set DONGLPT_STATE_DIR or HOME");
        return -1;
    }
    if (n < 0 || (size_t)n >= buflen) {
        snprintf(err, errlen, "state directory path too long");
        return -1;
    }
    if (create && make_dirs(buf) != 0) {
        snprintf(err, errlen, "cannot create state directory %s: %s", buf, strerror(errno));
        return -1;
    }
    return 0;
}

/*
 * Expand ${STATE} (creating the state directory) and make a relative result relative
 * to the description's directory. Returns a malloc'd path or NULL with an error.
 */
static char *resolve_path(parse_ctx *pc, const char *value)
{
    char expanded[4096];
    const char *src = value;
    static const char state_var[] = "${STATE}";
    const char *at = strstr(value, state_var);
    if (at) {
        char state[4096], err[300];
        if (sim_machine_state_dir(state, sizeof(state), true, err, sizeof(err)) != 0) {
            fail_at(pc, pc->line, "%s", err);
            return NULL;
        }
        int n = snprintf(expanded, sizeof(expanded), "%.*s%s%s", (int)(at - value), value,
                         state, at + sizeof(state_var) - 1);
        if (n < 0 || (size_t)n >= sizeof(expanded)) {
            fail_at(pc, pc->line, "path too long");
            return NULL;
        }
        src = expanded;
    }
    if (strstr(src, "${")) {
        fail_at(pc, pc->line, "unknown variable in path '%s' (only ${STATE} exists)", value);
        return NULL;
    }
    char *out;
    if (src[0] == '/') {
        out = strdup(src);
    } else {
        size_t len = strlen(pc->dir) + 1 + strlen(src) + 1;
        out = malloc(len);
        if (out)
            snprintf(out, len, "%s/%s", pc->dir, src);
    }
    if (!out)
        fail_at(pc, pc->line, "out of memory");
    return out;
}

/* A file holding 32 bytes of secret as hex (whitespace and '#' comment lines allowed). */
static bool read_secret_file(parse_ctx *pc, const char *path, uint8_t out[SIM_KEY_SECRET_LEN])
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fail_at(pc, pc->line, "key.secret_file %s: %s", path, strerror(errno));
        return false;
    }
    char text[512] = "";
    size_t used = 0;
    char line[256];
    while (fgets(line, sizeof(line), f)) {
        const char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '#')
            continue;
        size_t n = strlen(p);
        if (used + n >= sizeof(text)) {
            used = sizeof(text); /* too much text to be one secret */
            break;
        }
        memcpy(text + used, p, n + 1);
        used += n;
    }
    fclose(f);
    if (used >= sizeof(text) || !parse_hex_bytes(text, out, SIM_KEY_SECRET_LEN)) {
        fail_at(pc, pc->line, "key.secret_file %s: expected 64 hex digits (32 bytes)", path);
        return false;
    }
    return true;
}

/* ---- the ini handler -------------------------------------------------------------- */

static bool valid_port_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > NAME_MAX_LEN)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
            return false;
    return true;
}

/* Switch to section `name`; a new [header] with a known name is a duplicate. */
static port_cfg *enter_section(parse_ctx *pc, const char *name)
{
    int header = pc->nheaders - 1;
    if (pc->cur && header == pc->cur_header)
        return pc->cur;
    int line = header >= 0 ? pc->headers[header] : pc->line;
    if (header >= 0)
        pc->header_used[header] = true;
    pc->cur_header = header;
    pc->cur = NULL;
    if (!valid_port_name(name)) {
        fail_at(pc, line, "bad port name [%s] (letters, digits, '_' or '-', at most %d)",
                name, NAME_MAX_LEN);
        return NULL;
    }
    for (int i = 0; i < pc->nports; i++)
        if (strcasecmp(pc->ports[i].name, name) == 0) {
            fail_at(pc, line, "duplicate port [%s] (first at line %d)", name,
                    pc->ports[i].line);
            return NULL;
        }
    if (pc->nports == MAX_PORTS) {
        fail_at(pc, line, "too many ports (at most %d)", MAX_PORTS);
        return NULL;
    }
    port_cfg *c = &pc->ports[pc->nports++];
    memset(c, 0, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->line = line;
    c->base = -1;
    c->irq = SIM_IRQ_NONE;
    c->chip = SIM_CHIP_SPP;
    c->access_ns = ISA_ACCESS_NS;
    c->attach = SIM_ATTACH_NONE;
    c->key_create = true;
    pc->cur = c;
    return c;
}

/* Port settings: base, irq, chip, bus / access_ns, attach, noise, noise_seed. */
static bool set_port_value(parse_ctx *pc, port_cfg *c, const char *name, const char *value)
{
    uint64_t v;
    if (strcmp(name, "base") == 0) {
        if (!parse_u64(value, &v) || v + sim_port_span_for((uint16_t)v) > 0x10000) {
            fail_at(pc, pc->line, "bad base '%s' (an I/O port number, e.g. 0x378)", value);
            return false;
        }
        if (v & 3) {
            fail_at(pc, pc->line, "bad base '%s' (must be a multiple of 4)", value);
            return false;
        }
        c->base = (long)v;
        c->base_line = pc->line;
    } else if (strcmp(name, "irq") == 0) {
        if (strcasecmp(value, "none") == 0)
            c->irq = SIM_IRQ_NONE;
        else if (parse_u64(value, &v) && v <= 15)
            c->irq = (int)v;
        else {
            fail_at(pc, pc->line, "bad irq '%s' (0..15 or none)", value);
            return false;
        }
    } else if (strcmp(name, "chip") == 0) {
        if (strcasecmp(value, "spp") == 0) c->chip = SIM_CHIP_SPP;
        else if (strcasecmp(value, "ps2") == 0) c->chip = SIM_CHIP_PS2;
        else if (strcasecmp(value, "ecp") == 0) c->chip = SIM_CHIP_ECP;
        else {
            fail_at(pc, pc->line, "unknown chip '%s' (spp, ps2 or ecp)", value);
            return false;
        }
    } else if (strcmp(name, "bus") == 0 || strcmp(name, "access_ns") == 0) {
        if (c->access_set) {
            fail_at(pc, pc->line, "access time given twice (line %d)", c->access_line);
            return false;
        }
        if (strcmp(name, "bus") == 0) {
            if (strcasecmp(value, "isa") == 0) c->access_ns = ISA_ACCESS_NS;
            else if (strcasecmp(value, "pcie") == 0) c->access_ns = PCIE_ACCESS_NS;
            else {
                fail_at(pc, pc->line, "unknown bus '%s' (isa or pcie)", value);
                return false;
            }
        } else if (!parse_u64(value, &v) || v == 0 || v > SIM_MS(1)) {
            fail_at(pc, pc->line, "bad access_ns '%s' (1..1000000)", value);
            return false;
        } else {
            c->access_ns = v;
        }
        c->access_set = true;
        c->access_line = pc->line;
    } else if (strcmp(name, "attach") == 0) {
        static const sim_attach_kind kinds[] = { SIM_ATTACH_NONE, SIM_ATTACH_KEY,
                                                 SIM_ATTACH_KEY_PRINTER, SIM_ATTACH_PRINTER };
        unsigned i = 0;
        while (i < 4 && strcasecmp(value, sim_attach_name(kinds[i])) != 0)
            i++;
        if (i == 4) {
            fail_at(pc, pc->line, "unknown attach '%s' (key, key+printer, printer or none)",
                    value);
            return false;
        }
        c->attach = kinds[i];
        c->attach_line = pc->line;
    } else if (strcmp(name, "noise") == 0) {
        char *end;
        errno = 0;
        double p = strtod(value, &end);
        if (errno || *end || end == value || !(p >= 0.0 && p <= 1.0)) {
            fail_at(pc, pc->line, "bad noise '%s' (a probability, 0..1)", value);
            return false;
        }
        c->noise = p;
    } else if (strcmp(name, "noise_seed") == 0) {
        if (!parse_u64(value, &c->noise_seed)) {
            fail_at(pc, pc->line, "bad noise_seed '%s'", value);
            return false;
        }
    } else {
        fail_at(pc, pc->line, "unknown setting '%s' in [%s]", name, c->name);
        return false;
    }
    return true;
}

/* key.image, key.create, key.serial, key.secret, key.secret_file, key.answer_ns,
   key.slow_factor. */
static bool set_key_value(parse_ctx *pc, port_cfg *c, const char *name, const char *value)
{
    uint64_t v;
    if (!c->key_line)
        c->key_line = pc->line;
    if (strcmp(name, "image") == 0) {
        free(c->key_image);
        c->key_image = NULL;
        c->key_image_set = true;
        if (strcasecmp(value, "none") == 0)
            return true;
        c->key_image = resolve_path(pc, value);
        return c->key_image != NULL;
    }
    if (strcmp(name, "create") == 0) {
        if (!parse_bool(value, &c->key_create)) {
            fail_at(pc, pc->line, "bad key.create '%s' (yes or no)", value);
            return false;
        }
        return true;
    }
    if (strcmp(name, "serial") == 0) {
        if (!parse_hex_bytes(value, c->serial, SIM_KEY_SERIAL_LEN)) {
            fail_at(pc, pc->line, "bad key.serial '%s' (16 hex digits)", value);
            return false;
        }
        c->serial_set = true;
        return true;
    }
    if (strcmp(name, "secret") == 0 || strcmp(name, "secret_file") == 0) {
        if (c->secret_set) {
            fail_at(pc, pc->line, "key secret given twice");
            return false;
        }
        if (strcmp(name, "secret") == 0) {
            if (!parse_hex_bytes(value, c->secret, SIM_KEY_SECRET_LEN)) {
                fail_at(pc, pc->line, "bad key.secret (64 hex digits = 32 bytes)");
                return false;
            }
        } else {
            char *path = resolve_path(pc, value);
            bool ok = path && read_secret_file(pc, path, c->secret);
            free(path);
            if (!ok)
                return false;
        }
        c->secret_set = true;
        return true;
    }
    if (strcmp(name, "answer_ns") == 0) {
        if (!parse_u64(value, &v) || v == 0 || v > SIM_MS(35)) {
            fail_at(pc, pc->line, "bad key.answer_ns '%s' (1..35000000)", value);
            return false;
        }
        c->answer_ns = v;
        return true;
    }
    if (strcmp(name, "slow_factor") == 0) {
        if (!parse_u64(value, &v) || v == 0 || v > 1000000) {
            fail_at(pc, pc->line, "bad key.slow_factor '%s' (1..1000000)", value);
            return false;
        }
        c->slow_factor = (unsigned)v;
        return true;
    }
    fail_at(pc, pc->line, "unknown setting 'key.%s' in [%s]", name, c->name);
    return false;
}

/* printer.paper_out_after, printer.buffer, printer.drain_bps. */
static bool set_printer_value(parse_ctx *pc, port_cfg *c, const char *name, const char *value)
{
    uint64_t v;
    if (!c->printer_line)
        c->printer_line = pc->line;
    bool ok = parse_u64(value, &v);
    if (strcmp(name, "paper_out_after") == 0) {
        if (!ok) {
            fail_at(pc, pc->line, "bad printer.paper_out_after '%s' (bytes, 0 = never)", value);
            return false;
        }
        c->printer.paper_out_after = v;
    } else if (strcmp(name, "buffer") == 0) {
        if (!ok || v == 0 || v > (1u << 24)) {
            fail_at(pc, pc->line, "bad printer.buffer '%s' (1..16777216 bytes)", value);
            return false;
        }
        c->printer.buffer_size = (size_t)v;
    } else if (strcmp(name, "drain_bps") == 0) {
        if (!ok || v == 0 || v > 100000000) {
            fail_at(pc, pc->line, "bad printer.drain_bps '%s' (1..100000000 bytes/s)", value);
            return false;
        }
        c->printer.drain_bytes_per_s = (unsigned)v;
    } else {
        fail_at(pc, pc->line, "unknown setting 'printer.%s' in [%s]", name, c->name);
        return false;
    }
    return true;
}

static int ini_handler_fn(void *user, const char *section, const char *name, const char *value)
{
    parse_ctx *pc = user;
    if (pc->err_line)
        return 1; /* keep only the first error; inih reports its own syntax errors */
    if (!section[0]) {
        fail_at(pc, pc->line, "setting '%s' outside a [port] section", name);
        return 0;
    }
    port_cfg *c = enter_section(pc, section);
    if (!c)
        return 0;
    bool ok;
    if (strncmp(name, "key.", 4) == 0)
        ok = set_key_value(pc, c, name + 4, value);
    else if (strncmp(name, "printer.", 8) == 0)
        ok = set_printer_value(pc, c, name + 8, value);
    else
        ok = set_port_value(pc, c, name, value);
    return ok ? 1 : 0;
}

/*
 * fgets-style reader for inih that counts lines (inih's handler does not get them),
 * notes [section] headers (so empty and repeated sections are caught) and refuses
 * lines longer than inih's buffer instead of letting them split silently.
 */
static char *ini_reader_fn(char *str, int num, void *stream)
{
    parse_ctx *pc = stream;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, pc->f);
    if (n < 0) {
        free(line);
        return NULL;
    }
    pc->line++;
    if (n >= num) {
        fail_at(pc, pc->line, "line too long (at most %d characters)", num - 2);
        str[0] = '\n';
        str[1] = '\0';
    } else {
        memcpy(str, line, (size_t)n + 1);
    }
    const char *p = str;
    if (pc->line == 1 && strncmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3; /* UTF-8 byte order mark, which inih skips too */
    while (isspace((unsigned char)*p))
        p++;
    if (*p == '[' && pc->nheaders < MAX_HEADERS)
        pc->headers[pc->nheaders++] = pc->line;
    else if (*p == '[')
        fail_at(pc, pc->line, "too many sections");
    free(line);
    return str;
}

/* ---- validation ------------------------------------------------------------------- */

typedef struct io_range { uint32_t start, end; } io_range;

/* A port's register windows: its span, and for ECP the ECR window. Returns the count. */
static int port_windows(const port_cfg *c, io_range w[2])
{
    uint32_t base = (uint32_t)c->base;
    w[0] = (io_range){ base, base + sim_port_span_for((uint16_t)base) };
    w[1] = (io_range){ base + ECP_OFFSET, base + ECP_OFFSET + ECP_SPAN };
    return c->chip == SIM_CHIP_ECP ? 2 : 1;
}

/* Do two ports' register windows collide? */
static bool ports_overlap(const port_cfg *a, const port_cfg *b)
{
    io_range wa[2], wb[2];
    int na = port_windows(a, wa), nb = port_windows(b, wb);
    for (int i = 0; i < na; i++)
        for (int j = 0; j < nb; j++)
            if (wa[i].start < wb[j].end && wb[j].start < wa[i].end)
                return true;
    return false;
}

static bool validate(parse_ctx *pc)
{
    for (int h = 0; h < pc->nheaders; h++)
        if (!pc->header_used[h]) {
            fail_at(pc, pc->headers[h], "section has no settings");
            return false;
        }
    if (pc->nports == 0) {
        fail_at(pc, pc->line, "no ports described");
        return false;
    }
    for (int i = 0; i < pc->nports; i++) {
        port_cfg *c = &pc->ports[i];
        if (c->base < 0) {
            fail_at(pc, c->line, "[%s] has no base", c->name);
            return false;
        }
        if (c->chip == SIM_CHIP_ECP && c->base + ECP_OFFSET + ECP_SPAN > 0x10000) {
            fail_at(pc, c->base_line, "[%s]: ECR at base+0x402 is beyond port 0xFFFF", c->name);
            return false;
        }
        for (int j = 0; j < i; j++)
            if (ports_overlap(&pc->ports[j], c)) {
                fail_at(pc, c->base_line, "[%s] registers overlap [%s] (line %d)", c->name,
                        pc->ports[j].name, pc->ports[j].base_line);
                return false;
            }
        if (c->key_line && !attach_has_key(c->attach)) {
            fail_at(pc, c->key_line, "key.* setting but [%s] has no key (attach = %s)",
                    c->name, sim_attach_name(c->attach));
            return false;
        }
        if (c->printer_line && !attach_has_printer(c->attach)) {
            fail_at(pc, c->printer_line, "printer.* setting but [%s] has no printer (attach = %s)",
                    c->name, sim_attach_name(c->attach));
            return false;
        }
        if (attach_has_key(c->attach)) {
            int line = c->key_line ? c->key_line : c->attach_line;
            if (!c->key_image_set) {
                fail_at(pc, line, "[%s] key needs key.image (a path, or none)", c->name);
                return false;
            }
            if ((c->key_create || !c->key_image) && (!c->serial_set || !c->secret_set)) {
                fail_at(pc, line, "[%s] a key that may be created needs key.serial and "
                        "key.secret or key.secret_file", c->name);
                return false;
            }
        }
    }
    return true;
}

/* ---- build ------------------------------------------------------------------------ */

static void free_cfgs(parse_ctx *pc)
{
    for (int i = 0; i < pc->nports; i++)
        free(pc->ports[i].key_image);
    free(pc->dir);
}

/* Wire what the description attaches to a built port. */
static int build_chain(sim_machine *m, machine_port *mp, port_cfg *c, char *err, size_t errlen)
{
    sim_peripheral *chain = NULL;
    if (attach_has_printer(c->attach)) {
        mp->printer = sim_printer_create(m->clk, &c->printer);
        if (!mp->printer) {
            snprintf(err, errlen, "[%s]: out of memory", c->name);
            return -1;
        }
        chain = sim_printer_peripheral(mp->printer);
    }
    if (attach_has_key(c->attach)) {
        sim_key_config kc;
        memset(&kc, 0, sizeof(kc));
        kc.image_path = mp->key_image;
        kc.create_if_missing = c->key_create;
        memcpy(kc.serial, c->serial, sizeof(kc.serial));
        memcpy(kc.secret, c->secret, sizeof(kc.secret));
        kc.answer_ns = c->answer_ns;
        kc.slow_factor = c->slow_factor;
        char kerr[400];
        sim_peripheral *key = sim_key_create(m->clk, &kc, chain, kerr, sizeof(kerr));
        if (!key) {
            if (chain)
                chain->ops->destroy(chain);
            mp->printer = NULL;
            snprintf(err, errlen, "[%s] key: %s", c->name, kerr);
            return -1;
        }
        mp->key = sim_key_from_peripheral(key);
        chain = key;
    }
    if (chain)
        sim_port_attach(mp->port, chain);
    if (c->noise > 0)
        sim_port_set_noise(mp->port, c->noise, c->noise_seed);
    return 0;
}

static int build(sim_machine *m, parse_ctx *pc, char *err, size_t errlen)
{
    m->clk = sim_clock_create();
    m->bus = m->clk ? sim_bus_create(m->clk) : NULL;
    if (!m->bus) {
        snprintf(err, errlen, "%s: out of memory", pc->file);
        return -1;
    }
    for (int i = 0; i < pc->nports; i++) {
        port_cfg *c = &pc->ports[i];
        machine_port *mp = &m->ports[m->nports];
        mp->port = sim_port_create(m->bus, (uint16_t)c->base, c->irq, c->chip, c->access_ns);
        if (!mp->port) {
            snprintf(err, errlen, "%s:%d: [%s] cannot claim its registers", pc->file,
                     c->line, c->name);
            return -1;
        }
        m->nports++;
        snprintf(mp->name, sizeof(mp->name), "%s", c->name);
        mp->attach = c->attach;
        mp->key_image = c->key_image;
        c->key_image = NULL;
        char cerr[480];
        if (build_chain(m, mp, c, cerr, sizeof(cerr)) != 0) {
            snprintf(err, errlen, "%s:%d: %s", pc->file, c->key_line ? c->key_line : c->line,
                     cerr);
            return -1;
        }
    }
    return 0;
}

/* Directory part of path ("." for a bare file name). */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

int sim_machine_load(const char *path, sim_machine **out, char *err, size_t errlen)
{
    *out = NULL;
    parse_ctx *pc = calloc(1, sizeof(*pc));
    if (!pc) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    pc->file = path;
    pc->cur_header = -1;
    pc->dir = dir_of(path);
    pc->f = fopen(path, "r");
    if (!pc->f || !pc->dir) {
        snprintf(err, errlen, "%s: %s", path, pc->f ? "out of memory" : strerror(errno));
        if (pc->f)
            fclose(pc->f);
        free_cfgs(pc);
        free(pc);
        return -1;
    }
    int rc = ini_parse_stream(ini_reader_fn, pc, ini_handler_fn, pc);
    fclose(pc->f);
    if (rc > 0 && (!pc->err_line || rc < pc->err_line)) {
        pc->err_line = 0;
        fail_at(pc, rc, "syntax error (expected [port], name = value, or a ; or # comment)");
    }
    if (!pc->err_line)
        validate(pc);
    if (pc->err_line) {
        snprintf(err, errlen, "%s:%d: %s", path, pc->err_line, pc->err);
        free_cfgs(pc);
        free(pc);
        return -1;
    }

    sim_machine *m = calloc(1, sizeof(*m));
    int result = m ? build(m, pc, err, errlen) : -1;
    if (!m)
        snprintf(err, errlen, "%s: out of memory", path);
    free_cfgs(pc);
    free(pc);
    if (result != 0) {
        sim_machine_destroy(m);
        return -1;
    }
    *out = m;
    return 0;
}

const char *sim_machine_default_path(void)
{
    const char *env = getenv("DONGLPT_MACHINE");
    return env && *env ? env : SIM_DEFAULT_MACHINE;
}

/* Ports go first (their peripherals cancel events on the clock), the clock last. */
void sim_machine_destroy(sim_machine *m)
{
    if (!m)
        return;
    for (unsigned i = 0; i < m->nports; i++) {
        sim_port_destroy(m->ports[i].port);
        free(m->ports[i].key_image);
    }
    sim_bus_destroy(m->bus);
    sim_clock_destroy(m->clk);
    free(m);
}

sim_clock *sim_machine_clock(sim_machine *m) { return m->clk; }
sim_bus *sim_machine_bus(sim_machine *m) { return m->bus; }
unsigned sim_machine_port_count(const sim_machine *m) { return m->nports; }

int sim_machine_find_port(const sim_machine *m, const char *name)
{
    for (unsigned i = 0; i < m->nports; i++)
        if (strcasecmp(m->ports[i].name, name) == 0)
            return (int)i;
    return -1;
}

int sim_machine_port_info(const sim_machine *m, unsigned index, sim_port_info *out)
{
    if (index >= m->nports)
        return -1;
    const machine_port *mp = &m->ports[index];
    out->name = mp->name;
    out->base = sim_port_base(mp->port);
    out->span = sim_port_span(mp->port);
    out->irq = sim_port_irq(mp->port);
    out->chip = sim_port_chip(mp->port);
    out->access_ns = sim_port_access_ns(mp->port);
    out->attach = mp->attach;
    out->key_image = mp->key_image;
    return 0;
}

sim_port *sim_machine_port(sim_machine *m, unsigned index)
{
    return index < m->nports ? m->ports[index].port : NULL;
}

sim_key *sim_machine_key(sim_machine *m, unsigned index)
{
    return index < m->nports ? m->ports[index].key : NULL;
}

sim_printer *sim_machine_printer(sim_machine *m, unsigned index)
{
    return index < m->nports ? m->ports[index].printer : NULL;
}

/* The key loses power off the cable; the port side floats. */
void sim_machine_unplug(sim_machine *m, unsigned index, bool unplugged)
{
    if (index >= m->nports)
        return;
    machine_port *mp = &m->ports[index];
    if (unplugged) {
        if (mp->key)
            sim_key_unplug(mp->key);
        sim_port_set_unplugged(mp->port, true);
    } else {
        sim_port_set_unplugged(mp->port, false);
        if (mp->key)
            sim_key_plug(mp->key);
    }
}

int sim_machine_trace_start(sim_machine *m, unsigned index, const char *path,
                            char *err, size_t errlen)
{
    if (index >= m->nports) {
        snprintf(err, errlen, "no port %u", index);
        return -1;
    }
    return sim_trace_start(m->ports[index].port, path, m->ports[index].name, err, errlen);
}

void sim_machine_trace_stop(sim_machine *m, unsigned index)
{
    if (index < m->nports)
        sim_trace_stop(m->ports[index].port);
}
