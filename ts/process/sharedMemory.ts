// Typed access to the addon's POSIX shared-memory functions (native/napi/shared_memory_binding.cpp).
import { loadAddon } from '../binding';
import { HsError } from '../errors';

interface SharedMemoryAddon {
  shmCreate(name: string, bytes: number): ArrayBuffer;
  shmOpen(name: string): ArrayBuffer;
  shmUnlink(name: string): boolean;
}

function addon(): SharedMemoryAddon {
  const a = loadAddon() as unknown as Partial<SharedMemoryAddon>;
  if (typeof a.shmCreate !== 'function' || typeof a.shmOpen !== 'function' || typeof a.shmUnlink !== 'function')
    throw new HsError('ERR_INTERNAL', 'this build of the addon has no shared-memory support (shmCreate/shmOpen/shmUnlink)');
  return a as SharedMemoryAddon;
}

/** Creates a new segment (fails if the name exists); the mapping is freed when the buffer is collected. */
export function createSegment(name: string, bytes: number): ArrayBuffer {
  return addon().shmCreate(name, bytes);
}

export function openSegment(name: string): ArrayBuffer {
  return addon().shmOpen(name);
}

/** Removes the name; mappings stay valid until their buffers are collected. */
export function unlinkSegment(name: string): boolean {
  return addon().shmUnlink(name);
}
