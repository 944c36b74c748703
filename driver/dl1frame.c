/*
 * dl1frame.c - DL-1 frames (DL1.md section 6): CRC-16/CCITT-FALSE, SEQ, txid, the
 * response wait, and bounded retries that resend the very same bytes.
 *
 * A request is built once into Link->Tx; every retry strobes those bytes again, so
 * the key's volatile cache (same bytes) or its txid journal (same command, txid and
 * payload) answers a resend of a command that already ran instead of running it
 * twice. A key-changing command that was strobed completely and never answered is
 * "in doubt": if every retry fails, the caller gets STATUS_RETRY and the txid, and a
 * resend with that txid is the safe way to learn what happened. (A Win32 caller's
 * failed IOCTL returns no data, so it must have chosen the txid itself.)
 */
#include <ntddk.h>
#include <parallel.h>
#include <ntddpar.h>
#include "donglpt.h"
#include "dl1link.h"
#include "dl1priv.h"

/* DL1.md section 7 key times, microseconds. */
#define DONG_KEY_US_DEFAULT   20
#define DONG_KEY_US_ECHO      10
#define DONG_KEY_US_CHALLENGE 300
#define DONG_KEY_US_PAGE      5000
#define DONG_KEY_US_UPDATE    5000
#define DONG_KEY_PAGE_SIZE    16

/*
 * DongLinkCrc16 - CRC-16/CCITT-FALSE (poly 0x1021, no reflection, no final xor),
 * a byte at a time without a table.
 * IRQL: any. Returns the updated CRC.
 */
USHORT DongLinkCrc16(USHORT Crc, const UCHAR *Bytes, ULONG Length)
{
    UCHAR x;

    while (Length-- != 0) {
        x = (UCHAR)((Crc >> 8) ^ *Bytes++);
        x ^= (UCHAR)(x >> 4);
        Crc = (USHORT)((Crc << 8) ^ ((USHORT)x << 12) ^ ((USHORT)x << 5) ^ x);
    }
    return Crc;
}

/* DongLinkGet16 - little-endian u16 at p. IRQL: any. Returns the value. */
static USHORT DongLinkGet16(const UCHAR *p)
{
    return (USHORT)(p[0] | (p[1] << 8));
}

/* DongLinkGet32 - little-endian u32 at p. IRQL: any. Returns the value. */
static ULONG DongLinkGet32(const UCHAR *p)
{
    return (ULONG)p[0] | ((ULONG)p[1] << 8) | ((ULONG)p[2] << 16) | ((ULONG)p[3] << 24);
}

/*
 * DongLinkKeyTimeUs - the key time DL1.md section 7 gives for a request, from its
 * wire payload (txid included). IRQL: any. Returns microseconds.
 */
static ULONG DongLinkKeyTimeUs(UCHAR Command, const UCHAR *Payload, ULONG Length)
{
    ULONG addr, count;

    switch (Command) {
    case DL1_CMD_ECHO:
        return DONG_KEY_US_ECHO;
    case DL1_CMD_CHALLENGE:
        return DONG_KEY_US_CHALLENGE;
    case DL1_CMD_READ:
        if (Length != 4)
            return DONG_KEY_US_DEFAULT;
        return DONG_KEY_US_DEFAULT + (DongLinkGet16(Payload + 2) + 15) / 16;
    case DL1_CMD_WRITE:
        if (Length <= DL1_TXID_SIZE + 2)
            return DONG_KEY_US_DEFAULT;
        addr = DongLinkGet16(Payload + DL1_TXID_SIZE);
        count = Length - DL1_TXID_SIZE - 2;
        if (addr + count > DL1_MEMORY_SIZE)
            return DONG_KEY_US_DEFAULT;
        return DONG_KEY_US_PAGE *
               ((addr + count - 1) / DONG_KEY_PAGE_SIZE - addr / DONG_KEY_PAGE_SIZE + 1);
    case DL1_CMD_COUNTER_DEC:
        if (Length == DL1_TXID_SIZE + 5 && DongLinkGet32(Payload + DL1_TXID_SIZE + 1) == 0)
            return DONG_KEY_US_DEFAULT;
        return DONG_KEY_US_UPDATE;
    case DL1_CMD_LOCK:
    case DL1_CMD_SET_KEY:
    case DL1_CMD_COUNTER_SET:
        return DONG_KEY_US_UPDATE;
    }
    return DONG_KEY_US_DEFAULT;
}

/*
 * DongLinkSessionFailed - a session failed under us: count it, put the lines back.
 * IRQL: PASSIVE_LEVEL, port owned. Returns the NTSTATUS that says why.
 */
static NTSTATUS DongLinkSessionFailed(PDONG_LINK Link, DONG_WAIT Wait, UCHAR Status)
{
    ULONG attached;

    DongLinkCloseSession(Link);
    switch (Wait) {
    case DongWaitTimeout:
        Link->Stats.Timeouts++;
        return STATUS_IO_TIMEOUT;
    case DongWaitIdle:
        Link->Stats.FramingErrors++;
        return STATUS_DEVICE_PROTOCOL_ERROR;
    default:
        Link->Stats.SessionsLost++;
        return DongLinkClassifyIdle(Status, &attached);
    }
}

/*
 * DongLinkAttempt - one try: session, frame, response. *Retry: another try can
 * help. *Sent: the whole frame was strobed. *Rejected: the key answered that it did
 * not take the frame.
 * IRQL: PASSIVE_LEVEL, port owned.
 * Returns STATUS_SUCCESS with the response in Link->Rx, or the failure.
 */
static NTSTATUS DongLinkAttempt(PDONG_LINK Link, ULONG KeyUs, PBOOLEAN Retry,
                                PBOOLEAN Sent, PBOOLEAN Rejected)
{
    const DONG_LINK_TIMING *t = &Link->Timing;
    ULONG afterFrameNs, readyNs, length;
    NTSTATUS status;
    DONG_WAIT wait;
    UCHAR st = 0, code, overrun;

    *Retry = FALSE;
    *Sent = FALSE;
    *Rejected = FALSE;
    status = DongLinkEnsureSession(Link);
    if (!NT_SUCCESS(status)) {
        /* The open already waited out NOT-READY keys; only a key that stopped in
           the middle of the negotiation may answer the next one. */
        *Retry = status == STATUS_IO_TIMEOUT;
        return status;
    }
    *Retry = TRUE;

    wait = DongLinkSendFrame(Link, Link->Tx, Link->TxLength, &st);
    if (wait == DongWaitLost || wait == DongWaitTimeout)
        return DongLinkSessionFailed(Link, wait, st);
    if (wait == DongWaitMet) {
        *Sent = TRUE;
        /* Sleep or stall until the response is due: from the last falling edge,
           tPROC + tACK, then the key time (DL1.md sections 5 and 7). */
        afterFrameNs = (t->StrobeReads + t->HoldReads + 2) * t->AccessNs;
        readyNs = DONG_T_BUSY_NS + KeyUs * 1000;
        if (readyNs > afterFrameNs + t->AccessNs)
            DongLinkWait(Link, (readyNs - afterFrameNs - t->AccessNs) / 1000);
    }
    wait = DongLinkPoll(Link, DongPollResponse,
                        Link->Timeouts.ResponseMs * 1000 + DONG_T_RESPONSE_SLACK_US, &st);
    if (wait != DongWaitMet)
        return DongLinkSessionFailed(Link, wait, st);

    wait = DongLinkReceive(Link, Link->Rx, DONG_FRAME_HEADER, &st);
    if (wait != DongWaitMet)
        return DongLinkSessionFailed(Link, wait, st);
    length = DongLinkGet16(Link->Rx + 3);
    if (Link->Rx[0] != DONG_FRAME_RESPONSE || length > DL1_MAX_PAYLOAD) {
        /* DATA gave back our own latch: this port does not turn its data lines
           around, whatever its capabilities said. Nibble mode from now on. */
        if (Link->SessionMode == DONG_LINK_BYTE_BYTE && Link->Rx[0] == Link->Data)
            Link->PreferredLinkByte = DONG_LINK_BYTE_NIBBLE;
        /* The byte count is unknowable: abandon the response (DL1.md section 5). */
        Link->Stats.FramingErrors++;
        DongLinkCloseSession(Link);
        return STATUS_DEVICE_PROTOCOL_ERROR;
    }
    wait = DongLinkReceive(Link, Link->Rx + DONG_FRAME_HEADER, length + 2, &st);
    if (wait != DongWaitMet)
        return DongLinkSessionFailed(Link, wait, st);
    DongLinkEndReverse(Link);
    Link->Stats.FramesReceived++;

    if (DongLinkCrc16(0xFFFF, Link->Rx + 1, DONG_FRAME_HEADER - 1 + length) !=
        DongLinkGet16(Link->Rx + DONG_FRAME_HEADER + length)) {
        Link->Stats.CrcErrors++;
        /* A spoilt LEN too small leaves the key with bytes to send (nDataAvail
           still low): abandon them, or the resend would meet them. */
        if (!(DongLinkReadStatusRegister(Link) & DONG_STS_NFAULT))
            DongLinkCloseSession(Link);
        return STATUS_CRC_ERROR;
    }
    code = Link->Rx[2] & DONG_STATUS_CODE;
    overrun = Link->Rx[2] & DONG_STATUS_OVERRUN;
    if (overrun)
        Link->Stats.Overruns++;
    if (code == DL1_STATUS_BAD_CRC) {
        Link->Stats.CrcErrors++;
        *Rejected = TRUE;
        return overrun ? STATUS_DATA_OVERRUN : STATUS_CRC_ERROR;
    }
    if (code == DL1_STATUS_BAD_FRAME) {
        Link->Stats.FramingErrors++;
        *Rejected = TRUE;
        return overrun ? STATUS_DATA_OVERRUN : STATUS_DEVICE_PROTOCOL_ERROR;
    }
    if (Link->Rx[1] != Link->Tx[1]) {
        /* An answer to some other request: this one's is still to come or lost. */
        Link->Stats.FramingErrors++;
        return STATUS_DEVICE_PROTOCOL_ERROR;
    }
    return STATUS_SUCCESS;
}

/*
 * DongLinkExchange - build the request frame in Link->Tx and run it with retries.
 * The response frame is left in Link->Rx. *Txid is the txid on the wire (0 for a
 * command without one), *Retries the resends made.
 * IRQL: PASSIVE_LEVEL, port owned.
 * Returns STATUS_SUCCESS when a response arrived, else the link failure
 * (STATUS_RETRY for a key-changing command that may have run).
 */
NTSTATUS DongLinkExchange(PDONG_LINK Link, UCHAR Command, UCHAR Flags,
                          const UCHAR *Payload, ULONG Length, PULONG Txid, PULONG Retries)
{
    BOOLEAN changing = DL1_CMD_IS_KEY_CHANGING(Command);
    BOOLEAN callerTxid = (Flags & DONG_TRANSACT_CALLER_TXID) != 0;
    ULONG wireLength = Length;
    ULONG keyUs, attempt;
    BOOLEAN retry, sent, rejected, inDoubt = FALSE;
    NTSTATUS status;
    PUCHAR wire = Link->Tx + DONG_FRAME_HEADER;
    USHORT crc;

    *Txid = 0;
    *Retries = 0;
    if (callerTxid && (!changing || Length < DL1_TXID_SIZE))
        return STATUS_INVALID_PARAMETER;
    if (changing && !callerTxid)
        wireLength += DL1_TXID_SIZE;
    if (wireLength > DL1_MAX_PAYLOAD)
        return STATUS_INVALID_PARAMETER;

    if (changing && !callerTxid) {
        *Txid = Link->NextTxid;
        Link->NextTxid = Link->NextTxid + 1 == 0 ? 1 : Link->NextTxid + 1;
        wire[0] = (UCHAR)*Txid;
        wire[1] = (UCHAR)(*Txid >> 8);
        wire[2] = (UCHAR)(*Txid >> 16);
        wire[3] = (UCHAR)(*Txid >> 24);
        wire += DL1_TXID_SIZE;
    }
    if (Length != 0)
        RtlCopyMemory(wire, Payload, Length);
    wire = Link->Tx + DONG_FRAME_HEADER;
    if (changing && callerTxid)
        *Txid = DongLinkGet32(wire);
    Link->Tx[0] = DONG_FRAME_REQUEST;
    Link->Tx[1] = ++Link->Seq;
    Link->Tx[2] = Command;
    Link->Tx[3] = (UCHAR)wireLength;
    Link->Tx[4] = (UCHAR)(wireLength >> 8);
    crc = DongLinkCrc16(0xFFFF, Link->Tx + 1, DONG_FRAME_HEADER - 1 + wireLength);
    wire[wireLength] = (UCHAR)crc;
    wire[wireLength + 1] = (UCHAR)(crc >> 8);
    Link->TxLength = (USHORT)(DONG_LINK_FRAME_OVERHEAD + wireLength);
    keyUs = DongLinkKeyTimeUs(Command, wire, wireLength);

    for (attempt = 0;; attempt++) {
        status = DongLinkAttempt(Link, keyUs, &retry, &sent, &rejected);
        if (Link->SessionMode != 0)
            Link->LastActivity = DongLinkNow();
        /* A frame strobed whole and never answered may have run; any real answer
           (the cache or the journal answers a resend) settles it. */
        if (sent && !rejected)
            inDoubt = TRUE;
        if (NT_SUCCESS(status) || !retry || attempt >= Link->Timeouts.Retries)
            break;
        Link->Stats.Retries++;
    }
    *Retries = attempt;
    if (!NT_SUCCESS(status) && changing && inDoubt)
        return STATUS_RETRY;
    return status;
}

/*
 * DongLinkTransact - one request and its response (dl1link.h).
 * IRQL: PASSIVE_LEVEL, port owned by the caller.
 * Returns STATUS_SUCCESS when the key answered, else the link failure.
 */
NTSTATUS DongLinkTransact(PDONG_LINK Link, const DONG_TRANSACT_REQUEST *Request,
                          PDONG_TRANSACT_RESPONSE Response)
{
    ULONG txid, retries, length;
    NTSTATUS status;

    if (Request->Length > DL1_MAX_PAYLOAD)
        return STATUS_INVALID_PARAMETER;
    /* Everything of Request is in Link->Tx before Response (maybe the same buffer)
       is written. */
    status = DongLinkExchange(Link, Request->Command, Request->Flags, Request->Payload,
                              Request->Length, &txid, &retries);
    Response->KeyStatus = 0;
    Response->Flags = 0;
    Response->Length = 0;
    Response->Txid = txid;
    Response->Retries = retries;
    if (!NT_SUCCESS(status))
        return status;
    length = DongLinkGet16(Link->Rx + 3);
    Response->KeyStatus = Link->Rx[2] & DONG_STATUS_CODE;
    if (Link->Rx[2] & DONG_STATUS_OVERRUN)
        Response->Flags |= DONG_RESPONSE_OVERRUN;
    Response->Length = (USHORT)length;
    RtlCopyMemory(Response->Payload, Link->Rx + DONG_FRAME_HEADER, length);
    return STATUS_SUCCESS;
}
