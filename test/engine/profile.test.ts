// engine.profile(): the time of each node of the optimised graph, over the runs of every stream, and
// `highservice bench --profile` printing it.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

import { describe, expect, it } from 'vitest';

import { GraphBuilder } from '../fixtures/onnx-builder';
import { hs, randomTensor } from '../helpers';

// A large MatMul, then two cheap nodes (that do not fuse into it) over its 64 x 1024 output.
function model(): Uint8Array {
  const b = new GraphBuilder('profiled');
  const x = b.input('x', 'float32', [64, 1024]);
  const w = b.init('w', randomTensor([1024, 1024]).data as Float32Array, [1024, 1024]);
  const y = b.op('Softmax', [b.op('MatMul', [x, w])], { axis: -1 });
  b.output(b.op('ReduceSum', [y, b.init('axes', new BigInt64Array([1n]), [1])], { keepdims: 1 }), 'float32', [64, 1]);
  return b.build(17);
}

describe('engine.profile()', () => {
  it('times every node of every run, the heavy one most, within the runs\' wall time; reset starts again', async () => {
    const engine = await hs.Engine.load(model(), { cacheDir: false, threads: 1, profile: true });
    const feeds = { x: randomTensor([64, 1024]) };
    const started = performance.now();
    for (let i = 0; i < 5; i++) await engine.run(feeds);
    const wallMs = performance.now() - started;
    const p = engine.profile();
    expect(p.nodes.map((n) => n.op)).toEqual(['MatMul', 'Softmax', 'ReduceSum']);
    expect(p.nodes.map((n) => n.inputShapes)).toEqual([[[64, 1024], [1024, 1024]], [[64, 1024]], [[64, 1024], [1]]]);
    expect(p.runs).toBe(5);
    for (const n of p.nodes) {
      expect(n).toMatchObject({ calls: 5, device: 'cpu' });
      expect(n.totalMs).toBeGreaterThan(0);
      expect(n.meanMs).toBeCloseTo(n.totalMs / 5, 9);
    }
    expect(p.totalMs).toBeLessThanOrEqual(wallMs);
    expect(p.nodes.reduce((sum, n) => sum + n.share, 0)).toBeCloseTo(1, 9);
    // 134 MFLOP against a softmax and a sum of 64 K values: the MatMul's share cannot be a small one.
    const [matmul, softmax, sum] = p.nodes;
    expect(matmul.totalMs).toBeGreaterThan(softmax.totalMs + sum.totalMs);

    expect(engine.profile({ reset: true }).runs).toBe(5);
    expect(engine.profile()).toMatchObject({ runs: 0, totalMs: 0 });
    await engine.run(feeds);
    expect(engine.profile().nodes.map((n) => n.calls)).toEqual([1, 1, 1]);
    engine.dispose();
    expect(() => engine.profile()).toThrow(expect.objectContaining({ code: 'ERR_DISPOSED' }));
  });

  it('adds up the streams\' runs', async () => {
    const engine = await hs.Engine.load(model(), { cacheDir: false, threads: 1, streams: 2, profile: true });
    await Promise.all(Array.from({ length: 6 }, () => engine.run({ x: randomTensor([64, 1024]) })));
    expect(engine.profile().nodes.map((n) => n.calls)).toEqual([6, 6, 6]);
    engine.dispose();
  });

  it('is refused for an engine loaded without it', async () => {
    const engine = await hs.Engine.load(model(), { cacheDir: false, threads: 1 });
    await engine.run({ x: randomTensor([64, 1024]) });
    expect(() => engine.profile()).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    engine.dispose();
  });

  it('highservice bench --profile prints the nodes by time and the time by operator', async () => {
    const main = path.resolve(__dirname, '../../lib/cli/main.js');
    const cnn = path.resolve(__dirname, '../../examples/models/cnn/1/model.onnx');
    const { stdout } = await promisify(execFile)(process.execPath, [main, 'bench', cnn, '--batch', '1', '--time', '200', '--threads', '1', '--profile'], { timeout: 60_000 });
    expect(stdout).toMatch(/batch 1, highservice's nodes:\n\d+ runs, the nodes [\d.]+ ms per run/);
    expect(stdout).toMatch(/\| Conv_\d+ \| hs\.FusedConv \| 1x\d+x\d+x\d+, \d+x\d+x3x3(, \d+)* \| cpu \| [\d.]+ \| [\d.]+ % \|/);
    expect(stdout).toMatch(/\| hs\.FusedConv \| 9 \| [\d.]+ \| [\d.]+ % \|/);
  });
});
