import type { Attributes } from '@opentelemetry/api';
import type { HistogramPoint, MetricData } from './data';
import type { MetricsExporter } from './exporter';

/** Series printed per metric; the rest are counted. */
const MAX_SERIES_SHOWN = 10;

/**
 * OTEL_METRICS_EXPORTER=console: a short human summary of each collection on stdout. A histogram
 * shows count, sum and p50/p99 estimated from its buckets per series; a gauge its value; a sum
 * over several series (the heap spaces) its total.
 */
export class ConsoleMetricsExporter implements MetricsExporter {
  readonly description = 'console';

  constructor(private readonly write: (text: string) => void = (text) => process.stdout.write(text)) {}

  async export(metrics: readonly MetricData[]): Promise<void> {
    this.print(metrics);
  }

  exportAtExit(metrics: readonly MetricData[]): void {
    this.print(metrics);
  }

  async shutdown(): Promise<void> {}

  private print(metrics: readonly MetricData[]): void {
    if (metrics.length === 0) return;
    try {
      this.write(formatMetrics(metrics));
    } catch {
      // a closed stdout is not the application's problem
    }
  }
}

export function formatMetrics(metrics: readonly MetricData[]): string {
  const lines = [`metrics ${new Date().toISOString()}`];
  for (const metric of metrics) {
    if (metric.type === 'histogram') {
      lines.push(`  ${metric.name} (${metric.unit})`);
      for (const point of metric.points.slice(0, MAX_SERIES_SHOWN)) {
        const p50 = estimatePercentile(point, 0.5);
        const p99 = estimatePercentile(point, 0.99);
        lines.push(`    ${describeAttributes(point.attributes)} count=${point.count} sum=${round(point.sum)} p50≈${round(p50)} p99≈${round(p99)}`);
      }
      if (metric.points.length > MAX_SERIES_SHOWN) lines.push(`    … ${metric.points.length - MAX_SERIES_SHOWN} more series`);
    } else if (metric.points.length === 1) {
      lines.push(`  ${metric.name} ${round(metric.points[0]!.value)} ${metric.unit}`);
    } else {
      let total = 0;
      for (const point of metric.points) total += point.value;
      lines.push(`  ${metric.name} ${round(total)} ${metric.unit} over ${metric.points.length} series`);
    }
  }
  return lines.join('\n') + '\n';
}

function describeAttributes(attributes: Attributes): string {
  const parts: string[] = [];
  for (const key in attributes) parts.push(`${key}=${String(attributes[key])}`);
  return parts.length === 0 ? '{}' : `{${parts.join(' ')}}`;
}

function round(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(3);
}

/**
 * The q-quantile of a histogram, interpolated linearly inside the bucket that holds it; the
 * observed min and max bound the open-ended first and last buckets.
 */
export function estimatePercentile(point: HistogramPoint, q: number): number {
  if (point.count === 0) return NaN;
  const rank = q * point.count;
  let seen = 0;
  const bounds = point.boundaries;
  for (let i = 0; i < point.bucketCounts.length; i++) {
    const inBucket = point.bucketCounts[i]!;
    if (inBucket > 0 && seen + inBucket >= rank) {
      const lower = Math.max(i === 0 ? point.min : bounds[i - 1]!, point.min);
      const upper = Math.min(i < bounds.length ? bounds[i]! : point.max, point.max);
      return lower + (upper - lower) * ((rank - seen) / inBucket);
    }
    seen += inBucket;
  }
  return point.max;
}
