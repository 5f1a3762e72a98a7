// serve(): a KServe v2 server over a model repository. With cpuWorkers = 0 one process does
// everything (HTTP, batching, engines); with cpuWorkers >= 1 the process model of HighService runs
// instead (ts/process/ProcessServer.ts): a GPU process owns the engines and batchers, and the
// workers accept HTTP and pass tensors to it through shared memory.
import type { AddressInfo } from 'node:net';

import type { FastifyInstance } from 'fastify';

import { AlertManager, type AlertOptions } from '../metrics/AlertRules';
import { EventLoopBusy } from '../metrics/BusyTracker';
import { ServingMetrics } from '../metrics/ServingMetrics';
import { startProcessServer } from '../process/ProcessServer';
import { buildApp } from './app';
import type { ModelConfig } from './modelConfig';
import { ModelRepository } from './ModelRepository';

export interface ServeOptions {
  repository: string;
  /** 0 picks a free port (see server.port). Default 8000. */
  port?: number;
  host?: string;
  /** HTTP worker processes; 0 (default) serves from this process without a separate GPU process. */
  cpuWorkers?: number;
  /** Defaults for models whose config.json does not set them. */
  modelDefaults?: Partial<ModelConfig>;
  apiKeys?: string[];
  bodyLimit?: number;
  requestTimeoutMs?: number;
  cacheDir?: string | false;
  alerts?: AlertOptions;
  /** Module run in every CPU worker to add routes (pre/post-processing): default export (app, gpu) => void. */
  workerModule?: string;
  /** Service modules (CudaProcessBase subclasses) loaded in the GPU process. */
  services?: string[];
  /** Bytes of the shared-memory segment of each worker (multi-process mode). */
  shmBytes?: number;
  logger?: boolean;
}

export interface Server {
  readonly url: string;
  readonly port: number;
  /** The fastify app (single-process mode only), for inject(). */
  readonly app: FastifyInstance | null;
  /** The repository (single-process mode only). */
  readonly repository: ModelRepository | null;
  /** Stops accepting, drains in-flight requests, frees the engines. */
  close(): Promise<void>;
}

export async function serve(options: ServeOptions): Promise<Server> {
  if ((options.cpuWorkers ?? 0) > 0) return startProcessServer(options);
  const metrics = new ServingMetrics('main');
  const loop = new EventLoopBusy();
  const repository = new ModelRepository(options.repository, { defaults: options.modelDefaults, cacheDir: options.cacheDir, metrics });
  // One process: Busy is the time the engines computed or the event loop ran, whichever is more.
  metrics.processBusy = () => Math.max(loop.busy(), repository.activity.busy());
  await repository.start();
  const app = buildApp({ backend: repository, metrics, apiKeys: options.apiKeys, bodyLimit: options.bodyLimit, requestTimeoutMs: options.requestTimeoutMs, logger: options.logger });
  const alerts = options.alerts ? new AlertManager(metrics, options.alerts) : null;
  await app.listen({ port: options.port ?? 8000, host: options.host ?? '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    app,
    repository,
    close: () =>
      (closing ??= (async () => {
        alerts?.close();
        await app.close();
        await repository.close();
        loop.close();
      })()),
  };
}
