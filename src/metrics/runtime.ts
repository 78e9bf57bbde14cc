import type { Attributes } from '@opentelemetry/api';
import type { EventLoopUtilization, IntervalHistogram, PerformanceObserver as PerformanceObserverType } from 'node:perf_hooks';
import { diag } from '../diag/logger';
import type { EpochMillis } from '../trace/types';
import { TEMPORALITY_CUMULATIVE, type MetricData, type MetricSource, type NumberPoint, type Temporality } from './data';
import { Histogram } from './histogram';
import {
  ATTR_V8JS_GC_TYPE,
  ATTR_V8JS_HEAP_SPACE_NAME,
  V8JS_GC_TYPE_VALUE_INCREMENTAL,
  V8JS_GC_TYPE_VALUE_MAJOR,
  V8JS_GC_TYPE_VALUE_MINOR,
  V8JS_GC_TYPE_VALUE_WEAKCB,
} from '../semconv';
import {
  GC_DURATION_BUCKETS,
  METRIC_NODEJS_EVENTLOOP_DELAY_MAX,
  METRIC_NODEJS_EVENTLOOP_DELAY_MEAN,
  METRIC_NODEJS_EVENTLOOP_DELAY_MIN,
  METRIC_NODEJS_EVENTLOOP_DELAY_P50,
  METRIC_NODEJS_EVENTLOOP_DELAY_P90,
  METRIC_NODEJS_EVENTLOOP_DELAY_P99,
  METRIC_NODEJS_EVENTLOOP_DELAY_STDDEV,
  METRIC_NODEJS_EVENTLOOP_UTILIZATION,
  METRIC_V8JS_GC_DURATION,
  METRIC_V8JS_MEMORY_HEAP_LIMIT,
  METRIC_V8JS_MEMORY_HEAP_SPACE_AVAILABLE_SIZE,
  METRIC_V8JS_MEMORY_HEAP_SPACE_PHYSICAL_SIZE,
  METRIC_V8JS_MEMORY_HEAP_USED,
} from './names';

/** How often the event loop delay is sampled, in milliseconds (Node's default). */
const DELAY_RESOLUTION_MS = 10;
const NS_PER_S = 1e9;

/** V8's GC kinds (perf_hooks constants NODE_PERFORMANCE_GC_*) as v8js.gc.type values. */
const GC_TYPES: ReadonlyMap<number, string> = new Map([
  [1, V8JS_GC_TYPE_VALUE_MINOR],
  [4, V8JS_GC_TYPE_VALUE_MAJOR],
  [8, V8JS_GC_TYPE_VALUE_INCREMENTAL],
  [16, V8JS_GC_TYPE_VALUE_WEAKCB],
]);

export interface RuntimeOptions {
  readonly temporality: Temporality;
  readonly cardinalityLimit: number;
  readonly startTime: EpochMillis;
}

/**
 * The Node.js and V8 runtime metrics of the semantic conventions, read when a collection asks
 * for them, so requests pay nothing: event loop delay (perf_hooks.monitorEventLoopDelay, reset
 * after each collection) and utilization, V8 heap spaces, and garbage collection durations (a
 * PerformanceObserver on 'gc', one callback per collection V8 makes). A part Node does not offer
 * is left out quietly.
 */
export class RuntimeMetrics implements MetricSource {
  private delay: IntervalHistogram | undefined;
  private lastUtilization: EventLoopUtilization | undefined;
  private gcObserver: PerformanceObserverType | undefined;
  readonly gc: Histogram;
  private readonly startTime: EpochMillis;

  constructor(options: RuntimeOptions) {
    this.startTime = options.startTime;
    this.gc = new Histogram({
      ...options,
      name: METRIC_V8JS_GC_DURATION,
      description: 'Garbage collection duration.',
      unit: 's',
      boundaries: GC_DURATION_BUCKETS,
      attributeNames: [ATTR_V8JS_GC_TYPE],
    });
    const perfHooks = require('node:perf_hooks') as typeof import('node:perf_hooks');
    attempt('the event loop delay', () => {
      if (typeof perfHooks.monitorEventLoopDelay !== 'function') return;
      this.delay = perfHooks.monitorEventLoopDelay({ resolution: DELAY_RESOLUTION_MS });
      this.delay.enable();
    });
    attempt('the event loop utilization', () => {
      if (typeof perfHooks.performance.eventLoopUtilization === 'function') this.lastUtilization = perfHooks.performance.eventLoopUtilization();
    });
    attempt('garbage collections', () => {
      const observer = new perfHooks.PerformanceObserver((list) => {
        for (const entry of list.getEntries()) this.recordGc(entry as GcEntry);
      });
      observer.observe({ entryTypes: ['gc'] });
      this.gcObserver = observer;
    });
  }

  private recordGc(entry: GcEntry): void {
    try {
      // `detail.kind` since Node 16; `kind` on the entry itself before.
      const kind = entry.detail?.kind ?? entry.kind;
      const type = kind === undefined ? undefined : GC_TYPES.get(kind);
      if (type !== undefined) this.gc.record(entry.duration / 1000, type);
    } catch {
      // never into the application
    }
  }

  /** Stops observing: nothing runs for the runtime metrics after this. */
  stop(): void {
    this.delay?.disable();
    this.delay = undefined;
    this.gcObserver?.disconnect();
    this.gcObserver = undefined;
    this.lastUtilization = undefined;
  }

  collect(now: EpochMillis, into: MetricData[]): void {
    attempt('the event loop delay', () => this.collectDelay(now, into));
    attempt('the event loop utilization', () => this.collectUtilization(now, into));
    attempt('the V8 heap', () => this.collectHeap(now, into));
    this.gc.collect(now, into);
  }

  private collectDelay(now: EpochMillis, into: MetricData[]): void {
    const delay = this.delay;
    if (delay === undefined) return;
    // No sample yet (a collection right after start): min and mean would be meaningless.
    if (!(delay.count > 0)) return;
    const gauge = (name: string, description: string, nanoseconds: number): void => {
      if (Number.isFinite(nanoseconds)) {
        into.push({
          type: 'gauge',
          name,
          description,
          unit: 's',
          points: [{ attributes: {}, startTime: 0, time: now, value: nanoseconds / NS_PER_S }],
        });
      }
    };
    gauge(METRIC_NODEJS_EVENTLOOP_DELAY_MIN, 'Event loop minimum delay.', delay.min);
    gauge(METRIC_NODEJS_EVENTLOOP_DELAY_MAX, 'Event loop maximum delay.', delay.max);
    gauge(METRIC_NODEJS_EVENTLOOP_DELAY_MEAN, 'Event loop mean delay.', delay.mean);
    gauge(METRIC_NODEJS_EVENTLOOP_DELAY_STDDEV, 'Event loop standard deviation delay.', delay.stddev);
    gauge(METRIC_NODEJS_EVENTLOOP_DELAY_P50, 'Event loop 50 percentile delay.', delay.percentile(50));
    gauge(METRIC_NODEJS_EVENTLOOP_DELAY_P90, 'Event loop 90 percentile delay.', delay.percentile(90));
    gauge(METRIC_NODEJS_EVENTLOOP_DELAY_P99, 'Event loop 99 percentile delay.', delay.percentile(99));
    delay.reset();
  }

  private collectUtilization(now: EpochMillis, into: MetricData[]): void {
    const last = this.lastUtilization;
    if (last === undefined) return;
    const current = performance.eventLoopUtilization();
    const { utilization } = performance.eventLoopUtilization(current, last);
    this.lastUtilization = current;
    if (!Number.isFinite(utilization)) return;
    into.push({
      type: 'gauge',
      name: METRIC_NODEJS_EVENTLOOP_UTILIZATION,
      description: 'Event loop utilization.',
      unit: '1',
      points: [{ attributes: {}, startTime: 0, time: now, value: utilization }],
    });
  }

  private collectHeap(now: EpochMillis, into: MetricData[]): void {
    const v8 = require('node:v8') as typeof import('node:v8');
    const spaces = v8.getHeapSpaceStatistics();
    const used: NumberPoint[] = [];
    const limit: NumberPoint[] = [];
    const available: NumberPoint[] = [];
    const physical: NumberPoint[] = [];
    const startTime = this.startTime;
    for (const space of spaces) {
      const attributes: Attributes = { [ATTR_V8JS_HEAP_SPACE_NAME]: space.space_name };
      used.push({ attributes, startTime, time: now, value: space.space_used_size });
      limit.push({ attributes, startTime, time: now, value: space.space_size });
      available.push({ attributes, startTime, time: now, value: space.space_available_size });
      physical.push({ attributes, startTime, time: now, value: space.physical_space_size });
    }
    // UpDownCounters by the conventions: non-monotonic sums, cumulative whatever the preference.
    const sum = (name: string, description: string, points: NumberPoint[]): void => {
      into.push({ type: 'sum', name, description, unit: 'By', monotonic: false, temporality: TEMPORALITY_CUMULATIVE, points });
    };
    sum(METRIC_V8JS_MEMORY_HEAP_USED, 'Heap Memory size allocated.', used);
    sum(METRIC_V8JS_MEMORY_HEAP_LIMIT, 'Total heap memory size pre-allocated.', limit);
    sum(METRIC_V8JS_MEMORY_HEAP_SPACE_AVAILABLE_SIZE, 'Heap space available size.', available);
    sum(METRIC_V8JS_MEMORY_HEAP_SPACE_PHYSICAL_SIZE, 'Committed size of a heap space.', physical);
  }
}

interface GcEntry {
  readonly duration: number;
  readonly kind?: number;
  readonly detail?: { readonly kind?: number } | null;
}

function attempt(what: string, work: () => void): void {
  try {
    work();
  } catch (error) {
    diag.once('debug', `runtime-metrics:${what}`, `runtime metrics: cannot read ${what}: ${String(error)}`);
  }
}
