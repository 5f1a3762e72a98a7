// YaRN rope scaling (ts/llm/rope.ts) against the separate reference of yarn-reference.ts, on the
// shapes of real checkpoints and of the tiny test models, and the errors of bad rope_scaling.
import { describe, expect, it } from 'vitest';

import { parseRopeScaling, ropeFrequencies } from './helpers';
import { yarnReference, type YarnSpec } from './yarn-reference';

const CASES: [string, YarnSpec, Record<string, unknown>][] = [
  ['Qwen2.5 long context (head 128, base 1e6, 32k x 4)', { headDim: 128, base: 1e6, factor: 4, originalContext: 32768 },
    { type: 'yarn', factor: 4, original_max_position_embeddings: 32768 }],
  ['Llama-style (head 128, base 5e5, 8k x 8, betas 16 / 2)', { headDim: 128, base: 5e5, factor: 8, originalContext: 8192, betaFast: 16, betaSlow: 2 },
    { rope_type: 'yarn', factor: 8, original_max_position_embeddings: 8192, beta_fast: 16, beta_slow: 2 }],
  ['tiny model (head 16, base 1e6)', { headDim: 16, base: 1e6, factor: 4, originalContext: 32768 },
    { type: 'yarn', factor: 4, original_max_position_embeddings: 32768 }],
  ['original context from max_position_embeddings (head 64, base 1e4, 2048 x 2)', { headDim: 64, base: 1e4, factor: 2, originalContext: 2048 },
    { type: 'yarn', factor: 2 }],
];

describe('YaRN rope scaling', () => {
  for (const [name, spec, json] of CASES) {
    it(name, () => {
      const rope = ropeFrequencies(spec.headDim, spec.base, parseRopeScaling(json, 2048), 2048);
      const ref = yarnReference(spec);
      let worst = 0;
      ref.invFreq.forEach((v, i) => { worst = Math.max(worst, Math.abs(rope.invFreq[i] - v) / v); });
      expect(worst).toBeLessThan(1e-12);
      expect(rope.attentionScaling).toBeCloseTo(ref.attentionScaling, 12);
      // The ends: the fastest dimension untouched, the slowest interpolated by the factor.
      const D = spec.headDim;
      expect(rope.invFreq[0]).toBe(1);
      expect(rope.invFreq[D / 2 - 1] * spec.factor).toBeCloseTo(spec.base ** (-(D - 2) / D), 15);
    });
  }

  it('takes attention_factor as given, and DeepSeek mscale ratios', () => {
    const given = ropeFrequencies(64, 1e4, parseRopeScaling({ type: 'yarn', factor: 4, attention_factor: 0.5 }, 2048), 2048);
    expect(given.attentionScaling).toBe(0.5);
    const ratio = ropeFrequencies(64, 1e4, parseRopeScaling({ type: 'yarn', factor: 40, mscale: 1, mscale_all_dim: 0.5 }, 4096), 4096);
    expect(ratio.attentionScaling).toBeCloseTo((0.1 * Math.log(40) + 1) / (0.05 * Math.log(40) + 1), 12);
  });

  it('rejects bad yarn parameters and unknown types', () => {
    expect(() => parseRopeScaling({ type: 'yarn', factor: 4, beta_fast: 1, beta_slow: 2 }, 2048)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_MODEL' }));
    expect(() => parseRopeScaling({ type: 'yarn', factor: 4, original_max_position_embeddings: -1 }, 2048)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_MODEL' }));
    expect(() => parseRopeScaling({ type: 'yarn', factor: 0.5 }, 2048)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_MODEL' }));
    expect(() => parseRopeScaling({ type: 'longrope', factor: 4 }, 2048)).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_OP' }));
  });
});
