/*
 * tests/windows_pe/test_regfile.c — the .reg reader behind donginst.exe (and the
 * INF check), run on this host: the project's own .reg files, and the corners of
 * regedit's format it must get right or refuse with a line number; then the
 * installer's choices: which settings CreateService gets, which keys it writes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "regfile.h"
#include "svcreg.h"

#define MAX_SEEN 32

typedef struct seen {
    unsigned count;
    struct {
        char key[256];
        char name[64];
        unsigned type;
        uint8_t data[256];
        size_t size;
        unsigned line;
    } v[MAX_SEEN];
} seen;

static int collect(const regf_value *v, void *ctx)
{
    seen *s = ctx;
    assert_true(s->count < MAX_SEEN);
    snprintf(s->v[s->count].key, sizeof s->v[0].key, "%s", v->key);
    snprintf(s->v[s->count].name, sizeof s->v[0].name, "%s", v->name);
    s->v[s->count].type = v->type;
    assert_true(v->size <= sizeof s->v[0].data);
    memcpy(s->v[s->count].data, v->data, v->size);
    s->v[s->count].size = v->size;
    s->v[s->count].line = v->line;
    s->count++;
    return 0;
}

static int parse(const char *text, seen *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    return regf_parse(text, strlen(text), collect, s, err, errlen);
}

/* find — the value name of key (suffix match), or fail. */
static int find(const seen *s, const char *key_suffix, const char *name)
{
    for (unsigned i = 0; i < s->count; i++) {
        size_t kl = strlen(s->v[i].key), sl = strlen(key_suffix);
        if (kl >= sl && strcmp(s->v[i].key + kl - sl, key_suffix) == 0 && strcmp(s->v[i].name, name) == 0)
            return (int)i;
    }
    fail_msg("no value %s in a key ending %s", name, key_suffix);
    return -1;
}

static unsigned long dword(const seen *s, int i)
{
    assert_int_equal(s->v[i].type, REGF_DWORD);
    assert_int_equal(s->v[i].size, 4);
    const uint8_t *d = s->v[i].data;
    return d[0] | (unsigned long)d[1] << 8 | (unsigned long)d[2] << 16 | (unsigned long)d[3] << 24;
}

/* utf16_equals — registry string data (UTF-16LE, NUL-terminated) against ASCII. */
static void assert_utf16(const seen *s, int i, const char *want)
{
    size_t n = strlen(want);
    assert_int_equal(s->v[i].size, 2 * (n + 1));
    for (size_t k = 0; k <= n; k++) {
        assert_int_equal(s->v[i].data[2 * k], (uint8_t)want[k]);
        assert_int_equal(s->v[i].data[2 * k + 1], 0);
    }
}

/* test_donglpt_reg — the service settings the INF and donginst take from it. */
static void test_donglpt_reg(void **state)
{
    seen s;
    char err[256];
    (void)state;

    memset(&s, 0, sizeof s);
    if (regf_parse_file(getenv("DONG_REG_FILE"), collect, &s, err, sizeof err))
        fail_msg("%s", err);
    assert_int_equal(dword(&s, find(&s, "\\Services\\DongLpt", "Type")), 1);
    assert_int_equal(dword(&s, find(&s, "\\Services\\DongLpt", "ErrorControl")), 1);
    int group = find(&s, "\\Services\\DongLpt", "Group");
    assert_int_equal(s.v[group].type, REGF_SZ);
    assert_utf16(&s, group, "Extended Base");
    int image = find(&s, "\\Services\\DongLpt", "ImagePath");
    assert_int_equal(s.v[image].type, REGF_EXPAND_SZ);
    assert_utf16(&s, image, "System32\\drivers\\donglpt.sys");
    dword(&s, find(&s, "\\Services\\DongLpt\\Parameters", "AllocatePerOpen"));
    dword(&s, find(&s, "\\Services\\DongLpt\\Parameters", "ErrorLogLevel"));
}

static void test_parport_reg(void **state)
{
    seen s;
    char err[256];
    (void)state;

    memset(&s, 0, sizeof s);
    if (regf_parse_file(getenv("DONG_PARPORT_REG_FILE"), collect, &s, err, sizeof err))
        fail_msg("%s", err);
    int group = find(&s, "\\Services\\Parport", "Group");
    assert_utf16(&s, group, "Parallel arbitrator");
    assert_utf16(&s, find(&s, "\\Services\\Parport", "ImagePath"), "System32\\drivers\\parport.sys");
}

/* test_format_corners — escapes, continuation lines, @, hex, CRLF, comments. */
static void test_format_corners(void **state)
{
    static const char text[] =
        "Windows Registry Editor Version 5.00\r\n"
        "\r\n"
        "; comment\r\n"
        "[HKEY_LOCAL_MACHINE\\A\\B]\r\n"
        "@=\"default\"\r\n"
        "\"Quote\\\"d\"=\"a\\\\b \\\"c\\\"\"\r\n"
        "\"Bin\"=hex:01,02,\\\r\n"
        "   03,ff\r\n"
        "\"Multi\"=hex(7):61,00,00,00,62,00,00,00,00,00\r\n"
        "\"D\"=dword:DEADbeef\r\n";
    seen s;
    char err[256];
    (void)state;

    assert_int_equal(parse(text, &s, err, sizeof err), 0);
    assert_int_equal(s.count, 5);
    assert_string_equal(s.v[0].key, "HKEY_LOCAL_MACHINE\\A\\B");
    assert_string_equal(s.v[0].name, "");
    assert_utf16(&s, 0, "default");
    assert_string_equal(s.v[1].name, "Quote\"d");
    assert_utf16(&s, 1, "a\\b \"c\"");
    assert_int_equal(s.v[2].type, REGF_BINARY);
    assert_int_equal(s.v[2].size, 4);
    assert_memory_equal(s.v[2].data, "\x01\x02\x03\xff", 4);
    assert_int_equal(s.v[2].line, 7);
    assert_int_equal(s.v[3].type, REGF_MULTI_SZ);
    assert_int_equal(s.v[3].size, 10);
    assert_int_equal(dword(&s, 4), 0xDEADBEEFul);
    assert_int_equal(s.v[4].line, 10);
}

/* test_utf16_file — regedit exports UTF-16LE with a byte order mark. */
static void test_utf16_file(void **state)
{
    static const char ascii[] = "Windows Registry Editor Version 5.00\n[HKEY_LOCAL_MACHINE\\K]\n\"N\"=dword:00000007\n";
    uint8_t wide[2 + 2 * sizeof ascii];
    seen s;
    char err[256];
    (void)state;

    wide[0] = 0xFF;
    wide[1] = 0xFE;
    for (size_t i = 0; i < sizeof ascii - 1; i++) {
        wide[2 + 2 * i] = (uint8_t)ascii[i];
        wide[3 + 2 * i] = 0;
    }
    memset(&s, 0, sizeof s);
    assert_int_equal(regf_parse(wide, 2 + 2 * (sizeof ascii - 1), collect, &s, err, sizeof err), 0);
    assert_int_equal(s.count, 1);
    assert_string_equal(s.v[0].key, "HKEY_LOCAL_MACHINE\\K");
    assert_int_equal(dword(&s, 0), 7);
}

/* test_regedit4 — 8-bit hex(2) data of the old format arrives as UTF-16. */
static void test_regedit4(void **state)
{
    seen s;
    char err[256];
    (void)state;

    assert_int_equal(parse("REGEDIT4\n[HKEY_LOCAL_MACHINE\\K]\n\"P\"=hex(2):61,62,00\n", &s, err, sizeof err), 0);
    assert_int_equal(s.v[0].type, REGF_EXPAND_SZ);
    assert_utf16(&s, 0, "ab");
}

/* test_refusals — what an installer must not guess at, with the line it is on. */
static void test_refusals(void **state)
{
    static const struct {
        const char *text;
        const char *err;
    } cases[] = {
        { "[HKEY_LOCAL_MACHINE\\K]\n", "line 1: not a .reg file" },
        { "REGEDIT4\n\"N\"=dword:00000001\n", "line 2: value outside any [key]" },
        { "REGEDIT4\n[-HKEY_LOCAL_MACHINE\\K]\n", "line 2: key deletion is not supported" },
        { "REGEDIT4\n[HKEY_LOCAL_MACHINE\\K]\n\"N\"=-\n", "line 3: value deletion is not supported" },
        { "REGEDIT4\n[HKEY_LOCAL_MACHINE\\K]\n\"N\"=dword:123\n", "line 3: dword wants 8 hex digits" },
        { "REGEDIT4\n[HKEY_LOCAL_MACHINE\\K]\n\"N\"=hex:1,2\n", "line 3: bad hex byte" },
        { "REGEDIT4\n[HKEY_LOCAL_MACHINE\\K]\n\"N=\"x\"\n", "line 3: expected '=' after the value name" },
        { "REGEDIT4\n[HKEY_LOCAL_MACHINE\\K]\n\"N\"=\"open\n", "line 3: unterminated string" },
        { "", "line 1: empty file" },
    };
    (void)state;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        seen s;
        char err[256] = "";
        assert_int_equal(parse(cases[i].text, &s, err, sizeof err), -1);
        if (strncmp(err, cases[i].err, strlen(cases[i].err)) != 0)
            fail_msg("case %zu: got '%s', want '%s'", i, err, cases[i].err);
    }
}

static int stop_at_second(const regf_value *v, void *ctx)
{
    (void)v;
    return ++*(int *)ctx == 2 ? 42 : 0;
}

/* test_callback_stops — a callback's nonzero return ends the parse with that value. */
static void test_callback_stops(void **state)
{
    static const char text[] = "REGEDIT4\n[HKEY_LOCAL_MACHINE\\K]\n\"A\"=\"1\"\n\"B\"=\"2\"\n\"C\"=\"3\"\n";
    int calls = 0;
    char err[64];
    (void)state;

    assert_int_equal(regf_parse(text, strlen(text), stop_at_second, &calls, err, sizeof err), 42);
    assert_int_equal(calls, 2);
}

static void assert_text16(const uint16_t *got, const char *want)
{
    size_t i = 0;
    for (; want[i]; i++)
        assert_int_equal(got[i], (uint8_t)want[i]);
    assert_int_equal(got[i], 0);
}

/* test_service_settings — what donginst passes to CreateService, from donglpt.reg. */
static void test_service_settings(void **state)
{
    svc_reg s;
    char err[256];
    (void)state;

    if (svc_reg_read(getenv("DONG_REG_FILE"), "DongLpt", &s, err, sizeof err))
        fail_msg("%s", err);
    assert_int_equal(s.type, 1);
    assert_true(s.start <= 4);
    assert_int_equal(s.error_control, 1);
    assert_text16(s.group, "Extended Base");
    assert_text16(s.image, "System32\\drivers\\donglpt.sys");
    /* The service name is matched whole, case-insensitively. */
    assert_int_equal(svc_reg_read(getenv("DONG_REG_FILE"), "dongLPT", &s, err, sizeof err), 0);
    assert_int_equal(svc_reg_read(getenv("DONG_REG_FILE"), "Dong", &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "needs Type, Start and ErrorControl"));
}

static int write_temp_reg(const char *text, char *path, size_t len)
{
    snprintf(path, len, "/tmp/svcreg-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return 0;
}

/* test_service_refusals — a .reg that does not describe a kernel driver is refused. */
static void test_service_refusals(void **state)
{
    static const struct {
        const char *text;
        const char *err;
    } cases[] = {
        { "REGEDIT4\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\X]\n"
          "\"Type\"=dword:00000010\n\"Start\"=dword:00000003\n\"ErrorControl\"=dword:00000001\n",
          "Type is 16; the service must be a kernel driver (1)" },
        { "REGEDIT4\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\X]\n"
          "\"Type\"=dword:00000001\n\"Start\"=\"3\"\n\"ErrorControl\"=dword:00000001\n",
          "needs Type, Start and ErrorControl DWORDs" },
        { "REGEDIT4\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\X\\Parameters]\n"
          "\"Type\"=dword:00000001\n\"Start\"=dword:00000003\n\"ErrorControl\"=dword:00000001\n",
          "needs Type, Start and ErrorControl DWORDs" },
    };
    (void)state;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[64], err[512];
        svc_reg s;
        write_temp_reg(cases[i].text, path, sizeof path);
        assert_int_equal(svc_reg_read(path, "X", &s, err, sizeof err), -1);
        unlink(path);
        if (!strstr(err, cases[i].err))
            fail_msg("case %zu: '%s'", i, err);
    }
}

/* test_parameter_keys — donginst writes the Parameters subtree and nothing else. */
static void test_parameter_keys(void **state)
{
    static const char *const svc = "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\DongLpt";
    char key[256];
    (void)state;

    snprintf(key, sizeof key, "%s\\Parameters", svc);
    assert_string_equal(svc_reg_parameter_subkey(key, "DongLpt"),
                        "SYSTEM\\CurrentControlSet\\Services\\DongLpt\\Parameters");
    snprintf(key, sizeof key, "%s\\parameters\\Port0", svc);
    assert_string_equal(svc_reg_parameter_subkey(key, "DONGLPT"),
                        "SYSTEM\\CurrentControlSet\\Services\\DongLpt\\parameters\\Port0");
    assert_null(svc_reg_parameter_subkey(svc, "DongLpt"));
    snprintf(key, sizeof key, "%s\\ParametersOld", svc);
    assert_null(svc_reg_parameter_subkey(key, "DongLpt"));
    assert_null(svc_reg_parameter_subkey(
        "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\DongLptX\\Parameters", "DongLpt"));
    assert_null(svc_reg_parameter_subkey(
        "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\EventLog\\System\\DongLpt", "DongLpt"));
    assert_null(svc_reg_parameter_subkey(
        "HKEY_CURRENT_USER\\SYSTEM\\CurrentControlSet\\Services\\DongLpt\\Parameters", "DongLpt"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_donglpt_reg),
        cmocka_unit_test(test_parport_reg),
        cmocka_unit_test(test_format_corners),
        cmocka_unit_test(test_utf16_file),
        cmocka_unit_test(test_regedit4),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_callback_stops),
        cmocka_unit_test(test_service_settings),
        cmocka_unit_test(test_service_refusals),
        cmocka_unit_test(test_parameter_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
