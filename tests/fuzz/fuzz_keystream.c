/*
 * fuzz_keystream.c — libFuzzer target for what a malicious or broken device on the
 * port can make of the driver: the status lines (and, in reverse, the data lines) a
 * scripted peripheral (evilkey.c) drives in answer to every host line change, through
 * the real DongLpt on a booted nthost.
 *
 * Input: byte 0 picks the port (PS/2: byte mode is tried; SPP: nibble) and the
 * request (GET_INFO, an ECHO, a COUNTER_DEC, GET_STATUS); the rest is the script.
 *
 * Contract: the request ends — success or an error of docs/DRIVER.md's tables — never
 * a crash, a hang (nthost's deadlock report) or a verifier stop; BytesReturned never
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
#include "sim/machine.h"

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
        }
        atexit(close_all);
    }
    if (size < 1)
        return 0;
    port = data[0] & 1;
    sim_port_attach(sim_machine_port(nthost_machine(), port),
                    evilkey_create(sim_machine_clock(nthost_machine()), data + 1, size - 1));

    memset(&req, 0, sizeof req);
    memset(&resp, 0x5C, sizeof resp);
    switch ((data[0] >> 1) % 4) {
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
