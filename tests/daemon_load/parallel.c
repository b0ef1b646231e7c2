/* parallel.c — 64 clients, each on its own keep-alive connection, reserve and settle against
 * one team budget (usd/total=5) and one agent under it (usd/total=3) until both are spent.
 * Reserve must be atomic: while it runs, no snapshot shows used + held above a limit; at the end
 * used <= limit, no hold is open, and the counters equal the commit events' sums and what the
 * clients were told.
 *   load_parallel PATH/TO/agentbudgetd */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "load.h"
#include "test.h"

#define CLIENTS 64
#define AGENT_CLIENTS 48 /* the rest reserve on the team itself: both limits get reached */
#define REQUESTS_MAX 400 /* per client: reserves and settles */
#define DENIALS_MAX 25   /* per client: then the budget counts as spent for it */
#define PAGES_MAX 1000
#define MODEL "claude-sonnet-4-5"

static const char *const budgets[2] = {"team", "team/agent"};
static const int64_t limits_nusd[2] = {INT64_C(5000000000), INT64_C(3000000000)};

static lt_daemon d;
static atomic_int running;

/* What one client saw, added up per budget it used (0 team, 1 agent). */
typedef struct {
    int id;
    int which;
    int64_t reserves, allowed, denied, commits, releases;
    int64_t committed_nusd; /* the cost each commit reply named */
    int64_t bad_denials;    /* denials whose figures would have fit the limit */
    int64_t errors;         /* anything but 200 and a well-formed decision */
    int denied_by[2];       /* denials naming the team's or the agent's limit */
} client;

static json_t *parse(const char *s)
{
    return s ? json_loads(s, 0, NULL) : NULL;
}

/* Checks a denial's figures: the limit really would have been exceeded. */
static void denial(client *cl, json_t *dec)
{
    json_t *lim = json_object_get(dec, "limit");
    const char *b = json_string_value(json_object_get(lim, "budget"));
    int64_t amount = lt_int(lim, "amount_nusd", -1), used = lt_int(lim, "used_nusd", -1),
            req = lt_int(lim, "requested_nusd", -1);
    cl->denied++;
    if (b && strcmp(b, "team") == 0)
        cl->denied_by[0]++;
    else if (b && strcmp(b, "team/agent") == 0)
        cl->denied_by[1]++;
    if (!b || amount < 0 || used < 0 || req < 0 || used + req <= amount)
        cl->bad_denials++;
}

/* One settle: commit all (3 in 5), commit less (1 in 5) or release (1 in 5). */
static int settle(client *cl, lt_conn *c, unsigned *seed, const char *hold, int64_t in,
                  int64_t out_tokens)
{
    char path[128], body[160], *reply = NULL;
    unsigned r = (unsigned)rand_r(seed) % 5u;
    int release = r == 4;
    if (r == 3) {
        in = in * (int64_t)(rand_r(seed) % 101) / 100;
        out_tokens = out_tokens * (int64_t)(rand_r(seed) % 101) / 100;
    }
    snprintf(path, sizeof path, "/v1/holds/%s/%s", hold, release ? "release" : "commit");
    snprintf(body, sizeof body, "{\"usage\":{\"input\":%" PRId64 ",\"output\":%" PRId64 "}}", in,
             out_tokens);
    int status = lt_request(c, "POST", path, d.token, NULL, release ? NULL : body, &reply);
    json_t *j = parse(reply);
    free(reply);
    if (status != 200 || !j) {
        fprintf(stderr, "client %d: %s %s: status %d\n", cl->id, release ? "release" : "commit",
                hold, status);
        json_decref(j);
        cl->errors++;
        return -1;
    }
    if (release) {
        cl->releases++;
    } else {
        cl->commits++;
        cl->committed_nusd += lt_int(j, "cost_nusd", 0);
    }
    json_decref(j);
    return 0;
}

static void *client_main(void *v)
{
    client *cl = v;
    lt_conn c;
    unsigned seed = (unsigned)cl->id * 2654435761u + (unsigned)time(NULL);
    if (lt_connect(&c, d.port)) {
        cl->errors++;
        return NULL;
    }
    for (int n = 0; n < REQUESTS_MAX && cl->denied < DENIALS_MAX && !cl->errors; n++) {
        int64_t in = 500 + rand_r(&seed) % 11501, out_tokens = 100 + rand_r(&seed) % 1401;
        char body[256], *reply = NULL;
        snprintf(body, sizeof body,
                 "{\"budget\":\"%s\",\"model\":\"" MODEL "\",\"usage\":{\"input\":%" PRId64
                 ",\"output\":%" PRId64 "}}",
                 budgets[cl->which], in, out_tokens);
        int status = lt_request(&c, "POST", "/v1/reserve", d.token, NULL, body, &reply);
        json_t *j = parse(reply);
        free(reply);
        json_t *allowed = json_object_get(j, "allowed");
        cl->reserves++;
        if (status != 200 || !json_is_boolean(allowed)) {
            fprintf(stderr, "client %d: reserve: status %d\n", cl->id, status);
            cl->errors++;
        } else if (json_is_true(allowed)) {
            char hold[64];
            snprintf(hold, sizeof hold, "%s", json_string_value(json_object_get(j, "hold_id")));
            cl->allowed++;
            n++;
            settle(cl, &c, &seed, hold, in, out_tokens);
        } else {
            denial(cl, j);
        }
        json_decref(j);
    }
    lt_disconnect(&c);
    return NULL;
}

/* used + held of each budget's usd/total limit, polled while the clients run: a reserve that
 * is not atomic shows up here even when the commits happen to stay low. */
typedef struct {
    int64_t snapshots, over, peak[2]; /* peak: the highest used + held seen */
} monitor;

static void *monitor_main(void *v)
{
    monitor *m = v;
    lt_conn c = {.fd = -1};
    for (int n = 0; n < 100000 && atomic_load(&running); n++) {
        for (int b = 0; b < 2; b++) {
            char path[64], *reply = NULL;
            snprintf(path, sizeof path, "/v1/budgets/%s", budgets[b]);
            if (c.fd < 0 && lt_connect(&c, d.port))
                continue;
            int status = lt_request(&c, "GET", path, d.token, NULL, NULL, &reply);
            json_t *s = parse(reply), *l = lt_limit(s, "usd", "total");
            free(reply);
            if (status == 200 && l) {
                int64_t sum = lt_int(l, "used_nusd", 0) + lt_int(l, "held_nusd", 0);
                m->snapshots++;
                if (sum > limits_nusd[b]) {
                    m->over++;
                    fprintf(stderr, "snapshot: %s used+held %" PRId64 " > limit %" PRId64 "\n",
                            budgets[b], sum, limits_nusd[b]);
                }
                if (sum > m->peak[b])
                    m->peak[b] = sum;
            }
            json_decref(s);
        }
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    lt_disconnect(&c);
    return NULL;
}

/* Sums the events of `op` at or under `budget`, paged by next_after. */
static int events_sum(const char *budget, const char *op, int64_t *count, int64_t *cost_nusd,
                      int64_t *allowed)
{
    int64_t after = 0;
    *count = *cost_nusd = *allowed = 0;
    for (int page = 0; page < PAGES_MAX; page++) {
        char path[256];
        int status;
        snprintf(path, sizeof path, "/v1/events?budget=%s&op=%s&limit=1000&after=%" PRId64, budget,
                 op, after);
        json_t *j = lt_call(d.port, "GET", path, d.token, NULL, &status), *e;
        size_t i;
        if (status != 200 || !json_is_array(json_object_get(j, "events"))) {
            json_decref(j);
            return -1;
        }
        json_array_foreach(json_object_get(j, "events"), i, e)
        {
            (*count)++;
            *cost_nusd += lt_int(e, "cost_nusd", 0);
            *allowed += json_is_true(json_object_get(e, "allowed"));
        }
        json_t *next = json_object_get(j, "next_after");
        after = json_is_integer(next) ? (int64_t)json_integer_value(next) : -1;
        json_decref(j);
        if (after < 0)
            return 0;
    }
    return -1;
}

static void put_budget(const char *path, const char *limit)
{
    char url[128], body[128];
    int status;
    snprintf(url, sizeof url, "/v1/budgets/%s", path);
    snprintf(body, sizeof body, "{\"limits\":[\"%s\"]}", limit);
    json_decref(lt_call(d.port, "PUT", url, d.token, body, &status));
    if (status != 201)
        lt_die("PUT %s: status %d", url, status);
}

/* The final state of one budget against what the clients and the log say. */
static void check_budget(int b, const client *cl)
{
    int64_t reserves = 0, allowed = 0, denied = 0, commits = 0, releases = 0, committed = 0;
    for (int i = 0; i < CLIENTS; i++)
        if (b == 0 || cl[i].which == 1) { /* the team's events include its agent's */
            reserves += cl[i].reserves;
            allowed += cl[i].allowed;
            commits += cl[i].commits;
            releases += cl[i].releases;
            committed += cl[i].committed_nusd;
        }
    for (int i = 0; i < CLIENTS; i++)
        if (cl[i].which == b) /* a denial counts on the budget reserved on */
            denied += cl[i].denied;
    char path[64];
    int status;
    snprintf(path, sizeof path, "/v1/budgets/%s", budgets[b]);
    json_t *s = lt_call(d.port, "GET", path, d.token, NULL, &status);
    json_t *l = lt_limit(s, "usd", "total");
    CHECK(status == 200 && l != NULL);
    int64_t used = lt_int(l, "used_nusd", -1), held = lt_int(l, "held_nusd", -1);
    int64_t ev_commits, ev_commit_nusd, ev_ok, ev_reserves, ev_reserve_nusd, ev_reserve_ok;
    CHECK(events_sum(budgets[b], "commit", &ev_commits, &ev_commit_nusd, &ev_ok) == 0);
    CHECK(events_sum(budgets[b], "reserve", &ev_reserves, &ev_reserve_nusd, &ev_reserve_ok) == 0);
    printf("%-10s limit %" PRId64 " used %" PRId64 " held %" PRId64 " open %" PRId64
           " | commits %" PRId64 " (log %" PRId64 ", log sum %" PRId64 ", replies sum %" PRId64
           ") reserves %" PRId64 " (log %" PRId64 ", allowed %" PRId64 ") denied here %" PRId64
           " (blocked %" PRId64 ") releases %" PRId64 "\n",
           budgets[b], limits_nusd[b], used, held, lt_int(s, "holds.open", -1), commits, ev_commits,
           ev_commit_nusd, committed, reserves, ev_reserves, ev_reserve_ok, denied,
           lt_int(s, "operations_blocked", -1), releases);
    CHECK_I64(lt_int(l, "limit_nusd", -1), limits_nusd[b]);
    CHECK(used >= 0 && used <= limits_nusd[b]);
    CHECK_I64(held, 0);
    CHECK_I64(lt_int(s, "holds.open", -1), 0);
    CHECK_I64(lt_int(s, "usage.total.cost_nusd", -1), used);
    CHECK_I64(ev_commit_nusd, used); /* the counters are the log's sum */
    CHECK_I64(committed, used);      /* and what the clients were told */
    CHECK_I64(ev_commits, commits);
    CHECK_I64(ev_ok, commits);
    CHECK_I64(ev_reserves, reserves);
    CHECK_I64(ev_reserve_ok, allowed);
    CHECK_I64(lt_int(s, "operations_blocked", -1), denied);
    CHECK(used >= limits_nusd[b] / 2); /* the clients did spend it (most of it) */
    json_decref(s);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: load_parallel PATH/TO/agentbudgetd\n");
        return 2;
    }
    char store[400];
    snprintf(store, sizeof store, "sqlite:%s/b.db", lt_tmpdir());
    if (lt_daemon_start(&d, argv[1], store) || !d.token[0])
        lt_die("cannot start agentbudgetd or read its admin token");
    put_budget("team", "usd/total=5");
    put_budget("team/agent", "usd/total=3");

    static client cl[CLIENTS];
    pthread_t th[CLIENTS], mon;
    monitor m = {0};
    atomic_store(&running, 1);
    double start = lt_now();
    if (pthread_create(&mon, NULL, monitor_main, &m))
        lt_die("cannot start the monitor thread");
    for (int i = 0; i < CLIENTS; i++) {
        cl[i].id = i;
        cl[i].which = i < AGENT_CLIENTS ? 1 : 0;
        if (pthread_create(&th[i], NULL, client_main, &cl[i]))
            lt_die("cannot start client %d", i);
    }
    for (int i = 0; i < CLIENTS; i++)
        pthread_join(th[i], NULL);
    atomic_store(&running, 0);
    pthread_join(mon, NULL);
    double took = lt_now() - start;

    int64_t requests = 0, errors = 0, bad = 0, by_team = 0, by_agent = 0;
    for (int i = 0; i < CLIENTS; i++) {
        requests += cl[i].reserves + cl[i].commits + cl[i].releases;
        errors += cl[i].errors;
        bad += cl[i].bad_denials;
        by_team += cl[i].denied_by[0];
        by_agent += cl[i].denied_by[1];
    }
    printf("%d clients, %" PRId64 " requests in %.2f s; denials by the team's limit %" PRId64
           ", by the agent's %" PRId64 "; %" PRId64 " snapshots, peak used+held team %" PRId64
           " agent %" PRId64 "\n",
           CLIENTS, requests, took, by_team, by_agent, m.snapshots, m.peak[0], m.peak[1]);
    CHECK_I64(errors, 0);
    CHECK_I64(bad, 0);
    CHECK_I64(m.over, 0);
    CHECK(m.snapshots > 0);
    CHECK(by_team > 0);
    CHECK(by_agent > 0);
    check_budget(0, cl);
    check_budget(1, cl);

    double stop_s = 0;
    int st = lt_daemon_stop(&d, 10000, &stop_s);
    CHECK(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    int rc = test_summary("daemon_load_parallel");
    return lt_cleanup(rc);
}
