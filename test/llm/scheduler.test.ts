// Unit tests of the pieces under the engine: the block manager (allocation, prefix hashing, LRU
// eviction), sampling (filters, penalties, seeds), n-gram drafts, the speculative-sampling rule,
// and stop-string streaming.
import { describe, expect, it } from 'vitest';

import { BlockManager } from '../../lib/llm/scheduler/block-manager';
import { applyPenalties, makeRandom, resolveSampling, sampleToken, samplingProbs, tokenLogprobs } from '../../lib/llm/sampling';
import { proposeNgramDrafts } from '../../lib/llm/spec-decode';
import { drawFrom, verifyDraftToken } from '../../lib/llm/spec-sampling';
import { chiSquare } from './helpers';

const owner = (tokens: number[]) => ({ tokens, blockTable: [] as number[], blockHashes: [] as string[] });

describe('BlockManager', () => {
  it('allocates, refuses when full, and frees', () => {
    const m = new BlockManager(4, 4, false);
    const a = owner(new Array(10).fill(1));
    expect(m.ensure(a, 10)).toBe(true);
    expect(a.blockTable).toHaveLength(3);
    const b = owner(new Array(8).fill(2));
    expect(m.ensure(b, 8)).toBe(false);
    expect(b.blockTable).toHaveLength(0);
    m.release(a);
    expect(m.freeBlocks).toBe(4);
    expect(m.usage).toBe(0);
  });

  it('shares full blocks of equal prefixes and evicts the least recently freed', () => {
    const m = new BlockManager(6, 4, true);
    const tokens = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    const a = owner(tokens);
    expect(m.attachCachedPrefix(a)).toBe(0);
    m.ensure(a, 9);
    m.commitFullBlocks(a, 9);
    const b = owner([...tokens.slice(0, 8), 42, 43]);
    expect(m.attachCachedPrefix(b)).toBe(8);
    expect(b.blockTable).toEqual(a.blockTable.slice(0, 2));
    const c = owner([1, 2, 3, 4, 9, 9, 9, 9, 9]);
    expect(m.attachCachedPrefix(c)).toBe(4);
    m.release(c);
    m.release(b);
    m.release(a);
    expect(m.freeBlocks).toBe(6);
    // Fill the cache with other blocks: the cached ones are evicted and the prefix is gone.
    const d = owner(new Array(24).fill(7));
    expect(m.ensure(d, 24)).toBe(true);
    m.release(d);
    expect(m.attachCachedPrefix(owner(tokens))).toBe(0);
  });

  it('never serves a whole prompt from the cache (one token is always computed)', () => {
    const m = new BlockManager(4, 4, true);
    const a = owner([1, 2, 3, 4, 5, 6, 7, 8]);
    m.ensure(a, 8);
    m.commitFullBlocks(a, 8);
    expect(m.attachCachedPrefix(owner([1, 2, 3, 4, 5, 6, 7, 8]))).toBe(4);
  });
});

describe('sampling', () => {
  const logits = Float32Array.from([1, 5, 3, 4, 2]);
  const s = (p: object) => resolveSampling(p, 5);

  it('greedy, top-k and min-p pick from the right set', () => {
    expect(sampleToken(logits, s({ temperature: 0 }), [], [], Math.random)).toBe(1);
    const random = makeRandom(9);
    const topK = new Set(Array.from({ length: 200 }, () => sampleToken(logits, s({ topK: 2 }), [], [], random)));
    expect([...topK].sort()).toEqual([1, 3]);
    const minP = new Set(Array.from({ length: 200 }, () => sampleToken(logits, s({ minP: 0.3 }), [], [], random)));
    expect([...minP].sort()).toEqual([1, 3]);
    const topP = new Set(Array.from({ length: 200 }, () => sampleToken(logits, s({ topP: 0.5 }), [], [], random)));
    expect([...topP]).toEqual([1]);
  });

  it('seeds repeat and penalties move logits', () => {
    const draw = (seed: number) => { const r = makeRandom(seed); return Array.from({ length: 20 }, () => sampleToken(logits, s({}), [], [], r)); };
    expect(draw(3)).toEqual(draw(3));
    const l = Float32Array.from([2, -2, 1, 1, 1]);
    applyPenalties(l, s({ repetitionPenalty: 2, presencePenalty: 0.5, frequencyPenalty: 0.25 }), [0], [1, 1, 2]);
    expect(Array.from(l)).toEqual([1, -4 - 0.5 - 0.5, 0.5 - 0.5 - 0.25, 1, 1]);
    expect(() => s({ topP: 0 })).toThrow(/topP/);
    expect(() => s({ maxTokens: 1.5 })).toThrow(/maxTokens/);
  });

  it('log-probabilities are a log-softmax', () => {
    const lp = tokenLogprobs(logits, 1, 2);
    const z = Math.log(Array.from(logits).reduce((a, v) => a + Math.exp(v), 0));
    expect(lp.logprob).toBeCloseTo(5 - z, 5);
    expect(lp.top.map((t) => t.tokenId)).toEqual([1, 3]);
  });
});

describe('n-gram drafts', () => {
  it('proposes what followed the latest earlier match of the longest suffix', () => {
    const opts = { numSpeculativeTokens: 3, maxNgram: 3, minNgram: 1 };
    expect(proposeNgramDrafts([1, 2, 3, 4, 9, 1, 2, 3], opts, 10)).toEqual([4, 9, 1]);
    expect(proposeNgramDrafts([5, 6, 7], opts, 10)).toEqual([]);
    expect(proposeNgramDrafts([1, 2, 3, 4, 9, 1, 2, 3], opts, 1)).toEqual([4]);
  });
});

describe('speculative sampling', () => {
  // Chi-square critical value for 3 degrees of freedom at p = 0.001; the draws are seeded, so the
  // outcome is fixed, and a wrong rule misses p by far more (checked below on the drafts themselves).
  const CRITICAL_3DOF = 16.27;
  const p = Float64Array.of(0.5, 0.3, 0.2, 0);
  const q = Float64Array.of(0.1, 0.2, 0.3, 0.4);

  it('accept with min(1, p/q), else resample from norm(max(0, p - q)): the tokens follow p', () => {
    const random = makeRandom(7);
    const n = 20000;
    const drafts = [0, 0, 0, 0], tokens = [0, 0, 0, 0];
    let accepted = 0;
    for (let i = 0; i < n; i++) {
      const d = drawFrom(q, random);
      const r = verifyDraftToken(p, q, d, random);
      drafts[d]++;
      tokens[r.token]++;
      if (r.accepted) accepted++;
      if (r.accepted) expect(r.token).toBe(d);
    }
    expect(chiSquare(tokens, Array.from(p))).toBeLessThan(CRITICAL_3DOF);
    expect(chiSquare(drafts, Array.from(p))).toBeGreaterThan(CRITICAL_3DOF); // the check can tell q from p
    // Acceptance probability is sum_x min(p(x), q(x)) = 0.1 + 0.2 + 0.2 = 0.5.
    expect(Math.abs(accepted / n - 0.5)).toBeLessThan(0.02);
  });

  it('greedy point masses keep a draft only when it is the argmax', () => {
    const s = resolveSampling({ temperature: 0 }, 5);
    const target = samplingProbs(Float32Array.from([1, 5, 3, 4, 2]), s, [], []);
    const draft = samplingProbs(Float32Array.from([1, 2, 3, 9, 2]), s, [], []);
    expect(Array.from(target)).toEqual([0, 1, 0, 0, 0]);
    expect(verifyDraftToken(target, draft, 3, Math.random)).toEqual({ token: 1, accepted: false });
    expect(verifyDraftToken(target, target, 1, Math.random)).toEqual({ token: 1, accepted: true });
  });

  it('samplingProbs is the distribution sampleToken draws from', () => {
    const logits = Float32Array.from([1, 5, 3, 4, 2]);
    const s = resolveSampling({ temperature: 0.7, topK: 3, topP: 0.99 }, 5);
    const probs = samplingProbs(logits, s, [], []);
    const random = makeRandom(11);
    const counts = [0, 0, 0, 0, 0];
    for (let i = 0; i < 20000; i++) counts[sampleToken(logits, s, [], [], random)]++;
    expect(probs[0]).toBe(0);
    expect(probs[4]).toBe(0);
    expect(chiSquare(counts, Array.from(probs))).toBeLessThan(CRITICAL_3DOF);
  });
});
