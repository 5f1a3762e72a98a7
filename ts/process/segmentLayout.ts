// The layout of a worker's shared-memory segment: the first half is the request ring (the worker
// allocates, the GPU process releases), the second the response ring (the GPU process allocates,
// the worker releases). Either side builds its ring over the same bytes from the segment alone.
import { ShmRing } from './ShmRing';

function half(segment: ArrayBuffer): number {
  return Math.floor(segment.byteLength / 2 / 64) * 64;
}

export function requestRing(segment: ArrayBuffer): ShmRing {
  return new ShmRing(segment, 0, half(segment));
}

export function responseRing(segment: ArrayBuffer): ShmRing {
  const base = half(segment);
  return new ShmRing(segment, base, Math.floor((segment.byteLength - base) / 64) * 64);
}
