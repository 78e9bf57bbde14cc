import { agentContext, setSpan, SpanKind } from '../../src/instrumentation/api';
import { getServerRequest } from '../../src/instrumentation/http-server-request';
import type { InstrumentationContext } from '../../src/instrumentation/types';
import { ATTR_CODE_FUNCTION_NAME, ATTR_HTTP_ROUTE } from '../../src/semconv';
import { kTraced } from './hooks';
import { isThenable, stateOf, type RequestState } from './request-state';
import type { FastifySettings } from './index';

type Handler = (this: unknown, request: unknown, reply: unknown) => unknown;

interface Reply {
  readonly sent?: boolean;
}

/**
 * Wraps a route handler so each call is an INTERNAL span, child of the server span, active while
 * the handler runs, so the work it starts (queries, calls) is its child. It ends when the
 * handler's promise settles, when it returns a value (or the reply is already sent, hijacked
 * included), or else when the reply is sent (onSend) or the response ends, whichever is first.
 */
export function wrapHandler(handler: Handler, route: string, ctx: InstrumentationContext<FastifySettings>): Handler {
  if (typeof handler !== 'function' || (handler as { [kTraced]?: boolean })[kTraced] === true) return handler;
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
      state.endHandler(error);
      throw error;
    }
    if (!recording) {
      // Nothing to end: an unsampled span costs no promise reaction and no response hook.
      state.handlerSpan = undefined;
    } else if (isThenable(result)) {
      result.then(
        () => state.endHandler(),
        (error: unknown) => state.endHandler(error),
      );
    } else if (result !== undefined || (reply as Reply).sent === true) {
      state.endHandler();
    } else {
      endWithResponse(state);
    }
    return result;
  };
  Object.defineProperty(traced, 'length', { value: handler.length });
  Object.defineProperty(traced, 'name', { value: handler.name });
  Object.defineProperty(traced, kTraced, { value: true });
  return traced;
}

/** A callback-style handler whose reply never comes through onSend (hijacked, aborted) ends with the response. */
function endWithResponse(state: RequestState): void {
  const serverRequest = getServerRequest(state.serverContext);
  if (serverRequest !== undefined && serverRequest.onEnd === undefined) serverRequest.onEnd = () => state.endHandler();
}
