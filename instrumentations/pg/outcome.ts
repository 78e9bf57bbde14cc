import type { Context, Span } from '@opentelemetry/api';
import { agentContext, SpanStatusCode } from '../../src/instrumentation/api';
import { ATTR_DB_RESPONSE_STATUS_CODE, ATTR_ERROR_TYPE, ERROR_TYPE_VALUE_OTHER } from '../../src/semconv';

type AnyFunction = (...args: unknown[]) => unknown;

/** Describes the operation's result on its span (the acquired client of a pool, say). */
export type OnSuccess = (span: Span, result: unknown) => void;

const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * The SQLSTATE of an error PostgreSQL sent (pg's DatabaseError carries `code` and `severity`);
 * undefined for every other error, Node's ECONNREFUSED included.
 */
export function sqlState(error: unknown): string | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  return typeof code === 'string' && typeof severity === 'string' && SQLSTATE.test(code) ? code : undefined;
}

/**
 * Marks the span failed. An error PostgreSQL sent is known by its SQLSTATE alone
 * (db.response.status_code and error.type): its message, and the stack trace that starts with
 * it, can quote the query's values (`invalid input syntax for type integer: "…"`), so neither
 * leaves the process; the stack's frames are kept. Any other error is recorded as it is, with
 * its code (ECONNREFUSED) or else its class name as error.type.
 */
export function recordFailure(span: Span, error: unknown): void {
  if (!span.isRecording()) return;
  const state = sqlState(error);
  if (state !== undefined) {
    const message = `PostgreSQL error ${state}`;
    const stack = (error as { stack?: unknown }).stack;
    const frames = typeof stack === 'string' ? stack.indexOf('\n    at ') : -1;
    span.setAttribute(ATTR_DB_RESPONSE_STATUS_CODE, state);
    span.setAttribute(ATTR_ERROR_TYPE, state);
    span.recordException({
      name: 'DatabaseError',
      code: state,
      message,
      stack: frames === -1 ? undefined : `DatabaseError: ${message}${(stack as string).slice(frames)}`,
    });
    span.setStatus({ code: SpanStatusCode.ERROR, message });
    return;
  }
  span.setAttribute(ATTR_ERROR_TYPE, errorType(error));
  if (error instanceof Error) {
    span.recordException(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  } else {
    span.setStatus({ code: SpanStatusCode.ERROR, message: typeof error === 'string' ? error : undefined });
  }
}

function errorType(error: unknown): string {
  if (error === null || typeof error !== 'object') return ERROR_TYPE_VALUE_OTHER;
  const { code, name } = error as { code?: unknown; name?: unknown };
  if (typeof code === 'string' && code !== '') return code;
  return typeof name === 'string' && name !== '' ? name : ERROR_TYPE_VALUE_OTHER;
}

/** Ends the span of a failed operation. */
export function fail(span: Span, error: unknown): void {
  recordFailure(span, error);
  span.end();
}

/** Ends the span of an operation the way pg reports to callbacks: failed when `error` is set. */
export function settle(span: Span, error: unknown, result?: unknown, onSuccess?: OnSuccess): void {
  if (error !== null && error !== undefined) recordFailure(span, error);
  else onSuccess?.(span, result);
  span.end();
}

/**
 * The callback pg gets in place of the caller's: it ends the span, then calls the caller's
 * callback in the caller's context (pg calls back from its socket's events, and pg-pool from
 * whichever request released a connection: neither is the caller's context).
 */
export function endingCallback(span: Span, caller: Context, callback: AnyFunction, onSuccess?: OnSuccess): AnyFunction {
  return function (this: unknown, ...args: unknown[]) {
    settle(span, args[0], args[1], onSuccess);
    return agentContext.with(caller, callback, this, ...args);
  };
}

/**
 * What the caller gets in place of pg's promise: settled like it, once the span has ended. The
 * caller gets this derived promise, not pg's, so that a rejection nobody handles still surfaces
 * as an unhandled rejection (a handler on pg's own promise would silence it).
 */
export function endingPromise(span: Span, promise: PromiseLike<unknown>, onSuccess?: OnSuccess): PromiseLike<unknown> {
  return promise.then(
    (result) => {
      settle(span, undefined, result, onSuccess);
      return result;
    },
    (error: unknown) => {
      fail(span, error);
      throw error;
    },
  );
}

/**
 * Calls pg's method for a traced operation. A synchronous throw fails the span; in the promise
 * form (no callback: `callbackGiven` false) the span ends with the returned promise. `within`
 * is the context the method itself runs in, when not the caller's.
 */
export function callTraced(
  span: Span,
  original: AnyFunction,
  self: unknown,
  args: ArrayLike<unknown>,
  callbackGiven: boolean,
  within?: Context,
  onSuccess?: OnSuccess,
): unknown {
  let result: unknown;
  try {
    result = within === undefined ? original.apply(self, args as unknown[]) : agentContext.with(within, original, self, ...(args as unknown[]));
  } catch (error) {
    fail(span, error);
    throw error;
  }
  if (callbackGiven) return result;
  if (isThenable(result)) return endingPromise(span, result, onSuccess);
  span.end();
  return result;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as PromiseLike<unknown>).then === 'function';
}
