/*
 * test_cm_regfile.c — .reg import/export: every value type in both formats and all
 * three encodings, deletion forms, continuation lines, the export/import round trip,
 * and one test per malformed-file diagnosis (file, line, problem; nothing applied).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cm_internal.h"
#include "nthost/nthost.h"

#define V5 "Windows Registry Editor Version 5.00\r\n\r\n"

static char err[512];

/* Assert success and show the import/export diagnosis when it fails. */
#define assert_ok(expr)                                                   \
    do {                                                                  \
        int rc_ = (expr);                                                 \
        if (rc_ != 0)                                                     \
            fail_msg("%s returned %d: %s", #expr, rc_, err);              \
    } while (0)

static int setup(void **state)
{
    (void)state;
    cm_init();
    err[0] = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cm_shutdown();
    return 0;
}

/* UTF-8 text to UTF-16LE bytes with a BOM, the way regedit writes version 5 files. */
static uint8_t *to_utf16_file(const char *text, size_t *size)
{
    uint32_t len;
    uint16_t *w = cm_utf8_to_utf16(text, &len);
    assert_non_null(w);
    uint8_t *out = malloc(2 + (size_t)len * 2);
    out[0] = 0xFF;
    out[1] = 0xFE;
    for (uint32_t i = 0; i < len; i++) {
        out[2 + 2 * i] = (uint8_t)w[i];
        out[3 + 2 * i] = (uint8_t)(w[i] >> 8);
    }
    free(w);
    *size = 2 + (size_t)len * 2;
    return out;
}

static int import_text(const char *text)
{
    return cm_import_reg_buffer("test.reg", text, strlen(text), err, sizeof(err));
}

/* The value at a path below \Registry\Machine, or NULL when key or value is absent. */
static const cm_value *value_at(const char *key_path, const char *name)
{
    uint32_t plen, nlen;
    uint16_t *path = cm_utf8_to_utf16(key_path, &plen);
    uint16_t *wname = cm_utf8_to_utf16(name, &nlen);
    cm_key *key;
    const cm_value *v = NULL;
    if (!cm_lookup(cm_machine(), path, plen, &key))
        v = cm_find_value(key, wname, nlen);
    free(path);
    free(wname);
    return v;
}

static bool key_exists(const char *key_path)
{
    uint32_t plen;
    uint16_t *path = cm_utf8_to_utf16(key_path, &plen);
    cm_key *key;
    bool found = cm_lookup(cm_machine(), path, plen, &key) == 0;
    free(path);
    return found;
}

/* Assert a value's type and exact bytes. */
static void check_value(const char *key, const char *name, uint32_t type, const void *data, uint32_t size)
{
    const cm_value *v = value_at(key, name);
    assert_non_null(v);
    assert_int_equal(v->type, type);
    assert_int_equal(v->size, size);
    assert_memory_equal(v->data, data, size);
}

static const char all_types_body[] =
    "; services key written by hand\r\n"
    "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\Dong]\r\n"
    "\"Type\"=dword:00000001\r\n"
    "\"Start\"=dword:3\r\n"
    "@=\"default text\"\r\n"
    "\"Str\"=\"a \\\"quoted\\\" C:\\\\path\"\r\n"
    "\"Bin\"=hex:00,01,ff,\\\r\n"
    "  7f,80\r\n"
    "\"None\"=hex(0):\r\n"
    "\"Qword\"=hex(b):01,02,03,04,05,06,07,08\r\n"
    "\"BigEndian\"=hex(5):00,00,00,01\r\n"
    "\"Gone\"=\"x\"\r\n"
    "\"Gone\"=-\r\n"
    "\r\n"
    "[hklm\\Software\\Doomed\\Child]\r\n"
    "\"v\"=dword:1\r\n"
    "[-HKEY_LOCAL_MACHINE\\SOFTWARE\\doomed]\r\n"
    "\"ignored\"=\"under a deleted key\"\r\n"
    "[hkey_local_machine\\system\\currentcontrolset\\services\\DONG]\r\n"
    "\"Späte\"=\"€\"\r\n";

/* The checks shared by every encoding of all_types_body. */
static void expect_all_types(void)
{
    const char *k = "SYSTEM\\CurrentControlSet\\Services\\Dong";
    static const uint8_t one[] = { 1, 0, 0, 0 }, three[] = { 3, 0, 0, 0 };
    check_value(k, "Type", CM_REG_DWORD, one, 4);
    check_value(k, "start", CM_REG_DWORD, three, 4);
    static const uint8_t dflt[] = "d\0e\0f\0a\0u\0l\0t\0 \0t\0e\0x\0t\0\0";
    check_value(k, "", CM_REG_SZ, dflt, sizeof(dflt));
    static const uint8_t str[] = "a\0 \0\"\0q\0u\0o\0t\0e\0d\0\"\0 \0C\0:\0\\\0p\0a\0t\0h\0\0";
    check_value(k, "Str", CM_REG_SZ, str, sizeof(str));
    static const uint8_t bin[] = { 0, 1, 0xff, 0x7f, 0x80 };
    check_value(k, "Bin", CM_REG_BINARY, bin, 5);
    check_value(k, "None", CM_REG_NONE, "", 0);
    static const uint8_t q[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    check_value(k, "Qword", CM_REG_QWORD, q, 8);
    static const uint8_t be[] = { 0, 0, 0, 1 };
    check_value(k, "BigEndian", CM_REG_DWORD_BIG_ENDIAN, be, 4);
    assert_null(value_at(k, "Gone"));
    assert_false(key_exists("SOFTWARE\\Doomed"));
    assert_true(key_exists("SOFTWARE"));
    static const uint8_t euro[] = { 0xAC, 0x20, 0, 0 };
    check_value(k, "SPÄTE", CM_REG_SZ, euro, 4);     /* case-insensitive beyond ASCII */
}

/* v5 string types in hex form carry UTF-16LE bytes. */
static const char v5_hex_strings[] =
    "[HKEY_LOCAL_MACHINE\\Strings]\r\n"
    "\"Expand\"=hex(2):25,00,53,00,79,00,73,00,25,00,00,00\r\n"
    "\"Multi\"=hex(7):61,00,00,00,62,00,63,00,00,00,00,00\r\n"
    "\"Sz\"=hex(1):68,00,69,00,00,00\r\n";

static void expect_v5_hex_strings(void)
{
    static const uint8_t expand[] = "%\0S\0y\0s\0%\0\0";
    check_value("Strings", "Expand", CM_REG_EXPAND_SZ, expand, sizeof(expand));
    static const uint8_t multi[] = "a\0\0\0b\0c\0\0\0\0";
    check_value("Strings", "Multi", CM_REG_MULTI_SZ, multi, sizeof(multi));
    static const uint8_t sz[] = "h\0i\0\0";
    check_value("Strings", "Sz", CM_REG_SZ, sz, sizeof(sz));
}

static void import_v5_utf16_bom(void **state)
{
    (void)state;
    char text[4096];
    snprintf(text, sizeof(text), "%s%s%s", V5, all_types_body, v5_hex_strings);
    size_t size;
    uint8_t *file = to_utf16_file(text, &size);
    assert_ok(cm_import_reg_buffer("test.reg", file, size, err, sizeof(err)));
    free(file);
    expect_all_types();
    expect_v5_hex_strings();
}

static void import_v5_utf8(void **state)
{
    (void)state;
    char text[4096];
    snprintf(text, sizeof(text), "%s%s%s", V5, all_types_body, v5_hex_strings);
    assert_ok(import_text(text));
    expect_all_types();
    expect_v5_hex_strings();
    /* the same file with a UTF-8 BOM and LF line ends */
    cm_shutdown();
    cm_init();
    char lf[4096];
    size_t o = 0;
    lf[o++] = (char)0xEF, lf[o++] = (char)0xBB, lf[o++] = (char)0xBF;
    for (const char *s = text; *s; s++)
        if (*s != '\r')
            lf[o++] = *s;
    lf[o] = 0;
    assert_ok(import_text(lf));
    expect_all_types();
    expect_v5_hex_strings();
}

/* REGEDIT4 files are ANSI (Windows-1252); hex string data is ANSI bytes, widened. */
static void import_regedit4_ansi(void **state)
{
    (void)state;
    static const char text[] =
        "REGEDIT4\r\n\r\n"
        "[HKEY_LOCAL_MACHINE\\Ansi]\r\n"
        "\"Euro\"=\"\x80 \xe4\"\r\n"
        "\"Expand\"=hex(2):25,53,79,73,25,00\r\n"
        "\"Multi\"=hex(7):61,00,62,63,00,00\r\n"
        "\"Bin\"=hex:80,00\r\n"
        "\"D\"=dword:ffffffff\r\n";
    assert_ok(import_text(text));
    static const uint8_t euro[] = { 0xAC, 0x20, ' ', 0, 0xE4, 0, 0, 0 };
    check_value("Ansi", "Euro", CM_REG_SZ, euro, sizeof(euro));
    static const uint8_t expand[] = "%\0S\0y\0s\0%\0\0";
    check_value("Ansi", "Expand", CM_REG_EXPAND_SZ, expand, sizeof(expand));
    static const uint8_t multi[] = "a\0\0\0b\0c\0\0\0\0";
    check_value("Ansi", "Multi", CM_REG_MULTI_SZ, multi, sizeof(multi));
    static const uint8_t bin[] = { 0x80, 0 };            /* binary stays as written */
    check_value("Ansi", "Bin", CM_REG_BINARY, bin, 2);
    static const uint8_t d[] = { 0xff, 0xff, 0xff, 0xff };
    check_value("Ansi", "D", CM_REG_DWORD, d, 4);
}

/* Fill the registry with every type and awkward data, export, reimport, compare. */
static void roundtrip_all_types(void **state)
{
    (void)state;
    char text[8192];
    int n = snprintf(text, sizeof(text), "%s%s%s", V5, all_types_body, v5_hex_strings);
    n += snprintf(text + n, sizeof(text) - (size_t)n,
                  "[HKEY_LOCAL_MACHINE\\Odd]\r\n"
                  "\"SzNoNul\"=hex(1):41,00\r\n"          /* REG_SZ without its terminator */
                  "\"SzCrLf\"=hex(1):41,00,0d,00,0a,00,00,00\r\n"
                  "\"DwordShort\"=hex(4):01,02\r\n"
                  "\"Link\"=hex(6):5c,00\r\n"
                  "\"Res\"=hex(8):01\r\n\"Res9\"=hex(9):02\r\n\"ResA\"=hex(a):03\r\n"
                  "\"Custom\"=hex(12345):04\r\n"
                  "\"quote\\\"back\\\\\"=\"\"\r\n"
                  "\"Long\"=hex:");
    for (int i = 0; i < 300; i++)
        n += snprintf(text + n, sizeof(text) - (size_t)n, "%02x%s", i & 0xff, i < 299 ? "," : "\r\n");
    snprintf(text + n, sizeof(text) - (size_t)n, "[HKEY_LOCAL_MACHINE\\Odd\\Empty\\Deeper]\r\n");
    assert_ok(import_text(text));

    uint8_t *first, *second;
    size_t first_size, second_size;
    assert_ok(cm_export_reg_buffer("", &first, &first_size, err, sizeof(err)));
    /* The export is what regedit writes: UTF-16LE with a BOM, v5 header, CRLF. */
    assert_true(first_size > 4 && first[0] == 0xFF && first[1] == 0xFE);
    static const char header[] = "Windows Registry Editor Version 5.00\r\n";
    for (size_t i = 0; i < strlen(header); i++) {
        assert_int_equal(first[2 + 2 * i], (uint8_t)header[i]);
        assert_int_equal(first[3 + 2 * i], 0);
    }
    /* No exported line is longer than 80 columns (hex lists are wrapped). */
    size_t col = 0;
    for (size_t i = 2; i < first_size; i += 2) {
        if (first[i] == '\n' && first[i + 1] == 0)
            col = 0;
        else
            assert_true(++col <= 81);     /* 80 characters plus the CR */
    }

    cm_shutdown();
    cm_init();
    assert_ok(cm_import_reg_buffer("export.reg", first, first_size, err, sizeof(err)));
    expect_all_types();
    expect_v5_hex_strings();
    static const uint8_t sznonul[] = { 'A', 0 };
    check_value("Odd", "SzNoNul", CM_REG_SZ, sznonul, 2);
    static const uint8_t short_dword[] = { 1, 2 };
    check_value("Odd", "DwordShort", CM_REG_DWORD, short_dword, 2);
    check_value("Odd", "Custom", 0x12345, "\x04", 1);
    check_value("Odd", "quote\"back\\", CM_REG_SZ, "\0", 2);
    const cm_value *lv = value_at("Odd", "Long");
    assert_non_null(lv);
    assert_int_equal(lv->size, 300);
    for (int i = 0; i < 300; i++)
        assert_int_equal(lv->data[i], i & 0xff);
    assert_true(key_exists("Odd\\Empty\\Deeper"));

    assert_ok(cm_export_reg_buffer("", &second, &second_size, err, sizeof(err)));
    assert_int_equal(first_size, second_size);
    assert_memory_equal(first, second, first_size);
    free(first);
    free(second);
}

static void export_subtree_and_file(void **state)
{
    (void)state;
    assert_ok(import_text(V5 "[HKLM\\A\\B]\r\n\"x\"=dword:2\r\n[HKLM\\C]\r\n\"y\"=\"z\"\r\n"));
    char path[] = "/tmp/cm_export_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_ok(cm_export_reg_file(path, "a", err, sizeof(err)));
    cm_shutdown();
    cm_init();
    assert_ok(nthost_registry_import(path, err, sizeof(err)));   /* the nthost.h entry point */
    static const uint8_t two[] = { 2, 0, 0, 0 };
    check_value("A\\B", "x", CM_REG_DWORD, two, 4);
    assert_false(key_exists("C"));                   /* outside the exported subtree */
    unlink(path);
    assert_int_equal(cm_export_reg_file(path, "NoSuchKey", err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "no such key"));
    assert_int_equal(cm_import_reg_file("/nonexistent/x.reg", err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "/nonexistent/x.reg: cannot open"));
}

/* ---- malformed files: message names file, line and problem; nothing applied ---- */

struct bad_case {
    const char *text;
    unsigned line;
    const char *problem;
};

#define PARTIAL V5 "[HKEY_LOCAL_MACHINE\\Partial]\r\n\"ok\"=dword:1\r\n"   /* lines 1-4 */

static const struct bad_case bad_cases[] = {
    { "REGEDIT5\r\n[HKLM\\Partial]\r\n", 1, "not a registry file" },
    { "REGEDIT4 extra\r\n", 1, "after the header" },
    { PARTIAL "[HKEY_CURRENT_USER\\X]\r\n", 5, "unsupported root key 'HKEY_CURRENT_USER'" },
    { PARTIAL "[HKLM\\A\r\n", 5, "has no closing ']'" },
    { PARTIAL "[HKLM\\A\\\\B]\r\n", 5, "empty key name" },
    { PARTIAL "[HKLM\\A\\]\r\n", 5, "ends with a backslash" },
    { PARTIAL "[-HKEY_LOCAL_MACHINE]\r\n", 5, "cannot delete the root key" },
    { PARTIAL "[HKLM\\A] x\r\n", 5, "unexpected text 'x' after ']'" },
    { PARTIAL "\"v\"=\"abc\r\n", 5, "has no closing '\"'" },
    { PARTIAL "\"v\"=\"a\\nb\"\r\n", 5, "invalid escape sequence" },
    { PARTIAL "\"v\"=\"a\" b\r\n", 5, "after the string" },
    { PARTIAL "\"v\"=dword:123456789\r\n", 5, "more than 8 hex digits" },
    { PARTIAL "\"v\"=dword:\r\n", 5, "needs 1 to 8 hex digits" },
    { PARTIAL "\"v\"=dword:12 x\r\n", 5, "unexpected text 'x' after the dword value" },
    { PARTIAL "\"v\"=hex:01,zz\r\n", 5, "invalid hex byte 'zz'" },
    { PARTIAL "\"v\"=hex:01 02\r\n", 5, "expected ',' between hex bytes" },
    { PARTIAL "\"v\"=hex:012\r\n", 5, "invalid hex byte '012'" },
    { PARTIAL "\"v\"=hex(q):01\r\n", 5, "malformed typed hex value" },
    { PARTIAL "\"v\"=hex(123456789):01\r\n", 5, "malformed typed hex value" },
    { PARTIAL "\"v\"=hex:01,\\ x\r\n", 5, "after the line continuation" },
    { PARTIAL "\"v\"=hex:01,\\\r\n  02,\\\r\n  0g\r\n", 7, "invalid hex byte '0g'" },
    { PARTIAL "\"v\" \"x\"\r\n", 5, "expected '=' after the value name" },
    { PARTIAL "\"v\"=foo\r\n", 5, "unrecognized value data 'foo'" },
    { PARTIAL "\"v\"=-x\r\n", 5, "unexpected text 'x' after '-'" },
    { PARTIAL "garbage\r\n", 5, "unexpected text 'garbage'" },
    { V5 "\"v\"=dword:1\r\n[HKLM\\Partial]\r\n", 3, "value before any [key] line" },
    { PARTIAL "[HKLM\\Partial\\\xff]\r\n", 5, "invalid UTF-8" },
};

static void malformed_files(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *c = &bad_cases[i];
        err[0] = 0;
        assert_int_equal(import_text(c->text), -EINVAL);
        char prefix[32];
        snprintf(prefix, sizeof(prefix), "test.reg:%u: ", c->line);
        if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, c->problem))
            fail_msg("case %zu: got \"%s\", want prefix \"%s\" and \"%s\"", i, err, prefix, c->problem);
        assert_false(key_exists("Partial"));       /* all or nothing */
    }
}

static void malformed_long_names(void **state)
{
    (void)state;
    char text[40000];
    int n = snprintf(text, sizeof(text), PARTIAL "[HKLM\\");
    for (int i = 0; i < 256; i++)
        text[n++] = 'k';
    snprintf(text + n, sizeof(text) - (size_t)n, "]\r\n");
    assert_int_equal(import_text(text), -EINVAL);
    assert_non_null(strstr(err, "test.reg:5: key name longer than 255"));
    n = snprintf(text, sizeof(text), PARTIAL "\"");
    for (int i = 0; i < 16384; i++)
        text[n++] = 'v';
    snprintf(text + n, sizeof(text) - (size_t)n, "\"=dword:1\r\n");
    assert_int_equal(import_text(text), -EINVAL);
    assert_non_null(strstr(err, "test.reg:5: value name longer than 16383"));
    assert_false(key_exists("Partial"));
}

static void malformed_utf16(void **state)
{
    (void)state;
    size_t size;
    uint8_t *file = to_utf16_file(PARTIAL "\"v\"=dword:1", &size);
    assert_int_equal(cm_import_reg_buffer("u.reg", file, size - 1, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "u.reg:1: UTF-16 text has an odd number of bytes"));
    file[size - 4] = 0;                                /* a NUL unit inside line 5 */
    file[size - 3] = 0;
    assert_int_equal(cm_import_reg_buffer("u.reg", file, size, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "u.reg:5: NUL character"));
    /* A NUL terminator after the text is padding and accepted. */
    free(file);
    file = to_utf16_file(PARTIAL "\"v\"=dword:1\r\n", &size);
    uint8_t *padded = calloc(1, size + 2);
    memcpy(padded, file, size);
    assert_ok(cm_import_reg_buffer("u.reg", padded, size + 2, err, sizeof(err)));
    free(padded);
    assert_true(key_exists("Partial"));
    cm_shutdown();
    cm_init();
    static const uint8_t be[] = { 0xFE, 0xFF, 0, 'R' };
    assert_int_equal(cm_import_reg_buffer("b.reg", be, sizeof(be), err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "b.reg:1: UTF-16 big-endian"));
    free(file);
    assert_false(key_exists("Partial"));
}

/* Tree rules the Zw layer relies on: sorted subkeys, delete refusals, open-key life. */
static void tree_semantics(void **state)
{
    (void)state;
    assert_ok(import_text(V5 "[HKLM\\T\\b]\r\n[HKLM\\T\\A]\r\n[HKLM\\T\\c]\r\n[HKLM\\T\\ab]\r\n"));
    uint32_t len;
    uint16_t *t = cm_utf8_to_utf16("T", &len);
    cm_key *key;
    assert_ok(cm_lookup(cm_machine(), t, len, &key));
    free(t);
    assert_int_equal(key->nchildren, 4);
    const char *order[] = { "A", "ab", "b", "c" };
    for (int i = 0; i < 4; i++) {
        char *name = cm_utf16_to_utf8(key->children[i]->name, key->children[i]->name_len);
        assert_string_equal(name, order[i]);
        free(name);
    }
    assert_int_equal(cm_delete_key(key), -EBUSY);
    cm_key *child = key->children[0];
    cm_key_ref(child);                                /* as an open handle would */
    cm_delete_tree(key);
    assert_true(child->deleted);
    assert_null(child->parent);
    cm_key_unref(child);
    assert_false(key_exists("T"));
}

/* Mutated files (a fixed pseudo-random sequence of byte changes, cuts and
 * insertions) either import or are refused with a "<file>:<line>:" message that
 * leaves the registry exactly as it was: never half an import, never a crash. */
static void mutated_files_all_or_nothing(void **state)
{
    (void)state;
    char text[4096];
    int len = snprintf(text, sizeof(text), "%s%s%s", V5, all_types_body, v5_hex_strings);
    size_t size;
    uint8_t *base = to_utf16_file(text, &size);
    (void)len;
    uint8_t *before, *after;
    size_t before_size, after_size;
    uint32_t seed = 12345;
    for (int iter = 0; iter < 3000; iter++) {
        uint8_t *m = malloc(size + 8);
        memcpy(m, base, size);
        size_t msize = size;
        for (int k = 0; k < 1 + iter % 3; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = 2 + (seed >> 8) % (msize - 2);
            switch ((seed >> 4) % 3) {
            case 0: m[at] = (uint8_t)(seed >> 16); break;                 /* change a byte */
            case 1: msize = at; break;                                    /* cut the file */
            default:                                                      /* insert a byte */
                memmove(m + at + 1, m + at, msize - at);
                m[at] = (uint8_t)(seed >> 20);
                msize++;
            }
            if (msize <= 2)
                break;
        }
        assert_ok(cm_export_reg_buffer("", &before, &before_size, err, sizeof(err)));
        err[0] = 0;
        int rc = cm_import_reg_buffer("test.reg", m, msize, err, sizeof(err));
        if (rc) {
            assert_int_equal(rc, -EINVAL);
            assert_int_equal(strncmp(err, "test.reg:", 9), 0);
            assert_ok(cm_export_reg_buffer("", &after, &after_size, err, sizeof(err)));
            assert_int_equal(before_size, after_size);
            assert_memory_equal(before, after, before_size);
            free(after);
        }
        free(before);
        free(m);
    }
    free(base);
}

/* The project's own .reg files must import cleanly here, as on Windows. */
static void project_reg_files(void **state)
{
    (void)state;
    static const char *const files[] = { "driver/donglpt.reg", "parport/parport.reg" };
    int imported = 0;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", DONG_SOURCE_ROOT, files[i]);
        if (access(path, R_OK) != 0)
            continue;
        assert_ok(cm_import_reg_file(path, err, sizeof(err)));
        imported++;
    }
    if (!imported)
        skip();
}

/* Registry names fold case as NT's table does; regressions: U+017F and U+0178. */
static void upcase_matches_nt_table(void **state)
{
    (void)state;
    assert_int_equal(cm_upcase(0x00E9), 0x00C9);
    assert_int_equal(cm_upcase(0x00FF), 0x0178);
    assert_int_equal(cm_upcase(0x0178), 0x0178);
    assert_int_equal(cm_upcase(0x017F), 0x017F);
    assert_int_equal(cm_upcase(0x013A), 0x0139);
    assert_int_equal(cm_upcase(0x017E), 0x017D);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(upcase_matches_nt_table),
        cmocka_unit_test_setup_teardown(import_v5_utf16_bom, setup, teardown),
        cmocka_unit_test_setup_teardown(import_v5_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(import_regedit4_ansi, setup, teardown),
        cmocka_unit_test_setup_teardown(roundtrip_all_types, setup, teardown),
        cmocka_unit_test_setup_teardown(export_subtree_and_file, setup, teardown),
        cmocka_unit_test_setup_teardown(malformed_files, setup, teardown),
        cmocka_unit_test_setup_teardown(malformed_long_names, setup, teardown),
        cmocka_unit_test_setup_teardown(malformed_utf16, setup, teardown),
        cmocka_unit_test_setup_teardown(tree_semantics, setup, teardown),
        cmocka_unit_test_setup_teardown(project_reg_files, setup, teardown),
        cmocka_unit_test_setup_teardown(mutated_files_all_or_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
