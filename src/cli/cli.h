/* cli.h — what the files of the agentbudget command share: the command table's shape, the
 * option parser, and the helpers that turn library results into output and exit codes. */
#ifndef AB_CLI_H
#define AB_CLI_H

#include <stdint.h>

#include "agentbudget.h"

/* Exit codes: the contract with scripts and hooks. */
#define EXIT_ALLOWED 0
#define EXIT_DENIED 1
#define EXIT_USAGE 2
#define EXIT_FAILURE_STORE 3

#define OPTS_MAX 24
#define MULTI_MAX 32
#define POS_MAX 4

typedef struct {
    const char *name; /* without the leading "--" */
    int has_arg;
    int multi; /* may be given more than once */
} opt_spec;

typedef struct {
    const char *pos[POS_MAX];
    int npos;
    const char *val[OPTS_MAX];
    const char *multi[OPTS_MAX][MULTI_MAX];
    int nmulti[OPTS_MAX];
    int set[OPTS_MAX];
} parsed;

typedef struct cli {
    const char *store_url;
    const char *store_from; /* where store_url came from, for messages: "--store",
                             * "AGENTBUDGET_STORE", or NULL (the default store) */
    const char *url;        /* agentbudgetd's address: then every operation goes through it */
    int url_flag;           /* url came from --url, not from AGENTBUDGET_URL */
    char remote_err[1024];
    long timeout_s;        /* a request to the daemon, whole: AGENTBUDGET_TIMEOUT, else 0 (the
                            * command's default: 60 s, the hook's 10 s) */
    long long deadline_ms; /* CLOCK_MONOTONIC ms by which every request to the daemon must be
                            * done (the hook's, all of its requests together); 0: none */
    char env_fault[512];   /* a wrong AGENTBUDGET_URL or AGENTBUDGET_TIMEOUT, for the hook to
                            * tell once it has read its event ("" if none) */
    int json;
    const char *cmd; /* the command's name, for messages */
    ab_store *st;
} cli;

typedef struct {
    const char *name;
    int (*fn)(cli *c, int argc, char **argv);
    const char *usage;   /* the line after "usage: agentbudget " */
    const char *summary; /* one line for the command list */
} command;

/* Parses argv (after the command words) against specs. On bad input prints the error and
 * returns EXIT_USAGE; --help prints usage and returns -1 (exit 0). */
int args_parse(cli *c, const command *cmd, const opt_spec *specs, int argc, char **argv, parsed *p,
               int pos_min, int pos_max);
/* Index of option name in specs (must exist). */
int opt_index(const opt_spec *specs, const char *name);
const char *opt(const parsed *p, const opt_spec *specs, const char *name);

/* Field parsers: on failure they print "error: --field: rule" and return EXIT_USAGE. */
int parse_tokens(cli *c, const char *field, const char *s, int64_t *out);
int parse_usd(cli *c, const char *field, const char *s, int64_t *out);
int parse_price(cli *c, const char *field, const char *s, int64_t *out);
/* Appends l to list[0..*n), or a usage error naming field if list has its metric and window
 * already; parse_limit parses "METRIC/WINDOW=AMOUNT" first. list has room for one more. */
int limit_append(cli *c, const char *field, const ab_limit *l, ab_limit *list, size_t *n);
int parse_limit(cli *c, const char *field, const char *s, ab_limit *list, size_t *n);
int check_path(cli *c, const char *field, const char *path);

/* Opens the store (once). Returns 0 or the exit code after printing the error. */
int store_open(cli *c);
/* Prints the library failure and returns its exit code (2 for bad input, 3 for the store). */
int fail(cli *c, int rc);
/* Reads f to its end into *out (malloc'd, NUL-terminated), growing the buffer as it goes, so
 * that a small input needs little memory. 0, or ENOMEM, EFBIG (more than max bytes) or the
 * read's errno. */
int read_all(FILE *f, size_t max, char **out, size_t *n);
/* s into buf with control characters (ESC, BEL, tab, DEL…) as '?', for human output of what
 * others wrote: a model or file name from a transcript, a denied command in an event's reason.
 * One with "\033]0;…\007\033[2J" would retitle and clear the reader's terminal. Returns buf. */
const char *term_safe(const char *s, char *buf, size_t size);
/* Warns on stderr of each tool pattern of role r that can match no call (ab_tool_pattern_inert:
 * one stored before role set refused them); `where` follows the role's name ("", or ", the
 * role of budget PATH"). */
void role_inert_warn(const ab_role *r, const char *where);
/* Why a transcript could not be read (ab_transcript_stats.sys_errno), in words. */
const char *transcript_errstr(int sys_errno);
/* CLOCK_MONOTONIC, in ms. */
long long mono_ms(void);
/* "s" unless n is 1: "%zu event%s". */
const char *plural_s(long long n);
/* An amount of metric m: "$0.01" for dollars; "1000", or with unit "1000 tokens", "1 request". */
const char *amount_text(ab_metric m, int64_t v, int unit, char *buf, size_t size);
/* Prints "error: ..." (and the JSON error object with --json); returns EXIT_USAGE. */
int usage_error(cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints s to stdout as a JSON string, quotes and escapes included (names from the user may
 * hold quotes, backslashes or control characters). */
void json_str(const char *s);
/* Prints a malloc'd JSON string and a newline, frees it. */
int print_json(cli *c, char *json);
/* Human text for a decision. */
void print_decision(const ab_decision *d, const char *what);

int cmd_init(cli *c, int argc, char **argv);
int cmd_set(cli *c, int argc, char **argv);
int cmd_status(cli *c, int argc, char **argv);
int cmd_list(cli *c, int argc, char **argv);
int cmd_delete(cli *c, int argc, char **argv);
int cmd_reset(cli *c, int argc, char **argv);
int cmd_check(cli *c, int argc, char **argv);
int cmd_reserve(cli *c, int argc, char **argv);
int cmd_commit(cli *c, int argc, char **argv);
int cmd_release(cli *c, int argc, char **argv);
int cmd_hold(cli *c, int argc, char **argv);
int cmd_charge(cli *c, int argc, char **argv);
int cmd_permission(cli *c, int argc, char **argv);
int cmd_events(cli *c, int argc, char **argv);
int cmd_price(cli *c, int argc, char **argv);
int cmd_role(cli *c, int argc, char **argv);
int cmd_migrate(cli *c, int argc, char **argv);
int cmd_copy(cli *c, int argc, char **argv);
int cmd_token(cli *c, int argc, char **argv);
int cmd_hook(cli *c, int argc, char **argv);
int cmd_report(cli *c, int argc, char **argv);

const command *command_find(const char *name);

/* ---- the Claude Code hook (cmd_hook.c), in two steps that tests/fuzz/fuzz_hook.c drives ---- */
typedef struct {
    char parent[AB_PATH_BYTES_MAX + 1];
    char role[AB_NAME_BYTES_MAX];
    int deny_on_error;
    char store[1024];
} hook_config;

struct json_t; /* jansson's; the files that use these include <jansson.h> */
/* Parses one hook event, the n bytes read from stdin (no NUL needed): 0 and *ev a JSON object
 * (the caller's, free with json_decref()), or EXIT_USAGE after printing why, *ev NULL. */
int hook_event_parse(cli *c, const char *in, size_t n, struct json_t **ev);
/* Acts on a parsed event under cfg (its parent a valid budget path): checks the event's fields,
 * charges the session's budget (created on first sight under cfg->parent) for its transcripts'
 * new usage, and for PreToolUse and UserPromptSubmit prints the denial on stdout when the role
 * or the budget says no. Opens the store unless c->st is open. Returns the exit code; ev stays
 * the caller's. */
int hook_event_run(cli *c, const hook_config *cfg, struct json_t *ev);

/* The backend (remote.c): the library on the local store, or agentbudgetd when c->url is set.
 * Same contracts as the ab_ functions they stand for. A change with `after` not NULL fills it
 * with the budget's status as that change left it (read in the change's own transaction). */
int be_budget_set(cli *c, const char *path, const ab_budget_spec *sp, const char *key, int *created,
                  ab_budget_status *after);
int be_budget_get(cli *c, const char *path, ab_budget_status *b);
int be_budget_list(cli *c, const char *prefix, ab_budget_fn fn, void *ctx);
int be_budget_delete(cli *c, const char *path, const char *key);
int be_budget_reset(cli *c, const char *path, int which, const char *key, ab_budget_status *after);
/* u NULL: a token-only check of `tokens` */
int be_check(cli *c, const char *path, const char *model, const ab_usage *u, int64_t tokens,
             ab_decision *d);
int be_reserve(cli *c, const char *path, const char *model, const ab_usage *u, int64_t ttl_s,
               const char *key, ab_decision *d);
/* before: u is what a request charged as before grew by (ab_budget_charge_growth), or NULL */
int be_charge(cli *c, const char *path, const char *model, const ab_usage *before,
              const ab_usage *u, const char *key, ab_decision *d);
int be_commit(cli *c, const char *hold, const ab_usage *u, const char *key, ab_decision *d);
int be_release(cli *c, const char *hold, const char *key);
int be_hold_get(cli *c, const char *hold, ab_hold *h);
int be_permission(cli *c, const char *path, const char *op, const ab_permission_context *ctx,
                  ab_decision *d);
int be_events(cli *c, const ab_event_query *q, ab_event_fn fn, void *ctx);
int be_price_list(cli *c, int builtin, ab_price_fn fn, void *ctx);
int be_price_get(cli *c, const char *model, ab_price *p);
int be_price_set(cli *c, const ab_price *p);
int be_price_unset(cli *c, const char *model);
int be_price_import(cli *c, const char *doc, size_t len, size_t *n);
int be_role_list(cli *c, ab_role_fn fn, void *ctx);
int be_role_show(cli *c, const char *name, ab_role_fn fn, void *ctx);
int be_role_set(cli *c, const ab_role *r);
int be_role_delete(cli *c, const char *name);
int be_token_create(cli *c, const char *scope, ab_token_role role, const char *label, int64_t ttl,
                    char *secret, ab_token *t);
int be_token_list(cli *c, ab_token_fn fn, void *ctx);
int be_token_revoke(cli *c, const char *id);

#endif
