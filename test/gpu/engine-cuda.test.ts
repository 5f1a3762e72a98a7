// The Engine on device 'cuda' against onnxruntime-node (CPU) on fresh random inputs: the fixture CNN
// and transformer encoder, the example repository's models, concurrent streams, the ONNX conformance
// cases that run wholly on the device, and the failure paths (a bad index, running out of device
// memory) that must reject and leave the engine usable. Activations are poisoned (cuda-helpers.ts).
// Where the addon has CUDA compiled in, the placement checks run even without a device.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onnx } from 'onnx-proto';
import { describe, expect, it } from 'vitest';

import { cnnModel, transformerModel } from '../fixtures/models';
import { GraphBuilder } from '../fixtures/onnx-builder';
import { hs, ortRun, randomTensor } from '../helpers';
// @ts-expect-error: plain ESM helper shared with the CLI runner
import { listCases, readValue, runCase } from '../conformance/conformance.mjs';
import { cuda, expectMatchesOrt, loadCuda, relErrorNaN } from './cuda-helpers';

const ROOT = path.resolve(__dirname, '../..');
const EXAMPLES = ['cnn', 'encoder'].map((m) => path.join(ROOT, 'examples/models', m, '1/model.onnx'));
const withDevice = cuda.available ? describe : describe.skip;
const compiled = cuda.compiled ? describe : describe.skip;
if (!cuda.available) console.log(`test/gpu/engine-cuda: device suites skipped, CUDA unavailable (${cuda.reason})`);

function encoderFeeds(batch: number, seq: number) {
  const mask = new Float32Array(batch * seq).fill(1);
  for (let b = 1; b < batch; b++) for (let s = seq - 5; s < seq; s++) mask[b * seq + s] = 0;
  return { x: randomTensor([batch, seq, 64]), mask: { type: 'float32' as const, dims: [batch, seq], data: mask } };
}

compiled('CUDA placement (no device needed)', () => {
  it.each([
    ['fixture CNN', cnnModel()],
    ['fixture transformer encoder', transformerModel()],
    ['example cnn', EXAMPLES[0]],
    ['example encoder', EXAMPLES[1]],
  ])('%s runs every node on the device, copying only its inputs and outputs', async (_, model) => {
    const p = await hs.cudaPlacement(model);
    expect(p.cpuNodes).toEqual([]);
    expect(p.copiesPerRun.fallbackHostToDevice).toBe(0);
    expect(p.copiesPerRun.fallbackDeviceToHost).toBe(0);
  });

  it('holds no device memory before any engine is loaded', () => {
    expect(hs.devices().memory).toMatchObject({ deviceBytes: 0, pinnedBytes: 0 });
  });

  it('names each node left to the CPU and counts the copies it causes', async () => {
    const b = new GraphBuilder('fallback');
    const x = b.input('x', 'float32', [1, 4, 3, 2]);
    const normed = b.op('MeanVarianceNormalization', [b.op('Abs', [x])]);  // not Relu: an all-zero channel has no variance
    b.output(b.op('Sigmoid', [normed]), 'float32', [1, 4, 3, 2]);
    const p = await hs.cudaPlacement(b.build(17));
    expect(p.cpuNodes).toEqual([{ node: expect.stringContaining('MeanVarianceNormalization'), reason: expect.stringContaining('no CUDA kernel') }]);
    expect(p.copiesPerRun).toEqual({ hostToDevice: 2, deviceToHost: 2, fallbackHostToDevice: 1, fallbackDeviceToHost: 1 });
  });
});

withDevice('Engine on CUDA vs onnxruntime-node', () => {
  it.each([1, 3, 32])('fixture CNN, batch %i', async (batch) => {
    const info = await expectMatchesOrt(cnnModel(), { input: randomTensor([batch, 3, 64, 64]) }, 1e-4);
    expect(info.backend.cpuNodes).toEqual([]);
    expect(info.backend.copiesPerRun).toMatchObject({ hostToDevice: 1, deviceToHost: 1 });
  });

  it.each([
    [1, 16],
    [2, 37],
    [32, 64],
  ])('fixture transformer encoder, batch %i, seq %i, with padding', async (batch, seq) => {
    await expectMatchesOrt(transformerModel(), encoderFeeds(batch, seq), 1e-4);
  });

  it.each(['fp16', 'bf16'] as const)('precision %s: attention through FlashAttention, within its rounding of onnxruntime', async (precision) => {
    const model = transformerModel();
    const feeds = encoderFeeds(4, 80);
    const reduced = await loadCuda(model, { precision });
    const full = await loadCuda(model);
    const [ours, exact, ref] = await Promise.all([reduced.run(feeds), full.run(feeds), ortRun(model, feeds)]);
    const name = reduced.outputNames[0];
    const error = relErrorNaN(ours[name] as hs.Tensor, ref[name]);
    console.log(`encoder, ${precision} attention: relative error ${error.toExponential(2)}`);
    expect(error).toBeLessThan(precision === 'fp16' ? 1e-2 : 4e-2);
    // the 16-bit path really ran: its rounding shows against the float32 engine
    expect(relErrorNaN(ours[name] as hs.Tensor, exact[name] as hs.Tensor)).toBeGreaterThan(1e-6);
    reduced.dispose();
    full.dispose();
  });

  it('the example repository models', async () => {
    await expectMatchesOrt(EXAMPLES[0], { input: randomTensor([4, 3, 64, 64]) }, 1e-4, 'cnn');
    await expectMatchesOrt(EXAMPLES[1], encoderFeeds(3, 20), 1e-4, 'encoder');
  });

  it('runs concurrently on several streams with the same results', async () => {
    const model = cnnModel();
    const engine = await loadCuda(model, { streams: 3 });
    const feeds = Array.from({ length: 6 }, (_, i) => ({ input: randomTensor([1 + i, 3, 64, 64]) }));
    const ours = await Promise.all(feeds.map((f) => engine.run(f)));
    for (let i = 0; i < feeds.length; i++) {
      const ref = await ortRun(model, feeds[i]);
      const name = engine.outputNames[0];
      expect(relErrorNaN(ours[i][name] as hs.Tensor, ref[name])).toBeLessThan(1e-4);
    }
    engine.dispose();
  });

  it('runs a node without a CUDA kernel on the CPU, making exactly the copies it reports', async () => {
    const b = new GraphBuilder('fallback');
    const x = b.input('x', 'float32', [1, 4, 3, 2]);
    const normed = b.op('MeanVarianceNormalization', [b.op('Abs', [x])]);  // not Relu: an all-zero channel has no variance
    b.output(b.op('Sigmoid', [normed]), 'float32', [1, 4, 3, 2]);
    const model = b.build(17);
    const engine = await loadCuda(model);
    try {
      expect(engine.info.backend.cpuNodes).toHaveLength(1);
      const perRun = engine.info.backend.copiesPerRun;
      for (let i = 0; i < 4; i++) {
        const feeds = { x: randomTensor([1, 4, 3, 2]) };
        const [ours, ref] = await Promise.all([engine.run(feeds), ortRun(model, feeds)]);
        const name = engine.outputNames[0];
        expect(relErrorNaN(ours[name] as hs.Tensor, ref[name])).toBeLessThan(1e-5);
      }
      // a CPU node turns CUDA graphs off
      expect(engine.stats()).toEqual({
        runs: 4,
        copies: { hostToDevice: 4 * perRun.hostToDevice, deviceToHost: 4 * perRun.deviceToHost },
        cudaGraphs: { captures: 0, replays: 0 },
      });
    } finally {
      engine.dispose();
    }
  });

  it('holds device memory while loaded and gives all of it back on dispose()', async () => {
    const before = hs.devices().memory;
    const engine = await loadCuda(cnnModel(), { streams: 2 });
    await engine.run({ input: randomTensor([32, 3, 64, 64]) });
    await engine.run({ input: randomTensor([32, 3, 64, 64]) });  // the second run sizes the arena to the first's peak
    const held = hs.devices().memory;
    expect(held.deviceBytes - before.deviceBytes).toBeGreaterThan(32 * 16 * 64 * 64 * 4);  // at least one activation
    expect(held.pinnedBytes).toBeGreaterThan(before.pinnedBytes);
    engine.dispose();
    const after = hs.devices().memory;
    expect([after.deviceBytes, after.pinnedBytes]).toEqual([before.deviceBytes, before.pinnedBytes]);
  });

  it("device 'auto' picks CUDA for a model it covers", async () => {
    const engine = await hs.Engine.load(cnnModel(), { cacheDir: false, device: 'auto' });
    expect(engine.info.device).toBe('cuda');
    expect(engine.info.fallbackReason).toBeNull();
    engine.dispose();
  });

  it('keys the engine cache by device', async () => {
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-cuda-cache-'));
    const cpu = await hs.Engine.load(cnnModel(), { cacheDir, device: 'cpu' });
    const gpu = await hs.Engine.load(cnnModel(), { cacheDir, device: 'cuda' });
    const again = await hs.Engine.load(cnnModel(), { cacheDir, device: 'cuda' });
    expect([cpu.info.cache, gpu.info.cache, again.info.cache]).toEqual(['built, cached', 'built, cached', 'loaded from cache']);
    for (const e of [cpu, gpu, again]) e.dispose();
  });

  it('rejects an out-of-range Gather index with ERR_INVALID_ARGUMENT and stays usable', async () => {
    const b = new GraphBuilder('gather');
    const table = b.input('table', 'float32', [10, 4]);
    const ids = b.input('ids', 'int64', [3]);
    b.output(b.op('Gather', [table, ids], { axis: 0 }), 'float32', [3, 4]);
    const engine = await loadCuda(b.build(17));
    const t = randomTensor([10, 4]);
    const bad = { type: 'int64' as const, dims: [3], data: BigInt64Array.from([1n, 10n, 2n]) };
    await expect(engine.run({ table: t, ids: bad })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    const good = { type: 'int64' as const, dims: [3], data: BigInt64Array.from([9n, -1n, 0n]) };
    const out = (await engine.run({ table: t, ids: good }))[engine.outputNames[0]] as hs.Tensor;
    expect(Array.from(out.data as Float32Array).slice(0, 4)).toEqual(Array.from(t.data.slice(36, 40)));
    engine.dispose();
  });

  it('rejects a run that exhausts device memory with ERR_CUDA_OOM and stays usable', async () => {
    const b = new GraphBuilder('expand');
    const x = b.input('x', 'float32', [1]);
    const shape = b.input('shape', 'int64', [1]);
    b.output(b.op('Expand', [x, shape]), 'float32', null);
    const engine = await loadCuda(b.build(17));
    const huge = { type: 'int64' as const, dims: [1], data: BigInt64Array.from([1n << 40n]) };  // 4 TiB of float32
    await expect(engine.run({ x: randomTensor([1]), shape: huge })).rejects.toMatchObject({ code: 'ERR_CUDA_OOM' });
    const x1 = randomTensor([1]);
    const small = { type: 'int64' as const, dims: [1], data: BigInt64Array.from([5n]) };
    const out = (await engine.run({ x: x1, shape: small }))[engine.outputNames[0]] as hs.Tensor;
    expect(Array.from(out.data as Float32Array)).toEqual(Array(5).fill(x1.data[0]));
    engine.dispose();
  });
});

type Case = { name: string; dir: string; op: string | null; inSet: boolean };

withDevice('ONNX conformance cases that run wholly on CUDA', () => {
  it('match the ONNX reference outputs, and onnxruntime-node on fresh inputs', async () => {
    const cases: Case[] = [];
    for (const c of (listCases() as Case[]).filter((c) => c.inSet)) {
      const p = await hs.cudaPlacement(path.join(c.dir, 'model.onnx')).catch(() => null);
      if (p && p.cpuNodes.length === 0) cases.push(c);
    }
    const cudaEngine = { load: (m: string, o: hs.EngineOptions) => hs.Engine.load(m, { ...o, device: 'cuda' }) };
    const failures: string[] = [], rejectedOnCpu: string[] = [];
    for (const c of cases) {
      const r = (await runCase(cudaEngine, c)) as { ok: boolean; error: string | null };
      if (!r.ok) {
        // A few cases' own data contradict their model (castlike *_expanded: a rank-1 input declared
        // rank 2), which the CPU engine and onnxruntime reject too: that says nothing of the device.
        const cpu = (await runCase(hs.Engine, c)) as { ok: boolean; error: string | null };
        if (!cpu.ok && cpu.error === r.error) {
          rejectedOnCpu.push(c.name);
          continue;  // its fresh inputs would be rejected alike (training-mode Dropout, say)
        }
        failures.push(`${c.name} (reference): ${r.error}`);
      }
      const diff = await againstOrtOnFreshInputs(c);
      if (diff) failures.push(`${c.name} (onnxruntime, fresh inputs): ${diff}`);
    }
    console.log(`conformance on cuda: ${cases.length - failures.length - rejectedOnCpu.length}/${cases.length} clean` +
      (rejectedOnCpu.length ? `; rejected on the CPU alike: ${rejectedOnCpu.join(', ')}` : ''));
    expect(cases.length).toBeGreaterThan(200);
    expect(failures).toEqual([]);
  }, 600_000);
});

/** Runs a case with its float32 inputs rescaled by fresh random factors (signs kept, so each op's
 * domain is too) on 'cuda' and in onnxruntime-node; null when they agree (or onnxruntime cannot run it). */
async function againstOrtOnFreshInputs(c: Case): Promise<string | null> {
  const modelPath = path.join(c.dir, 'model.onnx');
  const model = onnx.ModelProto.decode(fs.readFileSync(modelPath));
  const inits = new Set(model.graph!.initializer!.map((t) => t.name));
  const inputs = model.graph!.input!.filter((v) => !inits.has(v.name!));
  const feeds: Record<string, hs.TensorLike> = {};
  for (let i = 0; i < inputs.length; i++) {
    const f = path.join(c.dir, 'test_data_set_0', `input_${i}.pb`);
    if (!fs.existsSync(f)) continue;
    const t = readValue(f, inputs[i].type) as hs.TensorLike;
    if (t.type === 'float32') {
      const data = Float32Array.from(t.data as Float32Array, (v) => v * (0.5 + Math.random()));
      feeds[inputs[i].name!] = { type: 'float32', dims: t.dims, data };
    } else {
      feeds[inputs[i].name!] = t;
    }
  }
  const ref = await ortRun(modelPath, feeds).catch(() => null);
  if (!ref) return null;
  const engine = await loadCuda(modelPath);
  try {
    const ours = await engine.run(feeds);
    for (const name of engine.outputNames) {
      const got = ours[name] as hs.Tensor;
      if (JSON.stringify(got.dims) !== JSON.stringify(ref[name].dims)) return `${name}: dims ${got.dims} != ${ref[name].dims}`;
      if (got.type === 'float32') {
        const err = relErrorNaN(got, ref[name]);
        if (!(err < 1e-4)) return `${name}: relative error ${err}`;
      } else if (JSON.stringify(Array.from(got.data as ArrayLike<number>, String)) !== JSON.stringify(Array.from(ref[name].data as ArrayLike<number>, String))) {
        return `${name}: values differ`;
      }
    }
    return null;
  } catch (e) {
    return `${(e as { code?: string }).code}: ${(e as Error).message}`;
  } finally {
    engine.dispose();
  }
}
