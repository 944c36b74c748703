/*
 * sim_internal.h — glue between the port chip model and the VCD line trace (private
 * to the sim library).
 */
#ifndef SIM_INTERNAL_H
#define SIM_INTERNAL_H

#include <stdbool.h>
#include "sim/port.h"

typedef struct sim_vcd sim_vcd;

/* What the trace records about a port at one instant. */
typedef struct sim_line_snapshot {
    sim_host_lines host;
    sim_periph_lines periph;
    bool reverse;
} sim_line_snapshot;

/* The port's current trace (NULL when not tracing); the port owns it. */
sim_vcd *sim_port_vcd(const sim_port *port);
void sim_port_set_vcd(sim_port *port, sim_vcd *vcd);
sim_line_snapshot sim_port_snapshot(const sim_port *port);

/* Dump whatever changed since the last sample, at time now. */
void sim_vcd_sample(sim_vcd *vcd, sim_time_t now, const sim_line_snapshot *s);
/* Mark an interrupt pulse at time now. */
void sim_vcd_irq(sim_vcd *vcd, sim_time_t now);
/* Close the file (final timestamp at now) and free. */
void sim_vcd_close(sim_vcd *vcd, sim_time_t now);

#endif
