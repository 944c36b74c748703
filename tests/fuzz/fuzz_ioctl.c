/*
 * fuzz_ioctl.c — libFuzzer target for DongLpt's Win32 interface: DeviceIoControl with
 * fuzzed codes, input buffers and lengths, output lengths and access rights, and
 * WriteFile/ReadFile with fuzzed buffers, on a booted nthost (keys on a PS/2 and an
 * SPP port, nothing on an ECP port).
 *
 * Input: byte 0 selects the code (one of DongLpt's eight, a fuzzed function/method/
 * access on DongLpt's device type, or any 32-bit code), bytes 1..4 feed the fuzzed
 * code, byte 5 the port, the handle's access and ReadFile/WriteFile, bytes 6..7 the
 * output length (0..1099); the rest is the input buffer.
 *
 * Contract: nothing crashes or hangs (a hang is nthost's deadlock report, a verifier
 * finding is a bugcheck exit); BytesReturned never exceeds the output length; the
 * caller's buffer beyond it is untouched; and when the input holds no 0xCD byte, no
 * run of nthost's fresh-pool fill (0xCD) comes back. The port's timeouts are put back
 * to the defaults after each input, so a fuzzed SET_TIMEOUTS cannot slow the next.
 */
#include "fuzz_common.h"
#include "fuzz_stack.h"
#include <windows.h>
#include <winioctl.h>
#include <donglpt.h>
#include <nthost/nthost.h>

#define OUT_MAX   1100u
#define GUARD     0x5Cu
#define UNTOUCHED 0xFFFFFFFFu
#define PORTS     3u

static const char machine[] =
    "[LPT1]\nbase = 0x378\nchip = ps2\nattach = key\nkey.image = none\n"
    "key.serial = 444C3100000000F1\n"
    "key.secret = 000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F\n"
    "[LPT2]\nbase = 0x278\nchip = spp\nattach = key+printer\nkey.image = none\n"
    "key.serial = 444C3100000000F2\n"
    "key.secret = 000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F\n"
    "[LPT3]\nbase = 0x2B8\nchip = ecp\nattach = none\n";

static const DWORD dong_codes[] = {
    IOCTL_DONG_GET_INFO, IOCTL_DONG_TRANSACT_READ, IOCTL_DONG_TRANSACT_WRITE,
    IOCTL_DONG_GET_STATUS, IOCTL_DONG_RESET, IOCTL_DONG_GET_TIMEOUTS,
    IOCTL_DONG_SET_TIMEOUTS, IOCTL_DONG_GET_STATS,
};

static HANDLE handles[PORTS][2];   /* [port][0 read-only, 1 read/write] */

static void close_all(void)
{
    for (unsigned p = 0; p < PORTS; p++)
        for (unsigned rw = 0; rw < 2; rw++)
            CloseHandle(handles[p][rw]);
}

/* open_all - one read-only and one read/write handle per port, kept for the run. */
static void open_all(void)
{
    for (unsigned p = 0; p < PORTS; p++)
        for (unsigned rw = 0; rw < 2; rw++) {
            char name[32];
            snprintf(name, sizeof name, DONG_WIN32_NAME_FORMAT_A, p + 1);
            handles[p][rw] = CreateFileA(name, GENERIC_READ | (rw ? GENERIC_WRITE : 0), 0, NULL,
                                         OPEN_EXISTING, 0, NULL);
            FUZZ_CHECK(handles[p][rw] != INVALID_HANDLE_VALUE, "open %s: %lu", name,
                       (unsigned long)GetLastError());
        }
    atexit(close_all);   /* runs before the shutdown registered at boot */
}

static void check_output(const uint8_t *out, DWORD outlen, DWORD got, BOOL ok, bool pool_check)
{
    unsigned run = 0;

    if (!ok && got == UNTOUCHED)
        got = 0;
    FUZZ_CHECK(got <= outlen, "%lu bytes returned into %lu", (unsigned long)got, (unsigned long)outlen);
    for (DWORD i = got; i < outlen; i++)
        FUZZ_CHECK(out[i] == GUARD, "byte %lu beyond the %lu returned was written",
                   (unsigned long)i, (unsigned long)got);
    for (DWORD i = 0; pool_check && i < got; i++) {
        run = out[i] == 0xCD ? run + 1 : 0;
        FUZZ_CHECK(run < 4, "uninitialised pool at byte %lu of %lu", (unsigned long)i - 3,
                   (unsigned long)got);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t out[OUT_MAX];
    DONG_TIMEOUTS defaults = { 35, 10, 3, 10000 };
    uint32_t raw;
    DWORD code, outlen, inlen, got = UNTOUCHED;
    const uint8_t *in;
    HANDLE h;
    BOOL ok;

    fuzz_stack_boot(machine);
    if (!handles[0][0])
        open_all();
    if (size < 8)
        return 0;
    raw = (uint32_t)data[1] | (uint32_t)data[2] << 8 | (uint32_t)data[3] << 16 | (uint32_t)data[4] << 24;
    switch (data[0] % 10) {
    case 8:     /* DongLpt's device type, fuzzed function, method and access */
        code = CTL_CODE(FILE_DEVICE_DONGLPT, 0x7F0 + (raw & 0x1F), (raw >> 5) & 3, (raw >> 7) & 3);
        break;
    case 9:
        code = raw;
        break;
    default:
        code = dong_codes[data[0] % 10 % 8];
        break;
    }
    h = handles[(data[5] & 0x0F) % PORTS][(data[5] >> 4) & 1];
    outlen = ((DWORD)data[6] | (DWORD)data[7] << 8) % OUT_MAX;
    in = data + 8;
    inlen = (DWORD)(size - 8);
    memset(out, GUARD, sizeof out);

    if (data[5] & 0x40) {
        ok = WriteFile(h, inlen ? in : NULL, inlen, &got, NULL);
        FUZZ_CHECK(!ok || got == inlen, "WriteFile wrote %lu of %lu", (unsigned long)got,
                   (unsigned long)inlen);
        got = UNTOUCHED;
        ok = ReadFile(h, outlen ? out : NULL, outlen, &got, NULL);
    } else {
        ok = DeviceIoControl(h, code, inlen ? (void *)in : NULL, inlen, outlen ? out : NULL, outlen,
                             &got, NULL);
    }
    check_output(out, outlen, got, ok, memchr(in, 0xCD, inlen) == NULL);

    for (unsigned p = 0; p < PORTS; p++) {
        ok = DeviceIoControl(handles[p][1], IOCTL_DONG_SET_TIMEOUTS, &defaults, sizeof defaults,
                             NULL, 0, &got, NULL);
        FUZZ_CHECK(ok, "restoring the timeouts failed: %lu", (unsigned long)GetLastError());
    }
    return 0;
}
