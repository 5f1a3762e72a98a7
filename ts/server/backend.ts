// What the HTTP layer needs from whoever runs the models: the in-process ModelRepository, or a
// client of the GPU process (ts/process/RemoteBackend.ts) in the multi-process server.
import type { Feeds, Outputs } from '../batching/batchTensors';

/** A tensor as model metadata describes it; -1 marks a dynamic dimension. */
export interface TensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
}

export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

export type ModelState = 'READY' | 'UNAVAILABLE' | 'LOADING' | 'UNLOADING';

export interface IndexEntry {
  name: string;
  version?: string;
  state: ModelState;
  reason: string;
}

export interface InferOptions {
  priority?: number;
  timeoutMs?: number;
}

export interface InferResult {
  version: string;
  outputs: Outputs;
}

export interface InferenceBackend {
  /** Throws ERR_MODEL_NOT_FOUND for an unknown model or version, ERR_MODEL_NOT_READY when it is not loaded. */
  metadata(model: string, version?: string): Promise<ModelMetadata>;
  modelReady(model: string, version?: string): Promise<boolean>;
  /** True when every model that should be loaded is. */
  ready(): Promise<boolean>;
  infer(model: string, version: string | undefined, feeds: Feeds, options: InferOptions): Promise<InferResult>;
  index(): Promise<IndexEntry[]>;
  load(model: string): Promise<void>;
  unload(model: string): Promise<void>;
}
