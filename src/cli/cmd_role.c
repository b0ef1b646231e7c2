/* cmd_role.c — roles: default limits of new budgets, allowed and denied tools and models. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void text_list(const char *name, char *const *items, size_t n)
{
    if (!n)
        return;
    printf("  %-12s", name);
    for (size_t i = 0; i < n; i++) { /* a pattern may hold an escape sequence: not to the tty */
        char safe[AB_NAME_BYTES_MAX * 2];
        printf(" %s", term_safe(items[i], safe, sizeof safe));
    }
    printf("\n");
}

static int role_out(const ab_role *r, void *v)
{
    cli *c = v;
    char spec[64];
    role_inert_warn(r, "");
    if (c->json) {
        if (print_json(c, ab_role_json(r)))
            return AB_ENOMEM;
        return 0;
    }
    char name[AB_NAME_BYTES_MAX];
    printf("%s%s\n", term_safe(r->name, name, sizeof name), r->admin ? " (admin)" : "");
    for (size_t i = 0; i < r->limits_count; i++)
        printf("  %-12s %s\n", i ? "" : "limits",
               ab_limit_format(&r->limits[i], spec, sizeof spec));
    text_list("allow tools", r->allow_tools, r->allow_tools_count);
    text_list("deny tools", r->deny_tools, r->deny_tools_count);
    text_list("allow models", r->allow_models, r->allow_models_count);
    text_list("deny models", r->deny_models, r->deny_models_count);
    return 0;
}

static const opt_spec set_opts[] = {
    {"limit", 1, 1},      {"allow-tool", 1, 1}, {"deny-tool", 1, 1}, {"allow-model", 1, 1},
    {"deny-model", 1, 1}, {"admin", 0, 0},      {NULL, 0, 0}};
static const opt_spec none[] = {{NULL, 0, 0}};

static int role_set(cli *c, const parsed *p)
{
    ab_role r;
    memset(&r, 0, sizeof r);
    if (!p->pos[1][0] || strlen(p->pos[1]) >= sizeof r.name)
        return usage_error(c, "NAME: must be 1-%zu bytes", sizeof r.name - 1);
    strcpy(r.name, p->pos[1]);
    int rc;
    /* at most one per metric and window, so never more than r.limits holds */
    for (int i = 0; i < p->nmulti[0]; i++)
        if ((rc = parse_limit(c, "--limit", p->multi[0][i], r.limits, &r.limits_count)))
            return rc;
    char **lists[] = {r.allow_tools, r.deny_tools, r.allow_models, r.deny_models};
    size_t *counts[] = {&r.allow_tools_count, &r.deny_tools_count, &r.allow_models_count,
                        &r.deny_models_count};
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < p->nmulti[k + 1]; i++) {
            if (!p->multi[k + 1][i][0])
                return usage_error(c, "--%s: must not be empty", set_opts[k + 1].name);
            lists[k][(*counts[k])++] = (char *)p->multi[k + 1][i];
        }
    r.admin = p->set[5];
    if ((rc = store_open(c)))
        return rc;
    if ((rc = be_role_set(c, &r)))
        return fail(c, rc);
    return role_out(&r, c);
}

int cmd_role(cli *c, int argc, char **argv)
{
    const command *cmd = command_find("role");
    parsed p;
    const char *sub = argc > 0 ? argv[0] : "";
    int rc;
    if (strcmp(sub, "list") == 0) {
        if ((rc = args_parse(c, cmd, none, argc - 1, argv + 1, &p, 0, 0)) || (rc = store_open(c)))
            return rc;
        if ((rc = be_role_list(c, role_out, c)))
            return fail(c, rc);
        return 0;
    }
    if (strcmp(sub, "set") == 0) {
        if ((rc = args_parse(c, cmd, set_opts, argc, argv, &p, 2, 2)))
            return rc;
        return role_set(c, &p);
    }
    if (strcmp(sub, "get") == 0 || strcmp(sub, "delete") == 0) {
        if ((rc = args_parse(c, cmd, none, argc, argv, &p, 2, 2)) || (rc = store_open(c)))
            return rc;
        if (sub[0] == 'd') {
            if ((rc = be_role_delete(c, p.pos[1])))
                return fail(c, rc);
            if (!c->json) {
                printf("deleted role '%s'\n", p.pos[1]);
                return 0;
            }
            printf("{\"deleted\":");
            json_str(p.pos[1]);
            printf("}\n");
            return 0;
        }
        if ((rc = be_role_show(c, p.pos[1], role_out, c)))
            return fail(c, rc);
        return 0;
    }
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        printf("usage: agentbudget %s\n\n%s\n", cmd->usage, cmd->summary);
        return -1;
    }
    return usage_error(c, "role: expected list, get, set or delete%s%s%s", *sub ? " (not '" : "",
                       sub, *sub ? "')" : "");
}
