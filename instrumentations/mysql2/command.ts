import type { Context, Span } from '@opentelemetry/api';
import { agentContext, SpanKind } from '../../src/instrumentation/api';
import type { AnyFunction, Measurement, Outcome } from '../../src/instrumentation/outcome';
import type { InstrumentationContext } from '../../src/instrumentation/types';
import { ATTR_DB_QUERY_SUMMARY, ATTR_DB_QUERY_TEXT, ATTR_DB_STORED_PROCEDURE_NAME, ATTR_DB_SYSTEM_NAME } from '../../src/semconv';
import { databaseSpanParent, type DatabaseSettings } from '../shared/database';
import { describeStatement } from '../shared/sql-statement';
import { databaseSystem, measureMysqlCommand, serverKnown, setConnectionAttributes, type MysqlConnection } from './connection';
import { metricsOn, type DbOperationMeasurement } from '../shared/db-metric';

/**
 * A mysql2 command (Query, Execute): an EventEmitter that reports its outcome through `onResult`
 * when the caller gave a callback, else through 'end' and 'error' events (streams, listeners).
 */
export interface MysqlCommand {
  sql?: unknown;
  onResult?: unknown;
  emit: AnyFunction;
}

/** Where the caller's callback is: an argument, the command's onResult (pool.query's commands), or none. */
type CallbackSlot = 0 | 1 | 2 | 'onResult' | -1;

/**
 * One traced or untraced mysql2 operation (connection.query, connection.execute, a prepared
 * statement's execute): a CLIENT span named by the query's summary, ended by the callback the
 * caller gave or by the command's 'end' or 'error' event; either way the caller's callback and
 * the command's events run in the caller's context, as its awaits do.
 */
export function runCommand(
  original: AnyFunction,
  self: unknown,
  args: IArguments,
  connection: MysqlConnection,
  text: unknown,
  ctx: InstrumentationContext<DatabaseSettings>,
  outcome: Outcome,
): unknown {
  const caller = agentContext.active();
  let span: Span | undefined;
  let measurement: DbOperationMeasurement | undefined;
  let callArgs: ArrayLike<unknown> = args;
  let slot: CallbackSlot = -1;
  try {
    slot = callbackSlot(args);
    const parent = databaseSpanParent(ctx, caller);
    if (parent !== undefined) {
      const statement = typeof text === 'string' ? describeStatement(text, 'mysql') : undefined;
      // The duration metric is taken for sampled and unsampled commands alike, while metrics are on.
      if (metricsOn()) measurement = measureMysqlCommand(connection, statement?.summary);
      span = startSpan(connection, statement, parent, ctx);
    }
    callArgs = withCallback(args, slot, span, caller, outcome, measurement);
  } catch (error) {
    ctx.reportError(error);
    if (span !== undefined) outcome.end(span);
    return original.apply(self, args as unknown as unknown[]);
  }
  let command: unknown;
  try {
    command = original.apply(self, callArgs as unknown[]);
  } catch (error) {
    // mysql2 throws synchronously for bad bind parameters.
    if (span !== undefined) outcome.fail(span, error, measurement);
    throw error;
  }
  // Without a callback the command reports through events (a Query's `then` throws: it is no promise).
  if (slot === -1 && isCommand(command)) observeEvents(command, caller, span, outcome, measurement);
  return command;
}

function startSpan(
  connection: MysqlConnection,
  statement: ReturnType<typeof describeStatement> | undefined,
  parent: Context,
  ctx: InstrumentationContext<DatabaseSettings>,
): Span {
  const span = ctx.tracer.startSpan(statement?.summary ?? databaseSystem(connection), { kind: SpanKind.CLIENT }, parent);
  if (span.isRecording()) {
    setConnectionAttributes(span, connection);
    if (statement?.text !== undefined) span.setAttribute(ATTR_DB_QUERY_TEXT, statement.text);
    if (statement?.summary !== undefined) span.setAttribute(ATTR_DB_QUERY_SUMMARY, statement.summary);
    if (statement?.procedure !== undefined) span.setAttribute(ATTR_DB_STORED_PROCEDURE_NAME, statement.procedure);
  }
  if (!serverKnown(connection)) nameSystemOnGreeting(connection, span);
  return span;
}

export function isCommand(value: unknown): value is MysqlCommand {
  return typeof value === 'object' && value !== null && typeof (value as MysqlCommand).emit === 'function';
}

/**
 * mysql2's own precedence: (sql, values, cb), (sql, cb), (options, [values,] cb), a prepared
 * statement's (values, cb) and (cb), or a command made earlier (pool.query makes one, then hands
 * it to the connection it got) carrying its callback as onResult.
 */
function callbackSlot(args: ArrayLike<unknown>): CallbackSlot {
  if (typeof args[0] === 'function') return 0;
  if (typeof args[1] === 'function') return 1;
  if (typeof args[2] === 'function') return 2;
  const first = args[0];
  if (isCommand(first) && typeof first.onResult === 'function') return 'onResult';
  return -1;
}

function withCallback(
  args: IArguments,
  slot: CallbackSlot,
  span: Span | undefined,
  caller: Context,
  outcome: Outcome,
  measurement: Measurement | undefined,
): ArrayLike<unknown> {
  if (slot === -1) return args;
  if (slot === 'onResult') {
    const command = args[0] as MysqlCommand;
    command.onResult = resultCallback(command.onResult as AnyFunction, span, caller, outcome, measurement);
    return args;
  }
  const copy = Array.prototype.slice.call(args) as unknown[];
  copy[slot] = resultCallback(copy[slot] as AnyFunction, span, caller, outcome, measurement);
  return copy;
}

function resultCallback(
  callback: AnyFunction,
  span: Span | undefined,
  caller: Context,
  outcome: Outcome,
  measurement: Measurement | undefined,
): AnyFunction {
  return span === undefined ? agentContext.bindCallback(caller, callback) : outcome.callback(span, caller, callback, measurement);
}

/**
 * Ends the span on the command's 'end' or 'error' event and delivers every event (rows, fields,
 * a stream's data) in the caller's context. The emit of this one command is replaced: listening
 * for 'error' instead would change what an unhandled error does.
 */
function observeEvents(command: MysqlCommand, caller: Context, span: Span | undefined, outcome: Outcome, measurement: Measurement | undefined): void {
  const emit = command.emit;
  command.emit = function (this: unknown, event: unknown) {
    if (span !== undefined) {
      if (event === 'error') outcome.fail(span, arguments[1], measurement);
      else if (event === 'end') outcome.end(span, undefined, undefined, measurement);
    }
    return agentContext.apply(caller, emit, this, arguments);
  };
}

/** Spans of queries sent before the server's greeting, by connection, until it arrives. */
const awaitingGreeting = new WeakMap<object, Span[]>();

/**
 * A query can be sent before the server has greeted (mysql2 queues it behind the handshake): its
 * span learns whether the server is MariaDB once the greeting arrives, through one 'connect'
 * listener per connection whatever the number of queries waiting.
 */
function nameSystemOnGreeting(connection: MysqlConnection, span: Span): void {
  const emitter = connection as MysqlConnection & { once?: (event: string, listener: () => void) => unknown };
  if (typeof emitter.once !== 'function') return;
  const waiting = awaitingGreeting.get(connection);
  if (waiting !== undefined) {
    waiting.push(span);
    return;
  }
  awaitingGreeting.set(connection, [span]);
  emitter.once('connect', () => {
    const system = databaseSystem(connection);
    for (const pending of awaitingGreeting.get(connection) ?? []) pending.setAttribute(ATTR_DB_SYSTEM_NAME, system);
    awaitingGreeting.delete(connection);
  });
}
