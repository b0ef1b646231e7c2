#!/usr/bin/env bash
# report_cli.sh — `agentbudget report` end to end. On a tree written by the shared generator the
# token totals equal the generator's exactly, in every report and however the tree is named;
# a message copied into another file counts once; bad lines are skipped and counted, and with
# --strict fail with the file and line; <synthetic>, an unknown model and the long-context
# rule; the options and their errors; the table fits the terminal.
# usage: report_cli.sh PATH-TO-agentbudget PATH-TO-gen-claude-transcripts.py
GEN=${2:-}
source "$(dirname "$0")/../cli/lib.sh" "$1"
[[ -f "$GEN" ]] || { echo "error: the generator '$GEN' is missing (cmake -DAB_TRANSCRIPT_GEN=...)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "error: python3 is required (it runs the generator)" >&2; exit 2; }
unset CLAUDE_CONFIG_DIR XDG_CONFIG_HOME
export TZ=UTC

TREE=$TMP/tree
EXPECTED=$(python3 "$GEN" "$TREE" --mb 3 --seed 5) || { echo "error: the generator failed" >&2; exit 2; }
want_totals=$(jq -r '[.input, .output, .cache_write, .cache_read] | @tsv' <<<"$EXPECTED")
TOTALS='[.totals.inputTokens, .totals.outputTokens, .totals.cacheCreationTokens, .totals.cacheReadTokens] | @tsv'

# ---- the generator's totals, exactly ----
export CLAUDE_CONFIG_DIR=$TREE
for r in daily weekly monthly session model; do
    run report "$r" --json
    expect_rc 0 "report $r"
    expect_jq "$OUT" "$TOTALS" "$want_totals" "report $r: totals equal the generator's"
    expect_eq "$ERR" "" "report $r: nothing on stderr"
done
run report daily --json
expect_jq "$OUT" '[([.daily[].inputTokens] | add), ([.daily[].totalTokens] | add) == .totals.totalTokens] | @tsv' \
    "$(jq -r .input <<<"$EXPECTED")	true" "daily rows add up to the totals"
run report session --json
expect_jq "$OUT" '.session | length' "$(jq -r .sessions <<<"$EXPECTED")" "one session row per session file"
expect_jq "$OUT" '[.session[] | has("sessionId", "projectPath", "firstActivity", "lastActivity", "modelBreakdowns")] | all' \
    true "session rows carry ccusage's fields"
run report daily --json
expect_jq "$OUT" '.daily[0] | [has("period", "date", "inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens", "totalTokens", "totalCost", "modelsUsed", "modelBreakdowns")] | all' \
    true "daily rows carry ccusage's fields"
expect_jq "$OUT" '.daily[0].period == .daily[0].date' true "daily: period is the date"

# ---- the same tree named other ways ----
unset CLAUDE_CONFIG_DIR
for root in "$TREE" "$TREE/projects"; do
    run report monthly "$root" --json
    expect_jq "$OUT" "$TOTALS" "$want_totals" "report monthly $root"
done
CLAUDE_CONFIG_DIR="$TMP/nothing-here, $TREE" run report daily --json
expect_jq "$OUT" "$TOTALS" "$want_totals" "CLAUDE_CONFIG_DIR: a list, a directory without projects/ skipped"
mkdir -p "$HOME/.claude"
cp -r "$TREE/projects" "$HOME/.claude/"
run report daily --json
expect_jq "$OUT" "$TOTALS" "$want_totals" "default: ~/.claude/projects"
rm -rf "$HOME/.claude"
run report daily --json
expect_rc 0 "no transcripts anywhere"
expect_jq "$OUT" '[(.daily | length), .totals.totalTokens] | @tsv' $'0\t0' "no transcripts: an empty report"
expect_has "$ERR" "no Claude Code transcripts found" "no transcripts: a note on stderr"
CLAUDE_CONFIG_DIR="$TMP/nothing-here" run report daily
expect_rc 2 "CLAUDE_CONFIG_DIR without any projects/"
expect_has "$ERR" "CLAUDE_CONFIG_DIR" "CLAUDE_CONFIG_DIR: the error names it"

# ---- one message in two files counts once ----
export CLAUDE_CONFIG_DIR=$TREE
first=$(find "$TREE/projects" -name '*.jsonl' | sort | head -n 1)
mkdir -p "$TREE/projects/zz-copy"
cp "$first" "$TREE/projects/zz-copy/copy.jsonl"
run report daily --json
expect_jq "$OUT" "$TOTALS" "$want_totals" "a transcript copied into another project counts once"
rm -rf "$TREE/projects/zz-copy"

# ---- bad lines ----
BAD=$TREE/projects/zz-bad/bad.jsonl
mkdir -p "$(dirname "$BAD")"
nbad=$(python3 - "$first" "$BAD" <<'EOF'
import json, sys
src, dst = sys.argv[1], sys.argv[2]
line = next(l for l in open(src) if '"usage":{' in l).rstrip("\n")
obj = json.loads(line)
def variant(**usage):
    o = json.loads(line)
    o["message"]["id"] = "msg_bad_" + str(len(usage)) + str(sorted(usage.items()))
    o["message"]["usage"].update(usage)
    return json.dumps(o, separators=(",", ":")).encode()
pretty = json.dumps(dict(obj, requestId="req_pretty"), indent=2).encode().split(b"\n")
out = [line.encode()[:-40],                                  # truncated
       line.encode().replace(b'"type":"message"', b'"type":"m\xffssage"'),  # invalid UTF-8
       b'{"usage":{"x":"' + b"y" * (10 * 1024 * 1024) + b'"}}',   # 10 MB
       variant(input_tokens=-5),                              # negative
       variant(input_tokens=10**29),                          # 30 digits
       variant(output_tokens="12")]                           # not a number
out += pretty                                                 # pretty-printed JSON
open(dst, "wb").write(b"\n".join(out) + b"\n")
print(len(out))
EOF
)
run report daily --json
expect_rc 0 "bad lines: still a report"
expect_jq "$OUT" "$TOTALS" "$want_totals" "bad lines: skipped, totals unchanged"
expect_has "$ERR" "skipped $nbad bad lines in 1 file" "bad lines: counted in a summary on stderr"
expect_has "$ERR" "$BAD:1: not one JSON object" "bad lines: the summary names the first"
run report daily --strict
expect_rc 2 "--strict: a bad line fails"
expect_has "$ERR" "error: $BAD:1:" "--strict: the file and line number"
python3 - "$BAD" <<'EOF'
import sys
p = sys.argv[1]
lines = open(p, "rb").read().split(b"\n")
open(p, "wb").write(b"\n".join(lines[1:]))   # the truncated line goes; the invalid UTF-8 is first
EOF
run report daily --strict --json
expect_rc 2 "--strict --json"
expect_has "$ERR" "$BAD:1: invalid UTF-8" "--strict: names what is wrong"
rm -rf "$TREE/projects/zz-bad"

# ---- <synthetic>, an unknown model, the long-context rule ----
SMALL=$TMP/small/projects/p
mkdir -p "$SMALL"
line() # ID MODEL INPUT OUTPUT CACHE_READ
{
    printf '{"timestamp":"2026-09-01T10:00:00.000Z","sessionId":"s","version":"2.0.14","requestId":"r-%s","type":"assistant","message":{"id":"%s","model":"%s","usage":{"input_tokens":%s,"output_tokens":%s,"cache_creation_input_tokens":0,"cache_read_input_tokens":%s}}}\n' \
        "$1" "$1" "$2" "$3" "$4" "$5"
}
{
    line m1 "<synthetic>" 7 3 0
    line m2 gpt-foo 1000 1000 0
    line m3 claude-sonnet-4-20250514 150000 1000 100000
} >"$SMALL/s.jsonl"
CLAUDE_CONFIG_DIR=$TMP/small run report daily --json
expect_rc 0 "synthetic, unknown, long context"
expect_jq "$OUT" '[.totals.inputTokens, .totals.outputTokens] | @tsv' $'151007\t2003' "<synthetic> and unknown models count in the totals"
expect_jq "$OUT" '.daily[0].modelsUsed | join(",")' "claude-sonnet-4-20250514,gpt-foo" "<synthetic> is not a model"
# 250,000 tokens of context > 200,000: the whole request at the tier's rates,
# 150,000 x $6 + 1,000 x $22.50 + 100,000 x $0.60 per million (ccusage: $0.495)
expect_jq "$OUT" '.totals.totalCost' "0.9825" "long context: the whole request at the tier"
expect_has "$ERR" "no price for model 'gpt-foo'" "an unknown model: a warning"
CLAUDE_CONFIG_DIR=$TMP/small run report model --json
expect_jq "$OUT" '[.models[].modelName] | join(",")' "claude-sonnet-4-20250514,gpt-foo" "model report: <synthetic> is not a row"
expect_jq "$OUT" '.totals.inputTokens' 151007 "model report: its totals count it"

# ---- options ----
run report daily --json
d1=$(jq -r '.daily[0].period' <<<"$OUT")
first_day=$(jq -c '.daily[0] | [.inputTokens, .totalCost]' <<<"$OUT")
run report daily --json --since "${d1//-/}" --until "$d1"
expect_jq "$OUT" '[.daily[].period] | join(" ")' "$d1" "--since and --until (both forms): one day"
expect_jq "$OUT" '.daily[0] | [.inputTokens, .totalCost] | tojson' "$first_day" "--since/--until: that day's figures"
run report daily --json --until 20000101
expect_jq "$OUT" '[(.daily | length), .totals.totalTokens] | @tsv' $'0\t0' "--until before every entry: nothing"
run report session --json
proj=$(jq -r '.session[0].projectPath' <<<"$OUT")
proj_in=$(jq -r --arg p "$proj" '[.session[] | select(.projectPath == $p) | .inputTokens] | add' <<<"$OUT")
run report daily --json --project "$proj"
expect_jq "$OUT" '.totals.inputTokens' "$proj_in" "--project: that project's sessions only"
run report daily --json --timezone Pacific/Kiritimati
expect_jq "$OUT" "$TOTALS" "$want_totals" "--timezone: other days, the same totals"
run report weekly --json --start-of-week sunday
expect_jq "$OUT" "$TOTALS" "$want_totals" "--start-of-week sunday"
run report daily --breakdown
expect_rc 0 "--breakdown"
expect_has "$OUT" "  - " "--breakdown: a row per model"

# the table fits the terminal
for cols in 50 80 200; do
    COLUMNS=$cols run report session --breakdown
    widest=$(python3 -c 'import sys; print(max(len(l) for l in sys.stdin.read().split("\n")))' <<<"$OUT")
    if ((widest <= cols)); then ok "COLUMNS=$cols: the table fits ($widest)"; else not_ok "COLUMNS=$cols: the table fits" "a line of $widest characters"; fi
    expect_has "$OUT" "Total" "COLUMNS=$cols: a Total row"
done

# a session named in UTF-8: the table is as wide as its characters, and a cut never splits one
# (bytes were counted: rows out of line, and "…" after half a character, stdout no UTF-8)
UNI=$TMP/uni/projects/p
mkdir -p "$UNI"
head -n 3 "$(find "$TREE" -name '*.jsonl' | head -1)" >"$UNI/セッション-é-日本語のセッション-ünï.jsonl"
for cols in 40 60 200; do
    COLUMNS=$cols CLAUDE_CONFIG_DIR=$TMP/uni run report session
    valid=$(python3 -c 'import sys; sys.stdin.buffer.read().decode("utf-8"); print("yes")' <"$TMP/out" 2>/dev/null)
    expect_eq "$valid" "yes" "COLUMNS=$cols, a UTF-8 session name: stdout is UTF-8"
    widths=$(python3 -c 'import sys; print(len({len(l) for l in sys.stdin.read().split("\n") if l.startswith("-")}))' <<<"$OUT")
    expect_eq "$widths" "1" "COLUMNS=$cols, a UTF-8 session name: the rules are one width"
    aligned=$(python3 -c 'import sys
ls = sys.stdin.read().split("\n")
head = [l for l in ls if l.startswith("Session")][0]
row = [l for l in ls if l.startswith("セ")][0]
cost = row[row.index("$"):].split()[0]
print(head.index("Cost (USD)") + len("Cost (USD)") == row.index("$") + len(cost))' <<<"$OUT")
    expect_eq "$aligned" "True" "COLUMNS=$cols, a UTF-8 session name: its cost under the Cost heading"
    widest=$(python3 -c 'import sys; print(max(len(l) for l in sys.stdin.read().split("\n")))' <<<"$OUT")
    if ((widest <= cols)); then ok "COLUMNS=$cols, a UTF-8 name: the table fits ($widest)"; else not_ok "COLUMNS=$cols, a UTF-8 name: the table fits" "a line of $widest characters"; fi
done

# a year before 1000 is written in four digits, as ccusage writes it ("999-12-31…" before)
mkdir -p "$TMP/y999/projects/p"
printf '{"type":"assistant","sessionId":"s1","requestId":"r1","timestamp":"0999-12-31T23:59:59.999Z","message":{"id":"m1","model":"claude-sonnet-4-5","usage":{"input_tokens":10,"output_tokens":5}}}\n' >"$TMP/y999/projects/p/s1.jsonl"
CLAUDE_CONFIG_DIR=$TMP/y999 run report session --json
expect_jq "$OUT" '.session[0] | [.firstActivity, .lastActivity] | @tsv' \
    "0999-12-31T23:59:59.999Z	0999-12-31T23:59:59.999Z" "session: a year before 1000 in four digits"

# usage errors: exit 2, nothing on stdout
for args in "report" "report yearly" "report daily --since 2026-13-01" "report daily --until 202609" \
    "report daily --timezone Mars/Olympus" "report daily --project a/b" "report daily $TMP/none" \
    "report weekly --start-of-week someday" "report daily --bogus"; do
    run $args
    expect_rc 2 "$args"
    expect_eq "$OUT" "" "$args: nothing on stdout"
done

# a --timezone that names a FIFO under TZDIR is no zone, and is not opened (the open waited for a
# writer, for ever)
mkdir -p "$TMP/tzdir" && mkfifo "$TMP/tzdir/Fifo"
TZDIR=$TMP/tzdir timeout 10 "$AB" report daily --timezone Fifo >/dev/null 2>"$TMP/err"
expect_eq "$?:$(grep -c 'is not a time zone' "$TMP/err")" "2:1" "--timezone naming a FIFO: exit 2 at once"

# ---- directories that are not read are said, not skipped in silence ----
SK=$TMP/skip
mkdir -p "$SK/projects/p"
line='{"type":"assistant","timestamp":"2026-09-01T10:00:00.000Z","sessionId":"s1","requestId":"r1","message":{"id":"m1","model":"claude-sonnet-4-5","usage":{"input_tokens":100,"output_tokens":10}}}'
echo "$line" >"$SK/projects/p/s.jsonl"
deep=$SK/projects/d
for i in $(seq 1 33); do deep=$deep/x; done
mkdir -p "$deep"
echo "${line//m1/m2}" >"$deep/t.jsonl"
run report daily "$SK" --json
expect_rc 0 "a file 34 directories below projects/: still exit 0"
expect_jq "$OUT" '.totals.inputTokens' 100 "its tokens are not counted"
expect_has "$ERR" "warning: 1 directory not read (the first: $SK/projects/d/x/" "but a warning says which directory"
expect_has "$ERR" "more than 32 directories below projects/" "and why"
run report daily "$SK" --strict
expect_rc 3 "--strict: a directory not read fails"
# mode 000 does not stop root: as nobody, where nobody can run the binary (not in a clone under
# a 0700 /root)
if [[ $(id -u) == 0 ]] && command -v runuser >/dev/null && runuser -u nobody -- "$AB" --version >/dev/null 2>&1; then
    rm -rf "$SK/projects/d"
    mkdir -p "$SK/projects/q"
    echo "${line//m1/m3}" >"$SK/projects/q/u.jsonl"
    chmod 000 "$SK/projects/q"
    chmod 755 "$TMP" "$SK" "$SK/projects" "$SK/projects/p"
    chmod 644 "$SK/projects/p/s.jsonl"
    runuser -u nobody -- "$AB" report daily "$SK" --strict >"$TMP/out" 2>"$TMP/err"
    RC=$? OUT=$(cat "$TMP/out") ERR=$(cat "$TMP/err")
    expect_rc 3 "--strict as another user: an unreadable directory fails"
    expect_has "$ERR" "$SK/projects/q: Permission denied" "naming it and the reason"
    chmod 755 "$SK/projects/q"
fi

# ---- what a transcript names reaches the terminal without its control characters ----
CT=$TMP/ctl
mkdir -p "$CT/projects/p"
printf '%s\n' '{"type":"assistant","timestamp":"2026-09-01T10:00:00.000Z","sessionId":"s1","requestId":"r1","message":{"id":"m1","model":"\u001b]0;owned\u0007\u001b[2Jx","usage":{"input_tokens":100,"output_tokens":10}}}' >"$CT/projects/p/s.jsonl"
run report daily "$CT" --breakdown
expect_rc 0 "a model name with escape sequences"
[[ "$OUT$ERR" != *$'\e'* && "$OUT$ERR" != *$'\a'* ]] && ok "no ESC or BEL reaches the table or stderr" ||
    not_ok "no ESC or BEL reaches the table or stderr"
expect_has "$OUT" "?]0;owned??[2Jx" "they show as '?'"
printf '%s\n' '{"type":"assistant","timestamp":"2026-09-01T11:00:00.000Z","sessionId":"s1","requestId":"r2","message":{"id":"m2","model":"c1\u009b[2J\u2014y","usage":{"input_tokens":100,"output_tokens":10}}}' >>"$CT/projects/p/s.jsonl"
run report daily "$CT" --breakdown
[[ "$OUT$ERR" != *$'\xc2\x9b'* ]] && ok "no C1 CSI (U+009B) reaches the table or stderr" ||
    not_ok "no C1 CSI (U+009B) reaches the table or stderr"
expect_has "$ERR" "c1?[2J—y" "it shows as one ?, and a dash (U+2014) stays a dash"

# ---- a project's directory as PATH names sessions as the config directory does ----
NM=$TMP/names
mkdir -p "$NM/projects/p" "$TMP/loose"
line='{"type":"assistant","timestamp":"2026-09-01T10:00:00.000Z","sessionId":"s1","requestId":"r1","message":{"id":"m1","model":"claude-sonnet-4-5","usage":{"input_tokens":100,"output_tokens":10}}}'
echo "$line" >"$NM/projects/p/s.jsonl"
echo "$line" >"$TMP/loose/s.jsonl"
SESS='[.session[] | [.sessionId, .projectPath] | join("/")] | join(" ")'
for args in "$NM" "$NM/projects/p" "$NM/projects/p/" "$NM/projects/p $NM" "$NM $NM/projects/p" \
    "$NM/projects/."; do
    run report session --json $args
    expect_jq "$OUT" "$SESS" "s/p" "report session $args: session s of project p"
done
run report session --json "$NM/projects/p" --project q
expect_jq "$OUT" '.session | length' 0 "a project's directory and another --project: nothing"
run report session --json "$TMP/loose"
expect_jq "$OUT" "$SESS" "s.jsonl/Unknown Project" \
    "a loose directory: as a file right under projects/ in ccusage (session s.jsonl, no project)"

# ---- a period or session with no tokens and no cost is no row (as in ccusage) ----
ZR=$TMP/zero
mkdir -p "$ZR/projects/p"
echo "$line" >"$ZR/projects/p/a.jsonl"
echo '{"type":"assistant","timestamp":"2026-09-02T10:00:00.000Z","sessionId":"b","isApiErrorMessage":true,"message":{"id":"msg_2","model":"<synthetic>","usage":{"input_tokens":0,"output_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}}' >"$ZR/projects/p/b.jsonl"
run report daily --json "$ZR"
expect_jq "$OUT" '[.daily[].date] | join(" ")' "2026-09-01" "daily: no row for a day of zero usage"
run report session --json "$ZR"
expect_jq "$OUT" '[.session[].sessionId] | join(" ")' "a" "session: no row for a session of zero usage"

finish
