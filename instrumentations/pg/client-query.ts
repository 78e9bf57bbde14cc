import type { Context, Span } from '@opentelemetry/api';
import { agentContext, SpanKind } from '../../src/instrumentation/api';
import { databaseSpanParent } from '../shared/database';
import type { InstrumentationContext } from '../../src/instrumentation/types';
import { Outcome, type AnyFunction } from '../../src/instrumentation/outcome';
import { wrap } from '../../src/instrumentation/wrap';
import { ATTR_DB_QUERY_SUMMARY, ATTR_DB_QUERY_TEXT, ATTR_DB_STORED_PROCEDURE_NAME, DB_SYSTEM_NAME_VALUE_POSTGRESQL } from '../../src/semconv';
import { measurePgQuery, setConnectionAttributes, type PgConnectionTarget } from './connection';
import { metricsOn, setMeasuredTargetAttributes, type DbOperationMeasurement } from '../shared/db-metric';
import { describePgFailure } from './failure';
import { withTraceparent } from './sqlcommenter';
import { describeStatement } from '../shared/sql-statement';
import { isObserved, isSubmittable, observeSubmittable } from './submittable';
import type { PgSettings } from './index';

type Query = (this: PgConnectionTarget, config?: unknown, values?: unknown, callback?: unknown) => unknown;

/**
 * Client.prototype.query, in every form pg accepts: (text | config [, values] [, callback]) and
 * (submittable [, callback]). Each call gets a CLIENT span, child of the active span, ended when
 * the query completes or fails.
 */
export function patchQuery(prototype: { query: Query }, ctx: InstrumentationContext<PgSettings>): void {
  const outcome = new Outcome(ctx, describePgFailure);
  wrap(
    ctx,
    prototype,
    'query',
    (original: Query) =>
      function query(this: PgConnectionTarget) {
        const caller = agentContext.active();
        const parent = databaseSpanParent(ctx, caller);
        if (parent === undefined) return untracedQuery(original as AnyFunction, this, arguments, caller, ctx);
        return tracedQuery(original as AnyFunction, this, arguments, parent, caller, ctx, outcome);
      },
  );
}

/**
 * No span, but the query's callback (or a Submittable's rows and outcome) still reaches the
 * caller in the caller's context, not in that of whoever opened the connection.
 */
function untracedQuery(original: AnyFunction, client: unknown, args: IArguments, caller: Context, ctx: InstrumentationContext<PgSettings>): unknown {
  let callArgs: ArrayLike<unknown> = args;
  try {
    const config = args[0];
    if (isSubmittable(config)) {
      if (!isObserved(config)) observeSubmittable(config, caller, undefined, undefined);
    } else if (config !== null && config !== undefined) {
      const slot = callbackSlot(args);
      if (slot !== -1) callArgs = withArgument(args, slot, agentContext.bindCallback(caller, callbackAt(args, slot)));
    }
  } catch (error) {
    ctx.reportError(error);
    callArgs = args;
  }
  return original.apply(client, callArgs as unknown[]);
}

function tracedQuery(
  original: AnyFunction,
  client: PgConnectionTarget,
  args: IArguments,
  parent: Context,
  caller: Context,
  ctx: InstrumentationContext<PgSettings>,
  outcome: Outcome,
): unknown {
  const config = args[0];
  // pg throws its own TypeError for a missing query; a Submittable submitted twice gets one span.
  if (config === null || config === undefined || (isSubmittable(config) && isObserved(config))) {
    return original.apply(client, args as unknown as unknown[]);
  }
  let span: Span | undefined;
  let measurement: DbOperationMeasurement | undefined;
  let callArgs: ArrayLike<unknown> = args;
  let callbackGiven = true;
  try {
    const { text, name } = identify(config);
    const statement = typeof text === 'string' ? describeStatement(text) : undefined;
    // A prepared statement executed by name alone is summarized by its name.
    const summary = statement?.summary ?? name;
    // The duration metric is taken for sampled and unsampled queries alike, while metrics are on.
    if (metricsOn()) measurement = measurePgQuery(client, summary);
    span = ctx.tracer.startSpan(summary ?? DB_SYSTEM_NAME_VALUE_POSTGRESQL, { kind: SpanKind.CLIENT }, parent);
    // The attributes are built for a span that records them only (the samplers read none).
    if (span.isRecording()) {
      if (measurement === undefined) setConnectionAttributes(span, client);
      else setMeasuredTargetAttributes(span, measurement);
      if (statement?.text !== undefined) span.setAttribute(ATTR_DB_QUERY_TEXT, statement.text);
      if (summary !== undefined) span.setAttribute(ATTR_DB_QUERY_SUMMARY, summary);
      if (statement?.procedure !== undefined) span.setAttribute(ATTR_DB_STORED_PROCEDURE_NAME, statement.procedure);
    }

    if (isSubmittable(config)) {
      observeSubmittable(config, caller, span, outcome, measurement);
    } else {
      const slot = callbackSlot(args);
      if (slot === -1) callbackGiven = false;
      else callArgs = withArgument(args, slot, outcome.callback(span, caller, callbackAt(args, slot), measurement));
      // pg requires a named statement's text to stay the same: those are sent as they are.
      if (ctx.settings.sqlCommenter && typeof text === 'string' && name === undefined) {
        const commented = withTraceparent(text, span.spanContext());
        if (commented !== undefined) callArgs = withArgument(callArgs, 'text', commented);
      }
    }
  } catch (error) {
    ctx.reportError(error);
    if (span !== undefined) outcome.end(span);
    return original.apply(client, args as unknown as unknown[]);
  }
  return outcome.call(span, original, client, callArgs, callbackGiven, undefined, measurement);
}

/** The query's text and statement name, as pg will read them. */
function identify(config: unknown): { text: unknown; name: string | undefined } {
  if (typeof config === 'string') return { text: config, name: undefined };
  const query = config as { text?: unknown; name?: unknown; cursor?: { text?: unknown } };
  // pg-query-stream keeps its text on the pg-cursor it wraps.
  const text = query.text ?? query.cursor?.text;
  return { text, name: typeof query.name === 'string' && query.name !== '' ? query.name : undefined };
}

/**
 * Where pg takes the callback from, by its own precedence: a third argument, else a function as
 * second argument, else the config object's `callback`; -1 for the promise form. A third
 * argument that is no function makes pg throw, so it is left to pg.
 */
type CallbackSlot = 0 | 1 | 2 | -1;

function callbackSlot(args: ArrayLike<unknown>): CallbackSlot {
  if (args[2]) return typeof args[2] === 'function' ? 2 : -1;
  if (typeof args[1] === 'function') return 1;
  const config = args[0];
  if (typeof config === 'object' && config !== null && typeof (config as { callback?: unknown }).callback === 'function') return 0;
  return -1;
}

function callbackAt(args: ArrayLike<unknown>, slot: CallbackSlot): AnyFunction {
  return (slot === 0 ? (args[0] as { callback: unknown }).callback : args[slot]) as AnyFunction;
}

/**
 * A copy of the arguments with a callback, or the query text, replaced. Slot 0 and 'text' change
 * the config: the caller's object is copied, never changed (pg copies it the same way).
 */
function withArgument(args: ArrayLike<unknown>, slot: CallbackSlot | 'text', value: unknown): unknown[] {
  const copy = Array.prototype.slice.call(args) as unknown[];
  if (slot === 'text') {
    copy[0] = typeof copy[0] === 'string' ? value : copyConfig(copy[0] as object, 'text', value);
  } else if (slot === 0) {
    copy[0] = copyConfig(copy[0] as object, 'callback', value);
  } else {
    copy[slot] = value;
  }
  return copy;
}

function copyConfig(config: object, key: string, value: unknown): object {
  const copy = Object.defineProperties(Object.create(Object.getPrototypeOf(config)), Object.getOwnPropertyDescriptors(config)) as object;
  Object.defineProperty(copy, key, { value, writable: true, enumerable: true, configurable: true });
  return copy;
}
