/*
 * printer.c — compatibility-mode printer model (DL1.md section 10).
 *
 * The Busy/nAck cycle of an accepted byte is two events: nAck falls 5 us before the
 * cycle ends, and at the end Busy and nAck return high. The buffer is not simulated
 * byte by byte: bytes accepted since the buffer last ran empty, and the time it
 * started draining, give the fill level at any instant in closed form.
 */
#include "sim/printer.h"

#include <stdlib.h>
#include <string.h>

#define NS_PER_S 1000000000ull

struct sim_printer {
    sim_peripheral periph;
    size_t buffer_size;
    unsigned drain_bps;
    sim_printer_state state;
    sim_host_lines host;        /* last host lines seen, for edge detection */

    bool cycling;               /* in a Busy/nAck cycle after a byte */
    bool nack_low;
    sim_event ack_ev;           /* nAck falls */
    sim_event end_ev;           /* cycle ends */
    sim_event reset_ev;         /* nInit has been low for 50 us */

    sim_time_t drain_start;     /* when the buffer last started draining from empty */
    uint64_t drain_accepted;    /* bytes put in since drain_start */

    uint8_t *rx;                /* every accepted byte, in order (test accessor) */
    size_t rx_len, rx_cap;
    uint64_t lost;
    uint64_t resets;

    sim_event state_at_ev;      /* fault trigger at a machine time */
    sim_printer_state state_at;
    bool bytes_armed;           /* fault trigger after a byte count */
    uint64_t bytes_left;
    sim_printer_state bytes_state;
    bool end_state_pending;     /* byte-count trigger fired: apply at the cycle's end */
    sim_printer_state end_state;
};

static const sim_peripheral_ops printer_ops;

const char *sim_printer_state_name(sim_printer_state s)
{
    switch (s) {
    case SIM_PRINTER_ONLINE: return "online";
    case SIM_PRINTER_BUSY: return "busy";
    case SIM_PRINTER_PAPER_OUT: return "paper out";
    case SIM_PRINTER_OFFLINE: return "offline";
    case SIM_PRINTER_POWERED_OFF: return "powered off";
    }
    return "?";
}

static sim_printer *from_periph(sim_peripheral *p)
{
    return (sim_printer *)p; /* periph is the first member */
}

static sim_clock *pr_clock(const sim_printer *pr)
{
    return pr->periph.clock;
}

/* floor(dt * bps / 1e9) without overflowing 64 bits. */
static uint64_t bytes_drained_in(sim_time_t dt, unsigned bps)
{
    return (dt / NS_PER_S) * bps + ((dt % NS_PER_S) * bps) / NS_PER_S;
}

/* Bytes still in the buffer at time t. */
static uint64_t level_at(const sim_printer *pr, sim_time_t t)
{
    uint64_t drained = bytes_drained_in(t - pr->drain_start, pr->drain_bps);
    return drained >= pr->drain_accepted ? 0 : pr->drain_accepted - drained;
}

/* The first instant at which the buffer holds at most `level` bytes. */
static sim_time_t time_level_drops_to(const sim_printer *pr, uint64_t level)
{
    if (pr->drain_accepted <= level)
        return pr->drain_start;
    uint64_t n = pr->drain_accepted - level;
    return pr->drain_start + (n * NS_PER_S + pr->drain_bps - 1) / pr->drain_bps;
}

/* Empty the buffer now (reset, power loss). */
static void buffer_clear(sim_printer *pr)
{
    pr->drain_start = sim_now(pr_clock(pr));
    pr->drain_accepted = 0;
}

/* Stop a Busy/nAck cycle in progress (reset, fault, power). */
static void cycle_cancel(sim_printer *pr)
{
    sim_event_cancel(pr_clock(pr), &pr->ack_ev);
    sim_event_cancel(pr_clock(pr), &pr->end_ev);
    pr->cycling = false;
    pr->nack_low = false;
    pr->end_state_pending = false;
}

/* Enter state s now and tell upstream. A powered-off printer loses its buffer. */
static void enter_state(sim_printer *pr, sim_printer_state s)
{
    if (s != SIM_PRINTER_ONLINE || pr->state != SIM_PRINTER_ONLINE)
        cycle_cancel(pr);
    if (s == SIM_PRINTER_POWERED_OFF)
        buffer_clear(pr);
    pr->state = s;
    sim_peripheral_notify(&pr->periph);
}

/* Append to the test-visible log of accepted bytes. */
static void record_byte(sim_printer *pr, uint8_t b)
{
    if (pr->rx_len == pr->rx_cap) {
        size_t cap = pr->rx_cap ? pr->rx_cap * 2 : 256;
        uint8_t *rx = realloc(pr->rx, cap);
        if (!rx)
            abort(); /* a test accessor that silently drops bytes would lie */
        pr->rx = rx;
        pr->rx_cap = cap;
    }
    pr->rx[pr->rx_len++] = b;
}

/*
 * A falling edge of nStrobe while online and idle: take the byte into the buffer and
 * start the Busy cycle, which lasts tPRN or until the buffer has room again.
 */
static void accept_byte(sim_printer *pr, uint8_t b)
{
    sim_clock *clk = pr_clock(pr);
    sim_time_t now = sim_now(clk);

    record_byte(pr, b);
    if (level_at(pr, now) == 0)
        buffer_clear(pr);
    pr->drain_accepted++;

    sim_time_t end = now + SIM_PRINTER_TPRN_NS;
    if (level_at(pr, now) >= pr->buffer_size) {
        sim_time_t room = time_level_drops_to(pr, pr->buffer_size - 1);
        if (room > end)
            end = room;
    }
    pr->cycling = true;
    pr->nack_low = false;
    sim_event_schedule(clk, &pr->ack_ev, end - SIM_PRINTER_TACK_NS);
    sim_event_schedule(clk, &pr->end_ev, end);

    if (pr->bytes_armed && --pr->bytes_left == 0) {
        pr->bytes_armed = false;
        pr->end_state_pending = true;
        pr->end_state = pr->bytes_state;
    }
    sim_peripheral_notify(&pr->periph);
}

/* tACK before the end of the Busy cycle: nAck goes low. */
static void on_ack(sim_event *ev, void *ctx)
{
    (void)ev;
    sim_printer *pr = ctx;
    pr->nack_low = true;
    sim_peripheral_notify(&pr->periph);
}

/* End of a Busy cycle: ready again, or into the state a byte-count trigger chose. */
static void on_cycle_end(sim_event *ev, void *ctx)
{
    (void)ev;
    sim_printer *pr = ctx;
    pr->cycling = false;
    pr->nack_low = false;
    if (pr->end_state_pending) {
        pr->end_state_pending = false;
        enter_state(pr, pr->end_state);
        return;
    }
    sim_peripheral_notify(&pr->periph);
}

/* nInit has stayed low for 50 us: reset (buffer emptied, cycle cut short). */
static void on_reset(sim_event *ev, void *ctx)
{
    (void)ev;
    sim_printer *pr = ctx;
    if (pr->state == SIM_PRINTER_POWERED_OFF)
        return;
    bool pending = pr->end_state_pending;
    sim_printer_state next = pr->end_state;
    cycle_cancel(pr);
    buffer_clear(pr);
    pr->resets++;
    if (pending)
        pr->state = next;   /* the byte that ran the paper out was still taken */
    sim_peripheral_notify(&pr->periph);
}

/* sim_printer_set_state_at's event. */
static void on_state_at(sim_event *ev, void *ctx)
{
    (void)ev;
    sim_printer *pr = ctx;
    enter_state(pr, pr->state_at);
}

/* Host line changes: strobe falling edges carry bytes, nInit low arms the reset. */
static void printer_host_changed(sim_peripheral *p, const sim_host_lines *lines)
{
    sim_printer *pr = from_periph(p);
    sim_clock *clk = pr_clock(pr);
    sim_host_lines old = pr->host;
    pr->host = *lines;

    if (old.nInit && !lines->nInit)
        sim_event_schedule(clk, &pr->reset_ev, sim_now(clk) + SIM_PRINTER_RESET_NS);
    else if (!old.nInit && lines->nInit)
        sim_event_cancel(clk, &pr->reset_ev);

    if (old.nStrobe && !lines->nStrobe) {
        if (pr->state != SIM_PRINTER_ONLINE || pr->cycling)
            pr->lost++;
        else
            accept_byte(pr, lines->data_driven ? lines->data : 0xFF);
    }
}

/* Status lines per state (DL1.md section 10 table). */
static sim_periph_lines printer_lines(sim_peripheral *p)
{
    sim_printer *pr = from_periph(p);
    sim_periph_lines l = { .busy = false, .nAck = true, .perror = false, .select = true,
                           .nFault = true, .data_driven = false, .data = 0xFF };
    switch (pr->state) {
    case SIM_PRINTER_ONLINE:
        l.busy = pr->cycling;
        l.nAck = !pr->nack_low;
        break;
    case SIM_PRINTER_BUSY:
        l.busy = true;
        break;
    case SIM_PRINTER_PAPER_OUT:
        l.busy = true;
        l.perror = true;
        l.select = false;
        l.nFault = false;
        break;
    case SIM_PRINTER_OFFLINE:
        l.busy = true;
        l.select = false;
        l.nFault = false;
        break;
    case SIM_PRINTER_POWERED_OFF:
        l.nAck = false;
        l.select = false;
        l.nFault = false;
        break;
    }
    return l;
}

/* ops->destroy: cancel every pending event before freeing. */
static void printer_destroy(sim_peripheral *p)
{
    sim_printer *pr = from_periph(p);
    sim_clock *clk = pr_clock(pr);
    sim_event_cancel(clk, &pr->ack_ev);
    sim_event_cancel(clk, &pr->end_ev);
    sim_event_cancel(clk, &pr->reset_ev);
    sim_event_cancel(clk, &pr->state_at_ev);
    free(pr->rx);
    free(pr);
}

static const sim_peripheral_ops printer_ops = {
    .host_changed = printer_host_changed,
    .lines = printer_lines,
    .destroy = printer_destroy,
};

/* Create an online, idle printer with an empty buffer. */
sim_printer *sim_printer_create(sim_clock *clk, const sim_printer_config *cfg)
{
    sim_printer *pr = calloc(1, sizeof(*pr));
    if (!pr)
        return NULL;
    pr->periph.ops = &printer_ops;
    pr->periph.clock = clk;
    pr->buffer_size = cfg && cfg->buffer_size ? cfg->buffer_size : SIM_PRINTER_BUFFER;
    pr->drain_bps = cfg && cfg->drain_bytes_per_s ? cfg->drain_bytes_per_s
                                                   : SIM_PRINTER_DRAIN_BPS;
    pr->state = SIM_PRINTER_ONLINE;
    pr->host = sim_lines_host_idle();
    sim_event_init(&pr->ack_ev, on_ack, pr);
    sim_event_init(&pr->end_ev, on_cycle_end, pr);
    sim_event_init(&pr->reset_ev, on_reset, pr);
    sim_event_init(&pr->state_at_ev, on_state_at, pr);
    pr->drain_start = sim_now(clk);
    if (cfg && cfg->paper_out_after)
        sim_printer_set_state_after_bytes(pr, SIM_PRINTER_PAPER_OUT, cfg->paper_out_after);
    return pr;
}

sim_peripheral *sim_printer_peripheral(sim_printer *pr)
{
    return &pr->periph;
}

/* Identify a printer by its ops table. */
sim_printer *sim_printer_from_peripheral(sim_peripheral *p)
{
    return p && p->ops == &printer_ops ? from_periph(p) : NULL;
}

void sim_printer_set_state(sim_printer *pr, sim_printer_state s)
{
    enter_state(pr, s);
}

/* Arm the time trigger (replacing an armed one). */
void sim_printer_set_state_at(sim_printer *pr, sim_printer_state s, sim_time_t when)
{
    pr->state_at = s;
    sim_event_schedule(pr_clock(pr), &pr->state_at_ev, when);
}

/* Arm the byte-count trigger; count 0 means now. */
void sim_printer_set_state_after_bytes(sim_printer *pr, sim_printer_state s, uint64_t count)
{
    if (count == 0) {
        pr->bytes_armed = false;
        enter_state(pr, s);
        return;
    }
    pr->bytes_armed = true;
    pr->bytes_left = count;
    pr->bytes_state = s;
}

sim_printer_state sim_printer_get_state(const sim_printer *pr)
{
    return pr->state;
}

bool sim_printer_busy(const sim_printer *pr)
{
    return printer_lines((sim_peripheral *)&pr->periph).busy;
}

size_t sim_printer_received(const sim_printer *pr, const uint8_t **bytes)
{
    if (bytes)
        *bytes = pr->rx;
    return pr->rx_len;
}

size_t sim_printer_buffer_level(const sim_printer *pr)
{
    return (size_t)level_at(pr, sim_now(pr_clock(pr)));
}

uint64_t sim_printer_lost_strobes(const sim_printer *pr)
{
    return pr->lost;
}

uint64_t sim_printer_resets(const sim_printer *pr)
{
    return pr->resets;
}

void sim_printer_clear_received(sim_printer *pr)
{
    pr->rx_len = 0;
}
