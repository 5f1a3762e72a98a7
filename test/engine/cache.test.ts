// The engine cache: a hit skips the build, a key change rebuilds, a damaged file is rebuilt, and
// concurrent loads from several processes all succeed.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

import { transformerModel } from '../fixtures/models';
import { hs, randomTensor, relError } from '../helpers';

const tmpCache = () => fs.mkdtempSync(path.join(os.tmpdir(), 'hs-cache-'));
const planFiles = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.hsplan'));

describe('engine cache', () => {
  it('hits on the second load, skipping the build, with identical outputs', async () => {
    const cacheDir = tmpCache();
    const model = transformerModel();
    const first = await hs.Engine.load(model, { cacheDir, threads: 1 });
    expect(first.info.cache).toBe('built, cached');
    expect(planFiles(cacheDir)).toHaveLength(1);
    const second = await hs.Engine.load(model, { cacheDir, threads: 1 });
    expect(second.info.cache).toBe('loaded from cache');
    console.log(`load: build ${first.info.loadMs.toFixed(1)} ms, cache hit ${second.info.loadMs.toFixed(1)} ms`);
    const feeds = { x: randomTensor([2, 9, 64]), mask: { type: 'float32' as const, dims: [2, 9], data: new Float32Array(18).fill(1) } };
    const [a, b] = await Promise.all([first.run(feeds), second.run(feeds)]);
    expect(relError(b[first.outputNames[0]], a[first.outputNames[0]])).toBe(0);
    first.dispose();
    second.dispose();
  });

  it('rebuilds when a key part changes', async () => {
    const cacheDir = tmpCache();
    const model = transformerModel();
    (await hs.Engine.load(model, { cacheDir })).dispose();
    const other = await hs.Engine.load(model, { cacheDir, optimizationLevel: 1 });
    expect(other.info.cache).toBe('built, cached');
    other.dispose();
    const changed = transformerModel({ layers: 1 });
    const third = await hs.Engine.load(changed, { cacheDir });
    expect(third.info.cache).toBe('built, cached');
    third.dispose();
    expect(planFiles(cacheDir)).toHaveLength(3);
  });

  it.each([
    ['truncated', (b: Buffer) => b.subarray(0, b.length >> 1)],
    ['bit-flipped', (b: Buffer) => { const c = Buffer.from(b); c[c.length >> 1] ^= 0x5a; return c; }],
    ['garbage', (b: Buffer) => Buffer.alloc(b.length, 7)],
    ['empty', () => Buffer.alloc(0)],
  ])('rebuilds a %s cache file instead of trusting it', async (_, damage) => {
    const cacheDir = tmpCache();
    const model = transformerModel();
    (await hs.Engine.load(model, { cacheDir })).dispose();
    const file = path.join(cacheDir, planFiles(cacheDir)[0]);
    fs.writeFileSync(file, damage(fs.readFileSync(file)));
    const engine = await hs.Engine.load(model, { cacheDir });
    expect(engine.info.cache).toBe('built, cached');
    const again = await hs.Engine.load(model, { cacheDir });
    expect(again.info.cache).toBe('loaded from cache');
    engine.dispose();
    again.dispose();
  });

  it('lets two processes load the same model at once', async () => {
    const cacheDir = tmpCache();
    const modelPath = path.join(cacheDir, 'model.onnx');
    fs.writeFileSync(modelPath, transformerModel({ layers: 4 }));
    const script = `
      const { Engine } = require(${JSON.stringify(path.resolve(__dirname, '../../lib/index.js'))});
      Engine.load(process.argv[1], { cacheDir: process.argv[2] })
        .then((e) => { console.log(e.info.cache); e.dispose(); })
        .catch((e) => { console.error(e.code, e.message); process.exit(1); });`;
    const run = () => promisify(execFile)(process.execPath, ['-e', script, modelPath, cacheDir], { env: process.env });
    const results = await Promise.all([run(), run(), run()]);
    for (const r of results) expect(r.stdout.trim()).toMatch(/^(built, cached|loaded from cache)$/);
    expect(planFiles(cacheDir)).toHaveLength(1);
    expect(fs.readdirSync(cacheDir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });
});
