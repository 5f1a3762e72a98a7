// Graceful shutdown: close() lets requests in flight finish (here one waiting out its batch
// delay), refuses new ones, and frees the engines.
import { describe, expect, it } from 'vitest';

import { hs, randomTensor } from '../helpers';
import { makeRepository, MLP_IN } from './repo';

describe('graceful shutdown', () => {
  it('drains requests in flight before closing', async () => {
    const repo = makeRepository({ waits: { maxBatchSize: 8, maxQueueDelayMs: 300 } });
    const server = await hs.serve({ repository: repo.root, port: 0, cacheDir: false });
    try {
      const x = randomTensor([1, MLP_IN]);
      const inFlight = fetch(`${server.url}/v2/models/waits/infer`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: [{ name: 'x', shape: x.dims, datatype: 'FP32', data: Array.from(x.data) }] }),
      });
      await new Promise((r) => setTimeout(r, 50)); // the request now waits in the batcher
      const closed = server.close();
      const res = await inFlight;
      expect(res.status).toBe(200);
      await closed;
      await expect(fetch(`${server.url}/v2/health/live`)).rejects.toThrow();
    } finally {
      await server.close();
      repo.remove();
    }
  });
});
