// A Triton-style model repository, loaded in the process that owns the device:
//   <root>/<model>/config.json        optional (ts/server/modelConfig.ts)
//   <root>/<model>/<version>/model.onnx
// Every version folder of every model loads at start; each version gets one Engine and one
// DynamicBatcher. Requests are checked against the model's inputs before they queue, so a bad
// request fails alone instead of failing the batch it would have joined.
import { promises as fs } from 'node:fs';
import path from 'node:path';

import { DynamicBatcher } from '../batching/DynamicBatcher';
import type { Feeds, Outputs } from '../batching/batchTensors';
import { Engine, type EngineValue, type ValueInfo } from '../engine/Engine';
import { HsError } from '../errors';
import { BusyTracker } from '../metrics/BusyTracker';
import type { ServingMetrics } from '../metrics/ServingMetrics';
import type { IndexEntry, InferenceBackend, InferOptions, InferResult, ModelMetadata, ModelState, TensorMetadata } from './backend';
import { datatypeOf } from './datatypes';
import { DEFAULT_MODEL_CONFIG, readModelConfig, type ModelConfig } from './modelConfig';

export interface RepositoryOptions {
  /** Defaults for models whose config.json does not say (e.g. the CLI's --max-batch). */
  defaults?: Partial<ModelConfig>;
  /** Engine cache folder (false disables it). */
  cacheDir?: string | false;
  metrics?: ServingMetrics;
}

interface LoadedVersion {
  version: string;
  engine: Engine;
  batcher: DynamicBatcher;
  metadata: { inputs: TensorMetadata[]; outputs: TensorMetadata[] };
}

interface ModelEntry {
  name: string;
  dir: string;
  state: ModelState;
  reason: string;
  config: ModelConfig;
  versions: Map<string, LoadedVersion>; // ordered by version number
}

const isSymbolic = (d: number | string | null | undefined) => typeof d !== 'number' || d < 0;

function tensorMetadata(v: ValueInfo): TensorMetadata {
  return { name: v.name, datatype: datatypeOf(v.type), shape: (v.dims ?? []).map((d) => (isSymbolic(d) ? -1 : (d as number))) };
}

/** KServe carries tensors only: a model output that is a sequence or optional is ERR_TYPE. */
function tensorOutputs(outputs: Record<string, EngineValue>): Outputs {
  for (const [name, v] of Object.entries(outputs))
    if (v === null || Array.isArray(v))
      throw new HsError('ERR_TYPE', `output '${name}' is a ${v === null ? 'empty optional' : 'sequence'}; the server returns tensors only`);
  return outputs as Outputs;
}

/** A model batches when every input and output leads with a dynamic dimension. */
function hasBatchDim(engine: Engine): boolean {
  return [...engine.inputs, ...engine.outputs].every((v) => v.dims === null || (v.dims.length > 0 && isSymbolic(v.dims[0])));
}

function checkFeeds(engine: Engine, model: string, feeds: Feeds): void {
  for (const name of Object.keys(feeds))
    if (!engine.inputs.some((v) => v.name === name))
      throw new HsError('ERR_BAD_REQUEST', `model '${model}' has no input '${name}'; its inputs are ${JSON.stringify(engine.inputNames)}`);
  for (const info of engine.inputs) {
    const t = feeds[info.name];
    if (!t) throw new HsError('ERR_BAD_REQUEST', `model '${model}' needs input '${info.name}'`);
    if (info.type && t.type !== info.type)
      throw new HsError('ERR_TYPE', `input '${info.name}' of model '${model}' must be ${datatypeOf(info.type)}, got ${datatypeOf(t.type)}`);
    if (!info.dims) continue;
    const fits = t.dims.length === info.dims.length && info.dims.every((d, i) => isSymbolic(d) || d === t.dims[i]);
    if (!fits)
      throw new HsError('ERR_SHAPE', `input '${info.name}' of model '${model}' has shape ${JSON.stringify(t.dims)}; the model takes ${JSON.stringify(tensorMetadata(info).shape)}`);
  }
}

export class ModelRepository implements InferenceBackend {
  private readonly models = new Map<string, ModelEntry>();
  /** Union of compute activity over all models: the Busy of the process that owns the engines. */
  readonly activity = new BusyTracker();

  constructor(readonly root: string, private readonly options: RepositoryOptions = {}) {}

  /** Scans the repository and loads every model; a model that fails stays UNAVAILABLE with its reason. */
  async start(): Promise<void> {
    let names: string[];
    try {
      names = (await fs.readdir(this.root, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    } catch (e) {
      throw new HsError('ERR_NOT_FOUND', `cannot read the model repository '${this.root}': ${(e as Error).message}`, { cause: e });
    }
    await Promise.all(names.map((name) => this.load(name).catch(() => undefined)));
  }

  async metadata(model: string, version?: string): Promise<ModelMetadata> {
    const { entry, loaded } = this.resolve(model, version);
    return { name: entry.name, versions: [...entry.versions.keys()], platform: 'onnx', ...loaded.metadata };
  }

  async modelReady(model: string, version?: string): Promise<boolean> {
    const entry = this.models.get(model);
    if (!entry) return false;
    return entry.state === 'READY' && (version === undefined || entry.versions.has(version));
  }

  async ready(): Promise<boolean> {
    return [...this.models.values()].every((m) => m.state === 'READY');
  }

  async infer(model: string, version: string | undefined, feeds: Feeds, options: InferOptions): Promise<InferResult> {
    const { loaded } = this.resolve(model, version);
    checkFeeds(loaded.engine, model, feeds);
    const outputs = await loaded.batcher.run(feeds, options);
    return { version: loaded.version, outputs };
  }

  async index(): Promise<IndexEntry[]> {
    const rows: IndexEntry[] = [];
    for (const m of this.models.values()) {
      if (m.versions.size === 0) rows.push({ name: m.name, state: m.state, reason: m.reason });
      for (const v of m.versions.keys()) rows.push({ name: m.name, version: v, state: m.state, reason: m.reason });
    }
    return rows;
  }

  /** Loads (or reloads) one model folder: every version, with its config.json. */
  async load(model: string): Promise<void> {
    if (!/^[A-Za-z0-9_.-]+$/.test(model) || model.startsWith('.'))
      throw new HsError('ERR_BAD_REQUEST', `'${model}' is not a valid model name (letters, digits, '_', '-', '.')`);
    const dir = path.join(this.root, model);
    const exists = await fs.stat(dir).then((s) => s.isDirectory(), () => false);
    if (!exists) throw new HsError('ERR_MODEL_NOT_FOUND', `the repository has no model '${model}'`);
    const previous = this.models.get(model);
    if (previous?.state === 'LOADING') throw new HsError('ERR_MODEL_NOT_READY', `model '${model}' is already loading`);
    const entry: ModelEntry = { name: model, dir, state: 'LOADING', reason: '', config: DEFAULT_MODEL_CONFIG, versions: new Map() };
    this.models.set(model, entry);
    if (previous) await this.release(previous);
    try {
      entry.config = await readModelConfig(dir, { ...DEFAULT_MODEL_CONFIG, ...this.options.defaults });
      const versions = (await fs.readdir(dir, { withFileTypes: true }))
        .filter((e) => e.isDirectory() && /^\d+$/.test(e.name))
        .map((e) => e.name)
        .sort((a, b) => Number(a) - Number(b));
      if (versions.length === 0) throw new HsError('ERR_NOT_FOUND', `model '${model}' has no version folder (e.g. ${model}/1/${entry.config.modelFilename})`);
      for (const version of versions) entry.versions.set(version, await this.loadVersion(entry, version));
      entry.state = 'READY';
    } catch (e) {
      await this.release(entry);
      entry.state = 'UNAVAILABLE';
      entry.reason = (e as Error).message;
      throw e;
    }
  }

  /** Drains the model's queues, then frees its engines. */
  async unload(model: string): Promise<void> {
    const entry = this.models.get(model);
    if (!entry) throw new HsError('ERR_MODEL_NOT_FOUND', `the repository has no model '${model}'`);
    entry.state = 'UNLOADING';
    await this.release(entry);
    entry.state = 'UNAVAILABLE';
    entry.reason = 'unloaded';
  }

  /** Drains every model and frees every engine. */
  async close(): Promise<void> {
    await Promise.all([...this.models.values()].map((m) => this.release(m)));
  }

  /** The batchers, for tests and metrics. */
  batcherOf(model: string, version?: string): DynamicBatcher {
    return this.resolve(model, version).loaded.batcher;
  }

  private resolve(model: string, version: string | undefined): { entry: ModelEntry; loaded: LoadedVersion } {
    const entry = this.models.get(model);
    if (!entry) throw new HsError('ERR_MODEL_NOT_FOUND', `the repository has no model '${model}'`);
    if (entry.state !== 'READY')
      throw new HsError('ERR_MODEL_NOT_READY', `model '${model}' is not ready (${entry.state.toLowerCase()}${entry.reason ? `: ${entry.reason}` : ''})`);
    const loaded = version === undefined ? [...entry.versions.values()].at(-1) : entry.versions.get(version);
    if (!loaded) throw new HsError('ERR_MODEL_NOT_FOUND', `model '${model}' has no version '${version}'; it has ${JSON.stringify([...entry.versions.keys()])}`);
    return { entry, loaded };
  }

  private async loadVersion(entry: ModelEntry, version: string): Promise<LoadedVersion> {
    const { config } = entry;
    const engine = await Engine.load(path.join(entry.dir, version, config.modelFilename), {
      device: config.device, precision: config.precision, streams: config.streams, threads: config.threads, spin: config.spin, cacheDir: this.options.cacheDir,
    });
    let batcher: DynamicBatcher | undefined;
    const observer = this.options.metrics?.batchObserver(entry.name, this.activity, () => batcher?.stats().queued ?? 0);
    batcher = new DynamicBatcher({ run: (feeds) => engine.run(feeds).then(tensorOutputs) }, {
      maxBatchSize: config.maxBatchSize, preferredBatchSizes: config.preferredBatchSizes, maxQueueDelayMs: config.maxQueueDelayMs,
      maxQueueSize: config.maxQueueSize, timeoutMs: config.timeoutMs, priorityLevels: config.priorityLevels,
      defaultPriority: config.defaultPriority, maxConcurrentBatches: config.streams, batchable: hasBatchDim(engine), observer,
    });
    return { version, engine, batcher, metadata: { inputs: engine.inputs.map(tensorMetadata), outputs: engine.outputs.map(tensorMetadata) } };
  }

  private async release(entry: ModelEntry): Promise<void> {
    const loaded = [...entry.versions.values()];
    entry.versions.clear();
    await Promise.all(loaded.map((v) => v.batcher.close()));
    for (const v of loaded) v.engine.dispose();
    if (loaded.length) this.options.metrics?.forgetModel(entry.name);
  }
}
