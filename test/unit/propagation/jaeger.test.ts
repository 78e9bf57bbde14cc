import {
  ROOT_CONTEXT,
  TraceFlags,
  defaultTextMapGetter,
  defaultTextMapSetter,
  propagation,
  trace,
  type BaggageEntry,
  type Context,
} from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { diag } from '../../../src/diag/logger';
import { MAX_BAGGAGE_BYTES, MAX_BAGGAGE_MEMBER_BYTES, MAX_BAGGAGE_MEMBERS } from '../../../src/propagation/baggage-rules';
import { JaegerPropagator } from '../../../src/propagation/jaeger';

const TRACE_ID = '80f198ee56343ba864fe8b2a57d3eff7';
const SPAN_ID = 'e457b5a2e4d86bd1';

const propagator = new JaegerPropagator();

const debugLines: string[] = [];
diag.setSink((line) => debugLines.push(line.trimEnd()));
diag.setLevel('debug');
afterEach(() => {
  debugLines.length = 0;
});

/** `count` uberctx headers k0..k{count-1}, each standing for a member `k{i}={value}`. */
function uberctxHeaders(count: number, value: (i: number) => string = String): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0; i < count; i++) headers[`uberctx-k${i}`] = value(i);
  return headers;
}

function extract(carrier: Record<string, unknown>, context: Context = ROOT_CONTEXT): Context {
  return propagator.extract(context, carrier, defaultTextMapGetter);
}

function baggageValues(context: Context): Record<string, string> {
  const entries = propagation.getBaggage(context)?.getAllEntries() ?? [];
  return Object.fromEntries(entries.map(([key, entry]) => [key, entry.value]));
}

describe('uber-trace-id extraction', () => {
  it.each([
    ['plain, sampled', `${TRACE_ID}:${SPAN_ID}:0:1`, TRACE_ID, SPAN_ID, TraceFlags.SAMPLED],
    ['not sampled', `${TRACE_ID}:${SPAN_ID}:0:0`, TRACE_ID, SPAN_ID, TraceFlags.NONE],
    ['two-digit flags', `${TRACE_ID}:${SPAN_ID}:0:01`, TRACE_ID, SPAN_ID, TraceFlags.SAMPLED],
    ['debug, which implies sampled', `${TRACE_ID}:${SPAN_ID}:0:2`, TRACE_ID, SPAN_ID, TraceFlags.SAMPLED],
    ['sampled and debug', `${TRACE_ID}:${SPAN_ID}:0:3`, TRACE_ID, SPAN_ID, TraceFlags.SAMPLED],
    ['other flag bits only', `${TRACE_ID}:${SPAN_ID}:0:4`, TRACE_ID, SPAN_ID, TraceFlags.NONE],
    ['hex flags', `${TRACE_ID}:${SPAN_ID}:0:ff`, TRACE_ID, SPAN_ID, TraceFlags.SAMPLED],
    ['a parent span id', `${TRACE_ID}:${SPAN_ID}:a2fb4a1d1a96d312:1`, TRACE_ID, SPAN_ID, TraceFlags.SAMPLED],
    ['URL-encoded', `${TRACE_ID}%3A${SPAN_ID}%3A0%3A1`, TRACE_ID, SPAN_ID, TraceFlags.SAMPLED],
    ['URL-encoded in lowercase', `${TRACE_ID}%3a${SPAN_ID}%3a0%3a1`, TRACE_ID, SPAN_ID, TraceFlags.SAMPLED],
    ['a 64-bit trace id, padded', `64fe8b2a57d3eff7:${SPAN_ID}:0:1`, `${'0'.repeat(16)}64fe8b2a57d3eff7`, SPAN_ID, 1],
    ['short ids, padded', 'abc:12:0:1', `${'0'.repeat(29)}abc`, `${'0'.repeat(14)}12`, TraceFlags.SAMPLED],
    ['uppercase hex, lowercased', `${TRACE_ID.toUpperCase()}:${SPAN_ID.toUpperCase()}:0:1`, TRACE_ID, SPAN_ID, 1],
  ])('reads %s', (_, header, traceId, spanId, traceFlags) => {
    const spanContext = trace.getSpanContext(extract({ 'uber-trace-id': header }));
    expect(spanContext).toEqual({ traceId, spanId, traceFlags, isRemote: true });
  });

  it.each([
    ['an all-zero trace id', `0:${SPAN_ID}:0:1`],
    ['an all-zero span id', `${TRACE_ID}:0000:0:1`],
    ['a 33-digit trace id', `${TRACE_ID}a:${SPAN_ID}:0:1`],
    ['a 17-digit span id', `${TRACE_ID}:${SPAN_ID}a:0:1`],
    ['an empty trace id', `:${SPAN_ID}:0:1`],
    ['an empty span id', `${TRACE_ID}::0:1`],
    ['an empty parent id', `${TRACE_ID}:${SPAN_ID}::1`],
    ['empty flags', `${TRACE_ID}:${SPAN_ID}:0:`],
    ['three-digit flags', `${TRACE_ID}:${SPAN_ID}:0:100`],
    ['non-hex flags', `${TRACE_ID}:${SPAN_ID}:0:z`],
    ['three parts', `${TRACE_ID}:${SPAN_ID}:1`],
    ['five parts', `${TRACE_ID}:${SPAN_ID}:0:1:1`],
    ['a non-hex trace id', `${TRACE_ID.slice(1)}x:${SPAN_ID}:0:1`],
    ['a malformed escape', `${TRACE_ID}%3${SPAN_ID}:0:1`],
    ['an escape that decodes to a bad separator', `${TRACE_ID}%2C${SPAN_ID}%3A0%3A1`],
    ['an empty value', ''],
    ['a repeated header', [`${TRACE_ID}:${SPAN_ID}:0:1`, `${TRACE_ID}:${SPAN_ID}:0:1`]],
    ['a number', 12],
  ])('extracts nothing from %s', (_, header) => {
    expect(extract({ 'uber-trace-id': header })).toBe(ROOT_CONTEXT);
  });
});

describe('uberctx baggage extraction', () => {
  it('reads uberctx-* headers, URL-decoded', () => {
    const context = extract({
      'uber-trace-id': `${TRACE_ID}:${SPAN_ID}:0:1`,
      'uberctx-user': 'Ada%20Lovelace',
      'uberctx-city': 'Z%C3%BCrich',
      'uberctx-plain': 'value',
      'x-other': 'ignored',
    });
    expect(trace.getSpanContext(context)?.traceId).toBe(TRACE_ID);
    expect(baggageValues(context)).toEqual({ user: 'Ada Lovelace', city: 'Z\u00fcrich', plain: 'value' });
  });

  it('reads baggage without a trace header', () => {
    const context = extract({ 'uberctx-user': 'ada' });
    expect(trace.getSpanContext(context)).toBeUndefined();
    expect(baggageValues(context)).toEqual({ user: 'ada' });
  });

  it('merges with baggage already in the context, the headers winning', () => {
    const baggage = propagation.createBaggage({ a: { value: '1' }, b: { value: '2' } });
    const existing = propagation.setBaggage(ROOT_CONTEXT, baggage);
    const context = extract({ 'uberctx-b': '3', 'uberctx-c': '4' }, existing);
    expect(baggageValues(context)).toEqual({ a: '1', b: '3', c: '4' });
  });

  it('skips a malformed escape, an empty key, a repeated header and non-text values', () => {
    const context = extract({
      'uberctx-bad': '%zz',
      'uberctx-': 'empty key',
      'uberctx-twice': ['a', 'b'],
      'uberctx-number': 5,
      'uberctx-good': 'yes',
    });
    expect(baggageValues(context)).toEqual({ good: 'yes' });
  });

  it('skips a key that is not a token (a carrier that is not HTTP headers)', () => {
    const context = extract({ 'uberctx-bad key': '1', 'uberctx-cl\u00e9': '2', 'uberctx-k(1)': '3', 'uberctx-good': 'yes' });
    expect(baggageValues(context)).toEqual({ good: 'yes' });
  });

  it('drops a 100 KB value, keeping the other headers', () => {
    const context = extract({ 'uberctx-user': 'x'.repeat(100 * 1024), 'uberctx-tenant': 'acme' });
    expect(baggageValues(context)).toEqual({ tenant: 'acme' });
  });

  it(`reads a header standing for a member of ${MAX_BAGGAGE_MEMBER_BYTES} bytes, and drops one of ${MAX_BAGGAGE_MEMBER_BYTES + 1}`, () => {
    // "user=" + value
    const fits = 'v'.repeat(MAX_BAGGAGE_MEMBER_BYTES - 5);
    expect(baggageValues(extract({ 'uberctx-user': fits }))).toEqual({ user: fits });
    expect(baggageValues(extract({ 'uberctx-user': `${fits}v` }))).toEqual({});
  });

  it('measures a value in the encoding it would be sent with, not the encoding it came in', () => {
    // 4091 "a" sent as "%61": 12273 characters received, a member of 4096 bytes once re-encoded
    const fits = '%61'.repeat(MAX_BAGGAGE_MEMBER_BYTES - 5);
    expect(baggageValues(extract({ 'uberctx-user': fits }))).toEqual({ user: 'a'.repeat(MAX_BAGGAGE_MEMBER_BYTES - 5) });
    // 1365 spaces sent raw: 1365 characters received, 4095 once encoded as %20, over the limit with "user="
    expect(baggageValues(extract({ 'uberctx-user': ' '.repeat(1365) }))).toEqual({});
  });

  it(`reads ${MAX_BAGGAGE_MEMBERS} headers, and drops the ${MAX_BAGGAGE_MEMBERS + 1}st`, () => {
    expect(Object.keys(baggageValues(extract(uberctxHeaders(MAX_BAGGAGE_MEMBERS))))).toHaveLength(MAX_BAGGAGE_MEMBERS);
    const values = baggageValues(extract(uberctxHeaders(MAX_BAGGAGE_MEMBERS + 1)));
    expect(Object.keys(values)).toHaveLength(MAX_BAGGAGE_MEMBERS);
    expect(values[`k${MAX_BAGGAGE_MEMBERS}`]).toBeUndefined();
  });

  it(`reads headers of ${MAX_BAGGAGE_BYTES} bytes in all, as one baggage header, and drops the one past it`, () => {
    // members "k0=…" of 4096 bytes and "k1=…" of 4095, with a ',' between: 8192 bytes, no room for "k2="
    const value = 'v'.repeat(MAX_BAGGAGE_MEMBER_BYTES - 3);
    const exact = baggageValues(extract({ 'uberctx-k0': value, 'uberctx-k1': value.slice(1), 'uberctx-k2': '' }));
    expect(Object.keys(exact)).toEqual(['k0', 'k1']);
    // one byte more: 8193
    const over = baggageValues(extract({ 'uberctx-k0': value, 'uberctx-k1': value }));
    expect(Object.keys(over)).toEqual(['k0']);
  });

  it('says what it dropped in one debug line per extraction', () => {
    extract({ ...uberctxHeaders(MAX_BAGGAGE_MEMBERS + 2), 'uberctx-bad key': 'x', 'uberctx-user': 'x'.repeat(100 * 1024) });
    expect(debugLines).toHaveLength(1);
    expect(debugLines[0]).toMatch(/uberctx headers received: dropped 0 malformed and 0 over-limit .*ignored the rest/);
    extract({ 'uberctx-bad key': 'x', 'uberctx-user': 'x'.repeat(100 * 1024), 'uberctx-ok': '1' });
    expect(debugLines[1]).toMatch(/uberctx headers received: dropped 1 malformed and 1 over-limit baggage list-members \(/);
    expect(debugLines).toHaveLength(2);
  });

  it('logs nothing without uberctx headers, or with headers that follow the rules', () => {
    extract({ 'uber-trace-id': `${TRACE_ID}:${SPAN_ID}:0:1` });
    extract({ 'uberctx-a': '1' });
    expect(debugLines).toEqual([]);
  });

  it('returns the context unchanged without any uberctx header', () => {
    expect(extract({ 'x-other': '1', uberctx: 'no dash' })).toBe(ROOT_CONTEXT);
  });
});

describe('Jaeger injection', () => {
  const inject = (context: Context): Record<string, string> => {
    const carrier: Record<string, string> = {};
    propagator.inject(context, carrier, defaultTextMapSetter);
    return carrier;
  };
  const withSpan = (traceFlags: number): Context => trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags });

  it.each([
    [TraceFlags.SAMPLED, '01'],
    [TraceFlags.NONE, '00'],
    [0x03, '01'],
    [0x02, '00'],
  ])('writes uber-trace-id for flags %i', (traceFlags, flags) => {
    expect(inject(withSpan(traceFlags))).toEqual({ 'uber-trace-id': `${TRACE_ID}:${SPAN_ID}:0:${flags}` });
  });

  it('writes one URL-encoded uberctx header per baggage entry, skipping keys that are not tokens', () => {
    const entries: Record<string, BaggageEntry> = {
      user: { value: 'Ada Lovelace' },
      city: { value: 'Z\u00fcrich:1' },
      'bad key': { value: 'x' },
      lone: { value: '\ud800' },
    };
    const context = propagation.setBaggage(withSpan(TraceFlags.SAMPLED), propagation.createBaggage(entries));
    expect(inject(context)).toEqual({
      'uber-trace-id': `${TRACE_ID}:${SPAN_ID}:0:01`,
      'uberctx-user': 'Ada%20Lovelace',
      'uberctx-city': 'Z%C3%BCrich%3A1',
    });
  });

  it('writes baggage without a span, and nothing at all without either', () => {
    const context = propagation.setBaggage(ROOT_CONTEXT, propagation.createBaggage({ k: { value: 'v' } }));
    expect(inject(context)).toEqual({ 'uberctx-k': 'v' });
    expect(inject(ROOT_CONTEXT)).toEqual({});
  });

  it(`writes a header standing for a member of ${MAX_BAGGAGE_MEMBER_BYTES} bytes, and drops one of ${MAX_BAGGAGE_MEMBER_BYTES + 1}`, () => {
    const withValue = (value: string) => propagation.setBaggage(ROOT_CONTEXT, propagation.createBaggage({ user: { value }, z: { value: '1' } }));
    const fits = 'v'.repeat(MAX_BAGGAGE_MEMBER_BYTES - 5);
    expect(inject(withValue(fits))).toEqual({ 'uberctx-user': fits, 'uberctx-z': '1' });
    expect(inject(withValue(`${fits}v`))).toEqual({ 'uberctx-z': '1' });
    // measured encoded: 1364 spaces are 4092 characters as sent, 4097 with "user="
    expect(inject(withValue(' '.repeat(1364)))).toEqual({ 'uberctx-z': '1' });
  });

  it(`writes ${MAX_BAGGAGE_MEMBERS} headers, and drops the ${MAX_BAGGAGE_MEMBERS + 1}st`, () => {
    const entries = (count: number) => {
      const result: Record<string, BaggageEntry> = {};
      for (let i = 0; i < count; i++) result[`k${i}`] = { value: String(i) };
      return propagation.setBaggage(ROOT_CONTEXT, propagation.createBaggage(result));
    };
    expect(Object.keys(inject(entries(MAX_BAGGAGE_MEMBERS)))).toHaveLength(MAX_BAGGAGE_MEMBERS);
    const headers = inject(entries(MAX_BAGGAGE_MEMBERS + 1));
    expect(Object.keys(headers)).toHaveLength(MAX_BAGGAGE_MEMBERS);
    expect(headers[`uberctx-k${MAX_BAGGAGE_MEMBERS}`]).toBeUndefined();
  });

  it(`writes headers of ${MAX_BAGGAGE_BYTES} bytes in all, as one baggage header, and drops what goes past it`, () => {
    const value = 'v'.repeat(MAX_BAGGAGE_MEMBER_BYTES - 3);
    const withEntries = (entries: Record<string, BaggageEntry>) => propagation.setBaggage(ROOT_CONTEXT, propagation.createBaggage(entries));
    // 4096 + 1 + 4095 = 8192: no room left for "k2=", nor for the malformed "bad key"
    const exact = withEntries({ k0: { value }, k1: { value: value.slice(1) }, k2: { value: '' }, 'bad key': { value: '' } });
    expect(Object.keys(inject(exact))).toEqual(['uberctx-k0', 'uberctx-k1']);
    expect(debugLines.at(-1)).toMatch(/uberctx headers sent: dropped 1 malformed and 1 over-limit/);
    // 4096 + 1 + 4096 = 8193
    expect(Object.keys(inject(withEntries({ k0: { value }, k1: { value } })))).toEqual(['uberctx-k0']);
  });

  it('never throws on a value of the application that throws, dropping only that entry', () => {
    const throwing = {
      toString: () => {
        throw new Error('value');
      },
    } as unknown as string;
    const baggage = propagation.createBaggage({ a: { value: '1' }, b: { value: throwing }, c: { value: '3' } });
    expect(inject(propagation.setBaggage(ROOT_CONTEXT, baggage))).toEqual({ 'uberctx-a': '1', 'uberctx-c': '3' });
  });

  it('round-trips the span context and baggage', () => {
    const incoming = { 'uber-trace-id': `abc%3A12%3A0%3A3`, 'uberctx-note': '50%25%20off%2C%20today' };
    const outgoing = inject(extract(incoming));
    expect(outgoing).toEqual({
      'uber-trace-id': `${'0'.repeat(29)}abc:${'0'.repeat(14)}12:0:01`,
      'uberctx-note': '50%25%20off%2C%20today',
    });
  });

  it('lists its field', () => {
    expect(propagator.fields()).toEqual(['uber-trace-id']);
  });
});
