/*
 * tools/device.c — dongctl's view of the DongLpt driver: opening \\.\DongLptN,
 * the IOCTL wrappers, and turning what the driver says (Win32 errors, key status
 * codes, probe results) into words a user understands.
 */
#include <string.h>

#include "crypto.h"
#include "dongctl.h"

/* NTSTATUS values the driver reports in DONG_INFO.ProbeStatus (documented NT codes;
   the Win32 headers do not carry them). */
#define NT_STATUS_DEVICE_PAPER_EMPTY    ((LONG)0x8000000EL)
#define NT_STATUS_DEVICE_POWERED_OFF    ((LONG)0x8000000FL)
#define NT_STATUS_DEVICE_OFF_LINE       ((LONG)0x80000010L)
#define NT_STATUS_DEVICE_BUSY           ((LONG)0x80000011L)
#define NT_STATUS_IO_TIMEOUT            ((LONG)0xC00000B5L)
#define NT_STATUS_DEVICE_PROTOCOL_ERROR ((LONG)0xC0000186L)

/* STATUS register bits (DL1.md section 11): bit 7 reads the inverse of the Busy line. */
#define SR_NOT_BUSY 0x80
#define SR_NACK     0x40
#define SR_PERROR   0x20
#define SR_SELECT   0x10
#define SR_NFAULT   0x08
#define SR_LINES    (SR_NOT_BUSY | SR_NACK | SR_PERROR | SR_SELECT | SR_NFAULT)
/* Every status line high (pull-ups): Busy high reads 0 in bit 7. */
#define SR_PULLED_UP (SR_NACK | SR_PERROR | SR_SELECT | SR_NFAULT)

BOOL port_open(unsigned number, bool writable, dong_port *p)
{
    char name[32];

    snprintf(name, sizeof name, DONG_WIN32_NAME_FORMAT_A, number);
    p->number = number;
    p->handle = CreateFileA(name, GENERIC_READ | (writable ? GENERIC_WRITE : 0),
                            FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL);
    return p->handle != INVALID_HANDLE_VALUE;
}

void port_close(dong_port *p)
{
    if (p->handle != INVALID_HANDLE_VALUE && p->handle != NULL)
        CloseHandle(p->handle);
    p->handle = INVALID_HANDLE_VALUE;
}

BOOL port_info(dong_port *p, DONG_INFO *info)
{
    DWORD got = 0;

    memset(info, 0, sizeof *info);
    if (!DeviceIoControl(p->handle, IOCTL_DONG_GET_INFO, NULL, 0, info, sizeof *info, &got, NULL))
        return FALSE;
    if (got != sizeof *info) {
        SetLastError(ERROR_INVALID_DATA);
        return FALSE;
    }
    return TRUE;
}

/*
 * send_request — one TRANSACT with the request as built; the answer is checked for
 * consistency so that callers can trust rsp->Length.
 */
static BOOL send_request(dong_port *p, DWORD code, const DONG_TRANSACT_REQUEST *req,
                         DONG_TRANSACT_RESPONSE *rsp)
{
    DWORD got = 0;

    memset(rsp, 0, DONG_TRANSACT_RESPONSE_HEADER);
    if (!DeviceIoControl(p->handle, code, (LPVOID)req, DONG_TRANSACT_REQUEST_HEADER + req->Length, rsp,
                         sizeof *rsp, &got, NULL))
        return FALSE;
    if (got < DONG_TRANSACT_RESPONSE_HEADER || rsp->Length > DL1_MAX_PAYLOAD ||
        got != (DWORD)DONG_TRANSACT_RESPONSE_HEADER + rsp->Length) {
        SetLastError(ERROR_INVALID_DATA);
        return FALSE;
    }
    return TRUE;
}

/*
 * resend_in_doubt — the driver answered ERROR_RETRY: the command went out whole and
 * its answer was lost, so it may have run. A failed DeviceIoControl copies nothing
 * back (the driver's own txid never reaches us), which is why the request carries our
 * txid: the same bytes again are answered from the key's journal if the command ran,
 * and run once if it did not. Every failure until a real answer leaves the outcome
 * unknown, whatever its error; the pauses give a key that lost power time to return.
 */
static BOOL resend_in_doubt(dong_port *p, DWORD code, const DONG_TRANSACT_REQUEST *req,
                            DONG_TRANSACT_RESPONSE *rsp)
{
    for (unsigned n = 1; n <= DONG_RESEND_MAX; n++) {
        Sleep(DONG_RESEND_PAUSE_MS * n);
        if (send_request(p, code, req, rsp))
            return TRUE;
    }
    SetLastError(ERROR_RETRY);
    return FALSE;
}

/*
 * port_transact — one DL-1 request through TRANSACT_READ when the command leaves the
 * key unchanged (a read-only handle suffices), TRANSACT_WRITE otherwise. A
 * key-changing command goes with a txid of ours (DONG_TRANSACT_CALLER_TXID), fresh
 * from the system's random source, so that it can be resent safely.
 */
BOOL port_transact(dong_port *p, UCHAR command, const void *payload, USHORT length,
                   DONG_TRANSACT_RESPONSE *rsp)
{
    DONG_TRANSACT_REQUEST req;
    BOOL changing = DL1_CMD_IS_KEY_CHANGING(command);
    USHORT at = changing ? DL1_TXID_SIZE : 0;
    DWORD code = DL1_CMD_IS_READ_ONLY(command) ? IOCTL_DONG_TRANSACT_READ
                                               : IOCTL_DONG_TRANSACT_WRITE;

    if (length > DL1_MAX_PAYLOAD - at) {
        SetLastError(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    memset(&req, 0, DONG_TRANSACT_REQUEST_HEADER);
    req.Command = command;
    req.Length = (USHORT)(at + length);
    if (changing) {
        uint8_t txid[DL1_TXID_SIZE];
        /* 0 is the "no txid" of DONG_TRANSACT_RESPONSE; a 32-bit random value never
           needs more than a few draws to avoid it. */
        do {
            if (dong_random(txid, sizeof txid)) {
                SetLastError(ERROR_GEN_FAILURE);
                return FALSE;
            }
        } while (!(txid[0] | txid[1] | txid[2] | txid[3]));
        memcpy(req.Payload, txid, sizeof txid);
        req.Flags = DONG_TRANSACT_CALLER_TXID;
    }
    if (length)
        memcpy(req.Payload + at, payload, length);
    if (send_request(p, code, &req, rsp))
        return TRUE;
    if (!changing || GetLastError() != ERROR_RETRY)
        return FALSE;
    return resend_in_doubt(p, code, &req, rsp);
}

/*
 * win32_error_text — the driver's conditions as Win32 reports them (NTSTATUS mapped
 * by the I/O manager), in the user's terms rather than the API's.
 */
const char *win32_error_text(DWORD error)
{
    switch (error) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:       return "no such port (is the DongLpt driver running?)";
    case ERROR_DEVICE_NOT_CONNECTED: return "no key — nothing answers on the port";
    case ERROR_DEV_NOT_EXIST:        return "no key — a device answers, but it is not a DL-1 key";
    case ERROR_OUT_OF_PAPER:         return "no key — a printer is attached (out of paper)";
    case ERROR_NOT_READY:            return "no key — the device on the port is off line or powered off";
    case ERROR_BUSY:                 return "the port or the device on it is busy";
    case ERROR_SEM_TIMEOUT:
    case ERROR_TIMEOUT:              return "the key stopped answering (timeout)";
    case ERROR_CRC:                  return "the link kept failing its CRC check";
    case ERROR_IO_DEVICE:            return "the key broke the link protocol (framing error or overrun)";
    case ERROR_ACCESS_DENIED:        return "access denied (the handle or account may not do that)";
    case ERROR_OPERATION_ABORTED:    return "the request was cancelled";
    case ERROR_INVALID_PARAMETER:    return "the driver rejected the request's parameters";
    case ERROR_INSUFFICIENT_BUFFER:  return "the reply did not fit the buffer";
    case ERROR_INVALID_FUNCTION:     return "the driver does not support that request";
    case ERROR_INVALID_DATA:         return "the driver's reply was malformed";
    case ERROR_RETRY:                return "OUTCOME UNKNOWN: the key's answer was lost and resending the command "
                                            "with the same txid did not reach the key; it may or may not have run "
                                            "(check the key before repeating it)";
    case ERROR_DEVICE_REMOVED:       return "the DongLpt driver was stopped";
    case ERROR_WRITE_PROTECT:        return "the key refused: it is locked";
    case ERROR_NOT_ENOUGH_QUOTA:     return "the key refused: the counter is exhausted";
    case ERROR_BAD_LENGTH:           return "the key refused: wrong length for the command";
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_NO_SYSTEM_RESOURCES:  return "the driver ran out of memory";
    case ERROR_GEN_FAILURE:          return "the device failed the request";
    default:                         return NULL;
    }
}

/* win32_error_exit — which of the documented exit codes a Win32 error belongs to. */
int win32_error_exit(DWORD error)
{
    switch (error) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_DEVICE_NOT_CONNECTED:
    case ERROR_DEV_NOT_EXIST:
    case ERROR_OUT_OF_PAPER:
    case ERROR_NOT_READY:
        return DONG_EXIT_NO_KEY;
    case ERROR_WRITE_PROTECT:
    case ERROR_NOT_ENOUGH_QUOTA:
    case ERROR_BAD_LENGTH:
        return DONG_EXIT_REFUSED;
    case ERROR_BUSY:
    case ERROR_SEM_TIMEOUT:
    case ERROR_TIMEOUT:
    case ERROR_CRC:
    case ERROR_IO_DEVICE:
    case ERROR_OPERATION_ABORTED:
    case ERROR_GEN_FAILURE:
    case ERROR_INVALID_DATA:
        return DONG_EXIT_IO;
    case ERROR_RETRY:
        return DONG_EXIT_UNKNOWN;
    default:
        return DONG_EXIT_SYSTEM;
    }
}

int port_fail(unsigned number, const char *doing, DWORD error)
{
    const char *words = win32_error_text(error);

    if (words)
        return dong_fail(win32_error_exit(error), "LPT%u: %s: %s", number, doing, words);
    return dong_fail(win32_error_exit(error), "LPT%u: %s: Windows error %lu", number, doing,
                (unsigned long)error);
}

const char *key_status_text(UCHAR status)
{
    switch (status) {
    case DL1_STATUS_OK:           return "ok";
    case DL1_STATUS_BAD_CRC:      return "the request arrived corrupted (bad CRC)";
    case DL1_STATUS_BAD_FRAME:    return "the request frame was malformed or too slow";
    case DL1_STATUS_UNKNOWN_CMD:  return "the key does not know that command";
    case DL1_STATUS_BAD_LENGTH:   return "wrong payload length for the command";
    case DL1_STATUS_BAD_ADDRESS:  return "address or counter index out of range";
    case DL1_STATUS_PROTECTED:    return "the key is locked: that area or command is protected";
    case DL1_STATUS_EXHAUSTED:    return "the counter is exhausted (it would go below zero)";
    case DL1_STATUS_EEPROM_FAULT: return "an EEPROM page failed to write (worn memory)";
    default:                      return "unknown status";
    }
}

const char *chip_name(ULONG chip)
{
    switch (chip) {
    case DONG_CHIP_SPP: return "SPP";
    case DONG_CHIP_PS2: return "PS/2";
    case DONG_CHIP_ECP: return "ECP";
    default:            return "unknown";
    }
}

const char *mode_name(ULONG mode)
{
    switch (mode) {
    case DONG_MODE_NIBBLE: return "nibble";
    case DONG_MODE_BYTE:   return "byte";
    default:               return "none";
    }
}

const char *attached_name(ULONG attached)
{
    switch (attached) {
    case DONG_PERIPHERAL_KEY:     return "key";
    case DONG_PERIPHERAL_PRINTER: return "printer";
    default:                      return "nothing";
    }
}

/* printer_state — the printer condition the idle status lines show (DL1.md 10). */
static const char *printer_state(UCHAR sr)
{
    if ((sr & SR_LINES) == SR_NOT_BUSY)
        return "powered off";
    if (!(sr & SR_SELECT) && (sr & SR_PERROR))
        return "out of paper";
    if (!(sr & SR_SELECT))
        return "off line";
    if (!(sr & SR_NOT_BUSY))
        return "busy";
    return "on line";
}

/*
 * attached_reason — the "why" of a probe: the driver's verdict (ProbeStatus) first,
 * then what the idle status lines showed, so a user can tell an unplugged cable from
 * a printer that is switched off.
 */
void attached_reason(const DONG_INFO *info, char *buf, size_t buflen)
{
    UCHAR sr = info->StatusRegister;

    switch (info->Attached) {
    case DONG_PERIPHERAL_KEY:
        if (info->Flags & DONG_INFO_KEY_VALID)
            snprintf(buf, buflen, "DL-1 key %02X%02X%02X%02X%02X%02X%02X%02X answered (%s mode)",
                     info->Serial[0], info->Serial[1], info->Serial[2], info->Serial[3],
                     info->Serial[4], info->Serial[5], info->Serial[6], info->Serial[7],
                     mode_name(info->Mode));
        else
            snprintf(buf, buflen, "a DL-1 key answered (%s mode)", mode_name(info->Mode));
        return;
    case DONG_PERIPHERAL_PRINTER:
        switch (info->ProbeStatus) {
        case NT_STATUS_DEVICE_PAPER_EMPTY:
            snprintf(buf, buflen, "no key — a printer is attached (out of paper)");
            return;
        case NT_STATUS_DEVICE_OFF_LINE:
            snprintf(buf, buflen, "no key — a printer is attached (off line)");
            return;
        case NT_STATUS_DEVICE_POWERED_OFF:
            snprintf(buf, buflen, "no key — a printer is attached (powered off)");
            return;
        case NT_STATUS_DEVICE_BUSY:
            snprintf(buf, buflen, "no key — a printer is attached (busy)");
            return;
        default:
            snprintf(buf, buflen, "no key — a printer is attached (%s, status 0x%02X)",
                     printer_state(sr), sr);
            return;
        }
    default:
        if ((sr & SR_LINES) == SR_PULLED_UP)
            snprintf(buf, buflen, "no key — nothing is attached (status lines pulled high)");
        else if (info->ProbeStatus == NT_STATUS_IO_TIMEOUT ||
                 info->ProbeStatus == NT_STATUS_DEVICE_PROTOCOL_ERROR)
            snprintf(buf, buflen, "no key — a device answered but not as a DL-1 key (status 0x%02X)", sr);
        else
            snprintf(buf, buflen, "no key — nothing answers (status 0x%02X)", sr);
        return;
    }
}
