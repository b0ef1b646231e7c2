/* fuzz_transcript.c — ab_transcript_parse_line on any bytes: a usage entry has its token counts
 * in 0..AB_TRANSCRIPT_TOKENS_MAX and its strings terminated; a bad line says why. */
#include "fuzz.h"

static int terminated(const char *s, size_t size)
{
    return memchr(s, '\0', size) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy, so that ASan sees any read past the line's end */
    char *line = malloc(size ? size : 1);
    if (!line)
        return 0;
    memcpy(line, data, size);
    ab_transcript_entry e;
    int rc = ab_transcript_parse_line(line, size, &e);
    FUZZ_CHECK(rc == AB_OK || rc == AB_EINVAL);
    if (rc == AB_EINVAL)
        FUZZ_CHECK(e.bad_reason != NULL && e.bad_reason[0]);
    if (rc == AB_OK && e.has_usage) {
        const int64_t counts[] = {e.usage.input, e.usage.output, e.usage.cache_write_5m,
                                  e.usage.cache_write_1h, e.usage.cache_read};
        for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
            FUZZ_CHECK(counts[i] >= 0 && counts[i] <= AB_TRANSCRIPT_TOKENS_MAX);
        FUZZ_CHECK(terminated(e.message_id, sizeof e.message_id));
        FUZZ_CHECK(terminated(e.request_id, sizeof e.request_id));
        FUZZ_CHECK(terminated(e.session_id, sizeof e.session_id));
        FUZZ_CHECK(terminated(e.model, sizeof e.model));
        FUZZ_CHECK(e.speed == AB_SPEED_UNSET || e.speed == AB_SPEED_STANDARD ||
                   e.speed == AB_SPEED_FAST);
    }
    free(line);
    return 0;
}
