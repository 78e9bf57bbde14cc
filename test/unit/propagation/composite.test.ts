import { ROOT_CONTEXT, TraceFlags, defaultTextMapGetter, defaultTextMapSetter, propagation, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { createPropagator } from '../../../src/propagation/composite';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const W3C_SPAN_ID = 'b7ad6b7169203331';
const B3_SPAN_ID = 'e457b5a2e4d86bd1';

const carrier = {
  traceparent: `00-${TRACE_ID}-${W3C_SPAN_ID}-01`,
  b3: `${TRACE_ID}-${B3_SPAN_ID}-1`,
  baggage: 'k=v',
};

describe('createPropagator', () => {
  it('extracts in the listed order, each on the result of the previous: the last one found wins', () => {
    const w3cLast = createPropagator(['b3', 'tracecontext']).extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
    expect(trace.getSpanContext(w3cLast)?.spanId).toBe(W3C_SPAN_ID);
    const b3Last = createPropagator(['tracecontext', 'b3']).extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
    expect(trace.getSpanContext(b3Last)?.spanId).toBe(B3_SPAN_ID);
  });

  it('keeps what earlier propagators extracted', () => {
    const context = createPropagator(['baggage', 'tracecontext']).extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
    expect(propagation.getBaggage(context)?.getEntry('k')?.value).toBe('v');
    expect(trace.getSpanContext(context)?.spanId).toBe(W3C_SPAN_ID);
  });

  it('injects with every propagator, b3 and b3multi together', () => {
    const spanContext = { traceId: TRACE_ID, spanId: B3_SPAN_ID, traceFlags: TraceFlags.SAMPLED };
    const context = propagation.setBaggage(trace.setSpanContext(ROOT_CONTEXT, spanContext), propagation.createBaggage({ k: { value: 'v' } }));
    const out: Record<string, string> = {};
    createPropagator(['tracecontext', 'baggage', 'b3', 'b3multi', 'jaeger']).inject(context, out, defaultTextMapSetter);
    expect(out).toEqual({
      traceparent: `00-${TRACE_ID}-${B3_SPAN_ID}-01`,
      baggage: 'k=v',
      b3: `${TRACE_ID}-${B3_SPAN_ID}-1`,
      'x-b3-traceid': TRACE_ID,
      'x-b3-spanid': B3_SPAN_ID,
      'x-b3-sampled': '1',
      'uber-trace-id': `${TRACE_ID}:${B3_SPAN_ID}:0:01`,
      'uberctx-k': 'v',
    });
  });

  it('lists the union of fields without duplicates', () => {
    expect(createPropagator(['tracecontext', 'baggage', 'b3', 'b3multi', 'jaeger']).fields()).toEqual([
      'traceparent',
      'tracestate',
      'baggage',
      'b3',
      'x-b3-traceid',
      'x-b3-spanid',
      'x-b3-sampled',
      'x-b3-flags',
      'uber-trace-id',
    ]);
    expect(createPropagator(['b3multi', 'tracecontext', 'b3multi']).fields()).toEqual([
      'x-b3-traceid',
      'x-b3-spanid',
      'x-b3-sampled',
      'x-b3-flags',
      'traceparent',
      'tracestate',
    ]);
  });

  it('returns fields a caller may change without harm', () => {
    const composite = createPropagator(['tracecontext']);
    composite.fields().push('x');
    expect(composite.fields()).toEqual(['traceparent', 'tracestate']);
  });

  it('does nothing for an empty list (OTEL_PROPAGATORS=none)', () => {
    const none = createPropagator([]);
    expect(none.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter)).toBe(ROOT_CONTEXT);
    const out = {};
    const context = trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: B3_SPAN_ID, traceFlags: 1 });
    none.inject(context, out, defaultTextMapSetter);
    expect(out).toEqual({});
    expect(none.fields()).toEqual([]);
  });
});
