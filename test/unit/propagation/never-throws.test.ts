import { ROOT_CONTEXT, defaultTextMapGetter, type TextMapGetter, type TextMapPropagator } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { B3Propagator } from '../../../src/propagation/b3';
import { BaggagePropagator } from '../../../src/propagation/baggage';
import { createPropagator } from '../../../src/propagation/composite';
import { JaegerPropagator } from '../../../src/propagation/jaeger';
import { TraceContextPropagator } from '../../../src/propagation/trace-context';
import { seededRandom } from '../../helpers/seeded-random';

const HEADERS = [
  'traceparent',
  'tracestate',
  'baggage',
  'b3',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-sampled',
  'x-b3-flags',
  'uber-trace-id',
  'uberctx-key',
];

const random = seededRandom(20240611);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

// Characters that make headers look almost right, without '=' or ':' so that no baggage or Jaeger
// entry can form by chance (a valid traceparent or b3 value by chance is out of reach).
const NEAR_MISS_CHARS = '0123456789abcdefABCDEF-,; \t%@*/_dxz\u00e9\u{1F600}\ud800\n\0';

function randomString(): string {
  const length = Math.floor(random() * 80);
  let text = '';
  for (let i = 0; i < length; i++) {
    text += random() < 0.5 ? pick([...NEAR_MISS_CHARS]) : String.fromCharCode(Math.floor(random() * 0x10000));
  }
  return text;
}

function junk(depth = 0): unknown {
  const kind = Math.floor(random() * (depth > 2 ? 8 : 10));
  switch (kind) {
    case 0:
      return undefined;
    case 1:
      return null;
    case 2:
      return pick([0, -0, 1, -1, 42.5, NaN, Infinity, Number.MAX_SAFE_INTEGER]);
    case 3:
      return random() < 0.5;
    case 4:
      return Symbol('junk');
    case 5:
      return () => 'function';
    case 6:
    case 7:
      return randomString();
    case 8:
      return Array.from({ length: Math.floor(random() * 4) }, () => junk(depth + 1));
    default: {
      const object: Record<string, unknown> = {};
      for (let i = Math.floor(random() * 4); i > 0; i--) object[randomString()] = junk(depth + 1);
      return object;
    }
  }
}

// Any text is a valid Jaeger baggage value, so uberctx-* headers only get values that are not text.
const NON_TEXT_JUNK: readonly unknown[] = [undefined, null, 42, NaN, true, [], ['a', 'b'], [7], {}, { a: 'b' }];

/** A junk carrier: junk itself, or the known headers holding junk. */
function junkCarrier(): unknown {
  if (random() < 0.2) return junk();
  const carrier: Record<string, unknown> = {};
  for (const header of HEADERS) {
    if (random() < 0.7) carrier[header] = header.startsWith('uberctx-') ? pick(NON_TEXT_JUNK) : junk();
  }
  return carrier;
}

const junkGetter: TextMapGetter = {
  keys: () => (random() < 0.5 ? (junk() as string[]) : [randomString(), 42 as unknown as string]),
  get: () => junk() as string,
};

const throwingGetter: TextMapGetter = {
  keys() {
    throw new Error('keys');
  },
  get() {
    throw new Error('get');
  },
};

const throwingCarrier = new Proxy(
  {},
  {
    get() {
      throw new Error('get');
    },
    ownKeys() {
      throw new Error('ownKeys');
    },
  },
);

const PROPAGATORS: [string, TextMapPropagator][] = [
  ['tracecontext', new TraceContextPropagator()],
  ['baggage', new BaggagePropagator()],
  ['b3', new B3Propagator({ injectEncoding: 'single' })],
  ['b3multi', new B3Propagator({ injectEncoding: 'multi' })],
  ['jaeger', new JaegerPropagator()],
  ['composite', createPropagator(['tracecontext', 'baggage', 'b3', 'b3multi', 'jaeger'])],
];

describe.each(PROPAGATORS)('%s extract never throws', (_, propagator) => {
  const extract = (carrier: unknown, getter: TextMapGetter): unknown => {
    let result: unknown;
    expect(() => {
      result = propagator.extract(ROOT_CONTEXT, carrier, getter);
    }).not.toThrow();
    return result;
  };

  it('returns the context unchanged for random carriers', () => {
    for (let i = 0; i < 2000; i++) {
      const carrier = junkCarrier();
      expect(extract(carrier, defaultTextMapGetter), `carrier ${String(i)}`).toBe(ROOT_CONTEXT);
    }
  });

  it('returns the context unchanged for a getter returning junk', () => {
    for (let i = 0; i < 500; i++) expect(extract({}, junkGetter)).toBe(ROOT_CONTEXT);
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a number', 42],
    ['a string', 'traceparent'],
    ['an array', ['traceparent', 'baggage']],
    ['an object that throws on access', throwingCarrier],
  ])('returns the context unchanged for a carrier that is %s', (_, carrier) => {
    expect(extract(carrier, defaultTextMapGetter)).toBe(ROOT_CONTEXT);
  });

  it('returns the context unchanged for a getter that throws', () => {
    expect(extract({}, throwingGetter)).toBe(ROOT_CONTEXT);
  });
});
