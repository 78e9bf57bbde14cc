import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { receiverForEachTest } from '../helpers/otlp-receiver';
import { PARENT_ID, TRACE_ID } from '../helpers/http-client';
import { FIXTURES, runApp } from '../helpers/run-app';

const SCRIPT = join(FIXTURES, 'propagation.cjs');

const receiver = receiverForEachTest();

async function hop(incoming: Record<string, string>, env: Record<string, string> = {}) {
  const result = await runApp({
    script: SCRIPT,
    env: { INCOMING_HEADERS: JSON.stringify(incoming), OTEL_EXPORTER_OTLP_ENDPOINT: receiver().endpoint, ...env },
  });
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as {
    traceId: string;
    spanId: string;
    sampled: boolean;
    baggage: Record<string, string>;
    outgoing: Record<string, string>;
  };
}

describe('OTEL_PROPAGATORS, end to end through @opentelemetry/api', () => {
  it('continues a W3C trace and passes trace state and baggage on by default', async () => {
    const out = await hop({
      traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`,
      tracestate: 'vendor=opaque,other=1',
      baggage: 'user.id=42,region=eu%20west',
    });
    expect(out.traceId).toBe(TRACE_ID);
    expect(out.baggage).toEqual({ 'user.id': '42', region: 'eu west' });
    expect(out.outgoing).toEqual({
      traceparent: `00-${TRACE_ID}-${out.spanId}-01`,
      tracestate: 'vendor=opaque,other=1',
      baggage: 'user.id=42,region=eu%20west',
    });
    const [span] = await receiver().waitForSpans(1);
    expect(span!.parentSpanId).toBe(PARENT_ID);
    expect(span!.flags).toBe(0x301); // sampled, parent known to be remote
    expect(span!.traceState).toBe('vendor=opaque,other=1');
  });

  it('starts a new trace when the inbound traceparent is malformed, propagating nothing of it', async () => {
    const out = await hop({ traceparent: `00-${TRACE_ID.toUpperCase()}-${PARENT_ID}-01`, tracestate: 'vendor=opaque' });
    expect(out.traceId).not.toBe(TRACE_ID);
    // A trace of its own, sampled and random (W3C Level 2: the agent's trace ids are random).
    expect(out.outgoing).toEqual({ traceparent: `00-${out.traceId}-${out.spanId}-03` });
    const [span] = await receiver().waitForSpans(1);
    expect(span!.parentSpanId).toBe('');
  });

  it('continues a Level 2 trace: the random flag kept, a malformed OpenTelemetry tracestate entry not passed on', async () => {
    const out = await hop({ traceparent: `00-${TRACE_ID}-${PARENT_ID}-03`, tracestate: 'ot=th:XYZ;rv:12,vendor=opaque,vendor=again' });
    expect(out.outgoing).toEqual({ traceparent: `00-${TRACE_ID}-${out.spanId}-03`, tracestate: 'vendor=opaque' });
    const [span] = await receiver().waitForSpans(1);
    expect(span!.flags).toBe(0x303); // sampled and random, parent known to be remote
    expect(span!.traceState).toBe('vendor=opaque');
    const unsampled = await hop({ traceparent: `00-${TRACE_ID}-${PARENT_ID}-02` });
    expect(unsampled.outgoing.traceparent).toBe(`00-${TRACE_ID}-${unsampled.spanId}-02`);
  });

  it('respects an unsampled parent: no span exported, the decision still propagated', async () => {
    const out = await hop({ traceparent: `00-${TRACE_ID}-${PARENT_ID}-00` });
    expect(out.sampled).toBe(false);
    expect(out.outgoing.traceparent).toBe(`00-${TRACE_ID}-${out.spanId}-00`);
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver().spans).toEqual([]);
  });

  it('reads and writes B3 (multi) and Jaeger headers when configured', async () => {
    const out = await hop({ 'x-b3-traceid': TRACE_ID, 'x-b3-spanid': PARENT_ID, 'x-b3-sampled': '1' }, { OTEL_PROPAGATORS: 'b3multi,jaeger' });
    expect(out.traceId).toBe(TRACE_ID);
    expect(out.outgoing).toEqual({
      'x-b3-traceid': TRACE_ID,
      'x-b3-spanid': out.spanId,
      'x-b3-sampled': '1',
      'uber-trace-id': `${TRACE_ID}:${out.spanId}:0:01`,
    });
  });

  it('reads the single b3 header and a Jaeger header', async () => {
    const b3 = await hop({ b3: `${TRACE_ID}-${PARENT_ID}-1` }, { OTEL_PROPAGATORS: 'b3' });
    expect(b3.traceId).toBe(TRACE_ID);
    expect(b3.outgoing).toEqual({ b3: `${TRACE_ID}-${b3.spanId}-1` });
    const jaeger = await hop({ 'uber-trace-id': `${TRACE_ID}:${PARENT_ID}:0:1` }, { OTEL_PROPAGATORS: 'jaeger' });
    expect(jaeger.traceId).toBe(TRACE_ID);
  });

  it('propagates nothing with OTEL_PROPAGATORS=none', async () => {
    const out = await hop({ traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` }, { OTEL_PROPAGATORS: 'none' });
    expect(out.traceId).not.toBe(TRACE_ID);
    expect(out.outgoing).toEqual({});
  });
});
