/* money.c — exact decimal money: parsing and printing nano-USD and micro-USD prices.
 * No floating point anywhere: a decimal string is read digit by digit into an integer. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* Parses "D+[.D{1,scale}]" into an integer scaled by 10^scale. Rejects signs, spaces,
 * exponents, empty parts and values over INT64_MAX. */
static int decimal_parse(const char *s, int scale, int64_t *out)
{
    if (!s || !*s)
        return AB_EINVAL;
    int64_t v = 0;
    const char *p = s;
    int int_digits = 0, frac_digits = 0;
    for (; *p >= '0' && *p <= '9'; p++, int_digits++)
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, *p - '0', &v))
            return AB_EOVERFLOW;
    if (int_digits == 0)
        return AB_EINVAL;
    if (*p == '.') {
        p++;
        for (; *p >= '0' && *p <= '9'; p++, frac_digits++) {
            if (frac_digits >= scale)
                return AB_EINVAL;
            if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, *p - '0', &v))
                return AB_EOVERFLOW;
        }
        if (frac_digits == 0)
            return AB_EINVAL;
    }
    if (*p)
        return AB_EINVAL;
    for (; frac_digits < scale; frac_digits++)
        if (__builtin_mul_overflow(v, 10, &v))
            return AB_EOVERFLOW;
    *out = v;
    return AB_OK;
}

/* Prints v / 10^scale with at least min_frac decimals, trailing zeros beyond them trimmed. */
static char *decimal_format(int64_t v, int scale, int min_frac, char *buf, size_t size)
{
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    uint64_t div = 1;
    for (int i = 0; i < scale; i++)
        div *= 10;
    char frac[24];
    snprintf(frac, sizeof frac, "%0*llu", scale, (unsigned long long)(u % div));
    int n = scale;
    while (n > min_frac && frac[n - 1] == '0')
        n--;
    frac[n] = '\0';
    snprintf(buf, size, "%s%llu%s%s", v < 0 ? "-" : "", (unsigned long long)(u / div), n ? "." : "",
             frac);
    return buf;
}

int ab_usd_parse(const char *s, int64_t *out_nusd)
{
    return decimal_parse(s, 9, out_nusd);
}

char *ab_usd_format(int64_t nusd, char *buf, size_t size)
{
    return decimal_format(nusd, 9, 2, buf, size);
}

int ab_tokens_parse(const char *s, int64_t *out)
{
    return decimal_parse(s, 0, out);
}

int ab_price_parse(const char *s, int64_t *out_uusd_per_mtok)
{
    int64_t v;
    int rc = decimal_parse(s, 6, &v);
    if (rc)
        return rc;
    if (v > AB_PRICE_UUSD_MAX)
        return AB_EOVERFLOW;
    *out_uusd_per_mtok = v;
    return AB_OK;
}

char *ab_price_format(int64_t uusd_per_mtok, char *buf, size_t size)
{
    return decimal_format(uusd_per_mtok, 6, 0, buf, size);
}
