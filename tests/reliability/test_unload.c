/*
 * test_unload.c — stopping DongLpt while clients are busy (issue 6).
 *
 * Six client threads (two per port) keep three overlapped ECHOs each in flight; the
 * service is stopped while they are busy, REL_UNLOAD_ROUNDS times (default 20, each
 * on a fresh boot with its own preemption seed). docs/DRIVER.md (NT's rule for legacy
 * drivers) says what must happen:
 *   - the stop succeeds at once and the service is STOP_PENDING;
 *   - a new CreateFile fails; the open handles keep working: requests issued after
 *     the stop are served;
 *   - when the clients close their handles — some with requests still pending —
 *     every request completes (served or cancelled), DriverUnload runs and the
 *     service is STOPPED;
 *   - nothing of DongLpt is left in the namespace and the pool is back to its value
 *     before the start (the verifier has checked, at unload, that no thread, timer,
 *     DPC, work item, IRP, device or link of the image is left).
 */
#include "rel_rig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define CLIENTS   6
#define IN_FLIGHT 3
#define STATUS_CANCELLED_V 0xC0000120u

typedef struct client {
    unsigned port;
    HANDLE h;
    volatile LONG stop;         /* set by the main thread; read by this client */
    volatile LONG after_stop;   /* set once the service stop has returned */
    unsigned served, served_after_stop, cancelled, failures;
    bool close_pending;         /* close the handle with requests in flight */
    OVERLAPPED ov[IN_FLIGHT];
    DONG_TRANSACT_REQUEST req[IN_FLIGHT];
    DONG_TRANSACT_RESPONSE resp[IN_FLIGHT];
    BOOL pending[IN_FLIGHT];
} client;

/* issue - (re)issue request slot i of c. */
static void issue(client *c, unsigned i)
{
    BOOL ok;

    ResetEvent(c->ov[i].hEvent);
    c->ov[i].Internal = c->ov[i].InternalHigh = 0;
    c->req[i].Command = DL1_CMD_ECHO;
    c->req[i].Length = 32;
    memset(c->req[i].Payload, (int)(c->port * 16 + i + 1), 32);
    ok = DeviceIoControl(c->h, IOCTL_DONG_TRANSACT_READ, &c->req[i], DONG_TRANSACT_REQUEST_HEADER + 32,
                         &c->resp[i], sizeof c->resp[i], NULL, &c->ov[i]);
    c->pending[i] = !ok && GetLastError() == ERROR_IO_PENDING;
    if (ok) {
        c->served++;
    } else if (!c->pending[i]) {
        printf("FAIL client on port %u: DeviceIoControl error %lu\n", c->port,
               (unsigned long)GetLastError());
        c->failures++;
    }
}

/* reap - slot i completed: count it, check it. */
static void reap(client *c, unsigned i)
{
    c->pending[i] = FALSE;
    if (c->ov[i].Internal == 0 && c->resp[i].KeyStatus == DL1_STATUS_OK &&
        memcmp(c->resp[i].Payload, c->req[i].Payload, 32) == 0) {
        c->served++;
        if (c->after_stop)
            c->served_after_stop++;
    } else if (c->ov[i].Internal == STATUS_CANCELLED_V) {
        c->cancelled++;
    } else {
        printf("FAIL client on port %u: completed with 0x%08lx\n", c->port,
               (unsigned long)c->ov[i].Internal);
        c->failures++;
    }
}

static DWORD WINAPI client_main(LPVOID arg)
{
    client *c = arg;

    for (unsigned i = 0; i < IN_FLIGHT; i++)
        issue(c, i);
    while (!c->stop) {
        for (unsigned i = 0; i < IN_FLIGHT; i++) {
            if (c->pending[i]) {
                WaitForSingleObject(c->ov[i].hEvent, INFINITE);
                reap(c, i);
            }
            if (!c->stop)
                issue(c, i);
        }
    }
    if (c->close_pending) {
        if (!CloseHandle(c->h))
            c->failures++;
        c->h = NULL;
    }
    for (unsigned i = 0; i < IN_FLIGHT; i++) {
        if (c->pending[i]) {
            WaitForSingleObject(c->ov[i].hEvent, INFINITE);
            reap(c, i);
        }
    }
    if (c->h && !CloseHandle(c->h))
        c->failures++;
    return 0;
}

static void one_round(unsigned round, unsigned *failures, unsigned *served_after)
{
    static client clients[CLIENTS];
    HANDLE threads[CLIENTS];
    nthost_service_status st;
    rel_rig rig;
    HANDLE late;

    rig_boot(&rig, NULL, 0x0D1Eu + round);
    for (unsigned i = 0; i < CLIENTS; i++) {
        client *c = &clients[i];
        memset(c, 0, sizeof *c);
        c->port = i % RIG_PORTS;
        c->close_pending = (i + round) % 2 == 0;
        c->h = rig_open(c->port, GENERIC_READ, FILE_FLAG_OVERLAPPED);
        assert_true(c->h != INVALID_HANDLE_VALUE);
        for (unsigned j = 0; j < IN_FLIGHT; j++) {
            c->ov[j].hEvent = CreateEventA(NULL, TRUE, FALSE, NULL);
            assert_non_null(c->ov[j].hEvent);
        }
        threads[i] = CreateThread(NULL, 0, client_main, c, 0, NULL);
        assert_non_null(threads[i]);
    }
    Sleep(3 + round % 5);

    assert_int_equal(nthost_service_stop("DongLpt"), 0);
    assert_int_equal(nthost_service_query("DongLpt", &st), 0);
    assert_int_equal(st.state, NTHOST_SERVICE_STOP_PENDING);
    for (unsigned i = 0; i < CLIENTS; i++)
        clients[i].after_stop = 1;
    late = rig_open(round % RIG_PORTS, GENERIC_READ, 0);
    assert_true(late == INVALID_HANDLE_VALUE);

    Sleep(5);                   /* the open handles keep working meanwhile */
    for (unsigned i = 0; i < CLIENTS; i++)
        clients[i].stop = 1;
    for (unsigned i = 0; i < CLIENTS; i++) {
        assert_int_equal(WaitForSingleObject(threads[i], INFINITE), WAIT_OBJECT_0);
        CloseHandle(threads[i]);
        for (unsigned j = 0; j < IN_FLIGHT; j++)
            CloseHandle(clients[i].ov[j].hEvent);
        *failures += clients[i].failures;
        *served_after += clients[i].served_after_stop;
    }
    assert_int_equal(nthost_service_query("DongLpt", &st), 0);
    assert_int_equal(st.state, NTHOST_SERVICE_STOPPED);
    rig_shutdown(&rig);         /* namespace and pool as before the start */
}

static void test_unload_under_load(void **state)
{
    unsigned long rounds = rig_param("REL_UNLOAD_ROUNDS", 20);
    unsigned failures = 0, served_after = 0;
    (void)state;

    for (unsigned r = 0; r < rounds; r++)
        one_round(r, &failures, &served_after);
    printf("unload under load: %lu stops with %u clients busy, %u requests served after the "
           "stop, every handle's requests completed, nothing left; %u failures\n",
           rounds, CLIENTS, served_after, failures);
    assert_int_equal(failures, 0);
    assert_true(served_after > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unload_under_load),
    };
    return cmocka_run_group_tests_name("reliability_unload", tests, NULL, NULL);
}
