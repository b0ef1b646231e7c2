'use strict';
// The package imported as an ES module: its functions are named exports (Node.js finds them only
// when module.exports is an object of identifiers), as index.d.ts declares.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const path = require('node:path');

test('import { checkBudget, open, Client } from "agentbudget" works in an ES module', () => {
  const url = require('node:url').pathToFileURL(path.join(__dirname, '..', 'index.js')).href;
  const src = `import { initializeBudget, checkBudget, deductBudget, getBudgetStatus, resetSession,
    resetDaily, checkPermission, checkPermissionSync, reserve, commit, release, charge, check, reset,
    setBudget, setRole, open, setDefaultStore, defaultStore, Store, Client, version } from ${JSON.stringify(url)};
    const s = open('memory:');
    s.initializeBudget('esm', 'r', 100000, 10);
    console.log([typeof checkBudget, typeof Client, typeof version, s.checkBudget('esm', 5000).allowed].join(' '));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', src], { encoding: 'utf8' });
  assert.equal(out.trim(), 'function function string true');
});
