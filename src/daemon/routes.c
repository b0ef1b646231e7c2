/* routes.c — the HTTP/JSON API v1: the route table, authorisation by token scope and role,
 * request validation (each error names its field), and the handlers, which call the library. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon.h"

/* ---- reading the request ---- */

/* Is the request's Content-Type application/json (a media type is case-insensitive; parameters
 * such as "; charset=utf-8" may follow, but not more letters: not application/jsonp)? */
static int json_content(abd_call *c)
{
    const char *ct = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "Content-Type");
    if (!ct)
        return 0;
    ct += strspn(ct, " \t");
    return strncasecmp(ct, "application/json", 16) == 0 &&
           (ct[16] == '\0' || ct[16] == ';' || ct[16] == ' ' || ct[16] == '\t');
}

/* Parses the body as a JSON object whose fields are all in `allowed` (NULL-terminated).
 * 0, or the error reply's status. */
static int body_object(abd_call *c, const char *const *allowed)
{
    if (c->body_len == 0)
        return abd_error(c, 400, "invalid", "body", "a JSON object is required");
    if (!json_content(c))
        return abd_error(c, 415, "unsupported_media_type", "Content-Type",
                         "the body must be application/json");
    json_error_t err;
    c->json = json_loadb(c->body, c->body_len, JSON_REJECT_DUPLICATES, &err);
    if (!c->json)
        return abd_error(c, 400, "invalid", "body", "not JSON (line %d column %d): %s", err.line,
                         err.column, err.text);
    if (!json_is_object(c->json))
        return abd_error(c, 400, "invalid", "body", "must be a JSON object");
    const char *k;
    json_t *v;
    json_object_foreach(c->json, k, v)
    {
        int ok = 0;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, k) == 0;
        if (!ok)
            return abd_error(c, 400, "invalid", k, "unknown field '%s'", k);
    }
    return 0;
}

/* A string field: *out NULL when absent and not required. */
static int str_field(abd_call *c, json_t *obj, const char *name, int required, const char **out)
{
    json_t *v = json_object_get(obj, name);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required)
            return abd_error(c, 400, "invalid", name, "%s: required", name);
        return 0;
    }
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        strlen(json_string_value(v)) != json_string_length(v))
        return abd_error(c, 400, "invalid", name, "%s: must be a non-empty string", name);
    *out = json_string_value(v);
    return 0;
}

/* A non-negative whole number (token counts, seconds). */
/* obj's whole number name, >= 0; errors name it as prefix + name ("tier.above_tokens"). */
static int count_field_in(abd_call *c, json_t *obj, const char *prefix, const char *name,
                          int required, int64_t *out)
{
    char field[64];
    snprintf(field, sizeof field, "%s%s", prefix, name);
    json_t *v = json_object_get(obj, name);
    if (!v || json_is_null(v)) {
        if (required)
            return abd_error(c, 400, "invalid", field, "%s: required", field);
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return abd_error(c, 400, "invalid", field, "%s: must be a whole number >= 0", field);
    *out = (int64_t)json_integer_value(v);
    return 0;
}

static int count_field(abd_call *c, json_t *obj, const char *name, int required, int64_t *out)
{
    return count_field_in(c, obj, "", name, required, out);
}

static int bool_field(abd_call *c, json_t *obj, const char *name, int *out)
{
    json_t *v = json_object_get(obj, name);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return abd_error(c, 400, "invalid", name, "%s: must be true or false", name);
    *out = json_is_true(v);
    return 0;
}

/* "usage": {"input": N, "output": N, "cache_write_5m": N, "cache_write_1h": N, "cache_read": N} */
/* The usage object in field name of the body into u (all 0 if it is absent and not required). */
static int usage_object(abd_call *c, const char *name, int required, ab_usage *u)
{
    memset(u, 0, sizeof *u);
    json_t *v = json_object_get(c->json, name);
    if (!v || json_is_null(v))
        return required ? abd_error(c, 400, "invalid", name, "%s: required", name) : 0;
    if (!json_is_object(v))
        return abd_error(c, 400, "invalid", name, "%s: must be an object of token counts", name);
    static const char *const names[] = {"input", "output", "cache_write_5m", "cache_write_1h",
                                        "cache_read"};
    int64_t *dst[] = {&u->input, &u->output, &u->cache_write_5m, &u->cache_write_1h,
                      &u->cache_read};
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x)
    {
        int i = 0;
        while (i < 5 && strcmp(names[i], k) != 0)
            i++;
        char field[64];
        snprintf(field, sizeof field, "%s.%s", name, k);
        if (i == 5)
            return abd_error(c, 400, "invalid", field, "unknown field '%s'", field);
        if (!json_is_integer(x) || json_integer_value(x) < 0)
            return abd_error(c, 400, "invalid", field, "%s: must be a whole number >= 0", field);
        *dst[i] = (int64_t)json_integer_value(x);
    }
    return 0;
}

static int usage_field(abd_call *c, int required, ab_usage *u)
{
    return usage_object(c, "usage", required, u);
}

static int path_ok(abd_call *c, const char *field, const char *path)
{
    if (ab_path_validate(path))
        return abd_error(c, 400, "invalid", field,
                         "%s: '%s' is not a budget path (segments of [A-Za-z0-9._:@-], 1-%d "
                         "bytes each, at most %d segments, no '.' or '..')",
                         field, path, AB_PATH_SEGMENT_BYTES_MAX, AB_PATH_SEGMENTS_MAX);
    return 0;
}

/* ---- authorisation ---- */

/* Agent and admin tokens act inside their scope; outside it a budget does not exist for them
 * (404: names do not leak). */
static int in_scope(abd_call *c, const char *path)
{
    if (ab_scope_covers(c->token.scope, path))
        return 0;
    return abd_not_found(c, "no budget '%s'", path);
}

/* An admin token changes the budgets under its scope; its scope's own budget (the team's limits
 * that an admin above set) only an admin token whose scope is wider changes: the team lead's
 * token does not raise the team's limits. On no path: an admin token for the whole store. */
static int need_admin(abd_call *c, const char *path)
{
    if (c->token.role != AB_TOKEN_ADMIN)
        return abd_error(c, 403, "forbidden", NULL, "this needs an admin token");
    if (path ? !ab_scope_covers(c->token.scope, path) : c->token.scope[0] != '\0')
        return abd_error(c, 403, "forbidden", NULL,
                         path ? "this admin token's scope does not cover '%s'"
                              : "this needs an admin token for the whole store (scope \"\")%s",
                         path ? path : "");
    if (path && c->token.scope[0] && strcmp(c->token.scope, path) == 0)
        return abd_error(c, 403, "forbidden", NULL,
                         "an admin token scoped to '%s' changes the budgets under it, not '%s' "
                         "itself: that needs an admin token whose scope is wider",
                         path, path);
    return 0;
}

/* ---- shared replies ---- */

static void reply_status(abd_call *c, ab_store *st, const char *path, int status)
{
    ab_budget_status b;
    int rc = ab_budget_get(st, path, &b);
    if (rc) {
        abd_fail(c, st, rc);
        return;
    }
    abd_reply_json(c, status, ab_status_json(&b));
}

static void reply_decision(abd_call *c, const ab_decision *d)
{
    if (!d->allowed) {
        char reason[ABD_DENIAL_REASON_BYTES];
        abd_metrics_denial_reason(d, reason);
        if (c->pending == 1) /* a job of the writer: counted once its batch is durable */
            memcpy(c->denial, reason, sizeof reason);
        else
            abd_metrics_denial(reason);
    }
    abd_reply_json(c, 200, ab_decision_json(d));
}

/* ---- lists: the library's JSON strings joined as they are (re-parsing them would put the
 * exact money figures through doubles) ---- */

typedef struct {
    char *buf;
    size_t len, cap;
    size_t n;
    int oom;
} jlist;

static void jl_add(jlist *l, const char *s)
{
    size_t n = strlen(s);
    if (l->oom)
        return;
    if (l->len + n + 2 > l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4096;
        while (cap < l->len + n + 2)
            cap *= 2;
        char *b = realloc(l->buf, cap);
        if (!b) {
            l->oom = 1;
            return;
        }
        l->buf = b;
        l->cap = cap;
    }
    memcpy(l->buf + l->len, s, n + 1);
    l->len += n;
}

/* Appends one item (a malloc'd JSON string, taken). */
static int jl_item(jlist *l, char *json)
{
    if (!json) {
        l->oom = 1;
        return AB_ENOMEM;
    }
    jl_add(l, l->n++ ? "," : "");
    jl_add(l, json);
    free(json);
    return l->oom ? AB_ENOMEM : 0;
}

/* Replies {"name":[items]SUFFIX} where suffix is ",\"k\":v" or "". */
static void jl_reply(abd_call *c, jlist *l, const char *name, const char *suffix)
{
    jlist out = {0};
    jl_add(&out, "{\"");
    jl_add(&out, name);
    jl_add(&out, "\":[");
    jl_add(&out, l->buf ? l->buf : "");
    jl_add(&out, "]");
    jl_add(&out, suffix);
    jl_add(&out, "}");
    free(l->buf);
    if (out.oom || l->oom) {
        free(out.buf);
        abd_error(c, 500, "internal", NULL, "out of memory");
        return;
    }
    abd_reply_json(c, 200, out.buf);
}

/* A listing's reply: the list as "name", or the store's failure (rc of the walk that filled it). */
static void jl_finish(abd_call *c, ab_store *st, int rc, jlist *l, const char *name)
{
    if (rc) {
        abd_fail(c, st, rc);
        free(l->buf);
    } else {
        jl_reply(c, l, name, "");
    }
}

/* ---- handlers ---- */

static void h_healthz(abd_call *c)
{
    ab_store *st = abd_reader(c, 0);
    int version = 0, rc = ab_store_schema_version(st, &version);
    if (rc) {
        abd_error(c, 503, "store_unavailable", NULL, "the store does not answer");
        return;
    }
    abd_reply_obj(c, 200,
                  json_pack("{s:s,s:i,s:s}", "status", "ok", "schema_version", version, "version",
                            AB_VERSION));
}

static void h_dashboard(abd_call *c)
{
    c->status = 200;
    c->out = (char *)abd_dashboard_html;
    c->static_out = 1;
    c->content_type = "text/html; charset=utf-8";
}

static void h_metrics(abd_call *c)
{
    /* it names every budget: not for agents, nor for an admin of part of the store */
    if (c->token.role != AB_TOKEN_ADMIN || c->token.scope[0]) {
        abd_error(c, 403, "forbidden", NULL,
                  "metrics need an admin token for the whole store (scope \"\"), or the "
                  "--metrics-listen address");
        return;
    }
    ab_store *st = abd_reader(c, 0);
    char *m = abd_metrics_render(st);
    abd_reply_json(c, m ? 200 : 500, m);
    c->content_type = "text/plain; version=0.0.4";
}

static int collect_status(const ab_budget_status *b, void *v)
{
    return jl_item(v, ab_status_json(b));
}

static void h_budgets_list(abd_call *c)
{
    const char *prefix = MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, "prefix");
    if (prefix && !*prefix)
        prefix = NULL;
    if (prefix && path_ok(c, "prefix", prefix))
        return;
    if (!prefix && c->token.scope[0])
        prefix = c->token.scope;
    if (prefix && !ab_scope_covers(c->token.scope, prefix) &&
        !ab_scope_covers(prefix, c->token.scope)) {
        abd_reply_json(c, 200, strdup("{\"budgets\":[]}"));
        return;
    }
    if (prefix && !ab_scope_covers(c->token.scope, prefix))
        prefix = c->token.scope; /* a wider prefix is narrowed to the scope */
    jlist k = {0};
    ab_store *st = abd_reader(c, 0);
    int rc = ab_budget_list(st, prefix, collect_status, &k);
    jl_finish(c, st, rc, &k, "budgets");
}

static void h_budget_get(abd_call *c)
{
    if (path_ok(c, "path", c->rest) || in_scope(c, c->rest))
        return;
    ab_store *st = abd_reader(c, 0);
    reply_status(c, st, c->rest, 200);
}

/* PUT /v1/budgets/{path}: {"role", "model", "limits": ["usd/day=10", …], "unset": ["usd/day"],
 * "replace_limits", "no_role_defaults"} */
typedef struct {
    const char *path;
    ab_limit limits[AB_LIMITS_MAX * 2];
    ab_budget_spec spec;
} set_args;

static void job_budget_set(ab_store *st, abd_call *c)
{
    set_args *a = c->args;
    int created = 0, rc = ab_budget_set(st, a->path, &a->spec, c->key, &created);
    if (rc) {
        abd_fail(c, st, rc);
        return;
    }
    reply_status(c, st, a->path, created ? 201 : 200);
}

static int limit_list(abd_call *c, const char *name, int unset, set_args *a)
{
    json_t *v = json_object_get(c->json, name), *x;
    size_t i;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_array(v) || json_array_size(v) > AB_LIMITS_MAX)
        return abd_error(c, 400, "invalid", name, "%s: must be an array of at most %d specs", name,
                         AB_LIMITS_MAX);
    json_array_foreach(v, i, x)
    {
        char spec[128];
        ab_limit *l = &a->limits[a->spec.limits_count];
        if (json_is_string(x) && json_string_length(x) > sizeof spec - sizeof "=0")
            return abd_error(c, 400, "invalid", name, "%s: each item at most %zu bytes", name,
                             sizeof spec - sizeof "=0");
        if (json_is_string(x))
            snprintf(spec, sizeof spec, unset ? "%s=0" : "%s", json_string_value(x));
        char why[320]; /* a limit's rule, as the CLI says it: the amount's, or the names' */
        if (json_is_string(x) && !unset && ab_limit_explain(spec, why, sizeof why))
            return abd_error(c, 400, "invalid", name, "%s: %s", name, why);
        if (!json_is_string(x) || ab_limit_parse(spec, l))
            return abd_error(c, 400, "invalid", name,
                             unset ? "%s: each item is METRIC/WINDOW (e.g. \"usd/day\")"
                                   : "%s: each item is METRIC/WINDOW=AMOUNT (e.g. "
                                     "\"usd/day=10\"; USD as exact decimals)",
                             name);
        if (unset)
            l->amount = -1;
        if (ab_limits_repeated(a->limits, a->spec.limits_count + 1) >= 0)
            return abd_error(c, 400, "invalid", name,
                             "%s: %s/%s given twice (one limit per metric and window)", name,
                             ab_metric_name(l->metric), ab_window_name(l->window));
        a->spec.limits_count++;
    }
    return 0;
}

/* A budget's "model": a name, or "" to remove it (as `set --model ''`); absent or null keeps it. */
static int model_field(abd_call *c, const char **out)
{
    json_t *v = json_object_get(c->json, "model");
    if (json_is_string(v) && json_string_length(v) == 0) {
        *out = "";
        return 0;
    }
    return str_field(c, c->json, "model", 0, out);
}

/* May an agent token give the new budget at path the role role? Its nearest budget above (the
 * parent, else the nearest ancestor that exists) decides: its own role may always be given, any
 * role when that role sets no tool or model list (it allows everything: a role's lists only
 * narrow), else none. Otherwise an agent could make a child whose role allows the tools its own
 * denies, and run its subagents under it. AB_OK, or the reply is made. */
static int role_within_parent(abd_call *c, ab_store *st, const char *path, const char *role)
{
    char up[AB_PATH_BYTES_MAX + 1];
    snprintf(up, sizeof up, "%s", path);
    ab_budget_status b;
    int rc = AB_ENOTFOUND;
    for (char *slash; rc == AB_ENOTFOUND && (slash = strrchr(up, '/'));) {
        *slash = '\0';
        rc = ab_budget_get(st, up, &b);
    }
    if (rc == AB_ENOTFOUND || (rc == AB_OK && strcmp(b.role, role) == 0))
        return AB_OK; /* no budget above: no policy to widen */
    ab_role r;
    if (rc == AB_OK && (rc = ab_role_get(st, b.role, &r)) == AB_ENOTFOUND)
        return AB_OK; /* a role never defined: no policy */
    if (rc) {
        abd_fail(c, st, rc);
        return rc;
    }
    int policy =
        r.allow_tools_count || r.deny_tools_count || r.allow_models_count || r.deny_models_count;
    ab_role_free(&r);
    if (!policy)
        return AB_OK;
    /* the role's name only to a token that may read that budget (names outside it do not leak) */
    int seen = ab_scope_covers(c->token.scope, up);
    abd_error(c, 403, "forbidden", "role",
              "role: an agent token may give a budget it creates only the role of the nearest "
              "budget above it%s%s%s, whose tool and model lists the new budget may not widen "
              "(another role needs an admin token)",
              seen ? " ('" : "", seen ? b.role : "", seen ? "')" : "");
    return AB_EPERM;
}

/* An agent token's PUT: it may create a budget strictly under its scope, with a role and
 * nothing else (the role's default limits apply; its scope's limits bind it), but change none:
 * what the Claude Code hook needs to give each session a budget, without an admin token that
 * would let the session raise its own limits. The role may not widen the policy of the budget
 * above (role_within_parent). */
static void job_budget_create(ab_store *st, abd_call *c)
{
    set_args *a = c->args;
    ab_budget_status b;
    int rc = ab_budget_get(st, a->path, &b);
    if (rc == AB_OK && (!a->spec.role || !strcmp(a->spec.role, b.role))) {
        /* as made: a retry (with its key, the first answer, 201), or two hooks racing */
        if (c->key)
            job_budget_set(st, c);
        else
            reply_status(c, st, a->path, 200);
        return;
    }
    if (rc == AB_OK) {
        abd_error(c, 403, "forbidden", NULL,
                  "an agent token may create a budget under its scope, not change one");
        return;
    }
    if (rc != AB_ENOTFOUND) {
        abd_fail(c, st, rc);
        return;
    }
    if (role_within_parent(c, st, a->path, a->spec.role ? a->spec.role : "default"))
        return;
    job_budget_set(st, c);
}

static void h_budget_put(abd_call *c)
{
    static const char *const fields[] = {
        "role", "model", "limits", "unset", "replace_limits", "no_role_defaults", NULL};
    set_args *a = abd_args(c, sizeof *a);
    if (!a)
        return;
    a->path = c->rest;
    a->spec.limits = a->limits;
    if (path_ok(c, "path", c->rest))
        return;
    int agent_create = c->token.role == AB_TOKEN_AGENT &&
                       ab_scope_covers(c->token.scope, c->rest) &&
                       strcmp(c->token.scope, c->rest) != 0;
    if ((!agent_create && need_admin(c, c->rest)) || body_object(c, fields) ||
        str_field(c, c->json, "role", 0, &a->spec.role) || model_field(c, &a->spec.model) ||
        limit_list(c, "limits", 0, a) || limit_list(c, "unset", 1, a) ||
        bool_field(c, c->json, "replace_limits", &a->spec.replace_limits) ||
        bool_field(c, c->json, "no_role_defaults", &a->spec.no_role_defaults))
        return;
    if (agent_create) { /* a role only: empty lists and false flags are nothing */
        if (a->spec.model || a->spec.limits_count || a->spec.replace_limits ||
            a->spec.no_role_defaults) {
            abd_error(c, 403, "forbidden", NULL,
                      "an agent token may create a budget under its scope with a role only: "
                      "limits, model and the rest need an admin token");
            return;
        }
        abd_write(c, job_budget_create);
        return;
    }
    abd_write(c, job_budget_set);
}

static void job_budget_delete(ab_store *st, abd_call *c)
{
    int rc = ab_budget_delete(st, c->rest, c->key);
    if (rc)
        abd_fail(c, st, rc);
    else
        abd_reply_obj(c, 200, json_pack("{s:s}", "deleted", c->rest));
}

static void h_budget_delete(abd_call *c)
{
    if (path_ok(c, "path", c->rest) || need_admin(c, c->rest))
        return;
    abd_write(c, job_budget_delete);
}

/* POST /v1/check {"budget", "model"?, "tokens" | "usage"} */
static void h_check(abd_call *c)
{
    static const char *const fields[] = {"budget", "model", "tokens", "usage", NULL};
    const char *budget, *model;
    int64_t tokens = -1;
    ab_usage u;
    if (body_object(c, fields) || str_field(c, c->json, "budget", 1, &budget) ||
        path_ok(c, "budget", budget) || in_scope(c, budget) ||
        str_field(c, c->json, "model", 0, &model) ||
        count_field(c, c->json, "tokens", 0, &tokens) || usage_field(c, 0, &u))
        return;
    json_t *usage = json_object_get(c->json, "usage");
    int has_usage = usage && !json_is_null(usage); /* null is absent, as for every field */
    if ((tokens >= 0) == has_usage) {
        abd_error(c, 400, "invalid", "tokens", "give either tokens or usage");
        return;
    }
    if (tokens >= 0)
        u = (ab_usage){.input = tokens / 4, .output = tokens - tokens / 4};
    ab_decision d;
    ab_store *st = abd_reader(c, 0);
    int rc = ab_budget_check(st, budget, model, &u, &d);
    if (rc)
        abd_fail(c, st, rc);
    else
        reply_decision(c, &d);
}

typedef struct {
    const char *budget, *model;
    ab_usage usage;
    ab_usage before; /* charge: "charged_before", what the request grew from */
    int has_before;
    int64_t ttl_s;
    int which;
    int with_status;  /* charge: "status": true, the budget's status in the answer */
    char hold_id[64]; /* commit, release: from the URL */
} spend_args;

/* Notes spend for the metrics; the writer counts it after the commit (store.c). The model is
 * labelled "-" when the request named none, else as it was priced: the built-in model its name
 * stands for ("x1/claude-haiku-4-5", "x2/claude-haiku-4-5", … are haiku, not a series each: an
 * agent filled every family's 4,096 series that way, for a few cents, and pushed every other team's
 * spend into _other), else the store's price it was charged at, "default" for every name the
 * default price covers. */
static void spend_later(ab_store *st, abd_call *c, const char *budget, const char *model,
                        const ab_decision *d)
{
    ab_price p;
    if (!model) /* priced at the budget's model, or the default one */
        model = "-";
    else if (ab_price_builtin(model, &p) == AB_OK || ab_price_get(st, model, &p) == AB_OK)
        model = p.model;
    snprintf(c->spend_budget, sizeof c->spend_budget, "%s", budget);
    snprintf(c->spend_model, sizeof c->spend_model, "%s", model);
    c->spend_nusd = d->cost_nusd;
    c->spend_tokens = d->tokens;
}

static void job_reserve(ab_store *st, abd_call *c)
{
    spend_args *a = c->args;
    ab_decision d;
    int rc = ab_budget_reserve(st, a->budget, a->model, &a->usage, a->ttl_s, c->key, &d);
    if (rc)
        abd_fail(c, st, rc);
    else
        reply_decision(c, &d);
}

/* {…decision, "status": {…}}: the two objects of the library's JSON joined as they are (parsing
 * them again would put the exact money figures through doubles). Takes both; NULL if out of
 * memory. */
static char *decision_with_status(char *decision, char *status)
{
    char *out = NULL;
    size_t nd = decision ? strlen(decision) : 0, ns = status ? strlen(status) : 0;
    if (nd >= 2 && ns && (out = malloc(nd + ns + sizeof ",\"status\":}")))
        snprintf(out, nd + ns + sizeof ",\"status\":}", "%.*s,\"status\":%s}", (int)(nd - 1),
                 decision, status);
    free(decision);
    free(status);
    return out;
}

static void job_charge(ab_store *st, abd_call *c)
{
    spend_args *a = c->args;
    ab_decision d;
    int rc = ab_budget_charge_growth(st, a->budget, a->model, a->has_before ? &a->before : NULL,
                                     &a->usage, c->key, &d);
    if (rc) {
        abd_fail(c, st, rc);
        return;
    }
    if (!d.replayed)
        spend_later(st, c, a->budget, a->model, &d);
    if (!a->with_status) {
        reply_decision(c, &d);
        return;
    }
    /* read in the charge's own transaction (the writer's batch): the state this charge left */
    ab_budget_status b;
    if ((rc = ab_budget_get(st, a->budget, &b))) {
        abd_fail(c, st, rc);
        return;
    }
    abd_reply_json(c, 200, decision_with_status(ab_decision_json(&d), ab_status_json(&b)));
}

/* POST /v1/reserve {"budget", "model"?, "usage", "ttl_s"?}; POST /v1/charge {"budget", "model"?,
 * "usage", "charged_before"?, "status"?} */
static void h_spend(abd_call *c, int reserve)
{
    static const char *const fields[] = {"budget", "model", "usage", "ttl_s", NULL};
    static const char *const charge_fields[] = {"budget", "model",          "usage",
                                                "status", "charged_before", NULL};
    spend_args *a = abd_args(c, sizeof *a);
    if (!a || body_object(c, reserve ? fields : charge_fields) ||
        str_field(c, c->json, "budget", 1, &a->budget) || path_ok(c, "budget", a->budget) ||
        in_scope(c, a->budget) || str_field(c, c->json, "model", 0, &a->model) ||
        usage_field(c, 1, &a->usage) || count_field(c, c->json, "ttl_s", 0, &a->ttl_s) ||
        bool_field(c, c->json, "status", &a->with_status) ||
        usage_object(c, "charged_before", 0, &a->before))
        return;
    a->has_before = !reserve && json_is_object(json_object_get(c->json, "charged_before"));
    if (a->ttl_s > AB_TTL_S_MAX) {
        abd_error(c, 400, "invalid", "ttl_s", "ttl_s: at most %d seconds", AB_TTL_S_MAX);
        return;
    }
    abd_write(c, reserve ? job_reserve : job_charge);
}

static void h_reserve(abd_call *c)
{
    h_spend(c, 1);
}

static void h_charge(abd_call *c)
{
    h_spend(c, 0);
}

/* 405 with the methods the path takes in Allow: HEAD too where GET is (it works wherever GET
 * does). */
static void method_not_allowed(abd_call *c, const char *allow)
{
    const char *get = strstr(allow, "GET");
    if (get)
        snprintf(c->allow, sizeof c->allow, "%.*sGET, HEAD%s", (int)(get - allow), allow, get + 3);
    else
        snprintf(c->allow, sizeof c->allow, "%s", allow);
    abd_error(c, 405, "method_not_allowed", NULL, "%s is not allowed here (allowed: %s)", c->method,
              c->allow);
}

/* The hold's budget must be in the caller's scope; AB_OK, or the reply is made. */
static int hold_in_scope(abd_call *c, ab_store *st, const char *id, ab_hold *h)
{
    int rc = ab_hold_get(st, id, h);
    if (rc) {
        abd_fail(c, st, rc);
        return rc;
    }
    if (!ab_scope_covers(c->token.scope, h->budget)) {
        abd_not_found(c, "no hold '%s'", id);
        return AB_ENOTFOUND;
    }
    return AB_OK;
}

static void job_commit(ab_store *st, abd_call *c)
{
    spend_args *a = c->args;
    ab_hold h;
    if (hold_in_scope(c, st, c->rest, &h))
        return;
    ab_decision d;
    int rc = ab_hold_commit(st, c->rest, &a->usage, c->key, &d);
    if (rc) {
        abd_fail(c, st, rc);
        return;
    }
    if (!d.replayed)
        spend_later(st, c, h.budget, h.model, &d);
    reply_decision(c, &d);
}

static void job_release(ab_store *st, abd_call *c)
{
    ab_hold h;
    if (hold_in_scope(c, st, c->rest, &h))
        return;
    int rc = ab_hold_release(st, c->rest, c->key);
    if (rc)
        abd_fail(c, st, rc);
    else
        abd_reply_obj(c, 200, json_pack("{s:s}", "released", c->rest));
}

/* POST /v1/holds/{id}/commit {"usage"}; POST /v1/holds/{id}/release */
static void h_hold_action(abd_call *c)
{
    static const char *const fields[] = {"usage", NULL};
    const char *slash = strchr(c->rest, '/');
    spend_args *a;
    if (!slash) { /* /v1/holds/ID is read with GET */
        method_not_allowed(c, "GET");
        return;
    }
    if ((size_t)(slash - c->rest) >= sizeof a->hold_id) {
        abd_error(c, 404, "not_found", NULL, "expected /v1/holds/ID/commit or /release");
        return;
    }
    if (!(a = abd_args(c, sizeof *a)))
        return;
    snprintf(a->hold_id, sizeof a->hold_id, "%.*s", (int)(slash - c->rest), c->rest);
    if (strcmp(slash + 1, "commit") == 0) {
        if (body_object(c, fields) || usage_field(c, 1, &a->usage))
            return;
        c->rest = a->hold_id;
        abd_write(c, job_commit);
    } else if (strcmp(slash + 1, "release") == 0) {
        if (c->body_len && body_object(c, (const char *const[]){NULL}))
            return;
        c->rest = a->hold_id;
        abd_write(c, job_release);
    } else {
        abd_error(c, 404, "not_found", NULL, "expected /v1/holds/ID/commit or /release");
    }
}

static void h_hold_get(abd_call *c)
{
    const char *slash = strchr(c->rest, '/');
    if (slash && (!strcmp(slash + 1, "commit") || !strcmp(slash + 1, "release"))) {
        method_not_allowed(c, "POST");
        return;
    }
    ab_store *st = abd_reader(c, 0);
    ab_hold h;
    if (hold_in_scope(c, st, c->rest, &h) == AB_OK)
        abd_reply_json(c, 200, ab_hold_json(&h));
}

static void job_reset(ab_store *st, abd_call *c)
{
    spend_args *a = c->args;
    int rc = ab_budget_reset(st, a->budget, a->which, c->key);
    if (rc)
        abd_fail(c, st, rc);
    else
        reply_status(c, st, a->budget, 200);
}

/* POST /v1/reset {"budget", "windows": ["session", "day", "month"] | "all"}. An admin token: an
 * agent token's holder — the Claude Code session whose tools run with the hook's environment —
 * would lift its own session limit with it. An admin token resets the session of its scope's own
 * budget too; its day and month only one with a wider scope (need_admin). */
static void h_reset(abd_call *c)
{
    static const char *const fields[] = {"budget", "windows", NULL};
    spend_args *a = abd_args(c, sizeof *a);
    if (!a || body_object(c, fields) || str_field(c, c->json, "budget", 1, &a->budget) ||
        path_ok(c, "budget", a->budget) || in_scope(c, a->budget))
        return;
    json_t *w = json_object_get(c->json, "windows"), *x;
    size_t i;
    if (json_is_string(w) && strcmp(json_string_value(w), "all") == 0)
        a->which = AB_RESET_ALL;
    else if (json_is_array(w))
        json_array_foreach(w, i, x)
        {
            const char *s = json_is_string(x) ? json_string_value(x) : "";
            int bit = !strcmp(s, "session") ? AB_RESET_SESSION
                      : !strcmp(s, "day")   ? AB_RESET_DAY
                      : !strcmp(s, "month") ? AB_RESET_MONTH
                                            : 0;
            if (!bit) {
                abd_error(c, 400, "invalid", "windows",
                          "windows: items are \"session\", \"day\" or \"month\"");
                return;
            }
            a->which |= bit;
        }
    if (!a->which) {
        abd_error(c, 400, "invalid", "windows",
                  "windows: required, [\"session\", \"day\", \"month\"] or \"all\"");
        return;
    }
    if (c->token.role != AB_TOKEN_ADMIN) {
        abd_error(c, 403, "forbidden", NULL,
                  "resetting a window needs an admin token (an agent would lift its own session "
                  "limit)");
        return;
    }
    if (a->which != AB_RESET_SESSION && need_admin(c, a->budget))
        return;
    abd_write(c, job_reset);
}

/* POST /v1/permissions/check {"budget", "operation", "model"?, "usage"?, "estimated_tokens"?} */
static void h_permission(abd_call *c)
{
    static const char *const fields[] = {"budget", "operation",        "model",
                                         "usage",  "estimated_tokens", NULL};
    const char *budget, *op;
    ab_permission_context ctx = {0};
    ab_usage usage;
    if (body_object(c, fields) || str_field(c, c->json, "budget", 1, &budget) ||
        path_ok(c, "budget", budget) || in_scope(c, budget) ||
        str_field(c, c->json, "operation", 1, &op) ||
        str_field(c, c->json, "model", 0, &ctx.model) || usage_field(c, 0, &usage) ||
        count_field(c, c->json, "estimated_tokens", 0, &ctx.estimated_tokens))
        return;
    json_t *u = json_object_get(c->json, "usage");
    if (u && !json_is_null(u)) /* an exact estimate instead of estimated_tokens */
        ctx.usage = &usage;
    ab_decision d;
    ab_store *st = abd_reader(c, 0);
    int rc = ab_check_permission(st, budget, op, &ctx, &d);
    if (rc)
        abd_fail(c, st, rc);
    else
        reply_decision(c, &d);
}

/* ---- events ---- */

typedef struct {
    jlist list;
    int64_t last;
} events_out;

static int collect_event(const ab_event *e, void *v)
{
    events_out *k = v;
    k->last = e->id;
    return jl_item(&k->list, ab_event_json(e));
}

static int query_count(abd_call *c, const char *name, int64_t *out)
{
    const char *v = MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, name);
    if (v && ab_tokens_parse(v, out))
        return abd_error(c, 400, "invalid", name, "%s: must be a whole number", name);
    return 0;
}

/* GET /v1/events?budget=&op=&since=&until=&after=&limit= (paged: next_after is the cursor) */
static void h_events(abd_call *c)
{
    ab_event_query q = {0};
    q.budget = MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, "budget");
    q.op = MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, "op");
    if (q.budget && !*q.budget)
        q.budget = NULL;
    if (q.op && !*q.op)
        q.op = NULL;
    if ((q.budget && path_ok(c, "budget", q.budget)) || query_count(c, "since", &q.since_ms) ||
        query_count(c, "until", &q.until_ms) || query_count(c, "after", &q.after_id) ||
        query_count(c, "limit", &q.limit))
        return;
    if (q.limit == 0)
        q.limit = 1000;
    if (q.limit > AB_EVENTS_PAGE_MAX) {
        abd_error(c, 400, "invalid", "limit", "limit: at most %d", AB_EVENTS_PAGE_MAX);
        return;
    }
    if (!q.budget && c->token.scope[0])
        q.budget = c->token.scope;
    if (q.budget && in_scope(c, q.budget))
        return;
    events_out k = {{0}, 0};
    ab_store *st = abd_reader(c, 0);
    int rc = ab_events_query(st, &q, collect_event, &k);
    if (rc) {
        abd_fail(c, st, rc);
        free(k.list.buf);
        return;
    }
    char next[48] = ",\"next_after\":null";
    if (k.list.n == (size_t)q.limit) /* a full page: there may be more after the last id */
        snprintf(next, sizeof next, ",\"next_after\":%" PRId64, k.last);
    jl_reply(c, &k.list, "events", next);
}

/* ---- prices, roles, tokens (admin for changes) ---- */

static int collect_price(const ab_price *p, void *v)
{
    return jl_item(v, ab_price_json(p));
}

static void h_prices_list(abd_call *c)
{
    const char *b = MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, "builtin");
    if (b && strcmp(b, "0") && strcmp(b, "1")) { /* builtin=false gave the table too */
        abd_error(c, 400, "invalid", "builtin",
                  "builtin: 1 (the built-in table too) or 0 (the store's prices only)");
        return;
    }
    jlist k = {0}, *list = &k;
    ab_store *st = abd_reader(c, 0);
    int rc = ab_price_list(st, b && !strcmp(b, "1"), collect_price, list);
    jl_finish(c, st, rc, &k, "prices");
}

static void h_price_get(abd_call *c)
{
    ab_price p;
    ab_store *st = abd_reader(c, 0);
    int rc = ab_price_get(st, c->rest, &p);
    if (rc)
        abd_fail_as(c, st, rc, rc == AB_EUNKNOWNMODEL ? 404 : 0); /* ab_code as the CLI's */
    else
        abd_reply_json(c, 200, ab_price_json(&p));
}

/* A price in USD per million tokens: a JSON string with an exact decimal ("3.75"), so that no
 * binary floating point touches money. */
static int price_field(abd_call *c, json_t *obj, const char *prefix, const char *name, int64_t *out)
{
    json_t *v = json_object_get(obj, name);
    char field[64];
    snprintf(field, sizeof field, "%s%s", prefix, name);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v) || ab_price_parse(json_string_value(v), out))
        return abd_error(c, 400, "invalid", field,
                         "%s: must be a string with USD per million tokens, at most 6 decimals "
                         "and at most 1000000000 (e.g. \"3.75\")",
                         field);
    return 0;
}

typedef struct {
    ab_price price;
    ab_role role;
} admin_args;

static void job_price_put(ab_store *st, abd_call *c)
{
    admin_args *a = c->args;
    int rc = ab_price_set(st, &a->price);
    if (rc)
        abd_fail(c, st, rc);
    else
        abd_reply_json(c, 200, ab_price_json(&a->price));
}

static void h_price_put(abd_call *c)
{
    static const char *const fields[] = {
        "input", "output", "cache_write_5m", "cache_write_1h", "cache_read", "tier", NULL};
    static const char *const tier_fields[] = {
        "above_tokens", "input", "output", "cache_write_5m", "cache_write_1h", "cache_read", NULL};
    admin_args *a = abd_args(c, sizeof *a);
    if (!a)
        return;
    ab_price *p = &a->price;
    if (need_admin(c, NULL) || body_object(c, fields))
        return;
    if (strlen(c->rest) >= sizeof p->model) {
        abd_error(c, 400, "invalid", "model", "model: at most %zu bytes", sizeof p->model - 1);
        return;
    }
    strcpy(p->model, c->rest);
    p->input = p->output = p->cache_write_5m = p->cache_write_1h = p->cache_read = -1;
    p->tier_input = p->tier_output = p->tier_cache_write_5m = -1;
    p->tier_cache_write_1h = p->tier_cache_read = -1;
    if (price_field(c, c->json, "", "input", &p->input) ||
        price_field(c, c->json, "", "output", &p->output) ||
        price_field(c, c->json, "", "cache_write_5m", &p->cache_write_5m) ||
        price_field(c, c->json, "", "cache_write_1h", &p->cache_write_1h) ||
        price_field(c, c->json, "", "cache_read", &p->cache_read))
        return;
    if (p->input < 0 || p->output < 0) {
        abd_error(c, 400, "invalid", p->input < 0 ? "input" : "output", "%s: required",
                  p->input < 0 ? "input" : "output");
        return;
    }
    json_t *tier = json_object_get(c->json, "tier");
    if (tier && !json_is_null(tier)) {
        const char *k;
        json_t *x;
        if (!json_is_object(tier)) {
            abd_error(c, 400, "invalid", "tier", "tier: must be an object");
            return;
        }
        json_object_foreach(tier, k, x)
        {
            int ok = 0;
            for (const char *const *f = tier_fields; *f && !ok; f++)
                ok = strcmp(*f, k) == 0;
            if (!ok) {
                abd_error(c, 400, "invalid", "tier", "unknown field 'tier.%s'", k);
                return;
            }
        }
        if (count_field_in(c, tier, "tier.", "above_tokens", 1, &p->tier_threshold_tokens) ||
            price_field(c, tier, "tier.", "input", &p->tier_input) ||
            price_field(c, tier, "tier.", "output", &p->tier_output) ||
            price_field(c, tier, "tier.", "cache_write_5m", &p->tier_cache_write_5m) ||
            price_field(c, tier, "tier.", "cache_write_1h", &p->tier_cache_write_1h) ||
            price_field(c, tier, "tier.", "cache_read", &p->tier_cache_read))
            return;
        if (p->tier_threshold_tokens < 1) {
            abd_error(c, 400, "invalid", "tier.above_tokens",
                      "tier.above_tokens: must be at least 1 (when a request's input, cache-write "
                      "and cache-read tokens together exceed it, all of its tokens, output too, "
                      "are priced at the tier's rates)");
            return;
        }
        if (p->tier_input < 0) {
            abd_error(c, 400, "invalid", "tier.input", "tier.input: required");
            return;
        }
    }
    ab_price_fill_defaults(p);
    abd_write(c, job_price_put);
}

static void job_price_delete(ab_store *st, abd_call *c)
{
    int rc = ab_price_unset(st, c->rest);
    if (rc)
        abd_fail(c, st, rc);
    else
        abd_reply_obj(c, 200, json_pack("{s:s}", "unset", c->rest));
}

static void h_price_delete(abd_call *c)
{
    if (!need_admin(c, NULL))
        abd_write(c, job_price_delete);
}

static void job_price_import(ab_store *st, abd_call *c)
{
    size_t n = 0;
    int rc = ab_price_import_litellm(st, c->body, c->body_len, &n);
    if (rc)
        abd_fail(c, st, rc);
    else
        abd_reply_obj(c, 200, json_pack("{s:I}", "imported", (json_int_t)n));
}

static void h_price_import(abd_call *c)
{
    if (need_admin(c, NULL))
        return;
    if (!json_content(c)) {
        abd_error(c, 415, "unsupported_media_type", "Content-Type",
                  "the body must be application/json (LiteLLM's price file)");
        return;
    }
    abd_write(c, job_price_import);
}

static int collect_role(const ab_role *r, void *v)
{
    return jl_item(v, ab_role_json(r));
}

static void h_roles_list(abd_call *c)
{
    jlist k = {0}, *list = &k;
    ab_store *st = abd_reader(c, 0);
    int rc = ab_role_list(st, collect_role, list);
    jl_finish(c, st, rc, &k, "roles");
}

static void h_role_get(abd_call *c)
{
    ab_role r;
    ab_store *st = abd_reader(c, 0);
    int rc = ab_role_get(st, c->rest, &r);
    if (rc) {
        abd_fail(c, st, rc);
    } else {
        abd_reply_json(c, 200, ab_role_json(&r));
        ab_role_free(&r);
    }
}

static int glob_list(abd_call *c, const char *name, char **dst, size_t *n)
{
    json_t *v = json_object_get(c->json, name), *x;
    size_t i;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_array(v) || json_array_size(v) > AB_GLOBS_MAX)
        return abd_error(c, 400, "invalid", name, "%s: an array of at most %d patterns", name,
                         AB_GLOBS_MAX);
    json_array_foreach(v, i, x)
    {
        if (!json_is_string(x) || !*json_string_value(x))
            return abd_error(c, 400, "invalid", name, "%s: items must be non-empty strings", name);
        dst[(*n)++] = (char *)json_string_value(x);
    }
    return 0;
}

static void job_role_put(ab_store *st, abd_call *c)
{
    admin_args *a = c->args;
    int rc = ab_role_set(st, &a->role);
    if (rc)
        abd_fail(c, st, rc);
    else
        abd_reply_json(c, 200, ab_role_json(&a->role));
}

static void h_role_put(abd_call *c)
{
    static const char *const fields[] = {"limits",      "allow_tools", "deny_tools", "allow_models",
                                         "deny_models", "admin",       NULL};
    admin_args *a = abd_args(c, sizeof *a);
    if (!a)
        return;
    ab_role *r = &a->role;
    if (need_admin(c, NULL) || body_object(c, fields))
        return;
    if (strlen(c->rest) >= sizeof r->name) {
        abd_error(c, 400, "invalid", "name", "name: at most %zu bytes", sizeof r->name - 1);
        return;
    }
    strcpy(r->name, c->rest);
    set_args limits;
    memset(&limits, 0, sizeof limits);
    if (limit_list(c, "limits", 0, &limits) ||
        glob_list(c, "allow_tools", r->allow_tools, &r->allow_tools_count) ||
        glob_list(c, "deny_tools", r->deny_tools, &r->deny_tools_count) ||
        glob_list(c, "allow_models", r->allow_models, &r->allow_models_count) ||
        glob_list(c, "deny_models", r->deny_models, &r->deny_models_count) ||
        bool_field(c, c->json, "admin", &r->admin))
        return;
    memcpy(r->limits, limits.limits, sizeof r->limits);
    r->limits_count = limits.spec.limits_count;
    abd_write(c, job_role_put);
}

static void job_role_delete(ab_store *st, abd_call *c)
{
    int rc = ab_role_delete(st, c->rest);
    if (rc)
        abd_fail(c, st, rc);
    else
        abd_reply_obj(c, 200, json_pack("{s:s}", "deleted", c->rest));
}

static void h_role_delete(abd_call *c)
{
    if (!need_admin(c, NULL))
        abd_write(c, job_role_delete);
}

static int collect_token(const ab_token *t, void *v)
{
    return jl_item(v, ab_token_json(t));
}

static void h_tokens_list(abd_call *c)
{
    if (need_admin(c, NULL))
        return;
    jlist k = {0}, *list = &k;
    ab_store *st = abd_reader(c, 0);
    int rc = ab_token_list(st, collect_token, list);
    jl_finish(c, st, rc, &k, "tokens");
}

typedef struct {
    const char *scope, *label;
    ab_token_role role;
    int64_t expires_s;
} token_args;

static void job_token_create(ab_store *st, abd_call *c)
{
    token_args *a = c->args;
    char secret[AB_TOKEN_SECRET_BYTES + 1];
    ab_token t;
    int rc = ab_token_create(st, a->scope, a->role, a->label, a->expires_s, secret, &t);
    if (rc) {
        abd_fail(c, st, rc);
        return;
    }
    char *s = ab_token_json(&t), *out = NULL;
    /* the token's JSON with the secret added (shown once) */
    if (s && asprintf(&out, "{\"secret\":\"%s\",%s", secret, s + 1) < 0)
        out = NULL;
    free(s);
    if (!out) {
        abd_error(c, 500, "internal", NULL, "out of memory");
        return;
    }
    abd_reply_json(c, 201, out);
}

/* POST /v1/tokens {"scope", "role": "agent"|"admin", "label"?, "expires_s"?} */
static void h_token_create(abd_call *c)
{
    static const char *const fields[] = {"scope", "role", "label", "expires_s", NULL};
    token_args *a = abd_args(c, sizeof *a);
    const char *role;
    if (!a || need_admin(c, NULL) || body_object(c, fields))
        return;
    /* "" is no label, as absent is (and as the CLI's --label '' is): it was refused here */
    json_t *label = json_object_get(c->json, "label");
    int no_label = json_is_string(label) && !json_string_length(label);
    if (str_field(c, c->json, "role", 1, &role) ||
        (!no_label && str_field(c, c->json, "label", 0, &a->label)) ||
        count_field(c, c->json, "expires_s", 0, &a->expires_s))
        return;
    if (a->expires_s > AB_TOKEN_TTL_S_MAX) { /* the library's message names its own "expires" */
        abd_error(c, 400, "invalid", "expires_s", "expires_s: 0 (never) to %" PRId64 " (100 years)",
                  AB_TOKEN_TTL_S_MAX);
        return;
    }
    json_t *scope = json_object_get(c->json, "scope");
    if (!json_is_string(scope)) {
        abd_error(c, 400, "invalid", "scope", "scope: required, a budget path or \"\" for all");
        return;
    }
    a->scope = json_string_value(scope);
    if (strcmp(role, "agent") && strcmp(role, "admin")) {
        abd_error(c, 400, "invalid", "role", "role: \"agent\" or \"admin\"");
        return;
    }
    a->role = strcmp(role, "admin") == 0 ? AB_TOKEN_ADMIN : AB_TOKEN_AGENT;
    abd_write(c, job_token_create);
}

static void job_token_revoke(ab_store *st, abd_call *c)
{
    int rc = ab_token_revoke(st, c->rest);
    if (rc)
        abd_fail(c, st, rc);
    else
        abd_reply_obj(c, 200, json_pack("{s:s}", "revoked", c->rest));
}

static void h_token_revoke(abd_call *c)
{
    if (!need_admin(c, NULL))
        abd_write(c, job_token_revoke);
}

/* ---- the table ---- */

typedef struct {
    const char *method;
    const char *path; /* exact, or a prefix when it ends with '/' (the rest goes to c->rest) */
    const char *name;
    void (*fn)(abd_call *c);
    int no_key; /* a write that an Idempotency-Key cannot make safe to retry: refused with one */
} route;

static const route routes[] = {
    {"GET", "/healthz", "healthz", h_healthz, 0},
    {"GET", "/", "dashboard", h_dashboard, 0},
    {"GET", "/metrics", "metrics", h_metrics, 0},
    {"GET", "/v1/budgets", "budgets.list", h_budgets_list, 0},
    {"GET", "/v1/budgets/", "budgets.get", h_budget_get, 0},
    {"PUT", "/v1/budgets/", "budgets.put", h_budget_put, 0},
    {"DELETE", "/v1/budgets/", "budgets.delete", h_budget_delete, 0},
    {"POST", "/v1/check", "check", h_check, 0},
    {"POST", "/v1/reserve", "reserve", h_reserve, 0},
    {"POST", "/v1/charge", "charge", h_charge, 0},
    {"POST", "/v1/reset", "reset", h_reset, 0},
    {"GET", "/v1/holds/", "holds.get", h_hold_get, 0},
    {"POST", "/v1/holds/", "holds.settle", h_hold_action, 0},
    {"POST", "/v1/permissions/check", "permissions.check", h_permission, 0},
    {"GET", "/v1/events", "events", h_events, 0},
    {"GET", "/v1/prices", "prices.list", h_prices_list, 0},
    {"POST", "/v1/prices/import", "prices.import", h_price_import, 1},
    {"GET", "/v1/prices/", "prices.get", h_price_get, 0},
    {"PUT", "/v1/prices/", "prices.put", h_price_put, 1},
    {"DELETE", "/v1/prices/", "prices.delete", h_price_delete, 1},
    {"GET", "/v1/roles", "roles.list", h_roles_list, 0},
    {"GET", "/v1/roles/", "roles.get", h_role_get, 0},
    {"PUT", "/v1/roles/", "roles.put", h_role_put, 1},
    {"DELETE", "/v1/roles/", "roles.delete", h_role_delete, 1},
    {"GET", "/v1/tokens", "tokens.list", h_tokens_list, 0},
    {"POST", "/v1/tokens", "tokens.create", h_token_create, 1},
    {"DELETE", "/v1/tokens/", "tokens.delete", h_token_revoke, 1},
};

/* The query parameters a route reads ("" none): any other, or one given twice, is refused,
 * rather than ignored (GET /v1/events?limt=2 answered 1000 events). */
static const char *route_query(const char *name)
{
    if (!strcmp(name, "events"))
        return " budget op since until after limit ";
    if (!strcmp(name, "budgets.list"))
        return " prefix ";
    if (!strcmp(name, "prices.list"))
        return " builtin ";
    return "";
}

typedef struct {
    const char *allowed;
    char bad[96];
    char seen[256];
} query_check;

static enum MHD_Result query_arg(void *v, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    (void)kind;
    (void)value;
    query_check *q = v;
    char word[72];
    snprintf(word, sizeof word, " %.64s ", key ? key : "");
    if (strlen(key ? key : "") > 64 || !strstr(q->allowed, word))
        snprintf(q->bad, sizeof q->bad, "%.64s: unknown parameter", key ? key : "");
    else if (strstr(q->seen, word))
        snprintf(q->bad, sizeof q->bad, "%.64s: given twice", key);
    else
        snprintf(q->seen + strlen(q->seen), sizeof q->seen - strlen(q->seen), "%s", word);
    return q->bad[0] ? MHD_NO : MHD_YES;
}

/* 0 if the request's query is one the route reads, else the error reply's status. */
static int query_ok(abd_call *c, const char *name)
{
    query_check q = {.allowed = route_query(name)};
    MHD_get_connection_values(c->conn, MHD_GET_ARGUMENT_KIND, query_arg, &q);
    if (!q.bad[0])
        return 0;
    const char *allowed = route_query(name); /* " a b ": its last blank left out */
    return abd_error(c, 400, "invalid", "query", "query: %s (%s%.*s)", q.bad,
                     *allowed ? "this route reads:" : "this route reads none",
                     *allowed ? (int)strlen(allowed) - 1 : 0, allowed);
}

/* Does route r take url? *rest gets what a prefix route leaves over. */
static int matches(const route *r, const char *url, const char **rest)
{
    size_t n = strlen(r->path);
    if (r->path[n - 1] != '/' || n == 1)
        return strcmp(url, r->path) == 0 && (*rest = "", 1);
    if (strncmp(url, r->path, n) != 0 || !url[n])
        return 0;
    *rest = url + n;
    return 1;
}

void abd_route(abd_call *c)
{
    /* keys are the caller's own: two agents may both use "call-1" (the store sees token:key) */
    const char *key = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "Idempotency-Key");
    if (key && c->authed) {
        if (!*key || strlen(key) + strlen(c->token.id) + 1 > AB_KEY_BYTES_MAX) {
            abd_error(c, 400, "invalid", "Idempotency-Key", "Idempotency-Key: 1 to %zu bytes",
                      AB_KEY_BYTES_MAX - strlen(c->token.id) - 1);
            return;
        }
        snprintf(c->key_buf, sizeof c->key_buf, "%s:%s", c->token.id, key);
        key = c->key_buf;
    }
    c->key = key;
    char methods[64] = "";
    int path_known = 0;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const char *rest;
        if (!matches(&routes[i], c->url, &rest))
            continue;
        /* an exact route wins over a prefix route of the same path (POST /v1/prices/import) */
        if (strcmp(routes[i].method, c->method) == 0) {
            c->route = routes[i].name;
            c->rest = rest;
            if (query_ok(c, routes[i].name))
                return;
            if (c->body_len && (!strcmp(c->method, "GET") || !strcmp(c->method, "DELETE"))) {
                abd_error(c, 400, "invalid", "body", "body: %s %s takes none", c->method,
                          routes[i].path);
                return;
            }
            if (key && routes[i].no_key) { /* it would be ignored: a retry would do it again */
                abd_error(c, 400, "invalid", "Idempotency-Key",
                          "Idempotency-Key: %s %s takes none (only the budget, spend and hold "
                          "writes do)",
                          routes[i].method, routes[i].path);
                return;
            }
            routes[i].fn(c);
            return;
        }
        path_known = 1;
        if (!strstr(methods, routes[i].method))
            snprintf(methods + strlen(methods), sizeof methods - strlen(methods), "%s%s",
                     methods[0] ? ", " : "", routes[i].method);
    }
    c->route = "none";
    if (path_known) { /* /v1/holds/ID takes GET, /v1/holds/ID/ACTION POST: not both */
        method_not_allowed(c, strncmp(c->url, "/v1/holds/", 10) ? methods
                              : strchr(c->url + 10, '/')        ? "POST"
                                                                : "GET");
        return;
    }
    abd_error(c, 404, "not_found", NULL, "no route %s %s", c->method, c->url);
}

void abd_routes_print(void)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        printf("%s %s\n", routes[i].method, routes[i].path);
}
