import { describe, expect, it } from 'vitest';
import { backoffDelayMs, isRetryableStatus, parseRetryAfterMs } from '../../../src/export/otlp/retry';

describe('OTLP retry rules', () => {
  it('retries exactly 429, 502, 503 and 504', () => {
    const retryable = [...Array(600).keys()].filter(isRetryableStatus);
    expect(retryable).toEqual([429, 502, 503, 504]);
  });

  it('backs off exponentially up to 5 s, with jitter between half and all of the step', () => {
    expect([0, 1, 2, 3, 4, 5].map((a) => backoffDelayMs(a, () => 0.999999))).toEqual([500, 1000, 2000, 4000, 5000, 5000]);
    expect([0, 1, 2, 3, 4, 5].map((a) => backoffDelayMs(a, () => 0))).toEqual([250, 500, 1000, 2000, 2500, 2500]);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('Wed, 21 Oct 2026 07:28:00 GMT');
    expect(parseRetryAfterMs('3', now)).toBe(3000);
    expect(parseRetryAfterMs(['2'], now)).toBe(2000);
    expect(parseRetryAfterMs('Wed, 21 Oct 2026 07:28:05 GMT', now)).toBe(5000);
    expect(parseRetryAfterMs('Wed, 21 Oct 2026 07:27:00 GMT', now)).toBe(0);
    expect(parseRetryAfterMs(undefined, now)).toBeUndefined();
    expect(parseRetryAfterMs('soon', now)).toBeUndefined();
    expect(parseRetryAfterMs('-1', now)).toBeUndefined();
  });
});
