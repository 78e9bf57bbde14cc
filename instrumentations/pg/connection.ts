import type { Span } from '@opentelemetry/api';
import { ATTR_DB_NAMESPACE, ATTR_DB_SYSTEM_NAME, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT, DB_SYSTEM_NAME_VALUE_POSTGRESQL } from '../../src/semconv';

/** What a pg Client exposes of its connection parameters (resolved from config, URL and PG* variables). */
export interface PgConnectionTarget {
  readonly database?: unknown;
  readonly host?: unknown;
  readonly port?: unknown;
}

/**
 * db.system.name and where a client connects. db.namespace is the database the client was
 * configured with: the schema in use (search_path) is not known without asking the server, so it
 * is left out. server.address is the configured host, or the directory of a Unix socket. Set one
 * by one: an object of them per query cost the span a walk over its keys, each read through
 * V8's megamorphic lookup.
 */
export function setConnectionAttributes(span: Span, client: PgConnectionTarget): void {
  span.setAttribute(ATTR_DB_SYSTEM_NAME, DB_SYSTEM_NAME_VALUE_POSTGRESQL);
  const { database, host, port } = client;
  if (typeof database === 'string' && database !== '') span.setAttribute(ATTR_DB_NAMESPACE, database);
  if (typeof host === 'string' && host !== '') span.setAttribute(ATTR_SERVER_ADDRESS, host);
  if (typeof port === 'number' && Number.isInteger(port)) span.setAttribute(ATTR_SERVER_PORT, port);
}
