// Sums of a quantity over the last `windowMs`, kept in a ring of fixed-width buckets so that adding
// and reading are O(buckets) regardless of the event rate. Used for Busy, QPM and failure rates.
export class SlidingWindow {
  private readonly sums: Float64Array;
  private readonly bucketMs: number;
  private currentBucket: number;

  constructor(readonly windowMs: number, buckets = 100, private readonly now: () => number = () => performance.now()) {
    this.sums = new Float64Array(buckets);
    this.bucketMs = windowMs / buckets;
    this.currentBucket = Math.floor(this.now() / this.bucketMs);
  }

  /** Adds `amount` at time `at` (default now); amounts older than the window are dropped. */
  add(amount: number, at = this.now()): void {
    this.advance();
    const bucket = Math.floor(at / this.bucketMs);
    if (bucket <= this.currentBucket - this.sums.length || bucket > this.currentBucket) return;
    this.sums[bucket % this.sums.length] += amount;
  }

  /** Spreads the interval [from, to) over the buckets it covers (for durations such as active time). */
  addInterval(from: number, to: number): void {
    this.advance();
    const oldest = (this.currentBucket - this.sums.length + 1) * this.bucketMs;
    for (let start = Math.max(from, oldest); start < to; ) {
      const bucket = Math.floor(start / this.bucketMs);
      const end = Math.min(to, (bucket + 1) * this.bucketMs);
      this.sums[bucket % this.sums.length] += end - start;
      start = end;
    }
  }

  /** The total over the window. */
  sum(): number {
    this.advance();
    let total = 0;
    for (const s of this.sums) total += s;
    return total;
  }

  /** Clears the buckets that fell out of the window since the last call. */
  private advance(): void {
    const bucket = Math.floor(this.now() / this.bucketMs);
    const stale = Math.min(bucket - this.currentBucket, this.sums.length);
    for (let i = 1; i <= stale; i++) this.sums[(this.currentBucket + i) % this.sums.length] = 0;
    this.currentBucket = Math.max(bucket, this.currentBucket);
  }
}
