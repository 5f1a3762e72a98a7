// Choice mode (vLLM's guided_choice / structured_outputs.choice): the output is exactly one of the
// given strings. Each step allows the tokens whose bytes continue the output along a choice's UTF-8
// (a byte-level piece of a character included), and end-of-sequence once the output is one.
import type { TokenTrie } from './token-trie';
import type { OutputConstraint } from './scheduler/sequence';

export class ChoiceConstraint implements OutputConstraint {
  private readonly choices: Uint8Array[];
  private done: number[] = [];

  constructor(
    choices: readonly string[],
    private readonly trie: TokenTrie,
    private readonly tokens: readonly (Uint8Array | null)[],
    private readonly eosTokenIds: readonly number[],
  ) {
    const encoder = new TextEncoder();
    this.choices = choices.map((c) => encoder.encode(c));
  }

  /** `row` with every token but those that keep the output on a choice at -infinity. */
  mask(row: Float32Array): Float32Array {
    const out = new Float32Array(row.length).fill(-Infinity);
    const n = this.done.length;
    for (const choice of this.choices) {
      if (choice.length < n || !this.done.every((b, i) => choice[i] === b)) continue;
      if (choice.length === n) for (const id of this.eosTokenIds) out[id] = row[id];
      else for (const id of this.trie.prefixesOf(choice.subarray(n))) out[id] = row[id];
    }
    return out;
  }

  advance(token: number): void {
    this.done.push(...(this.tokens[token] ?? []));
  }
}
