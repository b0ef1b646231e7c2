/* cmd_spend.c — decisions and spending: check (checkBudget), reserve/commit/release holds,
 * charge (deductBudget), and the permission check. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* Reads the usage flags that are set into u. input_name is "input"; output_name is "output"
 * or "max-output". */
static int usage_read(cli *c, const opt_spec *specs, const parsed *p, const char *output_name,
                      int required, ab_usage *u)
{
    memset(u, 0, sizeof *u);
    static const char *const names[] = {"input", NULL, "cache-write", "cache-write-1h",
                                        "cache-read"};
    int64_t *fields[] = {&u->input, &u->output, &u->cache_write_5m, &u->cache_write_1h,
                         &u->cache_read};
    for (int i = 0; i < 5; i++) {
        const char *name = names[i] ? names[i] : output_name;
        const char *v = opt(p, specs, name);
        char field[48];
        snprintf(field, sizeof field, "--%s", name);
        if (!v) {
            if (required && i < 2)
                return usage_error(c, "%s: required (a whole number of tokens)", field);
            continue;
        }
        int rc = parse_tokens(c, field, v, fields[i]);
        if (rc)
            return rc;
    }
    return 0;
}

/* The --model option of a request: absent is NULL (the budget's model); given, it must name a
 * model, since an empty name would silently price the request at the default model. */
static int model_read(cli *c, const opt_spec *specs, const parsed *p, const char **out)
{
    *out = opt(p, specs, "model");
    if (*out && !**out)
        return usage_error(c, "--model: must not be empty (a model name, e.g. claude-sonnet-4-5)");
    return 0;
}

/* Prints a decision and returns the exit code for it. */
static int decision_out(cli *c, const ab_decision *d, const char *what)
{
    if (c->json) {
        int rc = print_json(c, ab_decision_json(d));
        if (rc)
            return rc;
    } else {
        print_decision(d, what);
    }
    return d->allowed ? EXIT_ALLOWED : EXIT_DENIED;
}

static const opt_spec check_opts[] = {
    {"tokens", 1, 0},      {"model", 1, 0},          {"input", 1, 0},      {"max-output", 1, 0},
    {"cache-write", 1, 0}, {"cache-write-1h", 1, 0}, {"cache-read", 1, 0}, {NULL, 0, 0}};

int cmd_check(cli *c, int argc, char **argv)
{
    parsed p;
    const char *model;
    int rc = args_parse(c, command_find("check"), check_opts, argc, argv, &p, 1, 1);
    if (rc || (rc = check_path(c, "PATH", p.pos[0])) ||
        (rc = model_read(c, check_opts, &p, &model)))
        return rc;
    const char *tokens = opt(&p, check_opts, "tokens");
    ab_decision d;
    ab_usage u;
    int64_t t = 0;
    if (tokens) {
        static const char *const exact[] = {"input", "max-output", "cache-write", "cache-write-1h",
                                            "cache-read"};
        for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
            if (opt(&p, check_opts, exact[i]))
                return usage_error(c,
                                   "--tokens: give either --tokens or --input/--max-output "
                                   "(and the cache flags), not --tokens with --%s",
                                   exact[i]);
        if ((rc = parse_tokens(c, "--tokens", tokens, &t)))
            return rc;
    } else if ((rc = usage_read(c, check_opts, &p, "max-output", 1, &u))) {
        return rc;
    }
    if ((rc = store_open(c)))
        return rc;
    if (tokens && !model)
        rc = be_check(c, p.pos[0], NULL, NULL, t, &d);
    else {
        if (tokens)
            u = (ab_usage){.input = t / 4, .output = t - t / 4};
        rc = be_check(c, p.pos[0], model, &u, 0, &d);
    }
    if (rc)
        return fail(c, rc);
    return decision_out(c, &d, "allowed");
}

static const opt_spec reserve_opts[] = {{"model", 1, 0},
                                        {"input", 1, 0},
                                        {"max-output", 1, 0},
                                        {"cache-write", 1, 0},
                                        {"cache-write-1h", 1, 0},
                                        {"cache-read", 1, 0},
                                        {"ttl", 1, 0},
                                        {"key", 1, 0},
                                        {NULL, 0, 0}};

int cmd_reserve(cli *c, int argc, char **argv)
{
    parsed p;
    ab_usage u;
    int64_t ttl = 0;
    const char *model;
    int rc = args_parse(c, command_find("reserve"), reserve_opts, argc, argv, &p, 1, 1);
    if (rc || (rc = check_path(c, "PATH", p.pos[0])) ||
        (rc = model_read(c, reserve_opts, &p, &model)) ||
        (rc = usage_read(c, reserve_opts, &p, "max-output", 1, &u)))
        return rc;
    const char *ttl_s = opt(&p, reserve_opts, "ttl");
    if (ttl_s && (ab_tokens_parse(ttl_s, &ttl) || ttl < 1 || ttl > AB_TTL_S_MAX))
        return usage_error(c, "--ttl: '%s' is not a number of seconds from 1 to %d", ttl_s,
                           AB_TTL_S_MAX);
    if ((rc = store_open(c)))
        return rc;
    ab_decision d;
    if ((rc = be_reserve(c, p.pos[0], model, &u, ttl, opt(&p, reserve_opts, "key"), &d)))
        return fail(c, rc);
    if (!c->json && d.allowed) {
        puts(d.hold_id);
        return EXIT_ALLOWED;
    }
    return decision_out(c, &d, "reserved");
}

static const opt_spec commit_opts[] = {
    {"input", 1, 0},      {"output", 1, 0}, {"cache-write", 1, 0}, {"cache-write-1h", 1, 0},
    {"cache-read", 1, 0}, {"key", 1, 0},    {NULL, 0, 0}};

int cmd_commit(cli *c, int argc, char **argv)
{
    parsed p;
    ab_usage u;
    int rc = args_parse(c, command_find("commit"), commit_opts, argc, argv, &p, 1, 1);
    if (rc || (rc = usage_read(c, commit_opts, &p, "output", 1, &u)) || (rc = store_open(c)))
        return rc;
    ab_decision d;
    if ((rc = be_commit(c, p.pos[0], &u, opt(&p, commit_opts, "key"), &d)))
        return fail(c, rc);
    return decision_out(c, &d, "committed");
}

static const opt_spec release_opts[] = {{"key", 1, 0}, {NULL, 0, 0}};

int cmd_release(cli *c, int argc, char **argv)
{
    parsed p;
    int rc = args_parse(c, command_find("release"), release_opts, argc, argv, &p, 1, 1);
    if (rc || (rc = store_open(c)))
        return rc;
    if ((rc = be_release(c, p.pos[0], opt(&p, release_opts, "key"))))
        return fail(c, rc);
    if (c->json)
        printf("{\"released\":\"%s\"}\n", p.pos[0]);
    else
        printf("released %s\n", p.pos[0]);
    return 0;
}

int cmd_hold(cli *c, int argc, char **argv)
{
    static const opt_spec none[] = {{NULL, 0, 0}};
    static const char *const states[] = {"open", "committed", "released", "expired"};
    parsed p;
    int rc = args_parse(c, command_find("hold"), none, argc, argv, &p, 1, 1);
    if (rc || (rc = store_open(c)))
        return rc;
    ab_hold h;
    if ((rc = be_hold_get(c, p.pos[0], &h)))
        return fail(c, rc);
    char usd[32];
    ab_usd_format(h.cost_nusd, usd, sizeof usd);
    if (c->json) {
        return print_json(c, ab_hold_json(&h));
    } else
        printf("%s %s on '%s': %" PRId64 " token%s, $%s at %s\n", h.id, states[h.state & 3],
               h.budget, h.tokens, plural_s(h.tokens), usd, h.model);
    return 0;
}

static const opt_spec charge_opts[] = {
    {"model", 1, 0},          {"input", 1, 0},      {"output", 1, 0}, {"cache-write", 1, 0},
    {"cache-write-1h", 1, 0}, {"cache-read", 1, 0}, {"key", 1, 0},    {NULL, 0, 0}};

int cmd_charge(cli *c, int argc, char **argv)
{
    parsed p;
    ab_usage u;
    const char *model;
    int rc = args_parse(c, command_find("charge"), charge_opts, argc, argv, &p, 1, 1);
    if (rc || (rc = check_path(c, "PATH", p.pos[0])) ||
        (rc = model_read(c, charge_opts, &p, &model)) ||
        (rc = usage_read(c, charge_opts, &p, "output", 1, &u)) || (rc = store_open(c)))
        return rc;
    ab_decision d;
    if ((rc = be_charge(c, p.pos[0], model, NULL, &u, opt(&p, charge_opts, "key"), &d)))
        return fail(c, rc);
    if (c->json)
        return print_json(c, ab_decision_json(&d));
    print_decision(&d, "charged");
    return 0;
}

static const opt_spec permission_opts[] = {{"model", 1, 0}, {"tokens", 1, 0}, {NULL, 0, 0}};

static int role_warn_fn(const ab_role *r, void *path)
{
    char where[AB_PATH_BYTES_MAX + 32], safe[AB_PATH_BYTES_MAX + 1];
    snprintf(where, sizeof where, ", the role of budget '%s'", term_safe(path, safe, sizeof safe));
    role_inert_warn(r, where);
    return 0;
}

int cmd_permission(cli *c, int argc, char **argv)
{
    parsed p;
    ab_permission_context ctx = {0};
    int rc = args_parse(c, command_find("permission"), permission_opts, argc, argv, &p, 2, 2);
    if (rc || (rc = check_path(c, "PATH", p.pos[0])) ||
        (rc = model_read(c, permission_opts, &p, &ctx.model)))
        return rc;
    const char *tokens = opt(&p, permission_opts, "tokens");
    if (tokens && (rc = parse_tokens(c, "--tokens", tokens, &ctx.estimated_tokens)))
        return rc;
    if ((rc = store_open(c)))
        return rc;
    ab_decision d;
    if ((rc = be_permission(c, p.pos[0], p.pos[1], &ctx, &d)))
        return fail(c, rc);
    /* a tool pattern stored before role set refused it (Read(.env)) denies nothing: say so.
     * Best effort, and on a store opened here only (not two more requests to a daemon): a
     * budget or role that cannot be read changes nothing */
    ab_budget_status s;
    if (!c->url && be_budget_get(c, p.pos[0], &s) == AB_OK && s.role[0])
        be_role_show(c, s.role, role_warn_fn, (void *)p.pos[0]);
    return decision_out(c, &d, "allowed");
}
