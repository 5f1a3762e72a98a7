// Messages between CPU workers and the GPU process (frames on the Unix socket, ts/process/framing.ts)
// and between the primary and its children (node IPC). Tensor bytes never appear here: `input` and
// `output` describe tensors that sit in the worker's shared-memory segment.
import type { ShmMessage } from './tensorTransport';

/** Worker -> GPU process, first frame on a connection: the worker's segment. */
export interface HelloFrame {
  t: 'hello';
  shm: string;
}

/** Worker -> GPU process: run `service.method` on tensors (named: a record; else an array). */
export interface CallFrame {
  t: 'call';
  id: number;
  service: string;
  method: string;
  args?: unknown;
  named: boolean;
  input: ShmMessage;
}

export interface ResultFrame {
  t: 'result';
  id: number;
  value?: unknown;
  named: boolean;
  output: ShmMessage;
}

export interface ErrorFrame {
  t: 'error';
  id: number;
  code: string;
  message: string;
}

export type ToGpuFrame = HelloFrame | CallFrame;
export type FromGpuFrame = ResultFrame | ErrorFrame;

/** The built-in service of the GPU process that fronts the model repository. */
export const REPOSITORY_SERVICE = '@repository';

/** What the primary hands its GPU process on start. */
export interface GpuProcessConfig {
  socketPath: string;
  repository: string;
  modelDefaults?: Record<string, unknown>;
  cacheDir?: string | false;
  services?: string[];
}

/** What the primary hands each CPU worker (through the environment). */
export interface WorkerConfig {
  socketPath: string;
  shmName: string;
  shmBytes: number;
  port: number;
  host: string;
  apiKeys?: string[];
  bodyLimit?: number;
  requestTimeoutMs?: number;
  workerModule?: string;
  logger?: boolean;
}

/** Node-IPC messages between the primary and its children. */
export type ControlMessage =
  | { t: 'ready' }
  | { t: 'failed'; message: string }
  | { t: 'shutdown' }
  | { t: 'metrics-request'; id: number }
  | { t: 'metrics-aggregate'; id: number }
  | { t: 'metrics-json'; id: number; metrics: unknown }
  | { t: 'metrics-text'; id: number; text: string }
  | { t: 'init'; config: GpuProcessConfig };
