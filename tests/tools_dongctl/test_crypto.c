/*
 * tests/tools_dongctl/test_crypto.c — tools/crypto.h (Linux home) against RFC 4231's
 * HMAC-SHA256 vectors and a DL-1 MAC computed independently (Python's hmac module)
 * for the demo key, serial 444C310000000001, nonce 00 01 .. 0f.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "crypto.h"

static void unhex(uint8_t *out, const char *hex)
{
    for (size_t i = 0; hex[2 * i]; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

static void test_rfc4231(void **state)
{
    uint8_t key[20], mac[DONG_SHA256_LEN], want[DONG_SHA256_LEN];
    (void)state;

    memset(key, 0x0b, sizeof key);
    assert_int_equal(dong_hmac_sha256(key, sizeof key, "Hi There", 8, mac), 0);
    unhex(want, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    assert_memory_equal(mac, want, sizeof want);

    assert_int_equal(dong_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac), 0);
    unhex(want, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    assert_memory_equal(mac, want, sizeof want);
}

/* test_dl1_mac — DL1.md section 7: HMAC-SHA256(secret, "DL1" + serial + nonce)[0..15]. */
static void test_dl1_mac(void **state)
{
    static const char secret[] = "DL1-demo-key-secret-DongLpt-0001";
    uint8_t msg[3 + 8 + 16], mac[DONG_SHA256_LEN], want[16];
    (void)state;

    memcpy(msg, "DL1", 3);
    unhex(msg + 3, "444C310000000001");
    for (int i = 0; i < 16; i++)
        msg[11 + i] = (uint8_t)i;
    assert_int_equal(dong_hmac_sha256(secret, 32, msg, sizeof msg, mac), 0);
    unhex(want, "6bbe6223367ea5f1a37a8205662b6600");
    assert_memory_equal(mac, want, sizeof want);
}

/* test_random — two nonces differ (2^-128 chance of a false failure). */
static void test_random(void **state)
{
    uint8_t a[16], b[16];
    (void)state;

    assert_int_equal(dong_random(a, sizeof a), 0);
    assert_int_equal(dong_random(b, sizeof b), 0);
    assert_memory_not_equal(a, b, sizeof a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4231),
        cmocka_unit_test(test_dl1_mac),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
