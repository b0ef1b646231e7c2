/* fuzz_hook.c — a Claude Code hook event (what `agentbudget hook claude-code` reads on stdin) on
 * any bytes: hook_event_parse() and hook_event_run() of src/cli/cmd_hook.c against a fresh
 * memory: store per input, with a role that allows and denies tools and a session limit that the
 * transcript's usage spends, so that the decision path runs as well as the validation. The
 * event's transcript paths are pointed at one small transcript of the harness's own (any other
 * file of the machine is not the harness's to read); stdout (the denials) goes to /dev/null
 * unless FUZZ_HOOK_STDOUT is set. */
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <unistd.h>

#include "cli.h"
#include "fuzz.h"

static char state_dir[PATH_MAX];       /* $XDG_STATE_HOME/agentbudget/claude-code: offset files */
static char transcript_path[PATH_MAX]; /* every event's transcript */
static const hook_config config = {
    .parent = "claude-code", .role = "claude-code", .deny_on_error = 1};

/* args_parse() of the command table is never reached from hook_event_run(). */
const command *command_find(const char *name)
{
    (void)name;
    return NULL;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    FUZZ_CHECK(f != NULL);
    fputs(text, f);
    FUZZ_CHECK(fclose(f) == 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *dir = fuzz_tmp_dir("hook");
    FUZZ_CHECK(dir != NULL);
    setenv("HOME", dir, 1);
    setenv("XDG_STATE_HOME", dir, 1);
    unsetenv("AGENTBUDGET_URL");
    snprintf(state_dir, sizeof state_dir, "%s/agentbudget/claude-code", dir);
    snprintf(transcript_path, sizeof transcript_path, "%s/session.jsonl", dir);
    /* two messages (one of a model without a price), a line that is no usage, a half line */
    write_file(transcript_path,
               "{\"type\":\"assistant\",\"timestamp\":\"2026-09-01T10:00:00.000Z\",\"requestId\":"
               "\"req_1\",\"sessionId\":\"s1\",\"message\":"
               "{\"id\":\"msg_1\",\"model\":\"claude-sonnet-4-5\",\"usage\":{\"input_tokens\":"
               "1200,\"output_tokens\":300,\"cache_creation_input_tokens\":40,"
               "\"cache_read_input_tokens\":7}}}\n"
               "{\"type\":\"user\",\"message\":{\"role\":\"user\",\"content\":\"hi\"}}\n"
               "{\"type\":\"assistant\",\"timestamp\":\"2026-09-01T10:01:00.000Z\",\"requestId\":"
               "\"req_2\",\"message\":{\"id\":\"msg_2\","
               "\"model\":\"no-such-model\",\"usage\":{\"input_tokens\":10,\"output_tokens\":2}}}\n"
               "{\"type\":\"assistant\",\"message\":{\"id\":\"msg_3\",\"usa");
    if (!getenv("FUZZ_HOOK_STDOUT")) { /* set it to see the denials */
        int null_fd = open("/dev/null", O_WRONLY);
        FUZZ_CHECK(null_fd >= 0 && dup2(null_fd, STDOUT_FILENO) == STDOUT_FILENO);
        close(null_fd);
    }
    return 0;
}

/* The store of one input: the role the config names, and a parent that spends 1000 tokens. */
static ab_store *store_new(void)
{
    ab_store *st = NULL;
    FUZZ_CHECK(ab_store_open("memory:", &st) == AB_OK);
    ab_role r;
    memset(&r, 0, sizeof r);
    snprintf(r.name, sizeof r.name, "%s", config.role);
    FUZZ_CHECK(ab_limit_parse("tokens/session=1000", &r.limits[0]) == AB_OK);
    r.limits_count = 1;
    char allow[] = "*", deny_push[] = "Bash(git push*)", deny_web[] = "Web*";
    r.allow_tools[r.allow_tools_count++] = allow;
    r.deny_tools[r.deny_tools_count++] = deny_push;
    r.deny_tools[r.deny_tools_count++] = deny_web;
    FUZZ_CHECK(ab_role_set(st, &r) == AB_OK);
    ab_limit l;
    FUZZ_CHECK(ab_limit_parse("usd/day=5", &l) == AB_OK);
    ab_budget_spec spec = {.limits = &l, .limits_count = 1};
    FUZZ_CHECK(ab_budget_set(st, config.parent, &spec, NULL, NULL) == AB_OK);
    return st;
}

/* Each input charges the transcript from its start: forget the offsets of the last one. */
static void offsets_forget(void)
{
    DIR *d = opendir(state_dir);
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.')
            unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
}

static void redirect_transcript(json_t *ev, const char *field)
{
    const char *t = json_string_value(json_object_get(ev, field));
    if (t && *t)
        json_object_set_new(ev, field, json_string(transcript_path));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cli c;
    memset(&c, 0, sizeof c);
    c.cmd = "hook";
    json_t *ev = NULL;
    int rc = hook_event_parse(&c, (const char *)data, size, &ev);
    FUZZ_CHECK(rc == 0 || rc == EXIT_USAGE);
    FUZZ_CHECK((rc == 0) == (ev != NULL));
    if (rc)
        return 0;
    FUZZ_CHECK(json_is_object(ev));
    redirect_transcript(ev, "transcript_path");
    redirect_transcript(ev, "agent_transcript_path");
    offsets_forget();
    c.st = store_new();
    rc = hook_event_run(&c, &config, ev);
    FUZZ_CHECK(rc == 0 || rc == EXIT_USAGE || rc == EXIT_FAILURE_STORE);
    json_decref(ev);
    ab_store_close(c.st);
    return 0;
}
