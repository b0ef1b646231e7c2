/* http.c — libmicrohttpd glue: a request's body (bounded), the bearer token and the throttle on
 * failed ones, JSON replies and errors, and one JSON access-log line per request. */
#include <arpa/inet.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "daemon.h"

/* Requests between their first byte and their reply's last: a stop waits for them. */
static int in_flight, draining;
static pthread_mutex_t flight_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t flight_cond = PTHREAD_COND_INITIALIZER;

int abd_http_drain(unsigned timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&flight_lock);
    draining = 1; /* new requests, even on open connections, are turned away from now on */
    while (in_flight > 0 && pthread_cond_timedwait(&flight_cond, &flight_lock, &until) == 0)
        ;
    int left = in_flight;
    pthread_mutex_unlock(&flight_lock);
    return left;
}

typedef struct {
    char *body;
    size_t len, cap, max;
    int too_big;
    struct timespec start;
    abd_call call;
    int answered;
    int counted; /* in in_flight */
    int refused; /* arrived during a stop */
} req;

/* ---- replies ---- */

void abd_utf8_clean(char *s)
{
    json_t *probe = json_string(s);
    if (probe) {
        json_decref(probe);
        return;
    }
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            *s = '?';
}

/* One line of stderr, as JSON like the access log: {"msg": what, "detail": detail}. */
static void log_line(const char *what, const char *detail)
{
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", detail);
    msg[strcspn(msg, "\n")] = '\0';
    abd_utf8_clean(msg);
    json_t *line = json_pack("{s:s,s:s}", "msg", what, "detail", msg);
    char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
    if (text)
        fprintf(stderr, "%s\n", text);
    free(text);
    json_decref(line);
}

void abd_reply_json(abd_call *c, int status, char *json)
{
    if (!c->static_out)
        free(c->out);
    c->status = status;
    c->out = json;
    c->static_out = 0;
    c->content_type = "application/json";
}

void abd_reply_obj(abd_call *c, int status, json_t *obj)
{
    char *s = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    if (!s) {
        abd_error(c, 500, "internal", NULL, "out of memory");
        return;
    }
    abd_reply_json(c, status, s);
}

/* {"error": {"code", "message", "field"?, "ab_code"?}}; ab_code: the library's error name
 * (EUNKNOWNMODEL, ESTATE, …) when the library decided, so that a client can tell apart what
 * one HTTP status covers. */
static int error_reply(abd_call *c, int status, const char *code, const char *field,
                       const char *ab_code, char *msg)
{
    abd_utf8_clean(msg); /* the message may quote the URL */
    json_t *e = json_pack("{s:s,s:s}", "code", code, "message", msg);
    if (e && field)
        json_object_set_new(e, "field", json_string(field));
    if (e && ab_code)
        json_object_set_new(e, "ab_code", json_string(ab_code));
    abd_reply_obj(c, status, json_pack("{s:o}", "error", e ? e : json_null()));
    return status;
}

static int error_replyv(abd_call *c, int status, const char *code, const char *field,
                        const char *ab_code, const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    return error_reply(c, status, code, field, ab_code, msg);
}

int abd_not_found(abd_call *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int status = error_replyv(c, 404, "not_found", NULL, ab_err_name(AB_ENOTFOUND), fmt, ap);
    va_end(ap);
    return status;
}

int abd_error(abd_call *c, int status, const char *code, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_replyv(c, status, code, field, NULL, fmt, ap);
    va_end(ap);
    return status;
}

int abd_fail(abd_call *c, ab_store *st, int rc)
{
    return abd_fail_as(c, st, rc, 0);
}

int abd_fail_as(abd_call *c, ab_store *st, int rc, int status)
{
    const char *msg = st ? ab_store_errmsg(st) : "";
    if (!msg || !*msg)
        msg = ab_strerror(rc);
    switch (status ? 0 : rc) {
    case 0:
        break;
    case AB_ENOTFOUND:
        status = 404;
        break;
    case AB_ECONFLICT:
    case AB_ESTATE:
        status = 409;
        break;
    case AB_EPERM:
        status = 403;
        break;
    case AB_ESTORE:
    case AB_EBUSY:
    case AB_ENOMEM:
        status = 503;
        abd_metrics_store_error();
        break;
    default:
        status = 400;
    }
    /* the library's messages start with the field they are about ("model: …"), a price's after
     * the model it is of ("price of 'm': cache_write_5m: …", a price derived from the input's) */
    char field[64] = "";
    const char *about = msg, *model_end;
    if (!strncmp(msg, "price of '", 10) && (model_end = strstr(msg + 10, "': ")))
        about = model_end + 3;
    const char *colon = strchr(about, ':');
    if (status == 400 && colon && colon - about < (long)sizeof field &&
        !memchr(about, ' ', (size_t)(colon - about)))
        snprintf(field, sizeof field, "%.*s", (int)(colon - about), about);
    else if (status == 400 && rc == AB_EUNKNOWNMODEL)
        snprintf(field, sizeof field, "model");
    /* a role's lists are words of its spec to the library (deny-tool=GLOB), arrays here */
    static const char *const lists[][2] = {{"allow-tool", "allow_tools"},
                                           {"deny-tool", "deny_tools"},
                                           {"allow-model", "allow_models"},
                                           {"deny-model", "deny_models"}};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        if (!strcmp(field, lists[i][0]))
            snprintf(field, sizeof field, "%s", lists[i][1]);
    /* one vocabulary of codes, whether the daemon or the library decided */
    const char *code = status == 404     ? "not_found"
                       : status == 403   ? "forbidden"
                       : status == 503   ? "store_unavailable"
                       : rc == AB_ESTATE ? "hold_not_open"
                       : status == 409   ? "conflict"
                                         : "invalid";
    char text[1024];
    snprintf(text, sizeof text, "%s", msg);
    /* the store sees a key as "TOKEN_ID:key" (keys are each token's own): the caller sent "key" */
    char prefix[AB_TOKEN_ID_BYTES + 4];
    snprintf(prefix, sizeof prefix, "'%s:", c->token.id);
    for (char *p; c->authed && (p = strstr(text, prefix));)
        memmove(p + 1, p + strlen(prefix), strlen(p + strlen(prefix)) + 1);
    return error_reply(c, status, code, field[0] ? field : NULL, ab_err_name(rc), text);
}

/* ---- the throttle on failed authentication ----
 * Counted per client address and token id claimed (the 16 hex digits of "abt_<id>_…"; none for a
 * header that names no id): auth_failures_max failures in auth_window_s make further requests
 * for that id from that address wait, so that one agent with a bad or revoked token does not
 * shut out the others behind the same address (every local agent is 127.0.0.1, every client of
 * a unix socket or a proxy is one address). Per address, all ids together, ADDR_FACTOR times as
 * many make every request from it wait: a guesser that cycles through ids (or pushes its own
 * count out of the table with colliding ones) is stopped there. */

#define THROTTLE_SLOTS 4096
#define ADDR_FACTOR 10

typedef struct {
    char key[48 + 18];
    unsigned failures;
    time_t window_start;
} throttle_slot;

static throttle_slot by_pair[THROTTLE_SLOTS], by_addr[THROTTLE_SLOTS];
static pthread_mutex_t throttle_lock = PTHREAD_MUTEX_INITIALIZER;

static throttle_slot *slot_of(throttle_slot *table, const char *key)
{
    unsigned h = 2166136261u;
    for (const char *p = key; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return &table[h % THROTTLE_SLOTS];
}

/* Seconds a key must wait after max failures in the window (0: it may try). */
static int slot_wait(throttle_slot *table, const char *key, unsigned max, time_t now)
{
    const throttle_slot *t = slot_of(table, key);
    if (strcmp(t->key, key) != 0 || now - t->window_start >= (time_t)abd_cfg.auth_window_s ||
        t->failures < max)
        return 0;
    return (int)(abd_cfg.auth_window_s - (unsigned)(now - t->window_start));
}

static void slot_fail(throttle_slot *table, const char *key, time_t now)
{
    throttle_slot *t = slot_of(table, key);
    if (strcmp(t->key, key) != 0 || now - t->window_start >= (time_t)abd_cfg.auth_window_s) {
        snprintf(t->key, sizeof t->key, "%s", key);
        t->failures = 0;
        t->window_start = now;
    }
    t->failures++;
}

/* "ADDR id": the address and the token id the Authorization header claims ("" if none). */
static void pair_key(const char *addr, const char *auth, char *out, size_t size)
{
    char id[17] = "";
    if (auth && strncasecmp(auth, "Bearer abt_", 11) == 0 && strlen(auth) > 27 && auth[27] == '_') {
        memcpy(id, auth + 11, 16);
        for (int i = 0; i < 16 && id[0]; i++)
            if (!id[i] || !strchr("0123456789abcdef", id[i]))
                id[0] = '\0';
    }
    snprintf(out, size, "%s %s", addr, id);
}

/* Seconds the caller must wait (0: it may try). */
static int throttled(const char *addr, const char *pair)
{
    time_t now = time(NULL);
    pthread_mutex_lock(&throttle_lock);
    unsigned max = abd_cfg.auth_failures_max;
    int a =
        slot_wait(by_addr, addr, max > UINT_MAX / ADDR_FACTOR ? UINT_MAX : max * ADDR_FACTOR, now);
    int p = slot_wait(by_pair, pair, abd_cfg.auth_failures_max, now);
    pthread_mutex_unlock(&throttle_lock);
    return a > p ? a : p;
}

static void auth_failed(const char *addr, const char *pair)
{
    time_t now = time(NULL);
    pthread_mutex_lock(&throttle_lock);
    slot_fail(by_addr, addr, now);
    slot_fail(by_pair, pair, now);
    pthread_mutex_unlock(&throttle_lock);
}

static void client_addr(struct MHD_Connection *conn, char *out, size_t size)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, size, "unix");
    if (!ci || !ci->client_addr)
        return;
    if (ci->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)ci->client_addr)->sin_addr,
                  out, (socklen_t)size);
    else if (ci->client_addr->sa_family == AF_INET6)
        inet_ntop(AF_INET6,
                  &((const struct sockaddr_in6 *)(const void *)ci->client_addr)->sin6_addr, out,
                  (socklen_t)size);
}

/* A failed authentication: counted, then 429 when the address or the token id it claims has
 * failed too often lately, else 401. */
static int auth_refused(abd_call *c, const char *addr, const char *pair, const char *fmt,
                        const char *msg)
{
    int wait = throttled(addr, pair); /* a failure while throttled is not counted again */
    if (wait <= 0)
        auth_failed(addr, pair);
    if (wait > 0) {
        c->retry_after_s = wait;
        return abd_error(c, 429, "too_many_requests", NULL,
                         "too many failed authentications from this address or with this token "
                         "id: retry in %d s",
                         wait);
    }
    return abd_error(c, 401, "unauthorized", "Authorization", fmt, msg);
}

/* Checks the bearer token: 0 and c->token filled, or the error reply's status. A right secret
 * is always served: the throttle slows failures only, so that failures made with another's
 * token id (ids are no secret: events name them) cannot shut that token out. */
static int authenticate(abd_call *c, const char *addr)
{
    const char *h = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "Authorization");
    char pair[128];
    pair_key(addr, h, pair, sizeof pair);
    if (!h || strncasecmp(h, "Bearer ", 7) != 0) /* the scheme is case-insensitive */
        return auth_refused(c, addr, pair, "%s",
                            "a bearer token is required (Authorization: Bearer abt_…)");
    ab_store *st = abd_reader(c, 1); /* the handler's reads join its transaction */
    int rc = ab_token_verify(st, h + 7, &c->token);
    char msg[256];
    snprintf(msg, sizeof msg, "%s", ab_store_errmsg(st));
    if (rc == AB_EPERM)
        return auth_refused(c, addr, pair, "%s", msg);
    if (rc) { /* the caller is nobody yet: the store's detail (its host, user, …) goes to the
               * log, as /healthz keeps it too */
        abd_metrics_store_error();
        log_line("cannot check a token", msg);
        return abd_error(c, 503, "store_unavailable", NULL,
                         "cannot check the token: the store failed (the daemon's log says why)");
    }
    c->authed = 1;
    return 0;
}

/* ---- the request cycle ---- */

static int hex_digit(char ch)
{
    return ch >= '0' && ch <= '9'   ? ch - '0'
           : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
           : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                    : -1;
}

/* Decodes %HH in the path and the query arguments like MHD's own decoder, except that %00
 * becomes the byte 0xFF: a NUL would cut the string short (PUT /v1/prices/a%00b would change
 * "a"), while 0xFF is not UTF-8, so that the request is refused. */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    char *w = s;
    for (const char *r = s; *r; r++) {
        int hi = r[0] == '%' ? hex_digit(r[1]) : -1, lo = hi >= 0 ? hex_digit(r[2]) : -1;
        if (lo < 0) {
            *w++ = *r;
            continue;
        }
        int byte = hi * 16 + lo;
        *w++ = (char)(byte ? byte : 0xFF);
        r += 2;
    }
    *w = '\0';
    return (size_t)(w - s);
}

/* Served without a token: GET /healthz and / (any method there: the router answers another
 * with 405 and its Allow, as it does with a token, not 401 as if a token would change that);
 * on the metrics address GET /metrics. */
static int is_open_route(const char *method, const char *url, int metrics_only)
{
    if (metrics_only)
        return strcmp(method, "GET") == 0 && strcmp(url, "/metrics") == 0;
    return strcmp(url, "/healthz") == 0 || strcmp(url, "/") == 0;
}

/* Replies made and not yet sent, in bytes, together: a client that never reads keeps its reply
 * (an events page is megabytes), and a thousand of them would keep gigabytes. Past
 * --max-unsent-bytes a large reply (a read: a write's answer is small) is 503 instead. */
#define REPLY_LARGE (64 * 1024)
static size_t unsent_bytes;
static pthread_mutex_t unsent_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct {
    char *body;
    size_t len;
} unsent;

static void unsent_free(void *cls)
{
    unsent *u = cls;
    pthread_mutex_lock(&unsent_lock);
    unsent_bytes -= u->len;
    pthread_mutex_unlock(&unsent_lock);
    free(u->body);
    free(u);
}

/* Counts len in, unless it is large and would take the total past the limit (one reply alone is
 * always made, however large, and so is one that must always be): then 0, and *total the
 * bytes that wait. */
static int unsent_take(size_t len, int always, size_t *total)
{
    pthread_mutex_lock(&unsent_lock);
    int ok = always || len <= REPLY_LARGE || !unsent_bytes ||
             unsent_bytes + len <= abd_cfg.unsent_bytes_max;
    if (ok)
        unsent_bytes += len;
    *total = unsent_bytes;
    pthread_mutex_unlock(&unsent_lock);
    return ok;
}

/* The response for the body c->out, which it takes over (NULL: out of memory). */
static struct MHD_Response *response_owned(abd_call *c)
{
    unsent *u = malloc(sizeof *u);
    if (!u)
        return NULL;
    size_t total, len = strlen(c->out); /* a page of events is megabytes: measured once */
    /* a scrape is always answered: monitoring must not go blind while the limit is reached */
    int always = c->route && strcmp(c->route, "metrics") == 0;
    if (!unsent_take(len, always, &total)) {
        free(c->out);
        c->out = NULL;
        c->retry_after_s = 1;
        c->content_type = NULL; /* JSON, whatever the reply was to be */
        abd_error(c, 503, "busy", NULL,
                  "%zu bytes of replies wait for their clients to read them (--max-unsent-bytes): "
                  "retry",
                  total);
        if (!c->out || !unsent_take(len = strlen(c->out), 1, &total)) {
            free(u);
            return NULL;
        }
    }
    *u = (unsent){c->out, len};
    struct MHD_Response *r =
        MHD_create_response_from_buffer_with_free_callback_cls(len, u->body, unsent_free, u);
    if (!r) {
        u->body = NULL; /* still c->out, freed with the call */
        unsent_free(u);
        return NULL;
    }
    c->out = NULL;
    return r;
}

static enum MHD_Result queue(struct MHD_Connection *conn, abd_call *c)
{
    /* a reply of ours is handed over, not copied: a large one (an events page of megabytes)
     * exists once while a slow client reads it, and is counted until it is gone */
    struct MHD_Response *r = c->out && !c->static_out
                                 ? response_owned(c)
                                 : MHD_create_response_from_buffer(c->out ? strlen(c->out) : 0,
                                                                   (void *)(c->out ? c->out : ""),
                                                                   MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type",
                            c->content_type ? c->content_type : "application/json");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    /* a browser takes a reply for what it says it is, shows none in a frame (the dashboard keeps
     * a token: a framing page could make its user save another), and the dashboard's page runs
     * only its own script, reaches only this origin, and sends no referrer */
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    if (c->content_type && !strncmp(c->content_type, "text/html", 9)) {
        MHD_add_response_header(r, "Content-Security-Policy", abd_dashboard_csp);
        MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    }
    if (c->retry_after_s > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", c->retry_after_s);
        MHD_add_response_header(r, "Retry-After", ra);
    }
    if (c->closing)
        MHD_add_response_header(r, "Connection", "close");
    if (c->status == 405 && c->allow[0])
        MHD_add_response_header(r, "Allow", c->allow);
    if (c->status == 401) /* what a client must send (RFC 9110 11.6.1) */
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"agentbudgetd\"");
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned)c->status, r);
    MHD_destroy_response(r);
    return ok;
}

/* 413 for a body past q->max. A price import without a whole-store admin token is read only up
 * to the usual body limit: the reply says what lifts it, or a caller would raise
 * --max-body-bytes and still be refused. */
static void body_too_large(req *q)
{
    if (q->max < abd_cfg.import_bytes_max && strcmp(q->call.url, "/v1/prices/import") == 0)
        abd_error(&q->call, 413, "payload_too_large", NULL,
                  "the body is larger than %zu bytes (a price import may be up to %zu bytes with "
                  "a whole-store admin token)",
                  q->max, abd_cfg.import_bytes_max);
    else
        abd_error(&q->call, 413, "payload_too_large", NULL, "the body is larger than %zu bytes",
                  q->max);
}

static void answer(req *q, struct MHD_Connection *conn, int metrics_only)
{
    abd_call *c = &q->call;
    char addr[48];
    client_addr(conn, addr, sizeof addr);
    if (q->too_big) {
        body_too_large(q);
        return;
    }
    c->body = q->body ? q->body : "";
    c->body_len = q->len;
    if (metrics_only) {
        if (!is_open_route(c->method, c->url, 1)) {
            abd_error(c, 404, "not_found", NULL, "this address serves GET /metrics only");
            return;
        }
        ab_store *st = abd_reader_acquire();
        char *m = abd_metrics_render(st);
        abd_reader_release(st);
        abd_reply_json(c, m ? 200 : 500, m);
        c->content_type = "text/plain; version=0.0.4";
        c->route = "metrics";
        return;
    }
    if (!is_open_route(c->method, c->url, 0) && authenticate(c, addr))
        return;
    json_t *url = json_string(c->url); /* names from the URL are stored and shown as JSON */
    if (!url) {
        abd_error(c, 400, "invalid", "path",
                  "the path, %%-decoded, must be UTF-8 without NUL bytes (%%00)");
        return;
    }
    json_decref(url);
    abd_route(c);
}

static void access_log(const req *q, const char *addr)
{
    if (!abd_cfg.access_log)
        return;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct timespec mono;
    clock_gettime(CLOCK_MONOTONIC, &mono);
    double ms = (double)(mono.tv_sec - q->start.tv_sec) * 1e3 +
                (double)(mono.tv_nsec - q->start.tv_nsec) / 1e6;
    char path[1024]; /* a path that is not UTF-8 must not drop the request from the log */
    snprintf(path, sizeof path, "%s", q->call.url ? q->call.url : "");
    abd_utf8_clean(path);
    json_t *line =
        json_pack("{s:I,s:s,s:s,s:s,s:i,s:f,s:s,s:I}", "time",
                  (json_int_t)now.tv_sec * 1000 + now.tv_nsec / 1000000, "remote", addr, "method",
                  q->call.head     ? "HEAD"
                  : q->call.method ? q->call.method
                                   : "",
                  "path", path, "status", q->call.status, "ms", ms, "route",
                  q->call.route ? q->call.route : "-", "body_bytes", (json_int_t)q->len);
    if (line && q->call.authed) /* the token's id, never its secret */
        json_object_set_new(line, "token", json_string(q->call.token.id));
    /* 9 significant digits: "ms":1.007604, not the double's 1.0076039999999999 */
    char *s = line ? json_dumps(line, JSON_COMPACT | JSON_REAL_PRECISION(9)) : NULL;
    if (s)
        fprintf(stderr, "%s\n", s);
    free(s);
    json_decref(line);
}

static void request_done(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)toe;
    req *q = *con_cls;
    if (!q)
        return;
    if (q->counted) {
        pthread_mutex_lock(&flight_lock);
        if (--in_flight == 0)
            pthread_cond_broadcast(&flight_cond);
        pthread_mutex_unlock(&flight_lock);
    }
    char addr[48];
    client_addr(conn, addr, sizeof addr);
    struct timespec mono;
    clock_gettime(CLOCK_MONOTONIC, &mono);
    double s =
        (double)(mono.tv_sec - q->start.tv_sec) + (double)(mono.tv_nsec - q->start.tv_nsec) / 1e9;
    if (q->call.status)
        abd_metrics_request(q->call.route ? q->call.route : "none", q->call.status, s);
    access_log(q, addr);
    if (!q->call.static_out)
        free(q->call.out);
    free(q->call.args);
    json_decref(q->call.json);
    free(q->body);
    free(q);
    *con_cls = NULL;
}

/* libmicrohttpd keeps a request's head and then its reply's head in one pool of
 * --max-header-bytes. A request head that fits but leaves too little room for the reply's used
 * to be acted on and then answered with nothing: a charge made, the client told only that the
 * connection closed (and a retry without a key charged twice). So a head that does not leave
 * HEAD_REPLY_RESERVE bytes is refused before anything is done. */
#define HEAD_REPLY_RESERVE 1024
#define HEAD_LINE_OVERHEAD 64 /* libmicrohttpd's bookkeeping per header line or query argument */

typedef struct {
    size_t bytes, lines;
} head_size;

static enum MHD_Result head_add(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    (void)kind;
    head_size *h = cls;
    h->bytes += strlen(key) + (value ? strlen(value) : 0) + 4;
    h->lines++;
    return MHD_YES;
}

/* About what the request's head takes of the pool (at least its bytes on the wire): the head as
 * read, not its values as libmicrohttpd keeps them (white space around a value is trimmed off,
 * and a head padded with it was taken for a small one), plus the bookkeeping of each line. */
static size_t head_bytes(struct MHD_Connection *conn, const char *method, const char *url,
                         const char *version)
{
    head_size h = {strlen(method) + strlen(url) + strlen(version) + 4, 0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND | MHD_GET_ARGUMENT_KIND, head_add, &h);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    if (ci && ci->header_size > h.bytes)
        h.bytes = ci->header_size;
    return h.bytes + h.lines * HEAD_LINE_OVERHEAD;
}

/* Headers that must come once: the body's framing, and what a request means (read first-wins, a
 * second one, from a proxy or a client, would be silently ignored). */
static const char *const once[] = {"Content-Length", "Transfer-Encoding", "Content-Encoding",
                                   "Content-Type",   "Authorization",     "Idempotency-Key"};
#define ONCE_COUNT (sizeof once / sizeof once[0])

typedef struct {
    int n[ONCE_COUNT];
    const char *te, *ce;
    const char *spaced; /* a header name with white space in it ("Transfer-Encoding :") */
} framing;

static enum MHD_Result framing_add(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    framing *f = cls;
    if (strpbrk(key, " \t"))
        f->spaced = key;
    for (size_t i = 0; i < ONCE_COUNT; i++)
        if (strcasecmp(key, once[i]) == 0)
            f->n[i]++;
    if (strcasecmp(key, "Transfer-Encoding") == 0)
        f->te = value ? value : "";
    else if (strcasecmp(key, "Content-Encoding") == 0)
        f->ce = value ? value : "";
    return MHD_YES;
}

/* A body framed so that another reader of the same bytes (a proxy in front) could find another
 * end to it (RFC 9112 6.3): two Content-Length headers, Content-Length beside Transfer-Encoding,
 * a transfer coding but chunked; a body coded (Content-Encoding) that is never decoded here; or
 * another header of once[] given twice.
 * Answered at once, nothing done and the connection closed (what follows could be a request
 * smuggled in); 0 if the framing is sound. */
static int framing_refused(abd_call *c, struct MHD_Connection *conn)
{
    framing f = {0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, framing_add, &f);
    c->closing = 1;
    if (f.spaced) /* libmicrohttpd keeps the name with its space: a proxy may read it as its own */
        return abd_error(c, 400, "invalid", NULL,
                         "a header name with white space in it (before its colon): refused, as "
                         "RFC 9112 asks");
    for (size_t i = 0; i < ONCE_COUNT; i++)
        if (f.n[i] > 1)
            return abd_error(c, 400, "invalid", once[i], "%s: given twice", once[i]);
    if (f.n[1] && f.n[0])
        return abd_error(c, 400, "invalid", "Transfer-Encoding",
                         "Transfer-Encoding and Content-Length: give one");
    if (f.n[1]) { /* chunked last, or the body's end is unknown (400); and nothing before it */
        const char *last = strrchr(f.te, ',');
        last = last ? last + 1 : f.te;
        last += strspn(last, " \t");
        if (strcasecmp(last, "chunked") != 0) /* libmicrohttpd reads "chunked " as no chunked */
            return abd_error(c, 400, "invalid", "Transfer-Encoding",
                             "Transfer-Encoding: must end in chunked, with nothing after it (the "
                             "body's end is unknown otherwise)");
        if (strchr(f.te, ','))
            return abd_error(c, 501, "not_implemented", "Transfer-Encoding",
                             "Transfer-Encoding: only chunked is understood");
    }
    if (f.n[2] && strcasecmp(f.ce, "identity") != 0)
        return abd_error(c, 415, "unsupported_media_type", "Content-Encoding",
                         "Content-Encoding: bodies are read as sent, not decoded: send JSON as "
                         "it is");
    c->closing = 0;
    return 0;
}

static enum MHD_Result reply(req *q, struct MHD_Connection *conn)
{
    if (!q->call.route)
        q->call.route = "none";
    if (!q->call.status)
        abd_error(&q->call, 500, "internal", NULL, "no answer");
    return queue(conn, &q->call);
}

/* Does the request carry the secret of an admin token for the whole store? Checked before an
 * import's body is read: only such a caller may make the daemon hold 32 MiB (anyone else, up to
 * the usual body limit, and a connection of its own per request, could exhaust the memory). */
static int whole_store_admin(struct MHD_Connection *conn)
{
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return 0;
    ab_token t;
    ab_store *st = abd_reader_acquire();
    int ok = ab_token_verify(st, h + 7, &t) == AB_OK && t.role == AB_TOKEN_ADMIN && !t.scope[0];
    abd_reader_release(st);
    return ok;
}

/* A client that sends "Expect: 100-continue" waits for the daemon's go before it sends the body:
 * the token is checked first, so that a caller without one is told 401 and sends nothing (as
 * RFC 9110 10.1.1 allows), rather than being asked for a body only to be refused after it. The
 * check is made again, as for any request, once the body is in. 0: ask for the body. */
static int continue_refused(req *q, struct MHD_Connection *conn, int metrics_only)
{
    const char *e = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Expect");
    if (!e || strcasecmp(e, "100-continue") != 0 || metrics_only ||
        is_open_route(q->call.method, q->call.url, 0))
        return 0;
    char addr[48];
    client_addr(conn, addr, sizeof addr);
    int refused = authenticate(&q->call, addr);
    abd_reader_done(&q->call); /* no reader is held while the body comes */
    if (refused)
        q->call.closing = 1;
    else
        q->call.authed = 0; /* answer() checks it again, with the body */
    return refused;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    int metrics_only = cls != NULL;
    req *q = *con_cls;
    if (!q) {
        if (!(q = calloc(1, sizeof *q)))
            return MHD_NO;
        pthread_mutex_lock(&flight_lock);
        int refuse = draining;
        if (!refuse) { /* counted until its reply is sent (request_done) */
            in_flight++;
            q->counted = 1;
        }
        pthread_mutex_unlock(&flight_lock);
        clock_gettime(CLOCK_MONOTONIC, &q->start);
        q->call.conn = conn;
        q->call.head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
        q->call.method = q->call.head ? MHD_HTTP_METHOD_GET : method;
        q->call.url = url;
        q->refused = refuse; /* stopping: answered 503 once its body is in (below) */
        q->max = strcmp(url, "/v1/prices/import") == 0 && !metrics_only && whole_store_admin(conn)
                     ? abd_cfg.import_bytes_max
                     : abd_cfg.body_bytes_max;
        *con_cls = q;
        if (head_bytes(conn, method, url, version) + HEAD_REPLY_RESERVE >
            abd_cfg.header_bytes_max) {
            q->too_big = 1;
            q->answered = 1;
            abd_error(&q->call, 431, "headers_too_large", NULL,
                      "the request line and headers leave no room for the reply under %zu bytes "
                      "(--max-header-bytes)",
                      abd_cfg.header_bytes_max);
            q->call.route = "none";
            return queue(conn, &q->call);
        }
        if (framing_refused(&q->call, conn)) {
            q->too_big = 1; /* what comes is not read */
            q->answered = 1;
            q->call.route = "none";
            return queue(conn, &q->call);
        }
        if (continue_refused(q, conn, metrics_only)) {
            q->too_big = 1; /* the body is not asked for, and not read */
            q->answered = 1;
            q->call.route = "none";
            return queue(conn, &q->call);
        }
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > q->max) { /* refuse before reading it */
            q->too_big = 1;
            q->answered = 1;
            body_too_large(q);
            q->call.route = "none";
            return queue(conn, &q->call);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (!q->too_big && q->len + *upload_size > q->max)
            q->too_big = 1;
        if (!q->too_big) {
            if (q->len + *upload_size + 1 > q->cap) {
                size_t cap = q->cap ? q->cap : 4096;
                while (cap < q->len + *upload_size + 1)
                    cap *= 2;
                char *b = realloc(q->body, cap);
                if (!b)
                    return MHD_NO;
                q->body = b;
                q->cap = cap;
            }
            memcpy(q->body + q->len, upload, *upload_size);
            q->len += *upload_size;
            q->body[q->len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (q->answered) {
        if (q->call.pending != 2) /* not answered yet: its job is still queued */
            return MHD_YES;
        q->call.pending = 0; /* resumed by the writer: the job is done */
        return reply(q, conn);
    }
    q->answered = 1;
    if (q->refused) { /* nothing new starts during a stop, so the stop cannot wait for ever */
        q->call.route = "none";
        q->call.closing = 1;
        abd_error(&q->call, 503, "shutting_down", NULL, "the daemon is stopping");
        return queue(conn, &q->call);
    }
    answer(q, conn, metrics_only);
    abd_reader_done(&q->call);
    if (q->call.queued) /* suspended until the writer has committed its job (and may have: its
                         * pending is not to be read here, before the writer resumes it) */
        return MHD_YES;
    return reply(q, conn);
}

/* libmicrohttpd's own messages (a client that closed early, a request too large for a
 * connection's memory) as JSON lines like the rest of stderr, not bare text among them. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    log_line("libmicrohttpd", msg);
}

struct MHD_Daemon *abd_http_start(int listen_fd, int metrics_only)
{
    /* a few threads, each polling many connections (epoll): a request that writes does not
     * hold its thread while it waits for the group commit, it is suspended (abd_write) */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ITC | MHD_USE_ERROR_LOG;
    unsigned threads = abd_cfg.threads ? abd_cfg.threads : 1;
    if (metrics_only)
        threads = 1; /* main.c keeps threads <= connections_max: each thread takes a share */
    /* a pool of one is no pool: libmicrohttpd says so on stderr, in a line that is not JSON, so
     * the option is not given then (the connection timeout again takes its place) */
    return MHD_start_daemon(
        flags, 0, NULL, NULL, handle, metrics_only ? (void *)1 : NULL, MHD_OPTION_EXTERNAL_LOGGER,
        mhd_log, NULL, /* first, as libmicrohttpd asks */
        threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_CONNECTION_TIMEOUT,
        threads > 1 ? threads : abd_cfg.timeout_s, MHD_OPTION_LISTEN_SOCKET, listen_fd,
        MHD_OPTION_CONNECTION_LIMIT, abd_cfg.connections_max, MHD_OPTION_CONNECTION_TIMEOUT,
        abd_cfg.timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, abd_cfg.header_bytes_max,
        MHD_OPTION_NOTIFY_COMPLETED, request_done, NULL, MHD_OPTION_UNESCAPE_CALLBACK, unescape,
        NULL, MHD_OPTION_END);
}
