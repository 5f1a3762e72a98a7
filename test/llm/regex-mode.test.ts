// Regex mode (vLLM's guided_regex / structured_outputs.regex): the automaton of ts/llm/regex.ts
// judged by JavaScript's own RegExp (whole matches, every prefix of one alive, random walks that
// end in matches), the mask against a plain scan of the vocabulary, and a random tiny model whose
// constrained outputs must match.
import { describe, expect, it } from 'vitest';

import { compileRegex, type CompiledRegex, type RegexState } from '../../lib/llm/regex';
import { RegexConstraint } from '../../lib/llm/regex-constraint';
import { TokenTrie } from '../../lib/llm/token-trie';
import { writeTinyModel } from '../fixtures/hf-model';
import { llm } from './helpers';

function run(re: CompiledRegex, text: string, from: RegexState | null = re.initial): RegexState | null {
  let s = from;
  for (const c of text) s = s === null ? null : re.next(s, c);
  return s;
}

const PATTERNS = ['\\d{3}-\\d{2}', '(yes|no)(, because [a-z ]{1,8})?\\.', '^[A-Z][a-z]*( [A-Z][a-z]*)*$', '(?P<year>\\d{4})-(0[1-9]|1[0-2])',
  '[^"\\\\]*', 'a+b*|b+a*', '(ab|a)(bc|c)?', '\\$\\d+\\.\\d\\d', 'é+ü?', '.{2,4}x', '(a|b)\\1c'];

describe('regex automaton', () => {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const alphabet = [...'ab0123456789-yesno, becauxyzYN.$"\\éüAZ '];

  it('accepts exactly what RegExp matches whole, and keeps every prefix of a match alive', () => {
    for (const pattern of PATTERNS) {
      const re = compileRegex(pattern);
      const js = new RegExp(`^(?:${pattern.replace('(?P<', '(?<').replace(/^\^/, '').replace(/\$$/, '')})$`, 'u');
      const samples: string[] = [];
      for (let i = 0; i < 400; i++) samples.push(Array.from({ length: Math.floor(rand() * 8) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join(''));
      // Random walks through the automaton: each ends in a match (no state is a dead end).
      for (let i = 0; i < 200; i++) {
        let s = re.initial, text = '';
        while (!(re.accepts(s) && rand() < 0.3)) {
          const next = alphabet.filter((c) => re.next(s, c) !== null);
          if (next.length === 0) break;
          const c = next[Math.floor(rand() * next.length)];
          s = re.next(s, c)!;
          text += c;
          if (text.length > 40) break;
        }
        if (re.accepts(s)) samples.push(text);
        else expect(text.length, `${pattern}: dead end after ${JSON.stringify(text)}`).toBeGreaterThan(40);
      }
      let matched = 0;
      for (const text of samples) {
        const s = run(re, text);
        const match = js.test(text);
        matched += match ? 1 : 0;
        expect(s !== null && re.accepts(s), `${pattern} on ${JSON.stringify(text)}`).toBe(match);
        if (match) for (let i = 0; i <= text.length; i++) expect(run(re, text.slice(0, i)), `${pattern} prefix of ${text}`).not.toBeNull();
      }
      expect(matched, pattern).toBeGreaterThan(20);
    }
  });

  it('groups states that take the same strings up to a depth', () => {
    const alphabet = ['a', 'b', '1', ' ', 'é'];
    const words = (n: number): string[] => (n === 0 ? [''] : words(n - 1).flatMap((w) => (w.length === n - 1 ? [w, ...alphabet.map((c) => w + c)] : [w])));
    const upTo3 = [...new Set(words(3))];
    for (const pattern of ['[ab ]{0,12}', 'a+b?1{2,5}', '(ab|a)(b1|1)?', '[^1]{3,9}é?', 'é+ü?']) {
      const re = compileRegex(pattern);
      const states = new Set<number>();
      for (const w of upTo3.concat(['aaaaaa', 'ab ab ab', 'ab1', 'aa11', 'ééé'])) {
        const s = run(re, w);
        if (s !== null) states.add(s);
      }
      for (const depth of [1, 2, 3]) {
        const blocks = re.blocksUpTo(depth);
        const signature = (s: number) => upTo3.filter((w) => w.length <= depth).map((w) => (run(re, w, s) === null ? 0 : 1)).join('');
        for (const s of states) for (const t of states)
          if (blocks[s] === blocks[t]) expect(signature(s), `${pattern} depth ${depth}: ${s} ~ ${t}`).toBe(signature(t));
      }
    }
    // A counter collapses: states with more than `depth` chars of room left are one block.
    const counted = compileRegex('[a-z]{0,200}');
    expect(new Set(counted.blocksUpTo(8)).size).toBeLessThanOrEqual(10);
  });

  it('refuses what has no automaton, or too large a one', () => {
    for (const bad of ['a(?=b)', '(a+)\\1', 'a\\bb', 'a^b', '(', '[z-a]', '[]', '(a|b)*a(a|b){20}'])
      expect(() => compileRegex(bad), bad).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});

describe('regex mask', () => {
  it('lets through exactly the tokens that keep the automaton alive, and EOS on a match', () => {
    const EOS = 3;
    const texts = ['1', '12', '123', null, '-', '3-4', 'a', '', '-45', '4', '5x'];
    const re = compileRegex('\\d{3}-\\d{1,2}');
    const trie = new TokenTrie(texts);
    for (const path of [[], [0], [1], [2], [2, 4], [2, 4, 9], [1, 5], [2, 8]]) {
      const c = new RegexConstraint(re, trie, texts.map((t) => (t === null ? null : new TextEncoder().encode(t))), [EOS]);
      for (const t of path) c.advance(t);
      const state = run(re, path.map((t) => texts[t]).join(''))!;
      const row = Float32Array.from(texts, () => Math.random());
      const out = c.mask(row);
      const ids = [...out.keys()].filter((id) => out[id] !== -Infinity);
      const scan = texts.flatMap((t, id) => (t && run(re, t, state) !== null ? [id] : []));
      if (re.accepts(state)) scan.push(EOS);
      expect(ids, JSON.stringify(path)).toEqual(scan.sort((a, b) => a - b));
    }
  });
});

describe('regex mode in the engine', () => {
  it('constrains a random model to whole matches', async () => {
    const model = writeTinyModel({ arch: 'qwen2', seed: 21 });
    const engine = await llm.startLlmEngine(model.dir, { numBlocks: 128, blockSize: 4, threads: 2 });
    try {
      // The last: characters the tiny byte-level vocabulary has only in pieces.
      for (const regex of ['\\d{3}-\\d{2}-[A-Z][a-z]{2,5}', '(yes|no), because [a-z]{1,6}( [a-z]{1,6}){0,2}\\.', '(?P<y>20\\d\\d)-(0[1-9]|1[0-2])', '(é|ü|👍){1,3}!']) {
        const js = new RegExp(`^(?:${regex.replace('(?P<', '(?<')})$`, 'u');
        const outputs = await Promise.all([1, 2, 3, 4, 5, 6].map((seed) => engine.complete('Answer:', { temperature: 1, seed, maxTokens: 60, responseFormat: { regex } })));
        for (const o of outputs) {
          expect(o.finishReason, `${regex}: ${o.text}`).toBe('stop');
          expect(js.test(o.text), `${regex}: ${JSON.stringify(o.text)}`).toBe(true);
        }
      }
      expect(() => engine.generate('x', { responseFormat: { regex: 'a(?!b)' } })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
      expect(() => engine.generate('x', { responseFormat: { regex: '\\d+' }, ignoreEos: true })).toThrow(/ignoreEos/);
    } finally {
      engine.dispose();
    }
  });
});
