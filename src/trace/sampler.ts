import type { SpanContext, TraceState as ApiTraceState } from '@opentelemetry/api';
import { TRACE_FLAG_RANDOM, TRACE_FLAG_SAMPLED } from '../api/trace';
import type { SamplerName } from '../config/env';
import { diag } from '../diag/logger';
import { TraceState } from '../propagation/trace-state';
import { explicitRandomness, OT_KEY, samplingThreshold, withoutThreshold, withThreshold } from './ot-trace-state';

/** What happens to a new span: nothing recorded, recorded but not exported, or both. */
export const enum SamplingDecision {
  Drop = 0,
  RecordOnly = 1,
  RecordAndSample = 2,
}

/**
 * Where a sampler puts the new span's tracestate: the tracer passes one object it reuses, so a
 * decision allocates nothing.
 */
export interface SamplingResult {
  traceState: ApiTraceState | undefined;
}

export interface Sampler {
  /** `parent` is the valid parent span context, if any; the new span's tracestate goes in `result`. */
  shouldSample(parent: SpanContext | undefined, traceId: string, result: SamplingResult): SamplingDecision;
  toString(): string;
}

/** Where the trace id's 56 random bits start, as hex: its 7 rightmost bytes. */
const RANDOM_HEX_START = 18;
/** OpenTelemetry's recommended precision for thresholds, in hex digits. */
const THRESHOLD_PRECISION = 4;

const alwaysOn: Sampler = {
  shouldSample(parent, _traceId, result) {
    // Kept with certainty: an inherited threshold would make each of these spans count for more than one.
    const traceState = parent?.traceState;
    result.traceState = traceState !== undefined && samplingThreshold(traceState) !== undefined ? withThreshold(traceState, '0') : traceState;
    return SamplingDecision.RecordAndSample;
  },
  toString: () => 'AlwaysOnSampler',
};

const alwaysOff: Sampler = {
  shouldSample(parent, _traceId, result) {
    result.traceState = parent?.traceState;
    return SamplingDecision.Drop;
  },
  toString: () => 'AlwaysOffSampler',
};

/**
 * Consistent probability sampling (OpenTelemetry's TraceState probability-sampling rules): the
 * ratio becomes a 56-bit rejection threshold T, and a span is kept when the trace's randomness R
 * (the explicit `rv` of its tracestate, else the trace id's 56 rightmost bits, random under W3C
 * Trace Context Level 2) is at least T. Every service deciding this way keeps a superset of the
 * traces a lower ratio keeps, and a kept span carries `ot=th:T` so that a backend can count what
 * it stands for (1 / ratio spans).
 */
export function traceIdRatioSampler(ratio: number): Sampler {
  const threshold = ratio > 0 ? probabilityToThreshold(ratio) : undefined;
  // A root kept by this sampler always gets the same tracestate: made once.
  const rootState = threshold === undefined ? undefined : new TraceState().set(OT_KEY, `th:${threshold}`);
  return {
    shouldSample(parent, traceId, result) {
      const parentState = parent?.traceState;
      result.traceState = parentState;
      if (threshold === undefined) return SamplingDecision.Drop;
      if (parent === undefined) {
        if (!randomnessAtLeast(traceId, RANDOM_HEX_START, threshold)) return SamplingDecision.Drop;
        result.traceState = rootState;
        return SamplingDecision.RecordAndSample;
      }
      const explicit = explicitRandomness(parentState);
      if (explicit === undefined && (parent.traceFlags & TRACE_FLAG_RANDOM) === 0) warnPresumedRandomness();
      const keep = explicit === undefined ? randomnessAtLeast(traceId, RANDOM_HEX_START, threshold) : randomnessAtLeast(explicit, 0, threshold);
      if (!keep) return SamplingDecision.Drop;
      result.traceState = parentState === undefined ? rootState : withThreshold(parentState, threshold);
      return SamplingDecision.RecordAndSample;
    },
    toString: () => `TraceIdRatioBased{${ratio}}`,
  };
}

/**
 * Follows the parent's sampled flag and passes its threshold on; roots are decided by `root`. A
 * remote parent's threshold that its own randomness contradicts (sampled although R < T) was not
 * made by consistent sampling: it is erased rather than passed on, so nothing miscounts by it.
 */
export function parentBasedSampler(root: Sampler): Sampler {
  return {
    shouldSample(parent, traceId, result) {
      if (parent === undefined) return root.shouldSample(parent, traceId, result);
      const traceState = parent.traceState;
      result.traceState = traceState;
      if ((parent.traceFlags & TRACE_FLAG_SAMPLED) === 0) return SamplingDecision.Drop;
      if (parent.isRemote === true && traceState !== undefined) {
        const threshold = samplingThreshold(traceState);
        if (threshold !== undefined) {
          const explicit = explicitRandomness(traceState);
          const consistent =
            explicit === undefined ? randomnessAtLeast(traceId, RANDOM_HEX_START, threshold) : randomnessAtLeast(explicit, 0, threshold);
          if (!consistent) {
            diag.debug(`sampler: the sampled parent's threshold th:${threshold} contradicts the trace's randomness; it is not passed on`);
            result.traceState = withoutThreshold(traceState);
          }
        }
      }
      return SamplingDecision.RecordAndSample;
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

/**
 * Whether the 14 hex digits of randomness at `start` of `hex` are at least `threshold` (1 to 14
 * lowercase hex digits, the rest zeros). Lowercase hex of equal length compares as its number
 * does, digit by digit: exact over all 56 bits, which a double (53 bits) is not, and no slice.
 */
export function randomnessAtLeast(hex: string, start: number, threshold: string): boolean {
  for (let i = 0; i < threshold.length; i++) {
    const difference = hex.charCodeAt(start + i) - threshold.charCodeAt(i);
    if (difference !== 0) return difference > 0;
  }
  return true; // equal on the threshold's digits, and its missing digits are zeros
}

/**
 * The rejection threshold (1 - probability) * 2^56 as the `th` value: hex digits without trailing
 * zeros, rounded to THRESHOLD_PRECISION significant digits (more for small probabilities, whose
 * threshold starts with f's), as OpenTelemetry's probability-sampling specification computes it.
 */
export function probabilityToThreshold(probability: number): string {
  if (probability >= 1) return '0';
  const minimum = 2 ** -56;
  const p = probability < minimum ? minimum : probability;
  // Every 4 bits the probability lies below 1 adds a leading 'f' to the threshold: keep as many more digits.
  const exponent = Math.floor(Math.log2(p)) + 1; // p = m * 2^exponent with m in [0.5, 1)
  const precision = Math.max(1, Math.min(12, THRESHOLD_PRECISION + Math.floor(exponent / -4)));
  // 1 + rejection probability lies in [1, 2): its fraction's hex digits are the threshold's.
  const rejection = 2 - p + 0.5 * 2 ** (-4 * precision);
  if (rejection >= 2) return 'f'.repeat(precision);
  const digits = Math.floor((rejection - 1) * 16 ** precision)
    .toString(16)
    .padStart(precision, '0');
  const trimmed = digits.replace(/0+$/, '');
  return trimmed === '' ? '0' : trimmed;
}

let warnedPresumedRandomness = false;

/** OpenTelemetry asks samplers to say so when they trust trace ids no flag vouches for: once. */
function warnPresumedRandomness(): void {
  if (warnedPresumedRandomness) return;
  warnedPresumedRandomness = true;
  diag.warn(
    'sampler: a traceidratio sampler is deciding for a span whose parent came without the W3C Level 2 "random" trace flag; ' +
      'it presumes the trace id is random. Upgrade the callers to W3C Trace Context Level 2 for consistent sampling across services.',
  );
}
