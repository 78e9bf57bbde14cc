import { describe, expect, it, vi } from 'vitest';
import { newSpanId, newTraceId } from '../../../src/trace/id-generator';

describe('ids', () => {
  it('are lowercase hex of the W3C lengths, never all zeros, and do not repeat', () => {
    const traceIds = new Set<string>();
    const spanIds = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const traceId = newTraceId();
      const spanId = newSpanId();
      expect(traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(traceId).not.toBe('0'.repeat(32));
      expect(spanId).not.toBe('0'.repeat(16));
      traceIds.add(traceId);
      spanIds.add(spanId);
    }
    expect(traceIds.size).toBe(20_000);
    expect(spanIds.size).toBe(20_000);
  });

  it('use every hex digit in every position (no stuck bits)', () => {
    const seen = Array.from({ length: 32 }, () => new Set<string>());
    for (let i = 0; i < 2000; i++) [...newTraceId()].forEach((digit, position) => seen[position]!.add(digit));
    expect(seen.map((digits) => digits.size)).toEqual(Array(32).fill(16));
  });

  it('are not all zeros even where the random source gave only zeros', () => {
    const random = Math.random;
    let calls = 0;
    // The first 1024 draws (32 refills of the pool) come out as zeros, the draws after them are random.
    const spy = vi.spyOn(Math, 'random').mockImplementation(() => (++calls <= 1024 ? 0 : random()));
    try {
      const ids = Array.from({ length: 600 }, () => newSpanId());
      const traceIds = Array.from({ length: 300 }, () => newTraceId());
      expect(calls).toBeGreaterThan(1024);
      expect(ids.filter((id) => id === '0'.repeat(16))).toEqual([]);
      expect(traceIds.filter((id) => id === '0'.repeat(32))).toEqual([]);
    } finally {
      spy.mockRestore();
    }
  });
});
