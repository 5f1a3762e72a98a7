// Each CUDA kernel through a small model on device 'cuda' against onnxruntime-node (CPU) on fresh
// random inputs: broadcasting, transposes, groups, strides, pads, odd sizes that leave partial tiles.
// Every model must place wholly on the device (checked wherever CUDA is compiled in, even without a
// device), so the comparison exercises the CUDA kernel and not the CPU fallback.
import { describe, expect, it } from 'vitest';

import { float, GraphBuilder, type AttrValue } from '../fixtures/onnx-builder';
import { hs, randomTensor } from '../helpers';
import { cuda, expectMatchesOrt } from './cuda-helpers';

type Feeds = Record<string, hs.TensorLike>;
interface Case {
  name: string;
  model: Uint8Array;
  feeds: () => Feeds;
}

const positive = (dims: number[]) => {
  const t = randomTensor(dims);
  t.data = t.data.map((v) => Math.abs(v) + 0.05);
  return t;
};
const int64 = (dims: number[], values: number[]) => ({ type: 'int64' as const, dims, data: BigInt64Array.from(values.map(BigInt)) });

/** One operator over float32 inputs of the given dims (constant extra inputs as initializers). */
function single(op: string, dims: number[][], attrs: Record<string, AttrValue> = {}, opset = 17,
  consts: { name: string; data: Float32Array | BigInt64Array; dims: number[] }[] = []): Uint8Array {
  const b = new GraphBuilder(op);
  const ins = dims.map((d, i) => b.input(`x${i}`, 'float32', d));
  for (const c of consts) ins.push(b.init(c.name, c.data, c.dims));
  b.output(b.op(op, ins, attrs), 'float32', null);
  return b.build(opset);
}
const feedsOf = (dims: number[][], make = randomTensor) => () => Object.fromEntries(dims.map((d, i) => [`x${i}`, make(d)]));

const cases: Case[] = [];
const add = (name: string, model: Uint8Array, feeds: () => Feeds) => cases.push({ name, model, feeds });

for (const op of ['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min']) add(`${op} broadcast`, single(op, [[2, 3, 4, 5], [3, 1, 5]]), feedsOf([[2, 3, 4, 5], [3, 1, 5]]));
add('Pow broadcast (positive base)', single('Pow', [[2, 3, 4], [4]]), feedsOf([[2, 3, 4], [4]], positive));
add('PRelu per-channel slope', single('PRelu', [[2, 3, 4, 4], [3, 1, 1]]), feedsOf([[2, 3, 4, 4], [3, 1, 1]]));
{
  const b = new GraphBuilder('int-add');
  b.output(b.op('Add', [b.input('a', 'int64', [4, 1]), b.input('b', 'int64', [1, 3])]), 'int64', [4, 3]);
  add('Add int64 broadcast', b.build(17), () => ({ a: int64([4, 1], [1, -2, 3, 40]), b: int64([1, 3], [5, 6, -7]) }));
}
for (const op of ['Relu', 'Sigmoid', 'Tanh', 'Erf', 'Exp', 'Abs', 'Neg', 'Floor', 'Ceil', 'HardSwish', 'Softplus', 'Softsign', 'Sin', 'Cos'])
  add(op, single(op, [[3, 7, 11]]), feedsOf([[3, 7, 11]]));
for (const op of ['Sqrt', 'Log', 'Reciprocal']) add(op, single(op, [[3, 7, 11]]), feedsOf([[3, 7, 11]], positive));
for (const op of ['Round', 'Sign', 'Tan', 'Asin', 'Acos', 'Atan', 'Sinh', 'Cosh', 'Asinh', 'Atanh', 'Mish', 'Selu', 'Celu', 'ThresholdedRelu'])
  add(op, single(op, [[3, 7, 11]], {}, op === 'Mish' ? 18 : 17), () => ({ x0: { ...randomTensor([3, 7, 11]), data: randomTensor([3, 7, 11]).data.map((v) => v * 0.99) } }));  // Mish: opset 18
add('Acosh', single('Acosh', [[3, 7, 11]]), () => ({ x0: { ...randomTensor([3, 7, 11]), data: positive([3, 7, 11]).data.map((v) => v + 1) } }));
add('LeakyRelu alpha', single('LeakyRelu', [[5, 9]], { alpha: float(0.3) }), feedsOf([[5, 9]]));
add('Elu alpha', single('Elu', [[5, 9]], { alpha: float(0.7) }), feedsOf([[5, 9]]));
add('HardSigmoid alpha beta', single('HardSigmoid', [[5, 9]], { alpha: float(0.3), beta: float(0.4) }), feedsOf([[5, 9]]));
add('Clip constant bounds', single('Clip', [[5, 9]], {}, 17, [
  { name: 'lo', data: new Float32Array([-0.3]), dims: [] }, { name: 'hi', data: new Float32Array([0.5]), dims: [] }]), feedsOf([[5, 9]]));

for (const op of ['Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual']) {
  const b = new GraphBuilder(op);
  b.output(b.op(op, [b.input('a', 'int64', [3, 1, 4]), b.input('b', 'int64', [5, 1])]), 'bool', null);
  const ints = (dims: number[]) => int64(dims, Array.from({ length: dims.reduce((x, y) => x * y, 1) }, () => Math.floor(Math.random() * 5)));
  add(`${op} int64 broadcast`, b.build(17), () => ({ a: ints([3, 1, 4]), b: ints([5, 1]) }));
}
{
  const b = new GraphBuilder('where');
  const cond = b.op('Greater', [b.input('a', 'float32', [2, 1, 6]), b.input('b', 'float32', [3, 6])]);
  const masked = b.op('Where', [cond, b.input('x', 'float32', [2, 3, 6]), b.init('neg', new Float32Array([-1e4]), [])]);
  b.output(b.op('Cast', [b.op('Cast', [masked], { to: 7 })], { to: 1 }), 'float32', null);
  add('Greater, Where with a broadcast scalar, Cast to int64 and back',
    b.build(17), () => ({ a: randomTensor([2, 1, 6]), b: randomTensor([3, 6]), x: randomTensor([2, 3, 6], 100) }));
}
add('MatMul batch broadcast', single('MatMul', [[2, 1, 5, 8], [3, 8, 6]]), feedsOf([[2, 1, 5, 8], [3, 8, 6]]));
add('MatMul 1-D A', single('MatMul', [[8], [2, 8, 3]]), feedsOf([[8], [2, 8, 3]]));
add('MatMul 1-D B', single('MatMul', [[4, 70, 8], [8]]), feedsOf([[4, 70, 8], [8]]));
{
  const b = new GraphBuilder('fused-matmul');
  const w = b.init('w', randomTensor([16, 133]).data, [16, 133]);
  const bias = b.init('bias', randomTensor([133]).data, [133]);
  b.output(b.op('Relu', [b.op('Add', [b.op('MatMul', [b.input('x', 'float32', [4, 77, 16]), w]), bias])]), 'float32', [4, 77, 133]);
  add('MatMul + bias + Relu (hs:FusedMatMul)', b.build(17), () => ({ x: randomTensor([4, 77, 16]) }));
}
for (const [transA, transB, cDims] of [[0, 0, [65]], [1, 0, [70, 1]], [0, 1, [70, 65]], [1, 1, []]] as const) {
  const aDims = transA ? [37, 70] : [70, 37], bDims = transB ? [65, 37] : [37, 65];
  const dims = cDims.length ? [aDims, bDims, [...cDims]] : [aDims, bDims];
  add(`Gemm transA=${transA} transB=${transB} C=${JSON.stringify(cDims)}`,
    single('Gemm', dims, { transA, transB, alpha: float(0.7), beta: float(1.3) }), feedsOf(dims));
}

add('Conv groups, strides, dilations, asymmetric pads, bias',
  single('Conv', [[2, 6, 13, 11], [8, 3, 3, 3], [8]], { group: 2, strides: [2, 1], pads: [1, 0, 2, 1], dilations: [1, 2] }),
  feedsOf([[2, 6, 13, 11], [8, 3, 3, 3], [8]]));
add('Conv 1-D SAME_UPPER', single('Conv', [[2, 4, 17], [5, 4, 4]], { auto_pad: 'SAME_UPPER', strides: [2] }), feedsOf([[2, 4, 17], [5, 4, 4]]));
add('Conv depthwise 3x3', single('Conv', [[1, 16, 20, 20], [16, 1, 3, 3]], { group: 16, pads: [1, 1, 1, 1] }), feedsOf([[1, 16, 20, 20], [16, 1, 3, 3]]));
{
  const b = new GraphBuilder('fused-conv');
  const x = b.input('x', 'float32', [2, 8, 15, 15]);
  const r = b.input('r', 'float32', [2, 12, 15, 15]);
  const w = b.init('w', randomTensor([12, 8, 3, 3], 0.3).data, [12, 8, 3, 3]);
  const c = (n: string, v: Float32Array) => b.init(n, v, [12]);
  const bn = b.op('BatchNormalization', [b.op('Conv', [x, w], { pads: [1, 1, 1, 1] }), c('g', positive([12]).data),
    c('be', randomTensor([12]).data), c('m', randomTensor([12]).data), c('v', positive([12]).data)], { epsilon: float(1e-5) });
  b.output(b.op('Relu', [b.op('Add', [bn, r])]), 'float32', [2, 12, 15, 15]);
  add('Conv + BatchNorm + residual + Relu (hs:FusedConv)', b.build(17), () => ({ x: randomTensor([2, 8, 15, 15]), r: randomTensor([2, 12, 15, 15]) }));
}

add('MaxPool 3x3 s2 pad 1 ceil_mode', single('MaxPool', [[2, 3, 14, 15]], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 }), feedsOf([[2, 3, 14, 15]]));
add('AveragePool count_include_pad', single('AveragePool', [[2, 3, 14, 15]], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 1 }), feedsOf([[2, 3, 14, 15]]));
add('AveragePool excluding pads, 1-D', single('AveragePool', [[2, 3, 19]], { kernel_shape: [4], strides: [3], pads: [2, 1] }), feedsOf([[2, 3, 19]]));
add('GlobalAveragePool', single('GlobalAveragePool', [[2, 5, 7, 9]]), feedsOf([[2, 5, 7, 9]]));
add('GlobalMaxPool', single('GlobalMaxPool', [[2, 5, 7, 9]]), feedsOf([[2, 5, 7, 9]]));

{
  const b = new GraphBuilder('batch-norm');
  const p = (n: string, v: Float32Array) => b.init(n, v, [6]);
  b.output(b.op('BatchNormalization', [b.input('x0', 'float32', [3, 6, 5, 7]), p('g', randomTensor([6]).data), p('be', randomTensor([6]).data),
    p('m', randomTensor([6]).data), p('v', positive([6]).data)], { epsilon: float(1e-3) }), 'float32', null);
  add('BatchNormalization (unfused)', b.build(17), feedsOf([[3, 6, 5, 7]]));
}
add('LayerNormalization last axis', single('LayerNormalization', [[3, 5, 300], [300], [300]], { axis: -1 }), feedsOf([[3, 5, 300], [300], [300]]));
add('LayerNormalization axis 1', single('LayerNormalization', [[2, 3, 4, 5], [3, 4, 5]], { axis: 1, epsilon: float(1e-3) }), feedsOf([[2, 3, 4, 5], [3, 4, 5]]));
add('Softmax last axis', single('Softmax', [[4, 7, 333]], { axis: -1 }), feedsOf([[4, 7, 333]]));
add('Softmax inner axis', single('Softmax', [[2, 5, 3, 4]], { axis: 1 }), feedsOf([[2, 5, 3, 4]]));
add('LogSoftmax', single('LogSoftmax', [[6, 50]], { axis: 1 }), feedsOf([[6, 50]]));
add('Softmax opset 11 (flattened)', single('Softmax', [[2, 5, 3, 4]], { axis: 1 }, 11), feedsOf([[2, 5, 3, 4]]));

for (const op of ['ReduceMean', 'ReduceMax', 'ReduceL2', 'ReduceLogSumExp', 'ReduceProd'])
  add(`${op} axes [1, 3]`, single(op, [[2, 3, 4, 5]], { axes: [1, 3], keepdims: 0 }), feedsOf([[2, 3, 4, 5]]));
{
  const b = new GraphBuilder('reduce-sum');
  b.output(b.op('ReduceSum', [b.input('x0', 'float32', [4, 3, 66]), b.init('axes', new BigInt64Array([0n, -1n]), [2])]), 'float32', null);
  add('ReduceSum axes input', b.build(17), feedsOf([[4, 3, 66]]));
}

add('Transpose', single('Transpose', [[2, 3, 4, 5]], { perm: [0, 2, 3, 1] }), feedsOf([[2, 3, 4, 5]]));
{
  const b = new GraphBuilder('slice');
  const ints = (n: string, v: number[]) => b.init(n, BigInt64Array.from(v.map(BigInt)), [v.length]);
  b.output(b.op('Slice', [b.input('x0', 'float32', [3, 10, 6]), ints('s', [-1, 0]), ints('e', [-1000, 5]), ints('a', [1, 2]), ints('st', [-2, 2])]), 'float32', null);
  add('Slice negative step', b.build(17), feedsOf([[3, 10, 6]]));
}
add('Concat axis 1', single('Concat', [[2, 3, 4], [2, 5, 4], [2, 1, 4]], { axis: 1 }), feedsOf([[2, 3, 4], [2, 5, 4], [2, 1, 4]]));
{
  const b = new GraphBuilder('gather');
  b.output(b.op('Gather', [b.input('x0', 'float32', [3, 4, 5]), b.init('i', BigInt64Array.from([0n, -1n, 2n, 1n]), [2, 2])], { axis: 1 }), 'float32', null);
  add('Gather axis 1, negative indices', b.build(17), feedsOf([[3, 4, 5]]));
}
{
  const b = new GraphBuilder('expand');
  b.output(b.op('Expand', [b.input('x0', 'float32', [3, 1]), b.init('shape', BigInt64Array.from([2n, 3n, 4n]), [3])]), 'float32', null);
  add('Expand', b.build(17), feedsOf([[3, 1]]));
}
{
  const b = new GraphBuilder('views');
  const x = b.input('x0', 'float32', [2, 3, 4]);
  const r = b.op('Reshape', [x, b.init('shape', BigInt64Array.from([0n, -1n]), [2])]);
  const u = b.op('Unsqueeze', [b.op('Relu', [r]), b.init('axes', BigInt64Array.from([1n]), [1])]);
  const s = b.op('Squeeze', [b.op('Sigmoid', [u]), b.init('axes2', BigInt64Array.from([1n]), [1])]);
  b.output(b.op('Flatten', [b.op('Neg', [s])], { axis: 0 }), 'float32', null);
  add('Reshape, Unsqueeze, Squeeze, Flatten views between kernels', b.build(17), feedsOf([[2, 3, 4]]));
}

describe.skipIf(!cuda.compiled)('per-kernel models place wholly on CUDA', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    expect((await hs.cudaPlacement(c.model)).cpuNodes).toEqual([]);
  });
});

describe.skipIf(!cuda.available)('CUDA kernels vs onnxruntime-node', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (name, c) => {
    await expectMatchesOrt(c.model, c.feeds(), 1e-4, name);
  });
});
