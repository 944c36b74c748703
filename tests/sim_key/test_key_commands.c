/*
 * test_key_commands.c — every DL-1 command of DL1.md section 7, and its errors, through
 * the reference host routine in nibble mode and in byte mode (PS/2 port), plus the
 * CRC-16 check value.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "keyrig.h"
#include "sim/crc16.h"

enum {
    GET_INFO = 0x01, CHALLENGE, READ, WRITE, COUNTER_READ, COUNTER_DEC, ECHO, LOCK, SET_KEY,
    GET_DEVICE_ID, GET_STATS, COUNTER_SET,
};
enum {
    ST_OK = 0x00, ST_BAD_LENGTH = 0x11, ST_BAD_ADDRESS = 0x12, ST_PROTECTED = 0x13,
    ST_EXHAUSTED = 0x14, ST_UNKNOWN_CMD = 0x10,
};

static const uint8_t nibble_mode = 0x4C, byte_mode = 0x4D;

/* open_rig - a PS/2 port on ISA timing with a session in the mode the test state names. */
static void open_rig(rig *r, void **state)
{
    uint8_t mode = *(const uint8_t *)*state;

    rig_up(r, SIM_CHIP_PS2, SIM_US(1), true);
    assert_int_equal(refhost_open(&r->h, mode), RH_OK);
    assert_int_equal(sim_key_get_state(r->key), SIM_KEY_SESSION_FORWARD);
    assert_int_equal(sim_key_session_mode(r->key), mode);
}

static void close_rig(rig *r)
{
    assert_int_equal(refhost_close(&r->h), RH_OK);
    assert_int_equal(sim_key_get_state(r->key), SIM_KEY_PASS_THROUGH);
    rig_down(r);
}

static void test_crc16_check_value(void **state)
{
    (void)state;
    assert_int_equal(sim_crc16("123456789", 9), 0x29B1);
    assert_int_equal(sim_crc16_update(sim_crc16("1234", 4), "56789", 5), 0x29B1);
}

static void test_get_info(void **state)
{
    rig r;
    refhost_resp resp;

    open_rig(&r, state);
    assert_int_equal(rig_cmd(&r, 1, GET_INFO, NULL, 0, &resp), ST_OK);
    assert_int_equal(resp.len, 18);
    assert_memory_equal(resp.payload, rig_serial, 8);
    assert_int_equal(resp.payload[8] | resp.payload[9] << 8, 0x0110);
    assert_int_equal(resp.payload[10] | resp.payload[11] << 8, 2048);
    assert_int_equal(resp.payload[12], 8);
    assert_int_equal(resp.payload[13], 0);
    assert_int_equal(resp.payload[14] | resp.payload[15] << 8, 0xD06C);
    assert_int_equal(resp.payload[16] | resp.payload[17] << 8, 0x0001);
    assert_int_equal(rig_cmd(&r, 2, GET_INFO, "x", 1, &resp), ST_BAD_LENGTH);
    assert_int_equal(resp.len, 0);
    close_rig(&r);
}

static void test_challenge(void **state)
{
    rig r;
    refhost_resp resp;
    uint8_t nonce[16], m[27], mac[32];
    unsigned mac_len;

    for (int i = 0; i < 16; i++)
        nonce[i] = (uint8_t)(0xA0 + i * 3);
    memcpy(m, "DL1", 3);
    memcpy(m + 3, rig_serial, 8);
    memcpy(m + 11, nonce, 16);
    assert_non_null(HMAC(EVP_sha256(), rig_secret, 32, m, sizeof m, mac, &mac_len));

    open_rig(&r, state);
    assert_int_equal(rig_cmd(&r, 7, CHALLENGE, nonce, 16, &resp), ST_OK);
    assert_int_equal(resp.len, 16);
    assert_memory_equal(resp.payload, mac, 16);
    assert_int_equal(rig_cmd(&r, 8, CHALLENGE, nonce, 15, &resp), ST_BAD_LENGTH);
    close_rig(&r);
}

static void test_write_read(void **state)
{
    rig r;
    refhost_resp resp;
    uint8_t req[512], mem[2048];
    sim_key_stats st;

    open_rig(&r, state);
    /* 40 bytes from 0x105: pages 0x100, 0x110, 0x120 (3 pages touched). */
    put32(req, 0x1001);
    req[4] = 0x05; req[5] = 0x01;
    for (int i = 0; i < 40; i++)
        req[6 + i] = (uint8_t)(i + 1);
    sim_time_t t0 = sim_now(r.clk);
    assert_int_equal(rig_cmd(&r, 1, WRITE, req, 46, &resp), ST_OK);
    assert_int_equal(resp.len, 0);
    assert_true(sim_now(r.clk) - t0 >= SIM_MS(15));
    sim_key_get_stats(r.key, &st);
    assert_int_equal(st.page_writes, 3);
    sim_key_read_eeprom(r.key, 0, mem, sizeof mem);
    assert_int_equal(mem[0x104], 0xFF);
    assert_memory_equal(mem + 0x105, req + 6, 40);
    assert_int_equal(mem[0x105 + 40], 0xFF);

    req[0] = 0x00; req[1] = 0x01; req[2] = 32; req[3] = 0;      /* addr 0x100, len 32 */
    assert_int_equal(rig_cmd(&r, 2, READ, req, 4, &resp), ST_OK);
    assert_int_equal(resp.len, 32);
    assert_memory_equal(resp.payload, mem + 0x100, 32);

    req[0] = 0x00; req[1] = 0x00; req[2] = 0x00; req[3] = 0x02;  /* 512 from 0 */
    assert_int_equal(rig_cmd(&r, 3, READ, req, 4, &resp), ST_OK);
    assert_int_equal(resp.len, 512);
    assert_memory_equal(resp.payload, mem, 512);

    req[2] = 0x01; req[3] = 0x02;                                /* len 513 */
    assert_int_equal(rig_cmd(&r, 4, READ, req, 4, &resp), ST_BAD_LENGTH);
    req[2] = 0; req[3] = 0;                                      /* len 0 */
    assert_int_equal(rig_cmd(&r, 5, READ, req, 4, &resp), ST_BAD_LENGTH);
    req[0] = 0x01; req[1] = 0x08; req[2] = 1; req[3] = 0;        /* addr 2049 */
    assert_int_equal(rig_cmd(&r, 6, READ, req, 4, &resp), ST_BAD_ADDRESS);
    req[0] = 0xF0; req[1] = 0x07; req[2] = 0x11; req[3] = 0;     /* 2032 + 17 > 2048 */
    assert_int_equal(rig_cmd(&r, 7, READ, req, 4, &resp), ST_BAD_ADDRESS);

    put32(req, 0x1002);
    req[4] = 0xFF; req[5] = 0x07; req[6] = 1; req[7] = 2;        /* 2047 + 2 > 2048 */
    assert_int_equal(rig_cmd(&r, 8, WRITE, req, 8, &resp), ST_BAD_ADDRESS);
    assert_int_equal(rig_cmd(&r, 9, WRITE, req, 6, &resp), ST_BAD_LENGTH);
    close_rig(&r);
}

static void test_counters(void **state)
{
    rig r;
    refhost_resp resp;
    uint8_t req[16];

    open_rig(&r, state);
    put32(req, 0x2001); req[4] = 3; put32(req + 5, 100);
    assert_int_equal(rig_cmd(&r, 1, COUNTER_SET, req, 9, &resp), ST_OK);
    assert_int_equal(sim_key_counter(r.key, 3), 100);
    req[0] = 3;
    assert_int_equal(rig_cmd(&r, 2, COUNTER_READ, req, 1, &resp), ST_OK);
    assert_int_equal(resp.len, 4);
    assert_int_equal(get32(resp.payload), 100);

    put32(req, 0x2002); req[4] = 3; put32(req + 5, 30);
    assert_int_equal(rig_cmd(&r, 3, COUNTER_DEC, req, 9, &resp), ST_OK);
    assert_int_equal(get32(resp.payload), 70);
    assert_int_equal(sim_key_counter(r.key, 3), 70);

    put32(req, 0x2003); req[4] = 3; put32(req + 5, 71);
    assert_int_equal(rig_cmd(&r, 4, COUNTER_DEC, req, 9, &resp), ST_EXHAUSTED);
    assert_int_equal(resp.len, 0);
    assert_int_equal(sim_key_counter(r.key, 3), 70);

    put32(req, 0x2004); req[4] = 3; put32(req + 5, 0);
    assert_int_equal(rig_cmd(&r, 5, COUNTER_DEC, req, 9, &resp), ST_OK);
    assert_int_equal(get32(resp.payload), 70);

    put32(req, 0x2005); req[4] = 8; put32(req + 5, 1);
    assert_int_equal(rig_cmd(&r, 6, COUNTER_DEC, req, 9, &resp), ST_BAD_ADDRESS);
    assert_int_equal(rig_cmd(&r, 7, COUNTER_SET, req, 9, &resp), ST_BAD_ADDRESS);
    req[0] = 8;
    assert_int_equal(rig_cmd(&r, 8, COUNTER_READ, req, 1, &resp), ST_BAD_ADDRESS);
    assert_int_equal(rig_cmd(&r, 9, COUNTER_READ, req, 2, &resp), ST_BAD_LENGTH);
    close_rig(&r);
}

static void test_echo(void **state)
{
    rig r;
    refhost_resp resp;
    uint8_t data[512];

    for (int i = 0; i < 512; i++)
        data[i] = (uint8_t)(i * 7 + 3);
    open_rig(&r, state);
    assert_int_equal(rig_cmd(&r, 1, ECHO, NULL, 0, &resp), ST_OK);
    assert_int_equal(resp.len, 0);
    assert_int_equal(rig_cmd(&r, 2, ECHO, data, 512, &resp), ST_OK);
    assert_int_equal(resp.len, 512);
    assert_memory_equal(resp.payload, data, 512);
    assert_int_equal(rig_cmd(&r, 3, ECHO, data, 1, &resp), ST_OK);
    assert_int_equal(resp.payload[0], data[0]);
    close_rig(&r);
}

static void test_lock_and_set_key(void **state)
{
    rig r;
    refhost_resp resp;
    uint8_t req[64], nonce[16] = { 1 }, m[27], mac[32];
    unsigned mac_len;

    open_rig(&r, state);
    put32(req, 0x3001);
    for (int i = 0; i < 32; i++)
        req[4 + i] = (uint8_t)(0xC0 + i);
    assert_int_equal(rig_cmd(&r, 1, SET_KEY, req, 36, &resp), ST_OK);
    memcpy(m, "DL1", 3);
    memcpy(m + 3, rig_serial, 8);
    memcpy(m + 11, nonce, 16);
    HMAC(EVP_sha256(), req + 4, 32, m, sizeof m, mac, &mac_len);
    assert_int_equal(rig_cmd(&r, 2, CHALLENGE, nonce, 16, &resp), ST_OK);
    assert_memory_equal(resp.payload, mac, 16);
    assert_int_equal(rig_cmd(&r, 3, SET_KEY, req, 35, &resp), ST_BAD_LENGTH);

    put32(req, 0x3002);
    assert_int_equal(rig_cmd(&r, 4, LOCK, req, 4, &resp), ST_OK);
    assert_true(sim_key_locked(r.key));
    put32(req, 0x3003);
    assert_int_equal(rig_cmd(&r, 5, LOCK, req, 4, &resp), ST_OK);    /* already locked: OK */
    /* ... and not journaled: the first LOCK's txid still hits the journal. */
    sim_key_stats st;
    put32(req, 0x3002);
    assert_int_equal(rig_cmd(&r, 0x55, LOCK, req, 4, &resp), ST_OK);
    sim_key_get_stats(r.key, &st);
    assert_int_equal(st.journal_replays, 1);
    assert_int_equal(rig_cmd(&r, 6, GET_INFO, NULL, 0, &resp), ST_OK);
    assert_int_equal(resp.payload[13], 1);

    put32(req, 0x3004);
    assert_int_equal(rig_cmd(&r, 7, SET_KEY, req, 36, &resp), ST_PROTECTED);
    put32(req, 0x3005); req[4] = 0; put32(req + 5, 5);
    assert_int_equal(rig_cmd(&r, 8, COUNTER_SET, req, 9, &resp), ST_PROTECTED);
    /* A WRITE touching 0..255 is refused whole; above 255 is fine. */
    put32(req, 0x3006); req[4] = 0xF0; req[5] = 0x00; memset(req + 6, 0x55, 32);
    assert_int_equal(rig_cmd(&r, 9, WRITE, req, 38, &resp), ST_PROTECTED);
    uint8_t b;
    sim_key_read_eeprom(r.key, 0x100, &b, 1);
    assert_int_equal(b, 0xFF);
    req[4] = 0x00; req[5] = 0x01;
    assert_int_equal(rig_cmd(&r, 10, WRITE, req, 38, &resp), ST_OK);
    sim_key_read_eeprom(r.key, 0x100, &b, 1);
    assert_int_equal(b, 0x55);
    /* Range comes before lock: index 9 is BAD_ADDRESS even when locked. */
    put32(req, 0x3007); req[4] = 9; put32(req + 5, 5);
    assert_int_equal(rig_cmd(&r, 11, COUNTER_SET, req, 9, &resp), ST_BAD_ADDRESS);
    close_rig(&r);
}

static void test_device_id(void **state)
{
    rig r;
    refhost_resp resp;
    const char *want = "MFG:DongLpt;MDL:DL-1;CMD:DLP1;CLS:SECURITY;DES:DL-1 software key;"
                       "SN:123456789ABCDEF0;";
    size_t n = strlen(want);

    open_rig(&r, state);
    assert_int_equal(rig_cmd(&r, 1, GET_DEVICE_ID, NULL, 0, &resp), ST_OK);
    assert_int_equal(resp.len, n + 2);
    assert_int_equal((resp.payload[0] << 8) | resp.payload[1], n + 2);
    assert_memory_equal(resp.payload + 2, want, n);
    close_rig(&r);
}

static void test_stats_and_unknown(void **state)
{
    rig r;
    refhost_resp resp;

    open_rig(&r, state);
    assert_int_equal(rig_cmd(&r, 1, 0x55, NULL, 0, &resp), ST_UNKNOWN_CMD);
    assert_int_equal(resp.len, 0);
    assert_int_equal(rig_cmd(&r, 2, 0x00, NULL, 0, &resp), ST_UNKNOWN_CMD);
    assert_int_equal(rig_cmd(&r, 3, GET_STATS, NULL, 0, &resp), ST_OK);
    assert_int_equal(resp.len, 8);
    for (int i = 0; i < 8; i++)
        assert_int_equal(resp.payload[i], 0);
    assert_int_equal(rig_cmd(&r, 4, GET_STATS, "x", 1, &resp), ST_BAD_LENGTH);
    close_rig(&r);
}

#define BOTH(fn) cmocka_unit_test_prestate(fn, (void *)&nibble_mode), \
                 cmocka_unit_test_prestate(fn, (void *)&byte_mode)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc16_check_value),
        BOTH(test_get_info),
        BOTH(test_challenge),
        BOTH(test_write_read),
        BOTH(test_counters),
        BOTH(test_echo),
        BOTH(test_lock_and_set_key),
        BOTH(test_device_id),
        BOTH(test_stats_and_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
