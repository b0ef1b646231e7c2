/* spend.c — the decisions: check, reserve/commit/release of holds, charge, and the permission
 * check that asks the role and then the budget. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct {
    const char *path;
    const char *model;
    const ab_usage *usage;
    const ab_usage *before; /* a growth: what the request was charged before (else NULL) */
    const char *hold_id;
    const char *key;
    int64_t ttl_s;
    ab_decision *out;
    ab_hold *hold_out;
} spend_args;

static int usage_valid(ab_store *st, const ab_usage *u)
{
    const int64_t v[] = {u->input, u->output, u->cache_write_5m, u->cache_write_1h, u->cache_read};
    static const char *const names[] = {"input", "output", "cache_write_5m", "cache_write_1h",
                                        "cache_read"};
    for (int i = 0; i < 5; i++)
        if (v[i] < 0)
            return ab__fail(st, AB_EINVAL, "%s: tokens must be >= 0", names[i]);
    return AB_OK;
}

/* The cost of before + u less the cost of before (0 if a tier's rates made it less). */
static int growth_cost(const ab_price *p, const ab_usage *before, const ab_usage *u, int64_t *out)
{
    ab_usage all;
    int64_t was, is;
    int rc;
    if ((rc = ab__add(before->input, u->input, &all.input)) ||
        (rc = ab__add(before->output, u->output, &all.output)) ||
        (rc = ab__add(before->cache_write_5m, u->cache_write_5m, &all.cache_write_5m)) ||
        (rc = ab__add(before->cache_write_1h, u->cache_write_1h, &all.cache_write_1h)) ||
        (rc = ab__add(before->cache_read, u->cache_read, &all.cache_read)) ||
        (rc = ab_cost_compute(p, before, &was)) || (rc = ab_cost_compute(p, &all, &is)))
        return rc;
    *out = is > was ? is - was : 0;
    return AB_OK;
}

/* Prices usage at model (the leaf's model, else the default when model is NULL); with before,
 * as the growth of a request charged before (growth_cost). */
static int price_usage(ab__ctx *c, const char *model, const ab_usage *u, ab_decision *d,
                       char *model_used, int64_t amount[AB_METRIC_COUNT], const ab_usage *before)
{
    if (!model || !*model)
        model = c->chain_len && c->b[0].s.model[0] ? c->b[0].s.model : AB__DEFAULT_MODEL;
    int rc = ab__name_valid(c->st, "model", model);
    if (rc)
        return rc;
    ab_price p;
    if ((rc = ab__price_lookup(c->st, model, &p)))
        return rc;
    if ((rc = before ? growth_cost(&p, before, u, &d->cost_nusd)
                     : ab_cost_compute(&p, u, &d->cost_nusd)) ||
        (rc = ab_usage_tokens(u, &d->tokens)))
        return ab__fail(c->st, rc,
                        "usage: the token count or the cost of these tokens is out of range "
                        "(over %lld)",
                        (long long)INT64_MAX);
    ab__strlcpy(model_used, model, AB_NAME_BYTES_MAX);
    amount[AB_METRIC_TOKENS] = d->tokens;
    amount[AB_METRIC_USD] = d->cost_nusd;
    amount[AB_METRIC_REQUESTS] = 1;
    return AB_OK;
}

static const char *unit_format(ab_metric m, int64_t v, char *buf, size_t size)
{
    if (m == AB_METRIC_USD) {
        char usd[32];
        snprintf(buf, size, "$%s", ab_usd_format(v, usd, sizeof usd));
    } else {
        const char *name = ab_metric_name(m); /* "1 token", "1 request" */
        snprintf(buf, size, "%" PRId64 " %.*s", v, (int)strlen(name) - (v == 1), name);
    }
    return buf;
}

void ab__decision_clear(ab_decision *d)
{
    memset(d, 0, sizeof *d);
    d->limit = -1; /* as include/agentbudget.h says: 0 would read as a limit of 0 */
}

/* Fills d with the first limit (leaf first) that used + held + amount would exceed. */
static int limits_decide(const ab__ctx *c, const int64_t amount[AB_METRIC_COUNT], ab_decision *d)
{
    for (size_t i = 0; i < c->chain_len; i++) {
        const ab_budget_status *s = &c->b[i].s;
        for (int w = 0; w < AB_WINDOW_COUNT; w++)
            for (int m = 0; m < AB_METRIC_COUNT; m++) {
                int64_t limit = s->limit[w][m], used;
                if (limit < 0)
                    continue;
                /* past INT64_MAX is past any limit; the decision shows it saturated, not wrapped */
                int fits = ab__add(s->used[w][m], s->held[m], &used) == AB_OK;
                if (!fits)
                    used = INT64_MAX;
                if (fits && used <= limit && amount[m] <= limit - used)
                    continue;
                d->allowed = 0;
                ab__strlcpy(d->budget, s->path, sizeof d->budget);
                d->metric = (ab_metric)m;
                d->window = (ab_window)w;
                d->limit = limit;
                d->used = used;
                d->requested = amount[m];
                d->remaining = used < limit ? limit - used : 0;
                char a[48], r[48], l[48];
                snprintf(d->reason, sizeof d->reason,
                         "%s limit of '%s' exceeded: requested %s, %s left of %s",
                         ab_window_name((ab_window)w), s->path,
                         unit_format((ab_metric)m, amount[m], a, sizeof a),
                         unit_format((ab_metric)m, d->remaining, r, sizeof r),
                         unit_format((ab_metric)m, limit, l, sizeof l));
                return 0;
            }
    }
    d->allowed = 1;
    return 1;
}

/* After spend: sets d->over and names the first limit that is now exceeded. */
static void over_report(const ab__ctx *c, const int64_t amount[AB_METRIC_COUNT], ab_decision *d)
{
    d->over = 0;
    for (size_t i = 0; i < c->chain_len && !d->over; i++) {
        const ab_budget_status *s = &c->b[i].s;
        for (int w = 0; w < AB_WINDOW_COUNT && !d->over; w++)
            for (int m = 0; m < AB_METRIC_COUNT && !d->over; m++)
                if (s->limit[w][m] >= 0 && s->used[w][m] > s->limit[w][m]) {
                    d->over = 1;
                    ab__strlcpy(d->budget, s->path, sizeof d->budget);
                    d->metric = (ab_metric)m;
                    d->window = (ab_window)w;
                    d->limit = s->limit[w][m];
                    d->used = s->used[w][m];
                    d->requested = amount[m];
                    d->remaining = 0;
                    snprintf(d->reason, sizeof d->reason, "%s %s limit of '%s' is now exceeded",
                             ab_window_name((ab_window)w), ab_metric_name((ab_metric)m), s->path);
                }
    }
}

static void event_usage(ab_event *e, const char *model, const ab_usage *u, const ab_decision *d)
{
    ab__strlcpy(e->model, model, sizeof e->model);
    if (u)
        e->usage = *u;
    e->tokens = d->tokens;
    e->cost_nusd = d->cost_nusd;
    e->allowed = d->allowed;
    ab__strlcpy(e->reason, d->reason, sizeof e->reason);
    ab__strlcpy(e->hold_id, d->hold_id, sizeof e->hold_id);
}

/* A denial: counted on the leaf and logged. Needs a write transaction. */
static int deny(ab__ctx *c, const char *op, const char *model, const ab_usage *u,
                const ab_decision *d, const char *key)
{
    if (!c->write)
        return AB__EUPGRADE;
    c->b[0].s.operations_blocked++;
    ab__ctx_dirty(c, &c->b[0]);
    ab_event e;
    ab__event_init(c->st, &e, c->b[0].s.path, op, c->now_ms);
    event_usage(&e, model, u, d);
    if (key)
        ab__strlcpy(e.key, key, sizeof e.key);
    return c->st->ops->event_append(c->st, &e);
}

/* The end of an operation that spends or holds: its event on budget (the answer's figures, the
 * model and the key), then the key's answer saved. */
static int log_and_answer(ab__ctx *c, const spend_args *a, const char *budget, const char *op,
                          const char *model, const char *params)
{
    ab_event e;
    ab__event_init(c->st, &e, budget, op, c->now_ms);
    event_usage(&e, model, a->usage, a->out);
    if (a->key)
        ab__strlcpy(e.key, a->key, sizeof e.key);
    int rc = c->st->ops->event_append(c->st, &e);
    return rc ? rc : ab__idem_save(c->st, a->key, params, a->out, c->now_ms);
}

static int op_check(ab__ctx *c, void *v)
{
    spend_args *a = v;
    char model[AB_NAME_BYTES_MAX];
    int64_t amount[AB_METRIC_COUNT];
    int rc = ab__chain_load(c, a->path, 0);
    if (rc || (rc = price_usage(c, a->model, a->usage, a->out, model, amount, NULL)))
        return rc;
    if (limits_decide(c, amount, a->out))
        return AB_OK;
    return deny(c, "check", model, a->usage, a->out, NULL);
}

/* A call that fails decided nothing: its out never reads as allowed, whatever step failed. */
static int decided(int rc, ab_decision *out)
{
    if (rc)
        out->allowed = 0;
    return rc;
}

int ab_budget_check(ab_store *st, const char *path, const char *model, const ab_usage *usage,
                    ab_decision *out)
{
    ab__decision_clear(out);
    int rc = usage_valid(st, usage);
    if (rc)
        return rc;
    spend_args a = {.path = path, .model = model, .usage = usage, .out = out};
    return decided(ab__run(st, 0, op_check, &a), out);
}

int ab_budget_check_tokens(ab_store *st, const char *path, int64_t tokens, ab_decision *out)
{
    if (out) /* allowed = 0 on every failure, as ab_budget_check's */
        ab__decision_clear(out);
    if (tokens < 0)
        return ab__fail(st, AB_EINVAL, "tokens: must be >= 0");
    /* the original's conservative estimate: 1/4 input, 3/4 output (the remainder to output) */
    ab_usage u = {.input = tokens / 4, .output = tokens - tokens / 4};
    return ab_budget_check(st, path, NULL, &u, out);
}

static void usage_params(char *buf, size_t size, const char *op, const char *target,
                         const char *model, const ab_usage *u, int64_t extra, const char *key)
{
    /* only an idempotency key needs the parameters: skip the formatting without one */
    if (!key) {
        buf[0] = '\0';
        return;
    }
    snprintf(buf, size,
             "%s|%s|%s|%" PRId64 "|%" PRId64 "|%" PRId64 "|%" PRId64 "|%" PRId64 "|%" PRId64, op,
             target, model ? model : "", u->input, u->output, u->cache_write_5m, u->cache_write_1h,
             u->cache_read, extra);
}

static int op_reserve(ab__ctx *c, void *v)
{
    spend_args *a = v;
    ab_store *st = c->st;
    char params[AB__PARAMS_BYTES], model[AB_NAME_BYTES_MAX];
    int replayed;
    usage_params(params, sizeof params, "reserve", a->path, a->model, a->usage, a->ttl_s, a->key);
    int rc = ab__idem_check(st, a->key, params, a->out, &replayed);
    if (rc || replayed)
        return rc;
    int64_t amount[AB_METRIC_COUNT];
    if ((rc = ab__chain_load(c, a->path, 0)) ||
        (rc = price_usage(c, a->model, a->usage, a->out, model, amount, NULL)))
        return rc;
    if (c->b[0].s.holds_open >= AB_HOLDS_OPEN_MAX) {
        size_t n = 0;
        char(*ids)[40] = malloc(sizeof(char[40]) * AB_HOLDS_OPEN_MAX);
        rc = ids ? st->ops->holds_of_budget(st, c->b[0].id, ids, AB_HOLDS_OPEN_MAX, &n)
                 : ab__fail(st, AB_ENOMEM, "out of memory");
        free(ids);
        if (rc)
            return rc;
        if (n >= AB_HOLDS_OPEN_MAX)
            return ab__fail(st, AB_ELIMIT,
                            "budget '%s' has %d open holds: commit or release some first",
                            c->b[0].s.path, AB_HOLDS_OPEN_MAX);
    }
    if (!limits_decide(c, amount, a->out)) {
        if ((rc = deny(c, "reserve", model, a->usage, a->out, a->key)))
            return rc;
        return ab__idem_save(st, a->key, params, a->out, c->now_ms);
    }
    ab__hold h;
    memset(&h, 0, sizeof h);
    ab__hold_id_new(st, h.h.id);
    ab__strlcpy(h.h.budget, c->b[0].s.path, sizeof h.h.budget);
    ab__strlcpy(h.h.model, model, sizeof h.h.model);
    h.h.tokens = amount[AB_METRIC_TOKENS];
    h.h.cost_nusd = amount[AB_METRIC_USD];
    h.requests = amount[AB_METRIC_REQUESTS];
    h.h.created_at_ms = c->now_ms;
    h.h.expires_at_ms = c->now_ms + (a->ttl_s ? a->ttl_s : AB_TTL_S_DEFAULT) * 1000;
    if (h.h.expires_at_ms > AB__TIME_MAX) /* past the clock's last reading it never expired */
        h.h.expires_at_ms = AB__TIME_MAX;
    h.usage = *a->usage;
    for (size_t i = 0; i < c->chain_len; i++) {
        ab__budget *b = &c->b[i];
        /* never a wrap: a limit set later would read a negative hold as room */
        for (int m = 0; m < AB_METRIC_COUNT; m++)
            if (ab__add(b->s.held[m], amount[m], &b->s.held[m]))
                return ab__fail(st, AB_EOVERFLOW, "held %s of '%s' would overflow",
                                ab_metric_name((ab_metric)m), b->s.path);
        b->s.holds_open++;
        if (h.h.expires_at_ms < b->next_expiry_ms)
            b->next_expiry_ms = h.h.expires_at_ms;
        c->dirty[i] = true;
        h.chain_ids[h.chain_len++] = b->id;
    }
    if ((rc = st->ops->hold_insert(st, &h)))
        return rc;
    ab__strlcpy(a->out->hold_id, h.h.id, sizeof a->out->hold_id);
    return log_and_answer(c, a, c->b[0].s.path, "reserve", model, params);
}

int ab_budget_reserve(ab_store *st, const char *path, const char *model, const ab_usage *usage,
                      int64_t ttl_s, const char *key, ab_decision *out)
{
    ab__decision_clear(out);
    int rc = usage_valid(st, usage);
    if (rc || (rc = ab__key_validate(st, key)))
        return rc;
    if (ttl_s < 0 || ttl_s > AB_TTL_S_MAX)
        return ab__fail(st, AB_EINVAL, "ttl: must be 1-%d seconds (0: default %d)", AB_TTL_S_MAX,
                        AB_TTL_S_DEFAULT);
    spend_args a = {
        .path = path, .model = model, .usage = usage, .key = key, .ttl_s = ttl_s, .out = out};
    return decided(ab__run(st, 1, op_reserve, &a), out);
}

/* Adds usage to every window of every budget in the chain. The leaf's counters refuse to
 * overflow (AB_EOVERFLOW: the caller's own request is absurd); an ancestor's stay at INT64_MAX
 * instead, never wrapping: one agent reporting absurd usage must not make every charge of its
 * siblings fail from then on (the total window is never reset), and a counter at INT64_MAX is
 * past any limit. The event log keeps the exact amounts. */
static int spend_chain(ab__ctx *c, const int64_t amount[AB_METRIC_COUNT])
{
    for (size_t i = 0; i < c->chain_len; i++) {
        ab_budget_status *s = &c->b[i].s;
        for (int w = 0; w < AB_WINDOW_COUNT; w++)
            for (int m = 0; m < AB_METRIC_COUNT; m++)
                if (ab__add(s->used[w][m], amount[m], &s->used[w][m])) {
                    if (i == 0)
                        return ab__fail(c->st, AB_EOVERFLOW, "usage counter of '%s' would overflow",
                                        s->path);
                    s->used[w][m] = INT64_MAX;
                }
        c->dirty[i] = true;
    }
    return AB_OK;
}

/* Loads an open hold, expiring it first if its TTL has passed. */
static int hold_open(ab__ctx *c, const char *id, ab__hold *h)
{
    int rc = c->st->ops->hold_get(c->st, id, h);
    if (rc == AB_ENOTFOUND)
        return ab__fail(c->st, rc, "no hold '%s'", id);
    if (rc)
        return rc;
    if (h->h.state == 0 && h->h.expires_at_ms <= c->now_ms) {
        /* expire it through the sweep of its leaf, which logs the expiry */
        if ((rc = ab__chain_load(c, h->h.budget, 1)))
            return rc;
        if ((rc = c->st->ops->hold_get(c->st, id, h)))
            return rc;
    }
    static const char *const states[] = {"open", "committed", "released", "expired"};
    if (h->h.state != 0)
        return ab__fail(c->st, AB_ESTATE, "hold '%s' is not open (it is %s)", id,
                        states[h->h.state & 3]);
    return AB_OK;
}

static int op_commit(ab__ctx *c, void *v)
{
    spend_args *a = v;
    ab_store *st = c->st;
    char params[AB__PARAMS_BYTES], model[AB_NAME_BYTES_MAX];
    int replayed;
    usage_params(params, sizeof params, "commit", a->hold_id, NULL, a->usage, 0, a->key);
    int rc = ab__idem_check(st, a->key, params, a->out, &replayed);
    if (rc || replayed)
        return rc;
    ab__hold h;
    int64_t amount[AB_METRIC_COUNT];
    if ((rc = hold_open(c, a->hold_id, &h)) || (rc = ab__chain_load(c, h.h.budget, 0)) ||
        (rc = price_usage(c, h.h.model, a->usage, a->out, model, amount, NULL)) ||
        (rc = ab__hold_close(c, &h, 1)) || (rc = spend_chain(c, amount)))
        return rc;
    a->out->allowed = 1;
    over_report(c, amount, a->out);
    ab__strlcpy(a->out->hold_id, h.h.id, sizeof a->out->hold_id);
    return log_and_answer(c, a, h.h.budget, "commit", model, params);
}

int ab_hold_commit(ab_store *st, const char *hold_id, const ab_usage *usage, const char *key,
                   ab_decision *out)
{
    if (!hold_id || strlen(hold_id) > AB_HOLD_ID_BYTES)
        return ab__fail(st, AB_EINVAL, "hold: not a hold id");
    char id[AB_HOLD_ID_BYTES + 2]; /* hold_id may point into *out (the reserve's answer) */
    ab__strlcpy(id, hold_id, sizeof id);
    ab__decision_clear(out);
    int rc = usage_valid(st, usage);
    if (rc || (rc = ab__key_validate(st, key)))
        return rc;
    spend_args a = {.hold_id = id, .usage = usage, .key = key, .out = out};
    return decided(ab__run(st, 1, op_commit, &a), out);
}

static int op_release(ab__ctx *c, void *v)
{
    spend_args *a = v;
    ab_store *st = c->st;
    char params[AB__PARAMS_BYTES];
    ab_usage none = {0};
    int replayed;
    usage_params(params, sizeof params, "release", a->hold_id, NULL, &none, 0, a->key);
    int rc = ab__idem_check(st, a->key, params, a->out, &replayed);
    if (rc || replayed)
        return rc;
    ab__hold h;
    if ((rc = hold_open(c, a->hold_id, &h)) || (rc = ab__chain_load(c, h.h.budget, 0)) ||
        (rc = ab__hold_close(c, &h, 2)))
        return rc;
    a->out->allowed = 1;
    ab__strlcpy(a->out->hold_id, h.h.id, sizeof a->out->hold_id);
    ab_event e;
    ab__event_init(st, &e, h.h.budget, "release", c->now_ms);
    ab__strlcpy(e.hold_id, h.h.id, sizeof e.hold_id);
    ab__strlcpy(e.model, h.h.model, sizeof e.model);
    if (a->key)
        ab__strlcpy(e.key, a->key, sizeof e.key);
    if ((rc = st->ops->event_append(st, &e)))
        return rc;
    return ab__idem_save(st, a->key, params, a->out, c->now_ms);
}

int ab_hold_release(ab_store *st, const char *hold_id, const char *key)
{
    ab_decision out;
    memset(&out, 0, sizeof out);
    int rc = ab__key_validate(st, key);
    if (rc)
        return rc;
    if (!hold_id || strlen(hold_id) > AB_HOLD_ID_BYTES)
        return ab__fail(st, AB_EINVAL, "hold: not a hold id");
    spend_args a = {.hold_id = hold_id, .key = key, .out = &out};
    return ab__run(st, 1, op_release, &a);
}

static int op_hold_get(ab__ctx *c, void *v)
{
    spend_args *a = v;
    ab__hold h;
    int rc = c->st->ops->hold_get(c->st, a->hold_id, &h);
    if (rc == AB_ENOTFOUND)
        return ab__fail(c->st, rc, "no hold '%s'", a->hold_id);
    if (rc)
        return rc;
    if (h.h.state == 0 && h.h.expires_at_ms <= c->now_ms)
        h.h.state = 3;
    *a->hold_out = h.h;
    return AB_OK;
}

int ab_hold_get(ab_store *st, const char *hold_id, ab_hold *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!hold_id || strlen(hold_id) > AB_HOLD_ID_BYTES)
        return ab__fail(st, AB_EINVAL, "hold: not a hold id");
    spend_args a = {.hold_id = hold_id, .hold_out = out};
    return ab__run(st, 0, op_hold_get, &a);
}

static int op_charge(ab__ctx *c, void *v)
{
    spend_args *a = v;
    ab_store *st = c->st;
    char params[AB__PARAMS_BYTES], model[AB_NAME_BYTES_MAX];
    int replayed;
    usage_params(params, sizeof params, "charge", a->path, a->model, a->usage, 0, a->key);
    if (a->before && a->key) { /* a growth: what it grew from is a parameter too */
        size_t n = strlen(params);
        usage_params(params + n, sizeof params - n, "|growth", "", "", a->before, 0, a->key);
    }
    int rc = ab__idem_check(st, a->key, params, a->out, &replayed);
    if (rc || replayed)
        return rc;
    int64_t amount[AB_METRIC_COUNT];
    if ((rc = ab__chain_load(c, a->path, 0)) ||
        (rc = price_usage(c, a->model, a->usage, a->out, model, amount, a->before)) ||
        (rc = spend_chain(c, amount)))
        return rc;
    a->out->allowed = 1;
    over_report(c, amount, a->out);
    return log_and_answer(c, a, c->b[0].s.path, "charge", model, params);
}

int ab_budget_charge(ab_store *st, const char *path, const char *model, const ab_usage *usage,
                     const char *key, ab_decision *out)
{
    ab__decision_clear(out);
    int rc = usage_valid(st, usage);
    if (rc || (rc = ab__key_validate(st, key)))
        return rc;
    spend_args a = {.path = path, .model = model, .usage = usage, .key = key, .out = out};
    return decided(ab__run(st, 1, op_charge, &a), out);
}

int ab_budget_charge_growth(ab_store *st, const char *path, const char *model,
                            const ab_usage *before, const ab_usage *usage, const char *key,
                            ab_decision *out)
{
    ab__decision_clear(out);
    if (!before)
        return ab_budget_charge(st, path, model, usage, key, out);
    int rc = usage_valid(st, before);
    if (rc || (rc = usage_valid(st, usage)) || (rc = ab__key_validate(st, key)))
        return rc;
    spend_args a = {
        .path = path, .model = model, .usage = usage, .before = before, .key = key, .out = out};
    return decided(ab__run(st, 1, op_charge, &a), out);
}
