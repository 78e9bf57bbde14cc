import type { Attributes } from '@opentelemetry/api';
import type { HistogramPoint, MetricData, NumberPoint } from '../../metrics/data';
import type { Resource } from '../../trace/types';
import { epochNanos, type MetricsScope } from './metrics-protobuf';

/**
 * Encodes one collection as an OTLP/JSON `ExportMetricsServiceRequest` (the protobuf JSON
 * mapping with OTLP's exceptions: enums as integers, 64-bit integers as decimal strings,
 * default values left out). Export time only, so plain and readable over fast.
 */
export function encodeMetricsRequestJson(metrics: readonly MetricData[], resource: Resource, scope: MetricsScope): string {
  if (metrics.length === 0) return '{}';
  const scopeJson: Record<string, string> = {};
  if (scope.name) scopeJson.name = scope.name;
  if (scope.version) scopeJson.version = scope.version;
  const resourceMetrics: Record<string, unknown> = {
    resource: { attributes: keyValues(resource.attributes) },
    scopeMetrics: [{ scope: scopeJson, metrics: metrics.map(metricJson) }],
  };
  if (resource.schemaUrl) resourceMetrics.schemaUrl = resource.schemaUrl;
  return JSON.stringify({ resourceMetrics: [resourceMetrics] });
}

function metricJson(metric: MetricData): Record<string, unknown> {
  const out: Record<string, unknown> = { name: metric.name };
  if (metric.description) out.description = metric.description;
  if (metric.unit) out.unit = metric.unit;
  switch (metric.type) {
    case 'gauge':
      out.gauge = { dataPoints: metric.points.map((point) => numberPointJson(point, false)) };
      break;
    case 'sum':
      out.sum = {
        dataPoints: metric.points.map((point) => numberPointJson(point, true)),
        aggregationTemporality: metric.temporality,
        ...(metric.monotonic ? { isMonotonic: true } : {}),
      };
      break;
    case 'histogram':
      out.histogram = { dataPoints: metric.points.map(histogramPointJson), aggregationTemporality: metric.temporality };
      break;
  }
  return out;
}

function numberPointJson(point: NumberPoint, integersAsInt: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const attributes = keyValues(point.attributes);
  if (attributes.length > 0) out.attributes = attributes;
  if (point.startTime > 0) out.startTimeUnixNano = String(epochNanos(point.startTime));
  out.timeUnixNano = String(epochNanos(point.time));
  if (integersAsInt && Number.isSafeInteger(point.value)) out.asInt = String(point.value);
  else out.asDouble = double(point.value);
  return out;
}

function histogramPointJson(point: HistogramPoint): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const attributes = keyValues(point.attributes);
  if (attributes.length > 0) out.attributes = attributes;
  out.startTimeUnixNano = String(epochNanos(point.startTime));
  out.timeUnixNano = String(epochNanos(point.time));
  out.count = String(point.count);
  out.sum = double(point.sum);
  out.bucketCounts = point.bucketCounts.map(String);
  if (point.boundaries.length > 0) out.explicitBounds = point.boundaries.map(double);
  if (point.count > 0) {
    out.min = double(point.min);
    out.max = double(point.max);
  }
  return out;
}

/** The protobuf JSON mapping spells the non-finite doubles as strings. */
function double(value: number): number | string {
  return Number.isFinite(value) ? value : String(value);
}

function keyValues(attributes: Attributes): Array<{ key: string; value: unknown }> {
  const out: Array<{ key: string; value: unknown }> = [];
  for (const key in attributes) {
    const value = anyValue(attributes[key]);
    if (value !== undefined) out.push({ key, value });
  }
  return out;
}

function anyValue(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
      return { stringValue: value };
    case 'boolean':
      return { boolValue: value };
    case 'number':
      return Number.isSafeInteger(value) ? { intValue: String(value) } : { doubleValue: double(value) };
    default:
      if (Array.isArray(value)) return { arrayValue: { values: value.map((element) => anyValue(element) ?? {}) } };
      return undefined;
  }
}
