/* cmd_store.c — store administration: migrate (bring a schema to the current version) and
 * copy (move an embedded install to a fleet store). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const opt_spec none[] = {{NULL, 0, 0}};

int cmd_migrate(cli *c, int argc, char **argv)
{
    parsed p;
    int rc = args_parse(c, command_find("migrate"), none, argc, argv, &p, 0, 0);
    if (!rc && c->url)
        return usage_error(c, "migrate: works on a store (--store), not through --url");
    if (rc || (rc = store_open(c))) /* opening a store migrates it */
        return rc;
    int version = 0;
    if ((rc = ab_store_schema_version(c->st, &version)))
        return fail(c, rc);
    if (c->json)
        printf("{\"schema_version\":%d,\"current\":%d}\n", version, AB_SCHEMA_VERSION);
    else
        printf("schema version %d (this agentbudget writes %d)\n", version, AB_SCHEMA_VERSION);
    return 0;
}

static const opt_spec copy_opts[] = {{"from", 1, 0}, {"to", 1, 0}, {"force", 0, 0}, {NULL, 0, 0}};

int cmd_copy(cli *c, int argc, char **argv)
{
    parsed p;
    int rc = args_parse(c, command_find("copy"), copy_opts, argc, argv, &p, 0, 0);
    if (rc)
        return rc;
    if (c->url)
        return usage_error(c, "copy: works on stores (--from, --to), not through --url");
    const char *from = opt(&p, copy_opts, "from"), *to = opt(&p, copy_opts, "to");
    if (!from || !*from)
        return usage_error(c, "--from: required (the store URL to copy from)");
    if (!to || !*to)
        return usage_error(c, "--to: required (the store URL to copy into)");
    if (strcmp(from, to) == 0)
        return usage_error(c, "--to: must be another store than --from");
    ab_store *src = NULL;
    c->store_url = to;
    if ((rc = store_open(c)))
        return rc;
    if ((rc = ab_store_open(from, &src))) {
        cli fc = *c;
        fc.st = src;
        rc = fail(&fc, rc);
        ab_store_close(src);
        return rc;
    }
    ab_copy_stats s;
    rc = ab_store_copy(src, c->st, p.set[opt_index(copy_opts, "force")], &s);
    ab_store_close(src);
    if (rc)
        return fail(c, rc);
    if (c->json)
        printf("{\"budgets\":%zu,\"holds\":%zu,\"events\":%zu,\"prices\":%zu,\"roles\":%zu}\n",
               s.budgets, s.holds, s.events, s.prices, s.roles);
    else
        printf("copied %zu budgets, %zu open holds, %zu events, %zu prices, %zu roles\n", s.budgets,
               s.holds, s.events, s.prices, s.roles);
    return 0;
}
