/* cmd_price.c — model prices: list, get, set (override), unset, import (LiteLLM format). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define PRICE_FILE_BYTES_MAX (64 * 1024 * 1024)

static size_t price_count;

static int price_out(const ab_price *p, void *v)
{
    cli *c = v;
    price_count++;
    char b[5][32];
    ab_price_format(p->input, b[0], sizeof b[0]);
    ab_price_format(p->output, b[1], sizeof b[1]);
    ab_price_format(p->cache_write_5m, b[2], sizeof b[2]);
    ab_price_format(p->cache_write_1h, b[3], sizeof b[3]);
    ab_price_format(p->cache_read, b[4], sizeof b[4]);
    if (c->json) {
        if (print_json(c, ab_price_json(p)))
            return AB_ENOMEM;
        return 0;
    }
    /* the last column padded only when the tier follows it: no blanks at the end of a line */
    printf("%-44s %-7s in %-8s out %-8s cw5m %-8s cw1h %-8s cr %-*s", p->model,
           p->builtin ? "builtin" : "store", b[0], b[1], b[2], b[3],
           p->tier_threshold_tokens ? 8 : 0, b[4]);
    if (p->tier_threshold_tokens)
        printf(" (>%" PRId64 " tokens: in %s out %s)", p->tier_threshold_tokens,
               ab_price_format(p->tier_input, b[0], 32), ab_price_format(p->tier_output, b[1], 32));
    printf("\n");
    return 0;
}

static const opt_spec list_opts[] = {{"builtin", 0, 0}, {NULL, 0, 0}};
static const opt_spec set_opts[] = {{"input", 1, 0},
                                    {"output", 1, 0},
                                    {"cache-write", 1, 0},
                                    {"cache-write-1h", 1, 0},
                                    {"cache-read", 1, 0},
                                    {"tier-threshold", 1, 0},
                                    {"tier-input", 1, 0},
                                    {"tier-output", 1, 0},
                                    {"tier-cache-write", 1, 0},
                                    {"tier-cache-write-1h", 1, 0},
                                    {"tier-cache-read", 1, 0},
                                    {NULL, 0, 0}};
static const opt_spec none[] = {{NULL, 0, 0}};

static int price_set(cli *c, const parsed *p)
{
    ab_price pr;
    memset(&pr, 0, sizeof pr);
    if (strlen(p->pos[1]) >= sizeof pr.model)
        return usage_error(c, "MODEL: at most %zu bytes", sizeof pr.model - 1);
    strcpy(pr.model, p->pos[1]);
    int64_t *f[] = {&pr.input,
                    &pr.output,
                    &pr.cache_write_5m,
                    &pr.cache_write_1h,
                    &pr.cache_read,
                    NULL,
                    &pr.tier_input,
                    &pr.tier_output,
                    &pr.tier_cache_write_5m,
                    &pr.tier_cache_write_1h,
                    &pr.tier_cache_read};
    for (int i = 0; set_opts[i].name; i++) {
        const char *v = p->val[i];
        char field[48];
        snprintf(field, sizeof field, "--%s", set_opts[i].name);
        int64_t *dst = f[i] ? f[i] : &pr.tier_threshold_tokens;
        *dst = -1;
        if (!v)
            continue;
        int rc = f[i] ? parse_price(c, field, v, dst) : parse_tokens(c, field, v, dst);
        if (rc)
            return rc;
    }
    if (pr.input < 0 || pr.output < 0)
        return usage_error(c, "%s: required (USD per million tokens)",
                           pr.input < 0 ? "--input" : "--output");
    int tier_given = pr.tier_input >= 0 || pr.tier_output >= 0 || pr.tier_cache_write_5m >= 0 ||
                     pr.tier_cache_write_1h >= 0 || pr.tier_cache_read >= 0;
    if (pr.tier_threshold_tokens <= 0 && tier_given)
        return usage_error(c, "--tier-threshold: tier prices need a threshold of 1 or more tokens");
    if (pr.tier_threshold_tokens > 0 && pr.tier_input < 0)
        return usage_error(c, "--tier-input: required with --tier-threshold");
    if (pr.tier_threshold_tokens < 0)
        pr.tier_threshold_tokens = 0;
    ab_price_fill_defaults(&pr);
    int rc = store_open(c);
    if (rc)
        return rc;
    if ((rc = be_price_set(c, &pr)))
        return fail(c, rc);
    return price_out(&pr, c);
}

static int price_import(cli *c, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return usage_error(c, "FILE: cannot open '%s': %s", path, strerror(errno));
    char *buf;
    size_t n;
    int err = read_all(f, PRICE_FILE_BYTES_MAX, &buf, &n);
    fclose(f);
    if (err == EFBIG)
        return usage_error(c, "FILE: '%s' is larger than %d bytes", path, PRICE_FILE_BYTES_MAX);
    if (err == ENOMEM) {
        fprintf(stderr, "error: FILE: '%s': out of memory\n", path);
        return EXIT_FAILURE_STORE;
    }
    if (err)
        return usage_error(c, "FILE: cannot read '%s': %s", path, strerror(err));
    int rc = store_open(c);
    size_t imported = 0;
    if (!rc && (rc = be_price_import(c, buf, n, &imported)))
        rc = fail(c, rc);
    free(buf);
    if (rc)
        return rc;
    if (c->json)
        printf("{\"imported\":%zu}\n", imported);
    else
        printf("imported %zu price%s from '%s'\n", imported, plural_s((long long)imported), path);
    if (imported == 0) /* a file of some other shape, most likely: say what was looked for */
        fprintf(stderr,
                "warning: no model in '%s' has both input_cost_per_token and "
                "output_cost_per_token (LiteLLM's model_prices_and_context_window.json)\n",
                path);
    return 0;
}

int cmd_price(cli *c, int argc, char **argv)
{
    const command *cmd = command_find("price");
    parsed p;
    const char *sub = argc > 0 ? argv[0] : "";
    int rc;
    if (strcmp(sub, "list") == 0) {
        if ((rc = args_parse(c, cmd, list_opts, argc - 1, argv + 1, &p, 0, 0)) ||
            (rc = store_open(c)))
            return rc;
        price_count = 0;
        if ((rc = be_price_list(c, p.set[0], price_out, c)))
            return fail(c, rc);
        if (!price_count && !c->json)
            printf("no price overrides in the store (--builtin lists the built-in table too)\n");
        return 0;
    }
    if (strcmp(sub, "set") == 0) {
        if ((rc = args_parse(c, cmd, set_opts, argc, argv, &p, 2, 2)))
            return rc;
        return price_set(c, &p);
    }
    if (strcmp(sub, "get") == 0 || strcmp(sub, "unset") == 0 || strcmp(sub, "import") == 0) {
        if ((rc = args_parse(c, cmd, none, argc, argv, &p, 2, 2)))
            return rc;
        if (sub[0] == 'i')
            return price_import(c, p.pos[1]);
        if ((rc = store_open(c)))
            return rc;
        ab_price pr;
        if (sub[0] == 'g') {
            if ((rc = be_price_get(c, p.pos[1], &pr)))
                return fail(c, rc);
            return price_out(&pr, c);
        }
        if ((rc = be_price_unset(c, p.pos[1])))
            return fail(c, rc);
        if (!c->json) {
            printf("removed the store's price for '%s'\n", p.pos[1]);
            return 0;
        }
        printf("{\"unset\":");
        json_str(p.pos[1]);
        printf("}\n");
        return 0;
    }
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        printf("usage: agentbudget %s\n\n%s\n", cmd->usage, cmd->summary);
        return -1;
    }
    return usage_error(c, "price: expected list, get, set, unset or import%s%s%s",
                       *sub ? " (not '" : "", sub, *sub ? "')" : "");
}
