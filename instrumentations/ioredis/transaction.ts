import type { Span } from '@opentelemetry/api';
import { databaseSpanParent, type DatabaseSettings } from '../shared/database';
import { describeCommand, describeRedisFailure, recordWatchConflict, setBatchCommands, startTransactionSpan } from '../shared/redis-command';
import type { InstrumentationContext, ModulePatch } from '../../src/instrumentation/types';
import { Outcome, recordFailure } from '../../src/instrumentation/outcome';
import { wrap } from '../../src/instrumentation/wrap';
import { clientTarget, type IoredisClient, type IoredisCommand } from './client';

/**
 * A MULTI transaction (`redis.multi()...exec()`) is one span, `MULTI` or `MULTI <COMMAND>`,
 * listing its commands in db.query.text: inside a transaction Redis only answers QUEUED, and the
 * outcome of all of them is EXEC's reply. exec() sends MULTI, the commands and EXEC synchronously
 * through the client's sendCommand, so every command sendCommand sees for the first time while a
 * transaction is open here belongs to that transaction and gets no span of its own.
 */
export interface Transaction {
  /** Undefined when the transaction itself is not traced (its commands still get no span). */
  readonly span: Span | undefined;
  readonly commands: { operation: string; text: string }[];
  readonly outer: Transaction | undefined;
}

let open: Transaction | undefined;

/** Commands listed in a transaction, for ioredis 5.11+ which publishes each of them later on. */
const folded = new WeakSet<IoredisCommand>();

export function openTransaction(span: Span | undefined): Transaction {
  const transaction: Transaction = { span, commands: [], outer: open };
  open = transaction;
  return transaction;
}

/**
 * Ends the window in which commands join the transaction (dropping any opened since and left
 * open, so none can keep taking commands), and names its span after them.
 */
export function closeTransaction(transaction: Transaction): void {
  for (let current = open; current !== undefined; current = current.outer) {
    if (current === transaction) {
      open = transaction.outer;
      break;
    }
  }
  if (transaction.span !== undefined) setBatchCommands(transaction.span, transaction.commands);
}

/** At a command's first sight: true (and the command is listed) when it is part of an open transaction. */
export function joinOpenTransaction(command: IoredisCommand): boolean {
  const transaction = open;
  if (transaction === undefined) return false;
  folded.add(command);
  const name = command.name.toLowerCase();
  if (name !== 'multi' && name !== 'exec') transaction.commands.push(describeCommand(command.name, command.args));
  return true;
}

export function isInTransaction(command: IoredisCommand): boolean {
  return folded.has(command);
}

/**
 * exec() resolved: its last reply is EXEC's `[error, reply]`, whose outcome goes on the
 * transaction's span: an error reply (EXECABORT) or nil (a WATCHed key changed).
 */
function describeExecReply(span: Span, replies: unknown): void {
  const last = Array.isArray(replies) ? (replies[replies.length - 1] as unknown) : undefined;
  const [execError, execReply] = Array.isArray(last) ? last : [undefined, undefined];
  if (execError) recordFailure(span, execError, describeRedisFailure);
  else if (execReply === null) recordWatchConflict(span);
}

/** The parts of an ioredis Pipeline read here. */
interface Pipeline {
  readonly redis: IoredisClient;
  readonly _queue?: readonly IoredisCommand[];
  readonly _transactions?: number;
}

type Exec = (this: Pipeline, ...args: unknown[]) => Promise<unknown>;

/**
 * ioredis before 5.11: the transaction span from Pipeline#exec. For `redis.multi()`, exec runs
 * twice: first only to queue EXEC (while _transactions is still counted), then to send the queue,
 * which then starts with MULTI. The second call's promise (already handled by ioredis, which
 * unwraps it for the application) settles with one [error, reply] pair per command, EXEC's last.
 */
export const transactionPatch: ModulePatch = {
  module: 'ioredis',
  file: 'built/Pipeline.js',
  versions: '>=5.0.0 <5.11.0',
  patch(exports: { default?: { prototype: { exec: Exec } } }, ctx: InstrumentationContext<DatabaseSettings>) {
    const prototype = exports.default?.prototype;
    if (prototype === undefined) throw new Error('ioredis built/Pipeline.js exports no Pipeline');
    const outcome = new Outcome(ctx, describeRedisFailure, describeExecReply);
    wrap(
      ctx,
      prototype,
      'exec',
      (original: Exec) =>
        function exec(this: Pipeline) {
          if (this._transactions !== 0 || this._queue?.[0]?.name !== 'multi') return original.apply(this, arguments as unknown as unknown[]);
          return tracedTransaction(original, this, arguments, ctx, outcome);
        },
    );
  },
};

function tracedTransaction(
  original: Exec,
  pipeline: Pipeline,
  args: IArguments,
  ctx: InstrumentationContext<DatabaseSettings>,
  outcome: Outcome,
): Promise<unknown> {
  let transaction: Transaction | undefined;
  try {
    const parent = databaseSpanParent(ctx);
    const span = parent === undefined ? undefined : startTransactionSpan(ctx.tracer, parent, clientTarget(pipeline.redis));
    transaction = openTransaction(span);
  } catch (error) {
    ctx.reportError(error);
  }
  let result: Promise<unknown>;
  try {
    result = original.apply(pipeline, args as unknown as unknown[]);
  } catch (error) {
    const failed = close(transaction, ctx);
    if (failed !== undefined) outcome.fail(failed, error);
    throw error;
  }
  const span = close(transaction, ctx);
  // The application keeps exec()'s own promise; the span only watches it.
  if (span !== undefined) outcome.observe(span, result);
  return result;
}

/** Closes the transaction exec() opened (guarded: it lists the commands in the span); its span, if any. */
function close(transaction: Transaction | undefined, ctx: InstrumentationContext<DatabaseSettings>): Span | undefined {
  if (transaction === undefined) return undefined;
  try {
    closeTransaction(transaction);
  } catch (error) {
    ctx.reportError(error);
  }
  return transaction.span;
}
