#!/usr/bin/env bash
# stop.sh — SIGTERM while a write waits for the store: the daemon lets the waiting charge finish
# and answers it, answers 503 shutting_down at once to a request that arrives meanwhile (also on
# a new connection: it keeps accepting until the end, as libmicrohttpd's quiesce races its own
# epoll workers), and then exits 0 with nothing unanswered.
# usage: stop.sh PATH-TO-agentbudgetd PATH-TO-agentbudget
source "$(dirname "$0")/lib.sh"

start_daemon main || exit 1
TOKEN=$ADMIN
B=team/agent-1
jreq PUT "/v1/budgets/$B" '{"limits": ["usd/day=10"]}'
expect_status 201 "budget created"

# ---- another process takes the write lock for 3 s ----
lock_store 3

# ---- a charge waits for it; the daemon is told to stop ----
curl -s --max-time 20 -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
    --data-binary "{\"budget\": \"$B\", \"model\": \"claude-sonnet-4-5\", \"usage\": {\"input\": 100000}}" \
    -o "$TMP/charge.body" -w '%{http_code}' "$URL/v1/charge" >"$TMP/charge.status" &
CHARGE=$!
sleep 1 # the charge is in the writer, waiting for the lock (held 3 s): room for a slow start
kill -TERM "$PID"
for ((i = 0; i < 100; i++)); do grep -q '"msg":"stopping"' "$TMP/main.err" && break; sleep 0.05; done

# ---- a new connection meanwhile: 503 at once, not a wait in the listen queue ----
t=$(date +%s%N)
req GET /healthz
ms=$((($(date +%s%N) - t) / 1000000))
expect_status 503 "a request on a new connection during the stop ($ms ms)"
expect_jq "$BODY" .error.code shutting_down "it says the daemon is stopping"
if ((ms < 1000)); then ok "answered at once ($ms ms)"; else not_ok "answered at once" "after $ms ms"; fi

# ---- the waiting charge is answered, and the daemon exits 0 ----
wait "$CHARGE"
wait "$LOCKER"
expect_eq "$(cat "$TMP/charge.status")" 200 "the charge waiting at the stop is answered"
expect_jq "$(cat "$TMP/charge.body")" .cost_nusd 300000000 "with its cost"
wait "$PID"
RC=$?
expect_eq "$RC" 0 "the daemon exits 0"
expect_has "$(cat "$TMP/main.err")" '"requests_still_running":0' "nothing was still running after the drain"
expect_eq "$(sqlite3 "$STORE_FILE" "SELECT used_day_usd FROM budgets WHERE path = '$B'")" 300000000 \
    "the charge is in the store"

# ---- SIGHUP stops in order as well (it killed the daemon at once, exit 129); nothing but JSON
# lines on stderr: no warning about a pool of one (--threads 1), libmicrohttpd's own messages as
# JSON ----
start_daemon hup --threads 1 || exit 1
# a request too large for a connection's memory makes libmicrohttpd speak: as JSON lines too
q=$(seq -s '&' -f 'x%g=1' 1 600)
curl -s -o /dev/null --max-time 2 "$URL/healthz?$q"
kill -HUP "$PID"
wait "$PID"
RC=$?
expect_eq "$RC" 0 "SIGHUP: the daemon stops in order, exit 0"
expect_has "$(cat "$TMP/hup.err")" '{"msg":"stopped"}' "and says it stopped"
expect_eq "$(grep -cv '^{' "$TMP/hup.err")" 0 "every line on stderr is JSON (--threads 1, libmicrohttpd's own)"
expect_has "$(cat "$TMP/hup.err")" '"msg":"libmicrohttpd"' "libmicrohttpd's message is there, as JSON"

finish
