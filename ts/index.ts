export { Engine, defaultCacheDir, type EngineInfo, type EngineOptions, type ValueInfo } from './engine/Engine';
export { devices } from './engine/devices';
export { Tensor, type TensorData, type TensorLike, type TensorType } from './tensor';
export { ERROR_CODES, HsError, httpStatusOf, type ErrorCode } from './errors';
export type { DevicesInfo, CudaDevice } from './binding';
