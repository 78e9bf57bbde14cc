import type { Span } from '@opentelemetry/api';
import { DbOperationMeasurement } from '../shared/db-metric';
import {
  ATTR_DB_NAMESPACE,
  ATTR_DB_SYSTEM_NAME,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  DB_SYSTEM_NAME_VALUE_MARIADB,
  DB_SYSTEM_NAME_VALUE_MYSQL,
} from '../../src/semconv';

/** What a mysql2 connection exposes of its configuration and of the server's greeting. */
export interface MysqlConnection {
  readonly config?: { host?: unknown; port?: unknown; socketPath?: unknown; database?: unknown };
  /** The server's handshake, once it arrived: its version string names MariaDB. */
  readonly _handshakePacket?: { serverVersion?: unknown } | null;
}

const MARIADB = /mariadb/i;

/**
 * `mariadb` when the server said so in its handshake, `mysql` otherwise (MySQL itself, or a
 * server that has not greeted yet: see systemOnceKnown).
 */
export function databaseSystem(connection: MysqlConnection): string {
  const version = connection._handshakePacket?.serverVersion;
  return typeof version === 'string' && MARIADB.test(version) ? DB_SYSTEM_NAME_VALUE_MARIADB : DB_SYSTEM_NAME_VALUE_MYSQL;
}

/** True once the server's handshake arrived, so databaseSystem() is the server's own word. */
export function serverKnown(connection: MysqlConnection): boolean {
  return typeof connection._handshakePacket?.serverVersion === 'string';
}

/**
 * db.system.name and where the connection goes: db.namespace is the configured database (a
 * `USE other` later is not followed); server.address the host (mysql2's default `localhost`) or
 * the Unix socket's path, server.port the TCP port (mysql2's default 3306). Set one by one: an
 * object of them per query cost the span a walk over its keys, each read through V8's
 * megamorphic lookup. Returns the system's name, which also names a span without a summary.
 */
export function setConnectionAttributes(span: Span, connection: MysqlConnection): string {
  const system = databaseSystem(connection);
  span.setAttribute(ATTR_DB_SYSTEM_NAME, system);
  const config = connection.config;
  if (config === undefined || config === null) return system;
  const { database, host, port, socketPath } = config;
  if (typeof database === 'string' && database !== '') span.setAttribute(ATTR_DB_NAMESPACE, database);
  if (typeof socketPath === 'string' && socketPath !== '') {
    span.setAttribute(ATTR_SERVER_ADDRESS, socketPath);
  } else {
    span.setAttribute(ATTR_SERVER_ADDRESS, typeof host === 'string' && host !== '' ? host : 'localhost');
    span.setAttribute(ATTR_SERVER_PORT, typeof port === 'number' && Number.isInteger(port) ? port : 3306);
  }
  return system;
}

/**
 * The duration metric of a command, with the attributes setConnectionAttributes gives its span.
 * db.system.name is read when the command ends: by then the server has greeted.
 */
class MysqlMeasurement extends DbOperationMeasurement {
  constructor(
    private readonly connection: MysqlConnection,
    querySummary: string | undefined,
  ) {
    super(DB_SYSTEM_NAME_VALUE_MYSQL, undefined, querySummary);
  }

  protected override systemName(): string {
    return databaseSystem(this.connection);
  }
}

export function measureMysqlCommand(connection: MysqlConnection, querySummary: string | undefined): DbOperationMeasurement {
  const measurement = new MysqlMeasurement(connection, querySummary);
  const config = connection.config;
  if (config === undefined || config === null) return measurement;
  const { database, host, port, socketPath } = config;
  if (typeof database === 'string' && database !== '') measurement.namespace = database;
  if (typeof socketPath === 'string' && socketPath !== '') {
    measurement.serverAddress = socketPath;
  } else {
    measurement.serverAddress = typeof host === 'string' && host !== '' ? host : 'localhost';
    measurement.serverPort = typeof port === 'number' && Number.isInteger(port) ? port : 3306;
  }
  return measurement;
}
