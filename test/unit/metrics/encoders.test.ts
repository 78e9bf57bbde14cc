import { describe, expect, it } from 'vitest';
import { encodeMetricsRequestJson } from '../../../src/export/otlp/metrics-json';
import { encodeMetricsRequest } from '../../../src/export/otlp/metrics-protobuf';
import { TEMPORALITY_CUMULATIVE, TEMPORALITY_DELTA, type MetricData } from '../../../src/metrics/data';
import type { Resource } from '../../../src/trace/types';
import { ExportMetricsServiceRequest } from '../../helpers/otlp-schema.mjs';

const RESOURCE: Resource = { attributes: { 'service.name': 'checkout', 'process.pid': 42 } };
const SCOPE = { name: 'tracelet', version: '0.1.0' };
// 2026-01-02T03:04:05.678901Z, with sub-millisecond precision.
const T0 = 1767323045678.901;
const T1 = T0 + 60_000;

const METRICS: MetricData[] = [
  {
    type: 'histogram',
    name: 'http.server.request.duration',
    description: 'Duration of HTTP server requests.',
    unit: 's',
    temporality: TEMPORALITY_CUMULATIVE,
    points: [
      {
        attributes: { 'http.request.method': 'GET', 'http.response.status_code': 200 },
        startTime: T0,
        time: T1,
        count: 3,
        sum: 0.75,
        min: 0.05,
        max: 0.5,
        bucketCounts: [0, 1, 2],
        boundaries: [0.01, 0.1],
      },
    ],
  },
  {
    type: 'gauge',
    name: 'nodejs.eventloop.utilization',
    description: 'Event loop utilization.',
    unit: '1',
    points: [{ attributes: {}, startTime: 0, time: T1, value: 0.25 }],
  },
  {
    type: 'sum',
    name: 'v8js.memory.heap.used',
    description: 'Heap Memory size allocated.',
    unit: 'By',
    monotonic: false,
    temporality: TEMPORALITY_CUMULATIVE,
    points: [
      { attributes: { 'v8js.heap.space.name': 'old_space' }, startTime: T0, time: T1, value: 123456789 },
      { attributes: { 'v8js.heap.space.name': 'new_space' }, startTime: T0, time: T1, value: 1024 },
    ],
  },
  {
    type: 'histogram',
    name: 'v8js.gc.duration',
    description: 'Garbage collection duration.',
    unit: 's',
    temporality: TEMPORALITY_DELTA,
    points: [
      {
        attributes: { 'v8js.gc.type': 'minor' },
        startTime: T0,
        time: T1,
        count: 1,
        sum: 0.002,
        min: 0.002,
        max: 0.002,
        bucketCounts: [1, 0, 0, 0, 0],
        boundaries: [0.01, 0.1, 1, 10],
      },
    ],
  },
];

const nanos = (ms: number) => String(BigInt(Math.floor(ms)) * 1_000_000n + BigInt(Math.round((ms - Math.floor(ms)) * 1e6)));

/* eslint-disable @typescript-eslint/no-explicit-any -- decoded messages are untyped */
function decodeProtobuf(bytes: Uint8Array): any {
  const message = ExportMetricsServiceRequest.decode(bytes);
  return ExportMetricsServiceRequest.toObject(message, { longs: String, enums: Number, defaults: false, arrays: true, oneofs: true });
}

function expectTheCollection(message: any, fromProtobuf: boolean): void {
  expect(message.resourceMetrics).toHaveLength(1);
  const resourceMetrics = message.resourceMetrics[0];
  const resource = Object.fromEntries(
    resourceMetrics.resource.attributes.map((kv: any) => [kv.key, kv.value.stringValue ?? String(kv.value.intValue)]),
  );
  expect(resource).toEqual({ 'service.name': 'checkout', 'process.pid': '42' });
  expect(resourceMetrics.scopeMetrics).toHaveLength(1);
  expect(resourceMetrics.scopeMetrics[0].scope).toMatchObject({ name: 'tracelet', version: '0.1.0' });
  const [server, utilization, heap, gc] = resourceMetrics.scopeMetrics[0].metrics;

  expect(server).toMatchObject({ name: 'http.server.request.duration', description: 'Duration of HTTP server requests.', unit: 's' });
  if (fromProtobuf) expect(server.data).toBe('histogram');
  expect(server.histogram.aggregationTemporality).toBe(2);
  const point = server.histogram.dataPoints[0];
  expect(String(point.startTimeUnixNano)).toBe(nanos(T0));
  expect(String(point.timeUnixNano)).toBe(nanos(T1));
  expect(String(point.count)).toBe('3');
  expect(point.sum).toBe(0.75);
  expect(point.min).toBe(0.05);
  expect(point.max).toBe(0.5);
  expect(point.bucketCounts.map(String)).toEqual(['0', '1', '2']);
  expect(point.explicitBounds).toEqual([0.01, 0.1]);
  expect(point.attributes.map((kv: any) => kv.key)).toEqual(['http.request.method', 'http.response.status_code']);
  expect(String(point.attributes[1].value.intValue)).toBe('200');

  expect(utilization.name).toBe('nodejs.eventloop.utilization');
  expect(utilization.unit).toBe('1');
  if (fromProtobuf) expect(utilization.data).toBe('gauge');
  expect(utilization.gauge.dataPoints[0].asDouble).toBe(0.25);
  expect(String(utilization.gauge.dataPoints[0].startTimeUnixNano ?? '0')).toBe('0'); // a gauge has no start

  expect(heap.name).toBe('v8js.memory.heap.used');
  expect(heap.unit).toBe('By');
  expect(heap.sum.aggregationTemporality).toBe(2);
  expect(heap.sum.isMonotonic ?? false).toBe(false);
  expect(heap.sum.dataPoints.map((p: any) => String(p.asInt))).toEqual(['123456789', '1024']);
  expect(heap.sum.dataPoints[0].attributes[0]).toMatchObject({ key: 'v8js.heap.space.name', value: { stringValue: 'old_space' } });

  expect(gc.histogram.aggregationTemporality).toBe(1);
  expect(gc.histogram.dataPoints[0].explicitBounds).toEqual([0.01, 0.1, 1, 10]);
}

describe('metrics encoders, checked with the official opentelemetry-proto schema', () => {
  it('protobuf: ExportMetricsServiceRequest with histogram, gauge and sum', () => {
    expectTheCollection(decodeProtobuf(encodeMetricsRequest(METRICS, RESOURCE, SCOPE)), true);
  });

  it('protobuf: repeated numbers are packed, as protobuf libraries write them', () => {
    const bytes = encodeMetricsRequest(METRICS.slice(0, 1), RESOURCE, SCOPE);
    const decoded = ExportMetricsServiceRequest.decode(bytes);
    const reencoded = ExportMetricsServiceRequest.encode(decoded).finish();
    expect(Buffer.from(bytes).equals(Buffer.from(reencoded))).toBe(true);
  });

  it('JSON: the same collection through the OTLP JSON mapping, also readable by the schema', () => {
    const text = encodeMetricsRequestJson(METRICS, RESOURCE, SCOPE);
    const parsed = JSON.parse(text);
    expectTheCollection(parsed, false);
    // The schema's JSON reader accepts it as an ExportMetricsServiceRequest.
    const viaSchema = ExportMetricsServiceRequest.toObject(ExportMetricsServiceRequest.fromObject(parsed), { longs: String });
    expect((viaSchema as any).resourceMetrics[0].scopeMetrics[0].metrics).toHaveLength(4);
  });

  it('an empty collection makes an empty request', () => {
    expect(encodeMetricsRequest([], RESOURCE, SCOPE)).toHaveLength(0);
    expect(encodeMetricsRequestJson([], RESOURCE, SCOPE)).toBe('{}');
  });

  it('a negative integer sum is written as a 64-bit two’s complement', () => {
    const metric: MetricData = {
      type: 'sum',
      name: 'x',
      description: '',
      unit: '',
      monotonic: false,
      temporality: TEMPORALITY_CUMULATIVE,
      points: [{ attributes: {}, startTime: T0, time: T1, value: -5 }],
    };
    const decoded = decodeProtobuf(encodeMetricsRequest([metric], RESOURCE, SCOPE));
    expect(String(decoded.resourceMetrics[0].scopeMetrics[0].metrics[0].sum.dataPoints[0].asInt)).toBe('-5');
  });
});
