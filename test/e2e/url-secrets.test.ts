import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { listen, send, type Listening } from '../helpers/http-client';
import { ExportTraceServiceRequest } from '../helpers/otlp-receiver';
import { onlyOne } from '../helpers/received-spans';
import { FIXTURES, startApp, type App, type Preload } from '../helpers/run-app';
import { CLIENT, SERVER } from '../helpers/span-kinds';

/**
 * Secrets in query strings never reach the collector: the test plants unique random values in the
 * queries of a request to a service and of the three upstream requests the service makes
 * (http.get with a URL, http.request with options.path, fetch), then searches the raw bytes of
 * every export request the collector received, not only the attributes decoded from them.
 */

/** A value found nowhere else: if these bytes reach the collector, the parameter leaked. */
const planted = (label: string) => `${label}${randomBytes(12).toString('hex')}`;

/** The values one run plants: `secret` ones are named like credentials, `kept` ones are not. */
function plant() {
  const secret = {
    token: planted('s-token-'),
    password: planted('s-password-'),
    bracketed: planted('s-bracketed-'),
    amzSignature: planted('s-amz-'),
    accessToken: planted('s-access-'),
    sig: planted('s-sig-'),
    clientSecret: planted('s-client-'),
    apiKey: planted('s-apikey-'),
    camelApiKey: planted('s-camel-'),
  };
  const kept = { q: planted('k-q-'), url: planted('k-url-'), options: planted('k-options-'), fetch: planted('k-fetch-') };
  return {
    secret,
    kept,
    incomingQuery: `token=${secret.token}&q=${kept.q}&Password=${secret.password}&user%5Bpassword%5D=${secret.bracketed}&X-Amz-Signature=${secret.amzSignature}&page=2`,
    env: {
      HTTP_URL_QUERY: `access_token=${secret.accessToken}&keep=${kept.url}`,
      HTTP_OPTIONS_QUERY: `sig=${secret.sig}&client_secret=${secret.clientSecret}&keep=${kept.options}`,
      FETCH_QUERY: `api_key=${secret.apiKey}&apiKey=${secret.camelApiKey}&keep=${kept.fetch}`,
    },
  };
}

interface DecodedSpan {
  readonly kind: number;
  readonly attributes: Record<string, unknown>;
}

/**
 * An OTLP/HTTP receiver that keeps every request body as it arrived (gunzipped when compressed),
 * and decodes spans with the opentelemetry-proto schema (protobuf) or as OTLP/JSON.
 */
class RawReceiver {
  readonly bodies: Buffer[] = [];
  readonly spans: DecodedSpan[] = [];

  private constructor(private readonly server: Server) {}

  static async start(): Promise<RawReceiver> {
    let receiver: RawReceiver | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        receiver!.receive(req, Buffer.concat(chunks));
        res.writeHead(200).end(String(req.headers['content-type']).includes('json') ? '{}' : '');
      });
    });
    receiver = new RawReceiver(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Every byte the collector received, bodies joined. */
  get raw(): Buffer {
    return Buffer.concat(this.bodies);
  }

  async waitForSpans(count: number, timeoutMs = 10_000): Promise<DecodedSpan[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.spans.length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} spans, received ${this.spans.length}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.spans;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private receive(req: IncomingMessage, compressed: Buffer): void {
    const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(compressed) : compressed;
    this.bodies.push(body);
    const json = String(req.headers['content-type']).includes('json');
    // toObject with oneofs: each AnyValue names its set member, as OTLP/JSON does.
    const message = json
      ? JSON.parse(body.toString('utf8'))
      : ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(body), { longs: String, enums: Number, oneofs: true });
    for (const resourceSpans of message.resourceSpans ?? []) {
      for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
        for (const span of scopeSpans.spans ?? []) {
          const attributes: Record<string, unknown> = {};
          for (const { key, value } of span.attributes ?? []) attributes[key] = value.stringValue ?? Number(value.intValue);
          this.spans.push({ kind: span.kind, attributes });
        }
      }
    }
  }
}

const running: { apps: App[]; receivers: RawReceiver[]; upstreams: Listening[] } = { apps: [], receivers: [], upstreams: [] };

afterEach(async () => {
  for (const app of running.apps.splice(0)) await app.stop();
  for (const receiver of running.receivers.splice(0)) await receiver.close();
  for (const { server } of running.upstreams.splice(0)) await new Promise((resolve) => server.close(resolve));
});

interface Run {
  readonly planted: ReturnType<typeof plant>;
  readonly receiver: RawReceiver;
  readonly server: DecodedSpan;
  readonly client: (path: string) => DecodedSpan;
  /** The request targets the upstream received: the application's requests are unchanged. */
  readonly upstreamTargets: string[];
  /** http://127.0.0.1:<port> of the upstream. */
  readonly upstreamUrl: string;
}

/** Starts the upstream, the collector and the service, calls /call once and waits for its four spans. */
async function run(script: string, preload: Preload, env: Record<string, string> = {}): Promise<Run> {
  const values = plant();
  const upstreamTargets: string[] = [];
  const upstream = await listen((req, res) => {
    upstreamTargets.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
  running.upstreams.push(upstream);
  const receiver = await RawReceiver.start();
  running.receivers.push(receiver);
  const app = startApp({
    script: join(FIXTURES, 'url-secrets', script),
    preload,
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_BSP_SCHEDULE_DELAY: '50', UPSTREAM_URL: upstream.url, ...values.env, ...env },
  });
  running.apps.push(app);
  const [, port] = await app.waitFor(/listening (\d+)/);

  const reply = await send(`http://127.0.0.1:${port}/call?${values.incomingQuery}`);
  expect(reply).toMatchObject({ status: 200, body: '200,200,200' });
  const spans = await receiver.waitForSpans(4);
  const clients = spans.filter((span) => span.kind === CLIENT);
  return {
    planted: values,
    receiver,
    server: onlyOne(
      spans.filter((span) => span.kind === SERVER),
      'one server span',
    ),
    client: (path) =>
      onlyOne(
        clients.filter((span) => String(span.attributes['url.full']).includes(path)),
        `one client span to ${path}`,
      ),
    upstreamTargets,
    upstreamUrl: upstream.url,
  };
}

/** The planted values found in the raw bytes the collector received. */
const foundIn = (raw: Buffer, values: Record<string, string>): string[] =>
  Object.entries(values)
    .filter(([, value]) => raw.includes(value))
    .map(([name]) => name);

describe('secrets in query strings are redacted before export', () => {
  for (const [script, preload, protocol] of [
    ['app.cjs', 'require', 'http/protobuf'],
    ['app.mjs', 'import', 'http/json'],
  ] as const) {
    it(`by default, on server, http.request and fetch spans (${script}, ${protocol})`, async () => {
      const {
        planted,
        receiver,
        server,
        client,
        upstreamTargets,
        upstreamUrl: base,
      } = await run(script, preload, {
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
      });
      const { secret, kept } = planted;

      expect(foundIn(receiver.raw, secret)).toEqual([]);
      // The search itself works: what is not a secret is there, as sent.
      expect(foundIn(receiver.raw, kept)).toEqual(Object.keys(kept));

      expect(server.attributes['url.query']).toBe(
        `token=REDACTED&q=${kept.q}&Password=REDACTED&user%5Bpassword%5D=REDACTED&X-Amz-Signature=REDACTED&page=2`,
      );
      expect(client('/via-url').attributes['url.full']).toBe(`${base}/via-url?access_token=REDACTED&keep=${kept.url}`);
      expect(client('/via-options').attributes['url.full']).toBe(`${base}/via-options?sig=REDACTED&client_secret=REDACTED&keep=${kept.options}`);
      expect(client('/via-fetch').attributes['url.full']).toBe(`${base}/via-fetch?api_key=REDACTED&apiKey=REDACTED&keep=${kept.fetch}`);

      // Only the telemetry is redacted: the upstream got the secrets.
      expect(upstreamTargets.sort()).toEqual(
        [`/via-fetch?${planted.env.FETCH_QUERY}`, `/via-options?${planted.env.HTTP_OPTIONS_QUERY}`, `/via-url?${planted.env.HTTP_URL_QUERY}`].sort(),
      );
    });
  }

  it('OTEL_INSTRUMENTATION_HTTP_SENSITIVE_QUERY_PARAMETERS replaces the default names; the conventions keys stay redacted', async () => {
    const { planted, receiver } = await run('app.cjs', 'require', { OTEL_INSTRUMENTATION_HTTP_SENSITIVE_QUERY_PARAMETERS: 'keep, q' });
    const { secret, kept } = planted;
    // The listed names are redacted now...
    expect(foundIn(receiver.raw, kept)).toEqual([]);
    // ...the default ones no longer, but for the keys the semantic conventions list.
    expect(foundIn(receiver.raw, secret).sort()).toEqual(['accessToken', 'apiKey', 'bracketed', 'camelApiKey', 'clientSecret', 'password', 'token']);
  });

  it('none keeps only the conventions keys; a bad value warns and keeps the default names', async () => {
    const none = await run('app.cjs', 'require', { OTEL_INSTRUMENTATION_HTTP_SENSITIVE_QUERY_PARAMETERS: 'none' });
    expect(none.server.attributes['url.query']).toBe(
      `token=${none.planted.secret.token}&q=${none.planted.kept.q}&Password=${none.planted.secret.password}&user%5Bpassword%5D=${none.planted.secret.bracketed}&X-Amz-Signature=REDACTED&page=2`,
    );

    const bad = await run('app.cjs', 'require', { OTEL_INSTRUMENTATION_HTTP_SENSITIVE_QUERY_PARAMETERS: 'keep,tok*en' });
    expect(foundIn(bad.receiver.raw, bad.planted.secret)).toEqual([]);
    expect(foundIn(bad.receiver.raw, bad.planted.kept)).toEqual(Object.keys(bad.planted.kept));
    const app = running.apps.at(-1)!;
    expect(app.stderr).toContain('OTEL_INSTRUMENTATION_HTTP_SENSITIVE_QUERY_PARAMETERS="keep,tok*en" is invalid');
  });
});
