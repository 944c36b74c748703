/*
 * elf_mc.c — reading the Windows message compiler's source (.mc) so the event log can
 * render an entry's text on Linux, where no compiled message DLL exists.
 *
 * The grammar read is mc's:
 *   ; comment lines
 *   MessageIdTypedef=T  OutputBase=N                      (accepted, ignored)
 *   SeverityNames=(Name=N[:Symbol] ...)  FacilityNames=(...)  LanguageNames=(...)
 *   MessageId=[N|+N]  Severity=Name  Facility=Name  SymbolicName=Name
 *   Language=Name
 *   text lines ...
 *   .
 * An empty MessageId is the previous one plus one, "+N" adds N; Severity and Facility
 * carry over from the previous message, as mc does. The id of a message is
 * Severity<<30 | Facility<<16 | MessageId.
 */
#include "cm_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MC_SEVERITY_SHIFT 30
#define MC_FACILITY_SHIFT 16
#define MC_CUSTOMER_BIT 0x20000000u
#define MC_MAX_NAMES 32
#define MC_MAX_ARGS 99
#define MC_DEFAULT_LANGUAGE "English"

typedef struct {
    char name[64];
    uint32_t value;
} mc_name;

typedef struct {
    mc_name items[MC_MAX_NAMES];
    size_t count;
} mc_names;

typedef struct {
    const char *file;
    char *err;
    size_t errlen;
    char *text;           /* the whole file, NUL-terminated, lines split in place */
    char *cursor;
    unsigned line;
    mc_names severities, facilities;
    elf_mc_file out;
    size_t cap;
} mc_parser;

static int mc_fail(mc_parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int mc_fail(mc_parser *p, const char *fmt, ...)
{
    if (p->err && p->errlen) {
        int n = snprintf(p->err, p->errlen, "%s:%u: ", p->file, p->line);
        if (n >= 0 && (size_t)n < p->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return -EINVAL;
}

/* Next physical line (CR/LF stripped), or NULL at the end of the text. */
static char *mc_next_line(mc_parser *p)
{
    if (!*p->cursor)
        return NULL;
    char *line = p->cursor;
    char *end = strchr(line, '\n');
    p->cursor = end ? end + 1 : line + strlen(line);
    if (end)
        *end = 0;
    size_t n = strlen(line);
    if (n && line[n - 1] == '\r')
        line[n - 1] = 0;
    p->line++;
    return line;
}

/* Strip surrounding blanks in place. */
static char *mc_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    return s;
}

/* A decimal or 0x-prefixed hex number, as mc accepts. */
static bool mc_number(const char *s, uint32_t *v)
{
    char *end;
    errno = 0;
    unsigned long n = strtoul(s, &end, 0);
    if (errno || end == s || *end || n > UINT32_MAX)
        return false;
    *v = (uint32_t)n;
    return true;
}

static bool mc_lookup(const mc_names *names, const char *name, uint32_t *v)
{
    for (size_t i = 0; i < names->count; i++)
        if (!strcasecmp(names->items[i].name, name)) {
            *v = names->items[i].value;
            return true;
        }
    return false;
}

/*
 * mc_parse_names — "(Name=Value[:Symbol] ...)" possibly over several lines; `rest` is
 * the text after '='. A later definition of a name replaces the earlier one.
 */
static int mc_parse_names(mc_parser *p, char *rest, mc_names *names, const char *what)
{
    rest = mc_trim(rest);
    if (*rest != '(')
        return mc_fail(p, "%s must be a list in parentheses", what);
    rest++;
    for (;;) {
        char *save;
        char *tok = strtok_r(rest, " \t", &save);
        while (tok) {
            bool last = false;
            char *close = strchr(tok, ')');
            if (close) {
                *close = 0;
                last = true;
            }
            if (*tok) {
                char *eq = strchr(tok, '=');
                if (!eq)
                    return mc_fail(p, "%s entry '%s' is not Name=Value", what, tok);
                *eq = 0;
                char *colon = strchr(eq + 1, ':');
                if (colon)
                    *colon = 0;
                uint32_t v;
                if (!mc_number(eq + 1, &v))
                    return mc_fail(p, "%s entry '%s' has an invalid value '%s'", what, tok, eq + 1);
                size_t i;
                for (i = 0; i < names->count && strcasecmp(names->items[i].name, tok); i++)
                    ;
                if (i == MC_MAX_NAMES)
                    return mc_fail(p, "too many %s", what);
                snprintf(names->items[i].name, sizeof(names->items[i].name), "%s", tok);
                names->items[i].value = v;
                if (i == names->count)
                    names->count++;
            }
            if (last)
                return 0;
            tok = strtok_r(NULL, " \t", &save);
        }
        char *line = mc_next_line(p);
        if (!line)
            return mc_fail(p, "%s list has no closing ')'", what);
        rest = line;
    }
}

/* The text block after Language=: lines up to one holding a single '.'. */
static int mc_read_text(mc_parser *p, char **text)
{
    size_t len = 0, cap = 128;
    char *buf = malloc(cap);
    if (!buf)
        return -ENOMEM;
    unsigned start = p->line;
    for (;;) {
        char *line = mc_next_line(p);
        if (!line) {
            free(buf);
            p->line = start;
            return mc_fail(p, "message text has no terminating line holding a single '.'");
        }
        if (line[0] == '.' && !line[1 + strspn(line + 1, " \t")])
            break;                       /* "." alone (trailing blanks allowed) ends the text */
        size_t n = strlen(line);
        if (len + n + 2 > cap) {
            cap = (len + n + 2) * 2;
            char *grown = realloc(buf, cap);
            if (!grown) {
                free(buf);
                return -ENOMEM;
            }
            buf = grown;
        }
        memcpy(buf + len, line, n);
        len += n;
        buf[len++] = '\n';
    }
    buf[len] = 0;
    *text = buf;
    return 0;
}

static int mc_add(mc_parser *p, uint32_t id, const char *symbol, char *text)
{
    if (p->out.count == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        elf_mc_message *grown = realloc(p->out.msgs, cap * sizeof(*grown));
        if (!grown) {
            free(text);
            return -ENOMEM;
        }
        p->out.msgs = grown;
        p->cap = cap;
    }
    elf_mc_message *m = &p->out.msgs[p->out.count];
    m->symbol = strdup(symbol);
    if (!m->symbol) {
        free(text);
        return -ENOMEM;
    }
    m->id = id;
    m->text = text;
    p->out.count++;
    return 0;
}

/* Parser state carried from message to message. */
typedef struct {
    uint32_t msgid, severity, facility;
    bool have_message, have_text, any_message;
    char symbol[128];
} mc_state;

/* One Keyword=Value pair outside a name list. */
static int mc_keyword(mc_parser *p, mc_state *st, const char *key, const char *val)
{
    uint32_t v = 0;
    if (!strcasecmp(key, "MessageIdTypedef") || !strcasecmp(key, "OutputBase"))
        return 0;
    if (!strcasecmp(key, "MessageId")) {
        if (!*val) {
            st->msgid = st->any_message ? st->msgid + 1 : 1;
        } else if (!mc_number(*val == '+' ? val + 1 : val, &v)) {
            return mc_fail(p, "invalid MessageId '%s'", val);
        } else {
            st->msgid = *val == '+' ? (st->any_message ? st->msgid : 0) + v : v;
        }
        if (st->msgid > 0xFFFF)
            return mc_fail(p, "MessageId 0x%X does not fit in 16 bits", st->msgid);
        st->have_message = st->any_message = true;
        st->have_text = false;
        st->symbol[0] = 0;
        return 0;
    }
    if (!strcasecmp(key, "Severity"))
        return mc_lookup(&p->severities, val, &st->severity) ? 0 : mc_fail(p, "unknown Severity '%s'", val);
    if (!strcasecmp(key, "Facility"))
        return mc_lookup(&p->facilities, val, &st->facility) ? 0 : mc_fail(p, "unknown Facility '%s'", val);
    if (!strcasecmp(key, "SymbolicName")) {
        snprintf(st->symbol, sizeof(st->symbol), "%s", val);
        return 0;
    }
    if (!strcasecmp(key, "Language")) {
        if (!st->have_message)
            return mc_fail(p, "Language=%s before any MessageId", val);
        uint32_t id = (st->severity << MC_SEVERITY_SHIFT) | (st->facility << MC_FACILITY_SHIFT) | st->msgid;
        for (size_t i = 0; !st->have_text && i < p->out.count; i++)
            if (p->out.msgs[i].id == id)
                return mc_fail(p, "message id 0x%08X is defined twice", id);
        char *text = NULL;
        int rc = mc_read_text(p, &text);
        if (rc)
            return rc;
        /* English is what the event log shows; another language is kept only while
         * the message has no English text. */
        if (!st->have_text) {
            st->have_text = true;
            return mc_add(p, id, st->symbol, text);
        }
        if (!strcasecmp(val, MC_DEFAULT_LANGUAGE)) {
            elf_mc_message *m = &p->out.msgs[p->out.count - 1];
            free(m->text);
            m->text = text;
        } else {
            free(text);
        }
        return 0;
    }
    return mc_fail(p, "unknown keyword '%s'", key);
}

/* Lines hold one or more Keyword=Value pairs; a name list or Language= ends a line. */
static int mc_parse_all(mc_parser *p)
{
    /* mc's predefined names. */
    static const mc_name sev[] = { { "Success", 0 }, { "Informational", 1 }, { "Warning", 2 }, { "Error", 3 } };
    static const mc_name fac[] = { { "System", 0xFF }, { "Application", 0xFFF } };
    memcpy(p->severities.items, sev, sizeof(sev));
    p->severities.count = 4;
    memcpy(p->facilities.items, fac, sizeof(fac));
    p->facilities.count = 2;

    mc_state st = { 0 };
    char *line;
    while ((line = mc_next_line(p))) {
        char *s = mc_trim(line);
        if (*s == ';')
            continue;
        while (*s) {
            char *eq = strchr(s, '=');
            if (!eq)
                return mc_fail(p, "expected Keyword=Value, found '%s'", s);
            *eq = 0;
            char *key = mc_trim(s), *v = eq + 1;
            while (isspace((unsigned char)*v))
                v++;
            mc_names *list = !strcasecmp(key, "SeverityNames")   ? &p->severities
                             : !strcasecmp(key, "FacilityNames") ? &p->facilities
                                                                 : NULL;
            if (list || !strcasecmp(key, "LanguageNames")) {
                mc_names languages = { .count = 0 };
                int rc = mc_parse_names(p, v, list ? list : &languages, key);
                if (rc)
                    return rc;
                break;
            }
            /* The value is the next word, or empty when that word is the next pair. */
            char *end = v;
            while (*end && !isspace((unsigned char)*end))
                end++;
            char *val = v;
            if (memchr(v, '=', (size_t)(end - v))) {
                val = "";
                s = v;
            } else {
                s = end;
                if (*s)
                    *s++ = 0;
                while (isspace((unsigned char)*s))
                    s++;
            }
            bool language = !strcasecmp(key, "Language");
            int rc = mc_keyword(p, &st, key, val);
            if (rc)
                return rc;
            if (language)
                break;
        }
    }
    return 0;
}

void elf_mc_free(elf_mc_file *f)
{
    for (size_t i = 0; i < f->count; i++) {
        free(f->msgs[i].symbol);
        free(f->msgs[i].text);
    }
    free(f->msgs);
    f->msgs = NULL;
    f->count = 0;
}

int elf_mc_parse(const char *name, const void *data, size_t size, elf_mc_file *out, char *err, size_t errlen)
{
    mc_parser p = { .file = name, .err = err, .errlen = errlen };
    const uint8_t *d = data;
    /* The contract: a refused file leaves *out empty, so a caller may always free it. */
    *out = (elf_mc_file){ 0 };
    if (size >= 2 && d[0] == 0xFF && d[1] == 0xFE) {
        uint32_t n = (uint32_t)((size - 2) / 2);
        uint16_t *w = malloc((n ? n : 1) * sizeof(uint16_t));
        if (!w)
            return -ENOMEM;
        for (uint32_t i = 0; i < n; i++)
            w[i] = (uint16_t)(d[2 + 2 * i] | d[3 + 2 * i] << 8);
        p.text = cm_utf16_to_utf8(w, n);
        free(w);
    } else {
        if (size >= 3 && d[0] == 0xEF && d[1] == 0xBB && d[2] == 0xBF) {
            d += 3;
            size -= 3;
        }
        p.text = malloc(size + 1);
        if (p.text) {
            memcpy(p.text, d, size);
            p.text[size] = 0;
        }
    }
    if (!p.text)
        return -ENOMEM;
    p.cursor = p.text;
    int rc = mc_parse_all(&p);
    free(p.text);
    if (rc) {
        elf_mc_free(&p.out);
        if (rc == -ENOMEM)
            mc_fail(&p, "out of memory");
        return rc;
    }
    *out = p.out;
    return 0;
}

int elf_mc_load(const char *path, elf_mc_file *out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (err && errlen)
            snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -ENOENT;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *grown = realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf)
        return -ENOMEM;
    int rc = elf_mc_parse(path, buf, n, out, err, errlen);
    free(buf);
    return rc;
}

const elf_mc_message *elf_mc_find(const elf_mc_file *f, uint32_t id)
{
    for (size_t i = 0; i < f->count; i++)
        if (f->msgs[i].id == id)
            return &f->msgs[i];
    for (size_t i = 0; i < f->count; i++)
        if ((f->msgs[i].id & ~MC_CUSTOMER_BIT) == (id & ~MC_CUSTOMER_BIT))
            return &f->msgs[i];
    return NULL;
}

typedef struct {
    char *s;
    size_t len, cap;
    bool failed;
} mc_buf;

static void mc_put(mc_buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *grown = realloc(b->s, cap);
        if (!grown) {
            b->failed = true;
            return;
        }
        b->s = grown;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

char *elf_mc_format(const char *text, const char *const *args, size_t nargs)
{
    mc_buf b = { 0 };
    mc_put(&b, "", 0);
    for (const char *t = text; *t;) {
        if (*t != '%') {
            size_t run = strcspn(t, "%");
            mc_put(&b, t, run);
            t += run;
            continue;
        }
        char c = t[1];
        if (c >= '1' && c <= '9') {
            const char *start = t;
            unsigned n = (unsigned)(c - '0');
            t += 2;
            if (*t >= '0' && *t <= '9' && n * 10 + (unsigned)(*t - '0') <= MC_MAX_ARGS)
                n = n * 10 + (unsigned)(*t++ - '0');
            if (*t == '!') {                       /* %N!printf-format! */
                const char *close = strchr(t + 1, '!');
                if (close)
                    t = close + 1;
            }
            if (n <= nargs && args[n - 1])
                mc_put(&b, args[n - 1], strlen(args[n - 1]));
            else
                mc_put(&b, start, (size_t)(t - start));
            continue;
        }
        switch (c) {
        case '0':                   /* the message ends here, without its line's newline */
            goto done;
        case 'n': mc_put(&b, "\n", 1); break;
        case 't': mc_put(&b, "\t", 1); break;
        case 'r': mc_put(&b, "\r", 1); break;
        case '%': case '.': case '!': mc_put(&b, &c, 1); break;
        case '\0': mc_put(&b, "%", 1); t++; continue;
        default: mc_put(&b, t, 2); break;
        }
        t += 2;
    }
done:
    if (b.failed) {
        free(b.s);
        return NULL;
    }
    return b.s;
}
