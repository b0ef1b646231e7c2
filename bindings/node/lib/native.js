'use strict';
// native.js — loads the addon (build/Release/agentbudget.node, built by `npm install`) and hands
// it the two scratch arrays that status results are written to (see src/addon.c).
const path = require('path');

const SLOTS = [
  'SESSION_TOKENS_USED', 'SESSION_TOKENS_LIMIT', 'SESSION_TOKENS_REMAINING', 'SESSION_STARTED_AT',
  'DAILY_COST_USED', 'DAILY_COST_LIMIT', 'DAILY_COST_REMAINING', 'DAY_START', 'LAST_RESET',
  'OPERATIONS_BLOCKED', 'CREATED_AT', 'HOLDS_OPEN', 'HOLDS_TOKENS', 'HOLDS_COST',
];

function load() {
  const root = path.resolve(__dirname, '..');
  const tried = [];
  for (const dir of ['build/Release', 'build/Debug']) {
    const file = path.join(root, dir, 'agentbudget.node');
    try {
      return require(file);
    } catch (e) {
      if (e.code !== 'MODULE_NOT_FOUND') throw e;
      tried.push(file);
    }
  }
  const e = new Error(`agentbudget: the native addon is not built (looked for ${tried.join(', ')}); ` +
    `run \`npm install\` in ${root}`);
  e.code = 'AB_ENOTBUILT';
  throw e;
}

const native = load();
const f64 = new Float64Array(SLOTS.length);
const i64 = new BigInt64Array(SLOTS.length);
if (native.setScratch(f64, i64) !== SLOTS.length) {
  throw new Error('agentbudget: the addon and lib/native.js disagree on the status layout; rebuild');
}

const slot = Object.fromEntries(SLOTS.map((name, k) => [name, k]));
module.exports = { native, f64, i64, slot };
