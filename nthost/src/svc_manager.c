/*
 * svc_manager.c — the service control manager and driver loader for kernel drivers.
 *
 * A service is Services\<name> in the registry (Type, Start, Group, ImagePath,
 * ErrorControl, DependOnGroup). Starting it loads the driver's shared object
 * (ImagePath's file name with .sys replaced by .so, looked up in the driver
 * directory), registers its address range with the verifier and pool accounting,
 * creates \Driver\<name> and calls DriverEntry in a system thread at PASSIVE_LEVEL
 * while the requester waits — NT runs DriverEntry in the system process, not in the
 * caller. Stopping calls DriverUnload the same way, then the verifier's unload checks
 * (devices, links, IRPs; timers, DPCs, threads; pool) and unloads the image.
 *
 * A failed DriverEntry is NT's case too: the driver must have cleaned up after
 * itself; the loader only deletes the driver object and unloads the image (with the
 * verifier's checks first, so leftovers are reported instead of left dangling) and
 * logs event 7000 of the Service Control Manager.
 */
#include <ntddk.h>

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "bugcheck.h"
#include "cm_internal.h"
#include "ex_internal.h"
#include "io_internal.h"
#include "ke_internal.h"
#include "nthost/nthost.h"

/* Win32 error codes the SCM answers with. */
#define ERROR_FILE_NOT_FOUND 2u
#define ERROR_NOT_ENOUGH_MEMORY 8u
#define ERROR_NOT_SUPPORTED 50u
#define ERROR_PROC_NOT_FOUND 127u
#define ERROR_BAD_EXE_FORMAT 193u
#define ERROR_INVALID_SERVICE_CONTROL 1052u
#define ERROR_SERVICE_ALREADY_RUNNING 1056u
#define ERROR_SERVICE_DISABLED 1058u
#define ERROR_SERVICE_DOES_NOT_EXIST 1060u
#define ERROR_SERVICE_CANNOT_ACCEPT_CTRL 1061u
#define ERROR_SERVICE_NOT_ACTIVE 1062u
#define ERROR_SERVICE_DEPENDENCY_FAIL 1068u

/* Services\<name>\Type and Start values. */
#define SERVICE_KERNEL_DRIVER 1u
#define SERVICE_FILE_SYSTEM_DRIVER 2u
#define SERVICE_AUTO_START 2u
#define SERVICE_DISABLED 4u
#define SERVICE_ERROR_IGNORE 0u

#define SVC_SERVICES_KEY "SYSTEM\\CurrentControlSet\\Services"
#define SVC_GROUP_ORDER_KEY "SYSTEM\\CurrentControlSet\\Control\\ServiceGroupOrder"
#define SVC_REGISTRY_PREFIX "\\Registry\\Machine\\System\\CurrentControlSet\\Services\\"
#define SVC_SCM_SOURCE "Service Control Manager"
#define SVC_EVENT_START_FAILED 0xC0001B58u /* event 7000, severity error */

/* NT's group order, shortened to the groups a legacy driver uses; what matters to
 * DongLpt is "Parallel arbitrator" (parport) before "Extended Base" (its clients). */
static const char *const svc_default_groups[] = {
    "System Reserved", "Boot Bus Extender", "System Bus Extender", "SCSI miniport", "Port",
    "Primary Disk", "SCSI Class", "SCSI CDROM Class", "Filter", "Boot File System", "Base",
    "Pointer Port", "Keyboard Port", "Pointer Class", "Keyboard Class", "Video Init", "Video",
    "Video Save", "File System", "Event Log", "Streams Drivers", "NDIS Wrapper", "PNP_TDI",
    "NDIS", "TDI", "NetBIOSGroup", "Parallel arbitrator", "Extended Base", "PCI Configuration",
};

/* What the registry says about a service. */
typedef struct svc_config {
    char name[128];        /* the key's own spelling */
    uint32_t type, start, error_control;
    bool has_type, has_start;
    char group[64];
    char image[256];       /* resolved shared object path */
    char *depend_groups;   /* REG_MULTI_SZ as consecutive NUL-terminated UTF-8, or NULL */
} svc_config;

/* A service that was started at least once. */
typedef struct svc_record {
    struct svc_record *next;
    char name[128];
    char group[64];        /* Group when it last started (the DependOnGroup rule) */
    nthost_service_state state;
    void *dl;
    PVOID base;
    SIZE_T size;
    PDRIVER_OBJECT driver;
    unsigned start_seq;
    uint32_t win32_exit;
    NTSTATUS driver_status;
} svc_record;

static pthread_mutex_t svc_mutex = PTHREAD_MUTEX_INITIALIZER;
static svc_record *svc_records;
static unsigned svc_seq;
static char *svc_dir;

const char *svc_driver_dir(void)
{
    const char *env = getenv("NTHOST_DRIVER_DIR");
    if (env && *env)
        return env;
    return svc_dir ? svc_dir : ".";
}

/* ---------------------------------------------------------------- registry ---- */

/* Open Machine\<path> (cm lock held); NULL if absent. */
static cm_key *svc_key(const char *path)
{
    uint32_t len;
    uint16_t *w = cm_utf8_to_utf16(path, &len);
    cm_key *key = NULL;
    if (w && cm_lookup(cm_machine(), w, len, &key))
        key = NULL;
    free(w);
    return key;
}

static const cm_value *svc_value(cm_key *key, const char *name)
{
    uint32_t len;
    uint16_t *w = cm_utf8_to_utf16(name, &len);
    const cm_value *v = w ? cm_find_value(key, w, len) : NULL;
    free(w);
    return v;
}

static bool svc_dword(cm_key *key, const char *name, uint32_t *out)
{
    const cm_value *v = svc_value(key, name);
    if (!v || v->type != CM_REG_DWORD || v->size != 4)
        return false;
    *out = (uint32_t)v->data[0] | (uint32_t)v->data[1] << 8 | (uint32_t)v->data[2] << 16 | (uint32_t)v->data[3] << 24;
    return true;
}

/* REG_SZ / REG_EXPAND_SZ data as malloc'ed UTF-8 (unexpanded), or NULL. */
static char *svc_string(cm_key *key, const char *name)
{
    const cm_value *v = svc_value(key, name);
    if (!v || (v->type != CM_REG_SZ && v->type != CM_REG_EXPAND_SZ))
        return NULL;
    uint32_t n = v->size / 2;
    uint16_t *w = malloc((n ? n : 1) * sizeof(uint16_t));
    if (!w)
        return NULL;
    for (uint32_t i = 0; i < n; i++)
        w[i] = (uint16_t)(v->data[2 * i] | v->data[2 * i + 1] << 8);
    uint32_t len = 0;
    while (len < n && w[len])
        len++;
    char *s = cm_utf16_to_utf8(w, len);
    free(w);
    return s;
}

/*
 * svc_image_path — ImagePath resolved as on both homes: its file name (after the
 * last \ or /), .sys replaced by .so, in the driver directory. No ImagePath means
 * NT's default, System32\drivers\<name>.sys.
 */
static void svc_image_path(const char *image_path, const char *name, char *out, size_t outlen)
{
    char file[256];
    if (image_path && *image_path) {
        const char *base = image_path;
        for (const char *s = image_path; *s; s++)
            if (*s == '\\' || *s == '/')
                base = s + 1;
        snprintf(file, sizeof(file), "%s", base);
    } else {
        snprintf(file, sizeof(file), "%s.sys", name);
    }
    size_t n = strlen(file);
    if (n > 4 && !strcasecmp(file + n - 4, ".sys"))
        snprintf(file + n - 4, sizeof(file) - (n - 4), ".so");
    svc_find_driver_file(file, out, outlen);
}

void svc_find_driver_file(const char *file, char *out, size_t outlen)
{
    const char *dir = svc_driver_dir();
    snprintf(out, outlen, "%s/%s", dir, file);
    if (access(out, F_OK) == 0)
        return;
    /* Windows file names are case-insensitive, and the same .reg serves both homes:
     * "donglpt.sys" finds DongLpt.so too. */
    DIR *d = opendir(dir);
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcasecmp(e->d_name, file)) {
            /* A path too long for out is left truncated: the load then fails, as for
             * any other missing file. */
            if (snprintf(out, outlen, "%s/%s", dir, e->d_name) >= (int)outlen)
                out[outlen - 1] = 0;
            break;
        }
    }
    closedir(d);
}

/* Read Services\<name>; false when the key does not exist. */
static bool svc_read_config(const char *name, svc_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    char path[256];
    if (!*name || strchr(name, '\\') || snprintf(path, sizeof(path), SVC_SERVICES_KEY "\\%s", name) >= (int)sizeof(path))
        return false;
    cm_init();
    cm_lock();
    cm_key *key = svc_key(path);
    if (key) {
        char *own = cm_utf16_to_utf8(key->name, key->name_len);
        snprintf(cfg->name, sizeof(cfg->name), "%s", own ? own : name);
        free(own);
        cfg->has_type = svc_dword(key, "Type", &cfg->type);
        cfg->has_start = svc_dword(key, "Start", &cfg->start);
        if (!svc_dword(key, "ErrorControl", &cfg->error_control))
            cfg->error_control = 1;
        char *group = svc_string(key, "Group");
        snprintf(cfg->group, sizeof(cfg->group), "%s", group ? group : "");
        free(group);
        char *image = svc_string(key, "ImagePath");
        svc_image_path(image, cfg->name, cfg->image, sizeof(cfg->image));
        free(image);
        const cm_value *dep = svc_value(key, "DependOnGroup");
        if (dep && dep->type == CM_REG_MULTI_SZ && dep->size >= 2) {
            uint32_t n = dep->size / 2;
            uint16_t *w = malloc(n * sizeof(uint16_t));
            if (w) {
                for (uint32_t i = 0; i < n; i++)
                    w[i] = (uint16_t)(dep->data[2 * i] | dep->data[2 * i + 1] << 8);
                /* Each string converted separately keeps the list structure. */
                size_t cap = (size_t)n * 3 + 2, o = 0;
                cfg->depend_groups = calloc(1, cap);
                for (uint32_t i = 0; cfg->depend_groups && i < n && w[i];) {
                    uint32_t k = i;
                    while (k < n && w[k])
                        k++;
                    char *s = cm_utf16_to_utf8(w + i, k - i);
                    if (s) {
                        memcpy(cfg->depend_groups + o, s, strlen(s) + 1);
                        o += strlen(s) + 1;
                        free(s);
                    }
                    i = k + 1;
                }
                free(w);
            }
        }
    }
    cm_unlock();
    return key != NULL;
}

/* ---------------------------------------------------------------- records ---- */

/* The record of a service (svc_mutex held); created on first use. */
static svc_record *svc_record_for(const char *name, bool create)
{
    for (svc_record *r = svc_records; r; r = r->next)
        if (!strcasecmp(r->name, name))
            return r;
    if (!create)
        return NULL;
    svc_record *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    snprintf(r->name, sizeof(r->name), "%s", name);
    r->state = NTHOST_SERVICE_STOPPED;
    r->next = svc_records;
    svc_records = r;
    return r;
}

/* A group has a running member (the DependOnGroup rule). */
static bool svc_group_running(const char *group)
{
    bool running = false;
    pthread_mutex_lock(&svc_mutex);
    for (svc_record *r = svc_records; r && !running; r = r->next)
        running = r->state == NTHOST_SERVICE_RUNNING && !strcasecmp(r->group, group);
    pthread_mutex_unlock(&svc_mutex);
    return running;
}

/* ------------------------------------------------------- system-thread calls ---- */

typedef struct svc_call {
    PDRIVER_OBJECT driver;
    PDRIVER_INITIALIZE entry;   /* NULL: call DriverUnload */
    PUNICODE_STRING registry_path;
    NTSTATUS status;
} svc_call;

static VOID NTAPI svc_call_thread(PVOID Context)
{
    svc_call *c = Context;
    if (c->entry)
        c->status = c->entry(c->driver, c->registry_path);
    else
        c->driver->DriverUnload(c->driver);
}

/* Run DriverEntry/DriverUnload in a new system thread and wait for it. */
static NTSTATUS svc_run_in_system_thread(svc_call *c, PCSTR what)
{
    PKTHREAD thread;
    NTSTATUS status = KiCreateThread(KiThreadKindSystem, what, svc_call_thread, c, &thread);
    if (!NT_SUCCESS(status))
        return status;
    KeWaitForSingleObject(thread, Executive, KernelMode, FALSE, NULL);
    ObDereferenceObject(thread);
    return STATUS_SUCCESS;
}

/* Event 7000: "The %1 service failed to start due to the following error: %2". */
static void svc_log_start_failure(const char *name, const char *why)
{
    const char *strings[] = { name, why };
    elf_event ev = {
        .source = SVC_SCM_SOURCE,
        .error_code = SVC_EVENT_START_FAILED,
        .nstrings = 2,
        .strings = strings,
    };
    elf_log_write(&ev);
}

/* The verifier's unload checks, then the image goes. */
static void svc_unload_image(svc_record *r)
{
    if (VfIsEnabled()) {
        IopCheckDriverUnload(r->driver, r->name, r->base, r->size);
        KiCheckImageUnload(r->name, r->base, r->size);
        ExpCheckImageUnload(r->name, r->base);
    }
    IopDeleteDriverObject(r->driver);
    VfUnregisterImage(r->base);
    dlclose(r->dl);
    r->driver = NULL;
    r->dl = NULL;
    r->base = NULL;
    r->size = 0;
}

/*
 * svc_load — load the image and run DriverEntry for a START_PENDING record. Returns
 * the Win32 code (0 on success) and leaves the record RUNNING or STOPPED.
 */
static unsigned svc_load(svc_record *r, const svc_config *cfg)
{
    char why[320];
    unsigned code = 0;
    void *dl = NULL;
    if (access(cfg->image, F_OK) != 0) {
        code = ERROR_FILE_NOT_FOUND;
        snprintf(why, sizeof(why), "the driver image %s does not exist", cfg->image);
        goto fail;
    }
    dl = dlopen(cfg->image, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        const char *msg = dlerror();
        /* An unresolved import is NT's STATUS_DRIVER_ENTRYPOINT_NOT_FOUND. */
        code = msg && strstr(msg, "undefined symbol") ? ERROR_PROC_NOT_FOUND : ERROR_BAD_EXE_FORMAT;
        snprintf(why, sizeof(why), "%s", msg ? msg : "dlopen failed");
        goto fail;
    }
    PDRIVER_INITIALIZE entry = (PDRIVER_INITIALIZE)(ULONG_PTR)dlsym(dl, "DriverEntry");
    if (!entry) {
        code = ERROR_BAD_EXE_FORMAT;
        snprintf(why, sizeof(why), "%s has no DriverEntry", cfg->image);
        goto fail;
    }
    if (!VfObjectRangeOfAddress((const void *)(ULONG_PTR)entry, &r->base, &r->size)) {
        code = ERROR_BAD_EXE_FORMAT;
        snprintf(why, sizeof(why), "cannot find the address range of %s", cfg->image);
        goto fail;
    }
    VfRegisterImage(cfg->name, r->base, r->size);

    uint32_t wlen;
    uint16_t *wname = cm_utf8_to_utf16(cfg->name, &wlen);
    uint32_t plen;
    char regpath[256];
    snprintf(regpath, sizeof(regpath), SVC_REGISTRY_PREFIX "%s", cfg->name);
    uint16_t *wpath = cm_utf8_to_utf16(regpath, &plen);
    NTSTATUS status = STATUS_INSUFFICIENT_RESOURCES;
    PDRIVER_OBJECT driver = NULL;
    if (wname && wpath) {
        UNICODE_STRING service = { (USHORT)(wlen * 2), (USHORT)(wlen * 2), (PWCH)wname };
        status = IopCreateDriverObject(&service, r->base, (ULONG)r->size, &driver);
    }
    free(wname);
    if (!NT_SUCCESS(status)) {
        free(wpath);
        VfUnregisterImage(r->base);
        code = RtlNtStatusToDosError(status);
        snprintf(why, sizeof(why), "cannot create the driver object (0x%08X)", (unsigned)status);
        goto fail;
    }
    r->driver = driver;
    r->dl = dl;
    /* The registry path is the loader's: freed once DriverEntry returns, so a driver
     * that keeps the pointer instead of a copy is caught (as on NT). */
    UNICODE_STRING registry_path = { (USHORT)(plen * 2), (USHORT)(plen * 2 + 2), (PWCH)wpath };
    svc_call call = { .driver = driver, .entry = entry, .registry_path = &registry_path };
    status = svc_run_in_system_thread(&call, "DriverEntry");
    free(wpath);
    if (NT_SUCCESS(status))
        status = call.status;
    r->driver_status = status;
    if (!NT_SUCCESS(status)) {
        code = RtlNtStatusToDosError(status);
        snprintf(why, sizeof(why), "DriverEntry returned 0x%08X (Win32 error %u)", (unsigned)status, code);
        svc_unload_image(r);
        dl = NULL;
        goto fail;
    }
    IopDriverEntryReturned(driver);
    pthread_mutex_lock(&svc_mutex);
    r->state = NTHOST_SERVICE_RUNNING;
    snprintf(r->group, sizeof(r->group), "%s", cfg->group);
    r->start_seq = ++svc_seq;
    r->win32_exit = 0;
    pthread_mutex_unlock(&svc_mutex);
    return 0;

fail:
    if (dl)
        dlclose(dl);
    if (cfg->error_control != SERVICE_ERROR_IGNORE)
        svc_log_start_failure(cfg->name, why);
    pthread_mutex_lock(&svc_mutex);
    r->state = NTHOST_SERVICE_STOPPED;
    r->win32_exit = code;
    pthread_mutex_unlock(&svc_mutex);
    return code;
}

/* Start with the registry already read (boot reuses the configuration it sorted). */
static unsigned svc_start_config(svc_config *cfg)
{
    if (cfg->has_type && cfg->type != SERVICE_KERNEL_DRIVER && cfg->type != SERVICE_FILE_SYSTEM_DRIVER)
        return ERROR_NOT_SUPPORTED;          /* nthost runs drivers, not Win32 services */
    if (cfg->has_start && cfg->start == SERVICE_DISABLED)
        return ERROR_SERVICE_DISABLED;
    for (const char *g = cfg->depend_groups; g && *g; g += strlen(g) + 1)
        if (!svc_group_running(g)) {
            char why[160];
            snprintf(why, sizeof(why), "no member of the %s group it depends on started", g);
            if (cfg->error_control != SERVICE_ERROR_IGNORE)
                svc_log_start_failure(cfg->name, why);
            return ERROR_SERVICE_DEPENDENCY_FAIL;
        }
    pthread_mutex_lock(&svc_mutex);
    svc_record *r = svc_record_for(cfg->name, true);
    unsigned code = 0;
    if (!r)
        code = ERROR_NOT_ENOUGH_MEMORY;
    else if (r->state != NTHOST_SERVICE_STOPPED)
        code = ERROR_SERVICE_ALREADY_RUNNING;
    else
        r->state = NTHOST_SERVICE_START_PENDING;
    pthread_mutex_unlock(&svc_mutex);
    return code ? code : svc_load(r, cfg);
}

unsigned nthost_service_start(const char *name)
{
    svc_config cfg;
    if (!name || !svc_read_config(name, &cfg))
        return ERROR_SERVICE_DOES_NOT_EXIST;
    unsigned code = svc_start_config(&cfg);
    free(cfg.depend_groups);
    return code;
}

/* DriverUnload in a system thread, the unload checks, the image unloaded. */
static unsigned svc_finish_unload(svc_record *r)
{
    svc_call call = { .driver = r->driver };
    NTSTATUS status = svc_run_in_system_thread(&call, "DriverUnload");
    if (!NT_SUCCESS(status)) {
        pthread_mutex_lock(&svc_mutex);
        r->state = NTHOST_SERVICE_RUNNING;
        pthread_mutex_unlock(&svc_mutex);
        return RtlNtStatusToDosError(status);
    }
    svc_unload_image(r);
    pthread_mutex_lock(&svc_mutex);
    r->state = NTHOST_SERVICE_STOPPED;
    pthread_mutex_unlock(&svc_mutex);
    return 0;
}

/*
 * nthost_service_stop — NT's unload of a legacy driver: its devices become
 * unload-pending (new opens fail); with none open DriverUnload runs now, otherwise
 * the stop succeeds at once (STOP_PENDING) and DriverUnload runs when the last
 * handle to its devices is closed.
 */
unsigned nthost_service_stop(const char *name)
{
    svc_config cfg;
    if (!name || !svc_read_config(name, &cfg))
        return ERROR_SERVICE_DOES_NOT_EXIST;
    free(cfg.depend_groups);
    pthread_mutex_lock(&svc_mutex);
    svc_record *r = svc_record_for(cfg.name, false);
    unsigned code = 0;
    if (!r || r->state == NTHOST_SERVICE_STOPPED)
        code = ERROR_SERVICE_NOT_ACTIVE;
    else if (r->state != NTHOST_SERVICE_RUNNING)
        code = ERROR_SERVICE_CANNOT_ACCEPT_CTRL;
    else if (!r->driver->DriverUnload)
        code = ERROR_INVALID_SERVICE_CONTROL; /* NT cannot unload it either */
    else
        r->state = NTHOST_SERVICE_STOP_PENDING;
    pthread_mutex_unlock(&svc_mutex);
    if (code)
        return code;
    if (IopMarkDriverUnloadPending(r->driver))
        return 0;
    return svc_finish_unload(r);
}

void svc_unload_ready(struct _DRIVER_OBJECT *driver)
{
    svc_record *found = NULL;
    pthread_mutex_lock(&svc_mutex);
    for (svc_record *r = svc_records; r && !found; r = r->next)
        if (r->driver == driver && r->state == NTHOST_SERVICE_STOP_PENDING)
            found = r;
    pthread_mutex_unlock(&svc_mutex);
    if (found)
        svc_finish_unload(found);
}

unsigned nthost_service_query(const char *name, nthost_service_status *out)
{
    svc_config cfg;
    if (!name || !out || !svc_read_config(name, &cfg))
        return ERROR_SERVICE_DOES_NOT_EXIST;
    free(cfg.depend_groups);
    memset(out, 0, sizeof(*out));
    out->type = cfg.type;
    out->start = cfg.start;
    out->error_control = cfg.error_control;
    snprintf(out->group, sizeof(out->group), "%s", cfg.group);
    snprintf(out->image, sizeof(out->image), "%s", cfg.image);
    out->state = NTHOST_SERVICE_STOPPED;
    pthread_mutex_lock(&svc_mutex);
    svc_record *r = svc_record_for(cfg.name, false);
    if (r) {
        out->state = r->state;
        out->win32_exit_code = r->win32_exit;
        out->driver_status = (uint32_t)r->driver_status;
        out->can_stop = r->state == NTHOST_SERVICE_RUNNING && r->driver && r->driver->DriverUnload;
    }
    pthread_mutex_unlock(&svc_mutex);
    return 0;
}

/* The names of the subkeys of Services, in key order (malloc'ed array of strings). */
static char **svc_service_names(uint32_t *count)
{
    cm_init();
    cm_lock();
    cm_key *services = svc_key(SVC_SERVICES_KEY);
    uint32_t n = services ? services->nchildren : 0;
    char **names = calloc(n ? n : 1, sizeof(char *));
    for (uint32_t i = 0; names && i < n; i++)
        names[i] = cm_utf16_to_utf8(services->children[i]->name, services->children[i]->name_len);
    cm_unlock();
    *count = names ? n : 0;
    return names;
}

size_t nthost_service_list(nthost_service_fn *fn, void *ctx)
{
    uint32_t n;
    char **names = svc_service_names(&n);
    size_t listed = 0;
    for (uint32_t i = 0; i < n; i++) {
        nthost_service_status st;
        if (names[i] && !nthost_service_query(names[i], &st) &&
            (st.type == SERVICE_KERNEL_DRIVER || st.type == SERVICE_FILE_SYSTEM_DRIVER)) {
            if (fn)
                fn(names[i], &st, ctx);
            listed++;
        }
        free(names[i]);
    }
    free(names);
    return listed;
}

/* ------------------------------------------------------------- boot and init ---- */

void svc_init(const char *config_driver_dir)
{
    free(svc_dir);
    svc_dir = config_driver_dir ? strdup(config_driver_dir) : NULL;
    CmpUseMachineClock();
    CmpSetFlushFile(getenv("NTHOST_REGISTRY_FILE"));
    cm_init();
    cm_lock();
    uint32_t len;
    uint16_t *path = cm_utf8_to_utf16(SVC_GROUP_ORDER_KEY, &len);
    cm_key *key = NULL;
    static const uint16_t list_name[] = { 'L', 'i', 's', 't' };
    if (path && !cm_create_path(cm_machine(), path, len, &key, NULL) && !cm_find_value(key, list_name, 4)) {
        /* REG_MULTI_SZ: each group NUL-terminated, one more NUL at the end. */
        size_t units = 1;
        for (size_t i = 0; i < sizeof(svc_default_groups) / sizeof(svc_default_groups[0]); i++)
            units += strlen(svc_default_groups[i]) + 1;
        uint8_t *data = malloc(units * 2);
        if (data) {
            size_t o = 0;
            for (size_t i = 0; i < sizeof(svc_default_groups) / sizeof(svc_default_groups[0]); i++) {
                for (const char *s = svc_default_groups[i];; s++) {
                    data[o++] = (uint8_t)*s;
                    data[o++] = 0;
                    if (!*s)
                        break;
                }
            }
            data[o++] = 0;
            data[o++] = 0;
            cm_set_value(key, list_name, 4, CM_REG_MULTI_SZ, data, (uint32_t)o);
            free(data);
        }
    }
    cm_unlock();
    free(path);
}

/* Position of a group in ServiceGroupOrder\List; ungrouped (or unknown) ones last. */
static size_t svc_group_rank(const char *list, const char *group)
{
    size_t rank = 0;
    for (const char *g = list; g && *g; g += strlen(g) + 1, rank++)
        if (*group && !strcasecmp(g, group))
            return rank;
    return SIZE_MAX;
}

typedef struct svc_boot_item {
    svc_config cfg;
    size_t rank;
    size_t order;      /* registry (sorted) order, the tie-breaker */
} svc_boot_item;

static int svc_boot_compare(const void *a, const void *b)
{
    const svc_boot_item *x = a, *y = b;
    if (x->cfg.start != y->cfg.start)
        return x->cfg.start < y->cfg.start ? -1 : 1;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    return x->order < y->order ? -1 : (x->order > y->order);
}

/* ServiceGroupOrder\List as consecutive NUL-terminated UTF-8 strings (malloc'ed). */
static char *svc_group_list(void)
{
    cm_lock();
    cm_key *key = svc_key(SVC_GROUP_ORDER_KEY);
    const cm_value *v = key ? svc_value(key, "List") : NULL;
    char *list = NULL;
    if (v && v->type == CM_REG_MULTI_SZ) {
        uint32_t n = v->size / 2;
        list = calloc(1, (size_t)n * 3 + 2);
        size_t o = 0;
        for (uint32_t i = 0; list && i < n;) {
            uint16_t w[256];
            uint32_t k = 0;
            while (i < n && k < 255) {
                uint16_t c = (uint16_t)(v->data[2 * i] | v->data[2 * i + 1] << 8);
                i++;
                if (!c)
                    break;
                w[k++] = c;
            }
            if (!k)
                break;
            char *s = cm_utf16_to_utf8(w, k);
            if (s) {
                memcpy(list + o, s, strlen(s) + 1);
                o += strlen(s) + 1;
                free(s);
            }
        }
    }
    cm_unlock();
    return list;
}

void svc_boot_start(void)
{
    cm_init();
    char *groups = svc_group_list();
    uint32_t n;
    char **names = svc_service_names(&n);
    svc_boot_item *items = calloc(n ? n : 1, sizeof(*items));
    size_t count = 0;
    for (uint32_t i = 0; items && names && i < n; i++) {
        svc_boot_item *it = &items[count];
        if (!names[i] || !svc_read_config(names[i], &it->cfg))
            continue;
        if (!it->cfg.has_start || it->cfg.start > SERVICE_AUTO_START || !it->cfg.has_type ||
            (it->cfg.type != SERVICE_KERNEL_DRIVER && it->cfg.type != SERVICE_FILE_SYSTEM_DRIVER)) {
            free(it->cfg.depend_groups);
            continue;
        }
        it->rank = svc_group_rank(groups, it->cfg.group);
        it->order = i;
        count++;
    }
    qsort(items, count, sizeof(*items), svc_boot_compare);
    for (size_t i = 0; i < count; i++) {
        svc_start_config(&items[i].cfg);
        free(items[i].cfg.depend_groups);
    }
    for (uint32_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
    free(items);
    free(groups);
}

void svc_stop_all(void)
{

    for (;;) {
        /* The running, stoppable service started last. */
        char name[128] = "";
        unsigned best = 0;
        pthread_mutex_lock(&svc_mutex);
        for (svc_record *r = svc_records; r; r = r->next)
            if (r->state == NTHOST_SERVICE_RUNNING && r->driver->DriverUnload && r->start_seq > best) {
                best = r->start_seq;
                snprintf(name, sizeof(name), "%s", r->name);
            }
        pthread_mutex_unlock(&svc_mutex);
        if (!best || nthost_service_stop(name))
            break;
    }
    /* Drivers without DriverUnload (and those whose stop waits for a handle) stay
     * loaded until power-off, as on NT; power-off is now: their devices and driver
     * object go without DriverUnload or the unload checks. While a device is still
     * open the driver object and image stay, since closing that handle calls the
     * driver's dispatch routines. */
    pthread_mutex_lock(&svc_mutex);
    svc_record *list = svc_records;
    svc_records = NULL;
    pthread_mutex_unlock(&svc_mutex);
    while (list) {
        svc_record *r = list;
        list = r->next;
        if (r->driver) {
            /* Collect first: deleting an unreferenced device unlinks it at once. */
            size_t n = 0;
            bool open = false;
            for (PDEVICE_OBJECT d = r->driver->DeviceObject; d; d = d->NextDevice, n++)
                open |= d->ReferenceCount != 0;
            PDEVICE_OBJECT *devs = calloc(n ? n : 1, sizeof(*devs));
            n = 0;
            for (PDEVICE_OBJECT d = r->driver->DeviceObject; devs && d; d = d->NextDevice)
                if (!IopDeviceDeletePending(d))
                    devs[n++] = d;
            for (size_t i = 0; i < n; i++)
                IoDeleteDevice(devs[i]);
            free(devs);
            if (!open) {
                IopDeleteDriverObject(r->driver);
                VfUnregisterImage(r->base);
                dlclose(r->dl);
            }
        }
        free(r);
    }
    /* NT flushes the hives at shutdown, once the services have stopped. */
    CmpFlushRegistry();
    CmpSetFlushFile(NULL);
}
