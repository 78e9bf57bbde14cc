import type { Baggage, Context, TextMapGetter, TextMapPropagator, TextMapSetter } from '@opentelemetry/api';
import { createBaggage, getBaggage, setBaggage } from '../api/baggage';
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

export const JAEGER_TRACE_HEADER = 'uber-trace-id';
/** Each baggage entry travels in its own header: `uberctx-{key}`. */
export const JAEGER_BAGGAGE_PREFIX = 'uberctx-';

// {trace-id}:{span-id}:{parent-span-id}:{flags}; ids are hex without leading zeros, flags one hex byte.
const TRACE_HEADER_RE = /^[0-9a-fA-F]{1,32}:[0-9a-fA-F]{1,16}:[0-9a-fA-F]{1,16}:[0-9a-fA-F]{1,2}$/;
// A baggage key has to be a valid header-name suffix (RFC 7230 token).
const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FLAG_SAMPLED = 0x1;
const FLAG_DEBUG = 0x2;

/** Jaeger's native format: `uber-trace-id` plus one `uberctx-{key}` header per baggage entry. */
export class JaegerPropagator implements TextMapPropagator {
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const spanContext = getSpanContext(context);
    if (spanContext !== undefined && isSpanContextValid(spanContext)) {
      const flags = (spanContext.traceFlags & TRACE_FLAG_SAMPLED) === TRACE_FLAG_SAMPLED ? '01' : '00';
      // The parent span id is deprecated in Jaeger: 0 stands for "not sent".
      setter.set(carrier, JAEGER_TRACE_HEADER, `${spanContext.traceId}:${spanContext.spanId}:0:${flags}`);
    }
    const baggage = getBaggage(context);
    if (baggage === undefined) return;
    for (const [key, entry] of baggage.getAllEntries()) {
      if (!TOKEN_RE.test(key)) continue;
      const value = urlEncode(String(entry.value));
      if (value !== undefined) setter.set(carrier, JAEGER_BAGGAGE_PREFIX + key, value);
    }
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    let result = context;
    try {
      result = extractSpanContext(result, carrier, getter);
      result = extractBaggage(result, carrier, getter);
    } catch {
      // a carrier or getter that throws: keep what could be read
    }
    return result;
  }

  fields(): string[] {
    return [JAEGER_TRACE_HEADER];
  }
}

function extractSpanContext(context: Context, carrier: unknown, getter: TextMapGetter): Context {
  const raw = singleValue(getter.get(carrier, JAEGER_TRACE_HEADER));
  // Some Jaeger clients URL-encode the whole value (':' as %3A).
  const value = raw === undefined ? undefined : urlDecode(raw);
  if (value === undefined || !TRACE_HEADER_RE.test(value)) return context;
  const traceIdEnd = value.indexOf(':');
  const spanIdEnd = value.indexOf(':', traceIdEnd + 1);
  const traceId = value.slice(0, traceIdEnd).padStart(32, '0').toLowerCase();
  const spanId = value
    .slice(traceIdEnd + 1, spanIdEnd)
    .padStart(16, '0')
    .toLowerCase();
  if (traceId === INVALID_TRACE_ID || spanId === INVALID_SPAN_ID) return context;
  const flags = parseInt(value.slice(value.lastIndexOf(':') + 1), 16);
  // Debug implies sampled.
  const sampled = (flags & (FLAG_SAMPLED | FLAG_DEBUG)) !== 0;
  return setSpanContext(context, {
    traceId,
    spanId,
    traceFlags: sampled ? TRACE_FLAG_SAMPLED : TRACE_FLAG_NONE,
    isRemote: true,
  });
}

/** `uberctx-{key}` headers into the context's baggage; they win over entries already there. */
function extractBaggage(context: Context, carrier: unknown, getter: TextMapGetter): Context {
  const headerNames: unknown = getter.keys(carrier);
  if (!Array.isArray(headerNames)) return context;
  let baggage: Baggage | undefined;
  for (const name of headerNames) {
    if (typeof name !== 'string' || name.length <= JAEGER_BAGGAGE_PREFIX.length) continue;
    if (!name.startsWith(JAEGER_BAGGAGE_PREFIX)) continue;
    const raw = singleValue(getter.get(carrier, name));
    const value = raw === undefined ? undefined : urlDecode(raw);
    if (value === undefined) continue;
    baggage ??= getBaggage(context) ?? createBaggage();
    baggage = baggage.setEntry(name.slice(JAEGER_BAGGAGE_PREFIX.length), { value });
  }
  return baggage === undefined ? context : setBaggage(context, baggage);
}

/** decodeURIComponent, undefined instead of an exception for a malformed escape. */
function urlDecode(value: string): string | undefined {
  if (value.indexOf('%') === -1) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

/** encodeURIComponent, undefined instead of an exception for a lone surrogate. */
function urlEncode(value: string): string | undefined {
  try {
    return encodeURIComponent(value);
  } catch {
    return undefined;
  }
}
