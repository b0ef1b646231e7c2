/* fuzz.h — helpers shared by the libFuzzer harnesses (tests/fuzz/fuzz_*.c). */
#ifndef AB_FUZZ_H
#define AB_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#endif
