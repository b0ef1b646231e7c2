/* budget.c — budgets as data: create/update, status, list, delete and resets. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct {
    const char *path;
    const ab_budget_spec *spec;
    const char *key;
    int which;
    int *created;
    ab_budget_status *out;
} budget_args;

static void budget_new(ab__budget *b, const char *path, int64_t now)
{
    memset(b, 0, sizeof *b);
    ab__strlcpy(b->s.path, path, sizeof b->s.path);
    ab__strlcpy(b->s.role, "default", sizeof b->s.role);
    for (int w = 0; w < AB_WINDOW_COUNT; w++)
        for (int m = 0; m < AB_METRIC_COUNT; m++)
            b->s.limit[w][m] = -1;
    b->s.created_at_ms = b->s.session_reset_ms = b->s.last_reset_ms = now;
    b->s.updated_at_ms = now;
    b->s.day_start_ms = ab__day_start(now);
    b->s.month_start_ms = ab__month_start(now);
    b->next_expiry_ms = INT64_MAX;
}

static void limits_apply(ab__budget *b, const ab_limit *l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        b->s.limit[l[i].window][l[i].metric] = l[i].amount < 0 ? -1 : l[i].amount;
}

static void spec_params(char *buf, size_t size, const char *path, const ab_budget_spec *sp)
{
    int off = snprintf(buf, size, "set|%s|%s|%s|%d|%d", path, sp->role ? sp->role : "",
                       sp->model ? sp->model : "", sp->replace_limits, sp->no_role_defaults);
    for (size_t i = 0; i < sp->limits_count && off > 0 && (size_t)off < size; i++)
        off += snprintf(buf + off, size - (size_t)off, "|%d/%d=%" PRId64, (int)sp->limits[i].metric,
                        (int)sp->limits[i].window, sp->limits[i].amount);
}

static int op_set(ab__ctx *c, void *v)
{
    budget_args *a = v;
    ab_store *st = c->st;
    const ab_budget_spec *sp = a->spec;
    char params[AB__PARAMS_BYTES];
    ab_decision prior;
    int replayed, rc;
    spec_params(params, sizeof params, a->path, sp);
    if ((rc = ab__idem_check(st, a->key, params, &prior, &replayed)) || replayed) {
        if (replayed && a->created)
            *a->created = prior.allowed;
        return rc;
    }
    if ((rc = ab__chain_load(c, a->path, 1)))
        return rc;
    int exists = c->chain_len > 0 && strcmp(c->b[0].s.path, a->path) == 0;
    ab__budget nb, *b = exists ? &c->b[0] : &nb;
    if (!exists)
        budget_new(&nb, a->path, c->now_ms);
    if (sp->model && *sp->model) {
        ab_price p;
        if ((rc = ab__price_lookup(st, sp->model, &p)))
            return rc;
    }
    if (sp->role)
        ab__strlcpy(b->s.role, sp->role, sizeof b->s.role);
    if (sp->model)
        ab__strlcpy(b->s.model, sp->model, sizeof b->s.model);
    if (!sp->no_role_defaults && !exists) {
        char *spec = NULL;
        rc = st->ops->role_get(st, b->s.role, &spec);
        if (rc == AB_OK) {
            ab_role role;
            char err[128];
            rc = ab__role_parse(spec, &role, err, sizeof err);
            free(spec);
            if (rc)
                return ab__fail(st, AB_ESTORE, "role '%s' is corrupt: %s", b->s.role, err);
            limits_apply(b, role.limits, role.limits_count);
            ab_role_free(&role);
        } else if (rc != AB_ENOTFOUND) {
            return rc;
        }
    }
    if (sp->replace_limits)
        memset(b->s.limit, 0xff, sizeof b->s.limit); /* every byte 0xff: -1, no limit */
    limits_apply(b, sp->limits, sp->limits_count);
    b->s.updated_at_ms = c->now_ms;
    if (exists)
        c->dirty[0] = true;
    else if ((rc = st->ops->budget_insert(st, &nb)))
        return rc;
    ab_event e;
    ab__event_init(st, &e, a->path, "set", c->now_ms);
    snprintf(e.reason, sizeof e.reason, "%s", exists ? "updated" : "created");
    if (a->key)
        ab__strlcpy(e.key, a->key, sizeof e.key);
    if ((rc = st->ops->event_append(st, &e)))
        return rc;
    if (a->created)
        *a->created = !exists;
    ab_decision d;
    memset(&d, 0, sizeof d);
    d.allowed = !exists;
    return ab__idem_save(st, a->key, params, &d, c->now_ms);
}

int ab_budget_set(ab_store *st, const char *path, const ab_budget_spec *spec, const char *key,
                  int *created)
{
    int rc = ab__key_validate(st, key);
    if (rc)
        return rc;
    if (spec->role && (rc = ab__name_valid(st, "role", spec->role)))
        return rc;
    if (spec->model && *spec->model && (rc = ab__name_valid(st, "model", spec->model)))
        return rc;
    if ((rc = ab__limits_valid(st, spec->limits, spec->limits_count, 1)))
        return rc;
    budget_args a = {.path = path, .spec = spec, .key = key, .created = created};
    return ab__run(st, 1, op_set, &a);
}

static int op_get(ab__ctx *c, void *v)
{
    budget_args *a = v;
    int rc = ab__chain_load(c, a->path, 0);
    if (rc == AB_OK) {
        *a->out = c->b[0].s;
        if (c->write && c->dirty[0]) /* swept: what ab__run's flush will store */
            a->out->updated_at_ms = c->now_ms;
    }
    return rc;
}

int ab_budget_get(ab_store *st, const char *path, ab_budget_status *out)
{
    if (out) /* out-structs are cleared at the start of a call (c-api.md) */
        memset(out, 0, sizeof *out);
    budget_args a = {.path = path, .out = out};
    return ab__run(st, 0, op_get, &a);
}

typedef struct {
    ab_budget_fn fn;
    void *ctx;
    int64_t now_ms;
} list_args;

static int list_one(ab__budget *b, void *v)
{
    list_args *la = v;
    ab__roll(b, la->now_ms);
    return la->fn(&b->s, la->ctx);
}

typedef struct {
    char (*paths)[AB_PATH_BYTES_MAX + 1];
    size_t n, max;
    int64_t now_ms;
} due_args;

static int collect_due(ab__budget *b, void *v)
{
    due_args *d = v;
    if (b->next_expiry_ms <= d->now_ms && d->n < d->max)
        ab__strlcpy(d->paths[d->n++], b->s.path, sizeof d->paths[0]);
    return 0;
}

/* Sweeps the expired holds of the listed budgets that have any due, so a listing shows the
 * same holds that a status would at the same instant (one clock reading for both: a hold that
 * expires between two readings was neither swept nor hidden). */
static int op_sweep_due(ab__ctx *c, void *v)
{
    due_args *d = v;
    c->now_ms = d->now_ms; /* the instant the listing shows: a hold due just after stays */
    for (size_t i = 0; i < d->n; i++) {
        int rc = ab__chain_load(c, d->paths[i], 1);
        if (rc)
            return rc;
        /* write back now, stamped as any sweep is: the next load starts a fresh context */
        if ((rc = ab__ctx_flush(c)))
            return rc;
        c->n = c->chain_len = 0;
        memset(c->dirty, 0, sizeof c->dirty);
    }
    return AB_OK;
}

int ab_budget_list(ab_store *st, const char *prefix, ab_budget_fn fn, void *ctx)
{
    if (prefix && *prefix && ab_path_validate(prefix))
        return ab__fail(st, AB_EINVAL, "prefix: not a budget path");
    due_args due = {.max = 256};
    if (!(due.paths = malloc(sizeof *due.paths * due.max)))
        return ab__fail(st, AB_ENOMEM, "out of memory");
    int rc;
    do { /* at most 256 budgets a round */
        due.n = 0;
        if ((rc = ab__txn_begin(st, 0))) {
            free(due.paths);
            return rc;
        }
        due.now_ms = ab__now(st);
        rc = st->ops->budget_list(st, prefix && *prefix ? prefix : NULL, collect_due, &due);
        ab__txn_finish(st, rc);
        if (!rc && due.n)
            rc = ab__run(st, 1, op_sweep_due, &due);
    } while (!rc && due.n == due.max);
    free(due.paths);
    if (rc)
        return rc;
    rc = ab__txn_begin(st, 0);
    if (rc)
        return rc;
    list_args la = {fn, ctx, due.now_ms}; /* the instant the sweep was made for */
    st->walking = 1;
    rc = st->ops->budget_list(st, prefix && *prefix ? prefix : NULL, list_one, &la);
    st->walking = 0;
    ab__txn_finish(st, rc < 0 ? rc : AB_OK);
    return rc;
}

static int op_delete(ab__ctx *c, void *v)
{
    budget_args *a = v;
    ab_store *st = c->st;
    char params[AB__PARAMS_BYTES], ids[64][40];
    ab_decision prior;
    int replayed, rc, children;
    snprintf(params, sizeof params, "delete|%s", a->path);
    if ((rc = ab__idem_check(st, a->key, params, &prior, &replayed)) || replayed)
        return rc;
    if ((rc = ab__chain_load(c, a->path, 0)) ||
        (rc = st->ops->budget_has_children(st, a->path, &children)))
        return rc;
    if (children)
        return ab__fail(st, AB_ECONFLICT, "budget '%s' has budgets under it: delete them first",
                        a->path);
    size_t n;
    do {
        if ((rc = st->ops->holds_of_budget(st, c->b[0].id, ids, 64, &n)))
            return rc;
        for (size_t i = 0; i < n; i++) {
            ab__hold h;
            if ((rc = st->ops->hold_get(st, ids[i], &h)))
                return rc;
            if (h.h.state != 0)
                continue;
            if ((rc = ab__hold_close(c, &h, 2)))
                return rc;
            ab_event e; /* the log says where the held amount went, as for any release */
            ab__event_init(st, &e, h.h.budget, "release", c->now_ms);
            ab__strlcpy(e.hold_id, h.h.id, sizeof e.hold_id);
            ab__strlcpy(e.model, h.h.model, sizeof e.model);
            ab__strlcpy(e.reason, "budget deleted", sizeof e.reason);
            if ((rc = st->ops->event_append(st, &e)))
                return rc;
        }
    } while (n == 64);
    c->dirty[0] = false;
    if ((rc = st->ops->budget_delete(st, c->b[0].id)))
        return rc;
    ab_event e;
    ab__event_init(st, &e, a->path, "delete", c->now_ms);
    if (a->key)
        ab__strlcpy(e.key, a->key, sizeof e.key);
    if ((rc = st->ops->event_append(st, &e)))
        return rc;
    ab_decision d;
    memset(&d, 0, sizeof d);
    d.allowed = 1;
    return ab__idem_save(st, a->key, params, &d, c->now_ms);
}

int ab_budget_delete(ab_store *st, const char *path, const char *key)
{
    int rc = ab__key_validate(st, key);
    if (rc)
        return rc;
    budget_args a = {.path = path, .key = key};
    return ab__run(st, 1, op_delete, &a);
}

static int op_reset(ab__ctx *c, void *v)
{
    budget_args *a = v;
    ab_store *st = c->st;
    char params[AB__PARAMS_BYTES];
    ab_decision prior;
    int replayed, rc;
    snprintf(params, sizeof params, "reset|%s|%d", a->path, a->which);
    if ((rc = ab__idem_check(st, a->key, params, &prior, &replayed)) || replayed)
        return rc;
    if ((rc = ab__chain_load(c, a->path, 0)))
        return rc;
    ab_budget_status *s = &c->b[0].s;
    char what[64] = "";
    static const struct {
        int flag;
        ab_window w;
        const char *name;
    } windows[] = {{AB_RESET_SESSION, AB_WINDOW_SESSION, "session"},
                   {AB_RESET_DAY, AB_WINDOW_DAY, "day"},
                   {AB_RESET_MONTH, AB_WINDOW_MONTH, "month"}};
    for (size_t i = 0; i < 3; i++) {
        if (!(a->which & windows[i].flag))
            continue;
        memset(s->used[windows[i].w], 0, sizeof s->used[windows[i].w]);
        strcat(what, what[0] ? "," : "");
        strcat(what, windows[i].name);
    }
    if (a->which & AB_RESET_SESSION)
        s->session_reset_ms = c->now_ms;
    if (a->which & AB_RESET_DAY)
        s->last_reset_ms = c->now_ms;
    c->dirty[0] = true;
    ab_event e;
    ab__event_init(st, &e, a->path, "reset", c->now_ms);
    ab__strlcpy(e.reason, what, sizeof e.reason);
    if (a->key)
        ab__strlcpy(e.key, a->key, sizeof e.key);
    if ((rc = st->ops->event_append(st, &e)))
        return rc;
    ab_decision d;
    memset(&d, 0, sizeof d);
    d.allowed = 1;
    return ab__idem_save(st, a->key, params, &d, c->now_ms);
}

int ab_budget_reset(ab_store *st, const char *path, int which, const char *key)
{
    int rc = ab__key_validate(st, key);
    if (rc)
        return rc;
    if (which <= 0 || (which & ~AB_RESET_ALL))
        return ab__fail(st, AB_EINVAL, "reset: choose session, day, month or all");
    budget_args a = {.path = path, .key = key, .which = which};
    return ab__run(st, 1, op_reset, &a);
}
