import type { IncomingHttpHeaders, Server } from 'node:http';
import { join } from 'node:path';
import { gte } from 'semver';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeAppDir } from '../helpers/app-dir';
import { listen, unusedPort } from '../helpers/http-client';
import { OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver';
import { exceptionEvents, onlyOne } from '../helpers/received-spans';
import { APP_NODE_VERSION, runApp, type Preload } from '../helpers/run-app';
import { CLIENT, ERROR } from '../helpers/span-kinds';

/** The traceparent the application sets itself (the fixture's own constant). */
const { CALLER_TRACEPARENT } = require('./fixtures/fetch-scenarios.cjs') as { CALLER_TRACEPARENT: string };

/**
 * The npm undici the application installs: 7 where it runs (Node 20.18.1+), else 6 (Node 18),
 * each copied into the app's node_modules as `undici`, the name the agent hooks.
 */
const NPM_UNDICI_INSTALLED = gte(APP_NODE_VERSION, '20.18.1') ? 'undici' : 'undici-v6';
const NPM_UNDICI = `npm undici ${NPM_UNDICI_INSTALLED === 'undici' ? 7 : 6} (app on Node ${APP_NODE_VERSION})`;
/** Every undici major the pool-queue patch covers that runs on the application's Node. */
const POOL_UNDICI_VERSIONS = ['undici-v5', 'undici-v6', ...(NPM_UNDICI_INSTALLED === 'undici' ? ['undici'] : [])];

const FETCH_SCENARIOS = ['ok', 'own-traceparent', 'not-found', 'refused', 'aborted', 'credentials'];
const NPM_SCENARIOS = ['undici-request', 'undici-fetch', 'undici-absolute-form', 'mixed'];
const ALL_SCENARIOS = [...FETCH_SCENARIOS, ...NPM_SCENARIOS];
/** CLIENT spans each scenario must produce: one per request that reached undici. */
const EXPECTED_CLIENT_SPANS: Record<string, number> = {
  ok: 1,
  'own-traceparent': 1,
  'not-found': 1,
  refused: 1,
  aborted: 1,
  credentials: 0,
  'undici-request': 1,
  'undici-fetch': 1,
  'undici-absolute-form': 1,
  mixed: 2,
};

const CAPTURE_HEADERS = {
  OTEL_INSTRUMENTATION_HTTP_CLIENT_CAPTURE_REQUEST_HEADERS: 'X-Request-Tag,x-absent',
  OTEL_INSTRUMENTATION_HTTP_CLIENT_CAPTURE_RESPONSE_HEADERS: 'x-upstream-tag',
};

/** The traceparent that carries this span: its ids and its own W3C trace flags (the low byte of the OTLP flags). */
const traceparentOf = (span: { traceId: string; spanId: string; flags: number }): string =>
  `00-${span.traceId}-${span.spanId}-${(span.flags & 0xff).toString(16).padStart(2, '0')}`;

interface ScenarioResult {
  readonly traceId: string;
  readonly spanId: string;
  readonly outcome: { value?: unknown; error?: unknown };
}

interface UpstreamRequest {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
}

interface Run {
  readonly results: Record<string, ScenarioResult>;
  readonly spans: ReceivedSpan[];
  readonly upstream: UpstreamRequest[];
  readonly upstreamPort: number;
  readonly receiverPort: number;
}

/**
 * The upstream the application calls: 404 under /not-found, headers and part of a body that never
 * ends under /partial, 200 'ok' otherwise; every answer carries x-upstream-tag.
 */
async function startUpstream(): Promise<{ server: Server; port: number; requests: UpstreamRequest[] }> {
  const requests: UpstreamRequest[] = [];
  const { server, port } = await listen((req, res) => {
    // Absolute-form targets (what a proxy receives) arrive whole in req.url.
    const path = new URL(req.url ?? '/', 'http://upstream').pathname;
    requests.push({ path, headers: req.headers });
    const headers = { 'x-upstream-tag': 'up-1', 'content-type': 'text/plain' };
    if (path.startsWith('/pool-')) {
      // Slow enough that the other callers' requests wait in the pool's queue.
      setTimeout(() => res.writeHead(200, headers).end('ok'), 20);
      return;
    }
    if (path === '/partial') {
      res.writeHead(200, headers).write('partial');
      return;
    }
    res.writeHead(path === '/not-found' ? 404 : 200, headers).end('ok');
  });
  return { server, port, requests };
}

/** Runs the scenarios in one application process against its own upstream and OTLP receiver. */
async function runScenarios(options: {
  script: 'fetch-app.cjs' | 'fetch-app.mjs';
  preload: Preload;
  scenarios: readonly string[];
  env?: Record<string, string>;
  /** The installed undici copy the application gets as `undici`. */
  undici?: string;
}): Promise<Run> {
  const receiver = await OtlpReceiver.start();
  const upstream = await startUpstream();
  const app = makeAppDir({
    fixtures: [options.script, 'fetch-scenarios.cjs'],
    links: ['@opentelemetry/api'],
    aliases: { undici: options.undici ?? NPM_UNDICI_INSTALLED },
  });
  try {
    const result = await runApp({
      script: join(app, options.script),
      cwd: app,
      preload: options.preload,
      env: {
        UPSTREAM: `http://127.0.0.1:${upstream.port}`,
        CLOSED_PORT: String(await unusedPort()),
        SCENARIOS: options.scenarios.join(','),
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_BSP_SCHEDULE_DELAY: '50',
        ...options.env,
      },
    });
    expect(result.stderr).not.toMatch(/instrumentation failed/);
    expect(result.code, result.stderr).toBe(0);
    return {
      results: JSON.parse(result.stdout) as Record<string, ScenarioResult>,
      spans: receiver.spans,
      upstream: upstream.requests,
      upstreamPort: upstream.port,
      receiverPort: receiver.port,
    };
  } finally {
    upstream.server.closeAllConnections();
    upstream.server.close();
    await receiver.close();
  }
}

const clientSpansOf = (run: Run, scenario: string): ReceivedSpan[] =>
  run.spans.filter((span) => span.kind === CLIENT && span.parentSpanId === run.results[scenario]!.spanId);

const onlyClientSpanOf = (run: Run, scenario: string): ReceivedSpan => onlyOne(clientSpansOf(run, scenario), `CLIENT spans of scenario ${scenario}`);

const upstreamRequest = (run: Run, path: string): UpstreamRequest =>
  onlyOne(
    run.upstream.filter((request) => request.path === path),
    `upstream requests to ${path}`,
  );

describe.each([
  ['import', 'fetch-app.mjs'],
  ['require', 'fetch-app.cjs'],
] as const)('fetch instrumentation, agent loaded with --%s (%s)', (preload, script) => {
  let run: Run;
  beforeAll(async () => {
    run = await runScenarios({ script, preload, scenarios: ALL_SCENARIOS, env: CAPTURE_HEADERS });
  });

  it('gives a fetch() exactly one CLIENT span, child of the active span, with the HTTP client attributes', () => {
    const span = onlyClientSpanOf(run, 'ok');
    const port = run.upstreamPort;
    expect(span.name).toBe('GET');
    expect(span.traceId).toBe(run.results.ok!.traceId);
    expect(span.scope.name).toBe('tracelet/fetch');
    expect(span.status).toEqual({ code: 0, message: '' });
    expect(span.attributes).toEqual({
      'http.request.method': 'GET',
      'url.full': `http://127.0.0.1:${port}/ok?sig=REDACTED&q=1`,
      'server.address': '127.0.0.1',
      'server.port': port,
      'http.response.status_code': 200,
      'network.peer.address': '127.0.0.1',
      'network.peer.port': port,
      'network.protocol.version': '1.1',
      'http.request.header.x-request-tag': ['tag-1'],
      'http.response.header.x-upstream-tag': ['up-1'],
    });
    expect(span.attributeTypes['server.port']).toBe('intValue');
    expect(Number(span.endTimeUnixNano)).toBeGreaterThanOrEqual(Number(span.startTimeUnixNano));
  });

  it('sends the CLIENT span upstream in traceparent', () => {
    const span = onlyClientSpanOf(run, 'ok');
    expect(upstreamRequest(run, '/ok').headers.traceparent).toBe(traceparentOf(span));
    expect(span.traceId).toBe(run.results.ok!.traceId);
  });

  it('keeps a traceparent the caller set', () => {
    onlyClientSpanOf(run, 'own-traceparent');
    expect(upstreamRequest(run, '/own-traceparent').headers.traceparent).toBe(CALLER_TRACEPARENT);
  });

  it('marks a 404 as an error with error.type "404"', () => {
    const span = onlyClientSpanOf(run, 'not-found');
    expect(run.results['not-found']!.outcome).toEqual({ value: { status: 404, body: 'ok' } });
    expect(span.status.code).toBe(ERROR);
    expect(span.attributes['http.response.status_code']).toBe(404);
    expect(span.attributes['error.type']).toBe('404');
  });

  it('records a refused connection as an exception with error.type ECONNREFUSED', () => {
    const span = onlyClientSpanOf(run, 'refused');
    expect(span.status.code).toBe(ERROR);
    expect(span.status.message).toMatch(/ECONNREFUSED/);
    expect(span.attributes['error.type']).toBe('ECONNREFUSED');
    expect(span.attributes['http.response.status_code']).toBeUndefined();
    expect(span.attributes['url.full']).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/refused$/);
    const [exception] = exceptionEvents(span);
    expect(exception?.attributes['exception.type']).toBe('ECONNREFUSED');
    expect(run.results.refused!.outcome.error).toMatchObject({ name: 'TypeError', message: 'fetch failed', cause: { code: 'ECONNREFUSED' } });
  });

  it('ends a fetch aborted mid-response in error', () => {
    const span = onlyClientSpanOf(run, 'aborted');
    expect(run.results.aborted!.outcome.error).toMatchObject({ name: 'AbortError' });
    expect(span.status.code).toBe(ERROR);
    expect(span.attributes['error.type']).toBe('AbortError');
    expect(span.attributes['http.response.status_code']).toBe(200);
    expect(exceptionEvents(span)).toHaveLength(1);
  });

  it('leaves a URL with credentials to fetch, which rejects it before any request: no span, nothing sent', () => {
    expect(clientSpansOf(run, 'credentials')).toEqual([]);
    expect(run.results.credentials!.outcome.error).toMatchObject({ name: 'TypeError' });
    expect(run.upstream.filter((request) => request.path === '/credentials')).toEqual([]);
  });

  it('makes exactly the expected CLIENT spans, all children of scenario spans, none about the OTLP export', () => {
    const clientSpans = run.spans.filter((span) => span.kind === CLIENT);
    const expected = ALL_SCENARIOS.reduce((sum, scenario) => sum + EXPECTED_CLIENT_SPANS[scenario]!, 0);
    expect(clientSpans).toHaveLength(expected);
    for (const scenario of ALL_SCENARIOS) expect(clientSpansOf(run, scenario), scenario).toHaveLength(EXPECTED_CLIENT_SPANS[scenario]!);
    const aboutExport = run.spans.filter(
      (span) => String(span.attributes['url.full'] ?? '').includes('/v1/traces') || span.attributes['server.port'] === run.receiverPort,
    );
    expect(aboutExport).toEqual([]);
  });

  it(`${NPM_UNDICI}: request() and fetch() get one CLIENT span each, propagated`, () => {
    const port = run.upstreamPort;
    const request = onlyClientSpanOf(run, 'undici-request');
    expect(request.attributes).toMatchObject({
      'http.request.method': 'GET',
      'url.full': `http://127.0.0.1:${port}/undici-request`,
      'http.response.status_code': 200,
    });
    expect(upstreamRequest(run, '/undici-request').headers.traceparent).toBe(traceparentOf(request));
    const fetched = onlyClientSpanOf(run, 'undici-fetch');
    expect(fetched.attributes['url.full']).toBe(`http://127.0.0.1:${port}/undici-fetch?sig=REDACTED`);
    expect(upstreamRequest(run, '/undici-fetch').headers.traceparent).toBe(traceparentOf(fetched));
  });

  it(`${NPM_UNDICI}: an absolute-form path reports its URL with credentials redacted`, () => {
    const span = onlyClientSpanOf(run, 'undici-absolute-form');
    expect(span.attributes['url.full']).toBe(`http://REDACTED:REDACTED@127.0.0.1:${run.upstreamPort}/absolute-form?sig=REDACTED`);
    expect(span.attributes['server.address']).toBe('127.0.0.1');
    expect(span.attributes['server.port']).toBe(run.upstreamPort);
  });

  it(`${NPM_UNDICI}: global fetch and npm undici side by side give one span per request`, () => {
    const spans = clientSpansOf(run, 'mixed');
    const port = run.upstreamPort;
    expect(spans.map((span) => span.attributes['url.full']).sort()).toEqual([
      `http://127.0.0.1:${port}/mixed-global`,
      `http://127.0.0.1:${port}/mixed-npm`,
    ]);
    for (const span of spans) {
      const path = new URL(String(span.attributes['url.full'])).pathname;
      expect(upstreamRequest(run, path).headers.traceparent).toBe(traceparentOf(span));
    }
  });
});

describe('fetch instrumentation against the application without it', () => {
  it('leaves what the application sees unchanged: values and errors as without the agent', async () => {
    const [withAgent, without] = await Promise.all([
      runScenarios({ script: 'fetch-app.cjs', preload: 'require', scenarios: ALL_SCENARIOS }),
      runScenarios({ script: 'fetch-app.cjs', preload: 'none', scenarios: ALL_SCENARIOS }),
    ]);
    const outcomes = (run: Run) =>
      Object.fromEntries(
        // The ports differ between the runs (each has its own upstream and closed port).
        Object.entries(run.results).map(([scenario, result]) => [
          scenario,
          JSON.parse(
            JSON.stringify(result.outcome)
              .replaceAll(`:${run.upstreamPort}`, ':UPSTREAM')
              .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT'),
          ),
        ]),
      );
    expect(outcomes(withAgent)).toEqual(outcomes(without));
    expect(without.upstream.some((request) => request.headers.traceparent !== undefined && request.path !== '/own-traceparent')).toBe(false);
  });

  it('with OTEL_NODE_DISABLED_INSTRUMENTATIONS=fetch: no CLIENT span and no injected header', async () => {
    const run = await runScenarios({
      script: 'fetch-app.mjs',
      preload: 'import',
      scenarios: ['ok'],
      env: { OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'fetch' },
    });
    expect(run.spans.map((span) => span.name)).toEqual(['scenario ok']);
    expect(upstreamRequest(run, '/ok').headers.traceparent).toBeUndefined();
  });
});

describe.each(POOL_UNDICI_VERSIONS)('a pool of %s at its connection limit', (installed) => {
  it('parents each queued request to its own caller, not to the request that freed the connection', async () => {
    const run = await runScenarios({ script: 'fetch-app.cjs', preload: 'require', scenarios: ['pool-queue'], undici: installed });
    const { callers } = run.results['pool-queue']!.outcome.value as { callers: string[] };
    expect(callers).toHaveLength(5);
    callers.forEach((caller, i) => {
      const spans = run.spans.filter((span) => span.kind === CLIENT && String(span.attributes['url.full']).endsWith(`/pool-${i}`));
      expect(spans, `the CLIENT span of caller ${i}`).toHaveLength(1);
      expect(spans[0]!.parentSpanId, `the parent of request ${i}`).toBe(caller);
      expect(upstreamRequest(run, `/pool-${i}`).headers.traceparent).toBe(traceparentOf(spans[0]!));
    });
  });
});
