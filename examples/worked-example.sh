#!/usr/bin/env bash
# The original budget-tracker's worked example, as an agentbudget CLI session.
# Usage: examples/worked-example.sh [path/to/agentbudget]   (store: $AGENTBUDGET_STORE)
set -u
AB=${1:-agentbudget}

step() {
    printf '\n$ agentbudget %s\n' "$*"
    "$AB" "$@"
    local rc=$?
    printf '(exit %d)\n' "$rc"
}

echo "store: ${AGENTBUDGET_STORE:-the default sqlite store}"
# 1. Initialise: 100,000 tokens per session, $10 per day (initializeBudget)
step init backend-dev-001 --role backend-dev --session-tokens 100000 --daily-usd 10
# 2. Before the operation: check 5,000 estimated tokens (checkBudget)
step check backend-dev-001 --tokens 5000
# 3. After it: deduct the real usage, 10k input + 30k output = exactly $0.48 (deductBudget)
step charge backend-dev-001 --input 10000 --output 30000
# 4. Status: 60,000 tokens and $9.52 left (getBudgetStatus)
step status backend-dev-001
# 5. Too big for what is left: denied (exit 1), counted in operations_blocked
step check backend-dev-001 --tokens 70000
# 6. Parallel agents reserve the worst case first, then settle the real cost
hold=$("$AB" reserve backend-dev-001 --model claude-sonnet-4-5 --input 2000 --max-output 4000)
printf '\n$ agentbudget reserve backend-dev-001 --model claude-sonnet-4-5 --input 2000 --max-output 4000\n%s\n' "$hold"
step commit "$hold" --input 2000 --output 1500
# 7. A new session keeps the day's cost; a new day clears it (resetSession, resetDaily)
step reset backend-dev-001 --session
step status backend-dev-001 --json
step reset backend-dev-001 --daily
# 8. Every decision and spend is in the audit log
step events --budget backend-dev-001
