/*
 * sim/trace.h — record a port's cable lines to a VCD file (IEEE 1364 Value Change Dump,
 * $timescale 1ns, machine time), for GTKWave and other waveform viewers.
 *
 * Signals (scope named after the port): D[7:0] as seen on the cable ('z' bits when
 * nobody drives them, 'x' while host and peripheral both drive), nStrobe, nAutoFd,
 * nInit, nSelectIn (host), Busy, nAck, PError, Select, nFault (peripheral, true line
 * levels: the noise fault only corrupts register reads), dir (1 = reverse), irq
 * (pulses on a delivered interrupt).
 */
#ifndef SIM_TRACE_H
#define SIM_TRACE_H

#include <stddef.h>
#include "sim/port.h"

/*
 * Start recording port to path (truncated), with scope name `scope` (NULL = "lpt").
 * The current levels are dumped at now(). Returns 0, or -1 with a message in err.
 * A port records to one file at a time; starting again replaces the old trace.
 */
int sim_trace_start(sim_port *port, const char *path, const char *scope,
                    char *err, size_t errlen);
/* Stop recording: write the final timestamp and close the file. No-op if not tracing. */
void sim_trace_stop(sim_port *port);
bool sim_trace_active(const sim_port *port);

#endif
