/*
 * tools/crypto_cng.c — tools/crypto.h on Windows: the CNG API (bcrypt.dll) for both
 * the HMAC and the random source, so dongctl.exe needs no third-party library.
 */
#include <windows.h>
#include <bcrypt.h>

#include "crypto.h"

/*
 * dong_random — the system-preferred RNG needs no algorithm handle.
 */
int dong_random(void *buf, size_t len)
{
    if (len > 0xFFFFFFFFu)
        return -1;
    return BCRYPT_SUCCESS(BCryptGenRandom(NULL, buf, (ULONG)len,
                                          BCRYPT_USE_SYSTEM_PREFERRED_RNG)) ? 0 : -1;
}

/*
 * dong_hmac_sha256 — open the SHA-256 provider in HMAC mode, hash msg under key, and
 * release every CNG object on every path.
 */
int dong_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
                     uint8_t out[DONG_SHA256_LEN])
{
    BCRYPT_ALG_HANDLE alg = NULL;
    BCRYPT_HASH_HANDLE hash = NULL;
    int rc = -1;

    if (keylen > 0xFFFFFFFFu || msglen > 0xFFFFFFFFu)
        return -1;
    if (!BCRYPT_SUCCESS(BCryptOpenAlgorithmProvider(&alg, BCRYPT_SHA256_ALGORITHM, NULL,
                                                    BCRYPT_ALG_HANDLE_HMAC_FLAG)))
        return -1;
    if (BCRYPT_SUCCESS(BCryptCreateHash(alg, &hash, NULL, 0, (PUCHAR)key, (ULONG)keylen, 0)) &&
        BCRYPT_SUCCESS(BCryptHashData(hash, (PUCHAR)msg, (ULONG)msglen, 0)) &&
        BCRYPT_SUCCESS(BCryptFinishHash(hash, out, DONG_SHA256_LEN, 0)))
        rc = 0;
    if (hash)
        BCryptDestroyHash(hash);
    BCryptCloseAlgorithmProvider(alg, 0);
    return rc;
}
