import { createServer, request, type IncomingHttpHeaders, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Plain, untraced HTTP of the test process itself: the requests it sends in the role of a foreign
 * caller, the servers it runs as an application's upstream, the ports nothing listens on.
 */

/** The trace and parent ids of a foreign caller's traceparent (the W3C Trace Context examples). */
export const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
export const PARENT_ID = '00f067aa0ba902b7';

export interface Reply {
  readonly status: number;
  readonly body: string;
  readonly headers: IncomingHttpHeaders;
}

/** A plain, untraced request from the test process (the role of a foreign caller). */
export function send(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The names of a reply's headers but date, sorted: what two answers to one request must share. */
export const headerNames = (headers: IncomingHttpHeaders): string[] =>
  Object.keys(headers)
    .filter((name) => name !== 'date')
    .sort();

export interface Listening {
  readonly server: Server;
  readonly port: number;
  /** http://127.0.0.1:<port> */
  readonly url: string;
}

/** A server of the test process on a free loopback port. */
export async function listen(handler: RequestListener): Promise<Listening> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, port, url: `http://127.0.0.1:${port}` };
}

/** A loopback port nothing listens on (it was free a moment ago): connections to it are refused. */
export async function unusedPort(): Promise<number> {
  const { server, port } = await listen(() => undefined);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
