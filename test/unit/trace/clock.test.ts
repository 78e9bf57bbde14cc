import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { now, toEpochMillis } from '../../../src/trace/clock';

describe('clock', () => {
  it('tracks the wall clock with sub-millisecond precision', () => {
    const readings = Array.from({ length: 100 }, () => now());
    expect(Math.abs(readings[0]! - Date.now())).toBeLessThan(50);
    expect(readings.some((r) => r % 1 !== 0)).toBe(true);
    for (let i = 1; i < readings.length; i++) expect(readings[i]).toBeGreaterThanOrEqual(readings[i - 1]!);
  });

  it('converts every TimeInput form to epoch milliseconds', () => {
    expect(toEpochMillis(new Date(1_700_000_000_000))).toBe(1_700_000_000_000);
    expect(toEpochMillis([1_700_000_000, 123_456_789])).toBeCloseTo(1_700_000_000_123.456789, 5);
    expect(toEpochMillis(1_600_000_000_000)).toBe(1_600_000_000_000);
    const relative = performance.now();
    expect(Math.abs(toEpochMillis(relative) - Date.now())).toBeLessThan(50);
  });
});
