import type { Span, SpanContext, SpanKind } from '@opentelemetry/api';
import { createContextKey } from '../api/context';
import { NonRecordingSpan } from '../api/trace';

/**
 * The spans the sampler dropped under one incoming request, kept in outline (name, kind, ids,
 * start and end, and what the call's metric knew) while a keep rule may still record the request
 * when it ends failed or slow. The outline is what the agent has anyway: the span object it
 * returns for an unsampled call and, while metrics are on, the call's measurement. Nothing is
 * recorded for the requests that end well, which are most of them.
 */

/** The key of the incoming request a context belongs to (its value is the http server's request state). */
export const REQUEST_SCOPE_KEY = createContextKey('tracelet http server request');

/** What a request's scope offers the tracer: where its dropped spans go, if a keep rule may want them. */
export interface RequestScope {
  readonly droppedSpans: DroppedSpans | undefined;
}

/** What a dropped call learned by its end (its metric's attributes): set on its span if it is kept. */
export interface CallDetails {
  describeSpan?(span: Span): void;
}

/** How the call failed, as its span would have said (see Outcome's Failure). */
export interface CallFailure {
  readonly type?: string;
  readonly statusCode?: string;
  readonly message?: string;
  readonly exception?: unknown;
}

/** A request keeps at most this many outlines: a long-lived request (a stream) must not grow without bound. */
const MAX_DROPPED_SPANS = 256;

export class DroppedSpans {
  /** Made with the first one: a request that drops no span under it allocates no list. */
  private list: DroppedSpan[] | undefined = undefined;
  private open = true;

  get spans(): readonly DroppedSpan[] {
    return this.list ?? [];
  }

  /** False when the request has ended or holds enough already: the span stays a plain one. */
  accepts(): boolean {
    return this.open && (this.list === undefined || this.list.length < MAX_DROPPED_SPANS);
  }

  add(span: DroppedSpan): void {
    if (this.list === undefined) this.list = [span];
    else this.list.push(span);
  }

  /** The request ended: spans dropped later (detached work) are not its to keep. */
  close(): void {
    this.open = false;
  }
}

/** The tracer that dropped a span records it in full if its request is kept (see AgentTracer.recordDropped). */
export interface DroppedSpanRecorder {
  recordDropped(dropped: SpanContext, name: string, kind: SpanKind, parent: SpanContext | undefined, startTime: number): Span | undefined;
}

/** A span the sampler dropped under a request whose keep rules may still record it. */
export class DroppedSpan extends NonRecordingSpan {
  /** performance.now() when it ended; NaN while it runs (or if its end was never seen). */
  endedAt = NaN;
  details: CallDetails | undefined = undefined;
  failure: CallFailure | undefined = undefined;
  /** The error it failed with, read for its safe description if it is recorded. */
  error: unknown = undefined;

  constructor(
    context: SpanContext,
    /** Its instrumentation's tracer, so that a kept span has its own instrumentation scope. */
    readonly tracer: DroppedSpanRecorder,
    readonly name: string,
    readonly kind: SpanKind,
    readonly parentSpanContext: SpanContext | undefined,
    /** performance.now() when it started. */
    readonly startedAt: number,
  ) {
    super(context);
  }

  /** Application code ending its own span through @opentelemetry/api. */
  override end(): void {
    if (this.endedAt !== this.endedAt) this.endedAt = performance.now();
  }

  /** An instrumentation's call ended: when, how (a failure and its error), and what its metric knew. */
  settle(details: CallDetails | undefined, failure: CallFailure | undefined, error: unknown): void {
    if (this.endedAt === this.endedAt) return;
    this.endedAt = performance.now();
    this.details = details;
    this.failure = failure;
    this.error = error;
  }
}
