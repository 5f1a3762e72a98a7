#!/usr/bin/env node
// The one list of native sources, read by CMakeLists.txt and binding.gyp alike:
// `node scripts/native-sources.js cpu` prints the C++ sources, `cuda` the CUDA ones,
// separated by ';' (CMake) or spaces (`--gyp`).
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const dirs = {
  cpu: ['native/core', 'native/kernels/cpu', 'native/backends/cpu', 'native/napi'],
  cuda: ['native/kernels/cuda', 'native/backends/cuda'],
};
const exts = { cpu: ['.cpp'], cuda: ['.cu', '.cpp'] };

function walk(dir, out) {
  const abs = path.join(root, dir);
  if (!fs.existsSync(abs)) return out;
  for (const entry of fs.readdirSync(abs, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) walk(rel, out);
    else out.push(rel);
  }
  return out;
}

const kind = process.argv[2];
if (!dirs[kind]) {
  console.error('usage: native-sources.js cpu|cuda [--gyp]');
  process.exit(2);
}
const files = dirs[kind].flatMap((d) => walk(d, [])).filter((f) => exts[kind].some((e) => f.endsWith(e)));
process.stdout.write(files.join(process.argv.includes('--gyp') ? ' ' : ';'));
