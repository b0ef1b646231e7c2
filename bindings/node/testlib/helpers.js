'use strict';
// helpers.js — for the tests: temporary directories that go away, and agentbudgetd started on
// a free loopback port with its bootstrap admin token read from its stdout.
const fs = require('fs');
const os = require('os');
const path = require('path');
const net = require('net');
const { spawn } = require('child_process');

// `cleanup` registers what to do at the end: a test context (its .after) or a function such as
// node:test's top-level after.
function atEnd(cleanup, fn) {
  if (typeof cleanup === 'function') cleanup(fn);
  else if (cleanup) cleanup.after(fn);
}

function tmpDir(cleanup) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-node-'));
  atEnd(cleanup, () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function sqliteUrl(cleanup, name = 'budget.db') {
  return `sqlite:${path.join(tmpDir(cleanup), name)}`;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// The daemon binary: $AGENTBUDGETD, else the CMake build directories of this checkout.
function daemonPath() {
  if (process.env.AGENTBUDGETD) return process.env.AGENTBUDGETD;
  const root = path.resolve(__dirname, '../../..');
  for (const dir of ['build-node', 'build']) {
    const p = path.join(root, dir, 'agentbudgetd');
    if (fs.existsSync(p)) return p;
  }
  return null;
}

// Starts agentbudgetd on a fresh SQLite store; resolves to {url, adminToken, proc, stop()}.
async function startDaemon(cleanup) {
  const bin = daemonPath();
  if (!bin) throw new Error('agentbudgetd not found: build it (cmake --build build-node) or set AGENTBUDGETD');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-node-d-'));
  const port = await freePort();
  const proc = spawn(bin, ['--listen', `127.0.0.1:${port}`, '--store', `sqlite:${path.join(dir, 'd.db')}`,
    '--no-access-log'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (b) => { stderr += b; });
  const adminToken = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`agentbudgetd gave no admin token in 10 s; stderr: ${stderr}`)), 10000);
    proc.stdout.on('data', (b) => {
      out += b;
      // "admin token t_… (shown once; only its hash is stored):" then the secret on its own line
      const m = /admin token t_[0-9a-f]+ \(shown once[^\n]*\n(abt_[0-9a-f_]+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`agentbudgetd exited (${code}) before it was ready; stderr: ${stderr}`));
    });
  });
  proc.removeAllListeners('exit');
  // stops the daemon (SIGTERM: it finishes what is in flight) and removes its store
  const stop = () => new Promise((resolve) => {
    const done = (code) => {
      fs.rmSync(dir, { recursive: true, force: true });
      resolve(code);
    };
    if (proc.exitCode !== null || proc.signalCode !== null) return done(proc.exitCode);
    proc.once('exit', done);
    proc.kill('SIGTERM');
  });
  atEnd(cleanup, stop);
  return { url: `http://127.0.0.1:${port}`, adminToken, proc, stop };
}

module.exports = { tmpDir, sqliteUrl, freePort, daemonPath, startDaemon };
