/* store_pg.c — the fleet store (postgres://…, postgresql://…, or libpq's key=value form): one
 * set of budgets shared by agents on many hosts. Every operation is one transaction. Writers
 * run at READ COMMITTED and lock each budget row they read (SELECT … FOR UPDATE), so the
 * read-modify-write of a budget tree cannot lose an update or overspend; readers take a
 * REPEATABLE READ snapshot. A deadlock, serialization failure or raced unique key aborts the
 * transaction and the operation is run again (AB__ERETRY). A lost connection fails the
 * operation in flight (AB_ESTORE) and the next one reconnects. */
#include <dlfcn.h>
#include <inttypes.h>
#include <libpq-fe.h> /* types and prototypes only: libpq itself is loaded on first use */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* libpq pulls in some twenty shared libraries (TLS, Kerberos, LDAP); linking it would make every
 * process pay for loading them, and the CLI is run once per hook call. So it is loaded with
 * dlopen() by the first postgres:// store a process opens. */
static struct {
    PGconn *(*connectdb)(const char *);
    ConnStatusType (*status)(const PGconn *);
    char *(*error_message)(const PGconn *);
    void (*finish)(PGconn *);
    void (*reset)(PGconn *);
    PGresult *(*exec)(PGconn *, const char *);
    PGresult *(*prepare)(PGconn *, const char *, const char *, int, const Oid *);
    PGresult *(*exec_prepared)(PGconn *, const char *, int, const char *const *, const int *,
                               const int *, int);
    ExecStatusType (*result_status)(const PGresult *);
    char *(*result_error_field)(const PGresult *, int);
    char *(*result_error_message)(const PGresult *);
    void (*clear)(PGresult *);
    int (*ntuples)(const PGresult *);
    char *(*getvalue)(const PGresult *, int, int);
    int (*getisnull)(const PGresult *, int, int);
    char *(*cmd_tuples)(PGresult *);
    char *(*cmd_status)(PGresult *);
    PGTransactionStatusType (*transaction_status)(const PGconn *);
    PQnoticeProcessor (*set_notice_processor)(PGconn *, PQnoticeProcessor, void *);
    /* pipeline mode (libpq 14+); without it the writes are sent one by one */
    int (*enter_pipeline)(PGconn *);
    int (*exit_pipeline)(PGconn *);
    int (*pipeline_sync)(PGconn *);
    int (*send_prepared)(PGconn *, const char *, int, const char *const *, const int *, const int *,
                         int);
    int (*send_params)(PGconn *, const char *, int, const Oid *, const char *const *, const int *,
                       const int *, int);
    PGresult *(*get_result)(PGconn *);
    PQconninfoOption *(*conninfo_parse)(const char *, char **);
    void (*conninfo_free)(PQconninfoOption *);
    void (*freemem)(void *);
    int (*socket)(const PGconn *);
} pq;
static pthread_once_t pq_once = PTHREAD_ONCE_INIT;
static char pq_error[256];

static void pq_load(void)
{
    void *h = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(pq_error, sizeof pq_error, "%s", dlerror());
        return;
    }
    struct {
        void **slot;
        const char *name;
    } syms[] = {
        {(void **)&pq.connectdb, "PQconnectdb"},
        {(void **)&pq.status, "PQstatus"},
        {(void **)&pq.error_message, "PQerrorMessage"},
        {(void **)&pq.finish, "PQfinish"},
        {(void **)&pq.reset, "PQreset"},
        {(void **)&pq.exec, "PQexec"},
        {(void **)&pq.prepare, "PQprepare"},
        {(void **)&pq.exec_prepared, "PQexecPrepared"},
        {(void **)&pq.result_status, "PQresultStatus"},
        {(void **)&pq.result_error_field, "PQresultErrorField"},
        {(void **)&pq.result_error_message, "PQresultErrorMessage"},
        {(void **)&pq.clear, "PQclear"},
        {(void **)&pq.ntuples, "PQntuples"},
        {(void **)&pq.getvalue, "PQgetvalue"},
        {(void **)&pq.getisnull, "PQgetisnull"},
        {(void **)&pq.cmd_tuples, "PQcmdTuples"},
        {(void **)&pq.cmd_status, "PQcmdStatus"},
        {(void **)&pq.transaction_status, "PQtransactionStatus"},
        {(void **)&pq.set_notice_processor, "PQsetNoticeProcessor"},
        {(void **)&pq.conninfo_parse, "PQconninfoParse"},
        {(void **)&pq.conninfo_free, "PQconninfoFree"},
        {(void **)&pq.freemem, "PQfreemem"},
        {(void **)&pq.socket, "PQsocket"},
    };
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++)
        if (!(*syms[i].slot = dlsym(h, syms[i].name))) {
            snprintf(pq_error, sizeof pq_error, "libpq.so.5 has no %s", syms[i].name);
            pq.connectdb = NULL;
            return;
        }
    *(void **)&pq.enter_pipeline = dlsym(h, "PQenterPipelineMode");
    *(void **)&pq.exit_pipeline = dlsym(h, "PQexitPipelineMode");
    *(void **)&pq.pipeline_sync = dlsym(h, "PQpipelineSync");
    *(void **)&pq.send_prepared = dlsym(h, "PQsendQueryPrepared");
    *(void **)&pq.send_params = dlsym(h, "PQsendQueryParams");
    *(void **)&pq.get_result = dlsym(h, "PQgetResult");
    if (!pq.enter_pipeline || !pq.exit_pipeline || !pq.pipeline_sync || !pq.send_prepared ||
        !pq.send_params || !pq.get_result)
        pq.enter_pipeline = NULL;
}

void ab__pg_pipeline_off(void)
{
    pthread_once(&pq_once, pq_load);
    pq.enter_pipeline = NULL;
}

#define PQconnectdb pq.connectdb
#define PQstatus pq.status
#define PQerrorMessage pq.error_message
#define PQfinish pq.finish
#define PQreset pq.reset
#define PQexec pq.exec
#define PQprepare pq.prepare
#define PQexecPrepared pq.exec_prepared
#define PQresultStatus pq.result_status
#define PQresultErrorField pq.result_error_field
#define PQresultErrorMessage pq.result_error_message
#define PQclear pq.clear
#define PQntuples pq.ntuples
#define PQgetvalue pq.getvalue
#define PQgetisnull pq.getisnull
#define PQcmdTuples pq.cmd_tuples
#define PQcmdStatus pq.cmd_status
#define PQtransactionStatus pq.transaction_status
#define PQsetNoticeProcessor pq.set_notice_processor
#define PQconninfoParse pq.conninfo_parse
#define PQconninfoFree pq.conninfo_free
#define PQfreemem pq.freemem
#define PQsocket pq.socket

enum {
    Q_BUDGET_GET,
    Q_BUDGET_GET_LOCK,
    Q_BUDGET_GET_ID,
    Q_BUDGET_GET_ID_LOCK,
    Q_BUDGET_CHAIN,
    Q_BUDGET_CHAIN_LOCK,
    Q_BUDGET_INSERT,
    Q_BUDGET_UPDATE,
    Q_BUDGET_DELETE,
    Q_BUDGET_CHILD,
    Q_BUDGET_LIST,
    Q_HOLD_GET,
    Q_HOLD_GET_LOCK,
    Q_HOLD_INSERT,
    Q_HOLD_STATE,
    Q_HOLDS_EXPIRED,
    Q_HOLDS_OF_BUDGET,
    Q_HOLDS_MIN_EXPIRY,
    Q_EVENT_INSERT,
    Q_EVENTS_QUERY,
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
    Q_PRICES_BUMP,
    Q_BATCH_LOCK,
    Q_WRITE_LOCK,
    Q_COUNT
};

/* Store price overrides seen in this connection, valid while the store's price generation (read
 * with every budget chain, at no extra round trip) stays the same. */
#define PRICE_CACHE_MAX 16
typedef struct {
    char model[AB_NAME_BYTES_MAX];
    int found;
    ab_price price;
} price_entry;

/* A write whose answer nobody waits for (a budget's new counters, an event, a hold's state),
 * kept until the next read or the commit, then sent with the others in one round trip. */
#define PENDING_MAX 64
typedef struct {
    int id;
    int n;
    const char *v[48];
    char *buf; /* the parameters' bytes */
} pending;

typedef struct {
    PGconn *conn;
    char *conninfo;
    pending pend[PENDING_MAX];
    int npend;
    int prepared[Q_COUNT];
    int write;
    int64_t gen_seen; /* price generation read in this transaction, -1: unknown */
    int64_t cache_gen;
    price_entry cache[PRICE_CACHE_MAX];
    int cache_n;
    /* an operation of a flat batch (no savepoint): its first pending write, and whether any of
     * its writes was sent (then it cannot be undone alone) */
    int in_op, op_mark, op_sent;
    /* the transaction's BEGIN, not sent yet: it goes with the first statement, in its round
     * trip (NULL once sent, or outside a transaction) */
    const char *begin_sql;
} pg;

#define P(st) ((pg *)(st)->impl)

/* Text parameters of one statement. */
typedef struct {
    const char *v[48];
    char buf[48][24];
    int n;
} params;

static void p_i64(params *p, int64_t x)
{
    snprintf(p->buf[p->n], sizeof p->buf[p->n], "%" PRId64, x);
    p->v[p->n] = p->buf[p->n];
    p->n++;
}

static void p_str(params *p, const char *s)
{
    p->v[p->n++] = s;
}

static void p_null(params *p)
{
    p->v[p->n++] = NULL;
}

static char budget_cols[1024];
static char budget_set[2048];
static char budget_vals[512];
static pthread_once_t cols_once = PTHREAD_ONCE_INIT;

/* role, model, 12 fixed columns, then a limit and a used column per window x metric */
#define BUDGET_COLS_N (14 + 2 * AB_LIMITS_MAX)

static void cols_init(void)
{
    static const char *const fixed[] = {
        "role",          "model",      "held_tokens",        "held_usd",
        "held_requests", "holds_open", "operations_blocked", "created_at",
        "session_reset", "day_start",  "month_start",        "last_reset",
        "updated_at",    "next_expiry"};
    int off = 0, soff = 0, voff = 0, i = 3;
    for (size_t k = 0; k < sizeof fixed / sizeof fixed[0]; k++, i++) {
        off += snprintf(budget_cols + off, sizeof budget_cols - (size_t)off, "%s%s", k ? ", " : "",
                        fixed[k]);
        soff += snprintf(budget_set + soff, sizeof budget_set - (size_t)soff, "%s%s=$%d",
                         k ? ", " : "", fixed[k], i);
        voff += snprintf(budget_vals + voff, sizeof budget_vals - (size_t)voff, ", $%d", i);
    }
    for (int w = 0; w < AB_WINDOW_COUNT; w++)
        for (int m = 0; m < AB_METRIC_COUNT; m++)
            for (int kind = 0; kind < 2; kind++, i++) {
                char col[48];
                snprintf(col, sizeof col, "%s_%s_%s", kind ? "used" : "lim",
                         ab_window_name((ab_window)w), ab_metric_name((ab_metric)m));
                off += snprintf(budget_cols + off, sizeof budget_cols - (size_t)off, ", %s", col);
                soff += snprintf(budget_set + soff, sizeof budget_set - (size_t)soff, ", %s=$%d",
                                 col, i);
                voff += snprintf(budget_vals + voff, sizeof budget_vals - (size_t)voff, ", $%d", i);
            }
}

#define HOLD_COLS                                                                                  \
    "id, budget, model, tokens, cost_nusd, created_at, expires_at, state, requests, input, "       \
    "output, cache_write_5m, cache_write_1h, cache_read, chain"
#define PRICE_COLS                                                                                 \
    "model, input, output, cache_write_5m, cache_write_1h, cache_read, tier_threshold, "           \
    "tier_input, tier_output, tier_cache_write_5m, tier_cache_write_1h, tier_cache_read"
#define EVENT_COLS                                                                                 \
    "time_ms, budget, op, model, input, output, cache_write_5m, cache_write_1h, cache_read, "      \
    "tokens, cost_nusd, allowed, reason, hold_id, key, actor"

/* What each statement does, for error messages. */
static const char *const query_names[Q_COUNT] = {
    [Q_BUDGET_GET] = "read budget",
    [Q_BUDGET_GET_LOCK] = "lock budget",
    [Q_BUDGET_GET_ID] = "read budget",
    [Q_BUDGET_GET_ID_LOCK] = "lock budget",
    [Q_BUDGET_CHAIN] = "read budgets",
    [Q_BUDGET_CHAIN_LOCK] = "lock budgets",
    [Q_BUDGET_INSERT] = "insert budget",
    [Q_BUDGET_UPDATE] = "update budget",
    [Q_BUDGET_DELETE] = "delete budget",
    [Q_BUDGET_CHILD] = "find child budgets",
    [Q_BUDGET_LIST] = "list budgets",
    [Q_HOLD_GET] = "read hold",
    [Q_HOLD_GET_LOCK] = "lock hold",
    [Q_HOLD_INSERT] = "insert hold",
    [Q_HOLD_STATE] = "update hold",
    [Q_HOLDS_EXPIRED] = "find expired holds",
    [Q_HOLDS_OF_BUDGET] = "find holds",
    [Q_HOLDS_MIN_EXPIRY] = "read hold expiry",
    [Q_EVENT_INSERT] = "append event",
    [Q_EVENTS_QUERY] = "query events",
    [Q_IDEM_GET] = "read idempotency key",
    [Q_IDEM_PUT] = "save idempotency key",
    [Q_IDEM_LIST] = "list idempotency keys",
    [Q_PRICE_GET] = "read price",
    [Q_PRICE_PUT] = "save price",
    [Q_PRICE_DELETE] = "delete price",
    [Q_PRICE_LIST] = "list prices",
    [Q_ROLE_GET] = "read role",
    [Q_ROLE_PUT] = "save role",
    [Q_ROLE_DELETE] = "delete role",
    [Q_ROLE_LIST] = "list roles",
    [Q_TOKEN_PUT] = "save token",
    [Q_TOKEN_GET] = "read token",
    [Q_TOKEN_LIST] = "list tokens",
    [Q_TOKEN_REVOKE] = "revoke token",
    [Q_PRICES_BUMP] = "note a price change",
    [Q_BATCH_LOCK] = "wait for other group commits",
    [Q_WRITE_LOCK] = "wait for a group commit",
};

static const char *query_sql(int id, char *buf, size_t size)
{
    switch (id) {
    case Q_BUDGET_GET:
    case Q_BUDGET_GET_LOCK:
        snprintf(buf, size, "SELECT id, path, %s FROM ab_budgets WHERE path=$1%s", budget_cols,
                 id == Q_BUDGET_GET_LOCK ? " FOR UPDATE" : "");
        return buf;
    case Q_BUDGET_GET_ID:
    case Q_BUDGET_GET_ID_LOCK:
        snprintf(buf, size, "SELECT id, path, %s FROM ab_budgets WHERE id=$1%s", budget_cols,
                 id == Q_BUDGET_GET_ID_LOCK ? " FOR UPDATE" : "");
        return buf;
    case Q_BUDGET_CHAIN:
    case Q_BUDGET_CHAIN_LOCK: /* rows are locked as they leave the sort: leaf first, always */
        snprintf(buf, size,
                 "SELECT id, path, %s, (SELECT v FROM ab_meta WHERE k='prices_gen')::bigint FROM "
                 "ab_budgets WHERE path = ANY($1::text[]) ORDER BY length(path) DESC%s",
                 budget_cols, id == Q_BUDGET_CHAIN_LOCK ? " FOR UPDATE" : "");
        return buf;
    case Q_BUDGET_INSERT:
        /* $1 is the id, which the database assigns: typed and ignored */
        snprintf(buf, size,
                 "INSERT INTO ab_budgets(path, %s) SELECT $2%s WHERE $1::bigint IS NULL OR "
                 "$1::bigint IS NOT NULL RETURNING id",
                 budget_cols, budget_vals);
        return buf;
    case Q_BUDGET_UPDATE:
        /* path ($2) never changes: not set, so its unique index is not touched */
        snprintf(buf, size, "UPDATE ab_budgets SET %s WHERE id=$1 AND $2::text IS NOT NULL",
                 budget_set);
        return buf;
    case Q_BUDGET_DELETE:
        return "DELETE FROM ab_budgets WHERE id=$1";
    case Q_BUDGET_CHILD:
        return "SELECT 1 FROM ab_budgets WHERE path > $1 || '/' AND path < $1 || '0' LIMIT 1";
    case Q_BUDGET_LIST:
        snprintf(buf, size,
                 "SELECT id, path, %s FROM ab_budgets WHERE $1::text IS NULL OR path=$1 OR "
                 "(path > $1 || '/' AND path < $1 || '0') ORDER BY path",
                 budget_cols);
        return buf;
    case Q_HOLD_GET:
        return "SELECT " HOLD_COLS " FROM ab_holds WHERE id=$1";
    case Q_HOLD_GET_LOCK:
        return "SELECT " HOLD_COLS " FROM ab_holds WHERE id=$1 FOR UPDATE";
    case Q_HOLD_INSERT: /* the hold and its members (one per budget it counts in) at once */
        return "WITH h AS (INSERT INTO ab_holds(" HOLD_COLS ", leaf_id) VALUES($1,$2,$3,$4,$5,$6,"
               "$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)) INSERT INTO ab_hold_members(budget_id, "
               "expires_at, hold_id) SELECT unnest(string_to_array($15, ',')::bigint[]), $7, $1";
    case Q_HOLD_STATE: /* a settled hold no longer counts anywhere: its members go with it */
        return "WITH d AS (DELETE FROM ab_hold_members WHERE hold_id=$1 AND $2::int <> 0) UPDATE "
               "ab_holds SET state=$2 WHERE id=$1";
    case Q_HOLDS_EXPIRED:
        /* the expired holds this transaction can settle without waiting: each hold, and every
         * budget it is counted in, locked now or already (SKIP LOCKED). A sweep locks them after
         * the chain it came through, where other writers lock a hold and then its chain, or
         * another leaf and then the ancestor: waiting there deadlocked them. What is skipped
         * is settled by the writer holding it, or by a later sweep */
        return "WITH h AS (SELECT id, expires_at FROM ab_holds WHERE state=0 AND id IN (SELECT "
               "hold_id FROM ab_hold_members WHERE budget_id=$1 AND expires_at<=$2 ORDER BY "
               "expires_at, hold_id LIMIT $3) FOR UPDATE SKIP LOCKED), b AS (SELECT id FROM "
               "ab_budgets WHERE id IN (SELECT budget_id FROM ab_hold_members WHERE hold_id IN "
               "(SELECT id FROM h)) FOR UPDATE SKIP LOCKED) SELECT h.id FROM h WHERE NOT EXISTS "
               "(SELECT 1 FROM ab_hold_members m WHERE m.hold_id=h.id AND m.budget_id NOT IN "
               "(SELECT id FROM b)) ORDER BY h.expires_at, h.id COLLATE \"C\"";
    case Q_HOLDS_OF_BUDGET:
        return "SELECT id FROM ab_holds WHERE leaf_id=$1 AND state=0 ORDER BY id LIMIT $2";
    case Q_HOLDS_MIN_EXPIRY:
        return "SELECT MIN(expires_at) FROM ab_hold_members WHERE budget_id=$1";
    case Q_EVENT_INSERT:
        return "INSERT INTO ab_events(" EVENT_COLS ") VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,"
               "$12,$13,$14,$15,$16) RETURNING id";
    case Q_EVENTS_QUERY: /* the planner folds away the filters that are NULL (custom plans) */
        return "SELECT id, " EVENT_COLS " FROM ab_events WHERE id > $1 AND ($2::text IS NULL OR "
               "budget=$2 OR (budget > $2 || '/' AND budget < $2 || '0')) AND ($3::text IS NULL "
               "OR op=$3) AND ($4 = 0 OR time_ms >= $4) AND ($5 = 0 OR time_ms < $5) ORDER BY id "
               "LIMIT $6";
    case Q_IDEM_GET:
        return "SELECT params, result FROM ab_idempotency WHERE key=$1";
    case Q_IDEM_PUT:
        return "INSERT INTO ab_idempotency(key, params, result, time_ms) VALUES($1,$2,$3,$4)";
    case Q_IDEM_LIST:
        return "SELECT key, params, result, time_ms FROM ab_idempotency WHERE key > $1 ORDER BY "
               "key LIMIT $2";
    case Q_PRICE_GET:
        return "SELECT " PRICE_COLS " FROM ab_prices WHERE model=$1";
    case Q_PRICE_PUT:
        return "INSERT INTO ab_prices(" PRICE_COLS ") VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,"
               "$12) ON CONFLICT (model) DO UPDATE SET input=EXCLUDED.input, "
               "output=EXCLUDED.output, cache_write_5m=EXCLUDED.cache_write_5m, "
               "cache_write_1h=EXCLUDED.cache_write_1h, cache_read=EXCLUDED.cache_read, "
               "tier_threshold=EXCLUDED.tier_threshold, tier_input=EXCLUDED.tier_input, "
               "tier_output=EXCLUDED.tier_output, "
               "tier_cache_write_5m=EXCLUDED.tier_cache_write_5m, "
               "tier_cache_write_1h=EXCLUDED.tier_cache_write_1h, "
               "tier_cache_read=EXCLUDED.tier_cache_read";
    case Q_PRICE_DELETE:
        return "DELETE FROM ab_prices WHERE model=$1";
    case Q_PRICE_LIST:
        return "SELECT " PRICE_COLS " FROM ab_prices ORDER BY model";
    case Q_ROLE_GET:
        return "SELECT spec FROM ab_roles WHERE name=$1";
    case Q_ROLE_PUT:
        return "INSERT INTO ab_roles(name, spec) VALUES($1,$2) ON CONFLICT (name) DO UPDATE SET "
               "spec=EXCLUDED.spec";
    case Q_ROLE_DELETE:
        return "DELETE FROM ab_roles WHERE name=$1";
    case Q_ROLE_LIST:
        return "SELECT name, spec FROM ab_roles ORDER BY name";
    case Q_TOKEN_PUT:
        return "INSERT INTO ab_tokens(id, hash, scope, role, label, created_at, expires_at, "
               "revoked_at) VALUES($1,$2,$3,$4,$5,$6,$7,$8)";
    case Q_TOKEN_GET:
        return "SELECT id, scope, role, label, created_at, expires_at, revoked_at, hash FROM "
               "ab_tokens WHERE id=$1";
    case Q_TOKEN_LIST:
        return "SELECT id, scope, role, label, created_at, expires_at, revoked_at, hash FROM "
               "ab_tokens ORDER BY created_at, id";
    case Q_TOKEN_REVOKE:
        return "UPDATE ab_tokens SET revoked_at=$2 WHERE id=$1 AND revoked_at=0";
    case Q_PRICES_BUMP:
        return "UPDATE ab_meta SET v=(v::bigint + 1)::text WHERE k='prices_gen'";
    case Q_BATCH_LOCK: /* see pg_begin; 4242001 is the schema's */
        /* a group commit whose process stops (paused, its host cut off) while it holds the
         * lock would stall every other: the server ends its session after a minute idle */
        return "SELECT pg_advisory_xact_lock(4242002), "
               "set_config('idle_in_transaction_session_timeout', '60000', true)";
    case Q_WRITE_LOCK: /* the same lock, shared: writers of one operation do not wait for each
                        * other, only for a group commit (and it for them) */
        return "SELECT pg_advisory_xact_lock_shared(4242002), "
               "set_config('idle_in_transaction_session_timeout', '60000', true)";
    }
    return NULL;
}

/* Maps a failed result (or a dead connection) to an AB_ code and the handle's detail. */
static int pg_fail(ab_store *st, PGresult *res, const char *what)
{
    PGconn *conn = P(st)->conn;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorMessage(res) : "";
    if (!msg || !*msg)
        msg = PQerrorMessage(conn);
    char clean[400];
    snprintf(clean, sizeof clean, "%s", msg ? msg : "");
    /* one line: newlines and tabs become single spaces, the trailing newline goes */
    char *w = clean;
    for (const char *p = clean; *p; p++) {
        char ch = (*p == '\n' || *p == '\t') ? ' ' : *p;
        if (ch == ' ' && (w == clean || w[-1] == ' '))
            continue;
        *w++ = ch;
    }
    while (w > clean && w[-1] == ' ')
        w--;
    *w = '\0';
    /* 55P03: a lock not had within lock_timeout (pg_exclusive's, or one in the URL's options) */
    if (state && (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "23505") ||
                  !strcmp(state, "55P03"))) {
        ab__fail(st, AB__ERETRY, "postgres: %s: %s (SQLSTATE %s)", what, clean, state);
        return AB__ERETRY;
    }
    if (PQstatus(conn) != CONNECTION_OK)
        return ab__fail(st, AB_ESTORE, "postgres: connection lost during %s: %s", what, clean);
    return ab__fail(st, AB_ESTORE, "postgres: %s: %s%s%s", what, clean, state ? " SQLSTATE " : "",
                    state ? state : "");
}

/* Runs query id with params; *rc is AB_OK with a result to PQclear, or the failure. */
/* Prepares statement id on this connection once. */
static int prepare(ab_store *st, int id)
{
    pg *g = P(st);
    if (g->prepared[id])
        return AB_OK;
    char name[16], buf[4096];
    snprintf(name, sizeof name, "ab%d", id);
    pthread_once(&cols_once, cols_init);
    PGresult *r = PQprepare(g->conn, name, query_sql(id, buf, sizeof buf), 0, NULL);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? AB_OK : pg_fail(st, r, "prepare");
    PQclear(r);
    g->prepared[id] = rc == AB_OK;
    return rc;
}

/* Runs statement id (prepared already) with n parameters v and waits for its answer. */
static PGresult *exec_q(pg *g, int id, int n, const char *const *v)
{
    char name[16];
    snprintf(name, sizeof name, "ab%d", id);
    return PQexecPrepared(g->conn, name, n, v, NULL, NULL, 0);
}

/* Queues statement id (prepared already) in pipeline mode; 1 if it was queued. */
static int send_q(pg *g, int id, int n, const char *const *v)
{
    char name[16];
    snprintf(name, sizeof name, "ab%d", id);
    return pq.send_prepared(g->conn, name, n, v, NULL, NULL, 0);
}

/* Drops the pending writes from index from on. */
static void pending_drop_from(pg *g, int from)
{
    for (int i = from; i < g->npend; i++)
        free(g->pend[i].buf);
    g->npend = from;
}

static void pending_drop(pg *g)
{
    pending_drop_from(g, 0);
}

/* Sends the transaction's BEGIN now if it is still waiting (for a statement sent on its own). */
static int begin_now(ab_store *st)
{
    pg *g = P(st);
    if (!g->begin_sql)
        return AB_OK;
    const char *sql = g->begin_sql;
    g->begin_sql = NULL;
    PGresult *r = PQexec(g->conn, sql);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? AB_OK : pg_fail(st, r, "begin");
    PQclear(r);
    return rc;
}

/* The answer to COMMIT: a transaction that had failed is rolled back by it, with a command
 * status of ROLLBACK and no error. None of our failures leaves one open unnoticed, but if one
 * did, its commit must not be taken for a success (acknowledged, then lost). */
static int commit_answer(ab_store *st, PGresult *r)
{
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        return pg_fail(st, r, "commit");
    if (strcmp(PQcmdStatus(r), "COMMIT") != 0)
        return ab__fail(st, AB_ESTORE,
                        "postgres: the transaction had failed, and its commit rolled it back: "
                        "nothing of it happened");
    return AB_OK;
}

/* Sends the transaction's BEGIN if it is waiting, the pending writes, then COMMIT when commit
 * is set, or else (tail_r not NULL) the query tail_id whose answer goes to *tail_r, in one round
 * trip (pipeline mode), or one by one with an older libpq. The first failure is the answer (and
 * *tail_r stays NULL). A read after writes (the next operation's chain, in a group commit) so costs
 * one round trip, not two. */
static int flush_pending_then(ab_store *st, int commit, int tail_id, const params *tail_p,
                              PGresult **tail_r)
{
    pg *g = P(st);
    int rc = AB_OK, n = g->npend, tail = tail_r != NULL;
    if (g->in_op && n > g->op_mark)
        g->op_sent = 1;
    g->op_mark = 0;
    for (int i = 0; i < n && !rc; i++)
        rc = prepare(st, g->pend[i].id);
    if (tail && !rc)
        rc = prepare(st, tail_id);
    if (rc || (!n && !commit && !tail)) {
        pending_drop(g);
        return rc;
    }
    int tail_n = tail_p ? tail_p->n : 0;
    const char *const *tail_v = tail_p ? tail_p->v : NULL;
    if (!pq.enter_pipeline) {
        rc = begin_now(st);
        for (int i = 0; i < n && !rc; i++) {
            PGresult *r = exec_q(g, g->pend[i].id, g->pend[i].n, g->pend[i].v);
            if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
                rc = pg_fail(st, r, query_names[g->pend[i].id]);
            PQclear(r);
        }
        pending_drop(g);
        if (!rc && commit) {
            PGresult *r = PQexec(g->conn, "COMMIT");
            rc = commit_answer(st, r);
            PQclear(r);
        } else if (!rc && tail) {
            *tail_r = exec_q(g, tail_id, tail_n, tail_v);
        }
        return rc;
    }
    if (!pq.enter_pipeline(g->conn)) {
        pending_drop(g);
        return pg_fail(st, NULL, "pipeline");
    }
    /* pre: the BEGIN first; then the writes; then the COMMIT or the tail */
    int sent = 0, pre = g->begin_sql != NULL;
    if (pre && pq.send_params(g->conn, g->begin_sql, 0, NULL, NULL, NULL, NULL, 0))
        sent++;
    g->begin_sql = NULL;
    for (int i = 0; i < n && sent == pre + i; i++)
        sent += send_q(g, g->pend[i].id, g->pend[i].n, g->pend[i].v) != 0;
    n += pre; /* from here on, n counts what comes before the COMMIT or the tail */
    if (sent == n && commit && pq.send_params(g->conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0))
        sent++;
    if (sent == n && tail)
        sent += send_q(g, tail_id, tail_n, tail_v) != 0;
    if (sent != n + (commit || tail ? 1 : 0) || !pq.pipeline_sync(g->conn))
        rc = pg_fail(st, NULL, "send");
    /* each query's results end with a NULL; the sync ends the lot */
    int synced = 0;
    for (int nulls = 0; nulls <= sent + 2;) {
        PGresult *r = pq.get_result(g->conn);
        if (!r) {
            nulls++;
            continue;
        }
        ExecStatusType s = PQresultStatus(r);
        if (s == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            synced = 1;
            break;
        }
        /* the results of query i end with the i-th NULL */
        int is_tail = tail && nulls == n, is_commit = commit && nulls == n;
        if (!rc && s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK && s != PGRES_PIPELINE_ABORTED)
            rc = pg_fail(st, r,
                         is_tail             ? query_names[tail_id]
                         : pre && nulls == 0 ? "begin"
                                             : "write");
        else if (!rc && is_commit && s == PGRES_COMMAND_OK)
            rc = commit_answer(st, r);
        if (is_tail && !rc && s != PGRES_PIPELINE_ABORTED && !*tail_r)
            *tail_r = r;
        else
            PQclear(r);
        if (PQstatus(g->conn) != CONNECTION_OK && !rc)
            rc = pg_fail(st, NULL, "write");
        if (PQstatus(g->conn) != CONNECTION_OK)
            break;
    }
    if (!synced && !rc) /* the answers stopped short: the connection is gone */
        rc = pg_fail(st, NULL, "write");
    pq.exit_pipeline(g->conn);
    pending_drop(g);
    if (rc && tail) {
        PQclear(*tail_r);
        *tail_r = NULL;
    }
    return rc;
}

static int flush_pending(ab_store *st, int commit)
{
    return flush_pending_then(st, commit, 0, NULL, NULL);
}

/* Keeps a write for the next round trip (copies the parameters). */
static int defer(ab_store *st, int id, const params *p)
{
    pg *g = P(st);
    int rc;
    if (g->npend == PENDING_MAX && (rc = flush_pending(st, 0)))
        return rc;
    pending *w = &g->pend[g->npend];
    size_t len = 0;
    for (int i = 0; i < p->n; i++)
        len += p->v[i] ? strlen(p->v[i]) + 1 : 0;
    if (!(w->buf = malloc(len + 1)))
        return ab__fail(st, AB_ENOMEM, "out of memory");
    char *o = w->buf;
    for (int i = 0; i < p->n; i++) {
        w->v[i] = NULL;
        if (p->v[i]) {
            size_t l = strlen(p->v[i]) + 1;
            memcpy(o, p->v[i], l);
            w->v[i] = o;
            o += l;
        }
    }
    w->id = id;
    w->n = p->n;
    g->npend++;
    return AB_OK;
}

/* 1 if query id may change the store: all but the reads (some take a row lock), so that a
 * query added later counts as a write until it is listed here */
static int query_writes(int id)
{
    switch (id) {
    case Q_BUDGET_GET:
    case Q_BUDGET_GET_LOCK:
    case Q_BUDGET_GET_ID:
    case Q_BUDGET_GET_ID_LOCK:
    case Q_BUDGET_CHAIN:
    case Q_BUDGET_CHAIN_LOCK:
    case Q_BUDGET_CHILD:
    case Q_BUDGET_LIST:
    case Q_HOLD_GET:
    case Q_HOLD_GET_LOCK:
    case Q_HOLDS_EXPIRED:
    case Q_HOLDS_OF_BUDGET:
    case Q_HOLDS_MIN_EXPIRY:
    case Q_EVENTS_QUERY:
    case Q_IDEM_GET:
    case Q_IDEM_LIST:
    case Q_PRICE_GET:
    case Q_PRICE_LIST:
    case Q_ROLE_GET:
    case Q_ROLE_LIST:
    case Q_TOKEN_GET:
    case Q_TOKEN_LIST:
        return 0;
    default:
        return 1;
    }
}

static PGresult *run(ab_store *st, int id, const params *p, int *rc)
{
    pg *g = P(st);
    /* a read sees the transaction's own writes: the pending ones go first, in the same round
     * trip */
    g->op_sent |= g->in_op && query_writes(id);
    PGresult *r = NULL;
    if (g->npend || g->begin_sql) {
        if ((*rc = flush_pending_then(st, 0, id, p, &r)))
            return NULL;
    } else {
        if ((*rc = prepare(st, id)))
            return NULL;
        r = exec_q(g, id, p ? p->n : 0, p ? p->v : NULL);
    }
    ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        *rc = pg_fail(st, r, query_names[id]);
        PQclear(r);
        return NULL;
    }
    *rc = AB_OK;
    return r;
}

/* Runs a statement whose rows are not wanted. */
static int run_done(ab_store *st, int id, const params *p)
{
    int rc;
    PGresult *r = run(st, id, p, &rc);
    PQclear(r);
    return rc;
}

static int64_t i64(const PGresult *r, int row, int col)
{
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static void text(const PGresult *r, int row, int col, char *dst, size_t size)
{
    ab__strlcpy(dst, PQgetvalue(r, row, col), size);
}

static int exec_simple(ab_store *st, const char *sql)
{
    P(st)->op_sent |= P(st)->in_op; /* inside an operation only writes run this way */
    int rc0 = begin_now(st);
    if (rc0)
        return rc0;
    PGresult *r = PQexec(P(st)->conn, sql);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK
                 ? AB_OK
                 : pg_fail(st, r, sql);
    PQclear(r);
    return rc;
}

/* Reconnects a dead connection; prepared statements went with it. */
static int ensure_connected(ab_store *st)
{
    pg *g = P(st);
    /* PQstatus stays OK on a connection that the server closed while it was idle (a restart)
     * until it is used. Between transactions nothing is owed to us, so anything to read (the
     * server's goodbye, the end of the stream) means it is gone: one poll() finds that out
     * before this operation sends anything, and it reconnects instead of failing */
    struct pollfd pfd = {.fd = PQsocket(g->conn), .events = POLLIN};
    if (PQstatus(g->conn) == CONNECTION_OK && pfd.fd >= 0 && poll(&pfd, 1, 0) == 0)
        return AB_OK;
    PQreset(g->conn);
    memset(g->prepared, 0, sizeof g->prepared);
    if (PQstatus(g->conn) != CONNECTION_OK) {
        char msg[300];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(g->conn));
        msg[strcspn(msg, "\n")] = '\0';
        return ab__fail(st, AB_ESTORE, "postgres: cannot connect: %s", msg);
    }
    return AB_OK;
}

static int pg_begin(ab_store *st, int write)
{
    int rc = ensure_connected(st);
    if (rc)
        return rc;
    P(st)->write = write;
    P(st)->gen_seen = -1;
    /* sent with the first statement: a transaction costs no round trip of its own */
    P(st)->begin_sql = write ? "BEGIN ISOLATION LEVEL READ COMMITTED"
                             : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    /* A group commit locks the chains of many budgets, one operation after another; two of them
     * (two daemons on one store) each holding a chain the other's next operation needs wait on
     * each other until deadlock_timeout aborts one, and the batch runs again, and again: writes
     * fell to 1% with two daemons on one tree. Group commits on one store take turns instead
     * (a lock sent with the first read: no round trip of its own); each is one transaction of
     * many requests, so that turns cost little. A writer of one operation (the CLI, a program
     * on the library) locks one chain in the same order as every other, but a group commit
     * beside it does not: it takes the lock shared, so that it waits for group commits and
     * they for it (they deadlocked with CLI writers on one tree, hundreds of times a minute),
     * while such writers go on together. */
    if (write) {
        params none = {.n = 0};
        return defer(st, write == AB__WRITE_GROUP ? Q_BATCH_LOCK : Q_WRITE_LOCK, &none);
    }
    return AB_OK;
}

static int pg_commit(ab_store *st)
{
    pg *g = P(st);
    if (g->begin_sql && !g->npend) { /* nothing was sent: nothing to end */
        g->begin_sql = NULL;
        return AB_OK;
    }
    int rc = flush_pending(st, 1); /* BEGIN if waiting, the pending writes and COMMIT: one trip */
    if (rc && PQstatus(P(st)->conn) == CONNECTION_OK)
        PQclear(PQexec(P(st)->conn, "ROLLBACK"));
    return rc;
}

static void pg_rollback(ab_store *st)
{
    pg *g = P(st);
    g->in_op = 0;
    pending_drop(g);
    if (g->begin_sql) { /* nothing was sent */
        g->begin_sql = NULL;
        return;
    }
    if (PQstatus(g->conn) == CONNECTION_OK)
        PQclear(PQexec(P(st)->conn, "ROLLBACK"));
}

static void pg_close(ab_store *st)
{
    pg *g = P(st);
    if (!g)
        return;
    pending_drop(g);
    if (g->conn)
        PQfinish(g->conn);
    free(g->conninfo);
    free(g);
}

static int read_version(ab_store *st, int *out)
{
    int rc0 = begin_now(st);
    if (rc0)
        return rc0;
    PGresult *r = PQexec(P(st)->conn, "SELECT v FROM ab_meta WHERE k='schema_version'");
    int rc = AB_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (state && strcmp(state, "42P01") == 0) /* no ab_meta table yet */
            *out = 0;
        else
            rc = pg_fail(st, r, "read schema version");
    } else {
        *out = PQntuples(r) ? atoi(PQgetvalue(r, 0, 0)) : 0;
    }
    PQclear(r);
    return rc;
}

static int pg_schema_version(ab_store *st, int *out)
{
    int rc = ensure_connected(st);
    return rc ? rc : read_version(st, out);
}

static void budget_read(const PGresult *r, int row, ab__budget *b)
{
    memset(b, 0, sizeof *b);
    b->id = i64(r, row, 0);
    text(r, row, 1, b->s.path, sizeof b->s.path);
    text(r, row, 2, b->s.role, sizeof b->s.role);
    text(r, row, 3, b->s.model, sizeof b->s.model);
    int64_t *ints[AB__BUDGET_INTS];
    ab__budget_ints(b, ints);
    for (int i = 0; i < AB__BUDGET_INTS; i++)
        *ints[i] = PQgetisnull(r, row, 4 + i) ? -1 : i64(r, row, 4 + i);
}

static void budget_params(params *p, const ab__budget *b)
{
    p->n = 0;
    p_i64(p, b->id);
    p_str(p, b->s.path);
    p_str(p, b->s.role);
    p_str(p, b->s.model);
    int64_t *ints[AB__BUDGET_INTS];
    ab__budget_ints((ab__budget *)b, ints); /* only read here */
    for (size_t i = 0; i < AB__BUDGET_INTS; i++) {
        if (ab__budget_int_nullable(i) && *ints[i] < 0)
            p_null(p);
        else
            p_i64(p, *ints[i]);
    }
}

/* Runs a one-row SELECT; AB_ENOTFOUND without a row. *out must be PQclear'ed on AB_OK. */
static int one_row(ab_store *st, int id, const params *p, PGresult **out)
{
    int rc;
    PGresult *r = run(st, id, p, &rc);
    if (!r)
        return rc;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return AB_ENOTFOUND;
    }
    *out = r;
    return AB_OK;
}

static int budget_fetch(ab_store *st, int id, params *p, ab__budget *out)
{
    PGresult *r = NULL;
    int rc = one_row(st, id, p, &r);
    if (rc)
        return rc;
    budget_read(r, 0, out);
    PQclear(r);
    return AB_OK;
}

static int pg_budget_get(ab_store *st, const char *path, ab__budget *out)
{
    params p = {.n = 0};
    p_str(&p, path);
    return budget_fetch(st, P(st)->write ? Q_BUDGET_GET_LOCK : Q_BUDGET_GET, &p, out);
}

static int pg_budget_get_id(ab_store *st, int64_t id, ab__budget *out)
{
    params p = {.n = 0};
    p_i64(&p, id);
    return budget_fetch(st, P(st)->write ? Q_BUDGET_GET_ID_LOCK : Q_BUDGET_GET_ID, &p, out);
}

static int pg_budget_get_chain(ab_store *st, const char *const *paths, size_t n, ab__budget *out,
                               size_t *found)
{
    /* a text[] literal: path characters ([A-Za-z0-9._:@-/]) need no quoting in it */
    char array[AB_PATH_SEGMENTS_MAX * (AB_PATH_BYTES_MAX + 1) + 4] = "{";
    size_t off = 1;
    for (size_t i = 0; i < n; i++)
        off += (size_t)snprintf(array + off, sizeof array - off, "%s%s", i ? "," : "", paths[i]);
    snprintf(array + off, sizeof array - off, "}");
    params p = {.n = 0};
    p_str(&p, array);
    int rc;
    PGresult *r = run(st, P(st)->write ? Q_BUDGET_CHAIN_LOCK : Q_BUDGET_CHAIN, &p, &rc);
    if (!r)
        return rc;
    *found = 0;
    for (int i = 0; i < PQntuples(r) && *found < n; i++)
        budget_read(r, i, &out[(*found)++]);
    int gen_col = 2 + BUDGET_COLS_N;
    if (PQntuples(r) > 0 && !PQgetisnull(r, 0, gen_col))
        P(st)->gen_seen = i64(r, 0, gen_col);
    PQclear(r);
    return AB_OK;
}

static int pg_budget_insert(ab_store *st, ab__budget *b)
{
    params p;
    budget_params(&p, b);
    PGresult *r = NULL;
    int rc = one_row(st, Q_BUDGET_INSERT, &p, &r);
    if (rc)
        return rc == AB_ENOTFOUND ? ab__fail(st, AB_ESTORE, "postgres: insert returned no id") : rc;
    b->id = i64(r, 0, 0);
    PQclear(r);
    return AB_OK;
}

static int pg_budget_update(ab_store *st, const ab__budget *b)
{
    params p;
    budget_params(&p, b);
    return defer(st, Q_BUDGET_UPDATE, &p);
}

static int pg_budget_delete(ab_store *st, int64_t id)
{
    params p = {.n = 0};
    p_i64(&p, id);
    return run_done(st, Q_BUDGET_DELETE, &p);
}

static int pg_budget_has_children(ab_store *st, const char *path, int *out)
{
    params p = {.n = 0};
    p_str(&p, path);
    PGresult *r = NULL;
    int rc = one_row(st, Q_BUDGET_CHILD, &p, &r);
    *out = rc == AB_OK;
    if (rc == AB_OK)
        PQclear(r);
    return rc == AB_ENOTFOUND ? AB_OK : rc;
}

static int pg_budget_list(ab_store *st, const char *prefix, int (*fn)(ab__budget *, void *),
                          void *ctx)
{
    params p = {.n = 0};
    if (prefix)
        p_str(&p, prefix);
    else
        p_null(&p);
    int rc;
    PGresult *r = run(st, Q_BUDGET_LIST, &p, &rc);
    if (!r)
        return rc;
    for (int i = 0; i < PQntuples(r) && !rc; i++) {
        ab__budget b;
        budget_read(r, i, &b);
        rc = fn(&b, ctx);
    }
    PQclear(r);
    return rc;
}

static int pg_hold_get(ab_store *st, const char *id, ab__hold *out)
{
    params p = {.n = 0};
    p_str(&p, id);
    PGresult *r = NULL;
    int rc = one_row(st, P(st)->write ? Q_HOLD_GET_LOCK : Q_HOLD_GET, &p, &r);
    if (rc)
        return rc;
    memset(out, 0, sizeof *out);
    text(r, 0, 0, out->h.id, sizeof out->h.id);
    text(r, 0, 1, out->h.budget, sizeof out->h.budget);
    text(r, 0, 2, out->h.model, sizeof out->h.model);
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
            *cols[i] = i64(r, 0, 3 + i);
    out->h.state = (int)i64(r, 0, 7);
    const char *chain = PQgetvalue(r, 0, 14);
    for (char *end; *chain && out->chain_len < AB_PATH_SEGMENTS_MAX; chain = end) {
        out->chain_ids[out->chain_len++] = strtoll(chain, &end, 10);
        if (*end == ',')
            end++;
    }
    PQclear(r);
    return AB_OK;
}

static int pg_hold_insert(ab_store *st, const ab__hold *h)
{
    char chain[AB_PATH_SEGMENTS_MAX * 24] = "";
    int off = 0;
    for (size_t i = 0; i < h->chain_len; i++)
        off += snprintf(chain + off, sizeof chain - (size_t)off, "%s%" PRId64, i ? "," : "",
                        h->chain_ids[i]);
    params p = {.n = 0};
    p_str(&p, h->h.id);
    p_str(&p, h->h.budget);
    p_str(&p, h->h.model);
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
        p_i64(&p, v[i]);
    p_str(&p, chain);
    p_i64(&p, h->chain_len ? h->chain_ids[0] : 0);
    return defer(st, Q_HOLD_INSERT, &p);
}

static int pg_hold_set_state(ab_store *st, const char *id, int state)
{
    params p = {.n = 0};
    p_str(&p, id);
    p_i64(&p, state);
    return defer(st, Q_HOLD_STATE, &p);
}

static int collect_ids(ab_store *st, int id, params *p, char (*ids)[40], size_t max, size_t *n)
{
    int rc;
    *n = 0;
    PGresult *r = run(st, id, p, &rc);
    if (!r)
        return rc;
    for (int i = 0; i < PQntuples(r) && *n < max; i++)
        text(r, i, 0, ids[(*n)++], 40);
    PQclear(r);
    return AB_OK;
}

static int pg_holds_expired(ab_store *st, int64_t budget_id, int64_t now_ms, char (*ids)[40],
                            size_t max, size_t *n)
{
    params p = {.n = 0};
    p_i64(&p, budget_id);
    p_i64(&p, now_ms);
    p_i64(&p, (int64_t)max);
    return collect_ids(st, Q_HOLDS_EXPIRED, &p, ids, max, n);
}

static int pg_holds_of_budget(ab_store *st, int64_t leaf_id, char (*ids)[40], size_t max, size_t *n)
{
    params p = {.n = 0};
    p_i64(&p, leaf_id);
    p_i64(&p, (int64_t)max);
    return collect_ids(st, Q_HOLDS_OF_BUDGET, &p, ids, max, n);
}

static int pg_holds_min_expiry(ab_store *st, int64_t budget_id, int64_t *out)
{
    params p = {.n = 0};
    p_i64(&p, budget_id);
    PGresult *r = NULL;
    int rc = one_row(st, Q_HOLDS_MIN_EXPIRY, &p, &r);
    if (rc)
        return rc == AB_ENOTFOUND ? AB_ESTORE : rc;
    *out = PQgetisnull(r, 0, 0) ? INT64_MAX : i64(r, 0, 0);
    PQclear(r);
    return AB_OK;
}

static int pg_event_append(ab_store *st, ab_event *e)
{
    params p = {.n = 0};
    p_i64(&p, e->time_ms);
    p_str(&p, e->budget);
    p_str(&p, e->op);
    p_str(&p, e->model);
    const int64_t v[] = {e->usage.input,
                         e->usage.output,
                         e->usage.cache_write_5m,
                         e->usage.cache_write_1h,
                         e->usage.cache_read,
                         e->tokens,
                         e->cost_nusd,
                         e->allowed};
    for (int i = 0; i < 8; i++)
        p_i64(&p, v[i]);
    p_str(&p, e->reason);
    p_str(&p, e->hold_id);
    p_str(&p, e->key);
    p_str(&p, e->actor);
    e->id = 0; /* assigned by the database when the write is sent with the commit */
    return defer(st, Q_EVENT_INSERT, &p);
}

static int pg_events_query(ab_store *st, const ab_event_query *q, ab_event_fn fn, void *ctx)
{
    params p = {.n = 0};
    p_i64(&p, q->after_id);
    if (q->budget)
        p_str(&p, q->budget);
    else
        p_null(&p);
    if (q->op)
        p_str(&p, q->op);
    else
        p_null(&p);
    p_i64(&p, q->since_ms);
    p_i64(&p, q->until_ms);
    p_i64(&p, q->limit);
    int rc;
    PGresult *r = run(st, Q_EVENTS_QUERY, &p, &rc);
    if (!r)
        return rc;
    for (int i = 0; i < PQntuples(r) && !rc; i++) {
        ab_event e;
        memset(&e, 0, sizeof e);
        e.id = i64(r, i, 0);
        e.time_ms = i64(r, i, 1);
        text(r, i, 2, e.budget, sizeof e.budget);
        text(r, i, 3, e.op, sizeof e.op);
        text(r, i, 4, e.model, sizeof e.model);
        int64_t *v[] = {&e.usage.input,
                        &e.usage.output,
                        &e.usage.cache_write_5m,
                        &e.usage.cache_write_1h,
                        &e.usage.cache_read,
                        &e.tokens,
                        &e.cost_nusd};
        for (int k = 0; k < 7; k++)
            *v[k] = i64(r, i, 5 + k);
        e.allowed = (int)i64(r, i, 12);
        text(r, i, 13, e.reason, sizeof e.reason);
        text(r, i, 14, e.hold_id, sizeof e.hold_id);
        text(r, i, 15, e.key, sizeof e.key);
        text(r, i, 16, e.actor, sizeof e.actor);
        rc = fn(&e, ctx);
    }
    PQclear(r);
    return rc;
}

static int pg_idem_get(ab_store *st, const char *key, ab__idem *out)
{
    params p = {.n = 0};
    p_str(&p, key);
    PGresult *r = NULL;
    int rc = one_row(st, Q_IDEM_GET, &p, &r);
    if (rc)
        return rc;
    text(r, 0, 0, out->params, sizeof out->params);
    text(r, 0, 1, out->result, sizeof out->result);
    PQclear(r);
    return AB_OK;
}

static int pg_idem_put(ab_store *st, const char *key, const ab__idem *rec, int64_t now_ms)
{
    params p = {.n = 0};
    p_str(&p, key);
    p_str(&p, rec->params);
    p_str(&p, rec->result);
    p_i64(&p, now_ms);
    return defer(st, Q_IDEM_PUT, &p);
}

static int pg_idem_list(ab_store *st, const char *after, size_t limit,
                        int (*fn)(const char *, const ab__idem *, void *), void *ctx)
{
    params p = {.n = 0};
    p_str(&p, after);
    p_i64(&p, (int64_t)limit);
    int rc;
    PGresult *r = run(st, Q_IDEM_LIST, &p, &rc);
    if (!r)
        return rc;
    for (int i = 0; i < PQntuples(r) && !rc; i++) {
        ab__idem rec;
        text(r, i, 1, rec.params, sizeof rec.params);
        text(r, i, 2, rec.result, sizeof rec.result);
        rec.time_ms = i64(r, i, 3);
        rc = fn(PQgetvalue(r, i, 0), &rec, ctx);
    }
    PQclear(r);
    return rc;
}

static void price_read(const PGresult *r, int row, ab_price *p)
{
    memset(p, 0, sizeof *p);
    text(r, row, 0, p->model, sizeof p->model);
    int64_t *v[AB__PRICE_INTS];
    ab__price_ints(p, v);
    for (int i = 0; i < AB__PRICE_INTS; i++)
        *v[i] = i64(r, row, 1 + i);
}

static int pg_price_get(ab_store *st, const char *model, ab_price *out)
{
    pg *g = P(st);
    int cached = g->gen_seen >= 0 && g->gen_seen == g->cache_gen;
    if (g->gen_seen >= 0 && !cached) { /* prices changed since the cache was filled */
        g->cache_n = 0;
        g->cache_gen = g->gen_seen;
        cached = 1;
    }
    for (int i = 0; cached && i < g->cache_n; i++)
        if (strcmp(g->cache[i].model, model) == 0) {
            if (!g->cache[i].found)
                return AB_ENOTFOUND;
            *out = g->cache[i].price;
            return AB_OK;
        }
    params p = {.n = 0};
    p_str(&p, model);
    PGresult *r = NULL;
    int rc = one_row(st, Q_PRICE_GET, &p, &r);
    if (rc == AB_OK) {
        price_read(r, 0, out);
        PQclear(r);
    }
    if (cached && (rc == AB_OK || rc == AB_ENOTFOUND) && g->cache_n < PRICE_CACHE_MAX &&
        strlen(model) < sizeof g->cache[0].model) {
        price_entry *e = &g->cache[g->cache_n++];
        strcpy(e->model, model);
        e->found = rc == AB_OK;
        if (e->found)
            e->price = *out;
    }
    return rc;
}

/* A price changed: other connections see the new generation with their next budget read. */
static int prices_changed(ab_store *st)
{
    P(st)->cache_gen = -1;
    P(st)->gen_seen = -1;
    return run_done(st, Q_PRICES_BUMP, NULL);
}

static int pg_price_put(ab_store *st, const ab_price *pr)
{
    params p = {.n = 0};
    p_str(&p, pr->model);
    int64_t *v[AB__PRICE_INTS];
    ab__price_ints((ab_price *)pr, v); /* only read here */
    for (int i = 0; i < AB__PRICE_INTS; i++)
        p_i64(&p, *v[i]);
    int rc = run_done(st, Q_PRICE_PUT, &p);
    return rc ? rc : prices_changed(st);
}

/* DELETE by a text key; AB_ENOTFOUND when no row went. */
static int delete_by(ab_store *st, int id, const char *key)
{
    params p = {.n = 0};
    p_str(&p, key);
    int rc;
    PGresult *r = run(st, id, &p, &rc);
    if (!r)
        return rc;
    rc = strcmp(PQcmdTuples(r), "0") == 0 ? AB_ENOTFOUND : AB_OK;
    PQclear(r);
    return rc;
}

static int pg_price_delete(ab_store *st, const char *model)
{
    int rc = delete_by(st, Q_PRICE_DELETE, model);
    return rc ? rc : prices_changed(st);
}

static int pg_price_list(ab_store *st, ab_price_fn fn, void *ctx)
{
    int rc;
    PGresult *r = run(st, Q_PRICE_LIST, NULL, &rc);
    if (!r)
        return rc;
    for (int i = 0; i < PQntuples(r) && !rc; i++) {
        ab_price pr;
        price_read(r, i, &pr);
        rc = fn(&pr, ctx);
    }
    PQclear(r);
    return rc;
}

static int pg_role_get(ab_store *st, const char *name, char **spec)
{
    params p = {.n = 0};
    p_str(&p, name);
    PGresult *r = NULL;
    int rc = one_row(st, Q_ROLE_GET, &p, &r);
    if (rc)
        return rc;
    *spec = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return *spec ? AB_OK : ab__fail(st, AB_ENOMEM, "out of memory");
}

static int pg_role_put(ab_store *st, const char *name, const char *spec)
{
    params p = {.n = 0};
    p_str(&p, name);
    p_str(&p, spec);
    return run_done(st, Q_ROLE_PUT, &p);
}

static int pg_role_delete(ab_store *st, const char *name)
{
    return delete_by(st, Q_ROLE_DELETE, name);
}

static int pg_role_list(ab_store *st, int (*fn)(const char *, const char *, void *), void *ctx)
{
    int rc;
    PGresult *r = run(st, Q_ROLE_LIST, NULL, &rc);
    if (!r)
        return rc;
    for (int i = 0; i < PQntuples(r) && !rc; i++)
        rc = fn(PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), ctx);
    PQclear(r);
    return rc;
}

static int pg_wipe(ab_store *st)
{
    int rc = exec_simple(st, "TRUNCATE ab_budgets, ab_holds, ab_hold_members, ab_events, "
                             "ab_idempotency, ab_prices, ab_roles, ab_tokens");
    return rc ? rc : prices_changed(st);
}

/* EXCLUSIVE: reads go on; writes, and another copy's lock, wait until this transaction ends.
 * The tables are locked one after another, in an order no writer keeps (a reserve locks budgets
 * then holds, a commit holds then budgets): a writer holding one and waiting for another that
 * the copy has would deadlock with it, so the copy waits at most 200 ms for each, well before
 * deadlock_timeout (1 s), and gives way (AB__ERETRY: ab_store_copy begins again) */
static int pg_exclusive(ab_store *st)
{
    return exec_simple(st, "SET LOCAL lock_timeout = '200ms'; "
                           "LOCK TABLE ab_budgets, ab_holds, ab_hold_members, ab_events, "
                           "ab_idempotency, ab_prices, ab_roles, ab_tokens IN EXCLUSIVE MODE; "
                           "SET LOCAL lock_timeout TO DEFAULT");
}

/* In a flat batch an operation takes no savepoint: its writes wait in pending as usual, and it
 * marks where they start. Undoing it is dropping them, as long as none was sent and the
 * transaction has not failed; else the batch is void (AB_EREPLAY). The pending writes of the
 * operations before it go with the next read or the commit: no round trip of its own. */
static int pg_savepoint(ab_store *st)
{
    pg *g = P(st);
    if (st->batch == AB__BATCH_FLAT) {
        g->in_op = 1;
        g->op_mark = g->npend;
        g->op_sent = 0;
        return AB_OK;
    }
    int rc = flush_pending(st, 0);
    return rc ? rc : exec_simple(st, "SAVEPOINT ab_op");
}

static int pg_savepoint_release(ab_store *st)
{
    if (st->batch == AB__BATCH_FLAT) {
        P(st)->in_op = 0;
        return AB_OK;
    }
    int rc = flush_pending(st, 0);
    return rc ? rc : exec_simple(st, "RELEASE ab_op");
}

static int pg_savepoint_rollback(ab_store *st)
{
    pg *g = P(st);
    g->cache_gen = -1; /* a price change in it may be undone */
    if (st->batch == AB__BATCH_FLAT) {
        g->in_op = 0;
        if (g->op_sent || PQstatus(g->conn) != CONNECTION_OK ||
            (!g->begin_sql && PQtransactionStatus(g->conn) != PQTRANS_INTRANS))
            return AB_EREPLAY;
        pending_drop_from(g, g->op_mark); /* its writes, none sent yet */
        return AB_OK;
    }
    pending_drop(g); /* the failed operation's writes, not sent yet */
    if (PQstatus(g->conn) == CONNECTION_OK)
        PQclear(PQexec(g->conn, "ROLLBACK TO ab_op; RELEASE ab_op"));
    return AB_OK;
}

static void token_read(const PGresult *r, int row, ab_token *t, char *hash_hex)
{
    memset(t, 0, sizeof *t);
    text(r, row, 0, t->id, sizeof t->id);
    text(r, row, 1, t->scope, sizeof t->scope);
    t->role = i64(r, row, 2) ? AB_TOKEN_ADMIN : AB_TOKEN_AGENT;
    text(r, row, 3, t->label, sizeof t->label);
    t->created_at_ms = i64(r, row, 4);
    t->expires_at_ms = i64(r, row, 5);
    t->revoked_at_ms = i64(r, row, 6);
    if (hash_hex)
        text(r, row, 7, hash_hex, 65);
}

static int pg_token_put(ab_store *st, const ab_token *t, const char *hash_hex)
{
    params p = {.n = 0};
    p_str(&p, t->id);
    p_str(&p, hash_hex);
    p_str(&p, t->scope);
    p_i64(&p, t->role);
    p_str(&p, t->label);
    p_i64(&p, t->created_at_ms);
    p_i64(&p, t->expires_at_ms);
    p_i64(&p, t->revoked_at_ms);
    return run_done(st, Q_TOKEN_PUT, &p);
}

static int pg_token_get(ab_store *st, const char *id, ab_token *t, char hash_hex[65])
{
    params p = {.n = 0};
    p_str(&p, id);
    PGresult *r = NULL;
    int rc = one_row(st, Q_TOKEN_GET, &p, &r);
    if (rc)
        return rc;
    token_read(r, 0, t, hash_hex);
    PQclear(r);
    return AB_OK;
}

static int pg_token_list(ab_store *st, ab_token_fn fn, void *ctx)
{
    int rc;
    PGresult *r = run(st, Q_TOKEN_LIST, NULL, &rc);
    if (!r)
        return rc;
    for (int i = 0; i < PQntuples(r) && !rc; i++) {
        ab_token t;
        token_read(r, i, &t, NULL);
        rc = fn(&t, ctx);
    }
    PQclear(r);
    return rc;
}

static int pg_token_revoke(ab_store *st, const char *id, int64_t now_ms)
{
    ab_token t;
    char hash[65];
    int rc = pg_token_get(st, id, &t, hash);
    if (rc)
        return rc;
    params p = {.n = 0};
    p_str(&p, id);
    p_i64(&p, now_ms);
    return run_done(st, Q_TOKEN_REVOKE, &p);
}

/* The database and the server that has it (started at a microsecond of its own), whatever URL
 * or host name reached it. */
static int pg_identity(ab_store *st, char *out, size_t size)
{
    int rc = ensure_connected(st);
    if (rc)
        return rc;
    /* the schema too: two schemas of one database (search_path) are two stores */
    PGresult *r = PQexec(P(st)->conn, "SELECT current_database() || '.' || "
                                      "coalesce(current_schema(), '') || '@' || "
                                      "pg_postmaster_start_time()::text || ':' || "
                                      "current_setting('port')");
    rc = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 ? AB_OK : AB_ENOTFOUND;
    if (rc == AB_OK)
        snprintf(out, size, "postgres:%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return rc;
}

static const ab__store_ops pg_ops = {
    .identity = pg_identity,
    .scheme = "postgres",
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .close = pg_close,
    .schema_version = pg_schema_version,
    .budget_get = pg_budget_get,
    .budget_get_chain = pg_budget_get_chain,
    .budget_get_id = pg_budget_get_id,
    .budget_insert = pg_budget_insert,
    .budget_update = pg_budget_update,
    .budget_delete = pg_budget_delete,
    .budget_has_children = pg_budget_has_children,
    .budget_list = pg_budget_list,
    .hold_get = pg_hold_get,
    .hold_insert = pg_hold_insert,
    .hold_set_state = pg_hold_set_state,
    .holds_expired = pg_holds_expired,
    .holds_of_budget = pg_holds_of_budget,
    .holds_min_expiry = pg_holds_min_expiry,
    .event_append = pg_event_append,
    .events_query = pg_events_query,
    .idem_get = pg_idem_get,
    .idem_put = pg_idem_put,
    .idem_list = pg_idem_list,
    .price_get = pg_price_get,
    .price_put = pg_price_put,
    .price_delete = pg_price_delete,
    .price_list = pg_price_list,
    .role_get = pg_role_get,
    .role_put = pg_role_put,
    .role_delete = pg_role_delete,
    .role_list = pg_role_list,
    .wipe = pg_wipe,
    .exclusive = pg_exclusive,
    .savepoint = pg_savepoint,
    .savepoint_release = pg_savepoint_release,
    .savepoint_rollback = pg_savepoint_rollback,
    .token_put = pg_token_put,
    .token_get = pg_token_get,
    .token_list = pg_token_list,
    .token_revoke = pg_token_revoke,
};

static const char *const schema_v1[] = {
    "CREATE TABLE ab_budgets(id BIGSERIAL PRIMARY KEY, path TEXT COLLATE \"C\" NOT NULL UNIQUE, "
    "role TEXT NOT NULL, model TEXT NOT NULL, held_tokens BIGINT NOT NULL, held_usd BIGINT NOT "
    "NULL, held_requests BIGINT NOT NULL, holds_open BIGINT NOT NULL, operations_blocked BIGINT "
    "NOT NULL, created_at BIGINT NOT NULL, session_reset BIGINT NOT NULL, day_start BIGINT NOT "
    "NULL, month_start BIGINT NOT NULL, last_reset BIGINT NOT NULL, updated_at BIGINT NOT NULL, "
    "next_expiry BIGINT NOT NULL %s)",
    "CREATE TABLE ab_holds(id TEXT PRIMARY KEY, leaf_id BIGINT NOT NULL, budget TEXT NOT NULL, "
    "model TEXT NOT NULL, tokens BIGINT NOT NULL, cost_nusd BIGINT NOT NULL, requests BIGINT NOT "
    "NULL, input BIGINT NOT NULL, output BIGINT NOT NULL, cache_write_5m BIGINT NOT NULL, "
    "cache_write_1h BIGINT NOT NULL, cache_read BIGINT NOT NULL, created_at BIGINT NOT NULL, "
    "expires_at BIGINT NOT NULL, state INTEGER NOT NULL, chain TEXT NOT NULL)",
    "CREATE INDEX ab_holds_leaf ON ab_holds(leaf_id, state)",
    "CREATE TABLE ab_hold_members(budget_id BIGINT NOT NULL, expires_at BIGINT NOT NULL, hold_id "
    "TEXT NOT NULL, PRIMARY KEY(budget_id, expires_at, hold_id))",
    "CREATE INDEX ab_hold_members_hold ON ab_hold_members(hold_id)",
    "CREATE TABLE ab_events(id BIGSERIAL PRIMARY KEY, time_ms BIGINT NOT NULL, budget TEXT "
    "COLLATE \"C\" NOT NULL, op TEXT NOT NULL, model TEXT NOT NULL, input BIGINT NOT NULL, output "
    "BIGINT NOT NULL, cache_write_5m BIGINT NOT NULL, cache_write_1h BIGINT NOT NULL, cache_read "
    "BIGINT NOT NULL, tokens BIGINT NOT NULL, cost_nusd BIGINT NOT NULL, allowed INTEGER NOT "
    "NULL, reason TEXT NOT NULL, hold_id TEXT NOT NULL, key TEXT NOT NULL, actor TEXT NOT NULL)",
    "CREATE INDEX ab_events_budget ON ab_events(budget, id)",
    "CREATE INDEX ab_events_time ON ab_events(time_ms)",
    "CREATE TABLE ab_idempotency(key TEXT PRIMARY KEY, params TEXT NOT NULL, result TEXT NOT "
    "NULL, time_ms BIGINT NOT NULL)",
    "CREATE TABLE ab_prices(model TEXT PRIMARY KEY, input BIGINT NOT NULL, output BIGINT NOT "
    "NULL, cache_write_5m BIGINT NOT NULL, cache_write_1h BIGINT NOT NULL, cache_read BIGINT NOT "
    "NULL, tier_threshold BIGINT NOT NULL, tier_input BIGINT NOT NULL, tier_output BIGINT NOT "
    "NULL, tier_cache_write_5m BIGINT NOT NULL, tier_cache_write_1h BIGINT NOT NULL, "
    "tier_cache_read BIGINT NOT NULL)",
    "CREATE TABLE ab_roles(name TEXT PRIMARY KEY, spec TEXT NOT NULL)",
};

/* Creates or migrates the schema under an advisory lock, so that racing first opens from many
 * hosts migrate once. */
static int migrate(ab_store *st)
{
    int version, rc = read_version(st, &version);
    if (rc || version == AB_SCHEMA_VERSION)
        return rc;
    if (version > AB_SCHEMA_VERSION)
        return ab__fail(st, AB_ESTORE,
                        "the store's schema is version %d, newer than this agentbudget (%d): "
                        "upgrade agentbudget",
                        version, AB_SCHEMA_VERSION);
    if ((rc = exec_simple(st, "BEGIN")) ||
        (rc = exec_simple(st, "SELECT pg_advisory_xact_lock(4242001)")) ||
        (rc = exec_simple(st, "CREATE TABLE IF NOT EXISTS ab_meta(k TEXT PRIMARY KEY, v TEXT NOT "
                              "NULL)")) ||
        (rc = read_version(st, &version)))
        goto out;
    if (version > AB_SCHEMA_VERSION) { /* another host migrated past us meanwhile */
        rc = ab__fail(st, AB_ESTORE,
                      "the store's schema is version %d, newer than this agentbudget (%d): "
                      "upgrade agentbudget",
                      version, AB_SCHEMA_VERSION);
        goto out;
    }
    if (version == AB_SCHEMA_VERSION)
        goto out;
    if (version < 1) {
        char extra[2048], sql[4096];
        ab__limit_columns_sql("BIGINT", extra, sizeof extra);
        for (size_t i = 0; i < sizeof schema_v1 / sizeof schema_v1[0] && !rc; i++) {
            snprintf(sql, sizeof sql, schema_v1[i], extra);
            rc = exec_simple(st, sql);
        }
    }
    /* version 2: the time index on events cost a write per event and served no query */
    if (!rc && version < 2)
        rc = exec_simple(st, "DROP INDEX IF EXISTS ab_events_time");
    /* version 3: API tokens (only their SHA-256 is kept); a price generation that lets each
     * connection cache the store's price overrides */
    if (!rc && version < 3)
        rc = exec_simple(st, "CREATE TABLE ab_tokens(id TEXT PRIMARY KEY, hash TEXT NOT NULL, "
                             "scope TEXT NOT NULL, role INTEGER NOT NULL, label TEXT NOT NULL, "
                             "created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, revoked_at "
                             "BIGINT NOT NULL)");
    if (!rc && version < 3)
        rc = exec_simple(st, "INSERT INTO ab_meta(k, v) VALUES('prices_gen', '0') ON CONFLICT "
                             "(k) DO NOTHING");
    /* version 4: nothing here (SQLite dropped its events index; a PostgreSQL log, shared by
     * many hosts, grows larger and keeps ab_events_budget) */
    /* later versions: `if (!rc && version < 5) { … }` steps go here, in order */
    if (!rc)
        rc = exec_simple(st, "INSERT INTO ab_meta(k, v) VALUES('schema_version', '4') ON "
                             "CONFLICT (k) DO UPDATE SET v = EXCLUDED.v");
out:
    if (rc) {
        pg_rollback(st);
        return rc;
    }
    return exec_simple(st, "COMMIT");
}

static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

int ab__store_pg_open(ab_store *st, const char *conninfo)
{
    pthread_once(&pq_once, pq_load);
    if (!pq.connectdb)
        return ab__fail(st, AB_ESTORE, "postgres: cannot load libpq (install libpq5): %s",
                        pq_error);
    pg *g = calloc(1, sizeof *g);
    if (!g)
        return ab__fail(st, AB_ENOMEM, "out of memory");
    g->gen_seen = g->cache_gen = -1;
    st->impl = g;
    st->ops = &pg_ops;
    if (!(g->conninfo = strdup(conninfo)))
        return ab__fail(st, AB_ENOMEM, "out of memory");
    /* a URL or key=value string that libpq cannot parse is bad input, said before connecting */
    char *parse_err = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &parse_err);
    if (!opts) {
        char msg[300];
        snprintf(msg, sizeof msg, "%s", parse_err ? parse_err : "out of memory");
        msg[strcspn(msg, "\n")] = '\0';
        if (parse_err)
            PQfreemem(parse_err);
        return ab__fail(st, parse_err ? AB_EINVAL : AB_ENOMEM, "postgres: cannot connect: %s", msg);
    }
    PQconninfoFree(opts);
    g->conn = PQconnectdb(conninfo);
    if (!g->conn)
        return ab__fail(st, AB_ENOMEM, "out of memory");
    if (PQstatus(g->conn) != CONNECTION_OK) {
        char msg[300];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(g->conn));
        msg[strcspn(msg, "\n")] = '\0';
        /* an option's value that libpq refuses before it connects ("invalid integer value …
         * for connection option \"port\"") is bad input too; what the server or the network
         * said (a database or role name that does not exist, a host name that does not
         * resolve) is the store's failure, whatever words it quotes */
        int bad = strncmp(msg, "invalid ", 8) == 0;
        return ab__fail(st, bad ? AB_EINVAL : AB_ESTORE, "postgres: cannot connect: %s", msg);
    }
    /* the server's notices (a shutdown's WARNING) are not ours to print on stderr */
    PQsetNoticeProcessor(g->conn, ignore_notice, NULL);
    PQclear(PQexec(g->conn, "SET client_min_messages = warning"));
    return migrate(st);
}
