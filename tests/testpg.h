/* testpg.h — helpers for tests that run against the throwaway PostgreSQL server that
 * tests/pg/pg_cluster.sh starts (its base URL is in a file). */
#ifndef AB_TESTPG_H
#define AB_TESTPG_H

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads the server's base URL ("postgres://postgres@127.0.0.1:PORT") from path. */
static int pg_base_read(const char *path, char *base, size_t size)
{
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f || !fgets(base, (int)size, f)) {
        fprintf(stderr, "postgres: no server URL file given or readable (%s)\n",
                path ? path : "none");
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    base[strcspn(base, "\n")] = '\0';
    return 0;
}

/* Creates a new, empty database named after the process and n, and writes its URL. */
static int pg_fresh_db(const char *base, int n, char *url, size_t size)
{
    char admin[300], sql[128];
    snprintf(admin, sizeof admin, "%s/postgres", base);
    PGconn *conn = PQconnectdb(admin);
    snprintf(sql, sizeof sql, "CREATE DATABASE ab_t_%d_%d", (int)getpid(), n);
    PGresult *r = PQexec(conn, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "cannot create a test database: %s", PQerrorMessage(conn));
    PQclear(r);
    PQfinish(conn);
    snprintf(url, size, "%s/ab_t_%d_%d", base, (int)getpid(), n);
    return ok ? 0 : -1;
}

/* The URL of a new, empty store of the kind under test: "memory:", a new SQLite file in dir
 * (query, e.g. "?sync=normal" or "", appended), or a new database on the PostgreSQL server at
 * pg_base. n makes it new: one per call. */
static inline int fresh_store_url(const char *kind, const char *dir, const char *pg_base, int n,
                                  const char *query, char *url, size_t size)
{
    if (strcmp(kind, "memory") == 0)
        snprintf(url, size, "memory:");
    else if (strcmp(kind, "sqlite") == 0)
        snprintf(url, size, "sqlite:%s/store%d.db%s", dir, n, query);
    else
        return pg_fresh_db(pg_base, n, url, size);
    return 0;
}

#endif
