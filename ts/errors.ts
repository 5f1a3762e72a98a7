// Every error code the package uses, declared once with its meaning and the HTTP status that the
// server answers with. Native errors carry the same codes (native/include/hs/status.h).
export const ERROR_CODES = {
  ERR_INVALID_ARGUMENT: { status: 400, message: 'An argument is missing or malformed.' },
  ERR_INVALID_MODEL: { status: 400, message: 'The model file is malformed, truncated or inconsistent.' },
  ERR_UNSUPPORTED_OP: { status: 400, message: 'The model uses an operator or attribute the engine cannot run.' },
  ERR_SHAPE: { status: 400, message: 'A tensor shape does not fit the model or the operator.' },
  ERR_TYPE: { status: 400, message: 'A tensor element type does not fit the model or the operator.' },
  ERR_NOT_FOUND: { status: 404, message: 'A named input, output, model or file does not exist.' },
  ERR_IO: { status: 500, message: 'Reading or writing a file failed.' },
  ERR_CACHE_MISS: { status: 500, message: 'No valid cached plan exists for this key (internal; triggers a build).' },
  ERR_CUDA: { status: 500, message: 'A CUDA call failed.' },
  ERR_CUDA_OOM: { status: 503, message: 'The GPU ran out of memory.' },
  ERR_CUDA_UNAVAILABLE: { status: 503, message: 'CUDA was requested but no usable driver or device is present.' },
  ERR_OUT_OF_MEMORY: { status: 503, message: 'A host memory allocation failed: the model needs more memory than the machine can give it.' },
  ERR_DISPOSED: { status: 500, message: 'The engine was used after dispose().' },
  ERR_INTERNAL: { status: 500, message: 'An unexpected internal error.' },
  ERR_BAD_REQUEST: { status: 400, message: 'The HTTP request is malformed: bad JSON, headers, tensor layout or parameters.' },
  ERR_UNAUTHORIZED: { status: 401, message: 'The request lacks a valid API key.' },
  ERR_MODEL_NOT_FOUND: { status: 404, message: 'No model (or model version) of that name is in the repository.' },
  ERR_PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is over the server\'s size limit.' },
  ERR_QUEUE_FULL: { status: 429, message: 'The model\'s request queue is full; retry later.' },
  ERR_MODEL_NOT_READY: { status: 503, message: 'The model exists but is not loaded (loading, unloaded or failed to load).' },
  ERR_GPU_PROCESS: { status: 503, message: 'The GPU process died or is restarting; the request was not completed.' },
  ERR_SHM_FULL: { status: 503, message: 'The shared-memory ring between a worker and the GPU process has no room now.' },
  ERR_SHUTTING_DOWN: { status: 503, message: 'The server is draining for shutdown and takes no new requests.' },
  ERR_TIMEOUT: { status: 504, message: 'The request did not complete within its timeout.' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class HsError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HsError';
    this.code = code;
  }
}

export function httpStatusOf(code: string): number {
  return (ERROR_CODES as Record<string, { status: number }>)[code]?.status ?? 500;
}
