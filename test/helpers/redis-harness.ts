// Runs redis-app / ioredis-app (redis-scenarios.cjs) as a user would, against the Redis server of
// this machine, and checks what the agent exported. Shared by test/e2e/redis.test.ts (node-redis)
// and test/e2e/ioredis.test.ts, which differ only in their clients' versions and ways.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { satisfies } from 'semver';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeAppDir } from './app-dir';
import { send } from './http-client';
import { OtlpReceiver, type ReceivedSpan } from './otlp-receiver';
import { durationMs, exceptionEvents } from './received-spans';
import { APP_NODE_VERSION, REPO_ROOT, startApp, type Preload } from './run-app';
import { CLIENT, ERROR, SERVER } from './span-kinds';

/** The value the fixture plants in every scenario (its own constant). */
const { SECRET } = require('../e2e/fixtures/redis-scenarios.cjs') as { SECRET: string };

export const CONCURRENT_REQUESTS = 100;

export const SCENARIOS = [
  'basic',
  'wrongtype',
  'auth',
  'pipeline',
  'multi',
  'multi-same',
  'multi-abort',
  'multi-runtime-error',
  'watch-conflict',
  'blocking',
  'pubsub',
  'context',
  'reconnect',
] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface Outcome {
  readonly value?: unknown;
  readonly error?: { class: string; message: string };
}

interface RouteResult {
  readonly traceId: string | null;
  readonly spanId: string | null;
  readonly outcome: Outcome;
}

export interface Run {
  readonly prefix: string;
  readonly results: Record<Scenario, RouteResult>;
  readonly concurrent: RouteResult[];
  readonly spans: ReceivedSpan[];
  readonly stderr: string;
}

/** One installed client version, as an application gets it. */
export interface ClientVersion {
  /** What the tests call it, e.g. `redis 4.7 (@redis/client 1.6, patched)`. */
  readonly label: string;
  /** The package the application requires: 'redis' or 'ioredis'. */
  readonly name: 'redis' | 'ioredis';
  /** The directory under node_modules it is installed in (an npm alias for older versions). */
  readonly installed: string;
  readonly script: string;
  readonly preload: Preload;
}

/** Node versions a client version runs on (its engines field); undefined when it says nothing. */
function enginesOf(installed: string): string | undefined {
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', installed, 'package.json'), 'utf8')) as { engines?: { node?: string } };
  return manifest.engines?.node;
}

/** True when the application's Node can run this client version. */
function runsOnAppNode(installed: string): boolean {
  const engines = enginesOf(installed);
  return engines === undefined || satisfies(APP_NODE_VERSION, engines);
}

/**
 * Runs every scenario in one application process (agent loaded, or not when `agent` is false),
 * then CONCURRENT_REQUESTS concurrent requests on the shared client, then ends the process and
 * returns what the application answered and the spans the receiver decoded.
 */
export async function runScenarios(client: ClientVersion, agent = true): Promise<Run> {
  const receiver = await OtlpReceiver.start();
  const adapter = client.name === 'redis' ? 'redis-adapter.cjs' : 'ioredis-adapter.cjs';
  const dir = makeAppDir({
    fixtures: [client.script, 'redis-scenarios.cjs', adapter],
    // The newest versions are installed under their own name; older ones get a copy under it.
    links: client.installed === client.name ? ['@opentelemetry/api', client.name] : ['@opentelemetry/api'],
    aliases: client.installed === client.name ? {} : { [client.name]: client.installed },
  });
  const app = startApp({
    script: join(dir, client.script),
    cwd: dir,
    preload: agent ? client.preload : 'none',
    env: {
      OTEL_SERVICE_NAME: 'redis-app',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_BSP_SCHEDULE_DELAY: '50',
      OTEL_BSP_MAX_QUEUE_SIZE: '10000',
    },
    timeoutMs: 60_000,
  });
  try {
    const [, port, prefix] = await app.waitFor(/listening (\d+) (\S+)/);
    const route = async (path: string) => JSON.parse((await send(`http://127.0.0.1:${port}${path}`)).body) as RouteResult;
    const results = {} as Record<Scenario, RouteResult>;
    for (const scenario of SCENARIOS) results[scenario] = await route(`/${scenario}`);
    const concurrent = await Promise.all(Array.from({ length: CONCURRENT_REQUESTS }, (_, i) => route(`/concurrent?i=${i}`)));
    await send(`http://127.0.0.1:${port}/shutdown`);
    const exit = await app.exited;
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.stderr).not.toMatch(/instrumentation failed|could not instrument|patching .* failed|uninstrumented|stop failed/);
    return { prefix: prefix!, results, concurrent, spans: receiver.spans, stderr: exit.stderr };
  } finally {
    app.child.kill('SIGKILL');
    await receiver.close();
  }
}

export const redisSpans = (spans: readonly ReceivedSpan[]) => spans.filter((span) => span.attributes['db.system.name'] === 'redis');

/** The Redis spans of a scenario's request, in start order, after checking they all are children of its SERVER span. */
export function spansOf(run: Run, scenario: Scenario | RouteResult): ReceivedSpan[] {
  const result = typeof scenario === 'string' ? run.results[scenario] : scenario;
  const server = run.spans.find((span) => span.spanId === result.spanId);
  expect(server?.kind, `the SERVER span of ${typeof scenario === 'string' ? scenario : 'a request'}`).toBe(SERVER);
  const inTrace = redisSpans(run.spans).filter((span) => span.traceId === result.traceId);
  for (const span of inTrace) {
    expect(span.kind).toBe(CLIENT);
    expect(span.parentSpanId, `${span.name} is a child of the request's SERVER span`).toBe(result.spanId);
  }
  return inTrace.sort((a, b) => Number(BigInt(a.startTimeUnixNano) - BigInt(b.startTimeUnixNano)));
}

export const names = (spans: readonly ReceivedSpan[]) => spans.map((span) => span.name);
export const texts = (spans: readonly ReceivedSpan[]) => spans.map((span) => span.attributes['db.query.text']);

/** Everything of a span a value could hide in. */
export function spanText(span: ReceivedSpan): string {
  return JSON.stringify({ name: span.name, attributes: span.attributes, events: span.events, status: span.status, links: span.links });
}

/** How one client version differs from the others in what it lets the agent see. */
export interface Traits {
  /** network.peer.* on command spans: the client exposes its socket. */
  readonly peer: boolean;
  /** error.type of a MULTI with a command Redis rejects: what the application gets (ERR, EXECABORT). */
  readonly multiAbortErrorType: string;
  /** The spans of the pubsub scenario, in order. */
  readonly pubsubSpans: readonly string[];
  /** The spans of the context scenario, in order. */
  readonly contextSpans: readonly string[];
}

/** The Redis spans each scenario's request must have, in order. */
function expectedNames(traits: Traits): Record<Scenario, readonly string[]> {
  return {
    basic: ['SET', 'GET', 'HSET', 'HGETALL', 'LPUSH', 'LRANGE', 'MSET', 'MGET', 'EVAL', 'DEL'],
    wrongtype: ['SET', 'LPUSH'],
    auth: ['AUTH'],
    pipeline: ['SET', 'INCR', 'GET'],
    multi: ['MULTI'],
    'multi-same': ['MULTI INCR'],
    'multi-abort': ['MULTI'],
    'multi-runtime-error': ['MULTI'],
    'watch-conflict': ['WATCH', 'SET', 'MULTI SET'],
    blocking: ['BLPOP'],
    pubsub: traits.pubsubSpans,
    context: traits.contextSpans,
    reconnect: ['CLIENT', 'CLIENT', 'GET'],
  };
}

/**
 * The end-to-end suite of one client version: one run with the agent, one without. A version the
 * application's Node cannot run is left out, and the suite says so.
 */
export function describeClient(client: ClientVersion, traits: Traits): void {
  if (!runsOnAppNode(client.installed)) {
    describe(client.label, () => {
      it(`is left out: it needs Node ${enginesOf(client.installed)}, the application runs on Node ${APP_NODE_VERSION}`, () => {
        expect(runsOnAppNode(client.installed)).toBe(false);
      });
    });
    return;
  }
  describe(client.label, () => {
    let run: Run;
    let baseline: Run;
    const key = (scenario: Scenario) => `${run.prefix}${scenario}:`;

    beforeAll(async () => {
      [run, baseline] = await Promise.all([runScenarios(client), runScenarios(client, false)]);
    }, 120_000);

    it('gives the application the same values and errors as without the agent', () => {
      for (const scenario of SCENARIOS) expect(run.results[scenario].outcome, scenario).toEqual(baseline.results[scenario].outcome);
      // Their values are their keys, which name the process.
      const values = (of: Run) => of.concurrent.map((result) => String(result.outcome.value).replace(of.prefix, '<prefix>'));
      expect(values(run)).toEqual(values(baseline));
      expect(run.results.basic.outcome.value).toMatchObject({ str: SECRET, many: [SECRET, 'x'], evaluated: SECRET });
    });

    it('makes one CLIENT span per command, named after it, child of the request, with the database attributes', () => {
      const spans = spansOf(run, 'basic');
      const k = key('basic');
      expect(names(spans)).toEqual(expectedNames(traits).basic);
      expect(texts(spans)).toEqual([
        `SET ${k}str ?`,
        `GET ${k}str`,
        `HSET ${k}hash ? ?`,
        `HGETALL ${k}hash`,
        `LPUSH ${k}list ?`,
        `LRANGE ${k}list ? ?`,
        `MSET ${k}m1 ? ${k}m2 ?`,
        `MGET ${k}m1 ${k}m2`,
        `EVAL ? 1 ${k}str`,
        `DEL ${k}str ${k}hash ${k}list ${k}m1 ${k}m2`,
      ]);
      expect(spans[0]!.scope.name).toBe(`tracelet/${client.name}`);
      expect(spans[0]!.attributes).toEqual({
        'db.system.name': 'redis',
        'db.operation.name': 'SET',
        'db.query.text': `SET ${k}str ?`,
        'db.namespace': '3',
        'server.address': '127.0.0.1',
        'server.port': 6379,
        ...(traits.peer ? { 'network.peer.address': '127.0.0.1', 'network.peer.port': 6379 } : {}),
      });
      expect(spans[0]!.attributeTypes['server.port']).toBe('intValue');
      for (const span of spans) {
        expect(span.status.code, span.name).toBe(0);
        expect(span.attributes['db.operation.name']).toBe(span.name);
      }
    });

    it('records WRONGTYPE as the error: exception, error.type and db.response.status_code', () => {
      const [, lpush] = spansOf(run, 'wrongtype');
      expect(run.results.wrongtype.outcome.error?.message).toMatch(/^WRONGTYPE/);
      expect(lpush!.status).toEqual({ code: ERROR, message: run.results.wrongtype.outcome.error!.message });
      expect(lpush!.attributes).toMatchObject({ 'error.type': 'WRONGTYPE', 'db.response.status_code': 'WRONGTYPE' });
      expect(exceptionEvents(lpush!)).toHaveLength(1);
      expect(exceptionEvents(lpush!)[0]!.attributes['exception.message']).toBe(run.results.wrongtype.outcome.error!.message);
    });

    it('never shows AUTH credentials', () => {
      const [auth] = spansOf(run, 'auth');
      expect(auth!.attributes['db.query.text']).toBe('AUTH ? ?');
      expect(auth!.attributes['error.type']).toBe('WRONGPASS');
    });

    it("gives each command of a pipeline its own span, child of the caller's", () => {
      const k = key('pipeline');
      expect(texts(spansOf(run, 'pipeline'))).toEqual([`SET ${k}a ?`, `INCR ${k}n`, `GET ${k}a`]);
      expect(names(spansOf(run, 'pipeline'))).toEqual(expectedNames(traits).pipeline);
    });

    it('makes a MULTI transaction one span listing its commands, with db.operation.batch.size', () => {
      const k = key('multi');
      const [multi] = spansOf(run, 'multi');
      expect(multi!.name).toBe('MULTI');
      expect(multi!.status.code).toBe(0);
      expect(multi!.attributes).toMatchObject({
        'db.operation.name': 'MULTI',
        'db.query.text': `SET ${k}a ?; INCR ${k}n; GET ${k}a`,
        'db.operation.batch.size': 3,
        'db.namespace': '3',
      });
      const [same] = spansOf(run, 'multi-same');
      expect(same!.attributes).toMatchObject({
        'db.operation.name': 'MULTI INCR',
        'db.query.text': `INCR ${key('multi-same')}x; INCR ${key('multi-same')}y`,
        'db.operation.batch.size': 2,
      });
    });

    it('marks a MULTI that fails (a rejected command, EXECABORT) as an error', () => {
      const [multi] = spansOf(run, 'multi-abort');
      expect(run.results['multi-abort'].outcome.error?.message).toMatch(new RegExp(`^${traits.multiAbortErrorType} `));
      expect(multi!.status.code).toBe(ERROR);
      expect(multi!.attributes).toMatchObject({
        'error.type': traits.multiAbortErrorType,
        'db.query.text': `SET ${key('multi-abort')} ?; NOSUCHCOMMAND ?`,
      });
    });

    it('marks a MULTI whose WATCHed key changed as an error, error.type WatchError', () => {
      const [watch, set, multi] = spansOf(run, 'watch-conflict');
      expect(names([watch!, set!, multi!])).toEqual(expectedNames(traits)['watch-conflict']);
      expect(multi!.status.code).toBe(ERROR);
      expect(multi!.attributes).toMatchObject({ 'error.type': 'WatchError', 'db.query.text': `SET ${key('watch-conflict')} ?` });
    });

    it("leaves a committed MULTI OK when one of its commands failed (the application reads that in EXEC's replies)", () => {
      const [multi] = spansOf(run, 'multi-runtime-error');
      expect(multi!.status.code).toBe(0);
    });

    it('ends the span of a blocking command with a timeout when it returns', () => {
      const [blpop] = spansOf(run, 'blocking');
      expect(run.results.blocking.outcome).toEqual({ value: null });
      expect(blpop!.attributes['db.query.text']).toBe(`BLPOP ${key('blocking')} ?`);
      expect(durationMs(blpop!)).toBeGreaterThanOrEqual(150);
    });

    it('gives a subscriber connection spans that end, and the messages it receives none', () => {
      expect(run.results.pubsub.outcome).toEqual({ value: 3 });
      const spans = spansOf(run, 'pubsub');
      expect(names(spans)).toEqual(traits.pubsubSpans);
      expect(texts(spans.filter((span) => span.name === 'PUBLISH'))).toEqual(Array(3).fill(`PUBLISH ${key('pubsub')}channel ?`));
    });

    it("keeps the caller's context after await (and in ioredis callbacks)", () => {
      const value = run.results.context.outcome.value as {
        sameAfterAwait?: boolean;
        ok: { sameInCallback?: boolean };
        failed: { sameInCallback?: boolean };
      };
      expect(value.sameAfterAwait).toBe(true);
      if (client.name === 'ioredis') expect([value.ok.sameInCallback, value.failed.sameInCallback]).toEqual([true, true]);
      expect(names(spansOf(run, 'context'))).toEqual(traits.contextSpans);
    });

    it('traces a reconnection, and parents a command sent meanwhile to its caller, not to the reconnection', () => {
      const outcome = run.results.reconnect.outcome.value as { ready?: boolean; status?: string; value: unknown; sameAfterAwait: boolean };
      // The GET was sent while the client was disconnected.
      if (client.name === 'redis') expect(outcome.ready).toBe(false);
      else expect(outcome.status).toBe('reconnecting');
      const [id, kill, get] = spansOf(run, 'reconnect');
      expect(texts([id!, kill!, get!])).toEqual(['CLIENT ID', 'CLIENT KILL ? ?', `GET ${key('reconnect')}`]);

      const startup = run.spans.find((span) => span.name === 'startup')!;
      const connects = redisSpans(run.spans)
        .filter((span) => span.traceId === startup.traceId)
        .sort((a, b) => Number(BigInt(a.startTimeUnixNano) - BigInt(b.startTimeUnixNano)));
      // The two clients' connections, then the reconnection, all in the context the clients connected in.
      expect(names(connects)).toEqual(['connect', 'connect', 'connect']);
      for (const span of connects) {
        expect(span.parentSpanId).toBe(startup.spanId);
        expect(span.kind).toBe(CLIENT);
        expect(span.attributes).toMatchObject({ 'db.system.name': 'redis', 'server.address': '127.0.0.1', 'server.port': 6379 });
        expect(span.attributes['db.namespace']).toBeUndefined();
        expect(span.status.code).toBe(0);
      }
      const reconnection = connects[2]!;
      expect(BigInt(get!.startTimeUnixNano)).toBeLessThan(BigInt(reconnection.endTimeUnixNano));
      expect(BigInt(get!.endTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(reconnection.startTimeUnixNano));
    });

    it('makes no span for a command outside any trace (OTEL_INSTRUMENTATION_DB_REQUIRE_PARENT_SPAN defaults to true)', () => {
      expect(redisSpans(run.spans).filter((span) => String(span.attributes['db.query.text']).includes(`${run.prefix}untraced`))).toEqual([]);
    });

    it(`puts every command span of ${CONCURRENT_REQUESTS} concurrent requests on one shared client under its own request`, () => {
      run.concurrent.forEach((result, i) => {
        const k = `${run.prefix}concurrent:${i}:`;
        expect(result.outcome).toEqual({ value: k });
        const spans = spansOf(run, result);
        expect(texts(spans)).toEqual([`SET ${k} ?`, `GET ${k}`]);
      });
    });

    it('exports the planted secret value in no span', () => {
      expect(run.spans.length).toBeGreaterThan(0);
      for (const span of run.spans) expect(spanText(span), span.name).not.toContain(SECRET);
    });

    it('makes exactly the expected Redis spans, none twice', () => {
      const expected = expectedNames(traits);
      for (const scenario of SCENARIOS) expect(names(spansOf(run, scenario)), scenario).toEqual(expected[scenario]);
      const total = SCENARIOS.reduce((sum, scenario) => sum + expected[scenario].length, 0) + 2 * CONCURRENT_REQUESTS + 3;
      expect(redisSpans(run.spans)).toHaveLength(total);
      expect(redisSpans(baseline.spans)).toEqual([]);
    });
  });
}
