// Pad (every mode, negative pads, axes, a constant value), Tile, Split and Trilu on device 'cuda'
// against onnxruntime-node on fresh random inputs, each model first checked to place wholly on the
// device (so a CPU fallback cannot pass for the kernel). The ONNX conformance cases of these
// operators run on the device in engine-cuda.test.ts too.
import { describe, expect, it } from 'vitest';

import { GraphBuilder } from '../fixtures/onnx-builder';
import { hs, randomTensor } from '../helpers';
import { cuda, expectMatchesOrt } from './cuda-helpers';

const withDevice = cuda.available ? describe : describe.skip;

async function expectOnDevice(model: Uint8Array, feeds: Record<string, hs.TensorLike>, label: string) {
  expect((await hs.cudaPlacement(model)).cpuNodes, label).toEqual([]);
  await expectMatchesOrt(model, feeds, 1e-7, label);
}

function padModel(dims: number[], pads: number[], mode: string, value: number | null, axes: number[] | null): Uint8Array {
  const g = new GraphBuilder('pad');
  const x = g.input('x', 'float32', dims);
  const inputs = [x, g.init('pads', BigInt64Array.from(pads.map(BigInt)), [pads.length])];
  inputs.push(value === null ? '' : g.init('value', Float32Array.from([value]), []));
  if (axes) inputs.push(g.init('axes', BigInt64Array.from(axes.map(BigInt)), [axes.length]));
  g.output(g.op('Pad', inputs, { mode }), 'float32');
  return g.build(axes ? 18 : 13);
}

withDevice('Pad, Tile, Split and Trilu on CUDA vs onnxruntime-node', () => {
  it.each([
    ['constant 2.5, both ends of two axes', [2, 3, 5, 4], [0, 0, 1, 2, 0, 0, 3, 1], 'constant', 2.5, null],
    ['constant, negative pads crop', [2, 3, 6, 5], [0, 1, -2, 1, 0, -1, 2, -1], 'constant', null, null],
    ['reflect', [1, 2, 5, 6], [0, 0, 2, 3, 0, 0, 4, 5], 'reflect', null, null],
    ['edge', [2, 2, 3, 4], [0, 0, 2, 1, 0, 0, 1, 3], 'edge', null, null],
    ['wrap on axes [2, 3] (opset 18)', [1, 2, 4, 5], [3, 1, 2, 6], 'wrap', null, [2, 3]],
  ])('Pad %s', async (label, dims, pads, mode, value, axes) => {
    await expectOnDevice(padModel(dims as number[], pads as number[], mode as string, value as number | null, axes as number[] | null),
      { x: randomTensor(dims as number[]) }, label as string);
  });

  it('Tile', async () => {
    const g = new GraphBuilder('tile');
    const x = g.input('x', 'float32', [2, 3, 4]);
    g.output(g.op('Tile', [x, g.init('repeats', BigInt64Array.from([3n, 1n, 2n]), [3])]), 'float32');
    await expectOnDevice(g.build(13), { x: randomTensor([2, 3, 4]) }, 'Tile');
  });

  it('Split into unequal parts along axis 1, and into equal ones', async () => {
    const g = new GraphBuilder('split');
    const x = g.input('x', 'float32', [3, 10, 4]);
    const [a, b, c] = g.node('Split', [x, g.init('split', BigInt64Array.from([2n, 5n, 3n]), [3])], { axis: 1 }, 3);
    const [d, e] = g.node('Split', [x], { axis: -1 }, 2);
    for (const o of [a, b, c, d, e]) g.output(o, 'float32');
    await expectOnDevice(g.build(13), { x: randomTensor([3, 10, 4]) }, 'Split');
  });

  it.each([
    ['upper, k = 1', 1, 1],
    ['lower, k = -2', 0, -2],
  ])('Trilu %s', async (label, upper, k) => {
    const g = new GraphBuilder('trilu');
    const x = g.input('x', 'float32', [2, 5, 7]);
    g.output(g.op('Trilu', [x, g.init('k', BigInt64Array.from([BigInt(k)]), [])], { upper }), 'float32');
    await expectOnDevice(g.build(14), { x: randomTensor([2, 5, 7]) }, label);
  });
});
