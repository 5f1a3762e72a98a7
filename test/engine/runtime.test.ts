// Work happens off the JS thread, and memory comes back: the event loop stays responsive during
// long runs, and load/run/dispose cycles keep the process's memory flat.
import { existsSync, readdirSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';

import { cnnModel } from '../fixtures/models';
import { hs, randomTensor } from '../helpers';

describe('runtime behaviour', () => {
  it('keeps the event loop free during long runs', async () => {
    const engine = await hs.Engine.load(cnnModel({ size: 128, width: 32 }), { cacheDir: false, threads: 1 });
    const feeds = { input: randomTensor([8, 3, 128, 128]) };
    await engine.run(feeds); // warm-up
    const histogram = monitorEventLoopDelay({ resolution: 1 });
    histogram.enable();
    const started = performance.now();
    let runs = 0;
    while (performance.now() - started < 1500) {
      await engine.run(feeds);
      runs++;
    }
    histogram.disable();
    const maxMs = histogram.max / 1e6;
    console.log(`${runs} runs in 1.5 s; event-loop delay p50 ${(histogram.percentile(50) / 1e6).toFixed(2)} ms, max ${maxMs.toFixed(2)} ms`);
    expect(histogram.percentile(99) / 1e6).toBeLessThan(20);
    engine.dispose();
  });

  it('counts completed runs (and, on the CPU, no device copies); stats() after dispose rejects', async () => {
    const engine = await hs.Engine.load(cnnModel(), { cacheDir: false, threads: 1 });
    for (let i = 0; i < 3; i++) await engine.run({ input: randomTensor([1, 3, 64, 64]) });
    expect(engine.stats()).toEqual({ runs: 3, copies: { hostToDevice: 0, deviceToHost: 0 }, cudaGraphs: { captures: 0, replays: 0 } });
    engine.dispose();
    expect(() => engine.stats()).toThrow(expect.objectContaining({ code: 'ERR_DISPOSED' }));
  });

  it('keeps memory flat over load/run/dispose cycles', async () => {
    const model = cnnModel();
    const feeds = { input: randomTensor([4, 3, 64, 64]) };
    const cycle = async () => {
      const engine = await hs.Engine.load(model, { cacheDir: false, threads: 1, streams: 2 });
      await Promise.all([engine.run(feeds), engine.run(feeds)]);
      engine.dispose();
    };
    const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
    const settle = async () => {
      // Outputs hand native memory to JS; it comes back when their finalizers run, a few ticks after gc.
      for (let i = 0; i < 4; i++) {
        gc();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    const threads = () => (existsSync('/proc/self/task') ? readdirSync('/proc/self/task').length : 0);
    // The heap and malloc's arenas take a few dozen cycles to reach their working size. After that a leak
    // shows in the exact count of bytes native tensors still own, in threads left behind, and in the bytes
    // malloc has handed out (the resident size is only printed: malloc keeping or trimming freed pages,
    // or V8 widening its young generation, moves it by tens of megabytes).
    for (let i = 0; i < 40; i++) await cycle();
    await settle();
    const rssBefore = process.memoryUsage().rss;
    const nativeBefore = hs.devices().memory;
    const threadsBefore = threads();
    for (let i = 0; i < 120; i++) await cycle();
    await settle();
    const nativeAfter = hs.devices().memory;
    const mallocGrownKb = ((nativeAfter.mallocBytes ?? 0) - (nativeBefore.mallocBytes ?? 0)) / 1024;
    console.log(`over 120 cycles: malloc in use grew ${mallocGrownKb.toFixed(1)} kB, rss ${((process.memoryUsage().rss - rssBefore) / 2 ** 20).toFixed(1)} MB; native tensors ${nativeBefore.hostBytes} -> ${nativeAfter.hostBytes} bytes; threads ${threadsBefore} -> ${threads()}`);
    expect(nativeAfter.hostBytes).toBe(nativeBefore.hostBytes);
    expect(nativeAfter.hostBuffers).toBe(nativeBefore.hostBuffers);
    expect(threads()).toBe(threadsBefore);
    if (process.platform === 'linux') expect(nativeAfter.mallocBytes).not.toBeNull(); // glibc 2.33+ here
    // Node and V8 allocate a few hundred bytes per cycle of their own; a loaded engine holds ~640 kB.
    expect(mallocGrownKb).toBeLessThan(120);
  });
});
