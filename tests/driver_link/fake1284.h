/*
 * fake1284.h — a scripted IEEE 1284 peripheral (fake1284.c) for the negotiation
 * refusals a DL-1 never makes: a printer that refuses the extensibility link, a
 * key that refuses link bytes.
 */
#ifndef FAKE1284_H
#define FAKE1284_H

#include <stdbool.h>
#include "sim/clock.h"
#include "sim/lines.h"

typedef struct fake1284 fake1284;

typedef struct fake1284_config {
    bool accept_extensibility;   /* Select at Event 6 */
    bool accept_nibble;          /* Select at Event 53 for 0x4C */
    bool accept_byte;            /* ... for 0x4D */
} fake1284_config;

typedef struct fake1284_counts {
    unsigned negotiations;       /* Event 1 seen */
    unsigned terminations;       /* Event 28 seen */
    unsigned link_byte_count;
    unsigned char link_bytes[4]; /* the first link bytes offered */
} fake1284_counts;

/* Destroyed through its peripheral (the port owns it once attached). */
fake1284 *fake1284_create(sim_clock *clk, const fake1284_config *cfg);
sim_peripheral *fake1284_peripheral(fake1284 *f);
fake1284_counts fake1284_get_counts(const fake1284 *f);

#endif
