#!/usr/bin/env node
// The addon's CUDA attention entry points (attention.prefill / decode) against its CPU reference on a
// GPU host that has Node.js but not the test toolchain; test/gpu/attention.test.ts checks the same
// under vitest. Usage: HS_ADDON_PATH=build/Release/highservice_native.node node bench/gpu/attention-addon.cjs
'use strict';
const path = require('path');

const addon = require(path.resolve(process.env.HS_ADDON_PATH || 'build/Release/highservice_native.node'));
const { attention } = addon;
const cuda = addon.devices().cuda;
if (!cuda.available) {
  console.log(`attention-addon: skipped, CUDA unavailable (${cuda.reason})`);
  process.exit(0);
}

const randn = (n) => Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random()));
const cumulative = (lens) => Int32Array.from([0, ...lens.map((_, i) => lens.slice(0, i + 1).reduce((a, b) => a + b, 0))]);
const BOUND = { float16: 4e-3, bfloat16: 1.6e-2 };
let failures = 0;

function relError(actual, expected) {
  let diff = 0, ref = 0;
  for (let i = 0; i < expected.length; i++) {
    if (Number.isNaN(actual[i])) return Infinity;
    diff += (actual[i] - expected[i]) ** 2;
    ref += expected[i] ** 2;
  }
  return Math.sqrt(diff) / Math.max(Math.sqrt(ref), 1e-30);
}

function report(name, dtype, err, extraOk = true) {
  const ok = err < BOUND[dtype] && extraOk;
  if (!ok) failures++;
  console.log(`${ok ? 'PASS' : 'FAIL'} addon ${name} ${dtype}: rel_err=${err.toExponential(2)}`);
}

function prefill(name, qLens, kLens, H, KVH, D, extra = {}) {
  const totalQ = qLens.reduce((a, b) => a + b, 0), totalK = kLens.reduce((a, b) => a + b, 0);
  const o = {
    batch: qLens.length, numHeads: H, numKvHeads: KVH, headDim: D, cuSeqlensQ: cumulative(qLens), cuSeqlensK: cumulative(kLens),
    q: randn(totalQ * H * D), k: randn(totalK * KVH * D), v: randn(totalK * KVH * D), ...extra,
  };
  const want = attention.prefillReference(o);
  for (const dtype of ['float16', 'bfloat16']) {
    const got = attention.prefill({ ...o, dtype });
    const lseOk = want.lse.every((l, i) => (l === -Infinity ? got.lse[i] === -Infinity : Math.abs(got.lse[i] - l) < 0.05));
    report(`prefill ${name}`, dtype, relError(got.out, want.out), lseOk);
  }
}

for (const D of [64, 96, 128, 80]) {
  prefill(`d${D} causal varlen GQA`, [130, 1, 257], [200, 9, 257], 8, 2, D, { causal: true });
  prefill(`d${D} key padding`, [100, 64], [100, 64], 4, 4, D, { kValidLens: Int32Array.from([37, 0]) });
  prefill(`d${D} bias`, [70, 70], [90, 90], 2, 1, D, { bias: randn(2 * 2 * 70 * 90), biasStrides: [2 * 70 * 90, 70 * 90, 90] });
}
for (const [H, KVH, D] of [[32, 8, 128], [8, 8, 64], [12, 2, 96]]) {
  const numSeqs = 5, blockSize = 16, maxBlocksPerSeq = 80, numBlocks = numSeqs * maxBlocksPerSeq;
  const order = Array.from({ length: numBlocks }, (_, i) => i).sort(() => Math.random() - 0.5);
  const o = {
    numSeqs, numHeads: H, numKvHeads: KVH, headDim: D, blockSize, numBlocks, maxBlocksPerSeq,
    q: randn(numSeqs * H * D), kCache: randn(numBlocks * blockSize * KVH * D), vCache: randn(numBlocks * blockSize * KVH * D),
    blockTables: Int32Array.from(order), contextLens: Int32Array.from([1, 0, 511, 513, 1280]),
  };
  const want = attention.decodeReference(o);
  for (const dtype of ['float16', 'bfloat16']) report(`decode h${H}/kv${KVH} d${D}`, dtype, relError(attention.decode({ ...o, dtype }), want));
}
try {
  attention.prefill({ q: randn(8), k: randn(8), v: randn(8), batch: 1, numHeads: 1, numKvHeads: 1, headDim: 8, seqlenQ: 1, seqlenK: 1, dtype: 'int8' });
  failures++;
  console.log('FAIL addon: a bad dtype was accepted');
} catch (e) {
  console.log(`PASS addon: bad dtype rejected (${e.code})`);
}
console.log(`attention-addon: ${failures} failures`);
process.exit(failures ? 1 : 0);
