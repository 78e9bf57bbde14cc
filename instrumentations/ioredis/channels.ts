import type { Span } from '@opentelemetry/api';
import { agentContext } from '../../src/instrumentation/api';
import { databaseSpanParent, type DatabaseSettings } from '../shared/database';
import {
  describeRedisFailure,
  recordNilExecReply,
  redisOperationName,
  redisOutcome,
  startCommandSpan,
  startConnectSpan,
  startTransactionSpan,
  type RedisTarget,
} from '../shared/redis-command';
import type { InstrumentationContext, TracingChannelSubscription } from '../../src/instrumentation/types';
import { outcomeOf, type Outcome } from '../../src/instrumentation/outcome';
import { isOutlined } from '../../src/instrumentation/kept-requests';
import { SymbolSlot } from '../../src/instrumentation/symbol-slot';
import { clientTarget, isConnectionSetup } from './client';
import { clientBeingSent, commandBeingSent, takeOrigin } from './send-command';
import { closeTransaction, isInTransaction, openTransaction, type Transaction } from './transaction';
import { measureRedisCommand, metricsOn, type DbOperationMeasurement } from '../shared/db-metric';

/**
 * ioredis 5.11+ publishes TracingChannels around its promises (`tracePromise`): start (in the
 * caller's context, when the command is written), end (synchronously after), then error and
 * asyncStart/asyncEnd when the promise settles. A synchronous throw gives error then end, and no
 * async events.
 */
interface TracedMessage {
  readonly serverAddress?: string;
  readonly serverPort?: number;
  readonly database?: number;
  readonly error?: unknown;
  readonly result?: unknown;
}

interface CommandMessage extends TracedMessage {
  /** As the application named it, e.g. `get`. */
  readonly command: string;
  /** Redacted by ioredis's own rules (which keep some values): only a fallback here. */
  readonly args: readonly unknown[];
}

const spans = new SymbolSlot<Span>('tracelet.ioredis.span');
/** A command's duration metric, sampled or not, while metrics are on. */
const measurements = new SymbolSlot<DbOperationMeasurement>('tracelet.ioredis.measurement');
const transactions = new SymbolSlot<Transaction>('tracelet.ioredis.transaction');

function messageTarget(message: TracedMessage): RedisTarget {
  return { serverAddress: message.serverAddress, serverPort: message.serverPort, database: message.database };
}

function onCommandStart(message: CommandMessage, ctx: InstrumentationContext<DatabaseSettings>): void {
  const command = commandBeingSent(message.command);
  const client = command === undefined ? undefined : clientBeingSent();
  if (command !== undefined && client !== undefined) {
    // MULTI's commands are listed in its span; the connection's own setup commands belong to it.
    if (isInTransaction(command) || isConnectionSetup(client, command)) return;
  }
  const origin = command === undefined ? undefined : takeOrigin(command);
  const parent = databaseSpanParent(ctx, origin?.context ?? agentContext.active());
  if (parent === undefined) return;
  const operation = redisOperationName(message.command);
  const known = command !== undefined && client !== undefined;
  const target = known ? clientTarget(client) : messageTarget(message);
  // The duration metric is taken for sampled and unsampled commands alike, while metrics are on.
  if (metricsOn()) measurements.set(message, measureRedisCommand(operation, target, origin?.startTime));
  const span = known
    ? startCommandSpan(ctx.tracer, parent, operation, command.args, target, { startTime: origin?.startTime })
    : startCommandSpan(ctx.tracer, parent, operation, message.args ?? [], target);
  // Unsampled: nothing to end, unless a keep rule may still record it (its end is then noted).
  if (span.isRecording() || isOutlined(span)) spans.set(message, span);
}

/** `end` follows a synchronous throw; otherwise the span waits for asyncEnd. */
function onEnd(message: TracedMessage, ctx: InstrumentationContext<DatabaseSettings>): void {
  if ('error' in message) endSpanOf(message, ctx);
}

/** The TracingChannel has put the failure, if any, on the message. */
function endSpanOf(message: TracedMessage, ctx: InstrumentationContext<DatabaseSettings>): void {
  const measurement = measurements.get(message);
  if (measurement !== undefined) measurements.delete(message);
  const span = spans.get(message);
  if (span === undefined) {
    if (measurement !== undefined) redisOutcome(ctx).measure(measurement, 'error' in message, message.error);
    return;
  }
  spans.delete(message);
  settle(redisOutcome(ctx), span, message, measurement);
}

/** An `error` property, even undefined, is a failure; otherwise `result` is what the caller got. */
function settle(outcome: Outcome, span: Span, message: TracedMessage, measurement?: DbOperationMeasurement): void {
  if ('error' in message) outcome.fail(span, message.error, measurement);
  else outcome.end(span, undefined, message.result, measurement);
}

function onTransactionStart(message: TracedMessage, ctx: InstrumentationContext<DatabaseSettings>): void {
  const parent = databaseSpanParent(ctx);
  const span = parent === undefined ? undefined : startTransactionSpan(ctx.tracer, parent, messageTarget(message));
  transactions.set(message, openTransaction(span));
}

/** exec() has sent MULTI, the commands and EXEC by now. */
function onTransactionEnd(message: TracedMessage, ctx: InstrumentationContext<DatabaseSettings>): void {
  const transaction = transactions.get(message);
  if (transaction === undefined) return;
  closeTransaction(transaction);
  if ('error' in message) onTransactionSettled(message, ctx);
}

/** The application gets EXEC's replies, or null when a WATCHed key aborted the transaction. */
function onTransactionSettled(message: TracedMessage, ctx: InstrumentationContext<DatabaseSettings>): void {
  const transaction = transactions.get(message);
  if (transaction === undefined) return;
  transactions.delete(message);
  if (transaction.span !== undefined) settle(outcomeOf(ctx, describeRedisFailure, recordNilExecReply), transaction.span, message);
}

function onConnectStart(message: TracedMessage, ctx: InstrumentationContext<DatabaseSettings>): void {
  const parent = databaseSpanParent(ctx);
  if (parent !== undefined)
    spans.set(message, startConnectSpan(ctx.tracer, parent, { serverAddress: message.serverAddress, serverPort: message.serverPort }));
}

export const ioredisTracingChannels: readonly TracingChannelSubscription[] = [
  { tracingChannel: 'ioredis:command', start: onCommandStart, end: onEnd, asyncEnd: endSpanOf },
  { tracingChannel: 'ioredis:batch', start: onTransactionStart, end: onTransactionEnd, asyncEnd: onTransactionSettled },
  { tracingChannel: 'ioredis:connect', start: onConnectStart, end: onEnd, asyncEnd: endSpanOf },
];
