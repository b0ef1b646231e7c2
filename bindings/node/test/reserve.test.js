'use strict';
// Reservations: reserve holds the worst case, commit settles, release frees; idempotency keys;
// and two Node.js processes sharing one SQLite store without overspending.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { spawn } = require('child_process');
const ab = require('..');
const { sqliteUrl } = require('../testlib/helpers');

test('reserve, commit, release', (t) => {
  const store = ab.open(sqliteUrl(t));
  t.after(() => store.close());
  store.initializeBudget('agent-7', 'researcher', 100000, 1.00);

  // worst case: 2000 in + 4000 out at $3/$15 = $0.066
  const hold = store.reserve('agent-7', { input: 2000, output: 4000 });
  assert.equal(hold.allowed, true);
  assert.match(hold.hold_id, /^h_[0-9a-f]{32}$/);
  assert.equal(hold.cost_nusd, '66000000');
  let s = store.getBudgetStatus('agent-7');
  assert.equal(s.holds.open, 1);
  assert.equal(s.holds.cost_nusd, '66000000');
  assert.equal(s.daily.cost_remaining_nusd, '934000000', 'a hold counts against the limit at once');
  assert.equal(s.daily_cost_used, 0, 'but is not spent');

  const done = store.commit(hold.hold_id, { input: 2000, output: 1500 });
  assert.equal(done.allowed, true);
  assert.equal(done.cost, 0.0285);
  assert.equal(done.cost_nusd, '28500000');
  s = store.getBudgetStatus('agent-7');
  assert.equal(s.holds.open, 0);
  assert.equal(s.daily_cost_used_nusd, '28500000');
  assert.equal(s.session_tokens_used, 3500);
  assert.throws(() => store.commit(hold.hold_id, { input: 1 }), { code: 'AB_ESTATE' });

  const h2 = store.reserve('agent-7', 5000, { ttl_s: 60 });
  assert.equal(h2.allowed, true);
  store.release(h2.hold_id);
  assert.equal(store.getBudgetStatus('agent-7').holds.open, 0);
  assert.throws(() => store.release(h2.hold_id), { code: 'AB_ESTATE' });

  // a denial names the deciding limit
  const no = store.reserve('agent-7', { input: 1000, output: 100000 });
  assert.equal(no.allowed, false);
  assert.equal(no.hold_id, null);
  assert.equal(no.limit.metric, 'tokens');
  assert.equal(no.limit.window, 'session');
  assert.equal(no.limit.remaining, 96500);
  const no2 = store.reserve('agent-7', { input: 1000, output: 80000 });
  assert.equal(no2.limit.metric, 'usd');
  assert.equal(no2.limit.amount_nusd, '1000000000');
  assert.equal(no2.limit.remaining, 0.9715);
  assert.equal(store.getBudgetStatus('agent-7').operations_blocked, 2);
});

test('idempotency keys: a retry returns the first answer and changes nothing', (t) => {
  const store = ab.open(sqliteUrl(t));
  t.after(() => store.close());
  store.initializeBudget('agent-8', 'r', 100000, 1);
  const a = store.reserve('agent-8', { input: 100, output: 100 }, { key: 'call-1' });
  const b = store.reserve('agent-8', { input: 100, output: 100 }, { key: 'call-1' });
  assert.equal(b.hold_id, a.hold_id);
  assert.equal(b.replayed, true);
  assert.equal(store.getBudgetStatus('agent-8').holds.open, 1);
  assert.throws(() => store.reserve('agent-8', { input: 200, output: 100 }, { key: 'call-1' }), { code: 'AB_ECONFLICT' });
  store.deductBudget('agent-8', 10, 10, { key: 'charge-1' });
  store.deductBudget('agent-8', 10, 10, { key: 'charge-1' });
  assert.equal(store.getBudgetStatus('agent-8').session_tokens_used, 20);
});

function runWorker(url, agent, startAt) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(__dirname, '../testlib/worker.js'), url, agent, '5', String(startAt)],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (b) => { out += b; });
    p.stderr.on('data', (b) => { err += b; });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`worker exited ${code}: ${err}`))));
  });
}

test('two processes share one store and never overspend', async (t) => {
  const url = sqliteUrl(t);
  const store = ab.open(url);
  t.after(() => store.close());
  // 200000 tokens a session: each request holds 2000 tokens (1000 in + 1000 out, $0.018) and
  // then uses 1800 ($0.015); $10 a day is not the limit that binds
  store.initializeBudget('shared', 'worker', 200000, 10.00);
  const startAt = Date.now() + 1500; // both start together, after Node.js has loaded
  const results = await Promise.all([runWorker(url, 'shared', startAt), runWorker(url, 'shared', startAt)]);
  const s = store.getBudgetStatus('shared');
  const committed = results.reduce((n, r) => n + r.committed, 0);
  const tokens = results.reduce((n, r) => n + r.tokens, 0);
  const cost = results.reduce((n, r) => n + BigInt(r.cost_nusd), 0n);
  const detail = JSON.stringify(results);
  t.diagnostic(`workers: ${detail}`);
  assert.ok(results.every((r) => r.committed > 0), `both processes spent: ${detail}`);
  assert.ok(s.session_tokens_used <= 200000, `tokens ${s.session_tokens_used} <= 200000: ${detail}`);
  assert.equal(s.session_tokens_used, tokens, 'the store has exactly what the processes committed');
  assert.equal(s.daily_cost_used_nusd, String(cost));
  assert.equal(s.holds.open, 0);
  // A reserve passes only while used + held + 2000 <= 200000, and a commit (1800) is less than
  // its hold, so the total never passes the limit; the last refusal, with no hold left open,
  // says used > 198000. Between the two: 111 requests of 1800 = 199800 tokens, whatever the
  // interleaving.
  assert.equal(committed, 111, detail);
  assert.equal(s.session_tokens_used, 199800);
  assert.equal(s.daily_cost_used_nusd, String(111n * 15000000n));
  assert.ok(s.operations_blocked >= 10, 'each refused reserve was counted');
});
