import type { Context, Span } from '@opentelemetry/api';
import { agentContext } from '../../src/instrumentation/api';
import type { AnyFunction, Measurement, Outcome } from '../../src/instrumentation/outcome';

/**
 * A query object pg submits as it is (pg.Query, pg-cursor, pg-query-stream): anything with a
 * `submit` function. pg then drives it by calling its handle* methods as the server's messages
 * arrive.
 */
const kObserved = Symbol('tracelet.pg.observed');

export interface Submittable {
  submit(...args: unknown[]): unknown;
  [name: string]: unknown;
  [kObserved]?: true;
}

export function isSubmittable(config: unknown): config is Submittable {
  return config !== null && typeof config === 'object' && typeof (config as { submit?: unknown }).submit === 'function';
}

/** True once a Submittable has been observed: the same object submitted again gets no second span. */
export function isObserved(submittable: Submittable): boolean {
  return submittable[kObserved] === true;
}

/**
 * Watches a Submittable by replacing, on the instance, the methods pg calls with its outcome:
 * handleError (failed) and handleReadyForQuery (done, the server is ready for the next query),
 * which end the span. Listening to its 'end' and 'error' events instead would change how it
 * behaves: an 'error' event with no listener throws, and pg-cursor only emits 'error' when
 * someone listens. Those two methods and the ones that deliver rows (handleDataRow,
 * handlePortalSuspended, which pg-cursor and pg-query-stream answer from) run in the caller's
 * context, so that rows, callbacks and events reach the application in it rather than in the
 * context the connection was opened in.
 */
export function observeSubmittable(
  submittable: Submittable,
  caller: Context,
  span: Span | undefined,
  outcome: Outcome | undefined,
  measurement?: Measurement,
): void {
  Object.defineProperty(submittable, kObserved, { value: true });
  replace(submittable, 'handleDataRow', (original) => inContext(caller, original));
  replace(submittable, 'handlePortalSuspended', (original) => inContext(caller, original));
  replace(
    submittable,
    'handleError',
    (original) =>
      function handleError(this: unknown) {
        if (span !== undefined) outcome!.fail(span, arguments[0], measurement);
        return agentContext.apply(caller, original, this, arguments);
      },
  );
  replace(
    submittable,
    'handleReadyForQuery',
    (original) =>
      function handleReadyForQuery(this: unknown) {
        try {
          // pg.Query reports an error it held back (a failed row parser) from here, through
          // handleError: that one ends the span first (an Outcome ends a span once).
          return agentContext.apply(caller, original, this, arguments);
        } finally {
          if (span !== undefined) outcome!.end(span, undefined, undefined, measurement);
        }
      },
  );
}

function inContext(caller: Context, original: AnyFunction): AnyFunction {
  return function (this: unknown) {
    return agentContext.apply(caller, original, this, arguments);
  };
}

/** Replaces a method on the instance, keeping its enumerability (pg-query-stream's are own properties). */
function replace(target: Submittable, name: string, wrapper: (original: AnyFunction) => AnyFunction): void {
  const original = target[name];
  if (typeof original !== 'function') return;
  const own = Object.getOwnPropertyDescriptor(target, name);
  Object.defineProperty(target, name, {
    value: wrapper(original as AnyFunction),
    writable: true,
    configurable: true,
    enumerable: own?.enumerable ?? false,
  });
}
