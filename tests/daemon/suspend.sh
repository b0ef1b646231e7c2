#!/usr/bin/env bash
# suspend.sh — a write waiting for its group commit does not hold an HTTP thread. With
# --threads 1, another process holds the SQLite store's write lock, so a charge waits in the
# writer (busy timeout); meanwhile the one thread still answers /healthz, a check and a read at
# once, and the charge is answered, and counted once, when the lock is let go. A daemon that
# waited for the commit on its HTTP thread would answer nothing until then.
# usage: suspend.sh PATH-TO-agentbudgetd PATH-TO-agentbudget
source "$(dirname "$0")/lib.sh"

start_daemon main --threads 1 || exit 1
TOKEN=$ADMIN
B=team/agent-1
jreq PUT "/v1/budgets/$B" '{"limits": ["usd/day=10"]}'
expect_status 201 "budget created"

# ---- another process takes the write lock for 3 s ----
lock_store 3

# ---- a charge waits for it ----
T0=$(date +%s%N)
curl -s --max-time 20 -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
    --data-binary "{\"budget\": \"$B\", \"model\": \"claude-sonnet-4-5\", \"usage\": {\"input\": 100000}}" \
    -o "$TMP/charge.body" -w '%{http_code}' "$URL/v1/charge" >"$TMP/charge.status" &
CHARGE=$!
sleep 0.3 # the charge is in the writer, waiting for the lock

# ---- the one HTTP thread answers the others meanwhile ----
for what in healthz check status; do
    t=$(date +%s%N)
    case $what in
        healthz) req GET /healthz ;;
        check) jreq POST /v1/check "{\"budget\": \"$B\", \"tokens\": 1000}" ;;
        status) req GET "/v1/budgets/$B" ;;
    esac
    ms=$((($(date +%s%N) - t) / 1000000))
    if [[ $STATUS == 200 && $ms -lt 1000 ]]; then
        ok "$what answered while the charge waits ($ms ms)"
    else
        not_ok "$what answered while the charge waits" "HTTP $STATUS after $ms ms" "body: ${BODY:0:300}"
    fi
done
if kill -0 "$CHARGE" 2>/dev/null; then
    ok "the charge is still waiting for the store"
else
    not_ok "the charge is still waiting for the store" "it was answered already: $(cat "$TMP/charge.status") $(cat "$TMP/charge.body")"
fi
expect_jq "$BODY" .daily_cost_used_nusd 0 "nothing is counted before the commit"

# ---- the lock goes: the charge is answered and counted once ----
wait "$CHARGE"
wait "$LOCKER"
ms=$((($(date +%s%N) - T0) / 1000000))
expect_eq "$(cat "$TMP/charge.status")" 200 "the charge is answered once the lock is let go ($ms ms)"
expect_jq "$(cat "$TMP/charge.body")" .cost_nusd 300000000 "its cost: 100,000 input tokens at \$3 a million"
req GET "/v1/budgets/$B"
expect_jq "$BODY" .daily_cost_used_nusd 300000000 "and the budget counts it once"

finish
