'use strict';
// Bad arguments throw, as the original's validation did: TypeError for a wrong type,
// RangeError for a value out of range, each message naming the argument and the rule; and the
// store is unchanged.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const ab = require('..');

const store = ab.open('memory:');
store.initializeBudget('a', 'r', 1000, 1);

const cases = [
  // [call, error class, message pattern]
  [() => store.initializeBudget(undefined, 'r', 1000, 1), TypeError, /^agentId: must be a non-empty string, got undefined$/],
  [() => store.initializeBudget('', 'r', 1000, 1), RangeError, /^agentId: must be a non-empty string/],
  [() => store.initializeBudget('a', null, 1000, 1), TypeError, /^role: /],
  [() => store.initializeBudget('a', '', 1000, 1), RangeError, /^role: /],
  [() => store.initializeBudget('a', 'r', '1000', 1), TypeError, /^sessionTokenLimit: must be a number, got the string "1000"$/],
  [() => store.initializeBudget('a', 'r', -1, 1), RangeError, /^sessionTokenLimit: must be a whole number from 1 to 9007199254740991 \(2 \*\* 53 - 1\)/],
  [() => store.initializeBudget('a', 'r', 0, 1), RangeError, /^sessionTokenLimit: /],
  [() => store.initializeBudget('a', 'r', 1.5, 1), RangeError, /^sessionTokenLimit: /],
  [() => store.initializeBudget('a', 'r', NaN, 1), RangeError, /^sessionTokenLimit: /],
  [() => store.initializeBudget('a', 'r', 1000, -1), RangeError, /^dailyCostLimit: /],
  [() => store.initializeBudget('a', 'r', 1000, 0), RangeError, /^dailyCostLimit: /],
  [() => store.initializeBudget('a', 'r', 1000, Infinity), RangeError, /^dailyCostLimit: /],
  [() => store.initializeBudget('a', 'r', 1000, 1e12), RangeError, /^dailyCostLimit: /],
  [() => store.initializeBudget('a', 'r', 1000, '1e3'), RangeError, /^dailyCostLimit: must be a decimal amount/],
  [() => store.initializeBudget('a', 'r', 1000, {}), TypeError, /^dailyCostLimit: /],
  [() => store.initializeBudget('bad agent id', 'r', 1000, 1), RangeError, /budget path 'bad agent id': segments of/],
  [() => store.checkBudget(null, 5), TypeError, /^agentId: /],
  [() => store.checkBudget('a'), TypeError, /^estimatedTokens: must be a number, got undefined$/],
  [() => store.checkBudget('a', -5), RangeError, /^estimatedTokens: must be a whole number from 0 to 9007199254740991 \(2 \*\* 53 - 1\), got number -5$/],
  // whole, but past where a number is exact: the message says where that is
  [() => store.checkBudget('a', 2 ** 53), RangeError, /^estimatedTokens: must be a whole number from 0 to 9007199254740991 \(2 \*\* 53 - 1\), got number 9007199254740992$/],
  [() => store.checkBudget('a', 2 ** 60), RangeError, /^estimatedTokens: /],
  [() => store.checkBudget('a/../b', 5), RangeError, /budget path/],
  [() => store.deductBudget('a', '10', 5), TypeError, /^inputTokens: /],
  [() => store.deductBudget('a', 10, -5), RangeError, /^outputTokens: /],
  [() => store.deductBudget('a', 10, 5, 'model'), TypeError, /^options: must be an object/],
  [() => store.getBudgetStatus(7), TypeError, /^agentId: /],
  [() => store.resetSession(''), RangeError, /^agentId: /],
  [() => store.reset('a', ['week']), RangeError, /^windows: /],
  [() => store.reserve('a', { input: 1, outptu: 2 }), TypeError, /^usage\.outptu: must be one of input, output/],
  [() => store.reserve('a', { input: -1 }), RangeError, /^usage\.input: /],
  [() => store.reserve('a', 'lots'), TypeError, /^usage: /],
  [() => store.reserve('a', 10, { ttl_s: 0 }), RangeError, /^options\.ttl_s: /],
  [() => store.reserve('a', 10, { ttl_s: 10 ** 7 }), RangeError, /ttl/],
  [() => store.commit('', { input: 1 }), RangeError, /^holdId: /],
  [() => store.commit('h_nope', { input: 1 }), Error, /hold/],
  [() => store.setBudget('a', { limits: ['usd/week=1'] }), RangeError, /^spec\.limits\[0\]: 'usd\/week=1' is not a limit \(METRIC\/WINDOW=AMOUNT with METRIC tokens, usd or requests and WINDOW session, day, month or total/],
  [() => store.setBudget('a', { limits: ['usd/day=1', 'usd/day=-1'] }), RangeError, /^spec\.limits\[1\]: 'usd\/day=-1': the amount must be USD as a decimal with at most 9 decimals, no sign/],
  [() => store.setRole('r', { limits: ['tokens/day=1.5'] }), RangeError, /^spec\.limits\[0\]: 'tokens\/day=1\.5': the amount must be a whole number/],
  // a long spec is quoted in part, and the rule comes whole (it was cut off)
  [() => store.setBudget('a', { limits: ['usd/day=' + '1'.repeat(400) + 'x'] }), RangeError, /^spec\.limits\[0\]: 'usd\/day=1{112}…': the amount must be USD .* \(e\.g\. 10 or 0\.50\)$/],
  [() => store.setRole('r', { limits: ['tokens/' + '\u00e9'.repeat(100) + '=1'] }), RangeError, /^spec\.limits\[0\]: 'tokens\/(\u00e9){56}…' is not a limit .* e\.g\. usd\/day=10\)$/],
  [() => store.setBudget('a', { limits: ['usd/day=1', 'usd/day=2'] }), RangeError, /^spec\.limits: usd\/day given twice/],
  [() => store.setBudget('a', { limits: ['usd/day=1'], unset: ['usd/day'] }), RangeError, /^spec\.unset: usd\/day given twice/],
  [() => store.setRole('r', { limits: ['usd/day=1', 'tokens/day=5', 'usd/day=2'] }), Error, /usd\/day given twice/],
  // yes-or-no options are booleans: 'no' is truthy, and made an admin role or dropped limits
  [() => store.setRole('r', { admin: 'no' }), TypeError, /^spec\.admin: must be true or false, got the string "no"$/],
  [() => store.setBudget('a', { limits: ['usd/day=6'], replace_limits: 'false' }), TypeError, /^spec\.replace_limits: must be true or false/],
  [() => store.setBudget('a', { no_role_defaults: 1 }), TypeError, /^spec\.no_role_defaults: must be true or false/],
  // a NUL in a list's string: refused, not cut there ('Read\0*' was stored as 'Read')
  [() => store.setRole('r', { allow_tools: ['Bash(git *)', 'Read\0*'] }), RangeError, /^spec\.allow_tools\[1\]: must not contain a NUL character$/],
  [() => store.setBudget('a', { limits: ['usd/day=1\0junk'] }), RangeError, /^spec\.limits\[0\]: must not contain a NUL character$/],
  // a misspelt option is refused, not ignored (a budget without limits, a role that denies
  // nothing, a charge at another model's price)
  [() => store.setBudget('a', { limit: ['usd/day=1'] }), TypeError, /^spec\.limit: must be one of role, model, limits, /],
  [() => store.setRole('r', { deny_tool: ['Bash*'] }), TypeError, /^spec\.deny_tool: must be one of limits, allow_tools, /],
  [() => store.deductBudget('a', 10, 5, { modle: 'claude-opus-4-1' }), TypeError, /^options\.modle: must be one of model, key/],
  [() => store.reserve('a', 10, { ttl: 5 }), TypeError, /^options\.ttl: must be one of model, key, ttl_s/],
  [() => store.check('a', 10, { key: 'k' }), TypeError, /^options\.key: must be one of model \(unknown field\)/],
  // over-long in bytes but cut short of full by N-API at a character's edge: refused, not cut
  [() => store.initializeBudget('a', 'a' + '\u{1F600}'.repeat(32), 1000, 1), RangeError, /^role: at most 127 bytes$/],
  [() => store.charge('a', 1, { model: '\u00e9'.repeat(200) }), RangeError, /^options\.model: at most 127 bytes$/],
  // a native check names the option as the caller wrote it (it said model:, key:)
  [() => store.deductBudget('a', 1, 1, { model: 'x\0' }), RangeError, /^options\.model: must not contain a NUL character$/],
  [() => store.charge('a', 1, { key: 'k\0' }), RangeError, /^options\.key: must not contain a NUL character$/],
  [() => store.setBudget('a', { model: 'm\0' }), RangeError, /^spec\.model: must not contain a NUL character$/],
  [() => store.setBudget('a', { role: 'r'.repeat(200) }), RangeError, /^spec\.role: at most 127 bytes$/],
  // an empty list of windows is an array, and the rule says it must not be empty
  [() => store.reset('a', []), TypeError, /^windows: must be 'all' or a non-empty array of 'session', 'day', 'month'/],
  [() => ab.open(42), TypeError, /^storeUrl: /],
  [() => ab.open(''), RangeError, /^storeUrl: must be a store URL/],
  [() => ab.open('ftp://nowhere'), RangeError, /ftp/],
];

test('bad arguments throw TypeError or RangeError with a clear message', () => {
  const before = store.getBudgetStatus('a');
  for (const [fn, cls, re] of cases) {
    assert.throws(fn, (e) => {
      assert.ok(e instanceof cls, `${fn}: ${e.constructor.name} is a ${cls.name}: ${e.message}`);
      assert.match(e.message, re, `${fn}`);
      return true;
    });
  }
  const after = store.getBudgetStatus('a');
  assert.deepEqual({ ...after, operations_blocked: 0 }, { ...before, operations_blocked: 0 }, 'nothing changed');
});

test('errors from the library carry .code', () => {
  assert.throws(() => store.deductBudget('ghost', 1, 1), (e) => e.code === 'AB_ENOTFOUND' && /no budget 'ghost'/.test(e.message));
  assert.throws(() => store.commit('h_00000000000000000000000000000000', 1), (e) => e.code === 'AB_ENOTFOUND');
  assert.throws(() => store.charge('a', 10, { model: 'not-a-model' }), (e) => e.code === 'AB_EUNKNOWNMODEL');
});

test('money: a float limit is taken to the nano-USD, a string exactly', () => {
  const s = ab.open('memory:');
  assert.equal(s.initializeBudget('x', 'r', 1, 0.1 + 0.2).daily_cost_limit_nusd, '300000000');
  assert.equal(s.initializeBudget('x', 'r', 1, '9223372036.854775807').daily_cost_limit_nusd, '9223372036854775807');
  assert.equal(s.initializeBudget('x', 'r', 1, 9.52).daily_cost_limit, 9.52);
  assert.equal(s.initializeBudget('x', 'r', 1, 0.000000001).daily_cost_limit_nusd, '1');
  // the number's shortest decimal, not its binary expansion (toFixed(9): 20000000.100000001)
  assert.equal(s.initializeBudget('x', 'r', 1, 20000000.1).daily_cost_limit_nusd, '20000000100000000');
  assert.equal(s.initializeBudget('x', 'r', 1, 9223372036.85).daily_cost_limit_nusd, '9223372036850000000');
  assert.equal(s.initializeBudget('x', 'r', 1, 1234567.1234567891).daily_cost_limit_nusd, '1234567123456789');
  // half up on the shortest decimal, both ways alike (toFixed(9) gave 1 and 3: binary halves)
  assert.equal(s.initializeBudget('x', 'r', 1, 1.5e-9).daily_cost_limit_nusd, '2');
  assert.equal(s.initializeBudget('x', 'r', 1, 2.5e-9).daily_cost_limit_nusd, '3');
  assert.throws(() => s.initializeBudget('x', 'r', 1, 4e-10), { name: 'RangeError', message: /at least 0\.000000001 USD/ });
  // the most is INT64_MAX nano-USD, said as such, and the number just past it is refused here
  // (it passed a check against the double 9223372036.854776 and failed in the library)
  for (const past of [9223372036.854776, '9223372036.854775808', 1e21]) {
    assert.throws(() => s.initializeBudget('x', 'r', 1, past),
      { name: 'RangeError', message: /^dailyCostLimit: must be an amount of USD <= 9223372036\.854775807, got/ });
  }
  s.close();
});

test('setDefaultStore closes the default it opened, not a Store it was given', () => {
  const first = ab.setDefaultStore('memory:');
  const given = ab.open('memory:');
  assert.equal(ab.setDefaultStore(given), given);
  assert.throws(() => first.getBudgetStatus('x'), { code: 'AB_ECLOSED' });
  ab.setDefaultStore('memory:');
  assert.equal(given.getBudgetStatus('x'), null, 'the given Store is still open');
  given.close();
});
