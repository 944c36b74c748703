/*
 * fuzz_keystream.c — libFuzzer target for what a malicious or broken device on the
 * port can make of the driver: the status lines (and, in reverse, the data lines) a
 * scripted peripheral (evilkey.c) drives in answer to every host line change, through
 * the real DongLpt on a booted nthost.
 *
 * Input: byte 0 picks the port (PS/2: byte mode is tried; SPP: nibble), the request
 * (GET_INFO, an ECHO, a COUNTER_DEC, GET_STATUS) and the device: a scripted one that
 * drives every line itself (evilkey_create), or a real DL-1 whose lines the script
 * spoils transition by transition (evilkey_wrap: a broken key, which lets the fuzzer
 * reach every phase of a session). The rest is the script.
 *
 * Contract: the request ends — success or an error of docs/DRIVER.md's tables — never
 * a crash, a hang (nthost's deadlock report) or a verifier stop; a real key the
 * script leaves alone answers; BytesReturned never
 * exceeds the output, and a response's Length stays within DL1.md's 512 bytes and
 * matches BytesReturned.
 */
#include "fuzz_common.h"
#include "fuzz_stack.h"
#include "evilkey.h"
#include <windows.h>
#include <winioctl.h>
#include <donglpt.h>
#include <nthost/nthost.h>
#include "sim/key.h"
#include "sim/machine.h"

#define USE_REAL_KEY 0x08u      /* byte 0: wrap a real DL-1 */

static const char machine[] =
    "[LPT1]\nbase = 0x378\nchip = ps2\nattach = none\n"
    "[LPT2]\nbase = 0x278\nchip = spp\nattach = none\n";

static const DWORD documented[] = {
    ERROR_SEM_TIMEOUT, ERROR_DEVICE_NOT_CONNECTED, ERROR_DEV_NOT_EXIST, ERROR_OUT_OF_PAPER,
    ERROR_NOT_READY, ERROR_BUSY, ERROR_CRC, ERROR_IO_DEVICE, ERROR_NOT_SUPPORTED, ERROR_RETRY,
};

static HANDLE handles[2];

static void close_all(void)
{
    for (unsigned p = 0; p < 2; p++)
        CloseHandle(handles[p]);
}

/* spoils - whether a wrap script changes any line (a zero byte changes none). */
static bool spoils(const uint8_t *script, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (script[i])
            return true;
    return false;
}

/* make_device - the device of this input (see the header). */
static sim_peripheral *make_device(uint8_t mode, const uint8_t *script, size_t len)
{
    sim_clock *clk = sim_machine_clock(nthost_machine());
    sim_key_config cfg;
    sim_peripheral *key;
    char err[256];

    if (!(mode & USE_REAL_KEY))
        return evilkey_create(clk, script, len);
    memset(&cfg, 0, sizeof cfg);
    memcpy(cfg.serial, "DL1\0\0\0\0\xEE", SIM_KEY_SERIAL_LEN);
    key = sim_key_create(clk, &cfg, NULL, err, sizeof err);
    FUZZ_CHECK(key != NULL, "sim_key_create: %s", err);
    return evilkey_wrap(clk, key, script, len);
}

static bool is_documented(DWORD err)
{
    for (size_t i = 0; i < sizeof documented / sizeof documented[0]; i++)
        if (documented[i] == err)
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t echo[8] = { 'f', 'u', 'z', 'z', 0x5A, 0xA5, 0x00, 0xFF };
    static DONG_TIMEOUTS quick = { 2, 2, 1, 0 };
    DONG_TRANSACT_REQUEST req;
    DONG_TRANSACT_RESPONSE resp;
    unsigned port;
    DWORD got = 0, outlen = sizeof resp;
    DWORD code = IOCTL_DONG_TRANSACT_READ;
    DWORD inlen = DONG_TRANSACT_REQUEST_HEADER;
    BOOL ok;

    fuzz_stack_boot(machine);
    if (!handles[0]) {
        for (unsigned p = 0; p < 2; p++) {
            char name[32];
            snprintf(name, sizeof name, DONG_WIN32_NAME_FORMAT_A, p + 1);
            handles[p] = CreateFileA(name, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
            FUZZ_CHECK(handles[p] != INVALID_HANDLE_VALUE, "open %s", name);
            /* Short waits and one resend: each input costs less machine time, and
               the driver's timeout paths are still taken. */
            FUZZ_CHECK(DeviceIoControl(handles[p], IOCTL_DONG_SET_TIMEOUTS, &quick, sizeof quick,
                                       NULL, 0, &got, NULL), "SET_TIMEOUTS failed");
        }
        atexit(close_all);
    }
    if (size < 1)
        return 0;
    port = data[0] & 1;
    sim_port_attach(sim_machine_port(nthost_machine(), port), make_device(data[0], data + 1, size - 1));
    if (data[0] & USE_REAL_KEY)
        Sleep(101);             /* its power-up NOT-READY time */

    memset(&req, 0, sizeof req);
    memset(&resp, 0x5C, sizeof resp);
    switch ((data[0] >> 1) & 3) {
    case 0:
        code = IOCTL_DONG_GET_INFO;
        inlen = 0;
        outlen = sizeof(DONG_INFO);
        break;
    case 1:
        req.Command = DL1_CMD_ECHO;
        req.Length = sizeof echo;
        memcpy(req.Payload, echo, sizeof echo);
        inlen += sizeof echo;
        break;
    case 2:
        code = IOCTL_DONG_TRANSACT_WRITE;
        req.Command = DL1_CMD_COUNTER_DEC;
        req.Length = 5;
        req.Payload[4] = 1;
        inlen += 5;
        break;
    default:
        code = IOCTL_DONG_GET_STATUS;
        inlen = 0;
        outlen = sizeof(DONG_PORT_STATUS);
        break;
    }
    ok = DeviceIoControl(handles[port], code, inlen ? &req : NULL, inlen, &resp, outlen, &got, NULL);
    /* A real key that the script leaves alone is a working key. */
    FUZZ_CHECK(ok || !(data[0] & USE_REAL_KEY) || spoils(data + 1, size - 1),
               "a healthy key failed: error %lu", (unsigned long)GetLastError());
    if (ok) {
        FUZZ_CHECK(got <= outlen, "%lu bytes returned into %lu", (unsigned long)got, (unsigned long)outlen);
        if (code == IOCTL_DONG_TRANSACT_READ || code == IOCTL_DONG_TRANSACT_WRITE)
            FUZZ_CHECK(resp.Length <= DL1_MAX_PAYLOAD &&
                           got == DONG_TRANSACT_RESPONSE_HEADER + (DWORD)resp.Length,
                       "response of %u bytes, %lu returned", resp.Length, (unsigned long)got);
    } else {
        DWORD err = GetLastError();
        FUZZ_CHECK(is_documented(err), "undocumented error %lu", (unsigned long)err);
    }
    /* Take the device away (the next input brings its own). */
    sim_port_attach(sim_machine_port(nthost_machine(), port), NULL);
    return 0;
}
