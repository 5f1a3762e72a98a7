// Choice mode (vLLM's guided_choice / structured_outputs.choice): the mask of ts/llm/choice-
// constraint.ts against a plain scan of the vocabulary, and a random tiny model constrained to a
// list of strings: every output must be one of them.
import { describe, expect, it } from 'vitest';

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
      const c = new ChoiceConstraint(choices, new TokenTrie(texts), texts, [EOS]);
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
      // 'é' exists here only as two byte tokens (each reads U+FFFD alone): the output cannot go on
      // past 'caf', and the request fails with a typed error instead of sampling from nothing.
      await expect(engine.complete('Drink:', { temperature: 0, maxTokens: 10, responseFormat: { choice: ['café'] } }))
        .rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/byte pieces/) });
    } finally {
      engine.dispose();
    }
  });
});
