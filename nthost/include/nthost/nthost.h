/*
 * nthost/nthost.h — boot and inspection API of nthost, for hosts (make run, dongctl's
 * Linux main) and tests.
 *
 * Plain C types only: this header mixes with either personality (<ntddk.h> for driver
 * code, <windows.h> for Win32 programs). Strings are UTF-8.
 *
 * Sections are owned by the engineer who implements them (named in each heading);
 * change a section's declarations together with its implementation.
 *
 * Threads: nthost_boot registers the calling thread as an nthost thread; that thread
 * (and threads created through CreateThread/PsCreateSystemThread) may call into nthost
 * until nthost_shutdown, which must be called from the booting thread.
 */
#ifndef NTHOST_NTHOST_H
#define NTHOST_NTHOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ======================= boot and shutdown (io: boot.c) ========================== */

typedef enum nthost_time_mode {
    NTHOST_TIME_VIRTUAL = 0, /* machine clock is the simulated clock, with the idle jump */
    NTHOST_TIME_REAL         /* machine clock follows CLOCK_MONOTONIC */
} nthost_time_mode;

typedef enum nthost_verifier_mode {
    NTHOST_VERIFIER_DEFAULT = 0, /* on in checked builds (DBG=1), off in free builds */
    NTHOST_VERIFIER_ON,
    NTHOST_VERIFIER_OFF
} nthost_verifier_mode;

typedef struct nthost_config {
    /* Machine description (INI); NULL loads the default machine (machines/default.ini). */
    const char *machine;
    /* NULL-terminated list of .reg files imported in order; NULL imports none. */
    const char *const *reg_files;
    nthost_time_mode time_mode;
    nthost_verifier_mode verifier;
    /* Where ImagePath's shared objects are looked up when NTHOST_DRIVER_DIR is unset;
     * NULL: the current directory. */
    const char *driver_dir;
    /* 0: round-robin preemption only; otherwise the seed of random preemption. */
    uint64_t preempt_seed;
    /* Do not start Start=0/1/2 services at boot (tests that start them one by one). */
    bool no_autostart;
} nthost_config;

/*
 * Boot the machine: load the machine description, start the kernel, import the .reg
 * files, build the object namespace, start the boot/system/automatic services in
 * group order. cfg NULL means all defaults. Returns NULL on success, or a message
 * (valid until the next nthost_boot) saying what failed; on failure nothing is left
 * running and nthost_boot may be called again.
 */
const char *nthost_boot(const nthost_config *cfg);

/*
 * Shut the machine down: IRP_MJ_SHUTDOWN to every device registered with
 * IoRegisterShutdownNotification (last registered first, as NT), stop every running
 * service (which unloads its driver), then tear down namespace, registry, kernel and
 * machine. Afterwards nthost_boot may be called again in the same process.
 */
void nthost_shutdown(void);

/* True between a successful nthost_boot and nthost_shutdown. */
bool nthost_running(void);

/* The simulated machine that nthost_boot built (sim/machine.h), for hosts that
 * trace or fault its ports (dongctl --trace); NULL when not running. Call it from
 * an nthost thread: the machine is not thread-safe. */
struct sim_machine *nthost_machine(void);

/* ======================= object namespace (io: ob_namespace.c) ===================== */

typedef struct nthost_object_info {
    const char *path;        /* full path, e.g. "\\Device\\DongLpt0" */
    const char *type;        /* "Directory", "Device", "Driver", "SymbolicLink", ... */
    const char *link_target; /* the target path of a SymbolicLink, else NULL */
} nthost_object_info;

typedef void nthost_object_fn(const nthost_object_info *obj, void *ctx);

/* Call fn for every named object, depth first, each directory's entries sorted by
 * name (case-insensitively), the root directory itself excluded. */
void nthost_namespace_walk(nthost_object_fn *fn, void *ctx);

/* The same listing as malloc'ed text, one "path type [-> target]" line per object
 * (free() it). Tests compare two snapshots to see that nothing was left behind. */
char *nthost_namespace_snapshot(void);

/* ======================= I/O manager (io: io_*.c) ================================= */

/* IRPs allocated and not yet freed (IoAllocateIrp by any driver, and the I/O
 * manager's own). An IRP a driver formats in its own memory (IoInitializeIrp) goes
 * away with that memory and is not counted. */
size_t nthost_irps_outstanding(void);

/* ======================= kernel (kcore: ke/ex/ps/verifier) ========================= */

/* Pool allocations not yet freed that are charged to driver images (every tag;
 * nthost's own objects excluded), i.e. what drivers have leaked so far. */
size_t nthost_pool_outstanding(void);

/* Verifier warnings (raised IRQL or spin lock held > 50 us of machine time) so far. */
unsigned nthost_verifier_warnings(void);

/* Exit status of a process that bugchecked (docs/INTERNALS.md). */
#define NTHOST_BUGCHECK_EXIT 66

/* ======================= security (rel: se_access.c) =============================== */

/* Who a Win32 caller is. nthost hosts every caller in one process, so the token is
 * per host thread: the thread's Win32 calls, and the dispatch routines they reach,
 * run with it. CreateThread gives the new thread its creator's identity (threads of
 * one process share its token); a thread that never got one is an administrator (the
 * booting thread, system threads), so hosts that do not care see no change.
 *   - Opening a device checks the requested access against the device's security
 *     descriptor: NT's default for a named legacy device (System and Administrators:
 *     all access; Everyone: read, write, execute, READ_CONTROL, SYNCHRONIZE), so a
 *     user asking for more (DELETE, WRITE_DAC, GENERIC_ALL ...) gets ACCESS_DENIED.
 *   - SeSinglePrivilegeCheck(.., UserMode) answers from the token: an administrator
 *     holds the privileges Windows gives Administrators (SeLoadDriverPrivilege,
 *     SeSecurityPrivilege, SeBackupPrivilege ...; not SeTcbPrivilege), a user only
 *     SeChangeNotifyPrivilege, SeShutdownPrivilege and SeUndockPrivilege. KernelMode
 *     requests pass every check, as on NT. */
typedef enum nthost_identity {
    NTHOST_IDENTITY_ADMIN = 0, /* a member of Administrators */
    NTHOST_IDENTITY_USER       /* a standard user (Everyone, Users) */
} nthost_identity;

/* Set / read the calling host thread's identity. */
void nthost_set_identity(nthost_identity id);
nthost_identity nthost_get_identity(void);

/* ======================= services and event log (cm) =============================== */

/* The registry as .reg files (the format regedit imports). Import is all or nothing:
 * on error nothing changes and err gets "<file>:<line>: <problem>". Export writes
 * the subtree at key_path (below HKEY_LOCAL_MACHINE, "" = all of it) as a
 * "Windows Registry Editor Version 5.00" file (UTF-16LE with BOM) that imports back
 * to the same keys and values. Both return 0 or a negative errno. */
int nthost_registry_import(const char *path, char *err, size_t errlen);
int nthost_registry_export(const char *path, const char *key_path, char *err, size_t errlen);

/* Start / stop the service Services\<name> (driver load + DriverEntry / DriverUnload).
 * Return 0, or a Win32 error code (ERROR_SERVICE_ALREADY_RUNNING, ERROR_SERVICE_NOT_ACTIVE,
 * ERROR_SERVICE_DOES_NOT_EXIST, ERROR_SERVICE_DISABLED, ERROR_FILE_NOT_FOUND for a
 * missing image, ERROR_INVALID_SERVICE_CONTROL for a driver without DriverUnload,
 * ERROR_SERVICE_DEPENDENCY_FAIL, or the DriverEntry failure mapped by
 * RtlNtStatusToDosError). Call from an nthost thread at PASSIVE_LEVEL (the booting
 * thread, or a Win32 thread): DriverEntry/DriverUnload run in a system thread and the
 * caller waits for them. */
unsigned nthost_service_start(const char *name);
unsigned nthost_service_stop(const char *name);

/* Service states, with the SCM's SERVICE_* values. */
typedef enum nthost_service_state {
    NTHOST_SERVICE_STOPPED = 1,
    NTHOST_SERVICE_START_PENDING = 2,
    NTHOST_SERVICE_STOP_PENDING = 3,
    NTHOST_SERVICE_RUNNING = 4
} nthost_service_state;

typedef struct nthost_service_status {
    nthost_service_state state;
    uint32_t type;             /* Services\<name>\Type (1 = kernel driver) */
    uint32_t start;            /* Start (0 boot .. 4 disabled) */
    uint32_t error_control;
    uint32_t win32_exit_code;  /* of the last start attempt (0 = it started) */
    uint32_t driver_status;    /* NTSTATUS DriverEntry returned last time (0 if none) */
    bool can_stop;             /* running and the driver has a DriverUnload */
    char group[64];            /* Group ("" when none) */
    char image[256];           /* the shared object it was (or would be) loaded from */
} nthost_service_status;

/* Status of Services\<name>: 0, or ERROR_SERVICE_DOES_NOT_EXIST. */
unsigned nthost_service_query(const char *name, nthost_service_status *out);

/* Call fn for every driver service (Type 1 or 2) under Services, in key order, with
 * its name and status; returns how many there were. */
typedef void nthost_service_fn(const char *name, const nthost_service_status *status, void *ctx);
size_t nthost_service_list(nthost_service_fn *fn, void *ctx);

/* One stored event: an I/O error-log entry (IoWriteErrorLogEntry) or a service
 * control manager event (a driver that failed to start). */
typedef struct nthost_errlog_entry {
    uint64_t system_time;        /* NT system time (100 ns since 1601) of the machine clock */
    uint64_t machine_time_ns;    /* machine time since power-on */
    const char *source;          /* driver (service) name, or "Service Control Manager" */
    uint32_t error_code;         /* NTSTATUS-format event code */
    unsigned severity;           /* error_code >> 30: 0 success, 1 info, 2 warning, 3 error */
    uint32_t final_status;
    uint32_t unique_error_value;
    uint32_t sequence_number;
    uint32_t io_control_code;
    uint16_t event_category;
    uint8_t major_function;
    uint8_t retry_count;
    int64_t device_offset;
    const void *dump_data;
    size_t dump_size;            /* in bytes */
    /* The message's insertion strings: strings[0] is %1 — for I/O error-log entries
     * the device name (as NT's event viewer shows it), followed by the packet's own
     * strings as %2.. */
    size_t nstrings;
    const char *const *strings;
} nthost_errlog_entry;

/* Number of entries written since boot; entry i (0 = oldest), false when out of range.
 * Pointers in *out stay valid until nthost_shutdown. */
size_t nthost_errlog_count(void);
bool nthost_errlog_get(size_t i, nthost_errlog_entry *out);
/* The message text of entry i (malloc'ed UTF-8, free() it), from the .mc file named
 * by Services\EventLog\System\<source>\EventMessageFile (a .dll/.sys name means
 * the .mc beside the driver); NULL when no message is found. */
char *nthost_errlog_format(size_t i);

#ifdef __cplusplus
}
#endif

#endif /* NTHOST_NTHOST_H */
