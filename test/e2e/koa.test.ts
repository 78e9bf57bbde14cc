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
import { CLIENT, ERROR, INTERNAL, SERVER, UNSET } from '../helpers/span-kinds';
import type { ReceivedSpan } from '../helpers/otlp-receiver';

/** Koa 2 and 3 installed side by side (npm aliases), each with the @koa/router major it is tested with. */
const INSTALLED = {
  2: { koa: 'koa-v2', router: 'koa-router-v12', routerMajor: 12 },
  3: { koa: 'koa-v3', router: 'koa-router-v13', routerMajor: 13 },
} as const;

type Major = keyof typeof INSTALLED;

function startKoa(major: Major, script: 'koa-app.cjs' | 'koa-app.mjs', preload: Preload, env: Record<string, string> = {}) {
  return startFrameworkApp({
    script,
    preload,
    framework: 'koa',
    dir: { fixtures: ['koa-app-build.cjs'], aliases: { koa: INSTALLED[major].koa, '@koa/router': INSTALLED[major].router } },
    env,
  });
}

const stop = stopFrameworkApp;

const clientOf = (trace: readonly ReceivedSpan[]): ReceivedSpan =>
  onlyOne(
    trace.filter((s) => s.kind === CLIENT),
    'one client span',
  );

const nanos = (time: string) => BigInt(time);

/** The server span of the one request to this path with this method. */
function serverFor(running: FrameworkApp, path: string, method: string): ReceivedSpan {
  return onlyOne(
    running.receiver.spans.filter((s) => s.kind === SERVER && s.attributes['url.path'] === path && s.attributes['http.request.method'] === method),
    `one ${method} ${path}`,
  );
}

for (const major of [2, 3] as const) {
  for (const [script, preload] of [
    ['koa-app.cjs', 'require'],
    ['koa-app.mjs', 'import'],
  ] as const) {
    describe(`Koa ${major} with @koa/router ${INSTALLED[major].routerMajor}, ${script} (--${preload})`, () => {
      let running: FrameworkApp;
      beforeAll(async () => {
        running = await startKoa(major, script, preload);
      });
      afterAll(async () => stop(running));

      it(`runs the installed Koa ${major} and @koa/router ${INSTALLED[major].routerMajor}, and the instrumentation patched them`, async () => {
        expect(running.banner[0]!.startsWith(`${major}.`)).toBe(true);
        expect(running.banner[1]!.startsWith(`${INSTALLED[major].routerMajor}.`)).toBe(true);
        expect(await send(`${running.url}/hello`)).toMatchObject({ status: 200, body: 'hello' });
        const trace = await traceOf(running, '/hello', 2);
        expect(serverOf(trace).name).toBe('GET /hello');
        expect(named(trace, 'handler /hello').parentSpanId).toBe(serverOf(trace).spanId);
      });

      it('names the server span by the route template of a prefixed router, and nests the handler and its work', async () => {
        const reply = await send(`${running.url}/api/users/7`);
        expect(reply).toMatchObject({ status: 200, body: '{"id":"7","profile":"profile-7"}' });
        const trace = await settledTraceOf(running, '/api/users/7', 3);
        const server = serverOf(trace);
        expect(server.name).toBe('GET /api/users/:id');
        expect(server.attributes['http.route']).toBe('/api/users/:id');
        expect(trace.filter((s) => s.kind === SERVER)).toHaveLength(1);
        const handler = named(trace, 'handler /api/users/:id');
        expect(handler.kind).toBe(INTERNAL);
        expect(handler.parentSpanId).toBe(server.spanId);
        expect(handler.attributes).toMatchObject({ 'http.route': '/api/users/:id', 'code.function.name': 'getUser', 'koa.type': 'request_handler' });
        const client = clientOf(trace);
        expect(client.parentSpanId).toBe(handler.spanId);
        expect(nanos(handler.endTimeUnixNano)).toBeGreaterThanOrEqual(nanos(client.endTimeUnixNano));
        expect(upstreamTraceparents.get('7')).toContain(client.spanId);
        // The default (`handler`): no middleware or router spans.
        expect(trace.map((s) => s.name).sort()).toEqual(['GET', 'GET /api/users/:id', 'handler /api/users/:id'].sort());
      });

      it('gives nested routers, router.prefix(), route-level middleware and the route that answered their full template', async () => {
        const cases: Array<[string, string, string, string]> = [
          ['/api/v1/items/9', 'GET', '/api/v1/items/:itemId', '{"item":"9"}'],
          ['/admin/stats/cpu', 'GET', '/admin/stats/:kind', '{"kind":"cpu"}'],
          // /api/users/:id matches too; the route declared first answered.
          ['/api/users/me', 'GET', '/api/users/me', '{"me":true}'],
          ['/api/users/4', 'PUT', '/api/users/:id', '{"updated":"4"}'],
          // A route-level middleware, then the handler; router.param() ran first.
          ['/api/guarded/5', 'GET', '/api/guarded/:id', '{"guarded":"5","seen":"5"}'],
        ];
        for (const [path, method, , body] of cases) {
          const query = path.startsWith('/api/guarded') ? '?tenant=acme' : '';
          expect({ path, ...(await send(`${running.url}${path}${query}`, { method })) }).toMatchObject({ path, status: 200, body });
        }
        for (const [path, method, route] of cases) {
          await traceOf(running, path, 2);
          const server = serverFor(running, path, method);
          expect({ path, name: server.name, route: server.attributes['http.route'] }).toEqual({ path, name: `${method} ${route}`, route });
          const handler = onlyOne(
            running.receiver.spans.filter((s) => s.traceId === server.traceId && s.kind === INTERNAL),
            `one handler span for ${path}`,
          );
          expect(handler.name).toBe(`handler ${route}`);
          expect(handler.parentSpanId).toBe(server.spanId);
        }
        const guarded = await traceOf(running, '/api/guarded/5', 2);
        // The route's last function is its handler; its middleware and the param hook run inside its span.
        expect(named(guarded, 'handler /api/guarded/:id').attributes['code.function.name']).toBe('guarded');
        expect(named(await traceOf(running, '/api/users/me', 2), 'handler /api/users/me').attributes['code.function.name']).toBe('me');
      });

      it('keeps the method-only name and no http.route when no route matched', async () => {
        expect(await send(`${running.url}/api/nothing-here`)).toMatchObject({ status: 404, body: 'Not Found' });
        const missing = serverOf(await settledTraceOf(running, '/api/nothing-here', 1));
        expect(missing.name).toBe('GET');
        expect(missing.attributes['http.route']).toBeUndefined();
        expect(missing.attributes['http.response.status_code']).toBe(404);
        expect(running.receiver.spans.some((s) => s.traceId === missing.traceId && s.kind === INTERNAL)).toBe(false);

        // A path that matches a route of another method: allowedMethods answers 405, no route ran.
        expect((await send(`${running.url}/api/users/1`, { method: 'DELETE' })).status).toBe(405);
        await traceOf(running, '/api/users/1', 1);
        const notAllowed = serverFor(running, '/api/users/1', 'DELETE');
        expect(notAllowed.name).toBe('DELETE');
        expect(notAllowed.attributes['http.route']).toBeUndefined();
      });

      it('ends delayed, streaming and redirecting handlers with their work', async () => {
        expect(await send(`${running.url}/api/later/8`)).toMatchObject({ status: 200, body: '{"later":"8"}' });
        expect(await send(`${running.url}/api/stream`)).toMatchObject({ status: 200, body: 'abc' });
        expect((await send(`${running.url}/api/old`)).status).toBe(302);
        const later = named(await traceOf(running, '/api/later/8', 2), 'handler /api/later/:id');
        expect(nanos(later.endTimeUnixNano) - nanos(later.startTimeUnixNano)).toBeGreaterThanOrEqual(15_000_000n);
        for (const [path, route] of [
          ['/api/stream', '/api/stream'],
          ['/api/old', '/api/old'],
        ] as const) {
          const trace = await traceOf(running, path, 2);
          const handler = named(trace, `handler ${route}`);
          expect(handler.status.code).toBe(UNSET);
          expect(nanos(handler.endTimeUnixNano)).toBeLessThanOrEqual(nanos(serverOf(trace).endTimeUnixNano));
        }
      });

      it("records a thrown error on the handler span and its type on the server span, whether the app's error middleware or Koa answers", async () => {
        expect(await send(`${running.url}/api/boom`)).toMatchObject({ status: 500, body: '{"error":"kaboom"}' });
        expect(await send(`${running.url}/api/boom`, { headers: { 'x-koa-handles': 'yes' } })).toMatchObject({
          status: 500,
          body: 'Internal Server Error',
        });
        const servers = await running.receiver.waitUntil(
          (spans) => {
            const found = spans.filter((s) => s.kind === SERVER && s.attributes['url.path'] === '/api/boom');
            return found.length === 2 && spans.filter((s) => s.name === 'handler /api/boom').length === 2 ? found : undefined;
          },
          10_000,
          () => 'two /api/boom traces',
        );
        for (const server of servers) {
          const handler = onlyOne(
            running.receiver.spans.filter((s) => s.traceId === server.traceId && s.name === 'handler /api/boom'),
            'handler span',
          );
          expect(handler.parentSpanId).toBe(server.spanId);
          expect(handler.status).toEqual({ code: ERROR, message: 'kaboom' });
          expect(handler.events.map((e) => e.name)).toEqual(['exception']);
          expect(handler.events[0]!.attributes['exception.type']).toBe('TypeError');
          expect(server.status.code).toBe(ERROR);
          expect(server.attributes).toMatchObject({ 'error.type': 'TypeError', 'http.response.status_code': 500, 'http.route': '/api/boom' });
        }
      });

      it("leaves an error that the app's error middleware answers with a 4xx a client error, and gives a 5xx it answers its type", async () => {
        expect(await send(`${running.url}/api/teapot`)).toMatchObject({ status: 418, body: '{"error":"short and stout"}' });
        const teapot = await traceOf(running, '/api/teapot', 2);
        expect(named(teapot, 'handler /api/teapot').status).toEqual({ code: ERROR, message: 'short and stout' });
        expect(serverOf(teapot).status.code).toBe(UNSET);
        expect(serverOf(teapot).attributes['error.type']).toBeUndefined();

        expect(await send(`${running.url}/api/unavailable`)).toMatchObject({ status: 503, body: '{"error":"upstream down"}' });
        const unavailable = await traceOf(running, '/api/unavailable', 2);
        expect(named(unavailable, 'handler /api/unavailable').status).toEqual({ code: ERROR, message: 'upstream down' });
        expect(serverOf(unavailable).attributes).toMatchObject({ 'error.type': 'RangeError', 'http.response.status_code': 503 });
      });

      it('runs an unsampled request as usual, records only the failed one (keep rule) and propagates the trace', async () => {
        const traceId = `${major}${script.length}`.padEnd(32, 'c');
        const headers = { traceparent: `00-${traceId}-00f067aa0ba902b7-00` };
        expect(await send(`${running.url}/api/users/u${major}`, { headers })).toMatchObject({
          status: 200,
          body: `{"id":"u${major}","profile":"profile-u${major}"}`,
        });
        expect(await send(`${running.url}/api/boom`, { headers })).toMatchObject({ status: 500, body: '{"error":"kaboom"}' });
        expect(await send(`${running.url}/api/teapot`, { headers })).toMatchObject({ status: 418, body: '{"error":"short and stout"}' });
        expect((await send(`${running.url}/api/later/1`, { headers })).status).toBe(200);
        expect((await send(`${running.url}/api/guarded/2?tenant=acme`, { headers })).body).toBe('{"guarded":"2","seen":"2"}');
        expect((await send(`${running.url}/api/users/1`, { headers, method: 'DELETE' })).status).toBe(405);
        // Same trace, not sampled, parented to the (unrecorded) server span.
        expect(upstreamTraceparents.get(`u${major}`)).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`));
        expect(upstreamTraceparents.get(`u${major}`)).not.toContain('00f067aa0ba902b7');
        // A sampled request after them is exported; of the unsampled trace, only what the keep rule recorded.
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
          const client = clientOf(trace);
          expect(client.parentSpanId).toBe(handler.spanId);
          expect(client.attributes['url.full']).toMatch(new RegExp(`/profile/${id}$`));
        }
      });
    });
  }
}

describe('OTEL_INSTRUMENTATION_KOA_SPANS=all', () => {
  for (const major of [2, 3] as const) {
    it(`Koa ${major}: a span for each middleware and router that ran, nested as the onion runs`, async () => {
      const running = await startKoa(major, 'koa-app.cjs', 'require', { OTEL_INSTRUMENTATION_KOA_SPANS: 'all' });
      try {
        expect((await send(`${running.url}/api/users/9`)).status).toBe(200);
        const trace = await settledTraceOf(running, '/api/users/9', major === 2 ? 9 : 8);
        const server = serverOf(trace);
        const errorHandler = named(trace, 'middleware errorHandler');
        const timer = named(trace, 'middleware requestTimer');
        const anonymous = named(trace, 'middleware anonymous');
        const api = named(trace, 'router /api');
        const auth = named(trace, 'middleware apiAuth');
        const handler = named(trace, 'handler /api/users/:id');
        // Each is the child of the one that called next(): the chain of the onion.
        const chain = [errorHandler, timer, anonymous];
        if (major === 2) chain.push(named(trace, 'middleware legacyGenerator'));
        chain.push(api, auth, handler);
        expect(chain[0]!.parentSpanId).toBe(server.spanId);
        for (let i = 1; i < chain.length; i++)
          expect({ span: chain[i]!.name, parent: chain[i]!.parentSpanId }).toEqual({ span: chain[i]!.name, parent: chain[i - 1]!.spanId });
        for (let i = 1; i < chain.length; i++) {
          // And contains it in time.
          expect(nanos(chain[i - 1]!.startTimeUnixNano)).toBeLessThanOrEqual(nanos(chain[i]!.startTimeUnixNano));
          expect(nanos(chain[i - 1]!.endTimeUnixNano)).toBeGreaterThanOrEqual(nanos(chain[i]!.endTimeUnixNano));
        }
        expect(clientOf(trace).parentSpanId).toBe(handler.spanId);
        expect(timer.attributes).toEqual({ 'koa.type': 'middleware', 'code.function.name': 'requestTimer' });
        expect(anonymous.attributes).toEqual({ 'koa.type': 'middleware' });
        expect(api.attributes).toEqual({ 'koa.type': 'router' });
        expect(auth.attributes).toMatchObject({ 'koa.type': 'middleware', 'code.function.name': 'apiAuth' });
        expect(handler.attributes['koa.type']).toBe('request_handler');
        for (const span of trace) expect(span.name).not.toMatch(/[\\/]node_modules|\.c?js/);

        // A thrown error is recorded where it happened only, not on the spans it passes through.
        expect((await send(`${running.url}/api/boom`)).status).toBe(500);
        const boom = await settledTraceOf(running, '/api/boom', major === 2 ? 8 : 7);
        expect(named(boom, 'handler /api/boom').status.code).toBe(ERROR);
        for (const name of ['router /api', 'middleware apiAuth', 'middleware requestTimer', 'middleware errorHandler']) {
          expect({ name, status: named(boom, name).status.code }).toEqual({ name, status: UNSET });
        }
        expect(serverOf(boom).attributes['error.type']).toBe('TypeError');

        // A middleware that refuses: its span has the error, no handler ran, a 4xx is no server error.
        expect(await send(`${running.url}/api/users/9`, { headers: { 'x-deny': 'yes' } })).toMatchObject({ status: 401, body: '{"error":"denied"}' });
        const denied = await traceOf(running, '/api/users/9', 6, 401);
        expect(named(denied, 'middleware apiAuth').status).toEqual({ code: ERROR, message: 'denied' });
        expect(denied.some((s) => s.name.startsWith('handler '))).toBe(false);
        expect(serverOf(denied).status.code).toBe(UNSET);

        // No route: the middleware and routers that ran, and the method-only name.
        expect((await send(`${running.url}/nope`)).status).toBe(404);
        const nope = await settledTraceOf(running, '/nope', 5);
        expect(serverOf(nope).name).toBe('GET');
        named(nope, 'router /admin');
        expect(nope.some((s) => s.name.startsWith('handler '))).toBe(false);
      } finally {
        await stop(running);
      }
    });
  }
});

describe('OTEL_INSTRUMENTATION_KOA_SPANS', () => {
  for (const [mode, handler] of [
    [undefined, true],
    ['handler', true],
    ['route', false],
  ] as const) {
    it(`=${mode ?? '(unset: handler)'}: route naming${handler ? ' and the handler span' : ' only'}, no middleware spans`, async () => {
      const running = await startKoa(3, 'koa-app.mjs', 'import', mode === undefined ? {} : { OTEL_INSTRUMENTATION_KOA_SPANS: mode });
      try {
        expect((await send(`${running.url}/api/users/1`)).status).toBe(200);
        const trace = await settledTraceOf(running, '/api/users/1', handler ? 3 : 2);
        expect(serverOf(trace).name).toBe('GET /api/users/:id');
        expect(trace.some((s) => s.attributes['koa.type'] === 'middleware' || s.attributes['koa.type'] === 'router')).toBe(false);
        expect(trace.filter((s) => s.kind === INTERNAL).map((s) => s.name)).toEqual(handler ? ['handler /api/users/:id'] : []);
        expect(clientOf(trace).parentSpanId).toBe(handler ? named(trace, 'handler /api/users/:id').spanId : serverOf(trace).spanId);
        // Errors still give the server span their type.
        expect((await send(`${running.url}/api/boom`, { headers: { 'x-koa-handles': 'yes' } })).status).toBe(500);
        expect(serverOf(await traceOf(running, '/api/boom', 1)).attributes['error.type']).toBe('TypeError');
      } finally {
        await stop(running);
      }
    });
  }
});

describe('Koa behaves exactly as without the agent', () => {
  for (const major of [2, 3] as const) {
    it(`Koa ${major}: answers every route the same, with all spans on`, async () => {
      const [traced, bare] = await Promise.all([
        startKoa(major, 'koa-app.cjs', 'require', { OTEL_INSTRUMENTATION_KOA_SPANS: 'all' }),
        startKoa(major, 'koa-app.cjs', 'none'),
      ]);
      try {
        const requests: AppRequest[] = [
          ['/hello', {}],
          ['/api/users/3', {}],
          ['/api/users/me', {}],
          ['/api/users/3', { method: 'PUT', body: '{"x":true}' }],
          ['/api/users/3', { method: 'DELETE' }],
          ['/api/users/3', { method: 'OPTIONS' }],
          ['/api/users/3', { method: 'HEAD' }],
          ['/api/users/3', { headers: { 'x-deny': 'yes' } }],
          ['/api/guarded/3?tenant=acme', {}],
          ['/api/guarded/3', {}],
          ['/api/v1/items/2', {}],
          ['/admin/stats/io', {}],
          ['/api/later/4', {}],
          ['/api/stream', {}],
          ['/api/old', {}],
          ['/api/boom', {}],
          ['/api/boom', { headers: { 'x-koa-handles': 'yes' } }],
          ['/api/teapot', {}],
          ['/api/teapot', { headers: { 'x-koa-handles': 'yes' } }],
          ['/api/unavailable', {}],
          ['/api/nothing', {}],
          ['/nope', {}],
        ];
        await expectSameAnswers(traced, bare, requests);
      } finally {
        await Promise.all([stop(traced), stop(bare)]);
      }
    });
  }
});
