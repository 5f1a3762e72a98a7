#!/usr/bin/env node
// `npm run prebuild`: prebuilds/linux-x64/*.node with prebuildify, built by cmake-js (with the CUDA
// backend compiled in when nvcc is present: cudart is static and the driver is found at run time,
// so one binary serves machines with and without a GPU).
'use strict';
const { spawnSync } = require('child_process');
const path = require('path');

const root = path.resolve(__dirname, '..');
const prebuildify = require.resolve('prebuildify/bin.js');
const r = spawnSync(
  process.execPath,
  [prebuildify, '--napi', '--strip', '--node-gyp', path.join(__dirname, 'cmake-js-as-node-gyp.js')],
  { cwd: root, stdio: 'inherit' },
);
process.exit(r.status ?? 1);
