/*
 * tools/output.c — how dongctl talks to its user: error messages, the JSON writer
 * behind --json, hex dumps, the progress bar, and the numbers it reads back.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dongctl.h"

bool g_json;

/* JSON nesting: whether the current container already holds a value (comma needed)
   and whether it is an array (keys ignored). dongctl's documents nest 3 deep. */
#define JS_MAX_DEPTH 16
static struct {
    bool has_value;
    bool is_array;
} js_stack[JS_MAX_DEPTH];
static int js_depth;

/* js_escaped — write s as a JSON string literal. */
static void js_escaped(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", stdout); break;
        case '\\': fputs("\\\\", stdout); break;
        case '\n': fputs("\\n", stdout); break;
        case '\r': fputs("\\r", stdout); break;
        case '\t': fputs("\\t", stdout); break;
        default:
            if (*p < 0x20)
                printf("\\u%04x", *p);
            else
                putchar(*p);
        }
    }
    putchar('"');
}

/* js_member — the comma and "key": that come before any value. */
static void js_member(const char *key)
{
    if (js_depth > 0 && js_depth <= JS_MAX_DEPTH) {
        if (js_stack[js_depth - 1].has_value)
            putchar(',');
        js_stack[js_depth - 1].has_value = true;
        if (!js_stack[js_depth - 1].is_array && key) {
            js_escaped(key);
            putchar(':');
        }
    }
}

static void js_push(bool is_array)
{
    if (js_depth < JS_MAX_DEPTH) {
        js_stack[js_depth].has_value = false;
        js_stack[js_depth].is_array = is_array;
    }
    js_depth++;
}

void js_begin_obj(const char *key) { js_member(key); putchar('{'); js_push(false); }
void js_end_obj(void) { js_depth--; putchar('}'); }
void js_begin_arr(const char *key) { js_member(key); putchar('['); js_push(true); }
void js_end_arr(void) { js_depth--; putchar(']'); }
void js_str(const char *key, const char *value) { js_member(key); js_escaped(value); }
void js_uint(const char *key, unsigned long long v) { js_member(key); printf("%llu", v); }
void js_int(const char *key, long long v) { js_member(key); printf("%lld", v); }
void js_bool(const char *key, bool v) { js_member(key); fputs(v ? "true" : "false", stdout); }
void js_done(void) { putchar('\n'); fflush(stdout); }

void js_hex(const char *key, const uint8_t *bytes, size_t len)
{
    js_member(key);
    putchar('"');
    for (size_t i = 0; i < len; i++)
        printf("%02x", bytes[i]);
    putchar('"');
}

/*
 * fail — report an error the way the user asked for output. The text always goes to
 * stderr; with --json the same message also goes to stdout as {"error":...} so a
 * script reading stdout never sees an empty document.
 */
int dong_fail(int code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fflush(stdout);
    fprintf(stderr, "dongctl: %s\n", msg);
    if (g_json) {
        js_depth = 0;
        js_begin_obj(NULL);
        js_begin_obj("error");
        js_str("message", msg);
        js_int("exit", code);
        js_end_obj();
        js_end_obj();
        js_done();
    }
    return code;
}

/* parse_uint — the numbers of a command line: decimal or 0x hex, nothing else. */
bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;

    if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
        return false;
    unsigned long long v = strtoull(s, &end, 0);
    if (*end || v > max)
        return false;
    *out = (unsigned long)v;
    return true;
}

/*
 * hexdump — address, 16 bytes in hex with a gap after 8, then the printable ASCII;
 * the address is the key's memory address, not an offset into the buffer.
 */
void hexdump(FILE *f, unsigned base, const uint8_t *data, size_t len)
{
    for (size_t line = 0; line < len; line += 16) {
        fprintf(f, "%04zx  ", base + line);
        for (size_t i = 0; i < 16; i++) {
            if (line + i < len)
                fprintf(f, "%02x ", data[line + i]);
            else
                fputs("   ", f);
            if (i == 7)
                fputc(' ', f);
        }
        fputs(" |", f);
        for (size_t i = 0; i < 16 && line + i < len; i++) {
            uint8_t c = data[line + i];
            fputc(c >= 0x20 && c < 0x7F ? c : '.', f);
        }
        fputs("|\n", f);
    }
}

/* Progress bar state: shown only on a terminal, so pipes and logs stay clean. */
static struct {
    bool active;
    const char *what;
    size_t total;
} progress;

#define PROGRESS_WIDTH 40

void progress_begin(const char *what, size_t total)
{
    progress.active = total > 0 && isatty(fileno(stderr));
    progress.what = what;
    progress.total = total;
    progress_update(0);
}

void progress_update(size_t done)
{
    if (!progress.active)
        return;
    size_t filled = done * PROGRESS_WIDTH / progress.total;
    char bar[PROGRESS_WIDTH + 1];
    memset(bar, '#', filled);
    memset(bar + filled, '.', PROGRESS_WIDTH - filled);
    bar[PROGRESS_WIDTH] = 0;
    fprintf(stderr, "\r%s [%s] %zu/%zu bytes", progress.what, bar, done, progress.total);
    fflush(stderr);
}

void progress_end(void)
{
    if (progress.active)
        fputc('\n', stderr);
    progress.active = false;
}
