import { describe, expect, it } from 'vitest';
import { DEFAULT_KNOWN_HTTP_METHODS } from '../../../instrumentations/http/settings';
import {
  DEFAULT_SENSITIVE_QUERY_NAMES,
  DEFAULT_SENSITIVE_QUERY_PARAMETERS,
  fullUrl,
  httpSpanName,
  isSensitiveQueryPattern,
  normaliseMethod,
  parseHostHeader,
  pathMatcher,
  redactQuery,
  SensitiveQueryNames,
  splitTarget,
} from '../../../src/instrumentation/http-semantics';
import { parseForwarded } from '../../../instrumentations/http/server';

const KNOWN = new Set(DEFAULT_KNOWN_HTTP_METHODS);
/** Only the conventions' own keys (OTEL_INSTRUMENTATION_HTTP_SENSITIVE_QUERY_PARAMETERS=none). */
const CONVENTIONS_ONLY = new SensitiveQueryNames([]);
const isSensitive = (name: string, names = DEFAULT_SENSITIVE_QUERY_NAMES) => names.matches(name, 0, name.length);

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

  it('redacts the values of the conventions keys, case-sensitively, keeping the keys, whatever the configured names', () => {
    const query =
      'AWSAccessKeyId=a&Signature=b&sig=c&X-Goog-Signature=d&X-Amz-Signature=e&X-Amz-Credential=f&X-Amz-Security-Token=g&q=keep&SIG=keep2';
    expect(redactQuery(query, CONVENTIONS_ONLY)).toBe(
      'AWSAccessKeyId=REDACTED&Signature=REDACTED&sig=REDACTED&X-Goog-Signature=REDACTED&X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED&X-Amz-Security-Token=REDACTED&q=keep&SIG=keep2',
    );
    expect(redactQuery('si%67=secret&a=1', CONVENTIONS_ONLY)).toBe('si%67=REDACTED&a=1');
    expect(redactQuery('sig&sig=&q', CONVENTIONS_ONLY)).toBe('sig&sig=REDACTED&q');
    expect(redactQuery('token=t&q=1', CONVENTIONS_ONLY)).toBe('token=t&q=1');
    expect(redactQuery('sig=s&token=t', new SensitiveQueryNames(['other']))).toBe('sig=REDACTED&token=t');
  });

  it('redacts by default the values of parameters named like credentials, and nothing else', () => {
    const secrets = [
      'token',
      'access_token',
      'refresh_token',
      'id_token',
      'accessToken',
      'X-CSRF-Token',
      'api_key',
      'apikey',
      'api-key',
      'apiKey',
      'x-api-key',
      'key',
      'private_key',
      'privateKey',
      'secret',
      'client_secret',
      'clientSecret',
      'password',
      'newPassword',
      'passwd',
      'pwd',
      'auth',
      'Authorization',
      'signature',
      'sig',
      'SIG',
      'session',
      'sessionid',
      'JSESSIONID',
      'session_id',
      'PHPSESSID',
      'code',
      'jwt',
      'bearer',
      'credential',
      'credentials',
      'otp',
    ];
    expect(secrets.filter((name) => !isSensitive(name))).toEqual([]);
    const plain = ['q', 'page', 'id', 'user', 'monkey', 'keyword', 'tokens_used', 'codec', 'author', 'passage', 'sessions', 'signed', 'lang', ''];
    expect(plain.filter((name) => isSensitive(name))).toEqual([]);
  });

  it('matches the percent-decoded name, and the innermost name of bracketed form fields', () => {
    expect(isSensitive('api%5Fkey')).toBe(true);
    expect(isSensitive('%74oken')).toBe(true);
    expect(isSensitive('user[password]')).toBe(true);
    expect(isSensitive('user%5Bpassword%5D')).toBe(true);
    expect(isSensitive('token[]')).toBe(true);
    expect(isSensitive('a[b][token]')).toBe(true);
    expect(isSensitive('password[x]')).toBe(false);
    expect(isSensitive('%E0%A4%A')).toBe(false); // malformed encoding: the name as written
    expect(redactQuery('q=1&user%5Bpassword%5D=p&filter[key]=k&ids[]=1', DEFAULT_SENSITIVE_QUERY_NAMES)).toBe(
      'q=1&user%5Bpassword%5D=REDACTED&filter[key]=REDACTED&ids[]=1',
    );
  });

  it('replaces the default names with configured ones: exact names, *suffix patterns, * for every parameter', () => {
    const custom = new SensitiveQueryNames(['Ticket', '*_hash']);
    expect(['ticket', 'TICKET', 'file_hash', 'sig'].map((name) => isSensitive(name, custom))).toEqual([true, true, true, true]);
    expect(['token', 'password', 'tickets', 'hash'].map((name) => isSensitive(name, custom))).toEqual([false, false, false, false]);
    expect(redactQuery('a=1&b=2&=3', new SensitiveQueryNames(['*']))).toBe('a=REDACTED&b=REDACTED&=REDACTED');
  });

  it('returns the very query when nothing is redacted, and keeps every separator and name', () => {
    const query = 'q=OpenTelemetry&page=2&flag&x=a=b';
    expect(redactQuery(query, DEFAULT_SENSITIVE_QUERY_NAMES)).toBe(query);
    expect(redactQuery('', DEFAULT_SENSITIVE_QUERY_NAMES)).toBe('');
    expect(redactQuery('token=a=b&&key=&flag&q=1&password=p', DEFAULT_SENSITIVE_QUERY_NAMES)).toBe(
      'token=REDACTED&&key=REDACTED&flag&q=1&password=REDACTED',
    );
    expect(redactQuery('token', DEFAULT_SENSITIVE_QUERY_NAMES)).toBe('token');
    expect(redactQuery('&token=t&', DEFAULT_SENSITIVE_QUERY_NAMES)).toBe('&token=REDACTED&');
    // A name without '=' before a sensitive one: the '=' found ahead belongs to the later name.
    expect(redactQuery('flag&token=t&page=1', DEFAULT_SENSITIVE_QUERY_NAMES)).toBe('flag&token=REDACTED&page=1');
  });

  it('accepts names and *suffix patterns as configured names, nothing that cannot be a parameter name', () => {
    expect(['token', '*_token', '*', 'X-Api-Key', 'user[pass]'].filter(isSensitiveQueryPattern)).toHaveLength(5);
    expect(['tok*en', 'token*', 'api key', 'a=b', 'a&b', '**x', '#x', 'a?'].filter(isSensitiveQueryPattern)).toEqual([]);
    expect(DEFAULT_SENSITIVE_QUERY_PARAMETERS.every(isSensitiveQueryPattern)).toBe(true);
  });

  it('builds url.full without credentials, sensitive values or default ports', () => {
    expect(fullUrl('http:', 'example.com', 80, '/a?sig=x&b=1', DEFAULT_SENSITIVE_QUERY_NAMES, true)).toBe(
      'http://REDACTED:REDACTED@example.com/a?sig=REDACTED&b=1',
    );
    expect(fullUrl('http', 'h', 8080, '/a?access_token=x&b=1', DEFAULT_SENSITIVE_QUERY_NAMES)).toBe('http://h:8080/a?access_token=REDACTED&b=1');
    expect(fullUrl('http', 'h', 8080, '/a?access_token=x&b=1', CONVENTIONS_ONLY)).toBe('http://h:8080/a?access_token=x&b=1');
    expect(fullUrl('https', 'example.com', 8443, '', DEFAULT_SENSITIVE_QUERY_NAMES)).toBe('https://example.com:8443/');
    expect(fullUrl('https', '::1', 443, '/v6', DEFAULT_SENSITIVE_QUERY_NAMES)).toBe('https://[::1]/v6');
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
      proto: 'http',
    });
    expect(parseForwarded('For="[2001:db8:cafe::17]:4711"')).toEqual({ for: '2001:db8:cafe::17' });
    expect(parseForwarded('for=192.0.2.43:47011')).toEqual({ for: '192.0.2.43' });
    expect(parseForwarded('proto=https')).toEqual({ proto: 'https' });
    expect(parseForwarded('by=proxy')).toBeUndefined();
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
