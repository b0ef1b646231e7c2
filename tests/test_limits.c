/* test_limits.c — every size limit of the library (docs/limits.md), once exactly at the limit
 * (accepted, and it works) and once just past it (refused with the documented code, naming the
 * field, and nothing changed). The argument picks the store: memory, sqlite or postgres (then
 * the file holding the test server's base URL), since paths, names and keys of full length must
 * also survive a real store. The process limits (daemon bodies, headers, connections, the hook's
 * stdin, import files) are tested by tests/limits/process_limits.sh. */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "../src/lib/internal.h" /* AB__RETRIES_MAX and the abort injector */
#include "agentbudget.h"
#include "test.h"
#include "testpg.h"

static const char *kind;
static char tmpdir[256], pg_base[256];
static int case_no;

static ab_store *fresh(void)
{
    char url[512];
    if (fresh_store_url(kind, tmpdir, pg_base, ++case_no, "?sync=normal", url, sizeof url))
        exit(2);
    ab_store *st = NULL;
    if (ab_store_open(url, &st)) {
        fprintf(stderr, "cannot open %s: %s\n", url, ab_store_errmsg(st));
        exit(2);
    }
    return st;
}

/* A string of n copies of c (static buffer, one at a time). */
static const char *rep(char c, size_t n)
{
    static char buf[4096];
    memset(buf, c, n);
    buf[n] = '\0';
    return buf;
}

static int count_event(const ab_event *e, void *v)
{
    (void)e;
    ++*(int64_t *)v;
    return 0;
}

static int64_t events_count(ab_store *st)
{
    int64_t n = 0;
    ab_event_query q = {.limit = AB_EVENTS_PAGE_MAX};
    CHECK_OK(st, ab_events_query(st, &q, count_event, &n));
    return n;
}

#define CHECK_ERR_NAMES(st, expr, want, field)                                                     \
    do {                                                                                           \
        CHECK_RC(st, expr, want);                                                                  \
        CHECK(strstr(ab_store_errmsg(st), field) != NULL);                                         \
    } while (0)

static void test_paths(void)
{
    ab_store *st = fresh();
    char at[AB_PATH_BYTES_MAX + 80] = "";
    for (int i = 0; i < AB_PATH_SEGMENTS_MAX; i++) { /* 8 segments of 64 bytes: 519 bytes */
        strcat(at, i ? "/" : "");
        strcat(at, rep((char)('a' + i), AB_PATH_SEGMENT_BYTES_MAX));
    }
    CHECK_I64(strlen(at), AB_PATH_BYTES_MAX - 1);
    ab_budget_spec spec = {0};
    CHECK_OK(st, ab_budget_set(st, at, &spec, NULL, NULL));
    ab_decision d;
    CHECK_OK(st, ab_budget_charge(st, at, NULL, &(ab_usage){.input = 5}, NULL, &d));
    ab_budget_status b;
    CHECK_OK(st, ab_budget_get(st, at, &b));
    CHECK_STR(b.path, at);
    CHECK_I64(b.used[AB_WINDOW_TOTAL][AB_METRIC_TOKENS], 5);
    int64_t events = events_count(st);
    char past[sizeof at + 8];
    strcpy(past, at);
    strcat(past, "/i"); /* a 9th segment */
    CHECK_ERR_NAMES(st, ab_budget_set(st, past, &spec, NULL, NULL), AB_EINVAL, "budget path");
    strcpy(past, at);
    strcat(past, "x"); /* a 65-byte last segment */
    CHECK_ERR_NAMES(st, ab_budget_set(st, past, &spec, NULL, NULL), AB_EINVAL, "budget path");
    CHECK_I64(ab_path_validate(past), AB_EINVAL);
    CHECK_RC(st, ab_budget_get(st, past, &b), AB_EINVAL);
    CHECK_I64(events_count(st), events);
    ab_store_close(st);
}

static void test_names_and_keys(void)
{
    ab_store *st = fresh();
    /* a model name of 127 bytes (its price), and one of 128 */
    ab_price p;
    memset(&p, 0, sizeof p);
    memcpy(p.model, rep('m', AB_NAME_BYTES_MAX - 1), AB_NAME_BYTES_MAX);
    p.input = 1000000;
    p.output = 2000000;
    p.cache_write_5m = p.cache_write_1h = p.cache_read = -1;
    ab_price_fill_defaults(&p);
    CHECK_OK(st, ab_price_set(st, &p));
    ab_price got;
    CHECK_OK(st, ab_price_get(st, rep('m', AB_NAME_BYTES_MAX - 1), &got));
    CHECK_I64(got.output, 2000000);
    ab_budget_spec spec = {0};
    CHECK_OK(st, ab_budget_set(st, "a", &spec, NULL, NULL));
    ab_decision d;
    CHECK_OK(st, ab_budget_charge(st, "a", rep('m', AB_NAME_BYTES_MAX - 1),
                                  &(ab_usage){.output = 1000000}, NULL, &d));
    CHECK_I64(d.cost_nusd, 2000000000);
    CHECK_ERR_NAMES(
        st,
        ab_budget_charge(st, "a", rep('m', AB_NAME_BYTES_MAX), &(ab_usage){.output = 1}, NULL, &d),
        AB_EINVAL, "model");
    /* role names */
    ab_role r;
    memset(&r, 0, sizeof r);
    memcpy(r.name, rep('r', AB_NAME_BYTES_MAX - 1), AB_NAME_BYTES_MAX);
    CHECK_OK(st, ab_role_set(st, &r));
    ab_role back;
    CHECK_OK(st, ab_role_get(st, r.name, &back));
    ab_role_free(&back);
    spec.role = rep('r', AB_NAME_BYTES_MAX);
    CHECK_ERR_NAMES(st, ab_budget_set(st, "b", &spec, NULL, NULL), AB_EINVAL, "role");
    spec.role = NULL;
    /* token labels and actors */
    char secret[AB_TOKEN_SECRET_BYTES + 1];
    ab_token t;
    CHECK_OK(st, ab_token_create(st, "a", AB_TOKEN_AGENT, rep('l', AB_NAME_BYTES_MAX - 1), 0,
                                 secret, &t));
    CHECK_OK(st, ab_token_verify(st, secret, &t));
    CHECK_I64(strlen(t.label), AB_NAME_BYTES_MAX - 1);
    CHECK_ERR_NAMES(
        st, ab_token_create(st, "a", AB_TOKEN_AGENT, rep('l', AB_NAME_BYTES_MAX), 0, secret, &t),
        AB_EINVAL, "label");
    CHECK_OK(st, ab_store_set_actor(st, rep('u', AB_NAME_BYTES_MAX - 1)));
    CHECK_RC(st, ab_store_set_actor(st, rep('u', AB_NAME_BYTES_MAX)), AB_EINVAL);
    /* idempotency keys: 128 bytes work (and replay), 129 are refused */
    char key[AB_KEY_BYTES_MAX + 2];
    memcpy(key, rep('k', AB_KEY_BYTES_MAX), AB_KEY_BYTES_MAX + 1);
    CHECK_OK(st, ab_budget_charge(st, "a", NULL, &(ab_usage){.input = 7}, key, &d));
    CHECK_I64(d.replayed, 0);
    CHECK_OK(st, ab_budget_charge(st, "a", NULL, &(ab_usage){.input = 7}, key, &d));
    CHECK_I64(d.replayed, 1);
    int64_t events = events_count(st);
    strcat(key, "k");
    CHECK_ERR_NAMES(st, ab_budget_charge(st, "a", NULL, &(ab_usage){.input = 7}, key, &d),
                    AB_EINVAL, "key");
    CHECK_I64(events_count(st), events);
    ab_store_close(st);
}

static void test_holds_and_limits(void)
{
    ab_store *st = fresh();
    /* twelve limits (every metric x window) are accepted, a thirteenth is refused */
    ab_limit lim[AB_LIMITS_MAX + 1];
    for (int i = 0; i < AB_LIMITS_MAX + 1; i++)
        lim[i] = (ab_limit){(ab_metric)(i % AB_METRIC_COUNT),
                            (ab_window)(i / AB_METRIC_COUNT % AB_WINDOW_COUNT), 1000000000};
    ab_budget_spec spec = {.limits = lim, .limits_count = AB_LIMITS_MAX};
    CHECK_OK(st, ab_budget_set(st, "a", &spec, NULL, NULL));
    ab_budget_status b;
    CHECK_OK(st, ab_budget_get(st, "a", &b));
    CHECK_I64(b.limit[AB_WINDOW_TOTAL][AB_METRIC_REQUESTS], 1000000000);
    spec.limits_count = AB_LIMITS_MAX + 1;
    CHECK_ERR_NAMES(st, ab_budget_set(st, "a", &spec, NULL, NULL), AB_EINVAL, "limits");
    /* a hold's TTL: 7 days at most */
    ab_decision d;
    ab_usage u = {.input = 1};
    CHECK_OK(st, ab_budget_reserve(st, "a", NULL, &u, AB_TTL_S_MAX, NULL, &d));
    ab_hold h;
    CHECK_OK(st, ab_hold_get(st, d.hold_id, &h));
    CHECK_I64(h.expires_at_ms - h.created_at_ms, (int64_t)AB_TTL_S_MAX * 1000);
    CHECK_ERR_NAMES(st, ab_budget_reserve(st, "a", NULL, &u, AB_TTL_S_MAX + 1, NULL, &d), AB_EINVAL,
                    "ttl");
    /* open holds on one budget: 10,000 (one is open already) */
    int ok = 1;
    if (strcmp(kind, "sqlite") == 0)
        CHECK_OK(st, ab_store_batch_begin(st)); /* 10,000 transactions in one commit */
    for (int i = 1; i < AB_HOLDS_OPEN_MAX && ok; i++)
        ok = ab_budget_reserve(st, "a", NULL, &u, 0, NULL, &d) == AB_OK && d.allowed;
    if (strcmp(kind, "sqlite") == 0)
        CHECK_OK(st, ab_store_batch_commit(st));
    CHECK(ok);
    CHECK_OK(st, ab_budget_get(st, "a", &b));
    CHECK_I64(b.holds_open, AB_HOLDS_OPEN_MAX);
    CHECK_ERR_NAMES(st, ab_budget_reserve(st, "a", NULL, &u, 0, NULL, &d), AB_ELIMIT, "open holds");
    CHECK_OK(st, ab_budget_get(st, "a", &b));
    CHECK_I64(b.holds_open, AB_HOLDS_OPEN_MAX);
    /* a page of events: 10,000 of the 10,000 + 1 there are; 10,001 is refused */
    int64_t n = 0;
    ab_event_query q = {.limit = AB_EVENTS_PAGE_MAX};
    CHECK_OK(st, ab_events_query(st, &q, count_event, &n));
    CHECK_I64(n, AB_EVENTS_PAGE_MAX);
    q.limit = AB_EVENTS_PAGE_MAX + 1;
    CHECK_ERR_NAMES(st, ab_events_query(st, &q, count_event, &n), AB_EINVAL, "limit");
    ab_store_close(st);
}

static void test_roles(void)
{
    ab_store *st = fresh();
    ab_role r;
    memset(&r, 0, sizeof r);
    snprintf(r.name, sizeof r.name, "dev");
    char *pats[AB_GLOBS_MAX + 1];
    for (int i = 0; i <= AB_GLOBS_MAX; i++) {
        char buf[16];
        snprintf(buf, sizeof buf, "tool-%d*", i);
        pats[i] = strdup(buf);
    }
    free(pats[0]);
    pats[0] = strdup(rep('p', AB_NAME_BYTES_MAX * 2 - 1)); /* a pattern of 255 bytes */
    memcpy(r.deny_tools, pats, sizeof(char *) * AB_GLOBS_MAX);
    r.deny_tools_count = AB_GLOBS_MAX;
    CHECK_OK(st, ab_role_set(st, &r));
    ab_role back;
    CHECK_OK(st, ab_role_get(st, "dev", &back));
    CHECK_I64(back.deny_tools_count, AB_GLOBS_MAX);
    CHECK_I64(strlen(back.deny_tools[0]), AB_NAME_BYTES_MAX * 2 - 1);
    ab_role_free(&back);
    r.deny_tools_count = AB_GLOBS_MAX + 1;
    CHECK_ERR_NAMES(st, ab_role_set(st, &r), AB_EINVAL, "patterns");
    r.deny_tools_count = 1;
    char *long_pat = strdup(rep('p', AB_NAME_BYTES_MAX * 2));
    r.deny_tools[0] = long_pat;
    CHECK_ERR_NAMES(st, ab_role_set(st, &r), AB_EINVAL, "pattern");
    CHECK_OK(st, ab_role_get(st, "dev", &back)); /* unchanged */
    CHECK_I64(back.deny_tools_count, AB_GLOBS_MAX);
    ab_role_free(&back);
    free(long_pat);
    /* a permission check's operation: Bash(<command>) of 65,536 bytes is checked whole (the
     * role denies it by the pattern at its start), one of 65,537 is refused */
    ab_budget_spec spec = {.role = "dev"};
    CHECK_OK(st, ab_budget_set(st, "a", &spec, NULL, NULL));
    char *op = malloc(AB_OPERATION_BYTES_MAX + 2);
    memset(op, 'x', AB_OPERATION_BYTES_MAX + 1);
    memcpy(op, "tool-1 ", 7);
    op[AB_OPERATION_BYTES_MAX] = '\0';
    ab_decision d;
    CHECK_OK(st, ab_check_permission(st, "a", op, NULL, &d));
    CHECK_I64(d.allowed, 0);
    CHECK(strstr(d.reason, "tool-1") != NULL);
    op[AB_OPERATION_BYTES_MAX] = 'x';
    op[AB_OPERATION_BYTES_MAX + 1] = '\0';
    CHECK_ERR_NAMES(st, ab_check_permission(st, "a", op, NULL, &d), AB_EINVAL, "operation");
    CHECK(strstr(ab_store_errmsg(st), "role 'dev''s tool patterns") != NULL);
    /* where no tool pattern reads it, a long operation is no policy's business: a budget whose
     * role was never defined, or whose role has model rules only, is checked on its limits
     * (a 64 KiB Bash command was denied "cannot be checked" with no pattern to check) */
    ab_budget_spec free_spec = {.role = "undefined-role"};
    CHECK_OK(st, ab_budget_set(st, "b", &free_spec, NULL, NULL));
    CHECK_OK(st, ab_check_permission(st, "b", op, NULL, &d));
    CHECK_I64(d.allowed, 1);
    ab_role models_only = {
        .name = "models-only", .deny_models = {"claude-opus-*"}, .deny_models_count = 1};
    CHECK_OK(st, ab_role_set(st, &models_only));
    free_spec.role = "models-only";
    CHECK_OK(st, ab_budget_set(st, "c", &free_spec, NULL, NULL));
    CHECK_OK(st, ab_check_permission(st, "c", op, NULL, &d));
    CHECK_I64(d.allowed, 1);
    ab_permission_context opus_ctx = {.model = "claude-opus-4-5"};
    CHECK_OK(st, ab_check_permission(st, "c", op, &opus_ctx, &d));
    CHECK_I64(d.allowed, 0); /* its model rule still applies */
    CHECK_ERR_NAMES(st, ab_check_permission(st, "c", "", NULL, &d), AB_EINVAL, "operation");
    free(op);
    for (int i = 0; i <= AB_GLOBS_MAX; i++)
        free(pats[i]);
    ab_store_close(st);
}

/* A transaction the store aborts (serialization failure, deadlock) is run again, 50 times at
 * most: after 50 aborts the 51st try commits; after 51 the operation fails with EBUSY and
 * nothing is counted. */
static void test_retries(void)
{
    ab_store *st = fresh();
    ab_budget_spec spec = {0};
    CHECK_OK(st, ab_budget_set(st, "a", &spec, NULL, NULL));
    ab_decision d;
    ab__inject_aborts(st, AB__RETRIES_MAX);
    CHECK_OK(st, ab_budget_charge(st, "a", NULL, &(ab_usage){.input = 3}, NULL, &d));
    ab__inject_aborts(st, AB__RETRIES_MAX + 1);
    CHECK_ERR_NAMES(st, ab_budget_charge(st, "a", NULL, &(ab_usage){.input = 5}, NULL, &d),
                    AB_EBUSY, "kept aborting");
    ab__inject_aborts(st, 0);
    ab_budget_status b;
    CHECK_OK(st, ab_budget_get(st, "a", &b));
    CHECK_I64(b.used[AB_WINDOW_TOTAL][AB_METRIC_TOKENS], 3);
    CHECK_I64(b.used[AB_WINDOW_TOTAL][AB_METRIC_REQUESTS], 1);
    ab_store_close(st);
}

static void test_tokens_lifetime(void)
{
    ab_store *st = fresh();
    char secret[AB_TOKEN_SECRET_BYTES + 1];
    ab_token t;
    const int64_t century = INT64_C(100) * 365 * 86400;
    CHECK_OK(st, ab_token_create(st, "", AB_TOKEN_ADMIN, "ci", century, secret, &t));
    CHECK_I64(t.expires_at_ms - t.created_at_ms, century * 1000);
    CHECK_ERR_NAMES(st, ab_token_create(st, "", AB_TOKEN_ADMIN, "ci", century + 1, secret, &t),
                    AB_EINVAL, "expires");
    ab_store_close(st);
}

/* Numbers: money, tokens, prices, a cost that would not fit, a counter that would overflow. */
static void test_amounts(void)
{
    int64_t v;
    CHECK_OK(NULL, ab_usd_parse("9223372036.854775807", &v));
    CHECK_I64(v, INT64_MAX);
    CHECK_RC(NULL, ab_usd_parse("9223372036.854775808", &v), AB_EOVERFLOW);
    CHECK_OK(NULL, ab_usd_parse("0.000000001", &v));
    CHECK_I64(v, 1);
    CHECK_RC(NULL, ab_usd_parse("0.0000000001", &v), AB_EINVAL);
    CHECK_OK(NULL, ab_tokens_parse("9223372036854775807", &v));
    CHECK_I64(v, INT64_MAX);
    CHECK(ab_tokens_parse("9223372036854775808", &v) != AB_OK);
    CHECK_OK(NULL, ab_price_parse("1000000000", &v));
    CHECK_I64(v, AB_PRICE_UUSD_MAX);
    CHECK_RC(NULL, ab_price_parse("1000000000.000001", &v), AB_EOVERFLOW);
    CHECK_OK(NULL, ab_price_parse("0.000001", &v));
    CHECK_I64(v, 1);
    CHECK_RC(NULL, ab_price_parse("0.0000001", &v), AB_EINVAL);

    ab_store *st = fresh();
    ab_budget_spec spec = {0};
    CHECK_OK(st, ab_budget_set(st, "a", &spec, NULL, NULL));
    ab_decision d;
    /* the most tokens a charge can count, then one more token: the counter would overflow */
    ab_usage most = {.input = INT64_MAX};
    ab_price free_model;
    memset(&free_model, 0, sizeof free_model);
    snprintf(free_model.model, sizeof free_model.model, "free");
    CHECK_OK(st, ab_price_set(st, &free_model));
    CHECK_OK(st, ab_budget_charge(st, "a", "free", &most, NULL, &d));
    CHECK_I64(d.tokens, INT64_MAX);
    int64_t events = events_count(st);
    CHECK_ERR_NAMES(st, ab_budget_charge(st, "a", "free", &(ab_usage){.input = 1}, NULL, &d),
                    AB_EOVERFLOW, "overflow");
    CHECK_I64(events_count(st), events);
    /* a cost past INT64_MAX nano-USD: refused, nothing counted */
    CHECK_OK(st, ab_budget_set(st, "b", &spec, NULL, NULL));
    CHECK_RC(st, ab_budget_charge(st, "b", NULL, &most, NULL, &d), AB_EOVERFLOW);
    ab_budget_status b;
    CHECK_OK(st, ab_budget_get(st, "b", &b));
    CHECK_I64(b.used[AB_WINDOW_TOTAL][AB_METRIC_REQUESTS], 0);
    /* one agent's absurd usage must not stop its siblings' charges: a parent's counter stays
     * at INT64_MAX (a sibling's charge failed with EOVERFLOW ever after: the total window is
     * never reset, nor a parent with children deleted) */
    CHECK_OK(st, ab_budget_set(st, "t", &spec, NULL, NULL));
    CHECK_OK(st, ab_budget_set(st, "t/x", &spec, NULL, NULL));
    CHECK_OK(st, ab_budget_set(st, "t/y", &spec, NULL, NULL));
    CHECK_OK(st, ab_budget_charge(st, "t/x", "free", &most, NULL, &d));
    CHECK_OK(st, ab_budget_charge(st, "t/y", "free", &(ab_usage){.input = 1}, NULL, &d));
    CHECK_OK(st, ab_budget_get(st, "t", &b));
    CHECK_I64(b.used[AB_WINDOW_TOTAL][AB_METRIC_TOKENS], INT64_MAX);
    CHECK_I64(b.used[AB_WINDOW_TOTAL][AB_METRIC_REQUESTS], 2);
    CHECK_OK(st, ab_budget_get(st, "t/y", &b));
    CHECK_I64(b.used[AB_WINDOW_TOTAL][AB_METRIC_TOKENS], 1);
    ab_store_close(st);
}

/* A LiteLLM document of n models (its bytes, malloc'd). */
static char *litellm(int n)
{
    size_t size = (size_t)n * 96 + 64, len = 0;
    char *s = malloc(size);
    len += (size_t)snprintf(s + len, size - len, "{");
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(s + len, size - len,
                                "%s\"m-%d\":{\"input_cost_per_token\":0.000003,"
                                "\"output_cost_per_token\":0.000015}",
                                i ? "," : "", i);
    snprintf(s + len, size - len, "}");
    return s;
}

static void test_litellm(void)
{
    ab_store *st = fresh();
    size_t imported = 0;
    char *doc = litellm(20000);
    CHECK_OK(st, ab_price_import_litellm(st, doc, strlen(doc), &imported));
    CHECK_I64(imported, 20000);
    free(doc);
    ab_store_close(st);
    st = fresh();
    doc = litellm(20001);
    CHECK_ERR_NAMES(st, ab_price_import_litellm(st, doc, strlen(doc), &imported), AB_EINVAL,
                    "models");
    free(doc);
    ab_price p;
    CHECK_RC(st, ab_price_get(st, "m-0", &p), AB_EUNKNOWNMODEL);
    ab_store_close(st);
}

static void test_store_url(void)
{
    char url[512];
    ab_store *st = NULL;
    snprintf(url, sizeof url, "sqlite:%s/busy.db?busy_ms=600000", tmpdir);
    CHECK_OK(st, ab_store_open(url, &st));
    ab_store_close(st);
    st = NULL;
    snprintf(url, sizeof url, "sqlite:%s/busy2.db?busy_ms=600001", tmpdir);
    CHECK_RC(st, ab_store_open(url, &st), AB_EINVAL);
    CHECK(st && strstr(ab_store_errmsg(st), "busy_ms") != NULL);
    ab_store_close(st);
    /* an option given twice is refused, not settled by the last one */
    static const char *const twice[] = {"sync=full&sync=normal", "busy_ms=1&busy_ms=2"};
    for (size_t i = 0; i < 2; i++) {
        st = NULL;
        snprintf(url, sizeof url, "sqlite:%s/twice.db?%s", tmpdir, twice[i]);
        CHECK_RC(st, ab_store_open(url, &st), AB_EINVAL);
        CHECK(st && strstr(ab_store_errmsg(st), "given twice") != NULL);
        ab_store_close(st);
    }
}

/* One transcript line: an assistant message with usage, padded (inside the JSON, as spaces)
 * to exactly len bytes, with the given message id and output tokens, and `depth` nested arrays
 * in a field of its own. */
static char *line(size_t len, const char *id, const char *output, int depth)
{
    char *s = malloc(len + 1), head[1024], nest[600] = "";
    for (int i = 0; i < depth; i++)
        strcat(nest, "[");
    for (int i = 0; i < depth; i++)
        strcat(nest, "]");
    int n = snprintf(head, sizeof head,
                     "{\"timestamp\":\"2026-09-01T10:00:00.000Z\",\"sessionId\":\"s1\","
                     "\"requestId\":\"req_1\",\"type\":\"assistant\",\"x\":%s,\"message\":"
                     "{\"id\":\"%s\",\"model\":\"claude-sonnet-4-5\",\"usage\":{\"input_tokens\""
                     ":1,\"output_tokens\":%s}}",
                     depth ? nest : "0", id, output);
    if ((size_t)n + 1 > len)
        abort();
    memcpy(s, head, (size_t)n);
    memset(s + n, ' ', len - (size_t)n - 1);
    s[len - 1] = '}';
    s[len] = '\0';
    return s;
}

static int count_entry(const ab_transcript_entry *e, void *v)
{
    (void)e;
    ++*(int64_t *)v;
    return 0;
}

/* A transcript file: a line of exactly the limit, one a byte past it, then a short one. The
 * reader's buffer starts the file's size (small files get small buffers) and must still grow
 * to a whole line of the limit, skip the longer one and read on. */
static void test_transcript_file(void)
{
    const size_t max = AB_TRANSCRIPT_LINE_BYTES_MAX;
    char path[300];
    snprintf(path, sizeof path, "%s/t.jsonl", tmpdir);
    FILE *f = fopen(path, "w");
    char *l = line(max, "msg_1", "2", 0);
    fprintf(f, "%s\n", l);
    free(l);
    l = line(max + 1, "msg_2", "2", 0);
    fprintf(f, "%s\n", l);
    free(l);
    l = line(1024, "msg_3", "2", 0);
    fprintf(f, "%s\n", l);
    free(l);
    fclose(f);
    ab_transcript_stats stats;
    int64_t entries = 0, next = 0;
    CHECK_OK(NULL, ab_transcript_read(path, 0, 0, count_entry, &entries, &stats, &next));
    CHECK_I64(entries, 2);
    CHECK_I64(stats.bad_lines, 1);
    CHECK_I64(stats.bad_line_no, 2);
    CHECK_I64(next, (int64_t)(max + 1 + max + 2 + 1025));
    /* a small file reads whole too */
    snprintf(path, sizeof path, "%s/small.jsonl", tmpdir);
    f = fopen(path, "w");
    l = line(300, "msg_4", "2", 0);
    fprintf(f, "%s\n%s\n", l, l);
    free(l);
    fclose(f);
    entries = 0;
    CHECK_OK(NULL, ab_transcript_read(path, 0, 0, count_entry, &entries, &stats, &next));
    CHECK_I64(entries, 2);
    CHECK_I64(next, 602);
}

static void test_transcript(void)
{
    ab_transcript_entry e;
    const size_t max = AB_TRANSCRIPT_LINE_BYTES_MAX;
    char *l = line(max, "msg_1", "2", 0);
    CHECK_OK(NULL, ab_transcript_parse_line(l, max, &e));
    CHECK_I64(e.has_usage, 1);
    free(l);
    l = line(max + 1, "msg_1", "2", 0);
    CHECK_RC(NULL, ab_transcript_parse_line(l, max + 1, &e), AB_EINVAL);
    free(l);
    /* ids of 255 bytes, and 256 */
    l = line(1024, rep('i', AB_TRANSCRIPT_ID_BYTES_MAX), "2", 0);
    CHECK_OK(NULL, ab_transcript_parse_line(l, strlen(l), &e));
    CHECK_I64(strlen(e.message_id), AB_TRANSCRIPT_ID_BYTES_MAX);
    free(l);
    l = line(1024, rep('i', AB_TRANSCRIPT_ID_BYTES_MAX + 1), "2", 0);
    CHECK_RC(NULL, ab_transcript_parse_line(l, strlen(l), &e), AB_EINVAL);
    free(l);
    /* a token count of 10^12, and one more */
    l = line(1024, "msg_1", "1000000000000", 0);
    CHECK_OK(NULL, ab_transcript_parse_line(l, strlen(l), &e));
    CHECK_I64(e.usage.output, AB_TRANSCRIPT_TOKENS_MAX);
    free(l);
    l = line(1024, "msg_1", "1000000000001", 0);
    CHECK_RC(NULL, ab_transcript_parse_line(l, strlen(l), &e), AB_EINVAL);
    free(l);
    /* nesting: the line's object and 126 arrays in it are 127 levels; 127 arrays are 128 */
    l = line(2048, "msg_1", "2", AB_TRANSCRIPT_DEPTH_MAX - 1);
    CHECK_OK(NULL, ab_transcript_parse_line(l, strlen(l), &e));
    free(l);
    l = line(2048, "msg_1", "2", AB_TRANSCRIPT_DEPTH_MAX);
    CHECK_RC(NULL, ab_transcript_parse_line(l, strlen(l), &e), AB_EINVAL);
    free(l);
}

int main(int argc, char **argv)
{
    kind = argc > 1 ? argv[1] : "memory";
    if (strcmp(kind, "postgres") == 0 &&
        pg_base_read(argc > 2 ? argv[2] : NULL, pg_base, sizeof pg_base))
        return 2;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ab-limits-XXXXXX");
    if (!mkdtemp(tmpdir))
        return 2;
    static const struct {
        const char *name;
        void (*fn)(void);
    } cases[] = {{"paths", test_paths},
                 {"names and keys", test_names_and_keys},
                 {"holds and limits", test_holds_and_limits},
                 {"roles", test_roles},
                 {"token lifetime", test_tokens_lifetime},
                 {"store retries", test_retries},
                 {"amounts", test_amounts},
                 {"LiteLLM files", test_litellm},
                 {"store URLs", test_store_url},
                 {"transcript lines", test_transcript},
                 {"transcript files", test_transcript_file}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        cases[i].fn();
        clock_gettime(CLOCK_MONOTONIC, &t1);
        printf("  %-18s %6.2f s\n", cases[i].name,
               (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    }
    test_tmpdir_remove(tmpdir);
    char name[64];
    snprintf(name, sizeof name, "limits[%s]", kind);
    return test_summary(name);
}
