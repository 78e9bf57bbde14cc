import { describe, expect, it } from 'vitest';
import { hasRequestHeader, protocolVersion, requestHeaderValues, responseHeaderValues } from '../../../../instrumentations/fetch/undici-headers';

describe('requestHeaderValues', () => {
  it('reads undici 5 header blocks (`name: value\\r\\n`), names in any case', () => {
    const block = 'TraceParent: 00-abc\r\nx-tag: one\r\nX-Tag:  two \r\naccept: */*\r\n';
    expect(requestHeaderValues(block, 'traceparent')).toEqual(['00-abc']);
    expect(requestHeaderValues(block, 'x-tag')).toEqual(['one', 'two']);
    expect(requestHeaderValues(block, 'x-ta')).toBeUndefined();
    expect(requestHeaderValues(block, 'tag')).toBeUndefined();
    expect(requestHeaderValues('', 'x-tag')).toBeUndefined();
  });

  it('reads a block without the final line break and values holding colons', () => {
    expect(requestHeaderValues('a: 1\r\nreferer: http://x:1/p', 'referer')).toEqual(['http://x:1/p']);
  });

  it('reads undici 6/7 arrays of alternating names and values, values possibly arrays', () => {
    const headers = ['TraceParent', '00-abc', 'x-multi', ['1', '2'], 'X-MULTI', '3', 'accept', '*/*'];
    expect(requestHeaderValues(headers, 'traceparent')).toEqual(['00-abc']);
    expect(requestHeaderValues(headers, 'x-multi')).toEqual(['1', '2', '3']);
    expect(requestHeaderValues(headers, '00-abc')).toBeUndefined();
    expect(requestHeaderValues([], 'accept')).toBeUndefined();
  });

  it('reads nothing from shapes it does not know', () => {
    expect(requestHeaderValues(undefined, 'a')).toBeUndefined();
    expect(requestHeaderValues({ a: '1' } as never, 'a')).toBeUndefined();
  });
});

describe('hasRequestHeader', () => {
  it('answers for both shapes', () => {
    expect(hasRequestHeader('Baggage: k=v\r\n', 'baggage')).toBe(true);
    expect(hasRequestHeader(['baggage', 'k=v'], 'baggage')).toBe(true);
    expect(hasRequestHeader(['baggage', 'k=v'], 'traceparent')).toBe(false);
  });
});

describe('responseHeaderValues', () => {
  it('reads raw Buffer pairs as latin1, names in any case, every occurrence', () => {
    const raw = [
      Buffer.from('Set-Cookie'),
      Buffer.from('a=1'),
      Buffer.from('X-Name'),
      Buffer.from('caf\xe9', 'latin1'),
      Buffer.from('set-cookie'),
      Buffer.from('b=2'),
    ];
    expect(responseHeaderValues(raw, 'set-cookie')).toEqual(['a=1', 'b=2']);
    expect(responseHeaderValues(raw, 'x-name')).toEqual(['caf\xe9']);
    expect(responseHeaderValues(raw, 'x-other')).toBeUndefined();
  });

  it('reads string pairs too', () => {
    expect(responseHeaderValues(['Content-Type', 'text/plain'], 'content-type')).toEqual(['text/plain']);
    expect(responseHeaderValues(undefined, 'content-type')).toBeUndefined();
  });
});

describe('protocolVersion', () => {
  it('tells HTTP/1.1 by its request line and HTTP/2 by its pseudo-headers', () => {
    expect(protocolVersion('GET /a?b HTTP/1.1\r\nhost: x\r\n')).toBe('1.1');
    expect(protocolVersion(':authority: x\r\n:method: GET\r\n:path: /\r\n')).toBe('2');
    expect(protocolVersion('GET / HTTP/9\r\n')).toBeUndefined();
    expect(protocolVersion(undefined)).toBeUndefined();
  });
});
