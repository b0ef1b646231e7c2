/* test_pg_restart.c — the PostgreSQL server restarts in the middle of a run: operations in
 * flight fail with a clear store error (AB_ESTORE), the next operation reconnects by itself,
 * nothing acknowledged is lost, and a retry with the same key applies once. The CLI says
 * exit 3 while the server is down.
 *   test_pg_restart URLFILE PG_DIR PG_CLUSTER_SH AGENTBUDGET_CLI */
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agentbudget.h"
#include "test.h"
#include "testpg.h"

#define WRITERS 2
#define RUN_MS 2500

static char url[512];

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Charges with unique keys for RUN_MS; a store failure is retried with the same key until it
 * is acknowledged. Writes "acked key" lines to out; exit status counts the ESTOREs seen. */
static int writer(int id, FILE *out)
{
    ab_store *st;
    if (ab_store_open(url, &st) != AB_OK)
        return 100;
    int estore = 0;
    int64_t end = now_ms() + RUN_MS;
    for (int i = 0; now_ms() < end; i++) {
        char key[64];
        snprintf(key, sizeof key, "w%d-%d", id, i);
        ab_usage u = {.input = 1000 + i % 7, .output = 100};
        ab_decision d;
        int rc;
        while ((rc = ab_budget_charge(st, "org/a", "claude-haiku-4-5", &u, key, &d)) != AB_OK) {
            if (rc != AB_ESTORE || !strstr(ab_store_errmsg(st), "postgres")) {
                fprintf(stderr, "writer %d: unexpected %s: %s\n", id, ab_err_name(rc),
                        ab_store_errmsg(st));
                return 101;
            }
            if (estore++ == 0)
                fprintf(stderr, "writer %d sees: %s\n", id, ab_store_errmsg(st));
            struct timespec ts = {0, 20000000};
            nanosleep(&ts, NULL);
            if (now_ms() > end + 30000)
                return 102;
        }
        fprintf(out, "%s %lld\n", key, (long long)d.cost_nusd);
        fflush(out);
    }
    ab_store_close(st);
    return estore > 99 ? 99 : estore;
}

typedef struct {
    int64_t cost, last_id;
    int charges, events;
    char (*keys)[64];
    int *seen;
    int nkeys;
} audit;

static int audit_event(const ab_event *e, void *v)
{
    audit *a = v;
    a->events++;
    a->last_id = e->id;
    if (strcmp(e->op, "charge") != 0)
        return 0;
    a->cost += e->cost_nusd;
    a->charges++;
    for (int i = 0; i < a->nkeys; i++)
        if (strcmp(a->keys[i], e->key) == 0)
            a->seen[i]++;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 5)
        return 2;
    char base[256], cmd[1024];
    if (pg_base_read(argv[1], base, sizeof base) || pg_fresh_db(base, 7, url, sizeof url))
        return 2;
    ab_store *st;
    CHECK_OK(NULL, ab_store_open(url, &st));
    CHECK_OK(st, ab_budget_set(st, "org", &(ab_budget_spec){0}, NULL, NULL));
    CHECK_OK(st, ab_budget_set(st, "org/a", &(ab_budget_spec){0}, NULL, NULL));
    char logs[WRITERS][64];
    pid_t pids[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        snprintf(logs[i], sizeof logs[i], "/tmp/ab-pgr-%d-%d.log", (int)getpid(), i);
        fflush(NULL);
        if ((pids[i] = fork()) == 0) {
            FILE *f = fopen(logs[i], "w");
            _exit(f ? writer(i, f) : 100);
        }
    }
    usleep(800000);
    snprintf(cmd, sizeof cmd, "'%s' restart '%s'", argv[3], argv[2]);
    CHECK(system(cmd) == 0);
    int estores = 0;
    for (int i = 0; i < WRITERS; i++) {
        int status;
        waitpid(pids[i], &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) < 100);
        estores += WIFEXITED(status) ? WEXITSTATUS(status) : 0;
    }
    printf("store errors seen by the writers during the restart: %d\n", estores);
    CHECK(estores > 0); /* the restart really hit operations */
    /* every acknowledged charge is in the log exactly once, and the counters add up */
    static char keys[100000][64];
    int64_t acked_cost = 0;
    int n = 0;
    for (int i = 0; i < WRITERS; i++) {
        FILE *f = fopen(logs[i], "r");
        long long c;
        while (f && n < 100000 && fscanf(f, "%63s %lld", keys[n], &c) == 2) {
            acked_cost += c;
            n++;
        }
        if (f)
            fclose(f);
        unlink(logs[i]);
    }
    int *seen = calloc((size_t)n + 1, sizeof *seen);
    audit a = {0, 0, 0, 0, keys, seen, n};
    /* the old handle, idle during the restart, reconnects by itself before its first call
     * sends anything: that call does not fail (it used to, with "connection lost during begin") */
    ab_budget_status b;
    CHECK_OK(st, ab_budget_get(st, "org/a", &b));
    ab_event_query q = {.budget = "org", .limit = 1000};
    for (int page = 0; page < 1000; page++) {
        int before = a.charges, events_before = a.events;
        CHECK_OK(st, ab_events_query(st, &q, audit_event, &a));
        (void)before;
        if (a.events == events_before)
            break;
        q.after_id = a.last_id;
    }
    int once = 1;
    for (int i = 0; i < n; i++)
        once &= seen[i] == 1;
    printf("%d charges acknowledged, %d in the log\n", n, a.charges);
    CHECK(n > 0);
    CHECK(once);
    CHECK_I64(a.charges, n);
    CHECK_I64(a.cost, acked_cost);
    CHECK_I64(b.used[AB_WINDOW_TOTAL][AB_METRIC_USD], acked_cost);
    free(seen);
    ab_store_close(st);
    /* server down: the CLI exits 3 with a clear message; back up: it works again */
    char stop[1024];
    snprintf(stop, sizeof stop, "'%s' halt '%s'", argv[3], argv[2]);
    CHECK(system(stop) == 0);
    snprintf(cmd, sizeof cmd, "'%s' --store '%s' status org/a >/dev/null 2>&1", argv[4], url);
    int status = system(cmd);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 3);
    snprintf(cmd, sizeof cmd,
             "'%s' --store '%s' status org/a 2>&1 >/dev/null | grep -q "
             "'^error: postgres: cannot connect'",
             argv[4], url);
    CHECK(system(cmd) == 0);
    snprintf(cmd, sizeof cmd, "'%s' restart '%s' 2>/dev/null || true", argv[3], argv[2]);
    if (system(cmd) != 0)
        fprintf(stderr, "restart failed\n");
    return test_summary("pg_restart");
}
