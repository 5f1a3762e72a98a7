// Runs go to the engine's own threads (one per stream), not libuv's pool: with that pool taken by
// slow jobs, runs still finish, as many at once as there are streams. A run in flight keeps the
// process alive; an idle engine does not.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { cnnModel } from '../fixtures/models';
import { hs, libuvPoolSize, occupyLibuvPool, randomTensor } from '../helpers';

describe('run dispatch', () => {
  it('runs while every libuv pool thread is busy, as many at once as there are streams', async () => {
    const streams = libuvPoolSize + 2;
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
