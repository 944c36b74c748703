/*
 * tests/tools_dongctl/run.h — helpers of the dongctl tests: run the real binary in
 * a child process with a fresh key-state directory, capture what it prints, and
 * check JSON documents.
 */
#ifndef DONG_TEST_RUN_H
#define DONG_TEST_RUN_H

#include <stdbool.h>
#include <stddef.h>

typedef struct run_result {
    int status;      /* exit code, or 128 + signal */
    char *out;       /* stdout (NUL-terminated, malloc'ed) */
    char *err;       /* stderr */
} run_result;

/* Make a fresh state directory and point DONGLPT_STATE_DIR at it. */
void state_dir_create(void);
/* Remove it and everything in it. */
void state_dir_remove(void);
/* The current state directory. */
const char *state_dir(void);

/* Run $DONGCTL with the given arguments (NULL-terminated). */
run_result run_dongctl(const char *arg0, ...);
void run_free(run_result *r);

/* Start $DONGCTL with the given arguments (NULL-terminated) in the background,
   output discarded; run_wait returns its exit code. */
int run_start(const char *arg0, ...);
int run_wait(int pid);

/* True when text is exactly one well-formed JSON value (plus whitespace). */
bool json_valid(const char *text);

/* Write len bytes to path; fail the test on error. */
void write_file(const char *path, const void *data, size_t len);
/* Read a whole file (malloc'ed, NUL-terminated); *len gets its size. */
char *read_file(const char *path, size_t *len);

#endif
