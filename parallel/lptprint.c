/*
 * lptprint.c - the printer: what its status lines mean, the compatibility-mode
 * (Centronics) handshake, and the two requests that touch the port (WriteFile and
 * IOCTL_PAR_QUERY_INFORMATION). Runs in the port's worker thread at PASSIVE_LEVEL.
 *
 * A byte goes out as: wait for Busy low, data on D0-D7, >= 0.5 us setup, nStrobe low
 * >= 0.5 us, nStrobe high, data held >= 0.5 us. The printer then raises Busy for its
 * work and pulses nAck at its end; the next byte waits for Busy low again, so the
 * nAck pulse needs no separate check. Each delay is a 1 us stall, which covers the
 * 0.5 us minimums on ISA (1 us per register access) and on fast (PCIe) ports alike.
 *
 * A printer that stays busy longer than LPT_BUSY_POLL_US, or is out of paper or off
 * line, is waited for with the port given back (so DongLpt's key requests go through
 * meanwhile) and with doubling waits, until the printer takes a byte again or
 * Parameters\WriteTimeoutMs passes without progress. A powered-off printer and a
 * port with nothing on it fail at once: no waiting makes them answer.
 */
#include "lptdrv.h"

/*
 * LptStatusToNtStatus - the printer's state from a STATUS value, as NT's printer
 * driver reports it (DL1.md section 10 patterns). Checked in this order because the
 * patterns overlap: nothing attached and powered off are whole-line patterns; PError
 * is paper out whatever else shows; Select or nFault low is off line; Busy alone is
 * busy.
 * IRQL: any.
 */
static NTSTATUS LptStatusToNtStatus(UCHAR Status)
{
    UCHAR lines = Status & LPT_STS_LINES;

    if (lines == LPT_PAT_PULLED_UP) {
        return STATUS_DEVICE_NOT_CONNECTED;
    }
    if (lines == LPT_PAT_POWERED_OFF) {
        return STATUS_DEVICE_POWERED_OFF;
    }
    if (Status & LPT_STS_PERROR) {
        return STATUS_DEVICE_PAPER_EMPTY;
    }
    if (!(Status & LPT_STS_SELECT) || !(Status & LPT_STS_NFAULT)) {
        return STATUS_DEVICE_OFF_LINE;
    }
    if (!(Status & LPT_STS_NOT_BUSY)) {
        return STATUS_DEVICE_BUSY;
    }
    return STATUS_SUCCESS;
}

/*
 * LptStatusToParallelBits - IOCTL_PAR_QUERY_INFORMATION's PARALLEL_* bits for a
 * STATUS value: one condition bit, BUSY when the Busy line is high, SELECTED when
 * the printer is on line.
 * IRQL: any.
 */
static UCHAR LptStatusToParallelBits(UCHAR Status)
{
    UCHAR busy = (Status & LPT_STS_NOT_BUSY) ? 0 : PARALLEL_BUSY;

    switch (LptStatusToNtStatus(Status)) {
    case STATUS_DEVICE_NOT_CONNECTED:
        return PARALLEL_NOT_CONNECTED;
    case STATUS_DEVICE_POWERED_OFF:
        return PARALLEL_POWER_OFF;
    case STATUS_DEVICE_PAPER_EMPTY:
        return (UCHAR)(PARALLEL_PAPER_EMPTY | busy);
    case STATUS_DEVICE_OFF_LINE:
        return (UCHAR)(PARALLEL_OFF_LINE | busy);
    default:
        return (UCHAR)(PARALLEL_SELECTED | busy);
    }
}

/*
 * LptWaitsForPrinter - is Status a state the printer leaves by itself or by its
 * user (busy, paper out, off line), so that a write waits for it?
 * IRQL: any.
 */
static BOOLEAN LptWaitsForPrinter(NTSTATUS Status)
{
    return Status == STATUS_DEVICE_BUSY || Status == STATUS_DEVICE_PAPER_EMPTY || Status == STATUS_DEVICE_OFF_LINE;
}

/*
 * LptPollReady - read STATUS until the printer is not merely busy, for at most
 * LPT_BUSY_POLL_US (a printer is busy for microseconds after each byte).
 * IRQL: PASSIVE_LEVEL, port owned. Every read is a preemption point.
 * Returns the printer's state at the last read.
 */
static NTSTATUS LptPollReady(PUCHAR Controller)
{
    ULONGLONG giveUp = KeQueryInterruptTime() + LPT_BUSY_POLL_US * 10;
    NTSTATUS status;

    do {
        status = LptStatusToNtStatus(READ_PORT_UCHAR(Controller + LPT_STATUS_OFFSET));
    } while (status == STATUS_DEVICE_BUSY && KeQueryInterruptTime() < giveUp);
    return status;
}

/*
 * LptStrobeByte - one byte through the compatibility handshake (see the top).
 * IRQL: PASSIVE_LEVEL, port owned, printer ready.
 */
static VOID LptStrobeByte(PUCHAR Controller, UCHAR Byte)
{
    WRITE_PORT_UCHAR(Controller + LPT_DATA_OFFSET, Byte);
    KeStallExecutionProcessor(LPT_SETUP_US);
    WRITE_PORT_UCHAR(Controller + LPT_CONTROL_OFFSET, LPT_CTL_IDLE | LPT_CTL_STROBE);
    KeStallExecutionProcessor(LPT_STROBE_US);
    WRITE_PORT_UCHAR(Controller + LPT_CONTROL_OFFSET, LPT_CTL_IDLE);
    KeStallExecutionProcessor(LPT_HOLD_US);
}

/*
 * LptSendBytes - send Bytes while the printer takes them. Stops early, with the byte
 * in flight finished, when another parport client waits for the port or the request
 * is abandoned, so that the port changes hands between bytes only.
 * IRQL: PASSIVE_LEVEL, port owned.
 * Returns STATUS_SUCCESS (all sent, or stopped early) or the printer's state when it
 * stopped taking bytes; *Sent counts the bytes sent.
 */
static NTSTATUS LptSendBytes(PLPT_EXTENSION Extension, PIRP Irp, const UCHAR *Bytes, ULONG Count, PULONG Sent)
{
    PUCHAR controller = Extension->Port.Info.Controller;
    NTSTATUS status;

    *Sent = 0;
    while (*Sent < Count && !LptRequestAbandoned(Extension, Irp)) {
        status = LptPollReady(controller);
        if (status != STATUS_SUCCESS) {
            return status;
        }
        LptStrobeByte(controller, Bytes[*Sent]);
        (*Sent)++;
        if (LptPortWanted(Extension)) {
            break;
        }
    }
    return STATUS_SUCCESS;
}

/*
 * LptLogTimeout - the printer took nothing for WriteTimeoutMs.
 * IRQL: PASSIVE_LEVEL.
 */
static VOID LptLogTimeout(PLPT_EXTENSION Extension, NTSTATUS Status, ULONG Written)
{
    WCHAR timeoutText[KL_NUMBER_CHARS];
    WCHAR writtenText[KL_NUMBER_CHARS];
    PCWSTR strings[2];

    strings[0] = KlFormatUlong(Extension->WriteTimeoutMs, 10, timeoutText, sizeof(timeoutText));
    strings[1] = KlFormatUlong(Written, 10, writtenText, sizeof(writtenText));
    KlWriteErrorLog(Extension->DeviceObject, LPT_MSG_WRITE_TIMEOUT, Status, IRP_MJ_WRITE, 1, strings, 2);
}

/*
 * LptServeWrite - IRP_MJ_WRITE: print the buffer (see the top for the waits).
 * IRQL: PASSIVE_LEVEL, worker thread; the port is owned only inside.
 * Returns STATUS_SUCCESS when every byte went out; otherwise the printer's state
 * (STATUS_DEVICE_BUSY / _PAPER_EMPTY / _OFF_LINE after WriteTimeoutMs without
 * progress, _POWERED_OFF, _NOT_CONNECTED at once), STATUS_DEVICE_BUSY when the port
 * did not come within WriteTimeoutMs, or STATUS_CANCELLED. *Information is the
 * number of bytes the printer took, in every case.
 */
NTSTATUS LptServeWrite(PLPT_EXTENSION Extension, PIRP Irp, PULONG_PTR Information)
{
    const UCHAR *buffer = (const UCHAR *)Irp->AssociatedIrp.SystemBuffer;
    ULONG length = IoGetCurrentIrpStackLocation(Irp)->Parameters.Write.Length;
    ULONGLONG timeout = (ULONGLONG)Extension->WriteTimeoutMs * 10000;
    ULONGLONG lastProgress = KeQueryInterruptTime();
    ULONG waitMs = LPT_FIRST_WAIT_MS;
    ULONG written = 0;
    NTSTATUS status = STATUS_SUCCESS;

    while (written < length) {
        ULONG sent;
        ULONGLONG idle;

        if (LptRequestAbandoned(Extension, Irp)) {
            status = STATUS_CANCELLED;
            break;
        }
        if (!Extension->PortOwned) {
            status = LptAcquirePort(Extension, Irp, lastProgress + timeout);
            if (!NT_SUCCESS(status)) {
                break;
            }
        }
        status = LptSendBytes(Extension, Irp, buffer + written, length - written, &sent);
        if (sent != 0) {
            written += sent;
            lastProgress = KeQueryInterruptTime();
            waitMs = LPT_FIRST_WAIT_MS;
        }
        if (status == STATUS_SUCCESS) {
            if (written < length) {
                LptReleasePort(Extension);  /* someone waits: let them in, queue behind */
            }
            continue;
        }
        LptReleasePort(Extension);
        if (!LptWaitsForPrinter(status)) {
            break;
        }
        idle = KeQueryInterruptTime() - lastProgress;
        if (idle >= timeout) {
            LptLogTimeout(Extension, status, written);
            break;
        }
        if ((ULONGLONG)waitMs * 10000 > timeout - idle) {
            waitMs = (ULONG)((timeout - idle + 9999) / 10000);
        }
        LptWaitOrAbandon(Extension, Irp, waitMs);
        waitMs = waitMs * 2 > LPT_LONGEST_WAIT_MS ? LPT_LONGEST_WAIT_MS : waitMs * 2;
    }
    LptReleasePort(Extension);
    *Information = written;
    return written == length ? STATUS_SUCCESS : status;
}

/*
 * LptServeQueryInformation - IOCTL_PAR_QUERY_INFORMATION: the printer's state as
 * PARALLEL_* bits. The status lines are read as the port's owner: while another
 * client (DongLpt in a key session) owns it they would show that client's device.
 * IRQL: PASSIVE_LEVEL, worker thread.
 * Returns STATUS_SUCCESS with the PAR_QUERY_INFORMATION in the system buffer, or
 * why the port could not be had (STATUS_DEVICE_BUSY after WriteTimeoutMs).
 */
NTSTATUS LptServeQueryInformation(PLPT_EXTENSION Extension, PIRP Irp, PULONG_PTR Information)
{
    PPAR_QUERY_INFORMATION info = (PPAR_QUERY_INFORMATION)Irp->AssociatedIrp.SystemBuffer;
    NTSTATUS status;
    UCHAR lines;

    *Information = 0;
    status = LptAcquirePort(Extension, Irp, KeQueryInterruptTime() + (ULONGLONG)Extension->WriteTimeoutMs * 10000);
    if (!NT_SUCCESS(status)) {
        return status;
    }
    lines = READ_PORT_UCHAR(Extension->Port.Info.Controller + LPT_STATUS_OFFSET);
    LptReleasePort(Extension);
    info->Status = LptStatusToParallelBits(lines);
    *Information = sizeof(PAR_QUERY_INFORMATION);
    return STATUS_SUCCESS;
}
