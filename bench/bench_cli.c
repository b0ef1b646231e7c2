/* bench_cli.c — whole-process wall time of `agentbudget check AGENT --tokens 1000` against a
 * SQLite store of 10,000 budgets, beside the sqlite3 shell (`sqlite3 FILE 'select 1'`) on the
 * same file; the two run in alternation, each fork/exec + wait timed with CLOCK_MONOTONIC.
 *
 * usage: bench_cli PATH/TO/agentbudget [SQLITE3]   (SQLITE3 default: sqlite3 from $PATH) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fcntl.h>

#include "agentbudget.h"

#define BUDGETS 10000
#define RUNS 200
#define WARMUP 10
#define TARGET_RATIO 1.5

static char dir[] = "/tmp/abbench-cli-XXXXXX";

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile (0..1) of v, sorting v. */
static double quantile(double *v, size_t n, double q)
{
    qsort(v, n, sizeof *v, cmp_double);
    double pos = q * (double)(n - 1);
    size_t i = (size_t)pos;
    return i + 1 < n ? v[i] + (pos - (double)i) * (v[i + 1] - v[i]) : v[i];
}

/* Creates the store with BUDGETS budgets in one process. sync=normal: no fsync per set. */
static void populate(const char *file)
{
    char url[600];
    snprintf(url, sizeof url, "sqlite:%s?sync=normal", file);
    ab_store *st;
    int rc = ab_store_open(url, &st);
    const ab_limit limits[] = {
        {AB_METRIC_USD, AB_WINDOW_DAY, 10 * AB_NUSD_PER_USD},
        {AB_METRIC_TOKENS, AB_WINDOW_SESSION, 1000000},
    };
    ab_budget_spec spec = {.limits = limits, .limits_count = 2};
    for (int i = 0; i < BUDGETS && !rc; i++) {
        char path[32];
        snprintf(path, sizeof path, "agent-%05d", i);
        rc = ab_budget_set(st, path, &spec, NULL, NULL);
    }
    if (rc) {
        fprintf(stderr, "error: populate '%s': %s (%s)\n", file, ab_strerror(rc),
                ab_store_errmsg(st));
        exit(1);
    }
    ab_store_close(st);
}

/* Runs argv to completion with stdout/stderr on /dev/null; returns the wall time in ms and
 * stores the exit status (-1 if it did not exit normally). */
static double run(char *const argv[], int *status)
{
    double t0 = now_ms();
    pid_t pid = fork();
    if (pid < 0) {
        perror("error: fork");
        exit(1);
    }
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    int ws;
    while (waitpid(pid, &ws, 0) < 0)
        if (errno != EINTR) {
            perror("error: waitpid");
            exit(1);
        }
    double t = now_ms() - t0;
    *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
    return t;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_cli PATH/TO/agentbudget [SQLITE3]\n");
        return 2;
    }
    char *cli = argv[1], *shell = argc > 2 ? argv[2] : "sqlite3";
    if (!mkdtemp(dir)) {
        perror("error: mkdtemp");
        return 1;
    }
    char file[512], env[600], agent[32];
    snprintf(file, sizeof file, "%s/budget.db", dir);
    populate(file);
    /* the store a hook would name: the environment, as hooks set it */
    snprintf(env, sizeof env, "sqlite:%s", file);
    setenv("AGENTBUDGET_STORE", env, 1);

    char *ours_argv[] = {cli, "check", agent, "--tokens", "1000", NULL};
    char *shell_argv[] = {shell, file, "select 1", NULL};
    static double ours[RUNS], base[RUNS];
    int status;
    for (int i = 0; i < WARMUP + RUNS; i++) {
        snprintf(agent, sizeof agent, "agent-%05d", (i * 7919) % BUDGETS);
        double a = run(ours_argv, &status);
        if (status != 0) {
            fprintf(stderr, "error: '%s check %s' exited with %d (expected 0, allowed)\n", cli,
                    agent, status);
            return 1;
        }
        double b = run(shell_argv, &status);
        if (status != 0) {
            fprintf(stderr, "error: '%s %s \"select 1\"' exited with %d%s\n", shell, file, status,
                    status == 127 ? " (not installed? apt-get install -y sqlite3)" : "");
            return 1;
        }
        if (i >= WARMUP) {
            ours[i - WARMUP] = a;
            base[i - WARMUP] = b;
        }
    }
    double o50 = quantile(ours, RUNS, 0.5), o90 = quantile(ours, RUNS, 0.9);
    double b50 = quantile(base, RUNS, 0.5), b90 = quantile(base, RUNS, 0.9);
    double ratio = o50 / b50;
    printf("{\"bench\":\"cli_check_wall\",\"unit\":\"ms\",\"median_ms\":%.3f,\"p90_ms\":%.3f,"
           "\"baseline\":%.3f,\"baseline_p90_ms\":%.3f,\"baseline_what\":\"sqlite3 FILE 'select "
           "1'\",\"ratio\":%.4f,\"target\":%.1f,\"target_kind\":\"ratio_max\",\"meets_target\":%s,"
           "\"budgets\":%d,\"runs\":%d}\n",
           o50, o90, b50, b90, ratio, TARGET_RATIO, ratio <= TARGET_RATIO ? "true" : "false",
           BUDGETS, RUNS);
    unlink(file);
    char side[600];
    snprintf(side, sizeof side, "%s-wal", file);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", file);
    unlink(side);
    rmdir(dir);
    return 0;
}
