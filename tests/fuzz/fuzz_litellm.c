/* fuzz_litellm.c — ab_price_import_litellm on any bytes, into a memory: store holding one price
 * already: a failed import must leave that store as it was (all or nothing). */
#include "fuzz.h"

typedef struct {
    size_t count;
    int seed_seen;
    int64_t seed_input;
} listing;

static int list_one(const ab_price *p, void *ctx)
{
    listing *l = ctx;
    FUZZ_CHECK(memchr(p->model, '\0', sizeof p->model) != NULL && p->model[0]);
    if (strcmp(p->model, "fuzz-seed-model") == 0) {
        l->seed_seen = 1;
        l->seed_input = p->input;
    }
    l->count++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ab_store *st = NULL;
    FUZZ_CHECK(ab_store_open("memory:", &st) == AB_OK);
    ab_price seed = {.input = 3000000,
                     .output = 15000000,
                     .cache_write_5m = -1,
                     .cache_write_1h = -1,
                     .cache_read = -1,
                     .tier_cache_write_5m = -1,
                     .tier_cache_write_1h = -1,
                     .tier_cache_read = -1};
    strcpy(seed.model, "fuzz-seed-model");
    ab_price_fill_defaults(&seed);
    FUZZ_CHECK(ab_price_set(st, &seed) == AB_OK);

    /* an exact-size copy, so that ASan sees any read past the document's end */
    char *json = malloc(size ? size : 1);
    FUZZ_CHECK(json != NULL);
    memcpy(json, data, size);
    size_t imported = 12345;
    int rc = ab_price_import_litellm(st, json, size, &imported);
    free(json);

    listing l = {0};
    FUZZ_CHECK(ab_price_list(st, 0, list_one, &l) == AB_OK);
    if (rc != AB_OK) {
        FUZZ_CHECK(rc == AB_EINVAL || rc == AB_ELIMIT);
        FUZZ_CHECK(l.count == 1 && l.seed_seen && l.seed_input == seed.input);
    } else {
        FUZZ_CHECK(l.count >= 1);
        FUZZ_CHECK(l.count <= imported + 1);
    }
    ab_store_close(st);
    return 0;
}
