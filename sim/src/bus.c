/*
 * bus.c — the ISA-style I/O bus: claimed port ranges, access time, IRQ forwarding.
 *
 * A 64 Ki-entry map from port number to claim keeps every access O(1): benchmarks
 * drive millions of register accesses through here.
 */
#include "sim/bus.h"

#include <stdlib.h>
#include <string.h>

#define BUS_PORTS       65536u
#define BUS_MAX_CLAIMS  255u      /* claim ids are stored in a byte, 0 = unclaimed */
#define BUS_DEFAULT_TIO SIM_US(1) /* unclaimed ports answer at ISA speed */

typedef struct bus_claim {
    uint16_t base;
    uint16_t length;
    sim_time_t access_ns;
    const sim_io_ops *ops;
    void *dev;
    bool used;
} bus_claim;

struct sim_bus {
    sim_clock *clk;
    uint64_t accesses;
    sim_irq_handler *irq_fn;
    void *irq_ctx;
    bus_claim claims[BUS_MAX_CLAIMS];
    uint8_t map[BUS_PORTS]; /* claim index + 1 */
};

/* An empty bus on clk: every port unclaimed, no IRQ handler. */
sim_bus *sim_bus_create(sim_clock *clk)
{
    sim_bus *bus = calloc(1, sizeof(*bus));
    if (bus)
        bus->clk = clk;
    return bus;
}

void sim_bus_destroy(sim_bus *bus)
{
    free(bus);
}

sim_clock *sim_bus_clock(sim_bus *bus)
{
    return bus->clk;
}

/*
 * Claim [base, base + length) for dev. Fails (-1) on an empty range, a range that wraps
 * past 0xFFFF, an overlap with another claim, or when the claim table is full.
 */
int sim_bus_claim(sim_bus *bus, uint16_t base, uint16_t length, sim_time_t access_ns,
                  const sim_io_ops *ops, void *dev)
{
    if (length == 0 || (uint32_t)base + length > BUS_PORTS || !ops)
        return -1;
    for (uint32_t p = base; p < (uint32_t)base + length; p++)
        if (bus->map[p])
            return -1;
    unsigned slot = 0;
    while (slot < BUS_MAX_CLAIMS && bus->claims[slot].used)
        slot++;
    if (slot == BUS_MAX_CLAIMS)
        return -1;
    bus->claims[slot] = (bus_claim){ base, length, access_ns, ops, dev, true };
    memset(&bus->map[base], (int)(slot + 1), length);
    return 0;
}

/* Drop the claim that starts at base; its ports read 0xFF again. */
void sim_bus_release(sim_bus *bus, uint16_t base)
{
    unsigned id = bus->map[base];
    if (!id || bus->claims[id - 1].base != base)
        return;
    bus_claim *c = &bus->claims[id - 1];
    memset(&bus->map[c->base], 0, c->length);
    c->used = false;
}

/*
 * Occupy the bus for one access to port: the clock moves to the end of the access
 * (running device events due by then) before the device sees it. Returns the claim,
 * or NULL for an unclaimed port.
 */
static const bus_claim *bus_access(sim_bus *bus, uint16_t port)
{
    unsigned id = bus->map[port];
    const bus_claim *c = id ? &bus->claims[id - 1] : NULL;
    bus->accesses++;
    sim_clock_advance(bus->clk, c ? c->access_ns : BUS_DEFAULT_TIO);
    return c;
}

/* One byte read: charged, then answered by the claiming device or 0xFF. */
uint8_t sim_bus_read8(sim_bus *bus, uint16_t port)
{
    const bus_claim *c = bus_access(bus, port);
    return c ? c->ops->read8(c->dev, (uint16_t)(port - c->base)) : 0xFF;
}

/* One byte write: charged, then handed to the claiming device (or dropped). */
void sim_bus_write8(sim_bus *bus, uint16_t port, uint8_t value)
{
    const bus_claim *c = bus_access(bus, port);
    if (c)
        c->ops->write8(c->dev, (uint16_t)(port - c->base), value);
}

/* Wide accesses: low byte first at the lower port, as an 8-bit ISA card sees them. */
uint16_t sim_bus_read16(sim_bus *bus, uint16_t port)
{
    uint16_t lo = sim_bus_read8(bus, port);
    uint16_t hi = sim_bus_read8(bus, (uint16_t)(port + 1));
    return (uint16_t)(lo | (hi << 8));
}

uint32_t sim_bus_read32(sim_bus *bus, uint16_t port)
{
    uint32_t lo = sim_bus_read16(bus, port);
    uint32_t hi = sim_bus_read16(bus, (uint16_t)(port + 2));
    return lo | (hi << 16);
}

void sim_bus_write16(sim_bus *bus, uint16_t port, uint16_t value)
{
    sim_bus_write8(bus, port, (uint8_t)value);
    sim_bus_write8(bus, (uint16_t)(port + 1), (uint8_t)(value >> 8));
}

void sim_bus_write32(sim_bus *bus, uint16_t port, uint32_t value)
{
    sim_bus_write16(bus, port, (uint16_t)value);
    sim_bus_write16(bus, (uint16_t)(port + 2), (uint16_t)(value >> 16));
}

uint64_t sim_bus_access_count(const sim_bus *bus)
{
    return bus->accesses;
}

/* nthost's single interrupt sink (NULL: drop interrupts). */
void sim_bus_set_irq_handler(sim_bus *bus, sim_irq_handler *fn, void *ctx)
{
    bus->irq_fn = fn;
    bus->irq_ctx = ctx;
}

/* Forward a device's IRQ line change to the host; dropped when nobody listens. */
void sim_bus_set_irq(sim_bus *bus, unsigned irq, bool asserted)
{
    if (bus->irq_fn)
        bus->irq_fn(bus->irq_ctx, irq, asserted);
}
