import type { Span } from '@opentelemetry/api';
import { databaseSpanParent, type DatabaseSettings } from '../shared/database';
import { redisOutcome, startConnectSpan, type RedisTarget } from '../shared/redis-command';
import type { InstrumentationContext, ModulePatch } from '../../src/instrumentation/types';
import type { Outcome } from '../../src/instrumentation/outcome';
import { wrap } from '../../src/instrumentation/wrap';

/**
 * @redis/client before 5.12: a `connect` span per reconnection attempt. The client's socket
 * (RedisSocket, an EventEmitter the client alone listens to) reconnects by itself: it emits
 * `reconnecting` just before an attempt, then `ready` when it succeeded or `error` when it failed,
 * and `end` once closed. Its events run in the context the connection was made in, which is the
 * parent of these spans. The attempts connect() itself retries belong to its own span.
 */
let connectingTarget: RedisTarget | undefined;

/** Runs the client's connect(): the socket it connects is then watched for reconnections to `target`. */
export function watchReconnections<T>(target: RedisTarget | undefined, connect: () => T): T {
  const outer = connectingTarget;
  connectingTarget = target;
  try {
    return connect();
  } finally {
    connectingTarget = outer;
  }
}

interface Reconnections {
  /** True while connect() runs. */
  connecting: boolean;
  attempt: Span | undefined;
}

interface RedisSocket {
  on(event: string, listener: (error?: unknown) => void): unknown;
  [kReconnections]?: Reconnections;
}

const kReconnections = Symbol('tracelet.redis.reconnections');

type Connect = (this: RedisSocket, ...args: unknown[]) => unknown;

/** The socket's event ended the attempt: failed with `error`, else succeeded (or closed). */
function endAttempt(state: Reconnections, outcome: Outcome, error?: unknown): void {
  const span = state.attempt;
  if (span === undefined) return;
  state.attempt = undefined;
  outcome.end(span, error);
}

function watch(socket: RedisSocket, target: RedisTarget, ctx: InstrumentationContext<DatabaseSettings>, outcome: Outcome): Reconnections {
  const state: Reconnections = { connecting: true, attempt: undefined };
  socket[kReconnections] = state;
  socket.on('reconnecting', () => {
    try {
      if (state.connecting || state.attempt !== undefined) return;
      const parent = databaseSpanParent(ctx);
      if (parent !== undefined) state.attempt = startConnectSpan(ctx.tracer, parent, target);
    } catch (error) {
      ctx.reportError(error);
    }
  });
  socket.on('ready', () => endAttempt(state, outcome));
  socket.on('error', (error: unknown) => endAttempt(state, outcome, error ?? new Error('connection failed')));
  socket.on('end', () => endAttempt(state, outcome));
  return state;
}

export const reconnectPatch: ModulePatch = {
  module: '@redis/client',
  file: 'dist/lib/client/socket.js',
  versions: '>=1.0.0 <2 || >=5.0.0 <5.12.0',
  patch(exports: { default?: { prototype: { connect: Connect } } }, ctx: InstrumentationContext<DatabaseSettings>) {
    const prototype = exports.default?.prototype;
    if (typeof prototype?.connect !== 'function') throw new Error('no RedisSocket#connect');
    const outcome = redisOutcome(ctx);
    wrap(
      ctx,
      prototype,
      'connect',
      (original: Connect) =>
        function connect(this: RedisSocket) {
          const target = connectingTarget;
          const connected = original.apply(this, arguments as unknown as unknown[]);
          if (target === undefined || !(connected instanceof Promise)) return connected;
          try {
            const state = this[kReconnections] ?? watch(this, target, ctx, outcome);
            state.connecting = true;
            // The client awaits this promise itself; this only notes that connect() is over (no
            // span ends here, and `done` cannot throw, so the promise it makes never rejects).
            const done = () => {
              state.connecting = false;
            };
            void connected.then(done, done);
          } catch (error) {
            ctx.reportError(error);
          }
          return connected;
        },
    );
  },
};
