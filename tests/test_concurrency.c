/* test_concurrency.c — many writers on one budget tree: spend never exceeds a limit, the stored
 * counters equal the sums of the audit log, and no store error reaches a caller.
 *   test_concurrency sqlite            8 processes x 1 connection x 200 reserve/commit pairs
 *   test_concurrency postgres URLFILE  4 processes ("hosts") x 4 connections (threads), random
 *                                      amounts, reserve then commit or release */
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agentbudget.h"
#include "test.h"
#include "testpg.h"

static char url[512];
static int procs, threads, pairs;

#define AGENTS 4

typedef struct {
    int id;
    int failed;
} worker_arg;

/* One connection: reserve a random worst case on a random agent; commit a random actual at or
 * below it (2 in 3) or release it. */
static void *worker(void *v)
{
    worker_arg *w = v;
    ab_store *st;
    if (ab_store_open(url, &st) != AB_OK) {
        fprintf(stderr, "worker %d: %s\n", w->id, ab_store_errmsg(st));
        ab_store_close(st);
        w->failed = 1;
        return NULL;
    }
    unsigned seed = (unsigned)w->id * 7919u + (unsigned)getpid();
    for (int i = 0; i < pairs && !w->failed; i++) {
        char agent[32];
        snprintf(agent, sizeof agent, "org/team/agent-%d", (int)(rand_r(&seed) % AGENTS));
        ab_usage est = {.input = 500 + rand_r(&seed) % 3000, .output = 200 + rand_r(&seed) % 2000};
        ab_decision d;
        if (ab_budget_reserve(st, agent, "claude-sonnet-4-5", &est, 0, NULL, &d)) {
            fprintf(stderr, "worker %d reserve: %s\n", w->id, ab_store_errmsg(st));
            w->failed = 1;
            break;
        }
        if (!d.allowed)
            continue;
        char hold[40];
        strcpy(hold, d.hold_id);
        int rc;
        if (rand_r(&seed) % 3) {
            ab_usage actual = {.input = est.input, .output = rand_r(&seed) % (est.output + 1)};
            rc = ab_hold_commit(st, hold, &actual, NULL, &d);
        } else {
            rc = ab_hold_release(st, hold, NULL);
        }
        if (rc) {
            fprintf(stderr, "worker %d settle: %s\n", w->id, ab_store_errmsg(st));
            w->failed = 1;
        }
    }
    ab_store_close(st);
    return NULL;
}

/* One process ("host"): its threads, each with its own connection. */
static int host(int p)
{
    pthread_t t[16];
    worker_arg args[16];
    for (int i = 0; i < threads; i++) {
        args[i] = (worker_arg){p * threads + i, 0};
        pthread_create(&t[i], NULL, worker, &args[i]);
    }
    int failed = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        failed |= args[i].failed;
    }
    return failed ? 3 : 0;
}

typedef struct {
    int64_t cost, tokens, commits;
} sums;

static int sum(const ab_event *e, void *v)
{
    sums *s = v;
    if (strcmp(e->op, "commit") == 0) {
        s->cost += e->cost_nusd;
        s->tokens += e->tokens;
        s->commits++;
    }
    return 0;
}

static void limit_set(ab_store *st, const char *path, const char *spec)
{
    ab_limit l[1];
    ab_limit_parse(spec, &l[0]);
    CHECK_OK(
        st, ab_budget_set(st, path, &(ab_budget_spec){.limits = l, .limits_count = 1}, NULL, NULL));
}

int main(int argc, char **argv)
{
    const char *kind = argc > 1 ? argv[1] : "sqlite";
    char dir[] = "/tmp/ab-conc-XXXXXX";
    if (strcmp(kind, "postgres") == 0) {
        char base[256];
        if (pg_base_read(argc > 2 ? argv[2] : NULL, base, sizeof base) ||
            pg_fresh_db(base, 1, url, sizeof url))
            return 2;
        procs = 4, threads = 4, pairs = 60;
    } else {
        if (!mkdtemp(dir))
            return 2;
        snprintf(url, sizeof url, "sqlite:%s/b.db", dir);
        procs = 8, threads = 1, pairs = 200;
    }
    ab_store *st;
    CHECK_OK(NULL, ab_store_open(url, &st));
    limit_set(st, "org", "usd/total=100");
    limit_set(st, "org/team", "usd/total=4");
    for (int a = 0; a < AGENTS; a++) {
        char path[32];
        snprintf(path, sizeof path, "org/team/agent-%d", a);
        limit_set(st, path, "usd/total=1.5");
    }
    pid_t pids[16];
    for (int i = 0; i < procs; i++) {
        fflush(NULL);
        if ((pids[i] = fork()) == 0)
            _exit(host(i));
    }
    for (int i = 0; i < procs; i++) {
        int status;
        waitpid(pids[i], &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    const int TT = AB_WINDOW_TOTAL, U = AB_METRIC_USD;
    ab_budget_status team, org;
    CHECK_OK(st, ab_budget_get(st, "org/team", &team));
    CHECK_OK(st, ab_budget_get(st, "org", &org));
    int64_t agents_used = 0, denials = 0;
    for (int a = 0; a < AGENTS; a++) {
        char path[32];
        snprintf(path, sizeof path, "org/team/agent-%d", a);
        ab_budget_status b;
        CHECK_OK(st, ab_budget_get(st, path, &b));
        CHECK(b.used[TT][U] <= b.limit[TT][U]);
        CHECK_I64(b.holds_open, 0);
        CHECK_I64(b.held[U], 0);
        sums s = {0};
        CHECK_OK(st, ab_events_query(st, &(ab_event_query){.budget = path}, sum, &s));
        CHECK_I64(b.used[TT][U], s.cost);
        CHECK_I64(b.used[TT][AB_METRIC_TOKENS], s.tokens);
        agents_used += b.used[TT][U];
        denials += b.operations_blocked;
    }
    printf("%s: %d hosts x %d connections x %d pairs; team spent %lld of %lld nUSD; %lld denials\n",
           kind, procs, threads, pairs, (long long)team.used[TT][U], (long long)team.limit[TT][U],
           (long long)denials);
    CHECK(team.used[TT][U] <= team.limit[TT][U]);
    CHECK_I64(team.used[TT][U], agents_used);
    CHECK_I64(org.used[TT][U], agents_used);
    CHECK_I64(team.held[U] + org.held[U], 0);
    CHECK_I64(team.holds_open + org.holds_open, 0);
    sums all = {0};
    CHECK_OK(st, ab_events_query(st, &(ab_event_query){.budget = "org"}, sum, &all));
    CHECK_I64(org.used[TT][U], all.cost);
    CHECK_I64(org.used[TT][AB_METRIC_REQUESTS], all.commits);
    /* the limits were reached: the writers raced for real */
    CHECK(denials > 0);
    CHECK(team.used[TT][U] > team.limit[TT][U] - 100000000);
    ab_store_close(st);
    if (strcmp(kind, "sqlite") == 0) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "warning: could not remove %s\n", dir);
    }
    return test_summary("concurrency");
}
