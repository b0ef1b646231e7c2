#!/usr/bin/env bash
# sweep_locks.sh CLI URLFILE — writers on one PostgreSQL tree do not deadlock: the sweep of
# expired holds through an ancestor takes no lock it would wait for, and a single writer and a
# group commit take turns. A reserve on org/a locks its chain (org/a, then org) and, finding an expired
# hold of org/b counted in org, locked org/b too, waiting for whoever held it; a writer on org/b
# waiting for org then deadlocked with it (PostgreSQL aborted one after deadlock_timeout, and
# CLI writers on PostgreSQL stalled for seconds whenever holds expired). Now the hold is left
# to the writer that holds org/b, or to a later sweep.
set -u
command -v jq >/dev/null || { echo "error: jq is required" >&2; exit 2; }
AB=$1
BASE=$(cat "$2")
LOG="$(dirname "$2")/server.log"
TMP=$(mktemp -d)
DB="ab_sweep_$$"
trap 'rm -rf "$TMP"; psql -qX "$BASE/postgres" -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1' EXIT
psql -qX "$BASE/postgres" -c "CREATE DATABASE $DB" >/dev/null || exit 2
S="$BASE/$DB"
pass=0 fail=0
check() { if "${@:2}"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi; }
same() { [ "$1" = "$2" ] || { echo "  got:  $1"; echo "  want: $2"; return 1; }; }
deadlocks() { grep -c "deadlock detected" "$LOG" 2>/dev/null; }
# race WHAT LEAF FIRST_LOCKS NEXT_LOCK — a writer in psql takes FIRST_LOCKS (SQL), then, while a
# reserve on LEAF runs, NEXT_LOCK; both must get through: the reserve exits 0, the writer is not
# aborted, and the server saw no deadlock
race()
{
    local what=$1 leaf=$2 first=$3 next=$4 before rc writer
    before=$(deadlocks)
    rm -f "$TMP/held"
    psql -qX "$S" -c "BEGIN" -c "$first" -c "\\! touch $TMP/held" -c "SELECT pg_sleep(0.5)" \
        -c "$next" -c "COMMIT" >/dev/null 2>"$TMP/psql.err" &
    writer=$!
    for _ in $(seq 100); do [ -e "$TMP/held" ] && break; sleep 0.05; done
    "$AB" --store "$S" reserve "$leaf" --input 1000 --max-output 1000 >/dev/null 2>"$TMP/err"
    rc=$?
    wait "$writer"
    check "$what: the reserve on $leaf exits 0" same "$rc:$(cat "$TMP/err")" "0:"
    check "$what: the writer was not aborted" same "$(cat "$TMP/psql.err")" ""
    check "$what: no deadlock on the server" same "$(deadlocks)" "$before"
}

for b in org org/a org/b; do "$AB" --store "$S" set "$b" --limit usd/day=100 >/dev/null || exit 2; done
"$AB" --store "$S" reserve org/b --input 1000 --max-output 1000 --ttl 1 >/dev/null || exit 2
sleep 1.2 # the hold of org/b, counted in org, has expired
# a writer on org/b: its row now, org's next (as a reserve on org/b locks its chain)
race "a writer on org/b" org/a "SELECT 1 FROM ab_budgets WHERE path='org/b' FOR UPDATE" \
    "SELECT 1 FROM ab_budgets WHERE path='org' FOR UPDATE"
# the hold is still swept: by the next operation that reaches it with nothing in the way
"$AB" --store "$S" --json status org/b >/dev/null
check "the expired hold is swept later (org: 1 open hold, org/a's)" same "$("$AB" --store "$S" --json status org | jq -c '.holds.open')" "1"
check "its expiry is in the log once" same "$("$AB" --store "$S" --json events --op expire | jq -s 'length')" "1"
# a commit of an expired hold locks the hold, then its chain; a reserve on the same leaf locks
# the chain, then (sweeping) the hold: the sweep leaves the hold to the commit
H=$("$AB" --store "$S" reserve org/b --input 1000 --max-output 1000 --ttl 1) || exit 2
sleep 1.2
race "a commit of the expired hold" org/b "SELECT 1 FROM ab_holds WHERE id='$H' FOR UPDATE" \
    "SELECT 1 FROM ab_budgets WHERE path='org/b' FOR UPDATE"
"$AB" --store "$S" commit "$H" --input 10 --output 10 >/dev/null 2>"$TMP/err"
check "the expired hold, committed late, is refused as expired" grep -q "is not open (it is expired)" "$TMP/err"
# a group commit (agentbudgetd's, a hook's) locks one chain after another, out of the order a
# single writer keeps: here, org/a's chain and then org/b, while the CLI's reserve on org/b
# locks org/b and then org. They deadlocked (hundreds of times a minute with daemons and CLI
# writers on one tree); a single writer now waits for a group commit to end (the group commit
# lock, 4242002, shared), and a group commit for it
race "a group commit" org/b "SELECT pg_advisory_xact_lock(4242002); SELECT 1 FROM ab_budgets WHERE \
path IN ('org/a', 'org') ORDER BY length(path) DESC FOR UPDATE" \
    "SELECT 1 FROM ab_budgets WHERE path='org/b' FOR UPDATE"
echo "sweep_locks: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
