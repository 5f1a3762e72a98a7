// The quantisation operators (QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear,
// MatMulInteger, QLinearMatMul, ConvInteger, QLinearConv) and the two forms of quantised model
// that onnxruntime's tools write (QDQ, and dynamic quantisation of MatMul) against
// onnxruntime-node on fresh random inputs.
import { describe, expect, it } from 'vitest';

import { GraphBuilder, randomFloats } from '../fixtures/onnx-builder';
import { hs, ortRun, randomTensor, relError } from '../helpers';

const seed = () => (Math.random() * 2 ** 31) | 0;
const randomInts = (n: number, lo: number, hi: number) => Array.from({ length: n }, () => lo + Math.floor(Math.random() * (hi - lo + 1)));
const int8 = (n: number) => Int8Array.from(randomInts(n, -128, 127));
// int8 weights for uint8 activations keep to 7 bits, as onnxruntime's quantiser does for AVX2
// (reduce_range): its uint8 x int8 kernel there adds pairs of products in saturating int16, which
// full-range weights overflow (the operators' definition, and ours, have no such limit).
const weights7 = (n: number) => Int8Array.from(randomInts(n, -64, 63));
const uint8 = (n: number) => Uint8Array.from(randomInts(n, 0, 255));
const scales = (n: number, lo = 0.01, hi = 0.1) => Float32Array.from({ length: n }, () => lo + Math.random() * (hi - lo));

async function compare(model: Uint8Array, feeds: Record<string, { type: string; dims: number[]; data: ArrayLike<number> }>) {
  const engine = await hs.Engine.load(model, { cacheDir: false, threads: 2 });
  const [ours, ref] = await Promise.all([engine.run(feeds as never), ortRun(model, feeds as never)]);
  engine.dispose();
  return { ours, ref, names: Object.keys(ref) };
}

// Outputs equal element for element (integer outputs, or floats made from them).
function expectEqual(ours: Record<string, any>, ref: Record<string, any>, names: string[]) {
  for (const name of names) {
    expect(ours[name].dims, name).toEqual(ref[name].dims);
    expect(ours[name].type, name).toBe(ref[name].type);
    expect(Array.from(ours[name].data as ArrayLike<number>), name).toEqual(Array.from(ref[name].data as ArrayLike<number>));
  }
}

describe('quantisation operators', () => {
  it.each(['int8', 'uint8'] as const)('QuantizeLinear / DequantizeLinear per axis to %s: ties to even, saturation', async (type) => {
    const b = new GraphBuilder('qdq');
    const x = b.input('x', 'float32', [2, 5, 7]);
    // Power-of-two scales make x / scale exact, so the ties below are real ties.
    const s = b.init('s', Float32Array.from({ length: 5 }, (_, i) => 2 ** -(i + 1)), [5]);
    const z = type === 'int8' ? b.init('z', int8(5), [5]) : b.init('z', uint8(5), [5], 'uint8');
    const q = b.op('QuantizeLinear', [x, s, z], { axis: 1 });
    const d = b.op('DequantizeLinear', [q, s, z], { axis: 1 });
    b.output(q, type);
    b.output(d, 'float32');
    const data = randomFloats(70, seed(), 40);
    for (let i = 0; i < 70; i += 3) data[i] = (Math.round(data[i]) + 0.5) * 2 ** -(((i / 7) | 0) % 5 + 1);
    const { ours, ref, names } = await compare(b.build(13), { x: { type: 'float32', dims: [2, 5, 7], data } });
    expectEqual(ours, ref, names);
  });

  it('QuantizeLinear to uint8 without a zero point, DequantizeLinear of int32', async () => {
    const b = new GraphBuilder('q');
    const x = b.input('x', 'float32', [3, 4]);
    b.output(b.op('QuantizeLinear', [x, b.init('s', Float32Array.of(0.05), [])]), 'uint8');
    b.output(b.op('DequantizeLinear', [b.init('i', Int32Array.from(randomInts(6, -1e6, 1e6)), [6]), b.init('t', Float32Array.of(1e-3), [])]), 'float32');
    const { ours, ref, names } = await compare(b.build(13), { x: randomTensor([3, 4], 10) });
    expectEqual(ours, ref, names);
  });

  it('QuantizeLinear / DequantizeLinear in blocks (opset 21): blocks of 4 along axis 0, the last one short', async () => {
    const b = new GraphBuilder('blocks');
    const x = b.input('x', 'float32', [10, 3]);
    const s = b.init('s', scales(9), [3, 3]);
    const z = b.init('z', int8(9), [3, 3]);
    const q = b.op('QuantizeLinear', [x, s, z], { axis: 0, block_size: 4 });
    b.output(q, 'int8');
    b.output(b.op('DequantizeLinear', [q, s, z], { axis: 0, block_size: 4 }), 'float32');
    const { ours, ref, names } = await compare(b.build(21), { x: randomTensor([10, 3], 5) });
    expectEqual(ours, ref, names);
  });

  it.each([
    ['random', (n: number) => randomFloats(n, seed(), 3)],
    ['all zero', (n: number) => new Float32Array(n)],
    ['all positive', (n: number) => randomFloats(n, seed(), 3).map(Math.abs)],
    ['all negative', (n: number) => randomFloats(n, seed(), 3).map((v) => -Math.abs(v))],
  ])('DynamicQuantizeLinear, %s', async (_, make) => {
    const b = new GraphBuilder('dq');
    const [y, s, z] = b.node('DynamicQuantizeLinear', [b.input('x', 'float32', [4, 33])], {}, 3);
    b.output(y, 'uint8');
    b.output(s, 'float32');
    b.output(z, 'uint8');
    const { ours, ref, names } = await compare(b.build(13), { x: { type: 'float32', dims: [4, 33], data: make(132) } });
    expectEqual(ours, ref, names);
  });

  it.each([
    ['uint8 x int8, per-column zero points, batched A', 'uint8', [2, 3, 40], [40, 24], true],
    ['int8 x int8, scalar zero points, broadcast batches', 'int8', [2, 1, 5, 16], [3, 16, 9], false],
  ] as const)('MatMulInteger, %s', async (_, aType, aDims, bDims, perColumn) => {
    const b = new GraphBuilder('mmi');
    const a = b.input('a', aType, [...aDims]);
    const n = bDims[bDims.length - 1];
    const bw = b.init('b', (aType === 'uint8' ? weights7 : int8)(bDims.reduce((x, y) => x * y)), [...bDims]);
    const az = aType === 'uint8' ? b.init('az', uint8(1), [], 'uint8') : b.init('az', int8(1), []);
    const bz = b.init('bz', int8(perColumn ? n : 1), perColumn ? [n] : []);
    b.output(b.op('MatMulInteger', [a, bw, az, bz]), 'int32');
    const count = aDims.reduce((x, y) => x * y);
    const data = aType === 'uint8' ? uint8(count) : int8(count);
    const { ours, ref, names } = await compare(b.build(13), { a: { type: aType, dims: [...aDims], data } });
    expectEqual(ours, ref, names);
  });

  // The extremes of both types and the longest K of the float-GEMM path (4096), and one past it
  // (the integer loop), against sums in float64 (exact at these sizes).
  it.each([4096, 5000])('MatMulInteger is exact at the extremes, K = %i', async (k) => {
    const n = 5;
    const b = new GraphBuilder('extremes');
    const w = Int8Array.from({ length: k * n }, (_, i) => (i % 3 === 0 ? -128 : i % 3 === 1 ? 127 : -100));
    b.output(b.op('MatMulInteger', [b.input('a', 'uint8', [3, k]), b.init('w', w, [k, n]), b.init('az', Uint8Array.of(0), [], 'uint8'),
      b.init('wz', Int8Array.of(127), [])]), 'int32');
    const a = Uint8Array.from({ length: 3 * k }, (_, i) => (i % 7 === 0 ? 0 : 255));
    const engine = await hs.Engine.load(b.build(13), { cacheDir: false, threads: 2 });
    const out = await engine.run({ a: { type: 'uint8', dims: [3, k], data: a } });
    engine.dispose();
    const expected = Array.from({ length: 3 * n }, (_, e) => {
      let sum = 0;
      for (let j = 0; j < k; j++) sum += a[Math.floor(e / n) * k + j] * (w[j * n + (e % n)] - 127);
      return sum;
    });
    expect(Array.from(out[engine.outputNames[0]].data as Int32Array)).toEqual(expected);
  });

  it('QLinearMatMul, uint8 activations and int8 weights with a scale per column', async () => {
    const b = new GraphBuilder('qlmm');
    const a = b.input('a', 'uint8', [6, 32]);
    const inputs = [a, b.init('as', scales(1), []), b.init('az', uint8(1), [], 'uint8'), b.init('b', weights7(32 * 10), [32, 10]),
      b.init('bs', scales(10), [10]), b.init('bz', new Int8Array(10), [10]), b.init('ys', Float32Array.of(0.5), []), b.init('yz', uint8(1), [], 'uint8')];
    b.output(b.op('QLinearMatMul', inputs), 'uint8');
    const { ours, ref, names } = await compare(b.build(13), { a: { type: 'uint8', dims: [6, 32], data: uint8(192) } });
    expectEqual(ours, ref, names);
  });

  it.each([
    ['3x3, stride 2, pads, 2 groups', [1, 4, 9, 11], [6, 2, 3, 3], { strides: [2, 2], pads: [1, 0, 1, 2], group: 2 }],
    ['1-D, dilation 2', [2, 3, 17], [4, 3, 3], { dilations: [2] }],
    ['460 channels: 4140 values per output, past the float-GEMM path', [1, 460, 4, 4], [2, 460, 3, 3], { pads: [1, 1, 1, 1] }],
  ] as const)('ConvInteger and QLinearConv, %s', async (_, xDims, wDims, attrs) => {
    const b = new GraphBuilder('qconv');
    const x = b.input('x', 'uint8', [...xDims]);
    const m = wDims[0];
    const w = b.init('w', weights7(wDims.reduce((p, q) => p * q)), [...wDims]);
    const xz = b.init('xz', uint8(1), [], 'uint8');
    b.output(b.op('ConvInteger', [x, w, xz, b.init('wz', int8(1), [])], { ...attrs }), 'int32');
    const q = [x, b.init('xs', scales(1), []), xz, w, b.init('ws', scales(m), [m]), b.init('wz0', new Int8Array(m), [m]),
      b.init('ys', Float32Array.of(0.3), []), b.init('yz', uint8(1), [], 'uint8'), b.init('bias', Int32Array.from(randomInts(m, -500, 500)), [m])];
    b.output(b.op('QLinearConv', q, { ...attrs }), 'uint8');
    const { ours, ref, names } = await compare(b.build(13), { x: { type: 'uint8', dims: [...xDims], data: uint8(xDims.reduce((p, q) => p * q)) } });
    expectEqual(ours, ref, names);
  });
});

describe('quantised models', () => {
  // onnxruntime's quantize_dynamic: activations quantised per run, int8 weights, int32 products.
  it('a dynamically quantised MatMul (DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul)', async () => {
    const [k, n] = [64, 48];
    const b = new GraphBuilder('dynamic');
    const [xq, xs, xz] = b.node('DynamicQuantizeLinear', [b.input('x', 'float32', ['batch', 7, k])], {}, 3);
    const w = b.init('w', weights7(k * n), [k, n]);
    const product = b.op('MatMulInteger', [xq, w, xz, b.init('wz', new Int8Array(1), [])]);
    const scale = b.op('Mul', [xs, b.init('ws', scales(1), [])]);
    b.output(b.op('Mul', [b.op('Cast', [product], { to: 1 }), scale]), 'float32');
    const { ours, ref, names } = await compare(b.build(13), { x: randomTensor([3, 7, k], 4) });
    expect(relError(ours[names[0]], ref[names[0]])).toBeLessThan(1e-6);
  });

  // The QDQ format: float operators between DequantizeLinear and QuantizeLinear pairs. The weights'
  // DequantizeLinear folds at build time even when the float weights pass the folding size limit.
  it('a QDQ model: Q/DQ activations, int8 weights per output channel, Conv and a 2 MiB MatMul', async () => {
    const b = new GraphBuilder('qdq-model');
    const qdq = (v: string, s: number) => {
      const sc = b.init(`s${v}`, Float32Array.of(s), []), z = b.init(`z${v}`, uint8(1), [], 'uint8');
      return b.op('DequantizeLinear', [b.op('QuantizeLinear', [v, sc, z]), sc, z]);
    };
    const x = qdq(b.input('x', 'float32', ['batch', 8, 12, 12]), 0.05);
    const cw = b.op('DequantizeLinear', [b.init('cw', int8(16 * 8 * 9), [16, 8, 3, 3]), b.init('cws', scales(16, 0.001, 0.01), [16])], { axis: 0 });
    const conv = b.op('Relu', [b.op('Conv', [x, cw, b.init('cb', randomFloats(16, seed(), 0.1), [16])], { pads: [1, 1, 1, 1] })]);
    const flat = qdq(b.op('Flatten', [conv]), 0.02);  // [batch, 2304]
    const mw = b.op('DequantizeLinear', [b.init('mw', int8(2304 * 256), [2304, 256]), b.init('mws', scales(256, 1e-4, 1e-3), [256])], { axis: 1 });
    b.output(qdq(b.op('MatMul', [flat, mw]), 0.01), 'float32');
    const model = b.build(13);
    const engine = await hs.Engine.load(model, { cacheDir: false, threads: 2 });
    expect(engine.info.foldedNodes).toBeGreaterThanOrEqual(2);  // both weights' DequantizeLinear
    const feeds = { x: randomTensor([2, 8, 12, 12]) };
    const [ours, ref] = await Promise.all([engine.run(feeds), ortRun(model, feeds, 1, 'disabled')]);
    engine.dispose();
    // Float sums in another order can land a value on the other side of a rounding boundary: at
    // most one quantisation step, rarely.
    const name = Object.keys(ref)[0];
    const a = ours[name].data as Float32Array, e = ref[name].data as Float32Array;
    let off = 0;
    for (let i = 0; i < e.length; i++) {
      expect(Math.abs(a[i] - e[i])).toBeLessThanOrEqual(0.01 + 1e-6);
      if (a[i] !== e[i]) off++;
    }
    expect(off).toBeLessThanOrEqual(e.length / 100);
  });
});
