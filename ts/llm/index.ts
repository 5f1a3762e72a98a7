// highservice-native/llm: Hugging Face Llama / Qwen2 checkpoints served with continuous batching,
// a paged KV cache with prefix caching, and an OpenAI-compatible HTTP API.
export { LlmEngine, startLlmEngine } from './LlmEngine';
export type { EngineStats, LlmEngineOptions, PromptInput, RequestTimings, SpeculativeOptions } from './LlmEngine';
export type { GenerationChunk, GenerationUsage, LlmGeneration } from './generation';
export type { SamplingParams, TokenLogprobs } from './sampling';
export type { ChatMessage, LlmTokenizer } from './tokenizer';
export type { ModelConfig } from './config';
export type { MatmulPrecision } from './native';
export type { FinishReason } from './scheduler/sequence';
export { serveLlm } from './server/serveLlm';
export { isHfModelDir } from './server/detect';
export type { LlmServer, ServeLlmOptions } from './server/serveLlm';
export { buildLlmApp } from './server/app';
export { benchLlm, formatLlmBench } from './bench/benchLlm';
export type { LlmBenchOptions, LlmBenchResult } from './bench/benchLlm';
