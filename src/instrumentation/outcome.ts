import type { Context, Exception, Span } from '@opentelemetry/api';
import { agentContext } from '../api/active';
import { SpanStatusCode } from '../api/trace';
import { ATTR_DB_RESPONSE_STATUS_CODE, ATTR_ERROR_TYPE, ERROR_TYPE_VALUE_OTHER } from '../semconv';
import { DroppedSpan, type CallDetails } from '../trace/dropped-spans';
import { safeExceptionFor } from '../trace/withheld-errors';
import type { InstrumentationContext } from './types';

/**
 * The one way an instrumentation ends the span of a call: when the call's promise settles, when
 * its callback is called, or when the library reports the outcome some other way (an event, a
 * diagnostics channel message), through `end`/`fail`. Every method is guarded: a failure of the
 * agent's own work is reported through the instrumentation's context (which switches a
 * repeatedly failing instrumentation off) and swallowed. The application's own callbacks,
 * results and errors pass through unchanged, outside the guard.
 */

/** A function called with any `this` and arguments. */
export type AnyFunction = (...args: unknown[]) => unknown;

/** How a library's failure shows on its span. */
export interface Failure {
  /** error.type; absent for a span kind the conventions give none (a framework's handler). */
  readonly type?: string;
  /** db.response.status_code: the code a database server answered with. */
  readonly statusCode?: string;
  /** The status description. It must quote no application data (a query's values). */
  readonly message?: string;
  /** Recorded as an exception event; absent records none. */
  readonly exception?: Exception;
}

/** Reads a library's error the way its conventions ask (SQLSTATE, Redis error prefixes...). */
export type DescribeFailure = (error: unknown) => Failure;

/** Adds what a successful call's result says to its span (the client a pool handed over...). */
export type OnSuccess = (span: Span, result: unknown) => void;

/**
 * A call's duration metric, taken whether or not its span records: made at the call's start
 * (only while metrics are on) and recorded once its outcome is known, with the same failure
 * description the span gets (undefined for a success). A call whose end is reported twice (an
 * error, then the query's end) is recorded twice by the Outcome: a measurement keeps the first.
 */
export interface Measurement extends CallDetails {
  record(failure: Failure | undefined): void;
}

/** The error's string code (ECONNREFUSED, UND_ERR_CONNECT_TIMEOUT), else its name, else `_OTHER`. */
export function errorType(error: unknown): string {
  if (error === null || typeof error !== 'object') return ERROR_TYPE_VALUE_OTHER;
  const { code, name } = error as { code?: unknown; name?: unknown };
  // A numeric code (DOMException's legacy 20 for AbortError) says less than the name.
  if (typeof code === 'string' && code !== '') return code;
  return typeof name === 'string' && name !== '' ? name : ERROR_TYPE_VALUE_OTHER;
}

/** The error's message: the string itself, or a string `message` property. */
export function errorMessage(error: unknown): string | undefined {
  if (typeof error === 'string') return error;
  const message = error !== null && typeof error === 'object' ? (error as { message?: unknown }).message : undefined;
  return typeof message === 'string' ? message : undefined;
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as PromiseLike<unknown>).then === 'function';
}

/** The default description: error.type from errorType, an Error recorded as it is. */
export const describeError: DescribeFailure = (error) => ({
  type: errorType(error),
  message: errorMessage(error),
  exception: error instanceof Error ? error : undefined,
});

/**
 * Marks a span failed as `describe` reads the error. Does nothing on a span that no longer records.
 * An error a database instrumentation withheld keeps its message out of the status too.
 */
export function recordFailure(span: Span, error: unknown, describe: DescribeFailure = describeError): void {
  if (!span.isRecording()) return;
  recordDescribedFailure(span, error, describe(error));
}

/** recordFailure with the description already made (shared with the call's metric, and with a dropped span kept later). */
export function recordDescribedFailure(span: Span, error: unknown, failure: Failure): void {
  if (failure.exception !== undefined) span.recordException(failure.exception);
  if (failure.type !== undefined) span.setAttribute(ATTR_ERROR_TYPE, failure.type);
  if (failure.statusCode !== undefined) span.setAttribute(ATTR_DB_RESPONSE_STATUS_CODE, failure.statusCode);
  const safe = safeExceptionFor(error);
  const message = safe === undefined ? failure.message : typeof safe === 'string' ? safe : safe.message;
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

/**
 * How one kind of call of one library ends its span: the library's failure description and,
 * optionally, what a result adds. Made once per kind of call (when the instrumentation is
 * installed), so ending a span allocates nothing of its own.
 */
export class Outcome {
  constructor(
    readonly ctx: InstrumentationContext,
    readonly describe: DescribeFailure = describeError,
    readonly onSuccess?: OnSuccess,
  ) {}

  /**
   * Ends the span the way a Node callback reports: failed when `error` is set, else succeeded with
   * `result`. A span ends once: one already ended (or never recording: unsampled) is left as it
   * is, so the events racing to end a span (a promise, a hook, the response) need no flag of
   * their own, and an unsampled call costs no description.
   */
  end(span: Span, error?: unknown, result?: unknown, measurement?: Measurement): void {
    if (error !== null && error !== undefined) {
      this.fail(span, error, measurement);
      return;
    }
    if (!span.isRecording()) {
      if (measurement !== undefined || span instanceof DroppedSpan) this.measure(measurement, false, undefined, span);
      return;
    }
    try {
      if (this.onSuccess !== undefined) this.onSuccess(span, result);
    } catch (failure) {
      this.ctx.reportError(failure);
    }
    if (measurement !== undefined) this.record(measurement, undefined);
    this.close(span);
  }

  /**
   * Ends the span failed, whatever `error` is (undefined included: an abort with no error). The
   * failure is described once, for the span and the measurement alike.
   */
  fail(span: Span, error: unknown, measurement?: Measurement): void {
    if (!span.isRecording()) {
      if (measurement !== undefined || span instanceof DroppedSpan) this.measure(measurement, true, error, span);
      return;
    }
    let failure: Failure | undefined;
    try {
      failure = this.describe(error);
      recordDescribedFailure(span, error, failure);
    } catch (agentFailure) {
      this.ctx.reportError(agentFailure);
    }
    if (measurement !== undefined) this.record(measurement, failure);
    this.close(span);
  }

  /**
   * The end of a call whose span records nothing (or that has no span): its measurement, and the
   * outline of a span a keep rule may still record (see DroppedSpan). `failed` says it failed
   * (with `error`, which may be undefined: an abort); the failure is described only then.
   */
  measure(measurement: Measurement | undefined, failed: boolean, error: unknown, span?: Span): void {
    try {
      const failure = failed ? this.describe(error) : undefined;
      measurement?.record(failure);
      if (span instanceof DroppedSpan) span.settle(measurement, failure, error);
    } catch (agentFailure) {
      this.ctx.reportError(agentFailure);
    }
  }

  private record(measurement: Measurement, failure: Failure | undefined): void {
    try {
      measurement.record(failure);
    } catch (agentFailure) {
      this.ctx.reportError(agentFailure);
    }
  }

  /**
   * What the caller gets in place of the library's promise: settled like it, once the span has
   * ended. Returning a derived promise (rather than adding handlers to the library's) keeps a
   * rejection nobody handles an unhandled rejection, as it would be without the agent. For an
   * unsampled span, the library's promise itself: no promise more (each costs more while
   * AsyncLocalStorage runs on promise hooks) for a span that records nothing.
   */
  promise<T>(span: Span, promise: Promise<T>, measurement?: Measurement): Promise<T>;
  promise<T>(span: Span, promise: PromiseLike<T>, measurement?: Measurement): PromiseLike<T>;
  promise<T>(span: Span, promise: PromiseLike<T>, measurement?: Measurement): PromiseLike<T> {
    // An unsampled span has nothing to end: the caller gets the library's own promise, unless
    // the call's duration is measured (metrics on), which only its settling tells.
    if (!span.isRecording() && measurement === undefined) return promise;
    return promise.then(
      (result) => {
        this.end(span, undefined, result, measurement);
        return result;
      },
      (error: unknown) => {
        this.fail(span, error, measurement);
        throw error;
      },
    );
  }

  /**
   * Ends the span when `promise` settles, leaving the promise to whoever it was returned to (a
   * framework that handles its rejection itself). The handlers never throw, so the promise they
   * make never rejects. An unsampled span adds no handlers (ending it would do nothing).
   */
  observe(span: Span, promise: PromiseLike<unknown>): void {
    if (!span.isRecording()) return;
    try {
      void promise.then(
        (result) => this.end(span, undefined, result),
        (error: unknown) => this.fail(span, error),
      );
    } catch (failure) {
      this.ctx.reportError(failure);
      this.close(span);
    }
  }

  /**
   * The callback the library gets in place of the caller's: it ends the span (Node callback
   * convention: error first), then calls the caller's callback in the caller's context with the
   * same `this` and arguments (libraries call back from their sockets' events, which run in
   * whatever context opened the socket).
   */
  callback(span: Span, caller: Context, callback: AnyFunction, measurement?: Measurement): AnyFunction {
    const outcome = this;
    return function (this: unknown) {
      outcome.end(span, arguments[0], arguments[1], measurement);
      return agentContext.apply(caller, callback, this, arguments);
    };
  }

  /**
   * Calls the library's method for a traced call and ties the span to it: a synchronous throw
   * fails the span (and is rethrown as it is); without a callback (`callbackGiven` false) the
   * span ends with the returned promise, or at once for any other result. `within` is the
   * context the method itself runs in, when not the caller's. A `measurement` is recorded with
   * the span's end (the callback given must then be one made by callback() with it).
   */
  call(
    span: Span,
    original: AnyFunction,
    self: unknown,
    args: ArrayLike<unknown>,
    callbackGiven: boolean,
    within?: Context,
    measurement?: Measurement,
  ): unknown {
    let result: unknown;
    try {
      result = within === undefined ? original.apply(self, args as unknown[]) : agentContext.apply(within, original, self, args);
    } catch (error) {
      this.fail(span, error, measurement);
      throw error;
    }
    if (callbackGiven) return result;
    if (isThenable(result)) return this.promise(span, result, measurement);
    this.end(span, undefined, result, measurement);
    return result;
  }

  private close(span: Span): void {
    try {
      span.end();
    } catch (failure) {
      this.ctx.reportError(failure);
    }
  }
}

/** The Outcomes made by outcomeOf, per context: a handful each (one per kind of call). */
const outcomes = new WeakMap<InstrumentationContext, Outcome[]>();
/** The last one asked for: a run of messages of one kind costs three comparisons each. */
let recent: Outcome | undefined;

/**
 * The Outcome of `ctx` for `describe` and `onSuccess`, made on first use. For instrumentations
 * whose spans end in diagnostics channel subscribers, which are handed their context with each
 * message; wrappers make theirs once in patch() instead.
 */
export function outcomeOf(ctx: InstrumentationContext, describe: DescribeFailure = describeError, onSuccess?: OnSuccess): Outcome {
  if (recent !== undefined && recent.ctx === ctx && recent.describe === describe && recent.onSuccess === onSuccess) return recent;
  let made = outcomes.get(ctx);
  if (made === undefined) outcomes.set(ctx, (made = []));
  let outcome = made.find((candidate) => candidate.describe === describe && candidate.onSuccess === onSuccess);
  if (outcome === undefined) made.push((outcome = new Outcome(ctx, describe, onSuccess)));
  recent = outcome;
  return outcome;
}
