/* internal.h — what the files of libagentbudget share: the store interface (one vtable, three
 * implementations), the rows the core reads and writes through it, and small helpers. */
#ifndef AB_INTERNAL_H
#define AB_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>

#include "agentbudget.h"

/* ---- rows ---- */

/* A budget as stored: the public status plus the store's id and the earliest expiry of the
 * open holds counted in it (INT64_MAX if none; may be early, never late). */
typedef struct {
    ab_budget_status s;
    int64_t id;
    int64_t next_expiry_ms;
} ab__budget;

/* A budget row's integer columns after id, path, role and model, in the stores' column order:
 * AB__BUDGET_FIXED counters and times, then limit and used for each window and metric. A limit
 * is NULL in the stores when < 0 (none); the others are never NULL. */
#define AB__BUDGET_FIXED 12
#define AB__BUDGET_INTS (AB__BUDGET_FIXED + 2 * AB_WINDOW_COUNT * AB_METRIC_COUNT)
void ab__budget_ints(ab__budget *b, int64_t *out[AB__BUDGET_INTS]);
static inline int ab__budget_int_nullable(size_t i)
{
    return i >= AB__BUDGET_FIXED && (i - AB__BUDGET_FIXED) % 2 == 0;
}

/* A price's integer fields after its model, in the stores' column order (input, output, cache
 * writes, cache read, then the long-context tier's threshold and prices). */
#define AB__PRICE_INTS 11
#define AB__PRICE_THRESHOLD 5 /* the one that is a token count, not a price */
void ab__price_ints(ab_price *p, int64_t *out[AB__PRICE_INTS]);

/* An idempotency key's request parameters as the operations format them: every field in full
 * (a path of 520 bytes, a model of 127, a spec's limits), so that no two requests read alike. */
#define AB__PARAMS_BYTES 4096

/* A hold as stored. chain_ids are the budgets it is counted in, leaf first. */
typedef struct {
    ab_hold h;
    ab_usage usage; /* the reserved estimate */
    int64_t requests;
    int64_t chain_ids[AB_PATH_SEGMENTS_MAX];
    size_t chain_len;
} ab__hold;

/* One idempotency record: the parameters a key was first used with and the answer given. */
typedef struct {
    char params[1024]; /* the request's parameters, or "#" and a hash of them (ab__idem_check) */
    char result[2048];
    int64_t time_ms; /* when it was saved (set by idem_list) */
} ab__idem;

/* ---- the store interface ---- */

/* ops->begin's write argument for the write transaction of a group commit (any non-zero write is
 * a write transaction) */
#define AB__WRITE_GROUP 2

/* How many expired holds a sweep asks a store for at a time (ops->holds_expired's max). */
#define AB__SWEEP_BATCH 64

typedef struct ab__store_ops {
    const char *scheme;
    /* begin a transaction; write != 0 takes the write lock at once (BEGIN IMMEDIATE);
     * AB__WRITE_GROUP: the write transaction of a group commit (ab_store_batch_begin) */
    int (*begin)(ab_store *st, int write);
    int (*commit)(ab_store *st);
    void (*rollback)(ab_store *st);
    void (*close)(ab_store *st);
    int (*schema_version)(ab_store *st, int *out);

    int (*budget_get)(ab_store *st, const char *path, ab__budget *out); /* AB_ENOTFOUND */
    /* optional: the budgets of paths (a chain, leaf first) that exist, longest path first, in
     * one round trip; locked in that order in a write transaction */
    int (*budget_get_chain)(ab_store *st, const char *const *paths, size_t n, ab__budget *out,
                            size_t *found);
    int (*budget_get_id)(ab_store *st, int64_t id, ab__budget *out); /* AB_ENOTFOUND */
    int (*budget_insert)(ab_store *st, ab__budget *b);               /* sets b->id */
    int (*budget_update)(ab_store *st, const ab__budget *b);
    int (*budget_delete)(ab_store *st, int64_t id);
    int (*budget_has_children)(ab_store *st, const char *path, int *out);
    int (*budget_list)(ab_store *st, const char *prefix, int (*fn)(ab__budget *, void *),
                       void *ctx);

    int (*hold_get)(ab_store *st, const char *id, ab__hold *out); /* AB_ENOTFOUND */
    int (*hold_insert)(ab_store *st, const ab__hold *h);
    int (*hold_set_state)(ab_store *st, const char *id, int state);
    /* ids of open holds counted in budget_id whose expiry is <= now_ms: the first max (at most
     * AB__SWEEP_BATCH) by (expiry, id), in that order, so that every store logs a sweep's
     * expire events in one order */
    int (*holds_expired)(ab_store *st, int64_t budget_id, int64_t now_ms, char (*ids)[40],
                         size_t max, size_t *n);
    int (*holds_of_budget)(ab_store *st, int64_t leaf_id, char (*ids)[40], size_t max, size_t *n);
    /* earliest expiry of the open holds counted in budget_id, INT64_MAX if none */
    int (*holds_min_expiry)(ab_store *st, int64_t budget_id, int64_t *out);

    int (*event_append)(ab_store *st, ab_event *e); /* sets e->id */
    int (*events_query)(ab_store *st, const ab_event_query *q, ab_event_fn fn, void *ctx);

    int (*idem_get)(ab_store *st, const char *key, ab__idem *out); /* AB_ENOTFOUND */
    int (*idem_put)(ab_store *st, const char *key, const ab__idem *rec, int64_t now_ms);
    /* the records whose keys sort after `after` ("" for the first), in key order; a store may
     * stop after `limit` of them (a page: the caller asks again after the last key it got) */
    int (*idem_list)(ab_store *st, const char *after, size_t limit,
                     int (*fn)(const char *key, const ab__idem *rec, void *ctx), void *ctx);

    int (*price_get)(ab_store *st, const char *model, ab_price *out); /* AB_ENOTFOUND */
    int (*price_put)(ab_store *st, const ab_price *p);
    int (*price_delete)(ab_store *st, const char *model);
    int (*price_list)(ab_store *st, ab_price_fn fn, void *ctx);

    int (*role_get)(ab_store *st, const char *name, char **spec); /* malloc'd; AB_ENOTFOUND */
    int (*role_put)(ab_store *st, const char *name, const char *spec);
    int (*role_delete)(ab_store *st, const char *name);
    int (*role_list)(ab_store *st, int (*fn)(const char *name, const char *spec, void *),
                     void *ctx);

    /* removes everything (the first thing in its transaction; rolled back with it) */
    int (*wipe)(ab_store *st);

    /* optional: keeps every other writer out of the store until this write transaction ends (a
     * copy's target, checked empty and then filled: two copies, or a copy and an agent's write,
     * merged into one store). NULL where write transactions exclude each other already
     * (SQLite's BEGIN IMMEDIATE, the memory store's lock) */
    int (*exclusive)(ab_store *st);

    /* group commit: operations inside one write transaction, each its own savepoint; in a flat
     * batch (st->batch == AB__BATCH_FLAT) a store may mark the operation's start instead, and
     * savepoint_rollback returns AB_EREPLAY if it cannot undo the operation alone */
    int (*savepoint)(ab_store *st);
    int (*savepoint_release)(ab_store *st);
    int (*savepoint_rollback)(ab_store *st);

    int (*token_put)(ab_store *st, const ab_token *t, const char *hash_hex);
    int (*token_get)(ab_store *st, const char *id, ab_token *t, char hash_hex[65]);
    int (*token_list)(ab_store *st, ab_token_fn fn, void *ctx);
    int (*token_revoke)(ab_store *st, const char *id, int64_t now_ms); /* AB_ENOTFOUND */

    /* optional: what tells this store from others whatever URL opened it (SQLite: the file's
     * device and inode), so that a copy refuses to write a store over itself */
    int (*identity)(ab_store *st, char *out, size_t size);
} ab__store_ops;

struct ab_store {
    const ab__store_ops *ops;
    void *impl;
    pthread_mutex_t lock;
    ab_clock_fn clock;
    void *clock_ctx;
    char actor[AB_NAME_BYTES_MAX];
    char errmsg[512];
    uint64_t id_seed[2]; /* hold ids: random seed + counter */
    uint64_t id_counter;
    /* a group-commit transaction is open (the lock is held by its thread): AB__BATCH or
     * AB__BATCH_FLAT; batch_void: a flat one was rolled back, its calls return AB_EREPLAY */
    int batch;
    int batch_void;
    /* a read group (ab_store_read_begin) holds the lock: 1 its read transaction is open, 2 it
     * has ended (a call needed a write or failed) and the calls run each in its own */
    int read_group;
    /* the last model priced from the built-in table and its price (the table never changes;
     * store overrides are still looked up first, every time) */
    char builtin_model[AB_NAME_BYTES_MAX];
    ab_price builtin_price;
    int aborts_to_inject; /* tests only: the next operations' transactions abort (ERETRY) */
    /* a walk's callback is running (the lock held by its thread, recursive): a call on the
     * handle from the callback is refused, AB_EINVAL, not run inside the walk */
    int walking;
};

#define AB__BATCH 1
#define AB__BATCH_FLAT 2

/* Tests only (tests/test_conformance.c): PostgreSQL stores opened from now on in this process
 * send statements one by one, as with a libpq older than 14 (no pipeline mode). */
void ab__pg_pipeline_off(void);

/* Tests only (tests/test_limits.c): the next n transactions that would commit abort instead,
 * as a store does on a serialization failure, so that the retry limit can be reached. */
void ab__inject_aborts(ab_store *st, int n);

/* Sets the handle's detail message and returns rc. */
int ab__fail(ab_store *st, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* AB_EINVAL for a call from a walk's callback on the walk's own handle (st->walking). */
int ab__walk_refused(ab_store *st);
/* The handle's clock, clamped to [AB__TIME_MIN, AB__TIME_MAX]. */
int64_t ab__now(ab_store *st);
#define AB__TIME_MIN INT64_C(1)
#define AB__TIME_MAX INT64_C(253402300799999) /* 9999-12-31T23:59:59.999Z */
void ab__hold_id_new(ab_store *st, char out[AB_HOLD_ID_BYTES + 2]);
/* 1 and the counter (>= 1) that made id if this handle's ab__hold_id_new made it, else 0: a
 * store may keep its own holds by counter instead of by id. */
int ab__hold_id_counter(const ab_store *st, const char *id, uint64_t *n);

int ab__store_memory_open(ab_store *st, const char *rest);
int ab__store_sqlite_open(ab_store *st, const char *rest);
int ab__store_pg_open(ab_store *st, const char *conninfo);
/* The budgets table's limit and counter columns for schema v1 in the SQL type int_type:
 * ", lim_day_tokens T, used_day_tokens T NOT NULL, …" into buf. */
void ab__limit_columns_sql(const char *int_type, char *buf, size_t size);

/* ---- transactions and the operation context ---- */

#define AB__EUPGRADE (-100) /* internal: a read transaction found work that needs a write one */
#define AB__ERETRY                                                                                 \
    (-101) /* internal: the store aborted the transaction (serialization failure,                  \
            * deadlock, a unique key raced): run the operation again */
#define AB__RETRIES_MAX 50
#define AB__CTX_BUDGETS_MAX 32

/* Locks the handle, clears errmsg and begins a store transaction. */
int ab__txn_begin(ab_store *st, int write);
/* Commits (rc == AB_OK) or rolls back, unlocks, and returns rc (or the commit's failure). */
int ab__txn_end(ab_store *st, int rc);
/* ab__txn_end for callers that do not retry: an aborted transaction becomes AB_EBUSY. */
int ab__txn_finish(ab_store *st, int rc);

/* Budgets one operation has loaded: the chain of the budget it acts on (leaf first, then the
 * ancestors that exist) and any others it had to touch (holds expiring elsewhere). */
typedef struct {
    ab_store *st;
    int write;
    int64_t now_ms;
    ab__budget b[AB__CTX_BUDGETS_MAX];
    bool dirty[AB__CTX_BUDGETS_MAX];
    size_t chain_len; /* b[0..chain_len) is the chain */
    size_t n;
} ab__ctx;

typedef int (*ab__op_fn)(ab__ctx *c, void *args);
/* Runs fn in one transaction: read-only first when write == 0, again in a write transaction if
 * fn returns AB__EUPGRADE; writes back dirty budgets before committing. */
int ab__run(ab_store *st, int write, ab__op_fn fn, void *args);
/* Loads the chain of path into c (leaf must exist unless leaf_optional) and rolls windows and
 * expired holds forward to now. */
int ab__chain_load(ab__ctx *c, const char *path, int leaf_optional);
/* The budget with this id from c, loading and rolling it if needed; NULL if it is gone. */
int ab__ctx_budget(ab__ctx *c, int64_t id, ab__budget **out);
void ab__ctx_dirty(ab__ctx *c, const ab__budget *b);
/* Writes back c's dirty budgets, their updated_at set to c->now_ms (ab__run does it at the end;
 * an op that loads one chain after another calls it between them). */
int ab__ctx_flush(ab__ctx *c);
/* Rolls windows of b forward to now (a clock that went back changes nothing). */
int ab__roll(ab__budget *b, int64_t now_ms);
/* Takes an open hold's amounts out of every budget it is counted in and sets its state. */
int ab__hold_close(ab__ctx *c, ab__hold *h, int state);

/* Idempotency: looks the key up. AB_OK + *replayed=1 with *out filled from the first answer;
 * AB_ECONFLICT if the key was used with other parameters; AB_OK + *replayed=0 if new. */
int ab__idem_check(ab_store *st, const char *key, const char *params, ab_decision *out,
                   int *replayed);
int ab__idem_save(ab_store *st, const char *key, const char *params, const ab_decision *d,
                  int64_t now_ms);
int ab__key_validate(ab_store *st, const char *key);

/* An event of op on budget at time_ms (an operation's own now_ms: one clock read for both). */
void ab__event_init(ab_store *st, ab_event *e, const char *budget, const char *op, int64_t time_ms);
int ab__price_lookup(ab_store *st, const char *model, ab_price *out);
/* What ab_price_set refuses: a bad name, <synthetic>, a price out of range (derived ones too). */
int ab__price_valid(ab_store *st, const ab_price *p);

/* ---- time ---- */
int64_t ab__day_start(int64_t ms);
int64_t ab__month_start(int64_t ms);

/* The model a request is priced at when neither it nor its budget names one (the original's
 * $3/$15 per million tokens). */
#define AB__DEFAULT_MODEL "claude-sonnet-4-5"

/* ---- small helpers ---- */
/* Checks a list of limits: at most AB_LIMITS_MAX, known metrics and windows, and, unless
 * repeats_ok, one limit per metric and window. A budget's spec applies its limits in order (a
 * later one for the same metric and window replaces the earlier); a role keeps its list as it is
 * given, so a repeat there would be two contradicting limits. */
int ab__limits_valid(ab_store *st, const ab_limit *limits, size_t n, int repeats_ok);
/* Checks a model or role name: 1-127 bytes, no control characters. */
int ab__name_valid(ab_store *st, const char *field, const char *s);
int ab__utf8_valid(const unsigned char *s);
/* The length of the valid UTF-8 sequence at s (1-4), 0 if it is not one (or s is at a NUL). */
size_t ab__utf8_seq(const unsigned char *s);
/* Cuts a last UTF-8 sequence that is incomplete (a text cut to a buffer's size mid-character):
 * a reason must stay UTF-8, or PostgreSQL refuses to store its event. */
void ab__utf8_trim(char *s);
/* Copies src into dst (size bytes); returns AB_ELIMIT if it does not fit. */
int ab__strlcpy(char *dst, const char *src, size_t size);
/* Clears a decision as every call that makes one starts: nothing allowed, no limit (-1). */
void ab__decision_clear(ab_decision *d);
/* Checked arithmetic: AB_EOVERFLOW instead of wrapping (inline: every limit check adds). */
static inline int ab__add(int64_t a, int64_t b, int64_t *out)
{
    return __builtin_add_overflow(a, b, out) ? AB_EOVERFLOW : AB_OK;
}
/* used + held of a status, staying at INT64_MAX instead of wrapping: an ancestor's counter is
 * kept at INT64_MAX by design (see spend_chain), and an open hold on top of it wrapped to about
 * -9.2e18, which read as room. */
static inline int64_t ab__add_sat(int64_t a, int64_t b)
{
    int64_t sum;
    return __builtin_add_overflow(a, b, &sum) ? (b > 0 ? INT64_MAX : INT64_MIN) : sum;
}

/* A growable string for JSON and serialised records. */
typedef struct {
    char *buf;
    size_t len, cap;
    int oom;
} ab__sb;
void ab__sb_add(ab__sb *sb, const char *s);
void ab__sb_addf(ab__sb *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ab__sb_json_str(ab__sb *sb, const char *s);
void ab__sb_usd(ab__sb *sb, int64_t nusd);

/* Parses a role spec (the words of ab_role: "limit=usd/day=10\nallow-tool=Read\n…"). */
int ab__role_parse(const char *spec, ab_role *out, char *err, size_t err_size);
char *ab__role_format(const ab_role *r);

/* crypto.c: SHA-256 (libcrypto, loaded on first use), constant-time equality, random hex. */
int ab__sha256_hex(ab_store *st, const char *data, size_t len, char out[65]);
int ab__ct_equal(const char *a, const char *b, size_t n);
int ab__random_hex(ab_store *st, size_t bytes, char *out);

/* Glob match (fnmatch without FNM_PATHNAME). */
int ab__glob_match(const char *pattern, const char *s);

#endif
