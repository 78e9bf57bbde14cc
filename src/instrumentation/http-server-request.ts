import type { Context, Span } from '@opentelemetry/api';
import { ATTR_HTTP_ROUTE, ERROR_TYPE_VALUE_OTHER } from '../semconv';
import { REQUEST_SCOPE_KEY } from '../trace/dropped-spans';
import { httpSpanName } from './http-semantics';
import { errorType } from './outcome';

/**
 * The HTTP server span of the request being handled, kept in its context so that a framework
 * instrumentation (fastify, ...) can name it after the route it matched: the http server
 * instrumentation owns the span, frameworks only name it.
 */
export interface ServerRequest {
  readonly span: Span;
  /** http.request.method as reported (`_OTHER` for unknown methods). */
  readonly method: string;
  route: string | undefined;
  /** The type of the error a framework handled, reported as error.type if the response is a 5xx. */
  errorType: string | undefined;
  /** That error itself: recorded on the request's span if a keep rule records it after all. */
  error?: unknown;
  /**
   * A framework's spans still open when the response ends (a handler that never called next,
   * a reply sent from a callback): ended then, just before the server span.
   */
  spansEndingWithResponse: Span[] | undefined;
}

/** The core's request-scope key: the tracer finds a request's dropped spans through it. */
const SERVER_REQUEST_KEY = REQUEST_SCOPE_KEY;

export function withServerRequest(context: Context, request: ServerRequest): Context {
  return context.setValue(SERVER_REQUEST_KEY, request);
}

export function getServerRequest(context: Context): ServerRequest | undefined {
  return context.getValue(SERVER_REQUEST_KEY) as ServerRequest | undefined;
}

/**
 * Names the request's server span after the route template that matched (`GET /users/:id`) and
 * records http.route. Returns false when the context holds no server request.
 */
export function setHttpRoute(context: Context, route: string): boolean {
  const request = getServerRequest(context);
  if (request === undefined || route === '') return false;
  request.route = route;
  // An unsampled span keeps neither attribute nor name: skip building them.
  if (!request.span.isRecording()) return true;
  request.span.setAttribute(ATTR_HTTP_ROUTE, route);
  request.span.updateName(httpSpanName(request.method, route));
  return true;
}

/** Ends this span (if nothing ended it before) when the request's response ends. */
export function endWithResponse(context: Context, span: Span): void {
  const request = getServerRequest(context);
  if (request === undefined) return;
  if (request.spansEndingWithResponse === undefined) request.spansEndingWithResponse = [span];
  else request.spansEndingWithResponse.push(span);
}

/**
 * Remembers the error a framework handled for this request (its code, else its name), for
 * error.type should the response be a 5xx; an error that names neither leaves the status code.
 */
export function setHttpServerError(context: Context, error: unknown): void {
  const request = getServerRequest(context);
  if (request === undefined) return;
  request.error = error;
  const type = errorType(error);
  if (type !== ERROR_TYPE_VALUE_OTHER) request.errorType = type;
}
