import type { Context, Span } from '@opentelemetry/api';
import type { Outcome } from '../../src/instrumentation/outcome';
import { SymbolSlot } from '../../src/instrumentation/symbol-slot';

/** What the instrumentation tracks per Fastify request (keyed by Fastify's Request object). */
export interface RequestState {
  /** The request's context when Fastify started it: the HTTP server span is active in it. */
  readonly serverContext: Context;
  /** How the request's hook and handler spans end. */
  readonly outcome: Outcome;
  /** The route handler's span, while it runs or until its reply is sent (see handler.ts). */
  handlerSpan: Span | undefined;
}

const states = new SymbolSlot<RequestState>('tracelet.fastify.request');

export function trackRequest(request: object, serverContext: Context, outcome: Outcome): RequestState {
  const state: RequestState = { serverContext, outcome, handlerSpan: undefined };
  states.set(request, state);
  return state;
}

export function stateOf(request: unknown): RequestState | undefined {
  return request !== null && typeof request === 'object' ? states.get(request) : undefined;
}

/** Marks the instrumentation's wrappers of hooks and handlers, so that a function is never wrapped twice. */
const kTraced = Symbol('tracelet.fastify.traced');

export function isTracedWrapper(fn: unknown): boolean {
  return typeof fn === 'function' && (fn as { [kTraced]?: boolean })[kTraced] === true;
}

/** Gives a wrapper the length and name Fastify reads off the function it wraps, and marks it. */
export function dressAs<F extends Function>(wrapper: F, original: Function): F {
  Object.defineProperty(wrapper, 'length', { value: original.length });
  Object.defineProperty(wrapper, 'name', { value: original.name });
  Object.defineProperty(wrapper, kTraced, { value: true });
  return wrapper;
}
