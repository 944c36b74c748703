/*
 * test_port_probe.c — a parallel port probe written from the published PC port and
 * IEEE 1284 facts, run against every chip model: it must tell SPP, PS/2 and ECP
 * apart, find no EPP, see through a 10-bit-decoding card whose "ECR" is an alias
 * of CONTROL, and tell "nothing attached" from a printer.
 *
 * The probe only uses register accesses, as a driver would:
 *  1. presence: the DATA latch reads back 0xAA and 0x55 (forward), and CONTROL bits
 *     3..0 read back what was written;
 *  2. ECR: base+0x402 is an ECR only if writing 0x34 (mode 001, nErrIntrEn,
 *     serviceIntr) reads back 0x35 (FIFO-empty bit set), and base+0x402 does not
 *     follow CONTROL (a card decoding 10 address bits sees CONTROL there);
 *  3. bidirectional: with the direction bit set (ECR mode 001 first on an ECP chip),
 *     DATA writes of 0x55 and 0xAA must not read back (the latch is tri-stated);
 *  4. EPP: STATUS bit 0 is the EPP timeout bit only if it can be cleared; on a port
 *     where it is stuck at 1 there is no EPP;
 *  5. what is attached, from STATUS bits 7..3: all lines pulled high (0x78) is nothing
 *     attached; 0xD8 is an idle, online printer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sim/key.h"
#include "sim/port.h"
#include "sim/printer.h"

typedef enum { PROBE_ABSENT, PROBE_SPP, PROBE_PS2, PROBE_ECP } probe_type;
typedef enum { SEEN_NOTHING, SEEN_PRINTER, SEEN_OTHER } probe_seen;

typedef struct probe_result {
    probe_type type;
    bool epp;
    probe_seen seen;
    uint8_t status;
} probe_result;

#define P_DATA(b)    ((uint16_t)(b))
#define P_STATUS(b)  ((uint16_t)((b) + 1))
#define P_CONTROL(b) ((uint16_t)((b) + 2))
#define P_ECR(b)     ((uint16_t)((b) + 0x402))

static bool data_reads_back(sim_bus *bus, uint16_t base)
{
    static const uint8_t patterns[] = { 0xAA, 0x55 };
    for (unsigned i = 0; i < 2; i++) {
        sim_bus_write8(bus, P_DATA(base), patterns[i]);
        if (sim_bus_read8(bus, P_DATA(base)) != patterns[i])
            return false;
    }
    return true;
}

static bool control_reads_back(sim_bus *bus, uint16_t base)
{
    static const uint8_t patterns[] = { 0x0C, 0x05 };
    for (unsigned i = 0; i < 2; i++) {
        sim_bus_write8(bus, P_CONTROL(base), patterns[i]);
        if ((sim_bus_read8(bus, P_CONTROL(base)) & 0x0F) != patterns[i])
            return false;
    }
    sim_bus_write8(bus, P_CONTROL(base), 0x0C);
    return true;
}

/* Does base+0x402 merely mirror CONTROL? Change CONTROL's low bits and watch it. */
static bool ecr_aliases_control(sim_bus *bus, uint16_t base)
{
    static const uint8_t patterns[] = { 0x0C, 0x0E, 0x05 };
    int same = 0;
    for (unsigned i = 0; i < 3; i++) {
        sim_bus_write8(bus, P_CONTROL(base), patterns[i]);
        uint8_t ctl = sim_bus_read8(bus, P_CONTROL(base));
        uint8_t ecr = sim_bus_read8(bus, P_ECR(base));
        if ((ecr & 0x0F) == (ctl & 0x0F))
            same++;
    }
    sim_bus_write8(bus, P_CONTROL(base), 0x0C);
    return same == 3;
}

static bool has_ecr(sim_bus *bus, uint16_t base)
{
    if (ecr_aliases_control(bus, base))
        return false;
    sim_bus_write8(bus, P_ECR(base), 0x34);
    if (sim_bus_read8(bus, P_ECR(base)) != 0x35)
        return false;
    /* Writing the ECR must not have changed CONTROL either. */
    return (sim_bus_read8(bus, P_CONTROL(base)) & 0x0F) == 0x0C;
}

/* With the data drivers off, what we write must not come back. */
static bool data_tristates(sim_bus *bus, uint16_t base)
{
    sim_bus_write8(bus, P_CONTROL(base), 0x2C);
    bool tristated = true;
    static const uint8_t patterns[] = { 0x55, 0xAA };
    for (unsigned i = 0; i < 2; i++) {
        sim_bus_write8(bus, P_DATA(base), patterns[i]);
        if (sim_bus_read8(bus, P_DATA(base)) == patterns[i])
            tristated = false;
    }
    sim_bus_write8(bus, P_CONTROL(base), 0x0C);
    return tristated;
}

/* Try the usual ways to clear the EPP timeout bit: read, write 1, write 0. */
static bool epp_timeout_clearable(sim_bus *bus, uint16_t base)
{
    (void)sim_bus_read8(bus, P_STATUS(base));
    if (!(sim_bus_read8(bus, P_STATUS(base)) & 0x01))
        return true;
    sim_bus_write8(bus, P_STATUS(base), 0x01);
    if (!(sim_bus_read8(bus, P_STATUS(base)) & 0x01))
        return true;
    sim_bus_write8(bus, P_STATUS(base), 0x00);
    return !(sim_bus_read8(bus, P_STATUS(base)) & 0x01);
}

static probe_result probe(sim_bus *bus, uint16_t base)
{
    probe_result r = { PROBE_ABSENT, false, SEEN_OTHER, 0 };
    if (!data_reads_back(bus, base) || !control_reads_back(bus, base))
        return r;
    bool ecp = has_ecr(bus, base);
    if (ecp)
        sim_bus_write8(bus, P_ECR(base), 0x20 | 0x14); /* mode 001 for the PS/2 test */
    bool bidir = data_tristates(bus, base);
    if (ecp)
        sim_bus_write8(bus, P_ECR(base), 0x14);        /* back to mode 000 */
    r.type = ecp ? PROBE_ECP : bidir ? PROBE_PS2 : PROBE_SPP;
    r.epp = epp_timeout_clearable(bus, base);
    r.status = sim_bus_read8(bus, P_STATUS(base));
    uint8_t lines = r.status & 0xF8;
    r.seen = lines == 0x78 ? SEEN_NOTHING : lines == 0xD8 ? SEEN_PRINTER : SEEN_OTHER;
    return r;
}

typedef struct rig {
    sim_clock *clk;
    sim_bus *bus;
    sim_port *port;
} rig;

static rig rig_make(sim_chip_kind chip, bool printer)
{
    rig r;
    r.clk = sim_clock_create();
    r.bus = sim_bus_create(r.clk);
    r.port = sim_port_create(r.bus, 0x378, 7, chip, SIM_US(1));
    assert_non_null(r.port);
    if (printer)
        sim_port_attach(r.port, sim_printer_peripheral(sim_printer_create(r.clk, NULL)));
    return r;
}

static void rig_free(rig *r)
{
    sim_port_destroy(r->port);
    sim_bus_destroy(r->bus);
    sim_clock_destroy(r->clk);
}

static void test_probe_spp(void **state)
{
    (void)state;
    rig r = rig_make(SIM_CHIP_SPP, false);
    probe_result p = probe(r.bus, 0x378);
    assert_int_equal(p.type, PROBE_SPP);
    assert_false(p.epp);
    assert_int_equal(p.seen, SEEN_NOTHING);
    rig_free(&r);
}

static void test_probe_ps2_with_printer(void **state)
{
    (void)state;
    rig r = rig_make(SIM_CHIP_PS2, true);
    probe_result p = probe(r.bus, 0x378);
    assert_int_equal(p.type, PROBE_PS2);
    assert_false(p.epp);
    assert_int_equal(p.seen, SEEN_PRINTER);
    assert_int_equal(p.status, 0xDF);
    rig_free(&r);
}

static void test_probe_ecp(void **state)
{
    (void)state;
    rig r = rig_make(SIM_CHIP_ECP, false);
    probe_result p = probe(r.bus, 0x378);
    assert_int_equal(p.type, PROBE_ECP);
    assert_false(p.epp);
    assert_int_equal(p.seen, SEEN_NOTHING);
    rig_free(&r);
}

static void test_probe_ecp_with_printer(void **state)
{
    (void)state;
    rig r = rig_make(SIM_CHIP_ECP, true);
    probe_result p = probe(r.bus, 0x378);
    assert_int_equal(p.type, PROBE_ECP);
    assert_int_equal(p.seen, SEEN_PRINTER);
    rig_free(&r);
}

static void test_probe_absent(void **state)
{
    (void)state;
    rig r = rig_make(SIM_CHIP_SPP, false);
    probe_result p = probe(r.bus, 0x278);   /* nothing claims 0x278 */
    assert_int_equal(p.type, PROBE_ABSENT);
    rig_free(&r);
}

/*
 * A card decoding only 10 address bits answers base+0x402 with its CONTROL register.
 * Model it with a device at base+0x400 that forwards to base+0..2.
 */
typedef struct alias_dev {
    sim_bus *bus;
    uint16_t base;
} alias_dev;

static uint8_t alias_read(void *d, uint16_t off)
{
    alias_dev *a = d;
    return sim_bus_read8(a->bus, (uint16_t)(a->base + off));
}

static void alias_write(void *d, uint16_t off, uint8_t v)
{
    alias_dev *a = d;
    sim_bus_write8(a->bus, (uint16_t)(a->base + off), v);
}

static const sim_io_ops alias_ops = { alias_read, alias_write };

static void test_probe_aliasing_ps2_is_not_ecp(void **state)
{
    (void)state;
    sim_chip_kind chips[] = { SIM_CHIP_PS2, SIM_CHIP_SPP };
    probe_type expect[] = { PROBE_PS2, PROBE_SPP };
    for (unsigned i = 0; i < 2; i++) {
        rig r = rig_make(chips[i], false);
        alias_dev a = { r.bus, 0x378 };
        /* The alias forwards with no time of its own (the forwarded access is charged). */
        assert_int_equal(sim_bus_claim(r.bus, 0x778, 3, 0, &alias_ops, &a), 0);
        probe_result p = probe(r.bus, 0x378);
        assert_int_equal(p.type, expect[i]);
        rig_free(&r);
    }
}

/*
 * A DL-1 key outside a session drives nothing: the probe sees through it to the
 * printer behind it, or to the pull-ups; both while NOT-READY and in PASS-THROUGH.
 */
static void test_probe_through_key(void **state)
{
    (void)state;
    for (int with_printer = 0; with_printer < 2; with_printer++) {
        rig r = rig_make(SIM_CHIP_PS2, false);
        sim_key_config kc = { .image_path = NULL };
        sim_peripheral *behind = with_printer
            ? sim_printer_peripheral(sim_printer_create(r.clk, NULL)) : NULL;
        char err[200];
        sim_peripheral *key = sim_key_create(r.clk, &kc, behind, err, sizeof(err));
        assert_non_null(key);
        sim_port_attach(r.port, key);
        probe_seen want = with_printer ? SEEN_PRINTER : SEEN_NOTHING;
        probe_result p = probe(r.bus, 0x378);
        assert_int_equal(sim_key_get_state(sim_key_from_peripheral(key)), SIM_KEY_NOT_READY);
        assert_int_equal(p.type, PROBE_PS2);
        assert_int_equal(p.seen, want);
        sim_clock_advance(r.clk, SIM_MS(200));
        p = probe(r.bus, 0x378);
        assert_int_equal(sim_key_get_state(sim_key_from_peripheral(key)), SIM_KEY_PASS_THROUGH);
        assert_int_equal(p.seen, want);
        rig_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe_spp),
        cmocka_unit_test(test_probe_ps2_with_printer),
        cmocka_unit_test(test_probe_ecp),
        cmocka_unit_test(test_probe_ecp_with_printer),
        cmocka_unit_test(test_probe_absent),
        cmocka_unit_test(test_probe_aliasing_ps2_is_not_ecp),
        cmocka_unit_test(test_probe_through_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
