import {
  ROOT_CONTEXT,
  baggageEntryMetadataFromString,
  defaultTextMapGetter,
  defaultTextMapSetter,
  propagation,
  type BaggageEntry,
} from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { createPropagator } from '../../../src/propagation/composite';
import { seededRandom } from '../../helpers/seeded-random';

/**
 * Property-based: many random, mostly malformed baggage and uberctx headers (a seeded generator, so a
 * failure reproduces), read and then passed on by the propagators a service runs with
 * OTEL_PROPAGATORS=tracecontext,baggage,jaeger. Whatever comes in, what goes out follows the W3C
 * Baggage grammar, checked by a regular expression written here from the ABNF, not by the agent's code.
 */

// baggage-string = list-member 0*179( OWS "," OWS list-member )
// list-member    = key OWS "=" OWS value *( OWS ";" OWS property )
// property       = key OWS "=" OWS value / key OWS
const OWS = '[ \\t]*';
const KEY = "[-!#$%&'*+.^_`|~0-9A-Za-z]+";
const OCTET = '[\\x21\\x23-\\x2B\\x2D-\\x3A\\x3C-\\x5B\\x5D-\\x7E]';
// What the agent writes as a member's value: UTF-8, percent-encoded, every '%' an escape.
const ENCODED_VALUE = '(?:[\\x21\\x23\\x24\\x26-\\x2B\\x2D-\\x3A\\x3C-\\x5B\\x5D-\\x7E]|%[0-9A-F]{2})*';
const PROPERTY = `${KEY}(?:${OWS}=${OWS}${OCTET}*)?`;
const MEMBER = `${KEY}${OWS}=${OWS}${ENCODED_VALUE}(?:${OWS};${OWS}${PROPERTY})*`;
const STRICT_BAGGAGE = new RegExp(`^${MEMBER}(?:${OWS},${OWS}${MEMBER}){0,179}$`);
const STRICT_MEMBER = new RegExp(`^${MEMBER}$`);
const STRICT_KEY = new RegExp(`^${KEY}$`);
const STRICT_ENCODED_VALUE = new RegExp(`^${ENCODED_VALUE}$`);

const propagator = createPropagator(['tracecontext', 'baggage', 'jaeger']);
const RUNS = 2000;

const random = seededRandom(0xba66a6e);
const below = (n: number): number => Math.floor(random() * n);
const pick = <T>(items: readonly T[]): T => items[below(items.length)]!;
const repeat = (count: number, make: () => string): string => Array.from({ length: count }, make).join('');

const TOKEN_CHARS = "abcxyzABZ019!#$%&'*+-.^_`|~";
const OCTET_CHARS = 'abcXYZ0189!#$&()*+-./:<=>?@[]^_`{|}~';
// Near misses: what a header almost made of the grammar gets wrong.
const BAD_CHARS = [' ', '\t', '"', ',', ';', '\\', '{', '}', '(', '=', '%', '%2', '%zz', '\x00', '\x01', '\x7f', '\u00e9', '\u20ac', '\n'];

const ows = (): string => pick(['', '', '', ' ', '\t', '  \t']);
const token = (): string => repeat(1 + below(8), () => pick([...TOKEN_CHARS]));
const octets = (): string => repeat(below(10), () => (random() < 0.2 ? pick(['%20', '%E2%82%AC', '%2C', '%25']) : pick([...OCTET_CHARS])));
/** A string of mostly valid characters with a bad one somewhere. */
const spoiled = (make: () => string): string => {
  const text = make();
  const at = below(text.length + 1);
  return text.slice(0, at) + pick(BAD_CHARS) + text.slice(at);
};

function property(): string {
  switch (below(6)) {
    case 0:
      return token();
    case 1:
      return `${token()}${ows()}=${ows()}${octets()}`;
    case 2:
      return ''; // an empty property
    case 3:
      return spoiled(token);
    case 4:
      return `${token()}${ows()}=${ows()}${spoiled(octets)}`;
    default:
      return pick(['.\t3J', '{', '{;', '=x', 'p q', ';']); // the shapes seen forwarded
  }
}

function member(): string {
  const key = random() < 0.85 ? token() : spoiled(token);
  const value = random() < 0.85 ? octets() : spoiled(octets);
  let text = `${ows()}${key}${ows()}=${ows()}${value}`;
  if (random() < 0.05) text += 'v'.repeat(4000 + below(200)); // around the 4096-byte member limit
  for (let i = below(4); i > 0; i--) text += `${ows()};${ows()}${property()}`;
  return random() < 0.05 ? pick(['', 'noequals', '=v', spoiled(() => text)]) : text + ows();
}

function baggageHeader(): string | string[] {
  const count = pick([1, 2, 5, 20, 179, 180, 181, 250]); // around the member limit
  const members = Array.from({ length: count }, member);
  if (random() < 0.1) members.push(`big=${'x'.repeat(9000)}`); // past the header limit
  const header = members.join(`${ows()},${ows()}`);
  return random() < 0.2 ? [header, member()] : header; // repeated headers, joined by the propagator
}

function uberctxHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = below(random() < 0.1 ? 200 : 6); i > 0; i--) {
    const key = random() < 0.9 ? `${token()}${i}` : spoiled(token);
    headers[`uberctx-${key}`] = pick([
      () => octets(),
      () => spoiled(octets),
      () => 'x'.repeat(100 * 1024), // the 100 KB value seen forwarded
      () => 'y'.repeat(4000 + below(200)),
      () => '%20'.repeat(1300 + below(200)),
      () => encodeURIComponent(pick(['Ada Lovelace', 'Z\u00fcrich', '50% off, today; "maybe"'])),
    ])();
  }
  return headers;
}

/** The baggage and uberctx headers an extraction of `incoming` makes the service send on. */
function passOn(incoming: Record<string, unknown>): Record<string, string> {
  const outgoing: Record<string, string> = {};
  propagator.inject(propagator.extract(ROOT_CONTEXT, incoming, defaultTextMapGetter), outgoing, defaultTextMapSetter);
  return outgoing;
}

/** Fails with the header that broke a rule (one assertion a header: a run checks thousands). */
function expectBaggageFollowsTheRules(header: string | undefined, context: string): void {
  if (header === undefined) return;
  const broken = !STRICT_BAGGAGE.test(header)
    ? 'grammar'
    : Buffer.byteLength(header) > 8192
      ? 'header bytes'
      : header.split(',').some((member) => member.length > 4096)
        ? 'member bytes'
        : undefined;
  expect(broken, `${context}: ${JSON.stringify(header.slice(0, 300))}`).toBeUndefined();
}

function expectUberctxFollowsTheRules(outgoing: Record<string, string>, context: string): void {
  let members = 0;
  let bytes = -1;
  for (const [name, value] of Object.entries(outgoing)) {
    if (!name.startsWith('uberctx-')) continue;
    const key = name.slice('uberctx-'.length);
    const member = `${key}=${value}`;
    const broken =
      !STRICT_KEY.test(key) || !STRICT_ENCODED_VALUE.test(value) || !STRICT_MEMBER.test(member)
        ? 'grammar'
        : member.length > 4096
          ? 'member bytes'
          : undefined;
    expect(broken, `${context}: ${JSON.stringify(member.slice(0, 300))}`).toBeUndefined();
    members++;
    bytes += member.length + 1;
  }
  expect(members <= 180 && bytes <= 8192, `${context}: ${members} uberctx headers, ${bytes} bytes`).toBe(true);
}

describe('random malformed baggage in, W3C Baggage out', () => {
  it(`passes on only headers that follow the grammar and the limits (${RUNS} seeded runs)`, () => {
    let sentBaggage = 0;
    let sentUberctx = 0;
    for (let run = 0; run < RUNS; run++) {
      const incoming: Record<string, unknown> = { ...uberctxHeaders() };
      if (random() < 0.9) incoming['baggage'] = baggageHeader();
      const outgoing = passOn(incoming);
      expectBaggageFollowsTheRules(outgoing['baggage'], `run ${run}`);
      expectUberctxFollowsTheRules(outgoing, `run ${run}`);
      if (outgoing['baggage'] !== undefined) sentBaggage++;
      if (Object.keys(outgoing).some((name) => name.startsWith('uberctx-'))) sentUberctx++;
    }
    // The generator makes valid members too: most runs must pass something on, or the check proves nothing.
    expect(sentBaggage).toBeGreaterThan(RUNS / 2);
    expect(sentUberctx).toBeGreaterThan(RUNS / 4);
  });

  it('passes on every entry of a header that follows the rules, unchanged', () => {
    for (let run = 0; run < 500; run++) {
      const members = Array.from({ length: 1 + below(30) }, (_, i) => {
        let text = `${token()}${i}${ows()}=${ows()}${octets().replace(/%(?![0-9A-F]{2})/g, '%25')}`;
        for (let p = below(3); p > 0; p--) text += `${ows()};${ows()}${pick([token, () => `${token()}${ows()}=${ows()}${octets()}`])()}`;
        return text;
      });
      const header = members.join(`${ows()},${ows()}`);
      expect(STRICT_BAGGAGE.test(header), header).toBe(true);
      const read = propagator.extract(ROOT_CONTEXT, { baggage: header }, defaultTextMapGetter);
      // Only the baggage header: uberctx headers carry no properties, and Jaeger, extracting last, would win.
      const reread = propagator.extract(ROOT_CONTEXT, { baggage: passOn({ baggage: header })['baggage'] }, defaultTextMapGetter);
      const entries = (context: typeof read) =>
        propagation
          .getBaggage(context)!
          .getAllEntries()
          .map(([key, entry]) => [key, entry.value, entry.metadata?.toString()]);
      expect(entries(read)).toHaveLength(members.length);
      expect(entries(reread)).toEqual(entries(read));
    }
  });

  it('sends only what follows the rules of baggage the application set through @opentelemetry/api', () => {
    const anyChar = () => (random() < 0.7 ? pick([...TOKEN_CHARS, ...OCTET_CHARS]) : pick([...BAD_CHARS, '\ud800', '\u{1F600}']));
    for (let run = 0; run < 1000; run++) {
      const entries: Record<string, BaggageEntry> = {};
      for (let i = below(random() < 0.1 ? 250 : 10); i > 0; i--) {
        const key = random() < 0.8 ? `${token()}${i}` : repeat(1 + below(6), anyChar);
        const value = random() < 0.05 ? 'v'.repeat(3000 + below(2000)) : repeat(below(20), anyChar);
        const metadata = random() < 0.3 ? baggageEntryMetadataFromString(random() < 0.5 ? property() : repeat(below(10), anyChar)) : undefined;
        entries[key] = metadata === undefined ? { value } : { value, metadata };
      }
      const context = propagation.setBaggage(ROOT_CONTEXT, propagation.createBaggage(entries));
      const outgoing: Record<string, string> = {};
      propagator.inject(context, outgoing, defaultTextMapSetter);
      expectBaggageFollowsTheRules(outgoing['baggage'], `run ${run}`);
      expectUberctxFollowsTheRules(outgoing, `run ${run}`);
    }
  });
});
