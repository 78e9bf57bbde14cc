import type { TimeInput } from '@opentelemetry/api';
import type { EpochMillis } from './types';

/**
 * Wall-clock time with sub-millisecond precision: a wall-clock origin plus the monotonic
 * performance.now(). The origin is re-read from Date.now() every 10 s and adopted only when the
 * two clocks drifted apart by more than 5 ms (NTP steps, suspended VMs), so Date.now()'s 1 ms
 * granularity never jitters timestamps.
 */
const RESYNC_EVERY_MS = 10_000;
const MAX_DRIFT_MS = 5;

// Read at the first span, not at startup: the global `performance` loads perf_hooks when touched.
let origin = NaN;
let lastCheck = 0;

export function now(): EpochMillis {
  return epochFromMonotonic(performance.now());
}

/** The wall-clock time of a monotonic() reading taken just now. */
export function epochFromMonotonic(elapsed: number): EpochMillis {
  if (origin !== origin) origin = performance.timeOrigin; // NaN: first use
  if (elapsed - lastCheck > RESYNC_EVERY_MS) {
    lastCheck = elapsed;
    const wall = Date.now() - elapsed;
    if (Math.abs(wall - origin) > MAX_DRIFT_MS) origin = wall;
  }
  return origin + elapsed;
}

/** Monotonic milliseconds, for durations. */
export function monotonic(): number {
  return performance.now();
}

/** Numbers below this (September 2001 as epoch ms, 31 years as uptime) are performance.now() readings. */
const EPOCH_MILLIS_FLOOR = 1e12;

/**
 * Converts an API TimeInput: an [seconds, nanoseconds] pair, a Date, epoch milliseconds, or
 * milliseconds since the process start as performance.now() gives them.
 */
export function toEpochMillis(time: TimeInput): EpochMillis {
  if (typeof time === 'number') return time < EPOCH_MILLIS_FLOOR ? epochFromMonotonic(time) : time;
  if (Array.isArray(time)) return time[0] * 1000 + time[1] / 1e6;
  return time.getTime();
}
