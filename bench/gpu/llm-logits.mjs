// Last-token logits of the LLM engine for prompts of token ids, as JSON on stdout, for llm.py to
// compare with Hugging Face transformers on the same files. Each prompt runs twice in fresh cache
// blocks: as one prefill (flash_attention_prefill) and as a prefill of all but its last token then
// that token alone (paged_attention_decode over the cache).
//   node bench/gpu/llm-logits.mjs <model dir> <prompts.json: number[][]> [device, default cuda]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { startLlmEngine } = require('../../lib/llm/index.js');

const [dir, promptsFile, device = 'cuda'] = process.argv.slice(2);
const prompts = JSON.parse(readFileSync(promptsFile, 'utf8'));
const blockSize = 16;
const blocksOf = (n) => Math.ceil(n / blockSize);
const numBlocks = 2 * Math.max(...prompts.map((p) => blocksOf(p.length))) + 2;
const engine = await startLlmEngine(dir, { device, numBlocks, blockSize });
try {
  const run = (tokens, start, table, logits) => engine.model.forward({
    tokens: Int32Array.from(tokens),
    positions: Int32Array.from(tokens.map((_, i) => start + i)),
    queryLens: Int32Array.of(tokens.length),
    blockTables: Int32Array.from(table),
    maxBlocks: table.length,
    logitsPerSeq: Int32Array.of(logits),
  });
  const results = [];
  for (const p of prompts) {
    const n = blocksOf(p.length);
    const first = Array.from({ length: n }, (_, i) => i), second = Array.from({ length: n }, (_, i) => n + i);
    const prefill = await run(p, 0, first, 1);
    if (p.length > 1) await run(p.slice(0, -1), 0, second, 0);
    const decode = await run(p.slice(-1), p.length - 1, second, 1);
    results.push({ prefill: Array.from(prefill), decode: Array.from(decode) });
  }
  const { device: dev, deviceName, weightType } = engine.model.info;
  process.stdout.write(JSON.stringify({ device: dev, deviceName, weightType, results }));
} finally {
  engine.dispose();
}
