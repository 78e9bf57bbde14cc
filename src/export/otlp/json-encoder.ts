import type { Attributes } from '@opentelemetry/api';
import type { EpochMillis, ReadableSpan, Resource } from '../../trace/types';
import { SpanListPacker, spansOf } from '../span-list';
import type { ExportResponse, SpanEncoder, SpanPack, SpanPacker } from '../types';
import { groupByScope, otlpFlags, otlpSpanKind } from './protobuf-spans';

const STATUS_ERROR = 2;

/**
 * OTLP/JSON (OTEL_EXPORTER_OTLP_PROTOCOL=http/json), a format for debugging: its packs keep the
 * span objects, serialized when the request is made.
 */
export class JsonEncoder implements SpanEncoder {
  readonly contentType = 'application/json';

  constructor(private readonly resource: Resource) {}

  createPacker(): SpanPacker {
    return new SpanListPacker();
  }

  encode(packs: readonly SpanPack[]): Uint8Array {
    return Buffer.from(encodeTraceRequestJson(spansOf(packs), this.resource), 'utf8');
  }

  readResponse(body: Uint8Array): ExportResponse {
    return decodeJsonExportResponse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  }
}

/**
 * Encodes spans as an OTLP/JSON `ExportTraceServiceRequest`: the protobuf JSON mapping with the
 * OTLP exceptions (ids as hex, enums as integers). 64-bit integers are decimal strings and
 * default-valued fields are left out. Built by string concatenation: no object per span.
 */
export function encodeTraceRequestJson(spans: readonly ReadableSpan[], resource: Resource): string {
  if (spans.length === 0) return '{}';
  let out = '{"resourceSpans":[{"resource":{' + attributesMember('', resource.attributes) + '}';
  let firstScope = true;
  for (const group of groupByScope(spans)) {
    out += firstScope ? ',"scopeSpans":[{"scope":{' : ',{"scope":{';
    firstScope = false;
    const { name, version, schemaUrl } = group.scope;
    if (name) out += '"name":' + JSON.stringify(name);
    if (version) out += (name ? ',' : '') + '"version":' + JSON.stringify(version);
    out += '},"spans":[';
    for (let i = 0; i < group.spans.length; i++) {
      if (i > 0) out += ',';
      out += spanJson(group.spans[i]!);
    }
    out += ']';
    if (schemaUrl) out += ',"schemaUrl":' + JSON.stringify(schemaUrl);
    out += '}';
  }
  out += ']';
  if (resource.schemaUrl) out += ',"schemaUrl":' + JSON.stringify(resource.schemaUrl);
  return out + '}]}';
}

function spanJson(span: ReadableSpan): string {
  const context = span.spanContext();
  let out = '{"traceId":' + JSON.stringify(context.traceId) + ',"spanId":' + JSON.stringify(context.spanId);
  const traceState = context.traceState?.serialize();
  if (traceState) out += ',"traceState":' + JSON.stringify(traceState);
  if (span.parentSpanId) out += ',"parentSpanId":' + JSON.stringify(span.parentSpanId);
  out += ',"flags":' + otlpFlags(context, span.parentIsRemote);
  if (span.name) out += ',"name":' + JSON.stringify(span.name);
  const kind = otlpSpanKind(span.kind);
  if (kind !== 0) out += ',"kind":' + kind;
  out += ',"startTimeUnixNano":"' + nanosString(span.startTime) + '"';
  out += ',"endTimeUnixNano":"' + nanosString(span.endTime) + '"';
  out += attributesMember(',', span.attributes);
  out += countMember('droppedAttributesCount', span.droppedAttributesCount);
  if (span.events.length > 0) {
    out += ',"events":[';
    for (let i = 0; i < span.events.length; i++) {
      const event = span.events[i]!;
      if (i > 0) out += ',';
      out += '{"timeUnixNano":"' + nanosString(event.time) + '"';
      if (event.name) out += ',"name":' + JSON.stringify(event.name);
      out += attributesMember(',', event.attributes);
      out += countMember('droppedAttributesCount', event.droppedAttributesCount);
      out += '}';
    }
    out += ']';
  }
  out += countMember('droppedEventsCount', span.droppedEventsCount);
  if (span.links.length > 0) {
    out += ',"links":[';
    for (let i = 0; i < span.links.length; i++) {
      const link = span.links[i]!;
      if (i > 0) out += ',';
      out += '{"traceId":' + JSON.stringify(link.context.traceId) + ',"spanId":' + JSON.stringify(link.context.spanId);
      const linkTraceState = link.context.traceState?.serialize();
      if (linkTraceState) out += ',"traceState":' + JSON.stringify(linkTraceState);
      out += attributesMember(',', link.attributes);
      out += countMember('droppedAttributesCount', link.droppedAttributesCount);
      out += ',"flags":' + otlpFlags(link.context, link.context.isRemote === true) + '}';
    }
    out += ']';
  }
  out += countMember('droppedLinksCount', span.droppedLinksCount);
  const { code, message } = span.status;
  if (code === STATUS_ERROR) {
    out += message ? ',"status":{"message":' + JSON.stringify(message) + ',"code":2}' : ',"status":{"code":2}';
  } else if (code === 1) {
    out += ',"status":{"code":1}';
  }
  return out + '}';
}

function countMember(name: string, count: number): string {
  return count > 0 ? ',"' + name + '":' + (count >>> 0) : '';
}

/** `"attributes":[...]` after `separator`, or nothing when there are none to write. */
function attributesMember(separator: string, attributes: Attributes): string {
  let out = '';
  for (const key in attributes) {
    const value = anyValueJson(attributes[key]);
    if (value === '') continue;
    out += (out === '' ? separator + '"attributes":[' : ',') + '{"key":' + JSON.stringify(key) + ',"value":' + value + '}';
  }
  return out === '' ? '' : out + ']';
}

/** An AnyValue object, or '' for values an attribute cannot hold (they are left out). */
function anyValueJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return '{"stringValue":' + JSON.stringify(value) + '}';
    case 'boolean':
      return value ? '{"boolValue":true}' : '{"boolValue":false}';
    case 'number':
      if (Number.isSafeInteger(value)) return '{"intValue":"' + value + '"}';
      // The protobuf JSON mapping spells the non-finite doubles as strings.
      return '{"doubleValue":' + (Number.isFinite(value) ? String(value) : '"' + String(value) + '"') + '}';
    default:
      return Array.isArray(value) ? arrayValueJson(value) : '';
  }
}

function arrayValueJson(values: readonly unknown[]): string {
  if (values.length === 0) return '{"arrayValue":{}}';
  let out = '{"arrayValue":{"values":[';
  for (let i = 0; i < values.length; i++) {
    const element = values[i];
    if (i > 0) out += ',';
    // null entries (and nested arrays, which attributes cannot hold) become an empty AnyValue
    out += (Array.isArray(element) ? '' : anyValueJson(element)) || '{}';
  }
  return out + ']}}';
}

/**
 * Epoch milliseconds (a float) as a decimal string of nanoseconds: whole milliseconds followed by
 * six digits of nanoseconds, so no arithmetic passes 2^53.
 */
function nanosString(time: EpochMillis): string {
  if (!(time > 0)) return '0';
  let wholeMillis = Math.floor(time);
  let subMillisNanos = Math.round((time - wholeMillis) * 1e6);
  if (subMillisNanos === 1e6) {
    wholeMillis += 1;
    subMillisNanos = 0;
  }
  if (wholeMillis === 0) return String(subMillisNanos);
  return String(wholeMillis) + String(subMillisNanos).padStart(6, '0');
}

/** Reads `{ partialSuccess: { rejectedSpans, errorMessage } }`. Never throws: garbage reads as success. */
export function decodeJsonExportResponse(text: string): ExportResponse {
  let rejectedSpans = 0;
  let errorMessage = '';
  try {
    const partial: unknown = (JSON.parse(text) as { partialSuccess?: unknown } | null)?.partialSuccess;
    if (partial !== null && typeof partial === 'object') {
      const { rejectedSpans: rejected, errorMessage: message } = partial as Record<string, unknown>;
      const count = typeof rejected === 'string' || typeof rejected === 'number' ? Number(rejected) : 0;
      if (Number.isFinite(count) && count > 0) rejectedSpans = Math.floor(count);
      if (typeof message === 'string') errorMessage = message;
    }
  } catch {
    // Not JSON: nothing to learn from it.
  }
  return { rejectedSpans, errorMessage };
}
