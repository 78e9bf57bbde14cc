import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { httpInstrumentation } from '../../../../instrumentations/http';
import { patchClient } from '../../../../instrumentations/http/client';
import { patchEmit } from '../../../../instrumentations/http/emit';
import { installContextManager, removeContextManager } from '../../../helpers/context';
import { unusedPort } from '../../../helpers/http-client';
import { instrumentationContext } from '../../../helpers/instrumentation-context';
import { clientSpans, expectPlausibleSeconds, RecordingRecorder, switchableProvider, useRecorder } from '../shared/recording-metrics';

/**
 * http.client.request.duration of http.request and http.get against a real loopback server,
 * sampled or not: the end is the one the span uses (the response read to its end, an error, a
 * close before any response), seen through the emit hook that follows the request either way.
 * Only a copy of request/get is wrapped, so the test's own server stays untraced.
 */
installContextManager();
afterAll(() => removeContextManager());
const { provider, processor, inRequest } = switchableProvider();
const ctx = instrumentationContext(httpInstrumentation, provider.getTracer('tracelet/http'), {}, { throwErrors: true });
patchEmit(http.ClientRequest.prototype, ctx);
patchEmit(http.IncomingMessage.prototype, ctx);
type RequestFunction = typeof http.request;
const traced = { request: http.request as RequestFunction, get: http.get as RequestFunction };
patchClient(traced as never, 'http', ctx);

const server = http.createServer((req, res) => {
  res.statusCode = req.url === '/fail' ? 500 : 200;
  setTimeout(() => res.end('body'), 5);
});
let port = 0;
const recorder = new RecordingRecorder();

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  useRecorder(undefined);
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  recorder.clear();
  processor.spans.length = 0;
  useRecorder(recorder);
});

interface Got {
  readonly status?: number;
  readonly body?: string;
  readonly error?: NodeJS.ErrnoException;
}

/** A request through the wrapped function, read to its end; its outcome as the application saw it. */
function send(method: 'request' | 'get', path: string, toPort = port): Promise<Got> {
  return new Promise((resolve) => {
    const options = { host: '127.0.0.1', port: toPort, path, agent: false };
    const request = traced[method](options, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => setImmediate(() => resolve({ status: response.statusCode, body })));
    });
    request.on('error', (error) => setImmediate(() => resolve({ error })));
    if (method === 'request') request.end();
  });
}

async function timed(fn: () => Promise<Got>): Promise<{ got: Got; elapsedMs: number }> {
  const start = performance.now();
  const got = await fn();
  return { got, elapsedMs: performance.now() - start };
}

describe.each([true, false])('sampled: %s', (sampled) => {
  it.each(['request', 'get'] as const)('http.%s: one recording with the span values, the response unchanged', async (method) => {
    const { got, elapsedMs } = await timed(() => inRequest(sampled, () => send(method, '/ok')));
    expect(got).toEqual({ status: 200, body: 'body' });
    expect(recorder.httpClients).toEqual([
      {
        seconds: expect.any(Number),
        method: 'GET',
        statusCode: 200,
        errorType: undefined,
        serverAddress: '127.0.0.1',
        serverPort: port,
        protocolVersion: '1.1',
      },
    ]);
    expectPlausibleSeconds(recorder.httpClients[0]!.seconds, elapsedMs);
    // The response is sent 5 ms after the request arrived: the duration covers it.
    expect(recorder.httpClients[0]!.seconds).toBeGreaterThanOrEqual(0.004);
    const spans = clientSpans(processor.spans);
    if (!sampled) return expect(spans).toEqual([]);
    expect(spans[0]!.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.response.status_code': 200,
      'server.address': '127.0.0.1',
      'server.port': port,
      'network.protocol.version': '1.1',
    });
  });

  it('a 500: its status as error.type', async () => {
    const got = await inRequest(sampled, () => send('get', '/fail'));
    expect(got).toEqual({ status: 500, body: 'body' });
    expect(recorder.httpClients).toEqual([expect.objectContaining({ statusCode: 500, errorType: '500', protocolVersion: '1.1' })]);
    if (sampled) expect(clientSpans(processor.spans)[0]!.attributes).toMatchObject({ 'error.type': '500' });
  });

  it('a refused connection: ECONNREFUSED, status 0, no protocol version; the error unchanged', async () => {
    const closed = await unusedPort();
    const got = await inRequest(sampled, () => send('get', '/', closed));
    expect(got.error?.code).toBe('ECONNREFUSED');
    expect(recorder.httpClients).toEqual([
      {
        seconds: expect.any(Number),
        method: 'GET',
        statusCode: 0,
        errorType: 'ECONNREFUSED',
        serverAddress: '127.0.0.1',
        serverPort: closed,
        protocolVersion: undefined,
      },
    ]);
    if (sampled) expect(clientSpans(processor.spans)[0]!.attributes).toMatchObject({ 'error.type': 'ECONNREFUSED' });
  });
});

describe('metrics off', () => {
  it('an unsampled request records nothing, the response unchanged', async () => {
    useRecorder(undefined);
    expect(await inRequest(false, () => send('get', '/ok'))).toEqual({ status: 200, body: 'body' });
    expect(recorder.httpClients).toEqual([]);
  });

  it('a request started while metrics were off records nothing when they are turned on before its end', async () => {
    useRecorder(undefined);
    const pending = inRequest(false, () => send('get', '/ok'));
    useRecorder(recorder);
    expect(await pending).toEqual({ status: 200, body: 'body' });
    expect(recorder.httpClients).toEqual([]);
  });
});
