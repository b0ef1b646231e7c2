/* store.c — agentbudgetd's access to the store: a pool of read handles, and one writer thread
 * that applies concurrent mutating requests in one transaction (group commit) and answers each
 * only after that transaction is durable. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

#define READERS_MAX 64

static ab_store *readers[READERS_MAX];
static int reader_busy[READERS_MAX];
static unsigned reader_count;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cond = PTHREAD_COND_INITIALIZER;

typedef struct job {
    abd_call *call;
    abd_job_fn fn;
    struct job *next;
} job;

static ab_store *writer_st;
static job *queue_head, *queue_tail;
static int stopping;
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER; /* work for the writer */
static pthread_t writer_thread;
static int writer_running;

ab_store *abd_reader_acquire(void)
{
    pthread_mutex_lock(&pool_lock);
    for (;;) {
        for (unsigned i = 0; i < reader_count; i++)
            if (!reader_busy[i]) {
                reader_busy[i] = 1;
                pthread_mutex_unlock(&pool_lock);
                return readers[i];
            }
        pthread_cond_wait(&pool_cond, &pool_lock);
    }
}

void abd_reader_release(ab_store *st)
{
    pthread_mutex_lock(&pool_lock);
    for (unsigned i = 0; i < reader_count; i++)
        if (readers[i] == st)
            reader_busy[i] = 0;
    pthread_cond_signal(&pool_cond);
    pthread_mutex_unlock(&pool_lock);
}

/* The events a request makes name the token that made it ("agentbudgetd" before one is
 * known), so that the audit log says who spent, not only that the daemon did. */
static void actor_for(ab_store *st, const abd_call *c)
{
    ab_store_set_actor(st, c->authed ? c->token.id : "agentbudgetd");
}

ab_store *abd_reader(abd_call *c, int grouped)
{
    if (!c->reader) {
        c->reader = abd_reader_acquire();
        c->grouped = grouped && ab_store_read_begin(c->reader) == AB_OK;
    }
    actor_for(c->reader, c); /* each time: the first call checks the token, and is no one's */
    return c->reader;
}

void abd_reader_done(abd_call *c)
{
    if (!c->reader)
        return;
    if (c->grouped)
        ab_store_read_end(c->reader);
    abd_reader_release(c->reader);
    c->reader = NULL;
    c->grouped = 0;
}

/* How batch_once runs its jobs: one flat batch, one batch of savepoints, or each job in its own
 * transaction. */
enum { BATCH_FLAT, BATCH_SAVEPOINTS, BATCH_NONE };

/* Runs every job of list as kind says; the batch's commit's answer (AB_OK for BATCH_NONE).
 * *at_commit: the failure, if any, was the commit's. */
static int batch_once(job *list, int kind, size_t *n, int *at_commit)
{
    *at_commit = 0;
    int rc = kind == BATCH_NONE   ? AB_OK
             : kind == BATCH_FLAT ? ab_store_batch_begin_flat(writer_st)
                                  : ab_store_batch_begin(writer_st);
    *n = 0;
    for (job *j = list; j; j = j->next, (*n)++) {
        j->call->spend_budget[0] = j->call->denial[0] = '\0'; /* a replay answers anew */
        j->call->retry_after_s = 0;
        if (rc == AB_OK) {
            actor_for(writer_st, j->call);
            j->fn(writer_st, j->call);
        }
    }
    if (rc != AB_OK || kind == BATCH_NONE)
        return rc;
    *at_commit = 1;
    return ab_store_batch_commit(writer_st);
}

/* Runs one batch: every job queued now, in one transaction. Flat first (on PostgreSQL a
 * savepoint per request costs round trips, and past 64 of them every row visit slows); if a
 * request failed after it wrote, the library voided the batch (nothing of it happened), and it
 * runs again as a batch of savepoints, where each request's failure is its own. If the store
 * aborted a request of that one too (a deadlock with another writer: the batch held rows of
 * several budgets), that was voided as well, and each request runs in its own transaction,
 * where it locks in the one order every writer uses and the library retries it. */
static void run_batch(job *list)
{
    size_t n;
    int at_commit;
    int rc = batch_once(list, BATCH_FLAT, &n, &at_commit);
    if (rc == AB_EREPLAY) {
        abd_metrics_batch_replay();
        rc = batch_once(list, BATCH_SAVEPOINTS, &n, &at_commit);
    }
    if (rc == AB_EREPLAY) {
        abd_metrics_batch_replay();
        rc = batch_once(list, BATCH_NONE, &n, &at_commit);
    }
    for (job *j = list; j && rc == AB_OK; j = j->next) { /* durable now: count the spend */
        if (j->call->spend_budget[0])
            abd_metrics_spend(j->call->spend_budget, j->call->spend_model, j->call->spend_nusd,
                              j->call->spend_tokens);
        if (j->call->denial[0])
            abd_metrics_denial(j->call->denial);
    }
    if (rc != AB_OK) { /* every request of the batch fails alike */
        char msg[600];
        snprintf(msg, sizeof msg, "%s", ab_store_errmsg(writer_st));
        abd_metrics_store_error();
        /* a commit whose answer was lost (the connection died under it) may have happened: the
         * client must not take the request as undone, and retry it without its key */
        const char *what =
            at_commit && rc == AB_ESTORE
                ? "the store failed at the commit, so whether this request was applied is not "
                  "known (retry with the same Idempotency-Key: if it was applied, that gives its "
                  "first answer)"
                : "the store failed, nothing was changed";
        for (job *j = list; j; j = j->next)
            abd_error(j->call, 503, "store_unavailable", NULL, "%s: %s", what, msg);
    }
    abd_metrics_batch(n);
}

static void *writer_main(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&q_lock);
        while (!queue_head && !stopping)
            pthread_cond_wait(&q_cond, &q_lock);
        if (!queue_head && stopping) {
            pthread_mutex_unlock(&q_lock);
            return NULL;
        }
        /* take up to batch_max jobs: everything that queued while the last commit ran */
        job *list = queue_head, *last = queue_head;
        for (unsigned i = 1; i < abd_cfg.batch_max && last->next; i++)
            last = last->next;
        queue_head = last->next;
        if (!queue_head)
            queue_tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&q_lock);
        run_batch(list);
        /* answered: each request's connection goes back to libmicrohttpd, which sends the
         * reply. Nothing of a job is touched once its connection is resumed (the request may be
         * finished and freed at once), so next and the connection are read first */
        for (job *j = list, *next; j; j = next) {
            next = j->next;
            struct MHD_Connection *conn = j->call->conn;
            j->call->pending = 2;
            free(j);
            MHD_resume_connection(conn);
        }
    }
}

void *abd_args(abd_call *c, size_t size)
{
    free(c->args);
    if (!(c->args = calloc(1, size)))
        abd_error(c, 500, "internal", NULL, "out of memory");
    return c->args;
}

void abd_write(abd_call *c, abd_job_fn fn)
{
    job *j = malloc(sizeof *j);
    if (!j) {
        abd_error(c, 500, "internal", NULL, "out of memory");
        return;
    }
    *j = (job){.call = c, .fn = fn, .next = NULL};
    pthread_mutex_lock(&q_lock);
    if (stopping) {
        pthread_mutex_unlock(&q_lock);
        free(j);
        abd_error(c, 503, "shutting_down", NULL, "the daemon is shutting down");
        return;
    }
    /* suspended before the writer can see it: the writer resumes only suspended requests */
    c->pending = 1;
    c->queued = 1;
    MHD_suspend_connection(c->conn);
    if (queue_tail)
        queue_tail->next = j;
    else
        queue_head = j;
    queue_tail = j;
    pthread_cond_signal(&q_cond);
    pthread_mutex_unlock(&q_lock);
}

int abd_store_init(const char *url, unsigned count, char *err, size_t err_size)
{
    if (count < 1)
        count = 1;
    if (count > READERS_MAX)
        count = READERS_MAX;
    stopping = 0; /* after an abd_store_shutdown(): tests/fuzz/fuzz_http.c starts it again */
    int rc = ab_store_open(url, &writer_st);
    if (rc) {
        snprintf(err, err_size, "%s", ab_store_errmsg(writer_st));
        return rc;
    }
    ab_store_set_actor(writer_st, "agentbudgetd");
    /* memory: is one store per handle, so every request must use the same one */
    int shared = url && strncmp(url, "memory:", 7) == 0;
    if (shared)
        count = 1;
    for (reader_count = 0; reader_count < count; reader_count++) {
        if (shared) {
            readers[reader_count] = writer_st;
            continue;
        }
        if ((rc = ab_store_open(url, &readers[reader_count]))) {
            snprintf(err, err_size, "%s", ab_store_errmsg(readers[reader_count]));
            ab_store_close(readers[reader_count]);
            return rc;
        }
        ab_store_set_actor(readers[reader_count], "agentbudgetd");
    }
    if (pthread_create(&writer_thread, NULL, writer_main, NULL))
        return AB_ENOMEM;
    writer_running = 1;
    return AB_OK;
}

void abd_store_stop_writer(void)
{
    if (!writer_running)
        return;
    pthread_mutex_lock(&q_lock);
    stopping = 1;
    pthread_cond_signal(&q_cond);
    pthread_mutex_unlock(&q_lock);
    pthread_join(writer_thread, NULL); /* it drains the queue first */
    writer_running = 0;
}

void abd_store_shutdown(void)
{
    abd_store_stop_writer();
    for (unsigned i = 0; i < reader_count; i++)
        if (readers[i] != writer_st)
            ab_store_close(readers[i]);
    ab_store_close(writer_st);
}
