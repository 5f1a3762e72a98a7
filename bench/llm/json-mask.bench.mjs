#!/usr/bin/env node
// What JSON mode adds to a decode step: the token mask (lib/llm/json-constraint.js) over a synthetic
// 152k-token vocabulary (Qwen2's size; random texts of 1-7 chars drawn with JSON's structural
// characters) in the states a generation passes through, beside the step it rides on: a batch-1
// forward of the random-weight Llama 'small' (bf16 projections, 2 threads). tinybench medians.
//   node bench/llm/json-mask.bench.mjs
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

import { Bench } from 'tinybench';

const require = createRequire(import.meta.url);
const { feed, jsonStart } = require('../../lib/llm/json-checker.js');
const { jsonMask } = require('../../lib/llm/json-constraint.js');
const { TokenTrie } = require('../../lib/llm/token-trie.js');
const { ANY_OBJECT, parseSchema } = require('../../lib/llm/json-schema.js');
const { writeRandomLlama } = require('../../lib/llm/bench/randomLlama.js');
const { startLlmEngine } = require('../../lib/llm/index.js');

const chars = 'abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ0123456789{}[]":,.\\\n-_ätion';
let seed = 1;
const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const texts = Array.from({ length: 152064 }, () => {
  let s = '';
  for (let i = 1 + Math.floor(rnd() * 7); i > 0; i--) s += chars[Math.floor(rnd() * chars.length)];
  return s;
});
const trie = new TokenTrie(texts);
const schema = parseSchema({ type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' }, tags: { type: 'array', items: { type: 'string' } } } });
const union = parseSchema({ anyOf: ['point', 'label'].map((kind) => ({ type: 'object', properties: { kind: { const: kind }, text: { type: 'string' }, x: { type: 'integer' } }, required: ['kind'] })) });
const states = [
  ['object start', jsonStart(ANY_OBJECT), '{'],
  ['inside a string', jsonStart(ANY_OBJECT), '{"abc'],
  ['inside a number', jsonStart(ANY_OBJECT), '{"a": 12'],
  ['schema: a key', jsonStart(schema), '{"'],
  ['schema: an integer', jsonStart(schema), '{"age": 4'],
  ['union of 2 objects, a key', jsonStart(union), '{"x": 1, "'],
  ['union of 2 objects, in a string', jsonStart(union), '{"x": 1, "text": "ab'],
];

const dir = mkdtempSync(path.join(os.tmpdir(), 'hs-json-mask-'));
const engine = await startLlmEngine(writeRandomLlama(dir, 'small'), { threads: 2, numBlocks: 64, blockSize: 16, matmulPrecision: 'bf16' });
const batch = { tokens: Int32Array.of(100), positions: Int32Array.of(100), queryLens: Int32Array.of(1),
  blockTables: Int32Array.from({ length: 7 }, (_, i) => i), maxBlocks: 7, logitsPerSeq: Int32Array.of(1) };
const logits = new Float32Array(texts.length);

const bench = new Bench({ time: 2000, warmupTime: 300, retainSamples: true });
bench.add('decode step (small, batch 1)', async () => { await engine.model.forward(batch); });
for (const [label, start, prefix] of states) {
  const s = feed(start, prefix);
  bench.add(`mask: ${label}`, () => { jsonMask(trie, s, logits); });
}
await bench.run();
engine.dispose();
rmSync(dir, { recursive: true, force: true });

const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const step = median(bench.tasks[0].result.latency.samples);
console.log(`${new Date().toISOString().slice(0, 16)} UTC, ${os.cpus()[0].model}, node ${process.version}\n`);
console.log('| task | median ms | vs the decode step |\n|---|---|---|');
for (const t of bench.tasks) {
  const ms = median(t.result.latency.samples);
  console.log(`| ${t.name} | ${ms.toFixed(3)} | ${(ms / step).toFixed(2)} |`);
}
