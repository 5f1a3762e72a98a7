#!/usr/bin/env node
// STFT as speech front ends run it (30 s of 16 kHz audio, Hann window, onesided), in highservice and
// onnxruntime-node side by side: median ms per run, alternating. Frame 400 (Whisper's: not a power
// of two, Bluestein's path) and 512 (radix-2).
//   node bench/kernels/stft.bench.mjs [--threads 2]
import { createRequire } from 'node:module';

import { randomFloats, timeBoth } from './single-op.mjs';

const require = createRequire(import.meta.url);
const { onnx } = require('onnx-proto');
const args = process.argv.slice(2);
const threads = Number(args.includes('--threads') ? args[args.indexOf('--threads') + 1] : 2);
const samples = 480000;

function stft(frame, step) {
  const window = Float32Array.from({ length: frame }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / frame));
  const raw = (a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const info = (name, dims) => ({ name, type: { tensorType: { elemType: 1, shape: dims ? { dim: dims.map((d) => ({ dimValue: d })) } : undefined } } });
  return onnx.ModelProto.encode(onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'stft',
      node: [{ opType: 'STFT', input: ['x', 'step', 'window'], output: ['y'], attribute: [{ name: 'onesided', type: 2, i: 1 }] }],
      input: [info('x', [1, samples, 1])],
      output: [info('y', null)],
      initializer: [
        { name: 'step', dataType: 7, dims: [], rawData: raw(BigInt64Array.of(BigInt(step))) },
        { name: 'window', dataType: 1, dims: [frame], rawData: raw(window) },
      ],
    },
  })).finish();
}

console.log(`| frame / step | highservice ms | onnxruntime-node ms | ratio |\n|---|---|---|---|`);
for (const [frame, step] of [[400, 160], [512, 160]]) {
  const { hs, ort } = await timeBoth(stft(frame, step), { x: [[1, samples, 1], randomFloats(samples, 7)] }, threads);
  console.log(`| ${frame} / ${step} | ${hs.toFixed(2)} | ${ort.toFixed(2)} | ${(hs / ort).toFixed(2)} |`);
}
