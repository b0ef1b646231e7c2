'use strict';
// worker.js — one of the processes of the shared-store test: reserves the worst case of a
// request, then commits what it "used", until the budget says no `stopAfter` times in a row.
// usage: node worker.js STORE_URL AGENT_ID STOP_AFTER START_AT_MS; starts at START_AT_MS (so
// that the processes run at the same time); prints {"committed":N,"tokens":T,"cost_nusd":"C","denied":D}.
const ab = require('..');

const [storeUrl, agentId, stopAfter, startAt] = process.argv.slice(2);
const store = ab.open(storeUrl);
const sleeper = new Int32Array(new SharedArrayBuffer(4));
const wait = Number(startAt) - Date.now();
if (wait > 0) Atomics.wait(sleeper, 0, 0, wait);
let committed = 0;
let tokens = 0;
let cost = 0n;
let denied = 0;
let streak = 0;
while (streak < Number(stopAfter)) {
  const d = store.reserve(agentId, { input: 1000, output: 1000 });
  if (!d.allowed) {
    denied++;
    streak++;
    continue;
  }
  streak = 0;
  // the "LLM call": the hold stays open meanwhile, so the processes' holds overlap
  Atomics.wait(sleeper, 0, 0, 2);
  // the actual usage is a little less than the worst case held
  const c = store.commit(d.hold_id, { input: 1000, output: 800 });
  committed++;
  tokens += c.tokens;
  cost += BigInt(c.cost_nusd);
}
store.close();
process.stdout.write(JSON.stringify({ committed, tokens, cost_nusd: String(cost), denied }) + '\n');
