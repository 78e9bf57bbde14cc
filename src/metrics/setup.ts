import type { AgentConfig } from '../config/env';
import { diag } from '../diag/logger';
import { OtlpMetricsExporter } from '../export/otlp/metrics-exporter';
import { now } from '../trace/clock';
import type { Resource } from '../trace/types';
import { TEMPORALITY_CUMULATIVE, TEMPORALITY_DELTA, type Temporality } from './data';
import type { MetricsExporter } from './exporter';
import { PeriodicMetricReader } from './periodic-reader';
import { RequestMetrics } from './request-recorder';
import { RuntimeMetrics } from './runtime';

/**
 * Starts metrics as configured: the request recorder the instrumentations call, the runtime
 * metrics, and the periodic export. Undefined when metrics are off (OTEL_METRICS_EXPORTER=none,
 * or defaulted off because traces go to the console only). Never throws.
 */
export function startMetrics(config: AgentConfig, resource: Resource): PeriodicMetricReader | undefined {
  const settings = config.metrics;
  if (settings.defaultedOff) {
    const traces = config.exporters.length === 0 ? 'are not exported' : 'go to the console only';
    diag.debug(`metrics are off: traces ${traces} and OTEL_METRICS_EXPORTER is unset (set it to otlp or console to have them)`);
  }
  if (settings.exporters.length === 0) return undefined;
  try {
    // Histograms are delta under both delta and lowmemory; the heap's up-down counters stay cumulative.
    const temporality: Temporality = settings.temporality === 'cumulative' ? TEMPORALITY_CUMULATIVE : TEMPORALITY_DELTA;
    const options = { temporality, cardinalityLimit: settings.cardinalityLimit, startTime: now() };
    const exporters: MetricsExporter[] = [];
    let reader: PeriodicMetricReader | undefined;
    for (const name of settings.exporters) {
      if (name === 'otlp') {
        const otlp = { ...settings.otlp, timeoutMs: Math.min(settings.otlp.timeoutMs, settings.exportTimeoutMs) };
        const exporter: MetricsExporter = new OtlpMetricsExporter(
          otlp,
          resource,
          () => reader?.removeExporter(exporter),
          sharesSpanCollector(config),
        );
        exporters.push(exporter);
      } else {
        const console = require('./console-exporter') as typeof import('./console-exporter');
        exporters.push(new console.ConsoleMetricsExporter());
      }
    }
    reader = new PeriodicMetricReader({
      intervalMs: settings.intervalMs,
      requests: new RequestMetrics(options),
      runtime: new RuntimeMetrics(options),
      exporters,
    });
    reader.start();
    return reader;
  } catch (error) {
    diag.error(`metrics could not start and are off; traces are not affected: ${String(error)}`);
    return undefined;
  }
}

/**
 * Spans go over OTLP to the same collector (scheme, host and port): its outages are reported by
 * the span exporter, and one collector down makes one warning, not two.
 */
function sharesSpanCollector(config: AgentConfig): boolean {
  if (!config.exporters.includes('otlp')) return false;
  try {
    return new URL(config.otlp.tracesUrl).origin === new URL(config.metrics.otlp.url).origin;
  } catch {
    return false;
  }
}

/** For the startup line. */
export function describeMetrics(config: AgentConfig, reader: PeriodicMetricReader | undefined): string {
  const settings = config.metrics;
  if (reader === undefined) return 'none';
  const exporters = settings.exporters.map((name) => (name === 'otlp' ? `otlp ${settings.otlp.protocol} ${settings.otlp.url}` : name)).join(' + ');
  return `${exporters} every ${settings.intervalMs} ms (${settings.temporality})`;
}
