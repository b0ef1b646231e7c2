#!/usr/bin/env bash
# agentbudget hook claude-code, as Claude Code runs it (one process per event, JSON on stdin),
# on a transcript from the shared generator: the session's budget is charged exactly the
# generator's totals, once, however the transcript grows between calls; tools and prompts are
# denied when the role forbids them or the budget is spent; hook install/uninstall keep the rest
# of settings.json. usage: hook_claude_code.sh AGENTBUDGET GENERATOR
set -u
AB=$1
GEN=$2
# a missing generator is said, not 26 failures further down (a clone without ../shared beside it)
[[ -f "$GEN" ]] || { echo "error: the generator '$GEN' is missing (cmake -DAB_TRANSCRIPT_GEN=...)" >&2; exit 2; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export HOME=$TMP/home XDG_STATE_HOME=$TMP/state AGENTBUDGET_STORE=sqlite:$TMP/b.db
mkdir -p "$HOME" "$TMP/proj"
pass=0 fail=0
check() { if "${@:2}"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi; }
same() { [ "$1" = "$2" ] || { echo "  got:  $1"; echo "  want: $2"; return 1; }; }

python3 "$GEN" "$TMP/cfg" --mb 1 --seed 11 >"$TMP/totals.json"
T=$(find "$TMP/cfg" -name '*.jsonl' | head -1)
SID=$(basename "$T" .jsonl)
want_tokens=$(jq '.input + .output + .cache_write' "$TMP/totals.json")
want_msgs=$(jq .messages "$TMP/totals.json")

event() { # event NAME [extra JSON fields] — one hook call on the live transcript
    jq -cn --arg e "$1" --arg s "$SID" --arg t "$LIVE" --arg cwd "$TMP/proj" "{hook_event_name: \$e, session_id: \$s, transcript_path: \$t, cwd: \$cwd} + ${2:-{\}}" |
        "$AB" hook claude-code --parent team/alice --role coder ${HOOK_FLAGS:-}
}
status() { "$AB" status "team/alice/$SID" --json | jq -r "$1"; }

# the transcript arrives in three parts, the last line of the first part half written
LIVE=$TMP/live.jsonl
total=$(wc -c <"$T")
head -c $((total / 3)) "$T" >"$LIVE"
"$AB" set team --limit usd/month=1000 >/dev/null
out=$(event PostToolUse); rc=$?
check "PostToolUse: exit 0, nothing on stdout" same "$rc:$out" "0:"
head -c $((2 * total / 3)) "$T" >"$LIVE"
event Stop >/dev/null
event Stop >/dev/null # nothing new: nothing charged twice
cp "$T" "$LIVE"
event SessionEnd >/dev/null
check "tokens charged = the generator's input + output + cache writes" same "$(status '.usage.total.tokens')" "$want_tokens"
check "one charge per unique message" same "$(status '.usage.total.requests')" "$want_msgs"
check "the team is charged too" same "$("$AB" status team --json | jq .usage.total.tokens)" "$want_tokens"
check "the budget has the role" same "$(status .role)" "coder"
# a crash after charging, before the offset was saved: the next call re-reads and charges nothing
rm -rf "$XDG_STATE_HOME/agentbudget/claude-code"
event Stop >/dev/null
check "re-reading everything charges nothing again" same "$(status '.usage.total.requests')" "$want_msgs"

# a streamed reply: one line per content block, output_tokens growing from line to line, the
# last block read by a later call; and a subagent's replay of a message under another requestId
line() { # line MSGID REQID OUTPUT [SIDECHAIN]
    printf '{"isSidechain":%s,"sessionId":"s","type":"assistant","requestId":"%s","message":{"id":"%s","model":"claude-sonnet-4-5","usage":{"input_tokens":10,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":%s}},"timestamp":"2026-09-01T10:00:00.000Z"}\n' \
        "${4:-false}" "$2" "$1" "$3"
}
stream_event() { # stream_event NAME — a hook call for session "stream"
    jq -cn --arg e "$1" --arg t "$TMP/stream.jsonl" '{hook_event_name: $e, session_id: "stream", transcript_path: $t}' |
        "$AB" hook claude-code --parent team/alice --role coder
}
stream() { "$AB" status team/alice/stream --json | jq -r "$1"; }
{ line msg_A req_A 3; line msg_A req_A 3; line msg_A req_A 120; } >"$TMP/stream.jsonl"
stream_event PostToolUse
check "a streamed reply is charged its last output_tokens, as one request" same "$(stream '.usage.total.tokens,.usage.total.requests' | paste -sd' ')" "130 1"
line msg_A req_A 800 >>"$TMP/stream.jsonl"
stream_event Stop
check "its last block, read by a later call, adds only what it has more" same "$(stream '.usage.total.tokens')" "810"
{ line msg_A req_B 800 true; line msg_C req_C 50; line msg_C req_C2 50 true; } >>"$TMP/stream.jsonl"
stream_event Stop
check "a subagent's replay of a message under another requestId is not charged again" same "$(stream '.usage.total.tokens')" "870"
check "the cost is that of 20 input and 850 output tokens at \$3/\$15" same "$(stream '.usage.total.cost')" "0.01281"
rm -rf "$XDG_STATE_HOME/agentbudget/claude-code"
stream_event Stop
check "re-read from the start without its state file: nothing charged again" same "$(stream '.usage.total.tokens')" "870"
# the state file lost between two lines of one reply (deleted, or not written: a full disk; a
# session can delete it): the reply's growth is charged from what the store's log says it was
# charged, not dropped (13 tokens were charged for a reply of 810)
{ line msg_L req_L 3; } >"$TMP/lost.jsonl"
lost_event() { jq -cn --arg t "$TMP/lost.jsonl" '{hook_event_name: "Stop", session_id: "lost", transcript_path: $t}' |
    "$AB" hook claude-code --parent team/alice --role coder; }
lost_event
rm -rf "$XDG_STATE_HOME/agentbudget/claude-code"
line msg_L req_L 800 >>"$TMP/lost.jsonl"
lost_event
check "state file lost mid-reply: the reply is charged its last output_tokens" same "$("$AB" status team/alice/lost --json | jq .usage.total.tokens)" "810"
rm -rf "$XDG_STATE_HOME/agentbudget/claude-code"
lost_event
check "and read again without it, nothing more" same "$("$AB" status team/alice/lost --json | jq .usage.total.tokens)" "810"
# a streamed reply over the long-context threshold (150,000 input + 60,000 cache-read tokens), its
# later output read by a later call: that output is part of the one request, priced at the tier's
# $22.50 a million, not the base $15 (it was $0.948022 where the request costs $0.954)
long_line() { # long_line MSGID OUTPUT
    printf '{"isSidechain":false,"sessionId":"s","type":"assistant","requestId":"req_%s","message":{"id":"%s","model":"claude-sonnet-4-5","usage":{"input_tokens":150000,"cache_creation_input_tokens":0,"cache_read_input_tokens":60000,"output_tokens":%s}},"timestamp":"2026-09-01T10:00:00.000Z"}\n' \
        "$1" "$1" "$2"
}
long_event() { jq -cn --arg t "$TMP/long.jsonl" '{hook_event_name: "Stop", session_id: "long", transcript_path: $t}' |
    "$AB" hook claude-code --parent team/alice --role coder; }
long_line msg_T 3 >"$TMP/long.jsonl"
long_event
long_line msg_T 800 >>"$TMP/long.jsonl"
long_event
check "a long-context reply's later output is priced at the tier's rate: \$6/\$22.50, cache reads \$0.60" same "$("$AB" status team/alice/long --json | jq -r .usage.total.cost)" "0.954"
# and so when the state file was lost between its lines (the growth from the store's log)
long_line msg_U 3 >"$TMP/long.jsonl"
long_event
rm -rf "$XDG_STATE_HOME/agentbudget/claude-code"
long_line msg_U 800 >>"$TMP/long.jsonl"
long_event
check "... and from the log, with the state file lost" same "$("$AB" status team/alice/long --json | jq -r .usage.total.cost)" "1.908"
# a resumed session's transcript copies the replies of the one it resumes: they were charged
# there, and are not charged again here (after c4813f7 the conflict on their key, another
# budget's, read as a reply this session's log did not know: charged again, the team twice)
line msg_O req_O 800 >"$TMP/orig.jsonl"
jq -cn --arg t "$TMP/orig.jsonl" '{hook_event_name: "Stop", session_id: "orig", transcript_path: $t}' |
    "$AB" hook claude-code --parent team/alice --role coder
team_before=$("$AB" status team --json | jq .usage.total.tokens)
{ line msg_O req_O 800; line msg_R req_R 5; } >"$TMP/resumed.jsonl"
jq -cn --arg t "$TMP/resumed.jsonl" '{hook_event_name: "Stop", session_id: "resumed", transcript_path: $t}' |
    "$AB" hook claude-code --parent team/alice --role coder
check "a resumed session: only its own new reply is charged" same "$("$AB" status team/alice/resumed --json | jq .usage.total.tokens)" "15"
check "and the team once" same "$("$AB" status team --json | jq .usage.total.tokens)" "$((team_before + 15))"
# a bad line is skipped and said on stderr (with where it is), not dropped in silence
echo '{"type":"assistant","message":{"id":"msg_bad","usage":{"input_tokens":"ten"}}}' >>"$TMP/stream.jsonl"
stream_event Stop 2>"$TMP/err"
check "a bad transcript line: a warning naming the file and the byte, nothing charged" same "$(grep -c "stream.jsonl': 1 bad line(s) skipped, not charged (the first at byte" "$TMP/err"):$(stream '.usage.total.tokens')" "1:870"
# a message id that is not printable ASCII is charged under a hash of it (as a key it was refused,
# and the hook failed: every tool denied)
line "msg_ü" req_U 5 >>"$TMP/stream.jsonl"
out=$(jq -cn --arg t "$TMP/stream.jsonl" '{hook_event_name: "PreToolUse", session_id: "stream", transcript_path: $t, tool_name: "Read"}' |
    "$AB" hook claude-code --parent team/alice --role coder 2>/dev/null)
check "an id with a non-ASCII letter: charged, and the tool allowed" same "$out:$(stream '.usage.total.tokens')" ":885"
stream_event Stop
check "and not charged again" same "$(stream '.usage.total.tokens')" "885"

# a subagent's spend is charged by the events from inside it (agent_id set; Claude Code names
# its transcript only on SubagentStop), and SubagentStop then charges nothing again
mkdir -p "$TMP/stream/subagents"
line msg_S req_S 90 true >"$TMP/stream/subagents/agent-a1.jsonl"
jq -cn --arg t "$TMP/stream.jsonl" '{hook_event_name: "PreToolUse", session_id: "stream", transcript_path: $t, agent_id: "a1", agent_type: "general-purpose", tool_name: "Read"}' |
    "$AB" hook claude-code --parent team/alice --role coder
check "PreToolUse inside a subagent charges the subagent's transcript" same "$(stream '.usage.total.tokens')" "985"
jq -cn --arg t "$TMP/stream.jsonl" --arg a "$TMP/stream/subagents/agent-a1.jsonl" '{hook_event_name: "SubagentStop", session_id: "stream", transcript_path: $t, agent_transcript_path: $a}' |
    "$AB" hook claude-code --parent team/alice --role coder
check "and SubagentStop does not charge it again" same "$(stream '.usage.total.tokens')" "985"

# decisions: a role that forbids git push, and a session limit that is spent
"$AB" role set coder --allow-tool '*' --deny-tool 'Bash(git push*)' >/dev/null
out=$(event PreToolUse '{tool_name: "Bash", tool_input: {command: "git push origin main"}}')
check "PreToolUse: the role denies git push" same "$(jq -r .hookSpecificOutput.permissionDecision <<<"$out")" "deny"
check "a role's denial lets Claude go on with another tool (no continue: false)" same "$(jq -c .continue <<<"$out")" "null"
check "and says which pattern" grep -q 'Bash(git push\*)' <<<"$out"
out=$(event PreToolUse '{tool_name: "Bash", tool_input: {command: "ls"}}')
check "PreToolUse: an allowed tool is allowed silently" same "$out" ""
# patterns as Claude Code writes them: a name alone is every call (Bash denied no command), a
# final " *" may match nothing, an MCP server's name is each of its tools
"$AB" role set coder --deny-tool Bash --deny-tool 'mcp__github' >/dev/null
out=$(event PreToolUse '{tool_name: "Bash", tool_input: {command: "ls"}}')
check "PreToolUse: --deny-tool Bash denies a command" same "$(jq -r .hookSpecificOutput.permissionDecision <<<"$out")" "deny"
out=$(event PreToolUse '{tool_name: "mcp__github__create_issue", tool_input: {title: "x"}}')
check "PreToolUse: --deny-tool mcp__github denies its tools" same "$(jq -r .hookSpecificOutput.permissionDecision <<<"$out")" "deny"
"$AB" role set coder --allow-tool '*' --deny-tool 'Bash(git push *)' >/dev/null
out=$(event PreToolUse '{tool_name: "Bash", tool_input: {command: "cd repo && git push"}}')
check "PreToolUse: Bash(git push *) denies a bare git push" same "$(jq -r .hookSpecificOutput.permissionDecision <<<"$out")" "deny"
out=$(event PreToolUse '{tool_name: "Bash", tool_input: {command: "echo $((1 + x))"}}')
check "PreToolUse: with --allow-tool '*' a line the scanner cannot follow for an allow list passes" same "$out" ""
"$AB" role set coder --allow-tool '*' --deny-tool 'Bash(git push*)' >/dev/null
# long commands: the role sees the whole command (up to 64 KiB), and a longer one, which it
# cannot check, is denied even with --on-error allow (it used to be allowed past 4 KiB)
pad=$(printf '%*s' 5000 '' | tr ' ' '#')
out=$(HOOK_FLAGS="--on-error allow" event PreToolUse "{tool_name: \"Bash\", tool_input: {command: \"git push origin main $pad\"}}")
check "a 5 KB git push is denied by the role (on_error=allow)" same "$(jq -r .hookSpecificOutput.permissionDecision <<<"$out")" "deny"
out=$(event PreToolUse "{tool_name: \"Bash\", tool_input: {command: \"echo $pad\"}}")
check "a 5 KB allowed command is allowed" same "$out" ""
pad=$(printf '%*s' 65536 '' | tr ' ' '#')
out=$(HOOK_FLAGS="--on-error allow" event PreToolUse "{tool_name: \"Bash\", tool_input: {command: \"echo $pad\"}}" 2>/dev/null)
check "a command too long to check is denied whatever on_error says" same "$(jq -r .hookSpecificOutput.permissionDecision <<<"$out")" "deny"
check "and says it cannot be checked" grep -q 'cannot be checked' <<<"$out"
"$AB" set "team/alice/$SID" --limit "tokens/session=$want_tokens" >/dev/null
out=$(event PreToolUse '{tool_name: "Read", tool_input: {file_path: "/x"}}')
check "PreToolUse: every tool is denied once the session is spent" same "$(jq -r .hookSpecificOutput.permissionDecision <<<"$out")" "deny"
mkdir -p "$TMP/a-dir"
out=$(LIVE=$TMP/a-dir HOOK_FLAGS="--on-error allow" event PreToolUse '{tool_name: "Read", tool_input: {file_path: "/x"}}' 2>"$TMP/err")
check "with on_error=allow a transcript that cannot be read is no way past a spent limit" \
    same "$(jq -r .hookSpecificOutput.permissionDecision <<<"$out"):$(grep -c 'decided without it' "$TMP/err")" "deny:1"
check "the reason names the limit and what is left" grep -q "session limit of 'team/alice/$SID' is reached: 0 tokens left of $want_tokens tokens" <<<"$out"
check "and not the one token the check asked for" same "$(grep -c 'requested' <<<"$out")" "0"
check "and the spent budget stops Claude (continue: false), with the reason" same "$(jq -c '[.continue, (.stopReason | test("session limit"))]' <<<"$out")" "[false,true]"
out=$(event UserPromptSubmit '{prompt: "more"}')
check "UserPromptSubmit: a new prompt is blocked" same "$(jq -r .decision <<<"$out")" "block"
check "saying what is left, not a price nobody asked for (requested \$0.000015)" \
    same "$(jq -r .reason <<<"$out")" "agentbudget: session limit of 'team/alice/$SID' is reached: 0 tokens left of $want_tokens tokens"
"$AB" set "team/alice/$SID" --unset tokens/session >/dev/null
"$AB" set team --limit "tokens/month=$want_tokens" >/dev/null
out=$(event UserPromptSubmit '{prompt: "more"}')
check "an ancestor that is spent blocks too" same "$(jq -r .decision <<<"$out")" "block"
"$AB" set team --unset tokens/month --limit usd/day=0.000001 >/dev/null
out=$(event UserPromptSubmit '{prompt: "more"}')
check "a spent dollar limit says what is left of it" \
    same "$(jq -r .reason <<<"$out")" "agentbudget: day limit of 'team' is reached: \$0.00 left of \$0.000001"
"$AB" set team --unset usd/day >/dev/null

# a role's model rules are checked against the model the session uses (its newest reply's), not
# claude-sonnet-4-5 (the budget's model when the hook asked with none)
mline() { # mline MSGID MODEL OUTPUT
    printf '{"sessionId":"m","type":"assistant","requestId":"r_%s","message":{"id":"%s","model":"%s","usage":{"input_tokens":10,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":%s}},"timestamp":"2026-09-01T10:00:00.000Z"}\n' \
        "$1" "$1" "$2" "$3"
}
model_event() { # model_event SESSION ROLE TOOL — a PreToolUse on $TMP/SESSION.jsonl, its decision
    jq -cn --arg s "$1" --arg t "$TMP/$1.jsonl" --arg tool "$3" '{hook_event_name: "PreToolUse", session_id: $s, transcript_path: $t, tool_name: $tool}' |
        "$AB" hook claude-code --parent models --role "$2" 2>"$TMP/err" >"$TMP/out"
    if [ -s "$TMP/out" ]; then jq -r .hookSpecificOutput.permissionDecision "$TMP/out"; else echo allow; fi
}
"$AB" role set no-opus --allow-tool '*' --deny-model 'claude-opus-*' >/dev/null
"$AB" role set opus-only --allow-tool '*' --allow-model 'claude-opus-*' >/dev/null
mline msg_O1 claude-opus-4-5-20251101 20 >"$TMP/opus.jsonl"
cp "$TMP/opus.jsonl" "$TMP/opus2.jsonl"
check "deny-model claude-opus-*: an Opus session is denied" same "$(model_event opus no-opus Read)" "deny"
check "and says which model" grep -q "denies model 'claude-opus-4-5-20251101'" <<<"$(jq -r .hookSpecificOutput.permissionDecisionReason <<<"$(jq -cn --arg t "$TMP/opus.jsonl" '{hook_event_name: "PreToolUse", session_id: "opus", transcript_path: $t, tool_name: "Read"}' | "$AB" hook claude-code --parent models --role no-opus)")"
check "allow-model claude-opus-*: an Opus session is allowed" same "$(model_event opus2 opus-only Read)" "allow"
check "and so is its next tool, with no new line (the model kept with the offset)" same "$(model_event opus2 opus-only Read)" "allow"
mline msg_O2 claude-haiku-4-5 20 >>"$TMP/opus2.jsonl"
check "the session moved to Haiku: opus-only denies it" same "$(model_event opus2 opus-only Read)" "deny"
# a model with no price (newer than the table) is no store failure: the role allows it, the
# budget decides at its own model
mline msg_F1 claude-future-9 20 >"$TMP/future.jsonl"
check "a model with no price: its tool is allowed" same "$(model_event future no-opus Read)" "allow"
# a reply the store cannot take by its model's name (a control character) is charged at $0 as
# report counts it, with its tokens; it used to fail every call after it (denied for good)
{ mline msg_W1 claude-sonnet-4-5 20; mline msg_W2 'claude-sonnet-4-5\t' 30; mline msg_W3 claude-sonnet-4-5 40; } >"$TMP/wedge.jsonl"
check "a reply whose model has a control character: the tool is allowed" same "$(model_event wedge no-opus Read)" "allow"
check "every reply charged, that one at \$0 (10+20 and 10+40 tokens at \$3/\$15)" same "$("$AB" status models/wedge --json | jq -c '[.usage.total.tokens, .usage.total.requests, .usage.total.cost]')" "[120,3,0.00096]"
mline msg_W4 claude-sonnet-4-5 50 >>"$TMP/wedge.jsonl"
model_event wedge no-opus Read >/dev/null
check "and the lines after it are charged on the next call" same "$("$AB" status models/wedge --json | jq -c '.usage.total.tokens')" "180"
# and the role sees that name, not the model before it: an Opus reply named with a tab is still
# Opus to deny-model claude-opus-* (it was allowed, the last usable model standing in for it)
{ mline msg_T1 claude-haiku-4-5 20; mline msg_T2 'claude-opus-4-5\t' 30; } >"$TMP/tab.jsonl"
check "an Opus reply with a control character in its name: denied by deny-model claude-opus-*" same "$(model_event tab no-opus Read)" "deny"

# a transcript that another file replaced (moved in its place), or that was rewritten in place,
# is read again from its start: it was read from the old offset, and the replies before it in
# the new file were never charged (nothing said, when the lines had the same length)
{ mline msg_R1 claude-sonnet-4-5 100; mline msg_R2 claude-sonnet-4-5 100; } >"$TMP/repl.jsonl"
model_event repl no-opus Read >/dev/null
{ mline msg_R3 claude-sonnet-4-5 200; mline msg_R4 claude-sonnet-4-5 200; mline msg_R5 claude-sonnet-4-5 200; } >"$TMP/repl.new"
mv "$TMP/repl.new" "$TMP/repl.jsonl"
model_event repl no-opus Read >/dev/null
check "a transcript replaced by a longer file: every reply of it charged" same "$("$AB" status models/repl --json | jq -c '[.usage.total.tokens, .usage.total.requests]')" "[850,5]"
{ mline msg_R6 claude-sonnet-4-5 300; mline msg_R7 claude-sonnet-4-5 300; mline msg_R8 claude-sonnet-4-5 300; } >"$TMP/repl.new"
cat "$TMP/repl.new" >"$TMP/repl.jsonl" # the same inode, the same length, other replies
model_event repl no-opus Read >/dev/null
check "rewritten in place, as long as before: its replies charged too" same "$("$AB" status models/repl --json | jq -c '[.usage.total.tokens, .usage.total.requests]')" "[1780,8]"
model_event repl no-opus Read >/dev/null
check "and not again on the next call" same "$("$AB" status models/repl --json | jq -c '.usage.total.requests')" "8"

# bad input and a failing store
out=$(echo '{not json' | "$AB" hook claude-code 2>&1); rc=$?
check "malformed hook input: exit 2" same "$rc" "2"
check "and a clear error" grep -q '^error: hook input: cannot be read as JSON (line 1: ' <<<"$out"
out=$(echo '[1]' | "$AB" hook claude-code 2>&1); rc=$?
check "an array: exit 2 and says so (it said 'line -1: ')" same "$rc:$out" "2:error: hook input: not a JSON object (an array)"
# a field of another type than Claude Code sends is refused, naming it (it was read as absent: a
# Bash tool_input that is a string was checked as "Bash", past every deny pattern for commands)
for bad in 'PreToolUse|"tool_name":"Read","transcript_path":5|transcript_path: must be a string|2' \
    'PostToolUse|"tool_name":"Read","agent_id":5|agent_id: must be a string|1' \
    'PreToolUse|"tool_name":"Bash","tool_input":"rm -rf x"|tool_input: must be an object|2' \
    'PreToolUse|"tool_name":"Bash","tool_input":{"command":["rm"]}|tool_input.command: required for Bash|2' \
    'PreToolUse|"tool_name":7|tool_name: must be a string|2' \
    'Stop|"cwd":{}|cwd: must be a string|1'; do
    IFS='|' read -r b_ev b_fields b_msg b_rc <<<"$bad"
    out=$(echo '{"hook_event_name":"'"$b_ev"'","session_id":"typed",'"$b_fields"'}' | "$AB" hook claude-code --no-config 2>&1); rc=$?
    check "$b_ev with $b_fields: exit $b_rc ($rc: $out)" same "$rc" "$b_rc"
    check "and says '$b_msg'" grep -q "^error: hook input: $b_msg" <<<"$out"
done
out=$(echo '{"hook_event_name":"PreToolUse","session_id":"s1","session_id":"s2","tool_name":"Read"}' | "$AB" hook claude-code --no-config 2>&1); rc=$?
check "a key given twice: exit 2, not the last one taken ($out)" same "$rc:$(grep -c 'duplicate object key' <<<"$out")" "2:1"
check "and no session budget made for either" same "$("$AB" list --json | jq '[.[] | select(.agent_id | test("/(s1|s2|typed)$"))] | length')" "0"
out=$(echo '{"hook_event_name":"PreToolUse"}' | "$AB" hook claude-code 2>&1); rc=$?
check "no session_id: exit 2 naming it" same "$rc:$(grep -c session_id <<<"$out")" "2:1"
# on an event that only charges, exit 2 would tell Claude Code to block: on Stop, to keep working
out=$(echo '{"hook_event_name":"Stop"}' | "$AB" hook claude-code 2>&1); rc=$?
check "Stop without session_id: exit 1 (not 2, which keeps Claude working), naming it" same "$rc:$(grep -c session_id <<<"$out")" "1:1"
out=$(jq -cn --arg s "$SID" '{hook_event_name:"PreToolUse",session_id:$s,tool_name:"Read"}' |
    "$AB" --store sqlite:/nonexistent/dir/x.db hook claude-code 2>/dev/null)
check "a store failure denies by default" same "$(jq -r .hookSpecificOutput.permissionDecision <<<"$out")" "deny"
out=$(jq -cn --arg s "$SID" '{hook_event_name:"PreToolUse",session_id:$s,tool_name:"Read"}' |
    "$AB" --store sqlite:/nonexistent/dir/x.db hook claude-code --on-error allow 2>/dev/null)
check "--on-error allow lets it through" same "$out" ""
out=$(jq -cn '{hook_event_name:"PreToolUse",session_id:"s",transcript_path:"/",tool_name:"Read"}' |
    "$AB" hook claude-code 2>/dev/null)
check "a transcript that cannot be read denies, and says so" same "$(jq -r .hookSpecificOutput.permissionDecisionReason <<<"$out")" \
    "agentbudget: cannot charge the session (cannot read transcript '/': Is a directory); denied by on_error=deny"

# the config file found like settings.json: the project's
mkdir -p "$TMP/proj/.claude"
echo '{"parent": "team/bob", "role": "coder"}' >"$TMP/proj/.claude/agentbudget.json"
jq -cn --arg s "other-session" --arg cwd "$TMP/proj" '{hook_event_name:"Stop",session_id:$s,cwd:$cwd}' |
    "$AB" hook claude-code >/dev/null
check "the project's .claude/agentbudget.json names the parent" same "$("$AB" status team/bob/other-session --json | jq -r .agent_id)" "team/bob/other-session"

# a bad config is bad input (exit 2, the field and the rule), not a failing store that denies
for bad in '["a"]|agentbudget.json'"'"':|not a JSON object (an array)' \
    '{"role": "a", "role": "b"}|agentbudget.json'"'"':|cannot be read as JSON (line 1: duplicate' \
    '{"role": ""}|role:|must be 1-127 bytes' '{"parent": 5}|parent:|must be a string' \
    '{"colour": "red"}|colour:|unknown field' '{"store": "bogus"}|config: store:|store URL'; do
    IFS='|' read -r cfg field rule <<<"$bad"
    echo "$cfg" >"$TMP/proj/.claude/agentbudget.json"
    out=$(jq -cn --arg s "other-session" --arg cwd "$TMP/proj" \
        '{hook_event_name:"PreToolUse",session_id:$s,cwd:$cwd,tool_name:"Read"}' |
        env -u AGENTBUDGET_STORE "$AB" hook claude-code 2>"$TMP/err"); rc=$? # the config's store
    check "config $cfg: exit 2, '$field $rule', no decision" \
        same "$rc:$out:$(grep -c -- "$field $rule" "$TMP/err")" "2::1"
done
for event in Stop SubagentStop PostToolUse SessionEnd; do
    out=$(jq -cn --arg e "$event" --arg cwd "$TMP/proj" '{hook_event_name:$e,session_id:"s",cwd:$cwd}' |
        env -u AGENTBUDGET_STORE "$AB" hook claude-code 2>"$TMP/err"); rc=$?
    check "a bad config on $event: exit 1, not 2 (which blocks), and the message" \
        same "$rc:$out:$(grep -c -- "store URL" "$TMP/err")" "1::1"
done

# install / uninstall keep everything else
S=$TMP/settings.json
cat >"$S" <<'JSON'
{"model": "opus", "env": {"X": "1"}, "ratio": 0.1,
 "hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "other-tool check"}]}]},
 "permissions": {"allow": ["Read"]}}
JSON
cp "$S" "$TMP/before.json"
"$AB" hook install --settings "$S" >/dev/null
check "install adds our six events" same "$(jq '[.hooks[][] | .hooks[] | select(.command | test("hook claude-code"))] | length' "$S")" "6"
check "and keeps the other tool's hook" same "$(jq -r '.hooks.PreToolUse[0].hooks[0].command' "$S")" "other-tool check"
check "and ends the file in a newline, as a text file does (it ended in })" same "$(tail -c 2 "$S" | od -An -c | tr -d ' ')" '}\n'
"$AB" hook install --settings "$S" >/dev/null
check "installing twice adds nothing" same "$(jq '[.hooks[][] | .hooks[] | select(.command | test("hook claude-code"))] | length' "$S")" "6"
# a role the store does not define: said on stderr (a misspelt --role gave sessions no rules)
"$AB" hook install --settings "$TMP/note.json" --role no-such-role >/dev/null 2>"$TMP/err"
check "install says when the role is not defined in the store" \
    grep -q "note: role 'no-such-role' is not defined in sqlite:$TMP/b.db" "$TMP/err"
"$AB" hook install --settings "$TMP/note.json" --role coder >/dev/null 2>"$TMP/err"
check "and nothing when it is" same "$(cat "$TMP/err")" ""
# a role stored before role set refused patterns that match nothing (Read(.env) denied no
# Read): role get, permission and install say so on stderr, naming the pattern; exit 0
sqlite3 "$TMP/b.db" "INSERT INTO roles VALUES ('old', 'deny-tool=Read(.env)
deny-tool=Bash(rm *)
admin=false
')"
"$AB" set "old-agent" --role old --limit tokens/day=1000 >/dev/null
"$AB" role get old >"$TMP/out" 2>"$TMP/err"; rc=$?
check "role get warns of a stored Read(.env) and exits 0" \
    same "$rc:$(grep -c "warning: role 'old': deny-tool: 'Read(.env)' would match nothing" "$TMP/err")" "0:1"
check "and not of Bash(rm *)" same "$(grep -c 'Bash(rm' "$TMP/err")" "0"
check "and prints the role as it is stored" grep -q 'Read(.env)' "$TMP/out"
"$AB" --json role list >"$TMP/out" 2>"$TMP/err"
check "role list --json warns on stderr, JSON on stdout" \
    same "$(grep -c "role 'old'" "$TMP/err"):$(jq -r '.name' "$TMP/out" | grep -c old)" "1:1"
"$AB" permission old-agent Read >/dev/null 2>"$TMP/err"; rc=$?
check "permission: the stored pattern still denies nothing, and says so" \
    same "$rc:$(grep -c "role 'old', the role of budget 'old-agent': deny-tool: 'Read(.env)'" "$TMP/err")" "0:1"
"$AB" set sound-agent --role coder --limit tokens/day=1000 >/dev/null
"$AB" permission sound-agent Read >/dev/null 2>"$TMP/err"; rc=$?
check "permission of a budget with a sound role warns of nothing" same "$rc:$(cat "$TMP/err")" "0:"
"$AB" hook install --settings "$TMP/note.json" --role old >/dev/null 2>"$TMP/err"
check "install warns of it too" grep -q "warning: role 'old': deny-tool: 'Read(.env)'" "$TMP/err"
"$AB" hook uninstall --settings "$S" >/dev/null
check "uninstall leaves the file equal, as JSON, to what it was" same "$(jq -S . "$S")" "$(jq -S . "$TMP/before.json")"
echo '[1,2]' >"$TMP/bad.json"
"$AB" hook install --settings "$TMP/scoped.json" --scope bogus >/dev/null 2>"$TMP/err"; rc=$?
check "install --scope bogus with --settings: exit 2, naming --scope, nothing written" \
    same "$rc:$(grep -c -- '--scope: project or user' "$TMP/err"):$(test -e "$TMP/scoped.json" && echo written)" "2:1:"
"$AB" hook install --settings "$TMP/bad.json" >/dev/null 2>&1; rc=$?
check "a settings file that is not an object is refused (exit 2) and left alone" same "$rc:$(cat "$TMP/bad.json")" "2:[1,2]"
out=$("$AB" hook install --settings "$TMP/bad.json" 2>&1)
check "and says it is an array (it said 'line -1: ')" same "$out" "error: '$TMP/bad.json': not a JSON object (an array); left as it was"
printf '{"a":' >"$TMP/cut.json"
out=$("$AB" hook install --settings "$TMP/cut.json" 2>&1); rc=$?
check "a settings file that is no JSON: exit 2, 'cannot be read as JSON', left alone ($out)" same "$rc:$(grep -c 'cannot be read as JSON (line 1' <<<"$out"):$(cat "$TMP/cut.json")" '2:1:{"a":'
for empty in '' ' \n\t\r\n'; do
    printf "$empty" >"$TMP/empty.json"
    "$AB" hook install --settings "$TMP/empty.json" >/dev/null 2>&1; rc=$?
    check "an empty settings file ('$empty', a file touched): taken as {}, the hooks installed" same "$rc:$(jq -c '.hooks | keys | length' "$TMP/empty.json")" "0:6"
done
printf '\0\0' >"$TMP/nul.json"
"$AB" hook install --settings "$TMP/nul.json" >/dev/null 2>&1; rc=$?
check "NUL bytes are not white space: refused, left alone" same "$rc:$(od -An -c "$TMP/nul.json" | tr -d ' ')" '2:\0\0'
# install points entries of an agentbudget that moved at this one: one with arguments of the
# user's own keeps them (said on stderr: it still reads the configuration files), one without
# gets the configuration resolved now (defaults here); a command of the user's own is left
# alone; a path with a space is quoted for the shell that runs it
PINNED="hook claude-code --parent=claude-code --role=claude-code --on-error=deny --no-config"
echo '{"hooks":{"PreToolUse":[{"matcher":"*","hooks":[{"type":"command","command":"/usr/local/old/agentbudget hook claude-code --parent team/x"}]}],"Stop":[{"hooks":[{"type":"command","command":"env A=1 agentbudget hook claude-code"}]}]}}' >"$TMP/moved.json"
"$AB" hook install --settings "$TMP/moved.json" >/dev/null 2>"$TMP/err"
check "install re-points a moved agentbudget, keeping its own arguments, and says so" \
    same "$(jq -r '.hooks.PreToolUse[0].hooks[0].command' "$TMP/moved.json"):$(grep -c 'kept the arguments' "$TMP/err")" "$AB hook claude-code --parent team/x:1"
check "an entry without arguments (an older install) gets the pinned command" same "$(jq -r '.hooks.SessionEnd[0].hooks[0].command' "$TMP/moved.json")" "$AB $PINNED"
check "and leaves a command of the user's own alone" same "$(jq -r '.hooks.Stop[0].hooks[0].command' "$TMP/moved.json")" "env A=1 agentbudget hook claude-code"
mkdir -p "$TMP/my bin"
cp "$AB" "$TMP/my bin/agentbudget"
"$TMP/my bin/agentbudget" hook install --settings "$TMP/spaced.json" >/dev/null
cmd=$(jq -r '.hooks.Stop[0].hooks[0].command' "$TMP/spaced.json")
echo '{"hook_event_name":"Stop","session_id":"spaced"}' | sh -c "$cmd"
check "a path with a space is quoted: the installed command runs" same "$?:$cmd" "0:'$TMP/my bin/agentbudget' $PINNED"

# the configuration is pinned in the command (Claude Code reads its hooks' commands when a
# session starts): the project's .claude/agentbudget.json at install time is in it, and a
# later edit of that file by the session changes nothing (it chose its own parent and role)
mkdir -p "$TMP/pin/.claude"
echo '{"parent":"team/pinned","role":"coder","store":"sqlite:'"$TMP"'/pin.db"}' >"$TMP/pin/.claude/agentbudget.json"
(cd "$TMP/pin" && env -u AGENTBUDGET_STORE "$AB" hook install >/dev/null)
cmd=$(jq -r '.hooks.PreToolUse[0].hooks[0].command' "$TMP/pin/.claude/settings.json")
check "install pins the project's configuration" same "$cmd" "$AB hook claude-code --parent=team/pinned --role=coder --on-error=deny --no-config --default-store=sqlite:$TMP/pin.db"
echo '{"parent":"team/escape","role":"unlimited","store":"sqlite:'"$TMP"'/fresh.db","on_error":"allow"}' >"$TMP/pin/.claude/agentbudget.json"
jq -cn --arg cwd "$TMP/pin" '{hook_event_name:"Stop",session_id:"pin1",cwd:$cwd}' |
    env -u AGENTBUDGET_STORE CLAUDE_PROJECT_DIR="$TMP/pin" sh -c "$cmd"
check "the session's edit of the project file changes nothing: parent, role and store pinned"     same "$("$AB" --store "sqlite:$TMP/pin.db" status team/pinned/pin1 --json | jq -r .role):$([ -e "$TMP/fresh.db" ] && echo made || echo none)" "coder:none"
"$AB" --store "sqlite:$TMP/pin.db" hook install --settings "$TMP/pin2.json" --parent team/flag --role r2 --on-error allow >/dev/null
check "install's flags are pinned too, and the store it was given" same "$(jq -r '.hooks.Stop[0].hooks[0].command' "$TMP/pin2.json")" "$AB hook claude-code --parent=team/flag --role=r2 --on-error=allow --no-config --default-store=sqlite:$TMP/pin.db"
# a pinned store is a default: AGENTBUDGET_URL in the hook's environment still sends it to the
# daemon (here none: denied, and the pinned store is not charged behind its back)
out=$(jq -cn '{hook_event_name:"PreToolUse",session_id:"pin-url",tool_name:"Read",tool_input:{}}' |
    env -u AGENTBUDGET_STORE AGENTBUDGET_URL=http://127.0.0.1:9 AGENTBUDGET_TOKEN=x sh -c "$cmd" 2>/dev/null)
check "AGENTBUDGET_URL beats a pinned store (no daemon: denied, nothing charged locally)" \
    same "$(jq -r .hookSpecificOutput.permissionDecision <<<"$out"):$("$AB" --store "sqlite:$TMP/pin.db" status team/pinned/pin-url >/dev/null 2>&1; echo $?)" "deny:2"
"$AB" --store "postgres://ab:s3cret@127.0.0.1:9/ab" hook install --settings "$TMP/pw.json" >/dev/null 2>"$TMP/err"; rc=$?
check "a store URL with a password is not written into settings.json" same "$rc:$([ -e "$TMP/pw.json" ] && echo made || echo none)" "2:none"
# a store the hook could not open is refused, not pinned (every event would fail: every tool
# denied); nothing written
for bad in "bogus:" "ftp://x" "sqlite:$TMP/no/such/dir/b.db" "sqlite:$TMP/ok.db?sync=ful" "memory:x"; do
    "$AB" hook install --settings "$TMP/badstore.json" --default-store "$bad" >/dev/null 2>"$TMP/err"; rc=$?
    check "install --default-store $bad: exit 2, says so, writes nothing" \
        same "$rc:$(grep -c "store: '.*' cannot be opened" "$TMP/err"):$([ -e "$TMP/badstore.json" ] && echo made || echo none)" "2:1:none"
done
"$AB" --store bogus: hook install --settings "$TMP/badstore.json" >/dev/null 2>&1
check "and with --store" same "$?:$([ -e "$TMP/badstore.json" ] && echo made || echo none)" "2:none"
(cd "$TMP" && "$AB" --store sqlite:rel.db hook install --settings "$TMP/rel.json" >/dev/null)
check "a relative sqlite: path is pinned absolute" same "$(jq -r '.hooks.Stop[0].hooks[0].command' "$TMP/rel.json" | grep -o 'default-store=[^ ]*')" "default-store=sqlite:$TMP/rel.db"
"$AB" hook install --settings "$TMP/dash.json" --parent=--x --role=--y >/dev/null
jq -cn '{hook_event_name:"Stop",session_id:"dash"}' | sh -c "$(jq -r '.hooks.Stop[0].hooks[0].command' "$TMP/dash.json")"
check "a parent or role that starts with -- still runs" same "$?:$("$AB" --json status -- --x/dash | jq -r .role)" "0:--y"
"$AB" hook install --settings "$TMP/u8.json" --role "$(printf 'r\xe9')" >/dev/null 2>&1; rc=$?
check "a role that is not UTF-8 is refused, not an install of nothing" same "$rc:$([ -e "$TMP/u8.json" ] && echo made || echo none)" "2:none"
ln -s "$TMP/nowhere.json" "$TMP/dangling.json"
"$AB" hook install --settings "$TMP/dangling.json" >/dev/null 2>&1; rc=$?
check "a dangling symbolic link is refused and stays one" same "$rc:$([ -L "$TMP/dangling.json" ] && echo link)" "2:link"

# settings.json: its mode is kept (it may hold a token in "env"), a symbolic link stays one, a
# read-only file and an event list that is not an array are refused and left as they were
echo '{"env":{"AGENTBUDGET_TOKEN":"abt_secret"}}' >"$TMP/p600.json"
chmod 600 "$TMP/p600.json"
"$AB" hook install --settings "$TMP/p600.json" >/dev/null
check "install keeps mode 0600" same "$(stat -c %a "$TMP/p600.json")" "600"
mkdir -p "$TMP/dots"
echo '{}' >"$TMP/dots/settings.json"
ln -s "$TMP/dots/settings.json" "$TMP/link.json"
"$AB" hook install --settings "$TMP/link.json" >/dev/null
check "a symbolic link stays one, the file it points at installed in"     same "$([ -L "$TMP/link.json" ] && echo link):$(jq '.hooks | length' "$TMP/dots/settings.json")" "link:6"
echo '{}' >"$TMP/ro.json"
chmod 444 "$TMP/ro.json"
"$AB" hook install --settings "$TMP/ro.json" >/dev/null 2>"$TMP/err"; rc=$?
check "a read-only settings file is refused (exit 2) and left alone" same "$rc:$(cat "$TMP/ro.json"):$(grep -c read-only "$TMP/err")" "2:{}:1"
printf '{"hooks":{"PreToolUse":{"matcher":"Bash","hooks":[{"type":"command","command":"my-guard.sh"}]}}}' >"$TMP/obj.json"
cp "$TMP/obj.json" "$TMP/obj.before"
"$AB" hook install --settings "$TMP/obj.json" >/dev/null 2>"$TMP/err"; rc=$?
check "an event's hooks that are not an array are refused, not deleted"     same "$rc:$(cmp -s "$TMP/obj.json" "$TMP/obj.before" && echo same)" "2:same"

# a transcript that is a FIFO or a device is never read (it never ends): denied at once
mkfifo "$TMP/fifo.jsonl"
ln -s /dev/zero "$TMP/zero.jsonl"
for t in fifo zero; do
    out=$(jq -cn --arg t "$TMP/$t.jsonl" '{hook_event_name:"PreToolUse",session_id:"dev",transcript_path:$t,tool_name:"Read",tool_input:{}}' |
        timeout 10 "$AB" hook claude-code --parent team/alice --role coder 2>/dev/null); rc=$?
    check "a transcript that is a $t: denied at once, saying why"         same "$rc:$(jq -r '.hookSpecificOutput.permissionDecision' <<<"$out"):$(grep -c 'not a regular file' <<<"$out")" "0:deny:1"
done

# what the model writes in a tool call's input cannot make its reply free: an "id": null in the
# input, input nested 200 deep, a lone surrogate (as JSON.stringify writes it) made the line bad
# for ccusage's rules, and the hook skipped it — $0 for the whole reply
mk_line() { # mk_line MSG_ID TOOL_INPUT_JSON
    printf '{"parentUuid":"x","isSidechain":false,"userType":"external","cwd":"/tmp","sessionId":"sx","version":"2.0.14","type":"assistant","requestId":"req_%s","message":{"id":"%s","type":"message","role":"assistant","model":"claude-opus-4-5-20251101","content":[{"type":"tool_use","id":"toolu_1","name":"mcp__x__y","input":%s}],"stop_reason":"tool_use","usage":{"input_tokens":200000,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":64000}},"uuid":"u","timestamp":"2026-11-29T06:00:00.000Z"}\n' "$1" "$1" "$2"
}
deep=$(printf '[%.0s' $(seq 1 200))1$(printf ']%.0s' $(seq 1 200))
{
    mk_line msg_null '{"command":"ls","id":null}'
    mk_line msg_deep "{\"a\":$deep}"
    mk_line msg_surr '{"text":"\ud800"}'
} >"$TMP/model.jsonl"
echo '{"hook_event_name":"PostToolUse","session_id":"s-model","transcript_path":"'"$TMP/model.jsonl"'","cwd":"'"$TMP/proj"'"}' |
    "$AB" hook claude-code --parent team/alice --role coder 2>"$TMP/model.err"
check "tool input with null, deep nesting, a lone surrogate: every reply charged" \
    same "$("$AB" status team/alice/s-model --json | jq -c '[.usage.total.requests, .usage.total.tokens, .usage.total.cost]')" "[3,792000,7.8]"
check "and no bad line reported" same "$(grep -c 'bad line' "$TMP/model.err")" "0"

echo "hook_claude_code: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
