/*
 * test_key_image.c — the key image file (docs/KEY_IMAGE.md): fresh keys, persistence
 * of EEPROM, counters, lock, secret and journal across "restarts", clear errors for
 * missing, corrupt and truncated images, and crash safety: a child process killed at
 * every step of a save, and at random instants of a stream of saves, always leaves an
 * image that loads and is either the old or the new one.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "keyrig.h"
#include "key_internal.h"

enum { ECHO = 0x07, WRITE = 0x04, COUNTER_DEC = 0x06, COUNTER_SET = 0x0C, LOCK = 0x08 };

typedef struct tmpdir {
    char dir[64];
    char path[96];
} tmpdir;

static void tmp_make(tmpdir *t)
{
    strcpy(t->dir, "/tmp/dl1img.XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->path, sizeof t->path, "%s/key.img", t->dir);
}

static void tmp_remove(tmpdir *t)
{
    char tmp[128];
    snprintf(tmp, sizeof tmp, "%s.tmp", t->path);
    unlink(tmp);
    unlink(t->path);
    rmdir(t->dir);
}

/* try_create - sim_key_create on path; returns the key or NULL with err filled. */
static sim_peripheral *try_create(sim_clock *clk, const char *path, bool create, char *err,
                                  size_t errlen)
{
    sim_key_config c = rig_config(path);
    c.create_if_missing = create;
    return sim_key_create(clk, &c, NULL, err, errlen);
}

static void test_missing_and_fresh(void **state)
{
    tmpdir t;
    char err[512] = "";
    sim_clock *clk = sim_clock_create();
    (void)state;

    tmp_make(&t);
    assert_null(try_create(clk, t.path, false, err, sizeof err));
    assert_non_null(strstr(err, "does not exist"));
    assert_non_null(strstr(err, t.path));
    sim_peripheral *p = try_create(clk, t.path, true, err, sizeof err);
    assert_non_null(p);
    struct stat sb;
    assert_int_equal(stat(t.path, &sb), 0);
    assert_int_equal(key_image_size(), 2696);      /* docs/KEY_IMAGE.md */
    assert_int_equal((size_t)sb.st_size, key_image_size());
    p->ops->destroy(p);
    /* The file exists now: a key with different create-time parameters loads it. */
    sim_key_config c = rig_config(t.path);
    memset(c.serial, 0xEE, sizeof c.serial);
    p = sim_key_create(clk, &c, NULL, err, sizeof err);
    assert_non_null(p);
    uint8_t serial[8], secret[32], mem[2048];
    sim_key *k = sim_key_from_peripheral(p);
    sim_key_serial(k, serial);
    sim_key_secret(k, secret);
    assert_memory_equal(serial, rig_serial, 8);
    assert_memory_equal(secret, rig_secret, 32);
    assert_false(sim_key_locked(k));
    for (unsigned i = 0; i < 8; i++)
        assert_int_equal(sim_key_counter(k, i), 0);
    sim_key_read_eeprom(k, 0, mem, sizeof mem);
    for (unsigned i = 0; i < sizeof mem; i++)
        assert_int_equal(mem[i], 0xFF);
    p->ops->destroy(p);
    tmp_remove(&t);
    sim_clock_destroy(clk);
}

/* rewrite - damage the image: flip a bit at flip_at (-1: none), keep the first keep
   bytes, optionally append a byte. */
static void rewrite(const char *path, size_t keep, long flip_at, bool append)
{
    FILE *f = fopen(path, "rb");
    uint8_t buf[8192];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (flip_at >= 0)
        buf[flip_at] ^= 0x01;
    if (keep < n)
        n = keep;
    if (append)
        buf[n++] = 0;
    f = fopen(path, "wb");
    fwrite(buf, 1, n, f);
    fclose(f);
}

static void expect_refused(sim_clock *clk, const char *path, const char *what)
{
    char err[512] = "";
    assert_null(try_create(clk, path, true, err, sizeof err));
    if (!strstr(err, what))
        fail_msg("error '%s' does not mention '%s'", err, what);
    assert_non_null(strstr(err, path));
}

static void test_corrupt_images_refused(void **state)
{
    tmpdir t;
    char err[256];
    sim_clock *clk = sim_clock_create();
    size_t size = key_image_size();
    (void)state;

    tmp_make(&t);
    assert_int_equal(sim_key_image_create(t.path, rig_serial, rig_secret, err, sizeof err), 0);
    rewrite(t.path, size, 200, false);                       /* one bit in the EEPROM */
    expect_refused(clk, t.path, "checksum mismatch");
    assert_int_equal(sim_key_image_create(t.path, rig_serial, rig_secret, err, sizeof err), 0);
    rewrite(t.path, size - 1, -1, false);
    expect_refused(clk, t.path, "truncated");
    rewrite(t.path, 0, -1, false);                           /* empty file */
    expect_refused(clk, t.path, "truncated");
    assert_int_equal(sim_key_image_create(t.path, rig_serial, rig_secret, err, sizeof err), 0);
    rewrite(t.path, size, -1, true);
    expect_refused(clk, t.path, "longer than");
    assert_int_equal(sim_key_image_create(t.path, rig_serial, rig_secret, err, sizeof err), 0);
    rewrite(t.path, size, 0, false);
    expect_refused(clk, t.path, "bad magic");
    assert_int_equal(sim_key_image_create(t.path, rig_serial, rig_secret, err, sizeof err), 0);
    rewrite(t.path, size, 8, false);
    expect_refused(clk, t.path, "version");
    /* The refused file is left alone (never replaced by a blank key). */
    struct stat sb;
    assert_int_equal(stat(t.path, &sb), 0);
    assert_int_equal((size_t)sb.st_size, size);
    tmp_remove(&t);
    sim_clock_destroy(clk);
}

/* rig_up_image - a rig whose key lives in the image at path. */
static void rig_up_image(rig *r, const char *path)
{
    sim_key_config c = rig_config(path);
    rig_up_cfg(r, SIM_CHIP_PS2, SIM_US(1), false, &c);
}

static void test_state_persists_across_restart(void **state)
{
    tmpdir t;
    rig r;
    refhost_resp resp;
    uint8_t req[64], frame[80];
    (void)state;

    tmp_make(&t);
    rig_up_image(&r, t.path);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    put32(req, 1); req[4] = 0x00; req[5] = 0x04; memset(req + 6, 0x5E, 20);
    assert_int_equal(rig_cmd(&r, 1, WRITE, req, 26, &resp), 0);
    put32(req, 2); req[4] = 5; put32(req + 5, 1000);
    assert_int_equal(rig_cmd(&r, 2, COUNTER_SET, req, 9, &resp), 0);
    put32(req, 3); req[4] = 5; put32(req + 5, 1);
    size_t n = refhost_frame(frame, 3, COUNTER_DEC, req, 9);
    assert_int_equal(refhost_exchange(&r.h, frame, n, SIM_MS(5), &resp), RH_OK);
    assert_int_equal(get32(resp.payload), 999);
    put32(req, 4);
    assert_int_equal(rig_cmd(&r, 4, LOCK, req, 4, &resp), 0);
    sim_key_stats st;
    sim_key_get_stats(r.key, &st);
    assert_int_equal(st.image_writes, 5);          /* 2 pages, SET, DEC, LOCK */
    assert_string_equal(sim_key_image_error(r.key), "");
    rig_down(&r);

    /* "Restart": a new machine from the same image. */
    rig_up_image(&r, t.path);
    uint8_t mem[20];
    sim_key_read_eeprom(r.key, 0x400, mem, 20);
    for (int i = 0; i < 20; i++)
        assert_int_equal(mem[i], 0x5E);
    assert_int_equal(sim_key_counter(r.key, 5), 999);
    assert_true(sim_key_locked(r.key));
    /* LOCK was the last journaled command: its resend is answered from the journal
       even though the volatile cache died with the old machine. */
    assert_int_equal(refhost_open(&r.h, 0x4D), RH_OK);
    put32(req, 4);
    assert_int_equal(rig_cmd(&r, 5, LOCK, req, 4, &resp), 0);
    sim_key_get_stats(r.key, &st);
    assert_int_equal(st.journal_replays, 1);
    assert_int_equal(st.commands_executed, 0);
    assert_int_equal(refhost_close(&r.h), RH_OK);
    rig_down(&r);
    tmp_remove(&t);
}

static void test_journal_survives_restart(void **state)
{
    tmpdir t;
    rig r;
    refhost_resp resp;
    uint8_t req[16], frame[32];
    (void)state;

    tmp_make(&t);
    rig_up_image(&r, t.path);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    put32(req, 10); req[4] = 1; put32(req + 5, 50);
    assert_int_equal(rig_cmd(&r, 1, COUNTER_SET, req, 9, &resp), 0);
    put32(req, 11); req[4] = 1; put32(req + 5, 8);
    size_t n = refhost_frame(frame, 2, COUNTER_DEC, req, 9);
    assert_int_equal(refhost_exchange(&r.h, frame, n, SIM_MS(5), &resp), RH_OK);
    rig_down(&r);                                  /* the response "never arrived" */

    rig_up_image(&r, t.path);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    assert_int_equal(refhost_exchange(&r.h, frame, n, SIM_MS(5), &resp), RH_OK);
    assert_int_equal(resp.status, 0);
    assert_int_equal(get32(resp.payload), 42);
    assert_int_equal(sim_key_counter(r.key, 1), 42);
    assert_int_equal(refhost_close(&r.h), RH_OK);
    rig_down(&r);
    tmp_remove(&t);
}

static void test_power_loss_in_page_write_persists_whole_pages(void **state)
{
    tmpdir t;
    rig r;
    uint8_t req[64], frame[80];
    size_t sent;
    (void)state;

    tmp_make(&t);
    rig_up_image(&r, t.path);
    assert_int_equal(refhost_open(&r.h, 0x4C), RH_OK);
    put32(req, 5); req[4] = 0x00; req[5] = 0x01; memset(req + 6, 0x11, 48);
    size_t n = refhost_frame(frame, 1, WRITE, req, 54);
    sim_key_trigger tr = { SIM_KEY_TRIGGER_IN_PAGE_WRITE, SIM_MS(4), 2 };
    sim_key_fault f = { SIM_KEY_FAULT_POWER_LOSS, 0, 0 };
    assert_int_equal(sim_key_inject(r.key, &tr, &f), 0);
    assert_int_equal(refhost_send(&r.h, frame, n, &sent), RH_OK);
    sim_clock_advance(r.clk, SIM_MS(20));
    assert_int_equal(sim_key_get_state(r.key), SIM_KEY_OFF);
    rig_down(&r);

    rig_up_image(&r, t.path);
    uint8_t mem[48];
    sim_key_read_eeprom(r.key, 0x100, mem, 48);
    for (int i = 0; i < 16; i++)
        assert_int_equal(mem[i], 0x11);
    for (int i = 16; i < 48; i++)
        assert_int_equal(mem[i], 0xFF);
    rig_down(&r);
    tmp_remove(&t);
}

/* ---- crash safety ------------------------------------------------------------------ */

static int die_at_step = -1;

static void die_hook(int step)
{
    if (step == die_at_step)
        _exit(0);
}

/* load_counter0 - the image must load; returns counter 0 (the "version" of the save). */
static uint32_t load_counter0(const char *path)
{
    key_nv nv;
    char err[512];
    int rc = key_image_load(path, &nv, err, sizeof err);
    if (rc != 0)
        fail_msg("image does not load after a crash: rc %d %s", rc, err);
    return nv.counters[0];
}

static void test_kill_at_every_step_of_a_save(void **state)
{
    tmpdir t;
    char err[512];
    (void)state;

    tmp_make(&t);
    for (int s = KEY_IMAGE_STEP_OPENED; s < KEY_IMAGE_STEPS; s++) {
        key_nv nv;
        key_nv_init(&nv, rig_serial, rig_secret);
        nv.counters[0] = 1;
        assert_int_equal(key_image_save(t.path, &nv, err, sizeof err), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            die_at_step = s;
            key_image_step_hook = die_hook;
            nv.counters[0] = 2;
            key_image_save(t.path, &nv, err, sizeof err);
            _exit(1);                               /* the hook did not fire */
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        uint32_t v = load_counter0(t.path);
        assert_int_equal(v, s >= KEY_IMAGE_STEP_RENAMED ? 2u : 1u);
    }
    tmp_remove(&t);
}

static void test_kill_at_random_instants(void **state)
{
    tmpdir t;
    char err[512];
    unsigned seed = 12345;
    (void)state;

    tmp_make(&t);
    for (int round = 0; round < 25; round++) {
        key_nv nv;
        key_nv_init(&nv, rig_serial, rig_secret);
        nv.counters[0] = 0;
        assert_int_equal(key_image_save(t.path, &nv, err, sizeof err), 0);
        int pipefd[2];
        assert_int_equal(pipe(pipefd), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            /* A stream of saves, each with the next version; report when started. */
            close(pipefd[0]);
            if (write(pipefd[1], "g", 1) != 1)
                _exit(2);
            for (uint32_t v = 1;; v++) {
                nv.counters[0] = v;
                memset(nv.eeprom, (int)(v & 0xFF), sizeof nv.eeprom);
                key_image_save(t.path, &nv, err, sizeof err);
            }
        }
        close(pipefd[1]);
        char c;
        assert_int_equal(read(pipefd[0], &c, 1), 1);
        close(pipefd[0]);
        /* The kill point is what is random here, not a wait for something. */
        usleep((useconds_t)(rand_r(&seed) % 4000));
        kill(pid, SIGKILL);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        key_nv got;
        assert_int_equal(key_image_load(t.path, &got, err, sizeof err), 0);
        /* Whole: the EEPROM pattern matches the version in the same file. */
        for (unsigned i = 0; i < sizeof got.eeprom; i++)
            assert_int_equal(got.eeprom[i], got.counters[0] == 0 ? 0xFF : (got.counters[0] & 0xFF));
    }
    tmp_remove(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_and_fresh),
        cmocka_unit_test(test_corrupt_images_refused),
        cmocka_unit_test(test_state_persists_across_restart),
        cmocka_unit_test(test_journal_survives_restart),
        cmocka_unit_test(test_power_loss_in_page_write_persists_whole_pages),
        cmocka_unit_test(test_kill_at_every_step_of_a_save),
        cmocka_unit_test(test_kill_at_random_instants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
