/*
 * fuzz_machine.c — libFuzzer target for the machine description loader
 * (sim_machine_load, sim/src/machine.c, libinih underneath).
 *
 * Each input is written as <scratch>/m.ini next to a valid secret file (s.key) and
 * loaded with ${STATE} = <scratch>/state, so key images it asks for are created in
 * the scratch directory and removed before the next input.
 *
 * Contract: a refused description yields "<path>:<line>: <problem>" (or
 * "<path>: <problem>") and no machine; an accepted one has ports whose register
 * ranges do not overlap, whose names find them again, whose IRQ is 0..15 or none,
 * and which carry a key exactly when the description attaches one. The machine
 * then runs 150 ms (every key powers up) and is destroyed.
 *
 * Inputs that name paths outside the scratch directory (absolute paths, "..",
 * "~") are skipped: the loader would honour them, and the fuzzer runs as whatever
 * user runs make check.
 */
#include "fuzz_common.h"
#include "sim/machine.h"

static const char demo_secret[] =
    "# 32 bytes\n444c312d64656d6f2d6b65792d7365637265742d446f6e674c70742d30303031\n";

/* escapes_scratch - whether a value in data could name a file outside the scratch
   directory: a '/' that starts a value or a continuation line, "..", or '~'. */
static bool escapes_scratch(const uint8_t *data, size_t size)
{
    char prev = '\n';

    for (size_t i = 0; i < size; i++) {
        char c = (char)data[i];
        if (c == '~' || (c == '.' && i + 1 < size && data[i + 1] == '.'))
            return true;
        if (c == '/' && (prev == '=' || prev == ':' || prev == '\n' || prev == '\r'))
            return true;
        if (c != ' ' && c != '\t')
            prev = c;
    }
    return false;
}

static bool ranges_overlap(const sim_port_info *a, const sim_port_info *b)
{
    return a->base < b->base + b->span && b->base < a->base + a->span;
}

/* check_machine - the invariants of a machine the loader accepted. */
static void check_machine(sim_machine *m)
{
    unsigned n = sim_machine_port_count(m);

    for (unsigned i = 0; i < n; i++) {
        sim_port_info pi;
        bool has_key;

        FUZZ_CHECK(sim_machine_port_info(m, i, &pi) == 0, "port %u has no info", i);
        FUZZ_CHECK(pi.name && pi.name[0], "port %u has no name", i);
        FUZZ_CHECK(pi.span == 4 || pi.span == 8, "port %s span %u", pi.name, pi.span);
        FUZZ_CHECK(pi.base % 4 == 0, "port %s base 0x%x", pi.name, pi.base);
        FUZZ_CHECK(pi.irq == SIM_IRQ_NONE || (pi.irq >= 0 && pi.irq <= 15),
                   "port %s irq %d", pi.name, pi.irq);
        FUZZ_CHECK(pi.access_ns > 0, "port %s access time 0", pi.name);
        FUZZ_CHECK(sim_machine_port(m, i) != NULL, "port %s has no chip", pi.name);
        FUZZ_CHECK(sim_machine_find_port(m, pi.name) >= 0, "port %s not found by name", pi.name);
        has_key = pi.attach == SIM_ATTACH_KEY || pi.attach == SIM_ATTACH_KEY_PRINTER;
        FUZZ_CHECK(has_key == (sim_machine_key(m, i) != NULL), "port %s: key %s but attach %s",
                   pi.name, has_key ? "missing" : "present", sim_attach_name(pi.attach));
        for (unsigned j = 0; j < i; j++) {
            sim_port_info pj;
            FUZZ_CHECK(sim_machine_port_info(m, j, &pj) == 0, "port %u has no info", j);
            FUZZ_CHECK(!ranges_overlap(&pi, &pj), "ports %s and %s overlap", pi.name, pj.name);
        }
    }
    FUZZ_CHECK(sim_machine_port_info(m, n, &(sim_port_info){ 0 }) != 0, "port past the end");
    sim_clock_advance(sim_machine_clock(m), SIM_MS(150));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[1024] = "";
    char state[128];
    sim_machine *m = NULL;
    char *path, *secret;

    if (escapes_scratch(data, size) || memchr(data, '\0', size))
        return 0;
    snprintf(state, sizeof state, "%s/state", fuzz_workdir());
    setenv("DONGLPT_STATE_DIR", state, 1);
    fuzz_scrub_except(NULL);
    secret = fuzz_write_file("s.key", demo_secret, sizeof demo_secret - 1);
    path = fuzz_write_file("m.ini", data, size);

    if (sim_machine_load(path, &m, err, sizeof err) != 0) {
        size_t plen = strlen(path);
        FUZZ_CHECK(m == NULL, "refused description built a machine");
        FUZZ_CHECK(strncmp(err, path, plen) == 0 && err[plen] == ':' && err[plen + 1],
                   "error message '%s' does not name the file", err);
    } else {
        FUZZ_CHECK(m != NULL, "accepted description built no machine");
        check_machine(m);
        sim_machine_destroy(m);
    }
    free(path);
    free(secret);
    return 0;
}
