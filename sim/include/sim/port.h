/*
 * sim/port.h — PC parallel port chip models (SPP, PS/2, ECP-capable) on the I/O bus.
 *
 * Register semantics are those of DL1.md section 11; every line inversion between the
 * register bits and the connector lives here and nowhere else.
 *
 *   DATA    base+0  write: the D0-D7 latch. Read: the latch while the port drives the
 *                   lines (forward); in reverse, the byte the peripheral drives, or
 *                   0xFF when nothing drives (this model pulls undriven lines up; a
 *                   real PS/2 port's lines float and read whatever the cable holds).
 *   STATUS  base+1  7 = NOT Busy, 6 = nAck, 5 = PError, 4 = Select, 3 = nFault,
 *                   2..0 read 1. None of these models is EPP-capable, so bit 0 is
 *                   never an EPP timeout bit: it reads 1 and cannot be cleared.
 *                   Writes are ignored.
 *   CONTROL base+2  0 = drive nStrobe low, 1 = drive nAutoFd low, 2 = nInit level,
 *                   3 = drive nSelectIn low, 4 = IRQ enable, 5 = direction (reverse).
 *                   Bits 7..6 read 1. On the SPP bit 5 is not implemented (reads 1,
 *                   direction never changes); on PS/2 and ECP it reads back as written
 *                   and reverses the data lines (ECP: only while ECR mode is 001).
 *   ECR     base+0x402 (ECP only) 7..5 mode, 4 nErrIntrEn, 3 dmaEn, 2 serviceIntr,
 *                   1 FIFO full, 0 FIFO empty. Bits 7..2 read back as written (no
 *                   FIFO service interrupts, no DMA), bits 1..0 are read-only FIFO
 *                   status (so writing 0x34 reads back 0x35). Modes 000 (SPP) and
 *                   001 (PS/2) are fully modelled. The 16-byte FIFO at base+0x400:
 *                   mode 010 sends it with the compatibility handshake (the chip
 *                   waits for Busy low, then D0-D7, nStrobe low 0.5 us later for
 *                   0.5 us, 0.5 us hold); mode 110 (test) writes and reads it with
 *                   no handshake; mode 011 accepts bytes but does not model the ECP
 *                   handshake, so they stay. A write to a full FIFO is lost; a
 *                   switch to mode 000/001 empties it. In modes 010..110 the lines
 *                   otherwise behave as in mode 000; EPP (100) has no registers.
 *                   Mode 111 shows cnfgA (0x10: 8-bit, pulsed interrupts) at
 *                   base+0x400 and cnfgB (IRQ field per the ECP register spec) at
 *                   base+0x401; base+0x401 reads 0xFF in the other modes.
 *
 * A port's base is a multiple of 4. It claims its span on the bus, 8 registers
 * (base..base+7, as an EPP-capable card decodes) or 4 for a base at an odd multiple
 * of 4 such as 0x3BC, plus base+0x400..base+0x402 for ECP, with its access time,
 * which the bus charges on every access. base+3 and up read 0xFF and ignore writes
 * (no EPP registers in these models).
 *
 * Host lines are recomputed after every register write; the peripheral's host_changed
 * is called exactly when a line changed (data changes count only while the host
 * drives D0-D7). Peripheral line changes reach the port through the peripheral's
 * notify callback.
 *
 * Interrupt: ISA interrupts are edge-triggered. With CONTROL bit 4 set, a rising edge
 * of nAck (the trailing edge of the acknowledge pulse) pulses the port's IRQ: the
 * port asserts it and deasserts it at once through sim_bus_set_irq, so the bus
 * handler sees one assert/deassert pair per edge. Nothing is latched in the chip.
 */
#ifndef SIM_PORT_H
#define SIM_PORT_H

#include <stdbool.h>
#include <stdint.h>
#include "sim/bus.h"
#include "sim/lines.h"

/* Register offsets and bits (DL1.md section 11, IEEE 1284 / ECP register spec). */
#define SIM_LPT_DATA     0u
#define SIM_LPT_STATUS   1u
#define SIM_LPT_CONTROL  2u
#define SIM_LPT_ECP_FIFO 0x400u  /* cnfgA in mode 111 */
#define SIM_LPT_ECP_CFGB 0x401u
#define SIM_LPT_ECR      0x402u

#define SIM_STATUS_NBUSY   0x80u
#define SIM_STATUS_NACK    0x40u
#define SIM_STATUS_PERROR  0x20u
#define SIM_STATUS_SELECT  0x10u
#define SIM_STATUS_NFAULT  0x08u
#define SIM_STATUS_ONES    0x07u   /* bits 2..0 read 1 on these models */

#define SIM_CTRL_STROBE    0x01u   /* 1 = nStrobe low */
#define SIM_CTRL_AUTOFD    0x02u   /* 1 = nAutoFd low */
#define SIM_CTRL_NINIT     0x04u   /* 1 = nInit high */
#define SIM_CTRL_SELECTIN  0x08u   /* 1 = nSelectIn low */
#define SIM_CTRL_IRQEN     0x10u
#define SIM_CTRL_DIR       0x20u   /* 1 = reverse (PS/2, ECP mode 001) */
#define SIM_CTRL_ONES      0xC0u

#define SIM_ECR_MODE_MASK  0xE0u
#define SIM_ECR_MODE_SPP   0x00u
#define SIM_ECR_MODE_PS2   0x20u
#define SIM_ECR_MODE_FIFO  0x40u
#define SIM_ECR_MODE_ECP   0x60u
#define SIM_ECR_MODE_EPP   0x80u
#define SIM_ECR_MODE_TEST  0xC0u
#define SIM_ECR_MODE_CFG   0xE0u
#define SIM_ECR_NERRINTR   0x10u
#define SIM_ECR_DMAEN      0x08u
#define SIM_ECR_SERVICE    0x04u
#define SIM_ECR_FULL       0x02u
#define SIM_ECR_EMPTY      0x01u
#define SIM_ECP_FIFO_DEPTH 16u

typedef enum sim_chip_kind {
    SIM_CHIP_SPP,
    SIM_CHIP_PS2,
    SIM_CHIP_ECP,
} sim_chip_kind;

const char *sim_chip_name(sim_chip_kind chip);   /* "spp", "ps2", "ecp" */

#define SIM_IRQ_NONE (-1)

typedef struct sim_port sim_port;

/* Register span at base (8, or 4 for a base at an odd multiple of 4). */
uint16_t sim_port_span_for(uint16_t base);

/*
 * Create a chip at base (a multiple of 4; irq: 0..15 or SIM_IRQ_NONE) and claim its
 * registers on bus. Returns NULL on a bad base or irq, or if a register range
 * overlaps an existing claim.
 */
sim_port *sim_port_create(sim_bus *bus, uint16_t base, int irq, sim_chip_kind chip,
                          sim_time_t access_ns);
/* Release the claims, stop any trace and destroy the attached peripheral. */
void sim_port_destroy(sim_port *port);

/*
 * Plug a peripheral (a key, a printer) into the port: the port takes ownership and
 * becomes its upstream. A fresh peripheral is taken to see sim_lines_host_idle(); it
 * gets one host_changed with the port's lines if they differ (the power-on lines do
 * not). NULL = nothing attached (pull-ups). A previously attached peripheral is
 * destroyed.
 */
void sim_port_attach(sim_port *port, sim_peripheral *p);
sim_peripheral *sim_port_peripheral(const sim_port *port);

/*
 * Fault: cable pulled out of the port (true) or plugged back (false). While unplugged
 * every status line floats high, D0-D7 are undriven from the far end, and host line
 * changes no longer reach the peripheral; plugging back delivers the current host
 * lines if they differ from what the peripheral saw last. (A key powered from the
 * port also loses power: sim_machine_unplug does both.)
 */
void sim_port_set_unplugged(sim_port *port, bool unplugged);
/* The same, at machine time `when` (now if already past). */
void sim_port_set_unplugged_at(sim_port *port, bool unplugged, sim_time_t when);
bool sim_port_unplugged(const sim_port *port);

/*
 * Fault: noisy status lines. Each STATUS read flips each of the five status lines
 * independently with probability p (0 = off), from a PRNG seeded with seed, so a run
 * is reproducible. Only register reads are affected (not the IRQ, not the trace).
 */
void sim_port_set_noise(sim_port *port, double p, uint64_t seed);

/* Inspection. */
uint16_t sim_port_base(const sim_port *port);
uint16_t sim_port_span(const sim_port *port);
int sim_port_irq(const sim_port *port);
sim_chip_kind sim_port_chip(const sim_port *port);
sim_time_t sim_port_access_ns(const sim_port *port);
sim_clock *sim_port_clock(const sim_port *port);
sim_host_lines sim_port_host_lines(const sim_port *port);
/* Peripheral-side lines at the connector now (pull-ups when unplugged or empty). */
sim_periph_lines sim_port_periph_lines(const sim_port *port);
bool sim_port_reverse(const sim_port *port);     /* data lines tri-stated by the host */
uint64_t sim_port_irq_count(const sim_port *port); /* IRQ pulses delivered */
unsigned sim_port_fifo_level(const sim_port *port);  /* ECP FIFO bytes queued */
uint64_t sim_port_fifo_sent(const sim_port *port);   /* bytes strobed out by mode 010 */

#endif
