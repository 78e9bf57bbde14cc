import type { Context } from '@opentelemetry/api';
import { createContextKey } from '../api/context';

/**
 * Same key as @opentelemetry/core's, so application code that suppresses tracing with that
 * package is honoured by this agent too (createContextKey is Symbol.for-based).
 */
const SUPPRESS_TRACING_KEY = createContextKey('OpenTelemetry SDK Context Key SUPPRESS_TRACING');

/** A context in which no span is recorded: the agent's own exports run inside one. */
export function suppressTracing(context: Context): Context {
  return context.setValue(SUPPRESS_TRACING_KEY, true);
}

export function isTracingSuppressed(context: Context): boolean {
  return context.getValue(SUPPRESS_TRACING_KEY) === true;
}
