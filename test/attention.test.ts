// The float32 CPU attention references of the addon (attention.prefillReference / decodeReference,
// native/kernels/cpu/attention_ref.cpp) against a plain float64 implementation here, on fresh random
// inputs each run: causal (bottom-right aligned), key padding, additive bias with broadcast strides,
// GQA/MQA, variable lengths, fully masked rows, and paged decode through a random block table.
import { describe, expect, it } from 'vitest';

import { loadAddon } from '../ts/binding';

interface PrefillOptions {
  q: Float32Array; k: Float32Array; v: Float32Array;
  batch: number; numHeads: number; numKvHeads: number; headDim: number;
  seqlenQ?: number; seqlenK?: number; cuSeqlensQ?: Int32Array; cuSeqlensK?: Int32Array;
  kValidLens?: Int32Array; causal?: boolean; scale?: number;
  bias?: Float32Array; biasStrides?: [number, number, number];
}
interface DecodeOptions {
  q: Float32Array; kCache: Float32Array; vCache: Float32Array;
  numSeqs: number; numHeads: number; numKvHeads: number; headDim: number;
  blockSize: number; numBlocks: number; maxBlocksPerSeq: number;
  blockTables: Int32Array; contextLens: Int32Array; scale?: number;
}
interface AttentionBinding {
  prefillReference(o: PrefillOptions): { out: Float32Array; lse: Float32Array };
  decodeReference(o: DecodeOptions): Float32Array;
  prefill(o: PrefillOptions & { dtype?: string }): { out: Float32Array; lse: Float32Array };
  decode(o: DecodeOptions & { dtype?: string }): Float32Array;
}
const attention = (loadAddon() as unknown as { attention: AttentionBinding }).attention;

const randn = (n: number) => Float32Array.from({ length: n }, () => {
  const u = 1 - Math.random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * Math.random());
});
const randInt = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));
const cumulative = (lens: number[]) => Int32Array.from([0, ...lens.map((_, i) => lens.slice(0, i + 1).reduce((a, b) => a + b, 0))]);

/** Softmax-weighted sum of value rows in float64; returns [out row, lse] (zeros and -inf when no key). */
function attendRow(scores: number[], valueRow: (j: number) => (d: number) => number, headDim: number): [number[], number] {
  const out = new Array<number>(headDim).fill(0);
  const max = Math.max(-Infinity, ...scores);
  if (max === -Infinity) return [out, -Infinity];
  const weights = scores.map((s) => Math.exp(s - max));
  const sum = weights.reduce((a, b) => a + b, 0);
  weights.forEach((w, j) => {
    if (w === 0) return;
    const v = valueRow(j);
    for (let d = 0; d < headDim; d++) out[d] += (w / sum) * v(d);
  });
  return [out, max + Math.log(sum)];
}

function prefillFloat64(o: PrefillOptions) {
  const { batch, numHeads: H, numKvHeads: KVH, headDim: D } = o;
  const qLens = o.cuSeqlensQ ? Array.from({ length: batch }, (_, b) => o.cuSeqlensQ![b + 1] - o.cuSeqlensQ![b]) : new Array(batch).fill(o.seqlenQ);
  const kLens = o.cuSeqlensK ? Array.from({ length: batch }, (_, b) => o.cuSeqlensK![b + 1] - o.cuSeqlensK![b]) : new Array(batch).fill(o.seqlenK);
  const qStart = cumulative(qLens), kStart = cumulative(kLens);
  const totalQ = qStart[batch];
  const out = new Float64Array(totalQ * H * D);
  const lse = new Float64Array(H * totalQ);
  const scale = o.scale ?? 1 / Math.sqrt(D);
  const [sb, sh, sr] = o.biasStrides ?? [0, 0, 0];
  for (let b = 0; b < batch; b++) {
    const kValid = o.kValidLens ? Math.min(Math.max(o.kValidLens[b], 0), kLens[b]) : kLens[b];
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / (H / KVH));
      for (let i = 0; i < qLens[b]; i++) {
        const qRow = (qStart[b] + i) * H * D + h * D;
        const scores: number[] = [];
        for (let j = 0; j < kLens[b]; j++) {
          if (j >= kValid || (o.causal && j > i + kLens[b] - qLens[b])) { scores.push(-Infinity); continue; }
          const kRow = (kStart[b] + j) * KVH * D + kvh * D;
          let dot = 0;
          for (let d = 0; d < D; d++) dot += o.q[qRow + d] * o.k[kRow + d];
          scores.push(dot * scale + (o.bias ? o.bias[b * sb + h * sh + i * sr + j] : 0));
        }
        const [row, l] = attendRow(scores, (j) => (d) => o.v[(kStart[b] + j) * KVH * D + kvh * D + d], D);
        out.set(row, qRow);
        lse[h * totalQ + qStart[b] + i] = l;
      }
    }
  }
  return { out, lse };
}

function decodeFloat64(o: DecodeOptions) {
  const { numSeqs, numHeads: H, numKvHeads: KVH, headDim: D, blockSize } = o;
  const out = new Float64Array(numSeqs * H * D);
  const scale = o.scale ?? 1 / Math.sqrt(D);
  for (let s = 0; s < numSeqs; s++) {
    // Gather the sequence's rows from the paged cache.
    const rowOf = (t: number, kvh: number) =>
      (o.blockTables[s * o.maxBlocksPerSeq + Math.floor(t / blockSize)] * blockSize + (t % blockSize)) * KVH * D + kvh * D;
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / (H / KVH));
      const scores = Array.from({ length: o.contextLens[s] }, (_, t) => {
        let dot = 0;
        for (let d = 0; d < D; d++) dot += o.q[(s * H + h) * D + d] * o.kCache[rowOf(t, kvh) + d];
        return dot * scale;
      });
      const [row] = attendRow(scores, (t) => (d) => o.vCache[rowOf(t, kvh) + d], D);
      out.set(row, (s * H + h) * D);
    }
  }
  return out;
}

/** ||a - b|| / ||b||; NaN anywhere gives Infinity. */
function relError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let diff = 0, ref = 0;
  for (let i = 0; i < expected.length; i++) {
    if (Number.isNaN(actual[i])) return Infinity;
    diff += (actual[i] - expected[i]) ** 2;
    ref += expected[i] ** 2;
  }
  return Math.sqrt(diff) / Math.max(Math.sqrt(ref), 1e-30);
}

function expectLse(actual: Float32Array, expected: Float64Array) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (expected[i] === -Infinity) expect(actual[i]).toBe(-Infinity);
    else expect(Math.abs(actual[i] - expected[i])).toBeLessThan(1e-4);
  }
}

function fixedProblem(batch: number, H: number, KVH: number, D: number, sq: number, sk: number): PrefillOptions {
  return {
    batch, numHeads: H, numKvHeads: KVH, headDim: D, seqlenQ: sq, seqlenK: sk,
    q: randn(batch * sq * H * D), k: randn(batch * sk * KVH * D), v: randn(batch * sk * KVH * D),
  };
}

function varlenProblem(qLens: number[], kLens: number[], H: number, KVH: number, D: number): PrefillOptions {
  const totalQ = qLens.reduce((a, b) => a + b, 0), totalK = kLens.reduce((a, b) => a + b, 0);
  return {
    batch: qLens.length, numHeads: H, numKvHeads: KVH, headDim: D,
    cuSeqlensQ: cumulative(qLens), cuSeqlensK: cumulative(kLens),
    q: randn(totalQ * H * D), k: randn(totalK * KVH * D), v: randn(totalK * KVH * D),
  };
}

function checkPrefill(o: PrefillOptions) {
  const got = attention.prefillReference(o);
  const want = prefillFloat64(o);
  expect(relError(got.out, want.out)).toBeLessThan(1e-5);
  expectLse(got.lse, want.lse);
}

describe('attention CPU reference (float32) vs float64', () => {
  it('plain and causal, equal lengths', () => {
    checkPrefill(fixedProblem(2, 3, 3, 16, 9, 9));
    checkPrefill({ ...fixedProblem(2, 2, 2, 24, 11, 11), causal: true, scale: 0.3 });
  });

  it('causal with more keys than queries aligns the last query with the last key', () => {
    checkPrefill({ ...fixedProblem(1, 2, 2, 8, 5, 12), causal: true });
  });

  it('causal with more queries than keys leaves the first rows masked (zeros, lse -inf)', () => {
    const o = { ...fixedProblem(1, 2, 1, 8, 7, 3), causal: true };
    checkPrefill(o);
    expect(attention.prefillReference(o).lse[0]).toBe(-Infinity);
  });

  it('key padding masks keys at or past kValidLens', () => {
    checkPrefill({ ...fixedProblem(3, 2, 2, 16, 6, 10), kValidLens: Int32Array.from([10, 4, 0]) });
  });

  it('additive bias, per batch and head, and broadcast with -inf holes', () => {
    const full = fixedProblem(2, 2, 2, 8, 5, 7);
    checkPrefill({ ...full, bias: randn(2 * 2 * 5 * 7), biasStrides: [2 * 5 * 7, 5 * 7, 7] });
    const broadcast = fixedProblem(2, 4, 2, 8, 6, 6);
    const bias = randn(6 * 6).map((x) => (Math.random() < 0.25 ? -Infinity : x));
    checkPrefill({ ...broadcast, causal: true, bias, biasStrides: [0, 0, 6] });
  });

  it('GQA and MQA share key/value heads', () => {
    checkPrefill({ ...fixedProblem(2, 8, 2, 16, 7, 7), causal: true });
    checkPrefill(fixedProblem(1, 6, 1, 8, 5, 9));
  });

  it('variable lengths packed with cumulative offsets', () => {
    const qLens = Array.from({ length: 4 }, () => randInt(0, 9));
    const kLens = qLens.map((l) => l + randInt(0, 6));
    checkPrefill({ ...varlenProblem(qLens, kLens, 4, 2, 8), causal: true });
    checkPrefill({ ...varlenProblem([3, 1, 6], [5, 0, 2], 2, 2, 8), kValidLens: Int32Array.from([4, 0, 2]) });
  });

  it('paged decode over a random block table, GQA, an empty context', () => {
    const numSeqs = 4, H = 8, KVH = 2, D = 16, blockSize = 4, maxBlocksPerSeq = 5;
    const numBlocks = numSeqs * maxBlocksPerSeq + 3;
    const order = Array.from({ length: numBlocks }, (_, i) => i).sort(() => Math.random() - 0.5);
    const o: DecodeOptions = {
      numSeqs, numHeads: H, numKvHeads: KVH, headDim: D, blockSize, numBlocks, maxBlocksPerSeq,
      q: randn(numSeqs * H * D),
      kCache: randn(numBlocks * blockSize * KVH * D),
      vCache: randn(numBlocks * blockSize * KVH * D),
      blockTables: Int32Array.from(order.slice(0, numSeqs * maxBlocksPerSeq)),
      contextLens: Int32Array.from([randInt(1, 20), 0, 20, randInt(1, 20)]),
    };
    const got = attention.decodeReference(o);
    expect(relError(got, decodeFloat64(o))).toBeLessThan(1e-5);
    expect(Array.from(got.subarray(H * D, 2 * H * D)).every((x) => x === 0)).toBe(true);
  });

  it('rejects inconsistent shapes with ERR_INVALID_ARGUMENT naming the argument', () => {
    const o = fixedProblem(1, 4, 3, 8, 2, 2);
    expect(() => attention.prefillReference(o)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/numKvHeads/) }));
    const short = { ...fixedProblem(1, 2, 2, 8, 2, 2), k: new Float32Array(3) };
    expect(() => attention.prefillReference(short)).toThrow(/k must hold/);
    const bias = { ...fixedProblem(1, 2, 2, 8, 2, 2), bias: new Float32Array(3), biasStrides: [0, 0, 2] as [number, number, number] };
    expect(() => attention.prefillReference(bias)).toThrow(/bias strides/);
    expect(() => attention.decodeReference({
      numSeqs: 1, numHeads: 2, numKvHeads: 2, headDim: 8, blockSize: 4, numBlocks: 2, maxBlocksPerSeq: 2,
      q: randn(16), kCache: randn(128), vCache: randn(128), blockTables: Int32Array.from([0, 5]), contextLens: Int32Array.from([8]),
    })).toThrow(/blockTables\[0\]\[1\] = 5/);
    expect(() => attention.prefillReference({ ...o, q: [1, 2] as unknown as Float32Array })).toThrow(TypeError);
  });

  it('the CUDA entry points throw ERR_CUDA_UNAVAILABLE without a device', () => {
    const info = (loadAddon().devices()).cuda;
    if (info.available) return; // covered by test/gpu/attention.test.ts
    expect(() => attention.prefill(fixedProblem(1, 2, 2, 8, 3, 3))).toThrow(expect.objectContaining({ code: 'ERR_CUDA_UNAVAILABLE' }));
  });
});
