import type { Span } from '@opentelemetry/api';
import { databaseSpanParent, type DatabaseSettings } from '../shared/database';
import {
  redisOperationName,
  redisOutcome,
  setBatchCommands,
  setCommandArgs,
  startCommandSpan,
  startConnectSpan,
  startTransactionSpan,
  type RedisTarget,
} from '../shared/redis-command';
import type { ChannelSubscription, InstrumentationContext, TracingChannelSubscription } from '../../src/instrumentation/types';
import { isOutlined } from '../../src/instrumentation/kept-requests';
import { SymbolSlot } from '../../src/instrumentation/symbol-slot';
import { ATTR_NETWORK_PEER_ADDRESS, ATTR_NETWORK_PEER_PORT } from '../../src/semconv';
import { closeReceiver, openReceiver, type QueuedArgsReceiver } from './queued-args';
import { measureRedisCommand, metricsOn, type DbOperationMeasurement } from '../shared/db-metric';

/**
 * @redis/client 5.12+ publishes TracingChannels around its promises (`tracePromise`): start in
 * the caller's context when the command is sent (also while disconnected: the command then waits
 * in the client's queue), end synchronously after, then error and asyncStart/asyncEnd when the
 * promise settles (a synchronous throw gives error then end, without async events).
 */
interface TracedMessage {
  readonly clientId?: string;
  readonly serverAddress?: string;
  readonly serverPort?: number;
  readonly database?: number;
  readonly error?: unknown;
}

interface CommandMessage extends TracedMessage {
  /** Upper case, e.g. `GET`. */
  readonly command: string;
  /** The command and its arguments, redacted by node-redis's own rules: only a fallback here. */
  readonly args?: readonly unknown[];
}

interface BatchMessage extends TracedMessage {
  readonly batchMode: 'MULTI' | 'PIPELINE';
  readonly batchSize?: number;
}

/** `node-redis:connection:ready`: the connected socket's peer and how long connecting took. */
interface ReadyMessage {
  readonly clientId: string;
  readonly serverAddress?: string;
  readonly serverPort?: number;
  readonly createTimeMs?: number;
}

interface ClosedMessage {
  readonly clientId: string;
  readonly reason?: string;
}

interface Operation {
  readonly span: Span;
  readonly receiver: QueuedArgsReceiver;
  /** The command's duration metric, while metrics are on. */
  readonly measurement?: DbOperationMeasurement;
}

const operations = new SymbolSlot<Operation>('tracelet.redis.operation');
/** The duration metric of an unsampled command (no span to fill in or end), while metrics are on. */
const unsampled = new SymbolSlot<DbOperationMeasurement>('tracelet.redis.measurement');
const connects = new SymbolSlot<Span>('tracelet.redis.connect');
/** The span of an unsampled command that a keep rule may still record (see DroppedSpan). */
const outlines = new SymbolSlot<Span>('tracelet.redis.outline');

/**
 * What is known of each client, by clientId: the server it was told to connect to (from
 * connect()) and its socket's peer (from its last `connection:ready`). Forgotten when the
 * application closes the client; bounded for applications that drop clients without closing them.
 */
interface ClientInfo {
  serverAddress?: string;
  serverPort?: number;
  peerAddress?: string;
  peerPort?: number;
}
const clients = new Map<string, ClientInfo>();
const MAX_CLIENTS = 1000;

function clientInfo(clientId: string): ClientInfo {
  let info = clients.get(clientId);
  if (info === undefined) {
    if (clients.size >= MAX_CLIENTS) clients.delete(clients.keys().next().value!);
    info = {};
    clients.set(clientId, info);
  }
  return info;
}

/** Clients inside connect(): their `connection:ready` is not a reconnection. */
const connecting = new Map<string, Span | undefined>();

function target(message: TracedMessage): RedisTarget {
  const client = message.clientId === undefined ? undefined : clients.get(message.clientId);
  return {
    serverAddress: message.serverAddress,
    serverPort: message.serverPort,
    database: message.database,
    peerAddress: client?.peerAddress,
    peerPort: client?.peerPort,
  };
}

function onCommandStart(message: CommandMessage, ctx: InstrumentationContext<DatabaseSettings>): void {
  const parent = databaseSpanParent(ctx);
  if (parent === undefined) return;
  const operation = redisOperationName(message.command);
  const where = target(message);
  // The duration metric is taken for sampled and unsampled commands alike, while metrics are on.
  const measurement = metricsOn() ? measureRedisCommand(operation, where) : undefined;
  // A pipeline's commands are published one by one too: each is a span, child of the caller.
  const span = startCommandSpan(ctx.tracer, parent, operation, undefined, where);
  // Unsampled: nothing to fill in or to end, only a duration to measure (metrics on), and the end
  // of an outline a keep rule may still record.
  if (!span.isRecording()) {
    if (measurement !== undefined) unsampled.set(message, measurement);
    if (isOutlined(span)) outlines.set(message, span);
    return;
  }
  operations.set(message, { span, receiver: openReceiver(span), measurement });
}

/** The traced function has queued the command by now. */
function onCommandEnd(message: CommandMessage, ctx: InstrumentationContext<DatabaseSettings>): void {
  const operation = operations.get(message);
  if (operation === undefined) {
    if ('error' in message) onSettled(message, ctx);
    return;
  }
  closeReceiver(operation.receiver);
  if (!operation.receiver.received && message.args !== undefined) {
    setCommandArgs(operation.span, redisOperationName(message.command), message.args, 1);
  }
  if ('error' in message) onSettled(message, ctx);
}

/**
 * The promise settled (asyncEnd), or the traced function threw (end after error): the
 * TracingChannel has put the failure, if any, on the message.
 */
function onSettled(message: TracedMessage, ctx: InstrumentationContext<DatabaseSettings>): void {
  const operation = operations.get(message);
  if (operation === undefined) {
    measureUnsampled(message, ctx);
    return;
  }
  operations.delete(message);
  settle(operation.span, message, ctx, operation.measurement);
}

function measureUnsampled(message: TracedMessage, ctx: InstrumentationContext<DatabaseSettings>): void {
  const measurement = unsampled.get(message);
  const outline = outlines.get(message);
  if (measurement === undefined && outline === undefined) return;
  unsampled.delete(message);
  outlines.delete(message);
  redisOutcome(ctx).measure(measurement, 'error' in message, message.error, outline);
}

function settle(span: Span, message: TracedMessage, ctx: InstrumentationContext<DatabaseSettings>, measurement?: DbOperationMeasurement): void {
  const outcome = redisOutcome(ctx);
  // An `error` property, even undefined, is a failure.
  if ('error' in message) outcome.fail(span, message.error, measurement);
  else outcome.end(span, undefined, undefined, measurement);
}

/** Only a MULTI is a span of its own: a pipeline's commands have theirs. */
function onBatchStart(message: BatchMessage, ctx: InstrumentationContext<DatabaseSettings>): void {
  if (message.batchMode !== 'MULTI') return;
  const parent = databaseSpanParent(ctx);
  if (parent === undefined) return;
  const span = startTransactionSpan(ctx.tracer, parent, target(message));
  operations.set(message, { span, receiver: openReceiver(span, []) });
}

/** _executeMulti has queued MULTI, the commands and EXEC by now. */
function onBatchEnd(message: BatchMessage, ctx: InstrumentationContext<DatabaseSettings>): void {
  const operation = operations.get(message);
  if (operation === undefined) return;
  closeReceiver(operation.receiver);
  setBatchCommands(operation.span, operation.receiver.commands ?? [], message.batchSize);
  if ('error' in message) onSettled(message, ctx);
}

function onConnectStart(message: TracedMessage, ctx: InstrumentationContext<DatabaseSettings>): void {
  const parent = databaseSpanParent(ctx);
  const span = parent === undefined ? undefined : startConnectSpan(ctx.tracer, parent, target(message));
  if (span !== undefined) connects.set(message, span);
  if (message.clientId === undefined) return;
  connecting.set(message.clientId, span);
  const client = clientInfo(message.clientId);
  client.serverAddress = message.serverAddress;
  client.serverPort = message.serverPort;
}

function onConnectEnd(message: TracedMessage, ctx: InstrumentationContext<DatabaseSettings>): void {
  if ('error' in message) onConnectSettled(message, ctx);
}

function onConnectSettled(message: TracedMessage, ctx: InstrumentationContext<DatabaseSettings>): void {
  if (message.clientId !== undefined) connecting.delete(message.clientId);
  const span = connects.get(message);
  if (span === undefined) return;
  connects.delete(message);
  settle(span, message, ctx);
}

/**
 * A client is connected: remember its peer. Outside connect() this is a reconnection (node-redis
 * publishes none on `node-redis:connect`), made a `connect` span of the successful attempt.
 */
function onReady(message: ReadyMessage, ctx: InstrumentationContext<DatabaseSettings>): void {
  const client = clientInfo(message.clientId);
  client.peerAddress = message.serverAddress;
  client.peerPort = message.serverPort;
  if (connecting.has(message.clientId)) {
    const span = connecting.get(message.clientId);
    if (span !== undefined) setPeer(span, client);
    return;
  }
  const parent = databaseSpanParent(ctx);
  if (parent === undefined) return;
  const startTime = typeof message.createTimeMs === 'number' ? performance.now() - message.createTimeMs : undefined;
  const server = { serverAddress: client.serverAddress ?? message.serverAddress, serverPort: client.serverPort ?? message.serverPort };
  const span = startConnectSpan(ctx.tracer, parent, server, startTime);
  setPeer(span, client);
  redisOutcome(ctx).end(span);
}

function setPeer(span: Span, client: ClientInfo): void {
  if (client.peerAddress === undefined || !span.isRecording()) return;
  span.setAttribute(ATTR_NETWORK_PEER_ADDRESS, client.peerAddress);
  if (client.peerPort !== undefined) span.setAttribute(ATTR_NETWORK_PEER_PORT, client.peerPort);
}

function onClosed(message: ClosedMessage): void {
  if (message.reason === 'application_close') clients.delete(message.clientId);
}

export const nodeRedisTracingChannels: readonly TracingChannelSubscription[] = [
  { tracingChannel: 'node-redis:command', start: onCommandStart, end: onCommandEnd, asyncEnd: onSettled },
  { tracingChannel: 'node-redis:batch', start: onBatchStart, end: onBatchEnd, asyncEnd: onSettled },
  { tracingChannel: 'node-redis:connect', start: onConnectStart, end: onConnectEnd, asyncEnd: onConnectSettled },
];

export const nodeRedisChannels: readonly ChannelSubscription[] = [
  { channel: 'node-redis:connection:ready', onMessage: onReady },
  { channel: 'node-redis:connection:closed', onMessage: onClosed },
];
