/* fuzz.h — helpers shared by the libFuzzer harnesses (tests/fuzz/fuzz_*.c). */
#ifndef AB_FUZZ_H
#define AB_FUZZ_H

#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agentbudget.h"

/* A failed property: print what and where, then abort so libFuzzer saves the input. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);            \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The input as a malloc'd NUL-terminated string (bytes after an embedded NUL are ignored by the
 * string parsers, as they would be by any C caller). NULL on allocation failure. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return NULL;
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

static char fuzz_tmp[PATH_MAX];

static inline int fuzz_remove_one(const char *path, const struct stat *sb, int flag,
                                  struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline void fuzz_tmp_remove(void)
{
    nftw(fuzz_tmp, fuzz_remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* A private temporary directory, $TMPDIR/abfuzz-NAME.XXXXXX (or under /tmp), removed with all
 * it holds when the harness exits; NULL if it cannot be made. */
static inline const char *fuzz_tmp_dir(const char *name)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(fuzz_tmp, sizeof fuzz_tmp, "%s/abfuzz-%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
    if (!mkdtemp(fuzz_tmp))
        return NULL;
    atexit(fuzz_tmp_remove);
    return fuzz_tmp;
}

#endif
