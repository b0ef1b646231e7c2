/* args.c — option parsing, field validation with messages that name the field and the rule,
 * and the mapping of library results to output and exit codes. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The length of the well-formed UTF-8 sequence at p (1-4), 0 if it is not one. */
static size_t utf8_len(const unsigned char *p)
{
    size_t n = p[0] < 0x80                    ? 1
               : p[0] >= 0xc2 && p[0] <= 0xdf ? 2
               : (p[0] & 0xf0) == 0xe0        ? 3
               : p[0] >= 0xf0 && p[0] <= 0xf4 ? 4
                                              : 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if ((n == 3 && p[0] == 0xe0 && p[1] < 0xa0) || (n == 3 && p[0] == 0xed && p[1] >= 0xa0) ||
        (n == 4 && p[0] == 0xf0 && p[1] < 0x90) || (n == 4 && p[0] == 0xf4 && p[1] >= 0x90))
        return 0; /* overlong, a surrogate, past U+10FFFF */
    return n;
}

/* s as a JSON string: quotes, backslashes and control characters escaped, and a byte that is
 * not UTF-8 (a bad argument quoted in an error) as U+FFFD, so the output stays JSON. */
void json_str(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = utf8_len(p);
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else if (n == 0)
            fputs("\\ufffd", stdout);
        else
            fwrite(p, 1, n, stdout);
        p += n ? n : 1;
    }
    putchar('"');
}

static void json_error(const char *code, const char *message)
{
    printf("{\"error\":{\"code\":\"%s\",\"message\":", code);
    json_str(message);
    printf("}}\n");
}

const char *plural_s(long long n)
{
    return n == 1 ? "" : "s";
}

const char *amount_text(ab_metric m, int64_t v, int unit, char *buf, size_t size)
{
    char usd[32];
    if (m == AB_METRIC_USD)
        snprintf(buf, size, "$%s", ab_usd_format(v, usd, sizeof usd));
    else if (unit)
        snprintf(buf, size, "%lld %s%s", (long long)v, m == AB_METRIC_TOKENS ? "token" : "request",
                 plural_s(v));
    else
        snprintf(buf, size, "%lld", (long long)v);
    return buf;
}

int usage_error(cli *c, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char safe[sizeof msg];
    fprintf(stderr, "error: %s\n", term_safe(msg, safe, sizeof safe)); /* argv quoted in it */
    if (c->json)
        json_error("EINVAL", msg);
    return EXIT_USAGE;
}

int fail(cli *c, int rc)
{
    const char *detail = c->remote_err[0] ? c->remote_err : c->st ? ab_store_errmsg(c->st) : "";
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", detail && *detail ? detail : ab_strerror(rc));
    char safe[sizeof msg];
    fprintf(stderr, "error: %s\n", term_safe(msg, safe, sizeof safe));
    if (c->json)
        json_error(ab_err_name(rc), msg);
    switch (rc) {
    case AB_EPERM: /* a token the daemon refused: bad input, like a bad flag */
        return EXIT_USAGE;
    case AB_ESTORE:
    case AB_ENOMEM:
    case AB_EBUSY:
        return EXIT_FAILURE_STORE;
    default:
        return EXIT_USAGE;
    }
}

const char *transcript_errstr(int sys_errno)
{
    return sys_errno == EINVAL ? "not a regular file (a FIFO or a device is never read)"
                               : strerror(sys_errno);
}

const char *term_safe(const char *s, char *buf, size_t size)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && o + 1 < size;) {
        size_t n = utf8_len(p);
        int c1 = n == 2 && p[0] == 0xc2 && p[1] <= 0x9f; /* U+0080..U+009F: CSI and the rest */
        if (n == 0 || c1 || *p < 0x20 || *p == 0x7f) {   /* also a byte that is no UTF-8 */
            buf[o++] = '?';
            p += n ? n : 1;
        } else if (o + n < size) {
            memcpy(buf + o, p, n);
            o += n;
            p += n;
        } else {
            break;
        }
    }
    buf[o] = '\0';
    return buf;
}

void role_inert_warn(const ab_role *r, const char *where)
{
    char *const *lists[] = {r->allow_tools, r->deny_tools};
    const size_t counts[] = {r->allow_tools_count, r->deny_tools_count};
    static const char *const keys[] = {"allow-tool", "deny-tool"};
    char why[1024], safe[1024], name[AB_NAME_BYTES_MAX];
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < counts[k]; i++)
            if (ab_tool_pattern_inert(lists[k][i], why, sizeof why))
                fprintf(stderr,
                        "warning: role '%s'%s: %s: %s; 'role set' refuses such a pattern now: "
                        "set the role again without it\n",
                        term_safe(r->name, name, sizeof name), where, keys[k],
                        term_safe(why, safe, sizeof safe));
}

int read_all(FILE *f, size_t max, char **out, size_t *n)
{
    size_t cap = max < 64 * 1024 ? max + 1 : 64 * 1024, len = 0;
    char *buf = NULL;
    for (;;) {
        char *p = realloc(buf, cap + 1);
        if (!p) {
            free(buf);
            return ENOMEM;
        }
        buf = p;
        len += fread(buf + len, 1, cap - len, f);
        if (ferror(f)) {
            int err = errno ? errno : EIO;
            free(buf);
            return err;
        }
        if (len < cap) /* the end */
            break;
        if (cap > max) {
            free(buf);
            return EFBIG;
        }
        cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
    }
    buf[len] = '\0';
    *out = buf;
    *n = len;
    return 0;
}

int store_open(cli *c)
{
    if (c->st || c->url) /* a client of the daemon opens no store */
        return 0;
    int rc = ab_store_open(c->store_url, &c->st);
    if (rc == AB_OK)
        return 0;
    if (rc == AB_EINVAL && c->store_from) /* say where the bad URL came from */
        snprintf(c->remote_err, sizeof c->remote_err, "%s: %s", c->store_from,
                 ab_store_errmsg(c->st));
    return fail(c, rc);
}

int opt_index(const opt_spec *specs, const char *name)
{
    for (int i = 0; specs[i].name; i++)
        if (strcmp(specs[i].name, name) == 0)
            return i;
    abort(); /* a programmer error: the command asked for an option it does not declare */
}

const char *opt(const parsed *p, const opt_spec *specs, const char *name)
{
    return p->val[opt_index(specs, name)];
}

static int take_option(cli *c, const opt_spec *specs, parsed *p, const char *arg, int *i, int argc,
                       char **argv)
{
    const char *name = arg + 2, *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    for (int k = 0; specs[k].name; k++) {
        if (strlen(specs[k].name) != len || strncmp(specs[k].name, name, len) != 0)
            continue;
        const char *val = "";
        if (specs[k].has_arg) {
            if (eq)
                val = eq + 1;
            else if (*i + 1 < argc && strncmp(argv[*i + 1], "--", 2) != 0)
                val = argv[++*i];
            else if (*i + 1 < argc) /* "--input --output 5": not the value "--output" */
                return usage_error(c,
                                   "--%s: needs a value, and '%s' is an option (a value that "
                                   "starts with -- goes as --%s=VALUE)",
                                   specs[k].name, argv[*i + 1], specs[k].name);
            else
                return usage_error(c, "--%s: needs a value", specs[k].name);
        } else if (eq) {
            return usage_error(c, "--%s: takes no value", specs[k].name);
        }
        if (p->set[k] && !specs[k].multi)
            return usage_error(c, "--%s: given more than once", specs[k].name);
        if (specs[k].multi) {
            if (p->nmulti[k] >= MULTI_MAX)
                return usage_error(c, "--%s: at most %d times", specs[k].name, MULTI_MAX);
            p->multi[k][p->nmulti[k]++] = val;
        }
        p->set[k] = 1;
        p->val[k] = val;
        return 0;
    }
    return usage_error(c, "unknown option '--%.*s' for '%s' (see 'agentbudget %s --help')",
                       (int)len, name, c->cmd, c->cmd);
}

int args_parse(cli *c, const command *cmd, const opt_spec *specs, int argc, char **argv, parsed *p,
               int pos_min, int pos_max)
{
    memset(p, 0, sizeof *p);
    int only_pos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!only_pos && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
            printf("usage: agentbudget %s\n\n%s\n", cmd->usage, cmd->summary);
            return -1;
        }
        if (!only_pos && strcmp(a, "--") == 0) {
            only_pos = 1;
        } else if (!only_pos && a[0] == '-' && a[1] == '-' && a[2]) {
            int rc = take_option(c, specs, p, a, &i, argc, argv);
            if (rc)
                return rc;
        } else if (!only_pos && a[0] == '-' && a[1]) {
            return usage_error(c, "unknown option '%s' for '%s' (options are spelled --name)", a,
                               c->cmd);
        } else {
            if (p->npos >= pos_max || p->npos >= POS_MAX)
                return usage_error(c, "unexpected argument '%s' (usage: agentbudget %s)", a,
                                   cmd->usage);
            p->pos[p->npos++] = a;
        }
    }
    if (p->npos < pos_min)
        return usage_error(c, "missing argument (usage: agentbudget %s)", cmd->usage);
    return 0;
}

int parse_tokens(cli *c, const char *field, const char *s, int64_t *out)
{
    if (ab_tokens_parse(s, out))
        return usage_error(c, "%s: '%s' is not a whole number of tokens (0 to %lld, digits only)",
                           field, s, (long long)INT64_MAX);
    return 0;
}

int parse_usd(cli *c, const char *field, const char *s, int64_t *out)
{
    if (ab_usd_parse(s, out))
        return usage_error(c,
                           "%s: '%s' is not a USD amount (digits with at most 9 decimals, at "
                           "most 9223372036.854775807, like 10 or 0.48; no sign or exponent)",
                           field, s);
    return 0;
}

int parse_price(cli *c, const char *field, const char *s, int64_t *out)
{
    if (ab_price_parse(s, out))
        return usage_error(c,
                           "%s: '%s' is not a price in USD per million tokens (at most 6 "
                           "decimals and at most 1000000000, like 3 or 3.75)",
                           field, s);
    return 0;
}

int limit_append(cli *c, const char *field, const ab_limit *l, ab_limit *list, size_t *n)
{
    list[*n] = *l;
    if (ab_limits_repeated(list, *n + 1) >= 0)
        return usage_error(c, "%s: %s/%s given twice (one limit per metric and window)", field,
                           ab_metric_name(l->metric), ab_window_name(l->window));
    (*n)++;
    return 0;
}

int parse_limit(cli *c, const char *field, const char *s, ab_limit *list, size_t *n)
{
    ab_limit l;
    char why[320];
    if (ab_limit_explain(s, why, sizeof why))
        return usage_error(c, "%s: %s", field, why);
    ab_limit_parse(s, &l);
    return limit_append(c, field, &l, list, n);
}

int check_path(cli *c, const char *field, const char *path)
{
    if (ab_path_validate(path))
        return usage_error(c,
                           "%s: '%s' is not a budget path (segments of [A-Za-z0-9._:@-], 1-%d "
                           "bytes each, at most %d segments, no '.' or '..')",
                           field, path, AB_PATH_SEGMENT_BYTES_MAX, AB_PATH_SEGMENTS_MAX);
    return 0;
}

int print_json(cli *c, char *json)
{
    if (!json) {
        fprintf(stderr, "error: out of memory\n");
        return EXIT_FAILURE_STORE;
    }
    (void)c;
    puts(json);
    free(json);
    return 0;
}

void print_decision(const ab_decision *d, const char *what)
{
    char cost[32], reason[sizeof d->reason]; /* a reason may quote a tool's or model's name */
    ab_usd_format(d->cost_nusd, cost, sizeof cost);
    if (!d->allowed)
        printf("denied: %s\n", term_safe(d->reason, reason, sizeof reason));
    else
        printf("%s: %lld token%s, $%s%s\n", what, (long long)d->tokens, plural_s(d->tokens), cost,
               d->replayed ? " (repeated key: first answer)" : "");
    if (d->allowed && d->over)
        printf("warning: %s\n", term_safe(d->reason, reason, sizeof reason));
}
