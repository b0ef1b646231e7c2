/* fuzz_limit_path.c — ab_limit_parse (round trip through ab_limit_format) and ab_path_validate
 * on any string. */
#include "fuzz.h"

/* A valid path by the header's rule, checked independently of the library. */
static int path_ok(const char *p)
{
    size_t segs = 0;
    while (1) {
        size_t n = strcspn(p, "/");
        if (n < 1 || n > AB_PATH_SEGMENT_BYTES_MAX)
            return 0;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)p[i];
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  strchr("._:@-", c)))
                return 0;
        }
        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return 0;
        if (++segs > AB_PATH_SEGMENTS_MAX)
            return 0;
        if (!p[n])
            return 1;
        p += n + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_strndup(data, size);
    if (!s)
        return 0;
    ab_limit l, m;
    if (ab_limit_parse(s, &l) == AB_OK) {
        char buf[64];
        FUZZ_CHECK((int)l.metric >= 0 && (int)l.metric < AB_METRIC_COUNT);
        FUZZ_CHECK((int)l.window >= 0 && (int)l.window < AB_WINDOW_COUNT);
        FUZZ_CHECK(l.amount >= 0);
        FUZZ_CHECK(ab_limit_format(&l, buf, sizeof buf) != NULL);
        FUZZ_CHECK(ab_limit_parse(buf, &m) == AB_OK);
        FUZZ_CHECK(m.metric == l.metric && m.window == l.window && m.amount == l.amount);
    }
    int rc = ab_path_validate(s);
    FUZZ_CHECK(rc == AB_OK || rc == AB_EINVAL);
    FUZZ_CHECK((rc == AB_OK) == path_ok(s));
    free(s);
    return 0;
}
