import type { Context, Span } from '@opentelemetry/api';
import { agentContext, setSpan, SpanKind } from '../../src/instrumentation/api';
import type { FrameworkSettings } from '../../src/instrumentation/framework';
import { endWithResponse, getServerRequest } from '../../src/instrumentation/http-server-request';
import { isThenable, type Outcome } from '../../src/instrumentation/outcome';
import type { InstrumentationContext } from '../../src/instrumentation/types';
import { ATTR_CODE_FUNCTION_NAME, ATTR_HTTP_ROUTE, ATTR_NESTJS_CONTROLLER, ATTR_NESTJS_TYPE } from '../../src/semconv';
import { tracedInterceptors } from './enhancers';
import { endFailed } from './failure';
import { isObservable, spanningObservable } from './observable';

/**
 * The controller method's span, `{Controller}.{method}`. Nest calls a route's handler through
 * `InterceptorsConsumer.intercept(interceptors, args, instance, callback, next, type)`, whatever
 * interceptors there are (none included): `next` runs the route's pipes, then the controller
 * method. The instrumentation hands `intercept` a `next` of its own that runs Nest's inside the
 * handler span, so the method's work (queries, calls) is its child; the method itself, and
 * everything Nest reads off it (metadata, `ExecutionContext.getHandler()`), is never replaced.
 * The span starts when the handler actually runs: after the guards, inside the interceptors (their
 * child with `all`), not at all when an interceptor answers from a cache.
 */

/** What a handler span is named and says, per controller class and method. */
interface HandlerNames {
  readonly controller: Function;
  readonly spanName: string;
  readonly controllerName: string;
  readonly methodName: string;
}

/** By controller method; a method a base class gives several controllers has one entry per controller. */
const names = new WeakMap<Function, HandlerNames[]>();

function namesOf(controller: Function, callback: Function, methodName: unknown): HandlerNames {
  let list = names.get(callback);
  if (list !== undefined) for (const entry of list) if (entry.controller === controller) return entry;
  const controllerName = typeof controller.name === 'string' && controller.name !== '' && controller !== Object ? controller.name : 'anonymous';
  const method = typeof methodName === 'string' && methodName !== '' ? methodName : callback.name || 'anonymous';
  const made = { controller, spanName: `${controllerName}.${method}`, controllerName, methodName: method };
  if (list === undefined) names.set(callback, (list = []));
  list.push(made);
  return made;
}

/**
 * Called when Nest creates a route's execution context (RouterExecutionContext.create): notes the
 * method's name as Nest knows it (a decorator that replaced the method may have renamed the function).
 */
export function noteHandler(instance: unknown, callback: unknown, methodName: unknown): void {
  const controller = (instance as { constructor?: unknown } | null | undefined)?.constructor;
  if (typeof controller === 'function' && typeof callback === 'function') namesOf(controller, callback, methodName);
}

type Next = (this: unknown, ...args: unknown[]) => unknown;
type Intercept = (
  this: unknown,
  interceptors: unknown,
  args: unknown,
  instance: unknown,
  callback: unknown,
  next: unknown,
  type?: unknown,
) => unknown;

/** Wraps the router's InterceptorsConsumer.intercept: the handler span, and (with `all`) the interceptors' spans. */
export function tracedIntercept(ctx: InstrumentationContext<FrameworkSettings>, outcome: Outcome) {
  const all = ctx.settings.spans === 'all';
  return (original: Intercept): Intercept =>
    function intercept(this: unknown, interceptors, _args, instance, callback, next) {
      if (typeof next !== 'function' || typeof callback !== 'function') return Reflect.apply(original, this, arguments);
      let traced: unknown[] | undefined;
      try {
        const active = agentContext.active();
        // No server span to hang under (the http instrumentation is off, or left this path out),
        // or an unsampled one: nothing to record, and the work still propagates the server span's
        // trace. The request then costs this lookup only.
        if (getServerRequest(active)?.span.isRecording() === true) {
          const controller = (instance as { constructor?: unknown } | null | undefined)?.constructor;
          const handlerNames = namesOf(typeof controller === 'function' ? controller : Object, callback, undefined);
          traced = Array.prototype.slice.call(arguments);
          traced[4] = tracedNext(next as Next, handlerNames, ctx, outcome);
          if (all) traced[0] = tracedInterceptors(interceptors, active, ctx, outcome);
        }
      } catch (error) {
        ctx.reportError(error);
        traced = undefined;
      }
      return Reflect.apply(original, this, traced ?? arguments);
    };
}

/** Nest's `next` (pipes, then the controller method), run inside the handler span. */
function tracedNext(next: Next, handlerNames: HandlerNames, ctx: InstrumentationContext<FrameworkSettings>, outcome: Outcome): Next {
  return function handle(this: unknown) {
    let span: Span | undefined;
    let context: Context | undefined;
    try {
      const parent = agentContext.active();
      span = ctx.tracer.startSpan(handlerNames.spanName, { kind: SpanKind.INTERNAL }, parent);
      if (span.isRecording()) {
        span.setAttribute(ATTR_NESTJS_TYPE, 'handler');
        span.setAttribute(ATTR_NESTJS_CONTROLLER, handlerNames.controllerName);
        span.setAttribute(ATTR_CODE_FUNCTION_NAME, handlerNames.methodName);
        const route = getServerRequest(parent)?.route;
        if (route !== undefined) span.setAttribute(ATTR_HTTP_ROUTE, route);
      }
      context = setSpan(parent, span);
    } catch (error) {
      ctx.reportError(error);
    }
    if (span === undefined || context === undefined) return Reflect.apply(next, this, arguments);
    let result: unknown;
    try {
      result = agentContext.apply(context, next, this, arguments);
    } catch (error) {
      endFailed(outcome, span, context, error);
      throw error;
    }
    // Not recording (a sampler deciding otherwise below the server span): nothing to end, nothing to wait for.
    if (!span.isRecording()) return result;
    return settle(result, span, context, outcome);
  };
}

/**
 * Ends the handler span with the handler's result: at once for a value, when it settles for a
 * promise (Nest's `next` is async: always), when it completes for an Observable the method
 * returned (its work runs when Nest subscribes, under the handler span).
 */
function settle(result: unknown, span: Span, context: Context, outcome: Outcome): unknown {
  if (isThenable(result)) {
    return result.then(
      (value) => settleValue(value, span, context, outcome),
      (error: unknown) => {
        endFailed(outcome, span, context, error);
        throw error;
      },
    );
  }
  return settleValue(result, span, context, outcome);
}

function settleValue(value: unknown, span: Span, context: Context, outcome: Outcome): unknown {
  if (isObservable(value)) {
    try {
      const spanning = spanningObservable(value, span, context, outcome);
      // One Nest never subscribes to (a response sent through @Res()) ends with the response.
      endWithResponse(context, span);
      return spanning;
    } catch (error) {
      outcome.ctx.reportError(error);
    }
  }
  outcome.end(span);
  return value;
}
