#!/usr/bin/env bash
# The CLI as a client of agentbudgetd (--url): the original's worked example run through the
# daemon prints what it prints on a local store (times and hold ids aside), exit codes included;
# and the client's own errors (no token, unreachable daemon, store-only commands) are clear.
AB=$1
D=$2
# started as every daemon test starts its daemon: on a free port (another if the one tried is
# taken), waited for until it serves, its stderr shown if it never does
set -- "$D" "$AB"
source "$(dirname "$0")/daemon/lib.sh"
start_daemon remote --no-access-log || exit 1
TOKEN=$ADMIN
pass=0 fail=0
check() { if "${@:2}"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi; }

# the same session twice: on a local store, and through the daemon
normalise() {
    sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+Z| UTC)/TIME/g;
            s/h_[0-9a-f]{32}/HOLD/g;
            s/"(created_at|expires_at|last_reset|updated_at|started_at|time|day_start|month_start)":[0-9]+/"\1":T/g;
            s/^ +[0-9]+ TIME/ ID TIME/'
}
session() { # session MODE...: the worked example's steps, each with its exit status
    local h
    "$AB" "$@" init backend-dev-001 --role backend-dev --session-tokens 100000 --daily-usd 10; echo "exit $?"
    "$AB" "$@" check backend-dev-001 --tokens 5000; echo "exit $?"
    "$AB" "$@" charge backend-dev-001 --input 10000 --output 30000 --key k1; echo "exit $?"
    "$AB" "$@" charge backend-dev-001 --input 10000 --output 30000 --key k1 --json; echo "exit $?"
    "$AB" "$@" status backend-dev-001; echo "exit $?"
    "$AB" "$@" check backend-dev-001 --tokens 70000 --json; echo "exit $?"
    h=$("$AB" "$@" reserve backend-dev-001 --model claude-sonnet-4-5 --input 2000 --max-output 4000)
    echo "$h"
    "$AB" "$@" commit "$h" --input 2000 --output 1500; echo "exit $?"
    "$AB" "$@" release "$h"; echo "exit $?"
    "$AB" "$@" hold "$h" --json; echo "exit $?"
    # errors the library decided: the same --json code as locally (ESTATE, EUNKNOWNMODEL,
    # EOVERFLOW), not the HTTP status's (ECONFLICT, EINVAL)
    "$AB" "$@" commit "$h" --input 1 --output 1 --json; echo "exit $?"
    "$AB" "$@" charge backend-dev-001 --model no-such-model --input 1 --output 1 --json; echo "exit $?"
    "$AB" "$@" charge backend-dev-001 --input 9223372036854775807 --output 1 --json; echo "exit $?"
    "$AB" "$@" set backend-dev-001 --model claude-haiku-4-5 >/dev/null; echo "exit $?"
    "$AB" "$@" set backend-dev-001 --model '' --json | jq -c .model; echo "exit $?"
    "$AB" "$@" reset backend-dev-001 --session --json; echo "exit $?"
    "$AB" "$@" set team --limit usd/month=100 --limit requests/day=50; echo "exit $?"
    "$AB" "$@" list; echo "exit $?"
    "$AB" "$@" events --budget backend-dev-001; echo "exit $?"
    "$AB" "$@" price set my-model --input 1.25 --output 5 --json; echo "exit $?"
    "$AB" "$@" price list; echo "exit $?"
    "$AB" "$@" role set dev --allow-tool Read --deny-tool 'Bash(git push*)' --limit usd/day=3; echo "exit $?"
    "$AB" "$@" role get dev --json; echo "exit $?"
    "$AB" "$@" permission backend-dev-001 Write; echo "exit $?"
    "$AB" "$@" status nope; echo "exit $?"
    "$AB" "$@" delete team; echo "exit $?"
}
session --store "sqlite:$TMP/local.db" >"$TMP/local.txt" 2>&1
AGENTBUDGET_TOKEN=$TOKEN session --url "http://127.0.0.1:$PORT" >"$TMP/remote.txt" 2>&1
normalise <"$TMP/local.txt" >"$TMP/local.n"
normalise <"$TMP/remote.txt" >"$TMP/remote.n"
check "the session through the daemon prints what it prints locally" diff "$TMP/local.n" "$TMP/remote.n"
check "the session really ran (a denial, a charge of \$0.48)" grep -q 'charged: 40000 tokens, \$0.48' "$TMP/remote.txt"
check "and a replayed key" grep -q '"replayed":true' "$TMP/remote.txt"

# the client's own errors
out=$("$AB" --url "http://127.0.0.1:$PORT" status backend-dev-001 2>&1); rc=$?
check "no token: exit 2" [ "$rc" = 2 ]
check "no token: says so" grep -q "AGENTBUDGET_TOKEN" <<<"$out"
out=$(AGENTBUDGET_TOKEN=abt_bad "$AB" --url "http://127.0.0.1:$PORT" status backend-dev-001 2>&1); rc=$?
check "a bad token: exit 2" [ "$rc" = 2 ]
# a token with a line break went into the request as it was, the rest of it a header line of its
# own (exit 0, the request served); one past the header's room was cut short
for bad in "$TOKEN"$'\r\nX-Injected: 1' "$TOKEN " "$TOKEN"$'\xff' "$TOKEN$(printf '%0200d' 0)"; do
    out=$(AGENTBUDGET_TOKEN=$bad "$AB" --url "http://127.0.0.1:$PORT" status backend-dev-001 2>&1); rc=$?
    check "a malformed AGENTBUDGET_TOKEN (${#bad} bytes): exit 2 naming it ($rc: ${out:0:200})" \
        [ "$rc" = 2 -a "$(grep -c '^error: AGENTBUDGET_TOKEN: must be 1-200 bytes of printable ASCII' <<<"$out")" = 1 ]
done
out=$(AGENTBUDGET_TOKEN=$TOKEN "$AB" --url "http://127.0.0.1:1" status x 2>&1); rc=$?
check "no daemon: exit 3" [ "$rc" = 3 ]
check "no daemon: names the address" grep -q "cannot reach agentbudgetd at http://127.0.0.1:1" <<<"$out"
# a daemon that takes the connection and never answers: the request gives up after
# AGENTBUDGET_TIMEOUT, the hook after its own 10 s (it waited 60 s, Claude Code's limit for a hook)
mute_port_file=$TMP/mute.port
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
conns = []
while True:
    conns.append(s.accept()[0])' "$mute_port_file" &
MUTE_PID=$!
WATCH_PIDS+=("$MUTE_PID")
for _ in $(seq 50); do [ -s "$mute_port_file" ] && break; sleep 0.1; done
MUTE="http://127.0.0.1:$(cat "$mute_port_file")"
for bad in 0 -1 1.5 3601 10s x " 5"; do
    out=$(AGENTBUDGET_TIMEOUT=$bad AGENTBUDGET_TOKEN=$TOKEN "$AB" --url "$MUTE" status x 2>&1); rc=$?
    check "AGENTBUDGET_TIMEOUT=$bad: exit 2 naming the rule ($out)" grep -q "AGENTBUDGET_TIMEOUT: '$bad': must be a whole number of seconds from 1 to 3600" <<<"$out"
done
t0=$(date +%s)
out=$(AGENTBUDGET_TIMEOUT=1 AGENTBUDGET_TOKEN=$TOKEN "$AB" --url "$MUTE" status x 2>&1); rc=$?
t1=$(date +%s)
check "a mute daemon with AGENTBUDGET_TIMEOUT=1: exit 3 within 5 s (rc $rc, $((t1 - t0)) s: $out)" [ "$rc" = 3 -a $((t1 - t0)) -le 5 ]
t0=$(date +%s)
out=$(echo '{"hook_event_name":"PreToolUse","session_id":"s9","transcript_path":"/nonexistent","tool_name":"Read"}' |
    HOME=$TMP XDG_STATE_HOME=$TMP/state AGENTBUDGET_URL=$MUTE AGENTBUDGET_TOKEN=$TOKEN "$AB" hook claude-code --no-config 2>&1); rc=$?
t1=$(date +%s)
check "the hook and a mute daemon: answered after its 10 s, not 60 ($((t1 - t0)) s)" \
    [ "$rc" = 0 -a $((t1 - t0)) -ge 9 -a $((t1 - t0)) -le 20 ]
check "and denied by on_error=deny (${out:0:200})" grep -q '"permissionDecision":"deny".*Timeout.*on_error=deny' <<<"$out"
kill "$MUTE_PID" 2>/dev/null
# a daemon that answers each request, but 1.5 s late (a proxy in front of this one): the hook's
# 3 s (AGENTBUDGET_TIMEOUT=3) are for all of its requests together, not each (with 4 replies to
# charge and a check to make it waited 1.5 s for each, past Claude Code's limit for a hook)
slow_port_file=$TMP/slow.port
python3 -c '
import socket, sys, threading, time
up = int(sys.argv[2])
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for x in (a, b):
        try: x.shutdown(socket.SHUT_RDWR)
        except OSError: pass
def serve(c):
    time.sleep(1.5)
    u = socket.create_connection(("127.0.0.1", up))
    threading.Thread(target=pipe, args=(c, u), daemon=True).start()
    pipe(u, c)
while True:
    threading.Thread(target=serve, args=(s.accept()[0],), daemon=True).start()' "$slow_port_file" "$PORT" &
SLOW_PID=$!
WATCH_PIDS+=("$SLOW_PID")
for _ in $(seq 50); do [ -s "$slow_port_file" ] && break; sleep 0.1; done
SLOW="http://127.0.0.1:$(cat "$slow_port_file")"
AGENTBUDGET_URL="http://127.0.0.1:$PORT" AGENTBUDGET_TOKEN=$TOKEN "$AB" set slow --limit usd/day=5 >/dev/null
for i in 1 2 3 4; do
    printf '{"type":"assistant","timestamp":"2026-11-29T06:00:0%d.000Z","sessionId":"s-slow","requestId":"r%d","message":{"id":"m%d","model":"claude-sonnet-4-5","usage":{"input_tokens":10,"output_tokens":10}}}\n' "$i" "$i" "$i"
done >"$TMP/slow.jsonl"
t0=$(date +%s%N)
out=$(echo '{"hook_event_name":"PreToolUse","session_id":"s-slow","transcript_path":"'"$TMP/slow.jsonl"'","tool_name":"Read"}' |
    HOME=$TMP XDG_STATE_HOME=$TMP/state AGENTBUDGET_URL=$SLOW AGENTBUDGET_TIMEOUT=3 AGENTBUDGET_TOKEN=$TOKEN \
    "$AB" hook claude-code --parent slow --no-config 2>&1); rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
check "a slow daemon: the hook answers within its 3 s for all requests, not 1.5 s for each ($ms ms)" [ "$rc" = 0 -a "$ms" -lt 5000 ]
check "and denies, saying why (${out:0:240})" grep -q '"permissionDecision":"deny".*on_error=deny' <<<"$out"
kill "$SLOW_PID" 2>/dev/null

out=$(AGENTBUDGET_TOKEN=$TOKEN "$AB" --url "http://127.0.0.1:$PORT" migrate 2>&1); rc=$?
check "migrate needs a store: exit 2" [ "$rc" = 2 ]
out=$("$AB" --url ftp://x status a 2>&1); rc=$?
check "a bad --url: exit 2" [ "$rc" = 2 ]
# a scheme is any case (RFC 3986), as the Node Client takes it
out=$(AGENTBUDGET_TOKEN=$TOKEN "$AB" --url "HTTP://127.0.0.1:$PORT" status backend-dev-001 2>&1); rc=$?
check "--url HTTP://… (capitals): served ($rc: ${out:0:100})" [ "$rc" = 0 ]
# an address that is not one: exit 2 naming the fault, not 3 as if the daemon were down
for bad in 'http://127.0.0.1:1?x=1|query' 'http://127.0.0.1:1/#|fragment' 'http://u:secret@127.0.0.1:1|user or password' \
    'http://|needs a host' 'http://:8700|needs a host' 'http:///v1|needs a host' 'http://a b|white space' 'unix:|socket'; do
    out=$(AGENTBUDGET_TOKEN=$TOKEN "$AB" --url "${bad%|*}" status a 2>&1); rc=$?
    check "--url '${bad%|*}': exit 2 naming its fault ($rc: $out)" [ "$rc" = 2 ]
    check "--url '${bad%|*}': says '${bad#*|}'" grep -q "^error: --url: .*${bad#*|}" <<<"$out"
done
# a base address with a trailing '/', as the Node Client takes it (it asked for //v1/…: no route)
out=$(AGENTBUDGET_TOKEN=$TOKEN "$AB" --url "http://127.0.0.1:$PORT/" list 2>&1); rc=$?
check "--url 'http://127.0.0.1:PORT/': answered as without the '/' ($rc: $out)" [ "$rc" = 0 ]
# a socket's path may have a space in it (dcd1a83 refused it as white space in the address)
out=$(AGENTBUDGET_TOKEN=$TOKEN "$AB" --url "unix:$TMP/no such dir/d.sock" status a 2>&1); rc=$?
check "--url 'unix:…/no such dir/d.sock': not refused, the socket is not there: exit 3 ($rc: $out)" [ "$rc" = 3 ]
check "the password is not shown" [ -z "$(AGENTBUDGET_TOKEN=$TOKEN "$AB" --url http://u:secret@127.0.0.1:1 status a 2>&1 | grep secret)" ]
# the hook tells it as a wrong configuration: exit 2 where that blocks a tool, 1 (non-blocking)
# after Stop, where 2 would wake Claude again (it was 2 for every event)
for ev in PreToolUse:2 Stop:1; do
    out=$(echo '{"hook_event_name":"'"${ev%:*}"'","session_id":"s1","tool_name":"Read"}' |
        HOME=$TMP AGENTBUDGET_URL='http://127.0.0.1:1?x' AGENTBUDGET_TOKEN=$TOKEN "$AB" hook claude-code --no-config 2>&1); rc=$?
    check "the hook on ${ev%:*} with AGENTBUDGET_URL with a query: exit ${ev#*:} ($rc: $out)" [ "$rc" = "${ev#*:}" ]
    check "and says why" grep -q "^error: AGENTBUDGET_URL: .*query" <<<"$out"
    out=$(echo '{"hook_event_name":"'"${ev%:*}"'","session_id":"s1","tool_name":"Read"}' |
        HOME=$TMP AGENTBUDGET_URL="http://127.0.0.1:$PORT" AGENTBUDGET_TIMEOUT=0 AGENTBUDGET_TOKEN=$TOKEN "$AB" hook claude-code --no-config 2>&1); rc=$?
    check "the hook on ${ev%:*} with AGENTBUDGET_TIMEOUT=0: exit ${ev#*:} ($rc: $out)" [ "$rc" = "${ev#*:}" ]
done
# hook install and uninstall reach no daemon: a wrong AGENTBUDGET_URL or AGENTBUDGET_TIMEOUT does
# not keep a hook from being installed or taken out (it was exit 2)
for sub in "install --parent team" uninstall; do
    out=$(AGENTBUDGET_URL='http://127.0.0.1:1?x' AGENTBUDGET_TIMEOUT=0 "$AB" hook $sub --settings "$TMP/hooks.json" 2>&1); rc=$?
    check "hook ${sub%% *} with a wrong AGENTBUDGET_URL and AGENTBUDGET_TIMEOUT: exit 0 ($rc: $out)" [ "$rc" = 0 ]
done
out=$(AGENTBUDGET_URL='http://127.0.0.1:1?x' AGENTBUDGET_TOKEN=$TOKEN "$AB" status a 2>&1); rc=$?
check "AGENTBUDGET_URL with a query: exit 2 naming the variable ($out)" grep -q "^error: AGENTBUDGET_URL: .*query" <<<"$out"
# a port that is no port was exit 3, "cannot reach agentbudgetd", as for a daemon that is down
out=$(AGENTBUDGET_URL=http://127.0.0.1:70000 AGENTBUDGET_TOKEN=$TOKEN "$AB" status a 2>&1); rc=$?
check "AGENTBUDGET_URL with port 70000: exit 2 naming the variable ($rc: $out)" \
    [ "$rc" = 2 -a "$(grep -c "^error: AGENTBUDGET_URL: .*the port must be a number from 1 to 65535" <<<"$out")" = 1 ]
out=$("$AB" --url "http://127.0.0.1:$PORT" --store memory: status a 2>&1); rc=$?
check "--url and --store together: exit 2" [ "$rc" = 2 ]
# an explicit --store beats AGENTBUDGET_URL in the environment
out=$(AGENTBUDGET_URL=http://127.0.0.1:1 "$AB" --store "sqlite:$TMP/local.db" status backend-dev-001 2>&1); rc=$?
check "--store beats AGENTBUDGET_URL" [ "$rc" = 0 ]

# a field that is not UTF-8 cannot go into a request's JSON: it is refused naming the field (exit
# 2), never left out: the permission check then took the budget's default model and allowed a
# model the role denies, and a role was stored without its deny pattern
remote() { AGENTBUDGET_TOKEN=$TOKEN "$AB" --url "http://127.0.0.1:$PORT" "$@"; }
remote role set haiku-only --allow-model 'claude-haiku*' >/dev/null
remote set utf/a --role haiku-only --model claude-haiku-4-5 >/dev/null
bad=$'claude-opus-4-5\xff'
for args in "permission utf/a Read --model" "check utf/a --input 1 --max-output 1 --model" \
    "charge utf/a --input 1 --output 1 --model" "reserve utf/a --input 1 --max-output 1 --model" \
    "set utf/a --model" "set utf/a --role" "permission utf/a" "role set r2 --deny-tool" \
    "role set r2 --allow-model" "token create --scope utf --role agent --label"; do
    read -ra a <<<"$args"
    out=$(remote "${a[@]}" "$bad" 2>&1); rc=$?
    flag=${a[-1]}
    [[ $flag == --* ]] || flag=TOOL
    check "${a[*]} (not UTF-8): exit 2 ($rc)" [ "$rc" = 2 ]
    check "${a[*]} (not UTF-8): names $flag" grep -q -- "^error: $flag: .* is not UTF-8" <<<"$out"
done
out=$(remote role get r2 2>&1); rc=$?
check "the role with a bad pattern was not stored" [ "$rc" = 2 ]
got=$(remote status utf/a --json | jq -c '[.model, .role, .usage.total.requests]')
check "the budget is as it was ($got)" [ "$got" = '["claude-haiku-4-5","haiku-only",0]' ]

# the Claude Code hook through the daemon with an agent token scoped to its parent: it creates the
# session's budget (the one PUT an agent token may make: a new budget under its scope, a role only)
# and charges it; the same token cannot raise its parent's limits (it needed an admin token, which
# could)
URL="http://127.0.0.1:$PORT"
AGENTBUDGET_URL=$URL AGENTBUDGET_TOKEN=$ADMIN "$AB" set team/alice --limit usd/day=5 >/dev/null
AG=$(AGENTBUDGET_URL=$URL AGENTBUDGET_TOKEN=$ADMIN "$AB" token create --scope team/alice --role agent | tail -1)
HT=$(mktemp -d)
printf '%s\n' '{"type":"assistant","timestamp":"2026-11-29T06:00:00.000Z","sessionId":"s1","requestId":"r1","message":{"id":"m1","model":"claude-opus-4-5-20251101","usage":{"input_tokens":200000,"output_tokens":64000}}}' >"$HT/t.jsonl"
echo '{"hook_event_name":"PostToolUse","session_id":"s1","transcript_path":"'"$HT/t.jsonl"'"}' |
    HOME=$HT XDG_STATE_HOME=$HT/state AGENTBUDGET_URL=$URL AGENTBUDGET_TOKEN=$AG "$AB" hook claude-code --parent team/alice --role coder
rc=$?
check "hook through the daemon with an agent token: exit 0" [ "$rc" = 0 ]
got=$(AGENTBUDGET_URL=$URL AGENTBUDGET_TOKEN=$ADMIN "$AB" status team/alice/s1 --json | jq -c '[.usage.total.tokens, .usage.total.cost]')
check "and the session's budget is charged ($got)" [ "$got" = "[264000,2.6]" ]
AGENTBUDGET_URL=$URL AGENTBUDGET_TOKEN=$AG "$AB" set team/alice --limit usd/day=500 2>/dev/null
rc=$?
check "the agent token cannot raise its parent's limit: exit 2" [ "$rc" = 2 ]
# a role's denial of one tool, through the daemon, lets Claude take another way as it does on a
# local store: no "continue": false (the daemon's "limit": null was read as a limit of 0, a spent
# budget, which stops the session)
hook_push() { # hook_push STORE-ENV...: the hook's answer to a git push under role nopush
    echo '{"hook_event_name":"PreToolUse","session_id":"s2","transcript_path":"'"$HT/none.jsonl"'","tool_name":"Bash","tool_input":{"command":"git push origin"}}' |
        env HOME=$HT XDG_STATE_HOME=$HT/state "$@" "$AB" hook claude-code --parent team/alice --role nopush --no-config
}
AGENTBUDGET_URL=$URL AGENTBUDGET_TOKEN=$ADMIN "$AB" role set nopush --deny-tool 'Bash(git push*)' >/dev/null
"$AB" --store "sqlite:$HT/local.db" role set nopush --deny-tool 'Bash(git push*)' >/dev/null
"$AB" --store "sqlite:$HT/local.db" set team/alice --limit usd/day=5 >/dev/null
remote_out=$(hook_push AGENTBUDGET_URL=$URL AGENTBUDGET_TOKEN=$AG)
local_out=$(hook_push AGENTBUDGET_STORE="sqlite:$HT/local.db")
got=$(jq -c '[.hookSpecificOutput.permissionDecision, .continue]' <<<"$remote_out")
check "a role's denial through the daemon: deny, and Claude goes on ($got)" [ "$got" = '["deny",null]' ]
check "and the same answer as on a local store" [ "$remote_out" = "$local_out" ]
rm -rf "$HT"

echo "daemon_client: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
