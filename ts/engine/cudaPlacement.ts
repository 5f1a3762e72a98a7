// cudaPlacement: where the CUDA backend would run each node of a model (and the host<->device copies
// one run would make), built exactly as Engine.load builds it but without a device, so the coverage
// of a model can be checked on any machine whose addon was compiled with CUDA.
import { promises as fs } from 'node:fs';
import path from 'node:path';

import { loadAddon, type NativeBackendInfo } from '../binding';
import { HsError } from '../errors';
import { decodeOffThread } from '../onnx/decodeOffThread';

export type CudaPlacement = Omit<NativeBackendInfo, 'deviceName' | 'sm' | 'fallbackReason' | 'tactics'>;

export async function cudaPlacement(
  model: string | Uint8Array,
  options: { optimizationLevel?: 0 | 1 | 2 } = {},
): Promise<CudaPlacement> {
  const addon = loadAddon();
  if (!addon.devices().cuda.compiled) throw new HsError('ERR_CUDA_UNAVAILABLE', 'the addon was built without CUDA');
  if (typeof model === 'string') await fs.access(model).catch((e) => {
    throw new HsError('ERR_NOT_FOUND', `cannot read model '${model}': ${(e as Error).message}`, { cause: e });
  });
  const graph = await decodeOffThread(typeof model === 'string' ? { file: path.resolve(model) } : { bytes: model });
  const { device, cpuNodes, hostShapeNodes, copiesPerRun } = await addon.cudaPlacement(
    { graph },
    { optimizationLevel: options.optimizationLevel ?? 2, device: 'cuda' },
  );
  return { device, cpuNodes, hostShapeNodes, copiesPerRun };
}
