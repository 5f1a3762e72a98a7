// Bad input gets a typed error with a code, never a crash or a hang.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { GraphBuilder } from '../fixtures/onnx-builder';
import { cnnModel } from '../fixtures/models';
import { hs, randomTensor } from '../helpers';

const load = (m: Uint8Array | string) => hs.Engine.load(m, { cacheDir: false, threads: 1 });

function reluModel(): Uint8Array {
  const b = new GraphBuilder();
  b.output(b.op('Relu', [b.input('x', 'float32', ['n', 4])]), 'float32', ['n', 4]);
  return b.build();
}

describe('bad models', () => {
  it('rejects a truncated file', async () => {
    const bytes = cnnModel();
    await expect(load(bytes.subarray(0, bytes.length >> 1))).rejects.toMatchObject({ code: 'ERR_INVALID_MODEL' });
  });

  it('rejects garbage bytes', async () => {
    const garbage = new Uint8Array(4096).map(() => (Math.random() * 256) | 0);
    await expect(load(garbage)).rejects.toHaveProperty('code');
    await expect(load(new Uint8Array(0))).rejects.toMatchObject({ code: 'ERR_INVALID_MODEL' });
  });

  it('names an unknown operator and its node', async () => {
    const b = new GraphBuilder();
    b.output(b.op('FrobnicateNotAnOp', [b.input('x', 'float32', [2])]), 'float32', [2]);
    await expect(load(b.build())).rejects.toMatchObject({
      code: 'ERR_UNSUPPORTED_OP',
      message: expect.stringMatching(/FrobnicateNotAnOp node 'FrobnicateNotAnOp_0'/),
    });
  });

  it('reports a missing file', async () => {
    await expect(load(path.join(os.tmpdir(), 'no-such-model.onnx'))).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
  });

  it('rejects a graph that reads an undefined value', async () => {
    const b = new GraphBuilder();
    b.input('x', 'float32', [2]);
    b.output(b.op('Relu', ['nowhere']), 'float32', [2]);
    await expect(load(b.build())).rejects.toMatchObject({ code: 'ERR_INVALID_MODEL' });
  });
});

describe('bad attributes of the less common operators', () => {
  it('TfIdfVectorizer: a negative ngram index or falling ngram_counts', async () => {
    for (const [counts, indexes] of [[[0, 2], [0, -1, 2]], [[0, 3, 1], [0, 1, 2]]]) {
      const b = new GraphBuilder();
      b.output(b.op('TfIdfVectorizer', [b.input('x', 'int64', [4])], { mode: 'TF', min_gram_length: 1, max_gram_length: 2,
        max_skip_count: 0, ngram_counts: counts, ngram_indexes: indexes, pool_int64s: [1, 2, 3, 4] }), 'float32');
      await expect(load(b.build(9))).rejects.toMatchObject({ code: 'ERR_INVALID_MODEL' });
    }
  });

  it('MelWeightMatrix with a negative edge, RoiAlign with a huge sampling_ratio: typed errors', async () => {
    const b = new GraphBuilder();
    const ints = (name: string, v: number) => b.init(name, BigInt64Array.of(BigInt(v)), []);
    b.output(b.op('MelWeightMatrix', [ints('m', 8), ints('d', 16), ints('r', 8000), b.init('lo', Float32Array.of(-5), []),
      b.init('hi', Float32Array.of(4000), [])]), 'float32');
    const mel = await load(b.build(17)).catch((e) => e);
    // Constant inputs fold at build: the error comes from the load, or else from the first run.
    const error = mel instanceof Error ? mel : await mel.run({}).catch((e: Error) => e);
    expect(error).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    const r = new GraphBuilder();
    r.output(r.op('RoiAlign', [r.input('x', 'float32', [1, 1, 4, 4]), r.input('rois', 'float32', [1, 4]), r.input('i', 'int64', [1])],
      { sampling_ratio: 1e9 }), 'float32');
    await expect(load(r.build(16))).rejects.toMatchObject({ code: 'ERR_INVALID_MODEL' });
  });

  it('GridSample with grid points at 1e30 and EyeLike with k = 2^62 run to padding and zeros', async () => {
    const b = new GraphBuilder();
    b.output(b.op('GridSample', [b.input('x', 'float32', [1, 1, 3, 3]), b.input('g', 'float32', [1, 1, 2, 2])], { mode: 'nearest' }), 'float32');
    b.output(b.op('EyeLike', [b.input('e', 'float32', [3, 4])], { k: 2 ** 62 }), 'float32');
    const engine = await load(b.build(16));
    const out = await engine.run({ x: randomTensor([1, 1, 3, 3]), g: { type: 'float32', dims: [1, 1, 2, 2], data: Float32Array.of(1e30, -1e30, -1e30, 1e30) },
      e: randomTensor([3, 4]) });
    expect(Array.from(out[engine.outputNames[0]].data as Float32Array)).toEqual([0, 0]);
    expect(Array.from(out[engine.outputNames[1]].data as Float32Array)).toEqual(new Array(12).fill(0));
    engine.dispose();
  });

  // A length of no special form takes Bluestein's O(n log n) path (a direct sum would take about
  // 5 * 10^11 multiply-adds here): no hang, the right size.
  it('DFT of a signal of a million and three samples returns promptly', async () => {
    const n = 1_000_003;
    const b = new GraphBuilder();
    b.output(b.op('DFT', [b.input('x', 'float32', [1, n, 1])], { onesided: 1 }), 'float32');
    const engine = await load(b.build(17));
    const out = await engine.run({ x: randomTensor([1, n, 1]) });
    expect(out[engine.outputNames[0]].dims).toEqual([1, (n - 1) / 2 + 1, 2]);
    engine.dispose();
  }, 30_000);
});

describe('bad feeds', () => {
  it('checks names, dtypes, shapes and data sizes', async () => {
    const engine = await load(reluModel());
    const good = randomTensor([3, 4]);
    await expect(engine.run({})).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    await expect(engine.run({ x: good, y: good })).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    await expect(engine.run({ x: new hs.Tensor('int32', new Int32Array(12), [3, 4]) })).rejects.toMatchObject({ code: 'ERR_TYPE' });
    await expect(engine.run({ x: randomTensor([3, 5]) })).rejects.toMatchObject({ code: 'ERR_SHAPE' });
    await expect(engine.run({ x: randomTensor([12]) })).rejects.toMatchObject({ code: 'ERR_SHAPE' });
    await expect(engine.run({ x: { type: 'float32', dims: [3, 4], data: new Float32Array(5) } })).rejects.toMatchObject({ code: 'ERR_SHAPE' });
    await expect(engine.run({ x: { type: 'float32', dims: [3, 4], data: [1, 2, 3] } })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(engine.run({ x: { type: 'complex', dims: [3, 4], data: new Float32Array(12) } })).rejects.toMatchObject({ code: 'ERR_TYPE' });
    // The engine still works after all of that.
    const out = await engine.run({ x: good });
    expect(Array.from(out[engine.outputNames[0]].data as Float32Array)).toEqual(Array.from(good.data, (v) => Math.max(v, 0)));
    engine.dispose();
  });

  it('reports an output it cannot allocate as ERR_OUT_OF_MEMORY and keeps working', async () => {
    // Range from constants (tried by constant folding at load, then at run time) and
    // ConstantOfShape of a fed shape, sized past any machine, and one whose byte count overflows.
    const range = new GraphBuilder();
    const scalar = (name: string, v: number) => range.init(name, new Float32Array([v]), []);
    range.output(range.op('Range', [scalar('start', -2), scalar('limit', 5), scalar('delta', 1e-12)]), 'float32', null);
    const rangeEngine = await load(range.build());
    await expect(rangeEngine.run({})).rejects.toMatchObject({ code: 'ERR_OUT_OF_MEMORY', message: expect.stringMatching(/Range.*cannot allocate/) });
    rangeEngine.dispose();

    const b = new GraphBuilder();
    b.output(b.op('ConstantOfShape', [b.input('shape', 'int64', [2])]), 'float32', null);
    const engine = await load(b.build());
    const shape = (a: bigint, c: bigint) => new hs.Tensor('int64', BigInt64Array.from([a, c]), [2]);
    await expect(engine.run({ shape: shape(1n << 22n, 1n << 22n) })).rejects.toMatchObject({ code: 'ERR_OUT_OF_MEMORY' });
    await expect(engine.run({ shape: shape(1n << 40n, 1n << 40n) })).rejects.toMatchObject({ code: 'ERR_OUT_OF_MEMORY', message: expect.stringMatching(/overflows/) });
    const out = await engine.run({ shape: shape(2n, 3n) });
    expect(out[engine.outputNames[0]].dims).toEqual([2, 3]);
    engine.dispose();
  });

  it('rejects pooling pads that are not smaller than the kernel, as onnxruntime does', async () => {
    const b = new GraphBuilder();
    b.output(b.op('AveragePool', [b.input('x', 'float32', [1, 2, 9, 6])], { kernel_shape: [5, 3], strides: [5, 5], pads: [1 << 30, 1, 0, 1] }), 'float32', null);
    const model = b.build();
    const ort = await import('onnxruntime-node');
    await expect(ort.InferenceSession.create(model).then((s) => s.run({ x: new ort.Tensor('float32', new Float32Array(108), [1, 2, 9, 6]) }))).rejects.toThrow(/Pad should be smaller than kernel/);
    const engine = await load(model);
    await expect(engine.run({ x: randomTensor([1, 2, 9, 6]) })).rejects.toMatchObject({ code: 'ERR_SHAPE', message: expect.stringMatching(/smaller than the kernel/) });
    engine.dispose();
  });

  it('rejects runs after dispose', async () => {
    const engine = await load(reluModel());
    engine.dispose();
    await expect(engine.run({ x: randomTensor([1, 4]) })).rejects.toMatchObject({ code: 'ERR_DISPOSED' });
  });

  it('rejects a bad device', async () => {
    await expect(hs.Engine.load(reluModel(), { cacheDir: false, device: 'tpu' as 'cpu' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    if (!hs.devices().cuda.available)
      await expect(hs.Engine.load(reluModel(), { cacheDir: false, device: 'cuda' })).rejects.toMatchObject({ code: 'ERR_CUDA_UNAVAILABLE' });
  });

  it('accepts onnxruntime-node Tensor objects', async () => {
    const ort = await import('onnxruntime-node');
    const engine = await load(reluModel());
    const t = new ort.Tensor('float32', Float32Array.from([-1, 2, -3, 4]), [1, 4]);
    const out = await engine.run({ x: t });
    expect(Array.from(out[engine.outputNames[0]].data as Float32Array)).toEqual([0, 2, 0, 4]);
    engine.dispose();
  });

  it('writes nothing to a cache folder it cannot create and still loads', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'hs-')), 'a-file');
    fs.writeFileSync(file, 'x');
    const engine = await hs.Engine.load(reluModel(), { cacheDir: path.join(file, 'sub') });
    expect(engine.info.cache).toMatch(/not cached/);
    engine.dispose();
  });
});
