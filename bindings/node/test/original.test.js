'use strict';
// The original budget-tracker.js's documented usage example and integration scenario, through
// the module-level functions exactly as its users call them, against the real library with a
// SQLite store in a temporary directory.
const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-node-orig-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const STORE = `sqlite:${path.join(dir, 'budget.db')}`;
process.env.AGENTBUDGET_STORE = STORE; // the module-level functions open this on first use

// the one changed line of a migration: require('./budget-tracker') becomes
const budgetTracker = require('..');

const A = 'backend-dev-001';

test('usage example: initialise, check before, deduct after, status', () => {
  // 1. Initialize budget for agent session
  const init = budgetTracker.initializeBudget(A, 'backend-dev', 100000, 10.00);
  assert.equal(init.agent_id, A);
  assert.equal(init.role, 'backend-dev');
  assert.equal(init.session_token_limit, 100000);
  assert.equal(init.daily_cost_limit, 10);
  assert.equal(init.daily_cost_limit_nusd, '10000000000');
  assert.equal(init.session_tokens_used, 0);
  assert.equal(init.daily_cost_used, 0);
  assert.equal(init.operations_blocked, 0);
  assert.ok(Math.abs(init.created_at - Date.now()) < 60000, 'created_at is a ms timestamp');
  assert.ok(Math.abs(init.last_reset - Date.now()) < 60000, 'last_reset is a ms timestamp');

  // 2. Before operation: check budget
  const check = budgetTracker.checkBudget(A, 5000);
  assert.deepEqual(check, { allowed: true, reason: null });

  // 4. After operation: deduct actual usage: 10k input + 30k output = $0.03 + $0.45
  const status = budgetTracker.deductBudget(A, 10000, 30000);
  assert.equal(status.session.tokens_remaining, 60000);
  assert.equal(status.daily.cost_remaining, 9.52);
  assert.equal(status.daily.cost_remaining.toFixed(2), '9.52');
  assert.equal(`Tokens remaining: ${status.session.tokens_remaining}`, 'Tokens remaining: 60000');
  assert.equal(`Cost remaining: $${status.daily.cost_remaining.toFixed(2)}`, 'Cost remaining: $9.52');
  // exact: 0.48, not 0.48000000000000004, and the nano-USD to the unit
  assert.equal(status.daily_cost_used, 0.48);
  assert.equal(String(status.daily_cost_used), '0.48');
  assert.equal(status.daily_cost_used_nusd, '480000000');
  assert.equal(status.daily.cost_used, 0.48);
  assert.equal(status.daily.cost_remaining_nusd, '9520000000');
  assert.equal(status.session_tokens_used, 40000);

  // getBudgetStatus says the same, with the original schema's fields
  const s = budgetTracker.getBudgetStatus(A);
  for (const f of ['agent_id', 'role', 'session_tokens_used', 'session_token_limit', 'daily_cost_used',
    'daily_cost_limit', 'last_reset', 'operations_blocked', 'created_at']) {
    assert.ok(f in s, `status has ${f}`);
  }
  assert.equal(s.session_tokens_used, 40000);
  assert.equal(s.daily_cost_used, 0.48);
  assert.deepEqual(JSON.parse(JSON.stringify(s)), s, 'the status survives JSON as it is');
});

test('integration scenario: several operations, exhaustion blocks and is counted', () => {
  budgetTracker.resetSession(A);
  budgetTracker.resetDaily(A);
  // several operations in one session: 4 x (5000 in + 15000 out) = 80000 tokens, 4 x $0.24
  for (let i = 0; i < 4; i++) {
    assert.equal(budgetTracker.checkBudget(A, 20000).allowed, true, `operation ${i} allowed`);
    budgetTracker.deductBudget(A, 5000, 15000);
  }
  let s = budgetTracker.getBudgetStatus(A);
  assert.equal(s.session_tokens_used, 80000);
  assert.equal(s.daily_cost_used, 0.96);
  assert.equal(s.daily_cost_used_nusd, '960000000');
  assert.equal(s.session.tokens_remaining, 20000);

  // exhaustion: 20000 are left, 25000 are asked for
  const denied = budgetTracker.checkBudget(A, 25000);
  assert.equal(denied.allowed, false);
  assert.match(denied.reason, /session limit of 'backend-dev-001' exceeded/);
  assert.match(denied.reason, /20000 tokens left of 100000 tokens/);
  assert.equal(budgetTracker.getBudgetStatus(A).operations_blocked, 1);
  assert.equal(budgetTracker.checkBudget(A, 25000).allowed, false);
  s = budgetTracker.getBudgetStatus(A);
  assert.equal(s.operations_blocked, 2, 'every denial is counted');
  assert.equal(s.session_tokens_used, 80000, 'a denial spends nothing');
  assert.equal(budgetTracker.checkBudget(A, 20000).allowed, true, 'exactly what is left is allowed');
});

test('daily cost limit blocks across sessions; session reset keeps the day; daily reset clears it', () => {
  const B = 'backend-dev-002';
  budgetTracker.initializeBudget(B, 'backend-dev', 100000, 1.00);
  // session 1: $0.48
  budgetTracker.deductBudget(B, 10000, 30000);
  // a new session keeps the day's cost
  let s = budgetTracker.resetSession(B);
  assert.equal(s.session_tokens_used, 0);
  assert.equal(s.session.tokens_remaining, 100000);
  assert.equal(s.daily_cost_used, 0.48);
  // session 2: another $0.48, $0.04 left of the day
  budgetTracker.deductBudget(B, 10000, 30000);
  s = budgetTracker.getBudgetStatus(B);
  assert.equal(s.daily_cost_used, 0.96);
  assert.equal(s.daily.cost_remaining, 0.04);
  // 5000 tokens are $0.06 at 1:3: over the day although the session has room
  const d = budgetTracker.checkBudget(B, 5000);
  assert.equal(d.allowed, false);
  assert.match(d.reason, /day limit of 'backend-dev-002' exceeded/);
  assert.equal(budgetTracker.getBudgetStatus(B).operations_blocked, 1);
  // the daily reset clears the cost
  const before = budgetTracker.getBudgetStatus(B).last_reset;
  s = budgetTracker.resetDaily(B);
  assert.equal(s.daily_cost_used, 0);
  assert.equal(s.daily.cost_remaining, 1);
  assert.equal(s.session_tokens_used, 40000, 'the daily reset leaves the session alone');
  assert.ok(s.last_reset >= before);
  assert.equal(budgetTracker.checkBudget(B, 5000).allowed, true);
});

test('initializeBudget again updates the limits and keeps what was used', () => {
  const s = budgetTracker.initializeBudget(A, 'reviewer', 200000, 20);
  assert.equal(s.role, 'reviewer');
  assert.equal(s.session_token_limit, 200000);
  assert.equal(s.daily_cost_limit, 20);
  assert.equal(s.session_tokens_used, 80000);
});

test('an unknown agent: checkBudget denies, getBudgetStatus is null, deductBudget throws', () => {
  const d = budgetTracker.checkBudget('nobody', 10);
  assert.equal(d.allowed, false);
  assert.match(d.reason, /no budget 'nobody'/);
  assert.equal(budgetTracker.getBudgetStatus('nobody'), null);
  assert.throws(() => budgetTracker.deductBudget('nobody', 1, 1), { code: 'AB_ENOTFOUND' });
  assert.throws(() => budgetTracker.resetSession('nobody'), { code: 'AB_ENOTFOUND' });
});

test('the state is durable: another process sees it, and it survives a restart', () => {
  const code = `const ab = require(${JSON.stringify(path.resolve(__dirname, '..'))});
    const s = ab.getBudgetStatus(${JSON.stringify(A)});
    ab.deductBudget(${JSON.stringify(A)}, 1000, 1000);
    process.stdout.write(JSON.stringify(s));`;
  const before = budgetTracker.getBudgetStatus(A);
  const r = spawnSync(process.execPath, ['-e', code], { env: { ...process.env, AGENTBUDGET_STORE: STORE }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), before);
  const after = budgetTracker.getBudgetStatus(A);
  assert.equal(after.session_tokens_used, before.session_tokens_used + 2000);
  assert.equal(after.daily_cost_used_nusd, String(BigInt(before.daily_cost_used_nusd) + 18000000n));
  // a fresh handle on the file (a restarted process) reads the same
  const fresh = budgetTracker.open(STORE);
  assert.deepEqual(fresh.getBudgetStatus(A), after);
  fresh.close();
});

test('deductBudget with a model prices it at that model', () => {
  const s = budgetTracker.open('memory:');
  s.initializeBudget('m', 'r', 1000000, 10);
  // claude-haiku-4-5: $1 / $5 per million
  const st = s.deductBudget('m', 1000000, 100000, { model: 'claude-haiku-4-5' });
  assert.equal(st.daily_cost_used_nusd, '1500000000');
  assert.throws(() => s.deductBudget('m', 1, 1, { model: 'no-such-model-xyz' }), { code: 'AB_EUNKNOWNMODEL' });
  s.close();
  assert.throws(() => s.getBudgetStatus('m'), { code: 'AB_ECLOSED' });
});
