/* store.c — opening a store by URL, the handle's clock, actor and error detail, hold ids. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static int64_t real_clock(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The clock's reading, kept within 1970-01-01T00:00:00.001Z .. 9999-12-31T23:59:59.999Z: 0 means
 * "never" (a token not revoked, not expiring), a negative time is a sentinel in a store's walks,
 * and times near INT64_MAX overflow when a TTL or a window is added to them. */
int ab__walk_refused(ab_store *st)
{
    return ab__fail(st, AB_EINVAL,
                    "called from a callback of a walk on this handle (list, events): collect what "
                    "you need and call after the walk returns, or use another handle");
}

int64_t ab__now(ab_store *st)
{
    int64_t t = st->clock(st->clock_ctx);
    return t < AB__TIME_MIN ? AB__TIME_MIN : t > AB__TIME_MAX ? AB__TIME_MAX : t;
}

void ab_store_set_clock(ab_store *st, ab_clock_fn fn, void *ctx)
{
    pthread_mutex_lock(&st->lock);
    st->clock = fn ? fn : real_clock;
    st->clock_ctx = fn ? ctx : NULL;
    pthread_mutex_unlock(&st->lock);
}

int ab_store_set_actor(ab_store *st, const char *actor)
{
    if (!actor)
        return ab__fail(st, AB_EINVAL, "actor: must be 1-%d bytes", AB_NAME_BYTES_MAX - 1);
    int rc = ab__name_valid(st, "actor", actor); /* as model and role names: it is in events */
    if (rc)
        return rc;
    pthread_mutex_lock(&st->lock);
    st->errmsg[0] = '\0'; /* "" after a call that succeeded, as every call */
    ab__strlcpy(st->actor, actor, sizeof st->actor);
    pthread_mutex_unlock(&st->lock);
    return AB_OK;
}

const char *ab_store_errmsg(ab_store *st)
{
    return st ? st->errmsg : "no store handle";
}

void ab__hold_id_new(ab_store *st, char out[AB_HOLD_ID_BYTES + 2])
{
    /* random per handle, then a counter: unique across processes without a syscall per id */
    uint64_t a = st->id_seed[0], b = st->id_seed[1] + ++st->id_counter;
    /* "h_%016llx%016llx" without snprintf: this runs on every reserve */
    static const char hex[] = "0123456789abcdef";
    out[0] = 'h';
    out[1] = '_';
    for (int i = 0; i < 16; i++) {
        out[2 + i] = hex[(a >> (60 - 4 * i)) & 15];
        out[18 + i] = hex[(b >> (60 - 4 * i)) & 15];
    }
    out[AB_HOLD_ID_BYTES] = '\0';
}

int ab__hold_id_counter(const ab_store *st, const char *id, uint64_t *n)
{
    /* the inverse of ab__hold_id_new: lowercase hex only, so that one counter is one id */
    uint64_t v[2] = {0, 0};
    if (id[0] != 'h' || id[1] != '_')
        return 0;
    for (int i = 0; i < 32; i++) {
        char ch = id[2 + i];
        unsigned d = ch >= '0' && ch <= '9'   ? (unsigned)(ch - '0')
                     : ch >= 'a' && ch <= 'f' ? (unsigned)(ch - 'a' + 10)
                                              : 16;
        if (d == 16)
            return 0;
        v[i / 16] = v[i / 16] << 4 | d;
    }
    if (id[AB_HOLD_ID_BYTES] != '\0' || v[0] != st->id_seed[0])
        return 0;
    *n = v[1] - st->id_seed[1];
    return *n >= 1 && *n <= st->id_counter;
}

static int mkdirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0700);
        *p = '/';
        if (rc && errno != EEXIST)
            return -1;
    }
    return 0;
}

int ab_store_default_url(char *buf, size_t size)
{
    const char *env = getenv("AGENTBUDGET_STORE");
    if (env && *env)
        return ab__strlcpy(buf, env, size) ? AB_EINVAL : AB_OK;
    const char *xdg = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    int n;
    if (xdg && xdg[0] == '/')
        n = snprintf(buf, size, "sqlite:%s/agentbudget/budget.db", xdg);
    else if (home && home[0] == '/')
        n = snprintf(buf, size, "sqlite:%s/.local/state/agentbudget/budget.db", home);
    else
        return AB_EINVAL;
    return n > 0 && (size_t)n < size ? AB_OK : AB_EINVAL;
}

/* libpq's "host=… dbname=…" form: starts with a keyword and '='. */
static int is_keyvalue(const char *s)
{
    const char *p = s;
    while ((*p >= 'a' && *p <= 'z') || *p == '_')
        p++;
    return p > s && (*p == '=' || (*p == ' ' && strchr(p, '=')));
}

void ab__limit_columns_sql(const char *int_type, char *buf, size_t size)
{
    size_t off = 0;
    buf[0] = 0;
    for (int w = 0; w < AB_WINDOW_COUNT; w++)
        for (int m = 0; m < AB_METRIC_COUNT; m++) {
            const char *wn = ab_window_name((ab_window)w), *mn = ab_metric_name((ab_metric)m);
            int n = snprintf(buf + off, size - off, ", lim_%s_%s %s, used_%s_%s %s NOT NULL", wn,
                             mn, int_type, wn, mn, int_type);
            if (n < 0 || (size_t)n >= size - off)
                abort(); /* a programming error: the caller's buffer is fixed */
            off += (size_t)n;
        }
}

int ab_store_open(const char *url, ab_store **out)
{
    *out = NULL;
    ab_store *st = calloc(1, sizeof *st);
    if (!st)
        return AB_ENOMEM;
    pthread_mutexattr_t attr; /* recursive: a group commit holds it across its operations */
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&st->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    st->clock = real_clock;
    ab__strlcpy(st->actor, "local", sizeof st->actor);
    if (getrandom(st->id_seed, sizeof st->id_seed, 0) != sizeof st->id_seed) {
        st->id_seed[0] = (uint64_t)real_clock(NULL) ^ (uint64_t)getpid() << 32;
        st->id_seed[1] = (uint64_t)(uintptr_t)st;
    }
    *out = st;
    char def[4096];
    if (!url || !*url) {
        if (ab_store_default_url(def, sizeof def))
            return ab__fail(st, AB_EINVAL,
                            "store: no URL given and neither AGENTBUDGET_STORE, XDG_STATE_HOME "
                            "nor HOME is set to an absolute path");
        url = def;
        const char *env = getenv("AGENTBUDGET_STORE"); /* set but empty: not set */
        if (strncmp(url, "sqlite:", 7) == 0 && (!env || !*env)) {
            char dir[4096];
            ab__strlcpy(dir, url + 7, sizeof dir);
            if (mkdirs(dir))
                return ab__fail(st, AB_ESTORE, "cannot create the directory of '%s': %s", url + 7,
                                strerror(errno));
        }
    }
    if (strncmp(url, "memory:", 7) == 0)
        return ab__store_memory_open(st, url + 7);
    if (strncmp(url, "sqlite:", 7) == 0)
        return ab__store_sqlite_open(st, url + 7);
    if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0 ||
        is_keyvalue(url))
        return ab__store_pg_open(st, url);
    char shown[512];
    ab_store_url_redact(url, shown, sizeof shown);
    return ab__fail(st, AB_EINVAL,
                    "store URL '%s': expected memory:, sqlite:PATH, postgres://… or libpq "
                    "key=value words",
                    shown);
}

/* The length of the password value at v: quoted ('…', \\ escapes) up to its closing quote,
 * else up to a space or '&'. */
static size_t password_len(const char *v)
{
    if (*v != '\'')
        return strcspn(v, " \t\n\r\v\f&");
    size_t n = 1;
    while (v[n] && v[n] != '\'')
        n += v[n] == '\\' && v[n + 1] ? 2 : 1;
    return v[n] ? n + 1 : n;
}

/* How many bytes of s spell word (lower case), any case, each letter as itself or as "%XX"
 * (libpq decodes a URI's parameter names, so "pass%77ord" is "password"); 0 if they do not. */
static size_t spelled(const char *s, const char *word)
{
    size_t n = 0;
    for (; *word; word++) {
        unsigned v;
        if (tolower((unsigned char)s[n]) == *word)
            n++;
        else if (s[n] == '%' && isxdigit((unsigned char)s[n + 1]) &&
                 isxdigit((unsigned char)s[n + 2]) && sscanf(s + n + 1, "%2x", &v) == 1 &&
                 tolower((int)v) == *word)
            n += 3;
        else
            return 0;
    }
    return n;
}

/* The length of "password = " (or "sslpassword = ", the client key's passphrase) at url + i
 * (any case, letters maybe percent-encoded, spaces around '='), if a key starts there (at the
 * start, or after a space, '?' or '&'); else 0. */
static size_t password_key(const char *url, size_t i)
{
    if (i > 0 && !strchr(" \t\n\r\v\f?&", url[i - 1]))
        return 0;
    size_t n = spelled(url + i, "ssl");
    size_t w = spelled(url + i + n, "password");
    if (!w)
        return 0;
    n += w;
    n += strspn(url + i + n, " \t\n\r\v\f");
    if (url[i + n] != '=')
        return 0;
    return n + 1 + strspn(url + i + n + 1, " \t\n\r\v\f");
}

void ab_store_url_redact(const char *url, char *out, size_t size)
{
    if (!size)
        return;
    size_t o = 0, n = strlen(url), i = 0;
    /* USER:PASSWORD@: after the scheme's "X:" and slashes (or from the start, if the scheme is
     * mistyped past recognition), to the last '@' (one in the password is not a separator to
     * libpq's eye alone: '#', '/' and '?' are taken raw too); "X:PASSWORD@" where the user was
     * taken for the scheme */
    size_t from = 0, to = 0, begin = 0,
           s = strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
    const char *at = strrchr(url, '@');
    if (s > 0 && url[s] == ':')
        begin = s + 1 + strspn(url + s + 1, "/");
    if (at && (size_t)(at - url) > begin && strncmp(url, "sqlite:", 7)) { /* a path: no user */
        const char *colon = memchr(url + begin, ':', (size_t)(at - url) - begin);
        if (colon)
            from = (size_t)(colon - url) + 1;
        else if (begin == s + 1) /* "alice:s3cret@host": no slash, no second colon */
            from = begin;
        to = from ? (size_t)(at - url) : 0;
    }
    while (i < n && o + 1 < size) {
        size_t key;
        if (to && i == from) {
            o += (size_t)snprintf(out + o, size - o, "***");
            i = to;
        } else if ((key = password_key(url, i))) {
            o += (size_t)snprintf(out + o, size - o, "%.*s***", (int)key, url + i);
            i += key + password_len(url + i + key);
        } else {
            out[o++] = url[i++];
        }
    }
    out[o < size ? o : size - 1] = '\0';
}

/* Locks the handle and begins the transaction of a batch or read group; the lock stays held
 * on success. */
static int group_open(ab_store *st, int write)
{
    pthread_mutex_lock(&st->lock);
    if (st->batch || st->read_group || st->walking) {
        pthread_mutex_unlock(&st->lock);
        return st->walking ? ab__walk_refused(st)
                           : ab__fail(st, AB_EINVAL,
                                      "a batch or read group is already open on this handle");
    }
    st->errmsg[0] = '\0';
    int rc = st->ops->begin(st, write);
    if (rc)
        pthread_mutex_unlock(&st->lock);
    return rc;
}

int ab_store_read_begin(ab_store *st)
{
    int rc = group_open(st, 0);
    if (rc == AB_OK)
        st->read_group = 1; /* the lock stays held until ab_store_read_end() */
    return rc;
}

/* The end of a group: the lock is taken first (again, by the thread that holds it for the group:
 * it is recursive), so that another thread's call waits for the group to end and then finds no
 * group, instead of ending one it does not hold. */
void ab_store_read_end(ab_store *st)
{
    pthread_mutex_lock(&st->lock);
    if (st->read_group && !st->walking) { /* not from a walk's callback: it reads in the group */
        if (st->read_group == 1)
            st->ops->rollback(st); /* it read only */
        st->read_group = 0;
        pthread_mutex_unlock(&st->lock); /* the group's */
    }
    pthread_mutex_unlock(&st->lock);
}

static int batch_open(ab_store *st, int kind)
{
    int rc = group_open(st, AB__WRITE_GROUP);
    if (rc == AB_OK) {
        st->batch = kind; /* the lock stays held until commit or abort */
        st->batch_void = 0;
    }
    return rc;
}

int ab_store_batch_begin(ab_store *st)
{
    return batch_open(st, AB__BATCH);
}

int ab_store_batch_begin_flat(ab_store *st)
{
    return batch_open(st, AB__BATCH_FLAT);
}

int ab_store_batch_commit(ab_store *st)
{
    pthread_mutex_lock(&st->lock); /* see ab_store_read_end */
    if (!st->batch || st->walking) {
        int rc = st->walking
                     ? ab__walk_refused(st)
                     : ab__fail(st, AB_EINVAL, "no batch is open on this handle (by this thread)");
        pthread_mutex_unlock(&st->lock);
        return rc;
    }
    int rc, flat = st->batch == AB__BATCH_FLAT;
    st->batch = 0;
    if (!st->batch_void) /* else it says why the batch was voided */
        st->errmsg[0] = '\0';
    if (st->batch_void) {
        rc = AB_EREPLAY; /* rolled back already; errmsg says why */
    } else if ((rc = st->ops->commit(st)) == AB__ERETRY && flat) {
        /* the writes of a flat batch go with its commit, and the server refused one of them
         * (which is not known): nothing was committed. Not so a commit whose answer was lost
         * (AB_ESTORE): it may have happened, and running the batch again could apply it twice */
        rc = ab__fail(st, AB_EREPLAY, "the batch was rolled back (%s): run it again", st->errmsg);
    } else if (rc == AB__ERETRY) {
        rc = AB_EBUSY;
    }
    st->batch_void = 0;
    pthread_mutex_unlock(&st->lock); /* the batch's */
    pthread_mutex_unlock(&st->lock);
    return rc;
}

void ab_store_batch_abort(ab_store *st)
{
    pthread_mutex_lock(&st->lock); /* see ab_store_read_end */
    if (st->batch && !st->walking) {
        st->batch = 0;
        if (!st->batch_void)
            st->ops->rollback(st);
        st->batch_void = 0;
        pthread_mutex_unlock(&st->lock); /* the batch's */
    }
    pthread_mutex_unlock(&st->lock);
}

void ab_store_close(ab_store *st)
{
    if (!st)
        return;
    if (st->ops)
        st->ops->close(st);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

int ab_store_schema_version(ab_store *st, int *out)
{
    pthread_mutex_lock(&st->lock);
    st->errmsg[0] = '\0';
    if (st->walking) {
        pthread_mutex_unlock(&st->lock);
        return ab__walk_refused(st);
    }
    int rc = st->ops->schema_version(st, out);
    pthread_mutex_unlock(&st->lock);
    return rc;
}
