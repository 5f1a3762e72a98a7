// generation_config.json of a Hugging Face checkpoint: more end-of-sequence token ids (Llama 3
// Instruct lists <|eot_id|> there and not in config.json) and the model's default sampling
// settings, which a request's own values override, as vLLM's `--generation-config auto` does
// (do_sample is ignored there too: a temperature given is used).
import path from 'node:path';

import { HsError } from '../errors';
import { readJsonFile } from './json-file';
import { resolveSampling, type SamplingParams } from './sampling';

export interface GenerationConfig {
  eosTokenIds: number[];
  /** Sampling defaults (only the keys the file sets). */
  defaults: SamplingParams;
}

// generation_config.json key -> SamplingParams key
const SAMPLING_KEYS: [string, keyof SamplingParams][] = [
  ['temperature', 'temperature'],
  ['top_k', 'topK'],
  ['top_p', 'topP'],
  ['min_p', 'minP'],
  ['repetition_penalty', 'repetitionPenalty'],
  ['max_new_tokens', 'maxTokens'],
];

/** The directory's generation_config.json ('none': ignore it); checked against the vocabulary. */
export async function readGenerationConfig(dir: string, mode: 'auto' | 'none', vocabSize: number): Promise<GenerationConfig> {
  if (mode !== 'auto' && mode !== 'none') throw new HsError('ERR_INVALID_ARGUMENT', `generationConfig must be 'auto' or 'none', got '${String(mode)}'`);
  const file = path.join(dir, 'generation_config.json');
  const raw = mode === 'auto' ? await readJsonFile(file, false) : null;
  if (!raw) return { eosTokenIds: [], defaults: {} };
  const eos = raw.eos_token_id === undefined || raw.eos_token_id === null ? [] : [raw.eos_token_id].flat();
  if (!eos.every((t) => Number.isInteger(t) && (t as number) >= 0 && (t as number) < vocabSize))
    throw new HsError('ERR_INVALID_MODEL', `${file}: eos_token_id must be token ids in [0, ${vocabSize}), got ${JSON.stringify(raw.eos_token_id)}`);
  const defaults: Record<string, unknown> = {};
  for (const [from, to] of SAMPLING_KEYS) if (raw[from] !== undefined && raw[from] !== null) defaults[to] = raw[from];
  try {
    resolveSampling(defaults as SamplingParams, vocabSize);
  } catch (e) {
    throw new HsError('ERR_INVALID_MODEL', `${file}: ${(e as Error).message}`, { cause: e });
  }
  return { eosTokenIds: eos as number[], defaults: defaults as SamplingParams };
}

/** `params` with the model's defaults where the request leaves a setting out (undefined or null). */
export function withDefaults(params: SamplingParams, defaults: SamplingParams): SamplingParams {
  const merged: Record<string, unknown> = { ...params };
  for (const [key, value] of Object.entries(defaults)) if (merged[key] === undefined || merged[key] === null) merged[key] = value;
  return merged as SamplingParams;
}
