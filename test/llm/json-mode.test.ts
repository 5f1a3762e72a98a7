// JSON mode (response_format json_object): the incremental checker of ts/llm/json-constraint.ts
// judged by JSON.parse (every prefix of a valid object accepted, complete exactly at its end; broken
// documents rejected), the token trie against a plain scan of the vocabulary, and the engine: a
// random tiny model's sampled outputs, constrained, must parse as JSON objects.
import { describe, expect, it } from 'vitest';

import { feed, isComplete, JSON_START, TokenTrie } from '../../lib/llm/json-constraint';
import { writeTinyModel } from '../fixtures/hf-model';
import { llm } from './helpers';

const VALID = [
  '{}', ' { } ', '{"a":1}', '{"a": [1, -2.5e+3, 0, 0.25, true, false, null], "b": {"c": "x\\"y\\\\z\\u00e9\\n"}}',
  '{"": []}', '{\n\t"k" : { "deep" : [ [ [ ] ] , { } ] }\r\n}', '{"n": -0.0E-0}', '{"s": "naïve ✓"}',
];
const INVALID = ['[1]', '"x"', '1', '{a:1}', '{"a":01}', '{"a":1,}', '{"a" 1}', '{"a":tru}', '{"a":"\\x"}', '{"a":[1 2]}', '{"a":.5}',
  '{"a":1}}', '{"a":1} x', '{"a":"\u0001"}', '{"a":1.}', '{"a":-}', '{"a":1e}', '{"a":"\\u12g4"}'];

describe('JSON checker', () => {
  it('accepts every prefix of valid objects and completes exactly at their end', () => {
    for (const doc of VALID) {
      expect(JSON.parse(doc)).toBeTypeOf('object');
      const chars = [...doc];
      for (let i = 0; i <= chars.length; i++) {
        const s = feed(JSON_START, chars.slice(0, i).join(''));
        expect(s, `${JSON.stringify(doc)} prefix ${i}`).not.toBeNull();
        // Complete once the object is closed (trailing whitespace keeps it complete).
        const prefix = chars.slice(0, i).join('');
        let parses = true;
        try {
          parses = typeof JSON.parse(prefix) === 'object' && prefix.trim().startsWith('{');
        } catch {
          parses = false;
        }
        expect(isComplete(s!), `${JSON.stringify(prefix)}`).toBe(parses);
      }
    }
  });

  it('rejects what JSON.parse rejects, and non-object documents', () => {
    for (const doc of INVALID) {
      const s = feed(JSON_START, doc);
      expect(s === null || !isComplete(s), JSON.stringify(doc)).toBe(true);
    }
  });

  it('allows through the trie exactly the tokens a scan of the vocabulary allows', () => {
    const texts = ['{', '}', '"', '"a"', ':', ' ', '1', '12', '1.', '.5', ',', '[', ']', 'true', 'tr', 'x', '"}', '}}', null, '', '\\n', 'é', '{"'];
    const trie = new TokenTrie(texts);
    for (const prefix of ['', '{', '{"a', '{"a":', '{"a":1', '{"a":[', '{"a":[1', '{"a":"\\', '{"a":t', '{"a":1}']) {
      const s = feed(JSON_START, prefix)!;
      const scan = texts.flatMap((t, id) => (t && feed(s, t) !== null ? [id] : []));
      expect(trie.allowed(s).sort((a, b) => a - b), JSON.stringify(prefix)).toEqual(scan);
    }
  });
});

describe('JSON mode in the engine', () => {
  it('constrains sampled outputs of a random model to JSON objects', async () => {
    const model = writeTinyModel({ arch: 'qwen2', seed: 12 });
    const engine = await llm.startLlmEngine(model.dir, { numBlocks: 256, blockSize: 4, threads: 2 });
    try {
      const outputs = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map((seed) =>
        engine.complete('Reply in JSON:', { temperature: 1, seed, maxTokens: 300, responseFormat: 'json_object' })));
      const finished = outputs.filter((o) => o.finishReason === 'stop');
      console.log(`json mode: ${finished.length} of ${outputs.length} outputs closed their object within 300 tokens`);
      expect(finished.length).toBeGreaterThan(0);
      for (const o of finished) expect(JSON.parse(o.text)).toBeTypeOf('object');
      for (const o of outputs) expect(feed(JSON_START, o.text), o.text).not.toBeNull();
      // Unconstrained, the same seeds do not give JSON.
      const free = await engine.complete('Reply in JSON:', { temperature: 1, seed: 1, maxTokens: 30 });
      expect(() => JSON.parse(free.text)).toThrow();
      expect(() => engine.generate('x', { responseFormat: 'json_schema' as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
      // minTokens holding EOS back past the object's end: whitespace fills in, the output stays valid.
      const held = await engine.complete('Reply in JSON:', { temperature: 1, seed: outputs.indexOf(finished[0]) + 1, maxTokens: 300, minTokens: 290, responseFormat: 'json_object' });
      expect(JSON.parse(held.text)).toBeTypeOf('object');
    } finally {
      engine.dispose();
    }
  });
});
