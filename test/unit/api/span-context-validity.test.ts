import { describe, expect, it } from 'vitest';
import { isSpanContextValid, VerifiedSpanContext } from '../../../src/api/trace';
import { parseTraceParent } from '../../../src/propagation/trace-context';
import { testProvider } from '../../helpers/in-memory';
import { ROOT_CONTEXT } from '../../../src/api/context';

describe('isSpanContextValid', () => {
  it('checks the ids of a span context from elsewhere (application code, another propagator)', () => {
    expect(isSpanContextValid({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 })).toBe(true);
    expect(isSpanContextValid({ traceId: '0AF7651916CD43DD8448EB211C80319C', spanId: 'b7ad6b7169203331', traceFlags: 1 })).toBe(false);
    expect(isSpanContextValid({ traceId: '00000000000000000000000000000000', spanId: 'b7ad6b7169203331', traceFlags: 1 })).toBe(false);
    expect(isSpanContextValid({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: '0000000000000000', traceFlags: 1 })).toBe(false);
    expect(isSpanContextValid({ traceId: 'abc', spanId: 'b7ad6b7169203331', traceFlags: 1 })).toBe(false);
  });

  it('trusts the span contexts the tracer and the traceparent parser build, whose ids they checked', () => {
    const { tracer } = testProvider();
    const recorded = tracer.startSpan('recorded', undefined, ROOT_CONTEXT).spanContext();
    const parsed = parseTraceParent('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    expect(recorded).toBeInstanceOf(VerifiedSpanContext);
    expect(parsed).toBeInstanceOf(VerifiedSpanContext);
    expect(isSpanContextValid(recorded)).toBe(true);
    expect(isSpanContextValid(parsed!)).toBe(true);
    // They still read like plain span contexts.
    expect({ ...parsed }).toEqual({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
      traceState: undefined,
      isRemote: true,
    });
  });
});
