#!/usr/bin/env node
// Regenerates the example models under examples/ from the test fixtures (the models are ours:
// random weights, written by test/fixtures/models.ts). Run after changing the fixtures.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const out = fs.mkdtempSync(path.join(root, 'node_modules', '.hs-fixtures-'));
execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '--outDir', out, '--module', 'commonjs',
  '--moduleResolution', 'node', '--target', 'es2022', '--esModuleInterop', '--skipLibCheck', path.join(root, 'test/fixtures/models.ts')], { stdio: 'inherit' });
const require = createRequire(path.join(root, 'package.json'));
const { cnnModel, transformerModel } = require(path.join(out, 'models.js'));
const write = (rel, bytes) => {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, bytes);
  console.log(`${rel}: ${bytes.length} bytes`);
};
write('examples/models/cnn/1/model.onnx', cnnModel());
write('examples/models/encoder/1/model.onnx', transformerModel());
fs.rmSync(out, { recursive: true, force: true });
