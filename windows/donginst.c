/*
 * windows/donginst.c — install, start, stop, remove and query the DongLpt driver
 * through the Service Control Manager, without a reboot:
 *
 *   donginst install [--sys FILE] [--reg FILE]
 *   donginst start | stop | remove | status
 *
 * install copies donglpt.sys to %SystemRoot%\<ImagePath>, creates the service
 * (SERVICE_KERNEL_DRIVER) with the Start, ErrorControl, Group and ImagePath of
 * donglpt.reg, writes every value of the .reg's Services\DongLpt\Parameters key with
 * the registry API, and registers DongLpt as an event log source whose message file
 * is the driver itself. By default both files are taken from donginst.exe's folder.
 */
#include <windows.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include <winioctl.h>
#include <donglpt.h>

#include "regfile.h"
#include "svcreg.h"

#define EXIT_OK         0
#define EXIT_USAGE      1
#define EXIT_NOT_FOUND  2   /* not installed, or an input file is missing */
#define EXIT_DENIED     3   /* not elevated */
#define EXIT_FAILED     4

#define EVENTLOG_KEY_A  "SYSTEM\\CurrentControlSet\\Services\\EventLog\\System\\" DONG_SERVICE_NAME_A
#define DEFAULT_IMAGE   L"System32\\drivers\\donglpt.sys"
#define STOP_WAIT_MS    10000
#define POLL_MS         100

/* The second pass over donglpt.reg: how many Parameters values were written, and
   what failed. */
typedef struct apply_ctx {
    unsigned written;
    char failure[256];
} apply_ctx;

/* say_error — "donginst: <doing>: <system text> (error N)" on stderr; the exit code. */
static int say_error(const char *doing, DWORD error)
{
    char text[512] = "";
    DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL,
                             error, 0, text, sizeof text, NULL);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == '.'))
        text[--n] = 0;
    fprintf(stderr, "donginst: %s: %s (error %lu)\n", doing, n ? text : "failed", (unsigned long)error);
    if (error == ERROR_ACCESS_DENIED) {
        fprintf(stderr, "donginst: run it from an elevated prompt (Run as administrator)\n");
        return EXIT_DENIED;
    }
    if (error == ERROR_SERVICE_DOES_NOT_EXIST || error == ERROR_FILE_NOT_FOUND)
        return EXIT_NOT_FOUND;
    return EXIT_FAILED;
}

/* beside_exe — path of name in donginst.exe's folder. */
static void beside_exe(const char *name, char *out, size_t outlen)
{
    char self[MAX_PATH];
    DWORD n = GetModuleFileNameA(NULL, self, sizeof self);
    char *slash = n && n < sizeof self ? strrchr(self, '\\') : NULL;

    if (slash) {
        slash[1] = 0;
        snprintf(out, outlen, "%s%s", self, name);
    } else {
        snprintf(out, outlen, "%s", name);
    }
}

/*
 * image_file — the file a service's ImagePath names, the way the kernel resolves a
 * driver's: "\SystemRoot\..." and a relative path are under the Windows folder,
 * "\??\X:\..." and "X:\..." are as they are. FALSE if it does not fit.
 */
static BOOL image_file(const WCHAR *image, WCHAR *out, size_t outlen)
{
    static const WCHAR systemroot[] = L"\\SystemRoot\\";
    static const WCHAR dosdevices[] = L"\\??\\";
    WCHAR windir[MAX_PATH];
    int n;

    if (_wcsnicmp(image, dosdevices, wcslen(dosdevices)) == 0)
        n = _snwprintf(out, outlen, L"%ls", image + wcslen(dosdevices));
    else if (image[0] && image[1] == L':')
        n = _snwprintf(out, outlen, L"%ls", image);
    else if (!GetWindowsDirectoryW(windir, MAX_PATH))
        return FALSE;
    else if (_wcsnicmp(image, systemroot, wcslen(systemroot)) == 0)
        n = _snwprintf(out, outlen, L"%ls\\%ls", windir, image + wcslen(systemroot));
    else
        n = _snwprintf(out, outlen, L"%ls\\%ls", windir, image);
    return n > 0 && (size_t)n < outlen;
}

/*
 * apply_parameter — write one value of the .reg's Parameters subtree to HKLM,
 * creating the key as needed; the service key and other keys are left alone (the
 * SCM owns the first, the others are not ours).
 */
static int apply_parameter(const regf_value *v, void *arg)
{
    apply_ctx *c = arg;
    const char *subkey = svc_reg_parameter_subkey(v->key, DONG_SERVICE_NAME_A);
    WCHAR wkey[512], wname[256];
    HKEY key;
    LONG rc;

    if (!subkey)
        return 0;
    if (!MultiByteToWideChar(CP_UTF8, 0, subkey, -1, wkey, 512) ||
        !MultiByteToWideChar(CP_UTF8, 0, v->name, -1, wname, 256)) {
        snprintf(c->failure, sizeof c->failure, "line %u: name too long", v->line);
        SetLastError(ERROR_INVALID_DATA);
        return 1;
    }
    rc = RegCreateKeyExW(HKEY_LOCAL_MACHINE, wkey, 0, NULL, REG_OPTION_NON_VOLATILE, KEY_SET_VALUE,
                         NULL, &key, NULL);
    if (rc == ERROR_SUCCESS) {
        rc = RegSetValueExW(key, wname, 0, v->type, v->data, (DWORD)v->size);
        RegCloseKey(key);
    }
    if (rc != ERROR_SUCCESS) {
        SetLastError((DWORD)rc);
        snprintf(c->failure, sizeof c->failure, "writing %s\\%s", subkey, v->name);
        return 1;
    }
    printf("  %s\\%s\n", subkey, v->name[0] ? v->name : "(default)");
    c->written++;
    return 0;
}

/* register_event_source — Event Viewer finds DongLpt's message text in the driver. */
static int register_event_source(void)
{
    static const char files[] =
        "%SystemRoot%\\System32\\IoLogMsg.dll;%SystemRoot%\\System32\\drivers\\donglpt.sys";
    DWORD types = EVENTLOG_ERROR_TYPE | EVENTLOG_WARNING_TYPE | EVENTLOG_INFORMATION_TYPE;
    HKEY key;
    LONG rc = RegCreateKeyExA(HKEY_LOCAL_MACHINE, EVENTLOG_KEY_A, 0, NULL, REG_OPTION_NON_VOLATILE,
                              KEY_SET_VALUE, NULL, &key, NULL);

    if (rc == ERROR_SUCCESS) {
        rc = RegSetValueExA(key, "EventMessageFile", 0, REG_EXPAND_SZ, (const BYTE *)files, sizeof files);
        if (rc == ERROR_SUCCESS)
            rc = RegSetValueExA(key, "TypesSupported", 0, REG_DWORD, (const BYTE *)&types, sizeof types);
        RegCloseKey(key);
    }
    return rc == ERROR_SUCCESS ? EXIT_OK : say_error("registering the event log source", (DWORD)rc);
}

static int cmd_install(const char *sys, const char *reg)
{
    svc_reg s;
    apply_ctx applied = { 0, "" };
    WCHAR wsys[MAX_PATH], target[2 * MAX_PATH];
    const WCHAR *image, *group;
    SC_HANDLE scm, svc;
    char err[512];
    int rc;

    if (svc_reg_read(reg, DONG_SERVICE_NAME_A, &s, err, sizeof err)) {
        fprintf(stderr, "donginst: %s\n", err);
        return EXIT_NOT_FOUND;
    }
    /* WCHAR is 16-bit here, so the .reg's UTF-16 text is used as it is. */
    image = s.image[0] ? (const WCHAR *)s.image : DEFAULT_IMAGE;
    group = s.group[0] ? (const WCHAR *)s.group : NULL;
    if (GetFileAttributesA(sys) == INVALID_FILE_ATTRIBUTES)
        return say_error(sys, GetLastError());
    if (!image_file(image, target, sizeof target / sizeof target[0]) ||
        !MultiByteToWideChar(CP_ACP, 0, sys, -1, wsys, MAX_PATH))
        return say_error("finding where ImagePath points", GetLastError());
    if (!CopyFileW(wsys, target, FALSE))
        return say_error("copying donglpt.sys into the drivers folder", GetLastError());
    printf("copied %s to %ls\n", sys, target);

    scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CREATE_SERVICE | SC_MANAGER_CONNECT);
    if (!scm)
        return say_error("opening the Service Control Manager", GetLastError());
    svc = CreateServiceW(scm, DONG_SERVICE_NAME_U, DONG_SERVICE_NAME_U, SERVICE_ALL_ACCESS,
                         SERVICE_KERNEL_DRIVER, s.start, s.error_control, image, group, NULL, NULL,
                         NULL, NULL);
    if (!svc && GetLastError() == ERROR_SERVICE_EXISTS) {
        /* Reinstall over an existing service: bring its settings in line with the .reg. */
        svc = OpenServiceW(scm, DONG_SERVICE_NAME_U, SERVICE_ALL_ACCESS);
        if (svc && !ChangeServiceConfigW(svc, SERVICE_KERNEL_DRIVER, s.start, s.error_control, image,
                                         group, NULL, NULL, NULL, NULL, NULL)) {
            rc = say_error("updating the existing service", GetLastError());
            CloseServiceHandle(svc);
            CloseServiceHandle(scm);
            return rc;
        }
        if (svc)
            printf("service %s already existed: settings updated\n", DONG_SERVICE_NAME_A);
    } else if (svc) {
        printf("service %s created (kernel driver, start %lu, error control %lu, group \"%ls\")\n",
               DONG_SERVICE_NAME_A, (unsigned long)s.start, (unsigned long)s.error_control,
               group ? group : L"");
    }
    if (!svc) {
        rc = say_error("creating the service", GetLastError());
        CloseServiceHandle(scm);
        return rc;
    }
    CloseServiceHandle(svc);
    CloseServiceHandle(scm);

    printf("parameters from %s:\n", reg);
    int prc = regf_parse_file(reg, apply_parameter, &applied, err, sizeof err);
    if (prc == -1) {
        fprintf(stderr, "donginst: %s\n", err);
        return EXIT_FAILED;
    }
    if (prc)
        return say_error(applied.failure, GetLastError());
    printf("%u Parameters value(s) written\n", applied.written);
    if ((rc = register_event_source()))
        return rc;
    printf("installed: start it with `donginst start` (or `sc start %s`)\n", DONG_SERVICE_NAME_A);
    return EXIT_OK;
}

/* open_service — the DongLpt service with the given access, or NULL (reported). */
static SC_HANDLE open_service(SC_HANDLE *scm, DWORD access, int *rc)
{
    SC_HANDLE svc;

    *scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
    if (!*scm) {
        *rc = say_error("opening the Service Control Manager", GetLastError());
        return NULL;
    }
    svc = OpenServiceW(*scm, DONG_SERVICE_NAME_U, access);
    if (!svc) {
        DWORD e = GetLastError();
        CloseServiceHandle(*scm);
        if (e == ERROR_SERVICE_DOES_NOT_EXIST) {
            fprintf(stderr, "donginst: %s is not installed (donginst install)\n", DONG_SERVICE_NAME_A);
            *rc = EXIT_NOT_FOUND;
        } else {
            *rc = say_error("opening the service", e);
        }
    }
    return svc;
}

static const char *state_name(DWORD state)
{
    switch (state) {
    case SERVICE_STOPPED:          return "STOPPED";
    case SERVICE_START_PENDING:    return "START_PENDING";
    case SERVICE_STOP_PENDING:     return "STOP_PENDING";
    case SERVICE_RUNNING:          return "RUNNING";
    case SERVICE_CONTINUE_PENDING: return "CONTINUE_PENDING";
    case SERVICE_PAUSE_PENDING:    return "PAUSE_PENDING";
    case SERVICE_PAUSED:           return "PAUSED";
    default:                       return "UNKNOWN";
    }
}

static int cmd_start(void)
{
    SC_HANDLE scm, svc;
    SERVICE_STATUS st;
    int rc = EXIT_OK;

    if (!(svc = open_service(&scm, SERVICE_START | SERVICE_QUERY_STATUS, &rc)))
        return rc;
    if (StartServiceW(svc, 0, NULL))
        printf("%s started\n", DONG_SERVICE_NAME_A);
    else if (GetLastError() == ERROR_SERVICE_ALREADY_RUNNING)
        printf("%s is already running\n", DONG_SERVICE_NAME_A);
    else
        rc = say_error("starting the driver (its event log entries say why)", GetLastError());
    if (rc == EXIT_OK && QueryServiceStatus(svc, &st))
        printf("state: %s\n", state_name(st.dwCurrentState));
    CloseServiceHandle(svc);
    CloseServiceHandle(scm);
    return rc;
}

/*
 * stop_service — ask the driver to unload and wait until it has. The I/O manager
 * calls DriverUnload only when no handle to its devices is open; until then the
 * service stays STOP_PENDING, which is reported rather than waited out forever.
 */
static int stop_service(SC_HANDLE svc)
{
    SERVICE_STATUS st;

    if (!ControlService(svc, SERVICE_CONTROL_STOP, &st)) {
        DWORD e = GetLastError();
        if (e == ERROR_SERVICE_NOT_ACTIVE) {
            printf("%s is not running\n", DONG_SERVICE_NAME_A);
            return EXIT_OK;
        }
        return say_error("stopping the driver", e);
    }
    for (DWORD waited = 0; st.dwCurrentState != SERVICE_STOPPED && waited < STOP_WAIT_MS; waited += POLL_MS) {
        Sleep(POLL_MS);
        if (!QueryServiceStatus(svc, &st))
            return say_error("querying the driver", GetLastError());
    }
    if (st.dwCurrentState != SERVICE_STOPPED) {
        fprintf(stderr, "donginst: %s is %s: close the programs that have \\\\.\\DongLptN open\n",
                DONG_SERVICE_NAME_A, state_name(st.dwCurrentState));
        return EXIT_FAILED;
    }
    printf("%s stopped (driver unloaded)\n", DONG_SERVICE_NAME_A);
    return EXIT_OK;
}

static int cmd_stop(void)
{
    SC_HANDLE scm, svc;
    int rc = EXIT_OK;

    if (!(svc = open_service(&scm, SERVICE_STOP | SERVICE_QUERY_STATUS, &rc)))
        return rc;
    rc = stop_service(svc);
    CloseServiceHandle(svc);
    CloseServiceHandle(scm);
    return rc;
}

/*
 * cmd_remove — stop, delete the service (the SCM removes its key, Parameters
 * included, once the last handle closes), unregister the event source and delete
 * the driver file, or schedule that for the next boot if the image is still mapped.
 */
static int cmd_remove(void)
{
    SC_HANDLE scm, svc;
    QUERY_SERVICE_CONFIGW *cfg = NULL;
    WCHAR target[2 * MAX_PATH] = L"";
    DWORD need = 0;
    int rc = EXIT_OK;

    if (!(svc = open_service(&scm, SERVICE_STOP | SERVICE_QUERY_STATUS | SERVICE_QUERY_CONFIG | DELETE, &rc)))
        return rc;
    if (!QueryServiceConfigW(svc, NULL, 0, &need) && GetLastError() == ERROR_INSUFFICIENT_BUFFER &&
        (cfg = HeapAlloc(GetProcessHeap(), 0, need)) && QueryServiceConfigW(svc, cfg, need, &need) &&
        !image_file(cfg->lpBinaryPathName, target, sizeof target / sizeof target[0]))
        target[0] = 0;
    if (cfg)
        HeapFree(GetProcessHeap(), 0, cfg);
    if ((rc = stop_service(svc)) == EXIT_OK) {
        if (DeleteService(svc))
            printf("service %s deleted\n", DONG_SERVICE_NAME_A);
        else
            rc = say_error("deleting the service", GetLastError());
    }
    CloseServiceHandle(svc);
    CloseServiceHandle(scm);
    if (rc)
        return rc;
    LONG r = RegDeleteKeyA(HKEY_LOCAL_MACHINE, EVENTLOG_KEY_A);
    if (r != ERROR_SUCCESS && r != ERROR_FILE_NOT_FOUND)
        return say_error("removing the event log source", (DWORD)r);
    if (target[0]) {
        if (DeleteFileW(target))
            printf("deleted %ls\n", target);
        else if (MoveFileExW(target, NULL, MOVEFILE_DELAY_UNTIL_REBOOT))
            printf("%ls is still in use: it will be deleted at the next boot\n", target);
        else if (GetLastError() != ERROR_FILE_NOT_FOUND)
            return say_error("deleting the driver file", GetLastError());
    }
    return EXIT_OK;
}

static int cmd_status(void)
{
    SC_HANDLE scm, svc;
    SERVICE_STATUS st;
    QUERY_SERVICE_CONFIGW *cfg = NULL;
    DWORD need = 0;
    int rc = EXIT_OK;

    if (!(svc = open_service(&scm, SERVICE_QUERY_STATUS | SERVICE_QUERY_CONFIG, &rc)))
        return rc;
    if (!QueryServiceStatus(svc, &st)) {
        rc = say_error("querying the driver", GetLastError());
    } else {
        printf("%s: %s\n", DONG_SERVICE_NAME_A, state_name(st.dwCurrentState));
        if (!QueryServiceConfigW(svc, NULL, 0, &need) && GetLastError() == ERROR_INSUFFICIENT_BUFFER &&
            (cfg = HeapAlloc(GetProcessHeap(), 0, need)) && QueryServiceConfigW(svc, cfg, need, &need)) {
            printf("  image:         %ls\n", cfg->lpBinaryPathName);
            printf("  start type:    %lu\n", (unsigned long)cfg->dwStartType);
            printf("  error control: %lu\n", (unsigned long)cfg->dwErrorControl);
            printf("  group:         %ls\n", cfg->lpLoadOrderGroup ? cfg->lpLoadOrderGroup : L"");
        }
        if (cfg)
            HeapFree(GetProcessHeap(), 0, cfg);
    }
    CloseServiceHandle(svc);
    CloseServiceHandle(scm);
    return rc;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: donginst install [--sys FILE] [--reg FILE]   copy the driver, create the service\n"
            "       donginst start                              load the driver (no reboot)\n"
            "       donginst stop                               unload it\n"
            "       donginst remove                             stop, delete the service and the file\n"
            "       donginst status                             state and settings\n"
            "Defaults: donglpt.sys and donglpt.reg next to donginst.exe. Run elevated.\n"
            "exit codes: 0 ok, 1 usage, 2 not installed or file missing, 3 access denied, 4 failed\n");
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    char sys[MAX_PATH], reg[MAX_PATH];

    if (argc < 2)
        return usage();
    if (strcmp(argv[1], "install") == 0) {
        beside_exe("donglpt.sys", sys, sizeof sys);
        beside_exe("donglpt.reg", reg, sizeof reg);
        for (int i = 2; i < argc; i++) {
            if (strcmp(argv[i], "--sys") == 0 && i + 1 < argc)
                snprintf(sys, sizeof sys, "%s", argv[++i]);
            else if (strcmp(argv[i], "--reg") == 0 && i + 1 < argc)
                snprintf(reg, sizeof reg, "%s", argv[++i]);
            else
                return usage();
        }
        return cmd_install(sys, reg);
    }
    if (argc != 2)
        return usage();
    if (strcmp(argv[1], "start") == 0)
        return cmd_start();
    if (strcmp(argv[1], "stop") == 0)
        return cmd_stop();
    if (strcmp(argv[1], "remove") == 0)
        return cmd_remove();
    if (strcmp(argv[1], "status") == 0)
        return cmd_status();
    return usage();
}
