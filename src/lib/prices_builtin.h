/* prices_builtin.h — the row shape of the generated built-in price table. */
#ifndef AB_PRICES_BUILTIN_H
#define AB_PRICES_BUILTIN_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *name;
    int64_t input, output, cache_write_5m, cache_write_1h, cache_read;
    int64_t tier_threshold_tokens;
    int64_t tier_input, tier_output, tier_cache_write_5m, tier_cache_write_1h, tier_cache_read;
} ab__price_row;

/* Sorted by name (bytewise). */
extern const ab__price_row ab__prices_builtin[];
extern const size_t ab__prices_builtin_count;

#endif
