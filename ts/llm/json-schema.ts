// The JSON Schema subset that JSON mode enforces while generating (response_format json_schema):
// objects with `properties` (each key at most once, every `required` key before the object
// closes, no other keys: OpenAI's strict mode), arrays of `items`, string, number, integer,
// boolean and null types, and `enum` / `const` of any JSON values. What the subset cannot enforce
// ($ref, anyOf, patterns, lengths, ...) is refused rather than silently ignored.
import { HsError } from '../errors';

export type Schema =
  | { kind: 'any' }
  /** props null: any keys, any values (json_object). */
  | { kind: 'object'; props: ReadonlyMap<string, Schema> | null; required: ReadonlySet<string> }
  | { kind: 'array'; items: Schema }
  | { kind: 'string' }
  | { kind: 'number'; integer: boolean }
  | { kind: 'boolean' }
  | { kind: 'null' }
  /** The JSON texts of the allowed values (compact, as JSON.stringify writes them). */
  | { kind: 'enum'; texts: readonly string[] };

export const ANY: Schema = { kind: 'any' };
export const ANY_OBJECT: Schema = { kind: 'object', props: null, required: new Set() };

// Annotations that do not constrain the value.
const IGNORED = new Set(['title', 'description', 'default', 'examples', '$schema', '$id', 'strict', 'additionalProperties']);

function fail(path: string, message: string): never {
  throw new HsError('ERR_INVALID_ARGUMENT', `json_schema at ${path}: ${message}`);
}

export function parseSchema(raw: unknown, path = '$'): Schema {
  if (raw === true || (typeof raw === 'object' && raw !== null && Object.keys(raw).length === 0)) return ANY;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(path, 'a schema must be an object');
  const s = raw as Record<string, unknown>;
  for (const key of Object.keys(s))
    if (!IGNORED.has(key) && !['type', 'properties', 'required', 'items', 'enum', 'const'].includes(key))
      fail(path, `'${key}' is not supported (type, properties, required, items, enum and const are)`);
  if (s.additionalProperties !== undefined && s.additionalProperties !== false)
    fail(path, 'additionalProperties must be false or absent (only the listed properties are generated)');
  if (s.const !== undefined) return { kind: 'enum', texts: [JSON.stringify(s.const)] };
  if (s.enum !== undefined) {
    if (!Array.isArray(s.enum) || s.enum.length === 0) fail(path, 'enum must be a non-empty array');
    return { kind: 'enum', texts: s.enum.map((v) => JSON.stringify(v)) };
  }
  switch (s.type) {
    case 'object': {
      const props = new Map<string, Schema>();
      const rawProps = (s.properties ?? {}) as Record<string, unknown>;
      if (typeof rawProps !== 'object' || Array.isArray(rawProps)) fail(path, 'properties must be an object');
      for (const [name, sub] of Object.entries(rawProps)) {
        if (/["\\\u0000-\u001f]/.test(name)) fail(path, `property name ${JSON.stringify(name)} needs escapes, which are not generated`);
        props.set(name, parseSchema(sub, `${path}.${name}`));
      }
      const required = s.required ?? [];
      if (!Array.isArray(required) || !required.every((r) => typeof r === 'string' && props.has(r)))
        fail(path, 'required must list names of properties');
      return { kind: 'object', props, required: new Set(required as string[]) };
    }
    case 'array':
      return { kind: 'array', items: s.items === undefined ? ANY : parseSchema(s.items, `${path}[]`) };
    case 'string': return { kind: 'string' };
    case 'number': return { kind: 'number', integer: false };
    case 'integer': return { kind: 'number', integer: true };
    case 'boolean': return { kind: 'boolean' };
    case 'null': return { kind: 'null' };
    default: return fail(path, `type ${JSON.stringify(s.type)} is not supported (a single type name is)`);
  }
}
