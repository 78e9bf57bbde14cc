import type { Span } from '@opentelemetry/api';
import type { IncomingMessage, OutgoingMessage } from 'node:http';
import { HTTP_REQUEST_METHOD_VALUE_OTHER } from '../semconv';

/**
 * HTTP semantic-convention rules shared by every HTTP instrumentation (node:http servers and
 * clients, fetch/undici): method normalisation, span names, URL redaction, header capture.
 */

/**
 * Query keys whose values the semantic conventions say to redact by default (matched
 * case-sensitively, the key kept): signed-URL credentials of AWS, Azure and Google Cloud.
 */
export const SENSITIVE_QUERY_KEYS: ReadonlySet<string> = new Set([
  'AWSAccessKeyId',
  'Signature',
  'sig',
  'X-Goog-Signature',
  'X-Amz-Signature',
  'X-Amz-Credential',
  'X-Amz-Security-Token',
]);

export const REDACTED = 'REDACTED';

/** The method as http.request.method reports it, and the original when that differs. */
export interface NormalisedMethod {
  readonly method: string;
  readonly original: string | undefined;
}

export function normaliseMethod(method: string | undefined, known: ReadonlySet<string>): NormalisedMethod {
  const given = method ?? 'GET';
  return known.has(given) ? { method: given, original: undefined } : { method: HTTP_REQUEST_METHOD_VALUE_OTHER, original: given };
}

/** `{method}` or `{method} {route}`; `HTTP` stands in for a method that is not known. */
export function httpSpanName(method: string, route?: string): string {
  const verb = method === HTTP_REQUEST_METHOD_VALUE_OTHER ? 'HTTP' : method;
  return route === undefined || route === '' ? verb : `${verb} ${route}`;
}

/** Redacts the values of sensitive keys in a query string (without its '?'). */
export function redactQuery(query: string): string {
  if (query === '' || !mayHoldSensitiveKey(query)) return query;
  let result = '';
  let start = 0;
  while (start <= query.length) {
    let end = query.indexOf('&', start);
    if (end === -1) end = query.length;
    const pair = query.slice(start, end);
    const eq = pair.indexOf('=');
    const key = eq === -1 ? pair : pair.slice(0, eq);
    const redacted = eq !== -1 && SENSITIVE_QUERY_KEYS.has(decodeKey(key)) ? `${key}=${REDACTED}` : pair;
    result = start === 0 ? redacted : `${result}&${redacted}`;
    start = end + 1;
  }
  return result;
}

/** A cheap pre-check: every sensitive key contains one of these letters' sequences. */
function mayHoldSensitiveKey(query: string): boolean {
  return query.includes('ig') || query.includes('AWS') || query.includes('Amz') || query.includes('%');
}

function decodeKey(key: string): string {
  if (key.indexOf('%') === -1) return key;
  try {
    return decodeURIComponent(key);
  } catch {
    return key;
  }
}

/** Splits a request target (`/path?query`) at its query. */
export function splitTarget(target: string): { path: string; query: string | undefined } {
  const q = target.indexOf('?');
  return q === -1 ? { path: target, query: undefined } : { path: target.slice(0, q), query: target.slice(q + 1) };
}

/**
 * An absolute URL for url.full: credentials become REDACTED:REDACTED, sensitive query values
 * REDACTED, and the scheme's default port is left out.
 */
export function fullUrl(protocol: string, host: string, port: number | undefined, target: string, hasCredentials = false): string {
  const scheme = protocol.endsWith(':') ? protocol.slice(0, -1) : protocol;
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const portPart = port === undefined || port === defaultPort(scheme) ? '' : `:${port}`;
  const { path, query } = splitTarget(target === '' ? '/' : target);
  const credentials = hasCredentials ? `${REDACTED}:${REDACTED}@` : '';
  return `${scheme}://${credentials}${bracketed}${portPart}${path}${query === undefined ? '' : `?${redactQuery(query)}`}`;
}

export function defaultPort(scheme: string): number | undefined {
  return scheme === 'https' ? 443 : scheme === 'http' ? 80 : undefined;
}

export interface HostAndPort {
  readonly address: string;
  readonly port: number | undefined;
}

/** The last value parsed: a service sees the same few Host headers over and over. */
let lastHostValue: string | undefined;
let lastHost: HostAndPort | undefined;

/** `host`, `host:port`, `[v6]` or `[v6]:port` from a Host (or :authority) header. */
export function parseHostHeader(value: string | undefined): HostAndPort | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === lastHostValue) return lastHost;
  const host = parseHost(value);
  lastHostValue = value;
  lastHost = host;
  return host;
}

function parseHost(value: string): HostAndPort | undefined {
  let address = value;
  let portText: string | undefined;
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close === -1) return undefined;
    address = value.slice(1, close);
    if (value.charCodeAt(close + 1) === 0x3a) portText = value.slice(close + 2);
  } else {
    const colon = value.lastIndexOf(':');
    if (colon !== -1 && value.indexOf(':') === colon) {
      address = value.slice(0, colon);
      portText = value.slice(colon + 1);
    }
  }
  const port = portText === undefined || portText === '' ? undefined : Number(portText);
  return { address, port: port !== undefined && Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined };
}

/** Compiles path patterns (`*` matches any run of characters) into one matcher; undefined when there are none. */
export function pathMatcher(patterns: readonly string[]): ((path: string) => boolean) | undefined {
  if (patterns.length === 0) return undefined;
  const source = patterns.map((pattern) => pattern.split('*').map(escapeRegExp).join('.*')).join('|');
  const regexp = new RegExp(`^(?:${source})$`);
  return (path) => regexp.test(path);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Records the named headers as `prefix + name` attributes holding string arrays, the form the
 * semantic conventions give them. `read` returns the header's value(s) or undefined.
 */
export function captureHeaders<S>(
  span: Span,
  attributeName: (header: string) => string,
  names: readonly string[],
  source: S,
  read: (source: S, header: string) => string | string[] | number | undefined,
): void {
  for (let i = 0; i < names.length; i++) {
    const header = names[i]!;
    const value = read(source, header);
    if (value === undefined) continue;
    span.setAttribute(attributeName(header), Array.isArray(value) ? value.map(String) : [String(value)]);
  }
}

/** A header of a message being sent (a server's response, a client's request). */
export function outgoingHeader(message: OutgoingMessage, name: string): string | string[] | number | undefined {
  return message.getHeader(name);
}

/** Every value of a header of a received message (request or response). */
export function incomingHeader(message: IncomingMessage, name: string): string | string[] | undefined {
  return message.headersDistinct?.[name] ?? message.headers[name];
}
