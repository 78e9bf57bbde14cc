import { agentContext } from '../api/active';
import { ROOT_CONTEXT } from '../api/context';
import { diag } from '../diag/logger';
import { requestMetrics } from '../instrumentation/request-metrics';
import { now } from '../trace/clock';
import { suppressTracing } from '../trace/suppress';
import type { MetricData } from './data';
import type { MetricsExporter } from './exporter';
import type { RequestMetrics } from './request-recorder';
import type { RuntimeMetrics } from './runtime';

/** Exports run in a root context with tracing suppressed: they never create spans of their own. */
const EXPORT_CONTEXT = suppressTracing(ROOT_CONTEXT);

export interface PeriodicReaderOptions {
  readonly intervalMs: number;
  readonly requests: RequestMetrics;
  readonly runtime: RuntimeMetrics | undefined;
  readonly exporters: readonly MetricsExporter[];
}

/**
 * Collects every metric each interval (an unref'd timer: it never keeps the process alive) and
 * hands the collection to the exporters; also on demand (forceFlush) and at exit. stop() turns
 * metrics off for good: the recorder is unset (instrumentations then skip their clock reads), the
 * timer cleared, the runtime observers disconnected.
 */
export class PeriodicMetricReader {
  private timer: NodeJS.Timeout | undefined;
  private exporters: MetricsExporter[];
  private running: Promise<void> | undefined;
  private lastRequestCount = 0;
  private stopped = false;

  constructor(private readonly options: PeriodicReaderOptions) {
    this.exporters = [...options.exporters];
  }

  get active(): boolean {
    return !this.stopped;
  }

  /** Installs the recorder and starts the timer. */
  start(): void {
    requestMetrics.recorder = this.options.requests;
    this.timer = agentContext.with(ROOT_CONTEXT, () => setInterval(() => this.tick(), this.options.intervalMs));
    this.timer.unref();
  }

  /** One exporter gave up (a backend that refuses metrics); metrics stop when none is left. */
  removeExporter(exporter: MetricsExporter): void {
    this.exporters = this.exporters.filter((candidate) => candidate !== exporter);
    if (this.exporters.length === 0) this.stop();
  }

  /** Everything off: nothing of metrics runs or costs after this. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (requestMetrics.recorder === this.options.requests) requestMetrics.recorder = undefined;
    clearInterval(this.timer);
    this.timer = undefined;
    this.options.runtime?.stop();
  }

  /**
   * A request or call was measured since the last export: worth a flush at exit. Runtime metrics
   * alone are not: a short-lived process that served nothing (a script, a CLI run under the agent)
   * must not pay a synchronous export on its way out.
   */
  hasPendingMetrics(): boolean {
    if (this.stopped) return false;
    return this.options.requests.totalCount() !== this.lastRequestCount;
  }

  /** Collects and exports now, after any export under way. */
  async forceFlush(): Promise<void> {
    if (this.running !== undefined) await this.running;
    if (this.stopped) return;
    await this.exportOnce();
  }

  /** Synchronous last collection for the process 'exit' event. */
  flushAtExit(timeoutMs: number): void {
    if (!this.hasPendingMetrics()) return;
    const metrics = this.collect();
    for (const exporter of this.exporters) exporter.exportAtExit(metrics, timeoutMs);
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
    const exporters = this.exporters;
    this.stop();
    await Promise.all(exporters.map((exporter) => exporter.shutdown().catch(() => undefined)));
  }

  private tick(): void {
    // An export still retrying: this interval's data waits for the next one.
    if (this.running !== undefined || this.stopped) return;
    void this.exportOnce();
  }

  private exportOnce(): Promise<void> {
    const metrics = this.collect();
    const exporters = this.exporters;
    const run = agentContext
      .with(EXPORT_CONTEXT, () => Promise.all(exporters.map((exporter) => exporter.export(metrics))))
      .then(() => undefined)
      .catch((error: unknown) => diag.once('error', `metrics-export:${String(error)}`, `could not export metrics: ${String(error)}`))
      .finally(() => {
        if (this.running === run) this.running = undefined;
      });
    this.running = run;
    return run;
  }

  /** One collection of every source; the sources never throw into it. */
  collect(): MetricData[] {
    const metrics: MetricData[] = [];
    const time = now();
    try {
      this.options.requests.collect(time, metrics);
      this.options.runtime?.collect(time, metrics);
    } catch (error) {
      diag.once('error', `metrics-collect:${String(error)}`, `could not collect metrics: ${String(error)}`);
    }
    this.lastRequestCount = this.options.requests.totalCount();
    return metrics;
  }
}
