// The JSON Schema subset that JSON mode enforces while generating (response_format json_schema,
// forced tool calls): objects with `properties` (each key at most once, every `required` key before
// the object closes) and `additionalProperties` (absent or false with properties: no other keys, as
// OpenAI's strict mode; true or a schema: other keys of that schema, e.g. a dictionary), arrays of
// `items` with `minItems` / `maxItems`, strings with `minLength` / `maxLength` / `pattern` (a whole
// match, regex.ts; a maximum length kept along; such strings are generated without \u escapes) /
// `format` (date, time, date-time, uuid, email, ipv4, uri: json-formats.ts), numbers with `minimum`
// / `maximum` / `exclusiveMinimum` / `exclusiveMaximum` (json-numbers.ts), the JSON types (one or a
// list), `enum` / `const` of any JSON
// values, `anyOf` (and `oneOf` of a discriminated union), and `$ref` into the same document
// (`$defs`, `definitions`; recursion allowed where an object or array comes between). What the
// subset cannot enforce (multipleOf, other formats, other oneOfs, ...) is refused rather than
// silently ignored.
import { HsError } from '../errors';
import { FORMAT_PATTERNS } from './json-formats';
import { boundedNumberPattern } from './json-numbers';
import { compileRegex, type CompiledRegex } from './regex';

export type Schema =
  | { kind: 'any' }
  /** `extra`: the schema of keys not in `props` (null: no other keys). */
  | { kind: 'object'; props: ReadonlyMap<string, Schema>; required: ReadonlySet<string>; extra: Schema | null }
  | { kind: 'array'; items: Schema; minItems: number; maxItems: number }
  /** limits null: any string. */
  | { kind: 'string'; limits: StringLimits | null }
  /** pattern: the bounded numbers' (json-numbers.ts), null when unbounded. */
  | { kind: 'number'; integer: boolean; pattern: CompiledRegex | null }
  | { kind: 'boolean' }
  | { kind: 'null' }
  /** The JSON texts of the allowed values (compact, as JSON.stringify writes them). */
  | { kind: 'enum'; texts: readonly string[] }
  | { kind: 'anyOf'; options: readonly Schema[] }
  /** A `$ref`, its target filled in once parsed (so that a schema may refer to itself). */
  | RefSchema;

/** Lengths count code points, as JSON Schema does; a pattern (then without lengths) must match the whole string. */
export interface StringLimits {
  minLength: number;
  maxLength: number;
  pattern: CompiledRegex | null;
}

export interface RefSchema {
  kind: 'ref';
  ref: string;
  target: Schema | null;
}

export const ANY: Schema = { kind: 'any' };
export const ANY_OBJECT: Schema = { kind: 'object', props: new Map(), required: new Set(), extra: ANY };

// Annotations that do not constrain the value.
const IGNORED = new Set(['title', 'description', 'default', 'examples', '$schema', '$id', '$comment', 'strict', '$defs', 'definitions', 'deprecated', 'readOnly', 'writeOnly',
  'discriminator']);
const SUPPORTED = ['type', 'properties', 'required', 'additionalProperties', 'items', 'minItems', 'maxItems', 'minLength', 'maxLength', 'pattern', 'format',
  'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum',
  'enum', 'const', 'anyOf', 'oneOf', 'allOf', '$ref'];
const TYPES = ['object', 'array', 'string', 'number', 'integer', 'boolean', 'null'];

function fail(path: string, message: string): never {
  throw new HsError('ERR_INVALID_ARGUMENT', `json_schema at ${path}: ${message}`);
}

// A count keyword (minItems, maxLength, ...): a non-negative integer, or `fallback` when absent.
function count(s: Record<string, unknown>, key: string, fallback: number, path: string): number {
  const v = s[key] ?? fallback;
  if (v !== Infinity && (!Number.isInteger(v) || (v as number) < 0)) fail(path, `${key} must be a non-negative integer`);
  return v as number;
}

/** A `$ref`'s target: a JSON pointer into the document ('#', '#/$defs/Name', ...). */
function pointer(root: unknown, ref: string, path: string): unknown {
  if (ref !== '#' && !ref.startsWith('#/')) fail(path, `$ref ${JSON.stringify(ref)}: only references into the same schema ('#/...') are supported`);
  let node = root;
  for (const part of ref === '#' ? [] : ref.slice(2).split('/')) {
    const name = decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, name)) fail(path, `$ref ${JSON.stringify(ref)} points nowhere`);
    node = (node as Record<string, unknown>)[name];
  }
  return node;
}

class Parser {
  private readonly refs = new Map<string, RefSchema>();

  constructor(private readonly root: unknown) {}

  parse(raw: unknown, path: string): Schema {
    if (raw === true) return ANY;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(path, 'a schema must be an object');
    const s = raw as Record<string, unknown>;
    for (const key of Object.keys(s))
      if (!IGNORED.has(key) && !SUPPORTED.includes(key)) fail(path, `'${key}' is not supported (${SUPPORTED.join(', ')} are)`);
    const constraints = Object.keys(s).filter((k) => SUPPORTED.includes(k));
    if (constraints.length === 0) return ANY;
    const alone = (key: string) => {
      if (constraints.length > 1) fail(path, `'${key}' with other constraints beside it is not supported`);
    };
    if (s.$ref !== undefined) {
      alone('$ref');
      if (typeof s.$ref !== 'string') fail(path, '$ref must be a string');
      return this.ref(s.$ref, path);
    }
    if (s.allOf !== undefined) {
      alone('allOf');
      if (!Array.isArray(s.allOf) || s.allOf.length !== 1) fail(path, 'allOf is supported with one schema only');
      return this.parse(s.allOf[0], `${path}.allOf[0]`);
    }
    for (const key of ['anyOf', 'oneOf'] as const) {
      if (s[key] === undefined) continue;
      alone(key);
      const list = s[key];
      if (!Array.isArray(list) || list.length === 0) fail(path, `${key} must be a non-empty array`);
      const options = list.map((o, i) => this.parse(o, `${path}.${key}[${i}]`));
      if (key === 'oneOf' && !tagged(options))
        fail(path, 'oneOf is supported for objects told apart by a required property of one constant value each (a discriminated union); else use anyOf');
      return { kind: 'anyOf', options };
    }
    if (s.const !== undefined) return { kind: 'enum', texts: [JSON.stringify(s.const)] };
    if (s.enum !== undefined) {
      if (!Array.isArray(s.enum) || s.enum.length === 0) fail(path, 'enum must be a non-empty array');
      return { kind: 'enum', texts: s.enum.map((v) => JSON.stringify(v)) };
    }
    const type = s.type ?? (s.properties !== undefined || s.additionalProperties !== undefined ? 'object' : s.items !== undefined ? 'array' : undefined);
    if (s.format !== undefined && !(type === 'string' || (Array.isArray(type) && type.includes('string'))))
      fail(path, 'format is supported on strings only');
    if (Array.isArray(type)) {
      if (type.length === 0) fail(path, 'type must not be an empty list');
      return { kind: 'anyOf', options: type.map((t) => this.typed(t, s, path)) };
    }
    return this.typed(type, s, path);
  }

  // A schema of one type; keywords of the other types are ignored, as JSON Schema does.
  private typed(type: unknown, s: Record<string, unknown>, path: string): Schema {
    switch (type) {
      case 'object': return this.object(s, path);
      case 'array': return this.array(s, path);
      case 'string': return this.string(s, path);
      case 'number':
      case 'integer': {
        const bounded = boundedNumberPattern(s, type === 'integer');
        if ('error' in bounded) return fail(path, bounded.error);
        return { kind: 'number', integer: type === 'integer', pattern: bounded.pattern === null ? null : compileRegex(bounded.pattern, `json_schema at ${path}: bounds`) };
      }
      case 'boolean': return { kind: 'boolean' };
      case 'null': return { kind: 'null' };
      default: return fail(path, `type ${JSON.stringify(type)} is not supported (${TYPES.join(', ')} are, or a list of them)`);
    }
  }

  private object(s: Record<string, unknown>, path: string): Schema {
    const props = new Map<string, Schema>();
    const rawProps = (s.properties ?? {}) as Record<string, unknown>;
    if (typeof rawProps !== 'object' || Array.isArray(rawProps)) fail(path, 'properties must be an object');
    for (const [name, sub] of Object.entries(rawProps)) {
      if (/["\\\u0000-\u001f]/.test(name)) fail(path, `property name ${JSON.stringify(name)} needs escapes, which are not generated`);
      props.set(name, this.parse(sub, `${path}.${name}`));
    }
    const required = s.required ?? [];
    if (!Array.isArray(required) || !required.every((r) => typeof r === 'string' && props.has(r)))
      fail(path, 'required must list names of properties');
    // Without additionalProperties, an object with properties takes only those (valid under both
    // OpenAI's strict reading and JSON Schema's), and one without takes any keys.
    const more = s.additionalProperties ?? (s.properties === undefined ? true : false);
    const extra = more === false ? null : more === true ? ANY : this.parse(more, `${path}.additionalProperties`);
    return { kind: 'object', props, required: new Set(required as string[]), extra };
  }

  private array(s: Record<string, unknown>, path: string): Schema {
    const minItems = count(s, 'minItems', 0, path);
    const maxItems = count(s, 'maxItems', Infinity, path);
    if (minItems > maxItems) fail(path, 'minItems is larger than maxItems');
    const items = s.items === undefined ? ANY : this.parse(s.items, `${path}[]`);
    return { kind: 'array', items, minItems, maxItems };
  }

  private string(s: Record<string, unknown>, path: string): Schema {
    const minLength = count(s, 'minLength', 0, path);
    const maxLength = count(s, 'maxLength', Infinity, path);
    if (minLength > maxLength) fail(path, 'minLength is larger than maxLength');
    if (s.pattern !== undefined && typeof s.pattern !== 'string') fail(path, 'pattern must be a string');
    if (s.format !== undefined && !Object.hasOwn(FORMAT_PATTERNS, s.format as string))
      fail(path, `format ${JSON.stringify(s.format)} is not supported (${Object.keys(FORMAT_PATTERNS).join(', ')} are)`);
    if (s.format !== undefined && s.pattern !== undefined) fail(path, 'format with a pattern is not supported');
    const source = s.format !== undefined ? FORMAT_PATTERNS[s.format as string] : (s.pattern as string | undefined);
    const pattern = source === undefined ? null : compileRegex(source, `json_schema at ${path}: pattern`);
    if (pattern) {
      // A maximum is kept while generating (json-checker.ts counted()); a minimum only where every
      // match meets it anyway.
      const shortest = pattern.charsToMatch(pattern.initial);
      if (shortest > maxLength) fail(path, `no match of the pattern has at most ${maxLength} chars`);
      if (minLength > shortest) fail(path, 'minLength beyond the pattern\'s shortest match is not supported (the pattern can bound the length)');
    }
    return { kind: 'string', limits: minLength === 0 && maxLength === Infinity && pattern === null ? null : { minLength, maxLength, pattern } };
  }

  private ref(ref: string, path: string): Schema {
    let holder = this.refs.get(ref);
    if (!holder) {
      holder = { kind: 'ref', ref, target: null };
      this.refs.set(ref, holder);
      holder.target = this.parse(pointer(this.root, ref, path), ref);
    }
    return holder;
  }

  /** Refuses a reference that reaches itself before any object or array opens (no value ends it). */
  checkRecursion(): void {
    const leads = (s: Schema, seen: Set<RefSchema>): RefSchema | null => {
      if (s.kind === 'anyOf') {
        for (const o of s.options) {
          const r = leads(o, seen);
          if (r) return r;
        }
      }
      if (s.kind !== 'ref') return null;
      if (seen.has(s)) return s;
      return leads(s.target!, new Set(seen).add(s));
    };
    for (const ref of this.refs.values()) {
      const loop = leads(ref, new Set());
      if (loop) fail(loop.ref, 'refers to itself before any object or array opens');
    }
  }
}

export function parseSchema(raw: unknown): Schema {
  const parser = new Parser(raw);
  const schema = parser.parse(raw, '$');
  parser.checkRecursion();
  return schema;
}

// Whether no value fits two of the options: objects that all require one property, each with a
// constant value of its own (Pydantic's discriminated unions), so oneOf reads as anyOf.
function tagged(options: readonly Schema[]): boolean {
  // A reference still being parsed (recursion) has no target yet: not told apart.
  const follow = (s: Schema | null): Schema | null => {
    while (s !== null && s.kind === 'ref') s = s.target;
    return s;
  };
  const objects = options.map(follow);
  if (!objects.every((o) => o?.kind === 'object')) return false;
  const first = objects[0] as Extract<Schema, { kind: 'object' }>;
  return [...first.required].some((name) => {
    const tags = objects.map((o) => {
      const prop = (o as Extract<Schema, { kind: 'object' }>).props.get(name);
      const value = prop && (o as Extract<Schema, { kind: 'object' }>).required.has(name) ? follow(prop) : null;
      return value?.kind === 'enum' && value.texts.length === 1 ? value.texts[0] : null;
    });
    return tags.every((t) => t !== null) && new Set(tags).size === tags.length;
  });
}

/** A schema with its references followed. */
export function resolveRef(s: Schema): Exclude<Schema, RefSchema> {
  while (s.kind === 'ref') s = s.target!;
  return s;
}
