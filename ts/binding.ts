// The typed surface of the native addon; every native call in the package goes through here.
import path from 'node:path';

export type TensorType =
  | 'float32' | 'float64' | 'float16' | 'bfloat16'
  | 'int64' | 'int32' | 'int16' | 'int8'
  | 'uint64' | 'uint32' | 'uint16' | 'uint8' | 'bool';

export type TensorData =
  | Float32Array | Float64Array | Uint16Array | BigInt64Array | BigUint64Array
  | Int32Array | Uint32Array | Int16Array | Int8Array | Uint8Array;

/** Numeric types plus 'string', whose tensors hold data: string[] (as in onnxruntime-node). */
export type ElementType = TensorType | 'string';

export type NativeTensor =
  | { type: TensorType; dims: readonly number[]; data: TensorData }
  | { type: 'string'; dims: readonly number[]; data: string[] };

/** What a graph value holds: a tensor, a sequence of tensors, or an optional of either. */
export type ValueKind = 'tensor' | 'sequence' | 'optional(tensor)' | 'optional(sequence)';

/** A value across the boundary: a tensor, a sequence as an array of tensors, an empty optional as null. */
export type NativeValue = NativeTensor | NativeTensor[] | null;

export interface NativeValueInfo {
  name: string;
  /** The element type (of the tensors inside, for sequences and optionals); null when unknown. */
  type: ElementType | null;
  dims: (number | string | null)[] | null;
  kind: ValueKind;
}

/** Where the engine's nodes run, and the host<->device copies one run makes. */
export interface NativeBackendInfo {
  device: 'cpu' | 'cuda';
  deviceName: string | null;
  sm: number;
  /** Nodes the CUDA backend left to the CPU, with the reason (empty on the CPU). */
  cpuNodes: { node: string; reason: string }[];
  /**
   * Shape arithmetic the CUDA backend runs on the host by design, not as a fallback: nodes that
   * compute only on Shape / Size outputs, values made from them and constants (a few integers).
   */
  hostShapeNodes: string[];
  /** Graph inputs and outputs are one copy each; `fallback*` are the copies CPU nodes cause. */
  copiesPerRun: { hostToDevice: number; deviceToHost: number; fallbackHostToDevice: number; fallbackDeviceToHost: number };
  /** device 'auto' chose the CPU: why not CUDA. */
  fallbackReason: string | null;
  /**
   * The kernel of each node with several (GEMM, convolution) on CUDA: timed on the device at build
   * (`timingsMs`: median per candidate, null where it failed its correctness check), taken from the
   * plan cache, forced by HS_CUDA_TACTIC, or the default where the shapes were not static.
   */
  tactics: { node: string; tactic: string; how: 'timed' | 'cached' | 'forced' | 'default'; timingsMs: Record<string, number | null> }[];
}

export interface NativeEngineInfo {
  cache: string;
  threads: number;
  streams: number;
  nodes: number;
  foldedNodes: number;
  removedNodes: number;
  fusions: string[];
  backend: NativeBackendInfo;
}

export interface NativeEngine {
  readonly inputs: NativeValueInfo[];
  readonly outputs: NativeValueInfo[];
  readonly info: NativeEngineInfo;
  run(inputs: NativeValue[]): Promise<NativeValue[]>;
  /** Completed runs and the host<->device tensor copies they made (zero on the CPU). */
  stats(): NativeEngineStats;
  /** The time each plan step took (zero unless loaded with profile: true), in plan order; reset zeroes it. */
  profile(reset: boolean): NativeStepTime[];
  dispose(): void;
}

export interface NativeStepTime {
  /** The node's name in the optimised graph (a fused node keeps its first node's name). */
  node: string;
  /** Its operator, with the domain of fused ones (e.g. 'hs.Attention'). */
  op: string;
  calls: number;
  totalMs: number;
  /** The shapes of its tensor inputs (weights included) in the latest run that changed them. */
  inputShapes: number[][];
}

export interface NativeEngineStats {
  runs: number;
  copies: { hostToDevice: number; deviceToHost: number };
  /** CUDA graphs captured (one per input shape, in a bounded cache per context) and runs replayed from one. */
  cudaGraphs: { captures: number; replays: number };
}

/** The importer's plain description of a graph (see ts/onnx/graph-desc.ts). */
export interface GraphDesc {
  name: string;
  opsets: Record<string, number>;
  inputs: ValueInfoDesc[];
  outputs: ValueInfoDesc[];
  initializers: TensorDesc[];
  nodes: NodeDesc[];
}
export interface ValueInfoDesc {
  name: string;
  type: number; // ONNX TensorProto.DataType (of the tensors inside a sequence or optional), 0 when unknown
  dims: (number | string)[] | null;
  kind: ValueKind;
}
export interface TensorDesc {
  name: string;
  type: number;
  dims: number[];
  data: Uint8Array | string[]; // little-endian element bytes; the elements of a string tensor
}
export type AttrDesc =
  | { name: string; kind: 'f'; value: number }
  | { name: string; kind: 'i'; value: number }
  | { name: string; kind: 's'; value: string }
  | { name: string; kind: 't'; value: TensorDesc }
  | { name: string; kind: 'g'; value: GraphDesc }
  | { name: string; kind: 'fs'; value: number[] }
  | { name: string; kind: 'is'; value: number[] }
  | { name: string; kind: 'ss'; value: string[] }
  | { name: string; kind: 'tp'; value: ValueInfoDesc };
export interface NodeDesc {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: AttrDesc[];
}

export interface CudaDevice {
  index: number;
  name: string;
  sm: number;
  memory: number;
  multiprocessors: number;
}

export interface DevicesInfo {
  backends: string[];
  threads: number;
  /** The CPU backend's micro-kernels, picked for this CPU ('avx512' | 'avx2' | 'generic'; HS_GEMM_KERNEL=avx2|generic forces a slower set). */
  cpuKernels: string;
  cuda: {
    compiled: boolean;
    available: boolean;
    reason: string | null;
    driverVersion: number;
    runtimeVersion: number;
    devices: CudaDevice[];
  };
  operators: string[];
  /**
   * Host memory owned by live native tensors (weights, activations, outputs not yet handed to JS), and
   * the device and pinned host memory the CUDA backend holds (weights, arenas, staging). mallocBytes: what
   * the C allocator has handed out to the whole process and not taken back (null where the C library
   * does not say; glibc 2.33+ does), steadier than the resident size for finding leaks.
   */
  memory: { hostBytes: number; hostBuffers: number; mallocBytes: number | null; deviceBytes: number; pinnedBytes: number };
}

export interface LoadOptionsNative {
  threads?: number;
  streams?: number;
  spin?: boolean;
  optimizationLevel?: number;
  precision?: string;
  device?: string;
  cudaGraphs?: boolean;
  profile?: boolean;
}

export interface Addon {
  devices(): DevicesInfo;
  cacheKey(bytes: Uint8Array, fingerprint: string): Promise<string>;
  loadEngine(
    source: { graph?: GraphDesc; cacheDir?: string; key?: string },
    options: LoadOptionsNative,
  ): Promise<NativeEngine>;
  /** Where the CUDA backend would run each node (builds like loadEngine({ graph }); needs no device). */
  cudaPlacement(source: { graph: GraphDesc }, options: LoadOptionsNative): Promise<NativeBackendInfo>;
  attention?: unknown;
}

let addon: Addon | undefined;

/** Loads the addon once: HS_ADDON_PATH if set, else build/Release, then prebuilds/ (node-gyp-build). */
export function loadAddon(): Addon {
  if (addon) return addon;
  const override = process.env.HS_ADDON_PATH;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  addon = (override ? require(path.resolve(override)) : require('node-gyp-build')(path.join(__dirname, '..'))) as Addon;
  return addon;
}
