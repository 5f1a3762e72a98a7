// Alert rules: failure rate, latency and Busy over thresholds fire once, log, and POST to a
// webhook (a local fastify server on loopback); they resolve when the value falls back.
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { hs } from '../helpers';

const received: { alerts: hs.AlertEvent[] }[] = [];
const hook = Fastify();
let hookUrl = '';

beforeAll(async () => {
  hook.post('/alert', async (request) => {
    received.push(request.body as { alerts: hs.AlertEvent[] });
    return {};
  });
  hookUrl = `${await hook.listen({ port: 0, host: '127.0.0.1' })}/alert`;
});
afterAll(() => hook.close());

describe('AlertManager', () => {
  it('fires on failure rate, latency and Busy, logs, posts to the webhook, and resolves', async () => {
    const metrics = new hs.ServingMetrics('test');
    let busy = 0.95;
    metrics.processBusy = () => busy;
    const lines: string[] = [];
    const alerts = new hs.AlertManager(metrics, {
      rules: [
        { name: 'failures', metric: 'failureRate', threshold: 0.1, minRequests: 5 },
        { name: 'slow', metric: 'meanLatencyMs', threshold: 50, minRequests: 5 },
        { name: 'busy', metric: 'processBusy', threshold: 0.9 },
      ],
      webhook: hookUrl, intervalMs: 60_000, log: (l) => lines.push(l),
    });
    for (let i = 0; i < 10; i++) metrics.observeRequest('m', 0.1, i < 3 ? 'ERR_TIMEOUT' : null);
    const fired = await alerts.evaluate();
    expect(fired.map((e) => `${e.alert}:${e.state}`).sort()).toEqual(['busy:firing', 'failures:firing', 'slow:firing']);
    expect(fired.find((e) => e.alert === 'failures')).toMatchObject({ model: 'm', value: 0.3, threshold: 0.1 });
    expect(received.at(-1)!.alerts).toHaveLength(3);
    expect(lines.some((l) => l.includes('alert firing: failures'))).toBe(true);

    expect(await alerts.evaluate()).toEqual([]); // still firing: no new event
    busy = 0.2;
    const resolved = await alerts.evaluate();
    expect(resolved).toMatchObject([{ alert: 'busy', state: 'resolved' }]);
    expect(received).toHaveLength(2);
    alerts.close();
  });

  it('a failing webhook is logged and never throws', async () => {
    const metrics = new hs.ServingMetrics('test');
    metrics.processBusy = () => 1;
    const lines: string[] = [];
    const alerts = new hs.AlertManager(metrics, {
      rules: [{ name: 'busy', metric: 'processBusy', threshold: 0.5 }], webhook: `${hookUrl}/missing`, log: (l) => lines.push(l),
    });
    await alerts.evaluate();
    expect(lines.some((l) => l.includes('webhook answered 404'))).toBe(true);
    alerts.close();
  });
});

describe('BusyTracker', () => {
  it('counts overlapping activity once over the window', () => {
    let now = 0;
    const tracker = new hs.BusyTracker(() => now);
    now = 1000;
    tracker.begin();
    tracker.begin();
    now = 3000;
    tracker.end();
    now = 4000;
    tracker.end();
    now = 10_000;
    expect(tracker.busy()).toBeCloseTo(0.3, 5);
    now = 15_000; // the window is now (5 s, 15 s]: nothing active
    expect(tracker.busy()).toBeCloseTo(0, 5);
  });
});
