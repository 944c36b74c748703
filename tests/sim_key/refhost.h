/*
 * refhost.h — the reference DL-1 host routine: drives a simulated parallel port chip
 * through sim_bus register accesses, following the IEEE 1284 event sequence as
 * DL1.md sections 2-6 use it (negotiation with the Extensibility Link, link byte,
 * compatibility forward handshake, nibble or byte reverse, termination).
 *
 * Written from the spec, independently of the key model, so that the key is tested
 * against what a correct host does; shared by tests/sim_key and bench/dl1_floor.c.
 * It waits by polling the STATUS register (every access costs the port's access time
 * on the machine clock); after REFHOST_FAST_POLLS polls a wait also stalls
 * REFHOST_POLL_STALL between polls, as a driver using KeStallExecutionProcessor would.
 */
#ifndef REFHOST_H
#define REFHOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sim/bus.h"
#include "sim/clock.h"

#define REFHOST_TL          SIM_MS(35)   /* IEEE 1284 tL: handshake answer timeout */
#define REFHOST_RESP_BASE   SIM_MS(10)   /* response wait: 10 ms + the key time */
#define REFHOST_FAST_POLLS  64u
#define REFHOST_POLL_STALL  SIM_US(10)
#define REFHOST_FRAME_MAX   (5u + 512u + 2u)

enum {
    RH_OK = 0,
    RH_TIMEOUT = -1,        /* a handshake answer missing after tL */
    RH_REFUSED = -2,        /* link byte refused (session is in REFUSED: close it) */
    RH_LOST = -3,           /* session check: the session is gone */
    RH_EXEC = -4,           /* send stopped: key in SESSION-EXEC (Select low) */
    RH_RESPONSE = -5,       /* send stopped: response ready (nFault low) */
    RH_PROTOCOL = -6,       /* malformed response (bad start byte, LEN > 512) */
    RH_NO_RESPONSE = -7,    /* no nDataAvail within 10 ms + key time */
};

typedef struct refhost {
    sim_bus *bus;
    sim_clock *clk;
    uint16_t base;
    sim_time_t tio;         /* the port's access time */
    uint8_t ctrl;           /* CONTROL as last written */
    uint8_t link;           /* 0x4C / 0x4D while a session is open, else 0 */
    sim_time_t data_at;     /* when the last DATA write took effect */
    sim_time_t strobe_at;   /* when the last nStrobe edge took effect */
    uint8_t last_status;
} refhost;

typedef struct refhost_resp {
    uint8_t seq;
    uint8_t status;         /* full STATUS byte (bit 7 = overrun) */
    uint16_t len;
    uint8_t payload[512];
    bool crc_ok;
} refhost_resp;

/* Attach to a port at base; puts the port in compatibility idle (nInit high,
   nSelectIn low, data 0xFF, forward). */
void refhost_init(refhost *h, sim_bus *bus, uint16_t base, sim_time_t tio);

/* Events 0-6 and 51-55 with link byte 0x4C (nibble) or 0x4D (byte). */
int refhost_open(refhost *h, uint8_t link);
/* Events 22-28 (and tRSP after Event 28). */
int refhost_close(refhost *h);

/* Forward bytes with the compatibility handshake and the session check. *sent counts
   the bytes strobed. Returns RH_OK, or RH_EXEC / RH_RESPONSE / RH_LOST / RH_TIMEOUT. */
int refhost_send(refhost *h, const uint8_t *buf, size_t n, size_t *sent);
/* Wait for nDataAvail (response ready), at most 10 ms + key_time. */
int refhost_wait_response(refhost *h, sim_time_t key_time);
/* Read one response (7 + LEN bytes) in the session's reverse mode. */
int refhost_recv(refhost *h, refhost_resp *r, uint8_t *raw, size_t *raw_len);

/* Build a request frame; returns its length. */
size_t refhost_frame(uint8_t *out, uint8_t seq, uint8_t cmd, const void *payload, uint16_t len);
/* Send a raw frame, wait key_time (+10 ms), read the response. */
int refhost_exchange(refhost *h, const uint8_t *frame, size_t n, sim_time_t key_time,
                     refhost_resp *r);
/* Build, exchange; key time from the command (DL1.md section 7) for the wait. */
int refhost_transact(refhost *h, uint8_t seq, uint8_t cmd, const void *payload, uint16_t len,
                     refhost_resp *r);
/* The command's key time per DL1.md section 7 (upper bound, for the response wait). */
sim_time_t refhost_key_time(uint8_t cmd, const uint8_t *payload, uint16_t len);

/* Compatibility-mode printing outside a session (pass-through to a printer). */
int refhost_print(refhost *h, const uint8_t *buf, size_t n);

/* Register-level helpers, for tests that break the rules on purpose. */
uint8_t refhost_status(refhost *h);
void refhost_control(refhost *h, uint8_t ctrl);
void refhost_data(refhost *h, uint8_t data);
/* Poll STATUS until (status & mask) == value or timeout; RH_OK / RH_TIMEOUT. */
int refhost_wait(refhost *h, uint8_t mask, uint8_t value, sim_time_t timeout);

#endif
