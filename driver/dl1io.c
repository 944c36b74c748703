/*
 * dl1io.c - register access, status polling and the access-time schedule of the
 * DL-1 link engine.
 *
 * Every wait here is either a count of register accesses (whose machine time is the
 * port's access time, tIO), a whole-microsecond stall, or a poll of the STATUS
 * register whose deadline is kept on KeQueryPerformanceCounter. A poll spins only
 * for DONG_SPIN_US; after that it sleeps between reads, so a key that stopped
 * answering costs the thread nothing while the 35 ms or response timeout runs.
 */
#include <ntddk.h>
#include <parallel.h>
#include <ntddpar.h>
#include "donglpt.h"
#include "dl1link.h"
#include "dl1priv.h"

/*
 * DongLinkReadStatusRegister - one read of STATUS.
 * IRQL: any (the caller owns the port). Returns the register value.
 */
UCHAR DongLinkReadStatusRegister(PDONG_LINK Link)
{
    return READ_PORT_UCHAR(Link->Controller + DONG_REG_STATUS);
}

/*
 * DongLinkReadData - one read of DATA (in reverse direction: the key's byte).
 * IRQL: any (the caller owns the port). Returns the register value.
 */
UCHAR DongLinkReadData(PDONG_LINK Link)
{
    return READ_PORT_UCHAR(Link->Controller + DONG_REG_DATA);
}

/*
 * DongLinkWriteControl - set CONTROL through its shadow: a value already on the
 * lines is not written again, so every write that happens is a line change.
 * IRQL: any (the caller owns the port). Returns nothing.
 */
VOID DongLinkWriteControl(PDONG_LINK Link, UCHAR Control)
{
    if (Link->ShadowValid && Link->Control == Control)
        return;
    WRITE_PORT_UCHAR(Link->Controller + DONG_REG_CONTROL, Control);
    Link->Control = Control;
}

/*
 * DongLinkWriteData - set the DATA latch through its shadow.
 * IRQL: any (the caller owns the port). Returns nothing.
 */
VOID DongLinkWriteData(PDONG_LINK Link, UCHAR Data)
{
    if (Link->ShadowValid && Link->Data == Data)
        return;
    WRITE_PORT_UCHAR(Link->Controller + DONG_REG_DATA, Data);
    Link->Data = Data;
}

/*
 * DongLinkPadReads - let at least Reads access times pass by reading STATUS, the
 * cheapest way to meet a sub-microsecond minimum (docs/LINK.md).
 * IRQL: any (the caller owns the port). Returns nothing.
 */
VOID DongLinkPadReads(PDONG_LINK Link, ULONG Reads)
{
    while (Reads-- != 0)
        (VOID)READ_PORT_UCHAR(Link->Controller + DONG_REG_STATUS);
}

/* DongLinkSessionCheck - DL1.md section 2 for a read while sending or waiting.
   IRQL: any. Returns Lost, Exec, Response, or Pending when all is well. */
static DONG_WAIT DongLinkSessionCheck(UCHAR Status)
{
    if (!(Status & DONG_STS_PERROR) || !(Status & (DONG_STS_SELECT | DONG_STS_NFAULT)))
        return DongWaitLost;
    if (!(Status & DONG_STS_SELECT))
        return DongWaitExec;
    if (!(Status & DONG_STS_NFAULT))
        return DongWaitResponse;
    return DongWaitPending;
}

/*
 * DongLinkPadReadsChecked - DongLinkPadReads while sending: each read also gets
 * the session check, so a key that vanished inside a strobe is noticed there.
 * IRQL: any (the caller owns the port).
 * Returns DongWaitLost when a read showed the session gone, else DongWaitPending.
 */
DONG_WAIT DongLinkPadReadsChecked(PDONG_LINK Link, ULONG Reads, PUCHAR Status)
{
    DONG_WAIT result = DongWaitPending;

    while (Reads-- != 0) {
        *Status = DongLinkReadStatusRegister(Link);
        if (DongLinkSessionCheck(*Status) == DongWaitLost)
            result = DongWaitLost;
    }
    return result;
}

/*
 * DongLinkNow - the performance counter.
 * IRQL: any. Returns the counter value in ticks.
 */
LONGLONG DongLinkNow(VOID)
{
    return KeQueryPerformanceCounter(NULL).QuadPart;
}

/*
 * DongLinkTicksFromUs - microseconds to performance counter ticks, rounded up.
 * IRQL: any. Returns the tick count.
 */
LONGLONG DongLinkTicksFromUs(PDONG_LINK Link, ULONGLONG Us)
{
    return (LONGLONG)((Us * (ULONGLONG)Link->Frequency.QuadPart + 999999) / 1000000);
}

/*
 * DongLinkWait - let Us microseconds pass: a stall when short, a sleep when the
 * wait is long enough that spinning would waste the processor.
 * IRQL: PASSIVE_LEVEL. Returns nothing.
 */
VOID DongLinkWait(PDONG_LINK Link, ULONG Us)
{
    LARGE_INTEGER interval;

    UNREFERENCED_PARAMETER(Link);
    if (Us == 0)
        return;
    if (Us < DONG_SLEEP_US) {
        KeStallExecutionProcessor(Us);
        return;
    }
    interval.QuadPart = -(LONGLONG)Us * 10;
    KeDelayExecutionThread(KernelMode, FALSE, &interval);
}

/*
 * DongLinkClassify - what one STATUS value means for the wait Kind.
 * IRQL: any. Returns DongWaitPending when the poll must go on.
 */
DONG_WAIT DongLinkClassify(DONG_POLL Kind, UCHAR Status)
{
    UCHAR lines = Status & DONG_STS_LINES;
    DONG_WAIT check;

    switch (Kind) {
    case DongPollBusyLow:
        if (Status & DONG_STS_NOT_BUSY)
            return lines == DONG_PAT_FORWARD_IDLE ? DongWaitMet : DongWaitLost;
        return DongLinkSessionCheck(Status);
    case DongPollResponse:
        check = DongLinkSessionCheck(Status);
        if (check == DongWaitResponse)
            return (Status & DONG_STS_NOT_BUSY) ? DongWaitLost : DongWaitMet;
        /* EXEC runs the command; SESSION-FORWARD idle means the key still waits for
           bytes of a frame it got short and will answer BAD_FRAME at its gap timer. */
        return check == DongWaitLost ? DongWaitLost : DongWaitPending;
    case DongPollEvent2:
        /* Busy is not part of Event 2: a stuck Busy line must not pass for "no key". */
        return (Status & DONG_STS_EVENT2) == DONG_PAT_EVENT2 ? DongWaitMet : DongWaitPending;
    case DongPollAckLow:
        return (Status & DONG_STS_NACK) ? DongWaitPending : DongWaitMet;
    case DongPollAckHigh:
        return (Status & DONG_STS_NACK) ? DongWaitMet : DongWaitPending;
    case DongPollReverseData:
        if (!(Status & DONG_STS_NACK))
            return DongWaitMet;
        if (lines == DONG_PAT_REVERSE_WAIT)
            return DongWaitPending;
        if (lines == DONG_PAT_FORWARD_IDLE)
            return DongWaitIdle;
        check = DongLinkSessionCheck(Status);
        return check == DongWaitLost ? DongWaitLost : DongWaitPending;
    }
    return DongWaitLost;
}

/*
 * DongLinkPoll - read STATUS until Kind's condition holds. The common case (met at
 * the first read) costs one access and no clock query.
 * IRQL: PASSIVE_LEVEL. Returns the outcome; *Status is the last value read.
 */
DONG_WAIT DongLinkPoll(PDONG_LINK Link, DONG_POLL Kind, ULONG TimeoutUs, PUCHAR Status)
{
    UCHAR status = DongLinkReadStatusRegister(Link);
    DONG_WAIT result = DongLinkClassify(Kind, status);

    if (result == DongWaitPending)
        return DongLinkPollSlow(Link, Kind, TimeoutUs, Status);
    *Status = status;
    return result;
}

/*
 * DongLinkPollSlow - the rest of a poll whose first read missed: spin for
 * DONG_SPIN_US, then sleep between reads, until TimeoutUs from now. A miss also
 * shows the key answers slower than one access, which the nibble schedule uses.
 * IRQL: PASSIVE_LEVEL. Returns the outcome; *Status is the last value read.
 */
DONG_WAIT DongLinkPollSlow(PDONG_LINK Link, DONG_POLL Kind, ULONG TimeoutUs, PUCHAR Status)
{
    LONGLONG start = DongLinkNow();
    LONGLONG deadline = start + DongLinkTicksFromUs(Link, TimeoutUs);
    LONGLONG spinEnd = start + DongLinkTicksFromUs(Link, DONG_SPIN_US);
    LONGLONG now;
    UCHAR status;
    DONG_WAIT result;

    if (Kind != DongPollResponse && Kind != DongPollBusyLow)
        Link->KeyAnswersInAccess = FALSE;
    for (;;) {
        status = DongLinkReadStatusRegister(Link);
        result = DongLinkClassify(Kind, status);
        if (result != DongWaitPending)
            break;
        now = DongLinkNow();
        if (now >= deadline) {
            result = DongWaitTimeout;
            break;
        }
        if (now >= spinEnd) {
            LONGLONG leftUs = (deadline - now) * 1000000 / Link->Frequency.QuadPart;
            DongLinkWait(Link, leftUs < DONG_SLEEP_US ? (ULONG)leftUs + 1 : DONG_SLEEP_US);
        }
    }
    *Status = status;
    return result;
}

/* DongLinkReadsFor - status reads needed after a write so that NeedNs have passed
   when the next write lands, HaveNs being guaranteed already. Reads always beat a
   1 us stall here: every minimum they cover is at most tRSP past one access.
   IRQL: any. Returns the count. */
static USHORT DongLinkReadsFor(ULONG NeedNs, ULONG HaveNs, ULONG AccessNs)
{
    if (HaveNs >= NeedNs)
        return 0;
    return (USHORT)((NeedNs - HaveNs + AccessNs - 1) / AccessNs);
}

/*
 * DongLinkComputeTiming - derive the access schedule from tIO (docs/LINK.md).
 * IRQL: any. Returns nothing; fills Link->Timing.
 */
VOID DongLinkComputeTiming(PDONG_LINK Link, ULONG AccessNs)
{
    DONG_LINK_TIMING *t = &Link->Timing;
    ULONG afterData;
    ULONG beforePoll;

    if (AccessNs == 0)
        AccessNs = 1;
    t->AccessNs = AccessNs;
    /* A write lands tIO after the previous one: that is what every gap starts with. */
    t->SetupReads = DongLinkReadsFor(DONG_T_SU_NS, AccessNs, AccessNs);
    t->StrobeReads = DongLinkReadsFor(DONG_T_STB_NS, AccessNs, AccessNs);
    t->HoldReads = DongLinkReadsFor(DONG_T_HLD_NS, AccessNs, AccessNs);
    t->RespondReads = DongLinkReadsFor(DONG_T_RSP_NS, AccessNs, AccessNs);
    t->AccessMeetsRsp = AccessNs >= DONG_T_RSP_NS;

    /* From the strobe's falling edge to the end of the next byte's DATA write. */
    afterData = (t->StrobeReads + 1 + t->HoldReads + 1) * AccessNs;
    /* The first Busy poll should end when Busy falls, tPROC + tACK after the edge:
       stall the whole microseconds before it (same time, fewer accesses than
       polling), never past it. */
    beforePoll = afterData + AccessNs;
    t->BusyStallUs = beforePoll < DONG_T_BUSY_NS ? (DONG_T_BUSY_NS - beforePoll) / 1000 : 0;
}

/*
 * DongLinkMeasureAccess - time status reads with the performance counter, in a few
 * rounds each long enough for the counter's resolution, and keep the fastest round:
 * being preempted inside a round only makes it slower, and an access time taken too
 * long would drop pad reads a fast port needs. Rounds down for the same reason.
 * IRQL: PASSIVE_LEVEL. Returns the access time in ns (at least 1).
 */
ULONG DongLinkMeasureAccess(PDONG_LINK Link)
{
    LONGLONG enough = DongLinkTicksFromUs(Link, 20);
    ULONGLONG best = ~0ULL, ns;
    LONGLONG start, elapsed;
    ULONG reads, round;

    for (round = 0; round < 4; round++) {
        reads = 0;
        start = DongLinkNow();
        do {
            DongLinkPadReads(Link, 8);
            reads += 8;
            elapsed = DongLinkNow() - start;
        } while (elapsed < enough && reads < 4096);
        ns = (ULONGLONG)elapsed * 1000000000 / (ULONGLONG)Link->Frequency.QuadPart / reads;
        if (ns < best)
            best = ns;
    }
    return best == 0 ? 1 : (ULONG)best;
}
