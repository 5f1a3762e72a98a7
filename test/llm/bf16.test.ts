// matmulPrecision 'bf16': logits against the float64 reference with the same bf16 rounding of
// every matmul's operands, and against the plain float64 reference; batches, chunks and threads
// give each sequence its single-request logits bit for bit; the emulated kernels give the bits of
// vdpbf16ps; weightType combinations it cannot take are refused.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { NativeLlm } from '../../lib/llm/native';
import { writeTinyModel, type TinyModel, type TinyModelSpec } from '../fixtures/hf-model';
import { referenceLogits } from './reference';
import { invFreqOf, llm, maxRelError, nativeLogitsAll, PROMPTS } from './helpers';

type Engine = Awaited<ReturnType<typeof llm.startLlmEngine>>;

const BF16 = { numBlocks: 16, blockSize: 4, threads: 2, matmulPrecision: 'bf16' } as const;
const PROMPT = PROMPTS[5];

// Tolerances (max |error| / max |logit|, as in forward.test.ts). bf16 keeps 8 significant bits:
// rounding moves an operand by up to u = 2^-8 = 3.9e-3 of itself, with a standard deviation of about
// 1.5e-3, random in sign. A product carries two such errors (weight and activation), so a dot product
// moves by ~2e-3 of the root sum of squares of its terms, about its typical size; through the layers
// the logits move by a few 1e-3 of the typical logit, ~3x below the largest. Measured against the
// plain reference: 1.1e-3 .. 3.8e-3 over the cases below, so 1e-2.
const TOL_FULL = 1e-2;
// Against a reference that rounds the same operands, float32 accumulation is left (~1e-7) and the
// few activations that round the other way because the engine's float32 values differ from the
// float64 ones in the last bits: each moves one product by a bf16 step. Measured 1e-7 .. 1.8e-3.
// A dropped odd k-tail measured 4.9e-2 and 1.4e-1, swapped pairs 1.2 .. 1.75.
const TOL_SAME_ROUNDING = 5e-3;

const CASES: [string, TinyModelSpec][] = [
  ['llama untied f32', { arch: 'llama' }],
  ['llama f16', { arch: 'llama', dtype: 'F16' }],
  ['qwen2 tied bf16 (qkv bias, bf16 embedding lookups)', { arch: 'qwen2', tie: true, dtype: 'BF16' }],
  ['llama hidden 40 (2.5 panels), intermediate 75 (odd k in down_proj)', { arch: 'llama', hidden: 40, heads: 4, kvHeads: 2, intermediate: 75 }],
  ['qwen2 hidden 48, 4 query heads per KV head, intermediate 33', { arch: 'qwen2', hidden: 48, heads: 4, kvHeads: 1, intermediate: 33 }],
];

describe('matmulPrecision bf16 vs the float64 reference', () => {
  for (const [name, spec] of CASES) {
    it(name, async () => {
      const model = writeTinyModel({ ...spec, seed: 7 });
      const engine = await llm.startLlmEngine(model.dir, BF16);
      expect(engine.model.info).toMatchObject({ matmulPrecision: 'bf16', weightType: 'bfloat16' });
      const actual = await nativeLogitsAll(engine.model, PROMPT, model.vocabSize);
      engine.dispose();
      const invFreq = invFreqOf(model.config);
      const same = maxRelError(actual, referenceLogits(model, PROMPT, { invFreq, bf16: true }));
      const full = maxRelError(actual, referenceLogits(model, PROMPT, { invFreq }));
      console.log(`${name}: max rel error ${same.toExponential(2)} (same bf16 rounding), ${full.toExponential(2)} (float64)`);
      expect(same).toBeLessThan(TOL_SAME_ROUNDING);
      expect(full).toBeLessThan(TOL_FULL);
    });
  }

  it('fp32 stays the default', async () => {
    const model = writeTinyModel({ arch: 'llama', seed: 7 });
    const engine = await llm.startLlmEngine(model.dir, { numBlocks: 4, blockSize: 4, threads: 1 });
    expect(engine.model.info).toMatchObject({ matmulPrecision: 'fp32', bf16Kernel: null, weightType: 'float32' });
    engine.dispose();
  });
});

/** Logits of every token of each prompt, all prompts in one forward (each in its own blocks). */
async function batchedLogits(model: NativeLlm, prompts: number[][], vocab: number): Promise<Float32Array[][]> {
  const { blockSize } = model.info;
  const maxBlocks = Math.max(...prompts.map((p) => Math.ceil(p.length / blockSize)));
  const logits = await model.forward({
    tokens: Int32Array.from(prompts.flat()),
    positions: Int32Array.from(prompts.flatMap((p) => p.map((_, i) => i))),
    queryLens: Int32Array.from(prompts.map((p) => p.length)),
    blockTables: Int32Array.from({ length: prompts.length * maxBlocks }, (_, i) => i),
    maxBlocks,
    logitsPerSeq: Int32Array.from(prompts.map((p) => p.length)),
  });
  let row = 0;
  return prompts.map((p) => p.map(() => logits.subarray(row * vocab, ++row * vocab)));
}

describe('matmulPrecision bf16: results independent of the batch', () => {
  let model: TinyModel;
  let single: Engine;
  let alone: number[][];

  beforeAll(async () => {
    // Odd k and a partial panel, so that the tails take part.
    model = writeTinyModel({ arch: 'qwen2', seed: 12, hidden: 40, heads: 4, kvHeads: 2, intermediate: 75 });
    single = await llm.startLlmEngine(model.dir, { ...BF16, numBlocks: 64, maxNumSeqs: 1, enablePrefixCaching: false });
    alone = [];
    for (const p of PROMPTS) alone.push((await single.complete(p, { temperature: 0, maxTokens: 12, ignoreEos: true })).tokenIds);
  });
  afterAll(() => single.dispose());

  it('a sequence batched with others, on 1 or 2 threads, has its logits alone bit for bit', async () => {
    const one = await llm.startLlmEngine(model.dir, { ...BF16, numBlocks: 64, threads: 1 });
    const batched = await batchedLogits(single.model, PROMPTS, model.vocabSize);
    const batchedOneThread = await batchedLogits(one.model, PROMPTS, model.vocabSize);
    one.dispose();
    for (const [s, prompt] of PROMPTS.entries()) {
      const ownLogits = await nativeLogitsAll(single.model, prompt, model.vocabSize);
      ownLogits.forEach((row, i) => {
        expect(batched[s][i]).toEqual(row);
        expect(batchedOneThread[s][i]).toEqual(row);
      });
    }
  });

  it('continuous batching with chunked prefill gives each request its greedy tokens alone', async () => {
    const engine = await llm.startLlmEngine(model.dir, { ...BF16, numBlocks: 64, maxNumBatchedTokens: 8 });
    const outputs = await Promise.all(PROMPTS.map(async (p) => (await engine.complete(p, { temperature: 0, maxTokens: 12, ignoreEos: true })).tokenIds));
    expect(engine.stats().steps).toBeLessThan(PROMPTS.length * 12);
    engine.dispose();
    expect(outputs).toEqual(alone);
  });
});

// The logits of PROMPT in a child process whose bf16 kernel is forced by HS_LLM_BF16_KERNEL.
const CHILD = `
const { startLlmEngine } = require(${JSON.stringify(path.join(__dirname, '../../lib/llm/index.js'))});
const [dir, tokens, options] = JSON.parse(process.argv[1]);
startLlmEngine(dir, options).then(async (engine) => {
  const n = tokens.length, blocks = Math.ceil(n / options.blockSize);
  const logits = await engine.model.forward({
    tokens: Int32Array.from(tokens), positions: Int32Array.from(tokens, (_, i) => i), queryLens: Int32Array.of(n),
    blockTables: Int32Array.from({ length: blocks }, (_, i) => i), maxBlocks: blocks, logitsPerSeq: Int32Array.of(n),
  });
  process.stdout.write(JSON.stringify({ kernel: engine.model.info.bf16Kernel, logits: Buffer.from(logits.buffer).toString('base64') }));
  engine.dispose();
});`;

describe('matmulPrecision bf16 kernels', () => {
  it('the AVX2 and scalar emulations give the bits of the default kernel', async () => {
    const model = writeTinyModel({ arch: 'llama', seed: 5, hidden: 40, heads: 4, kvHeads: 2, intermediate: 75 });
    const run = async (kernel: string) => {
      const env = { ...process.env, HS_LLM_BF16_KERNEL: kernel };
      const { stdout } = await promisify(execFile)(process.execPath, ['-e', CHILD, JSON.stringify([model.dir, PROMPT, BF16])], { env, maxBuffer: 1 << 26 });
      return JSON.parse(stdout) as { kernel: string; logits: string };
    };
    const native = await run('');
    for (const kernel of ['avx2', 'scalar']) {
      const emulated = await run(kernel);
      expect(emulated.kernel).toBe(kernel);
      console.log(`bf16 kernel ${emulated.kernel} vs ${native.kernel}: ${emulated.logits === native.logits ? 'identical' : 'different'} logits`);
      expect(emulated.logits).toBe(native.logits);
    }
  });

  it('refuses weight types it cannot multiply, and unknown precisions', async () => {
    const model = writeTinyModel({ arch: 'llama', seed: 2 });
    await expect(llm.startLlmEngine(model.dir, { ...BF16, weightType: 'int8' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/weightType 'int8'/) });
    await expect(llm.startLlmEngine(model.dir, { ...BF16, weightType: 'float32' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(llm.startLlmEngine(model.dir, { ...BF16, matmulPrecision: 'fp16' as 'bf16' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/'fp32' or 'bf16'/) });
    const explicit = await llm.startLlmEngine(model.dir, { ...BF16, weightType: 'bfloat16' });
    expect(explicit.model.info.matmulPrecision).toBe('bf16');
    explicit.dispose();
  });
});
