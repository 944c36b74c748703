/*
 * dl1link.c - the DL-1 session: set-up, negotiation (DL1.md section 3), close
 * (section 4), probe, reset, status, statistics and shutdown.
 *
 * A session stays open between requests while the caller keeps the port; it is
 * reopened transparently when the key ended it (reset, brown-out, the 1 s idle
 * timeout: a session idle for DONG_T_IDLE_GUARD_US is closed and reopened rather
 * than trusted, so that a frame never starts just as the key gives up on it and
 * reaches a printer behind it instead).
 */
#include <ntddk.h>
#include <parallel.h>
#include <ntddpar.h>
#include "donglpt.h"
#include "dl1link.h"
#include "dl1priv.h"

/* The key wakes NOT-READY for 100 ms after power-up or a brown-out (DL1.md
   section 8): an unanswered negotiation is repeated for this long before the port
   is said to have no key. */
#define DONG_T_POWERUP_US 110000

/* GET_INFO response payload (DL1.md section 7). */
#define DONG_INFO_PAYLOAD     18
#define DONG_INFO_FW          8
#define DONG_INFO_MEM         10
#define DONG_INFO_COUNTERS    12
#define DONG_INFO_FLAGS       13
#define DONG_INFO_VENDOR      14
#define DONG_INFO_PRODUCT     16
#define DONG_INFO_FLAG_LOCKED 0x01

/* DongLinkMixSeed - mix clock readings into a 32-bit seed (splitmix64 finalizer).
   IRQL: any. Returns the seed. */
static ULONG DongLinkMixSeed(ULONGLONG Value)
{
    Value ^= Value >> 30;
    Value *= 0xBF58476D1CE4E5B9ULL;
    Value ^= Value >> 27;
    Value *= 0x94D049BB133111EBULL;
    Value ^= Value >> 31;
    return (ULONG)Value;
}

/*
 * DongLinkInitialize - see dl1link.h.
 * IRQL: PASSIVE_LEVEL. Returns STATUS_SUCCESS or STATUS_INVALID_PARAMETER.
 */
NTSTATUS DongLinkInitialize(PDONG_LINK Link, PUCHAR Controller, PUCHAR EcpController,
                            ULONG HardwareCapabilities, const DONG_TIMEOUTS *Timeouts,
                            ULONG TxidSeed, ULONG AccessTimeNs)
{
    LARGE_INTEGER systemTime;
    ULONG seed;

    if (Link == NULL || Controller == NULL || Timeouts == NULL)
        return STATUS_INVALID_PARAMETER;
    RtlZeroMemory(Link, sizeof(*Link));
    Link->Controller = Controller;
    Link->Timeouts = *Timeouts;
    KeQueryPerformanceCounter(&Link->Frequency);
    if (HardwareCapabilities & PPT_ECP_PRESENT) {
        /* On an ECP chip the direction bit works only in ECR mode 001. */
        Link->Chip = DONG_CHIP_ECP;
        Link->EcrRegister = EcpController != NULL ? EcpController + DONG_ECR_FROM_ECP
                                                  : Controller + DONG_ECR_FROM_BASE;
    } else if (HardwareCapabilities & PPT_BYTE_PRESENT) {
        Link->Chip = DONG_CHIP_PS2;
    } else {
        Link->Chip = DONG_CHIP_SPP;
    }
    Link->PreferredLinkByte = Link->Chip == DONG_CHIP_SPP ? DONG_LINK_BYTE_NIBBLE
                                                          : DONG_LINK_BYTE_BYTE;
    DongLinkComputeTiming(Link, AccessTimeNs != 0 ? AccessTimeNs
                                                  : DongLinkMeasureAccess(Link));

    /* A txid must never repeat across loads: take the caller's persisted counter,
       or a value mixed from two clocks. SEQ only has to differ from the key's
       cached request, so it starts from the same mix. */
    KeQuerySystemTime(&systemTime);
    seed = DongLinkMixSeed((ULONGLONG)systemTime.QuadPart ^
                           ((ULONGLONG)DongLinkNow() << 32));
    Link->NextTxid = TxidSeed != 0 ? TxidSeed : (seed != 0 ? seed : 1);
    Link->Seq = (UCHAR)(seed >> 24);
    return STATUS_SUCCESS;
}

/*
 * DongLinkSetTimeouts - see dl1link.h.
 * IRQL: PASSIVE_LEVEL, not during another link call. Returns nothing.
 */
VOID DongLinkSetTimeouts(PDONG_LINK Link, const DONG_TIMEOUTS *Timeouts)
{
    Link->Timeouts = *Timeouts;
}

/* DongLinkKeyOwnsLines - does this status (outside the nibble data phase) come
   from a key in a session? IRQL: any. Returns TRUE when it does. */
static BOOLEAN DongLinkKeyOwnsLines(UCHAR Status)
{
    return (Status & DONG_STS_PERROR) && (Status & (DONG_STS_SELECT | DONG_STS_NFAULT)) &&
           (Status & DONG_STS_LINES) != DONG_PAT_PULLED_UP;
}

/*
 * DongLinkCloseSession - Events 22 to 28 when a key may hold a session, then
 * compatibility idle lines and D0-D7 parked at 0xFF. A key that does not answer
 * Event 24 is left to its idle timeout; the lines are idle either way.
 * IRQL: PASSIVE_LEVEL, port owned. Returns nothing.
 */
VOID DongLinkCloseSession(PDONG_LINK Link)
{
    ULONG timeoutUs = Link->Timeouts.HandshakeMs * 1000;
    BOOLEAN ownsLines;
    UCHAR status;

    if (Link->ShadowValid && Link->Control == DONG_CTL_COMPAT && Link->SessionMode == 0) {
        DongLinkWriteData(Link, 0xFF);
        return;
    }
    ownsLines = DongLinkKeyOwnsLines(DongLinkReadStatusRegister(Link));
    /* Event 22; the same write turns the data lines forward. */
    DongLinkWriteControl(Link, DONG_CTL_COMPAT);
    DongLinkPadReads(Link, Link->Timing.RespondReads);
    /* A key that looked gone gets one look for its Event 24 (a stuck Busy line
       looks like the pull-ups); one that held the lines gets the full timeout. */
    if (DongLinkPoll(Link, DongPollAckLow, ownsLines ? timeoutUs : 0, &status) ==
        DongWaitMet) {
        DongLinkWriteControl(Link, DONG_CTL_COMPAT | DONG_CTL_AUTOFD);     /* Event 25 */
        (VOID)DongLinkPoll(Link, DongPollAckHigh, timeoutUs, &status);    /* Event 27 */
        DongLinkWriteControl(Link, DONG_CTL_COMPAT);                      /* Event 28 */
        /* tRSP before the next Event 0. */
        DongLinkPadReads(Link, Link->Timing.RespondReads);
    }
    DongLinkWriteData(Link, 0xFF);
    Link->ShadowValid = TRUE;
    Link->SessionMode = 0;
}

/*
 * DongLinkNegotiate - Events 0 to 6 and the link phase (51 to 55) with LinkByte.
 * IdleStatus is the status before Event 0; *Answered says whether a key took the bus.
 * IRQL: PASSIVE_LEVEL, port owned, compatibility idle lines.
 * Returns STATUS_SUCCESS with the session open, STATUS_NOT_SUPPORTED when the key
 * refused the link byte, STATUS_DEVICE_DOES_NOT_EXIST when a device refused the
 * extensibility link itself, STATUS_IO_TIMEOUT otherwise.
 */
static NTSTATUS DongLinkNegotiate(PDONG_LINK Link, UCHAR LinkByte, UCHAR IdleStatus,
                                  PBOOLEAN Answered)
{
    const DONG_LINK_TIMING *t = &Link->Timing;
    ULONG timeoutUs = Link->Timeouts.HandshakeMs * 1000;
    BOOLEAN accepted;
    UCHAR status;

    *Answered = FALSE;
    Link->KeyAnswersInAccess = TRUE;
    DongLinkWriteData(Link, DONG_REQUEST_EXT);                          /* Event 0 */
    DongLinkPadReads(Link, t->SetupReads);
    DongLinkWriteControl(Link, DONG_CTL_SESSION | DONG_CTL_AUTOFD);     /* Event 1 */
    if (DongLinkPoll(Link, DongPollEvent2, timeoutUs, &status) != DongWaitMet) {
        /* Lines that changed to a key's pattern: a key took the bus but its
           handshake is broken (no nAck), which is not "no key". */
        *Answered = (status & DONG_STS_LINES) != (IdleStatus & DONG_STS_LINES) &&
                    DongLinkKeyOwnsLines(status);
        return STATUS_IO_TIMEOUT;
    }
    *Answered = TRUE;
    DongLinkWriteControl(Link, DONG_CTL_SESSION | DONG_CTL_AUTOFD | DONG_CTL_STROBE);
    DongLinkPadReads(Link, t->StrobeReads);                             /* Event 3 */
    DongLinkWriteControl(Link, DONG_CTL_SESSION);                       /* Event 4 */
    if (DongLinkPoll(Link, DongPollAckHigh, timeoutUs, &status) != DongWaitMet)
        return STATUS_IO_TIMEOUT;                                       /* Event 6 */
    /* XFlag low: an IEEE 1284 peripheral (a printer) without the DL-1's link. */
    if (!(status & DONG_STS_SELECT))
        return STATUS_DEVICE_DOES_NOT_EXIST;
    DongLinkWriteData(Link, LinkByte);                                  /* Event 51 */
    DongLinkPadReads(Link, t->SetupReads);
    DongLinkWriteControl(Link, DONG_CTL_SESSION | DONG_CTL_STROBE);     /* Event 52 */
    if (DongLinkPoll(Link, DongPollAckLow, timeoutUs, &status) != DongWaitMet)
        return STATUS_IO_TIMEOUT;                                       /* Event 53 */
    accepted = (status & DONG_STS_SELECT) != 0;
    DongLinkPadReads(Link, t->StrobeReads > 1 ? t->StrobeReads - 1 : 0);
    DongLinkWriteControl(Link, DONG_CTL_SESSION);                       /* Event 54 */
    if (DongLinkPoll(Link, DongPollAckHigh, timeoutUs, &status) != DongWaitMet)
        return STATUS_IO_TIMEOUT;                                       /* Event 55 */
    if (!accepted)
        return STATUS_NOT_SUPPORTED;
    Link->SessionMode = LinkByte;
    Link->Stats.SessionsOpened++;
    return STATUS_SUCCESS;
}

/* DongLinkEnterPs2Mode - put an ECP chip in PS/2 mode (ECR 001) for a byte-mode
   session, saving the mode it had. IRQL: PASSIVE_LEVEL, port owned. Returns nothing. */
static VOID DongLinkEnterPs2Mode(PDONG_LINK Link)
{
    UCHAR ecr;

    if (Link->EcrRegister == NULL || Link->EcrChanged)
        return;
    ecr = READ_PORT_UCHAR(Link->EcrRegister);
    if ((ecr & DONG_ECR_MODE_MASK) == DONG_ECR_MODE_PS2)
        return;
    Link->SavedEcr = ecr;
    WRITE_PORT_UCHAR(Link->EcrRegister,
                     (UCHAR)((ecr & (UCHAR)~DONG_ECR_MODE_MASK) | DONG_ECR_MODE_PS2));
    Link->EcrChanged = TRUE;
}

/*
 * DongLinkOpenSession - wait out a reset's NOT-READY, negotiate (byte reverse where
 * the port can, nibble when the key refuses it), and repeat an unanswered
 * negotiation for a key's power-up time. *Attached and *IdleStatus tell what answered.
 * IRQL: PASSIVE_LEVEL, port owned.
 * Returns STATUS_SUCCESS with a session open, else why there is none.
 */
static NTSTATUS DongLinkOpenSession(PDONG_LINK Link, PULONG Attached, PUCHAR IdleStatus)
{
    LONGLONG now = DongLinkNow();
    LONGLONG giveUp;
    BOOLEAN answered;
    NTSTATUS status;

    if (Link->NotReadyUntil > now)
        DongLinkWait(Link, (ULONG)((Link->NotReadyUntil - now) * 1000000 /
                                   Link->Frequency.QuadPart) + 1);
    giveUp = DongLinkNow() + DongLinkTicksFromUs(Link, DONG_T_POWERUP_US);
    *Attached = DONG_PERIPHERAL_KEY;
    for (;;) {
        DongLinkCloseSession(Link);
        *IdleStatus = DongLinkReadStatusRegister(Link);
        if (Link->PreferredLinkByte == DONG_LINK_BYTE_BYTE)
            DongLinkEnterPs2Mode(Link);
        status = DongLinkNegotiate(Link, Link->PreferredLinkByte, *IdleStatus, &answered);
        if (status == STATUS_NOT_SUPPORTED && Link->PreferredLinkByte == DONG_LINK_BYTE_BYTE) {
            DongLinkCloseSession(Link);
            Link->PreferredLinkByte = DONG_LINK_BYTE_NIBBLE;
            status = DongLinkNegotiate(Link, DONG_LINK_BYTE_NIBBLE, *IdleStatus, &answered);
        }
        if (NT_SUCCESS(status)) {
            Link->LastActivity = DongLinkNow();
            return status;
        }
        DongLinkCloseSession(Link);
        if (answered) {
            if (status == STATUS_IO_TIMEOUT)
                Link->Stats.Timeouts++;
            if (status == STATUS_DEVICE_DOES_NOT_EXIST)
                *Attached = DONG_PERIPHERAL_PRINTER;
            return status;
        }
        if (DongLinkNow() >= giveUp)
            return DongLinkClassifyIdle(*IdleStatus, Attached);
    }
}

/*
 * DongLinkEnsureSession - an open session to send on: the current one unless it
 * has been idle long enough for the key to end it, else a new one.
 * IRQL: PASSIVE_LEVEL, port owned. Returns STATUS_SUCCESS or why there is no key.
 */
NTSTATUS DongLinkEnsureSession(PDONG_LINK Link)
{
    ULONG attached;
    UCHAR idle;

    if (Link->SessionMode != 0) {
        if (DongLinkNow() - Link->LastActivity <
            DongLinkTicksFromUs(Link, DONG_T_IDLE_GUARD_US))
            return STATUS_SUCCESS;
        DongLinkCloseSession(Link);
    }
    return DongLinkOpenSession(Link, &attached, &idle);
}

/*
 * DongLinkProbe - see dl1link.h.
 * IRQL: PASSIVE_LEVEL, port owned. Returns STATUS_SUCCESS (Info filled in).
 */
NTSTATUS DongLinkProbe(PDONG_LINK Link, PDONG_INFO Info)
{
    ULONG portNumber = Info->PortNumber, portBase = Info->PortBase;
    ULONG attached, txid, retries;
    NTSTATUS status;
    UCHAR idle;
    const UCHAR *payload = Link->Rx + DONG_FRAME_HEADER;

    /* Every field but the caller's two is the probe's, key fields zero without a key. */
    RtlZeroMemory(Info, sizeof(*Info));
    Info->PortNumber = portNumber;
    Info->PortBase = portBase;
    Info->Chip = Link->Chip;
    Info->Mode = DONG_MODE_NONE;
    /* From pass-through: the status a printer behind the key (or nothing) shows. */
    DongLinkCloseSession(Link);
    status = DongLinkOpenSession(Link, &attached, &idle);
    Info->Attached = attached;
    Info->StatusRegister = idle;
    Info->ProbeStatus = status;
    if (!NT_SUCCESS(status))
        return STATUS_SUCCESS;
    Info->Mode = Link->SessionMode == DONG_LINK_BYTE_BYTE ? DONG_MODE_BYTE : DONG_MODE_NIBBLE;
    status = DongLinkExchange(Link, DL1_CMD_GET_INFO, 0, NULL, 0, &txid, &retries);
    if (NT_SUCCESS(status))
        status = DongLinkKeyStatusToNtStatus(Link->Rx[2]);
    if (NT_SUCCESS(status) && (Link->Rx[3] | (Link->Rx[4] << 8)) < DONG_INFO_PAYLOAD)
        status = STATUS_DEVICE_PROTOCOL_ERROR;
    Info->ProbeStatus = status;
    if (!NT_SUCCESS(status))
        return STATUS_SUCCESS;
    RtlCopyMemory(Info->Serial, payload, DL1_SERIAL_SIZE);
    Info->FirmwareVersion = (USHORT)(payload[DONG_INFO_FW] | (payload[DONG_INFO_FW + 1] << 8));
    Info->MemorySize = (USHORT)(payload[DONG_INFO_MEM] | (payload[DONG_INFO_MEM + 1] << 8));
    Info->Counters = payload[DONG_INFO_COUNTERS];
    Info->VendorId = (USHORT)(payload[DONG_INFO_VENDOR] | (payload[DONG_INFO_VENDOR + 1] << 8));
    Info->ProductId =
        (USHORT)(payload[DONG_INFO_PRODUCT] | (payload[DONG_INFO_PRODUCT + 1] << 8));
    Info->Flags = DONG_INFO_KEY_VALID;
    if (payload[DONG_INFO_FLAGS] & DONG_INFO_FLAG_LOCKED)
        Info->Flags |= DONG_INFO_LOCKED;
    return STATUS_SUCCESS;
}

/*
 * DongLinkResetKey - nInit low for the 50 us that reset the key (and a printer
 * behind it), then idle lines; the next session waits out the 10 ms NOT-READY.
 * IRQL: PASSIVE_LEVEL, port owned. Returns STATUS_SUCCESS.
 */
NTSTATUS DongLinkResetKey(PDONG_LINK Link)
{
    DongLinkWriteControl(Link, DONG_CTL_COMPAT & (UCHAR)~DONG_CTL_NINIT);
    /* The pulse lasts the stall plus the next write's access time. */
    KeStallExecutionProcessor(DONG_T_RESET_US);
    DongLinkWriteControl(Link, DONG_CTL_COMPAT);
    DongLinkWriteData(Link, 0xFF);
    Link->ShadowValid = TRUE;
    Link->SessionMode = 0;
    Link->NotReadyUntil = DongLinkNow() +
                          DongLinkTicksFromUs(Link, DONG_T_RECOVER_US + DONG_T_RSP_NS / 1000);
    return STATUS_SUCCESS;
}

/*
 * DongLinkReadStatus - see dl1link.h.
 * IRQL: PASSIVE_LEVEL (any, if the port is owned). Returns nothing.
 */
VOID DongLinkReadStatus(PDONG_LINK Link, PDONG_PORT_STATUS Status)
{
    UCHAR status = DongLinkReadStatusRegister(Link);

    Status->StatusRegister = status;
    Status->ParallelStatus = DongLinkDecodeStatus(status, Link->SessionMode != 0);
}

/*
 * DongLinkGetStats - see dl1link.h.
 * IRQL: <= DISPATCH_LEVEL. Returns nothing.
 */
VOID DongLinkGetStats(PDONG_LINK Link, PDONG_STATISTICS Stats)
{
    Stats->BytesSent = Link->Stats.BytesSent;
    Stats->BytesReceived = Link->Stats.BytesReceived;
    Stats->FramesSent = Link->Stats.FramesSent;
    Stats->FramesReceived = Link->Stats.FramesReceived;
    Stats->Retries = Link->Stats.Retries;
    Stats->CrcErrors = Link->Stats.CrcErrors;
    Stats->FramingErrors = Link->Stats.FramingErrors;
    Stats->Overruns = Link->Stats.Overruns;
    Stats->Timeouts = Link->Stats.Timeouts;
    Stats->SessionsOpened = Link->Stats.SessionsOpened;
    Stats->SessionsLost = Link->Stats.SessionsLost;
}

/*
 * DongLinkShutdown - see dl1link.h. After it the registers belong to whoever gets
 * the port next, so the shadows are no longer trusted.
 * IRQL: PASSIVE_LEVEL, port owned. Returns nothing.
 */
VOID DongLinkShutdown(PDONG_LINK Link)
{
    DongLinkCloseSession(Link);
    if (Link->EcrChanged) {
        WRITE_PORT_UCHAR(Link->EcrRegister, Link->SavedEcr);
        Link->EcrChanged = FALSE;
    }
    Link->ShadowValid = FALSE;
}
