// String tensors, sequences and optionals end to end: Cast to and from string against
// onnxruntime-node on fresh random floats, typed errors for values of the wrong kind, and models
// whose inputs and outputs are sequences and optionals (built here, loaded from bytes and from the
// plan cache).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { GraphBuilder, typeAttr } from '../fixtures/onnx-builder';
import { hs, ort } from '../helpers';

const load = (m: Uint8Array, cacheDir: string | false = false) => hs.Engine.load(m, { cacheDir, threads: 1 });

/** Floats of every magnitude float32 has, with both signs, and the special values. */
function freshFloats(n: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = (Math.random() * 2 - 1) * 10 ** Math.floor(Math.random() * 76 - 38);
  x.set([NaN, Infinity, -Infinity, 0, -0, 3.4028235e38, 1.4e-45, 0.1]);
  return x;
}

// x -> Cast(string) -> text -> Cast(float) -> back
function castRoundTripModel(n: number): Uint8Array {
  const b = new GraphBuilder();
  const text = b.op('Cast', [b.input('x', 'float32', [n])], { to: 8 });
  b.output(text, 'string', [n]);
  b.output(b.op('Cast', [text], { to: 1 }), 'float32', [n]);
  return b.build(13);
}

function parseModel(n: number): Uint8Array {
  const b = new GraphBuilder();
  b.output(b.op('Cast', [b.input('s', 'string', [n])], { to: 1 }), 'float32', [n]);
  return b.build(13);
}

async function ortParse(strings: string[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(parseModel(strings.length));
  const out = await session.run({ s: new ort.Tensor('string', strings, [strings.length]) });
  await session.release();
  return Object.values(out)[0].data as Float32Array;
}

/** Significant digits of a decimal such as '-1.25e-07' or '123456790' (3 and 8). */
const significantDigits = (text: string) =>
  text.replace(/^-/, '').replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '').length;
/** Floats whose rounding interval is lopsided (and zeros, infinities, NaN): the shortest-text check skips them. */
const isPowerOfTwo = (v: number) => !Number.isFinite(v) || (new Uint32Array(Float32Array.of(v).buffer)[0] & 0x7fffff) === 0;
const sameFloat = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

describe('string tensors', () => {
  it('Cast float -> string -> float keeps every float32 exactly, in the shortest text onnxruntime reads back the same', async () => {
    const n = 512;
    const x = freshFloats(n);
    const engine = await load(castRoundTripModel(n));
    const out = await engine.run({ x: { type: 'float32', dims: [n], data: x } });
    engine.dispose();
    const [text, back] = Object.values(out) as hs.Tensor[];
    expect(text.type).toBe('string');
    const strings = text.data as string[];
    for (let i = 0; i < n; i++) {
      expect(sameFloat((back.data as Float32Array)[i], x[i]), `element ${i}: ${x[i]} -> '${strings[i]}'`).toBe(true);
      const digits = significantDigits(strings[i]);
      if (digits > 1 && !isPowerOfTwo(x[i]))
        expect(Math.fround(Number(x[i].toPrecision(digits - 1))), `'${strings[i]}' is not the shortest`).not.toBe(x[i]);
    }
    expect(strings.slice(0, 5)).toEqual(['NaN', 'INF', '-INF', '0', '-0']);
    // onnxruntime-node reads our strings as the same floats.
    const parsed = await ortParse(strings);
    for (let i = 0; i < n; i++) expect(sameFloat(parsed[i], x[i]), `'${strings[i]}'`).toBe(true);
  });

  it('Cast string -> float reads what onnxruntime-node writes, as onnxruntime-node reads it', async () => {
    const n = 256;
    const x = freshFloats(n);
    const session = await ort.InferenceSession.create(castRoundTripModel(n));
    const ortOut = await session.run({ x: new ort.Tensor('float32', x, [n]) });
    await session.release();
    const ortStrings = Object.values(ortOut)[0].data as string[];
    const spellings = ['NaN', 'nan', 'INF', '+INF', '-INF', 'inf', '-Infinity', '1e50', '-1e-50', '+2.5', '007'];
    const strings = [...ortStrings.slice(0, n - spellings.length), ...spellings];
    const engine = await load(parseModel(n));
    const out = await engine.run({ s: new hs.Tensor('string', strings, [n]) });
    engine.dispose();
    const ours = (out[Object.keys(out)[0]] as hs.Tensor).data as Float32Array;
    const reference = await ortParse(strings);
    for (let i = 0; i < n; i++) expect(sameFloat(ours[i], reference[i]), `'${strings[i]}'`).toBe(true);
  });

  it('passes string initializers and Constant strings through views, and keeps them in the plan cache', async () => {
    const b = new GraphBuilder();
    const words = b.initStrings('words', ['héllo', '', 'wörld', 'a b'], [2, 2]);
    const flat = b.op('Reshape', [words, b.init('shape', new BigInt64Array([4n]), [1])]);
    b.output(b.op('Identity', [flat]), 'string', [4]);
    b.output(b.op('Constant', [], { value_string: 'ünï' }), 'string', []);
    b.output(b.op('Identity', [b.input('s', 'string', [1])]), 'string', [1]);
    const model = b.build(13);
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-strings-'));
    try {
      for (const pass of ['built', 'loaded from cache']) {
        const engine = await load(model, cacheDir);
        expect(engine.info.cache).toContain(pass === 'built' ? 'built' : 'cache');
        const out = Object.values(await engine.run({ s: { type: 'string', dims: [1], data: ['ïn'] } })) as hs.Tensor[];
        engine.dispose();
        expect(out.map((t) => [t.type, t.dims, t.data])).toEqual([
          ['string', [4], ['héllo', '', 'wörld', 'a b']],
          ['string', [], ['ünï']],
          ['string', [1], ['ïn']],
        ]);
      }
    } finally {
      fs.rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it('rejects bad string feeds with typed errors', async () => {
    const engine = await load(parseModel(3));
    const run = (data: unknown, type = 'string', dims = [3]) =>
      engine.run({ s: { type, dims, data } as hs.TensorLike });
    await expect(run([1, 2, 3])).rejects.toMatchObject({ code: 'ERR_TYPE' });
    await expect(run(['1', 2, '3'])).rejects.toMatchObject({ code: 'ERR_TYPE' });
    await expect(run(new Float32Array(3), 'float32')).rejects.toMatchObject({ code: 'ERR_TYPE' });
    await expect(run(['1', '2'])).rejects.toMatchObject({ code: 'ERR_SHAPE' });
    await expect(run(['1', 'two', '3'])).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/'two'/) });
    await expect(run(['1', '2.5x', '3'])).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    expect(() => new hs.Tensor('string', [1, 2] as unknown as string[])).toThrow(expect.objectContaining({ code: 'ERR_TYPE' }));
    engine.dispose();
  });

  it('fails the load, naming the node, when a kernel that takes no strings gets one', async () => {
    const b = new GraphBuilder();
    const x = b.op('Cast', [b.input('x', 'float32', [2])], { to: 8 });
    b.output(b.op('Relu', [x]), 'float32', [2]);
    await expect(load(b.build(13))).rejects.toMatchObject({
      code: 'ERR_TYPE',
      message: expect.stringMatching(/Relu node 'Relu_1'.*string/),
    });
  });
});

describe('sequences and optionals', () => {
  // seq -> Identity -> seq; opt -> Identity -> opt; cond ? Optional(SequenceConstruct(a, b)) : empty
  function model(): Uint8Array {
    const then = new GraphBuilder('then');
    const pair = then.op('SequenceConstruct', [then.op('Identity', ['a']), 'b']);
    then.output(then.op('Optional', [pair]), 'float32', null, 'optional(sequence)');
    const otherwise = new GraphBuilder('else');
    otherwise.output(otherwise.op('Optional', [], { type: typeAttr('sequence', 'float32') }), 'float32', null, 'optional(sequence)');
    const b = new GraphBuilder();
    b.output(b.op('Identity', [b.input('seq', 'float32', null, 'sequence')]), 'float32', null, 'sequence');
    b.output(b.op('Identity', [b.input('opt', 'float32', [2], 'optional(tensor)')]), 'float32', [2], 'optional(tensor)');
    b.input('a', 'float32', [2]);
    b.input('b', 'float32', [3]);
    const cond = b.input('cond', 'bool', []);
    b.output(b.op('If', [cond], { then_branch: then.graph(), else_branch: otherwise.graph() }), 'float32', null, 'optional(sequence)');
    return b.build(16);
  }

  const t = (data: number[]) => new hs.Tensor('float32', Float32Array.from(data), [data.length]);
  const plain = (v: unknown): unknown =>
    v === null ? null : Array.isArray(v) ? v.map(plain) : { type: (v as hs.Tensor).type, dims: [...(v as hs.Tensor).dims], data: Array.from((v as hs.Tensor).data as Float32Array) };

  it('runs Identity, SequenceConstruct, Optional and If over them, from bytes and from the plan cache', async () => {
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-seq-'));
    try {
      for (let pass = 0; pass < 2; pass++) {
        const engine = await load(model(), cacheDir);
        expect(engine.inputs.map((v) => v.kind)).toEqual(['sequence', 'optional(tensor)', 'tensor', 'tensor', 'tensor']);
        expect(engine.outputs.map((v) => v.kind)).toEqual(['sequence', 'optional(tensor)', 'optional(sequence)']);
        const a = [Math.random(), Math.random()], bv = [Math.random(), Math.random(), Math.random()];
        const seq = [t([1, 2, 3]), t([Math.random()])];
        const feeds = { seq, opt: t(a), a: t(a), b: t(bv), cond: new hs.Tensor('bool', [1], []) };
        const full = await engine.run(feeds);
        expect(Object.values(full).map(plain)).toEqual([seq.map(plain), plain(t(a)), [plain(t(a)), plain(t(bv))]]);
        const empty = await engine.run({ ...feeds, seq: [], opt: null, cond: new hs.Tensor('bool', [0], []) });
        expect(Object.values(empty).map(plain)).toEqual([[], null, null]);
        engine.dispose();
      }
    } finally {
      fs.rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it('rejects values of the wrong kind with typed errors', async () => {
    const engine = await load(model());
    const feeds = { seq: [t([1])], opt: null, a: t([1, 2]), b: t([1, 2, 3]), cond: new hs.Tensor('bool', [1], []) };
    await expect(engine.run({ ...feeds, seq: t([1]) })).rejects.toMatchObject({ code: 'ERR_TYPE' });
    await expect(engine.run({ ...feeds, a: [t([1, 2])] })).rejects.toMatchObject({ code: 'ERR_TYPE' });
    await expect(engine.run({ ...feeds, seq: [t([1]), { type: 'float32', dims: [2], data: [1] } as hs.TensorLike] })).rejects.toHaveProperty('code');
    await expect(engine.run({ ...feeds, opt: t([1, 2, 3]) })).rejects.toMatchObject({ code: 'ERR_SHAPE' });
    await expect(engine.run({ ...feeds, a: null })).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    engine.dispose();
  });

  it('fails the load, naming the node, when a kernel that takes tensors gets a sequence', async () => {
    const b = new GraphBuilder();
    const seq = b.op('SequenceConstruct', [b.input('x', 'float32', [2])]);
    b.output(b.op('Relu', [seq]), 'float32', [2]);
    await expect(load(b.build(16))).rejects.toMatchObject({
      code: 'ERR_TYPE',
      message: expect.stringMatching(/Relu node 'Relu_1'.*sequence/),
    });
  });
});
