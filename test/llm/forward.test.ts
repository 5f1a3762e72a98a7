// The native forward against the float64 reference: Llama and Qwen2, tied and untied embeddings,
// every rope_scaling variant (YaRN's from its own reference), F32 / F16 / BF16 checkpoints, sharded files, int8 weights.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { writeTinyModel, type TinyModelSpec } from '../fixtures/hf-model';
import { hs } from '../helpers';
import { referenceLogits } from './reference';
import { yarnReference } from './yarn-reference';
import { invFreqOf, llm, maxRelError, nativeLogitsAll } from './helpers';

const PROMPT = [5, 17, 200, 31, 99, 250, 3, 300, 42, 42, 7, 128, 64, 1, 290, 11, 12, 13, 14, 15];

const CASES: [string, TinyModelSpec, number][] = [
  ['llama untied f32', { arch: 'llama' }, 1e-4],
  ['llama tied f32, linear rope scaling', { arch: 'llama', tie: true, ropeScaling: { type: 'linear', factor: 2 } }, 1e-4],
  ['llama f16, llama3 rope scaling', { arch: 'llama', dtype: 'F16', ropeScaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 } }, 1e-4],
  ['qwen2 tied bf16, dynamic rope scaling', { arch: 'qwen2', tie: true, dtype: 'BF16', ropeScaling: { type: 'dynamic', factor: 4 } }, 1e-4],
  ['qwen2 untied f32, sharded', { arch: 'qwen2', sharded: true }, 1e-4],
  ['llama head_dim 12 (portable attention), 4 query heads per KV head', { arch: 'llama', hidden: 48, heads: 4, kvHeads: 1 }, 1e-4],
  // The AVX-512 attention keeps the output sums in registers, head_dim / 16 vectors x group at most 16 at a time.
  ['llama head_dim 128, 4 query heads per KV head (two column passes over V)', { arch: 'llama', hidden: 512, heads: 4, kvHeads: 1 }, 1e-4],
  ['llama head_dim 32, 8 query heads per KV head', { arch: 'llama', hidden: 256, heads: 8, kvHeads: 1 }, 1e-4],
  ['llama head_dim 16, 3 query heads per KV head (no register-blocked group)', { arch: 'llama', hidden: 48, heads: 3, kvHeads: 1 }, 1e-4],
];

describe('LLM forward vs a float64 reference', () => {
  for (const [name, spec, tol] of CASES) {
    it(name, async () => {
      const model = writeTinyModel({ ...spec, seed: 7 });
      const engine = await llm.startLlmEngine(model.dir, { numBlocks: 8, blockSize: 4, threads: 2 });
      const actual = await nativeLogitsAll(engine.model, PROMPT, model.vocabSize);
      const expected = referenceLogits(model, PROMPT, { invFreq: invFreqOf(model.config) });
      const err = maxRelError(actual, expected);
      console.log(`${name}: max rel error ${err.toExponential(2)}`);
      expect(err).toBeLessThan(tol);
      engine.dispose();
    });
  }

  // YaRN's frequencies and its cos/sin multiplier (1.14 here) from yarn-reference.ts, not from the
  // engine's rope.ts: the ramp covers dimensions 2-5 of 8 at head_dim 16.
  it('qwen2 bf16, yarn rope scaling (Qwen2.5 long-context setting)', async () => {
    const ropeScaling = { type: 'yarn', factor: 4, original_max_position_embeddings: 32768 };
    const model = writeTinyModel({ arch: 'qwen2', dtype: 'BF16', ropeScaling, seed: 7 });
    const engine = await llm.startLlmEngine(model.dir, { numBlocks: 8, blockSize: 4, threads: 2 });
    const actual = await nativeLogitsAll(engine.model, PROMPT, model.vocabSize);
    const yarn = yarnReference({ headDim: 16, base: model.config.rope_theta as number, factor: 4, originalContext: 32768 });
    const expected = referenceLogits(model, PROMPT, { invFreq: yarn.invFreq.map(Math.fround), attentionScaling: yarn.attentionScaling });
    const err = maxRelError(actual, expected);
    console.log(`yarn: max rel error ${err.toExponential(2)}`);
    expect(err).toBeLessThan(1e-4);
    // Without the multiplier the logits move well past that bound: the test sees it.
    expect(maxRelError(actual, referenceLogits(model, PROMPT, { invFreq: yarn.invFreq.map(Math.fround) }))).toBeGreaterThan(1e-3);
    engine.dispose();
  });

  // MistralForCausalLM is Llama's layout: the same logits; a sliding window caps the context.
  it('mistral: the llama forward, contexts capped at sliding_window', async () => {
    const model = writeTinyModel({ arch: 'llama', seed: 7 });
    const llama = await llm.startLlmEngine(model.dir, { numBlocks: 8, blockSize: 4, threads: 2 });
    const expected = await nativeLogitsAll(llama.model, PROMPT, model.vocabSize);
    llama.dispose();
    const file = path.join(model.dir, 'config.json');
    const config = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...config, architectures: ['MistralForCausalLM'], model_type: 'mistral', sliding_window: 24 }));
    const mistral = await llm.startLlmEngine(model.dir, { numBlocks: 8, blockSize: 4, threads: 2 });
    expect(await nativeLogitsAll(mistral.model, PROMPT, model.vocabSize)).toEqual(expected);
    expect(mistral.maxModelLen).toBe(24);
    mistral.dispose();
    writeFileSync(file, JSON.stringify({ ...config, architectures: ['MistralForCausalLM'], sliding_window: null }));
    const unwindowed = await llm.startLlmEngine(model.dir, { numBlocks: 64, blockSize: 4, threads: 2 });
    expect(unwindowed.maxModelLen).toBe(config.max_position_embeddings);
    unwindowed.dispose();
    writeFileSync(file, JSON.stringify({ ...config, architectures: ['MistralForCausalLM'], attention_bias: true }));
    await expect(llm.startLlmEngine(model.dir, { numBlocks: 4 })).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_OP' });
  });

  // Matrices and cache pools of 2 MiB and more live in huge-page mappings (Buffer::allocate_huge):
  // the same logits, and every host byte back on dispose.
  it('matrices and KV pools over 2 MiB (huge-page mappings): same logits, memory returned', async () => {
    const model = writeTinyModel({ arch: 'llama', hidden: 512, heads: 4, kvHeads: 2, intermediate: 1536, seed: 5 });
    const before = hs.devices().memory;
    // gate/up/down 1536 x 512 float32 = 3 MiB; each K and V pool 512 blocks x 4 x 256 floats = 2 MiB.
    const engine = await llm.startLlmEngine(model.dir, { numBlocks: 512, blockSize: 4, threads: 2 });
    expect(hs.devices().memory.hostBytes - before.hostBytes).toBeGreaterThan(2 * 4 * (3 << 20));
    const actual = await nativeLogitsAll(engine.model, PROMPT, model.vocabSize);
    expect(maxRelError(actual, referenceLogits(model, PROMPT, { invFreq: invFreqOf(model.config) }))).toBeLessThan(1e-4);
    engine.dispose();
    expect(hs.devices().memory).toMatchObject({ hostBytes: before.hostBytes, hostBuffers: before.hostBuffers });
  });

  // bf16 checkpoints make quotients that land exactly on .5 common: the tie rule must be the same.
  it.each(['F32', 'BF16'] as const)('int8 weight-only quantisation of a %s checkpoint matches the quantised reference', async (dtype) => {
    const model = writeTinyModel({ arch: 'qwen2', seed: 3, dtype });
    const engine = await llm.startLlmEngine(model.dir, { numBlocks: 8, blockSize: 4, weightType: 'int8', threads: 2 });
    expect(engine.model.info.weightType).toBe('int8');
    const actual = await nativeLogitsAll(engine.model, PROMPT, model.vocabSize);
    expect(maxRelError(actual, referenceLogits(model, PROMPT, { invFreq: invFreqOf(model.config), int8: true }))).toBeLessThan(1e-4);
    const full = referenceLogits(model, PROMPT, { invFreq: invFreqOf(model.config) });
    expect(maxRelError(actual, full)).toBeLessThan(0.1);
    engine.dispose();
  });
});

describe('LLM loading and forward errors', () => {
  it('rejects malformed checkpoints with ERR_INVALID_MODEL / ERR_UNSUPPORTED_OP', async () => {
    const truncated = writeTinyModel({ arch: 'llama', seed: 2 });
    const file = path.join(truncated.dir, 'model.safetensors');
    writeFileSync(file, readFileSync(file).subarray(0, 5000));
    await expect(llm.startLlmEngine(truncated.dir, { numBlocks: 4 })).rejects.toMatchObject({ code: 'ERR_INVALID_MODEL' });
    const garbage = writeTinyModel({ arch: 'llama', seed: 2 });
    writeFileSync(path.join(garbage.dir, 'model.safetensors'), Buffer.from('\xff\xff\xff\xff\xff\xff\xff\x7fnot a header'));
    await expect(llm.startLlmEngine(garbage.dir, { numBlocks: 4 })).rejects.toMatchObject({ code: 'ERR_INVALID_MODEL' });
    const wrongShape = writeTinyModel({ arch: 'llama', seed: 2 });
    const config = JSON.parse(readFileSync(path.join(wrongShape.dir, 'config.json'), 'utf8'));
    writeFileSync(path.join(wrongShape.dir, 'config.json'), JSON.stringify({ ...config, intermediate_size: 96 }));
    await expect(llm.startLlmEngine(wrongShape.dir, { numBlocks: 4 })).rejects.toThrow(/mlp.gate_proj.weight has shape \[128,64\], expected \[96,64\]/);
    writeFileSync(path.join(wrongShape.dir, 'config.json'), JSON.stringify({ ...config, architectures: ['GPT2LMHeadModel'] }));
    await expect(llm.startLlmEngine(wrongShape.dir, { numBlocks: 4 })).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_OP' });
    writeFileSync(path.join(wrongShape.dir, 'config.json'), JSON.stringify({ ...config, rope_scaling: { rope_type: 'longrope', factor: 4 } }));
    await expect(llm.startLlmEngine(wrongShape.dir, { numBlocks: 4 })).rejects.toThrow(/longrope/);
    // Sizes far past the checkpoint fail on its tensors (or before), without allocating for them.
    writeFileSync(path.join(wrongShape.dir, 'config.json'), JSON.stringify({ ...config, num_hidden_layers: 2 ** 31 }));
    await expect(llm.startLlmEngine(wrongShape.dir, { numBlocks: 4 })).rejects.toMatchObject({ code: 'ERR_INVALID_MODEL', message: expect.stringMatching(/model\.layers\.\d+\./) });
    writeFileSync(path.join(wrongShape.dir, 'config.json'), JSON.stringify({ ...config, head_dim: 1e9 }));
    await expect(llm.startLlmEngine(wrongShape.dir, { numBlocks: 4 })).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_OP', message: expect.stringMatching(/head_dim/) });
  });

  it('rejects bad forward batches with ERR_INVALID_ARGUMENT', async () => {
    const model = writeTinyModel({ arch: 'llama', seed: 2 });
    const engine = await llm.startLlmEngine(model.dir, { numBlocks: 4, blockSize: 4, threads: 1 });
    const good = { tokens: Int32Array.of(1, 2), positions: Int32Array.of(0, 1), queryLens: Int32Array.of(2), blockTables: Int32Array.of(0), maxBlocks: 1, logitsPerSeq: Int32Array.of(1) };
    expect((await engine.model.forward(good)).length).toBe(model.vocabSize);
    await expect(engine.model.forward({ ...good, tokens: Int32Array.of(1, 5000) })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/vocabulary/) });
    await expect(engine.model.forward({ ...good, blockTables: Int32Array.of(9) })).rejects.toThrow(/names block 9/);
    await expect(engine.model.forward({ ...good, positions: Int32Array.of(0, 4) })).rejects.toThrow(/block table/);
    await expect(engine.model.forward({ ...good, queryLens: Int32Array.of(3) })).rejects.toThrow(/queryLens/);
    expect(() => engine.model.forward({ ...good, tokens: [1, 2] as unknown as Int32Array })).toThrow(TypeError);
    engine.dispose();
    expect(() => engine.model.forward(good)).toThrow(expect.objectContaining({ code: 'ERR_DISPOSED' }));
  });
});
