import type { SpanContext } from '@opentelemetry/api';
import { TRACE_FLAG_SAMPLED } from '../api/trace';
import type { SamplerName } from '../config/env';

/** What happens to a new span: nothing recorded, recorded but not exported, or both. */
export const enum SamplingDecision {
  Drop = 0,
  RecordOnly = 1,
  RecordAndSample = 2,
}

export interface Sampler {
  /** `parent` is the valid parent span context, if any. */
  shouldSample(parent: SpanContext | undefined, traceId: string): SamplingDecision;
  toString(): string;
}

const alwaysOn: Sampler = {
  shouldSample: () => SamplingDecision.RecordAndSample,
  toString: () => 'AlwaysOnSampler',
};

const alwaysOff: Sampler = {
  shouldSample: () => SamplingDecision.Drop,
  toString: () => 'AlwaysOffSampler',
};

const TWO_POW_56 = 2 ** 56;

/**
 * Samples a fixed share of traces, decided by the trace id alone so every service that uses the
 * same rule agrees: the 56 rightmost bits of the trace id (the part W3C Trace Context level 2
 * guarantees random) are compared with a rejection threshold of (1 - ratio) * 2^56.
 */
export function traceIdRatioSampler(ratio: number): Sampler {
  const threshold = (1 - ratio) * TWO_POW_56;
  return {
    shouldSample: (_parent, traceId) =>
      ratio > 0 && parseInt(traceId.slice(18), 16) >= threshold ? SamplingDecision.RecordAndSample : SamplingDecision.Drop,
    toString: () => `TraceIdRatioBased{${ratio}}`,
  };
}

/** Follows the parent's sampled flag; roots are decided by `root`. */
export function parentBasedSampler(root: Sampler): Sampler {
  return {
    shouldSample(parent, traceId) {
      if (parent === undefined) return root.shouldSample(parent, traceId);
      return (parent.traceFlags & TRACE_FLAG_SAMPLED) === TRACE_FLAG_SAMPLED ? SamplingDecision.RecordAndSample : SamplingDecision.Drop;
    },
    toString: () => `ParentBased{root=${root}}`,
  };
}

export function createSampler(name: SamplerName, ratio: number): Sampler {
  switch (name) {
    case 'always_on':
      return alwaysOn;
    case 'always_off':
      return alwaysOff;
    case 'traceidratio':
      return traceIdRatioSampler(ratio);
    case 'parentbased_always_on':
      return parentBasedSampler(alwaysOn);
    case 'parentbased_always_off':
      return parentBasedSampler(alwaysOff);
    case 'parentbased_traceidratio':
      return parentBasedSampler(traceIdRatioSampler(ratio));
  }
}
