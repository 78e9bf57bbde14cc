import type {
  Context,
  Exception,
  Span,
  SpanContext,
  SpanKind as ApiSpanKind,
  SpanStatusCode as ApiSpanStatusCode,
  TraceState,
} from '@opentelemetry/api';
import { createContextKey } from './context';

/** @opentelemetry/api's SpanKind values. */
export const SpanKind = {
  INTERNAL: 0 as ApiSpanKind.INTERNAL,
  SERVER: 1 as ApiSpanKind.SERVER,
  CLIENT: 2 as ApiSpanKind.CLIENT,
  PRODUCER: 3 as ApiSpanKind.PRODUCER,
  CONSUMER: 4 as ApiSpanKind.CONSUMER,
} as const;

/** @opentelemetry/api's SpanStatusCode values. */
export const SpanStatusCode = {
  UNSET: 0 as ApiSpanStatusCode.UNSET,
  OK: 1 as ApiSpanStatusCode.OK,
  ERROR: 2 as ApiSpanStatusCode.ERROR,
} as const;

export const TRACE_FLAG_NONE = 0;
export const TRACE_FLAG_SAMPLED = 1;

export const INVALID_TRACE_ID = '00000000000000000000000000000000';
export const INVALID_SPAN_ID = '0000000000000000';
export const INVALID_SPAN_CONTEXT: SpanContext = Object.freeze({
  traceId: INVALID_TRACE_ID,
  spanId: INVALID_SPAN_ID,
  traceFlags: TRACE_FLAG_NONE,
});

/** The key @opentelemetry/api stores the active span under (the same symbol in every copy). */
const SPAN_KEY = createContextKey('OpenTelemetry Context Key SPAN');

const TRACE_ID_RE = /^[0-9a-f]{32}$/;
const SPAN_ID_RE = /^[0-9a-f]{16}$/;

/**
 * A span context whose ids the agent generated or parsed and checked itself, so
 * isSpanContextValid() trusts it at a glance: that check runs several times for every traced
 * call, and re-reading two hex strings each time showed up in profiles.
 */
export class VerifiedSpanContext implements SpanContext {
  constructor(
    public traceId: string,
    public spanId: string,
    public traceFlags: number,
    public traceState: TraceState | undefined,
    public isRemote: boolean,
  ) {}
}

export function isSpanContextValid(spanContext: SpanContext): boolean {
  if (spanContext instanceof VerifiedSpanContext) return true;
  return (
    TRACE_ID_RE.test(spanContext.traceId) &&
    spanContext.traceId !== INVALID_TRACE_ID &&
    SPAN_ID_RE.test(spanContext.spanId) &&
    spanContext.spanId !== INVALID_SPAN_ID
  );
}

export function getSpan(context: Context): Span | undefined {
  return context.getValue(SPAN_KEY) as Span | undefined;
}

export function setSpan(context: Context, span: Span): Context {
  return context.setValue(SPAN_KEY, span);
}

export function getSpanContext(context: Context): SpanContext | undefined {
  return getSpan(context)?.spanContext();
}

/** The context with a span that only carries `spanContext` (what extraction produces). */
export function setSpanContext(context: Context, spanContext: SpanContext): Context {
  return setSpan(context, new NonRecordingSpan(spanContext));
}

/**
 * A span that records nothing but carries its span context, so the trace still propagates:
 * unsampled spans, extracted remote parents, and spans in suppressed contexts.
 */
export class NonRecordingSpan implements Span {
  constructor(private readonly context: SpanContext = INVALID_SPAN_CONTEXT) {}

  spanContext(): SpanContext {
    return this.context;
  }
  setAttribute(): this {
    return this;
  }
  setAttributes(): this {
    return this;
  }
  addEvent(): this {
    return this;
  }
  addLink(): this {
    return this;
  }
  addLinks(): this {
    return this;
  }
  setStatus(): this {
    return this;
  }
  updateName(): this {
    return this;
  }
  end(): void {}
  isRecording(): boolean {
    return false;
  }
  recordException(_exception: Exception): void {}
}
