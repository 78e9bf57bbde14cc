import { TraceFlags, type SpanContext, type TraceState as ApiTraceState } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { diag } from '../../../src/diag/logger';
import { parseTraceState, TraceState } from '../../../src/propagation/trace-state';
import { newTraceId } from '../../../src/trace/id-generator';
import {
  createSampler,
  probabilityToThreshold,
  randomnessAtLeast,
  SamplingDecision,
  type Sampler,
  type SamplingResult,
} from '../../../src/trace/sampler';

const RANDOM = 0x02;
const RecordAndSample = SamplingDecision.RecordAndSample;
const Drop = SamplingDecision.Drop;

const parent = (flags: number, isRemote = true, traceState?: string, traceId = '0af7651916cd43dd8448eb211c80319c'): SpanContext => ({
  traceId,
  spanId: 'b7ad6b7169203331',
  traceFlags: flags,
  isRemote,
  traceState: traceState === undefined ? undefined : parseTraceState(traceState),
});

/** A trace id whose 56 random bits are `randomHex` (14 hex digits). */
const traceIdWithRandomness = (randomHex: string): string => `0123456789abcdef01${randomHex}`;

function decide(sampler: Sampler, parentContext: SpanContext | undefined, traceId: string): [SamplingDecision, ApiTraceState | undefined] {
  const result: SamplingResult = { traceState: undefined };
  const decision = sampler.shouldSample(parentContext, traceId, result);
  return [decision, result.traceState];
}

const messages: string[] = [];
diag.setSink((line) => messages.push(line));
afterEach(() => {
  messages.length = 0;
});

describe('samplers from OTEL_TRACES_SAMPLER', () => {
  it('always_on and always_off ignore the parent', () => {
    const on = createSampler('always_on', 1);
    const off = createSampler('always_off', 1);
    expect(decide(on, parent(TraceFlags.NONE), newTraceId())[0]).toBe(RecordAndSample);
    expect(decide(off, parent(TraceFlags.SAMPLED), newTraceId())[0]).toBe(Drop);
    expect(String(on)).toBe('AlwaysOnSampler');
    expect(String(off)).toBe('AlwaysOffSampler');
  });

  it('always_on starts no tracestate for a root, passes the parent one on, and marks an inherited threshold as 100%', () => {
    const on = createSampler('always_on', 1);
    expect(decide(on, undefined, newTraceId())[1]).toBeUndefined();
    expect(decide(on, parent(TraceFlags.SAMPLED, true, 'rojo=1'), newTraceId())[1]?.serialize()).toBe('rojo=1');
    expect(decide(on, parent(TraceFlags.SAMPLED, true, 'ot=th:c;rv:6e6d1a75832a2f,rojo=1'), newTraceId())[1]?.serialize()).toBe(
      'ot=rv:6e6d1a75832a2f;th:0,rojo=1',
    );
  });

  it('traceidratio samples about the given share, deterministically by trace id', () => {
    const sampler = createSampler('traceidratio', 0.25);
    const ids = Array.from({ length: 20000 }, () => newTraceId());
    const first = ids.map((id) => decide(sampler, undefined, id)[0]);
    const second = ids.map((id) => decide(sampler, undefined, id)[0]);
    expect(second).toEqual(first);
    const share = first.filter((d) => d === RecordAndSample).length / ids.length;
    expect(share).toBeGreaterThan(0.23);
    expect(share).toBeLessThan(0.27);
    expect(String(sampler)).toBe('TraceIdRatioBased{0.25}');
  });

  it('traceidratio decides on the 56 rightmost bits, so a higher ratio keeps a superset', () => {
    const low = createSampler('traceidratio', 0.1);
    const high = createSampler('traceidratio', 0.5);
    for (let i = 0; i < 5000; i++) {
      const id = newTraceId();
      if (decide(low, undefined, id)[0] === RecordAndSample) expect(decide(high, undefined, id)[0]).toBe(RecordAndSample);
    }
    // The 9 leftmost bytes do not count.
    expect(decide(high, undefined, '0000000000000000' + '00ffffffffffffff')[0]).toBe(RecordAndSample);
    expect(decide(high, undefined, 'ffffffffffffffff' + 'ff00000000000001')[0]).toBe(Drop);
  });

  it('traceidratio compares all 56 bits exactly: a randomness one below the threshold is dropped', () => {
    // th:c is 0xc0000000000000; 0xbfffffffffffff rounds up to it as a double.
    const sampler = createSampler('traceidratio', 0.25);
    expect(decide(sampler, undefined, traceIdWithRandomness('bfffffffffffff'))[0]).toBe(Drop);
    expect(decide(sampler, undefined, traceIdWithRandomness('c0000000000000'))[0]).toBe(RecordAndSample);
  });

  it('traceidratio 0 samples nothing and 1 samples everything', () => {
    const none = createSampler('traceidratio', 0);
    const all = createSampler('traceidratio', 1);
    for (const id of ['00000000000000000000000000000001', 'ffffffffffffffffffffffffffffffff', newTraceId()]) {
      expect(decide(none, undefined, id)[0]).toBe(Drop);
      expect(decide(all, undefined, id)).toEqual([RecordAndSample, expect.objectContaining({})]);
      expect(decide(all, undefined, id)[1]?.serialize()).toBe('ot=th:0');
    }
  });

  it('parentbased samplers follow sampled and unsampled parents, local or remote, and delegate roots', () => {
    for (const name of ['parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const) {
      const sampler = createSampler(name, 0);
      for (const remote of [true, false]) {
        expect(decide(sampler, parent(TraceFlags.SAMPLED, remote), newTraceId())[0]).toBe(RecordAndSample);
        expect(decide(sampler, parent(TraceFlags.NONE, remote), newTraceId())[0]).toBe(Drop);
      }
    }
    expect(decide(createSampler('parentbased_always_on', 1), undefined, newTraceId())[0]).toBe(RecordAndSample);
    expect(decide(createSampler('parentbased_always_off', 1), undefined, newTraceId())[0]).toBe(Drop);
    expect(decide(createSampler('parentbased_traceidratio', 0), undefined, newTraceId())[0]).toBe(Drop);
    expect(String(createSampler('parentbased_traceidratio', 0.5))).toBe('ParentBased{root=TraceIdRatioBased{0.5}}');
  });
});

describe('consistent probability sampling: thresholds', () => {
  // OpenTelemetry's probability-sampling specification tabulates these at the default precision of 4.
  it.each([
    [1, '0'],
    [0.5, '8'],
    [1 / 3, 'aaab'],
    [0.25, 'c'],
    [0.2, 'cccd'],
    [0.125, 'e'],
    [0.1, 'e666'],
    [0.0625, 'f'],
    [0.01, 'fd70a'],
    [0.001, 'ffbe77'],
    [0.0001, 'fff9724'],
    [0.00001, 'ffff583a'],
    [0.000001, 'ffffef39'],
  ])('probability %d has threshold th:%s', (probability, threshold) => {
    expect(probabilityToThreshold(probability)).toBe(threshold);
  });

  it('keeps the smallest probability, 2^-56, and smaller ones, to 12 digits', () => {
    expect(probabilityToThreshold(2 ** -56)).toBe('ffffffffffff');
    expect(probabilityToThreshold(1e-30)).toBe('ffffffffffff');
  });

  it('randomnessAtLeast reads a threshold with its trailing zeros left out', () => {
    expect(randomnessAtLeast('c0000000000000', 0, 'c')).toBe(true);
    expect(randomnessAtLeast('bfffffffffffff', 0, 'c')).toBe(false);
    expect(randomnessAtLeast('fd70a000000000', 0, 'fd70a')).toBe(true);
    expect(randomnessAtLeast('fd709fffffffff', 0, 'fd70a')).toBe(false);
    expect(randomnessAtLeast('00000000000000', 0, '0')).toBe(true);
    expect(randomnessAtLeast('xx12345678ffffffffffffff', 10, 'ffffffffffffff')).toBe(true);
  });
});

describe('consistent probability sampling: tracestate', () => {
  it('a kept root carries its threshold as ot=th, an unsampled one no tracestate', () => {
    const sampler = createSampler('traceidratio', 0.25);
    expect(decide(sampler, undefined, traceIdWithRandomness('d0000000000000'))[1]?.serialize()).toBe('ot=th:c');
    expect(decide(sampler, undefined, traceIdWithRandomness('10000000000000'))[1]).toBeUndefined();
    // Every kept root shares the one tracestate object: nothing allocated per decision.
    expect(decide(sampler, undefined, traceIdWithRandomness('e0000000000000'))[1]).toBe(
      decide(sampler, undefined, traceIdWithRandomness('f0000000000000'))[1],
    );
  });

  it('a child decision writes its own threshold, keeping the parent tracestate’s other entries and sub-keys', () => {
    const sampler = createSampler('traceidratio', 0.25);
    const context = parent(TraceFlags.SAMPLED | RANDOM, true, 'rojo=1,ot=th:8;xx:y', traceIdWithRandomness('f0000000000000'));
    expect(decide(sampler, context, context.traceId)[1]?.serialize()).toBe('ot=xx:y;th:c,rojo=1');
    const unsampled = parent(TraceFlags.SAMPLED | RANDOM, true, 'rojo=1,ot=th:8', traceIdWithRandomness('90000000000000'));
    expect(decide(sampler, unsampled, unsampled.traceId)).toEqual([Drop, unsampled.traceState]);
  });

  it('the explicit randomness rv decides instead of the trace id, and is passed on unchanged', () => {
    const sampler = createSampler('traceidratio', 0.25);
    const lowId = traceIdWithRandomness('00000000000000');
    const highRv = parent(TraceFlags.SAMPLED, true, 'ot=rv:f0000000000000', lowId);
    expect(decide(sampler, highRv, lowId)[0]).toBe(RecordAndSample);
    expect(decide(sampler, highRv, lowId)[1]?.serialize()).toBe('ot=rv:f0000000000000;th:c');
    const highId = traceIdWithRandomness('ffffffffffffff');
    expect(decide(sampler, parent(TraceFlags.SAMPLED, true, 'ot=rv:10000000000000', highId), highId)[0]).toBe(Drop);
  });

  it('ignores an rv or th of a tracestate the application built that breaks the ot grammar', () => {
    const sampler = createSampler('traceidratio', 0.25);
    const highId = traceIdWithRandomness('f0000000000000');
    // An application-made tracestate skips extraction's checks: a malformed rv must not decide.
    const appMade = { ...parent(TraceFlags.SAMPLED | RANDOM, false, undefined, highId), traceState: new TraceState().set('ot', 'rv:XYZ') };
    expect(decide(sampler, appMade, highId)[0]).toBe(RecordAndSample);
    const parentBased = createSampler('parentbased_always_on', 1);
    const remote = {
      ...parent(TraceFlags.SAMPLED | RANDOM, true, undefined, traceIdWithRandomness('00000000000000')),
      traceState: new TraceState().set('ot', 'th:ZZ'),
    };
    expect(decide(parentBased, remote, remote.traceId)[1]).toBe(remote.traceState);
  });

  it('says once that it presumes trace id randomness for a parent without the random flag or rv', () => {
    const sampler = createSampler('traceidratio', 0.5);
    decide(sampler, parent(TraceFlags.SAMPLED | RANDOM), newTraceId());
    decide(sampler, parent(TraceFlags.SAMPLED, true, 'ot=rv:f0000000000000'), newTraceId());
    expect(messages).toEqual([]);
    decide(sampler, parent(TraceFlags.SAMPLED), newTraceId());
    decide(sampler, parent(TraceFlags.SAMPLED), newTraceId());
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/warn: .*presumes the trace id is random/);
  });

  it('a parent-based child passes the parent’s threshold on, the same tracestate object', () => {
    const sampler = createSampler('parentbased_traceidratio', 0.01);
    const context = parent(TraceFlags.SAMPLED | RANDOM, true, 'ot=th:8,rojo=1', traceIdWithRandomness('90000000000000'));
    const [decision, traceState] = decide(sampler, context, context.traceId);
    expect(decision).toBe(RecordAndSample);
    expect(traceState).toBe(context.traceState);
  });

  it('a parent-based child erases a remote sampled parent’s threshold that its randomness contradicts', () => {
    const sampler = createSampler('parentbased_always_on', 1);
    // Sampled under th:8 although the randomness 0x70… is below it: not consistent sampling.
    const context = parent(TraceFlags.SAMPLED | RANDOM, true, 'ot=th:8;rv:70000000000000,rojo=1');
    const [decision, traceState] = decide(sampler, context, context.traceId);
    expect(decision).toBe(RecordAndSample);
    expect(traceState?.serialize()).toBe('ot=rv:70000000000000,rojo=1');
    expect(messages.join('')).toBe(''); // debug only
    const byTraceId = parent(TraceFlags.SAMPLED | RANDOM, true, 'ot=th:8', traceIdWithRandomness('7fffffffffffff'));
    expect(decide(sampler, byTraceId, byTraceId.traceId)[1]?.serialize()).toBe('');
  });

  it('a parent-based child leaves local parents’ tracestate alone: this process wrote it', () => {
    const sampler = createSampler('parentbased_always_on', 1);
    const traceState = new TraceState().set('ot', 'th:8');
    const local: SpanContext = { ...parent(TraceFlags.SAMPLED, false), traceId: traceIdWithRandomness('00000000000000'), traceState };
    expect(decide(sampler, local, local.traceId)[1]).toBe(traceState);
  });

  it('a ratio of 0.25 keeps exactly the traces a ratio of 0.5 keeps with randomness at least 0xc…', () => {
    const half = createSampler('traceidratio', 0.5);
    const quarter = createSampler('traceidratio', 0.25);
    for (let i = 0; i < 2000; i++) {
      const id = newTraceId();
      const keptByQuarter = decide(quarter, undefined, id)[0] === RecordAndSample;
      expect(keptByQuarter).toBe(parseInt(id.slice(18, 19), 16) >= 0xc);
      if (keptByQuarter) expect(decide(half, undefined, id)[0]).toBe(RecordAndSample);
    }
  });
});
