import type { Context, Span } from '@opentelemetry/api';
import { SpanKind } from '../../src/instrumentation/api';
import { ATTR_CODE_FUNCTION_NAME, ATTR_KOA_TYPE } from '../../src/semconv';
import { dressAs, functionNameOf, parentOf, runInSpan, stateOf, type KoaTracing } from './request-state';

/** A Koa middleware: `(ctx, next) => promise`. */
export type Middleware = (this: unknown, koaContext: unknown, next: unknown) => unknown;

/**
 * With `all`: a middleware (`app.use(fn)`, or a `router.use(fn)` layer's) runs inside a
 * `middleware {name}` span (`middleware anonymous` when unnamed), the child of the span of the
 * middleware that called it, active while it and everything downstream of it run. An unsampled
 * request's middleware run as they are.
 */
export function tracedMiddleware(fn: Middleware, tracing: KoaTracing): Middleware {
  const { ctx } = tracing;
  const functionName = functionNameOf(fn);
  const spanName = `middleware ${functionName ?? 'anonymous'}`;
  const traced: Middleware = function (this: unknown, koaContext) {
    const state = ctx.enabled ? stateOf(koaContext) : undefined;
    if (state === undefined || !state.recording) return Reflect.apply(fn, this, arguments);
    let span: Span | undefined;
    let parent: Context;
    try {
      parent = parentOf(state);
      span = ctx.tracer.startSpan(spanName, { kind: SpanKind.INTERNAL }, parent);
      if (span.isRecording()) {
        span.setAttribute(ATTR_KOA_TYPE, 'middleware');
        if (functionName !== undefined) span.setAttribute(ATTR_CODE_FUNCTION_NAME, functionName);
      }
    } catch (error) {
      ctx.reportError(error);
      if (span !== undefined) tracing.outcome.end(span);
      return Reflect.apply(fn, this, arguments);
    }
    return runInSpan(tracing, state, span, parent, fn, this, arguments);
  };
  return dressAs(traced, fn);
}
