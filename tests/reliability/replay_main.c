/*
 * replay_main.c — cmocka runner that feeds every file of the corpus directories on
 * the command line to one fuzz target (tests/fuzz/fuzz_<name>.c, built with gcc).
 *
 * One cmocka test per file, named after it: the corpus seeds, the inputs the fuzzer
 * kept and every crash regression (corpus/<name>/regress-*) run in every build,
 * sanitizer builds included. A target checks its parser's contract itself and aborts
 * on a violation, which fails the run at the test named after the guilty file.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* replay_file - run the target on one file's bytes. */
static void replay_file(void **state)
{
    const char *path = *state;
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0, got;

    assert_non_null(f);
    do {
        if (len == cap) {
            cap = cap ? 2 * cap : 4096;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
    } while (got > 0);
    fclose(f);
    assert_int_equal(LLVMFuzzerTestOneInput(buf, len), 0);
    free(buf);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct CMUnitTest *)a)->name, ((const struct CMUnitTest *)b)->name);
}

/* add_dir - one test per regular file of dir. */
static void add_dir(const char *dir, struct CMUnitTest **tests, size_t *n, size_t *cap)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    if (!d) {
        fprintf(stderr, "%s: cannot open corpus directory\n", dir);
        exit(1);
    }
    while ((e = readdir(d)) != NULL) {
        char *path;
        if (e->d_name[0] == '.')
            continue;
        if (asprintf(&path, "%s/%s", dir, e->d_name) < 0)
            exit(1);
        if (*n == *cap) {
            *cap = *cap ? 2 * *cap : 64;
            *tests = realloc(*tests, *cap * sizeof **tests);
            if (!*tests)
                exit(1);
        }
        (*tests)[(*n)++] = (struct CMUnitTest){
            .name = path + strlen(dir) + 1, .test_func = replay_file, .initial_state = path };
    }
    closedir(d);
}

int main(int argc, char **argv)
{
    struct CMUnitTest *tests = NULL;
    size_t n = 0, cap = 0;
    int failed;

    if (argc < 3) {
        fprintf(stderr, "usage: %s GROUP CORPUS_DIR...\n", argv[0]);
        return 2;
    }
    for (int i = 2; i < argc; i++)
        add_dir(argv[i], &tests, &n, &cap);
    if (n == 0) {
        fprintf(stderr, "%s: empty corpus\n", argv[1]);
        return 1;
    }
    qsort(tests, n, sizeof *tests, by_name);
    failed = _cmocka_run_group_tests(argv[1], tests, n, NULL, NULL);
    printf("%s: %zu corpus files replayed, %d failures\n", argv[1], n, failed);
    for (size_t i = 0; i < n; i++)
        free((void *)tests[i].initial_state);
    free(tests);
    return failed ? 1 : 0;
}
