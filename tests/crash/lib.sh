# lib.sh — what the crash tests (sqlite_kill9.sh, daemon_kill9.sh, pg_kill9.sh) share: the
# budgets, the writers (`agentbudget` loops killed with SIGKILL), and the checks after a round. The sourcing script sets A (the
# agentbudget command; the store is reached through AGENTBUDGET_STORE or AGENTBUDGET_URL), dir
# (a scratch directory) and round, and calls setup_budgets, then per round start_writers,
# kill_writers and check_round.
#
# Budgets: org; org/cN, charged by writer N with idempotency keys; org/r/N, where writer N
# reserves (and commits or releases) with keys. The writers all reserve under org/r, whose
# tokens/total limit is raised before each round to ROOM tokens above its use and holds, so
# that in most rounds the limit is reached while they compete for it. An operation is
# acknowledged once its process has exited with 0 (or 1: a denied reserve); only then does the
# writer log it, as "OP KEY BUDGET-OR-HOLD [HOLD]". Holds live an hour: none expires during a
# test, so what is held is what the reserve, commit and release events say.
# shellcheck shell=bash disable=SC2154 # A, dir and round are the sourcing script's

WRITERS=3
ROOM=400
BIG=1000000000000
CHECK_JQ=$(dirname "${BASH_SOURCE[0]}")/check.jq

for tool in jq awk; do
    command -v "$tool" >/dev/null || { echo "error: needs $tool" >&2; exit 2; }
done

fail() {
    echo "FAIL round $round: $*" >&2
    exit 1
}

setup_budgets() {
    "$A" set org --limit tokens/total=$BIG >/dev/null
    "$A" set org/r --limit tokens/total=$ROOM >/dev/null
    for w in $(seq 1 $WRITERS); do
        "$A" set "org/c$w" --limit tokens/total=$BIG >/dev/null
        "$A" set "org/r/$w" --limit tokens/total=$BIG >/dev/null
    done
    : >"$dir/events.1"
    after=0
}

writer() { # writer W ROUND: runs until killed
    local w=$1 r=$2 i=0 hold rc
    while :; do
        i=$((i + 1))
        if "$A" charge "org/c$w" --input 10 --output 5 --key "c$w.$r.$i" >/dev/null 2>&1; then
            echo "charge c$w.$r.$i org/c$w" >>"$dir/acked.$w"
        fi
        rc=0
        hold=$("$A" reserve "org/r/$w" --input 100 --max-output 100 --ttl 3600 \
            --key "r$w.$r.$i" 2>/dev/null) || rc=$?
        if [ $rc = 1 ]; then
            echo "reserve r$w.$r.$i org/r/$w -" >>"$dir/acked.$w"
            continue
        fi
        [ $rc = 0 ] || continue
        echo "reserve r$w.$r.$i org/r/$w $hold" >>"$dir/acked.$w"
        if ((RANDOM % 3)); then
            "$A" commit "$hold" --input 60 --output 40 --key "k$w.$r.$i" >/dev/null 2>&1 &&
                echo "commit k$w.$r.$i $hold" >>"$dir/acked.$w"
        else
            "$A" release "$hold" --key "l$w.$r.$i" >/dev/null 2>&1 &&
                echo "release l$w.$r.$i $hold" >>"$dir/acked.$w"
        fi
    done
}

pids=() # the writers' process groups, while they run

start_writers() { # each writer in its own process group, so that one kill takes it all
    for w in $(seq 1 $WRITERS); do
        setsid bash -c "$(declare -f writer); A='$A' dir='$dir' writer $w $round" &
        pids+=($!)
        disown $!
    done
}

kill_writers() {
    local p killed=("${pids[@]}")
    ((${#killed[@]})) || return 0
    pids=()
    # until every process of the groups is dead: a zombie is (the orphans are reaped by whatever
    # init there is, which may take its time). Killed again each time round: a writer killed
    # before its setsid ran was in no group of its own yet, and lived on in one it made after
    # the kill (under load: the test then waited on it until its timeout)
    local sessions
    sessions=$(IFS=,; echo "${killed[*]}")
    while ps -o stat= -s "$sessions" -p "$sessions" | awk '$1 !~ /^Z/ { n++ } END { exit !n }'; do
        for p in "${killed[@]}"; do kill -9 -- "-$p" "$p" 2>/dev/null || true; done
        sleep 0.01
    done
}

# replay OP KEY X [HOLD]: retries an acknowledged operation with its key; it must be answered
# from the key (a repeated commit or release of a settled hold would otherwise be refused).
replay() {
    local op=$1 key=$2 x=$3 hold=${4:-} out rc=0
    case $op in
    charge) out=$("$A" --json charge "$x" --input 10 --output 5 --key "$key" 2>&1) || rc=$? ;;
    reserve) out=$("$A" --json reserve "$x" --input 100 --max-output 100 --ttl 3600 \
        --key "$key" 2>&1) || rc=$? ;;
    commit) out=$("$A" --json commit "$x" --input 60 --output 40 --key "$key" 2>&1) || rc=$? ;;
    release) out=$("$A" --json release "$x" --key "$key" 2>&1) || rc=$? ;;
    esac
    case $op in
    release) [ $rc = 0 ] && [ "$out" = "{\"released\":\"$x\"}" ] ;;
    reserve) [ $rc -le 1 ] && [[ $out == *'"replayed":true'* ]] &&
        { [ "$hold" = - ] || [[ $out == *"\"hold_id\":\"$hold\""* ]]; } ;;
    *) [ $rc = 0 ] && [[ $out == *'"replayed":true'* ]] ;;
    esac || fail "retrying $op '$key' did not replay (exit $rc): $out"
}

# check_round: the log since the last round; every acknowledged operation in it exactly once
# and no key twice; the last acknowledged operation of each kind of each writer replays and
# changes no counter; each budget's tokens used and held equal what the events say; no limit
# exceeded. Then org/r gets ROOM tokens more for the next round.
check_round() {
    while :; do # the log since the last round, page by page
        "$A" --json events --after "$after" --limit 10000 >"$dir/events.n"
        [ -s "$dir/events.n" ] || break
        cat "$dir/events.n" >>"$dir/events.1"
        after=$(tail -n 1 "$dir/events.n" | jq .id)
    done
    cat "$dir"/acked.* >"$dir/acks" 2>/dev/null || : >"$dir/acks"
    "$A" --json list org >"$dir/before.json"
    awk '{ last[FILENAME " " $1] = $0 } END { for (k in last) print last[k] }' \
        "$dir"/acked.* >"$dir/last" 2>/dev/null || true
    # shellcheck disable=SC2086 # the fields of a log line are the arguments
    while read -r line; do replay $line; done <"$dir/last"
    "$A" --json list org >"$dir/after.json"
    bad=$(jq -nr --slurpfile ev "$dir/events.1" --rawfile acked "$dir/acks" \
        --slurpfile before "$dir/before.json" --slurpfile after "$dir/after.json" \
        -f "$CHECK_JQ" | head -n 5)
    [ -z "$bad" ] || fail "$bad"
    limit=$(jq --argjson room $ROOM '.[] | select(.agent_id == "org/r") | .limits[]
        | select(.spec | startswith("tokens/total")) | .used + .held + $room' "$dir/after.json")
    "$A" set org/r --limit "tokens/total=$limit" >/dev/null
}

# summary TEST KEY=VALUE...: the one JSON line a crash test ends with.
summary() {
    local name=$1 kv line
    shift
    line="\"test\":\"$name\",\"rounds\":$ROUNDS,\"writers\":$WRITERS"
    line+=",\"acked_charges\":$(grep -c '^charge ' "$dir/acks"),\"acked_ops\":$(wc -l <"$dir/acks")"
    line+=",\"events\":$(wc -l <"$dir/events.1")"
    for kv in "$@"; do line+=",\"${kv%%=*}\":${kv#*=}"; done
    echo "{$line}"
}
