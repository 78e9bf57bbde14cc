/**
 * MySQL and MariaDB through `mysql2` 3.x: a CLIENT span for every query and prepared-statement
 * execution, and an INTERNAL span for the time a pool makes a caller wait for a connection.
 *
 * What is patched, and why there:
 * - the connection class's query, execute and prepare (lib/connection.js, on the prototype that
 *   defines them: BaseConnection from 3.11.5 on, Connection before). Everything reaches them: the
 *   callback and promise APIs (mysql2/promise and connection.promise() call them with a
 *   callback), pools and pool clusters (pool.query makes a command and hands it to the
 *   connection it got), `query(...).stream()`. A prepared statement's execute (the class is not
 *   exported) is wrapped when the first statement is prepared.
 * - the pool's getConnection (lib/pool.js), which pool.query, pool.execute, the promise pool and
 *   pool clusters all go through: a released connection reaches the next waiter from inside the
 *   request that released it, so the waiter's callback is bound back to its own caller.
 * Patching these files rather than the main export covers `require('mysql2')`,
 * `require('mysql2/promise')` and their ESM imports, which all hand out these classes.
 * mysql2 3.17+ also publishes TracingChannels (`mysql2:query`...): they are not used, because
 * they exist in part of 3.x only and carry the text with its values inlined.
 *
 * Spans (stable database semantic conventions, MySQL and MariaDB pages):
 * - Query: named by db.query.summary (`SELECT users`), else `mysql`/`mariadb`. Attributes:
 *   db.system.name (`mariadb` when the server's handshake says so, else `mysql`), db.namespace
 *   (the configured database), server.address, server.port, db.query.text (sanitized with MySQL's
 *   lexical rules: no literal ever leaves the process, `?` placeholders kept), db.query.summary,
 *   db.stored_procedure.name (the procedure of a CALL).
 *   The text read is the one the application passed: mysql2 inlines values into it client-side
 *   afterwards, and that text is never read. Parameter values are never read.
 * - Failure: the server's error number as db.response.status_code and error.type, its symbol in
 *   the status message (`server error 1062 ER_DUP_ENTRY`); the server's message, which quotes
 *   values, is withheld from every span that records the error. Other errors (ECONNREFUSED,
 *   PROTOCOL_CONNECTION_LOST) are recorded as they are, error.type being their code.
 * - `mysql2.pool.acquire` (INTERNAL) from getConnection until a connection is handed over.
 * Whether an operation gets a span at all is databaseSpanParent()'s rule (by default none
 * outside a trace, see OTEL_INSTRUMENTATION_DB_REQUIRE_PARENT_SPAN). Callbacks and a command's
 * events (rows of a stream) always run in their caller's context, traced or not; no span is made
 * the active one.
 *
 * Known limitations:
 * - A query span starts at the call, so it includes time queued behind the same connection's
 *   earlier commands (mysql2 queues them on the connection).
 * - connection.prepare's own round trip, ping, changeUser and the connection handshake get no span.
 * - db.namespace is the configured database: a later `USE other` is not followed.
 */
import type { Instrumentation } from '../../src/instrumentation/types';
import { unwrap } from '../../src/instrumentation/wrap';
import { readDatabaseSettings, type DatabaseSettings } from '../shared/database';
import { ownerOf, patchConnection, type ConnectionPrototype } from './connection-methods';
import { patchPool } from './pool';

interface ConnectionClass {
  readonly prototype: ConnectionPrototype;
}

interface PoolClass {
  readonly prototype: { getConnection: (...args: unknown[]) => unknown };
}

export const mysql2Instrumentation: Instrumentation<DatabaseSettings> = {
  name: 'mysql2',
  readSettings: readDatabaseSettings,
  patches: [
    {
      module: 'mysql2',
      file: 'lib/connection.js',
      versions: '>=3 <4',
      patch(Connection: ConnectionClass, ctx) {
        const prototype = ownerOf(Connection.prototype, 'query');
        if (prototype === undefined) throw new Error('mysql2 connections have no query method');
        patchConnection(prototype, ctx);
      },
      unpatch(Connection: ConnectionClass) {
        const prototype = ownerOf(Connection.prototype, 'query');
        if (prototype === undefined) return;
        unwrap(prototype, 'query');
        unwrap(prototype, 'execute');
        unwrap(prototype, 'prepare');
      },
    },
    {
      module: 'mysql2',
      file: 'lib/pool.js',
      versions: '>=3 <4',
      patch(Pool: PoolClass, ctx) {
        const prototype = ownerOf(Pool.prototype, 'getConnection');
        if (prototype === undefined) throw new Error('mysql2 pools have no getConnection method');
        patchPool(prototype, ctx);
      },
      unpatch(Pool: PoolClass) {
        const prototype = ownerOf(Pool.prototype, 'getConnection');
        if (prototype !== undefined) unwrap(prototype, 'getConnection');
      },
    },
  ],
};
