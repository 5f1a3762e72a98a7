#!/usr/bin/env node
// node bench/llm/run.mjs [modelDir] [--size small|tiny] [--weights auto|int8|float32] [--matmul-precision fp32|bf16]
//   [--threads N] [--requests N]
// Same as `highservice bench llm [modelDir]` (lib/llm/bench/benchLlmCommand.js): without a
// directory it benchmarks a random-weight Llama written to a temporary directory.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { benchLlmCommand } = require('../../lib/llm/bench/benchLlmCommand.js');

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? undefined : args.splice(i, 2)[1];
};
const options = {
  size: flag('size'), weights: flag('weights'), matmulPrecision: flag('matmul-precision'), threads: flag('threads'),
  concurrency: flag('concurrency'), requests: flag('requests'),
};
await benchLlmCommand(args[0], options);
