#!/usr/bin/env bash
# bench_hook.sh — whole-process wall time of `agentbudget hook claude-code` on a 50 MB transcript
# whose stored offset is near its end (the case of every hook call in a long session): with
# nothing new, and with one new API reply to charge (durable: SQLite, sync=full). Median of 50
# calls after 10 warm-up calls, beside `sqlite3 FILE 'select 1'` run in alternation as the
# baseline. Prints JSON lines. usage: bench/bench_hook.sh [BUILD_DIR]  (needs python3, sqlite3)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
[ -d "$build" ] || build=$root/$build
gen=${AB_TRANSCRIPT_GEN:-$root/../shared/tools/gen-claude-transcripts.py}
tmp=$(mktemp -d /tmp/ab-bench-hook-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
python3 "$gen" "$tmp/cfg" --mb 50 --seed 9 >/dev/null
find "$tmp/cfg" -name '*.jsonl' -print0 | sort -z | xargs -0 cat >"$tmp/big.jsonl"
AB=$build/agentbudget TMP=$tmp python3 - <<'PY'
import json, os, statistics, subprocess, time
ab, tmp = os.environ["AB"], os.environ["TMP"]
env = dict(os.environ, HOME=tmp, XDG_STATE_HOME=tmp + "/state", AGENTBUDGET_STORE="sqlite:" + tmp + "/b.db")
ev = json.dumps({"hook_event_name": "PostToolUse", "session_id": "s1",
                 "transcript_path": tmp + "/big.jsonl", "cwd": tmp}).encode()
size = os.path.getsize(tmp + "/big.jsonl")
t = time.perf_counter()
subprocess.run([ab, "hook", "claude-code"], input=ev, env=env, check=True)
first_ms = (time.perf_counter() - t) * 1000
tmpl = None
for line in open(tmp + "/big.jsonl"):
    if '"usage":{' in line and '"isSidechain":false' in line and '"assistant"' in line:
        tmpl = json.loads(line)
        break
def run(cmd, inp=None):
    t = time.perf_counter()
    subprocess.run(cmd, input=inp, env=env, check=True, stdout=subprocess.DEVNULL)
    return (time.perf_counter() - t) * 1000
for mode in ("nothing_new", "one_new_reply"):
    ours, base = [], []
    for i in range(60):
        if mode == "one_new_reply":
            tmpl["message"]["id"], tmpl["requestId"] = "msg_b_%d" % i, "req_b_%d" % i
            with open(tmp + "/big.jsonl", "a") as f:
                f.write(json.dumps(tmpl, separators=(",", ":")) + "\n")
        ours.append(run([ab, "hook", "claude-code"], ev))
        base.append(run(["sqlite3", tmp + "/b.db", "select 1"]))
    ours, base = ours[10:], base[10:]
    m, b = statistics.median(ours), statistics.median(base)
    print(json.dumps({"bench": "hook_claude_code_" + mode, "transcript_bytes": size,
                      "median_ms": round(m, 3), "p90_ms": round(sorted(ours)[44], 3),
                      "sqlite3_select1_median_ms": round(b, 3), "ratio": round(m / b, 3),
                      "first_call_charging_all_ms": round(first_ms, 1),
                      "target_median_ms": 5, "meets_target": m <= 5}))
PY
