import type { Context, SpanContext, TextMapGetter, TextMapPropagator, TextMapSetter } from '@opentelemetry/api';
import {
  getSpanContext,
  INVALID_SPAN_ID,
  INVALID_TRACE_ID,
  isSpanContextValid,
  KNOWN_TRACE_FLAGS,
  setSpanContext,
  VerifiedSpanContext,
} from '../api/trace';
import { withValidOtEntry } from '../trace/ot-trace-state';
import { joinedValues, singleValue, trimOws } from './header-values';
import { parseTraceState } from './trace-state';

export const TRACEPARENT_HEADER = 'traceparent';
export const TRACESTATE_HEADER = 'tracestate';

const VERSION = '00';
const INVALID_VERSION = 'ff';
const VERSION_00_LENGTH = 55;
// version-traceid-parentid-flags, lowercase hex only. Not anchored at the end: a future version may add fields.
const TRACEPARENT_PREFIX_RE = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}/;
const DASH = 0x2d;
/** trace-flags as sent, indexed by the known flags (sampled, random). */
const FLAGS_HEX = ['00', '01', '02', '03'];

/**
 * W3C Trace Context (Level 2): the `traceparent` and `tracestate` headers. The sampled and random
 * flags are read and passed on; flags a later level may define are sent as zeros, as Level 2 asks.
 */
export class TraceContextPropagator implements TextMapPropagator {
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const spanContext = getSpanContext(context);
    if (spanContext === undefined || !isSpanContextValid(spanContext)) return;
    const flags = FLAGS_HEX[spanContext.traceFlags & KNOWN_TRACE_FLAGS];
    setter.set(carrier, TRACEPARENT_HEADER, `${VERSION}-${spanContext.traceId}-${spanContext.spanId}-${flags}`);
    const traceState = spanContext.traceState?.serialize();
    if (traceState) setter.set(carrier, TRACESTATE_HEADER, traceState);
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    try {
      const traceparent = singleValue(getter.get(carrier, TRACEPARENT_HEADER));
      const spanContext = traceparent === undefined ? undefined : parseTraceParent(traceparent);
      if (spanContext === undefined) return context;
      const tracestate = joinedValues(getter.get(carrier, TRACESTATE_HEADER));
      const traceState = tracestate === undefined ? undefined : parseTraceState(tracestate);
      // An invalid tracestate is dropped alone; a malformed OpenTelemetry entry in a valid one, alone too.
      if (traceState !== undefined) spanContext.traceState = withValidOtEntry(traceState);
      return setSpanContext(context, spanContext);
    } catch {
      return context; // a carrier or getter that throws carries no trace context
    }
  }

  fields(): string[] {
    return [TRACEPARENT_HEADER, TRACESTATE_HEADER];
  }
}

/** A remote span context from a traceparent value, or undefined when the value is invalid. */
export function parseTraceParent(header: string): SpanContext | undefined {
  const value = trimOws(header);
  if (!TRACEPARENT_PREFIX_RE.test(value)) return undefined;
  const version = value.slice(0, 2);
  if (version === INVALID_VERSION) return undefined;
  if (version === VERSION) {
    if (value.length !== VERSION_00_LENGTH) return undefined;
  } else if (value.length > VERSION_00_LENGTH && value.charCodeAt(VERSION_00_LENGTH) !== DASH) {
    return undefined; // a future version's extra fields must start with '-'
  }
  const traceId = value.slice(3, 35);
  const spanId = value.slice(36, 52);
  if (traceId === INVALID_TRACE_ID || spanId === INVALID_SPAN_ID) return undefined;
  return VerifiedSpanContext.remote(traceId, spanId, parseInt(value.slice(53, 55), 16) & KNOWN_TRACE_FLAGS);
}
