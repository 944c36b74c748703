/*
 * test_driver_link.c — the DL-1 link engine (driver/dl1*.c) against simulated SPP,
 * PS/2 and ECP ports with a DL-1 key, a printer, both or nothing (link_sim.c).
 *
 * Every command in nibble and byte mode; retries after a corrupted request byte
 * (BAD_CRC), a dropped byte, a corrupted response CRC, a power loss mid-request;
 * a COUNTER_DEC whose response is lost decrements once; printer-no-key and
 * nothing-attached probes; the idle timeout; and the register accesses and machine
 * time per byte of ECHO 512 against the floors of docs/LINK.md.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/hmac.h>
#include <openssl/evp.h>

#include <ntddk.h>
#include <parallel.h>
#include <ntddpar.h>
#include "donglpt.h"
#include "dl1link.h"
#include "link_sim.h"
#include "link_world.h"
#include "fake1284.h"
#include "floor.h"

static DONG_LINK link_;
static DONG_TRANSACT_REQUEST req_;
static DONG_TRANSACT_RESPONSE resp_;

static const DONG_TIMEOUTS default_timeouts = { 35, 10, 3, 0 };

static ULONG caps_for(ls_chip chip)
{
    if (chip == LS_ECP)
        return PPT_ECP_PRESENT | PPT_BYTE_PRESENT;
    return chip == LS_PS2 ? PPT_BYTE_PRESENT : 0;
}

/* A machine at 150 ms (key ready) and a link measured on it. */
static void up(ls_chip chip, unsigned access_ns, ls_attach attach)
{
    ls_create(chip, access_ns, attach, false);
    assert_int_equal(DongLinkInitialize(&link_, (PUCHAR)(ULONG_PTR)LS_BASE, NULL,
                                        caps_for(chip), &default_timeouts, 0x1000, 0),
                     STATUS_SUCCESS);
}

static int teardown(void **state)
{
    (void)state;
    ls_destroy();
    return 0;
}

static NTSTATUS transact(UCHAR cmd, const void *payload, USHORT len)
{
    memset(&req_, 0, sizeof req_);
    req_.Command = cmd;
    req_.Length = len;
    if (len)
        memcpy(req_.Payload, payload, len);
    memset(&resp_, 0xEE, sizeof resp_);
    return DongLinkTransact(&link_, &req_, &resp_);
}

static void ok(UCHAR cmd, const void *payload, USHORT len)
{
    assert_int_equal(transact(cmd, payload, len), STATUS_SUCCESS);
    assert_int_equal(resp_.KeyStatus, DL1_STATUS_OK);
}

static void put16(UCHAR *p, unsigned v)
{
    p[0] = (UCHAR)v;
    p[1] = (UCHAR)(v >> 8);
}

static void put32(UCHAR *p, unsigned v)
{
    put16(p, v & 0xFFFF);
    put16(p + 2, v >> 16);
}

static unsigned get32(const UCHAR *p)
{
    return p[0] | (p[1] << 8) | (p[2] << 16) | ((unsigned)p[3] << 24);
}

static void counter_set(unsigned index, unsigned value)
{
    UCHAR p[5];

    p[0] = (UCHAR)index;
    put32(p + 1, value);
    ok(DL1_CMD_COUNTER_SET, p, sizeof p);
}

static NTSTATUS counter_dec(unsigned index, unsigned amount)
{
    UCHAR p[5];

    p[0] = (UCHAR)index;
    put32(p + 1, amount);
    return transact(DL1_CMD_COUNTER_DEC, p, sizeof p);
}

static void inject(sim_key_trigger_kind when, uint64_t count, sim_time_t time,
                   sim_key_fault_kind what, uint32_t arg, sim_time_t duration)
{
    sim_key_trigger t = { when, time, count };
    sim_key_fault f = { what, arg, duration };

    assert_int_equal(sim_key_inject(ls_key, &t, &f), 0);
}

/* ------------------------------------------------------------------ basics */

static void test_crc16_check_value(void **state)
{
    (void)state;
    assert_int_equal(DongLinkCrc16(0xFFFF, (const UCHAR *)"123456789", 9), 0x29B1);
}

static void test_timing_isa(void **state)
{
    (void)state;
    up(LS_PS2, 1000, LS_NOTHING);
    assert_int_equal(link_.Timing.AccessNs, 1000);
    assert_int_equal(link_.Timing.SetupReads, 0);
    assert_int_equal(link_.Timing.StrobeReads, 0);
    assert_int_equal(link_.Timing.HoldReads, 0);
    assert_int_equal(link_.Timing.RespondReads, 0);
    assert_int_equal(link_.Timing.BusyStallUs, 1);
    assert_true(link_.Timing.AccessMeetsRsp);
}

static void test_timing_pcie(void **state)
{
    (void)state;
    up(LS_PS2, 250, LS_NOTHING);
    /* A 10 MHz counter cannot see less than 100 ns: the figure may round down. */
    assert_in_range(link_.Timing.AccessNs, 240, 250);
    assert_int_equal(link_.Timing.StrobeReads, 2 - (link_.Timing.AccessNs == 250));
    assert_int_equal(link_.Timing.HoldReads, link_.Timing.StrobeReads);
    assert_int_equal(link_.Timing.BusyStallUs, 2);
    assert_false(link_.Timing.AccessMeetsRsp);
}

/* Preempted while measuring: the slow round is not the one kept, so the fast
   port keeps the pad reads it needs and still works. */
static void test_timing_measured_despite_preemption(void **state)
{
    (void)state;
    ls_create(LS_PS2, 250, LS_KEY, false);
    ls_preempt_after(10, SIM_US(30));
    assert_int_equal(DongLinkInitialize(&link_, (PUCHAR)(ULONG_PTR)LS_BASE, NULL,
                                        PPT_BYTE_PRESENT, &default_timeouts, 1, 0),
                     STATUS_SUCCESS);
    assert_in_range(link_.Timing.AccessNs, 240, 250);
    ok(DL1_CMD_ECHO, "abcdef", 6);
    assert_int_equal(resp_.Retries, 0);
}

/* ------------------------------------------------------------------ probes */

static void probe(DONG_INFO *info)
{
    memset(info, 0xCC, sizeof *info);
    assert_int_equal(DongLinkProbe(&link_, info), STATUS_SUCCESS);
}

static void test_probe_key_ps2_byte_mode(void **state)
{
    DONG_INFO info;

    (void)state;
    up(LS_PS2, 1000, LS_KEY);
    probe(&info);
    assert_int_equal(info.Attached, DONG_PERIPHERAL_KEY);
    assert_int_equal(info.ProbeStatus, STATUS_SUCCESS);
    assert_int_equal(info.Chip, DONG_CHIP_PS2);
    assert_int_equal(info.Mode, DONG_MODE_BYTE);
    assert_int_equal(sim_key_session_mode(ls_key), 0x4D);
    assert_int_equal(info.Flags, DONG_INFO_KEY_VALID);
    assert_int_equal(info.Serial[0], 0x10);
    assert_int_equal(info.Serial[7], 0x17);
    assert_int_equal(info.FirmwareVersion, 0x0110);
    assert_int_equal(info.MemorySize, 2048);
    assert_int_equal(info.Counters, 8);
    assert_int_equal(info.VendorId, 0xD06C);
    assert_int_equal(info.ProductId, 0x0001);
    /* The pass-through status of a key with nothing behind it: the pull-ups. */
    assert_int_equal(info.StatusRegister & 0xF8, 0x78);
}

static void test_probe_key_spp_nibble_mode(void **state)
{
    DONG_INFO info;

    (void)state;
    up(LS_SPP, 1000, LS_KEY);
    probe(&info);
    assert_int_equal(info.Attached, DONG_PERIPHERAL_KEY);
    assert_int_equal(info.Chip, DONG_CHIP_SPP);
    assert_int_equal(info.Mode, DONG_MODE_NIBBLE);
    assert_int_equal(sim_key_session_mode(ls_key), 0x4C);
    assert_int_equal(info.Serial[3], 0x13);
}

static void test_probe_key_ecp_sets_and_restores_ecr(void **state)
{
    DONG_INFO info;

    (void)state;
    up(LS_ECP, 1000, LS_KEY);
    /* A chip left in ECP mode by someone else. */
    ls_write8(LS_BASE + 0x402, 0x74);
    probe(&info);
    assert_int_equal(info.Chip, DONG_CHIP_ECP);
    assert_int_equal(info.Mode, DONG_MODE_BYTE);
    assert_int_equal(ls_read8(LS_BASE + 0x402) & 0xE0, 0x20);
    DongLinkShutdown(&link_);
    assert_int_equal(ls_read8(LS_BASE + 0x402) & 0xFC, 0x74);
    assert_int_equal(sim_key_get_state(ls_key), SIM_KEY_PASS_THROUGH);
}

static void test_probe_key_with_printer(void **state)
{
    DONG_INFO info;

    (void)state;
    up(LS_PS2, 1000, LS_KEY_PRINTER);
    probe(&info);
    assert_int_equal(info.Attached, DONG_PERIPHERAL_KEY);
    assert_int_equal(info.StatusRegister & 0xF8, 0xD8);
    /* The negotiation never strobed the printer. */
    assert_int_equal(sim_printer_received(ls_printer, NULL), 0);
}

static void probe_printer(sim_printer_state s, NTSTATUS expect, UCHAR lines)
{
    DONG_INFO info;

    up(LS_PS2, 1000, LS_PRINTER);
    sim_printer_set_state(ls_printer, s);
    probe(&info);
    assert_int_equal(info.Attached, DONG_PERIPHERAL_PRINTER);
    assert_int_equal(info.ProbeStatus, expect);
    assert_int_equal(info.Mode, DONG_MODE_NONE);
    assert_int_equal(info.Flags, 0);
    assert_int_equal(info.StatusRegister & 0xF8, lines);
    assert_int_equal(info.Serial[0], 0);
    assert_int_equal(info.MemorySize, 0);
    assert_int_equal(info.PortNumber, 0xCCCCCCCC);  /* the caller's */
    assert_int_equal(sim_printer_received(ls_printer, NULL), 0);
    ls_destroy();
}

static void test_probe_printer_no_key(void **state)
{
    (void)state;
    probe_printer(SIM_PRINTER_ONLINE, STATUS_DEVICE_DOES_NOT_EXIST, 0xD8);
    probe_printer(SIM_PRINTER_PAPER_OUT, STATUS_DEVICE_PAPER_EMPTY, 0x60);
    probe_printer(SIM_PRINTER_OFFLINE, STATUS_DEVICE_OFF_LINE, 0x40);
    probe_printer(SIM_PRINTER_POWERED_OFF, STATUS_DEVICE_POWERED_OFF, 0x80);
    probe_printer(SIM_PRINTER_BUSY, STATUS_DEVICE_BUSY, 0x58);
    up(LS_PS2, 1000, LS_NOTHING); /* for the teardown */
}

static void test_probe_nothing_attached(void **state)
{
    DONG_INFO info;
    uint64_t t0;

    (void)state;
    up(LS_SPP, 1000, LS_NOTHING);
    t0 = ls_now_ns();
    probe(&info);
    assert_int_equal(info.Attached, DONG_PERIPHERAL_NOTHING);
    assert_int_equal(info.ProbeStatus, STATUS_DEVICE_NOT_CONNECTED);
    assert_int_equal(info.StatusRegister & 0xF8, 0x78);
    /* It waited out a key's power-up, sleeping rather than spinning. */
    assert_true(ls_now_ns() - t0 >= SIM_MS(100));
    assert_true(ls_accesses() < 5000);
    assert_int_equal(transact(DL1_CMD_GET_INFO, NULL, 0), STATUS_DEVICE_NOT_CONNECTED);
}

static void test_probe_key_still_powering_up(void **state)
{
    DONG_INFO info;

    (void)state;
    ls_create(LS_PS2, 1000, LS_KEY, true);
    assert_int_equal(DongLinkInitialize(&link_, (PUCHAR)(ULONG_PTR)LS_BASE, NULL,
                                        PPT_BYTE_PRESENT, &default_timeouts, 7, 1000),
                     STATUS_SUCCESS);
    probe(&info);
    assert_int_equal(info.Attached, DONG_PERIPHERAL_KEY);
    assert_int_equal(info.ProbeStatus, STATUS_SUCCESS);
}

/* A printer that answers IEEE 1284 negotiation but refuses the extensibility link:
   a printer, no key; it is not asked again for 110 ms, and it is let go properly. */
static void test_probe_1284_printer_refusing_extensibility(void **state)
{
    static const fake1284_config cfg = { false, false, false };
    DONG_INFO info;
    fake1284 *f;

    (void)state;
    up(LS_PS2, 1000, LS_NOTHING);
    f = fake1284_create(ls_clock, &cfg);
    sim_port_attach(ls_port, fake1284_peripheral(f));
    probe(&info);
    assert_int_equal(info.Attached, DONG_PERIPHERAL_PRINTER);
    assert_int_equal(info.ProbeStatus, STATUS_DEVICE_DOES_NOT_EXIST);
    assert_int_equal(fake1284_get_counts(f).negotiations, 1);
    assert_int_equal(fake1284_get_counts(f).terminations, 1);
    assert_int_equal(fake1284_get_counts(f).link_byte_count, 0);
}

/* A key that refuses byte mode is asked for nibble mode; refusing that too, the
   link is not supported, and no retry asks again. */
static void test_key_refusing_link_bytes(void **state)
{
    static const fake1284_config cfg = { true, false, false };
    fake1284_counts n;
    fake1284 *f;

    (void)state;
    up(LS_PS2, 1000, LS_NOTHING);
    f = fake1284_create(ls_clock, &cfg);
    sim_port_attach(ls_port, fake1284_peripheral(f));
    assert_int_equal(transact(DL1_CMD_GET_INFO, NULL, 0), STATUS_NOT_SUPPORTED);
    assert_int_equal(resp_.Retries, 0);
    n = fake1284_get_counts(f);
    assert_int_equal(n.link_byte_count, 2);
    assert_int_equal(n.link_bytes[0], 0x4D);
    assert_int_equal(n.link_bytes[1], 0x4C);
    assert_int_equal(n.terminations, 2);
    assert_int_equal(link_.PreferredLinkByte, 0x4C);
}

/* ---------------------------------------------------------------- commands */

static void every_command(void)
{
    UCHAR p[64], nonce[16], mac[32], m[3 + 8 + 16], secret[32], serial[8], mem[40];
    unsigned maclen = sizeof mac;
    unsigned i;

    ok(DL1_CMD_GET_INFO, NULL, 0);
    assert_int_equal(resp_.Length, 18);
    assert_int_equal(resp_.Txid, 0);

    for (i = 0; i < 16; i++)
        nonce[i] = (UCHAR)(i * 7 + 1);
    ok(DL1_CMD_CHALLENGE, nonce, 16);
    assert_int_equal(resp_.Length, 16);
    sim_key_secret(ls_key, secret);
    sim_key_serial(ls_key, serial);
    memcpy(m, "DL1", 3);
    memcpy(m + 3, serial, 8);
    memcpy(m + 11, nonce, 16);
    HMAC(EVP_sha256(), secret, 32, m, sizeof m, mac, &maclen);
    assert_memory_equal(resp_.Payload, mac, 16);

    put16(p, 300);                       /* WRITE payload: addr, data; the txid is added */
    for (i = 0; i < 40; i++)
        p[2 + i] = (UCHAR)(0xC0 + i);
    ok(DL1_CMD_WRITE, p, 42);
    assert_int_equal(resp_.Txid, 0x1000);
    sim_key_read_eeprom(ls_key, 300, mem, 40);
    assert_memory_equal(mem, p + 2, 40);

    put16(p, 300);
    put16(p + 2, 40);
    ok(DL1_CMD_READ, p, 4);
    assert_int_equal(resp_.Length, 40);
    assert_memory_equal(resp_.Payload, mem, 40);

    counter_set(3, 1000);
    assert_int_equal(sim_key_counter(ls_key, 3), 1000);
    assert_int_equal(resp_.Txid, 0x1001);
    assert_int_equal(counter_dec(3, 250), STATUS_SUCCESS);
    assert_int_equal(resp_.KeyStatus, DL1_STATUS_OK);
    assert_int_equal(get32(resp_.Payload), 750);
    p[0] = 3;
    ok(DL1_CMD_COUNTER_READ, p, 1);
    assert_int_equal(get32(resp_.Payload), 750);
    assert_int_equal(counter_dec(3, 751), STATUS_SUCCESS);
    assert_int_equal(resp_.KeyStatus, DL1_STATUS_EXHAUSTED);
    assert_int_equal(DongLinkKeyStatusToNtStatus(resp_.KeyStatus), STATUS_QUOTA_EXCEEDED);
    assert_int_equal(sim_key_counter(ls_key, 3), 750);

    for (i = 0; i < 64; i++)
        p[i] = (UCHAR)(i ^ 0x5A);
    ok(DL1_CMD_ECHO, p, 64);
    assert_int_equal(resp_.Length, 64);
    assert_memory_equal(resp_.Payload, p, 64);
    ok(DL1_CMD_ECHO, NULL, 0);
    assert_int_equal(resp_.Length, 0);

    ok(DL1_CMD_GET_DEVICE_ID, NULL, 0);
    assert_true(resp_.Length > 2);
    assert_int_equal((resp_.Payload[0] << 8) | resp_.Payload[1], resp_.Length);
    assert_memory_equal(resp_.Payload + 2, "MFG:DongLpt;", 12);

    ok(DL1_CMD_GET_STATS, NULL, 0);
    assert_int_equal(resp_.Length, 8);

    for (i = 0; i < 32; i++)
        p[i] = (UCHAR)(0x33 + i);
    ok(DL1_CMD_SET_KEY, p, 32);
    sim_key_secret(ls_key, secret);
    assert_memory_equal(secret, p, 32);

    ok(DL1_CMD_LOCK, NULL, 0);
    assert_true(sim_key_locked(ls_key));
    put16(p, 0);
    p[2] = 1;
    assert_int_equal(transact(DL1_CMD_WRITE, p, 3), STATUS_SUCCESS);
    assert_int_equal(resp_.KeyStatus, DL1_STATUS_PROTECTED);
    assert_int_equal(DongLinkKeyStatusToNtStatus(resp_.KeyStatus), STATUS_MEDIA_WRITE_PROTECTED);

    put16(p, 2040);
    put16(p + 2, 16);
    assert_int_equal(transact(DL1_CMD_READ, p, 4), STATUS_SUCCESS);
    assert_int_equal(resp_.KeyStatus, DL1_STATUS_BAD_ADDRESS);
    assert_int_equal(transact(0x7E, NULL, 0), STATUS_SUCCESS);
    assert_int_equal(resp_.KeyStatus, DL1_STATUS_UNKNOWN_CMD);
    assert_int_equal(transact(DL1_CMD_COUNTER_READ, NULL, 0), STATUS_SUCCESS);
    assert_int_equal(resp_.KeyStatus, DL1_STATUS_BAD_LENGTH);
    /* Nothing needed a retry, and one session served it all. */
    assert_int_equal(link_.Stats.Retries, 0);
    assert_int_equal(link_.Stats.SessionsOpened, 1);
}

static void test_commands_byte_mode_ps2(void **state)
{
    (void)state;
    up(LS_PS2, 1000, LS_KEY);
    every_command();
    assert_int_equal(sim_key_session_mode(ls_key), 0x4D);
}

static void test_commands_nibble_mode_spp(void **state)
{
    (void)state;
    up(LS_SPP, 1000, LS_KEY);
    every_command();
    assert_int_equal(sim_key_session_mode(ls_key), 0x4C);
}

static void test_commands_byte_mode_ecp_pcie(void **state)
{
    (void)state;
    up(LS_ECP, 250, LS_KEY);
    every_command();
    assert_int_equal(sim_key_session_mode(ls_key), 0x4D);
}

static void test_commands_nibble_mode_pcie(void **state)
{
    (void)state;
    up(LS_SPP, 250, LS_KEY);
    every_command();
}

/* A port said to be bidirectional that is not: byte-mode reads return the data
   latch, so the engine falls back to nibble mode and the request still succeeds. */
static void test_port_that_cannot_reverse_falls_back_to_nibble(void **state)
{
    (void)state;
    ls_create(LS_SPP, 1000, LS_KEY, false);
    assert_int_equal(DongLinkInitialize(&link_, (PUCHAR)(ULONG_PTR)LS_BASE, NULL,
                                        PPT_BYTE_PRESENT, &default_timeouts, 1, 0),
                     STATUS_SUCCESS);
    ok(DL1_CMD_GET_INFO, NULL, 0);
    assert_int_equal(resp_.Retries, 1);
    assert_int_equal(sim_key_session_mode(ls_key), 0x4C);
    ok(DL1_CMD_GET_INFO, NULL, 0);
    assert_int_equal(resp_.Retries, 0);
}

static void test_bad_requests_rejected_before_the_wire(void **state)
{
    uint64_t before;

    (void)state;
    up(LS_PS2, 1000, LS_KEY);
    before = ls_accesses();
    memset(&req_, 0, sizeof req_);
    req_.Command = DL1_CMD_WRITE;
    req_.Length = 510; /* + txid > 512 */
    assert_int_equal(DongLinkTransact(&link_, &req_, &resp_), STATUS_INVALID_PARAMETER);
    req_.Command = DL1_CMD_ECHO;
    req_.Flags = DONG_TRANSACT_CALLER_TXID;
    req_.Length = 8;
    assert_int_equal(DongLinkTransact(&link_, &req_, &resp_), STATUS_INVALID_PARAMETER);
    req_.Flags = 0;
    req_.Length = 513;
    assert_int_equal(DongLinkTransact(&link_, &req_, &resp_), STATUS_INVALID_PARAMETER);
    assert_int_equal(ls_accesses(), before);
}

static void test_request_and_response_may_share_a_buffer(void **state)
{
    union {
        DONG_TRANSACT_REQUEST req;
        DONG_TRANSACT_RESPONSE resp;
    } u;

    (void)state;
    up(LS_PS2, 1000, LS_KEY);
    memset(&u, 0, sizeof u);
    u.req.Command = DL1_CMD_ECHO;
    u.req.Length = 100;
    for (unsigned i = 0; i < 100; i++)
        u.req.Payload[i] = (UCHAR)i;
    assert_int_equal(DongLinkTransact(&link_, &u.req, &u.resp), STATUS_SUCCESS);
    assert_int_equal(u.resp.Length, 100);
    for (unsigned i = 0; i < 100; i++)
        assert_int_equal(u.resp.Payload[i], i);
}

/* ----------------------------------------------------------------- retries */

static void test_retry_after_bad_crc(void **state)
{
    UCHAR p[32] = "a request byte gets corrupted";
    sim_key_stats ks;

    (void)state;
    up(LS_PS2, 1000, LS_KEY);
    ok(DL1_CMD_ECHO, "x", 1);
    /* DATA writes of the next frame: 0x5A, SEQ, CMD, ...: spoil the 6th. */
    ls_corrupt_data_write(6, 0x04);
    ok(DL1_CMD_ECHO, p, sizeof p);
    assert_memory_equal(resp_.Payload, p, sizeof p);
    assert_int_equal(resp_.Retries, 1);
    assert_int_equal(link_.Stats.CrcErrors, 1);
    sim_key_get_stats(ls_key, &ks);
    assert_int_equal(ks.crc_errors, 1);
}

static void test_retry_after_dropped_byte(void **state)
{
    UCHAR p[20] = "one byte goes astray";

    (void)state;
    up(LS_SPP, 1000, LS_KEY);
    ok(DL1_CMD_ECHO, "x", 1);
    /* The 6th byte of the next frame (a payload byte) is handshaken but lost. */
    inject(SIM_KEY_TRIGGER_AFTER_FORWARD, 5, 0, SIM_KEY_FAULT_DROP_FORWARD, 1, 0);
    ok(DL1_CMD_ECHO, p, sizeof p);
    assert_memory_equal(resp_.Payload, p, sizeof p);
    assert_int_equal(resp_.Retries, 1);
    /* The key's gap timer abandoned the short frame: BAD_FRAME, then the resend. */
    assert_int_equal(link_.Stats.FramingErrors, 1);
    assert_int_equal(link_.Stats.Timeouts, 0);
}

/* The LEN byte is lost: the key takes the first payload byte for LEN's high byte,
   finds LEN > 512 and answers BAD_FRAME at once. The engine sees SESSION-EXEC in
   its next Busy read, stops sending (no overrun) and resends. */
static void test_frame_rejected_while_sending(void **state)
{
    UCHAR p[20] = "@ the key stops this";
    sim_key_stats ks;

    (void)state;
    up(LS_PS2, 1000, LS_KEY);
    ok(DL1_CMD_ECHO, "x", 1);
    inject(SIM_KEY_TRIGGER_AFTER_FORWARD, 3, 0, SIM_KEY_FAULT_DROP_FORWARD, 1, 0);
    ok(DL1_CMD_ECHO, p, sizeof p);
    assert_memory_equal(resp_.Payload, p, sizeof p);
    assert_int_equal(resp_.Retries, 1);
    assert_int_equal(link_.Stats.FramingErrors, 1);
    /* The first try stopped after its 6th byte, the one the key took for LEN's
       high byte; then the whole 27-byte frame again. */
    assert_int_equal(link_.Stats.BytesSent, 8 + 6 + 27);
    sim_key_get_stats(ls_key, &ks);
    assert_int_equal(ks.overruns, 0);
    assert_int_equal(resp_.Flags, 0);
}

static void test_retry_after_corrupted_response_crc(void **state)
{
    sim_key_stats ks;

    (void)state;
    up(LS_PS2, 1000, LS_KEY);
    ok(DL1_CMD_GET_INFO, NULL, 0);
    inject(SIM_KEY_TRIGGER_NOW, 0, 0, SIM_KEY_FAULT_CORRUPT_CRC, 1, 0);
    ok(DL1_CMD_GET_INFO, NULL, 0);
    assert_int_equal(resp_.Retries, 1);
    assert_int_equal(link_.Stats.CrcErrors, 1);
    sim_key_get_stats(ls_key, &ks);
    assert_int_equal(ks.cache_resends, 1);
}

/* A response byte spoilt on the cable (byte mode reads it from DATA). */
static void garbled_response_byte(unsigned index, uint8_t mask)
{
    up(LS_PS2, 1000, LS_KEY);
    ok(DL1_CMD_GET_INFO, NULL, 0);
    ls_corrupt_data_read(index + 1, mask);
    ok(DL1_CMD_GET_INFO, NULL, 0);
    assert_int_equal(resp_.Length, 18);
    assert_int_equal(resp_.Payload[0], 0x10);
    assert_true(resp_.Retries >= 1);
}

/* LEN > 512: the response cannot be read to its end and is abandoned. */
static void test_garbled_response_length_too_big(void **state)
{
    (void)state;
    garbled_response_byte(4, 0x04);
    assert_int_equal(link_.Stats.FramingErrors, 1);
    assert_int_equal(link_.Stats.SessionsOpened, 2);
    assert_int_equal(resp_.Retries, 1);
}

/* LEN one too many: the key's response ends first. */
static void test_garbled_response_length_too_long(void **state)
{
    (void)state;
    garbled_response_byte(3, 0x01);
    assert_int_equal(link_.Stats.FramingErrors, 1);
    assert_int_equal(resp_.Retries, 1);
}

/* LEN two too few: the CRC fails with the rest of the response still pending; it
   is abandoned before the resend. */
static void test_garbled_response_length_too_short(void **state)
{
    (void)state;
    garbled_response_byte(3, 0x02);
    assert_int_equal(link_.Stats.CrcErrors, 1);
    assert_int_equal(link_.Stats.FramingErrors, 0);
    assert_int_equal(resp_.Retries, 1);
    assert_int_equal(link_.Stats.SessionsOpened, 2);
}

/* A spoilt start byte. */
static void test_garbled_response_start(void **state)
{
    (void)state;
    garbled_response_byte(0, 0xFF);
    assert_int_equal(link_.Stats.FramingErrors, 1);
}

/* A COUNTER_DEC whose response is lost is resent and decrements once. */
static void test_counter_dec_lost_response_decrements_once(void **state)
{
    sim_key_stats ks;

    (void)state;
    up(LS_SPP, 1000, LS_KEY);
    counter_set(1, 100);
    sim_key_get_stats(ls_key, &ks);
    uint64_t executed = ks.commands_executed;
    inject(SIM_KEY_TRIGGER_NOW, 0, 0, SIM_KEY_FAULT_CORRUPT_CRC, 1, 0);
    assert_int_equal(counter_dec(1, 7), STATUS_SUCCESS);
    assert_int_equal(resp_.KeyStatus, DL1_STATUS_OK);
    assert_int_equal(get32(resp_.Payload), 93);
    assert_int_equal(resp_.Retries, 1);
    assert_int_equal(sim_key_counter(ls_key, 1), 93);
    sim_key_get_stats(ls_key, &ks);
    assert_int_equal(ks.commands_executed, executed + 1);
}

/* The response is ready, then the key loses power: the resend after power-up is
   answered from the txid journal. */
static void test_counter_dec_power_loss_after_response_replays_journal(void **state)
{
    sim_key_stats ks;

    (void)state;
    up(LS_PS2, 1000, LS_KEY);
    counter_set(2, 50);
    inject(SIM_KEY_TRIGGER_AFTER_RESPONSES, 1, 0, SIM_KEY_FAULT_POWER_LOSS, 0, SIM_MS(1));
    assert_int_equal(counter_dec(2, 5), STATUS_SUCCESS);
    assert_int_equal(resp_.KeyStatus, DL1_STATUS_OK);
    assert_int_equal(get32(resp_.Payload), 45);
    assert_true(resp_.Retries >= 1);
    assert_int_equal(sim_key_counter(ls_key, 2), 45);
    sim_key_get_stats(ls_key, &ks);
    assert_int_equal(ks.journal_replays, 1);
    assert_true(link_.Stats.SessionsOpened >= 2);
}

/* Power lost in the middle of the request frame: the session is gone, the engine
   waits for the key to come back and sends the request whole. */
static void test_power_loss_mid_request(void **state)
{
    UCHAR p[100];

    (void)state;
    up(LS_PS2, 1000, LS_KEY);
    ok(DL1_CMD_ECHO, "x", 1);
    for (unsigned i = 0; i < sizeof p; i++)
        p[i] = (UCHAR)(i * 3);
    inject(SIM_KEY_TRIGGER_AFTER_FORWARD, 40, 0, SIM_KEY_FAULT_POWER_LOSS, 0, SIM_US(200));
    ok(DL1_CMD_ECHO, p, sizeof p);
    assert_memory_equal(resp_.Payload, p, sizeof p);
    assert_true(resp_.Retries >= 1);
    assert_true(link_.Stats.SessionsLost + link_.Stats.Timeouts >= 1);
}

/* The key stays dead after the whole COUNTER_DEC went out: the outcome is unknown
   (STATUS_RETRY); resent later with the same txid it runs exactly once. */
static void test_unknown_outcome_then_safe_resend(void **state)
{
    ULONG txid;

    (void)state;
    up(LS_PS2, 1000, LS_KEY);
    counter_set(4, 10);
    inject(SIM_KEY_TRIGGER_AFTER_RESPONSES, 1, 0, SIM_KEY_FAULT_POWER_LOSS, 0, 0);
    assert_int_equal(counter_dec(4, 3), STATUS_RETRY);
    txid = resp_.Txid;
    assert_int_not_equal(txid, 0);
    assert_int_equal(sim_key_counter(ls_key, 4), 7);

    inject(SIM_KEY_TRIGGER_NOW, 0, 0, SIM_KEY_FAULT_POWER_ON, 0, 0);
    memset(&req_, 0, sizeof req_);
    req_.Command = DL1_CMD_COUNTER_DEC;
    req_.Flags = DONG_TRANSACT_CALLER_TXID;
    req_.Length = 9;
    put32(req_.Payload, txid);
    req_.Payload[4] = 4;
    put32(req_.Payload + 5, 3);
    assert_int_equal(DongLinkTransact(&link_, &req_, &resp_), STATUS_SUCCESS);
    assert_int_equal(resp_.KeyStatus, DL1_STATUS_OK);
    assert_int_equal(resp_.Txid, txid);
    assert_int_equal(get32(resp_.Payload), 7);
    assert_int_equal(sim_key_counter(ls_key, 4), 7);
}

/* A read-only command that cannot get through reports the link failure itself. */
static void test_key_unplugged_mid_session(void **state)
{
    (void)state;
    up(LS_SPP, 1000, LS_KEY);
    ok(DL1_CMD_GET_INFO, NULL, 0);
    sim_key_unplug(ls_key);
    assert_int_equal(transact(DL1_CMD_GET_INFO, NULL, 0), STATUS_DEVICE_NOT_CONNECTED);
}

static void test_idle_timeout_reopens_session(void **state)
{
    (void)state;
    up(LS_SPP, 1000, LS_KEY);
    ok(DL1_CMD_GET_INFO, NULL, 0);
    assert_int_equal(link_.Stats.SessionsOpened, 1);
    /* Still inside the guard: the same session. */
    sim_clock_advance(ls_clock, SIM_MS(500));
    ok(DL1_CMD_GET_INFO, NULL, 0);
    assert_int_equal(link_.Stats.SessionsOpened, 1);
    /* The key ends the session after 1 s idle: reopened without a failure. */
    sim_clock_advance(ls_clock, SIM_MS(1500));
    assert_int_equal(sim_key_get_state(ls_key), SIM_KEY_PASS_THROUGH);
    ok(DL1_CMD_GET_INFO, NULL, 0);
    assert_int_equal(link_.Stats.SessionsOpened, 2);
    assert_int_equal(resp_.Retries, 0);
    /* Just short of the key's 1 s: reopened rather than trusted. */
    sim_clock_advance(ls_clock, SIM_MS(950));
    ok(DL1_CMD_GET_INFO, NULL, 0);
    assert_int_equal(link_.Stats.SessionsOpened, 3);
    assert_int_equal(resp_.Retries, 0);
}

/* A session the engine still believes in was dropped by a key reset behind its back. */
static void test_session_lost_to_reset_is_reopened(void **state)
{
    (void)state;
    up(LS_PS2, 1000, LS_KEY_PRINTER);
    ok(DL1_CMD_GET_INFO, NULL, 0);
    /* nInit pulse made by someone else. */
    ls_write8(LS_BASE + 2, 0x00);
    sim_clock_advance(ls_clock, SIM_US(60));
    ls_write8(LS_BASE + 2, 0x04);
    ok(DL1_CMD_GET_INFO, NULL, 0);
    assert_int_equal(link_.Stats.SessionsLost, 1);
    assert_int_equal(link_.Stats.SessionsOpened, 2);
    assert_int_equal(sim_printer_received(ls_printer, NULL), 0);
}

static void test_reset_key(void **state)
{
    sim_key_stats ks;

    (void)state;
    up(LS_PS2, 1000, LS_KEY);
    ok(DL1_CMD_GET_INFO, NULL, 0);
    assert_int_equal(DongLinkResetKey(&link_), STATUS_SUCCESS);
    sim_key_get_stats(ls_key, &ks);
    assert_int_equal(ks.resets, 1);
    ok(DL1_CMD_GET_INFO, NULL, 0);
    assert_int_equal(resp_.Retries, 0);
    assert_int_equal(link_.Stats.SessionsOpened, 2);
}

static void test_shutdown_parks_lines(void **state)
{
    (void)state;
    up(LS_PS2, 1000, LS_KEY);
    ok(DL1_CMD_GET_INFO, NULL, 0);
    DongLinkShutdown(&link_);
    /* PASS-THROUGH within tRSP of Event 28. */
    sim_clock_advance(ls_clock, SIM_US(1));
    assert_int_equal(sim_key_get_state(ls_key), SIM_KEY_PASS_THROUGH);
    sim_host_lines h = sim_port_host_lines(ls_port);
    assert_int_equal(h.data, 0xFF);
    assert_true(h.data_driven);
    assert_true(h.nStrobe && h.nAutoFd && h.nInit && !h.nSelectIn);
    /* The next request reopens on its own. */
    ok(DL1_CMD_GET_INFO, NULL, 0);
}

static void test_read_status(void **state)
{
    DONG_PORT_STATUS st;

    (void)state;
    up(LS_PS2, 1000, LS_PRINTER);
    DongLinkReadStatus(&link_, &st);
    assert_int_equal(st.StatusRegister, 0xDF);
    assert_int_equal(st.ParallelStatus, PARALLEL_SELECTED);
    sim_printer_set_state(ls_printer, SIM_PRINTER_PAPER_OUT);
    DongLinkReadStatus(&link_, &st);
    assert_true(st.ParallelStatus & PARALLEL_PAPER_EMPTY);
    sim_printer_set_state(ls_printer, SIM_PRINTER_POWERED_OFF);
    DongLinkReadStatus(&link_, &st);
    assert_int_equal(st.ParallelStatus, PARALLEL_POWER_OFF);
}

static void test_stats_counts(void **state)
{
    DONG_STATISTICS s;

    (void)state;
    up(LS_PS2, 1000, LS_KEY);
    ok(DL1_CMD_ECHO, "abc", 3);
    memset(&s, 0, sizeof s);
    s.Requests = 77;
    DongLinkGetStats(&link_, &s);
    assert_int_equal(s.Requests, 77);
    assert_int_equal(s.BytesSent, 10);
    assert_int_equal(s.BytesReceived, 10);
    assert_int_equal(s.FramesSent, 1);
    assert_int_equal(s.FramesReceived, 1);
    assert_int_equal(s.SessionsOpened, 1);
}

/* ---------------------------------------------------------- faulty keys */

/* A key slower than one access: the nibble schedule stops relying on tRSP. */
static void test_slow_key_nibble_isa(void **state)
{
    (void)state;
    /* Its key times are 4 times DL1.md's too: a user gives it a longer response
       timeout, or every page write would time out and be answered by a resend. */
    static const DONG_TIMEOUTS patient = { 35, 100, 3, 0 };

    up(LS_SPP, 1000, LS_KEY);
    DongLinkSetTimeouts(&link_, &patient);
    sim_key_set_slow(ls_key, 4);
    every_command();
    assert_false(link_.KeyAnswersInAccess);
}

/* The key turns slow inside an open session: the first late answer is noticed
   before any Event 11 is skipped. */
static void test_key_turns_slow_mid_session(void **state)
{
    UCHAR p[64];

    (void)state;
    up(LS_SPP, 1000, LS_KEY);
    ok(DL1_CMD_GET_INFO, NULL, 0);
    assert_true(link_.KeyAnswersInAccess);
    sim_key_set_slow(ls_key, 3);
    for (unsigned i = 0; i < sizeof p; i++)
        p[i] = (UCHAR)(0xF0 ^ i);
    ok(DL1_CMD_ECHO, p, sizeof p);
    assert_memory_equal(resp_.Payload, p, sizeof p);
    assert_int_equal(resp_.Retries, 0);
    assert_false(link_.KeyAnswersInAccess);
}

static void test_stuck_busy_is_a_timeout(void **state)
{
    DONG_INFO info;

    (void)state;
    up(LS_PS2, 1000, LS_KEY);
    ok(DL1_CMD_GET_INFO, NULL, 0);
    inject(SIM_KEY_TRIGGER_NOW, 0, 0, SIM_KEY_FAULT_STUCK_BUSY, 1, 0);
    assert_int_equal(transact(DL1_CMD_GET_INFO, NULL, 0), STATUS_IO_TIMEOUT);
    assert_int_equal(resp_.Retries, 3);
    assert_true(link_.Stats.Timeouts >= 4);
    probe(&info);
    assert_int_equal(info.Attached, DONG_PERIPHERAL_KEY);
    assert_int_equal(info.ProbeStatus, STATUS_IO_TIMEOUT);
}

/* No nAck pulses at all: the key takes the bus at Event 1 but never completes a
   handshake. That is a broken key, not an empty port. */
static void test_missing_nack_is_a_timeout_not_no_key(void **state)
{
    DONG_INFO info;

    (void)state;
    up(LS_SPP, 1000, LS_KEY);
    inject(SIM_KEY_TRIGGER_NOW, 0, 0, SIM_KEY_FAULT_MISSING_NACK, UINT32_MAX, 0);
    probe(&info);
    assert_int_equal(info.Attached, DONG_PERIPHERAL_KEY);
    assert_int_equal(info.ProbeStatus, STATUS_IO_TIMEOUT);
    assert_int_equal(transact(DL1_CMD_GET_INFO, NULL, 0), STATUS_IO_TIMEOUT);
    /* Healed: the engine recovers on its own. */
    inject(SIM_KEY_TRIGGER_NOW, 0, 0, SIM_KEY_FAULT_MISSING_NACK, 0, 0);
    sim_clock_advance(ls_clock, SIM_S(2));
    ok(DL1_CMD_GET_INFO, NULL, 0);
}

/* Noisy status lines: every request still gets its own answer, through retries. */
static void test_noisy_status_lines(void **state)
{
    UCHAR p[48];

    (void)state;
    up(LS_PS2, 1000, LS_KEY);
    counter_set(0, 1000);
    sim_port_set_noise(ls_port, 0.0002, 12345);
    for (unsigned n = 0; n < 30; n++) {
        for (unsigned i = 0; i < sizeof p; i++)
            p[i] = (UCHAR)(n * 31 + i);
        ok(DL1_CMD_ECHO, p, sizeof p);
        assert_memory_equal(resp_.Payload, p, sizeof p);
        assert_int_equal(counter_dec(0, 1), STATUS_SUCCESS);
        assert_int_equal(resp_.KeyStatus, DL1_STATUS_OK);
        assert_int_equal(get32(resp_.Payload), 999 - n);
    }
    sim_port_set_noise(ls_port, 0, 0);
    assert_int_equal(sim_key_counter(ls_key, 0), 970);
    assert_true(link_.Stats.Retries > 0);
}

/* Long key times are slept through, short ones stalled. */
static void test_long_write_sleeps_short_echo_stalls(void **state)
{
    UCHAR p[2 + 64], mem[64];
    uint64_t a0;

    (void)state;
    up(LS_PS2, 1000, LS_KEY);
    ok(DL1_CMD_ECHO, "x", 1);
    assert_int_equal(ls_sleeps(), 0);
    put16(p, 8);                  /* bytes 8..71: pages 0..4, 25 ms */
    for (unsigned i = 0; i < 64; i++)
        p[2 + i] = (UCHAR)(i + 1);
    a0 = ls_accesses();
    ok(DL1_CMD_WRITE, p, sizeof p);
    assert_true(ls_slept_ns() >= SIM_MS(24));
    /* 73 bytes out, 7 back and the handshakes: no polling through the 25 ms. */
    assert_true(ls_accesses() - a0 < 1000);
    sim_key_read_eeprom(ls_key, 8, mem, 64);
    assert_memory_equal(mem, p + 2, 64);
}

/* Power lost inside the second page of a three-page WRITE: no journal entry, so
   the resend writes the same data again and the memory ends up whole. */
static void test_power_loss_in_page_write(void **state)
{
    UCHAR p[2 + 48], mem[48];

    (void)state;
    up(LS_SPP, 1000, LS_KEY);
    ok(DL1_CMD_GET_INFO, NULL, 0);
    put16(p, 512);
    for (unsigned i = 0; i < 48; i++)
        p[2 + i] = (UCHAR)(0x80 | i);
    inject(SIM_KEY_TRIGGER_IN_PAGE_WRITE, 2, SIM_MS(2), SIM_KEY_FAULT_POWER_LOSS, 0, SIM_MS(1));
    ok(DL1_CMD_WRITE, p, sizeof p);
    assert_true(resp_.Retries >= 1);
    sim_key_read_eeprom(ls_key, 512, mem, 48);
    assert_memory_equal(mem, p + 2, 48);
}

/* ------------------------------------------------------------- performance */

/* The floors of docs/LINK.md, "The floor": bench/floor.c computes them from DL1.md. */

static void echo512(ls_chip chip, unsigned access_ns, const char *name)
{
    static UCHAR p[512];
    bool byte_mode = chip != LS_SPP;
    uint64_t a0, t0, da, dt;
    floor_pair f;

    up(chip, access_ns, LS_KEY);
    for (unsigned i = 0; i < sizeof p; i++)
        p[i] = (UCHAR)(i * 13 + 5);
    ok(DL1_CMD_ECHO, p, 16);  /* session open, as between back-to-back requests */
    a0 = ls_accesses();
    t0 = ls_now_ns();
    ok(DL1_CMD_ECHO, p, sizeof p);
    da = ls_accesses() - a0;
    dt = ls_now_ns() - t0;
    assert_memory_equal(resp_.Payload, p, sizeof p);
    f = floor_echo(byte_mode ? FLOOR_BYTE : FLOOR_NIBBLE, sizeof p, access_ns,
                   (double)SIM_KEY_DEFAULT_ANSWER_NS);
    printf("LINK %-12s tIO=%4u ns  %s: accesses/byte %.3f (floor %.3f, x%.3f)  "
           "time/byte %.1f ns (floor %.1f, x%.3f)\n",
           name, access_ns, byte_mode ? "fwd+byte" : "fwd+nibble", da / 1038.0,
           f.accesses / 1038.0, da / f.accesses, dt / 1038.0, f.ns / 1038.0,
           dt / f.ns);
    if (access_ns >= 1000) {
        assert_true(da <= 1.05 * f.accesses);
        assert_true(dt <= 1.05 * f.ns);
    } else {
        assert_true(dt <= 1.10 * f.ns);
    }
    /* Never below the floor: the floor would be wrong. */
    assert_true(dt >= f.ns * 0.999);
}

static void test_perf_echo512_isa_byte(void **state)
{
    (void)state;
    echo512(LS_PS2, 1000, "isa-ps2");
}

static void test_perf_echo512_isa_nibble(void **state)
{
    (void)state;
    echo512(LS_SPP, 1000, "isa-spp");
}

static void test_perf_echo512_pcie_byte(void **state)
{
    (void)state;
    echo512(LS_ECP, 250, "pcie-ecp");
}

static void test_perf_echo512_pcie_nibble(void **state)
{
    (void)state;
    echo512(LS_SPP, 250, "pcie-spp");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc16_check_value),
        cmocka_unit_test_teardown(test_timing_isa, teardown),
        cmocka_unit_test_teardown(test_timing_pcie, teardown),
        cmocka_unit_test_teardown(test_timing_measured_despite_preemption, teardown),
        cmocka_unit_test_teardown(test_probe_key_ps2_byte_mode, teardown),
        cmocka_unit_test_teardown(test_probe_key_spp_nibble_mode, teardown),
        cmocka_unit_test_teardown(test_probe_key_ecp_sets_and_restores_ecr, teardown),
        cmocka_unit_test_teardown(test_probe_key_with_printer, teardown),
        cmocka_unit_test_teardown(test_probe_printer_no_key, teardown),
        cmocka_unit_test_teardown(test_probe_nothing_attached, teardown),
        cmocka_unit_test_teardown(test_probe_key_still_powering_up, teardown),
        cmocka_unit_test_teardown(test_probe_1284_printer_refusing_extensibility, teardown),
        cmocka_unit_test_teardown(test_key_refusing_link_bytes, teardown),
        cmocka_unit_test_teardown(test_commands_byte_mode_ps2, teardown),
        cmocka_unit_test_teardown(test_commands_nibble_mode_spp, teardown),
        cmocka_unit_test_teardown(test_commands_byte_mode_ecp_pcie, teardown),
        cmocka_unit_test_teardown(test_commands_nibble_mode_pcie, teardown),
        cmocka_unit_test_teardown(test_port_that_cannot_reverse_falls_back_to_nibble, teardown),
        cmocka_unit_test_teardown(test_bad_requests_rejected_before_the_wire, teardown),
        cmocka_unit_test_teardown(test_request_and_response_may_share_a_buffer, teardown),
        cmocka_unit_test_teardown(test_retry_after_bad_crc, teardown),
        cmocka_unit_test_teardown(test_retry_after_dropped_byte, teardown),
        cmocka_unit_test_teardown(test_frame_rejected_while_sending, teardown),
        cmocka_unit_test_teardown(test_retry_after_corrupted_response_crc, teardown),
        cmocka_unit_test_teardown(test_garbled_response_length_too_big, teardown),
        cmocka_unit_test_teardown(test_garbled_response_length_too_long, teardown),
        cmocka_unit_test_teardown(test_garbled_response_length_too_short, teardown),
        cmocka_unit_test_teardown(test_garbled_response_start, teardown),
        cmocka_unit_test_teardown(test_counter_dec_lost_response_decrements_once, teardown),
        cmocka_unit_test_teardown(test_counter_dec_power_loss_after_response_replays_journal,
                                  teardown),
        cmocka_unit_test_teardown(test_power_loss_mid_request, teardown),
        cmocka_unit_test_teardown(test_unknown_outcome_then_safe_resend, teardown),
        cmocka_unit_test_teardown(test_key_unplugged_mid_session, teardown),
        cmocka_unit_test_teardown(test_idle_timeout_reopens_session, teardown),
        cmocka_unit_test_teardown(test_session_lost_to_reset_is_reopened, teardown),
        cmocka_unit_test_teardown(test_reset_key, teardown),
        cmocka_unit_test_teardown(test_shutdown_parks_lines, teardown),
        cmocka_unit_test_teardown(test_read_status, teardown),
        cmocka_unit_test_teardown(test_stats_counts, teardown),
        cmocka_unit_test_teardown(test_slow_key_nibble_isa, teardown),
        cmocka_unit_test_teardown(test_key_turns_slow_mid_session, teardown),
        cmocka_unit_test_teardown(test_stuck_busy_is_a_timeout, teardown),
        cmocka_unit_test_teardown(test_missing_nack_is_a_timeout_not_no_key, teardown),
        cmocka_unit_test_teardown(test_noisy_status_lines, teardown),
        cmocka_unit_test_teardown(test_long_write_sleeps_short_echo_stalls, teardown),
        cmocka_unit_test_teardown(test_power_loss_in_page_write, teardown),
        cmocka_unit_test_teardown(test_perf_echo512_isa_byte, teardown),
        cmocka_unit_test_teardown(test_perf_echo512_isa_nibble, teardown),
        cmocka_unit_test_teardown(test_perf_echo512_pcie_byte, teardown),
        cmocka_unit_test_teardown(test_perf_echo512_pcie_nibble, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
