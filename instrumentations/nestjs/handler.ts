import type { Context, Span } from '@opentelemetry/api';
import { agentContext } from '../../src/instrumentation/api';
import type { FrameworkSettings } from '../../src/instrumentation/framework';
import { getServerRequest } from '../../src/instrumentation/http-server-request';
import type { Outcome } from '../../src/instrumentation/outcome';
import type { InstrumentationContext } from '../../src/instrumentation/types';
import { ATTR_HTTP_ROUTE, ATTR_NESTJS_CONTROLLER } from '../../src/semconv';
import { tracedInterceptors } from './enhancers';
import { runInNestSpan } from './span';

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
    return runInNestSpan(
      handlerNames.spanName,
      'handler',
      handlerNames.methodName,
      next,
      this,
      arguments,
      ctx,
      outcome,
      describeHandler,
      handlerNames,
    );
  };
}

function describeHandler(span: Span, parent: Context, handlerNames: HandlerNames): void {
  span.setAttribute(ATTR_NESTJS_CONTROLLER, handlerNames.controllerName);
  const route = getServerRequest(parent)?.route;
  if (route !== undefined) span.setAttribute(ATTR_HTTP_ROUTE, route);
}
