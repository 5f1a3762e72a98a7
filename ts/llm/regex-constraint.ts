// Regex mode (vLLM's guided_regex / structured_outputs.regex): the whole output matches the
// pattern (regex.ts). Each step allows the tokens whose text keeps the automaton alive
// (regex-tokens.ts), and end-of-sequence in an accepting state.
import type { CompiledRegex, RegexState } from './regex';
import { regexTokens } from './regex-tokens';
import type { OutputConstraint } from './scheduler/sequence';
import type { TokenTrie } from './token-trie';

export class RegexConstraint implements OutputConstraint {
  private state: RegexState | null;

  constructor(
    private readonly regex: CompiledRegex,
    private readonly trie: TokenTrie,
    private readonly texts: readonly (string | null)[],
    private readonly eosTokenIds: readonly number[],
  ) {
    this.state = regex.initial;
  }

  mask(row: Float32Array): Float32Array {
    const out = new Float32Array(row.length).fill(-Infinity);
    const s = this.state;
    if (s === null || this.regex.accepts(s)) for (const id of this.eosTokenIds) out[id] = row[id];
    if (s === null) return out;
    for (const id of regexTokens(this.trie, this.regex, s, 'all')) out[id] = row[id];
    return out;
  }

  advance(token: number): void {
    for (const c of this.texts[token] ?? '') {
      if (this.state === null) return;
      this.state = this.regex.next(this.state, c);
    }
  }
}
