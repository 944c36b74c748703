/*
 * test_io_win32.c — a Win32 client program (windows.h, winioctl.h only) driving the
 * test driver testdrv.so, which the service manager loads from tstio.reg: open,
 * write, read, IOCTLs of every METHOD, access checks, exclusive devices, overlapped
 * I/O, CancelIo/CancelIoEx, CloseHandle and thread exit with requests pending, and
 * the service stop that must leave the namespace and pool as they were.
 */
#include <windows.h>
#include <winioctl.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nthost/nthost.h"
#include "tstio.h"

#define STATUS_SUCCESS_W32 0x00000000u
#define STATUS_PENDING_W32 0x00000103u
#define STATUS_CANCELLED_W32 0xC0000120u

static char *ns_before;
static size_t pool_before;
/* test_io_win32 [SEED]: with a seed, threads are also preempted at random
 * preemption points (nthost's race-test mode). */
static uint64_t preempt_seed;

static int boot_and_start(void **state)
{
    (void)state;
    static const char *const regs[] = { IO_TEST_REG, NULL };
    nthost_config cfg = {
        .machine = IO_TEST_MACHINE, .reg_files = regs, .no_autostart = true, .preempt_seed = preempt_seed
    };
    const char *err = nthost_boot(&cfg);
    if (err)
        fail_msg("nthost_boot: %s", err);
    ns_before = nthost_namespace_snapshot();
    pool_before = nthost_pool_outstanding();
    unsigned started = nthost_service_start("TstIo");
    if (started) {
        nthost_shutdown();
        free(ns_before);
        fail_msg("nthost_service_start(TstIo): Win32 error %u", started);
    }
    return 0;
}

/* Stopping the service unloads the driver: the namespace is what it was before the
 * start, and no pool or IRP is left over. (Measured first, asserted after the
 * shutdown, so that a failure does not leave the machine running for the next test.) */
static int stop_and_shutdown(void **state)
{
    (void)state;
    unsigned stop = nthost_service_stop("TstIo");
    char *after = nthost_namespace_snapshot();
    size_t pool = nthost_pool_outstanding(), irps = nthost_irps_outstanding();
    nthost_shutdown();
    assert_int_equal(stop, 0);
    assert_string_equal(ns_before, after);
    assert_int_equal(pool, pool_before);
    assert_int_equal(pool, 0);
    assert_int_equal(irps, 0);
    free(after);
    free(ns_before);
    return 0;
}

static HANDLE open_dev(const char *name, DWORD access, DWORD flags)
{
    return CreateFileA(name, access, 0, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL | flags, NULL);
}

static TST_STATS stats(void)
{
    TST_STATS s;
    DWORD got = 0;
    HANDLE h = open_dev("\\\\.\\TstIo", GENERIC_READ, 0);
    assert_true(h != INVALID_HANDLE_VALUE);
    assert_true(DeviceIoControl(h, IOCTL_TST_STATS, NULL, 0, &s, sizeof(s), &got, NULL));
    assert_int_equal(got, sizeof(s));
    assert_true(CloseHandle(h));
    return s;
}

/* ---- opening ------------------------------------------------------------------------ */

static void open_missing_device(void **state)
{
    (void)state;
    SetLastError(0);
    assert_true(open_dev("\\\\.\\NoSuchDevice", GENERIC_READ, 0) == INVALID_HANDLE_VALUE);
    assert_int_equal(GetLastError(), ERROR_FILE_NOT_FOUND);
    assert_false(CloseHandle((HANDLE)(ULONG_PTR)0x1234));
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
}

static void driver_entry_cleared_initializing(void **state)
{
    (void)state;
    TST_STATS s = stats();
    assert_int_equal(s.InitializingInDriverEntry, 1);
    assert_int_equal(s.InitializingNow, 0);
}

static void exclusive_device_refuses_second_open(void **state)
{
    (void)state;
    HANDLE a = open_dev("\\\\.\\TstExcl", GENERIC_READ, 0);
    assert_true(a != INVALID_HANDLE_VALUE);
    assert_true(open_dev("\\\\.\\TstExcl", GENERIC_READ, 0) == INVALID_HANDLE_VALUE);
    assert_int_equal(GetLastError(), ERROR_ACCESS_DENIED);
    assert_true(CloseHandle(a));
    HANDLE b = open_dev("\\\\.\\TstExcl", GENERIC_READ, 0);
    assert_true(b != INVALID_HANDLE_VALUE);
    assert_true(CloseHandle(b));
}

/* ---- the acceptance run: write, read, every METHOD, close ---------------------------------- */

static void write_read_and_every_method(void **state)
{
    (void)state;
    TST_STATS s0 = stats();
    HANDLE h = CreateFileW(L"\\\\.\\TstIo", GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                           FILE_ATTRIBUTE_NORMAL, NULL);
    assert_true(h != INVALID_HANDLE_VALUE);
    DWORD n = 0;
    assert_true(WriteFile(h, "hello", 5, &n, NULL));
    assert_int_equal(n, 5);
    char buf[16] = { 0 };
    assert_true(ReadFile(h, buf, 3, &n, NULL));
    assert_int_equal(n, 3);
    assert_memory_equal(buf, "hel", 3);
    assert_true(ReadFile(h, buf, sizeof(buf), &n, NULL));
    assert_int_equal(n, 2);
    assert_memory_equal(buf, "lo", 2);

    /* METHOD_BUFFERED: the driver fills all 8 output bytes but reports 3: only 3 come back. */
    UCHAR in[6] = { 3, 0, 0, 0, 0x10, 0x20 };
    UCHAR out[8];
    memset(out, 0x55, sizeof(out));
    assert_true(DeviceIoControl(h, IOCTL_TST_BUFFERED, in, sizeof(in), out, sizeof(out), &n, NULL));
    assert_int_equal(n, 3);
    assert_int_equal(out[0], 4);
    assert_int_equal(out[1], 1);
    assert_int_equal(out[2], 1);
    for (int i = 3; i < 8; i++)
        assert_int_equal(out[i], 0x55);

    /* METHOD_IN_DIRECT: the driver reads the "output" buffer through its MDL. */
    UCHAR data[4] = { 1, 2, 3, 40 };
    assert_true(DeviceIoControl(h, IOCTL_TST_IN_DIRECT, NULL, 0, data, sizeof(data), &n, NULL));
    assert_int_equal(n, 46);

    /* METHOD_OUT_DIRECT: the driver writes through the MDL. */
    char rev[4] = { 0 };
    assert_true(DeviceIoControl(h, IOCTL_TST_OUT_DIRECT, "abc", 3, rev, sizeof(rev), &n, NULL));
    assert_int_equal(n, 3);
    assert_memory_equal(rev, "cba", 3);

    /* METHOD_NEITHER: the driver uses the caller's pointers. */
    memset(rev, 0, sizeof(rev));
    assert_true(DeviceIoControl(h, IOCTL_TST_NEITHER, "xyz", 3, rev, sizeof(rev), &n, NULL));
    assert_int_equal(n, 3);
    assert_memory_equal(rev, "zyx", 3);

    /* A failure maps through RtlNtStatusToDosError. */
    assert_false(DeviceIoControl(h, IOCTL_TST_FAIL, NULL, 0, NULL, 0, &n, NULL));
    assert_int_equal(GetLastError(), ERROR_DEVICE_NOT_CONNECTED);

    assert_true(CloseHandle(h));
    TST_STATS s1 = stats();
    /* stats() itself opens and closes once before and after. */
    assert_int_equal(s1.Creates - s0.Creates, 2);
    assert_int_equal(s1.Cleanups - s0.Cleanups, 2);
    assert_int_equal(s1.Closes - s0.Closes, 2);
    assert_int_equal(s1.BytesQueued, 0);
}

static void access_checked_before_the_driver(void **state)
{
    (void)state;
    HANDLE ro = open_dev("\\\\.\\TstIo", GENERIC_READ, 0);
    assert_true(ro != INVALID_HANDLE_VALUE);
    DWORD n;
    assert_false(DeviceIoControl(ro, IOCTL_TST_NEEDS_WRITE, NULL, 0, NULL, 0, &n, NULL));
    assert_int_equal(GetLastError(), ERROR_ACCESS_DENIED);
    assert_false(WriteFile(ro, "x", 1, &n, NULL));
    assert_int_equal(GetLastError(), ERROR_ACCESS_DENIED);
    assert_true(CloseHandle(ro));
    HANDLE rw = open_dev("\\\\.\\TstIo", GENERIC_READ | GENERIC_WRITE, 0);
    assert_true(DeviceIoControl(rw, IOCTL_TST_NEEDS_WRITE, NULL, 0, NULL, 0, &n, NULL));
    assert_true(CloseHandle(rw));
}

/* The byte counts kernel32 reports for a failed call (DeviceIoControl's documentation:
 * 0 with ERROR_INSUFFICIENT_BUFFER; the bytes moved with ERROR_MORE_DATA), and that the
 * I/O manager copies a buffered request's output back for a warning but not an error. */
static DWORD outcome(HANDLE h, LONG status, ULONG information, UCHAR out[8], DWORD *n, OVERLAPPED *ov)
{
    TST_OUTCOME o = { status, information };
    memset(out, 0x11, 8);
    *n = 0xDEAD;
    SetLastError(0);
    assert_false(DeviceIoControl(h, IOCTL_TST_OUTCOME, &o, sizeof(o), out, 8, n, ov));
    return GetLastError();
}

static void failed_calls_report_bytes(void **state)
{
    (void)state;
    HANDLE h = open_dev("\\\\.\\TstIo", GENERIC_READ | GENERIC_WRITE, 0);
    assert_true(h != INVALID_HANDLE_VALUE);
    UCHAR out[8];
    DWORD n;

    /* An error: nothing copied, no bytes, even when the driver left Information set. */
    assert_int_equal(outcome(h, (LONG)0xC0000023, 0, out, &n, NULL), ERROR_INSUFFICIENT_BUFFER);
    assert_int_equal(n, 0);
    assert_int_equal(outcome(h, (LONG)0xC0000023, 6, out, &n, NULL), ERROR_INSUFFICIENT_BUFFER);
    assert_int_equal(n, 0);
    for (int i = 0; i < 8; i++)
        assert_int_equal(out[i], 0x11);

    /* A warning: the part that fit comes back and is counted. */
    assert_int_equal(outcome(h, (LONG)0x80000005, 5, out, &n, NULL), ERROR_MORE_DATA);
    assert_int_equal(n, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(out[i], 0x40 + i);
    for (int i = 5; i < 8; i++)
        assert_int_equal(out[i], 0x11);

    /* Failures before any request is sent count no bytes either. */
    HANDLE ro = open_dev("\\\\.\\TstIo", GENERIC_READ, 0);
    assert_true(ro != INVALID_HANDLE_VALUE);
    n = 0xDEAD;
    assert_false(WriteFile(ro, "x", 1, &n, NULL));
    assert_int_equal(GetLastError(), ERROR_ACCESS_DENIED);
    assert_int_equal(n, 0);
    n = 0xDEAD;
    assert_false(DeviceIoControl(ro, IOCTL_TST_NEEDS_WRITE, NULL, 0, NULL, 0, &n, NULL));
    assert_int_equal(n, 0);
    assert_true(CloseHandle(ro));
    HANDLE wo = open_dev("\\\\.\\TstIo", GENERIC_WRITE, 0);
    assert_true(wo != INVALID_HANDLE_VALUE);
    n = 0xDEAD;
    assert_false(ReadFile(wo, out, sizeof(out), &n, NULL));
    assert_int_equal(GetLastError(), ERROR_ACCESS_DENIED);
    assert_int_equal(n, 0);
    assert_true(CloseHandle(wo));
    assert_true(CloseHandle(h));

    /* Overlapped handle, completed at once: a warning is in the OVERLAPPED and
     * GetOverlappedResult reports it with its bytes; an error leaves the OVERLAPPED
     * alone (the caller got it directly). */
    HANDLE ah = open_dev("\\\\.\\TstIo", GENERIC_READ | GENERIC_WRITE, FILE_FLAG_OVERLAPPED);
    assert_true(ah != INVALID_HANDLE_VALUE);
    OVERLAPPED ov;
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    assert_int_equal(outcome(ah, (LONG)0x80000005, 3, out, &n, &ov), ERROR_MORE_DATA);
    assert_int_equal(n, 3);
    assert_int_equal(ov.Internal, 0x80000005u);
    assert_int_equal(ov.InternalHigh, 3);
    n = 0xDEAD;
    assert_false(GetOverlappedResult(ah, &ov, &n, TRUE));
    assert_int_equal(GetLastError(), ERROR_MORE_DATA);
    assert_int_equal(n, 3);
    assert_int_equal(outcome(ah, (LONG)0xC0000023, 6, out, &n, &ov), ERROR_INSUFFICIENT_BUFFER);
    assert_int_equal(n, 0);
    assert_int_not_equal(ov.Internal, 0xC0000023u);
    assert_int_not_equal(ov.InternalHigh, 6);
    assert_true(CloseHandle(ov.hEvent));
    assert_true(CloseHandle(ah));
}

/* ---- overlapped I/O --------------------------------------------------------------------------- */

static void overlapped_read_completes_through_event(void **state)
{
    (void)state;
    HANDLE ah = open_dev("\\\\.\\TstIo", GENERIC_READ | GENERIC_WRITE, FILE_FLAG_OVERLAPPED);
    HANDLE sh = open_dev("\\\\.\\TstIo", GENERIC_READ | GENERIC_WRITE, 0);
    assert_true(ah != INVALID_HANDLE_VALUE && sh != INVALID_HANDLE_VALUE);
    OVERLAPPED ov;
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = CreateEventW(NULL, TRUE, TRUE, NULL); /* set: the request must reset it */
    char buf[8] = { 0 };
    DWORD n = 99;
    assert_false(ReadFile(ah, buf, sizeof(buf), &n, &ov));
    assert_int_equal(GetLastError(), ERROR_IO_PENDING);
    assert_false(HasOverlappedIoCompleted(&ov));
    assert_int_equal(ov.Internal, STATUS_PENDING_W32);
    assert_int_equal(WaitForSingleObject(ov.hEvent, 0), WAIT_TIMEOUT);
    assert_false(GetOverlappedResult(ah, &ov, &n, FALSE));
    assert_int_equal(GetLastError(), ERROR_IO_INCOMPLETE);
    assert_true(WriteFile(sh, "xyz", 3, &n, NULL));
    assert_int_equal(WaitForSingleObject(ov.hEvent, 0), WAIT_OBJECT_0);
    assert_true(HasOverlappedIoCompleted(&ov));
    assert_int_equal(ov.Internal, STATUS_SUCCESS_W32);
    assert_int_equal(ov.InternalHigh, 3);
    assert_true(GetOverlappedResult(ah, &ov, &n, FALSE));
    assert_int_equal(n, 3);
    assert_memory_equal(buf, "xyz", 3);

    /* Without an event the file object is signalled; GetOverlappedResult waits on it.
     * Data is already there: the request completes at once, still through the OVERLAPPED. */
    assert_true(WriteFile(sh, "pq", 2, &n, NULL));
    OVERLAPPED ov2;
    memset(&ov2, 0, sizeof(ov2));
    assert_true(ReadFile(ah, buf, sizeof(buf), &n, &ov2));
    assert_int_equal(n, 2);
    assert_true(GetOverlappedResult(ah, &ov2, &n, TRUE));
    assert_int_equal(n, 2);
    assert_memory_equal(buf, "pq", 2);

    /* An OVERLAPPED with a synchronous handle: the call waits, and the OVERLAPPED
     * and its event get the result too. */
    OVERLAPPED ov3;
    memset(&ov3, 0, sizeof(ov3));
    ov3.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    assert_true(WriteFile(sh, "s", 1, &n, &ov3));
    assert_int_equal(n, 1);
    assert_int_equal(ov3.Internal, STATUS_SUCCESS_W32);
    assert_int_equal(ov3.InternalHigh, 1);
    assert_int_equal(WaitForSingleObject(ov3.hEvent, 0), WAIT_OBJECT_0);
    assert_true(ReadFile(sh, buf, sizeof(buf), &n, NULL));
    assert_int_equal(n, 1);
    CloseHandle(ov3.hEvent);

    /* A request on an overlapped handle needs its OVERLAPPED. */
    assert_false(ReadFile(ah, buf, sizeof(buf), &n, NULL));
    assert_int_equal(GetLastError(), ERROR_INVALID_PARAMETER);
    assert_true(CloseHandle(ov.hEvent));
    assert_true(CloseHandle(ah));
    assert_true(CloseHandle(sh));
}

static void cancel_io_aborts_the_request(void **state)
{
    (void)state;
    TST_STATS s0 = stats();
    HANDLE h = open_dev("\\\\.\\TstIo", GENERIC_READ | GENERIC_WRITE, FILE_FLAG_OVERLAPPED);
    OVERLAPPED ov;
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = CreateEventA(NULL, TRUE, FALSE, NULL);
    DWORD n;
    assert_false(DeviceIoControl(h, IOCTL_TST_PEND, NULL, 0, NULL, 0, &n, &ov));
    assert_int_equal(GetLastError(), ERROR_IO_PENDING);
    assert_false(CancelIoEx(h, (LPOVERLAPPED)&n)); /* not a request of this handle */
    assert_int_equal(GetLastError(), ERROR_NOT_FOUND);
    assert_true(CancelIo(h));
    /* CancelIo waited for the cancelled request: it is complete now. */
    assert_int_equal(WaitForSingleObject(ov.hEvent, 0), WAIT_OBJECT_0);
    assert_false(GetOverlappedResult(h, &ov, &n, TRUE));
    assert_int_equal(GetLastError(), ERROR_OPERATION_ABORTED);
    assert_int_equal(ov.Internal, STATUS_CANCELLED_W32);

    /* CancelIoEx names one request; the other stays pending until released. */
    OVERLAPPED a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    a.hEvent = CreateEventA(NULL, TRUE, FALSE, NULL);
    b.hEvent = CreateEventA(NULL, TRUE, FALSE, NULL);
    assert_false(DeviceIoControl(h, IOCTL_TST_PEND, NULL, 0, NULL, 0, &n, &a));
    assert_false(DeviceIoControl(h, IOCTL_TST_PEND, NULL, 0, NULL, 0, &n, &b));
    assert_true(CancelIoEx(h, &a));
    assert_int_equal(WaitForSingleObject(a.hEvent, INFINITE), WAIT_OBJECT_0);
    assert_int_equal(WaitForSingleObject(b.hEvent, 0), WAIT_TIMEOUT);
    OVERLAPPED r;
    memset(&r, 0, sizeof(r));
    r.hEvent = CreateEventA(NULL, TRUE, FALSE, NULL);
    assert_true(DeviceIoControl(h, IOCTL_TST_RELEASE, NULL, 0, NULL, 0, &n, &r));
    assert_int_equal(n, 1);
    assert_true(GetOverlappedResult(h, &b, &n, TRUE));
    assert_int_equal(n, 7);
    assert_int_equal(stats().Cancelled - s0.Cancelled, 2);
    CloseHandle(a.hEvent);
    CloseHandle(b.hEvent);
    CloseHandle(r.hEvent);
    CloseHandle(ov.hEvent);
    assert_true(CloseHandle(h));
}

static void close_handle_with_requests_pending(void **state)
{
    (void)state;
    TST_STATS s0 = stats();
    HANDLE h = open_dev("\\\\.\\TstIo", GENERIC_READ | GENERIC_WRITE, FILE_FLAG_OVERLAPPED);
    OVERLAPPED ov;
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = CreateEventA(NULL, TRUE, FALSE, NULL);
    DWORD n;
    assert_false(DeviceIoControl(h, IOCTL_TST_PEND, NULL, 0, NULL, 0, &n, &ov));
    assert_int_equal(GetLastError(), ERROR_IO_PENDING);
    /* IRP_MJ_CLEANUP: the driver completes the handle's request; the pending IRP held
     * the file object, so IRP_MJ_CLOSE came after it. */
    assert_true(CloseHandle(h));
    assert_int_equal(WaitForSingleObject(ov.hEvent, 0), WAIT_OBJECT_0);
    assert_int_equal(ov.Internal, STATUS_CANCELLED_W32);
    TST_STATS s1 = stats();
    assert_int_equal(s1.CleanupCompleted - s0.CleanupCompleted, 1);
    assert_int_equal(s1.Closes - s0.Closes, 2);
    CloseHandle(ov.hEvent);
}

/* ---- threads ---------------------------------------------------------------------------------- */

static HANDLE shared;
static OVERLAPPED thread_ov;

static DWORD WINAPI pend_and_exit(LPVOID param)
{
    DWORD n;
    BOOL ok = DeviceIoControl(shared, IOCTL_TST_PEND, NULL, 0, NULL, 0, &n, &thread_ov);
    return ok ? 1 : GetLastError() == ERROR_IO_PENDING ? (DWORD)(ULONG_PTR)param : 2;
}

static void thread_exit_cancels_its_requests(void **state)
{
    (void)state;
    shared = open_dev("\\\\.\\TstIo", GENERIC_READ | GENERIC_WRITE, FILE_FLAG_OVERLAPPED);
    memset(&thread_ov, 0, sizeof(thread_ov));
    thread_ov.hEvent = CreateEventA(NULL, TRUE, FALSE, NULL);
    DWORD tid = 0;
    HANDLE t = CreateThread(NULL, 0, pend_and_exit, (LPVOID)(ULONG_PTR)42, 0, &tid);
    assert_non_null(t);
    assert_int_not_equal(tid, GetCurrentThreadId());
    assert_int_equal(WaitForSingleObject(t, INFINITE), WAIT_OBJECT_0);
    DWORD code = 0;
    assert_true(GetExitCodeThread(t, &code));
    assert_int_equal(code, 42);
    assert_int_equal(WaitForSingleObject(thread_ov.hEvent, 0), WAIT_OBJECT_0);
    assert_int_equal(thread_ov.Internal, STATUS_CANCELLED_W32);
    CloseHandle(t);
    CloseHandle(thread_ov.hEvent);
    CloseHandle(shared);
}

static DWORD WINAPI writer(LPVOID param)
{
    DWORD n;
    return WriteFile((HANDLE)param, "late", 4, &n, NULL) && n == 4 ? 0 : 1;
}

static void synchronous_read_waits_for_data(void **state)
{
    (void)state;
    HANDLE r = open_dev("\\\\.\\TstIo", GENERIC_READ, 0);
    HANDLE w = open_dev("\\\\.\\TstIo", GENERIC_WRITE, 0);
    HANDLE t = CreateThread(NULL, 0, writer, w, 0, NULL);
    char buf[8] = { 0 };
    DWORD n = 0;
    assert_true(ReadFile(r, buf, sizeof(buf), &n, NULL));
    assert_int_equal(n, 4);
    assert_memory_equal(buf, "late", 4);
    assert_int_equal(WaitForSingleObject(t, INFINITE), WAIT_OBJECT_0);
    DWORD code = 1;
    assert_true(GetExitCodeThread(t, &code));
    assert_int_equal(code, 0);
    CloseHandle(t);
    CloseHandle(r);
    CloseHandle(w);
}

static DWORD WINAPI pend_sync(LPVOID param)
{
    DWORD n;
    return DeviceIoControl((HANDLE)param, IOCTL_TST_PEND, NULL, 0, NULL, 0, &n, NULL) && n == 7 ? 0 : 1;
}

/* Requests on a synchronous handle go to the driver one at a time. */
static void synchronous_handle_serializes_requests(void **state)
{
    (void)state;
    HANDLE h = open_dev("\\\\.\\TstIo", GENERIC_READ, 0);
    HANDLE ctl = open_dev("\\\\.\\TstIo", GENERIC_READ, 0);
    HANDLE t1 = CreateThread(NULL, 0, pend_sync, h, 0, NULL);
    HANDLE t2 = CreateThread(NULL, 0, pend_sync, h, 0, NULL);
    DWORD n, released = 0;
    HANDLE both[2] = { t1, t2 };
    /* Let both threads run until they block (machine time; nothing else happens):
     * only one request is in the driver, the other thread waits for the file. */
    Sleep(10);
    assert_int_equal(stats().Pended, 1);
    for (;;) {
        assert_true(DeviceIoControl(ctl, IOCTL_TST_RELEASE, NULL, 0, NULL, 0, &n, NULL));
        /* With preemption the second request may arrive while the driver releases
         * the first one, and go with it. */
        released += n;
        if (released >= 2)
            break;
        DWORD first = WaitForMultipleObjects(2, both, FALSE, INFINITE);
        assert_true(first == WAIT_OBJECT_0 || first == WAIT_OBJECT_0 + 1);
        Sleep(10);
        assert_int_equal(stats().Pended, 1);
    }
    assert_int_equal(released, 2);
    assert_int_equal(WaitForMultipleObjects(2, both, TRUE, INFINITE), WAIT_OBJECT_0);
    DWORD c1 = 1, c2 = 1;
    assert_true(GetExitCodeThread(t1, &c1) && GetExitCodeThread(t2, &c2));
    assert_int_equal(c1 + c2, 0);
    CloseHandle(t1);
    CloseHandle(t2);
    CloseHandle(h);
    CloseHandle(ctl);
}

/* ---- events, waits, time ------------------------------------------------------------------------ */

static void events_waits_and_time(void **state)
{
    (void)state;
    HANDLE manual = CreateEventW(NULL, TRUE, FALSE, NULL), autoev = CreateEventW(NULL, FALSE, TRUE, NULL);
    assert_non_null(manual);
    DWORD t0 = GetTickCount();
    LARGE_INTEGER c0, c1, f;
    assert_true(QueryPerformanceFrequency(&f));
    assert_true(QueryPerformanceCounter(&c0));
    /* 10 s of machine time pass without 10 s of host time (virtual clock). */
    assert_int_equal(WaitForSingleObject(manual, 10000), WAIT_TIMEOUT);
    assert_true(GetTickCount() - t0 >= 10000);
    assert_true(QueryPerformanceCounter(&c1));
    assert_true((c1.QuadPart - c0.QuadPart) / f.QuadPart >= 10);
    HANDLE both[2] = { manual, autoev };
    assert_int_equal(WaitForMultipleObjects(2, both, FALSE, 0), WAIT_OBJECT_0 + 1);
    assert_int_equal(WaitForSingleObject(autoev, 0), WAIT_TIMEOUT); /* auto-reset consumed */
    assert_true(SetEvent(manual));
    assert_true(SetEvent(autoev));
    assert_int_equal(WaitForMultipleObjects(2, both, TRUE, 0), WAIT_OBJECT_0);
    assert_int_equal(WaitForSingleObject(manual, 0), WAIT_OBJECT_0); /* manual stays set */
    assert_true(ResetEvent(manual));
    assert_int_equal(WaitForSingleObject(manual, 0), WAIT_TIMEOUT);
    ULONGLONG before = GetTickCount64();
    Sleep(250);
    assert_true(GetTickCount64() - before >= 250);
    assert_true(CloseHandle(manual));
    assert_true(CloseHandle(autoev));
    assert_int_equal(WaitForSingleObject(manual, 0), WAIT_FAILED);
    assert_int_equal(GetLastError(), ERROR_INVALID_HANDLE);
}

/* A program that shuts nthost down with a handle open and a request pending: as when
 * an NT process exits, the request is cancelled (thread rundown) and the handle
 * closed, so the driver sees its cleanup and close and can be unloaded. */
static void shutdown_with_handle_open_and_request_pending(void **state)
{
    (void)state;
    HANDLE h = open_dev("\\\\.\\TstIo", GENERIC_READ | GENERIC_WRITE, FILE_FLAG_OVERLAPPED);
    OVERLAPPED ov;
    memset(&ov, 0, sizeof(ov));
    DWORD n;
    assert_false(DeviceIoControl(h, IOCTL_TST_PEND, NULL, 0, NULL, 0, &n, &ov));
    assert_int_equal(GetLastError(), ERROR_IO_PENDING);
    free(ns_before);
    nthost_shutdown();
    assert_false(nthost_running());
    assert_int_equal(ov.Internal, STATUS_CANCELLED_W32);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        preempt_seed = strtoull(argv[1], NULL, 0);
#define T(f) cmocka_unit_test_setup_teardown(f, boot_and_start, stop_and_shutdown)
    const struct CMUnitTest tests[] = {
        T(open_missing_device),
        T(driver_entry_cleared_initializing),
        T(exclusive_device_refuses_second_open),
        T(write_read_and_every_method),
        T(access_checked_before_the_driver),
        T(failed_calls_report_bytes),
        T(overlapped_read_completes_through_event),
        T(cancel_io_aborts_the_request),
        T(close_handle_with_requests_pending),
        T(thread_exit_cancels_its_requests),
        T(synchronous_read_waits_for_data),
        T(synchronous_handle_serializes_requests),
        T(events_waits_and_time),
        cmocka_unit_test_setup(shutdown_with_handle_open_and_request_pending, boot_and_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
