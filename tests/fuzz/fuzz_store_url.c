/* fuzz_store_url.c — ab_store_open on fuzzed URLs of the memory: and sqlite: forms. Anything
 * else (postgres://, libpq key=value words) is skipped, and a sqlite: path is confined to a
 * private temporary directory: the fuzzed part keeps its file name (if it is a plain name) and
 * its "?query", the directory is ours. */
#include <dirent.h>
#include <unistd.h>

#include "fuzz.h"

static char tmpdir[64];

static void cleanup(void)
{
    DIR *d = opendir(tmpdir);
    if (!d)
        return;
    struct dirent *de;
    char p[512];
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", tmpdir, de->d_name);
            unlink(p);
        }
    closedir(d);
}

static void remove_tmpdir(void)
{
    cleanup();
    rmdir(tmpdir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/abfuzz.XXXXXX",
             base && *base && strlen(base) < 40 ? base : "/tmp");
    FUZZ_CHECK(mkdtemp(tmpdir) != NULL);
    atexit(remove_tmpdir);
    return 0;
}

/* A file name without '/' that is not "." or "..": kept; anything else becomes "db". */
static const char *file_name(const char *p, size_t n, char *buf, size_t size)
{
    if (n == 0 || n >= size || memchr(p, '/', n) || (n == 1 && p[0] == '.') ||
        (n == 2 && p[0] == '.' && p[1] == '.'))
        return "db";
    memcpy(buf, p, n);
    buf[n] = '\0';
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_strndup(data, size);
    if (!s)
        return 0;
    char url[1024];
    if (strncmp(s, "memory:", 7) == 0) {
        snprintf(url, sizeof url, "%s", s);
    } else if (strncmp(s, "sqlite:", 7) == 0) {
        const char *rest = s + 7;
        if (strncmp(rest, "//", 2) == 0)
            rest += 2;
        const char *qm = strchr(rest, '?');
        size_t n = qm ? (size_t)(qm - rest) : strlen(rest);
        char name[256];
        int len = snprintf(url, sizeof url, "sqlite:%s%s/%s%s", rest == s + 7 ? "" : "//", tmpdir,
                           file_name(rest, n, name, sizeof name), qm ? qm : "");
        if (len < 0 || (size_t)len >= sizeof url) {
            free(s);
            return 0;
        }
    } else {
        free(s); /* other stores are out of bounds here */
        return 0;
    }
    ab_store *st = NULL;
    int rc = ab_store_open(url, &st);
    if (rc == AB_OK) {
        FUZZ_CHECK(st != NULL);
        int version = 0;
        FUZZ_CHECK(ab_store_schema_version(st, &version) == AB_OK && version > 0);
    } else {
        FUZZ_CHECK(rc < 0);
        if (st)
            FUZZ_CHECK(ab_store_errmsg(st) != NULL && ab_store_errmsg(st)[0]);
    }
    ab_store_close(st);
    cleanup();
    free(s);
    return 0;
}
