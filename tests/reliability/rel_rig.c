/*
 * rel_rig.c — boot, shutdown and Win32 helpers for the reliability suites
 * (rel_rig.h).
 */
#include "rel_rig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#define KEY_SECRET "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"

const char *const rig_mode_name[RIG_PORTS] = { "byte/PS2", "nibble/SPP", "byte/ECP001" };

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* make_machine - the three-port description of rel_rig.h, in r->dir. */
static void make_machine(rel_rig *r)
{
    static const char text[] =
        "[LPT1]\nbase = 0x378\nirq = 7\nchip = ps2\nattach = key+printer\n"
        "key.image = none\nkey.serial = 444C310000000011\nkey.secret = " KEY_SECRET "\n"
        "[LPT2]\nbase = 0x278\nirq = 5\nchip = spp\nattach = key+printer\n"
        "key.image = none\nkey.serial = 444C310000000012\nkey.secret = " KEY_SECRET "\n"
        "[LPT3]\nbase = 0x2B8\nchip = ecp\nattach = key+printer\n"
        "key.image = none\nkey.serial = 444C310000000013\nkey.secret = " KEY_SECRET "\n";

    snprintf(r->machine, sizeof r->machine, "%s/machine.ini", r->dir);
    write_text(r->machine, text);
}

void rig_boot(rel_rig *r, const char *extra_params, uint64_t preempt_seed)
{
    const char *regs[4] = { PARPORT_REG, DONGLPT_REG, NULL, NULL };
    nthost_config cfg;
    const char *err;

    memset(r, 0, sizeof *r);
    strcpy(r->dir, "/tmp/dongrel.XXXXXX");
    assert_non_null(mkdtemp(r->dir));
    setenv("DONGLPT_STATE_DIR", r->dir, 1);
    make_machine(r);
    if (extra_params) {
        char text[2048];
        snprintf(text, sizeof text,
                 "Windows Registry Editor Version 5.00\r\n\r\n"
                 "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\DongLpt\\Parameters]\r\n%s",
                 extra_params);
        snprintf(r->extra_reg, sizeof r->extra_reg, "%s/extra.reg", r->dir);
        write_text(r->extra_reg, text);
        regs[2] = r->extra_reg;
    }
    memset(&cfg, 0, sizeof cfg);
    cfg.machine = r->machine;
    cfg.reg_files = regs;
    cfg.time_mode = NTHOST_TIME_VIRTUAL;
    cfg.verifier = NTHOST_VERIFIER_ON;
    cfg.driver_dir = DRIVER_DIR;
    cfg.no_autostart = true;
    cfg.preempt_seed = preempt_seed;
    err = nthost_boot(&cfg);
    if (err)
        fail_msg("nthost_boot: %s", err);
    assert_int_equal(nthost_service_start("Parport"), 0);
    r->pool_before_dong = nthost_pool_outstanding();
    r->names_before_dong = nthost_namespace_snapshot();
    assert_non_null(r->names_before_dong);
    assert_int_equal(nthost_service_start("DongLpt"), 0);
}

void rig_shutdown(rel_rig *r)
{
    nthost_service_status st;
    char *names;

    assert_int_equal(nthost_service_query("DongLpt", &st), 0);
    if (st.state != NTHOST_SERVICE_STOPPED)
        assert_int_equal(nthost_service_stop("DongLpt"), 0);
    assert_int_equal(nthost_service_query("DongLpt", &st), 0);
    assert_int_equal(st.state, NTHOST_SERVICE_STOPPED);
    names = nthost_namespace_snapshot();
    assert_non_null(names);
    assert_string_equal(names, r->names_before_dong);
    assert_int_equal(nthost_pool_outstanding(), r->pool_before_dong);
    free(names);
    free(r->names_before_dong);
    nthost_shutdown();
    unlink(r->machine);
    if (r->extra_reg[0])
        unlink(r->extra_reg);
    rmdir(r->dir);
}

sim_key *rig_key(unsigned port)
{
    return sim_machine_key(nthost_machine(), port);
}

sim_printer *rig_printer(unsigned port)
{
    return sim_machine_printer(nthost_machine(), port);
}

sim_port *rig_port(unsigned port)
{
    return sim_machine_port(nthost_machine(), port);
}

sim_clock *rig_clock(void)
{
    return sim_machine_clock(nthost_machine());
}

HANDLE rig_open(unsigned port, DWORD access, DWORD flags)
{
    char name[32];

    snprintf(name, sizeof name, DONG_WIN32_NAME_FORMAT_A, port + 1);
    return CreateFileA(name, access, 0, NULL, OPEN_EXISTING, flags, NULL);
}

DWORD rig_transact(HANDLE h, UCHAR cmd, UCHAR flags, const void *payload, USHORT len,
                   DONG_TRANSACT_RESPONSE *resp)
{
    DONG_TRANSACT_REQUEST req;
    DWORD code = DL1_CMD_IS_READ_ONLY(cmd) ? IOCTL_DONG_TRANSACT_READ : IOCTL_DONG_TRANSACT_WRITE;
    DWORD got = 0;

    memset(&req, 0, sizeof req);
    req.Command = cmd;
    req.Flags = flags;
    req.Length = len;
    if (len)
        memcpy(req.Payload, payload, len);
    memset(resp, 0x5C, sizeof *resp);
    if (!DeviceIoControl(h, code, &req, DONG_TRANSACT_REQUEST_HEADER + len, resp, sizeof *resp,
                         &got, NULL)) {
        DWORD err = GetLastError();
        assert_true(got == 0);
        assert_true(err != 0);
        return err;
    }
    assert_true(resp->Length <= DL1_MAX_PAYLOAD);
    assert_int_equal(got, DONG_TRANSACT_RESPONSE_HEADER + resp->Length);
    return 0;
}

uint32_t rig_counter_read(HANDLE h, unsigned index)
{
    DONG_TRANSACT_RESPONSE resp;
    UCHAR idx = (UCHAR)index;
    DWORD err = rig_transact(h, DL1_CMD_COUNTER_READ, 0, &idx, 1, &resp);

    if (err)
        fail_msg("COUNTER_READ %u: error %lu", index, (unsigned long)err);
    assert_int_equal(resp.KeyStatus, DL1_STATUS_OK);
    assert_int_equal(resp.Length, 4);
    return rig_get32(resp.Payload);
}

void rig_put16(UCHAR *p, unsigned v)
{
    p[0] = (UCHAR)v;
    p[1] = (UCHAR)(v >> 8);
}

void rig_put32(UCHAR *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (UCHAR)(v >> (8 * i));
}

uint32_t rig_get32(const UCHAR *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t rig_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

unsigned long rig_param(const char *name, unsigned long def)
{
    const char *v = getenv(name);
    return v && *v ? strtoul(v, NULL, 0) : def;
}
