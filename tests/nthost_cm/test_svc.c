/*
 * test_svc.c — the service manager with real driver modules (svc_test_drv.c built
 * several ways): boot start in group order, demand start/stop, DriverUnload and the
 * namespace/pool left exactly as before, drivers that cannot be stopped, start
 * failures (missing image, disabled, failing DriverEntry, group dependency) and their
 * event-log entries, IoWriteErrorLogEntry rendered with the driver's .mc text, and
 * the verifier's unload bug checks (in forked children).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <ntddk.h>

#include "cm_internal.h"
#include "nthost/nthost.h"

#define SERVICES "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\"

static const char services_reg[] =
    "Windows Registry Editor Version 5.00\r\n\r\n"
    "[HKEY_LOCAL_MACHINE\\SOFTWARE\\SvcTest]\r\n"
    SERVICES "SvcExt]\r\n\"Type\"=dword:1\r\n\"Start\"=dword:2\r\n\"ErrorControl\"=dword:1\r\n"
    "\"Group\"=\"Extended Base\"\r\n\"ImagePath\"=\"System32\\\\drivers\\\\SvcExt.sys\"\r\n"
    SERVICES "SvcArb]\r\n\"Type\"=dword:1\r\n\"Start\"=dword:2\r\n\"ErrorControl\"=dword:1\r\n"
    "\"Group\"=\"Parallel arbitrator\"\r\n\"ImagePath\"=\"\\\\SystemRoot\\\\System32\\\\drivers\\\\SvcArb.sys\"\r\n"
    /* ImagePath as REG_EXPAND_SZ "%SystemRoot%\drivers\SvcPlain.sys" */
    SERVICES "SvcPlain]\r\n\"Type\"=dword:1\r\n\"Start\"=dword:2\r\n"
    "\"ImagePath\"=hex(2):25,00,53,00,79,00,73,00,74,00,65,00,6d,00,52,00,6f,00,6f,00,74,00,25,00,5c,00,64,00,\\\r\n"
    "  72,00,69,00,76,00,65,00,72,00,73,00,5c,00,53,00,76,00,63,00,50,00,6c,00,61,00,69,00,6e,00,2e,00,73,00,\\\r\n"
    "  79,00,73,00,00,00\r\n"
    /* Windows file names ignore case: SVCNOUNLOAD.SYS is SvcNoUnload.so. */
    /* Start 1 (system): started before every Start 2 service, whatever the groups. */
    SERVICES "SvcBoot]\r\n\"Type\"=dword:1\r\n\"Start\"=dword:1\r\n"
    SERVICES "SvcUndef]\r\n\"Type\"=dword:1\r\n\"Start\"=dword:3\r\n"
    SERVICES "SvcNoEntry]\r\n\"Type\"=dword:1\r\n\"Start\"=dword:3\r\n"
    SERVICES "SvcGarbage]\r\n\"Type\"=dword:1\r\n\"Start\"=dword:3\r\n"
    SERVICES "SvcWin32]\r\n\"Type\"=dword:10\r\n\"Start\"=dword:3\r\n"
    SERVICES "SvcNoUnload]\r\n\"Type\"=dword:1\r\n\"Start\"=dword:3\r\n"
    "\"ImagePath\"=\"system32\\\\DRIVERS\\\\SVCNOUNLOAD.SYS\"\r\n"
    SERVICES "SvcFail]\r\n\"Type\"=dword:1\r\n\"Start\"=dword:3\r\n\"ErrorControl\"=dword:1\r\n"
    SERVICES "SvcLeak]\r\n\"Type\"=dword:1\r\n\"Start\"=dword:3\r\n"
    SERVICES "SvcTimer]\r\n\"Type\"=dword:1\r\n\"Start\"=dword:3\r\n"
    SERVICES "SvcElog]\r\n\"Type\"=dword:1\r\n\"Start\"=dword:3\r\n"
    SERVICES "SvcThread]\r\n\"Type\"=dword:1\r\n\"Start\"=dword:3\r\n"
    SERVICES "SvcLink]\r\n\"Type\"=dword:1\r\n\"Start\"=dword:3\r\n"
    SERVICES "SvcDevice]\r\n\"Type\"=dword:1\r\n\"Start\"=dword:3\r\n"
    SERVICES "SvcMissing]\r\n\"Type\"=dword:1\r\n\"Start\"=dword:3\r\n\"ErrorControl\"=dword:1\r\n"
    "\"ImagePath\"=\"System32\\\\drivers\\\\nothere.sys\"\r\n"
    SERVICES "SvcDisabled]\r\n\"Type\"=dword:1\r\n\"Start\"=dword:4\r\n"
    SERVICES "SvcDepends]\r\n\"Type\"=dword:1\r\n\"Start\"=dword:3\r\n"
    "\"DependOnGroup\"=hex(7):4e,00,6f,00,47,00,72,00,6f,00,75,00,70,00,00,00,00,00\r\n"
    /* The message file is found beside the driver whatever the case (SvcElog.mc). */
    SERVICES "EventLog\\System\\SvcElog]\r\n"
    "\"EventMessageFile\"=\"%SystemRoot%\\\\System32\\\\IoLogMsg.dll;%SystemRoot%\\\\System32\\\\drivers\\\\svcelog.sys\"\r\n";

/* Win32 codes the SCM answers with. */
#define W_FILE_NOT_FOUND 2u
#define W_INVALID_PARAMETER 87u
#define W_INVALID_SERVICE_CONTROL 1052u
#define W_SERVICE_ALREADY_RUNNING 1056u
#define W_SERVICE_DISABLED 1058u
#define W_SERVICE_DOES_NOT_EXIST 1060u
#define W_SERVICE_NOT_ACTIVE 1062u
#define W_SERVICE_DEPENDENCY_FAIL 1068u

static char reg_path[64];

static size_t wlen(const WCHAR *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

static const char *write_reg(void)
{
    snprintf(reg_path, sizeof(reg_path), "/tmp/cm_svc_XXXXXX");
    int fd = mkstemp(reg_path);
    if (fd < 0)
        return NULL;
    ssize_t n = write(fd, services_reg, strlen(services_reg));
    close(fd);
    return n == (ssize_t)strlen(services_reg) ? reg_path : NULL;
}

static const char *boot_with(bool autostart)
{
    const char *files[] = { write_reg(), NULL };
    /* The test's driver directory (NTHOST_DRIVER_DIR, set by ctest, takes precedence). */
    nthost_config cfg = { .reg_files = files, .no_autostart = !autostart, .driver_dir = CM_TEST_DRIVERS,
                          .verifier = NTHOST_VERIFIER_ON };   /* the unload checks, in free builds too */
    return files[0] ? nthost_boot(&cfg) : "cannot write the .reg file";
}

static int boot_autostart(void **state)
{
    (void)state;
    const char *err = boot_with(true);
    if (err)
        fprintf(stderr, "boot: %s\n", err);
    return err ? -1 : 0;
}

static int shutdown_host(void **state)
{
    (void)state;
    nthost_shutdown();
    unlink(reg_path);
    return 0;
}

/* A reported string value (UTF-8, malloc'ed) from HKLM\SOFTWARE\SvcTest. */
static char *report_string(const char *name)
{
    UNICODE_STRING s = { 0 };
    WCHAR wname[64];
    size_t i = 0;
    for (; name[i] && i < 63; i++)
        wname[i] = (WCHAR)name[i];
    wname[i] = 0;
    RTL_QUERY_REGISTRY_TABLE t[] = {
        { NULL, RTL_QUERY_REGISTRY_DIRECT, wname, &s, REG_NONE, NULL, 0 },
        { NULL, 0, NULL, NULL, 0, NULL, 0 },
    };
    if (!NT_SUCCESS(RtlQueryRegistryValues(RTL_REGISTRY_ABSOLUTE, L"\\Registry\\Machine\\Software\\SvcTest", t, NULL,
                                           NULL)) || !s.Buffer)
        return NULL;
    char *out = cm_utf16_to_utf8((const uint16_t *)s.Buffer, s.Length / 2);
    ExFreePool(s.Buffer);
    return out;
}

static ULONG report_dword(const char *name)
{
    ULONG v = 0xFFFFFFFF;
    WCHAR wname[64];
    size_t i = 0;
    for (; name[i] && i < 63; i++)
        wname[i] = (WCHAR)name[i];
    wname[i] = 0;
    RTL_QUERY_REGISTRY_TABLE t[] = {
        { NULL, RTL_QUERY_REGISTRY_DIRECT, wname, &v, REG_NONE, NULL, 0 },
        { NULL, 0, NULL, NULL, 0, NULL, 0 },
    };
    RtlQueryRegistryValues(RTL_REGISTRY_ABSOLUTE, L"\\Registry\\Machine\\Software\\SvcTest", t, NULL, NULL);
    return v;
}

/* nthost_service_list callback: count running services, remember one state. */
static void count_running(const char *name, const nthost_service_status *st, void *ctx)
{
    int *running = ctx;
    if (st->state == NTHOST_SERVICE_RUNNING)
        (*running)++;
    if (!strcmp(name, "SvcDisabled"))
        assert_int_equal(st->start, 4);
}

static void boot_starts_in_group_order(void **state)
{
    (void)state;
    char *order = report_string("Order");
    assert_non_null(order);
    /* Start 1 first; then Parallel arbitrator, Extended Base, and the ungrouped one. */
    assert_string_equal(order, "SvcBoot;SvcArb;SvcExt;SvcPlain;");
    free(order);
    char *path = report_string("SvcArbPath");
    assert_non_null(path);
    assert_string_equal(path, "\\Registry\\Machine\\System\\CurrentControlSet\\Services\\SvcArb");
    free(path);
    /* DriverEntry runs at PASSIVE_LEVEL in a system thread, not in the booting one. */
    assert_int_equal(report_dword("SvcArbIrql"), PASSIVE_LEVEL);
    assert_int_equal(report_dword("SvcArbSystemThread"), 1);
        /* DO_DEVICE_INITIALIZING is set during DriverEntry and cleared after it. */
    assert_int_equal(report_dword("SvcArbInit"), 1);
    UNICODE_STRING name;
    RtlInitUnicodeString(&name, L"\\Device\\SvcArb");
    PFILE_OBJECT file;
    PDEVICE_OBJECT dev;
    assert_int_equal(IoGetDeviceObjectPointer(&name, FILE_READ_DATA, &file, &dev), STATUS_SUCCESS);
    assert_int_equal(dev->Flags & DO_DEVICE_INITIALIZING, 0);
    ObDereferenceObject(file);

    nthost_service_status st;
    assert_int_equal(nthost_service_query("svcarb", &st), 0);
    assert_int_equal(st.state, NTHOST_SERVICE_RUNNING);
    assert_string_equal(st.group, "Parallel arbitrator");
    assert_true(st.can_stop);
    assert_int_equal(nthost_service_query("SvcNoUnload", &st), 0);
    assert_int_equal(st.state, NTHOST_SERVICE_STOPPED);         /* demand start */
    assert_int_equal(nthost_service_query("Nope", &st), W_SERVICE_DOES_NOT_EXIST);
    /* Every driver service is listed (the EventLog key, without a Type, is not). */
    int running = 0;
    assert_int_equal(nthost_service_list(count_running, &running), 18);   /* SvcWin32 is no driver */
    assert_int_equal(running, 4);

    /* The default ServiceGroupOrder was installed: arbitrator before Extended Base. */
    UNICODE_STRING list = { 0 };
    RTL_QUERY_REGISTRY_TABLE t[] = {
        { NULL, RTL_QUERY_REGISTRY_DIRECT | RTL_QUERY_REGISTRY_NOEXPAND, L"List", &list, REG_NONE, NULL, 0 },
        { NULL, 0, NULL, NULL, 0, NULL, 0 },
    };
    assert_int_equal(RtlQueryRegistryValues(RTL_REGISTRY_CONTROL, L"ServiceGroupOrder", t, NULL, NULL),
                     STATUS_SUCCESS);
    int arb = -1, ext = -1, idx = 0;
    for (const WCHAR *g = list.Buffer; *g; g += wlen(g) + 1, idx++) {
        char *s = cm_utf16_to_utf8((const uint16_t *)g, (uint32_t)wlen(g));
        if (!strcmp(s, "Parallel arbitrator"))
            arb = idx;
        if (!strcmp(s, "Extended Base"))
            ext = idx;
        free(s);
    }
    ExFreePool(list.Buffer);
    assert_true(arb >= 0 && ext > arb);
}

static void demand_start_stop(void **state)
{
    (void)state;
    assert_int_equal(nthost_service_start("SvcNoUnload"), 0);
    assert_int_equal(nthost_service_start("SvcNoUnload"), W_SERVICE_ALREADY_RUNNING);
    /* No DriverUnload: NT's SCM cannot stop it either, and it keeps running. */
    assert_int_equal(nthost_service_stop("SvcNoUnload"), W_INVALID_SERVICE_CONTROL);
    nthost_service_status st;
    assert_int_equal(nthost_service_query("SvcNoUnload", &st), 0);
    assert_int_equal(st.state, NTHOST_SERVICE_RUNNING);
    assert_false(st.can_stop);
    size_t ilen = strlen(st.image);                     /* found whatever the case */
    assert_true(ilen > 15 && !strcmp(st.image + ilen - 15, "/SvcNoUnload.so"));

    assert_int_equal(nthost_service_stop("SvcArb"), 0);
    assert_int_equal(report_dword("SvcArbUnloaded"), 1);
    assert_int_equal(nthost_service_stop("SvcArb"), W_SERVICE_NOT_ACTIVE);
    assert_int_equal(nthost_service_query("SvcArb", &st), 0);
    assert_int_equal(st.state, NTHOST_SERVICE_STOPPED);
    char *snap = nthost_namespace_snapshot();
    assert_null(strstr(snap, "\\Device\\SvcArb"));
    assert_null(strstr(snap, "\\Driver\\SvcArb"));
    free(snap);
    /* A stopped driver starts again: a fresh load and DriverEntry. */
    assert_int_equal(nthost_service_start("SvcArb"), 0);
    char *order = report_string("Order");
    assert_string_equal(order, "SvcBoot;SvcArb;SvcExt;SvcPlain;SvcNoUnload;SvcArb;");
    free(order);
    assert_int_equal(nthost_service_stop("SvcArb"), 0);
    char *after = nthost_namespace_snapshot();
    assert_non_null(strstr(after, "\\Driver\\SvcNoUnload"));   /* still loaded */
    free(after);
}

/* NT's rule for a legacy driver stopped while a handle is open: the stop succeeds
 * at once, new opens fail, and DriverUnload runs when the last handle closes. */
static void stop_with_open_handle(void **state)
{
    (void)state;
    UNICODE_STRING name;
    RtlInitUnicodeString(&name, L"\\Device\\SvcArb");
    PFILE_OBJECT file, other;
    PDEVICE_OBJECT dev;
    assert_int_equal(IoGetDeviceObjectPointer(&name, FILE_READ_DATA, &file, &dev), STATUS_SUCCESS);
    assert_int_equal(nthost_service_stop("SvcArb"), 0);
    nthost_service_status st;
    assert_int_equal(nthost_service_query("SvcArb", &st), 0);
    assert_int_equal(st.state, NTHOST_SERVICE_STOP_PENDING);
    assert_int_equal(report_dword("SvcArbUnloaded"), 0xFFFFFFFF);        /* not yet */
    assert_int_equal(IoGetDeviceObjectPointer(&name, FILE_READ_DATA, &other, &dev), STATUS_NO_SUCH_DEVICE);
    assert_int_equal(nthost_service_stop("SvcArb"), 1061u);              /* ERROR_SERVICE_CANNOT_ACCEPT_CTRL */
    assert_int_equal(nthost_service_start("SvcArb"), W_SERVICE_ALREADY_RUNNING);
    ObDereferenceObject(file);                                          /* the last handle goes */
    assert_int_equal(report_dword("SvcArbUnloaded"), 1);
    assert_int_equal(nthost_service_query("SvcArb", &st), 0);
    assert_int_equal(st.state, NTHOST_SERVICE_STOPPED);
    char *snap = nthost_namespace_snapshot();
    assert_null(strstr(snap, "SvcArb"));
    free(snap);
}

static void namespace_and_pool_restored(void **state)
{
    (void)state;
    char *before = nthost_namespace_snapshot();
    size_t pool_before = nthost_pool_outstanding();
    assert_int_equal(nthost_service_start("SvcElog"), 0);
    char *during = nthost_namespace_snapshot();
    assert_non_null(strstr(during, "\\Device\\SvcElog"));
    assert_int_equal(nthost_service_stop("SvcElog"), 0);
    char *after = nthost_namespace_snapshot();
    assert_string_equal(before, after);
    assert_int_equal(nthost_pool_outstanding(), pool_before);
    free(before);
    free(during);
    free(after);
}

/* The newest event-log entry of a source, or -1. */
static long last_entry_of(const char *source)
{
    long found = -1;
    nthost_errlog_entry e;
    for (size_t i = 0; nthost_errlog_get(i, &e); i++)
        if (!strcmp(e.source, source))
            found = (long)i;
    return found;
}

static void start_failures(void **state)
{
    (void)state;
    assert_int_equal(nthost_service_start("NoSuchService"), W_SERVICE_DOES_NOT_EXIST);
    assert_int_equal(nthost_service_stop("NoSuchService"), W_SERVICE_DOES_NOT_EXIST);
    assert_int_equal(nthost_service_start("SvcDisabled"), W_SERVICE_DISABLED);
    assert_int_equal(nthost_service_start("SvcDepends"), W_SERVICE_DEPENDENCY_FAIL);

    /* Images NT would refuse: an unresolved import (STATUS_DRIVER_ENTRYPOINT_NOT_FOUND),
     * no entry point or not an image at all (STATUS_INVALID_IMAGE_FORMAT). */
    assert_int_equal(nthost_service_start("SvcUndef"), 127u);            /* ERROR_PROC_NOT_FOUND */
    assert_int_equal(nthost_service_start("SvcNoEntry"), 193u);          /* ERROR_BAD_EXE_FORMAT */
    assert_int_equal(nthost_service_start("SvcGarbage"), 193u);
    assert_int_equal(nthost_service_start("SvcWin32"), 50u);             /* ERROR_NOT_SUPPORTED */
    char *snap = nthost_namespace_snapshot();
    assert_null(strstr(snap, "SvcUndef"));
    assert_null(strstr(snap, "SvcNoEntry"));
    free(snap);
    size_t before = nthost_errlog_count();
    assert_int_equal(nthost_service_start("SvcMissing"), W_FILE_NOT_FOUND);
    assert_int_equal(nthost_errlog_count(), before + 1);
    nthost_errlog_entry e;
    assert_true(nthost_errlog_get(before, &e));
    assert_string_equal(e.source, "Service Control Manager");
    assert_int_equal(e.error_code, 0xC0001B58u);            /* event 7000 */
    assert_int_equal(e.severity, 3);
    assert_int_equal(e.nstrings, 2);
    assert_string_equal(e.strings[0], "SvcMissing");
    char *text = nthost_errlog_format(before);
    assert_non_null(text);
    static const char head[] = "The SvcMissing service failed to start due to the following error: \n";
    assert_int_equal(strncmp(text, head, strlen(head)), 0);
    assert_non_null(strstr(text, "nothere.so"));
    free(text);

    /* A failing DriverEntry: the Win32 code of its status, nothing left behind. */
    char *ns_before = nthost_namespace_snapshot();
    assert_int_equal(nthost_service_start("SvcFail"), W_INVALID_PARAMETER);
    nthost_service_status st;
    assert_int_equal(nthost_service_query("SvcFail", &st), 0);
    assert_int_equal(st.state, NTHOST_SERVICE_STOPPED);
    assert_int_equal(st.win32_exit_code, W_INVALID_PARAMETER);
    assert_int_equal(st.driver_status, (uint32_t)STATUS_DEVICE_CONFIGURATION_ERROR);
    char *ns_after = nthost_namespace_snapshot();
    assert_string_equal(ns_before, ns_after);
    free(ns_before);
    free(ns_after);
    long i = last_entry_of("Service Control Manager");
    assert_true(i >= 0);
    assert_true(nthost_errlog_get((size_t)i, &e));
    assert_string_equal(e.strings[0], "SvcFail");
    assert_non_null(strstr(e.strings[1], "0xC0000182"));
}

static void error_log_entry(void **state)
{
    (void)state;
    char logfile[64];
    snprintf(logfile, sizeof(logfile), "/tmp/cm_evlog_XXXXXX");
    int fd = mkstemp(logfile);
    assert_true(fd >= 0);
    close(fd);
    setenv("NTHOST_EVENTLOG_FILE", logfile, 1);
    size_t before = nthost_errlog_count();
    assert_int_equal(nthost_service_start("SvcElog"), 0);
    unsetenv("NTHOST_EVENTLOG_FILE");
    /* The persisted line: time, source, code, severity, status, unique value, text. */
    FILE *f = fopen(logfile, "r");
    assert_non_null(f);
    char line[512] = "";
    assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    unlink(logfile);
    assert_non_null(strstr(line, " SvcElog 0xC0040001 error status=0xC00000B5 unique=77 "
                                 "The device \\Device\\SvcElog did not answer within 500 ms.\n"));
    assert_int_equal(report_dword("SvcElogTooBigIsNull"), 1);
    assert_int_equal(report_dword("SvcElogZeroed"), 1);
    assert_int_equal(nthost_errlog_count(), before + 1);
    nthost_errlog_entry e;
    assert_true(nthost_errlog_get(before, &e));
    assert_string_equal(e.source, "SvcElog");
    assert_int_equal(e.error_code, 0xC0040001u);
    assert_int_equal(e.severity, 3);
    assert_int_equal(e.final_status, (uint32_t)STATUS_IO_TIMEOUT);
    assert_int_equal(e.unique_error_value, 77);
    assert_int_equal(e.major_function, IRP_MJ_WRITE);
    assert_int_equal(e.sequence_number, 3);
    assert_int_equal(e.dump_size, 4);
    assert_int_equal(*(const uint32_t *)e.dump_data, 0xDEADBEEF);
    assert_int_equal(e.nstrings, 2);
    assert_string_equal(e.strings[0], "\\Device\\SvcElog");
    assert_string_equal(e.strings[1], "500");
    assert_true(e.system_time > 0);
    char *text = nthost_errlog_format(before);
    assert_non_null(text);
    assert_string_equal(text, "The device \\Device\\SvcElog did not answer within 500 ms.");
    free(text);
    assert_null(nthost_errlog_format(nthost_errlog_count()));
    assert_int_equal(nthost_service_stop("SvcElog"), 0);
}

/* ------------------------------------------------ unload bug checks (forked) ---- */

/* Boot in a child, start and stop `service`; returns the bugcheck report. */
static char *stop_in_child(const char *service, int *exit_status)
{
    char report[64];
    snprintf(report, sizeof(report), "/tmp/cm_bugcheck_XXXXXX");
    int fd = mkstemp(report);
    assert_true(fd >= 0);
    close(fd);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("NTHOST_BUGCHECK_FILE", report, 1);
        if (boot_with(false))
            _exit(2);
        if (nthost_service_start(service))
            _exit(3);
        nthost_service_stop(service);
        _exit(0);                           /* no bug check: the test fails on the status */
    }
    int status;
    waitpid(pid, &status, 0);
    *exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    FILE *f = fopen(report, "r");
    char *text = calloc(1, 4096);
    if (f) {
        size_t n = fread(text, 1, 4095, f);
        text[n] = 0;
        fclose(f);
    }
    unlink(report);
    unlink(reg_path);
    return text;
}

static void leaked_pool_bugchecks_at_stop(void **state)
{
    (void)state;
    int status;
    char *report = stop_in_child("SvcLeak", &status);
    assert_int_equal(status, NTHOST_BUGCHECK_EXIT);
    if (!strstr(report, "*** STOP: 0x000000C4 (0x0000000000000062"))
        fail_msg("unexpected report:\n%s", report);
    assert_non_null(strstr(report, "SvcLeak"));
    free(report);
}

static void live_timer_bugchecks_at_stop(void **state)
{
    (void)state;
    int status;
    char *report = stop_in_child("SvcTimer", &status);
    assert_int_equal(status, NTHOST_BUGCHECK_EXIT);
    /* A timer still set in the unloading image: 0xC7 (found while unloading) or 0xCE
     * (pending operation not cancelled), both NT's names for this mistake. */
    if (!strstr(report, "*** STOP: 0x000000C7") && !strstr(report, "*** STOP: 0x000000CE"))
        fail_msg("unexpected report:\n%s", report);
    assert_non_null(strstr(report, "SvcTimer"));
    free(report);
}

/* Threads, links and devices left behind: DRIVER_UNLOADED_WITHOUT_CANCELLING_
 * PENDING_OPERATIONS naming the driver. */
static void leftovers_bugcheck_at_stop(void **state)
{
    (void)state;
    static const char *const services[] = { "SvcThread", "SvcLink", "SvcDevice" };
    for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
        int status;
        char *report = stop_in_child(services[i], &status);
        assert_int_equal(status, NTHOST_BUGCHECK_EXIT);
        if (!strstr(report, "*** STOP: 0x000000CE") || !strstr(report, services[i]))
            fail_msg("%s: unexpected report:\n%s", services[i], report);
        free(report);
    }
}

int main(void)
{
    const struct CMUnitTest booted[] = {
        cmocka_unit_test_setup_teardown(boot_starts_in_group_order, boot_autostart, shutdown_host),
        cmocka_unit_test_setup_teardown(demand_start_stop, boot_autostart, shutdown_host),
        cmocka_unit_test_setup_teardown(stop_with_open_handle, boot_autostart, shutdown_host),
        cmocka_unit_test_setup_teardown(namespace_and_pool_restored, boot_autostart, shutdown_host),
        cmocka_unit_test_setup_teardown(start_failures, boot_autostart, shutdown_host),
        cmocka_unit_test_setup_teardown(error_log_entry, boot_autostart, shutdown_host),
    };
    const struct CMUnitTest forked[] = {
        cmocka_unit_test(leaked_pool_bugchecks_at_stop),
        cmocka_unit_test(live_timer_bugchecks_at_stop),
        cmocka_unit_test(leftovers_bugcheck_at_stop),
    };
    int failed = cmocka_run_group_tests_name("booted", booted, NULL, NULL);
    return failed + cmocka_run_group_tests_name("unload_bugchecks", forked, NULL, NULL);
}
