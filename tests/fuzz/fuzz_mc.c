/*
 * fuzz_mc.c — libFuzzer target for nthost's message-file reader (elf_mc.c), which
 * reads a driver's .mc source for the event log, and for FormatMessage-style
 * expansion of the texts it returns.
 *
 * Contract: a refused file yields "fuzz.mc:<line>: <problem>" and an empty result;
 * an accepted one gives messages whose ids are all found again by elf_mc_find and
 * whose texts expand (with fewer, as many and more arguments than they use) into
 * NUL-terminated strings. The raw input is also expanded as a message text.
 */
#include "fuzz_common.h"
#include <errno.h>
#include "cm_internal.h"

#define MC_NAME "fuzz.mc"

static const char *const mc_args[] = { "\\Device\\DongLpt0", "%1", "%%", "%n", "arg5" };

/* expand - format text with 0..5 arguments; each result must be a string. */
static void expand(const char *text)
{
    for (size_t n = 0; n <= sizeof mc_args / sizeof mc_args[0]; n += 2) {
        char *s = elf_mc_format(text, mc_args, n);
        FUZZ_CHECK(s != NULL, "elf_mc_format returned NULL");
        free(s);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    elf_mc_file f;
    char err[512] = "";
    char *text;
    int rc;

    memset(&f, 0xA5, sizeof f);
    rc = elf_mc_parse(MC_NAME, data, size, &f, err, sizeof err);
    if (rc != 0) {
        FUZZ_CHECK(rc == -EINVAL || rc == -ENOMEM, "unexpected return %d", rc);
        FUZZ_CHECK(fuzz_starts_with(err, MC_NAME ":") && strlen(err) > strlen(MC_NAME ":"),
                   "error message '%s' does not name the file", err);
        FUZZ_CHECK(f.count == 0, "refused file left %zu messages", f.count);
    } else {
        for (size_t i = 0; i < f.count; i++) {
            const elf_mc_message *m = elf_mc_find(&f, f.msgs[i].id);
            FUZZ_CHECK(m && m->id == f.msgs[i].id, "message 0x%08x not found again",
                       (unsigned)f.msgs[i].id);
            FUZZ_CHECK(f.msgs[i].text != NULL, "message 0x%08x has no text",
                       (unsigned)f.msgs[i].id);
            expand(f.msgs[i].text);
        }
    }
    elf_mc_free(&f);

    text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    expand(text);
    free(text);
    return 0;
}
