import type { Context, Span } from '@opentelemetry/api';
import { agentContext, setSpan, SpanKind } from '../../src/instrumentation/api';
import { isTracedAbove, type FrameworkSettings } from '../../src/instrumentation/framework';
import { endWithResponse, getServerRequest, setHttpRoute, setHttpServerError } from '../../src/instrumentation/http-server-request';
import type { Outcome } from '../../src/instrumentation/outcome';
import { SymbolSlot } from '../../src/instrumentation/symbol-slot';
import type { InstrumentationContext } from '../../src/instrumentation/types';
import { ATTR_CODE_FUNCTION_NAME, ATTR_EXPRESS_TYPE, ATTR_HTTP_ROUTE } from '../../src/semconv';
import { handlerName, joinPaths, lastHandler, kKind, kMountPath, routeTemplate, type Layer, type LayerKind } from './layers';

/**
 * What happens when Express hands a request to one of a router's layers (Layer's
 * handle_request / handle_error, wrapped on the prototype, so the application's functions are
 * never replaced):
 * - a route layer names the server span after the route's full template (the prefixes of the
 *   routers and sub-apps the request went through, then the route's path) and, unless the
 *   setting is `route`, runs the route's handlers inside a `handler {route}` span;
 * - with `all`, a middleware, router or sub-app layer runs inside a span of its own;
 * - a router or sub-app mounted at a path adds that path to the prefix of the routes inside it.
 * A span ends when its layer calls `next` (an error passed to it is recorded there), or, for a
 * layer that answered instead, when the response ends. Calling `next` also leaves a router: the
 * prefix and parent it set are restored.
 */

/** Per request: where it is in the application's routers. */
interface RequestState {
  /** The request's context when Express started it: the HTTP server span is active in it. */
  readonly serverContext: Context;
  /** False when there is no server span to name (the http instrumentation is off, or excluded the path). */
  readonly traced: boolean;
  /** The template of the mount paths of the routers the request is in. */
  prefix: string;
  /** The context new spans start in: the server span's, or (with `all`) the innermost router's span. */
  parent: Context;
  /** The last error recorded, on the span where it happened: the routers it then leaves through do not record it again. */
  error: unknown;
}

const states = new SymbolSlot<RequestState>('tracelet.express.request');

function stateOf(request: object): RequestState {
  let state = states.get(request);
  if (state === undefined) {
    const active = agentContext.active();
    state = { serverContext: active, traced: getServerRequest(active) !== undefined, prefix: '', parent: active, error: undefined };
    states.set(request, state);
  }
  return state;
}

/** `next('route')` and `next('router')` leave a route or a router: not errors. */
function isError(value: unknown): boolean {
  return value !== undefined && value !== null && value !== 'route' && value !== 'router' && value !== false;
}

type Next = (error?: unknown) => unknown;
type HandleRequest = (this: Layer, request: object, response: unknown, next: Next) => unknown;
type HandleError = (this: Layer, error: unknown, request: object, response: unknown, next: Next) => unknown;

const SPAN_NAME_PREFIX: Record<Exclude<LayerKind, 'express'>, string> = { middleware: 'middleware', router: 'router', app: 'app' };

/** Wraps Layer.prototype.handle_request (Express 4) / handleRequest (router 2, Express 5). */
export function tracedHandleRequest(ctx: InstrumentationContext<FrameworkSettings>, outcome: Outcome) {
  return (original: HandleRequest): HandleRequest =>
    function handle_request(this: Layer, request, response, next) {
      const kind = this[kKind];
      const route = this.route;
      // Layers inside a route (its handlers), and layers Express skips here (error handlers).
      if ((kind === undefined && route === undefined) || !ctx.enabled || typeof this.handle !== 'function' || this.handle.length > 3) {
        return Reflect.apply(original, this, arguments);
      }
      if (typeof next !== 'function' || request === null || typeof request !== 'object') return Reflect.apply(original, this, arguments);
      let visit: Visit | undefined;
      try {
        const state = stateOf(request);
        if (state.traced) visit = route !== undefined ? enterRoute(this, state, ctx) : enterUse(this, kind!, state, ctx, undefined);
      } catch (error) {
        ctx.reportError(error);
      }
      if (visit === undefined) return Reflect.apply(original, this, arguments);
      return run(visit, original, this, [request, response, visit.tracedNext(next, outcome)], outcome);
    };
}

/** Wraps Layer.prototype.handle_error (Express 4) / handleError (router 2): error-handling middleware. */
export function tracedHandleError(ctx: InstrumentationContext<FrameworkSettings>, outcome: Outcome) {
  return (original: HandleError): HandleError =>
    function handle_error(this: Layer, error, request, response, next) {
      const kind = this[kKind];
      if (kind === undefined || !ctx.enabled || request === null || typeof request !== 'object' || typeof next !== 'function') {
        return Reflect.apply(original, this, arguments);
      }
      let visit: Visit | undefined;
      try {
        const state = stateOf(request);
        // The error is on its way to an error handler (or to Express's final 500): the server span's error.type.
        if (state.traced) setHttpServerError(state.serverContext, error);
        if (state.traced && typeof this.handle === 'function' && this.handle.length === 4) visit = enterUse(this, kind, state, ctx, error);
      } catch (failure) {
        ctx.reportError(failure);
      }
      if (visit === undefined) return Reflect.apply(original, this, arguments);
      return run(visit, original, this, [error, request, response, visit.tracedNext(next, outcome)], outcome);
    };
}

/**
 * One layer's handling of one request: the span it runs in (if any) and what calling its `next`
 * restores. Made only for the layers that name, nest or trace something.
 */
class Visit {
  constructor(
    readonly state: RequestState,
    /** The context the layer runs in (its span's), or undefined to leave the caller's. */
    readonly context: Context | undefined,
    /** The layer's span while it records; undefined otherwise. */
    readonly span: Span | undefined,
    readonly parentPrefix: string,
    readonly parentContext: Context,
    /** The error an error handler was given: passing it on is not a failure of its own. */
    readonly incomingError: unknown,
  ) {}

  /** The layer's `next`: leaves the layer (prefix, parent, span), then goes on as Express would. */
  tracedNext(next: Next, outcome: Outcome): Next {
    const visit = this;
    return function next_(this: unknown, error?: unknown) {
      visit.leave(error, outcome);
      return Reflect.apply(next, this, arguments);
    };
  }

  leave(error: unknown, outcome: Outcome): void {
    const state = this.state;
    state.prefix = this.parentPrefix;
    state.parent = this.parentContext;
    const failed = isError(error) && error !== this.incomingError && error !== state.error;
    if (failed) {
      state.error = error;
      setHttpServerError(state.serverContext, error);
    }
    if (this.span !== undefined) outcome.end(this.span, failed ? error : undefined);
  }
}

function run(visit: Visit, original: Function, layer: Layer, args: unknown[], outcome: Outcome): unknown {
  try {
    return visit.context === undefined ? Reflect.apply(original, layer, args) : agentContext.apply(visit.context, original, layer, args);
  } catch (error) {
    // Express catches what the application throws; this is a failure of Express itself.
    visit.leave(error, outcome);
    throw error;
  }
}

function enterRoute(layer: Layer, state: RequestState, ctx: InstrumentationContext<FrameworkSettings>): Visit | undefined {
  const template = routeTemplate(layer, state.prefix);
  setHttpRoute(state.serverContext, template);
  if (ctx.settings.spans === 'route' || isTracedAbove(lastHandler(layer))) return undefined;
  const span = ctx.tracer.startSpan(`handler ${template}`, { kind: SpanKind.INTERNAL }, state.parent);
  if (span.isRecording()) {
    span.setAttribute(ATTR_EXPRESS_TYPE, 'request_handler');
    span.setAttribute(ATTR_HTTP_ROUTE, template);
    const name = handlerName(layer);
    if (name !== undefined) span.setAttribute(ATTR_CODE_FUNCTION_NAME, name);
  }
  return visitWithSpan(span, state, undefined);
}

function enterUse(
  layer: Layer,
  kind: LayerKind,
  state: RequestState,
  ctx: InstrumentationContext<FrameworkSettings>,
  incomingError: unknown,
): Visit | undefined {
  const parentPrefix = state.prefix;
  const parentContext = state.parent;
  const mountPath = layer[kMountPath];
  const nests = kind === 'router' || kind === 'app';
  const traced = ctx.settings.spans === 'all' && kind !== 'express';
  if (!traced && (mountPath === undefined || !nests)) return undefined;
  if (mountPath !== undefined && nests) state.prefix = joinPaths(parentPrefix, mountPath);
  if (!traced) return new Visit(state, undefined, undefined, parentPrefix, parentContext, incomingError);

  const functionName = layer.handle.name;
  const label = nests ? joinPaths(parentPrefix, mountPath ?? '') : functionName === '' ? 'anonymous' : functionName;
  const span = ctx.tracer.startSpan(
    `${SPAN_NAME_PREFIX[kind as Exclude<LayerKind, 'express'>]} ${label}`,
    { kind: SpanKind.INTERNAL },
    parentContext,
  );
  if (span.isRecording()) {
    span.setAttribute(ATTR_EXPRESS_TYPE, kind);
    if (!nests && functionName !== '') span.setAttribute(ATTR_CODE_FUNCTION_NAME, functionName);
  }
  const visit = visitWithSpan(span, state, incomingError, parentPrefix, parentContext);
  // What runs inside a router or sub-app starts its spans under it.
  if (nests) state.parent = visit.context!;
  return visit;
}

function visitWithSpan(span: Span, state: RequestState, incomingError: unknown, parentPrefix = state.prefix, parentContext = state.parent): Visit {
  const context = setSpan(parentContext, span);
  if (!span.isRecording()) return new Visit(state, context, undefined, parentPrefix, parentContext, incomingError);
  // A layer that answers the request rather than calling next ends with the response.
  endWithResponse(state.serverContext, span);
  return new Visit(state, context, span, parentPrefix, parentContext, incomingError);
}
