/*
 * sim/lines.h — the parallel cable: line levels at the DB-25 connector and the
 * interface every peripheral (DL-1 key, printer, fault wrappers) implements.
 *
 * Levels are electrical: true = high (H), false = low (L). The port chip model turns
 * register bits into these levels and back (DL1.md section 11 inversions live only in
 * the chip model). "Nothing attached" is no peripheral: every status line pulled high,
 * D0-D7 undriven by the far end.
 */
#ifndef SIM_LINES_H
#define SIM_LINES_H

#include <stdbool.h>
#include <stdint.h>
#include "sim/clock.h"

/* Lines the host drives. */
typedef struct sim_host_lines {
    uint8_t data;        /* D0-D7 as the host drives them (meaningful when data_driven) */
    bool data_driven;    /* false in reverse direction (PS/2 or ECR mode 001 with dir bit set) */
    bool nStrobe;        /* HostClk */
    bool nAutoFd;        /* HostBusy */
    bool nInit;
    bool nSelectIn;      /* 1284Active */
} sim_host_lines;

/* Lines the peripheral side drives. */
typedef struct sim_periph_lines {
    bool busy;           /* PtrBusy, line level */
    bool nAck;           /* PtrClk */
    bool perror;         /* AckDataReq */
    bool select;         /* XFlag */
    bool nFault;         /* nDataAvail */
    bool data_driven;    /* peripheral drives D0-D7 (byte-mode reverse) */
    uint8_t data;
} sim_periph_lines;

/* The pull-up pattern: what the host sees with nothing attached. */
static inline sim_periph_lines sim_lines_pulled_up(void)
{
    sim_periph_lines l = { true, true, true, true, true, false, 0xFF };
    return l;
}

/* Host-side idle lines as a printer connector sees them when the key owns the bus. */
static inline sim_host_lines sim_lines_host_idle(void)
{
    sim_host_lines l = { 0xFF, true, true, true, true, false };
    return l;
}

typedef struct sim_peripheral sim_peripheral;

/* Upstream notification: the peripheral's lines changed at the clock's now(). */
typedef void sim_lines_changed_fn(void *upstream);

typedef struct sim_peripheral_ops {
    /* Host lines changed at the clock's now(). Called once per host write that changed
       any line, in order. The peripheral schedules its reactions on the clock. */
    void (*host_changed)(sim_peripheral *p, const sim_host_lines *lines);
    /* Current peripheral-side lines at now(). */
    sim_periph_lines (*lines)(sim_peripheral *p);
    void (*destroy)(sim_peripheral *p);
} sim_peripheral_ops;

struct sim_peripheral {
    const sim_peripheral_ops *ops;
    sim_clock *clock;
    sim_lines_changed_fn *notify;  /* set by whoever is upstream (port chip or a key) */
    void *upstream;
};

static inline void sim_peripheral_notify(sim_peripheral *p)
{
    if (p->notify)
        p->notify(p->upstream);
}

#endif
