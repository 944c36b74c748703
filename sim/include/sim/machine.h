/*
 * sim/machine.h — a simulated PC built from a machine description (machines/README.md):
 * one clock, one I/O bus, parallel port chips and what is plugged into each.
 *
 * The description is an INI file (parsed with libinih). Loading validates all of it
 * first and builds nothing until it is valid; a build failure (e.g. a corrupt key
 * image) tears down what was built. Errors read "file:line: problem".
 *
 * The machine owns its clock, bus, ports and peripherals. Not thread-safe: callers
 * serialise (nthost runs one thread at a time).
 */
#ifndef SIM_MACHINE_H
#define SIM_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sim/bus.h"
#include "sim/clock.h"
#include "sim/key.h"
#include "sim/port.h"
#include "sim/printer.h"

typedef struct sim_machine sim_machine;

typedef enum sim_attach_kind {
    SIM_ATTACH_NONE,
    SIM_ATTACH_KEY,
    SIM_ATTACH_KEY_PRINTER,
    SIM_ATTACH_PRINTER,
} sim_attach_kind;

const char *sim_attach_name(sim_attach_kind a);  /* "none", "key", "key+printer", "printer" */

typedef struct sim_port_info {
    const char *name;          /* "LPT1" (valid while the machine lives) */
    uint16_t base;
    uint16_t span;             /* registers at base: 8, or 4 for 0x3BC-style bases */
    int irq;                   /* 0..15, or SIM_IRQ_NONE */
    sim_chip_kind chip;
    sim_time_t access_ns;
    sim_attach_kind attach;
    const char *key_image;     /* resolved image path, NULL without a key or volatile */
} sim_port_info;

/*
 * Load a description and build the machine (clock at 0). Returns 0 and *out, or -1
 * with "file:line: problem" (or "file: problem") in err and *out = NULL.
 */
int sim_machine_load(const char *path, sim_machine **out, char *err, size_t errlen);

/*
 * The default description: $DONGLPT_MACHINE if set, else machines/default.ini in the
 * source tree this library was built from.
 */
const char *sim_machine_default_path(void);

/*
 * The directory ${STATE} expands to: $DONGLPT_STATE_DIR, else $XDG_STATE_HOME/donglpt,
 * else ~/.local/state/donglpt. Written into buf (created if missing when create is
 * true). Returns 0, or -1 with a message in err.
 */
int sim_machine_state_dir(char *buf, size_t buflen, bool create, char *err, size_t errlen);

/* Flushes nothing extra (keys write their images as changes complete) and frees all. */
void sim_machine_destroy(sim_machine *m);

sim_clock *sim_machine_clock(sim_machine *m);
sim_bus *sim_machine_bus(sim_machine *m);

unsigned sim_machine_port_count(const sim_machine *m);
/* Index of the port named name (case-insensitive), or -1. */
int sim_machine_find_port(const sim_machine *m, const char *name);
/* Returns 0, or -1 if index is out of range. */
int sim_machine_port_info(const sim_machine *m, unsigned index, sim_port_info *out);

/* Per-port handles (NULL if index is out of range or nothing of that kind is there). */
sim_port *sim_machine_port(sim_machine *m, unsigned index);
sim_key *sim_machine_key(sim_machine *m, unsigned index);
/* The printer on the port, directly or behind its key. */
sim_printer *sim_machine_printer(sim_machine *m, unsigned index);

/*
 * Fault: pull the cable out of port index (true) or plug it back (false). A key also
 * loses power (and powers up again, NOT-READY for 100 ms, when plugged back).
 */
void sim_machine_unplug(sim_machine *m, unsigned index, bool unplugged);

/* VCD trace of a port's lines (sim/trace.h), scope = the port's name. */
int sim_machine_trace_start(sim_machine *m, unsigned index, const char *path,
                            char *err, size_t errlen);
void sim_machine_trace_stop(sim_machine *m, unsigned index);

#endif
