// Regex mode (vLLM's guided_regex / structured_outputs.regex): the whole output matches the
// pattern (regex.ts). Each step allows the tokens whose bytes keep the automaton alive
// (regex-tokens.ts), and end-of-sequence in an accepting state with no character begun.
import type { CompiledRegex, RegexState } from './regex';
import { regexBytes, regexTokens } from './regex-tokens';
import type { OutputConstraint } from './scheduler/sequence';
import type { TokenTrie } from './token-trie';
import { feedBytes, type Utf8State, whole } from './utf8-step';

export class RegexConstraint implements OutputConstraint {
  private state: Utf8State<RegexState> | null;

  constructor(
    private readonly regex: CompiledRegex,
    private readonly trie: TokenTrie,
    private readonly tokens: readonly (Uint8Array | null)[],
    private readonly eosTokenIds: readonly number[],
  ) {
    this.state = regex.initial;
  }

  mask(row: Float32Array): Float32Array {
    const out = new Float32Array(row.length).fill(-Infinity);
    const u = this.state;
    const s = u === null ? null : whole(u);
    if (u === null || (s !== null && this.regex.accepts(s))) for (const id of this.eosTokenIds) out[id] = row[id];
    if (u === null) return out;
    // A character begun: only the tokens that go on with it (few, found at the trie's first level).
    const ids = s !== null ? regexTokens(this.trie, this.regex, s, 'all') : this.trie.walk(u, regexBytes(this.regex));
    for (const id of ids) out[id] = row[id];
    return out;
  }

  advance(token: number): void {
    const bytes = this.tokens[token];
    if (bytes) this.state = feedBytes(regexBytes(this.regex), this.state, bytes);
  }
}
