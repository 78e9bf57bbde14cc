import { trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { diag } from '../../../src/diag/logger';
import { createInstrumentationContext, FAILURES_BEFORE_SWITCH_OFF } from '../../../src/instrumentation/context';

const lines: string[] = [];
diag.setSink((line) => lines.push(line));
diag.setLevel('info');
afterEach(() => {
  lines.length = 0;
});

describe('an instrumentation context', () => {
  it('carries the tracer and the settings it was made with', () => {
    const tracer = trace.getTracer('x');
    const settings = { spans: 'all' };
    const ctx = createInstrumentationContext('made', tracer, settings);
    expect(ctx.tracer).toBe(tracer);
    expect(ctx.settings).toBe(settings);
    expect(ctx.enabled).toBe(true);
  });

  it('reports the first failure once, with where it happened, and stays on', () => {
    const ctx = createInstrumentationContext('flaky', trace.getTracer('x'), undefined);
    ctx.reportError(new Error('first'));
    ctx.reportError(new Error('second'));
    expect(ctx.enabled).toBe(true);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('the flaky instrumentation failed and stepped aside');
    expect(lines[0]).toContain('Error: first');
  });

  it(`is switched off at the ${FAILURES_BEFORE_SWITCH_OFF}th failure, and says so once`, () => {
    const ctx = createInstrumentationContext('broken', trace.getTracer('x'), undefined);
    for (let i = 1; i < FAILURES_BEFORE_SWITCH_OFF; i++) ctx.reportError(new Error(`failure ${i}`));
    expect(ctx.enabled).toBe(true);
    ctx.reportError(new Error('last straw'));
    expect(ctx.enabled).toBe(false);
    ctx.reportError(new Error('after'));
    const warnings = lines.filter((line) => line.includes('switched off'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`the broken instrumentation failed ${FAILURES_BEFORE_SWITCH_OFF} times and is switched off`);
  });

  it('says once per version that a library version is outside what it supports', () => {
    const ctx = createInstrumentationContext('lib', trace.getTracer('x'), undefined);
    ctx.reportUnsupported('lib', '9.0.0', '>=1 <9');
    ctx.reportUnsupported('lib', '9.0.0', '>=1 <9');
    expect(lines).toEqual([expect.stringContaining('lib@9.0.0 is outside what the lib instrumentation supports (>=1 <9)')]);
  });
});
