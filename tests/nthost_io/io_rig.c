/*
 * io_rig.c — see io_rig.h.
 */
#include "io_rig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "io_internal.h"
#include "nthost/nthost.h"

/* In a forked child a failed check must end the child: cmocka's failure handling
 * would otherwise carry on running the parent's remaining tests in it. */
static BOOLEAN rig_in_child;

static void rig_check(BOOLEAN ok, const char *what)
{
    if (ok)
        return;
    if (rig_in_child) {
        fprintf(stderr, "io_rig: %s failed in the provocation child\n", what);
        _exit(3);
    }
    fail_msg("%s failed", what);
}

void rig_boot(BOOLEAN verifier)
{
    nthost_config cfg = {
        .machine = IO_TEST_MACHINE,
        .verifier = verifier ? NTHOST_VERIFIER_ON : NTHOST_VERIFIER_OFF,
        .no_autostart = true,
    };
    const char *err = nthost_boot(&cfg);
    if (err)
        fprintf(stderr, "nthost_boot: %s\n", err);
    rig_check(err == NULL, "nthost_boot");
}

void rig_shutdown(void)
{
    nthost_shutdown();
}

void rig_image(PVOID *base, SIZE_T *size)
{
    rig_check(VfObjectRangeOfAddress((const void *)(ULONG_PTR)rig_image, base, size), "VfObjectRangeOfAddress");
}

PDRIVER_OBJECT rig_driver(PCWSTR name)
{
    UNICODE_STRING us;
    PDRIVER_OBJECT drv;
    PVOID base;
    SIZE_T size;
    rig_image(&base, &size);
    RtlInitUnicodeString(&us, name);
    rig_check(NT_SUCCESS(IopCreateDriverObject(&us, base, (ULONG)size, &drv)), "IopCreateDriverObject");
    return drv;
}

void rig_driver_entered(PDRIVER_OBJECT driver)
{
    IopDriverEntryReturned(driver);
}

void rig_driver_gone(PDRIVER_OBJECT driver)
{
    IopDeleteDriverObject(driver);
}

PDEVICE_OBJECT rig_device(PDRIVER_OBJECT driver, PCWSTR name, ULONG ext, ULONG flags)
{
    UNICODE_STRING us;
    PDEVICE_OBJECT dev;
    if (name)
        RtlInitUnicodeString(&us, name);
    rig_check(NT_SUCCESS(IoCreateDevice(driver, ext, name ? &us : NULL, FILE_DEVICE_UNKNOWN, 0, FALSE, &dev)),
              "IoCreateDevice");
    dev->Flags |= flags;
    return dev;
}

void rig_expect_bugcheck(rig_provocation *fn, ULONG code, ULONG_PTR p1, const char *says)
{
    char path[] = "/tmp/nthost-io-bugcheck-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        rig_in_child = TRUE;
        setenv("NTHOST_BUGCHECK_FILE", path, 1);
        rig_boot(TRUE);
        fn();
        /* Reaching here means no bugcheck: exit with a status the parent rejects. */
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    FILE *f = fopen(path, "r");
    char report[4096];
    size_t n = f ? fread(report, 1, sizeof(report) - 1, f) : 0;
    report[n] = 0;
    if (f)
        fclose(f);
    unlink(path);
    unsigned got_code = 0;
    unsigned long long got_p1 = 0;
    const char *stop = strstr(report, "*** STOP: ");
    BOOLEAN found = stop && sscanf(stop, "*** STOP: 0x%x (0x%llx", &got_code, &got_p1) == 2;
    if (!found || (says && !strstr(report, says)))
        print_error("bugcheck report:\n%s\n", report);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), NTHOST_BUGCHECK_EXIT);
    assert_true(found);
    assert_int_equal(got_code, code);
    if (p1 != (ULONG_PTR)-1)
        assert_int_equal(got_p1, p1);
    if (says)
        assert_non_null(strstr(report, says));
}
