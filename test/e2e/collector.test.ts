import { join } from 'node:path';
import protobuf from 'protobufjs';
import { afterEach, describe, expect, it } from 'vitest';
import { OtlpReceiver, type Responder } from '../helpers/otlp-receiver';
import { FIXTURES, runApp, startApp } from '../helpers/run-app';
import { unusedPort } from '../helpers/http-client';

const SCRIPT = join(FIXTURES, 'lifecycle.cjs');

let receiver: OtlpReceiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

async function run(responder: Responder, env: Record<string, string> = {}) {
  receiver = await OtlpReceiver.start(responder);
  const started = Date.now();
  const result = await runApp({
    script: SCRIPT,
    args: ['natural'],
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_SERVICE_NAME: 'collector-test', ...env },
  });
  return { ...result, elapsedMs: Date.now() - started, receiver };
}

/** A google.rpc.Status, encoded with protobufjs from its schema: what a collector sends with an error. */
function rpcStatus(code: number, message: string): Uint8Array {
  const Status = protobuf.Root.fromJSON({
    nested: { Status: { fields: { code: { type: 'int32', id: 1 }, message: { type: 'string', id: 2 } } } },
  }).lookupType('Status');
  return Status.encode(Status.create({ code, message })).finish();
}

const warningLines = (stderr: string) => stderr.split('\n').filter((line) => /\[tracelet\] (warn|error)/.test(line));

describe('the exporter against collectors that misbehave', () => {
  it('retries a collector that answers 503 twice, then 200: the spans arrive', async () => {
    const { code, stdout, receiver: r } = await run((_req, index) => (index < 2 ? { status: 503 } : undefined));
    expect(code).toBe(0);
    expect(stdout).toBe('done\n');
    expect(r.attempts).toBe(3);
    expect(r.spans.map((s) => s.name).sort()).toEqual(['work 0', 'work 1', 'work 2']);
  });

  it('honours Retry-After on 429', async () => {
    const times: number[] = [];
    const { receiver: r } = await run((_req, index) => {
      times.push(Date.now());
      return index === 0 ? { status: 429, headers: { 'retry-after': '1' } } : undefined;
    });
    expect(r.attempts).toBe(2);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(950);
    expect(r.spans).toHaveLength(3);
  });

  it('does not retry a 400 and reports the collector message once', async () => {
    const {
      code,
      stdout,
      stderr,
      receiver: r,
    } = await run(() => ({
      status: 400,
      headers: { 'content-type': 'application/x-protobuf' },
      body: rpcStatus(3, 'span name too long for this backend'),
    }));
    expect(code).toBe(0);
    expect(stdout).toBe('done\n');
    expect(r.attempts).toBe(1);
    const lines = warningLines(stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('HTTP 400: span name too long for this backend');
  });

  it('reports partial success from the collector', async () => {
    const { stderr } = await run(
      () => ({
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ partialSuccess: { rejectedSpans: 1, errorMessage: 'one span had no name' } }),
      }),
      { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' },
    );
    expect(warningLines(stderr).join('\n')).toContain('rejected 1: one span had no name');
  });

  it('leaves the app untouched when the collector is down: same output and exit, one warning, no hang', async () => {
    const closed = await unusedPort();
    const started = Date.now();
    const result = await runApp({
      script: SCRIPT,
      args: ['natural'],
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${closed}`, OTEL_SERVICE_NAME: 'collector-down' },
    });
    const elapsed = Date.now() - started;
    const baseline = await runApp({ script: SCRIPT, args: ['natural'], preload: 'none' });
    expect(result.code).toBe(baseline.code);
    expect(result.stdout).toBe(baseline.stdout);
    const lines = warningLines(result.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`cannot deliver spans to http://127.0.0.1:${closed}/v1/traces (ECONNREFUSED`);
    expect(elapsed).toBeLessThan(5000);
  });

  it('says once that the collector is unreachable, keeps the app running, and recovers when it comes back', async () => {
    const port = await unusedPort();
    const app = startApp({
      script: SCRIPT,
      args: ['periodic'],
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_BSP_SCHEDULE_DELAY: '100', OTEL_EXPORTER_OTLP_TIMEOUT: '300' },
    });
    await app.waitFor(/cannot deliver spans/, 'stderr');
    await new Promise((r) => setTimeout(r, 800));
    receiver = await OtlpReceiver.start(undefined, port);
    await receiver.waitForSpans(5, 10_000);
    await app.waitFor(/answers again; \d+ spans were lost while it did not/, 'stderr');
    const { stderr } = await app.stop('SIGKILL');
    expect(stderr.match(/cannot deliver spans/g)).toHaveLength(1);
  });

  it('gives a clear hint on 404', async () => {
    const { stderr } = await run(() => ({ status: 404, body: 'not found' }));
    expect(warningLines(stderr).join('\n')).toContain('HTTP 404: not found (is the URL right?');
  });
});
