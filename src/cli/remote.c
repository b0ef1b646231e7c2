/* remote.c — the CLI as a client of agentbudgetd: with --url (or AGENTBUDGET_URL) and
 * AGENTBUDGET_TOKEN every operation goes over HTTP instead of opening the store, and the answers
 * are turned back into the library's structs so that the output is the same. libcurl is loaded
 * with dlopen() only then, so the local path (a hook call per tool use) does not pay for it. */
#include <curl/curl.h> /* types and constants only */
#include <dlfcn.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define RESPONSE_BYTES_MAX (64 * 1024 * 1024)
#define TOKEN_BYTES_MAX 200 /* a secret is 85 */

static struct {
    CURL *(*init)(void);
    CURLcode (*setopt)(CURL *, CURLoption, ...);
    CURLcode (*perform)(CURL *);
    CURLcode (*getinfo)(CURL *, CURLINFO, ...);
    void (*cleanup)(CURL *);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    const char *(*strerror)(CURLcode);
    char *(*escape)(CURL *, const char *, int);
    void (*free)(void *);
} curl;

static int curl_load(cli *c)
{
    if (curl.init)
        return 0;
    void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(c->remote_err, sizeof c->remote_err, "cannot load libcurl (install libcurl4): %s",
                 dlerror());
        return AB_ESTORE;
    }
    struct {
        void **slot;
        const char *name;
    } syms[] = {{(void **)&curl.init, "curl_easy_init"},
                {(void **)&curl.setopt, "curl_easy_setopt"},
                {(void **)&curl.perform, "curl_easy_perform"},
                {(void **)&curl.getinfo, "curl_easy_getinfo"},
                {(void **)&curl.cleanup, "curl_easy_cleanup"},
                {(void **)&curl.slist_append, "curl_slist_append"},
                {(void **)&curl.slist_free_all, "curl_slist_free_all"},
                {(void **)&curl.strerror, "curl_easy_strerror"},
                {(void **)&curl.escape, "curl_easy_escape"},
                {(void **)&curl.free, "curl_free"}};
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++)
        if (!(*syms[i].slot = dlsym(h, syms[i].name))) {
            snprintf(c->remote_err, sizeof c->remote_err, "libcurl.so.4 has no %s", syms[i].name);
            curl.init = NULL;
            return AB_ESTORE;
        }
    return 0;
}

typedef struct {
    char *buf;
    size_t len, cap;
    int too_big;
} sink;

static size_t on_data(char *p, size_t size, size_t n, void *v)
{
    sink *s = v;
    size_t add = size * n;
    if (s->len + add > RESPONSE_BYTES_MAX) {
        s->too_big = 1;
        return 0;
    }
    if (s->len + add + 1 > s->cap) { /* doubling: a large reply is not copied over and over */
        size_t cap = s->cap ? s->cap : 16384;
        while (cap < s->len + add + 1)
            cap *= 2;
        char *b = realloc(s->buf, cap);
        if (!b)
            return 0;
        s->buf = b;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, p, add);
    s->len += add;
    s->buf[s->len] = '\0';
    return add;
}

/* Maps an HTTP error reply to an AB_ code, with its message in c->remote_err. */
static int http_error(cli *c, long status, const char *body)
{
    json_t *j = body ? json_loads(body, 0, NULL) : NULL;
    const char *msg = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
    snprintf(c->remote_err, sizeof c->remote_err, "%s", msg ? msg : "the daemon said no");
    if (!msg)
        snprintf(c->remote_err, sizeof c->remote_err, "HTTP %ld from the daemon", status);
    /* the library's own code when it decided (ESTATE, EUNKNOWNMODEL, …): the same --json code
     * and exit status as a local call */
    const char *ab_code =
        json_string_value(json_object_get(json_object_get(j, "error"), "ab_code"));
    for (int rc = -1; ab_code && rc >= -64; rc--)
        if (!strcmp(ab_err_name(rc), ab_code)) {
            json_decref(j);
            return rc;
        }
    json_decref(j);
    switch (status) {
    case 400:
    case 405:
    case 413:
    case 415:
        return AB_EINVAL;
    case 401:
    case 403:
        return AB_EPERM;
    case 404:
        return AB_ENOTFOUND;
    case 409:
        return AB_ECONFLICT;
    default:
        return AB_ESTORE; /* 429, 5xx: the service, not the input */
    }
}

long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One request. *out (malloc'd, NUL-terminated) holds the reply body on AB_OK. */
static int http(cli *c, const char *method, const char *path, const char *body, const char *key,
                char **out, long *status_out)
{
    *out = NULL;
    int rc = curl_load(c);
    if (rc)
        return rc;
    const char *token = getenv("AGENTBUDGET_TOKEN");
    if (!token || !*token) {
        snprintf(c->remote_err, sizeof c->remote_err,
                 "AGENTBUDGET_TOKEN: required with --url (the agent's or admin's token)");
        return AB_EINVAL;
    }
    /* it goes into a header line as it is: a line break would end it and start a header of
     * the token's choosing, and a longer one would be cut short below */
    size_t token_len = strlen(token);
    for (size_t i = 0; i < token_len && token_len <= TOKEN_BYTES_MAX; i++)
        if ((unsigned char)token[i] <= ' ' || (unsigned char)token[i] >= 0x7f)
            token_len = TOKEN_BYTES_MAX + 1;
    if (token_len > TOKEN_BYTES_MAX) {
        snprintf(c->remote_err, sizeof c->remote_err,
                 "AGENTBUDGET_TOKEN: must be 1-%d bytes of printable ASCII, no white space or "
                 "control characters (the abt_… secret, as it was printed)",
                 TOKEN_BYTES_MAX);
        return AB_EINVAL;
    }
    /* the request's own time, and no more than what is left of the hook's for all of them: a
     * daemon that answers each of its requests slowly would keep Claude Code waiting for their
     * sum */
    long timeout_ms = (c->timeout_s ? c->timeout_s : 60) * 1000;
    if (c->deadline_ms) {
        long long left = c->deadline_ms - mono_ms();
        if (left <= 0) {
            snprintf(c->remote_err, sizeof c->remote_err,
                     "agentbudgetd at %s: the hook's %ld s for the daemon's answers "
                     "(AGENTBUDGET_TIMEOUT) are up",
                     c->url, c->timeout_s);
            return AB_ESTORE;
        }
        if (left < timeout_ms)
            timeout_ms = (long)left;
    }
    CURL *h = curl.init();
    if (!h)
        return AB_ENOMEM;
    char url[4096], auth[TOKEN_BYTES_MAX + 32], idem[AB_KEY_BYTES_MAX + 32];
    /* "http://HOST:PORT/" as written in many a config: the paths start with their own '/' (it
     * asked for //v1/…, which no route is) */
    size_t base = strlen(c->url);
    while (base > 0 && c->url[base - 1] == '/' && strncmp(c->url, "unix:", 5))
        base--;
    snprintf(url, sizeof url, "%.*s%s", (int)base, c->url, path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    struct curl_slist *hdr = curl.slist_append(NULL, auth);
    hdr = curl.slist_append(hdr, "Content-Type: application/json");
    if (key) {
        snprintf(idem, sizeof idem, "Idempotency-Key: %s", key);
        hdr = curl.slist_append(hdr, idem);
    }
    sink s = {0};
    curl.setopt(h, CURLOPT_URL, url);
    curl.setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl.setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl.setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl.setopt(h, CURLOPT_WRITEDATA, &s);
    curl.setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl.setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 10000 ? timeout_ms : 10000L);
    curl.setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (strncmp(c->url, "unix:", 5) == 0) { /* unix:PATH: the daemon's --listen unix:PATH */
        curl.setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->url + 5);
        snprintf(url, sizeof url, "http://localhost%s", path);
        curl.setopt(h, CURLOPT_URL, url);
    }
    if (body) {
        curl.setopt(h, CURLOPT_POSTFIELDS, body);
        curl.setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    CURLcode cc = curl.perform(h);
    long status = 0;
    curl.getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl.slist_free_all(hdr);
    curl.cleanup(h);
    if (cc != CURLE_OK) {
        snprintf(c->remote_err, sizeof c->remote_err, "cannot reach agentbudgetd at %s: %s", c->url,
                 s.too_big ? "the reply is too large" : curl.strerror(cc));
        free(s.buf);
        return AB_ESTORE;
    }
    if (status_out)
        *status_out = status;
    if (status < 200 || status > 299) {
        rc = http_error(c, status, s.buf);
        free(s.buf);
        return rc;
    }
    *out = s.buf ? s.buf : strdup("{}");
    return *out ? AB_OK : AB_ENOMEM;
}

/* A path segment or query value, percent-escaped (budget paths keep their '/'). */
static void escape_into(cli *c, const char *s, int keep_slash, char *out, size_t size)
{
    size_t o = 0;
    (void)c;
    for (const unsigned char *p = (const unsigned char *)s; *p && o + 4 < size; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~' || (keep_slash && *p == '/'))
            out[o++] = (char)*p;
        else
            o += (size_t)snprintf(out + o, size - o, "%%%02X", *p);
    }
    out[o] = '\0';
}

/* ---- JSON back into the library's structs (exact integers: the _nusd/_uusd siblings) ---- */

static int64_t jint(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
}

static void jstr(json_t *o, const char *k, char *dst, size_t size)
{
    const char *v = json_string_value(json_object_get(o, k));
    snprintf(dst, size, "%s", v ? v : "");
}

static int metric_of(const char *s)
{
    return !strcmp(s, "usd") ? AB_METRIC_USD : !strcmp(s, "requests") ? AB_METRIC_REQUESTS : 0;
}

static int window_of(const char *s)
{
    return !strcmp(s, "day")     ? AB_WINDOW_DAY
           : !strcmp(s, "month") ? AB_WINDOW_MONTH
           : !strcmp(s, "total") ? AB_WINDOW_TOTAL
                                 : AB_WINDOW_SESSION;
}

static void status_from(json_t *j, ab_budget_status *b)
{
    memset(b, 0, sizeof *b);
    jstr(j, "agent_id", b->path, sizeof b->path);
    jstr(j, "role", b->role, sizeof b->role);
    jstr(j, "model", b->model, sizeof b->model);
    for (int w = 0; w < AB_WINDOW_COUNT; w++)
        for (int m = 0; m < AB_METRIC_COUNT; m++)
            b->limit[w][m] = -1;
    json_t *l, *usage = json_object_get(j, "usage"), *holds = json_object_get(j, "holds");
    size_t i;
    json_array_foreach(json_object_get(j, "limits"), i, l)
    {
        const char *ms = json_string_value(json_object_get(l, "metric"));
        const char *ws = json_string_value(json_object_get(l, "window"));
        int m = metric_of(ms ? ms : ""), w = window_of(ws ? ws : "");
        b->limit[w][m] = jint(l, m == AB_METRIC_USD ? "limit_nusd" : "limit");
    }
    static const char *const windows[] = {"session", "day", "month", "total"};
    for (int w = 0; w < AB_WINDOW_COUNT; w++) {
        json_t *u = json_object_get(usage, windows[w]);
        b->used[w][AB_METRIC_TOKENS] = jint(u, "tokens");
        b->used[w][AB_METRIC_USD] = jint(u, "cost_nusd");
        b->used[w][AB_METRIC_REQUESTS] = jint(u, "requests");
    }
    b->held[AB_METRIC_TOKENS] = jint(holds, "tokens");
    b->held[AB_METRIC_USD] = jint(holds, "cost_nusd");
    b->held[AB_METRIC_REQUESTS] = jint(holds, "requests");
    b->holds_open = jint(holds, "open");
    b->operations_blocked = jint(j, "operations_blocked");
    b->created_at_ms = jint(j, "created_at");
    b->last_reset_ms = jint(j, "last_reset");
    b->session_reset_ms = jint(json_object_get(j, "session"), "started_at");
    b->day_start_ms = jint(json_object_get(j, "daily"), "day_start");
    b->month_start_ms = jint(j, "month_start");
    b->updated_at_ms = jint(j, "updated_at");
}

static void decision_from(json_t *j, ab_decision *d)
{
    memset(d, 0, sizeof *d);
    d->limit = -1; /* "limit": null, no limit decided, as the library says it (0 would be one) */
    d->allowed = json_is_true(json_object_get(j, "allowed"));
    d->over = json_is_true(json_object_get(j, "over"));
    d->replayed = json_is_true(json_object_get(j, "replayed"));
    d->cost_nusd = jint(j, "cost_nusd");
    d->tokens = jint(j, "tokens");
    jstr(j, "reason", d->reason, sizeof d->reason);
    jstr(j, "hold_id", d->hold_id, sizeof d->hold_id);
    json_t *l = json_object_get(j, "limit");
    if (json_is_object(l)) {
        jstr(l, "budget", d->budget, sizeof d->budget);
        const char *ms = json_string_value(json_object_get(l, "metric"));
        const char *ws = json_string_value(json_object_get(l, "window"));
        d->metric = (ab_metric)metric_of(ms ? ms : "");
        d->window = (ab_window)window_of(ws ? ws : "");
        int usd = d->metric == AB_METRIC_USD;
        d->limit = jint(l, usd ? "amount_nusd" : "amount");
        d->used = jint(l, usd ? "used_nusd" : "used");
        d->requested = jint(l, usd ? "requested_nusd" : "requested");
        d->remaining = jint(l, usd ? "remaining_nusd" : "remaining");
    }
}

static void price_from(json_t *j, ab_price *p)
{
    memset(p, 0, sizeof *p);
    jstr(j, "model", p->model, sizeof p->model);
    const char *src = json_string_value(json_object_get(j, "source"));
    p->builtin = src && !strcmp(src, "builtin");
    p->input = jint(j, "input_uusd");
    p->output = jint(j, "output_uusd");
    p->cache_write_5m = jint(j, "cache_write_5m_uusd");
    p->cache_write_1h = jint(j, "cache_write_1h_uusd");
    p->cache_read = jint(j, "cache_read_uusd");
    json_t *t = json_object_get(j, "tier");
    if (json_is_object(t)) {
        p->tier_threshold_tokens = jint(t, "above_tokens");
        p->tier_input = jint(t, "input_uusd");
        p->tier_output = jint(t, "output_uusd");
        p->tier_cache_write_5m = jint(t, "cache_write_5m_uusd");
        p->tier_cache_write_1h = jint(t, "cache_write_1h_uusd");
        p->tier_cache_read = jint(t, "cache_read_uusd");
    }
}

static void token_from(json_t *j, ab_token *t)
{
    memset(t, 0, sizeof *t);
    jstr(j, "id", t->id, sizeof t->id);
    jstr(j, "scope", t->scope, sizeof t->scope);
    jstr(j, "label", t->label, sizeof t->label);
    const char *r = json_string_value(json_object_get(j, "role"));
    t->role = r && !strcmp(r, "admin") ? AB_TOKEN_ADMIN : AB_TOKEN_AGENT;
    t->created_at_ms = jint(j, "created_at");
    t->expires_at_ms =
        json_is_integer(json_object_get(j, "expires_at")) ? jint(j, "expires_at") : 0;
    t->revoked_at_ms =
        json_is_integer(json_object_get(j, "revoked_at")) ? jint(j, "revoked_at") : 0;
}

static void hold_from(json_t *j, ab_hold *h)
{
    static const char *const states[] = {"open", "committed", "released", "expired"};
    memset(h, 0, sizeof *h);
    jstr(j, "hold_id", h->id, sizeof h->id);
    jstr(j, "budget", h->budget, sizeof h->budget);
    jstr(j, "model", h->model, sizeof h->model);
    h->tokens = jint(j, "tokens");
    h->cost_nusd = jint(j, "cost_nusd");
    h->created_at_ms = jint(j, "created_at");
    h->expires_at_ms = jint(j, "expires_at");
    const char *s = json_string_value(json_object_get(j, "state"));
    for (int i = 0; s && i < 4; i++)
        if (!strcmp(s, states[i]))
            h->state = i;
}

static void event_from(json_t *j, ab_event *e)
{
    memset(e, 0, sizeof *e);
    e->id = jint(j, "id");
    e->time_ms = jint(j, "time");
    jstr(j, "budget", e->budget, sizeof e->budget);
    jstr(j, "op", e->op, sizeof e->op);
    jstr(j, "model", e->model, sizeof e->model);
    e->usage = (ab_usage){jint(j, "input"), jint(j, "output"), jint(j, "cache_write_5m"),
                          jint(j, "cache_write_1h"), jint(j, "cache_read")};
    e->tokens = jint(j, "tokens");
    e->cost_nusd = jint(j, "cost_nusd");
    e->allowed = json_is_true(json_object_get(j, "allowed"));
    jstr(j, "reason", e->reason, sizeof e->reason);
    jstr(j, "hold_id", e->hold_id, sizeof e->hold_id);
    jstr(j, "key", e->key, sizeof e->key);
    jstr(j, "actor", e->actor, sizeof e->actor);
}

static void role_from(json_t *j, ab_role *r, json_t *keep)
{
    memset(r, 0, sizeof *r);
    jstr(j, "name", r->name, sizeof r->name);
    r->admin = json_is_true(json_object_get(j, "admin"));
    json_t *x;
    size_t i;
    json_array_foreach(json_object_get(j, "limits"), i, x)
    {
        if (r->limits_count < AB_LIMITS_MAX && json_is_string(x) &&
            ab_limit_parse(json_string_value(x), &r->limits[r->limits_count]) == AB_OK)
            r->limits_count++;
    }
    static const char *const names[] = {"allow_tools", "deny_tools", "allow_models", "deny_models"};
    char **lists[] = {r->allow_tools, r->deny_tools, r->allow_models, r->deny_models};
    size_t *counts[] = {&r->allow_tools_count, &r->deny_tools_count, &r->allow_models_count,
                        &r->deny_models_count};
    for (int k = 0; k < 4; k++)
        json_array_foreach(json_object_get(j, names[k]), i, x)
        {
            if (*counts[k] < AB_GLOBS_MAX && json_is_string(x))
                lists[k][(*counts[k])++] = (char *)json_string_value(x); /* owned by keep */
        }
    (void)keep;
}

/* Runs a request and parses the reply as JSON; *out must be json_decref'ed on AB_OK. */
static int call_json(cli *c, const char *method, const char *path, json_t *body, const char *key,
                     json_t **out, long *status)
{
    char *b = body ? json_dumps(body, JSON_COMPACT) : NULL, *resp = NULL;
    json_decref(body);
    int rc = http(c, method, path, b, key, &resp, status);
    free(b);
    if (rc)
        return rc;
    *out = json_loads(resp, 0, NULL);
    free(resp);
    if (!*out) {
        snprintf(c->remote_err, sizeof c->remote_err, "the daemon's reply is not JSON");
        return AB_ESTORE;
    }
    return AB_OK;
}

/* METHOD PREFIX<name, percent-escaped>SUFFIX; the reply in *out (NULL: not wanted). */
static int call_named(cli *c, const char *method, const char *prefix, const char *name,
                      int keep_slash, const char *suffix, json_t *body, const char *key,
                      json_t **out, long *status)
{
    char esc[AB_PATH_BYTES_MAX * 3 + 1], url[sizeof esc + 64];
    escape_into(c, name, keep_slash, esc, sizeof esc);
    snprintf(url, sizeof url, "%s%s%s", prefix, esc, suffix);
    json_t *reply = NULL;
    int rc = call_json(c, method, url, body, key, &reply, status);
    if (!rc && out)
        *out = reply;
    else
        json_decref(reply);
    return rc;
}

/* s as a JSON string, or NULL with the message naming field in c->remote_err. JSON carries only
 * UTF-8; jansson's NULL for anything else, put into an object or an array, would leave the field
 * out without a word, and the daemon would decide on something else (the budget's default model,
 * a role without that tool). */
static json_t *jtext(cli *c, const char *field, const char *s)
{
    json_t *v = json_string(s);
    if (!v)
        snprintf(c->remote_err, sizeof c->remote_err,
                 "%s: '%s' is not UTF-8, which a request to agentbudgetd (JSON) cannot carry",
                 field, s);
    return v;
}

/* obj[key] = s, or AB_EINVAL (see jtext; field names it in the message). */
static int set_text(cli *c, json_t *obj, const char *key, const char *field, const char *s)
{
    json_t *v = jtext(c, field, s);
    if (!v)
        return AB_EINVAL;
    json_object_set_new(obj, key, v);
    return AB_OK;
}

/* {"budget": path, "model": model (unless NULL)} into *out, or AB_EINVAL. */
static int budget_body(cli *c, const char *path, const char *model, json_t **out)
{
    json_t *body = json_object();
    int rc = set_text(c, body, "budget", "PATH", path);
    if (!rc && model)
        rc = set_text(c, body, "model", "--model", model);
    if (rc)
        json_decref(body);
    *out = rc ? NULL : body;
    return rc;
}

static json_t *usage_json(const ab_usage *u)
{
    return json_pack("{s:I,s:I,s:I,s:I,s:I}", "input", (json_int_t)u->input, "output",
                     (json_int_t)u->output, "cache_write_5m", (json_int_t)u->cache_write_5m,
                     "cache_write_1h", (json_int_t)u->cache_write_1h, "cache_read",
                     (json_int_t)u->cache_read);
}

/* ---- the backend: the library, or the daemon ---- */

/* Local calls that answer with the status their change left: the change and the read are one
 * batch, one transaction, so that no other writer's change comes in between. A batch the store
 * voided (PostgreSQL aborted it: a deadlock, or another process made the same new budget at
 * once) did nothing and runs again, as the library runs again a transaction it aborted, instead
 * of failing as bad input. after NULL: no batch, no read. */
#define LOCAL_REPLAYS_MAX 50

typedef struct {
    const char *path;
    const ab_budget_spec *spec; /* set */
    int which;                  /* reset */
    const char *key;
    int *created;
} local_change;

static int local_with_status(cli *c, int (*change)(cli *, const local_change *),
                             const local_change *a, ab_budget_status *after)
{
    if (!after)
        return change(c, a);
    int rc;
    for (int attempt = 0;; attempt++) {
        if ((rc = ab_store_batch_begin(c->st)))
            return rc;
        if ((rc = change(c, a)) == AB_OK && (rc = ab_budget_get(c->st, a->path, after)) == AB_OK)
            rc = ab_store_batch_commit(c->st);
        else
            ab_store_batch_abort(c->st);
        if (rc != AB_EREPLAY || attempt == LOCAL_REPLAYS_MAX)
            return rc;
        struct timespec now, pause = {0, 1000000L * (attempt + 1)};
        clock_gettime(CLOCK_MONOTONIC, &now);
        /* racing writers (other processes) spread out: a jitter of this process's own */
        pause.tv_nsec +=
            (long)(((unsigned long)now.tv_nsec ^ (unsigned long)getpid() * 2654435761UL) %
                   1000000UL);
        nanosleep(&pause, NULL);
    }
}

static int local_set(cli *c, const local_change *a)
{
    return ab_budget_set(c->st, a->path, a->spec, a->key, a->created);
}

static int local_reset(cli *c, const local_change *a)
{
    return ab_budget_reset(c->st, a->path, a->which, a->key);
}

/* The daemon's answer to a change, the budget's status, into *after (when not NULL); frees out. */
static void remote_status(json_t *out, ab_budget_status *after)
{
    if (after)
        status_from(out, after);
    json_decref(out);
}

int be_budget_set(cli *c, const char *path, const ab_budget_spec *sp, const char *key, int *created,
                  ab_budget_status *after)
{
    if (!c->url) {
        local_change a = {.path = path, .spec = sp, .key = key, .created = created};
        return local_with_status(c, local_set, &a, after);
    }
    json_t *limits = json_array(), *unset = json_array();
    for (size_t i = 0; i < sp->limits_count; i++) {
        char spec[64];
        ab_limit l = sp->limits[i];
        if (l.amount < 0) {
            snprintf(spec, sizeof spec, "%s/%s", ab_metric_name(l.metric),
                     ab_window_name(l.window));
            json_array_append_new(unset, json_string(spec));
        } else {
            json_array_append_new(limits, json_string(ab_limit_format(&l, spec, sizeof spec)));
        }
    }
    json_t *body =
        json_pack("{s:o,s:o,s:b,s:b}", "limits", limits, "unset", unset, "replace_limits",
                  sp->replace_limits, "no_role_defaults", sp->no_role_defaults);
    int rc = AB_OK;
    if (sp->role)
        rc = set_text(c, body, "role", "--role", sp->role);
    if (!rc && sp->model)
        rc = set_text(c, body, "model", "--model", sp->model);
    if (rc) {
        json_decref(body);
        return rc;
    }
    long status = 0;
    json_t *out;
    if ((rc = call_named(c, "PUT", "/v1/budgets/", path, 1, "", body, key, &out, &status)))
        return rc;
    remote_status(out, after);
    if (created)
        *created = status == 201;
    return AB_OK;
}

int be_budget_get(cli *c, const char *path, ab_budget_status *b)
{
    if (!c->url)
        return ab_budget_get(c->st, path, b);
    json_t *out;
    int rc = call_named(c, "GET", "/v1/budgets/", path, 1, "", NULL, NULL, &out, NULL);
    if (rc)
        return rc;
    status_from(out, b);
    json_decref(out);
    return AB_OK;
}

int be_budget_list(cli *c, const char *prefix, ab_budget_fn fn, void *ctx)
{
    if (!c->url)
        return ab_budget_list(c->st, prefix, fn, ctx);
    char url[AB_PATH_BYTES_MAX * 3 + 32], esc[AB_PATH_BYTES_MAX * 3];
    escape_into(c, prefix ? prefix : "", 0, esc, sizeof esc);
    snprintf(url, sizeof url, "/v1/budgets%s%s", prefix ? "?prefix=" : "", esc);
    json_t *out, *x;
    int rc = call_json(c, "GET", url, NULL, NULL, &out, NULL);
    if (rc)
        return rc;
    size_t i;
    json_array_foreach(json_object_get(out, "budgets"), i, x)
    {
        ab_budget_status b;
        status_from(x, &b);
        if ((rc = fn(&b, ctx)))
            break;
    }
    json_decref(out);
    return rc;
}

int be_budget_delete(cli *c, const char *path, const char *key)
{
    if (!c->url)
        return ab_budget_delete(c->st, path, key);
    return call_named(c, "DELETE", "/v1/budgets/", path, 1, "", NULL, key, NULL, NULL);
}

int be_budget_reset(cli *c, const char *path, int which, const char *key, ab_budget_status *after)
{
    if (!c->url) {
        local_change a = {.path = path, .which = which, .key = key};
        return local_with_status(c, local_reset, &a, after);
    }
    json_t *w = json_array();
    if (which & AB_RESET_SESSION)
        json_array_append_new(w, json_string("session"));
    if (which & AB_RESET_DAY)
        json_array_append_new(w, json_string("day"));
    if (which & AB_RESET_MONTH)
        json_array_append_new(w, json_string("month"));
    json_t *body, *out;
    int rc = budget_body(c, path, NULL, &body);
    if (rc) {
        json_decref(w);
        return rc;
    }
    json_object_set_new(body, "windows", w);
    if (!(rc = call_json(c, "POST", "/v1/reset", body, key, &out, NULL)))
        remote_status(out, after);
    return rc;
}

/* POST a request whose answer is a decision. */
static int decision_call(cli *c, const char *url, json_t *body, const char *key, ab_decision *d)
{
    json_t *out;
    int rc = call_json(c, "POST", url, body, key, &out, NULL);
    if (rc)
        return rc;
    decision_from(out, d);
    json_decref(out);
    return AB_OK;
}

int be_check(cli *c, const char *path, const char *model, const ab_usage *u, int64_t tokens,
             ab_decision *d)
{
    if (!c->url)
        return u ? ab_budget_check(c->st, path, model, u, d)
                 : ab_budget_check_tokens(c->st, path, tokens, d);
    json_t *body;
    int rc = budget_body(c, path, model, &body);
    if (rc)
        return rc;
    if (u)
        json_object_set_new(body, "usage", usage_json(u));
    else
        json_object_set_new(body, "tokens", json_integer(tokens));
    return decision_call(c, "/v1/check", body, NULL, d);
}

int be_reserve(cli *c, const char *path, const char *model, const ab_usage *u, int64_t ttl_s,
               const char *key, ab_decision *d)
{
    if (!c->url)
        return ab_budget_reserve(c->st, path, model, u, ttl_s, key, d);
    json_t *body;
    int rc = budget_body(c, path, model, &body);
    if (rc)
        return rc;
    json_object_set_new(body, "usage", usage_json(u));
    if (ttl_s)
        json_object_set_new(body, "ttl_s", json_integer(ttl_s));
    return decision_call(c, "/v1/reserve", body, key, d);
}

int be_charge(cli *c, const char *path, const char *model, const ab_usage *before,
              const ab_usage *u, const char *key, ab_decision *d)
{
    if (!c->url)
        return ab_budget_charge_growth(c->st, path, model, before, u, key, d);
    json_t *body;
    int rc = budget_body(c, path, model, &body);
    if (rc)
        return rc;
    json_object_set_new(body, "usage", usage_json(u));
    if (before)
        json_object_set_new(body, "charged_before", usage_json(before));
    return decision_call(c, "/v1/charge", body, key, d);
}

int be_commit(cli *c, const char *hold, const ab_usage *u, const char *key, ab_decision *d)
{
    if (!c->url)
        return ab_hold_commit(c->st, hold, u, key, d);
    char url[128], esc[96];
    escape_into(c, hold, 0, esc, sizeof esc);
    snprintf(url, sizeof url, "/v1/holds/%s/commit", esc);
    return decision_call(c, url, json_pack("{s:o}", "usage", usage_json(u)), key, d);
}

int be_release(cli *c, const char *hold, const char *key)
{
    if (!c->url)
        return ab_hold_release(c->st, hold, key);
    return call_named(c, "POST", "/v1/holds/", hold, 0, "/release", NULL, key, NULL, NULL);
}

int be_hold_get(cli *c, const char *hold, ab_hold *h)
{
    if (!c->url)
        return ab_hold_get(c->st, hold, h);
    json_t *out;
    int rc = call_named(c, "GET", "/v1/holds/", hold, 0, "", NULL, NULL, &out, NULL);
    if (rc)
        return rc;
    hold_from(out, h);
    json_decref(out);
    return AB_OK;
}

int be_permission(cli *c, const char *path, const char *op, const ab_permission_context *ctx,
                  ab_decision *d)
{
    if (!c->url)
        return ab_check_permission(c->st, path, op, ctx, d);
    json_t *body;
    int rc = budget_body(c, path, ctx->model, &body);
    if (!rc && (rc = set_text(c, body, "operation", "TOOL", op)))
        json_decref(body);
    if (rc)
        return rc;
    if (ctx->estimated_tokens)
        json_object_set_new(body, "estimated_tokens", json_integer(ctx->estimated_tokens));
    return decision_call(c, "/v1/permissions/check", body, NULL, d);
}

int be_events(cli *c, const ab_event_query *q, ab_event_fn fn, void *ctx)
{
    if (!c->url)
        return ab_events_query(c->st, q, fn, ctx);
    int64_t after = q->after_id, left = q->limit ? q->limit : AB_EVENTS_PAGE_MAX;
    for (;;) {
        char url[2048], b[AB_PATH_BYTES_MAX * 3] = "", op[96] = "";
        if (q->budget)
            escape_into(c, q->budget, 0, b, sizeof b);
        if (q->op)
            escape_into(c, q->op, 0, op, sizeof op);
        snprintf(url, sizeof url,
                 "/v1/events?after=%" PRId64 "&limit=%" PRId64 "&since=%" PRId64 "&until=%" PRId64
                 "%s%s%s%s",
                 after, left < 1000 ? left : 1000, q->since_ms, q->until_ms,
                 q->budget ? "&budget=" : "", b, q->op ? "&op=" : "", op);
        json_t *out, *x;
        int rc = call_json(c, "GET", url, NULL, NULL, &out, NULL);
        if (rc)
            return rc;
        size_t i;
        json_array_foreach(json_object_get(out, "events"), i, x)
        {
            ab_event e;
            event_from(x, &e);
            left--;
            if ((rc = fn(&e, ctx)))
                break;
        }
        json_t *next = json_object_get(out, "next_after");
        after = json_is_integer(next) ? (int64_t)json_integer_value(next) : -1;
        json_decref(out);
        if (rc || after < 0 || left <= 0)
            return rc;
    }
}

int be_price_list(cli *c, int builtin, ab_price_fn fn, void *ctx)
{
    if (!c->url)
        return ab_price_list(c->st, builtin, fn, ctx);
    json_t *out, *x;
    int rc = call_json(c, "GET", builtin ? "/v1/prices?builtin=1" : "/v1/prices", NULL, NULL, &out,
                       NULL);
    if (rc)
        return rc;
    size_t i;
    json_array_foreach(json_object_get(out, "prices"), i, x)
    {
        ab_price p;
        price_from(x, &p);
        if ((rc = fn(&p, ctx)))
            break;
    }
    json_decref(out);
    return rc;
}

int be_price_get(cli *c, const char *model, ab_price *p)
{
    if (!c->url)
        return ab_price_get(c->st, model, p);
    json_t *out;
    int rc = call_named(c, "GET", "/v1/prices/", model, 1, "", NULL, NULL, &out, NULL);
    if (rc)
        return rc;
    price_from(out, p);
    json_decref(out);
    return AB_OK;
}

int be_price_set(cli *c, const ab_price *p)
{
    if (!c->url)
        return ab_price_set(c->st, p);
    char v[11][32];
    const int64_t f[] = {p->input,
                         p->output,
                         p->cache_write_5m,
                         p->cache_write_1h,
                         p->cache_read,
                         p->tier_input,
                         p->tier_output,
                         p->tier_cache_write_5m,
                         p->tier_cache_write_1h,
                         p->tier_cache_read,
                         0};
    for (int i = 0; i < 10; i++)
        ab_price_format(f[i], v[i], sizeof v[i]);
    json_t *body = json_pack("{s:s,s:s,s:s,s:s,s:s}", "input", v[0], "output", v[1],
                             "cache_write_5m", v[2], "cache_write_1h", v[3], "cache_read", v[4]);
    if (p->tier_threshold_tokens)
        json_object_set_new(body, "tier",
                            json_pack("{s:I,s:s,s:s,s:s,s:s,s:s}", "above_tokens",
                                      (json_int_t)p->tier_threshold_tokens, "input", v[5], "output",
                                      v[6], "cache_write_5m", v[7], "cache_write_1h", v[8],
                                      "cache_read", v[9]));
    return call_named(c, "PUT", "/v1/prices/", p->model, 1, "", body, NULL, NULL, NULL);
}

int be_price_unset(cli *c, const char *model)
{
    if (!c->url)
        return ab_price_unset(c->st, model);
    return call_named(c, "DELETE", "/v1/prices/", model, 1, "", NULL, NULL, NULL, NULL);
}

int be_price_import(cli *c, const char *doc, size_t len, size_t *n)
{
    if (!c->url)
        return ab_price_import_litellm(c->st, doc, len, n);
    char *resp;
    int rc = http(c, "POST", "/v1/prices/import", doc, NULL, &resp, NULL);
    if (rc)
        return rc;
    json_t *out = json_loads(resp, 0, NULL);
    free(resp);
    *n = (size_t)jint(out, "imported");
    json_decref(out);
    return AB_OK;
}

int be_role_list(cli *c, ab_role_fn fn, void *ctx)
{
    if (!c->url)
        return ab_role_list(c->st, fn, ctx);
    json_t *out, *x;
    int rc = call_json(c, "GET", "/v1/roles", NULL, NULL, &out, NULL);
    if (rc)
        return rc;
    size_t i;
    json_array_foreach(json_object_get(out, "roles"), i, x)
    {
        ab_role r;
        role_from(x, &r, out);
        if ((rc = fn(&r, ctx)))
            break;
    }
    json_decref(out);
    return rc;
}

int be_role_show(cli *c, const char *name, ab_role_fn fn, void *ctx)
{
    if (!c->url) {
        ab_role r;
        int rc = ab_role_get(c->st, name, &r);
        if (rc)
            return rc;
        rc = fn(&r, ctx);
        ab_role_free(&r);
        return rc;
    }
    json_t *out;
    int rc = call_named(c, "GET", "/v1/roles/", name, 0, "", NULL, NULL, &out, NULL);
    if (rc)
        return rc;
    ab_role r;
    role_from(out, &r, out);
    rc = fn(&r, ctx);
    json_decref(out);
    return rc;
}

int be_role_set(cli *c, const ab_role *r)
{
    if (!c->url)
        return ab_role_set(c->st, r);
    json_t *lists[4], *limits = json_array();
    char *const *src[] = {r->allow_tools, r->deny_tools, r->allow_models, r->deny_models};
    const size_t counts[] = {r->allow_tools_count, r->deny_tools_count, r->allow_models_count,
                             r->deny_models_count};
    static const char *const flags[] = {"--allow-tool", "--deny-tool", "--allow-model",
                                        "--deny-model"};
    int rc = AB_OK;
    for (int k = 0; k < 4; k++) {
        lists[k] = json_array();
        for (size_t i = 0; i < counts[k] && !rc; i++) {
            json_t *v = jtext(c, flags[k], src[k][i]);
            if (v)
                json_array_append_new(lists[k], v);
            else
                rc = AB_EINVAL; /* a dropped deny pattern would allow what it denies */
        }
    }
    if (rc) {
        for (int k = 0; k < 4; k++)
            json_decref(lists[k]);
        json_decref(limits);
        return rc;
    }
    for (size_t i = 0; i < r->limits_count; i++) {
        char spec[64];
        json_array_append_new(limits,
                              json_string(ab_limit_format(&r->limits[i], spec, sizeof spec)));
    }
    json_t *body = json_pack("{s:o,s:o,s:o,s:o,s:o,s:b}", "limits", limits, "allow_tools", lists[0],
                             "deny_tools", lists[1], "allow_models", lists[2], "deny_models",
                             lists[3], "admin", r->admin);
    return call_named(c, "PUT", "/v1/roles/", r->name, 0, "", body, NULL, NULL, NULL);
}

int be_role_delete(cli *c, const char *name)
{
    if (!c->url)
        return ab_role_delete(c->st, name);
    return call_named(c, "DELETE", "/v1/roles/", name, 0, "", NULL, NULL, NULL, NULL);
}

int be_token_create(cli *c, const char *scope, ab_token_role role, const char *label, int64_t ttl,
                    char *secret, ab_token *t)
{
    if (!c->url)
        return ab_token_create(c->st, scope, role, label, ttl, secret, t);
    json_t *body = json_pack("{s:s}", "role", role == AB_TOKEN_ADMIN ? "admin" : "agent");
    int rc = set_text(c, body, "scope", "--scope", scope);
    if (!rc && label)
        rc = set_text(c, body, "label", "--label", label);
    if (rc) {
        json_decref(body);
        return rc;
    }
    if (ttl)
        json_object_set_new(body, "expires_s", json_integer(ttl));
    json_t *out;
    if ((rc = call_json(c, "POST", "/v1/tokens", body, NULL, &out, NULL)))
        return rc;
    token_from(out, t);
    jstr(out, "secret", secret, AB_TOKEN_SECRET_BYTES + 1);
    json_decref(out);
    return AB_OK;
}

int be_token_list(cli *c, ab_token_fn fn, void *ctx)
{
    if (!c->url)
        return ab_token_list(c->st, fn, ctx);
    json_t *out, *x;
    int rc = call_json(c, "GET", "/v1/tokens", NULL, NULL, &out, NULL);
    if (rc)
        return rc;
    size_t i;
    json_array_foreach(json_object_get(out, "tokens"), i, x)
    {
        ab_token t;
        token_from(x, &t);
        if ((rc = fn(&t, ctx)))
            break;
    }
    json_decref(out);
    return rc;
}

int be_token_revoke(cli *c, const char *id)
{
    if (!c->url)
        return ab_token_revoke(c->st, id);
    return call_named(c, "DELETE", "/v1/tokens/", id, 0, "", NULL, NULL, NULL, NULL);
}
