/* copy.c — moving a whole store to another (an embedded install to a fleet): budgets with
 * their limits and counters, open holds, the event log, prices, roles, API tokens and
 * idempotency records, in one transaction on the target. Budget ids differ between stores, so holds
 * are re-pointed at the new ids. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define ID_MAP_MAX 1000000
#define COPY_TRIES 20 /* of a copy its target's writers made give way (see ab_store_copy) */

typedef struct {
    ab_store *from, *to;
    int force;
    ab_copy_stats *stats;
    int64_t *old_ids, *new_ids; /* budget id map, in insertion order */
    size_t n, cap;
    int rc;
} copy_ctx;

static int64_t map_id(const copy_ctx *c, int64_t old)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->old_ids[i] == old)
            return c->new_ids[i];
    return 0;
}

static int count_one(ab__budget *b, void *v)
{
    (void)b;
    (*(size_t *)v)++;
    return 1; /* one is enough */
}

static int count_event(const ab_event *e, void *v)
{
    (void)e;
    (*(size_t *)v)++;
    return 1;
}

static int count_price(const ab_price *p, void *v)
{
    (void)p;
    (*(size_t *)v)++;
    return 1;
}

static int count_role(const char *name, const char *spec, void *v)
{
    (void)name;
    (void)spec;
    (*(size_t *)v)++;
    return 1;
}

static int count_token(const ab_token *t, void *v)
{
    (void)t;
    (*(size_t *)v)++;
    return 1;
}

static int target_empty(ab_store *to, int *empty)
{
    size_t n = 0;
    int rc;
    ab_event_query q = {.limit = 1};
    if ((rc = to->ops->budget_list(to, NULL, count_one, &n)) < 0 ||
        (rc = to->ops->events_query(to, &q, count_event, &n)) < 0 ||
        (rc = to->ops->price_list(to, count_price, &n)) < 0 ||
        (rc = to->ops->role_list(to, count_role, &n)) < 0 ||
        (rc = to->ops->token_list(to, count_token, &n)) < 0)
        return rc;
    *empty = n == 0;
    return AB_OK;
}

static int copy_budget(ab__budget *b, void *v)
{
    copy_ctx *c = v;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        if (cap > ID_MAP_MAX)
            return ab__fail(c->to, AB_ELIMIT, "copy: more than %d budgets", ID_MAP_MAX);
        int64_t *o = realloc(c->old_ids, cap * sizeof *o), *n = NULL;
        if (o)
            c->old_ids = o;
        if (!o || !(n = realloc(c->new_ids, cap * sizeof *n)))
            return ab__fail(c->to, AB_ENOMEM, "out of memory");
        c->new_ids = n;
        c->cap = cap;
    }
    int64_t old = b->id;
    int rc = c->to->ops->budget_insert(c->to, b);
    if (rc)
        return rc;
    c->old_ids[c->n] = old;
    c->new_ids[c->n++] = b->id;
    c->stats->budgets++;
    return 0;
}

static int copy_holds(copy_ctx *c)
{
    char(*ids)[40] = malloc(sizeof(char[40]) * AB_HOLDS_OPEN_MAX);
    if (!ids)
        return ab__fail(c->to, AB_ENOMEM, "out of memory");
    int rc = AB_OK;
    for (size_t i = 0; i < c->n && !rc; i++) {
        size_t n;
        /* open holds only: settled ones live on as events */
        if ((rc =
                 c->from->ops->holds_of_budget(c->from, c->old_ids[i], ids, AB_HOLDS_OPEN_MAX, &n)))
            break;
        if (n == AB_HOLDS_OPEN_MAX) { /* only a store from before the limit can have more */
            rc = ab__fail(c->to, AB_ELIMIT,
                          "copy: a budget has %d or more open holds: commit or release some first",
                          AB_HOLDS_OPEN_MAX);
            break;
        }
        for (size_t k = 0; k < n && !rc; k++) {
            ab__hold h;
            if ((rc = c->from->ops->hold_get(c->from, ids[k], &h)))
                break;
            for (size_t j = 0; j < h.chain_len; j++)
                h.chain_ids[j] = map_id(c, h.chain_ids[j]);
            if ((rc = c->to->ops->hold_insert(c->to, &h)) == AB_OK)
                c->stats->holds++;
        }
    }
    free(ids);
    return rc;
}

static int copy_event(const ab_event *e, void *v)
{
    copy_ctx *c = v;
    ab_event copy = *e;
    int rc = c->to->ops->event_append(c->to, &copy);
    if (rc)
        return rc;
    c->stats->events++;
    c->stats->last_event_id = e->id;
    return 0;
}

static int copy_price(const ab_price *p, void *v)
{
    copy_ctx *c = v;
    int rc = c->to->ops->price_put(c->to, p);
    c->stats->prices += rc == AB_OK;
    return rc;
}

static int copy_role(const char *name, const char *spec, void *v)
{
    copy_ctx *c = v;
    int rc = c->to->ops->role_put(c->to, name, spec);
    c->stats->roles += rc == AB_OK;
    return rc;
}

typedef struct {
    char (*ids)[AB_TOKEN_ID_BYTES + 2];
    size_t n, cap;
} token_ids;

static int collect_token(const ab_token *t, void *v)
{
    token_ids *k = v;
    if (k->n == k->cap) {
        void *p = realloc(k->ids, (k->cap = k->cap ? 2 * k->cap : 64) * sizeof *k->ids);
        if (!p)
            return AB_ENOMEM;
        k->ids = p;
    }
    memcpy(k->ids[k->n++], t->id, sizeof *k->ids);
    return 0;
}

/* The tokens with their hashes, so that every secret made for the source works on the target
 * (a daemon moved to the copy keeps its agents and admins). */
static int copy_tokens(copy_ctx *c)
{
    token_ids k = {0};
    int rc = c->from->ops->token_list(c->from, collect_token, &k);
    if (rc == AB_ENOMEM)
        ab__fail(c->to, rc, "out of memory");
    for (size_t i = 0; i < k.n && !rc; i++) {
        ab_token t;
        char hash[65];
        if ((rc = c->from->ops->token_get(c->from, k.ids[i], &t, hash)) == AB_OK &&
            (rc = c->to->ops->token_put(c->to, &t, hash)) == AB_OK)
            c->stats->tokens++;
    }
    free(k.ids);
    return rc;
}

#define KEYS_PAGE 1000

typedef struct {
    copy_ctx *c;
    char last[AB_KEY_BYTES_MAX + 1];
    size_t got;
} keys_page;

static int copy_key(const char *key, const ab__idem *rec, void *v)
{
    keys_page *k = v;
    int rc = k->c->to->ops->idem_put(k->c->to, key, rec, rec->time_ms);
    if (rc)
        return rc;
    k->c->stats->keys++;
    k->got++;
    return ab__strlcpy(k->last, key, sizeof k->last) ? AB_ESTORE : 0;
}

/* The idempotency records, so that a request retried across the move is answered as the first
 * time instead of applied again. */
static int copy_keys(copy_ctx *c)
{
    keys_page k = {.c = c};
    int rc;
    do {
        k.got = 0;
        if ((rc = c->from->ops->idem_list(c->from, k.last, KEYS_PAGE, copy_key, &k)))
            return rc;
    } while (k.got);
    return AB_OK;
}

static int copy_all(copy_ctx *c)
{
    int rc, empty;
    if ((c->to->ops->exclusive && (rc = c->to->ops->exclusive(c->to))) ||
        (rc = target_empty(c->to, &empty)))
        return rc;
    if (!empty && !c->force)
        return ab__fail(c->to, AB_ECONFLICT,
                        "the target store is not empty: refusing to copy into it (force to "
                        "replace everything in it with the source's contents)");
    if (!empty && (rc = c->to->ops->wipe(c->to)))
        return rc;
    if ((rc = c->from->ops->budget_list(c->from, NULL, copy_budget, c)) || (rc = copy_holds(c)))
        return rc;
    ab_event_query q = {.limit = AB_EVENTS_PAGE_MAX};
    for (;;) {
        size_t before = c->stats->events;
        if ((rc = c->from->ops->events_query(c->from, &q, copy_event, c)))
            return rc;
        if (c->stats->events == before)
            break;
        q.after_id = c->stats->last_event_id;
    }
    if ((rc = c->from->ops->price_list(c->from, copy_price, c)) ||
        (rc = c->from->ops->role_list(c->from, copy_role, c)) || (rc = copy_tokens(c)))
        return rc;
    return copy_keys(c);
}

int ab_store_copy(ab_store *from, ab_store *to, int force, ab_copy_stats *stats)
{
    memset(stats, 0, sizeof *stats);
    if (from == to)
        return ab__fail(to, AB_EINVAL, "copy: the source and the target are the same handle");
    char id_from[256], id_to[256];
    if (from->ops == to->ops && from->ops->identity &&
        from->ops->identity(from, id_from, sizeof id_from) == AB_OK &&
        to->ops->identity(to, id_to, sizeof id_to) == AB_OK && !strcmp(id_from, id_to))
        return ab__fail(to, AB_EINVAL, "copy: the source and the target are the same store (%s)",
                        from->ops->scheme[0] == 's' ? "one file" : "one database");
    /* both handles' locks (recursive) in one order, the lower address first, whichever is the
     * source: copies A->B and B->A on two threads each held one and waited for the other */
    ab_store *first = (uintptr_t)from < (uintptr_t)to ? from : to,
             *second = first == from ? to : from;
    pthread_mutex_lock(&first->lock);
    pthread_mutex_lock(&second->lock);
    int rc;
    /* a target whose writers it gave way to (its tables not locked in time: store_pg.c's
     * pg_exclusive), or that aborted it, is copied into again, a little later each time */
    for (int attempt = 0;; attempt++) {
        copy_ctx c = {.from = from, .to = to, .force = force, .stats = stats};
        memset(stats, 0, sizeof *stats);
        if ((rc = ab__txn_begin(from, 0))) {
            ab__strlcpy(to->errmsg, from->errmsg, sizeof to->errmsg);
            break;
        }
        if ((rc = ab__txn_begin(to, 1))) {
            ab__txn_finish(from, rc);
            break;
        }
        rc = copy_all(&c);
        if (rc && !to->errmsg[0] && from->errmsg[0])
            ab__strlcpy(to->errmsg, from->errmsg, sizeof to->errmsg);
        rc = ab__txn_end(to, rc);
        ab__txn_finish(from, rc ? AB_EBUSY : AB_OK);
        free(c.old_ids);
        free(c.new_ids);
        if (rc != AB__ERETRY)
            break;
        if (attempt + 1 >= COPY_TRIES) {
            char last[sizeof to->errmsg];
            ab__strlcpy(last, to->errmsg, sizeof last);
            rc = ab__fail(to, AB_EBUSY,
                          "copy: the target's writers kept it from locking the target (%d tries; "
                          "%s): stop them and try again",
                          COPY_TRIES, last);
            break;
        }
        struct timespec ts = {0, (long)(20000000 * (attempt + 1) + rand() % 20000000)};
        nanosleep(&ts, NULL);
    }
    if (rc)
        memset(stats, 0, sizeof *stats);
    pthread_mutex_unlock(&second->lock);
    pthread_mutex_unlock(&first->lock);
    return rc;
}
