/* import.c — reads LiteLLM's model_prices_and_context_window.json into store prices.
 * LiteLLM gives USD per token as JSON numbers; each is turned back into its shortest decimal
 * text (exact for up to 15 significant digits) and parsed exactly into micro-USD per million
 * tokens. A price finer than that unit is refused rather than rounded, and so is a number too
 * small for a double (jansson reads 1e-400 as 0: a price that would be free). */
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define IMPORT_MODELS_MAX 20000

/* "3e-06" (USD per token) -> 3000000 (uUSD per Mtok), exactly, or AB_EINVAL. */
static int per_token_parse(const char *s, int64_t *out)
{
    int64_t mant = 0;
    int exp10 = 12, digits = 0; /* x 10^12: USD/token -> uUSD/Mtok */
    const char *p = s;
    if (*p == '-')
        return AB_EINVAL;
    for (; *p >= '0' && *p <= '9'; p++, digits++)
        if (__builtin_mul_overflow(mant, 10, &mant) ||
            __builtin_add_overflow(mant, *p - '0', &mant))
            return AB_EOVERFLOW;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++, digits++, exp10--)
            if (__builtin_mul_overflow(mant, 10, &mant) ||
                __builtin_add_overflow(mant, *p - '0', &mant))
                return AB_EOVERFLOW;
    if (!digits)
        return AB_EINVAL;
    if (*p == 'e' || *p == 'E') {
        char *end;
        long e = strtol(p + 1, &end, 10);
        if (end == p + 1 || *end || e < -400 || e > 400)
            return AB_EINVAL;
        exp10 += (int)e;
    } else if (*p) {
        return AB_EINVAL;
    }
    for (; exp10 > 0; exp10--)
        if (__builtin_mul_overflow(mant, 10, &mant))
            return AB_EOVERFLOW;
    for (; exp10 < 0; exp10++) {
        if (mant % 10)
            return AB_EINVAL;
        mant /= 10;
    }
    if (mant > AB_PRICE_UUSD_MAX)
        return AB_EOVERFLOW;
    *out = mant;
    return AB_OK;
}

/* Reads field of entry into *out; absent leaves *out alone. */
static int field(ab_store *st, const char *model, json_t *entry, const char *name, int64_t *out)
{
    json_t *v = json_object_get(entry, name);
    if (!v || json_is_null(v))
        return AB_OK;
    char text[64];
    if (json_is_integer(v))
        snprintf(text, sizeof text, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(text, sizeof text, "%.15g", json_real_value(v));
    else
        return ab__fail(st, AB_EINVAL, "price file: '%s'.%s: must be a number", model, name);
    if (per_token_parse(text, out))
        return ab__fail(st, AB_EINVAL,
                        "price file: '%s'.%s: %s is not a non-negative USD-per-token price in "
                        "whole micro-USD per million tokens, at most 1000 USD per token",
                        model, name, text);
    return AB_OK;
}

static int entry_to_price(ab_store *st, const char *model, json_t *entry, ab_price *p, int *skip)
{
    memset(p, 0, sizeof *p);
    *skip = 1;
    if (!json_is_object(entry) || strcmp(model, "sample_spec") == 0)
        return AB_OK;
    if (!json_object_get(entry, "input_cost_per_token") ||
        !json_object_get(entry, "output_cost_per_token"))
        return AB_OK;
    if (ab__name_valid(st, "price file: model name", model))
        return AB_EINVAL;
    ab__strlcpy(p->model, model, sizeof p->model);
    p->input = p->output = -1;
    p->cache_write_5m = p->cache_write_1h = p->cache_read = -1;
    p->tier_input = p->tier_output = p->tier_cache_write_5m = -1;
    p->tier_cache_write_1h = p->tier_cache_read = -1;
    int rc;
    if ((rc = field(st, model, entry, "input_cost_per_token", &p->input)) ||
        (rc = field(st, model, entry, "output_cost_per_token", &p->output)) ||
        (rc = field(st, model, entry, "cache_creation_input_token_cost", &p->cache_write_5m)) ||
        (rc = field(st, model, entry, "cache_read_input_token_cost", &p->cache_read)))
        return rc;
    if (p->input < 0 || p->output < 0) /* explicit nulls: no token price */
        return AB_OK;
    /* Several tiers (128k, 200k, 272k): the last one present is the price's tier, all of its
     * fields from it (one it lacks is the base price, as in LiteLLM), none from another tier. */
    static const char *const tiers[] = {"128k", "200k", "272k"};
    static const char *const fields[] = {"input_cost_per_token", "output_cost_per_token",
                                         "cache_creation_input_token_cost",
                                         "cache_read_input_token_cost"};
    int64_t *tier_of[] = {&p->tier_input, &p->tier_output, &p->tier_cache_write_5m,
                          &p->tier_cache_read};
    const int64_t base[] = {p->input, p->output,
                            p->cache_write_5m < 0 ? p->input : p->cache_write_5m,
                            p->cache_read < 0 ? p->input : p->cache_read};
    for (int i = 0; i < 3; i++) {
        /* every field of every tier is read, so a bad one is refused even in a tier that has
         * no input price (and so is no tier) */
        int64_t v[4] = {-1, -1, -1, -1};
        for (int f = 0; f < 4; f++) {
            char name[96];
            snprintf(name, sizeof name, "%s_above_%s_tokens", fields[f], tiers[i]);
            if ((rc = field(st, model, entry, name, &v[f])))
                return rc;
        }
        if (v[0] < 0)
            continue;
        p->tier_threshold_tokens = atoi(tiers[i]) * 1000;
        for (int f = 0; f < 4; f++)
            *tier_of[f] = v[f] < 0 ? base[f] : v[f];
    }
    /* LiteLLM's conventions: no cache price means the input price. Its 1-hour cache-write
     * price is not read: Anthropic bills 2 x input, and LiteLLM has it wrong for some models
     * (data/pricing-notes.md); ab_price_fill_defaults() sets 2 x input. */
    if (p->cache_write_5m < 0)
        p->cache_write_5m = p->input;
    if (p->cache_read < 0)
        p->cache_read = p->input;
    ab_price_fill_defaults(p);
    *skip = 0;
    return ab__price_valid(st, p) ? ab__fail(st, AB_EINVAL, "price file: %s", st->errmsg) : AB_OK;
}

/* The decimal order of magnitude of the JSON number at p (10^order <= |value| < 10^(order+1)),
 * or LONG_MAX for 0; *len receives the number's length. By hand: strtod follows the locale. */
static long number_order(const char *p, size_t *len)
{
    const char *s = p + (*p == '-'), *digits = s;
    long order = LONG_MAX, exp = 0, sign = 1;
    size_t int_digits = strspn(s, "0123456789");
    for (size_t k = 0; k < int_digits && order == LONG_MAX; k++)
        if (s[k] != '0')
            order = (long)(int_digits - 1 - k);
    s += int_digits;
    if (*s == '.')
        for (s++; *s >= '0' && *s <= '9'; s++)
            if (*s != '0' && order == LONG_MAX)
                order = -(long)(s - digits - (long)int_digits);
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '-' || *s == '+')
            sign = *s++ == '-' ? -1 : 1;
        for (; *s >= '0' && *s <= '9'; s++)
            if (exp < 1000000)
                exp = exp * 10 + (*s - '0');
    }
    *len = (size_t)(s - p);
    return order == LONG_MAX ? order : order + sign * exp;
}

/* The first number in the document, outside its strings, that is not 0 and under 1e-300, where
 * a double reads 1e-400 as 0 and a price 1e-400 would import as free (no price in whole
 * micro-USD per million tokens is under 1e-18 USD per token): AB_EINVAL, naming its line and
 * column. json has been read by jansson: it is valid JSON, a number is never its last byte. */
static int tiny_number_check(ab_store *st, const char *json, size_t len)
{
    int line = 1, col = 0, in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char c = json[i];
        col++;
        if (c == '\n') {
            line++;
            col = 0;
        } else if (in_str) {
            if (c == '\\')
                i++, col++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            size_t n;
            if (number_order(json + i, &n) < -300)
                return ab__fail(st, AB_EINVAL,
                                "price file: line %d column %d: %.*s: a number under 1e-300 and "
                                "not 0 is too small for a price (a double reads it as 0 or "
                                "loses its digits)",
                                line, col, (int)(n < 40 ? n : 40), json + i);
            col += (int)n - 1;
            i += n - 1;
        }
    }
    return AB_OK;
}

int ab_price_import_litellm(ab_store *st, const char *json, size_t len, size_t *imported)
{
    *imported = 0;
    json_error_t err;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
    /* out of memory is not always said so: a failed allocation can leave the error with no
     * position and no text (seen under an address-space limit), where a bad document always
     * has a position */
    if (!root && (json_error_code(&err) == json_error_out_of_memory || err.line < 0))
        return ab__fail(st, AB_ENOMEM, "price file: out of memory");
    if (!root)
        return ab__fail(st, AB_EINVAL, "price file: line %d column %d: %s", err.line, err.column,
                        err.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return ab__fail(st, AB_EINVAL, "price file: the top level must be an object of models");
    }
    if (tiny_number_check(st, json, len)) {
        json_decref(root);
        return AB_EINVAL;
    }
    if (json_object_size(root) > IMPORT_MODELS_MAX) {
        json_decref(root);
        return ab__fail(st, AB_EINVAL, "price file: more than %d models", IMPORT_MODELS_MAX);
    }
    ab_price *prices = malloc((json_object_size(root) + 1) * sizeof *prices);
    if (!prices) {
        json_decref(root);
        return ab__fail(st, AB_ENOMEM, "out of memory");
    }
    size_t n = 0;
    const char *model;
    json_t *entry;
    int rc = AB_OK, skip;
    json_object_foreach(root, model, entry)
    {
        if ((rc = entry_to_price(st, model, entry, &prices[n], &skip)))
            break;
        n += !skip;
    }
    json_decref(root);
    if (rc == AB_OK && (rc = ab__txn_begin(st, 1)) == AB_OK) {
        for (size_t i = 0; i < n && !rc; i++)
            rc = st->ops->price_put(st, &prices[i]);
        if (rc == AB_OK) {
            ab_event e;
            ab__event_init(st, &e, "", "price", ab__now(st));
            snprintf(e.reason, sizeof e.reason, "imported %zu price%s (LiteLLM format)", n,
                     n == 1 ? "" : "s");
            rc = st->ops->event_append(st, &e);
        }
        rc = ab__txn_finish(st, rc);
    }
    free(prices);
    if (rc == AB_OK)
        *imported = n;
    return rc;
}
