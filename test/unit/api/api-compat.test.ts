import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as api from '@opentelemetry/api';
import { afterAll, describe, expect, it } from 'vitest';
import { agentContext, agentPropagation, setPropagator } from '../../../src/api/active';
import { baggageEntryMetadataFromString, createBaggage, getBaggage, setBaggage } from '../../../src/api/baggage';
import { createContextKey, ROOT_CONTEXT } from '../../../src/api/context';
import { API_VERSION, registerGlobal, registeredApiVersion, unregisterGlobal } from '../../../src/api/globals';
import {
  getSpan,
  getSpanContext,
  isSpanContextValid,
  NonRecordingSpan,
  setSpan,
  setSpanContext,
  SpanKind,
  SpanStatusCode,
} from '../../../src/api/trace';
import { createPropagator } from '../../../src/propagation/composite';
import { installContextManager } from '../../helpers/context';
import { testProvider } from '../../helpers/in-memory';

const KEY = createContextKey('compat test key');
const SC = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1, isRemote: true };

afterAll(() => {
  for (const slot of ['trace', 'context', 'propagation', 'diag'] as const) {
    unregisterGlobal(slot, (globalThis as Record<symbol, Record<string, unknown> | undefined>)[Symbol.for('opentelemetry.js.api.1')]?.[slot]);
  }
});

describe('the agent implements what @opentelemetry/api serves, without loading it', () => {
  it('claims the version of the installed @opentelemetry/api', () => {
    const entry = createRequire(import.meta.url).resolve('@opentelemetry/api');
    const manifest = join(entry.slice(0, entry.lastIndexOf('@opentelemetry/api') + '@opentelemetry/api'.length), 'package.json');
    const installed = JSON.parse(readFileSync(manifest, 'utf8')).version;
    expect(API_VERSION).toBe(installed);
  });

  it('uses the same constants as the API', () => {
    expect(SpanKind).toEqual({
      INTERNAL: api.SpanKind.INTERNAL,
      SERVER: api.SpanKind.SERVER,
      CLIENT: api.SpanKind.CLIENT,
      PRODUCER: api.SpanKind.PRODUCER,
      CONSUMER: api.SpanKind.CONSUMER,
    });
    expect(SpanStatusCode).toEqual({ UNSET: api.SpanStatusCode.UNSET, OK: api.SpanStatusCode.OK, ERROR: api.SpanStatusCode.ERROR });
    expect(createContextKey('x')).toBe(api.createContextKey('x'));
  });

  it('shares the span and baggage slots of contexts with the API', () => {
    const span = new NonRecordingSpan(SC);
    expect(api.trace.getSpan(setSpan(ROOT_CONTEXT, span))).toBe(span);
    expect(getSpan(api.trace.setSpan(api.ROOT_CONTEXT, span))).toBe(span);
    expect(getSpanContext(api.trace.setSpanContext(api.ROOT_CONTEXT, SC))).toEqual(SC);
    expect(api.trace.getSpanContext(setSpanContext(ROOT_CONTEXT, SC))).toEqual(SC);
    const baggage = createBaggage({ user: { value: '42', metadata: baggageEntryMetadataFromString('p=1') } });
    expect(api.propagation.getBaggage(setBaggage(ROOT_CONTEXT, baggage))?.getEntry('user')?.value).toBe('42');
    expect(getBaggage(api.propagation.setBaggage(api.ROOT_CONTEXT, api.propagation.createBaggage({ a: { value: 'b' } })))?.getEntry('a')).toEqual({
      value: 'b',
    });
  });

  it('validates span contexts as the API does, but only accepts the lowercase ids W3C headers may carry', () => {
    for (const sc of [SC, { ...SC, traceId: '0'.repeat(32) }, { ...SC, spanId: '0'.repeat(16) }, { ...SC, spanId: 'xyz' }]) {
      expect(isSpanContextValid(sc)).toBe(api.isSpanContextValid(sc));
    }
    expect(isSpanContextValid({ ...SC, traceId: SC.traceId.toUpperCase() })).toBe(false);
  });

  it('keeps contexts immutable, with deletes and deep chains', () => {
    let ctx = ROOT_CONTEXT.setValue(KEY, 1);
    const first = ctx;
    for (let i = 0; i < 100; i++) ctx = ctx.setValue(createContextKey(`k${i}`), i);
    expect(ctx.getValue(KEY)).toBe(1);
    expect(ctx.getValue(createContextKey('k99'))).toBe(99);
    const deleted = ctx.deleteValue(KEY);
    expect(deleted.getValue(KEY)).toBeUndefined();
    expect(ctx.getValue(KEY)).toBe(1);
    expect(first.getValue(createContextKey('k0'))).toBeUndefined();
    expect(ROOT_CONTEXT.getValue(KEY)).toBeUndefined();
    expect(deleted.deleteValue(KEY)).toBe(deleted);
    for (let i = 0; i < 100; i++) ctx = ctx.deleteValue(createContextKey(`k${i}`));
    expect(ctx.getValue(createContextKey('k50'))).toBeUndefined();
    expect(ctx.getValue(KEY)).toBe(1);
  });

  it('is what the API serves once registered: tracer provider, context manager, propagator, diag', () => {
    const manager = installContextManager();
    const { provider, processor } = testProvider();
    const propagator = createPropagator(['tracecontext', 'baggage']);
    setPropagator(propagator);
    expect(registerGlobal('trace', provider)).toBe(true);
    expect(registerGlobal('propagation', propagator)).toBe(true);
    const lines: string[] = [];
    expect(registerGlobal('diag', { error: (m: string) => lines.push(m), warn() {}, info() {}, debug() {}, verbose() {} })).toBe(true);
    expect(registerGlobal('trace', {})).toBe(false);
    expect(registeredApiVersion()).toBe(API_VERSION);

    api.trace.getTracer('app').startActiveSpan('manual', (span) => {
      expect(agentContext.active()).toBe(manager.active());
      expect(getSpan(agentContext.active())).toBe(span);
      const headers: Record<string, string> = {};
      api.propagation.inject(api.context.active(), headers);
      expect(headers.traceparent).toBe(`00-${span.spanContext().traceId}-${span.spanContext().spanId}-03`);
      const carrier: Record<string, string> = {};
      agentPropagation.inject(agentContext.active(), carrier);
      expect(carrier).toEqual(headers);
      span.end();
    });
    expect(processor.spans.map((s) => s.name)).toEqual(['manual']);
    api.diag.error('from the application');
    expect(lines).toEqual(['from the application']);
  });
});
