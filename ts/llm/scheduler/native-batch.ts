// Packs the sequences of one forward into the addon's batch layout (see LlmModel::forward).
import type { NativeLlmBatch } from '../native';

export interface BatchRow {
  /** Tokens run for this sequence, at positions start, start + 1, ... */
  tokens: readonly number[];
  start: number;
  blockTable: readonly number[];
  /** Logits rows wanted: that many last tokens. */
  logits: number;
}

export function nativeBatch(rows: readonly BatchRow[]): NativeLlmBatch {
  const numTokens = rows.reduce((n, r) => n + r.tokens.length, 0);
  const maxBlocks = Math.max(...rows.map((r) => r.blockTable.length));
  const tokens = new Int32Array(numTokens), positions = new Int32Array(numTokens);
  const queryLens = new Int32Array(rows.length), logitsPerSeq = new Int32Array(rows.length);
  const blockTables = new Int32Array(rows.length * maxBlocks).fill(-1);
  let t = 0;
  rows.forEach((r, s) => {
    r.tokens.forEach((id, i) => {
      tokens[t] = id;
      positions[t++] = r.start + i;
    });
    queryLens[s] = r.tokens.length;
    logitsPerSeq[s] = r.logits;
    blockTables.set(r.blockTable, s * maxBlocks);
  });
  return { tokens, positions, queryLens, blockTables, maxBlocks, logitsPerSeq };
}
