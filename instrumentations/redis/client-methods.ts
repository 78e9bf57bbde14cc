import type { Span } from '@opentelemetry/api';
import { databaseSpanParent, type DatabaseSettings } from '../shared/database';
import {
  describeCommand,
  describeRedisFailure,
  recordWatchConflict,
  redisOutcome,
  setBatchCommands,
  startConnectSpan,
  startTransactionSpan,
} from '../shared/redis-command';
import type { InstrumentationContext, ModulePatch } from '../../src/instrumentation/types';
import { wrap, type WrapperOwner } from '../../src/instrumentation/wrap';
import { Outcome, type AnyFunction } from '../../src/instrumentation/outcome';
import { clientTarget, type NodeRedisClient, type RedisArgs } from './client';
import { armQueue, disarmQueue } from './queue-spans';
import { watchReconnections } from './reconnect';

/**
 * @redis/client before 5.12: the client methods through which an application's commands reach
 * the command queue arm it (queue-spans.ts); a MULTI is one span made here, its commands listed;
 * connect() is a `connect` span, and hands the client to the socket for reconnection spans.
 */
type Method = (this: NodeRedisClient, ...args: unknown[]) => unknown;
type ClientPrototype = Record<string, Method>;

interface ClientModule {
  readonly default?: { readonly prototype: ClientPrototype };
}

function clientPrototype(exports: ClientModule, methods: readonly string[]): ClientPrototype {
  const prototype = exports.default?.prototype;
  for (const method of methods) {
    if (typeof prototype?.[method] !== 'function') throw new Error(`no RedisClient#${method}`);
  }
  return prototype!;
}

/** Wraps methods whose synchronous part queues the application's commands. */
function armingQueue(prototype: ClientPrototype, method: string, ctx: WrapperOwner): void {
  wrap(
    ctx,
    prototype,
    method,
    (original: Method) =>
      function (this: NodeRedisClient) {
        const outer = armQueue(this);
        try {
          return original.apply(this, arguments as unknown as unknown[]);
        } finally {
          disarmQueue(outer);
        }
      },
  );
}

/**
 * A MULTI: `commands` are the queued `{ args }`; the span ends through `outcome` when the
 * transaction's promise settles (the caller gets a promise chained to it): failed when it
 * rejects, and (redis 4, whose EXEC can resolve with nil) marked a WATCH conflict by the
 * outcome's success hook.
 */
function tracedTransaction(
  original: Method,
  client: NodeRedisClient,
  args: IArguments,
  commands: readonly { args: RedisArgs }[],
  outcome: Outcome,
  ctx: InstrumentationContext<DatabaseSettings>,
): unknown {
  let span: Span | undefined;
  try {
    const parent = databaseSpanParent(ctx);
    if (parent !== undefined) {
      span = startTransactionSpan(ctx.tracer, parent, clientTarget(client));
      setBatchCommands(span, Array.isArray(commands) ? commands.map(({ args }) => describeCommand(args[0], args, 1)) : []);
    }
  } catch (error) {
    ctx.reportError(error);
  }
  if (span === undefined) return original.apply(client, args as unknown as unknown[]);
  return outcome.call(span, original as AnyFunction, client, args, false);
}

/**
 * connect(): a `connect` span until the client is ready (the caller gets a promise chained to
 * connect's), and reconnection spans from then on.
 */
function tracingConnect(prototype: ClientPrototype, ctx: InstrumentationContext<DatabaseSettings>): void {
  const outcome = redisOutcome(ctx);
  wrap(
    ctx,
    prototype,
    'connect',
    (original: Method) =>
      function connect(this: NodeRedisClient) {
        let span: Span | undefined;
        let target;
        try {
          target = clientTarget(this);
          const parent = databaseSpanParent(ctx);
          if (parent !== undefined) span = startConnectSpan(ctx.tracer, parent, target);
        } catch (error) {
          ctx.reportError(error);
        }
        return watchReconnections(target, () =>
          span === undefined
            ? original.apply(this, arguments as unknown as unknown[])
            : outcome.call(span, original as AnyFunction, this, arguments, false),
        );
      },
  );
}

/** redis 4 (@redis/client 1.x). */
export const clientMethodsPatchV1: ModulePatch = {
  module: '@redis/client',
  file: 'dist/lib/client/index.js',
  versions: '>=1.0.0 <2',
  patch(exports: ClientModule, ctx: InstrumentationContext<DatabaseSettings>) {
    const methods = ['commandsExecutor', 'sendCommand', 'SELECT', 'executeScript', 'executeFunction'];
    const prototype = clientPrototype(exports, [...methods, 'multiExecutor', 'connect']);
    for (const method of methods) armingQueue(prototype, method, ctx);
    // It resolves with every reply, EXEC's last; the caller turns a nil EXEC into a WatchError.
    const transactionOutcome = new Outcome(ctx, describeRedisFailure, recordNilExec);
    // multiExecutor(commands, selectedDB, chainId): with a chainId a MULTI, otherwise a pipeline.
    wrap(
      ctx,
      prototype,
      'multiExecutor',
      (original: Method) =>
        function multiExecutor(this: NodeRedisClient, commands: readonly { args: RedisArgs }[], _selectedDB: unknown, chainId: unknown) {
          if (chainId !== undefined) return tracedTransaction(original, this, arguments, commands, transactionOutcome, ctx);
          const outer = armQueue(this);
          try {
            return original.apply(this, arguments as unknown as unknown[]);
          } finally {
            disarmQueue(outer);
          }
        },
    );
    tracingConnect(prototype, ctx);
  },
};

type Executor = (this: NodeRedisClient, ...args: unknown[]) => unknown;

/**
 * redis 4 (@redis/client 1.x) attaches every command method at load time, each calling the
 * executor it was given (the client's commandsExecutor, taken before any patch could wrap it):
 * attachCommands is wrapped so the executors it attaches arm the queue too. (Those of multi and
 * cluster objects arm it with no command queued synchronously, which is harmless.)
 */
export const attachCommandsPatchV1: ModulePatch = {
  module: '@redis/client',
  file: 'dist/lib/commander.js',
  versions: '>=1.0.0 <2',
  patch(exports: { attachCommands?: Method }, ctx) {
    if (typeof exports.attachCommands !== 'function') throw new Error('no attachCommands');
    wrap(
      ctx,
      exports as { attachCommands: Function },
      'attachCommands',
      (original: Function) =>
        function attachCommands(this: unknown, options: { executor?: Executor }) {
          const executor = options?.executor;
          if (typeof executor !== 'function') return original.apply(this, arguments as unknown as unknown[]);
          return original.call(this, { ...options, executor: armingExecutor(executor) });
        },
    );
  },
};

function armingExecutor(executor: Executor): Executor {
  return function (this: NodeRedisClient) {
    const outer = armQueue(this);
    try {
      return executor.apply(this, arguments as unknown as unknown[]);
    } finally {
      disarmQueue(outer);
    }
  };
}

/** redis 5 before 5.12 (@redis/client 5.0 to 5.11). */
export const clientMethodsPatchV5: ModulePatch = {
  module: '@redis/client',
  file: 'dist/lib/client/index.js',
  versions: '>=5.0.0 <5.12.0',
  patch(exports: ClientModule, ctx: InstrumentationContext<DatabaseSettings>) {
    const prototype = clientPrototype(exports, ['sendCommand', '_executePipeline', '_executeMulti', 'connect']);
    armingQueue(prototype, 'sendCommand', ctx);
    armingQueue(prototype, '_executePipeline', ctx);
    // _executeMulti(commands, selectedDB) resolves with EXEC's replies and throws WatchError itself.
    const transactionOutcome = redisOutcome(ctx);
    wrap(
      ctx,
      prototype,
      '_executeMulti',
      (original: Method) =>
        function _executeMulti(this: NodeRedisClient, commands: readonly { args: RedisArgs }[]) {
          return tracedTransaction(original, this, arguments, commands, transactionOutcome, ctx);
        },
    );
    tracingConnect(prototype, ctx);
  },
};

/** redis 4's multiExecutor resolves with every reply: a nil last one (EXEC's) is a WATCH conflict. */
function recordNilExec(span: Span, replies: unknown): void {
  if (Array.isArray(replies) && replies.length > 0 && replies[replies.length - 1] === null) recordWatchConflict(span);
}
