/* test_transcript.c — Claude Code transcripts in the library: the line parser against a table
 * of edge cases (lines.test), the file reader (offsets, a line still being written, strict
 * mode, a line over the limit, lines across its buffer), and the finding of transcript files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../test.h"
#include "agentbudget.h"

/* ---- the table ---- */

/* Turns \xHH into the byte HH, in place; returns the new length. */
static size_t unescape(char *s)
{
    size_t o = 0;
    for (size_t i = 0; s[i]; i++) {
        unsigned v;
        if (s[i] == '\\' && s[i + 1] == 'x' && sscanf(s + i + 2, "%2x", &v) == 1) {
            s[o++] = (char)v;
            i += 3;
        } else {
            s[o++] = s[i];
        }
    }
    s[o] = '\0';
    return o;
}

static void entry_text(const ab_transcript_entry *e, char *buf, size_t size)
{
    snprintf(buf, size,
             "entry id=%s req=%s sid=%s model=%s ts=%lld in=%lld out=%lld cw5=%lld cw1=%lld "
             "cr=%lld side=%d speed=%d prog=%d",
             e->message_id, e->request_id, e->session_id, e->model, (long long)e->timestamp_ms,
             (long long)e->usage.input, (long long)e->usage.output,
             (long long)e->usage.cache_write_5m, (long long)e->usage.cache_write_1h,
             (long long)e->usage.cache_read, e->is_sidechain, (int)e->speed, e->from_progress);
}

static void check_case(const char *name, const char *want, char *line)
{
    size_t len = unescape(line);
    ab_transcript_entry e;
    int rc = ab_transcript_parse_line(line, len, &e);
    char got[2048];
    if (rc == AB_EINVAL)
        snprintf(got, sizeof got, "bad: %s", e.bad_reason ? e.bad_reason : "(no reason)");
    else if (rc == AB_OK && !e.has_usage)
        snprintf(got, sizeof got, "none");
    else if (rc == AB_OK)
        entry_text(&e, got, sizeof got);
    else
        snprintf(got, sizeof got, "rc %d", rc);
    int ok = strncmp(want, "bad: ", 5) == 0 ? strncmp(got, "bad: ", 5) == 0 && strstr(got, want + 5)
                                            : strcmp(got, want) == 0;
    test_checks++;
    if (!ok) {
        test_failures++;
        fprintf(stderr, "lines.test: %s\n  want: %s\n  got:  %s\n", name, want, got);
    }
}

static int run_table(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "error: cannot open '%s': %s\n", path, strerror(errno));
        return -1;
    }
    char *name = NULL, *want = NULL, *line = NULL;
    size_t ncap = 0, wcap = 0, lcap = 0;
    int cases = 0;
    while (getline(&name, &ncap, f) > 0) {
        if (strncmp(name, "== ", 3) != 0)
            continue;
        if (getline(&want, &wcap, f) <= 0 || getline(&line, &lcap, f) <= 0)
            break;
        name[strcspn(name, "\n")] = want[strcspn(want, "\n")] = line[strcspn(line, "\n")] = 0;
        check_case(name + 3, want, line);
        cases++;
    }
    free(name);
    free(want);
    free(line);
    fclose(f);
    CHECK(cases >= 80); /* the table was read, not skipped */
    return cases;
}

/* ---- cases the table cannot hold ---- */

static const char *LINE = "{\"timestamp\":\"2026-09-01T10:00:00.000Z\",\"sessionId\":\"s\","
                          "\"requestId\":\"r%d\",\"message\":{\"id\":\"m%d\",\"model\":"
                          "\"claude-sonnet-4-20250514\",\"usage\":{\"input_tokens\":%d,"
                          "\"output_tokens\":1}}}";

static char *usage_line(int n)
{
    static char buf[512];
    snprintf(buf, sizeof buf, LINE, n, n, n);
    return buf;
}

static void test_big_lines(void)
{
    ab_transcript_entry e;
    size_t big = 10u * 1024 * 1024;
    char *s = malloc(big + 1);
    memset(s, 'x', big);
    memcpy(s, "{\"usage\":{", 10);
    s[big - 1] = '}';
    CHECK_I64(ab_transcript_parse_line(s, big, &e), AB_EINVAL);
    CHECK(e.bad_reason && strstr(e.bad_reason, "longer than"));
    /* a valid line just under the limit, with a long text */
    size_t n = AB_TRANSCRIPT_LINE_BYTES_MAX - 200;
    int head = snprintf(s, n,
                        "{\"timestamp\":\"2026-09-01T10:00:00Z\",\"message\":{\"usage\":"
                        "{\"input_tokens\":1,\"output_tokens\":2},\"content\":\"");
    memset(s + head, 'y', n - (size_t)head - 3);
    memcpy(s + n - 3, "\"}}", 3);
    CHECK_I64(ab_transcript_parse_line(s, n, &e), AB_OK);
    CHECK_I64(e.has_usage, 1);
    CHECK_I64(e.usage.output, 2);
    free(s);
}

static char *tmpdir;

static char *path_in(const char *name)
{
    static char buf[4][1024];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static void write_file(const char *path, const char *mode, const char *data, size_t len)
{
    FILE *f = fopen(path, mode);
    if (!f) {
        perror(path);
        exit(2);
    }
    fwrite(data, 1, len, f);
    fclose(f);
}

static void append_line(const char *path, const char *line)
{
    write_file(path, "a", line, strlen(line));
    write_file(path, "a", "\n", 1);
}

typedef struct {
    int n;
    int64_t input_sum;
    int64_t last_line_no, last_offset;
    int stop_at; /* return 99 on this input_tokens value */
} sink;

static int collect(const ab_transcript_entry *e, void *v)
{
    sink *s = v;
    if (s->stop_at && e->usage.input == s->stop_at)
        return 99;
    s->n++;
    s->input_sum += e->usage.input;
    s->last_line_no = e->line_no;
    s->last_offset = e->offset;
    return 0;
}

/* A hook reads what was appended since its last call, never a line still being written. */
static void test_read_from_offset(void)
{
    const char *p = path_in("grow.jsonl");
    sink s = {0};
    ab_transcript_stats st;
    int64_t next = -1;
    append_line(p, usage_line(1));
    append_line(p, "{\"type\":\"user\",\"message\":{\"content\":\"hi\"}}");
    append_line(p, usage_line(2));
    const char *partial = "{\"timestamp\":\"2026-09-01T10:00:00.000Z\",\"message\":{\"usa";
    write_file(p, "a", partial, strlen(partial));
    CHECK_OK(NULL, ab_transcript_read(p, 0, 0, collect, &s, &st, &next));
    CHECK_I64(s.n, 2);
    CHECK_I64(s.input_sum, 3);
    CHECK_I64(st.lines, 3);
    CHECK_I64(st.bad_lines, 0);
    CHECK_I64(s.last_line_no, 3);
    struct stat sb;
    stat(p, &sb);
    CHECK_I64(next, sb.st_size - (int64_t)strlen(partial));
    /* the line is finished, one more is added: only those two are read */
    const char *rest = "ge\":{\"input_tokens\":40,\"output_tokens\":1}}}\n";
    write_file(p, "a", rest, strlen(rest));
    append_line(p, usage_line(50));
    sink s2 = {0};
    int64_t from = next;
    CHECK_OK(NULL, ab_transcript_read(p, from, 0, collect, &s2, &st, &next));
    CHECK_I64(s2.n, 2);
    CHECK_I64(s2.input_sum, 90);
    CHECK_I64(s2.last_line_no, 2); /* counted from the offset */
    stat(p, &sb);
    CHECK_I64(next, sb.st_size);
    /* nothing new: nothing read */
    sink s3 = {0};
    CHECK_OK(NULL, ab_transcript_read(p, next, 0, collect, &s3, &st, &next));
    CHECK_I64(s3.n, 0);
    CHECK_I64(next, sb.st_size);
    /* the file was replaced by a shorter one */
    write_file(p, "w", "\n", 1);
    CHECK_I64(ab_transcript_read(p, sb.st_size, 0, collect, &s3, &st, &next), AB_ECONFLICT);
    CHECK_I64(next, 0);
    CHECK_I64(ab_transcript_read(path_in("missing.jsonl"), 0, 0, collect, &s3, &st, &next),
              AB_ENOTFOUND);
}

static void test_tail_strict_stop(void)
{
    const char *p = path_in("tail.jsonl");
    char buf[1024];
    size_t len = 0; /* usage_line() reuses its buffer: one call per statement */
    len += (size_t)snprintf(buf + len, sizeof buf - len, "%s\r\n", usage_line(1));
    len += (size_t)snprintf(buf + len, sizeof buf - len, "%s\n{\"truncated\":\n", usage_line(2));
    snprintf(buf + len, sizeof buf - len, "%s", usage_line(4));
    write_file(p, "w", buf, strlen(buf));
    sink s = {0};
    ab_transcript_stats st;
    int64_t next;
    CHECK_OK(NULL, ab_transcript_read(p, 0, 0, collect, &s, &st, &next));
    CHECK_I64(s.n, 2); /* the unterminated last line waits */
    CHECK_I64(st.bad_lines, 1);
    CHECK_I64(st.bad_line_no, 3);
    CHECK(st.bad_reason && strstr(st.bad_reason, "not one JSON object"));
    sink t = {0};
    CHECK_OK(NULL, ab_transcript_read(p, 0, AB_TRANSCRIPT_TAIL, collect, &t, &st, &next));
    CHECK_I64(t.n, 3); /* a finished file: the last line counts too */
    CHECK_I64(t.input_sum, 7);
    sink u = {0};
    CHECK_I64(ab_transcript_read(p, 0, AB_TRANSCRIPT_STRICT, collect, &u, &st, &next), AB_EINVAL);
    CHECK_I64(u.n, 2);
    CHECK_I64(st.bad_line_no, 3);
    CHECK_I64(next, st.bad_line_offset);
    int64_t line2 = (int64_t)strlen(usage_line(1)) + 2;
    CHECK_I64(next, line2 + (int64_t)strlen(usage_line(2)) + 1);
    sink v = {.stop_at = 2};
    CHECK_I64(ab_transcript_read(p, 0, 0, collect, &v, &st, &next), 99);
    CHECK_I64(v.n, 1);
    CHECK_I64(next, (int64_t)strlen(usage_line(1)) + 2); /* the line that stopped it is next */
}

/* Many lines across the reader's 1 MiB buffer, and a 10 MB line among them. */
/* AB_TRANSCRIPT_LENIENT (the hook's): a null under "id", deep nesting and a lone surrogate in a
 * tool's input no longer make the line bad; in a field that is read, a lone surrogate still
 * does (it decoded to bytes that are no UTF-8, and one at a string's end read past it). */
static void test_lenient(void)
{
    const char *p = path_in("lenient.jsonl");
    const char *head = "{\"timestamp\":\"2026-09-01T10:00:00.000Z\",\"requestId\":\"r%d\","
                       "\"message\":{\"id\":\"m%d\",\"model\":\"%s\",\"content\":[{\"type\":"
                       "\"tool_use\",\"input\":%s}],\"usage\":{\"input_tokens\":%d,"
                       "\"output_tokens\":1}}}\n";
    char deep[700] = "", line[2048], all[8192] = "";
    for (int i = 0; i < 200; i++)
        strcat(deep, "[");
    strcat(deep, "1");
    for (int i = 0; i < 200; i++)
        strcat(deep, "]");
    char deep_input[800];
    snprintf(deep_input, sizeof deep_input, "{\"a\":%s}", deep);
    const char *inputs[] = {"{\"id\":null}", deep_input, "{\"t\":\"\\ud800\"}"};
    for (int i = 0; i < 3; i++) {
        snprintf(line, sizeof line, head, i, i, "claude-opus-4-5", inputs[i], 10);
        strcat(all, line);
    }
    snprintf(line, sizeof line, head, 3, 3, "claude-opus-4-5\\udc41", "{}", 1000); /* read */
    strcat(all, line);
    snprintf(line, sizeof line, head, 4, 4, "claude-opus-4-5\\ud800", "{}", 1000); /* at end */
    strcat(all, line);
    write_file(p, "w", all, strlen(all));
    sink s = {0}, strict = {0};
    ab_transcript_stats st;
    CHECK_OK(NULL, ab_transcript_read(p, 0, AB_TRANSCRIPT_LENIENT, collect, &s, &st, NULL));
    CHECK_I64(s.n, 3);
    CHECK_I64(s.input_sum, 30);
    CHECK_I64(st.bad_lines, 2);
    CHECK_OK(NULL, ab_transcript_read(p, 0, 0, collect, &strict, &st, NULL));
    CHECK_I64(strict.n, 0); /* ccusage's rules, for reports: all five are bad */
    CHECK_I64(st.bad_lines, 5);
}

static void test_long_file(void)
{
    const char *p = path_in("long.jsonl");
    FILE *f = fopen(p, "w");
    int64_t want = 0;
    for (int i = 1; i <= 30000; i++) {
        fprintf(f, "%s\n", usage_line(i));
        want += i;
        if (i == 15000) { /* a 10 MB line without usage, then one with */
            for (int k = 0; k < 2; k++) {
                fputs(k ? "{\"usage\":{\"x\":\"" : "{\"x\":\"", f);
                for (int j = 0; j < 10 * 1024; j++)
                    fprintf(f, "%01024d", 0);
                fputs("\"}}\n", f);
            }
        }
    }
    fclose(f);
    sink s = {0};
    ab_transcript_stats st;
    int64_t next;
    CHECK_OK(NULL, ab_transcript_read(p, 0, AB_TRANSCRIPT_TAIL, collect, &s, &st, &next));
    CHECK_I64(s.n, 30000);
    CHECK_I64(s.input_sum, want);
    CHECK_I64(st.lines, 30002);
    CHECK_I64(st.bad_lines, 2);
    CHECK_I64(st.bad_line_no, 15001);
    CHECK_I64(s.last_line_no, 30002);
    struct stat sb;
    stat(p, &sb);
    CHECK_I64(next, sb.st_size);
    CHECK_I64(st.bytes, sb.st_size);
}

/* ---- finding files ---- */

static void mkdirs(const char *rel)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s/%s", tmpdir, rel);
    for (char *p = buf + strlen(tmpdir) + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(buf, 0700);
            *p = '/';
        }
    mkdir(buf, 0700);
}

static void touch(const char *rel)
{
    write_file(path_in(rel), "w", "", 0);
}

static void test_files(void)
{
    mkdirs("cfg/projects/p1");
    mkdirs("cfg/projects/p2/sess/subagents");
    mkdirs("cfg/projects/p3/.hidden");
    mkdirs("other");
    touch("cfg/projects/p1/b.jsonl");
    touch("cfg/projects/p1/a.jsonl");
    touch("cfg/projects/p1/notes.txt");
    touch("cfg/projects/p1/.jsonl");
    touch("cfg/projects/p2/sess/subagents/agent-1.jsonl");
    touch("cfg/projects/p2/sess/chat.jsonl");
    touch("cfg/projects/p3/.hidden/h.jsonl");
    touch("cfg/projects/top.jsonl");
    touch("other/x.jsonl");
    symlink(path_in("other/x.jsonl"), path_in("cfg/projects/p1/link.jsonl"));
    ab_transcript_file *f;
    size_t n;
    char err[256];
    char root_buf[1024];
    snprintf(root_buf, sizeof root_buf, "%s", path_in("cfg"));
    const char *root = root_buf;
    CHECK_OK(NULL, ab_transcript_files(&root, 1, NULL, &f, &n, err, sizeof err));
    CHECK_I64(n, 6);
    static const char *const want[][4] = {
        /* path under projects/, project, project_path, session */
        {"p1/a.jsonl", "p1", "p1", "a"},
        {"p1/b.jsonl", "p1", "p1", "b"},
        {"p2/sess/chat.jsonl", "p2", "p2", "sess"},
        {"p2/sess/subagents/agent-1.jsonl", "p2", "p2", "sess"},
        {"p3/.hidden/h.jsonl", "p3", "p3", ".hidden"},
        {"top.jsonl", "top.jsonl", "Unknown Project", "top.jsonl"},
    };
    for (size_t i = 0; i < n && i < 6; i++) {
        const char *rel = strstr(f[i].path, "/projects/");
        CHECK_STR(rel ? rel + 10 : f[i].path, want[i][0]);
        CHECK_STR(f[i].project, want[i][1]);
        CHECK_STR(f[i].project_path, want[i][2]);
        CHECK_STR(f[i].session_id, want[i][3]);
    }
    ab_transcript_files_free(f, n);
    /* --project: only that directory */
    CHECK_OK(NULL, ab_transcript_files(&root, 1, "p2", &f, &n, err, sizeof err));
    CHECK_I64(n, 2);
    ab_transcript_files_free(f, n);
    CHECK_I64(ab_transcript_files(&root, 1, "a/b", &f, &n, err, sizeof err), AB_EINVAL);
    /* the projects directory itself, one file, both at once (each file once) */
    const char *roots[] = {path_in("cfg/projects"), path_in("cfg/projects/p1/a.jsonl")};
    CHECK_OK(NULL, ab_transcript_files(roots, 2, NULL, &f, &n, err, sizeof err));
    CHECK_I64(n, 6);
    ab_transcript_files_free(f, n);
    CHECK_OK(NULL, ab_transcript_files(roots + 1, 1, NULL, &f, &n, err, sizeof err));
    CHECK_I64(n, 1);
    if (n == 1) {
        CHECK_STR(f[0].project, "p1");
        CHECK_STR(f[0].session_id, "a");
    }
    ab_transcript_files_free(f, n);
    const char *missing = path_in("nowhere");
    CHECK_I64(ab_transcript_files(&missing, 1, NULL, &f, &n, err, sizeof err), AB_ENOTFOUND);
    CHECK(strstr(err, "nowhere") != NULL);
    /* CLAUDE_CONFIG_DIR: a list; directories without projects/ are skipped */
    char env[2048];
    snprintf(env, sizeof env, " %s , ,%s,%s/projects", path_in("other"), root, root);
    setenv("CLAUDE_CONFIG_DIR", env, 1);
    CHECK_OK(NULL, ab_transcript_files(NULL, 0, NULL, &f, &n, err, sizeof err));
    CHECK_I64(n, 6);
    ab_transcript_files_free(f, n);
    setenv("CLAUDE_CONFIG_DIR", path_in("other"), 1);
    CHECK_I64(ab_transcript_files(NULL, 0, NULL, &f, &n, err, sizeof err), AB_ENOTFOUND);
    CHECK(strstr(err, "CLAUDE_CONFIG_DIR") != NULL);
    /* the defaults: ~/.config/claude and ~/.claude under HOME */
    unsetenv("CLAUDE_CONFIG_DIR");
    unsetenv("XDG_CONFIG_HOME");
    setenv("HOME", path_in("home"), 1);
    mkdirs("home/.claude/projects/q");
    touch("home/.claude/projects/q/s.jsonl");
    CHECK_OK(NULL, ab_transcript_files(NULL, 0, NULL, &f, &n, err, sizeof err));
    CHECK_I64(n, 1);
    ab_transcript_files_free(f, n);
    mkdirs("home/.config/claude/projects/r");
    touch("home/.config/claude/projects/r/t.jsonl");
    CHECK_OK(NULL, ab_transcript_files(NULL, 0, NULL, &f, &n, err, sizeof err));
    CHECK_I64(n, 2);
    ab_transcript_files_free(f, n);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_transcript LINES.TEST\n");
        return 2;
    }
    char tmpl[] = "/tmp/ab-transcript-test.XXXXXX";
    tmpdir = mkdtemp(tmpl);
    if (!tmpdir || run_table(argv[1]) < 0)
        return 2;
    test_big_lines();
    test_read_from_offset();
    test_tail_strict_stop();
    test_lenient();
    test_long_file();
    test_files();
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not remove %s\n", tmpdir);
    return test_summary("transcript");
}
