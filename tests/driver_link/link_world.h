/*
 * link_world.h — the sim objects of link_sim.c, for tests that inspect or fault the
 * key, the printer or the port directly (sim types: do not include with <ntddk.h>
 * where names could clash; the test file includes both and only uses sim names).
 */
#ifndef LINK_WORLD_H
#define LINK_WORLD_H

#include "sim/bus.h"
#include "sim/clock.h"
#include "sim/key.h"
#include "sim/port.h"
#include "sim/printer.h"

extern sim_clock *ls_clock;
extern sim_bus *ls_bus;
extern sim_port *ls_port;
extern sim_key *ls_key;
extern sim_printer *ls_printer;

#endif
