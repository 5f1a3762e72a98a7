// `highservice bench llm <dir>`: serving throughput, time to first token and time per output token
// at several concurrency levels on a ShareGPT-like generated workload, plus batch-1 decode speed
// against the memory-bandwidth bound (weight bytes read per token), measured in the same run.
import { LlmEngine, type LlmEngineOptions } from '../LlmEngine';
import { measureReadBandwidth } from '../native';
import { shareGptLikeWorkload, type WorkloadRequest } from './workload';

export interface LlmBenchOptions extends LlmEngineOptions {
  concurrency?: number[];
  /** Requests per concurrency level: max(minRequests, 2 x concurrency). */
  minRequests?: number;
  promptMedian?: number;
  outputMedian?: number;
  log?: (line: string) => void;
}

export interface ConcurrencyRow {
  concurrency: number;
  requests: number;
  promptTokens: number;
  outputTokens: number;
  seconds: number;
  tokensPerSecond: number;
  ttftMeanMs: number;
  ttftP99Ms: number;
  tpotMeanMs: number;
}

export interface LlmBenchResult {
  weightBytes: number;
  weightType: string;
  threads: number;
  readBandwidthGBs: number;
  decodeTokensPerSecond: number;
  /** decode tokens/s x weight bytes / read bandwidth */
  bandwidthEfficiency: number;
  rows: ConcurrencyRow[];
  /** Throughput at the highest concurrency over throughput at concurrency 1. */
  batchingSpeedup: number;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function runOne(engine: LlmEngine, r: WorkloadRequest): Promise<{ tokens: number; ttft: number; tpot: number | null }> {
  const start = performance.now();
  let first = 0, last = 0, tokens = 0;
  for await (const chunk of engine.generate(r.prompt, { temperature: 0, maxTokens: r.maxTokens, ignoreEos: true })) {
    if (chunk.tokenId < 0) continue;
    last = performance.now();
    if (tokens++ === 0) first = last;
  }
  return { tokens, ttft: first - start, tpot: tokens > 1 ? (last - first) / (tokens - 1) : null };
}

async function runLevel(engine: LlmEngine, concurrency: number, requests: WorkloadRequest[]): Promise<ConcurrencyRow> {
  const results: Awaited<ReturnType<typeof runOne>>[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < requests.length) results.push(await runOne(engine, requests[next++]));
  }));
  const seconds = (performance.now() - start) / 1000;
  const outputTokens = results.reduce((n, r) => n + r.tokens, 0);
  const tpots = results.map((r) => r.tpot).filter((t): t is number => t !== null);
  return {
    concurrency,
    requests: requests.length,
    promptTokens: requests.reduce((n, r) => n + r.prompt.length, 0),
    outputTokens,
    seconds,
    tokensPerSecond: outputTokens / seconds,
    ttftMeanMs: results.reduce((a, r) => a + r.ttft, 0) / results.length,
    ttftP99Ms: percentile(results.map((r) => r.ttft), 99),
    tpotMeanMs: tpots.reduce((a, b) => a + b, 0) / Math.max(1, tpots.length),
  };
}

export async function benchLlm(dir: string, o: LlmBenchOptions = {}): Promise<LlmBenchResult> {
  const log = o.log ?? ((line: string) => console.log(line));
  const engine = await LlmEngine.load(dir, { enablePrefixCaching: false, maxNumSeqs: 64, ...o });
  try {
    const { weightBytes, weightType, threads } = engine.model.info;
    const bandwidth = await measureReadBandwidth(Math.max(512 << 20, 2 * weightBytes), 5, threads);
    log(`model ${engine.modelName}: ${(weightBytes / 1e9).toFixed(3)} GB of ${weightType} weights, ${threads} threads`);
    log(`memory read bandwidth: ${(bandwidth / 1e9).toFixed(1)} GB/s -> batch-1 decode bound ${(bandwidth / weightBytes).toFixed(1)} tokens/s`);

    const warm = shareGptLikeWorkload({ count: 1, vocabSize: engine.config.vocabSize, promptMedian: 32, outputMedian: 8, maxPrompt: 32, maxOutput: 8, seed: 1 })[0];
    await runOne(engine, warm);
    const decode = await runOne(engine, { prompt: warm.prompt.map((t) => (t + 1) % engine.config.vocabSize), maxTokens: 64 });
    const decodeTokensPerSecond = 1000 / decode.tpot!;
    const bandwidthEfficiency = (decodeTokensPerSecond * weightBytes) / bandwidth;
    log(`batch-1 decode: ${decodeTokensPerSecond.toFixed(1)} tokens/s = ${(100 * bandwidthEfficiency).toFixed(0)}% of the bandwidth bound`);

    const rows: ConcurrencyRow[] = [];
    // One workload; each level runs a prefix of it, so the levels see the same kind of requests.
    const levels = o.concurrency ?? [1, 8, 32];
    const countFor = (c: number) => Math.max(o.minRequests ?? 4, 2 * c);
    const workload = shareGptLikeWorkload({
      count: Math.max(...levels.map(countFor)), vocabSize: engine.config.vocabSize,
      promptMedian: o.promptMedian ?? 64, outputMedian: o.outputMedian ?? 48, maxPrompt: 512, maxOutput: 256, seed: 100,
    });
    for (const concurrency of levels) {
      const requests = workload.slice(0, countFor(concurrency));
      const row = await runLevel(engine, concurrency, requests);
      rows.push(row);
      log(`concurrency ${String(concurrency).padStart(3)}: ${row.requests} requests (${row.promptTokens} prompt tokens), ${row.outputTokens} output tokens in ${row.seconds.toFixed(1)} s = ` +
        `${row.tokensPerSecond.toFixed(1)} tokens/s; TTFT mean ${row.ttftMeanMs.toFixed(0)} ms, p99 ${row.ttftP99Ms.toFixed(0)} ms; TPOT mean ${row.tpotMeanMs.toFixed(1)} ms`);
    }
    const batchingSpeedup = rows.length > 1 ? rows[rows.length - 1].tokensPerSecond / rows[0].tokensPerSecond : 1;
    log(`continuous batching: ${batchingSpeedup.toFixed(1)}x the throughput of one request at a time`);
    return { weightBytes, weightType, threads, readBandwidthGBs: bandwidth / 1e9, decodeTokensPerSecond, bandwidthEfficiency, rows, batchingSpeedup };
  } finally {
    engine.dispose();
  }
}
