import { SpanKind, createTraceState } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { encodeTraceRequest, encodeTraceRequestFromPacks, packSpans } from '../../../src/export/otlp/protobuf-encoder';
import { decodeExportResponse, decodeStatus } from '../../../src/export/otlp/protobuf-response';
import { ProtobufSpanPacker } from '../../../src/export/otlp/protobuf-spans';
import type { ReadableSpan, Resource } from '../../../src/trace/types';
import { ExportTraceServiceRequest, ExportTraceServiceResponse, RpcStatus } from '../../helpers/otlp-schema.mjs';
import { makeSpan, PARENT_ID, SPAN_ID, TRACE_ID } from '../../helpers/spans';

const ExportRequest = ExportTraceServiceRequest;
const ExportResponse = ExportTraceServiceResponse;

const RESOURCE: Resource = { attributes: { 'service.name': 'checkout' } };

/* eslint-disable @typescript-eslint/no-explicit-any -- decoded protobufjs messages are untyped */
function decode(bytes: Uint8Array): any {
  return ExportRequest.decode(bytes);
}

function decodeOne(span: ReadableSpan, resource = RESOURCE): any {
  return decode(encodeTraceRequest([span], resource)).resourceSpans[0].scopeSpans[0].spans[0];
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** Attributes of a decoded message as plain values (int64 as decimal strings). */
function attributeValues(keyValues: any[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const keyValue of keyValues) out[keyValue.key] = anyValue(keyValue.value);
  return out;
}

function anyValue(value: any): unknown {
  switch (value.value) {
    case 'stringValue':
      return value.stringValue;
    case 'boolValue':
      return value.boolValue;
    case 'intValue':
      return { int: value.intValue.toString() };
    case 'doubleValue':
      return { double: value.doubleValue };
    case 'arrayValue':
      return value.arrayValue.values.map(anyValue);
    default:
      return null;
  }
}

/** protobufjs writes known fields in field-number order with minimal varints: the same bytes we must produce. */
function expectCanonical(bytes: Uint8Array): void {
  const reencoded = ExportRequest.encode(ExportRequest.decode(bytes)).finish();
  expect(reencoded.length).toBe(bytes.length);
  expect(Buffer.from(reencoded).equals(Buffer.from(bytes))).toBe(true);
}

describe('encodeTraceRequest', () => {
  it('encodes an empty span list as an empty request', () => {
    const bytes = encodeTraceRequest([], RESOURCE);
    expect(bytes.length).toBe(0);
    expect(decode(bytes).resourceSpans).toEqual([]);
  });

  it('writes ids, trace state, parent, name, flags and kind', () => {
    const span = decodeOne(
      makeSpan({
        name: 'GET /orders/:id',
        kind: SpanKind.SERVER,
        parentSpanId: PARENT_ID,
        parentIsRemote: true,
        context: { traceState: createTraceState('vendor=abc,other=1') },
      }),
    );
    expect(hex(span.traceId)).toBe(TRACE_ID);
    expect(hex(span.spanId)).toBe(SPAN_ID);
    expect(hex(span.parentSpanId)).toBe(PARENT_ID);
    expect(span.traceState).toBe('vendor=abc,other=1');
    expect(span.name).toBe('GET /orders/:id');
    expect(span.kind).toBe(2);
    expect(span.flags).toBe(0x301); // sampled, has-is-remote, remote parent
  });

  it('leaves out the parent of a root span and marks its parent as not remote', () => {
    const span = decodeOne(makeSpan({ context: { traceFlags: 0 } }));
    expect(Object.hasOwn(span, 'parentSpanId')).toBe(false);
    expect(Object.hasOwn(span, 'traceState')).toBe(false);
    expect(span.flags).toBe(0x100);
  });

  it('marks a local parent as not remote', () => {
    const span = decodeOne(makeSpan({ parentSpanId: PARENT_ID, parentIsRemote: false }));
    expect(hex(span.parentSpanId)).toBe(PARENT_ID);
    expect(span.flags).toBe(0x101);
  });

  it('maps every API span kind to its OTLP value', () => {
    const kinds = [SpanKind.INTERNAL, SpanKind.SERVER, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER];
    const spans = decode(
      encodeTraceRequest(
        kinds.map((kind) => makeSpan({ kind })),
        RESOURCE,
      ),
    ).resourceSpans[0].scopeSpans[0].spans;
    expect(spans.map((span: any) => span.kind)).toEqual([1, 2, 3, 4, 5]);
  });

  it('converts epoch milliseconds to exact nanoseconds beyond 2^53', () => {
    // 1700000000123.456789 is not a double: the nearest one is 1700000000123.456787109375, whose
    // nearest whole nanosecond is ...456787. Multiplying by 1e6 in floating point gives ...456768.
    expect(1700000000123.456789).toBe(1700000000123.456787109375);
    const cases: Array<[number, string]> = [
      [1700000000123.456789, '1700000000123456787'],
      [1700000000123.5, '1700000000123500000'],
      [1700000000123, '1700000000123000000'],
      [1700000000123.9999999, '1700000000124000000'], // sub-millisecond part rounds up to a whole millisecond
      [4102444800000.25, '4102444800000250000'], // year 2100
      [0.001, '1000'],
    ];
    for (const [time, nanos] of cases) {
      const span = decodeOne(makeSpan({ startTime: time, endTime: time + 1 }));
      expect(span.startTimeUnixNano.toString()).toBe(nanos);
    }
    const span = decodeOne(makeSpan({ startTime: 1700000000123.456789, endTime: 1700000000223.5 }));
    expect(span.endTimeUnixNano.toString()).toBe('1700000000223500000');
  });

  it('encodes attribute values of every type', () => {
    const attributes = {
      string: 'value',
      empty: '',
      true: true,
      false: false,
      zero: 0,
      int: 42,
      negative: -1,
      negativeLarge: -1234567890123,
      int32Edge: 2 ** 31,
      uint32Edge: 2 ** 32,
      maxSafe: Number.MAX_SAFE_INTEGER,
      minSafe: Number.MIN_SAFE_INTEGER,
      double: 1.5,
      negativeDouble: -0.25,
      unsafeInteger: 2 ** 60,
      nan: Number.NaN,
      strings: ['a', 'b'],
      bools: [true, false],
      ints: [1, -2, 3],
      doubles: [1.5, 2.25],
      withNull: ['a', null, undefined, 'b'],
      emptyArray: [],
      skipped: undefined,
    };
    const span = decodeOne(makeSpan({ attributes }));
    expect(attributeValues(span.attributes)).toEqual({
      string: 'value',
      empty: '',
      true: true,
      false: false,
      zero: { int: '0' },
      int: { int: '42' },
      negative: { int: '-1' },
      negativeLarge: { int: '-1234567890123' },
      int32Edge: { int: '2147483648' },
      uint32Edge: { int: '4294967296' },
      maxSafe: { int: '9007199254740991' },
      minSafe: { int: '-9007199254740991' },
      double: { double: 1.5 },
      negativeDouble: { double: -0.25 },
      unsafeInteger: { double: 2 ** 60 },
      nan: { double: Number.NaN },
      strings: ['a', 'b'],
      bools: [true, false],
      ints: [{ int: '1' }, { int: '-2' }, { int: '3' }],
      doubles: [{ double: 1.5 }, { double: 2.25 }],
      withNull: ['a', null, null, 'b'],
      emptyArray: [],
    });
    expectCanonical(encodeTraceRequest([makeSpan({ attributes })], RESOURCE));
  });

  it('writes negative integers as ten-byte two’s complement varints', () => {
    const withNegative = encodeTraceRequest([makeSpan({ attributes: { n: -1 } })], RESOURCE);
    const withPositive = encodeTraceRequest([makeSpan({ attributes: { n: 1 } })], RESOURCE);
    expect(withNegative.length - withPositive.length).toBe(9);
    expect(Buffer.from(withNegative).includes(Buffer.from('18ffffffffffffffffff01', 'hex'))).toBe(true);
  });

  it('writes events with time, name, attributes and dropped counts', () => {
    const span = decodeOne(
      makeSpan({
        events: [
          { name: 'exception', time: 1700000000050.25, attributes: { 'exception.type': 'Error' }, droppedAttributesCount: 2 },
          { name: 'plain', time: 1700000000060, attributes: {}, droppedAttributesCount: 0 },
        ],
        droppedEventsCount: 3,
      }),
    );
    expect(span.events).toHaveLength(2);
    expect(span.events[0].name).toBe('exception');
    expect(span.events[0].timeUnixNano.toString()).toBe('1700000000050250000');
    expect(attributeValues(span.events[0].attributes)).toEqual({ 'exception.type': 'Error' });
    expect(span.events[0].droppedAttributesCount).toBe(2);
    expect(span.events[1].name).toBe('plain');
    expect(Object.hasOwn(span.events[1], 'droppedAttributesCount')).toBe(false);
    expect(span.droppedEventsCount).toBe(3);
  });

  it('writes links with ids, trace state, attributes, dropped counts and flags', () => {
    const span = decodeOne(
      makeSpan({
        links: [
          {
            context: {
              traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
              spanId: '00f067aa0ba902b7',
              traceFlags: 1,
              isRemote: true,
              traceState: createTraceState('k=v'),
            },
            attributes: { reason: 'batch' },
            droppedAttributesCount: 1,
          },
          { context: { traceId: TRACE_ID, spanId: PARENT_ID, traceFlags: 0 }, attributes: {}, droppedAttributesCount: 0 },
        ],
        droppedLinksCount: 4,
      }),
    );
    const [remote, local] = span.links;
    expect(hex(remote.traceId)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(hex(remote.spanId)).toBe('00f067aa0ba902b7');
    expect(remote.traceState).toBe('k=v');
    expect(attributeValues(remote.attributes)).toEqual({ reason: 'batch' });
    expect(remote.droppedAttributesCount).toBe(1);
    expect(remote.flags).toBe(0x301);
    expect(hex(local.traceId)).toBe(TRACE_ID);
    expect(hex(local.spanId)).toBe(PARENT_ID);
    expect(local.flags).toBe(0x100);
    expect(span.droppedLinksCount).toBe(4);
  });

  it('writes the status: nothing when unset, the code when ok, code and message on error', () => {
    expect(decodeOne(makeSpan({ status: { code: 0 } })).status).toBeNull();
    const ok = decodeOne(makeSpan({ status: { code: 1, message: 'ignored' } })).status;
    expect(ok.code).toBe(1);
    expect(Object.hasOwn(ok, 'message')).toBe(false);
    const error = decodeOne(makeSpan({ status: { code: 2, message: 'card declined' } })).status;
    expect(error.code).toBe(2);
    expect(error.message).toBe('card declined');
  });

  it('writes dropped counts and leaves zero counts out', () => {
    const span = decodeOne(makeSpan({ droppedAttributesCount: 7 }));
    expect(span.droppedAttributesCount).toBe(7);
    const plain = decodeOne(makeSpan());
    for (const field of ['droppedAttributesCount', 'droppedEventsCount', 'droppedLinksCount', 'status']) {
      expect(Object.hasOwn(plain, field)).toBe(false);
    }
  });

  it('writes the resource attributes and schema URL', () => {
    const resource: Resource = {
      attributes: { 'service.name': 'checkout', 'service.instance.id': 'i-1', 'process.pid': 1234 },
      schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
    };
    const resourceSpans = decode(encodeTraceRequest([makeSpan()], resource)).resourceSpans;
    expect(resourceSpans).toHaveLength(1);
    expect(attributeValues(resourceSpans[0].resource.attributes)).toEqual({
      'service.name': 'checkout',
      'service.instance.id': 'i-1',
      'process.pid': { int: '1234' },
    });
    expect(resourceSpans[0].schemaUrl).toBe('https://opentelemetry.io/schemas/1.26.0');
  });

  it('groups spans by scope name, version and schema URL', () => {
    const http = { name: 'tracelet/http', version: '1.0.0', schemaUrl: 'https://opentelemetry.io/schemas/1.26.0' };
    const httpOld = { name: 'tracelet/http', version: '0.9.0' };
    const pg = { name: 'tracelet/pg' };
    const spans = [
      makeSpan({ name: 'a', scope: http }),
      makeSpan({ name: 'b', scope: pg }),
      makeSpan({ name: 'c', scope: httpOld }),
      makeSpan({ name: 'd', scope: { ...http } }), // equal by value, another object
      makeSpan({ name: 'e', scope: pg }),
    ];
    const bytes = encodeTraceRequest(spans, RESOURCE);
    const scopeSpans = decode(bytes).resourceSpans[0].scopeSpans;
    expect(
      scopeSpans.map((group: any) => ({
        name: group.scope.name,
        version: group.scope.version,
        schemaUrl: group.schemaUrl,
        spans: group.spans.map((span: any) => span.name),
      })),
    ).toEqual([
      { name: 'tracelet/http', version: '1.0.0', schemaUrl: 'https://opentelemetry.io/schemas/1.26.0', spans: ['a', 'd'] },
      { name: 'tracelet/pg', version: '', schemaUrl: '', spans: ['b', 'e'] },
      { name: 'tracelet/http', version: '0.9.0', schemaUrl: '', spans: ['c'] },
    ]);
    expect(Object.hasOwn(scopeSpans[1].scope, 'version')).toBe(false);
    expectCanonical(bytes);
  });

  it('builds the same request from spans packed earlier, merging packs by scope', () => {
    const http = { name: 'tracelet/http', version: '1.0.0' };
    const pg = { name: 'tracelet/pg' };
    const first = [makeSpan({ name: 'a', scope: http }), makeSpan({ name: 'b', scope: pg })];
    const second = [makeSpan({ name: 'c', scope: pg }), makeSpan({ name: 'd', scope: { ...http } }), makeSpan({ name: 'e', scope: http })];
    const packs = [packSpans(first), packSpans(second)];
    expect(packs.map((pack) => pack.count)).toEqual([2, 3]);
    const fromPacks = encodeTraceRequestFromPacks(packs, RESOURCE);
    // Byte for byte what encoding all the spans at once gives.
    expect(Buffer.from(fromPacks).equals(Buffer.from(encodeTraceRequest([...first, ...second], RESOURCE)))).toBe(true);
    const scopeSpans = decode(fromPacks).resourceSpans[0].scopeSpans;
    expect(scopeSpans.map((group: any) => [group.scope.name, group.spans.map((span: any) => span.name)])).toEqual([
      ['tracelet/http', ['a', 'd', 'e']],
      ['tracelet/pg', ['b', 'c']],
    ]);
    expectCanonical(fromPacks);
    expect(encodeTraceRequestFromPacks([], RESOURCE).length).toBe(0);
  });

  it('packs spans one at a time as they end, per scope, into the same bytes', () => {
    const http = { name: 'tracelet/http', version: '1.0.0' };
    const pg = { name: 'tracelet/pg' };
    const spans = [makeSpan({ name: 'a', scope: http }), makeSpan({ name: 'b', scope: pg }), makeSpan({ name: 'c', scope: { ...http } })];
    const packer = new ProtobufSpanPacker();
    for (const span of spans) packer.add(span);
    expect(packer.count).toBe(3);
    const first = packer.take();
    expect(packer.count).toBe(0);
    const later = makeSpan({ name: 'd', scope: pg });
    packer.add(later);
    // A span that cannot be serialized leaves the open pack as it was.
    const broken = makeSpan({ name: 'broken', scope: pg });
    Object.defineProperty(broken, 'attributes', {
      get() {
        throw new Error('unreadable');
      },
    });
    expect(() => packer.add(broken)).toThrow('unreadable');
    const second = packer.take();
    expect([first.count, second.count]).toEqual([3, 1]);
    expect(second.groups.map((group) => group.scope)).toEqual([pg]); // http had no span in it
    const fromPacks = encodeTraceRequestFromPacks([first, second], RESOURCE);
    expect(Buffer.from(fromPacks).equals(Buffer.from(encodeTraceRequest([...spans, later], RESOURCE)))).toBe(true);
    expectCanonical(fromPacks);
  });

  it('encodes recurring attribute values from its cache to the same bytes, and changed values afresh', () => {
    const attributesOf = (attributes: Record<string, unknown>) =>
      attributeValues(decodeOne(makeSpan({ attributes: attributes as never })).attributes);
    const rounds = [
      { 'cache.method': 'GET', 'cache.port': 8080, 'cache.ok': true, 'cache.list': ['a'] },
      { 'cache.method': 'GET', 'cache.port': 8080, 'cache.ok': true, 'cache.list': ['a'] },
      { 'cache.method': 'GET', 'cache.port': 8080, 'cache.ok': true, 'cache.list': ['b'] },
      { 'cache.method': 'POST', 'cache.port': 8081, 'cache.ok': false, 'cache.list': ['b'] },
      { 'cache.method': 'GET', 'cache.port': 8080, 'cache.ok': true, 'cache.list': ['a'] },
      { 'cache.method': 'x'.repeat(300), 'cache.port': 1.5, 'cache.ok': true, 'cache.list': [] },
      { 'cache.method': 'x'.repeat(300), 'cache.port': 1.5, 'cache.ok': true, 'cache.list': [] },
    ];
    const number = (value: number) => (Number.isInteger(value) ? { int: String(value) } : { double: value });
    const expected = rounds.map((attributes) => ({ ...attributes, 'cache.port': number(attributes['cache.port']) }));
    const encoded = rounds.map((attributes) => Buffer.from(encodeTraceRequest([makeSpan({ attributes: attributes as never })], RESOURCE)));
    expect(rounds.map(attributesOf)).toEqual(expected);
    expect(encoded[1]!.equals(encoded[0]!)).toBe(true);
    expect(encoded[4]!.equals(encoded[0]!)).toBe(true);
    for (const bytes of encoded) expectCanonical(bytes);
  });

  it('encodes non-ASCII strings as UTF-8', () => {
    const values = {
      accents: 'café crème',
      cjk: '日本語のスパン',
      emoji: 'deploy 🚀 done',
      loneSurrogate: 'a\ud800b',
      longNonAscii: 'ü'.repeat(200),
    };
    const span = decodeOne(makeSpan({ name: 'naïve 名前', attributes: values }));
    expect(span.name).toBe('naïve 名前');
    expect(attributeValues(span.attributes)).toEqual({ ...values, loneSurrogate: 'a\ufffdb' });
  });

  it('encodes every attribute name right, past the names it keeps encoded (non-ASCII and long ones too)', () => {
    const attributes: Record<string, string> = {};
    for (let i = 0; i < 1500; i++) attributes[`app.key.${i}`] = `v${i}`;
    attributes['clé.名前'] = 'x';
    attributes['k'.repeat(300)] = 'long';
    const expected = { ...attributes };
    // Twice: the second encoding reads names from the cache where the first one filled it.
    for (let round = 0; round < 2; round++) {
      expect(attributeValues(decodeOne(makeSpan({ attributes })).attributes)).toEqual(expected);
    }
  });

  it('writes minimal length varints around the 128 and 16384 byte boundaries', () => {
    const strings = [
      'x'.repeat(127),
      'x'.repeat(128),
      'é'.repeat(63) + 'x', // 127 bytes
      'é'.repeat(64), // 64 characters, 128 bytes: the reserved length byte must grow
      'é'.repeat(100), // longer than the short-string path
      'x'.repeat(16383),
      'x'.repeat(16384),
      'é'.repeat(8192), // 8192 characters, 16384 bytes: the length grows from two bytes to three
      '€'.repeat(50000), // 150000 bytes
    ];
    for (const value of strings) {
      const bytes = encodeTraceRequest([makeSpan({ name: value, attributes: { value } })], RESOURCE);
      const span = decode(bytes).resourceSpans[0].scopeSpans[0].spans[0];
      expect(span.name).toBe(value);
      expect(attributeValues(span.attributes)).toEqual({ value });
      expectCanonical(bytes);
    }
  });

  it('encodes a batch of 512 spans that decodes and re-encodes to the same bytes', () => {
    const spans: ReadableSpan[] = [];
    for (let i = 0; i < 512; i++) {
      spans.push(
        makeSpan({
          name: `span ${i}`,
          kind: i % 5,
          context: { spanId: (i + 1).toString(16).padStart(16, '0') },
          parentSpanId: i === 0 ? undefined : PARENT_ID,
          startTime: 1700000000000 + i + 0.125,
          endTime: 1700000000000 + i * 2 + 0.5,
          attributes: { 'http.request.method': 'GET', 'http.response.status_code': 200, index: i, ratio: i / 3 },
          events: i % 10 === 0 ? [{ name: 'e', time: 1700000000001, attributes: { i }, droppedAttributesCount: 0 }] : [],
          status: { code: i % 3, message: i % 3 === 2 ? 'failed' : undefined },
          scope: i % 2 === 0 ? { name: 'even' } : { name: 'odd', version: '1' },
        }),
      );
    }
    const bytes = encodeTraceRequest(spans, RESOURCE);
    const scopeSpans = decode(bytes).resourceSpans[0].scopeSpans;
    expect(scopeSpans).toHaveLength(2);
    expect(scopeSpans[0].spans).toHaveLength(256);
    expect(scopeSpans[1].spans).toHaveLength(256);
    expect(scopeSpans[1].spans[255].name).toBe('span 511');
    expect(hex(scopeSpans[1].spans[255].spanId)).toBe('0000000000000200');
    expect(scopeSpans[1].spans[255].startTimeUnixNano.toString()).toBe('1700000000511125000');
    expectCanonical(bytes);
  });

  it('returns a copy that later encodings do not overwrite', () => {
    const first = encodeTraceRequest([makeSpan({ name: 'first' })], RESOURCE);
    const snapshot = Buffer.from(first);
    encodeTraceRequest([makeSpan({ name: 'second' })], RESOURCE);
    expect(Buffer.from(first).equals(snapshot)).toBe(true);
  });
});

describe('decodeExportResponse', () => {
  it('reads partial success', () => {
    const body = ExportResponse.encode(
      ExportResponse.fromObject({ partialSuccess: { rejectedSpans: 12, errorMessage: 'spans too large' } }),
    ).finish();
    expect(decodeExportResponse(body)).toEqual({ rejectedSpans: 12, errorMessage: 'spans too large' });
  });

  it('reads an empty response as full success', () => {
    expect(decodeExportResponse(new Uint8Array(0))).toEqual({ rejectedSpans: 0, errorMessage: '' });
    const body = ExportResponse.encode(ExportResponse.fromObject({ partialSuccess: {} })).finish();
    expect(decodeExportResponse(body)).toEqual({ rejectedSpans: 0, errorMessage: '' });
  });

  it('skips unknown fields', () => {
    const known = ExportResponse.encode(ExportResponse.fromObject({ partialSuccess: { rejectedSpans: 3, errorMessage: 'x' } })).finish();
    // field 9 varint, field 10 fixed64, field 11 string, field 12 fixed32, then the known field
    const unknown = Buffer.from('4801' + '510102030405060708' + '5a026869' + '6501020304', 'hex');
    expect(decodeExportResponse(Buffer.concat([unknown, known]))).toEqual({ rejectedSpans: 3, errorMessage: 'x' });
  });

  it('returns defaults for garbage without throwing', () => {
    const garbage = [
      Buffer.from('<html><body>502 Bad Gateway</body></html>'),
      Buffer.from('0a05', 'hex'), // length beyond the end
      Buffer.from('0a02ffff', 'hex'), // truncated varint inside
      Buffer.from('ffffffffffffffffffffff', 'hex'),
      Buffer.from('00', 'hex'), // field number 0
      Buffer.from('0a03080a', 'hex'),
    ];
    for (const body of garbage) {
      expect(decodeExportResponse(body)).toEqual({ rejectedSpans: 0, errorMessage: '' });
    }
    for (let i = 0; i < 200; i++) {
      const random = Buffer.alloc(i % 40);
      for (let j = 0; j < random.length; j++) random[j] = (i * 31 + j * 17) & 0xff;
      expect(() => decodeExportResponse(random)).not.toThrow();
      expect(() => decodeStatus(random)).not.toThrow();
    }
  });
});

describe('decodeStatus', () => {
  it('reads code and message, skipping details', () => {
    const body = RpcStatus.encode(
      RpcStatus.fromObject({
        code: 8,
        message: 'resource exhausted',
        details: [{ typeUrl: 'type.googleapis.com/google.rpc.RetryInfo', value: Buffer.from('0a0208 01', 'hex') }],
      }),
    ).finish();
    expect(decodeStatus(body)).toEqual({ code: 8, message: 'resource exhausted' });
  });

  it('reads negative codes and empty statuses', () => {
    expect(decodeStatus(RpcStatus.encode(RpcStatus.fromObject({ code: -3 })).finish())).toEqual({ code: -3, message: '' });
    expect(decodeStatus(new Uint8Array(0))).toEqual({ code: 0, message: '' });
  });

  it('returns defaults for garbage without throwing', () => {
    expect(decodeStatus(Buffer.from('upstream connect error'))).toEqual({ code: 0, message: '' });
    expect(decodeStatus(Buffer.from('0808120a', 'hex'))).toEqual({ code: 0, message: '' });
  });
});
