import { TraceFlags, type SpanContext } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { newTraceId } from '../../../src/trace/id-generator';
import { createSampler, SamplingDecision } from '../../../src/trace/sampler';

const parent = (flags: number, isRemote = true): SpanContext => ({
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  traceFlags: flags,
  isRemote,
});

describe('samplers from OTEL_TRACES_SAMPLER', () => {
  it('always_on and always_off ignore the parent', () => {
    const on = createSampler('always_on', 1);
    const off = createSampler('always_off', 1);
    expect(on.shouldSample(parent(TraceFlags.NONE), newTraceId())).toBe(SamplingDecision.RecordAndSample);
    expect(off.shouldSample(parent(TraceFlags.SAMPLED), newTraceId())).toBe(SamplingDecision.Drop);
    expect(String(on)).toBe('AlwaysOnSampler');
    expect(String(off)).toBe('AlwaysOffSampler');
  });

  it('traceidratio samples about the given share, deterministically by trace id', () => {
    const sampler = createSampler('traceidratio', 0.25);
    const ids = Array.from({ length: 20000 }, () => newTraceId());
    const first = ids.map((id) => sampler.shouldSample(undefined, id));
    const second = ids.map((id) => sampler.shouldSample(undefined, id));
    expect(second).toEqual(first);
    const share = first.filter((d) => d === SamplingDecision.RecordAndSample).length / ids.length;
    expect(share).toBeGreaterThan(0.23);
    expect(share).toBeLessThan(0.27);
    expect(String(sampler)).toBe('TraceIdRatioBased{0.25}');
  });

  it('traceidratio decides on the 56 rightmost bits, so a higher ratio keeps a superset', () => {
    const low = createSampler('traceidratio', 0.1);
    const high = createSampler('traceidratio', 0.5);
    for (let i = 0; i < 5000; i++) {
      const id = newTraceId();
      if (low.shouldSample(undefined, id) === SamplingDecision.RecordAndSample) {
        expect(high.shouldSample(undefined, id)).toBe(SamplingDecision.RecordAndSample);
      }
    }
    // Large random part: sampled at ratio 0.5; small random part: not sampled.
    expect(high.shouldSample(undefined, '0000000000000000' + '00ffffffffffffff')).toBe(SamplingDecision.RecordAndSample);
    expect(high.shouldSample(undefined, 'ffffffffffffffff' + '0000000000000001')).toBe(SamplingDecision.Drop);
  });

  it('traceidratio 0 samples nothing and 1 samples everything', () => {
    const none = createSampler('traceidratio', 0);
    const all = createSampler('traceidratio', 1);
    for (const id of ['00000000000000000000000000000001', 'ffffffffffffffffffffffffffffffff', newTraceId()]) {
      expect(none.shouldSample(undefined, id)).toBe(SamplingDecision.Drop);
      expect(all.shouldSample(undefined, id)).toBe(SamplingDecision.RecordAndSample);
    }
  });

  it('parentbased samplers follow sampled and unsampled parents, local or remote, and delegate roots', () => {
    for (const name of ['parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const) {
      const sampler = createSampler(name, 0);
      for (const remote of [true, false]) {
        expect(sampler.shouldSample(parent(TraceFlags.SAMPLED, remote), newTraceId())).toBe(SamplingDecision.RecordAndSample);
        expect(sampler.shouldSample(parent(TraceFlags.NONE, remote), newTraceId())).toBe(SamplingDecision.Drop);
      }
    }
    expect(createSampler('parentbased_always_on', 1).shouldSample(undefined, newTraceId())).toBe(SamplingDecision.RecordAndSample);
    expect(createSampler('parentbased_always_off', 1).shouldSample(undefined, newTraceId())).toBe(SamplingDecision.Drop);
    expect(createSampler('parentbased_traceidratio', 0).shouldSample(undefined, newTraceId())).toBe(SamplingDecision.Drop);
    expect(String(createSampler('parentbased_traceidratio', 0.5))).toBe('ParentBased{root=TraceIdRatioBased{0.5}}');
  });
});
