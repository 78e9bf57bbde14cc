import { describe, expect, it } from 'vitest';
import { TEMPORALITY_CUMULATIVE, TEMPORALITY_DELTA, type HistogramPoint, type MetricData, type Temporality } from '../../../src/metrics/data';
import { Histogram } from '../../../src/metrics/histogram';
import { HTTP_DURATION_BUCKETS } from '../../../src/metrics/names';
import { RequestMetrics } from '../../../src/metrics/request-recorder';

function histogram(temporality: Temporality = TEMPORALITY_CUMULATIVE, cardinalityLimit = 2000, boundaries = [1, 2, 5]): Histogram {
  return new Histogram({
    name: 'test.duration',
    description: 'a test',
    unit: 's',
    boundaries,
    attributeNames: ['a', 'b'],
    temporality,
    cardinalityLimit,
    startTime: 1000,
  });
}

function collect(source: { collect(now: number, into: MetricData[]): void }, now: number): MetricData[] {
  const into: MetricData[] = [];
  source.collect(now, into);
  return into;
}

function points(source: Histogram, now = 2000): HistogramPoint[] {
  const [metric] = collect(source, now);
  if (metric === undefined) return [];
  if (metric.type !== 'histogram') throw new Error('not a histogram');
  return [...metric.points];
}

describe('explicit-bucket histogram', () => {
  it('counts a value equal to a boundary in the bucket that boundary closes (upper-inclusive)', () => {
    const h = histogram();
    for (const value of [0, 1, 1.0001, 2, 4.9, 5, 5.1, 100]) h.record(value, 'x', 'y');
    const [point] = points(h);
    // (-inf,1] (1,2] (2,5] (5,+inf)
    expect(point!.bucketCounts).toEqual([2, 2, 2, 2]);
    expect(point!.count).toBe(8);
    expect(point!.sum).toBeCloseTo(0 + 1 + 1.0001 + 2 + 4.9 + 5 + 5.1 + 100);
    expect(point!.min).toBe(0);
    expect(point!.max).toBe(100);
    expect(point!.boundaries).toEqual([1, 2, 5]);
  });

  it('buckets the HTTP boundaries as the conventions advise', () => {
    const h = histogram(TEMPORALITY_CUMULATIVE, 10, [...HTTP_DURATION_BUCKETS]);
    h.record(0.005, 'GET');
    h.record(0.0051, 'GET');
    h.record(10, 'GET');
    h.record(11, 'GET');
    const counts = points(h)[0]!.bucketCounts;
    expect(counts).toHaveLength(HTTP_DURATION_BUCKETS.length + 1);
    expect(counts[0]).toBe(1);
    expect(counts[1]).toBe(1);
    expect(counts[HTTP_DURATION_BUCKETS.length - 1]).toBe(1);
    expect(counts[HTTP_DURATION_BUCKETS.length]).toBe(1);
  });

  it('ignores NaN', () => {
    const h = histogram();
    h.record(NaN, 'x');
    expect(points(h)).toEqual([]);
  });

  it('finds the series of a repeated attribute set, and leaves undefined, empty and zero values out of its attributes', () => {
    const h = histogram();
    h.record(1, 'GET', undefined);
    h.record(1, 'GET', undefined);
    h.record(1, 'GET', 0);
    h.record(1, 'POST', 'x');
    expect(h.seriesCount).toBe(3);
    const found = points(h).map((point) => [point.attributes, point.count]);
    expect(found).toEqual([
      [{ a: 'GET' }, 2],
      [{ a: 'GET' }, 1],
      [{ a: 'POST', b: 'x' }, 1],
    ]);
  });

  it('distinguishes values of different types at one position', () => {
    const h = histogram();
    h.record(1, 'x', 200);
    h.record(1, 'x', '200');
    expect(h.seriesCount).toBe(2);
  });

  it('sends attribute sets beyond the cardinality limit to one overflow series', () => {
    const h = histogram(TEMPORALITY_CUMULATIVE, 3);
    for (let i = 0; i < 10; i++) h.record(1, `route-${i}`, 'x');
    h.record(1, 'route-0', 'x'); // an existing series keeps receiving
    expect(h.seriesCount).toBe(3);
    const all = points(h);
    expect(all).toHaveLength(4);
    expect(all.slice(0, 3).map((point) => point.attributes.a)).toEqual(['route-0', 'route-1', 'route-2']);
    expect(all[0]!.count).toBe(2);
    expect(all[3]!.attributes).toEqual({ 'otel.metric.overflow': true });
    expect(all[3]!.count).toBe(7);
  });

  it('cumulative: counts keep growing and start at the instrument start', () => {
    const h = histogram(TEMPORALITY_CUMULATIVE);
    h.record(1, 'x');
    expect(points(h, 2000)[0]).toMatchObject({ count: 1, startTime: 1000, time: 2000 });
    h.record(1, 'x');
    expect(points(h, 3000)[0]).toMatchObject({ count: 2, startTime: 1000, time: 3000 });
    expect(points(h, 4000)[0]).toMatchObject({ count: 2, startTime: 1000, time: 4000 });
  });

  it('delta: counts reset at each collection, start at the previous one, and a quiet series is not exported (but kept)', () => {
    const h = histogram(TEMPORALITY_DELTA);
    h.record(1, 'x');
    h.record(3, 'y');
    expect(points(h, 2000)).toMatchObject([
      { count: 1, startTime: 1000, time: 2000, attributes: { a: 'x' } },
      { count: 1, startTime: 1000, time: 2000, attributes: { a: 'y' } },
    ]);
    h.record(6, 'x');
    const second = points(h, 3000);
    expect(second).toHaveLength(1);
    expect(second[0]).toMatchObject({ count: 1, sum: 6, min: 6, max: 6, startTime: 2000, time: 3000, bucketCounts: [0, 0, 0, 1] });
    expect(points(h, 4000)).toEqual([]);
    expect(h.seriesCount).toBe(2);
  });

  it('reports its temporality', () => {
    expect(collect(histogram(TEMPORALITY_DELTA), 0)).toEqual([]);
    const h = histogram(TEMPORALITY_DELTA);
    h.record(1, 'x');
    expect(collect(h, 5)[0]).toMatchObject({ type: 'histogram', name: 'test.duration', unit: 's', temporality: TEMPORALITY_DELTA });
  });
});

describe('the request recorder', () => {
  it('records the three duration metrics with the attributes of the conventions', () => {
    const recorder = new RequestMetrics({ temporality: TEMPORALITY_CUMULATIVE, cardinalityLimit: 100, startTime: 1 });
    recorder.httpServer(0.02, 'GET', '/users/:id', 200, undefined, 'http', '1.1');
    recorder.httpServer(0.03, 'GET', undefined, 0, 'ECONNRESET', 'https', undefined);
    recorder.httpClient(0.5, 'POST', 503, '503', 'api.example.com', 443, '2');
    recorder.dbClient(0.004, 'postgresql', 'test', 'SELECT', 'SELECT users', undefined, undefined, 'localhost', 5432);
    const metrics = collect(recorder, 2);
    expect(metrics.map((metric) => [metric.name, metric.unit])).toEqual([
      ['http.server.request.duration', 's'],
      ['http.client.request.duration', 's'],
      ['db.client.operation.duration', 's'],
    ]);
    expect(metrics[0]!.points.map((point) => point.attributes)).toEqual([
      {
        'http.request.method': 'GET',
        'http.route': '/users/:id',
        'http.response.status_code': 200,
        'url.scheme': 'http',
        'network.protocol.version': '1.1',
      },
      { 'http.request.method': 'GET', 'error.type': 'ECONNRESET', 'url.scheme': 'https' },
    ]);
    expect(metrics[1]!.points[0]!.attributes).toEqual({
      'http.request.method': 'POST',
      'http.response.status_code': 503,
      'error.type': '503',
      'server.address': 'api.example.com',
      'server.port': 443,
      'network.protocol.version': '2',
    });
    expect(metrics[2]!.points[0]!.attributes).toEqual({
      'db.system.name': 'postgresql',
      'db.namespace': 'test',
      'db.operation.name': 'SELECT',
      'db.query.summary': 'SELECT users',
      'server.address': 'localhost',
      'server.port': 5432,
    });
    expect((metrics[2]!.points[0] as HistogramPoint).boundaries).toEqual([0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10]);
  });

  it('treats a port of 0 as unknown, the same series as undefined', () => {
    const recorder = new RequestMetrics({ temporality: TEMPORALITY_CUMULATIVE, cardinalityLimit: 100, startTime: 1 });
    recorder.httpClient(0.1, 'GET', 200, undefined, 'h', 0, '1.1');
    recorder.httpClient(0.1, 'GET', 200, undefined, 'h', undefined, '1.1');
    expect(recorder.client.seriesCount).toBe(1);
  });
});
