/* cmd_budget.c — budgets as data: init (the original initializeBudget), set, status, list,
 * delete, reset. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static void print_time(const char *label, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char buf[32];
    gmtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    printf("%-10s %s UTC\n", label, buf);
}

static void print_status(const ab_budget_status *b)
{
    printf("%-10s %s\n%-10s %s\n", "budget", b->path, "role", b->role);
    if (b->model[0])
        printf("%-10s %s\n", "model", b->model);
    int any = 0;
    for (int w = 0; w < AB_WINDOW_COUNT; w++)
        for (int m = 0; m < AB_METRIC_COUNT; m++) {
            int64_t lim = b->limit[w][m];
            if (lim < 0)
                continue;
            if (!any++)
                printf("limits:\n");
            int64_t used = b->used[w][m], held = b->held[m];
            /* used may be INT64_MAX (a saturated ancestor): lim - used - held could wrap */
            int64_t left = used >= lim || held >= lim - used ? 0 : lim - used - held;
            char spec[64], u[40], h[40], l[40];
            ab_limit limit = {(ab_metric)m, (ab_window)w, lim};
            printf("  %-24s used %-14s held %-12s left %s\n",
                   ab_limit_format(&limit, spec, sizeof spec),
                   amount_text((ab_metric)m, used, 0, u, sizeof u),
                   amount_text((ab_metric)m, held, 0, h, sizeof h),
                   amount_text((ab_metric)m, left, 0, l, sizeof l));
        }
    if (!any)
        printf("limits:    none\n");
    char usd[32];
    const int64_t *today = b->used[AB_WINDOW_DAY];
    printf("%-10s %" PRId64 " token%s, $%s, %" PRId64 " request%s\n", "today",
           today[AB_METRIC_TOKENS], plural_s(today[AB_METRIC_TOKENS]),
           ab_usd_format(today[AB_METRIC_USD], usd, sizeof usd), today[AB_METRIC_REQUESTS],
           plural_s(today[AB_METRIC_REQUESTS]));
    printf("%-10s %" PRId64 " open\n", "holds", b->holds_open);
    printf("%-10s %" PRId64 " operation%s\n", "blocked", b->operations_blocked,
           plural_s(b->operations_blocked));
    print_time("created", b->created_at_ms);
    print_time("last reset", b->last_reset_ms);
}

static const opt_spec init_opts[] = {{"role", 1, 0},      {"session-tokens", 1, 0},
                                     {"daily-usd", 1, 0}, {"model", 1, 0},
                                     {"key", 1, 0},       {NULL, 0, 0}};

/* Applies the budget spec and prints the result the same way for init and set. */
static int apply(cli *c, const char *path, const ab_budget_spec *spec, const char *key)
{
    int created = 0, rc;
    if ((rc = store_open(c)))
        return rc;
    ab_budget_status b;
    if ((rc = be_budget_set(c, path, spec, key, &created, &b)))
        return fail(c, rc);
    if (c->json)
        return print_json(c, ab_status_json(&b));
    printf("%s budget '%s'\n", created ? "created" : "updated", path);
    print_status(&b);
    return 0;
}

int cmd_init(cli *c, int argc, char **argv)
{
    parsed p;
    int rc = args_parse(c, command_find("init"), init_opts, argc, argv, &p, 1, 1);
    if (rc)
        return rc;
    const char *role = opt(&p, init_opts, "role"), *tok = opt(&p, init_opts, "session-tokens"),
               *usd = opt(&p, init_opts, "daily-usd");
    if ((rc = check_path(c, "AGENT", p.pos[0])))
        return rc;
    if (!role || !*role)
        return usage_error(c, "--role: required (the agent's role, e.g. backend-dev)");
    if (!tok)
        return usage_error(c, "--session-tokens: required (the session's token limit)");
    if (!usd)
        return usage_error(c, "--daily-usd: required (the daily cost limit in USD)");
    ab_limit limits[2] = {{AB_METRIC_TOKENS, AB_WINDOW_SESSION, 0},
                          {AB_METRIC_USD, AB_WINDOW_DAY, 0}};
    if ((rc = parse_tokens(c, "--session-tokens", tok, &limits[0].amount)) ||
        (rc = parse_usd(c, "--daily-usd", usd, &limits[1].amount)))
        return rc;
    ab_budget_spec spec = {
        .role = role, .model = opt(&p, init_opts, "model"), .limits = limits, .limits_count = 2};
    return apply(c, p.pos[0], &spec, opt(&p, init_opts, "key"));
}

static const opt_spec set_opts[] = {{"role", 1, 0},
                                    {"model", 1, 0},
                                    {"limit", 1, 1},
                                    {"unset", 1, 1},
                                    {"replace-limits", 0, 0},
                                    {"no-role-defaults", 0, 0},
                                    {"key", 1, 0},
                                    {NULL, 0, 0}};

int cmd_set(cli *c, int argc, char **argv)
{
    parsed p;
    int rc = args_parse(c, command_find("set"), set_opts, argc, argv, &p, 1, 1);
    if (rc || (rc = check_path(c, "PATH", p.pos[0])))
        return rc;
    ab_limit limits[MULTI_MAX * 2];
    size_t n = 0;
    int li = opt_index(set_opts, "limit"), ui = opt_index(set_opts, "unset");
    for (int i = 0; i < p.nmulti[li]; i++)
        if ((rc = parse_limit(c, "--limit", p.multi[li][i], limits, &n)))
            return rc;
    for (int i = 0; i < p.nmulti[ui]; i++) {
        char spec[96];
        ab_limit l;
        snprintf(spec, sizeof spec, "%s=0", p.multi[ui][i]);
        if (ab_limit_parse(spec, &l))
            return usage_error(c, "--unset: '%s' is not METRIC/WINDOW (e.g. usd/day)",
                               p.multi[ui][i]);
        l.amount = -1;
        if ((rc = limit_append(c, "--unset", &l, limits, &n)))
            return rc;
    }
    if (n > AB_LIMITS_MAX)
        return usage_error(c, "--limit: at most %d limits", AB_LIMITS_MAX);
    const char *role = opt(&p, set_opts, "role");
    if (role && !*role)
        return usage_error(c, "--role: must not be empty");
    ab_budget_spec spec = {.role = role,
                           .model = opt(&p, set_opts, "model"),
                           .limits = limits,
                           .limits_count = n,
                           .replace_limits = p.set[opt_index(set_opts, "replace-limits")],
                           .no_role_defaults = p.set[opt_index(set_opts, "no-role-defaults")]};
    return apply(c, p.pos[0], &spec, opt(&p, set_opts, "key"));
}

static const opt_spec no_opts[] = {{NULL, 0, 0}};

int cmd_status(cli *c, int argc, char **argv)
{
    parsed p;
    int rc = args_parse(c, command_find("status"), no_opts, argc, argv, &p, 1, 1);
    if (rc || (rc = check_path(c, "PATH", p.pos[0])) || (rc = store_open(c)))
        return rc;
    ab_budget_status b;
    if ((rc = be_budget_get(c, p.pos[0], &b)))
        return fail(c, rc);
    if (c->json)
        return print_json(c, ab_status_json(&b));
    print_status(&b);
    return 0;
}

typedef struct {
    cli *c;
    int n;
} list_ctx;

static int list_one(const ab_budget_status *b, void *v)
{
    list_ctx *lc = v;
    if (lc->c->json) {
        char *j = ab_status_json(b);
        if (!j)
            return AB_ENOMEM;
        printf("%s%s", lc->n ? "," : "", j);
        free(j);
    } else {
        char usd[32];
        int64_t tokens = b->used[AB_WINDOW_DAY][AB_METRIC_TOKENS];
        printf("%-40s %-14s %10" PRId64 " token%s today  $%s today\n", b->path, b->role, tokens,
               plural_s(tokens),
               ab_usd_format(b->used[AB_WINDOW_DAY][AB_METRIC_USD], usd, sizeof usd));
    }
    lc->n++;
    return 0;
}

int cmd_list(cli *c, int argc, char **argv)
{
    parsed p;
    int rc = args_parse(c, command_find("list"), no_opts, argc, argv, &p, 0, 1);
    if (rc || (p.npos && (rc = check_path(c, "PREFIX", p.pos[0]))) || (rc = store_open(c)))
        return rc;
    list_ctx lc = {c, 0};
    if (c->json)
        printf("[");
    rc = be_budget_list(c, p.npos ? p.pos[0] : NULL, list_one, &lc);
    if (c->json)
        printf("]\n");
    if (rc)
        return fail(c, rc);
    if (!c->json && lc.n == 0)
        printf("no budgets\n");
    return 0;
}

static const opt_spec key_opts[] = {{"key", 1, 0}, {NULL, 0, 0}};

int cmd_delete(cli *c, int argc, char **argv)
{
    parsed p;
    int rc = args_parse(c, command_find("delete"), key_opts, argc, argv, &p, 1, 1);
    if (rc || (rc = check_path(c, "PATH", p.pos[0])) || (rc = store_open(c)))
        return rc;
    if ((rc = be_budget_delete(c, p.pos[0], opt(&p, key_opts, "key"))))
        return fail(c, rc);
    if (c->json)
        printf("{\"deleted\":\"%s\"}\n", p.pos[0]);
    else
        printf("deleted budget '%s'\n", p.pos[0]);
    return 0;
}

static const opt_spec reset_opts[] = {{"session", 0, 0}, {"daily", 0, 0}, {"monthly", 0, 0},
                                      {"all", 0, 0},     {"key", 1, 0},   {NULL, 0, 0}};

int cmd_reset(cli *c, int argc, char **argv)
{
    parsed p;
    int rc = args_parse(c, command_find("reset"), reset_opts, argc, argv, &p, 1, 1);
    if (rc || (rc = check_path(c, "PATH", p.pos[0])))
        return rc;
    int which = (p.set[0] ? AB_RESET_SESSION : 0) | (p.set[1] ? AB_RESET_DAY : 0) |
                (p.set[2] ? AB_RESET_MONTH : 0) | (p.set[3] ? AB_RESET_ALL : 0);
    if (!which)
        return usage_error(c, "reset: choose --session, --daily, --monthly or --all");
    if ((rc = store_open(c)))
        return rc;
    ab_budget_status b;
    if ((rc = be_budget_reset(c, p.pos[0], which, opt(&p, reset_opts, "key"), &b)))
        return fail(c, rc);
    if (c->json)
        return print_json(c, ab_status_json(&b));
    printf("reset '%s'\n", p.pos[0]);
    print_status(&b);
    return 0;
}
