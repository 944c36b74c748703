/*
 * windows/regfile.c — see regfile.h. The grammar is regedit's: a header line
 * ("Windows Registry Editor Version 5.00", or "REGEDIT4" whose hex(2)/hex(7) data is
 * 8-bit), ';' comments, [key] lines, "name"=value or @=value lines, and values
 * continued on the next line after a trailing backslash.
 */
#include "regfile.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REGF_MAX_LINE   16384
#define REGF_MAX_KEY    512
#define REGF_MAX_NAME   256

typedef struct regf_state {
    const char *text;       /* UTF-8 text */
    size_t len, pos;
    unsigned line;          /* number of the physical line last read */
    bool regedit4;
    char key[REGF_MAX_KEY];
    char name[REGF_MAX_NAME];
    uint8_t data[REGF_MAX_DATA];
    size_t size;
    char *err;
    size_t errlen;
} regf_state;

static int bad(regf_state *s, unsigned line, const char *what)
{
    snprintf(s->err, s->errlen, "line %u: %s", line, what);
    return -1;
}

/*
 * to_utf8 — the file's text as UTF-8 (malloc'ed): UTF-16LE with a byte order mark
 * is converted, anything else is taken as it is (a UTF-8 BOM is skipped).
 */
static char *to_utf8(const uint8_t *in, size_t len, size_t *outlen)
{
    char *out;
    size_t n = 0;

    if (len >= 2 && in[0] == 0xFF && in[1] == 0xFE) {
        out = malloc(len / 2 * 3 + 1);
        if (!out)
            return NULL;
        for (size_t i = 2; i + 1 < len; i += 2) {
            unsigned c = in[i] | (unsigned)in[i + 1] << 8;
            if (c < 0x80) {
                out[n++] = (char)c;
            } else if (c < 0x800) {
                out[n++] = (char)(0xC0 | c >> 6);
                out[n++] = (char)(0x80 | (c & 0x3F));
            } else {
                out[n++] = (char)(0xE0 | c >> 12);
                out[n++] = (char)(0x80 | ((c >> 6) & 0x3F));
                out[n++] = (char)(0x80 | (c & 0x3F));
            }
        }
    } else {
        if (len >= 3 && in[0] == 0xEF && in[1] == 0xBB && in[2] == 0xBF) {
            in += 3;
            len -= 3;
        }
        out = malloc(len + 1);
        if (!out)
            return NULL;
        memcpy(out, in, len);
        n = len;
    }
    out[n] = 0;
    *outlen = n;
    return out;
}

/*
 * next_line — the next logical line into buf (continuations joined, CR and
 * trailing blanks removed). Returns false at the end of the text.
 */
static bool next_line(regf_state *s, char *buf, size_t buflen, unsigned *first_line)
{
    size_t n = 0;
    bool more = true, started = false;

    if (s->pos >= s->len)
        return false;
    while (more && s->pos < s->len) {
        size_t start = s->pos, end;
        while (s->pos < s->len && s->text[s->pos] != '\n')
            s->pos++;
        end = s->pos;
        if (s->pos < s->len)
            s->pos++;
        s->line++;
        if (!started) {
            *first_line = s->line;
            started = true;
        } else {
            while (start < end && (s->text[start] == ' ' || s->text[start] == '\t'))
                start++;
        }
        while (end > start && isspace((unsigned char)s->text[end - 1]))
            end--;
        more = end > start && s->text[end - 1] == '\\';
        if (more)
            end--;
        for (size_t i = start; i < end && n + 1 < buflen; i++)
            buf[n++] = s->text[i];
    }
    buf[n] = 0;
    return true;
}

/* put_utf16 — append UTF-8 text as UTF-16LE code units (BMP only). */
static int put_utf16(regf_state *s, const char *p, size_t len, unsigned line)
{
    for (size_t i = 0; i < len;) {
        unsigned c = (unsigned char)p[i], extra = 0;
        if (c >= 0xE0) {
            c &= 0x0F;
            extra = 2;
        } else if (c >= 0xC0) {
            c &= 0x1F;
            extra = 1;
        } else if (c >= 0x80) {
            return bad(s, line, "invalid UTF-8 in a string");
        }
        if (i + extra >= len + (extra ? 0 : 1))
            return bad(s, line, "truncated UTF-8 in a string");
        for (unsigned k = 1; k <= extra; k++)
            c = c << 6 | ((unsigned char)p[i + k] & 0x3F);
        i += 1 + extra;
        if (s->size + 2 > sizeof s->data)
            return bad(s, line, "value too long");
        s->data[s->size++] = (uint8_t)c;
        s->data[s->size++] = (uint8_t)(c >> 8);
    }
    return 0;
}

/*
 * parse_quoted — a "..." string with \\ and \" escapes starting at *p; the raw
 * characters go to out (NUL-terminated). *p ends after the closing quote.
 */
static int parse_quoted(regf_state *s, const char **p, char *out, size_t outlen, unsigned line)
{
    const char *c = *p;
    size_t n = 0;

    if (*c++ != '"')
        return bad(s, line, "expected '\"'");
    while (*c && *c != '"') {
        if (*c == '\\' && (c[1] == '\\' || c[1] == '"'))
            c++;
        if (n + 1 >= outlen)
            return bad(s, line, "string too long");
        out[n++] = *c++;
    }
    if (*c != '"')
        return bad(s, line, "unterminated string");
    out[n] = 0;
    *p = c + 1;
    return 0;
}

/* parse_hex_bytes — "aa,bb,..." into s->data. */
static int parse_hex_bytes(regf_state *s, const char *p, unsigned line)
{
    s->size = 0;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]))
            return bad(s, line, "bad hex byte");
        if (s->size == sizeof s->data)
            return bad(s, line, "value too long");
        char hex[3] = { p[0], p[1], 0 };
        s->data[s->size++] = (uint8_t)strtoul(hex, NULL, 16);
        p += 2;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == ',')
            p++;
        else if (*p)
            return bad(s, line, "expected ',' between hex bytes");
    }
    return 0;
}

/* widen — REGEDIT4's 8-bit hex(2)/hex(7) string data as UTF-16LE. */
static int widen(regf_state *s, unsigned line)
{
    char narrow[REGF_MAX_DATA + 1];
    size_t n = s->size;

    memcpy(narrow, s->data, n);
    s->size = 0;
    return put_utf16(s, narrow, n, line);
}

/* parse_value — the part after '=': into s->data / s->size, returning the type. */
static int parse_value(regf_state *s, const char *p, unsigned line, unsigned *type)
{
    static char str[REGF_MAX_DATA];

    s->size = 0;
    if (*p == '"') {
        if (parse_quoted(s, &p, str, sizeof str, line))
            return -1;
        if (*p)
            return bad(s, line, "text after the string");
        *type = REGF_SZ;
        return put_utf16(s, str, strlen(str) + 1, line);
    }
    if (strncmp(p, "dword:", 6) == 0) {
        char *end;
        p += 6;
        if (strlen(p) != 8)
            return bad(s, line, "dword wants 8 hex digits");
        unsigned long v = strtoul(p, &end, 16);
        if (*end)
            return bad(s, line, "bad dword");
        for (int i = 0; i < 4; i++)
            s->data[i] = (uint8_t)(v >> (8 * i));
        s->size = 4;
        *type = REGF_DWORD;
        return 0;
    }
    if (strncmp(p, "hex:", 4) == 0) {
        *type = REGF_BINARY;
        return parse_hex_bytes(s, p + 4, line);
    }
    if (strncmp(p, "hex(", 4) == 0) {
        char *end;
        unsigned long t = strtoul(p + 4, &end, 16);
        if (end[0] != ')' || end[1] != ':')
            return bad(s, line, "bad hex(type): value");
        *type = (unsigned)t;
        if (parse_hex_bytes(s, end + 2, line))
            return -1;
        if (s->regedit4 && (t == REGF_EXPAND_SZ || t == REGF_MULTI_SZ))
            return widen(s, line);
        return 0;
    }
    if (strcmp(p, "-") == 0)
        return bad(s, line, "value deletion is not supported");
    return bad(s, line, "unknown value format");
}

int regf_parse(const void *text, size_t len, regf_value_fn *fn, void *ctx, char *err, size_t errlen)
{
    static char buf[REGF_MAX_LINE];
    regf_state *s = calloc(1, sizeof *s);
    unsigned line = 0;
    bool header = false;
    int rc = 0;

    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->err = err;
    s->errlen = errlen;
    s->text = to_utf8(text, len, &s->len);
    if (!s->text) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    while (rc == 0 && next_line(s, buf, sizeof buf, &line)) {
        const char *p = buf;
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p || *p == ';')
            continue;
        if (!header) {
            if (strcmp(p, "Windows Registry Editor Version 5.00") == 0)
                header = true;
            else if (strcmp(p, "REGEDIT4") == 0)
                header = s->regedit4 = true;
            else
                rc = bad(s, line, "not a .reg file (no 'Windows Registry Editor Version 5.00' header)");
            continue;
        }
        if (*p == '[') {
            size_t n = strlen(p);
            if (p[1] == '-')
                rc = bad(s, line, "key deletion is not supported");
            else if (p[n - 1] != ']' || n - 2 >= sizeof s->key || n < 3)
                rc = bad(s, line, "bad key line");
            else {
                memcpy(s->key, p + 1, n - 2);
                s->key[n - 2] = 0;
            }
            continue;
        }
        if (!s->key[0]) {
            rc = bad(s, line, "value outside any [key]");
            continue;
        }
        if (*p == '@') {
            s->name[0] = 0;
            p++;
        } else if (parse_quoted(s, &p, s->name, sizeof s->name, line)) {
            rc = -1;
            continue;
        }
        if (*p++ != '=') {
            rc = bad(s, line, "expected '=' after the value name");
            continue;
        }
        regf_value v = { s->key, s->name, 0, s->data, 0, line };
        if (parse_value(s, p, line, &v.type)) {
            rc = -1;
            continue;
        }
        v.size = s->size;
        rc = fn(&v, ctx);
    }
    if (rc == 0 && !header)
        rc = bad(s, 1, "empty file");
    free((void *)s->text);
    free(s);
    return rc;
}

int regf_parse_file(const char *path, regf_value_fn *fn, void *ctx, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0, got;

    if (!f) {
        snprintf(err, errlen, "%s: cannot open", path);
        return -1;
    }
    do {
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap = cap ? 2 * cap : 8192);
            if (!nb) {
                free(buf);
                fclose(f);
                snprintf(err, errlen, "%s: out of memory", path);
                return -1;
            }
            buf = nb;
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
    } while (got > 0);
    fclose(f);
    char why[256];
    int rc = regf_parse(buf, len, fn, ctx, why, sizeof why);
    if (rc == -1)
        snprintf(err, errlen, "%s: %s", path, why);
    free(buf);
    return rc;
}
