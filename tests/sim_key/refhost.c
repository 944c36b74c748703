/*
 * refhost.c — reference DL-1 host routine (see refhost.h). Register bits per DL1.md
 * section 11; every wait is bounded (tL for handshake answers, 10 ms + key time for a
 * response), and the 0.5 us host rules (tSU, tSTB, tHLD, HostClk width) are met by
 * extra STATUS reads on a port whose access time is shorter than 0.5 us.
 */
#include <string.h>
#include "refhost.h"
#include "sim/crc16.h"

/* Register offsets and bits (DL1.md section 11). */
#define R_DATA        0u
#define R_STATUS      1u
#define R_CONTROL     2u
#define ST_NBUSY      0x80u   /* inverse of the Busy line */
#define ST_NACK       0x40u
#define ST_PERROR     0x20u
#define ST_SELECT     0x10u
#define ST_NFAULT     0x08u
#define CT_STROBE     0x01u   /* 1 = nStrobe low */
#define CT_AUTOFD     0x02u   /* 1 = nAutoFd low */
#define CT_NINIT      0x04u   /* 1 = nInit high */
#define CT_SELECTIN   0x08u   /* 1 = nSelectIn low */
#define CT_DIR        0x20u   /* 1 = reverse */

#define HOST_MIN      SIM_NS(500)   /* tSU, tSTB, tHLD, HostClk width */
#define KEY_TRSP      SIM_US(1)
#define EXT_LINK      0x80u
#define LINK_BYTE     0x4Du
#define START_REQ     0x5Au
#define START_RESP    0xA5u
#define COMPAT_IDLE   (CT_NINIT | CT_SELECTIN)
#define SESSION_IDLE  CT_NINIT

uint8_t refhost_status(refhost *h)
{
    h->last_status = sim_bus_read8(h->bus, (uint16_t)(h->base + R_STATUS));
    return h->last_status;
}

void refhost_control(refhost *h, uint8_t ctrl)
{
    uint8_t changed = (uint8_t)(ctrl ^ h->ctrl);

    h->ctrl = ctrl;
    sim_bus_write8(h->bus, (uint16_t)(h->base + R_CONTROL), ctrl);
    if (changed & CT_STROBE)
        h->strobe_at = sim_now(h->clk);
}

void refhost_data(refhost *h, uint8_t data)
{
    sim_bus_write8(h->bus, (uint16_t)(h->base + R_DATA), data);
    h->data_at = sim_now(h->clk);
}

/* pad_until - spend STATUS reads until the next access ends at least min after since
   (a write issued next takes effect then). */
static void pad_until(refhost *h, sim_time_t since, sim_time_t min)
{
    while (sim_now(h->clk) + h->tio < since + min)
        refhost_status(h);
}

void refhost_init(refhost *h, sim_bus *bus, uint16_t base, sim_time_t tio)
{
    memset(h, 0, sizeof *h);
    h->bus = bus;
    h->clk = sim_bus_clock(bus);
    h->base = base;
    h->tio = tio;
    refhost_control(h, COMPAT_IDLE);
    refhost_data(h, 0xFF);
}

/* poll_once - one STATUS read, with a stall once a wait has gone on for a while. */
static uint8_t poll_once(refhost *h, unsigned *polls)
{
    if (++*polls > REFHOST_FAST_POLLS)
        sim_clock_advance(h->clk, REFHOST_POLL_STALL);
    return refhost_status(h);
}

int refhost_wait(refhost *h, uint8_t mask, uint8_t value, sim_time_t timeout)
{
    sim_time_t deadline = sim_now(h->clk) + timeout;
    unsigned polls = 0;

    for (;;) {
        uint8_t st = poll_once(h, &polls);
        if ((st & mask) == value)
            return RH_OK;
        if (sim_now(h->clk) >= deadline)
            return RH_TIMEOUT;
    }
}

/* session_check - DL1.md section 2, for a status read while sending or waiting. */
static int session_check(uint8_t st)
{
    bool select = st & ST_SELECT, nfault = st & ST_NFAULT;

    if (!(st & ST_PERROR) || (!select && !nfault))
        return RH_LOST;
    if (!select)
        return RH_EXEC;
    if (!nfault)
        return RH_RESPONSE;
    return RH_OK;
}

int refhost_open(refhost *h, uint8_t link)
{
    uint8_t base = (uint8_t)(h->ctrl & ~(CT_STROBE | CT_AUTOFD | CT_SELECTIN | CT_DIR));

    /* Event 0: the request byte, tSU before Event 1. */
    refhost_data(h, EXT_LINK);
    pad_until(h, h->data_at, HOST_MIN);
    /* Event 1: nSelectIn high, nAutoFd low in one write. */
    refhost_control(h, (uint8_t)(base | CT_AUTOFD));
    /* Event 2: nAck low, PError, Select, nFault high. */
    if (refhost_wait(h, ST_NACK | ST_PERROR | ST_SELECT | ST_NFAULT,
                     ST_PERROR | ST_SELECT | ST_NFAULT, REFHOST_TL) != RH_OK) {
        refhost_control(h, COMPAT_IDLE);
        return RH_TIMEOUT;
    }
    /* Events 3-4: strobe the request, then nStrobe and nAutoFd high. */
    refhost_control(h, (uint8_t)(base | CT_AUTOFD | CT_STROBE));
    pad_until(h, h->strobe_at, HOST_MIN);
    refhost_control(h, base);
    /* Event 6: nAck high; Select high = extensibility link accepted. */
    if (refhost_wait(h, ST_NACK, ST_NACK, REFHOST_TL) != RH_OK)
        return RH_TIMEOUT;
    if (!(h->last_status & ST_SELECT))
        return RH_REFUSED;
    /* Event 51: the link byte, tSU before Event 52. */
    refhost_data(h, link);
    pad_until(h, h->data_at, HOST_MIN);
    refhost_control(h, (uint8_t)(base | CT_STROBE));          /* Event 52 */
    if (refhost_wait(h, ST_NACK, 0, REFHOST_TL) != RH_OK)     /* Event 53 */
        return RH_TIMEOUT;
    bool accepted = h->last_status & ST_SELECT;
    pad_until(h, h->strobe_at, HOST_MIN);
    refhost_control(h, base);                                 /* Event 54 */
    if (refhost_wait(h, ST_NACK, ST_NACK, REFHOST_TL) != RH_OK) /* Event 55 */
        return RH_TIMEOUT;
    h->link = link;
    /* The host never leaves D0-D7 all low: park them at 0xFF. */
    pad_until(h, h->strobe_at, HOST_MIN);
    refhost_data(h, 0xFF);
    return accepted ? RH_OK : RH_REFUSED;
}

int refhost_close(refhost *h)
{
    uint8_t base = (uint8_t)(h->ctrl & ~(CT_STROBE | CT_AUTOFD | CT_SELECTIN | CT_DIR));
    int rc = RH_OK;

    /* Event 22: nSelectIn low, nAutoFd high (and the port forward again). */
    refhost_control(h, (uint8_t)(base | CT_SELECTIN));
    if (refhost_wait(h, ST_NACK, 0, REFHOST_TL) != RH_OK)     /* Event 24 */
        rc = RH_TIMEOUT;
    else {
        refhost_control(h, (uint8_t)(base | CT_SELECTIN | CT_AUTOFD)); /* Event 25 */
        if (refhost_wait(h, ST_NACK, ST_NACK, REFHOST_TL) != RH_OK)    /* Event 27 */
            rc = RH_TIMEOUT;
    }
    refhost_control(h, (uint8_t)(base | CT_SELECTIN));        /* Event 28 */
    sim_clock_advance(h->clk, KEY_TRSP);                      /* PASS-THROUGH within tRSP */
    h->link = 0;
    return rc;
}

/*
 * wait_ready_to_strobe - Busy low (the key takes a byte), with the session check on
 * every read. A key that never lowers Busy times out after tL.
 */
static int wait_ready_to_strobe(refhost *h)
{
    sim_time_t deadline = sim_now(h->clk) + REFHOST_TL;
    unsigned polls = 0;

    for (;;) {
        uint8_t st = poll_once(h, &polls);
        int rc = session_check(st);
        if (rc != RH_OK)
            return rc;
        if (st & ST_NBUSY)
            return RH_OK;
        if (sim_now(h->clk) >= deadline)
            return RH_TIMEOUT;
    }
}

int refhost_send(refhost *h, const uint8_t *buf, size_t n, size_t *sent)
{
    size_t i = 0;
    int rc = RH_OK;

    if (n)
        refhost_data(h, buf[0]);
    while (i < n) {
        rc = wait_ready_to_strobe(h);
        if (rc != RH_OK)
            break;
        pad_until(h, h->data_at, HOST_MIN);                   /* tSU */
        refhost_control(h, (uint8_t)(h->ctrl | CT_STROBE));
        pad_until(h, h->strobe_at, HOST_MIN);                 /* tSTB */
        refhost_control(h, (uint8_t)(h->ctrl & ~CT_STROBE));
        i++;
        pad_until(h, h->strobe_at, HOST_MIN);                 /* tHLD */
        /* The next byte may go on the lines while Busy is still high. */
        refhost_data(h, i < n ? buf[i] : 0xFF);
    }
    if (sent)
        *sent = i;
    return rc;
}

int refhost_wait_response(refhost *h, sim_time_t key_time)
{
    sim_time_t deadline = sim_now(h->clk) + REFHOST_RESP_BASE + key_time;
    unsigned polls = 0;

    for (;;) {
        uint8_t st = poll_once(h, &polls);
        int rc = session_check(st);
        if (rc == RH_RESPONSE)
            return RH_OK;
        if (rc == RH_LOST)
            return rc;
        if (sim_now(h->clk) >= deadline)
            return RH_NO_RESPONSE;
    }
}

/* nibble_from_status - DL1.md section 5 line mapping (Busy is bit 7 inverted). */
static uint8_t nibble_from_status(uint8_t st)
{
    return (uint8_t)(((st & ST_NFAULT) ? 1 : 0) | ((st & ST_SELECT) ? 2 : 0) |
                     ((st & ST_PERROR) ? 4 : 0) | ((st & ST_NBUSY) ? 0 : 8));
}

/* recv_nibble_byte - Events 7-11 twice, low nibble first. */
static int recv_nibble_byte(refhost *h, uint8_t *out)
{
    uint8_t v = 0;

    for (int half = 0; half < 2; half++) {
        refhost_control(h, (uint8_t)(h->ctrl | CT_AUTOFD));            /* Event 7 */
        if (refhost_wait(h, ST_NACK, 0, REFHOST_TL) != RH_OK)         /* Event 9 */
            return RH_TIMEOUT;
        v |= (uint8_t)(nibble_from_status(h->last_status) << (4 * half));
        refhost_control(h, (uint8_t)(h->ctrl & ~CT_AUTOFD));           /* Event 10 */
        if (refhost_wait(h, ST_NACK, ST_NACK, REFHOST_TL) != RH_OK)   /* Event 11 */
            return RH_TIMEOUT;
    }
    *out = v;
    return RH_OK;
}

/* recv_byte_mode_byte - Events 7, 9, 10, 11, 16-17; the last Event 17 sets the port
   forward, the others carry the next byte's Event 7. */
static int recv_byte_mode_byte(refhost *h, uint8_t *out, bool last)
{
    if (!(h->ctrl & CT_AUTOFD))
        refhost_control(h, (uint8_t)(h->ctrl | CT_DIR | CT_AUTOFD));  /* Event 7 */
    if (refhost_wait(h, ST_NACK, 0, REFHOST_TL) != RH_OK)             /* Event 9 */
        return RH_TIMEOUT;
    *out = sim_bus_read8(h->bus, (uint16_t)(h->base + R_DATA));
    refhost_control(h, (uint8_t)(h->ctrl & ~CT_AUTOFD));               /* Event 10 */
    if (refhost_wait(h, ST_NACK, ST_NACK, REFHOST_TL) != RH_OK)       /* Event 11 */
        return RH_TIMEOUT;
    refhost_control(h, (uint8_t)(h->ctrl | CT_STROBE));                /* Event 16 */
    pad_until(h, h->strobe_at, HOST_MIN);
    if (last)
        refhost_control(h, (uint8_t)(h->ctrl & ~(CT_STROBE | CT_DIR))); /* Event 17 */
    else
        refhost_control(h, (uint8_t)((h->ctrl & ~CT_STROBE) | CT_AUTOFD)); /* 17 + 7 */
    return RH_OK;
}

int refhost_recv(refhost *h, refhost_resp *r, uint8_t *raw, size_t *raw_len)
{
    uint8_t buf[REFHOST_FRAME_MAX];
    size_t total = 5, i;

    for (i = 0; i < total; i++) {
        bool last = false;
        int rc;

        if (h->link == LINK_BYTE) {
            /* total is final once LEN (byte 4) is in; no frame ends before byte 6. */
            last = i >= 5 && i + 1 == total;
            rc = recv_byte_mode_byte(h, &buf[i], last);
        } else {
            rc = recv_nibble_byte(h, &buf[i]);
        }
        if (rc != RH_OK)
            return rc;
        if (i == 4) {
            uint16_t len = (uint16_t)(buf[3] | (buf[4] << 8));
            if (buf[0] != START_RESP || len > 512)
                return RH_PROTOCOL;
            total = 5u + len + 2u;
        }
    }
    r->seq = buf[1];
    r->status = buf[2];
    r->len = (uint16_t)(buf[3] | (buf[4] << 8));
    memcpy(r->payload, buf + 5, r->len);
    r->crc_ok = sim_crc16(buf + 1, 4u + r->len) == (uint16_t)(buf[5 + r->len] | (buf[6 + r->len] << 8));
    if (raw)
        memcpy(raw, buf, total);
    if (raw_len)
        *raw_len = total;
    return RH_OK;
}

size_t refhost_frame(uint8_t *out, uint8_t seq, uint8_t cmd, const void *payload, uint16_t len)
{
    uint16_t crc;

    out[0] = START_REQ;
    out[1] = seq;
    out[2] = cmd;
    out[3] = (uint8_t)len;
    out[4] = (uint8_t)(len >> 8);
    if (len)
        memcpy(out + 5, payload, len);
    crc = sim_crc16(out + 1, 4u + len);
    out[5 + len] = (uint8_t)crc;
    out[6 + len] = (uint8_t)(crc >> 8);
    return 7u + len;
}

sim_time_t refhost_key_time(uint8_t cmd, const uint8_t *payload, uint16_t len)
{
    switch (cmd) {
    case 0x02:
        return SIM_US(300);
    case 0x03:
        return SIM_US(20) + SIM_US(512 / 16);
    case 0x04: {
        unsigned addr = len >= 6 ? (unsigned)(payload[4] | (payload[5] << 8)) : 0;
        unsigned n = len > 6 ? len - 6u : 1u;
        return SIM_MS(5) * ((addr + n - 1) / 16 - addr / 16 + 1);
    }
    case 0x06: case 0x08: case 0x09: case 0x0C:
        return SIM_MS(5);
    default:
        return SIM_US(20);
    }
}

int refhost_exchange(refhost *h, const uint8_t *frame, size_t n, sim_time_t key_time,
                     refhost_resp *r)
{
    size_t sent;
    int rc = refhost_send(h, frame, n, &sent);

    if (rc != RH_OK && rc != RH_EXEC && rc != RH_RESPONSE)
        return rc;
    if (rc != RH_RESPONSE) {
        rc = refhost_wait_response(h, key_time);
        if (rc != RH_OK)
            return rc;
    }
    return refhost_recv(h, r, NULL, NULL);
}

int refhost_transact(refhost *h, uint8_t seq, uint8_t cmd, const void *payload, uint16_t len,
                     refhost_resp *r)
{
    uint8_t frame[REFHOST_FRAME_MAX];
    size_t n = refhost_frame(frame, seq, cmd, payload, len);

    return refhost_exchange(h, frame, n, refhost_key_time(cmd, payload, len), r);
}

int refhost_print(refhost *h, const uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (refhost_wait(h, ST_NBUSY, ST_NBUSY, REFHOST_TL) != RH_OK)
            return RH_TIMEOUT;
        refhost_data(h, buf[i]);
        pad_until(h, h->data_at, HOST_MIN);
        refhost_control(h, (uint8_t)(h->ctrl | CT_STROBE));
        pad_until(h, h->strobe_at, HOST_MIN);
        refhost_control(h, (uint8_t)(h->ctrl & ~CT_STROBE));
        pad_until(h, h->strobe_at, HOST_MIN);
    }
    return RH_OK;
}
