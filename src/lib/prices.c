/* prices.c — exact cost of a request, the built-in price table, and store price overrides. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "prices_builtin.h"

__extension__ typedef unsigned __int128 u128;

int ab_usage_tokens(const ab_usage *u, int64_t *out)
{
    int64_t t;
    if (u->input < 0 || u->output < 0 || u->cache_write_5m < 0 || u->cache_write_1h < 0 ||
        u->cache_read < 0)
        return AB_EINVAL;
    if (ab__add(u->input, u->output, &t) || ab__add(t, u->cache_write_5m, &t) ||
        ab__add(t, u->cache_write_1h, &t))
        return AB_EOVERFLOW;
    *out = t;
    return AB_OK;
}

static int term(u128 *sum, int64_t tokens, int64_t price)
{
    u128 p = (u128)(uint64_t)tokens * (u128)(uint64_t)price;
    return __builtin_add_overflow(*sum, p, sum) ? AB_EOVERFLOW : AB_OK;
}

int ab_cost_compute(const ab_price *p, const ab_usage *u, int64_t *out_nusd)
{
    int64_t tokens;
    int rc = ab_usage_tokens(u, &tokens);
    if (rc)
        return rc;
    int64_t context;
    if (ab__add(u->input, u->cache_write_5m, &context) ||
        ab__add(context, u->cache_write_1h, &context) || ab__add(context, u->cache_read, &context))
        return AB_EOVERFLOW;
    int tier = p->tier_threshold_tokens > 0 && context > p->tier_threshold_tokens;
    u128 sum = 0;
    if (term(&sum, u->input, tier ? p->tier_input : p->input) ||
        term(&sum, u->output, tier ? p->tier_output : p->output) ||
        term(&sum, u->cache_write_5m, tier ? p->tier_cache_write_5m : p->cache_write_5m) ||
        term(&sum, u->cache_write_1h, tier ? p->tier_cache_write_1h : p->cache_write_1h) ||
        term(&sum, u->cache_read, tier ? p->tier_cache_read : p->cache_read))
        return AB_EOVERFLOW;
    /* tokens x uUSD/Mtok = 10^-12 USD = 10^-3 nUSD: divide by 1000, rounding up */
    u128 nusd = (sum + 999) / 1000;
    if (nusd > (u128)INT64_MAX)
        return AB_EOVERFLOW;
    *out_nusd = (int64_t)nusd;
    return AB_OK;
}

static void row_to_price(const ab__price_row *r, ab_price *out)
{
    memset(out, 0, sizeof *out);
    ab__strlcpy(out->model, r->name, sizeof out->model);
    out->input = r->input;
    out->output = r->output;
    out->cache_write_5m = r->cache_write_5m;
    out->cache_write_1h = r->cache_write_1h;
    out->cache_read = r->cache_read;
    out->tier_threshold_tokens = r->tier_threshold_tokens;
    out->tier_input = r->tier_input;
    out->tier_output = r->tier_output;
    out->tier_cache_write_5m = r->tier_cache_write_5m;
    out->tier_cache_write_1h = r->tier_cache_write_1h;
    out->tier_cache_read = r->tier_cache_read;
    out->builtin = 1;
}

static const ab__price_row *builtin_find(const char *name)
{
    size_t lo = 0, hi = ab__prices_builtin_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, ab__prices_builtin[mid].name);
        if (c == 0)
            return &ab__prices_builtin[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* Writes the name with '.' and '@' turned into '-' (ccusage's normalisation). */
static void normalise(const char *in, char *out, size_t size)
{
    size_t i = 0;
    for (; in[i] && i + 1 < size; i++)
        out[i] = (in[i] == '.' || in[i] == '@') ? '-' : in[i];
    out[i] = '\0';
}

/* Tries name as it is, then normalised. */
static const ab__price_row *find_either(const char *name)
{
    char norm[AB_NAME_BYTES_MAX];
    const ab__price_row *r = builtin_find(name);
    if (r)
        return r;
    normalise(name, norm, sizeof norm);
    return builtin_find(norm);
}

/* What a provider puts around a model's name: before it a region and provider ending in '.' or
 * a path ending in '/' ("us.anthropic.", "bedrock/"); after it a version ("-v1:0"), a context
 * size ("[1m]"), ":…" or "@…". Not any suffix: "claude-opus-4-7-nonsense" is no model. */
static int decoration(const char *name, const char *at, size_t len)
{
    const char *after = at + len;
    if (at > name && at[-1] != '.' && at[-1] != '/')
        return 0;
    return !*after || *after == '[' || *after == ':' || *after == '@' ||
           (after[0] == '-' && after[1] == 'v' && after[2] >= '0' && after[2] <= '9');
}

/* A name without its date, or with "-latest" or "-0" for it (Anthropic's aliases): the newest
 * built-in "NAME-YYYYMMDD" ("claude-sonnet-4", "claude-sonnet-4-0" -> claude-sonnet-4-20250514).
 * The table is sorted, so the last one found is the newest. */
static const ab__price_row *find_dated(const char *name)
{
    size_t n = strlen(name);
    if (n > 7 && !strcmp(name + n - 7, "-latest"))
        n -= 7;
    else if (n > 2 && !strcmp(name + n - 2, "-0"))
        n -= 2;
    const ab__price_row *best = NULL;
    for (size_t i = 0; i < ab__prices_builtin_count; i++) {
        const char *key = ab__prices_builtin[i].name;
        if (strncmp(key, name, n) || key[n] != '-' || strlen(key + n + 1) != 8)
            continue;
        int digits = 1;
        for (const char *d = key + n + 1; *d; d++)
            digits &= *d >= '0' && *d <= '9';
        if (digits)
            best = &ab__prices_builtin[i];
    }
    return best;
}

/* The longest built-in name inside name with only a provider's decoration around it: the Bedrock
 * id "us.anthropic.claude-sonnet-4-20250514-v1:0" holds claude-sonnet-4-20250514,
 * "claude-sonnet-4-5[1m]" claude-sonnet-4-5. */
static const ab__price_row *find_inside(const char *name)
{
    const ab__price_row *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < ab__prices_builtin_count; i++) {
        const char *key = ab__prices_builtin[i].name;
        size_t kl = strlen(key);
        if (kl <= best_len)
            continue;
        for (const char *p = strstr(name, key); p; p = strstr(p + 1, key))
            if (decoration(name, p, kl)) {
                best = &ab__prices_builtin[i];
                best_len = kl;
                break;
            }
    }
    return best;
}

int ab_price_builtin(const char *model, ab_price *out)
{
    if (!model || !*model || strlen(model) >= AB_NAME_BYTES_MAX)
        return AB_EINVAL;
    const ab__price_row *r = find_either(model);
    const char *slash = strrchr(model, '/');
    if (!r && slash)
        r = find_either(slash + 1);
    const char *at = strchr(slash ? slash : model, '@');
    if (!r && at) { /* "vertex_ai/claude-opus-4-7@default": the name before the '@' */
        char base[AB_NAME_BYTES_MAX];
        const char *start = slash ? slash + 1 : model;
        snprintf(base, sizeof base, "%.*s", (int)(at - start), start);
        r = find_either(base);
    }
    if (!r) { /* an undated alias, then a built-in name inside a longer one */
        char norm[AB_NAME_BYTES_MAX];
        normalise(slash ? slash + 1 : model, norm, sizeof norm);
        r = find_dated(norm);
        if (!r)
            r = find_inside(model);
    }
    if (!r)
        return AB_ENOTFOUND;
    row_to_price(r, out);
    return AB_OK;
}

size_t ab_price_builtin_count(void)
{
    return ab__prices_builtin_count;
}

int ab_price_builtin_at(size_t i, ab_price *out)
{
    if (i >= ab__prices_builtin_count)
        return AB_ENOTFOUND;
    row_to_price(&ab__prices_builtin[i], out);
    return AB_OK;
}

/* price x num/den, rounded up to a whole uUSD/Mtok (a derived price must not undercharge: 1.25 x
 * 1.234567 is 1.54320875, stored as 1.543209), saturating at INT64_MAX (ab_price_set then refuses
 * it). den is small, so the remainder times num cannot overflow. A negative price (no input
 * given) stays negative: ab_price_set refuses the input itself. */
static int64_t scaled_up(int64_t price, int64_t num, int64_t den)
{
    if (price < 0)
        return price;
    int64_t r;
    if (__builtin_mul_overflow(price / den, num, &r) ||
        __builtin_add_overflow(r, (price % den * num + den - 1) / den, &r))
        return INT64_MAX;
    return r;
}

void ab_price_fill_defaults(ab_price *p)
{
    /* Anthropic's ratios, rounded up: 5-minute cache write 1.25x input, 1-hour 2x, read 0.1x. */
    if (p->cache_write_5m < 0)
        p->cache_write_5m = scaled_up(p->input, 5, 4);
    if (p->cache_write_1h < 0)
        p->cache_write_1h = scaled_up(p->input, 2, 1);
    if (p->cache_read < 0)
        p->cache_read = scaled_up(p->input, 1, 10);
    if (p->tier_threshold_tokens <= 0) {
        p->tier_threshold_tokens = 0;
        p->tier_input = p->tier_output = p->tier_cache_write_5m = 0;
        p->tier_cache_write_1h = p->tier_cache_read = 0;
        return;
    }
    if (p->tier_input < 0)
        p->tier_input = p->input;
    if (p->tier_output < 0)
        p->tier_output = p->output;
    if (p->tier_cache_write_5m < 0)
        p->tier_cache_write_5m = scaled_up(p->tier_input, 5, 4);
    if (p->tier_cache_write_1h < 0)
        p->tier_cache_write_1h = scaled_up(p->tier_input, 2, 1);
    if (p->tier_cache_read < 0)
        p->tier_cache_read = scaled_up(p->tier_input, 1, 10);
}

/* The lookup order, inside a transaction the caller holds. */
int ab__price_lookup(ab_store *st, const char *model, ab_price *out)
{
    if (strcmp(model, "<synthetic>") == 0) {
        memset(out, 0, sizeof *out);
        ab__strlcpy(out->model, model, sizeof out->model);
        out->builtin = 1;
        return AB_OK;
    }
    int rc = st->ops->price_get(st, model, out);
    if (rc != AB_ENOTFOUND)
        return rc;
    if (st->builtin_model[0] && strcmp(model, st->builtin_model) == 0) {
        *out = st->builtin_price;
        return AB_OK;
    }
    if (ab_price_builtin(model, out) == AB_OK) {
        if (ab__strlcpy(st->builtin_model, model, sizeof st->builtin_model) == AB_OK)
            st->builtin_price = *out;
        return AB_OK;
    }
    rc = st->ops->price_get(st, "default", out);
    if (rc == AB_ENOTFOUND)
        return ab__fail(st, AB_EUNKNOWNMODEL,
                        "unknown model '%s': no price in the store or the built-in table, and no "
                        "'default' price is set",
                        model);
    return rc;
}

int ab_price_get(ab_store *st, const char *model, ab_price *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!model || !*model || strlen(model) >= AB_NAME_BYTES_MAX)
        return ab__fail(st, AB_EINVAL, "model: must be 1-%d bytes", AB_NAME_BYTES_MAX - 1);
    int rc = ab__txn_begin(st, 0);
    if (rc)
        return rc;
    rc = ab__price_lookup(st, model, out);
    return ab__txn_finish(st, rc);
}

void ab__price_ints(ab_price *p, int64_t *out[AB__PRICE_INTS])
{
    int64_t *v[AB__PRICE_INTS] = {&p->input,
                                  &p->output,
                                  &p->cache_write_5m,
                                  &p->cache_write_1h,
                                  &p->cache_read,
                                  &p->tier_threshold_tokens,
                                  &p->tier_input,
                                  &p->tier_output,
                                  &p->tier_cache_write_5m,
                                  &p->tier_cache_write_1h,
                                  &p->tier_cache_read};
    memcpy(out, v, sizeof v);
}

int ab__price_valid(ab_store *st, const ab_price *p)
{
    int rc = ab__name_valid(st, "model", p->model);
    if (rc)
        return rc;
    if (strcmp(p->model, "<synthetic>") == 0) /* ab__price_lookup never reads a store price */
        return ab__fail(st, AB_EINVAL,
                        "price of '<synthetic>': Claude Code's locally made lines always cost 0; "
                        "it has no price to set");
    int64_t *v[AB__PRICE_INTS];
    ab__price_ints((ab_price *)p, v); /* only read here */
    /* in ab__price_ints' order; a cache price not given is derived from the input price by
     * ab_price_fill_defaults(), which the message says, as it is no figure the caller wrote */
    static const char *const names[AB__PRICE_INTS] = {"input",
                                                      "output",
                                                      "cache_write_5m",
                                                      "cache_write_1h",
                                                      "cache_read",
                                                      "tier_tokens",
                                                      "tier_input",
                                                      "tier_output",
                                                      "tier_cache_write_5m",
                                                      "tier_cache_write_1h",
                                                      "tier_cache_read"};
    static const char *const derived[AB__PRICE_INTS] = {
        [2] = " (unless given: 1.25 x input)",   [3] = " (unless given: 2 x input)",
        [4] = " (unless given: 0.1 x input)",    [8] = " (unless given: 1.25 x tier_input)",
        [9] = " (unless given: 2 x tier_input)", [10] = " (unless given: 0.1 x tier_input)"};
    for (size_t i = 0; i < AB__PRICE_INTS; i++)
        if (i == AB__PRICE_THRESHOLD && *v[i] < 0)
            return ab__fail(st, AB_EINVAL, "price of '%s': %s: must be >= 0 (0: no tier)", p->model,
                            names[i]);
        else if (i != AB__PRICE_THRESHOLD && (*v[i] < 0 || *v[i] > AB_PRICE_UUSD_MAX)) {
            char got[32];
            ab_price_format(*v[i], got, sizeof got);
            return ab__fail(st, AB_EINVAL,
                            "price of '%s': %s: must be >= 0 and at most 1000000000 USD per "
                            "million tokens, not %s%s",
                            p->model, names[i], got, derived[i] ? derived[i] : "");
        }
    return AB_OK;
}

int ab_price_set(ab_store *st, const ab_price *p)
{
    int rc = ab__price_valid(st, p);
    if (rc)
        return rc;
    if ((rc = ab__txn_begin(st, 1)))
        return rc;
    rc = st->ops->price_put(st, p);
    if (rc == AB_OK) {
        ab_event e;
        ab__event_init(st, &e, "", "price", ab__now(st));
        ab__strlcpy(e.model, p->model, sizeof e.model);
        rc = st->ops->event_append(st, &e);
    }
    return ab__txn_finish(st, rc);
}

typedef struct {
    struct {
        int64_t id;                    /* for its open holds */
        char model[AB_NAME_BYTES_MAX]; /* "" none: the default, built in */
        char path[AB_PATH_BYTES_MAX + 1];
    } * v; /* every budget */
    size_t n, cap;
    char user[AB_PATH_BYTES_MAX + AB_HOLD_ID_BYTES + AB_NAME_BYTES_MAX + 64]; /* the first found */
} model_users;

static int model_user_budget(ab__budget *b, void *v)
{
    model_users *u = v;
    if (u->n == u->cap) {
        size_t cap = u->cap ? 2 * u->cap : 256;
        void *grown = realloc(u->v, cap * sizeof *u->v);
        if (!grown)
            return AB_ENOMEM;
        u->v = grown;
        u->cap = cap;
    }
    u->v[u->n].id = b->id;
    memcpy(u->v[u->n].model, b->s.model, sizeof u->v->model);
    memcpy(u->v[u->n++].path, b->s.path, sizeof u->v->path);
    return 0;
}

/* 1 if model has no price now (not in the store, not built in, no default); "" is priced. */
static int unpriced(ab_store *st, const char *model, int *rc)
{
    ab_price p;
    if (!model[0])
        return 0;
    *rc = ab__price_lookup(st, model, &p);
    if (*rc == AB_EUNKNOWNMODEL) {
        *rc = AB_OK;
        return 1;
    }
    return 0;
}

/* Who is left with no price now that an override is gone: a budget whose model no longer
 * resolves (its charges could not be priced), or an open hold reserved at such a model (it
 * could not be committed: usage that happened would be lost). Not only the model removed: a
 * model priced through `default`, or through a name that resolved to the override, loses its
 * price too. Writes the first found into u->user. */
static int model_in_use(ab_store *st, model_users *u)
{
    int rc = st->ops->budget_list(st, NULL, model_user_budget, u);
    for (size_t i = 0; !rc && !u->user[0] && i < u->n; i++)
        if (unpriced(st, u->v[i].model, &rc))
            snprintf(u->user, sizeof u->user, "budget '%s' has model '%s' (change that first)",
                     u->v[i].path, u->v[i].model);
    char(*ids)[40] = rc || u->user[0] ? NULL : malloc(sizeof(char[40]) * AB_HOLDS_OPEN_MAX);
    if (!rc && !u->user[0] && !ids)
        rc = ab__fail(st, AB_ENOMEM, "out of memory");
    for (size_t i = 0; ids && !rc && !u->user[0] && i < u->n; i++) {
        size_t n;
        rc = st->ops->holds_of_budget(st, u->v[i].id, ids, AB_HOLDS_OPEN_MAX, &n);
        for (size_t k = 0; !rc && !u->user[0] && k < n; k++) {
            ab__hold h;
            if ((rc = st->ops->hold_get(st, ids[k], &h)) == AB_OK && unpriced(st, h.h.model, &rc))
                snprintf(u->user, sizeof u->user,
                         "hold %s on '%s' was reserved at '%s' (commit or release it first)",
                         h.h.id, h.h.budget, h.h.model);
        }
    }
    free(ids);
    free(u->v);
    return rc;
}

int ab_price_unset(ab_store *st, const char *model)
{
    if (!model || !*model || strlen(model) >= AB_NAME_BYTES_MAX)
        return ab__fail(st, AB_EINVAL, "model: must be 1-%d bytes", AB_NAME_BYTES_MAX - 1);
    int rc = ab__txn_begin(st, 1);
    if (rc)
        return rc;
    rc = st->ops->price_delete(st, model);
    if (rc == AB_OK) { /* anything in use left with no price? */
        model_users u = {0};
        if ((rc = model_in_use(st, &u)) == AB_OK && u.user[0])
            rc =
                ab__fail(st, AB_ECONFLICT,
                         "price of '%s' is in use and there would be none left: %s", model, u.user);
    }
    if (rc == AB_ENOTFOUND)
        ab__fail(st, rc, "no price override for '%s' in the store", model);
    if (rc == AB_OK) {
        ab_event e;
        ab__event_init(st, &e, "", "price", ab__now(st));
        ab__strlcpy(e.model, model, sizeof e.model);
        ab__strlcpy(e.reason, "override removed", sizeof e.reason);
        rc = st->ops->event_append(st, &e);
    }
    return ab__txn_finish(st, rc);
}

int ab_price_list(ab_store *st, int builtin, ab_price_fn fn, void *ctx)
{
    int rc = ab__txn_begin(st, 0);
    if (rc)
        return rc;
    st->walking = 1;
    rc = st->ops->price_list(st, fn, ctx);
    st->walking = 0;
    ab__txn_finish(st, rc < 0 ? rc : AB_OK);
    if (rc || !builtin)
        return rc;
    for (size_t i = 0; i < ab__prices_builtin_count; i++) {
        ab_price p;
        row_to_price(&ab__prices_builtin[i], &p);
        if ((rc = fn(&p, ctx)))
            return rc;
    }
    return AB_OK;
}
