// Shared by the test suites: the package as users load it (lib/, which `npm test` builds first), onnxruntime-node
// as the independent reference, and comparisons of outputs.
import { pbkdf2, pbkdf2Sync } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';

import * as ort from 'onnxruntime-node';
import { expect } from 'vitest';

import * as lib from '../lib/index';
import type { Tensor, TensorLike } from '../lib/index';

export * as hs from '../lib/index';
export { ort };

/** A file inside an installed package (found through node_modules: some packages' `exports` hide their files). */
export function pkgFile(pkg: string, file: string): string {
  const dir = (require.resolve.paths(pkg) ?? []).map((p) => path.join(p, pkg)).find((d) => existsSync(path.join(d, 'package.json')));
  if (!dir) throw new Error(`package ${pkg} is not installed`);
  return path.join(dir, file);
}

/** Runs a model in onnxruntime-node (same threads) and returns its outputs as plain tensors. */
export async function ortRun(
  model: Uint8Array | string,
  feeds: Record<string, TensorLike>,
  threads = 1,
  graphOptimizationLevel: 'all' | 'disabled' = 'all',
) {
  const session = await ort.InferenceSession.create(model as Uint8Array, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel,
  });
  const ortFeeds: Record<string, ort.Tensor> = {};
  for (const [k, t] of Object.entries(feeds))
    ortFeeds[k] = new ort.Tensor(t.type as 'float32', t.data as Float32Array, t.dims as number[]);
  const out = await session.run(ortFeeds);
  await session.release();
  return out;
}

/**
 * Runs `model` once in onnxruntime-node and in the engine (CPU) at each thread count on the same feeds;
 * every output must have the reference's dims and a relError below `bound`.
 */
export async function expectCpuMatchesOrt(model: Uint8Array, feeds: Record<string, TensorLike>, threadCounts: number[], label = '', bound = 1e-5) {
  const ref = await ortRun(model, feeds);
  for (const threads of threadCounts) {
    const engine = await lib.Engine.load(model, { cacheDir: false, threads });
    try {
      const ours = await engine.run(feeds);
      for (const name of engine.outputNames) {
        expect(ours[name], `${label}${name}`).not.toBeNull();
        expect((ours[name] as Tensor).dims, `${label}${name} dims`).toEqual(ref[name].dims);
        expect(relError(ours[name] as Tensor, ref[name]), `${label}${name}, ${threads} threads`).toBeLessThan(bound);
      }
    } finally {
      engine.dispose();
    }
  }
}

/** max |a - b| / (max |b| + eps): a scale-free error, for float outputs. */
export function relError(actual: Tensor | TensorLike, expected: { data: unknown; dims: readonly number[] }): number {
  const a = actual.data as Float32Array;
  const e = expected.data as Float32Array;
  if (a.length !== e.length) return Infinity;
  let maxDiff = 0, maxRef = 0;
  for (let i = 0; i < e.length; i++) {
    const d = Math.abs(a[i] - e[i]);
    if (Number.isNaN(d)) return Infinity;
    maxDiff = Math.max(maxDiff, d);
    maxRef = Math.max(maxRef, Math.abs(e[i]));
  }
  return maxDiff / (maxRef + 1e-12);
}

/**
 * Bound on relError for float32 results that differ from the reference only in summation order. A Relu
 * can leave a row whose largest output is far below the size of its dot products, so order alone passed
 * 1e-5 (1.1e-5 in CI); a wrong row, weight or batch split is off by order one.
 */
export const FP32_ORDER_TOLERANCE = 1e-4;

/** Fresh random floats (a new seed every call: each test run checks new inputs). */
export function randomTensor(dims: number[], scale = 1): { type: 'float32'; dims: number[]; data: Float32Array } {
  const n = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = (Math.random() * 2 - 1) * scale;
  return { type: 'float32', dims, data };
}

export const libuvPoolSize = Number(process.env.UV_THREADPOOL_SIZE ?? 4);

/** Fills libuv's pool with jobs of about `ms` each (or more, on a loaded machine); resolves when all end. */
export function occupyLibuvPool(ms: number): { ended: () => number; done: Promise<void> } {
  const t0 = performance.now();
  pbkdf2Sync('x', 'salt', 20_000, 32, 'sha256');
  const iterations = Math.ceil((20_000 * ms) / Math.max(1, performance.now() - t0));
  let ended = 0;
  const done = Promise.all(Array.from({ length: libuvPoolSize }, () => new Promise<void>((resolve, reject) =>
    pbkdf2('x', 'salt', iterations, 32, 'sha256', (err) => (err ? reject(err) : (ended++, resolve())))))).then(() => {});
  return { ended: () => ended, done };
}
