import { describe, expect, it } from 'vitest';
import { parseSettings, type Env } from '../../../../src/config/env';
import { readHttpSettings } from '../../../../instrumentations/http/settings';
import { DEFAULT_SENSITIVE_QUERY_NAMES, redactQuery } from '../../../../src/instrumentation/http-semantics';

const parse = (env: Env) => parseSettings(env, readHttpSettings);

describe('HTTP settings (http and fetch)', () => {
  it('reads the HTTP instrumentation variables', () => {
    const { settings: http, warnings } = parse({
      OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS: 'GET,POST,PURGE',
      OTEL_INSTRUMENTATION_HTTP_SERVER_CAPTURE_REQUEST_HEADERS: 'X-Request-Id, Authorization',
      OTEL_INSTRUMENTATION_HTTP_SERVER_CAPTURE_RESPONSE_HEADERS: 'content-type',
      OTEL_INSTRUMENTATION_HTTP_CLIENT_CAPTURE_REQUEST_HEADERS: 'x-a',
      OTEL_INSTRUMENTATION_HTTP_CLIENT_CAPTURE_RESPONSE_HEADERS: 'x-b,X-B',
      OTEL_INSTRUMENTATION_HTTP_SERVER_EXCLUDED_PATHS: '/health, /internal/*',
      OTEL_INSTRUMENTATION_HTTP_SERVER_INCOMING_CONTEXT: 'Restart',
    });
    expect(warnings).toEqual([]);
    expect([...http.knownMethods]).toEqual(['GET', 'POST', 'PURGE']);
    expect(http).toMatchObject({
      serverRequestHeaders: ['x-request-id', 'authorization'],
      serverResponseHeaders: ['content-type'],
      clientRequestHeaders: ['x-a'],
      clientResponseHeaders: ['x-b'],
      serverExcludedPaths: ['/health', '/internal/*'],
      incomingContext: 'restart',
    });
    const defaults = parse({}).settings;
    expect([...defaults.knownMethods]).toEqual(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'QUERY', 'TRACE']);
    expect(defaults.incomingContext).toBe('continue');
    expect(parse({ OTEL_INSTRUMENTATION_HTTP_SERVER_INCOMING_CONTEXT: 'trust' }).warnings[0]).toContain(
      'OTEL_INSTRUMENTATION_HTTP_SERVER_INCOMING_CONTEXT="trust" is invalid',
    );
  });

  describe('OTEL_INSTRUMENTATION_HTTP_SENSITIVE_QUERY_PARAMETERS', () => {
    const QUERY = 'token=t&api_key=k&ticket=c&sig=s&q=1';
    const redactedWith = (value: string | undefined) => {
      const { settings, warnings } = parse({ OTEL_INSTRUMENTATION_HTTP_SENSITIVE_QUERY_PARAMETERS: value });
      return { query: redactQuery(QUERY, settings.sensitiveQuery), warnings };
    };

    it('defaults to the credential-like names, shared by every reader', () => {
      expect(redactedWith(undefined)).toEqual({ query: 'token=REDACTED&api_key=REDACTED&ticket=c&sig=REDACTED&q=1', warnings: [] });
      expect(parse({}).settings.sensitiveQuery).toBe(DEFAULT_SENSITIVE_QUERY_NAMES);
    });

    it('is replaced by the names given; none keeps only the conventions keys', () => {
      expect(redactedWith('Ticket, *_key')).toEqual({ query: 'token=t&api_key=REDACTED&ticket=REDACTED&sig=REDACTED&q=1', warnings: [] });
      expect(redactedWith('none')).toEqual({ query: 'token=t&api_key=k&ticket=c&sig=REDACTED&q=1', warnings: [] });
    });

    it('warns about a bad value and keeps the default list', () => {
      const { query, warnings } = redactedWith('ticket,tok*en');
      expect(query).toBe('token=REDACTED&api_key=REDACTED&ticket=c&sig=REDACTED&q=1');
      expect(warnings).toEqual([
        'OTEL_INSTRUMENTATION_HTTP_SENSITIVE_QUERY_PARAMETERS="ticket,tok*en" is invalid (expected comma-separated query parameter names, `*suffix` patterns, or none; rejected tok*en); using the default list',
      ]);
    });
  });
});
