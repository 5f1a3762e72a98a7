// Shared by the CUDA engine suites: whether a device is here (and whether the addon was compiled with
// CUDA at all), engines forced onto 'cuda' with poisoned activations, and a NaN-aware comparison
// with onnxruntime-node (CPU), the independent reference.
import { expect } from 'vitest';

import { hs, ortRun } from '../helpers';

export const cuda = hs.devices().cuda;

// Every activation the CUDA backend allocates is filled with 0xFF bytes (NaN for floats) first, so an
// output element a kernel fails to write cannot match the reference. Read when a context is created.
process.env.HS_CUDA_POISON = '1';

export async function loadCuda(model: Uint8Array | string, options: hs.EngineOptions = {}): Promise<hs.Engine> {
  const engine = await hs.Engine.load(model, { cacheDir: false, threads: 2, ...options, device: 'cuda' });
  expect(engine.info.device).toBe('cuda');
  return engine;
}

/** max |a - b| / max |ref| over the elements where the reference is not NaN; NaN where it is NaN. */
export function relErrorNaN(actual: { data: unknown }, expected: { data: unknown }): number {
  const a = actual.data as ArrayLike<number>, e = expected.data as ArrayLike<number>;
  if (a.length !== e.length) return Infinity;
  let maxDiff = 0, maxRef = 0;
  for (let i = 0; i < e.length; i++) {
    if (Number.isNaN(e[i]) || Number.isNaN(a[i])) {
      if (!(Number.isNaN(e[i]) && Number.isNaN(a[i]))) return Infinity;
      continue;
    }
    if (a[i] === e[i]) continue;  // equal infinities
    maxDiff = Math.max(maxDiff, Math.abs(a[i] - e[i]));
    maxRef = Math.max(maxRef, Math.abs(e[i]));
  }
  return maxRef === 0 ? maxDiff : maxDiff / maxRef;
}

type Feeds = Record<string, hs.TensorLike>;

/**
 * Runs `model` on device 'cuda' and in onnxruntime-node on the same feeds; every output must have the
 * reference's dims and be within `bound` (floats; other types exactly). Returns the engine's info.
 */
export async function expectMatchesOrt(model: Uint8Array | string, feeds: Feeds, bound = 1e-4, label = '') {
  const engine = await loadCuda(model);
  try {
    const [ours, ref] = await Promise.all([engine.run(feeds), ortRun(model, feeds)]);
    for (const name of engine.outputNames) {
      const got = ours[name] as hs.Tensor;
      expect(got.dims, `${label} ${name} dims`).toEqual(ref[name].dims);
      if (got.type === 'float32') expect(relErrorNaN(got, ref[name]), `${label} ${name}`).toBeLessThan(bound);
      else expect(Array.from(got.data as ArrayLike<number>), `${label} ${name}`).toEqual(Array.from(ref[name].data as ArrayLike<number>));
    }
    return engine.info;
  } finally {
    engine.dispose();
  }
}
