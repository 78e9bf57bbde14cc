import {
  ROOT_CONTEXT,
  baggageEntryMetadataFromString,
  defaultTextMapGetter,
  defaultTextMapSetter,
  propagation,
  type BaggageEntry,
  type Context,
} from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { diag } from '../../../src/diag/logger';
import { BaggagePropagator, MAX_BAGGAGE_BYTES, MAX_BAGGAGE_MEMBER_BYTES, MAX_BAGGAGE_MEMBERS } from '../../../src/propagation/baggage';

const propagator = new BaggagePropagator();

const debugLines: string[] = [];
diag.setSink((line) => debugLines.push(line.trimEnd()));
diag.setLevel('debug');
afterEach(() => {
  debugLines.length = 0;
});

/** A list-member `{key}=vvv…` of exactly `length` bytes. */
const memberOf = (key: string, length: number): string => `${key}=${'v'.repeat(length - key.length - 1)}`;

/** The extracted entries as key → value, in order. */
function extractValues(baggage: unknown, context: Context = ROOT_CONTEXT): Record<string, string> {
  const extracted = propagator.extract(context, { baggage }, defaultTextMapGetter);
  const entries = propagation.getBaggage(extracted)?.getAllEntries() ?? [];
  // fromEntries, so that a "__proto__" key is an own property
  return Object.fromEntries(entries.map(([key, entry]) => [key, entry.value]));
}

function extractEntry(baggage: string, key: string): BaggageEntry | undefined {
  const extracted = propagator.extract(ROOT_CONTEXT, { baggage }, defaultTextMapGetter);
  return propagation.getBaggage(extracted)?.getEntry(key);
}

function injectEntries(entries: Record<string, BaggageEntry>): string | undefined {
  const context = propagation.setBaggage(ROOT_CONTEXT, propagation.createBaggage(entries));
  const carrier: Record<string, string> = {};
  propagator.inject(context, carrier, defaultTextMapSetter);
  return carrier['baggage'];
}

describe('baggage extraction', () => {
  it.each([
    ['one member', 'key1=value1', { key1: 'value1' }],
    ['several members', 'key1=value1,key2=value2', { key1: 'value1', key2: 'value2' }],
    ['whitespace around keys and values', ' key1 = value1 ,\tkey2\t=\tvalue2\t', { key1: 'value1', key2: 'value2' }],
    ['empty members', ',a=1,, ,b=2,', { a: '1', b: '2' }],
    ['an empty value', 'a=', { a: '' }],
    ['"=" inside a value', 'a=b=c==', { a: 'b=c==' }],
    ['"+" kept as a plus', 'a=1+1', { a: '1+1' }],
    ['percent-encoded spaces and punctuation', 'a=hello%20world%2C%3B%22%5C', { a: 'hello world,;"\\' }],
    ['an encoded "%"', 'a=100%25', { a: '100%' }],
    ['lowercase escapes', 'a=%c3%a9', { a: '\u00e9' }],
    ['encoded UTF-8', 'a=%F0%9F%98%80%E2%82%AC', { a: '\u{1F600}\u20ac' }],
    ['invalid UTF-8, replaced by U+FFFD', 'a=x%FFy', { a: 'x\ufffdy' }],
    ['token punctuation in keys', "!#$%&'*+-.^_`|~=1", { "!#$%&'*+-.^_`|~": '1' }],
    ['a later duplicate winning', 'a=1,a=2', { a: '2' }],
    ['a key such as __proto__', '__proto__=x', Object.fromEntries([['__proto__', 'x']])],
  ])('reads %s', (_, header, expected) => {
    expect(extractValues(header)).toEqual(expected);
  });

  it.each([
    ['no "="', 'noequals'],
    ['an empty key', '=value'],
    ['a space inside the key', 'bad key=1'],
    ['a non-token key', 'k(1)=1'],
    ['a non-ASCII key', 'cl\u00e9=1'],
    ['a space inside the value', 'k=va lue'],
    ['a double quote in the value', 'k="quoted"'],
    ['a backslash in the value', 'k=a\\b'],
    ['a non-ASCII value', 'k=caf\u00e9'],
    ['a bad escape', 'k=%zz'],
    ['a truncated escape', 'k=abc%2'],
    ['a property with a control character', 'k=v;p\x01'],
    // Seen forwarded before: a tab then junk after a property key, and a property that is no token.
    ['a property key followed by junk', 'k86=DF%2028;.\t3J'],
    ['a property that is not a token, then an empty one', 'tenant59=%E2%82%AC;{;'],
    ['an empty property after ";"', 'k=v;'],
    ['an empty property between two', 'k=v;p1;;p2'],
    ['an empty property first', 'k=v; ;p'],
    ['a space inside a property key', 'k=v;pro p=1'],
    ['a space inside a property value', 'k=v;p=a b'],
    ['a double quote in a property value', 'k=v;p="x"'],
    ['a backslash in a property value', 'k=v;p=a\\b'],
    ['a non-ASCII property', 'k=v;caf\u00e9'],
    ['a property with no key', 'k=v;=1'],
  ])('skips a member with %s, keeping the others', (_, member) => {
    expect(extractValues(`first=1,${member},last=2`)).toEqual({ first: '1', last: '2' });
  });

  it('keeps properties as the entry metadata', () => {
    const entry = extractEntry('k=v;p1;p2=x', 'k');
    expect(entry?.value).toBe('v');
    expect(entry?.metadata?.toString()).toBe('p1;p2=x');
  });

  it.each([
    ['a key alone', 'p'],
    ['key=value', 'p=1'],
    ['an empty property value', 'p='],
    ['"=" and escapes inside a property value', 'p=a=b%20c'],
    ['whitespace around ";" and "="', 'p1 ; p2 = x\t;\tp3'],
    ['whitespace after a lone key', 'p1 ;p2'],
  ])('accepts properties made of %s', (_, properties) => {
    expect(extractEntry(`k=v;${properties}`, 'k')?.metadata?.toString()).toBe(properties);
  });

  it('trims whitespace around properties', () => {
    const entry = extractEntry('k = v ; p1 = 2 ', 'k');
    expect(entry?.value).toBe('v');
    expect(entry?.metadata?.toString()).toBe('p1 = 2');
  });

  it('has no metadata without properties', () => {
    const entry = extractEntry('k=v', 'k');
    expect(entry?.value).toBe('v');
    expect(entry?.metadata).toBeUndefined();
  });

  it('joins repeated headers', () => {
    expect(extractValues(['a=1', 'b=2'])).toEqual({ a: '1', b: '2' });
  });

  it(`reads ${MAX_BAGGAGE_MEMBERS} members, and drops the ${MAX_BAGGAGE_MEMBERS + 1}st`, () => {
    const members = (count: number) => Array.from({ length: count }, (_, i) => `k${i}=${i}`).join(',');
    expect(Object.keys(extractValues(members(MAX_BAGGAGE_MEMBERS)))).toHaveLength(MAX_BAGGAGE_MEMBERS);
    const values = extractValues(members(MAX_BAGGAGE_MEMBERS + 1));
    expect(Object.keys(values)).toHaveLength(MAX_BAGGAGE_MEMBERS);
    expect(values[`k${MAX_BAGGAGE_MEMBERS - 1}`]).toBe(String(MAX_BAGGAGE_MEMBERS - 1));
    expect(values[`k${MAX_BAGGAGE_MEMBERS}`]).toBeUndefined();
  });

  it('counts only valid members towards the member limit', () => {
    const malformed = Array.from({ length: 20 }, (_, i) => `bad${i}`);
    const valid = Array.from({ length: MAX_BAGGAGE_MEMBERS }, (_, i) => `k${i}=${i}`);
    expect(Object.keys(extractValues([...malformed, ...valid].join(',')))).toHaveLength(MAX_BAGGAGE_MEMBERS);
  });

  it(`reads a member of ${MAX_BAGGAGE_MEMBER_BYTES} bytes, and drops one of ${MAX_BAGGAGE_MEMBER_BYTES + 1}`, () => {
    expect(Object.keys(extractValues(`a=1,${memberOf('fits', MAX_BAGGAGE_MEMBER_BYTES)},z=2`))).toEqual(['a', 'fits', 'z']);
    expect(Object.keys(extractValues(`a=1,${memberOf('over', MAX_BAGGAGE_MEMBER_BYTES + 1)},z=2`))).toEqual(['a', 'z']);
  });

  it("measures a member's size without the whitespace around it", () => {
    const member = memberOf('fits', MAX_BAGGAGE_MEMBER_BYTES);
    expect(Object.keys(extractValues(`a=1, \t${member}\t ,z=2`))).toEqual(['a', 'fits', 'z']);
  });

  it(`ignores the header beyond ${MAX_BAGGAGE_BYTES} bytes, dropping the member that crosses the limit`, () => {
    // 41 members of 200 characters: member i ends at 201 * i + 200
    const members = Array.from({ length: 41 }, (_, i) => `k${String(i).padStart(2, '0')}=${'v'.repeat(196)}`);
    const header = members.join(',');
    expect(header.length).toBeGreaterThan(MAX_BAGGAGE_BYTES);
    const keys = Object.keys(extractValues(header));
    const lastWithin = Math.floor((MAX_BAGGAGE_BYTES - 200) / 201); // member 40 ends at 8240
    expect(keys).toHaveLength(lastWithin + 1);
    expect(keys.at(-1)).toBe(`k${lastWithin}`);
  });

  it(`reads a header of exactly ${MAX_BAGGAGE_BYTES} bytes whole, and drops the last member at ${MAX_BAGGAGE_BYTES + 1}`, () => {
    const members = (last: number) => ['a=1', memberOf('b', MAX_BAGGAGE_MEMBER_BYTES), memberOf('z', last)].join(',');
    const exact = members(MAX_BAGGAGE_BYTES - 2 - 3 - MAX_BAGGAGE_MEMBER_BYTES);
    expect(exact.length).toBe(MAX_BAGGAGE_BYTES);
    expect(Object.keys(extractValues(exact))).toEqual(['a', 'b', 'z']);
    const over = members(MAX_BAGGAGE_BYTES - 2 - 3 - MAX_BAGGAGE_MEMBER_BYTES + 1);
    expect(over.length).toBe(MAX_BAGGAGE_BYTES + 1);
    expect(Object.keys(extractValues(over))).toEqual(['a', 'b']);
  });

  it('says what it dropped in one debug line per header', () => {
    const tooMany = Array.from({ length: MAX_BAGGAGE_MEMBERS + 5 }, (_, i) => `k${i}=${i}`);
    extractValues(['bad', 'k86=DF%2028;.\t3J', memberOf('big', MAX_BAGGAGE_MEMBER_BYTES + 1), ...tooMany].join(','));
    expect(debugLines).toHaveLength(1);
    expect(debugLines[0]).toMatch(/baggage header received: dropped 2 malformed and 1 over-limit .*ignored the rest/);
  });

  it('logs nothing for a header that follows the rules', () => {
    extractValues('a=1,b=2;p');
    expect(debugLines).toEqual([]);
  });

  it('merges with baggage already in the context, the header winning', () => {
    const existing = propagation.createBaggage({ a: { value: '1' }, b: { value: '2' } });
    const context = propagation.setBaggage(ROOT_CONTEXT, existing);
    expect(extractValues('b=3,c=4', context)).toEqual({ a: '1', b: '3', c: '4' });
  });

  it.each([
    ['no header', undefined],
    ['only malformed members', 'bad,=x,k=va lue'],
    ['an empty header', ''],
    ['a number', 42],
    ['an array holding a number', ['a=1', 42]],
  ])('returns the context unchanged for %s', (_, baggage) => {
    expect(propagator.extract(ROOT_CONTEXT, { baggage }, defaultTextMapGetter)).toBe(ROOT_CONTEXT);
  });
});

describe('baggage injection', () => {
  it.each([
    ['plain values unchanged', 'value1', 'value1'],
    ['baggage-octet punctuation unchanged', "!#$&'()*+-./:<=>?@[]^_`{|}~", "!#$&'()*+-./:<=>?@[]^_`{|}~"],
    ['spaces', 'hello world', 'hello%20world'],
    ['"%"', '100%', '100%25'],
    ['",", ";", \'"\' and "\\"', ',;"\\', '%2C%3B%22%5C'],
    ['control characters', 'a\tb\n', 'a%09b%0A'],
    ['non-ASCII as UTF-8', '\u00e9\u{1F600}', '%C3%A9%F0%9F%98%80'],
  ])('percent-encodes %s', (_, value, encoded) => {
    expect(injectEntries({ k: { value } })).toBe(`k=${encoded}`);
  });

  it('writes entries in order, with their metadata', () => {
    const header = injectEntries({
      a: { value: '1' },
      b: { value: '2', metadata: baggageEntryMetadataFromString('p1;p2=x') },
    });
    expect(header).toBe('a=1,b=2;p1;p2=x');
  });

  it.each([
    ['a ","', 'p,q'],
    ['a line feed', 'p\n'],
    ['a property key followed by junk', '.\t3J'],
    ['a property that is not a token', '{'],
    ['an empty property', 'p;'],
    ['a space inside a property value', 'p=a b'],
  ])('drops a member whose metadata holds %s, whole', (_, metadata) => {
    const header = injectEntries({
      a: { value: '1' },
      bad: { value: '2', metadata: baggageEntryMetadataFromString(metadata) },
      z: { value: '3' },
    });
    expect(header).toBe('a=1,z=3');
  });

  it('sends metadata without the whitespace around it, and none for empty metadata', () => {
    const header = injectEntries({
      a: { value: '1', metadata: baggageEntryMetadataFromString(' p1 ; p2 = x\t') },
      b: { value: '2', metadata: baggageEntryMetadataFromString('  ') },
    });
    expect(header).toBe('a=1;p1 ; p2 = x,b=2');
  });

  it('skips entries whose key is not a token, or whose value is not valid UTF-16', () => {
    const header = injectEntries({
      'bad key': { value: '1' },
      'cl\u00e9': { value: '2' },
      '': { value: '3' },
      lone: { value: '\ud800' },
      good: { value: '4' },
    });
    expect(header).toBe('good=4');
  });

  it(`writes ${MAX_BAGGAGE_MEMBERS} members, and drops the ${MAX_BAGGAGE_MEMBERS + 1}st`, () => {
    const entries = (count: number) => {
      const result: Record<string, BaggageEntry> = {};
      for (let i = 0; i < count; i++) result[`k${i}`] = { value: String(i) };
      return result;
    };
    expect(injectEntries(entries(MAX_BAGGAGE_MEMBERS))!.split(',')).toHaveLength(MAX_BAGGAGE_MEMBERS);
    const members = injectEntries(entries(MAX_BAGGAGE_MEMBERS + 1))!.split(',');
    expect(members).toHaveLength(MAX_BAGGAGE_MEMBERS);
    expect(members.at(-1)).toBe(`k${MAX_BAGGAGE_MEMBERS - 1}=${MAX_BAGGAGE_MEMBERS - 1}`);
  });

  it('does not count malformed entries towards the member limit', () => {
    const entries: Record<string, BaggageEntry> = { 'bad key': { value: 'x' } };
    for (let i = 0; i < MAX_BAGGAGE_MEMBERS; i++) entries[`k${i}`] = { value: String(i) };
    expect(injectEntries(entries)!.split(',')).toHaveLength(MAX_BAGGAGE_MEMBERS);
  });

  it(`writes a member of ${MAX_BAGGAGE_MEMBER_BYTES} bytes, and drops one of ${MAX_BAGGAGE_MEMBER_BYTES + 1}, measured encoded`, () => {
    const value = (length: number) => 'v'.repeat(length - 'k='.length);
    expect(injectEntries({ k: { value: value(MAX_BAGGAGE_MEMBER_BYTES) } })).toBe(`k=${value(MAX_BAGGAGE_MEMBER_BYTES)}`);
    expect(injectEntries({ k: { value: value(MAX_BAGGAGE_MEMBER_BYTES + 1) } })).toBeUndefined();
    // 1364 spaces are 4092 bytes once encoded: with "k=" and ";p", 4096 fit; one more space does not
    expect(injectEntries({ k: { value: ' '.repeat(1364), metadata: baggageEntryMetadataFromString('p') } })?.length).toBe(4096);
    expect(injectEntries({ k: { value: ' '.repeat(1364), metadata: baggageEntryMetadataFromString('pp') } })).toBeUndefined();
  });

  it(`stops before ${MAX_BAGGAGE_BYTES} bytes`, () => {
    const entries: Record<string, BaggageEntry> = {};
    for (let i = 0; i < 10; i++) entries[`k${i}`] = { value: 'v'.repeat(1000) }; // members of 1003 characters
    const header = injectEntries(entries)!;
    expect(header.length).toBeLessThanOrEqual(MAX_BAGGAGE_BYTES);
    expect(header.split(',')).toHaveLength(8); // 8 * 1003 + 7 = 8031, a ninth would make 9035
  });

  it(`writes a header of exactly ${MAX_BAGGAGE_BYTES} bytes, and drops the member that would make it ${MAX_BAGGAGE_BYTES + 1}`, () => {
    const value = (length: number) => 'v'.repeat(length - 2);
    const entries = (last: number): Record<string, BaggageEntry> => ({
      a: { value: value(MAX_BAGGAGE_MEMBER_BYTES) },
      b: { value: value(MAX_BAGGAGE_MEMBER_BYTES - 3 - 2) },
      z: { value: value(last) },
      small: { value: '' }, // "small=" never fits after a full header
    });
    expect(injectEntries(entries(3))?.length).toBe(MAX_BAGGAGE_BYTES);
    const header = injectEntries(entries(4))!;
    expect(header.split(',').map((member) => member.slice(0, member.indexOf('=')))).toEqual(['a', 'b']);
  });

  it('keeps writing smaller members after one that does not fit', () => {
    const header = injectEntries({
      a: { value: 'v'.repeat(MAX_BAGGAGE_MEMBER_BYTES - 2) },
      b: { value: 'v'.repeat(MAX_BAGGAGE_MEMBER_BYTES - 2) },
      c: { value: '1' },
    });
    expect(header?.split(',').map((member) => member.slice(0, 2))).toEqual(['a=', 'c=']);
  });

  it('says what it dropped in one debug line per header', () => {
    const entries: Record<string, BaggageEntry> = {
      'bad key': { value: '1' },
      big: { value: 'v'.repeat(MAX_BAGGAGE_MEMBER_BYTES) },
      meta: { value: '1', metadata: baggageEntryMetadataFromString('{') },
    };
    for (let i = 0; i < MAX_BAGGAGE_MEMBERS + 3; i++) entries[`k${i}`] = { value: String(i) };
    injectEntries(entries);
    expect(debugLines).toHaveLength(1);
    expect(debugLines[0]).toMatch(/baggage header sent: dropped 2 malformed and 1 over-limit .*ignored the rest/);
  });

  it('never throws on metadata of the application that throws, sending the members before it', () => {
    const throwing = {
      toString: () => {
        throw new Error('metadata');
      },
    } as unknown as BaggageEntry['metadata'];
    expect(injectEntries({ a: { value: '1' }, b: { value: '2', metadata: throwing } })).toBe('a=1');
  });

  it('writes nothing without baggage or with empty baggage', () => {
    const carrier = {};
    propagator.inject(ROOT_CONTEXT, carrier, defaultTextMapSetter);
    expect(carrier).toEqual({});
    expect(injectEntries({})).toBeUndefined();
  });

  it('round-trips values with spaces, "%", "," and unicode, and metadata', () => {
    const entries: Record<string, BaggageEntry> = {
      user: { value: 'Ada Lovelace' },
      ratio: { value: '50% off, today; "maybe"' },
      city: { value: 'Z\u00fcrich \u{1F3D4}', metadata: baggageEntryMetadataFromString('prop=1') },
      empty: { value: '' },
    };
    const header = injectEntries(entries)!;
    const extracted = propagator.extract(ROOT_CONTEXT, { baggage: header }, defaultTextMapGetter);
    const baggage = propagation.getBaggage(extracted)!;
    expect(baggage.getAllEntries().map(([key, entry]) => [key, entry.value, entry.metadata?.toString()])).toEqual([
      ['user', 'Ada Lovelace', undefined],
      ['ratio', '50% off, today; "maybe"', undefined],
      ['city', 'Z\u00fcrich \u{1F3D4}', 'prop=1'],
      ['empty', '', undefined],
    ]);
  });

  it('lists its field', () => {
    expect(propagator.fields()).toEqual(['baggage']);
  });
});
