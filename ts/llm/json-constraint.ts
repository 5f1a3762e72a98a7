// JSON mode (response_format json_object): an incremental JSON checker over the generated text,
// and, per step, the set of tokens whose text keeps the output a prefix of a valid JSON object
// (RFC 8259; insignificant whitespace allowed, nothing after the object but end-of-sequence).
// The vocabulary's token texts sit in a trie, walked with the checker's state, so that tokens
// sharing a rejected prefix are rejected together. Token texts are decoded one by one: a token
// holding part of a multi-byte character decodes to U+FFFD, which only a string accepts.

type Container = { kind: 'obj' | 'arr'; up: Container | null };

// What the checker expects next.
type Mode =
  | 'value' | 'first-value-or-close' | 'key' | 'first-key-or-close' | 'colon' | 'after-value' | 'end'
  | 'string' | 'escape' | 'hex' | 'literal'
  | 'minus' | 'zero' | 'int' | 'frac-start' | 'frac' | 'exp-start' | 'exp-sign' | 'exp';

/** Immutable checker state: each char gives a new state (or null: the char is not allowed). */
export interface JsonState {
  readonly mode: Mode;
  readonly stack: Container | null;
  /** string: whether it is an object key; literal: the chars still due; hex: digits still due. */
  readonly key: boolean;
  readonly rest: string;
}

const WS = new Set([' ', '\t', '\n', '\r']);
const DIGIT = /[0-9]/;

export const JSON_START: JsonState = { mode: 'value', stack: null, key: false, rest: '' };

function st(mode: Mode, stack: Container | null, key = false, rest = ''): JsonState {
  return { mode, stack, key, rest };
}

// A value is complete: what may follow depends on the enclosing container.
function valueDone(stack: Container | null): JsonState {
  return st(stack ? 'after-value' : 'end', stack);
}

// The start of a value (the top level only admits an object: json_object).
function startValue(c: string, stack: Container | null): JsonState | null {
  if (c === '{') return st('first-key-or-close', { kind: 'obj', up: stack });
  if (stack === null) return null;
  if (c === '[') return st('first-value-or-close', { kind: 'arr', up: stack });
  if (c === '"') return st('string', stack, false);
  if (c === '-') return st('minus', stack);
  if (c === '0') return st('zero', stack);
  if (DIGIT.test(c)) return st('int', stack);
  if (c === 't') return st('literal', stack, false, 'rue');
  if (c === 'f') return st('literal', stack, false, 'alse');
  if (c === 'n') return st('literal', stack, false, 'ull');
  return null;
}

// A number may end at any char that is not part of it: the char then goes to what follows.
function endNumber(c: string, s: JsonState): JsonState | null {
  return step(valueDone(s.stack), c);
}

/** The state after `c`, or null when `c` cannot come next. */
export function step(s: JsonState, c: string): JsonState | null {
  switch (s.mode) {
    case 'value':
      return WS.has(c) ? s : startValue(c, s.stack);
    case 'first-value-or-close':
      if (WS.has(c)) return s;
      if (c === ']') return valueDone(s.stack!.up);
      return startValue(c, s.stack);
    case 'first-key-or-close':
      if (WS.has(c)) return s;
      if (c === '}') return valueDone(s.stack!.up);
      return c === '"' ? st('string', s.stack, true) : null;
    case 'key':
      if (WS.has(c)) return s;
      return c === '"' ? st('string', s.stack, true) : null;
    case 'colon':
      if (WS.has(c)) return s;
      return c === ':' ? st('value', s.stack) : null;
    case 'after-value': {
      if (WS.has(c)) return s;
      const top = s.stack!;
      if (c === ',') return top.kind === 'obj' ? st('key', top) : st('value', top);
      if ((c === '}' && top.kind === 'obj') || (c === ']' && top.kind === 'arr')) return valueDone(top.up);
      return null;
    }
    case 'end':
      return WS.has(c) ? s : null;
    case 'string':
      if (c === '"') return s.key ? st('colon', s.stack) : valueDone(s.stack);
      if (c === '\\') return st('escape', s.stack, s.key);
      return c.charCodeAt(0) < 0x20 ? null : s;
    case 'escape':
      if (c === 'u') return st('hex', s.stack, s.key, '4');
      return '"\\/bfnrt'.includes(c) ? st('string', s.stack, s.key) : null;
    case 'hex': {
      if (!/[0-9a-fA-F]/.test(c)) return null;
      const due = Number(s.rest) - 1;
      return due === 0 ? st('string', s.stack, s.key) : st('hex', s.stack, s.key, String(due));
    }
    case 'literal':
      if (c !== s.rest[0]) return null;
      return s.rest.length === 1 ? valueDone(s.stack) : st('literal', s.stack, false, s.rest.slice(1));
    case 'minus':
      if (c === '0') return st('zero', s.stack);
      return DIGIT.test(c) ? st('int', s.stack) : null;
    case 'zero':
      if (c === '.') return st('frac-start', s.stack);
      if (c === 'e' || c === 'E') return st('exp-start', s.stack);
      return endNumber(c, s);
    case 'int':
      if (DIGIT.test(c)) return s;
      if (c === '.') return st('frac-start', s.stack);
      if (c === 'e' || c === 'E') return st('exp-start', s.stack);
      return endNumber(c, s);
    case 'frac-start':
      return DIGIT.test(c) ? st('frac', s.stack) : null;
    case 'frac':
      if (DIGIT.test(c)) return s;
      if (c === 'e' || c === 'E') return st('exp-start', s.stack);
      return endNumber(c, s);
    case 'exp-start':
      if (c === '+' || c === '-') return st('exp-sign', s.stack);
      return DIGIT.test(c) ? st('exp', s.stack) : null;
    case 'exp-sign':
      return DIGIT.test(c) ? st('exp', s.stack) : null;
    case 'exp':
      return DIGIT.test(c) ? s : endNumber(c, s);
  }
}

/** The state after `text`, or null when it is not a prefix of a JSON object. */
export function feed(s: JsonState | null, text: string): JsonState | null {
  for (const c of text) {
    if (s === null) return null;
    s = step(s, c);
  }
  return s;
}

/** Whether the object is complete (only end-of-sequence may follow). */
export function isComplete(s: JsonState): boolean {
  return s.mode === 'end';
}

interface TrieNode {
  children: Map<string, TrieNode>;
  ids: number[];
}

function insert(root: TrieNode, text: string, id: number): void {
  let node = root;
  for (const c of text) {
    let next = node.children.get(c);
    if (!next) node.children.set(c, (next = { children: new Map(), ids: [] }));
    node = next;
  }
  node.ids.push(id);
}

/**
 * The vocabulary as a trie of token texts (empty texts and special tokens left out). Inside a
 * string most tokens are plain text (no quote, backslash or control character), always allowed
 * there: they are listed apart, and a string walks only the trie of the others.
 */
export class TokenTrie {
  private readonly root: TrieNode = { children: new Map(), ids: [] };
  private readonly stringSpecial: TrieNode = { children: new Map(), ids: [] };
  private readonly plain: number[] = [];

  constructor(texts: readonly (string | null)[]) {
    texts.forEach((text, id) => {
      if (!text) return;
      insert(this.root, text, id);
      if (/["\\\u0000-\u001f]/.test(text)) insert(this.stringSpecial, text, id);
      else this.plain.push(id);
    });
  }

  /** Ids of every token whose whole text the checker accepts from state `s`. */
  allowed(s: JsonState): number[] {
    if (s.mode === 'string') return [...this.plain, ...this.walk(this.stringSpecial, s)];
    return this.walk(this.root, s);
  }

  private walk(root: TrieNode, s: JsonState): number[] {
    const out: number[] = [];
    const walk = (node: TrieNode, state: JsonState) => {
      for (const id of node.ids) out.push(id);
      for (const [c, child] of node.children) {
        const next = step(state, c);
        if (next) walk(child, next);
      }
    };
    for (const [c, child] of root.children) {
      const next = step(s, c);
      if (next) walk(child, next);
    }
    return out;
  }
}

/** One sequence's JSON mode: the state of its output so far and the tokens it may take next. */
export class JsonConstraint {
  private state: JsonState | null = JSON_START;

  constructor(
    private readonly trie: TokenTrie,
    private readonly texts: readonly (string | null)[],
    private readonly eosTokenIds: readonly number[],
  ) {}

  /**
   * The tokens allowed next: the trie's; once the object is complete, end-of-sequence and
   * whitespace (which keeps a sequence held open by minTokens valid).
   */
  allowed(): number[] {
    if (this.state === null) return [...this.eosTokenIds];
    const tokens = this.trie.allowed(this.state);
    return isComplete(this.state) ? [...this.eosTokenIds, ...tokens] : tokens;
  }

  advance(token: number): void {
    this.state = feed(this.state, this.texts[token] ?? '');
  }
}
