import * as http from 'node:http';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { httpInstrumentation } from '../../../../instrumentations/http';
import { patchClient } from '../../../../instrumentations/http/client';
import { patchEmit } from '../../../../instrumentations/http/emit';
import { SpanKind } from '../../../../src/instrumentation/api';
import { createSampler } from '../../../../src/trace/sampler';
import { installContextManager } from '../../../helpers/context';
import { unusedPort } from '../../../helpers/http-client';
import { testProvider } from '../../../helpers/in-memory';
import { instrumentationContext } from '../../../helpers/instrumentation-context';

/**
 * network.peer.* of http.request CLIENT spans, against real loopback servers: new and reused
 * keep-alive connections, a connection refused, a Unix domain socket, and an unsampled request.
 * Only a copy of request/get is wrapped, so the test's own servers stay untraced.
 */
installContextManager();
const { processor, provider } = testProvider();
const ctx = instrumentationContext(httpInstrumentation, provider.getTracer('tracelet/http'), {}, { throwErrors: true });
patchEmit(http.ClientRequest.prototype, ctx);
patchEmit(http.IncomingMessage.prototype, ctx);
type RequestFunction = typeof http.request;
const traced = { request: http.request as RequestFunction, get: http.get as RequestFunction };
patchClient(traced as never, 'http', ctx);

const unsampled = testProvider({ sampler: createSampler('always_off', 0) });
const unsampledCtx = instrumentationContext(httpInstrumentation, unsampled.provider.getTracer('tracelet/http'), {}, { throwErrors: true });
const untraced = { request: http.request as RequestFunction, get: http.get as RequestFunction };
patchClient(untraced as never, 'http', unsampledCtx);

const server = http.createServer((_req, res) => res.end('ok'));
const socketPath = join(mkdtempSync(join(tmpdir(), 'tracelet-http-')), 'server.sock');
const unixServer = http.createServer((_req, res) => res.end('ok'));
let port = 0;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => unixServer.listen(socketPath, resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await new Promise((resolve) => unixServer.close(resolve));
});
beforeEach(() => {
  processor.spans.length = 0;
});

interface Sent {
  readonly reusedSocket: boolean;
  /** 'connect' listeners on the socket when the application's 'socket' listener ran. */
  readonly connectListeners: number;
}

/** One request through `client`, read to its end (or failed); what the application saw of it. */
function call(client: typeof traced, options: http.RequestOptions): Promise<Sent> {
  return new Promise((resolve) => {
    let connectListeners = -1;
    const request = client.request(options, (res) => {
      res.resume();
      res.on('end', () => resolve({ reusedSocket: request.reusedSocket, connectListeners }));
    });
    request.on('socket', (socket: Socket) => (connectListeners = socket.listenerCount('connect')));
    request.on('error', () => resolve({ reusedSocket: request.reusedSocket, connectListeners }));
    request.end();
  });
}

const clientSpans = () => processor.spans.filter((span) => span.kind === SpanKind.CLIENT);

describe('http.request CLIENT spans: network.peer.*', () => {
  it('come from the socket, once a new connection is up and at once on a reused keep-alive one', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const first = await call(traced, { host: '127.0.0.1', port, path: '/a', agent });
    const second = await call(traced, { host: '127.0.0.1', port, path: '/b', agent });
    agent.destroy();
    expect([first.reusedSocket, second.reusedSocket]).toEqual([false, true]);
    const spans = clientSpans();
    expect(spans).toHaveLength(2);
    for (const span of spans) {
      expect(span.attributes).toMatchObject({ 'network.peer.address': '127.0.0.1', 'network.peer.port': port, 'http.response.status_code': 200 });
    }
  });

  it('are absent when the connection is refused before it is up', async () => {
    await call(traced, { host: '127.0.0.1', port: await unusedPort(), path: '/' });
    const [span] = clientSpans();
    expect(span!.attributes['error.type']).toBe('ECONNREFUSED');
    expect(span!.attributes).not.toHaveProperty('network.peer.address');
    expect(span!.attributes).not.toHaveProperty('network.peer.port');
  });

  it('name the socket path of a request over a Unix domain socket, without a port', async () => {
    await call(traced, { socketPath, path: '/' });
    const [span] = clientSpans();
    expect(span!.attributes).toMatchObject({ 'network.peer.address': socketPath, 'http.response.status_code': 200 });
    expect(span!.attributes).not.toHaveProperty('network.peer.port');
  });

  it('cost an unsampled request nothing: no listener on its socket', async () => {
    const recorded = await call(traced, { host: '127.0.0.1', port, path: '/', agent: false });
    const notRecorded = await call(untraced, { host: '127.0.0.1', port, path: '/', agent: false });
    expect(notRecorded.connectListeners).toBe(recorded.connectListeners - 1);
    expect(unsampled.processor.spans.every((span) => Object.keys(span.attributes).length === 0)).toBe(true);
  });
});
