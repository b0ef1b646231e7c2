/* test_money.c — exact decimal money, limit specs, budget paths and window boundaries. */
#include <stdlib.h>

#include "../src/lib/internal.h"
#include "test.h"

static void test_usd(void)
{
    static const struct {
        const char *in;
        int rc;
        int64_t nusd;
    } cases[] = {
        {"0.48", AB_OK, 480000000},
        {"10", AB_OK, 10000000000},
        {"9.52", AB_OK, 9520000000},
        {"0.000000001", AB_OK, 1},
        {"0", AB_OK, 0},
        {"9223372036.854775807", AB_OK, INT64_MAX},
        {"9223372036.854775808", AB_EOVERFLOW, 0},
        {"0.0000000001", AB_EINVAL, 0},
        {"1e3", AB_EINVAL, 0},
        {"-0.5", AB_EINVAL, 0},
        {"+1", AB_EINVAL, 0},
        {"NaN", AB_EINVAL, 0},
        {"", AB_EINVAL, 0},
        {".5", AB_EINVAL, 0},
        {"5.", AB_EINVAL, 0},
        {" 5", AB_EINVAL, 0},
        {"1,000", AB_EINVAL, 0},
        {"123456789012345678901234567890", AB_EOVERFLOW, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t v = -1;
        int rc = ab_usd_parse(cases[i].in, &v);
        if (rc != cases[i].rc)
            fprintf(stderr, "usd '%s'\n", cases[i].in);
        CHECK_I64(rc, cases[i].rc);
        if (cases[i].rc == AB_OK)
            CHECK_I64(v, cases[i].nusd);
    }
    char buf[32];
    CHECK_STR(ab_usd_format(480000000, buf, sizeof buf), "0.48");
    CHECK_STR(ab_usd_format(9520000000, buf, sizeof buf), "9.52");
    CHECK_STR(ab_usd_format(10000000000, buf, sizeof buf), "10.00");
    CHECK_STR(ab_usd_format(1, buf, sizeof buf), "0.000000001");
    CHECK_STR(ab_usd_format(0, buf, sizeof buf), "0.00");
    CHECK_STR(ab_usd_format(-1500000000, buf, sizeof buf), "-1.50");
    CHECK_STR(ab_usd_format(INT64_MAX, buf, sizeof buf), "9223372036.854775807");
    CHECK_STR(ab_usd_format(INT64_MIN, buf, sizeof buf), "-9223372036.854775808");
    /* the seed's float bug: 0.48 must survive a round trip exactly */
    int64_t v;
    CHECK_OK(NULL, ab_usd_parse(ab_usd_format(480000000, buf, sizeof buf), &v));
    CHECK_I64(v, 480000000);
}

static void test_tokens_and_prices(void)
{
    int64_t v;
    CHECK_OK(NULL, ab_tokens_parse("100000", &v));
    CHECK_I64(v, 100000);
    CHECK_RC(NULL, ab_tokens_parse("-1", &v), AB_EINVAL);
    CHECK_RC(NULL, ab_tokens_parse("1.5", &v), AB_EINVAL);
    CHECK_RC(NULL, ab_tokens_parse("1e3", &v), AB_EINVAL);
    CHECK_RC(NULL, ab_tokens_parse("123456789012345678901234567890", &v), AB_EOVERFLOW);
    CHECK_OK(NULL, ab_price_parse("3.75", &v));
    CHECK_I64(v, 3750000);
    CHECK_OK(NULL, ab_price_parse("0.000001", &v));
    CHECK_I64(v, 1);
    CHECK_RC(NULL, ab_price_parse("0.0000001", &v), AB_EINVAL);
    char buf[32];
    CHECK_STR(ab_price_format(3750000, buf, sizeof buf), "3.75");
    CHECK_STR(ab_price_format(15000000, buf, sizeof buf), "15");
    CHECK_STR(ab_price_format(30000, buf, sizeof buf), "0.03");
}

static void test_limits(void)
{
    ab_limit l;
    CHECK_OK(NULL, ab_limit_parse("usd/day=10", &l));
    CHECK_I64(l.metric, AB_METRIC_USD);
    CHECK_I64(l.window, AB_WINDOW_DAY);
    CHECK_I64(l.amount, 10000000000);
    CHECK_OK(NULL, ab_limit_parse("tokens/session=100000", &l));
    CHECK_I64(l.metric, AB_METRIC_TOKENS);
    CHECK_I64(l.window, AB_WINDOW_SESSION);
    CHECK_I64(l.amount, 100000);
    CHECK_OK(NULL, ab_limit_parse("requests/month=500", &l));
    CHECK_OK(NULL, ab_limit_parse("usd/total=0.5", &l));
    CHECK_I64(l.amount, 500000000);
    const char *bad[] = {"usd/week=1",  "usd/day",  "usd=1",       "cash/day=1", "tokens/day=1.5",
                         "usd/day=-1",  "",         "usd/day=1e3", "/day=1",     "usd/=1",
                         "tokens/day=", "usdday=1", "usd/day/x=1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = ab_limit_parse(bad[i], &l);
        if (rc == AB_OK)
            fprintf(stderr, "limit '%s' accepted\n", bad[i]);
        CHECK(rc != AB_OK);
    }
    char buf[64];
    CHECK_OK(NULL, ab_limit_parse("usd/day=9.5", &l));
    CHECK_STR(ab_limit_format(&l, buf, sizeof buf), "usd/day=9.50");
}

static void test_paths(void)
{
    const char *good[] = {"a", "acme/research/agent-7", "A.b_c:d@e-f", "1/2/3/4/5/6/7/8"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        CHECK_OK(NULL, ab_path_validate(good[i]));
    char seg65[80], deep[40];
    memset(seg65, 'x', 65);
    seg65[65] = '\0';
    strcpy(deep, "1/2/3/4/5/6/7/8/9");
    const char *bad[] = {"",     "/a",        "a/",   "a//b", "../x", "a/./b",
                         "a/..", "bad char!", "a\\b", "é",    seg65,  deep};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = ab_path_validate(bad[i]);
        if (rc == AB_OK)
            fprintf(stderr, "path '%s' accepted\n", bad[i]);
        CHECK_I64(rc, AB_EINVAL);
    }
    seg65[64] = '\0';
    CHECK_OK(NULL, ab_path_validate(seg65));
}

static void test_windows(void)
{
    /* 2026-11-28 23:59:59.999 UTC and the next millisecond */
    int64_t before = INT64_C(1795910399999), midnight = INT64_C(1795910400000);
    CHECK_I64(ab__day_start(before), INT64_C(1795824000000));
    CHECK_I64(ab__day_start(midnight), midnight);
    /* month start: 2026-11-01 and, a month on, 2026-12-01 */
    CHECK_I64(ab__month_start(before), INT64_C(1793491200000));
    CHECK_I64(ab__month_start(INT64_C(1796083200000) - 1), INT64_C(1793491200000));
    CHECK_I64(ab__month_start(INT64_C(1796083200000)), INT64_C(1796083200000));
    /* 2028-02-29 12:00 UTC is in February; 2028-03-01 starts March */
    CHECK_I64(ab__month_start(INT64_C(1835438400000)), INT64_C(1832976000000));
    CHECK_I64(ab__day_start(INT64_C(1835438400000)), INT64_C(1835395200000));
    CHECK_I64(ab__month_start(INT64_C(1835481600000)), INT64_C(1835481600000));
}

int main(void)
{
    test_usd();
    test_tokens_and_prices();
    test_limits();
    test_paths();
    test_windows();
    return test_summary("money");
}
