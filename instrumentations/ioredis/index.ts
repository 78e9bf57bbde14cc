/**
 * ioredis: a CLIENT span per command (`GET`, `HGETALL`...), child of the caller's span, ended when
 * the reply arrives or the command fails; a MULTI transaction is one span; connecting and every
 * reconnection attempt is a `connect` span. Spans follow the database rule of db.ts (by default
 * none outside a trace) and the attributes of redis-command.ts (db.query.text `GET key`, never a
 * value).
 *
 * ioredis 5.11 and later (6.x included) publish TracingChannels; there the spans come from them,
 * and nothing else makes one:
 * - `ioredis:command` (published when a command is written): the command's span;
 * - `ioredis:batch` (around exec() of `redis.multi()`): the transaction's span;
 * - `ioredis:connect` (connect(), and each reconnection): the `connect` span.
 * Their messages carry arguments already redacted by ioredis's own rules (which drop the key of
 * HGET or MGET and keep some values) and neither the command nor the client, and a command sent
 * before the client is ready is published only when the offline queue is flushed, in the
 * connection's context. So Redis#sendCommand is wrapped (>=5.11 <7) only to hand the start
 * handler the command being sent (its real arguments, its client for network.peer.* and for
 * telling the connection's own setup commands apart) and to keep the caller's context of a
 * command that waits in the offline queue (send-command.ts).
 *
 * ioredis 5.0 to 5.10 publish nothing: Redis#sendCommand (a span per command, started the first
 * time it is sent and ended through the command's resolve/reject), Pipeline#exec (transactions)
 * and Redis#connect are wrapped instead.
 *
 * Shapes: a pipeline's commands are each their own span (each has its own reply), children of the
 * caller; `redis.multi()...exec()` is one span `MULTI` (or `MULTI SET` when all commands are the
 * same), db.query.text listing the commands (`SET k ?; GET k`), db.operation.batch.size; EXEC
 * failing (EXECABORT) or returning nil (a WATCHed key changed, error.type `WatchError`) makes it
 * an error. Errors of single commands inside a committed transaction are the application's to
 * read in EXEC's replies and leave the span OK.
 *
 * Supported: ioredis >=5 <7, CommonJS and ESM.
 *
 * Pub/sub and blocking commands: SUBSCRIBE and friends are a span each, ended when Redis confirms;
 * the messages that arrive later make no span. A blocking command's span lasts as long as the
 * command: BLPOP key 1 ends after at most a second; BLPOP key 0 stays open while Redis holds it,
 * until it is answered or the connection closes or fails (ioredis then rejects it).
 *
 * Known limitations:
 * - The connection's setup commands (AUTH, SELECT, CLIENT SETNAME/SETINFO, the INFO ready check)
 *   make no span; after a reconnection, the SELECT and re-SUBSCRIBE ioredis sends on its own are
 *   spans in the context the connection was made in (none when that was outside a trace).
 * - With enableAutoPipelining, commands are sent together from the first one's context, so all
 *   of them are parented to that caller. Likewise a command a Cluster holds while it discovers its
 *   nodes is parented to the context that sends it on.
 * - `redis.multi({ pipeline: false })` sends MULTI, each command and EXEC separately: a span each.
 * - When ioredis is bundled (not loaded through require or import), only the channels are seen:
 *   db.query.text then uses ioredis's redacted arguments, network.peer.* is absent, commands from
 *   the offline queue are parented to the connection's context and setup commands get spans.
 */
import type { Instrumentation } from '../../src/instrumentation/types';
import { readDatabaseSettings, type DatabaseSettings } from '../shared/database';
import { ioredisTracingChannels } from './channels';
import { connectPatch } from './connect';
import { sendCommandOriginPatch, sendCommandSpanPatch } from './send-command';
import { transactionPatch } from './transaction';

export const ioredisInstrumentation: Instrumentation<DatabaseSettings> = {
  name: 'ioredis',
  readSettings: readDatabaseSettings,
  patches: [sendCommandOriginPatch, sendCommandSpanPatch, transactionPatch, connectPatch],
  tracingChannels: ioredisTracingChannels,
  channelSource: { module: 'ioredis' },
};
