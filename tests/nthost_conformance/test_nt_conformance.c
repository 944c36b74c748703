/*
 * test_nt_conformance.c — NT conformance, as an independent tester would check it:
 * the service manager loads ntconf.so (DDK only) from ntconf.reg, and this Win32
 * program (windows.h, winioctl.h, plus the boot API) runs every kernel-side case of
 * the driver through IOCTL_CONF_RUN, then checks the Win32 personality against the
 * documented behaviour of CreateFile, ReadFile, WriteFile, DeviceIoControl,
 * overlapped I/O, cancellation, waits and GetLastError. The bug checks NT documents
 * for misuse are provoked in forked children.
 */
#include <windows.h>
#include <winioctl.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "nthost/nthost.h"
#include "ntconf.h"

static char *ns_before;

static void boot_machine(void)
{
    static const char *const regs[] = { CONF_REG, NULL };
    nthost_config cfg = { .machine = CONF_MACHINE, .reg_files = regs, .no_autostart = true };
    const char *err = nthost_boot(&cfg);
    if (err)
        fail_msg("nthost_boot: %s", err);
}

static int setup(void **state)
{
    (void)state;
    boot_machine();
    ns_before = nthost_namespace_snapshot();
    unsigned started = nthost_service_start("NtConf");
    if (started) {
        nthost_shutdown();
        fail_msg("nthost_service_start(NtConf): Win32 error %u", started);
    }
    return 0;
}

/* Stopping the service leaves the namespace as it was and no pool or IRP behind. */
static int teardown(void **state)
{
    (void)state;
    unsigned stop = nthost_service_stop("NtConf");
    char *after = nthost_namespace_snapshot();
    size_t pool = nthost_pool_outstanding(), irps = nthost_irps_outstanding();
    nthost_shutdown();
    assert_int_equal(stop, 0);
    assert_string_equal(ns_before, after);
    assert_int_equal(pool, 0);
    assert_int_equal(irps, 0);
    free(after);
    free(ns_before);
    return 0;
}

static HANDLE open_conf(DWORD access, DWORD flags)
{
    HANDLE h = CreateFileA("\\\\.\\NtConf", access, 0, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL | flags, NULL);
    assert_true(h != INVALID_HANDLE_VALUE);
    return h;
}

/* ---- the driver's kernel-side cases ------------------------------------------------------ */

static void run_case(ULONG which)
{
    HANDLE h = open_conf(GENERIC_READ | GENERIC_WRITE, 0);
    CONF_RESULT r;
    DWORD got = 0;
    memset(&r, 0, sizeof(r));
    BOOL ok = DeviceIoControl(h, IOCTL_CONF_RUN, &which, sizeof(which), &r, sizeof(r), &got, NULL);
    assert_true(CloseHandle(h));
    assert_true(ok);
    assert_int_equal(got, sizeof(r));
    assert_int_equal(r.Ran, 1);
    if (r.Line)
        fail_msg("ntconf.c:%lu: %s is %lld (0x%llx), expected %lld (0x%llx)", (unsigned long)r.Line, r.What,
                 (long long)r.Got, (unsigned long long)r.Got, (long long)r.Expected,
                 (unsigned long long)r.Expected);
}

#define KERNEL_CASE(fn, id)        \
    static void fn(void **state)   \
    {                              \
        (void)state;               \
        run_case(id);              \
    }
KERNEL_CASE(ke_events, CONF_EVENTS)
KERNEL_CASE(ke_wait_timeout, CONF_WAIT_TIMEOUT)
KERNEL_CASE(ke_semaphore, CONF_SEMAPHORE)
KERNEL_CASE(ke_mutex, CONF_MUTEX)
KERNEL_CASE(ke_wait_multiple, CONF_WAIT_MULTIPLE)
KERNEL_CASE(ke_timer, CONF_TIMER)
KERNEL_CASE(ke_periodic_timer, CONF_PERIODIC_TIMER)
KERNEL_CASE(ke_dpc, CONF_DPC)
KERNEL_CASE(ke_irql, CONF_IRQL)
KERNEL_CASE(ke_time, CONF_TIME)
KERNEL_CASE(ke_delay, CONF_DELAY)
KERNEL_CASE(ex_pool, CONF_POOL)
KERNEL_CASE(ex_lookaside, CONF_LOOKASIDE)
KERNEL_CASE(ps_thread, CONF_THREAD)
KERNEL_CASE(io_names, CONF_NAMES)
KERNEL_CASE(io_build_ioctl, CONF_BUILD_IOCTL)
KERNEL_CASE(io_pending, CONF_PENDING)
KERNEL_CASE(io_cancel, CONF_CANCEL)
KERNEL_CASE(io_csq, CONF_CSQ)
KERNEL_CASE(io_startio, CONF_STARTIO)
KERNEL_CASE(io_interrupt, CONF_INTERRUPT)
KERNEL_CASE(io_work_item, CONF_WORK_ITEM)
KERNEL_CASE(rtl_unicode, CONF_UNICODE)
KERNEL_CASE(rtl_integer_string, CONF_INTEGER_STRING)
KERNEL_CASE(rtl_memory, CONF_MEMORY)
KERNEL_CASE(rtl_status_map, CONF_STATUS_MAP)
KERNEL_CASE(ob_refs, CONF_OBJECT_REFS)
KERNEL_CASE(cm_registry, CONF_REGISTRY)
KERNEL_CASE(io_timer_and_errlog, CONF_IO_TIMER)
KERNEL_CASE(io_driver_object, CONF_DRIVER_OBJECT)
KERNEL_CASE(hal_ports, CONF_HAL_PORTS)
KERNEL_CASE(io_isr_and_dpc, CONF_ISR)
KERNEL_CASE(ke_device_queue, CONF_DEVICE_QUEUE)
KERNEL_CASE(ke_mutex_contention, CONF_CONTENTION)

/* ---- Win32: opening ---------------------------------------------------------------------------- */

static CONF_OPEN_INFO open_info(HANDLE h)
{
    CONF_OPEN_INFO info;
    DWORD got = 0;
    assert_true(DeviceIoControl(h, IOCTL_CONF_OPEN_INFO, NULL, 0, &info, sizeof(info), &got, NULL));
    assert_int_equal(got, sizeof(info));
    return info;
}

static CONF_LOG take_log(HANDLE h)
{
    CONF_LOG log;
    DWORD got = 0;
    assert_true(DeviceIoControl(h, IOCTL_CONF_LOG, NULL, 0, &log, sizeof(log), &got, NULL));
    assert_int_equal(got, sizeof(log));
    return log;
}

static void w32_open_errors(void **state)
{
    (void)state;
    SetLastError(0);
    assert_true(CreateFileA("\\\\.\\NtConfMissing", GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL) ==
                INVALID_HANDLE_VALUE);
    assert_int_equal(GetLastError(), ERROR_FILE_NOT_FOUND);
    SetLastError(0);
    assert_true(CreateFileW(L"\\\\.\\NtConfMissing", GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL) ==
                INVALID_HANDLE_VALUE);
    assert_int_equal(GetLastError(), ERROR_FILE_NOT_FOUND);
    HANDLE h = open_conf(GENERIC_READ, 0);
    assert_true(CloseHandle(h));
    /* A handle closed once is invalid afterwards. */
    assert_false(CloseHandle(h));
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
    DWORD n = 77;
    char c;
    assert_false(ReadFile(h, &c, 1, &n, NULL));
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
}

/* IRP_MJ_CREATE: the requested access (generic rights mapped to the file's own, as
 * CreateFile asks for them plus SYNCHRONIZE and FILE_READ_ATTRIBUTES), the path past
 * the device name as FileName, and FsContext kept for the file object's life. */
static void w32_create_parameters(void **state)
{
    (void)state;
    HANDLE r = open_conf(GENERIC_READ, 0);
    CONF_OPEN_INFO ri = open_info(r);
    assert_true(ri.DesiredAccess & FILE_READ_DATA);
    assert_false(ri.DesiredAccess & FILE_WRITE_DATA);
    assert_true(ri.DesiredAccess & SYNCHRONIZE);
    assert_int_equal(ri.DesiredAccess & GENERIC_READ, 0); /* mapped, not generic */
    /* FILE_GENERIC_READ (READ_CONTROL, SYNCHRONIZE, read data, attributes, EA). */
    assert_int_equal(ri.DesiredAccess, FILE_GENERIC_READ);
    assert_int_equal(FILE_GENERIC_READ, 0x00120089);
    assert_int_equal(ri.SynchronousIo, 1);
    assert_int_equal(ri.RequestorMode, 1); /* UserMode */
    assert_int_equal(ri.ThreadIsCaller, 1);
    assert_int_equal(ri.SystemThread, 0); /* the dispatch runs in the Win32 thread */
    assert_int_equal(ri.PreviousMode, 1); /* UserMode */
    assert_int_equal(ri.FileNameLength, 0);
    assert_int_equal(ri.FsContextIntact, 1);
    assert_int_equal(ri.Requests, 1);
    ri = open_info(r);
    assert_int_equal(ri.Requests, 2); /* same FsContext as before */

    HANDLE w = open_conf(GENERIC_WRITE, 0);
    CONF_OPEN_INFO wi = open_info(w);
    assert_true(wi.DesiredAccess & FILE_WRITE_DATA);
    assert_false(wi.DesiredAccess & FILE_READ_DATA);
    /* FILE_GENERIC_WRITE plus the FILE_READ_ATTRIBUTES CreateFile always asks for. */
    assert_int_equal(wi.DesiredAccess, FILE_GENERIC_WRITE | FILE_READ_ATTRIBUTES);
    assert_int_equal(wi.DesiredAccess, 0x00120196);
    assert_int_equal(wi.Requests, 1); /* its own file object */
    assert_true(CloseHandle(w));

    /* What CreateFile asks of the driver: disposition, options, sharing. */
    assert_int_equal(ri.CreateOptions >> 24, 1);     /* OPEN_EXISTING: FILE_OPEN */
    assert_true(ri.CreateOptions & 0x20);            /* FILE_SYNCHRONOUS_IO_NONALERT */
    assert_true(ri.CreateOptions & 0x40);            /* FILE_NON_DIRECTORY_FILE */
    HANDLE shared = CreateFileA("\\\\.\\NtConf", GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_ALWAYS,
                                0, NULL);
    assert_true(shared != INVALID_HANDLE_VALUE);
    /* OPEN_ALWAYS of something that exists (the driver said FILE_OPENED). */
    assert_int_equal(GetLastError(), ERROR_ALREADY_EXISTS);
    CONF_OPEN_INFO shi = open_info(shared);
    assert_int_equal(shi.CreateOptions >> 24, 3);    /* FILE_OPEN_IF */
    assert_int_equal(shi.ShareAccess, FILE_SHARE_READ | FILE_SHARE_WRITE);
    assert_true(CloseHandle(shared));
    SetLastError(1234);
    shared = CreateFileA("\\\\.\\NtConf", GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL);
    assert_true(shared != INVALID_HANDLE_VALUE);
    assert_int_equal(GetLastError(), ERROR_SUCCESS);
    assert_true(CloseHandle(shared));

    /* A create the driver fails: the caller gets the error, the driver no cleanup or
     * close for a file object that never opened. */
    take_log(r);
    SetLastError(0);
    assert_true(CreateFileA("\\\\.\\NtConf\\refuse", GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL) ==
                INVALID_HANDLE_VALUE);
    assert_int_equal(GetLastError(), ERROR_ACCESS_DENIED);
    CONF_LOG refused = take_log(r);
    assert_int_equal(refused.Count, 1);
    assert_int_equal(refused.Major[0], 0x00); /* IRP_MJ_CREATE only */

    /* \\.\GLOBALROOT reaches the object namespace's root: a device by its NT name. */
    HANDLE root = CreateFileA("\\\\.\\GLOBALROOT\\Device\\NtConf\\r", GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL);
    assert_true(root != INVALID_HANDLE_VALUE);
    CONF_OPEN_INFO gi = open_info(root);
    assert_int_equal(gi.FileNameLength, 2 * sizeof(WCHAR));
    assert_int_equal(gi.FileName[1], L'r');
    assert_true(CloseHandle(root));

    HANDLE sub = CreateFileW(L"\\\\.\\NtConf\\sub\\Path", GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL);
    assert_true(sub != INVALID_HANDLE_VALUE);
    CONF_OPEN_INFO si = open_info(sub);
    static const WCHAR expect[] = L"\\sub\\Path";
    assert_int_equal(si.FileNameLength, sizeof(expect) - sizeof(WCHAR));
    assert_memory_equal(si.FileName, expect, sizeof(expect) - sizeof(WCHAR));
    assert_true(CloseHandle(sub));
    assert_true(CloseHandle(r));
}

/* CloseHandle of the last handle: IRP_MJ_CLEANUP, then IRP_MJ_CLOSE. */
static void w32_cleanup_then_close(void **state)
{
    (void)state;
    HANDLE watch = open_conf(GENERIC_READ, 0);
    take_log(watch);
    HANDLE h = open_conf(GENERIC_READ | GENERIC_WRITE, 0);
    DWORD n = 0;
    assert_true(WriteFile(h, "abc", 3, &n, NULL));
    assert_int_equal(n, 3);
    assert_true(CloseHandle(h));
    CONF_LOG log = take_log(watch);
    assert_int_equal(log.Count, 4);
    assert_int_equal(log.Major[0], 0x00); /* IRP_MJ_CREATE */
    assert_int_equal(log.Major[1], 0x04); /* IRP_MJ_WRITE */
    assert_int_equal(log.Length[1], 3);
    assert_int_equal(log.Major[2], 0x12); /* IRP_MJ_CLEANUP */
    assert_int_equal(log.Major[3], 0x02); /* IRP_MJ_CLOSE */
    assert_true(CloseHandle(watch));
}

static void w32_read_write(void **state)
{
    (void)state;
    HANDLE h = open_conf(GENERIC_READ, 0);
    take_log(h);
    char buf[8];
    DWORD n = 99;
    /* A zero-length read reaches the driver and succeeds with 0 bytes. */
    assert_true(ReadFile(h, buf, 0, &n, NULL));
    assert_int_equal(n, 0);
    memset(buf, 0, sizeof(buf));
    assert_true(ReadFile(h, buf, 4, &n, NULL));
    assert_int_equal(n, 4);
    assert_memory_equal(buf, "rrrr", 4);
    /* Writing through a read-only handle is refused before the driver sees it. */
    n = 99;
    SetLastError(0);
    assert_false(WriteFile(h, "x", 1, &n, NULL));
    assert_int_equal(GetLastError(), ERROR_ACCESS_DENIED);
    assert_int_equal(n, 0);
    CONF_LOG log = take_log(h);
    assert_int_equal(log.Count, 2);
    assert_int_equal(log.Major[0], 0x03); /* IRP_MJ_READ */
    assert_int_equal(log.Length[0], 0);
    assert_int_equal(log.Major[1], 0x03);
    assert_int_equal(log.Length[1], 4);
    assert_true(CloseHandle(h));

    HANDLE w = open_conf(GENERIC_WRITE, 0);
    SetLastError(0);
    assert_false(ReadFile(w, buf, 1, &n, NULL));
    assert_int_equal(GetLastError(), ERROR_ACCESS_DENIED);
    assert_true(CloseHandle(w));

    /* No access at all (a query handle): FILE_ANY_ACCESS IOCTLs work, data does not. */
    HANDLE q = open_conf(0, 0);
    CONF_OPEN_INFO qi = open_info(q);
    assert_int_equal(qi.DesiredAccess, SYNCHRONIZE | FILE_READ_ATTRIBUTES);
    SetLastError(0);
    assert_false(ReadFile(q, buf, 1, &n, NULL));
    assert_int_equal(GetLastError(), ERROR_ACCESS_DENIED);
    DWORD got = 0;
    assert_false(DeviceIoControl(q, CTL_CODE(CONF_DEVICE_TYPE, 0x801, METHOD_BUFFERED, FILE_READ_ACCESS), NULL, 0,
                                 NULL, 0, &got, NULL));
    assert_int_equal(GetLastError(), ERROR_ACCESS_DENIED);
    assert_true(CloseHandle(q));
}

/* A synchronous request blocked in another thread: CancelIoEx(h, NULL) on the shared
 * handle cancels it, and the blocked call fails with ERROR_OPERATION_ABORTED. */
static HANDLE blocked_handle;
static DWORD WINAPI blocked_ioctl(LPVOID param)
{
    (void)param;
    DWORD n = 77;
    if (DeviceIoControl(blocked_handle, IOCTL_CONF_PEND_CANCEL, NULL, 0, NULL, 0, &n, NULL))
        return 1;
    return GetLastError() == ERROR_OPERATION_ABORTED && n == 0 ? 0 : 2;
}

static void w32_cancel_synchronous_from_other_thread(void **state)
{
    (void)state;
    blocked_handle = open_conf(GENERIC_READ | GENERIC_WRITE, 0);
    HANDLE watch = open_conf(GENERIC_READ, 0);
    take_log(watch);
    HANDLE t = CreateThread(NULL, 0, blocked_ioctl, NULL, 0, NULL);
    assert_true(t != NULL);
    /* Until the driver has the request: nothing to cancel before that. */
    CONF_LOG log = { 0 };
    for (int i = 0; i < 100 && log.Count == 0; i++) {
        Sleep(1);
        log = take_log(watch);
    }
    assert_int_equal(log.Count, 1);
    assert_int_equal(log.Major[0], 0x0E);
    assert_int_equal(WaitForSingleObject(t, 0), WAIT_TIMEOUT); /* still blocked */
    assert_true(CancelIoEx(blocked_handle, NULL));
    assert_int_equal(WaitForSingleObject(t, INFINITE), WAIT_OBJECT_0);
    DWORD code = 99;
    assert_true(GetExitCodeThread(t, &code));
    assert_int_equal(code, 0);
    assert_true(CloseHandle(t));
    assert_true(CloseHandle(watch));
    assert_true(CloseHandle(blocked_handle));
}

/* DO_DIRECT_IO: the driver works on the caller's pages through an MDL of exactly
 * the requested length; a zero-length request has no MDL. */
static void w32_direct_io(void **state)
{
    (void)state;
    HANDLE h = CreateFileA("\\\\.\\NtConfDirect", GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
    assert_true(h != INVALID_HANDLE_VALUE);
    HANDLE watch = open_conf(GENERIC_READ, 0);
    take_log(watch);
    char buf[8];
    DWORD n = 99;
    memset(buf, 0, sizeof(buf));
    assert_true(ReadFile(h, buf, 5, &n, NULL));
    assert_int_equal(n, 5);
    assert_memory_equal(buf, "ddddd", 5);
    assert_int_equal(buf[5], 0);
    assert_true(ReadFile(h, buf, 0, &n, NULL));
    assert_int_equal(n, 0);
    assert_true(WriteFile(h, "\x01\x02\x03", 3, &n, NULL));
    assert_int_equal(n, 6); /* the driver reports the sum of what it read through the MDL */
    CONF_LOG log = take_log(watch);
    assert_int_equal(log.Count, 3);
    assert_int_equal(log.Length[0], 5);
    assert_int_equal(log.Length[1], CONF_LOG_NO_MDL | 0);
    assert_int_equal(log.Major[2], 0x04);
    assert_int_equal(log.Length[2], 3);
    assert_true(CloseHandle(watch));
    assert_true(CloseHandle(h));
}

/* ---- Win32: DeviceIoControl results ------------------------------------------------------------------ */

static BOOL ioctl_status(HANDLE h, LONG st, UCHAR *out, DWORD outlen, DWORD *got)
{
    *got = 0xDEAD;
    memset(out, 0, outlen);
    SetLastError(0);
    return DeviceIoControl(h, IOCTL_CONF_STATUS, &st, sizeof(st), out, outlen, got, NULL);
}

static void w32_ioctl_status(void **state)
{
    (void)state;
    HANDLE h = open_conf(GENERIC_READ | GENERIC_WRITE, 0);
    UCHAR out[8];
    DWORD got;
    assert_true(ioctl_status(h, 0 /* STATUS_SUCCESS */, out, 8, &got));
    assert_int_equal(got, 8);
    assert_int_equal(out[7], 0xA5);

    /* A warning: the data comes back, the call fails with ERROR_MORE_DATA. */
    assert_false(ioctl_status(h, (LONG)0x80000005 /* STATUS_BUFFER_OVERFLOW */, out, 8, &got));
    assert_int_equal(GetLastError(), ERROR_MORE_DATA);
    assert_int_equal(got, 8);
    assert_int_equal(out[0], 0xA5);

    /* An error: nothing comes back and no bytes are reported. */
    assert_false(ioctl_status(h, (LONG)0xC0000010 /* STATUS_INVALID_DEVICE_REQUEST */, out, 8, &got));
    assert_int_equal(GetLastError(), ERROR_INVALID_FUNCTION);
    assert_int_equal(got, 0);
    assert_int_equal(out[0], 0);
    assert_false(ioctl_status(h, (LONG)0xC0000023 /* STATUS_BUFFER_TOO_SMALL */, out, 8, &got));
    assert_int_equal(GetLastError(), ERROR_INSUFFICIENT_BUFFER);
    assert_false(ioctl_status(h, (LONG)0xC000009D /* STATUS_DEVICE_NOT_CONNECTED */, out, 8, &got));
    assert_int_equal(GetLastError(), ERROR_DEVICE_NOT_CONNECTED);
    assert_false(ioctl_status(h, (LONG)0xC00000B5 /* STATUS_IO_TIMEOUT */, out, 8, &got));
    assert_int_equal(GetLastError(), ERROR_SEM_TIMEOUT);
    assert_false(ioctl_status(h, (LONG)0xC0000120 /* STATUS_CANCELLED */, out, 8, &got));
    assert_int_equal(GetLastError(), ERROR_OPERATION_ABORTED);
    /* Facility Win32 carries the Win32 code itself. */
    assert_false(ioctl_status(h, (LONG)0xC0070015, out, 8, &got));
    assert_int_equal(GetLastError(), ERROR_NOT_READY);

    /* A code the driver does not know. */
    DWORD n = 5;
    assert_false(DeviceIoControl(h, CTL_CODE(CONF_DEVICE_TYPE, 0xFFF, METHOD_BUFFERED, FILE_ANY_ACCESS), NULL, 0,
                                 NULL, 0, &n, NULL));
    assert_int_equal(GetLastError(), ERROR_INVALID_FUNCTION);
    assert_int_equal(n, 0);
    assert_true(CloseHandle(h));
}

/* ---- Win32: overlapped I/O ------------------------------------------------------------------------------ */

static void w32_overlapped_wait(void **state)
{
    (void)state;
    HANDLE h = open_conf(GENERIC_READ | GENERIC_WRITE, FILE_FLAG_OVERLAPPED);
    OVERLAPPED ov;
    CONF_OPEN_INFO info;
    DWORD got = 0;
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = CreateEventA(NULL, TRUE, FALSE, NULL);
    assert_true(DeviceIoControl(h, IOCTL_CONF_OPEN_INFO, NULL, 0, &info, sizeof(info), &got, &ov));
    assert_int_equal(got, sizeof(info));
    assert_int_equal(info.SynchronousIo, 0); /* overlapped: no FO_SYNCHRONOUS_IO */
    assert_true(CloseHandle(ov.hEvent));
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = CreateEventA(NULL, TRUE, FALSE, NULL);
    ULONG ms = 30;
    DWORD n = 77;
    assert_false(DeviceIoControl(h, IOCTL_CONF_PEND_TIMER, &ms, sizeof(ms), NULL, 0, &n, &ov));
    assert_int_equal(GetLastError(), ERROR_IO_PENDING);
    assert_false(HasOverlappedIoCompleted(&ov));
    assert_int_equal(WaitForSingleObject(ov.hEvent, 0), WAIT_TIMEOUT);
    assert_false(GetOverlappedResult(h, &ov, &n, FALSE));
    assert_int_equal(GetLastError(), ERROR_IO_INCOMPLETE);
    assert_true(GetOverlappedResult(h, &ov, &n, TRUE));
    assert_int_equal(n, 30);
    assert_true(HasOverlappedIoCompleted(&ov));
    assert_int_equal(ov.Internal, 0);
    assert_int_equal(ov.InternalHigh, 30);
    assert_int_equal(WaitForSingleObject(ov.hEvent, 0), WAIT_OBJECT_0);
    /* Asking again gives the same answer. */
    assert_true(GetOverlappedResult(h, &ov, &n, FALSE));
    assert_int_equal(n, 30);

    /* Without an event in the OVERLAPPED, the file handle itself is signalled. */
    OVERLAPPED ov2;
    memset(&ov2, 0, sizeof(ov2));
    ms = 10;
    assert_false(DeviceIoControl(h, IOCTL_CONF_PEND_TIMER, &ms, sizeof(ms), NULL, 0, &n, &ov2));
    assert_int_equal(GetLastError(), ERROR_IO_PENDING);
    assert_true(GetOverlappedResult(h, &ov2, &n, TRUE));
    assert_int_equal(n, 10);

    /* A request that completes at once on an overlapped handle: TRUE and the bytes. */
    UCHAR out[4];
    LONG ok = 0;
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = CreateEventA(NULL, TRUE, FALSE, NULL);
    n = 0;
    assert_true(DeviceIoControl(h, IOCTL_CONF_STATUS, &ok, sizeof(ok), out, sizeof(out), &n, &ov));
    assert_int_equal(n, 4);
    assert_true(GetOverlappedResult(h, &ov, &n, FALSE));
    assert_int_equal(n, 4);
    assert_true(CloseHandle(ov.hEvent));
    assert_true(CloseHandle(h));
}

static void w32_cancel_io_ex(void **state)
{
    (void)state;
    HANDLE h = open_conf(GENERIC_READ | GENERIC_WRITE, FILE_FLAG_OVERLAPPED);
    OVERLAPPED a, b;
    DWORD n;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    a.hEvent = CreateEventA(NULL, TRUE, FALSE, NULL);
    b.hEvent = CreateEventA(NULL, TRUE, FALSE, NULL);
    assert_false(DeviceIoControl(h, IOCTL_CONF_PEND_CANCEL, NULL, 0, NULL, 0, &n, &a));
    assert_int_equal(GetLastError(), ERROR_IO_PENDING);
    assert_false(DeviceIoControl(h, IOCTL_CONF_PEND_CANCEL, NULL, 0, NULL, 0, &n, &b));
    assert_int_equal(GetLastError(), ERROR_IO_PENDING);

    /* Only the request of that OVERLAPPED is cancelled. */
    assert_true(CancelIoEx(h, &a));
    assert_false(GetOverlappedResult(h, &a, &n, TRUE));
    assert_int_equal(GetLastError(), ERROR_OPERATION_ABORTED);
    assert_int_equal(n, 0);
    assert_int_equal(a.Internal, 0xC0000120);
    assert_false(GetOverlappedResult(h, &b, &n, FALSE));
    assert_int_equal(GetLastError(), ERROR_IO_INCOMPLETE);
    /* Nothing left for it. */
    assert_false(CancelIoEx(h, &a));
    assert_int_equal(GetLastError(), ERROR_NOT_FOUND);

    /* NULL: every request of the handle. */
    assert_true(CancelIoEx(h, NULL));
    assert_false(GetOverlappedResult(h, &b, &n, TRUE));
    assert_int_equal(GetLastError(), ERROR_OPERATION_ABORTED);
    assert_false(CancelIoEx(h, NULL));
    assert_int_equal(GetLastError(), ERROR_NOT_FOUND);

    /* CancelIo: the calling thread's requests on the handle. */
    memset(&a, 0, sizeof(a));
    a.hEvent = b.hEvent;
    ResetEvent(a.hEvent);
    assert_false(DeviceIoControl(h, IOCTL_CONF_PEND_CANCEL, NULL, 0, NULL, 0, &n, &a));
    assert_true(CancelIo(h));
    assert_false(GetOverlappedResult(h, &a, &n, TRUE));
    assert_int_equal(GetLastError(), ERROR_OPERATION_ABORTED);
    assert_true(CloseHandle(a.hEvent));
    assert_true(CloseHandle(h));
}

/* ---- Win32: waits ---------------------------------------------------------------------------------------- */

static DWORD WINAPI set_later(LPVOID param)
{
    HANDLE *ev = param;
    Sleep(10);
    SetEvent(ev[0]);
    Sleep(10);
    SetEvent(ev[1]);
    return 42;
}

static void w32_wait_multiple(void **state)
{
    (void)state;
    HANDLE ev[2];
    ev[0] = CreateEventA(NULL, FALSE, FALSE, NULL); /* auto-reset */
    ev[1] = CreateEventA(NULL, TRUE, FALSE, NULL);  /* manual-reset */
    assert_int_equal(WaitForMultipleObjects(2, ev, TRUE, 0), WAIT_TIMEOUT);
    assert_int_equal(WaitForMultipleObjects(2, ev, FALSE, 0), WAIT_TIMEOUT);
    assert_true(SetEvent(ev[0]));
    /* Wait-all with one unsignalled: times out and takes nothing. */
    assert_int_equal(WaitForMultipleObjects(2, ev, TRUE, 0), WAIT_TIMEOUT);
    assert_true(SetEvent(ev[1]));
    assert_int_equal(WaitForMultipleObjects(2, ev, TRUE, 0), WAIT_OBJECT_0);
    assert_int_equal(WaitForSingleObject(ev[0], 0), WAIT_TIMEOUT); /* auto-reset consumed */
    assert_int_equal(WaitForSingleObject(ev[1], 0), WAIT_OBJECT_0);
    assert_int_equal(WaitForMultipleObjects(2, ev, FALSE, 0), WAIT_OBJECT_0 + 1);
    assert_true(ResetEvent(ev[1]));

    /* Both set later by another thread: wait-all returns once the second is set. */
    DWORD tid;
    HANDLE t = CreateThread(NULL, 0, set_later, ev, 0, &tid);
    assert_true(t != NULL);
    DWORD code = 0;
    assert_true(GetExitCodeThread(t, &code));
    assert_int_equal(code, STILL_ACTIVE);
    DWORD t0 = GetTickCount();
    assert_int_equal(WaitForMultipleObjects(2, ev, TRUE, INFINITE), WAIT_OBJECT_0);
    assert_true(GetTickCount() - t0 >= 19);
    assert_int_equal(WaitForSingleObject(t, INFINITE), WAIT_OBJECT_0);
    assert_true(GetExitCodeThread(t, &code));
    assert_int_equal(code, 42);
    assert_true(CloseHandle(t));
    /* A timed wait that runs out; the performance counter and tick count follow. */
    LARGE_INTEGER freq, c0, c1;
    assert_true(QueryPerformanceFrequency(&freq));
    assert_true(freq.QuadPart > 0);
    assert_true(QueryPerformanceCounter(&c0));
    t0 = GetTickCount();
    assert_int_equal(WaitForSingleObject(ev[0], 15), WAIT_TIMEOUT);
    assert_true(QueryPerformanceCounter(&c1));
    assert_true(c1.QuadPart - c0.QuadPart >= freq.QuadPart * 15 / 1000);
    assert_true(GetTickCount() - t0 >= 15);
    Sleep(20);
    assert_true(GetTickCount() - t0 >= 35);
    assert_true(CloseHandle(ev[0]));
    assert_true(CloseHandle(ev[1]));
    /* Waits and event calls on a closed handle fail with ERROR_INVALID_HANDLE. */
    SetLastError(0);
    assert_int_equal(WaitForSingleObject(ev[0], 0), WAIT_FAILED);
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
    assert_false(SetEvent(ev[0]));
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
}

/* A thread that exits with a request still pending: its handle was closed already
 * (IRP_MJ_CLEANUP), the I/O manager cancels the request at thread exit, and only
 * then, with the IRP's file reference gone, IRP_MJ_CLOSE. */
static OVERLAPPED leave_ov; /* must outlive the request, i.e. the thread's stack */

static DWORD WINAPI pend_and_leave(LPVOID param)
{
    (void)param;
    HANDLE h = CreateFileA("\\\\.\\NtConf", GENERIC_READ, 0, NULL, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, NULL);
    OVERLAPPED *ov = &leave_ov;
    DWORD n;
    memset(ov, 0, sizeof(*ov));
    if (h == INVALID_HANDLE_VALUE)
        return 1;
    if (DeviceIoControl(h, IOCTL_CONF_PEND_CANCEL, NULL, 0, NULL, 0, &n, ov) || GetLastError() != ERROR_IO_PENDING)
        return 2;
    CloseHandle(h);
    return 0;
}

static void w32_close_with_pending_io(void **state)
{
    (void)state;
    HANDLE watch = open_conf(GENERIC_READ, 0);
    take_log(watch);
    HANDLE t = CreateThread(NULL, 0, pend_and_leave, NULL, 0, NULL);
    assert_true(t != NULL);
    assert_int_equal(WaitForSingleObject(t, INFINITE), WAIT_OBJECT_0);
    DWORD code = 99;
    assert_true(GetExitCodeThread(t, &code));
    assert_int_equal(code, 0);
    assert_true(CloseHandle(t));
    CONF_LOG log = take_log(watch);
    assert_int_equal(log.Count, 4);
    assert_int_equal(log.Major[0], 0x00); /* IRP_MJ_CREATE */
    assert_int_equal(log.Major[1], 0x0E); /* IRP_MJ_DEVICE_CONTROL */
    assert_int_equal(log.Major[2], 0x12); /* IRP_MJ_CLEANUP */
    assert_int_equal(log.Major[3], 0x02); /* IRP_MJ_CLOSE, after the cancel */
    assert_int_equal(leave_ov.Internal, 0xC0000120); /* STATUS_CANCELLED */
    assert_true(CloseHandle(watch));
}

/* ---- bug checks NT documents --------------------------------------------------------------------------- */

/* In a child: boot, start the driver, ask it to misbehave; the child must stop with
 * the bug check `code` (and parameter 1 `p1`). */
static void expect_stop(ULONG provoke, unsigned long code, unsigned long long p1)
{
    char path[] = "/tmp/ntconf_stop_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("NTHOST_BUGCHECK_FILE", path, 1);
        setenv("NTHOST_DBGPRINT", "0", 1);
        static const char *const regs[] = { CONF_REG, NULL };
        nthost_config cfg = { .machine = CONF_MACHINE, .reg_files = regs, .no_autostart = true,
                              .verifier = NTHOST_VERIFIER_ON };
        if (nthost_boot(&cfg) || nthost_service_start("NtConf"))
            _exit(2);
        HANDLE h = CreateFileA("\\\\.\\NtConf", GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL);
        DWORD n;
        DeviceIoControl(h, IOCTL_CONF_PROVOKE, &provoke, sizeof(provoke), NULL, 0, &n, NULL);
        _exit(3); /* survived */
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    char report[512] = { 0 };
    FILE *f = fopen(path, "r");
    if (f) {
        size_t got = fread(report, 1, sizeof(report) - 1, f);
        report[got] = 0;
        fclose(f);
    }
    unlink(path);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), NTHOST_BUGCHECK_EXIT);
    unsigned long got_code = 0;
    unsigned long long got_p1 = 0;
    const char *stop = strstr(report, "*** STOP: ");
    assert_non_null(stop);
    assert_int_equal(sscanf(stop, "*** STOP: 0x%lx (0x%llx", &got_code, &got_p1), 2);
    assert_int_equal(got_code, code);
    if (p1 != (unsigned long long)-1) /* -1: parameter 1 is an address */
        assert_int_equal(got_p1, p1);
}

static void stop_semaphore_limit(void **state)
{
    (void)state;
    /* KMODE_EXCEPTION_NOT_HANDLED: STATUS_SEMAPHORE_LIMIT_EXCEEDED raised, not handled. */
    expect_stop(PROVOKE_SEMAPHORE_LIMIT, 0x1E, 0xC0000047);
}

static void stop_mutex_not_owned(void **state)
{
    (void)state;
    expect_stop(PROVOKE_MUTEX_NOT_OWNED, 0x1E, 0xC0000046);
}

static void stop_free_wrong_tag(void **state)
{
    (void)state;
    expect_stop(PROVOKE_FREE_WRONG_TAG, 0xC2, 0x0A); /* BAD_POOL_CALLER */
}

static void stop_free_twice(void **state)
{
    (void)state;
    expect_stop(PROVOKE_FREE_TWICE, 0xC2, 0x07);
}

static void stop_bugcheck_ex(void **state)
{
    (void)state;
    expect_stop(PROVOKE_BUGCHECK, 0xDEAD, 1);
}

static void stop_wait_too_many(void **state)
{
    (void)state;
    expect_stop(PROVOKE_WAIT_TOO_MANY, 0x0C, 4); /* MAXIMUM_WAIT_OBJECTS_EXCEEDED */
}

static void stop_spin_lock_twice(void **state)
{
    (void)state;
    expect_stop(PROVOKE_SPIN_LOCK_TWICE, 0x0F, (unsigned long long)-1); /* SPIN_LOCK_ALREADY_OWNED */
}

static void stop_spin_lock_not_held(void **state)
{
    (void)state;
    expect_stop(PROVOKE_SPIN_LOCK_NOT_HELD, 0x10, (unsigned long long)-1); /* SPIN_LOCK_NOT_OWNED */
}

static void stop_complete_twice(void **state)
{
    (void)state;
    expect_stop(PROVOKE_COMPLETE_TWICE, 0x44, (unsigned long long)-1); /* MULTIPLE_IRP_COMPLETE_REQUESTS */
}

static void stop_allocate_zero(void **state)
{
    (void)state;
    /* Driver Verifier: DRIVER_VERIFIER_DETECTED_VIOLATION, allocation of zero bytes. */
    expect_stop(PROVOKE_ALLOCATE_ZERO, 0xC4, 0x00);
}

/* test_nt_conformance [FILTER]: run only the tests whose names match FILTER. */
int main(int argc, char **argv)
{
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest kernel[] = {
        cmocka_unit_test(ke_events),          cmocka_unit_test(ke_wait_timeout),
        cmocka_unit_test(ke_semaphore),       cmocka_unit_test(ke_mutex),
        cmocka_unit_test(ke_wait_multiple),   cmocka_unit_test(ke_timer),
        cmocka_unit_test(ke_periodic_timer),  cmocka_unit_test(ke_dpc),
        cmocka_unit_test(ke_irql),            cmocka_unit_test(ke_time),
        cmocka_unit_test(ke_delay),           cmocka_unit_test(ex_pool),
        cmocka_unit_test(ex_lookaside),       cmocka_unit_test(ps_thread),
        cmocka_unit_test(io_names),           cmocka_unit_test(io_build_ioctl),
        cmocka_unit_test(io_pending),         cmocka_unit_test(io_cancel),
        cmocka_unit_test(io_csq),             cmocka_unit_test(io_startio),
        cmocka_unit_test(io_interrupt),       cmocka_unit_test(io_work_item),
        cmocka_unit_test(rtl_unicode),        cmocka_unit_test(rtl_integer_string),
        cmocka_unit_test(rtl_memory),         cmocka_unit_test(rtl_status_map),
        cmocka_unit_test(ob_refs),            cmocka_unit_test(cm_registry),
        cmocka_unit_test(io_timer_and_errlog), cmocka_unit_test(io_driver_object),
        cmocka_unit_test(hal_ports),          cmocka_unit_test(io_isr_and_dpc),
        cmocka_unit_test(ke_device_queue),    cmocka_unit_test(ke_mutex_contention),
    };
    const struct CMUnitTest win32[] = {
        cmocka_unit_test(w32_open_errors),    cmocka_unit_test(w32_create_parameters),
        cmocka_unit_test(w32_cleanup_then_close), cmocka_unit_test(w32_read_write),
        cmocka_unit_test(w32_ioctl_status),   cmocka_unit_test(w32_overlapped_wait),
        cmocka_unit_test(w32_cancel_io_ex),   cmocka_unit_test(w32_wait_multiple),
        cmocka_unit_test(w32_close_with_pending_io), cmocka_unit_test(w32_direct_io),
        cmocka_unit_test(w32_cancel_synchronous_from_other_thread),
    };
    const struct CMUnitTest stops[] = {
        cmocka_unit_test(stop_semaphore_limit), cmocka_unit_test(stop_mutex_not_owned),
        cmocka_unit_test(stop_free_wrong_tag),  cmocka_unit_test(stop_free_twice),
        cmocka_unit_test(stop_allocate_zero),   cmocka_unit_test(stop_bugcheck_ex),
        cmocka_unit_test(stop_wait_too_many),   cmocka_unit_test(stop_spin_lock_twice),
        cmocka_unit_test(stop_spin_lock_not_held), cmocka_unit_test(stop_complete_twice),
    };
    int failed = cmocka_run_group_tests_name("nt_conformance_kernel", kernel, setup, teardown);
    failed += cmocka_run_group_tests_name("nt_conformance_win32", win32, setup, teardown);
    failed += cmocka_run_group_tests_name("nt_conformance_stops", stops, NULL, NULL);
    return failed ? 1 : 0;
}
