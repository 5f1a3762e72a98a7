// The Prometheus metrics of a serving process (prom-client, one registry per process; the primary
// of a multi-process server aggregates them). Request side (HTTP workers): request latency,
// successes and failures, QPM and failure rate over the last minute. Model side (where the
// batchers run): queue and compute latency, batch sizes, queue depth, and Busy per model and
// per process over a sliding 10 s window.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

import type { BatchObserver } from '../batching/DynamicBatcher';
import { BusyTracker } from './BusyTracker';
import { SlidingWindow } from './SlidingWindow';

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_BUCKETS = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 128];
const RATE_WINDOW_MS = 60_000;

/** The names every server exports (tests check them). */
export const METRIC_NAMES = [
  'hs_request_duration_seconds', 'hs_request_success_total', 'hs_request_failure_total', 'hs_requests_per_minute',
  'hs_failure_rate', 'hs_queue_duration_seconds', 'hs_compute_duration_seconds', 'hs_batch_size',
  'hs_queue_size', 'hs_model_busy_ratio', 'hs_process_busy_ratio',
] as const;

interface ModelWindows {
  requests: SlidingWindow;
  failures: SlidingWindow;
  latencySeconds: SlidingWindow;
}

/** A model's request rates over the last minute (alerts read these). */
export interface ModelRates {
  qpm: number;
  failureRate: number;
  meanLatencyMs: number;
}

export class ServingMetrics {
  readonly registry = new Registry();
  private readonly requestDuration: Histogram<'model'>;
  private readonly successes: Counter<'model'>;
  private readonly failures: Counter<'model' | 'code'>;
  private readonly queueDuration: Histogram<'model'>;
  private readonly computeDuration: Histogram<'model'>;
  private readonly batchSize: Histogram<'model'>;
  private readonly windows = new Map<string, ModelWindows>();
  private readonly modelBusy = new Map<string, BusyTracker>();
  private readonly queueDepth = new Map<string, () => number>();
  /** Busy of this process: set by its owner (event loop for HTTP workers, compute for the GPU process). */
  processBusy: () => number = () => 0;

  constructor(readonly processName: string) {
    const registers = [this.registry];
    const labelNames = ['model'] as const;
    this.requestDuration = new Histogram({
      name: 'hs_request_duration_seconds', help: 'Inference request latency, from arrival to response', labelNames, registers, buckets: LATENCY_BUCKETS,
    });
    this.successes = new Counter({ name: 'hs_request_success_total', help: 'Inference requests answered successfully', labelNames, registers });
    this.failures = new Counter({ name: 'hs_request_failure_total', help: 'Inference requests that failed, by error code', labelNames: ['model', 'code'], registers });
    this.queueDuration = new Histogram({
      name: 'hs_queue_duration_seconds', help: 'Time requests waited in the batcher queue', labelNames, registers, buckets: LATENCY_BUCKETS,
    });
    this.computeDuration = new Histogram({
      name: 'hs_compute_duration_seconds', help: 'Engine time per batch', labelNames, registers, buckets: LATENCY_BUCKETS,
    });
    this.batchSize = new Histogram({ name: 'hs_batch_size', help: 'Rows per executed batch', labelNames, registers, buckets: BATCH_BUCKETS });
    const windows = this.windows;
    new Gauge({
      name: 'hs_requests_per_minute', help: 'Requests received over the last 60 s (QPM)', labelNames, registers,
      collect() { for (const [model, w] of windows) this.set({ model }, w.requests.sum()); },
    });
    new Gauge({
      name: 'hs_failure_rate', help: 'Failed / received requests over the last 60 s', labelNames, registers, aggregator: 'average',
      collect() { for (const [model, w] of windows) this.set({ model }, rateOf(w.failures.sum(), w.requests.sum())); },
    });
    const depth = this.queueDepth;
    new Gauge({
      name: 'hs_queue_size', help: 'Requests waiting in the batcher queue', labelNames, registers,
      collect() { for (const [model, read] of depth) this.set({ model }, read()); },
    });
    const busy = this.modelBusy;
    const self = this;
    new Gauge({
      name: 'hs_model_busy_ratio', help: 'Fraction of the last 10 s during which the model was computing', labelNames: ['model', 'process'], registers,
      collect() { for (const [model, tracker] of busy) this.set({ model, process: self.processName }, tracker.busy()); },
    });
    new Gauge({
      name: 'hs_process_busy_ratio', help: 'Fraction of the last 10 s during which the process was active (Busy)', labelNames: ['process'], registers,
      collect() { this.set({ process: self.processName }, self.processBusy()); },
    });
  }

  /** Records one finished inference request (HTTP side). */
  observeRequest(model: string, seconds: number, errorCode: string | null): void {
    const w = this.windowsOf(model);
    w.requests.add(1);
    w.latencySeconds.add(seconds);
    this.requestDuration.observe({ model }, seconds);
    if (errorCode === null) this.successes.inc({ model });
    else {
      w.failures.add(1);
      this.failures.inc({ model, code: errorCode });
    }
  }

  rates(model: string): ModelRates {
    const w = this.windowsOf(model);
    const requests = w.requests.sum();
    return { qpm: requests, failureRate: rateOf(w.failures.sum(), requests), meanLatencyMs: requests ? (w.latencySeconds.sum() / requests) * 1000 : 0 };
  }

  models(): string[] {
    return [...new Set([...this.windows.keys(), ...this.modelBusy.keys()])];
  }

  modelBusyOf(model: string): number {
    return this.modelBusy.get(model)?.busy() ?? 0;
  }

  /** The batcher observer of one model (model side); `processActivity` spans all models of the process. */
  batchObserver(model: string, processActivity: BusyTracker, queued: () => number): BatchObserver {
    const tracker = new BusyTracker();
    this.modelBusy.set(model, tracker);
    this.queueDepth.set(model, queued);
    return {
      batchStarted: (rows, queueMs) => {
        tracker.begin();
        processActivity.begin();
        this.batchSize.observe({ model }, rows);
        for (const ms of queueMs) this.queueDuration.observe({ model }, ms / 1000);
      },
      batchFinished: (_rows, computeMs) => {
        tracker.end();
        processActivity.end();
        this.computeDuration.observe({ model }, computeMs / 1000);
      },
    };
  }

  forgetModel(model: string): void {
    this.modelBusy.delete(model);
    this.queueDepth.delete(model);
  }

  private windowsOf(model: string): ModelWindows {
    let w = this.windows.get(model);
    if (!w) {
      w = { requests: new SlidingWindow(RATE_WINDOW_MS, 60), failures: new SlidingWindow(RATE_WINDOW_MS, 60), latencySeconds: new SlidingWindow(RATE_WINDOW_MS, 60) };
      this.windows.set(model, w);
    }
    return w;
  }
}

function rateOf(failures: number, requests: number): number {
  return requests > 0 ? failures / requests : 0;
}
