// Alert rules over a process's serving metrics: failure rate and mean latency per model over the
// last minute, Busy per model and per process over the last 10 s. Every interval the rules are
// evaluated; a rule that starts (or stops) firing is logged and, when a webhook is configured,
// POSTed to it as JSON. A webhook that fails or hangs is logged and never blocks serving.
import type { ServingMetrics } from './ServingMetrics';

export type AlertMetric = 'failureRate' | 'meanLatencyMs' | 'modelBusy' | 'processBusy';

export interface AlertRule {
  name: string;
  metric: AlertMetric;
  /** Fires when the value is above this. */
  threshold: number;
  /** Only this model (per-model metrics); all models when omitted. */
  model?: string;
  /** Per-model request rules stay quiet below this many requests in the window (default 10). */
  minRequests?: number;
}

export interface AlertOptions {
  rules: AlertRule[];
  intervalMs?: number;
  webhook?: string;
  webhookTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface AlertEvent {
  alert: string;
  state: 'firing' | 'resolved';
  metric: AlertMetric;
  model: string | null;
  process: string;
  value: number;
  threshold: number;
  at: string;
}

export class AlertManager {
  private readonly firing = new Set<string>();
  private readonly timer: NodeJS.Timeout;
  private readonly log: (line: string) => void;

  constructor(private readonly metrics: ServingMetrics, private readonly options: AlertOptions) {
    this.log = options.log ?? ((line) => console.warn(line));
    this.timer = setInterval(() => void this.evaluate(), options.intervalMs ?? 10_000);
    this.timer.unref();
  }

  /** Evaluates every rule now; returns the state changes (also logged and sent to the webhook). */
  async evaluate(): Promise<AlertEvent[]> {
    const events: AlertEvent[] = [];
    for (const rule of this.options.rules)
      for (const [model, value] of this.valuesOf(rule)) {
        const key = `${rule.name}\u0000${model ?? ''}`;
        const above = value > rule.threshold;
        if (above === this.firing.has(key)) continue;
        if (above) this.firing.add(key);
        else this.firing.delete(key);
        events.push({
          alert: rule.name, state: above ? 'firing' : 'resolved', metric: rule.metric, model, process: this.metrics.processName,
          value, threshold: rule.threshold, at: new Date().toISOString(),
        });
      }
    for (const e of events) this.log(`highservice alert ${e.state}: ${e.alert} ${e.metric}=${e.value.toFixed(4)} > ${e.threshold}${e.model ? ` model=${e.model}` : ''} process=${e.process}`);
    if (events.length && this.options.webhook) await this.post(events);
    return events;
  }

  close(): void {
    clearInterval(this.timer);
  }

  private valuesOf(rule: AlertRule): [string | null, number][] {
    if (rule.metric === 'processBusy') return [[null, this.metrics.processBusy()]];
    const models = rule.model ? [rule.model] : this.metrics.models();
    if (rule.metric === 'modelBusy') return models.map((m) => [m, this.metrics.modelBusyOf(m)]);
    const minRequests = rule.minRequests ?? 10;
    return models
      .map((m) => [m, this.metrics.rates(m)] as const)
      .filter(([, r]) => r.qpm >= minRequests)
      .map(([m, r]) => [m, rule.metric === 'failureRate' ? r.failureRate : r.meanLatencyMs]);
  }

  private async post(events: AlertEvent[]): Promise<void> {
    try {
      const response = await fetch(this.options.webhook!, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ alerts: events }),
        signal: AbortSignal.timeout(this.options.webhookTimeoutMs ?? 2000),
      });
      if (!response.ok) this.log(`highservice alert webhook answered ${response.status}`);
    } catch (e) {
      this.log(`highservice alert webhook failed: ${(e as Error).message}`);
    }
  }
}
