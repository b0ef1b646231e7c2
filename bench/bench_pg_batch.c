/* bench_pg_batch.c — what one group commit costs per operation on PostgreSQL as it grows: batches
 * of 16 to 2,048 charges to one agent (so its team's row, and its own, are updated once per
 * charge, in one transaction, a savepoint each: what agentbudgetd's writer does with
 * --batch-max). The baseline is the per-charge time of a batch of 16 in the same run; the ratio
 * is baseline / this size's, so 1.0 means a bigger batch costs no more per charge. It shows how
 * far group commit on PostgreSQL is from linear (docs/performance.md, "Group commit on
 * PostgreSQL"). Each size is measured again as a flat batch (no savepoint per charge,
 * ab_store_batch_begin_flat; agentbudgetd's writer runs those), its ratio against the batch of
 * savepoints of the same size.
 *   bench_pg_batch BASE_URL     (BASE_URL: postgres://user@host:port, no database) */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "agentbudget.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(ab_store *st, const char *what)
{
    fprintf(stderr, "error: %s: %s\n", what, st ? ab_store_errmsg(st) : "");
    exit(1);
}

/* Seconds per charge in `rounds` batches of n, the median round; flat: batches without a
 * savepoint per charge (ab_store_batch_begin_flat). */
static double per_charge(ab_store *st, int n, int rounds, int flat)
{
    double best[9];
    for (int r = 0; r < rounds; r++) {
        ab_decision d;
        ab_usage u = {.input = 1000, .output = 200};
        double t0 = now_s();
        if (flat ? ab_store_batch_begin_flat(st) : ab_store_batch_begin(st))
            die(st, "batch begin");
        for (int i = 0; i < n; i++)
            if (ab_budget_charge(st, "team/agent", "claude-sonnet-4-5", &u, NULL, &d))
                die(st, "charge");
        if (ab_store_batch_commit(st))
            die(st, "batch commit");
        best[r] = (now_s() - t0) / n;
    }
    for (int i = 1; i < rounds; i++) /* insertion sort: a handful of values */
        for (int j = i; j > 0 && best[j] < best[j - 1]; j--) {
            double t = best[j];
            best[j] = best[j - 1];
            best[j - 1] = t;
        }
    return best[rounds / 2];
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_pg_batch BASE_URL (postgres://user@host:port)\n");
        return 2;
    }
    char cmd[1024], url[600];
    snprintf(cmd, sizeof cmd,
             "psql -qX '%s/postgres' -c 'DROP DATABASE IF EXISTS abbench_batch' -c 'CREATE "
             "DATABASE abbench_batch' >/dev/null",
             argv[1]);
    if (system(cmd) != 0)
        die(NULL, "cannot create the database abbench_batch (psql)");
    snprintf(url, sizeof url, "%s/abbench_batch", argv[1]);
    ab_store *st;
    if (ab_store_open(url, &st))
        die(st, url);
    ab_budget_spec spec = {0};
    if (ab_budget_set(st, "team", &spec, NULL, NULL) ||
        ab_budget_set(st, "team/agent", &spec, NULL, NULL))
        die(st, "set");
    static const int sizes[] = {16, 64, 256, 512, 1024, 2048};
    double base = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        int rounds = sizes[i] >= 1024 ? 3 : 5;
        double s = per_charge(st, sizes[i], rounds, 0);
        double f = per_charge(st, sizes[i], rounds, 1);
        if (i == 0)
            base = s;
        printf("{\"bench\":\"pg_group_commit\",\"unit\":\"us/charge\",\"batch\":%d,"
               "\"us_per_charge\":%.1f,\"baseline\":%.1f,\"baseline_what\":\"a batch of 16 in "
               "the same run\",\"ratio\":%.3f,\"rounds\":%d,\"target\":null}\n",
               sizes[i], s * 1e6, base * 1e6, base / s, rounds);
        printf("{\"bench\":\"pg_group_commit_flat\",\"unit\":\"us/charge\",\"batch\":%d,"
               "\"us_per_charge\":%.1f,\"baseline\":%.1f,\"baseline_what\":\"the batch of "
               "savepoints of the same size in the same run\",\"ratio\":%.3f,\"rounds\":%d,"
               "\"target\":null}\n",
               sizes[i], f * 1e6, s * 1e6, s / f, rounds);
        fflush(stdout);
    }
    ab_store_close(st);
    return 0;
}
