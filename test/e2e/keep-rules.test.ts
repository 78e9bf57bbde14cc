import { request } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { named, serverOf, startFrameworkApp, stopFrameworkApp, traceOf, type FrameworkApp } from '../helpers/framework-app';
import { listen, PARENT_ID, send, TRACE_ID, type Listening } from '../helpers/http-client';
import { receiverForEachTest, type ReceivedSpan } from '../helpers/otlp-receiver';
import { agentLines, FIXTURES, startApp, type App, type Preload } from '../helpers/run-app';
import { onlyOne } from '../helpers/received-spans';
import { requirePostgres } from '../helpers/servers';
import { CLIENT, ERROR, SERVER } from '../helpers/span-kinds';

// Keep rules: a service sampling nothing of its own (parentbased_traceidratio at 0) still records
// the requests that fail or are slow, under the ids it already propagated, and only those.
const SAMPLING_NOTHING = { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' };
const SAMPLED = 1;

const receiver = receiverForEachTest();
let app: App | undefined;
let downstream: Listening | undefined;
afterEach(async () => {
  await app?.stop();
  app = undefined;
  downstream?.server.close();
  downstream = undefined;
});

async function start(env: Record<string, string> = {}, script = 'app.cjs', preload: Preload = 'require'): Promise<string> {
  app = startApp({
    script: join(FIXTURES, 'keep-rules', script),
    preload,
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver().endpoint, OTEL_BSP_SCHEDULE_DELAY: '50', ...SAMPLING_NOTHING, ...env },
  });
  const [, port] = await app.waitFor(/listening (\d+)/);
  return `http://127.0.0.1:${port}`;
}

/** The active span the app saw while handling a request: trace id, span id, flags. */
function activeSpan(header: string | string[] | undefined): { traceId: string; spanId: string; flags: number } {
  const [traceId, spanId, flags] = String(header).split('-');
  return { traceId: traceId!, spanId: spanId!, flags: Number(flags) };
}

/** Stops the app (its spans are flushed at exit) and returns every span received. */
async function stopAndCollect(): Promise<ReceivedSpan[]> {
  const result = await app!.stop();
  app = undefined;
  expect(result.code).toBe(0);
  return receiver().spans;
}

/** A request its client abandons before any answer: the server sees the connection close. */
function abandon(url: string): Promise<void> {
  return new Promise((resolve) => {
    const req = request(url);
    req.on('error', () => resolve());
    req.end();
    setTimeout(() => {
      req.destroy();
      resolve();
    }, 100);
  });
}

describe('keep rules under a sampler that keeps nothing', () => {
  for (const [script, preload] of [
    ['app.cjs', 'require'],
    ['app.mjs', 'import'],
  ] as const) {
    it(`${script} (--${preload}): a failed request is recorded under the ids it ran with, requests that end well are not`, async () => {
      const url = await start({}, script, preload);
      for (let i = 0; i < 5; i++) expect((await send(`${url}/ok`)).status).toBe(200);
      const failed = await send(`${url}/fail?attempt=1`);
      expect(failed.status).toBe(503);
      const ran = activeSpan(failed.headers['x-active-span']);
      // The request ran unsampled: nothing downstream recorded it.
      expect(ran.flags & SAMPLED).toBe(0);

      const spans = await stopAndCollect();
      expect(spans).toHaveLength(1);
      const kept = spans[0]!;
      expect(kept).toMatchObject({ traceId: ran.traceId, spanId: ran.spanId, parentSpanId: '', kind: SERVER, name: 'GET' });
      expect(kept.attributes).toMatchObject({
        'tracelet.kept_by': 'error',
        'http.request.method': 'GET',
        'http.response.status_code': 503,
        'error.type': '503',
        'url.path': '/fail',
        'url.query': 'attempt=1',
        'url.scheme': 'http',
      });
      expect(kept.status.code).toBe(ERROR);
      // Exported as sampled (it was recorded), but with no threshold: it stands for itself alone.
      expect(kept.flags & SAMPLED).toBe(SAMPLED);
      expect(kept.traceState).not.toMatch(/th:/);
    });
  }

  it('continues the caller’s unsampled trace: the kept span is the child of the caller’s span', async () => {
    const url = await start();
    const reply = await send(`${url}/fail`, { headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-00`, tracestate: 'ot=rv:00000000000001' } });
    const ran = activeSpan(reply.headers['x-active-span']);
    expect(ran.traceId).toBe(TRACE_ID);
    const [kept] = await stopAndCollect();
    expect(kept).toMatchObject({ traceId: TRACE_ID, spanId: ran.spanId, parentSpanId: PARENT_ID });
    expect(kept!.traceState).toBe('ot=rv:00000000000001');
    expect(kept!.attributes['tracelet.kept_by']).toBe('error');
  });

  it('keeps a request whose client gave up before the answer (error.type aborted)', async () => {
    const url = await start();
    await abandon(`${url}/hang`);
    const spans = await receiver().waitForSpans(1);
    expect(spans[0]!.attributes).toMatchObject({ 'tracelet.kept_by': 'error', 'error.type': 'aborted', 'url.path': '/hang' });
    expect(spans[0]!.attributes['http.response.status_code']).toBeUndefined();
  });

  it('TRACELET_KEEP_SLOWER_THAN keeps the slow requests, with their real duration; a downstream call carries the kept trace’s ids', async () => {
    downstream = await listen((req, res) => {
      res.setHeader('x-received-traceparent', String(req.headers.traceparent));
      setTimeout(() => res.end('done'), 60);
    });
    const url = await start({ TRACELET_KEEP_SLOWER_THAN: '40', DOWNSTREAM: downstream.url });
    expect((await send(`${url}/slow?ms=1`)).status).toBe(200);
    const slow = activeSpan((await send(`${url}/slow?ms=80`)).headers['x-active-span']);
    const called = activeSpan((await send(`${url}/call`)).headers['x-active-span']);

    const received = await stopAndCollect();
    for (const span of received) expect(span.attributes['tracelet.kept_by']).toBe('slow');
    const spans = received.filter((span) => span.kind === SERVER);
    expect(spans.map((span) => span.attributes['url.path']).sort()).toEqual(['/call', '/slow']);
    const slowSpan = spans.find((span) => span.attributes['url.path'] === '/slow')!;
    expect(slowSpan.spanId).toBe(slow.spanId);
    const durationMs = Number(BigInt(slowSpan.endTimeUnixNano) - BigInt(slowSpan.startTimeUnixNano)) / 1e6;
    expect(durationMs).toBeGreaterThanOrEqual(80);
    expect(durationMs).toBeLessThan(5_000);
    // The kept /call request is the trace the downstream service was told about (unsampled then).
    const callSpan = spans.find((span) => span.attributes['url.path'] === '/call')!;
    expect(callSpan).toMatchObject({ traceId: called.traceId, spanId: called.spanId });
    expect(callSpan.attributes['http.response.status_code']).toBe(200);
    expect(callSpan.status.code).not.toBe(ERROR);
    // With it, its http.get: the span whose id the downstream service was sent.
    const get = onlyOne(
      received.filter((span) => span.kind === CLIENT),
      'one client span',
    );
    expect(get).toMatchObject({ traceId: called.traceId, parentSpanId: called.spanId, name: 'GET' });
    expect(get.attributes).toMatchObject({ 'http.request.method': 'GET', 'http.response.status_code': 200, 'server.port': downstream!.port });
  });

  it('the downstream service received the same trace id, flagged unsampled', async () => {
    let received = '';
    downstream = await listen((req, res) => {
      received = String(req.headers.traceparent);
      setTimeout(() => res.end('done'), 60);
    });
    const url = await start({ TRACELET_KEEP_SLOWER_THAN: '40', DOWNSTREAM: downstream.url });
    const called = activeSpan((await send(`${url}/call`)).headers['x-active-span']);
    const [kept] = await stopAndCollect();
    const [, traceId, , flags] = received.split('-');
    expect(traceId).toBe(called.traceId);
    expect(kept!.traceId).toBe(traceId);
    expect(Number.parseInt(flags!, 16) & SAMPLED).toBe(0);
  });

  it('TRACELET_KEEP_ERRORS=false keeps no failed request; a bad value is reported and the default applies', async () => {
    let url = await start({ TRACELET_KEEP_ERRORS: 'false' });
    expect((await send(`${url}/fail`)).status).toBe(503);
    expect(await stopAndCollect()).toHaveLength(0);

    url = await start({ TRACELET_KEEP_SLOWER_THAN: 'soon', TRACELET_KEEP_ERRORS: 'maybe' });
    expect((await send(`${url}/slow?ms=30`)).status).toBe(200);
    expect((await send(`${url}/fail`)).status).toBe(503);
    const lines = agentLines(app!.stderr).join('\n');
    expect(lines).toContain('TRACELET_KEEP_SLOWER_THAN="soon" is invalid');
    expect(lines).toContain('TRACELET_KEEP_ERRORS="maybe" is invalid');
    const spans = await stopAndCollect();
    expect(spans.map((span) => span.attributes['url.path'])).toEqual(['/fail']);
  });

  it('marks nothing when the sampler records the request itself', async () => {
    const url = await start({ OTEL_TRACES_SAMPLER: 'always_on', TRACELET_KEEP_SLOWER_THAN: '1' });
    expect((await send(`${url}/fail`)).status).toBe(503);
    expect((await send(`${url}/slow?ms=20`)).status).toBe(200);
    const spans = await stopAndCollect();
    expect(spans).toHaveLength(2);
    for (const span of spans) expect(span.attributes['tracelet.kept_by']).toBeUndefined();
  });
});

describe('keep rules with a web framework (Express 5)', () => {
  let running: FrameworkApp | undefined;
  afterEach(async () => {
    await stopFrameworkApp(running);
    running = undefined;
  });

  it('a handler’s exception: the kept server span has the route, the 500 and the exception the framework handled', async () => {
    running = await startFrameworkApp({
      script: 'express-app.cjs',
      preload: 'require',
      framework: 'express',
      dir: { fixtures: ['express-app-build.cjs'], aliases: { express: 'express-v5' } },
      env: SAMPLING_NOTHING,
    });
    expect((await send(`${running.url}/hello`)).status).toBe(200);
    expect((await send(`${running.url}/api/boom`)).status).toBe(500);
    const trace = await traceOf(running, '/api/boom', 1);
    const server = serverOf(trace);
    expect(server.name).toBe('GET /api/boom');
    expect(server.attributes).toMatchObject({
      'tracelet.kept_by': 'error',
      'http.route': '/api/boom',
      'http.response.status_code': 500,
      'error.type': 'TypeError',
    });
    const exception = server.events.find((event) => event.name === 'exception');
    expect(exception?.attributes).toMatchObject({ 'exception.type': 'TypeError', 'exception.message': 'kaboom' });
    // The framework's own layers are not kept (their spans record nothing unsampled): the request span has the route and the exception.
    expect(() => named(trace, 'handler /api/boom')).toThrow();
    // The request that ended well left nothing.
    expect(running.receiver.spans.filter((span) => span.attributes['url.path'] === '/hello')).toHaveLength(0);
  });
});

describe('keep rules record what ran under the kept request', () => {
  it('a failed request keeps its queries and calls, with their ids, timing, attributes and failures; the one that ended well keeps nothing', async () => {
    await requirePostgres();
    let downstreamTraceparent = '';
    let fail = false;
    downstream = await listen((req, res) => {
      downstreamTraceparent = String(req.headers.traceparent);
      res.statusCode = fail ? 500 : 200;
      res.end('inventory');
    });
    const url = await start({ DOWNSTREAM: downstream.url, OTEL_METRICS_EXPORTER: 'otlp' });
    expect((await send(`${url}/orders`)).status).toBe(200);
    fail = true;
    const failed = await send(`${url}/orders`);
    expect(failed.status).toBe(502);
    const ran = activeSpan(failed.headers['x-active-span']);

    const spans = await stopAndCollect();
    // Only the failed request's trace, whole.
    expect(new Set(spans.map((span) => span.traceId))).toEqual(new Set([ran.traceId]));
    const server = onlyOne(
      spans.filter((span) => span.kind === SERVER),
      'one server span',
    );
    expect(server.spanId).toBe(ran.spanId);
    for (const span of spans) expect(span.attributes['tracelet.kept_by']).toBe('error');
    for (const span of spans.filter((s) => s !== server)) {
      expect(span.parentSpanId).toBe(server.spanId);
      expect(BigInt(span.startTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(server.startTimeUnixNano));
      expect(BigInt(span.endTimeUnixNano)).toBeLessThanOrEqual(BigInt(server.endTimeUnixNano));
    }

    const queries = spans.filter((span) => span.attributes['db.system.name'] === 'postgresql' && span.kind === CLIENT && span.name !== 'pg.connect');
    // The malformed statement has no summary: its span is named after the database system.
    expect(queries.map((span) => span.name)).toEqual(['SELECT', 'postgresql']);
    expect(queries[0]!.attributes).toMatchObject({
      'db.namespace': 'test',
      'db.query.summary': 'SELECT',
      'server.address': '127.0.0.1',
      'server.port': 5432,
    });
    expect(queries[0]!.status.code).not.toBe(ERROR);
    expect(queries[1]!.attributes).toMatchObject({ 'error.type': '42601', 'db.response.status_code': '42601', 'db.namespace': 'test' });
    expect(queries[1]!.attributes['db.query.summary']).toBeUndefined();
    expect(queries[1]!.status.code).toBe(ERROR);

    // The call downstream keeps the span id it propagated: the downstream's own spans join the trace.
    const call = onlyOne(
      spans.filter((span) => span.kind === CLIENT && span.attributes['http.request.method'] === 'GET'),
      'one fetch span',
    );
    const [, traceId, parentId] = downstreamTraceparent.split('-');
    expect({ traceId: call.traceId, spanId: call.spanId }).toEqual({ traceId, spanId: parentId });
    expect(call.attributes).toMatchObject({
      'http.response.status_code': 500,
      'error.type': '500',
      'server.address': '127.0.0.1',
      'server.port': downstream.port,
    });
    expect(call.status.code).toBe(ERROR);
  });
});

describe('metrics count every request the sampler dropped', () => {
  it('exact request, query and call counts and failures, per route and dependency, while no trace is recorded', async () => {
    await requirePostgres();
    let failNext = false;
    downstream = await listen((_req, res) => {
      res.statusCode = failNext ? 500 : 200;
      res.end('inventory');
    });
    const url = await start({ DOWNSTREAM: downstream.url, OTEL_METRICS_EXPORTER: 'otlp', TRACELET_KEEP_ERRORS: 'false' });
    for (let i = 0; i < 5; i++) expect((await send(`${url}/orders`)).status).toBe(200);
    failNext = true;
    for (let i = 0; i < 2; i++) expect((await send(`${url}/orders`)).status).toBe(502);
    expect(await stopAndCollect()).toEqual([]);

    const metric = (name: string) =>
      receiver()
        .metrics.filter((m) => m.name === name)
        .at(-1)!;
    const points = (name: string) => metric(name).points;
    const count = (name: string, attributes: Record<string, unknown>) =>
      points(name)
        .filter((point) => Object.entries(attributes).every(([key, value]) => point.attributes[key] === value))
        .reduce((sum, point) => sum + point.count!, 0);

    expect(count('http.server.request.duration', { 'http.response.status_code': 200 })).toBe(5);
    expect(count('http.server.request.duration', { 'http.response.status_code': 502, 'error.type': '502' })).toBe(2);
    expect(count('db.client.operation.duration', { 'db.system.name': 'postgresql', 'db.query.summary': 'SELECT', 'db.namespace': 'test' })).toBe(7);
    expect(count('db.client.operation.duration', { 'error.type': '42601', 'db.response.status_code': '42601' })).toBe(7);
    expect(count('http.client.request.duration', { 'server.port': downstream.port, 'http.response.status_code': 200 })).toBe(5);
    expect(count('http.client.request.duration', { 'server.port': downstream.port, 'error.type': '500' })).toBe(2);
    for (const name of ['http.server.request.duration', 'db.client.operation.duration', 'http.client.request.duration']) {
      expect(metric(name)).toMatchObject({ type: 'histogram', unit: 's', temporality: 2 });
    }
  });
});
