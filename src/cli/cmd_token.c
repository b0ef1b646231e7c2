/* cmd_token.c — API tokens for agentbudgetd: create (the secret is printed once), list, revoke. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

/* "90" (seconds), "90s", "15m", "12h", "30d" -> seconds (0: never); -1 if malformed. */
static int64_t duration_parse(const char *s)
{
    char num[32];
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof num)
        return -1;
    int64_t mult = 1;
    char last = s[n - 1];
    if (last == 's' || last == 'm' || last == 'h' || last == 'd') {
        mult = last == 's' ? 1 : last == 'm' ? 60 : last == 'h' ? 3600 : 86400;
        n--;
    }
    memcpy(num, s, n);
    num[n] = '\0';
    int64_t v;
    if (ab_tokens_parse(num, &v) || v < 0 || v > INT64_C(100) * 365 * 86400 / mult)
        return -1;
    return v * mult;
}

static int token_out(const ab_token *t, void *v)
{
    cli *c = v;
    if (c->json)
        return print_json(c, ab_token_json(t)) ? AB_ENOMEM : 0;
    char state[48] = "";
    if (t->revoked_at_ms) {
        snprintf(state, sizeof state, "revoked ");
    } else if (t->expires_at_ms) {
        time_t at = (time_t)(t->expires_at_ms / 1000);
        struct tm tm;
        gmtime_r(&at, &tm);
        /* to the millisecond, as the library refuses it (time(NULL) * 1000 called a token that
         * expired at :38.302 unexpired until :39) */
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
        strftime(state, sizeof state,
                 now_ms >= t->expires_at_ms ? "expired %Y-%m-%d %H:%M:%SZ "
                                            : "expires %Y-%m-%d %H:%M:%SZ ",
                 &tm);
    }
    printf("%s  %-6s %-40s %s%s\n", t->id, t->role == AB_TOKEN_ADMIN ? "admin" : "agent",
           t->scope[0] ? t->scope : "(everything)", state, t->label);
    return 0;
}

static const opt_spec create_opts[] = {
    {"scope", 1, 0}, {"role", 1, 0}, {"expires", 1, 0}, {"label", 1, 0}, {NULL, 0, 0}};
static const opt_spec none[] = {{NULL, 0, 0}};

static int token_create(cli *c, const parsed *p)
{
    const char *scope = opt(p, create_opts, "scope"), *role = opt(p, create_opts, "role");
    const char *exp = opt(p, create_opts, "expires");
    if (!scope)
        return usage_error(c, "--scope: required (a budget path, or \"\" for everything)");
    if (*scope && check_path(c, "--scope", scope))
        return EXIT_USAGE;
    if (!role)
        return usage_error(c, "--role: required, agent or admin");
    if (strcmp(role, "agent") && strcmp(role, "admin"))
        return usage_error(c, "--role: '%s' is neither agent nor admin", role);
    int64_t ttl = 0;
    if (exp && (ttl = duration_parse(exp)) < 0)
        return usage_error(c,
                           "--expires: '%s' is not a duration of 0 to 100 years, 36500d (like "
                           "3600, 90m, 12h, 30d; 0: never)",
                           exp);
    int rc = store_open(c);
    if (rc)
        return rc;
    char secret[AB_TOKEN_SECRET_BYTES + 1];
    ab_token t;
    if ((rc = be_token_create(c, scope, strcmp(role, "admin") ? AB_TOKEN_AGENT : AB_TOKEN_ADMIN,
                              opt(p, create_opts, "label"), ttl, secret, &t)))
        return fail(c, rc);
    if (c->json) {
        char *j = ab_token_json(&t);
        if (!j)
            return EXIT_FAILURE_STORE;
        printf("{\"secret\":\"%s\",%s\n", secret, j + 1);
        free(j);
        return 0;
    }
    fprintf(stderr, "token %s (%s, scope '%s'): the secret below is shown once\n", t.id, role,
            scope);
    printf("%s\n", secret);
    return 0;
}

int cmd_token(cli *c, int argc, char **argv)
{
    const command *cmd = command_find("token");
    parsed p;
    const char *sub = argc > 0 ? argv[0] : "";
    int rc;
    if (strcmp(sub, "create") == 0) {
        if ((rc = args_parse(c, cmd, create_opts, argc - 1, argv + 1, &p, 0, 0)))
            return rc;
        return token_create(c, &p);
    }
    if (strcmp(sub, "list") == 0) {
        if ((rc = args_parse(c, cmd, none, argc - 1, argv + 1, &p, 0, 0)) || (rc = store_open(c)))
            return rc;
        if ((rc = be_token_list(c, token_out, c)))
            return fail(c, rc);
        return 0;
    }
    if (strcmp(sub, "revoke") == 0) {
        if ((rc = args_parse(c, cmd, none, argc - 1, argv + 1, &p, 1, 1)) || (rc = store_open(c)))
            return rc;
        if ((rc = be_token_revoke(c, p.pos[0])))
            return fail(c, rc);
        printf(c->json ? "{\"revoked\":\"%s\"}\n" : "revoked %s\n", p.pos[0]);
        return 0;
    }
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        printf("usage: agentbudget %s\n\n%s\n", cmd->usage, cmd->summary);
        return -1;
    }
    return usage_error(c, "token: expected create, list or revoke%s%s%s", *sub ? " (not '" : "",
                       sub, *sub ? "')" : "");
}
