import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeAppDir } from '../helpers/app-dir';
import { OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver';
import { durationMs } from '../helpers/received-spans';
import { startApp, type App } from '../helpers/run-app';
import { CLIENT, INTERNAL, SERVER } from '../helpers/span-kinds';
import { send, type Reply } from '../helpers/http-client';
import { requirePostgres } from '../helpers/servers';

/**
 * pg queries under HTTP requests (pg-service.mjs, an ES module app under --import): 50 concurrent
 * requests share a pool of one connection, so most wait in the pool's queue and get the
 * connection from inside another request. Every query and acquisition span must still be a
 * child of its own request's server span.
 */

const REQUESTS = 50;

interface Seen {
  readonly handler: string;
  readonly afterAwait: string;
  readonly inQueryCallback: string;
  readonly inConnectCallback?: string;
}

describe('pg queries under concurrent HTTP requests, one pooled connection', () => {
  let receiver: OtlpReceiver;
  let app: App;
  let url: string;
  let table: string;
  let replies: Reply[];

  beforeAll(async () => {
    await requirePostgres();
    receiver = await OtlpReceiver.start();
    const dir = makeAppDir({ fixtures: ['pg-service.mjs'], links: ['pg', '@opentelemetry/api'] });
    app = startApp({
      script: join(dir, 'pg-service.mjs'),
      cwd: dir,
      preload: 'import',
      env: { OTEL_SERVICE_NAME: 'pg-service', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_BSP_SCHEDULE_DELAY: '50' },
      timeoutMs: 60_000,
    });
    const [, port, name] = await app.waitFor(/listening (\d+) table (\S+)/);
    url = `http://127.0.0.1:${port}`;
    table = name!;
    replies = await Promise.all(Array.from({ length: REQUESTS }, (_, i) => send(`${url}/users/${i + 1}`)));
  }, 60_000);

  afterAll(async () => {
    const result = await app?.stop();
    await receiver?.close();
    expect(result?.code, result?.stderr).toBe(0);
  });

  /** The spans of every request's trace, once all have arrived. */
  async function traces(): Promise<Map<ReceivedSpan, ReceivedSpan[]>> {
    // Per request: its server span, three acquisitions and three queries.
    await receiver.waitForSpans(REQUESTS * 7, 20_000);
    const servers = receiver.spans.filter((span) => span.kind === SERVER && String(span.attributes['url.path']).startsWith('/users/'));
    expect(servers).toHaveLength(REQUESTS);
    return new Map(servers.map((server) => [server, receiver.spans.filter((span) => span.traceId === server.traceId && span !== server)]));
  }

  it('answers every request as without the agent', () => {
    expect(replies.map((reply) => reply.status)).toEqual(Array(REQUESTS).fill(200));
    replies.forEach((reply, i) => expect(JSON.parse(reply.body)).toMatchObject({ id: i + 1, name: `user-${i + 1}`, count: 100 }));
  });

  it('made most requests wait in the pool queue', async () => {
    const stats = JSON.parse((await send(`${url}/stats`)).body) as { longestQueue: number };
    expect(stats.longestQueue).toBeGreaterThanOrEqual(REQUESTS / 2);
  });

  it('parents every query and acquisition to its own request, also when it waited for another request to release the connection', async () => {
    const byServer = await traces();
    for (const [server, spans] of byServer) {
      const id = Number(String(server.attributes['url.path']).split('/').pop());
      const children = spans.filter((span) => span.parentSpanId === server.spanId);
      expect(children.map((span) => span.name).sort(), `request ${id}`).toEqual(
        ['pg.pool.acquire', 'pg.pool.acquire', 'pg.pool.acquire', `SELECT ${table}`, `SELECT ${table}`, `UPDATE ${table}`].sort(),
      );
      for (const span of children) expect(span.kind).toBe(span.name === 'pg.pool.acquire' ? INTERNAL : CLIENT);
      expect(spans.filter((span) => span.parentSpanId !== server.spanId)).toEqual([]);
      // The request's own id went into its own queries (the sanitized text shows it as $2).
      expect(children.find((span) => span.name.startsWith('UPDATE'))!.attributes['db.query.text']).toBe(
        `UPDATE ${table} SET name = $1 WHERE id = $2`,
      );
    }
    // The setup queries, outside any request, made no span, nor did the connection they opened
    // (the pool's only one, which every request then reused).
    expect(receiver.spans.filter((span) => span.name.startsWith('CREATE') || span.name.startsWith('INSERT') || span.name === 'pg.connect')).toEqual(
      [],
    );
  });

  it('shows the waits: acquisitions that queued last longer than the query that held the connection', async () => {
    const byServer = await traces();
    const waits = [...byServer.values()].flatMap((spans) => spans.filter((span) => span.name === 'pg.pool.acquire').map(durationMs));
    // pg_sleep(0.001) per first query: a caller behind 25 others waits well over 10 ms.
    expect(waits.filter((ms) => ms > 10).length).toBeGreaterThanOrEqual(REQUESTS / 4);
  });

  it('runs callbacks and code after await in the request context', () => {
    for (const reply of replies) {
      const { seen, id } = JSON.parse(reply.body) as { seen: Seen; id: number };
      expect(seen.handler, `request ${id}`).toMatch(/^[0-9a-f]{16}$/);
      expect(seen.afterAwait).toBe(seen.handler);
      expect(seen.inQueryCallback).toBe(seen.handler);
      if (id % 2 === 1) expect(seen.inConnectCallback).toBe(seen.handler);
    }
    const handlers = new Set(replies.map((reply) => (JSON.parse(reply.body) as { seen: Seen }).seen.handler));
    expect(handlers.size).toBe(REQUESTS);
  });
});
