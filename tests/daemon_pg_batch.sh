#!/usr/bin/env bash
# agentbudgetd's group commit on PostgreSQL: the writer runs a batch flat (no savepoint per
# request); a request that fails after it wrote voids it, and the batch runs again as savepoints.
# Two requests are made to share one batch: a row lock held from psql stalls the writer on a
# first request, and the next two queue behind it. Their answers are what each would get alone,
# and the denial among them is counted once in /metrics (it was counted in the voided run too).
# usage: daemon_pg_batch.sh AGENTBUDGETD AGENTBUDGET PG_DIR
D=$1
PGDIR=$3
set -- "$D" "$2"
source "$(dirname "$0")/daemon/lib.sh"
BASE=$(cat "$PGDIR/url")
DB="ab_batch_$$"
psql -qX "$BASE/postgres" -c "CREATE DATABASE $DB" >/dev/null || exit 2
trap 'cleanup; psql -qX "$BASE/postgres" -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1' EXIT
DAEMON_STORE="$BASE/$DB" start_daemon batch --no-access-log || exit 1
TOKEN=$ADMIN

jreq PUT /v1/budgets/stall '{}'
jreq PUT /v1/budgets/tight '{"limits":["usd/day=0.01"]}'
jreq PUT /v1/budgets/swept '{"limits":["usd/day=10"]}'
jreq POST /v1/reserve '{"budget":"swept","usage":{"input":1000},"ttl_s":1}'
expect_reply 200 .allowed true "a hold on swept, to expire"
sleep 1.2

# post NAME JSON PATH — a request in the background, its status and body in $TMP/NAME.*
post()
{
    curl -s --max-time 20 -X POST -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' --data-binary "$2" -o "$TMP/$1.body" \
        -w '%{http_code}' "$URL$3" >"$TMP/$1.status" &
}
psql -qX "$BASE/$DB" -c "BEGIN" -c "SELECT 1 FROM ab_budgets WHERE path='stall' FOR UPDATE" \
    -c "SELECT pg_sleep(2)" -c "COMMIT" >/dev/null &
LOCKER=$!
sleep 0.5
post a '{"budget":"stall","usage":{"input":1}}' /v1/charge
sleep 0.5 # the writer waits for the row lock with a's batch; b and c queue for the next one
post b '{"budget":"tight","usage":{"input":1000000}}' /v1/reserve
sleep 0.3
post c '{"budget":"swept","model":"no-such-model","usage":{"input":1}}' /v1/charge
wait "$LOCKER"
for r in a b c; do
    for ((i = 0; i < 100; i++)); do [[ -s $TMP/$r.status ]] && break; sleep 0.1; done
done

expect_eq "$(cat "$TMP/a.status")" 200 "the charge behind the row lock: 200"
expect_eq "$(cat "$TMP/b.status")" 200 "the reserve over the limit: 200"
expect_jq "$(cat "$TMP/b.body")" .allowed false "the reserve over the limit: denied"
expect_eq "$(cat "$TMP/c.status")" 400 "the charge at an unknown model: 400"
expect_jq "$(cat "$TMP/c.body")" .error.message \
    "unknown model 'no-such-model': no price in the store or the built-in table, and no 'default' price is set" \
    "the charge at an unknown model: its own error, not the voided batch's"
# c's sweep was undone with it (read before /metrics, whose listing of budgets sweeps)
req GET '/v1/events?budget=swept&op=expire'
expect_jq "$BODY" '.events | length' 0 "no expiry logged by the failed charge"
req GET /v1/budgets/tight
expect_reply 200 .operations_blocked 1 "the denial counted once in the store"
req GET /metrics
expect_has "$BODY" "agentbudget_batch_replays_total 1" "the batch of b and c ran again as savepoints"
expect_has "$BODY" 'agentbudget_denials_total{reason="usd/day"} 1' "the denial counted once"
req GET /v1/budgets/swept
expect_reply 200 .holds.open 0 "the expired hold is swept by a read"
req GET '/v1/events?budget=swept&op=expire'
expect_jq "$BODY" '.events | length' 1 "its expiry logged once"
finish
