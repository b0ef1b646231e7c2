'use strict';
// The status that deductBudget, initializeBudget and resetSession/resetDaily return is the state
// their own change left: it is read in the change's transaction, so another process's change
// cannot come in between.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const ab = require('..');
const { tmpDir } = require('../testlib/helpers');

// Resets the session of AGENT in a loop until the file STOP exists; prints how many it made.
const RESETTER = `
  const ab = require(${JSON.stringify(path.resolve(__dirname, '..'))});
  const fs = require('fs');
  const [url, agent, stop] = process.argv.slice(1);
  const s = ab.open(url);
  let n = 0;
  while (!fs.existsSync(stop)) { s.resetSession(agent); n++; }
  s.close();
  process.stdout.write(String(n));`;

test('deductBudget answers with the state its own deduct left, beside another process', async (t) => {
  const dir = tmpDir(t);
  const url = `sqlite:${path.join(dir, 'atomic.db')}?sync=normal`;
  const stop = path.join(dir, 'stop');
  const store = ab.open(url);
  t.after(() => store.close());
  store.initializeBudget('a', 'r', 1e15, 1e6);
  const child = spawn(process.execPath, ['-e', RESETTER, url, 'a', stop], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (b) => { out += b; });
  child.stderr.on('data', (b) => { err += b; });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  // wait until the other process resets, so that the deducts below run beside it
  let before = store.deductBudget('a', 700, 300).session_tokens_used;
  for (let k = 0; k < 10000 && store.getBudgetStatus('a').session_tokens_used >= before; k++) {
    before = store.deductBudget('a', 700, 300).session_tokens_used;
  }
  // each deduct adds 1000 tokens; a reset sets them to 0. Whatever the other process did before
  // or after, the state this deduct left holds this deduct's 1000 tokens. At least 3,000 deducts
  // and until 20 resets came in between (a reset seen as a drop): this loop's writes, back to
  // back, can keep the other process from the lock for long (on a loaded machine it got 2 resets
  // in 3,000 deducts), so it pauses 2 ms every 100 deducts.
  let deducts = 0;
  let seen = 0;
  let last = 0;
  const bad = [];
  for (let k = 0; k < 200000 && (deducts < 3000 || seen < 20); k++) {
    const s = store.deductBudget('a', 700, 300);
    deducts++;
    if (s.session_tokens_used < 1000 || s.session_tokens_used % 1000 !== 0) bad.push(s.session_tokens_used);
    if (s.session_tokens_used <= last) seen++;
    last = s.session_tokens_used;
    if (deducts % 100 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
  }
  fs.writeFileSync(stop, '');
  const code = await exited;
  assert.equal(code, 0, `the resetting process failed: ${err}`);
  const resets = Number(out);
  t.diagnostic(`${deducts} deducts beside ${resets} resets (${seen} seen between deducts); ${bad.length} answers without their own deduct`);
  assert.ok(resets >= 20, `the other process reset ${resets} times: too few for the test to mean anything`);
  assert.deepEqual(bad.slice(0, 10), [], `${bad.length} of ${deducts} statuses did not hold their own deduct`);
});
