#!/usr/bin/env node
// MatMulInteger as dynamically quantised transformers run it (uint8 activations with a zero point,
// constant int8 weights of 7 bits, as onnxruntime's quantiser writes them for AVX2 hosts), in
// highservice and onnxruntime-node side by side: median ms per run, alternating.
//   node bench/kernels/int-matmul.bench.mjs [--threads 2]
import { createRequire } from 'node:module';

import { timeBoth } from './single-op.mjs';

const require = createRequire(import.meta.url);
const { onnx } = require('onnx-proto');
const args = process.argv.slice(2);
const threads = Number(args.includes('--threads') ? args[args.indexOf('--threads') + 1] : 2);

function matmulInteger(m, k, n) {
  const weights = Int8Array.from({ length: k * n }, (_, i) => ((i * 2654435761) >>> 25) - 64);  // [-64, 63]
  const raw = (a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const info = (name, type, dims) => ({ name, type: { tensorType: { elemType: type, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
  return onnx.ModelProto.encode(onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'mmi',
      node: [{ opType: 'MatMulInteger', input: ['a', 'w', 'az', 'wz'], output: ['y'] }],
      input: [info('a', 2, [m, k])],
      output: [info('y', 6, [m, n])],
      initializer: [
        { name: 'w', dataType: 3, dims: [k, n], rawData: raw(weights) },
        { name: 'az', dataType: 2, dims: [], rawData: Uint8Array.of(128) },
        { name: 'wz', dataType: 3, dims: [], rawData: Uint8Array.of(0) },
      ],
    },
  })).finish();
}

console.log(`| A x B | highservice ms | onnxruntime-node ms | ratio |\n|---|---|---|---|`);
for (const [m, k, n] of [[128, 768, 3072], [128, 3072, 768], [128, 768, 768], [1, 768, 3072]]) {
  const a = Uint8Array.from({ length: m * k }, (_, i) => (i * 40503) & 255);
  const { hs, ort } = await timeBoth(matmulInteger(m, k, n), { a: [[m, k], a] }, threads);
  console.log(`| [${m}, ${k}] x [${k}, ${n}] | ${hs.toFixed(3)} | ${ort.toFixed(3)} | ${(hs / ort).toFixed(2)} |`);
}
