#!/usr/bin/env bash
# bad_options.sh — bad command-line options and environment variables of agentbudgetd: each
# exits 2 at once, with "error: " and the flag or variable that was bad at the start of stderr,
# and nothing listening. Then --version and --help, which answer at once.
# usage: bad_options.sh PATH-TO-agentbudgetd PATH-TO-agentbudget
source "$(dirname "$0")/lib.sh"

# FIELD | VAR=VALUE (or -) | ARGS: the field the message must name first, an environment
# variable to set, and the arguments (a unix socket in $TMP is added as --listen unless the case
# has one: no port to collide with another test's)
CASES=$(
    cat <<'TABLE'
--listen                    | -                                    | --listen bogus
--listen                    | -                                    | --listen 127.0.0.1:
--listen                    | -                                    | --listen unix:
--listen                    | -                                    | --listen
--listen                    | -                                    | --listen --store memory:
AGENTBUDGETD_LISTEN         | AGENTBUDGETD_LISTEN=bogus            |
--metrics-listen            | -                                    | --metrics-listen nope
AGENTBUDGETD_METRICS_LISTEN | AGENTBUDGETD_METRICS_LISTEN=nope     |
--store                     | -                                    | --store bogus
--store                     | -                                    | --store sqlite:/tmp/x.db?sync=fast
AGENTBUDGET_STORE           | AGENTBUDGET_STORE=bogus              |
--threads                   | -                                    | --threads 0
--threads                   | -                                    | --threads many
AGENTBUDGETD_THREADS        | AGENTBUDGETD_THREADS=-1              |
--readers                   | -                                    | --readers 65
AGENTBUDGETD_READERS        | AGENTBUDGETD_READERS=1.5             |
--max-body-bytes            | -                                    | --max-body-bytes 10
--max-header-bytes          | -                                    | --max-header-bytes 99999999999
--max-unsent-bytes          | -                                    | --max-unsent-bytes 1000
AGENTBUDGETD_MAX_UNSENT_BYTES | AGENTBUDGETD_MAX_UNSENT_BYTES=1MiB |
--batch-max                 | -                                    | --batch-max 0
AGENTBUDGETD_BATCH_MAX      | AGENTBUDGETD_BATCH_MAX=1e3           |
--timeout                   | -                                    | --timeout 0
--max-connections           | -                                    | --max-connections
unknown option '--bogus'    | -                                    | --bogus
--listen: port              | -                                    | --listen 127.0.0.1:99999
--listen                    | -                                    | --listen unix:$TMP/precious.txt
TABLE
)

echo precious >"$TMP/precious.txt" # a file that --listen unix: must not remove
while IFS='|' read -r field envset args; do
    field=$(echo $field)
    envset=$(echo $envset)
    args=$(echo $args)
    args=${args//\$TMP/$TMP}
    [[ -z "$field" ]] && continue
    [[ $envset == - ]] && envset=""
    read -r -a argv <<<"$args"
    # the flags a case does not set, before its own (so that a flag missing its value is last)
    [[ " $args " == *" --listen"* || $envset == AGENTBUDGETD_LISTEN=* ]] ||
        argv=(--listen "unix:$TMP/d.sock" "${argv[@]}")
    [[ " $args " == *" --store"* || $envset == AGENTBUDGET_STORE=* ]] ||
        argv=(--store "sqlite:$TMP/never.db" "${argv[@]}")
    what="${envset:+$envset }${args:-(no arguments)}"
    if [[ -n $envset ]]; then
        env "$envset" timeout 10 "$ABD" "${argv[@]}" >"$TMP/out" 2>"$TMP/err" </dev/null
    else
        timeout 10 "$ABD" "${argv[@]}" >"$TMP/out" 2>"$TMP/err" </dev/null
    fi
    RC=$?
    ERR=$(cat "$TMP/err")
    OUT=$(cat "$TMP/out")
    if [[ $RC == 2 && $ERR == "error: $field"* ]]; then
        ok "$what: exit 2, names $field"
    else
        not_ok "$what: exit 2, names $field" "exit status $RC" "stderr: ${ERR:0:300}"
    fi
done <<<"$CASES"
[[ ! -e "$TMP/never.db" ]] && ok "no store was created" || not_ok "no store was created" "$TMP/never.db exists"

[[ $(cat "$TMP/precious.txt" 2>&1) == precious ]] && ok "a file that is not a socket is left as it is" ||
    not_ok "a file that is not a socket is left as it is" "$(ls -l "$TMP/precious.txt" 2>&1)"

# a unix socket another daemon is listening on is not taken over (the second daemon unlinked it
# and bound its own: the first went on running, unreachable), nor removed by the second's exit
SOCK="$TMP/live.sock"
"$ABD" --listen "unix:$SOCK" --store "sqlite:$TMP/live.db" >"$TMP/live.out" 2>&1 </dev/null &
LIVE=$!
DAEMON_PIDS+=("$LIVE")
for ((i = 0; i < 100; i++)); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" http://x/healthz) == 200 ]] && break
    sleep 0.1
done
timeout 10 "$ABD" --listen "unix:$SOCK" --store "sqlite:$TMP/other.db" >"$TMP/out" 2>"$TMP/err" </dev/null
RC=$?
ERR=$(cat "$TMP/err")
[[ $RC == 3 && $ERR == *"another process is listening on it"* ]] &&
    ok "a second daemon on a live unix socket: exit 3, says why" ||
    not_ok "a second daemon on a live unix socket: exit 3, says why" "exit $RC" "stderr: ${ERR:0:300}"
[[ $(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" http://x/healthz) == 200 ]] &&
    ok "and the first daemon still answers on it" || not_ok "and the first daemon still answers on it"
kill -TERM "$LIVE"
wait "$LIVE" 2>/dev/null
[[ ! -e $SOCK ]] && ok "the first daemon's stop removes its socket" || not_ok "the first daemon's stop removes its socket"

# the first admin token of a new store is shown once on stdout: if it cannot be (a full disk, a
# closed stdout) nobody has it, so it is revoked and the daemon does not start (it used to start
# with it, and make none the next time: nobody could get in)
timeout 10 "$ABD" --listen "unix:$TMP/full.sock" --store "sqlite:$TMP/full.db" >/dev/full \
    2>"$TMP/err" </dev/null
RC=$?
ERR=$(cat "$TMP/err")
[[ $RC == 3 && $ERR == *"cannot print the first admin token on stdout (No space left on device); revoked it"* ]] &&
    ok "stdout on a full device: exit 3, the token revoked, says so" ||
    not_ok "stdout on a full device: exit 3, the token revoked, says so" "exit $RC" "stderr: ${ERR:0:300}"
[[ $("$AB" --store "sqlite:$TMP/full.db" --json token list | jq -r '.revoked_at != null') == true ]] &&
    ok "token list shows it revoked" ||
    not_ok "token list shows it revoked" "$("$AB" --store "sqlite:$TMP/full.db" --json token list 2>&1)"

# --threads is capped at --max-connections (each thread takes a share), and the log says what runs
timeout 2 "$ABD" --listen "unix:$TMP/cap.sock" --store memory: --max-connections 1 --threads 4 \
    >/dev/null 2>"$TMP/err" </dev/null
got=$(grep -m1 '"msg":"listening"' "$TMP/err" | jq .threads)
[[ $got == 1 ]] && ok "--max-connections 1 --threads 4: the log says threads 1" ||
    not_ok "--max-connections 1 --threads 4: the log says threads 1" "got '$got'"

# --listen HOST:0: the log names the port the kernel chose (it said ":0"), which answers, and the
# store, its password hidden; also when the store's path is not UTF-8 (the line was
# {"msg":"listening"} alone). listening STORE: starts a daemon on 127.0.0.1:0, sets AT and
# STORE_SHOWN from its listening line and CODE from a /healthz at AT, and stops it.
listening()
{
    # up to 20 s: an ASan build on a loaded 2-core machine once took more than 5 to say it listens
    timeout 20 "$ABD" --listen 127.0.0.1:0 --store "$1" >/dev/null 2>"$TMP/err" </dev/null &
    local pid=$! i
    for ((i = 0; i < 200; i++)); do
        grep -m1 '"msg":"listening"' "$TMP/err" | jq -e .listen >/dev/null 2>&1 && break # all of it
        sleep 0.1
    done
    AT=$(grep -m1 '"msg":"listening"' "$TMP/err" | jq -r .listen)
    STORE_SHOWN=$(grep -m1 '"msg":"listening"' "$TMP/err" | jq -r .store)
    CODE=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$AT/healthz")
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}
listening "sqlite:$TMP/port0.db"
[[ $AT == 127.0.0.1:* && $AT != 127.0.0.1:0 && $CODE == 200 && $STORE_SHOWN == "sqlite:$TMP/port0.db" ]] &&
    ok "--listen 127.0.0.1:0: the log names the port chosen ($AT) and the store" ||
    not_ok "--listen 127.0.0.1:0: the log names the port chosen and the store" "listen '$AT', /healthz $CODE, store '$STORE_SHOWN'"
# a stored role with a tool pattern that matches nothing (stored before role set refused it):
# a log line at start names the role, the list and the pattern
"$AB" --store "sqlite:$TMP/inert.db" role set old --deny-tool 'Bash(rm *)' >/dev/null
sqlite3 "$TMP/inert.db" "UPDATE roles SET spec='deny-tool=Read(.env)
deny-tool=Bash(rm *)
admin=false
' WHERE name='old'"
listening "sqlite:$TMP/inert.db"
got=$(grep '"msg":"role pattern matches nothing"' "$TMP/err" | jq -r '[.role, .list, .pattern] | @tsv' | tr '\t' ' ')
[[ $got == "old deny_tools Read(.env)" ]] &&
    ok "a stored Read(.env) is named in the log at start, and Bash(rm *) is not" ||
    not_ok "a stored Read(.env) is named in the log at start" "got '$got'"
mkdir "$TMP/caf$(printf '\xe9')"
listening "sqlite:$TMP/caf$(printf '\xe9')/p.db"
[[ $AT == 127.0.0.1:* && $AT != 127.0.0.1:0 && $CODE == 200 && $STORE_SHOWN == "sqlite:$TMP/caf?/p.db" ]] &&
    ok "a store path that is not UTF-8: the line still names the port ($AT), the byte as '?'" ||
    not_ok "a store path that is not UTF-8: the line still names the port" "listen '$AT', store '$STORE_SHOWN'"

# and the two options that answer at once: --version and --help, on stdout, exit 0
OUT=$(timeout 10 "$ABD" --version 2>"$TMP/err")
RC=$?
ERR=$(cat "$TMP/err")
[[ $RC == 0 && $OUT =~ ^agentbudgetd\ [0-9]+\.[0-9]+\.[0-9]+$ && -z $ERR ]] &&
    ok "--version: '$OUT', exit 0" || not_ok "--version: 'agentbudgetd X.Y.Z', exit 0"
OUT=$(timeout 10 "$ABD" --help 2>"$TMP/err")
RC=$?
ERR=$(cat "$TMP/err")
[[ $RC == 0 && $OUT == "usage: agentbudgetd"* && $OUT == *--version* ]] &&
    ok "--help: the usage, naming --version, exit 0" || not_ok "--help: the usage, exit 0"
for opt in --version --help; do
    timeout 10 "$ABD" $opt >/dev/full 2>"$TMP/err"
    RC=$?
    [[ $RC == 3 ]] && grep -q 'cannot write to standard output' "$TMP/err" &&
        ok "$opt to a full stdout: exit 3, says so" || not_ok "$opt to a full stdout: exit 3" "exit $RC"
done

finish
