// The JSON checker of JSON mode: an incremental reader of the generated text that says, char by
// char, whether it is still a prefix of a valid document (RFC 8259; insignificant whitespace allowed,
// nothing after it but end-of-sequence): any object, or a value of the schema subset of
// json-schema.ts. Where a value may take several schemas (anyOf) and its text so far fits more than
// one, the state is a fork of one state per reading. json-constraint.ts turns it into token masks.
import { ANY, ANY_OBJECT, resolveRef, type Schema, type StringLimits } from './json-schema';
import type { CompiledRegex, RegexState } from './regex';

// An open object or array: its schema, for an object the keys it has and the key whose value is
// being read, for an array the count of its items.
type Frame = {
  readonly kind: 'obj' | 'arr';
  readonly schema: Schema;
  readonly up: Frame | null;
  readonly seen: ReadonlySet<string>;
  readonly key: string | null;
  readonly count: number;
};

// What the checker expects next.
type Mode =
  | 'value' | 'first-value-or-close' | 'key' | 'first-key-or-close' | 'colon' | 'after-value' | 'end'
  | 'string' | 'escape' | 'hex' | 'literal' | 'enum' | 'bounded-number'
  | 'minus' | 'zero' | 'int' | 'frac-start' | 'frac' | 'exp-start' | 'exp-sign' | 'exp'
  | 'fork';

/** Immutable checker state: each char gives a new state (or null: the char is not allowed). */
export interface JsonState {
  readonly mode: Mode;
  readonly stack: Frame | null;
  /** The schema of the value being read (value, string, number, literal and enum modes). */
  readonly schema: Schema;
  /** string: whether it is an object key. */
  readonly key: boolean;
  /** A key that is read (matched against names or picking its value's schema): its text so far;
   *  enum: the value's text so far; literal: the chars still due; hex: the count of digits still due. */
  readonly text: string;
  /** Whitespace chars just read (a run is capped, or a sampler may pad forever). */
  readonly ws: number;
  /** fork: the readings still possible, each a state of its own. */
  readonly alts?: readonly JsonState[];
  /** A string value with limits: what its text so far counts; a bounded number: its automaton state. */
  readonly chars?: StringChars;
}

interface StringChars {
  /** Code points so far. */
  readonly n: number;
  /** The pattern's automaton state. */
  readonly re: RegexState | null;
}

// The longest run of insignificant whitespace inside a document: room for a newline and the
// indentation of pretty-printed JSON. After the document, whitespace stays unlimited (EOS ends it).
const MAX_WS_RUN = 24;

function space(s: JsonState): JsonState | null {
  return s.ws < MAX_WS_RUN ? { ...s, ws: s.ws + 1 } : null;
}

const WS = new Set([' ', '\t', '\n', '\r']);
const DIGIT = /[0-9]/;

/** The start of generation: a value of `schema` (json_object: any object). */
export function jsonStart(schema: Schema = ANY_OBJECT): JsonState {
  return { mode: 'value', stack: null, schema, key: false, text: '', ws: 0 };
}

export const JSON_START: JsonState = jsonStart();

function st(mode: Mode, stack: Frame | null, schema: Schema = ANY, key = false, text = ''): JsonState {
  return { mode, stack, schema, key, text, ws: 0 };
}

type ObjectSchema = Extract<Schema, { kind: 'object' }>;
type ArraySchema = Extract<Schema, { kind: 'array' }>;
const ANY_ARRAY: ArraySchema = { kind: 'array', items: ANY, minItems: 0, maxItems: Infinity };
const objectOf = (f: Frame) => f.schema as ObjectSchema;
const arrayOf = (f: Frame) => f.schema as ArraySchema;

// Keys the open object may still take (null: any key). Frames never change, so the list is kept
// per frame: the trie walk asks for it at every node of a key.
const keysLeftOf = new WeakMap<Frame, string[] | null>();
function keysLeft(f: Frame): string[] | null {
  let left = keysLeftOf.get(f);
  if (left === undefined) {
    const o = objectOf(f);
    left = o.extra !== null ? null : [...o.props.keys()].filter((k) => !f.seen.has(k));
    keysLeftOf.set(f, left);
  }
  return left;
}

// Whether a key's text is read (to match names or pick its value's schema); not for an object
// whose keys are all alike (json_object, a dictionary).
function readsKeys(f: Frame): boolean {
  const o = objectOf(f);
  return o.extra === null || o.props.size > 0;
}

function requiredMet(f: Frame): boolean {
  return [...objectOf(f).required].every((k) => f.seen.has(k));
}

// At most this many readings are followed at once; any further ones are dropped (what is generated
// still fits the schema; only some of its documents are no longer reachable).
const MAX_READINGS = 16;

function fork(states: readonly (JsonState | null)[]): JsonState | null {
  const alts: JsonState[] = [];
  for (const s of states) {
    if (s === null) continue;
    if (s.mode === 'fork') alts.push(...s.alts!);
    else alts.push(s);
  }
  if (alts.length <= 1) return alts[0] ?? null;
  return { mode: 'fork', stack: null, schema: ANY, key: false, text: '', ws: 0, alts: alts.slice(0, MAX_READINGS) };
}

// A value is complete: the enclosing object records its key; what may follow depends on the container.
function valueDone(stack: Frame | null): JsonState {
  if (stack === null) return st('end', null);
  if (stack.kind === 'obj') {
    const seen = new Set(stack.seen).add(stack.key!);
    return st('after-value', { ...stack, seen, key: null });
  }
  return st('after-value', { ...stack, count: stack.count + 1 });
}

function open(kind: 'obj' | 'arr', schema: Schema, stack: Frame | null): JsonState {
  const frame: Frame = { kind, schema, up: stack, seen: new Set(), key: null, count: 0 };
  return st(kind === 'obj' ? 'first-key-or-close' : 'first-value-or-close', frame);
}

// The first char of a value of `schema`.
function startValue(c: string, ref: Schema, stack: Frame | null): JsonState | null {
  const schema = resolveRef(ref);
  if (schema.kind === 'anyOf') return fork(schema.options.map((o) => startValue(c, o, stack)));
  const any = schema.kind === 'any';
  if (c === '{' && (any || schema.kind === 'object')) return open('obj', any ? ANY_OBJECT : schema, stack);
  if (c === '[' && (any || schema.kind === 'array')) return open('arr', any ? ANY_ARRAY : schema, stack);
  if (c === '"' && (any || schema.kind === 'string')) {
    const limits = schema.kind === 'string' ? schema.limits : null;
    const s = st('string', stack, schema);
    return limits === null ? s : { ...s, chars: { n: 0, re: limits.pattern?.initial ?? null } };
  }
  if (schema.kind === 'number' && schema.pattern) {
    const re = schema.pattern.next(schema.pattern.initial, c);
    return re === null ? null : { ...st('bounded-number', stack, schema), chars: { n: 0, re } };
  }
  if (any || schema.kind === 'number') {
    if (c === '-') return st('minus', stack, schema);
    if (c === '0') return st('zero', stack, schema);
    if (DIGIT.test(c)) return st('int', stack, schema);
  }
  if (any || schema.kind === 'boolean') {
    if (c === 't') return st('literal', stack, schema, false, 'rue');
    if (c === 'f') return st('literal', stack, schema, false, 'alse');
  }
  if ((any || schema.kind === 'null') && c === 'n') return st('literal', stack, schema, false, 'ull');
  if (schema.kind === 'enum' && schema.texts.some((t) => t.startsWith(c))) return st('enum', stack, schema, false, c);
  return null;
}

const integerOnly = (s: JsonState) => s.schema.kind === 'number' && s.schema.integer;

// A number may end at any char that is not part of it: the char then goes to what follows.
function endNumber(c: string, s: JsonState): JsonState | null {
  return step(valueDone(s.stack), c);
}

/** The state after `c`, or null when `c` cannot come next. */
export function step(s: JsonState, c: string): JsonState | null {
  switch (s.mode) {
    case 'fork':
      return fork(s.alts!.map((alt) => step(alt, c)));
    case 'value':
      return WS.has(c) ? space(s) : startValue(c, s.schema, s.stack);
    case 'first-value-or-close': {
      if (WS.has(c)) return space(s);
      const a = arrayOf(s.stack!);
      if (c === ']') return a.minItems === 0 ? valueDone(s.stack!.up) : null;
      return a.maxItems > 0 ? startValue(c, a.items, s.stack) : null;
    }
    case 'first-key-or-close':
      if (WS.has(c)) return space(s);
      if (c === '}') return requiredMet(s.stack!) ? valueDone(s.stack!.up) : null;
      return c === '"' && keysLeft(s.stack!)?.length !== 0 ? st('string', s.stack, ANY, true) : null;
    case 'key':
      if (WS.has(c)) return space(s);
      return c === '"' ? st('string', s.stack, ANY, true) : null;
    case 'colon': {
      if (WS.has(c)) return space(s);
      if (c !== ':') return null;
      const o = objectOf(s.stack!);
      return st('value', s.stack, o.props.get(s.stack!.key!) ?? o.extra!);
    }
    case 'after-value': {
      if (WS.has(c)) return space(s);
      const top = s.stack!;
      if (top.kind === 'obj') {
        if (c === ',') return keysLeft(top)?.length !== 0 ? st('key', top) : null;
        return c === '}' && requiredMet(top) ? valueDone(top.up) : null;
      }
      const a = arrayOf(top);
      if (c === ',') return top.count < a.maxItems ? st('value', top, a.items) : null;
      return c === ']' && top.count >= a.minItems ? valueDone(top.up) : null;
    }
    case 'end':
      return WS.has(c) ? s : null;  // unlimited: end-of-sequence is allowed all along
    case 'string':
      return s.key ? keyChar(s, c) : stringChar(s, c);
    case 'escape': {
      const limits = limitsOf(s);
      if (c === 'u') return limits === null ? st('hex', s.stack, s.schema, s.key, '4') : null;
      const decoded = ESCAPED[c];
      if (decoded === undefined) return null;
      return limits === null ? st('string', s.stack, s.schema, s.key) : counted(s, limits, decoded);
    }
    case 'hex': {
      if (!/[0-9a-fA-F]/.test(c)) return null;
      const due = Number(s.text) - 1;
      return due === 0 ? st('string', s.stack, s.schema, s.key) : st('hex', s.stack, s.schema, s.key, String(due));
    }
    case 'literal':
      if (c !== s.text[0]) return null;
      return s.text.length === 1 ? valueDone(s.stack) : st('literal', s.stack, s.schema, false, s.text.slice(1));
    case 'enum': {
      const texts = (s.schema as Extract<Schema, { kind: 'enum' }>).texts;
      const next = s.text + c;
      if (texts.some((t) => t.startsWith(next))) return st('enum', s.stack, s.schema, false, next);
      return texts.includes(s.text) ? step(valueDone(s.stack), c) : null;
    }
    case 'bounded-number': {
      const pattern = (s.schema as Extract<Schema, { kind: 'number' }>).pattern!;
      const re = pattern.next(s.chars!.re!, c);
      if (re !== null) return { ...s, chars: { ...s.chars!, re } };
      return pattern.accepts(s.chars!.re!) ? step(valueDone(s.stack), c) : null;
    }
    case 'minus':
      if (c === '0') return st('zero', s.stack, s.schema);
      return DIGIT.test(c) ? st('int', s.stack, s.schema) : null;
    case 'zero':
    case 'int':
      if (s.mode === 'int' && DIGIT.test(c)) return s;
      if (!integerOnly(s) && c === '.') return st('frac-start', s.stack, s.schema);
      if (!integerOnly(s) && (c === 'e' || c === 'E')) return st('exp-start', s.stack, s.schema);
      return endNumber(c, s);
    case 'frac-start':
      return DIGIT.test(c) ? st('frac', s.stack, s.schema) : null;
    case 'frac':
      if (DIGIT.test(c)) return s;
      if (c === 'e' || c === 'E') return st('exp-start', s.stack, s.schema);
      return endNumber(c, s);
    case 'exp-start':
      if (c === '+' || c === '-') return st('exp-sign', s.stack, s.schema);
      return DIGIT.test(c) ? st('exp', s.stack, s.schema) : null;
    case 'exp-sign':
      return DIGIT.test(c) ? st('exp', s.stack, s.schema) : null;
    case 'exp':
      return DIGIT.test(c) ? s : endNumber(c, s);
  }
}

// The char an escape stands for (\u escapes apart).
const ESCAPED: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

const limitsOf = (s: JsonState): StringLimits | null => (s.schema.kind === 'string' ? s.schema.limits : null);

function stringChar(s: JsonState, c: string): JsonState | null {
  const limits = limitsOf(s);
  if (c === '"') return limits === null || closes(s.chars!, limits) ? valueDone(s.stack) : null;
  if (c === '\\') {
    if (limits === null) return st('escape', s.stack, s.schema, s.key);
    // Only where some escaped char may follow (a pattern may take none).
    return Object.values(ESCAPED).some((d) => counted(s, limits, d) !== null) ? { ...s, mode: 'escape', ws: 0 } : null;
  }
  if (c.charCodeAt(0) < 0x20) return null;
  return limits === null ? s : counted(s, limits, c);
}

// A limited string takes one more (decoded) char: within the maximum, or on along the pattern, still
// within reach of a match under the maximum.
function counted(s: JsonState, limits: StringLimits, c: string): JsonState | null {
  const { n, re } = s.chars!;
  if (limits.pattern) {
    const next = limits.pattern.next(re!, c);
    if (next === null || n + 1 + limits.pattern.charsToMatch(next) > limits.maxLength) return null;
    return { ...s, mode: 'string', ws: 0, chars: { n: n + 1, re: next } };
  }
  return n < limits.maxLength ? { ...s, mode: 'string', ws: 0, chars: { n: n + 1, re: null } } : null;
}

function closes(chars: StringChars, limits: StringLimits): boolean {
  return chars.n >= limits.minLength && (limits.pattern === null || limits.pattern.accepts(chars.re!));
}

/** Whether some code point in [lo, hi] can come next (a multi-byte character begun: utf8-step.ts). */
export function takesSomeIn(s: JsonState, lo: number, hi: number): boolean {
  const inRange = (text: string, at: number) => {
    const cp = text.codePointAt(at);
    return cp !== undefined && cp >= lo && cp <= hi;
  };
  switch (s.mode) {
    case 'fork':
      return s.alts!.some((alt) => takesSomeIn(alt, lo, hi));
    case 'string': {
      if (hi < 0x20) return false;
      if (s.key) {
        const left = readsKeys(s.stack!) ? keysLeft(s.stack!) : null;
        return left === null || left.some((k) => k.startsWith(s.text) && inRange(k, s.text.length));
      }
      const limits = limitsOf(s);
      if (limits === null) return true;
      const room = limits.maxLength - s.chars!.n - 1;
      return limits.pattern ? limits.pattern.takesSomeIn(s.chars!.re!, lo, hi, room) : room >= 0;
    }
    case 'enum':
      return (s.schema as Extract<Schema, { kind: 'enum' }>).texts.some((t) => t.startsWith(s.text) && inRange(t, s.text.length));
    default:
      return false; // structure, numbers and literals are ASCII
  }
}

// A char of an object key. Where keys are all alike: any key (escapes allowed). Where other keys
// are allowed beside the properties: a key not given yet, written without escapes (its text picks
// the value's schema). Else: a prefix of a property not given yet.
function keyChar(s: JsonState, c: string): JsonState | null {
  const frame = s.stack!;
  if (!readsKeys(frame)) {
    if (c === '"') return st('colon', { ...frame, key: '' });
    return c === '\\' ? st('escape', frame, ANY, true) : c.charCodeAt(0) < 0x20 ? null : s;
  }
  const left = keysLeft(frame);
  if (c === '"') return (left === null ? !frame.seen.has(s.text) : left.includes(s.text)) ? st('colon', { ...frame, key: s.text }) : null;
  const next = s.text + c;
  if (left === null) return c === '\\' || c.charCodeAt(0) < 0x20 ? null : st('string', frame, ANY, true, next);
  return left.some((k) => k.startsWith(next)) ? st('string', frame, ANY, true, next) : null;
}

/** The state after `text`, or null when it is not a prefix of a valid document. */
export function feed(s: JsonState | null, text: string): JsonState | null {
  for (const c of text) {
    if (s === null) return null;
    s = step(s, c);
  }
  return s;
}

/** Whether the document is complete (only end-of-sequence may follow). */
export function isComplete(s: JsonState): boolean {
  return s.mode === 'fork' ? s.alts!.some(isComplete) : s.mode === 'end';
}

// Which plain-text tokens (no quote, backslash or control byte: token-trie.ts) `s` takes: any inside
// a string whose text is not read (a value, or a key of an object whose keys are all alike); in one
// with a maximum length, those that begin at most `chars` characters; in one with a pattern, those
// its automaton takes whole from `re` (`room`: chars left under a maximum length); none elsewhere. A
// fork: any when one of its readings takes any, else none (the walk decides).
export type PlainTokens = { chars: number } | { pattern: CompiledRegex; re: RegexState; room: number };
const ANY_PLAIN: PlainTokens = { chars: Infinity };
export const NO_PLAIN: PlainTokens = { chars: 0 };

export function plainTokens(s: JsonState): PlainTokens {
  if (s.mode === 'fork') return s.alts!.some((alt) => plainTokens(alt) === ANY_PLAIN) ? ANY_PLAIN : NO_PLAIN;
  if (s.mode !== 'string' || (s.key && readsKeys(s.stack!))) return NO_PLAIN;
  const limits = limitsOf(s);
  if (limits === null) return ANY_PLAIN;
  const { n, re } = s.chars!;
  if (limits.pattern !== null) return { pattern: limits.pattern, re: re!, room: limits.maxLength - n };
  return { chars: limits.maxLength - n };
}
