/* bench_sqlite.c — ab_budget_charge per second on a SQLite file store (sync=full and
 * sync=normal) beside a minimal raw-SQLite loop doing one transaction of the same shape:
 * BEGIN IMMEDIATE; a conditional UPDATE of the budget; an INSERT of an event; COMMIT. Same
 * journal_mode (WAL) and synchronous setting; the two run in alternating rounds. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "agentbudget.h"

#define BUDGETS 1000
#define ROUNDS 11
#define ROUND_S 0.5 /* each side runs this long per round; short rounds cancel drift */
#define CLOCK_EVERY 16
#define TARGET_RATIO 0.7

static char paths[BUDGETS][32];
static char dir[] = "/tmp/abbench-sqlite-XXXXXX";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void die_ab(const char *what, int rc, ab_store *st)
{
    fprintf(stderr, "error: %s: %s (%s)\n", what, ab_strerror(rc), ab_store_errmsg(st));
    exit(1);
}

static void die_sql(const char *what, sqlite3 *db)
{
    fprintf(stderr, "error: %s: %s\n", what, db ? sqlite3_errmsg(db) : "no database");
    exit(1);
}

static const ab_usage usage = {.input = 1000, .output = 300};

/* ---- ours ---- */

static ab_store *open_url(const char *file, const char *query)
{
    char url[512];
    snprintf(url, sizeof url, "sqlite:%s%s", file, query);
    ab_store *st;
    int rc = ab_store_open(url, &st);
    if (rc)
        die_ab(url, rc, st);
    return st;
}

/* Creates the budgets through a sync=normal handle (fast: no fsync per set), then opens the
 * handle to measure with the mode's own setting. */
static ab_store *ours_open(const char *file, int sync_full)
{
    ab_store *st = open_url(file, "?sync=normal");
    const ab_limit limits[] = {
        {AB_METRIC_USD, AB_WINDOW_DAY, INT64_C(1000000000) * AB_NUSD_PER_USD},
        {AB_METRIC_TOKENS, AB_WINDOW_DAY, INT64_C(1000000000000000)},
    };
    ab_budget_spec spec = {.limits = limits, .limits_count = 2};
    for (int i = 0; i < BUDGETS; i++) {
        int rc = ab_budget_set(st, paths[i], &spec, NULL, NULL);
        if (rc)
            die_ab("budget set", rc, st);
    }
    ab_store_close(st);
    return open_url(file, sync_full ? "" : "?sync=normal");
}

static double round_ours(ab_store *st, uint64_t *n)
{
    ab_decision d;
    uint64_t ops = 0;
    double t0 = now_s(), t1;
    do {
        for (int k = 0; k < CLOCK_EVERY; k++, ops++, (*n)++) {
            int rc = ab_budget_charge(st, paths[*n % BUDGETS], NULL, &usage, NULL, &d);
            if (rc)
                die_ab("charge", rc, st);
        }
        t1 = now_s();
    } while (t1 - t0 < ROUND_S);
    return (double)ops / (t1 - t0);
}

/* ---- raw SQLite ---- */

typedef struct {
    sqlite3 *db;
    sqlite3_stmt *begin, *update, *insert, *commit;
} raw;

static void raw_exec(sqlite3 *db, const char *sql)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        die_sql(sql, db);
}

static sqlite3_stmt *raw_prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK)
        die_sql(sql, db);
    return s;
}

static void raw_open(raw *r, const char *file, int sync_full)
{
    if (sqlite3_open_v2(file, &r->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        die_sql(file, r->db);
    sqlite3_busy_timeout(r->db, 5000);
    raw_exec(r->db, sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    raw_exec(r->db, "PRAGMA journal_mode=WAL");
    raw_exec(r->db, "CREATE TABLE b(id INTEGER PRIMARY KEY, used INTEGER NOT NULL, lim INTEGER "
                    "NOT NULL)");
    raw_exec(r->db, "CREATE TABLE events(id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, "
                    "budget INTEGER NOT NULL, amount INTEGER NOT NULL)");
    raw_exec(r->db, "BEGIN");
    sqlite3_stmt *s = raw_prepare(r->db, "INSERT INTO b(id, used, lim) VALUES(?1, 0, ?2)");
    for (int i = 1; i <= BUDGETS; i++) {
        sqlite3_bind_int(s, 1, i);
        sqlite3_bind_int64(s, 2, INT64_C(1000000000) * AB_NUSD_PER_USD);
        if (sqlite3_step(s) != SQLITE_DONE)
            die_sql("insert budget", r->db);
        sqlite3_reset(s);
    }
    sqlite3_finalize(s);
    raw_exec(r->db, "COMMIT");
    r->begin = raw_prepare(r->db, "BEGIN IMMEDIATE");
    r->update = raw_prepare(r->db, "UPDATE b SET used=used+?1 WHERE id=?2 AND used+?1 <= lim");
    r->insert = raw_prepare(r->db, "INSERT INTO events(time_ms, budget, amount) VALUES(?1,?2,?3)");
    r->commit = raw_prepare(r->db, "COMMIT");
}

static void raw_close(raw *r)
{
    sqlite3_finalize(r->begin);
    sqlite3_finalize(r->update);
    sqlite3_finalize(r->insert);
    sqlite3_finalize(r->commit);
    sqlite3_close(r->db);
}

static void raw_step(raw *r, sqlite3_stmt *s, const char *what)
{
    if (sqlite3_step(s) != SQLITE_DONE)
        die_sql(what, r->db);
    sqlite3_reset(s);
}

/* One charge: the cost is computed as the library would (same price, same rounding). */
static void raw_charge(raw *r, const ab_price *price, int id)
{
    int64_t cost;
    struct timespec ts;
    if (ab_cost_compute(price, &usage, &cost)) {
        fprintf(stderr, "error: cost\n");
        exit(1);
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    raw_step(r, r->begin, "begin");
    sqlite3_bind_int64(r->update, 1, cost);
    sqlite3_bind_int(r->update, 2, id);
    raw_step(r, r->update, "update");
    if (sqlite3_changes(r->db) != 1)
        die_sql("update: the budget refused", r->db);
    sqlite3_bind_int64(r->insert, 1, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
    sqlite3_bind_int(r->insert, 2, id);
    sqlite3_bind_int64(r->insert, 3, cost);
    raw_step(r, r->insert, "insert");
    raw_step(r, r->commit, "commit");
}

static double round_raw(raw *r, const ab_price *price, uint64_t *n)
{
    uint64_t ops = 0;
    double t0 = now_s(), t1;
    do {
        for (int k = 0; k < CLOCK_EVERY; k++, ops++, (*n)++)
            raw_charge(r, price, (int)(*n % BUDGETS) + 1);
        t1 = now_s();
    } while (t1 - t0 < ROUND_S);
    return (double)ops / (t1 - t0);
}

static void remove_db(const char *file)
{
    char buf[600];
    const char *const suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(buf, sizeof buf, "%s%s", file, suffix[i]);
        unlink(buf);
    }
}

static void run_mode(int sync_full)
{
    const char *mode = sync_full ? "full" : "normal";
    char ours_file[512], raw_file[512];
    snprintf(ours_file, sizeof ours_file, "%s/ours-%s.db", dir, mode);
    snprintf(raw_file, sizeof raw_file, "%s/raw-%s.db", dir, mode);
    ab_price price;
    if (ab_price_builtin("claude-sonnet-4-5", &price)) {
        fprintf(stderr, "error: no built-in price for 'claude-sonnet-4-5'\n");
        exit(1);
    }
    ab_store *st = ours_open(ours_file, sync_full);
    raw r;
    raw_open(&r, raw_file, sync_full);
    double ours[ROUNDS], base[ROUNDS], ratio[ROUNDS];
    uint64_t n_ours = 0, n_raw = 0;
    for (int i = 0; i < ROUNDS; i++) {
        ours[i] = round_ours(st, &n_ours);
        base[i] = round_raw(&r, &price, &n_raw);
        ratio[i] = ours[i] / base[i];
    }
    ab_store_close(st);
    raw_close(&r);
    remove_db(ours_file);
    remove_db(raw_file);
    double o = median(ours, ROUNDS), b = median(base, ROUNDS), q = median(ratio, ROUNDS);
    printf("{\"bench\":\"sqlite_charge_sync_%s\",\"unit\":\"charges/s\",\"ops_per_s\":%.1f,"
           "\"baseline\":%.1f,\"baseline_what\":\"raw sqlite3: BEGIN IMMEDIATE; conditional "
           "UPDATE; INSERT event; COMMIT (WAL, synchronous=%s)\",\"ratio\":%.4f,"
           "\"ratio_min\":%.4f,\"ratio_max\":%.4f,\"target\":%.1f,\"target_kind\":\"ratio_min\","
           "\"meets_target\":%s,\"budgets\":%d,\"rounds\":%d,\"round_s\":%.1f}\n",
           mode, o, b, mode[0] == 'f' ? "FULL" : "NORMAL", q, ratio[0], ratio[ROUNDS - 1],
           TARGET_RATIO, q >= TARGET_RATIO ? "true" : "false", BUDGETS, ROUNDS, ROUND_S);
    fflush(stdout);
}

int main(void)
{
    for (int i = 0; i < BUDGETS; i++)
        snprintf(paths[i], sizeof paths[i], "agent-%04d", i);
    if (!mkdtemp(dir)) {
        perror("error: mkdtemp");
        return 1;
    }
    run_mode(1);
    run_mode(0);
    rmdir(dir);
    return 0;
}
