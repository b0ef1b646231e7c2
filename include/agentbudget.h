/* agentbudget.h — the one public header of libagentbudget: hard spending limits for LLM agents.
 *
 * Conventions: every function that can fail returns AB_OK (0) or a negative AB_E… code;
 * ab_strerror() names the code and ab_store_errmsg() holds the detail of the last failure on a
 * handle. Money is int64_t nano-USD (1 USD = 10^9 nUSD); prices are int64_t micro-USD per
 * million tokens. A budget denial is a result (ab_decision.allowed == 0), never an error.
 *
 * Thread safety: an ab_store handle may be shared by threads; calls on one handle are
 * serialised. Separate handles (and separate processes) on one store are safe: every operation
 * is one store transaction. */
#ifndef AGENTBUDGET_H
#define AGENTBUDGET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AB_VERSION "0.1.0"

/* Error codes. Never renumbered. */
#define AB_OK 0
#define AB_EINVAL (-1)        /* bad input: a field broke a rule (the detail names both) */
#define AB_ENOTFOUND (-2)     /* no such budget, hold, role or price */
#define AB_ECONFLICT (-3)     /* idempotency key reused with other parameters, or state conflict */
#define AB_EEXIST (-4)        /* already exists (ab_token_create_first: the store has a token) */
#define AB_ESTORE (-5)        /* the store failed (I/O, corruption, lost connection) */
#define AB_EOVERFLOW (-6)     /* an amount would not fit in 64 bits */
#define AB_ENOMEM (-7)        /* out of memory */
#define AB_EBUSY (-8)         /* the store stayed locked past the busy timeout */
#define AB_EUNKNOWNMODEL (-9) /* no price for the model and no `default` price */
#define AB_ESTATE (-10)       /* the hold is no longer open (committed, released or expired) */
#define AB_ELIMIT (-11)       /* a built-in size limit was reached (the _MAX values below) */
#define AB_EPERM (-12)        /* not authorised: unknown, expired or revoked token, or scope */
#define AB_EREPLAY (-13)      /* a flat batch was voided: run its operations again (see below) */

/* Returns a static lowercase description of an AB_E… code ("bad input", …). */
const char *ab_strerror(int rc);
/* Returns the code's symbolic name without the prefix ("EINVAL"), or "UNKNOWN". */
const char *ab_err_name(int rc);

/* ---- limits on sizes (TigerBeetle style: everything bounded) ---- */
#define AB_PATH_SEGMENTS_MAX 8
#define AB_PATH_SEGMENT_BYTES_MAX 64
#define AB_PATH_BYTES_MAX (AB_PATH_SEGMENTS_MAX * (AB_PATH_SEGMENT_BYTES_MAX + 1))
#define AB_NAME_BYTES_MAX 128 /* model, role, actor names */
#define AB_KEY_BYTES_MAX 128  /* idempotency keys */
#define AB_HOLD_ID_BYTES 34   /* "h_" + 32 hex digits */
#define AB_REASON_BYTES_MAX 1024
#define AB_GLOBS_MAX 32
#define AB_TTL_S_MAX (7 * 24 * 3600)
#define AB_TTL_S_DEFAULT 600
#define AB_EVENTS_PAGE_MAX 10000
#define AB_HOLDS_OPEN_MAX 10000 /* open holds on one budget (its own, not its descendants') */
/* A permission check's operation (a tool name, or Bash(<command>) with the whole command) read
 * against a role's tool patterns; a longer one is AB_EINVAL where the role has any. */
#define AB_OPERATION_BYTES_MAX 65536
/* The largest price, in micro-USD per million tokens: USD 1,000,000,000 per million tokens.
 * Bounded so that every derived price (2x input for 1-hour cache writes) stays exact. */
#define AB_PRICE_UUSD_MAX INT64_C(1000000000000000)

/* ---- money and amounts ---- */

#define AB_NUSD_PER_USD INT64_C(1000000000)

/* Parses an exact decimal USD amount ("10", "9.52", "0.000000001") into nano-USD. Rejects signs,
 * exponents, more than 9 decimals, empty strings and values over INT64_MAX nUSD. */
int ab_usd_parse(const char *s, int64_t *out_nusd);
/* Formats nano-USD as an exact decimal with at least 2 and at most 9 decimals, without trailing
 * zeros past the second ("0.48", "9.52", "0.000000001", "-1.50"). buf must hold 32 bytes. */
char *ab_usd_format(int64_t nusd, char *buf, size_t size);
/* Parses a non-negative whole number of tokens (digits only, at most INT64_MAX). */
int ab_tokens_parse(const char *s, int64_t *out);
/* Parses a price in USD per million tokens ("3.75") into micro-USD per million tokens;
 * AB_EOVERFLOW above AB_PRICE_UUSD_MAX. */
int ab_price_parse(const char *s, int64_t *out_uusd_per_mtok);
/* Formats micro-USD per million tokens as USD per million tokens ("3.75"). */
char *ab_price_format(int64_t uusd_per_mtok, char *buf, size_t size);

/* ---- limits: metric x window ---- */

typedef enum { AB_METRIC_TOKENS = 0, AB_METRIC_USD = 1, AB_METRIC_REQUESTS = 2 } ab_metric;
#define AB_METRIC_COUNT 3
typedef enum {
    AB_WINDOW_SESSION = 0, /* until an explicit session reset */
    AB_WINDOW_DAY = 1,     /* UTC calendar day */
    AB_WINDOW_MONTH = 2,   /* UTC calendar month */
    AB_WINDOW_TOTAL = 3    /* lifetime */
} ab_window;
#define AB_WINDOW_COUNT 4

const char *ab_metric_name(ab_metric m);
const char *ab_window_name(ab_window w);

/* One limit: at most `amount` of `metric` per `window`. USD amounts are nano-USD. */
typedef struct {
    ab_metric metric;
    ab_window window;
    int64_t amount;
} ab_limit;

/* Parses "usd/day=10", "tokens/session=100000", "requests/month=500". */
int ab_limit_parse(const char *spec, ab_limit *out);
/* Why ab_limit_parse refuses spec, as a sentence that quotes it (its first 120 bytes, then "…")
 * and names the rule broken (the amount's range and form, or the metrics and windows there are),
 * in buf, which 320 bytes always hold whole; NULL if spec parses. */
char *ab_limit_explain(const char *spec, char *buf, size_t size);
/* Formats a limit back into the spec form; buf must hold 64 bytes. */
char *ab_limit_format(const ab_limit *l, char *buf, size_t size);
/* The index of the first of limits[0..n) whose metric and window an earlier one has, or -1. A
 * role, the CLI and the HTTP API allow one limit per metric and window. */
long ab_limits_repeated(const ab_limit *limits, size_t n);

/* Checks a budget path ("acme/research/agent-7"): segments of [A-Za-z0-9._:@-], 1-64 bytes each,
 * 1-8 segments, no "." or ".." segment. Returns AB_OK or AB_EINVAL. */
int ab_path_validate(const char *path);

/* ---- usage and prices ---- */

/* Tokens of one request to one model. The tokens metric counts input + output + both cache
 * writes; cache reads are not counted against token limits (they are priced, though). */
typedef struct {
    int64_t input;
    int64_t output;
    int64_t cache_write_5m;
    int64_t cache_write_1h;
    int64_t cache_read;
} ab_usage;

/* A model's price in micro-USD per million tokens. A long-context tier applies when a
 * request's input + cache-write + cache-read tokens exceed tier_threshold_tokens (0: no tier);
 * then every token of the request is priced at the tier's rates. */
typedef struct {
    char model[AB_NAME_BYTES_MAX];
    int64_t input;
    int64_t output;
    int64_t cache_write_5m;
    int64_t cache_write_1h;
    int64_t cache_read;
    int64_t tier_threshold_tokens;
    int64_t tier_input;
    int64_t tier_output;
    int64_t tier_cache_write_5m;
    int64_t tier_cache_write_1h;
    int64_t tier_cache_read;
    int builtin; /* 1: from the built-in table, 0: set in the store */
} ab_price;

/* The exact cost of `usage` at `price`, rounded up to a whole nano-USD. AB_EOVERFLOW if it
 * would not fit. Pure function. */
int ab_cost_compute(const ab_price *price, const ab_usage *usage, int64_t *out_nusd);
/* Token count that the tokens metric charges: input + output + cache writes. */
int ab_usage_tokens(const ab_usage *usage, int64_t *out);
/* Looks a model up in the built-in table only (exact name, then '.'/'@' normalised to '-',
 * then without a "provider/" prefix). AB_ENOTFOUND if absent. */
int ab_price_builtin(const char *model, ab_price *out);
/* Number of built-in models, and the i-th (sorted by name). */
size_t ab_price_builtin_count(void);
int ab_price_builtin_at(size_t i, ab_price *out);

/* ---- the store ---- */

typedef struct ab_store ab_store;

/* Clock in milliseconds since the Unix epoch. The default reads CLOCK_REALTIME. */
typedef int64_t (*ab_clock_fn)(void *ctx);

/* Opens a store by URL: "memory:", "sqlite:PATH" (query "?sync=full|normal", default full;
 * "?busy_ms=N", default 5000). NULL or "" opens the default: $AGENTBUDGET_STORE if set, else
 * sqlite:$XDG_STATE_HOME/agentbudget/budget.db, else sqlite:~/.local/state/agentbudget/budget.db
 * (directories created). Creates or migrates the schema. On failure *out is NULL unless the
 * handle exists for errmsg; always pass *out to ab_store_close(). */
int ab_store_open(const char *url, ab_store **out);
/* Closes the handle and frees it. NULL is a no-op. */
void ab_store_close(ab_store *st);
/* Detail of the last failure on this handle ("" if none). Valid until the next call on it. */
const char *ab_store_errmsg(ab_store *st);
/* Replaces the clock (tests only; there is deliberately no environment variable or flag for
 * this). fn NULL restores the real clock. Readings are clamped to 1970-01-01T00:00:00.001Z ..
 * 9999-12-31T23:59:59.999Z (1 .. 253402300799999 ms). */
void ab_store_set_clock(ab_store *st, ab_clock_fn fn, void *ctx);
/* The actor recorded in events made through this handle (default "local"). */
int ab_store_set_actor(ab_store *st, const char *actor);
/* Writes the default store URL into buf (see ab_store_open). */
int ab_store_default_url(char *buf, size_t size);
/* Writes url into out (size bytes, always terminated) with its password as "***": the one in
 * SCHEME://USER:PASSWORD@… (to the last '@'; the scheme mistyped too: one slash or none, or
 * USER:PASSWORD@… alone) and every password=VALUE and sslpassword=VALUE (spaces around '='
 * allowed, quoted or not, as libpq's key=value words and a URL's query take it; the key in any
 * case, its letters percent-encoded too). For messages: a URL may be shown, its password not. */
void ab_store_url_redact(const char *url, char *out, size_t size);
typedef struct {
    size_t budgets, holds, events, prices, roles;
    int64_t last_event_id; /* of the source */
    size_t tokens;
    size_t keys; /* idempotency records */
} ab_copy_stats;

/* Copies everything in `from` into `to` — budgets with their limits and counters, open holds,
 * the event log, price overrides, roles, API tokens (their hashes: the same secrets work on
 * `to`) and idempotency records (a keyed request retried on `to` is answered, not applied
 * again) — in one transaction on `to` (all or nothing), from one snapshot of `from`. Refuses
 * (AB_ECONFLICT) when `to` is not empty unless force, which first removes everything in `to`
 * (in the same transaction): the target becomes a copy of the source. Settled holds are not
 * copied (they live on as events). Event ids are the target's own; their order is kept. */
int ab_store_copy(ab_store *from, ab_store *to, int force, ab_copy_stats *stats);

/* The store's schema version (after migration) and the version this library writes. */
int ab_store_schema_version(ab_store *st, int *out);
#define AB_SCHEMA_VERSION 4

/* ---- budgets ---- */

#define AB_LIMITS_MAX (AB_METRIC_COUNT * AB_WINDOW_COUNT)

typedef struct {
    const char *role;  /* NULL: keep (update) or the role "default" (create) */
    const char *model; /* default model for token-only checks; NULL: keep or none */
    const ab_limit *limits;
    size_t limits_count;
    int replace_limits;   /* 1: the listed limits are all the limits; 0: merge (amount < 0 removes);
                           * limits apply in order, a later one replacing an earlier one */
    int no_role_defaults; /* on create: do not start from the role's default limits */
} ab_budget_spec;

/* A budget's state, windows already rolled over to "now". */
typedef struct {
    char path[AB_PATH_BYTES_MAX + 1];
    char role[AB_NAME_BYTES_MAX];
    char model[AB_NAME_BYTES_MAX];                   /* "" if none */
    int64_t limit[AB_WINDOW_COUNT][AB_METRIC_COUNT]; /* -1: no limit */
    int64_t used[AB_WINDOW_COUNT][AB_METRIC_COUNT];
    int64_t held[AB_METRIC_COUNT]; /* open holds, counted against every window */
    int64_t holds_open;
    int64_t operations_blocked;
    int64_t created_at_ms;
    int64_t session_reset_ms; /* start of the current session window */
    int64_t day_start_ms;
    int64_t month_start_ms;
    int64_t last_reset_ms; /* last explicit reset or rollover of the day window */
    int64_t updated_at_ms;
} ab_budget_status;

/* Creates a budget, or updates it if it exists (`created` says which). */
int ab_budget_set(ab_store *st, const char *path, const ab_budget_spec *spec, const char *key,
                  int *created);
/* Reads one budget's status. AB_ENOTFOUND if absent. */
int ab_budget_get(ab_store *st, const char *path, ab_budget_status *out);
/* Calls fn for every budget at or under `prefix` (NULL or "": all), in path order. A non-zero
 * return from fn stops the walk and is returned. fn runs inside the store's transaction with
 * the handle locked: a call from it on the same handle fails with AB_EINVAL (this holds for
 * every _list and _query callback). */
typedef int (*ab_budget_fn)(const ab_budget_status *b, void *ctx);
int ab_budget_list(ab_store *st, const char *prefix, ab_budget_fn fn, void *ctx);
/* Deletes a budget; its open holds are released. AB_ECONFLICT if it has child budgets. */
int ab_budget_delete(ab_store *st, const char *path, const char *key);

typedef enum {
    AB_RESET_SESSION = 1,
    AB_RESET_DAY = 2,
    AB_RESET_MONTH = 4,
    AB_RESET_ALL = 7
} ab_reset;
/* Zeroes the chosen windows' usage of one budget. A session reset keeps the day's cost. */
int ab_budget_reset(ab_store *st, const char *path, int which, const char *key);

/* ---- decisions ---- */

/* Why a request was denied (or, for charge/commit, which limit is now over). */
typedef struct {
    int allowed;                        /* 1 allowed, 0 denied */
    int over;                           /* charge/commit: 1 if some budget is now over a limit */
    char budget[AB_PATH_BYTES_MAX + 1]; /* the budget whose limit decided ("" if none) */
    ab_metric metric;
    ab_window window;
    int64_t limit;                      /* the deciding limit's amount (-1 if none) */
    int64_t used;                       /* used + held before this request, in the metric's unit */
    int64_t requested;                  /* what this request asked for, in the metric's unit */
    int64_t remaining;                  /* limit - used (0 if over; used is INT64_MAX if
                                           used + held does not fit) */
    char reason[AB_REASON_BYTES_MAX];   /* human sentence; "" if allowed */
    int64_t cost_nusd;                  /* the cost priced for this request */
    int64_t tokens;                     /* tokens counted for this request */
    char hold_id[AB_HOLD_ID_BYTES + 2]; /* reserve: the hold made ("" if denied) */
    int replayed;                       /* 1 if answered from an idempotency key */
} ab_decision;

/* Read-only check (the original's checkBudget): would `usage` at `model` fit every limit of the
 * budget and its ancestors, counting open holds? model NULL: the budget's model, else
 * claude-sonnet-4-5. A denial increments operations_blocked and logs an event. */
int ab_budget_check(ab_store *st, const char *path, const char *model, const ab_usage *usage,
                    ab_decision *out);
/* Check with only a token estimate: 1/4 priced as input, 3/4 as output (rounded up). */
int ab_budget_check_tokens(ab_store *st, const char *path, int64_t tokens, ab_decision *out);

/* Holds the worst-case cost of `usage` (input + max output) against every limit of the
 * budget and its ancestors, atomically. Allowed: out->hold_id names the hold. ttl_s 0 means
 * the default (600 s). */
int ab_budget_reserve(ab_store *st, const char *path, const char *model, const ab_usage *usage,
                      int64_t ttl_s, const char *key, ab_decision *out);
/* Settles a hold with the actual usage (lower or higher than held); never refused for budget
 * reasons; out->over says if a limit is now exceeded. AB_ESTATE if the hold is not open. */
int ab_hold_commit(ab_store *st, const char *hold_id, const ab_usage *usage, const char *key,
                   ab_decision *out);
/* Releases a hold without spending. AB_ESTATE if it is not open. */
int ab_hold_release(ab_store *st, const char *hold_id, const char *key);

typedef struct {
    char id[AB_HOLD_ID_BYTES + 2];
    char budget[AB_PATH_BYTES_MAX + 1];
    char model[AB_NAME_BYTES_MAX];
    int64_t tokens;
    int64_t cost_nusd;
    int64_t created_at_ms;
    int64_t expires_at_ms;
    int state; /* 0 open, 1 committed, 2 released, 3 expired */
} ab_hold;
/* Reads one hold (its state as of now: an open hold past its TTL reads as expired). */
int ab_hold_get(ab_store *st, const char *hold_id, ab_hold *out);

/* Records usage that already happened (the original's deductBudget). Never refused for budget
 * reasons; out->over says if a limit is now exceeded. */
int ab_budget_charge(ab_store *st, const char *path, const char *model, const ab_usage *usage,
                     const char *key, ab_decision *out);
/* ab_budget_charge of what a request already charged as `before` grew by since (a streamed
 * reply's later output): usage is priced as the cost of before + usage less the cost of before,
 * so that the long-context tier is decided by the whole request; its tokens are usage's, and it
 * counts one request. */
int ab_budget_charge_growth(ab_store *st, const char *path, const char *model,
                            const ab_usage *before, const ab_usage *usage, const char *key,
                            ab_decision *out);

/* ---- events: the append-only audit log ---- */

typedef struct {
    int64_t id;
    int64_t time_ms;
    char budget[AB_PATH_BYTES_MAX + 1];
    /* set, delete, check, reserve, commit, release, expire, charge, reset, price, role,
     * permission, token */
    char op[24];
    char model[AB_NAME_BYTES_MAX];
    ab_usage usage;
    int64_t tokens;
    int64_t cost_nusd;
    int allowed;
    char reason[AB_REASON_BYTES_MAX];
    char hold_id[AB_HOLD_ID_BYTES + 2];
    char key[AB_KEY_BYTES_MAX + 1];
    char actor[AB_NAME_BYTES_MAX];
} ab_event;

typedef struct {
    const char *budget; /* NULL: all; else this budget and everything under it */
    const char *op;     /* NULL: all ops */
    int64_t since_ms;   /* 0: no bound; inclusive */
    int64_t until_ms;   /* 0: no bound; exclusive */
    int64_t after_id;   /* cursor: only ids > after_id */
    int64_t limit;      /* 0: AB_EVENTS_PAGE_MAX; at most AB_EVENTS_PAGE_MAX */
} ab_event_query;

typedef int (*ab_event_fn)(const ab_event *e, void *ctx);
/* Calls fn for each matching event in id order. */
int ab_events_query(ab_store *st, const ab_event_query *q, ab_event_fn fn, void *ctx);

/* ---- prices in the store (overrides of the built-in table) ---- */

/* Looks a model's price up: store overrides first, then the built-in table, then a store price
 * named "default". <synthetic> always costs 0. AB_EUNKNOWNMODEL names the model otherwise. */
int ab_price_get(ab_store *st, const char *model, ab_price *out);
/* Sets (overrides) a model's price in the store. Missing cache prices must be filled by the
 * caller; ab_price_fill_defaults() does it the usual way. */
int ab_price_set(ab_store *st, const ab_price *price);
/* Fills cache prices that are < 0: cache write 5m = 1.25 x input, 1h = 2 x input,
 * cache read = 0.1 x input, each rounded up to a whole uUSD/Mtok; tier prices < 0 from the tier
 * input likewise. */
void ab_price_fill_defaults(ab_price *p);
/* Removes a store override (the built-in price applies again). */
int ab_price_unset(ab_store *st, const char *model);
typedef int (*ab_price_fn)(const ab_price *p, void *ctx);
/* Lists store overrides and then (builtin != 0) the built-in table. */
int ab_price_list(ab_store *st, int builtin, ab_price_fn fn, void *ctx);
/* Imports a LiteLLM model_prices_and_context_window.json document (its bytes) into the store.
 * Entries without token prices are skipped; *imported counts the rest. Bad JSON or a bad
 * price: AB_EINVAL, nothing imported. */
int ab_price_import_litellm(ab_store *st, const char *json, size_t len, size_t *imported);

/* ---- roles ---- */

typedef struct {
    char name[AB_NAME_BYTES_MAX];
    ab_limit limits[AB_LIMITS_MAX]; /* default limits of new budgets of this role */
    size_t limits_count;
    char *allow_tools[AB_GLOBS_MAX]; /* empty: every tool */
    size_t allow_tools_count;
    char *deny_tools[AB_GLOBS_MAX];
    size_t deny_tools_count;
    char *allow_models[AB_GLOBS_MAX]; /* empty: every model */
    size_t allow_models_count;
    char *deny_models[AB_GLOBS_MAX];
    size_t deny_models_count;
    int admin;
} ab_role;

/* Creates or replaces a role. Globs use fnmatch(3) syntax; deny wins over allow. AB_EINVAL if
 * two of its limits have the same metric and window. */
int ab_role_set(ab_store *st, const ab_role *role);
/* Reads a role; free its strings with ab_role_free(). AB_ENOTFOUND if absent. */
int ab_role_get(ab_store *st, const char *name, ab_role *out);
void ab_role_free(ab_role *role);
typedef int (*ab_role_fn)(const ab_role *r, void *ctx);
int ab_role_list(ab_store *st, ab_role_fn fn, void *ctx);
int ab_role_delete(ab_store *st, const char *name);

/* 1 if tool pattern g can match no call, with why written: a pattern such as Read(.env) (only
 * Bash is matched with its input, other tools by their name alone) or "(x)". ab_role_set
 * refuses such a pattern; a role stored before it did may still hold one. 0 if g can match. */
int ab_tool_pattern_inert(const char *g, char *why, size_t why_size);

/* Would the role allow this tool and model (NULL: not checked)? Pure; *reason says why not. */
int ab_role_allows(const ab_role *role, const char *tool, const char *model, char *reason,
                   size_t reason_size);

/* Context of a permission check (the original's checkPermission). */
typedef struct {
    const char *model;        /* NULL: the budget's model */
    int64_t estimated_tokens; /* 0 with usage NULL: 1000, as the original */
    const ab_usage *usage;    /* exact estimate instead of estimated_tokens */
} ab_permission_context;

/* The role of the budget allows `operation` (a tool name) and the model, AND the budget allows
 * the estimated cost. out->allowed and out->reason say which. */
int ab_check_permission(ab_store *st, const char *path, const char *operation,
                        const ab_permission_context *ctx, ab_decision *out);

/* ---- API tokens (for agentbudgetd) ---- */

typedef enum { AB_TOKEN_AGENT = 0, AB_TOKEN_ADMIN = 1 } ab_token_role;
#define AB_TOKEN_ID_BYTES 18     /* "t_" + 16 hex digits */
#define AB_TOKEN_SECRET_BYTES 85 /* "abt_" + 16 hex (the id) + "_" + 64 hex (32 random bytes) */
#define AB_TOKEN_TTL_S_MAX (INT64_C(100) * 365 * 86400) /* a token's lifetime: 100 years */

typedef struct {
    char id[AB_TOKEN_ID_BYTES + 2];
    char scope[AB_PATH_BYTES_MAX + 1]; /* "" : every budget */
    ab_token_role role;
    char label[AB_NAME_BYTES_MAX];
    int64_t created_at_ms;
    int64_t expires_at_ms; /* 0: never */
    int64_t revoked_at_ms; /* 0: not revoked */
} ab_token;

/* Creates a token acting inside `scope` (a budget path, or "" for all) with `role`; ttl_s 0 means
 * it never expires. Writes the secret (NUL-terminated, shown once: only its SHA-256 is stored)
 * into secret, which must hold AB_TOKEN_SECRET_BYTES + 1 bytes. */
int ab_token_create(ab_store *st, const char *scope, ab_token_role role, const char *label,
                    int64_t ttl_s, char *secret, ab_token *out);
/* The first token of a new store: an admin token for every budget, made only if the store has
 * never had a token (revoked and expired ones count), in one transaction, so that of several
 * processes starting at once on one new store exactly one makes it. AB_EEXIST otherwise. */
int ab_token_create_first(ab_store *st, const char *label, char *secret, ab_token *out);
/* Checks a secret: AB_OK with the token, or AB_EPERM (unknown, wrong, expired or revoked). The
 * hash is compared in constant time. */
int ab_token_verify(ab_store *st, const char *secret, ab_token *out);
typedef int (*ab_token_fn)(const ab_token *t, void *ctx);
int ab_token_list(ab_store *st, ab_token_fn fn, void *ctx);
/* Revokes a token by id; it stops working at once. AB_ENOTFOUND if there is none. */
int ab_token_revoke(ab_store *st, const char *id);
/* 1 if path is the scope or under it ("" covers everything). */
int ab_scope_covers(const char *scope, const char *path);

/* ---- group commit ---- */

/* Opens one write transaction that the operations made next on this handle, from this thread,
 * join (each as a savepoint: a failed one is rolled back alone; one the store aborted, a
 * deadlock, voids the batch: AB_EREPLAY, as a flat batch below). Other threads calling the
 * handle wait until ab_store_batch_commit() or _abort(). Nothing is durable until the commit
 * returns AB_OK; if it fails, none of the batch happened. */
int ab_store_batch_begin(ab_store *st);
int ab_store_batch_commit(ab_store *st);
void ab_store_batch_abort(ab_store *st);
/* A batch whose operations share the transaction without a savepoint each, where the store
 * gains by it (PostgreSQL: a savepoint costs round trips, and past 64 subtransactions every
 * row visit gets slower; SQLite and memory: the same as ab_store_batch_begin). An operation
 * that fails before it sent any write is undone alone, as in any batch. One that fails after
 * its writes reached the store, or one the store aborts, voids the whole batch: it is rolled
 * back, that operation and every later one return AB_EREPLAY without doing anything, and so
 * does ab_store_batch_commit (also when the server refuses one of the writes sent with the
 * commit). Nothing of a voided batch happened: run the same operations again in an
 * ab_store_batch_begin batch, where each failure is its own. A commit that fails otherwise
 * (AB_ESTORE: its answer was lost) is reported as in any batch, never as AB_EREPLAY. */
int ab_store_batch_begin_flat(ab_store *st);

/* ---- read groups ---- */

/* Opens one read transaction that the calls made next on this handle, from this thread, share
 * (one snapshot of the store) until ab_store_read_end(): a service that checks a request's token
 * and then reads a budget begins and ends one transaction, not two. Other threads calling the
 * handle wait until the end. A call that must write (a check that counts a denial) or that fails
 * ends the group's transaction and runs alone; the calls after it run each in its own. */
int ab_store_read_begin(ab_store *st);
void ab_store_read_end(ab_store *st);

/* ---- JSON shapes shared by the CLI and the daemon ---- */

/* Writes the status JSON object (the original's getBudgetStatus fields plus limits). Returns a
 * malloc'd NUL-terminated string; free() it. NULL on allocation failure. */
char *ab_status_json(const ab_budget_status *b);
/* Writes the decision JSON object ({"allowed":…, "reason":…, …}). Free with free(). */
char *ab_decision_json(const ab_decision *d);
/* Writes one event as a JSON object. Free with free(). */
char *ab_event_json(const ab_event *e);
/* A price (USD per million tokens as exact JSON numbers), a role, a hold, a token (never its
 * secret). Each returns a malloc'd string; free() it. */
char *ab_price_json(const ab_price *p);
char *ab_role_json(const ab_role *r);
char *ab_hold_json(const ab_hold *h);
char *ab_token_json(const ab_token *t);

/* ---- Claude Code transcripts ---- */

/* Claude Code appends one JSON object per line to ~/.claude/projects/<project>/<session>.jsonl.
 * An assistant message carries message.usage, repeated on each of its lines (one per content
 * block) with the same message.id and requestId. These functions read the lines the way
 * ccusage 20 does, so that a report counts what ccusage counts (docs/claude-code.md lists the
 * rules and the few deliberate differences). */

#define AB_TRANSCRIPT_LINE_BYTES_MAX (4 * 1024 * 1024) /* a longer line is a bad line */
#define AB_TRANSCRIPT_ID_BYTES_MAX 255 /* message, request and session ids; longer: bad line */
#define AB_TRANSCRIPT_TOKENS_MAX INT64_C(1000000000000) /* one count of one line; more: bad */
#define AB_TRANSCRIPT_DEPTH_MAX 127 /* nested arrays and objects in one line; more: bad */
#define AB_TRANSCRIPT_FILES_MAX 1000000

/* usage.speed of a line: absent, "standard" or "fast" */
typedef enum { AB_SPEED_UNSET = 0, AB_SPEED_STANDARD = 1, AB_SPEED_FAST = 2 } ab_speed;

/* One transcript line. Strings are "" when the line has no such field. */
typedef struct {
    int has_usage; /* 1: a usage entry (the other fields are set); 0: a line without usage */
    char message_id[AB_TRANSCRIPT_ID_BYTES_MAX + 1];
    char request_id[AB_TRANSCRIPT_ID_BYTES_MAX + 1];
    char session_id[AB_TRANSCRIPT_ID_BYTES_MAX + 1]; /* the line's sessionId */
    char model[AB_NAME_BYTES_MAX];                   /* "<synthetic>": made locally, costs 0 */
    int64_t timestamp_ms;
    /* Cache writes: usage.cache_creation.ephemeral_5m_input_tokens and _1h_ when that object
     * is there, else cache_creation_input_tokens as 5-minute writes. */
    ab_usage usage;
    int is_sidechain;  /* isSidechain: true (a subagent's line) */
    ab_speed speed;    /* usage.speed */
    int from_progress; /* 1: read from an agent-progress line (data.message.message.usage) */
    int64_t line_no;   /* ab_transcript_read: the line's number counted from the offset (1..) */
    int64_t offset;    /* ab_transcript_read: the byte offset of the line in the file */
    const char *bad_reason; /* AB_EINVAL: what is wrong, a static string ("invalid UTF-8") */
} ab_transcript_entry;

/* Parses one line (its bytes without the '\n'; whitespace around the object is allowed).
 * Returns AB_OK with out->has_usage 1 for a usage entry; AB_OK with has_usage 0 for a line
 * without one: a blank line, a valid line with no message.usage, and every line without the
 * bytes "usage":{ (which ccusage never counts, so they are only checked to be one object);
 * AB_EINVAL with out->bad_reason for a bad line: over AB_TRANSCRIPT_LINE_BYTES_MAX, not one
 * JSON object, invalid JSON or UTF-8, a duplicate key, deeper than AB_TRANSCRIPT_DEPTH_MAX, a
 * field of the wrong type, null or "" where ccusage refuses it, a token count that is not a
 * whole number in 0..AB_TRANSCRIPT_TOKENS_MAX, a timestamp not of Claude Code's form. Pure and
 * thread-safe. */
int ab_transcript_parse_line(const char *line, size_t len, ab_transcript_entry *out);

#define AB_TRANSCRIPT_TAIL 1   /* also parse a last line that has no '\n' (a finished file) */
#define AB_TRANSCRIPT_STRICT 2 /* stop at the first bad line and return AB_EINVAL */
/* For enforcement (the hook): what a message's content holds, which the model writes, cannot
 * make its line bad and so free: inside what is not read, a null under a key ccusage refuses
 * null for ("id" in a tool's input), nesting past AB_TRANSCRIPT_DEPTH_MAX, and a lone surrogate
 * escape (as JSON.stringify writes one) are accepted. Reports leave it off: ccusage's rules. */
#define AB_TRANSCRIPT_LENIENT 4

/* What one ab_transcript_read() saw. */
typedef struct {
    int64_t lines;           /* lines parsed */
    int64_t entries;         /* lines with usage passed to the callback */
    int64_t bad_lines;       /* lines skipped as bad */
    int64_t bad_line_no;     /* the first bad line: its number counted from the offset; 0: none */
    int64_t bad_line_offset; /* and its byte offset in the file */
    const char *bad_reason;  /* and what is wrong with it (static) */
    int64_t bytes;           /* bytes read */
    int sys_errno;           /* AB_ENOTFOUND, AB_ESTORE: errno of the call that failed (EINVAL:
                              * not a regular file, a FIFO or a device, which is never read) */
} ab_transcript_stats;

/* Called for each usage entry; a non-zero return stops the read and is returned. */
typedef int (*ab_transcript_fn)(const ab_transcript_entry *e, void *ctx);

/* Reads the transcript at path from byte `offset` (0: the start; a hook passes the
 * *next_offset of its previous call to read only what was appended since) and calls fn for
 * each usage entry, in file order. Only lines ending in '\n' are read, plus, with
 * AB_TRANSCRIPT_TAIL, an unterminated last line (without it, a line still being written is
 * left for the next call). Bad lines are skipped and counted in *stats (may be NULL); with
 * AB_TRANSCRIPT_STRICT the first one stops the read: AB_EINVAL. *next_offset (may be NULL)
 * receives the offset after the last complete line read, or of the line where fn or a strict
 * read stopped. Returns AB_OK, AB_EINVAL, fn's return, AB_ENOTFOUND (no such file),
 * AB_ECONFLICT (the file is now shorter than offset: it was replaced; *next_offset is 0),
 * AB_ENOMEM, or AB_ESTORE (a read failed; stats->sys_errno says why). Memory stays under
 * about 2 x AB_TRANSCRIPT_LINE_BYTES_MAX whatever the file's size. Thread-safe. */
int ab_transcript_read(const char *path, int64_t offset, int flags, ab_transcript_fn fn, void *ctx,
                       ab_transcript_stats *stats, int64_t *next_offset);

/* A transcript file and what its path says (as ccusage reads it). */
typedef struct {
    char *path;
    char *project;      /* the first directory under projects/ (the --project name) */
    char *project_path; /* the directories above the session ("Unknown Project" if none) */
    char *session_id;   /* the file name without .jsonl; for a/b/SESSION/subagents/x.jsonl and
                         * a/SESSION/chat.jsonl, the directory */
    int64_t size_bytes;
} ab_transcript_file;

/* Finds transcripts: every regular *.jsonl file under projects/ (recursively; symbolic links
 * are not followed), sorted by path. roots are paths given by the user: a Claude config
 * directory (holding projects/), a projects/ directory, any directory of transcripts, or one
 * .jsonl file; a root that does not exist is AB_ENOTFOUND. With roots_count 0: the
 * comma-separated directories of $CLAUDE_CONFIG_DIR (those without projects/ are skipped;
 * AB_ENOTFOUND if none is left), else $XDG_CONFIG_HOME/claude (~/.config/claude) and
 * ~/.claude, those that exist (maybe none: AB_OK with *count 0). project non-NULL: only
 * projects/<project> (one path segment, else AB_EINVAL). On failure err (may be NULL) says
 * why; on success it is "" or says which directories were not read (unreadable, or more than 32
 * below projects/): their files are not in the list. Free *out with ab_transcript_files_free(). */
int ab_transcript_files(const char *const *roots, size_t roots_count, const char *project,
                        ab_transcript_file **out, size_t *count, char *err, size_t err_size);
void ab_transcript_files_free(ab_transcript_file *files, size_t count);

#ifdef __cplusplus
}
#endif
#endif
