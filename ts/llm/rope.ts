// Rotary embedding frequencies for the rope_scaling variants of Hugging Face configs. Every
// variant reduces to a vector of head_dim/2 inverse frequencies (and a cos/sin multiplier), which
// the native forward applies as angle = position * invFreq[i].
import { HsError } from '../errors';

export interface RopeScaling {
  type: 'default' | 'linear' | 'dynamic' | 'llama3';
  factor: number;
  lowFreqFactor?: number;
  highFreqFactor?: number;
  originalMaxPositionEmbeddings?: number;
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
  if (type !== 'linear' && type !== 'dynamic' && type !== 'llama3')
    throw new HsError('ERR_UNSUPPORTED_OP', `rope_scaling type '${type}' is not supported (default, linear, dynamic, llama3 are)`);
  if (!(factor >= 1)) throw new HsError('ERR_INVALID_MODEL', `rope_scaling.factor must be >= 1, got ${String(r.factor)}`);
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

/**
 * The frequencies for head dimension `dim`. 'dynamic' (NTK-aware) uses the base scaled for the
 * longest context, max_position_embeddings * factor, fixed for every sequence (as vLLM does), so
 * cached keys never need re-rotation.
 */
export function ropeFrequencies(dim: number, theta: number, scaling: RopeScaling, maxPositionEmbeddings: number): Rope {
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
