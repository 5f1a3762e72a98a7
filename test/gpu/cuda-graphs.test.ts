// CUDA graphs: a shape's second run captures its work, later runs replay it, a new shape captures
// again, the cache per context is bounded, and a node on the CPU or cudaGraphs: false turns them
// off. Every run is checked against onnxruntime-node on fresh inputs with poisoned activations, so
// a replay that read stale inputs or left an output unwritten fails.
import { describe, expect, it } from 'vitest';

import { cnnModel, transformerModel } from '../fixtures/models';
import { GraphBuilder } from '../fixtures/onnx-builder';
import { hs, ortRun, randomTensor } from '../helpers';
import { cuda, loadCuda, relErrorNaN } from './cuda-helpers';

type Feeds = Record<string, hs.TensorLike>;

async function runChecked(engine: hs.Engine, model: Uint8Array, feeds: Feeds, bound = 1e-4) {
  const [ours, ref] = await Promise.all([engine.run(feeds), ortRun(model, feeds)]);
  for (const name of engine.outputNames) expect(relErrorNaN(ours[name] as hs.Tensor, ref[name]), name).toBeLessThan(bound);
}

function encoderFeeds(batch: number, seq: number) {
  const mask = new Float32Array(batch * seq).fill(1);
  for (let s = seq - 3; s < seq; s++) mask[s] = 0;
  return { x: randomTensor([batch, seq, 64]), mask: { type: 'float32' as const, dims: [batch, seq], data: mask } };
}

describe.skipIf(!cuda.compiled)('cudaGraphs option', () => {
  it('must be a boolean', async () => {
    const b = new GraphBuilder('relu');
    b.output(b.op('Relu', [b.input('x', 'float32', [2])]), 'float32', [2]);
    await expect(hs.Engine.load(b.build(17), { cacheDir: false, cudaGraphs: 1 as unknown as boolean })).rejects.toThrow(/cudaGraphs/);
  });
});

describe.skipIf(!cuda.available)('CUDA graphs', () => {
  it('captures on the second run of a shape and replays after; a new shape captures again', async () => {
    const model = cnnModel();
    const engine = await loadCuda(model);
    for (let i = 0; i < 4; i++) await runChecked(engine, model, { input: randomTensor([2, 3, 64, 64]) });
    expect(engine.stats().cudaGraphs).toEqual({ captures: 1, replays: 2 });
    for (let i = 0; i < 3; i++) await runChecked(engine, model, { input: randomTensor([5, 3, 64, 64]) });
    await runChecked(engine, model, { input: randomTensor([2, 3, 64, 64]) });
    expect(engine.stats().runs).toBe(8);
    // every run but each shape's first went through a graph; the larger shape may have moved the
    // arena, which drops the first shape's graph, and then that shape captures again
    const { captures, replays } = engine.stats().cudaGraphs;
    expect(captures + replays).toBe(6);
    expect(captures).toBeGreaterThanOrEqual(2);
    engine.dispose();
  });

  it('the transformer encoder (FlashAttention in fp16) replays within its rounding', async () => {
    const model = transformerModel();
    const engine = await loadCuda(model, { precision: 'fp16' });
    for (let i = 0; i < 4; i++) await runChecked(engine, model, encoderFeeds(2, 24), 1e-2);
    const { captures, replays } = engine.stats().cudaGraphs;
    console.log(`encoder fp16: ${captures} capture(s), ${replays} replay(s)`);
    expect(captures + replays).toBe(3);
    engine.dispose();
  });

  it('keeps at most 16 graphs per context', async () => {
    const b = new GraphBuilder('dyn');
    b.output(b.op('Sigmoid', [b.op('Relu', [b.input('x', 'float32', ['n', 8])])]), 'float32', null);
    const model = b.build(17);
    const engine = await loadCuda(model);
    for (let n = 1; n <= 17; n++) for (let r = 0; r < 2; r++) await runChecked(engine, model, { x: randomTensor([n, 8]) });
    expect(engine.stats().cudaGraphs.captures).toBe(17);
    await runChecked(engine, model, { x: randomTensor([1, 8]) });  // evicted: runs without a graph
    await runChecked(engine, model, { x: randomTensor([17, 8]) });  // still cached: replays
    expect(engine.stats().cudaGraphs).toEqual({ captures: 17, replays: 1 });
    engine.dispose();
  });

  it('runs on several streams, each context with its own graphs', async () => {
    const model = cnnModel();
    const engine = await loadCuda(model, { streams: 2 });
    for (let i = 0; i < 3; i++)
      await Promise.all([0, 1].map(() => runChecked(engine, model, { input: randomTensor([3, 3, 64, 64]) })));
    const { captures, replays } = engine.stats().cudaGraphs;
    expect(captures + replays).toBeGreaterThanOrEqual(4);  // all but each context's first run
    engine.dispose();
  });

  it('is off with cudaGraphs: false', async () => {
    const model = cnnModel();
    const engine = await loadCuda(model, { cudaGraphs: false });
    for (let i = 0; i < 3; i++) await runChecked(engine, model, { input: randomTensor([2, 3, 64, 64]) });
    expect(engine.stats().cudaGraphs).toEqual({ captures: 0, replays: 0 });
    engine.dispose();
  });
});
