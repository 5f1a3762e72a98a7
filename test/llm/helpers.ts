// Shared by the LLM tests: the package's llm entry as users load it, tiny models, and helpers
// that run the native forward directly with hand-made block tables.
import type { NativeLlm } from '../../lib/llm/native';

export * as llm from '../../lib/llm/index';
export { ropeFrequencies, parseRopeScaling } from '../../lib/llm/rope';

/** Logits of every position of `tokens`, run as one prefill in blocks 0, 1, 2, ... */
export async function nativeLogitsAll(model: NativeLlm, tokens: readonly number[], vocab: number): Promise<Float32Array[]> {
  const blockSize = model.info.blockSize;
  const maxBlocks = Math.ceil(tokens.length / blockSize);
  const logits = await model.forward({
    tokens: Int32Array.from(tokens),
    positions: Int32Array.from(tokens.map((_, i) => i)),
    queryLens: Int32Array.of(tokens.length),
    blockTables: Int32Array.from({ length: maxBlocks }, (_, i) => i),
    maxBlocks,
    logitsPerSeq: Int32Array.of(tokens.length),
  });
  return tokens.map((_, i) => logits.subarray(i * vocab, (i + 1) * vocab));
}

/** max |a - b| / max |b| over all rows. */
export function maxRelError(actual: Float32Array[], expected: Float64Array[]): number {
  let diff = 0, ref = 0;
  expected.forEach((row, r) => row.forEach((v, i) => {
    diff = Math.max(diff, Math.abs(actual[r][i] - v));
    ref = Math.max(ref, Math.abs(v));
  }));
  return diff / ref;
}
