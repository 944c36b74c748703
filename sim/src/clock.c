/*
 * clock.c — the machine clock: a nanosecond time line and a binary-heap event queue.
 *
 * Events are ordered by (when, seq); seq grows with every schedule, so events due at
 * the same time run in the order they were scheduled (a rescheduled event goes behind
 * the others already queued for its new time).
 */
#include "sim/clock.h"

#include <stdlib.h>

struct sim_clock {
    sim_time_t now;
    uint64_t next_seq;
    sim_event **heap;
    int count;
    int capacity;
};

/* Heap order: earlier time first, then earlier scheduling. */
static bool ev_before(const sim_event *a, const sim_event *b)
{
    if (a->when != b->when)
        return a->when < b->when;
    return a->seq < b->seq;
}

/*
 * Store ev at heap slot i and keep its back-index in step. The back-index is kept as
 * slot + 1 so that a zero-initialised event (heap_index 0) reads as not queued, like
 * one set up by sim_event_init (-1).
 */
static void heap_put(sim_clock *clk, int i, sim_event *ev)
{
    clk->heap[i] = ev;
    ev->heap_index = i + 1;
}

static bool ev_queued(const sim_event *ev)
{
    return ev->heap_index > 0;
}

/* Move the event at slot i towards the root until its parent precedes it. */
static void sift_up(sim_clock *clk, int i)
{
    sim_event *ev = clk->heap[i];
    while (i > 0) {
        int parent = (i - 1) / 2;
        if (!ev_before(ev, clk->heap[parent]))
            break;
        heap_put(clk, i, clk->heap[parent]);
        i = parent;
    }
    heap_put(clk, i, ev);
}

/* Move the event at slot i towards the leaves until both children follow it. */
static void sift_down(sim_clock *clk, int i)
{
    sim_event *ev = clk->heap[i];
    for (;;) {
        int child = 2 * i + 1;
        if (child >= clk->count)
            break;
        if (child + 1 < clk->count && ev_before(clk->heap[child + 1], clk->heap[child]))
            child++;
        if (!ev_before(clk->heap[child], ev))
            break;
        heap_put(clk, i, clk->heap[child]);
        i = child;
    }
    heap_put(clk, i, ev);
}

/* Take the event at slot i out of the heap and restore the heap property. */
static void heap_remove(sim_clock *clk, int i)
{
    sim_event *ev = clk->heap[i];
    clk->count--;
    if (i != clk->count) {
        heap_put(clk, i, clk->heap[clk->count]);
        if (i > 0 && ev_before(clk->heap[i], clk->heap[(i - 1) / 2]))
            sift_up(clk, i);
        else
            sift_down(clk, i);
    }
    ev->heap_index = -1;
}

/* Create a clock at time 0 with an empty queue. */
sim_clock *sim_clock_create(void)
{
    return calloc(1, sizeof(sim_clock));
}

/* Free the clock; queued events are owned by their devices and are only detached. */
void sim_clock_destroy(sim_clock *clk)
{
    if (!clk)
        return;
    for (int i = 0; i < clk->count; i++)
        clk->heap[i]->heap_index = -1;
    free(clk->heap);
    free(clk);
}

sim_time_t sim_now(const sim_clock *clk)
{
    return clk->now;
}

/*
 * Run every event due at or before t, each with now() at its own time, then set now
 * to t. An event may schedule or cancel events (itself included); one scheduled at or
 * before t runs in this same call. Time never goes backwards, even if an event
 * advanced the clock further itself.
 */
void sim_clock_advance_to(sim_clock *clk, sim_time_t t)
{
    while (clk->count > 0 && clk->heap[0]->when <= t) {
        sim_event *ev = clk->heap[0];
        heap_remove(clk, 0);
        if (ev->when > clk->now)
            clk->now = ev->when;
        ev->fn(ev, ev->ctx);
    }
    if (t > clk->now)
        clk->now = t;
}

/* Prepare a caller-owned event: not queued, calling fn(ev, ctx) when due. */
void sim_event_init(sim_event *ev, sim_event_fn *fn, void *ctx)
{
    ev->when = 0;
    ev->fn = fn;
    ev->ctx = ctx;
    ev->seq = 0;
    ev->heap_index = -1;
}

/* Queue ev at `when` (clamped to now), moving it if it is already queued. */
void sim_event_schedule(sim_clock *clk, sim_event *ev, sim_time_t when)
{
    if (when < clk->now)
        when = clk->now;
    if (ev_queued(ev))
        heap_remove(clk, ev->heap_index - 1);
    if (clk->count == clk->capacity) {
        int cap = clk->capacity ? clk->capacity * 2 : 16;
        sim_event **heap = realloc(clk->heap, (size_t)cap * sizeof(*heap));
        if (!heap)
            abort(); /* a lost device event would silently corrupt the simulation */
        clk->heap = heap;
        clk->capacity = cap;
    }
    ev->when = when;
    ev->seq = clk->next_seq++;
    heap_put(clk, clk->count, ev);
    clk->count++;
    sift_up(clk, clk->count - 1);
}

/* Remove ev from the queue if it is queued. */
void sim_event_cancel(sim_clock *clk, sim_event *ev)
{
    if (ev_queued(ev))
        heap_remove(clk, ev->heap_index - 1);
}

bool sim_event_pending(const sim_event *ev)
{
    return ev_queued(ev);
}

bool sim_clock_next_event(const sim_clock *clk, sim_time_t *when)
{
    if (clk->count == 0)
        return false;
    if (when)
        *when = clk->heap[0]->when;
    return true;
}
