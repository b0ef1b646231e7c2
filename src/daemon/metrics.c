/* metrics.c — Prometheus counters of agentbudgetd: requests and latency by route and status,
 * spend and tokens by budget and model, denials by reason, group-commit batch sizes, store
 * errors; open holds per budget are read from the store at scrape time. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

#define SERIES_MAX 4096 /* per family: labels come from outside, so they are bounded */
#define SLOTS 8192      /* a family's hash index: twice SERIES_MAX, a power of two */
#define OTHER "_other"  /* the label values of a full family's last series */
#define BUCKETS 12

/* spend and token sums: each update adds up to INT64_MAX, so an int64 counter could wrap */
__extension__ typedef unsigned __int128 u128;

static const double latency_buckets[BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                0.05,   0.1,   0.25,   0.5,   1.0,  5.0};
static const double batch_buckets[BUCKETS] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096};

typedef struct {
    char a[AB_PATH_BYTES_MAX + 1]; /* two label values: a budget path, a route or a reason */
    char b[AB_NAME_BYTES_MAX];     /* a model name or a status */
    int64_t count;
    u128 nusd; /* spend family: nUSD and tokens, exact */
    u128 tokens;
    uint64_t buckets[BUCKETS];
    double sum;
} series;

/* SERIES_MAX series found by their labels' hash, then one more, (_other, _other), that takes
 * every update of a label pair that found the family full: the family's sums stay whole. */
typedef struct {
    series *s;
    size_t n;          /* series in s, the _other one included once made */
    uint16_t *slot;    /* SLOTS places: series index + 1, 0 empty */
    size_t overflowed; /* updates taken by _other */
} family;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static family requests, spend, denials;
static uint64_t batch_buckets_n[BUCKETS], batch_count;
static double batch_sum;
static uint64_t store_errors, batch_replays;

static uint64_t hash2(const char *a, const char *b)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *a; a++)
        h = (h ^ (unsigned char)*a) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL; /* no byte of a label: ("ab","") is not ("a","b") */
    for (; *b; b++)
        h = (h ^ (unsigned char)*b) * 1099511628211ULL;
    return h;
}

/* The place in f's index of the series labelled (a, b), or of the empty place where it goes. */
static size_t slot_of(const family *f, const char *a, const char *b)
{
    size_t i = hash2(a, b) & (SLOTS - 1);
    for (; f->slot[i]; i = (i + 1) & (SLOTS - 1)) {
        const series *s = &f->s[f->slot[i] - 1];
        if (strcmp(s->a, a) == 0 && strcmp(s->b, b) == 0)
            break;
    }
    return i;
}

/* A new series (a, b) at the empty place i of the index. */
static series *make(family *f, size_t i, const char *a, const char *b)
{
    series *s = &f->s[f->n++];
    snprintf(s->a, sizeof s->a, "%s", a);
    snprintf(s->b, sizeof s->b, "%s", b);
    f->slot[i] = (uint16_t)f->n;
    return s;
}

/* The series labelled (a, b), made if new; the family's _other series once it holds
 * SERIES_MAX; NULL only if out of memory. */
static series *find(family *f, const char *a, const char *b)
{
    if (!f->s && (!(f->s = calloc(SERIES_MAX + 1, sizeof *f->s)) ||
                  !(f->slot = calloc(SLOTS, sizeof *f->slot)))) {
        free(f->s);
        f->s = NULL;
        return NULL;
    }
    size_t i = slot_of(f, a, b);
    if (f->slot[i])
        return &f->s[f->slot[i] - 1];
    if (f->n >= SERIES_MAX) { /* full: _other, indexed as any series (it may be a real one) */
        f->overflowed++;
        size_t j = slot_of(f, OTHER, OTHER);
        return f->slot[j] ? &f->s[f->slot[j] - 1] : make(f, j, OTHER, OTHER);
    }
    return make(f, i, a, b);
}

void abd_metrics_request(const char *route, int status, double seconds)
{
    char st[8];
    snprintf(st, sizeof st, "%d", status);
    pthread_mutex_lock(&lock);
    series *s = find(&requests, route, st);
    if (s) {
        s->count++;
        s->sum += seconds;
        for (int i = 0; i < BUCKETS; i++)
            if (seconds <= latency_buckets[i])
                s->buckets[i]++;
    }
    pthread_mutex_unlock(&lock);
}

void abd_metrics_batch(size_t size)
{
    pthread_mutex_lock(&lock);
    batch_count++;
    batch_sum += (double)size;
    for (int i = 0; i < BUCKETS; i++)
        if ((double)size <= batch_buckets[i])
            batch_buckets_n[i]++;
    pthread_mutex_unlock(&lock);
}

void abd_metrics_batch_replay(void)
{
    pthread_mutex_lock(&lock);
    batch_replays++;
    pthread_mutex_unlock(&lock);
}

void abd_metrics_store_error(void)
{
    pthread_mutex_lock(&lock);
    store_errors++;
    pthread_mutex_unlock(&lock);
}

void abd_metrics_denial_reason(const ab_decision *d, char reason[ABD_DENIAL_REASON_BYTES])
{
    if (d->budget[0])
        snprintf(reason, ABD_DENIAL_REASON_BYTES, "%s/%s", ab_metric_name(d->metric),
                 ab_window_name(d->window));
    else
        snprintf(reason, ABD_DENIAL_REASON_BYTES, "role");
}

void abd_metrics_denial(const char *reason)
{
    pthread_mutex_lock(&lock);
    series *s = find(&denials, reason, "");
    if (s)
        s->count++;
    pthread_mutex_unlock(&lock);
}

/* Adds v (a cost or a token count, never negative) to a sum. 2^65 additions of INT64_MAX fill
 * 128 bits, so the sum stays exact; were it ever full it would stay full, never wrap. */
static void sum_add(u128 *sum, int64_t v)
{
    if (v > 0 && __builtin_add_overflow(*sum, (u128)v, sum))
        *sum = ~(u128)0;
}

void abd_metrics_spend(const char *budget, const char *model, int64_t nusd, int64_t tokens)
{
    pthread_mutex_lock(&lock);
    series *s = find(&spend, budget, model);
    if (s) {
        sum_add(&s->nusd, nusd);
        sum_add(&s->tokens, tokens);
    }
    pthread_mutex_unlock(&lock);
}

/* v in decimal digits; buf holds at least 40 bytes (2^128 has 39 digits). */
static char *u128_format(u128 v, char *buf)
{
    char rev[40];
    size_t n = 0;
    do {
        rev[n++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        buf[i] = rev[n - 1 - i];
    buf[n] = '\0';
    return buf;
}

/* nusd as USD, as ab_usd_format() prints it ("1.234568", "2.00"), past INT64_MAX too. */
static void usd_print(FILE *f, u128 nusd)
{
    char whole[40], frac[32];
    /* the fraction as the library prints it, "0.234568": its digits after "0" */
    ab_usd_format((int64_t)(nusd % 1000000000), frac, sizeof frac);
    fprintf(f, "%s%s", u128_format(nusd / 1000000000, whole), frac + 1);
}

/* Label values need \, " and newlines escaped. */
static void label(FILE *f, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            fprintf(f, "\\%c", *v);
        else if (*v == '\n')
            fputs("\\n", f);
        else
            fputc(*v, f);
    }
}

static int holds_line(const ab_budget_status *b, void *v)
{
    FILE *f = v;
    fputs("agentbudget_holds_open{budget=\"", f);
    label(f, b->path);
    fprintf(f, "\"} %" PRId64 "\n", b->holds_open);
    return 0;
}

char *abd_metrics_render(ab_store *st)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    pthread_mutex_lock(&lock);
    fputs("# HELP agentbudget_requests_total HTTP requests by route and status.\n"
          "# TYPE agentbudget_requests_total counter\n",
          f);
    for (size_t i = 0; i < requests.n; i++) {
        fputs("agentbudget_requests_total{route=\"", f);
        label(f, requests.s[i].a);
        fprintf(f, "\",status=\"%s\"} %" PRId64 "\n", requests.s[i].b, requests.s[i].count);
    }
    fputs("# HELP agentbudget_request_duration_seconds Time to answer a request.\n"
          "# TYPE agentbudget_request_duration_seconds histogram\n",
          f);
    for (size_t i = 0; i < requests.n; i++) {
        series *s = &requests.s[i];
        for (int k = 0; k < BUCKETS; k++) {
            fputs("agentbudget_request_duration_seconds_bucket{route=\"", f);
            label(f, s->a);
            fprintf(f, "\",status=\"%s\",le=\"%g\"} %" PRIu64 "\n", s->b, latency_buckets[k],
                    s->buckets[k]);
        }
        fputs("agentbudget_request_duration_seconds_bucket{route=\"", f);
        label(f, s->a);
        fprintf(f, "\",status=\"%s\",le=\"+Inf\"} %" PRId64 "\n", s->b, s->count);
        fputs("agentbudget_request_duration_seconds_sum{route=\"", f);
        label(f, s->a);
        fprintf(f, "\",status=\"%s\"} %.6f\n", s->b, s->sum);
        fputs("agentbudget_request_duration_seconds_count{route=\"", f);
        label(f, s->a);
        fprintf(f, "\",status=\"%s\"} %" PRId64 "\n", s->b, s->count);
    }
    fputs("# HELP agentbudget_spend_usd_total Spend recorded through this daemon (charge, "
          "commit).\n# TYPE agentbudget_spend_usd_total counter\n",
          f);
    for (size_t i = 0; i < spend.n; i++) {
        fputs("agentbudget_spend_usd_total{budget=\"", f);
        label(f, spend.s[i].a);
        fputs("\",model=\"", f);
        label(f, spend.s[i].b);
        fputs("\"} ", f);
        usd_print(f, spend.s[i].nusd);
        fputc('\n', f);
    }
    fputs("# HELP agentbudget_tokens_total Tokens recorded through this daemon.\n"
          "# TYPE agentbudget_tokens_total counter\n",
          f);
    for (size_t i = 0; i < spend.n; i++) {
        char tokens[40];
        fputs("agentbudget_tokens_total{budget=\"", f);
        label(f, spend.s[i].a);
        fputs("\",model=\"", f);
        label(f, spend.s[i].b);
        fprintf(f, "\"} %s\n", u128_format(spend.s[i].tokens, tokens));
    }
    fputs("# HELP agentbudget_denials_total Denied requests by the limit (metric/window) or role "
          "that decided.\n# TYPE agentbudget_denials_total counter\n",
          f);
    for (size_t i = 0; i < denials.n; i++) {
        fputs("agentbudget_denials_total{reason=\"", f);
        label(f, denials.s[i].a);
        fprintf(f, "\"} %" PRId64 "\n", denials.s[i].count);
    }
    fputs("# HELP agentbudget_batch_size Requests made durable by one group commit.\n"
          "# TYPE agentbudget_batch_size histogram\n",
          f);
    for (int k = 0; k < BUCKETS; k++)
        fprintf(f, "agentbudget_batch_size_bucket{le=\"%g\"} %" PRIu64 "\n", batch_buckets[k],
                batch_buckets_n[k]);
    fprintf(f,
            "agentbudget_batch_size_bucket{le=\"+Inf\"} %" PRIu64 "\n"
            "agentbudget_batch_size_sum %.0f\nagentbudget_batch_size_count %" PRIu64 "\n",
            batch_count, batch_sum, batch_count);
    fprintf(f,
            "# HELP agentbudget_batch_replays_total Group commits run again as savepoints (a "
            "request failed after it wrote).\n# TYPE agentbudget_batch_replays_total counter\n"
            "agentbudget_batch_replays_total %" PRIu64 "\n",
            batch_replays);
    fprintf(f,
            "# HELP agentbudget_store_errors_total Store failures (group commits or requests).\n"
            "# TYPE agentbudget_store_errors_total counter\nagentbudget_store_errors_total "
            "%" PRIu64 "\n",
            store_errors);
    fprintf(f,
            "# HELP agentbudget_metric_series_dropped_total Updates of a new label set that "
            "found its family full (%d series) and went to the family's series labelled "
            "\"" OTHER "\".\n# TYPE agentbudget_metric_series_dropped_total counter\n"
            "agentbudget_metric_series_dropped_total %zu\n",
            SERIES_MAX, requests.overflowed + spend.overflowed + denials.overflowed);
    pthread_mutex_unlock(&lock);
    fputs("# HELP agentbudget_holds_open Open holds counted in each budget.\n"
          "# TYPE agentbudget_holds_open gauge\n",
          f);
    if (st && ab_budget_list(st, NULL, holds_line, f) != AB_OK)
        abd_metrics_store_error();
    fclose(f);
    return buf;
}
