/*
 * test_conf_key_commands.c — DL1.md sections 6 and 7 at register level: the check
 * order, non-OK responses, STATUS bit 7 on cached resends and journal replays, the
 * journal's rules, every command's key time to the nanosecond (and x k for a slow
 * key), length and range limits, the lock, EEPROM_FAULT, the device ID and GET_STATS.
 */
#include "conf.h"

#define T20 SIM_US(20)
#define T5MS SIM_MS(5)

/* frame_bad_crc - a request whose CRC is off by one. */
static size_t frame_bad_crc(uint8_t *f, uint8_t seq, uint8_t cmd, const void *p, uint16_t len)
{
    size_t n = refhost_frame(f, seq, cmd, p, len);
    f[n - 2] ^= 0x01;
    return n;
}

/* overrun_now - an overrun on purpose (section 5 item 4): a stray byte (0xFF, a
   framing error) and a second strobe while its Busy is still high. */
static void overrun_now(rig *r)
{
    for (int i = 0; i < 2; i++) {
        refhost_control(&r->h, (uint8_t)(r->h.ctrl | CT_STROBE));
        refhost_control(&r->h, (uint8_t)(r->h.ctrl & ~CT_STROBE));
    }
}

static void rw(uint8_t *p, uint16_t addr, uint16_t len)
{
    p[0] = (uint8_t)addr; p[1] = (uint8_t)(addr >> 8);
    p[2] = (uint8_t)len; p[3] = (uint8_t)(len >> 8);
}

/* Section 6 check order: CRC; identical to the cached request; command known;
   payload length; journal; index or address range; lock; value. */
static void test_check_order(void **state)
{
    rig r;
    refhost_resp resp;
    uint8_t f[REFHOST_FRAME_MAX], p[16];
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    /* CRC before "command known". */
    size_t n = frame_bad_crc(f, 0x21, 0x55, "abc", 3);
    assert_int_equal(conf_raw(&r, f, n, &resp), S_BAD_CRC);
    assert_int_equal(resp.seq, 0x21);
    assert_int_equal(resp.len, 0);
    /* Command known before payload length. */
    assert_int_equal(conf_timed(&r, 0x22, 0x55, "abc", 3, T20, &resp), S_UNKNOWN_CMD);
    assert_int_equal(resp.len, 0);
    /* The identical request is answered from the cache, 20 us, not run again. */
    uint64_t resends = conf_stats(&r).cache_resends;
    assert_int_equal(conf_timed(&r, 0x22, 0x55, "abc", 3, T20, &resp), S_UNKNOWN_CMD);
    assert_int_equal(conf_stats(&r).cache_resends, resends + 1);
    /* Payload length before range: READ len 0 / 513 at a bad address. */
    rw(p, 3000, 0);
    assert_int_equal(conf_timed(&r, 1, C_READ, p, 4, T20, &resp), S_BAD_LENGTH);
    rw(p, 3000, 513);
    assert_int_equal(conf_timed(&r, 2, C_READ, p, 4, T20, &resp), S_BAD_LENGTH);
    assert_int_equal(conf_timed(&r, 3, C_READ, p, 3, T20, &resp), S_BAD_LENGTH);
    assert_int_equal(conf_timed(&r, 4, C_READ, p, 5, T20, &resp), S_BAD_LENGTH);
    rw(p, 3000, 1);
    assert_int_equal(conf_timed(&r, 5, C_READ, p, 4, T20, &resp), S_BAD_ADDRESS);
    assert_int_equal(resp.len, 0);
    /* Index range before lock: COUNTER_SET index 8 on a locked key. */
    put32(p, 0x51);
    assert_int_equal(conf_timed(&r, 6, C_LOCK, p, 4, T5MS, &resp), S_OK);
    put32(p, 0x52); p[4] = 8; put32(p + 5, 1);
    assert_int_equal(conf_timed(&r, 7, C_COUNTER_SET, p, 9, T20, &resp), S_BAD_ADDRESS);
    p[4] = 7;
    assert_int_equal(conf_timed(&r, 8, C_COUNTER_SET, p, 9, T20, &resp), S_PROTECTED);
    assert_int_equal(resp.len, 0);
    rig_down(&r);
}

/* Journal before value: a replayed COUNTER_DEC is not EXHAUSTED even though running
   it again would be; the replay carries this request's SEQ, takes 20 us, survives a
   reset. A txid match with a different payload executes. */
static void test_journal_rules(void **state)
{
    rig r;
    refhost_resp resp;
    uint8_t p[16];
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    put32(p, 1); p[4] = 0; put32(p + 5, 10);
    assert_int_equal(conf_timed(&r, 1, C_COUNTER_SET, p, 9, T5MS, &resp), S_OK);
    put32(p, 2); p[4] = 0; put32(p + 5, 3);
    assert_int_equal(conf_timed(&r, 2, C_COUNTER_DEC, p, 9, T5MS, &resp), S_OK);
    assert_int_equal(get32(resp.payload), 7);
    put32(p + 5, 7);                                   /* same txid, other payload */
    assert_int_equal(conf_timed(&r, 3, C_COUNTER_DEC, p, 9, T5MS, &resp), S_OK);
    assert_int_equal(get32(resp.payload), 0);
    assert_int_equal(sim_key_counter(r.key, 0), 0);
    conf_reset(&r);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    uint64_t replays = conf_stats(&r).journal_replays;
    overrun_now(&r);                                  /* bit 7 is this request's */
    assert_int_equal(conf_timed(&r, 4, C_COUNTER_DEC, p, 9, T20, &resp), S_OK | S_OVERRUN);
    assert_int_equal(resp.len, 4);
    assert_int_equal(get32(resp.payload), 0);
    assert_int_equal(conf_stats(&r).journal_replays, replays + 1);
    assert_int_equal(sim_key_counter(r.key, 0), 0);
    /* A COUNTER_DEC by 0 is OK in 20 us and leaves the journal alone. */
    put32(p, 3); p[4] = 0; put32(p + 5, 0);
    assert_int_equal(conf_timed(&r, 5, C_COUNTER_DEC, p, 9, T20, &resp), S_OK);
    conf_reset(&r);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    put32(p, 2); p[4] = 0; put32(p + 5, 7);
    assert_int_equal(conf_timed(&r, 6, C_COUNTER_DEC, p, 9, T20, &resp), S_OK);
    assert_int_equal(conf_stats(&r).journal_replays, replays + 2);
    /* Storing an equal value is still an update: journaled. */
    put32(p, 7); p[4] = 1; put32(p + 5, 0);
    assert_int_equal(conf_timed(&r, 7, C_COUNTER_SET, p, 9, T5MS, &resp), S_OK);
    conf_reset(&r);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    assert_int_equal(conf_timed(&r, 8, C_COUNTER_SET, p, 9, T20, &resp), S_OK);
    assert_int_equal(conf_stats(&r).journal_replays, replays + 3);
    /* LOCK: 5 ms and journaled; LOCK on a locked key 20 us and not journaled. */
    put32(p, 9);
    assert_int_equal(conf_timed(&r, 9, C_LOCK, p, 4, T5MS, &resp), S_OK);
    put32(p, 10);
    assert_int_equal(conf_timed(&r, 10, C_LOCK, p, 4, T20, &resp), S_OK);
    conf_reset(&r);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    put32(p, 9);
    assert_int_equal(conf_timed(&r, 11, C_LOCK, p, 4, T20, &resp), S_OK);
    assert_int_equal(conf_stats(&r).journal_replays, replays + 4);
    rig_down(&r);
}

/* Section 6: bit 7 = overrun since the previous response was prepared; cleared when a
   response is prepared, a cached resend included, whose STATUS and CRC are recomputed. */
static void test_status_bit7_on_cached_resend(void **state)
{
    rig r;
    refhost_resp resp;
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    assert_int_equal(refhost_open(&r.h, 0x4D), RH_OK);
    assert_int_equal(conf_timed(&r, 1, C_ECHO, "hi", 2, SIM_US(10), &resp), S_OK);
    overrun_now(&r);
    assert_int_equal(conf_timed(&r, 1, C_ECHO, "hi", 2, T20, &resp), S_OK | S_OVERRUN);
    assert_memory_equal(resp.payload, "hi", 2);
    assert_int_equal(conf_timed(&r, 1, C_ECHO, "hi", 2, T20, &resp), S_OK);
    /* A reset clears the overrun flag and the volatile cache. */
    overrun_now(&r);
    conf_reset(&r);
    assert_int_equal(refhost_open(&r.h, 0x4D), RH_OK);
    assert_int_equal(conf_timed(&r, 1, C_ECHO, "hi", 2, SIM_US(10), &resp), S_OK);
    rig_down(&r);
}

/* Section 7 key times, exact, for every command (and x k for a slow key). */
static void test_key_times(void **state)
{
    rig r;
    refhost_resp resp;
    uint8_t p[64];
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    assert_int_equal(refhost_open(&r.h, 0x4D), RH_OK);
    assert_int_equal(conf_timed(&r, 1, C_GET_INFO, NULL, 0, T20, &resp), S_OK);
    assert_int_equal(resp.len, 18);
    memset(p, 7, 16);
    assert_int_equal(conf_timed(&r, 2, C_CHALLENGE, p, 16, SIM_US(300), &resp), S_OK);
    assert_int_equal(resp.len, 16);
    static const struct { uint16_t len; unsigned us; } reads[] = {
        { 1, 21 }, { 16, 21 }, { 17, 22 }, { 32, 22 }, { 33, 23 }, { 512, 52 },
    };
    for (unsigned i = 0; i < sizeof reads / sizeof reads[0]; i++) {
        rw(p, 0, reads[i].len);
        assert_int_equal(conf_timed(&r, (uint8_t)(3 + i), C_READ, p, 4,
                                    SIM_US(reads[i].us), &resp), S_OK);
        assert_int_equal(resp.len, reads[i].len);
    }
    put32(p, 100); p[4] = 8; p[5] = 0; memset(p + 6, 0xAB, 16);   /* addr 8, 16 bytes */
    assert_int_equal(conf_timed(&r, 10, C_WRITE, p, 22, 2 * T5MS, &resp), S_OK);
    p[0] = 5;
    assert_int_equal(conf_timed(&r, 11, C_COUNTER_READ, p, 1, T20, &resp), S_OK);
    put32(p, 101); p[4] = 5; put32(p + 5, 0);
    assert_int_equal(conf_timed(&r, 12, C_COUNTER_DEC, p, 9, T20, &resp), S_OK);
    put32(p + 5, 1);
    assert_int_equal(conf_timed(&r, 13, C_COUNTER_DEC, p, 9, T20, &resp), S_EXHAUSTED);
    assert_int_equal(resp.len, 0);
    put32(p, 102); p[4] = 5; put32(p + 5, 9);
    assert_int_equal(conf_timed(&r, 14, C_COUNTER_SET, p, 9, T5MS, &resp), S_OK);
    put32(p, 103); p[4] = 5; put32(p + 5, 4);
    assert_int_equal(conf_timed(&r, 15, C_COUNTER_DEC, p, 9, T5MS, &resp), S_OK);
    assert_int_equal(get32(resp.payload), 5);
    assert_int_equal(conf_timed(&r, 16, C_ECHO, "e", 1, SIM_US(10), &resp), S_OK);
    assert_int_equal(conf_timed(&r, 17, C_GET_DEVICE_ID, NULL, 0, T20, &resp), S_OK);
    assert_int_equal(conf_timed(&r, 18, C_GET_STATS, NULL, 0, T20, &resp), S_OK);
    put32(p, 104); memset(p + 4, 0x33, 32);
    assert_int_equal(conf_timed(&r, 19, C_SET_KEY, p, 36, T5MS, &resp), S_OK);
    put32(p, 105);
    assert_int_equal(conf_timed(&r, 20, C_LOCK, p, 4, T5MS, &resp), S_OK);
    assert_int_equal(conf_timed(&r, 21, 0x7F, NULL, 0, T20, &resp), S_UNKNOWN_CMD);
    /* Slow key x3: tPROC + tACK and the key time both scale. */
    sim_key_set_slow(r.key, 3);
    uint8_t f[16];
    size_t n = refhost_frame(f, 22, C_ECHO, "s", 1);
    sim_time_t fall = conf_send(&r, f, n);
    sim_clock_advance_to(r.clk, fall + 3 * T_FWD - 1);
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_SESSION_FORWARD);
    sim_clock_advance_to(r.clk, fall + 3 * T_FWD);
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_SESSION_EXEC);
    conf_ready_exactly(&r, fall + 3 * T_FWD + 3 * SIM_US(10));
    assert_int_equal(refhost_recv(&r.h, &resp, NULL, NULL), RH_OK);
    assert_int_equal(resp.status, S_OK);
    n = refhost_frame(f, 23, 0x7F, NULL, 0);                     /* error: 20 us x 3 */
    fall = conf_send(&r, f, n);
    conf_ready_exactly(&r, fall + 3 * T_FWD + 3 * T20);
    assert_int_equal(refhost_recv(&r.h, &resp, NULL, NULL), RH_OK);
    assert_int_equal(resp.status, S_UNKNOWN_CMD);
    rig_down(&r);
}

/* Section 7 limits: READ 1..512, WRITE data 1..506, memory 0..2047, counters 0..7;
   a locked key refuses a WRITE touching 0..255 whole, SET_KEY and COUNTER_SET. */
static void test_limits_and_lock(void **state)
{
    rig r;
    refhost_resp resp;
    static uint8_t p[512];
    uint8_t got[4];
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    assert_int_equal(refhost_open(&r.h, 0x4D), RH_OK);
    rw(p, 2047, 1);
    assert_int_equal(conf_timed(&r, 1, C_READ, p, 4, SIM_US(21), &resp), S_OK);
    rw(p, 2047, 2);
    assert_int_equal(conf_timed(&r, 2, C_READ, p, 4, T20, &resp), S_BAD_ADDRESS);
    rw(p, 1536, 512);
    assert_int_equal(conf_timed(&r, 3, C_READ, p, 4, SIM_US(52), &resp), S_OK);
    /* WRITE: no data is BAD_LENGTH; 506 bytes ending at 2047 are fine (32 pages). */
    put32(p, 200); p[4] = 0x06; p[5] = 0x06;                     /* addr 1542 */
    assert_int_equal(conf_timed(&r, 4, C_WRITE, p, 6, T20, &resp), S_BAD_LENGTH);
    memset(p + 6, 0x5C, 506);
    assert_int_equal(conf_timed(&r, 5, C_WRITE, p, 512, 32 * T5MS, &resp), S_OK);
    p[4] = 0x07;                                                 /* addr 1543: 2049 */
    assert_int_equal(conf_timed(&r, 6, C_WRITE, p, 512, T20, &resp), S_BAD_ADDRESS);
    p[0] = 8;
    assert_int_equal(conf_timed(&r, 7, C_COUNTER_READ, p, 1, T20, &resp), S_BAD_ADDRESS);
    assert_int_equal(conf_timed(&r, 8, C_COUNTER_READ, p, 2, T20, &resp), S_BAD_LENGTH);
    assert_int_equal(conf_timed(&r, 9, C_CHALLENGE, p, 15, T20, &resp), S_BAD_LENGTH);
    assert_int_equal(conf_timed(&r, 10, C_GET_INFO, p, 1, T20, &resp), S_BAD_LENGTH);
    assert_int_equal(conf_timed(&r, 11, C_SET_KEY, p, 35, T20, &resp), S_BAD_LENGTH);
    /* Lock. */
    put32(p, 201);
    assert_int_equal(conf_timed(&r, 12, C_LOCK, p, 4, T5MS, &resp), S_OK);
    assert_int_equal(conf_timed(&r, 13, C_GET_INFO, NULL, 0, T20, &resp), S_OK);
    assert_int_equal(resp.payload[13] & 1, 1);
    put32(p, 202); p[4] = 255; p[5] = 0; p[6] = 1; p[7] = 2;     /* bytes 255, 256 */
    assert_int_equal(conf_timed(&r, 14, C_WRITE, p, 8, T20, &resp), S_PROTECTED);
    sim_key_read_eeprom(r.key, 254, got, 3);
    assert_int_equal(got[1], 0xFF);
    assert_int_equal(got[2], 0xFF);
    put32(p, 203); p[4] = 0; p[5] = 1;                           /* addr 256 */
    assert_int_equal(conf_timed(&r, 15, C_WRITE, p, 8, T5MS, &resp), S_OK);
    put32(p, 204); memset(p + 4, 1, 32);
    assert_int_equal(conf_timed(&r, 16, C_SET_KEY, p, 36, T20, &resp), S_PROTECTED);
    put32(p, 205); p[4] = 0; put32(p + 5, 1);
    assert_int_equal(conf_timed(&r, 17, C_COUNTER_SET, p, 9, T20, &resp), S_PROTECTED);
    rw(p, 0, 16);
    assert_int_equal(conf_timed(&r, 18, C_READ, p, 4, SIM_US(21), &resp), S_OK);
    rig_down(&r);
}

/* Section 7: a worn page keeps its old content, later pages are not written, the
   response is EEPROM_FAULT with the failed page's address (LEN 2), after 5 ms per
   page up to and including it; the earlier pages stay written. Not journaled. */
static void test_eeprom_fault(void **state)
{
    rig r;
    refhost_resp resp;
    uint8_t p[64], got[48];
    sim_key_trigger t = { SIM_KEY_TRIGGER_NOW, 0, 0 };
    sim_key_fault f = { SIM_KEY_FAULT_WORN_PAGE, 2, 0 };
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    assert_int_equal(sim_key_inject(r.key, &t, &f), 0);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    put32(p, 300); p[4] = 24; p[5] = 0; memset(p + 6, 0x11, 40);   /* 24..63: pages 1-3 */
    assert_int_equal(conf_timed(&r, 1, C_WRITE, p, 46, 2 * T5MS, &resp), S_EEPROM_FAULT);
    assert_int_equal(resp.len, 2);
    assert_int_equal(resp.payload[0] | resp.payload[1] << 8, 32);
    sim_key_read_eeprom(r.key, 16, got, 48);
    for (unsigned i = 0; i < 48; i++)
        assert_int_equal(got[i], (i >= 8 && i < 16) ? 0x11 : 0xFF);
    /* Not journaled (a resend after a reset runs again). */
    conf_reset(&r);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    uint64_t replays = conf_stats(&r).journal_replays;
    assert_int_equal(conf_timed(&r, 2, C_WRITE, p, 46, 2 * T5MS, &resp), S_EEPROM_FAULT);
    assert_int_equal(conf_stats(&r).journal_replays, replays);
    rig_down(&r);
}

/* Section 7: the device ID's big-endian length and exact text. */
static void test_device_id(void **state)
{
    rig r;
    refhost_resp resp;
    static const char want[] = "MFG:DongLpt;MDL:DL-1;CMD:DLP1;CLS:SECURITY;"
                               "DES:DL-1 software key;SN:123456789ABCDEF0;";
    (void)state;

    rig_up(&r, SIM_CHIP_SPP, SIM_US(1), false);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    assert_int_equal(rig_cmd(&r, 1, C_GET_DEVICE_ID, NULL, 0, &resp), S_OK);
    size_t n = sizeof want - 1;
    assert_int_equal(resp.len, n + 2);
    assert_int_equal(resp.payload[0], (uint8_t)((n + 2) >> 8));
    assert_int_equal(resp.payload[1], (uint8_t)(n + 2));
    assert_memory_equal(resp.payload + 2, want, n);
    /* GET_INFO of a new key: serial, firmware 0x0110, 2048, 8, unlocked, D06C, 0001. */
    assert_int_equal(rig_cmd(&r, 2, C_GET_INFO, NULL, 0, &resp), S_OK);
    static const uint8_t info[18] = { 0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0,
                                      0x10, 0x01, 0x00, 0x08, 8, 0, 0x6C, 0xD0, 0x01, 0x00 };
    assert_memory_equal(resp.payload, info, 18);
    rig_down(&r);
}

/* Section 7 GET_STATS: framing errors = bytes before 0x5A plus BAD_FRAMEs; CRC
   errors; resets count resets and brown-outs; all since power-up. */
static void test_get_stats(void **state)
{
    rig r;
    refhost_resp resp;
    uint8_t f[32];
    const uint8_t junk[] = { 0x00, 0x11, 0xA5 };
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    conf_send(&r, junk, sizeof junk);
    size_t n = frame_bad_crc(f, 1, C_ECHO, "x", 1);
    assert_int_equal(conf_raw(&r, f, n, &resp), S_BAD_CRC);
    const uint8_t big[] = { 0x5A, 2, C_ECHO, 0xFF, 0xFF };
    assert_int_equal(conf_raw(&r, big, sizeof big, &resp), S_BAD_FRAME);
    assert_int_equal(rig_cmd(&r, 3, C_GET_STATS, NULL, 0, &resp), S_OK);
    assert_int_equal(resp.len, 8);
    assert_int_equal(resp.payload[0] | resp.payload[1] << 8, 4);   /* 3 junk + 1 BAD_FRAME */
    assert_int_equal(resp.payload[2] | resp.payload[3] << 8, 0);
    assert_int_equal(resp.payload[4] | resp.payload[5] << 8, 1);
    assert_int_equal(resp.payload[6] | resp.payload[7] << 8, 0);
    /* Power loss: counters start again from zero. */
    sim_key_power_loss(r.key, SIM_MS(1));
    sim_clock_advance(r.clk, SIM_MS(110));
    refhost_init(&r.h, r.bus, RIG_BASE, SIM_US(1));
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    assert_int_equal(rig_cmd(&r, 4, C_GET_STATS, NULL, 0, &resp), S_OK);
    for (unsigned i = 0; i < 8; i++)
        assert_int_equal(resp.payload[i], 0);
    rig_down(&r);
}

/* Section 6: "A request completed while an earlier command still runs (a host that
   gave up and reopened the session) waits in SESSION-EXEC until that command's
   response is cached; then its checks run." Two hosts giving up in a row: each
   abandoned request still runs, in arrival order, its response going to the cache. */
static void test_requests_queue_behind_running_command(void **state)
{
    rig r;
    refhost_resp resp;
    static uint8_t p[512];
    uint8_t f[REFHOST_FRAME_MAX];
    (void)state;

    rig_up(&r, SIM_CHIP_PS2, SIM_US(1), false);
    /* A: a 32-page WRITE, 160 ms; the host gives up in SESSION-EXEC. */
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    put32(p, 400); p[4] = 0x00; p[5] = 0x04; memset(p + 6, 0x77, 506);
    size_t n = refhost_frame(f, 1, C_WRITE, p, 512);
    conf_send(&r, f, n);
    assert_int_equal(refhost_wait(&r.h, 0xFF, R_EXEC, SIM_MS(1)), RH_OK);
    assert_int_equal(refhost_close(&r.h), RH_OK);
    /* B: COUNTER_SET, queued behind A; this host gives up too. */
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    put32(p, 401); p[4] = 3; put32(p + 5, 9);
    n = refhost_frame(f, 2, C_COUNTER_SET, p, 9);
    conf_send(&r, f, n);
    assert_int_equal(refhost_wait(&r.h, 0xFF, R_EXEC, SIM_MS(1)), RH_OK);
    assert_int_equal(refhost_close(&r.h), RH_OK);
    /* C: ECHO, queued behind A and B; answered after both. */
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    n = refhost_frame(f, 3, C_ECHO, "c", 1);
    conf_send(&r, f, n);
    assert_int_equal(refhost_wait_response(&r.h, SIM_MS(200)), RH_OK);
    assert_int_equal(refhost_recv(&r.h, &resp, NULL, NULL), RH_OK);
    assert_int_equal(resp.status, S_OK);
    assert_int_equal(resp.seq, 3);
    uint8_t mem[1];
    sim_key_read_eeprom(r.key, 1529, mem, 1);
    assert_int_equal(mem[0], 0x77);                            /* A ran */
    assert_int_equal(sim_key_counter(r.key, 3), 9);            /* B ran */
    /* B's response is in the volatile cache: its identical resend is not run again. */
    uint64_t executed = conf_stats(&r).commands_executed;
    put32(p, 401); p[4] = 3; put32(p + 5, 9);
    assert_int_equal(conf_timed(&r, 2, C_COUNTER_SET, p, 9, T20, &resp), S_OK);
    assert_int_equal(conf_stats(&r).commands_executed, executed);
    /* A key destroyed with requests still queued frees them (LeakSanitizer). */
    put32(p, 402); p[4] = 0x00; p[5] = 0x04; memset(p + 6, 0x78, 506);
    n = refhost_frame(f, 4, C_WRITE, p, 512);
    conf_send(&r, f, n);
    assert_int_equal(refhost_wait(&r.h, 0xFF, R_EXEC, SIM_MS(1)), RH_OK);
    assert_int_equal(refhost_close(&r.h), RH_OK);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    n = refhost_frame(f, 5, C_ECHO, "q", 1);
    conf_send(&r, f, n);
    assert_int_equal(refhost_wait(&r.h, 0xFF, R_EXEC, SIM_MS(1)), RH_OK);
    rig_down(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_order),
        cmocka_unit_test(test_journal_rules),
        cmocka_unit_test(test_status_bit7_on_cached_resend),
        cmocka_unit_test(test_key_times),
        cmocka_unit_test(test_limits_and_lock),
        cmocka_unit_test(test_eeprom_fault),
        cmocka_unit_test(test_device_id),
        cmocka_unit_test(test_get_stats),
        cmocka_unit_test(test_requests_queue_behind_running_command),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
