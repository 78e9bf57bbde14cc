import type { Span } from '@opentelemetry/api';
import { describeCommand, redisOperationName, setCommandArgs } from '../shared/redis-command';
import type { InstrumentationContext, ModulePatch } from '../../src/instrumentation/types';
import { wrap } from '../../src/instrumentation/wrap';
import type { RedisArgs } from './client';
import type { DatabaseSettings } from '../shared/database';

/**
 * @redis/client 5.12+ publishes each command with its arguments already redacted by its own rules
 * (which drop the key of HGETALL or MGET, and keep some values), and a MULTI without its commands
 * at all. The real arguments reach the client's command queue (RedisCommandsQueue#addCommand)
 * synchronously inside the traced function, between the channel's start and end: a command's own
 * arguments, or MULTI, each command and EXEC. So while a traced operation is between its start and
 * end, the queue hands it what it receives. Nothing here makes a span.
 */
export interface QueuedArgsReceiver {
  /** A command's span: its query text comes from the queued arguments. */
  readonly span?: Span;
  /** A transaction's commands, listed in its span. */
  readonly commands?: { operation: string; text: string }[];
  /** Set once the command's arguments arrived. */
  received: boolean;
  readonly outer: QueuedArgsReceiver | undefined;
}

let receiver: QueuedArgsReceiver | undefined;

/** From a channel's start: the queue's next commands belong to this operation (until closeReceiver). */
export function openReceiver(span: Span | undefined, commands?: { operation: string; text: string }[]): QueuedArgsReceiver {
  receiver = { span, commands, received: false, outer: receiver };
  return receiver;
}

/**
 * From the channel's end (synchronous, right after the traced function queued its commands).
 * Drops any receiver opened since and left open, so none can keep collecting.
 */
export function closeReceiver(closing: QueuedArgsReceiver): void {
  for (let open = receiver; open !== undefined; open = open.outer) {
    if (open === closing) {
      receiver = closing.outer;
      return;
    }
  }
}

function receive(args: RedisArgs): void {
  const current = receiver!;
  if (current.commands !== undefined) {
    const name = redisOperationName(args[0]);
    if (name !== 'MULTI' && name !== 'EXEC') current.commands.push(describeCommand(name, args, 1));
    return;
  }
  if (current.received || current.span === undefined) return;
  current.received = true;
  setCommandArgs(current.span, redisOperationName(args[0]), args, 1);
}

type AddCommand = (this: unknown, args: RedisArgs, ...rest: unknown[]) => unknown;

export const queuedArgsPatch: ModulePatch = {
  module: '@redis/client',
  file: 'dist/lib/client/commands-queue.js',
  versions: '>=5.12.0 <7',
  patch(exports: { default?: { prototype: { addCommand: AddCommand } } }, ctx: InstrumentationContext<DatabaseSettings>) {
    const prototype = exports.default?.prototype;
    if (typeof prototype?.addCommand !== 'function') throw new Error('no RedisCommandsQueue#addCommand');
    wrap(
      ctx,
      prototype,
      'addCommand',
      (original: AddCommand) =>
        function addCommand(this: unknown, args: RedisArgs) {
          if (receiver !== undefined && Array.isArray(args)) {
            try {
              receive(args);
            } catch (error) {
              ctx.reportError(error);
            }
          }
          return original.apply(this, arguments as unknown as [RedisArgs]);
        },
    );
  },
};
