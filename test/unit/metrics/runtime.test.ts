import { afterEach, describe, expect, it } from 'vitest';
import { estimatePercentile, formatMetrics } from '../../../src/metrics/console-exporter';
import { TEMPORALITY_CUMULATIVE, TEMPORALITY_DELTA, type HistogramPoint, type MetricData, type NumberPoint } from '../../../src/metrics/data';
import { RuntimeMetrics } from '../../../src/metrics/runtime';

let runtime: RuntimeMetrics | undefined;
afterEach(() => {
  runtime?.stop();
  runtime = undefined;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Allocates enough short-lived garbage (kept alive a little, so it cannot be optimized away) for V8 to scavenge. */
let kept: unknown[] = [];
function churn(): void {
  for (let i = 0; i < 300_000; i++) {
    kept.push({ i, text: `item ${i}` });
    if (kept.length > 1000) kept = [];
  }
}

/** Churns until the gc observer saw a collection (it is called asynchronously). */
async function untilGc(source: RuntimeMetrics): Promise<void> {
  for (let attempt = 0; attempt < 50 && source.gc.totalCount() === 0; attempt++) {
    churn();
    await sleep(20);
  }
}

function collect(source: RuntimeMetrics, now = Date.now()): MetricData[] {
  const into: MetricData[] = [];
  source.collect(now, into);
  return into;
}

describe('runtime metrics', () => {
  it('reports the Node.js and V8 metrics of the conventions, with their types and units', async () => {
    runtime = new RuntimeMetrics({ temporality: TEMPORALITY_CUMULATIVE, cardinalityLimit: 100, startTime: Date.now() });
    await untilGc(runtime);
    await sleep(30); // event loop delay samples every 10 ms
    const metrics = collect(runtime);
    const byName = new Map(metrics.map((metric) => [metric.name, metric]));
    for (const name of ['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99']) {
      const metric = byName.get(`nodejs.eventloop.delay.${name}`);
      expect(metric, name).toMatchObject({ type: 'gauge', unit: 's' });
      expect((metric!.points[0] as NumberPoint).value).toBeGreaterThanOrEqual(0);
      expect((metric!.points[0] as NumberPoint).value).toBeLessThan(5);
    }
    const utilization = byName.get('nodejs.eventloop.utilization');
    expect(utilization).toMatchObject({ type: 'gauge', unit: '1' });
    expect((utilization!.points[0] as NumberPoint).value).toBeGreaterThanOrEqual(0);
    expect((utilization!.points[0] as NumberPoint).value).toBeLessThanOrEqual(1);
    for (const name of [
      'v8js.memory.heap.used',
      'v8js.memory.heap.limit',
      'v8js.memory.heap.space.available_size',
      'v8js.memory.heap.space.physical_size',
    ]) {
      const metric = byName.get(name);
      expect(metric, name).toMatchObject({ type: 'sum', unit: 'By', monotonic: false, temporality: TEMPORALITY_CUMULATIVE });
      const spaces = metric!.points.map((point) => point.attributes['v8js.heap.space.name']);
      expect(spaces).toContain('old_space');
      expect(spaces).toContain('new_space');
    }
    const gc = byName.get('v8js.gc.duration');
    expect(gc).toMatchObject({ type: 'histogram', unit: 's', temporality: TEMPORALITY_CUMULATIVE });
    const point = gc!.points[0] as HistogramPoint;
    expect(point.boundaries).toEqual([0.01, 0.1, 1, 10]);
    expect(['major', 'minor', 'incremental', 'weakcb']).toContain(point.attributes['v8js.gc.type']);
  });

  it('resets the event loop delay after each collection, and gc durations are delta under the delta preference', async () => {
    runtime = new RuntimeMetrics({ temporality: TEMPORALITY_DELTA, cardinalityLimit: 100, startTime: Date.now() });
    await untilGc(runtime);
    await sleep(30);
    const first = collect(runtime);
    expect(
      first.some((metric) => metric.name === 'v8js.gc.duration' && metric.type === 'histogram' && metric.temporality === TEMPORALITY_DELTA),
    ).toBe(true);
    // Straight after: the delay histogram was reset and has no sample yet, so no delay gauges.
    const second = collect(runtime);
    expect(second.some((metric) => metric.name.startsWith('nodejs.eventloop.delay.'))).toBe(false);
    expect(second.some((metric) => metric.name === 'v8js.gc.duration')).toBe(false);
  });

  it('stop() leaves nothing running', () => {
    runtime = new RuntimeMetrics({ temporality: TEMPORALITY_CUMULATIVE, cardinalityLimit: 100, startTime: Date.now() });
    runtime.stop();
    const names = collect(runtime).map((metric) => metric.name);
    expect(names.filter((name) => name.startsWith('nodejs.'))).toEqual([]);
  });
});

describe('console summary', () => {
  const point: HistogramPoint = {
    attributes: { 'http.request.method': 'GET' },
    startTime: 0,
    time: 0,
    count: 100,
    sum: 5,
    min: 0.001,
    max: 0.9,
    bucketCounts: [50, 40, 10],
    boundaries: [0.01, 0.1],
  };

  it('estimates percentiles from the buckets, bounded by min and max', () => {
    expect(estimatePercentile(point, 0.5)).toBeCloseTo(0.01);
    expect(estimatePercentile(point, 0.25)).toBeCloseTo(0.001 + (0.01 - 0.001) * 0.5);
    expect(estimatePercentile(point, 0.99)).toBeCloseTo(0.1 + (0.9 - 0.1) * 0.9);
    expect(estimatePercentile({ ...point, count: 0, bucketCounts: [0, 0, 0] }, 0.5)).toBeNaN();
  });

  it('prints one short line per series', () => {
    const text = formatMetrics([
      { type: 'histogram', name: 'http.server.request.duration', description: '', unit: 's', temporality: TEMPORALITY_CUMULATIVE, points: [point] },
      {
        type: 'gauge',
        name: 'nodejs.eventloop.utilization',
        description: '',
        unit: '1',
        points: [{ attributes: {}, startTime: 0, time: 0, value: 0.5 }],
      },
    ]);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^metrics \d{4}-/);
    expect(lines[1]).toBe('  http.server.request.duration (s)');
    expect(lines[2]).toBe('    {http.request.method=GET} count=100 sum=5 p50≈0.0100 p99≈0.820');
    expect(lines[3]).toBe('  nodejs.eventloop.utilization 0.500 1');
  });
});
