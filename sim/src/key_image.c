/*
 * key_image.c — the DL-1 key's image file (docs/KEY_IMAGE.md): a fixed-size binary
 * record closed by a SHA-256 checksum, replaced atomically on every save so a crash
 * at any instant leaves the old image or the new one, never a torn file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/sha.h>
#include "key_internal.h"

#define IMG_MAGIC        "DL1IMAGE"
#define IMG_MAGIC_LEN    8u
#define IMG_VERSION      1u
#define IMG_FLAG_LOCKED  0x1u

/* Field offsets (docs/KEY_IMAGE.md). */
#define IMG_OFF_MAGIC    0u
#define IMG_OFF_VERSION  8u
#define IMG_OFF_SIZE     12u
#define IMG_OFF_SERIAL   16u
#define IMG_OFF_SECRET   (IMG_OFF_SERIAL + SIM_KEY_SERIAL_LEN)
#define IMG_OFF_FLAGS    (IMG_OFF_SECRET + SIM_KEY_SECRET_LEN)
#define IMG_OFF_COUNTERS (IMG_OFF_FLAGS + 4u)
#define IMG_OFF_EEPROM   (IMG_OFF_COUNTERS + 4u * SIM_KEY_COUNTERS)
#define IMG_OFF_JOURNAL  (IMG_OFF_EEPROM + SIM_KEY_MEM_SIZE)
/* Journal record: valid u8, cmd u8, payload_len u16, payload[512], status u8,
   resp_len u8, resp[4], 2 reserved bytes. */
#define IMG_J_VALID      0u
#define IMG_J_CMD        1u
#define IMG_J_PLEN       2u
#define IMG_J_PAYLOAD    4u
#define IMG_J_STATUS     (IMG_J_PAYLOAD + SIM_KEY_MAX_PAYLOAD)
#define IMG_J_RLEN       (IMG_J_STATUS + 1u)
#define IMG_J_RESP       (IMG_J_RLEN + 1u)
#define IMG_J_SIZE       (IMG_J_RESP + KEY_JOURNAL_RESP_MAX + 2u)
#define IMG_OFF_SUM      (IMG_OFF_JOURNAL + IMG_J_SIZE)
#define IMG_SIZE         (IMG_OFF_SUM + SHA256_DIGEST_LENGTH)

void (*key_image_step_hook)(int step);

/* key_image_size - bytes in every image file of this format version. */
size_t key_image_size(void)
{
    return IMG_SIZE;
}

/* step - tell the crash-test hook (if any) how far a save has got. */
static void step(int s)
{
    if (key_image_step_hook)
        key_image_step_hook(s);
}

/* key_nv_init - the content of a key fresh from the factory (DL1.md section 7). */
void key_nv_init(key_nv *nv, const uint8_t serial[SIM_KEY_SERIAL_LEN],
                 const uint8_t secret[SIM_KEY_SECRET_LEN])
{
    memset(nv, 0, sizeof *nv);
    memcpy(nv->serial, serial, SIM_KEY_SERIAL_LEN);
    memcpy(nv->secret, secret, SIM_KEY_SECRET_LEN);
    memset(nv->eeprom, 0xFF, sizeof nv->eeprom);
}

/* encode - serialise nv into a full image buffer, checksum included. */
static void encode(const key_nv *nv, uint8_t *img)
{
    const key_journal *j = &nv->journal;
    uint8_t *jr = img + IMG_OFF_JOURNAL;

    memset(img, 0, IMG_SIZE);
    memcpy(img + IMG_OFF_MAGIC, IMG_MAGIC, IMG_MAGIC_LEN);
    key_put32(img + IMG_OFF_VERSION, IMG_VERSION);
    key_put32(img + IMG_OFF_SIZE, IMG_SIZE);
    memcpy(img + IMG_OFF_SERIAL, nv->serial, SIM_KEY_SERIAL_LEN);
    memcpy(img + IMG_OFF_SECRET, nv->secret, SIM_KEY_SECRET_LEN);
    key_put32(img + IMG_OFF_FLAGS, nv->locked ? IMG_FLAG_LOCKED : 0);
    for (unsigned i = 0; i < SIM_KEY_COUNTERS; i++)
        key_put32(img + IMG_OFF_COUNTERS + 4u * i, nv->counters[i]);
    memcpy(img + IMG_OFF_EEPROM, nv->eeprom, SIM_KEY_MEM_SIZE);
    if (j->valid) {
        jr[IMG_J_VALID] = 1;
        jr[IMG_J_CMD] = j->cmd;
        key_put16(jr + IMG_J_PLEN, j->payload_len);
        memcpy(jr + IMG_J_PAYLOAD, j->payload, j->payload_len);
        jr[IMG_J_STATUS] = j->status;
        jr[IMG_J_RLEN] = j->resp_len;
        memcpy(jr + IMG_J_RESP, j->resp, j->resp_len);
    }
    SHA256(img, IMG_OFF_SUM, img + IMG_OFF_SUM);
}

/* decode - validate an image buffer of IMG_SIZE bytes and unpack it into nv. */
static int decode(const uint8_t *img, key_nv *nv, const char *path, char *err, size_t errlen)
{
    uint8_t sum[SHA256_DIGEST_LENGTH];
    const uint8_t *jr = img + IMG_OFF_JOURNAL;
    uint32_t flags;

    if (memcmp(img + IMG_OFF_MAGIC, IMG_MAGIC, IMG_MAGIC_LEN) != 0) {
        snprintf(err, errlen, "%s: not a DL-1 key image (bad magic)", path);
        return -1;
    }
    if (key_get32(img + IMG_OFF_VERSION) != IMG_VERSION) {
        snprintf(err, errlen, "%s: unsupported key image version %u (expected %u)", path,
                 (unsigned)key_get32(img + IMG_OFF_VERSION), IMG_VERSION);
        return -1;
    }
    if (key_get32(img + IMG_OFF_SIZE) != IMG_SIZE) {
        snprintf(err, errlen, "%s: corrupt key image (size field %u, expected %u)", path,
                 (unsigned)key_get32(img + IMG_OFF_SIZE), (unsigned)IMG_SIZE);
        return -1;
    }
    SHA256(img, IMG_OFF_SUM, sum);
    if (memcmp(sum, img + IMG_OFF_SUM, sizeof sum) != 0) {
        snprintf(err, errlen, "%s: corrupt key image (checksum mismatch)", path);
        return -1;
    }
    flags = key_get32(img + IMG_OFF_FLAGS);
    if (flags & ~IMG_FLAG_LOCKED) {
        snprintf(err, errlen, "%s: corrupt key image (unknown flags 0x%08x)", path, (unsigned)flags);
        return -1;
    }
    if (jr[IMG_J_VALID] > 1 || key_get16(jr + IMG_J_PLEN) > SIM_KEY_MAX_PAYLOAD ||
        jr[IMG_J_RLEN] > KEY_JOURNAL_RESP_MAX) {
        snprintf(err, errlen, "%s: corrupt key image (bad journal record)", path);
        return -1;
    }

    memset(nv, 0, sizeof *nv);
    memcpy(nv->serial, img + IMG_OFF_SERIAL, SIM_KEY_SERIAL_LEN);
    memcpy(nv->secret, img + IMG_OFF_SECRET, SIM_KEY_SECRET_LEN);
    nv->locked = (flags & IMG_FLAG_LOCKED) != 0;
    for (unsigned i = 0; i < SIM_KEY_COUNTERS; i++)
        nv->counters[i] = key_get32(img + IMG_OFF_COUNTERS + 4u * i);
    memcpy(nv->eeprom, img + IMG_OFF_EEPROM, SIM_KEY_MEM_SIZE);
    if (jr[IMG_J_VALID]) {
        nv->journal.valid = true;
        nv->journal.cmd = jr[IMG_J_CMD];
        nv->journal.payload_len = key_get16(jr + IMG_J_PLEN);
        memcpy(nv->journal.payload, jr + IMG_J_PAYLOAD, nv->journal.payload_len);
        nv->journal.status = jr[IMG_J_STATUS];
        nv->journal.resp_len = jr[IMG_J_RLEN];
        memcpy(nv->journal.resp, jr + IMG_J_RESP, nv->journal.resp_len);
    }
    return 0;
}

/*
 * key_image_load - read and validate path. A missing file is reported separately
 * (KEY_IMAGE_MISSING) so the caller may create a fresh key; a short, long or
 * damaged file is an error, never a blank key.
 */
int key_image_load(const char *path, key_nv *nv, char *err, size_t errlen)
{
    uint8_t *img = malloc(IMG_SIZE + 1);
    size_t got = 0;
    int rc = -1;
    FILE *f;

    if (!img) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT)
            rc = KEY_IMAGE_MISSING;
        else
            snprintf(err, errlen, "%s: cannot open key image: %s", path, strerror(errno));
        free(img);
        return rc;
    }
    /* One byte more than expected tells "too long" apart from "exact". */
    got = fread(img, 1, IMG_SIZE + 1, f);
    if (ferror(f))
        snprintf(err, errlen, "%s: cannot read key image: %s", path, strerror(errno));
    else if (got < IMG_SIZE)
        snprintf(err, errlen, "%s: truncated key image (%zu bytes, expected %u)", path, got,
                 (unsigned)IMG_SIZE);
    else if (got > IMG_SIZE)
        snprintf(err, errlen, "%s: corrupt key image (longer than %u bytes)", path,
                 (unsigned)IMG_SIZE);
    else
        rc = decode(img, nv, path, err, errlen);
    fclose(f);
    free(img);
    return rc;
}

/* write_all - write(2) until done or a real error. */
static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* sync_parent_dir - make the rename itself durable. */
static int sync_parent_dir(const char *path)
{
    char *dir = strdup(path);
    char *slash;
    int fd, rc;

    if (!dir)
        return -1;
    slash = strrchr(dir, '/');
    if (!slash)
        strcpy(dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    fd = open(dir, O_RDONLY | O_DIRECTORY);
    free(dir);
    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

/*
 * key_image_save - replace path with the image of nv: write "<path>.tmp" in the same
 * directory, fsync it, rename it over path, fsync the directory. rename() is atomic,
 * so readers (and a restart after a crash) see either the old or the new file.
 */
int key_image_save(const char *path, const key_nv *nv, char *err, size_t errlen)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 5);
    uint8_t *img = malloc(IMG_SIZE);
    int fd = -1, rc = -1;

    if (!tmp || !img) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto out;
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    encode(nv, img);

    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
        goto out;
    }
    step(KEY_IMAGE_STEP_OPENED);
    if (write_all(fd, img, IMG_SIZE / 2) != 0)
        goto io_error;
    step(KEY_IMAGE_STEP_HALF_WRITTEN);
    if (write_all(fd, img + IMG_SIZE / 2, IMG_SIZE - IMG_SIZE / 2) != 0)
        goto io_error;
    step(KEY_IMAGE_STEP_WRITTEN);
    if (fsync(fd) != 0)
        goto io_error;
    step(KEY_IMAGE_STEP_SYNCED);
    if (close(fd) != 0) {
        fd = -1;
        goto io_error;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: cannot replace key image: %s", path, strerror(errno));
        goto out;
    }
    step(KEY_IMAGE_STEP_RENAMED);
    if (sync_parent_dir(path) != 0) {
        snprintf(err, errlen, "%s: cannot sync directory: %s", path, strerror(errno));
        goto out;
    }
    step(KEY_IMAGE_STEP_DIR_SYNCED);
    rc = 0;
    goto out;

io_error:
    snprintf(err, errlen, "%s: write failed: %s", tmp, strerror(errno));
    unlink(tmp);
out:
    if (fd >= 0)
        close(fd);
    free(tmp);
    free(img);
    return rc;
}
