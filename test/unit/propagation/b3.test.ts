import { ROOT_CONTEXT, TraceFlags, defaultTextMapGetter, defaultTextMapSetter, trace, type Context, type SpanContext } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { B3Propagator, B3_DEBUG_FLAG_KEY } from '../../../src/propagation/b3';

const TRACE_ID = '80f198ee56343ba864fe8b2a57d3eff7';
const TRACE_ID_64 = '64fe8b2a57d3eff7';
const SPAN_ID = 'e457b5a2e4d86bd1';
const PARENT_ID = '05e3ac9a4f6e3b90';
const OTHER_SPAN_ID = 'a2fb4a1d1a96d312';

const single = new B3Propagator({ injectEncoding: 'single' });
const multi = new B3Propagator({ injectEncoding: 'multi' });

function extract(carrier: Record<string, unknown>, context: Context = ROOT_CONTEXT): Context {
  return single.extract(context, carrier, defaultTextMapGetter);
}

/** traceId, spanId, sampled and debug of what was extracted, or undefined. */
function extracted(carrier: Record<string, unknown>) {
  const context = extract(carrier);
  const spanContext = trace.getSpanContext(context);
  if (spanContext === undefined) return undefined;
  expect(spanContext.isRemote).toBe(true);
  return {
    traceId: spanContext.traceId,
    spanId: spanContext.spanId,
    sampled: spanContext.traceFlags === TraceFlags.SAMPLED,
    debug: context.getValue(B3_DEBUG_FLAG_KEY) === true,
  };
}

describe('B3 single header extraction', () => {
  it.each([
    ['sampled', `${TRACE_ID}-${SPAN_ID}-1`, TRACE_ID, true, false],
    ['not sampled', `${TRACE_ID}-${SPAN_ID}-0`, TRACE_ID, false, false],
    ['debug, which implies sampled', `${TRACE_ID}-${SPAN_ID}-d`, TRACE_ID, true, true],
    ['no sampling state (deferred: not sampled)', `${TRACE_ID}-${SPAN_ID}`, TRACE_ID, false, false],
    ['a parent span id', `${TRACE_ID}-${SPAN_ID}-1-${PARENT_ID}`, TRACE_ID, true, false],
    ['a 64-bit trace id, left-padded', `${TRACE_ID_64}-${SPAN_ID}-1`, `${'0'.repeat(16)}${TRACE_ID_64}`, true, false],
    ['uppercase hex, lowercased', `${TRACE_ID}-${SPAN_ID}-1-${PARENT_ID}`.toUpperCase(), TRACE_ID, true, false],
  ])('reads %s', (_, b3, traceId, sampled, debug) => {
    expect(extracted({ b3 })).toEqual({ traceId, spanId: SPAN_ID, sampled, debug });
  });

  it('accepts an array of one value', () => {
    expect(extracted({ b3: [`${TRACE_ID}-${SPAN_ID}-1`] })?.spanId).toBe(SPAN_ID);
  });

  it.each([
    ['a lone "1"', '1'],
    ['a lone "0"', '0'],
    ['a lone "d"', 'd'],
    ['an unknown sampling state', `${TRACE_ID}-${SPAN_ID}-2`],
    ['an uppercase debug state', `${TRACE_ID}-${SPAN_ID}-D`],
    ['a sampling state of two characters', `${TRACE_ID}-${SPAN_ID}-11`],
    ['a parent span id without sampling state', `${TRACE_ID}-${SPAN_ID}-${PARENT_ID}`],
    ['a short parent span id', `${TRACE_ID}-${SPAN_ID}-1-${PARENT_ID.slice(1)}`],
    ['a trailing "-"', `${TRACE_ID}-${SPAN_ID}-1-`],
    ['a 15-digit trace id', `${TRACE_ID_64.slice(1)}-${SPAN_ID}-1`],
    ['a 20-digit trace id', `${TRACE_ID.slice(12)}-${SPAN_ID}-1`],
    ['a 33-digit trace id', `${TRACE_ID}a-${SPAN_ID}-1`],
    ['a 15-digit span id', `${TRACE_ID}-${SPAN_ID.slice(1)}-1`],
    ['a 17-digit span id', `${TRACE_ID}-${SPAN_ID}a-1`],
    ['an all-zero trace id', `${'0'.repeat(32)}-${SPAN_ID}-1`],
    ['an all-zero 64-bit trace id', `${'0'.repeat(16)}-${SPAN_ID}-1`],
    ['an all-zero span id', `${TRACE_ID}-${'0'.repeat(16)}-1`],
    ['a non-hex character', `${TRACE_ID.slice(1)}g-${SPAN_ID}-1`],
    ['surrounding text', ` ${TRACE_ID}-${SPAN_ID}-1`],
    ['an empty value', ''],
    ['a repeated header', [`${TRACE_ID}-${SPAN_ID}-1`, `${TRACE_ID}-${SPAN_ID}-1`]],
    ['a number', 1],
  ])('extracts nothing from %s', (_, b3) => {
    expect(extract({ b3 })).toBe(ROOT_CONTEXT);
  });
});

describe('B3 multi header extraction', () => {
  const ids = { 'x-b3-traceid': TRACE_ID, 'x-b3-spanid': SPAN_ID };

  it.each([
    ['sampled "1"', { 'x-b3-sampled': '1' }, true, false],
    ['sampled "true"', { 'x-b3-sampled': 'true' }, true, false],
    ['not sampled "0"', { 'x-b3-sampled': '0' }, false, false],
    ['not sampled "false"', { 'x-b3-sampled': 'false' }, false, false],
    ['no sampling decision (deferred: not sampled)', {}, false, false],
    ['an unknown sampling value (not sampled)', { 'x-b3-sampled': 'yes' }, false, false],
    ['debug flag, which implies sampled', { 'x-b3-flags': '1' }, true, true],
    ['debug flag over "0"', { 'x-b3-flags': '1', 'x-b3-sampled': '0' }, true, true],
    ['a flags value other than "1" (no debug)', { 'x-b3-flags': '0' }, false, false],
    ['a parent span id (ignored)', { 'x-b3-parentspanid': PARENT_ID, 'x-b3-sampled': '1' }, true, false],
  ])('reads %s', (_, headers, sampled, debug) => {
    expect(extracted({ ...ids, ...headers })).toEqual({ traceId: TRACE_ID, spanId: SPAN_ID, sampled, debug });
  });

  it('pads a 64-bit trace id and lowercases hex', () => {
    const carrier = { 'x-b3-traceid': TRACE_ID_64.toUpperCase(), 'x-b3-spanid': SPAN_ID.toUpperCase() };
    expect(extracted(carrier)).toMatchObject({ traceId: `${'0'.repeat(16)}${TRACE_ID_64}`, spanId: SPAN_ID });
  });

  it.each([
    ['no trace id', { 'x-b3-spanid': SPAN_ID }],
    ['no span id', { 'x-b3-traceid': TRACE_ID }],
    ['a 20-digit trace id', { ...ids, 'x-b3-traceid': TRACE_ID.slice(12) }],
    ['a 15-digit span id', { ...ids, 'x-b3-spanid': SPAN_ID.slice(1) }],
    ['an all-zero trace id', { ...ids, 'x-b3-traceid': '0'.repeat(32) }],
    ['an all-zero span id', { ...ids, 'x-b3-spanid': '0'.repeat(16) }],
    ['a non-hex trace id', { ...ids, 'x-b3-traceid': `${TRACE_ID.slice(1)}x` }],
    ['a repeated trace id header', { ...ids, 'x-b3-traceid': [TRACE_ID, TRACE_ID] }],
    ['a numeric span id', { ...ids, 'x-b3-spanid': 1234567890123456 }],
  ])('extracts nothing from %s', (_, carrier) => {
    expect(extract(carrier)).toBe(ROOT_CONTEXT);
  });
});

describe('B3 precedence', () => {
  it('prefers the single header over the multi headers', () => {
    const carrier = {
      b3: `${TRACE_ID}-${SPAN_ID}-0`,
      'x-b3-traceid': TRACE_ID,
      'x-b3-spanid': OTHER_SPAN_ID,
      'x-b3-sampled': '1',
    };
    expect(extracted(carrier)).toEqual({ traceId: TRACE_ID, spanId: SPAN_ID, sampled: false, debug: false });
  });

  it('falls back to the multi headers when the single header has no ids', () => {
    const carrier = { b3: '1', 'x-b3-traceid': TRACE_ID, 'x-b3-spanid': OTHER_SPAN_ID, 'x-b3-sampled': '1' };
    expect(extracted(carrier)?.spanId).toBe(OTHER_SPAN_ID);
  });

  it('does not keep a debug flag from an earlier extraction', () => {
    const debugContext = extract({ b3: `${TRACE_ID}-${SPAN_ID}-d` });
    expect(debugContext.getValue(B3_DEBUG_FLAG_KEY)).toBe(true);
    const next = extract({ b3: `${TRACE_ID}-${OTHER_SPAN_ID}-1` }, debugContext);
    expect(next.getValue(B3_DEBUG_FLAG_KEY)).toBeUndefined();
  });
});

describe('B3 injection', () => {
  const spanContext = (traceFlags: number): SpanContext => ({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags });
  const inject = (propagator: B3Propagator, context: Context): Record<string, string> => {
    const carrier: Record<string, string> = {};
    propagator.inject(context, carrier, defaultTextMapSetter);
    return carrier;
  };
  const sampledContext = trace.setSpanContext(ROOT_CONTEXT, spanContext(TraceFlags.SAMPLED));
  const unsampledContext = trace.setSpanContext(ROOT_CONTEXT, spanContext(TraceFlags.NONE));
  const debugContext = sampledContext.setValue(B3_DEBUG_FLAG_KEY, true);

  it.each([
    ['sampled', sampledContext, '1'],
    ['not sampled', unsampledContext, '0'],
    ['debug', debugContext, 'd'],
  ])('writes the single header, %s', (_, context, sampling) => {
    expect(inject(single, context)).toEqual({ b3: `${TRACE_ID}-${SPAN_ID}-${sampling}` });
  });

  it.each([
    ['sampled', sampledContext, { 'x-b3-sampled': '1' }],
    ['not sampled', unsampledContext, { 'x-b3-sampled': '0' }],
    ['debug, as x-b3-flags without x-b3-sampled', debugContext, { 'x-b3-flags': '1' }],
  ])('writes the multi headers, %s', (_, context, sampling) => {
    expect(inject(multi, context)).toEqual({ 'x-b3-traceid': TRACE_ID, 'x-b3-spanid': SPAN_ID, ...sampling });
  });

  it('writes nothing without a valid span context', () => {
    expect(inject(single, ROOT_CONTEXT)).toEqual({});
    const invalid = trace.setSpanContext(ROOT_CONTEXT, { ...spanContext(1), traceId: '0'.repeat(32) });
    expect(inject(multi, invalid)).toEqual({});
  });

  it('round-trips a 64-bit trace id as its padded form, and the debug flag', () => {
    const context = extract({ 'x-b3-traceid': TRACE_ID_64, 'x-b3-spanid': SPAN_ID, 'x-b3-flags': '1' });
    expect(inject(single, context)).toEqual({ b3: `${'0'.repeat(16)}${TRACE_ID_64}-${SPAN_ID}-d` });
  });

  it('lists the headers of its inject encoding', () => {
    expect(single.fields()).toEqual(['b3']);
    expect(multi.fields()).toEqual(['x-b3-traceid', 'x-b3-spanid', 'x-b3-sampled', 'x-b3-flags']);
    expect(new B3Propagator().fields()).toEqual(['b3']);
  });
});
