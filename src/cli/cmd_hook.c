/* cmd_hook.c — Claude Code integration: `agentbudget hook claude-code` reads one hook event on
 * stdin, charges the session's budget for the usage added to its transcripts since the last
 * call, and denies tools (PreToolUse) or prompts (UserPromptSubmit) that the role forbids or the
 * budget cannot pay for; `hook install` / `hook uninstall` edit a settings.json. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* stdin: a PostToolUse event carries the tool's whole output (a file Claude wrote or read) */
#define HOOK_INPUT_BYTES_MAX (64 * 1024 * 1024)
/* The exit status of bad input or configuration on an event that only charges: Claude Code
 * takes 2 there as "block" (Stop and SubagentStop: keep working), any other non-zero status as
 * an error that it shows and goes on after. */
#define EXIT_HOOK_NONBLOCKING 1
#define HOOK_COMMAND "hook claude-code"

static uint64_t fnv64(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Reads .claude/agentbudget.json of the project (then of the user) into cfg; flags win later. */
/* 0 if *j (as jansson loaded it, with err) is a JSON object; else *j freed and NULL, and why in
 * why: it could not be read (where, and jansson's reason), or it is an array or a value. */
static int object_or_why(json_t **j, const json_error_t *err, char *why, size_t size)
{
    if (*j && json_is_object(*j))
        return 0;
    if (*j)
        snprintf(why, size, "not a JSON object (%s)",
                 json_is_array(*j) ? "an array" : "a single value");
    else
        snprintf(why, size, "cannot be read as JSON (line %d: %s)", err->line, err->text);
    json_decref(*j);
    *j = NULL;
    return -1;
}

static int config_read(cli *c, const char *path, hook_config *cfg, int *found)
{
    json_error_t err;
    *found = 0;
    if (access(path, F_OK) != 0)
        return 0;
    json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
    char why[256];
    if (object_or_why(&j, &err, why, sizeof why))
        return usage_error(c, "config '%s': %s", path, why);
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v)
    {
        char *dst = !strcmp(k, "parent")  ? cfg->parent
                    : !strcmp(k, "role")  ? cfg->role
                    : !strcmp(k, "store") ? cfg->store
                                          : NULL;
        size_t size = !strcmp(k, "parent") ? sizeof cfg->parent
                      : !strcmp(k, "role") ? sizeof cfg->role
                                           : sizeof cfg->store;
        if (!strcmp(k, "on_error")) {
            const char *s = json_string_value(v);
            if (!s || (strcmp(s, "deny") && strcmp(s, "allow"))) {
                json_decref(j);
                return usage_error(c, "config '%s': on_error: \"deny\" or \"allow\"", path);
            }
            cfg->deny_on_error = !strcmp(s, "deny");
        } else if (!dst || !json_is_string(v) || strlen(json_string_value(v)) >= size) {
            /* say which rule: an unknown field, a value that is not a string, or too long */
            char rule[96];
            if (!dst)
                snprintf(rule, sizeof rule,
                         "unknown field (fields: parent, role, store, on_error)");
            else if (!json_is_string(v))
                snprintf(rule, sizeof rule, "must be a string");
            else
                snprintf(rule, sizeof rule, "at most %zu bytes", size - 1);
            int rc = usage_error(c, "config '%s': %s: %s", path, k, rule);
            json_decref(j); /* after the message: k is the object's own key */
            return rc;
        } else {
            snprintf(dst, size, "%s", json_string_value(v));
        }
    }
    json_decref(j);
    *found = 1;
    return 0;
}

/* The state file that keeps how far a transcript has been charged. */
static int offset_file(const char *transcript, char *out, size_t size)
{
    const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    char dir[PATH_MAX];
    if (xdg && xdg[0] == '/')
        snprintf(dir, sizeof dir, "%s/agentbudget", xdg);
    else if (home && home[0] == '/')
        snprintf(dir, sizeof dir, "%s/.local/state/agentbudget", home);
    else
        return -1;
    size_t n = strlen(dir);
    snprintf(dir + n, sizeof dir - n, "/claude-code");
    for (char *p = dir + 1; *p; p++) /* mkdir -p */
        if (*p == '/') {
            *p = '\0';
            mkdir(dir, 0700);
            *p = '/';
        }
    mkdir(dir, 0700);
    const char *base = strrchr(transcript, '/');
    snprintf(out, size, "%s/%016" PRIx64 "-%.60s.offset", dir, fnv64(transcript),
             base ? base + 1 : transcript);
    return 0;
}

/* A message whose lines were charged lately: what its lines have been charged so far. Claude
 * Code writes one line per content block of a reply, each with the reply's usage as it stood
 * then, and a streamed reply's output_tokens grow from line to line; the state file keeps the
 * last messages charged, so that a line read by a later call is charged only what it adds. */
#define RECENT_MESSAGES 16
#define STATE_BYTES_MAX                                                                            \
    (64 + sizeof "@model \n" + AB_NAME_BYTES_MAX + sizeof "@file \n" + 64 +                        \
     RECENT_MESSAGES * (AB_TRANSCRIPT_ID_BYTES_MAX + 5 * 21 + 2))

typedef struct {
    char id[AB_TRANSCRIPT_ID_BYTES_MAX + 1];
    ab_usage charged;
} message_charged;

typedef struct {
    cli *c;
    const char *budget;
    const char *transcript;
    int64_t charged, cost_nusd;
    int failed;
    message_charged recent[RECENT_MESSAGES]; /* recent[next - 1] is the newest */
    size_t recent_count, next;
    ab_transcript_entry pending; /* the lines of one message read so far, merged */
    int has_pending;
    struct message_logs *logs; /* what the store's log says replies were charged (loaded once) */
    char model[AB_NAME_BYTES_MAX]; /* of the newest reply read (or saved in the state), "" none */
    char mark[64]; /* the file read and the bytes before the offset (transcript_mark), "" none */
} charge_ctx;

static message_charged *recent_find(charge_ctx *k, const char *id)
{
    for (size_t i = 0; i < k->recent_count; i++) {
        message_charged *m = &k->recent[(k->next + RECENT_MESSAGES - 1 - i) % RECENT_MESSAGES];
        if (!strcmp(m->id, id))
            return m;
    }
    return NULL;
}

static void recent_add(charge_ctx *k, const char *id, const ab_usage *u)
{
    message_charged *m = &k->recent[k->next];
    snprintf(m->id, sizeof m->id, "%s", id);
    m->charged = *u;
    k->next = (k->next + 1) % RECENT_MESSAGES;
    if (k->recent_count < RECENT_MESSAGES)
        k->recent_count++;
}

/* The state file: the offset on its first line, then one line per recent message, oldest first:
 * "ID INPUT OUTPUT CACHE_WRITE_5M CACHE_WRITE_1H CACHE_READ". A file of an older agentbudget
 * (the offset alone) reads as no recent messages. */
/* What tells the transcript read up to offset from another file put in its place, or the same
 * file rewritten: its device and inode, and a hash of the (up to) 64 bytes before the offset,
 * which an append does not change. "" if it cannot be read (the read says why, if it matters). */
static void transcript_mark(const char *path, int64_t offset, char *out, size_t size)
{
    out[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat sb;
    if (fd < 0)
        return;
    char tail[65];
    int64_t n = offset < 64 ? offset : 64;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
        pread(fd, tail, (size_t)n, (off_t)(offset - n)) == (ssize_t)n) {
        uint64_t h = 1469598103934665603ULL;
        for (int64_t i = 0; i < n; i++)
            h = (h ^ (unsigned char)tail[i]) * 1099511628211ULL;
        snprintf(out, size, "%jx:%jx:%016" PRIx64, (uintmax_t)sb.st_dev, (uintmax_t)sb.st_ino, h);
    }
    close(fd);
}

/* 1 if a reply's model name is one the library takes (1-127 bytes, no control characters);
 * else the reply is charged as a model with no price, at $0, as report counts it. */
static int model_usable(const char *m)
{
    size_t n = 0;
    for (; m[n]; n++)
        if ((unsigned char)m[n] < 0x20 || m[n] == 0x7f)
            return 0;
    return n > 0 && n < AB_NAME_BYTES_MAX;
}

/* The state file: the offset read to, a line "@file MARK" (transcript_mark), a line
 * "@model NAME" (the newest reply's model), and a line "ID INPUT OUTPUT CW5M CW1H CR" for each
 * recent reply and what it was charged. */
static int64_t state_parse(char *buf, charge_ctx *k)
{
    int64_t offset = 0;
    char *save = NULL, *line = strtok_r(buf, "\n", &save);
    if (!line || ab_tokens_parse(line, &offset))
        return 0;
    while ((line = strtok_r(NULL, "\n", &save))) {
        if (!strncmp(line, "@file ", 6)) {
            snprintf(k->mark, sizeof k->mark, "%s", line + 6);
            continue;
        }
        if (!strncmp(line, "@model ", 7) && model_usable(line + 7)) {
            snprintf(k->model, sizeof k->model, "%s", line + 7);
            continue;
        }
        char id[AB_TRANSCRIPT_ID_BYTES_MAX + 1];
        ab_usage u;
        if (sscanf(line, "%255s %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64, id,
                   &u.input, &u.output, &u.cache_write_5m, &u.cache_write_1h, &u.cache_read) == 6)
            recent_add(k, id, &u);
    }
    return offset;
}

/* 1 if s is 1-96 bytes of printable ASCII without spaces: what a key and a state line take. */
static int plain_id(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f)
            return 0;
    return n > 0 && n <= 96;
}

static int state_format(const charge_ctx *k, int64_t offset, char *out, size_t size)
{
    int n = snprintf(out, size, "%" PRId64 "\n", offset);
    if (k->mark[0] && n > 0 && (size_t)n < size)
        n += snprintf(out + n, size - (size_t)n, "@file %s\n", k->mark);
    if (k->model[0] && n > 0 && (size_t)n < size)
        n += snprintf(out + n, size - (size_t)n, "@model %s\n", k->model);
    for (size_t i = k->recent_count; i > 0 && n > 0 && (size_t)n < size; i--) {
        const message_charged *m = &k->recent[(k->next + RECENT_MESSAGES - i) % RECENT_MESSAGES];
        const ab_usage *u = &m->charged;
        if (!plain_id(m->id)) /* it would not read back as one line of one word: not kept */
            continue;
        n += snprintf(out + n, size - (size_t)n,
                      "%s %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 "\n", m->id,
                      u->input, u->output, u->cache_write_5m, u->cache_write_1h, u->cache_read);
    }
    return n > 0 && (size_t)n < size ? n : -1;
}

/* The idempotency key of a message's first charge ("cc:ID", or a hash of a long or spaced id),
 * and of each growth after it (":" and a hash of what the message has been charged with it), so
 * that reading the same lines again, after a crash or a lost state file, charges nothing. */
static void message_key(const char *id, const ab_usage *grown_to, char *out, size_t size)
{
    int n = plain_id(id) ? snprintf(out, size, "cc:%s", id)
                         : snprintf(out, size, "cc#%016" PRIx64, fnv64(id));
    if (grown_to && n > 0 && (size_t)n < size) {
        char v[128];
        snprintf(v, sizeof v, "%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64,
                 grown_to->input, grown_to->output, grown_to->cache_write_5m,
                 grown_to->cache_write_1h, grown_to->cache_read);
        snprintf(out + n, size - (size_t)n, ":%016" PRIx64, fnv64(v));
    }
}

static int64_t grow(int64_t *charged, int64_t now)
{
    int64_t d = now > *charged ? now - *charged : 0;
    *charged += d;
    return d;
}

/* What the session's replies have been charged, from the store's log: each charge of the
 * session's budget under a reply's key ("cc:ID", "cc#HASH") or one of its growth keys (the same
 * and ":" and 16 hex digits), the daemon's token prefix ("t_" and 16 hex digits and ":") aside,
 * summed by reply. Read once per call, the first time the state file does not know a reply: a
 * lost state file then costs one read of the log, not one per reply. */
typedef struct {
    char key[AB_KEY_BYTES_MAX + 1];
    ab_usage sum;
} logged;

struct message_logs {
    logged *v;
    size_t n, cap, sorted; /* v[0..sorted) sorted by key; after it, charges made since */
    int64_t last_id, page;
};

static int hex16(const char *s)
{
    return strspn(s, "0123456789abcdef") == 16 && !s[16];
}

/* The reply's key that a charge's key k belongs to, into out. */
static void reply_key(const char *k, char *out, size_t size)
{
    if (!strncmp(k, "t_", 2) && strlen(k) > 19 && k[18] == ':')
        k += 19;
    size_t n = strlen(k);
    if (n > 17 && k[n - 17] == ':' && hex16(k + n - 16))
        n -= 17;
    snprintf(out, size, "%.*s", (int)n, k);
}

static int logs_add(struct message_logs *l, const char *key, const ab_usage *u)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 256;
        logged *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return AB_ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    logged *x = &l->v[l->n++];
    reply_key(key, x->key, sizeof x->key);
    x->sum = *u;
    return AB_OK;
}

static int log_event(const ab_event *e, void *v)
{
    struct message_logs *l = v;
    char reply[AB_KEY_BYTES_MAX + 1];
    l->last_id = e->id;
    l->page++;
    reply_key(e->key, reply, sizeof reply);
    if (strncmp(reply, "cc:", 3) && strncmp(reply, "cc#", 3)) /* a hook's reply keys only */
        return 0;
    return logs_add(l, e->key, &e->usage) ? 1 : 0;
}

static int logged_cmp(const void *a, const void *b)
{
    return strcmp(((const logged *)a)->key, ((const logged *)b)->key);
}

static int logs_load(charge_ctx *k)
{
    struct message_logs *l = calloc(1, sizeof *l);
    if (!l)
        return AB_ENOMEM;
    k->logs = l;
    ab_event_query q = {.budget = k->budget, .op = "charge", .limit = AB_EVENTS_PAGE_MAX};
    do { /* page by page: a long session has more charges than a page holds */
        l->page = 0;
        q.after_id = l->last_id;
        int rc = be_events(k->c, &q, log_event, l);
        if (rc)
            return rc > 0 ? AB_ENOMEM : rc;
    } while (l->page == AB_EVENTS_PAGE_MAX);
    if (l->n) /* qsort takes no NULL, even for none */
        qsort(l->v, l->n, sizeof *l->v, logged_cmp);
    l->sorted = l->n;
    return AB_OK;
}

static void usage_add(ab_usage *to, const ab_usage *u)
{
    int64_t *t[] = {&to->input, &to->output, &to->cache_write_5m, &to->cache_write_1h,
                    &to->cache_read};
    const int64_t f[] = {u->input, u->output, u->cache_write_5m, u->cache_write_1h, u->cache_read};
    for (size_t i = 0; i < 5; i++)
        if (__builtin_add_overflow(*t[i], f[i], t[i]))
            *t[i] = INT64_MAX;
}

/* What the reply with this key was charged in the session's budget: 1 and *out if it was
 * charged there, 0 if never (its charges are another session's: a resumed session's copy). */
static int logs_find(const struct message_logs *l, const char *key, ab_usage *out)
{
    int found = 0;
    memset(out, 0, sizeof *out);
    logged probe;
    snprintf(probe.key, sizeof probe.key, "%s", key);
    logged *hit = l->sorted ? bsearch(&probe, l->v, l->sorted, sizeof *l->v, logged_cmp) : NULL;
    while (hit && hit > l->v && !strcmp(hit[-1].key, key))
        hit--;
    for (; hit && hit < l->v + l->sorted && !strcmp(hit->key, key); hit++) {
        found = 1;
        usage_add(out, &hit->sum);
    }
    for (size_t i = l->sorted; i < l->n; i++)
        if (!strcmp(l->v[i].key, key)) {
            found = 1;
            usage_add(out, &l->v[i].sum);
        }
    return found;
}

static void logs_free(charge_ctx *k)
{
    if (k->logs)
        free(k->logs->v);
    free(k->logs);
    k->logs = NULL;
}

/* One message (its lines read in a row, merged). A message is charged once, under its message
 * id: in full the first time, and when a later line of it comes (the same reply read by a later
 * call, or a subagent's replay of it under another requestId) only what that line has more of
 * than was charged before. A line without a message id is charged under the transcript and the
 * line's offset. */
static int charge_message(charge_ctx *k, const ab_transcript_entry *e)
{
    char key[AB_KEY_BYTES_MAX + 1];
    ab_usage usage = e->usage, grown;
    message_charged *m = e->message_id[0] ? recent_find(k, e->message_id) : NULL;
    if (m) {
        grown = m->charged;
        usage.input = grow(&grown.input, e->usage.input);
        usage.output = grow(&grown.output, e->usage.output);
        usage.cache_write_5m = grow(&grown.cache_write_5m, e->usage.cache_write_5m);
        usage.cache_write_1h = grow(&grown.cache_write_1h, e->usage.cache_write_1h);
        usage.cache_read = grow(&grown.cache_read, e->usage.cache_read);
        if (!memcmp(&grown, &m->charged, sizeof grown))
            return 0; /* nothing new: the same line again, or a replay */
        message_key(e->message_id, &grown, key, sizeof key);
    } else if (e->message_id[0]) {
        message_key(e->message_id, NULL, key, sizeof key);
    } else {
        snprintf(key, sizeof key, "cc@%016" PRIx64 ":%" PRId64, fnv64(k->transcript), e->offset);
    }
    ab_decision d;
    const char *model = e->model[0] ? e->model : NULL;
    int rc = model && !model_usable(model)
                 ? AB_EUNKNOWNMODEL /* a name no store takes */
                 : be_charge(k->c, k->budget, model, m ? &m->charged : NULL, &usage, key, &d);
    if (rc == AB_EUNKNOWNMODEL) { /* like ccusage, an unknown model costs 0: keep its tokens */
        fprintf(stderr, "agentbudget: no price for model '%s': its tokens are counted at $0\n",
                e->model);
        rc = be_charge(k->c, k->budget, "<synthetic>", NULL, &usage, key, &d);
    }
    if (rc == AB_ECONFLICT && !m && e->message_id[0]) {
        /* charged before with other numbers, and the state file does not say what (it was lost,
         * or keeps only the last replies): the log says, and only the growth is charged, or a
         * line that grew since would go uncharged. A reply never charged to this session's
         * budget is another session's (a resumed session's copy): what was charged stands */
        ab_usage so_far;
        if (!k->logs && (rc = logs_load(k))) {
            k->failed = rc;
            return rc;
        }
        if (!logs_find(k->logs, key, &so_far))
            return 0;
        recent_add(k, e->message_id, &so_far);
        return charge_message(k, e); /* now a growth of a reply known */
    }
    if (rc == AB_ECONFLICT) /* a growth key with other numbers: what was charged stands */
        return 0;
    if (rc) {
        k->failed = rc;
        return rc;
    }
    if (k->logs && !d.replayed && logs_add(k->logs, key, &usage)) /* the log, as it is now */
        return k->failed = AB_ENOMEM;
    if (m)
        m->charged = grown;
    else if (e->message_id[0])
        recent_add(k, e->message_id, &e->usage);
    if (!d.replayed) {
        k->charged++;
        k->cost_nusd += d.cost_nusd;
    }
    return 0;
}

/* The lines of a message in a row are one charge of each count's largest figure (the last, for
 * a streamed reply's output), so that a message counts one request. */
static int charge_flush(charge_ctx *k)
{
    if (!k->has_pending)
        return 0;
    k->has_pending = 0;
    return charge_message(k, &k->pending);
}

static int charge_entry(const ab_transcript_entry *e, void *v)
{
    charge_ctx *k = v;
    ab_transcript_entry *p = &k->pending;
    /* the model in use: a role's model rules are checked against it ("<synthetic>" lines are
     * Claude Code's own, made by no model). A name no store takes is checked as it reads with
     * '?' for its control characters: 'claude-opus-4-5\t' is still denied by claude-opus-*, and
     * an allow list does not take it; the previous reply's model would let it through */
    if (e->model[0] && strcmp(e->model, "<synthetic>")) {
        snprintf(k->model, sizeof k->model, "%s", e->model);
        for (char *m = k->model; *m; m++)
            if ((unsigned char)*m < 0x20 || *m == 0x7f)
                *m = '?';
    }
    if (k->has_pending && e->message_id[0] && !strcmp(e->message_id, p->message_id)) {
        int64_t *to[] = {&p->usage.input, &p->usage.output, &p->usage.cache_write_5m,
                         &p->usage.cache_write_1h, &p->usage.cache_read};
        const int64_t from[] = {e->usage.input, e->usage.output, e->usage.cache_write_5m,
                                e->usage.cache_write_1h, e->usage.cache_read};
        for (size_t i = 0; i < 5; i++)
            if (from[i] > *to[i])
                *to[i] = from[i];
        return 0;
    }
    int rc = charge_flush(k);
    if (rc)
        return rc;
    if (!e->message_id[0])
        return charge_message(k, e);
    *p = *e;
    k->has_pending = 1;
    return 0;
}

/* Charges what was appended to one transcript since the last call, under a lock on its state
 * file, in one group commit. model (size AB_NAME_BYTES_MAX): the model of its newest reply, ""
 * if none is known. */
static int charge_transcript(cli *c, const char *budget, const char *transcript, char *model)
{
    char state[PATH_MAX + 128];
    if (offset_file(transcript, state, sizeof state))
        return usage_error(c, "HOME: must be set to keep the transcript offsets");
    int fd = open(state, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || flock(fd, LOCK_EX)) {
        snprintf(c->remote_err, sizeof c->remote_err, "cannot open '%.600s': %s", state,
                 strerror(errno));
        if (fd >= 0)
            close(fd);
        return AB_ESTORE;
    }
    char buf[STATE_BYTES_MAX + 1];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = '\0';
    charge_ctx k = {.logs = NULL};
    int64_t offset = 0, next = 0;
    int rc = AB_OK;
    /* one group commit for the lot on a local store (the daemon does its own); a batch the store
     * voided (PostgreSQL aborted one of its charges: a deadlock) runs again, each charge alone */
    for (int attempt = 0; attempt < 2 && (attempt == 0 || rc == AB_EREPLAY); attempt++) {
        logs_free(&k);
        k = (charge_ctx){.c = c, .budget = budget, .transcript = transcript};
        offset = state_parse(buf, &k);
        /* another file in its place (moved there), or the file rewritten: read it from the
         * start (what was charged of it is found by its keys); a shorter one the read finds */
        char now[sizeof k.mark];
        if (offset > 0 && k.mark[0]) {
            transcript_mark(transcript, offset, now, sizeof now);
            if (now[0] && strcmp(now, k.mark))
                offset = 0;
        }
        next = 0;
        int batch = !c->url && attempt == 0;
        rc = batch ? ab_store_batch_begin(c->st) : AB_OK;
        if (!rc) {
            ab_transcript_stats stats = {0};
            rc = ab_transcript_read(transcript, offset, AB_TRANSCRIPT_LENIENT, charge_entry, &k,
                                    &stats, &next);
            if (rc == AB_ECONFLICT) /* the file was replaced: start again from its beginning */
                rc = ab_transcript_read(transcript, 0, AB_TRANSCRIPT_LENIENT, charge_entry, &k,
                                        &stats, &next);
            if (rc == AB_OK)
                rc = charge_flush(&k);
            if (rc == AB_ENOTFOUND) { /* no transcript yet: nothing to charge */
                rc = AB_OK;
                next = offset;
            } else if (rc == AB_ESTORE && !k.failed) { /* the read failed, not the store */
                snprintf(c->remote_err, sizeof c->remote_err, "cannot read transcript '%.600s': %s",
                         transcript, transcript_errstr(stats.sys_errno));
            }
            if (batch && rc)
                ab_store_batch_abort(c->st);
            else if (batch)
                rc = ab_store_batch_commit(c->st);
            /* bad lines are said, not dropped in silence: what they used is not charged */
            if (rc == AB_OK && stats.bad_lines)
                fprintf(stderr,
                        "agentbudget: transcript '%s': %" PRId64
                        " bad line(s) skipped, not charged "
                        "(the first at byte %" PRId64 ": %s)\n",
                        transcript, stats.bad_lines, stats.bad_line_offset,
                        stats.bad_reason ? stats.bad_reason : "?");
        }
    }
    if (rc == AB_OK && next > 0)
        transcript_mark(transcript, next, k.mark, sizeof k.mark);
    if (rc == AB_OK && next != offset) { /* after the commit: a crash before it re-reads */
        int len = state_format(&k, next, buf, sizeof buf);
        if (len < 0 || pwrite(fd, buf, (size_t)len, 0) != len || ftruncate(fd, len))
            fprintf(stderr, "agentbudget: cannot save the offset in '%s'\n", state);
    }
    snprintf(model, AB_NAME_BYTES_MAX, "%s", k.model);
    logs_free(&k);
    close(fd);
    return rc;
}

/* A role name as the library takes it (1-127 bytes, no control characters), checked before
 * anything runs: a bad one from the config or --role is bad input, not a failing store. */
static int check_role(cli *c, const char *role)
{
    size_t n = strlen(role);
    if (n == 0 || n >= AB_NAME_BYTES_MAX)
        return usage_error(c, "role: must be 1-%d bytes, not '%s'", AB_NAME_BYTES_MAX - 1, role);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)role[i] < 0x20 || role[i] == 0x7f)
            return usage_error(c, "role: no control characters");
    return 0;
}

/* The budget of a session: created on first sight, with the role's default limits. */
static int session_budget(cli *c, const hook_config *cfg, const char *session, char *out,
                          size_t size)
{
    char seg[80];
    if (ab_path_validate(session) == AB_OK && !strchr(session, '/'))
        snprintf(seg, sizeof seg, "%.64s", session);
    else /* an id that is no path segment still gets a stable budget of its own */
        snprintf(seg, sizeof seg, "s-%016" PRIx64, fnv64(session));
    if (snprintf(out, size, "%s/%s", cfg->parent, seg) >= (int)size) { /* 8 long segments */
        snprintf(c->remote_err, sizeof c->remote_err,
                 "parent: '%.600s' leaves no room for the session's budget", cfg->parent);
        return AB_EINVAL;
    }
    ab_budget_status b;
    int rc = be_budget_get(c, out, &b);
    if (rc != AB_ENOTFOUND)
        return rc;
    ab_budget_spec spec = {.role = cfg->role};
    return be_budget_set(c, out, &spec, NULL, NULL, NULL);
}

/* The reason a limit denied the hook's check: what is left of it, not the one token (priced,
 * "requested $0.000015") the check asked for to see whether anything is. */
static void limit_reached(const ab_decision *d, char *buf, size_t size)
{
    char left[48], of[48];
    snprintf(buf, size, "agentbudget: %s limit of '%s' is reached: %s left of %s",
             ab_window_name(d->window), d->budget,
             amount_text(d->metric, d->remaining, 1, left, sizeof left),
             amount_text(d->metric, d->limit, 1, of, sizeof of));
}

/* stop: the budget is spent, not only this tool forbidden: Claude Code stops the session's turn
 * ("continue": false) instead of letting Claude go on, and pay, between denials. */
static void print_deny(const char *event, const char *reason, int stop)
{
    json_t *o;
    if (!strcmp(event, "PreToolUse"))
        o = json_pack("{s:{s:s,s:s,s:s}}", "hookSpecificOutput", "hookEventName", "PreToolUse",
                      "permissionDecision", "deny", "permissionDecisionReason", reason);
    else
        o = json_pack("{s:s,s:s}", "decision", "block", "reason", reason);
    if (o && stop) {
        json_object_set_new(o, "continue", json_false());
        json_object_set_new(o, "stopReason", json_string(reason));
    }
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (s)
        puts(s);
    free(s);
    json_decref(o);
}

/* The tool as a role's patterns see it: Bash(<command>) for Bash, with the whole command, else
 * the tool's name. malloc'd; NULL if there is no tool name (or no memory). */
static char *tool_operation(json_t *ev)
{
    const char *tool = json_string_value(json_object_get(ev, "tool_name"));
    const char *cmd =
        json_string_value(json_object_get(json_object_get(ev, "tool_input"), "command"));
    if (!tool || !*tool)
        return NULL;
    if (strcmp(tool, "Bash") != 0 || !cmd)
        return strdup(tool);
    size_t size = strlen(cmd) + sizeof "Bash()";
    char *op = malloc(size);
    if (op)
        snprintf(op, size, "Bash(%s)", cmd);
    return op;
}

int hook_event_parse(cli *c, const char *in, size_t n, json_t **ev)
{
    json_error_t err;
    /* a key given twice is refused: which one counts (the last, for jansson) would be a guess */
    *ev = json_loadb(in, n, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
    if (!*ev && json_error_code(&err) == json_error_out_of_memory) {
        fprintf(stderr, "error: hook input: out of memory\n");
        return EXIT_FAILURE_STORE;
    }
    char why[256];
    return object_or_why(ev, &err, why, sizeof why) ? usage_error(c, "hook input: %s", why) : 0;
}

/* An event from inside a subagent (agent_id set; Claude Code sends agent_transcript_path only
 * with SubagentStop) names the subagent's transcript by where Claude Code keeps it:
 * <dir>/<session>.jsonl -> <dir>/<session>/subagents/agent-<agent_id>.jsonl. 1 if it did. */
static int subagent_transcript(json_t *ev, const char *transcript, char *out, size_t size)
{
    const char *id = json_string_value(json_object_get(ev, "agent_id"));
    size_t n = transcript ? strlen(transcript) : 0, idn = id ? strlen(id) : 0;
    if (!idn || idn > 128 ||
        id[strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                      "0123456789_-")] ||
        n <= 6 || strcmp(transcript + n - 6, ".jsonl"))
        return 0;
    return snprintf(out, size, "%.*s/subagents/agent-%s.jsonl", (int)(n - 6), transcript, id) <
           (int)size;
}

/* The fields the hook reads, of the types Claude Code sends: one of another type is refused,
 * not read as absent (a Bash tool_input that is no object was checked as "Bash", which no
 * deny pattern for a command matches). */
static int fields_typed(cli *c, json_t *ev)
{
    static const char *const strings[] = {"transcript_path", "agent_transcript_path", "agent_id",
                                          "cwd", "tool_name"};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        json_t *v = json_object_get(ev, strings[i]);
        if (v && !json_is_string(v) && !json_is_null(v))
            return usage_error(c, "hook input: %s: must be a string", strings[i]);
    }
    json_t *input = json_object_get(ev, "tool_input");
    if (input && !json_is_object(input) && !json_is_null(input))
        return usage_error(c, "hook input: tool_input: must be an object");
    const char *tool = json_string_value(json_object_get(ev, "tool_name"));
    const char *event = json_string_value(json_object_get(ev, "hook_event_name"));
    if (tool && !strcmp(tool, "Bash") && !strcmp(event, "PreToolUse") &&
        !json_is_string(json_object_get(input, "command")))
        return usage_error(c, "hook input: tool_input.command: required for Bash, a string");
    return 0;
}

int hook_event_run(cli *c, const hook_config *cfg, json_t *ev)
{
    const char *event = json_string_value(json_object_get(ev, "hook_event_name"));
    const char *session = json_string_value(json_object_get(ev, "session_id"));
    if (!event || !*event)
        return usage_error(c, "hook input: hook_event_name: required, a string");
    if (!session || !*session || strlen(session) > 255)
        return usage_error(c, "hook input: session_id: required, a string of 1-255 bytes");
    if (fields_typed(c, ev))
        return EXIT_USAGE;
    int decides = !strcmp(event, "PreToolUse") || !strcmp(event, "UserPromptSubmit");
    char budget[AB_PATH_BYTES_MAX + 1], reason[1200];
    int rc = store_open(c);
    if (rc == EXIT_USAGE) /* a malformed store URL is bad input (said on stderr), not a store */
        return rc;        /* that failed: no on_error policy applies */
    if (!rc)
        rc = session_budget(c, cfg, session, budget, sizeof budget);
    int checkable = !rc; /* the store is there and the session's budget: a check can be made */
    /* charge what the session used so far, then decide on the freshest figures */
    char agent_path[PATH_MAX];
    const char *transcripts[] = {json_string_value(json_object_get(ev, "transcript_path")),
                                 json_string_value(json_object_get(ev, "agent_transcript_path"))};
    if (!transcripts[1] && subagent_transcript(ev, transcripts[0], agent_path, sizeof agent_path))
        transcripts[1] = agent_path;
    /* the model the session (or, in a subagent, the subagent) is using: what its newest reply
     * was made by */
    char models[2][AB_NAME_BYTES_MAX] = {"", ""};
    for (int i = 0; i < 2 && !rc; i++)
        if (transcripts[i] && *transcripts[i])
            rc = charge_transcript(c, budget, transcripts[i], models[i]);
    const char *model = models[1][0] ? models[1] : models[0][0] ? models[0] : NULL;
    if (rc) {
        const char *msg = c->remote_err[0] ? c->remote_err : c->st ? ab_store_errmsg(c->st) : "";
        if (decides && cfg->deny_on_error) {
            snprintf(reason, sizeof reason,
                     "agentbudget: cannot charge the session (%s); denied by on_error=deny", msg);
            print_deny(event, reason, 0);
            return 0;
        }
        fprintf(stderr, "agentbudget: cannot charge the session: %s%s\n", msg,
                !decides    ? ""
                : checkable ? " (on_error=allow: decided without it)"
                            : " (on_error=allow: allowed)");
        if (!decides)
            return EXIT_FAILURE_STORE;
        if (!checkable)
            return 0;
        /* what was charged before still counts: a spent session stays denied, an unreadable
         * transcript is no way past its limit */
        c->remote_err[0] = '\0';
        rc = 0;
    }
    if (!decides)
        return 0;
    ab_decision d;
    if (!strcmp(event, "PreToolUse")) {
        const char *tool = json_string_value(json_object_get(ev, "tool_name"));
        if (!tool || !*tool)
            return usage_error(c, "hook input: tool_name: required for PreToolUse");
        char *op = tool_operation(ev);
        ab_permission_context pc = {.model = model, .estimated_tokens = 1};
        rc = op ? be_permission(c, budget, op, &pc, &d) : AB_ENOMEM;
        free(op);
        /* a model with no price (newer than the table): the role has allowed the tool and the
         * model by then (it decides first); the budget is asked at its own model, as its
         * replies are charged at $0 */
        if (rc == AB_EUNKNOWNMODEL) {
            c->remote_err[0] = '\0';
            rc = be_check(c, budget, NULL, NULL, 1, &d);
        }
    } else {
        rc = be_check(c, budget, NULL, NULL, 1, &d);
    }
    if (rc) {
        const char *msg = c->remote_err[0] ? c->remote_err : c->st ? ab_store_errmsg(c->st) : "";
        /* a call the check refuses (a command longer than a role can check, through the daemon
         * one larger than its body limit) is denied whatever on_error says: on_error is about a
         * failing store, and allowing what could not be checked would step around the role */
        int unchecked = rc == AB_EINVAL || rc == AB_ELIMIT || rc == AB_EOVERFLOW;
        if (unchecked || cfg->deny_on_error) {
            snprintf(reason, sizeof reason, "agentbudget: %.900s; denied%s", msg,
                     unchecked ? " (this call cannot be checked)" : " by on_error=deny");
            print_deny(event, reason, 0);
        } else {
            fprintf(stderr, "agentbudget: the budget store failed: %s (on_error=allow: allowed)\n",
                    msg);
        }
        return 0;
    }
    if (!d.allowed) {
        if (d.limit >= 0) /* a limit: the check asked for one token, which nobody asked for */
            limit_reached(&d, reason, sizeof reason);
        else
            snprintf(reason, sizeof reason, "agentbudget: %s", d.reason);
        print_deny(event, reason, d.limit >= 0 && !strcmp(event, "PreToolUse"));
    }
    return 0;
}

static const opt_spec cc_opts[] = {{"parent", 1, 0}, {"role", 1, 0},      {"on-error", 1, 0},
                                   {"config", 1, 0}, {"no-config", 0, 0}, {"default-store", 1, 0},
                                   {NULL, 0, 0}};

/* The configuration: the flags of specs in p; else --config FILE; else (unless --no-config) the
 * project's .claude/agentbudget.json (project NULL: none), then the user's; else the defaults.
 * A store from a file goes to c, unless --store or AGENTBUDGET_STORE named one. */
static int config_resolve(cli *c, const parsed *p, const opt_spec *specs, const char *project,
                          hook_config *cfg)
{
    *cfg = (hook_config){.parent = "claude-code", .role = "claude-code", .deny_on_error = 1};
    char path[PATH_MAX];
    int found = 0, rc = 0;
    const char *config = opt(p, specs, "config");
    if (config && p->set[opt_index(specs, "no-config")])
        return usage_error(c, "--config and --no-config: give one");
    if (config) {
        if ((rc = config_read(c, config, cfg, &found)) ||
            (!found && (rc = usage_error(c, "--config: no file '%s'", config))))
            return rc;
    } else if (!p->set[opt_index(specs, "no-config")]) { /* like settings.json: project, user */
        const char *home = getenv("HOME");
        if (project) {
            snprintf(path, sizeof path, "%s/.claude/agentbudget.json", project);
            rc = config_read(c, path, cfg, &found);
        }
        if (!rc && !found && home) {
            snprintf(path, sizeof path, "%s/.claude/agentbudget.json", home);
            rc = config_read(c, path, cfg, &found);
        }
        if (rc)
            return rc;
    }
    const char *v;
    if ((v = opt(p, specs, "default-store"))) /* as a file's store: --store, the environment win */
        snprintf(cfg->store, sizeof cfg->store, "%s", v);
    if ((v = opt(p, specs, "parent")))
        snprintf(cfg->parent, sizeof cfg->parent, "%s", v);
    if ((v = opt(p, specs, "role")))
        snprintf(cfg->role, sizeof cfg->role, "%s", v);
    if ((v = opt(p, specs, "on-error"))) {
        if (strcmp(v, "deny") && strcmp(v, "allow"))
            return usage_error(c, "--on-error: deny or allow");
        cfg->deny_on_error = !strcmp(v, "deny");
    }
    if (check_path(c, "parent", cfg->parent) || check_role(c, cfg->role))
        return EXIT_USAGE;
    if (cfg->store[0] && (!c->store_url || !*c->store_url)) {
        c->store_url = cfg->store;
        c->store_from = "config: store";
    }
    return 0;
}

/* The configuration, then the event. */
static int hook_claude_code_run(cli *c, const parsed *p, json_t *ev)
{
    const char *cwd = json_string_value(json_object_get(ev, "cwd"));
    const char *proj = getenv("CLAUDE_PROJECT_DIR");
    hook_config cfg;
    int rc = config_resolve(c, p, cc_opts, proj ? proj : cwd ? cwd : ".", &cfg);
    return rc ? rc : hook_event_run(c, &cfg, ev);
}

static int hook_claude_code(cli *c, int argc, char **argv)
{
    parsed p;
    int rc = args_parse(c, command_find("hook"), cc_opts, argc, argv, &p, 0, 0);
    if (rc)
        return rc;
    /* a daemon that does not answer is given 10 s, then on_error decides: well inside Claude
     * Code's own timeout for a hook (60 s in some of its versions), past which it is not the
     * hook that decides, and each tool call waits no longer than a locked local store makes it */
    if (!c->timeout_s)
        c->timeout_s = 10;
    c->deadline_ms = mono_ms() + c->timeout_s * 1000LL; /* for all of its requests together */
    /* stdin: one event */
    char *in;
    size_t n;
    int err = read_all(stdin, HOOK_INPUT_BYTES_MAX, &in, &n);
    if (err == EFBIG)
        return usage_error(c, "hook input: more than %d bytes on stdin", HOOK_INPUT_BYTES_MAX);
    if (err) { /* not the input's fault: a failure (3), as a store's would be */
        fprintf(stderr, "error: hook input: cannot read stdin: %s\n", strerror(err));
        return EXIT_FAILURE_STORE;
    }
    json_t *ev;
    rc = hook_event_parse(c, in, n, &ev);
    free(in);
    if (rc)
        return rc;
    rc = c->env_fault[0] ? usage_error(c, "%s", c->env_fault) : hook_claude_code_run(c, &p, ev);
    const char *event = json_string_value(json_object_get(ev, "hook_event_name"));
    if (rc == EXIT_USAGE && event && strcmp(event, "PreToolUse") &&
        strcmp(event, "UserPromptSubmit"))
        rc = EXIT_HOOK_NONBLOCKING;
    json_decref(ev);
    return rc;
}

/* ---- hook install / uninstall ---- */

static const char *const hook_events[] = {"PreToolUse", "UserPromptSubmit", "PostToolUse",
                                          "Stop",       "SubagentStop",     "SessionEnd"};

static int is_ours(json_t *hook)
{
    const char *cmd = json_string_value(json_object_get(hook, "command"));
    return cmd && strstr(cmd, "agentbudget") && strstr(cmd, HOOK_COMMAND);
}

/* Appends s to out (of size, holding *o bytes), quoted for sh -c where it needs it: in single
 * quotes when it has a character the shell would split or expand. 0, or -1 if it did not fit. */
static int sh_word(char *out, size_t size, size_t *o, const char *s)
{
    static const char plain[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._+-:@=,";
    int quote = !*s || s[strspn(s, plain)];
    size_t need = strlen(s) * 4 + 3;
    if (*o + need + 1 > size)
        return -1;
    if (quote)
        out[(*o)++] = '\'';
    for (const char *p = s; *p; p++) {
        if (*p == '\'') { /* ' -> '\'' */
            memcpy(out + *o, "'\\''", 4);
            *o += 4;
        } else {
            out[(*o)++] = *p;
        }
    }
    if (quote)
        out[(*o)++] = '\'';
    out[*o] = '\0';
    return 0;
}

/* The command that runs this agentbudget's hook with cfg pinned: its flags, and --no-config, so
 * that no file the session can write changes it (Claude Code reads its hooks' commands when a
 * session starts); store: a store URL to name with --default-store (which AGENTBUDGET_URL and
 * AGENTBUDGET_STORE in the hook's environment still beat, as a file's store), or NULL. Values
 * as --name=VALUE: one that starts with "--" is still the value. -1 if it does not fit. */
static int hook_command(const hook_config *cfg, const char *store, char *out, size_t size)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0)
        self[n] = '\0';
    else
        snprintf(self, sizeof self, "agentbudget");
    const char *names[] = {" " HOOK_COMMAND " --parent=", " --role=", " --on-error=",
                           " --no-config", store ? " --default-store=" : NULL};
    const char *values[] = {cfg->parent, cfg->role, cfg->deny_on_error ? "deny" : "allow", NULL,
                            store};
    size_t o = 0;
    out[0] = '\0';
    if (sh_word(out, size, &o, self))
        return -1;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && names[i]; i++) {
        size_t len = strlen(names[i]);
        if (o + len >= size)
            return -1;
        memcpy(out + o, names[i], len + 1);
        o += len;
        if (values[i] && sh_word(out, size, &o, values[i]))
            return -1;
    }
    return 0;
}

/* Is this entry one that hook install wrote: an agentbudget's path (absolute, plain or in
 * single quotes), then the hook's words? Such an entry is made this install's command (this
 * agentbudget, the configuration resolved now); a command of the user's own
 * (`env X=1 agentbudget hook claude-code`) is left alone. */
static int hook_written_by_install(json_t *hook)
{
    const char *cmd = json_string_value(json_object_get(hook, "command"));
    const char *at = cmd ? strstr(cmd, " " HOOK_COMMAND) : NULL;
    if (!at)
        return 0;
    size_t len = (size_t)(at - cmd);
    int quoted = cmd[0] == '\'' && len > 2 && cmd[len - 1] == '\'';
    const char *path = cmd + quoted;
    size_t plen = len - 2 * (size_t)quoted;
    return path[0] == '/' && plen >= 12 && !strncmp(path + plen - 12, "/agentbudget", 12) &&
           (quoted || !memchr(path, ' ', plen));
}

/* What an entry written by install becomes: ours, when it ran with no arguments (an older
 * install) or pinned (--no-config, this one's); else - arguments of the user's own - this
 * agentbudget with its arguments kept (in out), said on stderr, as it still reads the
 * configuration files. NULL: it does not fit. */
static const char *hook_updated(json_t *hook, const char *ours, char *out, size_t size)
{
    const char *cmd = json_string_value(json_object_get(hook, "command"));
    const char *args = strstr(cmd, " " HOOK_COMMAND) + strlen(" " HOOK_COMMAND);
    if (!args[strspn(args, " ")] || strstr(args, " --no-config"))
        return ours;
    size_t prefix = (size_t)(strstr(ours, " " HOOK_COMMAND) - ours);
    if ((size_t)snprintf(out, size, "%.*s %s%s", (int)prefix, ours, HOOK_COMMAND, args) >= size)
        return NULL;
    fprintf(stderr,
            "agentbudget: kept the arguments of '%s': without --no-config that entry reads "
            ".claude/agentbudget.json on every call, which a session can edit\n",
            cmd);
    return out;
}

static int settings_path(cli *c, const parsed *p, const opt_spec *specs, char *out, size_t size)
{
    const char *settings = opt(p, specs, "settings"), *scope = opt(p, specs, "scope");
    if (scope && strcmp(scope, "project") && strcmp(scope, "user")) /* with --settings too */
        return usage_error(c, "--scope: project or user");
    if (settings) {
        snprintf(out, size, "%s", settings);
        return 0;
    }
    if (scope && !strcmp(scope, "user")) {
        const char *home = getenv("HOME");
        if (!home)
            return usage_error(c, "HOME: not set (needed for --scope user)");
        snprintf(out, size, "%s/.claude/settings.json", home);
    } else {
        snprintf(out, size, ".claude/settings.json");
    }
    return 0;
}

/* Loads settings.json (an absent file, or one of white space only, is an empty object). */
static json_t *settings_load(cli *c, const char *path)
{
    if (access(path, F_OK) != 0)
        return json_object();
    FILE *f = fopen(path, "r");
    int ch = EOF;
    while (f && (ch = getc(f)) != EOF && ch && strchr(" \t\r\n", ch))
        ;
    if (f)
        fclose(f);
    if (f && ch == EOF) /* nothing but white space: a file touched, not yet written */
        return json_object();
    json_error_t err;
    json_t *j = json_load_file(path, JSON_DECODE_ANY, &err);
    char why[256];
    if (object_or_why(&j, &err, why, sizeof why))
        usage_error(c, "'%s': %s; left as it was", path, why);
    return j;
}

/* Writes it back atomically, keeping key order; numbers keep their values. A symbolic link
 * stays one (the file it points at is written), and the file keeps its mode (a settings.json
 * of mode 0600 may hold a token in its "env"). */
static int settings_save(cli *c, const char *path_given, json_t *j)
{
    char tmp[PATH_MAX + 16], dir[PATH_MAX], path[PATH_MAX];
    struct stat sb;
    int existed = stat(path_given, &sb) == 0;
    struct stat lsb;
    if (!existed && lstat(path_given, &lsb) == 0) /* a link to nothing: writing would replace it */
        return usage_error(c, "'%s': a symbolic link to a file that does not exist; left as it was",
                           path_given);
    if (existed && !(sb.st_mode & S_IWUSR)) /* made read-only on purpose: root could write it */
        return usage_error(c, "'%s': read-only (mode %03o); left as it was", path_given,
                           (unsigned)(sb.st_mode & 0777));
    if (existed ? !realpath(path_given, path)
                : (size_t)snprintf(path, sizeof path, "%s", path_given) >= sizeof path) {
        snprintf(c->remote_err, sizeof c->remote_err, "cannot write '%.600s': %s", path_given,
                 strerror(errno ? errno : ENAMETOOLONG));
        return fail(c, AB_ESTORE);
    }
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        mkdir(dir, 0755);
    }
    snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid());
    /* a text file: its last line ends in a newline (an editor or git diff shows one missing);
     * on the disk before it takes the old one's place */
    FILE *f = fopen(tmp, "w");
    int bad = !f || json_dumpf(j, f, JSON_INDENT(2) | JSON_REAL_PRECISION(17)) ||
              fputc('\n', f) == EOF || fflush(f) || fsync(fileno(f));
    if (f && fclose(f))
        bad = 1;
    if (bad || (existed && chmod(tmp, sb.st_mode & 07777)) || rename(tmp, path)) {
        unlink(tmp);
        snprintf(c->remote_err, sizeof c->remote_err, "cannot write '%.600s': %s", path,
                 strerror(errno));
        return fail(c, AB_ESTORE);
    }
    return 0;
}

/* A store URL with a password in it (postgres://user:pw@…, password=…): not to be written into
 * a settings.json, which is often committed and readable by all. */
static int has_password(const char *url)
{
    const char *scheme = strstr(url, "://");
    if (scheme) {
        const char *at = strchr(scheme + 3, '@'), *slash = strchr(scheme + 3, '/');
        const char *colon = strchr(scheme + 3, ':');
        if (at && (!slash || at < slash) && colon && colon < at)
            return 1;
    }
    return strstr(url, "password=") != NULL;
}

static const opt_spec uninstall_opts[] = {{"settings", 1, 0}, {"scope", 1, 0}, {NULL, 0, 0}};
static const opt_spec install_opts[] = {
    {"settings", 1, 0},  {"scope", 1, 0},         {"parent", 1, 0},
    {"role", 1, 0},      {"on-error", 1, 0},      {"config", 1, 0},
    {"no-config", 0, 0}, {"default-store", 1, 0}, {NULL, 0, 0}};

/* A role that the hook's store does not define gives the sessions limits only, no tool or model
 * rules: said when the hook is installed, where a misspelt --role would pass unnoticed. Only an
 * SQLite store is looked at (a file that is not there defines nothing; opening a server's could
 * wait on the network), and only read. */
static void role_note(cli *c, const char *store, const char *role)
{
    const char *url = store ? store : c->store_url;
    if (c->url || !url || strncmp(url, "sqlite:", 7))
        return;
    char file[PATH_MAX];
    size_t n = strcspn(url + 7, "?");
    if (n >= sizeof file)
        return;
    memcpy(file, url + 7, n);
    file[n] = '\0';
    struct stat sb;
    ab_store *st = NULL;
    ab_role r;
    int rc = stat(file, &sb) ? AB_ENOTFOUND : ab_store_open(url, &st);
    if (rc == AB_OK && (rc = ab_role_get(st, role, &r)) == AB_OK) {
        role_inert_warn(&r, "");
        ab_role_free(&r);
    }
    ab_store_close(st);
    if (rc == AB_ENOTFOUND)
        fprintf(stderr,
                "note: role '%s' is not defined in %s: its sessions get limits only, no tool or "
                "model rules, until 'agentbudget role set %s ...'\n",
                role, url, role);
}

static int hook_install(cli *c, int argc, char **argv, int install)
{
    parsed p;
    char path[PATH_MAX], hook_cmd[4 * PATH_MAX + 4096], store_abs[PATH_MAX + 16];
    const opt_spec *specs = install ? install_opts : uninstall_opts;
    int rc = args_parse(c, command_find("hook"), specs, argc, argv, &p, 0, 0);
    if (rc || (rc = settings_path(c, &p, specs, path, sizeof path)))
        return rc;
    hook_config cfg;
    const char *store = NULL;
    if (install) { /* the configuration the hook is to run with, pinned in its command */
        const char *scope = opt(&p, install_opts, "scope");
        int user = scope && !strcmp(scope, "user");
        const char *flag_store = c->store_from && !strcmp(c->store_from, "--store")
                                     ? c->store_url
                                     : NULL; /* not AGENTBUDGET_STORE: the hook's own */
        if ((rc = config_resolve(c, &p, install_opts, user ? NULL : ".", &cfg)))
            return rc;
        store = flag_store ? flag_store : cfg.store[0] ? cfg.store : NULL;
        if (store && has_password(store))
            return usage_error(c,
                               "store: the URL has a password, which would be written into "
                               "'%s': keep it in ~/.pgpass (or PGPASSWORD in the hook's "
                               "environment) instead",
                               path);
        char cwd[PATH_MAX]; /* a relative sqlite: path would depend on where the hook runs */
        if (store && !strncmp(store, "sqlite:", 7) && store[7] != '/' && getcwd(cwd, sizeof cwd)) {
            if ((size_t)snprintf(store_abs, sizeof store_abs, "sqlite:%s/%s", cwd, store + 7) >=
                sizeof store_abs)
                return usage_error(c, "store: the path is too long");
            store = store_abs;
        }
        /* a store the hook cannot open fails every event: every tool denied (on_error deny) or
         * none checked (allow), for a typo (bogus:, sqlite:x?sync=ful, a directory that is not
         * there). Opened here, as the hook will (a sqlite: file is made), but PostgreSQL, which
         * install does not contact (it may be down, or slow to answer) */
        const char *eq = store ? strchr(store, '=') : NULL,
                   *colon = store ? strchr(store, ':') : NULL;
        int pg = store && (!strncmp(store, "postgres://", 11) ||
                           !strncmp(store, "postgresql://", 13) || (eq && (!colon || eq < colon)));
        if (store && !pg) {
            ab_store *st = NULL;
            int orc = ab_store_open(store, &st);
            char msg[1024], shown[512];
            snprintf(msg, sizeof msg, "%s", st ? ab_store_errmsg(st) : ab_strerror(orc));
            ab_store_close(st);
            ab_store_url_redact(store, shown, sizeof shown);
            if (orc)
                return usage_error(c,
                                   "store: '%s' cannot be opened, so the hook would fail on "
                                   "every event: %s",
                                   shown, msg);
        }
        json_t *utf8 = NULL;
        if (hook_command(&cfg, store, hook_cmd, sizeof hook_cmd))
            return usage_error(c, "the hook's command would be longer than %zu bytes",
                               sizeof hook_cmd - 1);
        if (!(utf8 = json_string(hook_cmd)))
            return usage_error(c, "the hook's command is not UTF-8 (the role, or the store?): "
                                  "settings.json could not hold it");
        json_decref(utf8);
    } else {
        hook_cmd[0] = '\0';
    }
    json_t *j = settings_load(c, path);
    if (!j)
        return EXIT_USAGE;
    json_t *hooks = json_object_get(j, "hooks");
    if (hooks && !json_is_object(hooks)) {
        json_decref(j);
        return usage_error(c, "'%s': hooks: not an object; left as it was", path);
    }
    for (size_t e = 0; hooks && e < sizeof hook_events / sizeof hook_events[0]; e++) {
        json_t *list = json_object_get(hooks, hook_events[e]);
        if (install && list && !json_is_array(list)) { /* not Claude Code's form: not ours */
            json_decref(j);
            return usage_error(c, "'%s': hooks.%s: not an array; left as it was", path,
                               hook_events[e]);
        }
    }
    if (!hooks && install)
        json_object_set_new(j, "hooks", hooks = json_object());
    int changed = 0;
    for (size_t e = 0; hooks && e < sizeof hook_events / sizeof hook_events[0]; e++) {
        json_t *list = json_object_get(hooks, hook_events[e]), *group, *h;
        size_t i, k;
        int present = 0;
        json_array_foreach(list, i, group) json_array_foreach(json_object_get(group, "hooks"), k, h)
        {
            present |= is_ours(h);
            char repointed[sizeof hook_cmd + 4096];
            const char *now = install && is_ours(h) && hook_written_by_install(h)
                                  ? hook_updated(h, hook_cmd, repointed, sizeof repointed)
                                  : NULL;
            if (now && strcmp(json_string_value(json_object_get(h, "command")), now)) {
                json_object_set_new(h, "command", json_string(now));
                changed = 1;
            }
        }
        if (install && !present) {
            if (!json_is_array(list))
                json_object_set_new(hooks, hook_events[e], list = json_array());
            json_t *g =
                json_pack("{s:[{s:s,s:s}]}", "hooks", "type", "command", "command", hook_cmd);
            if (!strcmp(hook_events[e], "PreToolUse") || !strcmp(hook_events[e], "PostToolUse"))
                json_object_set_new(g, "matcher", json_string("*"));
            json_array_append_new(list, g);
            changed = 1;
        }
        if (!install && present) { /* only ours go; a group left empty goes too */
            for (i = json_array_size(list); i-- > 0;) {
                json_t *inner = json_object_get(json_array_get(list, i), "hooks");
                for (k = json_array_size(inner); k-- > 0;)
                    if (is_ours(json_array_get(inner, k)))
                        json_array_remove(inner, k);
                if (json_is_array(inner) && json_array_size(inner) == 0)
                    json_array_remove(list, i);
            }
            if (json_array_size(list) == 0)
                json_object_del(hooks, hook_events[e]);
            changed = 1;
        }
    }
    if (!install && hooks && json_object_size(hooks) == 0 && changed)
        json_object_del(j, "hooks");
    rc = changed ? settings_save(c, path, j) : 0;
    json_decref(j);
    if (!rc && install)
        printf("%s %s (parent %s, role %s, on_error %s%s)\n",
               changed ? "installed in" : "nothing to change in", path, cfg.parent, cfg.role,
               cfg.deny_on_error ? "deny" : "allow", store ? ", and its store" : "");
    if (!rc && install)
        role_note(c, store, cfg.role);
    else if (!rc)
        printf("%s %s\n", changed ? "removed from" : "nothing to change in", path);
    return rc;
}

int cmd_hook(cli *c, int argc, char **argv)
{
    const char *sub = argc > 0 ? argv[0] : "";
    if (!strcmp(sub, "claude-code"))
        return hook_claude_code(c, argc - 1, argv + 1);
    if (!strcmp(sub, "install") || !strcmp(sub, "uninstall"))
        return hook_install(c, argc - 1, argv + 1, sub[0] == 'i');
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
        const command *cmd = command_find("hook");
        printf("usage: agentbudget %s\n\n%s\n", cmd->usage, cmd->summary);
        return -1;
    }
    return usage_error(c, "hook: expected claude-code, install or uninstall%s%s%s",
                       *sub ? " (not '" : "", sub, *sub ? "')" : "");
}
