/* store_sqlite.c — the embedded store (sqlite:PATH): one file shared safely by many processes.
 * WAL, BEGIN IMMEDIATE for writers, a busy timeout, synchronous=FULL unless ?sync=normal, a
 * versioned schema migrated on open, and the rows a handle's writes read kept for its next
 * writes while no other connection writes (the row cache). */
#include <inttypes.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

enum {
    Q_BUDGET_GET,
    Q_BUDGET_GET_ID,
    Q_BUDGET_INSERT,
    Q_BUDGET_UPDATE,
    Q_BUDGET_DELETE,
    Q_BUDGET_CHILD,
    Q_HOLD_GET,
    Q_HOLD_INSERT,
    Q_HOLD_MEMBER_INSERT,
    Q_HOLD_STATE,
    Q_HOLD_MEMBERS_DELETE,
    Q_HOLDS_EXPIRED,
    Q_HOLDS_OF_BUDGET,
    Q_HOLDS_MIN_EXPIRY,
    Q_EVENT_INSERT,
    Q_IDEM_GET,
    Q_IDEM_PUT,
    Q_IDEM_LIST,
    Q_PRICE_GET,
    Q_PRICE_PUT,
    Q_PRICE_DELETE,
    Q_PRICE_LIST,
    Q_ROLE_GET,
    Q_ROLE_PUT,
    Q_ROLE_DELETE,
    Q_ROLE_LIST,
    Q_TOKEN_PUT,
    Q_TOKEN_GET,
    Q_TOKEN_LIST,
    Q_TOKEN_REVOKE,
    /* transaction control, prepared once: sqlite3_exec() would parse them on every operation */
    Q_BEGIN,
    Q_BEGIN_IMMEDIATE,
    Q_COMMIT,
    Q_ROLLBACK,
    Q_SAVEPOINT,
    Q_RELEASE,
    Q_ROLLBACK_TO,
    Q_COUNT
};

/* Which file a path named when it was noted: known 0 until then. */
typedef struct {
    int known;
    dev_t dev;
    ino_t ino;
} file_id;

typedef struct {
    sqlite3 *db;
    sqlite3_stmt *q[Q_COUNT];
    int in_txn;
    /* the store file, its -wal and its -shm as this connection first saw them (SQLite keeps the
     * last two while any connection is open: another one made in their place is another log,
     * and other locks) */
    file_id file, side[2];
    struct timespec side_checked; /* CLOCK_MONOTONIC_COARSE: checked at most every 50 ms */
    struct cache *cache;          /* NULL until the first write transaction */
} lite;

/* ---- the row cache ----
 * Budget rows and price overrides as this connection last read or wrote them in a write
 * transaction, kept for its next ones while no other connection writes to the file: then a
 * charge reads its chain and its model's price without a statement. SQLite's data version of the
 * file (SQLITE_FCNTL_DATA_VERSION: the pager's, moved whenever it finds the file changed by
 * another connection, the change that also empties its page cache) is noted after each commit
 * of this connection and compared once the next write transaction holds the write lock; any
 * difference, a rollback, a delete or a wipe starts a new generation, and entries of an older
 * one are never read. Read transactions neither read nor fill it: a deferred BEGIN has not yet
 * looked at the file, so the data version could still be stale there. */

#define CACHE_BUDGETS 4096 /* entries; their tags are twice as many, found by path's hash */
#define CACHE_PRICES 64    /* direct-mapped by model */

typedef struct {
    int found;    /* 0: no such row (a chain's missing ancestor, a model without override) */
    ab__budget b; /* b.s.path is the key, also when !found */
} cached_budget;

/* A slot of the open-addressing table (at most half full): its generation (0: never filled), its
 * key's hash and its entry. A probe reads 24 bytes per slot, not a budget row of a kilobyte, and
 * entries are taken in order, so that the memory used grows with the budgets kept. */
typedef struct {
    uint64_t gen;
    uint64_t hash;
    size_t entry;
} cache_tag;

typedef struct {
    uint64_t gen;
    int found;
    ab_price p; /* p.model is the key */
} cached_price;

struct cache {
    uint64_t gen;     /* the current generation, >= 1 */
    size_t budgets_n; /* entries of this generation: budgets[0 .. budgets_n) */
    int on;           /* inside a write transaction */
    int version_kept; /* version is the data version after this connection's last commit */
    unsigned version;
    cached_price prices[CACHE_PRICES];
    cache_tag tags[2 * CACHE_BUDGETS];
    cached_budget budgets[CACHE_BUDGETS];
};

#define L(st) ((lite *)(st)->impl)

/* Budget columns after id and path, in the order budget_bind/budget_read use. */
#define BUDGET_FIXED_COLS                                                                          \
    "role, model, held_tokens, held_usd, held_requests, holds_open, operations_blocked, "          \
    "created_at, session_reset, day_start, month_start, last_reset, updated_at, next_expiry"
#define BUDGET_FIXED_N 14

static char budget_cols[1024]; /* fixed columns, then lim_<w>_<m>, used_<w>_<m> */
static pthread_once_t cols_once = PTHREAD_ONCE_INIT;

static void cols_init(void)
{
    int off = snprintf(budget_cols, sizeof budget_cols, "%s", BUDGET_FIXED_COLS);
    for (int w = 0; w < AB_WINDOW_COUNT; w++)
        for (int m = 0; m < AB_METRIC_COUNT; m++)
            off += snprintf(budget_cols + off, sizeof budget_cols - (size_t)off,
                            ", lim_%s_%s, used_%s_%s", ab_window_name((ab_window)w),
                            ab_metric_name((ab_metric)m), ab_window_name((ab_window)w),
                            ab_metric_name((ab_metric)m));
}

static const char *const schema_v1[] = {
    "CREATE TABLE budgets(id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, role TEXT NOT NULL, "
    "model TEXT NOT NULL, held_tokens INTEGER NOT NULL, held_usd INTEGER NOT NULL, "
    "held_requests INTEGER NOT NULL, holds_open INTEGER NOT NULL, operations_blocked INTEGER "
    "NOT NULL, created_at INTEGER NOT NULL, session_reset INTEGER NOT NULL, day_start INTEGER "
    "NOT NULL, month_start INTEGER NOT NULL, last_reset INTEGER NOT NULL, updated_at INTEGER NOT "
    "NULL, next_expiry INTEGER NOT NULL %s)",
    "CREATE TABLE holds(id TEXT PRIMARY KEY, leaf_id INTEGER NOT NULL, budget TEXT NOT NULL, "
    "model TEXT NOT NULL, tokens INTEGER NOT NULL, cost_nusd INTEGER NOT NULL, requests INTEGER "
    "NOT NULL, input INTEGER NOT NULL, output INTEGER NOT NULL, cache_write_5m INTEGER NOT NULL, "
    "cache_write_1h INTEGER NOT NULL, cache_read INTEGER NOT NULL, created_at INTEGER NOT NULL, "
    "expires_at INTEGER NOT NULL, state INTEGER NOT NULL, chain TEXT NOT NULL)",
    "CREATE INDEX holds_leaf ON holds(leaf_id, state)",
    "CREATE TABLE hold_members(budget_id INTEGER NOT NULL, expires_at INTEGER NOT NULL, hold_id "
    "TEXT NOT NULL, PRIMARY KEY(budget_id, expires_at, hold_id)) WITHOUT ROWID",
    "CREATE INDEX hold_members_hold ON hold_members(hold_id)",
    "CREATE TABLE events(id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, budget TEXT NOT NULL, "
    "op TEXT NOT NULL, model TEXT NOT NULL, input INTEGER NOT NULL, output INTEGER NOT NULL, "
    "cache_write_5m INTEGER NOT NULL, cache_write_1h INTEGER NOT NULL, cache_read INTEGER NOT "
    "NULL, tokens INTEGER NOT NULL, cost_nusd INTEGER NOT NULL, allowed INTEGER NOT NULL, reason "
    "TEXT NOT NULL, hold_id TEXT NOT NULL, key TEXT NOT NULL, actor TEXT NOT NULL)",
    "CREATE INDEX events_budget ON events(budget, id)",
    "CREATE INDEX events_time ON events(time_ms)",
    "CREATE TABLE idempotency(key TEXT PRIMARY KEY, params TEXT NOT NULL, result TEXT NOT NULL, "
    "time_ms INTEGER NOT NULL)",
    "CREATE TABLE prices(model TEXT PRIMARY KEY, input INTEGER NOT NULL, output INTEGER NOT "
    "NULL, cache_write_5m INTEGER NOT NULL, cache_write_1h INTEGER NOT NULL, cache_read INTEGER "
    "NOT NULL, tier_threshold INTEGER NOT NULL, tier_input INTEGER NOT NULL, tier_output INTEGER "
    "NOT NULL, tier_cache_write_5m INTEGER NOT NULL, tier_cache_write_1h INTEGER NOT NULL, "
    "tier_cache_read INTEGER NOT NULL)",
    "CREATE TABLE roles(name TEXT PRIMARY KEY, spec TEXT NOT NULL)",
};

static int lite_fail(ab_store *st, const char *what)
{
    sqlite3 *db = L(st)->db;
    int code = db ? sqlite3_errcode(db) : SQLITE_ERROR;
    int rc = (code == SQLITE_BUSY || code == SQLITE_LOCKED) ? AB_EBUSY : AB_ESTORE;
    /* SQLite makes the -wal and -shm files with the store file's mode: a read-only store read
     * once leaves them read-only, and making the store writable again is not enough */
    const char *hint = code == SQLITE_READONLY ? " (the store file, its directory, and its -wal "
                                                 "and -shm files must be writable by this user)"
                                               : "";
    /* an I/O error says which: "disk I/O error" alone does not tell a full disk */
    int sys = db && (code & 0xff) == SQLITE_IOERR ? sqlite3_system_errno(db) : 0;
    return ab__fail(st, rc, "sqlite: %s: %s%s%s%s%s", what, db ? sqlite3_errmsg(db) : "no database",
                    sys ? " (" : "", sys ? strerror(sys) : "", sys ? ")" : "", hint);
}

static int exec(ab_store *st, const char *sql)
{
    if (sqlite3_exec(L(st)->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return lite_fail(st, sql);
    return AB_OK;
}

static const char *query_sql(int id, char *buf, size_t size)
{
    switch (id) {
    case Q_BUDGET_GET:
        snprintf(buf, size, "SELECT id, path, %s FROM budgets WHERE path=?1", budget_cols);
        return buf;
    case Q_BUDGET_GET_ID:
        snprintf(buf, size, "SELECT id, path, %s FROM budgets WHERE id=?1", budget_cols);
        return buf;
    case Q_BUDGET_INSERT: {
        int off = snprintf(buf, size, "INSERT INTO budgets(path, %s) VALUES(?2", budget_cols);
        for (int i = 0; i < BUDGET_FIXED_N + 2 * AB_LIMITS_MAX; i++)
            off += snprintf(buf + off, size - (size_t)off, ",?%d", i + 3);
        snprintf(buf + off, size - (size_t)off, ")");
        return buf;
    }
    case Q_BUDGET_UPDATE: {
        /* path (?2) is not set: it never changes, and setting it rewrites its UNIQUE index */
        int off = snprintf(buf, size, "UPDATE budgets SET ");
        char cols[sizeof budget_cols];
        snprintf(cols, sizeof cols, "%s", budget_cols);
        int i = 3;
        for (char *tok = strtok(cols, ", "); tok; tok = strtok(NULL, ", "), i++)
            off += snprintf(buf + off, size - (size_t)off, "%s%s=?%d", i > 3 ? ", " : "", tok, i);
        snprintf(buf + off, size - (size_t)off, " WHERE id=?1");
        return buf;
    }
    case Q_BUDGET_DELETE:
        return "DELETE FROM budgets WHERE id=?1";
    case Q_BUDGET_CHILD:
        return "SELECT 1 FROM budgets WHERE path > ?1 || '/' AND path < ?1 || '0' LIMIT 1";
    case Q_HOLD_GET:
        return "SELECT id, budget, model, tokens, cost_nusd, created_at, expires_at, state, "
               "requests, input, output, cache_write_5m, cache_write_1h, cache_read, chain FROM "
               "holds WHERE id=?1";
    case Q_HOLD_INSERT:
        return "INSERT INTO holds(id, budget, model, tokens, cost_nusd, created_at, expires_at, "
               "state, requests, input, output, cache_write_5m, cache_write_1h, cache_read, "
               "chain, leaf_id) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)";
    case Q_HOLD_MEMBER_INSERT:
        return "INSERT INTO hold_members(budget_id, expires_at, hold_id) VALUES(?1,?2,?3)";
    case Q_HOLD_STATE:
        return "UPDATE holds SET state=?2 WHERE id=?1";
    case Q_HOLD_MEMBERS_DELETE:
        return "DELETE FROM hold_members WHERE hold_id=?1";
    case Q_HOLDS_EXPIRED:
        return "SELECT hold_id FROM hold_members WHERE budget_id=?1 AND expires_at<=?2 ORDER BY "
               "expires_at, hold_id LIMIT ?3";
    case Q_HOLDS_OF_BUDGET:
        return "SELECT id FROM holds WHERE leaf_id=?1 AND state=0 LIMIT ?2";
    case Q_HOLDS_MIN_EXPIRY:
        return "SELECT MIN(expires_at) FROM hold_members WHERE budget_id=?1";
    case Q_EVENT_INSERT:
        return "INSERT INTO events(time_ms, budget, op, model, input, output, cache_write_5m, "
               "cache_write_1h, cache_read, tokens, cost_nusd, allowed, reason, hold_id, key, "
               "actor) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)";
    case Q_IDEM_GET:
        return "SELECT params, result FROM idempotency WHERE key=?1";
    case Q_IDEM_PUT:
        return "INSERT INTO idempotency(key, params, result, time_ms) VALUES(?1,?2,?3,?4)";
    case Q_IDEM_LIST:
        return "SELECT key, params, result, time_ms FROM idempotency WHERE key > ?1 ORDER BY key "
               "LIMIT ?2";
    case Q_PRICE_GET:
        return "SELECT model, input, output, cache_write_5m, cache_write_1h, cache_read, "
               "tier_threshold, tier_input, tier_output, tier_cache_write_5m, "
               "tier_cache_write_1h, tier_cache_read FROM prices WHERE model=?1";
    case Q_PRICE_PUT:
        return "INSERT OR REPLACE INTO prices(model, input, output, cache_write_5m, "
               "cache_write_1h, cache_read, tier_threshold, tier_input, tier_output, "
               "tier_cache_write_5m, tier_cache_write_1h, tier_cache_read) "
               "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)";
    case Q_PRICE_DELETE:
        return "DELETE FROM prices WHERE model=?1";
    case Q_PRICE_LIST:
        return "SELECT model, input, output, cache_write_5m, cache_write_1h, cache_read, "
               "tier_threshold, tier_input, tier_output, tier_cache_write_5m, "
               "tier_cache_write_1h, tier_cache_read FROM prices ORDER BY model";
    case Q_ROLE_GET:
        return "SELECT spec FROM roles WHERE name=?1";
    case Q_ROLE_PUT:
        return "INSERT OR REPLACE INTO roles(name, spec) VALUES(?1,?2)";
    case Q_ROLE_DELETE:
        return "DELETE FROM roles WHERE name=?1";
    case Q_ROLE_LIST:
        return "SELECT name, spec FROM roles ORDER BY name";
    case Q_TOKEN_PUT:
        return "INSERT INTO tokens(id, hash, scope, role, label, created_at, expires_at, "
               "revoked_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)";
    case Q_TOKEN_GET:
        return "SELECT id, scope, role, label, created_at, expires_at, revoked_at, hash FROM "
               "tokens WHERE id=?1";
    case Q_TOKEN_LIST:
        return "SELECT id, scope, role, label, created_at, expires_at, revoked_at, hash FROM "
               "tokens ORDER BY created_at, id";
    case Q_TOKEN_REVOKE:
        return "UPDATE tokens SET revoked_at=?2 WHERE id=?1 AND revoked_at=0";
    case Q_BEGIN:
        return "BEGIN";
    case Q_BEGIN_IMMEDIATE:
        return "BEGIN IMMEDIATE";
    case Q_COMMIT:
        return "COMMIT";
    case Q_ROLLBACK:
        return "ROLLBACK";
    case Q_SAVEPOINT:
        return "SAVEPOINT ab_op";
    case Q_RELEASE:
        return "RELEASE ab_op";
    case Q_ROLLBACK_TO:
        return "ROLLBACK TO ab_op";
    }
    return NULL;
}

/* The prepared statement for id, prepared on first use and reset for this use. */
static sqlite3_stmt *stmt(ab_store *st, int id)
{
    lite *l = L(st);
    if (!l->q[id]) {
        char buf[4096];
        pthread_once(&cols_once, cols_init);
        if (sqlite3_prepare_v3(l->db, query_sql(id, buf, sizeof buf), -1, SQLITE_PREPARE_PERSISTENT,
                               &l->q[id], NULL) != SQLITE_OK) {
            lite_fail(st, "prepare");
            return NULL;
        }
    }
    sqlite3_reset(l->q[id]);
    sqlite3_clear_bindings(l->q[id]);
    return l->q[id];
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
    sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

/* Runs a statement that returns no rows. */
static int step_done(ab_store *st, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return lite_fail(st, what);
    return AB_OK;
}

/* Steps once: AB_OK with a row, AB_ENOTFOUND without, else the failure. */
static int step_row(ab_store *st, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        return AB_OK;
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
        return AB_ENOTFOUND;
    return lite_fail(st, what);
}

static void col_text(sqlite3_stmt *s, int i, char *dst, size_t size)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    ab__strlcpy(dst, t ? (const char *)t : "", size);
}

/* Runs a prepared transaction-control statement. */
static int control(ab_store *st, int q, const char *what)
{
    sqlite3_stmt *s = stmt(st, q);
    return s ? step_done(st, s, what) : AB_ESTORE;
}

/* Notes which file path names, the first time it exists. */
static void file_note(const char *path, file_id *id)
{
    struct stat sb;
    if (!id->known && stat(path, &sb) == 0)
        *id = (file_id){1, sb.st_dev, sb.st_ino};
}

/* 1 if path still names the file noted in id (or none was noted yet). */
static int file_same(const char *path, const file_id *id)
{
    struct stat sb;
    return !id->known || (stat(path, &sb) == 0 && sb.st_dev == id->dev && sb.st_ino == id->ino);
}

/* Checks that the -wal and -shm files are the ones this connection uses (noting them the
 * first time they are seen). Removed under a running process, its writes would go to a log no
 * other process reads, and be lost with it, while another process made new ones beside it. */
static int side_files_check(ab_store *st, const char *file)
{
    lite *l = L(st);
    /* a stat of the -wal just after a commit's fsync took about 40 us (ext4; sync=full charges
     * fell from 0.94 to 0.69 of raw SQLite): checked once per 50 ms of writes, not per write */
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
    int64_t ms = (int64_t)(now.tv_sec - l->side_checked.tv_sec) * 1000 +
                 (now.tv_nsec - l->side_checked.tv_nsec) / 1000000;
    if ((l->side[0].known || l->side[1].known) && ms >= 0 && ms < 50)
        return AB_OK;
    l->side_checked = now;
    static const char *const suffix[2] = {"-wal", "-shm"};
    for (int i = 0; i < 2; i++) {
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s%s", file, suffix[i]) >= (int)sizeof path)
            continue;
        if (!file_same(path, &l->side[i]))
            return ab__fail(st, AB_ESTORE,
                            "sqlite: the store's '%s' was removed or replaced while the store was "
                            "open: what this process writes now would be lost (stop every process "
                            "that has the store open, then open it again)",
                            path);
        file_note(path, &l->side[i]);
    }
    return AB_OK;
}

/* The file at the store's path is still the one this connection opened: writes to a store file
 * removed (or replaced) under a running process went into a file nobody will open again — they
 * were acknowledged, then lost when it stopped — and reads answered from it what the store no
 * longer says (a daemon's /healthz said ok while every write failed). A stat() per transaction;
 * the -wal and -shm files are checked for writes (side_files_check). */
static int lite_file_check(ab_store *st, int write)
{
    lite *l = L(st);
    const char *file = sqlite3_db_filename(l->db, "main");
    if (!l->file.known || !file || !*file)
        return AB_OK;
    if (file_same(file, &l->file))
        return write ? side_files_check(st, file) : AB_OK;
    return ab__fail(st, AB_ESTORE,
                    "sqlite: the store file '%s' was removed or replaced after it was opened: "
                    "nothing written to it now would be kept (open the store again)",
                    file);
}

static int data_version(lite *l, unsigned *out)
{
    return sqlite3_file_control(l->db, "main", SQLITE_FCNTL_DATA_VERSION, out) == SQLITE_OK;
}

static void cache_new_gen(struct cache *c)
{
    c->gen++;
    c->budgets_n = 0;
}

/* A write transaction holds the lock: the cache is good if nobody else wrote since our commit. */
static void cache_begin(lite *l)
{
    if (!l->cache) {
        if (!(l->cache = calloc(1, sizeof *l->cache)))
            return;        /* no memory: every read runs its statement */
        l->cache->gen = 1; /* slots of generation 0 are free */
    }
    unsigned v;
    if (!l->cache->version_kept || !data_version(l, &v) || v != l->cache->version)
        cache_new_gen(l->cache);
    l->cache->on = 1;
}

/* The transaction ended, committed (ok) or not: then what it wrote through is not in the file,
 * and the next write transaction starts a new generation. */
static void cache_end(lite *l, int ok)
{
    struct cache *c = l->cache;
    if (!c || !c->on)
        return;
    c->on = 0;
    c->version_kept = ok && data_version(l, &c->version);
}

/* Forgets every entry (a rollback to a savepoint, a delete, a wipe). */
static void cache_drop(lite *l)
{
    if (l->cache)
        cache_new_gen(l->cache);
}

static uint64_t key_hash(const char *k)
{
    uint64_t h = UINT64_C(14695981039346656037); /* FNV-1a */
    for (; *k; k++)
        h = (h ^ (unsigned char)*k) * UINT64_C(1099511628211);
    return h ^ (h >> 32);
}

/* While the cache is in use: the slot of path's entry, or the free one where it goes (tag gen
 * not the current one), and path's hash in *h; else -1. */
static long budget_slot(lite *l, const char *path, uint64_t *h)
{
    struct cache *c = l->cache;
    if (!c || !c->on)
        return -1;
    *h = key_hash(path);
    for (uint64_t i = *h;; i++) { /* never full: at most half the slots are used */
        size_t k = (size_t)(i % (2 * CACHE_BUDGETS));
        if (c->tags[k].gen != c->gen ||
            (c->tags[k].hash == *h && strcmp(c->budgets[c->tags[k].entry].b.s.path, path) == 0))
            return (long)k;
    }
}

/* Notes path's row (NULL: there is none). */
static void budget_keep(lite *l, const char *path, const ab__budget *b)
{
    uint64_t h;
    long k = budget_slot(l, path, &h);
    if (k < 0)
        return;
    struct cache *c = l->cache;
    if (c->tags[k].gen != c->gen) { /* a new entry */
        if (c->budgets_n == CACHE_BUDGETS) {
            cache_new_gen(c);
            k = budget_slot(l, path, &h);
        }
        c->tags[k] = (cache_tag){c->gen, h, c->budgets_n++};
    }
    cached_budget *e = &c->budgets[c->tags[k].entry];
    e->found = b != NULL;
    if (b)
        e->b = *b;
    else
        ab__strlcpy(e->b.s.path, path, sizeof e->b.s.path);
}

static cached_price *price_slot(lite *l, const char *model)
{
    return l->cache && l->cache->on ? &l->cache->prices[key_hash(model) % CACHE_PRICES] : NULL;
}

/* Notes model's override (NULL: there is none) in its slot c (price_slot's). */
static void price_keep(lite *l, cached_price *c, const char *model, const ab_price *p)
{
    if (!c)
        return;
    c->gen = l->cache->gen;
    c->found = p != NULL;
    if (p)
        c->p = *p;
    else
        ab__strlcpy(c->p.model, model, sizeof c->p.model);
}

static int lite_begin(ab_store *st, int write)
{
    if (lite_file_check(st, write))
        return AB_ESTORE;
    int rc = control(st, write ? Q_BEGIN_IMMEDIATE : Q_BEGIN, "begin");
    if (rc)
        return rc;
    L(st)->in_txn = 1;
    if (write)
        cache_begin(L(st));
    return AB_OK;
}

static int lite_commit(ab_store *st)
{
    L(st)->in_txn = 0;
    int rc = control(st, Q_COMMIT, "commit");
    if (rc && sqlite3_get_autocommit(L(st)->db) == 0)
        control(st, Q_ROLLBACK, "rollback");
    cache_end(L(st), rc == AB_OK);
    return rc;
}

static void lite_rollback(ab_store *st)
{
    L(st)->in_txn = 0;
    if (sqlite3_get_autocommit(L(st)->db) == 0)
        control(st, Q_ROLLBACK, "rollback");
    cache_end(L(st), 0);
}

static void lite_close(ab_store *st)
{
    lite *l = L(st);
    if (!l)
        return;
    for (int i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(l->q[i]);
    sqlite3_close(l->db);
    free(l->cache);
    free(l);
}

static int lite_schema_version(ab_store *st, int *out)
{
    if (lite_file_check(st, 0)) /* what agentbudgetd's /healthz asks: the store's own file */
        return AB_ESTORE;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(L(st)->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
        return lite_fail(st, "user_version");
    int rc = sqlite3_step(s) == SQLITE_ROW ? AB_OK : AB_ESTORE;
    *out = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return rc ? lite_fail(st, "user_version") : AB_OK;
}

static void budget_read(sqlite3_stmt *s, ab__budget *b)
{
    memset(b, 0, sizeof *b);
    b->id = sqlite3_column_int64(s, 0);
    col_text(s, 1, b->s.path, sizeof b->s.path);
    col_text(s, 2, b->s.role, sizeof b->s.role);
    col_text(s, 3, b->s.model, sizeof b->s.model);
    int64_t *ints[AB__BUDGET_INTS];
    ab__budget_ints(b, ints);
    for (int i = 0; i < AB__BUDGET_INTS; i++)
        *ints[i] =
            sqlite3_column_type(s, 4 + i) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, 4 + i);
}

static void budget_bind(sqlite3_stmt *s, const ab__budget *b)
{
    sqlite3_bind_int64(s, 1, b->id);
    bind_text(s, 2, b->s.path);
    bind_text(s, 3, b->s.role);
    bind_text(s, 4, b->s.model);
    int64_t *ints[AB__BUDGET_INTS];
    ab__budget_ints((ab__budget *)b, ints); /* only read here */
    for (int i = 0; i < AB__BUDGET_INTS; i++) {
        if (ab__budget_int_nullable((size_t)i) && *ints[i] < 0)
            sqlite3_bind_null(s, 5 + i);
        else
            sqlite3_bind_int64(s, 5 + i, *ints[i]);
    }
}

static int lite_budget_get(ab_store *st, const char *path, ab__budget *out)
{
    lite *l = L(st);
    uint64_t h;
    long k = budget_slot(l, path, &h);
    if (k >= 0 && l->cache->tags[k].gen == l->cache->gen) {
        const cached_budget *e = &l->cache->budgets[l->cache->tags[k].entry];
        if (!e->found)
            return AB_ENOTFOUND;
        *out = e->b;
        return AB_OK;
    }
    sqlite3_stmt *s = stmt(st, Q_BUDGET_GET);
    if (!s)
        return AB_ESTORE;
    bind_text(s, 1, path);
    int rc = step_row(st, s, "read budget");
    if (rc == AB_OK) {
        budget_read(s, out);
        sqlite3_reset(s);
    }
    if (rc == AB_OK || rc == AB_ENOTFOUND)
        budget_keep(l, path, rc == AB_OK ? out : NULL);
    return rc;
}

static int lite_budget_get_id(ab_store *st, int64_t id, ab__budget *out)
{
    sqlite3_stmt *s = stmt(st, Q_BUDGET_GET_ID);
    if (!s)
        return AB_ESTORE;
    sqlite3_bind_int64(s, 1, id);
    int rc = step_row(st, s, "read budget");
    if (rc == AB_OK) {
        budget_read(s, out);
        sqlite3_reset(s);
    }
    return rc;
}

static int lite_budget_insert(ab_store *st, ab__budget *b)
{
    sqlite3_stmt *s = stmt(st, Q_BUDGET_INSERT);
    if (!s)
        return AB_ESTORE;
    budget_bind(s, b);
    sqlite3_bind_null(s, 1);
    int rc = step_done(st, s, "insert budget");
    if (rc == AB_OK) {
        b->id = sqlite3_last_insert_rowid(L(st)->db);
        budget_keep(L(st), b->s.path, b);
    }
    return rc;
}

static int lite_budget_update(ab_store *st, const ab__budget *b)
{
    sqlite3_stmt *s = stmt(st, Q_BUDGET_UPDATE);
    if (!s)
        return AB_ESTORE;
    budget_bind(s, b);
    int rc = step_done(st, s, "update budget");
    if (rc == AB_OK)
        budget_keep(L(st), b->s.path, b);
    return rc;
}

static int lite_budget_delete(ab_store *st, int64_t id)
{
    sqlite3_stmt *s = stmt(st, Q_BUDGET_DELETE);
    if (!s)
        return AB_ESTORE;
    sqlite3_bind_int64(s, 1, id);
    cache_drop(L(st)); /* by id: which path's entry it was is not known here */
    return step_done(st, s, "delete budget");
}

static int lite_budget_has_children(ab_store *st, const char *path, int *out)
{
    sqlite3_stmt *s = stmt(st, Q_BUDGET_CHILD);
    if (!s)
        return AB_ESTORE;
    bind_text(s, 1, path);
    int rc = step_row(st, s, "find children");
    *out = rc == AB_OK;
    sqlite3_reset(s);
    return rc == AB_ENOTFOUND ? AB_OK : rc;
}

static int lite_budget_list(ab_store *st, const char *prefix, int (*fn)(ab__budget *, void *),
                            void *ctx)
{
    char sql[2048];
    pthread_once(&cols_once, cols_init);
    snprintf(sql, sizeof sql,
             "SELECT id, path, %s FROM budgets WHERE ?1 IS NULL OR path=?1 OR (path > ?1 || '/' "
             "AND path < ?1 || '0') ORDER BY path",
             budget_cols);
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(L(st)->db, sql, -1, &s, NULL) != SQLITE_OK)
        return lite_fail(st, "list budgets");
    if (prefix)
        bind_text(s, 1, prefix);
    int rc = 0, step;
    while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW) {
        ab__budget b;
        budget_read(s, &b);
        rc = fn(&b, ctx);
    }
    if (!rc && step != SQLITE_DONE)
        rc = lite_fail(st, "list budgets");
    sqlite3_finalize(s);
    return rc;
}

static int lite_hold_get(ab_store *st, const char *id, ab__hold *out)
{
    sqlite3_stmt *s = stmt(st, Q_HOLD_GET);
    if (!s)
        return AB_ESTORE;
    bind_text(s, 1, id);
    int rc = step_row(st, s, "read hold");
    if (rc)
        return rc;
    memset(out, 0, sizeof *out);
    col_text(s, 0, out->h.id, sizeof out->h.id);
    col_text(s, 1, out->h.budget, sizeof out->h.budget);
    col_text(s, 2, out->h.model, sizeof out->h.model);
    int64_t *cols[] = {&out->h.tokens,
                       &out->h.cost_nusd,
                       &out->h.created_at_ms,
                       &out->h.expires_at_ms,
                       NULL,
                       &out->requests,
                       &out->usage.input,
                       &out->usage.output,
                       &out->usage.cache_write_5m,
                       &out->usage.cache_write_1h,
                       &out->usage.cache_read};
    for (int i = 0; i < 11; i++)
        if (cols[i])
            *cols[i] = sqlite3_column_int64(s, 3 + i);
    out->h.state = sqlite3_column_int(s, 7);
    const char *chain = (const char *)sqlite3_column_text(s, 14);
    for (char *end; chain && *chain && out->chain_len < AB_PATH_SEGMENTS_MAX; chain = end) {
        out->chain_ids[out->chain_len++] = strtoll(chain, &end, 10);
        if (*end == ',')
            end++;
    }
    sqlite3_reset(s);
    return AB_OK;
}

static int lite_hold_insert(ab_store *st, const ab__hold *h)
{
    sqlite3_stmt *s = stmt(st, Q_HOLD_INSERT);
    if (!s)
        return AB_ESTORE;
    char chain[AB_PATH_SEGMENTS_MAX * 24] = "";
    int off = 0;
    for (size_t i = 0; i < h->chain_len; i++)
        off += snprintf(chain + off, sizeof chain - (size_t)off, "%s%" PRId64, i ? "," : "",
                        h->chain_ids[i]);
    bind_text(s, 1, h->h.id);
    bind_text(s, 2, h->h.budget);
    bind_text(s, 3, h->h.model);
    const int64_t v[] = {h->h.tokens,
                         h->h.cost_nusd,
                         h->h.created_at_ms,
                         h->h.expires_at_ms,
                         h->h.state,
                         h->requests,
                         h->usage.input,
                         h->usage.output,
                         h->usage.cache_write_5m,
                         h->usage.cache_write_1h,
                         h->usage.cache_read};
    for (int i = 0; i < 11; i++)
        sqlite3_bind_int64(s, 4 + i, v[i]);
    bind_text(s, 15, chain);
    sqlite3_bind_int64(s, 16, h->chain_len ? h->chain_ids[0] : 0);
    int rc = step_done(st, s, "insert hold");
    for (size_t i = 0; i < h->chain_len && !rc; i++) {
        if (!(s = stmt(st, Q_HOLD_MEMBER_INSERT)))
            return AB_ESTORE;
        sqlite3_bind_int64(s, 1, h->chain_ids[i]);
        sqlite3_bind_int64(s, 2, h->h.expires_at_ms);
        bind_text(s, 3, h->h.id);
        rc = step_done(st, s, "insert hold member");
    }
    return rc;
}

static int lite_hold_set_state(ab_store *st, const char *id, int state)
{
    sqlite3_stmt *s = stmt(st, Q_HOLD_STATE);
    if (!s)
        return AB_ESTORE;
    bind_text(s, 1, id);
    sqlite3_bind_int(s, 2, state);
    int rc = step_done(st, s, "update hold");
    if (rc || state == 0)
        return rc;
    if (!(s = stmt(st, Q_HOLD_MEMBERS_DELETE)))
        return AB_ESTORE;
    bind_text(s, 1, id);
    return step_done(st, s, "close hold");
}

/* Collects the first text column of each row into ids. */
static int collect_ids(ab_store *st, sqlite3_stmt *s, char (*ids)[40], size_t max, size_t *n)
{
    int step;
    *n = 0;
    while (*n < max && (step = sqlite3_step(s)) == SQLITE_ROW)
        col_text(s, 0, ids[(*n)++], 40);
    sqlite3_reset(s);
    if (*n < max && step != SQLITE_DONE)
        return lite_fail(st, "read holds");
    return AB_OK;
}

static int lite_holds_expired(ab_store *st, int64_t budget_id, int64_t now_ms, char (*ids)[40],
                              size_t max, size_t *n)
{
    sqlite3_stmt *s = stmt(st, Q_HOLDS_EXPIRED);
    if (!s)
        return AB_ESTORE;
    sqlite3_bind_int64(s, 1, budget_id);
    sqlite3_bind_int64(s, 2, now_ms);
    sqlite3_bind_int64(s, 3, (int64_t)max);
    return collect_ids(st, s, ids, max, n);
}

static int lite_holds_of_budget(ab_store *st, int64_t leaf_id, char (*ids)[40], size_t max,
                                size_t *n)
{
    sqlite3_stmt *s = stmt(st, Q_HOLDS_OF_BUDGET);
    if (!s)
        return AB_ESTORE;
    sqlite3_bind_int64(s, 1, leaf_id);
    sqlite3_bind_int64(s, 2, (int64_t)max);
    return collect_ids(st, s, ids, max, n);
}

static int lite_holds_min_expiry(ab_store *st, int64_t budget_id, int64_t *out)
{
    sqlite3_stmt *s = stmt(st, Q_HOLDS_MIN_EXPIRY);
    if (!s)
        return AB_ESTORE;
    sqlite3_bind_int64(s, 1, budget_id);
    int rc = step_row(st, s, "read hold expiry");
    if (rc)
        return rc == AB_ENOTFOUND ? AB_ESTORE : rc;
    *out = sqlite3_column_type(s, 0) == SQLITE_NULL ? INT64_MAX : sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return AB_OK;
}

static int lite_event_append(ab_store *st, ab_event *e)
{
    sqlite3_stmt *s = stmt(st, Q_EVENT_INSERT);
    if (!s)
        return AB_ESTORE;
    sqlite3_bind_int64(s, 1, e->time_ms);
    bind_text(s, 2, e->budget);
    bind_text(s, 3, e->op);
    bind_text(s, 4, e->model);
    const int64_t v[] = {e->usage.input,
                         e->usage.output,
                         e->usage.cache_write_5m,
                         e->usage.cache_write_1h,
                         e->usage.cache_read,
                         e->tokens,
                         e->cost_nusd,
                         e->allowed};
    for (int i = 0; i < 8; i++)
        sqlite3_bind_int64(s, 5 + i, v[i]);
    bind_text(s, 13, e->reason);
    bind_text(s, 14, e->hold_id);
    bind_text(s, 15, e->key);
    bind_text(s, 16, e->actor);
    int rc = step_done(st, s, "append event");
    if (rc == AB_OK)
        e->id = sqlite3_last_insert_rowid(L(st)->db);
    return rc;
}

static int lite_events_query(ab_store *st, const ab_event_query *q, ab_event_fn fn, void *ctx)
{
    /* only the filters given, so that a budget filter can use the (budget, id) index */
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT id, time_ms, budget, op, model, input, output, cache_write_5m, "
             "cache_write_1h, cache_read, tokens, cost_nusd, allowed, reason, hold_id, key, actor "
             "FROM events WHERE id > ?1%s%s%s%s ORDER BY id LIMIT ?6",
             q->budget ? " AND (budget=?2 OR (budget > ?2 || '/' AND budget < ?2 || '0'))" : "",
             q->op ? " AND op=?3" : "", q->since_ms ? " AND time_ms >= ?4" : "",
             q->until_ms ? " AND time_ms < ?5" : "");
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(L(st)->db, sql, -1, &s, NULL) != SQLITE_OK)
        return lite_fail(st, "query events");
    sqlite3_bind_int64(s, 1, q->after_id);
    if (q->budget)
        bind_text(s, 2, q->budget);
    if (q->op)
        bind_text(s, 3, q->op);
    sqlite3_bind_int64(s, 4, q->since_ms);
    sqlite3_bind_int64(s, 5, q->until_ms);
    sqlite3_bind_int64(s, 6, q->limit);
    int rc = 0, step;
    while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW) {
        ab_event e;
        memset(&e, 0, sizeof e);
        e.id = sqlite3_column_int64(s, 0);
        e.time_ms = sqlite3_column_int64(s, 1);
        col_text(s, 2, e.budget, sizeof e.budget);
        col_text(s, 3, e.op, sizeof e.op);
        col_text(s, 4, e.model, sizeof e.model);
        int64_t *v[] = {&e.usage.input,
                        &e.usage.output,
                        &e.usage.cache_write_5m,
                        &e.usage.cache_write_1h,
                        &e.usage.cache_read,
                        &e.tokens,
                        &e.cost_nusd};
        for (int i = 0; i < 7; i++)
            *v[i] = sqlite3_column_int64(s, 5 + i);
        e.allowed = sqlite3_column_int(s, 12);
        col_text(s, 13, e.reason, sizeof e.reason);
        col_text(s, 14, e.hold_id, sizeof e.hold_id);
        col_text(s, 15, e.key, sizeof e.key);
        col_text(s, 16, e.actor, sizeof e.actor);
        rc = fn(&e, ctx);
    }
    if (!rc && step != SQLITE_DONE)
        rc = lite_fail(st, "query events");
    sqlite3_finalize(s);
    return rc;
}

static int lite_idem_get(ab_store *st, const char *key, ab__idem *out)
{
    sqlite3_stmt *s = stmt(st, Q_IDEM_GET);
    if (!s)
        return AB_ESTORE;
    bind_text(s, 1, key);
    int rc = step_row(st, s, "read idempotency key");
    if (rc)
        return rc;
    col_text(s, 0, out->params, sizeof out->params);
    col_text(s, 1, out->result, sizeof out->result);
    sqlite3_reset(s);
    return AB_OK;
}

static int lite_idem_put(ab_store *st, const char *key, const ab__idem *rec, int64_t now_ms)
{
    sqlite3_stmt *s = stmt(st, Q_IDEM_PUT);
    if (!s)
        return AB_ESTORE;
    bind_text(s, 1, key);
    bind_text(s, 2, rec->params);
    bind_text(s, 3, rec->result);
    sqlite3_bind_int64(s, 4, now_ms);
    return step_done(st, s, "save idempotency key");
}

static int lite_idem_list(ab_store *st, const char *after, size_t limit,
                          int (*fn)(const char *, const ab__idem *, void *), void *ctx)
{
    sqlite3_stmt *s = stmt(st, Q_IDEM_LIST);
    if (!s)
        return AB_ESTORE;
    bind_text(s, 1, after);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)limit);
    int rc = 0, step;
    while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW) {
        char key[AB_KEY_BYTES_MAX + 1];
        ab__idem rec;
        col_text(s, 0, key, sizeof key);
        col_text(s, 1, rec.params, sizeof rec.params);
        col_text(s, 2, rec.result, sizeof rec.result);
        rec.time_ms = sqlite3_column_int64(s, 3);
        rc = fn(key, &rec, ctx);
    }
    if (!rc && step != SQLITE_DONE)
        rc = lite_fail(st, "list idempotency keys");
    sqlite3_reset(s);
    return rc;
}

static void price_read(sqlite3_stmt *s, ab_price *p)
{
    memset(p, 0, sizeof *p);
    col_text(s, 0, p->model, sizeof p->model);
    int64_t *v[AB__PRICE_INTS];
    ab__price_ints(p, v);
    for (int i = 0; i < AB__PRICE_INTS; i++)
        *v[i] = sqlite3_column_int64(s, 1 + i);
}

static int lite_price_get(ab_store *st, const char *model, ab_price *out)
{
    lite *l = L(st);
    cached_price *c = price_slot(l, model);
    if (c && c->gen == l->cache->gen && strcmp(c->p.model, model) == 0) {
        if (!c->found)
            return AB_ENOTFOUND;
        *out = c->p;
        return AB_OK;
    }
    sqlite3_stmt *s = stmt(st, Q_PRICE_GET);
    if (!s)
        return AB_ESTORE;
    bind_text(s, 1, model);
    int rc = step_row(st, s, "read price");
    if (rc == AB_OK) {
        price_read(s, out);
        sqlite3_reset(s);
    }
    if (rc == AB_OK || rc == AB_ENOTFOUND)
        price_keep(l, c, model, rc == AB_OK ? out : NULL);
    return rc;
}

static int lite_price_put(ab_store *st, const ab_price *p)
{
    sqlite3_stmt *s = stmt(st, Q_PRICE_PUT);
    if (!s)
        return AB_ESTORE;
    bind_text(s, 1, p->model);
    int64_t *v[AB__PRICE_INTS];
    ab__price_ints((ab_price *)p, v); /* only read here */
    for (int i = 0; i < AB__PRICE_INTS; i++)
        sqlite3_bind_int64(s, 2 + i, *v[i]);
    cache_drop(L(st));
    return step_done(st, s, "save price");
}

/* DELETE by a text key; AB_ENOTFOUND when no row went. */
static int delete_by(ab_store *st, int q, const char *key)
{
    sqlite3_stmt *s = stmt(st, q);
    if (!s)
        return AB_ESTORE;
    bind_text(s, 1, key);
    int rc = step_done(st, s, "delete");
    if (rc == AB_OK && sqlite3_changes(L(st)->db) == 0)
        return AB_ENOTFOUND;
    return rc;
}

static int lite_price_delete(ab_store *st, const char *model)
{
    cache_drop(L(st));
    return delete_by(st, Q_PRICE_DELETE, model);
}

static int lite_price_list(ab_store *st, ab_price_fn fn, void *ctx)
{
    sqlite3_stmt *s = stmt(st, Q_PRICE_LIST);
    if (!s)
        return AB_ESTORE;
    int rc = 0, step;
    while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW) {
        ab_price p;
        price_read(s, &p);
        rc = fn(&p, ctx);
    }
    if (!rc && step != SQLITE_DONE)
        rc = lite_fail(st, "list prices");
    sqlite3_reset(s);
    return rc;
}

static int lite_role_get(ab_store *st, const char *name, char **spec)
{
    sqlite3_stmt *s = stmt(st, Q_ROLE_GET);
    if (!s)
        return AB_ESTORE;
    bind_text(s, 1, name);
    int rc = step_row(st, s, "read role");
    if (rc)
        return rc;
    const unsigned char *t = sqlite3_column_text(s, 0);
    *spec = strdup(t ? (const char *)t : "");
    sqlite3_reset(s);
    return *spec ? AB_OK : ab__fail(st, AB_ENOMEM, "out of memory");
}

static int lite_role_put(ab_store *st, const char *name, const char *spec)
{
    sqlite3_stmt *s = stmt(st, Q_ROLE_PUT);
    if (!s)
        return AB_ESTORE;
    bind_text(s, 1, name);
    bind_text(s, 2, spec);
    return step_done(st, s, "save role");
}

static int lite_role_delete(ab_store *st, const char *name)
{
    return delete_by(st, Q_ROLE_DELETE, name);
}

static int lite_role_list(ab_store *st, int (*fn)(const char *, const char *, void *), void *ctx)
{
    sqlite3_stmt *s = stmt(st, Q_ROLE_LIST);
    if (!s)
        return AB_ESTORE;
    int rc = 0, step;
    while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW)
        rc = fn((const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1),
                ctx);
    if (!rc && step != SQLITE_DONE)
        rc = lite_fail(st, "list roles");
    sqlite3_reset(s);
    return rc;
}

static int lite_wipe(ab_store *st)
{
    cache_drop(L(st));
    static const char *const tables[] = {"budgets",     "holds",  "hold_members", "events",
                                         "idempotency", "prices", "roles",        "tokens"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        char sql[64];
        snprintf(sql, sizeof sql, "DELETE FROM %s", tables[i]);
        int rc = exec(st, sql);
        if (rc)
            return rc;
    }
    return AB_OK;
}

/* 1 if SQLite ended the batch's transaction by itself: after some errors (SQLITE_FULL,
 * SQLITE_IOERR, SQLITE_NOMEM) it may roll back the whole transaction, not the statement only.
 * A SAVEPOINT would then begin a transaction of its own and its RELEASE commit it: the batch's
 * later operations would each be committed alone, and its COMMIT fail, its callers told that
 * nothing happened. */
static int txn_lost(ab_store *st)
{
    return L(st)->in_txn && sqlite3_get_autocommit(L(st)->db);
}

static int lite_savepoint(ab_store *st)
{
    if (txn_lost(st)) /* an earlier operation's error ended it: the batch is void */
        return ab__fail(st, AB_EREPLAY,
                        "sqlite: an error rolled the batch's whole transaction back: run it again");
    return control(st, Q_SAVEPOINT, "savepoint");
}

static int lite_savepoint_release(ab_store *st)
{
    return control(st, Q_RELEASE, "release savepoint");
}

static int lite_savepoint_rollback(ab_store *st)
{
    cache_drop(L(st)); /* what the operation wrote through is undone */
    if (txn_lost(st))  /* not this operation alone: the whole batch was undone */
        return AB_EREPLAY;
    control(st, Q_ROLLBACK_TO, "rollback to savepoint");
    control(st, Q_RELEASE, "release savepoint");
    return AB_OK; /* a flat batch is a batch of savepoints here: cheap on SQLite */
}

static int lite_token_put(ab_store *st, const ab_token *t, const char *hash_hex)
{
    sqlite3_stmt *s = stmt(st, Q_TOKEN_PUT);
    if (!s)
        return AB_ESTORE;
    bind_text(s, 1, t->id);
    bind_text(s, 2, hash_hex);
    bind_text(s, 3, t->scope);
    sqlite3_bind_int(s, 4, (int)t->role);
    bind_text(s, 5, t->label);
    sqlite3_bind_int64(s, 6, t->created_at_ms);
    sqlite3_bind_int64(s, 7, t->expires_at_ms);
    sqlite3_bind_int64(s, 8, t->revoked_at_ms);
    return step_done(st, s, "save token");
}

static void token_read(sqlite3_stmt *s, ab_token *t, char *hash_hex)
{
    memset(t, 0, sizeof *t);
    col_text(s, 0, t->id, sizeof t->id);
    col_text(s, 1, t->scope, sizeof t->scope);
    t->role = sqlite3_column_int(s, 2) ? AB_TOKEN_ADMIN : AB_TOKEN_AGENT;
    col_text(s, 3, t->label, sizeof t->label);
    t->created_at_ms = sqlite3_column_int64(s, 4);
    t->expires_at_ms = sqlite3_column_int64(s, 5);
    t->revoked_at_ms = sqlite3_column_int64(s, 6);
    if (hash_hex)
        col_text(s, 7, hash_hex, 65);
}

static int lite_token_get(ab_store *st, const char *id, ab_token *t, char hash_hex[65])
{
    sqlite3_stmt *s = stmt(st, Q_TOKEN_GET);
    if (!s)
        return AB_ESTORE;
    bind_text(s, 1, id);
    int rc = step_row(st, s, "read token");
    if (rc)
        return rc;
    token_read(s, t, hash_hex);
    sqlite3_reset(s);
    return AB_OK;
}

static int lite_token_list(ab_store *st, ab_token_fn fn, void *ctx)
{
    sqlite3_stmt *s = stmt(st, Q_TOKEN_LIST);
    if (!s)
        return AB_ESTORE;
    int rc = 0, step;
    while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW) {
        ab_token t;
        token_read(s, &t, NULL);
        rc = fn(&t, ctx);
    }
    if (!rc && step != SQLITE_DONE)
        rc = lite_fail(st, "list tokens");
    sqlite3_reset(s);
    return rc;
}

static int lite_token_revoke(ab_store *st, const char *id, int64_t now_ms)
{
    ab_token t;
    char hash[65];
    int rc = lite_token_get(st, id, &t, hash);
    if (rc)
        return rc;
    sqlite3_stmt *s = stmt(st, Q_TOKEN_REVOKE);
    if (!s)
        return AB_ESTORE;
    bind_text(s, 1, id);
    sqlite3_bind_int64(s, 2, now_ms);
    return step_done(st, s, "revoke token");
}

static int lite_identity(ab_store *st, char *out, size_t size)
{
    const char *file = sqlite3_db_filename(L(st)->db, "main");
    struct stat sb;
    if (!file || !*file || stat(file, &sb) != 0)
        return AB_ENOTFOUND;
    snprintf(out, size, "sqlite:%ju:%ju", (uintmax_t)sb.st_dev, (uintmax_t)sb.st_ino);
    return AB_OK;
}

static const ab__store_ops lite_ops = {
    .identity = lite_identity,
    .scheme = "sqlite",
    .begin = lite_begin,
    .commit = lite_commit,
    .rollback = lite_rollback,
    .close = lite_close,
    .schema_version = lite_schema_version,
    .budget_get = lite_budget_get,
    .budget_get_id = lite_budget_get_id,
    .budget_insert = lite_budget_insert,
    .budget_update = lite_budget_update,
    .budget_delete = lite_budget_delete,
    .budget_has_children = lite_budget_has_children,
    .budget_list = lite_budget_list,
    .hold_get = lite_hold_get,
    .hold_insert = lite_hold_insert,
    .hold_set_state = lite_hold_set_state,
    .holds_expired = lite_holds_expired,
    .holds_of_budget = lite_holds_of_budget,
    .holds_min_expiry = lite_holds_min_expiry,
    .event_append = lite_event_append,
    .events_query = lite_events_query,
    .idem_get = lite_idem_get,
    .idem_put = lite_idem_put,
    .idem_list = lite_idem_list,
    .price_get = lite_price_get,
    .price_put = lite_price_put,
    .price_delete = lite_price_delete,
    .price_list = lite_price_list,
    .role_get = lite_role_get,
    .role_put = lite_role_put,
    .role_delete = lite_role_delete,
    .role_list = lite_role_list,
    .wipe = lite_wipe,
    .savepoint = lite_savepoint,
    .savepoint_release = lite_savepoint_release,
    .savepoint_rollback = lite_savepoint_rollback,
    .token_put = lite_token_put,
    .token_get = lite_token_get,
    .token_list = lite_token_list,
    .token_revoke = lite_token_revoke,
};

/* Creates or migrates the schema to AB_SCHEMA_VERSION, under the write lock. */
/* Another program's database (a mistyped store path) is refused before anything of it changes,
 * its journal mode included (WAL is set for good, and a rollback does not undo it): a file of
 * schema version 0 that has tables, or of another version without agentbudget's budgets table
 * (applications set user_version too). One statement, one snapshot: a store that another process
 * made meanwhile has its version with its tables. */
static int foreign_check(ab_store *st)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(L(st)->db,
                           "SELECT (SELECT user_version FROM pragma_user_version), (SELECT name "
                           "FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "
                           "ESCAPE '\\' LIMIT 1), EXISTS (SELECT 1 FROM sqlite_master WHERE type = "
                           "'table' AND name = 'budgets')",
                           -1, &s, NULL) != SQLITE_OK)
        return lite_fail(st, "reading the schema");
    int rc = AB_OK;
    if (sqlite3_step(s) != SQLITE_ROW) {
        rc = lite_fail(st, "reading the schema");
    } else {
        int version = sqlite3_column_int(s, 0), ours = sqlite3_column_int(s, 2);
        const char *name = (const char *)sqlite3_column_text(s, 1);
        char safe[65];
        ab__strlcpy(safe, name ? name : "", sizeof safe);
        for (char *p = safe; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                *p = '?';
        if (version == 0 && name)
            rc = ab__fail(st, AB_ESTORE,
                          "sqlite: not an agentbudget store: it has a table '%s' and no schema "
                          "version; nothing in it was changed (a wrong store path?)",
                          safe);
        else if (version != 0 && !ours)
            rc = ab__fail(st, AB_ESTORE,
                          "sqlite: not an agentbudget store: its schema version is %d but it has "
                          "no budgets table; nothing in it was changed (a wrong store path?)",
                          version);
    }
    sqlite3_finalize(s);
    return rc;
}

static int migrate(ab_store *st)
{
    int version, rc = lite_schema_version(st, &version);
    if (rc || version == AB_SCHEMA_VERSION)
        return rc;
    if ((rc = foreign_check(st))) /* before anything that writes */
        return rc;
    if (version > AB_SCHEMA_VERSION)
        return ab__fail(st, AB_ESTORE,
                        "the store's schema is version %d, newer than this agentbudget (%d): "
                        "upgrade agentbudget",
                        version, AB_SCHEMA_VERSION);
    if (sqlite3_exec(L(st)->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK)
        return lite_fail(st, "journal_mode=WAL");
    if ((rc = exec(st, "BEGIN IMMEDIATE")))
        return rc;
    rc = lite_schema_version(st, &version);
    if (!rc && version > AB_SCHEMA_VERSION) /* another process migrated past us meanwhile */
        rc = ab__fail(st, AB_ESTORE,
                      "the store's schema is version %d, newer than this agentbudget (%d): "
                      "upgrade agentbudget",
                      version, AB_SCHEMA_VERSION);
    if (!rc && version == AB_SCHEMA_VERSION) {
        sqlite3_exec(L(st)->db, "ROLLBACK", NULL, NULL, NULL);
        return AB_OK;
    }
    if (!rc && version < 1) {
        pthread_once(&cols_once, cols_init);
        char extra[2048], sql[4096];
        ab__limit_columns_sql("INTEGER", extra, sizeof extra);
        for (size_t i = 0; i < sizeof schema_v1 / sizeof schema_v1[0] && !rc; i++) {
            snprintf(sql, sizeof sql, schema_v1[i], extra);
            rc = exec(st, sql);
        }
    }
    /* version 2: the time index on events cost a page write per event and served no query */
    if (!rc && version < 2)
        rc = exec(st, "DROP INDEX IF EXISTS events_time");
    /* version 3: API tokens for agentbudgetd (only their SHA-256 is kept) */
    if (!rc && version < 3)
        rc = exec(st, "CREATE TABLE tokens(id TEXT PRIMARY KEY, hash TEXT NOT NULL, scope TEXT "
                      "NOT NULL, role INTEGER NOT NULL, label TEXT NOT NULL, created_at INTEGER "
                      "NOT NULL, expires_at INTEGER NOT NULL, revoked_at INTEGER NOT NULL)");
    /* version 4: the (budget, id) index on events took a write to a random page of it per
     * event — a third of a charge's cost at sync=normal. A query for one budget's events now
     * reads the log in id order (about 60 ms per million events here). */
    if (!rc && version < 4)
        rc = exec(st, "DROP INDEX IF EXISTS events_budget");
    /* later versions: `if (!rc && version < 5) { … }` steps go here, in order */
    if (!rc)
        rc = exec(st, "PRAGMA user_version=4");
    if (rc) {
        sqlite3_exec(L(st)->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    return exec(st, "COMMIT");
}

/* Reads "?sync=full|normal&busy_ms=N" into the pragmas to run. */
static int parse_query(ab_store *st, const char *q, int *sync_full, int *busy_ms)
{
    int seen_sync = 0, seen_busy = 0;
    while (q && *q) {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        int is_sync = len >= 5 && strncmp(q, "sync=", 5) == 0,
            is_busy = len >= 8 && strncmp(q, "busy_ms=", 8) == 0;
        if ((is_sync && seen_sync++) || (is_busy && seen_busy++))
            return ab__fail(st, AB_EINVAL, "store URL: %s given twice",
                            is_sync ? "sync" : "busy_ms");
        if (len == 9 && strncmp(q, "sync=full", 9) == 0)
            *sync_full = 1;
        else if (len == 11 && strncmp(q, "sync=normal", 11) == 0)
            *sync_full = 0;
        else if (len > 8 && is_busy) {
            char num[16];
            int64_t v;
            if (len - 8 >= sizeof num)
                return ab__fail(st, AB_EINVAL,
                                "store URL: busy_ms must be a whole number of 0 to 600000 ms");
            memcpy(num, q + 8, len - 8);
            num[len - 8] = '\0';
            if (ab_tokens_parse(num, &v) || v > 600000)
                return ab__fail(st, AB_EINVAL,
                                "store URL: busy_ms must be a whole number of 0 to 600000 ms");
            *busy_ms = (int)v;
        } else
            return ab__fail(st, AB_EINVAL,
                            "store URL: unknown option '%.*s' (sync=full|normal, busy_ms=N)",
                            (int)len, q);
        q = amp ? amp + 1 : NULL;
    }
    return AB_OK;
}

/* SQLite's "unable to open database file", with why: its errno is not reliable here (after a
 * refused create it tries to open the file read-only, and says ENOENT), so the directory is
 * looked at. */
static int cant_open(ab_store *st, const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash == path ? 1 : slash - path) : 1,
             slash ? path : ".");
    struct stat sb;
    const char *why = stat(dir, &sb) != 0        ? "its directory '%s' does not exist"
                      : !S_ISDIR(sb.st_mode)     ? "'%s' is not a directory"
                      : access(dir, W_OK | X_OK) ? "its directory '%s' is not writable by this user"
                                                 : NULL;
    lite_fail(st, path);
    if (!why)
        return AB_ESTORE;
    char msg[sizeof st->errmsg], because[4200];
    ab__strlcpy(msg, st->errmsg, sizeof msg);
    snprintf(because, sizeof because, why, dir);
    return ab__fail(st, AB_ESTORE, "%s (%s)", msg, because);
}

int ab__store_sqlite_open(ab_store *st, const char *rest)
{
    char path[4096];
    if (strncmp(rest, "//", 2) == 0)
        rest += 2;
    const char *qm = strchr(rest, '?');
    size_t plen = qm ? (size_t)(qm - rest) : strlen(rest);
    if (plen == 0 || plen >= sizeof path)
        return ab__fail(st, AB_EINVAL, "store URL: sqlite: needs a file path (sqlite:PATH)");
    memcpy(path, rest, plen);
    path[plen] = '\0';
    int sync_full = 1, busy_ms = 5000;
    int rc = parse_query(st, qm ? qm + 1 : NULL, &sync_full, &busy_ms);
    if (rc)
        return rc;
    if (strcmp(path, ":memory:") == 0)
        return ab__fail(st, AB_EINVAL,
                        "store URL: sqlite::memory: is a database that is not kept: use memory: "
                        "for that, or name a file (sqlite:./:memory: for one called so)");
    struct stat dir;
    if (stat(path, &dir) == 0 && S_ISDIR(dir.st_mode))
        return ab__fail(st, AB_ESTORE, "sqlite: '%s' is a directory, not a store file", path);
    /* a device or a pipe is no store either; SQLite would make PATH-journal beside it first
     * (/dev/null-journal, as root) */
    if (stat(path, &dir) == 0 && !S_ISREG(dir.st_mode))
        return ab__fail(st, AB_ESTORE,
                        "sqlite: '%s' is not a regular file (a device, pipe or socket), not a "
                        "store file",
                        path);
    /* a relative path is opened as ./PATH: else SQLite, built to take URIs, reads "file:…" as
     * one (and its query as options), not as the file of that name */
    char open_as[sizeof path + 2];
    snprintf(open_as, sizeof open_as, "%s%s", path[0] == '/' ? "" : "./", path);
    lite *l = calloc(1, sizeof *l);
    if (!l)
        return ab__fail(st, AB_ENOMEM, "out of memory");
    st->impl = l;
    st->ops = &lite_ops;
    if (sqlite3_open_v2(open_as, &l->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        return (sqlite3_errcode(l->db) & 0xff) == SQLITE_CANTOPEN ? cant_open(st, path)
                                                                  : lite_fail(st, path);
    sqlite3_busy_timeout(l->db, busy_ms);
    if ((rc = exec(st, sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL")) ||
        (rc = migrate(st))) {
        /* which file: "file is not a database" alone does not say */
        char msg[sizeof st->errmsg];
        ab__strlcpy(msg, st->errmsg, sizeof msg);
        return ab__fail(st, rc, "%s (store file '%s')", msg, path);
    }
    const char *file = sqlite3_db_filename(l->db, "main");
    if (file && *file) {
        file_note(file, &l->file);
        side_files_check(st, file); /* notes them: nothing to compare yet */
    }
    return AB_OK;
}
