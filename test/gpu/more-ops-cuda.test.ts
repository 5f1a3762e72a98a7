// GatherElements, ScatterElements (none and add), GatherND (with batch_dims), ScatterND (none and
// add), OneHot, CumSum (exclusive, reverse), TopK (largest and smallest, ties; NaN against the CPU engine),
// Range, Hardmax, DepthToSpace / SpaceToDepth, InstanceNormalization and LayerNormalization's Mean / InvStdDev
// outputs on device 'cuda' against onnxruntime-node on fresh random inputs,
// each model first checked to place wholly on the device; an out-of-range index fails the run
// with a clear error and leaves the engine usable.
import { describe, expect, it } from 'vitest';

import { GraphBuilder } from '../fixtures/onnx-builder';
import { hs, randomTensor } from '../helpers';
import { cuda, expectMatchesOrt, loadCuda } from './cuda-helpers';

const withDevice = cuda.available ? describe : describe.skip;

async function expectOnDevice(model: Uint8Array, feeds: Record<string, hs.TensorLike>, label: string, bound = 1e-6) {
  expect((await hs.cudaPlacement(model)).cpuNodes, label).toEqual([]);
  await expectMatchesOrt(model, feeds, bound, label);
}

const count = (dims: number[]) => dims.reduce((a, d) => a * d, 1);
const randomIndices = (dims: number[], dim: number) =>
  ({ type: 'int64' as const, dims, data: BigInt64Array.from({ length: count(dims) }, () => BigInt(Math.floor(Math.random() * 2 * dim) - dim)) });
// Distinct indices along `axis`, so that a scatter without reduction has one writer per element.
function permutedIndices(dims: number[], axis: number, dim: number) {
  const data = new BigInt64Array(count(dims));
  const inner = count(dims.slice(axis + 1)), len = dims[axis];
  for (let o = 0; o < count(dims.slice(0, axis)); o++)
    for (let i = 0; i < inner; i++) {
      const pick = Array.from({ length: dim }, (_, j) => j).sort(() => Math.random() - 0.5);
      for (let a = 0; a < len; a++) data[(o * len + a) * inner + i] = BigInt(pick[a] - (Math.random() < 0.5 ? dim : 0));
    }
  return { type: 'int64' as const, dims, data };
}

withDevice('indexing operators on CUDA vs onnxruntime-node', () => {
  it('GatherElements along each axis, negative indices, int32 data', async () => {
    for (const axis of [0, 1, 2]) {
      const g = new GraphBuilder('gather_elements');
      const x = g.input('x', 'float32', [4, 5, 6]);
      const i = g.input('i', 'int64', [3, 5, 2]);
      const xi = g.input('xi', 'int32', [4, 5, 6]);
      g.output(g.op('GatherElements', [x, i], { axis }), 'float32');
      g.output(g.op('GatherElements', [xi, i], { axis }), 'int32');
      const dims = [4, 5, 6];
      const idx = { ...randomIndices([3, 5, 2], dims[axis]) };
      await expectOnDevice(g.build(13), { x: randomTensor(dims), i: idx, xi: { type: 'int32', dims, data: Int32Array.from(randomTensor(dims, 1000).data, Math.round) } }, `axis ${axis}`);
    }
  });

  it.each([['none', 'float32'], ['add', 'float32'], ['add', 'int64']] as const)('ScatterElements, reduction %s, %s', async (reduction, type) => {
    const g = new GraphBuilder('scatter_elements');
    const x = g.input('x', type, [5, 4, 3]);
    const i = g.input('i', 'int64', [3, 4, 2]);
    const u = g.input('u', type, [3, 4, 2]);
    g.output(g.op('ScatterElements', [x, i, u], { axis: 0, reduction }), type);
    const t = (dims: number[]) => (type === 'float32' ? randomTensor(dims) : { type, dims, data: BigInt64Array.from(randomTensor(dims, 50).data, (v) => BigInt(Math.round(v))) });
    // Adding takes repeated indices (an atomic add each); assignment distinct ones.
    const idx = reduction === 'none' ? permutedIndices([3, 4, 2], 0, 5) : randomIndices([3, 4, 2], 5);
    await expectOnDevice(g.build(18), { x: t([5, 4, 3]), i: idx, u: t([3, 4, 2]) }, `${reduction} ${type}`);
  });

  it('GatherND with tuples of 1 and 2, and batch_dims 1', async () => {
    const g = new GraphBuilder('gather_nd');
    const x = g.input('x', 'float32', [3, 4, 5, 2]);
    const i1 = g.input('i1', 'int64', [2, 6, 1]);
    const i2 = g.input('i2', 'int64', [7, 2]);
    const ib = g.input('ib', 'int64', [3, 2, 2]);
    g.output(g.op('GatherND', [x, i1]), 'float32');
    g.output(g.op('GatherND', [x, i2]), 'float32');
    g.output(g.op('GatherND', [x, ib], { batch_dims: 1 }), 'float32');
    const tuples = (dims: number[], bounds: number[]) => ({
      type: 'int64' as const, dims,
      data: BigInt64Array.from({ length: count(dims) }, (_, e) => BigInt(Math.floor(Math.random() * bounds[e % bounds.length]))),
    });
    await expectOnDevice(g.build(13), { x: randomTensor([3, 4, 5, 2]), i1: tuples([2, 6, 1], [3]), i2: tuples([7, 2], [3, 4]), ib: tuples([3, 2, 2], [4, 5]) }, 'GatherND');
  });

  it.each(['none', 'add'] as const)('ScatterND (a KV-cache style row update), reduction %s', async (reduction) => {
    const g = new GraphBuilder('scatter_nd');
    const x = g.input('x', 'float32', [6, 4, 3]);
    const i = g.init('i', reduction === 'none' ? new BigInt64Array([4n, -6n, 2n]) : new BigInt64Array([1n, 1n, -1n]), [3, 1]);
    const u = g.input('u', 'float32', [3, 4, 3]);
    g.output(g.op('ScatterND', [x, i, u], { reduction }), 'float32');
    await expectOnDevice(g.build(18), { x: randomTensor([6, 4, 3]), u: randomTensor([3, 4, 3]) }, reduction);
  });

  it('OneHot on each axis with float values, an index past depth giving an off row', async () => {
    for (const axis of [-1, 0, 1]) {
      const g = new GraphBuilder('one_hot');
      const i = g.input('i', 'int64', [3, 4]);
      const depth = g.init('depth', new BigInt64Array([5n]), []);
      const values = g.init('values', new Float32Array([-0.5, 2]), [2]);
      g.output(g.op('OneHot', [i, depth, values], { axis }), 'float32');
      const idx = randomIndices([3, 4], 5);
      idx.data[0] = 7n;
      await expectOnDevice(g.build(11), { i: idx }, `axis ${axis}`);
    }
  });

  it.each([[0, 0], [1, 0], [0, 1], [1, 1]])('CumSum exclusive=%i reverse=%i, float32 and int64', async (exclusive, reverse) => {
    const g = new GraphBuilder('cumsum');
    const x = g.input('x', 'float32', [3, 7, 2]);
    const xi = g.input('xi', 'int64', [3, 7, 2]);
    const axis = g.init('axis', new BigInt64Array([1n]), []);
    g.output(g.op('CumSum', [x, axis], { exclusive, reverse }), 'float32');
    g.output(g.op('CumSum', [xi, axis], { exclusive, reverse }), 'int64');
    const ints = { type: 'int64' as const, dims: [3, 7, 2], data: BigInt64Array.from(randomTensor([3, 7, 2], 1e6).data, (v) => BigInt(Math.round(v))) };
    await expectOnDevice(g.build(14), { x: randomTensor([3, 7, 2]), xi: ints }, `exclusive ${exclusive} reverse ${reverse}`);
  });

  it.each([[1, -1, 5], [0, 1, 3], [1, 0, 3], [1, 1, 40]])('TopK largest=%i axis=%i k=%i, with ties; NaN as the CPU engine orders it', async (largest, axis, k) => {
    const g = new GraphBuilder('topk');
    const x = g.input('x', 'float32', [4, 300]);
    const kk = g.init('k', new BigInt64Array([BigInt(k)]), [1]);
    const [values, indices] = g.node('TopK', [x, kk], { axis, largest }, 2);
    g.output(values, 'float32');
    g.output(indices, 'int64');
    const model = g.build(11);
    // Few distinct values so that ties decide many places.
    const data = Float32Array.from({ length: 1200 }, () => Math.round(Math.random() * 20) / 4);
    await expectOnDevice(model, { x: { type: 'float32', dims: [4, 300], data } }, `largest ${largest} axis ${axis} k ${k}`);
    // onnxruntime leaves NaN's place open; the CPU engine puts NaN above every number (numpy's order).
    data[7] = NaN;
    data[611] = NaN;
    const feeds = { x: { type: 'float32' as const, dims: [4, 300], data } };
    const [onDevice, onCpu] = [await loadCuda(model), await hs.Engine.load(model, { cacheDir: false })];
    try {
      const [a, b] = await Promise.all([onDevice.run(feeds), onCpu.run(feeds)]);
      for (const name of onCpu.outputNames)
        expect(Array.from((a[name] as hs.Tensor).data as ArrayLike<unknown>), name).toEqual(Array.from((b[name] as hs.Tensor).data as ArrayLike<unknown>));
    } finally {
      onDevice.dispose();
      onCpu.dispose();
    }
  });

  it('Range with bounds made on the device (float32, int64) and a negative int32 step', async () => {
    const g = new GraphBuilder('range');
    const x = g.input('x', 'float32', [6]);
    const hi = g.op('ReduceMax', [x], { keepdims: 0 });
    g.output(g.op('Range', [g.op('ReduceMin', [x], { keepdims: 0 }), hi, g.init('step', new Float32Array([0.37]), [])]), 'float32');
    const count = g.op('Cast', [g.op('Abs', [g.op('Mul', [hi, g.init('three', new Float32Array([3]), [])])])], { to: 7 });
    g.output(g.op('Range', [g.init('zero', new BigInt64Array([0n]), []), count, g.init('one', new BigInt64Array([1n]), [])]), 'int64');
    g.output(g.op('Range', [g.init('a', new Int32Array([9]), []), g.init('b', new Int32Array([-4]), []), g.init('c', new Int32Array([-3]), [])]), 'int32');
    await expectOnDevice(g.build(18), { x: randomTensor([6], 5) }, 'range');
  });

  it.each([[11, 1], [13, 1], [13, -1]])('Hardmax (opset %i, axis %i) with tied maxima', async (opset, axis) => {
    const g = new GraphBuilder('hardmax');
    const x = g.input('x', 'float32', [3, 4, 6]);
    g.output(g.op('Hardmax', [x], { axis }), 'float32');
    const data = Float32Array.from({ length: 72 }, () => Math.round(Math.random() * 6));
    await expectOnDevice(g.build(opset), { x: { type: 'float32', dims: [3, 4, 6], data } }, `opset ${opset} axis ${axis}`);
  });

  it("TopK's int64 indices feed a Gather on the device (their dtype is inferred at build)", async () => {
    const g = new GraphBuilder('topk_gather');
    const x = g.input('x', 'float32', [5, 40]);
    const [, indices] = g.node('TopK', [x, g.init('k', new BigInt64Array([4n]), [1])], { axis: 1 }, 2);
    g.output(g.op('Gather', [g.input('table', 'float32', [40, 3]), indices]), 'float32');
    await expectOnDevice(g.build(13), { x: randomTensor([5, 40]), table: randomTensor([40, 3]) }, 'topk -> gather');
  });

  it("Dropout's mask of an input of unknown rank is typed bool for the ops after it (each output its own dtype)", async () => {
    const g = new GraphBuilder('dropout_mask');
    const x = g.input('x', 'float32', null);
    const [y, mask] = g.node('Dropout', [x], {}, 2);
    g.output(y, 'float32');
    g.output(g.op('Not', [mask]), 'bool');
    await expectOnDevice(g.build(13), { x: randomTensor([3, 5]) }, 'dropout -> not');
  });

  it.each([
    ['MaxPool', { kernel_shape: [2, 3, 2], strides: [1, 2, 2], pads: [1, 0, 1, 0, 1, 1], dilations: [1, 1, 2] }],
    ['MaxPool', { kernel_shape: [3, 3, 3], strides: [2, 2, 2], ceil_mode: 1 }],
    ['AveragePool', { kernel_shape: [2, 2, 3], strides: [1, 2, 1], pads: [1, 1, 0, 0, 1, 1] }],
    ['AveragePool', { kernel_shape: [3, 2, 2], strides: [2, 1, 2], pads: [1, 0, 1, 1, 1, 0], count_include_pad: 1 }],
    ['AveragePool', { kernel_shape: [2, 2, 2], strides: [2, 2, 2], pads: [1, 0, 0, 1, 0, 0], ceil_mode: 1, count_include_pad: 1 }],
  ] as const)('3-D %s %j', async (op, attrs) => {
    const g = new GraphBuilder('pool3d');
    g.output(g.op(op, [g.input('x', 'float32', [2, 3, 5, 6, 7])], { ...attrs }), 'float32');
    await expectOnDevice(g.build(13), { x: randomTensor([2, 3, 5, 6, 7]) }, op);
  });

  it('DepthToSpace (DCR, CRD) and SpaceToDepth', async () => {
    const g = new GraphBuilder('depth_space');
    const x = g.input('x', 'float32', [2, 12, 3, 4]);
    g.output(g.op('DepthToSpace', [x], { blocksize: 2, mode: 'DCR' }), 'float32');
    g.output(g.op('DepthToSpace', [x], { blocksize: 2, mode: 'CRD' }), 'float32');
    g.output(g.op('SpaceToDepth', [x], { blocksize: 1 }), 'float32');
    const y = g.input('y', 'float32', [1, 3, 6, 9]);
    g.output(g.op('SpaceToDepth', [y], { blocksize: 3 }), 'float32');
    await expectOnDevice(g.build(13), { x: randomTensor([2, 12, 3, 4]), y: randomTensor([1, 3, 6, 9]) }, 'depth/space');
  });

  it('InstanceNormalization, and LayerNormalization with its Mean and InvStdDev outputs', async () => {
    const g = new GraphBuilder('norms');
    const x = g.input('x', 'float32', [2, 3, 5, 7]);
    const scale = g.init('scale', Float32Array.from(randomTensor([3]).data, (v) => 1 + v / 2), [3]);
    const bias = g.init('bias', randomTensor([3]).data, [3]);
    g.output(g.op('InstanceNormalization', [x, scale, bias], { epsilon: 1e-3 }), 'float32');
    const lnScale = g.init('ln_scale', randomTensor([5, 7]).data, [5, 7]);
    const [y, mean, invStd] = g.node('LayerNormalization', [x, lnScale], { axis: 2 }, 3);
    for (const o of [y, mean, invStd]) g.output(o, 'float32');
    const data = Float32Array.from(randomTensor([2, 3, 5, 7]).data, (v, i) => v * (1 + (i % 5)) + (i % 3));
    await expectOnDevice(g.build(17), { x: { type: 'float32', dims: [2, 3, 5, 7], data } }, 'norms', 1e-5);
  });

  it('an index out of range rejects the run, and the engine runs again', async () => {
    const g = new GraphBuilder('bad_index');
    const x = g.input('x', 'float32', [4, 3]);
    const i = g.input('i', 'int64', [2, 3]);
    g.output(g.op('GatherElements', [x, i], { axis: 0 }), 'float32');
    const engine = await loadCuda(g.build(13));
    try {
      const bad = { type: 'int64' as const, dims: [2, 3], data: BigInt64Array.from([0n, 1n, 4n, 2n, 3n, -4n]) };
      await expect(engine.run({ x: randomTensor([4, 3]), i: bad })).rejects.toMatchObject({ code: expect.stringMatching(/^ERR_/) });
      const ok = await engine.run({ x: randomTensor([4, 3]), i: { ...bad, data: BigInt64Array.from([0n, 1n, 3n, 2n, 3n, -4n]) } });
      expect((ok[engine.outputNames[0]] as hs.Tensor).dims).toEqual([2, 3]);
    } finally {
      engine.dispose();
    }
  });
});
