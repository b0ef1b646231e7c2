/* test_threads.c — one handle, many threads (the library is thread-safe: calls on a handle are
 * serialised): each thread charges, reserves and commits, checks, reads, sends bad arguments
 * (which fail before the call takes the handle's lock) and runs batches, on a memory: and a
 * sqlite: store. The totals are exact. Built under ThreadSanitizer (bootstrap.sh test, the
 * build-tsan tree), it also fails on any data race. usage: test_threads DIR */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agentbudget.h"
#include "test.h"

#define THREADS 4
#define ROUNDS 300

static ab_store *st;
static int errors;

static void *worker(void *arg)
{
    int id = (int)(long)arg;
    ab_usage one = {.input = 1}, bad = {.input = -1};
    for (int i = 0; i < ROUNDS; i++) {
        ab_decision d;
        ab_budget_status b;
        char key[32];
        if (ab_budget_charge(st, "team/a", NULL, &one, NULL, &d))
            __atomic_add_fetch(&errors, 1, __ATOMIC_SEQ_CST);
        if (ab_budget_charge(st, "team/a", NULL, &bad, NULL, &d) != AB_EINVAL) /* fails early */
            __atomic_add_fetch(&errors, 1, __ATOMIC_SEQ_CST);
        (void)ab_store_errmsg(st);
        if (ab_budget_reserve(st, "team/a", NULL, &one, 0, NULL, &d) ||
            ab_hold_commit(st, d.hold_id, &one, NULL, &d))
            __atomic_add_fetch(&errors, 1, __ATOMIC_SEQ_CST);
        snprintf(key, sizeof key, "k-%d-%d", id, i);
        if (ab_budget_charge(st, "team/a", NULL, &one, key, &d) ||
            ab_budget_charge(st, "team/a", NULL, &one, key, &d) || !d.replayed)
            __atomic_add_fetch(&errors, 1, __ATOMIC_SEQ_CST);
        if (ab_budget_check(st, "team/a", NULL, &one, &d) || ab_budget_get(st, "team", &b))
            __atomic_add_fetch(&errors, 1, __ATOMIC_SEQ_CST);
        if (i % 10 == 0) { /* a batch of two charges */
            if (ab_store_batch_begin(st) || ab_budget_charge(st, "team/a", NULL, &one, NULL, &d) ||
                ab_budget_charge(st, "team/a", NULL, &one, NULL, &d) || ab_store_batch_commit(st))
                __atomic_add_fetch(&errors, 1, __ATOMIC_SEQ_CST);
        }
        if (ab_store_batch_commit(st) != AB_EINVAL) /* no batch of this thread's */
            __atomic_add_fetch(&errors, 1, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

static void run(const char *url)
{
    CHECK_OK(NULL, ab_store_open(url, &st));
    CHECK_OK(st, ab_budget_set(st, "team", &(ab_budget_spec){0}, NULL, NULL));
    CHECK_OK(st, ab_budget_set(st, "team/a", &(ab_budget_spec){0}, NULL, NULL));
    errors = 0;
    pthread_t t[THREADS];
    for (long i = 0; i < THREADS; i++)
        CHECK(pthread_create(&t[i], NULL, worker, (void *)i) == 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    CHECK_I64(errors, 0);
    ab_budget_status b;
    CHECK_OK(st, ab_budget_get(st, "team", &b));
    /* a round: a charge, a commit, a keyed charge (once), and every tenth a batch of two */
    int64_t want = (int64_t)THREADS * (ROUNDS * 3 + ROUNDS / 10 * 2);
    CHECK_I64(b.used[AB_WINDOW_TOTAL][AB_METRIC_TOKENS], want);
    CHECK_I64(b.holds_open, 0);
    ab_store_close(st);
}

/* Copies A->B and B->A on two threads at once: each took its source's lock, then waited for
 * its target's, held by the other: a deadlock in 5 of 8 runs (the C API audit). alarm() makes a
 * hang a failure. */
static ab_store *copy_a, *copy_b;

static void *copier(void *arg)
{
    int forward = arg != NULL;
    for (int i = 0; i < 200; i++) {
        ab_copy_stats s;
        int rc =
            forward ? ab_store_copy(copy_a, copy_b, 1, &s) : ab_store_copy(copy_b, copy_a, 1, &s);
        if (rc)
            __atomic_add_fetch(&errors, 1, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

static void copy_both_ways(void)
{
    CHECK_OK(NULL, ab_store_open("memory:", &copy_a));
    CHECK_OK(NULL, ab_store_open("memory:", &copy_b));
    CHECK_OK(copy_a, ab_budget_set(copy_a, "x", &(ab_budget_spec){0}, NULL, NULL));
    errors = 0;
    alarm(60);
    pthread_t t1, t2;
    CHECK(pthread_create(&t1, NULL, copier, (void *)1) == 0);
    CHECK(pthread_create(&t2, NULL, copier, NULL) == 0);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    alarm(0);
    CHECK_I64(errors, 0);
    ab_store_close(copy_a);
    ab_store_close(copy_b);
}

int main(int argc, char **argv)
{
    copy_both_ways();
    char file[512], url[600];
    run("memory:");
    static const char *const parts[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) { /* a fresh file: none of an earlier run */
        snprintf(file, sizeof file, "%s/threads.db%s", argc > 1 ? argv[1] : "/tmp", parts[i]);
        remove(file);
    }
    snprintf(file, sizeof file, "%s/threads.db", argc > 1 ? argv[1] : "/tmp");
    snprintf(url, sizeof url, "sqlite:%s?sync=normal", file);
    run(url);
    return test_summary("threads");
}
