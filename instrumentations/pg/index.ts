/**
 * PostgreSQL through the `pg` package: a CLIENT span for every query and for every connection a
 * Client opens, and an INTERNAL span for the time pg-pool makes a caller wait for a connection.
 *
 * What is patched, and why there:
 * - pg's lib/client.js, Client.prototype.query and .connect: every query goes through query(),
 *   whether the application calls it, pg-pool does (pool.query), or it submits a cursor or stream.
 *   Patching the file rather than pg's main export covers `require('pg')`, `import pg from 'pg'`
 *   and the named ESM exports alike, which all hand out this one class.
 * - pg-pool's Pool.prototype.connect (pool.query calls it too) and .newClient: a released
 *   connection is handed to the next waiter from inside the request that released it, so the
 *   waiter's callback is bound back to its own caller's context; without that, a queued query
 *   joins the trace of the request that freed the connection.
 *
 * Spans (stable database semantic conventions):
 * - Query: named by db.query.summary (`SELECT users`); a prepared statement executed by its name
 *   alone, by that name; a text with no known command, `postgresql`. Attributes: db.system.name,
 *   db.namespace (`{database}|{schema}`, the schema from a search_path in the connection's
 *   options, else the database alone), server.address, server.port, db.stored_procedure.name
 *   (the procedure of a CALL), db.query.text
 *   (sanitized: no literal ever leaves the process; `$1` placeholders kept; cut at 4096
 *   characters), db.query.summary. Parameter values are never read. db.operation.name and
 *   db.collection.name are not set: the PostgreSQL conventions say they SHOULD NOT be taken from
 *   the query text, and the summary carries both.
 * - Failure: error status, db.response.status_code and error.type set to the SQLSTATE for errors
 *   PostgreSQL sent (whose messages, which can quote values, are not exported); for other errors
 *   (ECONNREFUSED, "Connection terminated unexpectedly") error.type is the error's code, else its
 *   class name, and the exception is recorded as it is.
 * - `pg.connect` (CLIENT) from Client#connect until the server is ready for queries;
 *   `pg.pool.acquire` (INTERNAL) from pool.connect/pool.query until a client is handed over,
 *   with pg.connect as its child when the pool opens a connection for it.
 * Whether an operation gets a span at all is databaseSpanParent()'s rule, shared by every
 * database instrumentation: by default none outside a trace (startup migrations, timers), see
 * OTEL_INSTRUMENTATION_DB_REQUIRE_PARENT_SPAN. Callbacks always run in their caller's context,
 * traced or not, and no span is ever made the active one: after `await client.query()` the
 * caller's context is active.
 *
 * OTEL_INSTRUMENTATION_PG_SQLCOMMENTER=true appends `/*traceparent='00-…'*\/` to the text sent
 * (never to db.query.text), so server logs and pg_stat_activity can be joined to traces. Left
 * out: named prepared statements (pg requires the same text for a name, and the server parses
 * it once per connection anyway), Submittables, and texts that already hold a comment.
 *
 * Supported: pg 8.x with pg-pool 3.x (pg-cursor and pg-query-stream through Submittables), on
 * every Node version the agent supports.
 *
 * Known limitations:
 * - The native bindings (`pg.native`, NODE_PG_FORCE_NATIVE) are not instrumented.
 * - A query span starts at the call, so it includes time spent queued behind the same client's
 *   earlier queries (pg queues them on the client).
 * - A Submittable's span ends when pg is done with it: a cursor left open keeps its span open.
 * - The messages of errors raised by the application's own code during a query (type parsers,
 *   toPostgres) are recorded as they are.
 * - db.namespace's schema is the one the connection was opened with: a later SET search_path is
 *   not followed (that would take a query of its own).
 */
import type { Instrumentation } from '../../src/instrumentation/types';
import { unwrap } from '../../src/instrumentation/wrap';
import { readDatabaseSettings, type DatabaseSettings } from '../shared/database';
import { patchConnect } from './client-connect';
import { patchQuery } from './client-query';
import { patchPool } from './pool-connect';

interface ClientClass {
  prototype: Parameters<typeof patchQuery>[0] & Parameters<typeof patchConnect>[0];
}

interface PoolClass {
  prototype: Parameters<typeof patchPool>[0];
}

/** pg's settings: the databases' own, and the sqlcommenter switch. */
export interface PgSettings extends DatabaseSettings {
  /** OTEL_INSTRUMENTATION_PG_SQLCOMMENTER: append a `traceparent` comment to the queries pg sends. */
  readonly sqlCommenter: boolean;
}

export const pgInstrumentation: Instrumentation<PgSettings> = {
  name: 'pg',
  readSettings(env) {
    return { ...readDatabaseSettings(env), sqlCommenter: env.bool('OTEL_INSTRUMENTATION_PG_SQLCOMMENTER') };
  },
  patches: [
    {
      module: 'pg',
      file: 'lib/client.js',
      versions: '>=8 <9',
      patch(Client: ClientClass, ctx) {
        patchQuery(Client.prototype, ctx);
        patchConnect(Client.prototype, ctx);
      },
      unpatch(Client: ClientClass) {
        unwrap(Client.prototype, 'query');
        unwrap(Client.prototype, 'connect');
      },
    },
    {
      module: 'pg-pool',
      versions: '>=3 <4',
      // pg requires pg-pool: an ES module application importing pg reaches it through require.
      importHook: false,
      patch(Pool: PoolClass, ctx) {
        patchPool(Pool.prototype, ctx);
      },
      unpatch(Pool: PoolClass) {
        unwrap(Pool.prototype, 'connect');
        unwrap(Pool.prototype, 'newClient');
      },
    },
  ],
};
