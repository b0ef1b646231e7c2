#!/usr/bin/env bash
# cli_race.sh CLI URLFILE — local `agentbudget set` and `reset` on PostgreSQL, many at once on
# the same new budgets: every one succeeds. They change and read back in one batch; when two
# made the same new budget at once (a unique key) or deadlocked, the store voided the batch and
# the CLI exited 2 ("the batch was rolled back: run it again"), as if the input were bad. A
# voided batch did nothing, and now runs again.
set -u
command -v jq >/dev/null || { echo "error: jq is required" >&2; exit 2; }
AB=$1
BASE=$(cat "$2")
TMP=$(mktemp -d)
DB="ab_race_$$"
trap 'rm -rf "$TMP"; psql -qX "$BASE/postgres" -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1' EXIT
psql -qX "$BASE/postgres" -c "CREATE DATABASE $DB" >/dev/null || exit 2
S="$BASE/$DB"
"$AB" --store "$S" list >/dev/null || exit 2 # the schema, made once
fail=0
for round in 1 2 3; do
    for i in $(seq 1 30); do
        ("$AB" --store "$S" set "team$round/agent-$((i % 5))" --limit "usd/day=$i" \
            >/dev/null 2>>"$TMP/err"; echo $? >>"$TMP/rc.$round") &
    done
    for i in $(seq 1 20); do # a reset may come before its budget exists: only its stderr counts
        "$AB" --store "$S" reset "team$round/agent-$((i % 5))" --session >/dev/null 2>>"$TMP/err" &
    done
    wait
    bad=$(grep -cv '^0$' "$TMP/rc.$round")
    [ "$bad" = 0 ] || { echo "FAIL: round $round: $bad of 30 set exited non-zero"; fail=1; }
    n=$("$AB" --store "$S" --json list | jq "[.[] | select(.agent_id | startswith(\"team$round/\"))] | length")
    [ "$n" = 5 ] || { echo "FAIL: round $round: $n budgets, expected 5"; fail=1; }
done
# A batch the store voids: this set's batch takes the group-commit lock, then waits for budget
# r's row, which a psql session holds; that session then asks for the group-commit lock, and
# PostgreSQL aborts the set's transaction (a deadlock: the psql session's deadlock_timeout is
# long, the CLI's is 1 s). The set's batch is void; run again, it waits for the session to
# commit and goes through.
"$AB" --store "$S" set r >/dev/null || exit 2
psql -qX "$S" >/dev/null 2>&1 <<SQL &
BEGIN;
SET LOCAL deadlock_timeout = '20s';
SELECT 1 FROM ab_budgets WHERE path = 'r' FOR UPDATE;
\! touch $TMP/locked
\! until [ -e $TMP/go ]; do sleep 0.05; done
SELECT pg_sleep(0.3);
SELECT pg_advisory_xact_lock(4242002);
COMMIT;
SQL
LOCKER=$!
for _ in $(seq 1 100); do [ -e "$TMP/locked" ] && break; sleep 0.05; done
"$AB" --store "$S" set r --limit usd/day=7 >/dev/null 2>"$TMP/deadlock.err" &
SETTER=$!
touch "$TMP/go"
wait "$SETTER"
rc=$?
wait "$LOCKER"
[ "$rc" = 0 ] || { echo "FAIL: a set whose batch PostgreSQL aborted (a deadlock) exited $rc:"; cat "$TMP/deadlock.err"; fail=1; }
lim=$("$AB" --store "$S" --json status r | jq -r .daily_cost_limit)
[ "$lim" = 7 ] || { echo "FAIL: after the deadlock, r's day limit is $lim, expected 7"; fail=1; }
grep -q 'deadlock detected' "$(dirname "$2")/server.log" 2>/dev/null ||
    echo "note: the server log shows no deadlock (the race was not made)"
if grep -q 'rolled back' "$TMP/err"; then
    echo "FAIL: a voided batch reached the user:"
    grep 'rolled back' "$TMP/err" | sort | uniq -c | head -3
    fail=1
fi
[ "$fail" = 0 ] && echo "ok: 90 set and 60 reset at once on new budgets, none failed by a race"
exit $fail
