// JSON mode (response_format json_object or json_schema): per step, the tokens whose bytes keep the
// output a prefix of a valid document, as the checker (json-checker.ts) reads it. The checker reads
// characters; tokens come as bytes (a byte-level piece may end inside a character) through
// utf8-step.ts, and sit in a trie (token-trie.ts) walked with the checker's state.
import { isComplete, jsonStart, NO_PLAIN, plainTokens, step, takesSomeIn, type JsonState } from './json-checker';
import type { Schema } from './json-schema';
import { regexTokens } from './regex-tokens';
import type { OutputConstraint } from './scheduler/sequence';
import type { TokenTrie } from './token-trie';
import { feedBytes, utf8Stepper, type Utf8State, whole } from './utf8-step';

const jsonBytes = utf8Stepper<JsonState>({ step, takesSomeIn });

/**
 * A copy of the logits `row` with every token whose whole bytes the checker does not accept from
 * `u` at -infinity. Inside a string (no character begun), the plain tokens it takes are copied in
 * one pass (no list of nearly every id; a pattern's kept list) and only the others are walked.
 */
export function jsonMask(trie: TokenTrie, u: Utf8State<JsonState>, row: Float32Array): Float32Array {
  const out = new Float32Array(row.length);
  const s = whole(u);
  const plain = s === null ? NO_PLAIN : plainTokens(s);
  let ids: number[];
  // A pattern's kept list ignores a maximum length: it serves while no token can reach the maximum.
  if ('pattern' in plain && plain.room >= trie.maxLength + plain.pattern.farthest) {
    out.fill(-Infinity);
    for (const id of regexTokens(trie, plain.pattern, plain.re, 'plain')) out[id] = row[id];
    ids = trie.walk(u, jsonBytes, 'special');
  } else if (!('pattern' in plain) && plain.chars > 0) {
    trie.copyPlain(row, out, plain.chars);
    ids = trie.walk(u, jsonBytes, 'special');
  } else {
    out.fill(-Infinity);
    ids = trie.walk(u, jsonBytes);
  }
  for (const id of ids) out[id] = row[id];
  return out;
}

/** The state after `bytes` (a token's), or null when they are not a prefix of a valid document. */
export function feedJsonBytes(u: Utf8State<JsonState> | null, bytes: Uint8Array): Utf8State<JsonState> | null {
  return feedBytes(jsonBytes, u, bytes);
}

/** One sequence's JSON mode: the state of its output so far and the tokens it may take next. */
export class JsonConstraint implements OutputConstraint {
  private state: Utf8State<JsonState> | null;

  constructor(
    schema: Schema,
    private readonly trie: TokenTrie,
    private readonly tokens: readonly (Uint8Array | null)[],
    private readonly eosTokenIds: readonly number[],
  ) {
    this.state = jsonStart(schema);
  }

  /**
   * The logits `row` masked to the tokens allowed next: the trie's; once the document is complete,
   * end-of-sequence alone where it may end the sequence (`mayEnd`), else whitespace (which keeps a
   * sequence held open by minTokens or ignoreEos valid).
   */
  mask(row: Float32Array, mayEnd: boolean): Float32Array {
    const u = this.state;
    const s = u === null ? null : whole(u);
    const endOnly = u === null || (s !== null && isComplete(s) && mayEnd && this.eosTokenIds.length > 0);
    if (endOnly) {
      const out = new Float32Array(row.length).fill(-Infinity);
      for (const id of this.eosTokenIds) out[id] = row[id];
      return out;
    }
    return jsonMask(this.trie, u!, row);
  }

  advance(token: number): void {
    const bytes = this.tokens[token];
    if (bytes) this.state = feedJsonBytes(this.state, bytes);
  }
}
