import type * as http from 'node:http';
import { unwrapped } from '../../instrumentation/wrapped';

/** Enough of a collector's answer to explain a rejection; the rest is discarded. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export interface HttpResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface PostOptions {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
  readonly timeoutMs: number;
}

/** A network-level failure: no HTTP answer at all. */
export class NetworkError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

interface Transport {
  readonly request: typeof http.request;
  readonly agent: http.Agent;
}

export class HttpSender {
  private readonly url: URL;
  private transport: Transport | undefined;

  constructor(url: string) {
    this.url = new URL(url);
  }

  /**
   * http or https, loaded at the first export rather than at startup. The request function is
   * the one beneath the agent's own wrapper: exports must never be traced (they also run in a
   * suppressed context, which covers anything else that wraps http).
   */
  private connect(): Transport {
    if (this.transport === undefined) {
      const module = (this.url.protocol === 'https:' ? require('node:https') : require('node:http')) as typeof http;
      // One export runs at a time, so one kept-alive connection serves every batch.
      this.transport = { request: unwrapped(module.request), agent: new module.Agent({ keepAlive: true, maxSockets: 1 }) };
    }
    return this.transport;
  }

  /** POSTs the body; resolves with any HTTP answer, rejects with a NetworkError otherwise. */
  post(options: PostOptions): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      const { request, agent } = this.connect();
      const headers = { ...options.headers, 'Content-Length': String(options.body.byteLength) };
      const req = request(this.url, { method: 'POST', headers, agent, timeout: options.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < MAX_RESPONSE_BYTES) chunks.push(chunk);
          size += chunk.length;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', (error: NodeJS.ErrnoException) => reject(toNetworkError(error)));
      });
      // Background exports never keep the process alive; exit-time flushes hold it open themselves.
      req.on('socket', (socket) => socket.unref());
      req.on('timeout', () => req.destroy(new NetworkError(`no answer within ${options.timeoutMs} ms`, 'ETIMEDOUT')));
      req.on('error', (error: NodeJS.ErrnoException) => reject(toNetworkError(error)));
      req.end(options.body);
    });
  }

  close(): void {
    this.transport?.agent.destroy();
  }
}

function toNetworkError(error: NodeJS.ErrnoException): NetworkError {
  if (error instanceof NetworkError) return error;
  return new NetworkError(error.message, error.code ?? 'ERR_NETWORK');
}
