/* json.c — the JSON shapes the CLI and the daemon share (status, decision, event), written by
 * hand so that money prints as exact decimals (a JSON library would go through a double). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static void sb_grow(ab__sb *sb, size_t need)
{
    if (sb->oom || sb->len + need + 1 <= sb->cap)
        return;
    size_t cap = sb->cap ? sb->cap : 256;
    while (cap < sb->len + need + 1)
        cap *= 2;
    char *p = realloc(sb->buf, cap);
    if (!p) {
        sb->oom = 1;
        return;
    }
    sb->buf = p;
    sb->cap = cap;
}

void ab__sb_add(ab__sb *sb, const char *s)
{
    size_t n = strlen(s);
    sb_grow(sb, n);
    if (sb->oom)
        return;
    memcpy(sb->buf + sb->len, s, n + 1);
    sb->len += n;
}

void ab__sb_addf(ab__sb *sb, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        ab__sb_add(sb, small);
        return;
    }
    sb_grow(sb, (size_t)n);
    if (sb->oom)
        return;
    va_start(ap, fmt);
    vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
}

/* A JSON string: what is not valid UTF-8 (a reason cut in the middle of a character, bytes a
 * caller sent) becomes U+FFFD, so that the text is always JSON (RFC 8259: UTF-8). */
void ab__sb_json_str(ab__sb *sb, const char *s)
{
    ab__sb_add(sb, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = *p < 0x80 ? 1 : ab__utf8_seq(p);
        if (*p == '"' || *p == '\\')
            ab__sb_addf(sb, "\\%c", *p);
        else if (*p < 0x20)
            ab__sb_addf(sb, "\\u%04x", *p);
        else if (!n)
            ab__sb_add(sb, "\\ufffd");
        else {
            char c[5] = {0};
            memcpy(c, p, n);
            ab__sb_add(sb, c);
        }
        p += n ? n : 1;
    }
    ab__sb_add(sb, "\"");
}

void ab__sb_usd(ab__sb *sb, int64_t nusd)
{
    char buf[32];
    ab__sb_add(sb, ab_usd_format(nusd, buf, sizeof buf));
}

/* "name":USD,"name_nusd":N — or nulls when v < 0 and nullable. */
static void usd_pair(ab__sb *sb, const char *name, int64_t v, int nullable)
{
    if (nullable && v < 0) {
        ab__sb_addf(sb, "\"%s\":null,\"%s_nusd\":null", name, name);
        return;
    }
    ab__sb_addf(sb, "\"%s\":", name);
    ab__sb_usd(sb, v);
    ab__sb_addf(sb, ",\"%s_nusd\":%" PRId64, name, v);
}

static void int_or_null(ab__sb *sb, const char *name, int64_t v)
{
    if (v < 0)
        ab__sb_addf(sb, "\"%s\":null", name);
    else
        ab__sb_addf(sb, "\"%s\":%" PRId64, name, v);
}

static int64_t remaining(const ab_budget_status *b, int w, int m)
{
    int64_t limit = b->limit[w][m];
    if (limit < 0)
        return -1;
    int64_t used = ab__add_sat(b->used[w][m], b->held[m]);
    return used < limit ? limit - used : 0;
}

static char *sb_finish(ab__sb *sb)
{
    if (sb->oom) {
        free(sb->buf);
        return NULL;
    }
    return sb->buf;
}

static void status_limits(ab__sb *sb, const ab_budget_status *b)
{
    ab__sb_add(sb, ",\"limits\":[");
    int first = 1;
    for (int w = 0; w < AB_WINDOW_COUNT; w++)
        for (int m = 0; m < AB_METRIC_COUNT; m++) {
            if (b->limit[w][m] < 0)
                continue;
            ab_limit l = {(ab_metric)m, (ab_window)w, b->limit[w][m]};
            char spec[64];
            ab__sb_addf(sb, "%s{\"metric\":\"%s\",\"window\":\"%s\",\"spec\":\"%s\",",
                        first ? "" : ",", ab_metric_name(l.metric), ab_window_name(l.window),
                        ab_limit_format(&l, spec, sizeof spec));
            first = 0;
            if (m == AB_METRIC_USD) {
                usd_pair(sb, "limit", b->limit[w][m], 0);
                ab__sb_add(sb, ",");
                usd_pair(sb, "used", b->used[w][m], 0);
                ab__sb_add(sb, ",");
                usd_pair(sb, "held", b->held[m], 0);
                ab__sb_add(sb, ",");
                usd_pair(sb, "remaining", remaining(b, w, m), 0);
            } else {
                ab__sb_addf(sb,
                            "\"limit\":%" PRId64 ",\"used\":%" PRId64 ",\"held\":%" PRId64
                            ",\"remaining\":%" PRId64,
                            b->limit[w][m], b->used[w][m], b->held[m], remaining(b, w, m));
            }
            ab__sb_add(sb, "}");
        }
    ab__sb_add(sb, "],\"usage\":{");
    for (int w = 0; w < AB_WINDOW_COUNT; w++) {
        ab__sb_addf(sb, "%s\"%s\":{\"tokens\":%" PRId64 ",", w ? "," : "",
                    ab_window_name((ab_window)w), b->used[w][AB_METRIC_TOKENS]);
        usd_pair(sb, "cost", b->used[w][AB_METRIC_USD], 0);
        ab__sb_addf(sb, ",\"requests\":%" PRId64 "}", b->used[w][AB_METRIC_REQUESTS]);
    }
    ab__sb_add(sb, "}");
}

char *ab_status_json(const ab_budget_status *b)
{
    ab__sb sb = {0};
    const int S = AB_WINDOW_SESSION, D = AB_WINDOW_DAY, T = AB_METRIC_TOKENS, U = AB_METRIC_USD;
    ab__sb_add(&sb, "{\"agent_id\":");
    ab__sb_json_str(&sb, b->path);
    ab__sb_add(&sb, ",\"role\":");
    ab__sb_json_str(&sb, b->role);
    ab__sb_add(&sb, ",\"model\":");
    if (b->model[0])
        ab__sb_json_str(&sb, b->model);
    else
        ab__sb_add(&sb, "null");
    ab__sb_addf(&sb, ",\"session_tokens_used\":%" PRId64 ",", b->used[S][T]);
    int_or_null(&sb, "session_token_limit", b->limit[S][T]);
    ab__sb_add(&sb, ",");
    usd_pair(&sb, "daily_cost_used", b->used[D][U], 0);
    ab__sb_add(&sb, ",");
    usd_pair(&sb, "daily_cost_limit", b->limit[D][U], 1);
    ab__sb_addf(&sb,
                ",\"last_reset\":%" PRId64 ",\"operations_blocked\":%" PRId64
                ",\"created_at\":%" PRId64 ",\"session\":{\"tokens_used\":%" PRId64 ",",
                b->last_reset_ms, b->operations_blocked, b->created_at_ms, b->used[S][T]);
    int_or_null(&sb, "tokens_limit", b->limit[S][T]);
    ab__sb_add(&sb, ",");
    int_or_null(&sb, "tokens_remaining", remaining(b, S, T));
    ab__sb_addf(&sb, ",\"started_at\":%" PRId64 "},\"daily\":{", b->session_reset_ms);
    usd_pair(&sb, "cost_used", b->used[D][U], 0);
    ab__sb_add(&sb, ",");
    usd_pair(&sb, "cost_limit", b->limit[D][U], 1);
    ab__sb_add(&sb, ",");
    usd_pair(&sb, "cost_remaining", remaining(b, D, U), 1);
    ab__sb_addf(
        &sb, ",\"day_start\":%" PRId64 "},\"holds\":{\"open\":%" PRId64 ",\"tokens\":%" PRId64 ",",
        b->day_start_ms, b->holds_open, b->held[T]);
    usd_pair(&sb, "cost", b->held[U], 0);
    ab__sb_addf(&sb, ",\"requests\":%" PRId64 "}", b->held[AB_METRIC_REQUESTS]);
    status_limits(&sb, b);
    ab__sb_addf(&sb, ",\"month_start\":%" PRId64 ",\"updated_at\":%" PRId64 "}", b->month_start_ms,
                b->updated_at_ms);
    return sb_finish(&sb);
}

/* An amount in the unit of its metric: USD pairs for money, plain integers otherwise. */
static void metric_amount(ab__sb *sb, const char *name, ab_metric m, int64_t v)
{
    if (m == AB_METRIC_USD)
        usd_pair(sb, name, v, 1);
    else
        int_or_null(sb, name, v);
}

char *ab_decision_json(const ab_decision *d)
{
    ab__sb sb = {0};
    ab__sb_addf(&sb, "{\"allowed\":%s,\"reason\":", d->allowed ? "true" : "false");
    if (d->reason[0])
        ab__sb_json_str(&sb, d->reason);
    else
        ab__sb_add(&sb, "null");
    ab__sb_addf(&sb, ",\"over\":%s,", d->over ? "true" : "false");
    usd_pair(&sb, "cost", d->cost_nusd, 0);
    ab__sb_addf(&sb, ",\"tokens\":%" PRId64 ",\"hold_id\":", d->tokens);
    if (d->hold_id[0])
        ab__sb_json_str(&sb, d->hold_id);
    else
        ab__sb_add(&sb, "null");
    ab__sb_add(&sb, ",\"limit\":");
    if (d->budget[0]) {
        ab__sb_add(&sb, "{\"budget\":");
        ab__sb_json_str(&sb, d->budget);
        ab__sb_addf(&sb, ",\"metric\":\"%s\",\"window\":\"%s\",", ab_metric_name(d->metric),
                    ab_window_name(d->window));
        metric_amount(&sb, "amount", d->metric, d->limit);
        ab__sb_add(&sb, ",");
        metric_amount(&sb, "used", d->metric, d->used);
        ab__sb_add(&sb, ",");
        metric_amount(&sb, "requested", d->metric, d->requested);
        ab__sb_add(&sb, ",");
        metric_amount(&sb, "remaining", d->metric, d->remaining);
        ab__sb_add(&sb, "}");
    } else {
        ab__sb_add(&sb, "null");
    }
    ab__sb_addf(&sb, ",\"replayed\":%s}", d->replayed ? "true" : "false");
    return sb_finish(&sb);
}

static void str_or_null(ab__sb *sb, const char *name, const char *s)
{
    ab__sb_addf(sb, ",\"%s\":", name);
    if (s[0])
        ab__sb_json_str(sb, s);
    else
        ab__sb_add(sb, "null");
}

char *ab_event_json(const ab_event *e)
{
    ab__sb sb = {0};
    ab__sb_addf(&sb, "{\"id\":%" PRId64 ",\"time\":%" PRId64 ",\"budget\":", e->id, e->time_ms);
    ab__sb_json_str(&sb, e->budget);
    ab__sb_add(&sb, ",\"op\":");
    ab__sb_json_str(&sb, e->op);
    str_or_null(&sb, "model", e->model);
    ab__sb_addf(&sb,
                ",\"input\":%" PRId64 ",\"output\":%" PRId64 ",\"cache_write_5m\":%" PRId64
                ",\"cache_write_1h\":%" PRId64 ",\"cache_read\":%" PRId64 ",\"tokens\":%" PRId64
                ",",
                e->usage.input, e->usage.output, e->usage.cache_write_5m, e->usage.cache_write_1h,
                e->usage.cache_read, e->tokens);
    usd_pair(&sb, "cost", e->cost_nusd, 0);
    ab__sb_addf(&sb, ",\"allowed\":%s", e->allowed ? "true" : "false");
    str_or_null(&sb, "reason", e->reason);
    str_or_null(&sb, "hold_id", e->hold_id);
    str_or_null(&sb, "key", e->key);
    str_or_null(&sb, "actor", e->actor);
    ab__sb_add(&sb, "}");
    return sb_finish(&sb);
}

/* A price in USD per million tokens as a JSON number (exact decimal text), and its exact integer
 * sibling in micro-USD per million tokens ("input_uusd"), as money has its _nusd siblings. */
static void price_field(ab__sb *sb, const char *name, int64_t uusd, int comma)
{
    char buf[32];
    ab__sb_addf(sb, "%s\"%s\":%s,\"%s_uusd\":%" PRId64, comma ? "," : "", name,
                ab_price_format(uusd, buf, sizeof buf), name, uusd);
}

char *ab_price_json(const ab_price *p)
{
    ab__sb sb = {0};
    ab__sb_add(&sb, "{\"model\":");
    ab__sb_json_str(&sb, p->model);
    ab__sb_addf(&sb, ",\"source\":\"%s\"", p->builtin ? "builtin" : "store");
    price_field(&sb, "input", p->input, 1);
    price_field(&sb, "output", p->output, 1);
    price_field(&sb, "cache_write_5m", p->cache_write_5m, 1);
    price_field(&sb, "cache_write_1h", p->cache_write_1h, 1);
    price_field(&sb, "cache_read", p->cache_read, 1);
    if (p->tier_threshold_tokens) {
        ab__sb_addf(&sb, ",\"tier\":{\"above_tokens\":%" PRId64, p->tier_threshold_tokens);
        price_field(&sb, "input", p->tier_input, 1);
        price_field(&sb, "output", p->tier_output, 1);
        price_field(&sb, "cache_write_5m", p->tier_cache_write_5m, 1);
        price_field(&sb, "cache_write_1h", p->tier_cache_write_1h, 1);
        price_field(&sb, "cache_read", p->tier_cache_read, 1);
        ab__sb_add(&sb, "}");
    }
    ab__sb_add(&sb, "}");
    return sb_finish(&sb);
}

static void str_list(ab__sb *sb, const char *name, char *const *items, size_t n)
{
    ab__sb_addf(sb, ",\"%s\":[", name);
    for (size_t i = 0; i < n; i++) {
        if (i)
            ab__sb_add(sb, ",");
        ab__sb_json_str(sb, items[i]);
    }
    ab__sb_add(sb, "]");
}

char *ab_role_json(const ab_role *r)
{
    ab__sb sb = {0};
    ab__sb_add(&sb, "{\"name\":");
    ab__sb_json_str(&sb, r->name);
    ab__sb_addf(&sb, ",\"admin\":%s,\"limits\":[", r->admin ? "true" : "false");
    for (size_t i = 0; i < r->limits_count; i++) {
        char spec[64];
        ab__sb_addf(&sb, "%s\"%s\"", i ? "," : "",
                    ab_limit_format(&r->limits[i], spec, sizeof spec));
    }
    ab__sb_add(&sb, "]");
    str_list(&sb, "allow_tools", r->allow_tools, r->allow_tools_count);
    str_list(&sb, "deny_tools", r->deny_tools, r->deny_tools_count);
    str_list(&sb, "allow_models", r->allow_models, r->allow_models_count);
    str_list(&sb, "deny_models", r->deny_models, r->deny_models_count);
    ab__sb_add(&sb, "}");
    return sb_finish(&sb);
}

char *ab_hold_json(const ab_hold *h)
{
    static const char *const states[] = {"open", "committed", "released", "expired"};
    ab__sb sb = {0};
    ab__sb_add(&sb, "{\"hold_id\":");
    ab__sb_json_str(&sb, h->id);
    ab__sb_add(&sb, ",\"budget\":");
    ab__sb_json_str(&sb, h->budget);
    ab__sb_add(&sb, ",\"model\":");
    ab__sb_json_str(&sb, h->model);
    ab__sb_addf(&sb, ",\"tokens\":%" PRId64 ",", h->tokens);
    usd_pair(&sb, "cost", h->cost_nusd, 0);
    ab__sb_addf(&sb, ",\"created_at\":%" PRId64 ",\"expires_at\":%" PRId64 ",\"state\":\"%s\"}",
                h->created_at_ms, h->expires_at_ms, states[h->state & 3]);
    return sb_finish(&sb);
}

char *ab_token_json(const ab_token *t)
{
    ab__sb sb = {0};
    ab__sb_add(&sb, "{\"id\":");
    ab__sb_json_str(&sb, t->id);
    ab__sb_add(&sb, ",\"scope\":");
    ab__sb_json_str(&sb, t->scope);
    ab__sb_addf(&sb, ",\"role\":\"%s\",\"label\":", t->role == AB_TOKEN_ADMIN ? "admin" : "agent");
    ab__sb_json_str(&sb, t->label);
    ab__sb_addf(&sb, ",\"created_at\":%" PRId64 ",\"expires_at\":", t->created_at_ms);
    ab__sb_addf(&sb, t->expires_at_ms ? "%" PRId64 : "null", t->expires_at_ms);
    ab__sb_add(&sb, ",\"revoked_at\":");
    ab__sb_addf(&sb, t->revoked_at_ms ? "%" PRId64 : "null", t->revoked_at_ms);
    ab__sb_add(&sb, "}");
    return sb_finish(&sb);
}
