/*
 * tools/home_nthost.c — dongctl's Linux home (home.h): the process is its own
 * machine. nthost boots in-process with the simulated machine (machines/default.ini
 * unless --machine), imports parport.reg and donglpt.reg, and starts both drivers,
 * so dongctl works with no set-up; the key's image lives in the state directory, so
 * what one run writes the next run reads.
 *
 * Paths come from the build (tools/CMakeLists.txt): the .reg files in the source
 * tree, the driver directory of the build tree (NTHOST_DRIVER_DIR overrides it).
 * The event log is this boot's: what the drivers logged while dongctl ran
 * (NTHOST_EVENTLOG_FILE keeps a copy of every run's entries in a file).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <unistd.h>

#include <nthost/nthost.h>
#include <sim/machine.h>

#include "home.h"

#ifndef DONGCTL_PARPORT_REG
#error "DONGCTL_PARPORT_REG (parport.reg path) comes from tools/CMakeLists.txt"
#endif

static bool booted;
static int traced_port = -1;   /* machine port index being traced, or -1 */
static int state_lock = -1;    /* the state directory's lock file while dongctl runs */

/*
 * lock_state — one dongctl at a time per state directory. Each run loads the key
 * images when it boots and rewrites them as the key changes; two runs side by side
 * would be two keys with one EEPROM, and the later write would undo the earlier
 * one's counter decrements. A second run waits here for the first to finish.
 */
static int lock_state(char *err, size_t errlen)
{
    char dir[4096], path[4200];

    if (sim_machine_state_dir(dir, sizeof dir, true, err, errlen))
        return -1;
    snprintf(path, sizeof path, "%s/dongctl.lock", dir);
    state_lock = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (state_lock < 0 || flock(state_lock, LOCK_EX) != 0) {
        snprintf(err, errlen, "%s: cannot lock the key state directory", path);
        if (state_lock >= 0)
            close(state_lock);
        state_lock = -1;
        return -1;
    }
    return 0;
}

int home_start(const home_options *opt, char *err, size_t errlen)
{
    /* The printer class driver shares the ports with DongLpt (docs/PORT_SHARING.md). */
    static const char *reg_files[] = { DONGCTL_PARPORT_REG, DONGCTL_DONGLPT_REG, DONGCTL_PARALLEL_REG, NULL, NULL };
    nthost_config cfg;
    const char *why;

    /* The drivers' DbgPrint output is for their developers, not for dongctl's users:
       off unless NTHOST_DBGPRINT asks for it. */
    setenv("NTHOST_DBGPRINT", "0", 0);
    if (lock_state(err, errlen))
        return -1;
    /* A user's .reg comes last, so its Parameters override the shipped defaults. */
    reg_files[3] = opt->reg;
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
    if (traced_port >= 0 && nthost_machine())
        sim_machine_trace_stop(nthost_machine(), (unsigned)traced_port);
    traced_port = -1;
    if (booted)
        nthost_shutdown();
    booted = false;
    if (state_lock >= 0)
        close(state_lock);
    state_lock = -1;
}

const char *home_default_key_path(void)
{
    return DONGCTL_DEMO_KEY;
}

/*
 * home_trace_start — \\.\DongLptN drives the machine's port N-1: nthost publishes
 * the ports to parport in the description's order.
 */
int home_trace_start(unsigned port, const char *path, char *err, size_t errlen)
{
    sim_machine *m = nthost_machine();

    if (!m || port == 0 || port > sim_machine_port_count(m)) {
        snprintf(err, errlen, "LPT%u is not a port of this machine", port);
        return -1;
    }
    if (sim_machine_trace_start(m, port - 1, path, err, errlen))
        return -1;
    traced_port = (int)port - 1;
    return 0;
}

typedef struct dos_query {
    char path[80];
    char *target;
    size_t len;
    bool found;
} dos_query;

static void find_dos_link(const nthost_object_info *obj, void *ctx)
{
    dos_query *q = ctx;

    if (!q->found && obj->link_target && !strcmp(obj->type, "SymbolicLink") && !strcasecmp(obj->path, q->path)) {
        snprintf(q->target, q->len, "%s", obj->link_target);
        q->found = true;
    }
}

/*
 * home_dos_target — \??\<name> in nthost's namespace (what QueryDosDevice reads on
 * Windows).
 */
int home_dos_target(const char *name, char *target, size_t len)
{
    dos_query q = { .target = target, .len = len, .found = false };

    snprintf(q.path, sizeof q.path, "\\??\\%s", name);
    nthost_namespace_walk(find_dos_link, &q);
    return q.found ? 0 : -1;
}

static const char *severity_name(unsigned severity)
{
    static const char *const names[] = { "success", "information", "warning", "error" };
    return names[severity & 3];
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
        out.time_ns = e.machine_time_ns;
        out.source = e.source ? e.source : "?";
        out.event_code = e.error_code;
        out.final_status = e.final_status;
        out.unique_value = e.unique_error_value;
        out.major_function = e.major_function;
        out.severity = severity_name(e.severity);
        char *text = nthost_errlog_format(i);
        if (text) {
            /* One line per entry: message files end lines with CR LF. */
            for (char *c = text; *c; c++)
                if (*c == '\r' || *c == '\n')
                    *c = ' ';
            size_t len = strlen(text);
            while (len > 0 && text[len - 1] == ' ')
                text[--len] = 0;
            snprintf(out.text, sizeof out.text, "%s", text);
            free(text);
        }
        fn(&out, ctx);
    }
    return (long)n;
}
