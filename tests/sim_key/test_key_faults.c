/*
 * test_key_faults.c — every key fault of DL1.md section 9 (unplug, power loss inside a
 * page write, stuck Busy, missing nAck pulses, slow key, dropped forward bytes,
 * corrupted response CRC, worn EEPROM page), with time and count triggers.
 */
#include "keyrig.h"

enum { ECHO = 0x07, WRITE = 0x04, READ = 0x03 };
enum { ST_OK = 0, ST_BAD_FRAME = 2, ST_EEPROM_FAULT = 0x20 };

#define CT_STROBE 0x01u

static void inject(rig *r, sim_key_trigger_kind tk, sim_time_t time, uint64_t count,
                   sim_key_fault_kind fk, uint32_t arg, sim_time_t duration)
{
    sim_key_trigger t = { tk, time, count };
    sim_key_fault f = { fk, arg, duration };
    assert_int_equal(sim_key_inject(r->key, &t, &f), 0);
}

static void test_unplug_and_plug(void **state)
{
    rig r;
    refhost_resp resp;
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), true);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    size_t sent;
    assert_int_equal(refhost_send(&r.h, (const uint8_t *)"j", 1, &sent), RH_OK);
    sim_clock_advance(r.clk, SIM_US(5));
    inject(&r, SIM_KEY_TRIGGER_NOW, 0, 0, SIM_KEY_FAULT_UNPLUG, 0, 0);
    assert_false(sim_key_plugged(r.key));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_OFF);
    assert_int_equal(refhost_status(&r.h), 0x7F);             /* pull-ups */
    /* The host's session check: Busy never goes low, the byte times out. */
    assert_int_equal(refhost_transact(&r.h, 1, ECHO, "a", 1, &resp), RH_TIMEOUT);
    /* Plugged back at a chosen time: NOT-READY for 100 ms, then a fresh start. */
    sim_time_t at = sim_now(r.clk) + SIM_MS(5);
    inject(&r, SIM_KEY_TRIGGER_AT, at, 0, SIM_KEY_FAULT_PLUG, 0, 0);
    sim_clock_advance_to(r.clk, at);
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_NOT_READY);
    refhost_init(&r.h, r.bus, RIG_BASE, SIM_US(1));
    assert_int_equal(refhost_status(&r.h), 0xDF);             /* printer behind again */
    sim_clock_advance_to(r.clk, at + SIM_MS(100));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_PASS_THROUGH);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    assert_int_equal(rig_cmd(&r, 2, ECHO, "b", 1, &resp), ST_OK);
    /* GET_STATS counts since power-up: the junk byte sent before the unplug is gone. */
    assert_int_equal(rig_cmd(&r, 3, 0x0B, NULL, 0, &resp), ST_OK);
    for (int i = 0; i < 8; i++)
        assert_int_equal(resp.payload[i], 0);
    assert_int_equal(refhost_close(&r.h), RH_OK);
    rig_down(&r);
}

/* page_is - the 16 bytes at page address all equal v. */
static bool page_is(rig *r, uint16_t addr, uint8_t v)
{
    uint8_t b[16];
    sim_key_read_eeprom(r->key, addr, b, 16);
    for (int i = 0; i < 16; i++)
        if (b[i] != v)
            return false;
    return true;
}

static void test_power_loss_inside_page_write(void **state)
{
    static const sim_time_t offsets[] = { 0, SIM_US(3), SIM_MS(2), SIM_MS(5) - 1, SIM_MS(5) };
    (void)state;

    for (size_t o = 0; o < sizeof offsets / sizeof offsets[0]; o++) {
        rig r;
        uint8_t req[64], frame[80];
        size_t sent;

        rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
        assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
        put32(req, 0x700 + (uint32_t)o); req[4] = 0x00; req[5] = 0x03;
        memset(req + 6, 0x3C, 48);                              /* pages 0x300..0x320 */
        size_t n = refhost_frame(frame, 1, WRITE, req, 54);
        /* "Power loss `offset` into the second page write", back after 1 ms. */
        inject(&r, SIM_KEY_TRIGGER_IN_PAGE_WRITE, offsets[o], 2, SIM_KEY_FAULT_POWER_LOSS, 0,
               SIM_MS(1));
        assert_int_equal(refhost_send(&r.h, frame, n, &sent), RH_OK);
        assert_int_equal(refhost_wait_response(&r.h, SIM_MS(15)), RH_NO_RESPONSE);
        assert_true(page_is(&r, 0x300, 0x3C));
        /* The second page is whole: old (erased) or new, never mixed. */
        bool second_new = page_is(&r, 0x310, 0x3C);
        assert_true(second_new || page_is(&r, 0x310, 0xFF));
        assert_true(page_is(&r, 0x320, 0xFF));
        assert_int_equal(second_new, offsets[o] == SIM_MS(5));
        sim_key_stats st;
        sim_key_get_stats(r.key, &st);
        assert_int_equal(st.page_writes, second_new ? 2 : 1);
        /* Power returns after 1 ms, NOT-READY 100 ms: the resend writes everything. */
        sim_clock_advance(r.clk, SIM_MS(101));
        assert_int_equal(sim_key_get_state(r.key), SIM_KEY_PASS_THROUGH);
        refhost_init(&r.h, r.bus, RIG_BASE, SIM_US(1));
        assert_int_equal(refhost_open(&r.h, 0x4D), RH_OK);
        refhost_resp resp;
        assert_int_equal(refhost_exchange(&r.h, frame, n, SIM_MS(15), &resp), RH_OK);
        assert_int_equal(resp.status, ST_OK);
        assert_true(page_is(&r, 0x310, 0x3C) && page_is(&r, 0x320, 0x3C));
        assert_int_equal(refhost_close(&r.h), RH_OK);
        rig_down(&r);
    }
}

static void test_stuck_busy(void **state)
{
    rig r;
    refhost_resp resp;
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    inject(&r, SIM_KEY_TRIGGER_NOW, 0, 0, SIM_KEY_FAULT_STUCK_BUSY, 1, 0);
    sim_time_t t = sim_now(r.clk);
    assert_int_equal(refhost_transact(&r.h, 1, ECHO, "a", 1, &resp), RH_TIMEOUT);
    assert_true(sim_now(r.clk) - t >= REFHOST_TL);
    inject(&r, SIM_KEY_TRIGGER_NOW, 0, 0, SIM_KEY_FAULT_STUCK_BUSY, 0, 0);
    assert_int_equal(rig_cmd(&r, 2, ECHO, "b", 1, &resp), ST_OK);
    assert_int_equal(refhost_close(&r.h), RH_OK);
    rig_down(&r);
}

static void test_missing_nack(void **state)
{
    rig r;
    refhost_resp resp;
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    /* The Event 2 pulse is missing: the host's negotiation times out after tL. */
    inject(&r, SIM_KEY_TRIGGER_NOW, 0, 0, SIM_KEY_FAULT_MISSING_NACK, 1, 0);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_TIMEOUT);
    sim_clock_advance(r.clk, SIM_S(1));                        /* idle timeout */
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_PASS_THROUGH);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    /* Forward acks missing: no nAck low in the pulse window; Busy still drops. */
    inject(&r, SIM_KEY_TRIGGER_NOW, 0, 0, SIM_KEY_FAULT_MISSING_NACK, UINT32_MAX, 0);
    refhost_data(&r.h, 0x5A);
    refhost_control(&r.h, (uint8_t)(r.h.ctrl | CT_STROBE));
    sim_time_t fall = sim_now(r.clk);
    refhost_control(&r.h, (uint8_t)(r.h.ctrl & ~CT_STROBE));
    sim_clock_advance_to(r.clk, fall + SIM_US(3));
    assert_true(sim_port_periph_lines(r.port).nAck);
    assert_true(sim_port_periph_lines(r.port).busy);
    sim_clock_advance_to(r.clk, fall + SIM_US(4));
    assert_false(sim_port_periph_lines(r.port).busy);
    inject(&r, SIM_KEY_TRIGGER_NOW, 0, 0, SIM_KEY_FAULT_MISSING_NACK, 0, 0);
    refhost_data(&r.h, 0x01);
    refhost_control(&r.h, (uint8_t)(r.h.ctrl | CT_STROBE));
    fall = sim_now(r.clk);
    refhost_control(&r.h, (uint8_t)(r.h.ctrl & ~CT_STROBE));
    sim_clock_advance_to(r.clk, fall + SIM_US(3));
    assert_false(sim_port_periph_lines(r.port).nAck);
    assert_int_equal(refhost_close(&r.h), RH_OK);
    (void)resp;
    rig_down(&r);
}

static void test_slow_key(void **state)
{
    rig r;
    refhost_resp resp;
    uint8_t frame[16];
    size_t sent;
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    inject(&r, SIM_KEY_TRIGGER_NOW, 0, 0, SIM_KEY_FAULT_SLOW, 4, 0);
    size_t n = refhost_frame(frame, 1, ECHO, "s", 1);
    sim_time_t t = sim_now(r.clk);
    assert_int_equal(refhost_send(&r.h, frame, n, &sent), RH_OK);
    /* tPROC + tACK = 16 us per byte with k = 4 (4 us normally). */
    assert_true(sim_now(r.clk) - t >= 7 * SIM_US(16) - SIM_US(16));
    sim_time_t last_fall = r.h.strobe_at - SIM_US(1);
    assert_int_equal(refhost_wait_response(&r.h, SIM_US(40)), RH_OK);
    /* Response ready at last fall + 16 us (nAck pulse end) + 40 us (ECHO 10 us x 4). */
    assert_true(sim_now(r.clk) >= last_fall + SIM_US(56));
    assert_true(sim_now(r.clk) <= last_fall + SIM_US(56) + SIM_US(1));
    assert_int_equal(refhost_recv(&r.h, &resp, NULL, NULL), RH_OK);
    assert_int_equal(resp.status, ST_OK);
    inject(&r, SIM_KEY_TRIGGER_NOW, 0, 0, SIM_KEY_FAULT_SLOW, 1, 0);
    assert_int_equal(refhost_close(&r.h), RH_OK);
    rig_down(&r);
}

static void test_dropped_forward_byte(void **state)
{
    rig r;
    refhost_resp resp;
    uint8_t frame[16];
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    assert_int_equal(refhost_open(&r.h, 0x4D), RH_OK);
    /* "Drop the 6th forward byte" (the first payload byte): armed at the 5th. */
    inject(&r, SIM_KEY_TRIGGER_AFTER_FORWARD, 0, 5, SIM_KEY_FAULT_DROP_FORWARD, 1, 0);
    size_t n = refhost_frame(frame, 0x66, ECHO, "dd", 2);
    assert_int_equal(refhost_exchange(&r.h, frame, n, SIM_US(20), &resp), RH_OK);
    assert_int_equal(resp.status, ST_BAD_FRAME);              /* 10 ms gap, frame short */
    assert_int_equal(resp.seq, 0x66);
    sim_key_stats st;
    sim_key_get_stats(r.key, &st);
    assert_int_equal(st.forward_bytes, n);
    assert_int_equal(rig_cmd(&r, 0x67, ECHO, "dd", 2, &resp), ST_OK);
    assert_int_equal(refhost_close(&r.h), RH_OK);
    rig_down(&r);
}

static void test_corrupted_response_crc(void **state)
{
    rig r;
    refhost_resp resp;
    uint8_t frame[16];
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    inject(&r, SIM_KEY_TRIGGER_NOW, 0, 0, SIM_KEY_FAULT_CORRUPT_CRC, 1, 0);
    size_t n = refhost_frame(frame, 0x10, ECHO, "crc", 3);
    assert_int_equal(refhost_exchange(&r.h, frame, n, SIM_US(20), &resp), RH_OK);
    assert_false(resp.crc_ok);
    /* The host resends the same bytes: the cached response, with a good CRC. */
    assert_int_equal(refhost_exchange(&r.h, frame, n, SIM_US(20), &resp), RH_OK);
    assert_true(resp.crc_ok);
    assert_memory_equal(resp.payload, "crc", 3);
    sim_key_stats st;
    sim_key_get_stats(r.key, &st);
    assert_int_equal(st.commands_executed, 1);
    assert_int_equal(refhost_close(&r.h), RH_OK);
    rig_down(&r);
}

static void test_worn_page(void **state)
{
    rig r;
    refhost_resp resp;
    uint8_t req[64];
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    assert_int_equal(refhost_open(&r.h, 0x4D), RH_OK);
    inject(&r, SIM_KEY_TRIGGER_NOW, 0, 0, SIM_KEY_FAULT_WORN_PAGE, 0x21, 0);
    put32(req, 0x900); req[4] = 0x00; req[5] = 0x02;
    memset(req + 6, 0xA7, 48);                                  /* 0x200..0x22F */
    sim_time_t t = sim_now(r.clk);
    assert_int_equal(rig_cmd(&r, 1, WRITE, req, 54, &resp), ST_EEPROM_FAULT);
    sim_time_t took = sim_now(r.clk) - t;
    assert_true(took >= SIM_MS(10) && took < SIM_MS(15));       /* 2 pages of 5 ms */
    assert_int_equal(resp.len, 2);
    assert_int_equal(resp.payload[0] | resp.payload[1] << 8, 0x210);
    assert_true(page_is(&r, 0x200, 0xA7));
    assert_true(page_is(&r, 0x210, 0xFF));
    assert_true(page_is(&r, 0x220, 0xFF));
    /* Not journaled: after the page heals, the same txid and payload executes. */
    inject(&r, SIM_KEY_TRIGGER_NOW, 0, 0, SIM_KEY_FAULT_HEAL_PAGE, 0x21, 0);
    assert_int_equal(rig_cmd(&r, 2, WRITE, req, 54, &resp), ST_OK);
    assert_true(page_is(&r, 0x210, 0xA7) && page_is(&r, 0x220, 0xA7));
    assert_int_equal(refhost_close(&r.h), RH_OK);
    rig_down(&r);
}

static void test_fault_after_responses(void **state)
{
    rig r;
    refhost_resp resp;
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    inject(&r, SIM_KEY_TRIGGER_AFTER_RESPONSES, 0, 2, SIM_KEY_FAULT_CORRUPT_CRC, 1, 0);
    assert_int_equal(rig_cmd(&r, 1, ECHO, "1", 1, &resp), ST_OK);
    assert_int_equal(rig_cmd(&r, 2, ECHO, "2", 1, &resp), ST_OK);  /* armed as it is ready */
    assert_int_equal(refhost_transact(&r.h, 3, ECHO, "3", 1, &resp), RH_OK);
    assert_false(resp.crc_ok);
    assert_int_equal(rig_cmd(&r, 4, ECHO, "4", 1, &resp), ST_OK);
    assert_int_equal(refhost_close(&r.h), RH_OK);
    rig_down(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unplug_and_plug),
        cmocka_unit_test(test_power_loss_inside_page_write),
        cmocka_unit_test(test_stuck_busy),
        cmocka_unit_test(test_missing_nack),
        cmocka_unit_test(test_slow_key),
        cmocka_unit_test(test_dropped_forward_byte),
        cmocka_unit_test(test_corrupted_response_crc),
        cmocka_unit_test(test_worn_page),
        cmocka_unit_test(test_fault_after_responses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
