#!/usr/bin/env node
// The fixed cost of one run, side by side with onnxruntime-node: a one-Relu model on 16 floats, so
// the time is all dispatch (checks, the hop to a native thread and back, output objects). Also
// the synchronous part of engine.run, the time the JS thread spends before it gets the promise.
//   node bench/kernels/run-overhead.bench.mjs [--threads 2]
import { createRequire } from 'node:module';
import path from 'node:path';

import { singleOpModel, timeBoth } from './single-op.mjs';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const args = process.argv.slice(2);
const threads = Number(args.includes('--threads') ? args[args.indexOf('--threads') + 1] : 2);

const model = singleOpModel({ op: 'Relu', inputs: [['x', [1, 16]]] });
const data = new Float32Array(16).fill(0.5);
const { hs, ort: ortMs } = await timeBoth(model, { x: [[1, 16], data] }, threads);

const { Engine } = require(path.join(root, 'lib/index.js'));
const engine = await Engine.load(model, { threads, cacheDir: false });
const feeds = { x: { type: 'float32', dims: [1, 16], data } };
const sync = [];
for (let i = 0; i < 22000; i++) {
  const t0 = performance.now();
  const pending = engine.run(feeds);
  if (i >= 2000) sync.push(performance.now() - t0);
  await pending;
}
engine.dispose();
sync.sort((a, b) => a - b);
console.log(`| per run (${threads} threads) | highservice us | onnxruntime-node us |\n|---|---:|---:|`);
console.log(`| one Relu on 16 floats, median | ${(hs * 1000).toFixed(1)} | ${(ortMs * 1000).toFixed(1)} |`);
console.log(`| of which on the JS thread before the promise, median | ${(sync[sync.length >> 1] * 1000).toFixed(1)} | all of it (its binding runs the model on the JS thread, in a setImmediate) |`);
