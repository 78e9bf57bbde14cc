import { DEFAULT_SENSITIVE_QUERY_NAMES, isSensitiveQueryPattern, SensitiveQueryNames } from '../../src/instrumentation/http-semantics';
import type { KeepRules } from '../../src/instrumentation/kept-requests';
import type { EnvReader } from '../../src/instrumentation/types';

export const INCOMING_CONTEXT_POLICIES = ['continue', 'restart', 'ignore'] as const;
export type IncomingContextPolicy = (typeof INCOMING_CONTEXT_POLICIES)[number];

/** The HTTP methods the semantic conventions call known (RFC 9110, PATCH and QUERY). */
export const DEFAULT_KNOWN_HTTP_METHODS: readonly string[] = [
  'CONNECT',
  'DELETE',
  'GET',
  'HEAD',
  'OPTIONS',
  'PATCH',
  'POST',
  'PUT',
  'QUERY',
  'TRACE',
];

/** The settings of the HTTP family: the http instrumentation (server and client) and fetch. */
export interface HttpSettings {
  /** Methods reported as they are; any other becomes `_OTHER` (OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS). */
  readonly knownMethods: ReadonlySet<string>;
  /** Header names (lowercase) recorded as http.request.header.* / http.response.header.*. */
  readonly serverRequestHeaders: readonly string[];
  readonly serverResponseHeaders: readonly string[];
  readonly clientRequestHeaders: readonly string[];
  readonly clientResponseHeaders: readonly string[];
  /** Path patterns (`*` matches anything) of incoming requests that get no span. */
  readonly serverExcludedPaths: readonly string[];
  /** What to do with trace context arriving on incoming requests. */
  readonly incomingContext: IncomingContextPolicy;
  /** Query parameters whose values url.query and url.full redact (OTEL_INSTRUMENTATION_HTTP_SENSITIVE_QUERY_PARAMETERS). */
  readonly sensitiveQuery: SensitiveQueryNames;
  /** Which requests the sampler dropped are recorded after all (TRACELET_KEEP_*); undefined: none. */
  readonly keep: KeepRules | undefined;
}

export function readHttpSettings(env: EnvReader): HttpSettings {
  return {
    knownMethods: new Set(env.names('OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS') ?? DEFAULT_KNOWN_HTTP_METHODS),
    serverRequestHeaders: env.headerNames('OTEL_INSTRUMENTATION_HTTP_SERVER_CAPTURE_REQUEST_HEADERS'),
    serverResponseHeaders: env.headerNames('OTEL_INSTRUMENTATION_HTTP_SERVER_CAPTURE_RESPONSE_HEADERS'),
    clientRequestHeaders: env.headerNames('OTEL_INSTRUMENTATION_HTTP_CLIENT_CAPTURE_REQUEST_HEADERS'),
    clientResponseHeaders: env.headerNames('OTEL_INSTRUMENTATION_HTTP_CLIENT_CAPTURE_RESPONSE_HEADERS'),
    serverExcludedPaths: env.names('OTEL_INSTRUMENTATION_HTTP_SERVER_EXCLUDED_PATHS') ?? [],
    incomingContext: env.oneOf('OTEL_INSTRUMENTATION_HTTP_SERVER_INCOMING_CONTEXT', INCOMING_CONTEXT_POLICIES, 'continue'),
    sensitiveQuery: readSensitiveQuery(env),
    keep: readKeepRules(env),
  };
}

function readKeepRules(env: EnvReader): KeepRules | undefined {
  const errors = env.bool('TRACELET_KEEP_ERRORS', true);
  const slowerThanMs = env.count('TRACELET_KEEP_SLOWER_THAN', 0);
  return errors || slowerThanMs > 0 ? { errors, slowerThanMs } : undefined;
}

/** The variable replaces the default names; `none` leaves only the conventions' own keys. */
function readSensitiveQuery(env: EnvReader): SensitiveQueryNames {
  const names = env.checkedNames(
    'OTEL_INSTRUMENTATION_HTTP_SENSITIVE_QUERY_PARAMETERS',
    isSensitiveQueryPattern,
    'comma-separated query parameter names, `*suffix` patterns, or none',
    'the default list',
  );
  return names === undefined ? DEFAULT_SENSITIVE_QUERY_NAMES : new SensitiveQueryNames(names);
}
