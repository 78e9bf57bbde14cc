import { afterEach, describe, expect, it } from 'vitest';
import { diag } from '../../../src/diag/logger';
import {
  BaggageBudget,
  isBaggageKey,
  isBaggagePropertyList,
  isBaggageWireValue,
  MAX_BAGGAGE_BYTES,
  MAX_BAGGAGE_MEMBER_BYTES,
  MAX_BAGGAGE_MEMBERS,
} from '../../../src/propagation/baggage-rules';

const lines: string[] = [];
diag.setSink((line) => lines.push(line.trimEnd()));
afterEach(() => {
  lines.length = 0;
  diag.setLevel('debug');
});
diag.setLevel('debug');

/** Every character from `from` to `to`, inclusive. */
const charRange = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => String.fromCharCode(from + i));
const RFC7230_DELIMITERS = [...'"(),/:;<=>?@[\\]{}'];

describe('the W3C Baggage limits', () => {
  it('are those of the spec: 180 list-members, 8192 bytes a header, 4096 bytes a member', () => {
    expect([MAX_BAGGAGE_MEMBERS, MAX_BAGGAGE_BYTES, MAX_BAGGAGE_MEMBER_BYTES]).toEqual([180, 8192, 4096]);
  });
});

describe('key = token', () => {
  it('accepts letters, digits and the token punctuation', () => {
    expect(isBaggageKey("!#$%&'*+-.^_`|~09AZaz")).toBe(true);
    expect(isBaggageKey('k')).toBe(true);
  });

  it.each(RFC7230_DELIMITERS)('rejects the delimiter %j', (delimiter) => {
    expect(isBaggageKey(`a${delimiter}b`)).toBe(false);
  });

  it.each([
    ['empty', ''],
    ['a space', 'a b'],
    ['a tab', 'a\tb'],
    ['a control character', 'a\x01'],
    ['DEL', 'a\x7f'],
    ['non-ASCII', 'cl\u00e9'],
  ])('rejects a key that is %s', (_, key) => {
    expect(isBaggageKey(key)).toBe(false);
  });
});

describe('value = *baggage-octet', () => {
  const octets = [...charRange(0x21, 0x21), ...charRange(0x23, 0x2b), ...charRange(0x2d, 0x3a), ...charRange(0x3c, 0x5b), ...charRange(0x5d, 0x7e)];

  it('accepts every baggage-octet, and the empty value', () => {
    expect(isBaggageWireValue(octets.join(''))).toBe(true);
    expect(isBaggageWireValue('')).toBe(true);
  });

  it('rejects every other character below U+0100', () => {
    const others = charRange(0, 0xff).filter((char) => !octets.includes(char));
    expect(others.sort()).toEqual([...charRange(0, 0x20), '"', ',', ';', '\\', ...charRange(0x7f, 0xff)].sort());
    for (const char of others) expect(isBaggageWireValue(`a${char}b`), JSON.stringify(char)).toBe(false);
  });
});

describe('properties: property *( OWS ";" OWS property ), property = key OWS "=" OWS value / key OWS', () => {
  it.each([
    ['a key', 'p'],
    ['key=value', 'p=v'],
    ['an empty value', 'p='],
    ['an empty value with OWS', 'p = ;q'],
    ['"=" inside a value', 'p=a=b'],
    ['escapes in a value', 'p=%20%E2%82%AC'],
    ['several, mixed', 'p1;p2=x;p3'],
    ['OWS around ";" and "="', 'p1 ;\tp2 =\tx ; p3'],
    ['OWS after a lone key', 'p1 \t;p2'],
  ])('accepts %s', (_, properties) => {
    expect(isBaggagePropertyList(properties)).toBe(true);
  });

  it.each([
    ['nothing', ''],
    ['a lone ";"', ';'],
    ['an empty property at the end', 'p;'],
    ['an empty property first', ';p'],
    ['an empty property between two', 'p;;q'],
    ['OWS only between two ";"', 'p; ;q'],
    ['a key followed by junk after OWS (seen forwarded: ".\\t3J")', '.\t3J'],
    ['a non-token key (seen forwarded: "{;")', '{;'],
    ['a non-token key alone', '{'],
    ['no key before "="', '=v'],
    ['a space inside a value', 'p=a b'],
    ['a double quote in a value', 'p="v"'],
    ['a backslash in a value', 'p=a\\b'],
    ['a "," in a value', 'p=a,b'],
    ['a control character', 'p\x01'],
    ['non-ASCII', 'caf\u00e9'],
    ['leading OWS (trimmed before the check)', ' p'],
    ['trailing OWS (trimmed before the check)', 'p '],
  ])('rejects %s', (_, properties) => {
    expect(isBaggagePropertyList(properties)).toBe(false);
  });

  it('rejects a long malformed run of whitespace in linear time', () => {
    const started = performance.now();
    for (const text of ['p=' + ' '.repeat(200_000) + '\x01', 'p = ;'.repeat(40_000) + '\x01', 'p=v ;'.repeat(40_000) + '\x01']) {
      expect(isBaggagePropertyList(text)).toBe(false);
    }
    // Quadratic backtracking over 200,000 characters would take minutes.
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('BaggageBudget', () => {
  it(`takes ${MAX_BAGGAGE_MEMBERS} members, not one more`, () => {
    const budget = new BaggageBudget();
    for (let i = 0; i < MAX_BAGGAGE_MEMBERS; i++) expect(budget.fits(3)).toBe(true);
    expect(budget.full).toBe(true);
    expect(budget.fits(3)).toBe(false);
  });

  it(`takes a member of ${MAX_BAGGAGE_MEMBER_BYTES} bytes, not ${MAX_BAGGAGE_MEMBER_BYTES + 1}`, () => {
    expect(new BaggageBudget().fits(MAX_BAGGAGE_MEMBER_BYTES)).toBe(true);
    expect(new BaggageBudget().fits(MAX_BAGGAGE_MEMBER_BYTES + 1)).toBe(false);
  });

  it(`counts the ',' between members towards ${MAX_BAGGAGE_BYTES} bytes`, () => {
    const exact = new BaggageBudget();
    expect(exact.fits(MAX_BAGGAGE_MEMBER_BYTES)).toBe(true);
    expect(exact.fits(MAX_BAGGAGE_BYTES - MAX_BAGGAGE_MEMBER_BYTES - 1)).toBe(true); // 8192
    expect(exact.fits(1)).toBe(false);
    const over = new BaggageBudget();
    expect(over.fits(MAX_BAGGAGE_MEMBER_BYTES)).toBe(true);
    expect(over.fits(MAX_BAGGAGE_BYTES - MAX_BAGGAGE_MEMBER_BYTES)).toBe(false); // 8193
    expect(over.fits(10)).toBe(true); // a smaller one still fits
  });

  it('says nothing when nothing was dropped', () => {
    const budget = new BaggageBudget();
    budget.fits(10);
    budget.report('here');
    expect(lines).toEqual([]);
  });

  it('says what was dropped in one debug line', () => {
    const budget = new BaggageBudget();
    budget.dropMalformed();
    budget.dropMalformed();
    budget.fits(MAX_BAGGAGE_MEMBER_BYTES + 1);
    budget.dropOverLimit();
    budget.report('here');
    expect(lines).toEqual([
      '[tracelet] debug: here: dropped 2 malformed and 2 over-limit baggage list-members (W3C Baggage: at most 180 members, 8192 bytes, 4096 bytes a member)',
    ]);
  });

  it('says that the rest was ignored', () => {
    const budget = new BaggageBudget();
    budget.dropRest();
    budget.report('here');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('here: dropped 0 malformed and 0 over-limit baggage list-members, and ignored the rest past the limits');
  });

  it('logs nothing below the debug level', () => {
    diag.setLevel('info');
    const budget = new BaggageBudget();
    budget.dropMalformed();
    budget.report('here');
    expect(lines).toEqual([]);
  });
});
