import type { Context, Span } from '@opentelemetry/api';
import { agentContext, setSpan, SpanKind } from '../../src/instrumentation/api';
import { databaseSpanParent } from '../shared/database';
import type { InstrumentationContext } from '../../src/instrumentation/types';
import { Outcome, type AnyFunction } from '../../src/instrumentation/outcome';
import { wrap } from '../../src/instrumentation/wrap';
import { ATTR_DB_SYSTEM_NAME, DB_SYSTEM_NAME_VALUE_POSTGRESQL } from '../../src/semconv';
import { setConnectionAttributes, type PgConnectionTarget } from './connection';
import { describePgFailure } from './failure';
import type { PgSettings } from './index';

interface PgPool {
  /** pg-pool's queue of waiting requests (PendingItem objects); read, never changed. */
  readonly _pendingQueue?: unknown;
}

type Connect = (this: PgPool, callback?: unknown) => unknown;
type NewClient = (this: PgPool, pendingItem: unknown) => unknown;

/**
 * Span name for the time a caller waits for a pooled connection, opening one included: not a
 * database operation the conventions name, so INTERNAL, not CLIENT (backends count CLIENT spans
 * with db.system.name as calls to the database).
 */
export const ACQUIRE_SPAN_NAME = 'pg.pool.acquire';

const ACQUIRE_OPTIONS = { kind: SpanKind.INTERNAL };

/** The acquisition context of each request pg-pool queued, by its queue item. */
const queuedAcquisitions = new WeakMap<object, Context>();

/**
 * pg-pool's Pool.prototype.connect, which pool.query uses too: an INTERNAL span while the caller
 * waits for a connection, so pool starvation shows. pg-pool hands a released connection to the
 * next waiter from inside the releasing request; the waiter's callback is bound back to its own
 * caller's context, so everything it does (pool.query's query included) belongs to its own trace.
 */
export function patchPool(prototype: { connect: Connect; newClient?: NewClient }, ctx: InstrumentationContext<PgSettings>): void {
  const outcome = new Outcome(ctx, describePgFailure, describeClient);
  wrap(
    ctx,
    prototype,
    'connect',
    (original: Connect) =>
      function connect(this: PgPool) {
        return acquire(original as AnyFunction, this, arguments, ctx, outcome);
      },
  );
  // A queued request can also get a connection the pool opens for it later (after it removed a
  // broken or expired one): that connection opens in the waiter's acquisition context too.
  if (typeof prototype.newClient === 'function') {
    wrap(
      ctx,
      prototype as { newClient: NewClient },
      'newClient',
      (original: NewClient) =>
        function newClient(this: PgPool, pendingItem: unknown) {
          const acquisition = typeof pendingItem === 'object' && pendingItem !== null ? queuedAcquisitions.get(pendingItem) : undefined;
          if (acquisition === undefined) return original.apply(this, arguments as unknown as [unknown]);
          return agentContext.with(acquisition, original, this, pendingItem);
        },
    );
  }
}

function acquire(original: AnyFunction, pool: PgPool, args: IArguments, ctx: InstrumentationContext<PgSettings>, outcome: Outcome): unknown {
  const caller = agentContext.active();
  const callback = args[0];
  const callbackGiven = typeof callback === 'function';
  let span: Span | undefined;
  let acquisition = caller;
  let callArgs: ArrayLike<unknown> = args;
  try {
    const parent = databaseSpanParent(ctx, caller);
    if (parent !== undefined) {
      const started = ctx.tracer.startSpan(ACQUIRE_SPAN_NAME, ACQUIRE_OPTIONS, parent);
      // Unsampled, it records nothing and propagates nowhere (the query inherits the caller's
      // decision): the caller's context serves, without a context switch of its own.
      if (started.isRecording()) {
        started.setAttribute(ATTR_DB_SYSTEM_NAME, DB_SYSTEM_NAME_VALUE_POSTGRESQL);
        span = started;
        acquisition = setSpan(parent, span);
      }
    }
    if (callbackGiven) {
      const bound =
        span === undefined ? agentContext.bindCallback(caller, callback as AnyFunction) : outcome.callback(span, caller, callback as AnyFunction);
      callArgs = [bound];
    }
  } catch (error) {
    ctx.reportError(error);
    if (span !== undefined) outcome.end(span);
    return original.apply(pool, args as unknown as unknown[]);
  }

  const queue = pool._pendingQueue;
  const queued = Array.isArray(queue) ? queue.length : -1;
  // Run inside the acquisition span: a connection opened for this caller gets its span as parent.
  const result =
    span === undefined ? original.apply(pool, callArgs as unknown[]) : outcome.call(span, original, pool, callArgs, callbackGiven, acquisition);
  if (queued !== -1 && (queue as unknown[]).length > queued) {
    const item = (queue as unknown[])[(queue as unknown[]).length - 1];
    if (typeof item === 'object' && item !== null) queuedAcquisitions.set(item, acquisition);
  }
  return result;
}

/** Once a client is acquired, the acquisition span says where it connects. */
function describeClient(span: Span, client: unknown): void {
  if (typeof client === 'object' && client !== null) setConnectionAttributes(span, client as PgConnectionTarget);
}
