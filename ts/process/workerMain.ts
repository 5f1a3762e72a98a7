// Entry of a CPU worker (a node:cluster worker sharing the listening port): HTTP parsing, the
// user's pre/post-processing routes, and calls into the GPU process through GpuClient.
import cluster from 'node:cluster';

import type { FastifyInstance } from 'fastify';

import { EventLoopBusy } from '../metrics/BusyTracker';
import { ServingMetrics } from '../metrics/ServingMetrics';
import { buildApp } from '../server/app';
import { GpuClient } from './GpuClient';
import type { ControlMessage, WorkerConfig } from './protocol';
import { RemoteBackend } from './RemoteBackend';

type WorkerModule = (app: FastifyInstance, gpu: typeof GpuClient) => void | Promise<void>;

const send = (message: ControlMessage) => process.send?.(message);

async function start(config: WorkerConfig): Promise<void> {
  const client = GpuClient.connect({ socketPath: config.socketPath, shmName: config.shmName, shmBytes: config.shmBytes });
  const metrics = new ServingMetrics(`cpu-${cluster.worker?.id ?? process.pid}`);
  const loop = new EventLoopBusy();
  metrics.processBusy = () => loop.busy();

  let nextMetricsId = 1;
  const waiting = new Map<number, (text: string) => void>();
  const metricsText = () =>
    new Promise<string>((resolve) => {
      const id = nextMetricsId++;
      waiting.set(id, resolve);
      send({ t: 'metrics-aggregate', id });
    });

  const app = buildApp({
    backend: new RemoteBackend(client), metrics, metricsText, apiKeys: config.apiKeys, bodyLimit: config.bodyLimit,
    requestTimeoutMs: config.requestTimeoutMs, logger: config.logger,
  });
  if (config.workerModule) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const exported = require(config.workerModule);
    const register = (exported?.default ?? exported) as WorkerModule;
    await register(app, GpuClient);
  }

  process.on('message', (message: ControlMessage) => {
    if (message.t === 'metrics-request')
      void metrics.registry.getMetricsAsJSON().then((json) => send({ t: 'metrics-json', id: message.id, metrics: json }));
    else if (message.t === 'metrics-text') {
      waiting.get(message.id)?.(message.text);
      waiting.delete(message.id);
    } else if (message.t === 'shutdown')
      void (async () => {
        await app.close(); // drains requests in flight
        client.close();
        loop.close();
        process.exit(0);
      })();
  });
  await client.waitConnected(30_000);
  await app.listen({ port: config.port, host: config.host });
  send({ t: 'ready' });
}

start(JSON.parse(process.env.HS_WORKER_CONFIG ?? '{}') as WorkerConfig).catch((e: Error) => {
  send({ t: 'failed', message: e.message });
  process.exit(1);
});
