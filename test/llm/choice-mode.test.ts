// Choice mode (vLLM's guided_choice / structured_outputs.choice): the mask of ts/llm/choice-
// constraint.ts against a plain scan of the vocabulary, and a random tiny model constrained to a
// list of strings: every output must be one of them.
import { createRequire } from 'node:module';

import { describe, expect, it, vi } from 'vitest';

import { ChoiceConstraint } from '../../lib/llm/choice-constraint';
import { TokenTrie } from '../../lib/llm/token-trie';
import { writeTinyModel } from '../fixtures/hf-model';
import { llm } from './helpers';

describe('choice mask', () => {
  it('lets through exactly the tokens that continue the output along a choice, and EOS on one', () => {
    const EOS = 9;
    const texts = ['y', 'ye', 'yes', 's', 'es', ' please', ' ', 'n', 'no', null, 'yes please', 'x', '', 'o'];
    const choices = ['yes', 'no', 'yes please'];
    for (const path of [[], [0], [1], [2], [2, 6], [7], [8], [10]]) {
      const c = new ChoiceConstraint(choices, new TokenTrie(texts), texts.map((t) => (t === null ? null : new TextEncoder().encode(t))), [EOS]);
      for (const t of path) c.advance(t);
      const done = path.map((t) => texts[t]).join('');
      const row = Float32Array.from(texts, () => Math.random());
      const out = c.mask(row, true);
      const ids = [...out.keys()].filter((id) => out[id] !== -Infinity);
      const scan = texts.flatMap((t, id) => (t && choices.some((ch) => ch.startsWith(done + t)) ? [id] : []));
      if (choices.includes(done)) scan.push(EOS);
      expect(ids, JSON.stringify(done)).toEqual(scan.sort((a, b) => a - b));
      for (const id of ids) expect(out[id]).toBe(row[id]);
    }
  });
});

describe('choice mode in the engine', () => {
  it('constrains a random model to one of the strings', async () => {
    const model = writeTinyModel({ arch: 'llama', seed: 3 });
    const engine = await llm.startLlmEngine(model.dir, { numBlocks: 128, blockSize: 4, threads: 2 });
    try {
      const choice = ['positive', 'negative', 'neutral', 'neutral, leaning positive'];
      const outputs = await Promise.all(Array.from({ length: 12 }, (_, i) =>
        engine.complete('Sentiment:', { temperature: 1.5, seed: i + 1, maxTokens: 50, responseFormat: { choice } })));
      for (const o of outputs) {
        expect(choice, o.text).toContain(o.text);
        expect(o.finishReason).toBe('stop');
      }
      expect(new Set(outputs.map((o) => o.text)).size).toBeGreaterThan(1);
      const greedy = await engine.complete('Sentiment:', { temperature: 0, maxTokens: 50, responseFormat: { choice } });
      expect(choice).toContain(greedy.text);
      for (const bad of [{ choice: [] }, { choice: [''] }, { choice: 'yes' }])
        expect(() => engine.generate('x', { responseFormat: bad as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
      expect(() => engine.generate('x', { responseFormat: { choice }, minTokens: 3 })).toThrow(/minTokens/);
      // 'é' exists here only as two byte tokens (byte-level BPE pieces, each reading U+FFFD alone):
      // the choice is spelled byte by byte.
      const drinks = ['café', 'thé'];
      const picked = await Promise.all([1, 2, 3, 4].map((seed) => engine.complete('Drink:', { temperature: 1.5, seed, maxTokens: 20, responseFormat: { choice: drinks } })));
      for (const o of picked) {
        expect(drinks).toContain(o.text);
        expect(o.finishReason).toBe('stop');
      }
      expect(picked.some((o) => o.tokenIds.length > [...o.text].length)).toBe(true); // some character came in pieces
      // Where a constraint leaves no token at all (a text the vocabulary cannot spell), the request
      // fails with a typed error instead of sampling from nothing.
      // (the engine's own copy of the class: it loads lib/ through require, beside the test's import)
      const loaded = createRequire(import.meta.url)('../../lib/llm/choice-constraint.js') as { ChoiceConstraint: typeof ChoiceConstraint };
      const spy = vi.spyOn(loaded.ChoiceConstraint.prototype, 'mask').mockImplementation((row: Float32Array) => new Float32Array(row.length).fill(-Infinity));
      try {
        await expect(engine.complete('Drink:', { maxTokens: 5, responseFormat: { choice: drinks } })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/cannot spell/) });
      } finally {
        spy.mockRestore();
      }
      expect((await engine.complete('Drink:', { maxTokens: 5, temperature: 0, responseFormat: { choice: drinks } })).finishReason).toBe('stop'); // still serving
    } finally {
      engine.dispose();
    }
  });
});
