#!/usr/bin/env bash
# Daemons started at the same moment on one new PostgreSQL database: exactly one of them makes
# and prints the first admin token, the store holds that one token, and it works on every
# daemon. Before, each daemon counted no token in its own transaction and each made one.
# usage: daemon_pg_first_token.sh AGENTBUDGETD AGENTBUDGET PG_DIR
D=$1
PGDIR=$3
set -- "$D" "$2"
source "$(dirname "$0")/daemon/lib.sh"
pg_db "$PGDIR" first || exit 2
N=4

# the schema first, so that the daemons race on the token alone (schema creation has a lock of
# its own); a CLI read makes it without making a token
"$AB" --store "$BASE/$DB" status nothing >/dev/null 2>&1
[[ $(psql -qXAt "$BASE/$DB" -c "SELECT count(*) FROM ab_tokens") == 0 ]] || { echo "error: the store has tokens already" >&2; exit 1; }

# a free port below the ephemeral range (where clients' own ports come from)
free_port() {
    local p
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % 12000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
    done
    return 1
}
# start I: daemon I on a free port, its output in $TMP/dI.out (appended: a restart adds to it)
start() {
    PORTS[$1]=$(free_port) || exit 2
    "$ABD" --listen "127.0.0.1:${PORTS[$1]}" --store "$BASE/$DB" --no-access-log \
        >>"$TMP/d$1.out" 2>"$TMP/d$1.err" </dev/null &
    DAEMON_PIDS[$1]=$!
}
PORTS=()
for ((i = 0; i < N; i++)); do start "$i"; done
# each one up, at most 10 s; one whose port was taken after all starts again elsewhere (it is
# then no longer in the race, and must print no token either)
for ((i = 0; i < N; i++)); do
    for ((t = 0; t < 100; t++)); do
        [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:${PORTS[i]}/healthz") == 200 ]] && break
        if ! kill -0 "${DAEMON_PIDS[i]}" 2>/dev/null; then
            grep -q "cannot listen" "$TMP/d$i.err" || break
            start "$i"
        fi
        sleep 0.1
    done
done

fail=0
printed=$(cat "$TMP"/d*.out | grep -c '^admin token t_')
[[ $printed == 1 ]] || { echo "FAIL: $printed daemons printed a first admin token, expected 1" >&2; fail=1; }
stored=$(psql -qXAt "$BASE/$DB" -c "SELECT count(*) FROM ab_tokens")
[[ $stored == 1 ]] || { echo "FAIL: the store holds $stored tokens, expected 1" >&2; fail=1; }
SECRET=$(grep -h -A1 '^admin token t_' "$TMP"/d*.out | sed -n 2p)
for ((i = 0; i < N; i++)); do
    if ! kill -0 "${DAEMON_PIDS[i]}" 2>/dev/null; then
        echo "FAIL: daemon $i is not running:" >&2
        cat "$TMP/d$i.err" >&2
        fail=1
        continue
    fi
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $SECRET" \
        "http://127.0.0.1:${PORTS[i]}/v1/tokens")
    [[ $code == 200 ]] || { echo "FAIL: the first token on daemon $i: HTTP $code, expected 200" >&2; fail=1; }
done
[[ $fail == 0 ]] && echo "ok: $N daemons at once on a new database, one first token"
exit $fail
