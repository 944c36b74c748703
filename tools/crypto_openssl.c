/*
 * tools/crypto_openssl.c — tools/crypto.h on Linux: HMAC from OpenSSL's libcrypto,
 * randomness from the kernel's getrandom().
 */
#include "crypto.h"

#include <errno.h>
#include <sys/random.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

/*
 * dong_random — read len bytes from getrandom(), retrying the partial reads and
 * signal interruptions the call is allowed to return.
 */
int dong_random(void *buf, size_t len)
{
    uint8_t *p = buf;

    while (len > 0) {
        ssize_t got = getrandom(p, len, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += got;
        len -= (size_t)got;
    }
    return 0;
}

/*
 * dong_hmac_sha256 — one-shot HMAC through libcrypto; the key length is an int there,
 * so absurdly long keys are refused rather than truncated.
 */
int dong_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
                     uint8_t out[DONG_SHA256_LEN])
{
    unsigned int outlen = 0;

    if (keylen > 0x7FFFFFFF)
        return -1;
    if (!HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, out, &outlen))
        return -1;
    return outlen == DONG_SHA256_LEN ? 0 : -1;
}
