/* store_memory.c — the in-process store (memory:): hash maps under the handle's lock, with an
 * undo log so that a failed operation leaves nothing behind, as a database would. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- a string-keyed open-addressing hash map of pointers ---- */

/* One slot: hash, key and value side by side, so that a probe costs one cache line. */
typedef struct {
    uint64_t hash; /* compared before the key: a probe does not touch the key's memory */
    char *key;     /* NULL empty, TOMB removed */
    void *val;
} map_entry;

typedef struct {
    map_entry *slots;
    size_t cap, count, tombs;
} map;

static char TOMB[1];

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* The slot holding key, else (for_insert) the first free one on its probe sequence, else the
 * empty slot that ended the probe. */
static size_t map_slot_h(const map *m, const char *key, uint64_t h, int for_insert)
{
    size_t mask = m->cap - 1, i = h & mask, tomb = SIZE_MAX;
    for (;; i = (i + 1) & mask) {
        const map_entry *e = &m->slots[i];
        if (!e->key)
            return for_insert && tomb != SIZE_MAX ? tomb : i;
        if (e->key == TOMB) {
            if (tomb == SIZE_MAX)
                tomb = i;
        } else if (e->hash == h && strcmp(e->key, key) == 0) {
            return i;
        }
    }
}

static int slot_live(const map_entry *e)
{
    return e->key && e->key != TOMB;
}

static void *map_get(const map *m, const char *key)
{
    if (!m->cap)
        return NULL;
    const map_entry *e = &m->slots[map_slot_h(m, key, hash_str(key), 0)];
    return e->key ? e->val : NULL;
}

static int map_grow(map *m)
{
    map n = {0};
    n.cap = m->cap ? m->cap * 2 : 64;
    while ((m->count + 1) * 2 > n.cap)
        n.cap *= 2;
    if (!(n.slots = calloc(n.cap, sizeof *n.slots)))
        return AB_ENOMEM;
    for (size_t i = 0; i < m->cap; i++)
        if (slot_live(&m->slots[i])) {
            n.slots[map_slot_h(&n, m->slots[i].key, m->slots[i].hash, 1)] = m->slots[i];
            n.count++;
        }
    free(m->slots);
    *m = n;
    return AB_OK;
}

/* Sets key to val (NULL removes); *old receives the previous value. own_key: the map keeps (and
 * frees) a copy of the key; else the key is the caller's and must live as long as the entry. */
static int map_set(map *m, const char *key, void *val, void **old, int own_key)
{
    *old = NULL;
    if ((m->count + m->tombs + 1) * 4 > m->cap * 3 && map_grow(m))
        return AB_ENOMEM;
    uint64_t h = hash_str(key);
    map_entry *e = &m->slots[map_slot_h(m, key, h, 1)];
    if (slot_live(e)) {
        *old = e->val;
        if (val) {
            e->val = val;
        } else {
            if (own_key)
                free(e->key);
            e->key = TOMB;
            e->val = NULL;
            m->count--;
            m->tombs++;
        }
        return AB_OK;
    }
    if (!val)
        return AB_OK;
    char *k = own_key ? strdup(key) : (char *)key;
    if (!k)
        return AB_ENOMEM;
    if (e->key == TOMB)
        m->tombs--;
    *e = (map_entry){h, k, val};
    m->count++;
    return AB_OK;
}

static int map_put(map *m, const char *key, void *val, void **old)
{
    return map_set(m, key, val, old, 1);
}

static void map_free(map *m, int free_vals, int free_keys)
{
    for (size_t i = 0; i < m->cap; i++)
        if (slot_live(&m->slots[i])) {
            if (free_keys)
                free(m->slots[i].key);
            if (free_vals)
                free(m->slots[i].val);
        }
    free(m->slots);
}

/* ---- the store ---- */

/* An event kept compactly: strings interned or duplicated, NULL when empty. */
typedef struct {
    int64_t id, time_ms, tokens, cost_nusd;
    ab_usage usage;
    int allowed;
    int hold_id_owned;                       /* hold_id is a copy, else the hold's own id */
    const char *budget, *op, *model, *actor; /* interned */
    const char *hold_id;
    char *reason, *key; /* owned */
} mem_event;

/* A hold kept compactly (about 200 bytes, not ab__hold's 850, as every hold stays): strings
 * interned, NULL when empty. */
typedef struct {
    char id[AB_HOLD_ID_BYTES + 2];
    int state;      /* changed only by hold_state() */
    size_t open_at; /* its place in the open holds + 1, 0 if not there */
    const char *budget, *model;
    int64_t tokens, cost_nusd, created_at_ms, expires_at_ms, requests;
    ab_usage usage;
    int64_t chain_ids[AB_PATH_SEGMENTS_MAX];
    size_t chain_len;
} mem_hold;

/* Holds live in chunks that never move (no allocation per hold); only the last one made is
 * ever taken back (an undone insert, in the undo log's order). */
#define HOLDS_PER_CHUNK 4096

typedef enum {
    UNDO_MAP,     /* m[key] was old: put it back (and by_id for budgets) */
    UNDO_STATE,   /* hold's state was state_old */
    UNDO_BUDGET,  /* *budget was saved[saved_at] */
    UNDO_HOLD_NEW /* hold was made (the chunks' last): its id maps to old again */
} undo_kind;

typedef struct {
    undo_kind kind;
    map *m;
    char *key;     /* owned copy */
    void *old;     /* previous value (UNDO_MAP: owned by the undo entry until rollback) */
    int64_t by_id; /* budgets: id slot to restore (0: none) */
    int state_old;
    ab__budget *budget;
    size_t saved_at;
    mem_hold *hold;
} undo;

#define INTERN_RECENT 2
enum { RECENT_BUDGET, RECENT_OP, RECENT_MODEL, RECENT_ACTOR, RECENT_FIELDS };

typedef struct mem {
    map budgets; /* path -> ab__budget* */
    ab__budget **by_id;
    size_t by_id_len, by_id_cap;
    /* where holds are found: those whose id this handle made by the id's counter (see
     * ab__hold_id_counter: no hashing, and nothing to grow but an array), any other (copied from
     * another store) by id in the map, whose key is the hold's own id */
    mem_hold **own;
    size_t own_cap;
    map holds;
    mem_hold **open; /* the open holds, in no order: what holds_walk looks at */
    size_t open_len, open_cap;
    mem_hold **hold_chunks;
    size_t holds_len, hold_chunks_len, hold_chunks_cap;
    mem_hold *hold_last; /* the hold last found or made: commit finds its reserve's at once */
    const char *recent[RECENT_FIELDS][INTERN_RECENT]; /* see intern() */
    map idem;                                         /* key -> ab__idem* */
    map prices;                                       /* model -> ab_price* */
    map roles;                                        /* name -> char* spec */
    map strings;                                      /* interned strings -> themselves */
    mem_event *events;
    size_t events_len, events_cap;
    undo *undo;
    size_t undo_len, undo_cap;
    ab__budget *saved; /* old contents of budgets changed in place, reused across txns */
    size_t saved_len, saved_cap;
    size_t sp_undo, sp_events; /* the open savepoint (group commit) */
    map tokens;                /* id -> mem_token* */
    size_t events_at_begin;
    int in_txn;
    struct mem *wiped; /* what a wipe in this transaction removed, until commit or rollback */
} mem;

#define M(st) ((mem *)(st)->impl)

/* The interned copy of s; NULL if s is NULL or "" (or if out of memory). recent: the last
 * strings interned for the same field (budget, op, …), looked at before the map, as an
 * operation's events and hold repeat them. */
static const char *intern(mem *m, const char *s, const char **recent)
{
    if (!s || !*s)
        return NULL;
    for (int i = 0; i < INTERN_RECENT; i++)
        if (recent[i] && strcmp(recent[i], s) == 0)
            return recent[i];
    const char *p = map_get(&m->strings, s);
    if (!p) {
        char *copy = strdup(s);
        void *old;
        if (!copy || map_put(&m->strings, s, copy, &old)) {
            free(copy);
            return NULL;
        }
        p = copy;
    }
    memmove(recent + 1, recent, (INTERN_RECENT - 1) * sizeof *recent);
    recent[0] = p;
    return p;
}

/* A growing array (arr, *cap elements of size bytes) with room for need: arr itself, or arr
 * moved and grown by doubling (from first), its new elements zeroed if zero; NULL if out of
 * memory (arr and *cap unchanged). */
static void *room(void *arr, size_t *cap, size_t need, size_t size, size_t first, int zero)
{
    if (need <= *cap)
        return arr;
    size_t n = *cap ? *cap * 2 : first;
    while (n < need)
        n *= 2;
    char *p = realloc(arr, n * size);
    if (!p)
        return NULL;
    if (zero)
        memset(p + *cap * size, 0, (n - *cap) * size);
    *cap = n;
    return p;
}

/* Makes room for one more undo entry. */
static int undo_grow(mem *m)
{
    undo *u = room(m->undo, &m->undo_cap, m->undo_len + 1, sizeof *u, 32, 0);
    if (!u)
        return AB_ENOMEM;
    m->undo = u;
    return AB_OK;
}

static int undo_push(mem *m, map *mp, const char *key, void *old, int64_t by_id)
{
    if (undo_grow(m))
        return AB_ENOMEM;
    char *k = strdup(key);
    if (!k)
        return AB_ENOMEM;
    m->undo[m->undo_len++] =
        (undo){.kind = UNDO_MAP, .m = mp, .key = k, .old = old, .by_id = by_id};
    return AB_OK;
}

/* Puts val under key and remembers the old value for rollback. */
static int put_logged(ab_store *st, map *mp, const char *key, void *val, int64_t by_id)
{
    mem *m = M(st);
    void *old;
    if (map_put(mp, key, val, &old))
        return ab__fail(st, AB_ENOMEM, "out of memory");
    if (undo_push(m, mp, key, old, by_id)) {
        void *ignored;
        map_put(mp, key, old, &ignored);
        return ab__fail(st, AB_ENOMEM, "out of memory");
    }
    return AB_OK;
}

static void event_free(mem_event *e)
{
    free(e->reason);
    if (e->hold_id_owned)
        free((char *)e->hold_id);
    free(e->key);
}

/* Frees the data (not the transaction state). */
static void mem_free_data(mem *m)
{
    map_free(&m->budgets, 1, 1);
    free(m->by_id);
    free(m->own);
    map_free(&m->holds, 0, 0);
    free(m->open);
    for (size_t i = 0; i < m->hold_chunks_len; i++)
        free(m->hold_chunks[i]);
    free(m->hold_chunks);
    map_free(&m->idem, 1, 1);
    map_free(&m->prices, 1, 1);
    map_free(&m->roles, 1, 1);
    map_free(&m->tokens, 1, 1);
    map_free(&m->strings, 1, 1);
    for (size_t i = 0; i < m->events_len; i++)
        event_free(&m->events[i]);
    free(m->events);
}

/* Moves the data of from into to, leaving from's transaction state alone. */
static void mem_move_data(mem *to, mem *from)
{
    to->budgets = from->budgets;
    to->by_id = from->by_id;
    to->by_id_len = from->by_id_len;
    to->by_id_cap = from->by_id_cap;
    to->own = from->own;
    to->own_cap = from->own_cap;
    to->holds = from->holds;
    to->open = from->open;
    to->open_len = from->open_len;
    to->open_cap = from->open_cap;
    to->hold_chunks = from->hold_chunks;
    to->holds_len = from->holds_len;
    to->hold_chunks_len = from->hold_chunks_len;
    to->hold_chunks_cap = from->hold_chunks_cap;
    to->hold_last = from->hold_last;
    memcpy(to->recent, from->recent, sizeof to->recent);
    to->idem = from->idem;
    to->prices = from->prices;
    to->roles = from->roles;
    to->tokens = from->tokens;
    to->strings = from->strings;
    to->events = from->events;
    to->events_len = from->events_len;
    to->events_cap = from->events_cap;
}

static int mem_begin(ab_store *st, int write)
{
    (void)write;
    mem *m = M(st);
    m->undo_len = 0;
    m->saved_len = 0;
    m->events_at_begin = m->events_len;
    m->in_txn = 1;
    return AB_OK;
}

static int mem_commit(ab_store *st)
{
    mem *m = M(st);
    for (size_t i = 0; i < m->undo_len; i++) {
        if (m->undo[i].kind != UNDO_MAP)
            continue;
        free(m->undo[i].old);
        free(m->undo[i].key);
    }
    m->undo_len = 0;
    m->in_txn = 0;
    if (m->wiped) {
        mem_free_data(m->wiped);
        free(m->wiped);
        m->wiped = NULL;
    }
    return AB_OK;
}

static void hold_unmake(ab_store *st, mem_hold *h, mem_hold *old);
static void hold_state(mem *m, mem_hold *h, int state);

/* Undoes the changes logged after the marks (a savepoint, or the whole transaction). */
static void undo_to(ab_store *st, size_t undo_mark, size_t events_mark)
{
    mem *m = M(st);
    while (m->undo_len > undo_mark) {
        undo *u = &m->undo[--m->undo_len];
        if (u->kind == UNDO_STATE) {
            hold_state(m, u->hold, u->state_old);
            continue;
        }
        if (u->kind == UNDO_BUDGET) {
            *u->budget = m->saved[u->saved_at];
            continue;
        }
        if (u->kind == UNDO_HOLD_NEW) {
            hold_unmake(st, u->hold, u->old);
            continue;
        }
        void *cur;
        map_put(u->m, u->key, u->old, &cur);
        if (u->m == &m->budgets && u->by_id)
            m->by_id[u->by_id - 1] = u->old;
        if (cur != u->old)
            free(cur);
        free(u->key);
    }
    while (m->events_len > events_mark)
        event_free(&m->events[--m->events_len]);
}

static void mem_rollback(ab_store *st)
{
    mem *m = M(st);
    undo_to(st, 0, m->events_at_begin);
    if (m->wiped) {
        mem_free_data(m);
        mem_move_data(m, m->wiped);
        free(m->wiped);
        m->wiped = NULL;
    }
    m->in_txn = 0;
}

static int mem_wipe(ab_store *st)
{
    mem *m = M(st);
    if (m->undo_len || m->events_len != m->events_at_begin || m->wiped)
        return ab__fail(st, AB_ESTORE, "memory: a wipe must come first in its transaction");
    if (!(m->wiped = calloc(1, sizeof *m->wiped)))
        return ab__fail(st, AB_ENOMEM, "out of memory");
    mem_move_data(m->wiped, m);
    mem empty = {0};
    mem_move_data(m, &empty);
    m->events_at_begin = 0;
    return AB_OK;
}

static void mem_close(ab_store *st)
{
    mem *m = M(st);
    if (!m)
        return;
    mem_free_data(m);
    if (m->wiped) {
        mem_free_data(m->wiped);
        free(m->wiped);
    }
    free(m->undo);
    free(m->saved);
    free(m);
}

static int mem_schema_version(ab_store *st, int *out)
{
    (void)st;
    *out = AB_SCHEMA_VERSION;
    return AB_OK;
}

static int mem_budget_get(ab_store *st, const char *path, ab__budget *out)
{
    ab__budget *b = map_get(&M(st)->budgets, path);
    if (!b)
        return AB_ENOTFOUND;
    *out = *b;
    return AB_OK;
}

static int mem_budget_get_id(ab_store *st, int64_t id, ab__budget *out)
{
    mem *m = M(st);
    if (id < 1 || (size_t)id > m->by_id_len || !m->by_id[id - 1])
        return AB_ENOTFOUND;
    *out = *m->by_id[id - 1];
    return AB_OK;
}

/* Replaces (or with b NULL removes) the budget at path/id, logged for rollback. */
static int budget_replace(ab_store *st, const char *path, int64_t id, const ab__budget *b)
{
    mem *m = M(st);
    ab__budget *copy = NULL;
    if (b && !(copy = malloc(sizeof *copy)))
        return ab__fail(st, AB_ENOMEM, "out of memory");
    if (b)
        *copy = *b;
    int rc = put_logged(st, &m->budgets, path, copy, id);
    if (rc) {
        free(copy);
        return rc;
    }
    m->by_id[id - 1] = copy;
    return AB_OK;
}

static int mem_budget_insert(ab_store *st, ab__budget *b)
{
    mem *m = M(st);
    ab__budget **p = room(m->by_id, &m->by_id_cap, m->by_id_len + 1, sizeof *p, 64, 0);
    if (!p)
        return ab__fail(st, AB_ENOMEM, "out of memory");
    m->by_id = p;
    m->by_id[m->by_id_len++] = NULL; /* ids are never reused */
    b->id = (int64_t)m->by_id_len;
    return budget_replace(st, b->s.path, b->id, b);
}

/* Updates in place: the old contents go to the saved array (no allocation once it has grown). */
static int mem_budget_update(ab_store *st, const ab__budget *b)
{
    mem *m = M(st);
    ab__budget *cur = b->id >= 1 && (size_t)b->id <= m->by_id_len ? m->by_id[b->id - 1] : NULL;
    if (!cur || strcmp(cur->s.path, b->s.path) != 0)
        return budget_replace(st, b->s.path, b->id, b);
    ab__budget *p = room(m->saved, &m->saved_cap, m->saved_len + 1, sizeof *p, 16, 0);
    if (p)
        m->saved = p;
    if (!p || undo_grow(m))
        return ab__fail(st, AB_ENOMEM, "out of memory");
    m->saved[m->saved_len] = *cur;
    m->undo[m->undo_len++] = (undo){.kind = UNDO_BUDGET, .budget = cur, .saved_at = m->saved_len++};
    *cur = *b;
    return AB_OK;
}

static int mem_budget_delete(ab_store *st, int64_t id)
{
    mem *m = M(st);
    if (id < 1 || (size_t)id > m->by_id_len || !m->by_id[id - 1])
        return AB_ENOTFOUND;
    char path[AB_PATH_BYTES_MAX + 1];
    ab__strlcpy(path, m->by_id[id - 1]->s.path, sizeof path);
    return budget_replace(st, path, id, NULL);
}

static int under(const char *path, const char *prefix, size_t plen)
{
    return strncmp(path, prefix, plen) == 0 && (path[plen] == '\0' || path[plen] == '/');
}

static int mem_budget_has_children(ab_store *st, const char *path, int *out)
{
    mem *m = M(st);
    size_t plen = strlen(path);
    *out = 0;
    for (size_t i = 0; i < m->by_id_len && !*out; i++)
        if (m->by_id[i] && under(m->by_id[i]->s.path, path, plen) &&
            m->by_id[i]->s.path[plen] == '/')
            *out = 1;
    return AB_OK;
}

static int cmp_budget_path(const void *a, const void *b)
{
    return strcmp((*(ab__budget *const *)a)->s.path, (*(ab__budget *const *)b)->s.path);
}

static int mem_budget_list(ab_store *st, const char *prefix, int (*fn)(ab__budget *, void *),
                           void *ctx)
{
    mem *m = M(st);
    ab__budget **sel = malloc((m->by_id_len + 1) * sizeof *sel);
    if (!sel)
        return ab__fail(st, AB_ENOMEM, "out of memory");
    size_t n = 0, plen = prefix ? strlen(prefix) : 0;
    for (size_t i = 0; i < m->by_id_len; i++)
        if (m->by_id[i] && (!prefix || under(m->by_id[i]->s.path, prefix, plen)))
            sel[n++] = m->by_id[i];
    qsort(sel, n, sizeof *sel, cmp_budget_path);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        ab__budget copy = *sel[i];
        rc = fn(&copy, ctx);
    }
    free(sel);
    return rc;
}

/* *out: the place in own of a hold whose id this handle made (one counter is one id), else NULL
 * (the hold is in the map, if anywhere). grow: make the place if own is too short; else a place
 * past its end is NULL too (no such hold). AB_ENOMEM if it could not grow. */
static int own_slot(ab_store *st, const char *id, int grow, mem_hold ***out)
{
    mem *m = M(st);
    uint64_t n;
    *out = NULL;
    if (!ab__hold_id_counter(st, id, &n) || (n >= m->own_cap && !grow))
        return AB_OK;
    mem_hold **p = room(m->own, &m->own_cap, n + 1, sizeof *p, 1024, 1);
    if (!p)
        return AB_ENOMEM;
    m->own = p;
    *out = &m->own[n];
    return AB_OK;
}

/* The hold with this id, NULL if none. */
static mem_hold *hold_find(ab_store *st, const char *id)
{
    mem *m = M(st);
    if (m->hold_last && strcmp(m->hold_last->id, id) == 0)
        return m->hold_last;
    mem_hold **own;
    own_slot(st, id, 0, &own);
    mem_hold *h = own ? *own : map_get(&m->holds, id);
    if (h)
        m->hold_last = h;
    return h;
}

/* The open holds: adding cannot fail, as hold_open_room made room beforehand, or the hold was
 * open earlier in this transaction (a rollback puts it back) and the array has not shrunk. */
static void open_add(mem *m, mem_hold *h)
{
    if (h->open_at)
        return;
    m->open[m->open_len++] = h;
    h->open_at = m->open_len;
}

static void open_remove(mem *m, mem_hold *h)
{
    if (!h->open_at)
        return;
    mem_hold *last = m->open[--m->open_len];
    m->open[h->open_at - 1] = last;
    last->open_at = h->open_at;
    h->open_at = 0;
}

static void hold_state(mem *m, mem_hold *h, int state)
{
    if (state == 0)
        open_add(m, h);
    else
        open_remove(m, h);
    h->state = state;
}

static int hold_open_room(mem *m)
{
    mem_hold **p = room(m->open, &m->open_cap, m->open_len + 1, sizeof *p, 64, 0);
    if (!p)
        return AB_ENOMEM;
    m->open = p;
    return AB_OK;
}

static int mem_hold_get(ab_store *st, const char *id, ab__hold *out)
{
    const mem_hold *h = hold_find(st, id);
    if (!h)
        return AB_ENOTFOUND;
    memset(out, 0, sizeof *out);
    memcpy(out->h.id, h->id, sizeof out->h.id);
    ab__strlcpy(out->h.budget, h->budget ? h->budget : "", sizeof out->h.budget);
    ab__strlcpy(out->h.model, h->model ? h->model : "", sizeof out->h.model);
    out->h.tokens = h->tokens;
    out->h.cost_nusd = h->cost_nusd;
    out->h.created_at_ms = h->created_at_ms;
    out->h.expires_at_ms = h->expires_at_ms;
    out->h.state = h->state;
    out->usage = h->usage;
    out->requests = h->requests;
    memcpy(out->chain_ids, h->chain_ids, sizeof out->chain_ids);
    out->chain_len = h->chain_len;
    return AB_OK;
}

/* Packs h into out; AB_ENOMEM if a string could not be interned. */
static int hold_pack(mem *m, const ab__hold *h, mem_hold *out)
{
    memset(out, 0, sizeof *out);
    ab__strlcpy(out->id, h->h.id, sizeof out->id);
    out->budget = intern(m, h->h.budget, m->recent[RECENT_BUDGET]);
    out->model = intern(m, h->h.model, m->recent[RECENT_MODEL]);
    if ((h->h.budget[0] && !out->budget) || (h->h.model[0] && !out->model))
        return AB_ENOMEM;
    out->tokens = h->h.tokens;
    out->cost_nusd = h->h.cost_nusd;
    out->created_at_ms = h->h.created_at_ms;
    out->expires_at_ms = h->h.expires_at_ms;
    out->requests = h->requests;
    out->usage = h->usage;
    memcpy(out->chain_ids, h->chain_ids, sizeof out->chain_ids);
    out->chain_len = h->chain_len;
    return AB_OK;
}

/* The place for the next hold (not yet counted in holds_len), NULL if out of memory. */
static mem_hold *hold_slot_next(mem *m)
{
    size_t chunk = m->holds_len / HOLDS_PER_CHUNK;
    if (chunk == m->hold_chunks_len) {
        mem_hold **p = room(m->hold_chunks, &m->hold_chunks_cap, chunk + 1, sizeof *p, 16, 0);
        if (!p)
            return NULL;
        m->hold_chunks = p;
        if (!(m->hold_chunks[chunk] = malloc(HOLDS_PER_CHUNK * sizeof(mem_hold))))
            return NULL;
        m->hold_chunks_len++;
    }
    return &m->hold_chunks[chunk][m->holds_len % HOLDS_PER_CHUNK];
}

/* Takes back the last hold made (an undone insert): its id finds old again (NULL: none). */
static void hold_unmake(ab_store *st, mem_hold *h, mem_hold *old)
{
    mem *m = M(st);
    mem_hold **own;
    void *cur;
    own_slot(st, h->id, 0, &own);
    if (own)
        *own = old;
    else
        map_set(&m->holds, h->id, old, &cur, 0);
    open_remove(m, h);
    if (old && old->state == 0)
        open_add(m, old);
    m->holds_len--;
    if (m->hold_last == h)
        m->hold_last = NULL;
}

/* A hold inserted again under an id that exists replaces it: the old one stays in its chunk
 * (events may point at its id), no longer found or open, until the insert is undone or the store
 * closed. */
static int mem_hold_insert(ab_store *st, const ab__hold *h)
{
    mem *m = M(st);
    mem_hold *next = hold_slot_next(m), **own;
    void *old = NULL;
    if (!next || undo_grow(m) || hold_open_room(m) || hold_pack(m, h, next) ||
        own_slot(st, next->id, 1, &own))
        return ab__fail(st, AB_ENOMEM, "out of memory");
    if (own) {
        old = *own;
        *own = next;
    } else if (map_set(&m->holds, next->id, next, &old, 0)) {
        return ab__fail(st, AB_ENOMEM, "out of memory");
    }
    if (old)
        open_remove(m, old); /* its state stays, for an undo */
    hold_state(m, next, h->h.state);
    m->holds_len++;
    m->undo[m->undo_len++] = (undo){.kind = UNDO_HOLD_NEW, .hold = next, .old = old};
    m->hold_last = next;
    return AB_OK;
}

/* Changes the state in place, logging the old state for rollback. */
static int mem_hold_set_state(ab_store *st, const char *id, int state)
{
    mem *m = M(st);
    mem_hold *h = hold_find(st, id);
    if (!h)
        return AB_ENOTFOUND;
    if (undo_grow(m) || (state == 0 && hold_open_room(m)))
        return ab__fail(st, AB_ENOMEM, "out of memory");
    m->undo[m->undo_len++] = (undo){.kind = UNDO_STATE, .hold = h, .state_old = h->state};
    hold_state(m, h, state);
    return AB_OK;
}

/* Walks open holds counted in budget_id (expired ones only when now_ms >= 0). */
/* 1 if h is counted in budget_id (leaf_only: if budget_id is its own budget). */
static int hold_counted_in(const mem_hold *h, int64_t budget_id, int leaf_only)
{
    for (size_t j = 0; j < (leaf_only ? 1 : h->chain_len); j++)
        if (h->chain_ids[j] == budget_id)
            return 1;
    return 0;
}

static int holds_walk(ab_store *st, int64_t budget_id, int leaf_only, int64_t now_ms,
                      char (*ids)[40], size_t max, size_t *n, int64_t *min_expiry)
{
    mem *m = M(st);
    *n = 0;
    for (size_t i = 0; i < m->open_len; i++) {
        const mem_hold *h = m->open[i];
        if (!hold_counted_in(h, budget_id, leaf_only))
            continue;
        if (min_expiry && h->expires_at_ms < *min_expiry)
            *min_expiry = h->expires_at_ms;
        if (ids && *n < max && (now_ms < 0 || h->expires_at_ms <= now_ms))
            ab__strlcpy(ids[(*n)++], h->id, 40);
    }
    return AB_OK;
}

/* Orders holds as the SQL stores' sweeps do: by expiry, then id. */
static int hold_before(const mem_hold *a, const mem_hold *b)
{
    if (a->expires_at_ms != b->expires_at_ms)
        return a->expires_at_ms < b->expires_at_ms;
    return strcmp(a->id, b->id) < 0;
}

/* The first max expired holds counted in budget_id by (expiry, id), in that order, as SQLite
 * and PostgreSQL give them: a sweep then logs its expire events in the same order in every
 * store (in the open holds' order it followed reserves and releases). A sweep's path only, not
 * the hot one: a kept sorted array of at most AB__SWEEP_BATCH holds. */
static int mem_holds_expired(ab_store *st, int64_t budget_id, int64_t now_ms, char (*ids)[40],
                             size_t max, size_t *n)
{
    mem *m = M(st);
    const mem_hold *first[AB__SWEEP_BATCH];
    if (max > AB__SWEEP_BATCH) /* the contract (internal.h); chain.c's sweep asks for that */
        max = AB__SWEEP_BATCH;
    *n = 0;
    for (size_t i = 0; i < m->open_len; i++) {
        const mem_hold *h = m->open[i];
        if (h->expires_at_ms > now_ms || !hold_counted_in(h, budget_id, 0) ||
            (*n == max && !hold_before(h, first[max - 1])))
            continue;
        size_t k = *n < max ? (*n)++ : max - 1; /* full: the last one makes room */
        for (; k > 0 && hold_before(h, first[k - 1]); k--)
            first[k] = first[k - 1];
        first[k] = h;
    }
    for (size_t i = 0; i < *n; i++)
        ab__strlcpy(ids[i], first[i]->id, 40);
    return AB_OK;
}

static int mem_holds_of_budget(ab_store *st, int64_t leaf_id, char (*ids)[40], size_t max,
                               size_t *n)
{
    return holds_walk(st, leaf_id, 1, -1, ids, max, n, NULL);
}

static int mem_holds_min_expiry(ab_store *st, int64_t budget_id, int64_t *out)
{
    size_t n;
    *out = INT64_MAX;
    return holds_walk(st, budget_id, 0, -1, NULL, 0, &n, out);
}

static char *dup_or_null(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

static int mem_event_append(ab_store *st, ab_event *e)
{
    mem *m = M(st);
    mem_event *p = room(m->events, &m->events_cap, m->events_len + 1, sizeof *p, 1024, 0);
    if (!p)
        return ab__fail(st, AB_ENOMEM, "out of memory");
    m->events = p;
    /* the hold's own id when the hold is here (it outlives the event, or both are undone) */
    const mem_hold *h = e->hold_id[0] ? hold_find(st, e->hold_id) : NULL;
    e->id = (int64_t)m->events_len + 1;
    mem_event *me = &m->events[m->events_len++];
    *me = (mem_event){.id = e->id,
                      .time_ms = e->time_ms,
                      .tokens = e->tokens,
                      .cost_nusd = e->cost_nusd,
                      .usage = e->usage,
                      .allowed = e->allowed,
                      .budget = intern(m, e->budget, m->recent[RECENT_BUDGET]),
                      .op = intern(m, e->op, m->recent[RECENT_OP]),
                      .model = intern(m, e->model, m->recent[RECENT_MODEL]),
                      .actor = intern(m, e->actor, m->recent[RECENT_ACTOR]),
                      .hold_id = h ? h->id : dup_or_null(e->hold_id),
                      .hold_id_owned = !h,
                      .reason = dup_or_null(e->reason),
                      .key = dup_or_null(e->key)};
    return AB_OK;
}

static void cp(char *dst, size_t size, const char *src)
{
    ab__strlcpy(dst, src ? src : "", size);
}

static int mem_events_query(ab_store *st, const ab_event_query *q, ab_event_fn fn, void *ctx)
{
    mem *m = M(st);
    size_t plen = q->budget ? strlen(q->budget) : 0;
    int64_t sent = 0;
    for (size_t i = (size_t)q->after_id; i < m->events_len && sent < q->limit; i++) {
        const mem_event *me = &m->events[i];
        if (q->budget && (!me->budget || !under(me->budget, q->budget, plen)))
            continue;
        if (q->op && (!me->op || strcmp(me->op, q->op)))
            continue;
        if ((q->since_ms && me->time_ms < q->since_ms) ||
            (q->until_ms && me->time_ms >= q->until_ms))
            continue;
        ab_event e;
        memset(&e, 0, sizeof e);
        e.id = me->id;
        e.time_ms = me->time_ms;
        e.tokens = me->tokens;
        e.cost_nusd = me->cost_nusd;
        e.usage = me->usage;
        e.allowed = me->allowed;
        cp(e.budget, sizeof e.budget, me->budget);
        cp(e.op, sizeof e.op, me->op);
        cp(e.model, sizeof e.model, me->model);
        cp(e.actor, sizeof e.actor, me->actor);
        cp(e.reason, sizeof e.reason, me->reason);
        cp(e.hold_id, sizeof e.hold_id, me->hold_id);
        cp(e.key, sizeof e.key, me->key);
        sent++;
        int rc = fn(&e, ctx);
        if (rc)
            return rc;
    }
    return AB_OK;
}

static int mem_idem_get(ab_store *st, const char *key, ab__idem *out)
{
    ab__idem *r = map_get(&M(st)->idem, key);
    if (!r)
        return AB_ENOTFOUND;
    *out = *r;
    return AB_OK;
}

static int mem_idem_put(ab_store *st, const char *key, const ab__idem *rec, int64_t now_ms)
{
    ab__idem *copy = malloc(sizeof *copy);
    if (!copy)
        return ab__fail(st, AB_ENOMEM, "out of memory");
    *copy = *rec;
    copy->time_ms = now_ms;
    int rc = put_logged(st, &M(st)->idem, key, copy, 0);
    if (rc)
        free(copy);
    return rc;
}

static int mem_price_get(ab_store *st, const char *model, ab_price *out)
{
    ab_price *p = map_get(&M(st)->prices, model);
    if (!p)
        return AB_ENOTFOUND;
    *out = *p;
    out->builtin = 0;
    return AB_OK;
}

static int mem_price_put(ab_store *st, const ab_price *p)
{
    ab_price *copy = malloc(sizeof *copy);
    if (!copy)
        return ab__fail(st, AB_ENOMEM, "out of memory");
    *copy = *p;
    int rc = put_logged(st, &M(st)->prices, p->model, copy, 0);
    if (rc)
        free(copy);
    return rc;
}

static int mem_price_delete(ab_store *st, const char *model)
{
    if (!map_get(&M(st)->prices, model))
        return AB_ENOTFOUND;
    return put_logged(st, &M(st)->prices, model, NULL, 0);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The keys of a map, sorted (for listings in a stable order). */
static char **sorted_keys(map *mp, size_t *n)
{
    char **keys = malloc((mp->count + 1) * sizeof *keys);
    *n = 0;
    if (!keys)
        return NULL;
    for (size_t i = 0; i < mp->cap; i++)
        if (slot_live(&mp->slots[i]))
            keys[(*n)++] = mp->slots[i].key;
    qsort(keys, *n, sizeof *keys, cmp_str);
    return keys;
}

static int mem_price_list(ab_store *st, ab_price_fn fn, void *ctx)
{
    size_t n;
    char **keys = sorted_keys(&M(st)->prices, &n);
    if (!keys)
        return ab__fail(st, AB_ENOMEM, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        ab_price p = *(ab_price *)map_get(&M(st)->prices, keys[i]);
        p.builtin = 0;
        rc = fn(&p, ctx);
    }
    free(keys);
    return rc;
}

/* all of them at once: sorting the keys again for each page would cost more than the pages
 * save */
static int mem_idem_list(ab_store *st, const char *after, size_t limit,
                         int (*fn)(const char *, const ab__idem *, void *), void *ctx)
{
    (void)limit;
    size_t n;
    char **keys = sorted_keys(&M(st)->idem, &n);
    if (!keys)
        return ab__fail(st, AB_ENOMEM, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++)
        if (strcmp(keys[i], after) > 0)
            rc = fn(keys[i], map_get(&M(st)->idem, keys[i]), ctx);
    free(keys);
    return rc;
}

static int mem_role_get(ab_store *st, const char *name, char **spec)
{
    const char *s = map_get(&M(st)->roles, name);
    if (!s)
        return AB_ENOTFOUND;
    if (!(*spec = strdup(s)))
        return ab__fail(st, AB_ENOMEM, "out of memory");
    return AB_OK;
}

static int mem_role_put(ab_store *st, const char *name, const char *spec)
{
    char *copy = strdup(spec);
    if (!copy)
        return ab__fail(st, AB_ENOMEM, "out of memory");
    int rc = put_logged(st, &M(st)->roles, name, copy, 0);
    if (rc)
        free(copy);
    return rc;
}

static int mem_role_delete(ab_store *st, const char *name)
{
    if (!map_get(&M(st)->roles, name))
        return AB_ENOTFOUND;
    return put_logged(st, &M(st)->roles, name, NULL, 0);
}

static int mem_role_list(ab_store *st, int (*fn)(const char *, const char *, void *), void *ctx)
{
    size_t n;
    char **keys = sorted_keys(&M(st)->roles, &n);
    if (!keys)
        return ab__fail(st, AB_ENOMEM, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++)
        rc = fn(keys[i], map_get(&M(st)->roles, keys[i]), ctx);
    free(keys);
    return rc;
}

static int mem_savepoint(ab_store *st)
{
    mem *m = M(st);
    m->sp_undo = m->undo_len;
    m->sp_events = m->events_len;
    return AB_OK;
}

static int mem_savepoint_release(ab_store *st)
{
    (void)st; /* its changes stay logged: the outer transaction may still roll them back */
    return AB_OK;
}

static int mem_savepoint_rollback(ab_store *st)
{
    mem *m = M(st);
    undo_to(st, m->sp_undo, m->sp_events);
    return AB_OK; /* a flat batch is a batch of savepoints here: they cost nothing */
}

typedef struct {
    ab_token t;
    char hash[65];
} mem_token;

static int mem_token_put(ab_store *st, const ab_token *t, const char *hash_hex)
{
    mem_token *copy = malloc(sizeof *copy);
    if (!copy)
        return ab__fail(st, AB_ENOMEM, "out of memory");
    copy->t = *t;
    ab__strlcpy(copy->hash, hash_hex, sizeof copy->hash);
    int rc = put_logged(st, &M(st)->tokens, t->id, copy, 0);
    if (rc)
        free(copy);
    return rc;
}

static int mem_token_get(ab_store *st, const char *id, ab_token *t, char hash_hex[65])
{
    mem_token *mt = map_get(&M(st)->tokens, id);
    if (!mt)
        return AB_ENOTFOUND;
    *t = mt->t;
    memcpy(hash_hex, mt->hash, 65);
    return AB_OK;
}

static int mem_token_list(ab_store *st, ab_token_fn fn, void *ctx)
{
    size_t n;
    char **keys = sorted_keys(&M(st)->tokens, &n);
    if (!keys)
        return ab__fail(st, AB_ENOMEM, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++)
        rc = fn(&((mem_token *)map_get(&M(st)->tokens, keys[i]))->t, ctx);
    free(keys);
    return rc;
}

static int mem_token_revoke(ab_store *st, const char *id, int64_t now_ms)
{
    mem_token *mt = map_get(&M(st)->tokens, id);
    if (!mt)
        return AB_ENOTFOUND;
    ab_token t = mt->t;
    if (!t.revoked_at_ms)
        t.revoked_at_ms = now_ms;
    char hash[65];
    memcpy(hash, mt->hash, sizeof hash);
    return mem_token_put(st, &t, hash);
}

static const ab__store_ops mem_ops = {
    .scheme = "memory",
    .begin = mem_begin,
    .commit = mem_commit,
    .rollback = mem_rollback,
    .close = mem_close,
    .schema_version = mem_schema_version,
    .budget_get = mem_budget_get,
    .budget_get_id = mem_budget_get_id,
    .budget_insert = mem_budget_insert,
    .budget_update = mem_budget_update,
    .budget_delete = mem_budget_delete,
    .budget_has_children = mem_budget_has_children,
    .budget_list = mem_budget_list,
    .hold_get = mem_hold_get,
    .hold_insert = mem_hold_insert,
    .hold_set_state = mem_hold_set_state,
    .holds_expired = mem_holds_expired,
    .holds_of_budget = mem_holds_of_budget,
    .holds_min_expiry = mem_holds_min_expiry,
    .event_append = mem_event_append,
    .events_query = mem_events_query,
    .idem_get = mem_idem_get,
    .idem_put = mem_idem_put,
    .idem_list = mem_idem_list,
    .price_get = mem_price_get,
    .price_put = mem_price_put,
    .price_delete = mem_price_delete,
    .price_list = mem_price_list,
    .role_get = mem_role_get,
    .role_put = mem_role_put,
    .role_delete = mem_role_delete,
    .role_list = mem_role_list,
    .wipe = mem_wipe,
    .savepoint = mem_savepoint,
    .savepoint_release = mem_savepoint_release,
    .savepoint_rollback = mem_savepoint_rollback,
    .token_put = mem_token_put,
    .token_get = mem_token_get,
    .token_list = mem_token_list,
    .token_revoke = mem_token_revoke,
};

int ab__store_memory_open(ab_store *st, const char *rest)
{
    if (*rest)
        return ab__fail(st, AB_EINVAL, "store URL 'memory:%s': memory: takes nothing after it",
                        rest);
    if (!(st->impl = calloc(1, sizeof(mem))))
        return ab__fail(st, AB_ENOMEM, "out of memory");
    st->ops = &mem_ops;
    return AB_OK;
}
