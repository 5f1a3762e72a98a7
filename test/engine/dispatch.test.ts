// Runs go to the engine's own threads (one per stream), not libuv's pool: with that pool taken by
// slow jobs, runs still finish, as many at once as there are streams. A run in flight keeps the
// process alive; an idle engine does not.
import { spawnSync } from 'node:child_process';
import { pbkdf2, pbkdf2Sync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { cnnModel } from '../fixtures/models';
import { hs, randomTensor } from '../helpers';

const poolSize = Number(process.env.UV_THREADPOOL_SIZE ?? 4);

/** Fills libuv's pool with jobs of about `ms` each (or more, on a loaded machine); resolves when all end. */
function occupyLibuvPool(ms: number): { ended: () => number; done: Promise<void> } {
  const t0 = performance.now();
  pbkdf2Sync('x', 'salt', 20_000, 32, 'sha256');
  const iterations = Math.ceil((20_000 * ms) / Math.max(1, performance.now() - t0));
  let ended = 0;
  const done = Promise.all(Array.from({ length: poolSize }, () => new Promise<void>((resolve, reject) =>
    pbkdf2('x', 'salt', iterations, 32, 'sha256', (err) => (err ? reject(err) : (ended++, resolve())))))).then(() => {});
  return { ended: () => ended, done };
}

describe('run dispatch', () => {
  it('runs while every libuv pool thread is busy, as many at once as there are streams', async () => {
    const streams = poolSize + 2;
    const engine = await hs.Engine.load(cnnModel(), { cacheDir: false, threads: 1, streams });
    const feeds = () => ({ input: randomTensor([1, 3, 64, 64]) });
    await engine.run(feeds());
    const pool = occupyLibuvPool(1500);
    // More concurrent runs than pool threads, then a few in sequence: none of them may wait for the pool.
    const outs = await Promise.all(Array.from({ length: streams }, () => engine.run(feeds())));
    for (let i = 0; i < 5; i++) outs.push(await engine.run(feeds()));
    expect(pool.ended()).toBe(0);
    expect(outs.every((o) => Object.values(o)[0].data.length > 0)).toBe(true);
    await pool.done;
    engine.dispose();
  });

  it('keeps the process alive while a run is in flight, and lets it exit when the engine is idle', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hs-dispatch-'));
    try {
      const model = path.join(dir, 'cnn.onnx');
      writeFileSync(model, cnnModel({ size: 128, width: 32 }));
      // Nothing but the run holds the event loop once the engine has loaded; the engine is never disposed.
      const script = `
        const { Engine } = require(${JSON.stringify(path.resolve('lib/index.js'))});
        Engine.load(${JSON.stringify(model)}, { cacheDir: false, threads: 1 }).then((engine) => {
          engine.run({ input: { type: 'float32', dims: [8, 3, 128, 128], data: new Float32Array(8 * 3 * 128 * 128) } })
            .then((out) => console.log('outputs', Object.keys(out).length));
        });`;
      const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
      expect(child.signal, 'the process did not exit by itself').toBeNull();
      expect(child.stderr).toBe('');
      expect(child.stdout.trim()).toBe('outputs 1');
      expect(child.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
