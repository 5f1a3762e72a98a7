// Shared by the LLM tests: the package's llm entry as users load it, tiny models, and helpers
// that run the native forward directly with hand-made block tables.
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { NativeLlm } from '../../lib/llm/native';
import { parseRopeScaling, ropeFrequencies } from '../../lib/llm/rope';
import { makeRandom } from '../../lib/llm/sampling';
import { safetensorsBytes, type TinyModel } from '../fixtures/hf-model';

export * as llm from '../../lib/llm/index';
export { ropeFrequencies, parseRopeScaling };

/** Prompts of mixed lengths (one of a single token, one repetitive for n-gram lookup, a long one last). */
export const PROMPTS: number[][] = [
  [5, 17, 200, 31, 99, 250, 3],
  [300, 42, 42, 7, 128, 64, 1, 290, 11, 12, 13, 14, 15, 16, 17, 18, 19],
  [9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3],
  [100],
  [1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3],
  [77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97],
];

/** The rotary inverse frequencies the engine derives from a model's config.json, as float32. */
export function invFreqOf(config: Record<string, unknown>): Float64Array {
  const headDim = (config.hidden_size as number) / (config.num_attention_heads as number);
  const max = config.max_position_embeddings as number;
  const scaling = parseRopeScaling(config.rope_scaling, max);
  return ropeFrequencies(headDim, config.rope_theta as number, scaling, max).invFreq.map(Math.fround);
}

/** Logits of every position of `tokens`, run as one prefill in blocks 0, 1, 2, ... */
export async function nativeLogitsAll(model: NativeLlm, tokens: readonly number[], vocab: number): Promise<Float32Array[]> {
  const blockSize = model.info.blockSize;
  const maxBlocks = Math.ceil(tokens.length / blockSize);
  const logits = await model.forward({
    tokens: Int32Array.from(tokens),
    positions: Int32Array.from(tokens.map((_, i) => i)),
    queryLens: Int32Array.of(tokens.length),
    blockTables: Int32Array.from({ length: maxBlocks }, (_, i) => i),
    maxBlocks,
    logitsPerSeq: Int32Array.of(tokens.length),
  });
  return tokens.map((_, i) => logits.subarray(i * vocab, (i + 1) * vocab));
}

/** max |a - b| / max |b| over all rows. */
export function maxRelError(actual: Float32Array[], expected: Float64Array[]): number {
  let diff = 0, ref = 0;
  expected.forEach((row, r) => row.forEach((v, i) => {
    diff = Math.max(diff, Math.abs(actual[r][i] - v));
    ref = Math.max(ref, Math.abs(v));
  }));
  return diff / ref;
}

/**
 * A copy of an untied float32 tiny model whose lm_head is scale * W + noise * U(-1, 1) * max|W|:
 * with no noise its logits are the original's times `scale` (the same ranking, other
 * distributions); noise makes its argmax agree with the original's only some of the time.
 */
export function writeLmHeadVariant(model: TinyModel, o: { scale?: number; noise?: number; seed?: number }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hs-llm-variant-'));
  for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) copyFileSync(path.join(model.dir, file), path.join(dir, file));
  const random = makeRandom(o.seed ?? 1);
  const tensors = [...model.weights].map(([name, w]) => {
    let values = w.data;
    if (name === 'lm_head.weight') {
      const max = w.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      values = w.data.map((v) => v * (o.scale ?? 1) + (o.noise ?? 0) * max * (2 * random() - 1));
    }
    return { name, dtype: 'F32', shape: w.shape, bytes: Buffer.from(Float32Array.from(values).buffer) };
  });
  writeFileSync(path.join(dir, 'model.safetensors'), safetensorsBytes(tensors));
  return dir;
}

/** Pearson's chi-square statistic of observed counts against expected probabilities (cells with p = 0 must be empty). */
export function chiSquare(counts: readonly number[], probs: readonly number[]): number {
  const n = counts.reduce((a, b) => a + b, 0);
  return counts.reduce((sum, c, i) => (probs[i] > 0 ? sum + (c - n * probs[i]) ** 2 / (n * probs[i]) : c > 0 ? Infinity : sum), 0);
}
