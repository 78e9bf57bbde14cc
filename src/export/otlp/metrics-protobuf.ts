import type { MetricData, HistogramPoint, NumberPoint } from '../../metrics/data';
import type { EpochMillis, Resource } from '../../trace/types';
import { writeAttributes } from './protobuf-spans';
import { ProtobufWriter } from './protobuf-writer';

// Field numbers of opentelemetry-proto v1.4.0 (collector/metrics/v1 and metrics/v1).
const ExportMetricsServiceRequest = { resourceMetrics: 1 } as const;
const ResourceMetrics = { resource: 1, scopeMetrics: 2, schemaUrl: 3 } as const;
const ResourceField = { attributes: 1 } as const;
const ScopeMetrics = { scope: 1, metrics: 2 } as const;
const ScopeField = { name: 1, version: 2 } as const;
const MetricField = { name: 1, description: 2, unit: 3, gauge: 5, sum: 7, histogram: 9 } as const;
const GaugeField = { dataPoints: 1 } as const;
const SumField = { dataPoints: 1, aggregationTemporality: 2, isMonotonic: 3 } as const;
const HistogramField = { dataPoints: 1, aggregationTemporality: 2 } as const;
const NumberDataPointField = { startTimeUnixNano: 2, timeUnixNano: 3, asDouble: 4, asInt: 6, attributes: 7 } as const;
const HistogramDataPointField = {
  startTimeUnixNano: 2,
  timeUnixNano: 3,
  count: 4,
  sum: 5,
  bucketCounts: 6,
  explicitBounds: 7,
  attributes: 9,
  min: 11,
  max: 12,
} as const;

const TWO_POW_32 = 4294967296;

/** The scope every metric of the agent is reported under. */
export interface MetricsScope {
  readonly name: string;
  readonly version: string;
}

const writer = new ProtobufWriter(16 * 1024);

/**
 * Encodes one collection as an OTLP `ExportMetricsServiceRequest` (protobuf): one ResourceMetrics,
 * one ScopeMetrics. Fields go in field-number order, proto3 defaults are left out and repeated
 * numbers are packed, as a conforming protobuf library writes them.
 */
export function encodeMetricsRequest(metrics: readonly MetricData[], resource: Resource, scope: MetricsScope): Uint8Array {
  if (metrics.length === 0) return new Uint8Array(0);
  const w = writer;
  w.reset();
  const resourceMetrics = w.beginMessage(ExportMetricsServiceRequest.resourceMetrics);
  const resourceBody = w.beginMessage(ResourceMetrics.resource);
  writeAttributes(w, ResourceField.attributes, resource.attributes);
  w.endMessage(resourceBody);

  const scopeMetrics = w.beginMessage(ResourceMetrics.scopeMetrics);
  const scopeBody = w.beginMessage(ScopeMetrics.scope);
  if (scope.name) w.stringField(ScopeField.name, scope.name);
  if (scope.version) w.stringField(ScopeField.version, scope.version);
  w.endMessage(scopeBody);
  for (const metric of metrics) writeMetric(w, metric);
  w.endMessage(scopeMetrics);

  if (resource.schemaUrl) w.stringField(ResourceMetrics.schemaUrl, resource.schemaUrl);
  w.endMessage(resourceMetrics);
  return w.finish();
}

function writeMetric(w: ProtobufWriter, metric: MetricData): void {
  const body = w.beginMessage(ScopeMetrics.metrics);
  w.stringField(MetricField.name, metric.name);
  if (metric.description) w.stringField(MetricField.description, metric.description);
  if (metric.unit) w.stringField(MetricField.unit, metric.unit);
  switch (metric.type) {
    case 'gauge': {
      const gauge = w.beginMessage(MetricField.gauge);
      for (const point of metric.points) writeNumberPoint(w, GaugeField.dataPoints, point, false);
      w.endMessage(gauge);
      break;
    }
    case 'sum': {
      const sum = w.beginMessage(MetricField.sum);
      for (const point of metric.points) writeNumberPoint(w, SumField.dataPoints, point, true);
      w.uint32Field(SumField.aggregationTemporality, metric.temporality);
      if (metric.monotonic) w.boolField(SumField.isMonotonic, true);
      w.endMessage(sum);
      break;
    }
    case 'histogram': {
      const histogram = w.beginMessage(MetricField.histogram);
      for (const point of metric.points) writeHistogramPoint(w, point);
      w.uint32Field(HistogramField.aggregationTemporality, metric.temporality);
      w.endMessage(histogram);
      break;
    }
  }
  w.endMessage(body);
}

/** A gauge's value is a double; a sum of whole numbers (bytes) is an integer. */
function writeNumberPoint(w: ProtobufWriter, field: number, point: NumberPoint, integersAsInt: boolean): void {
  const body = w.beginMessage(field);
  if (point.startTime > 0) writeNanos(w, NumberDataPointField.startTimeUnixNano, point.startTime);
  writeNanos(w, NumberDataPointField.timeUnixNano, point.time);
  if (integersAsInt && Number.isSafeInteger(point.value)) {
    const [low, high] = int64Halves(point.value);
    w.fixed64Field(NumberDataPointField.asInt, low, high);
  } else {
    w.doubleField(NumberDataPointField.asDouble, point.value);
  }
  writeAttributes(w, NumberDataPointField.attributes, point.attributes);
  w.endMessage(body);
}

function writeHistogramPoint(w: ProtobufWriter, point: HistogramPoint): void {
  const body = w.beginMessage(HistogramField.dataPoints);
  writeNanos(w, HistogramDataPointField.startTimeUnixNano, point.startTime);
  writeNanos(w, HistogramDataPointField.timeUnixNano, point.time);
  w.fixed64Field(HistogramDataPointField.count, point.count % TWO_POW_32, Math.floor(point.count / TWO_POW_32));
  w.doubleField(HistogramDataPointField.sum, point.sum);
  w.bytesField(HistogramDataPointField.bucketCounts, packedFixed64(point.bucketCounts));
  if (point.boundaries.length > 0) w.bytesField(HistogramDataPointField.explicitBounds, packedDoubles(point.boundaries));
  writeAttributes(w, HistogramDataPointField.attributes, point.attributes);
  if (point.count > 0) {
    w.doubleField(HistogramDataPointField.min, point.min);
    w.doubleField(HistogramDataPointField.max, point.max);
  }
  w.endMessage(body);
}

function packedFixed64(values: readonly number[]): Buffer {
  const bytes = Buffer.alloc(values.length * 8);
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    bytes.writeUInt32LE(value % TWO_POW_32, i * 8);
    bytes.writeUInt32LE(Math.floor(value / TWO_POW_32), i * 8 + 4);
  }
  return bytes;
}

function packedDoubles(values: readonly number[]): Buffer {
  const bytes = Buffer.alloc(values.length * 8);
  for (let i = 0; i < values.length; i++) bytes.writeDoubleLE(values[i]!, i * 8);
  return bytes;
}

/** A safe integer as the two unsigned 32-bit halves of its 64-bit two's complement. */
function int64Halves(value: number): [number, number] {
  const bits = BigInt.asUintN(64, BigInt(value));
  return [Number(bits & 0xffffffffn), Number(bits >> 32n)];
}

/** Epoch milliseconds (a float) as fixed64 nanoseconds; exact through BigInt (export time only). */
function writeNanos(w: ProtobufWriter, field: number, time: EpochMillis): void {
  const nanos = epochNanos(time);
  w.fixed64Field(field, Number(nanos & 0xffffffffn), Number(nanos >> 32n));
}

export function epochNanos(time: EpochMillis): bigint {
  if (!(time > 0)) return 0n;
  const wholeMillis = Math.floor(time);
  return BigInt(wholeMillis) * 1_000_000n + BigInt(Math.round((time - wholeMillis) * 1e6));
}
