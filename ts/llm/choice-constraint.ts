// Choice mode (vLLM's guided_choice / structured_outputs.choice): the output is exactly one of the
// given strings. Each step allows the tokens whose text continues the output along a choice, and
// end-of-sequence once the output is one.
import type { TokenTrie } from './token-trie';
import type { OutputConstraint } from './scheduler/sequence';

export class ChoiceConstraint implements OutputConstraint {
  private text = '';

  constructor(
    private readonly choices: readonly string[],
    private readonly trie: TokenTrie,
    private readonly texts: readonly (string | null)[],
    private readonly eosTokenIds: readonly number[],
  ) {}

  /** `row` with every token but those that keep the output on a choice at -infinity. */
  mask(row: Float32Array): Float32Array {
    const out = new Float32Array(row.length).fill(-Infinity);
    for (const choice of this.choices) {
      if (choice.length > this.text.length && choice.startsWith(this.text))
        for (const id of this.trie.prefixesOf(choice.slice(this.text.length))) out[id] = row[id];
    }
    if (this.choices.includes(this.text)) for (const id of this.eosTokenIds) out[id] = row[id];
    return out;
  }

  advance(token: number): void {
    this.text += this.texts[token] ?? '';
  }
}
