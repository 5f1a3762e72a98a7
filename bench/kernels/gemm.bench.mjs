#!/usr/bin/env node
// Which GEMM the CPU kernels use, chosen by measurement: builds bench/kernels/gemm_bench.cpp (our
// GEMM with each micro-kernel, plus OpenBLAS and Eigen when their Debian packages are installed)
// and times onnxruntime-node's MatMul (MLAS; B a constant initializer, so prepacked) on the same
// shapes and thread count. Prints a markdown table of medians in milliseconds.
//   node bench/kernels/gemm.bench.mjs [--threads 2] [--out bench/results/gemm-choice-table.md]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node');
const { onnx } = require('onnx-proto');
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const args = process.argv.slice(2);
const opt = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
const threads = Number(opt('--threads', '2'));

// [label, M, K, N]: the encoder example (d_model 64, seq 128, batch 1 and 8), a BERT-base layer,
// and the convolutions of the CNN and PP-OCRv4 det examples as GEMMs (M = out channels,
// K = in channels x kernel area, N = output pixels).
const shapes = [
  ['encoder proj b1', 128, 64, 64],
  ['encoder ffn-up b1', 128, 64, 256],
  ['encoder ffn-down b1', 128, 256, 64],
  ['encoder proj b8', 1024, 64, 64],
  ['encoder ffn-up b8', 1024, 64, 256],
  ['encoder ffn-down b8', 1024, 256, 64],
  ['attention scores', 128, 16, 128],
  ['bert-base qkv', 128, 768, 2304],
  ['bert-base ffn-up b8', 1024, 768, 3072],
  ['cnn conv3x3 16ch 64x64', 16, 144, 4096],
  ['cnn conv3x3 64ch 16x16', 64, 576, 256],
  ['ocr conv3x3 s2 stem', 16, 27, 25600],
  ['ocr 1x1 48->96 80x80', 96, 48, 6400],
  ['ocr 1x1 192->384 20x20', 384, 192, 400],
  ['ocr 1x1 384->96 10x10', 96, 384, 100],
  ['ocr neck 3x3 96->24 80x80', 24, 864, 6400],
];

function buildBench() {
  const dir = path.join(os.tmpdir(), 'hs-gemm-bench');
  fs.mkdirSync(dir, { recursive: true });
  const inc = ['-I', path.join(root, 'native/include'), '-I', path.join(root, 'native')];
  const sources = ['gemm.cpp', 'gemm_kernel_avx512.cpp', 'gemm_kernel_avx2.cpp', 'gemm_kernel_generic.cpp']
    .map((f) => path.join(root, 'native/kernels/cpu', f))
    .concat(['thread_pool.cpp', 'work_queue.cpp'].map((f) => path.join(root, 'native/core', f)));
  // Our sources exactly as the addon compiles them (no -march); only the bench main gets the
  // flags Eigen needs to vectorise, since Eigen picks its instruction set at compile time.
  const objects = sources.map((src) => {
    const obj = path.join(dir, `${path.basename(src, '.cpp')}.o`);
    execFileSync('g++', ['-std=gnu++17', '-O3', '-c', ...inc, src, '-o', obj], { stdio: 'inherit' });
    return obj;
  });
  const mainFlags = [];
  const libs = ['-lpthread'];
  const found = [];
  if (fs.existsSync('/usr/include/x86_64-linux-gnu/openblas-pthread/cblas.h')) {
    mainFlags.push('-DHS_BENCH_OPENBLAS', '-I/usr/include/x86_64-linux-gnu/openblas-pthread');
    libs.push('-L/usr/lib/x86_64-linux-gnu/openblas-pthread', '-Wl,-rpath,/usr/lib/x86_64-linux-gnu/openblas-pthread', '-lopenblas');
    found.push('openblas');
  }
  if (fs.existsSync('/usr/include/eigen3/Eigen/Core')) {
    mainFlags.push('-DHS_BENCH_EIGEN', '-I/usr/include/eigen3', '-march=native', '-fopenmp');
    libs.push('-fopenmp');
    found.push('eigen');
  }
  const exe = path.join(dir, 'gemm_bench');
  execFileSync('g++', ['-std=gnu++17', '-O3', ...inc, ...mainFlags, path.join(root, 'bench/kernels/gemm_bench.cpp'),
    ...objects, ...libs, '-o', exe], { stdio: 'inherit' });
  console.error(`built ${exe} (extra candidates: ${found.join(', ') || 'none'})`);
  return exe;
}

function runNative(exe, kernel) {
  const env = { ...process.env, OMP_NUM_THREADS: String(threads) };
  if (kernel) env.HS_GEMM_KERNEL = kernel;
  const out = execFileSync(exe, [String(threads), ...shapes.map(([, m, k, n]) => `${m},${k},${n}`)], { env });
  return out.toString().trim().split('\n').map((l) => JSON.parse(l));
}

function matmulModel(M, K, N) {
  const rand = Float32Array.from({ length: K * N }, () => Math.random() * 2 - 1);
  const info = (name, dims) => ({ name, type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
  const model = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'matmul',
      node: [{ opType: 'MatMul', input: ['a', 'b'], output: ['c'], name: 'mm' }],
      input: [info('a', [M, K])],
      output: [info('c', [M, N])],
      initializer: [{ name: 'b', dataType: 1, dims: [K, N], rawData: new Uint8Array(rand.buffer) }],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

async function timeOrt(M, K, N) {
  const session = await ort.InferenceSession.create(matmulModel(M, K, N), {
    intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all',
  });
  const feeds = { a: new ort.Tensor('float32', Float32Array.from({ length: M * K }, () => Math.random()), [M, K]) };
  for (let i = 0; i < 5; i++) await session.run(feeds);
  let t0 = performance.now();
  await session.run(feeds);
  const reps = Math.max(1, Math.min(2000, Math.floor(20 / Math.max(performance.now() - t0, 1e-3))));
  const samples = [];
  for (let s = 0; s < 11; s++) {
    t0 = performance.now();
    for (let r = 0; r < reps; r++) await session.run(feeds);
    samples.push((performance.now() - t0) / reps);
  }
  await session.release();
  return samples.sort((a, b) => a - b)[5];
}

const exe = buildBench();
const results = new Map();  // shape key -> { candidate: ms }
const add = (rows, suffix = '') => {
  for (const r of rows) {
    const row = results.get(r.shape) ?? {};
    row[r.candidate + suffix] = r.ms;
    if (r.err > 1e-4) row[`${r.candidate}${suffix} error`] = r.err;
    results.set(r.shape, row);
  }
};
add(runNative(exe));
add(runNative(exe, 'avx2'));
add(runNative(exe, 'generic'));
for (const [, m, k, n] of shapes) results.get(`${m},${k},${n}`)['onnxruntime MatMul'] = await timeOrt(m, k, n);

const candidates = [...new Set([...results.values()].flatMap((r) => Object.keys(r)))].filter((c) => !c.includes('error'));
const lines = [
  `${threads} thread(s), ${os.cpus()[0].model}, median ms per GEMM (lower is better); onnxruntime includes its ~per-run overhead`,
  '',
  `| shape | M,K,N | ${candidates.join(' | ')} |`,
  `|---|---|${candidates.map(() => '---:').join('|')}|`,
];
for (const [label, m, k, n] of shapes) {
  const row = results.get(`${m},${k},${n}`);
  lines.push(`| ${label} | ${m},${k},${n} | ${candidates.map((c) => (row[c] === undefined ? '-' : row[c].toFixed(4))).join(' | ')} |`);
}
const errors = [...results.entries()].flatMap(([s, r]) => Object.entries(r).filter(([c]) => c.includes('error')).map(([c, e]) => `${s} ${c} ${e}`));
if (errors.length) lines.push('', `numerical errors above 1e-4: ${errors.join('; ')}`);
const table = lines.join('\n');
console.log(table);
const out = opt('--out');
if (out) fs.writeFileSync(out, `${table}\n`);
