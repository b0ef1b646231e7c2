/* fuzz_money.c — ab_usd_parse, ab_price_parse and ab_tokens_parse on any string; whatever parses
 * must format and parse back to the same value. */
#include <inttypes.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_strndup(data, size);
    if (!s)
        return 0;
    char buf[64];
    int64_t v, w;

    if (ab_usd_parse(s, &v) == AB_OK) {
        FUZZ_CHECK(v >= 0);
        FUZZ_CHECK(ab_usd_format(v, buf, sizeof buf) != NULL);
        FUZZ_CHECK(ab_usd_parse(buf, &w) == AB_OK);
        FUZZ_CHECK(w == v);
    }
    if (ab_price_parse(s, &v) == AB_OK) {
        FUZZ_CHECK(v >= 0);
        FUZZ_CHECK(ab_price_format(v, buf, sizeof buf) != NULL);
        FUZZ_CHECK(ab_price_parse(buf, &w) == AB_OK);
        FUZZ_CHECK(w == v);
    }
    if (ab_tokens_parse(s, &v) == AB_OK) {
        FUZZ_CHECK(v >= 0);
        snprintf(buf, sizeof buf, "%" PRId64, v);
        FUZZ_CHECK(ab_tokens_parse(buf, &w) == AB_OK);
        FUZZ_CHECK(w == v);
    }
    /* formatting any value (negative too: refunds print "-1.50") must not fault */
    if (size >= sizeof v) {
        memcpy(&v, data, sizeof v);
        FUZZ_CHECK(ab_usd_format(v, buf, sizeof buf) != NULL);
        FUZZ_CHECK(ab_price_format(v, buf, sizeof buf) != NULL);
    }
    free(s);
    return 0;
}
