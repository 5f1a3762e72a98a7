// Engine: the public entry point. load() reads the model, looks the plan up in the engine cache,
// and builds it on a native thread when there is none; run() resolves with named outputs.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  loadAddon, type NativeEngine, type NativeEngineInfo, type NativeEngineStats, type NativeValue, type NativeValueInfo,
} from '../binding';
import { HsError } from '../errors';
import { decodeOffThread } from '../onnx/decodeOffThread';
import { Tensor, type TensorLike } from '../tensor';
import { devices } from './devices';

export interface EngineOptions {
  /**
   * 'auto' picks CUDA when a device is present and every node has a CUDA kernel, else the CPU
   * (info.device says which, info.fallbackReason why). Default: 'cpu'.
   */
  device?: 'auto' | 'cpu' | 'cuda';
  precision?: 'fp32' | 'fp16' | 'bf16';
  /** Execution contexts that run concurrently and share the weights. */
  streams?: number;
  /** CPU threads (default: the machine's cores). */
  threads?: number;
  /**
   * Idle threads poll before sleeping, like onnxruntime's intra-op pool (default true): pool threads
   * ~200 us, so a parallel region starts in ~1 us instead of a wake-up of tens; each stream's run
   * thread 1 ms after a run, so back-to-back requests skip the wake-up. false saves the CPU where
   * many engines or processes share few cores.
   */
  spin?: boolean;
  /** Engine cache folder (default ~/.cache/highservice); false disables the cache. */
  cacheDir?: string | false;
  /** 0: no graph optimisation, 1: folding and cleanup, 2: + fusions (default). */
  optimizationLevel?: 0 | 1 | 2;
  /**
   * CUDA: capture each input shape's run as a CUDA graph (on its second run) and replay it after,
   * in a bounded cache per context; off by itself where a node runs on the CPU. Default true.
   */
  cudaGraphs?: boolean;
  /**
   * Time every node of every run, for engine.profile() (like onnxruntime's enableProfiling or
   * trtexec's per-layer profile). On CUDA each node is timed between events on its stream, and runs
   * go without CUDA graphs. Default false.
   */
  profile?: boolean;
}

/** One node of the optimised graph in engine.profile(). */
export interface NodeTime {
  node: string;
  op: string;
  /** Where it ran: 'cpu' on the CPU device and for CUDA's fallback nodes (info.backend.cpuNodes). */
  device: 'cpu' | 'cuda';
  calls: number;
  totalMs: number;
  meanMs: number;
  /** The shapes of its tensor inputs, weights included, in the latest run that changed them. */
  inputShapes: number[][];
  /** Its part of the time of all nodes. */
  share: number;
}

export interface EngineProfile {
  /** Runs profiled (since the load or the last reset). */
  runs: number;
  /** The nodes' time together (a run also spends time outside them: checking, copying inputs and outputs). */
  totalMs: number;
  /** In execution order. */
  nodes: NodeTime[];
}

export type ValueInfo = NativeValueInfo;
/** A model output: a tensor, a sequence (an array of tensors), or an optional (null when empty). */
export type EngineValue = Tensor | Tensor[] | null;
/** A model input, shaped as the outputs are; an omitted optional input may also be left out. */
export type FeedValue = TensorLike | readonly TensorLike[] | null;
export type EngineInfo = NativeEngineInfo & { device: 'cpu' | 'cuda'; fallbackReason: string | null; loadMs: number };

const VERSION: string = require('../../package.json').version;

export function defaultCacheDir(): string {
  return process.env.HIGHSERVICE_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'highservice');
}

/** The device to ask the addon for; 'auto' is settled natively (it needs the plan's placement). */
function pickDevice(requested: EngineOptions['device']): 'cpu' | 'cuda' | 'auto' {
  if (requested === undefined) return 'cpu';
  if (requested !== 'cpu' && requested !== 'cuda' && requested !== 'auto')
    throw new HsError('ERR_INVALID_ARGUMENT', `unknown device '${String(requested)}'`);
  const cuda = devices().cuda;
  if (requested === 'cuda' && !cuda.available)
    throw new HsError('ERR_CUDA_UNAVAILABLE', `device 'cuda' was requested: ${cuda.reason}`);
  return requested;
}

/** What the engine cache key must know of the device: a plan built for one GPU is not trusted on another. */
function deviceFingerprint(device: 'cpu' | 'cuda' | 'auto'): unknown {
  if (device === 'cpu') return 'cpu';
  const cuda = devices().cuda;
  const gpu = cuda.devices[0];
  return gpu
    ? { name: gpu.name, sm: gpu.sm, driver: cuda.driverVersion, runtime: cuda.runtimeVersion, device }
    : { device, cuda: 'unavailable' };
}

export class Engine {
  #native: NativeEngine | null;
  readonly #profiled: boolean;
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  readonly info: EngineInfo;

  private constructor(native: NativeEngine, info: EngineInfo, profiled: boolean) {
    this.#native = native;
    this.#profiled = profiled;
    this.inputs = native.inputs;
    this.outputs = native.outputs;
    this.info = info;
  }

  get inputNames(): string[] {
    return this.inputs.map((v) => v.name);
  }
  get outputNames(): string[] {
    return this.outputs.map((v) => v.name);
  }

  static async load(model: string | Uint8Array, options: EngineOptions = {}): Promise<Engine> {
    const started = performance.now();
    const addon = loadAddon();
    const device = pickDevice(options.device);
    let bytes: Uint8Array;
    if (typeof model === 'string') {
      try {
        bytes = await fs.readFile(model);
      } catch (e) {
        throw new HsError('ERR_NOT_FOUND', `cannot read model '${model}': ${(e as Error).message}`, { cause: e });
      }
    } else if (model instanceof Uint8Array) {
      bytes = model;
    } else {
      throw new HsError('ERR_INVALID_ARGUMENT', 'Engine.load(model): model must be a path or a Uint8Array');
    }
    const nativeOptions = {
      threads: options.threads,
      streams: options.streams,
      spin: options.spin,
      optimizationLevel: options.optimizationLevel ?? 2,
      precision: options.precision ?? 'fp32',
      device,
      cudaGraphs: options.cudaGraphs ?? true,
      profile: options.profile ?? false,
    };
    const cacheDir = options.cacheDir === false ? '' : (options.cacheDir ?? defaultCacheDir());
    let key = '';
    let native: NativeEngine | undefined;
    if (cacheDir) {
      const fingerprint = JSON.stringify({
        v: VERSION, o: nativeOptions.optimizationLevel, p: nativeOptions.precision, d: deviceFingerprint(device),
      });
      key = await addon.cacheKey(bytes, fingerprint);
      native = await addon.loadEngine({ cacheDir, key }, nativeOptions).catch((e: { code?: string }) => {
        if (e.code === 'ERR_CACHE_MISS') return undefined;
        throw e;
      });
    }
    if (!native) {
      const graph = await decodeOffThread(typeof model === 'string' ? { file: path.resolve(model) } : { bytes });
      native = await addon.loadEngine({ graph, cacheDir: cacheDir || undefined, key: key || undefined }, nativeOptions);
    }
    const { backend } = native.info;
    return new Engine(native, {
      ...native.info,
      device: backend.device,
      fallbackReason: backend.fallbackReason,
      loadMs: performance.now() - started,
    }, nativeOptions.profile);
  }

  /** Runs the model; feeds are keyed by input name. Resolves with every output, keyed by name. */
  async run(feeds: Record<string, FeedValue>): Promise<Record<string, EngineValue>> {
    const native = this.#native;
    if (!native) throw new HsError('ERR_DISPOSED', 'the engine has been disposed');
    if (feeds === null || typeof feeds !== 'object')
      throw new HsError('ERR_INVALID_ARGUMENT', 'run(feeds): feeds must be an object keyed by input name');
    for (const name of Object.keys(feeds))
      if (!this.inputs.some((v) => v.name === name))
        throw new HsError('ERR_NOT_FOUND', `unknown input '${name}'; the model's inputs are ${JSON.stringify(this.inputNames)}`);
    const ordered = this.inputs.map((v) => checkFeed(v, feeds[v.name]));
    const results = await native.run(ordered);
    const out: Record<string, EngineValue> = {};
    this.outputs.forEach((v, i) => {
      out[v.name] = engineValue(results[i]);
    });
    return out;
  }

  /** Runs completed so far and the host<->device copies they made (engine.info.backend.copiesPerRun each). */
  stats(): NativeEngineStats {
    if (!this.#native) throw new HsError('ERR_DISPOSED', 'the engine has been disposed');
    return this.#native.stats();
  }

  /**
   * The time each node took over the runs so far (or since the last `reset: true`), for an engine
   * loaded with `profile: true`; ERR_INVALID_ARGUMENT otherwise.
   */
  profile({ reset = false }: { reset?: boolean } = {}): EngineProfile {
    if (!this.#native) throw new HsError('ERR_DISPOSED', 'the engine has been disposed');
    if (!this.#profiled) throw new HsError('ERR_INVALID_ARGUMENT', 'profile(): load the engine with { profile: true }');
    const steps = this.#native.profile(reset);
    const { cpuNodes, hostShapeNodes } = this.info.backend;
    const onCpu = new Set([...cpuNodes.map((n) => n.node), ...hostShapeNodes]);
    const totalMs = steps.reduce((sum, s) => sum + s.totalMs, 0);
    const nodes = steps.map((s): NodeTime => ({
      ...s,
      device: this.info.device === 'cuda' && !onCpu.has(`${s.op} node '${s.node}'`) ? 'cuda' : 'cpu',
      meanMs: s.calls ? s.totalMs / s.calls : 0,
      share: totalMs ? s.totalMs / totalMs : 0,
    }));
    return { runs: Math.max(0, ...steps.map((s) => s.calls)), totalMs, nodes };
  }

  /** Frees the engine's memory now. Runs in flight finish first; later calls reject with ERR_DISPOSED. */
  dispose(): void {
    this.#native?.dispose();
    this.#native = null;
  }

  get disposed(): boolean {
    return this.#native === null;
  }
}

const isOptional = (v: ValueInfo) => v.kind === 'optional(tensor)' || v.kind === 'optional(sequence)';

/** The feed for input `v`, checked to be of its kind (the addon checks dtypes, dims and data). */
function checkFeed(v: ValueInfo, feed: FeedValue | undefined): NativeValue {
  if (feed === undefined || feed === null) {
    if (isOptional(v)) return null;
    throw new HsError('ERR_NOT_FOUND', `missing input '${v.name}'`);
  }
  const sequence = v.kind === 'sequence' || v.kind === 'optional(sequence)';
  if (Array.isArray(feed) !== sequence)
    throw new HsError('ERR_TYPE', `input '${v.name}' is a ${v.kind}: pass ${sequence ? 'an array of tensors' : 'a tensor { type, dims, data }'}`);
  for (const t of (sequence ? feed : [feed]) as TensorLike[]) {
    if (t === null || typeof t !== 'object') throw new HsError('ERR_TYPE', `input '${v.name}' must hold tensors { type, dims, data }`);
    if ((t.type === 'string') !== (v.type === 'string') && v.type !== null)
      throw new HsError('ERR_TYPE', `input '${v.name}' must be ${v.type}, got ${String(t.type)}`);
    if (t.type === 'string' && !(Array.isArray(t.data) && t.data.every((s) => typeof s === 'string')))
      throw new HsError('ERR_TYPE', `input '${v.name}' is a string tensor: its data must be an array of strings`);
  }
  return feed as NativeValue;
}

function engineValue(r: NativeValue): EngineValue {
  if (r === null) return null;
  if (Array.isArray(r)) return r.map((t) => new Tensor(t.type, t.data, t.dims));
  return new Tensor(r.type, r.data, r.dims);
}
