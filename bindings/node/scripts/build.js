'use strict';
// build.js — `npm install` runs this: node-gyp rebuild against the headers of the Node.js that
// runs it (<prefix>/include/node, e.g. /usr/include/node from Debian's libnode-dev or
// NodeSource's nodejs), so that node-gyp never downloads headers. node-gyp itself is the one
// npm bundles (npm puts it on PATH for lifecycle scripts and names it in npm_config_node_gyp),
// else one on PATH.
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const prefix = path.resolve(path.dirname(process.execPath), '..');
const args = ['rebuild'];
if (process.env.npm_config_nodedir) {
  args.push(`--nodedir=${process.env.npm_config_nodedir}`);
} else if (fs.existsSync(path.join(prefix, 'include/node/node_api.h')) &&
           fs.existsSync(path.join(prefix, 'include/node/common.gypi'))) {
  args.push(`--nodedir=${prefix}`);
} else {
  process.stderr.write(`error: no Node.js headers in '${prefix}/include/node' ` +
    '(on Debian: apt-get install libnode-dev; or set npm_config_nodedir)\n');
  process.exit(1);
}
if (process.env.AGENTBUDGET_DEBUG_BUILD) args.push('--debug');

let cmd = process.env.npm_config_node_gyp;
let cmdArgs = args;
if (cmd && fs.existsSync(cmd)) {
  cmdArgs = [cmd, ...args];
  cmd = process.execPath;
} else {
  cmd = 'node-gyp';
}
const r = spawnSync(cmd, cmdArgs, { stdio: 'inherit', cwd: path.resolve(__dirname, '..') });
if (r.error) {
  process.stderr.write(`error: cannot run node-gyp: ${r.error.message} ` +
    '(it comes with npm; on Debian: apt-get install npm)\n');
  process.exit(1);
}
process.exit(r.status === null ? 1 : r.status);
