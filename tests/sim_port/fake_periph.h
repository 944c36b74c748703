/*
 * fake_periph.h — a scriptable peripheral for the port tests: records what the port
 * tells it, drives whatever lines the test sets.
 */
#ifndef TEST_FAKE_PERIPH_H
#define TEST_FAKE_PERIPH_H

#include <stdlib.h>
#include "sim/lines.h"

typedef struct fake_periph {
    sim_peripheral p;
    sim_periph_lines drive;
    sim_host_lines last;
    unsigned host_calls;
    int *destroyed;          /* set to 1 on destroy, when not NULL */
} fake_periph;

static void fake_host_changed(sim_peripheral *p, const sim_host_lines *l)
{
    fake_periph *f = (fake_periph *)p;
    f->last = *l;
    f->host_calls++;
}

static sim_periph_lines fake_lines(sim_peripheral *p)
{
    return ((fake_periph *)p)->drive;
}

static void fake_destroy(sim_peripheral *p)
{
    fake_periph *f = (fake_periph *)p;
    if (f->destroyed)
        *f->destroyed = 1;
    free(f);
}

static const sim_peripheral_ops fake_ops = { fake_host_changed, fake_lines, fake_destroy };

static inline fake_periph *fake_create(sim_clock *clk)
{
    fake_periph *f = calloc(1, sizeof(*f));
    f->p.ops = &fake_ops;
    f->p.clock = clk;
    f->drive = sim_lines_pulled_up();
    return f;
}

/* Change the lines the fake drives and tell the port, as a real peripheral does. */
static inline void fake_set(fake_periph *f, sim_periph_lines l)
{
    f->drive = l;
    sim_peripheral_notify(&f->p);
}

#endif
