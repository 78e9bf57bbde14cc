import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Span, type SpanContext } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTraceState } from '../../../src/propagation/trace-state';
import { createSampler } from '../../../src/trace/sampler';
import { RecordingSpan } from '../../../src/trace/span';
import { suppressTracing } from '../../../src/trace/suppress';
import type { AgentTracer } from '../../../src/trace/tracer';
import type { ReadableSpan } from '../../../src/trace/types';
import { installContextManager, removeContextManager } from '../../helpers/context';
import { testProvider } from '../../helpers/in-memory';

beforeAll(() => {
  installContextManager();
});
afterAll(() => removeContextManager());

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const asReadable = (span: Span) => span as unknown as ReadableSpan;

function remoteParent(flags: number): SpanContext {
  return { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: flags, isRemote: true };
}

describe('span identity and parentage', () => {
  it('creates valid random ids that are never all zeros', () => {
    const { tracer } = testProvider();
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const { traceId, spanId } = tracer.startSpan('s').spanContext();
      expect(traceId).toMatch(HEX32);
      expect(spanId).toMatch(HEX16);
      expect(traceId).not.toBe('0'.repeat(32));
      expect(spanId).not.toBe('0'.repeat(16));
      seen.add(traceId);
    }
    expect(seen.size).toBe(2000);
  });

  it('makes a child of the active span, sharing its trace id', () => {
    const { tracer, processor } = testProvider();
    tracer.startActiveSpan('parent', (parent) => {
      const child = tracer.startSpan('child');
      child.end();
      parent.end();
      expect(child.spanContext().traceId).toBe(parent.spanContext().traceId);
    });
    const [child, parent] = processor.spans;
    expect(child!.parentSpanId).toBe(parent!.spanContext().spanId);
    expect(child!.parentIsRemote).toBe(false);
    expect(parent!.parentSpanId).toBeUndefined();
  });

  it('continues a remote parent and remembers that it was remote', () => {
    const { tracer, processor } = testProvider();
    const parentContext = trace.setSpanContext(ROOT_CONTEXT, remoteParent(TraceFlags.SAMPLED));
    tracer.startSpan('server', { kind: SpanKind.SERVER }, parentContext).end();
    const [span] = processor.spans;
    expect(span!.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(span!.parentSpanId).toBe('b7ad6b7169203331');
    expect(span!.parentIsRemote).toBe(true);
    expect(span!.kind).toBe(SpanKind.SERVER);
  });

  it('starts a new trace when root is set, even inside an active span', () => {
    const { tracer } = testProvider();
    tracer.startActiveSpan('outer', (outer) => {
      const root = tracer.startSpan('new root', { root: true });
      expect(root.spanContext().traceId).not.toBe(outer.spanContext().traceId);
      expect(asReadable(root).parentSpanId).toBeUndefined();
    });
  });

  it('ignores an invalid parent and starts a new trace', () => {
    const { tracer } = testProvider();
    const invalid = trace.setSpanContext(ROOT_CONTEXT, { traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 1 });
    const span = tracer.startSpan('s', {}, invalid);
    expect(span.spanContext().traceId).not.toBe('0'.repeat(32));
    expect(asReadable(span).parentSpanId).toBeUndefined();
  });

  it('supports every startActiveSpan overload and returns the callback result', () => {
    const { tracer } = testProvider();
    const parent = trace.setSpanContext(ROOT_CONTEXT, remoteParent(1));
    expect(tracer.startActiveSpan('a', (span) => trace.getActiveSpan() === span)).toBe(true);
    expect(tracer.startActiveSpan('b', { kind: SpanKind.CLIENT }, (span) => asReadable(span).kind)).toBe(SpanKind.CLIENT);
    expect(tracer.startActiveSpan('c', {}, parent, (span) => span.spanContext().traceId)).toBe(remoteParent(1).traceId);
  });

  it('keeps the instrumentation scope of the tracer', () => {
    const { provider } = testProvider();
    const tracer = provider.getTracer('my-lib', '2.1.0', { schemaUrl: 'https://opentelemetry.io/schemas/1.26.0' });
    expect(provider.getTracer('my-lib', '2.1.0', { schemaUrl: 'https://opentelemetry.io/schemas/1.26.0' })).toBe(tracer);
    expect(asReadable(tracer.startSpan('s')).scope).toEqual({
      name: 'my-lib',
      version: '2.1.0',
      schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
    });
  });

  it('uses INTERNAL for a missing or unknown kind', () => {
    const { tracer } = testProvider();
    expect(asReadable(tracer.startSpan('a')).kind).toBe(SpanKind.INTERNAL);
    expect(asReadable(tracer.startSpan('b', { kind: 42 as SpanKind })).kind).toBe(SpanKind.INTERNAL);
    for (const kind of [SpanKind.SERVER, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER]) {
      expect(asReadable(tracer.startSpan('k', { kind })).kind).toBe(kind);
    }
  });
});

describe('attributes', () => {
  it('keeps valid values and drops invalid ones', () => {
    const { tracer } = testProvider();
    const span = tracer.startSpan('s', { attributes: { fromOptions: 'yes' } });
    span.setAttribute('string', 'v');
    span.setAttribute('int', 42);
    span.setAttribute('double', 1.5);
    span.setAttribute('bool', false);
    span.setAttribute('strings', ['a', 'b']);
    span.setAttribute('withNull', [1, null, 3]);
    span.setAttribute('mixed', ['a', 1] as never);
    span.setAttribute('object', { a: 1 } as never);
    span.setAttribute('nested', [['a']] as never);
    span.setAttribute('', 'empty key');
    span.setAttribute('undefined', undefined as never);
    span.setAttribute('__proto__', ['x']);
    span.setAttributes({ many: 1, bad: { x: 1 } as never });
    expect(asReadable(span).attributes).toEqual({
      fromOptions: 'yes',
      string: 'v',
      int: 42,
      double: 1.5,
      bool: false,
      strings: ['a', 'b'],
      withNull: [1, null, 3],
      many: 1,
    });
    expect(asReadable(span).droppedAttributesCount).toBe(0);
  });

  it('copies array values so later changes by the caller are not exported', () => {
    const { tracer } = testProvider();
    const span = tracer.startSpan('s');
    const tags = ['a'];
    span.setAttribute('tags', tags);
    tags.push('b');
    expect(asReadable(span).attributes.tags).toEqual(['a']);
  });

  it('applies the count limit, counting drops, while overwriting existing keys still works', () => {
    const { tracer } = testProvider({ limits: { attributeCountLimit: 2 } });
    const span = tracer.startSpan('s');
    span.setAttributes({ a: 1, b: 2, c: 3, d: 4 });
    span.setAttribute('a', 10);
    expect(asReadable(span).attributes).toEqual({ a: 10, b: 2 });
    expect(asReadable(span).droppedAttributesCount).toBe(2);
  });

  it('keeps many attributes in the order first set, overwriting in place, past the point where it indexes names', () => {
    const { tracer } = testProvider({ limits: { attributeCountLimit: 50 } });
    const span = tracer.startSpan('s');
    for (let i = 0; i < 60; i++) span.setAttribute(`k${i}`, i);
    for (let i = 0; i < 60; i += 10) span.setAttribute(`k${i}`, `again ${i}`);
    const expected: Record<string, unknown> = {};
    for (let i = 0; i < 50; i++) expected[`k${i}`] = i % 10 === 0 ? `again ${i}` : i;
    expect(asReadable(span).attributes).toEqual(expected);
    expect(Object.keys(asReadable(span).attributes)).toEqual(Object.keys(expected));
    expect(asReadable(span).droppedAttributesCount).toBe(11); // k50..k59, and k50 again
    span.end();
    expect(asReadable(span).attributes).toBe(asReadable(span).attributes); // built once the span is final
  });

  it('truncates strings and strings inside arrays to the value length limit', () => {
    const { tracer } = testProvider({ limits: { attributeValueLengthLimit: 4 } });
    const span = tracer.startSpan('s');
    span.setAttribute('s', 'abcdefgh');
    span.setAttribute('arr', ['abcdefgh', 'ab']);
    span.setAttribute('n', 123456789);
    expect(asReadable(span).attributes).toEqual({ s: 'abcd', arr: ['abcd', 'ab'], n: 123456789 });
  });
});

describe('events, exceptions and links', () => {
  it('records events with attributes and times (Date, [s, ns], epoch ms)', () => {
    const { tracer } = testProvider();
    const span = tracer.startSpan('s');
    span.addEvent('plain');
    span.addEvent('with attributes', { k: 'v', bad: {} as never });
    span.addEvent('dated', new Date(1_700_000_000_000));
    span.addEvent('hrtime', { a: 1 }, [1_700_000_000, 500_000]);
    span.addEvent('epoch', 1_700_000_000_123.5);
    const events = asReadable(span).events;
    expect(events.map((e) => e.name)).toEqual(['plain', 'with attributes', 'dated', 'hrtime', 'epoch']);
    expect(events[1]!.attributes).toEqual({ k: 'v' });
    expect(events[2]!.time).toBe(1_700_000_000_000);
    expect(events[3]!.time).toBe(1_700_000_000_000.5);
    expect(events[3]!.attributes).toEqual({ a: 1 });
    expect(events[4]!.time).toBe(1_700_000_000_123.5);
  });

  it('keeps the latest events past the event limit and limits attributes per event', () => {
    const { tracer } = testProvider({ limits: { eventCountLimit: 2, attributePerEventCountLimit: 1 } });
    const span = tracer.startSpan('s');
    span.addEvent('1');
    span.addEvent('2');
    span.addEvent('3', { a: 1, b: 2 });
    expect(asReadable(span).events.map((e) => e.name)).toEqual(['2', '3']);
    expect(asReadable(span).droppedEventsCount).toBe(1);
    expect(asReadable(span).events[1]!.droppedAttributesCount).toBe(1);
  });

  it('records exceptions as exception events with type, message and stack trace', () => {
    const { tracer } = testProvider();
    const span = tracer.startSpan('s');
    const error = new TypeError('bad input');
    span.recordException(error);
    span.recordException('plain message');
    span.recordException({ code: 'ECONNREFUSED', message: 'connect failed' });
    const [first, second, third] = asReadable(span).events;
    expect(first!.name).toBe('exception');
    expect(first!.attributes).toEqual({
      'exception.type': 'TypeError',
      'exception.message': 'bad input',
      'exception.stacktrace': error.stack,
    });
    expect(second!.attributes).toEqual({ 'exception.message': 'plain message' });
    expect(third!.attributes).toEqual({ 'exception.type': 'ECONNREFUSED', 'exception.message': 'connect failed' });
    expect(asReadable(span).status.code).toBe(SpanStatusCode.UNSET);
  });

  it('records links from options and addLink(s), within the link limit', () => {
    const { tracer } = testProvider({ limits: { linkCountLimit: 2, attributePerLinkCountLimit: 1 } });
    const linked = remoteParent(1);
    const span = tracer.startSpan('s', { links: [{ context: linked, attributes: { why: 'batch', extra: 1 } }] });
    span.addLink({ context: linked });
    span.addLinks([{ context: linked }, { context: linked }]);
    const links = asReadable(span).links;
    expect(links).toHaveLength(2);
    expect(links[0]!.context).toBe(linked);
    expect(links[0]!.attributes).toEqual({ why: 'batch' });
    expect(links[0]!.droppedAttributesCount).toBe(1);
    expect(asReadable(span).droppedLinksCount).toBe(2);
  });
});

describe('status, name and end', () => {
  it('follows the status rules: Ok is final, Unset is ignored, a message only with Error', () => {
    const { tracer } = testProvider();
    const span = tracer.startSpan('s');
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'first' });
    expect(asReadable(span).status).toEqual({ code: SpanStatusCode.ERROR, message: 'first' });
    span.setStatus({ code: SpanStatusCode.UNSET });
    expect(asReadable(span).status.code).toBe(SpanStatusCode.ERROR);
    span.setStatus({ code: SpanStatusCode.OK, message: 'ignored' });
    expect(asReadable(span).status).toEqual({ code: SpanStatusCode.OK });
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'too late' });
    expect(asReadable(span).status).toEqual({ code: SpanStatusCode.OK });
  });

  it('renames with updateName', () => {
    const { tracer } = testProvider();
    const span = tracer.startSpan('GET');
    span.updateName('GET /users/:id');
    expect(asReadable(span).name).toBe('GET /users/:id');
  });

  it('ends once: the processor sees it once, later calls and writes are ignored', () => {
    const { tracer, processor } = testProvider();
    const span = tracer.startSpan('s');
    expect(span.isRecording()).toBe(true);
    span.end();
    const endTime = asReadable(span).endTime;
    expect(span.isRecording()).toBe(false);
    span.end();
    span.setAttribute('late', 1);
    span.addEvent('late');
    span.setStatus({ code: SpanStatusCode.ERROR });
    span.updateName('late');
    span.addLink({ context: remoteParent(1) });
    expect(processor.spans).toHaveLength(1);
    expect(asReadable(span)).toMatchObject({ name: 's', attributes: {}, events: [], links: [], endTime });
    expect(asReadable(span).status.code).toBe(SpanStatusCode.UNSET);
  });

  it('has sub-millisecond timestamps that are monotonic within a span', async () => {
    const { tracer } = testProvider();
    const durations: number[] = [];
    for (let i = 0; i < 50; i++) {
      const span = tracer.startSpan('s');
      span.end();
      const r = asReadable(span);
      expect(r.endTime).toBeGreaterThanOrEqual(r.startTime);
      durations.push(r.endTime - r.startTime);
    }
    expect(durations.some((d) => d > 0 && d < 1)).toBe(true);
    const span = tracer.startSpan('waits');
    await new Promise((resolve) => setTimeout(resolve, 20));
    span.end();
    const r = asReadable(span);
    expect(r.endTime - r.startTime).toBeGreaterThanOrEqual(19);
    expect(Math.abs(r.startTime - Date.now())).toBeLessThan(5000);
  });

  it('uses explicit start and end times, never ending before the start', () => {
    const { tracer } = testProvider();
    const span = tracer.startSpan('s', { startTime: new Date(1_700_000_000_000) });
    span.end([1_700_000_001, 250_000_000]);
    expect(asReadable(span).startTime).toBe(1_700_000_000_000);
    expect(asReadable(span).endTime).toBe(1_700_000_001_250);
    const past = tracer.startSpan('past', { startTime: Date.now() - 1000 });
    past.end();
    expect(asReadable(past).endTime - asReadable(past).startTime).toBeGreaterThanOrEqual(999);
    const backwards = tracer.startSpan('b', { startTime: Date.now() + 60_000 });
    backwards.end(Date.now());
    expect(asReadable(backwards).endTime).toBe(asReadable(backwards).startTime);
  });
});

describe('sampling', () => {
  it('returns a cheap non-recording span that still carries the trace context when not sampled', () => {
    const { tracer, processor } = testProvider({ sampler: createSampler('always_off', 1) });
    tracer.startActiveSpan('dropped', (span) => {
      expect(span).not.toBeInstanceOf(RecordingSpan);
      expect(span.isRecording()).toBe(false);
      // Not sampled; random, as every trace id the agent generates (W3C Level 2).
      expect(span.spanContext().traceFlags).toBe(0x02);
      expect(span.spanContext().traceId).toMatch(HEX32);
      const child = tracer.startSpan('child');
      expect(child.spanContext().traceId).toBe(span.spanContext().traceId);
      span.end();
      child.end();
    });
    expect(processor.spans).toHaveLength(0);
  });

  it('follows the parent decision with parentbased samplers', () => {
    const { tracer } = testProvider({ sampler: createSampler('parentbased_always_off', 1) });
    const sampledParent = trace.setSpanContext(ROOT_CONTEXT, remoteParent(TraceFlags.SAMPLED));
    const unsampledParent = trace.setSpanContext(ROOT_CONTEXT, remoteParent(TraceFlags.NONE));
    expect(tracer.startSpan('a', {}, sampledParent).isRecording()).toBe(true);
    expect(tracer.startSpan('b', {}, unsampledParent).isRecording()).toBe(false);
    expect(tracer.startSpan('root').isRecording()).toBe(false);
    const on = testProvider({ sampler: createSampler('parentbased_always_on', 1) }).tracer;
    expect(on.startSpan('root').isRecording()).toBe(true);
    const child = on.startSpan('c', {}, unsampledParent);
    expect(child.isRecording()).toBe(false);
    expect(child.spanContext().traceId).toBe(remoteParent(0).traceId);
  });

  it('keeps the parent trace state on children', () => {
    const { tracer } = testProvider();
    const traceState = { get: () => 'v', set: () => traceState, unset: () => traceState, serialize: () => 'k=v' };
    const parent = trace.setSpanContext(ROOT_CONTEXT, { ...remoteParent(1), traceState });
    expect(tracer.startSpan('s', {}, parent).spanContext().traceState).toBe(traceState);
  });
});

describe('W3C Level 2 random flag and sampling thresholds', () => {
  const RANDOM = 0x02;

  it('sets the random flag on the traces it starts, sampled or not', () => {
    expect(testProvider().tracer.startSpan('root').spanContext().traceFlags).toBe(TraceFlags.SAMPLED | RANDOM);
    const off = testProvider({ sampler: createSampler('always_off', 1) }).tracer;
    expect(off.startSpan('root').spanContext().traceFlags).toBe(RANDOM);
  });

  it('keeps a continued trace’s random flag as it came, set or not, in children sampled or not', () => {
    for (const sampler of ['always_on', 'always_off'] as const) {
      const { tracer } = testProvider({ sampler: createSampler(sampler, 1) });
      const sampledBit = sampler === 'always_on' ? TraceFlags.SAMPLED : 0;
      for (const random of [0, RANDOM]) {
        const parent = trace.setSpanContext(ROOT_CONTEXT, remoteParent(TraceFlags.SAMPLED | random));
        const child = tracer.startSpan('child', {}, parent);
        expect(child.spanContext().traceFlags).toBe(sampledBit | random);
        const grandchild = tracer.startSpan('grandchild', {}, trace.setSpan(ROOT_CONTEXT, child));
        expect(grandchild.spanContext().traceFlags).toBe(sampledBit | random);
      }
    }
  });

  it('gives a kept root of a ratio sampler its threshold in the tracestate, which its children keep', () => {
    const { tracer, processor } = testProvider({ sampler: createSampler('parentbased_traceidratio', 0.5) });
    let kept = 0;
    for (let i = 0; i < 200; i++) {
      tracer.startActiveSpan('root', (root) => {
        const child = tracer.startSpan('child');
        const rootState = root.spanContext().traceState;
        if (root.isRecording()) {
          kept++;
          expect(rootState?.serialize()).toBe('ot=th:8');
          expect(child.spanContext().traceState).toBe(rootState);
        } else {
          expect(rootState).toBeUndefined();
          expect(child.isRecording()).toBe(false);
        }
        child.end();
        root.end();
      });
    }
    expect(kept).toBeGreaterThan(60);
    expect(kept).toBeLessThan(140);
    expect(processor.spans).toHaveLength(2 * kept);
  });
});

describe('suppression and shutdown', () => {
  it('records nothing inside a suppressed context', () => {
    const { tracer, processor } = testProvider();
    const span = tracer.startSpan('exporter request', {}, suppressTracing(ROOT_CONTEXT));
    expect(span.isRecording()).toBe(false);
    expect(trace.isSpanContextValid(span.spanContext())).toBe(false);
    span.end();
    expect(processor.spans).toHaveLength(0);
  });

  it('makes non-recording spans after shutdown', async () => {
    const { tracer, provider } = testProvider();
    await provider.shutdown();
    expect(tracer.startSpan('late').isRecording()).toBe(false);
  });
});

describe('recordDropped: a keep rule records a span the sampler dropped', () => {
  it('records it with the dropped span’s ids, parent and start, exported as sampled without a threshold', () => {
    const { tracer, processor } = testProvider({ sampler: createSampler('parentbased_traceidratio', 0) });
    const parent = { ...remoteParent(TraceFlags.NONE), traceState: parseTraceState('ot=rv:00000000000001;th:0,vendor=x') };
    const parentContext = trace.setSpanContext(ROOT_CONTEXT, parent);
    const dropped = tracer.startSpan('GET', { kind: SpanKind.SERVER }, parentContext);
    expect(dropped.isRecording()).toBe(false);
    const startTime = Date.now() - 250;

    const kept = (tracer as AgentTracer).recordDropped(dropped.spanContext(), 'GET /x', SpanKind.SERVER, parent, startTime)!;
    expect(kept.isRecording()).toBe(true);
    kept.end();
    const [span] = processor.spans;
    expect(span!.spanContext()).toMatchObject({ traceId: parent.traceId, spanId: dropped.spanContext().spanId, traceFlags: TraceFlags.SAMPLED });
    expect(span!.spanContext().traceState!.serialize()).toBe('ot=rv:00000000000001,vendor=x');
    expect(span).toMatchObject({ name: 'GET /x', kind: SpanKind.SERVER, parentSpanId: parent.spanId, parentIsRemote: true, startTime });
    expect(span!.endTime - startTime).toBeGreaterThanOrEqual(250);
  });

  it('records nothing for a span that was sampled, or that another SDK made', () => {
    const { tracer } = testProvider();
    const agentTracer = tracer as AgentTracer;
    const sampled = tracer.startSpan('sampled');
    expect(agentTracer.recordDropped(sampled.spanContext(), 'x', SpanKind.SERVER, undefined, Date.now())).toBeUndefined();
    expect(agentTracer.recordDropped(remoteParent(TraceFlags.NONE), 'x', SpanKind.SERVER, undefined, Date.now())).toBeUndefined();
  });
});
