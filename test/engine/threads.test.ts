// Kernels whose work the thread pool splits (ConvTranspose's col2im, grouped and depthwise Conv,
// MatMul) give onnxruntime-node's results with more pool threads than cores, run after run: pool
// workers must only touch memory the caller hands them (a worker once read its own empty
// thread_local scratch and crashed).
import { describe, expect, it } from 'vitest';

import { GraphBuilder, randomFloats } from '../fixtures/onnx-builder';
import { hs, ortRun, randomTensor, relError } from '../helpers';

function upsamplerModel(): Uint8Array {
  const b = new GraphBuilder('upsampler');
  const x = b.input('x', 'float32', ['batch', 32, 20, 20]);
  const w1 = b.init('w1', randomFloats(32 * 64 * 2 * 2, 11, 0.1), [32, 64, 2, 2]);
  const up = b.op('ConvTranspose', [x, w1], { kernel_shape: [2, 2], strides: [2, 2] });
  const dw = b.init('dw', randomFloats(64 * 3 * 3, 12, 0.3), [64, 1, 3, 3]);
  const depthwise = b.op('Conv', [up, dw], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: 64 });
  const w2 = b.init('w2', randomFloats(16 * 16 * 3 * 3, 13, 0.1), [16, 16, 3, 3]);
  const grouped = b.op('Conv', [depthwise, w2], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: 4 });
  const m = b.init('m', randomFloats(40 * 40, 14, 0.05), [40, 40]);
  b.output(b.op('MatMul', [grouped, m]), 'float32', null);
  return b.build(17);
}

describe('multi-threaded kernels', () => {
  it.each([true, false])('match onnxruntime-node with 4 pool threads, 20 runs (spin %s)', async (spin) => {
    const model = upsamplerModel();
    const engine = await hs.Engine.load(model, { cacheDir: false, threads: 4, spin });
    const name = engine.outputNames[0];
    for (let i = 0; i < 20; i++) {
      const feeds = { x: randomTensor([1 + (i % 2), 32, 20, 20]) };
      const [ours, ref] = await Promise.all([engine.run(feeds), ortRun(model, feeds)]);
      expect(ours[name].dims).toEqual(ref[name].dims);
      expect(relError(ours[name], ref[name])).toBeLessThan(1e-4);
    }
    engine.dispose();
  });
});
