// The CPU-worker side of the process model: `GpuClient.get(name).run(method, tensors)` calls a
// service in the GPU process (the seed's CPUClient). Tensors go through the worker's shared-memory
// segment; the socket carries descriptors only. When the GPU process dies, every call in flight
// fails at once with ERR_GPU_PROCESS (503) and its blocks are released; new calls fail fast until
// the client has reconnected to the restarted process.
import net from 'node:net';

import { HsError } from '../errors';
import type { Tensor, TensorLike } from '../tensor';
import type { ServiceTensors } from './CudaProcessBase';
import { readFrames, sendFrame } from './framing';
import type { CallFrame, FromGpuFrame } from './protocol';
import { createSegment, unlinkSegment } from './sharedMemory';
import { requestRing } from './segmentLayout';
import type { ShmRing } from './ShmRing';
import { readTensors, releaseBlock, writeTensors } from './tensorTransport';

const RECONNECT_MS = 50;

interface PendingCall {
  resolve(result: { value: unknown; tensors: ServiceTensors }): void;
  reject(error: Error): void;
  frame: CallFrame;
}

export interface GpuClientOptions {
  socketPath: string;
  /** Name of this worker's segment (created here, unlinked on close). */
  shmName: string;
  shmBytes: number;
}

/** One service of the GPU process, as seen from a worker. */
export class ServiceHandle {
  constructor(private readonly client: GpuClient, readonly name: string) {}

  /** Calls `method` with tensors (an array or a record) and an optional JSON argument; resolves with its tensors. */
  async run(method: string, tensors: TensorLike[] | Record<string, TensorLike> = [], args?: unknown): Promise<ServiceTensors> {
    return (await this.client.call(this.name, method, tensors, args)).tensors;
  }
}

export class GpuClient {
  private static instance: GpuClient | null = null;
  private readonly segment: ArrayBuffer;
  private readonly requests: ShmRing;
  private socket: net.Socket | null = null;
  private connected = false;
  private closed = false;
  private nextId = 1;
  private readonly pending = new Map<number, PendingCall>();
  private reconnectTimer: NodeJS.Timeout | null = null;

  private constructor(private readonly options: GpuClientOptions) {
    unlinkSegment(options.shmName); // a stale segment of a dead worker with the same name
    this.segment = createSegment(options.shmName, options.shmBytes);
    this.requests = requestRing(this.segment);
    this.connect();
  }

  /** Sets up this process's client (CPU workers call it once at start). */
  static connect(options: GpuClientOptions): GpuClient {
    if (GpuClient.instance) throw new HsError('ERR_INVALID_ARGUMENT', 'GpuClient.connect() was already called in this process');
    GpuClient.instance = new GpuClient(options);
    return GpuClient.instance;
  }

  /** A handle on the GPU-process service `name` (the seed's CPUClient.get(name)). */
  static get(name: string): ServiceHandle {
    if (!GpuClient.instance) throw new HsError('ERR_GPU_PROCESS', 'this process has no GPU client; GpuClient.get() works inside CPU workers of serve()');
    return new ServiceHandle(GpuClient.instance, name);
  }

  /** Resolves once connected (or after `timeoutMs` with false). */
  async waitConnected(timeoutMs: number): Promise<boolean> {
    const until = performance.now() + timeoutMs;
    while (!this.connected && performance.now() < until) await new Promise((r) => setTimeout(r, 10));
    return this.connected;
  }

  async call(service: string, method: string, tensors: TensorLike[] | Record<string, TensorLike>, args?: unknown): Promise<{ value: unknown; tensors: ServiceTensors }> {
    if (this.closed) throw new HsError('ERR_SHUTTING_DOWN', 'the GPU client is closed');
    if (!this.connected || !this.socket) throw new HsError('ERR_GPU_PROCESS', 'the GPU process is not available (starting or restarting); retry shortly');
    const named = !Array.isArray(tensors);
    const entries: [string | null, TensorLike][] = named ? Object.entries(tensors) : tensors.map((t) => [null, t]);
    const frame: CallFrame = { t: 'call', id: this.nextId++, service, method, args, named, input: writeTensors(this.requests, entries) };
    const socket = this.socket;
    return new Promise((resolve, reject) => {
      this.pending.set(frame.id, { resolve, reject, frame });
      sendFrame(socket, frame);
    });
  }

  /** Fails calls in flight, closes the socket and removes the segment's name. */
  close(): void {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.socket?.destroy();
    this.failPending('ERR_SHUTTING_DOWN', 'the GPU client closed');
    unlinkSegment(this.options.shmName);
    GpuClient.instance = null;
  }

  private connect(): void {
    const socket = net.createConnection(this.options.socketPath);
    this.socket = socket;
    socket.on('connect', () => {
      sendFrame(socket, { t: 'hello', shm: this.options.shmName });
      this.connected = true;
    });
    readFrames(socket, (frame) => this.onFrame(frame as FromGpuFrame));
    socket.on('error', () => undefined); // 'close' follows and handles it
    socket.on('close', () => {
      this.connected = false;
      this.socket = null;
      this.failPending('ERR_GPU_PROCESS', 'the GPU process exited while running this request');
      if (!this.closed) this.reconnectTimer = setTimeout(() => this.connect(), RECONNECT_MS);
    });
  }

  private onFrame(frame: FromGpuFrame): void {
    const call = this.pending.get(frame.id);
    if (!call) return;
    this.pending.delete(frame.id);
    if (frame.t === 'error') return call.reject(new HsError(frame.code as 'ERR_INTERNAL', frame.message));
    try {
      const outputs = readTensors(this.segment, frame.output, true);
      releaseBlock(this.segment, frame.output);
      const tensors: ServiceTensors = frame.named ? (Object.fromEntries(outputs) as Record<string, Tensor>) : outputs.map(([, t]) => t);
      call.resolve({ value: frame.value, tensors });
    } catch (e) {
      call.reject(e as Error);
    }
  }

  private failPending(code: 'ERR_GPU_PROCESS' | 'ERR_SHUTTING_DOWN', message: string): void {
    for (const call of this.pending.values()) {
      releaseBlock(this.segment, call.frame.input);
      call.reject(new HsError(code, message));
    }
    this.pending.clear();
  }
}
