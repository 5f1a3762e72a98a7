// The dynamic batcher against a fake runner (fake timers for the queue delay and timeouts), then
// once against a real Engine compared with onnxruntime-node.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { GraphBuilder, randomFloats } from '../fixtures/onnx-builder';
import { FP32_ORDER_TOLERANCE, hs, ortRun, randomTensor, relError } from '../helpers';

type Feeds = Record<string, hs.TensorLike>;

/** Doubles `x`; records each batch's rows and resolves when told to (or at once). */
class FakeRunner {
  batches: number[] = [];
  private pending: (() => void)[] = [];
  constructor(private readonly manual = false) {}
  run(feeds: Feeds): Promise<Record<string, hs.Tensor>> {
    const x = feeds.x;
    this.batches.push(x.dims[0]);
    const out = new hs.Tensor('float32', (x.data as Float32Array).map((v) => v * 2), x.dims);
    if (!this.manual) return Promise.resolve({ y: out });
    return new Promise((resolve) => this.pending.push(() => resolve({ y: out })));
  }
  finishAll(): void {
    for (const f of this.pending.splice(0)) f();
  }
}

const rowsOf = (n: number, start: number, cols = 2): Feeds => ({
  x: new hs.Tensor('float32', Float32Array.from({ length: n * cols }, (_, i) => start + i), [n, cols]),
});

describe('DynamicBatcher (fake runner)', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'] }));
  afterEach(() => vi.useRealTimers());

  it('sends at once when maxBatchSize is reached, and splits outputs back per request', async () => {
    const runner = new FakeRunner();
    const batcher = new hs.DynamicBatcher(runner, { maxBatchSize: 4, maxQueueDelayMs: 100 });
    const results = Promise.all([0, 1, 2, 3].map((i) => batcher.run(rowsOf(1, i * 10))));
    await vi.advanceTimersByTimeAsync(0);
    expect(runner.batches).toEqual([4]);
    const outs = await results;
    outs.forEach((o, i) => {
      expect(o.y.dims).toEqual([1, 2]);
      expect(Array.from(o.y.data as Float32Array)).toEqual([i * 20, i * 20 + 2]);
    });
  });

  it('waits maxQueueDelayMs for a batch to fill, then sends what is there', async () => {
    const runner = new FakeRunner();
    const batcher = new hs.DynamicBatcher(runner, { maxBatchSize: 8, maxQueueDelayMs: 50 });
    const a = batcher.run(rowsOf(1, 0));
    await vi.advanceTimersByTimeAsync(20);
    const b = batcher.run(rowsOf(2, 100));
    await vi.advanceTimersByTimeAsync(20);
    expect(runner.batches).toEqual([]);
    await vi.advanceTimersByTimeAsync(10);
    expect(runner.batches).toEqual([3]);
    expect((await b).y.dims).toEqual([2, 2]);
    expect(Array.from((await a).y.data as Float32Array)).toEqual([0, 2]);
  });

  it('sends a preferred batch size without waiting for the delay', async () => {
    const runner = new FakeRunner();
    const batcher = new hs.DynamicBatcher(runner, { maxBatchSize: 16, preferredBatchSizes: [2, 4], maxQueueDelayMs: 1000 });
    const all = [0, 1, 2, 3, 4].map((i) => batcher.run(rowsOf(1, i)));
    await vi.advanceTimersByTimeAsync(0);
    expect(runner.batches).toEqual([4]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(runner.batches).toEqual([4, 1]);
    await Promise.all(all);
  });

  it('batches requests that queued while the execution slot was busy', async () => {
    const runner = new FakeRunner(true);
    const batcher = new hs.DynamicBatcher(runner, { maxBatchSize: 8, maxQueueDelayMs: 0, maxConcurrentBatches: 1 });
    const first = batcher.run(rowsOf(1, 0));
    await vi.advanceTimersByTimeAsync(0);
    const rest = [1, 2, 3].map((i) => batcher.run(rowsOf(1, i)));
    await vi.advanceTimersByTimeAsync(0);
    expect(runner.batches).toEqual([1]);
    runner.finishAll();
    await first;
    await vi.advanceTimersByTimeAsync(0);
    expect(runner.batches).toEqual([1, 3]);
    runner.finishAll();
    await Promise.all(rest);
  });

  it('serves higher priority first and runs shape-incompatible requests in separate batches', async () => {
    const runner = new FakeRunner(true);
    const batcher = new hs.DynamicBatcher(runner, { maxBatchSize: 8, priorityLevels: 2, maxConcurrentBatches: 1 });
    const blocker = batcher.run(rowsOf(1, 0));
    await vi.advanceTimersByTimeAsync(0);
    const low = batcher.run(rowsOf(1, 0, 2), { priority: 2 });
    const wide = batcher.run(rowsOf(1, 0, 3), { priority: 1 });
    const high = batcher.run(rowsOf(2, 0, 2), { priority: 1 });
    runner.finishAll();
    await blocker;
    await vi.advanceTimersByTimeAsync(0);
    // The head is the oldest priority-1 request (3 columns): it cannot batch with the 2-column ones.
    expect(runner.batches).toEqual([1, 1]);
    runner.finishAll();
    await wide;
    await vi.advanceTimersByTimeAsync(0);
    expect(runner.batches).toEqual([1, 1, 3]);
    runner.finishAll();
    expect((await high).y.dims).toEqual([2, 2]);
    expect((await low).y.dims).toEqual([1, 2]);
  });

  it('rejects with ERR_QUEUE_FULL when the bounded queue is full', async () => {
    const runner = new FakeRunner(true);
    const batcher = new hs.DynamicBatcher(runner, { maxBatchSize: 2, maxQueueSize: 2, maxConcurrentBatches: 1 });
    const running = batcher.run(rowsOf(2, 0));
    await vi.advanceTimersByTimeAsync(0);
    const queued = [batcher.run(rowsOf(1, 0)), batcher.run(rowsOf(1, 1))];
    await expect(batcher.run(rowsOf(1, 2))).rejects.toMatchObject({ code: 'ERR_QUEUE_FULL' });
    expect(hs.httpStatusOf('ERR_QUEUE_FULL')).toBe(429);
    runner.finishAll();
    await running;
    await vi.advanceTimersByTimeAsync(0);
    runner.finishAll();
    await Promise.all(queued);
  });

  it('times out a request that waited too long, and leaves the others alone', async () => {
    const runner = new FakeRunner(true);
    const batcher = new hs.DynamicBatcher(runner, { maxBatchSize: 4, maxConcurrentBatches: 1 });
    const running = batcher.run(rowsOf(1, 0));
    await vi.advanceTimersByTimeAsync(0);
    const impatient = batcher.run(rowsOf(1, 1), { timeoutMs: 30 });
    const patient = batcher.run(rowsOf(1, 2));
    const check = expect(impatient).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    await vi.advanceTimersByTimeAsync(31);
    await check;
    expect(batcher.stats().queued).toBe(1);
    runner.finishAll();
    await running;
    await vi.advanceTimersByTimeAsync(0);
    expect(runner.batches).toEqual([1, 1]);
    runner.finishAll();
    await patient;
  });

  it('fails every request of a batch whose run fails, and keeps serving', async () => {
    let fail = true;
    const runner = {
      run: async (feeds: Feeds) => {
        if (fail) throw new hs.HsError('ERR_SHAPE', 'bad');
        return { y: feeds.x as hs.Tensor };
      },
    };
    const batcher = new hs.DynamicBatcher(runner, { maxBatchSize: 4 });
    const both = [batcher.run(rowsOf(1, 0)), batcher.run(rowsOf(1, 1))];
    await expect(both[0]).rejects.toMatchObject({ code: 'ERR_SHAPE' });
    await expect(both[1]).rejects.toMatchObject({ code: 'ERR_SHAPE' });
    fail = false;
    expect((await batcher.run(rowsOf(1, 5))).y.dims).toEqual([1, 2]);
  });

  it('close() drains queued and in-flight requests, then refuses new ones', async () => {
    const runner = new FakeRunner();
    const batcher = new hs.DynamicBatcher(runner, { maxBatchSize: 4, maxQueueDelayMs: 20 });
    const queued = batcher.run(rowsOf(1, 0));
    const closed = batcher.close();
    await vi.advanceTimersByTimeAsync(20);
    await closed;
    await queued;
    await expect(batcher.run(rowsOf(1, 0))).rejects.toMatchObject({ code: 'ERR_SHUTTING_DOWN' });
  });
});

describe('DynamicBatcher with a real Engine', () => {
  it('batched outputs equal onnxruntime-node run request by request', async () => {
    const b = new GraphBuilder('mlp');
    const x = b.input('x', 'float32', ['batch', 16]);
    const w = b.init('w', randomFloats(16 * 8, 7, 0.5), [16, 8]);
    const bias = b.init('bias', randomFloats(8, 8, 0.5), [8]);
    const y = b.op('Relu', [b.op('Add', [b.op('MatMul', [x, w]), bias])]);
    b.output(y, 'float32', ['batch', 8]);
    const model = b.build();
    const engine = await hs.Engine.load(model, { cacheDir: false, threads: 1 });
    const seen: number[] = [];
    const batcher = new hs.DynamicBatcher(engine, { maxBatchSize: 8, maxQueueDelayMs: 5, observer: { batchStarted: (rows) => seen.push(rows) } });
    const inputs = Array.from({ length: 6 }, (_, i) => randomTensor([1 + (i % 2), 16]));
    const outs = await Promise.all(inputs.map((t) => batcher.run({ x: t })));
    expect(Math.max(...seen)).toBeGreaterThan(1);
    for (let i = 0; i < inputs.length; i++) {
      const ref = await ortRun(model, { x: inputs[i] });
      expect(outs[i][y].dims).toEqual(ref[y].dims);
      expect(relError(outs[i][y], ref[y])).toBeLessThan(FP32_ORDER_TOLERANCE);
    }
    await batcher.close();
    engine.dispose();
  });
});
