import { isProcessExiting } from '../../lifecycle/exiting';
import { AGENT_NAME, AGENT_VERSION } from '../../version';
import { NetworkError, type HttpResponse, type HttpSender } from './http-post';
import { decodeStatus } from './protobuf-response';
import { backoffDelayMs, isRetryableStatus, parseRetryAfterMs } from './retry';

/**
 * The delivery rules every OTLP/HTTP export shares (spans and metrics): retry 429, 502, 503, 504
 * and network failures with backoff within the timeout, honouring Retry-After; every other answer
 * is final. What a signal says about the outcome is its exporter's business.
 */

export type DeliveryOutcome =
  | { readonly kind: 'delivered'; readonly response: HttpResponse }
  /** A final answer that is not a success (400, 404, 413, 415, 501, ...): not retried. */
  | { readonly kind: 'rejected'; readonly response: HttpResponse }
  /** No answer (or only retryable ones) within the time allowed. */
  | { readonly kind: 'undeliverable'; readonly reason: string };

const MAX_MESSAGE_LENGTH = 300;

/** The request headers of an exporter: its own, the content type, who sends, and gzip when asked. */
export function exportHeaders(configured: Readonly<Record<string, string>>, contentType: string, gzip: boolean): Record<string, string> {
  return {
    ...configured,
    'Content-Type': contentType,
    'User-Agent': `${AGENT_NAME}/${AGENT_VERSION}`,
    ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
  };
}

/**
 * POSTs `body` until a final answer or the deadline. `duringOutage`: the receiver was already
 * unreachable, so a network failure is not retried (nor while the process exits).
 */
export async function deliver(
  sender: HttpSender,
  headers: Readonly<Record<string, string>>,
  body: Uint8Array,
  timeoutMs: number,
  duringOutage: boolean,
): Promise<DeliveryOutcome> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    let response: HttpResponse | undefined;
    let failure: NetworkError | undefined;
    try {
      response = await sender.post({ headers, body, timeoutMs: Math.max(1, deadline - Date.now()) });
    } catch (error) {
      failure = error instanceof NetworkError ? error : new NetworkError(String(error), 'ERR_NETWORK');
    }
    if (response !== undefined && response.status >= 200 && response.status < 300) return { kind: 'delivered', response };
    if (response !== undefined && !isRetryableStatus(response.status)) return { kind: 'rejected', response };
    const delay = parseRetryAfterMs(response?.headers['retry-after']) ?? backoffDelayMs(attempt);
    // A receiver that answers asks to be retried; one that cannot be reached while the process
    // exits, or during a known outage, is not waited for.
    const unreachable = failure !== undefined && (duringOutage || isProcessExiting());
    const mayRetry = !unreachable && Date.now() + delay < deadline;
    if (!mayRetry) {
      return { kind: 'undeliverable', reason: failure !== undefined ? `${failure.code}: ${failure.message}` : `HTTP ${response!.status}` };
    }
    await sleep(delay);
  }
}

/** The receiver's explanation: a google.rpc.Status (protobuf or JSON), else the text itself. */
export function receiverMessage(response: HttpResponse): string {
  if (response.body.length === 0) return '';
  const type = String(response.headers['content-type'] ?? '');
  if (type.includes('protobuf')) return truncateMessage(decodeStatus(response.body).message);
  const text = response.body.toString('utf8');
  if (type.includes('json')) {
    try {
      const parsed = JSON.parse(text) as { message?: unknown };
      if (typeof parsed.message === 'string') return truncateMessage(parsed.message);
    } catch {
      // fall through to the raw text
    }
  }
  return truncateMessage(text.trim());
}

export function truncateMessage(text: string): string {
  return text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH)}…` : text;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** zlib is loaded only when compression is configured. */
function zlib(): typeof import('node:zlib') {
  return require('node:zlib') as typeof import('node:zlib');
}

export function gzipAsync(data: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => zlib().gzip(data, (error, result) => (error ? reject(error) : resolve(result))));
}

export function gzipSync(data: Uint8Array): Uint8Array {
  return zlib().gzipSync(data);
}
