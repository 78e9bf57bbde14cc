import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PARENT_ID, send, TRACE_ID } from '../helpers/http-client';
import { receiverForEachTest } from '../helpers/otlp-receiver';
import { agentLines, FIXTURES, startApp, type App } from '../helpers/run-app';
import { CLIENT, SERVER } from '../helpers/span-kinds';

/**
 * Baggage that breaks the W3C Baggage rules never leaves a service: a caller sends a 100 KB
 * `uberctx-user` header and `baggage` members with malformed properties (both seen forwarded by
 * the agent before), next to valid entries; the service calls an upstream with http.request and
 * with fetch; the upstream sees only the valid entries, in both formats.
 */

const receiver = receiverForEachTest();
const apps: App[] = [];
const servers: Server[] = [];

afterEach(async () => {
  for (const app of apps.splice(0)) await app.stop();
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

interface UpstreamRequest {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
}

/**
 * The upstream: records each request's headers. Not test/helpers' listen(): its server keeps Node's
 * 16 KB header limit and would answer 431 to the very headers this test must be able to see, were
 * the agent to forward them.
 */
async function startUpstream(): Promise<{ url: string; requests: UpstreamRequest[] }> {
  const requests: UpstreamRequest[] = [];
  const server = createServer({ maxHeaderSize: 1024 * 1024 }, (req, res) => {
    requests.push({ path: req.url ?? '', headers: req.headers });
    res.end('ok');
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

const OVERSIZED_USER = 'x'.repeat(100 * 1024);
const INCOMING = {
  traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`,
  // Two members whose properties break the grammar (a tab then junk; a non-token and an empty
  // property), between valid ones, one of them with a valid property.
  baggage: 'user.id=42,k86=DF%2028;.\t3J,tenant59=%E2%82%AC;{;,region=eu%20west;ttl=60',
  'uberctx-user': OVERSIZED_USER,
  'uberctx-tenant': 'acme',
};

describe('baggage under OTEL_PROPAGATORS=tracecontext,baggage,jaeger', () => {
  for (const script of ['app.cjs', 'app.mjs']) {
    it(`${script}: oversized and malformed entries are not passed on by http.request or fetch; valid ones are`, async () => {
      const upstream = await startUpstream();
      const app = startApp({
        script: join(FIXTURES, 'baggage-limits', script),
        env: {
          UPSTREAM_URL: upstream.url,
          OTEL_PROPAGATORS: 'tracecontext,baggage,jaeger',
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver().endpoint,
          OTEL_BSP_SCHEDULE_DELAY: '50',
          OTEL_LOG_LEVEL: 'debug',
        },
      });
      apps.push(app);
      const [, port] = await app.waitFor(/listening (\d+)/);

      const reply = await send(`http://127.0.0.1:${port}/`, { headers: INCOMING });
      expect(reply).toMatchObject({ status: 200, body: 'http 200, fetch 200' });

      expect(upstream.requests.map((request) => request.path)).toEqual(['/http', '/fetch']);
      for (const { path, headers } of upstream.requests) {
        // The valid entries, from both formats, in both formats; nothing else.
        expect(headers['baggage'], path).toBe('user.id=42,region=eu%20west;ttl=60,tenant=acme');
        const uberctx = Object.fromEntries(Object.entries(headers).filter(([name]) => name.startsWith('uberctx-')));
        expect(uberctx, path).toEqual({ 'uberctx-user.id': '42', 'uberctx-region': 'eu%20west', 'uberctx-tenant': 'acme' });
        const sizes = Object.values(headers).map((value) => String(value).length);
        expect(Math.max(...sizes), path).toBeLessThan(1024);
      }

      // The agent was there: one trace, continued from the caller, each call a CLIENT span whose
      // context the upstream received.
      const spans = await receiver().waitForSpans(3);
      const server = spans.find((span) => span.kind === SERVER)!;
      expect(server.traceId).toBe(TRACE_ID);
      expect(server.parentSpanId).toBe(PARENT_ID);
      const clients = spans.filter((span) => span.kind === CLIENT);
      expect(clients).toHaveLength(2);
      for (const { headers } of upstream.requests) {
        const client = clients.find((span) => headers['traceparent'] === `00-${TRACE_ID}-${span.spanId}-01`);
        expect(client?.parentSpanId, headers['traceparent'] as string).toBe(server.spanId);
        expect(headers['uber-trace-id']).toBe(`${TRACE_ID}:${client!.spanId}:0:01`);
      }

      // What was dropped is said at debug level, once for the incoming request's headers.
      const lines = agentLines(app.stderr);
      expect(lines.filter((line) => line.includes('baggage header received'))).toEqual([
        expect.stringContaining('dropped 2 malformed and 0 over-limit baggage list-members'),
      ]);
      expect(lines.filter((line) => line.includes('uberctx headers received'))).toEqual([
        expect.stringContaining('dropped 0 malformed and 1 over-limit baggage list-members'),
      ]);
      expect(lines.filter((line) => line.includes('headers sent:') || line.includes('header sent:'))).toEqual([]);
    });
  }
});
