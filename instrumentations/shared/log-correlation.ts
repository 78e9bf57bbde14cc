import type { SpanContext } from '@opentelemetry/api';
import { agentContext, getSpanContext, isSpanContextValid } from '../../src/instrumentation/api';
import type { EnvReader } from '../../src/instrumentation/types';

/**
 * Log correlation, shared by the logger instrumentations (pino, winston): the active span's ids
 * written into each log record under OpenTelemetry's field names, so a log line can be joined to
 * its trace.
 */

/** The settings every logger instrumentation shares. */
export interface LogCorrelationSettings {
  /** OTEL_NODE_LOG_CORRELATION (default true): false leaves every logger untouched. */
  readonly logCorrelation: boolean;
}

export function readLogCorrelationSettings(env: EnvReader): LogCorrelationSettings {
  return { logCorrelation: env.bool('OTEL_NODE_LOG_CORRELATION', true) };
}

/** The fields a record gets: 32 and 16 lowercase hex digits, and the trace flags as two ('01' sampled, '00' not). */
export interface TraceFields {
  trace_id: string;
  span_id: string;
  trace_flags: string;
}

/**
 * The active span's context when there is a valid one, else undefined. Unsampled spans count:
 * their ids still join a log line to the request (OpenTelemetry's logger instrumentations do the same).
 */
export function activeSpanContext(): SpanContext | undefined {
  const spanContext = getSpanContext(agentContext.active());
  return spanContext !== undefined && isSpanContextValid(spanContext) ? spanContext : undefined;
}

/** The trace flags as two lowercase hex digits; the two values seen in practice need no formatting. */
export function traceFlagsHex(flags: number): string {
  if (flags === 1) return '01';
  if (flags === 0) return '00';
  return (flags & 0xff).toString(16).padStart(2, '0');
}

/** The record's fields for this span context: the one object a record costs. */
export function traceFields(spanContext: SpanContext): TraceFields {
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId, trace_flags: traceFlagsHex(spanContext.traceFlags) };
}

/** Writes the fields straight into a record the logger already made (no object of our own). */
export function writeTraceFields(record: Record<string, unknown>, spanContext: SpanContext): void {
  record.trace_id = spanContext.traceId;
  record.span_id = spanContext.spanId;
  record.trace_flags = traceFlagsHex(spanContext.traceFlags);
}

/** Removes what writeTraceFields wrote. */
export function deleteTraceFields(record: Record<string, unknown>): void {
  delete record.trace_id;
  delete record.span_id;
  delete record.trace_flags;
}

/**
 * Whether the application already put any of the fields in a record (its own correlation, or a
 * value it means): then the record is left as the application made it.
 */
export function hasTraceField(record: unknown): boolean {
  if (typeof record !== 'object' || record === null) return false;
  const fields = record as Partial<Record<keyof TraceFields, unknown>>;
  return fields.trace_id !== undefined || fields.span_id !== undefined || fields.trace_flags !== undefined;
}
