/*
 * dl1fwd.c - the forward (host -> key) compatibility handshake of DL1.md section 5.
 *
 * Per byte, on the lines: DATA, then nStrobe low (the key latches the byte and sets
 * Busy), nStrobe high, the next byte on DATA once tHLD has passed, and a status read
 * that sees Busy low before the next falling edge. The Busy read is also the session
 * check of DL1.md section 2. Gaps shorter than tSU/tSTB/tHLD are padded with status
 * reads (Link->Timing); the wait for Busy starts with a stall of the whole
 * microseconds that tPROC + tACK certainly take, so that on a slow port one read
 * usually finds Busy low (docs/LINK.md, "Forward").
 */
#include <ntddk.h>
#include <parallel.h>
#include <ntddpar.h>
#include "donglpt.h"
#include "dl1link.h"
#include "dl1priv.h"

/* DongLinkPadLeft - pad reads still needed when Done reads already separate two
   writes. IRQL: any. Returns the count. */
static ULONG DongLinkPadLeft(USHORT Needed, ULONG Done)
{
    return Needed > Done ? Needed - Done : 0;
}

/*
 * DongLinkSendFrame - strobe Length bytes to the key in SESSION-FORWARD and park
 * D0-D7 at 0xFF after the last one.
 * IRQL: PASSIVE_LEVEL, port owned, session open.
 * Returns DongWaitMet when every byte was strobed; DongWaitExec or DongWaitResponse
 * when the key stopped the frame early (it answers it: read the response);
 * DongWaitLost or DongWaitTimeout when the session failed before the last strobe.
 * *Status is the last status read.
 */
DONG_WAIT DongLinkSendFrame(PDONG_LINK Link, const UCHAR *Bytes, ULONG Length,
                            PUCHAR Status)
{
    const DONG_LINK_TIMING *t = &Link->Timing;
    ULONG timeoutUs = Link->Timeouts.HandshakeMs * 1000;
    ULONG sent = 0;
    DONG_WAIT result, pad;

    /* The first byte goes out like every other: on DATA, then a status read that
       proves the session is still there (idle timeout, reset) and Busy is low. */
    DongLinkWriteData(Link, Bytes[0]);
    result = DongLinkPoll(Link, DongPollBusyLow, timeoutUs, Status);
    while (result == DongWaitMet) {
        if (DongLinkPadReadsChecked(Link, DongLinkPadLeft(t->SetupReads, 1), Status) ==
            DongWaitLost) {
            result = DongWaitLost;
            break;
        }
        DongLinkWriteControl(Link, DONG_CTL_SESSION | DONG_CTL_STROBE);
        /* A strobe once started is finished, whatever the pad reads show. */
        pad = DongLinkPadReadsChecked(Link, t->StrobeReads, Status);
        DongLinkWriteControl(Link, DONG_CTL_SESSION);
        if (DongLinkPadReadsChecked(Link, t->HoldReads, Status) == DongWaitLost)
            pad = DongWaitLost;
        sent++;
        /* The next byte may go on the lines while Busy is still high. */
        DongLinkWriteData(Link, sent < Length ? Bytes[sent] : 0xFF);
        /* After the last byte the response wait checks the session. */
        if (sent == Length)
            break;
        if (pad == DongWaitLost) {
            result = DongWaitLost;
            break;
        }
        if (t->BusyStallUs != 0)
            KeStallExecutionProcessor(t->BusyStallUs);
        result = DongLinkPoll(Link, DongPollBusyLow, timeoutUs, Status);
    }
    /* Whatever stopped the frame, D0-D7 must not stay all low (DL1.md section 8);
       after a whole frame they are parked already and the shadow skips this. */
    DongLinkWriteData(Link, 0xFF);
    Link->Stats.BytesSent += sent;
    if (result == DongWaitMet)
        Link->Stats.FramesSent++;
    return result;
}
