/*
 * sim/clock.h — the machine clock: one nanosecond time line and an event queue.
 *
 * Every time source a driver can read (through nthost) and every simulated device
 * lives on this clock (DESIGN.md, "Time"). Events are callbacks due at a machine
 * time; advancing the clock runs every event due at or before the new time, in
 * time order (ties in scheduling order), each with now() equal to its own time.
 *
 * Not thread-safe by itself: nthost serializes all access (one kernel thread runs at
 * a time); standalone sim tests are single-threaded.
 */
#ifndef SIM_CLOCK_H
#define SIM_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

typedef uint64_t sim_time_t; /* nanoseconds since machine power-on */

#define SIM_NS(x) ((sim_time_t)(x))
#define SIM_US(x) ((sim_time_t)(x) * 1000u)
#define SIM_MS(x) ((sim_time_t)(x) * 1000000u)
#define SIM_S(x)  ((sim_time_t)(x) * 1000000000u)

typedef struct sim_clock sim_clock;
typedef struct sim_event sim_event;
typedef void sim_event_fn(sim_event *ev, void *ctx);

/* Caller-owned; embed it in the device that owns it. Zero-initialise before first use. */
struct sim_event {
    sim_time_t when;
    sim_event_fn *fn;
    void *ctx;
    /* private to clock.c */
    uint64_t seq;
    int heap_index; /* heap slot + 1; 0 or -1 when not queued */
};

sim_clock *sim_clock_create(void);
void sim_clock_destroy(sim_clock *clk);

sim_time_t sim_now(const sim_clock *clk);

/* Run every event due at or before t (in order), then set now = t. t < now is a no-op. */
void sim_clock_advance_to(sim_clock *clk, sim_time_t t);
static inline void sim_clock_advance(sim_clock *clk, sim_time_t dt) { sim_clock_advance_to(clk, sim_now(clk) + dt); }

void sim_event_init(sim_event *ev, sim_event_fn *fn, void *ctx);
/* (Re)schedule ev at `when` (clamped to now). Rescheduling a queued event moves it. */
void sim_event_schedule(sim_clock *clk, sim_event *ev, sim_time_t when);
void sim_event_cancel(sim_clock *clk, sim_event *ev);
bool sim_event_pending(const sim_event *ev);

/* Earliest queued event time; false when the queue is empty. */
bool sim_clock_next_event(const sim_clock *clk, sim_time_t *when);

#endif
