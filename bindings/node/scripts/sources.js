'use strict';
// sources.js — for binding.gyp: prints the C library's sources (../../src/lib/*.c, relative to
// this package), or with --include-dirs the header directories they need beside include/:
// libpq's (store_pg.c) and, if not in the default path, OpenSSL's (crypto.c). Both libraries
// are opened with dlopen() at run time, so only their headers are needed to build.
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const lib = path.resolve(root, '../../src/lib');

function pkgConfigIncludes(pkg) {
  try {
    const out = execFileSync('pkg-config', ['--cflags-only-I', pkg], { encoding: 'utf8' });
    return out.split(/\s+/).filter((f) => f.startsWith('-I')).map((f) => f.slice(2));
  } catch {
    return [];
  }
}

if (process.argv.includes('--include-dirs')) {
  const dirs = [...pkgConfigIncludes('libpq'), ...pkgConfigIncludes('libcrypto')];
  if (!dirs.length && fs.existsSync('/usr/include/postgresql')) dirs.push('/usr/include/postgresql');
  process.stdout.write(dirs.join(' ') + '\n');
} else {
  if (!fs.existsSync(lib)) {
    process.stderr.write(`error: cannot find the library sources in '${lib}'\n`);
    process.exit(1);
  }
  const files = fs.readdirSync(lib).filter((f) => f.endsWith('.c')).sort();
  process.stdout.write(files.map((f) => path.relative(root, path.join(lib, f))).join(' ') + '\n');
}
