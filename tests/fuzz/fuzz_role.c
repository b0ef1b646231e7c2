/* fuzz_role.c — roles through the store's role spec (ab_role_set formats it, ab_role_get parses
 * it back) on a memory: store: a role the store accepts must read back the same, and allow and
 * deny the same tools and models. The input is lines; the first byte of each says what the rest
 * is: n name, a/d allow/deny tool glob, A/D allow/deny model glob, l limit spec, x admin,
 * t tool and m model to check with ab_role_allows. */
#include "fuzz.h"

static ab_store *st;
static unsigned long runs;

/* A fresh store every 1000 inputs: each ab_role_set appends an event, which would otherwise
 * grow the memory store for the whole run. */
static void store_fresh(void)
{
    if (st && runs++ % 1000)
        return;
    ab_store_close(st);
    FUZZ_CHECK(ab_store_open("memory:", &st) == AB_OK);
}

static void glob_push(char **list, size_t *count, const char *s)
{
    if (*count < AB_GLOBS_MAX) {
        list[*count] = strdup(s);
        FUZZ_CHECK(list[*count] != NULL);
        (*count)++;
    }
}

/* One input line into the role (or the tool and model to check). */
static void role_line(ab_role *r, char *line, const char **tool, const char **model)
{
    char *v = line + 1;
    ab_limit l;
    switch (line[0]) {
    case 'n':
        snprintf(r->name, sizeof r->name, "%s", v);
        break;
    case 'a':
        glob_push(r->allow_tools, &r->allow_tools_count, v);
        break;
    case 'd':
        glob_push(r->deny_tools, &r->deny_tools_count, v);
        break;
    case 'A':
        glob_push(r->allow_models, &r->allow_models_count, v);
        break;
    case 'D':
        glob_push(r->deny_models, &r->deny_models_count, v);
        break;
    case 'x':
        r->admin = !r->admin;
        break;
    case 't':
        *tool = v;
        break;
    case 'm':
        *model = v;
        break;
    case 'l':
        /* one limit per metric and window, as a role spec can hold */
        if (ab_limit_parse(v, &l) == AB_OK && r->limits_count < AB_LIMITS_MAX) {
            for (size_t i = 0; i < r->limits_count; i++)
                if (r->limits[i].metric == l.metric && r->limits[i].window == l.window)
                    return;
            r->limits[r->limits_count++] = l;
        }
        break;
    default:
        break;
    }
}

static void same_list(char *const *a, size_t na, char *const *b, size_t nb)
{
    FUZZ_CHECK(na == nb);
    for (size_t i = 0; i < na; i++)
        FUZZ_CHECK(strcmp(a[i], b[i]) == 0);
}

static void same_role(const ab_role *a, const ab_role *b)
{
    FUZZ_CHECK(strcmp(a->name, b->name) == 0);
    FUZZ_CHECK(a->admin == b->admin);
    FUZZ_CHECK(a->limits_count == b->limits_count);
    for (size_t i = 0; i < a->limits_count; i++)
        FUZZ_CHECK(a->limits[i].metric == b->limits[i].metric &&
                   a->limits[i].window == b->limits[i].window &&
                   a->limits[i].amount == b->limits[i].amount);
    same_list(a->allow_tools, a->allow_tools_count, b->allow_tools, b->allow_tools_count);
    same_list(a->deny_tools, a->deny_tools_count, b->deny_tools, b->deny_tools_count);
    same_list(a->allow_models, a->allow_models_count, b->allow_models, b->allow_models_count);
    same_list(a->deny_models, a->deny_models_count, b->deny_models, b->deny_models_count);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_strndup(data, size);
    if (!s)
        return 0;
    store_fresh();
    ab_role r;
    memset(&r, 0, sizeof r);
    strcpy(r.name, "fuzz");
    const char *tool = NULL, *model = NULL;
    for (char *p = s, *nl; p; p = nl ? nl + 1 : NULL) {
        if ((nl = strchr(p, '\n')))
            *nl = '\0';
        role_line(&r, p, &tool, &model);
    }

    char why[AB_REASON_BYTES_MAX];
    int allowed = ab_role_allows(&r, tool, model, why, sizeof why);
    char *json = ab_role_json(&r);
    FUZZ_CHECK(json != NULL);
    free(json);
    if (ab_role_set(st, &r) == AB_OK) {
        ab_role got;
        memset(&got, 0, sizeof got);
        int rc = ab_role_get(st, r.name, &got);
        if (rc != AB_OK)
            fprintf(stderr, "ab_role_get: %s: %s\n", ab_strerror(rc), ab_store_errmsg(st));
        FUZZ_CHECK(rc == AB_OK);
        same_role(&r, &got);
        FUZZ_CHECK(ab_role_allows(&got, tool, model, why, sizeof why) == allowed);
        ab_role_free(&got);
        FUZZ_CHECK(ab_role_delete(st, r.name) == AB_OK);
    }
    ab_role_free(&r);
    free(s);
    return 0;
}
