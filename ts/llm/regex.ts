// Regular expressions as deterministic automata (refa), for constrained output: the output (or a
// JSON string's text) must match the whole pattern. Written as JavaScript RegExp source (Unicode
// mode, so a char is a code point); Python's (?P<name>...) groups are read as (?<name>...), and a
// leading ^ / trailing $ are dropped (the match is whole anyway). Other assertions (lookarounds,
// \b, inner anchors) and backreferences have no automaton and are refused.
// The automaton is kept as a table: states by char classes (the code point ranges no transition
// splits), so a step is a class lookup and an array read.
import { DFA, JS, NFA } from 'refa';

import { HsError } from '../errors';

/** A state of the automaton (an index): the text so far matches a prefix of the pattern. */
export type RegexState = number;

export interface CompiledRegex {
  readonly initial: RegexState;
  /** The state after `char`, or null when no match can follow. */
  next(state: RegexState, char: string): RegexState | null;
  /** Whether the text so far matches the whole pattern. */
  accepts(state: RegexState): boolean;
  /** Whether some code point in [lo, hi] can come next, leading to a state at most `within` chars from a match. */
  takesSomeIn(state: RegexState, lo: number, hi: number, within?: number): boolean;
  /** The fewest chars from `state` to a whole match (0 when it is one). */
  charsToMatch(state: RegexState): number;
  /** The most that charsToMatch gives over all states. */
  readonly farthest: number;
  /**
   * Per state, a block of states that take exactly the same strings of up to `depth` chars (so the
   * same tokens of up to that length); blocks are numbered from 0.
   */
  blocksUpTo(depth: number): Int32Array;
}

// Beyond this many states, or table entries, a pattern is refused (a DFA can be exponential in the
// pattern; a table is states x char classes).
const MAX_STATES = 20_000;
const MAX_TABLE = 8_000_000;
const MAX_REFINE_WORK = 50_000_000;

// Compiled patterns, the most recent last: requests often repeat one (and the token lists kept for
// it, regex-tokens.ts, live as long as it does).
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
  const refuse = (why: string): never => {
    throw new HsError('ERR_INVALID_ARGUMENT', `${field} ${JSON.stringify(pattern)} cannot be enforced: ${why}`);
  };
  let source = pattern.replace(/\(\?P</g, '(?<');
  if (source.startsWith('^')) source = source.slice(1);
  if (source.endsWith('$') && !/(^|[^\\])(\\\\)*\\\$$/.test(source)) source = source.slice(0, -1);
  let dfa: DFA;
  try {
    const { expression, maxCharacter } = JS.Parser.fromLiteral({ source, flags: 'u' }).parse({ assertions: 'throw', backreferences: 'throw' });
    dfa = DFA.fromFA(NFA.fromRegex(expression, { maxCharacter }), new DFA.LimitedNodeFactory(MAX_STATES));
  } catch (e) {
    return refuse((e as Error).message);
  }
  // Only states from which a match can still be completed are kept: a step anywhere else is refused.
  dfa.removeUnreachable();
  dfa.minimize();
  if (dfa.finals.size === 0) refuse('it matches nothing');
  return new RegexTable(dfa, refuse);
}

class RegexTable implements CompiledRegex {
  readonly initial = 0;
  /** Sorted first code points of the char classes (class i: bounds[i] .. bounds[i + 1] - 1). */
  private readonly bounds: number[];
  /** next[state * classes + class]: the next state, or -1. */
  private readonly table: Int32Array;
  private readonly final: Uint8Array;
  private readonly toMatch: Int32Array;
  readonly farthest: number;
  private readonly classOfChar = new Map<string, number>();
  private readonly blocks = new Map<number, Int32Array>();

  constructor(dfa: DFA, refuse: (why: string) => never) {
    const nodes = [dfa.initial, ...[...dfa.nodes()].filter((n) => n !== dfa.initial)];
    const index = new Map(nodes.map((n, i) => [n, i]));
    const cuts = new Set<number>([0]);
    for (const n of nodes) for (const [range] of n.out) cuts.add(range.min).add(range.max + 1);
    this.bounds = [...cuts].sort((a, b) => a - b);
    const classes = this.bounds.length;
    if (nodes.length * classes > MAX_TABLE) refuse(`its automaton (${nodes.length} states x ${classes} char classes) is too large`);
    this.table = new Int32Array(nodes.length * classes).fill(-1);
    for (const [i, n] of nodes.entries())
      for (const [range, to] of n.out)
        for (let c = this.classOf(range.min); c < classes && this.bounds[c] <= range.max; c++) this.table[i * classes + c] = index.get(to)!;
    this.final = Uint8Array.from(nodes, (n) => (dfa.finals.has(n) ? 1 : 0));
    // Backwards breadth-first from the accepting states (every state reaches one: see compile()).
    const from: number[][] = nodes.map(() => []);
    for (let i = 0; i < nodes.length; i++)
      for (let c = 0; c < classes; c++) {
        const to = this.table[i * classes + c];
        if (to >= 0) from[to].push(i);
      }
    this.toMatch = new Int32Array(nodes.length).fill(-1);
    const queue: number[] = [];
    this.final.forEach((f, i) => {
      if (f === 1) {
        this.toMatch[i] = 0;
        queue.push(i);
      }
    });
    for (let q = 0; q < queue.length; q++)
      for (const prev of from[queue[q]])
        if (this.toMatch[prev] < 0) {
          this.toMatch[prev] = this.toMatch[queue[q]] + 1;
          queue.push(prev);
        }
    this.farthest = Math.max(...this.toMatch);
  }

  charsToMatch(state: RegexState): number {
    return this.toMatch[state];
  }

  private classOf(codePoint: number): number {
    let lo = 0, hi = this.bounds.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.bounds[mid] <= codePoint) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  next = (state: RegexState, char: string): RegexState | null => {
    let c = this.classOfChar.get(char);
    if (c === undefined) this.classOfChar.set(char, (c = this.classOf(char.codePointAt(0)!)));
    const to = this.table[state * this.bounds.length + c];
    return to < 0 ? null : to;
  };

  accepts(state: RegexState): boolean {
    return this.final[state] === 1;
  }

  takesSomeIn = (state: RegexState, lo: number, hi: number, within = Infinity): boolean => {
    const classes = this.bounds.length;
    for (let c = this.classOf(lo); c < classes && this.bounds[c] <= hi; c++) {
      const to = this.table[state * classes + c];
      if (to >= 0 && this.toMatch[to] <= within) return true;
    }
    return false;
  };

  // Moore's refinement, `depth` rounds (or until nothing splits): two states stay in one block while,
  // for every class, both have no next state or next states in one block.
  blocksUpTo(depth: number): Int32Array {
    let blocks = this.blocks.get(depth);
    if (blocks) return blocks;
    const states = this.final.length, classes = this.bounds.length;
    // Too large to refine quickly: a block per state.
    if (states * classes * depth > MAX_REFINE_WORK) {
      blocks = Int32Array.from({ length: states }, (_, i) => i);
      this.blocks.set(depth, blocks);
      return blocks;
    }
    blocks = new Int32Array(states);
    let count = 1;
    for (let round = 0; round < depth; round++) {
      const ids = new Map<string, number>();
      const refined = new Int32Array(states);
      for (let s = 0; s < states; s++) {
        let key = `${blocks[s]}`;
        for (let c = 0; c < classes; c++) {
          const to = this.table[s * classes + c];
          key += `,${to < 0 ? -1 : blocks[to]}`;
        }
        let id = ids.get(key);
        if (id === undefined) ids.set(key, (id = ids.size));
        refined[s] = id;
      }
      blocks = refined;
      if (ids.size === count) break;
      count = ids.size;
    }
    this.blocks.set(depth, blocks);
    return blocks;
  }
}
