// Writes a random-weight Llama checkpoint (bf16 safetensors, config.json, and a byte-level
// tokenizer.json) of a chosen size, for benchmarks: no model can be downloaded here, and speed
// does not depend on the weights' values.
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';

export const RANDOM_LLAMA_SIZES = {
  // ~212M parameters, 0.43 GB in bf16 (TinyLlama-like shape, fewer layers)
  small: { hidden: 1024, layers: 16, heads: 16, kvHeads: 4, intermediate: 2816, vocab: 32000 },
  // ~25M parameters, for quick runs
  tiny: { hidden: 512, layers: 6, heads: 8, kvHeads: 2, intermediate: 1408, vocab: 8192 },
};
export type RandomLlamaSize = keyof typeof RANDOM_LLAMA_SIZES;

function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  let extra = 0;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(printable.includes(b) ? b : 256 + extra++));
}

/** bf16 bytes of uniform values in [-scale, scale] (a cheap generator: speed, not quality, matters). */
function randomBf16(count: number, scale: number, seed: number): Buffer {
  const out = new Uint16Array(count);
  const f = new Float32Array(1), u = new Uint32Array(f.buffer);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    f[0] = ((s / 4294967296) * 2 - 1) * scale;
    out[i] = u[0] >>> 16;
  }
  return Buffer.from(out.buffer);
}

export function writeRandomLlama(dir: string, size: RandomLlamaSize = 'small'): string {
  const s = RANDOM_LLAMA_SIZES[size];
  mkdirSync(dir, { recursive: true });
  const headDim = s.hidden / s.heads;
  const tensors: { name: string; shape: number[]; scale: number }[] = [];
  const add = (name: string, shape: number[], scale: number) => tensors.push({ name, shape, scale });
  add('model.embed_tokens.weight', [s.vocab, s.hidden], 1);
  for (let l = 0; l < s.layers; l++) {
    const p = `model.layers.${l}.`;
    add(p + 'input_layernorm.weight', [s.hidden], 0);
    add(p + 'post_attention_layernorm.weight', [s.hidden], 0);
    add(p + 'self_attn.q_proj.weight', [s.heads * headDim, s.hidden], 1 / Math.sqrt(s.hidden));
    add(p + 'self_attn.k_proj.weight', [s.kvHeads * headDim, s.hidden], 1 / Math.sqrt(s.hidden));
    add(p + 'self_attn.v_proj.weight', [s.kvHeads * headDim, s.hidden], 1 / Math.sqrt(s.hidden));
    add(p + 'self_attn.o_proj.weight', [s.hidden, s.heads * headDim], 1 / Math.sqrt(s.hidden));
    add(p + 'mlp.gate_proj.weight', [s.intermediate, s.hidden], 1 / Math.sqrt(s.hidden));
    add(p + 'mlp.up_proj.weight', [s.intermediate, s.hidden], 1 / Math.sqrt(s.hidden));
    add(p + 'mlp.down_proj.weight', [s.hidden, s.intermediate], 1 / Math.sqrt(s.intermediate));
  }
  add('model.norm.weight', [s.hidden], 0);
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const t of tensors) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * 2;
    header[t.name] = { dtype: 'BF16', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const fd = openSync(path.join(dir, 'model.safetensors'), 'w');
  try {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
    writeSync(fd, len);
    writeSync(fd, Buffer.from(json));
    tensors.forEach((t, i) => {
      const count = t.shape.reduce((a, b) => a * b, 1);
      // Norm weights (scale 0) are ones: 0x3f80 is 1.0 in bf16.
      writeSync(fd, t.scale === 0 ? Buffer.from(new Uint16Array(count).fill(0x3f80).buffer) : randomBf16(count, t.scale, i + 1));
    });
  } finally {
    closeSync(fd);
  }
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({
    architectures: ['LlamaForCausalLM'], hidden_size: s.hidden, intermediate_size: s.intermediate, num_hidden_layers: s.layers,
    num_attention_heads: s.heads, num_key_value_heads: s.kvHeads, vocab_size: s.vocab, max_position_embeddings: 4096,
    rms_norm_eps: 1e-5, rope_theta: 10000, hidden_act: 'silu', tie_word_embeddings: true, eos_token_id: 2, torch_dtype: 'bfloat16',
  }));
  // Byte-level tokenizer: 256 byte tokens; the other ids decode as unknown pieces of text.
  const chars = bytesToUnicode();
  const vocab: Record<string, number> = Object.fromEntries(chars.map((c, i) => [c, i]));
  for (let i = 256; i < s.vocab; i++) vocab[`<t${i}>`] = i;
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify({
    version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null, pre_tokenizer: byteLevel,
    post_processor: byteLevel, decoder: byteLevel,
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab, merges: [] },
  }));
  writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ add_bos_token: false }));
  return dir;
}
