// The KServe v2 API of a single-process server, through fastify.inject() and real loopback HTTP:
// outputs equal onnxruntime-node's, JSON and binary tensors, metadata, health, repository API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { FP32_ORDER_TOLERANCE, hs, ortRun, randomTensor, relError } from '../helpers';
import { cnnModel } from '../fixtures/models';
import { makeRepository, MLP_IN, MLP_OUT, MLP_OUTPUT, type TestRepository } from './repo';

let repo: TestRepository;
let server: hs.Server;

beforeAll(async () => {
  repo = makeRepository(
    { mlp: null, batched: { maxBatchSize: 16, maxQueueDelayMs: 2 }, cnn: { maxBatchSize: 8, maxQueueDelayMs: 5 } },
    { cnn: cnnModel({ size: 32, width: 8 }) },
  );
  server = await hs.serve({ repository: repo.root, port: 0, cacheDir: false });
});
afterAll(async () => {
  await server?.close();
  repo?.remove();
});

const inject = (options: Parameters<NonNullable<hs.Server['app']>['inject']>[0]) => server.app!.inject(options);

function jsonInfer(t: { dims: number[]; data: Float32Array }) {
  return { inputs: [{ name: 'x', shape: t.dims, datatype: 'FP32', data: Array.from(t.data) }] };
}

describe('KServe v2 over a model repository', () => {
  it('answers server metadata, liveness and readiness', async () => {
    expect((await inject({ url: '/v2' })).json()).toMatchObject({ name: 'highservice-native', extensions: expect.arrayContaining(['binary_tensor_data']) });
    expect((await inject({ url: '/v2/health/live' })).statusCode).toBe(200);
    expect((await inject({ url: '/v2/health/ready' })).json()).toEqual({ ready: true });
  });

  it('describes models and versions', async () => {
    const meta = (await inject({ url: '/v2/models/mlp' })).json();
    expect(meta).toMatchObject({ name: 'mlp', versions: ['1', '2'], platform: 'onnx' });
    expect(meta.inputs).toEqual([{ name: 'x', datatype: 'FP32', shape: [-1, MLP_IN] }]);
    expect(meta.outputs[0]).toMatchObject({ name: MLP_OUTPUT, datatype: 'FP32', shape: [-1, MLP_OUT] });
    expect((await inject({ url: '/v2/models/mlp/versions/1' })).statusCode).toBe(200);
    expect((await inject({ url: '/v2/models/mlp/versions/1/ready' })).json()).toEqual({ name: 'mlp', ready: true });
  });

  it('infers with JSON tensors; each version matches onnxruntime-node', async () => {
    for (const version of ['1', '2']) {
      const x = randomTensor([3, MLP_IN]);
      const res = await inject({ method: 'POST', url: `/v2/models/mlp/versions/${version}/infer`, payload: { id: 'r1', ...jsonInfer(x) } });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body).toMatchObject({ model_name: 'mlp', model_version: version, id: 'r1' });
      const ref = await ortRun(repo.models[`mlp/${version}`], { x });
      expect(body.outputs[0].shape).toEqual([3, MLP_OUT]);
      expect(relError({ data: Float32Array.from(body.outputs[0].data), dims: body.outputs[0].shape }, ref[MLP_OUTPUT])).toBeLessThan(FP32_ORDER_TOLERANCE);
    }
  });

  it('the latest version serves when none is named', async () => {
    const res = await inject({ method: 'POST', url: '/v2/models/mlp/infer', payload: jsonInfer(randomTensor([1, MLP_IN])) });
    expect(res.json().model_version).toBe('2');
  });

  it('infers with the binary tensor extension, in and out', async () => {
    const x = randomTensor([2, MLP_IN]);
    const header = Buffer.from(JSON.stringify({
      inputs: [{ name: 'x', shape: x.dims, datatype: 'FP32', parameters: { binary_data_size: x.data.byteLength } }],
      outputs: [{ name: MLP_OUTPUT, parameters: { binary_data: true } }],
    }));
    const res = await inject({
      method: 'POST', url: '/v2/models/mlp/versions/1/infer',
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
      payload: Buffer.concat([header, Buffer.from(x.data.buffer)]),
    });
    expect(res.statusCode).toBe(200);
    const headerLength = Number(res.headers['inference-header-content-length']);
    const json = JSON.parse(res.rawPayload.subarray(0, headerLength).toString());
    expect(json.outputs[0]).toMatchObject({ name: MLP_OUTPUT, shape: [2, MLP_OUT], parameters: { binary_data_size: 2 * MLP_OUT * 4 } });
    const bytes = res.rawPayload.subarray(headerLength);
    const y = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const ref = await ortRun(repo.models['mlp/1'], { x });
    expect(relError({ data: y, dims: [2, MLP_OUT] }, ref[MLP_OUTPUT])).toBeLessThan(FP32_ORDER_TOLERANCE);
  });

  it('lists, unloads and reloads models through the repository API', async () => {
    const index = (await inject({ method: 'POST', url: '/v2/repository/index' })).json();
    expect(index).toEqual(expect.arrayContaining([{ name: 'mlp', version: '1', state: 'READY', reason: '' }]));
    expect((await inject({ method: 'POST', url: '/v2/repository/models/batched/unload' })).statusCode).toBe(200);
    const notReady = await inject({ method: 'POST', url: '/v2/models/batched/infer', payload: jsonInfer(randomTensor([1, MLP_IN])) });
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json().code).toBe('ERR_MODEL_NOT_READY');
    expect((await inject({ url: '/v2/health/ready' })).statusCode).toBe(503);
    expect((await inject({ method: 'POST', url: '/v2/repository/models/batched/load' })).statusCode).toBe(200);
    expect((await inject({ method: 'POST', url: '/v2/models/batched/infer', payload: jsonInfer(randomTensor([1, MLP_IN])) })).statusCode).toBe(200);
  });

  it('batches concurrent loopback HTTP requests, and every answer is its own', async () => {
    const inputs = Array.from({ length: 48 }, () => randomTensor([1, MLP_IN]));
    const answers = await Promise.all(inputs.map(async (x) => {
      const res = await fetch(`${server.url}/v2/models/batched/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(jsonInfer(x)) });
      expect(res.status).toBe(200);
      return (await res.json()) as { outputs: { data: number[] }[] };
    }));
    for (let i = 0; i < inputs.length; i += 7) {
      const ref = await ortRun(repo.models['batched/1'], { x: inputs[i] });
      expect(relError({ data: Float32Array.from(answers[i].outputs[0].data), dims: [1, MLP_OUT] }, ref[MLP_OUTPUT])).toBeLessThan(FP32_ORDER_TOLERANCE);
    }
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const sizes = [...metrics.matchAll(/^hs_batch_size_bucket\{le="1",model="batched"\} (\d+)$/gm)].map((m) => Number(m[1]));
    const count = Number(/^hs_batch_size_count\{model="batched"\} (\d+)$/m.exec(metrics)?.[1]);
    expect(count).toBeGreaterThan(0);
    expect(sizes[0]).toBeLessThan(count); // some batch held more than one row
  });

  it('batches a CNN; every binary answer equals onnxruntime-node on its own input', async () => {
    const inputs = Array.from({ length: 8 }, () => randomTensor([1, 3, 32, 32]));
    const answers = await Promise.all(inputs.map(async (x) => {
      const header = Buffer.from(JSON.stringify({
        inputs: [{ name: 'input', shape: x.dims, datatype: 'FP32', parameters: { binary_data_size: x.data.byteLength } }],
        parameters: { binary_data_output: true },
      }));
      const res = await fetch(`${server.url}/v2/models/cnn/infer`, {
        method: 'POST', headers: { 'inference-header-content-length': String(header.length) }, body: Buffer.concat([header, Buffer.from(x.data.buffer)]),
      });
      expect(res.status).toBe(200);
      const body = Buffer.from(await res.arrayBuffer());
      const headerLength = Number(res.headers.get('inference-header-content-length'));
      const meta = JSON.parse(body.subarray(0, headerLength).toString());
      const bytes = body.subarray(headerLength);
      return { meta, data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) };
    }));
    const batches = server.repository!.batcherOf('cnn').stats().batches;
    expect(batches).toBeLessThan(inputs.length);
    for (let i = 0; i < inputs.length; i++) {
      const ref = await ortRun(repo.models['cnn/1'], { input: inputs[i] });
      const name = answers[i].meta.outputs[0].name;
      expect(answers[i].meta.outputs[0].shape).toEqual([1, 10]);
      expect(relError({ data: answers[i].data, dims: [1, 10] }, ref[name])).toBeLessThan(1e-4);
    }
  });

  it('exports the documented metric names', async () => {
    const text = (await inject({ url: '/metrics' })).body;
    for (const name of hs.METRIC_NAMES) expect(text).toContain(`# TYPE ${name} `);
    expect(text).toMatch(/hs_process_busy_ratio\{process="main"\} [0-9.e-]+/);
    expect(text).toMatch(/hs_requests_per_minute\{model="mlp"\} [1-9]/);
  });
});
