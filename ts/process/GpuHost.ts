// The GPU process side of the worker connections: a Unix-socket server; each worker says hello
// with its shared-memory segment, then sends calls. Inputs are read as views over the worker's
// segment (released once the call is done with them), outputs are written into the response half
// of the same segment, and only descriptors go back on the socket.
import { rmSync } from 'node:fs';
import net from 'node:net';

import type { Feeds } from '../batching/batchTensors';
import { HsError } from '../errors';
import type { BusyTracker } from '../metrics/BusyTracker';
import type { InferenceBackend } from '../server/backend';
import type { Tensor } from '../tensor';
import { callableMethod, type CudaProcessBase, type ServiceTensors } from './CudaProcessBase';
import { readFrames, sendFrame } from './framing';
import { REPOSITORY_SERVICE, type CallFrame, type FromGpuFrame, type ToGpuFrame } from './protocol';
import { openSegment } from './sharedMemory';
import { requestRing, responseRing } from './segmentLayout';
import type { ShmRing } from './ShmRing';
import { readTensors, releaseBlock, writeTensors } from './tensorTransport';

interface Connection {
  socket: net.Socket;
  segment: ArrayBuffer | null;
  responses: ShmRing | null;
}

type RepositoryArgs = { model: string; version?: string; priority?: number; timeoutMs?: number };

export class GpuHost {
  private readonly server = net.createServer((socket) => this.accept(socket));
  private readonly sockets = new Set<net.Socket>();

  constructor(
    private readonly repository: InferenceBackend,
    private readonly services: Map<string, CudaProcessBase>,
    private readonly activity: BusyTracker,
  ) {}

  listen(socketPath: string): Promise<void> {
    rmSync(socketPath, { force: true }); // left behind by a GPU process that was killed
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(socketPath, () => resolve());
    });
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    const connection: Connection = { socket, segment: null, responses: null };
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    readFrames(socket, (frame) => this.onFrame(connection, frame as ToGpuFrame));
  }

  private onFrame(connection: Connection, frame: ToGpuFrame): void {
    if (frame.t === 'hello') {
      try {
        connection.segment = openSegment(frame.shm);
        connection.responses = responseRing(connection.segment);
      } catch {
        connection.socket.destroy();
      }
      return;
    }
    if (frame.t === 'call' && connection.segment) void this.call(connection, frame);
  }

  private async call(connection: Connection, frame: CallFrame): Promise<void> {
    const segment = connection.segment!;
    let reply: FromGpuFrame;
    try {
      const inputs = readTensors(segment, frame.input, false);
      const tensors: ServiceTensors = frame.named ? (Object.fromEntries(inputs) as Record<string, Tensor>) : inputs.map(([, t]) => t);
      const result = await this.dispatch(frame, tensors);
      const named = result.tensors !== null && !Array.isArray(result.tensors);
      const entries: [string | null, Tensor][] = result.tensors === null ? [] : Array.isArray(result.tensors)
        ? result.tensors.map((t) => [null, t]) : Object.entries(result.tensors);
      reply = { t: 'result', id: frame.id, value: result.value, named, output: writeTensors(connection.responses!, entries) };
    } catch (e) {
      const err = e as { code?: string; message?: string };
      reply = { t: 'error', id: frame.id, code: typeof err.code === 'string' ? err.code : 'ERR_INTERNAL', message: err.message ?? String(e) };
    } finally {
      releaseBlock(segment, frame.input);
    }
    if (!connection.socket.destroyed) sendFrame(connection.socket, reply);
  }

  private async dispatch(frame: CallFrame, tensors: ServiceTensors): Promise<{ value?: unknown; tensors: ServiceTensors | null }> {
    if (frame.service === REPOSITORY_SERVICE) return this.repositoryCall(frame.method, frame.args as RepositoryArgs, tensors as Feeds);
    const service = this.services.get(frame.service);
    if (!service) throw new HsError('ERR_NOT_FOUND', `the GPU process has no service '${frame.service}'; it has ${JSON.stringify([...this.services.keys()])}`);
    const method = callableMethod(service, frame.method);
    if (!method) throw new HsError('ERR_NOT_FOUND', `service '${frame.service}' has no method '${frame.method}'`);
    this.activity.begin();
    try {
      const out = (await method(tensors, frame.args)) as ServiceTensors | undefined;
      return { tensors: out ?? [] };
    } finally {
      this.activity.end();
    }
  }

  private async repositoryCall(method: string, args: RepositoryArgs, feeds: Feeds): Promise<{ value?: unknown; tensors: ServiceTensors | null }> {
    const repo = this.repository;
    switch (method) {
      case 'infer': {
        const result = await repo.infer(args.model, args.version, feeds, { priority: args.priority, timeoutMs: args.timeoutMs });
        return { value: result.version, tensors: result.outputs };
      }
      case 'metadata': return { value: await repo.metadata(args.model, args.version), tensors: null };
      case 'modelReady': return { value: await repo.modelReady(args.model, args.version), tensors: null };
      case 'ready': return { value: await repo.ready(), tensors: null };
      case 'index': return { value: await repo.index(), tensors: null };
      case 'load': return { value: await repo.load(args.model), tensors: null };
      case 'unload': return { value: await repo.unload(args.model), tensors: null };
      default: throw new HsError('ERR_NOT_FOUND', `the repository service has no method '${method}'`);
    }
  }
}
