/* fuzz_http.c — agentbudgetd's HTTP layer on any bytes: the real daemon (abd_http_start() on a
 * unix socket, a memory: store behind abd_store_init()) runs in-process, and each input is sent
 * over a fresh connection, so that libmicrohttpd parses the head and http.c and routes.c take it
 * from there: authentication, routing, %-decoding, query arguments, Idempotency-Key, bodies.
 *
 * An input is one flags byte, then a request head, then "\r\n\r\n" and a body:
 *   flags & 3   Authorization inserted after the request line: none, the admin token, an agent
 *               token scoped to acme/agent-7, or a token that does not exist
 *   flags & 4   Content-Length of the body inserted (else the head gives its own, or none)
 *   flags & 8   Content-Type: application/json inserted
 *   flags & 16  sent to the --metrics-listen daemon (GET /metrics only, no token) instead
 * "{hold}" anywhere becomes the id of a hold opened for the input, "{agent}" the agent token's
 * id. After the bytes the client shuts its side down, so that a request that waits for more
 * gets the end of its stream, and reads the reply until the daemon closes the connection.
 * The daemon lives across inputs, its store does not: each input meets the same fixtures, so
 * that it replays alone and libFuzzer's leak check stays on. No reply, or a connection still
 * open, after REPLY_WAIT_S is a hang of the daemon: reported as such (abort). */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "fuzz.h"

#define REPLY_WAIT_S 5
#define REQUEST_BYTES_MAX (64 * 1024)

/* small limits: a fuzzer's request should meet them, not be slowed by them */
abd_config abd_cfg = {
    .listen = "unix:",
    .store_url = "memory:",
    .readers = 1,
    .connections_max = 16,
    .timeout_s = 2,
    .body_bytes_max = 16 * 1024,
    .import_bytes_max = 32 * 1024,
    .header_bytes_max = 8 * 1024,
    .batch_max = 8,
    .auth_failures_max = UINT_MAX, /* one client address for every input: never throttled */
    .auth_window_s = 1,
    .access_log = 1,
};

static struct sockaddr_un sock_addr[2]; /* the API, the metrics-only address */
static struct MHD_Daemon *daemons[2];
static char admin_secret[AB_TOKEN_SECRET_BYTES + 1], agent_secret[AB_TOKEN_SECRET_BYTES + 1];
static char agent_id[AB_TOKEN_ID_BYTES + 1];

static void tokens_make(ab_store *st)
{
    ab_token t;
    FUZZ_CHECK(ab_token_create(st, "", AB_TOKEN_ADMIN, "fuzz-admin", 0, admin_secret, &t) == AB_OK);
    FUZZ_CHECK(ab_token_create(st, "acme/agent-7", AB_TOKEN_AGENT, "fuzz-agent", 0, agent_secret,
                               &t) == AB_OK);
    snprintf(agent_id, sizeof agent_id, "%s", t.id);
}

static void budget(ab_store *st, const char *path, const char *role, const char *limit)
{
    ab_limit l;
    ab_budget_spec spec = {.role = role};
    if (limit) {
        FUZZ_CHECK(ab_limit_parse(limit, &l) == AB_OK);
        spec.limits = &l;
        spec.limits_count = 1;
    }
    FUZZ_CHECK(ab_budget_set(st, path, &spec, NULL, NULL) == AB_OK);
}

/* What the seeds name: budgets, a role, a price. */
static void fixtures(ab_store *st)
{
    ab_role r;
    memset(&r, 0, sizeof r);
    snprintf(r.name, sizeof r.name, "reviewer");
    char read[] = "Read", git[] = "Bash(git *)", push[] = "Bash(git push*)";
    r.allow_tools[r.allow_tools_count++] = read;
    r.allow_tools[r.allow_tools_count++] = git;
    r.deny_tools[r.deny_tools_count++] = push;
    FUZZ_CHECK(ab_limit_parse("tokens/session=100000", &r.limits[r.limits_count++]) == AB_OK);
    FUZZ_CHECK(ab_role_set(st, &r) == AB_OK);
    budget(st, "acme", NULL, "usd/month=1000");
    budget(st, "acme/agent-7", "reviewer", "usd/day=10");
    budget(st, "holds", NULL, NULL);
    ab_price p;
    memset(&p, 0, sizeof p);
    snprintf(p.model, sizeof p.model, "my-model");
    FUZZ_CHECK(ab_price_parse("1.25", &p.input) == AB_OK);
    FUZZ_CHECK(ab_price_parse("5", &p.output) == AB_OK);
    p.cache_write_5m = p.cache_write_1h = p.cache_read = -1;
    p.tier_input = p.tier_output = p.tier_cache_write_5m = -1;
    p.tier_cache_write_1h = p.tier_cache_read = -1;
    ab_price_fill_defaults(&p);
    FUZZ_CHECK(ab_price_set(st, &p) == AB_OK);
}

/* A hold for "{hold}": open, on a budget without limits. */
static void hold_open(ab_store *st, char *id, size_t size)
{
    ab_usage u = {.input = 100, .output = 100};
    ab_decision d;
    snprintf(id, size, "h_none");
    if (ab_budget_reserve(st, "holds", "my-model", &u, 60, NULL, &d) == AB_OK && d.hold_id[0])
        snprintf(id, size, "%s", d.hold_id);
}

/* A new store for each input, so that an input's reply does not depend on the ones before it
 * and libFuzzer's malloc/free count can tell a leak. hold: "{hold}"'s id, if asked for. */
static void store_up(int want_hold, char *hold, size_t hold_size)
{
    char err[600];
    if (abd_store_init(abd_cfg.store_url, abd_cfg.readers, err, sizeof err)) {
        fprintf(stderr, "fuzz_http: cannot open the store: %s\n", err);
        abort();
    }
    ab_store *st = abd_reader_acquire();
    tokens_make(st);
    fixtures(st);
    if (want_hold)
        hold_open(st, hold, hold_size);
    abd_reader_release(st);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    signal(SIGPIPE, SIG_IGN);
    const char *tmp_dir = fuzz_tmp_dir("http");
    FUZZ_CHECK(tmp_dir != NULL);
    for (int i = 0; i < 2; i++) {
        sock_addr[i].sun_family = AF_UNIX;
        FUZZ_CHECK(strlen(tmp_dir) + 10 < sizeof sock_addr[i].sun_path);
        snprintf(sock_addr[i].sun_path, sizeof sock_addr[i].sun_path, "%s/%s", tmp_dir,
                 i ? "metrics" : "api");
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        FUZZ_CHECK(fd >= 0);
        FUZZ_CHECK(bind(fd, (struct sockaddr *)&sock_addr[i], sizeof sock_addr[i]) == 0);
        FUZZ_CHECK(listen(fd, 64) == 0);
        daemons[i] = abd_http_start(fd, i);
        FUZZ_CHECK(daemons[i] != NULL);
    }
    return 0;
}

typedef struct {
    char *buf;
    size_t len, cap;
} bytes;

static void put(bytes *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2;
        b->buf = realloc(b->buf, b->cap);
        FUZZ_CHECK(b->buf != NULL);
    }
    memcpy(b->buf + b->len, p, n);
    b->len += n;
}

static void puts_(bytes *b, const char *s)
{
    put(b, s, strlen(s));
}

/* Appends p[0..n) with "{hold}" and "{agent}" replaced. */
static void put_expanded(bytes *b, const char *p, size_t n, const char *hold)
{
    for (size_t i = 0; i < n; i++) {
        if (n - i >= 6 && memcmp(p + i, "{hold}", 6) == 0) {
            puts_(b, hold);
            i += 5;
        } else if (n - i >= 7 && memcmp(p + i, "{agent}", 7) == 0) {
            puts_(b, agent_id);
            i += 6;
        } else {
            put(b, p + i, 1);
        }
    }
}

static void *memmem_(const void *h, size_t hn, const char *needle)
{
    return memmem(h, hn, needle, strlen(needle));
}

/* The request's bytes: the head's first line, the headers the flags ask for, the rest. */
static void request_build(bytes *out, const uint8_t *data, size_t size, const char *hold)
{
    unsigned flags = size ? data[0] : 0;
    const char *in = size ? (const char *)data + 1 : "";
    size_t n = size ? size - 1 : 0;
    const char *sep = memmem_(in, n, "\r\n\r\n");
    size_t head_len = sep ? (size_t)(sep - in) : n;
    const char *body = sep ? sep + 4 : in + n;
    size_t body_len = (size_t)(in + n - body);
    const char *eol = memchr(in, '\n', head_len);
    size_t line_len = eol ? (size_t)(eol - in) + 1 : head_len;
    put_expanded(out, in, line_len, hold);
    if (!eol)
        puts_(out, "\r\n");
    static const char *const auth[] = {NULL, admin_secret, agent_secret, "abt_0000000000000000_00"};
    char h[256];
    if (auth[flags & 3]) {
        snprintf(h, sizeof h, "Authorization: Bearer %s\r\n", auth[flags & 3]);
        puts_(out, h);
    }
    if (flags & 4) {
        snprintf(h, sizeof h, "Content-Length: %zu\r\n", body_len);
        puts_(out, h);
    }
    if (flags & 8)
        puts_(out, "Content-Type: application/json\r\n");
    if (head_len > line_len) {
        put_expanded(out, in + line_len, head_len - line_len, hold);
        puts_(out, "\r\n");
    }
    puts_(out, "\r\n");
    put_expanded(out, body, body_len, hold);
}

/* Sends the request, then reads until the daemon closes, or until nothing has come for
 * IDLE_MS: then the client closes. libmicrohttpd (epoll) does not see the half-close after
 * bytes it cannot parse and would wait for its idle timeout; a full close it sees at once. A
 * daemon that never lets go of the connection is still caught, by connections_wait(). 0, or -1
 * on a receive error. */
#define IDLE_MS 100
static int exchange(const bytes *req, const struct sockaddr_un *addr)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    FUZZ_CHECK(fd >= 0);
    struct timeval tv = {.tv_sec = REPLY_WAIT_S};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int rc = 0;
    if (connect(fd, (const struct sockaddr *)addr, sizeof *addr) == 0) {
        /* the daemon may answer and close before it has read everything: that is not a hang */
        for (size_t off = 0; off < req->len;) {
            ssize_t w = send(fd, req->buf + off, req->len - off, MSG_NOSIGNAL);
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        shutdown(fd, SHUT_WR);
        char buf[16384];
        for (;;) {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            int ready = poll(&p, 1, IDLE_MS);
            if (ready < 0 && errno == EINTR)
                continue;
            if (ready <= 0)
                break;
            ssize_t r = recv(fd, buf, sizeof buf, 0);
            if (r > 0)
                continue;
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                rc = -1;
            break;
        }
    }
    close(fd);
    return rc;
}

/* Waits until the daemon has let go of the connection (its thread joined, request_done() run),
 * so that the store can go and the input's memory is freed within the input; -1 if it does not
 * within REPLY_WAIT_S. */
static int connections_wait(void)
{
    for (int i = 0; i < REPLY_WAIT_S * 1000; i++) {
        unsigned open = 0;
        for (int k = 0; k < 2; k++) {
            const union MHD_DaemonInfo *di =
                MHD_get_daemon_info(daemons[k], MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
            FUZZ_CHECK(di != NULL);
            open += di->num_connections;
        }
        if (open == 0)
            return 0;
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > REQUEST_BYTES_MAX)
        return 0;
    char hold[AB_HOLD_ID_BYTES + 8] = "h_none";
    store_up(memmem_(data, size, "{hold}") != NULL, hold, sizeof hold);
    bytes req = {0};
    request_build(&req, data, size, hold);
    int rc = exchange(&req, &sock_addr[size && (data[0] & 16)]);
    free(req.buf);
    if (rc || connections_wait()) {
        fprintf(stderr, "fuzz_http: hang: the daemon %s within %d s\n",
                rc ? "did not reply" : "did not close the connection", REPLY_WAIT_S);
        abort();
    }
    abd_store_shutdown();
    return 0;
}
