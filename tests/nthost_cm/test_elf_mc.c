/*
 * test_elf_mc.c — the .mc (message compiler source) reader and FormatMessage-style
 * expansion used to render event-log entries: ids built from severity, facility and
 * MessageId; name tables; languages; every diagnosed error.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cm_internal.h"

static char err[256];

static const char sample_mc[] =
    "; // DongLpt event messages\r\n"
    "MessageIdTypedef=NTSTATUS\r\n"
    "\r\n"
    "SeverityNames=(Success=0x0:STATUS_SEVERITY_SUCCESS\r\n"
    "               Informational=0x1:STATUS_SEVERITY_INFORMATIONAL\r\n"
    "               Warning=0x2:STATUS_SEVERITY_WARNING\r\n"
    "               Error=0x3:STATUS_SEVERITY_ERROR\r\n"
    "              )\r\n"
    "FacilityNames=(System=0x0\r\n"
    "               Io=0x4:FACILITY_IO_ERROR_CODE\r\n"
    "               Dong=0x7:FACILITY_DONG)\r\n"
    "LanguageNames=(English=0x409:MSG00409 German=0x407:MSG00407)\r\n"
    "\r\n"
    "MessageId=0x0001 Facility=Io Severity=Error SymbolicName=DONG_TIMEOUT\r\n"
    "Language=German\r\n"
    "Zeitueberschreitung auf %1.\r\n"
    ".\r\n"
    "Language=English\r\n"
    "The device %1 did not answer within %2 ms.\r\n"
    "Check the cable.\r\n"
    ".\r\n"
    "\r\n"
    "MessageId=\r\n"
    "SymbolicName=DONG_NEXT\r\n"
    "Language=English\r\n"
    "100%% done%0\r\n"
    ". \t\r\n"
    "MessageId=+0x10 Severity=Informational Facility=Dong SymbolicName=DONG_INFO\r\n"
    "Language=English\r\n"
    ".NET is text, not the end\r\n"
    "%1!s! said%t%2!d!%nbye%.\r\n"
    ".\r\n";

static void parse_ids_and_text(void **state)
{
    (void)state;
    elf_mc_file f;
    assert_int_equal(elf_mc_parse("d.mc", sample_mc, strlen(sample_mc), &f, err, sizeof(err)), 0);
    assert_int_equal(f.count, 3);
    const elf_mc_message *m = elf_mc_find(&f, 0xC0040001u);
    assert_non_null(m);
    assert_string_equal(m->symbol, "DONG_TIMEOUT");
    assert_string_equal(m->text, "The device %1 did not answer within %2 ms.\nCheck the cable.\n");
    /* An empty MessageId follows the previous one; severity and facility carry over. */
    m = elf_mc_find(&f, 0xC0040002u);
    assert_non_null(m);
    assert_string_equal(m->symbol, "DONG_NEXT");
    m = elf_mc_find(&f, 0x40070012u);
    assert_non_null(m);
    assert_string_equal(m->symbol, "DONG_INFO");
    /* A code logged with the customer bit set still finds its message. */
    assert_ptr_equal(elf_mc_find(&f, 0xE0040001u), elf_mc_find(&f, 0xC0040001u));
    assert_null(elf_mc_find(&f, 0xC0040003u));
    elf_mc_free(&f);
}

static void format_inserts(void **state)
{
    (void)state;
    elf_mc_file f;
    assert_int_equal(elf_mc_parse("d.mc", sample_mc, strlen(sample_mc), &f, err, sizeof(err)), 0);
    const char *args[] = { "\\Device\\DongLpt0", "500" };
    char *s = elf_mc_format(elf_mc_find(&f, 0xC0040001u)->text, args, 2);
    assert_string_equal(s, "The device \\Device\\DongLpt0 did not answer within 500 ms.\nCheck the cable.\n");
    free(s);
    s = elf_mc_format(elf_mc_find(&f, 0xC0040002u)->text, args, 2);
    assert_string_equal(s, "100% done");
    free(s);
    s = elf_mc_format(elf_mc_find(&f, 0x40070012u)->text, args, 2);
    assert_string_equal(s, ".NET is text, not the end\n\\Device\\DongLpt0 said\t500\nbye.\n");
    free(s);
    /* A missing insertion stays visible rather than vanishing. */
    s = elf_mc_format("a %1 b %3 c %12", args, 2);
    assert_string_equal(s, "a \\Device\\DongLpt0 b %3 c %12");
    free(s);
    s = elf_mc_format("tail %", args, 0);
    assert_string_equal(s, "tail %");
    free(s);
    elf_mc_free(&f);
}

static void utf16_source(void **state)
{
    (void)state;
    static const char src[] = "MessageId=5\nSeverity=Warning\nSymbolicName=W\nLanguage=English\nÄrger\n.\n";
    uint32_t n;
    uint16_t *w = cm_utf8_to_utf16(src, &n);
    uint8_t *file = malloc(2 + 2 * (size_t)n);
    file[0] = 0xFF;
    file[1] = 0xFE;
    for (uint32_t i = 0; i < n; i++) {
        file[2 + 2 * i] = (uint8_t)w[i];
        file[3 + 2 * i] = (uint8_t)(w[i] >> 8);
    }
    elf_mc_file f;
    assert_int_equal(elf_mc_parse("u.mc", file, 2 + 2 * (size_t)n, &f, err, sizeof(err)), 0);
    const elf_mc_message *m = elf_mc_find(&f, 0x80000005u);
    assert_non_null(m);
    assert_string_equal(m->text, "Ärger\n");
    elf_mc_free(&f);
    free(file);
    free(w);
}

struct bad_mc {
    const char *text;
    const char *expect;
};

static const struct bad_mc bad[] = {
    { "MessageId=1\nLanguage=English\nno end\n", "m.mc:2: message text has no terminating line" },
    { "Language=English\nx\n.\n", "m.mc:1: Language=English before any MessageId" },
    { "MessageId=1\nSeverity=Fatal\n", "m.mc:2: unknown Severity 'Fatal'" },
    { "MessageId=1\nFacility=Nope\n", "m.mc:2: unknown Facility 'Nope'" },
    { "MessageId=zz\n", "m.mc:1: invalid MessageId 'zz'" },
    { "MessageId=0x10000\n", "m.mc:1: MessageId 0x10000 does not fit in 16 bits" },
    { "Bogus=1\n", "m.mc:1: unknown keyword 'Bogus'" },
    { "just words\n", "m.mc:1: expected Keyword=Value" },
    { "SeverityNames=(A=1\nB=2\n", "m.mc:2: SeverityNames list has no closing ')'" },
    { "FacilityNames=(X)\n", "m.mc:1: FacilityNames entry 'X' is not Name=Value" },
    { "FacilityNames=(X=q)\n", "m.mc:1: FacilityNames entry 'X' has an invalid value 'q'" },
    { "SeverityNames=A=1\n", "m.mc:1: SeverityNames must be a list in parentheses" },
    { "MessageId=1\nLanguage=English\na\n.\nMessageId=1\nLanguage=English\nb\n.\n",
      "m.mc:6: message id 0x00000001 is defined twice" },
};

static void malformed(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        elf_mc_file f = { 0 };
        err[0] = 0;
        assert_int_equal(elf_mc_parse("m.mc", bad[i].text, strlen(bad[i].text), &f, err, sizeof(err)), -EINVAL);
        if (strncmp(err, bad[i].expect, strlen(bad[i].expect)) != 0)
            fail_msg("case %zu: got \"%s\", want \"%s\"", i, err, bad[i].expect);
        assert_int_equal(f.count, 0);
    }
    elf_mc_file f;
    assert_int_equal(elf_mc_load("/nonexistent/x.mc", &f, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "/nonexistent/x.mc: cannot open"));
}

/* Mutated sources parse or are refused with "<file>:<line>:"; whatever parses can
 * be formatted. Catches overruns under the sanitizers. */
static void mutated_sources(void **state)
{
    (void)state;
    size_t size = strlen(sample_mc);
    uint32_t seed = 777;
    const char *args[] = { "A", "B", "C" };
    for (int iter = 0; iter < 3000; iter++) {
        char *m = malloc(size + 8);
        memcpy(m, sample_mc, size);
        size_t msize = size;
        for (int k = 0; k < 1 + iter % 3; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % msize;
            switch ((seed >> 4) % 3) {
            case 0: m[at] = (char)(seed >> 16); break;
            case 1: msize = at ? at : 1; break;
            default:
                memmove(m + at + 1, m + at, msize - at);
                m[at] = "%=.\n()!"[(seed >> 20) % 8];
                msize++;
            }
        }
        elf_mc_file f = { 0 };
        err[0] = 0;
        int rc = elf_mc_parse("m.mc", m, msize, &f, err, sizeof(err));
        if (rc) {
            assert_int_equal(rc, -EINVAL);
            assert_int_equal(strncmp(err, "m.mc:", 5), 0);
        }
        for (size_t i = 0; i < f.count; i++)
            free(elf_mc_format(f.msgs[i].text, args, 3));
        elf_mc_free(&f);
        free(m);
    }
}

/* The driver's message file must parse, every message named. */
static void driver_mc_file(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof(path), "%s/driver/donglpt.mc", DONG_SOURCE_ROOT);
    elf_mc_file f;
    int rc = elf_mc_load(path, &f, err, sizeof(err));
    if (rc == -ENOENT)
        skip();
    if (rc)
        fail_msg("%s", err);
    assert_true(f.count > 0);
    for (size_t i = 0; i < f.count; i++) {
        assert_true(f.msgs[i].symbol[0] != 0);
        assert_true(f.msgs[i].text[0] != 0);
    }
    elf_mc_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_ids_and_text),
        cmocka_unit_test(format_inserts),
        cmocka_unit_test(utf16_source),
        cmocka_unit_test(malformed),
        cmocka_unit_test(driver_mc_file),
        cmocka_unit_test(mutated_sources),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
