// A model's optional `config.json` in the repository (`<repo>/<model>/config.json`), checked field
// by field; a folder without one serves with the defaults below. Server-wide overrides (the CLI's
// --max-batch, --max-delay) apply on top of the defaults but under an explicit config.json.
import { promises as fs } from 'node:fs';
import path from 'node:path';

import { HsError } from '../errors';

export interface ModelConfig {
  maxBatchSize: number;
  preferredBatchSizes: number[];
  maxQueueDelayMs: number;
  maxQueueSize: number;
  /** Per-request timeout (queue + compute); 0 = none. */
  timeoutMs: number;
  priorityLevels: number;
  defaultPriority: number;
  /** Execution contexts of the engine, i.e. batches computed at once. */
  streams: number;
  threads?: number;
  /** Idle engine threads poll briefly before sleeping (Engine's `spin`; default true). */
  spin?: boolean;
  precision: 'fp32' | 'fp16' | 'bf16';
  device: 'auto' | 'cpu' | 'cuda';
  /** File inside each version folder. */
  modelFilename: string;
}

export const DEFAULT_MODEL_CONFIG: ModelConfig = {
  maxBatchSize: 8,
  preferredBatchSizes: [],
  maxQueueDelayMs: 1,
  maxQueueSize: 1024,
  timeoutMs: 30_000,
  priorityLevels: 1,
  defaultPriority: 1,
  streams: 1,
  precision: 'fp32',
  device: 'auto',
  modelFilename: 'model.onnx',
};

type Check = (value: unknown) => boolean;
const isInt = (min: number): Check => (v) => Number.isInteger(v) && (v as number) >= min;
const isNumber = (min: number): Check => (v) => typeof v === 'number' && Number.isFinite(v) && v >= min;
const oneOf = (...values: string[]): Check => (v) => typeof v === 'string' && values.includes(v);

const FIELDS: Record<keyof ModelConfig, [Check, string]> = {
  maxBatchSize: [isInt(1), 'an integer >= 1'],
  preferredBatchSizes: [(v) => Array.isArray(v) && v.every(isInt(1)), 'an array of integers >= 1'],
  maxQueueDelayMs: [isNumber(0), 'a number >= 0'],
  maxQueueSize: [isInt(1), 'an integer >= 1'],
  timeoutMs: [isNumber(0), 'a number >= 0'],
  priorityLevels: [isInt(1), 'an integer >= 1'],
  defaultPriority: [isInt(1), 'an integer >= 1'],
  streams: [isInt(1), 'an integer >= 1'],
  threads: [isInt(1), 'an integer >= 1'],
  spin: [(v) => typeof v === 'boolean', 'true or false'],
  precision: [oneOf('fp32', 'fp16', 'bf16'), "'fp32', 'fp16' or 'bf16'"],
  device: [oneOf('auto', 'cpu', 'cuda'), "'auto', 'cpu' or 'cuda'"],
  modelFilename: [(v) => typeof v === 'string' && v.length > 0 && !v.includes('/') && !v.includes('\\'), 'a file name'],
};

/** Checks a parsed config object; `where` names it in error messages. */
export function parseModelConfig(raw: unknown, where: string, base: ModelConfig = DEFAULT_MODEL_CONFIG): ModelConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new HsError('ERR_INVALID_ARGUMENT', `${where}: the config must be a JSON object`);
  const config: ModelConfig = { ...base, preferredBatchSizes: [...base.preferredBatchSizes] };
  for (const [key, value] of Object.entries(raw)) {
    const field = FIELDS[key as keyof ModelConfig];
    if (!field) throw new HsError('ERR_INVALID_ARGUMENT', `${where}: unknown field '${key}'; known fields: ${Object.keys(FIELDS).join(', ')}`);
    if (!field[0](value)) throw new HsError('ERR_INVALID_ARGUMENT', `${where}: '${key}' must be ${field[1]}, got ${JSON.stringify(value)}`);
    (config as unknown as Record<string, unknown>)[key] = value;
  }
  if (config.defaultPriority > config.priorityLevels)
    throw new HsError('ERR_INVALID_ARGUMENT', `${where}: defaultPriority ${config.defaultPriority} exceeds priorityLevels ${config.priorityLevels}`);
  const tooBig = config.preferredBatchSizes.find((p) => p > config.maxBatchSize);
  if (tooBig !== undefined)
    throw new HsError('ERR_INVALID_ARGUMENT', `${where}: preferred batch size ${tooBig} exceeds maxBatchSize ${config.maxBatchSize}`);
  return config;
}

/** Reads `<modelDir>/config.json` when present. */
export async function readModelConfig(modelDir: string, base: ModelConfig = DEFAULT_MODEL_CONFIG): Promise<ModelConfig> {
  const file = path.join(modelDir, 'config.json');
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return base;
    throw new HsError('ERR_IO', `cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new HsError('ERR_INVALID_ARGUMENT', `${file}: invalid JSON: ${(e as Error).message}`);
  }
  return parseModelConfig(raw, file, base);
}
