// Sampling parameters (validated once per request) and the per-token sampler: penalties on the
// raw logits, then greedy argmax or temperature -> top-k -> top-p -> min-p -> a draw from a
// seeded generator; log-probabilities come from the raw logits.
import { HsError } from '../errors';
import { ANY_OBJECT, parseSchema, type Schema } from './json-schema';
import { compileRegex, type CompiledRegex } from './regex';

export interface SamplingParams {
  /** Tokens to generate at most (default 256, and never past the model's context). */
  maxTokens?: number;
  /** EOS and stopTokenIds cannot be generated before this many tokens (stop strings still apply). */
  minTokens?: number;
  /** 0 means greedy (default 1). */
  temperature?: number;
  /** Keep the k most likely tokens (0 or -1: all). */
  topK?: number;
  topP?: number;
  minP?: number;
  repetitionPenalty?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  /** Added to the logits of these token ids (keys) before sampling, each in [-100, 100], as OpenAI's logit_bias. */
  logitBias?: Readonly<Record<string, number>>;
  seed?: number;
  stop?: string | readonly string[];
  stopTokenIds?: readonly number[];
  ignoreEos?: boolean;
  /** Return the chosen token's log-probability and this many top alternatives. */
  logprobs?: number;
  /** Return each prompt token's log-probability (after the first) and this many top alternatives. */
  promptLogprobs?: number;
  /** Lower runs first (default 0). */
  priority?: number;
  /**
   * 'json_object': the output is constrained to one JSON object; { jsonSchema }: to a value of that
   * schema (the subset of json-schema.ts); { choice }: to exactly one of these strings; { regex }:
   * to a whole match of the pattern (regex.ts). Choice and regex not with minTokens or ignoreEos,
   * which could hold the output past its end. Default 'text'.
   */
  responseFormat?: 'text' | 'json_object' | { jsonSchema: unknown } | { choice: readonly string[] } | { regex: string };
  signal?: AbortSignal;
}

export interface ResolvedSampling {
  maxTokens: number;
  minTokens: number;
  /** Tokens held at -infinity while the output is shorter than minTokens. */
  bannedBeforeMinTokens: number[];
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
  repetitionPenalty: number;
  presencePenalty: number;
  frequencyPenalty: number;
  logitBias: [number, number][];
  seed: number | null;
  stop: string[];
  stopTokenIds: number[];
  ignoreEos: boolean;
  logprobs: number | null;
  promptLogprobs: number | null;
  priority: number;
  /** The output's constraint: JSON mode's schema (any object for json_object), choices, or null. */
  format: { json: Schema } | { choice: string[] } | { regex: CompiledRegex } | null;
}

export interface TokenLogprobs {
  logprob: number;
  top: { tokenId: number; logprob: number }[];
}

function numberParam(name: string, v: unknown, fallback: number, ok: (x: number) => boolean, range: string): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v))
    throw new HsError('ERR_INVALID_ARGUMENT', `${name} must be ${range}, got ${JSON.stringify(v)}`);
  return v;
}

function resolveFormat(p: SamplingParams): ResolvedSampling['format'] {
  const format = p.responseFormat;
  if (format === undefined || format === null || format === 'text') return null;
  if (format === 'json_object') return { json: ANY_OBJECT };
  if (typeof format === 'object' && 'jsonSchema' in format) return { json: parseSchema(format.jsonSchema) };
  const ends = typeof format === 'object' && ('choice' in format || 'regex' in format);
  if (ends && ((p.minTokens ?? 0) > 0 || p.ignoreEos === true))
    throw new HsError('ERR_INVALID_ARGUMENT', 'a choice or regex cannot be combined with minTokens or ignoreEos (they could hold the output past its end)');
  if (typeof format === 'object' && 'choice' in format) {
    const choice = format.choice;
    if (!Array.isArray(choice) || choice.length === 0 || !choice.every((c) => typeof c === 'string' && c.length > 0))
      throw new HsError('ERR_INVALID_ARGUMENT', 'responseFormat.choice must be a non-empty array of non-empty strings');
    return { choice: [...choice] };
  }
  if (typeof format === 'object' && 'regex' in format) return { regex: compileRegex(format.regex, 'responseFormat.regex') };
  throw new HsError('ERR_INVALID_ARGUMENT', `responseFormat must be 'text', 'json_object', { jsonSchema }, { choice } or { regex }, got ${JSON.stringify(format)}`);
}

function topCount(name: string, v: number | undefined): number | null {
  return v === undefined || v === null ? null : numberParam(name, v, 0, (x) => Number.isInteger(x) && x >= 0 && x <= 20, 'an integer in [0, 20]');
}

function resolveLogitBias(bias: SamplingParams['logitBias'], vocabSize: number): [number, number][] {
  if (bias === undefined || bias === null) return [];
  if (typeof bias !== 'object' || Array.isArray(bias)) throw new HsError('ERR_INVALID_ARGUMENT', 'logitBias must map token ids to numbers');
  return Object.entries(bias).map(([key, value]) => {
    const id = Number(key);
    if (!/^\d+$/.test(key) || id >= vocabSize) throw new HsError('ERR_INVALID_ARGUMENT', `logitBias keys must be token ids in [0, ${vocabSize}), got '${key}'`);
    return [id, numberParam(`logitBias[${key}]`, value, 0, (x) => x >= -100 && x <= 100, 'in [-100, 100]')];
  });
}

/** `eosTokenIds`: the model's end-of-sequence ids, which minTokens holds back (unless ignoreEos). */
export function resolveSampling(p: SamplingParams, vocabSize: number, eosTokenIds: Iterable<number> = []): ResolvedSampling {
  const stop = p.stop === undefined || p.stop === null ? [] : typeof p.stop === 'string' ? [p.stop] : [...p.stop];
  if (!stop.every((s) => typeof s === 'string' && s.length > 0)) throw new HsError('ERR_INVALID_ARGUMENT', 'stop must be non-empty strings');
  const stopTokenIds = [...(p.stopTokenIds ?? [])];
  if (!stopTokenIds.every((t) => Number.isInteger(t) && t >= 0 && t < vocabSize))
    throw new HsError('ERR_INVALID_ARGUMENT', `stopTokenIds must be token ids in [0, ${vocabSize})`);
  const minTokens = numberParam('minTokens', p.minTokens, 0, (x) => Number.isInteger(x) && x >= 0, 'an integer >= 0');
  const ignoreEos = p.ignoreEos === true;
  return {
    maxTokens: numberParam('maxTokens', p.maxTokens, 256, (x) => Number.isInteger(x) && x >= 1, 'an integer >= 1'),
    minTokens,
    bannedBeforeMinTokens: minTokens === 0 ? [] : [...new Set([...(ignoreEos ? [] : eosTokenIds), ...stopTokenIds])],
    temperature: numberParam('temperature', p.temperature, 1, (x) => x >= 0, 'a number >= 0'),
    topK: numberParam('topK', p.topK, 0, (x) => Number.isInteger(x) && x >= -1, 'an integer >= -1'),
    topP: numberParam('topP', p.topP, 1, (x) => x > 0 && x <= 1, 'in (0, 1]'),
    minP: numberParam('minP', p.minP, 0, (x) => x >= 0 && x <= 1, 'in [0, 1]'),
    repetitionPenalty: numberParam('repetitionPenalty', p.repetitionPenalty, 1, (x) => x > 0, 'a number > 0'),
    presencePenalty: numberParam('presencePenalty', p.presencePenalty, 0, (x) => x >= -2 && x <= 2, 'in [-2, 2]'),
    frequencyPenalty: numberParam('frequencyPenalty', p.frequencyPenalty, 0, (x) => x >= -2 && x <= 2, 'in [-2, 2]'),
    logitBias: resolveLogitBias(p.logitBias, vocabSize),
    seed: p.seed === undefined || p.seed === null ? null : numberParam('seed', p.seed, 0, Number.isInteger, 'an integer'),
    stop,
    stopTokenIds,
    ignoreEos,
    logprobs: topCount('logprobs', p.logprobs),
    promptLogprobs: topCount('promptLogprobs', p.promptLogprobs),
    priority: numberParam('priority', p.priority, 0, Number.isInteger, 'an integer'),
    format: resolveFormat(p),
  };
}

export function isGreedy(s: ResolvedSampling): boolean {
  return s.temperature === 0 || s.topK === 1;
}

/** Whether penalties, biases or minTokens change the logits before sampling. */
export function adjustsLogits(s: ResolvedSampling): boolean {
  return s.repetitionPenalty !== 1 || s.presencePenalty !== 0 || s.frequencyPenalty !== 0 || s.logitBias.length > 0 || s.minTokens > 0;
}

/** A uniform [0, 1) generator; mulberry32 when seeded so runs repeat. */
export function makeRandom(seed: number | null): () => number {
  if (seed === null) return Math.random;
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/**
 * Repetition (prompt and output), presence and frequency (output) penalties, the logit biases, and
 * the ban of EOS / stop token ids before minTokens, in place.
 */
export function applyPenalties(logits: Float32Array, s: ResolvedSampling, promptTokens: readonly number[], outputTokens: readonly number[]): void {
  if (s.repetitionPenalty !== 1) {
    const seen = new Set<number>([...promptTokens, ...outputTokens]);
    for (const t of seen) logits[t] = logits[t] > 0 ? logits[t] / s.repetitionPenalty : logits[t] * s.repetitionPenalty;
  }
  if (s.presencePenalty !== 0 || s.frequencyPenalty !== 0) {
    const counts = new Map<number, number>();
    for (const t of outputTokens) counts.set(t, (counts.get(t) ?? 0) + 1);
    for (const [t, n] of counts) logits[t] -= s.presencePenalty + s.frequencyPenalty * n;
  }
  for (const [t, bias] of s.logitBias) logits[t] += bias;
  if (outputTokens.length < s.minTokens) for (const t of s.bannedBeforeMinTokens) logits[t] = -Infinity;
}

/** The tokens a sampler may pick (most likely first) and their unnormalised weights. */
interface Candidates {
  order: number[];
  weights: number[];
}

/** Temperature, top-k, top-p and min-p over one row of (penalised) logits; not for greedy. */
function candidates(logits: Float32Array, s: ResolvedSampling): Candidates {
  let order = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a]);
  if (s.topK > 0 && s.topK < order.length) order = order.slice(0, s.topK);
  const max = logits[order[0]];
  let weights = order.map((t) => Math.exp((logits[t] - max) / s.temperature));
  if (s.topP < 1) {
    const total = weights.reduce((a, b) => a + b, 0);
    let cumulative = 0, keep = 0;
    while (keep < weights.length && cumulative < s.topP * total) cumulative += weights[keep++];
    order = order.slice(0, Math.max(1, keep));
    weights = weights.slice(0, order.length);
  }
  if (s.minP > 0) {
    const threshold = weights[0] * s.minP;
    const cut = weights.findIndex((p) => p < threshold);
    const keep = cut === -1 ? weights.length : Math.max(1, cut);
    order = order.slice(0, keep);
    weights = weights.slice(0, keep);
  }
  return { order, weights };
}

function penalised(row: Float32Array, s: ResolvedSampling, promptTokens: readonly number[], outputTokens: readonly number[]): Float32Array {
  if (!adjustsLogits(s)) return row;
  const logits = Float32Array.from(row);
  applyPenalties(logits, s, promptTokens, outputTokens);
  return logits;
}

/** Picks the next token from one row of logits (the row is not modified). */
export function sampleToken(
  row: Float32Array,
  s: ResolvedSampling,
  promptTokens: readonly number[],
  outputTokens: readonly number[],
  random: () => number,
): number {
  const logits = penalised(row, s, promptTokens, outputTokens);
  if (isGreedy(s)) return argmax(logits);
  const { order, weights } = candidates(logits, s);
  const total = weights.reduce((a, b) => a + b, 0);
  let u = random() * total;
  for (let i = 0; i < order.length; i++) {
    u -= weights[i];
    if (u < 0) return order[i];
  }
  return order[order.length - 1];
}

/**
 * The distribution sampleToken draws from, as probabilities over the whole vocabulary (a point
 * mass at the argmax when greedy).
 */
export function samplingProbs(row: Float32Array, s: ResolvedSampling, promptTokens: readonly number[], outputTokens: readonly number[]): Float64Array {
  const logits = penalised(row, s, promptTokens, outputTokens);
  const probs = new Float64Array(row.length);
  if (isGreedy(s)) {
    probs[argmax(logits)] = 1;
    return probs;
  }
  const { order, weights } = candidates(logits, s);
  const total = weights.reduce((a, b) => a + b, 0);
  order.forEach((t, i) => (probs[t] = weights[i] / total));
  return probs;
}

/** log-softmax of the raw logits at `tokenId`, with the `top` most likely alternatives. */
export function tokenLogprobs(row: Float32Array, tokenId: number, top: number): TokenLogprobs {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - max);
  const logZ = max + Math.log(sum);
  const best: { tokenId: number; logprob: number }[] = [];
  if (top > 0) {
    for (let i = 0; i < row.length; i++) {
      if (best.length < top || row[i] > best[best.length - 1].logprob + logZ) {
        best.push({ tokenId: i, logprob: row[i] - logZ });
        best.sort((a, b) => b.logprob - a.logprob);
        if (best.length > top) best.pop();
      }
    }
  }
  return { logprob: row[tokenId] - logZ, top: best };
}
