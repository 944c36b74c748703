/*
 * floor.c - the DL-1 protocol floors (floor.h), derived from DL1.md.
 *
 * Conventions of DL1.md section 1: a register access occupies [t, t + tIO); a write
 * changes the lines, and a read samples them, at t + tIO. So consecutive host edges
 * are whole accesses apart, a gap of at least x between two writes costs
 * gap(x) = max(tIO, x rounded up to the tIO grid), and a read that follows a write
 * sees the key's answer (answer time a) no sooner than r = gap(a).
 */
#include "floor.h"

static double max2(double a, double b)
{
    return a > b ? a : b;
}

/* gap - the least time between two host writes that must be x apart. */
static double gap(double x, double tio)
{
    double n = x / tio;
    double whole = (double)(unsigned long long)n;

    return max2(tio, (whole < n ? whole + 1 : whole) * tio);
}

/*
 * Forward, one byte, from a falling edge of nStrobe to the next (DL1.md section 5):
 * the byte on DATA, nStrobe low, nStrobe high, and at least one STATUS read that
 * shows Busy low (a strobe while Busy is high is a lost byte; only a read tells).
 * Busy falls tPROC + tACK after the falling edge, so the read that sees it ends then
 * at the earliest and the next falling edge is one access later; and the edges
 * themselves need tSTB (fall -> rise), tHLD (rise -> DATA) and tSU (DATA -> fall,
 * with the Busy read in between).
 */
static floor_pair forward(double tio)
{
    floor_pair f;
    double edges = gap(DL1_T_STB_NS, tio) + gap(DL1_T_HLD_NS, tio) +
                   max2(gap(DL1_T_SU_NS, tio), 2 * tio);

    f.accesses = 4;
    f.ns = max2(DL1_T_PROC_NS + DL1_T_ACK_NS + tio, edges);
    return f;
}

/*
 * Nibble reverse, one byte = two nibbles, each from Event 7 to the next Event 7:
 * Event 7 (nAutoFd low), one STATUS read that is both the PtrClk check (Event 9) and
 * the four data bits, Event 10 (nAutoFd high), then Event 11 before the next
 * Event 7. Accesses: 3 per nibble; Event 11 needs no read when the next write lands
 * at least tRSP after Event 10 (by tIO >= tRSP, or by a stall). Time: r to the read
 * that sees Event 9, one access to Event 10, then one access when tIO >= tRSP
 * guarantees Event 11, else a read that sees it (r) and the write after it.
 */
static floor_pair nibble(double tio, double answer)
{
    floor_pair f;
    double r = gap(answer, tio);
    double after10 = tio >= DL1_T_RSP_NS ? tio : r + tio;

    f.accesses = 2 * 3;
    f.ns = 2 * (r + tio + after10);
    return f;
}

/*
 * Byte reverse, one byte from Event 7 to the next (the next byte's Event 7 is the
 * same write as this byte's Event 17): Event 7, a read that sees Event 9, Event 10,
 * the DATA read, a read that sees Event 11 ("after seeing Event 11"), Event 16
 * (HostClk low) = 6 accesses. Time: r to Event 9, one access to Event 10, then the
 * DATA and Event 11 reads (two accesses, the second no sooner than r), one access to
 * Event 16, and HostClk low for at least tSTB before Event 17.
 */
static floor_pair byte(double tio, double answer)
{
    floor_pair f;
    double r = gap(answer, tio);

    f.accesses = 6;
    f.ns = r + tio + max2(2 * tio, r) + tio + gap(DL1_T_STB_NS, tio);
    return f;
}

/* floor_per_byte - see floor.h. */
floor_pair floor_per_byte(floor_mode mode, double tio_ns, double answer_ns)
{
    switch (mode) {
    case FLOOR_NIBBLE:
        return nibble(tio_ns, answer_ns);
    case FLOOR_BYTE:
        return byte(tio_ns, answer_ns);
    case FLOOR_FORWARD:
    default:
        return forward(tio_ns);
    }
}

/*
 * floor_echo - one ECHO in an open session, from the first access of the request to
 * the access that lets the next request start:
 * - the first byte: DATA, a read that checks the session (Busy low), nStrobe low
 *   at least tSU after DATA;
 * - F - 1 more forward bytes (F = payload + 7), falling edge to falling edge;
 * - Busy stays high after the last byte; its nAck pulse ends tPROC + tACK after the
 *   falling edge, and the key's time (10 us for ECHO) runs from there;
 * - one read that sees nDataAvail (a host may start Event 7 only in SESSION-REVERSE,
 *   and only a read tells);
 * - F reverse bytes, Event 7 to Event 7; in byte mode the last "next Event 7" is
 *   the last byte's Event 17, a write of this request. In nibble mode the last
 *   nibble's closing access is the next request's first write (it lands tIO after
 *   Event 10, or after the read that saw Event 11), so it is not this request's.
 */
floor_pair floor_echo(floor_mode reverse, unsigned payload, double tio_ns, double answer_ns)
{
    double frame = payload + DL1_FRAME_OVERHEAD;
    floor_pair fwd = forward(tio_ns);
    floor_pair rev = floor_per_byte(reverse, tio_ns, answer_ns);
    double first = tio_ns + max2(gap(DL1_T_SU_NS, tio_ns), 2 * tio_ns);
    floor_pair f;

    f.ns = first + (frame - 1) * fwd.ns + DL1_T_PROC_NS + DL1_T_ACK_NS + DL1_K_ECHO_NS +
           tio_ns + frame * rev.ns - (reverse == FLOOR_NIBBLE ? tio_ns : 0);
    f.accesses = frame * (fwd.accesses + rev.accesses) + 1 + (reverse == FLOOR_BYTE ? 1 : 0);
    return f;
}

/* floor_echo_throughput_ns - see floor.h. */
double floor_echo_throughput_ns(floor_mode reverse, unsigned payload, unsigned ports,
                                double tio_ns, double answer_ns)
{
    floor_pair one = floor_echo(reverse, payload, tio_ns, answer_ns);
    double busy = ports * one.accesses * tio_ns;

    return max2(one.ns, busy) / ((double)ports * payload);
}
