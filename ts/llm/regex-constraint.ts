// Regex mode (vLLM's guided_regex / structured_outputs.regex): the whole output matches the
// pattern (regex.ts). Each step allows the tokens whose text keeps the automaton alive, and
// end-of-sequence in an accepting state. A state's tokens are walked once per vocabulary and kept
// for later steps and requests with the same pattern (a permissive state of a 152k vocabulary
// takes ~30 ms to walk), up to a budget of ids per pattern.
import type { CompiledRegex, RegexState } from './regex';
import type { OutputConstraint } from './scheduler/sequence';
import type { TokenTrie } from './token-trie';

const MAX_KEPT_IDS = 4_000_000;

interface KeptTokens {
  byState: Map<RegexState, Int32Array>;
  ids: number;
}
const kept = new WeakMap<TokenTrie, WeakMap<CompiledRegex, KeptTokens>>();

function allowedAt(trie: TokenTrie, regex: CompiledRegex, state: RegexState): Int32Array {
  let perTrie = kept.get(trie);
  if (!perTrie) kept.set(trie, (perTrie = new WeakMap()));
  let k = perTrie.get(regex);
  if (!k) perTrie.set(regex, (k = { byState: new Map(), ids: 0 }));
  let ids = k.byState.get(state);
  if (!ids) {
    ids = Int32Array.from(trie.walk(state, regex.next));
    if (k.ids + ids.length <= MAX_KEPT_IDS) {
      k.byState.set(state, ids);
      k.ids += ids.length;
    }
  }
  return ids;
}

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
    for (const id of allowedAt(this.trie, this.regex, s)) out[id] = row[id];
    return out;
  }

  advance(token: number): void {
    for (const c of this.texts[token] ?? '') {
      if (this.state === null) return;
      this.state = this.regex.next(this.state, c);
    }
  }
}
