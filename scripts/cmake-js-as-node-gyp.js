#!/usr/bin/env node
// prebuildify runs `<node-gyp> rebuild --target=... --devdir=...`; this stands in for node-gyp and
// builds the addon with cmake-js instead (N-API only, so the node-gyp arguments don't matter).
'use strict';
const { spawnSync } = require('child_process');
const path = require('path');

const root = path.resolve(__dirname, '..');
const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
const r = spawnSync(process.execPath, [cmakeJs, 'rebuild'], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
