// The LLM forward on CUDA (native/backends/cuda/llm) against the float64 reference of
// test/llm/reference.ts, on tiny random Llama / Qwen2 checkpoints: GQA, qkv bias, tied and untied
// embeddings, rope scaling variants (YaRN's cos/sin multiplier too), F32 / F16 / BF16 files,
// head_dim 16 (the general attention kernels), 64 and 128 (the tensor-core prefill kernel). Then the cache paths one by one with
// hand-made block tables: prefill followed by decode steps, chunked prefill, a prefix-cache hit
// (cached blocks of another sequence + a new chunk), and one mixed batch of all three kinds; the
// engine end to end (batched == one request at a time, prefix caching, cancellation freeing blocks);
// typed errors; out-of-memory at load; dispose giving the device memory back.
// HS_CUDA_POISON=1 (cuda-helpers.ts) makes the model NaN-fill its scratch before every forward and
// its KV cache at load, so an output row no kernel wrote, or a cache slot read before it was
// written, cannot pass.
//
// Tolerance: the device holds 16-bit weights and rounds activations to 16 bits at each GEMM input,
// q/k/v and the attention output (unit roundoff u = 2^-8 for bfloat16, 2^-11 for float16), with
// float32 accumulation. Over two layers that is about a dozen roundings on the path of a logit,
// partly cancelling, so max |ours - ref| / max |ref| is held to 8u for bfloat16 (3.1e-2) and 16u for
// float16 (7.8e-3, where float32 accumulation and the roundings of the float32 steps weigh more).
// float32 checkpoints are rounded to bfloat16 at load, which the reference (float32 weights) does
// not do: the same 8u covers it. int8 weights: the reference quantises its matrices the same way
// (per output row), and the device multiplies in bfloat16: the bfloat16 bound.
import { rmSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { NativeLlm } from '../../lib/llm/native';
import { writeTinyModel, type TinyModel, type TinyModelSpec } from '../fixtures/hf-model';
import { hs } from '../helpers';
import { referenceLogits } from '../llm/reference';
import { llm, parseRopeScaling, PROMPTS, ropeFrequencies } from '../llm/helpers';
import { cuda } from './cuda-helpers';

// HS_LLM_TEST_DEVICE=cpu runs this suite's logic (block tables, reference slices, engine checks) on
// the CPU forward, where no GPU is: the CUDA-only checks are skipped then.
const onCpu = process.env.HS_LLM_TEST_DEVICE === 'cpu';
const DEVICE = onCpu ? 'cpu' : 'cuda';
const withDevice = cuda.available || onCpu ? describe : describe.skip;
const cudaOnly = onCpu ? it.skip : it;
if (!cuda.available && !onCpu) console.log(`test/gpu/llm-cuda: skipped, CUDA unavailable (${cuda.reason})`);

type Engine = Awaited<ReturnType<typeof llm.startLlmEngine>>;

const PROMPT = [5, 17, 200, 31, 99, 250, 3, 300, 42, 42, 7, 128, 64, 1, 290, 11, 12, 13, 14, 15];
const GREEDY = { temperature: 0, maxTokens: 12, ignoreEos: true };

/** The rotary frequencies (as float32) and cos/sin multiplier the engine derives from config.json. */
function ropeOf(config: Record<string, unknown>): { invFreq: Float64Array; attentionScaling: number } {
  const headDim = (config.hidden_size as number) / (config.num_attention_heads as number);
  const max = config.max_position_embeddings as number;
  const rope = ropeFrequencies(headDim, config.rope_theta as number, parseRopeScaling(config.rope_scaling, max), max);
  return { invFreq: rope.invFreq.map(Math.fround), attentionScaling: rope.attentionScaling };
}

const invFreqOf = (config: Record<string, unknown>) => ropeOf(config).invFreq;

function tolerance(weightType: string): number {
  return weightType === 'float16' ? 16 * 2 ** -11 : 8 * 2 ** -8;
}

/** max |a - b| / max |b| over the rows; Infinity if any value is not finite. */
function relError(actual: Float32Array[], expected: Float64Array[]): number {
  let diff = 0, ref = 0;
  expected.forEach((row, r) => row.forEach((v, i) => {
    const a = actual[r][i];
    if (!Number.isFinite(a)) diff = Infinity;
    diff = Math.max(diff, Math.abs(a - v));
    ref = Math.max(ref, Math.abs(v));
  }));
  return diff / ref;
}

interface SeqRun {
  tokens: number[];
  /** Position of tokens[0]. */
  start: number;
  /** Cache blocks of positions 0, blockSize, 2 blockSize, ... */
  table: number[];
  /** Logits rows wanted: the last `logits` tokens (default all). */
  logits?: number;
}

/** One forward over several sequences; the logits rows of each sequence. */
async function forward(model: NativeLlm, seqs: SeqRun[], vocab: number): Promise<Float32Array[][]> {
  const maxBlocks = Math.max(...seqs.map((s) => s.table.length));
  const out = await model.forward({
    tokens: Int32Array.from(seqs.flatMap((s) => s.tokens)),
    positions: Int32Array.from(seqs.flatMap((s) => s.tokens.map((_, i) => s.start + i))),
    queryLens: Int32Array.from(seqs.map((s) => s.tokens.length)),
    blockTables: Int32Array.from(seqs.flatMap((s) => [...s.table, ...new Array(maxBlocks - s.table.length).fill(0)])),
    maxBlocks,
    logitsPerSeq: Int32Array.from(seqs.map((s) => s.logits ?? s.tokens.length)),
  });
  let row = 0;
  return seqs.map((s) => Array.from({ length: s.logits ?? s.tokens.length }, () => out.subarray(row * vocab, ++row * vocab)));
}

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

// [name, checkpoint, the weightType asked for (undefined: 'auto'), the device's weight type]
const CASES: [string, TinyModelSpec, string | undefined, string][] = [
  ['llama untied f32 -> bf16, head_dim 16', { arch: 'llama' }, undefined, 'bfloat16'],
  ['llama tied bf16, linear rope scaling', { arch: 'llama', tie: true, dtype: 'BF16', ropeScaling: { type: 'linear', factor: 2 } }, undefined, 'bfloat16'],
  ['llama f16, llama3 rope scaling', { arch: 'llama', dtype: 'F16', ropeScaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 } }, undefined, 'float16'],
  ['qwen2 tied bf16 (qkv bias), dynamic rope scaling', { arch: 'qwen2', tie: true, dtype: 'BF16', ropeScaling: { type: 'dynamic', factor: 4 } }, undefined, 'bfloat16'],
  ['qwen2 untied f32, sharded', { arch: 'qwen2', sharded: true }, undefined, 'bfloat16'],
  ['qwen2 bf16, yarn rope scaling (cos/sin x 1.14)', { arch: 'qwen2', dtype: 'BF16', ropeScaling: { type: 'yarn', factor: 4, original_max_position_embeddings: 32768 } }, undefined, 'bfloat16'],
  ['llama bf16, head_dim 64, GQA 2', { arch: 'llama', dtype: 'BF16', hidden: 256, heads: 4, kvHeads: 2 }, undefined, 'bfloat16'],
  ['qwen2 bf16, head_dim 128, GQA 2', { arch: 'qwen2', dtype: 'BF16', hidden: 256, heads: 2, kvHeads: 1 }, undefined, 'bfloat16'],
  ['llama f16, head_dim 128, GQA 8 (MQA)', { arch: 'llama', dtype: 'F16', hidden: 1024, heads: 8, kvHeads: 1, intermediate: 256 }, undefined, 'float16'],
  ['llama int8 from f32, head_dim 16', { arch: 'llama' }, 'int8', 'int8'],
  ['qwen2 tied int8 from bf16 (qkv bias), head_dim 64', { arch: 'qwen2', tie: true, dtype: 'BF16', hidden: 256, heads: 4, kvHeads: 2 }, 'int8', 'int8'],
];

withDevice('LLM forward on CUDA vs the float64 reference', () => {
  for (const [name, spec, asked, weightType] of CASES) {
    it(name, async () => {
      const model = writeTinyModel({ ...spec, seed: 7 });
      const options = asked ? { weightType: asked as 'int8' } : {};
      const engine = await llm.startLlmEngine(model.dir, { device: DEVICE, numBlocks: 16, blockSize: 4, threads: 2, ...options });
      try {
        const kvCacheType = weightType === 'int8' ? 'bfloat16' : weightType;
        expect(engine.model.info).toMatchObject(onCpu ? { device: 'cpu' } : { device: 'cuda', weightType, kvCacheType });
        const [rows] = await forward(engine.model, [{ tokens: PROMPT, start: 0, table: range(0, 5) }], model.vocabSize);
        const expected = referenceLogits(model, PROMPT, { ...ropeOf(model.config), int8: weightType === 'int8' });
        const err = relError(rows, expected);
        const bound = tolerance(kvCacheType);
        console.log(`${name} on ${DEVICE}: max rel error ${err.toExponential(2)} (bound ${bound.toExponential(2)})`);
        expect(err).toBeLessThan(bound);
      } finally {
        engine.dispose();
        rmSync(model.dir, { recursive: true, force: true });
      }
    });
  }
});

withDevice('LLM on CUDA: the KV cache paths', () => {
  let model: TinyModel;
  let engine: Engine;
  let expected: Float64Array[];
  let tol: number;
  const vocab = () => model.vocabSize;

  beforeAll(async () => {
    model = writeTinyModel({ arch: 'qwen2', dtype: 'BF16', hidden: 256, heads: 4, kvHeads: 2, seed: 11 });
    engine = await llm.startLlmEngine(model.dir, { device: DEVICE, numBlocks: 32, blockSize: 4, threads: 2 });
    expected = referenceLogits(model, PROMPT, { invFreq: invFreqOf(model.config) });
    tol = tolerance(engine.model.info.weightType);
  });
  afterAll(() => {
    engine?.dispose();
    rmSync(model.dir, { recursive: true, force: true });
  });

  it('prefill, then decode steps one token at a time', async () => {
    const table = range(0, 5);
    const [prefill] = await forward(engine.model, [{ tokens: PROMPT.slice(0, 12), start: 0, table }], vocab());
    expect(relError(prefill, expected.slice(0, 12))).toBeLessThan(tol);
    for (let p = 12; p < PROMPT.length; p++) {
      const [row] = await forward(engine.model, [{ tokens: [PROMPT[p]], start: p, table: table.slice(0, Math.floor(p / 4) + 1) }], vocab());
      expect(relError(row, [expected[p]]), `decode at position ${p}`).toBeLessThan(tol);
    }
  });

  it('chunked prefill: chunks that start and end inside blocks see the cached ones', async () => {
    const table = range(5, 10);
    const got: Float32Array[] = [];
    for (const [a, b] of [[0, 7], [7, 13], [13, 20]]) {
      const [rows] = await forward(engine.model, [{ tokens: PROMPT.slice(a, b), start: a, table }], vocab());
      got.push(...rows);
    }
    expect(relError(got, expected)).toBeLessThan(tol);
  });

  it('a prefix-cache hit: cached blocks of another sequence, then a new chunk and decode steps', async () => {
    // Sequence A fills blocks 10..14; B shares A's first two blocks (positions 0..7) and continues
    // with its own tokens from position 8 in blocks 15..17.
    await forward(engine.model, [{ tokens: PROMPT, start: 0, table: range(10, 15), logits: 1 }], vocab());
    const other = [...PROMPT.slice(0, 8), 9, 8, 7, 6, 5, 4, 3, 2, 1];
    const ref = referenceLogits(model, other, { invFreq: invFreqOf(model.config) });
    const tableB = [10, 11, 15, 16, 17];
    const [chunk] = await forward(engine.model, [{ tokens: other.slice(8, 15), start: 8, table: tableB }], vocab());
    expect(relError(chunk, ref.slice(8, 15))).toBeLessThan(tol);
    for (let p = 15; p < other.length; p++) {
      const [row] = await forward(engine.model, [{ tokens: [other[p]], start: p, table: tableB }], vocab());
      expect(relError(row, [ref[p]]), `decode at position ${p}`).toBeLessThan(tol);
    }
  });

  it('one mixed batch: a decode, a fresh prefill, a chunk with cached context, interleaved', async () => {
    // Set-up: C holds PROMPT[0..12) in blocks 18..20; D holds PROMPT[0..8) in blocks 21, 22.
    await forward(engine.model, [
      { tokens: PROMPT.slice(0, 12), start: 0, table: [18, 19, 20], logits: 0 },
      { tokens: PROMPT.slice(0, 8), start: 0, table: [21, 22], logits: 0 },
    ], vocab());
    const [decodeC, fresh, chunkD, decodeC2] = await forward(engine.model, [
      { tokens: [PROMPT[12]], start: 12, table: [18, 19, 20, 23] },
      { tokens: PROMPT.slice(0, 9), start: 0, table: [24, 25, 26] },
      { tokens: PROMPT.slice(8, 17), start: 8, table: [21, 22, 27, 28, 29], logits: 3 },
      // A decode sequence reading a prefix of C's blocks (as a prefix-cache hit would) at position 8.
      { tokens: [PROMPT[8]], start: 8, table: [18, 19, 30] },
    ], vocab());
    expect(relError(decodeC, [expected[12]]), 'decode').toBeLessThan(tol);
    expect(relError(fresh, expected.slice(0, 9)), 'fresh prefill').toBeLessThan(tol);
    expect(relError(chunkD, expected.slice(14, 17)), 'chunk with cached context').toBeLessThan(tol);
    expect(relError(decodeC2, [expected[8]]), 'decode on shared blocks').toBeLessThan(tol);
  });

  it('two forwards in flight at once are serialised and both right', async () => {
    const [a, b] = await Promise.all([
      forward(engine.model, [{ tokens: PROMPT, start: 0, table: range(0, 5) }], vocab()),
      forward(engine.model, [{ tokens: PROMPT.slice(0, 10), start: 0, table: range(5, 8) }], vocab()),
    ]);
    expect(relError(a[0], expected)).toBeLessThan(tol);
    expect(relError(b[0], expected.slice(0, 10))).toBeLessThan(tol);
  });

  it('rejects bad batches with ERR_INVALID_ARGUMENT and keeps working', async () => {
    const good = { tokens: Int32Array.of(1, 2), positions: Int32Array.of(0, 1), queryLens: Int32Array.of(2), blockTables: Int32Array.of(0), maxBlocks: 1, logitsPerSeq: Int32Array.of(1) };
    const m = engine.model;
    await expect(m.forward({ ...good, tokens: Int32Array.of(1, 5000) })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/vocabulary/) });
    await expect(m.forward({ ...good, blockTables: Int32Array.of(99) })).rejects.toThrow(/names block 99/);
    await expect(m.forward({ ...good, blockTables: Int32Array.of(-1) })).rejects.toThrow(/names block -1/);
    await expect(m.forward({ ...good, positions: Int32Array.of(0, 4) })).rejects.toThrow(/block table/);
    if (!onCpu) await expect(m.forward({ ...good, positions: Int32Array.of(1, 0) })).rejects.toThrow(/consecutive/);
    await expect(m.forward({ ...good, queryLens: Int32Array.of(3) })).rejects.toThrow(/queryLens/);
    await expect(m.forward({ ...good, logitsPerSeq: Int32Array.of(3) })).rejects.toThrow(/logitsPerSeq/);
    await expect(m.forward({ ...good, tokens: Int32Array.of(), positions: Int32Array.of(), queryLens: Int32Array.of(), blockTables: Int32Array.of(), logitsPerSeq: Int32Array.of() }))
      .rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    const [rows] = await forward(m, [{ tokens: PROMPT, start: 0, table: range(0, 5) }], vocab());
    expect(relError(rows, expected)).toBeLessThan(tol);
  });
});

withDevice('LLM engine on CUDA end to end', () => {
  let model: TinyModel;
  let single: Engine;
  let alone: number[][];
  const tokensOf = async (e: Engine, p: number[]) => (await e.complete(p, GREEDY)).tokenIds;

  beforeAll(async () => {
    model = writeTinyModel({ arch: 'qwen2', dtype: 'BF16', hidden: 256, heads: 4, kvHeads: 2, seed: 12 });
    single = await llm.startLlmEngine(model.dir, { device: DEVICE, numBlocks: 64, blockSize: 4, maxNumSeqs: 1, enablePrefixCaching: false, threads: 2 });
    alone = [];
    for (const p of PROMPTS) alone.push(await tokensOf(single, p));
  });
  afterAll(() => {
    single?.dispose();
    rmSync(model.dir, { recursive: true, force: true });
  });

  it('the first greedy token is the reference argmax wherever the reference has a clear winner', () => {
    const invFreq = invFreqOf(model.config);
    let checked = 0;
    PROMPTS.forEach((p, i) => {
      const last = referenceLogits(model, p, { invFreq }).at(-1)!;
      const sorted = [...last].sort((a, b) => b - a);
      const maxAbs = Math.max(...last.map(Math.abs));
      if (sorted[0] - sorted[1] < 2 * tolerance('bfloat16') * maxAbs) return; // a near tie: either token is right
      checked++;
      expect(alone[i][0], `prompt ${i}`).toBe(last.indexOf(sorted[0]));
    });
    console.log(`first tokens checked against the reference: ${checked} of ${PROMPTS.length}`);
  });

  it('batched requests give each one its single-request tokens', async () => {
    const engine = await llm.startLlmEngine(model.dir, { device: DEVICE, numBlocks: 64, blockSize: 4, enablePrefixCaching: false, threads: 2 });
    try {
      expect(await Promise.all(PROMPTS.map((p) => tokensOf(engine, p)))).toEqual(alone);
      expect(engine.stats().steps).toBeLessThan(PROMPTS.length * 12);
    } finally {
      engine.dispose();
    }
  });

  it('prefix caching: a repeated prompt hits the cache and gives the same tokens', async () => {
    const engine = await llm.startLlmEngine(model.dir, { device: DEVICE, numBlocks: 64, blockSize: 4, threads: 2 });
    try {
      expect(await tokensOf(engine, PROMPTS[5])).toEqual(alone[5]);
      expect(await tokensOf(engine, PROMPTS[5])).toEqual(alone[5]);
      expect(engine.stats().prefixCacheHits).toBe(20);
    } finally {
      engine.dispose();
    }
  });

  it('cancelling a stream frees its blocks', async () => {
    const engine = await llm.startLlmEngine(model.dir, { device: DEVICE, numBlocks: 64, blockSize: 4, enablePrefixCaching: false, threads: 2 });
    try {
      const g = engine.generate(PROMPTS[1], { ...GREEDY, maxTokens: 50 });
      let n = 0;
      for await (const _ of g) if (++n === 3) break;
      expect(g.finishReason).toBe('abort');
      await new Promise((r) => setTimeout(r, 20));
      expect(engine.stats()).toMatchObject({ running: 0, waiting: 0, kvCacheUsage: 0 });
      expect(await tokensOf(engine, PROMPTS[0])).toEqual(alone[0]);
    } finally {
      engine.dispose();
    }
  });
});

withDevice('LLM on CUDA: load errors and device memory', () => {
  cudaOnly('rejects unsupported head dims and weight types with ERR_UNSUPPORTED_OP', async () => {
    const odd = writeTinyModel({ arch: 'llama', hidden: 48, heads: 4, kvHeads: 1, seed: 2 }); // head_dim 12
    await expect(llm.startLlmEngine(odd.dir, { device: 'cuda', numBlocks: 8 })).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_OP', message: expect.stringMatching(/head_dim/) });
    const fallback = await llm.startLlmEngine(odd.dir, { device: 'auto', numBlocks: 8, threads: 2 }); // 'auto' takes the CPU for it
    expect(fallback.model.info.device).toBe('cpu');
    fallback.dispose();
    const ok = writeTinyModel({ arch: 'llama', seed: 2 });
    await expect(llm.startLlmEngine(ok.dir, { device: 'cuda', numBlocks: 8, weightType: 'float32' })).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_OP' });
    const half = await llm.startLlmEngine(ok.dir, { device: 'cuda', numBlocks: 8, weightType: 'float16' });
    expect(half.model.info.weightType).toBe('float16');
    half.dispose();
    for (const m of [odd, ok]) rmSync(m.dir, { recursive: true, force: true });
  });

  cudaOnly('a KV cache larger than the device rejects with ERR_CUDA_OOM and leaves no memory behind', async () => {
    const model = writeTinyModel({ arch: 'llama', seed: 3 });
    const before = hs.devices().memory;
    // 2 layers x 2 x 100M blocks x 16 tokens x 32 values x 2 bytes = 410 GB.
    await expect(llm.startLlmEngine(model.dir, { device: 'cuda', numBlocks: 100_000_000, blockSize: 16 }))
      .rejects.toMatchObject({ code: 'ERR_CUDA_OOM', message: expect.stringMatching(/KV cache/) });
    expect(hs.devices().memory).toMatchObject({ deviceBytes: before.deviceBytes, pinnedBytes: before.pinnedBytes });
    const engine = await llm.startLlmEngine(model.dir, { device: 'cuda', numBlocks: 8, blockSize: 4 });
    expect((await engine.complete([1, 2, 3], { ...GREEDY, maxTokens: 2 })).tokenIds).toHaveLength(2);
    engine.dispose();
    rmSync(model.dir, { recursive: true, force: true });
  });

  cudaOnly('dispose gives every device and pinned byte back', async () => {
    const model = writeTinyModel({ arch: 'qwen2', dtype: 'BF16', hidden: 256, heads: 4, kvHeads: 2, seed: 5 });
    const before = hs.devices().memory;
    const engine = await llm.startLlmEngine(model.dir, { device: 'cuda', numBlocks: 64, blockSize: 16 });
    const info = engine.model.info;
    expect(info.weightBytes).toBeGreaterThan(0);
    expect(info.kvCacheBytes).toBe(2 * 2 * 64 * 16 * 2 * 64 * 2); // layers x K,V x blocks x tokens x kv heads x head_dim x 2 bytes
    await Promise.all(PROMPTS.map((p) => engine.complete(p, GREEDY)));
    const during = hs.devices().memory;
    expect(during.deviceBytes - before.deviceBytes).toBe(engine.model.info.deviceBytes);
    expect(during.deviceBytes - before.deviceBytes).toBeGreaterThanOrEqual(info.weightBytes + info.kvCacheBytes);
    expect(during.pinnedBytes).toBeGreaterThan(before.pinnedBytes);
    engine.dispose();
    expect(hs.devices().memory).toMatchObject({ deviceBytes: before.deviceBytes, pinnedBytes: before.pinnedBytes });
    expect(() => engine.model.info).toThrow(expect.objectContaining({ code: 'ERR_DISPOSED' }));
    rmSync(model.dir, { recursive: true, force: true });
  });
});
