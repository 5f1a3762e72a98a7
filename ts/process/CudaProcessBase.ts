// The base of a GPU-process service (the seed's CudaProcessBase): a module's default export
// extends it, declares load() and its methods; CPU workers call the methods by name with
// GpuClient.get(name).run(method, tensors). Methods take and return tensors (an array or a record
// keyed by name) plus an optional JSON argument; they run in the one process that owns the device.
import type { Tensor } from '../tensor';

export type ServiceTensors = Tensor[] | Record<string, Tensor>;

export abstract class CudaProcessBase {
  /** The name clients use (default: the class name). */
  static serviceName?: string;

  /** Loads models and weights; called once before any method. */
  abstract load(): Promise<void> | void;

  /** Frees what load() took; called at shutdown. */
  dispose(): Promise<void> | void {}
}

/** Method names a client may call: own methods of the subclass chain, not the base's or Object's. */
export function callableMethod(service: CudaProcessBase, method: string): ((tensors: ServiceTensors, args?: unknown) => unknown) | null {
  if (method.startsWith('_') || method === 'constructor' || method === 'load' || method === 'dispose') return null;
  for (let proto = Object.getPrototypeOf(service); proto && proto !== CudaProcessBase.prototype; proto = Object.getPrototypeOf(proto)) {
    const descriptor = Object.getOwnPropertyDescriptor(proto, method);
    if (descriptor && typeof descriptor.value === 'function') return descriptor.value.bind(service);
  }
  return null;
}
