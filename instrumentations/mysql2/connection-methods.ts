import { agentContext } from '../../src/instrumentation/api';
import { Outcome, type AnyFunction } from '../../src/instrumentation/outcome';
import type { InstrumentationContext } from '../../src/instrumentation/types';
import { wrap } from '../../src/instrumentation/wrap';
import type { DatabaseSettings } from '../shared/database';
import { isCommand, runCommand } from './command';
import type { MysqlConnection } from './connection';
import { describeMysqlFailure } from './failure';

/** The prototype that holds a connection's query and execute (BaseConnection in 3.11.5+, Connection before). */
export interface ConnectionPrototype {
  query: AnyFunction;
  execute: AnyFunction;
  prepare?: AnyFunction;
}

/** A prepared statement (PreparedStatementInfo) as connection.prepare hands it out. */
interface PreparedStatement {
  readonly query?: unknown;
  readonly _connection?: MysqlConnection;
  execute: AnyFunction;
}

/**
 * connection.query and connection.execute, which every other API reaches: the promise wrapper
 * (mysql2/promise, connection.promise()), pools and pool clusters (pool.query makes a command
 * and hands it to the connection it got) call them with a callback. connection.prepare teaches
 * the agent the prepared statements' class, whose execute is traced as well.
 */
export function patchConnection(prototype: ConnectionPrototype, ctx: InstrumentationContext<DatabaseSettings>): void {
  const outcome = new Outcome(ctx, describeMysqlFailure);
  wrap(
    ctx,
    prototype,
    'query',
    (original: AnyFunction) =>
      function query(this: MysqlConnection) {
        return runCommand(original, this, arguments, this, queryText(arguments[0]), ctx, outcome);
      },
  );
  wrap(
    ctx,
    prototype,
    'execute',
    (original: AnyFunction) =>
      function execute(this: MysqlConnection) {
        return runCommand(original, this, arguments, this, queryText(arguments[0]), ctx, outcome);
      },
  );
  if (typeof prototype.prepare === 'function') {
    wrap(
      ctx,
      prototype as Required<ConnectionPrototype>,
      'prepare',
      (original: AnyFunction) =>
        function prepare(this: MysqlConnection, options: unknown, callback: unknown) {
          if (typeof callback !== 'function') return original.apply(this, arguments as unknown as unknown[]);
          const caller = agentContext.active();
          return original.call(this, options, function (this: unknown, error: unknown, statement: unknown) {
            if (error === null || error === undefined) patchStatementClass(statement, ctx, outcome);
            return agentContext.apply(caller, callback as AnyFunction, this, arguments);
          });
        },
    );
  }
}

/** The text of query(sql | options | command, ...). */
function queryText(first: unknown): unknown {
  if (typeof first === 'string') return first;
  return typeof first === 'object' && first !== null ? (first as { sql?: unknown }).sql : undefined;
}

const patchedStatementClasses = new WeakSet<object>();

/** PreparedStatementInfo is not exported: its prototype is taken from the first statement prepared. */
function patchStatementClass(statement: unknown, ctx: InstrumentationContext<DatabaseSettings>, outcome: Outcome): void {
  if (typeof statement !== 'object' || statement === null || isCommand(statement)) return;
  const prototype = Object.getPrototypeOf(statement) as PreparedStatement | null;
  if (prototype === null || prototype === Object.prototype || patchedStatementClasses.has(prototype)) return;
  patchedStatementClasses.add(prototype);
  wrap(
    ctx,
    prototype,
    'execute',
    (original: AnyFunction) =>
      function execute(this: PreparedStatement) {
        const connection = this._connection;
        if (connection === undefined) return original.apply(this, arguments as unknown as unknown[]);
        return runCommand(original, this, arguments, connection, this.query, ctx, outcome);
      },
  );
}

/** The prototype up the chain from `start` that defines `name`. */
export function ownerOf<T extends object>(start: T | null, name: string): T | undefined {
  for (let prototype = start; prototype !== null && prototype !== Object.prototype; prototype = Object.getPrototypeOf(prototype) as T | null) {
    if (Object.prototype.hasOwnProperty.call(prototype, name)) return prototype;
  }
  return undefined;
}
