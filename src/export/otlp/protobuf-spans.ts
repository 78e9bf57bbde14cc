import type { AttributeValue, Attributes, SpanContext } from '@opentelemetry/api';
import { VerifiedSpanContext } from '../../api/trace';
import type { EpochMillis, InstrumentationScope, ReadableSpan } from '../../trace/types';
import type { SpanPacker } from '../types';
import { ProtobufWriter } from './protobuf-writer';

// The OTLP Span message and what it holds, as protobuf: writing one span, and packing spans as
// they end. Field numbers from opentelemetry-proto v1.4.0.
/** Each span is written as one `spans` field of its ScopeSpans message. */
const ScopeSpans = { spans: 2 } as const;
const SpanField = {
  traceId: 1,
  spanId: 2,
  traceState: 3,
  parentSpanId: 4,
  name: 5,
  kind: 6,
  startTimeUnixNano: 7,
  endTimeUnixNano: 8,
  attributes: 9,
  droppedAttributesCount: 10,
  events: 11,
  droppedEventsCount: 12,
  links: 13,
  droppedLinksCount: 14,
  status: 15,
  flags: 16,
} as const;
const EventField = { timeUnixNano: 1, name: 2, attributes: 3, droppedAttributesCount: 4 } as const;
const LinkField = { traceId: 1, spanId: 2, traceState: 3, attributes: 4, droppedAttributesCount: 5, flags: 6 } as const;
const StatusField = { message: 2, code: 3 } as const;
const KeyValueField = { key: 1, value: 2 } as const;
const AnyValueField = { string: 1, bool: 2, int: 3, double: 4, array: 5 } as const;
const ArrayValueField = { values: 1 } as const;

/** SpanFlags bits: the context says whether it is remote, and this one (or its parent) is. */
export const FLAG_HAS_IS_REMOTE = 0x100;
export const FLAG_IS_REMOTE = 0x200;

const STATUS_ERROR = 2;
const TWO_POW_32 = 4294967296;

/**
 * Spans already serialized: per instrumentation scope, their `ScopeSpans.spans` fields (tag,
 * length, Span message) back to back. A batch processor queues these bytes instead of the span
 * objects (see PackingExporter), so spans die young instead of piling up in the heap until export.
 */
export interface ProtobufPack {
  readonly count: number;
  readonly groups: ReadonlyArray<{ readonly scope: InstrumentationScope; readonly spans: Buffer }>;
}

/** Room for a pack of spans of one scope before the writer grows (a server span takes ~300 bytes). */
const PACK_WRITER_CAPACITY = 16 * 1024;

/** The spans of one scope in the open pack. */
interface OpenGroup {
  readonly scope: InstrumentationScope;
  readonly writer: ProtobufWriter;
}

/**
 * Serializes each span as it ends into the open pack, one writer per instrumentation scope (a
 * handful: the instrumentations and the application's tracers), until take() closes the pack.
 */
export class ProtobufSpanPacker implements SpanPacker {
  count = 0;
  private groups: OpenGroup[] = [];
  private last: OpenGroup | undefined;

  add(span: ReadableSpan): void {
    const group = this.groupOf(span.scope);
    const w = group.writer;
    const start = w.length;
    try {
      writeSpan(w, span);
    } catch (error) {
      w.truncate(start);
      throw error;
    }
    this.count++;
  }

  take(): ProtobufPack {
    const groups: Array<{ scope: InstrumentationScope; spans: Buffer }> = [];
    for (const group of this.groups) {
      if (group.writer.length > 0) groups.push({ scope: group.scope, spans: group.writer.finish() });
      group.writer.reset();
    }
    const pack = { count: this.count, groups };
    // Scopes that had no span in this pack give their writer up.
    if (groups.length < this.groups.length) this.groups = this.groups.filter((group) => groups.some((taken) => taken.scope === group.scope));
    this.last = undefined;
    this.count = 0;
    return pack;
  }

  private groupOf(scope: InstrumentationScope): OpenGroup {
    const last = this.last;
    if (last !== undefined && last.scope === scope) return last;
    let group = this.groups.find((candidate) => sameScope(candidate.scope, scope));
    if (group === undefined) {
      group = { scope, writer: new ProtobufWriter(PACK_WRITER_CAPACITY) };
      this.groups.push(group);
    }
    this.last = group;
    return group;
  }
}

export interface ScopeGroup {
  readonly scope: InstrumentationScope;
  readonly spans: ReadableSpan[];
}

/**
 * Groups spans by scope name, version and schema URL, in order of first appearance. Tracers share
 * one scope object, so identity settles almost every span before any field is compared.
 */
export function groupByScope(spans: readonly ReadableSpan[]): ScopeGroup[] {
  const groups: ScopeGroup[] = [];
  let last: ScopeGroup | undefined;
  for (const span of spans) {
    const scope = span.scope;
    if (last === undefined || last.scope !== scope) {
      last = undefined;
      for (const group of groups) {
        if (sameScope(group.scope, scope)) {
          last = group;
          break;
        }
      }
      if (last === undefined) {
        last = { scope, spans: [] };
        groups.push(last);
      }
    }
    last.spans.push(span);
  }
  return groups;
}

export function sameScope(a: InstrumentationScope, b: InstrumentationScope): boolean {
  return a === b || (a.name === b.name && (a.version ?? '') === (b.version ?? '') && (a.schemaUrl ?? '') === (b.schemaUrl ?? ''));
}

export function writeSpan(w: ProtobufWriter, span: ReadableSpan): void {
  const context = span.spanContext();
  const body = w.beginMessage(ScopeSpans.spans);
  writeIds(w, SpanField.traceId, SpanField.spanId, context);
  const traceState = context.traceState?.serialize();
  if (traceState) w.stringField(SpanField.traceState, traceState);
  const parent = span.parentSpanContext;
  if (parent instanceof VerifiedSpanContext) w.idField(SpanField.parentSpanId, parent.spanIdWord0, parent.spanIdWord1);
  else if (span.parentSpanId) w.hexBytesField(SpanField.parentSpanId, span.parentSpanId);
  if (span.name) w.stringField(SpanField.name, span.name);
  const kind = otlpSpanKind(span.kind);
  if (kind !== 0) w.uint32Field(SpanField.kind, kind);
  writeTimestamp(w, SpanField.startTimeUnixNano, span.startTime);
  writeTimestamp(w, SpanField.endTimeUnixNano, span.endTime);
  const keys = span.attributeKeys;
  if (keys !== undefined) writeAttributeList(w, SpanField.attributes, keys, span.attributeValues!);
  else writeAttributes(w, SpanField.attributes, span.attributes);
  if (span.droppedAttributesCount > 0) w.uint32Field(SpanField.droppedAttributesCount, span.droppedAttributesCount);
  for (const event of span.events) {
    const eventBody = w.beginMessage(SpanField.events);
    writeTimestamp(w, EventField.timeUnixNano, event.time);
    if (event.name) w.stringField(EventField.name, event.name);
    writeAttributes(w, EventField.attributes, event.attributes);
    if (event.droppedAttributesCount > 0) {
      w.uint32Field(EventField.droppedAttributesCount, event.droppedAttributesCount);
    }
    w.endMessage(eventBody);
  }
  if (span.droppedEventsCount > 0) w.uint32Field(SpanField.droppedEventsCount, span.droppedEventsCount);
  for (const link of span.links) {
    const linkBody = w.beginMessage(SpanField.links);
    writeIds(w, LinkField.traceId, LinkField.spanId, link.context);
    const linkTraceState = link.context.traceState?.serialize();
    if (linkTraceState) w.stringField(LinkField.traceState, linkTraceState);
    writeAttributes(w, LinkField.attributes, link.attributes);
    if (link.droppedAttributesCount > 0) {
      w.uint32Field(LinkField.droppedAttributesCount, link.droppedAttributesCount);
    }
    w.fixed32Field(LinkField.flags, otlpFlags(link.context, link.context.isRemote === true));
    w.endMessage(linkBody);
  }
  if (span.droppedLinksCount > 0) w.uint32Field(SpanField.droppedLinksCount, span.droppedLinksCount);
  const { code, message } = span.status;
  if (code === 1 || code === STATUS_ERROR) {
    const statusBody = w.beginMessage(SpanField.status);
    if (code === STATUS_ERROR && message) w.stringField(StatusField.message, message);
    w.uint32Field(StatusField.code, code);
    w.endMessage(statusBody);
  }
  w.fixed32Field(SpanField.flags, otlpFlags(context, span.parentIsRemote));
  w.endMessage(body);
}

/** A context's trace and span ids: copied from its words when it has them, else decoded from hex. */
function writeIds(w: ProtobufWriter, traceIdField: number, spanIdField: number, context: SpanContext): void {
  if (context instanceof VerifiedSpanContext && context.traceIdWords !== undefined) {
    const trace = context.traceIdWords;
    w.traceIdField(traceIdField, trace.word0, trace.word1, trace.word2, trace.word3);
    w.idField(spanIdField, context.spanIdWord0, context.spanIdWord1);
  } else {
    w.hexBytesField(traceIdField, context.traceId);
    w.hexBytesField(spanIdField, context.spanId);
  }
}

/** OTLP's SpanKind counts from SPAN_KIND_UNSPECIFIED = 0; the API's starts at INTERNAL = 0. */
export function otlpSpanKind(kind: number): number {
  return kind >= 0 && kind <= 4 ? kind + 1 : 0;
}

/** W3C trace flags in the low byte, plus whether the parent (or linked) context is remote. */
export function otlpFlags(context: SpanContext, remote: boolean): number {
  return (context.traceFlags & 0xff) | FLAG_HAS_IS_REMOTE | (remote ? FLAG_IS_REMOTE : 0);
}

/**
 * Epoch milliseconds (a float) to fixed64 nanoseconds. ms * 1e6 would pass 2^53 and lose
 * precision, so whole milliseconds and the nanoseconds within them are composed in two 32-bit halves.
 */
function writeTimestamp(w: ProtobufWriter, field: number, time: EpochMillis): void {
  if (!(time > 0)) {
    w.fixed64Field(field, 0, 0);
    return;
  }
  let wholeMillis = Math.floor(time);
  let subMillisNanos = Math.round((time - wholeMillis) * 1e6); // exact subtraction: same binade
  if (subMillisNanos === 1e6) {
    wholeMillis += 1;
    subMillisNanos = 0;
  }
  const lowPart = (wholeMillis % TWO_POW_32) * 1e6 + subMillisNanos; // < 2^52: exact
  const high = Math.floor(wholeMillis / TWO_POW_32) * 1e6 + Math.floor(lowPart / TWO_POW_32);
  w.fixed64Field(field, lowPart % TWO_POW_32, high);
}

/**
 * What the encoder remembers of each attribute name seen so far: a few dozen names recur in
 * every span, and many of their values do too (a method, a host, a status code). The name is
 * UTF-8 encoded once; a short value seen twice in a row gets its whole KeyValue encoded once and
 * copied after. Bounded, for applications that make up names per span (those are encoded in
 * place, as before the cache filled).
 */
interface KnownKey {
  /** The KeyValue.key field, encoded. */
  readonly keyField: Buffer;
  /** The value this name had last time. */
  lastValue: unknown;
  /** The KeyValue body (key and value fields) for lastValue, once it repeated. */
  keyValue: Buffer | undefined;
}

const knownKeys = new Map<string, KnownKey>();
const MAX_KNOWN_KEYS = 1024;
/** A KeyValue body under 128 bytes keeps a one-byte length, so it sits where it was written. */
const MAX_CACHED_KEY_VALUE = 127;

function writeAttribute(w: ProtobufWriter, field: number, key: string, value: AttributeValue): void {
  const known = knownKeys.get(key);
  if (known !== undefined && known.keyValue !== undefined && known.lastValue === value) {
    w.bytesField(field, known.keyValue);
    return;
  }
  const keyValue = w.beginMessage(field);
  if (known !== undefined) w.raw(known.keyField);
  else if (key) writeNewKey(w, key);
  const anyValue = w.beginMessage(KeyValueField.value);
  writeAnyValueBody(w, value);
  w.endMessage(anyValue);
  const length = w.length - keyValue;
  w.endMessage(keyValue);
  if (known === undefined) return;
  if (length > MAX_CACHED_KEY_VALUE || typeof value === 'object') {
    // Long values and arrays are not remembered (nor kept alive by the cache).
    known.lastValue = undefined;
    known.keyValue = undefined;
  } else if (known.lastValue !== value) {
    known.lastValue = value;
    known.keyValue = undefined;
  } else {
    known.keyValue = w.copyFrom(keyValue);
  }
}

function writeNewKey(w: ProtobufWriter, key: string): void {
  const start = w.length;
  w.stringField(KeyValueField.key, key);
  if (knownKeys.size < MAX_KNOWN_KEYS) knownKeys.set(key, { keyField: w.copyFrom(start), lastValue: undefined, keyValue: undefined });
}

export function writeAttributes(w: ProtobufWriter, field: number, attributes: Attributes): void {
  for (const key in attributes) {
    const value = attributes[key];
    if (isAttributeValue(value)) writeAttribute(w, field, key, value);
  }
}

function writeAttributeList(w: ProtobufWriter, field: number, keys: readonly string[], values: readonly AttributeValue[]): void {
  for (let i = 0; i < keys.length; i++) {
    const value = values[i];
    if (isAttributeValue(value)) writeAttribute(w, field, keys[i]!, value);
  }
}

function isAttributeValue(value: unknown): value is AttributeValue {
  // typeof compared in place: V8 then tests the type directly instead of building its name.
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || Array.isArray(value);
}

/** The one field of an AnyValue. A oneof member is written even when it holds its default. */
function writeAnyValueBody(w: ProtobufWriter, value: unknown): void {
  switch (typeof value) {
    case 'string':
      w.stringField(AnyValueField.string, value);
      return;
    case 'boolean':
      w.boolField(AnyValueField.bool, value);
      return;
    case 'number':
      if (Number.isSafeInteger(value)) w.int64Field(AnyValueField.int, value);
      else w.doubleField(AnyValueField.double, value);
      return;
    default:
      // null, undefined and unsupported types leave the AnyValue empty
      if (Array.isArray(value)) writeArrayValue(w, value);
  }
}

function writeArrayValue(w: ProtobufWriter, values: readonly unknown[]): void {
  const array = w.beginMessage(AnyValueField.array);
  for (const element of values) {
    const item = w.beginMessage(ArrayValueField.values);
    if (!Array.isArray(element)) writeAnyValueBody(w, element); // attribute arrays are flat
    w.endMessage(item);
  }
  w.endMessage(array);
}
