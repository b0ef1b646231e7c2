/* test.h — a tiny assertion header: each CHECK counts, failures print file:line and go on. */
#ifndef AB_TEST_H
#define AB_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_checks, test_failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        test_checks++;                                                                             \
        if (!(cond)) {                                                                             \
            test_failures++;                                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define CHECK_I64(a, b)                                                                            \
    do {                                                                                           \
        int64_t a_ = (int64_t)(a), b_ = (int64_t)(b);                                              \
        test_checks++;                                                                             \
        if (a_ != b_) {                                                                            \
            test_failures++;                                                                       \
            fprintf(stderr, "%s:%d: %s == %" PRId64 ", expected %s == %" PRId64 "\n", __FILE__,    \
                    __LINE__, #a, a_, #b, b_);                                                     \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        test_checks++;                                                                             \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                                   \
            test_failures++;                                                                       \
            fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a,      \
                    a_ ? a_ : "(null)", b_ ? b_ : "(null)");                                       \
        }                                                                                          \
    } while (0)

/* Checks an AB_ return code, printing the handle's detail on failure. */
#define CHECK_RC(st, expr, want)                                                                   \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        test_checks++;                                                                             \
        if (rc_ != (want)) {                                                                       \
            test_failures++;                                                                       \
            fprintf(stderr, "%s:%d: %s returned %d (%s: %s), expected %d\n", __FILE__, __LINE__,   \
                    #expr, rc_, ab_err_name(rc_), (st) ? ab_store_errmsg(st) : "", (want));        \
        }                                                                                          \
    } while (0)

#define CHECK_OK(st, expr) CHECK_RC(st, expr, AB_OK)

/* Removes a test's temporary directory and what it holds (a warning if it cannot). */
static inline void test_tmpdir_remove(const char *dir)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not remove %s\n", dir);
}

static int test_summary(const char *name)
{
    printf("%s: %d checks, %d passed, %d failed\n", name, test_checks, test_checks - test_failures,
           test_failures);
    return test_failures ? 1 : 0;
}

#endif
