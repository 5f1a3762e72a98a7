#!/usr/bin/env node
// node bench/llm/run.mjs [modelDir] [--size small|tiny] [--weights auto|int8|float32] [--threads N]
// Benchmarks the LLM engine (lib/llm/bench/benchLlm.js) on a checkpoint, or on a random-weight
// Llama written to a temp directory when no directory is given.
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

import { writeRandomLlama } from './random-model.mjs';

const require = createRequire(import.meta.url);
const { benchLlm } = require('../../lib/llm/bench/benchLlm.js');

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : args.splice(i, 2)[1];
};
const size = flag('size', 'small');
const weightType = flag('weights', 'auto');
const threads = Number(flag('threads', os.availableParallelism()));
const dir = args[0] ?? writeRandomLlama(path.join(os.tmpdir(), `hs-bench-llama-${size}`), size);
await benchLlm(dir, { weightType, threads, kvCacheBytes: 1 << 30 });
