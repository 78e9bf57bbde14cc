import type { SpanContext } from '@opentelemetry/api';

const SEMICOLON = 59;

/**
 * `text` with a sqlcommenter comment carrying the query span's W3C traceparent, so that server
 * logs and pg_stat_activity can be joined to the trace: `SELECT 1 /*traceparent='00-…-01'*\/`.
 * Only the traceparent is written (never tracestate or baggage, which may hold application
 * data). Undefined when the text must stay as it is: the sqlcommenter specification leaves a
 * statement that already holds a comment alone.
 */
export function withTraceparent(text: string, spanContext: SpanContext): string | undefined {
  if (text.includes('/*') || text.includes('--')) return undefined;
  // Before a final semicolon, so the comment stays with the (last) statement.
  let end = text.length;
  while (end > 0 && (text.charCodeAt(end - 1) === SEMICOLON || /\s/.test(text[end - 1]!))) end--;
  if (end === 0) return undefined;
  const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0');
  return `${text.slice(0, end)} /*traceparent='00-${spanContext.traceId}-${spanContext.spanId}-${flags}'*/${text.slice(end)}`;
}
