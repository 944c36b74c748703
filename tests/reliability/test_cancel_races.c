/*
 * test_cancel_races.c — randomized races of CancelIo, CancelIoEx, CloseHandle and
 * thread exit against the completion of overlapped requests, with nthost's seeded
 * random preemption on (issue 6).
 *
 * A race: a Win32 thread opens nothing itself but issues 1..4 overlapped ECHOs (of
 * random sizes) on a fresh handle of a random port; then, after a random delay of
 * machine time, one of
 *   - the issuing thread calls CancelIo,
 *   - the main thread calls CancelIoEx(h, NULL),
 *   - the main thread closes the handle (IRP_MJ_CLEANUP cancels what is queued),
 *   - the issuing thread exits with its requests pending (NT cancels a thread's I/O),
 *   - nothing (the requests complete).
 * Every request must complete exactly once: its OVERLAPPED ends either with
 * STATUS_SUCCESS and the whole echo, or STATUS_CANCELLED and no data; a completion
 * that never comes is a deadlock nthost reports; a second one is a verifier stop
 * (IRP completed twice). After each race the IRPs in flight are back to zero.
 *
 * REL_CANCEL_RACES (default 10000) bounds the races, REL_CANCEL_SECONDS (default 40)
 * the host time; REL_CANCEL_SEED picks the preemption seed. Clean under TSan:
 * `make check-tsan` runs this suite too.
 */
#include "rel_rig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#define MAX_REQ 4
#define STATUS_SUCCESS_V   0x00000000u
#define STATUS_CANCELLED_V 0xC0000120u

typedef enum racer { R_CANCELIO, R_CANCELIOEX, R_CLOSE, R_EXIT, R_NONE, RACERS } racer;
static const char *const racer_name[RACERS] = { "CancelIo", "CancelIoEx", "CloseHandle",
                                                "thread exit", "none" };

typedef struct race {
    HANDLE h;
    racer how;
    unsigned n;
    DWORD delay_ms;
    HANDLE issued;              /* set by the issuer once every request is issued */
    OVERLAPPED ov[MAX_REQ];
    DONG_TRANSACT_REQUEST req[MAX_REQ];
    DONG_TRANSACT_RESPONSE resp[MAX_REQ];
    BOOL pending[MAX_REQ];      /* returned ERROR_IO_PENDING */
    BOOL sync_ok[MAX_REQ];      /* completed inside DeviceIoControl */
    DWORD sync_err[MAX_REQ];
} race;

typedef struct figures {
    unsigned races, requests, completed, cancelled, failures;
    unsigned by_racer[RACERS];
} figures;

static double host_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* issuer - issue the race's requests; CancelIo or exit when that is the racer. */
static DWORD WINAPI issuer(LPVOID arg)
{
    race *r = arg;

    for (unsigned i = 0; i < r->n; i++) {
        BOOL ok = DeviceIoControl(r->h, IOCTL_DONG_TRANSACT_READ, &r->req[i],
                                  DONG_TRANSACT_REQUEST_HEADER + r->req[i].Length, &r->resp[i],
                                  sizeof r->resp[i], NULL, &r->ov[i]);
        if (ok)
            r->sync_ok[i] = TRUE;
        else if (GetLastError() == ERROR_IO_PENDING)
            r->pending[i] = TRUE;
        else
            r->sync_err[i] = GetLastError();
    }
    SetEvent(r->issued);
    if (r->how == R_EXIT)
        return 0;
    if (r->how == R_CANCELIO) {
        Sleep(r->delay_ms);
        CancelIo(r->h);
    }
    /* Stay until every request is done: this thread's exit must not be the racer. */
    for (unsigned i = 0; i < r->n; i++)
        if (r->pending[i])
            WaitForSingleObject(r->ov[i].hEvent, INFINITE);
    return 0;
}

#define RACE_CHECK(cond, ...)                                                        \
    do {                                                                             \
        if (!(cond)) {                                                               \
            printf("FAIL race %u (%s, request %u of %u): ", fg->races,               \
                   racer_name[r->how], i + 1, r->n);                                 \
            printf(__VA_ARGS__);                                                     \
            printf("\n");                                                            \
            fg->failures++;                                                          \
        }                                                                            \
    } while (0)

/* check_request - request i completed once, with the whole echo or cancelled. */
static void check_request(figures *fg, race *r, unsigned i)
{
    const DONG_TRANSACT_RESPONSE *resp = &r->resp[i];
    ULONG_PTR status = r->ov[i].Internal, info = r->ov[i].InternalHigh;
    bool whole;

    fg->requests++;
    if (!r->pending[i]) {
        RACE_CHECK(r->sync_ok[i], "failed at once: error %lu", (unsigned long)r->sync_err[i]);
        status = STATUS_SUCCESS_V;
    }
    whole = resp->KeyStatus == DL1_STATUS_OK && resp->Length == r->req[i].Length &&
            memcmp(resp->Payload, r->req[i].Payload, resp->Length) == 0;
    if (status == STATUS_SUCCESS_V) {
        fg->completed++;
        RACE_CHECK(whole, "success without the echo (status 0x%02x, %u bytes)", resp->KeyStatus,
                   resp->Length);
        RACE_CHECK(!r->pending[i] || info == (ULONG_PTR)DONG_TRANSACT_RESPONSE_HEADER + r->req[i].Length,
                   "Information %lu", (unsigned long)info);
    } else if (status == STATUS_CANCELLED_V) {
        fg->cancelled++;
        RACE_CHECK(info == 0, "cancelled with Information %lu", (unsigned long)info);
    } else {
        RACE_CHECK(false, "completed with status 0x%08lx", (unsigned long)status);
    }
}

static void one_race(figures *fg, uint64_t *rng)
{
    race *r = calloc(1, sizeof *r);
    unsigned port = (unsigned)(rig_rand(rng) % RIG_PORTS);
    size_t irps = nthost_irps_outstanding();
    HANDLE thread;

    assert_non_null(r);
    fg->races++;
    r->how = (racer)(rig_rand(rng) % RACERS);
    r->n = 1 + (unsigned)(rig_rand(rng) % MAX_REQ);
    r->delay_ms = (DWORD)(rig_rand(rng) % 3);
    fg->by_racer[r->how]++;
    r->h = rig_open(port, GENERIC_READ, FILE_FLAG_OVERLAPPED);
    assert_true(r->h != INVALID_HANDLE_VALUE);
    r->issued = CreateEventA(NULL, TRUE, FALSE, NULL);
    assert_non_null(r->issued);
    for (unsigned i = 0; i < r->n; i++) {
        r->req[i].Command = DL1_CMD_ECHO;
        r->req[i].Length = (USHORT)(1 + rig_rand(rng) % 256);
        for (unsigned b = 0; b < r->req[i].Length; b++)
            r->req[i].Payload[b] = (UCHAR)rig_rand(rng);
        r->ov[i].hEvent = CreateEventA(NULL, TRUE, FALSE, NULL);
        assert_non_null(r->ov[i].hEvent);
    }

    thread = CreateThread(NULL, 0, issuer, r, 0, NULL);
    assert_non_null(thread);
    WaitForSingleObject(r->issued, INFINITE);
    if (r->how == R_CANCELIOEX || r->how == R_CLOSE)
        Sleep(r->delay_ms);
    if (r->how == R_CANCELIOEX)
        CancelIoEx(r->h, NULL);
    if (r->how == R_CLOSE) {
        assert_true(CloseHandle(r->h));
        r->h = NULL;
    }
    for (unsigned i = 0; i < r->n; i++)
        if (r->pending[i])
            assert_int_equal(WaitForSingleObject(r->ov[i].hEvent, INFINITE), WAIT_OBJECT_0);
    assert_int_equal(WaitForSingleObject(thread, INFINITE), WAIT_OBJECT_0);
    assert_true(CloseHandle(thread));
    if (r->h)
        assert_true(CloseHandle(r->h));

    for (unsigned i = 0; i < r->n; i++) {
        check_request(fg, r, i);
        CloseHandle(r->ov[i].hEvent);
    }
    CloseHandle(r->issued);
    /* The port's worker may still be giving the port back (its own IRPs to parport):
       wait for that, up to 1 s of machine time, before calling what is left a leak. */
    for (unsigned waited_ms = 0; nthost_irps_outstanding() != irps && waited_ms < 1000; waited_ms++)
        Sleep(1);
    if (nthost_irps_outstanding() != irps) {
        printf("FAIL race %u (%s): %zu IRPs left\n", fg->races, racer_name[r->how],
               nthost_irps_outstanding() - irps);
        fg->failures++;
    }
    free(r);
}

static void test_cancel_races(void **state)
{
    unsigned long max_races = rig_param("REL_CANCEL_RACES", 10000);
    double budget = (double)rig_param("REL_CANCEL_SECONDS", 40);
    uint64_t seed = rig_param("REL_CANCEL_SEED", 0xCA9CE1ull);
    uint64_t rng = seed;
    figures fg = { 0 };
    double t0 = host_seconds();
    rel_rig rig;
    (void)state;

    rig_boot(&rig, NULL, seed);
    while (fg.races < max_races && host_seconds() - t0 < budget && fg.failures < 20)
        one_race(&fg, &rng);

    printf("cancel races: %u races in %.1f s (seed 0x%llx), %u requests: %u completed, "
           "%u cancelled; %u failures\n", fg.races, host_seconds() - t0,
           (unsigned long long)seed, fg.requests, fg.completed, fg.cancelled, fg.failures);
    printf("  racers:");
    for (int i = 0; i < RACERS; i++)
        printf(" %s %u%s", racer_name[i], fg.by_racer[i], i + 1 < RACERS ? "," : "\n");
    rig_shutdown(&rig);
    assert_int_equal(fg.failures, 0);
    assert_true(fg.cancelled > 0 && fg.completed > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cancel_races),
    };
    return cmocka_run_group_tests_name("reliability_cancel_races", tests, NULL, NULL);
}
