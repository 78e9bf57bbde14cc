import { describe, expect, it } from 'vitest';
import {
  MAX_TRACE_STATE_MEMBERS,
  TraceState,
  isValidTraceStateKey,
  isValidTraceStateValue,
  parseTraceState,
} from '../../../src/propagation/trace-state';

const LCALPHA = 'abcdefghijklmnopqrstuvwxyz';
const repeat = (text: string, length: number): string => text.repeat(Math.ceil(length / text.length)).slice(0, length);

/** `count` members k0=v0,k1=v1,... */
const members = (count: number): string => Array.from({ length: count }, (_, i) => `k${i}=v${i}`).join(',');

describe('tracestate keys (Level 2 grammar)', () => {
  it.each([
    ['single lcalpha', 'a'],
    ['single digit', '7'],
    ['all allowed characters', `${LCALPHA}0123456789_-*/@`],
    ['key of 256 characters', `a${repeat('b', 255)}`],
    ['key starting with a digit', '1abc'],
    ['Level 1 multi-tenant key', 'tenant@system'],
    ['tenant starting with a digit', '1tenant@sys'],
    ['tenant of 241 characters and system of 14', `${repeat('t', 241)}@${repeat('v', 14)}`],
    ['tenant of 242 characters', `${repeat('t', 242)}@v`],
    ['system of 15 characters', `t@${repeat('v', 15)}`],
    ['a trailing "@"', 'foo@'],
    ['two "@" in a row', 'foo@@bar'],
    ['two "@" apart', 'foo@bar@baz'],
    ['"@" followed by a digit', 'tenant@1sys'],
    ['allowed characters on both sides', 'a0_-*/@b0_-*/'],
  ])('accepts %s', (_, key) => {
    expect(isValidTraceStateKey(key)).toBe(true);
    expect(parseTraceState(`${key}=value`)?.get(key)).toBe('value');
  });

  it.each([
    ['empty', ''],
    ['uppercase', 'Foo'],
    ['key starting with "_"', '_abc'],
    ['key starting with "@"', '@foo'],
    ['key of 257 characters', `a${repeat('b', 256)}`],
    ['key of 257 characters with an "@"', `${repeat('t', 242)}@${repeat('v', 14)}`],
    ['space inside', 'foo bar'],
    ['a dot', 'foo.bar'],
    ['non-ASCII', 'cl\u00e9'],
    ['uppercase after "@"', 'tenant@Sys'],
  ])('rejects %s (and the whole header with it)', (_, key) => {
    expect(isValidTraceStateKey(key)).toBe(false);
    expect(parseTraceState(`good=1,${key}=value`)).toBeUndefined();
  });
});

describe('tracestate values', () => {
  it.each([
    ['one character', 'v'],
    ['spaces inside', 'with spaces inside'],
    ['a leading space', ' leading'],
    ['the edges of the range', '!~'],
    ['all punctuation but "," and "="', '!"#$%&\'()*+-./:;<>?@[\\]^_`{|}~'],
    ['256 characters', repeat('v', 256)],
  ])('accepts %s', (_, value) => {
    expect(isValidTraceStateValue(value)).toBe(true);
    expect(parseTraceState(`k=${value}`)?.get('k')).toBe(value);
  });

  it.each([
    ['empty', ''],
    ['"=" inside', 'a=b'],
    ['"," inside', 'a,b'],
    ['257 characters', repeat('v', 257)],
    ['a tab', 'a\tb'],
    ['DEL', 'a\x7f'],
    ['non-ASCII', 'caf\u00e9'],
    ['only spaces', '   '],
  ])('rejects %s', (_, value) => {
    expect(isValidTraceStateValue(value)).toBe(false);
  });

  it.each([
    ['"=" inside', 'k=a=b'],
    ['empty value', 'k='],
    ['257 characters', `k=${repeat('v', 257)}`],
    ['non-ASCII', 'k=caf\u00e9'],
    ['a control character', 'k=a\x01b'],
    ['a tab inside the value', 'k=a\tb'],
  ])('drops a header whose value has %s', (_, header) => {
    expect(parseTraceState(`good=1,${header}`)).toBeUndefined();
  });

  it('ignores a trailing space, which is optional whitespace around the member', () => {
    expect(parseTraceState('k=v ,other=1')?.get('k')).toBe('v');
  });
});

describe('parseTraceState', () => {
  it('reads members in order', () => {
    const state = parseTraceState('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE');
    expect(state?.get('rojo')).toBe('00f067aa0ba902b7');
    expect(state?.get('congo')).toBe('t61rcWkgMzE');
    expect(state?.serialize()).toBe('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE');
  });

  it.each([
    ['spaces around members', ' a=1 , b=2 '],
    ['tabs around members', '\ta=1\t,\tb=2\t'],
    ['empty members', ',a=1,,b=2,'],
    ['empty members with whitespace', 'a=1, ,\t,b=2'],
  ])('accepts %s', (_, header) => {
    expect(parseTraceState(header)?.serialize()).toBe('a=1,b=2');
  });

  it('reads an empty header as an empty state', () => {
    expect(parseTraceState('')?.serialize()).toBe('');
    expect(parseTraceState(' , ')?.serialize()).toBe('');
  });

  it('accepts 32 members, also with empty members between them', () => {
    expect(parseTraceState(members(MAX_TRACE_STATE_MEMBERS))?.get('k31')).toBe('v31');
    expect(parseTraceState(`${members(MAX_TRACE_STATE_MEMBERS)},,`)?.get('k0')).toBe('v0');
  });

  it('drops a header of 33 members', () => {
    expect(parseTraceState(members(MAX_TRACE_STATE_MEMBERS + 1))).toBeUndefined();
  });

  it('keeps the first of a repeated key and drops the later ones, the rest of the header kept', () => {
    expect(parseTraceState('foo=1,foo=1')?.serialize()).toBe('foo=1');
    expect(parseTraceState('foo=1,foo=2')?.serialize()).toBe('foo=1');
    expect(parseTraceState('a=1,b=2,a=3,c=4')?.serialize()).toBe('a=1,b=2,c=4');
  });

  it('counts repeated keys among the 32 members: 33 members are too many even with one key twice', () => {
    expect(parseTraceState(`${members(MAX_TRACE_STATE_MEMBERS)},k0=again`)).toBeUndefined();
    expect(parseTraceState(`${members(MAX_TRACE_STATE_MEMBERS - 1)},k0=again`)?.get('k0')).toBe('v0');
  });

  it.each([
    ['a member without "="', 'a=1,b'],
    ['a member that is only a key and "="', 'a=1,b='],
    ['whitespace between key and "="', 'a =1'],
    ['whitespace inside a member key', 'a b=1'],
    ['a lone "="', '='],
  ])('drops a header with %s', (_, header) => {
    expect(parseTraceState(header)).toBeUndefined();
  });
});

describe('TraceState', () => {
  const state = parseTraceState('a=1,b=2,c=3')!;

  it('get() finds keys and returns undefined for others', () => {
    expect(state.get('b')).toBe('2');
    expect(state.get('z')).toBeUndefined();
  });

  it('set() puts a new key first', () => {
    expect(state.set('d', '4').serialize()).toBe('d=4,a=1,b=2,c=3');
  });

  it('set() moves an existing key to the front with its new value', () => {
    expect(state.set('c', '9').serialize()).toBe('c=9,a=1,b=2');
  });

  it('set() and unset() leave the original unchanged', () => {
    state.set('d', '4');
    state.unset('a');
    expect(state.serialize()).toBe('a=1,b=2,c=3');
  });

  it('set() ignores an invalid key or value', () => {
    expect(state.set('Bad', '1')).toBe(state);
    expect(state.set('ok', 'a=b')).toBe(state);
    expect(state.set('ok', '')).toBe(state);
  });

  it('set() drops the rightmost member beyond 32', () => {
    const full = parseTraceState(members(MAX_TRACE_STATE_MEMBERS))!;
    const next = full.set('new', 'x');
    expect(next.get('new')).toBe('x');
    expect(next.get('k31')).toBeUndefined();
    expect(next.get('k30')).toBe('v30');
  });

  it('unset() removes a key, and returns the same state for a missing one', () => {
    expect(state.unset('b').serialize()).toBe('a=1,c=3');
    expect(state.unset('z')).toBe(state);
  });

  it('starts empty', () => {
    expect(new TraceState().serialize()).toBe('');
    expect(new TraceState().set('a', '1').set('b', '2').serialize()).toBe('b=2,a=1');
  });
});

describe('TraceState.serialize() size limit', () => {
  /** A member `key=vvv...` exactly `length` characters long. */
  const member = (key: string, length: number): string => `${key}=${repeat('v', length - key.length - 1)}`;
  const serialized = (...parts: string[]): string => parseTraceState(parts.join(','))!.serialize();

  it('keeps a header of exactly 512 characters', () => {
    const parts = [member('a', 128), member('b', 128), member('c', 128), member('d', 125)];
    expect(parts.join(',').length).toBe(512);
    expect(serialized(...parts)).toBe(parts.join(','));
  });

  it('keeps entries over 128 characters when the whole fits', () => {
    const parts = [member('a', 100), member('big', 200), member('b', 100), member('c', 100)];
    expect(serialized(...parts)).toBe(parts.join(','));
  });

  it('drops entries over 128 characters first when the header is too long', () => {
    const small = [member('a', 100), member('b', 100), member('c', 100), member('d', 100)];
    const big = member('big', 129);
    const header = serialized(small[0]!, big, small[1]!, small[2]!, small[3]!);
    expect(header).toBe(small.join(','));
  });

  it('does not count an entry of exactly 128 characters as large', () => {
    const parts = [member('a', 128), member('b', 128), member('c', 128), member('d', 128)];
    expect(serialized(...parts)).toBe(parts.slice(0, 3).join(','));
  });

  it('then drops entries from the end until it fits', () => {
    const parts = Array.from({ length: 6 }, (_, i) => member(`k${i}`, 100));
    const header = serialized(...parts);
    expect(header).toBe(parts.slice(0, 5).join(','));
    expect(header.length).toBe(504);
  });

  it('drops large entries and then from the end', () => {
    const parts = [member('big', 256), ...Array.from({ length: 6 }, (_, i) => member(`k${i}`, 120))];
    const header = serialized(...parts);
    expect(header).toBe(parts.slice(1, 5).join(','));
    expect(header.length).toBeLessThanOrEqual(512);
  });
});
