// A batch of zero images is an empty result, as onnxruntime-node gives, not an error.
import { expect, it } from 'vitest';

import { cnnModel } from '../fixtures/models';
import { hs, ortRun } from '../helpers';

it('CNN (convolutions, BatchNorm, GlobalAveragePool, Gemm) at batch 0', async () => {
  const model = cnnModel();
  const engine = await hs.Engine.load(model, { cacheDir: false, threads: 2 });
  const feeds = { input: { type: 'float32' as const, dims: [0, 3, 64, 64], data: new Float32Array(0) } };
  const [ours, ref] = await Promise.all([engine.run(feeds), ortRun(model, feeds)]);
  const name = engine.outputNames[0];
  expect(ours[name].dims).toEqual(ref[name].dims);
  expect(ours[name].data.length).toBe(0);
  engine.dispose();
});
