/*
 * fuzz_stack.c — the one nthost boot of a driver-stack fuzzing process (fuzz_stack.h).
 */
#include "fuzz_common.h"
#include "fuzz_stack.h"
#include <nthost/nthost.h>
#include <openssl/crypto.h>

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
    /* OpenSSL initialises itself on first use, keeping state for the thread that
       does it; the key model's first HMAC may run on any nthost thread, which can
       end without freeing it. Initialised here, it belongs to this thread. */
    OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL);
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
