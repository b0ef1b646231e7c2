/* roles.c — roles as policy data (default limits, allowed and denied tools and models, admin)
 * and the permission check: the role allows it AND the budget can pay for it. */
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int ab__glob_match(const char *pattern, const char *s)
{
    return fnmatch(pattern, s, 0) == 0;
}

void ab_role_free(ab_role *r)
{
    if (!r)
        return;
    char **lists[] = {r->allow_tools, r->deny_tools, r->allow_models, r->deny_models};
    size_t *counts[] = {&r->allow_tools_count, &r->deny_tools_count, &r->allow_models_count,
                        &r->deny_models_count};
    for (int k = 0; k < 4; k++) {
        for (size_t i = 0; i < *counts[k]; i++)
            free(lists[k][i]);
        *counts[k] = 0;
    }
}

static int glob_add(char **list, size_t *count, const char *glob, char *err, size_t err_size)
{
    if (*count >= AB_GLOBS_MAX) {
        snprintf(err, err_size, "at most %d patterns per list", AB_GLOBS_MAX);
        return AB_EINVAL;
    }
    if (!*glob || strlen(glob) >= AB_NAME_BYTES_MAX * 2) {
        snprintf(err, err_size, "a pattern must be 1-%d bytes", AB_NAME_BYTES_MAX * 2 - 1);
        return AB_EINVAL;
    }
    if (!(list[*count] = strdup(glob)))
        return AB_ENOMEM;
    (*count)++;
    return AB_OK;
}

/* One "key=value" word of a role spec. */
static int role_word(ab_role *r, const char *word, char *err, size_t err_size)
{
    const char *eq = strchr(word, '=');
    if (!eq) {
        snprintf(err, err_size, "'%s': expected key=value", word);
        return AB_EINVAL;
    }
    size_t klen = (size_t)(eq - word);
    const char *val = eq + 1;
#define KEY(k) (klen == strlen(k) && memcmp(word, k, klen) == 0)
    if (KEY("limit")) {
        ab_limit l;
        if (ab_limit_parse(val, &l)) {
            snprintf(err, err_size, "limit '%s': expected METRIC/WINDOW=AMOUNT", val);
            return AB_EINVAL;
        }
        for (size_t i = 0; i < r->limits_count; i++)
            if (r->limits[i].metric == l.metric && r->limits[i].window == l.window) {
                r->limits[i] = l;
                return AB_OK;
            }
        r->limits[r->limits_count++] = l;
        return AB_OK;
    }
    if (KEY("allow-tool"))
        return glob_add(r->allow_tools, &r->allow_tools_count, val, err, err_size);
    if (KEY("deny-tool"))
        return glob_add(r->deny_tools, &r->deny_tools_count, val, err, err_size);
    if (KEY("allow-model"))
        return glob_add(r->allow_models, &r->allow_models_count, val, err, err_size);
    if (KEY("deny-model"))
        return glob_add(r->deny_models, &r->deny_models_count, val, err, err_size);
    if (KEY("admin")) {
        if (strcmp(val, "true") && strcmp(val, "false")) {
            snprintf(err, err_size, "admin: must be true or false");
            return AB_EINVAL;
        }
        r->admin = strcmp(val, "true") == 0;
        return AB_OK;
    }
#undef KEY
    snprintf(err, err_size,
             "'%.*s': unknown key (limit, allow-tool, deny-tool, allow-model, "
             "deny-model, admin)",
             (int)klen, word);
    return AB_EINVAL;
}

int ab__role_parse(const char *spec, ab_role *out, char *err, size_t err_size)
{
    char name[AB_NAME_BYTES_MAX];
    ab__strlcpy(name, out->name, sizeof name);
    memset(out, 0, sizeof *out);
    ab__strlcpy(out->name, name, sizeof out->name);
    const char *p = spec;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len > 0) {
            char word[512];
            if (len >= sizeof word) {
                snprintf(err, err_size, "a line is longer than %zu bytes", sizeof word - 1);
                ab_role_free(out);
                return AB_EINVAL;
            }
            memcpy(word, p, len);
            word[len] = '\0';
            int rc = role_word(out, word, err, err_size);
            if (rc) {
                ab_role_free(out);
                return rc;
            }
        }
        p += len + (nl ? 1 : 0);
    }
    return AB_OK;
}

char *ab__role_format(const ab_role *r)
{
    ab__sb sb = {0};
    for (size_t i = 0; i < r->limits_count; i++) {
        char buf[64];
        ab__sb_addf(&sb, "limit=%s\n", ab_limit_format(&r->limits[i], buf, sizeof buf));
    }
    for (size_t i = 0; i < r->allow_tools_count; i++)
        ab__sb_addf(&sb, "allow-tool=%s\n", r->allow_tools[i]);
    for (size_t i = 0; i < r->deny_tools_count; i++)
        ab__sb_addf(&sb, "deny-tool=%s\n", r->deny_tools[i]);
    for (size_t i = 0; i < r->allow_models_count; i++)
        ab__sb_addf(&sb, "allow-model=%s\n", r->allow_models[i]);
    for (size_t i = 0; i < r->deny_models_count; i++)
        ab__sb_addf(&sb, "deny-model=%s\n", r->deny_models[i]);
    ab__sb_addf(&sb, "admin=%s\n", r->admin ? "true" : "false");
    if (sb.oom) {
        free(sb.buf);
        return NULL;
    }
    return sb.buf;
}

/* Only Bash is checked with its input, Bash(COMMAND); any other tool by its name alone (the
 * hook's tool_name), so Read(.env), as Claude Code's own rules write it, would never match
 * anything: a deny that denies nothing, or an allow that allows nothing. */
int ab_tool_pattern_inert(const char *g, char *why, size_t why_size)
{
    const char *paren = strchr(g, '(');
    if (!paren)
        return 0;
    char name[AB_NAME_BYTES_MAX * 2];
    size_t n = (size_t)(paren - g);
    if (n >= sizeof name)
        n = sizeof name - 1;
    memcpy(name, g, n);
    name[n] = '\0';
    if (paren == g) {
        snprintf(why, why_size, "'%s': a tool's name must come before '('", g);
        return 1;
    }
    if (ab__glob_match(name, "Bash"))
        return 0;
    snprintf(why, why_size,
             "'%s' would match nothing: only Bash is matched with what it runs, Bash(COMMAND); "
             "other tools by their name alone ('%s'), never by a path or URL",
             g, name);
    return 1;
}

static int role_valid(ab_store *st, const ab_role *r)
{
    int rc = ab__name_valid(st, "role name", r->name);
    if (rc)
        return rc;
    if ((rc = ab__limits_valid(st, r->limits, r->limits_count, 0)))
        return rc;
    char *const *lists[] = {r->allow_tools, r->deny_tools, r->allow_models, r->deny_models};
    const size_t counts[] = {r->allow_tools_count, r->deny_tools_count, r->allow_models_count,
                             r->deny_models_count};
    static const char *const keys[] = {"allow-tool", "deny-tool", "allow-model", "deny-model"};
    for (int k = 0; k < 4; k++) {
        if (counts[k] > AB_GLOBS_MAX)
            return ab__fail(st, AB_EINVAL, "%s: at most %d patterns", keys[k], AB_GLOBS_MAX);
        for (size_t i = 0; i < counts[k]; i++) {
            const char *g = lists[k][i];
            if (!g || !g[0] || strlen(g) >= AB_NAME_BYTES_MAX * 2 || strchr(g, '\n') ||
                !ab__utf8_valid((const unsigned char *)g))
                return ab__fail(st, AB_EINVAL, "%s: a pattern must be 1-%d bytes, one line, UTF-8",
                                keys[k], AB_NAME_BYTES_MAX * 2 - 1);
            char why[AB_NAME_BYTES_MAX * 4 + 256];
            if (k < 2 && ab_tool_pattern_inert(g, why, sizeof why))
                return ab__fail(st, AB_EINVAL, "%s: %s", keys[k], why);
        }
    }
    return AB_OK;
}

int ab_role_set(ab_store *st, const ab_role *r)
{
    int rc = role_valid(st, r);
    if (rc)
        return rc;
    char *spec = ab__role_format(r);
    if (!spec)
        return ab__fail(st, AB_ENOMEM, "out of memory");
    if ((rc = ab__txn_begin(st, 1))) {
        free(spec);
        return rc;
    }
    rc = st->ops->role_put(st, r->name, spec);
    free(spec);
    if (rc == AB_OK) {
        ab_event e;
        ab__event_init(st, &e, "", "role", ab__now(st));
        ab__strlcpy(e.reason, r->name, sizeof e.reason);
        rc = st->ops->event_append(st, &e);
    }
    return ab__txn_finish(st, rc);
}

static int role_load(ab_store *st, const char *name, ab_role *out)
{
    char *spec = NULL, err[160];
    int rc = st->ops->role_get(st, name, &spec);
    if (rc == AB_ENOTFOUND)
        return ab__fail(st, rc, "no role '%s'", name);
    if (rc)
        return rc;
    ab__strlcpy(out->name, name, sizeof out->name);
    rc = ab__role_parse(spec, out, err, sizeof err);
    free(spec);
    if (rc)
        return ab__fail(st, AB_ESTORE, "role '%s' is corrupt in the store: %s", name, err);
    return AB_OK;
}

int ab_role_get(ab_store *st, const char *name, ab_role *out)
{
    memset(out, 0, sizeof *out);
    if (!name || !*name || strlen(name) >= AB_NAME_BYTES_MAX)
        return ab__fail(st, AB_EINVAL, "role name: must be 1-%d bytes", AB_NAME_BYTES_MAX - 1);
    int rc = ab__txn_begin(st, 0);
    if (rc)
        return rc;
    rc = role_load(st, name, out);
    return ab__txn_finish(st, rc);
}

typedef struct {
    ab_role_fn fn;
    void *ctx;
} role_list_args;

static int role_list_one(const char *name, const char *spec, void *v)
{
    role_list_args *a = v;
    ab_role r;
    char err[160];
    memset(&r, 0, sizeof r);
    ab__strlcpy(r.name, name, sizeof r.name);
    if (ab__role_parse(spec, &r, err, sizeof err))
        return AB_ESTORE;
    int rc = a->fn(&r, a->ctx);
    ab_role_free(&r);
    return rc;
}

int ab_role_list(ab_store *st, ab_role_fn fn, void *ctx)
{
    int rc = ab__txn_begin(st, 0);
    if (rc)
        return rc;
    role_list_args a = {fn, ctx};
    st->walking = 1;
    rc = st->ops->role_list(st, role_list_one, &a);
    st->walking = 0;
    ab__txn_finish(st, rc < 0 ? rc : AB_OK);
    return rc;
}

int ab_role_delete(ab_store *st, const char *name)
{
    int rc = ab__name_valid(st, "role name", name ? name : ""); /* as ab_role_get: EINVAL */
    if (rc)
        return rc;
    rc = ab__txn_begin(st, 1);
    if (rc)
        return rc;
    rc = st->ops->role_delete(st, name);
    if (rc == AB_ENOTFOUND)
        ab__fail(st, rc, "no role '%s'", name);
    if (rc == AB_OK) {
        ab_event e;
        ab__event_init(st, &e, "", "role", ab__now(st));
        snprintf(e.reason, sizeof e.reason, "%s deleted", name);
        rc = st->ops->event_append(st, &e);
    }
    return ab__txn_finish(st, rc);
}

/* A tool pattern as Claude Code reads one: a " *" that ends a command's may match nothing, as
 * may its older ":*" (Bash(git push *) and Bash(git push:*) match "git push" and "git push
 * origin", not "git pushx"), and an MCP server's name is each of its tools (mcp__github:
 * mcp__github__create_issue). Read as fnmatch alone, Bash(git push *) let a bare git push past
 * a deny list, and Bash(git push:*) and mcp__github denied nothing at all. */
static int tool_glob_match(const char *g, const char *s)
{
    if (ab__glob_match(g, s))
        return 1;
    size_t n = strlen(g);
    char alt[AB_NAME_BYTES_MAX * 2 + 3];
    if (!strchr(g, '(')) {
        /* a name alone is each call of the tool, with what it is given: Bash of Bash(ls), and
         * Read of Read(.env), which a caller of the API may name so */
        const char *open = strchr(s, '(');
        char name[AB_NAME_BYTES_MAX * 2];
        size_t k = open ? (size_t)(open - s) : 0;
        if (open && k >= sizeof name)
            return 0;
        if (open) {
            memcpy(name, s, k);
            name[k] = '\0';
            s = name;
            if (ab__glob_match(g, s))
                return 1;
        }
        if (strncmp(g, "mcp__", 5) || strstr(g + 5, "__") || strncmp(s, "mcp__", 5) ||
            n + 3 >= sizeof alt)
            return 0;
        memcpy(alt, g, n);
        memcpy(alt + n, "__*", 4); /* mcp__github__* */
        return ab__glob_match(alt, s);
    }
    if (n < 4 || n >= sizeof alt || strncmp(s, "Bash(", 5) ||
        (strcmp(g + n - 3, " *)") && strcmp(g + n - 3, ":*)")))
        return 0;
    memcpy(alt, g, n - 3);
    memcpy(alt + n - 3, ")", 2); /* Bash(git push) */
    if (ab__glob_match(alt, s))
        return 1;
    memcpy(alt + n - 3, " *)", 4); /* Bash(git push *) */
    return g[n - 3] == ':' && ab__glob_match(alt, s);
}

/* Whether a tool pattern takes every Bash command line: a name alone that matches Bash (Bash,
 * Ba?h, *), or such a name with (*) */
static int glob_all_bash(const char *g)
{
    const char *paren = strchr(g, '(');
    if (!paren)
        return ab__glob_match(g, "Bash");
    char name[AB_NAME_BYTES_MAX * 2];
    size_t n = (size_t)(paren - g);
    if (n >= sizeof name || strcmp(paren, "(*)"))
        return 0;
    memcpy(name, g, n);
    name[n] = '\0';
    return ab__glob_match(name, "Bash");
}

/* Whether a tool pattern may match some Bash command line at all: what it begins with up to
 * its first *, ?, [ or \ begins "Bash(", or begins with it (Read, Web*, mcp__github: no) */
static int glob_bash(const char *g)
{
    size_t literal = strcspn(g, "*?[\\");
    return !strncmp(g, "Bash(", literal < 5 ? literal : 5);
}

static const char *globs_match(char *const *globs, size_t n, const char *s, int tool)
{
    for (size_t i = 0; i < n; i++)
        if (tool ? tool_glob_match(globs[i], s) : ab__glob_match(globs[i], s))
            return globs[i];
    return NULL;
}

/* A refusal: its reason formatted into reason (size bytes; none if 0), cut at a whole UTF-8
 * character where it does not fit. Returns 0, the verdict. */
__attribute__((format(printf, 3, 4))) static int refused(char *reason, size_t size, const char *fmt,
                                                         ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, size, fmt, ap);
    va_end(ap);
    if (size)
        ab__utf8_trim(reason);
    return 0;
}

/* One dimension (tools or models): deny wins, then an allow list (if any) must match. */
static int allows(const char *what, char *const *allow, size_t n_allow, char *const *deny,
                  size_t n_deny, const char *s, const char *role, char *reason, size_t size)
{
    int tool = !strcmp(what, "tool");
    const char *g = globs_match(deny, n_deny, s, tool);
    if (g) {
        return refused(reason, size, "role '%s' denies %s '%s' (pattern '%s')", role, what, s, g);
    }
    if (n_allow && !globs_match(allow, n_allow, s, tool)) {
        return refused(reason, size, "role '%s' does not allow %s '%s'", role, what, s);
    }
    return 1;
}

/* ---- Bash command lines, as far as patterns can see them ---- */

/* Where the word starting at s ends: the first blank outside quotes (or the end). In double
 * quotes and $'…' a backslash escapes the next character; in single quotes nothing does; $$ is
 * a parameter, not the $ of $'…'. */
static const char *word_end(const char *s)
{
    char q = 0;
    for (; *s && (q || *s != ' '); s++) {
        if ((q == 0 || q == '"' || q == 'a') && *s == '\\' && s[1])
            s++;
        else if (!q && *s == '$' && s[1] == '$')
            s++;
        else if (!q && *s == '$' && s[1] == '\'')
            q = 'a', s++;
        else if (!q && *s == '$' && s[1] == '"') /* $"…": a double quote (translated) */
            q = '"', s++;
        else if (!q && (*s == '\'' || *s == '"'))
            q = *s;
        else if (q && (q == 'a' ? *s == '\'' : *s == q)) /* an a ends no $'…' */
            q = 0;
    }
    return s;
}

/* The escape of $'…' at s (after its backslash, before e), as Bash decodes it, into out: \x67 is
 * g, \147 is g, \u0067 is g, \cG is ^G, \n a newline; an unknown one is itself with its
 * backslash. Returns the bytes it took from s; *n: the bytes written (never more than taken + 1:
 * a \u or \U escape's UTF-8 is shorter than it). */
static size_t ansi_escape(const char *s, const char *e, char *out, size_t *n)
{
    static const char simple[] = "a\ab\be\033E\033f\fn\nr\rt\tv\v\\\\'\'\"\"?\?";
    const char *hit = strchr(simple, *s);
    if (*s && hit && (hit - simple) % 2 == 0) {
        out[0] = hit[1];
        *n = 1;
        return 1;
    }
    unsigned long v = 0;
    size_t k = 0, max = 0;
    int base = 16;
    if (*s >= '0' && *s <= '7')
        base = 8, max = 3;
    else if (*s == 'x')
        max = 2;
    else if (*s == 'u')
        max = 4;
    else if (*s == 'U')
        max = 8;
    else if (*s == 'c' && s + 1 < e && s[1] != '\'') { /* \c' is \c, and the quote closes */
        out[0] = (char)(s[1] & 0x1f);
        *n = 1;
        return 2;
    }
    if (!max) { /* unknown: kept as written */
        out[0] = '\\';
        *n = 1;
        return 0;
    }
    const char *d = base == 8 ? s : s + 1;
    for (; k < max && d + k < e; k++) {
        int c = (unsigned char)d[k], x = c >= '0' && c <= '9'   ? c - '0'
                                         : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                         : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                                : 99;
        if (x >= base)
            break;
        v = v * (unsigned long)base + (unsigned long)x;
    }
    size_t took = (size_t)(d - s) + k;
    if (!k) { /* \x with no digit: kept as written */
        out[0] = '\\';
        *n = 1;
        return 0;
    }
    if (*s != 'u' && *s != 'U') {
        out[0] = (char)(v & 0xff);
        *n = 1;
    } else if (v < 0x80) {
        out[0] = (char)v, *n = 1;
    } else if (v < 0x800) {
        out[0] = (char)(0xc0 | (v >> 6)), out[1] = (char)(0x80 | (v & 0x3f)), *n = 2;
    } else if (v < 0x10000) {
        out[0] = (char)(0xe0 | (v >> 12)), out[1] = (char)(0x80 | ((v >> 6) & 0x3f));
        out[2] = (char)(0x80 | (v & 0x3f)), *n = 3;
    } else {
        out[0] = (char)(0xf0 | ((v >> 18) & 0x07)), out[1] = (char)(0x80 | ((v >> 12) & 0x3f));
        out[2] = (char)(0x80 | ((v >> 6) & 0x3f)), out[3] = (char)(0x80 | (v & 0x3f)), *n = 4;
    }
    return took;
}

/* The word [s, e) with its quotes and escapes removed, as Bash passes it on ('git' and \git:
 * git), into out (at least e - s + 1 bytes, NUL-terminated). Returns its length. */
static size_t word_unquoted(const char *s, const char *e, char *out)
{
    size_t n = 0;
    char q = 0;
    for (; s < e; s++) {
        size_t w;
        if (q == 'a' && *s == '\\' && s + 1 < e) {
            s += ansi_escape(s + 1, e, out + n, &w);
            /* a NUL ends what $'…' gives (pu$'\0x'sh is push), not the word */
            if (w == 1 && out[n] == '\0')
                q = 'z';
            else
                n += w;
        } else if (q == 'z') { /* the rest of a $'…' cut by a NUL, to its closing quote */
            if (*s == '\\' && s + 1 < e)
                s++;
            else if (*s == '\'')
                q = 0;
        } else if (q == 0 && *s == '\\' && s + 1 < e)
            out[n++] = *++s;
        else if (q == '"' && *s == '\\' && s + 1 < e && strchr("\"\\$`", s[1]))
            out[n++] = *++s;
        else if (!q && *s == '$' && s + 1 < e && s[1] == '$')
            out[n++] = *s++, out[n++] = *s;
        else if (!q && *s == '$' && s + 1 < e && s[1] == '\'')
            q = 'a', s++;
        else if (!q && *s == '$' && s + 1 < e && s[1] == '"')
            q = '"', s++;
        else if (!q && (*s == '\'' || *s == '"'))
            q = *s;
        else if (q && (q == 'a' ? *s == '\'' : *s == q)) /* an a ends no $'…' */
            q = 0;
        else
            out[n++] = *s;
    }
    out[n] = '\0';
    return n;
}

#define BASH_EXPANDED_MAX (1 << 20) /* a command's words as braces expand them; longer: denied */
#define BRACE_NEST_MAX 32           /* braces, $( ) and ${ } in a word, followed so deep */
#define BRACE_GROUPS_MAX 64         /* groups expanded one in another in a word; more: denied */
#define BRACE_WORK_MAX (2 << 20)    /* bytes looked at expanding a line's groups; more: denied */

static const char *brace_unit_end(const char *p, const char *e, int depth);
static const char *zsh_param_end(const char *p, const char *end);

/* One step of a brace expansion's look at the word at p (before e), in the quote state *q (0,
 * ', ", or a for $'…'): past an escape, a quote's start or end, a $( ), ${ } or ` ` whole (its
 * braces and commas are none of a group's), or one byte. */
static const char *brace_step(const char *p, const char *e, char *q, int depth)
{
    if (*q == '\'' || (*q == 'a' && *p == '\'')) {
        *q = *p == '\'' ? 0 : *q;
        return p + 1;
    }
    if (*p == '\\')
        return p + 2 < e ? p + 2 : e;
    if (*q == 'a')
        return p + 1;
    if (*p == '`' || (*p == '$' && p + 1 < e && (p[1] == '(' || p[1] == '{')))
        return brace_unit_end(p, e, depth);
    if (*q == '"') {
        *q = *p == '"' ? 0 : *q;
        return p + 1;
    }
    if (*p == '$' && p + 1 < e && (p[1] == '\'' || p[1] == '"')) {
        *q = p[1] == '\'' ? 'a' : '"';
        return p + 2;
    }
    if (*p == '\'' || *p == '"')
        *q = *p;
    return p + 1;
}

/* Past the $( ), ${ } or ` ` at p (its nested parentheses or braces counted), or e if it does
 * not close there. */
static const char *brace_unit_end(const char *p, const char *e, int depth)
{
    if (depth >= BRACE_NEST_MAX)
        return e;
    if (*p == '`') {
        for (p++; p < e && *p != '`'; p++)
            p += *p == '\\' && p + 1 < e;
        return p < e ? p + 1 : e;
    }
    char open = p[1], shut = open == '(' ? ')' : '}', q = 0;
    int n = 1;
    for (p += 2; p < e;) {
        if (!q && *p == shut && --n == 0)
            return p + 1;
        n += !q && *p == open;
        p = brace_step(p, e, &q, depth + 1);
    }
    return e;
}

/* A sequence's end at [a, b), "X..Y" or "X..Y..N": *v its value (a single character's, or a
 * number's), *num 1 for a number; *end past it. 0 if none. */
static int brace_seq_end(const char *a, const char *b, long long *v, int *num, const char **end)
{
    const char *d = a + (a < b && (*a == '-' || *a == '+'));
    size_t digits = 0;
    while (d + digits < b && d[digits] >= '0' && d[digits] <= '9' && digits < 18)
        digits++;
    if (digits && (d + digits == b || d[digits] == '.')) {
        *v = strtoll(a, NULL, 10), *num = 1, *end = d + digits;
        return 1;
    }
    if (a < b && (a + 1 == b || a[1] == '.') && !strchr(".\\'\"$`", *a)) {
        *v = (unsigned char)*a, *num = 0, *end = a + 1;
        return 1;
    }
    return 0;
}

/* 1 if [a, b) is a sequence Bash (or zsh) expands, {X..Y} or {X..Y..N}: numbers or single
 * characters; *from, *to, *step, *width (a number's digits with a 0 in front, or 0), *num. */
static int brace_seq(const char *a, const char *b, long long *from, long long *to, long long *step,
                     int *width, int *num)
{
    const char *m, *t, *z;
    int num2 = 0;
    long long n = 1;
    if (!brace_seq_end(a, b, from, num, &m) || b - m < 3 || m[0] != '.' || m[1] != '.' ||
        !brace_seq_end(m + 2, b, to, &num2, &t) || num2 != *num)
        return 0;
    z = t;
    if (z < b && (b - z < 3 || z[0] != '.' || z[1] != '.' ||
                  !brace_seq_end(z + 2, b, &n, &num2, &z) || !num2 || z != b))
        return 0;
    *step = n < 0 ? -n : n ? n : 1;
    *width = 0;
    if (*num && ((a[0] == '0' && m - a > 1) || (a[0] == '-' && a[1] == '0') ||
                 (m[2] == '0' && t - m > 3) || (m[2] == '-' && m[3] == '0')))
        *width = (int)((m - a) > (t - m - 2) ? (m - a) : (t - m - 2));
    return 1;
}

/* The brace group Bash expands first in [s, e): the first { (outside quotes, escapes, $( ),
 * ${ } and ` `) whose } closes it with a comma at its own level between, or a sequence {X..Y}
 * ({a}{b,c} is {a}b {a}c, {a,b{c,d} is {a,bc {a,bd). Returns its {, *close its }; NULL if none,
 * and *deep 1 if braces nest deeper than the scanner follows. *zsh: 1 if zsh reads it
 * otherwise: a group right after $NAME ($y{rm,x} z: zsh runs rm x z, bash $yrm $yx z), or one
 * in an unquoted ${ } (${x:-{rm,x}}, which zsh expands and bash does not). */
static const char *brace_group(const char *s, const char *e, const char **close, int *deep,
                               int *zsh, int depth)
{
    struct {
        const char *open;
        int comma;
    } st[BRACE_NEST_MAX];
    size_t n = 0;
    const char *best = NULL, *named = NULL;
    char q = 0;
    for (const char *p = s; p < e;) {
        if (q) {
            p = brace_step(p, e, &q, depth);
        } else if (*p == '{') {
            if (n == BRACE_NEST_MAX) {
                *deep = 1;
                return NULL;
            }
            st[n].open = p++, st[n++].comma = 0;
        } else if (*p == ',' && n) {
            st[n - 1].comma = 1, p++;
        } else if (*p == '}' && n) {
            long long a, b, c;
            int w, num, seq = !st[--n].comma && brace_seq(st[n].open + 1, p, &a, &b, &c, &w, &num);
            if ((st[n].comma || seq) && (!best || st[n].open < best))
                best = st[n].open, *close = p;
            *zsh |= (st[n].comma || seq) && st[n].open == named;
            p++;
        } else if (*p == '$' && p + 1 < e && p[1] == '{') {
            const char *end = brace_unit_end(p, e, depth), *inner;
            if (end[-1] == '}' && brace_group(p + 2, end - 1, &inner, deep, zsh, depth + 1))
                *zsh = 1;
            p = end;
        } else if (*p == '$' && zsh_param_end(p, e) > p + 1) {
            p = zsh_param_end(p, e);
            named = p;
        } else {
            p = brace_step(p, e, &q, depth);
        }
    }
    return best;
}

/* Appends to out at len (with a blank before it but at 0) the words Bash makes of [s, e) by
 * brace expansion, each unquoted, the empty ones dropped (at depth 0, a word without a group is
 * kept as it is); with out NULL it only measures them (no shorter than they are). Returns the
 * new length, more than BASH_EXPANDED_MAX where they nest too deep or take too long. */
static size_t brace_words(const char *s, const char *e, char *out, size_t len, int depth,
                          size_t *work, int *zsh)
{
    const char *close = NULL;
    int deep = 0;
    const char *open = brace_group(s, e, &close, &deep, zsh, 0);
    *work += open || depth ? (size_t)(e - s) + 1 : 0; /* a word with no group costs nothing */
    if (deep || depth > BRACE_GROUPS_MAX || *work > BRACE_WORK_MAX)
        return BASH_EXPANDED_MAX + 1;
    if (!open) {
        if (depth && s == e)
            return len;
        size_t sep = len ? 1 : 0, n = (size_t)(e - s);
        if (out) {
            memcpy(out + len + sep, s, n);
            out[len] = sep ? ' ' : out[len];
        }
        return len + sep + n;
    }
    size_t pre = (size_t)(open - s), post = (size_t)(e - close - 1), most = (size_t)(close - open);
    char *buf = malloc(pre + most + post + 24);
    if (!buf)
        return BASH_EXPANDED_MAX + 1;
    memcpy(buf, s, pre);
    long long from, to, step, v;
    int width, num;
    if (brace_seq(open + 1, close, &from, &to, &step, &width, &num)) {
        for (v = from; len <= BASH_EXPANDED_MAX && (from <= to ? v <= to : v >= to);
             v += from <= to ? step : -step) {
            int k = num ? snprintf(buf + pre, 24, "%0*lld", width, v) : 1;
            buf[pre] = num ? buf[pre] : (char)v;
            memcpy(buf + pre + k, close + 1, post);
            len = brace_words(buf, buf + pre + (size_t)k + post, out, len, depth + 1, work, zsh);
        }
        free(buf);
        return len;
    }
    for (const char *a = open + 1; len <= BASH_EXPANDED_MAX;) {
        const char *z = a;
        char q = 0;
        for (int level = 0; z < close && (q || *z != ',' || level);) {
            level += !q && *z == '{' ? 1 : !q && *z == '}' ? -1 : 0;
            z = brace_step(z, close, &q, 0);
        }
        memcpy(buf + pre, a, (size_t)(z - a));
        memcpy(buf + pre + (z - a), close + 1, post);
        len = brace_words(buf, buf + pre + (size_t)(z - a) + post, out, len, depth + 1, work, zsh);
        if (z >= close)
            break;
        a = z + 1;
    }
    free(buf);
    return len;
}

/* The word [s, e) into out as it is; a word with a brace group in it becomes the words Bash
 * expands it to, "PREaPOST PREbPOST …" as written (their quotes are read after), without the
 * empty ones, each group in turn, nested ones too, and sequences {X..Y}: {git,push} and git
 * {,push} run git push, git pu{sh,} runs git push pu, and so do ""{git,push} and {git,push}$x
 * (""{rm,x} y ran rm under bash 5.2 and zsh 5.9); and so do git {"push",x}, git ${y}{push,x},
 * git {,x}{push,} and git {p..p}ush (each ran git push under bash 5.2 past Bash(git push*), the
 * scanner expanding no group with a quote or a brace in it, none in a word with ${ or $(, one
 * group a word, and no sequence). Each is a word of its own: env {-i,rm} x is env -i rm x.
 * *zsh: 1 if zsh expands the word otherwise (brace_group). Returns the length; with out NULL it
 * only measures it, more than BASH_EXPANDED_MAX where the braces nest too deep or expand too far
 * (*work: bytes looked at so far). */
static size_t braces_expanded(const char *s, const char *e, char *out, int *zsh, size_t *work)
{
    size_t n = brace_words(s, e, out, 0, 0, work, zsh);
    if (out)
        out[n] = '\0';
    return n;
}

/* A redirection word: [n]> [n]>> [n]< <<< &> &>> >& <& >|, maybe with its target in the same
 * word. *bare: only the operator (the target is the next word). */
static int word_redirect(const char *s, const char *e, int *bare)
{
    const char *p = s;
    while (p < e && *p >= '0' && *p <= '9')
        p++;
    if (p < e && *p == '&' && p == s)
        p++;
    if (p == e || (*p != '<' && *p != '>'))
        return 0;
    while (p < e && (*p == '<' || *p == '>' || *p == '&' || *p == '|'))
        p++;
    *bare = p == e;
    return 1;
}

/* Words that come before a command without being it: reserved words, and programs that run the
 * rest of their line as a command, with the options of theirs that take an argument (env -u
 * NAME, BSD's and macOS's env -P ALTPATH, exec -a NAME, nice -n N, time -o FILE; env -P /bin rm
 * -rf x ran rm on macOS past Bash(rm *), the scanner taking /bin for the program; GNU env
 * refuses -P, and runs nothing); their other options and env's VAR=value words
 * are skipped. And zsh's (zsh -c 'noglob rm -rf x' ran rm): the precommand modifiers noglob,
 * nocorrect and -, and repeat N, which runs the command N times. And programs that run a
 * command given as their words, after a word or none of their own (timeout 5 git push, sudo -u
 * x git push, git branch | xargs git push ran git push past Bash(git push*)): timeout, xargs,
 * sudo, doas, stdbuf, ionice, setsid, chronic, taskset and chrt. Not watch, flock -c, su -c or
 * script -c, which give a shell a text. */
typedef struct {
    const char *word, *arg_options;
    const char *const *long_args; /* its long options that take an argument (NULL-terminated) */
    int positionals;              /* words of its own after its options: timeout's DURATION */
} bash_leader;

static const char *const env_long[] = {"unset", "chdir", "split-string", "argv0", NULL};
static const char *const nice_long[] = {"adjustment", NULL};
/* GNU and BSD time(1), /usr/bin/time -o FILE rm -rf x (bash's keyword takes -p alone, and runs a
 * command named -o: that one runs nothing) */
static const char *const time_long[] = {"output", "format", NULL};
static const char *const timeout_long[] = {"signal", "kill-after", NULL};
static const char *const xargs_long[] = {"arg-file",         "delimiter", "max-args", "max-procs",
                                         "process-slot-var", "max-chars", NULL};
static const char *const sudo_long[] = {"close-from", "chdir",           "group", "host",
                                        "prompt",     "chroot",          "role",  "type",
                                        "other-user", "command-timeout", "user",  NULL};
static const char *const stdbuf_long[] = {"input", "output", "error", NULL};
static const char *const ionice_long[] = {"class", "classdata", "pid", "pgid", "uid", NULL};
static const char *const chrt_long[] = {"sched-runtime", "sched-period", "sched-deadline", NULL};

static const bash_leader bash_leaders[] = {{"!", "", NULL, 0},
                                           {"{", "", NULL, 0},
                                           {"if", "", NULL, 0},
                                           {"then", "", NULL, 0},
                                           {"else", "", NULL, 0},
                                           {"elif", "", NULL, 0},
                                           {"do", "", NULL, 0},
                                           {"while", "", NULL, 0},
                                           {"until", "", NULL, 0},
                                           {"time", "of", time_long, 0},
                                           {"env", "uCSaP", env_long, 0},
                                           {"exec", "a", NULL, 0},
                                           {"command", "", NULL, 0},
                                           {"builtin", "", NULL, 0},
                                           {"nohup", "", NULL, 0},
                                           {"nice", "n", nice_long, 0},
                                           {"coproc", "", NULL, 0},
                                           {"function", "", NULL, 0},
                                           {"noglob", "", NULL, 0},
                                           {"nocorrect", "", NULL, 0},
                                           {"-", "", NULL, 0},
                                           {"repeat", "", NULL, 0},
                                           {"timeout", "sk", timeout_long, 1},
                                           {"xargs", "adEILnPs", xargs_long, 0},
                                           {"sudo", "CDghpRrTtUu", sudo_long, 0},
                                           {"doas", "uC", NULL, 0},
                                           {"stdbuf", "ioe", stdbuf_long, 0},
                                           {"ionice", "cnpPu", ionice_long, 0},
                                           {"setsid", "", NULL, 0},
                                           {"chronic", "", NULL, 0},
                                           {"taskset", "", NULL, 1},
                                           {"chrt", "TPD", chrt_long, 1}};

/* The leader word w is (unquoted, by its last path component: /usr/bin/env, \command), or
 * NULL. */
static const bash_leader *leader_find(const char *w)
{
    const char *slash = strrchr(w, '/');
    const char *base = slash && slash[1] ? slash + 1 : w;
    for (size_t i = 0; i < sizeof bash_leaders / sizeof bash_leaders[0]; i++)
        if (!strcmp(base, bash_leaders[i].word))
            return &bash_leaders[i];
    return NULL;
}

/* A blank inside a $( ), ` `, ${ } or the like outside quotes, in a command as the scanner keeps
 * it (seg_add): no end of a word. A blank again in what the patterns see. A line that holds this
 * byte is denied. */
#define SEG_BLANK '\x1f'

/* The blanks SEG_BLANK stands for in [from, to) of sb made blanks again. */
static void seg_blanks(char *buf, size_t from, size_t to)
{
    for (size_t k = from; buf && k < to; k++)
        if (buf[k] == SEG_BLANK)
            buf[k] = ' ';
}

/* Appends "Bash(COMMAND)" and a NUL to out. */
static void add_command(ab__sb *out, const char *command)
{
    ab__sb_add(out, "Bash(");
    ab__sb_add(out, command);
    ab__sb_add(out, ")\x01");
    if (!out->oom)
        out->buf[out->len - 1] = '\0';
}

/* Bash's special parameters ($@ and $* are empty without arguments, $! without a background
 * job; the others are not empty, but a command named by them is no known one either) */
#define SPECIAL_PARAMS "@*#?-$!0123456789"

/* the characters of a variable's name */
#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"

/* A leader's option word u ("-…"): *skip_next 1 if the next word is its argument, 2 if the next
 * word is the command (env -S); *text the command if the word holds it (env -SCMD,
 * --split-string=CMD). Short options come bundled too (env -iu NAME: NAME is -u's; exec -ca
 * NAME), long ones abbreviated (env --unse NAME, nice --adj 5: getopt takes any prefix that is
 * not ambiguous, and an ambiguous one runs nothing), their argument after = or the next word. */
static void leader_option(const bash_leader *l, const char *u, int *skip_next, const char **text)
{
    int env = !strcmp(l->word, "env");
    if (u[1] == '-') {
        const char *eq = strchr(u, '=');
        size_t n = eq ? (size_t)(eq - u - 2) : strlen(u + 2);
        for (const char *const *o = l->long_args; n && o && *o; o++) {
            if (strncmp(u + 2, *o, n) || n > strlen(*o))
                continue;
            int split = env && !strcmp(*o, "split-string");
            if (eq && split)
                *text = eq + 1;
            else if (!eq)
                *skip_next = split ? 2 : 1;
            return;
        }
        return;
    }
    for (size_t k = 1; u[k]; k++)
        if (strchr(l->arg_options, u[k])) {
            if (env && u[k] == 'S' && u[k + 1])
                *text = u + k + 1;
            else if (!u[k + 1])
                *skip_next = env && u[k] == 'S' ? 2 : 1;
            return;
        }
}

/* Where the unbraced parameter expansion at p ($NAME, $1, $@ …) ends as zsh reads it, with its
 * flags ($~x, $=x, $^x), an index ($x[1], $x[(r)a]) and modifiers ($x:t, $x:s/a/b/) after it,
 * all of which an empty x makes empty: $x[1] rm -rf y, $~x rm -rf y, $x:t rm -rf y and
 * r$x[1]m -rf y ran rm under zsh 5.9, which Claude Code runs the line with on macOS, past
 * Bash(rm *), where bash reads [1], :t or ~ as characters. p itself if none begins there. It
 * ends by end, and an index or s/a/b/ at a [ or $ in it (each looks no further: linear). */
static const char *zsh_param_end(const char *p, const char *end)
{
    if (p >= end || p[0] != '$') /* before the name: program_unexpanded asks at each byte */
        return p;
    const char *q = p + 1;
    while (q < end && (*q == '~' || *q == '=' || *q == '^'))
        q++;
    size_t name = 0;
    while (q + name < end && q[name] && strchr(NAME_CHARS, q[name]))
        name++;
    if (!name && !(q < end && *q && strchr(SPECIAL_PARAMS, *q)))
        return p;
    q += name ? name : 1;
    if (q < end && *q == '[') {
        const char *c = q + 1;
        while (c < end && *c != ']' && *c != '[')
            c++;
        q = c < end && *c == ']' ? c + 1 : q;
    }
    while (q + 1 < end && q[0] == ':' &&
           (strchr("aAcefhlPqQrtuxw&s", q[1]) || (q[1] == 'g' && q + 2 < end && q[2] == 's'))) {
        q += 1 + (q[1] == 'g');
        if (*q != 's' || q + 1 >= end) {
            q++;
            continue;
        }
        char d = q[1]; /* s/a/b/: to the third delimiter, or a $ */
        q += 2;
        for (int k = 0; q < end && *q != '$' && k < 2; q++)
            k += *q == d;
    }
    return q;
}

/* Past what the ${ before p expands: a name or a special parameter ($@, $1, …), and an index
 * after it: ${x[0]:-rm} and ${@:-rm} are rm where x and @ are empty, as ${x:-rm} is. */
static const char *param_name_end(const char *p)
{
    size_t name = strspn(p, NAME_CHARS);
    p += name ? name : *p && strchr(SPECIAL_PARAMS, *p) ? 1 : 0;
    size_t index = *p == '[' ? strcspn(p, "]}") : 0; /* to its ], before the } of ${ */
    return index && p[index] == ']' ? p + index + 1 : p;
}

static void program_unexpanded(char *u);
static int redirect_after(const char *w, const char *e, int *bare);

/* The leader the word u (unquoted) names (leader_find), read as the program is read
 * (emit_clean): without the = of zsh's path of a command, and without what may expand to
 * nothing (program_unexpanded): =env rm -rf x ran rm under zsh 5.9, and ${y}env rm -rf x,
 * "$@"nice rm -rf x and ${y}command rm -rf x under bash 5.2 and zsh, past Bash(rm *), the
 * scanner taking env and the others for the program. */
static const bash_leader *leader_named(const char *u)
{
    const bash_leader *l = leader_find(u);
    char *p = l || !strpbrk(u, "$`=") ? NULL : strdup(u), *q = p;
    while (q && q[0] == '=' && q[1])
        q++;
    if (q) {
        program_unexpanded(q);
        l = leader_find(q);
    }
    free(p);
    return l;
}

/* 1 if the word w (unquoted into u) comes before the command and is skipped. *skip_next: the
 * next word is skipped too (an option's argument, a coprocess's name); 3: the words up to a {
 * (a function's names). *text:
 * the command itself is this text (env -S 'rm -rf x' runs rm). *leader: the last leader, NULL
 * before one; *own: the words of its own still to come (timeout's DURATION). rest: the words
 * after w. */
static int word_skipped(const char *w, const char *e, char *u, const char *rest,
                        const bash_leader **leader, int *own, int *skip_next, const char **text)
{
    int bare = 0;
    *skip_next = 0;
    if (redirect_after(w, e, &bare)) {
        *skip_next = bare; /* the target of "> file" */
        return 1;
    }
    /* a leader's own word, whatever it is: timeout $t git push, with t empty, runs nothing */
    if (*leader && *own && u[0] != '-') {
        (*own)--;
        return 1;
    }
    const char *eq = memchr(w, '=', (size_t)(e - w)), *a = w;
    size_t name = strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
    /* and VAR+=value, VAR[i]=value and VAR[i]+=value: x+=1 rm -rf x and a[0]=1 rm -rf x ran rm
     * under bash 5.2 past Bash(rm *), the scanner taking the assignment for the program (the
     * index to a ] right before the = or +=) */
    a += name;
    for (const char *k = a; name && *a == '[' && eq && k < eq; k++)
        if (*k == ']' && (k + 1 == eq || (k + 2 == eq && k[1] == '+')))
            a = k + 1;
    a += name && *a == '+' && a + 1 == eq;
    if (eq && name && a == eq && !(w[0] >= '0' && w[0] <= '9'))
        return 1;          /* VAR=value */
    const char *close = u; /* the } that closes ${, past those nested in it */
    for (int braces = 0; u[0] == '$' && *++close && (*close != '}' || --braces);)
        braces += *close == '{';
    if (u[0] == '$' && u[1] == '{' && (!*close || !close[1])) {
        /* ${x:-WORD} and the like may be WORD: the command (${x:-r}m: program_unexpanded) */
        const char *p = param_name_end(u + 2);
        p += *p == ':';
        if (*p == '-' || *p == '=' || *p == '+') { /* the word is WORD (without the } of ${) */
            size_t tn = strlen(p + 1);
            memmove(u, p + 1, tn + 1);
            if (tn && u[tn - 1] == '}')
                u[tn - 1] = '\0';
            if (!*u)
                return 1;
            /* WORD's blanks split it (SEG_BLANK): ${x:-command rm -rf x} runs rm; its words are
             * read again, as env -S's are */
            if (strchr(u, SEG_BLANK) && !strpbrk(u, "'\"\\")) {
                seg_blanks(u, 0, strlen(u));
                *text = u;
                return 1;
            }
            w = e; /* no more a $x or ${…} that may be empty: WORD */
        }
    }
    if (w < e && w[0] == '$' &&
        (w[1] == '{' ? e[-1] == '}' && !memchr(w + 2, '}', (size_t)(e - w - 3))
         : e - w == 2 && strchr(SPECIAL_PARAMS, w[1])
             ? 1
             : strspn(w + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
                             "opqrstuvwxyz0123456789_") == (size_t)(e - w - 1)))
        return 1; /* $x, $@ or ${…} alone, which may be empty: "${x/a/b} rm -rf x" runs rm */
    if (w < e && zsh_param_end(w, e) == e)
        return 1; /* and zsh's $x[1], $~x, $x:t alone */
    /* and {NAME}>file: {fd}>/dev/null rm -rf x ran rm under bash 5.2 past Bash(rm *), the
     * scanner taking {fd}>/dev/null for the program (above: first of all) */
    /* env takes each word with an = before its command for an assignment, whatever comes before
     * the =: env 'a b=1' rm -rf x, env x.y=1 rm -rf x and env 1x=2 rm -rf x ran rm past Bash(rm
     * *), the scanner taking the assignment for the program */
    if (*leader && !strcmp((*leader)->word, "env") && u[0] != '-' && strchr(u, '='))
        return 1;
    if (*leader && u[0] == '-') { /* a leader's option; "-u NAME": NAME too */
        leader_option(*leader, u, skip_next, text);
        return 1;
    }
    const bash_leader *found = leader_named(u);
    if (!found)
        return 0;
    *leader = found;
    *own = found->positionals;
    if (!strcmp(found->word, "function")) {
        *skip_next = 3; /* function NAME { …; }, and zsh's function NAME NAME … { …; } */
    } else if (!strcmp(found->word, "repeat")) {
        *skip_next = 1;                                   /* repeat N rm -rf x */
    } else if (!strcmp(found->word, "coproc") && *rest) { /* coproc NAME { …; }: a name before { */
        /* or before a compound command's reserved word: coproc x if rm -rf x; then :; fi and
         * coproc x while rm -rf x; do break; done ran rm under bash 5.2 past Bash(rm *), the
         * scanner taking x for the program */
        static const char *const compound[] = {"{",    "if",     "while", "until", "for",
                                               "case", "select", "[[",    "(("};
        const char *after = word_end(rest), *next = *after ? after + 1 : after;
        size_t n = (size_t)(word_end(next) - next);
        for (size_t k = 0; k < sizeof compound / sizeof compound[0]; k++)
            *skip_next |= (n == strlen(compound[k]) || (k == 8 && n >= 2)) &&
                          !memcmp(next, compound[k], strlen(compound[k]));
    }
    return 1;
}

/* Appends two forms of one simple command, "Bash(SEG)" each: as written (a group's { and } around
 * it dropped; seg has single blanks outside quotes), for allow lists; and cleaned up further,
 * for deny lists, which then match more: no leading VAR=value assignments, redirections,
 * reserved words (then, do, !, {, …) or env/command/exec/time/nohup/nice/builtin/coproc,
 * timeout, xargs, sudo and the other leaders (bash_leaders) with their options, quotes and escapes
 * removed ('git' push: git push), the program by its last path component (/usr/bin/git: git). An
 * allow list must not see the cleaned-up form: "Bash(git *)" would let in /tmp/evil/git and
 * GIT_PAGER='rm -rf ~' git log. */
#define ENV_SPLIT_DEPTH_MAX 4 /* env -S in env -S …, followed so deep; deeper: denied */

/* The text of env -S (split-string) s as words for the scanner, into out (at least 2 * strlen(s)
 * + 1 bytes): split at blanks and \_ as env splits it, its quotes and escapes taken out (\c
 * ends it, a # that begins a word comments out the rest), each character but a plain one escaped
 * with a backslash, ${NAME} kept (the scanner reads it as what may be empty). env -S 'A=1 rm',
 * -S "'rm' -rf x", -S 'rm\_-rf\_x' and -S '-C / rm' run rm. Returns its length. */
static size_t env_split(const char *s, char *out)
{
    size_t n = 0;
    int open = 0;
    char q = 0;
    for (; *s; s++) {
        char c = *s;
        if (!q && strchr(" \t\n\v\f\r\x1f", c)) {
            if (open)
                out[n++] = ' ';
            open = 0;
            continue;
        }
        if (!q && c == '#' && !open)
            break;
        open = 1;
        if (!q && (c == '\'' || c == '"')) {
            q = c;
            continue;
        }
        if (q && c == q) {
            q = 0;
            continue;
        }
        if (c == '$' && s[1] == '{' && q != '\'' && strchr(s, '}')) {
            size_t k = (size_t)(strchr(s, '}') - s) + 1;
            memcpy(out + n, s, k);
            n += k;
            s += k - 1;
            continue;
        }
        if (c == '\\' && s[1] && (q != '\'' || s[1] == '\\' || s[1] == '\'')) {
            c = *++s;
            if (c == 'c' && !q)
                break;
            if (c == '_' && !q) {
                out[n++] = ' ';
                open = 0;
                continue;
            }
            c = c == '_'   ? ' '
                : c == 'n' ? '\n'
                : c == 't' ? '\t'
                : c == 'r' ? '\r'
                : c == 'f' ? '\f'
                : c == 'v' ? '\v'
                           : c;
        }
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789=/-._,:@%+", c))
            out[n++] = '\\';
        out[n++] = c;
    }
    out[n] = '\0';
    return n;
}

/* Programs whose words Bash reads again: as a command line (eval's words, trap's action,
 * compgen's and complete's -C and -F, and a shell's -c command string: sh -c 'rm -rf x'), or as
 * words it expands (compgen -W, whose $( ) run);
 * and builtins that change what a name runs, which no pattern can follow: hash -p makes a name
 * run another program (hash -p /bin/rm git; git status ran rm), alias NAME=VALUE makes it text
 * of the lines after it (where expand_aliases is on); and fc, which runs a command from history
 * again, edited (history -s 'git status'; fc -s git=rm ran rm), unless it only lists them, and
 * enable -f, which loads a builtin from a file, running its code; and set -k (set -o keyword,
 * shopt -so keyword), after which a NAME=VALUE word anywhere in a command is for its
 * environment, not an argument (set -k; git x=1 push ran git push, git log PATH=… another
 * git), and set -H, after which a line's !… is a line of history, edited (history expansion).
 * A shell that reads its commands from its standard input (bash <<<'rm -rf x') no allow list
 * can follow, and . or source of a file that is a file descriptor (. /dev/stdin) no pattern.
 * emit_clean notes where such a text lies in the cleaned-up command, and the scanner reads it
 * as a line of its own (reread_text): a deny pattern sees eval 'rm -rf x' and trap 'rm -rf x'
 * EXIT run rm, and an allow list must cover what they run too. */
enum {
    REREAD_NONE,
    REREAD_EVAL,
    REREAD_TRAP,
    REREAD_COMPGEN,
    REREAD_MAPFILE,
    REREAD_SHELL,
    REREAD_EMULATE,
    REREAD_ZPTY,
    REREAD_ZSTYLE,
    REREAD_HASH,
    REREAD_ALIAS,
    REREAD_FC,
    REREAD_ENABLE,
    REREAD_SET,
    REREAD_SHOPT,
    REREAD_SETOPT,
    REREAD_SOURCE,
    REREAD_FIND,
    REREAD_PRINT
};

#define REREAD_SPANS_MAX 4         /* texts read again in one command, at most; more: denied */
#define REREAD_DEPTH_MAX 4         /* eval in eval …, followed so deep; deeper: denied */
#define REREAD_BYTES_MAX (1 << 20) /* read again in all, at most (eval nested in $( ) in …) */

typedef struct {
    int kind;
    int options; /* options may come next */
    int next;    /* the next word: 1 an option's argument, 2 + a scan mode the text to read (a
                  * shell's: how many words are options' arguments) */
    int shell_c; /* a shell's -c: its first word that is no option is the command string */
    int shell_s; /* a shell's -s: it reads its commands from its standard input */
    int input;   /* a shell reads its commands from its standard input */
    int script;  /* a shell's word that may be a script's name was seen (shell_word) */
    int ksh;     /* the shell is ksh93 (ksh, ksh93), which may run a script's name as commands */
    /* sh's -O was the last option (o_arg), and the script's name the word after it (o_script):
     * bash run as sh takes that word for -O's, zsh does not */
    int o_arg, o_script;
    int posix; /* the shell is no bash (sh, dash, zsh, ksh): it reads some of bash's otherwise */
    int zsh;   /* zsh may read the text (bash_ctx's zsh): no bash's -c, or zsh's eval's */
    int loose; /* a word that may expand to an option was seen: every word is text now */
    int made;  /* a text is made by an expansion (word_expands): no allow list reads it */
    const char *opaque; /* what no pattern can follow: hash -p, alias NAME=VALUE, set -k, … */
    const char *opaque_allow; /* what no allow list can follow: set -o posix */
    int fc_lists, fc_runs;    /* fc -l, fc -s or -e (or a word that may expand to them) */
    int too_many;
    /* after eval's first word, one that Bash does not pass to it as written: a redirection, a
     * word of a <( ) or $( ) a blank splits, or a word with <( or >( (Bash passes a path);
     * eval's text, as the scanner joins it, holds it if another word of eval's follows */
    int gap;
    size_t n;
    struct {
        size_t from, to;
        int mode;
    } span[REREAD_SPANS_MAX];
    /* find's -exec, -execdir, -ok, -okdir: in one (find_exec), its words so far, whether the
     * last was {}, and the commands, each word as written, a line each (find_word) */
    int find_exec, find_braces;
    size_t find_words;
    ab__sb find_text;
} reread;

#define BASH_DEPTH_MAX 16 /* substitutions nested deeper: the line is denied */
#define HEREDOCS_MAX 8    /* here-documents waiting for their bodies, at most; more: denied */

typedef struct {
    char delim[256];
    int quoted, strip_tabs;
    int depth; /* the depth of $( ) it was begun at */
} heredoc;

typedef struct bash_ctx {
    ab__sb *out;
    size_t *count;
    int denied; /* too deep, too many here-documents, an odd word: no answer but no */
    /* here-documents begun and waiting for the next newline, at whatever depth of $( ) or ` `
     * they were begun (Bash reads their bodies after the line's newline) */
    heredoc hd[HEREDOCS_MAX];
    int nh;
    int extglob; /* an extended glob pattern, @(…): no allow list follows one */
    /* what no pattern, or no allow list, can follow in a text Bash reads again (bash_opaque,
     * bash_opaque_allow; the line's own are found on the line) */
    const char *opaque, *opaque_allow;
    int reread; /* how many texts read again deep this one is (reread_text) */
    int posix;  /* a text a shell other than bash reads: sh -c's, and eval's or trap's in it */
    /* a text zsh may read: the line itself (Claude Code runs the Bash tool's command with the
     * user's shell, zsh on macOS), sh -c's and zsh -c's (sh may be zsh too, or dash: both
     * readings are refused where they differ from bash's), and eval's or trap's in them; not
     * bash -c's */
    int zsh;
    size_t *reread_bytes_left; /* shared by the line's texts */
    size_t *brace_work;        /* what brace expansion looked at, shared too (BRACE_WORK_MAX) */
} bash_ctx;

/* What bash_scan looks for: simple commands (split, emitted), or only the expansions that run
 * commands, with quotes as plain characters (a here-document's body; arithmetic). */
enum { SCAN_COMMANDS, SCAN_EXPANSIONS };

/* One step of a walk through the quotes of a word that ends before e: 1 if *p is a character
 * to look at, *q saying where it stands (0 unquoted, '"' in double quotes, '\'' in single ones,
 * 'a' in $'…'); 0 if it was an escape (*p is moved onto the character it escapes) or a quote
 * opened or closed. */
static int quote_step(const char **p, const char *e, char *q)
{
    const char *c = *p;
    if ((*q == 0 || *q == '"' || *q == 'a') && *c == '\\' && c + 1 < e)
        *p = c + 1;
    else if (!*q && *c == '$' && c + 1 < e && c[1] == '\'')
        *q = 'a', *p = c + 1;
    else if (!*q && (*c == '\'' || *c == '"'))
        *q = *c;
    else if (*q && (*q == 'a' ? *c == '\'' : *c == *q))
        *q = 0;
    else
        return 1;
    return 0;
}

/* 1 if the word [w, e) holds, outside quotes, a glob character or a brace (* ? [ {): Bash may
 * make it other words than it reads as, file names or a brace expansion's words, -v or a name
 * with an index among them (a file named -v and one named x[$(rm -rf x)]: test * ran rm; and
 * printf {-v,} 'a[$(rm -rf x)]' x did, with no file). */
static int word_globs(const char *w, const char *e)
{
    char q = 0;
    for (; w < e; w++)
        if (quote_step(&w, e, &q) && !q && strchr("*?[{", *w))
            return 1;
    return 0;
}

/* 1 if Bash expands the word [w, e) into what it does not read as: a $ or ` outside single
 * quotes (and $'…'), a ~ that begins it or follows = or : unquoted (~+ is $PWD, ~- $OLDPWD, ~
 * $HOME: cd into a directory named ';rm -rf x;' and eval git log ~+ ran rm), or a glob or
 * brace (word_globs). What eval, trap or compgen then read again is what the expansion gives,
 * which no pattern can read (x=';rm -rf y'; eval git log $x runs rm); $x in single quotes is for
 * them to expand, after they read the text. */
static int word_expands(const char *w, const char *e)
{
    char q = 0;
    for (const char *p = w; p < e; p++) {
        if (!quote_step(&p, e, &q))
            continue;
        if ((q == 0 || q == '"') && (*p == '$' || *p == '`'))
            return 1;
        if (!q && *p == '~' && (p == w || p[-1] == '=' || p[-1] == ':'))
            return 1;
    }
    return word_globs(w, e);
}

static int reread_kind(const char *base)
{
    static const struct {
        const char *name;
        int kind;
    } kinds[] = {
        {"eval", REREAD_EVAL},        {"trap", REREAD_TRAP},       {"compgen", REREAD_COMPGEN},
        {"complete", REREAD_COMPGEN}, {"mapfile", REREAD_MAPFILE}, {"readarray", REREAD_MAPFILE},
        {"sh", REREAD_SHELL},         {"bash", REREAD_SHELL},      {"dash", REREAD_SHELL},
        {"zsh", REREAD_SHELL},        {"ksh", REREAD_SHELL},       {"rbash", REREAD_SHELL},
        {"ksh93", REREAD_SHELL},      {"mksh", REREAD_SHELL},      {"lksh", REREAD_SHELL},
        {"ash", REREAD_SHELL},        {"yash", REREAD_SHELL},      {"posh", REREAD_SHELL},
        {"hash", REREAD_HASH},        {"alias", REREAD_ALIAS},     {"fc", REREAD_FC},
        {"enable", REREAD_ENABLE},    {"set", REREAD_SET},         {"shopt", REREAD_SHOPT},
        {"emulate", REREAD_EMULATE},  {"setopt", REREAD_SETOPT},   {"unsetopt", REREAD_SETOPT},
        {"zpty", REREAD_ZPTY},        {"zstyle", REREAD_ZSTYLE},   {"source", REREAD_SOURCE},
        {".", REREAD_SOURCE},         {"find", REREAD_FIND},       {"print", REREAD_PRINT}};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        if (!strcmp(base, kinds[k].name))
            return kinds[k].kind;
    return REREAD_NONE;
}

/* Notes the text [from, to) in r; made: an expansion makes it (word_expands). */
static void reread_span(reread *r, size_t from, size_t to, int mode, int made)
{
    r->made |= made;
    if (r->n == REREAD_SPANS_MAX) {
        r->too_many = 1;
        return;
    }
    r->span[r->n].from = from, r->span[r->n].to = to, r->span[r->n].mode = mode;
    r->n++;
}

#define SET_K_OPAQUE "set -k, which takes NAME=VALUE words anywhere for the environment,"
#define SET_H_OPAQUE "history expansion, set -H, which runs what a line of history holds,"
#define SET_GLOB_SUBST_OPAQUE "zsh's glob_subst, which globs what an expansion gives,"
#define SET_PROMPT_SUBST_OPAQUE                                                                    \
    "zsh's prompt_subst, which runs the substitutions a prompt holds (print -P, PS3, PROMPT4),"
#define SET_POSIX_OPAQUE "bash's POSIX mode, set -o posix, which reads a line as sh does,"

/* What a word u of set's, shopt -o's or a shell's options turns on that no pattern can follow,
 * or NULL: -k (-o keyword), and -H (-o histexpand: with set -o history, a line's !!:2:gs/"//
 * is the word 2 of the line before, unquoted, and set -o history -H, git log "x;rm -rf y",
 * git log !!:2:gs/"// ran rm under bash 5.2.15 with Bash(set *) and Bash(git *)). */
static const char *set_opaque(const char *u)
{
    /* bash's POSIX mode (set -o posix, shopt -so posix, bash --posix, bash -o posix) reads a ' in
     * "${…}" as a character, as dash does, and ends the ${ at the next }: set -o posix, then
     * git log "${x-'}"; rm -rf x; "'}" ran rm, the scanner (bash's reading) saw one git log,
     * and a deny list of Bash(rm *) let it through */
    if (!strcmp(u, "posix") || !strcmp(u, "--posix"))
        return SET_POSIX_OPAQUE;
    if (!strcmp(u, "keyword") || (u[0] == '-' && u[1] != '-' && strchr(u, 'k')))
        return SET_K_OPAQUE;
    if (!strcmp(u, "histexpand") || (u[0] == '-' && u[1] != '-' && strchr(u, 'H')))
        return SET_H_OPAQUE;
    /* zsh's glob_subst globs what an expansion gives, and a glob's qualifier (e:…:) runs code:
     * zsh -o globsubst -c 'for x in "*(e:rm -rf x:)"; do echo $x; done' ran rm; zsh reads the
     * name in any case, without _ (and -, after --), and no… as +o (+o noglobsubst sets it) */
    char name[sizeof "nopromptsubst"];
    size_t n = 0;
    for (const char *c = u + 2 * (u[0] == '-' && u[1] == '-'); *c && n < sizeof name - 1; c++)
        if (*c != '_' && *c != '-')
            name[n++] = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
    name[n] = '\0';
    if (!strcmp(name, "globsubst") || !strcmp(name, "noglobsubst"))
        return SET_GLOB_SUBST_OPAQUE;
    /* and zsh's prompt_subst, after which a prompt's $( ) runs as it is expanded: print -P's
     * words (print decodes \x24 to $ first), select's PS3 and PROMPT3, set -x's PROMPT4:
     * setopt promptsubst; print -P '\x24(rm -rf x)' and setopt promptsubst xtrace;
     * PROMPT4='$(rm -rf x)'; true ran rm under zsh 5.9 past Bash(rm *) */
    if (!strcmp(name, "promptsubst") || !strcmp(name, "nopromptsubst"))
        return SET_PROMPT_SUBST_OPAQUE;
    return NULL;
}

/* Notes in r what set_opaque found: what no pattern can follow. */
static void note_opaque(reread *r, const char *opaque)
{
    if (opaque)
        r->opaque = opaque;
}

/* A word u of set's (reread_word): -k, -o keyword, -H, -o histexpand (set_opaque), or one that
 * may expand to them, while options may come (not after --, -, or a word that is none). */
static void set_word(reread *r, const char *u, int expands)
{
    int name = r->next; /* the NAME of -o NAME */
    r->next = 0;
    if (!r->options)
        return;
    const char *opaque = expands ? SET_K_OPAQUE : set_opaque(u);
    note_opaque(r, opaque);
    if (opaque || name)
        return;
    if ((u[0] != '-' && u[0] != '+') || !strcmp(u, "--") || !strcmp(u, "-"))
        r->options = 0;
    else
        r->next = u[strlen(u) - 1] == 'o';
}

/* A word u of zsh's emulate, at [from, to) (reread_word): -c TEXT runs TEXT (emulate zsh -c
 * 'rm -rf x' ran rm under zsh 5.9, which Claude Code runs the line with on macOS, past
 * Bash(rm *)), -o NAME and +o NAME set an option (set_opaque: glob_subst), and a mode other
 * than zsh (sh, ksh, csh) sets glob_subst. A word that may expand may be any of them. */
static void emulate_word(reread *r, const char *u, size_t from, size_t to, int expands)
{
    int next = r->next;
    r->next = 0;
    if (next == 2) {
        reread_span(r, from, to, SCAN_COMMANDS, expands);
        return;
    }
    if (expands) {
        note_opaque(r, SET_GLOB_SUBST_OPAQUE);
        return;
    }
    if (next == 1) {
        note_opaque(r, set_opaque(u));
        return;
    }
    size_t n = strlen(u);
    if ((u[0] == '-' || u[0] == '+') && n > 1)
        r->next = u[n - 1] == 'c' ? 2 : u[n - 1] == 'o';
    else if (strcmp(u, "zsh"))
        note_opaque(r, SET_GLOB_SUBST_OPAQUE);
}

/* A word u of zsh's zpty or zstyle (reread_word), before the words it joins and runs as eval
 * does: zpty [-e] [-b] NAME CMD…, and zstyle -e PATTERN STYLE CODE…, whose CODE a lookup of
 * the style runs (zpty w 'rm -rf x' and zstyle -e ':x' y 'rm -rf x'; zstyle -s ':x' y v ran rm
 * under zsh 5.9, which Claude Code runs the line with on macOS, past Bash(rm *)). Their other
 * forms (zpty -w, -r, -d, -t, -L; zstyle without -e) run nothing they are given. */
static void zsh_eval_word(reread *r, const char *u)
{
    if (r->kind == REREAD_ZPTY && r->options && u[0] == '-' && u[1]) {
        if (strpbrk(u + 1, "dwrtLn"))
            r->kind = REREAD_NONE;
    } else if (r->kind == REREAD_ZPTY) {
        r->kind = REREAD_EVAL, r->options = 0; /* NAME: its command follows */
    } else if (r->options) {
        r->options = 0;
        r->next = !strcmp(u, "-e") ? 2 : 0;
        r->kind = r->next ? r->kind : REREAD_NONE;
    } else if (--r->next == 0) {
        r->kind = REREAD_EVAL; /* STYLE: its code follows */
    }
}

/* 1 if the last component of the word [w, e), as written, is a glob that may make stdin,
 * stdout, stderr or a number: a *, ? or […] outside quotes, and no character outside them but
 * those of these names (source /dev/stdi? <<<'rm -rf x', source /dev/fd/[0] <<<'rm -rf x' and
 * exec 3<<<'rm -rf x'; bash -- /dev/fd/[3] ran rm under bash 5.2 past Bash(rm *)). A […] that
 * holds a quote, an escape or a $ may be anything. */
static int fd_glob(const char *w, const char *e)
{
    int glob = 0, other = 0, unclosed = 0;
    char q = 0;
    for (const char *p = w; p < e; p++) {
        const char *c = p;
        if (!quote_step(&p, e, &q) && p == c)
            continue; /* a quote opened or closed; an escape leaves p on what it escapes */
        if (p == c && !q && (*p == '*' || *p == '?')) {
            glob = 1;
            continue;
        }
        if (p == c && !q && *p == '[' && !unclosed) {
            const char *k = p + 1;
            k += k < e && (*k == '!' || *k == '^');
            k += k < e && *k == ']';
            while (k < e && *k != ']' && !strchr("'\"\\$`", *k))
                k++;
            if (k < e && *k != ']')
                return 1;
            if (k < e) {
                glob = 1, p = k;
                continue;
            }
            unclosed = 1; /* no ] after this [, nor after those to come: linear */
        }
        if (*p == '/')
            glob = other = 0;
        else if (!strchr("0123456789stdinoure", *p))
            other = 1;
    }
    return glob && !other;
}

/* 1 if the file named u (w to e as written) is a file descriptor, whose text the line itself
 * may give: /dev/stdin, stdout or stderr, relative too (cd /dev && . ./stdin), or a name that is
 * a number, wherever it is, …/fd/N (/dev/fd//0, fd/./0) or relative to a directory that may be
 * /dev/fd (cd /dev/fd && . 0 <<<'rm -rf x', . ./3 3<<<'rm -rf x', . /proc/self/cwd/0 and exec
 * 3<<<'rm -rf x'; cd /dev/fd && bash 3 ran rm under bash 5.2 past Bash(rm *)), or one a glob
 * may make so (fd_glob); or a process substitution, <(…) or zsh's =(…), which Bash passes as
 * such a file (as the scanner has the word: to its first blank). */
static int fd_path(const char *w, const char *e, const char *u)
{
    if ((u[0] == '<' || u[0] == '=') && u[1] == '(')
        return 1;
    const char *slash = strrchr(u, '/'), *base = slash ? slash + 1 : u;
    size_t digits = strspn(base, "0123456789");
    return !strcmp(base, "stdin") || !strcmp(base, "stdout") || !strcmp(base, "stderr") ||
           (digits && !base[digits]) || fd_glob(w, e);
}

/* A word u of a shell's (sh, bash, …), at [from, to) (reread_word): its options, bundled
 * (-ec, -co errexit), -o and (bash's) -O taking a word each and --rcfile and --init-file one, - or
 * -- ending them (bash -c - 'rm -rf x' runs rm); after them, with -c, the command string (bash -c
 * 'rm -rf x' runs rm); without, a script's name; with -s or none at all (emit_clean) the
 * shell reads its commands from its standard input (bash <<<'rm -rf x' and echo 'rm -rf x' |
 * bash -s run rm; dash -c -s, after its command string). -k, -H and their names (set_opaque) are no
 * pattern's to follow either (bash -kc 'git log PATH=/tmp/evil' ran /tmp/evil/git). --version and
 * --help run nothing. */
static void shell_word(reread *r, const char *w, const char *e, const char *u, size_t from,
                       size_t to, int expands)
{
    if (r->script) { /* after a script's name, or an option's argument unknown here: a -c */
        if (r->shell_c) {
            reread_span(r, from, to, SCAN_COMMANDS, expands);
            r->kind = REREAD_NONE;
        }
        r->shell_c = (u[0] == '-' || u[0] == '+') && u[1] != '-' && strchr(u, 'c');
        r->o_script = 0;
        return;
    }
    /* an option's argument; but a word that looks like options is read as them: ksh and mksh
     * take -o without a name there, and mksh -o -c 'rm -rf x' ran rm */
    if (r->next && (u[0] == '-' || u[0] == '+') && u[1] && u[1] != '-')
        r->next = 0;
    if (r->next) {
        r->next--;
        note_opaque(r, set_opaque(u));
        return;
    }
    if (r->options && !strcmp(u, "-")) {
        r->options = 0;
        return;
    }
    /* + ends them for ksh and zsh, and for bash and dash is an empty group of options: ksh +
     * 'rm -rf x' and bash + -c 'rm -rf x' ran rm; either way the word after it is read */
    if (r->options && !strcmp(u, "+"))
        return;
    if (r->options && (u[0] == '-' || u[0] == '+') && u[1]) {
        if (!strcmp(u, "--"))
            r->options = 0;
        else if (!strcmp(u, "--version") || !strcmp(u, "--help"))
            r->kind = REREAD_NONE;
        else if (u[1] == '-')
            r->next = !strcmp(u, "--rcfile") || !strcmp(u, "--init-file");
        note_opaque(r, set_opaque(u));
        /* -i: an interactive shell has history expansion on (-H), and bash -i -c 'set -o
         * history<newline>git log "x;rm -rf y"<newline>git log !!:2:gs/"//' ran rm */
        if (u[0] == '-' && u[1] != '-' && strchr(u, 'i'))
            r->opaque = SET_H_OPAQUE;
        for (size_t k = 1; u[1] != '-' && u[k]; k++) {
            /* bash's -O takes a shopt name; zsh's is a flag: zsh -O -c 'rm -rf x' ran rm; and
             * ksh93's -o takes the next word only where it ends the bundle (ksh -oc 'rm -rf x'
             * ran rm, which the scanner took for -o's name; bash -oc errexit 'git log') */
            r->next += (u[k] == 'o' || (u[k] == 'O' && !r->posix)) && !(r->ksh && u[k + 1]);
            r->shell_c |= u[k] == 'c'; /* +c too: bash +c 'rm -rf x' ran rm, and sh, ksh, zsh */
            r->shell_s |= u[k] == 's';
        }
        r->o_arg = r->posix && u[1] != '-' && strchr(u, 'O');
        return;
    }
    /* ksh93 runs a script's name it cannot open as a command string: ksh 'rm -rf x' ran rm;
     * one that is a plain path (ksh x.sh) runs at most a program so named */
    if (r->shell_c || (r->ksh && u[strspn(u, NAME_CHARS "./+,:@%-=")]))
        reread_span(r, from, to, SCAN_COMMANDS, expands);
    /* a script's name, or the argument of an option the scanner does not know: zsh --emulate
     * sh -c 'rm -rf x' ran rm, the scanner took sh for the script and read no command string.
     * A script that is a file descriptor is read as . reads one (bash /dev/stdin <<<'rm -rf
     * x', exec 3<<<'rm -rf x'; bash /dev/fd/3 and bash <(echo 'rm -rf x') ran rm) */
    if (!r->shell_c && fd_path(w, e, u)) /* also after -- (bash -- /dev/stdin) */
        r->opaque = "commands a shell reads from a file descriptor, bash /dev/stdin,";
    if (!r->shell_c && r->options)
        r->script = 1, r->o_script = r->o_arg;
    else
        r->kind = REREAD_NONE;
}

/* A word of find's, w to e as written, u unquoted: -exec, -execdir, -ok and -okdir run the words
 * after them to a ; (or a + after {}) as a command, each word as Bash made it, so their text as
 * written is read again, a command a line (find . -exec rm -rf {} + and find . -exec sh -c 'rm
 * -rf "$1"' _ {} \; ran rm past Bash(rm *)). */
static void find_word(reread *r, const char *w, const char *e, const char *u)
{
    if (!r->find_exec) {
        r->find_exec = !strcmp(u, "-exec") || !strcmp(u, "-execdir") || !strcmp(u, "-ok") ||
                       !strcmp(u, "-okdir");
        r->find_words = 0, r->find_braces = 0;
        return;
    }
    /* a + ends it after a {} that is its command too: find . -exec '{}' + -exec rm -rf x \;
     * ran rm under bash 5.2 past Bash(rm *), the scanner reading one command, '{}' */
    if (!strcmp(u, ";") || (!strcmp(u, "+") && r->find_braces)) {
        ab__sb_add(&r->find_text, "\n");
        r->find_exec = 0;
        return;
    }
    size_t at = r->find_text.len;
    ab__sb_addf(&r->find_text, "%s%.*s", r->find_words++ ? " " : "", (int)(e - w), w);
    if (!r->find_text.oom)
        seg_blanks(r->find_text.buf, at, r->find_text.len);
    r->find_braces = !strcmp(u, "{}");
}

/* One word after the program of r->kind: w to e as written, u unquoted, at [from, to) of the
 * cleaned-up command. Notes in r the texts Bash reads again: eval's words (one text, as eval
 * joins them), trap's action (its first word after options, but a number or -: they reset),
 * the argument of compgen's or complete's -W, -C or -F (-W's is expanded, not run; bundled,
 * -aW LIST, or attached, -WLIST; -o takes the next word). A word that may expand to an
 * option ($x, a glob) makes every word after it a text; hash's may be -p, alias's NAME=VALUE,
 * fc's -s or -e, enable's -f, set's or shopt's -k or keyword (but set's after its options). */
static void reread_word(reread *r, const char *w, const char *e, const char *u, size_t from,
                        size_t to)
{
    int expands = word_expands(w, e);
    int option = r->options && u[0] == '-' && u[1];
    /* and zsh's hash NAME=PATH: hash git=/bin/rm; git status ran rm under zsh 5.9, which Claude
     * Code runs the line with on macOS */
    if (r->kind == REREAD_HASH &&
        (expands || (option && strchr(u, 'p')) || (r->zsh && strchr(u, '='))))
        r->opaque = "the shell's table of commands, hash -p or zsh's hash NAME=PATH,";
    if (r->kind == REREAD_ALIAS && (expands || strchr(u, '=')))
        r->opaque = "bash's table of aliases, alias NAME=…,";
    if (r->kind == REREAD_ENABLE && (expands || (option && strchr(u, 'f'))))
        r->opaque = "a builtin loaded from a file, enable -f,";
    if (r->kind == REREAD_FC && (expands || (option && strpbrk(u + 1, "es"))))
        r->fc_runs = 1;
    if (r->kind == REREAD_FC && option && strchr(u + 1, 'l'))
        r->fc_lists = 1;
    if (r->kind == REREAD_SET)
        set_word(r, u, expands);
    if (r->kind == REREAD_SHOPT)
        note_opaque(r, expands ? SET_K_OPAQUE : set_opaque(u));
    /* zsh's setopt and unsetopt take option names (unsetopt noglobsubst sets glob_subst:
     * setopt globsubst; for x in "*(e:rm -rf x:)"; do echo $x; done ran rm under zsh 5.9), and
     * -m a pattern of them */
    if (r->kind == REREAD_SETOPT)
        note_opaque(r, expands || strpbrk(u, "*?[") ? SET_GLOB_SUBST_OPAQUE : set_opaque(u));
    if (r->kind == REREAD_EMULATE) {
        emulate_word(r, u, from, to, expands);
        return;
    }
    if (r->kind == REREAD_ZPTY || r->kind == REREAD_ZSTYLE) {
        zsh_eval_word(r, u);
        return;
    }
    /* . and source of a file descriptor read the commands it gives, as bash -s does its standard
     * input: source /dev/stdin <<<'rm -rf x', . /dev/fd/3 3<<<'rm -rf x', echo 'rm -rf x' | .
     * /dev/fd/0 and source <(echo 'rm -rf x') ran rm under bash 5.2 and zsh 5.9 past Bash(rm *)
     * (its file: the first word but --) */
    if (r->kind == REREAD_SOURCE && strcmp(u, "--")) {
        if (fd_path(w, e, u))
            r->opaque = "commands . or source reads from a file descriptor, . /dev/stdin,";
        r->kind = REREAD_NONE;
        return;
    }
    if (r->kind == REREAD_FIND) {
        find_word(r, w, e, u);
        return;
    }
    /* zsh's print -P expands its words as prompts, and their $( ) run where prompt_subst is on,
     * as it is in sh and ksh emulation, zsh run as sh: (exec -a sh zsh -c 'print -P
     * "\\x24(rm -rf x)"') ran rm under bash 5.2 and zsh 5.9 past Bash(rm *), and so would sh -c
     * where sh is zsh (print decodes \x24 to $ first); its options up to a word that is none,
     * -f, -u, -C, -x, -X and -v taking the next word */
    if (r->kind == REREAD_PRINT) {
        if (r->next || !r->options) {
            r->next = 0;
            return;
        }
        if (expands || (option && strcmp(u, "--") && strchr(u + 1, 'P')))
            r->opaque = "zsh's print -P, which expands its words as prompts (with prompt_subst, "
                        "their $( ) run),";
        else if (!option || !strcmp(u, "--"))
            r->options = 0;
        else
            r->next = !!strchr("fuCxXv", u[strlen(u) - 1]);
        return;
    }
    if (r->kind >= REREAD_HASH)
        return;
    if (r->kind == REREAD_EVAL || r->loose) {
        if (r->kind == REREAD_EVAL && r->options && !strcmp(u, "--")) {
            r->options = 0;
            return;
        }
        r->options = 0;
        /* eval joins its words: one line; a redirection between them is none of them, but
         * would be read in it, unquoted: eval 'git log' 2>"'" '; rm -rf x' 2>"'" ran rm, the
         * scanner read git log 2>' ; rm -rf x 2>' (denied); and so did eval 'git log'
         * <(git log "'") '; rm -rf x' <(git log "'"), Bash passing /dev/fd/63 where the
         * scanner read <(git log ') ; rm -rf x <(git log ') (r->gap) */
        if (r->kind == REREAD_EVAL && r->n)
            r->span[0].to = to, r->made |= expands, r->too_many |= r->gap;
        else
            reread_span(r, from, to, SCAN_COMMANDS, expands);
        for (const char *p = w; r->kind == REREAD_EVAL && p + 1 < e; p++)
            r->gap |= (p[0] == '<' || p[0] == '>') && p[1] == '(';
        return;
    }
    if (r->kind == REREAD_SHELL && !(expands && r->options && !r->next)) {
        shell_word(r, w, e, u, from, to, expands);
        return;
    }
    if (r->next) {
        if (r->next >= 2)
            reread_span(r, from, to, r->next - 2, expands);
        r->next = 0;
        return;
    }
    if (expands && r->options) {
        r->loose = 1;
        reread_span(r, from, to, SCAN_COMMANDS, expands);
        return;
    }
    if (option && !strcmp(u, "--")) {
        r->options = 0;
        return;
    }
    if (option && r->kind == REREAD_TRAP) {
        if (strpbrk(u + 1, "lp")) /* trap -p, -l: print, set nothing */
            r->kind = REREAD_NONE;
        return;
    }
    if (option) { /* compgen, complete; mapfile and readarray, whose -C callback bash evaluates
                   * with an index and a line after it: mapfile -C 'rm -rf' -c 1 a <<<x ran rm */
        int mapfile = r->kind == REREAD_MAPFILE;
        for (size_t k = 1; u[k]; k++) {
            if (!strchr(mapfile ? "dnOsuCc" : "oAGWPSXFC", u[k]))
                continue;
            int mode = u[k] == 'W' ? SCAN_EXPANSIONS : SCAN_COMMANDS;
            int text = !!strchr(mapfile ? "C" : "WCF", u[k]);
            if (u[k + 1] && text)
                reread_span(r, from + k + 1, to, mode, expands);
            else if (!u[k + 1])
                r->next = text ? 2 + mode : 1;
            return;
        }
        return;
    }
    r->options = 0;
    if (r->kind == REREAD_TRAP) {
        /* a number that is no signal's is the action: trap 99 EXIT ran 99 (0 to 31 are
         * signals everywhere, up to 64 on Linux: read as an action there, it is denied more) */
        size_t digits = strspn(u, "0123456789");
        if (*u && strcmp(u, "-") && (u[digits] || strtoul(u, NULL, 10) >= 32))
            reread_span(r, from, to, SCAN_COMMANDS, expands);
        r->kind = REREAD_NONE;
    }
}

/* 1 if the word [w, e) after a command's program is a redirection (word_redirect), {NAME} and
 * one too: Bash takes it out of the command's words wherever it stands, trap >/dev/null
 * 'rm -rf x' EXIT sets rm as the trap's action, bash </dev/null -c 'rm -rf x' runs rm (the
 * scanner took >/dev/null for the action, </dev/null for a script's name). *bare: its target is
 * the next word. <(…) and >(…) are words, the names of files. */
static int redirect_after(const char *w, const char *e, int *bare)
{
    const char *p = w + (w < e && *w == '{');
    while (p > w && p < e &&
           (*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
            (*p >= '0' && *p <= '9')))
        p++;
    if (p > w + 1 && p < e && *p == '}')
        w = p + 1;
    if (e - w >= 2 && (w[0] == '<' || w[0] == '>') && w[1] == '(')
        return 0;
    return word_redirect(w, e, bare);
}

/* The unquoted ( less the unquoted ) in the word [w, e): in a command's words, as the scanner
 * has them (split at blanks, word_end), only those of a $( ), <( ), >( ), $(( )) or @( ) are
 * left (the others split it). One that is open makes the words after it part of it, to its ):
 * in trap < <(git 'git log') 'rm -rf x' EXIT, < reads from <(git 'git log'), whose git log is
 * no trap's action (rm was). */
static int word_parens(const char *w, const char *e)
{
    int n = 0;
    char q = 0;
    for (; w < e; w++)
        if (quote_step(&w, e, &q) && !q && (*w == '(' || *w == ')'))
            n += *w == '(' ? 1 : -1;
    return n;
}

static void reread_text(bash_ctx *x, const char *text, size_t n, int mode, int posix, int zsh);
static void emit_clean(bash_ctx *x, const char *seg, int depth);

static void bash_emit(bash_ctx *x, char *seg, size_t n)
{
    /* blanks, and a group's { and } where they stand as words ({git,push} is no group) */
    while (n && (seg[0] == ' ' || (seg[0] == '{' && (n == 1 || seg[1] == ' '))))
        seg++, n--;
    while (n && (seg[n - 1] == ' ' || (seg[n - 1] == '}' && (n == 1 || seg[n - 2] == ' '))))
        n--;
    seg[n] = '\0';
    if (!n)
        return;
    size_t at = x->out->len;
    add_command(x->out, seg);
    if (!x->out->oom)
        seg_blanks(x->out->buf, at, x->out->len);
    (*x->count)++;
    emit_clean(x, seg, 0);
}

/* The program's word u (unquoted) without what may expand to nothing, in place: $NAME, $@ and
 * the other special parameters, ${…} (but ${NAME:-WORD}, -, = or +: WORD, read as the rest
 * is, ${x:-${y}rm} is rm; an element's and a special parameter's too, ${x[0]:-WORD},
 * ${@:-WORD}), $( ) and ` `, and a } with no { before it, WORD's, or that of a ${x:- WORD}
 * begun a word before (${x:- rm} x ran rm under bash 5.2: the scanner saw a program named
 * rm}). In front of the name, and in it or after it: rm${x} -rf y, r${x}m, rm"$@" and rm$(:)
 * ran rm under bash 5.2.15 past Bash(rm *), which saw a program named so. */
static void program_unexpanded(char *u)
{
    char *o = u, *end = u + strlen(u); /* the tail from p on is never written */
    int braces = 0;                    /* { in it so far, outside ${…} */
    for (char *p = u; *p;) {
        char *close = p[0] == '$' && p[1] == '{' ? strchr(p, '}') : NULL;
        if (*p == '`' && strchr(p + 1, '`')) {
            p = strchr(p + 1, '`') + 1;
        } else if (*p == '$' && p[1] == '(') {
            int depth = 0;
            for (p++; *p; p++)
                if ((depth += *p == '(' ? 1 : *p == ')' ? -1 : 0) == 0) {
                    p++;
                    break;
                }
        } else if (close) {
            char *q = (char *)param_name_end(p + 2);
            q += *q == ':';
            /* WORD, read on as the rest is (${x:-${y}rm}: rm); its } has no { before it */
            p = q < close && strchr("-=+", *q) ? q + 1 : close + 1;
        } else if (zsh_param_end(p, end) > p) { /* $x, $@, and zsh's $x[1], $~x, $x:t */
            p = (char *)zsh_param_end(p, end);
        } else if (*p == '}' && !braces) { /* the close of ${x:- WORD} begun a word before */
            p++;
        } else {
            braces += *p == '{';
            braces -= *p == '}';
            *o++ = *p++;
        }
    }
    *o = '\0';
}

/* 1 if t (n bytes) holds zsh's $~x, x globbed (and $^~x, $=~x: zsh takes ^ and = before it
 * too), in quotes or not. */
static int zsh_glob_subst(const char *t, size_t n)
{
    for (const char *d = memchr(t, '$', n); d; d = memchr(d + 1, '$', n - (size_t)(d + 1 - t))) {
        const char *e = d + 1;
        while (e < t + n && (*e == '^' || *e == '='))
            e++;
        if (e < t + n && *e == '~')
            return 1;
    }
    return 0;
}

#define ZSH_GLOB_SUBST_OPAQUE "zsh's $~x, which globs what x holds,"

/* 1 if the word u (unquoted) names one of zsh's tables of what a name runs, or of its options,
 * with [ or = after it (an element, or the whole of it, assigned), or alone (bare: a word of a
 * builtin that assigns the names it is given): functions[git]='rm -rf x'; git status ran rm
 * under zsh 5.9, which Claude Code runs the line with on macOS, and so did
 * commands[git]=/bin/rm, typeset and local with them, read 'functions[git]', set -A functions
 * git 'rm -rf x', and options[globsubst]=on (zsh_glob_subst). */
static int zsh_table(const char *u, int bare)
{
    static const char *const names[] = {
        "functions",   "dis_functions", "aliases",      "galiases", "saliases",
        "dis_aliases", "dis_galiases",  "dis_saliases", "commands", "options"};
    size_t n = strcspn(u, "[=+");
    if (u[n] != '[' && u[n] != '=' && strncmp(u + n, "+=", 2) && !(bare && !u[n]))
        return 0;
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (n == strlen(names[k]) && !memcmp(u, names[k], n))
            return 1;
    return 0;
}

/* 1 if base names a builtin of zsh's (or bash's) that assigns the names it is given; 2 if only
 * a name with an element or a value (print -v and printf -v: their other words are text). */
static int zsh_assigns(const char *base)
{
    static const char *const names[] = {"typeset",  "declare", "local", "export",
                                        "readonly", "integer", "float", "private",
                                        "read",     "set",     "vared", "getopts"};
    if (!strcmp(base, "print") || !strcmp(base, "printf"))
        return 2;
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (!strcmp(base, names[k]))
            return 1;
    return 0;
}

/* The cleaned-up form of the command seg (bash_emit), appended to x->out, and then the commands
 * of what its program reads again (reread). depth: how many env -S texts deep seg is (it then
 * begins after env's name: its options are env's). */
/* 1 if the word [w, e) holds, outside single quotes, a ${NAME+WORD}, ${NAME:+WORD} or
 * ${NAME-WORD}, which may be WORD or nothing (${x:+a} rm -rf x, r${x:+a}m -rf x and x=;
 * ${x-a} rm -rf x ran rm under bash 5.2 past Bash(rm *), the scanner reading WORD, a program
 * named a or ram); ${NAME:-WORD} is WORD or NAME's value, WORD read as the program. */
static int param_maybe_empty(const char *w, const char *e)
{
    char q = 0;
    for (const char *p = w; p + 1 < e; p++) {
        if (!quote_step(&p, e, &q) || q == '\'' || q == 'a' || p[0] != '$' || p[1] != '{')
            continue;
        const char *n = param_name_end(p + 2);
        int colon = *n == ':';
        n += colon;
        if (*n == '+' || (*n == '-' && !colon))
            return 1;
    }
    return 0;
}

static void emit_clean(bash_ctx *x, const char *seg, int depth)
{
    ab__sb *out = x->out;
    int *denied = &x->denied;
    reread r = {0};
    size_t need = 1, work = 0;
    int zsh_braces = 0;
    for (const char *w = seg; *w; w = *w ? w + 1 : w) {
        const char *e = word_end(w);
        need += braces_expanded(w, e, NULL, &zsh_braces, x->brace_work) + 1;
        w = e;
        if (need > BASH_EXPANDED_MAX) {
            *denied = 1;
            return;
        }
    }
    /* the words as braces expand them, each a word of its own: exec {-c,rm} x, nice {-5,rm}
     * x, x=1 {env,rm} x and bash -c '{env,rm} x' ran rm under bash 5.2 past Bash(rm *), the
     * scanner reading -c rm as one option of exec's, env rm as the program */
    char *words = malloc(need);
    size_t wn = 0;
    for (const char *w = seg; words && *w; w = *w ? w + 1 : w) {
        const char *e = word_end(w);
        size_t sep = wn && e > w, n = braces_expanded(w, e, words + wn + sep, &zsh_braces, &work);
        if (n) /* not all of it empty ones */
            words[wn] = sep ? ' ' : words[wn], wn += sep + n;
        w = e;
    }
    /* $y{rm,x} z and ${x:-{rm,x}} y ran rm under zsh 5.9 (which Claude Code runs the line with
     * on macOS) past Bash(rm *): bash reads $yrm $yx z and {rm,x} y */
    if (x->zsh && zsh_braces && !x->opaque)
        x->opaque = "a brace group zsh expands and bash does not, $y{a,b} or ${x:-{a,b}},";
    char *clean = malloc(need), *u = malloc(need);
    if (!clean || !u || !words) {
        free(clean);
        free(u);
        free(words);
        out->oom = 1;
        return;
    }
    words[wn] = '\0';
    size_t c = 0;
    int leading = 1, skip_next = 0, target = 0, open = 0, assigns = 0, own = 0;
    const bash_leader *leader = depth ? leader_find("env") : NULL;
    for (const char *w = words; *w; w = *w ? w + 1 : w) {
        const char *e = word_end(w);
        size_t un = word_unquoted(w, e, u);
        const char *word = w;
        w = e;
        if (e == word) /* a blank more (env -S text): no word */
            continue;
        if (x->zsh && !x->opaque && (leading || assigns) && zsh_table(u, assigns == 1))
            x->opaque = "zsh's table of functions, aliases, commands or options, functions[…]=…,";
        const char *text = NULL;
        if (leading && skip_next == 1) {
            skip_next = 0;
            continue;
        }
        /* zsh's function NAME NAME… { …; }: each word to the { is a name (function a b { rm
         * -rf x; }; a ran rm under zsh 5.9, which Claude Code runs the line with on macOS,
         * past Bash(rm *), which saw a program named b) */
        /* or to a compound command's word, its body: function f if rm -rf x; then :; fi; f and
         * function f while rm -rf x; do break; done; f ran rm under bash 5.2 past Bash(rm *),
         * the scanner skipping the words to a { that never came */
        if (leading && skip_next == 3 && strcmp(u, "{") && strcmp(u, "if") && strcmp(u, "while") &&
            strcmp(u, "until") && strcmp(u, "[[") && strncmp(u, "((", 2))
            continue;
        /* before the program, or in it (not a NAME=VALUE's) */
        size_t named = strspn(word, NAME_CHARS);
        if (leading && skip_next != 2 && !x->opaque && param_maybe_empty(word, e) &&
            !(named && strchr("=+[", word[named])))
            x->opaque = "a ${x+WORD}, ${x:+WORD} or ${x-WORD} in a command's program or before "
                        "it, which may be WORD or nothing,";
        if (leading && skip_next == 2) /* env -S 'rm -rf x': the word is the command */
            text = u;
        else if (leading &&
                 word_skipped(word, e, u, *e ? e + 1 : e, &leader, &own, &skip_next, &text) &&
                 !text)
            continue;
        if (text) { /* env's words in it, then the rest of the line's: read again, as env's */
            const char *rest = *e ? e + 1 : e;
            size_t tn = strlen(text), rn = strlen(rest);
            char *sub = depth < ENV_SPLIT_DEPTH_MAX ? malloc(2 * tn + rn + 2) : NULL;
            if (sub) {
                size_t sn = env_split(text, sub);
                while (sn && sub[sn - 1] == ' ' && (sn < 2 || sub[sn - 2] != '\\'))
                    sn--;
                sub[sn] = ' ';
                sn += sn && rn ? 1 : 0;
                memcpy(sub + sn, rest, rn + 1);
            }
            free(clean);
            free(u);
            free(words);
            if (sub)
                emit_clean(x, sub, depth + 1);
            else if (depth < ENV_SPLIT_DEPTH_MAX)
                out->oom = 1;
            else
                *denied = 1;
            free(sub);
            return;
        } else if (leading) { /* the program: by its last path component, without what may
                               * expand to nothing ("${x}rm" and rm${x} run rm), and after an
                               * =, zsh's path of a command (zsh -c '=rm -rf x' ran rm) */
            char *prog = u;
            while (prog[0] == '=' && prog[1])
                prog++;
            memmove(u, prog, strlen(prog) + 1);
            program_unexpanded(u);
            /* a program that expands to nothing, the next word is it: $(echo) rm -rf x and
             * $(true x) rm -rf x ran rm under bash 5.2 past Bash(rm *), which saw a program
             * named nothing; and what bash splits off the front of it (SEG_BLANK) */
            size_t lead = strspn(u, "\x1f");
            memmove(u, u + lead, strlen(u + lead) + 1);
            if (!*u)
                continue;
            const char *slash = strrchr(u, '/');
            const char *base = slash && slash[1] ? slash + 1 : u;
            size_t bn = strlen(base);
            memmove(clean + c, base, bn);
            c += bn;
            leading = 0;
            r.kind = reread_kind(base);
            assigns = zsh_assigns(base);
            r.options = 1;
            r.posix = r.kind == REREAD_SHELL && strcmp(base, "bash") && strcmp(base, "rbash");
            r.ksh = !strcmp(base, "ksh") || !strcmp(base, "ksh93");
            r.zsh = r.kind == REREAD_SHELL ? r.posix : r.kind == REREAD_EMULATE || x->zsh;
        } else {
            clean[c++] = ' ';
            int bare = 0, inside = open > 0; /* a word of a <( ) or $( ) begun before it */
            open += word_parens(word, e);
            open = open < 0 ? 0 : open;
            /* a redirection and its target are none of the command's words (git >/dev/null
             * push and git>/dev/null push ran git push under bash 5.2 and zsh 5.9 past
             * Bash(git push*), the scanner seeing git >/dev/null push) */
            if (inside) {
                r.gap |= r.n > 0;
            } else if (target || redirect_after(word, e, &bare)) {
                target = target ? 0 : bare, r.gap |= r.n > 0;
                c--;
                continue;
            } else if (r.kind) {
                reread_word(&r, word, e, u, c, c + un);
            }
            memcpy(clean + c, u, un);
            c += un;
        }
    }
    clean[c] = '\0';
    seg_blanks(clean, 0, c);
    add_command(out, clean);
    for (size_t k = 0; k < r.n && !*denied; k++) { /* spans in order: each ends before the next */
        clean[r.span[k].to] = '\0';
        /* the scanner reads a text as bash does; dash reads &> as & and >, and $'…' as $ and
         * '…': sh -c 'git log &>/dev/null rm -rf x' and sh -c 'git log $'"'"'\'"'"' ; rm -rf x
         * ; # '"'"'' ran rm under dash 0.5.12, bash ran git log alone (and <<< and |& too);
         * and $[ as $ and [ (bash's arithmetic): sh -c 'git log $[1;./?? ]' ran ./rm; zsh
         * reads $~x (and $^~x) as x globbed, and a glob's qualifier (e:…:) runs code: zsh -c
         * 'for x in "*(e:rm -rf x:)"; do echo $~x; done' ran rm, bash echoes $~x (the line's
         * own $~x, bash_simple_commands) */
        const char *t = clean + r.span[k].from;
        int posix = r.posix || x->posix;
        if (posix && (strstr(t, "<<<") || strstr(t, "|&")) && !x->opaque_allow)
            x->opaque_allow = "a text that sh reads otherwise than bash (<<<, |&),";
        if (r.zsh && zsh_glob_subst(t, strlen(t)) && !x->opaque_allow)
            x->opaque_allow = ZSH_GLOB_SUBST_OPAQUE;
        /* and &>, $'…' and $[ hide from a deny list too the command dash runs after them (sh -c
         * 'git log &>/dev/null rm -rf x', 'git log $[1;rm -rf x]' ran rm past Bash(rm *)) */
        if (posix && (strstr(t, "&>") || strstr(t, "$'") || strstr(t, "$[")) && !x->opaque)
            x->opaque = "a text that sh reads otherwise than bash (&>, $'…', $[),";
        reread_text(x, clean + r.span[k].from, r.span[k].to - r.span[k].from, r.span[k].mode,
                    r.posix, r.zsh);
    }
    if (r.find_text.oom)
        out->oom = 1;
    else if (r.find_text.len && !*denied)
        reread_text(x, r.find_text.buf, r.find_text.len, SCAN_COMMANDS, x->posix, x->zsh);
    free(r.find_text.buf);
    if (r.too_many)
        *denied = 1;
    if (r.kind == REREAD_FC && (r.fc_runs || !r.fc_lists)) /* fc -s runs, even with -l */
        r.opaque = "a command from history run again, fc,";
    /* no command string, no script (bash <<<'rm -rf x'; nor sh -O extglob <<<'rm -rf x', which
     * ran rm under bash 5.2 run as sh, as Fedora's and Arch's sh is: extglob is -O's), or -s (dash
     * -c -s runs its command string, then what it reads: sh -cs 'git log' <<<'rm -rf x' ran rm) */
    if ((r.kind == REREAD_SHELL && !r.shell_c && (!r.script || r.o_script)) || r.shell_s)
        r.input = 1;
    /* and a -c with no command string after it, which is then what runs it gives, as xargs
     * does its standard input (echo 'rm -rf x' | xargs -0 bash -c ran rm under bash 5.2 past
     * Bash(rm *)); bash -c alone runs nothing */
    if (r.kind == REREAD_SHELL && r.shell_c && !x->opaque)
        x->opaque = "a shell's -c without its command string, which what runs it gives (xargs "
                    "bash -c),";
    /* under a deny list too, as . /dev/stdin is: bash <<<'rm -rf x' and echo 'rm -rf x' |
     * bash ran rm past Bash(rm *) */
    if (r.input && !x->opaque)
        x->opaque = "commands a shell reads from its standard input,";
    if (r.opaque && !x->opaque)
        x->opaque = r.opaque;
    if (r.opaque_allow && !x->opaque_allow)
        x->opaque_allow = r.opaque_allow;
    if (r.made && !x->opaque_allow)
        x->opaque_allow =
            "a text that eval, trap, compgen or sh -c reads again, made by an expansion,";
    free(clean);
    free(u);
    free(words);
}

/* ---- the scanner: simple commands, substitutions, here-documents ---- */

static size_t bash_scan(bash_ctx *x, const char *s, size_t len, size_t i, char term, int mode,
                        int depth);

/* Where the quote that opens at s[i] closes: ' (nothing escapes), or $' (a backslash does). */
static size_t end_single(const char *s, size_t len, size_t i, int ansi)
{
    for (i += ansi ? 2 : 1; i < len; i++)
        if (ansi && s[i] == '\\')
            i++;
        else if (s[i] == '\'')
            return i;
    return len - 1;
}

/* Where the bracket at s[i] ( ( or [ ) closes, by counting alone (quotes and escapes skipped,
 * nothing scanned): len if it does not. Decides whether $(( … )) is arithmetic in one pass. */
static size_t bracket_end(const char *s, size_t len, size_t i)
{
    char open = s[i], close = open == '(' ? ')' : ']';
    int depth = 0;
    for (; i < len; i++)
        if (s[i] == '\\')
            i++;
        else if (s[i] == '\'')
            i = end_single(s, len, i, 0);
        else if (s[i] == '"')
            for (i++; i < len && s[i] != '"'; i++)
                i += s[i] == '\\';
        else if (s[i] == open)
            depth++;
        else if (s[i] == close && --depth == 0)
            return i;
    return len;
}

/* 1 if the bracket at s[i] (of (( $(( or $[) holds, up to where bracket_end has it close (or
 * the end), what bracket_end does not read as Bash does: a backquote (Bash skips to its end, and
 * $(( `))` )) is one substitution), $'…' (its \' escapes a quote) or a double quote (the $( )
 * and backquotes in it are parsed). Where they are, the scanner cannot tell where Bash ends it,
 * nor whether Bash takes it for arithmetic: the line is denied. */
static int bracket_unsure(const char *s, size_t len, size_t i)
{
    size_t end = bracket_end(s, len, i);
    for (size_t k = i; k < end && k < len; k++)
        if (s[k] == '`' || s[k] == '"' || (s[k] == '$' && k + 1 < len && s[k + 1] == '\''))
            return 1;
    return 0;
}

/* 1 if the (( at s[i] is arithmetic: it closes with )) (else it is a subshell in a subshell, or
 * a command substitution $( (…) ), as Bash reads it). *end: the index of its last ). */
static int arithmetic_at(const char *s, size_t len, size_t i, size_t *end)
{
    size_t outer = bracket_end(s, len, i), inner = bracket_end(s, len, i + 1);
    *end = outer;
    return outer < len && inner + 1 == outer;
}

static size_t end_expansion(bash_ctx *x, const char *s, size_t len, size_t i, int depth, int dq);

/* 1 if s[i] starts an expansion that runs commands or holds them: $( $(( ${ $[ or `. */
static int expansion_at(const char *s, size_t len, size_t i)
{
    return s[i] == '`' ||
           (s[i] == '$' && i + 1 < len && (s[i + 1] == '(' || s[i + 1] == '{' || s[i + 1] == '['));
}

/* Where the double quote that opens at s[i] closes; the expansions in it are scanned. */
static size_t end_double(bash_ctx *x, const char *s, size_t len, size_t i, int depth)
{
    for (i++; i < len; i++)
        if (s[i] == '\\')
            i++;
        else if (s[i] == '"')
            return i;
        else if (expansion_at(s, len, i))
            i = end_expansion(x, s, len, i, depth, 1);
    return len - 1;
}

/* A $'…' at s[i] inside ${…}: where it closes. In double quotes (and a here-document) Bash
 * puts what it decodes to into the word unquoted, and expands it: "${x:-$'$(rm -rf x)'}" and
 * $'\x24(…)' run rm. What it decodes to is scanned for expansions, whatever the context. */
static size_t ansi_in_param(bash_ctx *x, const char *s, size_t len, size_t i, int depth)
{
    size_t j = end_single(s, len, i, 1), n = 0;
    char *text = malloc(j - i + 2);
    if (!text) {
        x->out->oom = 1;
        return j;
    }
    for (size_t k = i + 2; k < j; k++) {
        size_t w = 1;
        if (s[k] == '\\' && k + 1 < j)
            k += ansi_escape(s + k + 1, s + j, text + n, &w);
        else
            text[n] = s[k];
        if (w == 1 && text[n] == '\0') /* a NUL ends what it gives */
            break;
        n += w;
    }
    text[n] = '\0';
    bash_scan(x, text, n, 0, '\0', SCAN_EXPANSIONS, depth + 1);
    free(text);
    return j;
}

/* Where the ${ at s[i] closes (its first } outside the quotes and expansions in it: a { alone
 * opens nothing, as Bash reads ${x:-{a}; rm -rf x — the line went on as the parameter, and rm
 * was no command of it). A ${ that no parameter begins is no pattern's to follow: bash 5.2
 * refuses it, and other shells run what it holds: echo ${ rm -rf x; } ran rm under ksh93 and
 * mksh (and does under bash 5.3), and so did mksh's ${|rm -rf x;} and zsh's ${(e)x} (for x in
 * '$(rm -rf x)'; do echo ${(e)x}; done) and ${~x} (x a glob *(e:'rm -rf x':)). */
static size_t end_param(bash_ctx *x, const char *s, size_t len, size_t i, int depth, int dq)
{
    if (i + 2 < len && !x->opaque &&
        !strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_" SPECIAL_PARAMS,
                s[i + 2]))
        x->opaque = "a ${ that begins no parameter (${ cmd; } in ksh, mksh and bash 5.3, "
                    "${(e)x} in zsh),";
    for (i += 2; i < len; i++)
        if (s[i] == '\\')
            i++;
        else if (s[i] == '$' && i + 1 < len && s[i + 1] == '$') /* $$: not the $ of $'…' */
            i++;
        else if (s[i] == '$' && i + 1 < len && s[i + 1] == '\'') /* ${x:-$'\''}: one quote */
            i = ansi_in_param(x, s, len, i, depth);
        else if (s[i] == '\'') {
            /* in double quotes, a here-document or arithmetic a ' in ${…} is a character, and
             * "${x-'$(rm)'}" runs rm: what it holds is scanned for expansions whatever the
             * context (where it does quote, that denies more, never less) */
            size_t j = end_single(s, len, i, 0);
            /* where it ends: bash reads "${x-'}'}" to its last }, dash to its first, and sh -c
             * 'git log "${x-'"'"'}"; rm -rf x; "'"'"'}"' ran rm under dash; in a here-document
             * too (dash ran rm in the $( ) of ${x-'$(git log \'; rm -rf x; )'}, a ' a character,
             * \' an escaped one): where it is quoted or not, a ' in ${…} is refused, under a
             * deny list too (it missed the rm dash ran); zsh reads it as dash does, and ran rm
             * in git log "${x-'}"; rm -rf x; "'}", the line, which it runs on macOS: where zsh
             * but not dash may read it, one whose quote holds a } or a " (where the two
             * readings may end the ${ or the "…" apart) is refused, "${x:-'a b'}" passes */
            int apart = memchr(s + i, '}', j - i) || memchr(s + i, '"', j - i);
            if ((x->posix || (x->zsh && apart)) && !x->opaque)
                x->opaque = "a ' in \"${…}\", in a text sh or zsh reads otherwise than bash,";
            bash_scan(x, s, j, i + 1, '\0', SCAN_EXPANSIONS, depth + 1);
            i = j;
        } else if (s[i] == '"')
            i = end_double(x, s, len, i, depth);
        else if (expansion_at(s, len, i) ||
                 ((s[i] == '<' || s[i] == '>') && i + 1 < len && s[i + 1] == '('))
            i = end_expansion(x, s, len, i, depth, dq); /* ${x-<(rm)} runs rm too */
        else if (s[i] == '}')
            return i;
    return len - 1;
}

/* A backquoted command at s[i]: where it closes; its text, with \` \\ \$ unescaped (and \" in
 * double quotes: dq), is scanned as a command line of its own (a \` in it is a nested one). */
static size_t end_backquote(bash_ctx *x, const char *s, size_t len, size_t i, int depth, int dq)
{
    size_t j = i + 1;
    while (j < len && s[j] != '`')
        j += s[j] == '\\' ? 2 : 1;
    if (j > len)
        j = len;
    char *inner = malloc(j - i + 1);
    if (!inner) {
        x->out->oom = 1;
        return j < len ? j : len - 1;
    }
    size_t n = 0;
    for (size_t k = i + 1; k < j; k++)
        inner[n++] =
            s[k] == '\\' && k + 1 < j && strchr(dq ? "`\\$\"" : "`\\$", s[k + 1]) ? s[++k] : s[k];
    inner[n] = '\0';
    int nh = x->nh; /* its text is a line of its own: a here-document begun in it ends in it */
    bash_scan(x, inner, n, 0, '\0', SCAN_COMMANDS, depth + 1);
    x->nh = nh;
    free(inner);
    return j < len ? j : len - 1;
}

/* An expansion at s[i] (expansion_at, or <( >( process substitution): its commands are scanned,
 * once. Returns the index of its last character. dq: it is inside double quotes. */
static size_t end_expansion(bash_ctx *x, const char *s, size_t len, size_t i, int depth, int dq)
{
    if (depth >= BASH_DEPTH_MAX) {
        x->denied = 1;
        return len - 1;
    }
    if (s[i] == '`')
        return end_backquote(x, s, len, i, depth, dq);
    if (s[i + 1] == '{')
        return end_param(x, s, len, i, depth + 1, dq);
    size_t end;
    if ((s[i + 1] == '[' || (s[i + 1] == '(' && i + 2 < len && s[i + 2] == '(')) &&
        bracket_unsure(s, len, i + 1)) {
        x->denied = 1;
        return len - 1;
    }
    if (s[i + 1] == '[' && (end = bracket_end(s, len, i + 1)) == len)
        return i + 1; /* a $[ that does not close is two characters */
    if (s[i + 1] == '[' || (s[i] == '$' && s[i + 2] == '(' && arithmetic_at(s, len, i + 1, &end))) {
        /* $[ … ] (the old way) or $(( … )) */
        /* arithmetic: no commands of its own, but the expansions in it run */
        bash_scan(x, s, end < len ? end : len, i + 2, '\0', SCAN_EXPANSIONS, depth + 1);
        return end < len ? end : len - 1;
    }
    /* a here-document begun in it and not ended by its ): bash reads its body after the line,
     * dash and zsh read none (as a backquote's, end_backquote), and run the lines after it: sh
     * -c 'git log $(cat <<E)', rm -rf x, E, on three lines, ran rm under dash and zsh, and so
     * did the line itself under zsh, which Claude Code runs it with on macOS; where bash or zsh
     * may read it, no one reading is the line's */
    int nh = x->nh;
    size_t k = bash_scan(x, s, len, i + 2, ')', SCAN_COMMANDS, depth + 1);
    if (x->posix && x->nh > nh)
        x->nh = nh;
    else if (x->zsh && x->nh > nh && !x->opaque)
        x->opaque = "a here-document begun in a $( ) and not ended there (bash reads its body "
                    "after the line, zsh none),";
    return k < len ? k : len - 1;
}

/* A here-document's operator at s[i] (<< or <<-) and its word: noted in x; returns the index of
 * the word's last character. A word with an expansion in it is not followed (denied). */
static size_t heredoc_word(bash_ctx *x, const char *s, size_t len, size_t i, int depth)
{
    /* ksh93 reads <<#E as <<# (its lines' leading blanks stripped) and the word E, bash and the
     * scanner as << and #E: ksh -c 'git log <<#E', E, rm -rf x, #E, on four lines, ran rm, which
     * the scanner read as the body's */
    if (x->posix && i + 2 < len && s[i + 2] == '#' && !x->opaque)
        x->opaque = "a here-document <<#, whose word ksh reads otherwise than bash,";
    size_t j = i + 2;
    int strip_tabs = j < len && s[j] == '-';
    j += strip_tabs ? 1 : 0;
    while (j < len && (s[j] == ' ' || s[j] == '\t'))
        j++;
    size_t from = j;
    char q = 0;
    for (; j < len && (q || !strchr(" \t\n;&|()<>", s[j])); j++)
        if ((!q || q == '"') && s[j] == '\\') /* <<"\"" is the word " */
            j++;
        else if (!q && (s[j] == '\'' || s[j] == '"'))
            q = s[j];
        else if (q && s[j] == q)
            q = 0;
    if (j > len)
        j = len;
    if (x->nh == HEREDOCS_MAX || j - from >= sizeof x->hd->delim ||
        memchr(s + from, '$', j - from) || memchr(s + from, '`', j - from)) {
        x->denied = 1;
        return j > i + 2 ? j - 1 : i + 1;
    }
    heredoc *h = &x->hd[x->nh++];
    h->depth = depth;
    word_unquoted(s + from, s + j, h->delim);
    h->quoted = memchr(s + from, '\'', j - from) || memchr(s + from, '"', j - from) ||
                memchr(s + from, '\\', j - from);
    h->strip_tabs = strip_tabs;
    return j > i + 2 ? j - 1 : i + 1;
}

/* The line of a here-document's body that begins at s[pos], as Bash reads it, into buf (at
 * least len - pos + 1 bytes, NUL-terminated; *n its length): to its newline and, under a word
 * that was not quoted (join), on past each newline an unescaped backslash escapes, which Bash
 * takes out with its backslash (x \<newline>E is no end of the body; x \\<newline>E is). Returns
 * the index of the newline that ends it (or len). */
static size_t heredoc_line(const char *s, size_t len, size_t pos, int join, char *buf, size_t *n)
{
    size_t k = pos;
    *n = 0;
    for (; k < len && s[k] != '\n'; k++)
        if (join && s[k] == '\\' && k + 1 < len && s[k + 1] == '\n')
            k++;
        else if (join && s[k] == '\\' && k + 1 < len)
            buf[(*n)++] = s[k++], buf[(*n)++] = s[k];
        else
            buf[(*n)++] = s[k];
    buf[*n] = '\0';
    return k;
}

/* The bodies of the here-documents waiting in x, from the line after the newline at s[i], one
 * after another, each to the line that is its word (heredoc_line: with its backslash-newlines
 * taken out, where the word was not quoted). A body whose word was not quoted is expanded by
 * Bash, after it joins those lines: its $( ) and ` ` run commands, which are scanned. Returns
 * the index of the last newline of the last body (or len - 1). */
static size_t heredoc_bodies(bash_ctx *x, const char *s, size_t len, size_t i, int depth)
{
    size_t pos = i + 1;
    int nh = x->nh, kept = 0;
    heredoc mine[HEREDOCS_MAX];
    int n = 0;
    /* this newline ends the lines of the here-documents begun at this depth or in the $( ) it
     * holds (their bodies follow it); those of an enclosing line wait for that line's end */
    for (int k = 0; k < nh; k++)
        if (x->hd[k].depth >= depth)
            mine[n++] = x->hd[k];
        else
            x->hd[kept++] = x->hd[k];
    x->nh = kept;
    char *body = malloc(len - pos + 1), *line = malloc(len - pos + 1);
    if (!body || !line) {
        free(body);
        free(line);
        x->out->oom = 1;
        return len - 1;
    }
    for (int k = 0; k < n && pos < len; k++) {
        const heredoc *h = &mine[k];
        size_t bn = 0, dn = strlen(h->delim);
        while (pos < len) {
            size_t ln, eol = heredoc_line(s, len, pos, !h->quoted, line, &ln), tabs = 0;
            while (h->strip_tabs && tabs < ln && line[tabs] == '\t')
                tabs++;
            pos = eol < len ? eol + 1 : len;
            /* <<- ends at the word with its tabs too, as Bash compares the line before it
             * strips them: <<-"<tab>E" ends at <tab>E */
            if ((ln - tabs == dn && !memcmp(line + tabs, h->delim, dn)) ||
                (ln == dn && !memcmp(line, h->delim, dn)))
                break;
            /* in a substitution, Bash 5.2 may end the body at a line that begins with the word:
             * "$(cat <<E<newline>x<newline>E)" ends the $( ) there, and the lines after it run
             * (echo "$(cat <<E … E)" then rm -rf x, E and ")": rm ran). Denied */
            if (h->depth > 0 && ((ln - tabs >= dn && !memcmp(line + tabs, h->delim, dn)) ||
                                 (ln >= dn && !memcmp(line, h->delim, dn))))
                x->denied = 1;
            memcpy(body + bn, line, ln);
            bn += ln;
            body[bn++] = '\n';
        }
        if (!h->quoted)
            bash_scan(x, body, bn, 0, '\0', SCAN_EXPANSIONS, depth + 1);
    }
    free(body);
    free(line);
    return pos - 1;
}

/* If s[k] begins what a word's ( … ) does not count in: an escape, a quote ('…', $'…', "…"),
 * $$, or an expansion (or a <( ) or >( )), whose substitutions are scanned: 1, and *last its
 * last byte. */
static int word_unit_end(bash_ctx *x, const char *s, size_t len, size_t k, int depth, size_t *last)
{
    char c = s[k], next = k + 1 < len ? s[k + 1] : '\0';
    if (c == '\\' || (c == '$' && next == '$'))
        *last = k + 1;
    else if (c == '\'' || (c == '$' && next == '\''))
        *last = end_single(s, len, k, c == '$');
    else if (c == '"')
        *last = end_double(x, s, len, k, depth);
    else if (expansion_at(s, len, k) || ((c == '<' || c == '>') && next == '('))
        *last = end_expansion(x, s, len, k, depth, 0);
    else
        return 0;
    return 1;
}

/* An extended glob pattern at s[i], @( *( +( ?( or !( : where its ) is. Bash with extglob on
 * (and right of == or != in [[ ]], whatever the option) reads it as part of a word, to the )
 * that matches, with no comment, here-document or separator in it: git log @(#x) ; rm -rf y runs
 * rm. Its quotes and expansions are scanned, and <( ) and >( ) in it, which run. */
static size_t extglob_end(bash_ctx *x, const char *s, size_t len, size_t i, int depth)
{
    int open = 0;
    x->extglob = 1;
    /* zsh reads it as a glob and its qualifiers, and e runs code: echo *(e:'rm -rf x':) ran rm
     * under zsh 5.9, which Claude Code runs the line with on macOS, past Bash(rm *) */
    if (x->zsh && !x->opaque)
        x->opaque = "an extended glob pattern, *(…), whose qualifiers zsh runs (*(e:…:)),";
    for (size_t k = i + 1, last; k < len; k++) {
        if (word_unit_end(x, s, len, k, depth, &last))
            k = last;
        else if (s[k] == '(')
            open++;
        else if (s[k] == ')' && --open == 0)
            return k;
    }
    /* one that does not close bash refuses, and zsh reads as a glob to its ; and runs what
     * follows: zsh -c 'git log *(;rm -rf x' ran rm, which the scanner read as the pattern's */
    if (!x->opaque)
        x->opaque = "an extended glob pattern that does not close, *(…,";
    return len - 1;
}

/* Appends s[from..to] to seg as written, runs of blanks and newlines made one space, and a
 * backslash-newline taken out but in a single quote (it joins lines, in double quotes too:
 * git "pu\<newline>sh" runs git push). A quoted part ('…', $'…', "…") keeps its blanks and
 * newlines: what eval, trap or bash -c read again of it is a line of its own, where a newline
 * ends a command (eval 'git log<newline>rm -rf x' ran rm, the scanner read git log rm -rf x)
 * and a tab ends a here-document's body under <<- . */
static void seg_add(char *seg, size_t *n, const char *s, size_t from, size_t to)
{
    int single = s[from] == '\'' || (s[from] == '$' && from < to && s[from + 1] == '\'');
    int quoted = single || s[from] == '"' || (s[from] == '$' && from < to && s[from + 1] == '"');
    /* a $( ), ` `, ${ }, $[ ], <( ) or >( ) outside quotes is one word, whatever blanks it holds
     * (SEG_BLANK): x=$(echo 0) rm -rf x, nice -n $(echo 5) rm -rf x and x=$[ 1 ] rm -rf x ran rm
     * under bash 5.2 past Bash(rm *), the scanner taking 0), 5) or 1 for the program */
    int unit = !quoted && from < to &&
               (s[from] == '`' || (s[from] == '$' && strchr("({[", s[from + 1])) ||
                ((s[from] == '<' || s[from] == '>') && s[from + 1] == '('));
    char blank = unit ? SEG_BLANK : ' ';
    for (size_t j = from; j <= to; j++)
        if (!single && s[j] == '\\' && j < to && s[j + 1] == '\n')
            j++;
        else if (!single && s[j] == '\\' && j < to && s[j + 1] == '\\') /* \\: one, escaped */
            seg[(*n)++] = s[j], seg[(*n)++] = s[++j];
        else if (quoted || (s[j] != ' ' && s[j] != '\t' && s[j] != '\n'))
            seg[(*n)++] = s[j];
        else if (*n && seg[*n - 1] != ' ' && seg[*n - 1] != blank)
            seg[(*n)++] = blank;
}

/* One step of bash_scan outside quotes, for a character that is part of a word: the index of
 * the last character it took (quotes, an escape, an expansion, a here-document's word). */
static size_t word_part(bash_ctx *x, const char *s, size_t len, size_t i, int mode, int depth)
{
    char ch = s[i], next = i + 1 < len ? s[i + 1] : '\0';
    if (ch == '\\')
        return i + 1 < len ? i + 1 : i;
    if (mode == SCAN_EXPANSIONS)
        return expansion_at(s, len, i) ? end_expansion(x, s, len, i, depth, 0) : i;
    if (ch && strchr("@*+?!", ch) && next == '(') {
        /* !( that begins a word is ! and a subshell without extglob, a pattern with it:
         * either reading may hide the other's commands, !(#x) ; rm -rf x */
        if (ch == '!' && (i == 0 || strchr(" \t\n;&|()<>", s[i - 1])))
            x->denied = 1;
        return extglob_end(x, s, len, i, depth);
    }
    if (ch == '\'')
        return end_single(s, len, i, 0);
    if (ch == '$' && next == '$') /* $$: not the $ of $'…' */
        return i + 1;
    if (ch == '$' && next == '\'')
        return end_single(s, len, i, 1);
    if (ch == '"')
        return end_double(x, s, len, i, depth);
    if (expansion_at(s, len, i) || ((ch == '<' || ch == '>') && next == '('))
        return end_expansion(x, s, len, i, depth, 0);
    if (ch == '<' && next == '<' && i + 2 < len && s[i + 2] == '<') /* <<< a here-string */
        return i + 2;
    if (ch == '<' && next == '<')
        return heredoc_word(x, s, len, i, depth);
    if (ch == '>' && x->zsh && !x->opaque) {
        /* zsh's >! (>>!, >&!, &>!) is one operator, and its target the next word; bash's
         * target is the !: >! echo rm -rf x ran rm under zsh 5.9, which Claude Code runs the
         * line with on macOS, past Bash(rm *), where the scanner saw echo rm -rf x */
        size_t j = i + 1;
        while (j < len && (s[j] == '>' || s[j] == '&'))
            j++;
        if (j < len && s[j] == '!' && (j + 1 == len || strchr(" \t\n;&|()<>", s[j + 1])))
            x->opaque = "zsh's >!, whose target is the next word (bash's is the !),";
    }
    if (ch == '>' && next == '|') {
        /* >| (clobber) is one operator, a redirection: its | is no pipe. The scanner split
         * eval >|git 'rm -rf x' at it, and git 'rm -rf x' passed Bash(git *): rm ran. After
         * >, < or & (>>|, &>|, <>|: Bash reads a pipe there, and errs) it is not followed */
        if (i > 0 && strchr("<>&", s[i - 1]))
            x->denied = 1;
        return i + 1;
    }
    if ((ch == '>' || ch == '<') && next == '&') { /* >&2: not a separator */
        /* Bash expands the word after >& twice (it takes >& WORD for &> WORD): quotes do not
         * keep its substitutions from running, >&'$(rm -rf x)' runs rm. What single quotes hold
         * in that word (the rest of it is scanned as any word is) is scanned for them */
        size_t w = i + 2;
        while (w < len && (s[w] == ' ' || s[w] == '\t'))
            w++;
        while (w < len && (!strchr(" \t\n;&|()<>", s[w]) ||
                           ((s[w] == '<' || s[w] == '>') && w + 1 < len && s[w + 1] == '('))) {
            int ansi = s[w] == '$' && w + 1 < len && s[w + 1] == '\'';
            if (s[w] == '<' || s[w] == '>') { /* <(…): part of the word, scanned as one */
                w = bracket_end(s, len, w + 1) + 1;
            } else if (s[w] == '\'' || ansi) {
                size_t k = end_single(s, len, w, ansi);
                if (k > w + (size_t)ansi) /* what it holds, if anything */
                    bash_scan(x, s, k, w + 1 + (size_t)ansi, '\0', SCAN_EXPANSIONS, depth + 1);
                w = k + 1;
            } else if (s[w] == '"') { /* scanned as a word's: only to its end here */
                for (w++; w < len && s[w] != '"'; w++)
                    w += s[w] == '\\';
                w++;
            } else {
                w += s[w] == '\\' ? 2 : 1;
            }
        }
        return i + 1;
    }
    return i;
}

/* case statements, as far as the scanner must follow them: a pattern's ) ends no $( ), so that
 * "$(case x in x) rm -rf x;; esac)" is one substitution, rm a command of it. */
#define CASES_MAX 16 /* case statements nested in one $( ) or line, at most; more: denied */

enum { CASE_SUBJECT, CASE_IN, CASE_PATTERN, CASE_BODY };

typedef struct {
    unsigned char state[CASES_MAX];
    int parens[CASES_MAX]; /* the depth of parentheses the case began at */
    int n;
    int fresh;       /* a pattern list begins: esac ends the case, a ( opens the pattern */
    int reserved_ok; /* a reserved word may come next (after ; & | ( ) newline, if, do, …) */
    /* the next word may or may not be a reserved word (after time, time -p, coproc, coproc
     * NAME, function NAME: Bash 5.2 takes "case" there for one in some places, not in others,
     * "$(time case x in x) …" ends at x): 1, or 2 if the word after it may be one too */
    int unsure;
} case_state;

/* 1 if s[i] begins the word w, unquoted and whole (a metacharacter or the end after it). */
static int word_is(const char *s, size_t len, size_t i, const char *w)
{
    size_t n = strlen(w);
    return i + n <= len && !memcmp(s + i, w, n) &&
           (i + n == len || (s[i + n] && strchr(" \t\n;&|()<>", s[i + n])));
}

/* A word that begins at s[i], for the case statements in c: case (where a reserved word may
 * come), its subject, in, a pattern's first word, esac. Bash refuses a case with no "in" after
 * its subject: denied (*denied). Only where Bash takes "case" as a reserved word is it one:
 * taking it for one elsewhere would read past the ) that ends a $( ). */
static void case_word(case_state *c, const char *s, size_t len, size_t i, int parens, int *denied)
{
    static const char *const keep[] = {"!",     "{",     "}",  "if",   "then", "else", "elif",
                                       "while", "until", "do", "done", "fi",   "esac"};
    int top = c->n - 1, ok = c->reserved_ok, unsure = c->unsure;
    c->reserved_ok = c->unsure = 0;
    if (top >= 0 && c->state[top] == CASE_SUBJECT) {
        c->state[top] = CASE_IN;
        return;
    }
    if (top >= 0 && c->state[top] == CASE_IN) {
        if (!word_is(s, len, i, "in"))
            *denied = 1;
        c->state[top] = CASE_PATTERN;
        c->fresh = 1;
        return;
    }
    if (top >= 0 && c->state[top] == CASE_PATTERN) {
        if (c->fresh && word_is(s, len, i, "esac"))
            c->n--, c->reserved_ok = 1;
        c->fresh = 0;
        return;
    }
    if (ok && word_is(s, len, i, "case")) {
        if (c->n == CASES_MAX) {
            *denied = 1;
            return;
        }
        c->state[c->n] = CASE_SUBJECT;
        c->parens[c->n++] = parens;
        return;
    }
    if (ok && top >= 0 && word_is(s, len, i, "esac")) {
        c->n--;
        c->reserved_ok = 1;
        return;
    }
    if (unsure && word_is(s, len, i, "case")) {
        *denied = 1; /* a case that Bash may or may not read as one: not followed */
        return;
    }
    if ((ok || unsure) && (word_is(s, len, i, "coproc") || word_is(s, len, i, "function")))
        c->unsure = 2;
    else if ((ok || unsure) && (word_is(s, len, i, "time") || (unsure && s[i] == '-')))
        c->unsure = 1; /* time, and its -p and -- */
    else if (unsure == 2)
        c->unsure = 1; /* coproc NAME, function NAME */
    for (size_t k = 0; (ok || unsure) && k < sizeof keep / sizeof keep[0]; k++)
        if (word_is(s, len, i, keep[k])) {
            c->reserved_ok = ok;
            c->unsure = c->unsure || unsure;
        }
}

/* The separator s[i] (; & | newline ( )) for the case statements in c, at parens: 1 if it is
 * a case's own (the ) or optional ( of a pattern, ;; ;& ;;&), taken whole (*i moved to its
 * last character); 0 if it separates as anywhere. */
static int case_separator(case_state *c, const char *s, size_t len, size_t *i, int parens,
                          int *denied)
{
    int top = c->n - 1;
    char ch = s[*i];
    c->reserved_ok = 1;
    c->unsure = 0;
    if (top < 0)
        return 0;
    if (c->state[top] == CASE_SUBJECT || (c->state[top] == CASE_IN && ch != '\n')) {
        *denied = 1; /* Bash refuses it: case followed by no word, or no "in" */
        return 0;
    }
    if (c->state[top] == CASE_PATTERN) {
        if (ch == ')' && parens == c->parens[top]) {
            c->state[top] = CASE_BODY;
            return 1;
        }
        if (ch == '(' && c->fresh) {
            c->fresh = 0;
            return 1;
        }
        if (ch == ';' || ch == '&')
            *denied = 1; /* ;; or & in a pattern list: Bash refuses it */
        c->fresh = ch == '\n' ? c->fresh : 0;
        return 0;
    }
    if (c->state[top] == CASE_BODY && ch == ';' && *i + 1 < len &&
        (s[*i + 1] == ';' || s[*i + 1] == '&')) { /* ;; ;& ;;& */
        *i += s[*i + 1] == ';' && *i + 2 < len && s[*i + 2] == '&' ? 2 : 1;
        c->state[top] = CASE_PATTERN;
        c->fresh = 1;
        return 1;
    }
    return 0;
}

/* Scans s from i: splits it into simple commands at ; & | newlines ( and ) outside quotes (not
 * at the & of >& <& &>) and emits each (mode SCAN_COMMANDS), and scans the commands of its
 * expansions. A # that starts a word comments out the rest of its line; a backslash-newline
 * joins two lines; only spaces and tabs are blanks; (( … )) is arithmetic. Stops at term (a ')'
 * of the same depth of parentheses: the end of a $( ) that called it) and returns its index, or
 * len. */
/* 1 if the } at s[i], a word's first character, is a word alone after a command's word (seg, the
 * command so far, n bytes), which zsh reads as the end of a { group, and bash, dash and ksh as
 * a word: zsh -c '{ git log } always { rm -rf x }' ran rm, the scanner read one command, git log
 * } always { rm -rf x }, and so did that line alone, which zsh runs on macOS (bash_ctx's zsh).
 * After fi, done, esac, ]], )) or }, it ends a group in all of them. */
static int brace_ends_group(const char *s, size_t len, size_t i, const char *seg, size_t n)
{
    static const char *const closers[] = {"fi", "done", "esac", "]]", "))", "}"};
    if (i + 1 < len && !strchr(" \t\n;&|()<>", s[i + 1]))
        return 0;
    n -= n && seg[n - 1] == ' ';
    size_t w = n;
    while (w && seg[w - 1] != ' ')
        w--;
    for (size_t k = 0; k < sizeof closers / sizeof closers[0]; k++)
        if (n - w == strlen(closers[k]) && !memcmp(seg + w, closers[k], n - w))
            return 0;
    return n > 0;
}

/* The reserved words that may come before a compound command, and time's -p. */
static const char *const reserved_lead[] = {"!",  "{",     "if",    "then", "else", "elif",
                                            "do", "while", "until", "time", "-p",   "coproc"};

/* How many bytes of the command so far, seg (n bytes, blanks made one), are reserved words that
 * may come before a compound command (if, then, !, time -p, coproc, …); *coproc: coproc is the
 * last of them (a NAME may follow). */
static size_t reserved_before(const char *seg, size_t n, int *coproc)
{
    /* coproc NAME before a compound command's word, as bash reads it: coproc x if [[ -n x ]]
     * then rm -rf x; fi ran rm under bash 5.2 past Bash(rm *), the scanner reading no [[ there */
    static const char *const compound[] = {"{", "if", "while", "until", "[[", "(("};
    size_t r = 0;
    for (int again = 1; again;) {
        again = 0;
        for (size_t k = 0; k < sizeof reserved_lead / sizeof reserved_lead[0] && r < n; k++) {
            size_t w = strlen(reserved_lead[k]);
            if (n - r >= w && !memcmp(seg + r, reserved_lead[k], w) &&
                (n - r == w || seg[r + w] == ' ')) {
                *coproc = !strcmp(reserved_lead[k], "coproc");
                r += w + (n - r > w);
                k = (size_t)-1; /* then ! (…): both */
            }
        }
        /* and function NAME so: function f if [[ -n x ]] then rm -rf x; fi; f ran rm */
        size_t fn = n - r > 9 && !memcmp(seg + r, "function ", 9) ? 9 : 0, name = 0;
        while ((*coproc || fn) && r + fn + name < n &&
               (fn ? seg[r + fn + name] != ' ' : !!strchr(NAME_CHARS, seg[r + fn + name])))
            name++;
        name += name ? fn : 0;
        for (size_t c = 0; name && r + name < n && seg[r + name] == ' ' &&
                           c < sizeof compound / sizeof compound[0];
             c++) {
            size_t w = strlen(compound[c]), at = r + name + 1;
            if (n - at >= w && !memcmp(seg + at, compound[c], w) &&
                (c == 5 || n - at == w || seg[at + w] == ' ')) {
                r = at, *coproc = 0, again = 1;
                break;
            }
        }
    }
    return r;
}

/* 1 if the } at s[i], not a word's first character but its last, ends a { group where zsh reads
 * it: the word so far (the last of seg, n bytes, as written) holds no { outside quotes but a
 * ${'s (zsh reads x} as x and }, and a{b} as a word: { git log x} always {rm -rf x} ran rm under
 * zsh 5.9, which Claude Code runs the line with on macOS). And 1 if the { at s[i] begins a
 * command's first word and is no word of its own ({rm -rf x} ran rm under zsh: it opens a
 * group); not a {NAME}> redirection. */
static int zsh_brace(const char *s, size_t len, size_t i, const char *seg, size_t n)
{
    int alone = i + 1 == len || strchr(" \t\n;&|()<>", s[i + 1]);
    if (s[i] == '{') {
        int coproc = 0;
        size_t name = i + 1 + strspn(s + i + 1, NAME_CHARS);
        if (name > i + 1 && name + 1 < len && s[name] == '}' && strchr("<>", s[name + 1]))
            return 0;
        size_t last = n - (n && seg[n - 1] == ' '); /* its last word first: no rescan of a */
        while (last && seg[last - 1] != ' ')        /* long line of them for each { */
            last--;
        return !alone && reserved_before(seg + last, n - last, &coproc) == n - last &&
               reserved_before(seg, n, &coproc) == n;
    }
    if (!alone)
        return 0;
    size_t w = n;
    while (w && seg[w - 1] != ' ')
        w--;
    char q = 0;
    for (const char *p = seg + w; p < seg + n; p++)
        if (quote_step(&p, seg + n, &q) && !q && *p == '{' && (p == seg + w || p[-1] != '$'))
            return 0;
    return 1;
}

/* 1 if the command so far, seg (n bytes, blanks made one), ends in an array's NAME=, NAME+= or
 * NAME[…]= where Bash and zsh read one, NAME=(…): among the assignments before a command's word,
 * or after declare, typeset, local, export, readonly (or zsh's integer, float) and their
 * options. Elsewhere zsh reads x=(…) as a glob (git log x=(#); rm -rf x ran rm under zsh 5.9:
 * the scanner took the # for a comment in an array), and bash refuses it. */
static int array_assigned(const char *seg, size_t n)
{
    static const char *const declares[] = {"declare",  "typeset", "local", "export",
                                           "readonly", "integer", "float"};
    int coproc = 0, first = 1, declare = 0;
    size_t r = reserved_before(seg, n, &coproc);
    const char *w = seg + r, *e = seg + n;
    while (w < e) {
        const char *p = w;
        char q = 0;
        while (p < e && (q || *p != ' ')) {
            quote_step(&p, e, &q);
            p++;
        }
        size_t name = 0, wn = (size_t)(p - w);
        while (name < wn && w[name] && strchr(NAME_CHARS, w[name]))
            name++;
        for (size_t k = 0; first && k < sizeof declares / sizeof declares[0]; k++)
            declare |= wn == strlen(declares[k]) && !memcmp(w, declares[k], wn);
        int assigns = name && name < wn && !(w[0] >= '0' && w[0] <= '9') &&
                      (w[name] == '=' || w[name] == '[' ||
                       (w[name] == '+' && name + 1 < wn && w[name + 1] == '='));
        if (p == e) /* the last word: the one before the ( */
            return assigns;
        if (!assigns && !declare)
            return 0;
        first = 0;
        w = p + 1;
    }
    return 0;
}

static size_t subscript_end(const char *s, size_t len, size_t i, int depth, int *split);

/* 1 if the [ at s[i], outside quotes, after the command so far, seg (n bytes), begins an index
 * that Bash reads to its ] as part of the word, blanks, # and operators in it too: after a name
 * that begins a word (Bash does so for a command's first word, which may be an assignment,
 * a[ #]=1), or at the start of a word in an array's ( ) (in_array), and it holds a blank, a # or
 * an operator, or does not close. The scanner would read a comment or a here-document there:
 * a[ #]; rm -rf x, and a[1<<E]=1 then rm -rf x and E, ran rm under bash 5.2. */
static int index_splits(const char *s, size_t len, size_t i, const char *seg, size_t n,
                        int word_start, int in_array)
{
    size_t name = 0;
    while (!word_start && name < n && seg[n - 1 - name] && strchr(NAME_CHARS, seg[n - 1 - name]))
        name++;
    int named = name && (name == n || seg[n - 1 - name] == ' ') &&
                !(seg[n - name] >= '0' && seg[n - name] <= '9');
    if (word_start ? !in_array : !named)
        return 0;
    int split = 0;
    return subscript_end(s, len, i, 0, &split) == len || split;
}

/* 1 if the command so far, seg (n bytes, blanks made one), is a [[ … ]] not closed yet; and
 * (operand) its last word is =~, ==, = or !=: a word that begins after it is a regular
 * expression or a pattern. */
static int cond_open(const char *seg, size_t n, int operand)
{
    static const char *const ops[] = {"=~", "==", "=", "!="};
    int coproc = 0;
    size_t r = reserved_before(seg, n, &coproc), w = n - (n && seg[n - 1] == ' ');
    size_t end = w;
    while (operand && w > r && seg[w - 1] != ' ')
        w--;
    if (n - r < 3 || memcmp(seg + r, "[[ ", 3))
        return 0;
    for (size_t k = 0; operand && w > r && k < sizeof ops / sizeof ops[0]; k++)
        if (end - w == strlen(ops[k]) && !memcmp(seg + w, ops[k], end - w))
            return 1;
    return !operand;
}

/* Where the operand of [[ … ]]'s =~, ==, = or != that begins at s[i], or the rest of a word in
 * [[ … ]] from a ( at s[i], ends (its last byte): Bash reads a regular expression as one word, a
 * | in it and a ( to its ), blanks, # and operators inside too, and zsh a pattern's ( … ) so, in
 * a word anywhere in [[ ]]: [[ x =~ ( #) ]]; rm -rf x ran rm under bash 5.2 and zsh 5.9, where
 * the scanner read a comment, and so did [[ x( #) == a ]]; rm -rf x under zsh, and [[ x =~
 * (<<E) ]], then rm -rf x and E, under bash, where it read a here-document (bash refuses a ( in
 * a word elsewhere in [[ ]]). The substitutions in it are scanned. One whose ( does not close is
 * noted in x as no pattern's. */
static size_t cond_word_end(bash_ctx *x, const char *s, size_t len, size_t i, int depth)
{
    int open = 0;
    size_t k = i;
    for (size_t last; k < len && (open || !strchr(" \t\n;&<>)", s[k])); k++) {
        if (word_unit_end(x, s, len, k, depth, &last))
            k = last;
        else
            open += s[k] == '(' ? 1 : s[k] == ')' ? -1 : 0;
    }
    if (open && !x->opaque)
        x->opaque = "a regular expression or pattern in [[ ]] whose ( does not close,";
    return k > i ? (k < len ? k : len) - 1 : i;
}

/* 1 if the ( at s[i], outside quotes, after the command so far, seg (n bytes, blanks made one),
 * is in a word or after one, which bash refuses (x(…), $(a)(…), echo (…)) and zsh reads as a
 * glob, whose qualifiers (e:…:) run code: zsh -c 'echo /(echo "x;rm -rf x;"c)' ran rm (e, then c
 * ends the code), the scanner split it into echo / and echo "x;rm -rf x;"c. Not the ( of a
 * subshell after reserved words (if (…), time (…), coproc NAME (…)), of an array's NAME=(
 * (array_assigned), of a function's NAME() or function NAME(), of NAME()(, or one in [[ ]]. */
static int paren_in_word(const char *s, size_t len, size_t i, const char *seg, size_t n)
{
    if (i > 0 && s[i - 1] == '(')
        return 0;
    if (i > 0 && s[i - 1] == ')') /* after a subshell or a pattern, (a)(b): split; $(a)(b) */
        return n > 0;
    for (size_t k = 0; k + 3 <= n; k++)
        if (!memcmp(seg + k, "[[ ", 3) && (k == 0 || seg[k - 1] == ' '))
            return 0;
    if (i > 0 && s[i - 1] == '=')
        return !array_assigned(seg, n);
    int coproc = 0;
    size_t r = reserved_before(seg, n, &coproc);
    seg += r, n -= r;
    if (!n || (coproc && !memchr(seg, ' ', n - (seg[n - 1] == ' ')))) /* coproc NAME (…) */
        return 0;
    const char *blank = memchr(seg, ' ', n);
    size_t words = blank && (size_t)(blank - seg) + 1 < n ? 2 : 1;
    if (words == 2 && (blank != seg + 8 || memcmp(seg, "function", 8) ||
                       memchr(blank + 1, ' ', n - 9 - (seg[n - 1] == ' '))))
        return 1;
    size_t j = i + 1; /* NAME(): a function, whose ( ) holds nothing */
    while (j < len && (s[j] == ' ' || s[j] == '\t'))
        j++;
    return j == len || s[j] != ')';
}

/* 1 if the command so far, seg (n bytes), is for NAME or select NAME, after which a do begins
 * the body (for x do rm -rf x; done ran rm under bash 5.2.15, with an argument, past Bash(rm *),
 * which saw one command, for x do rm -rf x). */
static int loop_head(const char *seg, size_t n)
{
    int coproc = 0;
    size_t r = reserved_before(seg, n, &coproc), w = 0;
    seg += r, n -= r;
    if (n >= 4 && !memcmp(seg, "for ", 4))
        w = 4;
    else if (n >= 7 && !memcmp(seg, "select ", 7))
        w = 7;
    size_t name = w ? strspn(seg + w, NAME_CHARS) : 0;
    return name && w + name + (seg[n - 1] == ' ') == n;
}

/* 1 if the word at s[i] is a reserved word that may follow a compound command's end without a
 * separator (if [[ x ]] then …, if { x; } then …, { …; fi }, for ((…)) { …; }). */
static int reserved_after(const char *s, size_t len, size_t i)
{
    static const char *const words[] = {"then", "do",   "else", "elif", "fi",
                                        "done", "esac", "}",    "{"};
    for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
        if (word_is(s, len, i, words[k]))
            return 1;
    return 0;
}

/* A word begins at s[i] after the command so far, seg (n bytes): what closed (bash_scan) is
 * after it. After a command's [[ … ]] or (( … )), or a }, fi, done or esac that ends a compound
 * command, Bash takes redirections and reserved words: if [[ x ]] then rm -rf x, if { x; } then
 * rm -rf x and while [[ x ]] do rm -rf x ran rm, which the scanner read as words of [[ or } (and
 * bash_scan now splits the line there). Any other word Bash refuses, and zsh runs, as if [[ … ]]
 * then it: zsh -c 'if [[ x ]] rm -rf x' and if (( 1 )) rm -rf x ran rm; it is noted in x as no
 * pattern's. */
static int after_closed(bash_ctx *x, const char *s, size_t len, size_t i, const char *seg, size_t n,
                        int closed)
{
    int bare = 0, coproc = 0;
    size_t e = i + strcspn(s + i, " \t\n;|()");
    if (closed == 2) /* the target of > file */
        return 1;
    if (closed == 1 && word_redirect(s + i, s + (e < len ? e : len), &bare))
        return bare ? 2 : 1;
    if (closed == 1 && !x->opaque)
        x->opaque = "a word after a command's [[ … ]], (( … )), } or fi, which bash refuses and "
                    "zsh runs (if [[ x ]] rm -rf x),";
    size_t r = reserved_before(seg, n, &coproc);
    if (r == n && (word_is(s, len, i, "}") || word_is(s, len, i, "fi") ||
                   word_is(s, len, i, "done") || word_is(s, len, i, "esac")))
        return 1;
    return i + 1 < len && s[i] == ']' && s[i + 1] == ']' &&
           (i + 2 == len || strchr(" \t\n;&|()<>", s[i + 2])) && n - r >= 3 &&
           !memcmp(seg + r, "[[ ", 3);
}

/* 1 if s holds more than RESERVED_RUN_MAX (64, as the reason says) reserved words that may come
 * before a command in a row (reserved_before's: !, if, time, …), with only blanks between them:
 * reserved_before reads them again at each word, and 32,000 of them (! ! … git log, 64 KB) took 3 s
 * to check. No command line needs so many. */
#define RESERVED_RUN_MAX 64
#define COPROC_NAME_MAX 256 /* a longer word after coproc: denied */

static int reserved_run_long(const char *s, size_t len)
{
    size_t run = 0;
    int coproc = 0; /* the word before was coproc */
    for (size_t i = 0; i < len;) {
        if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
            (s[i] == '\\' && i + 1 < len && s[i + 1] == '\n')) {
            i += s[i] == '\\' ? 2 : 1;
            continue;
        }
        size_t e = i;
        while (e < len && s[e] != ' ' && s[e] != '\t' && s[e] != '\n' && s[e] != '\\')
            e++;
        int reserved = 0;
        for (size_t k = 0; k < sizeof reserved_lead / sizeof reserved_lead[0] && !reserved; k++)
            reserved = e - i == strlen(reserved_lead[k]) && !memcmp(s + i, reserved_lead[k], e - i);
        /* and coproc's NAME (and function's), which reserved_before reads past (coproc x if …), of
         * at most COPROC_NAME_MAX bytes: it reads it at each word */
        if (!reserved && coproc && e - i > COPROC_NAME_MAX)
            return 1;
        int fn = e - i == 8 && !memcmp(s + i, "function", 8);
        int name = !reserved && coproc; /* counted as 3: reserved_before reads more for it */
        reserved |= coproc || fn;
        coproc = (e - i == 6 && !memcmp(s + i, "coproc", 6)) || fn;
        run = reserved ? run + 1 + 2 * (size_t)name : 0;
        if (run > RESERVED_RUN_MAX)
            return 1;
        i = e > i ? e : i + 1;
    }
    return 0;
}

/* 1 if the redirection at s[i] (<, >, &>; not <( or >(, which are part of a word) is glued to
 * the word before it in seg, a word of its own as Bash reads it: rm>/dev/null -rf x and
 * rm<<<x -rf y ran rm under bash 5.2 and zsh 5.9 past Bash(rm *), the scanner taking
 * rm>/dev/null for the program (null). Not where that word is a number or {NAME}, the file
 * descriptor of the redirection (2>&1, {fd}>x), nor within an operator (>>, <>, >&, &>). */
static int redirect_glued(const char *s, size_t len, size_t i, const char *seg, size_t n)
{
    char next = i + 1 < len ? s[i + 1] : '\0';
    if (!n || strchr(" <>&", seg[n - 1]) ||
        !((s[i] == '<' || s[i] == '>') ? next != '(' : s[i] == '&' && next == '>'))
        return 0;
    size_t w = n;
    while (w && seg[w - 1] != ' ')
        w--;
    size_t digits = 0, name = n - w > 2 && seg[w] == '{'; /* seg ends at n, no NUL */
    while (w + digits < n && seg[w + digits] >= '0' && seg[w + digits] <= '9')
        digits++;
    for (size_t k = w + 1; name && k < n - 1; k++)
        name = !!strchr(NAME_CHARS, seg[k]);
    return w + digits != n && !(name && seg[n - 1] == '}');
}

static size_t bash_scan(bash_ctx *x, const char *s, size_t len, size_t i, char term, int mode,
                        int depth)
{
    if (depth == 0 && mode == SCAN_COMMANDS && reserved_run_long(s + i, len - i)) {
        x->denied = 1;
        return len;
    }
    /* a blank more before each glued redirection; past the end (an empty ${…}): nothing */
    char *seg = malloc(2 * (i < len ? len - i : 0) + 1);
    if (!seg) {
        x->out->oom = 1;
        return len;
    }
    size_t n = 0, end;
    int word_start = 1, parens = 0;
    /* an array's NAME=( opened at parens level array; array_end is just past its ) */
    int array = 0;
    size_t array_end = 0;
    int closed = 0; /* after a command's [[ … ]] or (( … )): 1, and 2 before a redirection's
                     * target (zsh runs a word there as a command: if [[ x ]] rm -rf x) */
    case_state cases = {.reserved_ok = 1};
    for (; i < len && !x->denied; i++) {
        char ch = s[i];
        /* an operator in an array's ( ), which bash refuses there: it discards the rest of the
         * line, here-documents begun on it too, and runs the next lines (x=(a <<E), then rm -rf
         * x and E, ran rm under bash 5.2: the scanner had read them as the body) */
        if (mode == SCAN_COMMANDS && array && parens == array && !x->opaque && ch &&
            (strchr(";&|<>(", ch) || (strchr("@*+?!", ch) && i + 1 < len && s[i + 1] == '(')) &&
            !(strchr("<>", ch) && i + 1 < len && s[i + 1] == '('))
            x->opaque = "an operator in an array's ( ), which bash refuses, discarding the rest "
                        "of its line, here-documents begun on it too (x=(a <<E)),";
        if (mode == SCAN_COMMANDS && ch == '[' && !x->opaque &&
            index_splits(s, len, i, seg, n, word_start, array && parens == array))
            x->opaque = "an index that Bash reads to its ] as one word, with a blank, a # or an "
                        "operator in it (a[ #]; rm -rf x),";
        if (mode == SCAN_COMMANDS && !strchr(" \t\n;&<>)", ch) &&
            !(strchr("@*+?!", ch) && i + 1 < len && s[i + 1] == '(') && /* extglob_end's */
            (word_start ? cond_open(seg, n, 1) : ch == '(' && cond_open(seg, n, 0))) {
            /* [[ x =~ ( #) ]], [[ x( #) == a ]]: one word, as Bash and zsh read it */
            size_t last = cond_word_end(x, s, len, i, depth);
            seg_add(seg, &n, s, i, last);
            i = last;
            word_start = 0;
            continue;
        }
        int in_case = mode == SCAN_COMMANDS && cases.n;
        if (in_case && strchr(";&|\n()", ch) &&
            case_separator(&cases, s, len, &i, parens, &x->denied)) {
            bash_emit(x, seg, n); /* a pattern's ), ;; … */
            n = 0;
            word_start = 1;
            continue;
        }
        if (ch == term && parens == 0)
            break;
        if (ch == '\\' && i + 1 < len && s[i + 1] == '\n') { /* a line continued */
            i++;
            continue;
        }
        if (mode == SCAN_COMMANDS && ch == '#' && word_start && i && i == array_end &&
            !x->opaque) /* x=(a)#; rm -rf x ran rm under bash 5.2 */
            x->opaque = "a # right after an array's ), which bash reads in a word and zsh as a "
                        "comment (x=(a)#; rm -rf x),";
        if (mode == SCAN_COMMANDS && ch == '#' && word_start) { /* to the end of the line */
            while (i + 1 < len && s[i + 1] != '\n')
                i++;
            continue;
        }
        if (ch == '(' && i + 1 < len && s[i + 1] == '(' && bracket_unsure(s, len, i))
            x->denied = 1;
        if (ch == '(' && i + 1 < len && s[i + 1] == '(' && arithmetic_at(s, len, i, &end)) {
            if (in_case && cases.state[cases.n - 1] == CASE_PATTERN)
                x->denied = 1; /* (( in a pattern list: not followed */
            cases.reserved_ok = cases.unsure = 0;
            int coproc = 0; /* (( … )) a command's, or for's: for ((…)) do rm -rf x ran rm */
            size_t r = reserved_before(seg, n, &coproc);
            closed = r == n || (n - r == 4 && !memcmp(seg + r, "for ", 4));
            bash_scan(x, s, end, i + 2, '\0', SCAN_EXPANSIONS, depth + 1); /* (( … )) */
            seg_add(seg, &n, s, i, end);
            i = end;
            word_start = 0;
            continue;
        }
        if (ch == '(' && mode == SCAN_COMMANDS && paren_in_word(s, len, i, seg, n) && !x->opaque)
            x->opaque = "a ( in a word or after one (zsh runs a glob qualifier's code, x(e:…:)),";
        if (strchr(";&|\n()", ch) && !(ch == '&' && i + 1 < len && s[i + 1] == '>')) {
            if (ch == '(' && i && s[i - 1] == '=' && array_assigned(seg, n))
                array = parens + 1;
            else if (ch == ')' && parens && parens == array)
                array = 0, array_end = i + 1;
            parens += ch == '(' ? 1 : ch == ')' && parens ? -1 : 0;
            closed = 0;
            cases.reserved_ok = 1;
            cases.unsure = 0;
            if (mode == SCAN_COMMANDS)
                bash_emit(x, seg, n);
            n = 0;
            word_start = 1;
            if (ch == '\n' && x->nh && mode == SCAN_COMMANDS)
                i = heredoc_bodies(x, s, len, i, depth);
            /* zsh's &! runs in the background, disowned: zsh -c 'git log &!rm -rf x' ran rm,
             * and so did git log &!rm -rf x, the line zsh runs on macOS, which the scanner
             * read as a command named !rm (as bash does, which runs no rm) */
            if (ch == '&' && x->zsh && i + 1 < len && s[i + 1] == '!')
                i++;
            continue;
        }
        if (ch == ' ' || ch == '\t') {
            if (n && seg[n - 1] != ' ')
                seg[n++] = ' ';
            word_start = 1;
            continue;
        }
        if (mode == SCAN_COMMANDS && word_start && ch == '}' && x->zsh && !x->opaque &&
            brace_ends_group(s, len, i, seg, n))
            x->opaque = "a } after a command's word, in a text zsh may read (it ends a group "
                        "there: { git log } always { rm -rf x }),";
        if (mode == SCAN_COMMANDS && x->zsh && !x->opaque &&
            ((ch == '}' && !word_start) || (ch == '{' && word_start)) &&
            zsh_brace(s, len, i, seg, n))
            x->opaque = "a } that ends a word, or a { that begins a command's, in a text zsh may "
                        "read (zsh reads a group there: { git log x} always {rm -rf x}),";
        if (mode == SCAN_COMMANDS && word_start &&
            ((closed == 1 && reserved_after(s, len, i)) ||
             (word_is(s, len, i, "do") && loop_head(seg, n)))) {
            bash_emit(x, seg, n); /* if [[ x ]] then rm -rf x, for x do rm -rf x: bash runs rm */
            n = 0;
            closed = 0;
            cases.reserved_ok = 1;
        }
        if (mode == SCAN_COMMANDS && word_start)
            closed = after_closed(x, s, len, i, seg, n, closed);
        if (mode == SCAN_COMMANDS && word_start)
            case_word(&cases, s, len, i, parens, &x->denied);
        if (mode == SCAN_COMMANDS && !word_start && redirect_glued(s, len, i, seg, n))
            seg[n++] = ' ';
        size_t last = word_part(x, s, len, i, mode, depth);
        seg_add(seg, &n, s, i, last);
        i = last;
        word_start = 0;
    }
    if (mode == SCAN_COMMANDS && !x->denied)
        bash_emit(x, seg, n);
    free(seg);
    return i;
}

/* What the scanner could not follow in a line: denied (too deep, too many here-documents, …),
 * an extended glob pattern (extglob_end), and what no pattern (opaque) or no allow list
 * (opaque_allow) can follow in a text Bash reads again (reread_text). */
typedef struct {
    int denied, extglob;
    const char *opaque, *opaque_allow;
} bash_unsure;

/* The simple commands of a Bash tool call's command line (bash_scan), each as a pair of
 * "Bash(COMMAND)" (bash_emit: as written, cleaned up), NUL-separated in a malloc'd buffer:
 * *count pairs. A role's Bash(…) patterns see each one as well as the whole line: a deny pattern
 * for "git push*" must stop "cd repo && git push" too. NULL if out of memory; *u says what in
 * the line the scanner could not follow (bash_unsure). */
static char *bash_simple_commands(const char *cmd, size_t len, size_t *count, bash_unsure *u)
{
    ab__sb out = {0};
    bash_ctx *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    size_t reread_bytes_left = REREAD_BYTES_MAX, brace_work = 0;
    x->out = &out;
    x->brace_work = &brace_work;
    x->count = count;
    x->reread_bytes_left = &reread_bytes_left;
    x->zsh = 1; /* Claude Code runs the line with the user's shell: zsh on macOS, bash or zsh */
    *count = 0;
    if (memchr(cmd, SEG_BLANK, len)) /* the scanner's own mark of a blank (seg_add) */
        x->denied = 1;
    else
        bash_scan(x, cmd, len, 0, '\0', SCAN_COMMANDS, 0);
    u->denied = x->denied;
    u->extglob = x->extglob;
    u->opaque = x->opaque;
    u->opaque_allow = x->opaque_allow;
    /* zsh's $~x on the line, which zsh runs on macOS: for x in "*(e:rm -rf x:)"; do echo $~x;
     * done ran rm under zsh 5.9 past Bash(echo *) */
    if (!u->opaque_allow && zsh_glob_subst(cmd, len))
        u->opaque_allow = ZSH_GLOB_SUBST_OPAQUE;
    free(x);
    if (out.oom || !out.buf) {
        free(out.buf);
        return out.oom ? NULL : calloc(1, 1);
    }
    return out.buf;
}

/* Where the [ or { at s[i] closes, as Bash skips an index (or a ${…} in it): past quotes,
 * backquotes, $( ) and ${…} inside, whose ] or } ends nothing (${x[$(: ])0]=…} assigns: a
 * count of brackets alone had the index end inside $( )). len if it does not close, or is
 * nested deeper than BASH_DEPTH_MAX. *split (if split is not NULL): 1 if it holds, outside
 * those, a blank, a # or an operator, where the scanner would end a word or a command. */
static size_t subscript_end(const char *s, size_t len, size_t i, int depth, int *split)
{
    char open = s[i], close = open == '[' ? ']' : '}';
    int n = 0;
    for (; i < len && depth < BASH_DEPTH_MAX; i++)
        if (s[i] == '\\')
            i++;
        else if (s[i] == '\'')
            i = end_single(s, len, i, 0);
        else if (s[i] == '"')
            for (i++; i < len && s[i] != '"'; i++)
                i += s[i] == '\\';
        else if (s[i] == '`')
            for (i++; i < len && s[i] != '`'; i++)
                i += s[i] == '\\';
        else if (s[i] == '$' && i + 1 < len && s[i + 1] == '(')
            i = bracket_end(s, len, i + 1);
        else if (s[i] == '$' && i + 1 < len && s[i + 1] == '{')
            i = subscript_end(s, len, i + 1, depth + 1, NULL);
        else if (s[i] == open)
            n++;
        else if (s[i] == close && --n == 0)
            return i;
        else if (split && strchr(" \t\n#;&|()<>", s[i]))
            *split = 1;
    return len;
}

/* 1 if s[i…] (len bytes in all) spells name, a whole one, with only quotes and backslashes
 * between its letters, which Bash takes out: printf -v BASH_"CMDS[git]" %s /bin/rm; git x ran
 * rm under bash 5.2, and read P\S4 set PS4. Each match begins at the name's first letter and
 * looks no further than the quotes after each letter: linear. */
static int name_spelled(const char *s, size_t len, size_t i, const char *name)
{
    if (s[i] != name[0] || (i && strchr(NAME_CHARS, s[i - 1])))
        return 0;
    for (const char *c = name; *c; c++, i++) {
        while (c > name && i < len && strchr("'\"\\", s[i]))
            i++;
        if (i >= len || s[i] != *c)
            return 0;
    }
    /* a name that ends in _ is a prefix: BASH_FUNC_ is BASH_FUNC_git%% too */
    return name[strlen(name) - 1] == '_' || i >= len || !s[i] || !strchr(NAME_CHARS, s[i]);
}

/* What in a command line no pattern can follow, or NULL: bash's own tables of commands and
 * aliases (git ${BASH_CMDS[git]=/usr/bin/env} rm -rf x runs rm, not git), a parameter
 * expansion that assigns (${x=…}, ${x:=…}: the value is run later in the line by arithmetic, an
 * index or ${x@P}: git ${x=a[\$(rm)]}$[x] runs rm), and prompt expansion (${x@P}, and PS4, the
 * prompt of set -x). */
#define BASH_BRACKETS_MAX 64 /* indexes or arithmetic looked into, at most; more: refused */

static const char *bash_opaque(const char *s, size_t len)
{
    int brackets = 0;
    for (size_t i = 0; i < len; i++) {
        if (name_spelled(s, len, i, "BASH_CMDS") || name_spelled(s, len, i, "BASH_ALIASES"))
            return "bash's table of commands or aliases";
        /* bash's PS4, which set -x expands as a prompt before each command it traces, running
         * what it holds: PS4='$(rm -rf x)'; set -x; git log ran rm under bash 5.2 */
        if (name_spelled(s, len, i, "PS4"))
            return "bash's PS4, which set -x expands as a prompt (PS4='$(…)'),";
        /* and zsh's prompts that a shell without a terminal expands, running their $( ) where
         * prompt_subst is on, as in sh and ksh emulation: set -x's PROMPT4 and select's PS3
         * (PROMPT3): (exec -a sh zsh -c 'PS3="\$(rm -rf x)"; select x in a; do break; done')
         * ran rm under bash 5.2 and zsh 5.9 past Bash(rm *) */
        if (name_spelled(s, len, i, "PROMPT4") || name_spelled(s, len, i, "PROMPT3") ||
            name_spelled(s, len, i, "PS3"))
            return "zsh's PS3, PROMPT3 or PROMPT4, which select and set -x expand as prompts,";
        /* a file bash reads before a command string or a script, and a function it is given in
         * its environment: BASH_ENV=/dev/stdin bash -c true <<<'rm -rf x' and env
         * 'BASH_FUNC_git%%=() { rm -rf x; }' bash -c git ran rm under bash 5.2 */
        if (name_spelled(s, len, i, "BASH_ENV"))
            return "bash's BASH_ENV, a file it reads before a command string,";
        if (name_spelled(s, len, i, "BASH_FUNC_"))
            return "a function bash is given in its environment, BASH_FUNC_NAME%%=…,";
        if (s[i] == '@' && i + 2 < len && s[i + 1] == 'P' && s[i + 2] == '}')
            return "a prompt expansion, ${…@P},";
        if (s[i] == '>' && i + 1 < len && s[i + 1] == '&') {
            /* bash expands the word after >& twice: what its first pass leaves ($ from \$, "\$",
             * $'\x24', $_) is run by the second, git >&"\$(rm)" runs rm */
            size_t w = i + 2;
            while (w < len && (s[w] == ' ' || s[w] == '\t'))
                w++;
            size_t e = w + strcspn(s + w, " \t\n;&|()<>");
            if (e > len)
                e = len;
            /* but a number or - and a ' that ends the word: the close of a text in quotes
             * (bash -c 'npm test 2>&1', trap 'echo x >&2' EXIT), or, where it is a redirection,
             * a quote whose text the first pass keeps as it is, and which word_part scans */
            size_t d = strspn(s + w, "0123456789");
            if (e > w + 1 && s[e - 1] == '\'' && (d == e - w - 1 || (s[w] == '-' && e == w + 2)))
                e = w;
            for (size_t k = w; k < e; k++)
                if (strchr("$`\\\"'", s[k]))
                    return "a word after >& that bash expands twice,";
        }
        if (s[i] != '$' || i + 1 >= len || s[i + 1] != '{')
            continue;
        size_t j = i + 2 + strspn(s + i + 2, "!#");
        j += strspn(s + j, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
        if (j < len && s[j] == '[') {           /* an element: to its ] (${b[x[1]]=…}) */
            if (++brackets > BASH_BRACKETS_MAX) /* each looks to its end: not quadratic */
                return "more than 64 indexes,";
            j = subscript_end(s, len, j, 0, NULL) + 1;
        }
        j += j < len && s[j] == ':';
        if (j < len && s[j] == '=')
            return "an expansion that assigns, ${x=…},";
    }
    return NULL;
}

/* 1 if [from, to) of s (arithmetic, an index or an offset, to where a count of brackets has it
 * end) holds a letter or _: a variable's name; or a substitution (`…`, $( ), $[ ], ${…} but
 * ${#} ${?} ${$}) or $'…': what they give is arithmetic too, and may be a name, and they hide
 * where Bash ends it (${x[${@+]}_]} and ${x[$(#]<newline>…)_]} index with _, $'\0\']' is
 * empty); or a special parameter that may hold letters, $- $0 … $9 $@ $*: what it gives is a
 * name too (printf -v hBc 'a[\x24(rm -rf x)]'; git log $(($-)) runs rm: $- is hBc). */
static int names_in(const char *s, size_t from, size_t to)
{
    for (size_t k = from; k < to; k++) {
        if (s[k] == '_' || (s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z') ||
            s[k] == '`')
            return 1;
        if (s[k] == '$' && k + 1 < to && s[k + 1] && strchr("([\'-@*0123456789", s[k + 1]))
            return 1;
        if (s[k] == '$' && k + 1 < to && s[k + 1] == '{' &&
            !(k + 3 < to && strchr("#?$", s[k + 2]) && s[k + 3] == '}'))
            return 1;
    }
    return 0;
}

/* 1 if the } at s[i], before a < or >, is no {NAME}> (a redirection that assigns the file
 * descriptor to NAME, evaluating an index in it: {a[_]}>x runs what $_ names): a } standing
 * alone ({ …; }>x), or the end of ${NAME} standing alone (git log ${x}>out). Anything else
 * may be one, as far as a look back can tell ({a[$(…) …]}>x holds blanks). */
static int redirect_after_brace_ok(const char *s, size_t i)
{
    if (i == 0 || strchr(" \t\n;&|", s[i - 1]))
        return 1;
    size_t k = i;
    while (k > 0 && (s[k - 1] == '_' || (s[k - 1] >= 'a' && s[k - 1] <= 'z') ||
                     (s[k - 1] >= 'A' && s[k - 1] <= 'Z') || (s[k - 1] >= '0' && s[k - 1] <= '9')))
        k--;
    return k >= 2 && k < i && s[k - 1] == '{' && s[k - 2] == '$' &&
           (k == 2 || strchr(" \t\n;&|", s[k - 3]));
}

/* What an allow list cannot follow either, or NULL. Arithmetic evaluates a variable's value as
 * an expression, and an index in it runs the command substitutions it holds: git log
 * 'a[$(rm -rf x)]'; git log $((_)) runs rm ($_ is the last word of the command before). So
 * arithmetic ($((…)), ((…)), $[…]), an index (${x[…]}), an offset (${x:…}) that names a
 * variable, and indirection (${!x}), are refused under an allow list; so is a backslash-newline
 * that does not follow a blank (one inside a word or token: "$\<newline>(rm)"), a {NAME}>
 * redirection, and a non-ASCII byte that a multibyte locale may join to a \ ` < ] or }. */
static const char *bash_opaque_allow(const char *s, size_t len)
{
    int brackets = 0;
    for (size_t i = 0; i < len; i++) {
        /* in a multibyte locale (GBK, BIG5, Shift_JIS, JOHAB) a byte of 0x80 or more may begin
         * a character whose second byte is an ASCII one: Bash then reads no escape, backquote,
         * here-document or close there: git log €\; rm -rf x runs rm under LC_ALL=zh_CN.GBK
         * (€ is e2 82 ac; GBK reads e2 82, then ac \ as one character) */
        if ((unsigned char)s[i] >= 0x80 && i + 1 < len && s[i + 1] && strchr("\\`<]}", s[i + 1]))
            return "a non-ASCII byte before \\, `, <, ] or } (one character to Bash in a "
                   "multibyte locale),";
        if (s[i] == '\\' && i + 1 < len && s[i + 1] == '\n' && i > 0 && s[i - 1] != ' ' &&
            s[i - 1] != '\t')
            return "a backslash-newline inside a word,";
        if (s[i] == '}' && i + 1 < len && (s[i + 1] == '<' || s[i + 1] == '>') &&
            !redirect_after_brace_ok(s, i))
            return "a redirection that assigns a variable, {x}>…,";
        size_t open = (s[i] == '$' && i + 2 < len && s[i + 1] == '(' && s[i + 2] == '(') ? i + 1
                      : (s[i] == '(' && i + 1 < len && s[i + 1] == '(')                  ? i
                      : (s[i] == '$' && i + 1 < len && s[i + 1] == '[')                  ? i + 1
                                                                                         : len;
        if (open < len && ++brackets > BASH_BRACKETS_MAX)
            return "more than 64 arithmetic expansions or indexes,";
        if (open < len && names_in(s, open, bracket_end(s, len, open)))
            return "arithmetic on a variable,";
        if (s[i] != '$' || i + 1 >= len || s[i + 1] != '{')
            continue;
        size_t j = i + 2;
        if (j < len && s[j] == '!')
            return "an indirect expansion, ${!…},";
        j += j < len && s[j] == '#';
        j += j < len && strchr("@*?-$", s[j]) && s[j] /* special parameters: ${?:_} */
                 ? 1
                 : strspn(s + j, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
        if (j < len && s[j] == '[') {
            if (++brackets > BASH_BRACKETS_MAX)
                return "more than 64 arithmetic expansions or indexes,";
            size_t close = bracket_end(s, len, j);
            if (names_in(s, j + 1, close) &&
                !(j + 2 < len && strchr("@*", s[j + 1]) && s[j + 2] == ']'))
                return "an index that names a variable, ${x[…]},";
            j = close + 1; /* then an offset may follow: ${PWD[0]:_} */
        }
        if (j + 1 < len && s[j] == ':' && !strchr("-=+?", s[j + 1])) {
            if (++brackets > BASH_BRACKETS_MAX)
                return "more than 64 arithmetic expansions or indexes,";
            size_t k = j + 1; /* to the } that closes it, past ${…} nested in it: ${x:${#}+_} */
            for (int depth = 1; k < len; k++) {
                depth += s[k] == '{' ? 1 : s[k] == '}' ? -1 : 0;
                if (!depth)
                    break;
            }
            if (names_in(s, j + 1, k))
                return "an offset that names a variable, ${x:…},";
        }
    }
    return NULL;
}

/* A text of a command that Bash reads again (reread: eval's words, trap's action, …), n bytes
 * NUL-terminated: scanned as a line of its own in mode (SCAN_COMMANDS, or SCAN_EXPANSIONS for
 * words Bash only expands), its commands emitted after the command's; what in it no pattern, or
 * no allow list, can follow is noted in x as the line's own would be (eval git $'\x24{x=…}' is
 * ${x=…} to Bash). Nested too deep, or more text than REREAD_BYTES_MAX in all: denied. posix: a
 * shell other than bash reads it (sh -c's); so does it a text read again in it (eval's, trap's:
 * sh -c "eval 'git log &''>&2 rm -rf x'" ran rm under dash, which read eval's &> as & and >).
 * zsh: zsh may read it (bash_ctx's zsh). */
static void reread_text(bash_ctx *x, const char *text, size_t n, int mode, int posix, int zsh)
{
    if (x->reread >= REREAD_DEPTH_MAX || n > *x->reread_bytes_left) {
        x->denied = 1;
        return;
    }
    *x->reread_bytes_left -= n;
    bash_ctx *y = calloc(1, sizeof *y);
    if (!y) {
        x->out->oom = 1;
        return;
    }
    y->out = x->out;
    y->count = x->count;
    y->reread = x->reread + 1;
    y->reread_bytes_left = x->reread_bytes_left;
    y->brace_work = x->brace_work;
    y->posix = x->posix || posix;
    y->zsh = zsh;
    bash_scan(y, text, n, 0, '\0', mode, 0);
    x->denied |= y->denied;
    x->extglob |= y->extglob;
    const char *opaque = y->opaque ? y->opaque : bash_opaque(text, n);
    const char *opaque_allow = y->opaque_allow ? y->opaque_allow : bash_opaque_allow(text, n);
    x->opaque = x->opaque ? x->opaque : opaque;
    x->opaque_allow = x->opaque_allow ? x->opaque_allow : opaque_allow;
    free(y);
}

/* 1 if the name u (n bytes) is one of zsh's own in lower case, tied to one of the environment's
 * or to what a name runs: path is PATH (for path in /tmp/evil; do git log; done ran
 * /tmp/evil/git under zsh 5.9, which Claude Code runs the line with on macOS, past Bash(git *)),
 * fpath where functions load from, module_path where modules do, cdpath, manpath, mailpath. */
static int zsh_tied(const char *u, size_t n)
{
    static const char *const names[] = {"path",   "fpath",   "module_path",
                                        "cdpath", "manpath", "mailpath"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (n == strlen(names[k]) && !memcmp(u, names[k], n))
            return 1;
    return 0;
}

/* 1 if u (unquoted) is a plain variable name, which holds no index, and in lower case: Bash's
 * own variables are in capitals, some of them integers that evaluate what they are given as
 * arithmetic (printf -v OPTIND 'a[\x24(rm -rf x)]' runs rm), and so are the names of the
 * environment the programs run read (PATH: printf -v PATH %s /tmp/evil; git log runs another
 * git; and npm's, in lower case too: npm_config_script_shell names the shell npm test runs its
 * script with). */
static int plain_name(const char *u)
{
    size_t n = strspn(u, "abcdefghijklmnopqrstuvwxyz0123456789_");
    return n && !u[n] && !(u[0] >= '0' && u[0] <= '9') && strncmp(u, "npm_", 4) && !zsh_tied(u, n);
}

/* 1 if u holds a capital letter, or begins with npm_ (u: an argument of a builtin that
 * assigns, see plain_name): npm reads its settings from npm_config_* in any case, and
 * export npm_config_script_shell=/tmp/evil/sh; npm test ran /tmp/evil/sh. */
static int capital_in(const char *u)
{
    return strpbrk(u, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != NULL || !strncmp(u, "npm_", 4) ||
           zsh_tied(u, strcspn(u, "="));
}

/* Bash's builtins that take a variable's name and evaluate an index in it, which runs the
 * substitutions it holds: printf -v 'a[$(rm -rf x)]' x, read, declare, unset, test -v and
 * [[ -v run rm, as does test "$_" 'a[…]' after git log -v ($_ is -v). For a command cmd (as
 * written) that an allow list let through, what it names that no pattern can follow, or NULL:
 * an argument with [, $ or ` (in test and [, one with $ or ` or a -v; in printf, an option
 * that may be -v, or -v with more than a plain name), mapfile -C (a callback), and [[ -v or
 * an arithmetic test, and let, on names. And a name in capitals given to one that assigns
 * (read OPTIND, printf -v PATH; and any argument of theirs with a capital in it, to be sure),
 * or declare -i and -n (and typeset, local, export, readonly): see plain_name. And a word of
 * theirs that ends the command in = (NAME=, all that is left of NAME=(…), an array). */
/* 1 if the word [w, e) is one word after expansion, whatever the values: no glob or brace, no
 * backquote, and each $ in double quotes, but $?, $# and $$ (digits), none that splits or may
 * vanish there ("$@", "${x[@]}", zsh's "$=x", "$^x", "${(f)x}"), and a $(…) or ${…} in them
 * with nothing in it that quotes, nests or ends anything early (where it ends is then plain:
 * "$(uname)", "${CI:-}") */
static int word_one(const char *w, const char *e)
{
    char q = 0;
    for (const char *p = w; p < e; p++) {
        if (!quote_step(&p, e, &q) || q == '\'' || q == 'a')
            continue;
        if (*p == '`' || (!q && strchr("*?[{", *p)))
            return 0; /* a glob or a brace: other words */
        if (*p != '$' || p + 1 >= e)
            continue;
        if (!q && strchr("?#$", p[1])) {
            p++;
            continue;
        }
        if (!q || strchr("=^@", p[1]))
            return 0;
        if (p[1] != '(' && p[1] != '{')
            continue; /* "$x", "$1", "$*": one word */
        const char *end = p + 2 +
                          strspn(p + 2, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwx"
                                        "yz0123456789_ -./:=+,%");
        if (end >= e || *end != (p[1] == '(' ? ')' : '}') || (p[1] == '{' && strchr("=^(@!", p[2])))
            return 0;
        p = end;
    }
    return 1;
}

/* test's word [w, w + n) as written (no $ in it), its quotes out ("-v" is -v): *binary, 1 if it
 * is a binary operator; *unary, 1 if it is anything but -v and -R, the operators that make test
 * evaluate a name's index (test -v 'a[$(rm -rf x)]' runs rm) */
static void test_word(const char *w, size_t n, int *binary, int *unary)
{
    static const char *const binaries[] = {"=",   "==",  "!=",  "<",   ">",   "-eq", "-ne", "-lt",
                                           "-le", "-gt", "-ge", "-nt", "-ot", "-ef", "-a",  "-o"};
    *binary = *unary = 0;
    char *u = memchr(w, '$', n) ? NULL : malloc(n + 1);
    if (!u)
        return;
    word_unquoted(w, w + n, u);
    *unary = strcmp(u, "-v") && strcmp(u, "-R");
    for (size_t k = 0; k < sizeof binaries / sizeof binaries[0]; k++)
        *binary |= !strcmp(u, binaries[k]);
    free(u);
}

/* 1 if test's or ['s arguments (from w on; ['s last ]) are so few that what they mean is fixed
 * by how they are written, as POSIX, Bash and zsh read up to 4 of them: one; two whose first is
 * written out and is not -v or -R (test -n "$CI", [ -f "$f" ]); three whose second is a binary
 * operator written out ([ "$a" = "$b" ], [ $? -eq 0 ]: test's -eq compares digits, it evaluates
 * nothing), or ! and two so ([ ! -e "$f" ]); four, ! and three so. With each expansion one word
 * (word_one), no value of it can be the -v or -R that makes test evaluate a name's index.
 * Redirections are no arguments. */
static int test_fixed(const char *w, int bracket)
{
    const char *words[5], *e;
    size_t lens[5];
    int count = 0, target = 0, bare = 0, binary, unary;
    for (; *w; w = *e ? e + 1 : e) {
        e = word_end(w);
        if (target || word_redirect(w, e, &bare)) { /* 2> file: the next word is its target */
            target = !target && bare;
            continue;
        }
        if (count == 5 || !word_one(w, e))
            return 0;
        words[count] = w, lens[count++] = (size_t)(e - w);
    }
    if (bracket && (!count || lens[--count] != 1 || words[count][0] != ']'))
        return 0;
    int negated = count && lens[0] == 1 && words[0][0] == '!';
    if (count == 1)
        return 1;
    if (count == 2 || count == 3) {
        test_word(words[count - 2], lens[count - 2], &binary, &unary);
        return count == 2 ? unary : binary || (negated && unary);
    }
    if (count == 4 && negated)
        test_word(words[2], lens[2], &binary, &unary);
    return count == 4 && negated && binary;
}

/* 1 if the word [w, e) of declare, typeset, local, export or readonly (declares) is NAME=VALUE
 * (or NAME+=VALUE) whose NAME is written out and whose VALUE, if it expands, stays one word
 * (word_one): what expands is then a value, never a name with an index (local x="$1",
 * export PATH="$HOME/bin:$PATH"; export "$n"=1 and export x=$y, which another shell may
 * split into names, are not). */
static int value_only(const char *w, const char *e, int declares)
{
    const char *p = w;
    char q = 0;
    for (; declares && p < e; p++)
        if (quote_step(&p, e, &q) && !q && (*p == '=' || (*p == '+' && p + 1 < e && p[1] == '=')))
            break;
    if (!declares || p == w || p == e || memchr(w, '$', (size_t)(p - w)) ||
        memchr(w, '`', (size_t)(p - w)) || word_globs(w, p))
        return 0;
    return word_one(p + 1 + (*p == '+'), e);
}

static const char *builtin_names(char *cmd, size_t n)
{
    cmd[n] = '\0';
    static const char *const takes[] = {
        "read",  "mapfile", "readarray", "declare", "typeset", "local", "export", "readonly",
        "unset", "getopts", "wait",      "test",    "[",       "[[",    "printf", "print"};
    size_t k = 0;
    char *u = malloc(n + 1);
    if (!u)
        return "a command that could not be read,";
    const char *e = word_end(cmd), *w, *what = NULL;
    word_unquoted(cmd, e, u);
    /* zsh's set -A NAME (and +A) assigns an array: set -A path /tmp/evil; git log ran
     * /tmp/evil/git under zsh 5.9, which Claude Code runs the line with on macOS */
    for (int a_next = 0, set = !strcmp(u, "set"); set && !what && *e; a_next = set) {
        w = e + 1;
        e = word_end(w);
        word_unquoted(w, e, u);
        int expands =
            memchr(w, '$', (size_t)(e - w)) || memchr(w, '`', (size_t)(e - w)) || word_globs(w, e);
        if (a_next == 2 && (expands || !plain_name(u)))
            what = "set -A with a name that is not plain, in capitals or one of zsh's (path),";
        int a_option = (u[0] == '-' || u[0] == '+') && u[1] && u[strlen(u) - 1] == 'A';
        set = !strcmp(u, "--") ? 0 : expands || a_option ? 2 : 1; /* 2: a name may follow */
    }
    word_unquoted(cmd, e = word_end(cmd), u);
    while (k < sizeof takes / sizeof takes[0] && strcmp(u, takes[k]))
        k++;
    const char *name = k < sizeof takes / sizeof takes[0] ? takes[k] : NULL;
    int test = name && (!strcmp(name, "test") || !strcmp(name, "[")), options = 1, v_next = 0;
    if (test && test_fixed(*e ? e + 1 : e, name[0] == '['))
        name = NULL; /* nothing in it names a variable */
    /* zsh's print -v NAME assigns as printf -v does (print -v path /tmp/evil; git log ran
     * /tmp/evil/git under zsh 5.9, which Claude Code runs the line with on macOS), its v
     * bundled anywhere (-nv), after options that take a word (-f, -u, -C, -x, -X) */
    int print = name && !strcmp(name, "print"), print_arg = 0;
    /* declare -i x and declare -n x=PATH make x evaluate, or name, what it is given */
    int declares = name && k >= 3 && k <= 7;
    if (!strcmp(u, "let") && names_in(cmd, (size_t)(e - cmd), n))
        what = "arithmetic on a variable, let,";
    int closed = 0; /* [[ … ]]: its last word is ]] */
    /* read's options: the argument of -p, -d, -i, -t, -n, -N or -u is text or a number that
     * Bash never takes for a name (read -r -p 'Continue? [y/N] ' ans): one written as it is,
     * with nothing to expand, is not checked; -a's is a name */
    int read_opts = name && !strcmp(name, "read"), read_text = 0, read_name = 0;
    for (w = *e ? e + 1 : e; name && !what && *w; w = *e ? e + 1 : e) {
        e = word_end(w);
        closed = e - w == 2 && !memcmp(w, "]]", 2);
        word_unquoted(w, e, u);
        int expands =
            memchr(w, '$', (size_t)(e - w)) || memchr(w, '`', (size_t)(e - w)) || word_globs(w, e);
        if (read_text && !expands) {
            read_text = 0;
            continue;
        }
        read_text = 0;
        if (read_name) {
            read_name = 0; /* -a's: checked below, and options may follow it */
        } else if (read_opts && !expands && u[0] == '-' && u[1] && strcmp(u, "--")) {
            size_t flags = strspn(u + 1, "rse"); /* -r, -s, -e take nothing */
            char o = u[1 + flags];
            if (o && strchr("pditnNu", o)) {
                read_text = !u[2 + flags]; /* else it is the rest of this word */
                continue;
            }
            if (!o)
                continue;
            /* -a, with its name here (checked below with the word) or next; or an unknown
             * option, checked as any word */
            read_name = o == 'a' && !u[2 + flags];
        } else if (read_opts) {
            read_opts = 0; /* "--", or the first name: no option after it */
        }
        if (!strcmp(name, "[[")) {
            static const char *const ops[] = {"-v", "-R", "-eq", "-ne", "-lt", "-le", "-gt", "-ge"};
            for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++)
                if (!strcmp(u, ops[o]))
                    what = "a name or arithmetic in [[ … ]],";
        } else if (declares && !*e && e > w && e[-1] == '=') {
            /* the scanner split export a=(git ['x[$(rm -rf x)]']=1) at its ( and read git …
             * as a command; Bash assigns an array, evaluating each [index]=: rm ran */
            what = "a compound assignment, NAME=(…), given to a builtin,";
        } else if (!strcmp(name, "printf") || print) {
            const char *v = print ? strchr(u + 1, 'v') : u[1] == 'v' ? u + 1 : NULL;
            if (!options)
                break;
            if (print_arg) {
                print_arg = 0;
            } else if (v_next || expands) {
                if (expands || !plain_name(u))
                    what = "printf -v with a name that may hold an index, in capitals or npm_…,";
                v_next = 0;
            } else if (!strcmp(u, "--") || u[0] != '-' || !u[1]) {
                options = 0;
            } else if (v) {
                v_next = !v[1];
                if (v[1] && !plain_name(v + 1))
                    what = "printf -v with a name that may hold an index, in capitals or npm_…,";
            } else if (print) {
                print_arg = !!strchr("fuCxX", u[strlen(u) - 1]);
            }
        } else if (test ? expands || !strcmp(u, "-v") || !strcmp(u, "-R")
                        : (expands && !value_only(w, e, declares)) ||
                              memchr(w, '[', (size_t)(e - w))) {
            what = "a name that may hold an index, given to a builtin,";
        } else if ((!strcmp(name, "mapfile") || !strcmp(name, "readarray")) && u[0] == '-' &&
                   strchr(u, 'C')) {
            what = "a callback of mapfile, -C,";
        } else if (!test && (capital_in(u) ||
                             (declares && (u[0] == '-' || u[0] == '+') && strpbrk(u, "in")))) {
            what = "a name in capitals or npm_… (Bash's, the environment's), or an integer or a "
                   "reference made, given to a builtin that assigns,";
        }
    }
    if (name && (!strcmp(name, "printf") || print) && v_next)
        what = "printf -v with no name,";
    /* [[ x && git -eq 'a[$(rm -rf x)]' ]]: the scanner split it at && (and || ( )), and git …
     * ]] passed as a command; Bash evaluated -eq's arithmetic: rm ran */
    if (name && !strcmp(name, "[[") && !what && !closed)
        what = "a [[ … ]] with &&, ||, ( or ) inside,";
    free(u);
    return what;
}

/* A simple command as written, "Bash(SEG)", as an allow list sees it, into buf (at least as
 * long as it): without the reserved words before its command (if, then, else, elif, do, while,
 * until, !: unquoted and first, Bash takes them for reserved words, which run nothing of their
 * own; "do git log" runs git log). NULL if it runs no command at all: one of them alone, done,
 * fi or esac with no more than redirections after it, "for NAME" and "for NAME in WORDS", NAME
 * in lower case (what WORDS hold that runs is a command of its own). */
static const char *allow_form(const char *written, char *buf)
{
    static const char *const lead[] = {"!", "if", "then", "else", "elif", "do", "while", "until"};
    const char *seg = written + 5, *end = written + strlen(written) - 1;
    for (size_t k = 0; k < sizeof lead / sizeof lead[0]; k++) {
        size_t n = strlen(lead[k]);
        if ((size_t)(end - seg) >= n && !memcmp(seg, lead[k], n) &&
            (seg + n == end || seg[n] == ' ')) {
            seg += n + (seg + n < end);
            k = (size_t)-1; /* if ! git diff: both */
        }
    }
    size_t wn = strcspn(seg, " )");
    int closer = (wn == 4 && !memcmp(seg, "done", 4)) || (wn == 2 && !memcmp(seg, "fi", 2)) ||
                 (wn == 4 && !memcmp(seg, "esac", 4));
    if (seg == end)
        return NULL;
    if (wn == 3 && !memcmp(seg, "for", 3) && seg[3] == ' ') {
        const char *name = seg + 4, *after = name;
        while (after < end && *after != ' ')
            after++;
        char word[sizeof "in"];
        size_t nn = (size_t)(after - name);
        /* in lower case, as plain_name: for PATH in /tmp/evil; do git log; done runs another
         * git, for HOME in … reads another ~/.gitconfig */
        int plain = nn && !(name[0] >= '0' && name[0] <= '9') &&
                    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") == nn &&
                    !(nn >= 4 && !memcmp(name, "npm_", 4)) && !zsh_tied(name, nn);
        size_t in = after < end ? strcspn(after + 1, " )") : 0;
        if (in < sizeof word)
            memcpy(word, after + 1, in), word[in] = '\0';
        if (plain && (after == end || (in == 2 && !strcmp(word, "in"))))
            return NULL;
    }
    if (closer) { /* done, done > out, done < <(git ls-files): redirections only after it */
        int bare = 0, other = 0;
        for (const char *w = seg + wn; w < end && !other;) {
            w += *w == ' ';
            const char *e = word_end(w);
            if (e > end)
                e = end;
            if (bare)
                bare = 0;
            else
                other = !word_redirect(w, e, &bare);
            w = e;
        }
        if (!other && !bare)
            return NULL;
    }
    memcpy(buf, "Bash(", 5);
    memcpy(buf + 5, seg, (size_t)(end - seg) + 2); /* with its ) and NUL */
    return buf;
}

static int tool_allows(const ab_role *r, const char *tool, char *reason, size_t reason_size);

int ab_role_allows(const ab_role *r, const char *tool, const char *model, char *reason,
                   size_t reason_size)
{
    if (reason_size)
        reason[0] = '\0';
    size_t len = tool ? strlen(tool) : 0;
    int bash = len > 6 && !strncmp(tool, "Bash(", 5) && tool[len - 1] == ')';
    /* A command line is checked against the patterns that may match one: a deny list of Read
     * or WebFetch has nothing to say about it (it refused lines the scanner cannot follow), an
     * allow list that takes every Bash call (Bash, Bash(*), *) is none to it (it refused
     * $((x))), and a deny pattern that takes every one denies it at once */
    ab_role lines;
    if (bash) {
        lines = *r;
        lines.deny_tools_count = 0;
        for (size_t i = 0; i < r->deny_tools_count; i++) {
            if (glob_all_bash(r->deny_tools[i]))
                return refused(reason, reason_size, "role '%s' denies tool '%s' (pattern '%s')",
                               r->name, tool, r->deny_tools[i]);
            if (glob_bash(r->deny_tools[i]))
                lines.deny_tools[lines.deny_tools_count++] = r->deny_tools[i];
        }
        for (size_t i = 0; i < r->allow_tools_count; i++)
            if (glob_all_bash(r->allow_tools[i]))
                lines.allow_tools_count = 0;
        r = &lines;
    }
    /* Bash takes a backslash-newline out before it reads a line, but in single quotes (and a
     * here-document's body under a quoted word): the line is checked both with them and
     * without, git "$\<newline>(rm)" runs rm */
    char *joined = NULL;
    if (bash && strstr(tool, "\\\n")) {
        if (!(joined = malloc(len + 1)))
            return refused(reason, reason_size, "role '%s': out of memory checking '%s'", r->name,
                           tool);
        size_t n = 0;
        for (size_t i = 0; i < len; i++)
            if (tool[i] == '\\' && tool[i + 1] == '\n')
                i++;
            else
                joined[n++] = tool[i];
        joined[n] = '\0';
    }
    const char *opaque = NULL;
    for (int v = 0; v < 2 && !opaque && bash && (r->allow_tools_count || r->deny_tools_count);
         v++) {
        const char *t = v ? joined : tool;
        if (!t)
            continue;
        size_t tl = strlen(t);
        opaque = bash_opaque(t + 5, tl - 6);
        if (!opaque && r->allow_tools_count)
            opaque = bash_opaque_allow(t + 5, tl - 6);
    }
    if (opaque) {
        free(joined);
        return refused(reason, reason_size, "role '%s': '%s' holds %s which no pattern can follow",
                       r->name, tool, opaque);
    }
    int ok = tool_allows(r, tool, reason, reason_size) &&
             (!joined || tool_allows(r, joined, reason, reason_size));
    free(joined);
    if (!ok)
        return 0;
    if (model && !allows("model", r->allow_models, r->allow_models_count, r->deny_models,
                         r->deny_models_count, model, r->name, reason, reason_size))
        return 0;
    return 1;
}

/* The tool part of ab_role_allows for one form of the tool's name. */
static int tool_allows(const ab_role *r, const char *tool, char *reason, size_t reason_size)
{
    size_t len = tool ? strlen(tool) : 0, count = 0;
    int bash = len > 6 && !strncmp(tool, "Bash(", 5) && tool[len - 1] == ')';
    /* a command line: deny patterns see it whole and each simple command in it; the allow list
     * must cover each simple command as normalised (FOO=1 /usr/bin/git log: git log), not the
     * whole line — "Bash(cd *)" would allow "cd x && rm -rf y" */
    bash_unsure u = {0};
    char *segs = bash ? bash_simple_commands(tool + 5, len - 6, &count, &u) : NULL, *p = segs;
    /* what Bash makes of an extended glob depends on shopt extglob, which the line does not
     * show; and what a text Bash reads again holds (eval git $'\x24{x=…}'), as the line's own */
    const char *unseen = NULL;
    if (bash && segs && !u.denied && r->allow_tools_count)
        unseen = u.extglob ? "an extended glob pattern, @(…)," : u.opaque_allow;
    if (bash && segs && !u.denied && (r->allow_tools_count || r->deny_tools_count) && u.opaque)
        unseen = u.opaque;
    if (unseen) {
        free(segs);
        return refused(reason, reason_size,
                       "role '%s': '%s' holds %s which no %spattern can follow", r->name, tool,
                       unseen, unseen == u.opaque ? "" : "allow ");
    }
    if (bash && (!segs || u.denied)) {
        const char *why = segs ? "syntax it cannot follow as Bash would read it (substitutions "
                                 "nested too deep, too many here-documents, braces expanding "
                                 "too far, arithmetic holding quotes or backquotes, a !( pattern, "
                                 "a case where Bash's reading is unsure, eval or trap nested too "
                                 "deep, more than 64 reserved words in a row),"
                               : "out of memory";
        free(segs);
        return refused(reason, reason_size, "role '%s': %s checking '%s'", r->name, why, tool);
    }
    int ok =
        !tool || allows("tool", r->allow_tools, count ? 0 : r->allow_tools_count, r->deny_tools,
                        r->deny_tools_count, tool, r->name, reason, reason_size);
    for (size_t i = 0; ok && i < count; i++) { /* as written: both lists; cleaned up: deny */
        const char *written = p, *cleaned = p + strlen(p) + 1;
        p = (char *)cleaned + strlen(cleaned) + 1;
        ok = allows("tool", NULL, 0, r->deny_tools, r->deny_tools_count, cleaned, r->name, reason,
                    reason_size) &&
             allows("tool", NULL, 0, r->deny_tools, r->deny_tools_count, written, r->name, reason,
                    reason_size);
        /* and without what may expand to nothing in any of its words, not only the program's:
         * git pu${x}sh and git "p"u"$@"sh ran git push past Bash(git push*) */
        int expands = ok && r->deny_tools_count && strpbrk(cleaned, "$`");
        char *bare = expands ? strdup(cleaned) : NULL;
        if (expands && !bare) {
            ok = refused(reason, reason_size, "role '%s': out of memory checking '%s'", r->name,
                         written);
        }
        if (bare) {
            program_unexpanded(bare);
            ok = allows("tool", NULL, 0, r->deny_tools, r->deny_tools_count, bare, r->name, reason,
                        reason_size);
            free(bare);
        }
        int lists = r->allow_tools_count || r->deny_tools_count;
        char *form = ok && lists ? malloc(strlen(written) + 1) : NULL;
        if (ok && lists && !form) {
            ok = refused(reason, reason_size, "role '%s': out of memory checking '%s'", r->name,
                         written);
        }
        const char *seen = form ? allow_form(written, form) : NULL;
        if (seen && r->allow_tools_count) /* "then git log": git log; "done", "fi": none */
            ok = allows("tool", r->allow_tools, r->allow_tools_count, NULL, 0, seen, r->name,
                        reason, reason_size);
        if (ok && seen) { /* printf -v 'a[$(rm -rf x)]' x: builtin_names */
            size_t wn = strlen(seen) - 6;
            char *cmd = malloc(wn + 1);
            const char *what = cmd ? builtin_names(memcpy(cmd, seen + 5, wn), wn) : "";
            /* a deny list: a name whose index may run a substitution only (printf -v, read,
             * declare, local and let given 'a[$(rm -rf x)]' ran rm past Bash(rm *)) */
            if (what && cmd && !r->allow_tools_count &&
                !((strstr(what, "index") || strstr(what, "let,")) && strpbrk(seen, "$`")))
                what = NULL;
            if (what) {
                ok = refused(reason, reason_size,
                             "role '%s': '%s' holds %s which no pattern can follow", r->name, seen,
                             cmd ? what : "out of memory,");
            }
            free(cmd);
        }
        free(form);
    }
    free(segs);
    return ok;
}

typedef struct {
    const char *path, *operation, *model;
    size_t operation_len;
    ab_decision *out;
} perm_args;

static int op_permission(ab__ctx *c, void *v)
{
    perm_args *a = v;
    ab_store *st = c->st;
    int rc = ab__chain_load(c, a->path, 0);
    if (rc)
        return rc;
    ab_budget_status *s = &c->b[0].s;
    /* the model the request would be priced at: the role's model rules apply to it too */
    const char *model = a->model ? a->model : (s->model[0] ? s->model : AB__DEFAULT_MODEL);
    ab_role role;
    memset(&role, 0, sizeof role);
    rc = role_load(st, s->role, &role);
    if (rc == AB_ENOTFOUND) /* a role that was never defined is no policy: budget only */
        return AB_OK;
    if (rc)
        return rc;
    /* an operation too long to be read against tool patterns is refused only where there are
     * some: a long Bash command under a role without them is no policy's business */
    if (a->operation_len > AB_OPERATION_BYTES_MAX &&
        (role.allow_tools_count || role.deny_tools_count)) {
        ab_role_free(&role);
        return ab__fail(st, AB_EINVAL,
                        "operation: %zu bytes, over the %d that role '%s''s tool patterns are "
                        "checked against",
                        a->operation_len, AB_OPERATION_BYTES_MAX, s->role);
    }
    /* the model as it is priced too: "anthropic/claude-opus-4-5" and "claude-haiku-4-5/claude-
     * opus-4-5" are Opus, whatever a pattern makes of the name as given. A deny pattern matching
     * either name denies; the allow list is matched against the priced name (a provider prefix
     * on the given one does not keep it out, nor lets another model in) */
    char *reason = a->out->reason;
    size_t rsize = sizeof a->out->reason;
    ab_price p;
    rc = ab__price_lookup(st, model, &p);
    if (rc != AB_OK && rc != AB_EUNKNOWNMODEL) { /* the store failed: no answer, not "allowed" */
        ab_role_free(&role);
        return rc;
    }
    int priced =
        rc == AB_OK && p.model[0] && strcmp(p.model, model) != 0 && strcmp(p.model, "default") != 0;
    /* and the built-in model the name stands for, whatever the store prices it at: a store
     * price of its own for "anthropic/claude-opus-4-5" does not make it other than Opus */
    ab_price builtin;
    int named = ab_price_builtin(model, &builtin) == AB_OK && strcmp(builtin.model, model) != 0;
    ab_role deny_only = role; /* shares role's lists: not freed */
    deny_only.allow_models_count = 0;
    int ok = ab_role_allows(&role, a->operation, NULL, reason, rsize) &&
             ab_role_allows(&deny_only, NULL, model, reason, rsize) &&
             (!named || ab_role_allows(&deny_only, NULL, builtin.model, reason, rsize)) &&
             ab_role_allows(&role, NULL, priced ? p.model : model, reason, rsize);
    /* the reason says which model the name was taken for */
    const char *as = !ok && priced && strstr(reason, p.model)        ? p.model
                     : !ok && named && strstr(reason, builtin.model) ? builtin.model
                                                                     : NULL;
    if (as) {
        size_t n = strlen(reason);
        snprintf(reason + n, rsize - n, " (model '%s' is %s '%s')", model,
                 as == p.model ? "priced as" : "the built-in", as);
        ab__utf8_trim(reason);
    }
    ab_role_free(&role);
    if (ok)
        return AB_OK;
    if (!c->write)
        return AB__EUPGRADE;
    a->out->allowed = 0; /* the role decided: no limit to name (the reason names the role) */
    a->out->limit = -1;
    s->operations_blocked++;
    c->dirty[0] = true;
    ab_event e;
    ab__event_init(st, &e, s->path, "permission", c->now_ms);
    e.allowed = 0;
    ab__strlcpy(e.reason, a->out->reason, sizeof e.reason);
    if (model)
        ab__strlcpy(e.model, model, sizeof e.model);
    return st->ops->event_append(st, &e);
}

int ab_check_permission(ab_store *st, const char *path, const char *operation,
                        const ab_permission_context *ctx, ab_decision *out)
{
    ab__decision_clear(out); /* allowed 0: a call that fails never reads as allowed */
    if (!operation || !*operation)
        return ab__fail(st, AB_EINVAL, "operation: must not be empty");
    ab_permission_context none = {0};
    if (!ctx)
        ctx = &none;
    if (ctx->estimated_tokens < 0)
        return ab__fail(st, AB_EINVAL, "estimated_tokens: must be >= 0 (0: 1000)");
    perm_args a = {path, operation, ctx->model, strlen(operation), out};
    out->allowed = 1; /* until the role says otherwise (op_permission) */
    int rc = ab__run(st, 0, op_permission, &a);
    if (rc)
        out->allowed = 0;
    if (rc || !out->allowed)
        return rc;
    if (ctx->usage)
        return ab_budget_check(st, path, ctx->model, ctx->usage, out);
    int64_t tokens = ctx->estimated_tokens > 0 ? ctx->estimated_tokens : 1000;
    ab_usage u = {.input = tokens / 4, .output = tokens - tokens / 4};
    return ab_budget_check(st, path, ctx->model, &u, out);
}
