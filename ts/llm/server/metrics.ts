// Prometheus metrics of an LLM server (prom-client, in a registry of its own): time to first
// token and time per output token histograms, finished requests by reason, and values read from
// the engine at scrape time: running and waiting requests, KV-cache usage, prefix-cache hit rate,
// token totals, speculative drafts proposed and accepted, generated tokens per second over the
// last 10 s (sampled every second), and Busy under the serving metrics' names: the model's (the
// engine running steps) and the process's (that, or the event loop running, whichever is more).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

import { EventLoopBusy } from '../../metrics/BusyTracker';
import type { LlmEngine, RequestTimings } from '../LlmEngine';

const RATE_WINDOW_SAMPLES = 10;

export class LlmMetrics {
  readonly registry = new Registry();
  private readonly samples: { at: number; tokens: number }[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly loop = new EventLoopBusy();

  constructor(engine: LlmEngine) {
    const registers = [this.registry];
    const model = engine.modelName;
    const labelNames = ['model'] as const;
    const ttft = new Histogram({
      name: 'hs_llm_time_to_first_token_seconds', help: 'Time from request arrival to its first token', labelNames, registers,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    });
    const tpot = new Histogram({
      name: 'hs_llm_time_per_output_token_seconds', help: 'Mean time between the output tokens of a request', labelNames, registers,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    });
    const requests = new Counter({ name: 'hs_llm_requests_total', help: 'Finished requests by finish reason', labelNames: ['model', 'finish_reason'], registers });
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({ name, help, labelNames, registers, collect() { this.set({ model }, read()); } });
    const total = (name: string, help: string, read: () => number) =>
      new Counter({ name, help, labelNames, registers, collect() { this.reset(); this.inc({ model }, read()); } });

    gauge('hs_llm_requests_running', 'Requests being decoded', () => engine.stats().running);
    gauge('hs_llm_requests_waiting', 'Requests waiting for admission', () => engine.stats().waiting);
    gauge('hs_llm_kv_cache_usage_ratio', 'Fraction of KV-cache blocks in use', () => engine.stats().kvCacheUsage);
    gauge('hs_llm_prefix_cache_hit_rate', 'Prompt tokens found in the prefix cache / prompt tokens looked up', () => {
      const s = engine.stats();
      return s.prefixCacheQueries ? s.prefixCacheHits / s.prefixCacheQueries : 0;
    });
    gauge('hs_llm_generation_tokens_per_second', 'Generated tokens per second over the last 10 s', () => this.tokensPerSecond());
    total('hs_llm_prompt_tokens_total', 'Prompt tokens received', () => engine.stats().promptTokens);
    total('hs_llm_generation_tokens_total', 'Tokens generated', () => engine.stats().generationTokens);
    total('hs_llm_preemptions_total', 'Sequences preempted for lack of KV-cache blocks', () => engine.stats().preemptions);
    total('hs_llm_spec_draft_tokens_total', 'Draft tokens proposed by speculative decoding', () => engine.stats().draftTokens);
    total('hs_llm_spec_accepted_tokens_total', 'Draft tokens the target model accepted', () => engine.stats().acceptedDraftTokens);
    gauge('hs_llm_spec_acceptance_rate', 'Accepted draft tokens / proposed draft tokens', () => {
      const s = engine.stats();
      return s.draftTokens ? s.acceptedDraftTokens / s.draftTokens : 0;
    });

    const processName = 'main';
    new Gauge({
      name: 'hs_model_busy_ratio', help: 'Fraction of the last 10 s during which the model was computing', labelNames: ['model', 'process'], registers,
      collect() { this.set({ model, process: processName }, engine.activity.busy()); },
    });
    const loop = this.loop;
    new Gauge({
      name: 'hs_process_busy_ratio', help: 'Fraction of the last 10 s during which the process was active (Busy)', labelNames: ['process'], registers,
      collect() { this.set({ process: processName }, Math.max(loop.busy(), engine.activity.busy())); },
    });

    engine.onRequestDone = (t: RequestTimings) => {
      if (t.timeToFirstToken !== null) ttft.observe({ model }, t.timeToFirstToken);
      if (t.timePerOutputToken !== null) tpot.observe({ model }, t.timePerOutputToken);
      requests.inc({ model, finish_reason: t.finishReason });
    };
    const sample = () => {
      this.samples.push({ at: performance.now(), tokens: engine.stats().generationTokens });
      if (this.samples.length > RATE_WINDOW_SAMPLES + 1) this.samples.shift();
    };
    sample();
    this.timer = setInterval(sample, 1000).unref();
  }

  close(): void {
    clearInterval(this.timer);
    this.loop.close();
  }

  private tokensPerSecond(): number {
    const first = this.samples[0], last = this.samples[this.samples.length - 1];
    return last.at > first.at ? ((last.tokens - first.tokens) * 1000) / (last.at - first.at) : 0;
  }
}
