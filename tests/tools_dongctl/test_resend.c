/*
 * test_resend.c — dongctl's own resend of a key-changing command whose outcome the
 * driver reports unknown (ERROR_RETRY), run in-process: tools/device.c's
 * port_transact against DongLpt on a booted nthost whose key loses power just as its
 * answer is ready. A failed DeviceIoControl copies nothing back, so only dongctl's own
 * txid makes the resend safe: the key answers it from its journal, and the counter
 * drops once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <nthost/nthost.h>
#include <sim/machine.h>

#include "dongctl.h"

#define KEY_SECRET "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"
#define COUNTER    2


static char dir[64];
static dong_port port;

/* Boot one PS/2 port with a key (its image in a fresh directory) and open LPT1. */
static int boot(void **state)
{
    static const char *const regs[] = { PARPORT_REG, DONGLPT_REG, NULL };
    char machine[128], path[128];
    nthost_config cfg;
    const char *err;
    FILE *f;

    (void)state;
    snprintf(dir, sizeof dir, "/tmp/dongctl-resend-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(machine, sizeof machine, "%s/machine.ini", dir);
    snprintf(path, sizeof path, "%s/lpt1.img", dir);
    f = fopen(machine, "w");
    assert_non_null(f);
    fprintf(f, "[LPT1]\nbase = 0x378\nirq = 7\nchip = ps2\nattach = key\nkey.image = %s\n"
               "key.serial = 444C310000000001\nkey.secret = " KEY_SECRET "\n", path);
    fclose(f);
    memset(&cfg, 0, sizeof cfg);
    cfg.machine = machine;
    cfg.reg_files = regs;
    cfg.time_mode = NTHOST_TIME_VIRTUAL;
    cfg.verifier = NTHOST_VERIFIER_ON;
    cfg.driver_dir = DRIVER_DIR;
    err = nthost_boot(&cfg);
    if (err)
        fail_msg("nthost_boot: %s", err);
    assert_true(port_open(1, true, &port));
    return 0;
}

static int shut(void **state)
{
    char cmd[128];

    (void)state;
    port_close(&port);
    nthost_shutdown();
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static void put32(UCHAR *p, ULONG v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (UCHAR)(v >> (8 * i));
}

static ULONG get32(const UCHAR *p)
{
    return p[0] | (ULONG)p[1] << 8 | (ULONG)p[2] << 16 | (ULONG)p[3] << 24;
}

/* The driver's count of TRANSACT requests served on the port, failed ones included. */
static ULONG requests(void)
{
    DONG_STATISTICS s;
    DWORD got = 0;

    assert_true(DeviceIoControl(port.handle, IOCTL_DONG_GET_STATS, NULL, 0, &s, sizeof s, &got, NULL));
    return s.Requests;
}

static void counter_set(ULONG value)
{
    UCHAR arg[5] = { COUNTER };
    DONG_TRANSACT_RESPONSE rsp;

    put32(arg + 1, value);
    assert_true(port_transact(&port, DL1_CMD_COUNTER_SET, arg, sizeof arg, &rsp));
    assert_int_equal(rsp.KeyStatus, DL1_STATUS_OK);
}

/* Arm the key to lose power (for `off` of machine time; 0 = until powered on) as the
   answer to the next command is ready: the command has run and been journaled. */
static sim_key *lose_power_after_next_answer(uint64_t off)
{
    sim_key *key = sim_machine_key(nthost_machine(), 0);
    sim_key_trigger when = { .kind = SIM_KEY_TRIGGER_AFTER_RESPONSES, .count = 1 };
    sim_key_fault loss = { .kind = SIM_KEY_FAULT_POWER_LOSS, .duration = off };

    assert_non_null(key);
    assert_int_equal(sim_key_inject(key, &when, &loss), 0);
    return key;
}

/* Every key-changing command carries a txid of dongctl's, random and never 0. */
static void changing_commands_carry_own_txid(void **state)
{
    UCHAR dec[5] = { COUNTER };
    DONG_TRANSACT_RESPONSE a, b;

    (void)state;
    counter_set(10);
    put32(dec + 1, 1);
    assert_true(port_transact(&port, DL1_CMD_COUNTER_DEC, dec, sizeof dec, &a));
    assert_true(port_transact(&port, DL1_CMD_COUNTER_DEC, dec, sizeof dec, &b));
    assert_int_not_equal(a.Txid, 0);
    assert_int_not_equal(b.Txid, 0);
    assert_int_not_equal(a.Txid, b.Txid);
    assert_int_equal(get32(b.Payload), 8);
    /* Room for the txid: a key-changing payload is 4 bytes shorter than a frame's. */
    static UCHAR big[DL1_MAX_PAYLOAD];
    assert_false(port_transact(&port, DL1_CMD_WRITE, big, DL1_MAX_PAYLOAD - DL1_TXID_SIZE + 1, &a));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
}

/* The driver gives up in doubt (the key is off for 300 ms); dongctl's resend with the
   same txid, after its pause, finds the key back and is answered from the journal. */
static void unknown_outcome_resent_once(void **state)
{
    UCHAR dec[5] = { COUNTER };
    DONG_TRANSACT_RESPONSE rsp;
    sim_key_stats before, after;
    ULONG served;

    (void)state;
    counter_set(100);
    sim_key *key = lose_power_after_next_answer(SIM_MS(300));
    sim_key_get_stats(key, &before);
    served = requests();
    put32(dec + 1, 7);
    assert_true(port_transact(&port, DL1_CMD_COUNTER_DEC, dec, sizeof dec, &rsp));
    sim_key_get_stats(key, &after);
    assert_int_equal(requests() - served, 2);   /* the driver's STATUS_RETRY, one resend */
    assert_int_equal(rsp.KeyStatus, DL1_STATUS_OK);
    assert_int_equal(get32(rsp.Payload), 93);
    assert_int_equal(after.commands_executed - before.commands_executed, 1);
    assert_int_equal(after.journal_replays - before.journal_replays, 1);
    assert_int_equal(sim_key_counter(key, COUNTER), 93);
}

/* The key stays off: after DONG_RESEND_MAX resends the outcome is still unknown, which
   dongctl reports as ERROR_RETRY (its own exit code). The first try had run. */
static void unknown_outcome_stays_unknown(void **state)
{
    UCHAR dec[5] = { COUNTER };
    DONG_TRANSACT_RESPONSE rsp;
    sim_key_trigger now = { .kind = SIM_KEY_TRIGGER_NOW };
    sim_key_fault on = { .kind = SIM_KEY_FAULT_POWER_ON };
    ULONG served;

    (void)state;
    counter_set(50);
    sim_key *key = lose_power_after_next_answer(0);
    served = requests();
    put32(dec + 1, 5);
    assert_false(port_transact(&port, DL1_CMD_COUNTER_DEC, dec, sizeof dec, &rsp));
    assert_int_equal(GetLastError(), ERROR_RETRY);
    assert_int_equal(win32_error_exit(ERROR_RETRY), DONG_EXIT_UNKNOWN);
    assert_non_null(strstr(win32_error_text(ERROR_RETRY), "OUTCOME UNKNOWN"));
    assert_int_equal(requests() - served, 1 + DONG_RESEND_MAX);
    assert_int_equal(sim_key_counter(key, COUNTER), 45);

    assert_int_equal(sim_key_inject(key, &now, &on), 0);
    Sleep(200);   /* past the key's NOT-READY after power-up */
    UCHAR idx = COUNTER;
    assert_true(port_transact(&port, DL1_CMD_COUNTER_READ, &idx, 1, &rsp));
    assert_int_equal(get32(rsp.Payload), 45);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(changing_commands_carry_own_txid, boot, shut),
        cmocka_unit_test_setup_teardown(unknown_outcome_resent_once, boot, shut),
        cmocka_unit_test_setup_teardown(unknown_outcome_stays_unknown, boot, shut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
