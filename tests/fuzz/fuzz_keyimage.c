/*
 * fuzz_keyimage.c — libFuzzer target for the DL-1 key image loader
 * (sim_key_create on an image file, sim/src/key_image.c, docs/KEY_IMAGE.md).
 *
 * Input: one mode byte, then the image bytes. Random bytes almost never pass the
 * magic and the SHA-256 checksum, so the mode byte lets the fuzzer reach the field
 * checks behind them:
 *   bit 0  pad or cut the bytes to exactly the image size
 *   bit 1  write the magic, version and size fields
 *   bit 2  compute the checksum
 *
 * Contract: a refused image yields "<path>: <problem>", no key, and the file left
 * byte for byte as it was. An accepted image loads exactly the fields written in it;
 * the key then answers GET_INFO with its serial and lock flag through a real session
 * (reference host, tests/sim_key/refhost.c), and after a WRITE outside the lockable
 * area its rewritten image loads again with that write in it.
 */
#include "fuzz_common.h"
#include <openssl/sha.h>
#include "refhost.h"
#include "sim/bus.h"
#include "sim/key.h"
#include "sim/port.h"

#define IMG_SIZE      2696u
#define OFF_SERIAL    16u
#define OFF_SECRET    24u
#define OFF_FLAGS     56u
#define OFF_COUNTERS  60u
#define OFF_EEPROM    92u
#define OFF_SUM       2664u
#define OFF_JTXID     2144u   /* first payload bytes of the journal record */
#define MODE_FIX_SIZE   0x01u
#define MODE_FIX_HEADER 0x02u
#define MODE_FIX_SUM    0x04u
#define PORT_BASE     0x378u
#define CMD_GET_INFO  0x01u
#define CMD_WRITE     0x04u
#define WRITE_ADDR    0x700u    /* outside the 0..255 area LOCK protects */

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* shape - build the file bytes from the input as the mode byte asks. */
static uint8_t *shape(const uint8_t *data, size_t size, size_t *out_size)
{
    uint8_t mode = size ? data[0] : 0;
    size_t n = size ? size - 1 : 0;
    size_t len = (mode & MODE_FIX_SIZE) ? IMG_SIZE : n;
    uint8_t *img = malloc(len ? len : 1);

    if (!img)
        abort();
    memset(img, 0xFF, len);
    memcpy(img, data + (size ? 1 : 0), n < len ? n : len);
    if (len == IMG_SIZE && (mode & MODE_FIX_HEADER)) {
        memcpy(img, "DL1IMAGE", 8);
        put32(img + 8, 1);
        put32(img + 12, IMG_SIZE);
    }
    if (len == IMG_SIZE && (mode & MODE_FIX_SUM))
        SHA256(img, OFF_SUM, img + OFF_SUM);
    *out_size = len;
    return img;
}

/* same_file - whether path holds exactly the bytes img[0..len). */
static bool same_file(const char *path, const uint8_t *img, size_t len)
{
    uint8_t *buf = malloc(len + 1);
    FILE *f = fopen(path, "rb");
    size_t got;
    bool same;

    if (!buf || !f)
        abort();
    got = fread(buf, 1, len + 1, f);
    fclose(f);
    same = got == len && memcmp(buf, img, len) == 0;
    free(buf);
    return same;
}

/* check_loaded - the key's state is the image's fields. */
static void check_loaded(const sim_key *k, const uint8_t *img)
{
    uint8_t serial[SIM_KEY_SERIAL_LEN], secret[SIM_KEY_SECRET_LEN];
    uint8_t *eeprom = malloc(SIM_KEY_MEM_SIZE);

    if (!eeprom)
        abort();
    sim_key_serial(k, serial);
    sim_key_secret(k, secret);
    FUZZ_CHECK(memcmp(serial, img + OFF_SERIAL, sizeof serial) == 0, "serial differs");
    FUZZ_CHECK(memcmp(secret, img + OFF_SECRET, sizeof secret) == 0, "secret differs");
    FUZZ_CHECK(sim_key_locked(k) == ((get32(img + OFF_FLAGS) & 1u) != 0), "lock flag differs");
    for (unsigned i = 0; i < SIM_KEY_COUNTERS; i++)
        FUZZ_CHECK(sim_key_counter(k, i) == get32(img + OFF_COUNTERS + 4 * i), "counter %u", i);
    sim_key_read_eeprom(k, 0, eeprom, SIM_KEY_MEM_SIZE);
    FUZZ_CHECK(memcmp(eeprom, img + OFF_EEPROM, SIM_KEY_MEM_SIZE) == 0, "EEPROM differs");
    free(eeprom);
}

/* exercise - a session on a port: GET_INFO, then a WRITE that rewrites the image. */
static void exercise(sim_clock *clk, sim_peripheral *kp, const uint8_t *img, uint8_t fill)
{
    sim_bus *bus = sim_bus_create(clk);
    sim_port *port = sim_port_create(bus, PORT_BASE, 7, SIM_CHIP_PS2, SIM_US(1));
    sim_key *k = sim_key_from_peripheral(kp);
    uint8_t payload[4 + 2 + SIM_KEY_PAGE_SIZE];
    refhost_resp r;
    refhost h;
    int rc;

    FUZZ_CHECK(bus && port, "no port");
    sim_port_attach(port, kp);
    refhost_init(&h, bus, PORT_BASE, SIM_US(1));
    sim_clock_advance(clk, SIM_MS(100));
    FUZZ_CHECK(refhost_open(&h, 0x4D) == RH_OK, "no session with a loaded key");
    rc = refhost_transact(&h, 1, CMD_GET_INFO, NULL, 0, &r);
    FUZZ_CHECK(rc == RH_OK && r.crc_ok && (r.status & 0x7F) == 0 && r.len == 18,
               "GET_INFO failed (rc %d status 0x%02x len %u)", rc, r.status, r.len);
    FUZZ_CHECK(memcmp(r.payload, img + OFF_SERIAL, SIM_KEY_SERIAL_LEN) == 0, "GET_INFO serial");
    FUZZ_CHECK((r.payload[13] & 1u) == (get32(img + OFF_FLAGS) & 1u), "GET_INFO lock flag");

    /* A txid unlike the journal's, so the WRITE executes rather than replays. */
    put32(payload, get32(img + OFF_JTXID) ^ 1u);
    payload[4] = WRITE_ADDR & 0xFF;
    payload[5] = WRITE_ADDR >> 8;
    memset(payload + 6, fill, SIM_KEY_PAGE_SIZE);
    rc = refhost_transact(&h, 2, CMD_WRITE, payload, sizeof payload, &r);
    FUZZ_CHECK(rc == RH_OK && r.crc_ok && (r.status & 0x7F) == 0,
               "WRITE failed (rc %d status 0x%02x)", rc, r.status);
    FUZZ_CHECK(refhost_close(&h) == RH_OK, "close failed");
    FUZZ_CHECK(sim_key_image_error(k)[0] == '\0', "image save failed: %s", sim_key_image_error(k));
    sim_port_destroy(port);   /* destroys the key too */
    sim_bus_destroy(bus);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512] = "";
    sim_key_config cfg;
    sim_clock *clk;
    sim_peripheral *kp;
    size_t len;
    uint8_t *img = shape(data, size, &len);
    char *path;

    fuzz_scrub_except(NULL);
    path = fuzz_write_file("k.img", img, len);
    memset(&cfg, 0, sizeof cfg);
    cfg.image_path = path;
    clk = sim_clock_create();
    kp = sim_key_create(clk, &cfg, NULL, err, sizeof err);
    if (!kp) {
        size_t plen = strlen(path);
        FUZZ_CHECK(strncmp(err, path, plen) == 0 && err[plen] == ':' && err[plen + 1],
                   "error message '%s' does not name the file", err);
        FUZZ_CHECK(same_file(path, img, len), "a refused image was modified");
    } else {
        uint8_t fill = len > OFF_EEPROM ? (uint8_t)~img[OFF_EEPROM] : 0x5A;
        uint8_t page[SIM_KEY_PAGE_SIZE];

        FUZZ_CHECK(len == IMG_SIZE, "accepted an image of %zu bytes", len);
        check_loaded(sim_key_from_peripheral(kp), img);
        exercise(clk, kp, img, fill);

        kp = sim_key_create(clk, &cfg, NULL, err, sizeof err);
        FUZZ_CHECK(kp != NULL, "rewritten image does not load: %s", err);
        sim_key_read_eeprom(sim_key_from_peripheral(kp), WRITE_ADDR, page, sizeof page);
        for (size_t i = 0; i < sizeof page; i++)
            FUZZ_CHECK(page[i] == fill, "WRITE missing from the rewritten image");
        sim_key_serial(sim_key_from_peripheral(kp), page);
        FUZZ_CHECK(memcmp(page, img + OFF_SERIAL, SIM_KEY_SERIAL_LEN) == 0, "serial lost");
        kp->ops->destroy(kp);
    }
    sim_clock_destroy(clk);
    free(path);
    free(img);
    return 0;
}
