/*
 * sim/bus.h — the ISA-style I/O bus that nthost's HAL routes READ_PORT_x/WRITE_PORT_x to.
 *
 * Device models claim I/O ranges. An access to port p at clock time t occupies
 * [t, t + tIO) where tIO is the claiming device's access time (1 us for unclaimed
 * ports): the bus advances the clock to t + tIO (running every device event due at or
 * before that instant) and only then calls the device's read/write hook, so a write
 * changes the lines, and a read samples them, at t + tIO (DL1.md section 1).
 * An unclaimed port reads 0xFF; writes to it are ignored.
 *
 * Interrupts: a device sets or clears an IRQ line (edge semantics are the device's
 * business: the parallel port pulses on nAck's rising edge when enabled); the bus
 * forwards every change to the single handler nthost installs.
 */
#ifndef SIM_BUS_H
#define SIM_BUS_H

#include <stdbool.h>
#include <stdint.h>
#include "sim/clock.h"

typedef struct sim_bus sim_bus;

typedef struct sim_io_ops {
    uint8_t (*read8)(void *dev, uint16_t offset);            /* offset from the claimed base */
    void (*write8)(void *dev, uint16_t offset, uint8_t value);
} sim_io_ops;

typedef void sim_irq_handler(void *ctx, unsigned irq, bool asserted);

sim_bus *sim_bus_create(sim_clock *clk);
void sim_bus_destroy(sim_bus *bus);
sim_clock *sim_bus_clock(sim_bus *bus);

/* Returns 0, or -1 if the range overlaps an existing claim. */
int sim_bus_claim(sim_bus *bus, uint16_t base, uint16_t length, sim_time_t access_ns,
                  const sim_io_ops *ops, void *dev);
void sim_bus_release(sim_bus *bus, uint16_t base);

uint8_t sim_bus_read8(sim_bus *bus, uint16_t port);
void sim_bus_write8(sim_bus *bus, uint16_t port, uint8_t value);
/* Wider accesses are successive byte accesses at port, port+1, ... (as on the ISA bus). */
uint16_t sim_bus_read16(sim_bus *bus, uint16_t port);
uint32_t sim_bus_read32(sim_bus *bus, uint16_t port);
void sim_bus_write16(sim_bus *bus, uint16_t port, uint16_t value);
void sim_bus_write32(sim_bus *bus, uint16_t port, uint32_t value);

/* Register accesses since creation (for benchmarks: accesses per byte). */
uint64_t sim_bus_access_count(const sim_bus *bus);

void sim_bus_set_irq_handler(sim_bus *bus, sim_irq_handler *fn, void *ctx);
void sim_bus_set_irq(sim_bus *bus, unsigned irq, bool asserted); /* called by devices */

#endif
