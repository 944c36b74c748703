/*
 * test_parport_arb.c - parport on nthost: the arbitration interface, seen by a
 * kernel-mode client (the PptTest driver, pptest.c) and the namespace, seen from
 * user mode. Machine: LPT1 ps2 (nothing), LPT2 ecp (nothing), LPT3 spp (printer).
 */
#include <windows.h>
#include <nthost/nthost.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct fixture {
    char dir[64];
    char machine[128];
    char reg[128];
    char taker_reg[128];
} fixture;

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));
    const char *regs[4];
    nthost_config cfg;
    const char *err;

    if (fx == NULL) {
        return -1;
    }
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/parport_arb.XXXXXX");
    if (mkdtemp(fx->dir) == NULL) {
        return -1;
    }
    snprintf(fx->machine, sizeof(fx->machine), "%s/machine.ini", fx->dir);
    write_file(fx->machine,
               "[LPT1]\nbase = 0x378\nirq = 7\nchip = ps2\nattach = none\n"
               "[LPT2]\nbase = 0x278\nirq = 5\nchip = ecp\nattach = none\n"
               "[LPT3]\nbase = 0x3BC\nchip = spp\nattach = printer\n");
    snprintf(fx->reg, sizeof(fx->reg), "%s/pptest.reg", fx->dir);
    write_file(fx->reg,
               "Windows Registry Editor Version 5.00\r\n\r\n"
               "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\PptTest]\r\n"
               "\"Type\"=dword:00000001\r\n\"Start\"=dword:00000003\r\n\"ErrorControl\"=dword:00000001\r\n"
               "\"ImagePath\"=\"System32\\\\drivers\\\\pptest.sys\"\r\n");
    snprintf(fx->taker_reg, sizeof(fx->taker_reg), "%s/linktaker.reg", fx->dir);
    write_file(fx->taker_reg,
               "Windows Registry Editor Version 5.00\r\n\r\n"
               "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\LinkTaker]\r\n"
               "\"Type\"=dword:00000001\r\n\"Start\"=dword:00000003\r\n\"ErrorControl\"=dword:00000001\r\n"
               "\"ImagePath\"=\"System32\\\\drivers\\\\linktaker.sys\"\r\n");
    regs[0] = PARPORT_REG;
    regs[1] = fx->reg;
    regs[2] = fx->taker_reg;
    regs[3] = NULL;
    memset(&cfg, 0, sizeof(cfg));
    cfg.machine = fx->machine;
    cfg.reg_files = regs;
    cfg.driver_dir = DRIVER_DIR;
    cfg.verifier = NTHOST_VERIFIER_ON;
    cfg.no_autostart = true;
    err = nthost_boot(&cfg);
    if (err != NULL) {
        fprintf(stderr, "nthost_boot: %s\n", err);
        return -1;
    }
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    char cmd[128];

    nthost_shutdown();
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "could not remove %s\n", fx->dir);
    }
    free(fx);
    return 0;
}

/* The step PptTest logged before failing, or 0. */
static unsigned failed_step(void)
{
    size_t i;
    for (i = 0; i < nthost_errlog_count(); i++) {
        nthost_errlog_entry e;
        if (nthost_errlog_get(i, &e) && strcmp(e.source, "PptTest") == 0) {
            return e.unique_error_value;
        }
    }
    return 0;
}

/* A kernel client sees DESIGN.md's arbitration: see pptest.c for the steps. */
static void test_kernel_client(void **state)
{
    unsigned err;

    (void)state;
    assert_int_equal(nthost_service_start("Parport"), 0);
    err = nthost_service_start("PptTest");
    if (err != 0) {
        fail_msg("PptTest failed (error %u) at step %u", err, failed_step());
    }
    assert_int_equal(nthost_service_stop("PptTest"), 0);
    assert_int_equal(nthost_service_stop("Parport"), 0);
}

/* Devices and LPTn links while parport runs; nothing left after it stops. */
static void test_namespace_and_unload(void **state)
{
    char *before, *running, *after;
    size_t pool = nthost_pool_outstanding();
    HANDLE h;

    (void)state;
    before = nthost_namespace_snapshot();
    assert_int_equal(nthost_service_start("Parport"), 0);
    running = nthost_namespace_snapshot();
    assert_non_null(strstr(running, "\\Device\\ParallelPort0 Device"));
    assert_non_null(strstr(running, "\\Device\\ParallelPort2 Device"));
    assert_null(strstr(running, "\\Device\\ParallelPort3"));
    assert_non_null(strstr(running, "LPT1 SymbolicLink -> \\Device\\ParallelPort0"));
    assert_non_null(strstr(running, "LPT3 SymbolicLink -> \\Device\\ParallelPort2"));
    h = CreateFileA("\\\\.\\LPT2", GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL);
    assert_true(h != INVALID_HANDLE_VALUE);
    CloseHandle(h);
    assert_int_equal(nthost_service_stop("Parport"), 0);
    after = nthost_namespace_snapshot();
    assert_string_equal(before, after);
    assert_int_equal(nthost_pool_outstanding(), pool);
    free(before);
    free(running);
    free(after);
}

/* A DOS name another driver took first stays that driver's, during and after. */
static void test_taken_dos_name(void **state)
{
    char *snap;
    HANDLE h;

    (void)state;
    assert_int_equal(nthost_service_start("LinkTaker"), 0);
    assert_int_equal(nthost_service_start("Parport"), 0);
    snap = nthost_namespace_snapshot();
    assert_non_null(strstr(snap, "LPT2 SymbolicLink -> \\Device\\LinkTaker"));
    assert_non_null(strstr(snap, "\\Device\\ParallelPort1 Device"));
    assert_non_null(strstr(snap, "LPT1 SymbolicLink -> \\Device\\ParallelPort0"));
    assert_non_null(strstr(snap, "LPT3 SymbolicLink -> \\Device\\ParallelPort2"));
    free(snap);
    h = CreateFileA("\\\\.\\LPT1", GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL);
    assert_true(h != INVALID_HANDLE_VALUE);
    CloseHandle(h);
    assert_int_equal(nthost_service_stop("Parport"), 0);
    snap = nthost_namespace_snapshot();
    assert_non_null(strstr(snap, "LPT2 SymbolicLink -> \\Device\\LinkTaker"));
    assert_null(strstr(snap, "LPT1 SymbolicLink"));
    free(snap);
    assert_int_equal(nthost_service_stop("LinkTaker"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_kernel_client, setup, teardown),
        cmocka_unit_test_setup_teardown(test_namespace_and_unload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_taken_dos_name, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
