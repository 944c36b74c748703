/*
 * tools/crypto.h — the two cryptographic primitives dongctl needs, one interface for
 * both homes: crypto_openssl.c (Linux, libcrypto + getrandom) and crypto_cng.c
 * (Windows, the CNG API). Plain C types only, so it mixes with <windows.h> or not.
 */
#ifndef DONG_TOOLS_CRYPTO_H
#define DONG_TOOLS_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define DONG_SHA256_LEN 32

/*
 * Fill buf with len bytes from the operating system's cryptographic random source.
 * Returns 0, or -1 when the source failed (buf contents are then unspecified).
 */
int dong_random(void *buf, size_t len);

/*
 * out = HMAC-SHA256(key, msg). Returns 0, or -1 when the provider failed.
 */
int dong_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
                     uint8_t out[DONG_SHA256_LEN]);

#endif
