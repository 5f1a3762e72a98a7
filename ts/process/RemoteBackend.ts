// The InferenceBackend of a CPU worker: every call goes to the model repository that lives in
// the GPU process (its built-in '@repository' service), tensors through shared memory.
import type { Feeds, Outputs } from '../batching/batchTensors';
import type { IndexEntry, InferenceBackend, InferOptions, InferResult, ModelMetadata } from '../server/backend';
import type { GpuClient } from './GpuClient';
import { REPOSITORY_SERVICE } from './protocol';

export class RemoteBackend implements InferenceBackend {
  constructor(private readonly client: GpuClient) {}

  private async control<T>(method: string, args: Record<string, unknown> = {}): Promise<T> {
    return (await this.client.call(REPOSITORY_SERVICE, method, [], args)).value as T;
  }

  metadata(model: string, version?: string): Promise<ModelMetadata> {
    return this.control('metadata', { model, version });
  }

  modelReady(model: string, version?: string): Promise<boolean> {
    return this.control('modelReady', { model, version });
  }

  async ready(): Promise<boolean> {
    return this.control<boolean>('ready').catch(() => false);
  }

  async infer(model: string, version: string | undefined, feeds: Feeds, options: InferOptions): Promise<InferResult> {
    const result = await this.client.call(REPOSITORY_SERVICE, 'infer', feeds, { model, version, ...options });
    return { version: result.value as string, outputs: result.tensors as Outputs };
  }

  index(): Promise<IndexEntry[]> {
    return this.control('index');
  }

  async load(model: string): Promise<void> {
    await this.control('load', { model });
  }

  async unload(model: string): Promise<void> {
    await this.control('unload', { model });
  }
}
