/*
 * tests/tools_dongctl/test_words.c — what dongctl tells its user, checked without a
 * machine: the reason a probe gives for each thing a port can show (DL1.md section
 * 10's printer states, pull-ups, a key), the exit code of each driver error, the JSON
 * writer's escaping and the hex dump layout.
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

#include "dongctl.h"

#define ST_PAPER_EMPTY    ((LONG)0x8000000EL)
#define ST_DOES_NOT_EXIST ((LONG)0xC00000C0L)

static void reason(ULONG attached, LONG status, UCHAR sr, char *buf, size_t len)
{
    DONG_INFO info;

    memset(&info, 0, sizeof info);
    info.Attached = attached;
    info.ProbeStatus = status;
    info.StatusRegister = sr;
    attached_reason(&info, buf, len);
}

/* test_printer_states — the status register values of DL1.md section 10's table. */
static void test_printer_states(void **state)
{
    static const struct {
        UCHAR sr;
        const char *want;
    } states[] = {
        { 0xDF, "no key — a printer is attached (on line, status 0xDF)" },
        { 0x5F, "no key — a printer is attached (busy, status 0x5F)" },
        { 0x67, "no key — a printer is attached (out of paper, status 0x67)" },
        { 0x47, "no key — a printer is attached (off line, status 0x47)" },
        { 0x87, "no key — a printer is attached (powered off, status 0x87)" },
    };
    char buf[160];
    (void)state;

    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
        reason(DONG_PERIPHERAL_PRINTER, ST_DOES_NOT_EXIST, states[i].sr, buf, sizeof buf);
        assert_string_equal(buf, states[i].want);
    }
    /* The driver's own verdict wins over the decoding. */
    reason(DONG_PERIPHERAL_PRINTER, ST_PAPER_EMPTY, 0xDF, buf, sizeof buf);
    assert_string_equal(buf, "no key — a printer is attached (out of paper)");
}

static void test_nothing_and_key(void **state)
{
    DONG_INFO info;
    char buf[160];
    (void)state;

    reason(DONG_PERIPHERAL_NOTHING, 0, 0x7F, buf, sizeof buf);
    assert_string_equal(buf, "no key — nothing is attached (status lines pulled high)");
    memset(&info, 0, sizeof info);
    info.Attached = DONG_PERIPHERAL_KEY;
    info.Flags = DONG_INFO_KEY_VALID;
    info.Mode = DONG_MODE_BYTE;
    memcpy(info.Serial, "\x44\x4C\x31\x00\x00\x00\x00\x01", 8);
    attached_reason(&info, buf, sizeof buf);
    assert_string_equal(buf, "DL-1 key 444C310000000001 answered (byte mode)");
}

/* test_exit_codes — each documented class of driver error has its exit code. */
static void test_exit_codes(void **state)
{
    (void)state;
    assert_int_equal(win32_error_exit(ERROR_FILE_NOT_FOUND), DONG_EXIT_NO_KEY);
    assert_int_equal(win32_error_exit(ERROR_DEVICE_NOT_CONNECTED), DONG_EXIT_NO_KEY);
    assert_int_equal(win32_error_exit(ERROR_DEV_NOT_EXIST), DONG_EXIT_NO_KEY);
    assert_int_equal(win32_error_exit(ERROR_OUT_OF_PAPER), DONG_EXIT_NO_KEY);
    assert_int_equal(win32_error_exit(ERROR_WRITE_PROTECT), DONG_EXIT_REFUSED);
    assert_int_equal(win32_error_exit(ERROR_NOT_ENOUGH_QUOTA), DONG_EXIT_REFUSED);
    assert_int_equal(win32_error_exit(ERROR_SEM_TIMEOUT), DONG_EXIT_IO);
    assert_int_equal(win32_error_exit(ERROR_CRC), DONG_EXIT_IO);
    assert_int_equal(win32_error_exit(ERROR_RETRY), DONG_EXIT_UNKNOWN);
    assert_int_equal(win32_error_exit(ERROR_ACCESS_DENIED), DONG_EXIT_SYSTEM);
    assert_int_equal(win32_error_exit(ERROR_DEVICE_REMOVED), DONG_EXIT_SYSTEM);
    assert_non_null(win32_error_text(ERROR_SEM_TIMEOUT));
    assert_null(win32_error_text(ERROR_MR_MID_NOT_FOUND));
}

/* capture — run fn with stdout sent to a temporary file; returns what it printed. */
static char *capture(void (*fn)(void))
{
    char path[] = "/tmp/dongctl-words-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stdout);
    int saved = dup(1);
    assert_int_equal(dup2(fd, 1), 1);
    fn();
    fflush(stdout);
    assert_int_equal(dup2(saved, 1), 1);
    close(saved);
    FILE *f = fdopen(fd, "r");
    static char buf[4096];
    rewind(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    unlink(path);
    return buf;
}

static void emit_json(void)
{
    static const uint8_t bytes[] = { 0x00, 0xAB, 0xFF };
    js_begin_obj(NULL);
    js_str("text", "quote\" back\\ nl\n ctl\x01");
    js_begin_arr("list");
    js_uint(NULL, 1);
    js_int(NULL, -2);
    js_bool(NULL, false);
    js_end_arr();
    js_hex("hex", bytes, sizeof bytes);
    js_begin_obj("empty");
    js_end_obj();
    js_end_obj();
    js_done();
}

static void test_json_writer(void **state)
{
    (void)state;
    assert_string_equal(capture(emit_json),
                        "{\"text\":\"quote\\\" back\\\\ nl\\n ctl\\u0001\",\"list\":[1,-2,false],"
                        "\"hex\":\"00abff\",\"empty\":{}}\n");
}

static void emit_dump(void)
{
    uint8_t data[20];
    for (int i = 0; i < 20; i++)
        data[i] = (uint8_t)(0x3E + i);
    hexdump(stdout, 0x7F0, data, sizeof data);
}

/* test_hexdump — key addresses, a gap after 8 bytes, printable ASCII on the right. */
static void test_hexdump(void **state)
{
    (void)state;
    assert_string_equal(capture(emit_dump),
                        "07f0  3e 3f 40 41 42 43 44 45  46 47 48 49 4a 4b 4c 4d  |>?@ABCDEFGHIJKLM|\n"
                        "0800  4e 4f 50 51                                       |NOPQ|\n");
}

static void test_parse_uint(void **state)
{
    unsigned long v;
    (void)state;

    assert_true(parse_uint("0x7ff", 0xFFFF, &v));
    assert_int_equal(v, 0x7FF);
    assert_true(parse_uint("2047", 0xFFFF, &v));
    assert_int_equal(v, 2047);
    assert_false(parse_uint("65536", 0xFFFF, &v));
    assert_false(parse_uint("-1", 0xFFFF, &v));
    assert_false(parse_uint("12abc", 0xFFFF, &v));
    assert_false(parse_uint("", 0xFFFF, &v));
    assert_false(parse_uint(" 1", 0xFFFF, &v));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_printer_states),
        cmocka_unit_test(test_nothing_and_key),
        cmocka_unit_test(test_exit_codes),
        cmocka_unit_test(test_json_writer),
        cmocka_unit_test(test_hexdump),
        cmocka_unit_test(test_parse_uint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
