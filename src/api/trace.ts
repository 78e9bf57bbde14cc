import type {
  Context,
  Exception,
  Span,
  SpanContext,
  SpanKind as ApiSpanKind,
  SpanStatusCode as ApiSpanStatusCode,
  TraceState,
} from '@opentelemetry/api';
import { TraceIdWords, traceIdWordsFromHex, wordFromHex } from '../trace/id-words';
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
/** W3C Trace Context Level 2: the trace id's 7 rightmost bytes are random. */
export const TRACE_FLAG_RANDOM = 2;
/** The flags this agent knows and passes on; Level 2 has the others set to zero. */
export const KNOWN_TRACE_FLAGS = TRACE_FLAG_SAMPLED | TRACE_FLAG_RANDOM;

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
 * call, and re-reading two hex strings each time showed up in profiles. It also carries its ids as
 * words (id-words.ts) for the encoder: the trace id's once a span of the trace is recorded (shared
 * by every span of the trace), the span id's always. Those are private fields, so the context
 * still reads (spread, JSON, a test's toEqual) as the plain span context the API describes.
 */
export class VerifiedSpanContext implements SpanContext {
  #traceIdWords: TraceIdWords | undefined;
  readonly #spanIdWord0: number;
  readonly #spanIdWord1: number;

  constructor(
    public traceId: string,
    public spanId: string,
    public traceFlags: number,
    public traceState: TraceState | undefined,
    public isRemote: boolean,
    traceIdWords: TraceIdWords | undefined,
    spanIdWord0: number,
    spanIdWord1: number,
  ) {
    this.#traceIdWords = traceIdWords;
    this.#spanIdWord0 = spanIdWord0;
    this.#spanIdWord1 = spanIdWord1;
  }

  /** A context read from a carrier: its span id's words now, its trace id's once a span of it records. */
  static remote(traceId: string, spanId: string, traceFlags: number): VerifiedSpanContext {
    return new VerifiedSpanContext(traceId, spanId, traceFlags, undefined, true, undefined, wordFromHex(spanId, 0), wordFromHex(spanId, 8));
  }

  /** The trace id's words, undefined while no span of a trace read from a carrier has recorded. */
  get traceIdWords(): TraceIdWords | undefined {
    return this.#traceIdWords;
  }

  get spanIdWord0(): number {
    return this.#spanIdWord0;
  }

  get spanIdWord1(): number {
    return this.#spanIdWord1;
  }

  /** The trace id's words, worked out from the hex the first time a span of this trace records. */
  recordedTraceIdWords(): TraceIdWords {
    return (this.#traceIdWords ??= traceIdWordsFromHex(this.traceId));
  }
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
