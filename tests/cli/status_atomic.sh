#!/usr/bin/env bash
# status_atomic.sh — the status that `init`, `set` and `reset` print is the state their own
# change left: another process charging the same budget cannot come in between (the change and
# the read of the status are one transaction).
# usage: status_atomic.sh PATH-TO-agentbudget PATH-TO-charge_loop
source "$(dirname "$0")/lib.sh"
CHARGE_LOOP=${2:?usage: $0 PATH-TO-agentbudget PATH-TO-charge_loop}

export AGENTBUDGET_STORE="sqlite:$TMP/atomic.db?sync=normal"
run init a --role r --session-tokens 1000000000 --daily-usd 100000
expect_rc 0 "init"

# another process charges 1 token at a time until told to stop
"$CHARGE_LOOP" "$AGENTBUDGET_STORE&busy_ms=0" a "$TMP/stop" >"$TMP/charges" &
CHARGER=$!

# a reset answers with 0 session tokens: no charge between the reset and its status
bad=0
resets=0
for _ in $(seq 1 200); do
    run reset a --session --json
    [[ "$RC" == 0 ]] || { expect_rc 0 "reset beside a charging process"; break; }
    resets=$((resets + 1))
    used=$(jq -r .session_tokens_used <<<"$OUT")
    [[ "$used" == 0 ]] || bad=$((bad + 1))
done
touch "$TMP/stop"
wait "$CHARGER"
RC=$?
expect_rc 0 "the charging process"
charged=$(cat "$TMP/charges")
echo "# $resets resets beside $charged charges; $bad answered with tokens of another process's charge"
expect_eq "$bad" 0 "every reset's status is the state it left"
if [[ "$charged" =~ ^[0-9]+$ ]] && ((charged >= 50)); then
    ok "the other process charged meanwhile ($charged charges)"
else
    not_ok "the other process charged meanwhile" "only $charged charges: too few for the test to mean anything"
fi

finish
