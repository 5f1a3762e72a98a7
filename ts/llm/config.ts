// Reads a Hugging Face config.json into the model description the native forward needs, refusing
// what it cannot run (other architectures, Qwen2's sliding windows, biases beyond Qwen2's QKV bias).
import path from 'node:path';

import { HsError } from '../errors';
import { readJsonFile } from './json-file';
import type { NativeLlmConfig } from './native';
import { parseRopeScaling, ropeFrequencies, type RopeScaling } from './rope';

export type Architecture = 'LlamaForCausalLM' | 'MistralForCausalLM' | 'Qwen2ForCausalLM';

export interface ModelConfig {
  architecture: Architecture;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  intermediateSize: number;
  vocabSize: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScaling;
  maxPositionEmbeddings: number;
  /**
   * Mistral's sliding-window attention span (null: none). Mistral is Llama's layout; the engine caps
   * contexts at the window, within which the attention is plain causal (Mistral 7B v0.2 and later
   * set no window).
   */
  slidingWindow: number | null;
  tieWordEmbeddings: boolean;
  qkvBias: boolean;
  bosTokenId: number | null;
  eosTokenIds: number[];
}

const SUPPORTED: readonly string[] = ['LlamaForCausalLM', 'MistralForCausalLM', 'Qwen2ForCausalLM'];
const MAX_HEAD_DIM = 1024;

function positiveInt(raw: Record<string, unknown>, key: string, fallback?: number): number {
  const v = raw[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0)
    throw new HsError('ERR_INVALID_MODEL', `config.json: ${key} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

function tokenIds(v: unknown): number[] {
  if (typeof v === 'number') return [v];
  if (Array.isArray(v)) return v.filter((x): x is number => typeof x === 'number');
  return [];
}

export function parseModelConfig(raw: Record<string, unknown>): ModelConfig {
  const archs = Array.isArray(raw.architectures) ? (raw.architectures as unknown[]).map(String) : [];
  const architecture = archs.find((a) => SUPPORTED.includes(a)) as Architecture | undefined;
  if (!architecture)
    throw new HsError('ERR_UNSUPPORTED_OP', `config.json: architecture ${JSON.stringify(archs)} is not supported (${SUPPORTED.join(', ')})`);
  const act = raw.hidden_act ?? 'silu';
  if (act !== 'silu') throw new HsError('ERR_UNSUPPORTED_OP', `config.json: hidden_act '${String(act)}' is not supported (silu)`);
  if (architecture !== 'Qwen2ForCausalLM' && (raw.attention_bias === true || raw.mlp_bias === true))
    throw new HsError('ERR_UNSUPPORTED_OP', 'config.json: attention_bias / mlp_bias are not supported');
  if (raw.use_sliding_window === true)
    throw new HsError('ERR_UNSUPPORTED_OP', 'config.json: use_sliding_window is not supported');

  const hiddenSize = positiveInt(raw, 'hidden_size');
  const numHeads = positiveInt(raw, 'num_attention_heads');
  const numKvHeads = positiveInt(raw, 'num_key_value_heads', numHeads);
  const headDim = positiveInt(raw, 'head_dim', Math.floor(hiddenSize / numHeads));
  const maxPositionEmbeddings = positiveInt(raw, 'max_position_embeddings', 2048);
  if (numHeads % numKvHeads !== 0)
    throw new HsError('ERR_INVALID_MODEL', `config.json: num_attention_heads ${numHeads} is not a multiple of num_key_value_heads ${numKvHeads}`);
  if (headDim % 2 !== 0) throw new HsError('ERR_INVALID_MODEL', `config.json: head_dim ${headDim} must be even`);
  // Checked before the rotary tables (head_dim / 2 entries) are built from it; real models use <= 256.
  if (headDim > MAX_HEAD_DIM) throw new HsError('ERR_UNSUPPORTED_OP', `config.json: head_dim ${headDim} is over ${MAX_HEAD_DIM}`);
  const eps = raw.rms_norm_eps ?? 1e-6;
  const theta = raw.rope_theta ?? 10000;
  if (typeof eps !== 'number' || !(eps > 0)) throw new HsError('ERR_INVALID_MODEL', 'config.json: rms_norm_eps must be a positive number');
  if (typeof theta !== 'number' || !(theta > 0)) throw new HsError('ERR_INVALID_MODEL', 'config.json: rope_theta must be a positive number');
  return {
    architecture,
    hiddenSize,
    numLayers: positiveInt(raw, 'num_hidden_layers'),
    numHeads,
    numKvHeads,
    headDim,
    intermediateSize: positiveInt(raw, 'intermediate_size'),
    vocabSize: positiveInt(raw, 'vocab_size'),
    rmsNormEps: eps,
    ropeTheta: theta,
    ropeScaling: parseRopeScaling(raw.rope_scaling, maxPositionEmbeddings),
    maxPositionEmbeddings,
    slidingWindow: architecture === 'MistralForCausalLM' && raw.sliding_window != null ? positiveInt(raw, 'sliding_window') : null,
    tieWordEmbeddings: raw.tie_word_embeddings === true,
    qkvBias: architecture === 'Qwen2ForCausalLM',
    bosTokenId: typeof raw.bos_token_id === 'number' ? raw.bos_token_id : null,
    eosTokenIds: tokenIds(raw.eos_token_id),
  };
}

export async function readModelConfig(dir: string): Promise<ModelConfig> {
  return parseModelConfig((await readJsonFile(path.join(dir, 'config.json'), true))!);
}

export function nativeConfig(c: ModelConfig): NativeLlmConfig {
  const rope = ropeFrequencies(c.headDim, c.ropeTheta, c.ropeScaling, c.maxPositionEmbeddings);
  return {
    hiddenSize: c.hiddenSize,
    numLayers: c.numLayers,
    numHeads: c.numHeads,
    numKvHeads: c.numKvHeads,
    headDim: c.headDim,
    intermediateSize: c.intermediateSize,
    vocabSize: c.vocabSize,
    rmsNormEps: c.rmsNormEps,
    qkvBias: c.qkvBias,
    tieWordEmbeddings: c.tieWordEmbeddings,
    invFreq: Float32Array.from(rope.invFreq),
    ropeAttentionScaling: rope.attentionScaling,
  };
}
