import {
  DEFAULT_SENSITIVE_QUERY_NAMES,
  defaultPort,
  fullUrl,
  parseHostHeader,
  type SensitiveQueryNames,
} from '../../src/instrumentation/http-semantics';

/** Where an undici request goes, as the HTTP client conventions report it. */
export interface RequestTarget {
  /** url.full, credentials and sensitive query values redacted. */
  readonly url: string;
  readonly address: string;
  /** The explicit port, or the scheme's default. */
  readonly port: number | undefined;
}

/**
 * The target of an undici request from its `origin` (`scheme://host[:port]`, never with
 * credentials) and `path`. The path is usually origin-form (`/p?q`); a request through a forward
 * proxy carries the absolute URL there instead (`http://user:pass@host/p`), which then names the
 * server. Anything else (CONNECT's `host:port`, `*`) is reported as the origin alone.
 * Undefined when the origin cannot be read.
 */
export function requestTarget(origin: unknown, path: unknown, sensitive: SensitiveQueryNames): RequestTarget | undefined {
  const target = typeof path === 'string' ? path : '/';
  if (target.startsWith('http://') || target.startsWith('https://')) return absoluteTarget(target, sensitive);
  const text = typeof origin === 'string' ? origin : originOf(origin);
  const schemeEnd = text?.indexOf('://') ?? -1;
  if (text === undefined || schemeEnd <= 0) return undefined;
  const scheme = text.slice(0, schemeEnd).toLowerCase();
  const slash = text.indexOf('/', schemeEnd + 3);
  const host = parseHostHeader(slash === -1 ? text.slice(schemeEnd + 3) : text.slice(schemeEnd + 3, slash));
  if (host === undefined) return undefined;
  const port = host.port ?? defaultPort(scheme);
  return { url: fullUrl(scheme, host.address, port, target.startsWith('/') ? target : '/', sensitive), address: host.address, port };
}

/** Some undici versions or callers may hand over a URL object rather than its origin string. */
function originOf(origin: unknown): string | undefined {
  if (origin === null || typeof origin !== 'object') return undefined;
  const value = (origin as { origin?: unknown }).origin;
  return typeof value === 'string' ? value : undefined;
}

function absoluteTarget(target: string, sensitive: SensitiveQueryNames): RequestTarget | undefined {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return undefined;
  }
  const scheme = url.protocol.slice(0, -1);
  const address = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port === '' ? defaultPort(scheme) : Number(url.port);
  const hasCredentials = url.username !== '' || url.password !== '';
  return { url: fullUrl(scheme, address, port, url.pathname + url.search, sensitive, hasCredentials), address, port };
}

/**
 * server.address and server.port of an undici request alone, as requestTarget() reads them, for a
 * request whose span records nothing (no url.full to build) but whose duration is measured. A
 * forward proxy's absolute-form path (rare) is read whole, as requestTarget() reads it.
 */
export function requestServer(origin: unknown, path: unknown): { address: string; port: number | undefined } | undefined {
  const target = typeof path === 'string' ? path : '/';
  if (target.startsWith('http://') || target.startsWith('https://')) return absoluteTarget(target, DEFAULT_SENSITIVE_QUERY_NAMES);
  const text = typeof origin === 'string' ? origin : originOf(origin);
  const schemeEnd = text?.indexOf('://') ?? -1;
  if (text === undefined || schemeEnd <= 0) return undefined;
  const slash = text.indexOf('/', schemeEnd + 3);
  const host = parseHostHeader(slash === -1 ? text.slice(schemeEnd + 3) : text.slice(schemeEnd + 3, slash));
  if (host === undefined) return undefined;
  return { address: host.address, port: host.port ?? defaultPort(text.slice(0, schemeEnd).toLowerCase()) };
}
