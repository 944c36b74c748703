/*
 * test_key_protocol.c — the DL-1's line protocol (DL1.md sections 1-6 and 8) at
 * register level: negotiation and link, the status-line table, answer times, forward
 * handshake rules (setup time, short strobes, overruns, gaps, framing, LEN > 512),
 * caches and the journal, termination, pass-through, idle timeout, reset, brown-out.
 */
#include "keyrig.h"

enum { ECHO = 0x07, WRITE = 0x04, COUNTER_DEC = 0x06, COUNTER_SET = 0x0C, GET_STATS = 0x0B };
enum { ST_OK = 0, ST_BAD_CRC = 1, ST_BAD_FRAME = 2 };

/* STATUS register values (bit 7 = NOT Busy, bits 2..0 read 1) per section 2. */
#define REG_FORWARD_IDLE 0xFFu
#define REG_EXEC         0x6Fu
#define REG_REVERSE_WAIT 0x77u
#define REG_REFUSED      0xEFu
#define REG_NEG_EV2      0xBFu
#define REG_PULLUPS      0x7Fu
#define REG_PRINTER_IDLE 0xDFu

#define CT_STROBE   0x01u
#define CT_AUTOFD   0x02u
#define CT_NINIT    0x04u
#define CT_SELECTIN 0x08u

typedef struct gstats { unsigned framing, overruns, crc, resets; } gstats;

/* get_stats - GET_STATS through the open session. */
static gstats get_stats(rig *r, uint8_t seq)
{
    refhost_resp resp;
    gstats g;

    assert_int_equal(rig_cmd(r, seq, GET_STATS, NULL, 0, &resp) & 0x7F, ST_OK);
    g.framing = resp.payload[0] | resp.payload[1] << 8;
    g.overruns = resp.payload[2] | resp.payload[3] << 8;
    g.crc = resp.payload[4] | resp.payload[5] << 8;
    g.resets = resp.payload[6] | resp.payload[7] << 8;
    return g;
}

/* strobe_byte - one forward byte by hand: data, then a strobe of `low` accesses. */
static void strobe_byte(rig *r, uint8_t b, unsigned pad_su, unsigned low)
{
    refhost_data(&r->h, b);
    for (unsigned i = 0; i < pad_su; i++)
        refhost_status(&r->h);
    refhost_control(&r->h, (uint8_t)(r->h.ctrl | CT_STROBE));
    for (unsigned i = 0; i < low; i++)
        refhost_status(&r->h);
    refhost_control(&r->h, (uint8_t)(r->h.ctrl & ~CT_STROBE));
}

static void wait_busy_low(rig *r)
{
    assert_int_equal(refhost_wait(&r->h, 0x80, 0x80, SIM_MS(1)), RH_OK);
}

static void test_negotiation_lines_and_answer_time(void **state)
{
    rig r;
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    assert_int_equal(refhost_status(&r.h), REG_PULLUPS);
    refhost_data(&r.h, 0x80);
    refhost_control(&r.h, CT_NINIT | CT_AUTOFD);               /* Event 1 */
    sim_time_t t = sim_now(r.clk);
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_NEGOTIATING);
    sim_clock_advance_to(r.clk, t + SIM_NS(499));
    assert_true(sim_port_periph_lines(r.port).nAck);           /* not yet */
    sim_clock_advance_to(r.clk, t + SIM_NS(500));
    assert_false(sim_port_periph_lines(r.port).nAck);          /* Event 2 at 0.5 us */
    assert_int_equal(refhost_status(&r.h), REG_NEG_EV2);
    refhost_control(&r.h, CT_NINIT | CT_AUTOFD | CT_STROBE);   /* Event 3 */
    refhost_control(&r.h, CT_NINIT);                           /* Event 4 */
    assert_int_equal(refhost_status(&r.h), REG_FORWARD_IDLE);  /* Event 6: LINK */
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_LINK);
    /* Link byte 0x4E: refused. */
    refhost_data(&r.h, 0x4E);
    refhost_control(&r.h, CT_NINIT | CT_STROBE);               /* Event 52 */
    uint8_t st = refhost_status(&r.h);                         /* Event 53 */
    assert_int_equal(st & 0x40, 0);
    assert_int_equal(st & 0x10, 0);                            /* Select low: refused */
    refhost_control(&r.h, CT_NINIT);                           /* Event 54 */
    assert_int_equal(refhost_status(&r.h), REG_REFUSED);       /* Event 55 */
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_REFUSED);
    /* REFUSED accepts only termination: a strobe changes nothing. */
    refhost_control(&r.h, CT_NINIT | CT_STROBE);
    refhost_control(&r.h, CT_NINIT);
    assert_int_equal(refhost_status(&r.h), REG_REFUSED);
    assert_int_equal(refhost_close(&r.h), RH_OK);
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_PASS_THROUGH);
    assert_int_equal(refhost_status(&r.h), REG_PULLUPS);
    rig_down(&r);
}

static void test_slow_key_answer_time(void **state)
{
    rig r;
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    sim_key_set_slow(r.key, 3);
    refhost_data(&r.h, 0x80);
    refhost_control(&r.h, CT_NINIT | CT_AUTOFD);
    sim_time_t t = sim_now(r.clk);
    sim_clock_advance_to(r.clk, t + SIM_NS(1499));
    assert_true(sim_port_periph_lines(r.port).nAck);
    sim_clock_advance_to(r.clk, t + SIM_NS(1500));
    assert_false(sim_port_periph_lines(r.port).nAck);
    rig_down(&r);
}

static void test_other_requests_reach_printer(void **state)
{
    rig r;
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), true);
    /* Device-ID request 0x04: the key leaves it to the printer, which answers nothing. */
    assert_int_equal(refhost_status(&r.h), REG_PRINTER_IDLE);
    refhost_data(&r.h, 0x04);
    refhost_control(&r.h, CT_NINIT | CT_AUTOFD);
    sim_clock_advance(r.clk, SIM_US(10));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_PASS_THROUGH);
    assert_int_equal(refhost_status(&r.h), REG_PRINTER_IDLE);
    refhost_control(&r.h, CT_NINIT | CT_SELECTIN);
    /* 0x80 changed less than tSU before Event 1 (PCIe timing would be needed): here a
       full open works and the printer sees idle lines during the session. */
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    refhost_resp resp;
    assert_int_equal(rig_cmd(&r, 1, ECHO, "abc", 3, &resp), ST_OK);
    const uint8_t *got;
    assert_int_equal(sim_printer_received(r.pr, &got), 0);
    assert_int_equal(refhost_close(&r.h), RH_OK);
    rig_down(&r);
}

static void test_pass_through_printing(void **state)
{
    rig r;
    const uint8_t text[] = "Hello, printer\r\n";
    const uint8_t *got;
    (void)state;

    rig_up(&r, SIM_CHIP_SPP, SIM_US(1), true);
    assert_int_equal(refhost_print(&r.h, text, sizeof text - 1), RH_OK);
    sim_clock_advance(r.clk, SIM_US(20));
    assert_int_equal(sim_printer_received(r.pr, &got), sizeof text - 1);
    assert_memory_equal(got, text, sizeof text - 1);
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_PASS_THROUGH);
    /* A session in between (nibble works on an SPP) does not disturb the printer. */
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    refhost_resp resp;
    assert_int_equal(rig_cmd(&r, 1, ECHO, "xyz", 3, &resp), ST_OK);
    assert_int_equal(refhost_close(&r.h), RH_OK);
    assert_int_equal(refhost_print(&r.h, text, 5), RH_OK);
    sim_clock_advance(r.clk, SIM_US(20));
    assert_int_equal(sim_printer_received(r.pr, &got), sizeof text - 1 + 5);
    assert_memory_equal(got + sizeof text - 1, text, 5);
    rig_down(&r);
}

static void test_idle_timeout_releases_printer(void **state)
{
    rig r;
    const uint8_t *got;
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), true);
    assert_int_equal(refhost_open(&r.h, 0x4D), RH_OK);
    sim_clock_advance(r.clk, SIM_MS(999));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_SESSION_FORWARD);
    sim_clock_advance(r.clk, SIM_MS(1));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_PASS_THROUGH);
    /* The session check sees it: PError low is the printer's (online idle). */
    refhost_control(&r.h, CT_NINIT | CT_SELECTIN);
    assert_int_equal(refhost_status(&r.h), REG_PRINTER_IDLE);
    assert_int_equal(refhost_print(&r.h, (const uint8_t *)"ok", 2), RH_OK);
    sim_clock_advance(r.clk, SIM_US(20));
    assert_int_equal(sim_printer_received(r.pr, &got), 2);
    rig_down(&r);
}

static void test_idle_timer_stops_in_exec(void **state)
{
    rig r;
    refhost_resp resp;
    uint8_t req[16] = { 0 };
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    sim_key_set_slow(r.key, 300);      /* COUNTER_SET: 5 ms x 300 = 1.5 s in SESSION-EXEC */
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    put32(req, 77); req[4] = 1; put32(req + 5, 9);
    uint8_t frame[32];
    size_t n = refhost_frame(frame, 1, COUNTER_SET, req, 9), sent;
    assert_int_equal(refhost_send(&r.h, frame, n, &sent), RH_OK);
    sim_clock_advance(r.clk, SIM_MS(1200));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_SESSION_EXEC);
    assert_int_equal(refhost_status(&r.h), REG_EXEC);
    sim_clock_advance(r.clk, SIM_MS(400));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_SESSION_REVERSE);
    assert_int_equal(refhost_status(&r.h), REG_REVERSE_WAIT);
    /* The timer restarted when the response was ready (about 100 ms ago). */
    sim_clock_advance(r.clk, SIM_MS(800));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_SESSION_REVERSE);
    assert_int_equal(refhost_recv(&r.h, &resp, NULL, NULL), RH_OK);
    assert_int_equal(resp.status, ST_OK);
    assert_int_equal(sim_key_counter(r.key, 1), 9);
    sim_clock_advance(r.clk, SIM_S(1));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_PASS_THROUGH);
    rig_down(&r);
}

static void test_bad_crc(void **state)
{
    rig r;
    refhost_resp resp;
    uint8_t frame[32];
    sim_key_stats st;
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    size_t n = refhost_frame(frame, 0x33, ECHO, "hello", 5);
    frame[n - 1] ^= 0x01;
    assert_int_equal(refhost_exchange(&r.h, frame, n, SIM_US(20), &resp), RH_OK);
    assert_true(resp.crc_ok);
    assert_int_equal(resp.seq, 0x33);
    assert_int_equal(resp.status, ST_BAD_CRC);
    assert_int_equal(resp.len, 0);
    sim_key_get_stats(r.key, &st);
    assert_int_equal(st.commands_executed, 0);
    /* The corrected resend executes (BAD_CRC was not cached). */
    frame[n - 1] ^= 0x01;
    assert_int_equal(refhost_exchange(&r.h, frame, n, SIM_US(20), &resp), RH_OK);
    assert_int_equal(resp.status, ST_OK);
    assert_memory_equal(resp.payload, "hello", 5);
    gstats g = get_stats(&r, 0x34);
    assert_int_equal(g.crc, 1);
    assert_int_equal(refhost_close(&r.h), RH_OK);
    rig_down(&r);
}

static void test_framing_gap(void **state)
{
    rig r;
    refhost_resp resp;
    uint8_t frame[32];
    size_t sent;
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    assert_int_equal(refhost_open(&r.h, 0x4D), RH_OK);
    refhost_frame(frame, 0x41, ECHO, "gap test", 8);
    /* Exactly 10 ms between two falling edges is still in time. */
    assert_int_equal(refhost_send(&r.h, frame, 4, &sent), RH_OK);
    sim_time_t last_fall = r.h.strobe_at - SIM_US(1);   /* fall = rise - 1 access */
    wait_busy_low(&r);
    sim_clock_advance_to(r.clk, last_fall + SIM_MS(10) - SIM_US(2));
    refhost_data(&r.h, frame[4]);
    refhost_control(&r.h, (uint8_t)(r.h.ctrl | CT_STROBE));
    assert_int_equal(sim_now(r.clk), last_fall + SIM_MS(10));
    refhost_control(&r.h, (uint8_t)(r.h.ctrl & ~CT_STROBE));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_SESSION_FORWARD);
    /* Now stop for more than 10 ms: BAD_FRAME with the received SEQ. */
    sim_clock_advance(r.clk, SIM_MS(11));
    assert_int_equal(refhost_wait_response(&r.h, SIM_US(20)), RH_OK);
    assert_int_equal(refhost_recv(&r.h, &resp, NULL, NULL), RH_OK);
    assert_int_equal(resp.status, ST_BAD_FRAME);
    assert_int_equal(resp.seq, 0x41);
    assert_int_equal(resp.len, 0);
    gstats g = get_stats(&r, 2);
    assert_int_equal(g.framing, 1);
    assert_int_equal(refhost_close(&r.h), RH_OK);
    rig_down(&r);
}

static void test_framing_errors_and_len_too_big(void **state)
{
    rig r;
    refhost_resp resp;
    uint8_t junk[3] = { 0x00, 0x11, 0xA5 }, bad[5] = { 0x5A, 0x19, ECHO, 0x01, 0x02 };
    size_t sent;
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    assert_int_equal(refhost_send(&r.h, junk, sizeof junk, &sent), RH_OK);
    assert_int_equal(rig_cmd(&r, 1, ECHO, "ok", 2, &resp), ST_OK);
    gstats g = get_stats(&r, 2);
    assert_int_equal(g.framing, 3);
    /* LEN = 513: BAD_FRAME right after LEN; the host sees Select low and stops. */
    uint8_t more[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    assert_int_equal(refhost_send(&r.h, bad, sizeof bad, &sent), RH_OK);
    assert_int_equal(refhost_send(&r.h, more, sizeof more, &sent), RH_EXEC);
    assert_int_equal(sent, 0);
    /* A strobe now is a lost byte: an overrun. */
    strobe_byte(&r, 0x77, 0, 0);
    assert_int_equal(refhost_wait_response(&r.h, SIM_US(20)), RH_OK);
    assert_int_equal(refhost_recv(&r.h, &resp, NULL, NULL), RH_OK);
    assert_int_equal(resp.status, 0x80 | ST_BAD_FRAME);
    assert_int_equal(resp.seq, 0x19);
    g = get_stats(&r, 3);
    assert_int_equal(g.framing, 4);
    assert_int_equal(g.overruns, 1);
    assert_int_equal(refhost_close(&r.h), RH_OK);
    rig_down(&r);
}

static void test_overrun_strobe_while_busy(void **state)
{
    rig r;
    refhost_resp resp;
    uint8_t frame[32];
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    size_t n = refhost_frame(frame, 5, ECHO, "ab", 2);
    /* Byte 0, then byte 1 strobed while Busy is still high: lost. */
    strobe_byte(&r, frame[0], 0, 0);
    assert_true(sim_port_periph_lines(r.port).busy);
    strobe_byte(&r, frame[1], 0, 0);
    wait_busy_low(&r);
    size_t sent;
    /* Resend from byte 1: the key takes the rest of the frame normally. */
    assert_int_equal(refhost_send(&r.h, frame + 1, n - 1, &sent), RH_OK);
    assert_int_equal(refhost_wait_response(&r.h, SIM_US(20)), RH_OK);
    assert_int_equal(refhost_recv(&r.h, &resp, NULL, NULL), RH_OK);
    assert_int_equal(resp.status, 0x80 | ST_OK);                /* overrun flag */
    assert_memory_equal(resp.payload, "ab", 2);
    gstats g = get_stats(&r, 6);
    assert_int_equal(g.overruns, 1);
    assert_int_equal(rig_cmd(&r, 7, ECHO, "c", 1, &resp), ST_OK);  /* flag cleared */
    assert_int_equal(refhost_close(&r.h), RH_OK);
    rig_down(&r);
}

static void test_short_strobe_discarded(void **state)
{
    rig r;
    refhost_resp resp;
    uint8_t frame[32];
    size_t sent;
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_NS(250), false);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    size_t n = refhost_frame(frame, 9, ECHO, "Q", 1);
    assert_int_equal(refhost_send(&r.h, frame, 2, &sent), RH_OK);
    wait_busy_low(&r);
    /* nStrobe low for 0.25 us: Busy low at the rising edge, no nAck, byte discarded. */
    strobe_byte(&r, 0x99, 2, 0);
    assert_true(sim_port_periph_lines(r.port).nAck);
    assert_false(sim_port_periph_lines(r.port).busy);
    assert_int_equal(refhost_send(&r.h, frame + 2, n - 2, &sent), RH_OK);
    assert_int_equal(refhost_wait_response(&r.h, SIM_US(20)), RH_OK);
    assert_int_equal(refhost_recv(&r.h, &resp, NULL, NULL), RH_OK);
    assert_int_equal(resp.status, 0x80 | ST_OK);
    assert_int_equal(resp.payload[0], 'Q');
    assert_int_equal(refhost_close(&r.h), RH_OK);
    rig_down(&r);
}

static void test_setup_time_violation_latches_old_data(void **state)
{
    rig r;
    refhost_resp resp;
    uint8_t frame[32];
    size_t sent, n;
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_NS(250), false);
    assert_int_equal(refhost_open(&r.h, 0x4D), RH_OK);
    n = refhost_frame(frame, 3, ECHO, "aac", 3);            /* CRC over "aac" */
    assert_int_equal(refhost_send(&r.h, frame, 6, &sent), RH_OK);  /* up to payload[0] 'a' */
    wait_busy_low(&r);
    /* payload[1]: the lines still hold 'a' from payload[0]; 'X' is written 0.25 us
       before the falling edge, so the key latches 'a'. */
    refhost_data(&r.h, 'a');
    sim_clock_advance(r.clk, SIM_US(1));
    strobe_byte(&r, 'X', 0, 2);
    wait_busy_low(&r);
    assert_int_equal(refhost_send(&r.h, frame + 7, n - 7, &sent), RH_OK);
    assert_int_equal(refhost_wait_response(&r.h, SIM_US(20)), RH_OK);
    assert_int_equal(refhost_recv(&r.h, &resp, NULL, NULL), RH_OK);
    assert_int_equal(resp.status, ST_OK);
    assert_memory_equal(resp.payload, "aac", 3);
    /* Exactly tSU (two 0.25 us accesses) latches the new value. */
    n = refhost_frame(frame, 4, ECHO, "aYc", 3);
    assert_int_equal(refhost_send(&r.h, frame, 6, &sent), RH_OK);
    wait_busy_low(&r);
    strobe_byte(&r, 'Y', 1, 2);
    wait_busy_low(&r);
    assert_int_equal(refhost_send(&r.h, frame + 7, n - 7, &sent), RH_OK);
    assert_int_equal(refhost_wait_response(&r.h, SIM_US(20)), RH_OK);
    assert_int_equal(refhost_recv(&r.h, &resp, NULL, NULL), RH_OK);
    assert_int_equal(resp.status, ST_OK);
    assert_memory_equal(resp.payload, "aYc", 3);
    assert_int_equal(refhost_close(&r.h), RH_OK);
    rig_down(&r);
}

static void test_identical_retry_uses_cache(void **state)
{
    rig r;
    refhost_resp a, b;
    uint8_t frame[32], req[16];
    sim_key_stats st;
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    put32(req, 500); req[4] = 2; put32(req + 5, 40);
    assert_int_equal(rig_cmd(&r, 1, COUNTER_SET, req, 9, &a), ST_OK);
    put32(req, 501); req[4] = 2; put32(req + 5, 1);
    size_t n = refhost_frame(frame, 2, COUNTER_DEC, req, 9);
    assert_int_equal(refhost_exchange(&r.h, frame, n, SIM_MS(5), &a), RH_OK);
    assert_int_equal(a.status, ST_OK);
    sim_key_get_stats(r.key, &st);
    uint64_t executed = st.commands_executed;
    /* The response was "lost": the host resends the same bytes, even in a new session. */
    assert_int_equal(refhost_close(&r.h), RH_OK);
    assert_int_equal(refhost_open(&r.h, 0x4D), RH_OK);
    sim_time_t t = sim_now(r.clk);
    assert_int_equal(refhost_exchange(&r.h, frame, n, SIM_MS(5), &b), RH_OK);
    assert_true(sim_now(r.clk) - t < SIM_MS(1));                 /* 20 us, not 5 ms */
    assert_int_equal(b.status, ST_OK);
    assert_int_equal(b.seq, 2);
    assert_int_equal(get32(b.payload), 39);
    assert_int_equal(sim_key_counter(r.key, 2), 39);
    sim_key_get_stats(r.key, &st);
    assert_int_equal(st.commands_executed, executed);
    assert_int_equal(st.cache_resends, 1);
    assert_int_equal(refhost_close(&r.h), RH_OK);
    rig_down(&r);
}

/* reset_pulse - nInit low for `low`, then high. */
static void reset_pulse(rig *r, sim_time_t low)
{
    uint8_t c = r->h.ctrl;
    refhost_control(&r->h, (uint8_t)(c & ~CT_NINIT));
    sim_clock_advance(r->clk, low - SIM_US(1));
    refhost_control(&r->h, c);
}

static void test_counter_dec_retry_after_reset(void **state)
{
    rig r;
    refhost_resp resp;
    uint8_t req[16], frame[32];
    sim_key_stats st;
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    put32(req, 0x1111); req[4] = 0; put32(req + 5, 10);
    assert_int_equal(rig_cmd(&r, 1, COUNTER_SET, req, 9, &resp), ST_OK);
    put32(req, 0x2222); req[4] = 0; put32(req + 5, 3);
    size_t n = refhost_frame(frame, 2, COUNTER_DEC, req, 9);
    assert_int_equal(refhost_exchange(&r.h, frame, n, SIM_MS(5), &resp), RH_OK);
    assert_int_equal(get32(resp.payload), 7);
    sim_key_get_stats(r.key, &st);
    uint64_t executed = st.commands_executed;

    /* Reset: the volatile cache is gone, the journal stays. */
    refhost_control(&r.h, CT_NINIT | CT_SELECTIN);
    reset_pulse(&r, SIM_US(50));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_NOT_READY);
    sim_clock_advance(r.clk, SIM_MS(10));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_PASS_THROUGH);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    n = refhost_frame(frame, 9, COUNTER_DEC, req, 9);           /* new SEQ, same txid */
    sim_time_t t = sim_now(r.clk);
    assert_int_equal(refhost_exchange(&r.h, frame, n, SIM_MS(5), &resp), RH_OK);
    assert_true(sim_now(r.clk) - t < SIM_MS(1));
    assert_int_equal(resp.status, ST_OK);
    assert_int_equal(resp.seq, 9);
    assert_int_equal(get32(resp.payload), 7);
    assert_int_equal(sim_key_counter(r.key, 0), 7);
    sim_key_get_stats(r.key, &st);
    assert_int_equal(st.commands_executed, executed);
    assert_int_equal(st.journal_replays, 1);
    /* Same txid, different payload: executed. */
    put32(req + 5, 2);
    assert_int_equal(rig_cmd(&r, 10, COUNTER_DEC, req, 9, &resp), ST_OK);
    assert_int_equal(get32(resp.payload), 5);
    /* COUNTER_DEC by 0 is not journaled: the previous entry still answers. */
    put32(req, 0x3333); put32(req + 5, 0);
    assert_int_equal(rig_cmd(&r, 11, COUNTER_DEC, req, 9, &resp), ST_OK);
    put32(req, 0x2222); put32(req + 5, 2);
    assert_int_equal(rig_cmd(&r, 12, COUNTER_DEC, req, 9, &resp), ST_OK);
    assert_int_equal(get32(resp.payload), 5);
    assert_int_equal(sim_key_counter(r.key, 0), 5);
    gstats g = get_stats(&r, 13);
    assert_int_equal(g.resets, 1);
    assert_int_equal(refhost_close(&r.h), RH_OK);
    rig_down(&r);
}

static void test_reset_pulse_length(void **state)
{
    rig r;
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    reset_pulse(&r, SIM_US(49));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_SESSION_FORWARD);
    refhost_control(&r.h, (uint8_t)(r.h.ctrl & ~CT_NINIT));
    sim_time_t t = sim_now(r.clk);
    sim_clock_advance_to(r.clk, t + SIM_US(50) - 1);
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_SESSION_FORWARD);
    sim_clock_advance_to(r.clk, t + SIM_US(50));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_NOT_READY);
    /* NOT-READY while nInit stays low, and 10 ms after it goes high. */
    sim_clock_advance(r.clk, SIM_MS(30));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_NOT_READY);
    refhost_control(&r.h, (uint8_t)(r.h.ctrl | CT_NINIT));
    t = sim_now(r.clk);
    sim_clock_advance_to(r.clk, t + SIM_MS(10) - 1);
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_NOT_READY);
    sim_clock_advance_to(r.clk, t + SIM_MS(10));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_PASS_THROUGH);
    rig_down(&r);
}

static void test_brownout(void **state)
{
    rig r;
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    refhost_data(&r.h, 0x00);
    sim_time_t t = sim_now(r.clk);
    sim_clock_advance_to(r.clk, t + SIM_MS(100));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_PASS_THROUGH);
    sim_clock_advance_to(r.clk, t + SIM_MS(100) + 1);
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_NOT_READY);
    sim_clock_advance(r.clk, SIM_MS(500));
    refhost_data(&r.h, 0x01);
    t = sim_now(r.clk);
    sim_clock_advance_to(r.clk, t + SIM_MS(100) - 1);
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_NOT_READY);
    sim_clock_advance_to(r.clk, t + SIM_MS(100));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_PASS_THROUGH);
    /* Reverse direction: the host does not drive the lines, they do not count. */
    refhost_data(&r.h, 0x00);
    refhost_control(&r.h, (uint8_t)(r.h.ctrl | 0x20));
    sim_clock_advance(r.clk, SIM_MS(200));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_PASS_THROUGH);
    refhost_control(&r.h, (uint8_t)(r.h.ctrl & ~0x20));
    refhost_data(&r.h, 0xFF);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    gstats g = get_stats(&r, 1);
    assert_int_equal(g.resets, 1);
    assert_int_equal(refhost_close(&r.h), RH_OK);
    rig_down(&r);
}

static void test_termination_in_exec_completes_into_cache(void **state)
{
    rig r;
    refhost_resp resp;
    uint8_t req[64], frame[80];
    size_t sent;
    sim_key_stats st;
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    put32(req, 0xABCD); req[4] = 0x00; req[5] = 0x02;
    memset(req + 6, 0x42, 32);                        /* 2 pages: 10 ms */
    size_t n = refhost_frame(frame, 0x21, WRITE, req, 38);
    assert_int_equal(refhost_send(&r.h, frame, n, &sent), RH_OK);
    sim_clock_advance(r.clk, SIM_US(10));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_SESSION_EXEC);
    assert_int_equal(refhost_close(&r.h), RH_OK);      /* host gives up */
    /* Reopen at once and resend: it waits for the running WRITE, then hits the cache. */
    assert_int_equal(refhost_open(&r.h, 0x4D), RH_OK);
    assert_int_equal(refhost_exchange(&r.h, frame, n, SIM_MS(10), &resp), RH_OK);
    assert_int_equal(resp.status, ST_OK);
    assert_int_equal(resp.seq, 0x21);
    sim_key_get_stats(r.key, &st);
    assert_int_equal(st.commands_executed, 1);
    assert_int_equal(st.cache_resends, 1);
    assert_int_equal(st.page_writes, 2);
    uint8_t mem[32];
    sim_key_read_eeprom(r.key, 0x200, mem, 32);
    assert_memory_equal(mem, req + 6, 32);
    assert_int_equal(refhost_close(&r.h), RH_OK);
    rig_down(&r);
}

static void test_termination_from_every_state(void **state)
{
    rig r;
    uint8_t frame[16];
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    /* NEGOTIATING, after Event 2. */
    refhost_data(&r.h, 0x80);
    refhost_control(&r.h, CT_NINIT | CT_AUTOFD);
    refhost_status(&r.h);
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_NEGOTIATING);
    assert_int_equal(refhost_close(&r.h), RH_OK);
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_PASS_THROUGH);
    /* SESSION-REVERSE in the middle of a nibble (after Event 9). */
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    size_t n = refhost_frame(frame, 1, ECHO, "z", 1), sent;
    assert_int_equal(refhost_send(&r.h, frame, n, &sent), RH_OK);
    assert_int_equal(refhost_wait_response(&r.h, SIM_US(20)), RH_OK);
    refhost_control(&r.h, (uint8_t)(r.h.ctrl | CT_AUTOFD));     /* Event 7 */
    assert_int_equal(refhost_status(&r.h) & 0x40, 0);           /* Event 9 */
    assert_int_equal(refhost_close(&r.h), RH_OK);
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_PASS_THROUGH);
    /* Byte mode, key driving D0-D7: released at Event 22. */
    assert_int_equal(refhost_open(&r.h, 0x4D), RH_OK);
    assert_int_equal(refhost_send(&r.h, frame, n, &sent), RH_OK);
    assert_int_equal(refhost_wait_response(&r.h, SIM_US(20)), RH_OK);
    refhost_control(&r.h, (uint8_t)(r.h.ctrl | CT_AUTOFD | 0x20));
    refhost_status(&r.h);
    assert_true(sim_port_periph_lines(r.port).data_driven);
    refhost_control(&r.h, CT_NINIT | CT_SELECTIN);               /* Event 22 */
    assert_false(sim_port_periph_lines(r.port).data_driven);
    r.h.ctrl = CT_NINIT | CT_SELECTIN;
    assert_int_equal(refhost_wait(&r.h, 0x40, 0, SIM_MS(1)), RH_OK);
    refhost_control(&r.h, CT_NINIT | CT_SELECTIN | CT_AUTOFD);
    assert_int_equal(refhost_wait(&r.h, 0x40, 0x40, SIM_MS(1)), RH_OK);
    refhost_control(&r.h, CT_NINIT | CT_SELECTIN);
    sim_time_t t = sim_now(r.clk);
    sim_clock_advance_to(r.clk, t + SIM_NS(500));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_PASS_THROUGH);
    /* The unsent response stayed cached: a resend is answered from the cache. */
    r.h.link = 0;
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    refhost_resp resp;
    assert_int_equal(refhost_exchange(&r.h, frame, n, SIM_US(20), &resp), RH_OK);
    assert_int_equal(resp.payload[0], 'z');
    sim_key_stats st;
    sim_key_get_stats(r.key, &st);
    assert_int_equal(st.commands_executed, 1);
    assert_int_equal(refhost_close(&r.h), RH_OK);
    rig_down(&r);
}

static void test_byte_mode_hostclk_not_forward(void **state)
{
    rig r;
    refhost_resp resp;
    uint8_t data[100];
    (void)state;

    for (int i = 0; i < 100; i++)
        data[i] = (uint8_t)i;
    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    assert_int_equal(refhost_open(&r.h, 0x4D), RH_OK);
    assert_int_equal(rig_cmd(&r, 1, ECHO, data, 100, &resp), ST_OK);
    assert_memory_equal(resp.payload, data, 100);
    sim_key_stats st;
    sim_key_get_stats(r.key, &st);
    assert_int_equal(st.forward_bytes, 107);
    assert_int_equal(st.reverse_bytes, 107);
    gstats g = get_stats(&r, 2);
    assert_int_equal(g.overruns, 0);
    assert_int_equal(g.framing, 0);
    assert_int_equal(refhost_close(&r.h), RH_OK);
    rig_down(&r);
}

static void test_reverse_status_line_table(void **state)
{
    rig r;
    uint8_t frame[16];
    size_t sent, n;
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    /* Nibble mode: the first response byte 0xA5, low nibble first. */
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    n = refhost_frame(frame, 1, ECHO, "n", 1);
    assert_int_equal(refhost_send(&r.h, frame, n, &sent), RH_OK);
    /* nAutoFd low while the command runs: a level from before is not an Event 7. */
    refhost_control(&r.h, (uint8_t)(r.h.ctrl | CT_AUTOFD));
    sim_clock_advance(r.clk, SIM_US(40));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_SESSION_REVERSE);
    assert_int_equal(refhost_status(&r.h), REG_REVERSE_WAIT);
    refhost_control(&r.h, (uint8_t)(r.h.ctrl & ~CT_AUTOFD));
    assert_int_equal(refhost_status(&r.h), REG_REVERSE_WAIT);
    refhost_control(&r.h, (uint8_t)(r.h.ctrl | CT_AUTOFD));      /* Event 7 */
    assert_int_equal(refhost_status(&r.h), 0xAF);                /* 0x5: nF H, Sel L, PE H, Busy L */
    refhost_control(&r.h, (uint8_t)(r.h.ctrl & ~CT_AUTOFD));     /* Event 10 */
    assert_int_equal(refhost_status(&r.h), REG_REVERSE_WAIT);    /* Event 11: H H H H L */
    refhost_control(&r.h, (uint8_t)(r.h.ctrl | CT_AUTOFD));
    assert_int_equal(refhost_status(&r.h), 0x17);                /* 0xA: nF L, Sel H, PE L, Busy H */
    refhost_control(&r.h, (uint8_t)(r.h.ctrl & ~CT_AUTOFD));
    assert_int_equal(refhost_status(&r.h), REG_REVERSE_WAIT);    /* more bytes follow */
    /* Termination mid-response: Event 24 keeps the other lines as they were. */
    refhost_control(&r.h, CT_NINIT | CT_SELECTIN);               /* Event 22 */
    assert_int_equal(refhost_status(&r.h), REG_REVERSE_WAIT & ~0x40u);
    refhost_control(&r.h, CT_NINIT | CT_SELECTIN | CT_AUTOFD);   /* Event 25 */
    assert_int_equal(refhost_status(&r.h), REG_REVERSE_WAIT);    /* Event 27 */
    refhost_control(&r.h, CT_NINIT | CT_SELECTIN);               /* Event 28 */
    sim_clock_advance(r.clk, SIM_NS(500));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_PASS_THROUGH);
    r.h.link = 0;

    /* Byte mode: Event 9 shows H L H H L and the byte on D0-D7. */
    assert_int_equal(refhost_open(&r.h, 0x4D), RH_OK);
    n = refhost_frame(frame, 2, ECHO, "b", 1);
    assert_int_equal(refhost_send(&r.h, frame, n, &sent), RH_OK);
    assert_int_equal(refhost_wait_response(&r.h, SIM_US(20)), RH_OK);
    refhost_control(&r.h, (uint8_t)(r.h.ctrl | CT_AUTOFD | 0x20));
    assert_int_equal(refhost_status(&r.h), 0x37);
    assert_int_equal(sim_bus_read8(r.bus, RIG_BASE), 0xA5);
    refhost_control(&r.h, (uint8_t)(r.h.ctrl & ~CT_AUTOFD));     /* Event 10 */
    assert_int_equal(refhost_status(&r.h), REG_REVERSE_WAIT);
    assert_int_equal(sim_bus_read8(r.bus, RIG_BASE), 0xA5);      /* held until Event 16 */
    refhost_control(&r.h, (uint8_t)(r.h.ctrl | CT_STROBE));      /* Event 16 */
    assert_false(sim_port_periph_lines(r.port).data_driven);
    assert_int_equal(refhost_close(&r.h), RH_OK);
    gstats g;
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    g = get_stats(&r, 3);
    assert_int_equal(g.overruns, 0);
    assert_int_equal(refhost_close(&r.h), RH_OK);
    rig_down(&r);
}

static void test_reset_during_counter_dec_then_retry(void **state)
{
    rig r;
    refhost_resp resp;
    uint8_t req[16], frame[32];
    size_t sent;
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    assert_int_equal(refhost_open(&r.h, 0x4D), RH_OK);
    put32(req, 0x51); req[4] = 6; put32(req + 5, 20);
    assert_int_equal(rig_cmd(&r, 1, COUNTER_SET, req, 9, &resp), ST_OK);
    put32(req, 0x52); req[4] = 6; put32(req + 5, 5);
    size_t n = refhost_frame(frame, 2, COUNTER_DEC, req, 9);
    assert_int_equal(refhost_send(&r.h, frame, n, &sent), RH_OK);
    /* Reset 4.9 ms into the 5 ms update: it takes effect only at the end, so never. */
    sim_clock_advance(r.clk, SIM_US(4900) - SIM_US(50) + SIM_US(4));
    refhost_control(&r.h, (uint8_t)(r.h.ctrl & ~CT_NINIT));
    sim_clock_advance(r.clk, SIM_US(60));
    refhost_control(&r.h, (uint8_t)(r.h.ctrl | CT_NINIT));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_NOT_READY);
    assert_int_equal(sim_key_counter(r.key, 6), 20);
    sim_clock_advance(r.clk, SIM_MS(20));
    assert_int_equal(sim_key_counter(r.key, 6), 20);
    refhost_control(&r.h, CT_NINIT | CT_SELECTIN);
    r.h.link = 0;
    assert_int_equal(refhost_open(&r.h, 0x4D), RH_OK);
    assert_int_equal(refhost_exchange(&r.h, frame, n, SIM_MS(5), &resp), RH_OK);
    assert_int_equal(resp.status, ST_OK);
    assert_int_equal(get32(resp.payload), 15);
    assert_int_equal(refhost_exchange(&r.h, frame, n, SIM_MS(5), &resp), RH_OK);
    assert_int_equal(get32(resp.payload), 15);
    assert_int_equal(sim_key_counter(r.key, 6), 15);
    assert_int_equal(refhost_close(&r.h), RH_OK);
    rig_down(&r);
}

static void test_queued_request_runs_after_running_command(void **state)
{
    rig r;
    refhost_resp resp;
    uint8_t req[64], frame[80];
    size_t sent;
    sim_key_stats st;
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    put32(req, 0x77); req[4] = 0x00; req[5] = 0x03;
    memset(req + 6, 0x24, 48);                                   /* 3 pages: 15 ms */
    size_t n = refhost_frame(frame, 0x30, WRITE, req, 54);
    assert_int_equal(refhost_send(&r.h, frame, n, &sent), RH_OK);
    sim_time_t exec_start = r.h.strobe_at - SIM_US(1) + SIM_US(4);
    assert_int_equal(refhost_close(&r.h), RH_OK);
    /* A different request in a new session waits for the WRITE, then runs. */
    assert_int_equal(refhost_open(&r.h, 0x4D), RH_OK);
    n = refhost_frame(frame, 0x31, ECHO, "later", 5);
    assert_int_equal(refhost_send(&r.h, frame, n, &sent), RH_OK);
    sim_clock_advance(r.clk, SIM_US(10));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_SESSION_EXEC);
    assert_int_equal(refhost_wait_response(&r.h, SIM_MS(15)), RH_OK);
    /* Ready 10 us (ECHO) after the WRITE's 15 ms ended. */
    assert_true(sim_now(r.clk) >= exec_start + SIM_MS(15) + SIM_US(10));
    assert_int_equal(refhost_recv(&r.h, &resp, NULL, NULL), RH_OK);
    assert_int_equal(resp.status, ST_OK);
    assert_int_equal(resp.seq, 0x31);
    assert_memory_equal(resp.payload, "later", 5);
    sim_key_get_stats(r.key, &st);
    assert_int_equal(st.commands_executed, 2);
    assert_int_equal(st.page_writes, 3);
    assert_int_equal(refhost_close(&r.h), RH_OK);
    rig_down(&r);
}

static void test_stats_saturate(void **state)
{
    rig r;
    static uint8_t junk[70000];
    size_t sent;
    (void)state;

    memset(junk, 0x11, sizeof junk);
    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    assert_int_equal(refhost_send(&r.h, junk, sizeof junk, &sent), RH_OK);
    gstats g = get_stats(&r, 1);
    assert_int_equal(g.framing, 0xFFFF);
    assert_int_equal(refhost_close(&r.h), RH_OK);
    rig_down(&r);
}

static void test_idle_timeout_in_refused_and_terminating(void **state)
{
    rig r;
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    assert_int_equal(refhost_open(&r.h, 0x00), RH_REFUSED);
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_REFUSED);
    sim_clock_advance(r.clk, SIM_S(1));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_PASS_THROUGH);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    refhost_control(&r.h, CT_NINIT | CT_SELECTIN);              /* Event 22, then nothing */
    sim_clock_advance(r.clk, SIM_US(5));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_TERMINATING);
    sim_clock_advance(r.clk, SIM_S(1));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_PASS_THROUGH);
    rig_down(&r);
}

static void test_printer_sees_idle_lines_in_session(void **state)
{
    rig r;
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), true);
    /* Outside a session nInit reaches the printer: a 60 us pulse resets it. */
    refhost_control(&r.h, CT_SELECTIN);
    sim_clock_advance(r.clk, SIM_US(59));
    refhost_control(&r.h, CT_NINIT | CT_SELECTIN);
    assert_int_equal(sim_printer_resets(r.pr), 1);
    sim_clock_advance(r.clk, SIM_MS(10));
    /* In a session the printer sees nInit only once the key has reset (50 us mark). */
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    refhost_control(&r.h, 0);
    sim_clock_advance(r.clk, SIM_US(59));
    refhost_control(&r.h, CT_NINIT);
    assert_int_equal(sim_printer_resets(r.pr), 1);
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_NOT_READY);
    refhost_control(&r.h, 0);
    sim_clock_advance(r.clk, SIM_US(120));
    refhost_control(&r.h, CT_NINIT);
    assert_int_equal(sim_printer_resets(r.pr), 2);
    rig_down(&r);
}

static void test_answer_time_at_trsp_limit(void **state)
{
    static const uint8_t links[] = { 0x4C, 0x4D };
    (void)state;

    for (size_t i = 0; i < sizeof links; i++) {
        rig r;
        refhost_resp resp;
        sim_key_config c = rig_config(NULL);
        c.answer_ns = SIM_US(1);                 /* as late as tRSP allows */
        rig_up_cfg(&r, SIM_CHIP_PS2, SIM_NS(250), false, &c);
        refhost_data(&r.h, 0x80);
        refhost_status(&r.h);
        refhost_control(&r.h, CT_NINIT | CT_AUTOFD);
        sim_time_t t = sim_now(r.clk);
        sim_clock_advance_to(r.clk, t + SIM_US(1) - 1);
        assert_true(sim_port_periph_lines(r.port).nAck);
        sim_clock_advance_to(r.clk, t + SIM_US(1));
        assert_false(sim_port_periph_lines(r.port).nAck);
        refhost_control(&r.h, CT_NINIT | CT_SELECTIN);          /* abandon: Event 22 */
        sim_clock_advance(r.clk, SIM_S(1));
        assert_int_equal(refhost_open(&r.h, links[i]), RH_OK);
        assert_int_equal(rig_cmd(&r, 1, ECHO, "late", 4, &resp), ST_OK);
        assert_memory_equal(resp.payload, "late", 4);
        assert_int_equal(refhost_close(&r.h), RH_OK);
        rig_down(&r);
    }
}

static void test_byte_mode_on_ecp_port_in_ps2_mode(void **state)
{
    rig r;
    refhost_resp resp;
    uint8_t data[64];
    (void)state;

    for (int i = 0; i < 64; i++)
        data[i] = (uint8_t)(255 - i);
    rig_up(&r, SIM_CHIP_ECP, SIM_US(1), true);
    sim_bus_write8(r.bus, RIG_BASE + 0x402, 0x20);              /* ECR mode 001 first */
    assert_int_equal(refhost_open(&r.h, 0x4D), RH_OK);
    assert_int_equal(rig_cmd(&r, 1, ECHO, data, 64, &resp), ST_OK);
    assert_memory_equal(resp.payload, data, 64);
    assert_int_equal(refhost_close(&r.h), RH_OK);
    rig_down(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_negotiation_lines_and_answer_time),
        cmocka_unit_test(test_slow_key_answer_time),
        cmocka_unit_test(test_answer_time_at_trsp_limit),
        cmocka_unit_test(test_other_requests_reach_printer),
        cmocka_unit_test(test_pass_through_printing),
        cmocka_unit_test(test_idle_timeout_releases_printer),
        cmocka_unit_test(test_idle_timer_stops_in_exec),
        cmocka_unit_test(test_bad_crc),
        cmocka_unit_test(test_framing_gap),
        cmocka_unit_test(test_framing_errors_and_len_too_big),
        cmocka_unit_test(test_overrun_strobe_while_busy),
        cmocka_unit_test(test_short_strobe_discarded),
        cmocka_unit_test(test_setup_time_violation_latches_old_data),
        cmocka_unit_test(test_identical_retry_uses_cache),
        cmocka_unit_test(test_counter_dec_retry_after_reset),
        cmocka_unit_test(test_reset_during_counter_dec_then_retry),
        cmocka_unit_test(test_reset_pulse_length),
        cmocka_unit_test(test_brownout),
        cmocka_unit_test(test_termination_in_exec_completes_into_cache),
        cmocka_unit_test(test_termination_from_every_state),
        cmocka_unit_test(test_byte_mode_hostclk_not_forward),
        cmocka_unit_test(test_reverse_status_line_table),
        cmocka_unit_test(test_byte_mode_on_ecp_port_in_ps2_mode),
        cmocka_unit_test(test_queued_request_runs_after_running_command),
        cmocka_unit_test(test_stats_saturate),
        cmocka_unit_test(test_idle_timeout_in_refused_and_terminating),
        cmocka_unit_test(test_printer_sees_idle_lines_in_session),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
