// The multi-process server: CPU workers (node:cluster) in front of one GPU process, tensors in
// shared memory. Outputs equal onnxruntime-node's; a user service and worker route work; killing
// the GPU process under load fails the requests in flight with 503 (none hang) and it recovers;
// a killed CPU worker is replaced. Real HTTP on 127.0.0.1 only.
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { FP32_ORDER_TOLERANCE, hs, ortRun, randomTensor, relError } from '../helpers';
import { makeRepository, MLP_IN, MLP_OUT, MLP_OUTPUT, type TestRepository } from '../server/repo';

let repo: TestRepository;
let server: hs.ProcessServer;

beforeAll(async () => {
  repo = makeRepository({ mlp: { maxBatchSize: 16, maxQueueDelayMs: 1 } });
  server = (await hs.serve({
    repository: repo.root, port: 0, cpuWorkers: 2, cacheDir: false, shmBytes: 4 * 1024 * 1024,
    services: [path.join(__dirname, 'fixtures/doubler-service.js')], workerModule: path.join(__dirname, 'fixtures/double-route.js'),
  })) as hs.ProcessServer;
});
afterAll(async () => {
  await server?.close();
  repo?.remove();
});

const infer = (x: { dims: number[]; data: Float32Array }, signal?: AbortSignal) =>
  fetch(`${server.url}/v2/models/mlp/infer`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, signal,
    body: JSON.stringify({ inputs: [{ name: 'x', shape: x.dims, datatype: 'FP32', data: Array.from(x.data) }] }),
  });

describe('multi-process server', () => {
  it('serves KServe inference through shared memory; outputs equal onnxruntime-node', async () => {
    const inputs = Array.from({ length: 24 }, (_, i) => randomTensor([1 + (i % 3), MLP_IN]));
    const bodies = await Promise.all(inputs.map(async (x) => {
      const res = await infer(x);
      expect(res.status).toBe(200);
      return (await res.json()) as { outputs: { shape: number[]; data: number[] }[] };
    }));
    for (let i = 0; i < inputs.length; i += 5) {
      const ref = await ortRun(repo.models['mlp/2'], { x: inputs[i] });
      expect(bodies[i].outputs[0].shape).toEqual([inputs[i].dims[0], MLP_OUT]);
      expect(relError({ data: Float32Array.from(bodies[i].outputs[0].data), dims: bodies[i].outputs[0].shape }, ref[MLP_OUTPUT])).toBeLessThan(FP32_ORDER_TOLERANCE);
    }
  });

  it('runs a user service (CudaProcessBase) from a worker route (GpuClient)', async () => {
    const res = await fetch(`${server.url}/double`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ values: [1, 2.5, -3] }) });
    expect(await res.json()).toMatchObject({ values: [2, 5, -6] });
  });

  it('aggregates metrics of every process, Busy per process and per model', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    for (const name of hs.METRIC_NAMES) expect(text).toContain(`# TYPE ${name} `);
    expect(text).toMatch(/hs_process_busy_ratio\{process="gpu"\}/);
    expect(text).toMatch(/hs_process_busy_ratio\{process="cpu-\d+"\}/);
    expect(text).toMatch(/hs_model_busy_ratio\{model="mlp",process="gpu"\}/);
    expect(text).toMatch(/hs_request_success_total\{model="mlp"\} [1-9]/);
  });

  it('killing the GPU process under load gives 503s with a reason, then recovers; nothing hangs', async () => {
    const firstPid = server.gpuPid!;
    const slow = Array.from({ length: 8 }, () =>
      fetch(`${server.url}/double`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ values: [1], delayMs: 3000 }), signal: AbortSignal.timeout(8000) }));
    await new Promise((r) => setTimeout(r, 300));
    process.kill(firstPid, 'SIGKILL');
    const settled = await Promise.allSettled(slow);
    expect(settled.every((s) => s.status === 'fulfilled')).toBe(true); // no request hung until the client timeout
    const responses = settled.map((s) => (s as PromiseFulfilledResult<Response>).value);
    for (const res of responses) {
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ code: 'ERR_GPU_PROCESS', error: expect.stringContaining('GPU process') });
    }
    // The worker sees the socket close before the primary sees the exit: wait for the primary to notice.
    for (let i = 0; i < 200 && server.gpuPid === firstPid; i++) await new Promise((r) => setTimeout(r, 25));
    await server.gpuReady();
    expect(server.gpuPid).not.toBe(firstPid);
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      status = (await infer(randomTensor([1, MLP_IN]))).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(200);
  });

  it('replaces a CPU worker that died', async () => {
    const before = server.workerPids;
    expect(before.length).toBe(2);
    process.kill(before[0], 'SIGKILL');
    for (let i = 0; i < 100; i++) {
      const now = server.workerPids;
      if (now.length === 2 && !now.includes(before[0])) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(server.workerPids).not.toContain(before[0]);
    expect(server.workerPids.length).toBe(2);
    expect((await infer(randomTensor([1, MLP_IN]))).status).toBe(200);
  });
});
