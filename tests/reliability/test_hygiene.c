/*
 * test_hygiene.c — output hygiene of every DongLpt request (issue 6).
 *
 * nthost's pool fills every new allocation with 0xCD (EXP_POOL_FILL_NEW), and a
 * METHOD_BUFFERED request's system buffer is pool: the part of it the input did not
 * fill is 0xCD until the driver writes it. So for every IOCTL code of DongLpt (and
 * unknown codes around them), every input length class and every output length
 * class, with the caller's buffer pre-filled with a guard byte:
 *   - BytesReturned (Information) never exceeds the output length;
 *   - the caller's buffer beyond BytesReturned still holds the guard byte;
 *   - the returned bytes hold no run of 0xCD: no uninitialised pool reaches a caller
 *     (the requests' own payloads never contain 0xCD, and DONG_INFO.Reserved is 0);
 * and the same for ReadFile's response after a WriteFile.
 * Printed: requests checked, bytes returned, failures.
 */
#include "rel_rig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define POOL_FILL 0xCDu
#define GUARD     0x5Cu
#define UNTOUCHED 0xFFFFFFFFu
#define BUF_MAX   (sizeof(DONG_TRANSACT_REQUEST) + 64)

static const DWORD codes[] = {
    IOCTL_DONG_GET_INFO, IOCTL_DONG_TRANSACT_READ, IOCTL_DONG_TRANSACT_WRITE,
    IOCTL_DONG_GET_STATUS, IOCTL_DONG_RESET, IOCTL_DONG_GET_TIMEOUTS,
    IOCTL_DONG_SET_TIMEOUTS, IOCTL_DONG_GET_STATS,
    DONG_CTL(0x808, FILE_READ_ACCESS), DONG_CTL(0x7FF, FILE_ANY_ACCESS),
    CTL_CODE(FILE_DEVICE_DONGLPT, 0x800, METHOD_NEITHER, FILE_ANY_ACCESS),
};

typedef struct figures {
    unsigned requests, failed_ok, bytes, failures;
} figures;

/* in_lengths / out_lengths: the classes around each structure's size. */
static const DWORD in_lengths[] = {
    0, 1, 3, DONG_TRANSACT_REQUEST_HEADER, DONG_TRANSACT_REQUEST_HEADER + 16,
    sizeof(DONG_TIMEOUTS) - 1, sizeof(DONG_TIMEOUTS), sizeof(DONG_TIMEOUTS) + 1,
    sizeof(DONG_TRANSACT_REQUEST), sizeof(DONG_TRANSACT_REQUEST) + 1,
};
static const DWORD out_lengths[] = {
    0, 1, 7, 8, 15, 16, 47, 48, 63, 64, 65, DONG_TRANSACT_RESPONSE_HEADER + 15,
    DONG_TRANSACT_RESPONSE_HEADER + 16, sizeof(DONG_TRANSACT_RESPONSE) - 1,
    sizeof(DONG_TRANSACT_RESPONSE), BUF_MAX,
};

#define HCHECK(cond, ...)                                                            \
    do {                                                                             \
        if (!(cond)) {                                                               \
            printf("FAIL %s: ", what);                                               \
            printf(__VA_ARGS__);                                                     \
            printf("\n");                                                            \
            fg->failures++;                                                          \
        }                                                                            \
    } while (0)

/* check_output - the hygiene rules on one completed request. */
static void check_output(figures *fg, const char *what, BOOL ok, const UCHAR *out, DWORD outlen,
                         DWORD got)
{
    unsigned run = 0;

    fg->requests++;
    /* A failed call may leave the count as it was (nthost's DeviceIoControl writes it
       only for success and warning statuses). */
    if (!ok && got == UNTOUCHED)
        got = 0;
    HCHECK(got <= outlen, "returned %lu bytes into %lu", (unsigned long)got, (unsigned long)outlen);
    for (DWORD i = got; i < outlen && i < BUF_MAX; i++)
        if (out[i] != GUARD) {
            HCHECK(false, "byte %lu beyond the %lu returned was written", (unsigned long)i,
                   (unsigned long)got);
            break;
        }
    for (DWORD i = 0; i < got && i < outlen; i++) {
        run = out[i] == POOL_FILL ? run + 1 : 0;
        if (run == 4) {
            HCHECK(false, "uninitialised pool (0xCD x4) at byte %lu of %lu", (unsigned long)i - 3,
                   (unsigned long)got);
            break;
        }
    }
    if (ok)
        fg->bytes += got;
    else
        fg->failed_ok++;
}

/* fill_input - a plausible request for code in buf: valid headers often, garbage too. */
static void fill_input(UCHAR *in, DWORD code, DWORD inlen, unsigned variant)
{
    memset(in, 0x11 + variant, BUF_MAX);
    if (code == IOCTL_DONG_TRANSACT_READ || code == IOCTL_DONG_TRANSACT_WRITE) {
        DONG_TRANSACT_REQUEST *r = (DONG_TRANSACT_REQUEST *)in;
        static const UCHAR cmds[] = { DL1_CMD_ECHO, DL1_CMD_GET_INFO, DL1_CMD_READ, DL1_CMD_GET_STATS,
                                      DL1_CMD_COUNTER_READ, DL1_CMD_GET_DEVICE_ID, 0x55 };
        r->Command = cmds[variant % sizeof cmds];
        r->Flags = 0;
        r->Length = (USHORT)(inlen > DONG_TRANSACT_REQUEST_HEADER ? inlen - DONG_TRANSACT_REQUEST_HEADER : 0);
        if (r->Command == DL1_CMD_READ) {
            rig_put16(r->Payload, 0x10);
            rig_put16(r->Payload + 2, 40);
        }
        if (r->Command == DL1_CMD_COUNTER_READ)
            r->Payload[0] = 2;
    } else if (code == IOCTL_DONG_SET_TIMEOUTS) {
        DONG_TIMEOUTS t = { 35, 10, 3, 0 };
        memcpy(in, &t, sizeof t);
    }
}

static void test_ioctl_hygiene(void **state)
{
    static UCHAR in[BUF_MAX], out[BUF_MAX];
    figures fg = { 0 };
    rel_rig rig;
    char what[160];
    (void)state;

    rig_boot(&rig, NULL, 0);
    for (unsigned port = 0; port < RIG_PORTS; port++) {
        HANDLE h = rig_open(port, GENERIC_READ | GENERIC_WRITE, 0);
        assert_true(h != INVALID_HANDLE_VALUE);
        for (size_t c = 0; c < sizeof codes / sizeof codes[0]; c++)
            for (size_t i = 0; i < sizeof in_lengths / sizeof in_lengths[0]; i++)
                for (size_t o = 0; o < sizeof out_lengths / sizeof out_lengths[0]; o++) {
                    DWORD got = UNTOUCHED, outlen = out_lengths[o];
                    BOOL ok;

                    fill_input(in, codes[c], in_lengths[i], (unsigned)(i + o));
                    memset(out, GUARD, sizeof out);
                    ok = DeviceIoControl(h, codes[c], in_lengths[i] ? in : NULL, in_lengths[i],
                                         outlen ? out : NULL, outlen, &got, NULL);
                    snprintf(what, sizeof what, "port %u code 0x%08lx in %lu out %lu (%s)", port,
                             (unsigned long)codes[c], (unsigned long)in_lengths[i],
                             (unsigned long)outlen, ok ? "ok" : "failed");
                    check_output(&fg, what, ok, out, outlen, got);
                    if (ok && codes[c] == IOCTL_DONG_GET_INFO && got == sizeof(DONG_INFO)) {
                        const DONG_INFO *info = (const DONG_INFO *)out;
                        figures *f = &fg;
                        if (info->Reserved != 0) {
                            printf("FAIL %s: DONG_INFO.Reserved 0x%04x\n", what, info->Reserved);
                            f->failures++;
                        }
                    }
                }

        /* WriteFile then ReadFile into buffers of every length class. */
        for (size_t o = 0; o < sizeof out_lengths / sizeof out_lengths[0]; o++) {
            DONG_TRANSACT_REQUEST req = { .Command = DL1_CMD_ECHO, .Length = 20 };
            DWORD got = 0, outlen = out_lengths[o];
            BOOL ok;

            memset(req.Payload, 0x42, 20);
            assert_true(WriteFile(h, &req, DONG_TRANSACT_REQUEST_HEADER + 20, &got, NULL));
            memset(out, GUARD, sizeof out);
            got = UNTOUCHED;
            ok = ReadFile(h, outlen ? out : NULL, outlen, &got, NULL);
            snprintf(what, sizeof what, "port %u ReadFile into %lu (%s)", port, (unsigned long)outlen,
                     ok ? "ok" : "failed");
            check_output(&fg, what, ok, out, outlen, got);
            if (!ok) {          /* the response stays: read it with a whole buffer */
                ok = ReadFile(h, out, sizeof out, &got, NULL);
                check_output(&fg, "ReadFile after a short one", ok, out, sizeof out, got);
            }
        }
        assert_true(CloseHandle(h));
    }
    printf("output hygiene: %u requests checked (%u refused), %u bytes returned, "
           "%u failures\n", fg.requests, fg.failed_ok, fg.bytes, fg.failures);
    rig_shutdown(&rig);
    assert_int_equal(fg.failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ioctl_hygiene),
    };
    return cmocka_run_group_tests_name("reliability_hygiene", tests, NULL, NULL);
}
