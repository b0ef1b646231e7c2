/* addon.c — the N-API addon behind the agentbudget npm package: thin calls into libagentbudget
 * through its public header only. Argument checking that JavaScript does well (types, ranges,
 * messages naming the argument) is in ../lib/validate.js; this file trusts its caller for types
 * but still refuses what would be unsafe (a wrong handle, an over-long string).
 *
 * Results are not built here property by property: through napi_set_named_property a charge's
 * decision object cost 1.9 µs against 0.6 µs for the whole call without it (memory store).
 * Their numbers go into two typed arrays shared with JavaScript (setScratch) and ../lib/store.js
 * builds the objects; only strings are returned. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAPI_VERSION 8
#include <node_api.h>

#include "agentbudget.h"

/* Slots of a status in the shared scratch arrays (../lib/native.js has the same table). */
enum {
    S_SESSION_TOKENS_USED,
    S_SESSION_TOKENS_LIMIT,
    S_SESSION_TOKENS_REMAINING,
    S_SESSION_STARTED_AT,
    S_DAILY_COST_USED,
    S_DAILY_COST_LIMIT,
    S_DAILY_COST_REMAINING,
    S_DAY_START,
    S_LAST_RESET,
    S_OPERATIONS_BLOCKED,
    S_CREATED_AT,
    S_HOLDS_OPEN,
    S_HOLDS_TOKENS,
    S_HOLDS_COST,
    S_SLOTS
};

#define STRING_BYTES_MAX 4096 /* an entry of a list (a limit spec, a pattern) */
#define LIST_MAX AB_GLOBS_MAX

/* Per module instance (one per Node.js environment: the main thread and each worker). */
typedef struct {
    napi_ref f64_ref, i64_ref;
    double *f64;  /* S_SLOTS doubles: every slot, money as nano-USD (exact below 2^53) */
    int64_t *i64; /* S_SLOTS int64: the same values exactly (for amounts past 2^53) */
} instance;

/* A store handle as JavaScript holds it: an External tagged with this type. */
typedef struct {
    ab_store *st;
} handle;

static const napi_type_tag HANDLE_TAG = {0x6167656e74627564ULL, 0x676574686e646c31ULL};

/* ---- errors ---- */

/* Throws the library's failure: RangeError for bad input (AB_EINVAL: a value broke a rule),
 * Error otherwise; .code is "AB_" + the code's name. */
static void throw_ab(napi_env env, ab_store *st, int rc)
{
    char code[32];
    snprintf(code, sizeof code, "AB_%s", ab_err_name(rc));
    const char *detail = st ? ab_store_errmsg(st) : "";
    char msg[AB_REASON_BYTES_MAX + 64];
    snprintf(msg, sizeof msg, "agentbudget: %s", *detail ? detail : ab_strerror(rc));
    if (rc == AB_EINVAL || rc == AB_EOVERFLOW || rc == AB_ELIMIT)
        napi_throw_range_error(env, code, msg);
    else
        napi_throw_error(env, code, msg);
}

static void throw_type(napi_env env, const char *msg)
{
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
}

/* ---- arguments ---- */

#define ARGS_MAX 12

typedef struct {
    napi_env env;
    size_t argc;
    napi_value argv[ARGS_MAX];
    instance *inst;
} call;

static int call_init(napi_env env, napi_callback_info info, call *c)
{
    c->env = env;
    c->argc = ARGS_MAX;
    if (napi_get_cb_info(env, info, &c->argc, c->argv, NULL, (void **)&c->inst) != napi_ok)
        return -1;
    for (size_t i = c->argc; i < ARGS_MAX; i++)
        napi_get_undefined(env, &c->argv[i]);
    return 0;
}

static int is_nullish(napi_env env, napi_value v)
{
    napi_valuetype t;
    napi_typeof(env, v, &t);
    return t == napi_undefined || t == napi_null;
}

static ab_store *arg_store(call *c, size_t i)
{
    bool ok = false;
    void *p = NULL;
    if (napi_check_object_type_tag(c->env, c->argv[i], &HANDLE_TAG, &ok) != napi_ok || !ok ||
        napi_get_value_external(c->env, c->argv[i], &p) != napi_ok) {
        throw_type(c->env, "agentbudget: not a store handle");
        return NULL;
    }
    handle *h = p;
    if (!c->inst->f64) {
        napi_throw_error(c->env, "AB_ESTATE", "agentbudget: setScratch() was not called");
        return NULL;
    }
    if (!h->st) {
        napi_throw_error(c->env, "AB_ECLOSED", "agentbudget: the store is closed");
        return NULL;
    }
    return h->st;
}

/* Copies a string argument into buf. Returns 0, or -1 with an exception pending. nullish
 * with allow_null: *out = NULL. */
static int arg_str(call *c, size_t i, char *buf, size_t size, int allow_null, const char **out,
                   const char *name)
{
    napi_env env = c->env;
    if (allow_null && is_nullish(env, c->argv[i])) {
        *out = NULL;
        return 0;
    }
    /* one pass: copy into buf; a copy that (nearly) fills it may have been cut, so measure
     * then. Nearly: N-API never copies part of a character, so a cut copy may stop up to 3
     * bytes short of full (a string of 4-byte emoji cut to 4,094 bytes passed as whole) */
    size_t len = 0;
    if (napi_get_value_string_utf8(env, c->argv[i], buf, size, &len) != napi_ok) {
        char msg[96];
        snprintf(msg, sizeof msg, "%s: must be a string", name);
        throw_type(env, msg);
        return -1;
    }
    if (len + 4 >= size) {
        size_t full = 0;
        napi_get_value_string_utf8(env, c->argv[i], NULL, 0, &full);
        if (full >= size) {
            char msg[128];
            snprintf(msg, sizeof msg, "%s: at most %zu bytes", name, size - 1);
            napi_throw_range_error(env, "AB_EINVAL", msg);
            return -1;
        }
    }
    if (strlen(buf) != len) {
        char msg[96];
        snprintf(msg, sizeof msg, "%s: must not contain a NUL character", name);
        napi_throw_range_error(env, "AB_EINVAL", msg);
        return -1;
    }
    *out = buf;
    return 0;
}

/* A whole number (lib/validate.js has checked the range); nullish: 0. */
static int arg_i64(call *c, size_t i, int64_t *out)
{
    if (is_nullish(c->env, c->argv[i])) {
        *out = 0;
        return 0;
    }
    if (napi_get_value_int64(c->env, c->argv[i], out) != napi_ok) {
        throw_type(c->env, "agentbudget: a number was expected");
        return -1;
    }
    return 0;
}

/* usage at argv[i..i+4]: input, output, cache_write_5m, cache_write_1h, cache_read */
static int arg_usage(call *c, size_t i, ab_usage *u)
{
    return arg_i64(c, i, &u->input) || arg_i64(c, i + 1, &u->output) ||
           arg_i64(c, i + 2, &u->cache_write_5m) || arg_i64(c, i + 3, &u->cache_write_1h) ||
           arg_i64(c, i + 4, &u->cache_read);
}

static void strs_free(char **s, size_t n)
{
    for (size_t k = 0; k < n; k++)
        free(s[k]);
}

/* An array of strings (globs or limit specs), each copied into out[]: free them with
 * strs_free(). On failure nothing is left allocated. */
static int arg_strs(call *c, size_t i, char **out, size_t *n, const char *name)
{
    napi_env env = c->env;
    *n = 0;
    if (is_nullish(env, c->argv[i]))
        return 0;
    uint32_t len = 0;
    bool is_array = false;
    napi_is_array(env, c->argv[i], &is_array);
    if (!is_array || napi_get_array_length(env, c->argv[i], &len) != napi_ok) {
        char msg[96];
        snprintf(msg, sizeof msg, "%s: must be an array of strings", name);
        throw_type(env, msg);
        return -1;
    }
    if (len > LIST_MAX) {
        char msg[96];
        snprintf(msg, sizeof msg, "%s: at most %d entries", name, LIST_MAX);
        napi_throw_range_error(env, "AB_ELIMIT", msg);
        return -1;
    }
    for (uint32_t k = 0; k < len; k++) {
        napi_value v;
        size_t sl = 0;
        napi_get_element(env, c->argv[i], k, &v);
        if (napi_get_value_string_utf8(env, v, NULL, 0, &sl) != napi_ok) {
            char msg[128];
            snprintf(msg, sizeof msg, "%s[%u]: must be a string", name, k);
            throw_type(env, msg);
            goto fail;
        }
        if (sl > STRING_BYTES_MAX) {
            char msg[128];
            snprintf(msg, sizeof msg, "%s[%u]: at most %d bytes", name, k, STRING_BYTES_MAX);
            napi_throw_range_error(env, "AB_EINVAL", msg);
            goto fail;
        }
        char *s = malloc(sl + 1);
        if (!s) {
            napi_throw_error(env, "AB_ENOMEM", "agentbudget: out of memory");
            goto fail;
        }
        napi_get_value_string_utf8(env, v, s, sl + 1, &sl);
        out[(*n)++] = s;
        if (strlen(s) != sl) { /* cut at the NUL, "Read\0*" would be stored as "Read" */
            char msg[128];
            snprintf(msg, sizeof msg, "%s[%u]: must not contain a NUL character", name, k);
            napi_throw_range_error(env, "AB_EINVAL", msg);
            goto fail;
        }
    }
    return 0;
fail:
    strs_free(out, *n);
    *n = 0;
    return -1;
}

/* ---- results ---- */

static napi_value undefined(napi_env env)
{
    napi_value v;
    napi_get_undefined(env, &v);
    return v;
}

static napi_value str(napi_env env, const char *s)
{
    napi_value v;
    napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
    return v;
}

static void set(napi_env env, napi_value o, const char *name, napi_value v)
{
    napi_set_named_property(env, o, name, v);
}

/* Slots of a decision in the scratch arrays (../lib/store.js has the same table). */
enum {
    D_ALLOWED,
    D_OVER,
    D_COST,
    D_TOKENS,
    D_REPLAYED,
    D_HAS_LIMIT,
    D_METRIC,
    D_WINDOW,
    D_LIMIT,
    D_USED,
    D_REQUESTED,
    D_REMAINING,
    D_SLOTS
};
_Static_assert((int)D_SLOTS <= (int)S_SLOTS, "a decision must fit the scratch arrays");

/* Writes a decision's numbers into the scratch arrays and returns its strings: the hold id (or
 * null) when there is no reason and no deciding limit, which is the common case, else
 * [reason, hold_id, budget] with "" for the missing ones. lib/store.js builds the object (the
 * same fields as the daemon's JSON, docs/http-api.md). */
static napi_value decision_out(napi_env env, instance *inst, const ab_decision *d)
{
    int has_limit = d->budget[0] != 0;
    int64_t v[D_SLOTS] = {
        [D_ALLOWED] = d->allowed,
        [D_OVER] = d->over,
        [D_COST] = d->cost_nusd,
        [D_TOKENS] = d->tokens,
        [D_REPLAYED] = d->replayed,
        [D_HAS_LIMIT] = has_limit,
        [D_METRIC] = has_limit ? (int64_t)d->metric : 0,
        [D_WINDOW] = has_limit ? (int64_t)d->window : 0,
        [D_LIMIT] = d->limit,
        [D_USED] = d->used,
        [D_REQUESTED] = d->requested,
        [D_REMAINING] = d->remaining,
    };
    for (int k = 0; k < D_SLOTS; k++) {
        inst->f64[k] = (double)v[k];
        inst->i64[k] = v[k];
    }
    if (!d->reason[0] && !has_limit) {
        if (!d->hold_id[0]) {
            napi_value n;
            napi_get_null(env, &n);
            return n;
        }
        return str(env, d->hold_id);
    }
    napi_value arr;
    napi_create_array_with_length(env, 3, &arr);
    napi_set_element(env, arr, 0, str(env, d->reason));
    napi_set_element(env, arr, 1, str(env, d->hold_id));
    napi_set_element(env, arr, 2, str(env, d->budget));
    return arr;
}

static int64_t remaining(const ab_budget_status *b, int w, int m)
{
    int64_t limit = b->limit[w][m];
    if (limit < 0)
        return -1;
    /* used may be INT64_MAX (a saturated ancestor): used + held could wrap */
    int64_t used = b->used[w][m], held = b->held[m];
    return used >= limit || held >= limit - used ? 0 : limit - used - held;
}

/* Writes a status into the scratch arrays and returns its strings: the role, or [role, model]
 * when the budget has a default model. */
static napi_value status_out(napi_env env, instance *inst, const ab_budget_status *b)
{
    const int S = AB_WINDOW_SESSION, D = AB_WINDOW_DAY, T = AB_METRIC_TOKENS, U = AB_METRIC_USD;
    int64_t v[S_SLOTS] = {
        [S_SESSION_TOKENS_USED] = b->used[S][T],
        [S_SESSION_TOKENS_LIMIT] = b->limit[S][T],
        [S_SESSION_TOKENS_REMAINING] = remaining(b, S, T),
        [S_SESSION_STARTED_AT] = b->session_reset_ms,
        [S_DAILY_COST_USED] = b->used[D][U],
        [S_DAILY_COST_LIMIT] = b->limit[D][U],
        [S_DAILY_COST_REMAINING] = remaining(b, D, U),
        [S_DAY_START] = b->day_start_ms,
        [S_LAST_RESET] = b->last_reset_ms,
        [S_OPERATIONS_BLOCKED] = b->operations_blocked,
        [S_CREATED_AT] = b->created_at_ms,
        [S_HOLDS_OPEN] = b->holds_open,
        [S_HOLDS_TOKENS] = b->held[T],
        [S_HOLDS_COST] = b->held[U],
    };
    for (int k = 0; k < S_SLOTS; k++) {
        inst->f64[k] = (double)v[k];
        inst->i64[k] = v[k];
    }
    if (!b->model[0])
        return str(env, b->role);
    napi_value arr;
    napi_create_array_with_length(env, 2, &arr);
    napi_set_element(env, arr, 0, str(env, b->role));
    napi_set_element(env, arr, 1, str(env, b->model));
    return arr;
}

/* The end of a call that changes a budget and answers with its status: rc is the change's result
 * inside a batch the caller opened (or that ab_store_batch_begin's failure), and the status is
 * read in the same transaction, so that it is the state this change left. */
static napi_value batch_status(napi_env env, instance *inst, ab_store *st, const char *path, int rc)
{
    ab_budget_status b;
    if (rc == AB_OK && (rc = ab_budget_get(st, path, &b)) == AB_OK)
        rc = ab_store_batch_commit(st);
    if (rc) {
        throw_ab(env, st, rc);
        ab_store_batch_abort(st);
        return NULL;
    }
    return status_out(env, inst, &b);
}

/* ---- functions ---- */

/* setScratch(Float64Array, BigInt64Array): the arrays that status results are written to. */
static napi_value js_set_scratch(napi_env env, napi_callback_info info)
{
    call c;
    if (call_init(env, info, &c))
        return NULL;
    napi_typedarray_type t1, t2;
    size_t n1 = 0, n2 = 0;
    void *d1 = NULL, *d2 = NULL;
    if (napi_get_typedarray_info(env, c.argv[0], &t1, &n1, &d1, NULL, NULL) != napi_ok ||
        napi_get_typedarray_info(env, c.argv[1], &t2, &n2, &d2, NULL, NULL) != napi_ok ||
        t1 != napi_float64_array || t2 != napi_bigint64_array || n1 < S_SLOTS || n2 < S_SLOTS) {
        throw_type(env, "agentbudget: setScratch(Float64Array, BigInt64Array)");
        return NULL;
    }
    if (c.inst->f64_ref)
        napi_delete_reference(env, c.inst->f64_ref);
    if (c.inst->i64_ref)
        napi_delete_reference(env, c.inst->i64_ref);
    napi_create_reference(env, c.argv[0], 1, &c.inst->f64_ref);
    napi_create_reference(env, c.argv[1], 1, &c.inst->i64_ref);
    c.inst->f64 = d1;
    c.inst->i64 = d2;
    napi_value n;
    napi_create_uint32(env, S_SLOTS, &n);
    return n;
}

static void handle_finalize(napi_env env, void *data, void *hint)
{
    (void)env;
    (void)hint;
    handle *h = data;
    ab_store_close(h->st);
    free(h);
}

/* open(url | null) -> handle. null: $AGENTBUDGET_STORE, else the default SQLite file. */
static napi_value js_open(napi_env env, napi_callback_info info)
{
    call c;
    char url[4096];
    const char *u;
    if (call_init(env, info, &c) || arg_str(&c, 0, url, sizeof url, 1, &u, "storeUrl"))
        return NULL;
    ab_store *st = NULL;
    int rc = ab_store_open(u, &st);
    if (rc) {
        throw_ab(env, st, rc);
        ab_store_close(st);
        return NULL;
    }
    handle *h = malloc(sizeof *h);
    napi_value ext;
    if (!h) {
        ab_store_close(st);
        napi_throw_error(env, "AB_ENOMEM", "agentbudget: out of memory");
        return NULL;
    }
    h->st = st;
    if (napi_create_external(env, h, handle_finalize, NULL, &ext) != napi_ok) {
        ab_store_close(st);
        free(h);
        return NULL;
    }
    napi_type_tag_object(env, ext, &HANDLE_TAG);
    return ext;
}

/* close(handle): closes now rather than at garbage collection. Closing twice is a no-op. */
static napi_value js_close(napi_env env, napi_callback_info info)
{
    call c;
    void *p = NULL;
    bool ok = false;
    if (call_init(env, info, &c))
        return NULL;
    if (napi_check_object_type_tag(env, c.argv[0], &HANDLE_TAG, &ok) != napi_ok || !ok ||
        napi_get_value_external(env, c.argv[0], &p) != napi_ok) {
        throw_type(env, "agentbudget: not a store handle");
        return NULL;
    }
    handle *h = p;
    ab_store_close(h->st);
    h->st = NULL;
    return undefined(env);
}

/* initialize(h, path, role, sessionTokens, dailyUsd (decimal string), model|null, key|null)
 * -> status strings (the original's initializeBudget: sets tokens/session and usd/day). */
static napi_value js_initialize(napi_env env, napi_callback_info info)
{
    call c;
    char path[AB_PATH_BYTES_MAX + 1], role[AB_NAME_BYTES_MAX], usd[64], model[AB_NAME_BYTES_MAX],
        key[AB_KEY_BYTES_MAX + 1];
    const char *p, *r, *u, *m, *k;
    ab_limit limits[2] = {{AB_METRIC_TOKENS, AB_WINDOW_SESSION, 0},
                          {AB_METRIC_USD, AB_WINDOW_DAY, 0}};
    if (call_init(env, info, &c))
        return NULL;
    ab_store *st = arg_store(&c, 0);
    if (!st || arg_str(&c, 1, path, sizeof path, 0, &p, "agentId") ||
        arg_str(&c, 2, role, sizeof role, 0, &r, "role") || arg_i64(&c, 3, &limits[0].amount) ||
        arg_str(&c, 4, usd, sizeof usd, 0, &u, "dailyCostLimit") ||
        arg_str(&c, 5, model, sizeof model, 1, &m, "options.model") ||
        arg_str(&c, 6, key, sizeof key, 1, &k, "options.key"))
        return NULL;
    if (ab_usd_parse(u, &limits[1].amount)) {
        char msg[128];
        snprintf(msg, sizeof msg,
                 "dailyCostLimit: '%s' is not an amount of USD (0 to 9223372036.854775807)", u);
        napi_throw_range_error(env, "AB_EINVAL", msg);
        return NULL;
    }
    ab_budget_spec spec = {.role = r, .model = m, .limits = limits, .limits_count = 2};
    int created = 0, rc = ab_store_batch_begin(st);
    if (rc == AB_OK)
        rc = ab_budget_set(st, p, &spec, k, &created);
    return batch_status(env, c.inst, st, p, rc);
}

/* The arguments of check and callFloor: (h, path, tokens). The store, or NULL with an exception
 * pending; *p points into path (size AB_PATH_BYTES_MAX + 1). */
static ab_store *check_args(napi_env env, napi_callback_info info, char *path, const char **p,
                            int64_t *tokens)
{
    call c;
    if (call_init(env, info, &c))
        return NULL;
    ab_store *st = arg_store(&c, 0);
    if (!st || arg_str(&c, 1, path, AB_PATH_BYTES_MAX + 1, 0, p, "agentId") ||
        arg_i64(&c, 2, tokens))
        return NULL;
    return st;
}

static napi_value true_value(napi_env env)
{
    napi_value t;
    napi_get_boolean(env, true, &t);
    return t;
}

/* check(h, path, tokens) -> true, or the denial's reason (the original's checkBudget). A budget
 * that does not exist is a denial too: a tracker must fail closed. */
static napi_value js_check(napi_env env, napi_callback_info info)
{
    char path[AB_PATH_BYTES_MAX + 1];
    const char *p;
    int64_t tokens;
    ab_store *st = check_args(env, info, path, &p, &tokens);
    if (!st)
        return NULL;
    ab_decision d;
    int rc = ab_budget_check_tokens(st, p, tokens, &d);
    if (rc == AB_ENOTFOUND) {
        char msg[AB_PATH_BYTES_MAX + 64];
        snprintf(msg, sizeof msg, "no budget '%s' (initializeBudget it first)", p);
        return str(env, msg);
    }
    if (rc) {
        throw_ab(env, st, rc);
        return NULL;
    }
    return d.allowed ? true_value(env) : str(env, d.reason);
}

/* callFloor(h, path, tokens) -> true: check's arguments read as check reads them, and no
 * library call. For bench/bench_node.js only: what a call costs before libagentbudget runs. */
static napi_value js_call_floor(napi_env env, napi_callback_info info)
{
    char path[AB_PATH_BYTES_MAX + 1];
    const char *p;
    int64_t tokens;
    return check_args(env, info, path, &p, &tokens) ? true_value(env) : NULL;
}

/* check with a full usage and a model: the decision object (Store#check). */
static napi_value js_check_usage(napi_env env, napi_callback_info info)
{
    call c;
    char path[AB_PATH_BYTES_MAX + 1], model[AB_NAME_BYTES_MAX];
    const char *p, *m;
    ab_usage u;
    if (call_init(env, info, &c))
        return NULL;
    ab_store *st = arg_store(&c, 0);
    if (!st || arg_str(&c, 1, path, sizeof path, 0, &p, "agentId") ||
        arg_str(&c, 2, model, sizeof model, 1, &m, "options.model") || arg_usage(&c, 3, &u))
        return NULL;
    ab_decision d;
    int rc = ab_budget_check(st, p, m, &u, &d);
    if (rc) {
        throw_ab(env, st, rc);
        return NULL;
    }
    return decision_out(env, c.inst, &d);
}

/* deduct(h, path, input, output, model|null, key|null) -> status strings: the charge and the
 * status after it (the original's deductBudget). */
static napi_value js_deduct(napi_env env, napi_callback_info info)
{
    call c;
    char path[AB_PATH_BYTES_MAX + 1], model[AB_NAME_BYTES_MAX], key[AB_KEY_BYTES_MAX + 1];
    const char *p, *m, *k;
    ab_usage u = {0};
    if (call_init(env, info, &c))
        return NULL;
    ab_store *st = arg_store(&c, 0);
    if (!st || arg_str(&c, 1, path, sizeof path, 0, &p, "agentId") || arg_i64(&c, 2, &u.input) ||
        arg_i64(&c, 3, &u.output) || arg_str(&c, 4, model, sizeof model, 1, &m, "options.model") ||
        arg_str(&c, 5, key, sizeof key, 1, &k, "options.key"))
        return NULL;
    ab_decision d;
    int rc = ab_store_batch_begin(st);
    if (rc == AB_OK)
        rc = ab_budget_charge(st, p, m, &u, k, &d);
    return batch_status(env, c.inst, st, p, rc);
}

/* status(h, path) -> status strings, or null if there is no such budget. */
static napi_value js_status(napi_env env, napi_callback_info info)
{
    call c;
    char path[AB_PATH_BYTES_MAX + 1];
    const char *p;
    if (call_init(env, info, &c))
        return NULL;
    ab_store *st = arg_store(&c, 0);
    if (!st || arg_str(&c, 1, path, sizeof path, 0, &p, "agentId"))
        return NULL;
    ab_budget_status b;
    int rc = ab_budget_get(st, p, &b);
    if (rc == AB_ENOTFOUND) {
        napi_value n;
        napi_get_null(env, &n);
        return n;
    }
    if (rc) {
        throw_ab(env, st, rc);
        return NULL;
    }
    return status_out(env, c.inst, &b);
}

/* reset(h, path, which (AB_RESET_* bits), key|null) -> status strings. */
static napi_value js_reset(napi_env env, napi_callback_info info)
{
    call c;
    char path[AB_PATH_BYTES_MAX + 1], key[AB_KEY_BYTES_MAX + 1];
    const char *p, *k;
    int64_t which;
    if (call_init(env, info, &c))
        return NULL;
    ab_store *st = arg_store(&c, 0);
    if (!st || arg_str(&c, 1, path, sizeof path, 0, &p, "agentId") || arg_i64(&c, 2, &which) ||
        arg_str(&c, 3, key, sizeof key, 1, &k, "options.key"))
        return NULL;
    int rc = ab_store_batch_begin(st);
    if (rc == AB_OK)
        rc = ab_budget_reset(st, p, (int)(which & AB_RESET_ALL), k);
    return batch_status(env, c.inst, st, p, rc);
}

/* charge(h, path, model|null, usage x5, key|null) -> decision. */
static napi_value js_charge(napi_env env, napi_callback_info info)
{
    call c;
    char path[AB_PATH_BYTES_MAX + 1], model[AB_NAME_BYTES_MAX], key[AB_KEY_BYTES_MAX + 1];
    const char *p, *m, *k;
    ab_usage u;
    if (call_init(env, info, &c))
        return NULL;
    ab_store *st = arg_store(&c, 0);
    if (!st || arg_str(&c, 1, path, sizeof path, 0, &p, "agentId") ||
        arg_str(&c, 2, model, sizeof model, 1, &m, "options.model") || arg_usage(&c, 3, &u) ||
        arg_str(&c, 8, key, sizeof key, 1, &k, "options.key"))
        return NULL;
    ab_decision d;
    int rc = ab_budget_charge(st, p, m, &u, k, &d);
    if (rc) {
        throw_ab(env, st, rc);
        return NULL;
    }
    return decision_out(env, c.inst, &d);
}

/* reserve(h, path, model|null, usage x5, ttl_s, key|null) -> decision (hold_id if allowed). */
static napi_value js_reserve(napi_env env, napi_callback_info info)
{
    call c;
    char path[AB_PATH_BYTES_MAX + 1], model[AB_NAME_BYTES_MAX], key[AB_KEY_BYTES_MAX + 1];
    const char *p, *m, *k;
    ab_usage u;
    int64_t ttl_s;
    if (call_init(env, info, &c))
        return NULL;
    ab_store *st = arg_store(&c, 0);
    if (!st || arg_str(&c, 1, path, sizeof path, 0, &p, "agentId") ||
        arg_str(&c, 2, model, sizeof model, 1, &m, "options.model") || arg_usage(&c, 3, &u) ||
        arg_i64(&c, 8, &ttl_s) || arg_str(&c, 9, key, sizeof key, 1, &k, "options.key"))
        return NULL;
    ab_decision d;
    int rc = ab_budget_reserve(st, p, m, &u, ttl_s, k, &d);
    if (rc) {
        throw_ab(env, st, rc);
        return NULL;
    }
    return decision_out(env, c.inst, &d);
}

/* commit(h, holdId, usage x5, key|null) -> decision. */
static napi_value js_commit(napi_env env, napi_callback_info info)
{
    call c;
    char id[AB_HOLD_ID_BYTES + 2], key[AB_KEY_BYTES_MAX + 1];
    const char *i, *k;
    ab_usage u;
    if (call_init(env, info, &c))
        return NULL;
    ab_store *st = arg_store(&c, 0);
    if (!st || arg_str(&c, 1, id, sizeof id, 0, &i, "holdId") || arg_usage(&c, 2, &u) ||
        arg_str(&c, 7, key, sizeof key, 1, &k, "options.key"))
        return NULL;
    ab_decision d;
    int rc = ab_hold_commit(st, i, &u, k, &d);
    if (rc) {
        throw_ab(env, st, rc);
        return NULL;
    }
    return decision_out(env, c.inst, &d);
}

/* release(h, holdId, key|null) -> undefined. */
static napi_value js_release(napi_env env, napi_callback_info info)
{
    call c;
    char id[AB_HOLD_ID_BYTES + 2], key[AB_KEY_BYTES_MAX + 1];
    const char *i, *k;
    if (call_init(env, info, &c))
        return NULL;
    ab_store *st = arg_store(&c, 0);
    if (!st || arg_str(&c, 1, id, sizeof id, 0, &i, "holdId") ||
        arg_str(&c, 2, key, sizeof key, 1, &k, "options.key"))
        return NULL;
    int rc = ab_hold_release(st, i, k);
    if (rc) {
        throw_ab(env, st, rc);
        return NULL;
    }
    return undefined(env);
}

/* permission(h, path, operation, model|null, estimatedTokens, hasUsage, usage x5) -> decision
 * (the original's checkPermission: the role allows it AND the budget can pay for it). */
static napi_value js_permission(napi_env env, napi_callback_info info)
{
    call c;
    char path[AB_PATH_BYTES_MAX + 1], model[AB_NAME_BYTES_MAX];
    const char *p, *o, *m;
    int64_t tokens, has_usage;
    ab_usage u;
    if (call_init(env, info, &c))
        return NULL;
    ab_store *st = arg_store(&c, 0);
    /* the operation as long as it is: the library refuses one too long for the role's tool
     * patterns, and a budget with none takes any (a Bash command writing a file) */
    size_t op_len = 0;
    if (st && napi_get_value_string_utf8(env, c.argv[2], NULL, 0, &op_len) != napi_ok)
        op_len = 0; /* not a string: arg_str says so */
    char *op = st ? malloc(op_len + 1) : NULL;
    if (st && !op) {
        napi_throw_error(env, "AB_ENOMEM", "agentbudget: out of memory");
        return NULL;
    }
    if (!st || arg_str(&c, 1, path, sizeof path, 0, &p, "agentId") ||
        arg_str(&c, 2, op, op_len + 1, 0, &o, "operation") ||
        arg_str(&c, 3, model, sizeof model, 1, &m, "context.model") || arg_i64(&c, 4, &tokens) ||
        arg_i64(&c, 5, &has_usage) || arg_usage(&c, 6, &u)) {
        free(op);
        return NULL;
    }
    ab_permission_context ctx = {
        .model = m, .estimated_tokens = tokens, .usage = has_usage ? &u : NULL};
    ab_decision d;
    int rc = ab_check_permission(st, p, o, &ctx, &d);
    free(op);
    if (rc) {
        throw_ab(env, st, rc);
        return NULL;
    }
    return decision_out(env, c.inst, &d);
}

/* setBudget(h, path, role|null, model|null, limits[] (specs), replace, noRoleDefaults, key|null,
 * unset[] ("usd/day": remove that limit)) -> true if created. */
static napi_value js_set_budget(napi_env env, napi_callback_info info)
{
    call c;
    char path[AB_PATH_BYTES_MAX + 1], role[AB_NAME_BYTES_MAX], model[AB_NAME_BYTES_MAX],
        key[AB_KEY_BYTES_MAX + 1], *specs[LIST_MAX], *unset[LIST_MAX];
    const char *p, *r, *m, *k;
    size_t n = 0, nu = 0;
    int64_t replace, no_defaults;
    if (call_init(env, info, &c))
        return NULL;
    ab_store *st = arg_store(&c, 0);
    if (!st || arg_str(&c, 1, path, sizeof path, 0, &p, "path") ||
        arg_str(&c, 2, role, sizeof role, 1, &r, "spec.role") ||
        arg_str(&c, 3, model, sizeof model, 1, &m, "spec.model") || arg_i64(&c, 5, &replace) ||
        arg_i64(&c, 6, &no_defaults) || arg_str(&c, 7, key, sizeof key, 1, &k, "spec.key") ||
        arg_strs(&c, 4, specs, &n, "spec.limits"))
        return NULL;
    if (arg_strs(&c, 8, unset, &nu, "spec.unset")) {
        strs_free(specs, n);
        return NULL;
    }
    ab_limit limits[2 * LIST_MAX];
    char msg[384] = "", why[320];
    for (size_t j = 0; j < n && !msg[0]; j++)
        if (ab_limit_explain(specs[j], why, sizeof why))
            snprintf(msg, sizeof msg, "spec.limits[%zu]: %s", j, why);
        else
            ab_limit_parse(specs[j], &limits[j]);
    for (size_t j = 0; j < nu && !msg[0]; j++) {
        char spec0[160];
        snprintf(spec0, sizeof spec0, "%.120s=0", unset[j]);
        if (ab_limit_parse(spec0, &limits[n + j]))
            snprintf(msg, sizeof msg,
                     "spec.unset[%zu]: '%.120s' is not METRIC/WINDOW (e.g. usd/day)", j, unset[j]);
        limits[n + j].amount = -1;
    }
    /* one limit per metric and window, as the CLI and the HTTP API want */
    long rep = msg[0] ? -1 : ab_limits_repeated(limits, n + nu);
    if (rep >= 0)
        snprintf(msg, sizeof msg, "%s: %s/%s given twice (one limit per metric and window)",
                 (size_t)rep < n ? "spec.limits" : "spec.unset", ab_metric_name(limits[rep].metric),
                 ab_window_name(limits[rep].window));
    strs_free(specs, n);
    strs_free(unset, nu);
    if (msg[0]) {
        napi_throw_range_error(env, "AB_EINVAL", msg);
        return NULL;
    }
    ab_budget_spec spec = {.role = r,
                           .model = m,
                           .limits = limits,
                           .limits_count = n + nu,
                           .replace_limits = replace != 0,
                           .no_role_defaults = no_defaults != 0};
    int created = 0, rc = ab_budget_set(st, p, &spec, k, &created);
    if (rc) {
        throw_ab(env, st, rc);
        return NULL;
    }
    napi_value v;
    napi_get_boolean(env, created != 0, &v);
    return v;
}

/* setRole(h, name, limits[], allowTools[], denyTools[], allowModels[], denyModels[], admin). */
static napi_value js_set_role(napi_env env, napi_callback_info info)
{
    call c;
    char name[AB_NAME_BYTES_MAX], *specs[LIST_MAX];
    const char *nm;
    size_t ns = 0;
    int64_t admin;
    ab_store *st = NULL;
    ab_role *rl = calloc(1, sizeof *rl); /* large (about 1 KB of limits and list pointers) */
    if (!rl) {
        napi_throw_error(env, "AB_ENOMEM", "agentbudget: out of memory");
        return NULL;
    }
    napi_value result = NULL;
    if (call_init(env, info, &c))
        goto out;
    st = arg_store(&c, 0);
    if (!st || arg_str(&c, 1, name, sizeof name, 0, &nm, "name") || arg_i64(&c, 7, &admin) ||
        arg_strs(&c, 2, specs, &ns, "spec.limits") ||
        arg_strs(&c, 3, rl->allow_tools, &rl->allow_tools_count, "spec.allow_tools") ||
        arg_strs(&c, 4, rl->deny_tools, &rl->deny_tools_count, "spec.deny_tools") ||
        arg_strs(&c, 5, rl->allow_models, &rl->allow_models_count, "spec.allow_models") ||
        arg_strs(&c, 6, rl->deny_models, &rl->deny_models_count, "spec.deny_models"))
        goto out;
    snprintf(rl->name, sizeof rl->name, "%s", nm);
    rl->admin = admin != 0;
    if (ns > AB_LIMITS_MAX) {
        napi_throw_range_error(env, "AB_ELIMIT",
                               "spec.limits: at most 12 (one per metric and window)");
        goto out;
    }
    for (size_t j = 0; j < ns; j++) {
        char why[320], msg[384];
        if (ab_limit_explain(specs[j], why, sizeof why)) {
            snprintf(msg, sizeof msg, "spec.limits[%zu]: %s", j, why);
            napi_throw_range_error(env, "AB_EINVAL", msg);
            goto out;
        }
        ab_limit_parse(specs[j], &rl->limits[j]);
        rl->limits_count++;
    }
    int rc = ab_role_set(st, rl);
    if (rc) {
        throw_ab(env, st, rc);
        goto out;
    }
    result = undefined(env);
out:
    strs_free(specs, ns);
    strs_free(rl->allow_tools, rl->allow_tools_count);
    strs_free(rl->deny_tools, rl->deny_tools_count);
    strs_free(rl->allow_models, rl->allow_models_count);
    strs_free(rl->deny_models, rl->deny_models_count);
    free(rl);
    return result;
}

/* ---- module ---- */

static void instance_free(napi_env env, void *data, void *hint)
{
    (void)hint;
    instance *inst = data;
    if (inst->f64_ref)
        napi_delete_reference(env, inst->f64_ref);
    if (inst->i64_ref)
        napi_delete_reference(env, inst->i64_ref);
    free(inst);
}

NAPI_MODULE_INIT()
{
    instance *inst = calloc(1, sizeof *inst);
    if (!inst) {
        napi_throw_error(env, "AB_ENOMEM", "agentbudget: out of memory");
        return NULL;
    }
    napi_set_instance_data(env, inst, instance_free, NULL);
    static const struct {
        const char *name;
        napi_callback fn;
    } fns[] = {
        {"setScratch", js_set_scratch},
        {"open", js_open},
        {"close", js_close},
        {"initialize", js_initialize},
        {"check", js_check},
        {"checkUsage", js_check_usage},
        {"callFloor", js_call_floor},
        {"deduct", js_deduct},
        {"status", js_status},
        {"reset", js_reset},
        {"charge", js_charge},
        {"reserve", js_reserve},
        {"commit", js_commit},
        {"release", js_release},
        {"permission", js_permission},
        {"setBudget", js_set_budget},
        {"setRole", js_set_role},
    };
    for (size_t k = 0; k < sizeof fns / sizeof fns[0]; k++) {
        napi_value f;
        napi_create_function(env, fns[k].name, NAPI_AUTO_LENGTH, fns[k].fn, inst, &f);
        napi_set_named_property(env, exports, fns[k].name, f);
    }
    set(env, exports, "version", str(env, AB_VERSION));
    return exports;
}
