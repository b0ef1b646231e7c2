/* test_model.c — model checking. A seeded generator of random operation sequences (budgets in a
 * tree, limits, holds, commits above and below their holds, releases, expiries, resets, clock
 * jumps across midnight, month ends and backwards, idempotent and conflicting repeats, status
 * reads) drives one store, and a plain reference model written here — budgets as counters, holds
 * and idempotency records as lists, the audit log as a list, and arithmetic — answers the same
 * operations. Every return code, every decision, every status read and every audit event is
 * compared as soon as the store gives it.
 *
 *   test_model memory|sqlite|postgres [PG_URL_FILE] [--seed N] [--ops N] [--events-every N]
 *
 * Prints {"test":"model","store":…,"seed":…,"ops":…,…} when everything agreed. On a divergence
 * it prints the seed and the shortest failing prefix — the operations up to the first one whose
 * answer differs (answers are compared one by one, so no shorter prefix shows a divergence) —
 * writes the whole prefix to model-failure-<store>-<seed>.txt and exits 1. Rerun with
 * --seed N --ops LEN to reproduce it.
 *
 * The model mirrors the documented laziness of the stores: windows roll over when an operation
 * loads a budget (a read that writes nothing keeps nothing), expired holds are swept when a
 * budget whose earliest expiry has passed is loaded, and a failed operation changes nothing. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agentbudget.h"
#include "testpg.h"

#define W AB_WINDOW_COUNT
#define M AB_METRIC_COUNT
#define DAY_MS INT64_C(86400000)
#define HOLDS_MAX 200000
#define KEYS_MAX 200000
#define EVENTS_MAX 8192 /* model events awaiting comparison (a sweep may expire many holds) */

/* ---- the universe: budget paths (every prefix of a path is in the list) and models ---- */

static const char *const PATHS[] = {"o",     "o/a", "o/a/x", "o/a/y", "o/b",
                                    "o/b/z", "p",   "p/q",   "p/q/r"};
#define NPATHS ((int)(sizeof PATHS / sizeof PATHS[0]))
static int prefix_of[NPATHS][8]; /* leaf first: the path, its parent, … */
static int prefix_len[NPATHS];

static const struct {
    const char *name;
    int64_t input, output; /* micro-USD per million tokens */
} MODELS[] = {{"mx", 3000000, 15000000}, {"my", 1234, 5678}};
#define NMODELS 2
static int64_t price_in[NMODELS], price_out[NMODELS]; /* as the run has set them */

static int path_index(const char *s, size_t len)
{
    for (int i = 0; i < NPATHS; i++)
        if (strlen(PATHS[i]) == len && strncmp(PATHS[i], s, len) == 0)
            return i;
    return -1;
}

static void universe_init(void)
{
    for (int p = 0; p < NPATHS; p++) {
        prefix_len[p] = 0;
        for (size_t len = strlen(PATHS[p]);;) {
            prefix_of[p][prefix_len[p]++] = path_index(PATHS[p], len);
            const char *slash = memrchr(PATHS[p], '/', len);
            if (!slash)
                break;
            len = (size_t)(slash - PATHS[p]);
        }
    }
}

/* ---- calendar arithmetic, written here rather than borrowed from libc or the library ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b < 0);
}

/* days since 1970-01-01 of the first day of the month holding `days` (civil calendar) */
static int64_t month_first_day(int64_t days)
{
    int64_t z = days + 719468, era = floor_div(z, 146097), doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    return days - (doy - (153 * mp + 2) / 5); /* back to day 1 of the same month */
}

static int64_t day_of(int64_t ms)
{
    return floor_div(ms, DAY_MS) * DAY_MS;
}

static int64_t month_of(int64_t ms)
{
    return month_first_day(floor_div(ms, DAY_MS)) * DAY_MS;
}

/* ---- the operations ---- */

typedef enum {
    OP_SET,
    OP_DELETE,
    OP_CHECK,
    OP_RESERVE,
    OP_COMMIT,
    OP_RELEASE,
    OP_CHARGE,
    OP_RESET,
    OP_GET,
    OP_CLOCK,
    OP_BATCH_BEGIN, /* the next operations join one group commit (as agentbudgetd's writer) */
    OP_BATCH_COMMIT,
    OP_PRICE /* a model's price changed, on either handle: the other must see it */
} op_kind;

static const char *const OP_NAMES[] = {"set",     "delete",       "check", "reserve", "commit",
                                       "release", "charge",       "reset", "get",     "clock",
                                       "batch",   "commit-batch", "price"};

typedef struct {
    op_kind kind;
    int path, model;
    int64_t in, out, ttl_s;
    int hold; /* commit/release: model hold index, -1 for an id no store ever made */
    int key;  /* 0: no idempotency key */
    int which;
    int replace;
    ab_limit limits[3];
    int nlimits;
    int64_t clock_to;
    int repeat; /* 1: an exact repeat of an earlier keyed operation, 2: the key reused */
    int handle; /* which of the two handles on the store runs it (SQLite, PostgreSQL) */
} op;

static void op_print(FILE *f, long n, const op *o)
{
    fprintf(f, "%6ld h%d %-7s", n, o->handle, OP_NAMES[o->kind]);
    switch (o->kind) {
    case OP_CLOCK:
        fprintf(f, " -> %" PRId64 " ms", o->clock_to);
        break;
    case OP_BATCH_BEGIN:
    case OP_BATCH_COMMIT:
        break;
    case OP_COMMIT:
    case OP_RELEASE:
        fprintf(f, " hold #%d", o->hold);
        break;
    default:
        fprintf(f, " %s", PATHS[o->path]);
    }
    if (o->kind == OP_PRICE)
        fprintf(f, " %s input=%" PRId64 " output=%" PRId64 " uUSD/Mtok", MODELS[o->model].name,
                o->in, o->out);
    if (o->kind == OP_CHECK || o->kind == OP_RESERVE || o->kind == OP_CHARGE ||
        o->kind == OP_COMMIT)
        fprintf(f, " %s in=%" PRId64 " out=%" PRId64, MODELS[o->model].name, o->in, o->out);
    if (o->kind == OP_RESERVE)
        fprintf(f, " ttl=%" PRId64, o->ttl_s);
    if (o->kind == OP_RESET)
        fprintf(f, " which=%d", o->which);
    if (o->kind == OP_SET) {
        fprintf(f, "%s", o->replace ? " replace" : "");
        for (int i = 0; i < o->nlimits; i++) {
            char buf[64];
            if (o->limits[i].amount < 0)
                fprintf(f, " %s/%s=none", ab_metric_name(o->limits[i].metric),
                        ab_window_name(o->limits[i].window));
            else
                fprintf(f, " %s", ab_limit_format(&o->limits[i], buf, sizeof buf));
        }
    }
    if (o->key)
        fprintf(f, " key=k%d%s", o->key,
                o->repeat == 1   ? " (repeat)"
                : o->repeat == 2 ? " (key reused)"
                                 : "");
    fputc('\n', f);
}

/* ---- the reference model ---- */

typedef struct {
    int exists;
    int64_t inc; /* incarnation: a budget deleted and made again is another budget */
    int64_t limit[W][M], used[W][M], held[M];
    int64_t holds_open, blocked;
    int64_t created, session_reset, day_start, month_start, last_reset;
    int64_t next_expiry; /* the earliest expiry of its holds as of its last sweep or reserve */
} mbudget;

typedef struct {
    char id[AB_HOLD_ID_BYTES + 2]; /* the store's id for it */
    int leaf, model, chain_len;
    int chain[8];
    int64_t chain_inc[8];
    int64_t in, out, tokens, cost, expires;
    int state; /* 0 open, 1 committed, 2 released, 3 expired */
} mhold;

typedef struct {
    int allowed, over, budget; /* budget: path index or -1 */
    int metric, window;
    int64_t limit, used, requested, remaining, cost, tokens;
    int hold; /* -1: none */
    int replayed;
} mdecision;

typedef struct {
    int saved;
    char params[160];
    mdecision d;
} midem;

typedef struct {
    const char *op;
    int budget, hold, model, key;
    int64_t in, out, tokens, cost;
    int allowed;
} mevent;

static mbudget B[NPATHS];
static mhold *H;
static int nholds;
static int *open_holds, nopen; /* indices into H of the open holds */
static midem *K;
static int nkeys;
static int64_t incarnations;
static mevent EV[EVENTS_MAX]; /* the model's events not compared yet */
static int nev;
static int64_t now_ms;
static int in_batch; /* a group commit is open: every operation runs as a write */

static int64_t fake_clock(void *ctx)
{
    (void)ctx;
    return now_ms;
}

static void model_reset(void)
{
    for (int i = 0; i < NMODELS; i++) {
        price_in[i] = MODELS[i].input;
        price_out[i] = MODELS[i].output;
    }
    memset(B, 0, sizeof B);
    nholds = nopen = nkeys = nev = 0;
    incarnations = 0;
    memset(K, 0, sizeof(midem) * KEYS_MAX);
}

static void roll(mbudget *b)
{
    if (day_of(now_ms) > b->day_start) {
        for (int m = 0; m < M; m++)
            b->used[AB_WINDOW_DAY][m] = 0;
        b->day_start = b->last_reset = day_of(now_ms);
    }
    if (month_of(now_ms) > b->month_start) {
        for (int m = 0; m < M; m++)
            b->used[AB_WINDOW_MONTH][m] = 0;
        b->month_start = month_of(now_ms);
    }
}

static void emit(const char *opname, int budget, int hold, int model, int key, int64_t in,
                 int64_t out, int64_t tokens, int64_t cost, int allowed)
{
    if (nev == EVENTS_MAX) {
        fprintf(stderr, "test_model: more than %d events awaiting comparison\n", EVENTS_MAX);
        exit(2);
    }
    EV[nev++] = (mevent){opname, budget, hold, model, key, in, out, tokens, cost, allowed};
}

/* The existing budgets among the path and its ancestors, leaf first; -1 when the leaf is
 * missing and required. */
static int chain_of(int p, int leaf_optional, int *chain)
{
    if (!leaf_optional && !B[p].exists)
        return -1;
    int n = 0;
    for (int i = 0; i < prefix_len[p]; i++)
        if (B[prefix_of[p][i]].exists)
            chain[n++] = prefix_of[p][i];
    return n;
}

static int hold_counts_in(const mhold *h, int b)
{
    for (int i = 0; i < h->chain_len; i++)
        if (h->chain[i] == b && h->chain_inc[i] == B[b].inc && B[b].exists)
            return 1;
    return 0;
}

static void hold_close(int hi, int state)
{
    mhold *h = &H[hi];
    for (int i = 0; i < h->chain_len; i++) {
        mbudget *b = &B[h->chain[i]];
        if (!b->exists || b->inc != h->chain_inc[i])
            continue;
        roll(b);
        for (int m = 0; m < M; m++)
            b->held[m] -= m == AB_METRIC_TOKENS ? h->tokens : m == AB_METRIC_USD ? h->cost : 1;
        b->holds_open--;
    }
    h->state = state;
    for (int i = 0; i < nopen; i++)
        if (open_holds[i] == hi) {
            open_holds[i] = open_holds[--nopen];
            break;
        }
}

static void sweep(int b)
{
    for (int i = 0; i < nopen;) {
        int hi = open_holds[i];
        if (H[hi].expires <= now_ms && hold_counts_in(&H[hi], b)) {
            hold_close(hi, 3); /* moves another open hold into slot i */
            emit("expire", H[hi].leaf, hi, H[hi].model, 0, 0, 0, H[hi].tokens, H[hi].cost, 1);
        } else {
            i++;
        }
    }
    B[b].next_expiry = INT64_MAX;
    for (int i = 0; i < nopen; i++)
        if (hold_counts_in(&H[open_holds[i]], b) && H[open_holds[i]].expires < B[b].next_expiry)
            B[b].next_expiry = H[open_holds[i]].expires;
}

static int chain_due(const int *chain, int n)
{
    for (int i = 0; i < n; i++)
        if (B[chain[i]].next_expiry <= now_ms)
            return 1;
    return 0;
}

/* Loads a chain for writing: every budget rolled, the due ones swept. */
static void chain_load(const int *chain, int n)
{
    for (int i = 0; i < n; i++)
        roll(&B[chain[i]]);
    for (int i = 0; i < n; i++)
        if (B[chain[i]].next_expiry <= now_ms)
            sweep(chain[i]);
}

static void amounts(int model, int64_t in, int64_t out, int64_t a[M], mdecision *d)
{
    d->tokens = in + out;
    d->cost = (in * price_in[model] + out * price_out[model] + 999) / 1000;
    a[AB_METRIC_TOKENS] = d->tokens;
    a[AB_METRIC_USD] = d->cost;
    a[AB_METRIC_REQUESTS] = 1;
}

/* The first limit (leaf first, window then metric) that used + held + amount would pass. */
static int decide(const mbudget *const *chain, const int *paths, int n, const int64_t a[M],
                  mdecision *d)
{
    for (int i = 0; i < n; i++)
        for (int w = 0; w < W; w++)
            for (int m = 0; m < M; m++) {
                int64_t limit = chain[i]->limit[w][m];
                if (limit < 0)
                    continue;
                int64_t used = chain[i]->used[w][m] + chain[i]->held[m];
                if (used + a[m] <= limit)
                    continue;
                d->allowed = 0;
                d->budget = paths[i];
                d->metric = m;
                d->window = w;
                d->limit = limit;
                d->used = used;
                d->requested = a[m];
                d->remaining = used < limit ? limit - used : 0;
                return 0;
            }
    d->allowed = 1;
    return 1;
}

static void over_report(const int *chain, int n, const int64_t a[M], mdecision *d)
{
    for (int i = 0; i < n; i++)
        for (int w = 0; w < W; w++)
            for (int m = 0; m < M; m++) {
                const mbudget *b = &B[chain[i]];
                if (b->limit[w][m] >= 0 && b->used[w][m] > b->limit[w][m]) {
                    d->over = 1;
                    d->budget = chain[i];
                    d->metric = m;
                    d->window = w;
                    d->limit = b->limit[w][m];
                    d->used = b->used[w][m];
                    d->requested = a[m];
                    d->remaining = 0;
                    return;
                }
            }
}

static void spend(const int *chain, int n, const int64_t a[M])
{
    for (int i = 0; i < n; i++)
        for (int w = 0; w < W; w++)
            for (int m = 0; m < M; m++)
                B[chain[i]].used[w][m] += a[m];
}

static void decision_clear(mdecision *d)
{
    memset(d, 0, sizeof *d);
    d->budget = d->hold = -1;
    d->limit = -1; /* no limit decided (agentbudget.h) */
}

/* Idempotency: 1 if answered from the key's record (or refused), *rc set. */
static int idem(const op *o, const char *params, mdecision *d, int *rc)
{
    if (!o->key || !K[o->key].saved)
        return 0;
    if (strcmp(K[o->key].params, params) != 0) {
        *rc = AB_ECONFLICT;
        return 1;
    }
    *d = K[o->key].d;
    d->replayed = 1;
    *rc = AB_OK;
    return 1;
}

static void idem_save(const op *o, const char *params, const mdecision *d)
{
    if (!o->key)
        return;
    K[o->key].saved = 1;
    snprintf(K[o->key].params, sizeof K[o->key].params, "%s", params);
    K[o->key].d = *d;
}

static const char *hold_name(int hi)
{
    return hi < 0 ? "h_00000000000000000000000000000000" : H[hi].id;
}

/* Runs one operation on the model. new_hold_id: the id the store gave a reserve (the model
 * cannot invent it). */
static int model_apply(const op *o, mdecision *d, ab_budget_status *st, const char *new_hold_id)
{
    char params[160];
    int chain[8], n, rc;
    int64_t a[M];
    decision_clear(d);
    switch (o->kind) {
    case OP_CLOCK:
        now_ms = o->clock_to;
        return AB_OK;
    case OP_PRICE:
        price_in[o->model] = o->in;
        price_out[o->model] = o->out;
        emit("price", -1, -1, o->model, 0, 0, 0, 0, 0, 1);
        return AB_OK;
    case OP_BATCH_BEGIN: /* a group commit changes no answer, only that reads write too */
    case OP_BATCH_COMMIT:
        in_batch = o->kind == OP_BATCH_BEGIN;
        return AB_OK;
    case OP_SET: {
        snprintf(params, sizeof params, "set|%d|%d", o->path, o->replace);
        for (int i = 0; i < o->nlimits; i++)
            snprintf(params + strlen(params), sizeof params - strlen(params), "|%d/%d=%" PRId64,
                     o->limits[i].metric, o->limits[i].window, o->limits[i].amount);
        if (idem(o, params, d, &rc))
            return rc;
        n = chain_of(o->path, 1, chain);
        chain_load(chain, n);
        mbudget *b = &B[o->path];
        int existed = b->exists;
        if (!existed) {
            memset(b, 0, sizeof *b);
            b->exists = 1;
            b->inc = ++incarnations;
            memset(b->limit, 0xff, sizeof b->limit);
            b->created = b->session_reset = b->last_reset = now_ms;
            b->day_start = day_of(now_ms);
            b->month_start = month_of(now_ms);
            b->next_expiry = INT64_MAX;
        }
        if (o->replace)
            memset(b->limit, 0xff, sizeof b->limit);
        for (int i = 0; i < o->nlimits; i++)
            b->limit[o->limits[i].window][o->limits[i].metric] =
                o->limits[i].amount < 0 ? -1 : o->limits[i].amount;
        emit("set", o->path, -1, -1, o->key, 0, 0, 0, 0, 1);
        d->allowed = !existed;
        idem_save(o, params, d);
        return AB_OK;
    }
    case OP_DELETE: {
        snprintf(params, sizeof params, "delete|%d", o->path);
        if (idem(o, params, d, &rc))
            return rc;
        if ((n = chain_of(o->path, 0, chain)) < 0)
            return AB_ENOTFOUND;
        size_t len = strlen(PATHS[o->path]);
        for (int p = 0; p < NPATHS; p++)
            if (B[p].exists && strncmp(PATHS[p], PATHS[o->path], len) == 0 && PATHS[p][len] == '/')
                return AB_ECONFLICT; /* it has budgets under it */
        chain_load(chain, n);
        for (int i = 0; i < nopen;) {
            int hi = open_holds[i];
            if (H[hi].leaf == o->path) {
                hold_close(hi, 2); /* released, and logged so ("budget deleted") */
                emit("release", H[hi].leaf, hi, H[hi].model, 0, 0, 0, 0, 0, 1);
            } else {
                i++;
            }
        }
        B[o->path].exists = 0;
        emit("delete", o->path, -1, -1, o->key, 0, 0, 0, 0, 1);
        d->allowed = 1;
        idem_save(o, params, d);
        return AB_OK;
    }
    case OP_CHECK: {
        if ((n = chain_of(o->path, 0, chain)) < 0)
            return AB_ENOTFOUND;
        amounts(o->model, o->in, o->out, a, d);
        int write = in_batch || chain_due(chain, n);
        if (!write) { /* a read: decide on rolled copies, keep nothing */
            mbudget copy[8];
            const mbudget *view[8];
            for (int i = 0; i < n; i++) {
                copy[i] = B[chain[i]];
                roll(&copy[i]);
                view[i] = &copy[i];
            }
            if (decide(view, chain, n, a, d))
                return AB_OK;
            decision_clear(d); /* a denial writes: decided again in a write transaction */
            amounts(o->model, o->in, o->out, a, d);
        }
        chain_load(chain, n);
        const mbudget *view[8];
        for (int i = 0; i < n; i++)
            view[i] = &B[chain[i]];
        if (decide(view, chain, n, a, d))
            return AB_OK;
        B[o->path].blocked++;
        emit("check", o->path, -1, o->model, 0, o->in, o->out, d->tokens, d->cost, 0);
        return AB_OK;
    }
    case OP_RESERVE:
    case OP_CHARGE: {
        int reserve = o->kind == OP_RESERVE;
        snprintf(params, sizeof params, "%s|%d|%d|%" PRId64 "|%" PRId64 "|%" PRId64,
                 reserve ? "reserve" : "charge", o->path, o->model, o->in, o->out,
                 reserve ? o->ttl_s : 0);
        if (idem(o, params, d, &rc))
            return rc;
        if ((n = chain_of(o->path, 0, chain)) < 0)
            return AB_ENOTFOUND;
        chain_load(chain, n);
        amounts(o->model, o->in, o->out, a, d);
        if (!reserve) {
            spend(chain, n, a);
            d->allowed = 1;
            over_report(chain, n, a, d);
            emit("charge", o->path, -1, o->model, o->key, o->in, o->out, d->tokens, d->cost, 1);
            idem_save(o, params, d);
            return AB_OK;
        }
        const mbudget *view[8];
        for (int i = 0; i < n; i++)
            view[i] = &B[chain[i]];
        if (!decide(view, chain, n, a, d)) {
            B[o->path].blocked++;
            emit("reserve", o->path, -1, o->model, o->key, o->in, o->out, d->tokens, d->cost, 0);
            idem_save(o, params, d);
            return AB_OK;
        }
        if (nholds == HOLDS_MAX) {
            fprintf(stderr, "test_model: more than %d holds\n", HOLDS_MAX);
            exit(2);
        }
        mhold *h = &H[nholds];
        memset(h, 0, sizeof *h);
        snprintf(h->id, sizeof h->id, "%s", new_hold_id ? new_hold_id : "?");
        h->leaf = o->path;
        h->model = o->model;
        h->in = o->in;
        h->out = o->out;
        h->tokens = a[AB_METRIC_TOKENS];
        h->cost = a[AB_METRIC_USD];
        h->expires = now_ms + (o->ttl_s ? o->ttl_s : AB_TTL_S_DEFAULT) * 1000;
        for (int i = 0; i < n; i++) {
            mbudget *b = &B[chain[i]];
            for (int m = 0; m < M; m++)
                b->held[m] += a[m];
            b->holds_open++;
            if (h->expires < b->next_expiry)
                b->next_expiry = h->expires;
            h->chain[h->chain_len] = chain[i];
            h->chain_inc[h->chain_len++] = b->inc;
        }
        open_holds[nopen++] = nholds;
        d->hold = nholds++;
        emit("reserve", o->path, d->hold, o->model, o->key, o->in, o->out, d->tokens, d->cost, 1);
        idem_save(o, params, d);
        return AB_OK;
    }
    case OP_COMMIT:
    case OP_RELEASE: {
        int commit = o->kind == OP_COMMIT;
        snprintf(params, sizeof params, "%s|%s|%" PRId64 "|%" PRId64, commit ? "commit" : "release",
                 hold_name(o->hold), commit ? o->in : 0, commit ? o->out : 0);
        if (idem(o, params, d, &rc))
            return rc;
        if (o->hold < 0)
            return AB_ENOTFOUND;
        mhold *h = &H[o->hold];
        if (h->state != 0 || h->expires <= now_ms)
            return AB_ESTATE; /* an expiry found here is rolled back with the failure */
        n = chain_of(h->leaf, 0, chain);
        chain_load(chain, n);
        hold_close(o->hold, commit ? 1 : 2);
        d->allowed = 1;
        d->hold = o->hold;
        if (commit) {
            amounts(h->model, o->in, o->out, a, d);
            spend(chain, n, a);
            over_report(chain, n, a, d);
            emit("commit", h->leaf, o->hold, h->model, o->key, o->in, o->out, d->tokens, d->cost,
                 1);
        } else {
            emit("release", h->leaf, o->hold, h->model, o->key, 0, 0, 0, 0, 1);
        }
        idem_save(o, params, d);
        return AB_OK;
    }
    case OP_RESET: {
        snprintf(params, sizeof params, "reset|%d|%d", o->path, o->which);
        if (idem(o, params, d, &rc))
            return rc;
        if ((n = chain_of(o->path, 0, chain)) < 0)
            return AB_ENOTFOUND;
        chain_load(chain, n);
        mbudget *b = &B[o->path];
        static const int windows[] = {AB_WINDOW_SESSION, AB_WINDOW_DAY, AB_WINDOW_MONTH};
        for (int i = 0; i < 3; i++)
            if (o->which & (1 << i))
                for (int m = 0; m < M; m++)
                    b->used[windows[i]][m] = 0;
        if (o->which & AB_RESET_SESSION)
            b->session_reset = now_ms;
        if (o->which & AB_RESET_DAY)
            b->last_reset = now_ms;
        emit("reset", o->path, -1, -1, o->key, 0, 0, 0, 0, 1);
        d->allowed = 1;
        idem_save(o, params, d);
        return AB_OK;
    }
    case OP_GET: {
        if ((n = chain_of(o->path, 0, chain)) < 0)
            return AB_ENOTFOUND;
        mbudget b;
        if (in_batch || chain_due(chain, n)) {
            chain_load(chain, n);
            b = B[o->path];
        } else {
            b = B[o->path];
            roll(&b);
        }
        memset(st, 0, sizeof *st);
        memcpy(st->limit, b.limit, sizeof st->limit);
        memcpy(st->used, b.used, sizeof st->used);
        memcpy(st->held, b.held, sizeof st->held);
        st->holds_open = b.holds_open;
        st->operations_blocked = b.blocked;
        st->created_at_ms = b.created;
        st->session_reset_ms = b.session_reset;
        st->day_start_ms = b.day_start;
        st->month_start_ms = b.month_start;
        st->last_reset_ms = b.last_reset;
        return AB_OK;
    }
    }
    return AB_EINVAL;
}

/* ---- the generator ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t x = rng_state; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * UINT64_C(2685821657736338717);
}

static int64_t between(int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

#define HISTORY 256
static op keyed[HISTORY]; /* recent operations with a key, for repeats */
static long nkeyed;

static int fresh_key(void)
{
    if (nkeys + 1 >= KEYS_MAX) {
        fprintf(stderr, "test_model: more than %d keys\n", KEYS_MAX);
        exit(2);
    }
    return ++nkeys;
}

static int pick_hold(void)
{
    int r = (int)between(0, 99);
    if (r < 75 && nopen > 0)
        return open_holds[between(0, nopen - 1)];
    if (r < 97 && nholds > 0)
        return (int)between(nholds > 64 ? nholds - 64 : 0, nholds - 1); /* recent, often closed */
    return -1;
}

static void gen_usage(op *o)
{
    o->model = (int)between(0, NMODELS - 1);
    int64_t scale = between(0, 9) == 0 ? 20000 : 3000;
    o->in = between(0, scale);
    o->out = between(0, scale);
}

static void gen_limit(ab_limit *l)
{
    l->metric = (ab_metric)between(0, M - 1);
    l->window = (ab_window)between(0, W - 1);
    int tight = between(0, 3) == 0; /* reached within a few requests */
    switch (l->metric) {
    case AB_METRIC_TOKENS:
        l->amount = tight ? between(1000, 20000) : between(20000, 2000000);
        break;
    case AB_METRIC_USD: /* $0.005 to $20 */
        l->amount = tight ? between(5000000, 100000000) : between(100000000, 20000000000);
        break;
    default:
        l->amount = tight ? between(1, 10) : between(10, 2000);
    }
    if (l->window == AB_WINDOW_TOTAL && !tight) /* lifetime limits: only the tight ones bind */
        l->amount *= 100;
    if (between(0, 9) == 0)
        l->amount = -1; /* removes the limit (merge) */
}

/* an offset around a boundary: exactly on it, a millisecond either side, or a little further */
static int64_t near(void)
{
    static const int64_t edge[] = {-1, 0, 1};
    return between(0, 1) ? edge[between(0, 2)] : between(-2000, 2000);
}

static void gen_clock(op *o)
{
    int r = (int)between(0, 99);
    int64_t t = now_ms;
    if (r < 10 && nopen > 0) /* to an open hold's expiry: it expires at that very millisecond */
        t = H[open_holds[between(0, nopen - 1)]].expires + between(-1, 0);
    else if (r < 35)
        t += between(1, 120) * 1000;
    else if (r < 60)
        t += between(121, 3 * 3600) * 1000;
    else if (r < 72)
        t = day_of(t) + DAY_MS + near();
    else if (r < 80) /* the next month's first day is 32 days after this month's at most */
        t = month_first_day(floor_div(month_of(t), DAY_MS) + 32) * DAY_MS + near();
    else if (r < 92)
        t -= between(1, 36 * 3600) * 1000; /* the clock goes back (NTP, a VM restored) */
    else
        t = day_of(t) - 1 - between(0, 1) * between(0, 3000); /* back across the last midnight */
    o->clock_to = t;
}

static int batch_left = -1; /* operations left in the open group commit; -1: none open */
static int batch_handle, nhandles;

static op gen_op(void);

/* The next operation, and the handle it runs on: either of the two at random, except that a
 * group commit keeps its handle until it ends (another handle would wait for its locks). */
static op gen(void)
{
    int handle = (int)between(0, 1);
    op o = gen_op();
    o.handle = batch_left >= 0 || o.kind == OP_BATCH_COMMIT ? batch_handle
               : nhandles > 1                               ? handle
                                                            : 0;
    if (o.kind == OP_BATCH_BEGIN)
        batch_handle = o.handle;
    return o;
}

static op gen_op(void)
{
    op o;
    memset(&o, 0, sizeof o);
    if (batch_left == 0) {
        batch_left = -1;
        o.kind = OP_BATCH_COMMIT;
        return o;
    }
    if (batch_left > 0) {
        batch_left--;
    } else if (between(0, 99) < 2) {
        batch_left = (int)between(1, 40);
        o.kind = OP_BATCH_BEGIN;
        return o;
    }
    o.path = (int)between(0, NPATHS - 1);
    int r = (int)between(0, 999);
    if (r < 60)
        o.kind = OP_SET;
    else if (r < 75)
        o.kind = OP_DELETE;
    else if (r < 155)
        o.kind = OP_CHECK;
    else if (r < 315)
        o.kind = OP_RESERVE;
    else if (r < 435)
        o.kind = OP_COMMIT;
    else if (r < 495)
        o.kind = OP_RELEASE;
    else if (r < 635)
        o.kind = OP_CHARGE;
    else if (r < 665)
        o.kind = OP_RESET;
    else if (r < 835)
        o.kind = OP_GET;
    else if (r < 927)
        o.kind = OP_CLOCK;
    else if (r < 935)
        o.kind = OP_PRICE;
    else if (nkeyed > 0) { /* a repeat of a recent keyed operation: exact, or the key reused */
        o = keyed[between(0, (nkeyed < HISTORY ? nkeyed : HISTORY) - 1)];
        if (r < 975) {
            o.repeat = 1;
            return o;
        }
        int key = o.key;
        o = gen_op();
        if (o.kind == OP_GET || o.kind == OP_CLOCK || o.kind == OP_CHECK ||
            o.kind == OP_BATCH_BEGIN || o.kind == OP_BATCH_COMMIT || o.kind == OP_PRICE)
            return o;
        o.key = key;
        o.repeat = 2;
        return o;
    } else {
        o.kind = OP_GET;
    }
    switch (o.kind) {
    case OP_SET:
        o.replace = between(0, 2) == 0;
        o.nlimits = (int)between(o.replace ? 0 : 1, 3);
        for (int i = 0; i < o.nlimits; i++)
            gen_limit(&o.limits[i]);
        break;
    case OP_CHECK:
    case OP_CHARGE:
        gen_usage(&o);
        break;
    case OP_RESERVE:
        gen_usage(&o);
        o.ttl_s = between(0, 9) == 0 ? 0 : between(1, 1800);
        break;
    case OP_COMMIT:
        o.hold = pick_hold();
        o.model = o.hold >= 0 ? H[o.hold].model : 0;
        if (o.hold >= 0) { /* above or below what was held */
            o.in = between(0, H[o.hold].in * 3 / 2 + 1);
            o.out = between(0, H[o.hold].out * 3 / 2 + 1);
        }
        break;
    case OP_RELEASE:
        o.hold = pick_hold();
        break;
    case OP_RESET:
        o.which = (int)between(1, AB_RESET_ALL);
        break;
    case OP_CLOCK:
        gen_clock(&o);
        break;
    case OP_PRICE: /* uUSD per million tokens; now and then one that rounds every cost up */
        o.model = (int)between(0, NMODELS - 1);
        o.in = between(0, 3) ? between(1, 20000000) : between(1, 5000);
        o.out = between(0, 3) ? between(1, 80000000) : between(1, 5000);
        break;
    default:
        break;
    }
    if (o.kind != OP_GET && o.kind != OP_CLOCK && o.kind != OP_CHECK && o.kind != OP_PRICE &&
        between(0, 1) == 0)
        o.key = fresh_key();
    return o;
}

/* ---- the run: the store and the model side by side ---- */

static const char *kind;
static char pg_base[256], tmpdir[256];
static int run_no;
static FILE *trace; /* the operations of the run, for the failure report */
static char failure[4096];

static ab_store *handles[2];

/* A fresh store and, but for memory: (a store per handle), a second handle on it. */
static ab_store *store_fresh(void)
{
    char url[512];
    if (fresh_store_url(kind, tmpdir, pg_base, ++run_no, "?sync=normal", url, sizeof url))
        exit(2);
    nhandles = strcmp(kind, "memory") == 0 ? 1 : 2;
    for (int h = 0; h < nhandles; h++) {
        if (ab_store_open(url, &handles[h])) {
            fprintf(stderr, "test_model: cannot open %s: %s\n", url, ab_store_errmsg(handles[h]));
            exit(2);
        }
        ab_store_set_clock(handles[h], fake_clock, NULL);
    }
    ab_store *st = handles[0];
    for (int i = 0; i < NMODELS; i++) {
        ab_price p;
        memset(&p, 0, sizeof p);
        snprintf(p.model, sizeof p.model, "%s", MODELS[i].name);
        p.input = MODELS[i].input;
        p.output = MODELS[i].output;
        p.cache_write_5m = p.cache_write_1h = p.cache_read = -1;
        ab_price_fill_defaults(&p);
        if (ab_price_set(st, &p)) {
            fprintf(stderr, "test_model: cannot set a price: %s\n", ab_store_errmsg(st));
            exit(2);
        }
    }
    return st;
}

#define DIVERGE(...)                                                                               \
    do {                                                                                           \
        snprintf(failure, sizeof failure, __VA_ARGS__);                                            \
        return 1;                                                                                  \
    } while (0)

static int cmp_decision(const ab_decision *s, const mdecision *m)
{
    const char *want_budget = m->budget >= 0 ? PATHS[m->budget] : "";
    const char *want_hold = m->hold >= 0 ? H[m->hold].id : "";
    if (s->allowed != m->allowed || s->over != m->over || strcmp(s->budget, want_budget) != 0 ||
        (m->budget >= 0 && ((int)s->metric != m->metric || (int)s->window != m->window)) ||
        s->limit != m->limit || s->used != m->used || s->requested != m->requested ||
        s->remaining != m->remaining || s->cost_nusd != m->cost || s->tokens != m->tokens ||
        s->replayed != m->replayed || strcmp(s->hold_id, want_hold) != 0)
        DIVERGE("decision: store allowed=%d over=%d budget='%s' %s/%s limit=%" PRId64
                " used=%" PRId64 " requested=%" PRId64 " remaining=%" PRId64 " cost=%" PRId64
                " tokens=%" PRId64 " replayed=%d hold=%s; model allowed=%d over=%d budget='%s' "
                "%s/%s limit=%" PRId64 " used=%" PRId64 " requested=%" PRId64 " remaining=%" PRId64
                " cost=%" PRId64 " tokens=%" PRId64 " replayed=%d hold=%s",
                s->allowed, s->over, s->budget, ab_metric_name(s->metric),
                ab_window_name(s->window), s->limit, s->used, s->requested, s->remaining,
                s->cost_nusd, s->tokens, s->replayed, s->hold_id, m->allowed, m->over, want_budget,
                ab_metric_name((ab_metric)m->metric), ab_window_name((ab_window)m->window),
                m->limit, m->used, m->requested, m->remaining, m->cost, m->tokens, m->replayed,
                want_hold);
    return 0;
}

static int cmp_status(const char *path, const ab_budget_status *s, const ab_budget_status *m)
{
    for (int w = 0; w < W; w++)
        for (int k = 0; k < M; k++) {
            if (s->used[w][k] != m->used[w][k])
                DIVERGE("status of %s: %s/%s used %" PRId64 ", model %" PRId64, path,
                        ab_metric_name((ab_metric)k), ab_window_name((ab_window)w), s->used[w][k],
                        m->used[w][k]);
            if (s->limit[w][k] != m->limit[w][k])
                DIVERGE("status of %s: %s/%s limit %" PRId64 ", model %" PRId64, path,
                        ab_metric_name((ab_metric)k), ab_window_name((ab_window)w), s->limit[w][k],
                        m->limit[w][k]);
        }
    for (int k = 0; k < M; k++)
        if (s->held[k] != m->held[k])
            DIVERGE("status of %s: %s held %" PRId64 ", model %" PRId64, path,
                    ab_metric_name((ab_metric)k), s->held[k], m->held[k]);
    const struct {
        const char *name;
        int64_t s, m;
    } f[] = {{"holds_open", s->holds_open, m->holds_open},
             {"operations_blocked", s->operations_blocked, m->operations_blocked},
             {"created_at_ms", s->created_at_ms, m->created_at_ms},
             {"session_reset_ms", s->session_reset_ms, m->session_reset_ms},
             {"day_start_ms", s->day_start_ms, m->day_start_ms},
             {"month_start_ms", s->month_start_ms, m->month_start_ms},
             {"last_reset_ms", s->last_reset_ms, m->last_reset_ms}};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (f[i].s != f[i].m)
            DIVERGE("status of %s: %s %" PRId64 ", model %" PRId64, path, f[i].name, f[i].s,
                    f[i].m);
    return 0;
}

/* ---- the audit log: the store's new events against the model's ---- */

static ab_event *got;
static int ngot;
static int64_t last_event_id;

static int collect(const ab_event *e, void *v)
{
    (void)v;
    if (ngot == EVENTS_MAX)
        return 1;
    got[ngot++] = *e;
    return 0;
}

static int by_hold(const void *a, const void *b)
{
    return strcmp(((const ab_event *)a)->hold_id, ((const ab_event *)b)->hold_id);
}

static int by_mhold(const void *a, const void *b)
{
    return strcmp(H[((const mevent *)a)->hold].id, H[((const mevent *)b)->hold].id);
}

/* A sweep expires holds, and a delete releases them, in the store's own order: runs of expiries
 * (and of releases) compare as sets. */
static void sort_expiry_runs(void)
{
    for (int i = 0; i < ngot;) {
        int j = i;
        while (j < ngot && strcmp(got[j].op, got[i].op) == 0 &&
               (!strcmp(got[i].op, "expire") || !strcmp(got[i].op, "release")))
            j++;
        if (j - i > 1)
            qsort(got + i, (size_t)(j - i), sizeof *got, by_hold);
        i = j > i ? j : i + 1;
    }
    for (int i = 0; i < nev;) {
        int j = i;
        while (j < nev && strcmp(EV[j].op, EV[i].op) == 0 &&
               (!strcmp(EV[i].op, "expire") || !strcmp(EV[i].op, "release")))
            j++;
        if (j - i > 1)
            qsort(EV + i, (size_t)(j - i), sizeof *EV, by_mhold);
        i = j > i ? j : i + 1;
    }
}

/* The store's events since the last comparison against the model's, EV[0..nev). */
static int cmp_events(ab_store *st)
{
    ngot = 0;
    ab_event_query q = {.after_id = last_event_id, .limit = EVENTS_MAX};
    if (ab_events_query(st, &q, collect, NULL))
        DIVERGE("events: query failed: %s", ab_store_errmsg(st));
    if (ngot != nev) {
        int n = snprintf(failure, sizeof failure, "events: store logged %d (", ngot);
        for (int i = 0; i < ngot && n < 600; i++)
            n += snprintf(failure + n, sizeof failure - (size_t)n, "%s%s %s", i ? ", " : "",
                          got[i].op, got[i].budget);
        n += snprintf(failure + n, sizeof failure - (size_t)n, "), model %d (", nev);
        for (int i = 0; i < nev && n < 900; i++)
            n += snprintf(failure + n, sizeof failure - (size_t)n, "%s%s %s", i ? ", " : "",
                          EV[i].op, EV[i].budget >= 0 ? PATHS[EV[i].budget] : "");
        snprintf(failure + n, sizeof failure - (size_t)n, ")");
        return 1;
    }
    if (ngot) /* before the sort below reorders them */
        last_event_id = got[ngot - 1].id;
    sort_expiry_runs();
    for (int i = 0; i < nev; i++) {
        const ab_event *e = &got[i];
        const mevent *m = &EV[i];
        char key[16] = "";
        if (m->key)
            snprintf(key, sizeof key, "k%d", m->key);
        const char *hold = m->hold >= 0 ? H[m->hold].id : "";
        const char *model = m->model >= 0 ? MODELS[m->model].name : "";
        const char *budget = m->budget >= 0 ? PATHS[m->budget] : "";
        if (strcmp(e->op, m->op) != 0 || strcmp(e->budget, budget) != 0 || e->tokens != m->tokens ||
            e->cost_nusd != m->cost || e->allowed != m->allowed || strcmp(e->key, key) != 0 ||
            strcmp(e->hold_id, hold) != 0 || strcmp(e->model, model) != 0 ||
            e->usage.input != m->in || e->usage.output != m->out)
            DIVERGE("event %" PRId64 ": store %s %s tokens=%" PRId64 " cost=%" PRId64
                    " allowed=%d key='%s' hold='%s' model='%s' in=%" PRId64 " out=%" PRId64
                    "; model %s %s tokens=%" PRId64 " cost=%" PRId64
                    " allowed=%d key='%s' hold='%s' model='%s' in=%" PRId64 " out=%" PRId64,
                    e->id, e->op, e->budget, e->tokens, e->cost_nusd, e->allowed, e->key,
                    e->hold_id, e->model, e->usage.input, e->usage.output, m->op, budget, m->tokens,
                    m->cost, m->allowed, key, hold, model, m->in, m->out);
    }
    return 0;
}

/* One operation on the store; returns its code and fills d / status. */
static int store_apply(ab_store *st, const op *o, ab_decision *d, ab_budget_status *status,
                       int *created)
{
    char key[16];
    const char *k = NULL;
    if (o->key) {
        snprintf(key, sizeof key, "k%d", o->key);
        k = key;
    }
    ab_usage u = {.input = o->in, .output = o->out};
    const char *path = PATHS[o->path], *model = MODELS[o->model].name;
    memset(d, 0, sizeof *d);
    switch (o->kind) {
    case OP_CLOCK:
        now_ms = o->clock_to;
        return AB_OK;
    case OP_PRICE: {
        ab_price p;
        memset(&p, 0, sizeof p);
        snprintf(p.model, sizeof p.model, "%s", model);
        p.input = o->in;
        p.output = o->out;
        p.cache_write_5m = p.cache_write_1h = p.cache_read = -1;
        ab_price_fill_defaults(&p);
        return ab_price_set(st, &p);
    }
    case OP_BATCH_BEGIN:
        return ab_store_batch_begin(st);
    case OP_BATCH_COMMIT:
        return ab_store_batch_commit(st);
    case OP_SET: {
        ab_budget_spec spec = {
            .limits = o->limits, .limits_count = (size_t)o->nlimits, .replace_limits = o->replace};
        return ab_budget_set(st, path, &spec, k, created);
    }
    case OP_DELETE:
        return ab_budget_delete(st, path, k);
    case OP_CHECK:
        return ab_budget_check(st, path, model, &u, d);
    case OP_RESERVE:
        return ab_budget_reserve(st, path, model, &u, o->ttl_s, k, d);
    case OP_CHARGE:
        return ab_budget_charge(st, path, model, &u, k, d);
    case OP_COMMIT:
        return ab_hold_commit(st, hold_name(o->hold), &u, k, d);
    case OP_RELEASE:
        return ab_hold_release(st, hold_name(o->hold), k);
    case OP_RESET:
        return ab_budget_reset(st, path, o->which, k);
    case OP_GET:
        return ab_budget_get(st, path, status);
    }
    return AB_EINVAL;
}

typedef struct {
    long ops, decisions, denials, reads, holds, expiries, events, replays, conflicts;
} run_stats;

/* Runs `nops` generated operations from `seed`; events compared every `every` operations.
 * Returns the index of the first divergent operation, or -1. */
static long run(uint64_t seed, long nops, int every, run_stats *rs)
{
    model_reset();
    rng_state = seed ? seed : 1;
    nkeyed = 0;
    batch_left = -1;
    in_batch = 0;
    now_ms = INT64_C(1835301600000); /* 2028-02-27 22:00 UTC: 29 February comes soon */
    memset(rs, 0, sizeof *rs);
    ab_store *st = store_fresh();
    ngot = 0; /* the price events of the set-up are not the model's */
    ab_event_query q = {.limit = EVENTS_MAX};
    if (ab_events_query(st, &q, collect, NULL) || ngot != NMODELS) {
        fprintf(stderr, "test_model: the set-up logged %d events, expected %d\n", ngot, NMODELS);
        exit(2);
    }
    last_event_id = got[ngot - 1].id;
    rewind(trace);
    long fail_at = -1;
    for (long i = 0; i < nops && fail_at < 0; i++) {
        op o = gen();
        op_print(trace, i, &o);
        ab_decision sd;
        ab_budget_status ss, ms;
        mdecision md;
        int created = -1;
        ab_store *h = handles[o.handle];
        int src = store_apply(h, &o, &sd, &ss, &created);
        int mrc = model_apply(&o, &md, &ms, sd.hold_id[0] ? sd.hold_id : NULL);
        if (o.key && o.repeat == 0) {
            keyed[nkeyed % HISTORY] = o;
            nkeyed++;
        }
        rs->ops++;
        int bad = 0;
        if (src != mrc) {
            snprintf(failure, sizeof failure, "return code: store %s (%s), model %s",
                     ab_err_name(src), ab_store_errmsg(h), ab_err_name(mrc));
            bad = 1;
        } else if (src == AB_OK) {
            switch (o.kind) {
            case OP_CHECK:
            case OP_RESERVE:
            case OP_CHARGE:
            case OP_COMMIT:
                bad = cmp_decision(&sd, &md);
                rs->decisions++;
                rs->denials += !md.allowed;
                rs->replays += md.replayed;
                break;
            case OP_SET:
                if (created != md.allowed) {
                    snprintf(failure, sizeof failure, "set: store created=%d, model %d", created,
                             md.allowed);
                    bad = 1;
                }
                break;
            case OP_GET:
                bad = cmp_status(PATHS[o.path], &ss, &ms);
                rs->reads++;
                break;
            default:
                break;
            }
        } else {
            rs->conflicts += src == AB_ECONFLICT;
        }
        if (o.kind == OP_RESERVE && md.hold >= 0 && !md.replayed)
            rs->holds++;
        if (!bad && (nev > EVENTS_MAX / 2 || (i + 1) % every == 0 || i + 1 == nops)) {
            for (int e = 0; e < nev; e++)
                rs->expiries += strcmp(EV[e].op, "expire") == 0;
            rs->events += nev;
            bad = cmp_events(handles[in_batch ? batch_handle : 0]); /* sees the open batch */
            nev = 0;
        }
        if (bad)
            fail_at = i;
    }
    if (in_batch && fail_at < 0 && ab_store_batch_commit(handles[batch_handle])) {
        snprintf(failure, sizeof failure, "the last group commit failed: %s",
                 ab_store_errmsg(handles[batch_handle]));
        fail_at = nops - 1;
    }
    for (int k = 0; k < nhandles; k++)
        ab_store_close(handles[k]);
    return fail_at;
}

int main(int argc, char **argv)
{
    kind = argc > 1 ? argv[1] : "memory";
    int argi = 2;
    if (strcmp(kind, "postgres") == 0) {
        if (pg_base_read(argc > 2 ? argv[2] : NULL, pg_base, sizeof pg_base))
            return 2;
        argi = 3;
    } else if (strcmp(kind, "memory") != 0 && strcmp(kind, "sqlite") != 0) {
        fprintf(stderr, "usage: test_model memory|sqlite|postgres [PG_URL_FILE] [--seed N] "
                        "[--ops N] [--events-every N]\n");
        return 2;
    }
    uint64_t seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 16);
    long nops = 100000;
    int every = strcmp(kind, "memory") == 0 ? 1 : 16;
    for (; argi + 1 < argc; argi += 2) {
        char *end;
        unsigned long long v = strtoull(argv[argi + 1], &end, 10);
        if (*end || !*argv[argi + 1]) {
            fprintf(stderr, "test_model: %s: a whole number, not '%s'\n", argv[argi],
                    argv[argi + 1]);
            return 2;
        }
        if (strcmp(argv[argi], "--seed") == 0)
            seed = v;
        else if (strcmp(argv[argi], "--ops") == 0 && v > 0)
            nops = (long)v;
        else if (strcmp(argv[argi], "--events-every") == 0 && v > 0)
            every = (int)v;
        else {
            fprintf(stderr, "test_model: unknown option or bad value: %s %s\n", argv[argi],
                    argv[argi + 1]);
            return 2;
        }
    }
    if (argi < argc) {
        fprintf(stderr, "test_model: %s: missing value\n", argv[argi]);
        return 2;
    }
    universe_init();
    H = calloc(HOLDS_MAX, sizeof *H);
    K = calloc(KEYS_MAX, sizeof *K);
    open_holds = calloc(HOLDS_MAX, sizeof *open_holds);
    got = calloc(EVENTS_MAX, sizeof *got);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ab-model-XXXXXX");
    if (!H || !K || !open_holds || !got || !mkdtemp(tmpdir) || !(trace = tmpfile()))
        return 2;

    printf("test_model %s: seed %" PRIu64 ", %ld operations\n", kind, seed, nops);
    fflush(stdout);
    run_stats rs;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long fail_at = run(seed, nops, every, &rs);
    if (fail_at >= 0 && every > 1) /* events were compared in batches: find the exact operation */
        fail_at = run(seed, fail_at + 1, 1, &rs);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int rc = 0;
    if (fail_at >= 0) {
        char file[128];
        snprintf(file, sizeof file, "model-failure-%s-%" PRIu64 ".txt", kind, seed);
        FILE *f = fopen(file, "w");
        fprintf(
            stderr,
            "test_model %s: DIVERGENCE at operation %ld\n  seed %" PRIu64
            ", shortest failing prefix: %ld operations (rerun: test_model %s%s%s --seed %" PRIu64
            " --ops %ld)\n  %s\n  the last operations of the prefix:\n",
            kind, fail_at, seed, fail_at + 1, kind, pg_base[0] ? " " : "",
            pg_base[0] ? argv[2] : "", seed, fail_at + 1, failure);
        rewind(trace);
        char line[512];
        long n = 0;
        while (fgets(line, sizeof line, trace) && n <= fail_at) {
            if (f)
                fputs(line, f);
            if (n > fail_at - 25)
                fprintf(stderr, "  %s", line);
            n++;
        }
        if (f) {
            fclose(f);
            fprintf(stderr, "  the whole prefix: %s\n", file);
        }
        rc = 1;
    } else {
        double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        printf("{\"test\":\"model\",\"store\":\"%s\",\"seed\":%" PRIu64
               ",\"ops\":%ld,\"decisions\":%ld,\"denials\":%ld,\"status_reads\":%ld,"
               "\"holds\":%ld,\"expiries\":%ld,\"replays\":%ld,\"conflicts\":%ld,"
               "\"events\":%ld,\"seconds\":%.1f}\n",
               kind, seed, rs.ops, rs.decisions, rs.denials, rs.reads, rs.holds, rs.expiries,
               rs.replays, rs.conflicts, rs.events, s);
    }
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not remove %s\n", tmpdir);
    free(H);
    free(K);
    free(open_holds);
    free(got);
    return rc;
}
