import type { Span } from '@opentelemetry/api';
import { databaseSpanParent, type DatabaseSettings } from '../shared/database';
import { redisOutcome, startConnectSpan } from '../shared/redis-command';
import type { InstrumentationContext, ModulePatch } from '../../src/instrumentation/types';
import type { AnyFunction } from '../../src/instrumentation/outcome';
import { wrap } from '../../src/instrumentation/wrap';
import { clientTarget, type IoredisClient } from './client';

type Connect = (this: IoredisClient, ...args: unknown[]) => Promise<unknown>;

/**
 * ioredis before 5.11: a `connect` span per Redis#connect call. ioredis calls connect itself from
 * the constructor (unless lazyConnect) and for every reconnection attempt, in the context the
 * connection was first made in. As Node's tracePromise does, the application gets a promise
 * chained to connect's, rejecting with the same error: one it leaves unhandled stays unhandled.
 */
export const connectPatch: ModulePatch = {
  module: 'ioredis',
  file: 'built/Redis.js',
  versions: '>=5.0.0 <5.11.0',
  patch(exports: { default?: { prototype?: { connect?: Connect } } }, ctx: InstrumentationContext<DatabaseSettings>) {
    const prototype = exports.default?.prototype;
    if (typeof prototype?.connect !== 'function') throw new Error('ioredis built/Redis.js exports no Redis class with connect');
    const outcome = redisOutcome(ctx);
    wrap(
      ctx,
      prototype as { connect: Connect },
      'connect',
      (original: Connect) =>
        function connect(this: IoredisClient) {
          let span: Span | undefined;
          try {
            const parent = databaseSpanParent(ctx);
            if (parent !== undefined) {
              const { serverAddress, serverPort } = clientTarget(this);
              span = startConnectSpan(ctx.tracer, parent, { serverAddress, serverPort });
            }
          } catch (error) {
            ctx.reportError(error);
          }
          if (span === undefined) return original.apply(this, arguments as unknown as unknown[]);
          return outcome.call(span, original as AnyFunction, this, arguments, false);
        },
    );
  },
};
