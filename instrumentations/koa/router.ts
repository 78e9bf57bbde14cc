import type { Context, Span } from '@opentelemetry/api';
import { SpanKind } from '../../src/instrumentation/api';
import type { FrameworkSettings } from '../../src/instrumentation/framework';
import { setHttpRoute } from '../../src/instrumentation/http-server-request';
import type { InstrumentationContext } from '../../src/instrumentation/types';
import { wrap } from '../../src/instrumentation/wrap';
import { ATTR_CODE_FUNCTION_NAME, ATTR_HTTP_ROUTE, ATTR_KOA_TYPE } from '../../src/semconv';
import { tracedMiddleware, type Middleware } from './middleware';
import { functionNameOf, parentOf, runInSpan, stateOf, tracingOf, type KoaTracing, type RequestState } from './request-state';

/**
 * @koa/router (and the unscoped koa-router): what a router's dispatch runs for a request.
 *
 * A router's dispatch middleware (`router.routes()`) asks `router.match(path, method)` for the
 * layers that match, then composes, for each of them, a step that sets ctx.params and
 * ctx._matchedRoute followed by the layer's own stack: a route's handlers, or a `router.use`
 * middleware. Both are wrapped on the prototype:
 * - `middleware()`/`routes()`: the dispatch they return is wrapped, so that the `match` call it
 *   makes is known to be its own (and, with `all`, it runs inside a `router {prefix}` span);
 * - `match()`: in that call only, each matched layer is replaced in the result by a view of it:
 *   an object whose prototype is the layer (so its path, methods, params and captures are the
 *   layer's own, read live) with a stack whose first function is traced. The view is made once
 *   per layer and remade only when the layer's stack changes (`router.param` inserts a function
 *   in front), so a request allocates nothing for it.
 * When the first function of a route's stack runs, that route is the one handling the request:
 * the server span is named after the layer's path (its full template, since @koa/router writes
 * the prefixes of `new Router({prefix})`, `router.prefix()` and `router.use('/v1', nested.routes())`
 * into it), and the stack runs inside a `handler {route}` span. A route that passes on with `next`
 * to another matching route leaves the name to that one. The application's functions, its
 * routers' stacks and `ctx.matched` are never changed.
 */

interface Layer {
  path?: unknown;
  methods?: unknown;
  stack?: unknown;
  [kView]?: LayerView;
}

interface Router {
  opts?: { prefix?: unknown };
}

interface MatchResult {
  pathAndMethod?: unknown;
  route?: unknown;
}

/** The router whose dispatch is running, until its `match` call, and the request it is for. */
let dispatching: Router | undefined;
let dispatchingState: RequestState | undefined;

const kTracedDispatch = Symbol('tracelet.koa.tracedDispatch');

/** True for a router dispatch this instrumentation traced (the application's `use` leaves it alone). */
export function isTracedDispatch(fn: unknown): boolean {
  return typeof fn === 'function' && (fn as { [kTracedDispatch]?: boolean })[kTracedDispatch] === true;
}

/** The Router class from what `require('@koa/router')` or an ES module import of it gives. */
export function routerClassOf(exports: unknown): { prototype: object } | undefined {
  const candidates = [
    exports,
    (exports as { default?: unknown } | null | undefined)?.default,
    (exports as { Router?: unknown } | null | undefined)?.Router,
  ];
  for (const candidate of candidates) {
    if (typeof candidate !== 'function') continue;
    const prototype = (candidate as { prototype?: unknown }).prototype as Record<string, unknown> | undefined;
    if (prototype !== undefined && typeof prototype.match === 'function' && typeof prototype.middleware === 'function') {
      return candidate as { prototype: object };
    }
  }
  return undefined;
}

export function patchRouter(exports: unknown, ctx: InstrumentationContext<FrameworkSettings>): void {
  const Router = routerClassOf(exports);
  if (Router === undefined) return;
  const tracing = tracingOf(ctx);
  const prototype = Router.prototype as { match: Function; middleware: Function; routes?: Function };
  // Before @koa/router 13, routes and middleware are one function; from 13 on, routes calls middleware.
  const sameFunction = prototype.routes === prototype.middleware;
  const wrapDispatchMaker = (original: Function) =>
    function middleware(this: Router) {
      const dispatch: unknown = Reflect.apply(original, this, arguments);
      if (typeof dispatch !== 'function' || isTracedDispatch(dispatch)) return dispatch;
      try {
        return tracedDispatch(dispatch as Middleware, this, tracing);
      } catch (error) {
        ctx.reportError(error);
        return dispatch;
      }
    };
  wrap(ctx, prototype, 'middleware', wrapDispatchMaker);
  if (sameFunction) wrap(ctx, prototype, 'routes', wrapDispatchMaker);
  wrap(
    ctx,
    prototype,
    'match',
    (original: Function) =>
      function match(this: Router) {
        const result: unknown = Reflect.apply(original, this, arguments);
        if (dispatching !== this) return result;
        const state = dispatchingState!;
        dispatching = undefined;
        dispatchingState = undefined;
        try {
          if (result !== null && typeof result === 'object' && (result as MatchResult).route) viewMatched(result as MatchResult, state, tracing);
        } catch (error) {
          ctx.reportError(error);
        }
        return result;
      },
  );
}

/**
 * The dispatch a router made, as the application gets it: the same function to call (with the
 * `router` property @koa/router reads to nest routers), telling `match` which request it serves.
 */
function tracedDispatch(dispatch: Middleware, router: Router, tracing: KoaTracing): Middleware {
  const { ctx } = tracing;
  const all = tracing.spans === 'all';
  let prefix: unknown;
  let spanName = 'router /';
  const traced: Middleware = function (this: unknown, koaContext) {
    const state = ctx.enabled ? stateOf(koaContext) : undefined;
    if (state === undefined) return Reflect.apply(dispatch, this, arguments);
    dispatching = router;
    dispatchingState = state;
    try {
      if (!all || !state.recording) return Reflect.apply(dispatch, this, arguments);
      let span: Span | undefined;
      let parent: Context;
      try {
        const current = router.opts?.prefix;
        if (current !== prefix) {
          prefix = current;
          spanName = `router ${typeof current === 'string' && current !== '' ? current : '/'}`;
        }
        parent = parentOf(state);
        span = ctx.tracer.startSpan(spanName, { kind: SpanKind.INTERNAL }, parent);
        if (span.isRecording()) span.setAttribute(ATTR_KOA_TYPE, 'router');
      } catch (error) {
        ctx.reportError(error);
        if (span !== undefined) tracing.outcome.end(span);
        return Reflect.apply(dispatch, this, arguments);
      }
      return runInSpan(tracing, state, span, parent, dispatch, this, arguments);
    } finally {
      dispatching = undefined;
      dispatchingState = undefined;
    }
  };
  for (const key of Object.keys(dispatch))
    (traced as unknown as Record<string, unknown>)[key] = (dispatch as unknown as Record<string, unknown>)[key];
  Object.defineProperty(traced, 'name', { value: dispatch.name });
  Object.defineProperty(traced, 'length', { value: dispatch.length });
  Object.defineProperty(traced, kTracedDispatch, { value: true });
  return traced;
}

/** Replaces, in this match result only, the layers whose stack gets traced by their views. */
function viewMatched(result: MatchResult, state: RequestState, tracing: KoaTracing): void {
  const layers = result.pathAndMethod;
  if (!Array.isArray(layers)) return;
  const middlewareSpans = tracing.spans === 'all' && state.recording;
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i] as Layer | null;
    if (layer === null || typeof layer !== 'object' || !Array.isArray(layer.methods)) continue;
    const route = layer.methods.length > 0;
    if (route || middlewareSpans) {
      const view = viewOf(layer, route, tracing);
      if (view !== undefined) layers[i] = view;
    }
  }
}

const kView = Symbol('tracelet.koa.layerView');

/** A layer's view, and what it was made from. */
interface LayerView {
  readonly layer: Layer;
  readonly view: Layer;
  /** The layer's stack, its length and first function when the view's stack was made. */
  stack: unknown[];
  length: number;
  first: unknown;
  /** The layer's path the names below were made for. */
  path: unknown;
  route: string;
  spanName: string;
  /** The name of the stack's last function: a route's handler. */
  handlerName: string | undefined;
}

function viewOf(layer: Layer, route: boolean, tracing: KoaTracing): Layer | undefined {
  const stack = layer.stack;
  if (!Array.isArray(stack) || stack.length === 0 || typeof stack[0] !== 'function') return undefined;
  let made = layer[kView];
  // A layer copied with Object.create(layer) would inherit its original's view.
  if (made === undefined || made.layer !== layer) {
    made = {
      layer,
      view: Object.create(layer) as Layer,
      stack: [],
      length: -1,
      first: undefined,
      path: undefined,
      route: '',
      spanName: '',
      handlerName: undefined,
    };
    // Not enumerable: @koa/router copies layers with Object.assign, and a copy (another prefix) needs a view of its own.
    Object.defineProperty(layer, kView, { value: made, writable: true, configurable: true });
  }
  if (made.stack !== stack || made.length !== stack.length || made.first !== stack[0]) {
    const first = stack[0] as Middleware;
    const viewStack = stack.slice();
    viewStack[0] = route ? tracedRouteStart(made, first, tracing) : tracedMiddleware(first, tracing);
    Object.defineProperty(made.view, 'stack', { value: viewStack, writable: true, enumerable: true, configurable: true });
    made.stack = stack;
    made.length = stack.length;
    made.first = first;
    const last = stack[stack.length - 1];
    made.handlerName = typeof last === 'function' ? functionNameOf(last) : undefined;
  }
  return made.view;
}

/** The route template of a layer (its path, prefixes included), remade only when the path changes. */
function routeOf(made: LayerView): string {
  const path = made.layer.path;
  if (path !== made.path) {
    made.path = path;
    made.route = String(path);
    made.spanName = `handler ${made.route}`;
  }
  return made.route;
}

/** The first function of a matched route's stack: names the server span, and runs the stack in the handler span. */
function tracedRouteStart(made: LayerView, first: Middleware, tracing: KoaTracing): Middleware {
  const { ctx } = tracing;
  const spans = tracing.spans !== 'route';
  return function (this: unknown, koaContext) {
    const state = ctx.enabled ? stateOf(koaContext) : undefined;
    if (state === undefined) return Reflect.apply(first, this, arguments);
    let span: Span | undefined;
    let parent: Context | undefined;
    try {
      const route = routeOf(made);
      setHttpRoute(state.serverContext, route);
      if (spans && state.recording) {
        parent = parentOf(state);
        span = ctx.tracer.startSpan(made.spanName, { kind: SpanKind.INTERNAL }, parent);
        if (span.isRecording()) {
          span.setAttribute(ATTR_KOA_TYPE, 'request_handler');
          span.setAttribute(ATTR_HTTP_ROUTE, route);
          if (made.handlerName !== undefined) span.setAttribute(ATTR_CODE_FUNCTION_NAME, made.handlerName);
        }
      }
    } catch (error) {
      ctx.reportError(error);
      if (span !== undefined) tracing.outcome.end(span);
      span = undefined;
    }
    // Route naming only, an unsampled request, or a failure of the agent's own: the stack runs as it is.
    if (span === undefined || parent === undefined) return Reflect.apply(first, this, arguments);
    return runInSpan(tracing, state, span, parent, first, this, arguments);
  };
}
