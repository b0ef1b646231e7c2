/* load.h — what the agentbudgetd load tests share: the daemon as a child process on a free
 * loopback port, and a small HTTP/1.1 client on one keep-alive TCP connection (plain sockets,
 * Content-Length bodies only, as agentbudgetd answers). */
#ifndef AB_LOAD_H
#define AB_LOAD_H

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>

/* One agentbudgetd process. */
typedef struct {
    pid_t pid;       /* 0 once stopped */
    int port;        /* its 127.0.0.1 port */
    char token[128]; /* the bootstrap admin secret, if it printed one ("" otherwise) */
    char log[300];   /* its stderr */
} lt_daemon;

/* Makes a fresh temporary directory for a test's store and daemon output; lt_cleanup() removes
 * it when the test passed and keeps it (and says where) when it failed. Returns its path. */
const char *lt_tmpdir(void);

/* Starts `exe` with --listen 127.0.0.1:PORT (a free port) --store store_url --no-access-log,
 * killed with the test if the test dies. Returns 0 once GET /healthz answers 200 (d->token holds
 * the admin secret when the daemon printed one), or -1 (the reason is printed). */
int lt_daemon_start(lt_daemon *d, const char *exe, const char *store_url);

/* Sends SIGTERM and waits up to wait_ms. Returns the wait status (see waitpid) and the seconds
 * it took in *took_s, or -1 when it did not exit in time (then it is killed). */
int lt_daemon_stop(lt_daemon *d, int wait_ms, double *took_s);

/* Prints the message, kills every daemon still running, keeps the temporary directory and
 * exits 1: for failures past which a test cannot go on. */
void lt_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Stops what is left, removes the temporary directory unless failed, and returns failed ? 1 :
 * 0 for main() to return. */
int lt_cleanup(int failed);

/* One keep-alive connection. */
typedef struct {
    int fd; /* -1 when closed */
    int port;
    char buf[16384]; /* bytes read past the last reply */
    size_t len;
} lt_conn;

/* Opens a connection to 127.0.0.1:port (reads and writes time out after 20 s). 0 or -1. */
int lt_connect(lt_conn *c, int port);
void lt_disconnect(lt_conn *c);

/* Sends one request (token and key: NULL for none; body: NULL for none, else JSON) and reads
 * the reply. Returns its status with the body in *out (malloc'd, NUL-terminated: free it), or
 * -1 when the connection failed or closed (then c is closed: lt_connect again to go on). */
int lt_request(lt_conn *c, const char *method, const char *path, const char *token, const char *key,
               const char *body, char **out);

/* lt_request on a connection of its own, the reply parsed: a JSON value (json_decref it) or
 * NULL when the connection failed or the body is not JSON; *status gets the status or -1. */
json_t *lt_call(int port, const char *method, const char *path, const char *token, const char *body,
                int *status);

/* An integer member of a JSON object reached by a dotted path ("holds.open"); the fallback when
 * absent or not an integer. */
int64_t lt_int(json_t *obj, const char *dotted, int64_t fallback);

/* The "limits" item of a budget status for metric/window, or NULL. */
json_t *lt_limit(json_t *status, const char *metric, const char *window);

/* Seconds on the monotonic clock. */
double lt_now(void);

#endif
