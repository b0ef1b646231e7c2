/* sigterm.c — SIGTERM under load loses nothing acknowledged. 16 clients charge with a unique
 * Idempotency-Key each; after about a second the daemon gets SIGTERM and must exit 0 within a
 * few seconds. Restarted on the same store, every key that got a 200 is in the event log exactly
 * once, the budget's usage is the sum of the logged charges, and re-sending an acknowledged key
 * replays its answer and changes nothing.
 *   load_sigterm PATH/TO/agentbudgetd */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "load.h"
#include "test.h"

#define CLIENTS 16
#define CHARGES_MAX 20000 /* per client; the SIGTERM comes long before */
#define RUN_S_MAX 30.0    /* and so does this */
#define PAGES_MAX 1000
#define STOP_WAIT_MS 5000
#define REPLAYS 5
#define BUDGET "svc/agent"

static lt_daemon d;
static atomic_int acked_total;

typedef struct {
    char key[48];
    int64_t input, output, cost_nusd;
} charge;

typedef struct {
    int id;
    charge *acked; /* CHARGES_MAX of them */
    int acked_n;
    int errors;      /* a reply other than 200 and 503 before the connection went */
    int last_status; /* what ended it: -1 a connection error, 503, or 0 (the bound) */
} client;

static void charge_body(char *buf, size_t size, int64_t input, int64_t output)
{
    snprintf(buf, size,
             "{\"budget\":\"" BUDGET
             "\",\"model\":\"claude-sonnet-4-5\",\"usage\":{\"input\":%" PRId64
             ",\"output\":%" PRId64 "}}",
             input, output);
}

static void *client_main(void *v)
{
    client *cl = v;
    lt_conn c;
    unsigned seed = (unsigned)cl->id * 2654435761u + (unsigned)time(NULL);
    double end = lt_now() + RUN_S_MAX;
    if (lt_connect(&c, d.port)) {
        cl->last_status = -1;
        return NULL;
    }
    for (int i = 0; i < CHARGES_MAX && lt_now() < end; i++) {
        charge ch = {.input = 100 + rand_r(&seed) % 5000, .output = 10 + rand_r(&seed) % 1000};
        char body[256], *reply = NULL;
        snprintf(ch.key, sizeof ch.key, "sigterm-%02d-%06d", cl->id, i);
        charge_body(body, sizeof body, ch.input, ch.output);
        int status = lt_request(&c, "POST", "/v1/charge", d.token, ch.key, body, &reply);
        json_t *j = reply ? json_loads(reply, 0, NULL) : NULL;
        free(reply);
        if (status == 200 && json_is_true(json_object_get(j, "allowed"))) {
            ch.cost_nusd = lt_int(j, "cost_nusd", -1);
            cl->acked[cl->acked_n++] = ch;
            atomic_fetch_add(&acked_total, 1);
        } else if (status == 200 || (status >= 0 && status != 503)) {
            fprintf(stderr, "client %d: charge %s: status %d\n", cl->id, ch.key, status);
            cl->errors++;
        }
        json_decref(j);
        if (status != 200) { /* connection error or 503: not acknowledged, and the end */
            cl->last_status = status;
            break;
        }
    }
    lt_disconnect(&c);
    return NULL;
}

/* A logged charge: key and cost. */
typedef struct {
    char key[48];
    int64_t cost_nusd, tokens;
} logged;

static int by_key(const void *a, const void *b)
{
    return strcmp(((const logged *)a)->key, ((const logged *)b)->key);
}

/* Reads every charge event of the budget, paged by next_after. NULL on failure. */
static logged *charges_logged(size_t *n)
{
    size_t cap = 1024;
    logged *out = malloc(cap * sizeof *out);
    int64_t after = 0;
    *n = 0;
    for (int page = 0; out && page < PAGES_MAX; page++) {
        char path[200];
        int status;
        snprintf(path, sizeof path,
                 "/v1/events?budget=" BUDGET "&op=charge&limit=1000&after=%" PRId64, after);
        json_t *j = lt_call(d.port, "GET", path, d.token, NULL, &status), *e;
        size_t i;
        if (status != 200 || !json_is_array(json_object_get(j, "events"))) {
            json_decref(j);
            break;
        }
        json_array_foreach(json_object_get(j, "events"), i, e)
        {
            if (*n == cap) {
                logged *grown = realloc(out, 2 * cap * sizeof *out);
                if (!grown)
                    lt_die("out of memory");
                out = grown;
                cap *= 2;
            }
            const char *key = json_string_value(json_object_get(e, "key"));
            /* the daemon stores a key as TOKEN_ID:KEY (keys are each token's own) */
            const char *colon = key ? strchr(key, ':') : NULL;
            snprintf(out[*n].key, sizeof out[*n].key, "%s", colon ? colon + 1 : key ? key : "");
            out[*n].cost_nusd = lt_int(e, "cost_nusd", -1);
            out[*n].tokens = lt_int(e, "tokens", -1);
            (*n)++;
        }
        json_t *next = json_object_get(j, "next_after");
        after = json_is_integer(next) ? (int64_t)json_integer_value(next) : -1;
        json_decref(j);
        if (after < 0) {
            qsort(out, *n, sizeof *out, by_key);
            return out;
        }
    }
    free(out);
    return NULL;
}

/* usage.total of the budget: cost and tokens. */
static void usage_total(int64_t *cost_nusd, int64_t *tokens, int64_t *requests)
{
    int status;
    json_t *s = lt_call(d.port, "GET", "/v1/budgets/" BUDGET, d.token, NULL, &status);
    CHECK_I64(status, 200);
    *cost_nusd = lt_int(s, "usage.total.cost_nusd", -1);
    *tokens = lt_int(s, "usage.total.tokens", -1);
    *requests = lt_int(s, "usage.total.requests", -1);
    json_decref(s);
}

/* Every acknowledged key once in the log with the cost it was told. */
static void check_acked(client *cl, const logged *log, size_t n_log)
{
    int missing = 0, twice = 0, wrong_cost = 0;
    for (int i = 0; i < CLIENTS; i++)
        for (int k = 0; k < cl[i].acked_n; k++) {
            logged want;
            snprintf(want.key, sizeof want.key, "%s", cl[i].acked[k].key);
            const logged *hit = bsearch(&want, log, n_log, sizeof *log, by_key);
            if (!hit) {
                if (missing++ < 10)
                    fprintf(stderr, "acknowledged %s is not in the log\n", want.key);
                continue;
            }
            /* exactly once: the neighbours in key order differ */
            twice += (hit > log && strcmp(hit[-1].key, want.key) == 0) ||
                     (hit < log + n_log - 1 && strcmp(hit[1].key, want.key) == 0);
            wrong_cost += hit->cost_nusd != cl[i].acked[k].cost_nusd;
        }
    CHECK_I64(missing, 0);
    CHECK_I64(twice, 0);
    CHECK_I64(wrong_cost, 0);
}

static void check_replays(client *cl, const logged *log, size_t n_log)
{
    int64_t cost0, tokens0, requests0, cost1, tokens1, requests1;
    usage_total(&cost0, &tokens0, &requests0);
    lt_conn c;
    CHECK(lt_connect(&c, d.port) == 0);
    int sent = 0;
    for (int i = 0; i < CLIENTS && sent < REPLAYS; i++) {
        if (!cl[i].acked_n)
            continue;
        const charge *ch = &cl[i].acked[cl[i].acked_n / 2];
        char body[256], *reply = NULL;
        charge_body(body, sizeof body, ch->input, ch->output);
        int status = lt_request(&c, "POST", "/v1/charge", d.token, ch->key, body, &reply);
        json_t *j = reply ? json_loads(reply, 0, NULL) : NULL;
        free(reply);
        CHECK_I64(status, 200);
        CHECK(json_is_true(json_object_get(j, "replayed")));
        CHECK_I64(lt_int(j, "cost_nusd", -1), ch->cost_nusd);
        json_decref(j);
        sent++;
    }
    lt_disconnect(&c);
    CHECK_I64(sent, REPLAYS);
    size_t n_after = 0;
    logged *after = charges_logged(&n_after);
    CHECK(after != NULL);
    CHECK_I64(n_after, n_log);
    free(after);
    (void)log;
    usage_total(&cost1, &tokens1, &requests1);
    CHECK_I64(cost1, cost0);
    CHECK_I64(tokens1, tokens0);
    CHECK_I64(requests1, requests0);
    printf("replayed %d acknowledged keys: \"replayed\":true, usage and log unchanged\n", sent);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: load_sigterm PATH/TO/agentbudgetd\n");
        return 2;
    }
    char store[400];
    snprintf(store, sizeof store, "sqlite:%s/b.db", lt_tmpdir());
    if (lt_daemon_start(&d, argv[1], store) || !d.token[0])
        lt_die("cannot start agentbudgetd or read its admin token");
    char token[sizeof d.token];
    snprintf(token, sizeof token, "%s", d.token); /* a restart prints none: the store has one */
    int status;
    json_decref(lt_call(d.port, "PUT", "/v1/budgets/svc", d.token, "{\"limits\":[]}", &status));
    CHECK_I64(status, 201);
    json_decref(lt_call(d.port, "PUT", "/v1/budgets/" BUDGET, d.token,
                        "{\"limits\":[\"usd/total=1000000\"]}", &status));
    CHECK_I64(status, 201);

    static client cl[CLIENTS];
    pthread_t th[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        cl[i].id = i;
        if (!(cl[i].acked = malloc(CHARGES_MAX * sizeof *cl[i].acked)))
            lt_die("out of memory");
        if (pthread_create(&th[i], NULL, client_main, &cl[i]))
            lt_die("cannot start client %d", i);
    }
    struct timespec second = {1, 0};
    nanosleep(&second, NULL);
    int acked_before = atomic_load(&acked_total);
    double took_s = 0;
    int st = lt_daemon_stop(&d, STOP_WAIT_MS, &took_s);
    for (int i = 0; i < CLIENTS; i++)
        pthread_join(th[i], NULL);
    int acked = 0, errors = 0, conn_errors = 0, unavailable = 0;
    for (int i = 0; i < CLIENTS; i++) {
        acked += cl[i].acked_n;
        errors += cl[i].errors;
        conn_errors += cl[i].last_status == -1;
        unavailable += cl[i].last_status == 503;
    }
    printf("SIGTERM after %d acknowledged charges; exit status %d after %.3f s; %d acknowledged "
           "in all; clients ended by a connection error %d, by 503 %d\n",
           acked_before, st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1, took_s, acked,
           conn_errors, unavailable);
    CHECK(acked_before > 0);
    CHECK(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(took_s < STOP_WAIT_MS / 1000.0);
    CHECK_I64(errors, 0);
    CHECK_I64(conn_errors + unavailable, CLIENTS); /* every client was stopped by the stop */

    if (lt_daemon_start(&d, argv[1], store))
        lt_die("cannot restart agentbudgetd on the same store");
    CHECK(d.token[0] == '\0'); /* no second bootstrap token */
    snprintf(d.token, sizeof d.token, "%s", token);
    size_t n_log = 0;
    logged *log = charges_logged(&n_log);
    if (!log)
        lt_die("cannot read the charge events");
    int64_t sum = 0, tokens = 0, cost, used_tokens, requests;
    for (size_t i = 0; i < n_log; i++) {
        sum += log[i].cost_nusd;
        tokens += log[i].tokens;
    }
    usage_total(&cost, &used_tokens, &requests);
    printf("log: %zu charges (%lld more than acknowledged: in flight at the stop), sum %" PRId64
           " nUSD %" PRId64 " tokens; budget usage %" PRId64 " nUSD %" PRId64 " tokens %" PRId64
           " requests\n",
           n_log, (long long)n_log - acked, sum, tokens, cost, used_tokens, requests);
    CHECK(n_log >= (size_t)acked);
    check_acked(cl, log, n_log);
    CHECK_I64(cost, sum);
    CHECK_I64(used_tokens, tokens);
    CHECK_I64(requests, (int64_t)n_log);
    check_replays(cl, log, n_log);
    free(log);

    st = lt_daemon_stop(&d, STOP_WAIT_MS, &took_s);
    CHECK(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    for (int i = 0; i < CLIENTS; i++)
        free(cl[i].acked);
    int rc = test_summary("daemon_load_sigterm");
    return lt_cleanup(rc);
}
