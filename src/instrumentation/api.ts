/**
 * What instrumentations use of the agent's runtime: the active context, propagation, span
 * helpers and constants. It mirrors @opentelemetry/api's runtime surface, but calls the agent
 * directly (no lookup through the API's global on every request) and keeps instrumentations off
 * the tracer's and exporters' internals.
 */
export { agentContext, agentPropagation } from '../api/active';
export { createBaggage, getBaggage, setBaggage } from '../api/baggage';
export { createContextKey, ROOT_CONTEXT } from '../api/context';
export {
  getSpan,
  getSpanContext,
  isSpanContextValid,
  NonRecordingSpan,
  setSpan,
  setSpanContext,
  SpanKind,
  SpanStatusCode,
  TRACE_FLAG_NONE,
  TRACE_FLAG_RANDOM,
  TRACE_FLAG_SAMPLED,
} from '../api/trace';
export { isTracingSuppressed, suppressTracing } from '../trace/suppress';
export { newSpanId, newTraceId } from '../trace/id-generator';
