#!/usr/bin/env bash
# cli_race.sh CLI URLFILE — local `agentbudget set` and `reset` on PostgreSQL, many at once on
# the same new budgets: every one succeeds. They change and read back in one batch; when two
# made the same new budget at once (a unique key) or deadlocked, the store voided the batch and
# the CLI exited 2 ("the batch was rolled back: run it again"), as if the input were bad. A
# voided batch did nothing, and now runs again.
set -u
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
    for i in $(seq 1 20); do
        ("$AB" --store "$S" reset "team$round/agent-$((i % 5))" --session \
            >/dev/null 2>>"$TMP/err"; echo "$?" >>"$TMP/rc.reset.$round") &
    done
    wait
    bad=$(grep -cv '^0$' "$TMP/rc.$round")
    # a reset may come before its budget exists (exit 2, no budget): only a rolled-back batch counts
    [ "$bad" = 0 ] || { echo "FAIL: round $round: $bad of 30 set exited non-zero"; fail=1; }
    n=$("$AB" --store "$S" --json list | jq "[.[] | select(.agent_id | startswith(\"team$round/\"))] | length")
    [ "$n" = 5 ] || { echo "FAIL: round $round: $n budgets, expected 5"; fail=1; }
done
if grep -q 'rolled back' "$TMP/err"; then
    echo "FAIL: a voided batch reached the user:"
    grep 'rolled back' "$TMP/err" | sort | uniq -c | head -3
    fail=1
fi
[ "$fail" = 0 ] && echo "ok: 90 set and 60 reset at once on new budgets, none failed by a race"
exit $fail
