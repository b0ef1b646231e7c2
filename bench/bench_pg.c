/* bench_pg.c — reserve+commit pairs per second against a local PostgreSQL server with 1, 8 and
 * 32 clients (a thread and a connection each, each on its own agent budget), beside pgbench's
 * built-in simple-update script on the same server and client counts in the same run. A pair
 * is two transactions, so the ratio compares 2 x pairs/s with pgbench's transactions/s.
 *   bench_pg BASE_URL SECONDS     (BASE_URL: postgres://user@host:port, no database) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agentbudget.h"

static char url[512];
static double seconds;
static volatile int stop;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct {
    int id;
    long pairs;
    int failed;
} client;

static void *run_client(void *v)
{
    client *c = v;
    ab_store *st;
    if (ab_store_open(url, &st) != AB_OK) {
        fprintf(stderr, "client %d: %s\n", c->id, ab_store_errmsg(st));
        c->failed = 1;
        ab_store_close(st);
        return NULL;
    }
    char path[64];
    snprintf(path, sizeof path, "bench/agent-%d", c->id);
    ab_usage est = {.input = 1000, .output = 500}, actual = {.input = 1000, .output = 200};
    while (!stop) {
        ab_decision d;
        if (ab_budget_reserve(st, path, "claude-sonnet-4-5", &est, 0, NULL, &d) || !d.allowed ||
            ab_hold_commit(st, d.hold_id, &actual, NULL, &d)) {
            fprintf(stderr, "client %d: %s\n", c->id, ab_store_errmsg(st));
            c->failed = 1;
            break;
        }
        c->pairs++;
    }
    ab_store_close(st);
    return NULL;
}

static double ours(int clients)
{
    pthread_t t[64];
    client c[64];
    stop = 0;
    for (int i = 0; i < clients; i++) {
        c[i] = (client){.id = i};
        pthread_create(&t[i], NULL, run_client, &c[i]);
    }
    double start = now_s();
    usleep((useconds_t)(seconds * 1e6));
    stop = 1;
    long pairs = 0;
    for (int i = 0; i < clients; i++) {
        pthread_join(t[i], NULL);
        pairs += c[i].pairs;
        if (c[i].failed)
            exit(3);
    }
    return (double)pairs / (now_s() - start);
}

/* pgbench -b simple-update on the pgbench database; its tps (without connection time). */
static double pgbench(const char *base, int clients)
{
    char cmd[1024], line[512];
    snprintf(cmd, sizeof cmd,
             "pgbench=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)/pgbench; "
             "$pgbench -n -b simple-update -c %d -j %d -T %d '%s/abbench_pgbench' 2>&1",
             clients, clients < 2 ? 1 : 2, (int)seconds, base);
    FILE *p = popen(cmd, "r");
    double tps = -1;
    while (p && fgets(line, sizeof line, p))
        if (strncmp(line, "tps = ", 6) == 0)
            tps = atof(line + 6);
    if (p)
        pclose(p);
    return tps;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_pg BASE_URL SECONDS\n");
        return 2;
    }
    const char *base = argv[1];
    seconds = atof(argv[2]);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "psql -qX '%s/postgres' -c 'DROP DATABASE IF EXISTS abbench' -c 'CREATE DATABASE "
             "abbench' -c 'DROP DATABASE IF EXISTS abbench_pgbench' -c 'CREATE DATABASE "
             "abbench_pgbench' >/dev/null && "
             "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)/pgbench -q -i -s 10 "
             "'%s/abbench_pgbench' >/dev/null 2>&1",
             base, base);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot prepare the benchmark databases\n");
        return 3;
    }
    snprintf(url, sizeof url, "%s/abbench", base);
    ab_store *st;
    if (ab_store_open(url, &st) != AB_OK) {
        fprintf(stderr, "%s\n", ab_store_errmsg(st));
        return 3;
    }
    for (int i = 0; i < 32; i++) {
        char path[64];
        snprintf(path, sizeof path, "bench/agent-%d", i);
        ab_limit l;
        ab_limit_parse("usd/total=1000000", &l);
        ab_budget_set(st, path, &(ab_budget_spec){.limits = &l, .limits_count = 1}, NULL, NULL);
    }
    ab_store_close(st);
    const int counts[] = {1, 8, 32};
    for (int k = 0; k < 3; k++) {
        double pg_tps = pgbench(base, counts[k]);
        double pairs = ours(counts[k]);
        double pg_tps2 = pgbench(base, counts[k]); /* either side of ours, against drift */
        double base_tps = (pg_tps + pg_tps2) / 2;
        printf("{\"bench\":\"pg_reserve_commit\",\"clients\":%d,\"pairs_per_s\":%.0f,"
               "\"txn_per_s\":%.0f,\"pgbench_simple_update_tps\":%.0f,\"ratio\":%.3f,"
               "\"target_ratio\":0.5,\"meets_target\":%s}\n",
               counts[k], pairs, 2 * pairs, base_tps, 2 * pairs / base_tps,
               2 * pairs / base_tps >= 0.5 ? "true" : "false");
        fflush(stdout);
    }
    return 0;
}
