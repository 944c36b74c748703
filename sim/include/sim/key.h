/*
 * sim/key.h — the DL-1 software key (shared/spec/DL1.md), a sim_peripheral.
 *
 * The key sits between a port chip and an optional peripheral behind it (normally a
 * printer, DL1.md section 10). It sees only line levels (sim/lines.h): host line
 * changes arrive through ops->host_changed at the clock's now(); it answers through
 * ops->lines() and calls sim_peripheral_notify() whenever its host-side lines change.
 * Outside a session (NOT-READY, PASS-THROUGH) every host line reaches the peripheral
 * behind it and the host sees that peripheral's status lines (or pull-ups).
 *
 * Non-volatile state (serial, secret, lock, counters, EEPROM, txid journal) lives in
 * an image file (docs/KEY_IMAGE.md), loaded at creation and rewritten atomically
 * after each non-volatile change completes.
 *
 * Not thread-safe: like the clock, callers serialise (nthost runs one thread at a time).
 */
#ifndef SIM_KEY_H
#define SIM_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sim/clock.h"
#include "sim/lines.h"

#define SIM_KEY_SERIAL_LEN   8
#define SIM_KEY_SECRET_LEN   32
#define SIM_KEY_MEM_SIZE     2048
#define SIM_KEY_PAGE_SIZE    16
#define SIM_KEY_COUNTERS     8
#define SIM_KEY_MAX_PAYLOAD  512

/* Default answer time (DL1.md section 1: the simulated key answers after 0.5 us). */
#define SIM_KEY_DEFAULT_ANSWER_NS SIM_NS(500)

typedef struct sim_key sim_key;

typedef struct sim_key_config {
    /* Image file; NULL = a volatile key that persists nothing (tests, benchmarks). */
    const char *image_path;
    /* Missing image file: create a fresh key (serial, secret below) instead of failing. */
    bool create_if_missing;
    /* Used when a fresh key is made (no image, or image_path NULL). */
    uint8_t serial[SIM_KEY_SERIAL_LEN];
    uint8_t secret[SIM_KEY_SECRET_LEN];
    /* Delay of every handshake answer; 0 = SIM_KEY_DEFAULT_ANSWER_NS. Must stay <= tRSP
       (1 us) for a conforming key; a larger value models a non-conforming one. */
    sim_time_t answer_ns;
    /* Slow key (DL1.md section 9): answer time, tPROC, tACK, every key time and the
       20 us of a non-executing response are multiplied by this. 0 or 1 = normal. */
    unsigned slow_factor;
} sim_key_config;

/*
 * Create a key on clk, powered up at now() (NOT-READY for 100 ms). behind is the
 * peripheral on the pass-through connector, or NULL; the key takes ownership of it
 * (its destroy is called from the key's destroy) and becomes its upstream.
 * Returns NULL with a message in err when the image cannot be loaded or created
 * (missing without create_if_missing, corrupt, truncated, I/O error); behind then
 * stays the caller's.
 */
sim_peripheral *sim_key_create(sim_clock *clk, const sim_key_config *cfg,
                               sim_peripheral *behind, char *err, size_t errlen);

/* The key behind a peripheral made by sim_key_create; NULL for any other peripheral. */
sim_key *sim_key_from_peripheral(sim_peripheral *p);
sim_peripheral *sim_key_peripheral(sim_key *k);

/* Write a fresh key image (serial, secret, defaults of DL1.md section 7) to path,
   replacing any file there. Returns 0, or -1 with a message in err. */
int sim_key_image_create(const char *path, const uint8_t serial[SIM_KEY_SERIAL_LEN],
                         const uint8_t secret[SIM_KEY_SECRET_LEN], char *err, size_t errlen);

/* ---- Inspection (tests) -------------------------------------------------------- */

typedef enum sim_key_state {
    SIM_KEY_OFF,              /* unplugged or unpowered (fault injection) */
    SIM_KEY_NOT_READY,
    SIM_KEY_PASS_THROUGH,
    SIM_KEY_NEGOTIATING,
    SIM_KEY_LINK,
    SIM_KEY_REFUSED,
    SIM_KEY_SESSION_FORWARD,
    SIM_KEY_SESSION_EXEC,
    SIM_KEY_SESSION_REVERSE,
    SIM_KEY_TERMINATING,
} sim_key_state;

sim_key_state sim_key_get_state(const sim_key *k);
const char *sim_key_state_name(sim_key_state s);
/* Session reverse mode: 0x4C nibble, 0x4D byte, 0 when no session is open. */
uint8_t sim_key_session_mode(const sim_key *k);

typedef struct sim_key_stats {
    /* The GET_STATS counters (saturating u16, since the last power-up). */
    uint16_t framing_errors;
    uint16_t overruns;
    uint16_t crc_errors;
    uint16_t resets;
    /* Simulator-only counts since creation (never reset). */
    uint64_t commands_executed;  /* commands that ran (not errors, not resends) */
    uint64_t cache_resends;      /* answered from the volatile response cache */
    uint64_t journal_replays;    /* answered from the non-volatile txid journal */
    uint64_t forward_bytes;      /* bytes latched at an accepted strobe falling edge */
    uint64_t reverse_bytes;      /* response bytes handed to the host */
    uint64_t page_writes;        /* EEPROM pages committed */
    uint64_t image_writes;       /* image file rewrites */
    uint64_t sessions;           /* links accepted */
} sim_key_stats;

void sim_key_get_stats(const sim_key *k, sim_key_stats *out);
uint32_t sim_key_counter(const sim_key *k, unsigned index);
void sim_key_read_eeprom(const sim_key *k, uint16_t addr, void *buf, size_t len);
bool sim_key_locked(const sim_key *k);
void sim_key_serial(const sim_key *k, uint8_t out[SIM_KEY_SERIAL_LEN]);
/* The secret is never readable by a command; tests compare MACs with it. */
void sim_key_secret(const sim_key *k, uint8_t out[SIM_KEY_SECRET_LEN]);
/* Last image write error (empty string when none); the key keeps running on error. */
const char *sim_key_image_error(const sim_key *k);

/* ---- Fault injection (DL1.md section 9, the key's part) ------------------------- */

typedef enum sim_key_fault_kind {
    SIM_KEY_FAULT_UNPLUG,        /* key (and whatever is behind it) off the cable: lines float */
    SIM_KEY_FAULT_PLUG,          /* plugged back in: power-up (NOT-READY 100 ms) */
    SIM_KEY_FAULT_POWER_LOSS,    /* power lost now; back after `duration` (0 = stays off
                                    until SIM_KEY_FAULT_POWER_ON). A page being written
                                    holds its old content; volatile state is lost. While
                                    off the key drives nothing and, its pass-through
                                    being passive, the host and the printer behind it
                                    still see each other. */
    SIM_KEY_FAULT_POWER_ON,
    SIM_KEY_FAULT_STUCK_BUSY,    /* arg 1: Busy line held high whatever the key does; 0: off */
    SIM_KEY_FAULT_MISSING_NACK,  /* the next `arg` nAck pulses are not made (UINT32_MAX: all,
                                    0: stop); the handshake otherwise proceeds */
    SIM_KEY_FAULT_SLOW,          /* slow factor k = arg (0/1 = normal speed) */
    SIM_KEY_FAULT_DROP_FORWARD,  /* the next `arg` forward bytes are handshaken normally but
                                    never reach the frame parser (UINT32_MAX: all) */
    SIM_KEY_FAULT_CORRUPT_CRC,   /* the next `arg` responses go out with a wrong CRC
                                    (UINT32_MAX: all); the cache keeps the right one */
    SIM_KEY_FAULT_WORN_PAGE,     /* page index arg (0..127) fails write-verify from now on */
    SIM_KEY_FAULT_HEAL_PAGE,     /* page index arg writes normally again */
} sim_key_fault_kind;

typedef struct sim_key_fault {
    sim_key_fault_kind kind;
    uint32_t arg;
    sim_time_t duration;
} sim_key_fault;

typedef enum sim_key_trigger_kind {
    SIM_KEY_TRIGGER_NOW,
    SIM_KEY_TRIGGER_AT,              /* at machine time `time` (now if already past) */
    SIM_KEY_TRIGGER_AFTER_FORWARD,   /* at the falling edge of the `count`-th forward byte
                                        latched from now on (1 = the next one); the byte
                                        itself is handled first */
    SIM_KEY_TRIGGER_IN_PAGE_WRITE,   /* `time` after the start of the `count`-th EEPROM page
                                        write from now on (1 = the next one) */
    SIM_KEY_TRIGGER_AFTER_RESPONSES, /* when the `count`-th response from now on is ready */
} sim_key_trigger_kind;

typedef struct sim_key_trigger {
    sim_key_trigger_kind kind;
    sim_time_t time;
    uint64_t count;
} sim_key_trigger;

/* Arm a fault. Returns 0, or -1 when too many faults are armed (SIM_KEY_MAX_FAULTS). */
#define SIM_KEY_MAX_FAULTS 16
int sim_key_inject(sim_key *k, const sim_key_trigger *when, const sim_key_fault *what);

/* Shorthands for the immediate case. */
void sim_key_unplug(sim_key *k);
void sim_key_plug(sim_key *k);
void sim_key_power_loss(sim_key *k, sim_time_t off_for);
void sim_key_set_slow(sim_key *k, unsigned factor);
bool sim_key_plugged(const sim_key *k);

#endif
