/**
 * node-redis (`redis`, through `@redis/client`): a CLIENT span per command (`GET`, `HGETALL`...),
 * child of the caller's span, ended when the reply arrives or the command fails; a MULTI
 * transaction is one span; connect() and every reconnection is a `connect` span. Spans follow the
 * database rule of db.ts (by default none outside a trace) and the attributes of redis-command.ts
 * (db.query.text `GET key`, never a value).
 *
 * @redis/client 5.12 and later (redis 5.12+, 6.x) publish TracingChannels; there the spans come
 * from them, and nothing else makes one (channels.ts):
 * - `node-redis:command`: a command's span, also for each command of a pipeline;
 * - `node-redis:batch`: a MULTI's span (a pipeline's is ignored: its commands have theirs);
 * - `node-redis:connect`: connect()'s span; `node-redis:connection:ready`, published for every
 *   connection, gives the socket's peer (network.peer.*) and, outside connect(), a span for the
 *   reconnection (from its last attempt's start to ready);
 * - `node-redis:connection:closed`: forgets a closed client.
 * Their messages carry the arguments redacted by node-redis's own rules (which drop the key of
 * HGETALL or MGET and keep some values), and a MULTI's message no commands at all. So the command
 * queue's addCommand is wrapped (5.12 to 6.x) only to hand the traced operation its real
 * arguments, which the queue receives between the channel's start and end (queued-args.ts).
 *
 * @redis/client before 5.12 (redis 4.x with @redis/client 1.x, redis 5.0 to 5.11) publishes
 * nothing. The client methods that queue the application's commands (1.x: commandsExecutor, also
 * as the executor attachCommands gives every command method, sendCommand, SELECT, executeScript,
 * executeFunction, multiExecutor; 5.x: sendCommand, _executePipeline, _executeMulti) arm the
 * command queue, whose addCommand then makes the spans (queue-spans.ts); MULTI and connect() are
 * wrapped on the client (client-methods.ts), and the client's socket is watched for reconnection
 * attempts (reconnect.ts).
 *
 * Both ways, a client pool (createClientPool, 5.x and 6.x) runs a command that waited for a free
 * client in its caller's context rather than in that of the command handing the client back
 * (pool-context.ts); its span starts once it has a client.
 *
 * Shapes: a pipeline's commands (`execAsPipeline()`) are each their own span, children of the
 * caller; `multi()...exec()` is one span `MULTI` (or `MULTI SET` when all commands are the same),
 * db.query.text listing the commands (`SET k ?; GET k`), db.operation.batch.size; a MULTI that
 * fails (a rejected command, EXECABORT, a WATCHed key changed: error.type `WatchError`) is an
 * error. Errors of single commands inside a committed transaction are the application's to read in
 * EXEC's replies (node-redis then throws MultiErrorReply after the fact) and leave the span OK.
 *
 * Supported: @redis/client >=1 <2 and >=5 <7 (redis 4.x, 5.x, 6.x), CommonJS and ESM.
 *
 * Pub/sub and blocking commands: SUBSCRIBE and friends, and MONITOR, do not go through
 * node-redis's command path: no span, nor for the messages that arrive later. A blocking command's
 * span lasts as long as the command: BLPOP key 1 ends after at most a second; BLPOP key 0 stays
 * open while Redis holds it, until it is answered or the client gives up on it (the connection
 * fails, destroy()), which rejects it.
 *
 * Known limitations:
 * - db.namespace before 5.12 is the database the client was configured with (node-redis does not
 *   expose a later SELECT); from 5.12 it is the one selected when the command was sent.
 * - network.peer.* is known from 5.12 on only: older clients keep their socket private. Before
 *   5.12, a command the client rejects before queueing it (closed or offline client) gets no span.
 * - From 5.12, a reconnection's failed attempts are not published: its span covers the attempt
 *   that succeeded. Before 5.12 each attempt is a span, an error when it failed.
 * - redis 4 legacy mode (`legacyMode: true`, callback commands) is not traced (its `v4` interface
 *   is), nor is the EVAL a 4.x script falls back to after NOSCRIPT.
 * - When @redis/client is bundled (not loaded through require), only the channels are seen:
 *   db.query.text then uses node-redis's redacted arguments and a MULTI lists no commands.
 */
import type { Instrumentation } from '../../src/instrumentation/types';
import { readDatabaseSettings, type DatabaseSettings } from '../shared/database';
import { nodeRedisChannels, nodeRedisTracingChannels } from './channels';
import { attachCommandsPatchV1, clientMethodsPatchV1, clientMethodsPatchV5 } from './client-methods';
import { poolContextPatch } from './pool-context';
import { queuedArgsPatch } from './queued-args';
import { queueSpansPatch } from './queue-spans';
import { reconnectPatch } from './reconnect';

export const redisInstrumentation: Instrumentation<DatabaseSettings> = {
  name: 'redis',
  readSettings: readDatabaseSettings,
  patches: [queuedArgsPatch, queueSpansPatch, attachCommandsPatchV1, clientMethodsPatchV1, clientMethodsPatchV5, reconnectPatch, poolContextPatch],
  tracingChannels: nodeRedisTracingChannels,
  channels: nodeRedisChannels,
  channelSource: { module: '@redis/client' },
};
