import { fastifyInstrumentation } from '../../../../instrumentations/fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wrapHandler } from '../../../../instrumentations/fastify/handler';
import { wrapHook } from '../../../../instrumentations/fastify/hooks';
import { trackRequest } from '../../../../instrumentations/fastify/request-state';
import { frameworkOutcome } from '../../../../src/instrumentation/framework';
import { agentContext } from '../../../../src/api/active';
import { ROOT_CONTEXT } from '../../../../src/api/context';
import { getSpan, setSpan } from '../../../../src/api/trace';
import { instrumentationContext } from '../../../helpers/instrumentation-context';
import type { ReadableSpan } from '../../../../src/trace/types';
import { installContextManager, removeContextManager } from '../../../helpers/context';
import { testProvider } from '../../../helpers/in-memory';

beforeAll(() => {
  installContextManager();
});
afterAll(() => removeContextManager());

function setup() {
  const { tracer, processor } = testProvider();
  const ctx = instrumentationContext(fastifyInstrumentation, tracer, {}, { throwErrors: true });
  const server = tracer.startSpan('server');
  const request = {};
  trackRequest(request, setSpan(ROOT_CONTEXT, server), frameworkOutcome(ctx));
  return { ctx, processor, server, request };
}

const byName = (spans: ReadableSpan[], name: string) => spans.find((s) => s.name === name)!;

describe('Fastify hook wrappers', () => {
  it('look like the hook to Fastify: same length, same name, async stays async', () => {
    const { ctx } = setup();
    async function asyncHook(_request: unknown, _reply: unknown) {}
    function callbackHook(_request: unknown, _reply: unknown, done: () => void) {
      done();
    }
    const wrappedAsync = wrapHook('onRequest', asyncHook, undefined, ctx);
    const wrappedCallback = wrapHook('onRequest', callbackHook, undefined, ctx);
    expect([wrappedAsync.length, wrappedAsync.name, wrappedAsync.constructor.name]).toEqual([2, 'asyncHook', 'AsyncFunction']);
    expect([wrappedCallback.length, wrappedCallback.name, wrappedCallback.constructor.name]).toEqual([3, 'callbackHook', 'Function']);
    // Fastify rejects an async hook that also takes `done`: the wrapper gives it the same shape to reject.
    const invalid = wrapHook('onRequest', async (_a: unknown, _b: unknown, _c: unknown) => undefined, undefined, ctx);
    expect([invalid.length, invalid.constructor.name]).toEqual([3, 'AsyncFunction']);
    expect(wrapHook('onRequest', wrappedAsync, undefined, ctx)).toBe(wrappedAsync);
  });

  it('make a span, child of the server span and active during the hook, ended when done is called', () => {
    const { ctx, processor, server, request } = setup();
    let activeInHook: unknown;
    let doneArgs: unknown[] = [];
    const hook = wrapHook(
      'preHandler',
      function check(_req: unknown, _reply: unknown, done: (...args: unknown[]) => void) {
        activeInHook = getSpan(agentContext.active());
        done(undefined, 'extra');
      },
      'my-plugin',
      ctx,
    );
    hook.call(undefined, request, {}, (...args: unknown[]) => (doneArgs = args));
    const span = byName(processor.spans, 'preHandler check');
    expect(span.parentSpanId).toBe(server.spanContext().spanId);
    expect(activeInHook).toBe(span);
    expect(span.attributes).toEqual({ 'fastify.hook.name': 'preHandler', 'code.function.name': 'check', 'fastify.plugin.name': 'my-plugin' });
    expect(doneArgs).toEqual([undefined, 'extra']);
  });

  it('record errors passed to done, thrown, or rejected, and pass them on untouched', async () => {
    const { ctx, processor, request } = setup();
    const failure = new Error('no');
    let passed: unknown;
    wrapHook(
      'onRequest',
      function viaDone(_r: unknown, _p: unknown, done: (e?: unknown) => void) {
        done(failure);
      },
      undefined,
      ctx,
    ).call(undefined, request, {}, (error: unknown) => (passed = error));
    expect(passed).toBe(failure);
    expect(() =>
      wrapHook(
        'onRequest',
        function throws(_r: unknown, _p: unknown, _d: unknown) {
          throw failure;
        },
        undefined,
        ctx,
      ).call(undefined, request, {}, () => undefined),
    ).toThrow(failure);
    await expect(
      Reflect.apply(
        wrapHook(
          'onRequest',
          async function rejects(_r: unknown, _p: unknown) {
            throw failure;
          },
          undefined,
          ctx,
        ),
        undefined,
        [request, {}, () => undefined],
      ),
    ).rejects.toBe(failure);
    await new Promise((r) => setImmediate(r));
    for (const name of ['onRequest viaDone', 'onRequest throws', 'onRequest rejects']) {
      const span = byName(processor.spans, name);
      expect(span.status).toEqual({ code: 2, message: 'no' });
      expect(span.events.map((e) => e.name)).toEqual(['exception']);
    }
  });

  it('leave requests the instrumentation never saw alone', () => {
    const { ctx, processor } = setup();
    const hook = wrapHook(
      'onRequest',
      function plain(_r: unknown, _p: unknown, done: () => void) {
        done();
      },
      undefined,
      ctx,
    );
    let called = false;
    hook.call(undefined, { unknown: true }, {}, () => (called = true));
    expect(called).toBe(true);
    expect(processor.spans).toEqual([]);
  });
});

describe('Fastify handler wrapper', () => {
  it('ends with the promise, the returned value, or the reply already sent', async () => {
    const { ctx, processor, request } = setup();
    const asyncHandler = wrapHandler(
      async function load() {
        return 1;
      },
      '/a',
      ctx,
    );
    expect(await asyncHandler.call(undefined, request, {})).toBe(1);
    const syncHandler = wrapHandler(() => 'value', '/b', ctx);
    expect(syncHandler.call(undefined, request, {})).toBe('value');
    const hijacked = wrapHandler(() => undefined, '/c', ctx);
    hijacked.call(undefined, request, { sent: true });
    await new Promise((r) => setImmediate(r));
    expect(processor.spans.map((s) => s.name).sort()).toEqual(['handler /a', 'handler /b', 'handler /c']);
    expect(byName(processor.spans, 'handler /a').attributes).toEqual({ 'http.route': '/a', 'code.function.name': 'load' });
  });
});
