/* main.c — the agentbudget command: global flags, the command table, dispatch. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

static const command commands[] = {
    {"init", cmd_init,
     "init AGENT --role ROLE --session-tokens N --daily-usd USD [--model M] [--key K]",
     "create or update a budget the way the original initializeBudget did"},
    {"set", cmd_set,
     "set PATH [--role R] [--model M] [--limit METRIC/WINDOW=AMOUNT]... [--unset METRIC/WINDOW]... "
     "[--replace-limits] [--no-role-defaults] [--key K]",
     "create or update a budget with any limits"},
    {"status", cmd_status, "status PATH", "show a budget's usage, limits and what is left"},
    {"list", cmd_list, "list [PREFIX]", "list budgets (at or under PREFIX)"},
    {"delete", cmd_delete, "delete PATH [--key K]", "delete a budget (its holds are released)"},
    {"check", cmd_check,
     "check PATH (--tokens N | --input N --max-output N [--cache-write N] [--cache-write-1h N] "
     "[--cache-read N]) [--model M]",
     "would this request fit? (read-only; a denial is counted and logged)"},
    {"reserve", cmd_reserve,
     "reserve PATH --input N --max-output N [--model M] [--cache-write N] [--cache-write-1h N] "
     "[--cache-read N] [--ttl SECONDS] [--key K]",
     "hold the worst-case cost of a request; prints the hold id"},
    {"commit", cmd_commit,
     "commit HOLD --input N --output N [--cache-write N] [--cache-write-1h N] [--cache-read N] "
     "[--key K]",
     "settle a hold with the actual usage"},
    {"release", cmd_release, "release HOLD [--key K]", "give a hold back without spending"},
    {"hold", cmd_hold, "hold HOLD", "show a hold"},
    {"charge", cmd_charge,
     "charge PATH --input N --output N [--model M] [--cache-write N] [--cache-write-1h N] "
     "[--cache-read N] [--key K]",
     "record usage that already happened (the original deductBudget)"},
    {"reset", cmd_reset, "reset PATH (--session | --daily | --monthly | --all) [--key K]",
     "zero a budget's session, day or month usage"},
    {"permission", cmd_permission, "permission PATH TOOL [--model M] [--tokens N]",
     "may this agent use this tool now? (role AND budget)"},
    {"events", cmd_events,
     "events [--budget PATH] [--op OP] [--since MS] [--until MS] [--after ID] [--limit N]",
     "read the audit log"},
    {"price", cmd_price,
     "price (list [--builtin] | get MODEL | set MODEL --input USD --output USD [--cache-write USD] "
     "[--cache-write-1h USD] [--cache-read USD] [--tier-threshold N --tier-input USD "
     "[--tier-output USD] [--tier-cache-write USD] [--tier-cache-write-1h USD] "
     "[--tier-cache-read USD]] | unset MODEL | import FILE)",
     "model prices in USD per million tokens"},
    {"role", cmd_role,
     "role (list | get NAME | set NAME [--limit SPEC]... [--allow-tool GLOB]... [--deny-tool "
     "GLOB]... [--allow-model GLOB]... [--deny-model GLOB]... [--admin] | delete NAME)",
     "roles: default limits, allowed tools and models"},
    {"hook", cmd_hook,
     "hook (claude-code [--parent PATH] [--role ROLE] [--on-error deny|allow] [--config FILE | "
     "--no-config] [--default-store URL] | install [--settings PATH] [--scope project|user] "
     "[--parent PATH] [--role ROLE] [--on-error deny|allow] [--config FILE | --no-config] "
     "[--default-store URL] | uninstall [--settings PATH] [--scope project|user])",
     "Claude Code hooks: charge a session's usage, deny what its budget or role forbids"},
    {"token", cmd_token,
     "token (create --scope PATH --role agent|admin [--expires DURATION] [--label L] | list | "
     "revoke ID)",
     "API tokens for agentbudgetd (the secret is printed once)"},
    {"migrate", cmd_migrate, "migrate [--store URL]",
     "bring the store's schema to this version (opening a store does it too)"},
    {"copy", cmd_copy, "copy --from URL --to URL [--force]",
     "copy a whole store into another, e.g. sqlite:… to postgres://…"},
    {"report", cmd_report,
     "report daily|weekly|monthly|session|model [PATH]... [--since YYYYMMDD] [--until YYYYMMDD] "
     "[--timezone TZ] [--breakdown] [--project NAME] [--start-of-week DAY] [--strict]",
     "tokens and cost from Claude Code transcripts, counted as ccusage counts them"},
};

const command *command_find(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static void usage_all(FILE *f)
{
    fprintf(f, "usage: agentbudget [--store URL] [--json] COMMAND [ARGS]\n\n"
               "Hard spending limits for LLM agents: tokens, dollars and requests per session,\n"
               "day, month or lifetime, for every agent, role, team and organisation.\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].summary);
    fprintf(f,
            "\nglobal options (anywhere on the line):\n"
            "  --store URL  memory:, sqlite:PATH[?sync=normal], postgres://USER@HOST:PORT/DB;\n"
            "               default $AGENTBUDGET_STORE, else\n"
            "               sqlite:$XDG_STATE_HOME/agentbudget/budget.db, else\n"
            "               sqlite:$HOME/.local/state/agentbudget/budget.db\n"
            "  --url URL    via agentbudgetd (http://HOST:PORT, https://HOST:PORT or unix:PATH;\n"
            "               default $AGENTBUDGET_URL) with the token in $AGENTBUDGET_TOKEN;\n"
            "               a request may take $AGENTBUDGET_TIMEOUT seconds (default 60)\n"
            "  --json       machine-readable output\n\n"
            "exit status: 0 ok or allowed, 1 denied, 2 bad input or usage, 3 store or system "
            "failure\n"
            "'agentbudget COMMAND --help' shows a command's options; 'agentbudget --version'\n"
            "the version.\n");
}

/* rc, unless what went to stdout could not all be written (a full disk, a closed stdout): 3. */
static int written(int rc)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr,
                "error: cannot write to standard output: %s (the command ran; what it "
                "printed is lost)\n",
                strerror(errno));
        return EXIT_FAILURE_STORE;
    }
    return rc;
}

/* The value of the global flag at argv[*i], the next word, taken; "" if there is none or it is
 * another option ("--store --json": a missing URL, not the URL "--json"). */
static const char *next_value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc || strncmp(argv[*i + 1], "--", 2) == 0)
        return "";
    return argv[++*i];
}

/* What is wrong with agentbudgetd's address (http[s]://HOST[:PORT][/PREFIX] or unix:PATH), or
 * NULL. The request's path is added to it: a query or fragment would take the path into it or
 * drop it; a user and password would be shown in every error that names the address. */
static const char *url_fault(const char *url)
{
    if (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8) &&
        strncmp(url, "unix:", 5))
        return "the address must be http://HOST:PORT, https://… or unix:PATH";
    int unix_path = !strncmp(url, "unix:", 5); /* a socket's path may hold a space */
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p < ' ' || *p == 0x7f || (*p == ' ' && !unix_path))
            return "the address has white space or a control character in it";
    if (unix_path)
        return url[5] ? NULL : "unix: needs the socket's path (unix:PATH)";
    const char *host = strstr(url, "://") + 3;
    size_t authority = strcspn(host, "/");
    if (!authority || *host == ':')
        return "the address needs a host (http://HOST:PORT)";
    if (memchr(host, '@', authority))
        return "the address has a user or password in it (the token goes in AGENTBUDGET_TOKEN)";
    /* a port that is no port: libcurl's "bad/illegal format", told as a daemon that is down */
    size_t hostport = strcspn(host, "/?#");
    const char *colon = memchr(host, ':', hostport);
    if (*host == '[') { /* [IPv6]:PORT */
        const char *close = memchr(host, ']', hostport);
        if (!close)
            return "the address has a '[' without its ']' (http://[::1]:8700)";
        colon = close + 1 < host + hostport ? close + 1 : NULL;
        if (colon && *colon != ':')
            return "the address has something other than :PORT after its ']'";
    }
    if (colon) {
        size_t n = hostport - (size_t)(colon + 1 - host);
        if (n == 0 || strspn(colon + 1, "0123456789") < n || strtol(colon + 1, NULL, 10) < 1 ||
            strtol(colon + 1, NULL, 10) > 65535)
            return "the port must be a number from 1 to 65535";
    }
    if (strpbrk(url, "?#"))
        return "the address has a query (?) or fragment (#) in it: give the daemon's base "
               "address, the request's path is added to it";
    return NULL;
}

int main(int argc, char **argv)
{
    cli c = {0};
    int store_missing = 0;
    c.store_url = getenv("AGENTBUDGET_STORE");
    c.url = getenv("AGENTBUDGET_URL");
    if (c.url && !*c.url)
        c.url = NULL;
    int store_flag = 0, url_flag = 0;
    const char *twice = NULL; /* --store or --url given twice */
    /* global flags anywhere on the line: take them out, keep the rest in order */
    int n = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            while (i < argc)
                argv[n++] = argv[i++];
            break;
        }
        if (strcmp(argv[i], "--json") == 0) {
            c.json = 1;
        } else if (strcmp(argv[i], "--store") == 0 || strncmp(argv[i], "--store=", 8) == 0) {
            /* an empty URL would silently open the default store: refused below */
            const char *url = argv[i][7] == '=' ? argv[i] + 8 : next_value(argc, argv, &i);
            store_missing = !*url;
            c.store_url = url;
            twice = store_flag ? "--store" : twice;
            store_flag = 1;
        } else if (strcmp(argv[i], "--url") == 0 || strncmp(argv[i], "--url=", 6) == 0) {
            const char *u = argv[i][5] == '=' ? argv[i] + 6 : next_value(argc, argv, &i);
            twice = url_flag ? "--url" : twice;
            url_flag = 1;
            c.url = *u ? u : NULL;
        } else {
            argv[n++] = argv[i];
        }
    }
    argc = n;
    /* after the whole line is read, so that --json anywhere applies to this error too */
    if (twice)
        return usage_error(&c, "%s: given twice (give it once)", twice);
    if (store_missing)
        return usage_error(&c, "--store: needs a URL (memory:, sqlite:PATH, postgres://…)");
    if (url_flag && !c.url)
        return usage_error(&c, "--url: needs agentbudgetd's address (http://HOST:PORT or "
                               "unix:PATH)");
    if (store_flag && url_flag)
        return usage_error(&c, "--store and --url: give one (a store, or the daemon)");
    if (store_flag)
        c.url = NULL; /* an explicit --store beats AGENTBUDGET_URL from the environment */
    c.url_flag = url_flag;
    c.store_from = store_flag                    ? "--store"
                   : c.store_url && *c.store_url ? "AGENTBUDGET_STORE"
                                                 : NULL;
    static char help_flag[] = "--help";
    if (argc >= 3 && strcmp(argv[1], "help") == 0) { /* help CMD: the command's own help */
        argv[1] = argv[2];
        argv[2] = help_flag;
        argc = 3;
    }
    if (argc < 2) { /* the list of commands on stderr; an error as every error, with --json */
        usage_all(stderr);
        return usage_error(&c, "no command given");
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage_all(stdout); /* text, with --json too: it is for people */
        return written(0);
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        if (c.json)
            printf("{\"version\":\"%s\"}\n", AB_VERSION);
        else
            printf("agentbudget %s\n", AB_VERSION);
        return written(0);
    }
    const command *cmd = command_find(argv[1]);
    if (!cmd)
        return usage_error(&c, "unknown command '%s' (see 'agentbudget --help')", argv[1]);
    c.cmd = cmd->name;
    /* migrate and copy work on stores (--url is their concern, and they refuse it), hook install
     * and uninstall on settings.json, report on transcripts: AGENTBUDGET_URL and
     * AGENTBUDGET_TIMEOUT, set for the other commands, are none of theirs (a wrong one kept a
     * hook from being uninstalled) */
    int asks_help = 0; /* "CMD --help" (or "help CMD", made so above) answers without the URL */
    for (int i = 2; i < argc && strcmp(argv[i], "--"); i++)
        asks_help |= !strcmp(argv[i], "--help") || !strcmp(argv[i], "-h");
    int settings = cmd->fn == cmd_hook && argc > 2 &&
                   (!strcmp(argv[2], "install") || !strcmp(argv[2], "uninstall"));
    if (!url_flag && (asks_help || settings || cmd->fn == cmd_migrate || cmd->fn == cmd_copy ||
                      cmd->fn == cmd_report))
        c.url = NULL;
    /* the Claude Code hook tells a fault of these after reading its event, as it tells a wrong
     * configuration: exit 2 there blocks a tool, but after Stop it would wake Claude again */
    int defer = cmd->fn == cmd_hook && argc > 2 && !strcmp(argv[2], "claude-code");
    const char *bad_url = c.url ? url_fault(c.url) : NULL;
    const char *t = c.url ? getenv("AGENTBUDGET_TIMEOUT") : NULL;
    if (bad_url) /* told as what it is, not as a daemon that cannot be reached (exit 3) */
        snprintf(c.env_fault, sizeof c.env_fault, "%s: '%.200s': %s",
                 url_flag ? "--url" : "AGENTBUDGET_URL", strchr(c.url, '@') ? "…" : c.url,
                 /* a password is not shown */ bad_url);
    else if (t && *t) {
        char *end;
        errno = 0;
        c.timeout_s = strtol(t, &end, 10);
        if (*t < '0' || *t > '9' || *end || errno || c.timeout_s < 1 || c.timeout_s > 3600)
            snprintf(c.env_fault, sizeof c.env_fault,
                     "AGENTBUDGET_TIMEOUT: '%.100s': must be a whole number of seconds from 1 to "
                     "3600 (how long a request to agentbudgetd may take)",
                     t);
    }
    if (c.env_fault[0] && !defer)
        return usage_error(&c, "%s", c.env_fault);
    int rc = cmd->fn(&c, argc - 2, argv + 2);
    ab_store_close(c.st);
    return written(rc < 0 ? 0 : rc);
}
