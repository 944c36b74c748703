/*
 * keyrig.h — test rig for the DL-1 key: a clock, a bus, one port chip, a key with an
 * optional printer behind it, and the reference host on that port.
 */
#ifndef KEYRIG_H
#define KEYRIG_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "refhost.h"
#include "sim/bus.h"
#include "sim/clock.h"
#include "sim/key.h"
#include "sim/port.h"
#include "sim/printer.h"

#define RIG_BASE 0x378u

typedef struct rig {
    sim_clock *clk;
    sim_bus *bus;
    sim_port *port;
    sim_key *key;
    sim_printer *pr;
    refhost h;
} rig;

static const uint8_t rig_serial[SIM_KEY_SERIAL_LEN] = { 0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0 };
static const uint8_t rig_secret[SIM_KEY_SECRET_LEN] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F,
};

/* rig_config - the test key's configuration (volatile unless image is given). */
static inline sim_key_config rig_config(const char *image)
{
    sim_key_config c;
    memset(&c, 0, sizeof c);
    c.image_path = image;
    c.create_if_missing = true;
    memcpy(c.serial, rig_serial, sizeof rig_serial);
    memcpy(c.secret, rig_secret, sizeof rig_secret);
    return c;
}

/* rig_up - build the machine, power the key up and wait out its 100 ms NOT-READY. */
static inline void rig_up_cfg(rig *r, sim_chip_kind chip, sim_time_t tio, bool printer,
                              const sim_key_config *cfg)
{
    char err[256];
    sim_peripheral *kp;

    memset(r, 0, sizeof *r);
    r->clk = sim_clock_create();
    r->bus = sim_bus_create(r->clk);
    r->port = sim_port_create(r->bus, RIG_BASE, 7, chip, tio);
    assert_non_null(r->port);
    if (printer)
        r->pr = sim_printer_create(r->clk, NULL);
    kp = sim_key_create(r->clk, cfg, r->pr ? sim_printer_peripheral(r->pr) : NULL, err, sizeof err);
    if (!kp)
        fail_msg("sim_key_create: %s", err);
    r->key = sim_key_from_peripheral(kp);
    sim_port_attach(r->port, kp);
    refhost_init(&r->h, r->bus, RIG_BASE, tio);
    sim_clock_advance(r->clk, SIM_MS(100));
    assert_int_equal(sim_key_get_state(r->key), SIM_KEY_PASS_THROUGH);
}

static inline void rig_up(rig *r, sim_chip_kind chip, sim_time_t tio, bool printer)
{
    sim_key_config c = rig_config(NULL);
    rig_up_cfg(r, chip, tio, printer, &c);
}

static inline void rig_down(rig *r)
{
    sim_port_destroy(r->port);
    sim_bus_destroy(r->bus);
    sim_clock_destroy(r->clk);
}

/* rig_cmd - one transaction that must complete; returns the response status byte. */
static inline uint8_t rig_cmd(rig *r, uint8_t seq, uint8_t cmd, const void *p, uint16_t len,
                              refhost_resp *resp)
{
    int rc = refhost_transact(&r->h, seq, cmd, p, len, resp);
    if (rc != RH_OK)
        fail_msg("transact cmd 0x%02x: rc %d, key state %s", cmd, rc,
                 sim_key_state_name(sim_key_get_state(r->key)));
    assert_true(resp->crc_ok);
    assert_int_equal(resp->seq, seq);
    return resp->status;
}

static inline void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

#endif
