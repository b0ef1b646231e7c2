#!/usr/bin/env bash
# bad_input.sh — runs every case of bad_input.txt against a fresh store: bad input must exit 2
# with "error: …" naming the field on stderr (and a JSON error object with --json), print
# nothing else, and leave the store byte-for-byte as it was.
# usage: bad_input.sh PATH-TO-agentbudget [bad_input.txt]
source "$(dirname "$0")/lib.sh"
TABLE=${2:-$(dirname "$0")/bad_input.txt}
[[ -r "$TABLE" ]] || { echo "error: cannot read '$TABLE'" >&2; exit 2; }
set -f # the table's words are data: no globbing

# setup — a fresh store with a budget, a charge and an open hold; 0 if it worked.
setup()
{
    rm -f "$TMP/b.db" "$TMP/b.db-wal" "$TMP/b.db-shm" "$TMP/b.db-journal"
    "$AB" init agent-1 --role dev --session-tokens 100000 --daily-usd 10 >/dev/null &&
        "$AB" charge agent-1 --input 10000 --output 30000 >/dev/null &&
        "$AB" reserve agent-1 --input 1000 --max-output 2000 >/dev/null
}

# expand LINE — replaces each {{c*N}} with c repeated N times; prints the result.
expand()
{
    local line=$1 re='\{\{(.)\*([0-9]+)\}\}' rep
    while [[ "$line" =~ $re ]]; do
        printf -v rep '%*s' "${BASH_REMATCH[2]}" ''
        line=${line/"${BASH_REMATCH[0]}"/${rep// /${BASH_REMATCH[1]}}}
    done
    printf '%s' "$line"
}

# check_row FIELD ARGS... — one case; prints nothing on success, else the reasons (one a line).
check_row()
{
    local field=$1 before after
    shift
    if ! setup; then
        echo "setup failed"
        return
    fi
    before=$(dump)
    run "$@"
    after=$(dump)
    [[ "$RC" == 2 ]] || echo "exit status $RC, want 2"
    [[ "$ERR" == "error: "* ]] || echo "stderr does not start with 'error: ': ${ERR:0:300}"
    [[ "$ERR" == *"$field"* ]] || echo "stderr does not name '$field': ${ERR:0:300}"
    [[ -z "$OUT" ]] || echo "stdout is not empty: ${OUT:0:300}"
    [[ "$before" == "$after" ]] || echo "the store changed: $(diff <(echo "$before") <(echo "$after") | head -5)"

    # the same with --json first on the line: one JSON error object on stdout
    run --json "$@"
    after=$(dump)
    [[ "$RC" == 2 ]] || echo "--json: exit status $RC, want 2"
    [[ "$ERR" == "error: "* ]] || echo "--json: stderr does not start with 'error: ': ${ERR:0:300}"
    local msg
    if ! msg=$(jq -er '.error | select(.code | type == "string") | .message' <<<"$OUT" 2>/dev/null); then
        echo "--json: stdout is not {\"error\":{\"code\":…,\"message\":…}}: ${OUT:0:300}"
    elif [[ "$msg" != *"$field"* ]]; then
        echo "--json: error.message does not name '$field': ${msg:0:300}"
    fi
    [[ "$before" == "$after" ]] || echo "--json: the store changed: $(diff <(echo "$before") <(echo "$after") | head -5)"
}

lineno=0
while IFS= read -r line || [[ -n "$line" ]]; do
    lineno=$((lineno + 1))
    [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
    line=$(expand "$line")
    # the guard makes eval below a pure word splitter with quotes: nothing to expand or run
    if [[ "$line" == *[\$\`\;\&\|\<\>\(\)\\]* ]] || ! eval "row=($line)" 2>/dev/null ||
        ((${#row[@]} < 2)); then
        RC=- OUT= ERR=
        not_ok "line $lineno: malformed case: ${line:0:100}"
        continue
    fi
    problems=$(check_row "${row[@]}")
    what="line $lineno: agentbudget ${row[*]:1}"
    if [[ -z "$problems" ]]; then
        ok "${what:0:140}"
    else
        FAILED=$((FAILED + 1))
        echo "FAIL $((PASSED + FAILED)) - ${what:0:140}"
        sed 's/^/    /' <<<"$problems"
    fi
done <"$TABLE"

((PASSED + FAILED >= 35)) || { echo "the table has $((PASSED + FAILED)) cases, want at least 35"; FAILED=$((FAILED + 1)); }
finish
