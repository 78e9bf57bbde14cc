import { ROOT_CONTEXT, TraceFlags, defaultTextMapGetter, defaultTextMapSetter, trace, type SpanContext } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { TraceContextPropagator, parseTraceParent } from '../../../src/propagation/trace-context';
import { TraceState } from '../../../src/propagation/trace-state';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const SPAN_ID = 'b7ad6b7169203331';
const VALID = `00-${TRACE_ID}-${SPAN_ID}-01`;

const propagator = new TraceContextPropagator();

function extract(carrier: Record<string, unknown>): SpanContext | undefined {
  const context = propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
  return trace.getSpanContext(context);
}

function inject(spanContext: SpanContext): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagator.inject(trace.setSpanContext(ROOT_CONTEXT, spanContext), carrier, defaultTextMapSetter);
  return carrier;
}

describe('traceparent extraction', () => {
  it.each([
    ['version 00, sampled', VALID, TraceFlags.SAMPLED],
    ['version 00, not sampled', `00-${TRACE_ID}-${SPAN_ID}-00`, TraceFlags.NONE],
    ['version 00, random (Level 2)', `00-${TRACE_ID}-${SPAN_ID}-02`, 0x02],
    ['version 00, sampled and random', `00-${TRACE_ID}-${SPAN_ID}-03`, 0x03],
    ['flags Level 2 does not define, read as zeros', `00-${TRACE_ID}-${SPAN_ID}-09`, 0x01],
    ['every flag set, only sampled and random read', `00-${TRACE_ID}-${SPAN_ID}-ff`, 0x03],
    ['leading and trailing spaces', `  ${VALID}  `, TraceFlags.SAMPLED],
    ['leading and trailing tabs', `\t${VALID}\t`, TraceFlags.SAMPLED],
    ['a future version of 55 characters', `cc-${TRACE_ID}-${SPAN_ID}-01`, TraceFlags.SAMPLED],
    ['a future version with more fields', `cc-${TRACE_ID}-${SPAN_ID}-01-what-the-future-will-be-like`, 1],
    ['a future version with a trailing "-"', `cc-${TRACE_ID}-${SPAN_ID}-01-`, TraceFlags.SAMPLED],
    ['version fe', `fe-${TRACE_ID}-${SPAN_ID}-00`, TraceFlags.NONE],
  ])('accepts %s', (_, traceparent, traceFlags) => {
    expect(extract({ traceparent })).toEqual({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags, isRemote: true });
  });

  it('accepts a header given as an array of one value', () => {
    expect(extract({ traceparent: [VALID] })?.spanId).toBe(SPAN_ID);
  });

  it.each([
    ['version ff', `ff-${TRACE_ID}-${SPAN_ID}-01`],
    ['version ff of a future-style header', `ff-${TRACE_ID}-${SPAN_ID}-01-more`],
    ['version 00 with more fields', `${VALID}-what-the-future-will-be-like`],
    ['version 00 with a trailing "-"', `${VALID}-`],
    ['version 00 one character short', VALID.slice(0, -1)],
    ['a future version not followed by "-"', `cc-${TRACE_ID}-${SPAN_ID}-01.what-the-future-will-be-like`],
    ['a future version with 3-digit flags', `cc-${TRACE_ID}-${SPAN_ID}-010`],
    ['uppercase version', `0A-${TRACE_ID}-${SPAN_ID}-01`],
    ['uppercase trace id', `00-${TRACE_ID.toUpperCase()}-${SPAN_ID}-01`],
    ['uppercase parent id', `00-${TRACE_ID}-${SPAN_ID.toUpperCase()}-01`],
    ['uppercase flags', `00-${TRACE_ID}-${SPAN_ID}-0A`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${SPAN_ID}-01`],
    ['an all-zero parent id', `00-${TRACE_ID}-${'0'.repeat(16)}-01`],
    ['a 31-digit trace id', `00-${TRACE_ID.slice(1)}-${SPAN_ID}-01`],
    ['a 33-digit trace id', `00-${TRACE_ID}a-${SPAN_ID}-01`],
    ['a 15-digit parent id', `00-${TRACE_ID}-${SPAN_ID.slice(1)}-01`],
    ['a 17-digit parent id', `00-${TRACE_ID}-${SPAN_ID}a-01`],
    ['a one-digit version', `0-${TRACE_ID}-${SPAN_ID}-01`],
    ['one-digit flags', `00-${TRACE_ID}-${SPAN_ID}-1`],
    ['a non-hex character', `00-${TRACE_ID.slice(0, -1)}g-${SPAN_ID}-01`],
    ['another separator', `00_${TRACE_ID}_${SPAN_ID}_01`],
    ['whitespace inside', `00- ${TRACE_ID}-${SPAN_ID}-01`],
    ['a newline around it', `\n${VALID}`],
    ['nothing', ''],
    ['only whitespace', ' \t '],
  ])('rejects %s', (_, traceparent) => {
    expect(extract({ traceparent })).toBeUndefined();
    expect(parseTraceParent(traceparent)).toBeUndefined();
  });

  it.each([
    ['a repeated header', [VALID, VALID]],
    ['an empty array', []],
    ['an array holding a number', [42]],
    ['a number', 42],
    ['an object', { value: VALID }],
    ['null', null],
  ])('rejects %s', (_, traceparent) => {
    expect(extract({ traceparent })).toBeUndefined();
  });

  it('returns the context unchanged when nothing valid is found', () => {
    const carrier = { traceparent: `ff-${TRACE_ID}-${SPAN_ID}-01`, tracestate: 'a=1' };
    expect(propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter)).toBe(ROOT_CONTEXT);
    expect(propagator.extract(ROOT_CONTEXT, {}, defaultTextMapGetter)).toBe(ROOT_CONTEXT);
  });
});

describe('tracestate extraction', () => {
  it('attaches a valid tracestate', () => {
    const spanContext = extract({ traceparent: VALID, tracestate: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE' });
    expect(spanContext?.traceState?.get('congo')).toBe('t61rcWkgMzE');
    expect(spanContext?.traceState?.serialize()).toBe('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE');
  });

  it('joins repeated tracestate headers with ","', () => {
    const spanContext = extract({ traceparent: VALID, tracestate: ['a=1', 'b=2'] });
    expect(spanContext?.traceState?.serialize()).toBe('a=1,b=2');
  });

  it('drops an invalid tracestate but keeps the traceparent', () => {
    const spanContext = extract({ traceparent: VALID, tracestate: 'a=1,@b=2' });
    expect(spanContext?.traceId).toBe(TRACE_ID);
    expect(spanContext?.traceState).toBeUndefined();
  });

  it('keeps the first of a key repeated over repeated headers, and the header with it', () => {
    expect(extract({ traceparent: VALID, tracestate: ['a=1', 'a=2'] })?.traceState?.serialize()).toBe('a=1');
    expect(extract({ traceparent: VALID, tracestate: ['a=1,b=2', 'a=1'] })?.traceState?.serialize()).toBe('a=1,b=2');
  });

  it('keeps a valid OpenTelemetry entry as it came', () => {
    const traceState = extract({ traceparent: VALID, tracestate: 'ot=th:c;rv:6e6d1a75832a2f;xx:A.b_c-1,rojo=1' })?.traceState;
    expect(traceState?.serialize()).toBe('ot=th:c;rv:6e6d1a75832a2f;xx:A.b_c-1,rojo=1');
  });

  it.each([
    ['a threshold that is not hex', 'ot=th:xyz;rv:6e6d1a75832a2f,rojo=1', 'ot=rv:6e6d1a75832a2f,rojo=1'],
    ['a threshold of 15 digits', 'ot=th:fffffffffffffff,rojo=1', 'rojo=1'],
    ['an uppercase threshold', 'ot=th:C,rojo=1', 'rojo=1'],
    ['a randomness of 13 digits', 'rojo=1,ot=rv:6e6d1a75832a2;th:8', 'ot=th:8,rojo=1'],
    ['an uppercase randomness', 'ot=rv:6E6D1A75832A2F,rojo=1', 'rojo=1'],
    ['an entry that breaks the ot grammar', 'ot=th:8:9,rojo=1', 'rojo=1'],
    ['an entry with a space', 'ot=th:8 ;rv:6e6d1a75832a2f,rojo=1', 'rojo=1'],
    ['an entry with a sub-key twice', 'ot=th:8;th:c,rojo=1', 'rojo=1'],
    ['an entry without ":"', 'ot=th,rojo=1', 'rojo=1'],
  ])('drops %s from the OpenTelemetry entry, keeping the rest of the tracestate', (_, tracestate, kept) => {
    expect(extract({ traceparent: VALID, tracestate })?.traceState?.serialize()).toBe(kept);
  });

  it('ignores a tracestate that is not text', () => {
    expect(extract({ traceparent: VALID, tracestate: 7 })?.traceState).toBeUndefined();
    expect(extract({ traceparent: VALID, tracestate: ['a=1', 7] })?.traceState).toBeUndefined();
  });

  it('ignores a tracestate without a valid traceparent', () => {
    const carrier = { traceparent: 'garbage', tracestate: 'a=1' };
    expect(propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter)).toBe(ROOT_CONTEXT);
  });
});

describe('injection', () => {
  const base: SpanContext = { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED };

  it('writes version 00 and the ids', () => {
    expect(inject(base)).toEqual({ traceparent: VALID });
  });

  it.each([
    [TraceFlags.NONE, '00'],
    [TraceFlags.SAMPLED, '01'],
    [0x02, '02'],
    [0x03, '03'],
    [0x09, '01'],
    [0xff, '03'],
  ])('passes on only the sampled and random bits of flags %i', (traceFlags, flags) => {
    expect(inject({ ...base, traceFlags }).traceparent).toBe(`00-${TRACE_ID}-${SPAN_ID}-${flags}`);
  });

  it('writes tracestate when it is not empty', () => {
    const traceState = new TraceState().set('b', '2').set('a', '1');
    expect(inject({ ...base, traceState })).toEqual({ traceparent: VALID, tracestate: 'a=1,b=2' });
  });

  it('writes no tracestate when it is empty', () => {
    expect(inject({ ...base, traceState: new TraceState() })).toEqual({ traceparent: VALID });
  });

  it.each([
    ['an all-zero trace id', { ...base, traceId: '0'.repeat(32) }],
    ['an all-zero span id', { ...base, spanId: '0'.repeat(16) }],
    ['a short trace id', { ...base, traceId: 'abc' }],
  ])('writes nothing for %s', (_, spanContext) => {
    expect(inject(spanContext)).toEqual({});
  });

  it('writes nothing without a span in the context', () => {
    const carrier = {};
    propagator.inject(ROOT_CONTEXT, carrier, defaultTextMapSetter);
    expect(carrier).toEqual({});
  });

  it('round-trips extract to inject, as version 00 with the sampled and random flags', () => {
    const incoming = {
      traceparent: `cc-${TRACE_ID}-${SPAN_ID}-03-future`,
      tracestate: ' congo=t61rcWkgMzE ,, rojo=00f067aa0ba902b7',
    };
    const context = propagator.extract(ROOT_CONTEXT, incoming, defaultTextMapGetter);
    const outgoing: Record<string, string> = {};
    propagator.inject(context, outgoing, defaultTextMapSetter);
    expect(outgoing).toEqual({
      traceparent: `00-${TRACE_ID}-${SPAN_ID}-03`,
      tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7',
    });
  });

  it('lists its fields', () => {
    expect(propagator.fields()).toEqual(['traceparent', 'tracestate']);
  });
});
