// `highservice bench llm [dir]`: benchLlm on a Hugging Face checkpoint directory, or, without one,
// on a random-weight Llama written to a temporary directory (removed afterwards); prints the
// progress lines, then a Markdown report headed by the date, CPU and thread count.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { HsError } from '../../errors';
import { checkMatmulPrecision } from '../LlmEngine';
import type { WeightType } from '../native';
import { benchLlm, formatLlmBench } from './benchLlm';
import { RANDOM_LLAMA_SIZES, writeRandomLlama, type RandomLlamaSize } from './randomLlama';

export interface BenchLlmCommandOptions {
  size?: string;
  weights?: string;
  threads?: string;
  concurrency?: string;
  requests?: string;
  /** KV-cache size in MiB (default 2048). */
  kvCache?: string;
  /** auto | cpu | cuda (default cpu). */
  device?: string;
  /** fp32 (default) | bf16 */
  matmulPrecision?: string;
}

const DEVICES = ['auto', 'cpu', 'cuda'];

const WEIGHT_TYPES = ['auto', 'float32', 'float16', 'bfloat16', 'int8'];

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new HsError('ERR_INVALID_ARGUMENT', `${flag} must be an integer >= 1, got '${value}'`);
  return n;
}

export async function benchLlmCommand(dir: string | undefined, o: BenchLlmCommandOptions): Promise<void> {
  const size = o.size ?? 'small';
  if (!(size in RANDOM_LLAMA_SIZES)) throw new HsError('ERR_INVALID_ARGUMENT', `--size must be one of ${Object.keys(RANDOM_LLAMA_SIZES).join(', ')}, got '${size}'`);
  const weights = o.weights ?? 'auto';
  if (!WEIGHT_TYPES.includes(weights)) throw new HsError('ERR_INVALID_ARGUMENT', `--weights must be one of ${WEIGHT_TYPES.join(', ')}, got '${weights}'`);
  const device = o.device ?? 'cpu';
  if (!DEVICES.includes(device)) throw new HsError('ERR_INVALID_ARGUMENT', `--device must be one of ${DEVICES.join(', ')}, got '${device}'`);
  const matmulPrecision = checkMatmulPrecision(o.matmulPrecision, '--matmul-precision');
  const concurrency = o.concurrency?.split(',').map((c) => positiveInt(c, '--concurrency'));
  const temp = dir ? null : mkdtempSync(path.join(os.tmpdir(), 'hs-bench-llama-'));
  try {
    const modelDir = dir ?? writeRandomLlama(temp!, size as RandomLlamaSize);
    const cpus = os.cpus();
    console.log(`# highservice bench llm: ${dir ?? `random-weight Llama '${size}'`}`);
    console.log(`${new Date().toISOString()}; CPU: ${cpus[0]?.model ?? 'unknown'} (${cpus.length} logical cores); node ${process.version}`);
    const result = await benchLlm(modelDir, {
      modelName: dir ? undefined : `random-llama-${size}`,
      weightType: weights as 'auto' | WeightType,
      device: device as 'auto' | 'cpu' | 'cuda',
      matmulPrecision,
      threads: o.threads === undefined ? undefined : positiveInt(o.threads, '--threads'),
      concurrency,
      requests: o.requests === undefined ? undefined : positiveInt(o.requests, '--requests'),
      kvCacheBytes: positiveInt(o.kvCache ?? '2048', '--kv-cache') * 1024 * 1024,
      log: (line) => console.log(`  ${line}`),
    });
    console.log('');
    console.log(formatLlmBench(result));
  } finally {
    if (temp) rmSync(temp, { recursive: true, force: true });
  }
}
