// The dynamic batcher of one model, after Triton's DynamicBatchScheduler: requests wait in a
// bounded queue per priority level (1 = highest); whenever an execution slot is free, the head
// request and the compatible requests behind it (same input names, types and dims past dim 0)
// form a batch. The batch is sent when it reaches maxBatchSize or a preferred size, or when the
// oldest request has waited maxQueueDelayMs; otherwise a timer wakes the scheduler when that
// delay runs out. Inputs are concatenated along dim 0 and the outputs split back; requests that
// cannot batch (no shared dim 0, more rows than maxBatchSize, a model without a batch dim) run alone.
import { HsError } from '../errors';
import { batchRowsOf, batchSignatureOf, concatFeeds, splitOutputs, type Feeds, type Outputs } from './batchTensors';

export interface BatchRunner {
  run(feeds: Feeds): Promise<Outputs>;
}

export interface DynamicBatcherOptions {
  /** Most rows in one batch; 1 (or 0) turns batching off. */
  maxBatchSize?: number;
  /** Batch sizes worth sending at once without waiting for the delay (Triton's preferred_batch_size). */
  preferredBatchSizes?: number[];
  /** How long the oldest request may wait for a batch to fill. 0: send what is there when a slot frees. */
  maxQueueDelayMs?: number;
  /** Requests that may wait (all priorities together); beyond it enqueue rejects with ERR_QUEUE_FULL. */
  maxQueueSize?: number;
  /** Default per-request timeout (queue + compute); 0 = none. */
  timeoutMs?: number;
  /** Number of priority levels; priority 1 is served first. */
  priorityLevels?: number;
  /** Priority of requests that name none. */
  defaultPriority?: number;
  /** Batches in flight at once (the engine's execution contexts). */
  maxConcurrentBatches?: number;
  /** False when the model has no batch dimension: every request runs alone. */
  batchable?: boolean;
  /** Observes batches, for metrics and Busy. */
  observer?: BatchObserver;
  /** Clock in milliseconds (tests inject fake time). */
  now?: () => number;
}

export interface RequestOptions {
  priority?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface BatchObserver {
  /** A batch starts computing: `queueMs` holds the wait of each request in it. */
  batchStarted?(rows: number, queueMs: number[]): void;
  batchFinished?(rows: number, computeMs: number, ok: boolean): void;
}

export interface BatcherStats {
  queued: number;
  inFlightBatches: number;
  batches: number;
  requests: number;
}

interface Pending {
  feeds: Feeds;
  rows: number;
  signature: string | null; // null: runs alone
  enqueuedAt: number;
  priority: number;
  resolve(outputs: Outputs): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout | null;
  settled: boolean;
  detachAbort: (() => void) | null;
}

function positiveInt(value: number | undefined, fallback: number, name: string, min = 1): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min) throw new HsError('ERR_INVALID_ARGUMENT', `DynamicBatcher: ${name} must be an integer >= ${min}, got ${v}`);
  return v;
}

export class DynamicBatcher {
  readonly maxBatchSize: number;
  readonly preferredBatchSizes: readonly number[];
  readonly maxQueueDelayMs: number;
  readonly maxQueueSize: number;
  readonly priorityLevels: number;
  private readonly defaultPriority: number;
  private readonly timeoutMs: number;
  private readonly maxConcurrent: number;
  private readonly batchable: boolean;
  private readonly observer: BatchObserver;
  private readonly now: () => number;
  private readonly queues: Pending[][];
  private queuedCount = 0;
  private inFlight = 0;
  private wakeTimer: NodeJS.Timeout | null = null;
  private wakeAt = Infinity;
  private closed = false;
  private drainWaiters: (() => void)[] = [];
  private counters = { batches: 0, requests: 0 };

  constructor(private readonly runner: BatchRunner, options: DynamicBatcherOptions = {}) {
    this.maxBatchSize = positiveInt(Math.max(1, options.maxBatchSize ?? 8), 8, 'maxBatchSize');
    this.preferredBatchSizes = [...(options.preferredBatchSizes ?? [])].sort((a, b) => a - b);
    for (const p of this.preferredBatchSizes)
      if (!Number.isInteger(p) || p < 1 || p > this.maxBatchSize)
        throw new HsError('ERR_INVALID_ARGUMENT', `DynamicBatcher: preferred batch size ${p} must be an integer in [1, maxBatchSize=${this.maxBatchSize}]`);
    this.maxQueueDelayMs = options.maxQueueDelayMs ?? 0;
    if (!(this.maxQueueDelayMs >= 0)) throw new HsError('ERR_INVALID_ARGUMENT', `DynamicBatcher: maxQueueDelayMs must be >= 0`);
    this.maxQueueSize = positiveInt(options.maxQueueSize, 1024, 'maxQueueSize');
    this.priorityLevels = positiveInt(options.priorityLevels, 1, 'priorityLevels');
    this.defaultPriority = positiveInt(options.defaultPriority, Math.ceil(this.priorityLevels / 2), 'defaultPriority');
    this.timeoutMs = options.timeoutMs ?? 0;
    this.maxConcurrent = positiveInt(options.maxConcurrentBatches, 1, 'maxConcurrentBatches');
    this.batchable = (options.batchable ?? true) && this.maxBatchSize > 1;
    this.observer = options.observer ?? {};
    this.now = options.now ?? (() => performance.now());
    this.queues = Array.from({ length: this.priorityLevels }, () => []);
  }

  /** Queues one request; resolves with its own slice of the batch outputs. */
  run(feeds: Feeds, options: RequestOptions = {}): Promise<Outputs> {
    if (this.closed) return Promise.reject(new HsError('ERR_SHUTTING_DOWN', 'the batcher is closed'));
    if (this.queuedCount >= this.maxQueueSize)
      return Promise.reject(new HsError('ERR_QUEUE_FULL', `the queue is full (${this.maxQueueSize} requests waiting)`));
    const priority = options.priority ?? this.defaultPriority;
    if (!Number.isInteger(priority) || priority < 1 || priority > this.priorityLevels)
      return Promise.reject(new HsError('ERR_BAD_REQUEST', `priority must be an integer in [1, ${this.priorityLevels}], got ${priority}`));
    if (options.signal?.aborted) return Promise.reject(new HsError('ERR_TIMEOUT', 'the request was cancelled before it was queued'));
    const rows = batchRowsOf(feeds);
    const batchable = this.batchable && rows !== null && rows >= 1 && rows <= this.maxBatchSize;
    return new Promise<Outputs>((resolve, reject) => {
      const request: Pending = {
        feeds, rows: rows !== null && rows >= 1 ? rows : 1, signature: batchable ? batchSignatureOf(feeds) : null,
        enqueuedAt: this.now(), priority, resolve, reject, timer: null, settled: false, detachAbort: null,
      };
      const timeoutMs = options.timeoutMs ?? this.timeoutMs;
      if (timeoutMs > 0)
        request.timer = setTimeout(() => this.fail(request, new HsError('ERR_TIMEOUT', `the request timed out after ${timeoutMs} ms`)), timeoutMs);
      if (options.signal) {
        const onAbort = () => this.fail(request, new HsError('ERR_TIMEOUT', 'the request was cancelled'));
        options.signal.addEventListener('abort', onAbort, { once: true });
        request.detachAbort = () => options.signal?.removeEventListener('abort', onAbort);
      }
      this.queues[priority - 1].push(request);
      this.queuedCount++;
      this.counters.requests++;
      this.schedule();
    });
  }

  stats(): BatcherStats {
    return { queued: this.queuedCount, inFlightBatches: this.inFlight, ...this.counters };
  }

  /** Stops taking requests; resolves once queued and in-flight requests are done. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.queuedCount === 0 && this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
  }

  private settle(request: Pending): boolean {
    if (request.settled) return false;
    request.settled = true;
    if (request.timer) clearTimeout(request.timer);
    request.detachAbort?.();
    return true;
  }

  /** Times out or cancels a request wherever it is; a queued one leaves its queue. */
  private fail(request: Pending, error: Error): void {
    if (!this.settle(request)) return;
    const queue = this.queues[request.priority - 1];
    const at = queue.indexOf(request);
    if (at >= 0) {
      queue.splice(at, 1);
      this.queuedCount--;
      this.checkDrained();
    }
    request.reject(error);
  }

  private oldestWaiting(): Pending | undefined {
    let oldest: Pending | undefined;
    for (const q of this.queues) if (q.length && (!oldest || q[0].enqueuedAt < oldest.enqueuedAt)) oldest = q[0];
    return oldest;
  }

  /** Forms and sends batches while slots are free; sets the wake-up timer for the delay otherwise. */
  private schedule(): void {
    while (this.inFlight < this.maxConcurrent && this.queuedCount > 0) {
      const batch = this.nextBatch();
      if (!batch) return;
      this.send(batch);
    }
  }

  /** Triton's GetDynamicBatch: the requests to send now, or null after arming the delay timer. */
  private nextBatch(): Pending[] | null {
    const head = this.queues.find((q) => q.length)![0];
    if (head.signature === null) return this.take([head]);
    const candidates: Pending[] = [];
    let rows = 0;
    let preferredCount = 0; // requests in the longest prefix whose rows are a preferred size
    for (const queue of this.queues)
      for (const r of queue) {
        if (r.signature !== head.signature || rows + r.rows > this.maxBatchSize) continue;
        candidates.push(r);
        rows += r.rows;
        if (this.preferredBatchSizes.includes(rows)) preferredCount = candidates.length;
        if (rows === this.maxBatchSize) return this.take(candidates);
      }
    const oldest = this.oldestWaiting()!;
    const waited = this.now() - oldest.enqueuedAt;
    if (waited >= this.maxQueueDelayMs) return this.take(candidates);
    const largestPreferred = this.preferredBatchSizes[this.preferredBatchSizes.length - 1];
    if (preferredCount > 0 && rows >= largestPreferred) return this.take(candidates.slice(0, preferredCount));
    this.armWake(oldest.enqueuedAt + this.maxQueueDelayMs);
    return null;
  }

  private take(batch: Pending[]): Pending[] {
    for (const r of batch) {
      const queue = this.queues[r.priority - 1];
      queue.splice(queue.indexOf(r), 1);
    }
    this.queuedCount -= batch.length;
    return batch;
  }

  private armWake(at: number): void {
    if (this.wakeTimer && at >= this.wakeAt) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = null;
      this.wakeAt = Infinity;
      this.schedule();
    }, Math.max(0, at - this.now()));
  }

  private send(batch: Pending[]): void {
    const live = batch.filter((r) => !r.settled);
    if (live.length === 0) return this.checkDrained();
    const rows = live.map((r) => r.rows);
    const totalRows = rows.reduce((a, b) => a + b, 0);
    const started = this.now();
    this.inFlight++;
    this.counters.batches++;
    this.observer.batchStarted?.(totalRows, live.map((r) => started - r.enqueuedAt));
    let outputs: Promise<Outputs>;
    try {
      outputs = this.runner.run(live.length === 1 ? live[0].feeds : concatFeeds(live.map((r) => r.feeds)));
    } catch (e) {
      outputs = Promise.reject(e);
    }
    outputs
      .then((out) => {
        const pieces = live[0].signature === null ? [out] : splitOutputs(out, rows);
        this.observer.batchFinished?.(totalRows, this.now() - started, true);
        live.forEach((r, i) => this.settle(r) && r.resolve(pieces[i]));
      })
      .catch((e: Error) => {
        this.observer.batchFinished?.(totalRows, this.now() - started, false);
        for (const r of live) if (this.settle(r)) r.reject(e);
      })
      .finally(() => {
        this.inFlight--;
        this.schedule();
        this.checkDrained();
      });
  }

  private checkDrained(): void {
    if (this.queuedCount > 0 || this.inFlight > 0 || this.drainWaiters.length === 0) return;
    for (const resolve of this.drainWaiters.splice(0)) resolve();
  }
}
