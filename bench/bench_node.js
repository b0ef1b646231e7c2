#!/usr/bin/env node
'use strict';
// bench_node.js — check + deduct pairs per second through the Node.js binding
// (bindings/node), beside a plain in-memory JavaScript implementation of the original
// budget-tracker.js API (budget_tracker_original.js) running the same loop in the same run.
// Prints one JSON line per result (docs/performance.md).
// usage: node bench/bench_node.js [--rounds N] [--round-s S] [--no-sqlite]
//        (bindings/node must be built: npm install there)
const fs = require('fs');
const os = require('os');
const path = require('path');
const { performance } = require('perf_hooks');
const ab = require('../bindings/node');
const { createTracker } = require('./budget_tracker_original');

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i < 0 ? dflt : Number(argv[i + 1]);
};
const ROUNDS = opt('--rounds', 5);
const ROUND_S = opt('--round-s', 0.5);
const SQLITE = !argv.includes('--no-sqlite');
const BUDGETS = 1000;
const ids = Array.from({ length: BUDGETS }, (_, i) => `agent-${String(i).padStart(4, '0')}`);

// The measured loop, compiled once per implementation (new Function) so that each gets its own
// code and type feedback, as it would in a program that uses only one of them. Per pair:
// checkBudget(id, 5000) before, deductBudget(id, 1000, 300) after, round-robin over the budgets;
// the status is read so that it cannot be optimised away.
const LOOP = `
  const n = ids.length;
  let i = 0, pairs = 0, sink = 0;
  const t0 = now();
  const end = t0 + seconds * 1000;
  for (;;) {
    for (let k = 0; k < 256; k++) {
      const id = ids[i];
      i = i + 1 === n ? 0 : i + 1;
      const c = api.checkBudget(id, 5000);
      if (!c.allowed) throw new Error('denied: ' + c.reason);
      const s = api.deductBudget(id, 1000, 300);
      sink += s.session.tokens_remaining;
    }
    pairs += 256;
    const t = now();
    if (t >= end) return { pairs_per_s: pairs / ((t - t0) / 1000), sink };
  }`;
const makeLoop = () => new Function('api', 'ids', 'seconds', 'now', LOOP);
const loops = { fields: makeLoop(), spread: makeLoop(), binding: makeLoop(), floor: makeLoop() };
const now = () => performance.now();

// The floor: the same two native calls per pair, each reading check's arguments as check does
// (callFloor, src/addon.c), with no library call and the smallest results the loop reads. What
// the binding would reach if libagentbudget took no time at all.
const { native } = require('../bindings/node/lib/native');
function floorApi(s) {
  return {
    checkBudget(id, n) {
      return native.callFloor(s._h, id, n) === true ? { allowed: true, reason: null } : null;
    },
    deductBudget(id, input, output) {
      native.callFloor(s._h, id, input + output);
      return { session: { tokens_remaining: 0 } };
    },
  };
}

// Limits that no round reaches: 10^15 tokens a session, $1,000,000 a day (an amount of
// nano-USD below 2^53, as every realistic one is; past it the binding formats the exact
// *_nusd strings from BigInt, which costs about 10% more here).
const SESSION_TOKENS = 1e15;
const DAILY_USD = 1e6;

function setupJs(spreadStatus) {
  const t = createTracker({ spreadStatus });
  for (const id of ids) t.initializeBudget(id, 'bench', SESSION_TOKENS, DAILY_USD);
  return t;
}

function setupStore(url) {
  const s = ab.open(url);
  for (const id of ids) s.initializeBudget(id, 'bench', SESSION_TOKENS, DAILY_USD);
  return s;
}

const median = (xs) => {
  const a = [...xs].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2;
};
const round4 = (x) => Math.round(x * 10000) / 10000;

function line(bench, ours, base, baseWhat, extra) {
  const ratios = ours.map((x, k) => x / base[k]);
  const ratio = median(ratios);
  const target = extra.target === undefined ? 1.0 : extra.target;
  delete extra.target;
  const out = {
    bench,
    unit: 'pairs/s',
    ops_per_s: Math.round(median(ours)),
    baseline: Math.round(median(base)),
    baseline_what: baseWhat,
    ratio: round4(ratio),
    ratio_min: round4(Math.min(...ratios)),
    ratio_max: round4(Math.max(...ratios)),
    ops_per_s_min: Math.round(Math.min(...ours)),
    ops_per_s_max: Math.round(Math.max(...ours)),
    target,
    target_kind: target === null ? 'none' : 'ratio_min',
    meets_target: target === null ? null : ratio >= target,
    ...extra,
    budgets: BUDGETS,
    rounds: ours.length,
    round_s: extra.round_s || ROUND_S,
    node: process.version,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

// warm-up: let each loop be optimised before anything is timed
loops.fields(setupJs(false), ids, 0.2, now);
loops.spread(setupJs(true), ids, 0.2, now);
{
  const s = setupStore('memory:');
  loops.binding(s, ids, 0.2, now);
  loops.floor(floorApi(s), ids, 0.2, now);
  s.close();
}

// memory: alternating rounds, a fresh tracker and a fresh store each (the memory store keeps
// every event, so it grows while it runs); setup is not timed
const r = { fields: [], spread: [], binding: [], floor: [] };
for (let k = 0; k < ROUNDS; k++) {
  r.fields.push(loops.fields(setupJs(false), ids, ROUND_S, now).pairs_per_s);
  const s = setupStore('memory:');
  r.binding.push(loops.binding(s, ids, ROUND_S, now).pairs_per_s);
  r.floor.push(loops.floor(floorApi(s), ids, ROUND_S, now).pairs_per_s);
  s.close();
  r.spread.push(loops.spread(setupJs(true), ids, ROUND_S, now).pairs_per_s);
}
line('node_check_deduct_memory', r.binding, r.fields,
  'plain in-memory JS budget-tracker (bench/budget_tracker_original.js), status built field by field', {});
line('node_check_deduct_memory_vs_spread', r.binding, r.spread,
  'the same JS tracker with status built as {...budget, session, daily}', {});
line('node_call_floor', r.floor, r.fields,
  'plain in-memory JS budget-tracker; ours: two native calls per pair that do no library work',
  { target: null });

// the durable store: SQLite in a temporary directory, synchronous=FULL (the default) and NORMAL
if (SQLITE) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'abbench-node-'));
  try {
    for (const [name, query] of [['sqlite', ''], ['sqlite_sync_normal', '?sync=normal']]) {
      const ours = [];
      const base = [];
      for (let k = 0; k < 3; k++) {
        base.push(loops.fields(setupJs(false), ids, ROUND_S, now).pairs_per_s);
        const file = path.join(dir, `${name}-${k}.db`);
        const s = setupStore(`sqlite:${file}${query}`);
        ours.push(loops.binding(s, ids, 2 * ROUND_S, now).pairs_per_s);
        s.close();
      }
      line(`node_check_deduct_${name}`, ours, base,
        'plain in-memory JS budget-tracker (not durable: for scale only)',
        { target: null, store: `sqlite:FILE${query}`, round_s: 2 * ROUND_S });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
