import type { Context, Exception, Span } from '@opentelemetry/api';
import { SpanStatusCode } from '../../src/instrumentation/api';
import { SymbolSlot } from '../../src/instrumentation/symbol-slot';

/** What the instrumentation tracks per Fastify request (keyed by Fastify's Request object). */
export class RequestState {
  /** The route handler's span, while it runs or until its reply is sent. */
  handlerSpan: Span | undefined = undefined;

  constructor(
    /** The request's context when Fastify started it: the HTTP server span is active in it. */
    readonly serverContext: Context,
  ) {}

  /** Ends the handler span, once, recording the error it ended with if any. */
  endHandler(error?: unknown): void {
    const span = this.handlerSpan;
    if (span === undefined) return;
    this.handlerSpan = undefined;
    if (error !== undefined) recordError(span, error);
    span.end();
  }
}

const states = new SymbolSlot<RequestState>('tracelet.fastify.request');

export function startRequest(request: object, serverContext: Context): RequestState {
  const state = new RequestState(serverContext);
  states.set(request, state);
  return state;
}

export function stateOf(request: unknown): RequestState | undefined {
  return request !== null && typeof request === 'object' ? states.get(request) : undefined;
}

/** An exception event and error status on the span where the error happened. */
export function recordError(span: Span, error: unknown): void {
  if (error instanceof Error) {
    span.recordException(error as Exception);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  } else {
    span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
  }
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as PromiseLike<unknown>).then === 'function';
}
