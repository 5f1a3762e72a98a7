// The tokens a regex automaton takes whole from a state, walked through the vocabulary's trie once
// per block of states that take the same strings up to the longest token (regex.ts blocksUpTo), and
// kept for later steps and requests with the same pattern, up to a budget of ids per pattern. A
// counted pattern such as [a-z ]{1,200} so walks some tens of blocks, not a state per char.
import type { CompiledRegex, RegexState } from './regex';
import type { TokenTrie } from './token-trie';
import { utf8Stepper, type Utf8State } from './utf8-step';

const MAX_KEPT_IDS = 4_000_000;

interface Kept {
  byBlock: Map<string, Int32Array>;
  ids: number;
}
const kept = new WeakMap<TokenTrie, WeakMap<CompiledRegex, Kept>>();
const byteSteppers = new WeakMap<CompiledRegex, (u: Utf8State<RegexState>, b: number) => Utf8State<RegexState> | null>();

/** The automaton read byte by byte (utf8-step.ts). */
export function regexBytes(regex: CompiledRegex): (u: Utf8State<RegexState>, b: number) => Utf8State<RegexState> | null {
  let stepper = byteSteppers.get(regex);
  if (!stepper) byteSteppers.set(regex, (stepper = utf8Stepper({ step: regex.next, takesSomeIn: regex.takesSomeIn })));
  return stepper;
}

/** Ids of the tokens (all, or only the plain ones: no quote, backslash or control byte) `regex` takes whole from `state` (no character begun). */
export function regexTokens(trie: TokenTrie, regex: CompiledRegex, state: RegexState, among: 'all' | 'plain'): Int32Array {
  let perTrie = kept.get(trie);
  if (!perTrie) kept.set(trie, (perTrie = new WeakMap()));
  let k = perTrie.get(regex);
  if (!k) perTrie.set(regex, (k = { byBlock: new Map(), ids: 0 }));
  const key = `${among}:${regex.blocksUpTo(trie.maxLength)[state]}`;
  let ids = k.byBlock.get(key);
  if (!ids) {
    ids = Int32Array.from(trie.walk<Utf8State<RegexState>>(state, regexBytes(regex), among));
    if (k.ids + ids.length <= MAX_KEPT_IDS) {
      k.byBlock.set(key, ids);
      k.ids += ids.length;
    }
  }
  return ids;
}
