// Einsum on device 'cuda' against onnxruntime-node on fresh random inputs: contractions read in place
// (matrix products, attention scores with a transposed operand), operands that need a permuting copy,
// labels summed out of one input first, diagonals, traces, broadcast dimensions, ellipses, implicit
// outputs and chains of three inputs; each model first checked to place wholly on the device.
import { describe, expect, it } from 'vitest';

import { GraphBuilder } from '../fixtures/onnx-builder';
import { hs, ortRun, randomTensor } from '../helpers';
import { cuda, expectMatchesOrt, loadCuda, relErrorNaN } from './cuda-helpers';

const withDevice = cuda.available ? describe : describe.skip;

function einsumModel(equation: string, shapes: number[][]) {
  const g = new GraphBuilder('einsum');
  const inputs = shapes.map((dims, i) => g.input(`x${i}`, 'float32', dims));
  g.output(g.op('Einsum', inputs, { equation }), 'float32');
  return g.build(13);
}

const feedsFor = (shapes: number[][]) => Object.fromEntries(shapes.map((dims, i) => [`x${i}`, randomTensor(dims)]));

const cases: [string, number[][]][] = [
  ['ij,jk->ik', [[5, 7], [7, 3]]],
  ['bhqd,bhkd->bhqk', [[2, 3, 5, 8], [2, 3, 6, 8]]],
  ['bhqk,bhkd->bhqd', [[2, 3, 5, 6], [2, 3, 6, 8]]],
  ['bij,bjk', [[3, 4, 5], [3, 5, 2]]],
  ['ikj,jkl->il', [[4, 3, 5], [5, 3, 2]]],  // B's contracted labels k, j do not flatten in A's order: a copy
  ['ijk,jl->il', [[3, 4, 5], [4, 6]]],  // k is summed out of the first input before the product
  ['i,j->ij', [[4], [6]]],
  ['i,i->', [[9], [9]]],
  ['ij,ij->ij', [[3, 1], [3, 4]]],  // a size-1 dimension broadcast
  ['...ij,...jk->...ik', [[2, 1, 3, 4], [1, 5, 4, 6]]],
  ['iij,jk->ik', [[4, 4, 3], [3, 5]]],
  ['ij,jk,kl->il', [[3, 4], [4, 5], [5, 2]]],
  ['abc,cd,de->abe', [[2, 3, 4], [4, 5], [5, 6]]],
  ['ij->ji', [[5, 6]]],
  ['ii->i', [[5, 5]]],
  ['ii', [[6, 6]]],
  ['ijk->', [[3, 4, 5]]],
  ['ijk->ki', [[3, 4, 5]]],
];

withDevice('Einsum on CUDA vs onnxruntime-node', () => {
  it.each(cases)('%s on %j', async (equation, shapes) => {
    const model = einsumModel(equation, shapes);
    expect((await hs.cudaPlacement(model)).cpuNodes, equation).toEqual([]);
    await expectMatchesOrt(model, feedsFor(shapes), 1e-5, equation);
  });

  it('runs in precision fp16 within fp16 rounding', async () => {
    const shapes = [[2, 4, 16, 32], [2, 4, 24, 32]];
    const model = einsumModel('bhqd,bhkd->bhqk', shapes);
    const engine = await loadCuda(model, { precision: 'fp16' });
    try {
      const feeds = feedsFor(shapes);
      const [ours, ref] = await Promise.all([engine.run(feeds), ortRun(model, feeds)]);
      const name = engine.outputNames[0];
      expect(relErrorNaN(ours[name] as hs.Tensor, ref[name])).toBeLessThan(1e-2);
    } finally {
      engine.dispose();
    }
  });

  it('rejects inputs whose label sizes disagree with ERR_SHAPE, and runs again', async () => {
    const g = new GraphBuilder('einsum_dynamic');
    const a = g.input('x0', 'float32', ['m', 'k']);
    const b = g.input('x1', 'float32', ['k2', 'n']);
    g.output(g.op('Einsum', [a, b], { equation: 'ij,jk->ik' }), 'float32');
    const model = g.build(13);
    const engine = await loadCuda(model);
    try {
      await expect(engine.run({ x0: randomTensor([3, 4]), x1: randomTensor([5, 2]) })).rejects.toMatchObject({ code: 'ERR_SHAPE' });
      const feeds = feedsFor([[3, 4], [4, 2]]);
      const [ours, ref] = await Promise.all([engine.run(feeds), ortRun(model, feeds)]);
      expect(relErrorNaN(ours[engine.outputNames[0]] as hs.Tensor, ref[engine.outputNames[0]])).toBeLessThan(1e-5);
    } finally {
      engine.dispose();
    }
  });
});
