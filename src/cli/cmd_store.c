/* cmd_store.c — store administration: migrate (bring a schema to the current version) and
 * copy (move an embedded install to a fleet store). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
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
    /* which store: with AGENTBUDGET_URL set, migrate went to the default store, silently */
    char url[PATH_MAX + 64] = "", shown[PATH_MAX + 64];
    if (c->store_url && *c->store_url)
        snprintf(url, sizeof url, "%s", c->store_url);
    else
        ab_store_default_url(url, sizeof url);
    ab_store_url_redact(url, shown, sizeof shown);
    if (c->json) {
        printf("{\"store\":");
        json_str(shown);
        printf(",\"schema_version\":%d,\"current\":%d}\n", version, AB_SCHEMA_VERSION);
    } else {
        char safe[sizeof shown];
        printf("%s: schema version %d (this agentbudget writes %d)\n",
               term_safe(shown, safe, sizeof safe), version, AB_SCHEMA_VERSION);
    }
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
    struct stat sb;
    if (stat(file, &sb) != 0)
        return usage_error(c, "--from: no store at '%s' (%s)", file, strerror(errno));
    if (S_ISREG(sb.st_mode) && sb.st_size == 0) /* what a store that failed to be made leaves */
        return usage_error(c, "--from: '%s' is an empty file, not a store", file);
    return 0;
}

/* Opens url into *st for copy, the failure naming the side (--from or --to). */
static int copy_open(cli *c, const char *side, const char *url, ab_store **st)
{
    int rc = ab_store_open(url, st);
    if (rc == AB_OK)
        return 0;
    cli fc = *c;
    fc.st = NULL;
    char shown[512];
    ab_store_url_redact(url, shown, sizeof shown);
    snprintf(fc.remote_err, sizeof fc.remote_err, "%s %s: %s", side, shown,
             *st ? ab_store_errmsg(*st) : ab_strerror(rc));
    ab_store_close(*st);
    *st = NULL;
    return fail(&fc, rc);
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
    if (strncmp(from, "memory:", 7) == 0) /* with --force, its empty store replaced the target */
        return usage_error(c, "--from: memory: is a new, empty store in this process: there is "
                              "nothing to copy from it");
    if ((rc = sqlite_source_exists(c, from)))
        return rc;
    ab_store *src = NULL; /* the source first: a target is not made for a copy that fails */
    if ((rc = copy_open(c, "--from", from, &src)))
        return rc;
    if ((rc = copy_open(c, "--to", to, &c->st))) {
        ab_store_close(src);
        return rc;
    }
    ab_copy_stats s;
    rc = ab_store_copy(src, c->st, p.set[opt_index(copy_opts, "force")], &s);
    ab_store_close(src);
    if (rc == AB_ECONFLICT) /* the library says "force": here that is a flag */
        snprintf(c->remote_err, sizeof c->remote_err,
                 "the target store is not empty: refusing to copy into it (--force replaces "
                 "everything in it with the source's contents)");
    if (rc)
        return fail(c, rc);
    if (c->json)
        printf("{\"budgets\":%zu,\"holds\":%zu,\"events\":%zu,\"prices\":%zu,\"roles\":%zu,"
               "\"tokens\":%zu,\"keys\":%zu}\n",
               s.budgets, s.holds, s.events, s.prices, s.roles, s.tokens, s.keys);
    else
        printf("copied %zu budget%s, %zu open hold%s, %zu event%s, %zu price%s, %zu role%s, %zu "
               "token%s, %zu idempotency key%s\n",
               s.budgets, plural_s((long long)s.budgets), s.holds, plural_s((long long)s.holds),
               s.events, plural_s((long long)s.events), s.prices, plural_s((long long)s.prices),
               s.roles, plural_s((long long)s.roles), s.tokens, plural_s((long long)s.tokens),
               s.keys, plural_s((long long)s.keys));
    return 0;
}
