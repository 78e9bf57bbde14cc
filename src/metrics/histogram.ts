import type { AttributeValue, Attributes } from '@opentelemetry/api';
import type { EpochMillis } from '../trace/types';
import { TEMPORALITY_DELTA, type HistogramPoint, type MetricData, type MetricDescriptor, type MetricSource, type Temporality } from './data';
import { ATTR_OTEL_METRIC_OVERFLOW } from '../semconv';

/** The metrics SDK specification's default cardinality limit per metric. */
export const DEFAULT_CARDINALITY_LIMIT = 2000;

/** The most attributes one series of a histogram can have (db.client.operation.duration has 8). */
export const MAX_ATTRIBUTES = 8;

export interface HistogramOptions extends MetricDescriptor {
  /** Explicit bucket boundaries, ascending; a value equal to a boundary counts in the bucket it closes. */
  readonly boundaries: readonly number[];
  /** The attribute name of each key position passed to record(). */
  readonly attributeNames: readonly string[];
  readonly temporality: Temporality;
  /** Series kept before new attribute sets go to the one overflow series. */
  readonly cardinalityLimit: number;
  /** When the instrument started: the start time of its cumulative points. */
  readonly startTime: EpochMillis;
}

/** The aggregation of one attribute set. */
export class HistogramSeries {
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  readonly bucketCounts: Float64Array;

  constructor(
    readonly attributes: Attributes,
    bucketCount: number,
  ) {
    this.bucketCounts = new Float64Array(bucketCount);
  }

  record(value: number, boundaries: readonly number[]): void {
    // Linear: a handful of boundaries, and small values (the common case) stop early.
    let bucket = 0;
    const last = boundaries.length;
    while (bucket < last && value > boundaries[bucket]!) bucket++;
    this.bucketCounts[bucket]!++;
    this.count++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }

  reset(): void {
    this.count = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = -Infinity;
    this.bucketCounts.fill(0);
  }
}

type TrieNode = Map<unknown, unknown>;

/**
 * An explicit-bucket histogram whose series are found by their attribute values, passed as
 * positional keys: a trie of Maps, one level per attribute position, so a repeated attribute set
 * is found without building a key or an attributes object (nothing is allocated). An undefined
 * key (an attribute left out) is a key like any other.
 *
 * At most `cardinalityLimit` series are created; the measurements of attribute sets beyond it go
 * to one overflow series (`otel.metric.overflow` = true), without growing the trie.
 */
export class Histogram implements MetricSource {
  private readonly root: TrieNode = new Map();
  private readonly series: HistogramSeries[] = [];
  private overflow: HistogramSeries | undefined;
  private readonly arity: number;
  /** Cumulative: the instrument's start. Delta: the previous collection. */
  private startTime: EpochMillis;

  constructor(private readonly options: HistogramOptions) {
    this.arity = options.attributeNames.length;
    if (this.arity < 1 || this.arity > MAX_ATTRIBUTES) throw new Error(`a histogram takes 1 to ${MAX_ATTRIBUTES} attributes`);
    this.startTime = options.startTime;
  }

  get name(): string {
    return this.options.name;
  }

  /** Series created so far (the overflow series not counted). */
  get seriesCount(): number {
    return this.series.length;
  }

  /** Measurements held now (since the start, or since the last delta collection). */
  totalCount(): number {
    let total = this.overflow?.count ?? 0;
    for (const series of this.series) total += series.count;
    return total;
  }

  record(value: number, k0?: unknown, k1?: unknown, k2?: unknown, k3?: unknown, k4?: unknown, k5?: unknown, k6?: unknown, k7?: unknown): void {
    if (value !== value) return; // NaN would poison the sum
    this.find(k0, k1, k2, k3, k4, k5, k6, k7).record(value, this.options.boundaries);
  }

  /** The series of these keys: walked level by level, created (or the overflow) at the first miss. */
  private find(k0: unknown, k1: unknown, k2: unknown, k3: unknown, k4: unknown, k5: unknown, k6: unknown, k7: unknown): HistogramSeries {
    const arity = this.arity;
    let node = this.root.get(k0);
    if (arity > 1 && node !== undefined) node = (node as TrieNode).get(k1);
    if (arity > 2 && node !== undefined) node = (node as TrieNode).get(k2);
    if (arity > 3 && node !== undefined) node = (node as TrieNode).get(k3);
    if (arity > 4 && node !== undefined) node = (node as TrieNode).get(k4);
    if (arity > 5 && node !== undefined) node = (node as TrieNode).get(k5);
    if (arity > 6 && node !== undefined) node = (node as TrieNode).get(k6);
    if (arity > 7 && node !== undefined) node = (node as TrieNode).get(k7);
    if (node !== undefined) return node as HistogramSeries;
    return this.insert([k0, k1, k2, k3, k4, k5, k6, k7]);
  }

  private insert(keys: unknown[]): HistogramSeries {
    const bucketCount = this.options.boundaries.length + 1;
    if (this.series.length >= this.options.cardinalityLimit) {
      this.overflow ??= new HistogramSeries({ [ATTR_OTEL_METRIC_OVERFLOW]: true }, bucketCount);
      return this.overflow;
    }
    let node = this.root;
    for (let level = 0; level < this.arity - 1; level++) {
      let next = node.get(keys[level]) as TrieNode | undefined;
      if (next === undefined) {
        next = new Map();
        node.set(keys[level], next);
      }
      node = next;
    }
    const series = new HistogramSeries(this.attributesOf(keys), bucketCount);
    node.set(keys[this.arity - 1], series);
    this.series.push(series);
    return series;
  }

  /** Leaves out undefined, empty strings and zero numbers: the recorder's "not known". */
  private attributesOf(keys: readonly unknown[]): Attributes {
    const attributes: Attributes = {};
    const names = this.options.attributeNames;
    for (let i = 0; i < names.length; i++) {
      const value = keys[i];
      if (value === undefined || value === null || value === '' || value === 0) continue;
      attributes[names[i]!] = value as AttributeValue;
    }
    return attributes;
  }

  /**
   * Adds the histogram's points. Cumulative: every series, since the start. Delta: the series that
   * received measurements since the previous collection, which are then reset (series are kept, so
   * a returning attribute set is found again without allocation).
   */
  collect(now: EpochMillis, into: MetricData[]): void {
    const { name, description, unit, boundaries, temporality } = this.options;
    const points: HistogramPoint[] = [];
    const startTime = this.startTime;
    const add = (series: HistogramSeries): void => {
      if (series.count === 0) return;
      points.push({
        attributes: series.attributes,
        startTime,
        time: now,
        count: series.count,
        sum: series.sum,
        min: series.min,
        max: series.max,
        bucketCounts: Array.from(series.bucketCounts),
        boundaries,
      });
      if (temporality === TEMPORALITY_DELTA) series.reset();
    };
    for (const series of this.series) add(series);
    if (this.overflow !== undefined) add(this.overflow);
    if (temporality === TEMPORALITY_DELTA) this.startTime = now;
    if (points.length > 0) into.push({ type: 'histogram', name, description, unit, temporality, points });
  }
}
