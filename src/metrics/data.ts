import type { Attributes } from '@opentelemetry/api';
import type { EpochMillis } from '../trace/types';

/**
 * One collection of metrics, as the exporters see it: plain data made at export time (never on a
 * request's path), in the shape of the OTLP metrics data model.
 */

/** OTLP AggregationTemporality. */
export const TEMPORALITY_DELTA = 1;
export const TEMPORALITY_CUMULATIVE = 2;
export type Temporality = typeof TEMPORALITY_DELTA | typeof TEMPORALITY_CUMULATIVE;

export interface MetricDescriptor {
  readonly name: string;
  readonly description: string;
  readonly unit: string;
}

export interface NumberPoint {
  readonly attributes: Attributes;
  /** 0 for a gauge (no start time). */
  readonly startTime: EpochMillis;
  readonly time: EpochMillis;
  readonly value: number;
}

export interface HistogramPoint {
  readonly attributes: Attributes;
  readonly startTime: EpochMillis;
  readonly time: EpochMillis;
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  /** One more than the boundaries: the last bucket holds what is above the last boundary. */
  readonly bucketCounts: readonly number[];
  readonly boundaries: readonly number[];
}

export type MetricData =
  | (MetricDescriptor & { readonly type: 'gauge'; readonly points: readonly NumberPoint[] })
  | (MetricDescriptor & {
      readonly type: 'sum';
      readonly monotonic: boolean;
      readonly temporality: Temporality;
      readonly points: readonly NumberPoint[];
    })
  | (MetricDescriptor & { readonly type: 'histogram'; readonly temporality: Temporality; readonly points: readonly HistogramPoint[] });

/** Something that adds its metrics to a collection. */
export interface MetricSource {
  collect(now: EpochMillis, into: MetricData[]): void;
}

/** Data points in a collection (what "N data points" in messages counts). */
export function dataPointCount(metrics: readonly MetricData[]): number {
  let count = 0;
  for (const metric of metrics) count += metric.points.length;
  return count;
}
