# lib.sh — what the end-to-end tests of the agentbudget command share: a private temporary
# directory (its SQLite store, HOME and XDG_STATE_HOME, so no test can touch a real store), a
# runner that captures stdout, stderr and the exit status, and assertions that count failures.
# Source it with the path of the agentbudget binary as $1 of the sourcing script.

set -u
set -o pipefail

AB=${1:?usage: $0 PATH-TO-agentbudget}
[[ -x "$AB" ]] || { echo "error: '$AB' is not an executable" >&2; exit 2; }
for tool in jq sqlite3; do
    command -v "$tool" >/dev/null || { echo "error: '$tool' is required (apt-get install $tool)" >&2; exit 2; }
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/agentbudget-cli.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT
export HOME="$TMP/home" XDG_STATE_HOME="$TMP/state"
mkdir -p "$HOME" "$XDG_STATE_HOME"
export AGENTBUDGET_STORE="sqlite:$TMP/b.db"
unset AGENTBUDGET_TOKEN AGENTBUDGET_URL

PASSED=0
FAILED=0

# run ARGS... — runs agentbudget; sets OUT, ERR and RC.
run()
{
    "$AB" "$@" >"$TMP/out" 2>"$TMP/err"
    RC=$?
    OUT=$(cat "$TMP/out")
    ERR=$(cat "$TMP/err")
}

ok() { PASSED=$((PASSED + 1)); echo "ok $((PASSED + FAILED)) - $1"; }
not_ok()
{
    FAILED=$((FAILED + 1))
    echo "FAIL $((PASSED + FAILED)) - $1"
    shift
    local line
    for line in "$@"; do echo "    $line"; done
    echo "    exit status: $RC"
    echo "    stdout: ${OUT:0:600}"
    echo "    stderr: ${ERR:0:600}"
}

# expect_rc WANT WHAT — the last run's exit status is WANT.
expect_rc()
{
    if [[ "$RC" == "$1" ]]; then ok "$2: exit $1"; else not_ok "$2: exit $1" "expected exit status $1"; fi
}

# expect_eq GOT WANT WHAT — exact string equality.
expect_eq()
{
    if [[ "$1" == "$2" ]]; then ok "$3"; else not_ok "$3" "expected: '$2'" "got:      '$1'"; fi
}

# expect_has HAYSTACK NEEDLE WHAT — NEEDLE occurs in HAYSTACK as text (no pattern).
expect_has()
{
    if [[ "$1" == *"$2"* ]]; then ok "$3"; else not_ok "$3" "expected to contain: '$2'" "in: '${1:0:600}'"; fi
}

# expect_jq JSON FILTER WANT WHAT — `jq -r FILTER` of JSON prints exactly WANT.
expect_jq()
{
    local got
    if ! got=$(jq -r "$2" <<<"$1" 2>&1); then
        not_ok "$4" "not JSON or filter failed: $2: $got"
        return
    fi
    expect_eq "$got" "$3" "$4"
}

# dump — the store's content as SQL text (to compare before and after).
dump() { sqlite3 "$TMP/b.db" .dump; }

# finish — prints the summary line and exits non-zero if anything failed.
finish()
{
    echo "$PASSED passed, $FAILED failed"
    [[ "$FAILED" == 0 ]]
}
