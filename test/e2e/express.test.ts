import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  named,
  serverOf,
  settledTraceOf,
  startFrameworkApp,
  stopFrameworkApp,
  traceOf,
  upstreamTraceparents,
  type FrameworkApp,
  expectSameAnswers,
  type AppRequest,
  keptStatusesOf,
} from '../helpers/framework-app';
import { send } from '../helpers/http-client';
import { onlyOne } from '../helpers/received-spans';
import type { Preload } from '../helpers/run-app';
import { requirePostgres } from '../helpers/servers';
import { CLIENT, ERROR, INTERNAL, SERVER, UNSET } from '../helpers/span-kinds';

/** Express 4 and 5 installed side by side (npm aliases), given to the app under the name `express`. */
const INSTALLED = { 4: 'express-v4', 5: 'express-v5' } as const;

function startExpress(major: 4 | 5, script: 'express-app.cjs' | 'express-app.mjs', preload: Preload, env: Record<string, string> = {}) {
  return startFrameworkApp({
    script,
    preload,
    framework: 'express',
    dir: { fixtures: ['express-app-build.cjs'], aliases: { express: INSTALLED[major] } },
    env,
  });
}

const stop = stopFrameworkApp;

for (const major of [4, 5] as const) {
  for (const [script, preload] of [
    ['express-app.cjs', 'require'],
    ['express-app.mjs', 'import'],
  ] as const) {
    describe(`Express ${major}, ${script} (--${preload})`, () => {
      let running: FrameworkApp;
      beforeAll(async () => {
        running = await startExpress(major, script, preload);
      });
      afterAll(async () => stop(running));

      it(`runs the installed Express ${major}, and the instrumentation patched it`, async () => {
        expect(running.banner[0]!.startsWith(`${major}.`)).toBe(true);
        expect(await send(`${running.url}/hello`)).toMatchObject({ status: 200, body: 'hello' });
        const trace = await traceOf(running, '/hello', 2);
        expect(serverOf(trace).name).toBe('GET /hello');
        expect(named(trace, 'handler /hello').parentSpanId).toBe(serverOf(trace).spanId);
      });

      it('names the server span by the full template through mounted routers, and nests the handler and its work', async () => {
        const reply = await send(`${running.url}/api/users/7`);
        expect(reply).toMatchObject({ status: 200, body: '{"id":"7","profile":"profile-7"}' });
        const trace = await settledTraceOf(running, '/api/users/7', 3);
        const server = serverOf(trace);
        expect(server.name).toBe('GET /api/users/:id');
        expect(server.attributes['http.route']).toBe('/api/users/:id');
        const handler = named(trace, 'handler /api/users/:id');
        expect(handler.kind).toBe(INTERNAL);
        expect(handler.parentSpanId).toBe(server.spanId);
        expect(handler.attributes).toMatchObject({
          'http.route': '/api/users/:id',
          'code.function.name': 'getUser',
          'express.type': 'request_handler',
        });
        const client = onlyOne(
          trace.filter((s) => s.kind === CLIENT),
          'one client span',
        );
        expect(client.parentSpanId).toBe(handler.spanId);
        expect(BigInt(handler.endTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(client.endTimeUnixNano));
        expect(upstreamTraceparents.get('7')).toContain(client.spanId);
        // The default (`handler`): no middleware spans.
        expect(trace.map((s) => s.name).sort()).toEqual(['GET', 'GET /api/users/:id', 'handler /api/users/:id'].sort());
      });

      it('gives router.route(), app.all, arrays, regular expressions, wildcards and sub-apps their declared template', async () => {
        const cases: Array<[string, string, string, string?]> = [
          ['/api/users/3/settings', 'GET', '/api/users/:id/settings'],
          ['/api/users/3/settings', 'PUT', '/api/users/:id/settings'],
          ['/api/any/thing-1', 'DELETE', '/api/any/:thing'],
          ['/api/second', 'GET', '/api/first,/second'],
          ['/api/numbers/42', 'GET', '/api/numbers/(\\d+)'],
          ['/api/files/a/b/c.txt', 'GET', major >= 5 ? '/api/files/*path' : '/api/files/*'],
          ['/admin/stats/cpu', 'GET', '/admin/stats/:kind'],
          ['/api/skip', 'GET', '/api/skip'],
        ];
        for (const [path, method] of cases) {
          const reply = await send(`${running.url}${path}`, {
            method,
            headers: { 'content-type': 'application/json' },
            body: method === 'PUT' ? '{"a":1}' : undefined,
          });
          expect({ path, status: reply.status }).toEqual({ path, status: 200 });
        }
        for (const [path, method, route] of cases) {
          const servers =
            (await traceOf(running, path, 2)) &&
            running.receiver.spans.filter(
              (s) => s.kind === SERVER && s.attributes['url.path'] === path && s.attributes['http.request.method'] === method,
            );
          const server = onlyOne(servers, `one ${method} ${path}`);
          const expected = route === '/api/numbers/(\\d+)' ? `/api${String(/^\/numbers\/(\d+)$/)}` : route;
          expect({ path, name: server.name, route: server.attributes['http.route'] }).toEqual({
            path,
            name: `${method} ${expected}`,
            route: expected,
          });
        }
      });

      it('keeps the method-only name and no http.route when no route matched', async () => {
        expect((await send(`${running.url}/api/nothing-here`)).status).toBe(404);
        const server = serverOf(await traceOf(running, '/api/nothing-here', 1));
        expect(server.name).toBe('GET');
        expect(server.attributes['http.route']).toBeUndefined();
        expect(server.attributes['http.response.status_code']).toBe(404);
      });

      it('ends callback, streaming, redirect and sendFile handlers with their response', async () => {
        expect(await send(`${running.url}/api/later/8`)).toMatchObject({ status: 200, body: '{"later":"8"}' });
        expect(await send(`${running.url}/api/stream`)).toMatchObject({ status: 200, body: 'abc' });
        expect((await send(`${running.url}/api/redirect`)).status).toBe(302);
        expect((await send(`${running.url}/api/source`)).body).toContain('An Express application with no tracing code');
        const later = named(await traceOf(running, '/api/later/8', 2), 'handler /api/later/:id');
        expect(BigInt(later.endTimeUnixNano) - BigInt(later.startTimeUnixNano)).toBeGreaterThanOrEqual(15_000_000n);
        for (const [path, route] of [
          ['/api/stream', '/api/stream'],
          ['/api/redirect', '/api/redirect'],
          ['/api/source', '/api/source'],
        ]) {
          const trace = await traceOf(running, path!, 2);
          const handler = named(trace, `handler ${route}`);
          expect(handler.status.code).toBe(UNSET);
          expect(BigInt(handler.endTimeUnixNano)).toBeLessThanOrEqual(BigInt(serverOf(trace).endTimeUnixNano));
        }
      });

      it('records a thrown error on the handler span, and its type on the server span', async () => {
        const reply = await send(`${running.url}/api/boom`);
        expect(reply).toMatchObject({ status: 500, body: '{"message":"kaboom"}' });
        const trace = await traceOf(running, '/api/boom', 2);
        const handler = named(trace, 'handler /api/boom');
        expect(handler.status).toEqual({ code: ERROR, message: 'kaboom' });
        expect(handler.events.map((e) => e.name)).toEqual(['exception']);
        expect(handler.events[0]!.attributes['exception.type']).toBe('TypeError');
        expect(serverOf(trace).attributes).toMatchObject({ 'error.type': 'TypeError', 'http.response.status_code': 500 });
        expect(serverOf(trace).status.code).toBe(ERROR);
      });

      it('records an error passed to next() later, and leaves a handled 4xx a client error', async () => {
        expect(await send(`${running.url}/api/next-error`)).toMatchObject({ status: 500, body: '{"message":"passed on"}' });
        const failed = await traceOf(running, '/api/next-error', 2);
        expect(named(failed, 'handler /api/next-error').status).toEqual({ code: ERROR, message: 'passed on' });
        expect(serverOf(failed).attributes['error.type']).toBe('RangeError');

        expect(await send(`${running.url}/api/teapot`)).toMatchObject({ status: 418, body: '{"message":"short and stout"}' });
        const teapot = await traceOf(running, '/api/teapot', 2);
        expect(named(teapot, 'handler /api/teapot').status.code).toBe(ERROR);
        expect(serverOf(teapot).status.code).toBe(UNSET);
        expect(serverOf(teapot).attributes['error.type']).toBeUndefined();
      });

      if (major >= 5) {
        it('records the rejection of an async handler (Express 5 passes it to the error handler)', async () => {
          expect(await send(`${running.url}/api/rejected`)).toMatchObject({ status: 500, body: '{"message":"rejected"}' });
          const trace = await traceOf(running, '/api/rejected', 2);
          expect(named(trace, 'handler /api/rejected').status).toEqual({ code: ERROR, message: 'rejected' });
          expect(serverOf(trace).attributes['error.type']).toBe('SyntaxError');
        });
      }

      it('runs an unsampled request as usual, records only the failed one (keep rule) and propagates the trace', async () => {
        const traceId = `e${major}${script.length}`.padEnd(32, 'b');
        const headers = { traceparent: `00-${traceId}-00f067aa0ba902b7-00` };
        expect(await send(`${running.url}/api/users/u${major}`, { headers })).toMatchObject({
          status: 200,
          body: `{"id":"u${major}","profile":"profile-u${major}"}`,
        });
        expect((await send(`${running.url}/api/boom`, { headers })).status).toBe(500);
        expect((await send(`${running.url}/api/later/1`, { headers })).status).toBe(200);
        expect(upstreamTraceparents.get(`u${major}`)).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`));
        await send(`${running.url}/api/users/after-u${major}`);
        await traceOf(running, `/api/users/after-u${major}`, 3);
        expect(keptStatusesOf(running, traceId)).toEqual([500]);
      });

      it('keeps 50 concurrent requests apart', async () => {
        const ids = Array.from({ length: 50 }, (_, i) => `c${i}`);
        const replies = await Promise.all(ids.map((id) => send(`${running.url}/api/users/${id}`)));
        replies.forEach((reply, i) => expect(reply.body).toBe(`{"id":"${ids[i]}","profile":"profile-${ids[i]}"}`));
        for (const id of ids) {
          const trace = await traceOf(running, `/api/users/${id}`, 3);
          const server = serverOf(trace);
          expect(server.name).toBe('GET /api/users/:id');
          const handler = named(trace, 'handler /api/users/:id');
          expect(handler.parentSpanId).toBe(server.spanId);
          const client = onlyOne(
            trace.filter((s) => s.kind === CLIENT),
            'one client span',
          );
          expect(client.parentSpanId).toBe(handler.spanId);
          expect(client.attributes['url.full']).toMatch(new RegExp(`/profile/${id}$`));
        }
      });
    });
  }
}

describe('two Express services, one calling PostgreSQL and the other', () => {
  beforeAll(requirePostgres);

  it('make one trace, with each side named after its route and the handler the parent of its query and call', async () => {
    const callee = await startExpress(5, 'express-app.cjs', 'require');
    const caller = await startFrameworkApp({
      script: 'express-app.mjs',
      preload: 'import',
      framework: 'express',
      dir: { fixtures: ['express-app-build.cjs'], aliases: { express: INSTALLED[4] }, links: ['pg'] },
      env: { UPSTREAM: callee.url, OTEL_SERVICE_NAME: 'orders' },
    });
    try {
      expect(await send(`${caller.url}/api/orders/12`)).toMatchObject({ status: 200, body: '{"order":12,"profile":"profile-12"}' });
      // Each service exports to its own receiver: together, one trace.
      const trace = [...(await settledTraceOf(caller, '/api/orders/12', 4)), ...(await settledTraceOf(callee, '/profile/12', 2))];
      expect(new Set(trace.map((s) => s.traceId)).size).toBe(1);
      const [server, calleeServer] = ['/api/orders/12', '/profile/12'].map((path) =>
        onlyOne(
          trace.filter((s) => s.kind === SERVER && s.attributes['url.path'] === path),
          path,
        ),
      );
      expect(server!.name).toBe('GET /api/orders/:id');
      const handler = named(trace, 'handler /api/orders/:id');
      expect(handler.parentSpanId).toBe(server!.spanId);
      const query = named(trace, 'SELECT');
      const call = onlyOne(
        trace.filter((s) => s.kind === CLIENT && s.attributes['url.full'] !== undefined),
        'one http client span',
      );
      expect([query.parentSpanId, call.parentSpanId]).toEqual([handler.spanId, handler.spanId]);
      expect(calleeServer!.name).toBe('GET /profile/:id');
      expect(calleeServer!.parentSpanId).toBe(call.spanId);
      expect(named(trace, 'handler /profile/:id').parentSpanId).toBe(calleeServer!.spanId);
    } finally {
      await stop(caller);
      await stop(callee);
    }
  });
});

describe('OTEL_INSTRUMENTATION_EXPRESS_SPANS=all', () => {
  for (const major of [4, 5] as const) {
    it(`Express ${major}: a span for each middleware, router and sub-app that ran, nested as the application nests them`, async () => {
      const running = await startExpress(major, 'express-app.cjs', 'require', { OTEL_INSTRUMENTATION_EXPRESS_SPANS: 'all' });
      try {
        expect((await send(`${running.url}/api/users/9`)).status).toBe(200);
        const trace = await settledTraceOf(running, '/api/users/9', 8);
        const server = serverOf(trace);
        const json = named(trace, 'middleware jsonParser');
        const timer = named(trace, 'middleware requestTimer');
        const api = named(trace, 'router /api');
        const auth = named(trace, 'middleware apiAuth');
        const users = named(trace, 'router /api/users');
        const handler = named(trace, 'handler /api/users/:id');
        for (const span of [json, timer, api]) expect(span.parentSpanId).toBe(server.spanId);
        expect(auth.parentSpanId).toBe(api.spanId);
        expect(users.parentSpanId).toBe(api.spanId);
        expect(handler.parentSpanId).toBe(users.spanId);
        expect(timer.attributes).toMatchObject({ 'express.type': 'middleware', 'code.function.name': 'requestTimer' });
        expect(api.attributes['express.type']).toBe('router');
        // Express 4's own query and expressInit middleware are not the application's.
        expect(trace.some((s) => /query|expressInit/.test(s.name))).toBe(false);
        // A middleware ends when it calls next; a router the request was answered in ends with the response.
        expect(BigInt(timer.endTimeUnixNano)).toBeLessThanOrEqual(BigInt(api.startTimeUnixNano));
        expect(BigInt(api.endTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(handler.endTimeUnixNano));

        expect((await send(`${running.url}/admin/stats/mem`)).status).toBe(200);
        const admin = await settledTraceOf(running, '/admin/stats/mem', 5);
        expect(named(admin, 'app /admin').attributes['express.type']).toBe('app');
        expect(named(admin, 'handler /admin/stats/:kind').parentSpanId).toBe(named(admin, 'app /admin').spanId);

        expect((await send(`${running.url}/api/boom`)).status).toBe(500);
        const boom = await settledTraceOf(running, '/api/boom', 7);
        const errorHandler = named(boom, 'middleware errorHandler');
        expect(errorHandler.parentSpanId).toBe(serverOf(boom).spanId);
        expect(errorHandler.status.code).toBe(UNSET);
        // The routers the error left through are not where it happened.
        expect(named(boom, 'router /api').status.code).toBe(UNSET);
        expect(named(boom, 'handler /api/boom').status.code).toBe(ERROR);
      } finally {
        await stop(running);
      }
    });
  }
});

describe('OTEL_INSTRUMENTATION_EXPRESS_SPANS=route', () => {
  it('names the server span and makes no span of its own', async () => {
    const running = await startExpress(5, 'express-app.mjs', 'import', { OTEL_INSTRUMENTATION_EXPRESS_SPANS: 'route' });
    try {
      expect((await send(`${running.url}/api/users/5`)).status).toBe(200);
      const trace = await settledTraceOf(running, '/api/users/5', 2);
      expect(serverOf(trace).name).toBe('GET /api/users/:id');
      expect(trace.filter((s) => s.kind === INTERNAL)).toEqual([]);
      expect(
        onlyOne(
          trace.filter((s) => s.kind === CLIENT),
          'one client span',
        ).parentSpanId,
      ).toBe(serverOf(trace).spanId);
    } finally {
      await stop(running);
    }
  });
});

describe('Express behaves exactly as without the agent', () => {
  for (const major of [4, 5] as const) {
    it(`Express ${major}: answers every route the same, with all spans on`, async () => {
      const [traced, bare] = await Promise.all([
        startExpress(major, 'express-app.cjs', 'require', { OTEL_INSTRUMENTATION_EXPRESS_SPANS: 'all' }),
        startExpress(major, 'express-app.cjs', 'none'),
      ]);
      try {
        const requests: AppRequest[] = [
          ['/hello', {}],
          ['/api/users/3', {}],
          ['/api/users/3/settings', {}],
          ['/api/users/3/settings', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"x":true}' }],
          ['/api/any/z', { method: 'POST' }],
          ['/api/first', {}],
          ['/api/numbers/7', {}],
          ['/api/files/x/y', {}],
          ['/api/later/4', {}],
          ['/api/stream', {}],
          ['/api/redirect', {}],
          ['/api/source', {}],
          ['/api/boom', {}],
          ['/api/next-error', {}],
          ['/api/rejected', {}],
          ['/api/teapot', {}],
          ['/api/skip', {}],
          ['/api/users/1', { headers: { 'x-deny': 'yes' } }],
          ['/admin/stats/io', {}],
          ['/nope', {}],
          ['/api/users/1', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' }],
        ];
        await expectSameAnswers(traced, bare, requests, (body) => body.replace(/\/tmp\/tracelet-app-[^/]+\//g, ''));
      } finally {
        await Promise.all([stop(traced), stop(bare)]);
      }
    });
  }
});
