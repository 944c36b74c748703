/*
 * cm_internal.h — the configuration manager (registry) inside nthost.
 *
 * The registry is one tree of keys rooted at \Registry (child MACHINE), kept in
 * memory and filled at boot from .reg files. This header is the internal contract
 * between the tree (cm_tree.c), the .reg reader/writer (cm_regfile.c), the Zw key
 * services (cm_zw.c), the Rtl registry helpers, the service manager and boot.
 *
 * Strings here are counted UTF-16 (uint16_t units, the same type as WCHAR under
 * -fshort-wchar), never NUL-terminated unless stated, so the tree compiles without
 * the DDK headers and .reg tests can run without booting nthost.
 *
 * Locking: one registry lock (cm_lock/cm_unlock) serializes every tree access, as
 * NT's registry lock does; the routines marked "lock held" expect it.
 */
#ifndef NTHOST_CM_INTERNAL_H
#define NTHOST_CM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Value types (winnt.h values). */
#define CM_REG_NONE                       0u
#define CM_REG_SZ                         1u
#define CM_REG_EXPAND_SZ                  2u
#define CM_REG_BINARY                     3u
#define CM_REG_DWORD                      4u
#define CM_REG_DWORD_BIG_ENDIAN           5u
#define CM_REG_LINK                       6u
#define CM_REG_MULTI_SZ                   7u
#define CM_REG_RESOURCE_LIST              8u
#define CM_REG_FULL_RESOURCE_DESCRIPTOR   9u
#define CM_REG_RESOURCE_REQUIREMENTS_LIST 10u
#define CM_REG_QWORD                      11u

/* NT limits: a key name component is at most 255 characters, a value name 16383. */
#define CM_MAX_KEY_NAME_CHARS   255u
#define CM_MAX_VALUE_NAME_CHARS 16383u

typedef struct cm_value {
    uint16_t *name;      /* empty (len 0) = the key's default value */
    uint32_t name_len;   /* in characters */
    uint32_t type;
    uint8_t *data;
    uint32_t size;       /* in bytes */
} cm_value;

typedef struct cm_key cm_key;
struct cm_key {
    cm_key *parent;          /* NULL for the root and for deleted keys */
    cm_key **children;       /* sorted case-insensitively, as NT enumerates */
    uint32_t nchildren, children_cap;
    cm_value **values;       /* in creation order, as NT enumerates */
    uint32_t nvalues, values_cap;
    uint16_t *name;          /* as created (case preserved) */
    uint32_t name_len;
    uint16_t *class_name;    /* the Class given to ZwCreateKey (NULL: none) */
    uint32_t class_len;      /* in characters */
    uint32_t refs;           /* one for the tree link + one per open key object */
    bool deleted;
    bool is_volatile;        /* REG_OPTION_VOLATILE: never written to a .reg file */
    int64_t last_write;      /* NT system time (100 ns since 1601) */
};

/* ---- lifetime and locking ---- */

/* Create the tree (\Registry\Machine with SYSTEM\CurrentControlSet\{Services,Control},
 * HARDWARE\DEVICEMAP and SOFTWARE). Idempotent. */
void cm_init(void);
/* Free the whole tree; keys still referenced by open handles stay until unref. */
void cm_shutdown(void);
void cm_lock(void);
void cm_unlock(void);
/* The clock used for LastWriteTime; boot installs the machine's system time. */
void cm_set_time_source(int64_t (*now)(void));

/* ---- tree (lock held) ---- */

cm_key *cm_root(void);      /* \Registry */
cm_key *cm_machine(void);   /* \Registry\Machine */

void cm_key_ref(cm_key *key);
void cm_key_unref(cm_key *key);

/* Case-insensitive UTF-16 upcase of one unit, as RtlUpcaseUnicodeChar for the
 * Latin ranges used by names. */
uint16_t cm_upcase(uint16_t c);
bool cm_name_equal(const uint16_t *a, uint32_t alen, const uint16_t *b, uint32_t blen);

/* Walk a relative path (components separated by '\'; empty components are invalid)
 * from `from`. Returns 0 and the key, -ENOENT when a component is missing, -EINVAL
 * for a malformed path. */
int cm_lookup(cm_key *from, const uint16_t *path, uint32_t len, cm_key **out);
/* Open or create every component; *created reports whether the last one is new.
 * -EINVAL malformed path or a component too long, -ENOMEM. */
int cm_create_path(cm_key *from, const uint16_t *path, uint32_t len, cm_key **out, bool *created);
cm_key *cm_find_child(cm_key *key, const uint16_t *name, uint32_t len);
/* Delete one key with no subkeys: -EBUSY when it has subkeys. */
int cm_delete_key(cm_key *key);
/* Delete a key and everything below it (the .reg [-KEY] form). */
void cm_delete_tree(cm_key *key);

cm_value *cm_find_value(cm_key *key, const uint16_t *name, uint32_t len);
/* Set (replace or add) a value: 0 or -ENOMEM. */
int cm_set_value(cm_key *key, const uint16_t *name, uint32_t len, uint32_t type,
                 const void *data, uint32_t size);
/* 0, or -ENOENT when there is no such value. */
int cm_delete_value(cm_key *key, const uint16_t *name, uint32_t len);
void cm_touch(cm_key *key);

/* ---- .reg files (cm_regfile.c) ---- */

/* Parse a whole .reg image (any supported encoding) and, only if all of it is valid,
 * apply it to the registry. On error returns -EINVAL (or -ENOMEM) and writes
 * "<file>:<line>: <problem>" into err. `file` only names the source in messages. */
int cm_import_reg_buffer(const char *file, const void *data, size_t size, char *err, size_t errlen);
/* Read `path` and import it as above (I/O errors are reported the same way). */
int cm_import_reg_file(const char *path, char *err, size_t errlen);
/* Write the subtree at `key_path` (relative to \Registry\Machine, UTF-8, "" = all of
 * it) as a "Windows Registry Editor Version 5.00" file (UTF-16LE with a BOM). */
int cm_export_reg_file(const char *path, const char *key_path, char *err, size_t errlen);
/* Same, into a malloc'ed buffer (*out, *out_size) — for tests and callers that keep it. */
int cm_export_reg_buffer(const char *key_path, uint8_t **out, size_t *out_size, char *err, size_t errlen);

/* ---- small UTF-16 helpers shared by the Cm files ---- */

/* Decode one UTF-8 sequence of at most `avail` bytes; returns its length, 0 when
 * invalid (overlong, surrogate, truncated, out of range). */
int cm_utf8_decode(const unsigned char *s, size_t avail, uint32_t *cp);
/* UTF-8 (NUL-terminated) to a malloc'ed UTF-16 string; *len gets its length. NULL on
 * invalid UTF-8 or no memory. */
uint16_t *cm_utf8_to_utf16(const char *s, uint32_t *len);
/* UTF-16 to malloc'ed NUL-terminated UTF-8 (unpaired surrogates become U+FFFD). */
char *cm_utf16_to_utf8(const uint16_t *s, uint32_t len);

/* ---- message files (elf_mc.c): the Windows message compiler's .mc source ---- */

/* One message of a .mc file: its full 32-bit id (severity, customer bit, facility,
 * code — the value an error-log packet's ErrorCode carries) and its English text
 * (UTF-8, every line ending in '\n', as mc stores it with CRLF). */
typedef struct elf_mc_message {
    uint32_t id;
    char *symbol;
    char *text;
} elf_mc_message;

typedef struct elf_mc_file {
    elf_mc_message *msgs;
    size_t count;
} elf_mc_file;

/* Parse .mc source (UTF-8, or UTF-16LE with a BOM). On error returns -EINVAL and
 * "<name>:<line>: <problem>" in err; *out is left empty. */
int elf_mc_parse(const char *name, const void *data, size_t size, elf_mc_file *out, char *err, size_t errlen);
int elf_mc_load(const char *path, elf_mc_file *out, char *err, size_t errlen);
void elf_mc_free(elf_mc_file *f);
/* The message with this id (also matched with the customer bit ignored), or NULL. */
const elf_mc_message *elf_mc_find(const elf_mc_file *f, uint32_t id);
/* Expand a message text as FormatMessage does: %1..%99 from args (%N!fmt! taken as
 * a string), %n newline, %t tab, %r CR, %% %. %! literal, %0 ends the text without
 * its newline. Missing arguments stay as written. Returns malloc'ed UTF-8. */
char *elf_mc_format(const char *text, const char *const *args, size_t nargs);

/* ---- event log store (elf_log.c) ---- */

/* An event as its writer describes it; elf_log_write copies everything and stamps
 * it with the machine clock. Strings are UTF-8; strings[0] is %1. */
typedef struct elf_event {
    const char *source;
    uint32_t error_code, final_status, unique_error_value, sequence_number, io_control_code;
    uint16_t event_category;
    uint8_t major_function, retry_count;
    int64_t device_offset;
    const void *dump_data;
    size_t dump_size;
    size_t nstrings;
    const char *const *strings;
} elf_event;

/* 0, or -ENOMEM (the event is dropped, as NT drops entries when its log is full). */
int elf_log_write(const elf_event *ev);
/* Forget every entry (shutdown). */
void elf_log_reset(void);

/* ---- services (svc_manager.c) ---- */

/* Called by boot after the registry is loaded and the I/O manager runs: remembers
 * the configured driver directory (NTHOST_DRIVER_DIR overrides it), makes the key
 * times follow the machine clock, and installs the default
 * Control\ServiceGroupOrder\List when the .reg files did not provide one. */
void svc_init(const char *config_driver_dir);
/* Start every Start = 0, 1, 2 service: by Start value, then in group order, then
 * ungrouped ones; failures are logged (ErrorControl >= 1) and boot goes on. */
void svc_boot_start(void);
/* Shutdown: stop every running service that can be stopped, last started first;
 * power off the others (devices and driver object deleted without DriverUnload);
 * then save the registry to its flush file, if any. */
void svc_stop_all(void);
/* io calls this when the last open of a stop-pending driver's devices ended (see
 * IopMarkDriverUnloadPending): DriverUnload runs now, as NT's deferred unload. */
struct _DRIVER_OBJECT;
void svc_unload_ready(struct _DRIVER_OBJECT *driver);
/* The directory ImagePath's shared objects (and .mc files) are looked up in. */
const char *svc_driver_dir(void);
/* The path of a file in the driver directory, matching its name without regard to
 * case as Windows does (out holds the exact-case path when nothing matches). */
void svc_find_driver_file(const char *file, char *out, size_t outlen);

/* Boot sequence for the registry side (io's boot.c): cm_init(); cm_import_reg_file()
 * for each configured file; CmpUseMachineClock() once the kernel runs; svc_init();
 * svc_boot_start(). Shutdown: svc_stop_all(); elf_log_reset(); cm_shutdown(). */
void CmpUseMachineClock(void);
/* ZwFlushKey and shutdown save the registry to this .reg file (NULL: flushing does
 * nothing). svc_init takes it from NTHOST_REGISTRY_FILE. */
void CmpSetFlushFile(const char *path);
/* Save the registry to the flush file now: STATUS_SUCCESS or STATUS_REGISTRY_IO_FAILED
 * (a LONG, NTSTATUS). */
int32_t CmpFlushRegistry(void);

#endif
