// The primary of a multi-process server (HighService's CPU-GPU separation): it forks one GPU
// process (engines and batchers) and M CPU workers (node:cluster, one shared listening port),
// restarts either kind when it dies, and aggregates the children's Prometheus metrics for
// /metrics. Shutdown drains the workers first (requests in flight finish), then the GPU process.
import { fork, type ChildProcess } from 'node:child_process';
import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { AggregatorRegistry } from 'prom-client';

import { HsError } from '../errors';
import type { Server, ServeOptions } from '../server/serve';
import type { ControlMessage, GpuProcessConfig, WorkerConfig } from './protocol';
import { unlinkSegment } from './sharedMemory';

const RESTART_DELAY_MS = 100;
/** A GPU process that keeps failing is restarted ever more slowly, up to this. */
const MAX_RESTART_DELAY_MS = 5000;
const STOP_TIMEOUT_MS = 15_000;
const DEFAULT_SHM_BYTES = 64 * 1024 * 1024;

export interface ProcessServer extends Server {
  /** Pid of the current GPU process (tests kill it). */
  readonly gpuPid: number | undefined;
  readonly workerPids: number[];
  /** Resolves when a GPU process is up again (after a restart). */
  gpuReady(): Promise<void>;
}

function waitForReady(child: { once(event: 'message' | 'exit', fn: (arg: unknown) => void): unknown }, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('message', (m) => {
      const message = m as ControlMessage;
      if (message.t === 'ready') resolve();
      else reject(new HsError('ERR_INTERNAL', `${what} failed to start: ${message.t === 'failed' ? message.message : message.t}`));
    });
    child.once('exit', (code) => reject(new HsError('ERR_INTERNAL', `${what} exited during start (code ${String(code)})`)));
  });
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

export async function startProcessServer(options: ServeOptions): Promise<ProcessServer> {
  const token = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const socketPath = path.join(os.tmpdir(), `hs-${token}.sock`);
  const gpuConfig: GpuProcessConfig = {
    socketPath, repository: path.resolve(options.repository), modelDefaults: options.modelDefaults, cacheDir: options.cacheDir,
    services: options.services?.map((s) => path.resolve(s)),
  };
  let closing = false;
  let gpu: ChildProcess | null = null;
  let gpuStarted: Promise<void> = Promise.resolve();
  let gpuFailures = 0; // consecutive GPU processes that died before or soon after being ready

  // Metrics: a worker asks for the aggregate; the primary collects every child's registry as JSON.
  let nextCollect = 1;
  const collecting = new Map<number, { parts: object[]; left: number; done: () => void }>();
  const onMetricsJson = (message: ControlMessage) => {
    if (message.t !== 'metrics-json') return;
    const c = collecting.get(message.id);
    if (!c) return;
    c.parts.push(message.metrics as object);
    if (--c.left === 0) c.done();
  };
  const collect = async (): Promise<string> => {
    const children: { send(m: ControlMessage): unknown }[] = [...Object.values(cluster.workers ?? {})].filter((w): w is Worker => !!w);
    if (gpu?.connected) children.push(gpu);
    const id = nextCollect++;
    const parts: object[] = [];
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000); // a child that does not answer is left out
      collecting.set(id, { parts, left: children.length, done: () => { clearTimeout(timer); resolve(); } });
      for (const child of children) child.send({ t: 'metrics-request', id });
    });
    collecting.delete(id);
    return AggregatorRegistry.aggregate(parts).metrics();
  };

  const startGpu = (): Promise<void> => {
    const child = fork(path.join(__dirname, 'gpuMain.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    gpu = child;
    child.on('message', onMetricsJson);
    child.once('exit', () => {
      if (gpu === child) gpu = null;
      if (closing) return;
      const delay = Math.min(MAX_RESTART_DELAY_MS, RESTART_DELAY_MS * 2 ** gpuFailures++);
      setTimeout(() => { if (!closing) gpuStarted = startGpu().catch(() => undefined); }, delay);
    });
    child.send({ t: 'init', config: gpuConfig });
    return waitForReady(child, 'the GPU process').then(() => {
      setTimeout(() => { if (gpu === child) gpuFailures = 0; }, MAX_RESTART_DELAY_MS).unref();
    });
  };
  const stopChild = (child: { send(m: ControlMessage): unknown; kill(signal?: NodeJS.Signals): unknown; once(e: 'exit', f: () => void): unknown }) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      child.once('exit', () => { clearTimeout(timer); resolve(); });
      child.send({ t: 'shutdown' });
    });
  let closed: Promise<void> | null = null;
  const close = () =>
    (closed ??= (async () => {
      closing = true;
      await Promise.all(Object.values(cluster.workers ?? {}).flatMap((w) => (w && !w.isDead() ? [stopChild(w)] : [])));
      const g = gpu;
      if (g && g.exitCode === null) await stopChild(g);
    })());

  gpuStarted = startGpu();
  try {
    await gpuStarted;
  } catch (e) {
    await close();
    throw e;
  }

  const shmBytes = options.shmBytes ?? DEFAULT_SHM_BYTES;
  const host = options.host ?? '127.0.0.1';
  // Port 0 is resolved here once, so that every worker, restarted ones included, shares one port.
  const port = options.port === 0 ? await freePort(host) : (options.port ?? 8000);
  cluster.setupPrimary({ exec: path.join(__dirname, 'workerMain.js'), silent: false });
  let slot = 0;
  const startWorker = (): Promise<void> => {
    const shmName = `/hs-${token}-w${slot++}`;
    const config: WorkerConfig = {
      socketPath, shmName, shmBytes, port, host, apiKeys: options.apiKeys, bodyLimit: options.bodyLimit,
      requestTimeoutMs: options.requestTimeoutMs, workerModule: options.workerModule && path.resolve(options.workerModule), logger: options.logger,
    };
    const worker = cluster.fork({ HS_WORKER_CONFIG: JSON.stringify(config) });
    worker.on('message', (m: ControlMessage) => {
      if (m.t === 'metrics-aggregate') void collect().then((text) => worker.isConnected() && worker.send({ t: 'metrics-text', id: m.id, text }));
      else onMetricsJson(m);
    });
    worker.once('exit', () => {
      unlinkSegment(shmName);
      if (!closing) setTimeout(() => { if (!closing) void startWorker().catch(() => undefined); }, RESTART_DELAY_MS);
    });
    return waitForReady(worker, 'a CPU worker');
  };
  try {
    await Promise.all(Array.from({ length: options.cpuWorkers ?? 1 }, startWorker));
  } catch (e) {
    await close(); // the children that did start leave, their segments with them
    throw e;
  }

  return {
    url: `http://${host}:${port}`,
    port,
    app: null,
    repository: null,
    get gpuPid() { return gpu?.pid; },
    get workerPids() { return Object.values(cluster.workers ?? {}).flatMap((w) => (w?.process.pid ? [w.process.pid] : [])); },
    gpuReady: async () => {
      while (!closing) {
        await gpuStarted;
        if (gpu?.connected) return;
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close,
  };
}
