/* cmd_report.c — agentbudget report: tokens and cost from Claude Code transcripts by day, week,
 * month, session or model, counted as ccusage 20 counts them. Files are read on every core;
 * the entries are then merged in path order on one thread, so that duplicates resolve exactly
 * as in ccusage (which keeps one entry per message id + request id, across files). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define THREADS_MAX 16
#define WIDTH_MIN 40

enum { R_DAILY, R_WEEKLY, R_MONTHLY, R_SESSION, R_MODEL };
static const char *const report_names[] = {"daily", "weekly", "monthly", "session", "model"};
/* ccusage's array names, and the key ccusage's per-agent report ("ccusage claude daily") uses
 * beside the unified report's "period" */
static const char *const array_names[] = {"daily", "weekly", "monthly", "session", "models"};
static const char *const period_keys[] = {"date", "week", "month", "sessionId", "modelName"};
static const char *const column_names[] = {"Date", "Week", "Month", "Session", "Model"};

/* ---- one file's entries, as a worker read them ---- */

enum { F_ID = 1, F_REQ = 2, F_MODEL = 4, F_SIDE = 8 };

typedef struct {
    int64_t ts_ms;
    ab_usage u;
    uint32_t id_off, req_off, model_off; /* in the file's arena */
    uint16_t id_len, req_len;
    uint8_t model_len, flags, speed;
} rec;

typedef struct {
    rec *v;
    size_t n, cap;
    char *arena;
    size_t alen, acap;
    ab_transcript_stats st;
    int rc;
    int sys_errno;
} file_out;

typedef struct {
    const ab_transcript_file *files;
    file_out *outs;
    size_t *order; /* files by size, largest first: the long ones start early */
    size_t nfiles;
    int flags;
    atomic_size_t next;
    atomic_llong bytes_done;
    atomic_int oom;
    /* the progress bar, drawn by the main thread (worker 0) */
    int64_t bytes_total;
    struct timespec start;
    int tty;
    int64_t last_draw_ms;
    int drawn;
} work;

static int64_t elapsed_ms(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* On stderr when it is a terminal and the scan has taken over a second. */
static void progress(work *w, int64_t cur)
{
    if (!w->tty)
        return;
    int64_t ms = elapsed_ms(&w->start);
    if (ms < 1000 || ms - w->last_draw_ms < 100)
        return;
    w->last_draw_ms = ms;
    int64_t done = atomic_load_explicit(&w->bytes_done, memory_order_relaxed) + cur;
    int pct = w->bytes_total > 0 ? (int)(done * 100 / w->bytes_total) : 100;
    if (pct > 100)
        pct = 100;
    char bar[31];
    memset(bar, '#', (size_t)(pct * 30 / 100));
    memset(bar + pct * 30 / 100, '.', (size_t)(30 - pct * 30 / 100));
    bar[30] = '\0';
    fprintf(stderr, "\rreading transcripts [%s] %3d%% %lld/%lld MB", bar, pct,
            (long long)(done >> 20), (long long)(w->bytes_total >> 20));
    w->drawn = 1;
}

static int arena_put(file_out *o, const char *s, size_t len, uint32_t *off)
{
    *off = (uint32_t)o->alen;
    if (len == 0)
        return 0;
    if (o->alen + len > o->acap) {
        size_t cap = o->acap ? o->acap * 2 : 4096;
        while (cap < o->alen + len)
            cap *= 2;
        if (cap > UINT32_MAX)
            return AB_ELIMIT;
        char *a = realloc(o->arena, cap);
        if (!a)
            return AB_ENOMEM;
        o->arena = a;
        o->acap = cap;
    }
    memcpy(o->arena + o->alen, s, len);
    *off = (uint32_t)o->alen;
    o->alen += len;
    return 0;
}

typedef struct {
    work *w;
    file_out *o;
    int main_thread;
} entry_ctx;

static int on_entry(const ab_transcript_entry *e, void *v)
{
    entry_ctx *x = v;
    file_out *o = x->o;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 64;
        rec *r = realloc(o->v, cap * sizeof *r);
        if (!r)
            return AB_ENOMEM;
        o->v = r;
        o->cap = cap;
    }
    rec *r = &o->v[o->n];
    memset(r, 0, sizeof *r);
    r->ts_ms = e->timestamp_ms;
    r->u = e->usage;
    r->speed = (uint8_t)e->speed;
    r->flags = (uint8_t)((e->message_id[0] ? F_ID : 0) | (e->request_id[0] ? F_REQ : 0) |
                         (e->model[0] ? F_MODEL : 0) | (e->is_sidechain ? F_SIDE : 0));
    r->id_len = (uint16_t)strlen(e->message_id);
    r->req_len = (uint16_t)strlen(e->request_id);
    r->model_len = (uint8_t)strlen(e->model);
    int rc;
    if ((rc = arena_put(o, e->message_id, r->id_len, &r->id_off)) ||
        (rc = arena_put(o, e->request_id, r->req_len, &r->req_off)) ||
        (rc = arena_put(o, e->model, r->model_len, &r->model_off)))
        return rc;
    o->n++;
    if (x->main_thread && (o->n & 1023) == 0)
        progress(x->w, e->offset);
    return 0;
}

static void *worker(void *v)
{
    work *w = ((entry_ctx *)v)->w;
    int main_thread = ((entry_ctx *)v)->main_thread;
    for (;;) {
        size_t i = atomic_fetch_add(&w->next, 1);
        if (i >= w->nfiles)
            break;
        size_t f = w->order[i];
        entry_ctx x = {w, &w->outs[f], main_thread};
        file_out *o = &w->outs[f];
        o->rc = ab_transcript_read(w->files[f].path, 0, w->flags, on_entry, &x, &o->st, NULL);
        o->sys_errno = o->st.sys_errno;
        if (o->rc == AB_ENOMEM || o->rc == AB_ELIMIT)
            atomic_store(&w->oom, 1);
        atomic_fetch_add(&w->bytes_done, w->files[f].size_bytes);
        if (main_thread)
            progress(w, 0);
    }
    return NULL;
}

static const ab_transcript_file *size_sort_files;

static int by_size_desc(const void *a, const void *b)
{
    int64_t sa = size_sort_files[*(const size_t *)a].size_bytes;
    int64_t sb = size_sort_files[*(const size_t *)b].size_bytes;
    if (sa != sb)
        return sa > sb ? -1 : 1;
    return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* Reads every file on min(cores, files, THREADS_MAX) threads, this one included. */
static int read_files(const ab_transcript_file *files, size_t n, file_out *outs, int flags)
{
    work w;
    memset(&w, 0, sizeof w);
    w.files = files;
    w.outs = outs;
    w.nfiles = n;
    w.flags = flags;
    w.order = malloc((n ? n : 1) * sizeof *w.order);
    if (!w.order)
        return AB_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        w.order[i] = i;
        w.bytes_total += files[i].size_bytes;
    }
    size_sort_files = files;
    qsort(w.order, n, sizeof *w.order, by_size_desc);
    atomic_init(&w.next, 0);
    atomic_init(&w.bytes_done, 0);
    atomic_init(&w.oom, 0);
    w.tty = isatty(STDERR_FILENO);
    clock_gettime(CLOCK_MONOTONIC, &w.start);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nt = cores < 1 ? 1 : cores > THREADS_MAX ? THREADS_MAX : (size_t)cores;
    if (nt > n)
        nt = n ? n : 1;
    pthread_t th[THREADS_MAX];
    entry_ctx ctx[THREADS_MAX];
    size_t started = 0;
    for (size_t t = 1; t < nt; t++) {
        ctx[t] = (entry_ctx){&w, NULL, 0};
        if (pthread_create(&th[t], NULL, worker, &ctx[t]) != 0)
            break; /* fewer threads: still correct */
        started = t;
    }
    ctx[0] = (entry_ctx){&w, NULL, 1};
    worker(&ctx[0]);
    for (size_t t = 1; t <= started; t++)
        pthread_join(th[t], NULL);
    if (w.drawn)
        fprintf(stderr, "\r\033[K");
    free(w.order);
    return atomic_load(&w.oom) ? AB_ENOMEM : AB_OK;
}

/* ---- models: names as listed, and their prices ---- */

typedef struct {
    char name[AB_NAME_BYTES_MAX + 8]; /* as listed: the model, "-fast" added in fast mode */
    ab_price price;
    int priced;      /* 0: no price known: counted at $0 */
    int listed;      /* 0: "<synthetic>" or no model: in the totals, never a row */
    size_t base_len; /* the name without "-fast" */
    int fast;
} model;

typedef struct {
    model *v;
    size_t n, cap, last;
} models;

static int model_is(const model *x, const char *name, size_t len, int fast)
{
    return x->base_len == len && x->fast == fast && memcmp(x->name, name, len) == 0;
}

static int model_index(models *m, const char *name, size_t len, int fast, uint32_t *out)
{
    fast = fast && len;
    if (m->last < m->n && model_is(&m->v[m->last], name, len, fast)) {
        *out = (uint32_t)m->last;
        return 0;
    }
    for (size_t i = 0; i < m->n; i++)
        if (model_is(&m->v[i], name, len, fast)) {
            *out = (uint32_t)(m->last = i);
            return 0;
        }
    char full[AB_NAME_BYTES_MAX + 8];
    snprintf(full, sizeof full, "%.*s%s", (int)len, name, fast ? "-fast" : "");
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        model *v = realloc(m->v, cap * sizeof *v);
        if (!v)
            return AB_ENOMEM;
        m->v = v;
        m->cap = cap;
    }
    model *x = &m->v[m->n];
    memset(x, 0, sizeof *x);
    snprintf(x->name, sizeof x->name, "%s", full);
    x->base_len = len;
    x->fast = fast;
    char base[AB_NAME_BYTES_MAX];
    snprintf(base, sizeof base, "%.*s", (int)len, name);
    /* <synthetic>: Claude Code's own notices, no API call: $0, and not a model (as ccusage) */
    x->listed = len > 0 && strcmp(base, "<synthetic>") != 0;
    x->priced = !x->listed || ab_price_builtin(base, &x->price) == AB_OK;
    if (!x->listed)
        memset(&x->price, 0, sizeof x->price);
    *out = (uint32_t)m->n++;
    return 0;
}

/* ---- the merge: one entry per message id + request id, in file order ---- */

typedef struct {
    const rec *r;
    const char *arena;
    uint32_t file;
    uint32_t model;
    int64_t cost_nusd;
} kept;

typedef struct {
    uint64_t h; /* 0: empty */
    uint32_t idx;
    uint32_t seq;
} slot;

typedef struct {
    kept *v;
    size_t n, cap;
    slot *t;
    size_t tcap, tn;
    uint32_t seq;
} merger;

static uint64_t hash64(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * UINT64_C(0x100000001b3);
    return h;
}

static uint64_t key_exact(const kept *k)
{
    uint64_t h = hash64(UINT64_C(0xcbf29ce484222325), "x", 1);
    h = hash64(h, k->arena + k->r->id_off, k->r->id_len);
    h = hash64(h, (k->r->flags & F_REQ) ? "\1" : "\0", 1);
    h = hash64(h, k->arena + k->r->req_off, k->r->req_len);
    return h | 1;
}

static uint64_t key_message(const kept *k)
{
    uint64_t h = hash64(UINT64_C(0xcbf29ce484222325), "m", 1);
    return hash64(h, k->arena + k->r->id_off, k->r->id_len) | 1;
}

static int same_id(const kept *a, const kept *b)
{
    return a->r->id_len == b->r->id_len &&
           memcmp(a->arena + a->r->id_off, b->arena + b->r->id_off, a->r->id_len) == 0;
}

static int same_req(const kept *a, const kept *b)
{
    return (a->r->flags & F_REQ) == (b->r->flags & F_REQ) && a->r->req_len == b->r->req_len &&
           memcmp(a->arena + a->r->req_off, b->arena + b->r->req_off, a->r->req_len) == 0;
}

static int table_grow(merger *m)
{
    size_t cap = m->tcap ? m->tcap * 2 : 1024;
    slot *t = calloc(cap, sizeof *t);
    if (!t)
        return AB_ENOMEM;
    for (size_t i = 0; i < m->tcap; i++) {
        if (!m->t[i].h)
            continue;
        size_t j = (size_t)m->t[i].h & (cap - 1);
        while (t[j].h)
            j = (j + 1) & (cap - 1);
        t[j] = m->t[i];
    }
    free(m->t);
    m->t = t;
    m->tcap = cap;
    return 0;
}

/* Adds (h -> idx) unless that pair is there (ccusage keeps a list of indexes per hash). */
static int table_add(merger *m, uint64_t h, uint32_t idx)
{
    if ((m->tn + 1) * 2 > m->tcap && table_grow(m))
        return AB_ENOMEM;
    size_t j = (size_t)h & (m->tcap - 1);
    for (; m->t[j].h; j = (j + 1) & (m->tcap - 1))
        if (m->t[j].h == h && m->t[j].idx == idx)
            return 0;
    m->t[j] = (slot){h, idx, m->seq++};
    m->tn++;
    return 0;
}

/* The earliest-added index under h whose entry matches c: same id and request id (exact), or
 * same id with either of them a sidechain line (a /btw replay with a new request id). */
static long table_find(const merger *m, uint64_t h, const kept *c, int exact)
{
    long best = -1;
    uint32_t best_seq = UINT32_MAX;
    if (!m->tcap)
        return -1;
    for (size_t j = (size_t)h & (m->tcap - 1); m->t[j].h; j = (j + 1) & (m->tcap - 1)) {
        if (m->t[j].h != h || m->t[j].seq >= best_seq)
            continue;
        const kept *e = &m->v[m->t[j].idx];
        int match = exact ? same_id(e, c) && same_req(e, c)
                          : same_id(e, c) && ((c->r->flags & F_SIDE) || (e->r->flags & F_SIDE));
        if (match) {
            best = m->t[j].idx;
            best_seq = m->t[j].seq;
        }
    }
    return best;
}

static int64_t usage_total(const ab_usage *u)
{
    return u->input + u->output + u->cache_write_5m + u->cache_write_1h + u->cache_read;
}

/* ccusage's choice between two lines of one message: the main chain's over a sidechain's, then
 * more tokens, then the higher cost, then the one that states its speed. */
static int better(const kept *c, const kept *e)
{
    int cs = (c->r->flags & F_SIDE) != 0, es = (e->r->flags & F_SIDE) != 0;
    if (cs != es)
        return es;
    int64_t tc = usage_total(&c->r->u), te = usage_total(&e->r->u);
    if (tc != te)
        return tc > te;
    if (c->cost_nusd != e->cost_nusd)
        return c->cost_nusd > e->cost_nusd;
    return c->r->speed != AB_SPEED_UNSET && e->r->speed == AB_SPEED_UNSET;
}

static int merge_one(merger *m, const kept *c)
{
    long at = -1;
    uint64_t exact = 0, message = 0;
    if (c->r->flags & F_ID) {
        exact = key_exact(c);
        message = key_message(c);
        at = table_find(m, exact, c, 1);
        if (at < 0)
            at = table_find(m, message, c, 0);
    }
    if (at >= 0) {
        if (!better(c, &m->v[at]))
            return 0;
        m->v[at] = *c;
    } else {
        if (m->n == m->cap) {
            size_t cap = m->cap ? m->cap * 2 : 1024;
            kept *v = realloc(m->v, cap * sizeof *v);
            if (!v)
                return AB_ENOMEM;
            m->v = v;
            m->cap = cap;
        }
        at = (long)m->n;
        m->v[m->n++] = *c;
    }
    if (!(c->r->flags & F_ID))
        return 0;
    if (table_add(m, exact, (uint32_t)at) || table_add(m, message, (uint32_t)at))
        return AB_ENOMEM;
    return 0;
}

static int merge_all(const file_out *outs, size_t nfiles, models *ms, merger *m)
{
    for (size_t f = 0; f < nfiles; f++) {
        const file_out *o = &outs[f];
        for (size_t i = 0; i < o->n; i++) {
            const rec *r = &o->v[i];
            kept k = {r, o->arena, (uint32_t)f, 0, 0};
            if (model_index(ms, o->arena + r->model_off, r->model_len, r->speed == AB_SPEED_FAST,
                            &k.model))
                return AB_ENOMEM;
            const model *x = &ms->v[k.model];
            if (x->priced && ab_cost_compute(&x->price, &r->u, &k.cost_nusd) != AB_OK)
                return AB_EOVERFLOW;
            if (merge_one(m, &k))
                return AB_ENOMEM;
        }
    }
    return 0;
}

/* ---- groups: a day, week, month, session or model ---- */

typedef struct {
    uint32_t model;
    int64_t in, out, cw, cr, cost;
} breakdown;

typedef struct {
    char key[AB_TRANSCRIPT_ID_BYTES_MAX * 2 + 4];
    uint32_t file; /* session reports: a file of the session */
    int64_t in, out, cw, cr, cost;
    int64_t first_ms, last_ms;
    breakdown *b;
    size_t nb;
} group;

typedef struct {
    group *v;
    size_t n, cap;
    size_t *t; /* index + 1; 0: empty */
    size_t tcap;
    group totals;
} groups;

static int add_i64(int64_t *sum, int64_t v)
{
    return __builtin_add_overflow(*sum, v, sum) ? AB_EOVERFLOW : 0;
}

static int add_usage(int64_t *in, int64_t *out, int64_t *cw, int64_t *cr, int64_t *cost,
                     const kept *k)
{
    const ab_usage *u = &k->r->u;
    if (add_i64(in, u->input) || add_i64(out, u->output) || add_i64(cw, u->cache_write_5m) ||
        add_i64(cw, u->cache_write_1h) || add_i64(cr, u->cache_read) || add_i64(cost, k->cost_nusd))
        return AB_EOVERFLOW;
    return 0;
}

static group *group_get(groups *g, const char *key)
{
    if ((g->n + 1) * 2 > g->tcap) {
        size_t cap = g->tcap ? g->tcap * 2 : 256;
        size_t *t = calloc(cap, sizeof *t);
        if (!t)
            return NULL;
        for (size_t i = 0; i < g->n; i++) {
            size_t j =
                (size_t)hash64(UINT64_C(0xcbf29ce484222325), g->v[i].key, strlen(g->v[i].key)) &
                (cap - 1);
            while (t[j])
                j = (j + 1) & (cap - 1);
            t[j] = i + 1;
        }
        free(g->t);
        g->t = t;
        g->tcap = cap;
    }
    size_t j = (size_t)hash64(UINT64_C(0xcbf29ce484222325), key, strlen(key)) & (g->tcap - 1);
    for (; g->t[j]; j = (j + 1) & (g->tcap - 1))
        if (strcmp(g->v[g->t[j] - 1].key, key) == 0)
            return &g->v[g->t[j] - 1];
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 64;
        group *v = realloc(g->v, cap * sizeof *v);
        if (!v)
            return NULL;
        g->v = v;
        g->cap = cap;
    }
    group *x = &g->v[g->n];
    memset(x, 0, sizeof *x);
    snprintf(x->key, sizeof x->key, "%s", key);
    x->first_ms = INT64_MAX;
    x->last_ms = INT64_MIN;
    g->t[j] = ++g->n;
    return x;
}

static int group_add(group *x, const kept *k, const models *ms)
{
    if (add_usage(&x->in, &x->out, &x->cw, &x->cr, &x->cost, k))
        return AB_EOVERFLOW;
    if (k->r->ts_ms < x->first_ms)
        x->first_ms = k->r->ts_ms;
    if (k->r->ts_ms > x->last_ms)
        x->last_ms = k->r->ts_ms;
    if (!ms->v[k->model].listed)
        return 0;
    size_t i = 0;
    while (i < x->nb && x->b[i].model != k->model)
        i++;
    if (i == x->nb) {
        breakdown *b = realloc(x->b, (x->nb + 1) * sizeof *b);
        if (!b)
            return AB_ENOMEM;
        x->b = b;
        memset(&x->b[x->nb++], 0, sizeof *b);
        x->b[i].model = k->model;
    }
    breakdown *b = &x->b[i];
    return add_usage(&b->in, &b->out, &b->cw, &b->cr, &b->cost, k);
}

/* ---- dates in the report's time zone ---- */

typedef struct {
    int64_t bucket; /* ts / 15 min of the cached answer: every zone's offset is a multiple */
    int y, m, d;
} date_cache;

static void local_date(date_cache *dc, int64_t ts_ms, int *y, int *m, int *d)
{
    int64_t b = (ts_ms >= 0 ? ts_ms : ts_ms - 899999) / 900000;
    if (b != dc->bucket) {
        time_t t = (time_t)(b * 900);
        struct tm tm;
        localtime_r(&t, &tm);
        dc->bucket = b;
        dc->y = tm.tm_year + 1900;
        dc->m = tm.tm_mon + 1;
        dc->d = tm.tm_mday;
    }
    *y = dc->y;
    *m = dc->m;
    *d = dc->d;
}

static int64_t days_of(int y, int m, int d)
{
    int64_t yy = y - (m <= 2);
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static void civil_of(int64_t days, int *y, int *m, int *d)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* ---- options ---- */

typedef struct {
    int kind;
    int64_t since, until; /* YYYYMMDD, 0: none */
    int week_start;       /* 0 Sunday .. 6 Saturday */
    int breakdown;
    int strict;
    const char *project;
} report_opts;

static int parse_day(cli *c, const char *field, const char *s, int64_t *out)
{
    int y, m, d;
    char tail;
    size_t n = strlen(s);
    int ok = (n == 8 && sscanf(s, "%4d%2d%2d%c", &y, &m, &d, &tail) == 3) ||
             (n == 10 && s[4] == '-' && s[7] == '-' &&
              sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3);
    for (size_t i = 0; ok && i < n; i++)
        ok = (s[i] >= '0' && s[i] <= '9') || (n == 10 && (i == 4 || i == 7));
    if (ok) {
        int yy, mm, dd;
        civil_of(days_of(y, m, d), &yy, &mm, &dd);
        ok = m >= 1 && m <= 12 && d >= 1 && yy == y && mm == m && dd == d;
    }
    if (!ok)
        return usage_error(c, "%s: '%s' is not a date (YYYYMMDD or YYYY-MM-DD)", field, s);
    *out = (int64_t)y * 10000 + m * 100 + d;
    return 0;
}

/* --timezone: an IANA name with a zone file (TZif) under the zoneinfo directory, or UTC. Not
 * any file there: for a directory (Europe) or a table (zone.tab) the C library takes UTC in
 * silence. */
static int set_timezone(cli *c, const char *tz)
{
    const char *dir = getenv("TZDIR");
    char path[4096], magic[4];
    int ok = strcmp(tz, "UTC") == 0 || strcmp(tz, "GMT") == 0;
    if (!ok && *tz && tz[0] != '/' && !strstr(tz, "..") && strlen(tz) < 256) {
        snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", tz);
        struct stat sb; /* a regular file before it is opened: a FIFO there would block */
        FILE *f = stat(path, &sb) == 0 && S_ISREG(sb.st_mode) ? fopen(path, "rb") : NULL;
        ok = f && fread(magic, 1, 4, f) == 4 && memcmp(magic, "TZif", 4) == 0;
        if (f)
            fclose(f);
    }
    if (!ok)
        return usage_error(c,
                           "--timezone: '%s' is not a time zone (an IANA name like "
                           "Europe/Berlin or America/New_York, or UTC)",
                           tz);
    setenv("TZ", tz, 1);
    tzset();
    return 0;
}

static const opt_spec report_opts_spec[] = {
    {"since", 1, 0},   {"until", 1, 0},  {"timezone", 1, 0},      {"breakdown", 0, 0},
    {"project", 1, 0}, {"strict", 0, 0}, {"start-of-week", 1, 0}, {NULL, 0, 0}};

static int parse_report_opts(cli *c, const parsed *p, report_opts *o)
{
    static const char *const days[] = {"sunday",   "monday", "tuesday", "wednesday",
                                       "thursday", "friday", "saturday"};
    int rc;
    memset(o, 0, sizeof *o);
    o->kind = -1;
    for (int i = 0; i < 5; i++)
        if (strcmp(p->pos[0], report_names[i]) == 0)
            o->kind = i;
    if (o->kind < 0)
        return usage_error(c,
                           "report: '%s' is not a report (daily, weekly, monthly, session or "
                           "model)",
                           p->pos[0]);
    const char *v;
    if ((v = opt(p, report_opts_spec, "since")) && (rc = parse_day(c, "--since", v, &o->since)))
        return rc;
    if ((v = opt(p, report_opts_spec, "until")) && (rc = parse_day(c, "--until", v, &o->until)))
        return rc;
    if ((v = opt(p, report_opts_spec, "timezone")) && (rc = set_timezone(c, v)))
        return rc;
    o->week_start = 1; /* Monday, as ccusage's weekly report */
    if ((v = opt(p, report_opts_spec, "start-of-week"))) {
        o->week_start = -1;
        for (int i = 0; i < 7; i++)
            if (strcmp(v, days[i]) == 0)
                o->week_start = i;
        if (o->week_start < 0)
            return usage_error(c, "--start-of-week: '%s' is not a day (sunday ... saturday)", v);
    }
    o->breakdown = opt(p, report_opts_spec, "breakdown") != NULL;
    o->strict = opt(p, report_opts_spec, "strict") != NULL;
    o->project = opt(p, report_opts_spec, "project");
    return 0;
}

/* ---- grouping ---- */

static void group_key(const report_opts *o, const kept *k, const ab_transcript_file *files,
                      const models *ms, int y, int m, int d, char *key, size_t size)
{
    int64_t days;
    switch (o->kind) {
    case R_DAILY:
        snprintf(key, size, "%04d-%02d-%02d", y, m, d);
        break;
    case R_WEEKLY:
        days = days_of(y, m, d);
        days -= ((days + 4) % 7 + 7 - o->week_start) % 7; /* 1970-01-01 was a Thursday */
        civil_of(days, &y, &m, &d);
        snprintf(key, size, "%04d-%02d-%02d", y, m, d);
        break;
    case R_MONTHLY:
        snprintf(key, size, "%04d-%02d", y, m);
        break;
    case R_SESSION:
        snprintf(key, size, "%s\x1f%s", files[k->file].project_path, files[k->file].session_id);
        break;
    default:
        snprintf(key, size, "%s", ms->v[k->model].name);
        break;
    }
}

static int group_all(const report_opts *o, const merger *m, const ab_transcript_file *files,
                     const models *ms, groups *g)
{
    date_cache dc = {INT64_MIN, 0, 0, 0};
    g->totals.first_ms = INT64_MAX;
    g->totals.last_ms = INT64_MIN;
    for (size_t i = 0; i < m->n; i++) {
        const kept *k = &m->v[i];
        int y, mo, d;
        local_date(&dc, k->r->ts_ms, &y, &mo, &d);
        int64_t day = (int64_t)y * 10000 + mo * 100 + d;
        if ((o->since && day < o->since) || (o->until && day > o->until))
            continue;
        int rc = group_add(&g->totals, k, ms);
        if (rc)
            return rc;
        if (o->kind == R_MODEL && !ms->v[k->model].listed)
            continue; /* in the totals only, as ccusage leaves them out of model lists */
        char key[sizeof g->totals.key];
        group_key(o, k, files, ms, y, mo, d, key, sizeof key);
        group *x = group_get(g, key);
        if (!x)
            return AB_ENOMEM;
        x->file = k->file;
        if ((rc = group_add(x, k, ms)))
            return rc;
    }
    return 0;
}

static int by_key(const void *a, const void *b)
{
    return strcmp(((const group *)a)->key, ((const group *)b)->key);
}

/* Sessions and models: the costliest first; ties by name (ccusage: by session id). */
static int by_cost(const void *a, const void *b)
{
    const group *x = a, *y = b;
    if (x->cost != y->cost)
        return x->cost > y->cost ? -1 : 1;
    const char *kx = strchr(x->key, '\x1f'), *ky = strchr(y->key, '\x1f');
    int c = strcmp(kx ? kx + 1 : x->key, ky ? ky + 1 : y->key);
    return c ? c : strcmp(x->key, y->key);
}

static const models *sort_models;

static int breakdown_by_cost(const void *a, const void *b)
{
    const breakdown *x = a, *y = b;
    if (x->cost != y->cost)
        return x->cost > y->cost ? -1 : 1;
    return strcmp(sort_models->v[x->model].name, sort_models->v[y->model].name);
}

static void sort_groups(const report_opts *o, groups *g, const models *ms)
{
    /* a row with no tokens and no cost (a day of only zero-usage <synthetic> error notices) is
     * left out, as ccusage's reports leave it out; the totals are the same */
    size_t k = 0;
    for (size_t i = 0; i < g->n; i++) {
        group *x = &g->v[i];
        if (!x->in && !x->out && !x->cw && !x->cr && !x->cost)
            free(x->b);
        else
            g->v[k++] = *x;
    }
    g->n = k;
    if (g->n > 1)
        qsort(g->v, g->n, sizeof *g->v, o->kind <= R_MONTHLY ? by_key : by_cost);
    sort_models = ms;
    for (size_t i = 0; i < g->n; i++)
        if (g->v[i].nb > 1)
            qsort(g->v[i].b, g->v[i].nb, sizeof *g->v[i].b, breakdown_by_cost);
}

/* ---- JSON, shaped as ccusage 20's ---- */

static void iso_ms(int64_t ms, char *buf, size_t size)
{
    time_t t = (time_t)((ms >= 0 ? ms : ms - 999) / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    /* the year in four digits (%Y gives "999" for 999), as ccusage and ISO 8601 write it */
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(((ms % 1000) + 1000) % 1000));
}

static void json_tokens(const group *x)
{
    char usd[32];
    printf("\"inputTokens\":%" PRId64 ",\"outputTokens\":%" PRId64
           ",\"cacheCreationTokens\":%" PRId64 ",\"cacheReadTokens\":%" PRId64
           ",\"totalTokens\":%" PRId64 ",\"totalCost\":%s",
           x->in, x->out, x->cw, x->cr, x->in + x->out + x->cw + x->cr,
           ab_usd_format(x->cost, usd, sizeof usd));
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void json_models(const group *x, const models *ms)
{
    const char *names[64];
    size_t n = 0;
    for (size_t i = 0; i < x->nb && n < 64; i++)
        names[n++] = ms->v[x->b[i].model].name;
    qsort(names, n, sizeof *names, name_cmp);
    printf(",\"modelsUsed\":[");
    for (size_t i = 0; i < n; i++) {
        printf(i ? "," : "");
        json_str(names[i]);
    }
    printf("],\"modelBreakdowns\":[");
    for (size_t i = 0; i < x->nb; i++) {
        const breakdown *b = &x->b[i];
        char usd[32];
        printf("%s{\"modelName\":", i ? "," : "");
        json_str(ms->v[b->model].name);
        printf(",\"inputTokens\":%" PRId64 ",\"outputTokens\":%" PRId64
               ",\"cacheCreationTokens\":%" PRId64 ",\"cacheReadTokens\":%" PRId64 ",\"cost\":%s}",
               b->in, b->out, b->cw, b->cr, ab_usd_format(b->cost, usd, sizeof usd));
    }
    printf("]");
}

static void json_group(const report_opts *o, const group *x, const ab_transcript_file *files,
                       const models *ms)
{
    const char *period = x->key;
    if (o->kind == R_SESSION)
        period = files[x->file].session_id;
    printf("{\"period\":");
    json_str(period);
    printf(",\"%s\":", period_keys[o->kind]);
    json_str(period);
    if (o->kind == R_SESSION) {
        char first[80], last[80];
        iso_ms(x->first_ms, first, sizeof first);
        iso_ms(x->last_ms, last, sizeof last);
        printf(",\"projectPath\":");
        json_str(files[x->file].project_path);
        printf(",\"firstActivity\":\"%s\",\"lastActivity\":\"%s\",\"metadata\":{"
               "\"lastActivity\":\"%s\"}",
               first, last, last);
    }
    printf(",");
    json_tokens(x);
    if (o->kind != R_MODEL)
        json_models(x, ms);
    printf("}");
}

static void print_json_report(const report_opts *o, const groups *g,
                              const ab_transcript_file *files, const models *ms)
{
    printf("{\"%s\":[", array_names[o->kind]);
    for (size_t i = 0; i < g->n; i++) {
        printf(i ? ",\n" : "\n");
        json_group(o, &g->v[i], files, ms);
    }
    printf("\n],\"totals\":{");
    json_tokens(&g->totals);
    printf("}}\n");
}

/* ---- the table ---- */

#define COLS 9
enum { C_KEY, C_MODELS, C_IN, C_OUT, C_CW, C_CR, C_TOTAL, C_COST, C_LAST };
static const char *const headers[COLS] = {
    "",           "Models",       "Input",      "Output",       "Cache Create",
    "Cache Read", "Total Tokens", "Cost (USD)", "Last Activity"};

typedef struct {
    char cell[COLS][256];
} row;

static void thousands(int64_t v, char *buf, size_t size)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%" PRId64, v), o = 0;
    for (int i = 0; i < n && (size_t)o + 2 < size; i++) {
        if (i > 0 && digits[i - 1] != '-' && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
}

/* "claude-sonnet-4-20250514" -> "sonnet-4": the table has little room */
static void short_model(const char *name, char *buf, size_t size)
{
    if (strncmp(name, "claude-", 7) == 0)
        name += 7;
    snprintf(buf, size, "%s", name);
    size_t n = strlen(buf);
    const char *fast = n > 5 && strcmp(buf + n - 5, "-fast") == 0 ? "-fast" : "";
    size_t base = n - strlen(fast);
    if (base > 9 && buf[base - 9] == '-' && strspn(buf + base - 8, "0123456789") >= 8) {
        buf[base - 9] = '\0';
        strncat(buf, fast, size - strlen(buf) - 1);
    }
}

static void fill_numbers(row *r, int64_t in, int64_t out, int64_t cw, int64_t cr, int64_t cost)
{
    char usd[32];
    thousands(in, r->cell[C_IN], sizeof r->cell[C_IN]);
    thousands(out, r->cell[C_OUT], sizeof r->cell[C_OUT]);
    thousands(cw, r->cell[C_CW], sizeof r->cell[C_CW]);
    thousands(cr, r->cell[C_CR], sizeof r->cell[C_CR]);
    thousands(in + out + cw + cr, r->cell[C_TOTAL], sizeof r->cell[C_TOTAL]);
    snprintf(r->cell[C_COST], sizeof r->cell[C_COST], "$%s", ab_usd_format(cost, usd, sizeof usd));
}

static void fill_group_row(const report_opts *o, const group *x, const ab_transcript_file *files,
                           const models *ms, row *r)
{
    memset(r, 0, sizeof *r);
    snprintf(r->cell[C_KEY], sizeof r->cell[C_KEY], "%.255s",
             o->kind == R_SESSION ? files[x->file].session_id : x->key);
    size_t used = 0;
    for (size_t i = 0; i < x->nb; i++) {
        char s[AB_NAME_BYTES_MAX];
        short_model(ms->v[x->b[i].model].name, s, sizeof s);
        used += (size_t)snprintf(r->cell[C_MODELS] + used, sizeof r->cell[C_MODELS] - used, "%s%s",
                                 i ? ", " : "", s);
        if (used >= sizeof r->cell[C_MODELS])
            break;
    }
    fill_numbers(r, x->in, x->out, x->cw, x->cr, x->cost);
    if (o->kind == R_SESSION && x->last_ms != INT64_MIN) {
        char last[80];
        iso_ms(x->last_ms, last, sizeof last);
        snprintf(r->cell[C_LAST], sizeof r->cell[C_LAST], "%.10s", last);
    }
}

static int terminal_width(void)
{
    struct winsize ws;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    const char *cols = getenv("COLUMNS");
    int n = cols ? atoi(cols) : 0;
    return n > 0 ? n : 0; /* 0: no limit (a pipe or a file) */
}

/* Columns a cell takes: its characters, not its bytes (a UTF-8 name is as wide as it reads;
 * wide CJK characters are taken as one column each). */
static int text_cols(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

/* The bytes of s's first cols characters: a cut never splits a character. */
static int text_prefix(const char *s, int cols)
{
    const char *p = s;
    for (int n = 0; *p; p++) {
        if (((unsigned char)*p & 0xc0) != 0x80 && n++ == cols)
            break;
    }
    return (int)(p - s);
}

/* Which columns show, and how wide, for the terminal: the Models column goes first, then the
 * cache columns, Total Tokens, Last Activity and Output; then the first column is cut. */
static void layout(row *rows, size_t n, int show[COLS], int width[COLS], int term)
{
    for (int c = 0; c < COLS; c++) {
        width[c] = text_cols(headers[c]);
        for (size_t i = 0; i < n; i++)
            if (text_cols(rows[i].cell[c]) > width[c])
                width[c] = text_cols(rows[i].cell[c]);
    }
    static const int drop[][2] = {
        {C_MODELS, C_MODELS}, {C_CW, C_CR}, {C_TOTAL, C_TOTAL}, {C_LAST, C_LAST}, {C_OUT, C_OUT}};
    for (size_t k = 0;; k++) {
        int total = 0;
        for (int c = 0; c < COLS; c++)
            total += show[c] ? width[c] + 2 : 0;
        if (term <= 0 || total - 2 <= term)
            return;
        if (k < sizeof drop / sizeof drop[0]) {
            show[drop[k][0]] = show[drop[k][1]] = 0;
            continue;
        }
        int key = width[C_KEY] - (total - 2 - term);
        width[C_KEY] = key < 8 ? 8 : key;
        return;
    }
}

static void print_row(const row *r, const int show[COLS], const int width[COLS])
{
    char line[COLS * 260 + 8], clean[256];
    size_t n = 0;
    for (int c = 0; c < COLS; c++) {
        if (!show[c])
            continue;
        const char *s = term_safe(r->cell[c], clean, sizeof clean);
        int left = c == C_KEY || c == C_MODELS || c == C_LAST;
        const char *gap = n ? "  " : "";
        int cols = text_cols(s), pad = width[c] - cols;
        if (pad < 0) /* cut, with an ellipsis, between characters */
            n += (size_t)snprintf(line + n, sizeof line - n, "%s%.*s…", gap,
                                  text_prefix(s, width[c] - 1), s);
        else
            n += (size_t)snprintf(line + n, sizeof line - n, "%s%*s%s%*s", gap, left ? 0 : pad, "",
                                  s, left ? pad : 0, "");
        if (n >= sizeof line)
            n = sizeof line - 1;
    }
    while (n > 0 && line[n - 1] == ' ')
        n--;
    printf("%.*s\n", (int)n, line);
}

static int print_table(const report_opts *o, const groups *g, const ab_transcript_file *files,
                       const models *ms)
{
    size_t nrows = g->n + 1;
    for (size_t i = 0; o->breakdown && i < g->n; i++)
        nrows += g->v[i].nb;
    row *rows = calloc(nrows, sizeof *rows);
    if (!rows)
        return AB_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < g->n; i++) {
        fill_group_row(o, &g->v[i], files, ms, &rows[n++]);
        for (size_t j = 0; o->breakdown && o->kind != R_MODEL && j < g->v[i].nb; j++) {
            const breakdown *b = &g->v[i].b[j];
            char s[AB_NAME_BYTES_MAX];
            short_model(ms->v[b->model].name, s, sizeof s);
            snprintf(rows[n].cell[C_KEY], sizeof rows[n].cell[C_KEY], "  - %s", s);
            fill_numbers(&rows[n++], b->in, b->out, b->cw, b->cr, b->cost);
        }
    }
    row *tot = &rows[n++];
    snprintf(tot->cell[C_KEY], sizeof tot->cell[C_KEY], "Total");
    fill_numbers(tot, g->totals.in, g->totals.out, g->totals.cw, g->totals.cr, g->totals.cost);
    int show[COLS] = {1, o->kind != R_MODEL, 1, 1, 1, 1, 1, 1, o->kind == R_SESSION};
    int width[COLS];
    row head;
    memset(&head, 0, sizeof head);
    for (int c = 0; c < COLS; c++)
        snprintf(head.cell[c], sizeof head.cell[c], "%s", headers[c]);
    snprintf(head.cell[C_KEY], sizeof head.cell[C_KEY], "%s", column_names[o->kind]);
    layout(rows, n, show, width, terminal_width());
    if (text_cols(head.cell[C_KEY]) > width[C_KEY])
        width[C_KEY] = text_cols(head.cell[C_KEY]);
    print_row(&head, show, width);
    row rule;
    memset(&rule, 0, sizeof rule);
    for (int c = 0; c < COLS; c++)
        memset(rule.cell[c], '-', (size_t)width[c] < sizeof rule.cell[c] ? (size_t)width[c] : 0);
    print_row(&rule, show, width);
    for (size_t i = 0; i + 1 < n; i++)
        print_row(&rows[i], show, width);
    print_row(&rule, show, width);
    print_row(tot, show, width);
    free(rows);
    return 0;
}

/* ---- what went wrong along the way, on stderr ---- */

static int summarise(cli *c, const report_opts *o, const ab_transcript_file *files, size_t n,
                     const file_out *outs, const models *ms)
{
    int64_t bad = 0, bad_files = 0, unreadable = 0;
    size_t first_bad = n, first_unreadable = n;
    char clean[PATH_MAX + 1];
    for (size_t f = 0; f < n; f++) {
        if (outs[f].st.bad_lines) {
            bad += outs[f].st.bad_lines;
            bad_files++;
            if (first_bad == n)
                first_bad = f;
        }
        if (outs[f].rc == AB_ESTORE) { /* a file that vanished since the listing: nothing */
            if (unreadable++ < 5)
                fprintf(stderr, "warning: cannot read '%s': %s\n",
                        term_safe(files[f].path, clean, sizeof clean),
                        transcript_errstr(outs[f].sys_errno));
            if (first_unreadable == n)
                first_unreadable = f;
        }
    }
    if (o->strict && first_bad < n) {
        const ab_transcript_stats *st = &outs[first_bad].st;
        return usage_error(c, "%s:%" PRId64 ": %s",
                           term_safe(files[first_bad].path, clean, sizeof clean), st->bad_line_no,
                           st->bad_reason);
    }
    if (bad)
        fprintf(stderr,
                "warning: skipped %" PRId64 " bad line%s in %" PRId64 " file%s (the first: "
                "%s:%" PRId64 ": %s); --strict stops there\n",
                bad, bad == 1 ? "" : "s", bad_files, bad_files == 1 ? "" : "s",
                term_safe(files[first_bad].path, clean, sizeof clean),
                outs[first_bad].st.bad_line_no, outs[first_bad].st.bad_reason);
    for (size_t i = 0; i < ms->n; i++)
        if (!ms->v[i].priced)
            fprintf(stderr, "warning: no price for model '%s': its tokens are counted at $0\n",
                    term_safe(ms->v[i].name, clean, sizeof clean));
    if (unreadable && o->strict)
        return EXIT_FAILURE_STORE;
    return 0;
}

/* ---- the command ---- */

static void free_all(file_out *outs, size_t n, models *ms, merger *m, groups *g)
{
    for (size_t i = 0; outs && i < n; i++) {
        free(outs[i].v);
        free(outs[i].arena);
    }
    free(outs);
    free(ms->v);
    free(m->v);
    free(m->t);
    for (size_t i = 0; i < g->n; i++)
        free(g->v[i].b);
    free(g->v);
    free(g->t);
    free(g->totals.b);
}

static int report_fail(cli *c, int rc, const char *what)
{
    snprintf(c->remote_err, sizeof c->remote_err, "%.900s: %s", what, ab_strerror(rc));
    int code = fail(c, rc);
    return rc == AB_EOVERFLOW || rc == AB_ELIMIT ? EXIT_FAILURE_STORE : code;
}

static int run_report(cli *c, const report_opts *o, const ab_transcript_file *files, size_t n)
{
    file_out *outs = calloc(n ? n : 1, sizeof *outs);
    models ms = {0};
    merger m = {0};
    groups g;
    memset(&g, 0, sizeof g);
    int rc = outs ? read_files(files, n, outs, AB_TRANSCRIPT_TAIL) : AB_ENOMEM;
    int exit_code = 0;
    if (rc == AB_OK)
        rc = merge_all(outs, n, &ms, &m);
    if (rc == AB_OK)
        rc = group_all(o, &m, files, &ms, &g);
    if (rc != AB_OK) {
        exit_code = report_fail(c, rc, "report");
    } else if ((exit_code = summarise(c, o, files, n, outs, &ms)) == 0) {
        sort_groups(o, &g, &ms);
        if (c->json)
            print_json_report(o, &g, files, &ms);
        else if ((rc = print_table(o, &g, files, &ms)))
            exit_code = report_fail(c, rc, "report");
    }
    free_all(outs, n, &ms, &m, &g);
    return exit_code;
}

int cmd_report(cli *c, int argc, char **argv)
{
    parsed p;
    report_opts o;
    int rc = args_parse(c, command_find("report"), report_opts_spec, argc, argv, &p, 1, POS_MAX);
    if (rc || (rc = parse_report_opts(c, &p, &o)))
        return rc;
    ab_transcript_file *files;
    size_t n;
    char err[1024];
    rc = ab_transcript_files(p.pos + 1, (size_t)(p.npos - 1), o.project, &files, &n, err,
                             sizeof err);
    if (rc == AB_EINVAL || rc == AB_ENOTFOUND)
        return usage_error(c, "%s", err);
    if (rc)
        return report_fail(c, rc, err[0] ? err : "finding transcripts");
    if (err[0]) { /* directories whose transcripts are not counted */
        fprintf(stderr, "warning: %s%s\n", err, o.strict ? "" : "; --strict stops there");
        if (o.strict) {
            ab_transcript_files_free(files, n);
            return EXIT_FAILURE_STORE;
        }
    }
    if (n == 0 && p.npos == 1)
        fprintf(stderr, "note: no Claude Code transcripts found (looked in $CLAUDE_CONFIG_DIR, "
                        "else ~/.config/claude/projects and ~/.claude/projects)\n");
    rc = run_report(c, &o, files, n);
    ab_transcript_files_free(files, n);
    return rc;
}
