// The CUDA attention kernels (attention.prefill / decode: inputs rounded to float16 or bfloat16,
// fp32 accumulation) against the addon's float32 CPU reference on fresh random inputs. Runs only
// where devices().cuda.available; elsewhere the suite is skipped and says why.
import { describe, expect, it } from 'vitest';

import { loadAddon } from '../../ts/binding';

type Options = Record<string, unknown>;
interface AttentionBinding {
  prefillReference(o: Options): { out: Float32Array; lse: Float32Array };
  decodeReference(o: Options): Float32Array;
  prefill(o: Options): { out: Float32Array; lse: Float32Array };
  decode(o: Options): Float32Array;
}
const addon = loadAddon();
const attention = (addon as unknown as { attention: AttentionBinding }).attention;
const cuda = addon.devices().cuda;
const suite = cuda.available ? describe : describe.skip;
if (!cuda.available) console.log(`test/gpu/attention: skipped, CUDA unavailable (${cuda.reason})`);

const randn = (n: number) => Float32Array.from({ length: n }, () => {
  const u = 1 - Math.random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * Math.random());
});
const cumulative = (lens: number[]) => Int32Array.from([0, ...lens.map((_, i) => lens.slice(0, i + 1).reduce((a, b) => a + b, 0))]);
const BOUND: Record<string, number> = { float16: 4e-3, bfloat16: 1.6e-2 };

function relError(actual: Float32Array, expected: Float32Array): number {
  let diff = 0, ref = 0;
  for (let i = 0; i < expected.length; i++) {
    if (Number.isNaN(actual[i])) return Infinity;
    diff += (actual[i] - expected[i]) ** 2;
    ref += expected[i] ** 2;
  }
  return Math.sqrt(diff) / Math.max(Math.sqrt(ref), 1e-30);
}

function prefillProblem(qLens: number[], kLens: number[], H: number, KVH: number, D: number, extra: Options = {}): Options {
  const totalQ = qLens.reduce((a, b) => a + b, 0), totalK = kLens.reduce((a, b) => a + b, 0);
  return {
    batch: qLens.length, numHeads: H, numKvHeads: KVH, headDim: D,
    cuSeqlensQ: cumulative(qLens), cuSeqlensK: cumulative(kLens),
    q: randn(totalQ * H * D), k: randn(totalK * KVH * D), v: randn(totalK * KVH * D), ...extra,
  };
}

function checkPrefill(o: Options) {
  const want = attention.prefillReference(o);
  for (const dtype of ['float16', 'bfloat16']) {
    const got = attention.prefill({ ...o, dtype });
    expect(relError(got.out, want.out), dtype).toBeLessThan(BOUND[dtype]);
    want.lse.forEach((l, i) => {
      if (l === -Infinity) expect(got.lse[i]).toBe(-Infinity);
      else expect(Math.abs(got.lse[i] - l)).toBeLessThan(0.05);
    });
  }
}

suite('CUDA attention kernels vs the CPU reference', () => {
  for (const D of [64, 96, 128, 80]) {
    it(`prefill head_dim ${D}: causal varlen GQA, key padding, bias`, () => {
      checkPrefill(prefillProblem([130, 1, 257], [200, 9, 257], 8, 2, D, { causal: true }));
      checkPrefill(prefillProblem([100, 64], [100, 64], 4, 4, D, { kValidLens: Int32Array.from([37, 0]) }));
      checkPrefill(prefillProblem([70, 70], [90, 90], 2, 1, D, { bias: randn(2 * 2 * 70 * 90), biasStrides: [2 * 70 * 90, 70 * 90, 90] }));
    });
  }

  it('paged decode: GQA group sizes, contexts across split-K partitions, an empty context', () => {
    for (const [H, KVH, D] of [[32, 8, 128], [8, 8, 64], [12, 2, 96]]) {
      const numSeqs = 5, blockSize = 16, maxBlocksPerSeq = 80;
      const numBlocks = numSeqs * maxBlocksPerSeq;
      const order = Array.from({ length: numBlocks }, (_, i) => i).sort(() => Math.random() - 0.5);
      const o: Options = {
        numSeqs, numHeads: H, numKvHeads: KVH, headDim: D, blockSize, numBlocks, maxBlocksPerSeq,
        q: randn(numSeqs * H * D), kCache: randn(numBlocks * blockSize * KVH * D), vCache: randn(numBlocks * blockSize * KVH * D),
        blockTables: Int32Array.from(order), contextLens: Int32Array.from([1, 0, 511, 513, 1280]),
      };
      const want = attention.decodeReference(o);
      for (const dtype of ['float16', 'bfloat16'])
        expect(relError(attention.decode({ ...o, dtype }), want), `${dtype} H${H}/KV${KVH} D${D}`).toBeLessThan(BOUND[dtype]);
    }
  });
});
