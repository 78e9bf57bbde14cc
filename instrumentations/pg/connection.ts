import type { Span } from '@opentelemetry/api';
import { DbOperationMeasurement } from '../shared/db-metric';
import { ATTR_DB_NAMESPACE, ATTR_DB_SYSTEM_NAME, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT, DB_SYSTEM_NAME_VALUE_POSTGRESQL } from '../../src/semconv';

/** What a pg Client exposes of its connection parameters (resolved from config, URL and PG* variables). */
export interface PgConnectionTarget {
  readonly database?: unknown;
  readonly host?: unknown;
  readonly port?: unknown;
  /** `options` is the startup `options` string (config.options or PGOPTIONS): `-c search_path=app`. */
  readonly connectionParameters?: { readonly options?: unknown } | null;
}

/**
 * db.system.name and where a client connects. db.namespace is `{database}|{schema}`, the schema
 * being the first of the search_path the connection was opened with (`options: '-c
 * search_path=app,public'`), else the database alone: a later `SET search_path` is not followed,
 * which would take a query of its own. server.address is the configured host, or the directory
 * of a Unix socket. Set one by one: an object of them per query cost the span a walk over its
 * keys, each read through V8's megamorphic lookup.
 */
export function setConnectionAttributes(span: Span, client: PgConnectionTarget): void {
  span.setAttribute(ATTR_DB_SYSTEM_NAME, DB_SYSTEM_NAME_VALUE_POSTGRESQL);
  const { database, host, port } = client;
  if (typeof database === 'string' && database !== '')
    span.setAttribute(ATTR_DB_NAMESPACE, namespaceOf(database, client.connectionParameters?.options));
  if (typeof host === 'string' && host !== '') span.setAttribute(ATTR_SERVER_ADDRESS, host);
  if (typeof port === 'number' && Number.isInteger(port)) span.setAttribute(ATTR_SERVER_PORT, port);
}

/**
 * The duration metric of a query, with the attributes setConnectionAttributes gives its span
 * (which a sampled query then takes from it): db.query.summary as its span has it.
 */
export function measurePgQuery(client: PgConnectionTarget, summary: string | undefined): DbOperationMeasurement {
  const measurement = new DbOperationMeasurement(DB_SYSTEM_NAME_VALUE_POSTGRESQL, undefined, summary);
  const { database, host, port } = client;
  if (typeof database === 'string' && database !== '') measurement.namespace = namespaceOf(database, client.connectionParameters?.options);
  if (typeof host === 'string' && host !== '') measurement.serverAddress = host;
  if (typeof port === 'number' && Number.isInteger(port)) measurement.serverPort = port;
  return measurement;
}

// The last namespace built: an application's clients share one configuration, so a query's
// namespace is two string comparisons, with nothing parsed or concatenated.
let lastDatabase: string | undefined;
let lastOptions: unknown;
let lastNamespace = '';

/** `database`, or `database|schema` when the connection's options set a search_path. */
export function namespaceOf(database: string, options: unknown): string {
  if (options === undefined || options === null || options === '') return database;
  if (database !== lastDatabase || options !== lastOptions) {
    const schema = typeof options === 'string' ? searchPathSchema(options) : undefined;
    lastNamespace = schema === undefined ? database : `${database}|${schema}`;
    lastDatabase = database;
    lastOptions = options;
  }
  return lastNamespace;
}

/**
 * The first schema of the search_path a startup `options` string sets, as the server reads it:
 * arguments separated by whitespace (a backslash escapes the next character), each `-c name=value`,
 * `-cname=value` or `--name=value`, names case-insensitive with `-` for `_`, the last setting
 * winning. Undefined when none is set, or when the first entry is `$user` (the user's own schema
 * if it exists, which only the server knows).
 */
export function searchPathSchema(options: string): string | undefined {
  const args = startupArguments(options);
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    let setting: string | undefined;
    const arg = args[i]!;
    if (arg === '-c') setting = args[++i];
    else if (arg.startsWith('--')) setting = arg.slice(2);
    else if (arg.startsWith('-c')) setting = arg.slice(2);
    const equals = setting === undefined ? -1 : setting.indexOf('=');
    if (equals > 0 && setting!.slice(0, equals).toLowerCase().replace(/-/g, '_') === 'search_path') value = setting!.slice(equals + 1);
  }
  if (value === undefined) return undefined;
  const first = unquote(value.split(',')[0]!.trim());
  return first === '' || first === '$user' ? undefined : first;
}

/** The arguments of an options string: split at unescaped whitespace, `\x` read as `x`. */
function startupArguments(options: string): string[] {
  const args: string[] = [];
  let current = '';
  let started = false;
  for (let i = 0; i < options.length; i++) {
    const c = options[i]!;
    if (c === '\\' && i + 1 < options.length) {
      current += options[++i];
      started = true;
    } else if (/\s/.test(c)) {
      if (started) args.push(current);
      current = '';
      started = false;
    } else {
      current += c;
      started = true;
    }
  }
  if (started) args.push(current);
  return args;
}

/** A double-quoted identifier's name (`"Sales"` is `Sales`, `""` inside one quote); others as written. */
function unquote(name: string): string {
  return name.length >= 2 && name.startsWith('"') && name.endsWith('"') ? name.slice(1, -1).replace(/""/g, '"') : name;
}
