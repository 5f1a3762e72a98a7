// The typed surface of the addon's LLM functions (native/napi/llm_binding.cpp).
import { loadAddon } from '../binding';

export type StoredDType = 'float32' | 'float16' | 'bfloat16';
export type WeightType = StoredDType | 'int8';
/** 'bf16': projections with bf16 operands and float32 accumulation (see LlmEngineOptions.matmulPrecision). */
export type MatmulPrecision = 'fp32' | 'bf16';

export interface NativeLlmConfig {
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  intermediateSize: number;
  vocabSize: number;
  rmsNormEps: number;
  qkvBias: boolean;
  tieWordEmbeddings: boolean;
  invFreq: Float32Array;
  ropeAttentionScaling: number;
}

/** One tensor of a safetensors file: `offset` is absolute in the file. */
export interface NativeTensorDesc {
  name: string;
  file: string;
  dtype: StoredDType;
  shape: number[];
  offset: number;
  bytes: number;
}

export type LlmDevice = 'cpu' | 'cuda';

export interface NativeLlmOptions {
  /** 'cuda': the CUDA forward (native/backends/cuda/llm); ERR_CUDA_UNAVAILABLE without CUDA. Default 'cpu'. */
  device?: LlmDevice;
  threads?: number;
  numBlocks: number;
  blockSize: number;
  weightType?: WeightType;
  matmulPrecision?: MatmulPrecision;
}

/** One forward: the tokens of each sequence contiguous; see LlmModel::forward. */
export interface NativeLlmBatch {
  tokens: Int32Array;
  positions: Int32Array;
  queryLens: Int32Array;
  blockTables: Int32Array;
  maxBlocks: number;
  logitsPerSeq: Int32Array;
}

export interface NativeLlmInfo {
  device: LlmDevice;
  /** The GPU's name on 'cuda', else null. */
  deviceName: string | null;
  /** Compute capability (major * 10 + minor) on 'cuda'. */
  sm?: number;
  numBlocks: number;
  blockSize: number;
  kvCacheBytes: number;
  weightBytes: number;
  threads: number;
  weightType: WeightType;
  /** Element type of the KV cache: float32 on the CPU, the weights' 16-bit type on CUDA. */
  kvCacheType: WeightType;
  /** 'cuda': device bytes the model holds now (weights, cache, scratch). */
  deviceBytes?: number;
  /** On 'cuda', the 16-bit type of the GEMM operands ('fp16' for float16 weights). */
  matmulPrecision: MatmulPrecision | 'fp16';
  /** With 'bf16': 'avx512bf16' (the CPU's vdpbf16ps), else an emulation with the same results. */
  bf16Kernel: 'avx512bf16' | 'avx2' | 'scalar' | null;
}

export interface NativeLlm {
  readonly info: NativeLlmInfo;
  /** Logits of sum(logitsPerSeq) rows, vocabSize floats each. */
  forward(batch: NativeLlmBatch): Promise<Float32Array>;
  dispose(): void;
}

interface LlmAddon {
  loadLlm(config: NativeLlmConfig, tensors: NativeTensorDesc[], options: NativeLlmOptions): Promise<NativeLlm>;
  measureReadBandwidth(bytes: number, passes: number, threads: number): Promise<number>;
}

/** Memory read bandwidth in bytes per second (best of `passes` reads of `bytes`). */
export function measureReadBandwidth(bytes: number, passes: number, threads: number): Promise<number> {
  return (loadAddon() as unknown as LlmAddon).measureReadBandwidth(bytes, passes, threads);
}

export function loadNativeLlm(config: NativeLlmConfig, tensors: NativeTensorDesc[], options: NativeLlmOptions): Promise<NativeLlm> {
  return (loadAddon() as unknown as LlmAddon).loadLlm(config, tensors, options);
}
