import type { Span } from '@opentelemetry/api';
import type { IncomingMessage, OutgoingMessage } from 'node:http';
import { SpanStatusCode } from '../api/trace';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  HTTP_REQUEST_METHOD_VALUE_OTHER,
} from '../semconv';

/**
 * HTTP semantic-convention rules shared by every HTTP instrumentation (node:http servers and
 * clients, fetch/undici): method normalisation, span names, URL redaction, header capture.
 */

/**
 * Query keys whose values the semantic conventions say to redact by default (matched
 * case-sensitively, the key kept): signed-URL credentials of AWS, Azure and Google Cloud. Always
 * redacted, whatever OTEL_INSTRUMENTATION_HTTP_SENSITIVE_QUERY_PARAMETERS says.
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

/**
 * Names of query parameters that usually carry credentials, redacted too unless
 * OTEL_INSTRUMENTATION_HTTP_SENSITIVE_QUERY_PARAMETERS replaces them. Matched against the
 * percent-decoded name with ASCII letters in any case; `*suffix` matches every name ending in
 * suffix; a name in brackets (`user[password]`, `token[]`) is matched by what the brackets hold.
 */
export const DEFAULT_SENSITIVE_QUERY_PARAMETERS: readonly string[] = [
  '*token',
  '*secret',
  '*password',
  '*passwd',
  '*signature',
  '*credential',
  '*credentials',
  '*_key',
  '*-key',
  '*apikey',
  'key',
  'accesskey',
  'secretkey',
  'privatekey',
  'pwd',
  'pass',
  'sig',
  'auth',
  'authorization',
  'bearer',
  'jwt',
  'code',
  'otp',
  'session',
  '*sessionid',
  '*session_id',
  'phpsessid',
];

/** An entry of OTEL_INSTRUMENTATION_HTTP_SENSITIVE_QUERY_PARAMETERS: a name, or `*` then a suffix. */
export function isSensitiveQueryPattern(entry: string): boolean {
  return /^\*?[^*\s=&#?]*$/.test(entry) && entry !== '';
}

/**
 * Decides which query parameters have their value redacted: the conventions' keys
 * (case-sensitively) and the given names and `*suffix` patterns (ASCII case-insensitively).
 * Built once at startup; matching reads the query in place and allocates nothing unless the name
 * is percent-encoded. A name is compared only with the names of its length and the suffixes
 * ending in its last character, so most parameters cost a couple of lookups.
 */
export class SensitiveQueryNames {
  private readonly conventions = byLength([...SENSITIVE_QUERY_KEYS]);
  /** Lower-case names, indexed by their length. */
  private readonly names: Array<readonly string[] | undefined>;
  /** Lower-case suffixes, indexed by the code of their last character (ASCII); the others after. */
  private readonly suffixes: Array<readonly string[] | undefined>;
  private readonly otherSuffixes: readonly string[];
  /** `*`: every parameter. */
  private readonly all: boolean;

  constructor(patterns: readonly string[]) {
    const lower = patterns.map((pattern) => pattern.toLowerCase());
    this.names = byLength(lower.filter((pattern) => !pattern.startsWith('*')));
    const suffixes = lower.filter((pattern) => pattern.startsWith('*')).map((pattern) => pattern.slice(1));
    this.all = suffixes.includes('');
    const byLast: Array<string[] | undefined> = Array.from({ length: 128 }, () => undefined);
    const other: string[] = [];
    for (const suffix of suffixes) {
      if (suffix === '') continue;
      const last = suffix.charCodeAt(suffix.length - 1);
      if (last < 128) (byLast[last] ??= []).push(suffix);
      else other.push(suffix);
    }
    this.suffixes = byLast;
    this.otherSuffixes = other;
  }

  /** Whether the parameter named text[from, to) (as it is in the query, percent-encoded) is sensitive. */
  matches(text: string, from: number, to: number): boolean {
    const percent = text.indexOf('%', from);
    return this.matchesName(text, from, to, percent !== -1 && percent < to);
  }

  /** matches(), told whether the name holds a '%' (redactQuery has seen every character already). */
  matchesName(text: string, from: number, to: number, encoded: boolean): boolean {
    if (this.all) return true;
    if (encoded) {
      text = decodeKey(text.slice(from, to));
      from = 0;
      to = text.length;
    }
    // `name[]` and `outer[name]` (nested form fields): the innermost name counts.
    if (to > from && text.charCodeAt(to - 1) === 0x5d) {
      if (to - 2 > from && text.charCodeAt(to - 2) === 0x5b) to -= 2;
      const open = to > from && text.charCodeAt(to - 1) === 0x5d ? text.lastIndexOf('[', to - 1) : -1;
      if (open >= from) {
        from = open + 1;
        to -= 1;
      }
    }
    const length = to - from;
    if (length === 0) return false;
    if (includes(this.conventions, length, text, from, false) || includes(this.names, length, text, from, true)) return true;
    const last = lowerCode(text.charCodeAt(to - 1));
    const suffixes = last < 128 ? this.suffixes[last] : this.otherSuffixes;
    if (suffixes === undefined) return false;
    for (let i = 0; i < suffixes.length; i++) {
      const suffix = suffixes[i]!;
      if (suffix.length <= length && sameAt(text, to - suffix.length, suffix, true)) return true;
    }
    return false;
  }
}

/** The sensitive query parameters of the default configuration. */
export const DEFAULT_SENSITIVE_QUERY_NAMES = new SensitiveQueryNames(DEFAULT_SENSITIVE_QUERY_PARAMETERS);

/** Names by length, in a dense array (no reads past its end on the hot path: see includes). */
function byLength(names: readonly string[]): Array<string[] | undefined> {
  const longest = names.reduce((max, name) => Math.max(max, name.length), 0);
  const table: Array<string[] | undefined> = Array.from({ length: longest + 1 }, () => undefined);
  for (const name of names) (table[name.length] ??= []).push(name);
  return table;
}

function includes(table: ReadonlyArray<readonly string[] | undefined>, length: number, text: string, at: number, foldCase: boolean): boolean {
  const names = length < table.length ? table[length] : undefined;
  if (names === undefined) return false;
  // The first character rules out most names without a call.
  const first = foldCase ? lowerCode(text.charCodeAt(at)) : text.charCodeAt(at);
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (name.charCodeAt(0) === first && sameAt(text, at, name, foldCase)) return true;
  }
  return false;
}

/** Whether text holds name at `at`; with foldCase, text's ASCII capitals count as lower case (name is lower case). */
function sameAt(text: string, at: number, name: string, foldCase: boolean): boolean {
  for (let i = 0; i < name.length; i++) {
    const code = text.charCodeAt(at + i);
    if ((foldCase ? lowerCode(code) : code) !== name.charCodeAt(i)) return false;
  }
  return true;
}

function lowerCode(code: number): number {
  return code >= 0x41 && code <= 0x5a ? code + 0x20 : code;
}

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

/**
 * Redacts the values of sensitive parameters in a query string (without its '?'), keeping their
 * names. The query itself is returned, not a copy, when nothing is redacted. Each '=', '&' and '%'
 * is looked for once, so the cost grows with the length of the query, never faster.
 */
export function redactQuery(query: string, sensitive: SensitiveQueryNames): string {
  let result: string | undefined;
  let copied = 0;
  let eq = query.indexOf('=');
  let percent = query.indexOf('%');
  for (let start = 0; eq !== -1 && start < query.length;) {
    let end = query.indexOf('&', start);
    if (end === -1) end = query.length;
    // A name without '=' has no value to redact; the '=' found belongs to a later parameter.
    if (eq < end) {
      if (percent !== -1 && percent < start) percent = query.indexOf('%', start);
      if (sensitive.matchesName(query, start, eq, percent !== -1 && percent < eq)) {
        result = (result ?? '') + query.slice(copied, eq + 1) + REDACTED;
        copied = end;
      }
    }
    start = end + 1;
    if (eq < start) eq = query.indexOf('=', start);
  }
  return result === undefined ? query : result + query.slice(copied);
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
export function fullUrl(
  protocol: string,
  host: string,
  port: number | undefined,
  target: string,
  sensitive: SensitiveQueryNames,
  hasCredentials = false,
): string {
  const scheme = protocol.endsWith(':') ? protocol.slice(0, -1) : protocol;
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const portPart = port === undefined || port === defaultPort(scheme) ? '' : `:${port}`;
  const { path, query } = splitTarget(target === '' ? '/' : target);
  const credentials = hasCredentials ? `${REDACTED}:${REDACTED}@` : '';
  return `${scheme}://${credentials}${bracketed}${portPart}${path}${query === undefined ? '' : `?${redactQuery(query, sensitive)}`}`;
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

/**
 * A client request's span from what its duration metric knows (http, https and fetch alike): how
 * a keep rule records a request it dropped. A 4xx or 5xx answer fails it, as on a recorded span.
 */
export function describeHttpClientSpan(
  span: Span,
  method: string,
  serverAddress: string | undefined,
  serverPort: number | undefined,
  statusCode: number,
  protocolVersion: string | undefined,
): void {
  span.setAttribute(ATTR_HTTP_REQUEST_METHOD, method);
  if (serverAddress !== undefined) span.setAttribute(ATTR_SERVER_ADDRESS, serverAddress);
  if (serverPort !== undefined) span.setAttribute(ATTR_SERVER_PORT, serverPort);
  if (protocolVersion !== undefined) span.setAttribute(ATTR_NETWORK_PROTOCOL_VERSION, protocolVersion);
  if (statusCode === 0) return;
  span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, statusCode);
  if (statusCode >= 400) {
    span.setAttribute(ATTR_ERROR_TYPE, String(statusCode));
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
}
