/*
 * fuzz_common.h — helpers shared by the libFuzzer targets of tests/fuzz.
 *
 * Every target is one LLVMFuzzerTestOneInput that checks its parser's contract on the
 * input (a clean "<file>:<line>: problem" error or a result that survives a round
 * trip) and calls FUZZ_CHECK, which aborts, on any violation: libFuzzer then keeps the
 * input as a crash. The same sources build with gcc into tests/reliability's corpus
 * replay, so every corpus file (crash regressions included) is re-run by make check,
 * under ASan/UBSan and TSan too.
 */
#ifndef DONG_FUZZ_COMMON_H
#define DONG_FUZZ_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <ftw.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A violated contract: say which and abort, so the fuzzer saves the input. */
#define FUZZ_CHECK(cond, ...)                                                        \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: contract violated: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                            \
            fputc('\n', stderr);                                                     \
            abort();                                                                 \
        }                                                                            \
    } while (0)

/*
 * fuzz_workdir - a private scratch directory for this process (created once,
 * removed at exit by fuzz_workdir_cleanup's atexit registration).
 */
static inline int fuzz_rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)type;
    (void)ftw;
    remove(path);
    return 0;
}

static char fuzz_dir_path[64];

static inline void fuzz_workdir_remove(void)
{
    if (fuzz_dir_path[0])
        nftw(fuzz_dir_path, fuzz_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static inline const char *fuzz_workdir(void)
{
    if (!fuzz_dir_path[0]) {
        strcpy(fuzz_dir_path, "/tmp/dongfuzz.XXXXXX");
        if (!mkdtemp(fuzz_dir_path)) {
            perror("mkdtemp");
            abort();
        }
        atexit(fuzz_workdir_remove);
    }
    return fuzz_dir_path;
}

/* fuzz_scrub_except - empty the scratch directory, keeping only the entry `keep`
   (a base name, or NULL), so one input never sees files another one made. */
static const char *fuzz_keep_name;

static inline int fuzz_scrub_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)type;
    if (ftw->level == 0)
        return 0;
    if (ftw->level == 1 && fuzz_keep_name && strcmp(path + ftw->base, fuzz_keep_name) == 0)
        return 0;
    remove(path);
    return 0;
}

static inline void fuzz_scrub_except(const char *keep)
{
    fuzz_keep_name = keep;
    nftw(fuzz_workdir(), fuzz_scrub_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* fuzz_write_file - write data to dir/name; returns the malloc'ed path. */
static inline char *fuzz_write_file(const char *name, const void *data, size_t size)
{
    char *path = NULL;
    FILE *f;

    if (asprintf(&path, "%s/%s", fuzz_workdir(), name) < 0)
        abort();
    f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror(path);
        abort();
    }
    return path;
}

/* fuzz_starts_with - true when s begins with prefix. */
static inline bool fuzz_starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

#endif
