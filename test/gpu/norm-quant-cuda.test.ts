// Gelu (both forms), Shrink, GroupNormalization (opsets 18 and 21), LRN, and QuantizeLinear /
// DequantizeLinear (per tensor, per axis, blocked, int32 input) on device 'cuda' against
// onnxruntime-node on fresh random inputs, each model first checked to place wholly on the device.
// Quantised outputs must equal onnxruntime's exactly.
import { describe, expect, it } from 'vitest';

import { GraphBuilder } from '../fixtures/onnx-builder';
import { hs, randomTensor } from '../helpers';
import { cuda, expectMatchesOrt } from './cuda-helpers';

const withDevice = cuda.available ? describe : describe.skip;

async function expectOnDevice(model: Uint8Array, feeds: Record<string, hs.TensorLike>, label: string, bound = 1e-5) {
  expect((await hs.cudaPlacement(model)).cpuNodes, label).toEqual([]);
  await expectMatchesOrt(model, feeds, bound, label);
}

const positive = (n: number, lo = 0.02, hi = 0.1) => Float32Array.from({ length: n }, () => lo + Math.random() * (hi - lo));

withDevice('activations, normalisations and quantisation on CUDA vs onnxruntime-node', () => {
  it.each(['none', 'tanh'])('Gelu, approximate=%s', async (approximate) => {
    const g = new GraphBuilder('gelu');
    g.output(g.op('Gelu', [g.input('x', 'float32', [4, 33])], { approximate }), 'float32');
    await expectOnDevice(g.build(20), { x: randomTensor([4, 33], 6) }, approximate);
  });

  it('Shrink with lambd and bias', async () => {
    const g = new GraphBuilder('shrink');
    g.output(g.op('Shrink', [g.input('x', 'float32', [5, 7])], { lambd: 0.6, bias: 0.25 }), 'float32');
    await expectOnDevice(g.build(13), { x: randomTensor([5, 7], 2) }, 'shrink');
  });

  it.each([[18, 3], [21, 3], [21, 1], [21, 6]])('GroupNormalization opset %i, %i groups', async (opset, groups) => {
    const dims = [2, 6, 5, 4];
    const params = opset >= 21 ? 6 : groups;
    const g = new GraphBuilder('group_norm');
    const x = g.input('x', 'float32', dims);
    const scale = g.init('scale', randomTensor([params]).data, [params]);
    const bias = g.init('bias', randomTensor([params]).data, [params]);
    g.output(g.op('GroupNormalization', [x, scale, bias], { num_groups: groups, epsilon: 1e-4 }), 'float32');
    const data = Float32Array.from(randomTensor(dims).data, (v, i) => v * (1 + (i % 7)) + (i % 3));
    await expectOnDevice(g.build(opset), { x: { type: 'float32', dims, data } }, `opset ${opset}`);
  });

  it.each([[3, 0.75], [5, 0.6]])('LRN, size %i, beta %f', async (size, beta) => {
    const g = new GraphBuilder('lrn');
    g.output(g.op('LRN', [g.input('x', 'float32', [2, 7, 4, 5])], { size, alpha: 0.2, beta, bias: 1.5 }), 'float32');
    await expectOnDevice(g.build(13), { x: randomTensor([2, 7, 4, 5], 3) }, `size ${size}`);
  });

  it('QuantizeLinear / DequantizeLinear per tensor (uint8) and per axis (int8), and without a zero point', async () => {
    const g = new GraphBuilder('qdq');
    const x = g.input('x', 'float32', [3, 4, 5]);
    const qt = g.op('QuantizeLinear', [x, g.init('s0', positive(1), []), g.init('z0', new Uint8Array([120]), [], 'uint8')]);
    const qa = g.op('QuantizeLinear', [x, g.init('s1', positive(4), [4]), g.init('z1', new Int8Array([-3, 0, 7, 1]), [4])], { axis: 1 });
    const qn = g.op('QuantizeLinear', [x, g.init('s2', positive(1), [])]);
    g.output(qt, 'uint8');
    g.output(qa, 'int8');
    g.output(qn, 'uint8');
    g.output(g.op('DequantizeLinear', [qt, 's0', 'z0']), 'float32');
    g.output(g.op('DequantizeLinear', [qa, 's1', 'z1'], { axis: 1 }), 'float32');
    await expectOnDevice(g.build(13), { x: randomTensor([3, 4, 5], 6) }, 'qdq');
  });

  it('blocked quantisation (opset 21) and an int32 input dequantised', async () => {
    const g = new GraphBuilder('qdq_blocked');
    const x = g.input('x', 'float32', [4, 6]);
    const scale = g.init('s', positive(8), [4, 2]);
    const q = g.op('QuantizeLinear', [x, scale, g.init('z', new Int8Array(8).map(() => Math.floor(Math.random() * 9) - 4), [4, 2])],
      { axis: 1, block_size: 3 });
    g.output(q, 'int8');
    g.output(g.op('DequantizeLinear', [q, 's', 'z'], { axis: 1, block_size: 3 }), 'float32');
    const i = g.input('i', 'int32', [2, 3]);
    g.output(g.op('DequantizeLinear', [i, g.init('si', positive(3), [3]), g.init('zi', new Int32Array([5, -2, 0]), [3])], { axis: 1 }), 'float32');
    const ints = { type: 'int32' as const, dims: [2, 3], data: Int32Array.from({ length: 6 }, () => Math.floor(Math.random() * 2000) - 1000) };
    await expectOnDevice(g.build(21), { x: randomTensor([4, 6], 4), i: ints }, 'blocked');
  });
});
