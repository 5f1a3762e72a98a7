// Speculative decoding with a draft model, end to end on tiny models: greedy tokens equal those of
// plain decoding (alone, batched, preempted, prefix-cached), a draft equal to the target has every
// draft accepted, blocks are freed, a draft with another vocabulary is refused, and sampled tokens
// follow the target's distribution (chi-square against the float64 reference).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { writeTinyModel, type TinyModel } from '../fixtures/hf-model';
import { chiSquare, llm, parseRopeScaling, PROMPTS, ropeFrequencies, writeLmHeadVariant } from './helpers';
import { referenceLogits } from './reference';

type Engine = Awaited<ReturnType<typeof llm.startLlmEngine>>;

const GREEDY = { temperature: 0, maxTokens: 16, ignoreEos: true };
const BASE = { numBlocks: 64, blockSize: 4, threads: 2 };

let model: TinyModel;
let expected: number[][];
let partialDraft: string;

async function allTokens(engine: Engine, params: object = GREEDY): Promise<number[][]> {
  const out = await Promise.all(PROMPTS.map((p) => engine.complete(p, params)));
  return out.map((o) => o.tokenIds);
}

async function withDraft(draftDir: string, options: object = {}): Promise<Engine> {
  return llm.startLlmEngine(model.dir, { ...BASE, ...options, speculative: { method: 'draft', model: draftDir, numSpeculativeTokens: 3 } });
}

beforeAll(async () => {
  model = writeTinyModel({ arch: 'qwen2', seed: 12 });
  partialDraft = writeLmHeadVariant(model, { noise: 0.6, seed: 5 });
  const single = await llm.startLlmEngine(model.dir, { ...BASE, maxNumSeqs: 1, enablePrefixCaching: false });
  expected = [];
  for (const p of PROMPTS) expected.push((await single.complete(p, GREEDY)).tokenIds);
  single.dispose();
});

describe('speculative decoding with a draft model', () => {
  let engine: Engine;
  afterAll(() => engine?.dispose());

  it('gives the greedy tokens of plain decoding, batched, with drafts partly accepted', async () => {
    engine = await withDraft(partialDraft);
    expect(await allTokens(engine)).toEqual(expected);
    const s = engine.stats();
    expect(s.acceptedDraftTokens).toBeGreaterThan(0);
    expect(s.acceptedDraftTokens).toBeLessThan(s.draftTokens);
    expect(s.kvCacheUsage).toBe(0);
    console.log(`draft model (noisy lm_head): ${s.acceptedDraftTokens} of ${s.draftTokens} drafts accepted in ${s.steps} steps`);
  });

  it('gives the same tokens one request at a time with an unrelated small draft model', async () => {
    const small = writeTinyModel({ arch: 'llama', seed: 99, layers: 1, hidden: 32, heads: 2, kvHeads: 1, intermediate: 48 });
    const e = await withDraft(small.dir, { maxNumSeqs: 1 });
    for (let i = 0; i < PROMPTS.length; i++) expect((await e.complete(PROMPTS[i], GREEDY)).tokenIds).toEqual(expected[i]);
    e.dispose();
  });

  it('accepts every draft when the draft model is the target itself', async () => {
    const e = await withDraft(model.dir);
    expect(await allTokens(e)).toEqual(expected);
    const s = e.stats();
    expect(s.draftTokens).toBeGreaterThan(0);
    expect(s.acceptedDraftTokens).toBe(s.draftTokens);
    // 16 tokens at up to 1 + 3 per step: 1 prefill step and at least 4 more per request.
    expect(s.steps).toBeLessThan(PROMPTS.length * 16);
    e.dispose();
  });

  it('keeps tokens identical under chunked prefill, preemption and prefix caching, and frees every block', async () => {
    const e = await withDraft(partialDraft, { numBlocks: 12, maxNumBatchedTokens: 8 });
    expect(await allTokens(e)).toEqual(expected);
    expect(e.stats().preemptions).toBeGreaterThan(0);
    const shared = PROMPTS[5];
    expect((await e.complete(shared, GREEDY)).tokenIds).toEqual(expected[5]);
    expect((await e.complete(shared, GREEDY)).tokenIds).toEqual(expected[5]);
    expect(e.stats().prefixCacheHits).toBeGreaterThan(0);
    expect(e.stats()).toMatchObject({ running: 0, waiting: 0, kvCacheUsage: 0 });
    e.dispose();
  });

  it('serves sampled requests with penalties, seeds and logprobs', async () => {
    const e = await withDraft(partialDraft);
    const params = { temperature: 0.8, topP: 0.9, repetitionPenalty: 1.3, frequencyPenalty: 0.5, seed: 3, maxTokens: 20, ignoreEos: true, logprobs: 1 };
    const [a, b] = await Promise.all([e.complete(PROMPTS[1], params), e.complete(PROMPTS[1], params)]);
    expect(a.tokenIds).toHaveLength(20);
    expect(a.tokenIds).toEqual(b.tokenIds); // same seed, same batch: the same draws
    const g = e.generate(PROMPTS[2], params);
    for await (const chunk of g) expect(chunk.logprobs!.logprob).toBeLessThanOrEqual(0);
    expect(e.stats().draftTokens).toBeGreaterThan(0);
    e.dispose();
  });

  // Each row is masked after the tokens before it are appended, so drafts the constraint forbids are
  // rejected and greedy output equals plain decoding's.
  it('keeps constrained (JSON schema, regex, choice) greedy output identical', async () => {
    const formats = [
      { jsonSchema: { type: 'object', properties: { ok: { type: 'boolean' }, n: { enum: [1, 2, 3] }, tag: { type: 'string', maxLength: 4 } }, required: ['ok', 'tag'] } },
      { regex: '(yes|no)-\\d{2,4}[a-c]?' },
      { choice: ['alpha', 'beta', 'alphabet'] },
    ];
    const plain = await llm.startLlmEngine(model.dir, BASE);
    const drafted = await withDraft(partialDraft);
    const ngram = await llm.startLlmEngine(model.dir, { ...BASE, speculative: { method: 'ngram', numSpeculativeTokens: 3 } });
    try {
      for (const responseFormat of formats)
        for (const p of PROMPTS.slice(0, 4)) {
          const params = { temperature: 0, maxTokens: 120, responseFormat };
          const want = await plain.complete(p, params);
          expect((await drafted.complete(p, params)).tokenIds).toEqual(want.tokenIds);
          expect((await ngram.complete(p, params)).tokenIds).toEqual(want.tokenIds);
        }
      expect(drafted.stats().acceptedDraftTokens).toBeGreaterThan(0);
      expect(ngram.stats().draftTokens).toBeGreaterThan(0);
    } finally {
      plain.dispose();
      drafted.dispose();
      ngram.dispose();
    }
  });

  it('frees the blocks of a cancelled request', async () => {
    const e = await withDraft(partialDraft, { enablePrefixCaching: false });
    const g = e.generate(PROMPTS[1], { ...GREEDY, maxTokens: 60 });
    let n = 0;
    for await (const chunk of g) if (++n === 5) break;
    expect(g.finishReason).toBe('abort');
    await new Promise((r) => setTimeout(r, 20));
    expect(e.stats()).toMatchObject({ running: 0, waiting: 0, kvCacheUsage: 0 });
    e.dispose();
  });

  it('refuses a draft model with another vocabulary, and bad options, with typed errors', async () => {
    const copy = (edit: (file: string, text: string) => string) => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'hs-llm-draft-'));
      for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors'])
        writeFileSync(path.join(dir, file), edit(file, readFileSync(path.join(partialDraft, file), 'latin1')), 'latin1');
      return dir;
    };
    const biggerVocab = copy((f, t) => (f === 'config.json' ? JSON.stringify({ ...JSON.parse(t), vocab_size: 400 }) : t));
    await expect(withDraft(biggerVocab)).rejects.toMatchObject({ code: 'ERR_INVALID_MODEL', message: expect.stringMatching(/vocab_size is 400/) });
    const swapped = copy((f, t) => {
      if (f !== 'tokenizer.json') return t;
      const json = JSON.parse(t);
      const vocab = json.model.vocab as Record<string, number>;
      [vocab.a, vocab.b] = [vocab.b, vocab.a];
      return JSON.stringify(json);
    });
    await expect(withDraft(swapped)).rejects.toMatchObject({ code: 'ERR_INVALID_MODEL', message: expect.stringMatching(/does not share the target's vocabulary/) });
    const opts = (speculative: object) => llm.startLlmEngine(model.dir, { ...BASE, speculative: speculative as never });
    await expect(opts({ method: 'draft', model: partialDraft, numSpeculativeTokens: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(opts({ method: 'draft' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(opts({ method: 'medusa' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(opts({ method: 'draft', model: '/nonexistent' })).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
  });
});

describe('speculative sampling with a draft model', () => {
  // Chi-square critical value for 7 degrees of freedom at p = 0.001 (8 cells). Requests are seeded,
  // so the outcome is fixed; the test also checks that drafts taken as they are would fail it.
  const CRITICAL_7DOF = 24.32;
  const N = 3000;
  const TEMPERATURE = 0.2;
  const DRAFT_SCALE = 0.25;

  it('sampled tokens follow the target distribution (top-2, three tokens, joint chi-square)', async () => {
    // The draft's logits are a quarter of the target's: the same top 2, a flatter distribution q.
    // The temperature makes the target's top-2 distributions lopsided enough for q to differ.
    const draftDir = writeLmHeadVariant(model, { scale: DRAFT_SCALE });
    const engine = await llm.startLlmEngine(model.dir, { ...BASE, numBlocks: 512, maxNumSeqs: 64, speculative: { method: 'draft', model: draftDir, numSpeculativeTokens: 2 } });
    const prompt = PROMPTS[0];
    const params = { temperature: TEMPERATURE, topK: 2, maxTokens: 3, ignoreEos: true };
    const outputs = await Promise.all(Array.from({ length: N }, (_, i) => engine.complete(prompt, { ...params, seed: i })));
    const stats = engine.stats();
    engine.dispose();
    expect(stats.acceptedDraftTokens).toBeGreaterThan(0);
    expect(stats.acceptedDraftTokens).toBeLessThan(stats.draftTokens);

    // Expected joint probabilities of (t1, t2, t3) from the float64 reference.
    const c = model.config as Record<string, number>;
    const max = c.max_position_embeddings;
    const invFreq = ropeFrequencies(c.hidden_size / c.num_attention_heads, c.rope_theta, parseRopeScaling(undefined, max), max).invFreq.map(Math.fround);
    const top2 = (tokens: number[], scale: number) => {
      const logits = referenceLogits(model, tokens, { invFreq }).at(-1)!;
      const [a, b] = Array.from(logits.keys()).sort((x, y) => logits[y] - logits[x]);
      const pa = 1 / (1 + Math.exp((scale * (logits[b] - logits[a])) / TEMPERATURE));
      return [{ token: a, p: pa }, { token: b, p: 1 - pa }];
    };
    const cells: { tokens: number[]; p: number; draftAsIs: number }[] = [];
    for (const t1 of top2(prompt, 1)) {
      const target2 = top2([...prompt, t1.token], 1), draft2 = top2([...prompt, t1.token], DRAFT_SCALE);
      target2.forEach((t2, j) => {
        for (const t3 of top2([...prompt, t1.token, t2.token], 1))
          cells.push({ tokens: [t1.token, t2.token, t3.token], p: t1.p * t2.p * t3.p, draftAsIs: t1.p * draft2[j].p * t3.p });
      });
    }
    const counts = cells.map(() => 0);
    let outside = 0;
    for (const o of outputs) {
      const at = cells.findIndex((cell) => cell.tokens.every((t, i) => t === o.tokenIds[i]));
      if (at === -1) outside++;
      else counts[at]++;
    }
    expect(outside).toBe(0);
    const stat = chiSquare(counts, cells.map((cell) => cell.p));
    console.log(`speculative sampling: chi-square ${stat.toFixed(1)} over ${cells.length} cells, ${stats.acceptedDraftTokens} of ${stats.draftTokens} drafts accepted`);
    expect(stat).toBeLessThan(CRITICAL_7DOF);
    // Power: had drafts been kept as drawn, the expected statistic would be N * sum (q' - p)^2 / p.
    const noncentrality = N * cells.reduce((s, cell) => s + (cell.draftAsIs - cell.p) ** 2 / cell.p, 0);
    expect(noncentrality).toBeGreaterThan(3 * CRITICAL_7DOF);
  }, 60_000);
});
