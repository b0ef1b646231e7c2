/* daemon.h — what the files of agentbudgetd share: configuration, one request ("call"), the
 * store access (a pool of read handles and one group-commit writer), metrics and routing. */
#ifndef ABD_DAEMON_H
#define ABD_DAEMON_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdint.h>

#include "agentbudget.h"

typedef struct {
    const char *listen;         /* 127.0.0.1:8700, [::1]:8700 or unix:PATH */
    const char *metrics_listen; /* optional second address serving /metrics without a token */
    const char *store_url;
    unsigned readers; /* read handles in the pool */
    unsigned threads; /* HTTP threads, each serving many connections (epoll) */
    unsigned connections_max;
    unsigned timeout_s;         /* per connection: a slow client is cut off */
    size_t body_bytes_max;      /* JSON bodies (413 past it) */
    size_t import_bytes_max;    /* POST /v1/prices/import */
    size_t header_bytes_max;    /* request line + headers (431/413 past it) */
    size_t unsent_bytes_max;    /* replies made and not yet sent, together (503 for large ones) */
    unsigned batch_max;         /* requests in one group commit */
    unsigned auth_failures_max; /* per address per auth_window_s, then 429 */
    unsigned auth_window_s;
    int access_log;
} abd_config;

extern abd_config abd_cfg;

/* One request being answered. */
#define ABD_DENIAL_REASON_BYTES 64

typedef struct abd_call {
    struct MHD_Connection *conn;
    const char *method;
    int head; /* a HEAD request: routed as GET (libmicrohttpd sends no body) */
    const char *url;
    const char *rest; /* the URL after the route's prefix (a budget path, model, id), decoded */
    const char *body;
    size_t body_len;
    json_t *json;   /* the parsed body, an object (NULL if none) */
    ab_token token; /* the caller's token (valid when authed) */
    int authed;
    const char *key; /* Idempotency-Key, prefixed with the token's id */
    char key_buf[AB_KEY_BYTES_MAX + AB_TOKEN_ID_BYTES + 8];
    const char *route; /* route name, for metrics and logs */
    int status;
    char *out; /* response body (malloc'd JSON), or NULL */
    const char *content_type;
    int static_out; /* out is static, not to be freed */
    int retry_after_s;
    char allow[64]; /* the methods of the path, on a 405 */
    int closing;    /* answer with Connection: close (stopping, or the framing was refused) */
    void *args;     /* a handler's parameters for its job on the writer (abd_args; freed with it) */
    int pending;    /* 1: suspended, its job queued for the writer; 2: the job is done, reply */
    int queued;     /* its job was queued: read by the HTTP thread, which set it (pending is
                     * the writer's to change from then on) */
    ab_store *reader; /* the read handle it holds (abd_reader), in a read group if grouped */
    int grouped;
    /* spend and a denial (its reason, "" if none) to count in the metrics once the group
     * commit is durable */
    char denial[ABD_DENIAL_REASON_BYTES];
    char spend_budget[AB_PATH_BYTES_MAX + 1];
    char spend_model[AB_NAME_BYTES_MAX];
    int64_t spend_nusd, spend_tokens;
} abd_call;

/* ---- the HTTP server (http.c) ---- */
/* Serves the API (or, metrics_only, GET /metrics without a token) on a listening socket with
 * the limits of abd_cfg; NULL if libmicrohttpd cannot start. Stop it with MHD_stop_daemon(). */
struct MHD_Daemon *abd_http_start(int listen_fd, int metrics_only);
/* Turns new requests away and waits up to timeout_ms for those in flight; returns how many are
 * still unanswered. */
int abd_http_drain(unsigned timeout_ms);
/* Replaces every byte of s past ASCII with '?' when s is not UTF-8 (a %-decoded URL, a store's
 * path can be anything), so that jansson, which takes only UTF-8, can hold it in a log line. */
void abd_utf8_clean(char *s);

/* ---- responses ---- */
void abd_reply_json(abd_call *c, int status, char *json); /* takes json */
void abd_reply_obj(abd_call *c, int status, json_t *obj); /* takes obj */
int abd_error(abd_call *c, int status, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* 404 for what is outside the caller's scope, byte for byte what the library's "not found"
 * answers (ab_code too), so that an agent cannot tell another's budget or hold from none. */
int abd_not_found(abd_call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Maps a library failure to a status and an error reply; returns the status. */
int abd_fail(abd_call *c, ab_store *st, int rc);
/* abd_fail with the HTTP status given (0: derived from rc), ab_code still rc's name. */
int abd_fail_as(abd_call *c, ab_store *st, int rc, int status);

/* ---- store access ---- */
int abd_store_init(const char *url, unsigned readers, char *err, size_t err_size);
void abd_store_shutdown(void);
ab_store *abd_reader_acquire(void);
void abd_reader_release(ab_store *st);
/* The call's read handle, taken from the pool at its first use and held until the call is
 * answered (abd_reader_done); grouped: in a read group (ab_store_read_begin), so that the token
 * check and the handler's reads share one store transaction. */
ab_store *abd_reader(abd_call *c, int grouped);
void abd_reader_done(abd_call *c);
typedef void (*abd_job_fn)(ab_store *st, abd_call *c);
/* Zeroed memory of size bytes for a handler's job parameters, owned by the call (c->args) so
 * that it outlives the handler; NULL (and a 500 reply) when out of memory. */
void *abd_args(abd_call *c, size_t size);
/* Queues fn to run on the writer's handle inside a group commit and returns at once: the
 * request's connection is suspended (c->pending) and resumed with the reply once the commit is
 * durable (or failed: then the reply is a 503). The handler must do nothing after it. */
void abd_write(abd_call *c, abd_job_fn fn);
/* Runs what is queued, stops the writer and turns later writes away (503); the handles stay
 * open for readers until abd_store_shutdown(). Every suspended request is resumed by then. */
void abd_store_stop_writer(void);

/* ---- metrics ---- */
void abd_metrics_request(const char *route, int status, double seconds);
void abd_metrics_batch(size_t size);
void abd_metrics_store_error(void);
void abd_metrics_batch_replay(void);
/* A denial's label ("usd/day", or "role"), and its count. */
void abd_metrics_denial_reason(const ab_decision *d, char reason[ABD_DENIAL_REASON_BYTES]);
void abd_metrics_denial(const char *reason);
void abd_metrics_spend(const char *budget, const char *model, int64_t nusd, int64_t tokens);
char *abd_metrics_render(ab_store *st);

/* ---- routes ---- */
/* Dispatches a complete request; fills c->status and c->out. */
void abd_route(abd_call *c);
/* The route table's paths, for the OpenAPI check. */
void abd_routes_print(void);

extern const char abd_dashboard_html[];
extern const char abd_dashboard_csp[];

#endif
