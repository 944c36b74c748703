/*
 * test_conf_key_lines.c — DL1.md sections 1-5 and 8 at register level, with exact
 * instants: the status-line table of section 2, the setup rule at Events 1 and 52,
 * forward byte timing, short strobes, the last byte of a frame, Event 7 edges, byte
 * mode Events 16-17, termination rows, reset, brown-out, idle timeout, pass-through.
 */
#include "conf.h"

/* open_to_link - Events 0-6 by hand (0x80 tSU before Event 1), key now in LINK. */
static void open_to_link(rig *r)
{
    refhost_data(&r->h, 0x80);
    conf_pad(r, r->h.data_at, T_HOST_MIN);
    refhost_control(&r->h, CT_NINIT | CT_AUTOFD);                  /* Event 1 */
    assert_int_equal(refhost_wait(&r->h, 0xFF, R_NEG_EV2, SIM_US(5)), RH_OK);
    refhost_control(&r->h, CT_NINIT | CT_AUTOFD | CT_STROBE);      /* Event 3 */
    conf_pad(r, r->h.strobe_at, T_HOST_MIN);
    refhost_control(&r->h, CT_NINIT);                              /* Event 4 */
    assert_int_equal(refhost_wait(&r->h, 0xFF, R_FWD_IDLE, SIM_US(5)), RH_OK); /* Event 6 */
    assert_int_equal(sim_key_get_state(r->key), SIM_KEY_LINK);
}

/* Section 2 rows for LINK, SESSION-FORWARD (idle, tPROC, tACK), with the exact
   instants of section 5 item 3: Busy at the falling edge, nAck 2 us later for 2 us. */
static void test_forward_byte_instants(void **state)
{
    rig r;
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_NS(250), false);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    assert_int_equal(refhost_status(&r.h), R_FWD_IDLE);
    refhost_data(&r.h, 0x5A);
    conf_pad(&r, r.h.data_at, T_HOST_MIN);
    refhost_control(&r.h, CT_NINIT | CT_STROBE);
    sim_time_t fall = sim_now(r.clk);
    /* A read that ends after the falling-edge write sees Busy high. */
    assert_int_equal(refhost_status(&r.h), R_FWD_PROC);
    refhost_status(&r.h);
    refhost_control(&r.h, CT_NINIT);
    sim_clock_advance_to(r.clk, fall + SIM_US(2) - 1);
    assert_true(sim_port_periph_lines(r.port).nAck);
    assert_true(sim_port_periph_lines(r.port).busy);
    sim_clock_advance_to(r.clk, fall + SIM_US(2));
    assert_false(sim_port_periph_lines(r.port).nAck);
    assert_int_equal(refhost_status(&r.h), R_FWD_ACK);
    sim_clock_advance_to(r.clk, fall + SIM_US(4) - 1);
    assert_false(sim_port_periph_lines(r.port).nAck);
    assert_true(sim_port_periph_lines(r.port).busy);
    sim_clock_advance_to(r.clk, fall + SIM_US(4));
    assert_true(sim_port_periph_lines(r.port).nAck);
    assert_false(sim_port_periph_lines(r.port).busy);
    assert_int_equal(refhost_status(&r.h), R_FWD_IDLE);
    rig_down(&r);
}

/* Section 3: "The setup rule of section 5 applies to the request byte at Event 1 and
   to the link byte at Event 52." A 0.25 us port can break it. */
static void test_setup_rule_event1_and_event52(void **state)
{
    rig r;
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_NS(250), true);
    /* 0x80 only 0.25 us before Event 1: the key latches 0xFF, the printer keeps it. */
    refhost_data(&r.h, 0x80);
    refhost_control(&r.h, CT_NINIT | CT_AUTOFD);
    sim_clock_advance(r.clk, SIM_US(5));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_PASS_THROUGH);
    assert_int_equal(refhost_status(&r.h), R_PRN_IDLE);
    refhost_control(&r.h, CT_NINIT | CT_SELECTIN);
    sim_clock_advance(r.clk, SIM_US(5));
    /* Exactly tSU: the key takes it. */
    open_to_link(&r);
    /* Link byte 0x4C only 0.25 us before Event 52: the key latches 0x80 -> refused. */
    refhost_data(&r.h, 0x4C);
    refhost_control(&r.h, CT_NINIT | CT_STROBE);                   /* Event 52 */
    assert_int_equal(refhost_wait(&r.h, 0x40, 0, SIM_US(5)), RH_OK);
    assert_int_equal(r.h.last_status & SIM_STATUS_SELECT, 0);      /* Event 53: refused */
    conf_pad(&r, r.h.strobe_at, T_HOST_MIN);
    refhost_control(&r.h, CT_NINIT);                               /* Event 54 */
    assert_int_equal(refhost_wait(&r.h, 0xFF, R_REFUSED, SIM_US(5)), RH_OK);
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_REFUSED);
    assert_int_equal(refhost_close(&r.h), RH_OK);
    /* With tSU kept, the same link byte is accepted. */
    refhost_init(&r.h, r.bus, RIG_BASE, SIM_NS(250));
    open_to_link(&r);
    refhost_data(&r.h, 0x4C);
    conf_pad(&r, r.h.data_at, T_HOST_MIN);
    refhost_control(&r.h, CT_NINIT | CT_STROBE);
    assert_int_equal(refhost_wait(&r.h, 0x40, 0, SIM_US(5)), RH_OK);
    assert_int_equal(r.h.last_status & SIM_STATUS_SELECT, SIM_STATUS_SELECT);
    conf_pad(&r, r.h.strobe_at, T_HOST_MIN);
    refhost_control(&r.h, CT_NINIT);
    assert_int_equal(refhost_wait(&r.h, 0xFF, R_FWD_IDLE, SIM_US(5)), RH_OK);
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_SESSION_FORWARD);
    rig_down(&r);
}

/* Section 5 item 2: a short strobe sets Busy low without an nAck pulse, discards the
   byte, counts an overrun, and the 10 ms gap keeps running from the previous byte.
   Section 6: a frame abandoned after its 0x5A alone answers BAD_FRAME with SEQ 0. */
static void test_short_strobe_and_gap(void **state)
{
    rig r;
    refhost_resp resp;
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_NS(250), false);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    refhost_control(&r.h, CT_NINIT | CT_IRQEN);
    uint64_t irqs = sim_port_irq_count(r.port);
    sim_time_t t0 = conf_strobe(&r, 0x5A, T_HOST_MIN);
    sim_clock_advance_to(r.clk, t0 + SIM_US(5));
    assert_int_equal(sim_port_irq_count(r.port), irqs + 1);       /* one nAck pulse */
    sim_clock_advance_to(r.clk, t0 + SIM_MS(6));
    sim_time_t fall = conf_strobe(&r, 0x01, 0);                   /* 0.25 us: too short */
    assert_true(sim_now(r.clk) - fall < T_HOST_MIN);
    assert_int_equal(refhost_status(&r.h), R_FWD_IDLE);            /* Busy low at once */
    sim_clock_advance_to(r.clk, fall + SIM_US(10));
    assert_int_equal(sim_port_irq_count(r.port), irqs + 1);       /* no nAck pulse */
    assert_int_equal(conf_stats(&r).overruns, 1);
    /* Exactly 10 ms after the 0x5A is still in time; a nanosecond later it is not. */
    sim_clock_advance_to(r.clk, t0 + SIM_MS(10));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_SESSION_FORWARD);
    sim_clock_advance_to(r.clk, t0 + SIM_MS(10) + 1);
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_SESSION_EXEC);
    conf_ready_exactly(&r, t0 + SIM_MS(10) + 1 + SIM_US(20));
    assert_int_equal(refhost_recv(&r.h, &resp, NULL, NULL), RH_OK);
    assert_true(resp.crc_ok);
    assert_int_equal(resp.status, S_BAD_FRAME | S_OVERRUN);
    assert_int_equal(resp.seq, 0);
    assert_int_equal(resp.len, 0);
    assert_int_equal(conf_stats(&r).framing_errors, 1);
    rig_down(&r);
}

/* Section 5 item 5 / section 6: the LEN byte making LEN > 512 is the last byte of a
   frame: Busy stays high, SESSION-EXEC at the end of its nAck pulse; every later
   falling edge (in its tACK, in SESSION-EXEC) is a lost byte and an overrun. */
static void test_len_over_512_last_byte(void **state)
{
    rig r;
    refhost_resp resp;
    const uint8_t hdr[] = { 0x5A, 0x07, C_ECHO, 0x01, 0x02 };     /* LEN 513 */
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_NS(250), false);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    sim_time_t fall = conf_send(&r, hdr, sizeof hdr);
    assert_true(sim_now(r.clk) < fall + SIM_US(2));
    sim_time_t lost = conf_strobe(&r, 0x00, T_HOST_MIN);          /* in tPROC: lost */
    assert_true(lost < fall + SIM_US(2));
    sim_clock_advance_to(r.clk, fall + T_FWD - 1);
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_SESSION_FORWARD);
    sim_clock_advance_to(r.clk, fall + T_FWD);
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_SESSION_EXEC);
    assert_int_equal(refhost_status(&r.h), R_EXEC);
    conf_strobe(&r, 0x00, T_HOST_MIN);                            /* in EXEC: lost */
    refhost_data(&r.h, 0xFF);
    conf_ready_exactly(&r, fall + T_FWD + SIM_US(20));
    assert_int_equal(refhost_recv(&r.h, &resp, NULL, NULL), RH_OK);
    assert_int_equal(resp.status, S_BAD_FRAME | S_OVERRUN);
    assert_int_equal(resp.seq, 0x07);
    assert_int_equal(resp.len, 0);
    sim_key_stats st = conf_stats(&r);
    assert_int_equal(st.overruns, 2);
    assert_int_equal(st.framing_errors, 1);
    rig_down(&r);
}

/* The byte completing the CRC is the last byte: a strobe after it, before the
   response, is lost and flags the response (STATUS bit 7). */
static void test_crc_byte_is_last_byte(void **state)
{
    rig r;
    refhost_resp resp;
    uint8_t frame[16];
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    size_t n = refhost_frame(frame, 9, C_ECHO, "ab", 2);
    sim_time_t fall = conf_send(&r, frame, n);
    sim_clock_advance_to(r.clk, fall + T_FWD + SIM_US(1));
    assert_int_equal(refhost_status(&r.h), R_EXEC);
    conf_strobe(&r, 0x5A, T_HOST_MIN);                            /* not a new frame */
    refhost_data(&r.h, 0xFF);
    conf_ready_exactly(&r, fall + T_FWD + SIM_US(10));
    assert_int_equal(refhost_recv(&r.h, &resp, NULL, NULL), RH_OK);
    assert_int_equal(resp.status, S_OK | S_OVERRUN);
    assert_memory_equal(resp.payload, "ab", 2);
    /* The overrun bit was cleared when that response was prepared. */
    assert_int_equal(rig_cmd(&r, 10, C_ECHO, "c", 1, &resp), S_OK);
    assert_int_equal(conf_stats(&r).framing_errors, 0);
    rig_down(&r);
}

/* Section 5: Event 7 is a falling edge of nAutoFd in SESSION-REVERSE; a low level
   held from before does not count; outside SESSION-REVERSE it is ignored. */
static void test_event7_needs_falling_edge(void **state)
{
    rig r;
    uint8_t frame[16];
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    /* In SESSION-FORWARD a falling nAutoFd does nothing. */
    refhost_control(&r.h, CT_NINIT | CT_AUTOFD);
    sim_clock_advance(r.clk, SIM_US(5));
    assert_int_equal(refhost_status(&r.h), R_FWD_IDLE);
    refhost_control(&r.h, CT_NINIT);
    size_t n = refhost_frame(frame, 1, C_ECHO, "Q", 1);
    sim_time_t fall = conf_send(&r, frame, n);
    refhost_control(&r.h, CT_NINIT | CT_AUTOFD);                   /* low during EXEC */
    conf_ready_exactly(&r, fall + T_FWD + SIM_US(10));
    sim_clock_advance(r.clk, SIM_MS(1));
    assert_int_equal(refhost_status(&r.h), R_REV_WAIT);            /* no Event 9 */
    refhost_control(&r.h, CT_NINIT);
    sim_clock_advance(r.clk, SIM_US(5));
    assert_int_equal(refhost_status(&r.h), R_REV_WAIT);
    refhost_control(&r.h, CT_NINIT | CT_AUTOFD);                   /* Event 7 */
    sim_time_t t7 = sim_now(r.clk);
    sim_clock_advance_to(r.clk, t7 + T_ANSWER - 1);
    assert_true(sim_port_periph_lines(r.port).nAck);
    sim_clock_advance_to(r.clk, t7 + T_ANSWER);
    sim_periph_lines l = sim_port_periph_lines(r.port);
    /* First nibble of 0xA5 = 0x5: nFault 1, Select 0, PError 1, Busy 0; nAck low. */
    assert_false(l.nAck);
    assert_true(l.nFault);
    assert_false(l.select);
    assert_true(l.perror);
    assert_false(l.busy);
    assert_int_equal(refhost_close(&r.h), RH_OK);
    rig_down(&r);
}

/* Section 5, byte handshake: Event 17 with the next Event 7 in one CONTROL write,
   the last Event 17 clearing the direction bit, SESSION-FORWARD (Busy low) exactly the
   answer time after it; data held on D0-D7 from Event 9 until Event 16. */
static void test_byte_mode_events_16_17(void **state)
{
    rig r;
    uint8_t frame[16], got[8];
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    assert_int_equal(refhost_open(&r.h, 0x4D), RH_OK);
    size_t n = refhost_frame(frame, 3, C_ECHO, NULL, 0);
    sim_time_t fall = conf_send(&r, frame, n);
    conf_ready_exactly(&r, fall + T_FWD + SIM_US(10));
    assert_int_equal(refhost_status(&r.h), R_REV_WAIT);
    refhost_control(&r.h, CT_NINIT | CT_DIR | CT_AUTOFD);          /* first Event 7 */
    for (unsigned i = 0; i < 7; i++) {
        assert_int_equal(refhost_wait(&r.h, 0x40, 0, SIM_US(5)), RH_OK);
        assert_int_equal(r.h.last_status, R_BYTE_EV9);
        got[i] = sim_bus_read8(r.bus, RIG_BASE);
        refhost_control(&r.h, CT_NINIT | CT_DIR);                  /* Event 10 */
        assert_int_equal(refhost_wait(&r.h, 0x40, 0x40, SIM_US(5)), RH_OK);
        /* Between bytes nFault low; after Event 11 of the last byte nFault high. */
        assert_int_equal(r.h.last_status & SIM_STATUS_NFAULT, i == 6 ? SIM_STATUS_NFAULT : 0);
        assert_int_equal(sim_bus_read8(r.bus, RIG_BASE), got[i]);  /* held until Event 16 */
        refhost_control(&r.h, CT_NINIT | CT_DIR | CT_STROBE);      /* Event 16 */
        assert_true(sim_port_periph_lines(r.port).data_driven == false);
        refhost_status(&r.h);
        if (i < 6)
            refhost_control(&r.h, CT_NINIT | CT_DIR | CT_AUTOFD);  /* Event 17 + Event 7 */
        else
            refhost_control(&r.h, CT_NINIT);                       /* Event 17, forward */
    }
    sim_time_t t17 = sim_now(r.clk);
    assert_int_equal(got[0], 0xA5);
    assert_int_equal(got[1], 3);
    sim_clock_advance_to(r.clk, t17 + T_ANSWER - 1);
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_SESSION_REVERSE);
    sim_clock_advance_to(r.clk, t17 + T_ANSWER);
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_SESSION_FORWARD);
    assert_int_equal(refhost_status(&r.h), R_FWD_IDLE);
    assert_int_equal(conf_stats(&r).overruns, 0);                  /* HostClk is no byte */
    rig_down(&r);
}

/* Section 2 TERMINATING row: "as before" except nAck, from each owned state. */
static void check_termination_row(rig *r, uint8_t before)
{
    assert_int_equal(refhost_status(&r->h), before);
    refhost_control(&r->h, CT_NINIT | CT_SELECTIN);               /* Event 22 */
    assert_int_equal(refhost_wait(&r->h, 0x40, 0, SIM_US(5)), RH_OK);
    assert_int_equal(r->h.last_status, before & (uint8_t)~SIM_STATUS_NACK);
    refhost_control(&r->h, CT_NINIT | CT_SELECTIN | CT_AUTOFD);   /* Event 25 */
    assert_int_equal(refhost_wait(&r->h, 0x40, 0x40, SIM_US(5)), RH_OK);
    assert_int_equal(r->h.last_status, before | SIM_STATUS_NACK);
    refhost_control(&r->h, CT_NINIT | CT_SELECTIN);               /* Event 28 */
    sim_time_t t28 = sim_now(r->clk);
    sim_clock_advance_to(r->clk, t28 + T_ANSWER - 1);
    assert_int_equal(sim_key_get_state(r->key), SIM_KEY_TERMINATING);
    sim_clock_advance_to(r->clk, t28 + T_ANSWER);
    assert_int_equal(sim_key_get_state(r->key), SIM_KEY_PASS_THROUGH);
    refhost_init(&r->h, r->bus, RIG_BASE, r->h.tio);
}

static void test_termination_rows(void **state)
{
    rig r;
    uint8_t frame[16];
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    check_termination_row(&r, R_FWD_IDLE);
    assert_int_equal(refhost_open(&r.h, 0x4E), RH_REFUSED);
    check_termination_row(&r, R_REFUSED);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    size_t n = refhost_frame(frame, 1, C_COUNTER_SET, "\1\0\0\0\0\0\0\0\0", 9);
    conf_send(&r, frame, n);
    sim_clock_advance(r.clk, SIM_US(10));
    check_termination_row(&r, R_EXEC);
    sim_clock_advance(r.clk, SIM_MS(6));
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    n = refhost_frame(frame, 2, C_ECHO, "z", 1);
    conf_send(&r, frame, n);
    sim_clock_advance(r.clk, SIM_US(30));
    check_termination_row(&r, R_REV_WAIT);
    rig_down(&r);
}

/* Section 8, reset: at the 50 us mark; NOT-READY until exactly 10 ms after nInit
   rises; a 49 us pulse is ignored. Brown-out: more than 100 ms of host-driven zeros,
   NOT-READY until 100 ms after a data line rises; reverse direction does not count.
   GET_STATS counts both as resets. */
static void test_reset_and_brownout_instants(void **state)
{
    rig r;
    refhost_resp resp;
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    refhost_control(&r.h, CT_SELECTIN);
    sim_time_t t = sim_now(r.clk);
    sim_clock_advance_to(r.clk, t + SIM_US(49));
    refhost_control(&r.h, CT_SELECTIN | CT_NINIT);                /* 50 us low: ends at t+50 */
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_NOT_READY);
    sim_time_t up = sim_now(r.clk);
    sim_clock_advance_to(r.clk, up + SIM_MS(10) - 1);
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_NOT_READY);
    sim_clock_advance_to(r.clk, up + SIM_MS(10));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_PASS_THROUGH);
    assert_int_equal(conf_stats(&r).resets, 1);
    /* 49 us: ignored. */
    refhost_control(&r.h, CT_SELECTIN);
    t = sim_now(r.clk);
    sim_clock_advance_to(r.clk, t + SIM_US(48));
    refhost_control(&r.h, CT_SELECTIN | CT_NINIT);
    assert_int_equal(sim_now(r.clk), t + SIM_US(49));
    sim_clock_advance(r.clk, SIM_US(100));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_PASS_THROUGH);
    assert_int_equal(conf_stats(&r).resets, 1);
    /* Reset point exactly at 50 us while nInit stays low. */
    refhost_control(&r.h, CT_SELECTIN);
    t = sim_now(r.clk);
    sim_clock_advance_to(r.clk, t + SIM_US(50) - 1);
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_PASS_THROUGH);
    sim_clock_advance_to(r.clk, t + SIM_US(50));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_NOT_READY);
    sim_clock_advance(r.clk, SIM_MS(50));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_NOT_READY);  /* nInit still low */
    refhost_control(&r.h, CT_SELECTIN | CT_NINIT);
    sim_clock_advance(r.clk, SIM_MS(10));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_PASS_THROUGH);

    /* Brown-out. */
    refhost_data(&r.h, 0x00);
    t = sim_now(r.clk);
    sim_clock_advance_to(r.clk, t + SIM_MS(100));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_PASS_THROUGH);
    sim_clock_advance_to(r.clk, t + SIM_MS(100) + 1);
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_NOT_READY);
    sim_clock_advance(r.clk, SIM_MS(300));
    refhost_data(&r.h, 0x40);
    up = sim_now(r.clk);
    sim_clock_advance_to(r.clk, up + SIM_MS(100) - 1);
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_NOT_READY);
    sim_clock_advance_to(r.clk, up + SIM_MS(100));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_PASS_THROUGH);
    /* Zeros in the latch with the port reversed are not driven: no brown-out. */
    refhost_control(&r.h, CT_SELECTIN | CT_NINIT | CT_DIR);
    refhost_data(&r.h, 0x00);
    sim_clock_advance(r.clk, SIM_MS(300));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_PASS_THROUGH);
    refhost_init(&r.h, r.bus, RIG_BASE, SIM_US(1));
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    assert_int_equal(rig_cmd(&r, 1, C_GET_STATS, NULL, 0, &resp), S_OK);
    assert_int_equal(resp.payload[6] | resp.payload[7] << 8, 3);   /* 2 resets + 1 brown-out */
    rig_down(&r);
}

/* Section 8, idle timeout: 1 s after the last host line change; in SESSION-EXEC the
   timer stops and restarts when the response is ready. */
static void test_idle_timeout_instants(void **state)
{
    rig r;
    uint8_t frame[32], req[9];
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    refhost_data(&r.h, 0xFE);
    sim_time_t t = sim_now(r.clk);
    sim_clock_advance_to(r.clk, t + SIM_S(1) - 1);
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_SESSION_FORWARD);
    sim_clock_advance_to(r.clk, t + SIM_S(1));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_PASS_THROUGH);
    refhost_init(&r.h, r.bus, RIG_BASE, SIM_US(1));
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    put32(req, 0x1234); req[4] = 0; put32(req + 5, 5);
    size_t n = refhost_frame(frame, 1, C_COUNTER_SET, req, 9);
    sim_time_t fall = conf_send(&r, frame, n);
    sim_time_t ready = fall + T_FWD + SIM_MS(5);
    conf_ready_exactly(&r, ready);
    sim_clock_advance_to(r.clk, ready + SIM_S(1) - 1);
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_SESSION_REVERSE);
    sim_clock_advance_to(r.clk, ready + SIM_S(1));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_PASS_THROUGH);
    assert_int_equal(sim_key_counter(r.key, 0), 5);
    rig_down(&r);
}

/* Section 8: nInit reaches the printer when the key is not in a session; in a session
   the printer sees nInit high until the key itself resets at the 50 us mark. */
static void test_ninit_pass_through(void **state)
{
    rig r;
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), true);
    refhost_control(&r.h, CT_SELECTIN);
    sim_clock_advance(r.clk, SIM_US(59));
    refhost_control(&r.h, CT_SELECTIN | CT_NINIT);                /* 60 us pulse */
    assert_int_equal(sim_printer_resets(r.pr), 1);
    sim_clock_advance(r.clk, SIM_MS(10));
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    refhost_control(&r.h, 0);                                     /* nInit low in session */
    sim_clock_advance(r.clk, SIM_US(89));
    refhost_control(&r.h, CT_NINIT);                              /* 90 us: printer saw 40 */
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_NOT_READY);
    assert_int_equal(sim_printer_resets(r.pr), 1);
    rig_down(&r);
}

/* Section 2: NOT-READY and PASS-THROUGH drive nothing (pull-ups without a printer);
   NEGOTIATING after Event 2 and LINK rows. */
static void test_negotiation_rows(void **state)
{
    rig r;
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    assert_int_equal(refhost_status(&r.h), R_PULLUPS);
    open_to_link(&r);
    assert_int_equal(refhost_status(&r.h), R_FWD_IDLE);           /* LINK after Event 6 */
    assert_int_equal(refhost_close(&r.h), RH_OK);
    assert_int_equal(refhost_status(&r.h), R_PULLUPS);
    rig_down(&r);
}

/* TERMINATING "as before" from phases that are not steady states: the tPROC phase of a
   forward byte (Busy H frozen) and the nibble data phase (data lines kept). */
static void test_termination_as_before_in_phases(void **state)
{
    rig r;
    uint8_t frame[16];
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_NS(250), false);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    refhost_data(&r.h, 0x5A);
    conf_pad(&r, r.h.data_at, T_HOST_MIN);
    refhost_control(&r.h, CT_NINIT | CT_STROBE);
    conf_pad(&r, r.h.strobe_at, T_HOST_MIN);
    refhost_control(&r.h, CT_NINIT);
    check_termination_row(&r, R_FWD_PROC);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    size_t n = refhost_frame(frame, 1, C_ECHO, NULL, 0);
    conf_send(&r, frame, n);
    assert_int_equal(refhost_wait(&r.h, 0xFF, R_REV_WAIT, SIM_MS(1)), RH_OK);
    refhost_control(&r.h, CT_NINIT | CT_AUTOFD);                   /* Event 7 */
    assert_int_equal(refhost_wait(&r.h, 0x40, 0, SIM_US(5)), RH_OK);
    uint8_t nibble = r.h.last_status;          /* 0xA5 low nibble 5, nAck low: 0xAF */
    assert_int_equal(nibble, 0xAF);
    refhost_control(&r.h, CT_NINIT | CT_SELECTIN);                 /* Event 22 */
    assert_int_equal(refhost_wait(&r.h, 0xFF, nibble, SIM_US(5)), RH_OK);
    refhost_control(&r.h, CT_NINIT | CT_SELECTIN | CT_AUTOFD);     /* Event 25 */
    assert_int_equal(refhost_wait(&r.h, 0x40, 0x40, SIM_US(5)), RH_OK);
    assert_int_equal(r.h.last_status, nibble | SIM_STATUS_NACK);
    refhost_control(&r.h, CT_NINIT | CT_SELECTIN);                 /* Event 28 */
    sim_clock_advance(r.clk, SIM_US(1));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_PASS_THROUGH);
    rig_down(&r);
}

/* Section 3 / section 2 LINK rows, exact register values at Event 53 (accepted:
   L L H H H = 0xBF; refused: L L H L H = 0xAF) and after Event 55. */
static void test_link_rows(void **state)
{
    rig r;
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    for (int refused = 0; refused < 2; refused++) {
        open_to_link(&r);
        refhost_data(&r.h, refused ? 0x00 : 0x4D);
        refhost_status(&r.h);
        refhost_control(&r.h, CT_NINIT | CT_STROBE);               /* Event 52 */
        assert_int_equal(refhost_status(&r.h), refused ? 0xAF : 0xBF);
        refhost_control(&r.h, CT_NINIT);                           /* Event 54 */
        sim_time_t t54 = sim_now(r.clk);
        sim_clock_advance_to(r.clk, t54 + T_ANSWER - 1);
        assert_false(sim_port_periph_lines(r.port).nAck);
        sim_clock_advance_to(r.clk, t54 + T_ANSWER);
        assert_int_equal(refhost_status(&r.h), refused ? R_REFUSED : R_FWD_IDLE);
        assert_int_equal(sim_key_session_mode(r.key), refused ? 0 : 0x4D);
        refhost_data(&r.h, 0xFF);
        assert_int_equal(refhost_close(&r.h), RH_OK);
        refhost_init(&r.h, r.bus, RIG_BASE, SIM_US(1));
    }
    rig_down(&r);
}

/* Section 8: a reset in a session drops the session, the volatile cache and the
   overrun flag: the host sees pull-ups, and an identical resend executes again. */
static void test_reset_in_session_drops_volatile(void **state)
{
    rig r;
    refhost_resp resp;
    uint8_t frame[16];
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    size_t n = refhost_frame(frame, 5, C_ECHO, "r", 1);
    assert_int_equal(conf_raw(&r, frame, n, &resp), S_OK);
    refhost_control(&r.h, CT_NINIT | CT_STROBE);               /* stray byte ... */
    refhost_control(&r.h, CT_NINIT);
    refhost_control(&r.h, CT_NINIT | CT_STROBE);               /* ... and an overrun */
    refhost_control(&r.h, CT_NINIT);
    refhost_control(&r.h, 0);
    sim_clock_advance(r.clk, SIM_US(50));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_NOT_READY);
    assert_int_equal(refhost_status(&r.h), R_PULLUPS);
    refhost_init(&r.h, r.bus, RIG_BASE, SIM_US(1));
    sim_clock_advance(r.clk, SIM_MS(10));
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    uint64_t executed = conf_stats(&r).commands_executed;
    assert_int_equal(conf_raw(&r, frame, n, &resp), S_OK);     /* no bit 7 either */
    assert_int_equal(conf_stats(&r).commands_executed, executed + 1);
    rig_down(&r);
}

/* Section 8: "nInit low for 50 us resets the key at the 50 us mark ... NOT-READY until
   10 ms after nInit goes high" also when nInit is already low as the key powers up
   (power restored, or plugged in, under a host that holds nInit low). */
static void test_ninit_held_low_at_power_up(void **state)
{
    rig r;
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    sim_key_power_loss(r.key, 0);
    refhost_control(&r.h, CT_SELECTIN);                        /* nInit low while off */
    sim_clock_advance(r.clk, SIM_MS(1));
    sim_key_trigger now = { SIM_KEY_TRIGGER_NOW, 0, 0 };
    sim_key_fault on = { SIM_KEY_FAULT_POWER_ON, 0, 0 };
    assert_int_equal(sim_key_inject(r.key, &now, &on), 0);
    sim_time_t up = sim_now(r.clk);
    sim_clock_advance_to(r.clk, up + SIM_MS(200));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_NOT_READY);  /* still in reset */
    refhost_control(&r.h, CT_SELECTIN | CT_NINIT);
    sim_time_t high = sim_now(r.clk);
    sim_clock_advance_to(r.clk, high + SIM_MS(10) - 1);
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_NOT_READY);
    sim_clock_advance_to(r.clk, high + SIM_MS(10));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_PASS_THROUGH);
    assert_int_equal(conf_stats(&r).resets, 1);
    rig_down(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_byte_instants),
        cmocka_unit_test(test_setup_rule_event1_and_event52),
        cmocka_unit_test(test_short_strobe_and_gap),
        cmocka_unit_test(test_len_over_512_last_byte),
        cmocka_unit_test(test_crc_byte_is_last_byte),
        cmocka_unit_test(test_event7_needs_falling_edge),
        cmocka_unit_test(test_byte_mode_events_16_17),
        cmocka_unit_test(test_termination_rows),
        cmocka_unit_test(test_reset_and_brownout_instants),
        cmocka_unit_test(test_idle_timeout_instants),
        cmocka_unit_test(test_ninit_pass_through),
        cmocka_unit_test(test_negotiation_rows),
        cmocka_unit_test(test_termination_as_before_in_phases),
        cmocka_unit_test(test_link_rows),
        cmocka_unit_test(test_reset_in_session_drops_volatile),
        cmocka_unit_test(test_ninit_held_low_at_power_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
