/*
 * test_access.c — access control of DongLpt (issue 6), with nthost's caller
 * identities (nthost_set_identity).
 *
 *  - The device carries NT's default descriptor for a named legacy device: a user may
 *    open it for read and write, not for everything (GENERIC_ALL is ACCESS_DENIED).
 *  - IOCTLs that change the key (WRITE, COUNTER_DEC, LOCK, SET_KEY, COUNTER_SET, and
 *    RESET, SET_TIMEOUTS) need a handle with write access: on a read-only handle they
 *    are refused by the I/O manager (TRANSACT_WRITE) or the driver (TRANSACT_READ
 *    with a key-changing command), and WriteFile is refused.
 *  - The key-programming commands (SET_KEY, COUNTER_SET, LOCK) need an administrator:
 *    a user's are ERROR_PRIVILEGE_NOT_HELD through TRANSACT and WriteFile alike, and
 *    from the threads the user creates.
 *  - Nothing refused reaches the key (its secret, counters, lock and EEPROM are
 *    inspected in the simulator).
 *  - The secret can be set but never read back: after SET_KEY every output any path
 *    gives — each read-only command, all of the EEPROM, the IOCTLs' structures, the
 *    SET_KEY answer itself and what ReadFile returns after it, the event log — is
 *    searched for any 8 bytes of it; and the key's CHALLENGE MAC proves it was set.
 * Printed: checks, refusals, failures.
 */
#include "rel_rig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/hmac.h>

typedef struct figures {
    unsigned checks, refusals, failures;
} figures;

static figures fg;

#define ACHECK(cond, ...)                                                            \
    do {                                                                             \
        fg.checks++;                                                                 \
        if (!(cond)) {                                                               \
            printf("FAIL line %d: ", __LINE__);                                      \
            printf(__VA_ARGS__);                                                     \
            printf("\n");                                                            \
            fg.failures++;                                                           \
        }                                                                            \
    } while (0)

/* transact_code - TRANSACT through an explicit code; 0 or the Win32 error. */
static DWORD transact_code(HANDLE h, DWORD code, UCHAR cmd, const void *payload, USHORT len,
                           DONG_TRANSACT_RESPONSE *resp)
{
    DONG_TRANSACT_REQUEST req;
    DWORD got = 0;

    memset(&req, 0, sizeof req);
    req.Command = cmd;
    req.Length = len;
    if (len)
        memcpy(req.Payload, payload, len);
    memset(resp, 0x5C, sizeof *resp);
    return DeviceIoControl(h, code, &req, DONG_TRANSACT_REQUEST_HEADER + len, resp, sizeof *resp,
                           &got, NULL) ? 0 : GetLastError();
}

static DWORD write_file(HANDLE h, UCHAR cmd, const void *payload, USHORT len)
{
    DONG_TRANSACT_REQUEST req;
    DWORD got = 0;

    memset(&req, 0, sizeof req);
    req.Command = cmd;
    req.Length = len;
    if (len)
        memcpy(req.Payload, payload, len);
    return WriteFile(h, &req, DONG_TRANSACT_REQUEST_HEADER + len, &got, NULL) ? 0 : GetLastError();
}

/* expect_refused - the call failed with err_want; counts a refusal. */
static void expect_refused(DWORD err, DWORD err_want, const char *what)
{
    ACHECK(err == err_want, "%s: error %lu, expected %lu", what, (unsigned long)err,
           (unsigned long)err_want);
    fg.refusals++;
}

typedef struct key_snapshot {
    UCHAR secret[SIM_KEY_SECRET_LEN];
    uint32_t counters[SIM_KEY_COUNTERS];
    UCHAR eeprom[SIM_KEY_MEM_SIZE];
    bool locked;
} key_snapshot;

static void snapshot(sim_key *k, key_snapshot *s)
{
    memset(s, 0, sizeof *s);   /* padding too: snapshots are compared whole */
    sim_key_secret(k, s->secret);
    for (unsigned i = 0; i < SIM_KEY_COUNTERS; i++)
        s->counters[i] = sim_key_counter(k, i);
    sim_key_read_eeprom(k, 0, s->eeprom, sizeof s->eeprom);
    s->locked = sim_key_locked(k);
}

static bool same_key(sim_key *k, const key_snapshot *before)
{
    key_snapshot now;
    snapshot(k, &now);
    return memcmp(&now, before, sizeof now) == 0;
}

static void test_open_rights(void **state)
{
    unsigned failures_before = fg.failures;
    HANDLE h;
    (void)state;

    nthost_set_identity(NTHOST_IDENTITY_USER);
    h = rig_open(0, GENERIC_ALL, 0);
    ACHECK(h == INVALID_HANDLE_VALUE && GetLastError() == ERROR_ACCESS_DENIED,
           "a user opened the device for GENERIC_ALL (error %lu)", (unsigned long)GetLastError());
    fg.refusals++;
    if (h != INVALID_HANDLE_VALUE)
        CloseHandle(h);
    h = rig_open(0, GENERIC_READ | GENERIC_WRITE, 0);
    ACHECK(h != INVALID_HANDLE_VALUE, "a user cannot open for read/write: %lu", (unsigned long)GetLastError());
    if (h != INVALID_HANDLE_VALUE)
        CloseHandle(h);
    nthost_set_identity(NTHOST_IDENTITY_ADMIN);
    h = rig_open(0, GENERIC_ALL, 0);
    ACHECK(h != INVALID_HANDLE_VALUE, "an administrator cannot open for GENERIC_ALL: %lu",
           (unsigned long)GetLastError());
    if (h != INVALID_HANDLE_VALUE)
        CloseHandle(h);
    assert_int_equal(fg.failures, failures_before);
}

/* A user's read/write handle: key-changing commands work, programming ones do not. */
static void test_user_rights(void **state)
{
    static const UCHAR key32[4 + 32] = { 0 };
    UCHAR counter_set[5] = { 2, 1, 0, 0, 0 };
    UCHAR dec[5] = { 2, 1, 0, 0, 0 };
    UCHAR write[2 + 4] = { 0x00, 0x04, 1, 2, 3, 4 };
    sim_key *k = rig_key(1);
    DONG_TRANSACT_RESPONSE resp;
    unsigned failures_before = fg.failures;
    key_snapshot before;
    HANDLE rw, ro;
    (void)state;

    /* An administrator gives counter 2 something to decrement. */
    rw = rig_open(1, GENERIC_READ | GENERIC_WRITE, 0);
    assert_true(rw != INVALID_HANDLE_VALUE);
    rig_put32(counter_set + 1, 100);
    ACHECK(rig_transact(rw, DL1_CMD_COUNTER_SET, 0, counter_set, 5, &resp) == 0 &&
               resp.KeyStatus == DL1_STATUS_OK, "admin COUNTER_SET failed");
    CloseHandle(rw);

    nthost_set_identity(NTHOST_IDENTITY_USER);
    rw = rig_open(1, GENERIC_READ | GENERIC_WRITE, 0);
    ro = rig_open(1, GENERIC_READ, 0);
    assert_true(rw != INVALID_HANDLE_VALUE && ro != INVALID_HANDLE_VALUE);

    ACHECK(rig_transact(rw, DL1_CMD_COUNTER_DEC, 0, dec, 5, &resp) == 0 &&
               resp.KeyStatus == DL1_STATUS_OK && sim_key_counter(k, 2) == 99,
           "a user's COUNTER_DEC on a read/write handle failed");
    ACHECK(rig_transact(rw, DL1_CMD_WRITE, 0, write, sizeof write, &resp) == 0 &&
               resp.KeyStatus == DL1_STATUS_OK, "a user's WRITE on a read/write handle failed");

    snapshot(k, &before);
    expect_refused(rig_transact(rw, DL1_CMD_SET_KEY, 0, key32, 32, &resp), ERROR_PRIVILEGE_NOT_HELD,
                   "user SET_KEY");
    expect_refused(rig_transact(rw, DL1_CMD_COUNTER_SET, 0, counter_set, 5, &resp),
                   ERROR_PRIVILEGE_NOT_HELD, "user COUNTER_SET");
    expect_refused(rig_transact(rw, DL1_CMD_LOCK, 0, NULL, 0, &resp), ERROR_PRIVILEGE_NOT_HELD,
                   "user LOCK");
    expect_refused(rig_transact(rw, DL1_CMD_SET_KEY, DONG_TRANSACT_CALLER_TXID, key32, sizeof key32,
                                &resp), ERROR_PRIVILEGE_NOT_HELD, "user SET_KEY with a txid");
    expect_refused(write_file(rw, DL1_CMD_SET_KEY, key32, 32), ERROR_PRIVILEGE_NOT_HELD,
                   "user WriteFile SET_KEY");
    expect_refused(write_file(rw, DL1_CMD_LOCK, NULL, 0), ERROR_PRIVILEGE_NOT_HELD,
                   "user WriteFile LOCK");

    /* Read-only handle: nothing that changes the key, whatever the code. */
    expect_refused(transact_code(ro, IOCTL_DONG_TRANSACT_WRITE, DL1_CMD_WRITE, write, sizeof write, &resp),
                   ERROR_ACCESS_DENIED, "TRANSACT_WRITE on a read-only handle");
    expect_refused(transact_code(ro, IOCTL_DONG_TRANSACT_READ, DL1_CMD_COUNTER_DEC, dec, 5, &resp),
                   ERROR_ACCESS_DENIED, "COUNTER_DEC through TRANSACT_READ");
    expect_refused(transact_code(ro, IOCTL_DONG_TRANSACT_READ, DL1_CMD_WRITE, write, sizeof write, &resp),
                   ERROR_ACCESS_DENIED, "WRITE through TRANSACT_READ");
    expect_refused(transact_code(ro, IOCTL_DONG_TRANSACT_READ, DL1_CMD_SET_KEY, key32, 32, &resp),
                   ERROR_ACCESS_DENIED, "SET_KEY through TRANSACT_READ");
    expect_refused(write_file(ro, DL1_CMD_ECHO, "x", 1), ERROR_ACCESS_DENIED, "WriteFile on a read-only handle");
    {
        DWORD got;
        DONG_TIMEOUTS t = { 35, 10, 3, 0 };
        expect_refused(DeviceIoControl(ro, IOCTL_DONG_RESET, NULL, 0, NULL, 0, &got, NULL) ? 0 : GetLastError(),
                       ERROR_ACCESS_DENIED, "RESET on a read-only handle");
        expect_refused(DeviceIoControl(ro, IOCTL_DONG_SET_TIMEOUTS, &t, sizeof t, NULL, 0, &got, NULL)
                           ? 0 : GetLastError(), ERROR_ACCESS_DENIED, "SET_TIMEOUTS on a read-only handle");
    }
    ACHECK(same_key(k, &before), "a refused request changed the key");
    ACHECK(rig_transact(ro, DL1_CMD_ECHO, 0, "ok", 2, &resp) == 0, "a read-only handle cannot ECHO");
    CloseHandle(rw);
    CloseHandle(ro);
    nthost_set_identity(NTHOST_IDENTITY_ADMIN);
    assert_int_equal(fg.failures, failures_before);
}

/* child_programs - a thread of the user's "process" tries to program the key. */
static DWORD WINAPI child_programs(LPVOID arg)
{
    static const UCHAR key32[32] = { 1 };
    DONG_TRANSACT_RESPONSE resp;
    DWORD *err = arg;
    HANDLE h = rig_open(1, GENERIC_READ | GENERIC_WRITE, 0);

    if (h == INVALID_HANDLE_VALUE) {
        *err = GetLastError();
        return 1;
    }
    *err = nthost_get_identity() == NTHOST_IDENTITY_USER
               ? rig_transact(h, DL1_CMD_SET_KEY, 0, key32, 32, &resp) : ERROR_INVALID_ACCESS;
    CloseHandle(h);
    return 0;
}

/* Threads a user creates are the user too (one process, one token). */
static void test_identity_inherited(void **state)
{
    unsigned failures_before = fg.failures;
    key_snapshot before;
    DWORD err = 0;
    HANDLE t;
    (void)state;

    snapshot(rig_key(1), &before);
    nthost_set_identity(NTHOST_IDENTITY_USER);
    t = CreateThread(NULL, 0, child_programs, &err, 0, NULL);
    assert_non_null(t);
    assert_int_equal(WaitForSingleObject(t, INFINITE), WAIT_OBJECT_0);
    CloseHandle(t);
    nthost_set_identity(NTHOST_IDENTITY_ADMIN);
    expect_refused(err, ERROR_PRIVILEGE_NOT_HELD, "SET_KEY from a user's thread");
    ACHECK(same_key(rig_key(1), &before), "the user's thread changed the key");
    assert_int_equal(fg.failures, failures_before);
}

/* contains_secret - any 8 consecutive bytes of the secret inside buf. */
static bool contains_secret(const void *buf, size_t len, const UCHAR *secret)
{
    const UCHAR *b = buf;
    for (size_t i = 0; i + 8 <= len; i++)
        for (unsigned s = 0; s + 8 <= SIM_KEY_SECRET_LEN; s++)
            if (memcmp(b + i, secret + s, 8) == 0)
                return true;
    return false;
}

static void test_secret_never_read(void **state)
{
    UCHAR secret[32], nonce[16], mac[32], msg[3 + 8 + 16], buf[1024], serial[8];
    unsigned maclen = 0;
    sim_key *k = rig_key(0);
    DONG_TRANSACT_RESPONSE resp;
    unsigned failures_before = fg.failures;
    DWORD got;
    HANDLE h;
    (void)state;

    for (unsigned i = 0; i < 32; i++)
        secret[i] = (UCHAR)(0xA0 ^ (i * 37 + 11));
    h = rig_open(0, GENERIC_READ | GENERIC_WRITE, 0);
    assert_true(h != INVALID_HANDLE_VALUE);

    /* Set it through TRANSACT; the whole answer buffer is searched, not just Information. */
    ACHECK(rig_transact(h, DL1_CMD_SET_KEY, 0, secret, 32, &resp) == 0 && resp.KeyStatus == DL1_STATUS_OK,
           "admin SET_KEY failed");
    ACHECK(!contains_secret(&resp, sizeof resp, secret), "the SET_KEY answer holds the secret");
    sim_key_secret(k, buf);
    ACHECK(memcmp(buf, secret, 32) == 0, "the key's secret is not the one set");
    /* And through WriteFile; ReadFile's answer must not hold it. */
    ACHECK(write_file(h, DL1_CMD_SET_KEY, secret, 32) == 0, "admin WriteFile SET_KEY failed");
    memset(buf, 0, sizeof buf);
    ACHECK(ReadFile(h, buf, sizeof buf, &got, NULL), "ReadFile after SET_KEY failed");
    ACHECK(!contains_secret(buf, sizeof buf, secret), "ReadFile returned the secret");

    /* Every read path. */
    for (unsigned cmd = 0; cmd <= 0x0F; cmd++) {
        UCHAR p[16] = { 0 };
        USHORT len = 0;
        if (!DL1_CMD_IS_READ_ONLY(cmd))
            continue;
        if (cmd == DL1_CMD_CHALLENGE)
            len = 16;
        if (cmd == DL1_CMD_COUNTER_READ)
            len = 1;
        if (cmd == DL1_CMD_ECHO)
            len = 8;
        if (cmd == DL1_CMD_READ) {
            for (unsigned a = 0; a < DL1_MEMORY_SIZE; a += 512) {
                rig_put16(p, a);
                rig_put16(p + 2, 512);
                ACHECK(rig_transact(h, DL1_CMD_READ, 0, p, 4, &resp) == 0, "READ 0x%x failed", a);
                ACHECK(!contains_secret(&resp, sizeof resp, secret), "READ 0x%x returned the secret", a);
            }
            continue;
        }
        ACHECK(rig_transact(h, (UCHAR)cmd, 0, p, len, &resp) == 0, "command 0x%02x failed", cmd);
        ACHECK(!contains_secret(&resp, sizeof resp, secret), "command 0x%02x returned the secret", cmd);
    }
    {
        static const DWORD codes[] = { IOCTL_DONG_GET_INFO, IOCTL_DONG_GET_STATUS, IOCTL_DONG_GET_TIMEOUTS,
                                       IOCTL_DONG_GET_STATS };
        for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
            memset(buf, 0, sizeof buf);
            ACHECK(DeviceIoControl(h, codes[i], NULL, 0, buf, sizeof buf, &got, NULL),
                   "IOCTL 0x%08lx failed", (unsigned long)codes[i]);
            ACHECK(!contains_secret(buf, sizeof buf, secret), "IOCTL 0x%08lx returned the secret",
                   (unsigned long)codes[i]);
        }
    }
    for (size_t i = 0; i < nthost_errlog_count(); i++) {
        nthost_errlog_entry e;
        char *text = nthost_errlog_format(i);
        ACHECK(nthost_errlog_get(i, &e), "event %zu unreadable", i);
        ACHECK(!e.dump_size || !contains_secret(e.dump_data, e.dump_size, secret), "event %zu dump", i);
        for (size_t s = 0; s < e.nstrings; s++)
            ACHECK(!contains_secret(e.strings[s], strlen(e.strings[s]), secret), "event %zu string", i);
        ACHECK(!text || !contains_secret(text, strlen(text), secret), "event %zu text", i);
        free(text);
    }

    /* It was set: the key's MAC over a nonce is the one the secret gives. */
    for (unsigned i = 0; i < 16; i++)
        nonce[i] = (UCHAR)(i * 7 + 1);
    ACHECK(rig_transact(h, DL1_CMD_CHALLENGE, 0, nonce, 16, &resp) == 0 && resp.Length == 16,
           "CHALLENGE failed");
    sim_key_serial(k, serial);
    memcpy(msg, "DL1", 3);
    memcpy(msg + 3, serial, 8);
    memcpy(msg + 11, nonce, 16);
    HMAC(EVP_sha256(), secret, 32, msg, sizeof msg, mac, &maclen);
    ACHECK(maclen == 32 && memcmp(resp.Payload, mac, 16) == 0, "the MAC is not the new secret's");

    /* After LOCK even an administrator cannot program the key again. */
    ACHECK(rig_transact(h, DL1_CMD_LOCK, 0, NULL, 0, &resp) == 0 && resp.KeyStatus == DL1_STATUS_OK,
           "admin LOCK failed");
    ACHECK(rig_transact(h, DL1_CMD_SET_KEY, 0, secret, 32, &resp) == 0 &&
               resp.KeyStatus == DL1_STATUS_PROTECTED, "SET_KEY on a locked key: status 0x%02x",
           resp.KeyStatus);
    CloseHandle(h);
    assert_int_equal(fg.failures, failures_before);
}

static int setup(void **state)
{
    static rel_rig rig;
    rig_boot(&rig, "\"ErrorLogLevel\"=dword:00000003\r\n", 0);
    *state = &rig;
    return 0;
}

static int teardown(void **state)
{
    nthost_set_identity(NTHOST_IDENTITY_ADMIN);
    rig_shutdown(*state);
    printf("access control: %u checks, %u refusals as documented, %u failures\n", fg.checks,
           fg.refusals, fg.failures);
    return fg.failures ? -1 : 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_rights),
        cmocka_unit_test(test_user_rights),
        cmocka_unit_test(test_identity_inherited),
        cmocka_unit_test(test_secret_never_read),
    };
    return cmocka_run_group_tests_name("reliability_access", tests, setup, teardown);
}
