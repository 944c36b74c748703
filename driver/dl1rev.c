/*
 * dl1rev.c - the reverse (key -> host) handshakes of DL1.md section 5.
 *
 * Nibble (session 0x4C), per nibble: Event 7 (nAutoFd low), one status read that is
 * both the PtrClk check (Event 9) and the four data bits, Event 10 (nAutoFd high).
 * Event 11 (nAck high) is awaited with a read only when the next write could land
 * before it: when tIO >= tRSP and the key has answered every edge within one access,
 * the next Event 7 lands after Event 11 by the key's own timing guarantee.
 *
 * Byte (session 0x4D), per byte: Event 7 (nAutoFd low; for the first byte the same
 * write turns the data lines around), status read for Event 9, Event 10, the DATA
 * read (the key holds the byte until Event 16, and this read fills the wait for
 * Event 11), status read for Event 11, Event 16 (HostClk low, held tSTB by pad
 * reads on a port faster than tSTB). Event 17 is the same
 * write as the next byte's Event 7, or, after the last byte, the write that turns
 * the data lines forward again (DongLinkEndReverse).
 */
#include <ntddk.h>
#include <parallel.h>
#include <ntddpar.h>
#include "donglpt.h"
#include "dl1link.h"
#include "dl1priv.h"

/* DongLinkNibbleBits - four data bits from a nibble-phase status: nFault, Select,
   PError, Busy line. IRQL: any. Returns the nibble. */
static UCHAR DongLinkNibbleBits(UCHAR Status)
{
    return (UCHAR)(((Status >> 3) & 0x07) | ((~Status >> 4) & 0x08));
}

/* DongLinkReceiveNibble - one nibble: Events 7 to 10 (and 11 when it must be seen).
   IRQL: PASSIVE_LEVEL, port owned. Returns DongWaitMet or why not. */
static DONG_WAIT DongLinkReceiveNibble(PDONG_LINK Link, PUCHAR Bits, PUCHAR Status)
{
    ULONG timeoutUs = Link->Timeouts.HandshakeMs * 1000;
    DONG_WAIT result;

    DongLinkWriteControl(Link, DONG_CTL_SESSION | DONG_CTL_AUTOFD);
    result = DongLinkPoll(Link, DongPollReverseData, timeoutUs, Status);
    if (result != DongWaitMet)
        return result;
    *Bits = DongLinkNibbleBits(*Status);
    DongLinkWriteControl(Link, DONG_CTL_SESSION);
    if (Link->Timing.AccessMeetsRsp && Link->KeyAnswersInAccess)
        return DongWaitMet;
    return DongLinkPoll(Link, DongPollAckHigh, timeoutUs, Status);
}

/* DongLinkReceiveByte - one byte in byte mode: Events 7 to 16.
   IRQL: PASSIVE_LEVEL, port owned. Returns DongWaitMet or why not. */
static DONG_WAIT DongLinkReceiveByte(PDONG_LINK Link, PUCHAR Byte, PUCHAR Status)
{
    ULONG timeoutUs = Link->Timeouts.HandshakeMs * 1000;
    DONG_WAIT result;

    DongLinkWriteControl(Link, DONG_CTL_SESSION | DONG_CTL_REVERSE | DONG_CTL_AUTOFD);
    result = DongLinkPoll(Link, DongPollReverseData, timeoutUs, Status);
    if (result != DongWaitMet)
        return result;
    DongLinkWriteControl(Link, DONG_CTL_SESSION | DONG_CTL_REVERSE);
    *Byte = DongLinkReadData(Link);
    result = DongLinkPoll(Link, DongPollAckHigh, timeoutUs, Status);
    if (result != DongWaitMet)
        return result;
    DongLinkWriteControl(Link, DONG_CTL_SESSION | DONG_CTL_REVERSE | DONG_CTL_STROBE);
    /* HostClk stays low for tSTB (DL1.md section 5); Event 17 is the next write. */
    DongLinkPadReads(Link, Link->Timing.StrobeReads);
    return DongWaitMet;
}

/* DongLinkReceiveNibbles - one byte in nibble mode, low nibble first.
   IRQL: PASSIVE_LEVEL, port owned. Returns DongWaitMet or why not. */
static DONG_WAIT DongLinkReceiveNibbles(PDONG_LINK Link, PUCHAR Byte, PUCHAR Status)
{
    DONG_WAIT result;
    UCHAR low, high;

    result = DongLinkReceiveNibble(Link, &low, Status);
    if (result != DongWaitMet)
        return result;
    result = DongLinkReceiveNibble(Link, &high, Status);
    if (result != DongWaitMet)
        return result;
    *Byte = (UCHAR)(low | (high << 4));
    return DongWaitMet;
}

/*
 * DongLinkReceive - read the next Length response bytes in the session's mode.
 * IRQL: PASSIVE_LEVEL, port owned, the key in SESSION-REVERSE.
 * Returns DongWaitMet; DongWaitIdle when the key ended its response early;
 * DongWaitLost or DongWaitTimeout when the handshake failed (the caller abandons
 * the response by closing the session). *Status is the last status read.
 */
DONG_WAIT DongLinkReceive(PDONG_LINK Link, PUCHAR Buffer, ULONG Length, PUCHAR Status)
{
    DONG_WAIT result = DongWaitMet;
    ULONG i;

    for (i = 0; i < Length; i++) {
        if (Link->SessionMode == DONG_LINK_BYTE_BYTE)
            result = DongLinkReceiveByte(Link, &Buffer[i], Status);
        else
            result = DongLinkReceiveNibbles(Link, &Buffer[i], Status);
        if (result != DongWaitMet)
            break;
    }
    Link->Stats.BytesReceived += i;
    return result;
}

/*
 * DongLinkEndReverse - after the last response byte: in byte mode, Event 17 in the
 * write that turns the data lines forward again. Nibble mode ends at Event 10.
 * IRQL: PASSIVE_LEVEL, port owned. Returns nothing.
 */
VOID DongLinkEndReverse(PDONG_LINK Link)
{
    DongLinkWriteControl(Link, DONG_CTL_SESSION);
}
