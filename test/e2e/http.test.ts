import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { headerNames, listen, PARENT_ID, send, TRACE_ID, unusedPort } from '../helpers/http-client';
import { OtlpReceiver, receiverForEachTest, type ReceivedSpan } from '../helpers/otlp-receiver';
import { onlyOne } from '../helpers/received-spans';
import { FIXTURES, runApp, startApp, type App, type Preload } from '../helpers/run-app';
import { CLIENT, SERVER } from '../helpers/span-kinds';

const receiver = receiverForEachTest();
const apps: App[] = [];

async function stopApps(): Promise<void> {
  for (const app of apps.splice(0)) await app.stop();
}
// Registered after the receiver's: runs before it is closed.
afterEach(stopApps);

interface Service {
  readonly app: App;
  readonly port: number;
  readonly url: string;
}

async function startService(
  name: string,
  script: 'http-service.cjs' | 'http-service.mjs',
  env: Record<string, string> = {},
  preload: Preload = 'import',
  to: OtlpReceiver = receiver(),
): Promise<Service> {
  const app = startApp({
    script: join(FIXTURES, script),
    preload,
    env: { OTEL_SERVICE_NAME: name, OTEL_EXPORTER_OTLP_ENDPOINT: to.endpoint, OTEL_BSP_SCHEDULE_DELAY: '50', ...env },
  });
  apps.push(app);
  const [, port] = await app.waitFor(/listening (\d+)/);
  const scheme = env.TLS_CERT ? 'https' : 'http';
  return { app, port: Number(port), url: `${scheme}://127.0.0.1:${port}` };
}

/** The traceparent that carries this span: its ids and its own W3C trace flags (the low byte of the OTLP flags). */
const traceparentOf = (span: { traceId: string; spanId: string; flags: number }): string =>
  `00-${span.traceId}-${span.spanId}-${(span.flags & 0xff).toString(16).padStart(2, '0')}`;
const ofService = (spans: ReceivedSpan[], service: string) => spans.filter((span) => span.resource['service.name'] === service);
const one = (spans: ReceivedSpan[], predicate: (span: ReceivedSpan) => boolean): ReceivedSpan =>
  onlyOne(spans.filter(predicate), `exactly one matching span among ${spans.map((s) => `${s.resource['service.name']}:${s.name}`).join(', ')}`);

describe('two services calling each other over HTTP make one trace', () => {
  for (const [callerScript, calleeScript] of [
    ['http-service.cjs', 'http-service.mjs'],
    ['http-service.mjs', 'http-service.cjs'],
  ] as const) {
    it(`${callerScript} calls ${calleeScript} (the caller's CLIENT span is the parent of the callee's SERVER span)`, async () => {
      const callee = await startService('callee', calleeScript);
      const caller = await startService('caller', callerScript, {}, callerScript.endsWith('cjs') ? 'require' : 'import');
      const reply = await send(`${caller.url}/call?to=${encodeURIComponent(`${callee.url}/hello?sig=secret&q=1`)}`, {
        headers: { 'user-agent': 'e2e-test/1.0' },
      });
      expect(reply).toMatchObject({ status: 200, body: 'upstream 200: hello' });
      const spans = await receiver().waitForSpans(4);

      const callerServer = one(ofService(spans, 'caller'), (s) => s.kind === SERVER);
      const callerClient = one(ofService(spans, 'caller'), (s) => s.kind === CLIENT);
      const calleeServer = one(ofService(spans, 'callee'), (s) => s.kind === SERVER);
      const afterUpstream = one(ofService(spans, 'caller'), (s) => s.name === 'after upstream');

      for (const span of [callerClient, calleeServer, afterUpstream]) expect(span.traceId).toBe(callerServer.traceId);
      expect(callerServer.parentSpanId).toBe('');
      expect(callerClient.parentSpanId).toBe(callerServer.spanId);
      expect(calleeServer.parentSpanId).toBe(callerClient.spanId);
      expect(calleeServer.flags & 0x200).toBe(0x200); // its parent is remote
      // Listeners of the upstream response run in the caller's request context.
      expect(afterUpstream.parentSpanId).toBe(callerServer.spanId);

      expect(callerServer.name).toBe('GET');
      expect(callerServer.attributes).toMatchObject({
        'http.request.method': 'GET',
        'url.path': '/call',
        'url.scheme': 'http',
        'server.address': '127.0.0.1',
        'server.port': caller.port,
        'client.address': '127.0.0.1',
        'network.peer.address': '127.0.0.1',
        'network.protocol.version': '1.1',
        'user_agent.original': 'e2e-test/1.0',
        'http.response.status_code': 200,
      });
      expect(callerServer.attributes['network.peer.port']).toEqual(expect.any(Number));
      expect(callerServer.status.code).toBe(0);

      expect(callerClient.name).toBe('GET');
      expect(callerClient.attributes).toEqual({
        'http.request.method': 'GET',
        'url.full': `${callee.url}/hello?sig=REDACTED&q=1`,
        'server.address': '127.0.0.1',
        'server.port': callee.port,
        'http.response.status_code': 200,
        'network.protocol.version': '1.1',
        'network.peer.address': '127.0.0.1',
        'network.peer.port': callee.port,
      });
      expect(calleeServer.attributes).toMatchObject({ 'url.path': '/hello', 'url.query': 'sig=REDACTED&q=1' });
      expect(BigInt(callerClient.startTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(callerServer.startTimeUnixNano));
      expect(BigInt(callerClient.endTimeUnixNano)).toBeLessThanOrEqual(BigInt(callerServer.endTimeUnixNano));
    });
  }

  it('over https with a self-signed certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const tls = { TLS_KEY: join(dir, 'key.pem'), TLS_CERT: join(dir, 'cert.pem') };
    const callee = await startService('callee', 'http-service.mjs', tls);
    const caller = await startService('caller', 'http-service.cjs', { TLS_CA: tls.TLS_CERT });
    const reply = await send(`${caller.url}/call?to=${encodeURIComponent(`${callee.url}/hello`)}`);
    expect(reply).toMatchObject({ status: 200, body: 'upstream 200: hello' });
    const spans = await receiver().waitForSpans(4);
    const callerClient = one(ofService(spans, 'caller'), (s) => s.kind === CLIENT);
    const calleeServer = one(ofService(spans, 'callee'), (s) => s.kind === SERVER);
    expect(calleeServer.parentSpanId).toBe(callerClient.spanId);
    expect(callerClient.attributes['url.full']).toBe(`https://127.0.0.1:${callee.port}/hello`);
    // The peer of a TLS connection is known once its TCP connection is up.
    expect(callerClient.attributes).toMatchObject({ 'network.peer.address': '127.0.0.1', 'network.peer.port': callee.port });
    expect(calleeServer.attributes['url.scheme']).toBe('https');
  });
});

describe('incoming requests', () => {
  it('continue a foreign caller trace, and start a fresh one for an invalid traceparent', async () => {
    const service = await startService('svc', 'http-service.cjs');
    await send(`${service.url}/hello`, { headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`, tracestate: 'vendor=1' } });
    await send(`${service.url}/hello`, { headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-zz` } });
    const spans = await receiver().waitForSpans(2);
    const continued = one(spans, (s) => s.traceId === TRACE_ID);
    expect(continued.parentSpanId).toBe(PARENT_ID);
    expect(continued.traceState).toBe('vendor=1');
    const fresh = one(spans, (s) => s.traceId !== TRACE_ID);
    expect(fresh.parentSpanId).toBe('');
  });

  it('keep the server span active through awaits and body listeners of the handler', async () => {
    const service = await startService('svc', 'http-service.mjs');
    expect(await send(`${service.url}/work`)).toMatchObject({ body: 'done' });
    expect(await send(`${service.url}/echo`, { method: 'POST', body: 'payload' })).toMatchObject({ body: 'echo payload' });
    const spans = await receiver().waitForSpans(4);
    const workServer = one(spans, (s) => s.kind === SERVER && s.attributes['url.path'] === '/work');
    const echoServer = one(spans, (s) => s.kind === SERVER && s.attributes['url.path'] === '/echo');
    expect(one(spans, (s) => s.name === 'work step').parentSpanId).toBe(workServer.spanId);
    expect(one(spans, (s) => s.name === 'body read').parentSpanId).toBe(echoServer.spanId);
    expect(echoServer.attributes['http.request.method']).toBe('POST');
  });

  it('mark 5xx as errors but not 4xx, and record unknown methods as _OTHER', async () => {
    const service = await startService('svc', 'http-service.cjs', { OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS: 'GET,POST' });
    await send(`${service.url}/fail`);
    await send(`${service.url}/missing`);
    await send(`${service.url}/hello`, { method: 'PUT' });
    const spans = await receiver().waitForSpans(3);
    const failed = one(spans, (s) => s.attributes['url.path'] === '/fail');
    expect(failed.status.code).toBe(2);
    expect(failed.attributes).toMatchObject({ 'http.response.status_code': 500, 'error.type': '500' });
    const missing = one(spans, (s) => s.attributes['url.path'] === '/missing');
    expect(missing.status.code).toBe(0);
    expect(missing.attributes['error.type']).toBeUndefined();
    const put = one(spans, (s) => s.attributes['url.path'] === '/hello');
    expect(put.name).toBe('HTTP');
    expect(put.attributes).toMatchObject({ 'http.request.method': '_OTHER', 'http.request.method_original': 'PUT' });
  });

  it('report the client, host and scheme a reverse proxy forwards (Forwarded, then X-Forwarded-*)', async () => {
    const service = await startService('svc', 'http-service.cjs');
    await send(`${service.url}/hello?via=forwarded`, { headers: { forwarded: 'for=203.0.113.7;proto=https;host=shop.example:8443' } });
    await send(`${service.url}/hello?via=x-forwarded`, {
      headers: { 'x-forwarded-for': '198.51.100.9, 10.0.0.1', 'x-forwarded-proto': 'HTTPS', 'x-forwarded-host': 'api.example' },
    });
    await send(`${service.url}/hello?via=bogus`, { headers: { 'x-forwarded-proto': 'gopher' } });
    const spans = await receiver().waitForSpans(3);
    const via = (name: string) => one(spans, (s) => s.attributes['url.query'] === `via=${name}`).attributes;
    expect(via('forwarded')).toMatchObject({
      'client.address': '203.0.113.7',
      'url.scheme': 'https',
      'server.address': 'shop.example',
      'server.port': 8443,
      'network.peer.address': '127.0.0.1',
    });
    expect(via('x-forwarded')).toMatchObject({ 'client.address': '198.51.100.9', 'url.scheme': 'https', 'server.address': 'api.example' });
    expect(via('x-forwarded')['server.port']).toBeUndefined();
    // Only http and https are taken from a header; anything else leaves the server's own scheme.
    expect(via('bogus')).toMatchObject({ 'url.scheme': 'http', 'server.address': '127.0.0.1', 'server.port': service.port });
  });

  it('end with an error when the client aborts, without leaking', async () => {
    const service = await startService('svc', 'http-service.cjs');
    await new Promise<void>((resolveAbort) => {
      const req = request(`${service.url}/slow`);
      req.on('error', () => resolveAbort());
      req.end();
      setTimeout(() => req.destroy(), 200);
    });
    const [span] = await receiver().waitForSpans(1);
    expect(span!.attributes['url.path']).toBe('/slow');
    expect(span!.status.code).toBe(2);
    expect(span!.attributes['error.type']).toBe('aborted');
    expect(BigInt(span!.endTimeUnixNano) - BigInt(span!.startTimeUnixNano)).toBeLessThan(1_500_000_000n);
  });

  it('record only the headers named in the capture variables, as string arrays', async () => {
    const service = await startService('svc', 'http-service.cjs', {
      OTEL_INSTRUMENTATION_HTTP_SERVER_CAPTURE_REQUEST_HEADERS: 'X-Request-Id, authorization',
      OTEL_INSTRUMENTATION_HTTP_SERVER_CAPTURE_RESPONSE_HEADERS: 'x-service',
    });
    await send(`${service.url}/hello`, {
      headers: { 'x-request-id': 'r-1', authorization: 'Bearer t', cookie: 'session=s3cret', 'x-other': 'o' },
    });
    const [span] = await receiver().waitForSpans(1);
    expect(span!.attributes).toMatchObject({
      'http.request.header.x-request-id': ['r-1'],
      'http.request.header.authorization': ['Bearer t'],
      'http.response.header.x-service': ['cjs'],
    });
    expect(JSON.stringify(span!.attributes)).not.toContain('s3cret');
    expect(span!.attributes['http.request.header.x-other']).toBeUndefined();
  });

  it('skip excluded paths: no span, but the trace passes through', async () => {
    const service = await startService('svc', 'http-service.mjs', { OTEL_INSTRUMENTATION_HTTP_SERVER_EXCLUDED_PATHS: '/health,/internal/*' });
    // Without a caller's trace: an unsampled one of its own, random (W3C Level 2); with one: the caller's flags.
    expect((await send(`${service.url}/health`)).body).toBe('2');
    expect((await send(`${service.url}/health`, { headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` } })).body).toBe('1');
    await send(`${service.url}/hello`);
    await receiver().waitForSpans(2);
    await new Promise((r) => setTimeout(r, 300));
    expect(
      receiver()
        .spans.filter((s) => s.kind === SERVER)
        .map((s) => s.attributes['url.path']),
    ).toEqual(['/hello']);
    // Work done for a probe without a trace starts none; with a caller's trace it joins it.
    const work = one(receiver().spans, (s) => s.name === 'health check work');
    expect(work.traceId).toBe(TRACE_ID);
    expect(work.parentSpanId).toBe(PARENT_ID);
  });

  it('restart at the trust boundary: a new trace linked to the caller (OTEL_INSTRUMENTATION_HTTP_SERVER_INCOMING_CONTEXT=restart)', async () => {
    const service = await startService('svc', 'http-service.cjs', { OTEL_INSTRUMENTATION_HTTP_SERVER_INCOMING_CONTEXT: 'restart' });
    await send(`${service.url}/hello`, { headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` } });
    const [span] = await receiver().waitForSpans(1);
    expect(span!.traceId).not.toBe(TRACE_ID);
    expect(span!.parentSpanId).toBe('');
    expect(span!.links.map((l) => [l.traceId, l.spanId])).toEqual([[TRACE_ID, PARENT_ID]]);
  });

  it('ignore the caller context entirely with ...INCOMING_CONTEXT=ignore', async () => {
    const service = await startService('svc', 'http-service.cjs', { OTEL_INSTRUMENTATION_HTTP_SERVER_INCOMING_CONTEXT: 'ignore' });
    await send(`${service.url}/hello`, { headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-00` } });
    const [span] = await receiver().waitForSpans(1);
    expect(span!.traceId).not.toBe(TRACE_ID);
    expect(span!.links).toEqual([]);
  });
});

describe('outgoing requests', () => {
  it('mark 4xx and network failures as errors, with the app behaving as without the agent', async () => {
    const callee = await startService('callee', 'http-service.mjs');
    const caller = await startService('caller', 'http-service.cjs', {
      OTEL_INSTRUMENTATION_HTTP_CLIENT_CAPTURE_REQUEST_HEADERS: 'traceparent',
      OTEL_INSTRUMENTATION_HTTP_CLIENT_CAPTURE_RESPONSE_HEADERS: 'content-length',
    });
    const closed = await unusedPort();
    expect(await send(`${caller.url}/call?to=${encodeURIComponent(`${callee.url}/missing`)}`)).toMatchObject({
      body: 'upstream 404: missing',
    });
    expect(await send(`${caller.url}/call?to=${encodeURIComponent(`http://127.0.0.1:${closed}/x`)}`)).toMatchObject({
      status: 502,
      body: 'upstream failed: ECONNREFUSED',
    });
    const spans = await receiver().waitForSpans(5);
    const clients = ofService(spans, 'caller').filter((s) => s.kind === CLIENT);
    const notFound = one(clients, (s) => s.attributes['server.port'] === callee.port);
    expect(notFound.status.code).toBe(2);
    expect(notFound.attributes).toMatchObject({
      'http.response.status_code': 404,
      'error.type': '404',
      'http.response.header.content-length': ['7'],
    });
    expect((notFound.attributes['http.request.header.traceparent'] as string[])[0]).toContain(notFound.spanId);
    const refused = one(clients, (s) => s.attributes['server.port'] === closed);
    expect(refused.status.code).toBe(2);
    expect(refused.attributes['error.type']).toBe('ECONNREFUSED');
    expect(refused.events.map((e) => e.name)).toEqual(['exception']);
    expect(refused.events[0]!.attributes['exception.message']).toContain('ECONNREFUSED');
  });

  it('end the span of a response nobody reads when its connection closes', async () => {
    const callee = await startService('callee', 'http-service.mjs');
    const caller = await startService('caller', 'http-service.cjs');
    expect(await send(`${caller.url}/call-unread?to=${encodeURIComponent(`${callee.url}/hello`)}`)).toMatchObject({ body: 'sent' });
    const spans = await receiver().waitForSpans(3, 15_000);
    const client = one(ofService(spans, 'caller'), (s) => s.kind === CLIENT);
    expect(client.attributes['http.response.status_code']).toBe(200);
    expect(client.status.code).toBe(0);
  });

  it('carry an unsampled decision downstream without recording anything', async () => {
    const callee = await startService('callee', 'http-service.mjs');
    const caller = await startService('caller', 'http-service.cjs');
    const reply = await send(`${caller.url}/call?to=${encodeURIComponent(`${callee.url}/traceparent`)}`, {
      headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-00` },
    });
    // The callee was called with the same trace, a new (unrecorded) parent id, and the unsampled flag.
    expect(reply.body).toMatch(new RegExp(`^upstream 200: 00-${TRACE_ID}-(?!${PARENT_ID})[0-9a-f]{16}-00$`));
    // A sampled request afterwards: its callee span shows what the callee receives.
    await send(`${callee.url}/hello`);
    await receiver().waitForSpans(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver().spans.filter((s) => s.traceId === TRACE_ID)).toEqual([]);
    expect(receiver().spans).toHaveLength(1);
  });

  it('inject into the request, never into the headers object the caller passed and reuses', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const upstream = await listen((req, res) => {
      seen.push(req.headers);
      res.end('ok');
    });
    try {
      const result = await runApp({
        script: join(FIXTURES, 'client-headers.cjs'),
        env: { TARGET: `http://127.0.0.1:${upstream.port}/`, OTEL_EXPORTER_OTLP_ENDPOINT: receiver().endpoint },
      });
      expect(JSON.parse(result.stdout)).toEqual({
        headers: { 'x-client': 'shared' },
        rawHeaders: ['host', `127.0.0.1:${upstream.port}`, 'x-raw', 'yes'],
      });
      const spans = await receiver().waitForSpans(3);
      expect(seen).toHaveLength(3);
      seen.forEach((headers, i) => {
        expect(headers.traceparent).toBe(traceparentOf(spans[i]!));
      });
      expect(seen[2]!['x-raw']).toBe('yes');
    } finally {
      upstream.server.close();
    }
  });

  it('never trace the agent own exports to the collector', async () => {
    const service = await startService('svc', 'http-service.cjs');
    for (let i = 0; i < 3; i++) {
      await send(`${service.url}/hello`);
      await new Promise((r) => setTimeout(r, 120)); // several export rounds
    }
    await receiver().waitForSpans(3);
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver().requests.length).toBeGreaterThanOrEqual(2);
    expect(receiver().spans).toHaveLength(3);
    expect(receiver().spans.every((s) => s.kind === SERVER && s.attributes['url.path'] === '/hello')).toBe(true);
  });
});

describe('under load', () => {
  it('200 concurrent requests with interleaved awaits make 200 separate traces, none cross-linked', async () => {
    const callee = await startService('callee', 'http-service.mjs');
    const caller = await startService('caller', 'http-service.cjs');
    const traceIds = Array.from({ length: 200 }, (_, i) => `1${(i + 1).toString(16).padStart(31, '0')}`);
    const replies = await Promise.all(
      traceIds.map((traceId) =>
        send(`${caller.url}/call?to=${encodeURIComponent(`${callee.url}/work`)}`, {
          headers: { traceparent: `00-${traceId}-${PARENT_ID}-01` },
        }),
      ),
    );
    expect(replies.every((r) => r.body === 'upstream 200: done')).toBe(true);
    // Per trace: caller server, caller client, callee server, callee "work step", caller "after upstream".
    const spans = await receiver().waitForSpans(1000, 30_000);
    const bySpanId = new Map(spans.map((s) => [s.spanId, s]));
    for (const traceId of traceIds) {
      const trace = spans.filter((s) => s.traceId === traceId);
      expect(trace).toHaveLength(5);
      const callerServer = one(trace, (s) => s.kind === SERVER && s.resource['service.name'] === 'caller');
      const callerClient = one(trace, (s) => s.kind === CLIENT);
      const calleeServer = one(trace, (s) => s.kind === SERVER && s.resource['service.name'] === 'callee');
      expect(callerServer.parentSpanId).toBe(PARENT_ID);
      expect(callerClient.parentSpanId).toBe(callerServer.spanId);
      expect(calleeServer.parentSpanId).toBe(callerClient.spanId);
      expect(one(trace, (s) => s.name === 'work step').parentSpanId).toBe(calleeServer.spanId);
      expect(one(trace, (s) => s.name === 'after upstream').parentSpanId).toBe(callerServer.spanId);
    }
    for (const span of spans) {
      const parent = bySpanId.get(span.parentSpanId);
      if (parent !== undefined) expect(parent.traceId).toBe(span.traceId);
    }
  });
});

describe('behaviour is unchanged', () => {
  let bare: Service;
  let traced: Service;
  // Started before any test's receiver: the services get one of their own.
  let own: OtlpReceiver;
  beforeAll(async () => {
    own = await OtlpReceiver.start();
    bare = await startService('bare', 'http-service.cjs', {}, 'none', own);
    traced = await startService('traced', 'http-service.cjs', {}, 'import', own);
  });
  afterAll(async () => {
    await stopApps();
    await own.close();
  });

  it('answers every route exactly as without the agent', async () => {
    for (const route of ['/hello', '/work', '/fail', '/missing', '/nope', `/call?to=${encodeURIComponent('http://127.0.0.1:1/')}`]) {
      const [a, b] = await Promise.all([send(`${bare.url}${route}`), send(`${traced.url}${route}`)]);
      expect({ route, status: b.status, body: b.body }).toEqual({ route, status: a.status, body: a.body });
      expect(headerNames(b.headers)).toEqual(headerNames(a.headers));
    }
    const echo = { method: 'POST', body: 'x'.repeat(100_000) };
    expect((await send(`${traced.url}/echo`, echo)).body).toBe((await send(`${bare.url}/echo`, echo)).body);
  });
});
