/*
 * port.c — SPP, PS/2 and ECP-capable parallel port chips (DL1.md section 11).
 *
 * Register bits become connector levels here (the inversions of nStrobe, nAutoFd,
 * nSelectIn and Busy live nowhere else). A port starts as a BIOS leaves it after POST:
 * CONTROL 0x0C (nInit high, nSelectIn low, forward), DATA latch 0xFF, ECR mode 000.
 * The data latch starts high because a key is powered from D0-D7 and browns out when
 * they are all held low (DL1.md section 8).
 */
#include "sim/port.h"

#include <stdlib.h>

#include "sim_internal.h"

#define SPAN_WIDE        8u   /* DATA, STATUS, CONTROL, EPP address and data */
#define SPAN_NARROW      4u   /* ports at 0x3BC and the like */
#define ECP_SPAN         3u   /* FIFO/cnfgA, cnfgB, ECR */
/* Offsets inside the ECP window at base+0x400. */
#define ECP_OFF_FIFO     (SIM_LPT_ECP_FIFO - SIM_LPT_ECP_FIFO)
#define ECP_OFF_CFGB     (SIM_LPT_ECP_CFGB - SIM_LPT_ECP_FIFO)
#define ECP_OFF_ECR      (SIM_LPT_ECR - SIM_LPT_ECP_FIFO)
#define CTRL_INIT        (SIM_CTRL_NINIT | SIM_CTRL_SELECTIN)
#define DATA_INIT        0xFFu
#define CNFGA_8BIT       0x10u /* implementation ID 001: 8-bit PWord; bit 7 = 0: pulsed IRQ */
/* Compatibility-FIFO handshake (mode 010), per byte: data, then strobe, then hold. */
#define FIFO_TSU_NS      SIM_NS(500)
#define FIFO_TSTB_NS     SIM_NS(500)
#define FIFO_THLD_NS     SIM_NS(500)
#define CNFGB_IRQ_SHIFT  3
#define CNFGB_INTR_VALUE 0x40u

struct sim_port {
    sim_bus *bus;
    sim_clock *clk;
    uint16_t base;
    uint16_t span;
    int irq;
    sim_chip_kind chip;
    sim_time_t access_ns;

    uint8_t data;           /* output latch */
    uint8_t ctrl;           /* CONTROL bits 5..0 as written (bit 5 only PS/2, ECP) */
    uint8_t ecr;            /* ECR bits 7..2 as written */

    sim_peripheral *periph;
    bool unplugged;
    sim_host_lines host;    /* lines the port drives now */
    sim_host_lines sent;    /* lines the peripheral was last told about */
    sim_periph_lines seen;  /* peripheral lines at the last change notification */

    sim_event unplug_ev;
    bool unplug_target;

    uint8_t fifo[SIM_ECP_FIFO_DEPTH];
    unsigned fifo_head, fifo_count;
    enum { FIFO_IDLE, FIFO_SETUP, FIFO_STROBE, FIFO_HOLD } fifo_phase;
    bool fifo_strobe;       /* the FIFO engine drives nStrobe low */
    sim_event fifo_ev;
    uint64_t fifo_sent;

    double noise_p;
    uint64_t rng;
    uint64_t irq_count;

    sim_vcd *vcd;
};

const char *sim_chip_name(sim_chip_kind chip)
{
    switch (chip) {
    case SIM_CHIP_SPP: return "spp";
    case SIM_CHIP_PS2: return "ps2";
    case SIM_CHIP_ECP: return "ecp";
    }
    return "?";
}

/* ECR bits 7..5, the chip's current mode (always 000 on SPP and PS/2 chips). */
static uint8_t ecr_mode(const sim_port *port)
{
    return port->ecr & SIM_ECR_MODE_MASK;
}

/* The host tri-states D0-D7: PS/2 with the direction bit, ECP in mode 001 with it. */
static bool port_reverse(const sim_port *port)
{
    if (!(port->ctrl & SIM_CTRL_DIR))
        return false;
    if (port->chip == SIM_CHIP_PS2)
        return true;
    return port->chip == SIM_CHIP_ECP && ecr_mode(port) == SIM_ECR_MODE_PS2;
}

/* Register bits to connector levels (the inversions of DL1.md section 11). */
static sim_host_lines compute_host_lines(const sim_port *port)
{
    sim_host_lines l;
    l.data = port->data;
    l.data_driven = !port_reverse(port);
    l.nStrobe = !(port->ctrl & SIM_CTRL_STROBE) && !port->fifo_strobe;
    l.nAutoFd = !(port->ctrl & SIM_CTRL_AUTOFD);
    l.nInit = (port->ctrl & SIM_CTRL_NINIT) != 0;
    l.nSelectIn = !(port->ctrl & SIM_CTRL_SELECTIN);
    return l;
}

/* Would a peripheral notice the difference? Data counts only while driven. */
static bool host_lines_differ(const sim_host_lines *a, const sim_host_lines *b)
{
    if (a->data_driven != b->data_driven || a->nStrobe != b->nStrobe ||
        a->nAutoFd != b->nAutoFd || a->nInit != b->nInit || a->nSelectIn != b->nSelectIn)
        return true;
    return a->data_driven && a->data != b->data;
}

/* Peripheral-side lines at the connector: pull-ups when nothing is connected. */
static sim_periph_lines connector_lines(const sim_port *port)
{
    if (port->unplugged || !port->periph)
        return sim_lines_pulled_up();
    return port->periph->ops->lines(port->periph);
}

/* Let the trace, if any, record whatever changed. */
static void trace_sample(sim_port *port)
{
    if (port->vcd) {
        sim_line_snapshot s = sim_port_snapshot(port);
        sim_vcd_sample(port->vcd, sim_now(port->clk), &s);
    }
}

/* One edge-triggered ISA interrupt: the bus handler sees assert then deassert. */
static void irq_pulse(sim_port *port)
{
    port->irq_count++;
    if (port->vcd)
        sim_vcd_irq(port->vcd, sim_now(port->clk));
    sim_bus_set_irq(port->bus, (unsigned)port->irq, true);
    sim_bus_set_irq(port->bus, (unsigned)port->irq, false);
}

static void fifo_kick(sim_port *port);

/*
 * The connector's peripheral lines may have changed (notification, plug, unplug):
 * remember them, raise the interrupt on an nAck rising edge when enabled, trace.
 */
static void periph_lines_changed(sim_port *port)
{
    sim_periph_lines now = connector_lines(port);
    bool ack_rose = !port->seen.nAck && now.nAck;
    port->seen = now;
    if (ack_rose && (port->ctrl & SIM_CTRL_IRQEN) && port->irq != SIM_IRQ_NONE)
        irq_pulse(port);
    trace_sample(port);
    fifo_kick(port);    /* Busy may have dropped */
}

/* sim_lines_changed_fn installed in every attached peripheral. */
static void on_periph_notify(void *upstream)
{
    periph_lines_changed(upstream);
}

/* Tell the peripheral about host lines it has not seen yet, if it can see them. */
static void deliver_host_lines(sim_port *port)
{
    if (port->unplugged || !port->periph || !host_lines_differ(&port->sent, &port->host))
        return;
    port->sent = port->host;
    port->periph->ops->host_changed(port->periph, &port->host);
}

/* After a register write: recompute the driven lines and propagate a change. */
static void host_lines_update(sim_port *port)
{
    sim_host_lines l = compute_host_lines(port);
    bool changed = host_lines_differ(&l, &port->host) || l.data != port->host.data;
    port->host = l;
    deliver_host_lines(port);
    if (changed)
        trace_sample(port);
}

/* xorshift64* (Vigna): small, fast, and good enough to decide bit flips. */
static uint64_t rng_next(sim_port *port)
{
    port->rng ^= port->rng >> 12;
    port->rng ^= port->rng << 25;
    port->rng ^= port->rng >> 27;
    return port->rng * 0x2545F4914F6CDD1Dull;
}

/* Noise fault: true with probability noise_p (53-bit uniform in [0, 1)). */
static bool noise_flip(sim_port *port)
{
    return (double)(rng_next(port) >> 11) * 0x1.0p-53 < port->noise_p;
}

/* STATUS: connector lines (noise applied) into register bits, bit 7 inverted. */
static uint8_t status_register(sim_port *port)
{
    sim_periph_lines l = connector_lines(port);
    if (port->noise_p > 0) {
        l.busy ^= noise_flip(port);
        l.nAck ^= noise_flip(port);
        l.perror ^= noise_flip(port);
        l.select ^= noise_flip(port);
        l.nFault ^= noise_flip(port);
    }
    return (uint8_t)((l.busy ? 0 : SIM_STATUS_NBUSY) | (l.nAck ? SIM_STATUS_NACK : 0) |
                     (l.perror ? SIM_STATUS_PERROR : 0) | (l.select ? SIM_STATUS_SELECT : 0) |
                     (l.nFault ? SIM_STATUS_NFAULT : 0) | SIM_STATUS_ONES);
}

/* DATA read: the latch going forward; in reverse what the far end drives, else 0xFF. */
static uint8_t data_register(const sim_port *port)
{
    if (!port_reverse(port))
        return port->data;
    sim_periph_lines l = connector_lines(port);
    return l.data_driven ? l.data : 0xFF;
}

/* CONTROL read-back: bits 7..6 (and the SPP's missing direction bit) read 1. */
static uint8_t control_register(const sim_port *port)
{
    if (port->chip == SIM_CHIP_SPP)
        return (uint8_t)(SIM_CTRL_ONES | SIM_CTRL_DIR | port->ctrl);
    return (uint8_t)(SIM_CTRL_ONES | port->ctrl);
}

/* Reads in the span: DATA, STATUS, CONTROL; nothing answers above them. */
static uint8_t port_read8(void *dev, uint16_t offset)
{
    sim_port *port = dev;
    switch (offset) {
    case SIM_LPT_DATA: return data_register(port);
    case SIM_LPT_STATUS: return status_register(port);
    case SIM_LPT_CONTROL: return control_register(port);
    default: return 0xFF;
    }
}

/* DATA and CONTROL writes end with the host lines recomputed; others do nothing. */
static void port_write8(void *dev, uint16_t offset, uint8_t value)
{
    sim_port *port = dev;
    switch (offset) {
    case SIM_LPT_DATA:
        port->data = value;
        break;
    case SIM_LPT_CONTROL: {
        uint8_t mask = SIM_CTRL_STROBE | SIM_CTRL_AUTOFD | SIM_CTRL_NINIT |
                       SIM_CTRL_SELECTIN | SIM_CTRL_IRQEN;
        if (port->chip != SIM_CHIP_SPP)
            mask |= SIM_CTRL_DIR;
        port->ctrl = value & mask;
        break;
    }
    default:
        return; /* STATUS is read-only; no EPP registers */
    }
    host_lines_update(port);
}

/* cnfgB bits 5..3 encode IRQ 7, 9, 10, 11, 14, 15, 5 as 1..7 (0: set by jumper). */
static uint8_t cnfgb_irq_code(int irq)
{
    static const int irqs[] = { 7, 9, 10, 11, 14, 15, 5 };
    for (unsigned i = 0; i < sizeof(irqs) / sizeof(irqs[0]); i++)
        if (irqs[i] == irq)
            return (uint8_t)((i + 1) << CNFGB_IRQ_SHIFT);
    return 0; /* "selected by jumper" */
}

/* ---- ECP FIFO ----------------------------------------------------------------------
 * Mode 010 (compatibility FIFO): bytes written to base+0x400 go out with the
 * compatibility handshake done by the chip: wait for Busy low, put the byte on D0-D7,
 * nStrobe low after tSU, high after tSTB, next byte after tHLD. Mode 110 (test): the
 * FIFO is written and read at base+0x400 with no handshake. Mode 011 (ECP): the FIFO
 * accepts bytes but the ECP handshake is not modelled, so they stay. A switch to mode
 * 000 or 001 empties the FIFO; any mode change stops a transfer in progress. */

static bool fifo_push(sim_port *port, uint8_t b)
{
    if (port->fifo_count == SIM_ECP_FIFO_DEPTH)
        return false; /* overrun: the byte is lost, as on the real chip */
    port->fifo[(port->fifo_head + port->fifo_count) % SIM_ECP_FIFO_DEPTH] = b;
    port->fifo_count++;
    return true;
}

static uint8_t fifo_pop(sim_port *port)
{
    if (port->fifo_count == 0)
        return 0xFF;
    uint8_t b = port->fifo[port->fifo_head];
    port->fifo_head = (port->fifo_head + 1) % SIM_ECP_FIFO_DEPTH;
    port->fifo_count--;
    return b;
}

/* Start the next byte of a mode-010 transfer if there is one and Busy is low. */
static void fifo_kick(sim_port *port)
{
    if (port->fifo_phase != FIFO_IDLE || port->fifo_count == 0 ||
        ecr_mode(port) != SIM_ECR_MODE_FIFO || connector_lines(port).busy)
        return;
    port->data = fifo_pop(port);
    port->fifo_phase = FIFO_SETUP;
    sim_event_schedule(port->clk, &port->fifo_ev, sim_now(port->clk) + FIFO_TSU_NS);
    host_lines_update(port);
}

/* The handshake engine's steps: strobe low, strobe high, hold done. */
static void on_fifo_event(sim_event *ev, void *ctx)
{
    (void)ev;
    sim_port *port = ctx;
    sim_time_t now = sim_now(port->clk);
    switch (port->fifo_phase) {
    case FIFO_SETUP:
        port->fifo_phase = FIFO_STROBE;
        port->fifo_strobe = true;
        sim_event_schedule(port->clk, &port->fifo_ev, now + FIFO_TSTB_NS);
        host_lines_update(port);
        break;
    case FIFO_STROBE:
        port->fifo_phase = FIFO_HOLD;
        port->fifo_strobe = false;
        port->fifo_sent++;
        sim_event_schedule(port->clk, &port->fifo_ev, now + FIFO_THLD_NS);
        host_lines_update(port);
        break;
    case FIFO_HOLD:
    case FIFO_IDLE:
        port->fifo_phase = FIFO_IDLE;
        fifo_kick(port);
        break;
    }
}

/* A mode change stops the engine (strobe released); 000 and 001 also empty the FIFO. */
static void fifo_mode_changed(sim_port *port)
{
    if (port->fifo_phase != FIFO_IDLE) {
        sim_event_cancel(port->clk, &port->fifo_ev);
        port->fifo_phase = FIFO_IDLE;
        port->fifo_strobe = false;
    }
    if (ecr_mode(port) == SIM_ECR_MODE_SPP || ecr_mode(port) == SIM_ECR_MODE_PS2)
        port->fifo_count = 0;
}

/* ECR read: bits 7..2 as written, FIFO full and empty from the FIFO. */
static uint8_t ecr_register(const sim_port *port)
{
    uint8_t v = port->ecr;
    if (port->fifo_count == 0)
        v |= SIM_ECR_EMPTY;
    if (port->fifo_count == SIM_ECP_FIFO_DEPTH)
        v |= SIM_ECR_FULL;
    return v;
}

/* The ECP window: FIFO (test mode reads), cnfgA/cnfgB in configuration mode, ECR. */
static uint8_t ecp_read8(void *dev, uint16_t offset)
{
    sim_port *port = dev;
    uint8_t mode = ecr_mode(port);
    switch (offset) {
    case ECP_OFF_FIFO:
        if (mode == SIM_ECR_MODE_CFG)
            return CNFGA_8BIT;
        return mode == SIM_ECR_MODE_TEST ? fifo_pop(port) : 0xFF;
    case ECP_OFF_CFGB:
        if (mode != SIM_ECR_MODE_CFG)
            return 0xFF;
        return (uint8_t)(cnfgb_irq_code(port->irq) | (port->seen.nAck ? CNFGB_INTR_VALUE : 0));
    default:
        return ecr_register(port);
    }
}

/* FIFO writes in modes 010, 011, 110; ECR writes (bits 1..0 are read-only). */
static void ecp_write8(void *dev, uint16_t offset, uint8_t value)
{
    sim_port *port = dev;
    uint8_t mode = ecr_mode(port);
    if (offset == ECP_OFF_FIFO) {
        if (mode == SIM_ECR_MODE_FIFO || mode == SIM_ECR_MODE_ECP || mode == SIM_ECR_MODE_TEST) {
            fifo_push(port, value);
            fifo_kick(port);
        }
        return;
    }
    if (offset != ECP_OFF_ECR)
        return; /* cnfgB: IRQ and DMA come from the machine description */
    port->ecr = value & (uint8_t)~(SIM_ECR_FULL | SIM_ECR_EMPTY);
    if (ecr_mode(port) != mode)
        fifo_mode_changed(port);
    host_lines_update(port);
    fifo_kick(port);
}

static const sim_io_ops port_ops = { port_read8, port_write8 };
static const sim_io_ops ecp_ops = { ecp_read8, ecp_write8 };

/* sim_port_set_unplugged_at's event. */
static void on_unplug_event(sim_event *ev, void *ctx)
{
    (void)ev;
    sim_port *port = ctx;
    sim_port_set_unplugged(port, port->unplug_target);
}

/* A chip as the BIOS leaves it (see the file comment), claimed on the bus. */
sim_port *sim_port_create(sim_bus *bus, uint16_t base, int irq, sim_chip_kind chip,
                          sim_time_t access_ns)
{
    if ((irq != SIM_IRQ_NONE && (irq < 0 || irq > 15)) || (base & 3))
        return NULL;
    sim_port *port = calloc(1, sizeof(*port));
    if (!port)
        return NULL;
    port->bus = bus;
    port->clk = sim_bus_clock(bus);
    port->base = base;
    port->span = sim_port_span_for(base);
    port->irq = irq;
    port->chip = chip;
    port->access_ns = access_ns;
    port->data = DATA_INIT;
    port->ctrl = CTRL_INIT;
    port->ecr = SIM_ECR_MODE_SPP;
    port->host = compute_host_lines(port);
    port->sent = sim_lines_host_idle();
    port->seen = sim_lines_pulled_up();
    port->rng = 1;
    sim_event_init(&port->unplug_ev, on_unplug_event, port);
    sim_event_init(&port->fifo_ev, on_fifo_event, port);

    if ((uint32_t)base + port->span > 0x10000u ||
        sim_bus_claim(bus, base, port->span, access_ns, &port_ops, port) != 0) {
        free(port);
        return NULL;
    }
    if (chip == SIM_CHIP_ECP &&
        ((uint32_t)base + SIM_LPT_ECP_FIFO + ECP_SPAN > 0x10000u ||
         sim_bus_claim(bus, (uint16_t)(base + SIM_LPT_ECP_FIFO), ECP_SPAN, access_ns,
                       &ecp_ops, port) != 0)) {
        sim_bus_release(bus, base);
        free(port);
        return NULL;
    }
    return port;
}

/* Close a trace, cancel the unplug event, release the claims, free the chain. */
void sim_port_destroy(sim_port *port)
{
    if (!port)
        return;
    if (port->vcd)
        sim_vcd_close(port->vcd, sim_now(port->clk));
    sim_event_cancel(port->clk, &port->unplug_ev);
    sim_event_cancel(port->clk, &port->fifo_ev);
    sim_bus_release(port->bus, port->base);
    if (port->chip == SIM_CHIP_ECP)
        sim_bus_release(port->bus, (uint16_t)(port->base + SIM_LPT_ECP_FIFO));
    if (port->periph)
        port->periph->ops->destroy(port->periph);
    free(port);
}

/*
 * Plug p in (NULL: leave the port empty). A fresh peripheral is taken to see idle
 * host lines (sim_lines_host_idle) until told otherwise, so it hears about the
 * port's actual lines only if they differ.
 */
void sim_port_attach(sim_port *port, sim_peripheral *p)
{
    if (port->periph) {
        port->periph->notify = NULL;
        port->periph->ops->destroy(port->periph);
    }
    port->periph = p;
    port->sent = sim_lines_host_idle();
    if (p) {
        p->notify = on_periph_notify;
        p->upstream = port;
        deliver_host_lines(port);
    }
    periph_lines_changed(port);
}

sim_peripheral *sim_port_peripheral(const sim_port *port)
{
    return port->periph;
}

/* Cable fault: see port.h. Plugging back delivers the lines the far end missed. */
void sim_port_set_unplugged(sim_port *port, bool unplugged)
{
    if (port->unplugged == unplugged)
        return;
    port->unplugged = unplugged;
    deliver_host_lines(port);
    periph_lines_changed(port);
}

void sim_port_set_unplugged_at(sim_port *port, bool unplugged, sim_time_t when)
{
    port->unplug_target = unplugged;
    sim_event_schedule(port->clk, &port->unplug_ev, when);
}

bool sim_port_unplugged(const sim_port *port)
{
    return port->unplugged;
}

/* The seed is mixed (splitmix64 step) so that small seeds give unrelated streams. */
void sim_port_set_noise(sim_port *port, double p, uint64_t seed)
{
    uint64_t z = seed + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    port->rng = z ? z : 1; /* xorshift must not start at 0 */
    port->noise_p = p;
}

uint16_t sim_port_span_for(uint16_t base) { return (base & 4) ? SPAN_NARROW : SPAN_WIDE; }
uint16_t sim_port_base(const sim_port *port) { return port->base; }
uint16_t sim_port_span(const sim_port *port) { return port->span; }
int sim_port_irq(const sim_port *port) { return port->irq; }
sim_chip_kind sim_port_chip(const sim_port *port) { return port->chip; }
sim_time_t sim_port_access_ns(const sim_port *port) { return port->access_ns; }
sim_clock *sim_port_clock(const sim_port *port) { return port->clk; }
sim_host_lines sim_port_host_lines(const sim_port *port) { return port->host; }
sim_periph_lines sim_port_periph_lines(const sim_port *port) { return connector_lines(port); }
bool sim_port_reverse(const sim_port *port) { return port_reverse(port); }
uint64_t sim_port_irq_count(const sim_port *port) { return port->irq_count; }
unsigned sim_port_fifo_level(const sim_port *port) { return port->fifo_count; }
uint64_t sim_port_fifo_sent(const sim_port *port) { return port->fifo_sent; }

sim_vcd *sim_port_vcd(const sim_port *port) { return port->vcd; }
void sim_port_set_vcd(sim_port *port, sim_vcd *vcd) { port->vcd = vcd; }

/* Everything the VCD trace records, as the cable carries it now. */
sim_line_snapshot sim_port_snapshot(const sim_port *port)
{
    sim_line_snapshot s = { port->host, connector_lines(port), port_reverse(port) };
    return s;
}
