// Rotary embedding frequencies for the rope_scaling variants of Hugging Face configs. Every
// variant reduces to a vector of head_dim/2 inverse frequencies (and a cos/sin multiplier), which
// the native forward applies as angle = position * invFreq[i].
import { HsError } from '../errors';

export interface RopeScaling {
  type: 'default' | 'linear' | 'dynamic' | 'llama3' | 'yarn';
  factor: number;
  lowFreqFactor?: number;
  highFreqFactor?: number;
  originalMaxPositionEmbeddings?: number;
  /** yarn: the rotation counts over the original context that bound the ramp (default 32 and 1). */
  betaFast?: number;
  betaSlow?: number;
  /** yarn: the cos/sin multiplier; by default 0.1 ln(factor) + 1, or DeepSeek's mscale ratio. */
  attentionFactor?: number;
  mscale?: number;
  mscaleAllDim?: number;
  /** yarn: round the ramp's ends to whole dimensions (default true). */
  truncate?: boolean;
}

export interface Rope {
  invFreq: Float64Array;
  attentionScaling: number;
}

export function parseRopeScaling(raw: unknown, maxPositionEmbeddings: number): RopeScaling {
  if (raw === undefined || raw === null) return { type: 'default', factor: 1 };
  const r = raw as Record<string, unknown>;
  const type = String(r.rope_type ?? r.type ?? 'default');
  const factor = Number(r.factor ?? 1);
  if (type === 'default') return { type, factor: 1 };
  if (type !== 'linear' && type !== 'dynamic' && type !== 'llama3' && type !== 'yarn')
    throw new HsError('ERR_UNSUPPORTED_OP', `rope_scaling type '${type}' is not supported (default, linear, dynamic, llama3, yarn are)`);
  if (!(factor >= 1)) throw new HsError('ERR_INVALID_MODEL', `rope_scaling.factor must be >= 1, got ${String(r.factor)}`);
  if (type === 'yarn') return parseYarn(r, factor, maxPositionEmbeddings);
  if (type !== 'llama3') return { type, factor };
  const scaling: RopeScaling = {
    type,
    factor,
    lowFreqFactor: Number(r.low_freq_factor ?? 1),
    highFreqFactor: Number(r.high_freq_factor ?? 4),
    originalMaxPositionEmbeddings: Number(r.original_max_position_embeddings ?? maxPositionEmbeddings),
  };
  if (!(scaling.highFreqFactor! > scaling.lowFreqFactor!))
    throw new HsError('ERR_INVALID_MODEL', 'rope_scaling.high_freq_factor must exceed low_freq_factor');
  return scaling;
}

// The user's factor is used even next to original_max_position_embeddings, as vLLM and current
// transformers do (Qwen2.5's documented long-context setting keeps max_position_embeddings at the
// original length).
function parseYarn(r: Record<string, unknown>, factor: number, maxPositionEmbeddings: number): RopeScaling {
  const optional = (key: string): number | undefined => {
    if (r[key] === undefined || r[key] === null) return undefined;
    const v = Number(r[key]);
    if (!Number.isFinite(v) || v <= 0) throw new HsError('ERR_INVALID_MODEL', `rope_scaling.${key} must be a positive number, got ${String(r[key])}`);
    return v;
  };
  const scaling: RopeScaling = {
    type: 'yarn',
    factor,
    originalMaxPositionEmbeddings: optional('original_max_position_embeddings') ?? maxPositionEmbeddings,
    betaFast: optional('beta_fast') ?? 32,
    betaSlow: optional('beta_slow') ?? 1,
    attentionFactor: optional('attention_factor'),
    mscale: optional('mscale'),
    mscaleAllDim: optional('mscale_all_dim'),
    truncate: r.truncate === undefined ? true : Boolean(r.truncate),
  };
  if (!(scaling.betaFast! > scaling.betaSlow!)) throw new HsError('ERR_INVALID_MODEL', 'rope_scaling.beta_fast must exceed beta_slow');
  return scaling;
}

/** YaRN's attention temperature for a context scaled by `scale` (1 when not extended). */
function yarnMscale(scale: number, mscale = 1): number {
  return scale <= 1 ? 1 : 0.1 * mscale * Math.log(scale) + 1;
}

/**
 * YaRN (arXiv 2309.00071, as transformers and vLLM compute it): dimensions that turn more than
 * beta_fast times over the original context keep their frequency, those that turn fewer than
 * beta_slow times are interpolated (divided by the factor), with a linear ramp over the dimension
 * index between; cos and sin are multiplied by the attention factor.
 */
function yarn(dim: number, base: number, s: RopeScaling): Rope {
  const half = dim / 2;
  const context = s.originalMaxPositionEmbeddings!;
  // The dimension index (fractional) at which a frequency turns `rotations` times over the context.
  const dimFor = (rotations: number): number => (dim * Math.log(context / (rotations * 2 * Math.PI))) / (2 * Math.log(base));
  let low = dimFor(s.betaFast!), high = dimFor(s.betaSlow!);
  if (s.truncate) [low, high] = [Math.floor(low), Math.ceil(high)];
  low = Math.max(low, 0);
  high = Math.min(high, dim - 1);
  if (low === high) high += 0.001;
  const invFreq = new Float64Array(half);
  for (let i = 0; i < half; i++) {
    const extrapolated = 1 / Math.pow(base, (2 * i) / dim);
    const ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
    invFreq[i] = (extrapolated / s.factor) * ramp + extrapolated * (1 - ramp);
  }
  const attentionScaling =
    s.attentionFactor ??
    (s.mscale && s.mscaleAllDim ? yarnMscale(s.factor, s.mscale) / yarnMscale(s.factor, s.mscaleAllDim) : yarnMscale(s.factor));
  return { invFreq, attentionScaling };
}

/**
 * The frequencies for head dimension `dim`. 'dynamic' (NTK-aware) uses the base scaled for the
 * longest context, max_position_embeddings * factor, fixed for every sequence (as vLLM does), so
 * cached keys never need re-rotation.
 */
export function ropeFrequencies(dim: number, theta: number, scaling: RopeScaling, maxPositionEmbeddings: number): Rope {
  if (scaling.type === 'yarn') return yarn(dim, theta, scaling);
  const half = dim / 2;
  let base = theta;
  if (scaling.type === 'dynamic') {
    const f = scaling.factor;
    base = theta * Math.pow(f * f - (f - 1), dim / (dim - 2));
  }
  const invFreq = new Float64Array(half);
  for (let i = 0; i < half; i++) invFreq[i] = 1 / Math.pow(base, (2 * i) / dim);
  if (scaling.type === 'linear') for (let i = 0; i < half; i++) invFreq[i] /= scaling.factor;
  if (scaling.type === 'llama3') {
    const oldContext = scaling.originalMaxPositionEmbeddings!;
    const low = scaling.lowFreqFactor!, high = scaling.highFreqFactor!;
    const lowFreqWavelen = oldContext / low, highFreqWavelen = oldContext / high;
    for (let i = 0; i < half; i++) {
      const wavelen = (2 * Math.PI) / invFreq[i];
      if (wavelen < highFreqWavelen) continue;
      if (wavelen > lowFreqWavelen) {
        invFreq[i] /= scaling.factor;
        continue;
      }
      const smooth = (oldContext / wavelen - low) / (high - low);
      invFreq[i] = (1 - smooth) * (invFreq[i] / scaling.factor) + smooth * invFreq[i];
    }
  }
  return { invFreq, attentionScaling: 1 };
}
