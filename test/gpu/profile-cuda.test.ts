// engine.profile() on the CUDA backend: each node timed between events on its context's stream,
// CUDA graphs off while profiling, and the nodes left to the CPU marked as such. Outputs are checked
// against onnxruntime-node, so timing the steps must not change what they compute.
import { describe, expect, it } from 'vitest';

import { GraphBuilder } from '../fixtures/onnx-builder';
import { hs, ortRun, randomTensor } from '../helpers';
import { cuda, loadCuda, relErrorNaN } from './cuda-helpers';

function model(withCpuNode: boolean): Uint8Array {
  const b = new GraphBuilder('profiled');
  const x = b.input('x', 'float32', [16, 64]);
  const w = b.init('w', randomTensor([64, 64]).data as Float32Array, [64, 64]);
  let y = b.op('MatMul', [x, w]);
  if (withCpuNode) y = b.op('MeanVarianceNormalization', [y], { axes: [1] });  // no CUDA kernel
  y = b.op('Softmax', [y], { axis: -1 });
  b.output(b.op('ReduceSum', [y, b.init('axes', new BigInt64Array([1n]), [1])], { keepdims: 1 }), 'float32', [16, 1]);
  return b.build(17);
}

describe.skipIf(!cuda.available)('engine.profile() on CUDA', () => {
  for (const withCpuNode of [false, true]) {
    it(withCpuNode ? 'marks the node the CPU ran' : 'times every node on the device, without CUDA graphs', async () => {
      const onnx = model(withCpuNode);
      const engine = await loadCuda(onnx, { profile: true, streams: 2 });
      for (let i = 0; i < 3; i++) {
        const feeds = { x: randomTensor([16, 64]) };
        const [ours, ref] = await Promise.all([engine.run(feeds), ortRun(onnx, feeds)]);
        expect(relErrorNaN(ours[engine.outputNames[0]] as hs.Tensor, ref[engine.outputNames[0]])).toBeLessThan(1e-4);
      }
      const p = engine.profile();
      expect(p.runs).toBe(3);
      expect(p.nodes.map((n) => [n.op, n.device, n.calls])).toEqual([
        ['MatMul', 'cuda', 3], ...(withCpuNode ? [['MeanVarianceNormalization', 'cpu', 3]] : []), ['Softmax', 'cuda', 3], ['ReduceSum', 'cuda', 3],
      ]);
      for (const n of p.nodes) expect(n.totalMs).toBeGreaterThan(0);
      expect(p.nodes[0].inputShapes).toEqual([[16, 64], [64, 64]]);
      expect(engine.stats().cudaGraphs).toEqual({ captures: 0, replays: 0 });
      engine.dispose();
    });
  }
});
