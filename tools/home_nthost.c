/*
 * tools/home_nthost.c — dongctl's Linux home (home.h): the process is its own
 * machine. nthost boots in-process with the simulated machine (machines/default.ini
 * unless --machine), imports parport.reg and donglpt.reg, and starts both drivers,
 * so dongctl works with no set-up; the key's image lives in the state directory, so
 * what one run writes the next run reads.
 *
 * Paths come from the build (tools/CMakeLists.txt): the .reg files in the source
 * tree, the driver directory of the build tree (NTHOST_DRIVER_DIR overrides it).
 */
#include <stdio.h>
#include <string.h>

#include <nthost/nthost.h>

#include "home.h"

#ifndef DONGCTL_PARPORT_REG
#error "DONGCTL_PARPORT_REG (parport.reg path) comes from tools/CMakeLists.txt"
#endif

static bool booted;

int home_start(const home_options *opt, char *err, size_t errlen)
{
    static const char *const reg_files[] = { DONGCTL_PARPORT_REG, DONGCTL_DONGLPT_REG, NULL };
    nthost_config cfg;
    const char *why;

    memset(&cfg, 0, sizeof cfg);
    cfg.machine = opt->machine;
    cfg.reg_files = reg_files;
    cfg.time_mode = NTHOST_TIME_VIRTUAL;
    cfg.verifier = NTHOST_VERIFIER_DEFAULT;
    cfg.driver_dir = DONGCTL_DRIVER_DIR;
    why = nthost_boot(&cfg);
    if (why) {
        snprintf(err, errlen, "cannot start the simulated machine: %s", why);
        return -1;
    }
    booted = true;
    return 0;
}

void home_stop(void)
{
    if (booted)
        nthost_shutdown();
    booted = false;
}

const char *home_default_key_path(void)
{
    return DONGCTL_DEMO_KEY;
}

int home_trace_start(unsigned port, const char *path, char *err, size_t errlen)
{
    (void)port;
    (void)path;
    snprintf(err, errlen, "not available yet");
    return -1;
}

/* severity_name — the two top bits of an NTSTATUS-format event code. */
static const char *severity_name(uint32_t code)
{
    static const char *const names[] = { "success", "information", "warning", "error" };
    return names[code >> 30];
}

long home_log(home_log_fn *fn, void *ctx, char *err, size_t errlen)
{
    size_t n = nthost_errlog_count();
    (void)err;
    (void)errlen;

    for (size_t i = 0; i < n; i++) {
        nthost_errlog_entry e;
        home_log_entry out;
        if (!nthost_errlog_get(i, &e))
            break;
        memset(&out, 0, sizeof out);
        out.index = (unsigned)i;
        out.source = e.source ? e.source : "?";
        out.event_code = e.error_code;
        out.final_status = e.final_status;
        out.unique_value = e.unique_error_value;
        out.major_function = e.major_function;
        out.severity = severity_name(e.error_code);
        fn(&out, ctx);
    }
    return (long)n;
}
