/* limits.c — limit specs ("usd/day=10"), budget paths, and the UTC window boundaries. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"

static const char *const metric_names[AB_METRIC_COUNT] = {"tokens", "usd", "requests"};
static const char *const window_names[AB_WINDOW_COUNT] = {"session", "day", "month", "total"};

const char *ab_metric_name(ab_metric m)
{
    return (unsigned)m < AB_METRIC_COUNT ? metric_names[m] : "?";
}

const char *ab_window_name(ab_window w)
{
    return (unsigned)w < AB_WINDOW_COUNT ? window_names[w] : "?";
}

static int name_index(const char *const *names, int count, const char *s, size_t len)
{
    for (int i = 0; i < count; i++)
        if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
            return i;
    return -1;
}

int ab_limit_parse(const char *spec, ab_limit *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!spec)
        return AB_EINVAL;
    const char *slash = strchr(spec, '/');
    const char *eq = strchr(spec, '=');
    if (!slash || !eq || eq < slash)
        return AB_EINVAL;
    int m = name_index(metric_names, AB_METRIC_COUNT, spec, (size_t)(slash - spec));
    int w = name_index(window_names, AB_WINDOW_COUNT, slash + 1, (size_t)(eq - slash - 1));
    if (m < 0 || w < 0)
        return AB_EINVAL;
    int64_t amount;
    int rc = m == AB_METRIC_USD ? ab_usd_parse(eq + 1, &amount) : ab_tokens_parse(eq + 1, &amount);
    if (rc != AB_OK)
        return rc;
    out->metric = (ab_metric)m;
    out->window = (ab_window)w;
    out->amount = amount;
    return AB_OK;
}

/* At most EXPLAIN_QUOTE_BYTES of the spec are quoted, cut at a character's edge and marked "…":
 * a long one would otherwise fill the caller's buffer and cut off the rule, the part that
 * helps. */
#define EXPLAIN_QUOTE_BYTES 120

char *ab_limit_explain(const char *spec, char *buf, size_t size)
{
    ab_limit l;
    if (!spec || ab_limit_parse(spec, &l) == AB_OK)
        return NULL;
    char quoted[EXPLAIN_QUOTE_BYTES + sizeof "…"];
    snprintf(quoted, EXPLAIN_QUOTE_BYTES + 1, "%s", spec);
    if (strlen(spec) > EXPLAIN_QUOTE_BYTES) {
        ab__utf8_trim(quoted);
        strcat(quoted, "…");
    }
    const char *eq = strchr(spec, '=');
    char head[64];
    if (eq && (size_t)(eq - spec) < sizeof head - 2) {
        /* the metric and window are right: then the amount is what is wrong; say its rule */
        snprintf(head, sizeof head, "%.*s=0", (int)(eq - spec), spec);
        if (ab_limit_parse(head, &l) == AB_OK) {
            snprintf(buf, size, "'%s': the amount must be %s", quoted,
                     l.metric == AB_METRIC_USD
                         ? "USD as a decimal with at most 9 decimals, no sign, at most "
                           "9223372036.854775807 (e.g. 10 or 0.50)"
                         : "a whole number of 0 to 9223372036854775807, no sign");
            return buf;
        }
    }
    snprintf(buf, size,
             "'%s' is not a limit (METRIC/WINDOW=AMOUNT with METRIC tokens, usd or requests and "
             "WINDOW session, day, month or total; e.g. usd/day=10)",
             quoted);
    return buf;
}

char *ab_limit_format(const ab_limit *l, char *buf, size_t size)
{
    char amount[32];
    if (l->metric == AB_METRIC_USD)
        ab_usd_format(l->amount, amount, sizeof amount);
    else
        snprintf(amount, sizeof amount, "%lld", (long long)l->amount);
    snprintf(buf, size, "%s/%s=%s", ab_metric_name(l->metric), ab_window_name(l->window), amount);
    return buf;
}

static int segment_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '@' || c == '-';
}

long ab_limits_repeated(const ab_limit *limits, size_t n)
{
    for (size_t j = 1; j < n; j++)
        for (size_t i = 0; i < j; i++)
            if (limits[i].metric == limits[j].metric && limits[i].window == limits[j].window)
                return (long)j;
    return -1;
}

int ab__limits_valid(ab_store *st, const ab_limit *limits, size_t n, int repeats_ok)
{
    if (n > AB_LIMITS_MAX)
        return ab__fail(st, AB_EINVAL, "limits: at most %d", AB_LIMITS_MAX);
    for (size_t i = 0; i < n; i++)
        if ((unsigned)limits[i].metric >= AB_METRIC_COUNT ||
            (unsigned)limits[i].window >= AB_WINDOW_COUNT)
            return ab__fail(st, AB_EINVAL, "limits[%zu]: unknown metric or window", i);
    long j = repeats_ok ? -1 : ab_limits_repeated(limits, n);
    if (j >= 0)
        return ab__fail(st, AB_EINVAL,
                        "limits: %s/%s given twice (one limit per metric and window)",
                        ab_metric_name(limits[j].metric), ab_window_name(limits[j].window));
    return AB_OK;
}

int ab_path_validate(const char *path)
{
    if (!path || !*path)
        return AB_EINVAL;
    int segments = 0;
    const char *p = path;
    for (;;) {
        const char *start = p;
        while (*p && *p != '/') {
            if (!segment_char_ok(*p))
                return AB_EINVAL;
            p++;
        }
        size_t len = (size_t)(p - start);
        if (len == 0 || len > AB_PATH_SEGMENT_BYTES_MAX)
            return AB_EINVAL;
        if ((len == 1 && start[0] == '.') || (len == 2 && start[0] == '.' && start[1] == '.'))
            return AB_EINVAL;
        if (++segments > AB_PATH_SEGMENTS_MAX)
            return AB_EINVAL;
        if (!*p)
            return AB_OK;
        p++;
    }
}

int64_t ab__day_start(int64_t ms)
{
    int64_t day_ms = 86400000;
    int64_t d = ms / day_ms;
    if (ms % day_ms < 0)
        d--;
    return d * day_ms;
}

int64_t ab__month_start(int64_t ms)
{
    /* every operation rolls every budget it loads: remember the last day's answer, since
     * gmtime_r + timegm take the time-zone lock and cost more than the rest of the roll */
    static __thread int64_t cached_day = INT64_MIN, cached_month;
    int64_t day = ab__day_start(ms);
    if (day == cached_day)
        return cached_month;
    time_t t = (time_t)(day / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    tm.tm_mday = 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    cached_month = (int64_t)timegm(&tm) * 1000;
    cached_day = day;
    return cached_month;
}
