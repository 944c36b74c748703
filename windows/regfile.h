/*
 * windows/regfile.h — reader for the text files regedit imports (.reg): the format
 * of driver/donglpt.reg, which configures the DongLpt service on both homes.
 * donginst.exe applies the Parameters it finds to the real registry.
 *
 * Plain C (no Windows headers), so the tests run it on Linux against the project's
 * own .reg files. Values come out as the registry stores them: strings in UTF-16LE
 * with their terminating NUL (RegSetValueExW's format), DWORDs little-endian.
 */
#ifndef DONG_REGFILE_H
#define DONG_REGFILE_H

#include <stddef.h>
#include <stdint.h>

/* Registry value types (winnt.h values). */
#define REGF_SZ         1
#define REGF_EXPAND_SZ  2
#define REGF_BINARY     3
#define REGF_DWORD      4
#define REGF_MULTI_SZ   7
#define REGF_QWORD      11

#define REGF_MAX_DATA   4096

typedef struct regf_value {
    const char *key;        /* as written between [ ], e.g. HKEY_LOCAL_MACHINE\SYSTEM\... */
    const char *name;       /* "" for the default value (@) */
    unsigned type;          /* REGF_* */
    const uint8_t *data;
    size_t size;
    unsigned line;          /* where the value starts in the file */
} regf_value;

/* Called once per value, in file order; a nonzero return stops the parse and is
   returned by regf_parse. */
typedef int regf_value_fn(const regf_value *v, void *ctx);

/*
 * Parse text (ASCII/UTF-8, or UTF-16LE with its byte order mark, as regedit exports
 * it). Returns 0, the callback's nonzero value, or -1 with "line N: problem" in err.
 * Deletions ([-key], "name"=-) are refused: an installer must not guess at them.
 */
int regf_parse(const void *text, size_t len, regf_value_fn *fn, void *ctx, char *err, size_t errlen);

/* regf_parse on a whole file. */
int regf_parse_file(const char *path, regf_value_fn *fn, void *ctx, char *err, size_t errlen);

#endif
