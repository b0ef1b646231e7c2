/* tokens.c — per-agent API tokens for agentbudgetd: a secret shown once, only its SHA-256 kept,
 * checked in constant time; a scope (a budget subtree) and a role (agent or admin). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

int ab_scope_covers(const char *scope, const char *path)
{
    if (!scope || !path) /* covers nothing: a check that cannot be made says no */
        return 0;
    size_t n = strlen(scope);
    if (n == 0)
        return 1;
    return strncmp(path, scope, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Checks a new token's fields and makes its id, secret and hash (the store is not touched). */
static int token_new(ab_store *st, const char *scope, ab_token_role role, const char *label,
                     int64_t ttl_s, char *secret, ab_token *t, char hash[65])
{
    memset(t, 0, sizeof *t);
    if (!scope)
        scope = "";
    if (*scope && ab_path_validate(scope))
        return ab__fail(st, AB_EINVAL, "scope: '%s' is not a budget path (or \"\" for all)", scope);
    if (role != AB_TOKEN_AGENT && role != AB_TOKEN_ADMIN)
        return ab__fail(st, AB_EINVAL, "role: must be agent or admin");
    if (ttl_s < 0 || ttl_s > AB_TOKEN_TTL_S_MAX)
        return ab__fail(st, AB_EINVAL, "expires: must be 0 (never) to 100 years");
    int rc;
    if (label && *label && (rc = ab__name_valid(st, "label", label)))
        return rc;
    char id_hex[17], secret_hex[65];
    if ((rc = ab__random_hex(st, 8, id_hex)) || (rc = ab__random_hex(st, 32, secret_hex)))
        return rc;
    snprintf(t->id, sizeof t->id, "t_%s", id_hex);
    ab__strlcpy(t->scope, scope, sizeof t->scope);
    t->role = role;
    ab__strlcpy(t->label, label ? label : "", sizeof t->label);
    t->expires_at_ms = ttl_s; /* seconds until token_put makes it a time */
    /* the secret names its token, so that a check reads one row: abt_<id hex>_<64 hex> */
    snprintf(secret, AB_TOKEN_SECRET_BYTES + 1, "abt_%s_%s", id_hex, secret_hex);
    return ab__sha256_hex(st, secret, strlen(secret), hash);
}

/* Stores t, made now, and logs it (inside the caller's write transaction). */
static int token_put(ab_store *st, ab_token *t, const char *hash, int64_t now_ms)
{
    t->created_at_ms = now_ms;
    t->expires_at_ms = t->expires_at_ms ? now_ms + t->expires_at_ms * 1000 : 0;
    int rc = st->ops->token_put(st, t, hash);
    if (rc)
        return rc;
    ab_event e;
    ab__event_init(st, &e, t->scope, "token", now_ms);
    snprintf(e.reason, sizeof e.reason, "created %s (%s)", t->id,
             t->role == AB_TOKEN_ADMIN ? "admin" : "agent");
    return st->ops->event_append(st, &e);
}

int ab_token_create(ab_store *st, const char *scope, ab_token_role role, const char *label,
                    int64_t ttl_s, char *secret, ab_token *out)
{
    ab_token t;
    char hash[65];
    int rc = token_new(st, scope, role, label, ttl_s, secret, &t, hash);
    if (rc || (rc = ab__txn_begin(st, 1)))
        return rc;
    if ((rc = ab__txn_finish(st, token_put(st, &t, hash, ab__now(st)))))
        return rc;
    if (out)
        *out = t;
    return AB_OK;
}

/* The idempotency key the first token is made under: its unique row is what makes two stores'
 * racing first tokens collide where a transaction that only counts tokens would not (PostgreSQL
 * at READ COMMITTED). A user's key cannot be it: keys have no spaces. */
#define FIRST_TOKEN_KEY "first admin token"

typedef struct {
    ab_token *t;
    const char *hash;
} first_args;

static int token_seen(const ab_token *t, void *v)
{
    (void)t;
    *(int *)v = 1;
    return 1; /* one is enough */
}

static int op_token_first(ab__ctx *c, void *v)
{
    first_args *a = v;
    ab_store *st = c->st;
    int any = 0;
    int rc = st->ops->token_list(st, token_seen, &any);
    if (rc < 0)
        return rc;
    ab__idem rec;
    if (!any) {
        rc = st->ops->idem_get(st, FIRST_TOKEN_KEY, &rec);
        if (rc != AB_OK && rc != AB_ENOTFOUND)
            return rc;
        any = rc == AB_OK;
    }
    if (any)
        return ab__fail(st, AB_EEXIST, "the store has a token already: no first token made");
    if ((rc = token_put(st, a->t, a->hash, c->now_ms)))
        return rc;
    memset(&rec, 0, sizeof rec);
    ab__strlcpy(rec.params, FIRST_TOKEN_KEY, sizeof rec.params);
    ab__strlcpy(rec.result, a->t->id, sizeof rec.result);
    return st->ops->idem_put(st, FIRST_TOKEN_KEY, &rec, c->now_ms);
}

int ab_token_create_first(ab_store *st, const char *label, char *secret, ab_token *out)
{
    ab_token t;
    char hash[65];
    int rc = token_new(st, "", AB_TOKEN_ADMIN, label, 0, secret, &t, hash);
    if (rc)
        return rc;
    first_args a = {&t, hash};
    if ((rc = ab__run(st, 1, op_token_first, &a)))
        return rc;
    if (out)
        *out = t;
    return AB_OK;
}

int ab_token_verify(ab_store *st, const char *secret, ab_token *out)
{
    if (out) /* a caller that reads it after a failure sees no token, not the last one */
        memset(out, 0, sizeof *out);
    /* one answer for every failure, so that a caller learns nothing about which it was */
    const char *why = "unknown or invalid token";
    if (!secret || strlen(secret) != AB_TOKEN_SECRET_BYTES || strncmp(secret, "abt_", 4) != 0 ||
        secret[20] != '_')
        return ab__fail(st, AB_EPERM, "%s", why);
    char id[AB_TOKEN_ID_BYTES + 2], hash[65], stored[65];
    snprintf(id, sizeof id, "t_%.16s", secret + 4);
    int rc = ab__sha256_hex(st, secret, strlen(secret), hash);
    if (rc)
        return rc;
    if ((rc = ab__txn_begin(st, 0)))
        return rc;
    ab_token t;
    rc = st->ops->token_get(st, id, &t, stored);
    int64_t now = ab__now(st);
    ab__txn_finish(st, rc == AB_ENOTFOUND ? AB_OK : rc);
    if (rc == AB_ENOTFOUND)
        return ab__fail(st, AB_EPERM, "%s", why);
    if (rc)
        return rc;
    if (!ab__ct_equal(hash, stored, 64))
        return ab__fail(st, AB_EPERM, "%s", why);
    if (t.revoked_at_ms)
        return ab__fail(st, AB_EPERM, "token %s is revoked", t.id);
    if (t.expires_at_ms && now >= t.expires_at_ms)
        return ab__fail(st, AB_EPERM, "token %s has expired", t.id);
    if (out)
        *out = t;
    return AB_OK;
}

int ab_token_list(ab_store *st, ab_token_fn fn, void *ctx)
{
    int rc = ab__txn_begin(st, 0);
    if (rc)
        return rc;
    st->walking = 1;
    rc = st->ops->token_list(st, fn, ctx);
    st->walking = 0;
    ab__txn_finish(st, rc < 0 ? rc : AB_OK);
    return rc;
}

int ab_token_revoke(ab_store *st, const char *id)
{
    if (!id || strlen(id) != AB_TOKEN_ID_BYTES || strncmp(id, "t_", 2) != 0)
        return ab__fail(st, AB_EINVAL, "token id: expected t_ and 16 hex digits");
    int rc = ab__txn_begin(st, 1);
    if (rc)
        return rc;
    ab_token t;
    char hash[65];
    rc = st->ops->token_get(st, id, &t, hash);
    if (rc == AB_OK && t.revoked_at_ms) /* once: its time and its event stay the first ones */
        return ab__txn_finish(st, AB_OK);
    if (rc == AB_OK)
        rc = st->ops->token_revoke(st, id, ab__now(st));
    if (rc == AB_ENOTFOUND)
        ab__fail(st, rc, "no token '%s'", id);
    if (rc == AB_OK) {
        ab_event e;
        ab__event_init(st, &e, t.scope, "token", ab__now(st)); /* as its creation's */
        snprintf(e.reason, sizeof e.reason, "revoked %s", id);
        rc = st->ops->event_append(st, &e);
    }
    return ab__txn_finish(st, rc);
}
