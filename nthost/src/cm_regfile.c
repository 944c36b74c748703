/*
 * cm_regfile.c — reading and writing .reg files, the format regedit imports.
 *
 * Import decodes the whole file (UTF-16LE with a BOM, UTF-8 with or without a BOM,
 * or ANSI/Windows-1252 for REGEDIT4) to UTF-16, parses it into a list of operations
 * and applies them only when the whole file parsed: a malformed file changes
 * nothing and yields "<file>:<line>: <problem>".
 *
 * Grammar accepted (regedit's):
 *   header line   "Windows Registry Editor Version 5.00" | "REGEDIT4"
 *   [ROOT\path]   open/create a key; [-ROOT\path] delete it and its subtree (values
 *                 listed under a deleted key are ignored, as regedit does)
 *   "name"=...    or @=... for the default value; names escape \\ and \"
 *   value data    "string" | dword:XXXXXXXX | hex:bb,.. | hex(T):bb,.. | -  (delete)
 *   hex lists continue on the next line after a trailing backslash
 *   ; comment lines and blank lines
 * In a version 5 file the bytes of hex(1)/hex(2)/hex(7) are UTF-16LE; in REGEDIT4
 * they are ANSI and are widened when stored, as regedit's ANSI import does.
 *
 * Export always writes version 5 (UTF-16LE, BOM, CRLF), one section per key in
 * tree order, so that importing it rebuilds the same keys, values and types.
 */
#include "cm_internal.h"
#include "nthost/nthost.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REG_HEADER_V5 "Windows Registry Editor Version 5.00"
#define REG_HEADER_V4 "REGEDIT4"
#define REG_ROOT_NAME "HKEY_LOCAL_MACHINE"
#define REG_ROOT_ABBREV "HKLM"
#define REG_EXPORT_MAX_COLUMN 77   /* keeps hex continuation lines within 80 columns */

/* ---------------------------------------------------------------- buffers ---- */

typedef struct {
    uint16_t *s;
    uint32_t len, cap;
    bool failed;
} cm_wbuf;

/* Growable UTF-16 text; a failed allocation is remembered and reported once at the end. */
static void wbuf_put(cm_wbuf *b, uint16_t c)
{
    if (b->failed)
        return;
    if (b->len == b->cap) {
        uint32_t cap = b->cap ? b->cap * 2 : 64;
        uint16_t *grown = realloc(b->s, cap * sizeof(uint16_t));
        if (!grown) {
            b->failed = true;
            return;
        }
        b->s = grown;
        b->cap = cap;
    }
    b->s[b->len++] = c;
}

static void wbuf_puts(cm_wbuf *b, const char *ascii)
{
    while (*ascii)
        wbuf_put(b, (uint16_t)(unsigned char)*ascii++);
}

static void wbuf_putn(cm_wbuf *b, const uint16_t *s, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        wbuf_put(b, s[i]);
}

/* ------------------------------------------------------------- decoding ---- */

/* Windows-1252 0x80..0x9F; the five undefined bytes map to the same code point, as
 * MultiByteToWideChar does. */
static const uint16_t cp1252_high[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
    0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

/* One REGEDIT4 (Windows-1252) byte as UTF-16. */
static uint16_t cm_ansi_to_unicode(uint8_t c)
{
    return (c >= 0x80 && c <= 0x9F) ? cp1252_high[c - 0x80] : c;
}

typedef struct {
    const char *file;
    char *err;
    size_t errlen;
} cm_errsink;

static int cm_fail(const cm_errsink *e, uint32_t line, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Format "<file>:<line>: <problem>" (no line part when line is 0) into the caller's
 * buffer; returns code. */
static int cm_fail(const cm_errsink *e, uint32_t line, int code, const char *fmt, ...)
{
    if (e->err && e->errlen) {
        int n = line ? snprintf(e->err, e->errlen, "%s:%u: ", e->file, line)
                     : snprintf(e->err, e->errlen, "%s: ", e->file);
        if (n >= 0 && (size_t)n < e->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(e->err + n, e->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return code;
}

/* Line number of byte offset `upto`, for decoding errors found before lines exist. */
static uint32_t cm_count_lines(const uint8_t *d, size_t upto)
{
    uint32_t line = 1;
    for (size_t i = 0; i < upto; i++)
        if (d[i] == '\n')
            line++;
    return line;
}

static bool cm_bytes_start_with(const uint8_t *d, size_t n, const char *s)
{
    size_t k = strlen(s);
    return n >= k && memcmp(d, s, k) == 0;
}

/*
 * cm_decode — turn the file's bytes into UTF-16 text. The encoding comes from the
 * BOM; without one, a zero second byte means UTF-16LE, a REGEDIT4 header means
 * ANSI, and anything else is read as UTF-8 (what editors save version 5 files as).
 */
static int cm_decode(const cm_errsink *e, const uint8_t *d, size_t n, cm_wbuf *out)
{
    if (n >= 2 && d[0] == 0xFE && d[1] == 0xFF)
        return cm_fail(e, 1, -EINVAL, "UTF-16 big-endian text is not a format regedit writes");
    bool utf16 = false;
    if (n >= 2 && d[0] == 0xFF && d[1] == 0xFE) {
        utf16 = true;
        d += 2;
        n -= 2;
    } else if (n >= 2 && d[0] != 0 && d[1] == 0) {
        utf16 = true;
    }
    if (utf16) {
        if (n % 2)
            return cm_fail(e, 1, -EINVAL, "UTF-16 text has an odd number of bytes (truncated file)");
        /* Some writers end the text with a NUL terminator: padding, not content. */
        while (n >= 2 && d[n - 2] == 0 && d[n - 1] == 0)
            n -= 2;
        uint32_t line = 1;
        for (size_t i = 0; i < n; i += 2) {
            uint16_t c = (uint16_t)(d[i] | (d[i + 1] << 8));
            if (c == 0)
                return cm_fail(e, line, -EINVAL, "NUL character in the text");
            if (c == '\n')
                line++;
            wbuf_put(out, c);
        }
        return out->failed ? -ENOMEM : 0;
    }
    if (n >= 3 && d[0] == 0xEF && d[1] == 0xBB && d[2] == 0xBF) {
        d += 3;
        n -= 3;
    } else if (cm_bytes_start_with(d, n, REG_HEADER_V4)) {
        for (size_t i = 0; i < n; i++) {
            if (d[i] == 0)
                return cm_fail(e, cm_count_lines(d, i), -EINVAL, "NUL character in the text");
            wbuf_put(out, cm_ansi_to_unicode(d[i]));
        }
        return out->failed ? -ENOMEM : 0;
    }
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        int k = cm_utf8_decode(d + i, n - i, &cp);
        if (!k)
            return cm_fail(e, cm_count_lines(d, i), -EINVAL, "invalid UTF-8 byte sequence");
        if (cp == 0)
            return cm_fail(e, cm_count_lines(d, i), -EINVAL, "NUL character in the text");
        if (cp >= 0x10000) {
            cp -= 0x10000;
            wbuf_put(out, (uint16_t)(0xD800 | (cp >> 10)));
            wbuf_put(out, (uint16_t)(0xDC00 | (cp & 0x3FF)));
        } else {
            wbuf_put(out, (uint16_t)cp);
        }
        i += (size_t)k;
    }
    return out->failed ? -ENOMEM : 0;
}

/* --------------------------------------------------------------- parsing ---- */

enum cm_op_kind { CM_OP_KEY, CM_OP_DELETE_KEY, CM_OP_SET_VALUE, CM_OP_DELETE_VALUE };

typedef struct {
    enum cm_op_kind kind;
    uint16_t *path;          /* key ops: relative to \Registry\Machine */
    uint32_t path_len;
    uint16_t *name;          /* value ops */
    uint32_t name_len;
    uint32_t type;
    uint8_t *data;
    uint32_t size;
} cm_op;

enum cm_section { CM_SECTION_NONE, CM_SECTION_KEY, CM_SECTION_DELETED_KEY };

typedef struct {
    cm_errsink e;
    const uint16_t *text;
    uint32_t len, pos, line;
    bool ansi;                       /* REGEDIT4: hex string data is ANSI */
    enum cm_section section;
    cm_op *ops;
    uint32_t nops, ops_cap;
    char excerpt[64];
} cm_parser;

static bool at_eol(const cm_parser *p)
{
    return p->pos >= p->len || p->text[p->pos] == '\r' || p->text[p->pos] == '\n';
}

static void skip_blanks(cm_parser *p)
{
    while (p->pos < p->len && (p->text[p->pos] == ' ' || p->text[p->pos] == '\t'))
        p->pos++;
}

/* Step past the end of the current line (CRLF, LF or CR). */
static void next_line(cm_parser *p)
{
    while (!at_eol(p))
        p->pos++;
    if (p->pos < p->len && p->text[p->pos] == '\r')
        p->pos++;
    if (p->pos < p->len && p->text[p->pos] == '\n')
        p->pos++;
    p->line++;
}

/* The rest of the current line from `from`, in UTF-8, shortened for messages. */
static const char *excerpt(cm_parser *p, uint32_t from)
{
    uint32_t end = from;
    while (end < p->len && p->text[end] != '\r' && p->text[end] != '\n' && end - from < 24)
        end++;
    bool more = end < p->len && p->text[end] != '\r' && p->text[end] != '\n';
    char *s = cm_utf16_to_utf8(p->text + from, end - from);
    snprintf(p->excerpt, sizeof(p->excerpt), "%s%s", s ? s : "", more ? "..." : "");
    free(s);
    return p->excerpt;
}

/* Whether the text at `at` starts with the ASCII word, case-insensitively. */
static bool match_ci(const cm_parser *p, uint32_t at, const char *word)
{
    size_t k = strlen(word);
    if (at + k > p->len)
        return false;
    for (size_t i = 0; i < k; i++)
        if (cm_upcase(p->text[at + i]) != cm_upcase((uint16_t)(unsigned char)word[i]))
            return false;
    return true;
}

static int hexval(uint16_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Queue an operation; nothing touches the registry before the whole file parsed. */
static int push_op(cm_parser *p, const cm_op *op)
{
    if (p->nops == p->ops_cap) {
        uint32_t cap = p->ops_cap ? p->ops_cap * 2 : 32;
        cm_op *grown = realloc(p->ops, cap * sizeof(*grown));
        if (!grown)
            return -ENOMEM;
        p->ops = grown;
        p->ops_cap = cap;
    }
    p->ops[p->nops++] = *op;
    return 0;
}

static void free_ops(cm_parser *p)
{
    for (uint32_t i = 0; i < p->nops; i++) {
        free(p->ops[i].path);
        free(p->ops[i].name);
        free(p->ops[i].data);
    }
    free(p->ops);
}

/* Only blanks may follow a complete entry on its line. */
static int expect_eol(cm_parser *p, const char *after)
{
    skip_blanks(p);
    if (!at_eol(p))
        return cm_fail(&p->e, p->line, -EINVAL, "unexpected text '%s' after %s", excerpt(p, p->pos), after);
    return 0;
}

/* "[" ["-"] ROOT ["\" path] "]" */
static int parse_key_line(cm_parser *p)
{
    p->pos++;                                   /* '[' */
    bool del = p->pos < p->len && p->text[p->pos] == '-';
    if (del)
        p->pos++;
    uint32_t start = p->pos, close = UINT32_MAX;
    for (uint32_t i = start; i < p->len && p->text[i] != '\r' && p->text[i] != '\n'; i++)
        if (p->text[i] == ']')
            close = i;
    if (close == UINT32_MAX)
        return cm_fail(&p->e, p->line, -EINVAL, "key line '[%s' has no closing ']'", excerpt(p, start));
    uint32_t root_end = start;
    while (root_end < close && p->text[root_end] != '\\')
        root_end++;
    uint32_t root_len = root_end - start;
    bool known_root = (root_len == strlen(REG_ROOT_NAME) && match_ci(p, start, REG_ROOT_NAME)) ||
                      (root_len == strlen(REG_ROOT_ABBREV) && match_ci(p, start, REG_ROOT_ABBREV));
    if (!known_root) {
        char *root = cm_utf16_to_utf8(p->text + start, root_end - start);
        int rc = cm_fail(&p->e, p->line, -EINVAL, "unsupported root key '%s' (only HKEY_LOCAL_MACHINE is available)",
                         root ? root : "");
        free(root);
        return rc;
    }
    uint32_t path = root_end < close ? root_end + 1 : close;
    if (root_end < close && p->text[close - 1] == '\\')
        return cm_fail(&p->e, p->line, -EINVAL, "key path ends with a backslash");
    if (del && path == close)
        return cm_fail(&p->e, p->line, -EINVAL, "cannot delete the root key HKEY_LOCAL_MACHINE");
    for (uint32_t i = path, comp = path; path < close && i <= close; i++) {
        if (i == close || p->text[i] == '\\') {
            if (i == comp)
                return cm_fail(&p->e, p->line, -EINVAL, "empty key name in path (two backslashes in a row)");
            if (i - comp > CM_MAX_KEY_NAME_CHARS)
                return cm_fail(&p->e, p->line, -EINVAL, "key name longer than %u characters", CM_MAX_KEY_NAME_CHARS);
            comp = i + 1;
        }
    }
    cm_op op = { .kind = del ? CM_OP_DELETE_KEY : CM_OP_KEY, .path_len = close - path };
    op.path = malloc((op.path_len ? op.path_len : 1) * sizeof(uint16_t));
    if (!op.path)
        return -ENOMEM;
    memcpy(op.path, p->text + path, op.path_len * sizeof(uint16_t));
    if (push_op(p, &op)) {
        free(op.path);
        return -ENOMEM;
    }
    p->section = del ? CM_SECTION_DELETED_KEY : CM_SECTION_KEY;
    p->pos = close + 1;
    return expect_eol(p, "']'");
}

/* A quoted string with the \\ and \" escapes, cursor on the opening quote. */
static int parse_quoted(cm_parser *p, cm_wbuf *out)
{
    uint32_t open = p->pos++;
    for (;;) {
        if (at_eol(p))
            return cm_fail(&p->e, p->line, -EINVAL, "string %s has no closing '\"'", excerpt(p, open));
        uint16_t c = p->text[p->pos++];
        if (c == '"')
            break;
        if (c == '\\') {
            uint16_t next = at_eol(p) ? 0 : p->text[p->pos];
            if (next != '\\' && next != '"')
                return cm_fail(&p->e, p->line, -EINVAL, "invalid escape sequence in string (only \\\\ and \\\" are allowed)");
            c = next;
            p->pos++;
        }
        wbuf_put(out, c);
    }
    return out->failed ? -ENOMEM : 0;
}

/* Comma-separated hex bytes, continued over lines ending in a backslash. */
static int parse_hex_list(cm_parser *p, uint8_t **data, uint32_t *size)
{
    uint8_t *buf = NULL;
    uint32_t n = 0, cap = 0;
    int rc = 0;
    for (;;) {
        skip_blanks(p);
        if (at_eol(p))
            break;
        if (p->text[p->pos] == '\\') {
            p->pos++;
            skip_blanks(p);
            if (!at_eol(p)) {
                rc = cm_fail(&p->e, p->line, -EINVAL, "unexpected text '%s' after the line continuation '\\'", excerpt(p, p->pos));
                break;
            }
            next_line(p);
            if (p->pos >= p->len)
                break;
            continue;
        }
        uint32_t tok = p->pos;
        while (!at_eol(p) && p->text[p->pos] != ',' && p->text[p->pos] != ' ' &&
               p->text[p->pos] != '\t' && p->text[p->pos] != '\\')
            p->pos++;
        uint32_t toklen = p->pos - tok;
        int hi = hexval(p->text[tok]), lo = toklen == 2 ? hexval(p->text[tok + 1]) : 0;
        if (toklen > 2 || hi < 0 || lo < 0) {
            char *bad = cm_utf16_to_utf8(p->text + tok, toklen < 24 ? toklen : 24);
            rc = cm_fail(&p->e, p->line, -EINVAL, "invalid hex byte '%s'", bad ? bad : "");
            free(bad);
            break;
        }
        int byte = toklen == 2 ? hi * 16 + lo : hi;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            uint8_t *grown = realloc(buf, cap);
            if (!grown) {
                rc = -ENOMEM;
                break;
            }
            buf = grown;
        }
        buf[n++] = (uint8_t)byte;
        skip_blanks(p);
        if (at_eol(p) || p->text[p->pos] == '\\')
            continue;
        if (p->text[p->pos] != ',') {
            rc = cm_fail(&p->e, p->line, -EINVAL, "expected ',' between hex bytes, found '%s'", excerpt(p, p->pos));
            break;
        }
        p->pos++;
    }
    if (rc) {
        free(buf);
        return rc;
    }
    *data = buf;
    *size = n;
    return 0;
}

/* REGEDIT4 string data in hex form is ANSI: widen it byte by byte, NULs included. */
static int widen_ansi(uint8_t **data, uint32_t *size)
{
    uint8_t *wide = malloc(*size ? *size * 2u : 1);
    if (!wide)
        return -ENOMEM;
    for (uint32_t i = 0; i < *size; i++) {
        uint16_t c = cm_ansi_to_unicode((*data)[i]);
        wide[2 * i] = (uint8_t)c;
        wide[2 * i + 1] = (uint8_t)(c >> 8);
    }
    free(*data);
    *data = wide;
    *size *= 2;
    return 0;
}

/* dword:XXXXXXXX — 1 to 8 hex digits, stored little-endian. */
static int parse_dword(cm_parser *p, cm_op *op)
{
    uint32_t v = 0, digits = 0, start = p->pos;
    while (p->pos < p->len && hexval(p->text[p->pos]) >= 0) {
        v = v * 16 + (uint32_t)hexval(p->text[p->pos++]);
        digits++;
    }
    if (!digits)
        return cm_fail(&p->e, p->line, -EINVAL, "dword value needs 1 to 8 hex digits, found '%s'", excerpt(p, start));
    if (digits > 8)
        return cm_fail(&p->e, p->line, -EINVAL, "dword value '%s' has more than 8 hex digits", excerpt(p, start));
    op->type = CM_REG_DWORD;
    op->size = 4;
    op->data = malloc(4);
    if (!op->data)
        return -ENOMEM;
    for (int i = 0; i < 4; i++)
        op->data[i] = (uint8_t)(v >> (8 * i));
    return 0;
}

/* After "name"=: the data forms of the grammar. Fills op (type, data, size/kind). */
static int parse_value_data(cm_parser *p, cm_op *op)
{
    uint16_t c = p->pos < p->len ? p->text[p->pos] : 0;
    if (c == '-') {
        p->pos++;
        op->kind = CM_OP_DELETE_VALUE;
        return expect_eol(p, "'-'");
    }
    if (c == '"') {
        cm_wbuf s = { 0 };
        int rc = parse_quoted(p, &s);
        if (!rc) {
            op->type = CM_REG_SZ;
            op->size = (s.len + 1) * 2;
            op->data = malloc(op->size);
            if (!op->data)
                rc = -ENOMEM;
            for (uint32_t i = 0; !rc && i <= s.len; i++) {
                uint16_t u = i < s.len ? s.s[i] : 0;
                op->data[2 * i] = (uint8_t)u;
                op->data[2 * i + 1] = (uint8_t)(u >> 8);
            }
        }
        free(s.s);
        return rc ? rc : expect_eol(p, "the string");
    }
    if (match_ci(p, p->pos, "dword:")) {
        p->pos += 6;
        int rc = parse_dword(p, op);
        return rc ? rc : expect_eol(p, "the dword value");
    }
    if (match_ci(p, p->pos, "hex:")) {
        p->pos += 4;
        op->type = CM_REG_BINARY;
    } else if (match_ci(p, p->pos, "hex(")) {
        uint32_t start = p->pos;
        p->pos += 4;
        uint64_t t = 0;
        uint32_t digits = 0;
        while (p->pos < p->len && hexval(p->text[p->pos]) >= 0) {
            t = t * 16 + (uint64_t)hexval(p->text[p->pos++]);
            digits++;
        }
        if (!digits || digits > 8 || p->pos + 1 >= p->len || p->text[p->pos] != ')' || p->text[p->pos + 1] != ':')
            return cm_fail(&p->e, p->line, -EINVAL, "malformed typed hex value '%s' (expected hex(T): with T a hex type number)",
                           excerpt(p, start));
        p->pos += 2;
        op->type = (uint32_t)t;
    } else {
        return cm_fail(&p->e, p->line, -EINVAL, "unrecognized value data '%s' (expected \"string\", dword:, hex:, hex(T): or -)",
                       excerpt(p, p->pos));
    }
    int rc = parse_hex_list(p, &op->data, &op->size);
    if (!rc && p->ansi && (op->type == CM_REG_SZ || op->type == CM_REG_EXPAND_SZ || op->type == CM_REG_MULTI_SZ))
        rc = widen_ansi(&op->data, &op->size);
    return rc;
}

/* "name"=data or @=data */
static int parse_value_line(cm_parser *p)
{
    uint32_t line = p->line;
    cm_op op = { .kind = CM_OP_SET_VALUE };
    int rc = 0;
    if (p->text[p->pos] == '@') {
        p->pos++;
        op.name = malloc(sizeof(uint16_t));
        if (!op.name)
            return -ENOMEM;
    } else {
        cm_wbuf name = { 0 };
        rc = parse_quoted(p, &name);
        if (rc) {
            free(name.s);
            return rc;
        }
        if (name.len > CM_MAX_VALUE_NAME_CHARS) {
            free(name.s);
            return cm_fail(&p->e, p->line, -EINVAL, "value name longer than %u characters", CM_MAX_VALUE_NAME_CHARS);
        }
        op.name = name.s ? name.s : malloc(sizeof(uint16_t));
        op.name_len = name.len;
        if (!op.name)
            return -ENOMEM;
    }
    skip_blanks(p);
    if (p->pos >= p->len || p->text[p->pos] != '=') {
        rc = cm_fail(&p->e, p->line, -EINVAL, "expected '=' after the value name");
    } else {
        p->pos++;
        skip_blanks(p);
        rc = parse_value_data(p, &op);
    }
    if (!rc && p->section == CM_SECTION_NONE)
        rc = cm_fail(&p->e, line, -EINVAL, "value before any [key] line");
    if (!rc && p->section == CM_SECTION_KEY)
        rc = push_op(p, &op);
    else if (!rc) {
        free(op.name);                /* under a deleted key: ignored, as regedit does */
        free(op.data);
        return 0;
    }
    if (rc) {
        free(op.name);
        free(op.data);
    }
    return rc;
}

/* The first line must be one of the two headers (blanks after it are allowed). */
static int parse_header(cm_parser *p)
{
    if (match_ci(p, 0, REG_HEADER_V5)) {
        p->pos = (uint32_t)strlen(REG_HEADER_V5);
    } else if (match_ci(p, 0, REG_HEADER_V4)) {
        p->pos = (uint32_t)strlen(REG_HEADER_V4);
        p->ansi = true;
    } else {
        return cm_fail(&p->e, 1, -EINVAL, "not a registry file: the first line must be '" REG_HEADER_V5 "' or '" REG_HEADER_V4 "'");
    }
    skip_blanks(p);
    if (!at_eol(p))
        return cm_fail(&p->e, 1, -EINVAL, "unexpected text '%s' after the header", excerpt(p, p->pos));
    next_line(p);
    return 0;
}

/* The header, then one entry (key, value, comment or blank) per logical line. */
static int parse_all(cm_parser *p)
{
    int rc = parse_header(p);
    while (!rc && p->pos < p->len) {
        skip_blanks(p);
        if (at_eol(p)) {
            next_line(p);
            continue;
        }
        uint16_t c = p->text[p->pos];
        if (c == ';')
            rc = 0;
        else if (c == '[')
            rc = parse_key_line(p);
        else if (c == '"' || c == '@')
            rc = parse_value_line(p);
        else
            rc = cm_fail(&p->e, p->line, -EINVAL, "unexpected text '%s' (expected [key], \"name\"=value, @=value or a ; comment)",
                         excerpt(p, p->pos));
        if (!rc && p->pos < p->len)
            next_line(p);
    }
    return rc;
}

/* Apply a fully parsed file (registry lock held). Only running out of memory fails. */
static int apply_ops(cm_parser *p)
{
    cm_key *current = NULL;
    for (uint32_t i = 0; i < p->nops; i++) {
        cm_op *op = &p->ops[i];
        cm_key *key;
        switch (op->kind) {
        case CM_OP_KEY:
            if (cm_create_path(cm_machine(), op->path, op->path_len, &current, NULL))
                return -ENOMEM;             /* the path was validated while parsing */
            break;
        case CM_OP_DELETE_KEY:
            if (!cm_lookup(cm_machine(), op->path, op->path_len, &key))
                cm_delete_tree(key);
            current = NULL;
            break;
        case CM_OP_SET_VALUE:
            if (cm_set_value(current, op->name, op->name_len, op->type, op->data, op->size))
                return -ENOMEM;
            break;
        case CM_OP_DELETE_VALUE:
            cm_delete_value(current, op->name, op->name_len);
            break;
        }
    }
    return 0;
}

int cm_import_reg_buffer(const char *file, const void *data, size_t size, char *err, size_t errlen)
{
    cm_parser p = { .e = { file, err, errlen }, .line = 1 };
    cm_wbuf text = { 0 };
    int rc = cm_decode(&p.e, data, size, &text);
    if (!rc) {
        p.text = text.s;
        p.len = text.len;
        rc = parse_all(&p);
    }
    if (!rc) {
        cm_init();
        cm_lock();
        rc = apply_ops(&p);
        cm_unlock();
    }
    if (rc == -ENOMEM)
        cm_fail(&p.e, p.line, -ENOMEM, "out of memory");
    free_ops(&p);
    free(text.s);
    return rc;
}

int cm_import_reg_file(const char *path, char *err, size_t errlen)
{
    cm_errsink e = { path, err, errlen };
    FILE *f = fopen(path, "rb");
    if (!f)
        return cm_fail(&e, 0, -ENOENT, "cannot open: %s", strerror(errno));
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *grown = realloc(buf, cap);
            if (!grown) {
                free(buf);
                fclose(f);
                return cm_fail(&e, 0, -ENOMEM, "out of memory");
            }
            buf = grown;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    bool read_error = ferror(f);
    fclose(f);
    int rc = read_error ? cm_fail(&e, 0, -EIO, "read error") : cm_import_reg_buffer(path, buf, n, err, errlen);
    free(buf);
    return rc;
}

/* --------------------------------------------------------------- export ---- */

/* Whether a value can be written as "text" and read back byte for byte. */
static bool sz_is_plain(const cm_value *v)
{
    if (v->type != CM_REG_SZ || v->size < 2 || v->size % 2)
        return false;
    uint32_t n = v->size / 2;
    for (uint32_t i = 0; i < n; i++) {
        uint16_t c = (uint16_t)(v->data[2 * i] | (v->data[2 * i + 1] << 8));
        if ((c == 0) != (i == n - 1) || c == '\r' || c == '\n')
            return false;
    }
    return true;
}

static bool name_has_newline(const uint16_t *s, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (s[i] == '\r' || s[i] == '\n')
            return true;
    return false;
}

/* A quoted name or string with regedit's two escapes. */
static void put_escaped(cm_wbuf *b, const uint16_t *s, uint32_t n)
{
    wbuf_put(b, '"');
    for (uint32_t i = 0; i < n; i++) {
        if (s[i] == '\\' || s[i] == '"')
            wbuf_put(b, '\\');
        wbuf_put(b, s[i]);
    }
    wbuf_put(b, '"');
}

/* bb,bb,... wrapped with "\" continuation lines as regedit wraps them. */
static void put_hex_list(cm_wbuf *b, const uint8_t *d, uint32_t n, uint32_t col)
{
    static const char digits[] = "0123456789abcdef";
    for (uint32_t i = 0; i < n; i++) {
        if (i > 0 && col + 3 > REG_EXPORT_MAX_COLUMN) {
            wbuf_puts(b, "\\\r\n  ");
            col = 2;
        }
        wbuf_put(b, (uint16_t)digits[d[i] >> 4]);
        wbuf_put(b, (uint16_t)digits[d[i] & 15]);
        if (i + 1 < n)
            wbuf_put(b, ',');
        col += 3;
    }
}

/* One value line in the most readable form that reads back byte for byte. */
static void put_value(cm_wbuf *b, const cm_value *v)
{
    uint32_t line_start = b->len;
    if (v->name_len == 0)
        wbuf_put(b, '@');
    else
        put_escaped(b, v->name, v->name_len);
    wbuf_put(b, '=');
    if (sz_is_plain(v)) {
        cm_wbuf s = { 0 };
        for (uint32_t i = 0; i + 1 < v->size / 2; i++)
            wbuf_put(&s, (uint16_t)(v->data[2 * i] | (v->data[2 * i + 1] << 8)));
        put_escaped(b, s.s, s.len);
        b->failed |= s.failed;
        free(s.s);
    } else if (v->type == CM_REG_DWORD && v->size == 4) {
        char hex[16];
        snprintf(hex, sizeof(hex), "dword:%08x",
                 (unsigned)(v->data[0] | v->data[1] << 8 | v->data[2] << 16 | (uint32_t)v->data[3] << 24));
        wbuf_puts(b, hex);
    } else {
        char prefix[24];
        if (v->type == CM_REG_BINARY)
            snprintf(prefix, sizeof(prefix), "hex:");
        else
            snprintf(prefix, sizeof(prefix), "hex(%x):", v->type);
        wbuf_puts(b, prefix);
        put_hex_list(b, v->data, v->size, b->len - line_start);
    }
    wbuf_puts(b, "\r\n");
}

/* The key's path below \Registry\Machine, appended to b. */
static void put_key_path(cm_wbuf *b, const cm_key *key)
{
    if (key == cm_machine()) {
        wbuf_puts(b, REG_ROOT_NAME);
        return;
    }
    put_key_path(b, key->parent);
    wbuf_put(b, '\\');
    wbuf_putn(b, key->name, key->name_len);
}

/* A [key] section with its values, then its (non-volatile) subkeys in order. */
static int put_key(cm_wbuf *b, const cm_key *key, const cm_errsink *e)
{
    if (name_has_newline(key->name, key->name_len))
        return cm_fail(e, 0, -EINVAL, "a key name contains a line break and cannot be written to a .reg file");
    wbuf_put(b, '[');
    put_key_path(b, key);
    wbuf_puts(b, "]\r\n");
    for (uint32_t i = 0; i < key->nvalues; i++) {
        if (name_has_newline(key->values[i]->name, key->values[i]->name_len))
            return cm_fail(e, 0, -EINVAL, "a value name contains a line break and cannot be written to a .reg file");
        put_value(b, key->values[i]);
    }
    wbuf_puts(b, "\r\n");
    for (uint32_t i = 0; i < key->nchildren; i++) {
        if (key->children[i]->is_volatile)
            continue;                      /* volatile keys live only until shutdown */
        int rc = put_key(b, key->children[i], e);
        if (rc)
            return rc;
    }
    return 0;
}

int cm_export_reg_buffer(const char *key_path, uint8_t **out, size_t *out_size, char *err, size_t errlen)
{
    cm_errsink e = { key_path, err, errlen };
    uint32_t plen;
    uint16_t *path = cm_utf8_to_utf16(key_path, &plen);
    if (!path)
        return cm_fail(&e, 0, -EINVAL, "key path is not valid UTF-8");
    cm_init();
    cm_wbuf b = { 0 };
    wbuf_put(&b, 0xFEFF);
    wbuf_puts(&b, REG_HEADER_V5 "\r\n\r\n");
    cm_lock();
    cm_key *key;
    int rc = cm_lookup(cm_machine(), path, plen, &key);
    if (rc)
        rc = cm_fail(&e, 0, -EINVAL, "no such key under HKEY_LOCAL_MACHINE");
    else
        rc = put_key(&b, key, &e);
    cm_unlock();
    free(path);
    if (!rc && b.failed)
        rc = cm_fail(&e, 0, -ENOMEM, "out of memory");
    if (!rc) {
        *out = malloc((size_t)b.len * 2);
        if (!*out)
            rc = cm_fail(&e, 0, -ENOMEM, "out of memory");
        for (uint32_t i = 0; !rc && i < b.len; i++) {
            (*out)[2 * i] = (uint8_t)b.s[i];
            (*out)[2 * i + 1] = (uint8_t)(b.s[i] >> 8);
        }
        *out_size = (size_t)b.len * 2;
    }
    free(b.s);
    return rc;
}

int cm_export_reg_file(const char *path, const char *key_path, char *err, size_t errlen)
{
    uint8_t *data;
    size_t size;
    int rc = cm_export_reg_buffer(key_path, &data, &size, err, errlen);
    if (rc)
        return rc;
    cm_errsink e = { path, err, errlen };
    FILE *f = fopen(path, "wb");
    if (!f)
        rc = cm_fail(&e, 0, -EIO, "cannot create: %s", strerror(errno));
    else if (fwrite(data, 1, size, f) != size)
        rc = cm_fail(&e, 0, -EIO, "write error: %s", strerror(errno));
    if (f && fclose(f) && !rc)
        rc = cm_fail(&e, 0, -EIO, "write error: %s", strerror(errno));
    free(data);
    return rc;
}

/* nthost.h's registry entry points: the same as the cm_ ones, for hosts and tools. */
int nthost_registry_import(const char *path, char *err, size_t errlen)
{
    return cm_import_reg_file(path, err, errlen);
}

int nthost_registry_export(const char *path, const char *key_path, char *err, size_t errlen)
{
    return cm_export_reg_file(path, key_path ? key_path : "", err, errlen);
}
