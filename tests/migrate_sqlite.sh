#!/usr/bin/env bash
# A version-1 SQLite store (with the events_time index that version 2 drops, without the tokens
# table of version 3, with the events_budget index that version 4 drops) is migrated when
# opened: `agentbudget migrate` reports version 4, the indexes are gone, the table is there, the
# data is intact and a budget's events are still found. A newer store, another program's
# database and a file that is not SQLite are refused, and left as they were.
set -euo pipefail
AB=$1
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
S="sqlite:$TMP/b.db"
"$AB" --store "$S" init a --role r --session-tokens 100000 --daily-usd 10 >/dev/null
"$AB" --store "$S" charge a --input 10000 --output 30000 >/dev/null
sqlite3 "$TMP/b.db" "CREATE INDEX events_time ON events(time_ms); DROP TABLE tokens;
    CREATE INDEX events_budget ON events(budget, id); PRAGMA user_version=1;"
fail=0
out=$("$AB" --store "$S" migrate)
[ "$out" = "$S: schema version 4 (this agentbudget writes 4)" ] || { echo "FAIL: migrate said: $out"; fail=1; }
# with AGENTBUDGET_URL set and no store given, migrate works on the default store: it says which
out=$(HOME=$TMP XDG_STATE_HOME= AGENTBUDGET_STORE= AGENTBUDGET_URL=http://127.0.0.1:9 "$AB" --json migrate)
[ "$(jq -r .store <<<"$out")" = "sqlite:$TMP/.local/state/agentbudget/budget.db" ] ||
    { echo "FAIL: migrate --json named no store, or another: $out"; fail=1; }
idx=$(sqlite3 "$TMP/b.db" "SELECT count(*) FROM sqlite_master WHERE name IN ('events_time', 'events_budget')")
[ "$idx" = 0 ] || { echo "FAIL: events_time or events_budget is still there"; fail=1; }
n=$("$AB" --store "$S" --json events --budget a --op charge | wc -l)
[ "$n" = 1 ] || { echo "FAIL: events --budget a --op charge found $n events"; fail=1; }
tok=$(sqlite3 "$TMP/b.db" "SELECT count(*) FROM sqlite_master WHERE name='tokens'")
[ "$tok" = 1 ] || { echo "FAIL: no tokens table after migrating"; fail=1; }
used=$("$AB" --store "$S" status a --json | jq -r .daily_cost_used_nusd)
[ "$used" = 480000000 ] || { echo "FAIL: daily cost after migration is $used"; fail=1; }
# a store newer than this agentbudget is refused, not downgraded
sqlite3 "$TMP/b.db" "PRAGMA user_version=99;"
if "$AB" --store "$S" status a >/dev/null 2>"$TMP/err"; then echo "FAIL: opened a v99 store"; fail=1; fi
grep -q "newer than this agentbudget" "$TMP/err" || { echo "FAIL: no clear message for a v99 store"; fail=1; }
# another program's database (a mistyped path) is refused and left as it was: its journal mode
# was set to WAL and its tables added to (or, where a name clashed, the open failed after WAL)
for t in customers events versioned; do
    F="$TMP/foreign-$t.db"
    sqlite3 "$F" "CREATE TABLE $t(id INTEGER PRIMARY KEY, what TEXT); INSERT INTO $t VALUES (1, 'x');"
    [ "$t" = versioned ] && sqlite3 "$F" "PRAGMA user_version=2" # applications set it too
    before=$(md5sum <"$F")
    set +e
    "$AB" --store "sqlite:$F" list >/dev/null 2>"$TMP/err"
    rc=$?
    set -e
    [ "$rc" = 3 ] || { echo "FAIL: a foreign database ($t) opened with exit $rc"; fail=1; }
    grep -q "not an agentbudget store: \(it has a table '$t'\|its schema version is 2 but it has no budgets table\).*(store file '$F')" "$TMP/err" ||
        { echo "FAIL: no clear message for a foreign database ($t): $(cat "$TMP/err")"; fail=1; }
    [ "$(md5sum <"$F")" = "$before" ] && [ "$(sqlite3 "$F" 'PRAGMA journal_mode')" = delete ] &&
        [ ! -e "$F-wal" ] || { echo "FAIL: the foreign database ($t) was changed"; fail=1; }
done
# a file that is not SQLite at all: the error names it
echo "not a database" >"$TMP/text.db"
"$AB" --store "sqlite:$TMP/text.db" list >/dev/null 2>"$TMP/err" || true
grep -q "file is not a database (store file '$TMP/text.db')" "$TMP/err" ||
    { echo "FAIL: the error does not name the file: $(cat "$TMP/err")"; fail=1; }
echo "migrate_sqlite: $((fail == 0 ? 9 : 0)) passed, $fail failed"
exit $fail
