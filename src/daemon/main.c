/* main.c — agentbudgetd: configuration (flags, then environment, then defaults), the listening
 * sockets, the first admin token of a new store, and an orderly stop on SIGTERM. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"

abd_config abd_cfg = {
    .listen = "127.0.0.1:8700",
    .readers = 16,
    .connections_max = 1024,
    .timeout_s = 30,
    .body_bytes_max = 64 * 1024,
    .import_bytes_max = 32 * 1024 * 1024,
    .header_bytes_max = 32 * 1024,
    .unsent_bytes_max = 256 << 20,
    .batch_max = 0, /* 0: by store, see batch_max_default() */
    .auth_failures_max = 10,
    .auth_window_s = 60,
    .access_log = 1,
};

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: agentbudgetd [options]\n\n"
        "The HTTP/JSON service of agentbudget: agents in any language reserve, commit and\n"
        "charge against budgets through it, each with a token scoped to its budgets.\n\n"
        "options (each also from the environment variable shown):\n"
        "  --listen ADDR           127.0.0.1:8700, [::1]:8700 or unix:PATH (AGENTBUDGETD_LISTEN;\n"
        "                          default 127.0.0.1:8700)\n"
        "  --store URL             memory:, sqlite:PATH, postgres://… (AGENTBUDGET_STORE;\n"
        "                          default the embedded SQLite store)\n"
        "  --metrics-listen ADDR   also serve GET /metrics there, without a token\n"
        "                          (AGENTBUDGETD_METRICS_LISTEN)\n"
        "  --readers N             read connections to the store, 1-64 (AGENTBUDGETD_READERS; 16)\n"
        "  --threads N             HTTP threads, each serving many connections, 1-256\n"
        "                          (AGENTBUDGETD_THREADS; default the number of CPUs, at least 2)\n"
        "  --max-connections N     (AGENTBUDGETD_MAX_CONNECTIONS; 1024)\n"
        "  --timeout SECONDS       idle or slow connections are closed (AGENTBUDGETD_TIMEOUT; 30)\n"
        "  --max-body-bytes N      JSON bodies, 413 past it (AGENTBUDGETD_MAX_BODY_BYTES; 65536)\n"
        "  --max-header-bytes N    request line and headers (AGENTBUDGETD_MAX_HEADER_BYTES; "
        "32768)\n"
        "  --max-unsent-bytes N    replies waiting for slow readers, together; past it a reply\n"
        "                          over 64 KiB gets 503 (AGENTBUDGETD_MAX_UNSENT_BYTES; 256 MiB)\n"
        "  --batch-max N           requests per group commit (AGENTBUDGETD_BATCH_MAX; 512, 64 on\n"
        "                          PostgreSQL)\n"
        "  --no-access-log         no JSON access-log line per request on stderr\n"
        "  --help                  this text\n"
        "  --version               the version\n\n"
        "On a store without tokens it creates an admin token and prints it once on stdout.\n"
        "SIGTERM, SIGINT or SIGHUP: finish what is in flight (new requests get 503), close the "
        "store,\n"
        "exit 0.\n");
}

/* 0, or 3 if what went to stdout could not all be written (a full disk, a closed stdout). */
static int written(void)
{
    if (fflush(stdout) == 0 && !ferror(stdout))
        return 0;
    fprintf(stderr, "error: cannot write to standard output: %s\n", strerror(errno));
    return 3;
}

/* Reads an unsigned option value within [lo, hi]. */
static int parse_uint(const char *name, const char *v, unsigned long lo, unsigned long hi,
                      unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long x = v && *v ? strtoul(v, &end, 10) : 0;
    if (!v || !*v || *end || errno || x < lo || x > hi || v[0] == '-') {
        fprintf(stderr, "error: %s: '%s' is not a whole number from %lu to %lu\n", name, v ? v : "",
                lo, hi);
        return 2;
    }
    *out = x;
    return 0;
}

/* The unix socket this daemon made: removed at its stop only if the path is still it. */
static dev_t unix_dev;
static ino_t unix_ino;

/* Opens a listening socket for "HOST:PORT", "[V6]:PORT" or "unix:PATH"; field: where addr came
 * from (a flag or an environment variable), for the messages. */
static int listen_on(const char *field, const char *addr)
{
    int fd;
    if (strncmp(addr, "unix:", 5) == 0) {
        struct sockaddr_un un = {.sun_family = AF_UNIX};
        if (strlen(addr + 5) == 0 || strlen(addr + 5) >= sizeof un.sun_path) {
            fprintf(stderr, "error: %s: unix socket path must be 1-%zu bytes\n", field,
                    sizeof un.sun_path - 1);
            return -2;
        }
        strcpy(un.sun_path, addr + 5);
        /* only a socket left by a previous run goes: not a file that is something else, and
         * not the socket of a daemon that is still listening on it */
        struct stat sb;
        if (lstat(un.sun_path, &sb) == 0) {
            if (!S_ISSOCK(sb.st_mode)) {
                fprintf(stderr, "error: %s: '%s' exists and is not a socket: left as it is\n",
                        field, un.sun_path);
                return -2;
            }
            int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            int live = probe >= 0 && connect(probe, (struct sockaddr *)&un, sizeof un) == 0;
            if (probe >= 0)
                close(probe);
            if (live) {
                fprintf(stderr,
                        "error: cannot listen on '%s': another process is listening on it\n", addr);
                return -3;
            }
            unlink(un.sun_path);
        }
        if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
            bind(fd, (struct sockaddr *)&un, sizeof un) || listen(fd, 1024)) {
            fprintf(stderr, "error: cannot listen on '%s': %s\n", addr, strerror(errno));
            return -3;
        }
        chmod(un.sun_path, 0660);
        if (!unix_ino && stat(un.sun_path, &sb) == 0) { /* --listen's: what the stop removes */
            unix_dev = sb.st_dev;
            unix_ino = sb.st_ino;
        }
        return fd;
    }
    char host[256];
    const char *colon = strrchr(addr, ':');
    if (!colon || colon == addr || !colon[1] || (size_t)(colon - addr) >= sizeof host) {
        fprintf(stderr, "error: %s: '%s' is not HOST:PORT, [V6]:PORT or unix:PATH\n", field, addr);
        return -2;
    }
    unsigned long port;
    char portfield[300];
    snprintf(portfield, sizeof portfield, "%s: port", field);
    if (parse_uint(portfield, colon + 1, 0, 65535, &port))
        return -2;
    snprintf(host, sizeof host, "%.*s", (int)(colon - addr), addr);
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV},
                    *res;
    int gai = getaddrinfo(host, colon + 1, &hints, &res);
    if (gai) {
        fprintf(stderr, "error: %s: '%s': %s\n", field, addr, gai_strerror(gai));
        return -2;
    }
    fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 1024)) {
        fprintf(stderr, "error: cannot listen on '%s': %s\n", addr, strerror(errno));
        freeaddrinfo(res);
        return -3;
    }
    freeaddrinfo(res);
    return fd;
}

/* The address fd listens on as HOST:PORT ([V6]:PORT), the port the kernel chose for :0 too;
 * given as it was for unix:PATH or if it cannot be read. */
static void bound_address(int fd, const char *given, char *out, size_t size)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    char host[NI_MAXHOST], port[NI_MAXSERV];
    if (strncmp(given, "unix:", 5) == 0 || getsockname(fd, (struct sockaddr *)&sa, &len) ||
        getnameinfo((struct sockaddr *)&sa, len, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV)) {
        snprintf(out, size, "%s", given);
        return;
    }
    snprintf(out, size, sa.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port);
}

/* A new store has no way in: make the first admin token and show it once. Of several daemons
 * starting at once on one new store, one makes it; the others find it made (AB_EEXIST). */
/* A tool pattern of a stored role that can match no call (Read(.env), stored before role set
 * refused such patterns) denies nothing: said at start, a log line each, where the daemon's
 * operators look (the CLI's role get says it too, but not through the daemon's callers). */
static int role_inert_log(const ab_role *r, void *unused)
{
    (void)unused;
    char *const *lists[] = {r->allow_tools, r->deny_tools};
    const size_t counts[] = {r->allow_tools_count, r->deny_tools_count};
    static const char *const keys[] = {"allow_tools", "deny_tools"};
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < counts[k]; i++) {
            char why[1024], name[AB_NAME_BYTES_MAX], pattern[AB_NAME_BYTES_MAX * 2];
            if (!ab_tool_pattern_inert(lists[k][i], why, sizeof why))
                continue;
            snprintf(name, sizeof name, "%s", r->name);
            snprintf(pattern, sizeof pattern, "%s", lists[k][i]);
            abd_utf8_clean(name);
            abd_utf8_clean(pattern);
            abd_utf8_clean(why);
            json_t *line = json_pack("{s:s,s:s,s:s,s:s,s:s}", "msg", "role pattern matches nothing",
                                     "role", name, "list", keys[k], "pattern", pattern, "why", why);
            char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
            if (text)
                fprintf(stderr, "%s\n", text);
            free(text);
            json_decref(line);
        }
    return 0;
}

static int bootstrap_token(void)
{
    char secret[AB_TOKEN_SECRET_BYTES + 1];
    ab_token t;
    ab_store *st = abd_reader_acquire();
    int rc = ab_token_create_first(st, "bootstrap", secret, &t);
    if (rc && rc != AB_EEXIST)
        fprintf(stderr, "error: cannot create the first admin token: %s\n", ab_store_errmsg(st));
    abd_reader_release(st);
    if (rc)
        return rc == AB_EEXIST ? 0 : rc;
    printf("admin token %s (shown once; only its hash is stored):\n%s\n", t.id, secret);
    if (fflush(stdout) == 0 && !ferror(stdout))
        return 0;
    /* nobody saw it (stdout full or closed): a token no one holds must not stay valid */
    int err = errno;
    st = abd_reader_acquire();
    rc = ab_token_revoke(st, t.id);
    abd_reader_release(st);
    fprintf(stderr,
            "error: cannot print the first admin token on stdout (%s); %s it. Make one with "
            "'agentbudget --store URL token create --scope \"\" --role admin'\n",
            strerror(err), rc ? "could not revoke" : "revoked");
    return AB_ESTORE;
}

typedef struct {
    const char *flag, *env;
    unsigned long lo, hi;
    void *dst;
    int is_size;
} num_opt;

/* Requests per group commit unless --batch-max says otherwise: 512, but 64 on PostgreSQL, where
 * each request of a batch costs more the longer the batch (every one updates the same rows and
 * opens a savepoint: 318 us a charge in batches of 64, 692 in batches of 512, bench_pg_batch in
 * docs/performance.md). A URL that is neither memory: nor sqlite: is PostgreSQL's. */
static unsigned batch_max_default(const char *url)
{
    if (!url || !*url)
        url = getenv("AGENTBUDGET_STORE");
    if (!url || !*url || !strncmp(url, "memory:", 7) || !strncmp(url, "sqlite:", 7))
        return 512;
    return 64;
}

int main(int argc, char **argv)
{
    const char *env;
    /* where each address came from, for the messages: a flag, or the environment */
    const char *store_from = NULL, *listen_from = "--listen", *metrics_from = NULL;
    if ((env = getenv("AGENTBUDGET_STORE")) && *env) {
        abd_cfg.store_url = env;
        store_from = "AGENTBUDGET_STORE";
    }
    if ((env = getenv("AGENTBUDGETD_LISTEN")) && *env) {
        abd_cfg.listen = env;
        listen_from = "AGENTBUDGETD_LISTEN";
    }
    if ((env = getenv("AGENTBUDGETD_METRICS_LISTEN")) && *env) {
        abd_cfg.metrics_listen = env;
        metrics_from = "AGENTBUDGETD_METRICS_LISTEN";
    }
    num_opt nums[] = {
        {"--readers", "AGENTBUDGETD_READERS", 1, 64, &abd_cfg.readers, 0},
        {"--threads", "AGENTBUDGETD_THREADS", 1, 256, &abd_cfg.threads, 0},
        {"--max-connections", "AGENTBUDGETD_MAX_CONNECTIONS", 1, 100000, &abd_cfg.connections_max,
         0},
        {"--timeout", "AGENTBUDGETD_TIMEOUT", 1, 3600, &abd_cfg.timeout_s, 0},
        {"--max-body-bytes", "AGENTBUDGETD_MAX_BODY_BYTES", 1024, 64 << 20, &abd_cfg.body_bytes_max,
         1},
        {"--max-header-bytes", "AGENTBUDGETD_MAX_HEADER_BYTES", 4096, 1 << 20,
         &abd_cfg.header_bytes_max, 1},
        {"--max-unsent-bytes", "AGENTBUDGETD_MAX_UNSENT_BYTES", 1 << 20, 1UL << 40,
         &abd_cfg.unsent_bytes_max, 1},
        {"--batch-max", "AGENTBUDGETD_BATCH_MAX", 1, 100000, &abd_cfg.batch_max, 0},
    };
    for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++) {
        unsigned long v;
        if (!(env = getenv(nums[k].env)) || !*env)
            continue;
        if (parse_uint(nums[k].env, env, nums[k].lo, nums[k].hi, &v))
            return 2;
        if (nums[k].is_size)
            *(size_t *)nums[k].dst = v;
        else
            *(unsigned *)nums[k].dst = (unsigned)v;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--version")) {
            printf("agentbudgetd %s\n", AB_VERSION);
            return written();
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return written();
        }
        if (!strcmp(a, "--print-routes")) { /* for the test that holds docs/openapi.yaml to it */
            abd_routes_print();
            return written();
        }
        if (!strcmp(a, "--no-access-log")) {
            abd_cfg.access_log = 0;
            continue;
        }
        int done = 0;
        if (!strcmp(a, "--listen") || !strcmp(a, "--store") || !strcmp(a, "--metrics-listen")) {
            /* "--listen --store URL" is a missing address, not the address "--store" */
            if (!val || !*val || !strncmp(val, "--", 2)) {
                fprintf(stderr, "error: %s: needs a value\n", a);
                return 2;
            }
            *(a[2] == 'l'   ? &abd_cfg.listen
              : a[2] == 's' ? &abd_cfg.store_url
                            : &abd_cfg.metrics_listen) = val;
            *(a[2] == 'l' ? &listen_from : a[2] == 's' ? &store_from : &metrics_from) = a;
            i++;
            continue;
        }
        for (size_t k = 0; k < sizeof nums / sizeof nums[0] && !done; k++) {
            if (strcmp(a, nums[k].flag))
                continue;
            unsigned long v;
            if (parse_uint(a, val, nums[k].lo, nums[k].hi, &v))
                return 2;
            if (nums[k].is_size)
                *(size_t *)nums[k].dst = v;
            else
                *(unsigned *)nums[k].dst = (unsigned)v;
            i++;
            done = 1;
        }
        if (!done) {
            fprintf(stderr, "error: unknown option '%s' (see agentbudgetd --help)\n", a);
            return 2;
        }
    }
    /* signals are taken by sigwait() below; every thread inherits the mask */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP); /* nothing to reload: a hang-up stops in order too, not at once */
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    int fd = listen_on(listen_from, abd_cfg.listen);
    if (fd < 0)
        return -fd;
    int mfd = abd_cfg.metrics_listen ? listen_on(metrics_from, abd_cfg.metrics_listen) : -1;
    if (abd_cfg.metrics_listen && mfd < 0)
        return -mfd;
    if (!abd_cfg.batch_max)
        abd_cfg.batch_max = batch_max_default(abd_cfg.store_url);
    if (!abd_cfg.threads) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        abd_cfg.threads = cpus > 2 ? (unsigned)(cpus < 256 ? cpus : 256) : 2;
    }
    if (abd_cfg.threads > abd_cfg.connections_max) /* each thread takes a share of them */
        abd_cfg.threads = abd_cfg.connections_max;
    char err[600];
    int rc = abd_store_init(abd_cfg.store_url, abd_cfg.readers, err, sizeof err);
    if (rc) {
        if (rc == AB_EINVAL && store_from) /* a bad URL: say where it came from */
            fprintf(stderr, "error: %s: %s\n", store_from, err);
        else
            fprintf(stderr, "error: cannot open the store: %s\n", err);
        return rc == AB_EINVAL ? 2 : 3;
    }
    if (bootstrap_token())
        return 3;
    ab_store *roles_st = abd_reader_acquire(); /* best effort: a failure is no reason to stop */
    ab_role_list(roles_st, role_inert_log, NULL);
    abd_reader_release(roles_st);
    struct MHD_Daemon *d = abd_http_start(fd, 0);
    struct MHD_Daemon *md = mfd >= 0 ? abd_http_start(mfd, 1) : NULL;
    if (!d || (mfd >= 0 && !md)) {
        fprintf(stderr, "error: cannot start the HTTP server\n");
        return 3;
    }
    /* what it listens on (the port chosen for :0), the metrics' address and the store (its
     * password hidden) */
    char at[600], mat[600] = "", store[1024];
    bound_address(fd, abd_cfg.listen, at, sizeof at);
    if (mfd >= 0)
        bound_address(mfd, abd_cfg.metrics_listen, mat, sizeof mat);
    ab_store_url_redact(abd_cfg.store_url, store, sizeof store);
    abd_utf8_clean(at); /* a path not UTF-8 must not empty the line (jansson takes only UTF-8) */
    abd_utf8_clean(mat);
    abd_utf8_clean(store);
    json_t *line = json_pack("{s:s,s:s,s:s,s:s,s:i,s:i}", "msg", "listening", "listen", at, "store",
                             store, "version", AB_VERSION, "batch_max", (int)abd_cfg.batch_max,
                             "threads", (int)abd_cfg.threads);
    if (line && mfd >= 0)
        json_object_set_new(line, "metrics_listen", json_string(mat));
    char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
    fprintf(stderr, "%s\n", text ? text : "{\"msg\":\"listening\"}");
    free(text);
    json_decref(line);
    int sig;
    sigwait(&sigs, &sig);
    fprintf(stderr, "{\"msg\":\"stopping\",\"signal\":%d}\n", sig);
    /* let every request in flight get its reply (a request that arrives meanwhile, on a new
     * connection or an open one, is answered 503 shutting_down), then close the connections.
     * Not MHD_quiesce_daemon(): with epoll and a thread pool it races a worker thread removing
     * the same listen socket from its epoll set, and libmicrohttpd 0.9.75 then aborts the
     * process ("Failed to remove listen FD from epoll set"), seen in daemon_load_sigterm. */
    /* those still running after 10 s (a write waiting for the store's lock) are answered before
     * the daemon exits: the writer and libmicrohttpd's threads finish them */
    int left = abd_http_drain(10000);
    fprintf(stderr, "{\"msg\":\"drained\",\"requests_still_running\":%d}\n", left);
    /* the writer first: it finishes what is queued and resumes every suspended request, which
     * libmicrohttpd requires of a stop; readers stay open for requests still running */
    abd_store_stop_writer();
    MHD_stop_daemon(d); /* closes the listen sockets too (not quiesced) */
    if (md)
        MHD_stop_daemon(md);
    abd_store_shutdown();
    struct stat sb;
    if (strncmp(abd_cfg.listen, "unix:", 5) == 0 && stat(abd_cfg.listen + 5, &sb) == 0 &&
        sb.st_dev == unix_dev && sb.st_ino == unix_ino)
        unlink(abd_cfg.listen + 5);
    fprintf(stderr, "{\"msg\":\"stopped\"}\n");
    return 0;
}
