import type { AttributeValue, Attributes, SpanContext, SpanKind, SpanStatus } from '@opentelemetry/api';

/** The library that produced a span (OTLP InstrumentationScope). */
export interface InstrumentationScope {
  readonly name: string;
  readonly version?: string;
  readonly schemaUrl?: string;
}

/** Times are epoch milliseconds as floats: sub-millisecond precision without an allocation per timestamp. */
export type EpochMillis = number;

export interface TimedEvent {
  readonly name: string;
  readonly time: EpochMillis;
  readonly attributes: Attributes;
  readonly droppedAttributesCount: number;
}

export interface SpanLinkData {
  readonly context: SpanContext;
  readonly attributes: Attributes;
  readonly droppedAttributesCount: number;
}

/** A finished span as processors and exporters see it. */
export interface ReadableSpan {
  readonly name: string;
  readonly kind: SpanKind;
  spanContext(): SpanContext;
  /** Span id of the parent, undefined for a root span. */
  readonly parentSpanId: string | undefined;
  /** The parent's context, when the span keeps it (the encoder copies its id's words, see id-words.ts). */
  readonly parentSpanContext?: SpanContext;
  /** True when the parent came from another process (extracted from a carrier). */
  readonly parentIsRemote: boolean;
  readonly startTime: EpochMillis;
  readonly endTime: EpochMillis;
  readonly attributes: Attributes;
  /** The same attributes as parallel arrays, when the span keeps them so (the encoder's fast path). */
  readonly attributeKeys?: readonly string[];
  readonly attributeValues?: readonly AttributeValue[];
  readonly droppedAttributesCount: number;
  readonly events: readonly TimedEvent[];
  readonly droppedEventsCount: number;
  readonly links: readonly SpanLinkData[];
  readonly droppedLinksCount: number;
  readonly status: SpanStatus;
  readonly scope: InstrumentationScope;
}

/** The entity producing telemetry (OTLP Resource). */
export interface Resource {
  readonly attributes: Attributes;
  readonly schemaUrl?: string;
}
