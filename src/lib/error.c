/* error.c — the one table of error codes, their names and descriptions. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static const struct {
    int rc;
    const char *name;
    const char *text;
} errors[] = {
    {AB_OK, "OK", "ok"},
    {AB_EINVAL, "EINVAL", "bad input"},
    {AB_ENOTFOUND, "ENOTFOUND", "not found"},
    {AB_ECONFLICT, "ECONFLICT", "conflict"},
    {AB_EEXIST, "EEXIST", "already exists"},
    {AB_ESTORE, "ESTORE", "store failure"},
    {AB_EOVERFLOW, "EOVERFLOW", "amount out of range"},
    {AB_ENOMEM, "ENOMEM", "out of memory"},
    {AB_EBUSY, "EBUSY", "store busy"},
    {AB_EUNKNOWNMODEL, "EUNKNOWNMODEL", "unknown model"},
    {AB_ESTATE, "ESTATE", "hold is not open"},
    {AB_ELIMIT, "ELIMIT", "size limit reached"},
    {AB_EPERM, "EPERM", "not authorised"},
    {AB_EREPLAY, "EREPLAY", "batch voided: run it again"},
};

const char *ab_strerror(int rc)
{
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
        if (errors[i].rc == rc)
            return errors[i].text;
    return "unknown error";
}

const char *ab_err_name(int rc)
{
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
        if (errors[i].rc == rc)
            return errors[i].name;
    return "UNKNOWN";
}

int ab__fail(ab_store *st, int rc, const char *fmt, ...)
{
    if (st) {
        char msg[sizeof st->errmsg]; /* the message may quote the one it replaces */
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        /* under the handle's lock (recursive: a call holding it already takes it again), as a
         * failed check of the arguments comes before the call takes it: another thread's call
         * must not read or write a half-written message */
        pthread_mutex_lock(&st->lock);
        memcpy(st->errmsg, msg, sizeof msg);
        pthread_mutex_unlock(&st->lock);
    }
    return rc;
}

int ab__strlcpy(char *dst, const char *src, size_t size)
{
    size_t n = strlen(src);
    if (n >= size)
        return AB_ELIMIT;
    memcpy(dst, src, n + 1);
    return AB_OK;
}

/* 1 if s is well-formed UTF-8 (no overlong forms, no surrogates, at most U+10FFFF). */
size_t ab__utf8_seq(const unsigned char *s)
{
    unsigned c = *s, n = c < 0x80         ? 0
                         : (c >> 5) == 6  ? 1
                         : (c >> 4) == 14 ? 2
                         : (c >> 3) == 30 ? 3
                                          : 9;
    if (n == 9 || (n == 1 && c < 0xc2))
        return 0;
    unsigned cp = n ? c & (0x3f >> n) : c;
    for (unsigned i = 1; i <= n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n + 1;
}

void ab__utf8_trim(char *s)
{
    size_t n = strlen(s), start = n;
    while (start > 0 && n - start < 4 && ((unsigned char)s[start - 1] & 0xc0) == 0x80)
        start--; /* back over continuation bytes to the start of the last sequence */
    if (start > 0 && (unsigned char)s[start - 1] >= 0x80)
        start--;
    else if (start == n)
        return; /* ends in ASCII */
    if (!ab__utf8_seq((const unsigned char *)s + start))
        s[start] = '\0';
}

int ab__utf8_valid(const unsigned char *s)
{
    for (size_t n; *s; s += n)
        if (!(n = ab__utf8_seq(s)))
            return 0;
    return 1;
}

int ab__name_valid(ab_store *st, const char *field, const char *s)
{
    /* one pass for the length, control characters and whether there is anything but ASCII */
    size_t n = 0;
    int control = 0, ascii = 1;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        control |= c < 0x20 || c == 0x7f;
        ascii &= c < 0x80;
    }
    if (n == 0 || n >= AB_NAME_BYTES_MAX)
        return ab__fail(st, AB_EINVAL, "%s: must be 1-%d bytes", field, AB_NAME_BYTES_MAX - 1);
    if (control)
        return ab__fail(st, AB_EINVAL, "%s: no control characters", field);
    if (!ascii && !ab__utf8_valid((const unsigned char *)s))
        return ab__fail(st, AB_EINVAL, "%s: must be valid UTF-8", field);
    return AB_OK;
}
