import type { Baggage, BaggageEntry, Context, TextMapGetter, TextMapPropagator, TextMapSetter } from '@opentelemetry/api';
import { getBaggage, withBaggageEntries } from '../api/baggage';
import {
  getSpanContext,
  INVALID_SPAN_ID,
  INVALID_TRACE_ID,
  isSpanContextValid,
  setSpanContext,
  TRACE_FLAG_NONE,
  TRACE_FLAG_SAMPLED,
} from '../api/trace';
import { BaggageBudget, isBaggageKey, MAX_BAGGAGE_MEMBER_BYTES } from './baggage-rules';
import { singleValue } from './header-values';

export const JAEGER_TRACE_HEADER = 'uber-trace-id';
/** Each baggage entry travels in its own header: `uberctx-{key}`. */
export const JAEGER_BAGGAGE_PREFIX = 'uberctx-';

// {trace-id}:{span-id}:{parent-span-id}:{flags}; ids are hex without leading zeros, flags one hex byte.
const TRACE_HEADER_RE = /^[0-9a-fA-F]{1,32}:[0-9a-fA-F]{1,16}:[0-9a-fA-F]{1,16}:[0-9a-fA-F]{1,2}$/;
// decodeURIComponent turns at most 3 characters ('%XX') into 1: a longer value cannot fit a member.
const MAX_ENCODED_VALUE_CHARS = 3 * MAX_BAGGAGE_MEMBER_BYTES;
// What encodeURIComponent leaves as it is: a value made only of these is its own encoding.
const URI_UNRESERVED_RE = /^[A-Za-z0-9\-_.!~*'()]*$/;
const FLAG_SAMPLED = 0x1;
const FLAG_DEBUG = 0x2;

/**
 * Jaeger's native format: `uber-trace-id` plus one `uberctx-{key}` header per baggage entry.
 * Each uberctx header stands for the W3C list-member `{key}={value as sent}` (encodeURIComponent
 * writes only baggage-octets), and the W3C Baggage rules apply to them as to one `baggage` header,
 * reading and writing: a key that is not a token, or a header over the limits, is dropped.
 */
export class JaegerPropagator implements TextMapPropagator {
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const spanContext = getSpanContext(context);
    if (spanContext !== undefined && isSpanContextValid(spanContext)) {
      const flags = (spanContext.traceFlags & TRACE_FLAG_SAMPLED) === TRACE_FLAG_SAMPLED ? '01' : '00';
      // The parent span id is deprecated in Jaeger: 0 stands for "not sent".
      setter.set(carrier, JAEGER_TRACE_HEADER, `${spanContext.traceId}:${spanContext.spanId}:0:${flags}`);
    }
    const baggage = getBaggage(context);
    if (baggage !== undefined) injectBaggage(baggage, carrier, setter);
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

/** One `uberctx-{key}` header per entry that follows the rules, within the limits. */
function injectBaggage(baggage: Baggage, carrier: unknown, setter: TextMapSetter): void {
  const budget = new BaggageBudget();
  for (const [key, entry] of baggage.getAllEntries()) {
    if (budget.full) {
      budget.dropRest();
      break;
    }
    const value = isBaggageKey(key) ? urlEncode(entry.value) : undefined;
    if (value === undefined) budget.dropMalformed();
    else if (budget.fits(key.length + 1 + value.length)) setter.set(carrier, JAEGER_BAGGAGE_PREFIX + key, value);
  }
  budget.report('uberctx headers sent');
}

/**
 * `uberctx-{key}` headers into the context's baggage; they win over entries already there. A header
 * becomes an entry only if the member it stands for follows the rules and fits within the limits.
 */
function extractBaggage(context: Context, carrier: unknown, getter: TextMapGetter): Context {
  const headerNames: unknown = getter.keys(carrier);
  if (!Array.isArray(headerNames)) return context;
  let budget: BaggageBudget | undefined;
  let entries: Record<string, BaggageEntry> | undefined;
  for (const name of headerNames) {
    if (typeof name !== 'string' || name.length <= JAEGER_BAGGAGE_PREFIX.length) continue;
    if (!name.startsWith(JAEGER_BAGGAGE_PREFIX)) continue;
    budget ??= new BaggageBudget();
    if (budget.full) {
      budget.dropRest();
      break;
    }
    const key = name.slice(JAEGER_BAGGAGE_PREFIX.length);
    const raw = singleValue(getter.get(carrier, name));
    if (raw !== undefined && raw.length > MAX_ENCODED_VALUE_CHARS) {
      budget.dropOverLimit(); // without decoding it
      continue;
    }
    const value = raw === undefined || !isBaggageKey(key) ? undefined : urlDecode(raw);
    const length = value === undefined ? -1 : sentLength(value, raw);
    if (value === undefined || length === -1) budget.dropMalformed();
    else if (budget.fits(key.length + 1 + length)) {
      // A null prototype, so that a key such as "__proto__" is just a key.
      entries ??= Object.create(null) as Record<string, BaggageEntry>;
      entries[key] = { value };
    }
  }
  budget?.report('uberctx headers received');
  return entries === undefined ? context : withBaggageEntries(context, entries);
}

/**
 * The length of a received value as inject would send it again (its canonical encoding, not the
 * sender's), or -1 when it cannot be sent (a lone surrogate).
 */
function sentLength(value: string, received: string | undefined): number {
  if (value === received && URI_UNRESERVED_RE.test(received)) return received.length; // its own encoding
  return urlEncode(value)?.length ?? -1;
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

/** encodeURIComponent, undefined instead of an exception for a lone surrogate (or a value of the application's that throws). */
function urlEncode(value: string): string | undefined {
  try {
    return encodeURIComponent(String(value));
  } catch {
    return undefined;
  }
}
