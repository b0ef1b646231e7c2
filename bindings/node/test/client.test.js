'use strict';
// Client against a real agentbudgetd, started here on a free loopback port with a fresh SQLite
// store (the binary: $AGENTBUDGETD, else ../../build-node/agentbudgetd or ../../build/).
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Client } = require('..');
const { startDaemon, daemonPath } = require('../testlib/helpers');

const skip = daemonPath() ? false : 'agentbudgetd is not built (cmake --build build-node) and $AGENTBUDGETD is not set';
let d;
let admin;

before(async () => {
  if (skip) return;
  d = await startDaemon(null);
  admin = new Client({ url: d.url, token: d.adminToken });
});
after(() => d && d.stop());

test('the original API through the daemon, with the same shapes', { skip }, async () => {
  assert.equal((await admin.health()).status, 'ok');
  const A = 'backend-dev-001';
  const init = await admin.initializeBudget(A, 'backend-dev', 100000, 10.00);
  assert.equal(init.agent_id, A);
  assert.equal(init.session_token_limit, 100000);
  assert.equal(init.daily_cost_limit_nusd, '10000000000');

  // an agent token scoped to its own budget does the spending
  const tok = await admin.createToken({ scope: A, role: 'agent', label: 'backend-dev-001' });
  assert.match(tok.secret, /^abt_/);
  const agent = new Client({ url: d.url, token: tok.secret });

  assert.deepEqual(await agent.checkBudget(A, 5000), { allowed: true, reason: null });
  const status = await agent.deductBudget(A, 10000, 30000);
  assert.equal(status.session.tokens_remaining, 60000);
  assert.equal(status.daily.cost_remaining, 9.52);
  assert.equal(status.daily_cost_used, 0.48);
  assert.equal(status.daily_cost_used_nusd, '480000000');
  assert.equal(status.daily.cost_remaining_nusd, '9520000000');

  const no = await agent.checkBudget(A, 70000);
  assert.equal(no.allowed, false);
  assert.match(no.reason, /session limit of 'backend-dev-001' exceeded/);
  assert.equal((await agent.getBudgetStatus(A)).operations_blocked, 1);

  // resets need an admin token: an agent would lift its own session limit
  await assert.rejects(agent.resetSession(A), { status: 403, code: 'forbidden' });
  let s = await admin.resetSession(A);
  assert.equal(s.session_tokens_used, 0);
  assert.equal(s.daily_cost_used, 0.48);
  await assert.rejects(agent.resetDaily(A), { status: 403, code: 'forbidden' });
  s = await admin.resetDaily(A);
  assert.equal(s.daily_cost_used, 0);

  // reserve / commit / release
  const hold = await agent.reserve(A, { input: 2000, output: 4000 }, { key: 'call-42' });
  assert.equal(hold.allowed, true);
  assert.equal(hold.cost_nusd, '66000000');
  const again = await agent.reserve(A, { input: 2000, output: 4000 }, { key: 'call-42' });
  assert.equal(again.replayed, true);
  assert.equal(again.hold_id, hold.hold_id);
  const done = await agent.commit(hold.hold_id, { input: 2000, output: 1500 });
  assert.equal(done.cost, 0.0285);
  await assert.rejects(agent.commit(hold.hold_id, { input: 1 }), { status: 409, code: 'hold_not_open' });
  const h2 = await agent.reserve(A, 1000);
  await agent.release(h2.hold_id);
  assert.equal((await agent.getHold(h2.hold_id)).state, 'released');

  // out of scope is not found, as the daemon hides other budgets
  await admin.initializeBudget('other-agent', 'x', 10, 1);
  assert.equal(await agent.getBudgetStatus('other-agent'), null);
  await assert.rejects(agent.getBudget('other-agent'), { status: 404, code: 'not_found' });
  const denied = await agent.checkBudget('other-agent', 1);
  assert.equal(denied.allowed, false);
});

test('the permission checker through the daemon', { skip }, async () => {
  await admin.setRole('reviewer', { allow_tools: ['Read', 'Bash(git *)'], deny_tools: ['Bash(git push*)'] });
  await admin.initializeBudget('rev-1', 'reviewer', 5000, 1);
  assert.deepEqual(await admin.checkPermission('rev-1', 'Read', { estimatedTokens: 1000 }), { allowed: true, reason: null });
  const r = await admin.checkPermission('rev-1', 'Bash(git push origin)', {});
  assert.equal(r.allowed, false);
  assert.match(r.reason, /role 'reviewer' denies tool/);
  const b = await admin.checkPermission('rev-1', 'Read', { estimatedTokens: 6000 });
  assert.equal(b.allowed, false);
  assert.match(b.reason, /^Budget exceeded: session limit/);
  const ghost = await admin.checkPermission('ghost', 'Read', {});
  assert.equal(ghost.allowed, false);
  assert.match(ghost.reason, /^Agent not found/);
  // a long command goes to the daemon and is decided there (the Client refused any over 4 KiB)
  assert.deepEqual(await admin.checkPermission('rev-1', 'Bash(git log ' + 'x'.repeat(20000) + ')'), { allowed: true, reason: null });
  assert.equal((await admin.checkPermission('rev-1', 'Bash(git push ' + 'x'.repeat(20000) + ')')).allowed, false);
});

test('HTTP errors become Errors with .status and .code', { skip }, async () => {
  const bad = new Client({ url: d.url, token: 'abt_0000000000000000_' + '0'.repeat(64) });
  await assert.rejects(bad.getBudget('backend-dev-001'), (e) => {
    assert.equal(e.status, 401);
    assert.equal(e.code, 'unauthorized');
    assert.match(e.message, /^agentbudgetd: .*\(401 unauthorized\)$/);
    return true;
  });
  const none = new Client({ url: d.url, token: null });
  await assert.rejects(none.listBudgets(), { status: 401 });
  // a field the daemon refuses: 400 naming the field
  await assert.rejects(admin.request('POST', '/v1/charge', { budget: 'backend-dev-001', usage: { input: 1.5 } }),
    { status: 400, code: 'invalid', field: 'usage.input' });
  await assert.rejects(admin.deleteBudget('no-such-budget'), { status: 404, code: 'not_found' });
  // nothing listening
  const dead = new Client({ url: 'http://127.0.0.1:9', token: 'x', timeoutMs: 2000 });
  await assert.rejects(dead.health(), { status: 0, code: 'unreachable' });
  // bad arguments are refused before any request
  await assert.rejects(admin.checkBudget('backend-dev-001', -1), RangeError);
  await assert.rejects(admin.deductBudget(42, 1, 1), TypeError);
  assert.throws(() => new Client({ url: 'ftp://x' }), RangeError);
  const list = await admin.listBudgets();
  assert.ok(list.some((b) => b.agent_id === 'backend-dev-001'));
  const ev = await admin.events({ budget: 'backend-dev-001', limit: 3 });
  assert.equal(ev.events.length, 3);
  assert.equal(typeof ev.next_after, 'number');
});

test('the Client refuses what the Store refuses, and says a wrong URL is one', { skip }, async () => {
  const ab = require('..');
  const local = ab.open('memory:');
  await admin.initializeBudget('cl-perm', 'r', 100000, 10);
  local.initializeBudget('cl-perm', 'r', 100000, 10);
  // context.usage is the estimate, as for the Store (it used to be dropped: allowed)
  const ctx = { usage: { input: 200000 } };
  const want = local.checkPermissionSync('cl-perm', 'Read', ctx);
  assert.equal(want.allowed, false);
  assert.deepEqual(await admin.checkPermission('cl-perm', 'Read', ctx), want);
  await assert.rejects(admin.checkPermission('cl-perm', 'Read', { estimatedTokens: NaN }), RangeError);
  // misspelt options and an empty key are refused before any request
  await assert.rejects(admin.setBudget('cl-perm', { limit: ['usd/day=1'] }), { name: 'TypeError', message: /^spec\.limit: / });
  await assert.rejects(admin.setRole('cl-r', { deny_tool: ['Bash*'] }), TypeError);
  await assert.rejects(admin.charge('cl-perm', 1, { key: '' }), RangeError);
  assert.equal((await admin.getBudgetStatus('cl-perm')).session_tokens_used, 0, 'nothing was charged');
  // a 404 that is not the daemon's "no budget" (here: a wrong base URL) is an error, not null
  const wrong = new Client({ url: `${d.url}/api`, token: d.adminToken });
  await assert.rejects(wrong.getBudgetStatus('cl-perm'), { status: 404 });
  await assert.rejects(wrong.checkBudget('cl-perm', 1), { status: 404 });
  await assert.rejects(wrong.checkPermission('cl-perm', 'Read'), { status: 404 });
  assert.equal(await admin.getBudgetStatus('no-such-agent'), null, "the daemon's own no budget is still null");
  local.close();
});

test('deductBudget answers with the state its own deduct left, beside resets', { skip }, async (t) => {
  const A = 'deduct-beside-resets';
  await admin.initializeBudget(A, 'r', 1e15, 1e6);
  let stop = false;
  let resets = 0;
  const resetter = (async () => {
    while (!stop) {
      await admin.resetSession(A);
      resets++;
    }
  })();
  // each deduct adds 1000 tokens and a reset sets them to 0: whatever came before or after, the
  // state this deduct left holds its own 1000 tokens
  const bad = [];
  for (let k = 0; k < 400; k++) {
    const s = await admin.deductBudget(A, 700, 300);
    if (s.session_tokens_used < 1000 || s.session_tokens_used % 1000 !== 0) bad.push(s.session_tokens_used);
  }
  stop = true;
  await resetter;
  t.diagnostic(`400 deducts beside ${resets} resets; ${bad.length} answers without their own deduct`);
  assert.ok(resets >= 50, `only ${resets} resets ran beside the deducts`);
  assert.deepEqual(bad.slice(0, 10), [], `${bad.length} of 400 statuses did not hold their own deduct`);
});

test('an id with a "." or ".." segment never reaches the URL (fetch would resolve it)', { skip }, async () => {
  const tok = await admin.createToken({ scope: '', role: 'agent' });
  const victim = new Client({ url: d.url, token: tok.secret });
  await assert.rejects(admin.getBudgetStatus('../tokens'), { name: 'RangeError', message: /^path: must be a budget path without a "\." or "\.\." segment/ });
  await assert.rejects(admin.deleteBudget(`../tokens/${tok.id}`), RangeError);
  await assert.rejects(admin.getBudgetStatus('x/../../roles'), RangeError);
  await assert.rejects(admin.initializeBudget('./a', 'r', 1, 1), RangeError);
  await assert.rejects(admin.commit('..', 1), { name: 'RangeError', message: /^holdId: / });
  await assert.rejects(admin.revokeToken('.'), RangeError);
  assert.ok(Array.isArray(await victim.listBudgets()), 'the token was not revoked');
  assert.equal(await admin.getBudgetStatus('a.b'), null, 'dots inside a segment are a name');
});

test('the Client tells its own mistakes, a timeout and an empty answer from the daemon being down', async (t) => {
  // a URL that is not one, or would move the paths into a query or drop them after a '#', is
  // refused here (it was "unreachable" at the first request, or reached another route)
  for (const url of ['http://', 'http:///x', 'http://a b:80', 'http://127.0.0.1:8700?x=1', 'http://127.0.0.1:8700#', 'http://u:p@127.0.0.1:8700', 'ftp://x', 'http//x']) {
    assert.throws(() => new Client({ url, token: 'x' }), { name: 'RangeError', message: /^options\.url: must be /, code: 'ERR_OUT_OF_RANGE' }, url);
  }
  for (const url of ['http://127.0.0.1:8700', 'https://budget.example/', 'http://[::1]:8700', 'http://h:1/prefix/']) {
    assert.doesNotThrow(() => new Client({ url, token: 'x' }), url);
  }
  assert.throws(() => new Client({ url: 'http://127.0.0.1:9', timeoutMs: 2 ** 31 }), { name: 'RangeError', message: /^options\.timeoutMs: / });
  assert.throws(() => new Client({ url: 'http://127.0.0.1:9', token: 'a\nb' }), { name: 'RangeError', message: /^options\.token: / });
  const c = new Client({ url: 'http://127.0.0.1:9', token: 'x', timeoutMs: 2000 });
  await assert.rejects(c.charge('a', 1, { key: 'k\n1' }), { name: 'RangeError', message: /^options\.key: / });
  // what a Store refuses, the Client refuses too, before any request (an empty model went
  // unsent and was charged at the default price)
  await assert.rejects(c.charge('a', 1, { model: '' }), { name: 'RangeError', message: /^options\.model: must be a non-empty string/ });
  await assert.rejects(c.initializeBudget('a', 'r', 100, 1, { model: '' }), { name: 'RangeError', message: /^options\.model: / });
  const odd = new Client({ url: 'http://127.0.0.1:9', token: 'x', fetch: async () => 42 });
  await assert.rejects(odd.health(), { name: 'TypeError', message: /^options\.fetch: / });
  // a server that accepts and never answers; one that answers 200 with nothing
  const net = require('node:net');
  const http = require('node:http');
  const silent = net.createServer(() => {});
  const empty = http.createServer((req, res) => res.end());
  const busy = http.createServer((req, res) => {
    res.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': '7' });
    res.end('{"error":{"code":"busy","message":"the store is busy"}}');
  });
  await Promise.all([silent, empty, busy].map((s) => new Promise((r) => s.listen(0, '127.0.0.1', r))));
  t.after(() => { silent.close(); empty.close(); busy.close(); });
  const slow = new Client({ url: `http://127.0.0.1:${silent.address().port}`, token: 'x', timeoutMs: 300 });
  await assert.rejects(slow.charge('a', 1), { status: 0, code: 'timeout', message: /no answer within 300 ms/ });
  const blank = new Client({ url: `http://127.0.0.1:${empty.address().port}`, token: 'x' });
  await assert.rejects(blank.checkBudget('a', 1), { code: 'bad_response', message: /is empty$/ });
  // a 503's Retry-After is kept, as a 429's is
  const b503 = new Client({ url: `http://127.0.0.1:${busy.address().port}`, token: 'x' });
  await assert.rejects(b503.charge('a', 1), { status: 503, code: 'busy', retryAfter: 7 });
});
