/*
 * tools/home_win32.c — dongctl's Windows home (home.h): the operating system and
 * the installed DongLpt service are already running, so there is nothing to boot.
 */
#include <windows.h>
#include <stdio.h>
#include <string.h>

#include "home.h"

/*
 * home_start — nothing to boot; dongctl's messages are UTF-8 (the same text as on
 * Linux, "no key — ..."), so the console is told so.
 */
int home_start(const home_options *opt, char *err, size_t errlen)
{
    SetConsoleOutputCP(CP_UTF8);
    if (opt->machine) {
        snprintf(err, errlen, "--machine describes a simulated machine; this is a real one");
        return -1;
    }
    if (opt->reg) {
        snprintf(err, errlen, "--reg configures the simulated machine; on Windows edit the registry "
                              "(regedit, or donginst install --reg FILE) and restart the service");
        return -1;
    }
    return 0;
}

void home_stop(void)
{
}

/*
 * home_default_key_path — demo.key next to dongctl.exe, where the package puts it;
 * the current directory's demo.key if the module path cannot be read.
 */
const char *home_default_key_path(void)
{
    static char path[MAX_PATH];
    DWORD n = GetModuleFileNameA(NULL, path, sizeof path);
    char *slash;

    if (n == 0 || n >= sizeof path || !(slash = strrchr(path, '\\')) ||
        (size_t)(slash - path) + sizeof "\\demo.key" > sizeof path)
        return "demo.key";
    strcpy(slash + 1, "demo.key");
    return path;
}

int home_trace_start(unsigned port, const char *path, char *err, size_t errlen)
{
    (void)port;
    (void)path;
    snprintf(err, errlen, "line traces come from the simulated machine; a real port cannot record them");
    return -1;
}

long home_log(home_log_fn *fn, void *ctx, char *err, size_t errlen)
{
    (void)fn;
    (void)ctx;
    snprintf(err, errlen,
             "DongLpt writes to the System event log: open Event Viewer (eventvwr.msc), Windows Logs > "
             "System, source DongLpt; or run: wevtutil qe System /q:\"*[System[Provider[@Name='DongLpt']]]\" /f:text");
    return -1;
}

/*
 * home_dos_target — QueryDosDevice's first (current) target of the name.
 */
int home_dos_target(const char *name, char *target, size_t len)
{
    char buffer[1024];

    if (QueryDosDeviceA(name, buffer, sizeof buffer) == 0)
        return -1;
    snprintf(target, len, "%s", buffer);
    return 0;
}
