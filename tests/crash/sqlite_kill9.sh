#!/usr/bin/env bash
# sqlite_kill9.sh AGENTBUDGET [ROUNDS] — crash consistency of the SQLite store under kill -9.
# Each round starts WRITERS shell loops of `agentbudget` processes (charges with idempotency
# keys on org/cN; reserve + commit or release with keys on org/rN, whose tokens/day limit is
# small enough to be reached) and kills them all with SIGKILL after a random 20-170 ms. An
# operation is "acknowledged" once its process has exited with 0 or 1; the writer logs it only
# then. After every round:
#   - PRAGMA integrity_check is ok;
#   - every acknowledged charge key is in the audit log exactly once, and retrying the last one
#     of each writer replays (replayed: true) and changes no counter;
#   - each budget's tokens/day used equals the sum of its own and its descendants' charge and
#     commit events;
#   - no reserve budget has used + held above its limit.
set -euo pipefail
A=$(realpath "$1")
ROUNDS=${2:-100}
WRITERS=3
LIMIT=3000
command -v jq >/dev/null && command -v sqlite3 >/dev/null || {
    echo "error: needs jq and sqlite3" >&2
    exit 2
}
dir=$(mktemp -d "${TMPDIR:-/tmp}/abcrash.XXXXXX")
trap 'rm -rf "$dir"' EXIT
export AGENTBUDGET_STORE="sqlite:$dir/s.db"
fail() {
    echo "FAIL round $round: $*" >&2
    exit 1
}

"$A" set org --limit tokens/day=1000000000 >/dev/null
for w in $(seq 1 $WRITERS); do
    "$A" set org/c$w --limit tokens/day=1000000000 >/dev/null
    "$A" set org/r$w --limit tokens/day=$LIMIT >/dev/null
done

writer() { # writer W ROUND: runs until killed
    local w=$1 r=$2 i=0 out hold
    while :; do
        i=$((i + 1))
        if "$A" charge org/c$w --input 10 --output 5 --key "c$w.$r.$i" >/dev/null 2>&1; then
            echo "c$w.$r.$i" >>"$dir/acked.$w"
        fi
        out=$("$A" --json reserve org/r$w --input 100 --max-output 100 --key "r$w.$r.$i" \
            2>/dev/null) || continue
        hold=$(jq -r .hold_id <<<"$out")
        if ((i % 3)); then
            "$A" commit "$hold" --input 60 --output 40 --key "k$w.$r.$i" >/dev/null 2>&1 || true
        else
            "$A" release "$hold" --key "l$w.$r.$i" >/dev/null 2>&1 || true
        fi
    done
}

acked_total=0 after=0
: >"$dir/events.1"
for round in $(seq 1 "$ROUNDS"); do
    pids=()
    for w in $(seq 1 $WRITERS); do
        setsid bash -c "$(declare -f writer); A='$A' dir='$dir' writer $w $round" &
        pids+=($!)
        disown $!
    done
    sleep "$(printf 0.%03d $((RANDOM % 150 + 20)))"
    for p in "${pids[@]}"; do kill -9 -- "-$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do # wait for the whole group to be gone
        while kill -0 -- "-$p" 2>/dev/null; do sleep 0.01; done
    done

    [ "$(sqlite3 "$dir/s.db" 'PRAGMA integrity_check')" = ok ] || fail "integrity_check"
    while :; do # the log since the last round, page by page
        "$A" --json events --after "$after" --limit 10000 >"$dir/events.n"
        [ -s "$dir/events.n" ] || break
        cat "$dir/events.n" >>"$dir/events.1"
        after=$(tail -n 1 "$dir/events.n" | jq .id)
    done
    jq -s 'map(select(.key != null and (.op == "charge"))) | group_by(.key)
           | map({key: .[0].key, n: length})' "$dir/events.1" >"$dir/keys.json"
    jq -s 'map(select((.op == "charge" or .op == "commit") and .allowed))
           | reduce .[] as $e ({}; reduce ($e.budget | split("/")
               | [range(1; length + 1) as $n | .[:$n] | join("/")][]) as $b (.;
               .[$b] += $e.tokens))' "$dir/events.1" >"$dir/sums.json"
    for w in $(seq 1 $WRITERS); do
        [ -f "$dir/acked.$w" ] || continue
        bad=$(jq -r --rawfile acked "$dir/acked.$w" \
            '($acked | split("\n") | map(select(. != ""))) as $a
             | (map({(.key): .n}) | add // {}) as $seen
             | $a | map(select(($seen[.] // 0) != 1)) | .[0] // empty' "$dir/keys.json")
        [ -z "$bad" ] || fail "acknowledged charge '$bad' is not in the log exactly once"
        last=$(tail -n 1 "$dir/acked.$w")
        before=$("$A" --json status org --json | jq -c '[.limits[].used]')
        rep=$("$A" --json charge org/c$w --input 10 --output 5 --key "$last")
        [ "$(jq -r .replayed <<<"$rep")" = true ] || fail "retrying '$last' did not replay: $rep"
        [ "$("$A" --json status org | jq -c '[.limits[].used]')" = "$before" ] ||
            fail "retrying '$last' changed the counters"
    done
    for b in org $(for w in $(seq 1 $WRITERS); do echo org/c$w org/r$w; done); do
        used=$("$A" --json status "$b" | jq '.limits[] | select(.spec | startswith("tokens/day")) | .used')
        sum=$(jq --arg b "$b" '.[$b] // 0' "$dir/sums.json")
        [ "$used" = "$sum" ] || fail "$b: tokens/day used $used, events sum $sum"
    done
    for w in $(seq 1 $WRITERS); do
        over=$("$A" --json status org/r$w | jq '.limits[] | select(.used + .held > .limit) | .spec')
        [ -z "$over" ] || fail "org/r$w: used + held above the limit ($over)"
    done
    acked_total=$(cat "$dir"/acked.* 2>/dev/null | wc -l)
done
events=$(wc -l <"$dir/events.1")
echo "{\"test\":\"crash_sqlite_kill9\",\"rounds\":$ROUNDS,\"writers\":$WRITERS,\"acked_charges\":$acked_total,\"events\":$events}"
