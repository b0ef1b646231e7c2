/* cmd_store.c — store administration: migrate (bring a schema to the current version) and
 * copy (move an embedded install to a fleet store). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const opt_spec none[] = {{NULL, 0, 0}};

int cmd_migrate(cli *c, int argc, char **argv)
{
    parsed p;
    int rc = args_parse(c, command_find("migrate"), none, argc, argv, &p, 0, 0);
    if (!rc && c->url && c->url_flag)
        return usage_error(c, "migrate: works on a store (--store), not through --url");
    c->url = NULL; /* AGENTBUDGET_URL is for the commands that can go through the daemon */
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

/* A sqlite: source must be there: opening one creates it, and with --force the empty store made
 * from a mistyped path would replace the target. */
static int sqlite_source_exists(cli *c, const char *url)
{
    if (strncmp(url, "sqlite:", 7) != 0)
        return 0;
    const char *path = url + 7;
    if (!strncmp(path, "//", 2))
        path += 2;
    size_t n = strcspn(path, "?");
    char file[PATH_MAX];
    snprintf(file, sizeof file, "%.*s", (int)n, path);
    if (access(file, F_OK) != 0)
        return usage_error(c, "--from: no store at '%s' (%s)", file, strerror(errno));
    return 0;
}

static const opt_spec copy_opts[] = {{"from", 1, 0}, {"to", 1, 0}, {"force", 0, 0}, {NULL, 0, 0}};

int cmd_copy(cli *c, int argc, char **argv)
{
    parsed p;
    int rc = args_parse(c, command_find("copy"), copy_opts, argc, argv, &p, 0, 0);
    if (rc)
        return rc;
    if (c->url && c->url_flag)
        return usage_error(c, "copy: works on stores (--from, --to), not through --url");
    c->url = NULL; /* AGENTBUDGET_URL is for the commands that can go through the daemon */
    const char *from = opt(&p, copy_opts, "from"), *to = opt(&p, copy_opts, "to");
    if (!from || !*from)
        return usage_error(c, "--from: required (the store URL to copy from)");
    if (!to || !*to)
        return usage_error(c, "--to: required (the store URL to copy into)");
    if (strcmp(from, to) == 0)
        return usage_error(c, "--to: must be another store than --from");
    if ((rc = sqlite_source_exists(c, from)))
        return rc;
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
        printf("{\"budgets\":%zu,\"holds\":%zu,\"events\":%zu,\"prices\":%zu,\"roles\":%zu,"
               "\"tokens\":%zu}\n",
               s.budgets, s.holds, s.events, s.prices, s.roles, s.tokens);
    else
        printf(
            "copied %zu budgets, %zu open holds, %zu events, %zu prices, %zu roles, %zu tokens\n",
            s.budgets, s.holds, s.events, s.prices, s.roles, s.tokens);
    return 0;
}
