# check.jq — the checks of a crash-test round (lib.sh), run with jq -n over:
#   $ev      every event of the log so far (--slurpfile)
#   $acked   the writers' log of acknowledged operations, "OP KEY ..." lines (--rawfile)
#   $before  `list org --json` before the replays, $after the same after them (--slurpfile)
# Prints one line per failure, nothing when the round is consistent.

# the budget and its ancestors: "a/b/c" -> "a", "a/b", "a/b/c"
def lineage: split("/") | [range(1; length + 1) as $n | .[:$n] | join("/")][];
# sums f over events into every budget they count against
def rollup(f): reduce .[] as $e ({}; reduce ($e.budget | lineage) as $b (.; .[$b] += ($e | f)));
# what a retry with a key must not change
def counters: map({agent_id, operations_blocked, holds: .holds.open, usage: .usage.total,
                   limits: [.limits[] | {spec, used, held}]});

# keys through the daemon are logged as "TOKEN_ID:KEY"
($ev | map(select(.key != null) | .key |= sub("^t_[0-9a-f]+:"; "")) | group_by(.key)) as $bykey
| ($bykey | map({key: .[0].key, value: {n: length, op: .[0].op}}) | from_entries) as $seen
| ($ev | map(select(.op == "commit" or .op == "release" or .op == "expire") | {(.hold_id): 1})
    | add // {}) as $settled
| ($ev | map(select((.op == "charge" or .op == "commit") and .allowed)) | rollup(.tokens)) as $used
| ($ev | map(select(.op == "reserve" and .allowed and ($settled[.hold_id] | not)))
    | rollup(.tokens)) as $held
| ($bykey[] | select(length > 1) | "key '\(.[0].key)' is in the log \(length) times"),
  ($acked | split("\n")[] | select(. != "") | split(" ")
    | select($seen[.[1]].op != .[0])
    | "acknowledged \(.[0]) '\(.[1])' is not in the log (as \($seen[.[1]].op // "nothing"))"),
  (if ($before[0] | counters) != ($after[0] | counters)
   then "retrying acknowledged operations with their keys changed the counters" else empty end),
  ($after[0][] | .agent_id as $b | .limits[] | select(.spec | startswith("tokens/total"))
    | (select(.used != ($used[$b] // 0))
        | "\($b): tokens used \(.used), the events sum to \($used[$b] // 0)"),
      (select(.held != ($held[$b] // 0))
        | "\($b): tokens held \(.held), the open holds' reserve events sum to \($held[$b] // 0)"),
      (select(.used + .held > .limit)
        | "\($b): used \(.used) + held \(.held) is above the limit \(.limit)"))
