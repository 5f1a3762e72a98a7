// Tensors in shared memory: the sender copies each tensor's bytes into one ring block and sends
// only descriptors (name, type, dims, offset, byte length) over the IPC channel; the receiver
// builds typed-array views over the same mapping (zero-copy) or copies out of it.
import type { TensorData, TensorType } from '../binding';
import { HsError } from '../errors';
import { Tensor, type TensorLike } from '../tensor';
import { ShmRing } from './ShmRing';

export interface TensorDescriptor {
  name: string | null;
  type: TensorType;
  dims: number[];
  offset: number;
  bytes: number;
}

export interface ShmMessage {
  /** Payload offset of the ring block holding the tensors (-1 when there are none). */
  block: number;
  tensors: TensorDescriptor[];
}

const ALIGN = 64;
const alignUp = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

const ARRAY_OF: Record<TensorType, new (buffer: ArrayBufferLike, byteOffset: number, length: number) => TensorData> = {
  float32: Float32Array, float64: Float64Array, float16: Uint16Array, bfloat16: Uint16Array,
  int64: BigInt64Array, int32: Int32Array, int16: Int16Array, int8: Int8Array,
  uint64: BigUint64Array, uint32: Uint32Array, uint16: Uint16Array, uint8: Uint8Array, bool: Uint8Array,
};

/** Writes tensors into one block of `ring`; throws ERR_SHM_FULL when the ring has no room now. */
export function writeTensors(ring: ShmRing, tensors: [string | null, TensorLike][]): ShmMessage {
  if (tensors.length === 0) return { block: -1, tensors: [] };
  const sizes = tensors.map(([name, t]) => {
    if (!ARRAY_OF[t.type as TensorType] || !ArrayBuffer.isView(t.data))
      throw new HsError('ERR_TYPE', `tensor '${name ?? '?'}' has type '${t.type}' or data that cannot cross processes`);
    return (t.data as TensorData).byteLength;
  });
  const total = sizes.reduce((n, b) => n + alignUp(b), 0);
  const block = ring.alloc(total);
  if (block === null) throw new HsError('ERR_SHM_FULL', `no room for ${total} bytes in the shared-memory ring (${ring.size} bytes; ${ring.usedBytes} in use)`);
  const bytes = new Uint8Array(ring.buffer);
  let at = block;
  const descriptors = tensors.map(([name, t], i) => {
    const data = t.data as TensorData;
    bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    const d: TensorDescriptor = { name, type: t.type as TensorType, dims: [...t.dims], offset: at, bytes: sizes[i] };
    at += alignUp(sizes[i]);
    return d;
  });
  return { block, tensors: descriptors };
}

/** Tensors over the mapping (views, valid until the block is released) or copied out of it. */
export function readTensors(buffer: ArrayBuffer, message: ShmMessage, copy: boolean): [string | null, Tensor][] {
  return message.tensors.map((d) => {
    const Ctor = ARRAY_OF[d.type];
    const elements = d.dims.reduce((a, b) => a * b, 1);
    if (!Ctor || d.offset < 0 || d.offset + d.bytes > buffer.byteLength || elements * Ctor.prototype.BYTES_PER_ELEMENT !== d.bytes)
      throw new HsError('ERR_INTERNAL', `a tensor descriptor does not fit the shared-memory segment: ${JSON.stringify(d)}`);
    const view = new Ctor(buffer, d.offset, elements);
    return [d.name, new Tensor(d.type, copy ? (view.slice() as TensorData) : view, d.dims)];
  });
}

export function releaseBlock(buffer: ArrayBuffer, message: ShmMessage): void {
  if (message.block >= 0) ShmRing.release(buffer, message.block);
}
