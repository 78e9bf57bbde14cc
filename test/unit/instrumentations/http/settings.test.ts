import { describe, expect, it } from 'vitest';
import { parseSettings, type Env } from '../../../../src/config/env';
import { readHttpSettings } from '../../../../instrumentations/http/settings';

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
    expect([...defaults.knownMethods]).toEqual(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE']);
    expect(defaults.incomingContext).toBe('continue');
    expect(parse({ OTEL_INSTRUMENTATION_HTTP_SERVER_INCOMING_CONTEXT: 'trust' }).warnings[0]).toContain(
      'OTEL_INSTRUMENTATION_HTTP_SERVER_INCOMING_CONTEXT="trust" is invalid',
    );
  });
});
