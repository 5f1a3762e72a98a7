// Speculative decoding by n-gram prompt lookup: the last n tokens of a sequence are searched for
// earlier in the sequence (longest n first, latest match first), and the tokens that followed
// that match are proposed as drafts. The target model checks all drafts in one forward; with
// greedy sampling the accepted output is exactly what one-token-at-a-time decoding gives.
export interface NgramOptions {
  /** Draft tokens proposed per step. */
  numSpeculativeTokens: number;
  maxNgram: number;
  minNgram: number;
}

export function proposeNgramDrafts(tokens: readonly number[], o: NgramOptions, limit: number): number[] {
  const k = Math.min(o.numSpeculativeTokens, limit);
  if (k <= 0) return [];
  const n = tokens.length;
  for (let size = Math.min(o.maxNgram, n - 1); size >= o.minNgram; size--) {
    const suffixStart = n - size;
    for (let start = suffixStart - 1; start >= 0; start--) {
      let match = true;
      for (let i = 0; i < size && match; i++) match = tokens[start + i] === tokens[suffixStart + i];
      if (!match) continue;
      const follow = tokens.slice(start + size, Math.min(start + size + k, n));
      if (follow.length > 0) return follow;
    }
  }
  return [];
}
