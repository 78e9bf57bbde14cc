import { agentContext, setSpan, SpanKind } from '../../src/instrumentation/api';
import { endWithResponse } from '../../src/instrumentation/http-server-request';
import { isThenable } from '../../src/instrumentation/outcome';
import type { InstrumentationContext } from '../../src/instrumentation/types';
import { ATTR_CODE_FUNCTION_NAME, ATTR_HTTP_ROUTE } from '../../src/semconv';
import type { FrameworkSettings } from '../../src/instrumentation/framework';
import { dressAs, isTracedWrapper, stateOf, type RequestState } from './request-state';

/**
 * The route handler's span, and every way it ends (this module is the only one that ends it):
 * - an async handler: when its promise settles (a rejection is recorded on it);
 * - a handler that returns a value, or has already sent (or hijacked) the reply: at once;
 * - a callback-style handler: when its reply is sent (the onSend hook below), or fails (onError);
 * - a reply that never goes through onSend (hijacked later, connection aborted): when the
 *   response ends (endWithResponse).
 * Whichever comes first ends it (Outcome ends a span once); the others find it ended.
 */

type Handler = (this: unknown, request: unknown, reply: unknown) => unknown;
type Done = (error?: unknown, value?: unknown) => void;

interface Reply {
  readonly sent?: boolean;
}

/**
 * Wraps a route handler so each call is an INTERNAL span, child of the server span, active while
 * the handler runs, so the work it starts (queries, calls) is its child.
 */
export function wrapHandler(handler: Handler, route: string, ctx: InstrumentationContext<FrameworkSettings>): Handler {
  if (typeof handler !== 'function' || isTracedWrapper(handler)) return handler;
  const functionName = handler.name || undefined;
  const spanName = `handler ${route}`;

  const traced: Handler = function (this: unknown, request, reply) {
    const state = stateOf(request);
    if (state === undefined) return Reflect.apply(handler, this, arguments);
    const span = ctx.tracer.startSpan(spanName, { kind: SpanKind.INTERNAL }, state.serverContext);
    const recording = span.isRecording();
    if (recording) {
      span.setAttribute(ATTR_HTTP_ROUTE, route);
      if (functionName !== undefined) span.setAttribute(ATTR_CODE_FUNCTION_NAME, functionName);
    }
    state.handlerSpan = span;
    let result: unknown;
    try {
      result = agentContext.apply(setSpan(state.serverContext, span), handler, this, arguments);
    } catch (error) {
      endHandlerSpan(state, error);
      throw error;
    }
    if (!recording) {
      // Nothing to end: an unsampled span costs no promise reaction and no response hook.
      state.handlerSpan = undefined;
    } else if (result instanceof Promise) {
      state.outcome.observe(span, result);
    } else if (isThenable(result)) {
      // A lazy thenable (a query builder) does its work on each `then`: Fastify calls it once, the
      // agent must not call it again. Its reply ends the span.
      endWithResponse(state.serverContext, span);
    } else if (result !== undefined || (reply as Reply).sent === true) {
      endHandlerSpan(state);
    } else {
      endWithResponse(state.serverContext, span);
    }
    return result;
  };
  return dressAs(traced, handler);
}

/** Ends the handler span still open for this request, once, with the error it ended with if any. */
function endHandlerSpan(state: RequestState, error?: unknown): void {
  const span = state.handlerSpan;
  if (span === undefined) return;
  state.handlerSpan = undefined;
  state.outcome.end(span, error);
}

/** onSend: a callback-style handler's reply is on its way. */
export function endHandlerOnSend(request: unknown, _reply: unknown, payload: unknown, done: Done): void {
  const state = stateOf(request);
  if (state !== undefined) endHandlerSpan(state);
  done(null, payload);
}

/** onError: the handler failed (passed an error to the reply, or threw): recorded on its span. */
export function endHandlerOnError(state: RequestState, error: unknown): void {
  endHandlerSpan(state, error);
}
