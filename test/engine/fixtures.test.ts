// The models the fixtures write (CNN with BatchNorm and residuals, transformer encoder with an
// attention mask) against onnxruntime-node on fresh random inputs.
import { describe, expect, it } from 'vitest';

import { cnnModel, transformerModel } from '../fixtures/models';
import { hs, ortRun, randomTensor, relError } from '../helpers';

describe('fixture models match onnxruntime-node', () => {
  it.each([1, 3])('CNN, batch %i', async (batch) => {
    const model = cnnModel();
    const engine = await hs.Engine.load(model, { cacheDir: false, threads: 2 });
    const feeds = { input: randomTensor([batch, 3, 64, 64]) };
    const [ours, ref] = await Promise.all([engine.run(feeds), ortRun(model, feeds)]);
    const name = engine.outputNames[0];
    expect(ours[name].dims).toEqual(ref[name].dims);
    expect(relError(ours[name], ref[name])).toBeLessThan(1e-4);
    engine.dispose();
  });

  it.each([
    [1, 16],
    [2, 37],
  ])('transformer encoder, batch %i, seq %i, with padding', async (batch, seq) => {
    const model = transformerModel();
    const engine = await hs.Engine.load(model, { cacheDir: false, threads: 2 });
    const mask = new Float32Array(batch * seq).fill(1);
    for (let b = 1; b < batch; b++) for (let s = seq - 5; s < seq; s++) mask[b * seq + s] = 0; // padded tail
    const feeds = { x: randomTensor([batch, seq, 64]), mask: { type: 'float32' as const, dims: [batch, seq], data: mask } };
    const [ours, ref] = await Promise.all([engine.run(feeds), ortRun(model, feeds)]);
    const name = engine.outputNames[0];
    expect(ours[name].dims).toEqual(ref[name].dims);
    expect(relError(ours[name], ref[name])).toBeLessThan(1e-4);
    engine.dispose();
  });

  it('runs concurrently on several streams with the same results', async () => {
    const model = cnnModel();
    const engine = await hs.Engine.load(model, { cacheDir: false, threads: 2, streams: 3 });
    const feeds = Array.from({ length: 6 }, () => ({ input: randomTensor([2, 3, 64, 64]) }));
    const ours = await Promise.all(feeds.map((f) => engine.run(f)));
    const name = engine.outputNames[0];
    for (let i = 0; i < feeds.length; i++) {
      const ref = await ortRun(model, feeds[i]);
      expect(relError(ours[i][name], ref[name])).toBeLessThan(1e-4);
    }
    engine.dispose();
  });
});
