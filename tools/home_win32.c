/*
 * tools/home_win32.c — dongctl's Windows home (home.h): the operating system and
 * the installed DongLpt service are already running, so there is nothing to boot.
 */
#include <windows.h>
#include <stdio.h>
#include <string.h>

#include "home.h"

int home_start(const home_options *opt, char *err, size_t errlen)
{
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
