import type { Span } from '@opentelemetry/api';
import { databaseSpanParent, type DatabaseSettings } from '../shared/database';
import { redisOperationName, redisOutcome, startCommandSpan } from '../shared/redis-command';
import type { AnyFunction } from '../../src/instrumentation/outcome';
import type { InstrumentationContext, ModulePatch } from '../../src/instrumentation/types';
import { wrap } from '../../src/instrumentation/wrap';
import { clientTarget, type NodeRedisClient, type RedisArgs } from './client';
import { measureRedisCommand, metricsOn, type DbOperationMeasurement } from '../shared/db-metric';

/**
 * @redis/client before 5.12 publishes nothing. Every command an application sends reaches the
 * client's command queue (RedisCommandsQueue#addCommand) synchronously from one of the client's
 * methods, which return the queue's promise or await it; but so do the commands the client sends
 * on its own (the handshake, MULTI's commands). So the application-facing methods (see
 * client-methods.ts) arm the queue for the duration of their synchronous part, and the queue gives
 * every command it receives while armed a span: one for a single command, one per command for a
 * pipeline.
 */
let armedBy: NodeRedisClient | undefined;

/**
 * Arms the queue for `client` until disarm(returned value): the commands queued meanwhile get
 * spans, in their caller's context. Meant for a try/finally around a client method's call.
 */
export function armQueue(client: NodeRedisClient): NodeRedisClient | undefined {
  const outer = armedBy;
  armedBy = client;
  return outer;
}

export function disarmQueue(outer: NodeRedisClient | undefined): void {
  armedBy = outer;
}

type AddCommand = (this: unknown, args: RedisArgs, ...rest: unknown[]) => Promise<unknown>;

/**
 * The span ends when the queue's promise settles (or when addCommand throws). The client gets a
 * promise chained to it that settles the same way (as Node's tracePromise does), so a rejection
 * the application leaves unhandled stays unhandled.
 */
export const queueSpansPatch: ModulePatch = {
  module: '@redis/client',
  file: 'dist/lib/client/commands-queue.js',
  versions: '>=1.0.0 <2 || >=5.0.0 <5.12.0',
  patch(exports: { default?: { prototype: { addCommand: AddCommand } } }, ctx: InstrumentationContext<DatabaseSettings>) {
    const prototype = exports.default?.prototype;
    if (typeof prototype?.addCommand !== 'function') throw new Error('no RedisCommandsQueue#addCommand');
    const outcome = redisOutcome(ctx);
    wrap(
      ctx,
      prototype,
      'addCommand',
      (original: AddCommand) =>
        function addCommand(this: unknown, args: RedisArgs) {
          const client = armedBy;
          if (client === undefined || !Array.isArray(args)) return original.apply(this, arguments as unknown as [RedisArgs]);
          let span: Span | undefined;
          let measurement: DbOperationMeasurement | undefined;
          try {
            const parent = databaseSpanParent(ctx);
            if (parent !== undefined) {
              const operation = redisOperationName(args[0]);
              const target = clientTarget(client);
              // Sampled or not, while metrics are on (an unsampled command's promise is then observed).
              if (metricsOn()) measurement = measureRedisCommand(operation, target);
              span = startCommandSpan(ctx.tracer, parent, operation, args, target, { first: 1 });
            }
          } catch (error) {
            ctx.reportError(error);
          }
          if (span === undefined) return original.apply(this, arguments as unknown as [RedisArgs]);
          return outcome.call(span, original as AnyFunction, this, arguments, false, undefined, measurement);
        },
    );
  },
};
