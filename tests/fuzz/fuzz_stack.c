/*
 * fuzz_stack.c — the one nthost boot of a driver-stack fuzzing process (fuzz_stack.h).
 */
#include "fuzz_common.h"
#include "fuzz_stack.h"
#include <nthost/nthost.h>

static void stack_shutdown(void)
{
    if (nthost_running())
        nthost_shutdown();
}

void fuzz_stack_boot(const char *ports)
{
    static const char *const regs[] = { PARPORT_REG, DONGLPT_REG, NULL };
    nthost_config cfg;
    const char *err;
    char *machine;

    if (nthost_running())
        return;
    machine = fuzz_write_file("machine.ini", ports, strlen(ports));
    memset(&cfg, 0, sizeof cfg);
    cfg.machine = machine;
    cfg.reg_files = regs;
    cfg.time_mode = NTHOST_TIME_VIRTUAL;
    cfg.verifier = NTHOST_VERIFIER_ON;
    cfg.driver_dir = DRIVER_DIR;
    setenv("NTHOST_DRIVER_DIR", DRIVER_DIR, 0);
    err = nthost_boot(&cfg);
    FUZZ_CHECK(err == NULL, "nthost_boot: %s", err);
    free(machine);
    atexit(stack_shutdown);
}
