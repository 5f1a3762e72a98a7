// Tensors as onnxruntime-node shapes them: { type, dims, data }. Objects of this shape, and
// onnxruntime-node's own Tensor instances, are accepted wherever a tensor is expected. String
// tensors have type 'string' and data: string[].
import type { ElementType, TensorData, TensorType } from './binding';
import { HsError } from './errors';

export type { ElementType, TensorData, TensorType };

export interface TensorLike {
  readonly type: ElementType | string;
  readonly dims: readonly number[];
  readonly data: TensorData | readonly string[] | unknown;
}

const ARRAY_OF: Record<TensorType, new (n: number) => TensorData> = {
  float32: Float32Array, float64: Float64Array, float16: Uint16Array, bfloat16: Uint16Array,
  int64: BigInt64Array, int32: Int32Array, int16: Int16Array, int8: Int8Array,
  uint64: BigUint64Array, uint32: Uint32Array, uint16: Uint16Array, uint8: Uint8Array, bool: Uint8Array,
};

export class Tensor implements TensorLike {
  readonly type: ElementType;
  readonly data: TensorData | string[];
  readonly dims: readonly number[];

  /** new Tensor('float32', new Float32Array(6), [2, 3]) or new Tensor('string', ['a', 'b']), as in onnxruntime-node. */
  constructor(type: TensorType, data: TensorData | readonly number[] | readonly bigint[], dims?: readonly number[]);
  constructor(type: 'string', data: readonly string[], dims?: readonly number[]);
  constructor(type: ElementType, data: TensorData | readonly unknown[], dims?: readonly number[]);
  constructor(type: ElementType, data: TensorData | readonly unknown[], dims?: readonly number[]) {
    this.type = type;
    if (type === 'string') {
      if (!Array.isArray(data) || !data.every((v) => typeof v === 'string'))
        throw new HsError('ERR_TYPE', "a 'string' tensor's data must be an array of strings");
      this.data = [...(data as string[])];
    } else {
      const Ctor = ARRAY_OF[type];
      if (!Ctor) throw new HsError('ERR_TYPE', `unknown tensor type '${String(type)}'`);
      if (ArrayBuffer.isView(data)) this.data = data as TensorData;
      else {
        const arr = new Ctor((data as unknown[]).length);
        (arr as unknown as { set(a: ArrayLike<unknown>): void }).set(
          type === 'int64' || type === 'uint64' ? (data as unknown[]).map((v) => BigInt(v as number)) : (data as unknown[]),
        );
        this.data = arr;
      }
    }
    this.dims = dims ?? [this.data.length];
    const n = this.dims.reduce((a, b) => a * b, 1);
    if (n !== this.data.length)
      throw new HsError('ERR_SHAPE', `tensor dims ${JSON.stringify(this.dims)} need ${n} elements, data has ${this.data.length}`);
  }

  get size(): number {
    return this.data.length;
  }
}
