// The GEMM and convolution tactics of the CUDA backend, each one forced in turn (HS_CUDA_TACTIC) on
// every precision that offers it, against onnxruntime-node (float32, CPU) on fresh random inputs
// with poisoned activations: simt64 and cublaslt in fp32 (bound 1e-4); tc64, tc128, tc16, simt64 and
// cublaslt in fp16/bf16, where weights are stored in 16 bits (bounds 1e-2 / 3e-2). A forced tactic
// that is not a node's candidate (cuBLASLt absent, or a convolution) must show as timed without
// it. Then the build-time choice: every candidate must pass its own correctness check (a null
// timing means it failed it), symbolic shapes keep the default, and a cached plan must bring its
// choices back.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { float, GraphBuilder } from '../fixtures/onnx-builder';
import { hs, ortRun, randomTensor } from '../helpers';
import { cuda, loadCuda, relErrorNaN } from './cuda-helpers';

type Feeds = Record<string, hs.TensorLike>;
interface Case {
  name: string;
  model: Uint8Array;
  feeds: () => Feeds;
  conv?: boolean;
}

const weights = (b: GraphBuilder, name: string, dims: number[], scale = 1) => b.init(name, randomTensor(dims, scale).data, dims);
const cases: Case[] = [];
{
  const b = new GraphBuilder('linear-relu');
  const y = b.op('MatMul', [b.input('x', 'float32', [3, 50, 96]), weights(b, 'w', [96, 130])]);
  b.output(b.op('Relu', [b.op('Add', [y, weights(b, 'bias', [130])])]), 'float32', [3, 50, 130]);
  cases.push({ name: 'MatMul [3,50,96] x W[96,130] + bias + Relu (fused)', model: b.build(17), feeds: () => ({ x: randomTensor([3, 50, 96]) }) });
}
{
  const b = new GraphBuilder('batched');
  b.output(b.op('MatMul', [b.input('a', 'float32', [2, 3, 70, 40]), b.input('b', 'float32', [3, 40, 33])]), 'float32', null);
  cases.push({ name: 'MatMul of two activations, batch broadcast', model: b.build(17), feeds: () => ({ a: randomTensor([2, 3, 70, 40]), b: randomTensor([3, 40, 33]) }) });
}
{
  const b = new GraphBuilder('batched-linear');
  b.output(b.op('MatMul', [b.input('a', 'float32', [4, 64, 48]), b.input('b', 'float32', [4, 48, 80])]), 'float32', null);
  cases.push({ name: 'MatMul of two activations, strided batch', model: b.build(17), feeds: () => ({ a: randomTensor([4, 64, 48]), b: randomTensor([4, 48, 80]) }) });
}
{
  const b = new GraphBuilder('gemm-transb');
  b.output(b.op('Gemm', [b.input('x', 'float32', [33, 200]), weights(b, 'w', [72, 200]), weights(b, 'c', [72])],
    { transB: 1, alpha: float(0.5), beta: float(1) }), 'float32', [33, 72]);
  cases.push({ name: 'Gemm transB (nn.Linear layout), alpha, C', model: b.build(17), feeds: () => ({ x: randomTensor([33, 200]) }) });
}
{
  const b = new GraphBuilder('gemm-transa');
  b.output(b.op('Gemm', [b.input('x', 'float32', [1000, 64]), weights(b, 'w', [1000, 40], 0.1)], { transA: 1 }), 'float32', [64, 40]);
  cases.push({ name: 'Gemm transA, K=1000 (many K tiles, a partial last one)', model: b.build(17), feeds: () => ({ x: randomTensor([1000, 64]) }) });
}
{
  const b = new GraphBuilder('matmul-small-k');
  // Four rows, not one: the error is measured against the largest output, and with three outputs of
  // five products each, 16-bit rounding of the inputs passed the bf16 bound now and then (0.036).
  b.output(b.op('MatMul', [b.input('x', 'float32', [4, 5]), weights(b, 'w', [5, 3])]), 'float32', [4, 3]);
  cases.push({ name: 'MatMul 4x5 x 5x3 (K below one MMA step)', model: b.build(17), feeds: () => ({ x: randomTensor([4, 5]) }) });
}
{
  const b = new GraphBuilder('conv-relu');
  const y = b.op('Conv', [b.input('x', 'float32', [2, 16, 20, 20]), weights(b, 'w', [32, 8, 3, 3], 0.3), weights(b, 'cb', [32])],
    { group: 2, strides: [2, 1], pads: [1, 1, 0, 2] });
  b.output(b.op('Relu', [y]), 'float32', null);
  cases.push({ name: 'Conv 3x3 groups 2, strides, pads, bias + Relu', model: b.build(17), feeds: () => ({ x: randomTensor([2, 16, 20, 20]) }), conv: true });
}
{
  const b = new GraphBuilder('conv-1x1');
  b.output(b.op('Conv', [b.input('x', 'float32', [3, 40, 9, 9]), weights(b, 'w', [70, 40, 1, 1], 0.3)]), 'float32', null);
  cases.push({ name: 'Conv 1x1', model: b.build(17), feeds: () => ({ x: randomTensor([3, 40, 9, 9]) }), conv: true });
}

const bounds = { fp32: 1e-4, fp16: 1e-2, bf16: 3e-2 } as const;
const tacticsOf = { fp32: ['simt64', 'cublaslt'], fp16: ['tc64', 'tc128', 'tc16', 'simt64', 'cublaslt'], bf16: ['tc64', 'tc128', 'tc16', 'simt64', 'cublaslt'] } as const;
type Precision = keyof typeof bounds;
const runs: [Precision, string, Case][] = [];
for (const p of Object.keys(tacticsOf) as Precision[]) for (const t of tacticsOf[p]) for (const c of cases) runs.push([p, t, c]);
const forcedLt: boolean[] = [];

async function expectMatches(engine: hs.Engine, c: Case, bound: number, label: string) {
  for (let i = 0; i < 3; i++) {  // the second and third runs go through a CUDA graph where the plan allows
    const feeds = c.feeds();
    const [ours, ref] = await Promise.all([engine.run(feeds), ortRun(c.model, feeds)]);
    for (const name of engine.outputNames) {
      expect((ours[name] as hs.Tensor).dims, `${label} ${name} dims`).toEqual(ref[name].dims);
      expect(relErrorNaN(ours[name] as hs.Tensor, ref[name]), `${label} ${name} run ${i}`).toBeLessThan(bound);
    }
  }
}

describe.skipIf(!cuda.compiled)('tactic models place wholly on CUDA', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    expect((await hs.cudaPlacement(c.model)).cpuNodes).toEqual([]);
  });
});

describe.skipIf(!cuda.available)('GEMM and convolution tactics, each forced, vs onnxruntime-node', () => {
  afterEach(() => {
    delete process.env.HS_CUDA_TACTIC;
  });

  it.each(runs.map(([p, t, c]) => [p, t, c.name, c] as const))('%s %s: %s', async (precision, tactic, _, c) => {
    process.env.HS_CUDA_TACTIC = tactic;
    const engine = await loadCuda(c.model, { precision });
    delete process.env.HS_CUDA_TACTIC;
    try {
      const entries = engine.info.backend.tactics;  // nodes with a single candidate have none
      const sm = cuda.devices[0].sm;
      for (const e of entries) {
        if (e.how === 'forced') {
          expect(e.tactic).toBe(tactic);
        } else {
          // not a candidate here: cuBLASLt absent or a convolution, or tensor cores before sm_80
          expect(e.how).toBe('timed');
          expect(Object.keys(e.timingsMs)).not.toContain(tactic);
          expect(tactic === 'cublaslt' || (tactic.startsWith('tc') && sm < 80)).toBe(true);
        }
        if (tactic === 'cublaslt' && !c.conv) forcedLt.push(e.how === 'forced');
      }
      await expectMatches(engine, c, bounds[precision], `${precision} ${tactic}`);
    } finally {
      engine.dispose();
    }
  });

  it('cuBLASLt was a candidate where bench/gpu/engine.sh found the library', () => {
    if (process.env.HS_EXPECT_CUBLASLT === '1') expect(forcedLt.length > 0 && forcedLt.every(Boolean)).toBe(true);
    else console.log(`test/gpu/gemm-tactics: cuBLASLt forced on ${forcedLt.filter(Boolean).length} of ${forcedLt.length} GEMMs`);
  });
});

describe.skipIf(!cuda.available)('tactics chosen at build', () => {
  it.each(['fp32', 'fp16', 'bf16'] as const)('%s: every candidate passes its check and is timed; the fastest is chosen', async (precision) => {
    for (const c of cases) {
      const engine = await loadCuda(c.model, { precision });
      try {
        for (const e of engine.info.backend.tactics) {
          expect(e.how, `${c.name}: ${e.node}`).toBe('timed');
          const timings = Object.entries(e.timingsMs);
          // null: the candidate failed its correctness check (or errored) and was never chosen
          expect(timings.filter(([, ms]) => ms === null).map(([t]) => t), `${c.name}: ${e.node}`).toEqual([]);
          const fastest = timings.reduce((a, b) => ((b[1] as number) < (a[1] as number) ? b : a));
          expect(e.tactic).toBe(fastest[0]);
          if (precision !== 'fp32' && cuda.devices[0].sm >= 80) expect(Object.keys(e.timingsMs)).toEqual(expect.arrayContaining(['tc64', 'tc128', 'tc16']));
        }
        await expectMatches(engine, c, bounds[precision], `${precision} chosen`);
      } finally {
        engine.dispose();
      }
    }
  });

  it('a node whose shapes are symbolic at build keeps the default (nothing to time)', async () => {
    const b = new GraphBuilder('dynamic');
    b.output(b.op('MatMul', [b.input('x', 'float32', ['batch', 96]), weights(b, 'w', [96, 40])]), 'float32', null);
    const model = b.build(17);
    const engine = await loadCuda(model, { precision: 'fp16' });
    try {
      for (const e of engine.info.backend.tactics) {
        expect(e.how).toBe('default');
        expect(e.tactic).toBe(cuda.devices[0].sm >= 80 ? 'tc64' : 'simt64');
      }
      await expectMatches(engine, { name: 'dynamic', model, feeds: () => ({ x: randomTensor([7, 96]) }) }, bounds.fp16, 'dynamic');
    } finally {
      engine.dispose();
    }
  });

  it('the engine cache keeps the choices', async () => {
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-tactics-'));
    try {
      const c = cases[0];
      const built = await hs.Engine.load(c.model, { cacheDir, device: 'cuda', precision: 'fp16' });
      const first = built.info.backend.tactics;
      built.dispose();
      expect(first.every((e) => e.how === 'timed')).toBe(true);
      const cached = await hs.Engine.load(c.model, { cacheDir, device: 'cuda', precision: 'fp16' });
      expect(cached.info.cache).toBe('loaded from cache');
      expect(cached.info.backend.tactics.map((e) => [e.tactic, e.how])).toEqual(first.map((e) => [e.tactic, 'cached']));
      await expectMatches(cached, c, bounds.fp16, 'cached');
      cached.dispose();
    } finally {
      fs.rmSync(cacheDir, { recursive: true, force: true });
    }
  });
});
