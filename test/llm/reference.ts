// A plain float64 forward of a Llama / Qwen2 decoder over one whole sequence (no cache, no
// batching), written straight from the model definition, to check the native engine against.
import type { TinyModel } from '../fixtures/hf-model';

export interface ReferenceOptions {
  /** Rotary inverse frequencies (head_dim / 2), as the engine computes them from rope_scaling. */
  invFreq: ArrayLike<number>;
  /** The multiplier of cos and sin (YaRN's attention factor); 1 if absent. */
  attentionScaling?: number;
  /** Replace every matrix by its int8 per-row quantisation (as the engine's 'int8' weights). */
  int8?: boolean;
  /** Round both operands of every matmul to bf16 (as the engine's matmulPrecision 'bf16'). */
  bf16?: boolean;
}

type Matrix = { rows: number; cols: number; data: Float64Array };

const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);

/** x as float32, then rounded to the nearest bfloat16 (ties to even), subnormals to zero: bf16_operand. */
export function bf16Operand(x: number): number {
  f32[0] = x;
  const u = f32Bits[0];
  f32Bits[0] = (u & 0x7f800000) === 0 ? u & 0x80000000 : ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) << 16;
  return f32[0];
}

function quantiseRows(m: Matrix): Matrix {
  const out = new Float64Array(m.data.length);
  for (let r = 0; r < m.rows; r++) {
    let maxAbs = 0;
    for (let c = 0; c < m.cols; c++) maxAbs = Math.max(maxAbs, Math.abs(m.data[r * m.cols + c]));
    const scale = maxAbs > 0 ? Math.fround(Math.fround(maxAbs) / 127) : 1;
    for (let c = 0; c < m.cols; c++) {
      // The engine's rule: the quotient in float32, rounded half away from zero.
      const t = Math.max(-127, Math.min(127, Math.fround(Math.fround(m.data[r * m.cols + c]) / scale)));
      const q = Math.sign(t) * Math.floor(Math.abs(t) + 0.5);
      out[r * m.cols + c] = q * scale;
    }
  }
  return { rows: m.rows, cols: m.cols, data: out };
}

/** x [n, cols] times W^T -> [n, rows] */
function product(x: Float64Array[], w: Matrix, bias?: Float64Array): Float64Array[] {
  return x.map((row) => {
    const out = new Float64Array(w.rows);
    for (let r = 0; r < w.rows; r++) {
      let s = bias ? bias[r] : 0;
      for (let c = 0; c < w.cols; c++) s += row[c] * w.data[r * w.cols + c];
      out[r] = s;
    }
    return out;
  });
}

function rmsNorm(x: Float64Array[], weight: Float64Array, eps: number): Float64Array[] {
  return x.map((row) => {
    const ms = row.reduce((a, v) => a + v * v, 0) / row.length;
    const inv = 1 / Math.sqrt(ms + eps);
    return row.map((v, i) => v * inv * weight[i]);
  });
}

function rope(x: Float64Array[], heads: number, headDim: number, invFreq: ArrayLike<number>, scaling: number): void {
  const half = headDim / 2;
  x.forEach((row, pos) => {
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < half; i++) {
        const angle = pos * invFreq[i];
        const a = row[h * headDim + i], b = row[h * headDim + i + half];
        const cos = Math.cos(angle) * scaling, sin = Math.sin(angle) * scaling;
        row[h * headDim + i] = a * cos - b * sin;
        row[h * headDim + i + half] = b * cos + a * sin;
      }
    }
  });
}

/** Logits [tokens.length][vocab] for every position of the sequence. */
export function referenceLogits(model: TinyModel, tokens: readonly number[], o: ReferenceOptions): Float64Array[] {
  const c = model.config as Record<string, number & boolean>;
  const hidden = c.hidden_size, heads = c.num_attention_heads, kvHeads = c.num_key_value_heads;
  const headDim = hidden / heads, group = heads / kvHeads, eps = c.rms_norm_eps;
  const qwen = (model.config.architectures as string[])[0] === 'Qwen2ForCausalLM';
  const vec = (name: string) => model.weights.get(name)!.data;
  // bf16 rounds the projections' weights; the embedding table only where it is the lm_head too.
  const mat = (name: string, projection = true): Matrix => {
    const w = model.weights.get(name)!;
    const m = { rows: w.shape[0], cols: w.shape[1], data: w.data };
    return o.int8 ? quantiseRows(m) : o.bf16 && projection ? { ...m, data: m.data.map(bf16Operand) } : m;
  };
  const matmul = (x: Float64Array[], w: Matrix, bias?: Float64Array) => product(o.bf16 ? x.map((row) => row.map(bf16Operand)) : x, w, bias);
  const embed = mat('model.embed_tokens.weight', Boolean(c.tie_word_embeddings));
  let h = tokens.map((t) => embed.data.slice(t * hidden, (t + 1) * hidden));
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `model.layers.${l}.`;
    const x = rmsNorm(h, vec(p + 'input_layernorm.weight'), eps);
    const q = matmul(x, mat(p + 'self_attn.q_proj.weight'), qwen ? vec(p + 'self_attn.q_proj.bias') : undefined);
    const k = matmul(x, mat(p + 'self_attn.k_proj.weight'), qwen ? vec(p + 'self_attn.k_proj.bias') : undefined);
    const v = matmul(x, mat(p + 'self_attn.v_proj.weight'), qwen ? vec(p + 'self_attn.v_proj.bias') : undefined);
    rope(q, heads, headDim, o.invFreq, o.attentionScaling ?? 1);
    rope(k, kvHeads, headDim, o.invFreq, o.attentionScaling ?? 1);
    const attn = tokens.map((_, t) => {
      const out = new Float64Array(heads * headDim);
      for (let hd = 0; hd < heads; hd++) {
        const kv = Math.floor(hd / group);
        const scores = [];
        for (let j = 0; j <= t; j++) {
          let s = 0;
          for (let d = 0; d < headDim; d++) s += q[t][hd * headDim + d] * k[j][kv * headDim + d];
          scores.push(s / Math.sqrt(headDim));
        }
        const max = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - max));
        const sum = e.reduce((a, b) => a + b, 0);
        for (let j = 0; j <= t; j++)
          for (let d = 0; d < headDim; d++) out[hd * headDim + d] += (e[j] / sum) * v[j][kv * headDim + d];
      }
      return out;
    });
    const o1 = matmul(attn, mat(p + 'self_attn.o_proj.weight'));
    h = h.map((row, t) => row.map((val, i) => val + o1[t][i]));
    const x2 = rmsNorm(h, vec(p + 'post_attention_layernorm.weight'), eps);
    const gate = matmul(x2, mat(p + 'mlp.gate_proj.weight'));
    const up = matmul(x2, mat(p + 'mlp.up_proj.weight'));
    const act = gate.map((row, t) => row.map((g, i) => (g / (1 + Math.exp(-g))) * up[t][i]));
    const down = matmul(act, mat(p + 'mlp.down_proj.weight'));
    h = h.map((row, t) => row.map((val, i) => val + down[t][i]));
  }
  const final = rmsNorm(h, vec('model.norm.weight'), eps);
  return matmul(final, c.tie_word_embeddings ? embed : mat('lm_head.weight'));
}

/** Greedy continuation of `prompt` by the reference (argmax, lowest id on ties). */
export function referenceGreedy(model: TinyModel, prompt: readonly number[], steps: number, o: ReferenceOptions): number[] {
  const tokens = [...prompt];
  const out: number[] = [];
  for (let i = 0; i < steps; i++) {
    const logits = referenceLogits(model, tokens, o);
    const last = logits[logits.length - 1];
    let best = 0;
    for (let v = 1; v < last.length; v++) if (last[v] > last[best]) best = v;
    tokens.push(best);
    out.push(best);
  }
  return out;
}
