import type { InstrumentationScope, ReadableSpan, Resource } from '../../trace/types';
import type { ExportResponse, SpanEncoder, SpanPack, SpanPacker } from '../types';
import { groupByScope, ProtobufSpanPacker, sameScope, writeAttributes, writeSpan, type ProtobufPack } from './protobuf-spans';
import { decodeExportResponse } from './protobuf-response';
import { ProtobufWriter } from './protobuf-writer';

// Field numbers of the request's own messages, from opentelemetry-proto v1.4.0.
const ExportTraceServiceRequest = { resourceSpans: 1 } as const;
const ResourceSpans = { resource: 1, scopeSpans: 2, schemaUrl: 3 } as const;
const ResourceField = { attributes: 1 } as const;
const ScopeSpans = { scope: 1, spans: 2, schemaUrl: 3 } as const;
const ScopeField = { name: 1, version: 2 } as const;

/** One writer for the process: encoding is synchronous, so exports never share it concurrently. */
const writer = new ProtobufWriter();

/**
 * OTLP/protobuf, the default encoding: spans are serialized into packs on the turn after they
 * end (ProtobufSpanPacker), and an export copies the packs' bytes into one request.
 */
export class ProtobufEncoder implements SpanEncoder {
  readonly contentType = 'application/x-protobuf';

  constructor(private readonly resource: Resource) {}

  createPacker(): SpanPacker {
    return new ProtobufSpanPacker();
  }

  encode(packs: readonly SpanPack[]): Uint8Array {
    return encodeTraceRequestFromPacks(packs as readonly ProtobufPack[], this.resource);
  }

  readResponse(body: Uint8Array): ExportResponse {
    return decodeExportResponse(body);
  }
}

/** Serializes spans now, for encodeTraceRequestFromPacks() later. */
export function packSpans(spans: readonly ReadableSpan[]): ProtobufPack {
  const w = writer;
  w.reset();
  const groups = groupByScope(spans).map((group) => {
    const start = w.length;
    for (const span of group.spans) writeSpan(w, span);
    return { scope: group.scope, spans: w.copyFrom(start) };
  });
  return { count: spans.length, groups };
}

/**
 * Encodes spans as an OTLP `ExportTraceServiceRequest` (protobuf): one ResourceSpans, one
 * ScopeSpans per instrumentation scope. Fields are written in field-number order and proto3
 * defaults are left out, so the output is what a conforming protobuf library would produce.
 */
export function encodeTraceRequest(spans: readonly ReadableSpan[], resource: Resource): Uint8Array {
  return encodeTraceRequestFromPacks([packSpans(spans)], resource);
}

/** The request for spans packed earlier: their bytes are copied in, grouped by scope. */
export function encodeTraceRequestFromPacks(packs: readonly ProtobufPack[], resource: Resource): Uint8Array {
  const scopes = scopesOf(packs);
  if (scopes.length === 0) return new Uint8Array(0);
  const w = writer;
  w.reset();
  const resourceSpans = w.beginMessage(ExportTraceServiceRequest.resourceSpans);

  const resourceBody = w.beginMessage(ResourceSpans.resource);
  writeAttributes(w, ResourceField.attributes, resource.attributes);
  w.endMessage(resourceBody);

  for (const scope of scopes) {
    const scopeSpans = w.beginMessage(ResourceSpans.scopeSpans);
    const scopeBody = w.beginMessage(ScopeSpans.scope);
    if (scope.name) w.stringField(ScopeField.name, scope.name);
    if (scope.version) w.stringField(ScopeField.version, scope.version);
    w.endMessage(scopeBody);
    for (const pack of packs) {
      for (const group of pack.groups) if (sameScope(group.scope, scope)) w.raw(group.spans);
    }
    if (scope.schemaUrl) w.stringField(ScopeSpans.schemaUrl, scope.schemaUrl);
    w.endMessage(scopeSpans);
  }

  if (resource.schemaUrl) w.stringField(ResourceSpans.schemaUrl, resource.schemaUrl);
  w.endMessage(resourceSpans);
  return w.finish();
}

/** The distinct scopes of some packs, in order of first appearance. */
function scopesOf(packs: readonly ProtobufPack[]): InstrumentationScope[] {
  const scopes: InstrumentationScope[] = [];
  for (const pack of packs) {
    for (const group of pack.groups) {
      if (group.spans.length > 0 && !scopes.some((scope) => sameScope(scope, group.scope))) scopes.push(group.scope);
    }
  }
  return scopes;
}
