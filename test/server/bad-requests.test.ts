// Bad requests, limits and overload: every failure is a 4xx/5xx JSON body `{ error, code }` with
// a code from the registry, and the server keeps serving afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { hs, randomTensor } from '../helpers';
import { makeRepository, MLP_IN, type TestRepository } from './repo';

let repo: TestRepository;
let server: hs.Server;

beforeAll(async () => {
  repo = makeRepository({
    mlp: null,
    tiny_queue: { maxBatchSize: 1, maxQueueSize: 1, maxQueueDelayMs: 0 },
    slow_batch: { maxBatchSize: 64, maxQueueDelayMs: 2000 },
  });
  server = await hs.serve({ repository: repo.root, port: 0, cacheDir: false, bodyLimit: 64 * 1024, apiKeys: ['k1'] });
});
afterAll(async () => {
  await server?.close();
  repo?.remove();
});

const auth = { authorization: 'Bearer k1' };
const x = (rows = 1, cols = MLP_IN) => ({ inputs: [{ name: 'x', shape: [rows, cols], datatype: 'FP32', data: Array.from(randomTensor([rows, cols]).data) }] });

async function post(url: string, payload: unknown, headers: Record<string, string> = { ...auth, 'content-type': 'application/json' }) {
  const res = await server.app!.inject({ method: 'POST', url, headers, payload: typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload) });
  const body = res.json();
  if (res.statusCode >= 400) {
    expect(Object.keys(hs.ERROR_CODES)).toContain(body.code);
    expect(body.error).toEqual(expect.any(String));
    expect(JSON.stringify(body)).not.toMatch(/\n\s+at /); // no stack traces
  }
  return { status: res.statusCode, body };
}

describe('bad requests get typed 4xx JSON and the server stays up', () => {
  it.each([
    ['malformed JSON', '/v2/models/mlp/infer', '{"inputs": [', 400, 'ERR_BAD_REQUEST'],
    ['no inputs', '/v2/models/mlp/infer', { inputs: [] }, 400, 'ERR_BAD_REQUEST'],
    ['wrong shape', '/v2/models/mlp/infer', x(1, MLP_IN + 1), 400, 'ERR_SHAPE'],
    ['wrong dtype', '/v2/models/mlp/infer', { inputs: [{ name: 'x', shape: [1, MLP_IN], datatype: 'INT32', data: Array(MLP_IN).fill(1) }] }, 400, 'ERR_TYPE'],
    ['element count off', '/v2/models/mlp/infer', { inputs: [{ name: 'x', shape: [2, MLP_IN], datatype: 'FP32', data: [1, 2] }] }, 400, 'ERR_BAD_REQUEST'],
    ['unknown datatype', '/v2/models/mlp/infer', { inputs: [{ name: 'x', shape: [1], datatype: 'FP8', data: [1] }] }, 400, 'ERR_BAD_REQUEST'],
    ['non-numeric data', '/v2/models/mlp/infer', { inputs: [{ name: 'x', shape: [1, 1], datatype: 'FP32', data: ['a'] }] }, 400, 'ERR_BAD_REQUEST'],
    ['unknown input', '/v2/models/mlp/infer', { inputs: [...x().inputs, { name: 'z', shape: [1], datatype: 'FP32', data: [1] }] }, 400, 'ERR_BAD_REQUEST'],
    ['unknown model', '/v2/models/nope/infer', x(), 404, 'ERR_MODEL_NOT_FOUND'],
    ['unknown version', '/v2/models/mlp/versions/9/infer', x(), 404, 'ERR_MODEL_NOT_FOUND'],
    ['unknown output', '/v2/models/mlp/infer', { ...x(), outputs: [{ name: 'nope' }] }, 400, 'ERR_BAD_REQUEST'],
    ['oversize body', '/v2/models/mlp/infer', x(1100), 413, 'ERR_PAYLOAD_TOO_LARGE'],
  ])('%s', async (_label, url, payload, status, code) => {
    const res = await post(url, payload);
    expect(res.status).toBe(status);
    expect(res.body.code).toBe(code);
  });

  it('a binary header length past the body is a bad request', async () => {
    const res = await post('/v2/models/mlp/infer', Buffer.from('{}'), { ...auth, 'inference-header-content-length': '99' });
    expect(res).toMatchObject({ status: 400, body: { code: 'ERR_BAD_REQUEST' } });
  });

  it('needs an API key except for health and metrics', async () => {
    const res = await post('/v2/models/mlp/infer', x(), { 'content-type': 'application/json' });
    expect(res).toMatchObject({ status: 401, body: { code: 'ERR_UNAUTHORIZED' } });
    expect((await server.app!.inject({ url: '/v2/health/live' })).statusCode).toBe(200);
    expect((await server.app!.inject({ url: '/metrics' })).statusCode).toBe(200);
    expect((await server.app!.inject({ url: '/v2/nothing', headers: auth })).json()).toMatchObject({ code: 'ERR_NOT_FOUND' });
  });

  it('still serves after all of that', async () => {
    expect((await post('/v2/models/mlp/infer', x(2))).status).toBe(200);
  });
});

describe('overload', () => {
  it('rejects with 429 ERR_QUEUE_FULL when the queue is full, and serves the rest', async () => {
    const results = await Promise.all(Array.from({ length: 40 }, () => post('/v2/models/tiny_queue/infer', x())));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    expect(results.find((r) => r.status === 429)!.body.code).toBe('ERR_QUEUE_FULL');
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
  });

  it('times out with 504 ERR_TIMEOUT after the request timeout (microseconds, as in Triton)', async () => {
    const started = performance.now();
    const res = await post('/v2/models/slow_batch/infer', { ...x(), parameters: { timeout: 50_000 } });
    expect(res).toMatchObject({ status: 504, body: { code: 'ERR_TIMEOUT' } });
    expect(performance.now() - started).toBeLessThan(1500);
  });
});
