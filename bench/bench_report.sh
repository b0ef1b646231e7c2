#!/usr/bin/env bash
# bench_report.sh — `agentbudget report` beside ccusage 20.0.24 on Claude Code trees written by
# the shared generator. Prints one JSON line per result:
#   report_equal  a small tree: token totals against the generator's, and each day's tokens and
#                 cost against `ccusage daily --offline --json --mode calculate` (within $1e-6)
#   report_table  each line of tests/report/lines.test alone: counted or not, as ccusage does
#   report_speed  a 1 GB tree: wall time, CPU and peak memory (/usr/bin/time -v), the two tools
#                 alternating run by run, medians and the ratios to the targets (0.4 and 0.5)
# usage: bench/bench_report.sh [BUILD_DIR]          (default: build; builds nothing)
# environment: AB_BENCH_MB (1024), AB_BENCH_RUNS (5), AB_BENCH_SMALL_MB (60),
#   AB_BENCH_DIR (where the trees and ccusage are kept between runs: /tmp/ab-bench-report),
#   CCUSAGE (a ccusage binary; else ccusage@20.0.24 is installed there with npm),
#   AB_TRANSCRIPT_GEN (default ../shared/tools/gen-claude-transcripts.py beside the repository)
# Takes about 3 minutes the first time (the generator writes 1 GB at ~35 MB/s), then about one.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
[[ -d "$build" ]] || build=$root/$build
ab=$build/agentbudget
gen=${AB_TRANSCRIPT_GEN:-$root/../shared/tools/gen-claude-transcripts.py}
dir=${AB_BENCH_DIR:-/tmp/ab-bench-report}
mb=${AB_BENCH_MB:-1024}
small_mb=${AB_BENCH_SMALL_MB:-60}
runs=${AB_BENCH_RUNS:-5}
die() { echo "error: $*" >&2; exit 2; }
[[ -x "$ab" ]] || die "'$ab' is missing: build first (cmake --build $build)"
[[ -f "$gen" ]] || die "the generator '$gen' is missing (set AB_TRANSCRIPT_GEN)"
for tool in python3 jq /usr/bin/time; do
    command -v "$tool" >/dev/null || die "'$tool' is required"
done
mkdir -p "$dir"

# ccusage: the one given, else installed once into $dir/peer (npm leaves the binary without x)
cc=${CCUSAGE:-$dir/peer/node_modules/@ccusage/ccusage-linux-x64/bin/ccusage}
if [[ ! -x "$cc" ]]; then
    [[ -z "${CCUSAGE:-}" ]] || die "CCUSAGE='$CCUSAGE' is not an executable"
    command -v npm >/dev/null || die "npm is required to install ccusage"
    mkdir -p "$dir/peer"
    echo '{"name":"peer","private":true}' >"$dir/peer/package.json"
    (cd "$dir/peer" && npm install --silent ccusage@20.0.24 >&2)
    chmod +x "$cc"
fi

# unified ccusage also reads other agents' data under HOME (~/.codex, ...): an empty HOME
# keeps both tools on the tree alone
export HOME=$dir/home
mkdir -p "$HOME"
unset XDG_CONFIG_HOME XDG_DATA_HOME CLAUDE_CONFIG_DIR

# tree NAME MB SEED — writes $dir/NAME once; its expected totals are in $dir/NAME.expected
tree()
{
    if [[ ! -s "$dir/$1.expected" ]]; then
        rm -rf "${dir:?}/$1"
        echo "generating a $2 MB tree in $dir/$1 ..." >&2
        python3 "$gen" "$dir/$1" --mb "$2" --seed "$3" >"$dir/$1.expected.tmp"
        mv "$dir/$1.expected.tmp" "$dir/$1.expected"
    fi
}

# ---- equality on a small tree ----
tree small "$small_mb" 1
export TZ=UTC
CLAUDE_CONFIG_DIR=$dir/small "$ab" report daily --json >"$dir/ours.json"
CLAUDE_CONFIG_DIR=$dir/small "$cc" daily --offline --json --mode calculate >"$dir/cc.json"
python3 - "$dir/small.expected" "$dir/ours.json" "$dir/cc.json" "$small_mb" <<'EOF'
import json, sys
exp, ours, cc = (json.load(open(p)) for p in sys.argv[1:4])
t = ours["totals"]
gen_equal = [t["inputTokens"], t["outputTokens"], t["cacheCreationTokens"], t["cacheReadTokens"]] == \
            [exp["input"], exp["output"], exp["cache_write"], exp["cache_read"]]
a = {r["period"]: r for r in ours["daily"]}
b = {r["period"]: r for r in cc["daily"]}
keys = ("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens", "totalTokens")
tokens_equal = a.keys() == b.keys() and all(a[d][k] == b[d][k] for d in a for k in keys)
diff = max(abs(float(a[d]["totalCost"]) - b[d]["totalCost"]) for d in a if d in b)
print(json.dumps({"bench": "report_equal", "tree_mb": float(sys.argv[4]), "days": len(a),
                  "messages": exp["messages"], "tokens_equal_generator": gen_equal,
                  "day_tokens_equal_ccusage": tokens_equal, "max_day_cost_diff_usd": diff,
                  "ok": gen_equal and tokens_equal and diff <= 1e-6}))
EOF

# ---- the edge cases of lines.test, each alone, through ccusage ----
python3 - "$root/tests/report/lines.test" "$cc" "$dir/table" <<'EOF'
import json, os, re, shutil, subprocess, sys
table, cc, work = sys.argv[1:4]
blocks = open(table, "rb").read().decode().split("\n== ")[1:]
same = deliberate = 0
unexpected = []
for b in blocks:
    name, want, line = b.split("\n")[:3]
    raw = re.sub(rb"\\x([0-9a-f]{2})", lambda m: bytes([int(m.group(1), 16)]), line.encode())
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work + "/projects/p")
    open(work + "/projects/p/s.jsonl", "wb").write(raw + b"\n")
    out = subprocess.run([cc, "daily", "--offline", "--json", "--mode", "calculate"], capture_output=True,
                         env=dict(os.environ, CLAUDE_CONFIG_DIR=work)).stdout
    counted = json.loads(out)["totals"]["outputTokens"] > 0
    if counted == want.startswith("entry"):
        same += 1
    elif "our limit" in name:
        deliberate += 1
    else:
        unexpected.append(name)
shutil.rmtree(work, ignore_errors=True)
print(json.dumps({"bench": "report_table", "cases": len(blocks), "same_as_ccusage": same,
                  "deliberate_differences": deliberate, "unexpected": unexpected, "ok": not unexpected}))
EOF

# ---- speed and memory on a big tree ----
tree "big$mb" "$mb" 7
big=$dir/big$mb
find "$big/projects" -name '*.jsonl' -exec cat {} + >/dev/null # into the page cache
# one NAME — one timed run; appends "NAME wall_s peak_kb user_s sys_s" to $dir/runs
one()
{
    local out=$dir/$1.out
    if [[ $1 == ours ]]; then
        CLAUDE_CONFIG_DIR=$big /usr/bin/time -v -o "$dir/time" "$ab" report daily --json >"$out"
    else
        CLAUDE_CONFIG_DIR=$big /usr/bin/time -v -o "$dir/time" "$cc" daily --offline --json \
            --mode calculate >"$out"
    fi
    awk -v n="$1" -F': ' '/Elapsed \(wall clock\)/ { n2 = split($2, t, ":"); w = t[n2] + (n2 > 1 ? t[n2-1] * 60 : 0) }
        /Maximum resident set size/ { m = $2 } /User time/ { u = $2 } /System time/ { s = $2 }
        END { print n, w, m, u, s }' "$dir/time" >>"$dir/runs"
}
: >"$dir/runs"
for ((i = 0; i < runs; i++)); do
    if ((i % 2 == 0)); then one ours; one ccusage; else one ccusage; one ours; fi
    same=$(jq -r '.totals | [.inputTokens, .outputTokens, .cacheCreationTokens, .cacheReadTokens] | @tsv' \
        "$dir/ours.out" "$dir/ccusage.out" | uniq | wc -l)
    [[ $same == 1 ]] || die "run $i: the two tools disagree on the 1 GB tree's totals"
done
python3 - "$dir/runs" "$big.expected" "$mb" "$runs" <<'EOF'
import json, os, statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
def med(name, col):
    return statistics.median(float(r[col]) for r in rows if r[0] == name)
o_wall, c_wall = med("ours", 1), med("ccusage", 1)
o_mem, c_mem = med("ours", 2), med("ccusage", 2)
o_cpu = med("ours", 3) + med("ours", 4)
c_cpu = med("ccusage", 3) + med("ccusage", 4)
exp = json.load(open(sys.argv[2]))
print(json.dumps({"bench": "report_speed", "tree_mb": exp["bytes"] / 2**20, "lines": exp["lines"],
                  "runs": int(sys.argv[4]), "cores": os.cpu_count(),
                  "load_avg_1m": os.getloadavg()[0],
                  "ours_wall_s": o_wall, "ccusage_wall_s": c_wall, "wall_ratio": round(o_wall / c_wall, 3),
                  "ours_cpu_s": round(o_cpu, 3), "ccusage_cpu_s": round(c_cpu, 3),
                  "ours_cpu_pct": round(100 * o_cpu / o_wall), "ccusage_cpu_pct": round(100 * c_cpu / c_wall),
                  "ours_peak_kb": o_mem, "ccusage_peak_kb": c_mem, "mem_ratio": round(o_mem / c_mem, 3),
                  "target_wall_ratio": 0.4, "target_mem_ratio": 0.5,
                  "met": o_wall <= 0.4 * c_wall and o_mem <= 0.5 * c_mem,
                  "all_runs": [{"tool": r[0], "wall_s": float(r[1]), "peak_kb": int(r[2])} for r in rows]}))
EOF
