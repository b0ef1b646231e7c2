/* transcript.c — Claude Code transcripts: one JSONL line into a usage entry (counted by ccusage
 * 20's rules), a file read from a byte offset, and the transcript files of config directories.
 * The line parser validates the whole line by hand (jansson would build a tree per line, which
 * is most of the time of a report) and keeps only the few fields a usage entry needs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define AB_X86 1
#endif

#include "internal.h"

#define MARKER "\"usage\":{"
#define MARKER_LEN (sizeof MARKER - 1)

/* ---- the fields a line may carry ---- */

typedef struct {
    const unsigned char *p; /* raw bytes between the quotes */
    uint32_t len;
    uint8_t esc; /* has backslash escapes: decode before use */
    uint8_t set;
} span;

/* One shape of usage line: 0, a direct assistant line (timestamp, message.usage, … at the
 * top); 1, an agent-progress line (the same under data.message). ccusage tries the first, then
 * the second. */
typedef struct {
    span ts, sid, ver, req, id, model;
    int msg_obj, usage_obj, usage_seen, cc_obj;
    int has_in, has_out;
    int64_t in, out, ccit, crit, cc5, cc1h;
    int sidechain;
    ab_speed speed;
    const char *err; /* the first wrong field: this shape does not count */
} shape;

/* Where a value sits: which object's members we are reading. */
enum { X_NONE, X_ROOT, X_MSG, X_USAGE, X_CC, X_DATA, X_DMSG, X_PMSG, X_PUSAGE, X_PCC };

/* Keys of interest. */
enum {
    K_NONE,
    K_TS,
    K_SID,
    K_VER,
    K_REQ,
    K_SIDE,
    K_COST,
    K_MSG,
    K_DATA,
    K_ID,
    K_MODEL,
    K_USAGE,
    K_IN,
    K_OUT,
    K_CCIT,
    K_CRIT,
    K_SPEED,
    K_CC,
    K_5M,
    K_1H
};

typedef struct {
    const unsigned char *p, *end;
    int depth;
    int lenient; /* AB_TRANSCRIPT_LENIENT: what a message's content holds cannot make it bad */
    const char *err;
    shape s[2];
} parser;

static int fail(parser *P, const char *why)
{
    if (!P->err)
        P->err = why;
    return -1;
}

static void skip_ws(parser *P)
{
    while (P->p < P->end && (*P->p == ' ' || *P->p == '\t' || *P->p == '\n' || *P->p == '\r'))
        P->p++;
}

/* ---- strings ---- */

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/* Non-zero if one of the 8 bytes is '"', '\\', a control character or not ASCII (may also flag
 * bytes after the first such one; never misses one). */
static uint64_t special8(uint64_t v)
{
    uint64_t q = v ^ (ONES * '"'), b = v ^ (ONES * '\\');
    return (((q - ONES) & ~q) | ((b - ONES) & ~b) | ((v - ONES * 0x20) & ~v) | v) & HIGHS;
}

static int hex4(const unsigned char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = s[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            d = (c | 0x20) - 'a' + 10;
        else
            return -1;
        v = v * 16 + d;
    }
    *out = v;
    return 0;
}

/* One escape after the backslash at P->p; surrogates must pair, as serde_json wants. */
static int scan_escape(parser *P)
{
    const unsigned char *s = P->p + 1;
    if (s >= P->end)
        return fail(P, "unterminated string");
    if (strchr("\"\\/bfnrt", *s) && *s) {
        P->p = s + 1;
        return 0;
    }
    unsigned cp, lo;
    if (*s != 'u' || P->end - s < 5 || hex4(s + 1, &cp))
        return fail(P, "bad escape in a string");
    s += 5;
    if (P->lenient) { /* JSON.stringify writes a lone surrogate as \ud800: valid JSON text */
        P->p = s;
        return 0;
    }
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return fail(P, "lone surrogate in a string");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (P->end - s < 6 || s[0] != '\\' || s[1] != 'u' || hex4(s + 2, &lo) || lo < 0xDC00 ||
            lo > 0xDFFF)
            return fail(P, "lone surrogate in a string");
        s += 6;
    }
    P->p = s;
    return 0;
}

/* One UTF-8 sequence at P->p (its first byte is >= 0x80): no overlong forms, no surrogates,
 * nothing over U+10FFFF. */
static int scan_utf8(parser *P)
{
    const unsigned char *s = P->p;
    ptrdiff_t left = P->end - s;
    unsigned c = s[0];
    int n;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        return fail(P, "invalid UTF-8");
    }
    if (left < n || s[1] < lo || s[1] > hi)
        return fail(P, "invalid UTF-8");
    for (int i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return fail(P, "invalid UTF-8");
    P->p = s + n;
    return 0;
}

/* Skips the plain ASCII bytes of a string: up to the first '"', '\\', control character or
 * byte >= 0x80 (16 at a time where SSE2 is there, else 8). */
static const unsigned char *skip_plain(const unsigned char *p, const unsigned char *end)
{
#ifdef AB_X86
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        /* signed: bytes >= 0x80 are negative, so "< 0x20" also catches them */
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                                 _mm_cmplt_epi8(v, space));
        int bits = _mm_movemask_epi8(m);
        if (bits)
            return p + __builtin_ctz((unsigned)bits);
        p += 16;
    }
#endif
    while (end - p >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        if (special8(v))
            break;
        p += 8;
    }
    return p;
}

/* A string at P->p (on its opening quote): validated, and its raw bytes in *out. */
static int scan_string(parser *P, span *out)
{
    const unsigned char *start = ++P->p;
    uint8_t esc = 0;
    for (;;) {
        P->p = skip_plain(P->p, P->end);
        if (P->p >= P->end)
            return fail(P, "unterminated string");
        unsigned c = *P->p;
        if (c == '"')
            break;
        if (c == '\\') {
            esc = 1;
            if (scan_escape(P))
                return -1;
        } else if (c < 0x20) {
            return fail(P, "control character in a string");
        } else if (c >= 0x80) {
            if (scan_utf8(P))
                return -1;
        } else {
            P->p++;
        }
    }
    if (out) {
        out->p = start;
        out->len = (uint32_t)(P->p - start);
        out->esc = esc;
        out->set = 1;
    }
    P->p++;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes a validated string into out (NUL-terminated). Returns its length, or -1 if it does
 * not fit in size - 1 bytes, holds a NUL (which a C string cannot carry), or a lone surrogate
 * (which AB_TRANSCRIPT_LENIENT lets through the scan: a field that is read must not have one,
 * as it could be no UTF-8). */
static long decode(const span *s, char *out, size_t size)
{
    size_t n = 0;
    const unsigned char *p = s->p, *end = s->p + s->len;
    while (p < end) {
        if (*p != '\\') {
            if (n + 1 >= size)
                return -1;
            out[n++] = (char)*p++;
            continue;
        }
        unsigned c = p[1], cp = 0, lo = 0xDC00;
        p += 2;
        switch (c) {
        case 'b':
            cp = '\b';
            break;
        case 'f':
            cp = '\f';
            break;
        case 'n':
            cp = '\n';
            break;
        case 'r':
            cp = '\r';
            break;
        case 't':
            cp = '\t';
            break;
        case 'u':
            hex4(p, &cp);
            p += 4;
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return -1;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, &lo) || lo < 0xDC00 ||
                    lo > 0xDFFF)
                    return -1;
                p += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            break;
        default:
            cp = c;
            break;
        }
        char u[4];
        size_t k = put_utf8(u, cp);
        if (cp == 0 || n + k >= size)
            return -1;
        memcpy(out + n, u, k);
        n += k;
    }
    if (n >= size || memchr(out, 0, n))
        return -1;
    out[n] = '\0';
    return (long)n;
}

/* ---- numbers and literals ---- */

/* A number at P->p, validated as JSON (no leading zeros, digits after '.' and 'e') and, as
 * serde_json wants, finite as a double. *whole: digits only (no sign, fraction or exponent). */
static int scan_number(parser *P, int *whole)
{
    const unsigned char *s = P->p, *e = P->end;
    int plain = 1;
    if (s < e && *s == '-') {
        s++;
        plain = 0;
    }
    if (s >= e || *s < '0' || *s > '9')
        return fail(P, "bad number");
    const unsigned char *digits = s;
    if (*s == '0')
        s++;
    else
        while (s < e && *s >= '0' && *s <= '9')
            s++;
    size_t ndigits = (size_t)(s - digits);
    if (s < e && *s == '.') {
        plain = 0;
        if (++s >= e || *s < '0' || *s > '9')
            return fail(P, "bad number");
        while (s < e && *s >= '0' && *s <= '9')
            s++;
    }
    if (s < e && (*s == 'e' || *s == 'E')) {
        plain = 0;
        s++;
        if (s < e && (*s == '+' || *s == '-'))
            s++;
        if (s >= e || *s < '0' || *s > '9')
            return fail(P, "bad number");
        while (s < e && *s >= '0' && *s <= '9')
            s++;
    }
    if (!plain || ndigits > 18) { /* could it overflow a double? */
        size_t len = (size_t)(s - P->p);
        char small[64], *buf = len < sizeof small ? small : malloc(len + 1);
        if (!buf)
            return fail(P, "out of memory");
        memcpy(buf, P->p, len);
        buf[len] = '\0';
        double d = strtod(buf, NULL);
        if (buf != small)
            free(buf);
        if (isinf(d))
            return fail(P, "number out of range");
    }
    *whole = plain;
    P->p = s;
    return 0;
}

static int scan_literal(parser *P, const char *lit, size_t len)
{
    if ((size_t)(P->end - P->p) < len || memcmp(P->p, lit, len) != 0)
        return fail(P, "invalid JSON");
    P->p += len;
    return 0;
}

/* ---- keys: what they mean where, and duplicates ---- */

/* Writes the key's text (decoded if it has escapes) into buf; NULL if it is longer than any
 * key we look for. */
static const char *key_text(const span *k, char *buf, size_t size, size_t *len)
{
    if (!k->esc) {
        *len = k->len;
        return (const char *)k->p;
    }
    long n = decode(k, buf, size);
    if (n < 0)
        return NULL;
    *len = (size_t)n;
    return buf;
}

static int key_is(const char *t, size_t len, const char *lit)
{
    return strlen(lit) == len && memcmp(t, lit, len) == 0;
}

/* ccusage refuses a line where one of these keys, at any depth, has the value null. */
static int null_refused(const char *t, size_t len)
{
    static const char *const names[] = {"id",
                                        "cwd",
                                        "model",
                                        "speed",
                                        "costUSD",
                                        "version",
                                        "sessionId",
                                        "requestId",
                                        "isApiErrorMessage",
                                        "cache_read_input_tokens",
                                        "cache_creation_input_tokens"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (key_is(t, len, names[i]))
            return 1;
    return 0;
}

#define KEY(ctx, name, code)                                                                       \
    {                                                                                              \
        ctx, sizeof name - 1, name, code                                                           \
    }

static int key_code(int ctx, const char *t, size_t len)
{
    static const struct {
        int ctx;
        size_t len;
        const char *name;
        int code;
    } keys[] = {
        KEY(X_ROOT, "timestamp", K_TS),
        KEY(X_ROOT, "sessionId", K_SID),
        KEY(X_ROOT, "version", K_VER),
        KEY(X_ROOT, "requestId", K_REQ),
        KEY(X_ROOT, "isSidechain", K_SIDE),
        KEY(X_ROOT, "costUSD", K_COST),
        KEY(X_ROOT, "message", K_MSG),
        KEY(X_ROOT, "data", K_DATA),
        KEY(X_MSG, "id", K_ID),
        KEY(X_MSG, "model", K_MODEL),
        KEY(X_MSG, "usage", K_USAGE),
        KEY(X_USAGE, "input_tokens", K_IN),
        KEY(X_USAGE, "output_tokens", K_OUT),
        KEY(X_USAGE, "cache_creation_input_tokens", K_CCIT),
        KEY(X_USAGE, "cache_read_input_tokens", K_CRIT),
        KEY(X_USAGE, "speed", K_SPEED),
        KEY(X_USAGE, "cache_creation", K_CC),
        KEY(X_CC, "ephemeral_5m_input_tokens", K_5M),
        KEY(X_CC, "ephemeral_1h_input_tokens", K_1H),
        KEY(X_DATA, "message", K_MSG),
        KEY(X_DMSG, "timestamp", K_TS),
        KEY(X_DMSG, "requestId", K_REQ),
        KEY(X_DMSG, "isSidechain", K_SIDE),
        KEY(X_DMSG, "costUSD", K_COST),
        KEY(X_DMSG, "message", K_MSG),
    };
    /* the progress shape's message, usage and cache_creation read like the direct one's */
    int c = ctx == X_PMSG ? X_MSG : ctx == X_PUSAGE ? X_USAGE : ctx == X_PCC ? X_CC : ctx;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (keys[i].ctx == c && keys[i].len == len && memcmp(t, keys[i].name, len) == 0)
            return keys[i].code;
    return K_NONE;
}

typedef struct {
    const unsigned char *p;
    uint32_t len;
    uint32_t hash;
    char *dec; /* decoded text of a key with escapes (malloc'd), else NULL */
} keyref;

#define KEYS_LOCAL 16

/* The keys of one object: the first KEYS_LOCAL compared as they come, the rest (rare: large
 * objects) sorted and compared once the object ends. */
typedef struct {
    keyref local[KEYS_LOCAL];
    keyref *heap;
    size_t n, cap;
} keyset;

static uint32_t hash_bytes(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static const char *keyref_text(const keyref *k, size_t *len)
{
    if (k->dec) {
        *len = strlen(k->dec);
        return k->dec;
    }
    *len = k->len;
    return (const char *)k->p;
}

static int keyref_cmp(const keyref *a, const keyref *b)
{
    if (a->hash != b->hash)
        return a->hash < b->hash ? -1 : 1;
    size_t la, lb;
    const char *ta = keyref_text(a, &la), *tb = keyref_text(b, &lb);
    int c = memcmp(ta, tb, la < lb ? la : lb);
    return c ? c : la < lb ? -1 : la > lb;
}

static int keyref_qcmp(const void *a, const void *b)
{
    return keyref_cmp(a, b);
}

static void keyset_free(keyset *ks)
{
    keyref *all = ks->heap ? ks->heap : ks->local;
    for (size_t i = 0; i < ks->n; i++)
        free(all[i].dec);
    free(ks->heap);
}

static int keyset_add(parser *P, keyset *ks, const span *k)
{
    keyref r = {k->p, k->len, 0, NULL};
    if (k->esc) {
        r.dec = malloc((size_t)k->len * 2 + 8); /* a decoded key is never longer than this */
        if (!r.dec || decode(k, r.dec, (size_t)k->len * 2 + 8) < 0) {
            free(r.dec);
            return fail(P, r.dec ? "NUL in a key" : "out of memory");
        }
    }
    size_t len;
    const char *t = keyref_text(&r, &len);
    r.hash = hash_bytes(t, len);
    if (ks->n < KEYS_LOCAL) {
        for (size_t i = 0; i < ks->n; i++)
            if (keyref_cmp(&ks->local[i], &r) == 0) {
                free(r.dec);
                return fail(P, "duplicate key");
            }
        ks->local[ks->n++] = r;
        return 0;
    }
    if (!ks->heap || ks->n == ks->cap) {
        size_t cap = ks->heap ? ks->cap * 2 : 64;
        keyref *h = realloc(ks->heap, cap * sizeof *h);
        if (!h) {
            free(r.dec);
            return fail(P, "out of memory");
        }
        if (!ks->heap)
            memcpy(h, ks->local, sizeof ks->local);
        ks->heap = h;
        ks->cap = cap;
    }
    ks->heap[ks->n++] = r;
    return 0;
}

/* The duplicates among the keys past the first KEYS_LOCAL. */
static int keyset_check(parser *P, keyset *ks)
{
    if (!ks->heap)
        return 0;
    qsort(ks->heap, ks->n, sizeof *ks->heap, keyref_qcmp);
    for (size_t i = 1; i < ks->n; i++)
        if (keyref_cmp(&ks->heap[i - 1], &ks->heap[i]) == 0)
            return fail(P, "duplicate key");
    return 0;
}

/* ---- values ---- */

static int parse_value(parser *P, int ctx);

static shape *shape_of(parser *P, int ctx)
{
    return ctx == X_DMSG || ctx == X_PMSG || ctx == X_PUSAGE || ctx == X_PCC ? &P->s[1] : &P->s[0];
}

static int type_error(parser *P, shape *s, const char *why)
{
    if (!s->err)
        s->err = why;
    return parse_value(P, X_NONE);
}

static int value_string(parser *P, shape *s, span *dst, const char *why)
{
    if (*P->p != '"')
        return type_error(P, s, why);
    return scan_string(P, dst);
}

/* A token count: a whole number 0..AB_TRANSCRIPT_TOKENS_MAX. */
static int value_tokens(parser *P, shape *s, int64_t *dst, int *has, const char *why)
{
    const unsigned char *start = P->p;
    int whole;
    if (*P->p != '-' && (*P->p < '0' || *P->p > '9'))
        return type_error(P, s, why);
    if (scan_number(P, &whole))
        return -1;
    if (!whole) {
        if (!s->err)
            s->err = why;
        return 0;
    }
    int64_t v = 0;
    for (const unsigned char *d = start; d < P->p; d++) {
        v = v * 10 + (*d - '0');
        if (v > AB_TRANSCRIPT_TOKENS_MAX) {
            if (!s->err)
                s->err = "token count over 10^12";
            return 0;
        }
    }
    *dst = v;
    if (has)
        *has = 1;
    return 0;
}

static int value_object(parser *P, shape *s, int child, int *flag, const char *why)
{
    if (*P->p != '{')
        return type_error(P, s, why);
    if (flag)
        *flag = 1;
    return parse_value(P, child);
}

/* The value of a member whose key has meaning here (code != K_NONE). */
static int member_value(parser *P, int ctx, int code)
{
    shape *s = shape_of(P, ctx);
    int prog = s == &P->s[1];
    switch (code) {
    case K_TS:
        return value_string(P, s, &s->ts, "timestamp: not a string");
    case K_SID:
        return value_string(P, s, &s->sid, "sessionId: not a string");
    case K_VER:
        return value_string(P, s, &s->ver, "version: not a string");
    case K_REQ:
        return value_string(P, s, &s->req, "requestId: not a string");
    case K_ID:
        return value_string(P, s, &s->id, "message.id: not a string");
    case K_MODEL:
        return value_string(P, s, &s->model, "message.model: not a string");
    case K_SIDE:
        if (*P->p == 't' || *P->p == 'f' || *P->p == 'n') {
            s->sidechain = *P->p == 't';
            return parse_value(P, X_NONE);
        }
        return type_error(P, s, "isSidechain: not true or false");
    case K_COST:
        if (*P->p == '-' || (*P->p >= '0' && *P->p <= '9'))
            return parse_value(P, X_NONE);
        return type_error(P, s, "costUSD: not a number");
    case K_DATA:
        return *P->p == '{' ? parse_value(P, X_DATA) : parse_value(P, X_NONE);
    case K_MSG:
        if (ctx == X_DATA)
            return *P->p == '{' ? parse_value(P, X_DMSG) : parse_value(P, X_NONE);
        return value_object(P, s, prog ? X_PMSG : X_MSG, &s->msg_obj, "message: not an object");
    case K_USAGE:
        s->usage_seen = 1;
        return value_object(P, s, prog ? X_PUSAGE : X_USAGE, &s->usage_obj,
                            "message.usage: not an object");
    case K_IN:
        return value_tokens(P, s, &s->in, &s->has_in, "input_tokens: not a whole number");
    case K_OUT:
        return value_tokens(P, s, &s->out, &s->has_out, "output_tokens: not a whole number");
    case K_CCIT:
        return value_tokens(P, s, &s->ccit, NULL,
                            "cache_creation_input_tokens: not a whole number");
    case K_CRIT:
        return value_tokens(P, s, &s->crit, NULL, "cache_read_input_tokens: not a whole number");
    case K_5M:
        return value_tokens(P, s, &s->cc5, NULL, "ephemeral_5m_input_tokens: not a whole number");
    case K_1H:
        return value_tokens(P, s, &s->cc1h, NULL, "ephemeral_1h_input_tokens: not a whole number");
    case K_CC:
        if (*P->p == 'n')
            return parse_value(P, X_NONE); /* null: as if absent */
        return value_object(P, s, prog ? X_PCC : X_CC, &s->cc_obj,
                            "usage.cache_creation: not an object");
    case K_SPEED: {
        span v = {0};
        if (*P->p != '"')
            return type_error(P, s, "usage.speed: not a string");
        if (scan_string(P, &v))
            return -1;
        char buf[16];
        long n = decode(&v, buf, sizeof buf);
        if (n == 8 && memcmp(buf, "standard", 8) == 0)
            s->speed = AB_SPEED_STANDARD;
        else if (n == 4 && memcmp(buf, "fast", 4) == 0)
            s->speed = AB_SPEED_FAST;
        else if (!s->err)
            s->err = "usage.speed: not standard or fast";
        return 0;
    }
    }
    return parse_value(P, X_NONE);
}

/* One member: key, colon, value. */
static int parse_member(parser *P, int ctx, keyset *ks)
{
    span k;
    if (P->p >= P->end || *P->p != '"')
        return fail(P, "invalid JSON: expected a key");
    if (scan_string(P, &k) || keyset_add(P, ks, &k))
        return -1;
    skip_ws(P);
    if (P->p >= P->end || *P->p != ':')
        return fail(P, "invalid JSON: expected ':'");
    P->p++;
    skip_ws(P);
    if (P->p >= P->end)
        return fail(P, "truncated JSON");
    char buf[64];
    size_t len;
    const char *t = key_text(&k, buf, sizeof buf, &len);
    /* leniently, only where the fields read are (a tool's input may hold "id": null) */
    if (*P->p == 'n' && t && (!P->lenient || ctx != X_NONE) && null_refused(t, len))
        return fail(P, "null where ccusage wants a value (id, model, requestId, ...)");
    int code = t && ctx != X_NONE ? key_code(ctx, t, len) : K_NONE;
    return code == K_NONE ? parse_value(P, X_NONE) : member_value(P, ctx, code);
}

static int parse_object(parser *P, int ctx)
{
    keyset ks;
    ks.heap = NULL;
    ks.n = ks.cap = 0;
    P->p++;
    skip_ws(P);
    int rc = 0;
    if (P->p < P->end && *P->p == '}') {
        P->p++;
        return 0;
    }
    for (;;) {
        if ((rc = parse_member(P, ctx, &ks)))
            break;
        skip_ws(P);
        if (P->p < P->end && *P->p == ',') {
            P->p++;
            skip_ws(P);
            continue;
        }
        if (P->p < P->end && *P->p == '}') {
            P->p++;
            rc = keyset_check(P, &ks);
        } else {
            rc = fail(P, P->p >= P->end ? "truncated JSON" : "invalid JSON: expected ',' or '}'");
        }
        break;
    }
    keyset_free(&ks);
    return rc;
}

static int parse_array(parser *P)
{
    P->p++;
    skip_ws(P);
    if (P->p < P->end && *P->p == ']') {
        P->p++;
        return 0;
    }
    for (;;) {
        if (parse_value(P, X_NONE))
            return -1;
        skip_ws(P);
        if (P->p < P->end && *P->p == ',') {
            P->p++;
            continue;
        }
        if (P->p < P->end && *P->p == ']') {
            P->p++;
            return 0;
        }
        return fail(P, P->p >= P->end ? "truncated JSON" : "invalid JSON: expected ',' or ']'");
    }
}

/* Any JSON value at P->p (after whitespace); objects read their members as ctx says. */
/* Leniently, a value nested deeper than AB_TRANSCRIPT_DEPTH_MAX inside what is not read (a
 * tool's input): skipped without recursion, its brackets counted outside strings. */
static int skip_nested(parser *P)
{
    size_t depth = 0;
    int in_string = 0;
    for (; P->p < P->end; P->p++) {
        unsigned char ch = *P->p;
        if (in_string) {
            if (ch == '\\')
                P->p++;
            else if (ch == '"')
                in_string = 0;
        } else if (ch == '"') {
            in_string = 1;
        } else if (ch == '{' || ch == '[') {
            depth++;
        } else if ((ch == '}' || ch == ']') && --depth == 0) {
            P->p++;
            return 0;
        }
    }
    return fail(P, "truncated JSON");
}

static int parse_value(parser *P, int ctx)
{
    skip_ws(P);
    if (P->p >= P->end)
        return fail(P, "truncated JSON");
    int whole, rc;
    switch (*P->p) {
    case '{':
    case '[':
        if (P->depth >= AB_TRANSCRIPT_DEPTH_MAX && P->lenient && ctx == X_NONE)
            return skip_nested(P);
        if (++P->depth > AB_TRANSCRIPT_DEPTH_MAX)
            return fail(P, "nested too deeply");
        rc = *P->p == '{' ? parse_object(P, ctx) : parse_array(P);
        P->depth--;
        return rc;
    case '"':
        return scan_string(P, NULL);
    case 't':
        return scan_literal(P, "true", 4);
    case 'f':
        return scan_literal(P, "false", 5);
    case 'n':
        return scan_literal(P, "null", 4);
    default:
        if (*P->p != '-' && (*P->p < '0' || *P->p > '9'))
            return fail(P, "invalid JSON");
        return scan_number(P, &whole);
    }
}

/* ---- the prefilter: "usage":{ somewhere in the line ---- */

/* Candidates are positions with 'u' at +1, ':' at +7 and '{' at +8, 32 or 16 at a time; each
 * is then compared in full. About ten times as fast as memmem() on transcripts. */
#ifdef AB_X86
__attribute__((target("avx2"))) static const unsigned char *
find_marker_avx2(const unsigned char *s, const unsigned char *end)
{
    const __m256i u = _mm256_set1_epi8('u'), colon = _mm256_set1_epi8(':');
    const __m256i brace = _mm256_set1_epi8('{');
    for (; end - s >= 32 + 8; s += 32) {
        __m256i a = _mm256_cmpeq_epi8(_mm256_loadu_si256((const void *)(s + 1)), u);
        __m256i b = _mm256_cmpeq_epi8(_mm256_loadu_si256((const void *)(s + 7)), colon);
        __m256i c = _mm256_cmpeq_epi8(_mm256_loadu_si256((const void *)(s + 8)), brace);
        unsigned m = (unsigned)_mm256_movemask_epi8(_mm256_and_si256(_mm256_and_si256(a, b), c));
        for (; m; m &= m - 1)
            if (memcmp(s + __builtin_ctz(m), MARKER, MARKER_LEN) == 0)
                return s + __builtin_ctz(m);
    }
    return memmem(s, (size_t)(end - s), MARKER, MARKER_LEN);
}

static const unsigned char *find_marker_sse2(const unsigned char *s, const unsigned char *end)
{
    const __m128i u = _mm_set1_epi8('u'), colon = _mm_set1_epi8(':'), brace = _mm_set1_epi8('{');
    for (; end - s >= 16 + 8; s += 16) {
        __m128i a = _mm_cmpeq_epi8(_mm_loadu_si128((const void *)(s + 1)), u);
        __m128i b = _mm_cmpeq_epi8(_mm_loadu_si128((const void *)(s + 7)), colon);
        __m128i c = _mm_cmpeq_epi8(_mm_loadu_si128((const void *)(s + 8)), brace);
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_and_si128(a, b), c));
        for (; m; m &= m - 1)
            if (memcmp(s + __builtin_ctz(m), MARKER, MARKER_LEN) == 0)
                return s + __builtin_ctz(m);
    }
    return memmem(s, (size_t)(end - s), MARKER, MARKER_LEN);
}
#endif

static const unsigned char *find_marker(const unsigned char *s, const unsigned char *end)
{
#ifdef AB_X86
    static _Atomic int avx2 = -1; /* every thread that finds -1 computes the same answer */
    int v = atomic_load_explicit(&avx2, memory_order_relaxed);
    if (v < 0) {
        v = __builtin_cpu_supports("avx2") ? 1 : 0;
        atomic_store_explicit(&avx2, v, memory_order_relaxed);
    }
    return v ? find_marker_avx2(s, end) : find_marker_sse2(s, end);
#else
    return memmem(s, (size_t)(end - s), MARKER, MARKER_LEN);
#endif
}

/* ---- from fields to an entry ---- */

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Claude Code's timestamps, exactly the forms ccusage takes: 2026-09-01T10:00:00Z,
 * 2026-09-01T10:00:00.123Z, and either with an offset (+02:00) instead of Z. */
static int parse_timestamp(const char *s, size_t len, int64_t *out)
{
    int ms = 0, tz_at, y, mo, d, h, mi, se, oh = 0, om = 0;
    if ((len == 20 || len == 25) && (s[19] == 'Z' || s[19] == '+' || s[19] == '-'))
        tz_at = 19;
    else if ((len == 24 || len == 29) && s[19] == '.' && digits(s + 20, 3, &ms) == 0)
        tz_at = 23;
    else
        return -1;
    if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
        digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
        digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &se))
        return -1;
    if (h > 23 || mi > 59 || se > 59 || mo < 1 || mo > 12 || d < 1)
        return -1;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[mo - 1] + (mo == 2 && leap))
        return -1;
    const char *tz = s + tz_at;
    size_t tzlen = len - (size_t)tz_at;
    int sign = 0;
    if (!(tzlen == 1 && tz[0] == 'Z')) {
        if (tzlen != 6 || (tz[0] != '+' && tz[0] != '-') || tz[3] != ':' ||
            digits(tz + 1, 2, &oh) || digits(tz + 4, 2, &om) || oh > 23 || om > 59)
            return -1;
        sign = tz[0] == '+' ? 1 : -1;
    }
    int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    *out = (t - sign * (oh * 3600 + om * 60)) * 1000 + ms;
    return 0;
}

/* "2.0.14"-like: digits '.' digits '.' digit, then anything (ccusage's check). */
static int semver_prefix(const char *v, size_t len)
{
    const char *end = v + len;
    for (int part = 0; part < 2; part++) {
        if (v >= end || *v < '0' || *v > '9')
            return 0;
        while (v < end && *v >= '0' && *v <= '9')
            v++;
        if (v >= end || *v++ != '.')
            return 0;
    }
    return v < end && *v >= '0' && *v <= '9';
}

static int shape_ok(const shape *s)
{
    return !s->err && s->ts.set && s->msg_obj && s->usage_obj && s->has_in && s->has_out;
}

static const char *shape_why(const shape *s)
{
    if (s->err)
        return s->err;
    if (!s->ts.set)
        return "timestamp: missing";
    if (!s->usage_obj)
        return "message.usage: not an object";
    return !s->has_in ? "input_tokens: missing" : "output_tokens: missing";
}

static int bad(ab_transcript_entry *out, const char *why)
{
    out->has_usage = 0;
    out->bad_reason = why;
    return AB_EINVAL;
}

/* Copies a string field into dst; "" stays "" only if absent (ccusage refuses ""). */
static int take(ab_transcript_entry *out, const span *s, char *dst, size_t size,
                const char *too_long, const char *empty)
{
    dst[0] = '\0';
    if (!s->set)
        return AB_OK;
    if (s->len == 0)
        return bad(out, empty);
    if (decode(s, dst, size) < 0)
        return bad(out, too_long);
    return AB_OK;
}

static int entry_from(const shape *s, int progress, ab_transcript_entry *out)
{
    char ts[40], ver[AB_TRANSCRIPT_ID_BYTES_MAX + 1];
    span empty = {0};
    int rc;
    if (take(out, &s->ts, ts, sizeof ts, "timestamp: not of Claude Code's form",
             "timestamp: not of Claude Code's form") ||
        parse_timestamp(ts, strlen(ts), &out->timestamp_ms))
        return bad(out, "timestamp: not of Claude Code's form");
    if (s->ver.set) { /* only its start matters: a long one is read raw */
        long n = s->ver.esc ? decode(&s->ver, ver, sizeof ver) : (long)s->ver.len;
        const char *v = s->ver.esc ? ver : (const char *)s->ver.p;
        if (n < 0 || !semver_prefix(v, (size_t)n))
            return bad(out, "version: not a version number (like 2.0.14)");
    }
    if ((rc = take(out, progress ? &empty : &s->sid, out->session_id, sizeof out->session_id,
                   "sessionId: too long", "sessionId: empty")) ||
        (rc = take(out, &s->req, out->request_id, sizeof out->request_id, "requestId: too long",
                   "requestId: empty")) ||
        (rc = take(out, &s->id, out->message_id, sizeof out->message_id, "message.id: too long",
                   "message.id: empty")) ||
        (rc = take(out, &s->model, out->model, sizeof out->model, "message.model: too long",
                   "message.model: empty")))
        return rc;
    out->usage.input = s->in;
    out->usage.output = s->out;
    out->usage.cache_read = s->crit;
    out->usage.cache_write_5m = s->cc_obj ? s->cc5 : s->ccit;
    out->usage.cache_write_1h = s->cc_obj ? s->cc1h : 0;
    out->is_sidechain = s->sidechain;
    out->speed = s->speed;
    out->from_progress = progress;
    out->has_usage = 1;
    return AB_OK;
}

static int parse_line(const char *line, size_t len, int lenient, ab_transcript_entry *out)
{
    const unsigned char *p = (const unsigned char *)line, *end = p + len;
    out->has_usage = 0;
    out->bad_reason = NULL;
    if (len > AB_TRANSCRIPT_LINE_BYTES_MAX)
        return bad(out, "line longer than 4 MiB");
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        end--;
    if (p == end)
        return AB_OK;
    if (*p != '{' || end[-1] != '}')
        return bad(out, "not one JSON object on the line (truncated?)");
    if (!find_marker(p, end))
        return AB_OK;
    parser P;
    memset(&P, 0, sizeof P);
    P.p = p;
    P.end = end;
    P.lenient = lenient;
    if (parse_value(&P, X_ROOT))
        return bad(out, P.err);
    skip_ws(&P);
    if (P.p != end)
        return bad(out, "invalid JSON: text after the object");
    memset(out, 0, sizeof *out);
    if (shape_ok(&P.s[0]))
        return entry_from(&P.s[0], 0, out);
    if (shape_ok(&P.s[1]))
        return entry_from(&P.s[1], 1, out);
    if (P.s[0].usage_seen)
        return bad(out, shape_why(&P.s[0]));
    if (P.s[1].usage_seen)
        return bad(out, shape_why(&P.s[1]));
    return AB_OK; /* valid, but no message.usage: not a usage line */
}

int ab_transcript_parse_line(const char *line, size_t len, ab_transcript_entry *out)
{
    return parse_line(line, len, 0, out);
}

/* ---- reading a file ---- */

#define READ_CHUNK (1 << 20)

typedef struct {
    int fd;
    int flags;
    ab_transcript_fn fn;
    void *ctx;
    ab_transcript_stats *st;
    int64_t line_no;
} reader;

/* One line at file offset off; returns non-zero to stop. */
static int read_line(reader *r, const char *line, size_t len, int64_t off)
{
    ab_transcript_entry e;
    r->line_no++;
    r->st->lines++;
    int rc = parse_line(line, len, (r->flags & AB_TRANSCRIPT_LENIENT) != 0, &e);
    if (rc == AB_EINVAL) {
        if (r->st->bad_lines++ == 0) {
            r->st->bad_line_no = r->line_no;
            r->st->bad_line_offset = off;
            r->st->bad_reason = e.bad_reason;
        }
        return (r->flags & AB_TRANSCRIPT_STRICT) ? AB_EINVAL : 0;
    }
    if (!e.has_usage)
        return 0;
    e.line_no = r->line_no;
    e.offset = off;
    r->st->entries++;
    return r->fn(&e, r->ctx);
}

/* A line over the limit: counted once, its bytes skipped until its '\n'. */
static int too_long(reader *r, int64_t off)
{
    r->line_no++;
    r->st->lines++;
    if (r->st->bad_lines++ == 0) {
        r->st->bad_line_no = r->line_no;
        r->st->bad_line_offset = off;
        r->st->bad_reason = "line longer than 4 MiB";
    }
    return (r->flags & AB_TRANSCRIPT_STRICT) ? AB_EINVAL : 0;
}

static int read_fail(reader *r, int rc)
{
    r->st->sys_errno = errno;
    return rc;
}

/* The lines of [buf, buf + have), whose first byte is at file offset base. Sets *used to the
 * bytes consumed (complete lines) and *stop_off when a line stops the read. */
static int read_lines(reader *r, const char *buf, size_t have, int64_t base, int eof, size_t *used,
                      int64_t *stop_off)
{
    const char *p = buf, *e = buf + have;
    int rc = 0;
    while (p < e) {
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        if (!nl) {
            if (eof && (r->flags & AB_TRANSCRIPT_TAIL)) {
                rc = read_line(r, p, (size_t)(e - p), base + (p - buf));
                if (rc)
                    *stop_off = base + (p - buf);
            }
            break;
        }
        rc = read_line(r, p, (size_t)(nl - p), base + (p - buf));
        if (rc) {
            *stop_off = base + (p - buf);
            break;
        }
        p = nl + 1;
    }
    *used = (size_t)(p - buf);
    return rc;
}

/* Reads from offset to the end; size_hint is what the file held past offset when opened (the
 * buffer starts that small, so that a million small files are not a million 1 MiB buffers; it
 * grows if the file did). */
static int read_all(reader *r, int64_t offset, int64_t size_hint, int64_t *next)
{
    size_t cap = READ_CHUNK, have = 0;
    while (cap > 4096 && (int64_t)cap / 2 > size_hint)
        cap /= 2;
    char *buf = malloc(cap);
    int64_t base = offset; /* file offset of buf[0] */
    int rc = 0, skipping = 0;
    if (!buf)
        return AB_ENOMEM;
    *next = offset;
    for (;;) {
        ssize_t n = pread(r->fd, buf + have, cap - have, base + (int64_t)have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = read_fail(r, AB_ESTORE);
            break;
        }
        r->st->bytes += n;
        have += (size_t)n;
        int eof = n == 0;
        size_t start = 0, used = 0;
        if (skipping) { /* the rest of a line over the limit */
            const char *nl = memchr(buf, '\n', have);
            start = nl ? (size_t)(nl - buf) + 1 : have;
            skipping = !nl;
        }
        int64_t stop = -1;
        rc = read_lines(r, buf + start, have - start, base + (int64_t)start, eof, &used, &stop);
        used += start;
        if (rc) {
            *next = stop >= 0 ? stop : base + (int64_t)used;
            break;
        }
        if (!skipping)
            *next = base + (int64_t)used;
        if (eof)
            break;
        memmove(buf, buf + used, have - used);
        base += (int64_t)used;
        have -= used;
        if (have > AB_TRANSCRIPT_LINE_BYTES_MAX) {
            if ((rc = too_long(r, base))) {
                *next = base;
                break;
            }
            base += (int64_t)have;
            have = 0;
            skipping = 1;
        } else if (have == cap) {
            char *grown = realloc(buf, cap * 2);
            if (!grown) {
                rc = AB_ENOMEM;
                break;
            }
            buf = grown;
            cap *= 2;
        }
    }
    free(buf);
    return rc;
}

int ab_transcript_read(const char *path, int64_t offset, int flags, ab_transcript_fn fn, void *ctx,
                       ab_transcript_stats *stats, int64_t *next_offset)
{
    ab_transcript_stats local;
    int64_t next_local;
    reader r = {-1, flags, fn, ctx, stats ? stats : &local, 0};
    if (!next_offset)
        next_offset = &next_local;
    memset(r.st, 0, sizeof *r.st);
    *next_offset = offset;
    if (!path || offset < 0 || !fn)
        return AB_EINVAL;
    /* not blocking: a FIFO with no writer would wait for ever in open() */
    r.fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (r.fd < 0)
        return read_fail(&r, errno == ENOENT || errno == ENOTDIR ? AB_ENOTFOUND : AB_ESTORE);
    struct stat sb;
    int rc;
    if (fstat(r.fd, &sb) != 0) {
        rc = read_fail(&r, AB_ESTORE);
    } else if (!S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode)) {
        /* a FIFO or a device (/dev/zero, /dev/urandom): read, it never ends */
        errno = EINVAL;
        rc = read_fail(&r, AB_ESTORE);
    } else if (fcntl(r.fd, F_SETFL, 0) != 0) {
        rc = read_fail(&r, AB_ESTORE);
    } else if (offset > sb.st_size) {
        *next_offset = 0;
        rc = AB_ECONFLICT;
    } else {
        posix_fadvise(r.fd, offset, 0, POSIX_FADV_SEQUENTIAL);
        rc = read_all(&r, offset, (int64_t)sb.st_size - offset, next_offset);
    }
    close(r.fd);
    return rc;
}

/* ---- finding the files ---- */

#define WALK_DEPTH_MAX 32
#define AB__STR2(x) #x
#define AB__STR(x) AB__STR2(x)

typedef struct {
    ab_transcript_file *v;
    size_t n, cap;
    char *err;
    size_t err_size;
    size_t skipped;                    /* directories not read: unreadable, or too deep */
    char skipped_first[PATH_MAX + 64]; /* the first, and why */
} file_list;

/* A directory whose transcripts are not counted: said on success too (ab_transcript_files). */
static void list_skip(file_list *l, const char *dir, const char *why)
{
    if (!l->skipped++)
        snprintf(l->skipped_first, sizeof l->skipped_first, "%s: %s", dir, why);
}

static int list_fail(file_list *l, int rc, const char *fmt, const char *arg)
{
    if (l->err && l->err_size)
        snprintf(l->err, l->err_size, fmt, arg);
    return rc;
}

/* Splits the path's components under the projects directory (rel: the part after it) into
 * project, project_path and session as ccusage does. */
static int describe(ab_transcript_file *f, const char *rel)
{
    const char *comp[WALK_DEPTH_MAX + 2];
    size_t len[WALK_DEPTH_MAX + 2], n = 0;
    for (const char *p = rel; *p && n < WALK_DEPTH_MAX + 2;) {
        const char *slash = strchr(p, '/');
        size_t l = slash ? (size_t)(slash - p) : strlen(p);
        if (l) {
            comp[n] = p;
            len[n++] = l;
        }
        p += l + (slash ? 1 : 0);
    }
    size_t sess, proj_end; /* session component; project_path = comp[0 .. proj_end) */
    int stem = 0;
    if (n == 0) {
        comp[0] = "unknown";
        len[0] = 7;
        n = 1;
    }
    if (n == 2 && len[1] > 6 && memcmp(comp[1] + len[1] - 6, ".jsonl", 6) == 0) {
        sess = 1, proj_end = 1, stem = 1;
    } else if (n >= 4 && len[n - 2] == 9 && memcmp(comp[n - 2], "subagents", 9) == 0) {
        sess = n - 3, proj_end = n - 3;
    } else {
        sess = n >= 2 ? n - 2 : 0, proj_end = n > 2 ? n - 2 : 0;
    }
    size_t sl = len[sess] - (stem ? 6 : 0); /* without ".jsonl" */
    f->session_id = strndup(comp[sess], sl);
    f->project = strndup(comp[0], len[0]);
    if (proj_end == 0)
        f->project_path = strdup("Unknown Project");
    else
        f->project_path =
            strndup(comp[0], (size_t)(comp[proj_end - 1] + len[proj_end - 1] - comp[0]));
    return f->session_id && f->project && f->project_path ? AB_OK : AB_ENOMEM;
}

static int list_add(file_list *l, const char *path, size_t rel_at, int64_t size)
{
    if (l->n >= AB_TRANSCRIPT_FILES_MAX)
        return list_fail(l, AB_ELIMIT, "more than %s transcript files", "1000000");
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        ab_transcript_file *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return AB_ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    ab_transcript_file *f = &l->v[l->n++];
    memset(f, 0, sizeof *f);
    f->size_bytes = size;
    f->path = strdup(path);
    if (!f->path)
        return AB_ENOMEM;
    return describe(f, path + rel_at);
}

static int is_jsonl(const char *name)
{
    size_t n = strlen(name);
    /* ".jsonl" alone has no extension, as Rust's Path::extension() sees it */
    return n > 6 && strcmp(name + n - 6, ".jsonl") == 0;
}

/* Walks dir (a path of length len in buf) for *.jsonl files; rel_at: where the part under
 * projects/ starts in buf. */
static int walk(file_list *l, char *buf, size_t len, size_t rel_at, int depth)
{
    if (depth > WALK_DEPTH_MAX) {
        list_skip(l, buf, "more than " AB__STR(WALK_DEPTH_MAX) " directories below projects/");
        return AB_OK;
    }
    DIR *d = opendir(buf);
    if (!d) { /* unreadable (ccusage is silent), or vanished since it was listed */
        if (errno != ENOENT)
            list_skip(l, buf, strerror(errno));
        return AB_OK;
    }
    struct dirent *de;
    int rc = AB_OK;
    while (rc == AB_OK && (de = readdir(d))) {
        const char *name = de->d_name;
        size_t nl = strlen(name);
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || len + 1 + nl >= PATH_MAX)
            continue;
        buf[len] = '/';
        memcpy(buf + len + 1, name, nl + 1);
        struct stat sb;
        if (lstat(buf, &sb) != 0)
            continue;
        if (S_ISREG(sb.st_mode) && is_jsonl(name))
            rc = list_add(l, buf, rel_at, (int64_t)sb.st_size);
        else if (S_ISDIR(sb.st_mode))
            rc = walk(l, buf, len + 1 + nl, rel_at, depth + 1);
    }
    buf[len] = '\0';
    closedir(d);
    return rc;
}

static int is_dir(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* Scans a projects directory (or projects/<project>). */
static int scan_projects(file_list *l, const char *projects, const char *project)
{
    char buf[PATH_MAX];
    int n = snprintf(buf, sizeof buf, "%s", projects);
    if (n < 0 || (size_t)n >= sizeof buf)
        return list_fail(l, AB_EINVAL, "'%s': path too long", projects);
    while (n > 1 && buf[n - 1] == '/')
        buf[--n] = '\0';
    size_t rel_at = (size_t)n + 1;
    if (project) {
        int m = snprintf(buf + n, sizeof buf - (size_t)n, "/%s", project);
        if (m < 0 || (size_t)m >= sizeof buf - (size_t)n)
            return list_fail(l, AB_EINVAL, "'%s': path too long", projects);
        n += m;
        if (!is_dir(buf))
            return AB_OK;
    }
    return walk(l, buf, (size_t)n, rel_at, 0);
}

/* A root given by the user: a file, a config dir, a projects dir, or a dir of transcripts. */
static int scan_root(file_list *l, const char *root, const char *project)
{
    struct stat sb;
    char sub[PATH_MAX];
    if (stat(root, &sb) != 0)
        return list_fail(l, AB_ENOTFOUND, "'%s': no such file or directory", root);
    if (S_ISREG(sb.st_mode)) {
        /* one file: its directory stands for the project */
        const char *slash = strrchr(root, '/'), *dir = slash;
        while (dir && dir > root && dir[-1] != '/')
            dir--;
        return list_add(l, root, dir ? (size_t)(dir - root) : 0, (int64_t)sb.st_size);
    }
    if (!S_ISDIR(sb.st_mode))
        return list_fail(l, AB_EINVAL, "'%s': not a file or a directory", root);
    int n = snprintf(sub, sizeof sub, "%s/projects", root);
    if (n > 0 && (size_t)n < sizeof sub && is_dir(sub))
        return scan_projects(l, sub, project);
    /* one project's directory (projects/NAME): read as projects/ with only NAME, so that its
     * files get the project and session names they get when the config directory is given */
    n = snprintf(sub, sizeof sub, "%s", root);
    while (n > 1 && sub[n - 1] == '/')
        sub[--n] = '\0';
    char *slash = n > 0 && (size_t)n < sizeof sub ? strrchr(sub, '/') : NULL;
    if (slash && slash - sub >= 8 && !memcmp(slash - 8, "projects", 8) &&
        (slash - sub == 8 || slash[-9] == '/') && slash[1] && strcmp(slash + 1, ".") &&
        strcmp(slash + 1, "..")) {
        *slash = '\0';
        if (project && strcmp(project, slash + 1))
            return AB_OK;
        return scan_projects(l, sub, slash + 1);
    }
    return scan_projects(l, root, project);
}

/* A directory from $CLAUDE_CONFIG_DIR or the defaults: used only if it has projects/ (or is
 * one). */
static int scan_config_dir(file_list *l, const char *dir, const char *project, int *used)
{
    char p[PATH_MAX];
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    int n = snprintf(p, sizeof p, "%.*s/projects", (int)dl, dir);
    if (n > 0 && (size_t)n < sizeof p && is_dir(p)) {
        *used = 1;
        return scan_projects(l, p, project);
    }
    if (dl >= 8 && memcmp(dir + dl - 8, "projects", 8) == 0 && (dl == 8 || dir[dl - 9] == '/') &&
        is_dir(dir)) {
        *used = 1;
        return scan_projects(l, dir, project);
    }
    return AB_OK;
}

static void expand_home(const char *raw, size_t len, char *out, size_t size)
{
    const char *home = getenv("HOME");
    if (home && (len == 1 || (len > 1 && raw[1] == '/')) && raw[0] == '~')
        snprintf(out, size, "%s%.*s", home, (int)(len - 1), raw + 1);
    else
        snprintf(out, size, "%.*s", (int)len, raw);
}

/* $CLAUDE_CONFIG_DIR: comma-separated, each trimmed; empty ones and repeats skipped. */
static int scan_env(file_list *l, const char *env, const char *project)
{
    char seen[16][PATH_MAX];
    size_t nseen = 0;
    int used = 0, rc = AB_OK;
    for (const char *p = env; rc == AB_OK && *p;) {
        const char *comma = strchr(p, ',');
        const char *e = comma ? comma : p + strlen(p);
        const char *s = p;
        p = comma ? comma + 1 : e;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (s == e)
            continue;
        char dir[PATH_MAX];
        expand_home(s, (size_t)(e - s), dir, sizeof dir);
        int dup = 0;
        for (size_t i = 0; i < nseen; i++)
            dup |= strcmp(seen[i], dir) == 0;
        if (dup)
            continue;
        if (nseen < 16)
            memcpy(seen[nseen++], dir, sizeof dir);
        rc = scan_config_dir(l, dir, project, &used);
    }
    if (rc == AB_OK && !used)
        return list_fail(l, AB_ENOTFOUND,
                         "CLAUDE_CONFIG_DIR: no directory with a projects/ directory in '%s'", env);
    return rc;
}

static int scan_defaults(file_list *l, const char *project)
{
    const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");
    char a[PATH_MAX], b[PATH_MAX];
    int used = 0, rc;
    if (!home || !*home)
        return list_fail(l, AB_ENOTFOUND, "%s: HOME is not set", "transcripts");
    if (xdg && *xdg)
        snprintf(a, sizeof a, "%s/claude", xdg);
    else
        snprintf(a, sizeof a, "%s/.config/claude", home);
    snprintf(b, sizeof b, "%s/.claude", home);
    rc = scan_config_dir(l, a, project, &used);
    if (rc == AB_OK && strcmp(a, b) != 0)
        rc = scan_config_dir(l, b, project, &used);
    return rc;
}

static int file_cmp(const void *a, const void *b)
{
    return strcmp(((const ab_transcript_file *)a)->path, ((const ab_transcript_file *)b)->path);
}

void ab_transcript_files_free(ab_transcript_file *files, size_t count)
{
    for (size_t i = 0; files && i < count; i++) {
        free(files[i].path);
        free(files[i].project);
        free(files[i].project_path);
        free(files[i].session_id);
    }
    free(files);
}

int ab_transcript_files(const char *const *roots, size_t roots_count, const char *project,
                        ab_transcript_file **out, size_t *count, char *err, size_t err_size)
{
    file_list l = {.err = err, .err_size = err_size};
    int rc = AB_OK;
    *out = NULL;
    *count = 0;
    if (err && err_size)
        err[0] = '\0';
    if (project && (!*project || strchr(project, '/') || strcmp(project, ".") == 0 ||
                    strcmp(project, "..") == 0))
        return list_fail(&l, AB_EINVAL, "project '%s': must be one directory name", project);
    const char *env = getenv("CLAUDE_CONFIG_DIR");
    if (roots_count > 0) {
        for (size_t i = 0; rc == AB_OK && i < roots_count; i++)
            rc = scan_root(&l, roots[i], project);
    } else if (env) {
        rc = scan_env(&l, env, project);
    } else {
        rc = scan_defaults(&l, project);
    }
    if (rc != AB_OK) {
        ab_transcript_files_free(l.v, l.n);
        if (rc == AB_ENOMEM)
            list_fail(&l, rc, "%s", "out of memory");
        return rc;
    }
    if (l.n > 1)
        qsort(l.v, l.n, sizeof *l.v, file_cmp);
    /* the same file reached twice (a root inside another) counts once */
    size_t k = 0;
    for (size_t i = 0; i < l.n; i++) {
        if (k > 0 && strcmp(l.v[k - 1].path, l.v[i].path) == 0) {
            free(l.v[i].path);
            free(l.v[i].project);
            free(l.v[i].project_path);
            free(l.v[i].session_id);
            continue;
        }
        l.v[k++] = l.v[i];
    }
    *out = l.v;
    *count = k;
    if (l.skipped && err && err_size)
        snprintf(err, err_size, "%zu director%s not read (the first: %s)", l.skipped,
                 l.skipped == 1 ? "y" : "ies", l.skipped_first);
    return AB_OK;
}
