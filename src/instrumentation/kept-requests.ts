import type { Span, SpanContext, SpanKind, Tracer } from '@opentelemetry/api';
import { ATTR_TRACELET_KEPT_BY } from '../semconv';
import { epochFromMonotonic } from '../trace/clock';
import { DroppedSpan, DroppedSpans } from '../trace/dropped-spans';
import { AgentTracer } from '../trace/tracer';
import { recordDescribedFailure, type Failure } from './outcome';

/**
 * Keep rules: a request the head sampler dropped is recorded after all when it ends failed or
 * slow, so that sampling never hides the requests people look for. The decision is taken when the
 * request ends, from what every request keeps anyway (its start, its status, and the outline of
 * the spans dropped under it), so a request that ends well costs no recording.
 */

export interface KeepRules {
  /** Keep a request whose span would end with an error status (a 5xx, a connection closed early). */
  readonly errors: boolean;
  /** Keep a request that took at least this many milliseconds; 0: no latency rule. */
  readonly slowerThanMs: number;
}

export { DroppedSpans };

/**
 * The recording span that replaces `dropped` (a span the sampler dropped, started at the
 * performance.now() time `startedAt`), marked with the rule that kept it. Undefined when `dropped`
 * was not made by the agent's tracer (nothing to keep).
 */
export function keepDroppedSpan(
  tracer: Tracer,
  dropped: Span,
  name: string,
  kind: SpanKind,
  parent: SpanContext | undefined,
  startedAt: number,
  keptBy: string,
): Span | undefined {
  if (!(tracer instanceof AgentTracer)) return undefined;
  const span = tracer.recordDropped(dropped.spanContext(), name, kind, parent, epochFromMonotonic(startedAt));
  span?.setAttribute(ATTR_TRACELET_KEPT_BY, keptBy);
  return span;
}

/**
 * Records, under the kept request span `request`, the spans dropped under it that had ended by
 * then: each with its own ids (a call's are those it propagated downstream, so the spans other
 * services kept for it join the trace), name, kind, timing, its call's attributes and failure.
 * A span whose parent was not kept (still running, or over the outline limit) hangs under the
 * request's span.
 */
export function keepDroppedChildren(droppedSpans: DroppedSpans, request: Span, keptBy: string): void {
  droppedSpans.close();
  const ended = new Set<string>();
  for (const dropped of droppedSpans.spans) if (dropped.endedAt === dropped.endedAt) ended.add(dropped.spanContext().spanId);
  if (ended.size === 0) return;
  const requestContext = request.spanContext();
  for (const dropped of droppedSpans.spans) {
    if (dropped.endedAt !== dropped.endedAt) continue;
    const parentId = dropped.parentSpanContext?.spanId;
    const parent = parentId !== undefined && ended.has(parentId) ? dropped.parentSpanContext : requestContext;
    const span = dropped.tracer.recordDropped(dropped.spanContext(), dropped.name, dropped.kind, parent, epochFromMonotonic(dropped.startedAt));
    if (span === undefined) continue;
    span.setAttribute(ATTR_TRACELET_KEPT_BY, keptBy);
    dropped.details?.describeSpan?.(span);
    if (dropped.failure !== undefined) recordDescribedFailure(span, dropped.error, dropped.failure as Failure);
    span.end(epochFromMonotonic(dropped.endedAt));
  }
}

/** True for a span kept in outline: an instrumentation must let its end reach the Outcome. */
export function isOutlined(span: Span): boolean {
  return span instanceof DroppedSpan;
}
