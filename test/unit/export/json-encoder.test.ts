import { SpanKind, createTraceState } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { decodeJsonExportResponse, encodeTraceRequestJson } from '../../../src/export/otlp/json-encoder';
import { encodeTraceRequest } from '../../../src/export/otlp/protobuf-encoder';
import type { ReadableSpan, Resource } from '../../../src/trace/types';
import { ExportTraceServiceRequest } from '../../helpers/otlp-schema.mjs';
import { makeSpan, PARENT_ID, SPAN_ID, TRACE_ID } from '../../helpers/spans';

const ExportRequest = ExportTraceServiceRequest;

const RESOURCE: Resource = {
  attributes: { 'service.name': 'checkout' },
  schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
};

const FULL_SPAN = makeSpan({
  name: 'POST /pay',
  kind: SpanKind.SERVER,
  parentSpanId: PARENT_ID,
  parentIsRemote: true,
  context: { traceState: createTraceState('vendor=abc') },
  startTime: 1700000000123.456789,
  endTime: 1700000000223.5,
  attributes: {
    'http.request.method': 'POST',
    ok: true,
    count: -3,
    ratio: 0.5,
    infinite: Number.POSITIVE_INFINITY,
    tags: ['a', null, 'b'],
    ints: [1, 2],
    none: [],
  },
  droppedAttributesCount: 1,
  events: [{ name: 'exception', time: 1700000000150.25, attributes: { 'exception.type': 'Error' }, droppedAttributesCount: 2 }],
  droppedEventsCount: 3,
  links: [
    {
      context: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: PARENT_ID, traceFlags: 1, isRemote: true },
      attributes: { reason: 'batch' },
      droppedAttributesCount: 0,
    },
  ],
  droppedLinksCount: 4,
  status: { code: 2, message: 'card declined' },
  scope: { name: 'tracelet/http', version: '1.0.0', schemaUrl: 'https://opentelemetry.io/schemas/1.25.0' },
});

/* eslint-disable @typescript-eslint/no-explicit-any -- parsed JSON */
function parse(spans: ReadableSpan[], resource = RESOURCE): any {
  return JSON.parse(encodeTraceRequestJson(spans, resource));
}

/** The protobuf JSON mapping wants base64 bytes where OTLP/JSON has hex ids. */
function hexIdsToBase64(request: any): any {
  const toBase64 = (hex: string): string => Buffer.from(hex, 'hex').toString('base64');
  for (const resourceSpans of request.resourceSpans ?? []) {
    for (const scopeSpans of resourceSpans.scopeSpans) {
      for (const span of scopeSpans.spans) {
        for (const holder of [span, ...(span.links ?? [])]) {
          for (const field of ['traceId', 'spanId', 'parentSpanId']) {
            if (holder[field] !== undefined) holder[field] = toBase64(holder[field]);
          }
        }
      }
    }
  }
  return request;
}

describe('encodeTraceRequestJson', () => {
  it('uses OTLP/JSON field names, hex ids, integer enums and string nanoseconds', () => {
    const request = parse([FULL_SPAN]);
    expect(Object.keys(request)).toEqual(['resourceSpans']);
    const resourceSpans = request.resourceSpans[0];
    expect(resourceSpans.resource).toEqual({
      attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }],
    });
    expect(resourceSpans.schemaUrl).toBe('https://opentelemetry.io/schemas/1.26.0');
    const scopeSpans = resourceSpans.scopeSpans[0];
    expect(scopeSpans.scope).toEqual({ name: 'tracelet/http', version: '1.0.0' });
    expect(scopeSpans.schemaUrl).toBe('https://opentelemetry.io/schemas/1.25.0');
    expect(scopeSpans.spans[0]).toEqual({
      traceId: TRACE_ID,
      spanId: SPAN_ID,
      traceState: 'vendor=abc',
      parentSpanId: PARENT_ID,
      flags: 0x301,
      name: 'POST /pay',
      kind: 2,
      startTimeUnixNano: '1700000000123456787', // the nearest nanosecond of the double 1700000000123.456789
      endTimeUnixNano: '1700000000223500000',
      attributes: [
        { key: 'http.request.method', value: { stringValue: 'POST' } },
        { key: 'ok', value: { boolValue: true } },
        { key: 'count', value: { intValue: '-3' } },
        { key: 'ratio', value: { doubleValue: 0.5 } },
        { key: 'infinite', value: { doubleValue: 'Infinity' } },
        { key: 'tags', value: { arrayValue: { values: [{ stringValue: 'a' }, {}, { stringValue: 'b' }] } } },
        { key: 'ints', value: { arrayValue: { values: [{ intValue: '1' }, { intValue: '2' }] } } },
        { key: 'none', value: { arrayValue: {} } },
      ],
      droppedAttributesCount: 1,
      events: [
        {
          timeUnixNano: '1700000000150250000',
          name: 'exception',
          attributes: [{ key: 'exception.type', value: { stringValue: 'Error' } }],
          droppedAttributesCount: 2,
        },
      ],
      droppedEventsCount: 3,
      links: [
        {
          traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
          spanId: PARENT_ID,
          attributes: [{ key: 'reason', value: { stringValue: 'batch' } }],
          flags: 0x301,
        },
      ],
      droppedLinksCount: 4,
      status: { message: 'card declined', code: 2 },
    });
  });

  it('omits default values', () => {
    const request = parse([makeSpan({ context: { traceFlags: 0 } })], { attributes: {} });
    expect(request.resourceSpans[0]).toEqual({
      resource: {},
      scopeSpans: [
        {
          scope: { name: 'test-scope' },
          spans: [
            {
              traceId: TRACE_ID,
              spanId: SPAN_ID,
              flags: 0x100,
              name: 'span',
              kind: 1,
              startTimeUnixNano: '1700000000000000000',
              endTimeUnixNano: '1700000000100000000',
            },
          ],
        },
      ],
    });
    const ok = parse([makeSpan({ status: { code: 1, message: 'ignored' } })]).resourceSpans[0].scopeSpans[0].spans[0];
    expect(ok.status).toEqual({ code: 1 });
    const errorWithoutMessage = parse([makeSpan({ status: { code: 2 } })]).resourceSpans[0].scopeSpans[0].spans[0];
    expect(errorWithoutMessage.status).toEqual({ code: 2 });
  });

  it('encodes an empty span list as an empty request', () => {
    expect(JSON.parse(encodeTraceRequestJson([], RESOURCE))).toEqual({});
  });

  it('groups spans by scope and writes every span kind', () => {
    const kinds = [SpanKind.INTERNAL, SpanKind.SERVER, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER];
    const spans = kinds.map((kind, i) => makeSpan({ kind, name: `s${i}`, scope: { name: i % 2 ? 'odd' : 'even' } }));
    const scopeSpans = parse(spans).resourceSpans[0].scopeSpans;
    expect(scopeSpans.map((group: any) => group.scope.name)).toEqual(['even', 'odd']);
    expect(scopeSpans[0].spans.map((span: any) => [span.name, span.kind])).toEqual([
      ['s0', 1],
      ['s2', 3],
      ['s4', 5],
    ]);
    expect(scopeSpans[1].spans.map((span: any) => [span.name, span.kind])).toEqual([
      ['s1', 2],
      ['s3', 4],
    ]);
  });

  it('escapes strings that need it', () => {
    const name = 'quote " backslash \\ newline \n tab \t control \u0001 café 🚀';
    const span = parse([makeSpan({ name, attributes: { [name]: name } })]).resourceSpans[0].scopeSpans[0].spans[0];
    expect(span.name).toBe(name);
    expect(span.attributes[0]).toEqual({ key: name, value: { stringValue: name } });
  });

  it('describes the same message as the protobuf encoding', () => {
    const spans = [
      FULL_SPAN,
      makeSpan({ name: 'child', parentSpanId: SPAN_ID, kind: SpanKind.CLIENT, status: { code: 1 } }),
      makeSpan({ name: 'other scope', scope: { name: 'tracelet/pg' }, attributes: { 'db.system.name': 'postgresql' } }),
    ];
    const fromJson = ExportRequest.fromObject(hexIdsToBase64(parse(spans)));
    const protobufBytes = encodeTraceRequest(spans, RESOURCE);
    expect(Buffer.from(ExportRequest.encode(fromJson).finish()).equals(Buffer.from(protobufBytes))).toBe(true);
  });
});

describe('decodeJsonExportResponse', () => {
  it('reads partial success with int64 as a string or a number', () => {
    expect(decodeJsonExportResponse('{"partialSuccess":{"rejectedSpans":"5","errorMessage":"too big"}}')).toEqual({
      rejectedSpans: 5,
      errorMessage: 'too big',
    });
    expect(decodeJsonExportResponse('{"partialSuccess":{"rejectedSpans":2}}')).toEqual({
      rejectedSpans: 2,
      errorMessage: '',
    });
  });

  it('reads empty and missing partial success as full success', () => {
    for (const text of ['', '{}', '{"partialSuccess":{}}', '{"partialSuccess":null}']) {
      expect(decodeJsonExportResponse(text)).toEqual({ rejectedSpans: 0, errorMessage: '' });
    }
  });

  it('returns defaults for garbage without throwing', () => {
    const garbage = [
      '<html>502</html>',
      'null',
      '42',
      '"text"',
      '[1,2]',
      '{"partialSuccess":"x"}',
      '{"partialSuccess":{"rejectedSpans":"many","errorMessage":7}}',
      '{"partialSuccess":{"rejectedSpans":-4}}',
    ];
    for (const text of garbage) {
      expect(decodeJsonExportResponse(text)).toEqual({ rejectedSpans: 0, errorMessage: '' });
    }
  });
});
