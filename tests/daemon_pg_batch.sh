#!/usr/bin/env bash
# agentbudgetd's group commit on PostgreSQL: the writer runs a batch flat (no savepoint per
# request); a request that fails after it wrote voids it, and the batch runs again as savepoints.
# Two requests are made to share one batch: a row lock held from psql stalls the writer on a
# first request (the test waits until PostgreSQL shows it waiting), and the next two queue
# behind it until the lock is let go. Their answers are what each would get alone,
# and the denial among them is counted once in /metrics (it was counted in the voided run too).
# usage: daemon_pg_batch.sh AGENTBUDGETD AGENTBUDGET PG_DIR
D=$1
PGDIR=$3
set -- "$D" "$2"
source "$(dirname "$0")/daemon/lib.sh"
pg_db "$PGDIR" batch || exit 2
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
# wait_for WHAT CMD... — up to 20 s for CMD to succeed
wait_for()
{
    local what=$1 i
    shift
    for ((i = 0; i < 200; i++)); do
        "$@" && return 0
        sleep 0.1
    done
    echo "error: timed out waiting for $what" >&2
    exit 1
}
locks_waited() { [[ $(psql -qXAt "$BASE/$DB" -c "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'") -ge 1 ]]; }
# the locker holds stall's row until it is cancelled (its sleep fails, its transaction ends)
psql -qX "$BASE/$DB" -c "SET application_name = 'ab_locker'" -c "BEGIN" \
    -c "SELECT 1 FROM ab_budgets WHERE path='stall' FOR UPDATE" -c "\\! touch $TMP/locked" \
    -c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
LOCKER=$!
wait_for "the row lock" test -e "$TMP/locked"
post a '{"budget":"stall","usage":{"input":1}}' /v1/charge
wait_for "the writer to wait for the row lock" locks_waited
post b '{"budget":"tight","usage":{"input":1000000}}' /v1/reserve
sleep 0.3 # b first, then c: both queue for the writer's next batch
post c '{"budget":"swept","model":"no-such-model","usage":{"input":1}}' /v1/charge
sleep 0.5
psql -qXAt "$BASE/$DB" -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'ab_locker'" >/dev/null
wait "$LOCKER"
for r in a b c; do
    wait_for "the answer to $r" test -s "$TMP/$r.status"
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
