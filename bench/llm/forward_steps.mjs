#!/usr/bin/env node
// node bench/llm/forward_steps.mjs [rounds] [context]: the forward alone, without the scheduler. Decode
// steps of batch 1 and 32 at position `context` (default 100) on the random-weight Llama 'small' (2 threads), matmul precision
// fp32 and bf16 engines alternating in one process: median wall and CPU milliseconds per step.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);
const { writeRandomLlama } = require('../../lib/llm/bench/randomLlama.js');
const { startLlmEngine } = require('../../lib/llm/index.js');

const rounds = Number(process.argv[2] ?? 2);
const context = Number(process.argv[3] ?? 100);
const dir = mkdtempSync(path.join(os.tmpdir(), 'hs-forward-steps-'));
const options = { threads: 2, numBlocks: 512, blockSize: 16 };
try {
  const model = writeRandomLlama(dir, 'small');
  const engines = {
    fp32: await startLlmEngine(model, options),
    bf16: await startLlmEngine(model, { ...options, matmulPrecision: 'bf16' }),
  };
  // s sequences decoding one token each at position `context`, in blocks of their own (shared
  // round-robin once the 512 blocks run out: the timing does not depend on what the cache holds).
  const blocks = Math.ceil((context + 1) / options.blockSize);
  const batch = (s) => ({
    tokens: Int32Array.from({ length: s }, (_, i) => 100 + i),
    positions: new Int32Array(s).fill(context),
    queryLens: new Int32Array(s).fill(1),
    blockTables: Int32Array.from({ length: s * blocks }, (_, i) => i % options.numBlocks),
    maxBlocks: blocks,
    logitsPerSeq: new Int32Array(s).fill(1),
  });
  const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
  for (let round = 1; round <= rounds; round++)
    for (const [s, steps] of [[1, 60], [32, 10]])
      for (const [precision, engine] of Object.entries(engines)) {
        const b = batch(s), wall = [], cpu = [];
        await engine.model.forward(b);
        for (let i = 0; i < steps; i++) {
          const c0 = process.cpuUsage(), t0 = performance.now();
          await engine.model.forward(b);
          wall.push(performance.now() - t0);
          const c = process.cpuUsage(c0);
          cpu.push((c.user + c.system) / 1000);
        }
        console.log(`round ${round} batch ${String(s).padStart(2)} ${precision}: ${median(wall).toFixed(1)} ms/step, ` +
          `CPU ${median(cpu).toFixed(1)} ms/step; load average ${os.loadavg()[0].toFixed(1)}`);
      }
  for (const engine of Object.values(engines)) engine.dispose();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
