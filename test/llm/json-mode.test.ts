// JSON mode (response_format json_object / json_schema): the incremental checker of
// ts/llm/json-checker.ts judged by JSON.parse and by ajv (with ajv-formats)
// (every prefix of a valid document accepted, complete exactly at its end; invalid documents
// rejected; random walks through the checker end in documents ajv validates), the token trie
// against a plain scan of the vocabulary, and the engine: a random tiny model's sampled outputs,
// constrained, must parse (and validate).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';

import { feed, isComplete, JSON_START, jsonStart, type JsonState, step } from '../../lib/llm/json-checker';
import { feedJsonBytes, jsonMask } from '../../lib/llm/json-constraint';
import { whole } from '../../lib/llm/utf8-step';
import { TokenTrie } from '../../lib/llm/token-trie';
import { parseSchema } from '../../lib/llm/json-schema';
import { IncrementalDetokenizer, LlmTokenizer } from '../../lib/llm/tokenizer';
import { TINY_VOCAB, writeTinyModel } from '../fixtures/hf-model';
import { llm } from './helpers';

const VALID = [
  '{}', ' { } ', '{"a":1}', '{"a": [1, -2.5e+3, 0, 0.25, true, false, null], "b": {"c": "x\\"y\\\\z\\u00e9\\n"}}',
  '{"": []}', '{\n\t"k" : { "deep" : [ [ [ ] ] , { } ] }\r\n}', '{"n": -0.0E-0}', '{"s": "naïve ✓"}',
];
const INVALID = ['[1]', '"x"', '1', '{a:1}', '{"a":01}', '{"a":1,}', '{"a" 1}', '{"a":tru}', '{"a":"\\x"}', '{"a":[1 2]}', '{"a":.5}',
  '{"a":1}}', '{"a":1} x', '{"a":"\u0001"}', '{"a":1.}', '{"a":-}', '{"a":1e}', '{"a":"\\u12g4"}'];

// The ids a trie's mask lets through from state `s`, each with its logit unchanged.
function maskedIds(trie: TokenTrie, s: JsonState, vocab: number): number[] {
  const row = Float32Array.from({ length: vocab }, () => Math.random() * 20 - 10);
  const out = jsonMask(trie, s, row);
  const ids = [...out.keys()].filter((id) => out[id] !== -Infinity);
  for (const id of ids) expect(out[id]).toBe(row[id]);
  return ids;
}

describe('JSON checker', () => {
  it('accepts every prefix of valid objects and completes exactly at their end', () => {
    for (const doc of VALID) {
      expect(JSON.parse(doc)).toBeTypeOf('object');
      const chars = [...doc];
      for (let i = 0; i <= chars.length; i++) {
        const s = feed(JSON_START, chars.slice(0, i).join(''));
        expect(s, `${JSON.stringify(doc)} prefix ${i}`).not.toBeNull();
        // Complete once the object is closed (trailing whitespace keeps it complete).
        const prefix = chars.slice(0, i).join('');
        let parses = true;
        try {
          parses = typeof JSON.parse(prefix) === 'object' && prefix.trim().startsWith('{');
        } catch {
          parses = false;
        }
        expect(isComplete(s!), `${JSON.stringify(prefix)}`).toBe(parses);
      }
    }
  });

  it('rejects what JSON.parse rejects, and non-object documents', () => {
    for (const doc of INVALID) {
      const s = feed(JSON_START, doc);
      expect(s === null || !isComplete(s), JSON.stringify(doc)).toBe(true);
    }
  });

  it('masks through the trie exactly the tokens a scan of the vocabulary allows', () => {
    const texts = ['{', '}', '"', '"a"', ':', ' ', '1', '12', '1.', '.5', ',', '[', ']', 'true', 'tr', 'x', '"}', '}}', null, '', '\\n', 'é', '{"'];
    const trie = new TokenTrie(texts);
    for (const prefix of ['', '{', '{"a', '{"a":', '{"a":1', '{"a":[', '{"a":[1', '{"a":"\\', '{"a":t', '{"a":1}']) {
      const s = feed(JSON_START, prefix)!;
      const scan = texts.flatMap((t, id) => (t && feed(s, t) !== null ? [id] : []));
      expect(maskedIds(trie, s, texts.length), JSON.stringify(prefix)).toEqual(scan);
    }
  });
});

describe('JSON mode in the engine', () => {
  it('constrains sampled outputs of a random model to JSON objects', async () => {
    const model = writeTinyModel({ arch: 'qwen2', seed: 12 });
    const engine = await llm.startLlmEngine(model.dir, { numBlocks: 256, blockSize: 4, threads: 2 });
    try {
      const outputs = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map((seed) =>
        engine.complete('Reply in JSON:', { temperature: 1, seed, maxTokens: 300, responseFormat: 'json_object' })));
      const finished = outputs.filter((o) => o.finishReason === 'stop');
      console.log(`json mode: ${finished.length} of ${outputs.length} outputs closed their object within 300 tokens`);
      expect(finished.length).toBeGreaterThan(0);
      for (const o of finished) expect(JSON.parse(o.text)).toBeTypeOf('object');
      for (const o of outputs) expect(feed(JSON_START, o.text), o.text).not.toBeNull();
      // Unconstrained, the same seeds do not give JSON.
      const free = await engine.complete('Reply in JSON:', { temperature: 1, seed: 1, maxTokens: 30 });
      expect(() => JSON.parse(free.text)).toThrow();
      expect(() => engine.generate('x', { responseFormat: 'json_schema' as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
      // minTokens holding EOS back past the object's end: whitespace fills in, the output stays valid.
      const held = await engine.complete('Reply in JSON:', { temperature: 1, seed: outputs.indexOf(finished[0]) + 1, maxTokens: 300, minTokens: 290, responseFormat: 'json_object' });
      expect(JSON.parse(held.text)).toBeTypeOf('object');
    } finally {
      engine.dispose();
    }
  });
});

// ajv (the JSON Schema validator fastify uses, with ajv-formats' full formats) judges the checker's
// schema mode next to JSON.parse.
type TestSchema = Record<string, unknown>;
const ajv = addFormats(new Ajv({ strict: false, allErrors: false }));
function validates(value: unknown, schema: TestSchema): boolean {
  return ajv.validate(schema, value) as boolean;
}

const PERSON: TestSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' }, age: { type: 'integer' }, score: { type: 'number' }, ok: { type: 'boolean' },
    tags: { type: 'array', items: { type: 'string' } }, kind: { enum: ['a', 'ab', 3, null, { x: [1] }] }, v: { const: 'v1' },
    extra: { type: 'object', properties: { n: { type: 'null' } } },
  },
  required: ['name', 'age'],
};

describe('JSON schema mode', () => {
  const start = () => jsonStart(parseSchema(PERSON));
  const VALID_DOCS = [
    '{"name": "Ann", "age": 41}', '{"age":-3,"name":"x\\"y","tags":["a","b"],"ok":false}',
    '{ "kind": "ab", "name": "", "age": 0, "score": -1.5e3, "v": "v1" }', '{"kind":{"x":[1]},"name":"n","age":7,"extra":{}}',
    '{"name":"n","kind":null,"age":1,"extra":{"n":null},"tags":[]}', '{"kind":3,"age":12,"name":"z"}',
  ];
  const INVALID_DOCS = [
    '{"name": "Ann"}', '{"age": 1}', '{"name": "a", "age": 1.5}', '{"name": 1, "age": 1}',
    '{"name": "a", "age": 1, "kind": "b"}', '{"name": "a", "age": 1, "kind": 34}', '{"name": "a", "age": 1, "tags": [1]}',
    '{"name": "a", "age": 1, "v": "v2"}', '[]', '{"name": "a", "age": 1, "extra": {"n": 0}}', '{"name": "a", "age": 1, "ok": null}',
  ];
  // Refused by the checker though ajv passes them: a duplicate key (parse keeps the last), an
  // integer written with an exponent (integers are generated as digits), a key the properties do
  // not list (without additionalProperties, generated objects hold only their properties).
  const REFUSED_TOO = ['{"name": "a", "age": 1, "name": "b"}', '{"name": "a", "age": 1e3}', '{"name": "a", "age": 1, "other": 2}'];

  it('accepts every prefix of valid documents and completes exactly at their end', () => {
    for (const doc of VALID_DOCS) {
      expect(validates(JSON.parse(doc), PERSON), doc).toBe(true);
      const chars = [...doc];
      for (let i = 0; i < chars.length; i++) {
        const s = feed(start(), chars.slice(0, i).join(''));
        expect(s, `${doc} prefix ${i}`).not.toBeNull();
        expect(isComplete(s!)).toBe(false);
      }
      expect(isComplete(feed(start(), doc)!), doc).toBe(true);
    }
  });

  it('rejects documents the validator rejects', () => {
    for (const doc of INVALID_DOCS) {
      let parsed: unknown = undefined;
      try { parsed = JSON.parse(doc); } catch { /* invalid JSON */ }
      if (parsed !== undefined) expect(validates(parsed, PERSON), doc).toBe(false);
      const s = feed(start(), doc);
      expect(s === null || !isComplete(s), doc).toBe(true);
    }
    for (const doc of REFUSED_TOO) expect(feed(start(), doc), doc).toBeNull();
  });

  it('refuses what the subset cannot enforce', () => {
    const loop = { $defs: { a: { anyOf: [{ $ref: '#/$defs/a' }, { type: 'null' }] } }, $ref: '#/$defs/a' };
    for (const bad of [{ anyOf: [] }, { oneOf: [{ type: 'null' }] }, { oneOf: [{ type: 'object', properties: { a: { const: 1 } } }, { type: 'object', properties: { a: { const: 2 } } }] }, { type: 'string', pattern: 'a(?=b)' }, { type: 'string', minLength: 3, maxLength: 2 },
      { type: 'string', format: 'hostname' }, { type: 'integer', format: 'int32' }, { type: 'string', format: 'date', pattern: 'x' },
      { type: 'string', pattern: 1 }, { type: 'string', pattern: '\\d{5}', maxLength: 3 }, { type: 'string', pattern: 'a+', minLength: 3 },
      { type: 'object', properties: { a: {} }, required: ['b'] }, { allOf: [{ type: 'null' }, { type: 'null' }] }, { type: [] },
      { $ref: 'https://example.com/s.json' }, { $ref: '#/$defs/missing' }, loop, { type: 'array', minItems: 3, maxItems: 2 }, { type: 'date' }])
      expect(() => parseSchema(bad), JSON.stringify(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});

// Schemas as Pydantic and OpenAI's strict mode write them: nullable fields (a list of types or
// anyOf with null), $defs and $ref (recursive too), unions of objects told apart by a const field,
// dictionaries (additionalProperties with a schema), bounded arrays.
const UNION_SCHEMAS: Record<string, { schema: TestSchema; valid: string[]; invalid: string[] }> = {
  nullable: {
    schema: { type: 'object', properties: { a: { type: ['string', 'null'] }, b: { anyOf: [{ type: 'integer' }, { type: 'array', items: { type: 'integer' }, maxItems: 2 }] } }, required: ['a'] },
    valid: ['{"a": null}', '{"a": "x", "b": 3}', '{"b": [], "a": ""}', '{"a": null, "b": [1, -2]}'],
    invalid: ['{"a": 1}', '{"b": 1}', '{"a": null, "b": [1, 2, 3]}', '{"a": null, "b": 1.5}', '{"a": null, "b": null}'],
  },
  pets: {
    schema: {
      $defs: { Pet: { title: 'Pet', type: 'object', properties: { kind: { enum: ['cat', 'dog'] }, name: { type: 'string' } }, required: ['kind'] } },
      type: 'object', title: 'Owner',
      properties: { owner: { type: 'string' }, pets: { type: 'array', items: { $ref: '#/$defs/Pet' }, minItems: 1 }, nick: { anyOf: [{ type: 'string' }, { type: 'null' }], default: null } },
      required: ['owner', 'pets'],
    },
    valid: ['{"owner": "o", "pets": [{"kind": "cat"}]}', '{"pets": [{"name": "Rex", "kind": "dog"}, {"kind": "cat"}], "owner": "o", "nick": null}', '{"owner":"o","pets":[{"kind":"dog"}],"nick":"n"}'],
    invalid: ['{"owner": "o", "pets": []}', '{"owner": "o", "pets": [{"kind": "cow"}]}', '{"owner": "o", "pets": [{"name": "x"}]}', '{"owner": "o", "pets": [{"kind": "cat"}], "nick": 1}'],
  },
  tree: {
    schema: { $defs: { node: { type: 'object', properties: { v: { type: 'integer' }, kids: { type: 'array', items: { $ref: '#/$defs/node' } } }, required: ['v'] } }, $ref: '#/$defs/node' },
    valid: ['{"v": 1}', '{"v": 1, "kids": [{"v": 2, "kids": [{"v": 3}]}, {"kids": [], "v": 4}]}'],
    invalid: ['{"v": 1, "kids": [{}]}', '{"v": 1, "kids": [{"v": 2, "kids": [{"v": "3"}]}]}', '{"kids": []}'],
  },
  tagged: {
    schema: {
      anyOf: [
        { type: 'object', properties: { type: { const: 'point' }, x: { type: 'integer' }, y: { type: 'integer' } }, required: ['type', 'x', 'y'], additionalProperties: false },
        { type: 'object', properties: { type: { const: 'label' }, x: { type: 'integer' }, text: { type: 'string' } }, required: ['type', 'text'], additionalProperties: false },
      ],
    },
    valid: ['{"type": "point", "x": 1, "y": 2}', '{"type": "label", "text": "t"}', '{"x": 5, "type": "label", "text": ""}', '{"x": 5, "y": 6, "type": "point"}'],
    invalid: ['{"type": "point", "x": 1}', '{"type": "label", "x": 1, "y": 2, "text": "t"}', '{"type": "point", "x": 1, "y": 2, "text": "t"}', '{"x": 1}'],
  },
  // Pydantic's discriminated union: oneOf of $refs told apart by a constant, required property.
  discriminated: {
    schema: {
      $defs: {
        Cat: { title: 'Cat', type: 'object', properties: { pet_type: { const: 'cat', title: 'Pet Type' }, meows: { type: 'integer', minimum: 0, maximum: 9 } }, required: ['pet_type', 'meows'] },
        Dog: { title: 'Dog', type: 'object', properties: { pet_type: { const: 'dog' }, barks: { type: 'number', minimum: 0, maximum: 1 } }, required: ['pet_type', 'barks'] },
      },
      type: 'object',
      properties: {
        pet: { oneOf: [{ $ref: '#/$defs/Cat' }, { $ref: '#/$defs/Dog' }], discriminator: { propertyName: 'pet_type', mapping: { cat: '#/$defs/Cat', dog: '#/$defs/Dog' } } },
        n: { type: 'integer' },
      },
      required: ['pet'],
    },
    valid: ['{"pet": {"pet_type": "cat", "meows": 3}}', '{"pet": {"barks": 0.5, "pet_type": "dog"}, "n": 1}'],
    invalid: ['{"pet": {"pet_type": "cat", "barks": 1}}', '{"pet": {"pet_type": "dog", "meows": 1}}', '{"pet": {"pet_type": "cow"}}', '{"pet": {"pet_type": "cat", "meows": 10}}'],
  },
  dictionary: {
    schema: { type: 'object', properties: { id: { type: 'integer' }, scores: { type: 'object', additionalProperties: { type: 'number' } } }, additionalProperties: { type: 'boolean' } },
    valid: ['{"id": 1}', '{"id": 1, "scores": {"a": 1.5, "b\\"c": -2}, "flag": true}', '{"other": false, "id": 0, "scores": {}}', '{}'],
    invalid: ['{"id": 1, "flag": 1}', '{"id": 1, "scores": {"a": "x"}}', '{"id": true}', '{"id": 1, "id": 2}', '{"scores": 1}'],
  },
  strings: {
    schema: {
      type: 'object',
      properties: { code: { type: 'string', pattern: '^[A-Z]{3}-\\d{2}$' }, name: { type: 'string', minLength: 2, maxLength: 5 }, note: { type: ['string', 'null'], maxLength: 3 },
        tag: { type: 'string', pattern: '^[a-z]+\\d$', maxLength: 4 } },
      required: ['code'],
    },
    valid: ['{"code": "ABC-12"}', '{"code":"XYZ-00","name":"ab","note":null,"tag":"abc1"}', '{"code": "ABC-12", "tag": "z9"}', '{"name": "a\\"b", "code": "QQQ-99", "note": "é!"}', '{"code": "ABC-12", "name": "\\n\\t\\\\x"}'],
    invalid: ['{"code": "AB-12"}', '{"code": "ABC-123"}', '{"code": "ABC-12", "tag": "abcd1"}', '{"code": "ABC-12", "tag": "abcd"}', '{"code": "ABC-12", "name": "a"}', '{"code": "ABC-12", "name": "abcdef"}', '{"code": "ABC-12", "note": "abcd"}',
      '{"code": "abc-12"}'],
  },
  formats: {
    schema: {
      type: 'object',
      properties: { d: { type: 'string', format: 'date' }, t: { type: 'string', format: 'time' }, at: { type: ['string', 'null'], format: 'date-time' },
        id: { type: 'string', format: 'uuid' }, mail: { type: 'string', format: 'email' }, ip: { type: 'string', format: 'ipv4' },
        url: { type: 'string', format: 'uri', minLength: 1, maxLength: 2083 } }, // Pydantic's HttpUrl
      required: ['d'],
    },
    valid: ['{"d": "2024-02-28"}', '{"d": "1999-12-31", "t": "23:59:59.5+01:00", "at": "2020-04-30T00:00:00Z"}', '{"d":"0001-01-01","at":null,"ip":"255.0.10.199"}',
      '{"d": "2024-11-30", "id": "0a1b2c3d-4e5f-6789-abcd-ef0123456789", "mail": "ann.lee-x@mail-1.example.org"}',
      '{"d": "2024-11-30", "url": "https://a-b.example.org:8080/x/y.html?q=1&r=two#top"}', '{"d": "2024-11-30", "url": "http://ab.cd"}'],
    invalid: ['{"d": "2024-02-30"}', '{"d": "2024-13-01"}', '{"d": "2024-04-31"}', '{"d": "2024-01-01", "t": "24:00:00Z"}', '{"d": "2024-01-01", "ip": "256.1.1.1"}',
      '{"d": "2024-01-01", "mail": "a@b"}', '{"d": "2024-01-01", "url": "example.com/x"}', '{"d": "2024-01-01", "id": "0a1b2c3d-4e5f-6789-abcd-ef012345678"}', '{"d": "2024-01-01", "at": "2020-04-30T00:00:00"}'],
  },
  numbers: {
    schema: {
      type: 'object',
      properties: { age: { type: 'integer', minimum: 0, maximum: 150 }, p: { type: 'number', minimum: 0, maximum: 1 }, t: { type: 'integer', exclusiveMinimum: -5, exclusiveMaximum: 5 },
        pos: { type: 'number', exclusiveMinimum: 0 }, big: { type: 'integer', minimum: 100 }, neg: { type: ['integer', 'null'], maximum: -3 } },
      required: ['age'],
    },
    valid: ['{"age": 0}', '{"age": 150, "p": 1.0, "t": -4}', '{"age": 37, "p": 0.25, "t": 4, "pos": 0.001, "big": 100000, "neg": -3}', '{"age": 9, "p": 1, "pos": 12.5, "big": 100, "neg": null}'],
    invalid: ['{"age": 151}', '{"age": -1}', '{"age": 1.5}', '{"age": 1, "p": 1.01}', '{"age": 1, "t": 5}', '{"age": 1, "t": -5}', '{"age": 1, "pos": 0}',
      '{"age": 1, "big": 99}', '{"age": 1, "neg": -2}', '{"age": 1, "pos": 0.0}'],
  },
  bounded: {
    schema: { type: 'object', properties: { xs: { type: 'array', items: { enum: [1, 2] }, minItems: 2, maxItems: 3 }, any: { type: 'array', maxItems: 0 } }, required: ['xs'] },
    valid: ['{"xs": [1, 2]}', '{"xs": [2, 2, 1], "any": []}'],
    invalid: ['{"xs": [1]}', '{"xs": []}', '{"xs": [1, 2, 1, 2]}', '{"xs": [1, 2], "any": [1]}'],
  },
};

// A seeded random walk through the checker: each step a char it allows (closing chars favoured),
// until the document is complete (or too long). What completes must be valid.
function randomWalk(start: JsonState, alphabet: string[], seed: number): string | null {
  let x = seed * 2654435761 >>> 0;
  const rand = () => ((x = (x * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  let s = start, text = '';
  while (text.length < 400) {
    if (isComplete(s)) return text;
    const next = alphabet.filter((c) => step(s, c) !== null);
    if (next.length === 0) throw new Error(`dead end after ${JSON.stringify(text)}`);
    const closing = next.filter((c) => '"}]'.includes(c));
    const c = closing.length > 0 && rand() < 0.25 ? closing[Math.floor(rand() * closing.length)] : next[Math.floor(rand() * next.length)];
    s = step(s, c)!;
    text += c;
  }
  return null;
}

describe('JSON schema mode: unions, references, dictionaries, bounded arrays', () => {
  for (const [name, { schema, valid, invalid }] of Object.entries(UNION_SCHEMAS)) {
    it(name, () => {
      const start = jsonStart(parseSchema(schema));
      for (const doc of valid) {
        expect(validates(JSON.parse(doc), schema), doc).toBe(true);
        const chars = [...doc];
        for (let i = 0; i < chars.length; i++) {
          const s = feed(start, chars.slice(0, i).join(''));
          expect(s, `${doc} prefix ${i}`).not.toBeNull();
          expect(isComplete(s!), `${doc} prefix ${i}`).toBe(false);
        }
        expect(isComplete(feed(start, doc)!), doc).toBe(true);
        // Byte by byte, as byte-level tokens come: alive all along, complete at the end.
        let u: ReturnType<typeof feedJsonBytes> = start;
        for (const b of new TextEncoder().encode(doc)) {
          u = feedJsonBytes(u, Uint8Array.of(b));
          expect(u, `${doc} bytes`).not.toBeNull();
        }
        expect(whole(u!) !== null && isComplete(whole(u!)!), doc).toBe(true);
      }
      for (const doc of invalid) {
        const parsed = JSON.parse(doc);
        // ajv cannot see a duplicate key (JSON.parse keeps the last one); the checker refuses it.
        if (!/"id": 1, "id"/.test(doc)) expect(validates(parsed, schema), doc).toBe(false);
        const s = feed(start, doc);
        expect(s === null || !isComplete(s), doc).toBe(true);
      }
      const alphabet = [...new Set([...valid.join(''), ...'{}[]",:-0123456789.eE tfalsnué'])];
      let complete = 0;
      for (let seed = 1; seed <= 300; seed++) {
        const doc = randomWalk(start, alphabet, seed);
        if (doc === null) continue;
        complete++;
        expect(validates(JSON.parse(doc), schema), doc).toBe(true);
      }
      expect(complete).toBeGreaterThan(100);
    });
  }

  it('generates exactly the integers within integer bounds, and bounded decimals by their value', () => {
    const texts = [...Array.from({ length: 801 }, (_, i) => String(i - 400)), '1000', '123456', '-99999'];
    let seed = 5;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const pick = () => (rand() < 0.25 ? undefined : Math.round(rand() * 600 - 300));
    for (let trial = 0; trial < 60; trial++) {
      const bounds = { minimum: pick(), maximum: pick(), exclusiveMinimum: pick(), exclusiveMaximum: pick() };
      const within = (x: number) => (bounds.minimum === undefined || x >= bounds.minimum) && (bounds.maximum === undefined || x <= bounds.maximum)
        && (bounds.exclusiveMinimum === undefined || x > bounds.exclusiveMinimum) && (bounds.exclusiveMaximum === undefined || x < bounds.exclusiveMaximum);
      let schema;
      try {
        schema = parseSchema({ type: 'integer', ...bounds });
      } catch {
        expect(texts.some((t) => within(Number(t))), JSON.stringify(bounds)).toBe(false); // refused only when empty
        continue;
      }
      const start = jsonStart({ kind: 'array', items: schema, minItems: 0, maxItems: Infinity });
      for (const t of texts) {
        const s = feed(start, `[${t}]`);
        expect(s !== null && isComplete(s), `${JSON.stringify(bounds)} ${t}`).toBe(within(Number(t)));
      }
    }
    const decimals = Array.from({ length: 14 }, (_, i) => ['', '.0', '.00', '.5', '.05', '.999'].map((f) => `${i}${f}`)).flat();
    for (const bounds of [{ minimum: 0, maximum: 1 }, { exclusiveMinimum: 2, maximum: 7 }, { minimum: 3, exclusiveMaximum: 10 }, { exclusiveMinimum: 0 }, { minimum: 4, maximum: 4 }]) {
      const start = jsonStart({ kind: 'array', items: parseSchema({ type: 'number', ...bounds }), minItems: 0, maxItems: Infinity });
      const b = bounds as { minimum?: number; maximum?: number; exclusiveMinimum?: number; exclusiveMaximum?: number };
      for (const t of decimals) {
        const x = Number(t);
        const within = (b.minimum === undefined || x >= b.minimum) && (b.maximum === undefined || x <= b.maximum)
          && (b.exclusiveMinimum === undefined || x > b.exclusiveMinimum) && (b.exclusiveMaximum === undefined || x < b.exclusiveMaximum);
        const s = feed(start, `[${t}]`);
        expect(s !== null && isComplete(s), `${JSON.stringify(bounds)} ${t}`).toBe(within);
      }
    }
    for (const bad of [{ type: 'number', minimum: -1 }, { type: 'number', maximum: 3 }, { type: 'number', minimum: 0.5 }, { type: 'integer', minimum: 5, maximum: 4 },
      { type: 'integer', minimum: 1e300 }, { type: 'integer', exclusiveMinimum: true, minimum: 1 }, { type: 'number', multipleOf: 2 }])
      expect(() => parseSchema(bad), JSON.stringify(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });

  it('generates limited strings without \\u escapes (their chars are counted and matched decoded)', () => {
    const start = jsonStart(parseSchema(UNION_SCHEMAS.strings.schema));
    const doc = '{"code": "ABC-12", "name": "\\u0041b"}';
    expect(validates(JSON.parse(doc), UNION_SCHEMAS.strings.schema)).toBe(true);
    expect(feed(start, doc)).toBeNull();
  });

  // Byte-level BPE pieces: a token may hold part of a character, which the next one finishes.
  it('reads tokens byte by byte: a character begun only where it can be finished, counted once whole', () => {
    const bytes = (...parts: (string | number[])[]) => parts.map((p) => (typeof p === 'string' ? new TextEncoder().encode(p) : Uint8Array.from(p)));
    const run = (schema: object, ...tokens: Uint8Array[]) => tokens.reduce<ReturnType<typeof feedJsonBytes>>((u, t) => feedJsonBytes(u, t), jsonStart(parseSchema(schema)));
    const strings = UNION_SCHEMAS.strings.schema;
    // 'é' = C3 A9 in pieces; name takes 2 to 5 characters.
    const e = [[0xc3], [0xa9]] as const;
    const done = (u: ReturnType<typeof run>) => u !== null && whole(u) !== null && isComplete(whole(u)!);
    expect(done(run(strings, ...bytes('{"code": "ABC-12", "name": "', [...e[0]], [...e[1], 0xc3], [...e[1]], '"}')))).toBe(true);
    expect(run(strings, ...bytes('{"code": "ABC-12", "name": "', [0xc3], '"}'))).toBeNull(); // a begun character must be finished
    expect(run(strings, ...bytes('{"code": "ABC-12", "name": "ééééé', [0xc3]))).toBeNull(); // a sixth character cannot begin
    expect(run(strings, ...bytes('{"code": "ABC-12", "name": "é"}'))).toBeNull(); // one character: under the minimum
    expect(run(strings, ...bytes('{"code": "AB', [0xc3]))).toBeNull(); // [A-Z] takes no 'é'
    expect(done(run(strings, ...bytes('{"code": "ABC-12", "note": "', [0xf0, 0x9f], [0x91, 0x8d], '"}')))).toBe(true); // 👍 in two pieces
    // Names and enum values with characters in pieces.
    const named = { type: 'object', properties: { 'café': { enum: ['thé', 'crème'] } }, required: ['café'] };
    expect(done(run(named, ...bytes('{"caf', [0xc3], [0xa9, 0x22, 0x3a], ' "th', [0xc3, 0xa9], '"}')))).toBe(true);
    expect(run(named, ...bytes('{"caf', [0xc3, 0xa8]))).toBeNull(); // 'è'
    expect(run(named, ...bytes('{"caf', [0xc3, 0x41]))).toBeNull(); // malformed UTF-8
    expect(run(named, ...bytes('{"café": "cr', [0xc3]))).not.toBeNull();
    expect(run(named, ...bytes('{"café": "th', [0xc3, 0xa8]))).toBeNull();
    expect(run(named, ...bytes('{', [0xc3]))).toBeNull(); // no character but a quote or space goes here
  });

  it('masks random byte tokens as feeding them byte by byte does', () => {
    let seed = 11;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    // Bytes around the UTF-8 edges: ASCII, continuation bytes, leads (overlong, surrogate and past-U+10FFFF ranges too).
    const pool = [0x41, 0x7a, 0x20, 0x22, 0x5c, 0x0a, 0x80, 0x9f, 0xa0, 0xbf, 0xc2, 0xc3, 0xdf, 0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xc0];
    const tokens = Array.from({ length: 3000 }, () => Uint8Array.from({ length: 1 + Math.floor(rand() * 4) }, () => pool[Math.floor(rand() * pool.length)]));
    const trie = new TokenTrie(tokens);
    const schema = parseSchema({ type: 'object', properties: { a: { type: 'string' }, b: { type: 'string', maxLength: 3 }, c: { type: 'string', pattern: '^[a-zé]+$' } } });
    for (const prefix of ['{"a": "', '{"a": "x', '{"b": "', '{"b": "xy', '{"c": "', '{']) {
      const s = feed(jsonStart(schema), prefix)!;
      const row = Float32Array.from(tokens, () => Math.random());
      const out = jsonMask(trie, s, row);
      const masked = [...out.keys()].filter((id) => out[id] !== -Infinity);
      const scan = tokens.flatMap((t, id) => (feedJsonBytes(s, t) !== null ? [id] : []));
      expect(masked, prefix).toEqual(scan);
    }
  });

  it('walks forks through the trie exactly as a scan of the vocabulary does', () => {
    const texts = ['{', '}', '"', '"type"', ':', ' ', '"point"', '"p', 'oint"', '"label', '"x"', '1', ',', 'null', '"', 'text', '"text":', null];
    const trie = new TokenTrie(texts);
    const start = jsonStart(parseSchema(UNION_SCHEMAS.tagged.schema));
    for (const prefix of ['', '{', '{"', '{"x": 1', '{"x": 1,', '{"x": 1, "type": ', '{"x": 1, "type": "label", ', '{"x": 1, "type": "point"']) {
      const s = feed(start, prefix)!;
      expect(s, prefix).not.toBeNull();
      const scan = texts.flatMap((t, id) => (t && feed(s, t) !== null ? [id] : []));
      expect(maskedIds(trie, s, texts.length), JSON.stringify(prefix)).toEqual(scan);
    }
    // Limited strings: plain tokens only as long as there is room; a pattern reads every char.
    const limited = jsonStart(parseSchema(UNION_SCHEMAS.strings.schema));
    const words = ['ab', 'abcd', 'abcdef', '"', 'b"', '\\n', '"ABC', 'AB', 'C-1', '2"', '"}', 'é', null, 'xé', 'éé', 'aéé', 'c1', 'c', '1"', 'abc1'];
    const wordTrie = new TokenTrie(words);
    for (const prefix of ['{"name": "', '{"name": "a', '{"name": "abcd', '{"name": "abcde', '{"name": "éé', '{"name": "éa',
      '{"code": "', '{"code": "AB', '{"code": "ABC-1', '{"note": "é', '{"note": ', '{"tag": "', '{"tag": "ab', '{"tag": "abc']) {
      const s = feed(limited, prefix)!;
      expect(s, prefix).not.toBeNull();
      const scan = words.flatMap((t, id) => (t && feed(s, t) !== null ? [id] : []));
      expect(maskedIds(wordTrie, s, words.length), JSON.stringify(prefix)).toEqual(scan);
    }
    // A key read against names in one reading, free in the other (a dictionary).
    const mixed = jsonStart(parseSchema({ anyOf: [{ type: 'object', properties: { type: { type: 'null' } } }, { type: 'object', additionalProperties: { type: 'null' } }] }));
    for (const prefix of ['{"', '{"t', '{"x', '{"type": null, "']) {
      const s = feed(mixed, prefix)!;
      const scan = texts.flatMap((t, id) => (t && feed(s, t) !== null ? [id] : []));
      expect(maskedIds(trie, s, texts.length), JSON.stringify(prefix)).toEqual(scan);
    }
  });

  // A random model runs on inside free strings, numbers and arrays, so the schema it writes here is
  // all names, enums and booleans: every output must close and validate. It also favours whitespace,
  // up to the run limit in every gap, hence the room.
  it('constrains a random model to the schema', async () => {
    const VERDICT: TestSchema = {
      type: 'object',
      properties: { answer: { enum: ['yes', 'no', 'maybe so'] }, sure: { type: 'boolean' }, level: { enum: [1, 12, 3.5, null] }, note: { const: 'ok' } },
      required: ['answer', 'sure'],
    };
    const model = writeTinyModel({ arch: 'qwen2', seed: 12, maxPositions: 4096 });
    const engine = await llm.startLlmEngine(model.dir, { numBlocks: 1024, blockSize: 4, threads: 2 });
    try {
      const outputs = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map((seed) =>
        engine.complete('Verdict:', { temperature: 1, seed, maxTokens: 2000, responseFormat: { jsonSchema: VERDICT } })));
      for (const o of outputs) {
        expect(o.finishReason, o.text).toBe('stop');
        expect(validates(JSON.parse(o.text), VERDICT), o.text).toBe(true);
      }
      // A union of objects told apart by a const field, a $ref, nullable items, a bounded array,
      // a patterned string and a bounded one.
      const BALLOT: TestSchema = {
        $defs: { Level: { enum: [1, 2, null] } },
        anyOf: [
          { type: 'object', properties: { kind: { const: 'vote' }, answer: { enum: ['yes', 'no'] }, level: { $ref: '#/$defs/Level' },
            code: { type: 'string', pattern: '^[a-c]{2}\\d$' }, tag: { type: 'string', minLength: 1, maxLength: 3 } }, required: ['kind', 'answer', 'code', 'tag'], additionalProperties: false },
          { type: 'object', properties: { kind: { const: 'skip' }, flags: { type: 'array', items: { type: ['boolean', 'null'] }, maxItems: 3 } }, required: ['kind'], additionalProperties: false },
        ],
      };
      const ballots = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map((seed) =>
        engine.complete('Ballot:', { temperature: 1, seed, maxTokens: 2000, responseFormat: { jsonSchema: BALLOT } })));
      for (const o of ballots) {
        expect(o.finishReason, o.text).toBe('stop');
        expect(validates(JSON.parse(o.text), BALLOT), o.text).toBe(true);
      }
      console.log(`json schema, union: ${ballots.map((o) => JSON.stringify(JSON.parse(o.text))).join(' ')}`);
    } finally {
      engine.dispose();
    }
  });
});

describe('byte-level tokenizers', () => {
  // GPT-2 style byte-level BPE (the tiny models', Qwen2's, Llama 3's): a token may hold part of a
  // character. Its bytes come from the vocabulary, so a text's tokens add up to its UTF-8.
  it('give each token its bytes, pieces of characters included', async () => {
    const model = writeTinyModel({ arch: 'qwen2', seed: 12 });
    const tokenizer = await LlmTokenizer.load(model.dir, []);
    const bytes = tokenizer.continuationBytes(TINY_VOCAB);
    for (const text of ['café ✓ naïve', 'emoji 👍🏽 and 漢字', '{"k": "ü"}']) {
      const ids = tokenizer.encode(text, false);
      expect(ids.some((id) => tokenizer.decode([id]).includes('\uFFFD')), text).toBe(true); // some pieces
      expect(Buffer.concat(ids.map((id) => bytes[id]!)).toString('utf8')).toBe(text);
    }
    rmSync(model.dir, { recursive: true, force: true });
  });
});

describe('sentencepiece tokenizers', () => {
  // A sentencepiece-style tokenizer ('▁' stands for a space, as in Llama 2 and Mistral): a token
  // decoded alone loses its leading space, which JSON mode must still see inside keys and strings.
  it('keep the leading space of their tokens, in JSON mode and in streamed text', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hs-metaspace-'));
    const vocab: Record<string, number> = { '▁': 0, a: 1, '▁a': 2, '{': 3, '▁{': 4, '"': 5, k: 6, '▁k': 7, '<s>': 8 };
    const metaspace = { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true };
    writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify({
      version: '1.0', truncation: null, padding: null, normalizer: null, post_processor: null,
      added_tokens: [{ id: 8, content: '<s>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
      pre_tokenizer: metaspace, decoder: metaspace,
      model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false,
        byte_fallback: false, ignore_merges: false, vocab, merges: ['▁ a', '▁ {', '▁ k'] },
    }));
    writeFileSync(path.join(dir, 'tokenizer_config.json'), '{}');
    try {
      const tokenizer = await LlmTokenizer.load(dir, []);
      expect(tokenizer.decode([vocab['▁k']])).toBe('k'); // alone: the space is gone
      const texts = tokenizer.continuationTexts(9);
      expect(texts[vocab['▁k']]).toBe(' k');
      expect(texts[vocab.k]).toBe('k');
      expect(texts[vocab['▁{']]).toBe(' {');
      expect(texts[vocab['<s>']]).toBeNull();
      // In a key of a closed property list, ' k' is not 'k'.
      const s = feed(jsonStart(parseSchema({ type: 'object', properties: { k: { type: 'null' } } })), '{"')!;
      expect(feed(s, texts[vocab.k]!)).not.toBeNull();
      expect(feed(s, texts[vocab['▁k']]!)).toBeNull();
      // Streamed after a prompt, the first token keeps its space (as vLLM streams it).
      const streamed = new IncrementalDetokenizer(tokenizer, [vocab['▁a']]);
      expect(streamed.next([vocab['▁k']]) + streamed.next([vocab['▁k'], vocab.k]) + streamed.flush([vocab['▁k'], vocab.k])).toBe(' kk');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
