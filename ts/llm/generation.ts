// LlmGeneration: what llm.generate() returns. An async iterator of generated tokens with their
// text, fed by the engine through the SequenceSink interface. It turns token ids into text
// deltas, finds stop strings (holding back text that may be the start of one), and cancels the
// sequence when the consumer stops early (return() or an AbortSignal).
import type { FinishReason, SequenceSink, TokenEvent } from './scheduler/sequence';
import type { TokenLogprobs } from './sampling';
import { IncrementalDetokenizer, type LlmTokenizer } from './tokenizer';

export interface GenerationChunk {
  /** Text this token added (may be empty while bytes of a character or a stop string are pending). */
  text: string;
  tokenId: number;
  logprobs: TokenLogprobs | null;
  /** Set on the last chunk. */
  finishReason: FinishReason | null;
}

export interface GenerationUsage {
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
}

type Waiter = { resolve: (r: IteratorResult<GenerationChunk>) => void; reject: (e: Error) => void };

export class LlmGeneration implements AsyncIterableIterator<GenerationChunk>, SequenceSink {
  private readonly queue: GenerationChunk[] = [];
  private waiter: Waiter | null = null;
  private done = false;
  private error: Error | null = null;
  private readonly detokenizer: IncrementalDetokenizer;
  private readonly outputIds: number[] = [];
  private text = '';
  private stoppedByString = false;
  private wakeQueued = false;
  private emitted = 0;
  private readonly maxStopLength: number;
  completionTokens = 0;
  cachedTokens = 0;
  finishReason: FinishReason | null = null;

  constructor(
    tokenizer: LlmTokenizer,
    readonly promptTokenIds: readonly number[],
    private readonly stop: readonly string[],
    private readonly cancel: () => void,
    /** The prompt tokens' log-probabilities when asked for (entry 0 is null), complete once the first token arrives. */
    readonly promptLogprobs: readonly (TokenLogprobs | null)[] | null = null,
  ) {
    this.detokenizer = new IncrementalDetokenizer(tokenizer, promptTokenIds);
    this.maxStopLength = Math.max(0, ...stop.map((s) => s.length));
  }

  get usage(): GenerationUsage {
    return { promptTokens: this.promptTokenIds.length, completionTokens: this.completionTokens, cachedTokens: this.cachedTokens };
  }

  /** The full text generated so far (stop strings excluded). */
  get outputText(): string {
    return this.text.slice(0, this.emitted);
  }

  onToken(event: TokenEvent): boolean {
    this.outputIds.push(event.tokenId);
    this.completionTokens++;
    this.text += this.detokenizer.next(this.outputIds);
    const stopAt = this.findStop();
    if (stopAt !== null) {
      this.text = this.text.slice(0, stopAt);
      this.stoppedByString = true;
      this.push({ text: this.take(this.text.length), tokenId: event.tokenId, logprobs: event.logprobs, finishReason: null });
      return true;
    }
    this.push({ text: this.take(this.safeEnd()), tokenId: event.tokenId, logprobs: event.logprobs, finishReason: null });
    return false;
  }

  onFinish(reason: FinishReason): void {
    if (this.done) return;
    this.finishReason = reason;
    if (!this.stoppedByString) this.text += this.detokenizer.flush(this.outputIds);
    const rest = this.take(this.text.length);
    // The engine finishes a sequence in the same step as its last token, so that chunk is still
    // queued; a finish without a token (abort) gets a chunk of its own with tokenId -1.
    if (this.queue.length === 0) this.queue.push({ text: '', tokenId: -1, logprobs: null, finishReason: null });
    const last = this.queue[this.queue.length - 1];
    last.text += rest;
    last.finishReason = reason;
    this.done = true;
    this.wake();
  }

  onError(error: Error): void {
    if (this.done) return;
    this.error = error;
    this.done = true;
    this.wake();
  }

  next(): Promise<IteratorResult<GenerationChunk>> {
    if (this.queue.length > 0) return Promise.resolve({ value: this.queue.shift()!, done: false });
    if (this.error) return Promise.reject(this.error);
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** Stops the sequence (its blocks are freed) and ends the iteration. */
  return(): Promise<IteratorResult<GenerationChunk>> {
    if (!this.done) {
      this.done = true;
      this.finishReason = 'abort';
      this.cancel();
    }
    this.queue.length = 0;
    this.wake();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<GenerationChunk> {
    return this;
  }

  private push(chunk: GenerationChunk): void {
    if (this.done) return;
    this.queue.push(chunk);
    // Woken on a microtask, so that a finish that follows in the same step still lands on this chunk.
    if (!this.wakeQueued) {
      this.wakeQueued = true;
      queueMicrotask(() => {
        this.wakeQueued = false;
        this.wake();
      });
    }
  }

  private wake(): void {
    const w = this.waiter;
    if (!w) return;
    if (this.queue.length > 0) {
      this.waiter = null;
      w.resolve({ value: this.queue.shift()!, done: false });
    } else if (this.error) {
      this.waiter = null;
      w.reject(this.error);
    } else if (this.done) {
      this.waiter = null;
      w.resolve({ value: undefined, done: true });
    }
  }

  private take(end: number): string {
    const piece = this.text.slice(this.emitted, Math.max(end, this.emitted));
    this.emitted = Math.max(end, this.emitted);
    return piece;
  }

  /** Index of the first stop string in the text, searching only where new text could complete one. */
  private findStop(): number | null {
    let best: number | null = null;
    const from = Math.max(0, this.emitted - this.maxStopLength);
    for (const s of this.stop) {
      const at = this.text.indexOf(s, from);
      if (at !== -1 && (best === null || at < best)) best = at;
    }
    return best;
  }

  /** End of the text that cannot be the start of a stop string. */
  private safeEnd(): number {
    for (let len = Math.min(this.maxStopLength - 1, this.text.length); len > 0; len--) {
      const tail = this.text.slice(this.text.length - len);
      if (this.stop.some((s) => s.startsWith(tail))) return this.text.length - len;
    }
    return this.text.length;
  }
}
