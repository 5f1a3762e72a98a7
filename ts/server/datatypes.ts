// KServe v2 datatype names <-> the package's tensor types, with element sizes and array classes.
import type { TensorData, TensorType } from '../binding';

interface DatatypeInfo {
  type: TensorType;
  bytes: number;
  array: new (buffer: ArrayBufferLike, byteOffset: number, length: number) => TensorData;
}

export const KSERVE_DATATYPES: Record<string, DatatypeInfo> = {
  BOOL: { type: 'bool', bytes: 1, array: Uint8Array },
  UINT8: { type: 'uint8', bytes: 1, array: Uint8Array },
  UINT16: { type: 'uint16', bytes: 2, array: Uint16Array },
  UINT32: { type: 'uint32', bytes: 4, array: Uint32Array },
  UINT64: { type: 'uint64', bytes: 8, array: BigUint64Array },
  INT8: { type: 'int8', bytes: 1, array: Int8Array },
  INT16: { type: 'int16', bytes: 2, array: Int16Array },
  INT32: { type: 'int32', bytes: 4, array: Int32Array },
  INT64: { type: 'int64', bytes: 8, array: BigInt64Array },
  FP16: { type: 'float16', bytes: 2, array: Uint16Array },
  BF16: { type: 'bfloat16', bytes: 2, array: Uint16Array },
  FP32: { type: 'float32', bytes: 4, array: Float32Array },
  FP64: { type: 'float64', bytes: 8, array: Float64Array },
};

const NAME_OF_TYPE = Object.fromEntries(Object.entries(KSERVE_DATATYPES).map(([name, info]) => [info.type, name])) as Record<TensorType, string>;

export function datatypeOf(type: TensorType | string | null): string {
  return (type && NAME_OF_TYPE[type as TensorType]) ?? 'UNKNOWN';
}

