/* load.c — the daemon child process and the HTTP/1.1 client of the load tests (see load.h). */
#include "load.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DAEMONS_MAX 4
#define START_TRIES_MAX 5
#define READY_WAIT_S 15.0
#define IO_TIMEOUT_S 20
#define REPLY_BYTES_MAX (64 << 20)

static lt_daemon *daemons[DAEMONS_MAX];
static char tmpdir[64];

double lt_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void kill_all(void)
{
    for (int i = 0; i < DAEMONS_MAX; i++)
        if (daemons[i] && daemons[i]->pid > 0) {
            kill(daemons[i]->pid, SIGKILL);
            waitpid(daemons[i]->pid, NULL, 0);
            daemons[i]->pid = 0;
        }
}

/* The test itself interrupted (ctest's timeout, ^C): take the daemons along. */
static void on_signal(int sig)
{
    for (int i = 0; i < DAEMONS_MAX; i++)
        if (daemons[i] && daemons[i]->pid > 0)
            kill(daemons[i]->pid, SIGKILL);
    signal(sig, SIG_DFL);
    raise(sig);
}

const char *lt_tmpdir(void)
{
    if (tmpdir[0])
        return tmpdir;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ab-load-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        fprintf(stderr, "error: cannot make a temporary directory: %s\n", strerror(errno));
        exit(1);
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
    signal(SIGPIPE, SIG_IGN);
    atexit(kill_all);
    return tmpdir;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int lt_cleanup(int failed)
{
    kill_all();
    if (tmpdir[0] && !failed)
        nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    else if (tmpdir[0])
        fprintf(stderr, "kept %s (the store and the daemon's output)\n", tmpdir);
    return failed ? 1 : 0;
}

void lt_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FATAL: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    for (int i = 0; i < DAEMONS_MAX; i++)
        if (daemons[i] && daemons[i]->log[0])
            fprintf(stderr, "(daemon output: %s)\n", daemons[i]->log);
    lt_cleanup(1);
    exit(1);
}

/* ---- the daemon ---- */

static int free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static pid_t spawn(const char *exe, const char *store_url, int port, const char *out_path,
                   const char *log_path)
{
    char listen[32];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    pid_t parent = getpid(), pid = fork();
    if (pid != 0)
        return pid;
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* the test killed: the daemon goes too */
    if (getppid() != parent)
        _exit(127);
    int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (out < 0 || log < 0 || dup2(out, 1) < 0 || dup2(log, 2) < 0)
        _exit(127);
    execl(exe, exe, "--listen", listen, "--store", store_url, "--no-access-log", (char *)NULL);
    _exit(127);
}

/* Waits until /healthz answers 200: 1, or 0 when the process exited or time ran out. */
static int wait_ready(lt_daemon *d)
{
    double end = lt_now() + READY_WAIT_S;
    while (lt_now() < end) {
        int st;
        if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
            d->pid = 0;
            return 0;
        }
        int status;
        json_t *j = lt_call(d->port, "GET", "/healthz", NULL, NULL, &status);
        json_decref(j);
        if (status == 200)
            return 1;
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

/* The secret is the line after "admin token t_… (shown once…):". */
static void read_token(lt_daemon *d, const char *out_path)
{
    FILE *f = fopen(out_path, "r");
    char line[sizeof d->token];
    int next = 0;
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (next) {
            snprintf(d->token, sizeof d->token, "%s", line);
            break;
        }
        next = strncmp(line, "admin token ", 12) == 0;
    }
    if (f)
        fclose(f);
}

int lt_daemon_start(lt_daemon *d, const char *exe, const char *store_url)
{
    const char *dir = lt_tmpdir();
    int slot = 0;
    while (slot < DAEMONS_MAX && daemons[slot] && daemons[slot] != d && daemons[slot]->pid > 0)
        slot++;
    if (slot == DAEMONS_MAX) {
        fprintf(stderr, "error: more than %d daemons at once\n", DAEMONS_MAX);
        return -1;
    }
    daemons[slot] = d;
    char out_path[300];
    for (int attempt = 0; attempt < START_TRIES_MAX; attempt++) {
        d->token[0] = '\0';
        snprintf(out_path, sizeof out_path, "%s/stdout-%d-%d.txt", dir, slot, attempt);
        snprintf(d->log, sizeof d->log, "%s/stderr-%d-%d.txt", dir, slot, attempt);
        if ((d->port = free_port()) < 0) {
            fprintf(stderr, "error: no free loopback port: %s\n", strerror(errno));
            return -1;
        }
        d->pid = spawn(exe, store_url, d->port, out_path, d->log);
        if (d->pid < 0) {
            fprintf(stderr, "error: cannot fork: %s\n", strerror(errno));
            d->pid = 0;
            return -1;
        }
        if (wait_ready(d)) {
            read_token(d, out_path);
            return 0;
        }
        if (d->pid > 0) { /* alive but not answering: give up */
            kill(d->pid, SIGKILL);
            waitpid(d->pid, NULL, 0);
            d->pid = 0;
            break;
        } /* it exited: most likely the port was taken meanwhile; try another */
    }
    fprintf(stderr, "error: agentbudgetd did not start (see %s)\n", d->log);
    return -1;
}

int lt_daemon_stop(lt_daemon *d, int wait_ms, double *took_s)
{
    if (d->pid <= 0)
        return -1;
    double start = lt_now();
    kill(d->pid, SIGTERM);
    for (;;) {
        int st;
        if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
            d->pid = 0;
            if (took_s)
                *took_s = lt_now() - start;
            return st;
        }
        if ((lt_now() - start) * 1000 > wait_ms)
            break;
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    kill(d->pid, SIGKILL);
    waitpid(d->pid, NULL, 0);
    d->pid = 0;
    if (took_s)
        *took_s = lt_now() - start;
    return -1;
}

/* ---- the client ---- */

int lt_connect(lt_conn *c, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    c->port = port;
    c->len = 0;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -1;
    struct timeval tv = {IO_TIMEOUT_S, 0};
    int one = 1;
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    return 0;
}

void lt_disconnect(lt_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->len = 0;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads more bytes into c->buf; 0, or -1 at EOF, error or timeout. */
static int fill(lt_conn *c)
{
    if (c->len == sizeof c->buf)
        return -1;
    for (;;) {
        ssize_t r = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        c->len += (size_t)r;
        return 0;
    }
}

/* The value of header `name` in the header block [h, end) (after the status line), or NULL. */
static const char *header(const char *h, const char *end, const char *name)
{
    size_t n = strlen(name);
    const char *p = memchr(h, '\n', (size_t)(end - h));
    while (p && ++p < end) {
        if ((size_t)(end - p) > n && strncasecmp(p, name, n) == 0 && p[n] == ':')
            return p + n + 1;
        p = memchr(p, '\n', (size_t)(end - p));
    }
    return NULL;
}

static int read_reply(lt_conn *c, char **out)
{
    char *eoh;
    while (!(eoh = memmem(c->buf, c->len, "\r\n\r\n", 4)))
        if (fill(c))
            return -1;
    int status = 0;
    if (sscanf(c->buf, "HTTP/1.%*c %d", &status) != 1)
        return -1;
    const char *cl = header(c->buf, eoh + 2, "Content-Length");
    const char *conn = header(c->buf, eoh + 2, "Connection");
    if (!cl)
        return -1;
    size_t body_len = strtoul(cl, NULL, 10), head_len = (size_t)(eoh + 4 - c->buf);
    int closing = conn && strncasecmp(conn + strspn(conn, " "), "close", 5) == 0;
    if (body_len > REPLY_BYTES_MAX)
        return -1;
    char *body = malloc(body_len + 1);
    if (!body)
        return -1;
    size_t have = c->len - head_len < body_len ? c->len - head_len : body_len;
    memcpy(body, c->buf + head_len, have);
    memmove(c->buf, c->buf + head_len + have, c->len - head_len - have);
    c->len -= head_len + have;
    while (have < body_len) {
        ssize_t r = recv(c->fd, body + have, body_len - have, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            free(body);
            return -1;
        }
        have += (size_t)r;
    }
    body[body_len] = '\0';
    *out = body;
    if (closing)
        lt_disconnect(c);
    return status;
}

int lt_request(lt_conn *c, const char *method, const char *path, const char *token, const char *key,
               const char *body, char **out)
{
    *out = NULL;
    if (c->fd < 0)
        return -1;
    char *req = NULL;
    size_t blen = body ? strlen(body) : 0;
    int n = asprintf(&req,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s%s%s%s%s%s"
                     "Content-Length: %zu\r\n\r\n%s",
                     method, path, token ? "Authorization: Bearer " : "", token ? token : "",
                     token ? "\r\n" : "", key ? "Idempotency-Key: " : "", key ? key : "",
                     key ? "\r\n" : "", body ? "Content-Type: application/json\r\n" : "", blen,
                     body ? body : "");
    if (n < 0)
        return -1;
    int rc = -1;
    if (send_all(c->fd, req, (size_t)n) == 0)
        rc = read_reply(c, out);
    free(req);
    if (rc < 0)
        lt_disconnect(c);
    return rc;
}

json_t *lt_call(int port, const char *method, const char *path, const char *token, const char *body,
                int *status)
{
    lt_conn c;
    char *out = NULL;
    *status = -1;
    if (lt_connect(&c, port))
        return NULL;
    *status = lt_request(&c, method, path, token, NULL, body, &out);
    lt_disconnect(&c);
    json_t *j = out ? json_loads(out, 0, NULL) : NULL;
    free(out);
    return j;
}

int64_t lt_int(json_t *obj, const char *dotted, int64_t fallback)
{
    char name[128];
    const char *p = dotted;
    while (obj && *p) {
        size_t n = strcspn(p, ".");
        snprintf(name, sizeof name, "%.*s", (int)n, p);
        obj = json_object_get(obj, name);
        p += n + (p[n] == '.');
    }
    return json_is_integer(obj) ? (int64_t)json_integer_value(obj) : fallback;
}

json_t *lt_limit(json_t *status, const char *metric, const char *window)
{
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(status, "limits"), i, l)
    {
        const char *m = json_string_value(json_object_get(l, "metric"));
        const char *w = json_string_value(json_object_get(l, "window"));
        if (m && w && strcmp(m, metric) == 0 && strcmp(w, window) == 0)
            return l;
    }
    return NULL;
}
