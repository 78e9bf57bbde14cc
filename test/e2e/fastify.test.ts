import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  named,
  serverOf,
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
import type { Preload } from '../helpers/run-app';
import { CLIENT, ERROR, INTERNAL, SERVER } from '../helpers/span-kinds';

/** Fastify 4 and 5 installed side by side (npm aliases), each with the @fastify/cors of its line. */
const VERSIONS = {
  4: { fastify: 'fastify-v4', cors: 'fastify-cors-v4' },
  5: { fastify: 'fastify-v5', cors: 'fastify-cors-v5' },
} as const;

function startFastify(major: 4 | 5, script: 'fastify-app.cjs' | 'fastify-app.mjs', preload: Preload, env: Record<string, string> = {}) {
  return startFrameworkApp({
    script,
    preload,
    framework: 'fastify',
    dir: {
      fixtures: ['fastify-app-build.cjs'],
      links: ['@opentelemetry/api'],
      linkedAliases: { fastify: VERSIONS[major].fastify, '@fastify/cors': VERSIONS[major].cors },
    },
    env,
  });
}

const stop = stopFrameworkApp;

for (const major of [4, 5] as const) {
  for (const [script, preload] of [
    ['fastify-app.cjs', 'require'],
    ['fastify-app.mjs', 'import'],
  ] as const) {
    describe(`Fastify ${major}, ${script} (--${preload})`, () => {
      let running: FrameworkApp;
      beforeAll(async () => {
        running = await startFastify(major, script, preload, { OTEL_INSTRUMENTATION_FASTIFY_SPANS: 'all' });
      });
      afterAll(async () => stop(running));

      it(`runs the installed Fastify ${major}, and the instrumentation patched it`, async () => {
        expect(running.banner[0]!.startsWith(`${major}.`)).toBe(true);
        await send(`${running.url}/hello`);
        const trace = await traceOf(running, '/hello', 2);
        expect(serverOf(trace).name).toBe('GET /hello');
      });

      it('names the server span by the route template and nests hooks, handler and downstream work under it', async () => {
        const reply = await send(`${running.url}/api/users/7`);
        expect(reply).toMatchObject({ status: 200, body: '{"id":"7","profile":"profile-7"}' });
        const trace = await traceOf(running, '/api/users/7', 8);
        const server = serverOf(trace);
        expect(server.name).toBe('GET /api/users/:id');
        expect(server.attributes['http.route']).toBe('/api/users/:id');
        expect(trace.filter((s) => s.kind === SERVER)).toHaveLength(1);

        const authenticate = named(trace, 'onRequest authenticate');
        const tenant = named(trace, 'preValidation checkTenant');
        const preHandler = named(trace, 'preHandler anonymous');
        const handler = named(trace, 'handler /api/users/:id');
        for (const span of [authenticate, tenant, preHandler, handler]) {
          expect(span.kind).toBe(INTERNAL);
          expect(span.parentSpanId).toBe(server.spanId);
        }
        expect(authenticate.attributes).toMatchObject({ 'fastify.hook.name': 'onRequest', 'code.function.name': 'authenticate' });
        expect(tenant.attributes['fastify.hook.name']).toBe('preValidation');
        expect(handler.attributes).toMatchObject({ 'http.route': '/api/users/:id', 'code.function.name': 'getUser' });
        // @fastify/cors registers an onRequest hook of its own: traced too, named after the plugin.
        const cors = trace.filter((s) => s.attributes['fastify.plugin.name'] === '@fastify/cors');
        expect(cors).toHaveLength(1);
        expect(cors[0]!.parentSpanId).toBe(server.spanId);
        // A plugin named by its file's absolute path (as @fastify/autoload does) is named by its package, briefly.
        const audit = named(trace, 'onRequest @acme/fastify-audit');
        expect(audit.attributes['fastify.plugin.name']).toBe('@acme/fastify-audit');
        for (const span of trace) expect(span.name).not.toContain('/node_modules/');

        const client = trace.find((s) => s.kind === CLIENT)!;
        expect(client.parentSpanId).toBe(handler.spanId);
        expect(BigInt(handler.endTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(client.endTimeUnixNano));
        // Hooks run before the handler, in order.
        expect(BigInt(authenticate.startTimeUnixNano)).toBeLessThan(BigInt(handler.startTimeUnixNano));
      });

      it('ends callback-style, stream and hijacked handlers correctly', async () => {
        expect(await send(`${running.url}/api/later/8`)).toMatchObject({ status: 200, body: '{"later":"8"}' });
        expect(await send(`${running.url}/api/stream`)).toMatchObject({ status: 200, body: 'abc' });
        expect(await send(`${running.url}/api/hijack`)).toMatchObject({ status: 200, body: 'hijacked' });
        // A lazy thenable's work runs once, as without the agent.
        expect(await send(`${running.url}/api/lazy`)).toMatchObject({ status: 200, body: '{"runs":1}' });
        named(await traceOf(running, '/api/lazy', 6), 'handler /api/lazy');
        const later = named(await traceOf(running, '/api/later/8', 6), 'handler /api/later/:id');
        expect(BigInt(later.endTimeUnixNano) - BigInt(later.startTimeUnixNano)).toBeGreaterThanOrEqual(15_000_000n);
        const stream = await traceOf(running, '/api/stream', 6);
        named(stream, 'handler /api/stream');
        expect(serverOf(stream).attributes['http.response.status_code']).toBe(200);
        const hijack = await traceOf(running, '/api/hijack', 6);
        named(hijack, 'handler /api/hijack');
        expect(serverOf(hijack).name).toBe('GET /api/hijack');
      });

      it('records a thrown error on the handler span and its type on the server span', async () => {
        const reply = await send(`${running.url}/api/boom`);
        expect(reply.status).toBe(500);
        expect(JSON.parse(reply.body)).toMatchObject({ statusCode: 500, message: 'kaboom' });
        const trace = await traceOf(running, '/api/boom', 6);
        const handler = named(trace, 'handler /api/boom');
        expect(handler.status).toEqual({ code: ERROR, message: 'kaboom' });
        expect(handler.events.map((e) => e.name)).toEqual(['exception']);
        expect(handler.events[0]!.attributes['exception.type']).toBe('TypeError');
        const server = serverOf(trace);
        expect(server.status.code).toBe(ERROR);
        expect(server.attributes).toMatchObject({ 'error.type': 'TypeError', 'http.response.status_code': 500 });
      });

      it('records an error sent through the reply of a callback-style handler', async () => {
        expect((await send(`${running.url}/api/callback-error`)).status).toBe(500);
        const trace = await traceOf(running, '/api/callback-error', 6);
        expect(named(trace, 'handler /api/callback-error').status).toEqual({ code: ERROR, message: 'late failure' });
        expect(serverOf(trace).attributes['error.type']).toBe('RangeError');
      });

      it('records a hook error on the hook span; the handler never runs', async () => {
        expect((await send(`${running.url}/api/guarded?fail=yes`)).status).toBe(500);
        const trace = await traceOf(running, '/api/guarded', 6);
        const guard = named(trace, 'preHandler routeGuard');
        expect(guard.status).toEqual({ code: ERROR, message: 'guard refused' });
        expect(guard.parentSpanId).toBe(serverOf(trace).spanId);
        expect(trace.some((s) => s.name.startsWith('handler '))).toBe(false);
        expect(serverOf(trace).attributes['error.type']).toBe('Error');
      });

      it('traces preParsing and preSerialization hooks too', async () => {
        const reply = await send(`${running.url}/api/items`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"name":"y"}',
        });
        expect(reply.body).toBe('{"created":"y"}');
        const trace = await traceOf(running, '/api/items', 9, 200);
        expect(named(trace, 'preParsing measureBody').parentSpanId).toBe(serverOf(trace).spanId);
        expect(named(trace, 'preSerialization anonymous').parentSpanId).toBe(serverOf(trace).spanId);
      });

      it('traces route-level hooks after the handler (onSend) as children of the server span', async () => {
        const reply = await send(`${running.url}/api/guarded`);
        expect(reply).toMatchObject({ status: 200, body: '{"guarded":true}' });
        expect(reply.headers['x-stamped']).toBe('yes');
        const trace = await traceOf(running, '/api/guarded', 8);
        const stamp = named(trace, 'onSend stamp');
        expect(stamp.parentSpanId).toBe(serverOf(trace).spanId);
      });

      it('keeps 4xx answers of Fastify itself (validation, a hook refusing, no route) as they are, and not server errors', async () => {
        const invalid = await send(`${running.url}/api/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
        expect(invalid.status).toBe(400);
        const denied = await send(`${running.url}/hello`, { headers: { 'x-deny': 'yes' } });
        expect(denied.status).toBe(401);
        expect(JSON.parse(denied.body).message).toBe('denied');
        const missing = await send(`${running.url}/nope`);
        expect(missing.status).toBe(404);

        const items = await traceOf(running, '/api/items', 5, 400);
        expect(serverOf(items)).toMatchObject({ name: 'POST /api/items', status: { code: 0, message: '' } });
        expect(serverOf(items).attributes['error.type']).toBeUndefined();
        expect(items.some((s) => s.name.startsWith('handler '))).toBe(false);

        const nope = await traceOf(running, '/nope', 3);
        expect(serverOf(nope).name).toBe('GET');
        expect(serverOf(nope).attributes['http.route']).toBeUndefined();
      });

      it('runs every hook and handler style of an unsampled request as usual, records only the failed ones (keep rule) and propagates the trace', async () => {
        const traceId = `${major}${script.length}`.padEnd(32, 'a');
        const headers = { traceparent: `00-${traceId}-00f067aa0ba902b7-00` };
        expect(await send(`${running.url}/api/users/u${major}`, { headers })).toMatchObject({
          status: 200,
          body: `{"id":"u${major}","profile":"profile-u${major}"}`,
        });
        expect(await send(`${running.url}/api/later/9`, { headers })).toMatchObject({ status: 200, body: '{"later":"9"}' });
        expect(await send(`${running.url}/api/hijack`, { headers })).toMatchObject({ status: 200, body: 'hijacked' });
        expect((await send(`${running.url}/api/boom`, { headers })).status).toBe(500);
        expect((await send(`${running.url}/api/guarded?fail=yes`, { headers })).status).toBe(500);
        expect((await send(`${running.url}/api/guarded`, { headers })).headers['x-stamped']).toBe('yes');
        // The handler's unsampled span is the upstream call's parent: same trace, not sampled.
        expect(upstreamTraceparents.get(`u${major}`)).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`));
        expect(upstreamTraceparents.get(`u${major}`)).not.toContain('00f067aa0ba902b7');
        // A sampled request after them is exported; of the unsampled trace, only what the keep rule recorded.
        await send(`${running.url}/api/users/after-u${major}`);
        await traceOf(running, `/api/users/after-u${major}`, 8);
        expect(keptStatusesOf(running, traceId)).toEqual([500, 500]);
      });

      it('keeps 50 concurrent requests apart', async () => {
        const ids = Array.from({ length: 50 }, (_, i) => `c${i}`);
        const replies = await Promise.all(ids.map((id) => send(`${running.url}/api/users/${id}`)));
        replies.forEach((reply, i) => expect(reply.body).toBe(`{"id":"${ids[i]}","profile":"profile-${ids[i]}"}`));
        for (const id of ids) {
          const trace = await traceOf(running, `/api/users/${id}`, 8);
          const server = serverOf(trace);
          const handler = named(trace, 'handler /api/users/:id');
          expect(handler.parentSpanId).toBe(server.spanId);
          const client = trace.find((s) => s.kind === CLIENT)!;
          expect(client.parentSpanId).toBe(handler.spanId);
          expect(client.attributes['url.full']).toMatch(new RegExp(`/profile/${id}$`));
        }
      });
    });
  }
}

describe('OTEL_INSTRUMENTATION_FASTIFY_SPANS', () => {
  for (const [mode, hooks, handler] of [
    [undefined, false, true],
    ['handler', false, true],
    ['route', false, false],
  ] as const) {
    it(`=${mode ?? '(unset: handler)'}: route naming${handler ? ' and the handler span' : ' only'}, no hook spans`, async () => {
      const running = await startFastify(5, 'fastify-app.cjs', 'require', mode === undefined ? {} : { OTEL_INSTRUMENTATION_FASTIFY_SPANS: mode });
      try {
        expect((await send(`${running.url}/api/users/1`)).status).toBe(200);
        const trace = await traceOf(running, '/api/users/1', handler ? 3 : 2);
        await new Promise((r) => setTimeout(r, 200));
        const all = running.receiver.spans.filter((s) => s.traceId === serverOf(trace).traceId);
        expect(serverOf(all).name).toBe('GET /api/users/:id');
        expect(all.some((s) => s.attributes['fastify.hook.name'] !== undefined)).toBe(hooks);
        expect(all.some((s) => s.name.startsWith('handler '))).toBe(handler);
        const client = all.find((s) => s.kind === CLIENT)!;
        expect(client.parentSpanId).toBe(handler ? named(all, 'handler /api/users/:id').spanId : serverOf(all).spanId);
      } finally {
        await stop(running);
      }
    });
  }
});

describe('Fastify behaves exactly as without the agent', () => {
  it('answers every route the same', async () => {
    const [traced, bare] = await Promise.all([startFastify(5, 'fastify-app.mjs', 'import'), startFastify(5, 'fastify-app.mjs', 'none')]);
    try {
      const requests: AppRequest[] = [
        ['/hello', {}],
        ['/api/users/3', {}],
        ['/api/later/4', {}],
        ['/api/stream', {}],
        ['/api/hijack', {}],
        ['/api/lazy', {}],
        ['/api/boom', {}],
        ['/api/callback-error', {}],
        ['/api/guarded', {}],
        ['/api/guarded?fail=yes', {}],
        ['/api/items', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"x"}' }],
        ['/api/items', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }],
        ['/hello', { headers: { 'x-deny': 'yes' } }],
        ['/nope', {}],
      ];
      await expectSameAnswers(traced, bare, requests);
    } finally {
      await Promise.all([stop(traced), stop(bare)]);
    }
  });
});
