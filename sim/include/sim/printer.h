/*
 * sim/printer.h — a compatibility-mode printer (DL1.md section 10), a sim_peripheral.
 *
 * It latches D0-D7 on the falling edge of nStrobe, is Busy for tPRN = 10 us and pulses
 * nAck low for the last 5 us of it; a strobe while Busy is lost (counted). Accepted
 * bytes go into a buffer (4 KiB) that drains at 2 KiB/s (computed in closed form, no
 * per-byte events); when a byte fills the buffer, Busy lasts until one byte has
 * drained, still ending with the 5 us nAck pulse. nInit low for >= 50 us resets it:
 * the buffer is emptied and a busy cycle is cut short. It ignores nAutoFd and
 * nSelectIn, so an IEEE 1284 negotiation gets no answer.
 *
 * Status lines per state (register value on an SPP in brackets):
 *   online idle  Busy L nAck H PError L Select H nFault H  (0xDF)
 *   online busy  Busy H nAck H/L PError L Select H nFault H (0x5F)
 *   paper out    Busy H nAck H PError H Select L nFault L  (0x67)
 *   offline      Busy H nAck H PError L Select L nFault L  (0x47)
 *   powered off  Busy L nAck L PError L Select L nFault L  (0x87)
 * In paper out, offline and powered off every strobe is lost (counted); a powered-off
 * printer also ignores nInit.
 *
 * Not thread-safe (callers serialise, as for the clock).
 */
#ifndef SIM_PRINTER_H
#define SIM_PRINTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sim/lines.h"

#define SIM_PRINTER_TPRN_NS      SIM_US(10)
#define SIM_PRINTER_TACK_NS      SIM_US(5)
#define SIM_PRINTER_RESET_NS     SIM_US(50)
#define SIM_PRINTER_BUFFER       4096u
#define SIM_PRINTER_DRAIN_BPS    2048u

typedef struct sim_printer sim_printer;

typedef struct sim_printer_config {
    /* Paper runs out after this many accepted bytes (0 = never). The byte reaching the
       count is taken normally (full Busy/nAck cycle), then the printer is paper out. */
    uint64_t paper_out_after;
    size_t buffer_size;          /* 0 = SIM_PRINTER_BUFFER */
    unsigned drain_bytes_per_s;  /* 0 = SIM_PRINTER_DRAIN_BPS */
} sim_printer_config;

typedef enum sim_printer_state {
    SIM_PRINTER_ONLINE,      /* idle or in a Busy/nAck cycle */
    SIM_PRINTER_BUSY,        /* fault: stuck busy (0x5F) until set ONLINE */
    SIM_PRINTER_PAPER_OUT,
    SIM_PRINTER_OFFLINE,
    SIM_PRINTER_POWERED_OFF,
} sim_printer_state;

const char *sim_printer_state_name(sim_printer_state s);

/* cfg NULL = defaults. The printer lives on clk; destroy it through its peripheral. */
sim_printer *sim_printer_create(sim_clock *clk, const sim_printer_config *cfg);
sim_peripheral *sim_printer_peripheral(sim_printer *pr);
/* The printer behind a peripheral made by sim_printer_create; NULL otherwise. */
sim_printer *sim_printer_from_peripheral(sim_peripheral *p);

/*
 * Fault setters. set_state takes effect now (SIM_PRINTER_ONLINE clears a fault, paper
 * out included: new paper). The _at form fires at machine time `when` (now if past);
 * the _after_bytes form fires when `count` more bytes have been accepted, the last of
 * them taken normally. One pending trigger of each kind; arming replaces it.
 */
void sim_printer_set_state(sim_printer *pr, sim_printer_state s);
void sim_printer_set_state_at(sim_printer *pr, sim_printer_state s, sim_time_t when);
void sim_printer_set_state_after_bytes(sim_printer *pr, sim_printer_state s, uint64_t count);

/* Inspection. */
sim_printer_state sim_printer_get_state(const sim_printer *pr);
bool sim_printer_busy(const sim_printer *pr);       /* Busy line high now */
size_t sim_printer_received(const sim_printer *pr, const uint8_t **bytes); /* in order */
size_t sim_printer_buffer_level(const sim_printer *pr);  /* bytes not yet printed */
uint64_t sim_printer_lost_strobes(const sim_printer *pr);
uint64_t sim_printer_resets(const sim_printer *pr);
void sim_printer_clear_received(sim_printer *pr);

#endif
