/* crypto.c — SHA-256 for API-token hashes, from OpenSSL's libcrypto loaded on first use (as
 * libpq is): the CLI, run once per hook call, must not pay for loading it on every start. */
#include <dlfcn.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "internal.h"

static struct {
    int (*digest)(const void *, size_t, unsigned char *, unsigned int *, const EVP_MD *, ENGINE *);
    const EVP_MD *sha256; /* fetched once: EVP_sha256()'s is fetched again on every digest */
} crypto;
static pthread_once_t crypto_once = PTHREAD_ONCE_INIT;
static char crypto_error[256];

static void crypto_load(void)
{
    void *h = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(crypto_error, sizeof crypto_error, "%s", dlerror());
        return;
    }
    EVP_MD *(*fetch)(OSSL_LIB_CTX *, const char *, const char *);
    *(void **)&crypto.digest = dlsym(h, "EVP_Digest");
    *(void **)&fetch = dlsym(h, "EVP_MD_fetch");
    /* kept until the process ends, as the library stays loaded */
    crypto.sha256 = fetch ? fetch(NULL, "SHA256", NULL) : NULL;
    if (!crypto.digest || !crypto.sha256) {
        snprintf(crypto_error, sizeof crypto_error,
                 "libcrypto.so.3 lacks EVP_Digest, EVP_MD_fetch or SHA256");
        crypto.digest = NULL;
    }
}

/* bytes as 2 lowercase hex digits each, then a NUL */
static void hex_encode(const unsigned char *bytes, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[bytes[i] >> 4];
        out[2 * i + 1] = hex[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

int ab__sha256_hex(ab_store *st, const char *data, size_t len, char out[65])
{
    pthread_once(&crypto_once, crypto_load);
    if (!crypto.digest)
        return ab__fail(st, AB_ESTORE, "cannot load libcrypto (install libssl3): %s", crypto_error);
    unsigned char md[32];
    unsigned int n = 0;
    if (!crypto.digest(data, len, md, &n, crypto.sha256, NULL) || n != 32)
        return ab__fail(st, AB_ESTORE, "SHA-256 failed");
    hex_encode(md, 32, out);
    return AB_OK;
}

int ab__ct_equal(const char *a, const char *b, size_t n)
{
    volatile unsigned char diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

int ab__random_hex(ab_store *st, size_t bytes, char *out)
{
    unsigned char buf[64];
    if (bytes > sizeof buf)
        return ab__fail(st, AB_EINVAL, "random: at most %zu bytes", sizeof buf);
    size_t got = 0;
    while (got < bytes) {
        ssize_t r = getrandom(buf + got, bytes - got, 0);
        if (r <= 0)
            return ab__fail(st, AB_ESTORE, "getrandom failed");
        got += (size_t)r;
    }
    hex_encode(buf, bytes, out);
    return AB_OK;
}
