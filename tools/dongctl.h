/*
 * tools/dongctl.h — the pieces of dongctl shared between its source files: exit
 * codes, output (text, JSON, progress bar), the driver interface wrappers and the
 * subcommands. Win32 + C stdio only; see home.h for the part that differs per home.
 */
#ifndef DONG_TOOLS_DONGCTL_H
#define DONG_TOOLS_DONGCTL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <windows.h>
#include <winioctl.h>
#include <donglpt.h>

/* Exit codes (docs/DONGCTL.md). */
#define DONG_EXIT_OK       0   /* done */
#define DONG_EXIT_USAGE    1   /* bad command line; usage printed */
#define DONG_EXIT_NO_KEY   2   /* no such port, or no DL-1 key on it */
#define DONG_EXIT_REFUSED  3   /* the key refused the command, or authentication failed */
#define DONG_EXIT_IO       4   /* the link failed: timeout, CRC, port busy, device error */
#define DONG_EXIT_SYSTEM   5   /* set-up: driver not running, machine not bootable, files */
#define DONG_EXIT_UNKNOWN  6   /* a key-changing command may or may not have run */

#define DONG_MAX_PORTS     32  /* \\.\DongLpt1 .. DongLpt32 are probed by `ports` */

/* ---- output (output.c) ------------------------------------------------------------ */

/* printf checking: the Windows build uses mingw's C99 stdio (__USE_MINGW_ANSI_STDIO),
   whose format checking GCC calls gnu_printf there. */
#ifdef __MINGW32__
#define DONG_PRINTF(f, a) __attribute__((format(gnu_printf, f, a)))
#else
#define DONG_PRINTF(f, a) __attribute__((format(printf, f, a)))
#endif

extern bool g_json;   /* --json: machine-readable stdout */

/* Print "dongctl: <message>" on stderr (and a JSON error object on stdout with
   --json); returns code so callers can `return dong_fail(...)`. */
int dong_fail(int code, const char *fmt, ...) DONG_PRINTF(2, 3);

/* Streaming JSON writer on stdout: keys are ignored inside arrays. */
void js_begin_obj(const char *key);
void js_end_obj(void);
void js_begin_arr(const char *key);
void js_end_arr(void);
void js_str(const char *key, const char *value);
void js_uint(const char *key, unsigned long long value);
void js_int(const char *key, long long value);
void js_bool(const char *key, bool value);
void js_hex(const char *key, const uint8_t *bytes, size_t len);  /* "0a1b..." */
void js_done(void);   /* newline after the top-level value */

/* Classic 16-bytes-per-line hex dump with addresses starting at base. */
void hexdump(FILE *f, unsigned base, const uint8_t *data, size_t len);
/* Parse an unsigned number (decimal, or 0x hex) in [0, max]; false on junk. */
bool parse_uint(const char *s, unsigned long max, unsigned long *out);

/* Progress bar on stderr for jobs of several requests (total 0: a job of one, no bar);
   silent unless stderr is a tty. */
void progress_begin(const char *what, size_t total);
void progress_update(size_t done);
void progress_end(void);

/* ---- the driver (device.c) -------------------------------------------------------- */

typedef struct dong_port {
    unsigned number;        /* 1-based: \\.\DongLpt<number>, LPT<number> */
    HANDLE handle;
    DONG_INFO info;         /* read by main() before a subcommand runs */
} dong_port;

/* Open \\.\DongLpt<number>. Returns TRUE, or FALSE with GetLastError() set. */
BOOL port_open(unsigned number, bool writable, dong_port *p);
void port_close(dong_port *p);

BOOL port_info(dong_port *p, DONG_INFO *info);

/* A key-changing command whose outcome the driver reports unknown (ERROR_RETRY) is
   resent with the same txid up to DONG_RESEND_MAX times, pausing n x the pause first. */
#define DONG_RESEND_MAX      3
#define DONG_RESEND_PAUSE_MS 250

/*
 * Send one DL-1 command and wait for its response. The payload is the command's
 * without the txid: for a key-changing command port_transact puts a random txid of
 * its own first (so at most DL1_MAX_PAYLOAD - DL1_TXID_SIZE bytes) and resends in
 * doubt. TRUE when the key answered, whatever its status; FALSE with GetLastError()
 * when the link failed — ERROR_RETRY: the command may or may not have run.
 */
BOOL port_transact(dong_port *p, UCHAR command, const void *payload, USHORT length,
                   DONG_TRANSACT_RESPONSE *rsp);

/* Words for a Win32 error as the driver reports it, and the exit code it means. */
const char *win32_error_text(DWORD error);
int win32_error_exit(DWORD error);

/* "LPT2: <words>" message for a failed call on a port, returning the exit code. */
int port_fail(unsigned number, const char *doing, DWORD error);

const char *key_status_text(UCHAR status);
const char *chip_name(ULONG chip);
const char *mode_name(ULONG mode);
const char *attached_name(ULONG attached);
/* Why the probe found what it found, from DONG_INFO (status register and NTSTATUS). */
void attached_reason(const DONG_INFO *info, char *buf, size_t buflen);

/* ---- subcommands (commands.c) -------------------------------------------------------- */

typedef struct dong_args {
    unsigned port;           /* --port N (1-based), 0 = first port with a key */
    const char *key_file;    /* auth --key */
    const char *out_file;    /* read --out */
    const char *in_file;     /* write --file */
    long echo_size;          /* echo --size, -1 = not given */
    int argc;                /* positional arguments after the subcommand */
    char **argv;
} dong_args;

typedef struct dong_command {
    const char *name;
    const char *synopsis;    /* the command line, e.g. "read ADDR LEN [--out FILE]" */
    const char *summary;     /* what it does, for the usage text */
    enum {
        DONG_PORT_NONE,      /* works on no single port */
        DONG_PORT_ANY,       /* a port, key or not; default the first with a key */
        DONG_PORT_KEY,       /* a port with a key on it */
    } port_use;
    bool writes;             /* open the port for writing */
    int (*run)(dong_port *port, const dong_args *a);
} dong_command;

extern const dong_command g_commands[];


#endif
