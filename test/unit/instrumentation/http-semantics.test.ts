import { describe, expect, it } from 'vitest';
import { DEFAULT_KNOWN_HTTP_METHODS } from '../../../instrumentations/http/settings';
import {
  fullUrl,
  httpSpanName,
  normaliseMethod,
  parseHostHeader,
  pathMatcher,
  redactQuery,
  splitTarget,
} from '../../../src/instrumentation/http-semantics';
import { parseForwarded } from '../../../instrumentations/http/server';

const KNOWN = new Set(DEFAULT_KNOWN_HTTP_METHODS);

describe('HTTP semantic conventions', () => {
  it('normalises methods: known ones as they are, others to _OTHER with the original kept', () => {
    expect(normaliseMethod('GET', KNOWN)).toEqual({ method: 'GET', original: undefined });
    expect(normaliseMethod('PATCH', KNOWN)).toEqual({ method: 'PATCH', original: undefined });
    expect(normaliseMethod('get', KNOWN)).toEqual({ method: '_OTHER', original: 'get' });
    expect(normaliseMethod('PURGE', KNOWN)).toEqual({ method: '_OTHER', original: 'PURGE' });
    expect(normaliseMethod('PURGE', new Set(['PURGE']))).toEqual({ method: 'PURGE', original: undefined });
    expect(normaliseMethod(undefined, KNOWN)).toEqual({ method: 'GET', original: undefined });
  });

  it('names spans {method} or {method} {route}, HTTP for unknown methods', () => {
    expect(httpSpanName('GET')).toBe('GET');
    expect(httpSpanName('GET', '/users/:id')).toBe('GET /users/:id');
    expect(httpSpanName('_OTHER')).toBe('HTTP');
    expect(httpSpanName('_OTHER', '/x')).toBe('HTTP /x');
  });

  it('redacts the values of every sensitive query key, case-sensitively, keeping the keys', () => {
    const query =
      'AWSAccessKeyId=a&Signature=b&sig=c&X-Goog-Signature=d&X-Amz-Signature=e&X-Amz-Credential=f&X-Amz-Security-Token=g&q=keep&SIG=keep2';
    expect(redactQuery(query)).toBe(
      'AWSAccessKeyId=REDACTED&Signature=REDACTED&sig=REDACTED&X-Goog-Signature=REDACTED&X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED&X-Amz-Security-Token=REDACTED&q=keep&SIG=keep2',
    );
    expect(redactQuery('si%67=secret&a=1')).toBe('si%67=REDACTED&a=1');
    expect(redactQuery('sig&sig=&q')).toBe('sig&sig=REDACTED&q');
    expect(redactQuery('q=1&page=2')).toBe('q=1&page=2');
    expect(redactQuery('')).toBe('');
  });

  it('builds url.full without credentials, sensitive values or default ports', () => {
    expect(fullUrl('http:', 'example.com', 80, '/a?sig=x&b=1', true)).toBe('http://REDACTED:REDACTED@example.com/a?sig=REDACTED&b=1');
    expect(fullUrl('https', 'example.com', 8443, '')).toBe('https://example.com:8443/');
    expect(fullUrl('https', '::1', 443, '/v6')).toBe('https://[::1]/v6');
  });

  it('reads host and port from Host headers, IPv6 included', () => {
    expect(parseHostHeader('example.com')).toEqual({ address: 'example.com', port: undefined });
    expect(parseHostHeader('example.com:8080')).toEqual({ address: 'example.com', port: 8080 });
    expect(parseHostHeader('[::1]:3000')).toEqual({ address: '::1', port: 3000 });
    expect(parseHostHeader('[::1]')).toEqual({ address: '::1', port: undefined });
    expect(parseHostHeader('example.com:99999')).toEqual({ address: 'example.com', port: undefined });
    expect(parseHostHeader(undefined)).toBeUndefined();
  });

  it('reads the first element of a Forwarded header', () => {
    expect(parseForwarded('for=192.0.2.60;proto=http;host=example.com, for=198.51.100.17')).toEqual({
      for: '192.0.2.60',
      host: 'example.com',
    });
    expect(parseForwarded('For="[2001:db8:cafe::17]:4711"')).toEqual({ for: '2001:db8:cafe::17' });
    expect(parseForwarded('for=192.0.2.43:47011')).toEqual({ for: '192.0.2.43' });
    expect(parseForwarded('proto=https')).toBeUndefined();
  });

  it('splits request targets and matches excluded path patterns', () => {
    expect(splitTarget('/a/b?x=1')).toEqual({ path: '/a/b', query: 'x=1' });
    expect(splitTarget('/a')).toEqual({ path: '/a', query: undefined });
    const excluded = pathMatcher(['/health', '/internal/*', '/v1.0/ping'])!;
    expect(['/health', '/internal/metrics', '/internal/', '/v1.0/ping'].map(excluded)).toEqual([true, true, true, true]);
    expect(['/healthz', '/api/health', '/internal', '/v1x0/ping'].map(excluded)).toEqual([false, false, false, false]);
    expect(pathMatcher([])).toBeUndefined();
  });
});
