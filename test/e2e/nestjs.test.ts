import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  named,
  serverOf,
  settledTraceOf,
  stopFrameworkApp,
  traceOf,
  upstreamTraceparents,
  type FrameworkApp,
  expectSameAnswers,
  type AppRequest,
  keptStatusesOf,
} from '../helpers/framework-app';
import { send } from '../helpers/http-client';
import { nestInstall, nestRunsOnAppNode, startNestApp, type NestAdapter, type NestMajor } from '../helpers/nest-app';
import { exceptionEvents, onlyOne } from '../helpers/received-spans';
import type { ReceivedSpan } from '../helpers/otlp-receiver';
import { APP_NODE_VERSION, type Preload } from '../helpers/run-app';
import { CLIENT, ERROR, INTERNAL, SERVER, UNSET } from '../helpers/span-kinds';

/** Every Nest major on both adapters; each major is an npm workspace of its own (test/apps/nest10, nest11). */
const PAIRS: ReadonlyArray<readonly [NestMajor, NestAdapter]> = [
  [10, 'express'],
  [10, 'fastify'],
  [11, 'express'],
  [11, 'fastify'],
];
const SCRIPTS = [
  ['nest-app.cjs', 'require'],
  ['nest-app.mjs', 'import'],
] as const;

const stop = stopFrameworkApp;

/** A Nest major the applications' Node cannot run is left out, and the suite says so. */
function describeNest(major: NestMajor, title: string, body: () => void): void {
  if (!nestRunsOnAppNode(major)) {
    describe(title, () => {
      it(`is left out: NestJS ${major} needs Node ${nestInstall(major).engines}, the application runs on Node ${APP_NODE_VERSION}`, () => {
        expect(nestRunsOnAppNode(major)).toBe(false);
      });
    });
    return;
  }
  describe(title, body);
}

const clientOf = (trace: readonly ReceivedSpan[]): ReceivedSpan =>
  onlyOne(
    trace.filter((s) => s.kind === CLIENT),
    'one client span',
  );
const end = (span: ReceivedSpan): bigint => BigInt(span.endTimeUnixNano);
const start = (span: ReceivedSpan): bigint => BigInt(span.startTimeUnixNano);
/** The spans of the adapter's own handler span (`handler /api/...`): Nest's handlers must make none. */
const adapterHandlerSpans = (trace: readonly ReceivedSpan[]) => trace.filter((s) => s.name.startsWith('handler '));

const JSON_BODY = { 'content-type': 'application/json' };

for (const [major, adapter] of PAIRS) {
  for (const [script, preload] of SCRIPTS) {
    describeNest(major, `NestJS ${major} on ${adapter}, ${script} (--${preload})`, () => {
      let running: FrameworkApp;
      beforeAll(async () => {
        running = await startNestApp({ major, adapter, script, preload });
      });
      afterAll(async () => stop(running));

      it(`runs the installed NestJS ${major} on ${adapter}, and the instrumentation patched it`, async () => {
        expect(running.banner).toEqual([nestInstall(major).version, adapter]);
        expect(running.banner[0]!.startsWith(`${major}.`)).toBe(true);
        expect(await send(`${running.url}/api/articles/1`)).toMatchObject({ status: 200, body: '{"id":"1","profile":"profile-1"}' });
        named(await traceOf(running, '/api/articles/1', 3), 'ArticlesController.findOne');
      });

      it('names the server span after the route, global prefix included; the controller method span is its child and the parent of its work', async () => {
        expect(await send(`${running.url}/api/articles/7`)).toMatchObject({ status: 200, body: '{"id":"7","profile":"profile-7"}' });
        const trace = await settledTraceOf(running, '/api/articles/7', 3);
        const server = serverOf(trace);
        expect(server.name).toBe('GET /api/articles/:id');
        expect(server.attributes['http.route']).toBe('/api/articles/:id');
        const handler = named(trace, 'ArticlesController.findOne');
        expect(handler.kind).toBe(INTERNAL);
        expect(handler.parentSpanId).toBe(server.spanId);
        expect(handler.attributes).toMatchObject({
          'nestjs.type': 'handler',
          'nestjs.controller': 'ArticlesController',
          'code.function.name': 'findOne',
          'http.route': '/api/articles/:id',
        });
        const client = clientOf(trace);
        expect(client.parentSpanId).toBe(handler.spanId);
        expect(client.attributes['url.full']).toMatch(/\/profile\/7$/);
        expect(upstreamTraceparents.get('7')).toContain(client.spanId);
        expect(end(handler)).toBeGreaterThanOrEqual(end(client));
        // The whole tree: the adapter names the route but makes no handler span of its own for Nest's handler.
        expect(trace.map((s) => s.name).sort()).toEqual(['ArticlesController.findOne', 'GET', 'GET /api/articles/:id']);
      });

      it('names a URI-versioned route with its version', async () => {
        expect(await send(`${running.url}/api/v1/articles/21/summary`)).toMatchObject({ status: 200, body: '{"id":21,"doubled":42}' });
        const trace = await settledTraceOf(running, '/api/v1/articles/21/summary', 2);
        expect(serverOf(trace).name).toBe('GET /api/v1/articles/:id/summary');
        expect(serverOf(trace).attributes['http.route']).toBe('/api/v1/articles/:id/summary');
        const handler = named(trace, 'ArticlesController.summary');
        expect(handler.attributes['http.route']).toBe('/api/v1/articles/:id/summary');
        // `handler` (the default): ParseIntPipe runs inside the handler span, no span of its own.
        expect(trace).toHaveLength(2);
      });

      it('keeps what Nest reads off controller methods: @HttpCode, @Header, @Redirect, parameter pipes', async () => {
        const created = await send(`${running.url}/api/articles`, { method: 'POST', headers: JSON_BODY, body: '{"title":" Hello "}' });
        expect(created).toMatchObject({ status: 202, body: '{"created":"Hello"}' });
        expect(created.headers['x-created']).toBe('yes');
        const moved = await send(`${running.url}/api/articles/legacy/9`);
        expect(moved.status).toBe(301);
        expect(moved.headers.location).toBe('/api/articles/1');
        expect(named(await traceOf(running, '/api/articles', 2), 'ArticlesController.create').attributes['code.function.name']).toBe('create');
        expect(serverOf(await traceOf(running, '/api/articles/legacy/9', 2)).name).toBe('GET /api/articles/legacy/:id');
      });

      it('records an HttpException on the handler span; a 4xx is no server error', async () => {
        const reply = await send(`${running.url}/api/articles/missing`);
        expect(reply.status).toBe(404);
        expect(JSON.parse(reply.body)).toEqual({ message: 'article missing not found', error: 'Not Found', statusCode: 404 });
        const trace = await settledTraceOf(running, '/api/articles/missing', 2);
        const handler = named(trace, 'ArticlesController.findOne');
        expect(handler.status).toEqual({ code: ERROR, message: 'article missing not found' });
        expect(exceptionEvents(handler).map((e) => e.attributes['exception.type'])).toEqual(['NotFoundException']);
        const server = serverOf(trace);
        expect(server.attributes['http.response.status_code']).toBe(404);
        expect(server.status.code).toBe(UNSET);
        expect(server.attributes['error.type']).toBeUndefined();
      });

      it('records a plain Error answered with a 500 on the handler span, and its type as the server span error.type', async () => {
        const reply = await send(`${running.url}/api/reports/boom`);
        expect(reply.status).toBe(500);
        expect(JSON.parse(reply.body)).toEqual({ statusCode: 500, message: 'Internal server error' });
        const trace = await settledTraceOf(running, '/api/reports/boom', 2);
        const handler = named(trace, 'ReportsController.boom');
        expect(handler.status).toEqual({ code: ERROR, message: 'report generator crashed' });
        expect(exceptionEvents(handler).map((e) => e.attributes['exception.type'])).toEqual(['Error']);
        const server = serverOf(trace);
        expect(server.status.code).toBe(ERROR);
        expect(server.attributes).toMatchObject({ 'error.type': 'Error', 'http.response.status_code': 500 });
      });

      it("records a pipe's BadRequestException on the handler span, which runs the pipes", async () => {
        const reply = await send(`${running.url}/api/v1/articles/abc/summary`);
        expect(reply.status).toBe(400);
        expect(JSON.parse(reply.body).message).toBe('Validation failed (numeric string is expected)');
        const trace = await settledTraceOf(running, '/api/v1/articles/abc/summary', 2);
        const handler = named(trace, 'ArticlesController.summary');
        expect(handler.status.code).toBe(ERROR);
        expect(exceptionEvents(handler).map((e) => e.attributes['exception.type'])).toEqual(['BadRequestException']);
        expect(serverOf(trace).attributes['error.type']).toBeUndefined();
      });

      it('gives a request a guard refuses no handler span, and no server error', async () => {
        const refused = await send(`${running.url}/api/articles/3/secret`);
        expect(refused.status).toBe(403);
        expect(JSON.parse(refused.body)).toEqual({ message: 'Forbidden resource', error: 'Forbidden', statusCode: 403 });
        const trace = await settledTraceOf(running, '/api/articles/3/secret', 1);
        expect(trace.map((s) => s.name)).toEqual(['GET /api/articles/:id/secret']);
        expect(serverOf(trace).attributes['error.type']).toBeUndefined();
        // Let through, the handler span starts once the guard (a few ms) is done: the gap before it is the guard's.
        expect(await send(`${running.url}/api/articles/4/secret`, { headers: { 'x-token': 'letmein' } })).toMatchObject({ status: 200 });
        const allowed = await settledTraceOf(running, '/api/articles/4/secret', 2);
        const handler = named(allowed, 'ArticlesController.secret');
        expect(handler.parentSpanId).toBe(serverOf(allowed).spanId);
        expect(start(handler) - start(serverOf(allowed))).toBeGreaterThanOrEqual(4_000_000n);
      });

      it("runs a handler inside its interceptor's Observable, under the server span", async () => {
        expect(await send(`${running.url}/api/articles/5/timed`)).toMatchObject({
          status: 200,
          body: '{"data":{"id":"5","profile":"profile-5"},"intercepted":true}',
        });
        const trace = await settledTraceOf(running, '/api/articles/5/timed', 3);
        const handler = named(trace, 'ArticlesController.timed');
        expect(handler.parentSpanId).toBe(serverOf(trace).spanId);
        expect(clientOf(trace).parentSpanId).toBe(handler.spanId);
        expect(trace).toHaveLength(3);
      });

      it('keeps the handler span open while the Observable it returned does its work', async () => {
        expect(await send(`${running.url}/api/reports/daily`)).toMatchObject({ status: 200, body: '{"daily":"profile-daily"}' });
        const trace = await settledTraceOf(running, '/api/reports/daily', 3);
        const handler = named(trace, 'ReportsController.daily');
        const client = clientOf(trace);
        expect(client.parentSpanId).toBe(handler.spanId);
        expect(end(handler)).toBeGreaterThanOrEqual(end(client));
      });

      it('traces a request-scoped controller, whose execution context Nest creates per request', async () => {
        for (const id of ['s1', 's2'])
          expect(await send(`${running.url}/api/scoped/${id}`)).toMatchObject({ status: 200, body: `{"id":"${id}","scoped":true}` });
        for (const id of ['s1', 's2']) {
          const trace = await settledTraceOf(running, `/api/scoped/${id}`, 2);
          expect(serverOf(trace).name).toBe('GET /api/scoped/:id');
          const handler = named(trace, 'ScopedController.show');
          expect(handler.parentSpanId).toBe(serverOf(trace).spanId);
          expect(handler.attributes).toMatchObject({ 'nestjs.controller': 'ScopedController', 'code.function.name': 'show' });
          expect(trace).toHaveLength(2);
        }
      });

      it('leaves a request no route matched as Nest answers it, unnamed', async () => {
        const reply = await send(`${running.url}/api/nope`);
        expect(reply.status).toBe(404);
        expect(JSON.parse(reply.body)).toEqual({ message: 'Cannot GET /api/nope', error: 'Not Found', statusCode: 404 });
        const trace = await settledTraceOf(running, '/api/nope', 1);
        expect(serverOf(trace).name).toBe('GET');
        expect(serverOf(trace).attributes['http.route']).toBeUndefined();
        expect(trace).toHaveLength(1);
      });

      it('runs an unsampled request as usual, records only the failed one (keep rule) and propagates the trace', async () => {
        const traceId = `${major}${adapter.length}${script.length}`.padEnd(32, 'b');
        const headers = { traceparent: `00-${traceId}-00f067aa0ba902b7-00` };
        const id = `u${major}${adapter}${preload}`;
        expect(await send(`${running.url}/api/articles/${id}`, { headers })).toMatchObject({
          status: 200,
          body: `{"id":"${id}","profile":"profile-${id}"}`,
        });
        expect((await send(`${running.url}/api/reports/boom`, { headers })).status).toBe(500);
        expect((await send(`${running.url}/api/articles/5/timed`, { headers })).status).toBe(200);
        // No handler span is made below an unsampled server span: the server's is the upstream call's parent, same trace, not sampled.
        expect(upstreamTraceparents.get(id)).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`));
        expect(upstreamTraceparents.get(id)).not.toContain('00f067aa0ba902b7');
        await send(`${running.url}/api/articles/after-${id}`);
        await traceOf(running, `/api/articles/after-${id}`, 3);
        expect(keptStatusesOf(running, traceId)).toEqual([500]);
      });

      it('keeps 30 concurrent requests apart', async () => {
        const ids = Array.from({ length: 30 }, (_, i) => `c${i}-${preload}`);
        const replies = await Promise.all(ids.map((id) => send(`${running.url}/api/articles/${id}`)));
        replies.forEach((reply, i) => expect(reply.body).toBe(`{"id":"${ids[i]}","profile":"profile-${ids[i]}"}`));
        for (const id of ids) {
          const trace = await traceOf(running, `/api/articles/${id}`, 3);
          const server = serverOf(trace);
          const handler = named(trace, 'ArticlesController.findOne');
          expect(handler.parentSpanId).toBe(server.spanId);
          const client = clientOf(trace);
          expect(client.parentSpanId).toBe(handler.spanId);
          expect(client.attributes['url.full']).toMatch(new RegExp(`/profile/${id}$`));
        }
      });
    });
  }
}

for (const [major, adapter] of PAIRS) {
  describeNest(major, `OTEL_INSTRUMENTATION_NESTJS_SPANS=all, NestJS ${major} on ${adapter}`, () => {
    let running: FrameworkApp;
    beforeAll(async () => {
      running = await startNestApp({ major, adapter, script: 'nest-app.cjs', preload: 'require', env: { OTEL_INSTRUMENTATION_NESTJS_SPANS: 'all' } });
    });
    afterAll(async () => stop(running));

    it('makes a span for a guard, covering its asynchronous work, before the handler span', async () => {
      expect(await send(`${running.url}/api/articles/3/secret`, { headers: { 'x-token': 'letmein' } })).toMatchObject({
        status: 200,
        body: '{"id":"3","secret":true}',
      });
      const trace = await settledTraceOf(running, '/api/articles/3/secret', 3);
      const server = serverOf(trace);
      const guard = named(trace, 'guard AuthGuard');
      const handler = named(trace, 'ArticlesController.secret');
      expect(guard).toMatchObject({ kind: INTERNAL, parentSpanId: server.spanId });
      expect(guard.attributes).toMatchObject({ 'nestjs.type': 'guard', 'code.function.name': 'canActivate' });
      expect(end(guard) - start(guard)).toBeGreaterThanOrEqual(4_000_000n);
      expect(handler.parentSpanId).toBe(server.spanId);
      expect(start(handler)).toBeGreaterThanOrEqual(end(guard));
      expect(trace.map((s) => s.name).sort()).toEqual(['ArticlesController.secret', 'GET /api/articles/:id/secret', 'guard AuthGuard']);
    });

    it("records a guard's ForbiddenException on the guard span; a guard returning false ends it as usual", async () => {
      const revoked = await send(`${running.url}/api/articles/8/secret`, { headers: { 'x-token': 'revoked' } });
      expect(revoked.status).toBe(403);
      expect(JSON.parse(revoked.body)).toEqual({ message: 'token revoked', error: 'Forbidden', statusCode: 403 });
      const trace = await settledTraceOf(running, '/api/articles/8/secret', 2);
      const guard = named(trace, 'guard AuthGuard');
      expect(guard.status).toEqual({ code: ERROR, message: 'token revoked' });
      expect(exceptionEvents(guard).map((e) => e.attributes['exception.type'])).toEqual(['ForbiddenException']);
      expect(trace).toHaveLength(2);
      expect(serverOf(trace).attributes['error.type']).toBeUndefined();

      expect((await send(`${running.url}/api/articles/9/secret`)).status).toBe(403);
      const refused = await settledTraceOf(running, '/api/articles/9/secret', 2);
      expect(named(refused, 'guard AuthGuard').status.code).toBe(UNSET);
      expect(refused).toHaveLength(2);
    });

    it("makes an interceptor's span cover its Observable: the handler inside it, and its work after the handler", async () => {
      expect((await send(`${running.url}/api/articles/6/timed`)).body).toBe('{"data":{"id":"6","profile":"profile-6"},"intercepted":true}');
      const trace = await settledTraceOf(running, '/api/articles/6/timed', 4);
      const server = serverOf(trace);
      const interceptor = named(trace, 'interceptor TimingInterceptor');
      const handler = named(trace, 'ArticlesController.timed');
      expect(interceptor.parentSpanId).toBe(server.spanId);
      expect(interceptor.attributes).toMatchObject({ 'nestjs.type': 'interceptor', 'code.function.name': 'intercept' });
      expect(handler.parentSpanId).toBe(interceptor.spanId);
      expect(clientOf(trace).parentSpanId).toBe(handler.spanId);
      // The interceptor delays the handler's result by 10 ms before mapping it.
      expect(end(interceptor) - end(handler)).toBeGreaterThanOrEqual(8_000_000n);
      expect(end(server)).toBeGreaterThanOrEqual(end(interceptor));
    });

    it('records an exception where it was thrown, not again on the interceptor it passes through', async () => {
      expect((await send(`${running.url}/api/articles/missing/timed`)).status).toBe(404);
      const trace = await settledTraceOf(running, '/api/articles/missing/timed', 3);
      expect(named(trace, 'ArticlesController.timed').status).toEqual({ code: ERROR, message: 'article missing not found' });
      const interceptor = named(trace, 'interceptor TimingInterceptor');
      expect(interceptor.status.code).toBe(UNSET);
      expect(exceptionEvents(interceptor)).toEqual([]);
    });

    it('makes a span for each pipe, inside the handler span; a failing pipe has the exception', async () => {
      expect((await send(`${running.url}/api/v1/articles/4/summary`)).body).toBe('{"id":4,"doubled":8}');
      const trace = await settledTraceOf(running, '/api/v1/articles/4/summary', 3);
      const handler = named(trace, 'ArticlesController.summary');
      const pipe = named(trace, 'pipe ParseIntPipe');
      expect(pipe.parentSpanId).toBe(handler.spanId);
      expect(pipe.attributes).toMatchObject({ 'nestjs.type': 'pipe', 'code.function.name': 'transform' });

      expect((await send(`${running.url}/api/v1/articles/x/summary`)).status).toBe(400);
      const failed = await settledTraceOf(running, '/api/v1/articles/x/summary', 3);
      const failedPipe = named(failed, 'pipe ParseIntPipe');
      expect(failedPipe.status).toEqual({ code: ERROR, message: 'Validation failed (numeric string is expected)' });
      expect(exceptionEvents(failedPipe).map((e) => e.attributes['exception.type'])).toEqual(['BadRequestException']);
      expect(named(failed, 'ArticlesController.summary').status.code).toBe(UNSET);

      const created = await send(`${running.url}/api/articles`, { method: 'POST', headers: JSON_BODY, body: '{"title":"t"}' });
      expect(created.status).toBe(202);
      const posted = await settledTraceOf(running, '/api/articles', 3);
      const titlePipe = named(posted, 'pipe TitlePipe');
      expect(titlePipe.parentSpanId).toBe(named(posted, 'ArticlesController.create').spanId);
      expect(end(titlePipe) - start(titlePipe)).toBeGreaterThanOrEqual(4_000_000n);
    });

    it('runs guards, interceptors and pipes of an unsampled request as usual, and records nothing', async () => {
      const traceId = `${major}${adapter}`.padEnd(32, 'c').replace(/[^0-9a-f]/g, 'e');
      const headers = { traceparent: `00-${traceId}-00f067aa0ba902b7-00` };
      expect(await send(`${running.url}/api/articles/3/secret`, { headers: { ...headers, 'x-token': 'letmein' } })).toMatchObject({ status: 200 });
      expect((await send(`${running.url}/api/articles/3/secret`, { headers: { ...headers, 'x-token': 'revoked' } })).status).toBe(403);
      expect((await send(`${running.url}/api/articles/7/timed`, { headers })).body).toBe(
        '{"data":{"id":"7","profile":"profile-7"},"intercepted":true}',
      );
      expect((await send(`${running.url}/api/v1/articles/7/summary`, { headers })).body).toBe('{"id":7,"doubled":14}');
      expect((await send(`${running.url}/api/v1/articles/seven/summary`, { headers })).status).toBe(400);
      await send(`${running.url}/api/articles/after-unsampled`);
      await traceOf(running, '/api/articles/after-unsampled', 3);
      expect(running.receiver.spans.filter((s) => s.traceId === traceId)).toEqual([]);
    });

    it('adds nothing where no guard, interceptor or pipe runs', async () => {
      await send(`${running.url}/api/articles/2`);
      const trace = await settledTraceOf(running, '/api/articles/2', 3);
      expect(trace.map((s) => s.name).sort()).toEqual(['ArticlesController.findOne', 'GET', 'GET /api/articles/:id']);
      expect(adapterHandlerSpans(trace)).toEqual([]);
    });
  });
}

describe('OTEL_INSTRUMENTATION_NESTJS_SPANS=route', () => {
  for (const adapter of ['express', 'fastify'] as const) {
    it(`names the server span only, on ${adapter}: no span of Nest's, none of the adapter's for Nest's handler`, async () => {
      const running = await startNestApp({
        major: 10,
        adapter,
        script: 'nest-app.cjs',
        preload: 'require',
        env: { OTEL_INSTRUMENTATION_NESTJS_SPANS: 'route' },
      });
      try {
        expect((await send(`${running.url}/api/articles/3/timed`)).status).toBe(200);
        expect((await send(`${running.url}/api/reports/boom`)).status).toBe(500);
        const trace = await settledTraceOf(running, '/api/articles/3/timed', 2);
        expect(trace.map((s) => s.name).sort()).toEqual(['GET', 'GET /api/articles/:id/timed']);
        expect(clientOf(trace).parentSpanId).toBe(serverOf(trace).spanId);
        const boom = await settledTraceOf(running, '/api/reports/boom', 1);
        expect(boom).toHaveLength(1);
        expect(serverOf(boom).attributes['error.type']).toBe('Error');
      } finally {
        await stop(running);
      }
    });
  }
});

/** Every route of the fixture, and how each is asked. */
const REQUESTS: AppRequest[] = [
  ['/api/articles/3', {}],
  ['/api/articles/missing', {}],
  ['/api/articles', { method: 'POST', headers: JSON_BODY, body: '{"title":" x "}' }],
  ['/api/articles', { method: 'POST', headers: JSON_BODY, body: '{}' }],
  ['/api/articles', { method: 'POST', headers: JSON_BODY, body: '{"title":' }],
  ['/api/v1/articles/5/summary', {}],
  ['/api/v1/articles/five/summary', {}],
  ['/api/articles/5/summary', {}],
  ['/api/articles/3/secret', {}],
  ['/api/articles/3/secret', { headers: { 'x-token': 'letmein' } }],
  ['/api/articles/3/secret', { headers: { 'x-token': 'revoked' } }],
  ['/api/articles/4/timed', {}],
  ['/api/articles/missing/timed', {}],
  ['/api/articles/legacy/2', {}],
  ['/api/reports/boom', {}],
  ['/api/reports/daily', {}],
  ['/api/scoped/1', {}],
  ['/api/nope', {}],
  ['/articles/3', {}],
];

for (const [major, adapter] of PAIRS) {
  describeNest(major, `NestJS ${major} on ${adapter} behaves exactly as without the agent`, () => {
    it('answers every route the same: status, body, headers', async () => {
      const options = (preload: Preload) => ({
        major,
        adapter,
        script: 'nest-app.mjs' as const,
        preload,
        env: { OTEL_INSTRUMENTATION_NESTJS_SPANS: 'all' },
      });
      const [traced, bare] = await Promise.all([startNestApp(options('import')), startNestApp(options('none'))]);
      try {
        await expectSameAnswers(traced, bare, REQUESTS);
        // The traced application did trace them: one server span each.
        named(await traceOf(traced, '/api/articles/4/timed', 4), 'interceptor TimingInterceptor');
        const servers = (spans: ReceivedSpan[]) => spans.filter((s) => s.kind === SERVER);
        await traced.receiver.waitUntil(
          (spans) => (servers(spans).length >= REQUESTS.length ? true : undefined),
          10_000,
          () => `${servers(traced.receiver.spans).length} server spans for ${REQUESTS.length} requests`,
        );
      } finally {
        await Promise.all([stop(traced), stop(bare)]);
      }
    });
  });
}
