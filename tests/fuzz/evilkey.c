/*
 * evilkey.c — the scripted peripheral of evilkey.h.
 */
#include "evilkey.h"

#include <stdlib.h>
#include <string.h>

#define EV_BUSY    0x01u
#define EV_NACK    0x02u
#define EV_PERROR  0x04u
#define EV_SELECT  0x08u
#define EV_NFAULT  0x10u
#define EV_DATA    0x20u
#define EV_DELAY   0x40u
#define EV_GLITCH  0x80u
#define EV_DELAY_UNIT SIM_NS(250)
#define EV_GLITCH_AFTER SIM_US(1)

typedef struct evilkey {
    sim_peripheral base;
    sim_peripheral *inner;      /* evilkey_wrap: the device whose lines are spoilt */
    uint8_t flip, data_flip;    /* evilkey_wrap: the current fault mask */
    uint8_t *script;
    size_t len, pos;
    sim_periph_lines now, next;
    bool host_drives_data;
    sim_event apply_ev, glitch_ev;
} evilkey;

static int next_byte(evilkey *e)
{
    return e->pos < e->len ? e->script[e->pos++] : -1;
}

static void apply(sim_event *ev, void *ctx)
{
    evilkey *e = ctx;
    (void)ev;
    e->now = e->next;
    if (e->host_drives_data)
        e->now.data_driven = false;
    sim_peripheral_notify(&e->base);
}

static void glitch(sim_event *ev, void *ctx)
{
    evilkey *e = ctx;
    (void)ev;
    e->now.nAck = !e->now.nAck;
    sim_peripheral_notify(&e->base);
}

/* host_changed - the host moved a line: the script says what the device does. */
static void evil_host_changed(sim_peripheral *p, const sim_host_lines *lines)
{
    evilkey *e = (evilkey *)p;
    sim_clock *clk = p->clock;
    int b = next_byte(e);

    e->host_drives_data = lines->data_driven;
    if (b < 0) {
        e->next = sim_lines_pulled_up();
        apply(NULL, e);
        return;
    }
    e->next.busy = b & EV_BUSY;
    e->next.nAck = b & EV_NACK;
    e->next.perror = b & EV_PERROR;
    e->next.select = b & EV_SELECT;
    e->next.nFault = b & EV_NFAULT;
    e->next.data_driven = (b & EV_DATA) && !lines->data_driven;
    if (b & EV_DATA) {
        int d = next_byte(e);
        e->next.data = (uint8_t)(d < 0 ? 0xFF : d);
    }
    if (b & EV_DELAY) {
        int d = next_byte(e);
        sim_event_schedule(clk, &e->apply_ev, sim_now(clk) + (sim_time_t)((d < 0 ? 0 : d) + 1) * EV_DELAY_UNIT);
    } else {
        apply(NULL, e);
    }
    if (b & EV_GLITCH)
        sim_event_schedule(clk, &e->glitch_ev, sim_now(clk) + EV_GLITCH_AFTER);
}

static sim_periph_lines evil_lines(sim_peripheral *p)
{
    return ((evilkey *)p)->now;
}

static void evil_destroy(sim_peripheral *p)
{
    evilkey *e = (evilkey *)p;
    sim_event_cancel(p->clock, &e->apply_ev);
    sim_event_cancel(p->clock, &e->glitch_ev);
    if (e->inner)
        e->inner->ops->destroy(e->inner);
    free(e->script);
    free(e);
}

static const sim_peripheral_ops evil_ops = { evil_host_changed, evil_lines, evil_destroy };

/* wrap_host_changed - the inner device sees the change; the script picks the mask. */
static void wrap_host_changed(sim_peripheral *p, const sim_host_lines *lines)
{
    evilkey *e = (evilkey *)p;
    int b = next_byte(e), d = 0;

    if (b > 0 && (b & EV_DATA))
        d = next_byte(e);
    e->flip = b > 0 ? (uint8_t)(b & (EV_BUSY | EV_NACK | EV_PERROR | EV_SELECT | EV_NFAULT)) : 0;
    e->data_flip = d > 0 ? (uint8_t)d : 0;
    e->inner->ops->host_changed(e->inner, lines);
    sim_peripheral_notify(p);
}

static sim_periph_lines wrap_lines(sim_peripheral *p)
{
    evilkey *e = (evilkey *)p;
    sim_periph_lines l = e->inner->ops->lines(e->inner);

    l.busy ^= (e->flip & EV_BUSY) != 0;
    l.nAck ^= (e->flip & EV_NACK) != 0;
    l.perror ^= (e->flip & EV_PERROR) != 0;
    l.select ^= (e->flip & EV_SELECT) != 0;
    l.nFault ^= (e->flip & EV_NFAULT) != 0;
    if (l.data_driven)
        l.data ^= e->data_flip;
    return l;
}

/* inner_changed - the inner device's own line change goes upstream, spoilt. */
static void inner_changed(void *upstream)
{
    sim_peripheral_notify(upstream);
}

static const sim_peripheral_ops wrap_ops = { wrap_host_changed, wrap_lines, evil_destroy };

static evilkey *evil_new(sim_clock *clk, const uint8_t *script, size_t len)
{
    evilkey *e = calloc(1, sizeof *e);

    if (!e)
        return NULL;
    e->script = malloc(len ? len : 1);
    if (!e->script) {
        free(e);
        return NULL;
    }
    memcpy(e->script, script, len);
    e->len = len;
    e->base.clock = clk;
    e->now = sim_lines_pulled_up();
    sim_event_init(&e->apply_ev, apply, e);
    sim_event_init(&e->glitch_ev, glitch, e);
    return e;
}

sim_peripheral *evilkey_create(sim_clock *clk, const uint8_t *script, size_t len)
{
    evilkey *e = evil_new(clk, script, len);

    if (!e)
        return NULL;
    e->base.ops = &evil_ops;
    return &e->base;
}

sim_peripheral *evilkey_wrap(sim_clock *clk, sim_peripheral *inner, const uint8_t *script, size_t len)
{
    evilkey *e = evil_new(clk, script, len);

    if (!e) {
        inner->ops->destroy(inner);
        return NULL;
    }
    e->base.ops = &wrap_ops;
    e->inner = inner;
    inner->notify = inner_changed;
    inner->upstream = &e->base;
    return &e->base;
}
