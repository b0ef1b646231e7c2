#!/usr/bin/env bash
# agentbudgetd on PostgreSQL when the server goes away: requests answer 503 (store_unavailable,
# nothing changed) while it is down, and the daemon recovers by itself when it is back.
# usage: daemon_pg_recover.sh AGENTBUDGETD AGENTBUDGET PG_DIR PG_CLUSTER_SH
D=$1
PGDIR=$3
PGCTL=$4
set -- "$D" "$2"
source "$(dirname "$0")/daemon/lib.sh"
# the server is started again on the way out, should this script stop while it is down
trap 'cleanup; "$PGCTL" restart "$PGDIR" >/dev/null 2>&1' EXIT
pg_db "$PGDIR" recover || exit 2
DAEMON_STORE="$BASE/$DB" start_daemon recover --no-access-log || exit 1
TOKEN=$ADMIN
pass=0 fail=0
check() { if "${@:2}"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi; }
charge() {
    curl -s -o "$TMP/body" -w '%{http_code}' -X POST "http://127.0.0.1:$PORT/v1/charge" \
        -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        -d '{"budget":"fleet","usage":{"input":1000}}'
}
curl -s -X PUT "http://127.0.0.1:$PORT/v1/budgets/fleet" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' -d '{"limits":["usd/day=10"]}' >/dev/null
check "a charge before the outage" [ "$(charge)" = 200 ]
check "on PostgreSQL a group commit takes 64 requests by default" \
    [ "$(grep -m1 '"msg":"listening"' "$TMP/recover.err" | jq .batch_max)" = 64 ]

# stop the server (immediate): the daemon's connections die under it
"$PGCTL" halt "$PGDIR"
st=$(charge)
check "while the server is down: 503" [ "$st" = 503 ]
check "with the store_unavailable code" [ "$(jq -r .error.code "$TMP/body")" = store_unavailable ]
st=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz")
check "healthz says 503 too" [ "$st" = 503 ]
# a caller who is nobody yet (a made-up token) learns that the store is down, not where it is or
# who connects to it: the detail (the server's address and port) goes to the log
PGPORT=${BASE##*:}
FAKE="abt_0000000000000000_$(printf '0%.0s' $(seq 1 64))"
st=$(curl -s -o "$TMP/body" -w '%{http_code}' -H "Authorization: Bearer $FAKE" \
    "http://127.0.0.1:$PORT/v1/budgets")
check "an unknown token while the store is down: 503" [ "$st" = 503 ]
check "its message names no server detail" [ "$(grep -c -e "$PGPORT" -e postgres "$TMP/body")" = 0 ]
check "the log has the detail" grep -q '"msg":"cannot check a token".*'"$PGPORT" "$TMP/recover.err"
check "the daemon is still running" kill -0 $PID

"$PGCTL" restart "$PGDIR" >/dev/null
ok=0
for _ in $(seq 1 20); do # the first request on each dead connection may still fail
    [ "$(charge)" = 200 ] && { ok=1; break; }
    sleep 0.1
done
check "after the server is back, charges succeed again" [ "$ok" = 1 ]
used=$(curl -s "http://127.0.0.1:$PORT/v1/budgets/fleet" -H "Authorization: Bearer $TOKEN" | jq .usage.total.requests)
check "exactly the acknowledged charges were applied (2)" [ "$used" = 2 ]
# A group commit whose COMMIT fails may have happened, as far as the daemon knows (a connection
# lost under it): the 503 must not say "nothing was changed". Made to fail here by a deferred
# constraint trigger that raises at commit time on a charge of budget "poison".
psql -qX "$BASE/$DB" >/dev/null <<'SQL'
CREATE FUNCTION ab_test_boom() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN RAISE EXCEPTION 'boom at commit'; END $$;
CREATE CONSTRAINT TRIGGER ab_test_boom AFTER INSERT ON ab_events DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (NEW.budget = 'poison' AND NEW.op = 'charge') EXECUTE FUNCTION ab_test_boom();
SQL
curl -s -X PUT "http://127.0.0.1:$PORT/v1/budgets/poison" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' -d '{}' >/dev/null
st=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST "http://127.0.0.1:$PORT/v1/charge" \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d '{"budget":"poison","usage":{"input":1000}}')
check "a failed commit: 503" [ "$st" = 503 ]
check "a failed commit does not claim nothing was changed" \
    [ "$(jq -r .error.message "$TMP/body" | grep -c 'nothing was changed')" = 0 ]
check "a failed commit says the outcome is not known" grep -q 'is not known' "$TMP/body"
echo "daemon_pg_recover: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
