import type { Context, TextMapGetter, TextMapPropagator, TextMapSetter } from '@opentelemetry/api';
import { createContextKey } from '../api/context';
import {
  getSpanContext,
  INVALID_SPAN_ID,
  INVALID_TRACE_ID,
  isSpanContextValid,
  setSpanContext,
  TRACE_FLAG_NONE,
  TRACE_FLAG_SAMPLED,
} from '../api/trace';
import { singleValue } from './header-values';

export const B3_SINGLE_HEADER = 'b3';
export const B3_TRACE_ID_HEADER = 'x-b3-traceid';
export const B3_SPAN_ID_HEADER = 'x-b3-spanid';
export const B3_SAMPLED_HEADER = 'x-b3-sampled';
export const B3_FLAGS_HEADER = 'x-b3-flags';

/** True in a context extracted with a B3 debug decision, so that inject passes "debug" on. */
export const B3_DEBUG_FLAG_KEY = createContextKey('tracelet B3 debug flag');

/** How inject writes B3: one `b3` header (config name `b3`) or the `x-b3-*` headers (`b3multi`). */
export type B3InjectEncoding = 'single' | 'multi';

export interface B3PropagatorOptions {
  readonly injectEncoding: B3InjectEncoding;
}

const SINGLE_FIELDS: readonly string[] = [B3_SINGLE_HEADER];
const MULTI_FIELDS: readonly string[] = [B3_TRACE_ID_HEADER, B3_SPAN_ID_HEADER, B3_SAMPLED_HEADER, B3_FLAGS_HEADER];

// {traceId}-{spanId}[-{sampling}[-{parentSpanId}]], hex in either case
const SINGLE_RE = /^(?:[0-9a-fA-F]{16}|[0-9a-fA-F]{32})-[0-9a-fA-F]{16}(?:-[01d](?:-[0-9a-fA-F]{16})?)?$/;
const TRACE_ID_RE = /^(?:[0-9a-fA-F]{16}|[0-9a-fA-F]{32})$/;
const SPAN_ID_RE = /^[0-9a-fA-F]{16}$/;
const TRACE_ID_64_BIT_PADDING = '0000000000000000';
const SPAN_ID_LENGTH = 16;

/**
 * Zipkin B3. Extract reads both encodings, the single `b3` header first; inject writes one of them.
 * When the sender left the sampling decision to us (no sampling state), B3 says the receiver decides:
 * the context is extracted as remote and not sampled, so a parent-based sampler does not record it
 * and inject passes "not sampled" on.
 */
export class B3Propagator implements TextMapPropagator {
  private readonly injectEncoding: B3InjectEncoding;

  constructor(options: B3PropagatorOptions = { injectEncoding: 'single' }) {
    this.injectEncoding = options.injectEncoding;
  }

  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const spanContext = getSpanContext(context);
    if (spanContext === undefined || !isSpanContextValid(spanContext)) return;
    const debug = context.getValue(B3_DEBUG_FLAG_KEY) === true;
    const sampled = (spanContext.traceFlags & TRACE_FLAG_SAMPLED) === TRACE_FLAG_SAMPLED;
    if (this.injectEncoding === 'single') {
      const sampling = debug ? 'd' : sampled ? '1' : '0';
      setter.set(carrier, B3_SINGLE_HEADER, `${spanContext.traceId}-${spanContext.spanId}-${sampling}`);
      return;
    }
    setter.set(carrier, B3_TRACE_ID_HEADER, spanContext.traceId);
    setter.set(carrier, B3_SPAN_ID_HEADER, spanContext.spanId);
    // Debug implies sampled, so B3 sends the flag instead of x-b3-sampled.
    if (debug) setter.set(carrier, B3_FLAGS_HEADER, '1');
    else setter.set(carrier, B3_SAMPLED_HEADER, sampled ? '1' : '0');
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    try {
      return extractSingle(context, carrier, getter) ?? extractMulti(context, carrier, getter) ?? context;
    } catch {
      return context; // a carrier or getter that throws carries no trace context
    }
  }

  fields(): string[] {
    return this.injectEncoding === 'single' ? SINGLE_FIELDS.slice() : MULTI_FIELDS.slice();
  }
}

/** From `b3: {traceId}-{spanId}[-{sampling}[-{parentSpanId}]]`; a lone sampling state has no ids. */
function extractSingle(context: Context, carrier: unknown, getter: TextMapGetter): Context | undefined {
  const value = singleValue(getter.get(carrier, B3_SINGLE_HEADER));
  if (value === undefined || !SINGLE_RE.test(value)) return undefined;
  const traceIdEnd = value.indexOf('-');
  const spanIdStart = traceIdEnd + 1;
  const sampling = value.charAt(spanIdStart + SPAN_ID_LENGTH + 1); // '' when absent
  return withRemoteSpan(
    context,
    value.slice(0, traceIdEnd),
    value.slice(spanIdStart, spanIdStart + SPAN_ID_LENGTH),
    sampling === '1' || sampling === 'd',
    sampling === 'd',
  );
}

/** From `x-b3-traceid`, `x-b3-spanid`, `x-b3-sampled` and `x-b3-flags`. */
function extractMulti(context: Context, carrier: unknown, getter: TextMapGetter): Context | undefined {
  const traceId = singleValue(getter.get(carrier, B3_TRACE_ID_HEADER));
  if (traceId === undefined || !TRACE_ID_RE.test(traceId)) return undefined;
  const spanId = singleValue(getter.get(carrier, B3_SPAN_ID_HEADER));
  if (spanId === undefined || !SPAN_ID_RE.test(spanId)) return undefined;
  const debug = singleValue(getter.get(carrier, B3_FLAGS_HEADER)) === '1';
  const sampled = singleValue(getter.get(carrier, B3_SAMPLED_HEADER));
  return withRemoteSpan(context, traceId, spanId, debug || sampled === '1' || sampled === 'true', debug);
}

/** The context with the remote span set, or undefined for an all-zero id. Ids are known to be hex. */
function withRemoteSpan(context: Context, rawTraceId: string, rawSpanId: string, sampled: boolean, debug: boolean): Context | undefined {
  // A 64-bit trace id is the low half of a 128-bit one.
  const traceId = (rawTraceId.length === 16 ? TRACE_ID_64_BIT_PADDING + rawTraceId : rawTraceId).toLowerCase();
  const spanId = rawSpanId.toLowerCase();
  if (traceId === INVALID_TRACE_ID || spanId === INVALID_SPAN_ID) return undefined;
  const withSpan = setSpanContext(context, {
    traceId,
    spanId,
    traceFlags: sampled ? TRACE_FLAG_SAMPLED : TRACE_FLAG_NONE,
    isRemote: true,
  });
  if (debug) return withSpan.setValue(B3_DEBUG_FLAG_KEY, true);
  // The flag describes this span context: one left from an earlier extraction does not apply.
  return withSpan.getValue(B3_DEBUG_FLAG_KEY) === undefined ? withSpan : withSpan.deleteValue(B3_DEBUG_FLAG_KEY);
}
