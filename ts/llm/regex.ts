// Regular expressions as deterministic automata (refa), for constrained output: the output (or a
// JSON string's text) must match the whole pattern. Written as JavaScript RegExp source (Unicode
// mode, so a char is a code point); Python's (?P<name>...) groups are read as (?<name>...), and a
// leading ^ / trailing $ are dropped (the match is whole anyway). Other assertions (lookarounds,
// \b, inner anchors) and backreferences have no automaton and are refused.
import { DFA, JS, NFA } from 'refa';

import { HsError } from '../errors';

// A token that ends inside a multi-byte character reads U+FFFD on its own: the character it becomes
// is not known, so no automaton takes it (what is generated then still matches).
const REPLACEMENT = '\uFFFD';

/** A state of the automaton: the text so far matches a prefix of the pattern. */
export type RegexState = DFA.ReadonlyNode;

export interface CompiledRegex {
  readonly initial: RegexState;
  /** The state after `char`, or null when no match can follow. */
  next(state: RegexState, char: string): RegexState | null;
  /** Whether the text so far matches the whole pattern. */
  accepts(state: RegexState): boolean;
}

// Beyond this many states a pattern is refused (a DFA can be exponential in the pattern).
const MAX_STATES = 20_000;

// Compiled patterns, the most recent last: requests often repeat one (and its kept token lists,
// regex-constraint.ts, live as long as it does).
const compiled = new Map<string, CompiledRegex>();
const MAX_COMPILED = 64;

export function compileRegex(pattern: string, field = 'regex'): CompiledRegex {
  if (typeof pattern !== 'string') throw new HsError('ERR_INVALID_ARGUMENT', `${field} must be a string`);
  let re = compiled.get(pattern);
  if (re) compiled.delete(pattern);
  else re = compile(pattern, field);
  compiled.set(pattern, re);
  if (compiled.size > MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
  return re;
}

function compile(pattern: string, field: string): CompiledRegex {
  let source = pattern.replace(/\(\?P</g, '(?<');
  if (source.startsWith('^')) source = source.slice(1);
  if (source.endsWith('$') && !/(^|[^\\])(\\\\)*\\\$$/.test(source)) source = source.slice(0, -1);
  let dfa: DFA;
  try {
    const { expression, maxCharacter } = JS.Parser.fromLiteral({ source, flags: 'u' }).parse({ assertions: 'throw', backreferences: 'throw' });
    dfa = DFA.fromFA(NFA.fromRegex(expression, { maxCharacter }), new DFA.LimitedNodeFactory(MAX_STATES));
  } catch (e) {
    throw new HsError('ERR_INVALID_ARGUMENT', `${field} ${JSON.stringify(pattern)} cannot be enforced: ${(e as Error).message}`);
  }
  // Only states from which a match can still be completed are kept: a step anywhere else is refused.
  dfa.removeUnreachable();
  dfa.minimize();
  if (dfa.finals.size === 0) throw new HsError('ERR_INVALID_ARGUMENT', `${field} ${JSON.stringify(pattern)} matches nothing`);
  return {
    initial: dfa.initial,
    next: (state, char) => (char === REPLACEMENT ? null : state.out.get(char.codePointAt(0)!) ?? null),
    accepts: (state) => dfa.finals.has(state as DFA.Node),
  };
}
