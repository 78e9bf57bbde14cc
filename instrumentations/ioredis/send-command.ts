import type { Context, Span } from '@opentelemetry/api';
import { agentContext } from '../../src/instrumentation/api';
import { databaseSpanParent, type DatabaseSettings } from '../shared/database';
import { redisOperationName, redisOutcome, startCommandSpan } from '../shared/redis-command';
import type { InstrumentationContext, ModulePatch } from '../../src/instrumentation/types';
import type { Outcome } from '../../src/instrumentation/outcome';
import { wrap } from '../../src/instrumentation/wrap';
import { clientTarget, isCommand, isConnectionSetup, type IoredisClient, type IoredisCommand } from './client';
import { joinOpenTransaction } from './transaction';
import { measureRedisCommand, metricsOn } from '../shared/db-metric';
import type { Measurement } from '../../src/instrumentation/outcome';

/**
 * Redis#sendCommand: every command of an ioredis client passes through it, first from the caller
 * (the command methods, pipelines, transactions), again when the offline queue is flushed after
 * connecting and when commands are resent after a reconnect.
 */
type SendCommand = (this: IoredisClient, command: unknown, ...rest: unknown[]) => unknown;

/** built/Redis.js, the file that defines the client class (its default export). */
interface RedisFile {
  readonly default?: { readonly prototype?: { sendCommand?: SendCommand } };
}

function prototypeOf(exports: RedisFile | undefined): { sendCommand: SendCommand } {
  const prototype = exports?.default?.prototype;
  if (typeof prototype?.sendCommand !== 'function') throw new Error('ioredis built/Redis.js exports no Redis class with sendCommand');
  return prototype as { sendCommand: SendCommand };
}

// --- ioredis 5.11+: publishes ioredis:command; this only supplies what the message lacks ---

let sendingClient: IoredisClient | undefined;
let sendingCommand: IoredisCommand | undefined;

/** Where and when the caller sent a command that ioredis will publish later, from its offline queue. */
interface Origin {
  readonly context: Context;
  readonly startTime: number;
}
const origins = new WeakMap<IoredisCommand, Origin>();

/**
 * The command sendCommand is sending right now, if it is the one `ioredis:command` is publishing
 * (named `name`): ioredis publishes from within sendCommand, with the command's arguments already
 * redacted by its own rules, and without the command or the client.
 */
export function commandBeingSent(name: string): IoredisCommand | undefined {
  return sendingCommand?.name === name ? sendingCommand : undefined;
}

/** The client of commandBeingSent(). */
export function clientBeingSent(): IoredisClient | undefined {
  return sendingClient;
}

/** The caller's context and start time of a command ioredis held in its offline queue (then forgotten). */
export function takeOrigin(command: IoredisCommand): Origin | undefined {
  const origin = origins.get(command);
  if (origin !== undefined) origins.delete(command);
  return origin;
}

/**
 * ioredis 5.11+ publishes a command only once it writes it: one sent while the client is not
 * ready waits in the offline queue and is published when the queue is flushed, in the
 * connection's context. Its caller's context and the time it was sent are kept for then. A
 * command sent while a transaction is open is listed in the transaction instead.
 */
export const sendCommandOriginPatch: ModulePatch = {
  module: 'ioredis',
  file: 'built/Redis.js',
  versions: '>=5.11.0 <7',
  patch(exports: RedisFile, ctx: InstrumentationContext<DatabaseSettings>) {
    wrap(
      ctx,
      prototypeOf(exports),
      'sendCommand',
      (original: SendCommand) =>
        function sendCommand(this: IoredisClient, command: unknown) {
          if (!isCommand(command)) return original.apply(this, arguments as unknown as [unknown]);
          const outerClient = sendingClient;
          const outerCommand = sendingCommand;
          sendingClient = this;
          sendingCommand = command;
          if (command.isTraced === false) {
            try {
              if (!joinOpenTransaction(command) && this.status !== 'ready' && !origins.has(command)) {
                origins.set(command, { context: agentContext.active(), startTime: performance.now() });
              }
            } catch (error) {
              ctx.reportError(error);
            }
          }
          try {
            return original.apply(this, arguments as unknown as [unknown]);
          } finally {
            sendingClient = outerClient;
            sendingCommand = outerCommand;
          }
        },
    );
  },
};

// --- ioredis before 5.11: no channels; the span starts here and ends with the command ---

const kSeen = Symbol('tracelet.ioredis.seen');
type Seen = IoredisCommand & { [kSeen]?: true };

/**
 * The span starts the first time sendCommand sees a command, in its caller's context (also for a
 * command that then waits in the offline queue), and ends when ioredis settles it: its resolve
 * and reject are wrapped rather than its promise observed, so a rejection nobody handles stays
 * unhandled, exactly as without the agent.
 */
export const sendCommandSpanPatch: ModulePatch = {
  module: 'ioredis',
  file: 'built/Redis.js',
  versions: '>=5.0.0 <5.11.0',
  patch(exports: RedisFile, ctx: InstrumentationContext<DatabaseSettings>) {
    const outcome = redisOutcome(ctx);
    wrap(
      ctx,
      prototypeOf(exports),
      'sendCommand',
      (original: SendCommand) =>
        function sendCommand(this: IoredisClient, command: unknown) {
          if (isCommand(command) && (command as Seen)[kSeen] !== true) {
            (command as Seen)[kSeen] = true;
            try {
              traceCommand(this, command, ctx, outcome);
            } catch (error) {
              ctx.reportError(error);
            }
          }
          return original.apply(this, arguments as unknown as [unknown]);
        },
    );
  },
};

function traceCommand(client: IoredisClient, command: IoredisCommand, ctx: InstrumentationContext<DatabaseSettings>, outcome: Outcome): void {
  if (joinOpenTransaction(command) || isConnectionSetup(client, command)) return;
  const parent = databaseSpanParent(ctx);
  if (parent === undefined) return;
  const operation = redisOperationName(command.name);
  const target = clientTarget(client);
  // The duration metric is taken for sampled and unsampled commands alike, while metrics are on.
  const measurement = metricsOn() ? measureRedisCommand(operation, target) : undefined;
  const span = startCommandSpan(ctx.tracer, parent, operation, command.args, target);
  endWithCommand(command as MutableCommand, span, outcome, measurement);
}

type MutableCommand = { -readonly [K in keyof IoredisCommand]: IoredisCommand[K] };

function endWithCommand(command: MutableCommand, span: Span, outcome: Outcome, measurement: Measurement | undefined): void {
  const { resolve, reject } = command;
  command.resolve = function (this: unknown) {
    command.resolve = resolve;
    command.reject = reject;
    outcome.end(span, undefined, undefined, measurement);
    return resolve.apply(this, arguments as unknown as [unknown]);
  };
  command.reject = function (this: unknown, error: unknown) {
    command.resolve = resolve;
    command.reject = reject;
    outcome.fail(span, error, measurement);
    return reject.apply(this, arguments as unknown as [unknown]);
  };
}
