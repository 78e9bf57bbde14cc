import { describe, expect, it } from 'vitest';
import { requestTarget as targetOf } from '../../../../instrumentations/fetch/request-target';
import { DEFAULT_SENSITIVE_QUERY_NAMES, SensitiveQueryNames } from '../../../../src/instrumentation/http-semantics';

const requestTarget = (origin: unknown, path: unknown) => targetOf(origin, path, DEFAULT_SENSITIVE_QUERY_NAMES);

describe('requestTarget', () => {
  it('joins origin and origin-form path, redacting sensitive query values', () => {
    expect(requestTarget('http://127.0.0.1:8080', '/p/q?sig=secret&q=1')).toEqual({
      url: 'http://127.0.0.1:8080/p/q?sig=REDACTED&q=1',
      address: '127.0.0.1',
      port: 8080,
    });
  });

  it('reports the scheme default port as server.port and leaves it out of url.full', () => {
    expect(requestTarget('https://example.com', '/')).toEqual({ url: 'https://example.com/', address: 'example.com', port: 443 });
    expect(requestTarget('http://example.com:80', '/x')).toEqual({ url: 'http://example.com/x', address: 'example.com', port: 80 });
  });

  it('handles IPv6 origins', () => {
    expect(requestTarget('http://[::1]:3000', '/')).toEqual({ url: 'http://[::1]:3000/', address: '::1', port: 3000 });
  });

  it('reads a URL object by its origin', () => {
    expect(requestTarget(new URL('http://h:81/ignored'), '/a')?.url).toBe('http://h:81/a');
  });

  it('takes an absolute-form path (a proxy request) as the target, credentials redacted', () => {
    expect(requestTarget('http://proxy:3128', 'http://user:pass@example.com:8443/a?X-Amz-Signature=s')).toEqual({
      url: 'http://REDACTED:REDACTED@example.com:8443/a?X-Amz-Signature=REDACTED',
      address: 'example.com',
      port: 8443,
    });
    expect(requestTarget('http://proxy:3128', 'https://[::1]/')).toEqual({ url: 'https://[::1]/', address: '::1', port: 443 });
  });

  it('redacts the configured sensitive parameters, in origin-form and absolute-form targets alike', () => {
    expect(requestTarget('http://h', '/a?api_key=k1&access_token=t1&page=2')?.url).toBe('http://h/a?api_key=REDACTED&access_token=REDACTED&page=2');
    const custom = new SensitiveQueryNames(['page']);
    expect(targetOf('http://h', '/a?api_key=k1&page=2&sig=s', custom)?.url).toBe('http://h/a?api_key=k1&page=REDACTED&sig=REDACTED');
    expect(targetOf('http://proxy:3128', 'http://example.com/a?page=2&q=1', custom)?.url).toBe('http://example.com/a?page=REDACTED&q=1');
  });

  it('reports the origin alone for authority-form and asterisk targets', () => {
    expect(requestTarget('http://proxy:3128', 'example.com:443')?.url).toBe('http://proxy:3128/');
    expect(requestTarget('http://h', '*')?.url).toBe('http://h/');
  });

  it('gives up on origins it cannot read', () => {
    expect(requestTarget(undefined, '/')).toBeUndefined();
    expect(requestTarget('no-scheme', '/')).toBeUndefined();
    expect(requestTarget('http://h', 'http://[bad')).toBeUndefined();
  });
});
