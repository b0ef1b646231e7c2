'use strict';
// The original's permission-checker stub, completed: the role allows the operation AND the
// budget can pay for it (ab_check_permission), with the stub's return shape and reasons.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const ab = require('..');
const { sqliteUrl } = require('../testlib/helpers');

test('checkPermission: role AND budget, as the integration pattern', async (t) => {
  const store = ab.open(sqliteUrl(t));
  t.after(() => store.close());
  store.setRole('reviewer', {
    allow_tools: ['Read', 'Grep', 'Bash(git *)'],
    deny_tools: ['Bash(git push*)'],
    deny_models: ['claude-opus-*'],
  });
  store.initializeBudget('reviewer-1', 'reviewer', 10000, 1.00);

  // the stub's shape: {allowed, reason}, asynchronous like the original
  const p = store.checkPermission('reviewer-1', 'Read', { estimatedTokens: 2000 });
  assert.ok(p instanceof Promise);
  assert.deepEqual(await p, { allowed: true, reason: null });

  // step 1, RBAC: the role decides
  let r = await store.checkPermission('reviewer-1', 'Bash(git push origin main)', {});
  assert.equal(r.allowed, false);
  assert.match(r.reason, /role 'reviewer' denies tool 'Bash\(git push origin main\)'/);
  r = await store.checkPermission('reviewer-1', 'Write', {});
  assert.equal(r.allowed, false);
  assert.match(r.reason, /role 'reviewer'/);
  r = await store.checkPermission('reviewer-1', 'Read', { model: 'claude-opus-4-1' });
  assert.equal(r.allowed, false);
  assert.match(r.reason, /model 'claude-opus-4-1'/);
  assert.equal((await store.checkPermission('reviewer-1', 'Bash(git status)')).allowed, true);

  // step 2, budget: context.estimatedTokens || 1000, reason prefixed as the stub did
  r = await store.checkPermission('reviewer-1', 'Read', { estimatedTokens: 20000 });
  assert.equal(r.allowed, false);
  assert.match(r.reason, /^Budget exceeded: session limit of 'reviewer-1' exceeded/);
  const blocked = store.getBudgetStatus('reviewer-1').operations_blocked;
  assert.ok(blocked >= 1, 'a budget denial is counted');

  // the default estimate is 1000 tokens: with 9500 spent, 500 are left
  store.deductBudget('reviewer-1', 2000, 7500);
  r = await store.checkPermission('reviewer-1', 'Read', {});
  assert.equal(r.allowed, false);
  assert.match(r.reason, /requested 1000 tokens, 500 tokens left/);
  assert.equal((await store.checkPermission('reviewer-1', 'Read', { estimatedTokens: 400 })).allowed, true);

  // an exact usage instead of an estimate
  assert.equal((await store.checkPermission('reviewer-1', 'Read', { usage: { input: 100, output: 100 } })).allowed, true);

  // unknown agent: denied, as the pattern's 'Agent not found'
  r = await store.checkPermission('ghost', 'Read', {});
  assert.equal(r.allowed, false);
  assert.match(r.reason, /^Agent not found/);

  // synchronous twin
  assert.deepEqual(store.checkPermissionSync('reviewer-1', 'Grep', { estimatedTokens: 100 }), { allowed: true, reason: null });

  // a long Bash command (a file written with a here-document): checked whole up to 64 KiB;
  // past it, refused where the role has tool patterns to read it with, and decided on the
  // budget alone where there are none (the binding refused any over 4 KiB)
  const long = (n) => 'Bash(cat > f <<EOF\n' + '\u00e9'.repeat(n) + '\nEOF\n)';
  assert.equal((await store.checkPermission('reviewer-1', long(20000))).allowed, false);
  assert.match((await store.checkPermission('reviewer-1', long(20000))).reason, /role 'reviewer'/);
  await assert.rejects(store.checkPermission('reviewer-1', long(40000)), { name: 'RangeError', message: /^agentbudget: operation: 80\d+ bytes, over the 65536 that role 'reviewer''s tool patterns are checked against/ });
  store.initializeBudget('writer-1', 'no-such-role', 10000, 1.00);
  assert.deepEqual(await store.checkPermission('writer-1', long(40000)), { allowed: true, reason: null });
  assert.deepEqual(store.checkPermissionSync('writer-1', 'Bash(echo \u{1F600}' + '\u{1F600}'.repeat(1100) + ')'), { allowed: true, reason: null });

  // bad arguments reject
  await assert.rejects(store.checkPermission('reviewer-1', '', {}), RangeError);
  await assert.rejects(store.checkPermission('reviewer-1', 'Read', { estimatedTokens: -5 }), RangeError);
  await assert.rejects(store.checkPermission('reviewer-1', 42), TypeError);
});

test('the handoff pattern: checkPermission before, deductBudget after (recordOperation)', async (t) => {
  const store = ab.open(sqliteUrl(t));
  t.after(() => store.close());
  store.initializeBudget('coder-1', 'coder', 50000, 1.00);
  const ops = [];
  for (let i = 0; i < 10; i++) {
    const perm = await store.checkPermission('coder-1', 'Edit', { estimatedTokens: 8000 });
    if (!perm.allowed) {
      ops.push(perm.reason);
      break;
    }
    const status = store.deductBudget('coder-1', 2000, 6000);
    ops.push(status.daily.cost_used);
  }
  // 8000 tokens per operation: the 7th would pass 50000 tokens
  assert.deepEqual(ops.slice(0, 6), [0.096, 0.192, 0.288, 0.384, 0.48, 0.576]);
  assert.match(ops[6], /^Budget exceeded: session limit/);
});
