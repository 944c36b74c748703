/*
 * conf.h — helpers shared by the DL1.md conformance tests: register-level host steps
 * with exact machine-clock instants, so each test can assert *when* a line changes,
 * not only that it eventually does. Built on tests/sim_key (keyrig.h, refhost).
 */
#ifndef CONF_H
#define CONF_H

#include "keyrig.h"

/* Commands and status codes, DL1.md sections 6 and 7. */
enum {
    C_GET_INFO = 0x01, C_CHALLENGE = 0x02, C_READ = 0x03, C_WRITE = 0x04,
    C_COUNTER_READ = 0x05, C_COUNTER_DEC = 0x06, C_ECHO = 0x07, C_LOCK = 0x08,
    C_SET_KEY = 0x09, C_GET_DEVICE_ID = 0x0A, C_GET_STATS = 0x0B, C_COUNTER_SET = 0x0C,
};
enum {
    S_OK = 0x00, S_BAD_CRC = 0x01, S_BAD_FRAME = 0x02, S_UNKNOWN_CMD = 0x10,
    S_BAD_LENGTH = 0x11, S_BAD_ADDRESS = 0x12, S_PROTECTED = 0x13, S_EXHAUSTED = 0x14,
    S_EEPROM_FAULT = 0x20,
};
#define S_OVERRUN 0x80u

/* CONTROL bits (section 11). */
#define CT_STROBE   0x01u
#define CT_AUTOFD   0x02u
#define CT_NINIT    0x04u
#define CT_SELECTIN 0x08u
#define CT_IRQEN    0x10u
#define CT_DIR      0x20u

/* STATUS register per section 2 row (bit 7 = NOT Busy, bits 2..0 read 1). */
#define R_FWD_IDLE   0xFFu   /* L H H H H */
#define R_FWD_PROC   0x7Fu   /* H H H H H */
#define R_FWD_ACK    0x3Fu   /* H L H H H */
#define R_EXEC       0x6Fu   /* H H H L H */
#define R_REV_WAIT   0x77u   /* H H H H L */
#define R_BYTE_EV9   0x37u   /* H L H H L */
#define R_REFUSED    0xEFu   /* L H H L H */
#define R_NEG_EV2    0xBFu   /* L L H H H */
#define R_PULLUPS    0x7Fu
#define R_PRN_IDLE   0xDFu

#define T_FWD        SIM_US(4)   /* tPROC + tACK */
#define T_ANSWER     SIM_NS(500) /* the simulated key's answer time */
#define T_HOST_MIN   SIM_NS(500) /* tSU, tSTB */

/* conf_pad - status reads until a write issued next takes effect >= min after since. */
static inline void conf_pad(rig *r, sim_time_t since, sim_time_t min)
{
    while (sim_now(r->clk) + r->h.tio < since + min)
        refhost_status(&r->h);
}

/* conf_strobe - put b on D0-D7 (tSU kept), nStrobe low for at least `low` (0 = the
   shortest pulse the port can make), then high. Returns the falling-edge instant. */
static inline sim_time_t conf_strobe(rig *r, uint8_t b, sim_time_t low)
{
    sim_time_t fall;

    refhost_data(&r->h, b);
    conf_pad(r, r->h.data_at, T_HOST_MIN);
    refhost_control(&r->h, (uint8_t)(r->h.ctrl | CT_STROBE));
    fall = sim_now(r->clk);
    conf_pad(r, fall, low);
    refhost_control(&r->h, (uint8_t)(r->h.ctrl & ~CT_STROBE));
    return fall;
}

/* conf_send - a whole frame, each byte after Busy low; returns the last falling edge. */
static inline sim_time_t conf_send(rig *r, const uint8_t *b, size_t n)
{
    sim_time_t fall = 0;

    for (size_t i = 0; i < n; i++) {
        assert_int_equal(refhost_wait(&r->h, SIM_STATUS_NBUSY, SIM_STATUS_NBUSY, SIM_MS(1)), RH_OK);
        fall = conf_strobe(r, b[i], T_HOST_MIN);
    }
    refhost_data(&r->h, 0xFF);      /* parked, section 5 item 6 */
    return fall;
}

/* conf_ready_exactly - nDataAvail falls exactly at t (not a nanosecond earlier). */
static inline void conf_ready_exactly(rig *r, sim_time_t t)
{
    assert_true(sim_now(r->clk) < t);
    sim_clock_advance_to(r->clk, t - 1);
    assert_true(sim_port_periph_lines(r->port).nFault);
    sim_clock_advance_to(r->clk, t);
    assert_false(sim_port_periph_lines(r->port).nFault);
}

/* conf_timed - one request whose response must be ready exactly key_time after the
   end of the last byte's nAck pulse; the response is read back. Returns STATUS. */
static inline uint8_t conf_timed(rig *r, uint8_t seq, uint8_t cmd, const void *p, uint16_t len,
                                 sim_time_t key_time, refhost_resp *resp)
{
    uint8_t frame[REFHOST_FRAME_MAX];
    size_t n = refhost_frame(frame, seq, cmd, p, len);
    sim_time_t fall = conf_send(r, frame, n);

    conf_ready_exactly(r, fall + T_FWD + key_time);
    assert_int_equal(refhost_recv(&r->h, resp, NULL, NULL), RH_OK);
    assert_true(resp->crc_ok);
    assert_int_equal(resp->seq, seq);
    return resp->status;
}

/* conf_raw - a raw frame (possibly malformed) and its response, no timing check. */
static inline uint8_t conf_raw(rig *r, const uint8_t *frame, size_t n, refhost_resp *resp)
{
    conf_send(r, frame, n);
    assert_int_equal(refhost_wait_response(&r->h, SIM_MS(200)), RH_OK);
    assert_int_equal(refhost_recv(&r->h, resp, NULL, NULL), RH_OK);
    assert_true(resp->crc_ok);
    return resp->status;
}

/* conf_reset - nInit pulse of 60 us, then the 10 ms of NOT-READY; host back to idle. */
static inline void conf_reset(rig *r)
{
    refhost_control(&r->h, (uint8_t)(r->h.ctrl & ~CT_NINIT));
    sim_clock_advance(r->clk, SIM_US(60));
    refhost_init(&r->h, r->bus, RIG_BASE, r->h.tio);
    sim_clock_advance(r->clk, SIM_MS(10));
    assert_int_equal(sim_key_get_state(r->key), SIM_KEY_PASS_THROUGH);
}

static inline sim_key_stats conf_stats(rig *r)
{
    sim_key_stats s;
    sim_key_get_stats(r->key, &s);
    return s;
}

#endif
