// Busy, HighService's load signal: the fraction of wall time something was active over a sliding
// window (10 s by default). Activity is counted once however many overlapping jobs run (the union
// of the intervals), so a model computing two batches at once is busy 1.0, not 2.0.
import { SlidingWindow } from './SlidingWindow';

export const BUSY_WINDOW_MS = 10_000;

export class BusyTracker {
  private readonly active: SlidingWindow;
  private depth = 0;
  private activeSince = 0;
  private readonly startedAt: number;

  constructor(private readonly now: () => number = () => performance.now(), windowMs = BUSY_WINDOW_MS) {
    this.active = new SlidingWindow(windowMs, 100, now);
    this.startedAt = now();
  }

  begin(): void {
    if (this.depth++ === 0) this.activeSince = this.now();
  }

  end(): void {
    if (this.depth === 0) return;
    if (--this.depth === 0) this.active.addInterval(this.activeSince, this.now());
  }

  /** Active fraction of the window (of the time since creation while that is shorter). */
  busy(): number {
    const now = this.now();
    const span = Math.min(this.active.windowMs, now - this.startedAt);
    if (span <= 0) return 0;
    const open = this.depth > 0 ? Math.min(now - this.activeSince, span) : 0;
    return Math.min(1, (this.active.sum() + open) / span);
  }
}

/**
 * Busy of a whole process: event-loop utilisation (time the loop spent running callbacks rather
 * than waiting in epoll) over the window, sampled every second.
 */
export class EventLoopBusy {
  private readonly samples: { at: number; elu: ReturnType<typeof performance.eventLoopUtilization> }[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly windowMs = BUSY_WINDOW_MS) {
    this.sample();
    this.timer = setInterval(() => this.sample(), 1000);
    this.timer.unref();
  }

  busy(): number {
    const first = this.samples[0];
    if (!first) return 0;
    return performance.eventLoopUtilization(first.elu).utilization;
  }

  close(): void {
    clearInterval(this.timer);
  }

  private sample(): void {
    const now = performance.now();
    this.samples.push({ at: now, elu: performance.eventLoopUtilization() });
    while (this.samples.length > 1 && now - this.samples[0].at > this.windowMs) this.samples.shift();
  }
}
