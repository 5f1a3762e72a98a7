// Mod (both sign rules, integers and floats), And / Or / Xor / Not, IsNaN / IsInf (each sign
// setting), Max / Min / Sum / Mean over one to four broadcast inputs, Clip with bounds made on the
// device, Pow with integer exponents, CastLike and Identity on
// device 'cuda' against onnxruntime-node on fresh random inputs, each model first checked to place
// wholly on the device. The ONNX conformance cases of these operators run there too
// (engine-cuda.test.ts).
import { describe, expect, it } from 'vitest';

import { GraphBuilder } from '../fixtures/onnx-builder';
import { hs, randomTensor } from '../helpers';
import { cuda, expectMatchesOrt } from './cuda-helpers';

const withDevice = cuda.available ? describe : describe.skip;

async function expectOnDevice(model: Uint8Array, feeds: Record<string, hs.TensorLike>, label: string) {
  expect((await hs.cudaPlacement(model)).cpuNodes, label).toEqual([]);
  await expectMatchesOrt(model, feeds, 1e-6, label);
}

const count = (dims: number[]) => dims.reduce((a, d) => a * d, 1);
// Integers in [-range, range] without zero (a divisor of zero is undefined in ONNX).
const nonZeroInts = (n: number, range: number) =>
  Array.from({ length: n }, () => (Math.floor(Math.random() * range) + 1) * (Math.random() < 0.5 ? -1 : 1));
const bools = (dims: number[]) => ({ type: 'bool' as const, dims, data: Uint8Array.from({ length: count(dims) }, () => (Math.random() < 0.5 ? 1 : 0)) });

withDevice('logical, classification and variadic operators on CUDA vs onnxruntime-node', () => {
  it.each([
    ['int64, the divisor\'s sign', 'int64', 0],
    ['int32, the divisor\'s sign', 'int32', 0],
    ['int64, fmod', 'int64', 1],
    ['float32, fmod', 'float32', 1],
  ] as const)('Mod %s, broadcast', async (label, type, fmod) => {
    const g = new GraphBuilder('mod');
    const a = g.input('a', type, [3, 4, 5]);
    const b = g.input('b', type, [4, 1]);
    g.output(g.op('Mod', [a, b], { fmod }), type);
    const make = (dims: number[], range: number) => {
      const values = nonZeroInts(count(dims), range);
      if (type === 'int64') return { type, dims, data: BigInt64Array.from(values.map(BigInt)) };
      if (type === 'int32') return { type, dims, data: Int32Array.from(values) };
      return { type, dims, data: Float32Array.from(values, (v) => v * 0.37) };
    };
    await expectOnDevice(g.build(13), { a: make([3, 4, 5], 50), b: make([4, 1], 7) }, label);
  });

  it('And, Or, Xor (broadcast) and Not', async () => {
    const g = new GraphBuilder('logic');
    const a = g.input('a', 'bool', [2, 3, 4]);
    const b = g.input('b', 'bool', [3, 1]);
    for (const op of ['And', 'Or', 'Xor']) g.output(g.op(op, [a, b]), 'bool');
    g.output(g.op('Not', [a]), 'bool');
    await expectOnDevice(g.build(13), { a: bools([2, 3, 4]), b: bools([3, 1]) }, 'logic');
  });

  it('IsNaN and IsInf with each sign setting', async () => {
    const g = new GraphBuilder('classify');
    const x = g.input('x', 'float32', [40]);
    g.output(g.op('IsNaN', [x]), 'bool');
    for (const [pos, neg] of [[1, 1], [1, 0], [0, 1], [0, 0]]) g.output(g.op('IsInf', [x], { detect_positive: pos, detect_negative: neg }), 'bool');
    const data = randomTensor([40]).data.map((v) => (v > 0.6 ? Infinity : v < -0.6 ? -Infinity : v > 0.3 ? NaN : v));
    await expectOnDevice(g.build(13), { x: { type: 'float32', dims: [40], data } }, 'classify');
  });

  it.each([
    ['Sum', 'float32'], ['Mean', 'float32'], ['Max', 'float32'], ['Min', 'float32'], ['Min', 'int64'], ['Max', 'int32'],
  ] as const)('%s of 1, 2, 3 and 4 broadcast %s inputs', async (op, type) => {
    const dims = [[2, 3, 4], [3, 1], [1, 4], [2, 1, 1]];
    const g = new GraphBuilder('variadic');
    const xs = dims.map((d, i) => g.input(`x${i}`, type, d));
    for (let n = 1; n <= 4; n++) g.output(g.op(op, xs.slice(0, n)), type);
    const feeds: Record<string, hs.TensorLike> = {};
    dims.forEach((d, i) => {
      const values = randomTensor(d, 100).data;
      feeds[`x${i}`] = type === 'float32' ? { type, dims: d, data: values }
        : type === 'int64' ? { type, dims: d, data: BigInt64Array.from(values, (v) => BigInt(Math.round(v))) }
          : { type, dims: d, data: Int32Array.from(values, Math.round) };
    });
    await expectOnDevice(g.build(13), feeds, `${op} ${type}`);
  });

  it('Clip with bounds computed on the device and omitted, Pow with int64 and int32 exponents', async () => {
    const g = new GraphBuilder('clip_pow');
    const x = g.input('x', 'float32', [3, 5]);
    const lo = g.op('ReduceMin', [x], { keepdims: 0 });  // a scalar made on the device
    g.output(g.op('Clip', [x, g.op('Mul', [lo, g.init('half', new Float32Array([0.5]), [])])]), 'float32');
    g.output(g.op('Clip', [x, '', g.init('hi', new Float32Array([0.25]), [])]), 'float32');
    g.output(g.op('Pow', [x, g.init('e64', new BigInt64Array([2n, 3n, -1n, 0n, 5n]), [5])]), 'float32');
    g.output(g.op('Pow', [x, g.init('e32', new Int32Array([3]), [])]), 'float32');
    await expectOnDevice(g.build(18), { x: randomTensor([3, 5], 3) }, 'clip/pow');
  });

  it('CastLike (float32 -> int64 -> float32) and Identity as a graph output', async () => {
    const g = new GraphBuilder('castlike');
    const x = g.input('x', 'float32', [3, 5]);
    const like = g.init('like', new BigInt64Array([0n]), [1]);
    const asInt = g.op('CastLike', [x, like]);
    g.output(asInt, 'int64');
    g.output(g.op('CastLike', [asInt, x]), 'float32');
    g.output(g.op('Identity', [g.op('Relu', [x])]), 'float32');
    await expectOnDevice(g.build(15), { x: randomTensor([3, 5], 20) }, 'castlike');
  });
});
