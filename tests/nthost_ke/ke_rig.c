/* ke_rig.c — see ke_rig.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ke_rig.h"

sim_clock *rig_clock;
sim_bus *rig_bus;
static PVOID rig_fake_base;

void rig_boot_with(const KI_CONFIG *cfg)
{
    rig_clock = sim_clock_create();
    rig_bus = sim_bus_create(rig_clock);
    KiInitialize(cfg, rig_clock, rig_bus, "test-main");
}

int rig_boot(void **state)
{
    (void)state;
    KI_CONFIG cfg = { .Verifier = TRUE };
    rig_boot_with(&cfg);
    return 0;
}

int rig_halt(void **state)
{
    (void)state;
    assert_int_equal(KiLiveThreadCount(), 1);
    KiShutdown();
    sim_bus_destroy(rig_bus);
    sim_clock_destroy(rig_clock);
    rig_bus = NULL;
    rig_clock = NULL;
    return 0;
}

int rig_run_child(void (*fn)(void), char **output)
{
    char path[] = "/tmp/nthost_ke_childXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fd, 2);
        rig_boot(NULL);
        fn();
        fflush(NULL);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    FILE *f = fdopen(fd, "r");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *output = calloc(1, (size_t)n + 1);
    if (n > 0)
        assert_int_equal(fread(*output, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    unlink(path);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void rig_expect_bugcheck(void (*fn)(void), ULONG code, ULONG_PTR p1, const char *expect)
{
    char *out;
    int status = rig_run_child(fn, &out);
    char stop[64];
    if (p1 == (ULONG_PTR)~0)
        snprintf(stop, sizeof stop, "*** STOP: 0x%08lX (", (unsigned long)code);
    else
        snprintf(stop, sizeof stop, "*** STOP: 0x%08lX (0x%016llX,", (unsigned long)code, (unsigned long long)p1);
    if (status != NTHOST_BUGCHECK_EXIT || strstr(out, stop) == NULL || (expect && strstr(out, expect) == NULL))
        fprintf(stderr, "child exit %d, wanted \"%s\"%s%s, got:\n%s\n", status, stop, expect ? " and " : "",
                expect ? expect : "", out);
    assert_int_equal(status, NTHOST_BUGCHECK_EXIT);
    assert_non_null(strstr(out, stop));
    if (expect)
        assert_non_null(strstr(out, expect));
    free(out);
}

PVOID rig_register_fake_driver(SIZE_T *size)
{
    PVOID base;
    SIZE_T sz;
    assert_true(VfObjectRangeOfAddress((const void *)rig_register_fake_driver, &base, &sz));
    VfRegisterImage("fakedrv", base, sz);
    rig_fake_base = base;
    if (size)
        *size = sz;
    return base;
}

void rig_unregister_fake_driver(void)
{
    VfUnregisterImage(rig_fake_base);
}

PKTHREAD rig_thread(PKSTART_ROUTINE fn, PVOID ctx)
{
    PKTHREAD t;
    assert_int_equal(KiCreateThread(KiThreadKindSystem, "rig-thread", fn, ctx, &t), STATUS_SUCCESS);
    return t;
}

void rig_join(PKTHREAD t)
{
    assert_int_equal(KeWaitForSingleObject(t, Executive, KernelMode, FALSE, NULL), STATUS_WAIT_0);
    ObDereferenceObject(t);
}
