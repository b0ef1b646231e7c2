/* test_concurrency.c — 8 processes x 200 reserve/commit pairs on one budget tree in one SQLite
 * file: spend never exceeds a limit, and the stored counters equal the sums of the audit log. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agentbudget.h"
#include "test.h"

#define PROCS 8
#define PAIRS 200

static char url[512];

/* One worker: reserve the worst case, commit a random actual at or below it. */
static int worker(int id)
{
    ab_store *st;
    if (ab_store_open(url, &st) != AB_OK) {
        fprintf(stderr, "worker %d: %s\n", id, ab_store_errmsg(st));
        return 3;
    }
    unsigned seed = (unsigned)id * 7919u;
    const char *agent = id % 2 ? "team/agent-1" : "team/agent-2";
    for (int i = 0; i < PAIRS; i++) {
        ab_usage est = {.input = 1000 + rand_r(&seed) % 1000, .output = 1000};
        ab_decision d;
        int rc = ab_budget_reserve(st, agent, "claude-sonnet-4-5", &est, 0, NULL, &d);
        if (rc) {
            fprintf(stderr, "worker %d reserve: %s\n", id, ab_store_errmsg(st));
            ab_store_close(st);
            return 3;
        }
        if (!d.allowed)
            continue;
        ab_usage actual = {.input = est.input, .output = rand_r(&seed) % (est.output + 1)};
        char hold[40];
        strcpy(hold, d.hold_id);
        if ((rc = ab_hold_commit(st, hold, &actual, NULL, &d))) {
            fprintf(stderr, "worker %d commit: %s\n", id, ab_store_errmsg(st));
            ab_store_close(st);
            return 3;
        }
    }
    ab_store_close(st);
    return 0;
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

int main(void)
{
    char dir[] = "/tmp/ab-conc-XXXXXX";
    if (!mkdtemp(dir))
        return 2;
    snprintf(url, sizeof url, "sqlite:%s/b.db", dir);
    ab_store *st;
    CHECK_OK(NULL, ab_store_open(url, &st));
    ab_limit team[1], agent[1];
    ab_limit_parse("usd/total=5", &team[0]);
    ab_limit_parse("usd/total=3", &agent[0]);
    CHECK_OK(st, ab_budget_set(st, "team", &(ab_budget_spec){.limits = team, .limits_count = 1},
                               NULL, NULL));
    CHECK_OK(st, ab_budget_set(st, "team/agent-1",
                               &(ab_budget_spec){.limits = agent, .limits_count = 1}, NULL, NULL));
    CHECK_OK(st, ab_budget_set(st, "team/agent-2",
                               &(ab_budget_spec){.limits = agent, .limits_count = 1}, NULL, NULL));
    pid_t pids[PROCS];
    for (int i = 0; i < PROCS; i++) {
        pids[i] = fork();
        if (pids[i] == 0)
            _exit(worker(i));
    }
    for (int i = 0; i < PROCS; i++) {
        int status;
        waitpid(pids[i], &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    ab_budget_status t, a1, a2;
    CHECK_OK(st, ab_budget_get(st, "team", &t));
    CHECK_OK(st, ab_budget_get(st, "team/agent-1", &a1));
    CHECK_OK(st, ab_budget_get(st, "team/agent-2", &a2));
    const int TT = AB_WINDOW_TOTAL, U = AB_METRIC_USD;
    printf("team spent %lld of %lld nUSD; agents %lld and %lld of %lld; denials %lld + %lld\n",
           (long long)t.used[TT][U], (long long)t.limit[TT][U], (long long)a1.used[TT][U],
           (long long)a2.used[TT][U], (long long)a1.limit[TT][U], (long long)a1.operations_blocked,
           (long long)a2.operations_blocked);
    CHECK(t.used[TT][U] <= t.limit[TT][U]);
    CHECK(a1.used[TT][U] <= a1.limit[TT][U]);
    CHECK(a2.used[TT][U] <= a2.limit[TT][U]);
    CHECK_I64(t.used[TT][U], a1.used[TT][U] + a2.used[TT][U]);
    /* the limits were reached: the test raced for real */
    CHECK(a1.operations_blocked + a2.operations_blocked > 0);
    CHECK(t.used[TT][U] > t.limit[TT][U] - 20000000);
    CHECK_I64(t.held[U], 0);
    CHECK_I64(t.holds_open + a1.holds_open + a2.holds_open, 0);
    sums s = {0}, s1 = {0};
    CHECK_OK(st, ab_events_query(st, &(ab_event_query){.budget = "team"}, sum, &s));
    CHECK_OK(st, ab_events_query(st, &(ab_event_query){.budget = "team/agent-1"}, sum, &s1));
    CHECK_I64(t.used[TT][U], s.cost);
    CHECK_I64(t.used[TT][AB_METRIC_TOKENS], s.tokens);
    CHECK_I64(t.used[TT][AB_METRIC_REQUESTS], s.commits);
    CHECK_I64(a1.used[TT][U], s1.cost);
    ab_store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not remove %s\n", dir);
    return test_summary("concurrency");
}
