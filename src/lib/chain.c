/* chain.c — the machinery every budget operation runs on: one transaction, the chain of budgets
 * (leaf and ancestors) loaded once, windows rolled over lazily, expired holds swept, dirty
 * budgets written back, and idempotency records. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

void ab__inject_aborts(ab_store *st, int n)
{
    pthread_mutex_lock(&st->lock);
    st->aborts_to_inject = n;
    pthread_mutex_unlock(&st->lock);
}

int ab__txn_begin(ab_store *st, int write)
{
    pthread_mutex_lock(&st->lock);
    if (st->walking) { /* only the walk's own thread gets here while it runs: its callback */
        pthread_mutex_unlock(&st->lock);
        return ab__walk_refused(st);
    }
    st->errmsg[0] = '\0';
    if (st->read_group == 1) {
        if (!write)
            return AB_OK;      /* the group's read transaction */
        st->ops->rollback(st); /* it read only: ended, the write runs in its own */
        st->read_group = 2;
    }
    if (st->batch_void) {
        pthread_mutex_unlock(&st->lock);
        return ab__fail(st, AB_EREPLAY,
                        "the batch was voided by an earlier operation: run it again");
    }
    /* inside a group commit each operation is a savepoint of the open write transaction */
    int rc = st->batch ? st->ops->savepoint(st) : st->ops->begin(st, write);
    if (rc == AB_EREPLAY && st->batch) { /* the store lost the batch's transaction */
        st->ops->rollback(st);
        st->batch_void = 1;
    }
    if (rc)
        pthread_mutex_unlock(&st->lock);
    return rc;
}

int ab__txn_end(ab_store *st, int rc)
{
    if (st->read_group == 1) {
        /* the group's transaction stays open, unless the call failed (nothing was written: an
         * upgrade to a write begins anew, ab__txn_begin) */
        if (rc != AB_OK && rc != AB__EUPGRADE) {
            st->ops->rollback(st);
            st->read_group = 2;
        }
    } else if (st->batch) {
        if (rc == AB_OK)
            rc = st->ops->savepoint_release(st);
        else if (rc == AB__ERETRY || st->ops->savepoint_rollback(st) != AB_OK) {
            /* a flat batch that cannot undo this operation alone: none of it happens. Nor in
             * any batch when the store aborted the operation (a deadlock): retried in place, it
             * would wait again on the rows the batch's earlier operations hold locked, behind the
             * same writer, and deadlock again — each time after the server's deadlock_timeout,
             * up to AB__RETRIES_MAX times, with every writer of the tree stuck behind it. Rolled
             * back, its locks go; run alone, each operation locks in the one order. */
            st->ops->rollback(st);
            st->batch_void = 1;
            rc = ab__fail(st, AB_EREPLAY, "the batch was rolled back (%s: %s): run it again",
                          rc == AB__ERETRY ? "the store aborted the transaction" : ab_strerror(rc),
                          st->errmsg);
        }
    } else if (rc == AB_OK) {
        rc = st->ops->commit(st);
    } else {
        st->ops->rollback(st);
    }
    pthread_mutex_unlock(&st->lock);
    return rc;
}

int ab__txn_finish(ab_store *st, int rc)
{
    rc = ab__txn_end(st, rc);
    if (rc == AB__ERETRY)
        rc = ab__fail(st, AB_EBUSY,
                      "the store aborted the transaction because of a concurrent writer (%s): "
                      "try again",
                      st->errmsg);
    return rc;
}

int ab__roll(ab__budget *b, int64_t now_ms)
{
    int changed = 0;
    int64_t day = ab__day_start(now_ms);
    if (day > b->s.day_start_ms) {
        for (int m = 0; m < AB_METRIC_COUNT; m++)
            b->s.used[AB_WINDOW_DAY][m] = 0;
        b->s.day_start_ms = day;
        b->s.last_reset_ms = day;
        changed = 1;
    }
    int64_t month = ab__month_start(now_ms);
    if (month > b->s.month_start_ms) {
        for (int m = 0; m < AB_METRIC_COUNT; m++)
            b->s.used[AB_WINDOW_MONTH][m] = 0;
        b->s.month_start_ms = month;
        changed = 1;
    }
    return changed;
}

void ab__budget_ints(ab__budget *b, int64_t *out[AB__BUDGET_INTS])
{
    int64_t *fixed[AB__BUDGET_FIXED] = {&b->s.held[0],
                                        &b->s.held[1],
                                        &b->s.held[2],
                                        &b->s.holds_open,
                                        &b->s.operations_blocked,
                                        &b->s.created_at_ms,
                                        &b->s.session_reset_ms,
                                        &b->s.day_start_ms,
                                        &b->s.month_start_ms,
                                        &b->s.last_reset_ms,
                                        &b->s.updated_at_ms,
                                        &b->next_expiry_ms};
    size_t n = 0;
    for (; n < AB__BUDGET_FIXED; n++)
        out[n] = fixed[n];
    for (int w = 0; w < AB_WINDOW_COUNT; w++)
        for (int m = 0; m < AB_METRIC_COUNT; m++) {
            out[n++] = &b->s.limit[w][m];
            out[n++] = &b->s.used[w][m];
        }
}

void ab__ctx_dirty(ab__ctx *c, const ab__budget *b)
{
    c->dirty[b - c->b] = true;
}

/* Keeps the budget loaded into the next free place of c, rolled forward to now. */
static ab__budget *ctx_keep(ab__ctx *c)
{
    ab__budget *b = &c->b[c->n];
    c->dirty[c->n++] = ab__roll(b, c->now_ms) != 0;
    return b;
}

static int ctx_add(ab__ctx *c, const ab__budget *b, ab__budget **out)
{
    if (c->n >= AB__CTX_BUDGETS_MAX)
        return ab__fail(c->st, AB_ELIMIT, "one operation touched more than %d budgets",
                        AB__CTX_BUDGETS_MAX);
    c->b[c->n] = *b;
    *out = ctx_keep(c);
    return AB_OK;
}

/* Makes room in a full context: the budgets past the chain (those that closing expired holds
 * touched) are written back now and dropped; touching one again reloads it from the open
 * transaction. Without this, an operation on a budget with more expired holds below it than the
 * context holds would fail, and keep failing: every later one would find the same holds. */
static int ctx_evict(ab__ctx *c)
{
    for (size_t i = c->chain_len; i < c->n; i++) {
        if (!c->dirty[i])
            continue;
        c->b[i].s.updated_at_ms = c->now_ms;
        int rc = c->st->ops->budget_update(c->st, &c->b[i]);
        if (rc)
            return rc;
        c->dirty[i] = false;
    }
    c->n = c->chain_len;
    return AB_OK;
}

int ab__ctx_budget(ab__ctx *c, int64_t id, ab__budget **out)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->b[i].id == id) {
            *out = &c->b[i];
            return AB_OK;
        }
    ab__budget b;
    int rc = c->st->ops->budget_get_id(c->st, id, &b);
    if (rc)
        return rc;
    if (c->n == AB__CTX_BUDGETS_MAX && c->write && (rc = ctx_evict(c)))
        return rc;
    return ctx_add(c, &b, out);
}

int ab__hold_close(ab__ctx *c, ab__hold *h, int state)
{
    const int64_t amount[AB_METRIC_COUNT] = {h->h.tokens, h->h.cost_nusd, h->requests};
    for (size_t i = 0; i < h->chain_len; i++) {
        ab__budget *b;
        int rc = ab__ctx_budget(c, h->chain_ids[i], &b);
        if (rc == AB_ENOTFOUND)
            continue;
        if (rc)
            return rc;
        for (int m = 0; m < AB_METRIC_COUNT; m++)
            b->s.held[m] -= amount[m];
        b->s.holds_open--;
        ab__ctx_dirty(c, b);
    }
    h->h.state = state;
    return c->st->ops->hold_set_state(c->st, h->h.id, state);
}

/* Expires the open holds counted in b whose TTL has passed, then recomputes b's next expiry. */
static int sweep(ab__ctx *c, size_t idx)
{
    ab_store *st = c->st;
    char ids[AB__SWEEP_BATCH][40];
    size_t n;
    do {
        int rc = st->ops->holds_expired(st, c->b[idx].id, c->now_ms, ids, AB__SWEEP_BATCH, &n);
        if (rc)
            return rc;
        for (size_t i = 0; i < n; i++) {
            ab__hold h;
            if ((rc = st->ops->hold_get(st, ids[i], &h)))
                return rc;
            if (h.h.state != 0) /* settled by a writer that got its lock first */
                continue;
            if ((rc = ab__hold_close(c, &h, 3)))
                return rc;
            ab_event e;
            ab__event_init(st, &e, h.h.budget, "expire", c->now_ms);
            ab__strlcpy(e.hold_id, h.h.id, sizeof e.hold_id);
            ab__strlcpy(e.model, h.h.model, sizeof e.model);
            e.tokens = h.h.tokens;
            e.cost_nusd = h.h.cost_nusd;
            if ((rc = st->ops->event_append(st, &e)))
                return rc;
        }
    } while (n == AB__SWEEP_BATCH);
    int rc = st->ops->holds_min_expiry(st, c->b[idx].id, &c->b[idx].next_expiry_ms);
    c->dirty[idx] = true;
    return rc;
}

static int chain_sweep(ab__ctx *c);

/* The chain in one store round trip (stores that offer it). */
static int chain_load_one_trip(ab__ctx *c, const char *path, int leaf_optional)
{
    char bufs[AB_PATH_SEGMENTS_MAX][AB_PATH_BYTES_MAX + 1];
    const char *paths[AB_PATH_SEGMENTS_MAX];
    ab__budget found[AB_PATH_SEGMENTS_MAX];
    size_t n = 0, nfound = 0;
    ab__strlcpy(bufs[0], path, sizeof bufs[0]);
    for (;;) {
        paths[n] = bufs[n];
        char *slash = strrchr(bufs[n], '/');
        n++;
        if (!slash || n == AB_PATH_SEGMENTS_MAX)
            break;
        memcpy(bufs[n], bufs[n - 1], (size_t)(slash - bufs[n - 1]));
        bufs[n][slash - bufs[n - 1]] = '\0';
    }
    int rc = c->st->ops->budget_get_chain(c->st, paths, n, found, &nfound);
    if (rc)
        return rc;
    if (!leaf_optional && (nfound == 0 || strcmp(found[0].s.path, path) != 0))
        return ab__fail(c->st, AB_ENOTFOUND, "no budget '%s'", path);
    for (size_t i = 0; i < nfound; i++) {
        ab__budget *slot;
        if ((rc = ctx_add(c, &found[i], &slot)))
            return rc;
    }
    c->chain_len = c->n;
    return AB_OK;
}

int ab__chain_load(ab__ctx *c, const char *path, int leaf_optional)
{
    ab_store *st = c->st;
    if (ab_path_validate(path))
        return ab__fail(st, AB_EINVAL,
                        "budget path '%s': segments of [A-Za-z0-9._:@-], 1-%d bytes each, at most "
                        "%d segments, no '.' or '..'",
                        path, AB_PATH_SEGMENT_BYTES_MAX, AB_PATH_SEGMENTS_MAX);
    char buf[AB_PATH_BYTES_MAX + 1];
    ab__strlcpy(buf, path, sizeof buf);
    c->n = c->chain_len = 0;
    if (st->ops->budget_get_chain) {
        int rc = chain_load_one_trip(c, path, leaf_optional);
        if (rc)
            return rc;
        return chain_sweep(c);
    }
    /* leaf first, then each ancestor that exists, each read straight into its place in c (a
     * chain starts c and fits it) */
    _Static_assert(AB_PATH_SEGMENTS_MAX <= AB__CTX_BUDGETS_MAX, "a chain fits the context");
    for (size_t len = strlen(buf);;) {
        int rc = st->ops->budget_get(st, buf, &c->b[c->n]);
        if (rc == AB_OK) {
            ctx_keep(c);
        } else if (rc != AB_ENOTFOUND) {
            return rc;
        } else if (c->n == 0 && len == strlen(path) && !leaf_optional) {
            return ab__fail(st, AB_ENOTFOUND, "no budget '%s'", path);
        }
        char *slash = strrchr(buf, '/');
        if (!slash)
            break;
        *slash = '\0';
        len = (size_t)(slash - buf);
    }
    c->chain_len = c->n;
    return chain_sweep(c);
}

/* Sweeps the expired holds of the chain (a write transaction is needed for that). */
static int chain_sweep(ab__ctx *c)
{
    for (size_t i = 0; i < c->chain_len; i++) {
        if (c->b[i].next_expiry_ms > c->now_ms)
            continue;
        if (!c->write)
            return AB__EUPGRADE;
        int rc = sweep(c, i);
        if (rc)
            return rc;
    }
    return AB_OK;
}

int ab__ctx_flush(ab__ctx *c)
{
    for (size_t i = 0; i < c->n; i++) {
        if (!c->dirty[i])
            continue;
        c->b[i].s.updated_at_ms = c->now_ms;
        int rc = c->st->ops->budget_update(c->st, &c->b[i]);
        if (rc)
            return rc;
    }
    return AB_OK;
}

int ab__run(ab_store *st, int write, ab__op_fn fn, void *args)
{
    ab__ctx ctx; /* about 36 KiB: on the stack, so nothing to free and nothing shared */
    ab__ctx *c = &ctx;
    for (int attempt = 0;; attempt++) {
        int rc = ab__txn_begin(st, write);
        if (rc)
            return rc;
        c->st = st;
        c->write = write || st->batch; /* a batch is a write transaction already */
        c->now_ms = ab__now(st);
        c->n = c->chain_len = 0;
        memset(c->dirty, 0, sizeof c->dirty);
        rc = fn(c, args);
        if (rc == AB__EUPGRADE && !write) {
            ab__txn_end(st, rc);
            write = 1;
            continue;
        }
        /* c->write, not write: inside a group commit a read runs as a write too (it may sweep
         * expired holds, a check may count a denial), and what it changed must be kept */
        if (rc == AB_OK && c->write)
            rc = ab__ctx_flush(c);
        if (rc == AB_OK && st->aborts_to_inject > 0 && !st->batch) {
            st->aborts_to_inject--;
            rc = AB__ERETRY;
        }
        rc = ab__txn_end(st, rc);
        if (rc != AB__ERETRY)
            return rc;
        if (attempt >= AB__RETRIES_MAX)
            return ab__fail(st, AB_EBUSY, "the store kept aborting the transaction (%d tries)",
                            attempt + 1);
        /* back off a little, more each time, so that racing writers spread out */
        struct timespec ts = {0, (long)(100000 * (attempt + 1) + rand() % 100000)};
        nanosleep(&ts, NULL);
    }
}

int ab__key_validate(ab_store *st, const char *key)
{
    if (!key)
        return AB_OK;
    size_t n = strlen(key);
    if (n == 0 || n > AB_KEY_BYTES_MAX)
        return ab__fail(st, AB_EINVAL, "key: must be 1-%d bytes", AB_KEY_BYTES_MAX);
    for (size_t i = 0; i < n; i++)
        if (key[i] < '!' || key[i] > '~')
            return ab__fail(st, AB_EINVAL, "key: only printable ASCII without spaces");
    return AB_OK;
}

/* The first answer, serialised: numbers, then the strings, reason last (it may hold '|'). */
static void decision_encode(const ab_decision *d, char *out, size_t size)
{
    snprintf(out, size,
             "%d|%d|%d|%d|%" PRId64 "|%" PRId64 "|%" PRId64 "|%" PRId64 "|%" PRId64 "|%" PRId64
             "|%s|%s|%s",
             d->allowed, d->over, (int)d->metric, (int)d->window, d->limit, d->used, d->requested,
             d->remaining, d->cost_nusd, d->tokens, d->hold_id, d->budget, d->reason);
}

static int decision_decode(const char *s, ab_decision *d)
{
    ab__decision_clear(d);
    int metric, window, pos = 0;
    if (sscanf(s,
               "%d|%d|%d|%d|%" SCNd64 "|%" SCNd64 "|%" SCNd64 "|%" SCNd64 "|%" SCNd64 "|%" SCNd64
               "|%n",
               &d->allowed, &d->over, &metric, &window, &d->limit, &d->used, &d->requested,
               &d->remaining, &d->cost_nusd, &d->tokens, &pos) != 10 ||
        pos == 0)
        return AB_ESTORE;
    d->metric = (ab_metric)metric;
    d->window = (ab_window)window;
    const char *p = s + pos, *bar = strchr(p, '|');
    if (!bar || (size_t)(bar - p) >= sizeof d->hold_id)
        return AB_ESTORE;
    memcpy(d->hold_id, p, (size_t)(bar - p));
    p = bar + 1;
    if (!(bar = strchr(p, '|')) || (size_t)(bar - p) >= sizeof d->budget)
        return AB_ESTORE;
    memcpy(d->budget, p, (size_t)(bar - p));
    ab__strlcpy(d->reason, bar + 1, sizeof d->reason);
    return AB_OK;
}

/* The parameters as a record keeps them: as they are when they fit, else "#" and 128 bits of
 * hash of all of them (two FNV-1a-64 of different bases), never a cut copy, in which two
 * requests that differ only past the cut would read alike. */
static void params_stored(const char *params, char out[1024])
{
    size_t n = strlen(params);
    if (n < 1000) {
        memcpy(out, params, n + 1);
        return;
    }
    uint64_t h1 = 1469598103934665603ULL, h2 = 0x9e3779b97f4a7c15ULL;
    for (size_t i = 0; i < n; i++) {
        h1 = (h1 ^ (unsigned char)params[i]) * 1099511628211ULL;
        h2 = (h2 ^ (unsigned char)params[i]) * 0x100000001b3ULL + i;
    }
    snprintf(out, 1024, "#%zu:%016" PRIx64 "%016" PRIx64, n, h1, h2);
}

int ab__idem_check(ab_store *st, const char *key, const char *params, ab_decision *out,
                   int *replayed)
{
    *replayed = 0;
    if (!key)
        return AB_OK;
    char stored[1024];
    params_stored(params, stored);
    params = stored;
    ab__idem rec;
    int rc = st->ops->idem_get(st, key, &rec);
    if (rc == AB_ENOTFOUND)
        return AB_OK;
    if (rc)
        return rc;
    if (strcmp(rec.params, params) != 0)
        return ab__fail(st, AB_ECONFLICT,
                        "key '%s' was already used for a different request (another operation, "
                        "budget, hold or usage): use a new key",
                        key);
    if (decision_decode(rec.result, out))
        return ab__fail(st, AB_ESTORE, "idempotency record of key '%s' is corrupt", key);
    out->replayed = 1;
    *replayed = 1;
    return AB_OK;
}

int ab__idem_save(ab_store *st, const char *key, const char *params, const ab_decision *d,
                  int64_t now_ms)
{
    if (!key)
        return AB_OK;
    ab__idem rec;
    params_stored(params, rec.params);
    decision_encode(d, rec.result, sizeof rec.result);
    return st->ops->idem_put(st, key, &rec, now_ms);
}
