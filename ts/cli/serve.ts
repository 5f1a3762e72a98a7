// `highservice serve <repository>`: a KServe v2 server over a Triton-style model repository,
// single-process (--workers 0) or with M CPU workers in front of one GPU process. Ctrl-C (or
// SIGTERM) drains requests in flight before exiting.
import { serve } from '../server/serve';
import { HsError } from '../errors';
import { isHfModelDir, serveLlm } from '../llm';
import { checkMatmulPrecision } from '../llm/LlmEngine';

export interface ServeCommandOptions {
  port: string;
  host: string;
  workers: string;
  maxBatch?: string;
  maxDelay?: string;
  apiKey?: string[];
  alertWebhook?: string;
  cache: boolean;
  log?: boolean;
  /** LLM directories only: speculative decoding with this draft model directory. */
  draftModel?: string;
  numSpeculativeTokens?: string;
  /** LLM directories only: auto | cpu | cuda. */
  device?: string;
  /** LLM directories only: 'fp32' | 'bf16'. */
  matmulPrecision?: string;
  /** LLM directories only: 'auto' | 'none' (use generation_config.json or not). */
  generationConfig?: string;
  /** LLM directories only: how many /v1/responses results are kept for previous_response_id. */
  storedResponses?: string;
}

function integer(value: string, flag: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new HsError('ERR_INVALID_ARGUMENT', `${flag} must be an integer >= ${min}, got '${value}'`);
  return n;
}

export async function serveCommand(repository: string, options: ServeCommandOptions): Promise<void> {
  if (isHfModelDir(repository)) return serveLlmCommand(repository, options);
  const llmOnly = [options.draftModel, options.numSpeculativeTokens, options.device, options.matmulPrecision, options.generationConfig, options.storedResponses];
  if (llmOnly.some((v) => v !== undefined))
    throw new HsError('ERR_INVALID_ARGUMENT', `--draft-model, --num-speculative-tokens, --device, --matmul-precision, --generation-config and --stored-responses apply to an LLM directory (config.json + *.safetensors); ${repository} is a model repository (its models' config.json choose their device)`);
  const modelDefaults: { maxBatchSize?: number; maxQueueDelayMs?: number } = {};
  if (options.maxBatch !== undefined) modelDefaults.maxBatchSize = integer(options.maxBatch, '--max-batch', 1);
  if (options.maxDelay !== undefined) {
    const delay = Number(options.maxDelay);
    if (!(delay >= 0)) throw new HsError('ERR_INVALID_ARGUMENT', `--max-delay must be a number of milliseconds >= 0, got '${options.maxDelay}'`);
    modelDefaults.maxQueueDelayMs = delay;
  }
  const server = await serve({
    repository,
    port: integer(options.port, '--port', 0),
    host: options.host,
    cpuWorkers: integer(options.workers, '--workers', 0),
    modelDefaults,
    apiKeys: options.apiKey,
    cacheDir: options.cache ? undefined : false,
    logger: options.log,
    alerts: options.alertWebhook
      ? {
          webhook: options.alertWebhook,
          rules: [
            { name: 'high-failure-rate', metric: 'failureRate', threshold: 0.05 },
            { name: 'high-latency', metric: 'meanLatencyMs', threshold: 1000 },
            { name: 'busy', metric: 'processBusy', threshold: 0.9 },
          ],
        }
      : undefined,
  });
  console.log(`highservice: serving ${repository} on ${server.url} (KServe v2; /metrics)`);
  const stop = () => {
    console.log('highservice: draining requests in flight...');
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

// A Hugging Face checkpoint directory (config.json + *.safetensors) gets the OpenAI-compatible LLM server.
async function serveLlmCommand(dir: string, options: ServeCommandOptions): Promise<void> {
  const repositoryOnly = { '--workers': options.workers !== '0' ? options.workers : undefined, '--max-batch': options.maxBatch, '--max-delay': options.maxDelay, '--alert-webhook': options.alertWebhook };
  const misplaced = Object.entries(repositoryOnly).filter(([, v]) => v !== undefined).map(([flag]) => flag);
  if (misplaced.length > 0)
    throw new HsError('ERR_INVALID_ARGUMENT', `${misplaced.join(', ')} apply to a model repository; ${dir} is an LLM directory (its engine batches continuously in one process)`);
  const speculative = speculativeFromFlags(options);
  const device = options.device ?? 'cpu';
  if (device !== 'auto' && device !== 'cpu' && device !== 'cuda')
    throw new HsError('ERR_INVALID_ARGUMENT', `--device must be auto, cpu or cuda, got '${device}'`);
  const matmulPrecision = checkMatmulPrecision(options.matmulPrecision, '--matmul-precision');
  const generationConfig = options.generationConfig ?? 'auto';
  if (generationConfig !== 'auto' && generationConfig !== 'none')
    throw new HsError('ERR_INVALID_ARGUMENT', `--generation-config must be auto or none, got '${generationConfig}'`);
  const server = await serveLlm({
    dir, port: integer(options.port, '--port', 0), host: options.host, logger: options.log, speculative, device, matmulPrecision, generationConfig,
    apiKeys: options.apiKey, storedResponses: options.storedResponses === undefined ? undefined : integer(options.storedResponses, '--stored-responses', 0),
  });
  const info = server.engine.model.info;
  console.log(`highservice: the LLM runs on ${info.device}${info.deviceName ? ` (${info.deviceName})` : ''}, ${info.weightType} weights`);
  const drafting = speculative ? `; speculative decoding with the draft model in ${speculative.model}, ${speculative.numSpeculativeTokens} tokens per step` : '';
  const precision = matmulPrecision === 'bf16' ? `; bf16 projections (${server.engine.model.info.bf16Kernel})` : '';
  console.log(`highservice: serving the LLM in ${dir} on ${server.url} (OpenAI-compatible: /v1/completions, /v1/chat/completions, /v1/responses)${drafting}${precision}`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

// --draft-model <dir> [--num-speculative-tokens N] -> the engine's `speculative` option.
function speculativeFromFlags(options: ServeCommandOptions): { method: 'draft'; model: string; numSpeculativeTokens: number } | null {
  if (options.draftModel === undefined) {
    if (options.numSpeculativeTokens !== undefined) throw new HsError('ERR_INVALID_ARGUMENT', '--num-speculative-tokens needs --draft-model <dir>');
    return null;
  }
  if (!isHfModelDir(options.draftModel))
    throw new HsError('ERR_INVALID_ARGUMENT', `--draft-model must be a Hugging Face model directory (config.json + *.safetensors), got '${options.draftModel}'`);
  const k = options.numSpeculativeTokens === undefined ? 4 : integer(options.numSpeculativeTokens, '--num-speculative-tokens', 1);
  return { method: 'draft', model: options.draftModel, numSpeculativeTokens: k };
}
