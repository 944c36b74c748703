/*
 * floor.h - the protocol floors of the DL-1 link, derived from DL1.md's handshakes and
 * timing constants (docs/PERFORMANCE.md, "Floors"; docs/LINK.md, "The floor").
 *
 * Two floors per transfer mode and port speed, since polling and stalling trade one
 * for the other: the fewest register accesses the handshake allows, and the least
 * machine time. Every figure is computed here from the constants below, never typed
 * in as a result.
 */
#ifndef BENCH_FLOOR_H
#define BENCH_FLOOR_H

#include <stdbool.h>

/* DL1.md timing, nanoseconds (sections 1, 5 and 7). */
#define DL1_T_SU_NS    500.0    /* data setup before nStrobe's falling edge */
#define DL1_T_STB_NS   500.0    /* nStrobe (and HostClk) low */
#define DL1_T_HLD_NS   500.0    /* data hold after nStrobe's rising edge */
#define DL1_T_PROC_NS  2000.0   /* key works after a forward strobe */
#define DL1_T_ACK_NS   2000.0   /* then pulses nAck; Busy falls at its end */
#define DL1_T_RSP_NS   1000.0   /* bound on the key's answer to a handshake edge */
#define DL1_K_ECHO_NS  10000.0  /* ECHO's key time */

/* Frame bytes around a payload: 0x5A/0xA5, SEQ, CMD/STATUS, LEN u16 ... CRC u16. */
#define DL1_FRAME_OVERHEAD 7u

typedef enum floor_mode {
    FLOOR_FORWARD,   /* compatibility handshake, host -> key, per byte */
    FLOOR_NIBBLE,    /* nibble reverse (session 0x4C), per byte (two nibbles) */
    FLOOR_BYTE,      /* byte reverse (session 0x4D), per byte */
} floor_mode;

typedef struct floor_pair {
    double accesses;  /* register accesses */
    double ns;        /* machine time */
} floor_pair;

/*
 * Per-byte floors of one mode on a port of access time tio_ns, with a key that
 * answers handshake edges answer_ns after the write that made them (<= tRSP).
 */
floor_pair floor_per_byte(floor_mode mode, double tio_ns, double answer_ns);

/*
 * Floors of a whole ECHO of payload bytes in an open session: the request frame
 * forward, the key's time, the response frame in the session's reverse mode
 * (FLOOR_NIBBLE or FLOOR_BYTE).
 */
floor_pair floor_echo(floor_mode reverse, unsigned payload, double tio_ns, double answer_ns);

/*
 * Machine time per payload byte of ECHO requests of `payload` bytes served on
 * `ports` ports at once by one processor: each port needs at least the ECHO's time
 * floor, and the processor makes every port's accesses one after the other.
 */
double floor_echo_throughput_ns(floor_mode reverse, unsigned payload, unsigned ports,
                                double tio_ns, double answer_ns);

#endif
