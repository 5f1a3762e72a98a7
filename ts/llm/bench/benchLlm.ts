// `highservice bench llm`: serving throughput, time to first token and time per output token
// at several concurrency levels (the same generated ShareGPT-like requests at every level, so
// concurrency 1 is one-at-a-time serving of exactly that work), plus batch-1 decode speed against
// the memory-bandwidth bound (weight bytes read per token), measured in the same run.
import { LlmEngine, type LlmEngineOptions } from '../LlmEngine';
import { measureReadBandwidth } from '../native';
import { shareGptLikeWorkload, type WorkloadRequest } from './workload';

export interface LlmBenchOptions extends LlmEngineOptions {
  /** Concurrency levels (default 1, 8, 32). */
  concurrency?: number[];
  /** Requests run at every level (default 64). */
  requests?: number;
  /** Median prompt and output lengths (default 32 and 64: ShareGPT's outputs are about twice its prompts). */
  promptMedian?: number;
  outputMedian?: number;
  log?: (line: string) => void;
}

/** The goals on CPU. */
export const LLM_BENCH_GOALS = { bandwidthEfficiency: 0.7, batchingSpeedup: 5 };

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
  /** Where the model ran, and the GPU's name on 'cuda'. */
  device: 'cpu' | 'cuda';
  deviceName: string | null;
  weightBytes: number;
  weightType: string;
  matmulPrecision: string;
  threads: number;
  /** Host memory read bandwidth (NaN on 'cuda': the bound is the device's, which is not probed). */
  readBandwidthGBs: number;
  decodeTokensPerSecond: number;
  /** decode tokens/s x weight bytes / read bandwidth (NaN on 'cuda') */
  bandwidthEfficiency: number;
  rows: ConcurrencyRow[];
  /** Throughput at the highest concurrency over throughput at concurrency 1 (one request at a time). */
  batchingSpeedup: number;
  batchingConcurrency: number;
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
    const { weightBytes, weightType, threads, device, deviceName, matmulPrecision, bf16Kernel } = engine.model.info;
    if (device === 'cuda') {
      log(`model ${engine.modelName}: ${(weightBytes / 1e9).toFixed(3)} GB of ${weightType} weights on cuda (${deviceName})`);
    } else {
      const precision = matmulPrecision === 'bf16' ? `bf16 projections (${bf16Kernel})` : 'fp32 projections';
      log(`model ${engine.modelName}: ${(weightBytes / 1e9).toFixed(3)} GB of ${weightType} weights, ${precision}, ${threads} threads`);
    }
    const bandwidth = device === 'cuda' ? NaN : await measureReadBandwidth(Math.max(512 << 20, 2 * weightBytes), 5, threads);
    if (device !== 'cuda') log(`memory read bandwidth: ${(bandwidth / 1e9).toFixed(1)} GB/s -> batch-1 decode bound ${(bandwidth / weightBytes).toFixed(1)} tokens/s`);

    const warm = shareGptLikeWorkload({ count: 1, vocabSize: engine.config.vocabSize, promptMedian: 32, outputMedian: 8, maxPrompt: 32, maxOutput: 8, seed: 1 })[0];
    await runOne(engine, warm);
    const decode = await runOne(engine, { prompt: warm.prompt.map((t) => (t + 1) % engine.config.vocabSize), maxTokens: 128 });
    const decodeTokensPerSecond = 1000 / decode.tpot!;
    const bandwidthEfficiency = (decodeTokensPerSecond * weightBytes) / bandwidth;
    log(device === 'cuda'
      ? `batch-1 decode: ${decodeTokensPerSecond.toFixed(1)} tokens/s`
      : `batch-1 decode: ${decodeTokensPerSecond.toFixed(1)} tokens/s = ${(100 * bandwidthEfficiency).toFixed(0)}% of the bandwidth bound`);

    const levels = o.concurrency ?? [1, 8, 32];
    const requests = shareGptLikeWorkload({
      count: o.requests ?? 64, vocabSize: engine.config.vocabSize,
      promptMedian: o.promptMedian ?? 32, outputMedian: o.outputMedian ?? 64, maxPrompt: 512, maxOutput: 512, seed: 100,
    });
    const rows: ConcurrencyRow[] = [];
    for (const concurrency of levels) {
      const row = await runLevel(engine, concurrency, requests);
      rows.push(row);
      log(`concurrency ${String(concurrency).padStart(3)}: ${row.requests} requests (${row.promptTokens} prompt tokens), ${row.outputTokens} output tokens in ${row.seconds.toFixed(1)} s = ` +
        `${row.tokensPerSecond.toFixed(1)} tokens/s; TTFT mean ${row.ttftMeanMs.toFixed(0)} ms, p99 ${row.ttftP99Ms.toFixed(0)} ms; TPOT mean ${row.tpotMeanMs.toFixed(1)} ms`);
    }
    const one = rows.find((r) => r.concurrency === 1), top = rows[rows.length - 1];
    const batchingSpeedup = one && top ? top.tokensPerSecond / one.tokensPerSecond : NaN;
    log(`continuous batching at concurrency ${top?.concurrency}: ${batchingSpeedup.toFixed(1)}x the throughput of one request at a time`);
    return {
      device, deviceName, weightBytes, weightType, matmulPrecision, threads, readBandwidthGBs: bandwidth / 1e9, decodeTokensPerSecond, bandwidthEfficiency, rows,
      batchingSpeedup, batchingConcurrency: top?.concurrency ?? 1,
    };
  } finally {
    engine.dispose();
  }
}

/** The result as a Markdown table, with the two goals read off it. */
export function formatLlmBench(r: LlmBenchResult): string {
  const met = (ok: boolean) => (ok ? 'met' : 'not met');
  const cuda = r.device === 'cuda';
  const lines = [
    cuda
      ? `device: cuda (${r.deviceName}); weights: ${(r.weightBytes / 1e9).toFixed(3)} GB ${r.weightType}; batch-1 decode ${r.decodeTokensPerSecond.toFixed(1)} tokens/s`
      : `weights: ${(r.weightBytes / 1e9).toFixed(3)} GB ${r.weightType}; matmul precision ${r.matmulPrecision}; ${r.threads} threads; memory read bandwidth ${r.readBandwidthGBs.toFixed(1)} GB/s ` +
        `(batch-1 decode bound ${((r.readBandwidthGBs * 1e9) / r.weightBytes).toFixed(1)} tokens/s)`,
    '',
    '| concurrency | requests | prompt tokens | output tokens | seconds | output tokens/s | TTFT mean ms | TTFT p99 ms | TPOT mean ms |',
    '|---|---|---|---|---|---|---|---|---|',
    ...r.rows.map((x) => `| ${x.concurrency} | ${x.requests} | ${x.promptTokens} | ${x.outputTokens} | ${x.seconds.toFixed(1)} | ${x.tokensPerSecond.toFixed(1)} | ` +
      `${x.ttftMeanMs.toFixed(0)} | ${x.ttftP99Ms.toFixed(0)} | ${x.tpotMeanMs.toFixed(1)} |`),
    '',
    '| goal | target | measured | |',
    '|---|---|---|---|',
    ...(cuda ? [] : [`| batch-1 decode vs the bandwidth bound | >= ${100 * LLM_BENCH_GOALS.bandwidthEfficiency}% | ${(100 * r.bandwidthEfficiency).toFixed(0)}% (${r.decodeTokensPerSecond.toFixed(1)} tokens/s) | ` +
      `${met(r.bandwidthEfficiency >= LLM_BENCH_GOALS.bandwidthEfficiency)} |`]),
    `| concurrency ${r.batchingConcurrency} vs one at a time | >= ${LLM_BENCH_GOALS.batchingSpeedup}x | ${r.batchingSpeedup.toFixed(2)}x | ` +
      `${met(r.batchingSpeedup >= LLM_BENCH_GOALS.batchingSpeedup)} |`,
  ];
  return lines.join('\n');
}
