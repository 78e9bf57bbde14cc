import type { Context, Span, SpanKind, Tracer } from '@opentelemetry/api';
import { ATTR_TRACELET_KEPT_BY } from '../semconv';
import { epochFromMonotonic } from '../trace/clock';
import { AgentTracer } from '../trace/tracer';

/**
 * Keep rules: a request the head sampler dropped is recorded after all when it ends failed or
 * slow, so that sampling never hides the requests people look for. The decision is taken when the
 * request ends, from what every request keeps anyway (its start, its status), so a request that
 * ends well costs nothing more than a clock read.
 */

export interface KeepRules {
  /** Keep a request whose span would end with an error status (a 5xx, a connection closed early). */
  readonly errors: boolean;
  /** Keep a request that took at least this many milliseconds; 0: no latency rule. */
  readonly slowerThanMs: number;
}

/**
 * The recording span that replaces `dropped` (a span the sampler dropped, started at the monotonic
 * time `startedAt`), marked with the rule that kept it. Undefined when `dropped` was not made by
 * the agent's tracer (nothing to keep).
 */
export function keepDroppedSpan(
  tracer: Tracer,
  dropped: Span,
  name: string,
  kind: SpanKind,
  parent: Context,
  startedAt: number,
  keptBy: string,
): Span | undefined {
  if (!(tracer instanceof AgentTracer)) return undefined;
  const span = tracer.recordDropped(dropped.spanContext(), name, kind, parent, epochFromMonotonic(startedAt));
  span?.setAttribute(ATTR_TRACELET_KEPT_BY, keptBy);
  return span;
}
