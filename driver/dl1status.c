/*
 * dl1status.c - what the port's status lines and the key's answers mean, as
 * NTSTATUS values and PARALLEL_* bits. docs/LINK.md has the table and the reasons
 * for each choice.
 */
#include <ntddk.h>
#include <parallel.h>
#include <ntddpar.h>
#include "donglpt.h"
#include "dl1link.h"
#include "dl1priv.h"

/*
 * DongLinkKeyStatusToNtStatus - map a DL-1 response status (low 7 bits).
 * IRQL: any. Returns the NTSTATUS.
 */
NTSTATUS DongLinkKeyStatusToNtStatus(UCHAR KeyStatus)
{
    switch (KeyStatus & DONG_STATUS_CODE) {
    case DL1_STATUS_OK:
        return STATUS_SUCCESS;
    case DL1_STATUS_BAD_CRC:
        return STATUS_CRC_ERROR;
    case DL1_STATUS_BAD_FRAME:
        return STATUS_DEVICE_PROTOCOL_ERROR;
    case DL1_STATUS_UNKNOWN_CMD:
        return STATUS_INVALID_DEVICE_REQUEST;
    case DL1_STATUS_BAD_LENGTH:
        return STATUS_INFO_LENGTH_MISMATCH;
    case DL1_STATUS_BAD_ADDRESS:
        return STATUS_INVALID_PARAMETER;
    case DL1_STATUS_PROTECTED:
        return STATUS_MEDIA_WRITE_PROTECTED;
    case DL1_STATUS_EXHAUSTED:
        return STATUS_QUOTA_EXCEEDED;
    case DL1_STATUS_EEPROM_FAULT:
        return STATUS_DEVICE_DATA_ERROR;
    }
    return STATUS_DEVICE_PROTOCOL_ERROR;
}

/*
 * DongLinkClassifyIdle - what answers on a port where no key took the bus, from a
 * status read in compatibility idle (DL1.md section 10 patterns, or the pull-ups).
 * IRQL: any. Returns the NTSTATUS that explains why there is no key, and sets
 * *Attached to DONG_PERIPHERAL_NOTHING or DONG_PERIPHERAL_PRINTER.
 */
NTSTATUS DongLinkClassifyIdle(UCHAR Status, PULONG Attached)
{
    *Attached = DONG_PERIPHERAL_PRINTER;
    switch (Status & DONG_STS_LINES) {
    case DONG_PAT_PULLED_UP:
        *Attached = DONG_PERIPHERAL_NOTHING;
        return STATUS_DEVICE_NOT_CONNECTED;
    case DONG_PAT_PRN_BUSY:
    case DONG_PAT_PRN_BUSY_ACK:
        return STATUS_DEVICE_BUSY;
    case DONG_PAT_PRN_PAPER_OUT:
        return STATUS_DEVICE_PAPER_EMPTY;
    case DONG_PAT_PRN_OFFLINE:
        return STATUS_DEVICE_OFF_LINE;
    case DONG_PAT_PRN_POWER_OFF:
        return STATUS_DEVICE_POWERED_OFF;
    case DONG_PAT_PRN_IDLE:
        return STATUS_DEVICE_DOES_NOT_EXIST;
    }
    /* Neither a printer pattern nor the pull-ups: some other device, still no key. */
    return STATUS_DEVICE_DOES_NOT_EXIST;
}

/*
 * DongLinkDecodeStatus - PARALLEL_* bits for a STATUS value. Inside a session the
 * key owns the lines and is selected; outside, the printer patterns decide.
 * IRQL: any. Returns the bits.
 */
ULONG DongLinkDecodeStatus(UCHAR Status, BOOLEAN InSession)
{
    ULONG bits = 0;

    switch (Status & DONG_STS_LINES) {
    case DONG_PAT_PULLED_UP:
        return PARALLEL_NOT_CONNECTED;
    case DONG_PAT_PRN_POWER_OFF:
        return PARALLEL_POWER_OFF;
    case DONG_PAT_PRN_PAPER_OUT:
        if (!InSession)
            return PARALLEL_PAPER_EMPTY | PARALLEL_BUSY;
        break;
    case DONG_PAT_PRN_OFFLINE:
        if (!InSession)
            return PARALLEL_OFF_LINE | PARALLEL_BUSY;
        break;
    }
    if (!(Status & DONG_STS_NOT_BUSY))
        bits |= PARALLEL_BUSY;
    if (InSession || (Status & DONG_STS_SELECT))
        bits |= PARALLEL_SELECTED;
    else
        bits |= PARALLEL_OFF_LINE;
    if (!InSession && (Status & DONG_STS_PERROR))
        bits |= PARALLEL_PAPER_EMPTY;
    return bits;
}
