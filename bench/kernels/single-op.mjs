// Helpers for the kernel benches: one-node ONNX models written with onnx-proto, and a timer that
// runs the same model through highservice (lib/, HS_ADDON_PATH picks the addon) and through
// onnxruntime-node on the same thread count, reporting median milliseconds per run.
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node');
const { onnx } = require('onnx-proto');
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

/** Deterministic values in [-1, 1). */
export function randomFloats(n, seed = 1) {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return (s / 0x7fffffff) * 2 - 1;
  });
}

function attribute(name, v) {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') return Number.isInteger(v) ? { name, type: T.INT, i: v } : { name, type: T.FLOAT, f: v };
  return { name, type: T.INTS, ints: v };
}

/**
 * A model with one node. inputs: [[name, dims]] fed at run time; initializers: [[name, dims, Float32Array]].
 */
export function singleOpModel({ op, domain = '', attrs = {}, inputs, initializers = [], inputNames, output = 'y' }) {
  const info = (name, dims) => ({
    name, type: { tensorType: { elemType: 1, shape: dims ? { dim: dims.map((d) => ({ dimValue: d })) } : undefined } },
  });
  const names = inputNames ?? [...inputs.map(([n]) => n), ...initializers.map(([n]) => n)];
  const model = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }, ...(domain ? [{ domain, version: 1 }] : [])],
    graph: {
      name: op,
      node: [{ opType: op, domain, name: 'n0', input: names, output: [output], attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)) }],
      input: inputs.map(([n, d]) => info(n, d)),
      output: [info(output, null)],
      initializer: initializers.map(([name, dims, data]) => ({ name, dataType: 1, dims, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) })),
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

// Median ms per run of each runner, sampled in alternation so that both see the same machine
// (a shared machine's load comes and goes). With `cpu`, the process's CPU time per run is measured
// instead of wall time: robust to other processes' load, meaningful on one thread only (a
// spinning pool would count its spins).
async function alternatingMedians(runners, cpu) {
  const clock = cpu ? () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; } : () => performance.now();
  const reps = [];
  for (const run of runners) {
    for (let i = 0; i < 5; i++) await run();
    const t0 = clock();
    await run();
    reps.push(Math.max(1, Math.min(500, Math.floor(30 / Math.max(clock() - t0, 1e-3)))));
  }
  const samples = runners.map(() => []);
  for (let s = 0; s < 9; s++) {
    for (let i = 0; i < runners.length; i++) {
      const t0 = clock();
      for (let r = 0; r < reps[i]; r++) await runners[i]();
      samples[i].push((clock() - t0) / reps[i]);
    }
  }
  return samples.map((v) => v.sort((a, b) => a - b)[4]);
}

const feedType = (data) => (data instanceof Uint8Array ? 'uint8' : data instanceof Int8Array ? 'int8' : 'float32');

/**
 * Median ms per run of `model` in highservice and in onnxruntime-node; feeds: { name: [dims, data] } with
 * data a Float32Array, Uint8Array or Int8Array. `cpu`: CPU time instead of wall time (use with threads = 1).
 */
export async function timeBoth(model, feeds, threads, cpu = false) {
  const { Engine } = require(path.join(root, 'lib/index.js'));
  const engine = await Engine.load(model, { threads, cacheDir: false });
  const ours = Object.fromEntries(Object.entries(feeds).map(([n, [dims, data]]) => [n, { type: feedType(data), dims, data }]));
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3,
  });
  const theirs = Object.fromEntries(Object.entries(feeds).map(([n, [dims, data]]) => [n, new ort.Tensor(feedType(data), data, dims)]));
  const [hs, ortMs] = await alternatingMedians([() => engine.run(ours), () => session.run(theirs)], cpu);
  engine.dispose();
  await session.release();
  return { hs, ort: ortMs };
}
