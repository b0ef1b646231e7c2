/* events.c — the append-only audit log: building an event and querying the log. */
#include <string.h>

#include "internal.h"

void ab__event_init(ab_store *st, ab_event *e, const char *budget, const char *op, int64_t time_ms)
{
    /* every field set, the strings up to their terminator: not a memset of the 2.5 KB */
    e->id = 0;
    e->time_ms = time_ms;
    ab__strlcpy(e->budget, budget, sizeof e->budget);
    ab__strlcpy(e->op, op, sizeof e->op);
    e->model[0] = '\0';
    e->usage = (ab_usage){0};
    e->tokens = 0;
    e->cost_nusd = 0;
    e->allowed = 1;
    e->reason[0] = '\0';
    e->hold_id[0] = '\0';
    e->key[0] = '\0';
    ab__strlcpy(e->actor, st->actor, sizeof e->actor);
}

int ab_events_query(ab_store *st, const ab_event_query *q, ab_event_fn fn, void *ctx)
{
    ab_event_query qq = *q;
    if (qq.budget && *qq.budget && ab_path_validate(qq.budget))
        return ab__fail(st, AB_EINVAL, "budget: not a budget path");
    if (qq.budget && !*qq.budget)
        qq.budget = NULL;
    if (qq.limit < 0 || qq.limit > AB_EVENTS_PAGE_MAX)
        return ab__fail(st, AB_EINVAL, "limit: must be 1-%d", AB_EVENTS_PAGE_MAX);
    if (qq.limit == 0)
        qq.limit = AB_EVENTS_PAGE_MAX;
    if (qq.since_ms < 0 || qq.until_ms < 0 || qq.after_id < 0)
        return ab__fail(st, AB_EINVAL, "since/until/after: must be >= 0");
    static const char *const ops[] = {"set",     "delete",     "check",  "reserve", "commit",
                                      "release", "expire",     "charge", "reset",   "price",
                                      "role",    "permission", "token"};
    if (qq.op) {
        size_t i = 0;
        while (i < sizeof ops / sizeof ops[0] && strcmp(ops[i], qq.op) != 0)
            i++;
        if (i == sizeof ops / sizeof ops[0])
            return ab__fail(st, AB_EINVAL,
                            "op: '%s' is not an event op (set, delete, check, reserve, commit, "
                            "release, expire, charge, reset, price, role, permission, token)",
                            qq.op);
    }
    int rc = ab__txn_begin(st, 0);
    if (rc)
        return rc;
    st->walking = 1;
    rc = st->ops->events_query(st, &qq, fn, ctx);
    st->walking = 0;
    ab__txn_finish(st, rc < 0 ? rc : AB_OK);
    return rc;
}
