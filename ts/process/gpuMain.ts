// Entry of the GPU process (forked by the primary): loads the model repository and the service
// modules, then serves CPU workers on a Unix socket. Metrics go to the primary over node IPC.
import { HsError } from '../errors';
import { ServingMetrics } from '../metrics/ServingMetrics';
import { ModelRepository } from '../server/ModelRepository';
import type { ModelConfig } from '../server/modelConfig';
import { CudaProcessBase } from './CudaProcessBase';
import { GpuHost } from './GpuHost';
import type { ControlMessage, GpuProcessConfig } from './protocol';

const send = (message: ControlMessage) => process.send?.(message);

async function loadServices(paths: string[]): Promise<Map<string, CudaProcessBase>> {
  const services = new Map<string, CudaProcessBase>();
  for (const file of paths) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const exported = require(file);
    const Service = (exported?.default ?? exported) as (new () => CudaProcessBase) & { serviceName?: string };
    if (typeof Service !== 'function' || !(Service.prototype instanceof CudaProcessBase))
      throw new HsError('ERR_INVALID_ARGUMENT', `service module '${file}' must export a class extending CudaProcessBase`);
    const service = new Service();
    await service.load();
    services.set(Service.serviceName ?? Service.name, service);
  }
  return services;
}

async function start(config: GpuProcessConfig): Promise<void> {
  const metrics = new ServingMetrics('gpu');
  const repository = new ModelRepository(config.repository, {
    defaults: config.modelDefaults as Partial<ModelConfig>, cacheDir: config.cacheDir, metrics,
  });
  metrics.processBusy = () => repository.activity.busy();
  await repository.start();
  const services = await loadServices(config.services ?? []);
  const host = new GpuHost(repository, services, repository.activity);
  await host.listen(config.socketPath);
  process.on('message', (message: ControlMessage) => {
    if (message.t === 'metrics-request')
      void metrics.registry.getMetricsAsJSON().then((json) => send({ t: 'metrics-json', id: message.id, metrics: json }));
    else if (message.t === 'shutdown')
      void (async () => {
        await host.close();
        await repository.close();
        for (const s of services.values()) await s.dispose();
        process.exit(0);
      })();
  });
  send({ t: 'ready' });
}

process.once('message', (message: ControlMessage) => {
  if (message.t !== 'init') return;
  start(message.config).catch((e: Error) => {
    send({ t: 'failed', message: e.message });
    process.exit(1);
  });
});
process.on('disconnect', () => process.exit(0));
