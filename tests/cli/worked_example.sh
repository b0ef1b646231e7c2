#!/usr/bin/env bash
# worked_example.sh — the original budget tracker's worked example, step by step through the
# agentbudget command: 10k input + 30k output tokens at $3/$15 per million cost exactly $0.48,
# leaving 60000 session tokens and $9.52 of the day; over-limit checks are blocked and counted;
# a session reset keeps the day's cost and a daily reset clears it.
# usage: worked_example.sh PATH-TO-agentbudget
source "$(dirname "$0")/lib.sh"

A=backend-dev-001

# initializeBudget('backend-dev-001', 'backend-dev', 100000, 10.00)
run init $A --role backend-dev --session-tokens 100000 --daily-usd 10
expect_rc 0 "init"
expect_has "$OUT" "created budget '$A'" "init says it created the budget"
run status $A --json
expect_jq "$OUT" '[.agent_id, .role, .session_token_limit, .daily_cost_limit_nusd] | @tsv' \
    $'backend-dev-001\tbackend-dev\t100000\t10000000000' "status after init: id, role, limits"
expect_has "$OUT" '"daily_cost_limit":10.00,' "status after init: daily_cost_limit is 10.00 as text"
expect_jq "$OUT" '[.session_tokens_used, .daily_cost_used_nusd, .operations_blocked] | @tsv' \
    $'0\t0\t0' "status after init: nothing used, nothing blocked"

# checkBudget(agent, 5000): 1250 input + 3750 output at $3/$15 = $0.06, allowed
run check $A --tokens 5000
expect_rc 0 "check --tokens 5000"
expect_eq "$OUT" 'allowed: 5000 tokens, $0.06' "check --tokens 5000: human answer"
run check $A --tokens 5000 --json
expect_rc 0 "check --tokens 5000 --json"
expect_jq "$OUT" '[.allowed, .tokens, .cost_nusd, .reason] | @tsv' $'true\t5000\t60000000\t' \
    "check --tokens 5000 --json: allowed, 5000 tokens, 60000000 nUSD"
expect_has "$OUT" '"cost":0.06,' "check --tokens 5000 --json: cost is 0.06 as text"
run status $A --json
expect_jq "$OUT" '[.session_tokens_used, .daily_cost_used_nusd, .operations_blocked] | @tsv' \
    $'0\t0\t0' "a check spends nothing"

# deductBudget(agent, 10000, 30000): $0.03 + $0.45 = exactly $0.48
run charge $A --input 10000 --output 30000 --json
expect_rc 0 "charge --input 10000 --output 30000"
expect_has "$OUT" '"cost":0.48,' "charge: cost is 0.48 as text (not 0.48000000000000004)"
expect_has "$OUT" '"cost_nusd":480000000,' "charge: cost_nusd is 480000000 as text"
expect_jq "$OUT" '[.allowed, .over, .tokens, .cost_nusd, .replayed] | @tsv' \
    $'true\tfalse\t40000\t480000000\tfalse' "charge: allowed, not over, 40000 tokens"

# getBudgetStatus(agent)
run status $A --json
expect_rc 0 "status after the charge"
expect_has "$OUT" '"tokens_remaining":60000,' "status: session.tokens_remaining is 60000 as text"
expect_has "$OUT" '"cost_remaining":9.52,' "status: daily.cost_remaining is 9.52 as text"
expect_has "$OUT" '"daily_cost_used":0.48,' "status: daily_cost_used is 0.48 as text"
expect_jq "$OUT" '[.session.tokens_remaining, .daily.cost_remaining_nusd, .daily_cost_used_nusd,
    .session_tokens_used, .daily.cost_used_nusd, .operations_blocked] | @tsv' \
    $'60000\t9520000000\t480000000\t40000\t480000000\t0' "status: the same figures as numbers"
run status $A
expect_has "$OUT" 'usd/day=10.00            used $0.48          held $0.00        left $9.52' \
    "status (human): the usd/day line"
expect_has "$OUT" 'tokens/session=100000    used 40000          held 0            left 60000' \
    "status (human): the tokens/session line"

# checkBudget(agent, 70000): 60000 tokens are left, so it is blocked, and counted
run check $A --tokens 70000
expect_rc 1 "check --tokens 70000 (over the session limit)"
expect_eq "$OUT" "denied: session limit of '$A' exceeded: requested 70000 tokens, 60000 tokens left of 100000 tokens" \
    "check --tokens 70000: human denial"
run status $A --json
expect_jq "$OUT" '.operations_blocked' 1 "operations_blocked is 1 after one denial"
run check $A --tokens 70000 --json
expect_rc 1 "check --tokens 70000 --json"
expect_jq "$OUT" '[.allowed, .limit.budget, .limit.metric, .limit.window, .limit.amount, .limit.used,
    .limit.requested, .limit.remaining] | @tsv' \
    $'false\tbackend-dev-001\ttokens\tsession\t100000\t40000\t70000\t60000' \
    "check --tokens 70000 --json: the deciding limit"
run status $A --json
expect_jq "$OUT" '[.operations_blocked, .session_tokens_used, .daily_cost_used_nusd] | @tsv' \
    $'2\t40000\t480000000' "operations_blocked is 2 after two denials, and nothing was spent"
run check $A --tokens 60000
expect_rc 0 "check --tokens 60000 (exactly what is left) is allowed"

# resetSession(agent): the session's tokens go, the day's cost stays
run reset $A --session --json
expect_rc 0 "reset --session"
expect_has "$OUT" '"daily_cost_used":0.48,' "reset --session: daily_cost_used stays 0.48"
expect_jq "$OUT" '[.session_tokens_used, .session.tokens_remaining, .daily_cost_used_nusd,
    .daily.cost_remaining_nusd] | @tsv' $'0\t100000\t480000000\t9520000000' \
    "reset --session: session_tokens_used 0, the day untouched"
run check $A --tokens 70000
expect_rc 0 "check --tokens 70000 is allowed after the session reset"

# resetDaily(agent): the day's cost goes
run reset $A --daily --json
expect_rc 0 "reset --daily"
expect_has "$OUT" '"daily_cost_used":0.00,' "reset --daily: daily_cost_used is 0.00 as text"
expect_has "$OUT" '"cost_remaining":10.00,' "reset --daily: daily.cost_remaining is 10.00 as text"
expect_jq "$OUT" '[.daily_cost_used_nusd, .daily.cost_remaining_nusd] | @tsv' $'0\t10000000000' \
    "reset --daily: the day's cost is zero"

# the audit log saw it all: the set, the charge, the two denied checks, the two resets (allowed
# checks are not mutations and are not logged)
run events --budget $A --json
expect_rc 0 "events"
expect_jq "$(jq -s . <<<"$OUT")" '[.[] | "\(.op):\(.allowed)"] | join(",")' \
    'set:true,charge:true,check:false,check:false,reset:true,reset:true' \
    "events: set, charge, two denied checks, two resets"

finish
