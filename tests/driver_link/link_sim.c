/*
 * link_sim.c — see link_sim.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include "link_sim.h"
#include "link_world.h"

sim_clock *ls_clock;
sim_bus *ls_bus;
sim_port *ls_port;
sim_key *ls_key;
sim_printer *ls_printer;

static uint64_t stalled, slept;
static unsigned sleeps;
static unsigned corrupt_countdown, corrupt_read_countdown;
static uint8_t corrupt_mask, corrupt_read_mask;
static unsigned preempt_countdown;
static uint64_t preempt_ns;

static void ls_after_access(void)
{
    if (preempt_countdown && --preempt_countdown == 0)
        sim_clock_advance(ls_clock, preempt_ns);
}

void ls_create(ls_chip chip, unsigned access_ns, ls_attach attach, bool skip_ready)
{
    static const sim_chip_kind kinds[] = { SIM_CHIP_SPP, SIM_CHIP_PS2, SIM_CHIP_ECP };
    sim_key_config cfg = { 0 };
    sim_peripheral *behind = NULL, *top = NULL;
    char err[256];

    ls_clock = sim_clock_create();
    ls_bus = sim_bus_create(ls_clock);
    ls_port = sim_port_create(ls_bus, LS_BASE, 7, kinds[chip], access_ns);
    if (!ls_port)
        abort();
    ls_key = NULL;
    ls_printer = NULL;
    if (attach == LS_PRINTER || attach == LS_KEY_PRINTER) {
        ls_printer = sim_printer_create(ls_clock, NULL);
        behind = sim_printer_peripheral(ls_printer);
    }
    if (attach == LS_KEY || attach == LS_KEY_PRINTER) {
        for (unsigned i = 0; i < SIM_KEY_SERIAL_LEN; i++)
            cfg.serial[i] = (uint8_t)(0x10 + i);
        for (unsigned i = 0; i < SIM_KEY_SECRET_LEN; i++)
            cfg.secret[i] = (uint8_t)(0xA0 ^ i);
        top = sim_key_create(ls_clock, &cfg, behind, err, sizeof err);
        if (!top) {
            fprintf(stderr, "sim_key_create: %s\n", err);
            abort();
        }
        ls_key = sim_key_from_peripheral(top);
    } else {
        top = behind;
    }
    sim_port_attach(ls_port, top);
    stalled = slept = 0;
    sleeps = 0;
    corrupt_countdown = corrupt_read_countdown = preempt_countdown = 0;
    if (!skip_ready)
        sim_clock_advance(ls_clock, SIM_MS(150));
}

void ls_destroy(void)
{
    sim_port_destroy(ls_port);
    sim_bus_destroy(ls_bus);
    sim_clock_destroy(ls_clock);
    ls_port = NULL;
    ls_key = NULL;
    ls_printer = NULL;
}

uint8_t ls_read8(uint16_t port)
{
    uint8_t value = sim_bus_read8(ls_bus, port);

    if (port == LS_BASE && corrupt_read_countdown && --corrupt_read_countdown == 0)
        value ^= corrupt_read_mask;
    ls_after_access();
    return value;
}

void ls_write8(uint16_t port, uint8_t value)
{
    if (port == LS_BASE && corrupt_countdown && --corrupt_countdown == 0)
        value ^= corrupt_mask;
    sim_bus_write8(ls_bus, port, value);
    ls_after_access();
}

void ls_stall_ns(uint64_t ns)
{
    stalled += ns;
    sim_clock_advance(ls_clock, ns);
}

void ls_sleep_ns(uint64_t ns)
{
    slept += ns;
    sleeps++;
    sim_clock_advance(ls_clock, ns);
}

uint64_t ls_now_ns(void)
{
    return sim_now(ls_clock);
}

uint64_t ls_accesses(void)
{
    return sim_bus_access_count(ls_bus);
}

uint64_t ls_stalled_ns(void)
{
    return stalled;
}

uint64_t ls_slept_ns(void)
{
    return slept;
}

unsigned ls_sleeps(void)
{
    return sleeps;
}

void ls_corrupt_data_write(unsigned n, uint8_t mask)
{
    corrupt_countdown = n;
    corrupt_mask = mask;
}

void ls_corrupt_data_read(unsigned n, uint8_t mask)
{
    corrupt_read_countdown = n;
    corrupt_read_mask = mask;
}

void ls_preempt_after(unsigned n, uint64_t ns)
{
    preempt_countdown = n;
    preempt_ns = ns;
}
