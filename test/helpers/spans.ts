import { SpanKind, type SpanContext } from '@opentelemetry/api';
import type { ReadableSpan } from '../../src/trace/types';

export const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
export const SPAN_ID = 'b7ad6b7169203331';
export const PARENT_ID = '00f067aa0ba902b7';

export type SpanInit = Partial<Omit<ReadableSpan, 'spanContext'>> & { context?: Partial<SpanContext> };

/** A finished span as exporters receive it, with every field settable. */
export function makeSpan(init: SpanInit = {}): ReadableSpan {
  const { context: contextInit, ...fields } = init;
  const context: SpanContext = { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1, ...contextInit };
  return {
    name: 'span',
    kind: SpanKind.INTERNAL,
    spanContext: () => context,
    parentSpanId: undefined,
    parentIsRemote: false,
    startTime: 1700000000000,
    endTime: 1700000000100,
    attributes: {},
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: { code: 0 },
    scope: { name: 'test-scope' },
    ...fields,
  };
}
