import type { Context, Span, SpanContext, SpanKind as ApiSpanKind, SpanOptions, Tracer } from '@opentelemetry/api';
import { agentContext } from '../api/active';
import {
  getSpanContext,
  isSpanContextValid,
  NonRecordingSpan,
  setSpan,
  SpanKind,
  TRACE_FLAG_RANDOM,
  TRACE_FLAG_SAMPLED,
  VerifiedSpanContext,
} from '../api/trace';
import { DroppedSpan, REQUEST_SCOPE_KEY, type RequestScope } from './dropped-spans';
import { lastIdWords, newSpanId, newTraceId } from './id-generator';
import { TraceIdWords, traceIdWordsFromHex } from './id-words';
import { withoutThreshold } from './ot-trace-state';
import { SamplingDecision, type Sampler, type SamplingResult } from './sampler';
import { RecordingSpan, type SpanOwner } from './span';
import { isTracingSuppressed } from './suppress';
import type { EpochMillis, InstrumentationScope } from './types';
import { AGENT_NAME } from '../version';

/** What a tracer needs from its provider. */
export interface TracerHost extends SpanOwner {
  readonly sampler: Sampler;
  /** False once the provider is shut down: new spans are then non-recording. */
  readonly active: boolean;
}

/** The sampler's output slot, reused: it is read right after each decision. */
const samplingResult: SamplingResult = { traceState: undefined };

export class AgentTracer implements Tracer {
  /**
   * Whether its dropped INTERNAL spans are worth an outline for the keep rules: the application's
   * are (it ends them through the API), a web framework instrumentation's layers are not (an
   * unsampled layer span is never ended, so its outline could never be kept).
   */
  private readonly outlinesInternalSpans: boolean;

  constructor(
    private readonly host: TracerHost,
    readonly scope: InstrumentationScope,
  ) {
    this.outlinesInternalSpans = !scope.name.startsWith(`${AGENT_NAME}/`);
  }

  startSpan(name: string, options?: SpanOptions, context?: Context): Span {
    const parentContext = context ?? agentContext.active();
    if (!this.host.active || isTracingSuppressed(parentContext)) return new NonRecordingSpan();

    const candidate = options?.root ? undefined : getSpanContext(parentContext);
    const parent: SpanContext | undefined = candidate !== undefined && isSpanContextValid(candidate) ? candidate : undefined;
    let traceId: string;
    let traceIdWords: TraceIdWords | undefined;
    // A new trace's id words, kept as numbers: only a span that records needs them as an object.
    let word0 = 0;
    let word1 = 0;
    let word2 = 0;
    let word3 = 0;
    // Level 2: the ids this agent generates are random, and a continued trace keeps its parent's flag.
    let randomFlag: number;
    if (parent === undefined) {
      traceId = newTraceId();
      randomFlag = TRACE_FLAG_RANDOM;
      word0 = lastIdWords[0]!;
      word1 = lastIdWords[1]!;
      word2 = lastIdWords[2]!;
      word3 = lastIdWords[3]!;
    } else {
      traceId = parent.traceId;
      randomFlag = parent.traceFlags & TRACE_FLAG_RANDOM;
      traceIdWords = parent instanceof VerifiedSpanContext ? parent.traceIdWords : undefined;
    }
    const spanId = newSpanId();
    const spanIdWord0 = lastIdWords[0]!;
    const spanIdWord1 = lastIdWords[1]!;

    const decision = this.host.sampler.shouldSample(parent, traceId, samplingResult);
    const traceState = samplingResult.traceState;
    samplingResult.traceState = undefined;
    if (decision === SamplingDecision.Drop) {
      // Not recorded, but the new span id and the unsampled flag still propagate downstream.
      const dropped = new VerifiedSpanContext(traceId, spanId, randomFlag, traceState, false, traceIdWords, spanIdWord0, spanIdWord1);
      // Under a request a keep rule may still record, the span is kept in outline until it ends.
      const droppedSpans = (parentContext.getValue(REQUEST_SCOPE_KEY) as RequestScope | undefined)?.droppedSpans;
      if (droppedSpans === undefined || !droppedSpans.accepts()) return new NonRecordingSpan(dropped);
      const kind = normaliseKind(options?.kind);
      if (kind === SpanKind.INTERNAL && !this.outlinesInternalSpans) return new NonRecordingSpan(dropped);
      const span = new DroppedSpan(dropped, this, String(name), kind, parent, performance.now());
      droppedSpans.add(span);
      return span;
    }
    // A recorded span is exported with its trace id's words: those of a new trace, else the
    // parent's, worked out once per trace when the trace came from a carrier.
    if (traceIdWords === undefined) {
      if (parent === undefined) traceIdWords = new TraceIdWords(word0, word1, word2, word3);
      else traceIdWords = parent instanceof VerifiedSpanContext ? parent.recordedTraceIdWords() : traceIdWordsFromHex(traceId);
    }
    const flags = decision === SamplingDecision.RecordAndSample ? randomFlag | TRACE_FLAG_SAMPLED : randomFlag;
    const span = new RecordingSpan({
      name: String(name),
      kind: normaliseKind(options?.kind),
      spanContext: new VerifiedSpanContext(traceId, spanId, flags, traceState, false, traceIdWords, spanIdWord0, spanIdWord1),
      parentSpanContext: parent,
      parentIsRemote: parent?.isRemote === true,
      scope: this.scope,
      owner: this.host,
      startTime: options?.startTime,
    });
    if (options !== undefined) {
      if (options.attributes !== undefined) span.setAttributes(options.attributes);
      if (options.links !== undefined) span.addLinks(options.links);
    }
    return span;
  }

  /**
   * A recording span in place of one the sampler dropped, with the dropped span's ids (those it
   * already propagated downstream) and its start: how a keep rule records a failed or slow request
   * after all. Exported as sampled, but without the consistent-sampling threshold: it stands for
   * itself, not for a share of the traffic, so a backend must not count it as a sample.
   * Undefined when the span context is not one this tracer made.
   */
  recordDropped(
    dropped: SpanContext,
    name: string,
    kind: ApiSpanKind,
    parentSpanContext: SpanContext | undefined,
    startTime: EpochMillis,
  ): Span | undefined {
    if (!this.host.active || !(dropped instanceof VerifiedSpanContext) || (dropped.traceFlags & TRACE_FLAG_SAMPLED) !== 0) return undefined;
    const parent =
      parentSpanContext !== undefined && isSpanContextValid(parentSpanContext) && parentSpanContext.traceId === dropped.traceId
        ? parentSpanContext
        : undefined;
    const traceState = dropped.traceState === undefined ? undefined : withoutThreshold(dropped.traceState);
    const spanContext = new VerifiedSpanContext(
      dropped.traceId,
      dropped.spanId,
      dropped.traceFlags | TRACE_FLAG_SAMPLED,
      traceState,
      false,
      dropped.recordedTraceIdWords(),
      dropped.spanIdWord0,
      dropped.spanIdWord1,
    );
    return new RecordingSpan({
      name: String(name),
      kind: normaliseKind(kind),
      spanContext,
      parentSpanContext: parent,
      parentIsRemote: parent?.isRemote === true,
      scope: this.scope,
      owner: this.host,
      startTime,
    });
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, context: Context, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    optionsOrFn: SpanOptions | F,
    contextOrFn?: Context | F,
    maybeFn?: F,
  ): ReturnType<F> {
    let options: SpanOptions | undefined;
    let parentContext: Context | undefined;
    let fn: F;
    if (typeof optionsOrFn === 'function') {
      fn = optionsOrFn;
    } else if (typeof contextOrFn === 'function') {
      options = optionsOrFn;
      fn = contextOrFn;
    } else {
      options = optionsOrFn;
      parentContext = contextOrFn;
      fn = maybeFn as F;
    }
    const activeContext = parentContext ?? agentContext.active();
    const span = this.startSpan(name, options, activeContext);
    return agentContext.with(setSpan(activeContext, span), fn as (span: Span) => ReturnType<F>, undefined, span);
  }
}

function normaliseKind(kind: ApiSpanKind | undefined): ApiSpanKind {
  return typeof kind === 'number' && kind >= SpanKind.INTERNAL && kind <= SpanKind.CONSUMER && Number.isInteger(kind) ? kind : SpanKind.INTERNAL;
}
