/*
 * tools/home.h — what differs between dongctl's two homes, and only that.
 *
 * Linux (home_nthost.c): dongctl is its own machine. It boots nthost in-process with
 * the simulated machine and the driver services before doing anything, and shuts it
 * down at exit. Windows (home_win32.c): the operating system and the installed
 * DongLpt service are already there.
 *
 * Everything else in dongctl is plain Win32 + C stdio, the same source on both.
 */
#ifndef DONG_TOOLS_HOME_H
#define DONG_TOOLS_HOME_H

#include <stdbool.h>
#include <stddef.h>

typedef struct home_options {
    const char *machine;     /* --machine FILE, or NULL for the default machine */
    const char *reg;         /* --reg FILE: imported after the services' own, or NULL */
} home_options;

/*
 * Bring up the world dongctl talks to. Returns 0, or -1 with a message for the user
 * in err (e.g. the machine description is invalid, a driver failed to start).
 */
int home_start(const home_options *opt, char *err, size_t errlen);

/*
 * Start recording port's lines (1-based) to path, after home_start. Returns 0, or -1
 * with a message in err (and on a home that cannot trace).
 */
int home_trace_start(unsigned port, const char *path, char *err, size_t errlen);

/* Undo home_start (stops a trace, unloads drivers, saves nothing extra: the key
   image is already on disk). Safe to call when home_start failed. */
void home_stop(void);

/* The key file auth uses when --key is not given (the demo key's secret). */
const char *home_default_key_path(void);

/*
 * Event log entries written by the DongLpt service (and the drivers it relies on),
 * oldest first. Returns the number of entries, or -1 when this home cannot list them
 * from here (err then says where to look instead).
 */
typedef struct home_log_entry {
    unsigned index;
    unsigned long long time_ns;  /* machine time of the entry since power-on */
    const char *source;        /* service name */
    unsigned long event_code;  /* NTSTATUS-format message id */
    unsigned long final_status;
    unsigned long unique_value;
    unsigned major_function;
    const char *severity;      /* "success", "information", "warning", "error" */
    char text[512];            /* message text with insertions, or "" if unknown */
} home_log_entry;

/*
 * The device a DOS device name (e.g. "LPT1") leads to, e.g. \Device\Parallel0, into
 * target. Returns 0, or -1 when no such name exists.
 */
int home_dos_target(const char *name, char *target, size_t len);

typedef void home_log_fn(const home_log_entry *e, void *ctx);
long home_log(home_log_fn *fn, void *ctx, char *err, size_t errlen);

#endif
