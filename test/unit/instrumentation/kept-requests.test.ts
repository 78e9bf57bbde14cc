import { SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';
import { afterAll, describe, expect, it } from 'vitest';
import { agentContext, ROOT_CONTEXT, setSpan } from '../../../src/instrumentation/api';
import { withServerRequest, type ServerRequest } from '../../../src/instrumentation/http-server-request';
import { DroppedSpans, isOutlined, keepDroppedChildren, keepDroppedSpan } from '../../../src/instrumentation/kept-requests';
import { Outcome, type Measurement } from '../../../src/instrumentation/outcome';
import { createSampler } from '../../../src/trace/sampler';
import { installContextManager, removeContextManager } from '../../helpers/context';
import { testProvider } from '../../helpers/in-memory';
import { instrumentationContext } from '../../helpers/instrumentation-context';

installContextManager();
afterAll(() => removeContextManager());

/** An unsampled request's context, as the http server makes it while a keep rule may still record it. */
function unsampledRequest() {
  const { tracer, processor, provider } = testProvider({ sampler: createSampler('always_off', 1) });
  const server = tracer.startSpan('GET', { kind: SpanKind.SERVER });
  const droppedSpans = new DroppedSpans();
  const request: ServerRequest & { droppedSpans: DroppedSpans | undefined } = {
    span: server,
    method: 'GET',
    route: undefined,
    errorType: undefined,
    spansEndingWithResponse: undefined,
    droppedSpans,
  };
  const context = withServerRequest(setSpan(ROOT_CONTEXT, server), request);
  const outcome = new Outcome(instrumentationContext({ name: 'kept-test' }, tracer));
  return { tracer, processor, provider, server, request, droppedSpans, context, outcome };
}

/** A call's measurement that also says what its span would have had. */
class CallMeasurement implements Measurement {
  recorded = 0;
  record(): void {
    this.recorded++;
  }
  describeSpan(span: Span): void {
    span.setAttribute('db.system.name', 'postgresql');
  }
}

describe('spans dropped under an unsampled request', () => {
  it('are kept in outline, and only while the request runs and up to 256', () => {
    const { tracer, droppedSpans, context, request } = unsampledRequest();
    const child = tracer.startSpan('SELECT', { kind: SpanKind.CLIENT }, context);
    expect(child.isRecording()).toBe(false);
    expect(isOutlined(child)).toBe(true);
    for (let i = 0; i < 300; i++) tracer.startSpan('more', {}, context);
    expect(droppedSpans.spans).toHaveLength(256);
    expect(isOutlined(tracer.startSpan('past the limit', {}, context))).toBe(false);
    // Outside any request, and once the request let its outlines go: plain unsampled spans.
    expect(isOutlined(tracer.startSpan('outside'))).toBe(false);
    request.droppedSpans = undefined;
    expect(isOutlined(tracer.startSpan('after', {}, context))).toBe(false);
  });

  it('leave out the internal spans of the agent’s own instrumentations (framework layers never end unsampled), not their calls', () => {
    const { provider, droppedSpans, context } = unsampledRequest();
    const framework = provider.getTracer('tracelet/fastify');
    expect(isOutlined(framework.startSpan('handler /orders', { kind: SpanKind.INTERNAL }, context))).toBe(false);
    expect(isOutlined(framework.startSpan('GET', { kind: SpanKind.CLIENT }, context))).toBe(true);
    expect(droppedSpans.spans.map((span) => span.name)).toEqual(['GET']);
  });

  it('note their end through the Outcome, with the failure described once for the metric and the span', () => {
    const { tracer, context, outcome } = unsampledRequest();
    const ok = tracer.startSpan('ok', { kind: SpanKind.CLIENT }, context);
    const failed = tracer.startSpan('failed', { kind: SpanKind.CLIENT }, context);
    const measurement = new CallMeasurement();
    outcome.end(ok);
    outcome.fail(failed, Object.assign(new Error('no such table'), { code: '42P01' }), measurement);
    expect(measurement.recorded).toBe(1);
    expect((ok as unknown as { endedAt: number }).endedAt).toBeGreaterThan(0);
    expect((failed as unknown as { failure: { type: string } }).failure.type).toBe('42P01');
  });

  it('are recorded under the kept request span, with their ids, timing, attributes and failure; one still running is not', () => {
    const { tracer, processor, server, droppedSpans, context, outcome } = unsampledRequest();
    const handler = tracer.startSpan('handler', {}, context);
    const query = tracer.startSpan('SELECT', { kind: SpanKind.CLIENT }, setSpan(context, handler));
    const orphan = tracer.startSpan('orphan', {}, setSpan(context, tracer.startSpan('still running', {}, context)));
    outcome.fail(query, Object.assign(new Error('syntax'), { code: '42601' }), new CallMeasurement());
    handler.end();
    orphan.end();

    const kept = keepDroppedSpan(tracer, server, 'GET /orders', SpanKind.SERVER, undefined, performance.now() - 5, 'error')!;
    keepDroppedChildren(droppedSpans, kept, 'error');
    kept.end();
    const byName = Object.fromEntries(processor.spans.map((span) => [span.name, span]));
    expect(Object.keys(byName).sort()).toEqual(['GET /orders', 'SELECT', 'handler', 'orphan']);
    expect(byName['GET /orders']!.spanContext().spanId).toBe(server.spanContext().spanId);
    expect(byName.handler!.parentSpanId).toBe(server.spanContext().spanId);
    expect(byName.SELECT!.parentSpanId).toBe(handler.spanContext().spanId);
    expect(byName.SELECT!.spanContext().spanId).toBe(query.spanContext().spanId);
    // Its parent was never seen to end: it hangs under the request.
    expect(byName.orphan!.parentSpanId).toBe(server.spanContext().spanId);
    expect(byName.SELECT!.attributes).toMatchObject({ 'db.system.name': 'postgresql', 'error.type': '42601', 'tracelet.kept_by': 'error' });
    expect(byName.SELECT!.status.code).toBe(SpanStatusCode.ERROR);
    expect(byName.SELECT!.events.map((event) => event.name)).toEqual(['exception']);
    for (const span of processor.spans) {
      expect(span.endTime).toBeGreaterThanOrEqual(span.startTime);
      expect(span.startTime).toBeGreaterThanOrEqual(byName['GET /orders']!.startTime);
    }
    // The request's outlines are closed: later spans are plain.
    expect(isOutlined(tracer.startSpan('late', {}, context))).toBe(false);
  });

  it('an application span ended through the API is outlined with its timing', async () => {
    const { tracer, droppedSpans, context } = unsampledRequest();
    const span = agentContext.with(context, () => tracer.startSpan('load user'));
    await new Promise((resolve) => setTimeout(resolve, 5));
    span.end();
    const [outline] = droppedSpans.spans;
    expect(outline!.endedAt - outline!.startedAt).toBeGreaterThanOrEqual(4);
  });
});
