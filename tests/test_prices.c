/* test_prices.c — exact costs, the long-context tier, the built-in table against
 * data/models.json, name lookup, store overrides and LiteLLM import. */
#include <jansson.h>
#include <stdlib.h>

#include "agentbudget.h"
#include "test.h"

static int64_t cost(const char *model, ab_usage u)
{
    ab_price p;
    int64_t c = -1;
    if (ab_price_builtin(model, &p) != AB_OK || ab_cost_compute(&p, &u, &c) != AB_OK)
        return -1;
    return c;
}

static void test_costs(void)
{
    /* the original's worked example: 10k input + 30k output at $3/$15 = $0.48 exactly */
    CHECK_I64(cost("claude-sonnet-4-5", (ab_usage){.input = 10000, .output = 30000}), 480000000);
    /* cache write 5m $3.75, 1h $6, read $0.30 per Mtok (below the 200k tier) */
    CHECK_I64(cost("claude-sonnet-4-5", (ab_usage){.cache_write_5m = 100000}), 375000000);
    CHECK_I64(cost("claude-sonnet-4-5", (ab_usage){.cache_write_1h = 100000}), 600000000);
    CHECK_I64(cost("claude-sonnet-4-5", (ab_usage){.cache_read = 100000}), 30000000);
    /* a million cache-write tokens is one long-context request: $7.50 per Mtok */
    CHECK_I64(cost("claude-sonnet-4-5", (ab_usage){.cache_write_5m = 1000000}), 7500000000);
    /* long context: exactly 200,000 context tokens is still the base rate ... */
    CHECK_I64(cost("claude-sonnet-4-5", (ab_usage){.input = 140000, .cache_read = 60000}),
              140000 * 3000 + 60000 * 300);
    /* ... one more and every token of the request is at the tier: $6 in, $0.60 read, $22.50 out */
    CHECK_I64(
        cost("claude-sonnet-4-5", (ab_usage){.input = 140001, .cache_read = 60000, .output = 1000}),
        (140001LL * 6000000 + 60000LL * 600000 + 1000LL * 22500000 + 999) / 1000);
    /* a tier-less model stays flat */
    CHECK_I64(cost("claude-opus-4-6", (ab_usage){.input = 300000}), 300000LL * 5000);
    /* rounding up, once per request: 1 token at $0.000001/Mtok is 0.001 nUSD -> 1 nUSD */
    ab_price tiny = {.input = 1};
    int64_t c;
    CHECK_OK(NULL, ab_cost_compute(&tiny, &(ab_usage){.input = 1}, &c));
    CHECK_I64(c, 1);
    CHECK_OK(NULL, ab_cost_compute(&tiny, &(ab_usage){.input = 1000}, &c));
    CHECK_I64(c, 1);
    CHECK_OK(NULL, ab_cost_compute(&tiny, &(ab_usage){.input = 1001}, &c));
    CHECK_I64(c, 2);
    /* overflow is an error, never a wrap */
    ab_price big = {.input = 75000000, .output = 75000000};
    CHECK_RC(NULL, ab_cost_compute(&big, &(ab_usage){.input = INT64_MAX}, &c), AB_EOVERFLOW);
    CHECK_RC(NULL, ab_cost_compute(&big, &(ab_usage){.input = INT64_MAX, .output = INT64_MAX}, &c),
             AB_EOVERFLOW);
    CHECK_RC(NULL, ab_cost_compute(&big, &(ab_usage){.input = -1}, &c), AB_EINVAL);
    /* the tokens metric: input + output + cache writes, not cache reads */
    int64_t t;
    CHECK_OK(NULL, ab_usage_tokens(&(ab_usage){1, 2, 4, 8, 1000}, &t));
    CHECK_I64(t, 15);
}

static void test_lookup(void)
{
    ab_price p;
    CHECK_OK(NULL, ab_price_builtin("claude-sonnet-4.5", &p));
    CHECK_STR(p.model, "claude-sonnet-4-5");
    CHECK_OK(NULL, ab_price_builtin("anthropic/claude-opus-4-6", &p));
    CHECK_STR(p.model, "claude-opus-4-6");
    CHECK_OK(NULL, ab_price_builtin("vertex_ai/claude-opus-4-7@default", &p));
    CHECK_STR(p.model, "claude-opus-4-7");
    CHECK_RC(NULL, ab_price_builtin("claude-opus-4-7-nonsense", &p), AB_ENOTFOUND);
    /* names Claude Code and providers write that ccusage prices (they were unknown: the hook
     * and the reports counted them at $0): undated and -latest/-0 aliases, the newest date;
     * Bedrock ids; a context-size suffix; the retired 3.5 and 3 Sonnet */
    static const char *const names[][2] = {
        {"claude-sonnet-4", "claude-sonnet-4-20250514"},
        {"claude-opus-4-0", "claude-opus-4-20250514"},
        {"claude-3-7-sonnet-latest", "claude-3-7-sonnet-20250219"},
        {"claude-3-5-sonnet-latest", "claude-3-5-sonnet-20241022"},
        {"anthropic/claude-sonnet-4", "claude-sonnet-4-20250514"},
        {"us.anthropic.claude-sonnet-4-20250514-v1:0", "claude-sonnet-4-20250514"},
        {"anthropic.claude-3-5-sonnet-20241022-v2:0", "claude-3-5-sonnet-20241022"},
        {"bedrock/eu.anthropic.claude-opus-4-1-20250805-v1:0", "claude-opus-4-1-20250805"},
        {"claude-sonnet-4-5[1m]", "claude-sonnet-4-5"},
        {"claude-3-5-sonnet-20240620", "claude-3-5-sonnet-20240620"},
        {"claude-3-sonnet-20240229", "claude-3-sonnet-20240229"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        memset(&p, 0, sizeof p);
        int rc = ab_price_builtin(names[i][0], &p);
        if (rc || strcmp(p.model, names[i][1]))
            fprintf(stderr, "%s: rc %d, '%s', expected '%s'\n", names[i][0], rc, p.model,
                    names[i][1]);
        CHECK(rc == AB_OK && !strcmp(p.model, names[i][1]));
    }
    CHECK_OK(NULL, ab_price_builtin("claude-3-5-sonnet-20241022", &p));
    CHECK_I64(p.input, 3000000);
    CHECK_I64(p.output, 15000000);
    CHECK_I64(p.cache_write_5m, 3750000);
    CHECK_I64(p.cache_read, 300000);
    /* not any text around a name: a decoration of a provider's only */
    static const char *const unknown[] = {"xclaude-sonnet-4-5", "claude-sonnet-4-5x",
                                          "claude-haiku-4", "claude-sonnet-4-5-v",
                                          "my.claude-sonnet-4-5-extra"};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        CHECK_RC(NULL, ab_price_builtin(unknown[i], &p), AB_ENOTFOUND);
    CHECK_RC(NULL, ab_price_builtin("no-such-model", &p), AB_ENOTFOUND);
    /* LiteLLM's wrong 1-hour prices are corrected to 2 x input */
    CHECK_OK(NULL, ab_price_builtin("claude-3-haiku-20240307", &p));
    CHECK_I64(p.cache_write_1h, 500000);
    CHECK_OK(NULL, ab_price_builtin("claude-3-opus-20240229", &p));
    CHECK_I64(p.cache_write_1h, 30000000);
    /* a missing 1-hour price is 2 x input */
    CHECK_OK(NULL, ab_price_builtin("claude-4-opus-20250514", &p));
    CHECK_I64(p.cache_write_1h, 30000000);
}

/* Every model of data/models.json is built in with its exact prices. */
static void test_table_matches_data(const char *models_json)
{
    json_error_t err;
    json_t *root = json_load_file(models_json, 0, &err);
    CHECK(root != NULL);
    if (!root)
        return;
    json_t *models = json_object_get(root, "models"), *m;
    size_t i;
    CHECK_I64(json_array_size(models), ab_price_builtin_count());
    json_array_foreach(models, i, m)
    {
        const char *name = json_string_value(json_object_get(m, "name"));
        ab_price p;
        int64_t want;
        int rc = ab_price_builtin(name, &p);
        CHECK_OK(NULL, rc);
        if (rc)
            continue;
        CHECK_STR(p.model, name);
        CHECK_OK(NULL, ab_price_parse(json_string_value(json_object_get(m, "input_usd_per_mtok")),
                                      &want));
        CHECK_I64(p.input, want);
        CHECK_OK(NULL, ab_price_parse(json_string_value(json_object_get(m, "output_usd_per_mtok")),
                                      &want));
        CHECK_I64(p.output, want);
        const char *cr = json_string_value(json_object_get(m, "cache_read_usd_per_mtok"));
        CHECK_OK(NULL,
                 ab_price_parse(
                     cr ? cr : json_string_value(json_object_get(m, "input_usd_per_mtok")), &want));
        CHECK_I64(p.cache_read, want);
        const char *tier = json_string_value(json_object_get(m, "input_usd_per_mtok_above_200k"));
        if (tier) {
            CHECK_I64(p.tier_threshold_tokens, 200000);
            CHECK_OK(NULL, ab_price_parse(tier, &want));
            CHECK_I64(p.tier_input, want);
        }
    }
    json_decref(root);
}

static void test_store_prices(void)
{
    ab_store *st;
    CHECK_OK(NULL, ab_store_open("memory:", &st));
    ab_price p;
    CHECK_RC(st, ab_price_get(st, "my-model", &p), AB_EUNKNOWNMODEL);
    CHECK(strstr(ab_store_errmsg(st), "my-model") != NULL);
    CHECK_OK(st, ab_price_get(st, "<synthetic>", &p));
    CHECK_I64(p.input + p.output + p.cache_read, 0);
    /* it costs 0 whatever the store says: a price for it is refused, not listed and unused */
    ab_price synth = p;
    synth.input = synth.output = 1000000;
    CHECK_RC(st, ab_price_set(st, &synth), AB_EINVAL);
    CHECK(strstr(ab_store_errmsg(st), "<synthetic>") != NULL);
    ab_price def = {.model = "default",
                    .input = 1000000,
                    .output = 2000000,
                    .cache_write_5m = -1,
                    .cache_write_1h = -1,
                    .cache_read = -1};
    ab_price_fill_defaults(&def);
    CHECK_I64(def.cache_write_5m, 1250000);
    CHECK_I64(def.cache_write_1h, 2000000);
    CHECK_I64(def.cache_read, 100000);
    /* a derived price that is not whole rounds up, as money does against the spender, in the
     * tier too: 1.25 x 1.234567 = 1.54320875, 0.1 x 1.234567 = 0.1234567 (they were truncated) */
    ab_price odd = {.model = "odd",
                    .input = 1234567,
                    .output = 5000000,
                    .cache_write_5m = -1,
                    .cache_write_1h = -1,
                    .cache_read = -1,
                    .tier_threshold_tokens = 200000,
                    .tier_input = 2345679,
                    .tier_output = -1,
                    .tier_cache_write_5m = -1,
                    .tier_cache_write_1h = -1,
                    .tier_cache_read = -1};
    ab_price_fill_defaults(&odd);
    CHECK_I64(odd.cache_write_5m, 1543209);
    CHECK_I64(odd.cache_write_1h, 2469134);
    CHECK_I64(odd.cache_read, 123457);
    CHECK_I64(odd.tier_cache_write_5m, 2932099); /* 2.93209875 */
    CHECK_I64(odd.tier_cache_write_1h, 4691358);
    CHECK_I64(odd.tier_cache_read, 234568); /* 0.2345679 */
    CHECK_OK(st, ab_price_set(st, &def));
    CHECK_OK(st, ab_price_get(st, "my-model", &p));
    CHECK_STR(p.model, "default");
    /* an override wins over the built-in table, and unset brings it back */
    ab_price o = {.model = "claude-sonnet-4-5",
                  .input = 1,
                  .output = 2,
                  .cache_write_5m = 3,
                  .cache_write_1h = 4,
                  .cache_read = 5};
    CHECK_OK(st, ab_price_set(st, &o));
    CHECK_OK(st, ab_price_get(st, "claude-sonnet-4-5", &p));
    CHECK_I64(p.input, 1);
    CHECK_I64(p.builtin, 0);
    CHECK_OK(st, ab_price_unset(st, "claude-sonnet-4-5"));
    CHECK_OK(st, ab_price_get(st, "claude-sonnet-4-5", &p));
    CHECK_I64(p.input, 3000000);
    CHECK_RC(st, ab_price_unset(st, "claude-sonnet-4-5"), AB_ENOTFOUND);
    ab_price neg = o;
    neg.output = -5;
    CHECK_RC(st, ab_price_set(st, &neg), AB_EINVAL);
    ab_price ctl = o;
    strcpy(ctl.model, "ctl\nx");
    CHECK_RC(st, ab_price_set(st, &ctl), AB_EINVAL);
    CHECK(strstr(ab_store_errmsg(st), "control") != NULL);
    /* prices are bounded so derived prices (2 x input) stay exact */
    ab_price big = o;
    big.input = AB_PRICE_UUSD_MAX;
    CHECK_OK(st, ab_price_set(st, &big));
    big.input = AB_PRICE_UUSD_MAX + 1;
    CHECK_RC(st, ab_price_set(st, &big), AB_EINVAL);
    CHECK(strstr(ab_store_errmsg(st), "at most") != NULL);
    ab_price sat = {.model = "x",
                    .input = INT64_MAX,
                    .cache_write_5m = -1,
                    .cache_write_1h = -1,
                    .cache_read = -1};
    ab_price_fill_defaults(&sat);
    CHECK_I64(sat.cache_write_5m, INT64_MAX);
    CHECK_I64(sat.cache_write_1h, INT64_MAX);
    CHECK_RC(st, ab_price_set(st, &sat), AB_EINVAL);
    int64_t v;
    CHECK_OK(NULL, ab_price_parse("1000000000", &v));
    CHECK_I64(v, AB_PRICE_UUSD_MAX);
    CHECK_RC(NULL, ab_price_parse("1000000000.000001", &v), AB_EOVERFLOW);
    ab_store_close(st);
}

static void test_import(void)
{
    ab_store *st;
    CHECK_OK(NULL, ab_store_open("memory:", &st));
    const char *doc =
        "{\"sample_spec\": {\"input_cost_per_token\": 0, \"output_cost_per_token\": 0},"
        " \"acme-large\": {\"input_cost_per_token\": 3e-06, \"output_cost_per_token\": 1.5e-05,"
        "   \"cache_creation_input_token_cost\": 3.75e-06, \"cache_read_input_token_cost\": 3e-07,"
        "   \"input_cost_per_token_above_200k_tokens\": 6e-06,"
        "   \"output_cost_per_token_above_200k_tokens\": 2.25e-05, \"litellm_provider\": \"x\"},"
        " \"acme-embed\": {\"input_cost_per_token\": 1e-07, \"output_cost_per_token\": 0,"
        "   \"mode\": \"embedding\"},"
        " \"acme-image\": {\"output_cost_per_image\": 0.04}}";
    size_t n = 99;
    CHECK_OK(st, ab_price_import_litellm(st, doc, strlen(doc), &n));
    CHECK_I64(n, 2);
    ab_price p;
    CHECK_OK(st, ab_price_get(st, "acme-large", &p));
    CHECK_I64(p.input, 3000000);
    CHECK_I64(p.output, 15000000);
    CHECK_I64(p.cache_write_5m, 3750000);
    CHECK_I64(p.cache_read, 300000);
    CHECK_I64(p.cache_write_1h, 6000000);
    CHECK_I64(p.tier_threshold_tokens, 200000);
    CHECK_I64(p.tier_input, 6000000);
    CHECK_I64(p.tier_output, 22500000);
    /* LiteLLM's 1-hour price is not read (it is wrong for claude-3-haiku): 2 x input */
    const char *haiku = "{\"claude-3-haiku-20240307\": {\"input_cost_per_token\": 2.5e-07, "
                        "\"output_cost_per_token\": 1.25e-06, "
                        "\"cache_creation_input_token_cost_above_1hr\": 6e-06}}";
    CHECK_OK(st, ab_price_import_litellm(st, haiku, strlen(haiku), &n));
    CHECK_OK(st, ab_price_get(st, "claude-3-haiku-20240307", &p));
    CHECK_I64(p.cache_write_1h, 500000);
    CHECK_OK(st, ab_price_get(st, "acme-embed", &p));
    CHECK_I64(p.input, 100000);
    CHECK_I64(p.cache_read, 100000); /* no cache price: the input price */
    /* several tiers: the last one is the tier, a field it lacks is the base price, not the
     * earlier tier's (output 4 and cache read 0.5 were taken from the 128k tier) */
    const char *multi = "{\"multi\": {\"input_cost_per_token\": 1e-06, "
                        "\"output_cost_per_token\": 2e-06, "
                        "\"input_cost_per_token_above_128k_tokens\": 2e-06, "
                        "\"output_cost_per_token_above_128k_tokens\": 4e-06, "
                        "\"cache_read_input_token_cost_above_128k_tokens\": 5e-07, "
                        "\"input_cost_per_token_above_200k_tokens\": 3e-06}}";
    CHECK_OK(st, ab_price_import_litellm(st, multi, strlen(multi), &n));
    CHECK_OK(st, ab_price_get(st, "multi", &p));
    CHECK_I64(p.tier_threshold_tokens, 200000);
    CHECK_I64(p.tier_input, 3000000);
    CHECK_I64(p.tier_output, 2000000);
    CHECK_I64(p.tier_cache_read, 1000000);
    CHECK_I64(p.tier_cache_write_5m, 1000000);
    /* zeros are free prices, and a tiny number in a string is no number */
    const char *zeros = "{\"free\": {\"input_cost_per_token\": 0.0, \"output_cost_per_token\": "
                        "0e-400, \"max_tokens\": 1e5, \"note\": \"\\\" 1e-400\"}}";
    CHECK_OK(st, ab_price_import_litellm(st, zeros, strlen(zeros), &n));
    CHECK_I64(n, 1);
    CHECK_OK(st, ab_price_get(st, "free", &p));
    CHECK_I64(p.input, 0);
    CHECK_I64(p.output, 0);
    /* bad documents import nothing and name the problem */
    const char *bad[] = {
        "[1,2]",
        "{\"m\": {\"input_cost_per_token\": -1e-06, "
        "\"output_cost_per_token\": 1e-06}}",
        "{\"m\": {\"input_cost_per_token\": \"3\", \"output_cost_per_token\": 1}}",
        "{\"m\": {\"input_cost_per_token\": 1e-20, \"output_cost_per_token\": 1}}",
        "{\"bad\\u0001model\": {\"input_cost_per_token\": 1e-06, "
        "\"output_cost_per_token\": 1e-06}}",
        /* 6,000,000 USD per token: above AB_PRICE_UUSD_MAX (fuzz finding) */
        "{\"m\": {\"input_cost_per_token\": 6e+06, \"output_cost_per_token\": 1}}",
        /* 900 USD per token is in range, its 1-hour cache write (2 x) is not,
         * as price set says */
        "{\"m\": {\"input_cost_per_token\": 900, \"output_cost_per_token\": 1}}",
        /* <synthetic> always costs 0: a price for it would be listed, never used */
        "{\"<synthetic>\": {\"input_cost_per_token\": 1e-06, "
        "\"output_cost_per_token\": 1e-06}}",
        /* a bad field of a tier that has no input price (it was never read) */
        "{\"m\": {\"input_cost_per_token\": 3e-06, \"output_cost_per_token\": 1.5e-05, "
        "\"output_cost_per_token_above_200k_tokens\": \"bad\"}}",
        "{\"m\": {\"input_cost_per_token\": 3e-06, \"output_cost_per_token\": 1.5e-05, "
        "\"cache_read_input_token_cost_above_128k_tokens\": -1e-06}}",
        /* under a double's range: jansson reads it as 0, a free price (and an unread field
         * too: a number that small is no price file's) */
        "{\"m\": {\"input_cost_per_token\": 1e-400, \"output_cost_per_token\": 1e-06}}",
        "{\"m\": {\"input_cost_per_token\": 0.00000000000000000000001e-380, "
        "\"output_cost_per_token\": 1e-06}}",
        "{\"m\": {\"input_cost_per_token\": 1e-06, \"output_cost_per_token\": 1e-06, "
        "\"x\": [\"1e-400\", -1E-99999999999999999999]}}",
        "{\"broken\": "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = 99;
        CHECK_RC(st, ab_price_import_litellm(st, bad[i], strlen(bad[i]), &n), AB_EINVAL);
        CHECK_I64(n, 0);
        if (strstr(bad[i], ": 1e-400"))
            CHECK(strstr(ab_store_errmsg(st), "line 1 column 32: 1e-400: a number under") != NULL);
        if (strstr(bad[i], "\"bad\""))
            CHECK(strstr(ab_store_errmsg(st), "'m'.output_cost_per_token_above_200k_tokens") !=
                  NULL);
    }
    CHECK(strstr(ab_store_errmsg(st), "line") != NULL);
    CHECK_RC(st, ab_price_get(st, "m", &p), AB_EUNKNOWNMODEL);
    ab_store_close(st);
}

int main(int argc, char **argv)
{
    test_costs();
    test_lookup();
    test_table_matches_data(argc > 1 ? argv[1] : "data/models.json");
    test_store_prices();
    test_import();
    return test_summary("prices");
}
