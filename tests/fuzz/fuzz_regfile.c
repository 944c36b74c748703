/*
 * fuzz_regfile.c — libFuzzer target for nthost's .reg importer (cm_regfile.c).
 *
 * Contract checked on every input:
 *  - a refused file yields "fuzz.reg:<line>: <problem>" (or "fuzz.reg: ...") and
 *    changes nothing: the exported registry is byte-identical before and after;
 *  - an accepted file exports to a version 5 file that imports into a fresh
 *    registry and exports again to the same bytes (the round trip regedit relies on).
 */
#include "fuzz_common.h"
#include <errno.h>
#include "cm_internal.h"

#define REG_NAME "fuzz.reg"

/* export_all - the whole registry as .reg bytes (aborts if export itself fails). */
static uint8_t *export_all(size_t *size)
{
    uint8_t *out = NULL;
    char err[256] = "";
    int rc = cm_export_reg_buffer("", &out, size, err, sizeof err);

    FUZZ_CHECK(rc == 0 && out, "export failed (%d): %s", rc, err);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512] = "";
    size_t before_size, after_size;
    uint8_t *before, *after;
    int rc;

    cm_init();
    before = export_all(&before_size);
    rc = cm_import_reg_buffer(REG_NAME, data, size, err, sizeof err);
    if (rc != 0) {
        FUZZ_CHECK(rc == -EINVAL || rc == -ENOMEM, "unexpected return %d", rc);
        FUZZ_CHECK(fuzz_starts_with(err, REG_NAME ":") && strlen(err) > strlen(REG_NAME ":"),
                   "error message '%s' does not name the file", err);
        after = export_all(&after_size);
        FUZZ_CHECK(after_size == before_size && memcmp(before, after, before_size) == 0,
                   "a refused file changed the registry (%s)", err);
    } else {
        uint8_t *again;
        size_t again_size;

        after = export_all(&after_size);
        cm_shutdown();
        cm_init();
        rc = cm_import_reg_buffer("export.reg", after, after_size, err, sizeof err);
        FUZZ_CHECK(rc == 0, "own export does not re-import: %s", err);
        again = export_all(&again_size);
        FUZZ_CHECK(again_size == after_size && memcmp(again, after, after_size) == 0,
                   "export -> import -> export is not stable (%zu vs %zu bytes)",
                   after_size, again_size);
        free(again);
    }
    free(before);
    free(after);
    cm_shutdown();
    return 0;
}
