/*
 * fake1284.c — a scripted IEEE 1284 peripheral for the refusal paths the DL-1 key
 * never takes: it answers a negotiation (Event 2), accepts or refuses the requested
 * extensibility link at Event 6 (XFlag = Select), accepts or refuses each link byte
 * at Event 53, and completes a termination (Events 22–28). It never opens a session.
 * Outside a negotiation it shows an idle printer. Every answer comes 0.5 us after the
 * host edge, like the simulated key's.
 */
#include <stdlib.h>
#include "fake1284.h"

typedef enum fake_state { F_IDLE, F_NEG, F_LINK, F_REFUSED, F_TERM } fake_state;

struct fake1284 {
    sim_peripheral base;
    fake1284_config cfg;
    fake_state state;
    sim_host_lines prev;
    sim_periph_lines out, next;
    sim_event ev;
    bool link_accepted;
    fake1284_counts counts;
};

static const sim_periph_lines printer_idle = { false, true, false, true, true, false, 0xFF };

static void fake_apply(sim_event *ev, void *ctx)
{
    fake1284 *f = ctx;

    (void)ev;
    f->out = f->next;
    sim_peripheral_notify(&f->base);
}

/* Answer with these lines 0.5 us from now. */
static void fake_answer(fake1284 *f, sim_periph_lines lines)
{
    f->next = lines;
    sim_event_schedule(f->base.clock, &f->ev, sim_now(f->base.clock) + SIM_NS(500));
}

static void fake_host_changed(sim_peripheral *p, const sim_host_lines *h)
{
    fake1284 *f = (fake1284 *)p;
    sim_host_lines was = f->prev;
    sim_periph_lines l = f->next;

    f->prev = *h;
    if (f->state != F_IDLE && f->state != F_TERM && was.nSelectIn && !h->nSelectIn) {
        f->state = F_TERM;                       /* Event 22 -> Event 24 */
        l.nAck = false;
        fake_answer(f, l);
        return;
    }
    switch (f->state) {
    case F_IDLE:
        if (!was.nSelectIn && h->nSelectIn && !h->nAutoFd) {   /* Event 1 */
            f->counts.negotiations++;
            f->state = F_NEG;
            fake_answer(f, (sim_periph_lines){ false, false, true, true, true, false, 0xFF });
        }
        break;
    case F_NEG:
        if (!was.nStrobe && h->nStrobe && h->nAutoFd) {        /* Event 4 -> 6 */
            l.nAck = true;
            l.select = f->cfg.accept_extensibility;
            f->state = f->cfg.accept_extensibility ? F_LINK : F_REFUSED;
            fake_answer(f, l);
        }
        break;
    case F_LINK:
        if (was.nStrobe && !h->nStrobe) {                      /* Event 52 -> 53 */
            f->counts.link_bytes[f->counts.link_byte_count++ % 4] = h->data;
            f->link_accepted = (h->data == 0x4C && f->cfg.accept_nibble) ||
                               (h->data == 0x4D && f->cfg.accept_byte);
            l.select = f->link_accepted;
            l.nAck = false;
            fake_answer(f, l);
        } else if (!was.nStrobe && h->nStrobe) {               /* Event 54 -> 55 */
            l.nAck = true;
            f->state = F_REFUSED;    /* this fake runs no session either way */
            fake_answer(f, l);
        }
        break;
    case F_REFUSED:
        break;
    case F_TERM:
        if (was.nAutoFd && !h->nAutoFd) {                      /* Event 25 -> 27 */
            l.nAck = true;
            fake_answer(f, l);
        } else if (!was.nAutoFd && h->nAutoFd) {               /* Event 28 */
            f->counts.terminations++;
            f->state = F_IDLE;
            fake_answer(f, printer_idle);
        }
        break;
    }
}

static sim_periph_lines fake_lines(sim_peripheral *p)
{
    return ((fake1284 *)p)->out;
}

static void fake_destroy(sim_peripheral *p)
{
    fake1284 *f = (fake1284 *)p;

    sim_event_cancel(f->base.clock, &f->ev);
    free(f);
}

static const sim_peripheral_ops fake_ops = { fake_host_changed, fake_lines, fake_destroy };

fake1284 *fake1284_create(sim_clock *clk, const fake1284_config *cfg)
{
    fake1284 *f = calloc(1, sizeof *f);

    if (!f)
        abort();
    f->base.ops = &fake_ops;
    f->base.clock = clk;
    f->cfg = *cfg;
    f->prev = sim_lines_host_idle();
    f->out = f->next = printer_idle;
    sim_event_init(&f->ev, fake_apply, f);
    return f;
}

sim_peripheral *fake1284_peripheral(fake1284 *f)
{
    return &f->base;
}

fake1284_counts fake1284_get_counts(const fake1284 *f)
{
    return f->counts;
}
