import type { Context, Span } from '@opentelemetry/api';
import { agentContext, setSpan } from '../../src/instrumentation/api';
import { briefName, frameworkOutcome, type FrameworkSettings, type FrameworkSpans } from '../../src/instrumentation/framework';
import { endWithResponse, getServerRequest, setHttpServerError, type ServerRequest } from '../../src/instrumentation/http-server-request';
import { isThenable, type Outcome } from '../../src/instrumentation/outcome';
import { SymbolSlot } from '../../src/instrumentation/symbol-slot';
import type { InstrumentationContext } from '../../src/instrumentation/types';

/**
 * What the instrumentation keeps per Koa request (on Koa's own context object), and how every
 * one of its spans runs and ends: a Koa middleware span covers `fn(ctx, next)` until the promise
 * it returns settles, so the downstream middleware, the router and the handler run inside it.
 */

/** What an instrumentation context needs for Koa's spans, made once per context. */
export interface KoaTracing {
  readonly ctx: InstrumentationContext<FrameworkSettings>;
  readonly outcome: Outcome;
  readonly spans: FrameworkSpans;
}

const tracings = new WeakMap<InstrumentationContext<FrameworkSettings>, KoaTracing>();

/** The one KoaTracing of this context (the koa and router patches share it). Patch time only. */
export function tracingOf(ctx: InstrumentationContext<FrameworkSettings>): KoaTracing {
  let tracing = tracings.get(ctx);
  if (tracing === undefined) tracings.set(ctx, (tracing = { ctx, outcome: frameworkOutcome(ctx), spans: ctx.settings.spans }));
  return tracing;
}

/** No error recorded yet (an application may reject with undefined). */
const NO_ERROR: unique symbol = Symbol('tracelet.koa.noError');

export interface RequestState {
  /** The context Koa's request callback was called in: the HTTP server span is active in it. */
  readonly serverContext: Context;
  readonly request: ServerRequest;
  /** False for an unsampled request: its route is named, but no span is made for it. */
  readonly recording: boolean;
  /** The last error recorded, on the span where it happened: the spans it then leaves do not record it again. */
  error: unknown;
}

const states = new SymbolSlot<RequestState>('tracelet.koa.request');

/**
 * Remembers the server context of a request whose Koa context was just created (in Koa's request
 * callback, where the http instrumentation's context is active). Nothing is kept for a request
 * without a server span (the http instrumentation off, or the path excluded): every wrapper then
 * steps aside.
 */
export function trackRequest(koaContext: unknown): void {
  if (koaContext === null || typeof koaContext !== 'object') return;
  const active = agentContext.active();
  const request = getServerRequest(active);
  if (request === undefined) return;
  states.set(koaContext, { serverContext: active, request, recording: request.span.isRecording(), error: NO_ERROR });
}

export function stateOf(koaContext: unknown): RequestState | undefined {
  return koaContext !== null && typeof koaContext === 'object' ? states.get(koaContext) : undefined;
}

/**
 * The parent of a new span: the active context (the span of the middleware that called `next`,
 * so spans nest as the onion runs) while it is still this request's; the server context when the
 * middleware was called from somewhere that lost it (a `next` called from a foreign callback).
 */
export function parentOf(state: RequestState): Context {
  const active = agentContext.active();
  return active === state.serverContext || getServerRequest(active) === state.request ? active : state.serverContext;
}

/**
 * Calls a middleware (`fn(koaContext, next)`) with its span active, and ends the span when what
 * it returned settles (at once for a value; a synchronous throw fails it and is rethrown). The
 * application's result and errors pass through unchanged: the promise returned is the
 * middleware's own, its settling only observed (the handlers never throw, so the promise they
 * make never rejects; Koa handles the middleware's own rejection as ever).
 */
export function runInSpan(
  tracing: KoaTracing,
  state: RequestState,
  span: Span,
  parent: Context,
  fn: Function,
  self: unknown,
  args: IArguments,
): unknown {
  let spanContext: Context;
  let recording: boolean;
  try {
    spanContext = setSpan(parent, span);
    recording = span.isRecording();
    // Should the promise never settle (a middleware that answered on the raw response), the response ends it.
    if (recording) endWithResponse(state.serverContext, span);
  } catch (error) {
    tracing.ctx.reportError(error);
    return Reflect.apply(fn, self, args);
  }
  // A span the sampler dropped has nothing to end: the middleware only runs in its context.
  if (!recording) return agentContext.apply(spanContext, fn, self, args);
  let result: unknown;
  try {
    result = agentContext.apply(spanContext, fn, self, args);
  } catch (error) {
    settle(tracing, state, span, true, error);
    throw error;
  }
  if (!isThenable(result)) {
    settle(tracing, state, span, false, undefined);
    return result;
  }
  // Koa resolves what a middleware returns (koa-compose: Promise.resolve). A thenable that is not a
  // promise (a query builder runs its query on `then`) is resolved here instead, so that its
  // `then` is still called once; Koa gets the promise, which it would have made anyway.
  const promise = result instanceof Promise ? result : Promise.resolve(result);
  void promise.then(
    () => settle(tracing, state, span, false, undefined),
    (error: unknown) => settle(tracing, state, span, true, error),
  );
  return promise;
}

/**
 * Ends a span: a failure is recorded on it, and noted for the server span's error.type, unless an
 * inner span already recorded that same error (it is passing through on its way up the onion).
 */
function settle(tracing: KoaTracing, state: RequestState, span: Span, failed: boolean, error: unknown): void {
  if (!failed || error === state.error) {
    tracing.outcome.end(span);
    return;
  }
  state.error = error;
  tracing.outcome.fail(span, error);
  noteServerError(tracing, state, error);
}

/** The error, for the server span's error.type should the response be a 5xx. */
export function noteServerError(tracing: KoaTracing, state: RequestState, error: unknown): void {
  try {
    setHttpServerError(state.serverContext, error);
  } catch (failure) {
    tracing.ctx.reportError(failure);
  }
}

/** Whether the error reaching Koa's error handling was already recorded on one of the request's spans. */
export function isRecordedError(state: RequestState, error: unknown): boolean {
  return error === state.error;
}

/** Marks the instrumentation's wrappers, so a function is never wrapped twice. */
const kTraced = Symbol('tracelet.koa.traced');

export function isTracedWrapper(fn: unknown): boolean {
  return typeof fn === 'function' && (fn as { [kTraced]?: boolean })[kTraced] === true;
}

/** Gives a wrapper the name and length of the function it wraps, and marks it. */
export function dressAs<F extends Function>(wrapper: F, original: Function): F {
  try {
    Object.defineProperty(wrapper, 'length', { value: original.length });
    Object.defineProperty(wrapper, 'name', { value: original.name });
  } catch {
    // an odd function (a getter for its name that throws): the wrapper keeps its own
  }
  Object.defineProperty(wrapper, kTraced, { value: true });
  return wrapper;
}

/** A function's name as a span may carry it (koa-convert keeps a generator's name in `_name`), briefly: never a path. */
export function functionNameOf(fn: Function): string | undefined {
  const named = (fn as { _name?: unknown })._name;
  const name = typeof named === 'string' && named !== '' ? named : fn.name;
  // A bound function is named `bound f`.
  return briefName(typeof name === 'string' && name.startsWith('bound ') ? name.slice(6) : name);
}
