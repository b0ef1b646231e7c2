/* cmd_events.c — reading the audit log, as text or as JSON lines. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cli.h"

static int event_out(const ab_event *e, void *v)
{
    cli *c = v;
    if (c->json) {
        char *j = ab_event_json(e);
        if (!j)
            return AB_ENOMEM;
        puts(j);
        free(j);
        return 0;
    }
    char when[32], usd[32], reason[sizeof e->reason];
    time_t t = (time_t)(e->time_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    printf("%6" PRId64 " %s.%03dZ %-10s %-28s %-8s %8" PRId64 " tok $%-12s %s%s%s\n", e->id, when,
           (int)(e->time_ms % 1000), e->op, e->budget[0] ? e->budget : "-",
           e->allowed ? "ok" : "DENIED", e->tokens, ab_usd_format(e->cost_nusd, usd, sizeof usd),
           e->model, e->hold_id[0] ? "  " : "", e->hold_id);
    if (e->reason[0]) /* a denied command is the agent's text: no escapes to the terminal */
        printf("       %s\n", term_safe(e->reason, reason, sizeof reason));
    return 0;
}

static const opt_spec events_opts[] = {{"budget", 1, 0}, {"op", 1, 0},    {"since", 1, 0},
                                       {"until", 1, 0},  {"after", 1, 0}, {"limit", 1, 0},
                                       {NULL, 0, 0}};

int cmd_events(cli *c, int argc, char **argv)
{
    parsed p;
    int rc = args_parse(c, command_find("events"), events_opts, argc, argv, &p, 0, 0);
    if (rc)
        return rc;
    ab_event_query q = {.budget = opt(&p, events_opts, "budget"), .op = opt(&p, events_opts, "op")};
    if (q.budget && (rc = check_path(c, "--budget", q.budget)))
        return rc;
    static const char *const names[] = {"since", "until", "after", "limit"};
    int64_t *fields[] = {&q.since_ms, &q.until_ms, &q.after_id, &q.limit};
    for (int i = 0; i < 4; i++) {
        const char *v = opt(&p, events_opts, names[i]);
        char field[16];
        snprintf(field, sizeof field, "--%s", names[i]);
        if (v && ab_tokens_parse(v, fields[i]))
            return usage_error(c, "%s: '%s' is not a whole number%s", field, v,
                               i < 2 ? " of milliseconds since the epoch" : "");
    }
    if (opt(&p, events_opts, "until") && q.until_ms == 0) /* the library's "no bound" */
        return usage_error(c, "--until: must be 1 or more (events before that time, in "
                              "milliseconds since the epoch; leave it out for no bound)");
    if (q.limit > AB_EVENTS_PAGE_MAX || (opt(&p, events_opts, "limit") && q.limit == 0))
        return usage_error(c, "--limit: must be 1-%d", AB_EVENTS_PAGE_MAX);
    if ((rc = store_open(c)))
        return rc;
    if ((rc = be_events(c, &q, event_out, c)))
        return fail(c, rc);
    return 0;
}
