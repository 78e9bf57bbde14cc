import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fetchInstrumentation } from '../../../../instrumentations/fetch';
import { subscribeChannels } from '../../../../src/instrumentation/channels';
import { installContextManager, removeContextManager } from '../../../helpers/context';
import { unusedPort } from '../../../helpers/http-client';
import { instrumentationContext } from '../../../helpers/instrumentation-context';
import { clientSpans, expectPlausibleSeconds, RecordingRecorder, switchableProvider, useRecorder } from '../shared/recording-metrics';

/**
 * http.client.request.duration of Node's global fetch (its bundled undici) against a real
 * loopback server, from undici's diagnostics channel messages, sampled or not: from the request's
 * creation to its body read to the end (trailers) or its error, as the span.
 */
const manager = installContextManager();
const { provider, processor, inRequest } = switchableProvider();
const ctx = instrumentationContext(fetchInstrumentation, provider.getTracer('tracelet/fetch'), {}, { throwErrors: true });
const unsubscribe = subscribeChannels(fetchInstrumentation, ctx, manager.storage);
afterAll(() => {
  unsubscribe();
  removeContextManager();
});

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

async function get(path: string, toPort = port): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${toPort}${path}`);
  return { status: response.status, body: await response.text() };
}

/** undici publishes the end (trailers) as the body completes: let the text() promise chain finish first. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

describe.each([true, false])('sampled: %s', (sampled) => {
  it('a request: one recording with the span values, the response unchanged', async () => {
    const start = performance.now();
    const got = await inRequest(sampled, () => get('/ok'));
    const elapsedMs = performance.now() - start;
    await settled();
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
    expect(await inRequest(sampled, () => get('/fail'))).toEqual({ status: 500, body: 'body' });
    await settled();
    expect(recorder.httpClients).toEqual([expect.objectContaining({ statusCode: 500, errorType: '500' })]);
    if (sampled) expect(clientSpans(processor.spans)[0]!.attributes).toMatchObject({ 'error.type': '500' });
  });

  it('a refused connection: ECONNREFUSED and status 0; fetch rejects as without the agent', async () => {
    const closed = await unusedPort();
    const error = await inRequest(sampled, () => get('/', closed)).catch((caught: unknown) => caught);
    await settled();
    expect(error).toBeInstanceOf(TypeError);
    expect((error as { cause?: { code?: string } }).cause?.code).toBe('ECONNREFUSED');
    expect(recorder.httpClients).toEqual([
      expect.objectContaining({ method: 'GET', statusCode: 0, errorType: 'ECONNREFUSED', serverPort: closed, protocolVersion: undefined }),
    ]);
    if (sampled) expect(clientSpans(processor.spans)[0]!.attributes).toMatchObject({ 'error.type': 'ECONNREFUSED' });
  });
});

it('metrics off: an unsampled request records nothing, the response unchanged', async () => {
  useRecorder(undefined);
  expect(await inRequest(false, () => get('/ok'))).toEqual({ status: 200, body: 'body' });
  await settled();
  expect(recorder.httpClients).toEqual([]);
});
