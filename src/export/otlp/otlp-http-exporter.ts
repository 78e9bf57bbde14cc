import type { OtlpConfig } from '../../config/env';
import { diag } from '../../diag/logger';
import { isProcessExiting } from '../../lifecycle/exiting';
import { AGENT_NAME, AGENT_VERSION } from '../../version';
import type { ExportResult, SpanEncoder, SpanExporter } from '../types';
import { HttpSender, NetworkError, type HttpResponse } from './http-post';
import { postAtExit } from './post-at-exit';
import { decodeStatus } from './protobuf-response';
import { backoffDelayMs, isRetryableStatus, parseRetryAfterMs } from './retry';

const OK: ExportResult = { ok: true };

const MAX_MESSAGE_LENGTH = 300;

/**
 * Sends encoded spans over HTTP (optionally gzipped) to one collector URL. Retries 429, 502,
 * 503, 504 and network failures with backoff within OTEL_EXPORTER_OTLP_TIMEOUT, honouring
 * Retry-After; other answers are final. Failures are reported once per outage or per distinct
 * rejection, never once per batch. What the bytes are is the encoder's business: the exporter
 * only needs its Content-Type and how to read its responses.
 */
export class OtlpHttpExporter implements SpanExporter {
  private readonly sender: HttpSender;
  private readonly headers: Record<string, string>;
  /** Set while the collector cannot be reached: no retries of network failures, no repeated warnings. */
  private outage: { since: number; lost: number } | undefined;

  constructor(
    private readonly config: OtlpConfig,
    private readonly encoding: Pick<SpanEncoder, 'contentType' | 'readResponse'>,
  ) {
    this.sender = new HttpSender(config.tracesUrl);
    this.headers = {
      ...config.headers,
      'Content-Type': encoding.contentType,
      'User-Agent': `${AGENT_NAME}/${AGENT_VERSION}`,
      ...(config.compression === 'gzip' ? { 'Content-Encoding': 'gzip' } : {}),
    };
  }

  async send(encoded: Uint8Array, spanCount: number): Promise<ExportResult> {
    try {
      const body = this.config.compression === 'gzip' ? await gzipAsync(encoded) : encoded;
      return await this.deliver(body, spanCount);
    } catch (error) {
      diag.once('error', `otlp-export-bug:${String(error)}`, `could not export spans: ${String(error)}`);
      return { ok: false, error: error instanceof Error ? error : new Error(String(error)) };
    }
  }

  sendAtExit(encoded: Uint8Array, spanCount: number, timeoutMs: number): void {
    try {
      const body = this.config.compression === 'gzip' ? zlib().gzipSync(encoded) : encoded;
      const outcome = postAtExit(this.config.tracesUrl, this.headers, body, Math.min(timeoutMs, this.config.timeoutMs));
      if ('failure' in outcome) {
        diag.warn(`${spanCount} spans could not be sent to ${this.config.tracesUrl} before exit (${outcome.failure} failure)`);
      } else if (outcome.status < 200 || outcome.status >= 300) {
        diag.warn(`${spanCount} spans sent to ${this.config.tracesUrl} before exit were refused with HTTP ${outcome.status}`);
      }
    } catch (error) {
      diag.warn(`${spanCount} spans could not be sent before exit: ${String(error)}`);
    }
  }

  async shutdown(): Promise<void> {
    this.sender.close();
  }

  private async deliver(body: Uint8Array, spanCount: number): Promise<ExportResult> {
    const deadline = Date.now() + this.config.timeoutMs;
    for (let attempt = 0; ; attempt++) {
      let response: HttpResponse | undefined;
      let failure: NetworkError | undefined;
      try {
        response = await this.sender.post({ headers: this.headers, body, timeoutMs: Math.max(1, deadline - Date.now()) });
      } catch (error) {
        failure = error instanceof NetworkError ? error : new NetworkError(String(error), 'ERR_NETWORK');
      }
      if (response !== undefined && response.status >= 200 && response.status < 300) {
        this.delivered(response, spanCount);
        return OK;
      }
      if (response !== undefined && !isRetryableStatus(response.status)) {
        this.rejected(response, spanCount);
        return { ok: false, error: new Error(`HTTP ${response.status}`) };
      }
      const delay = parseRetryAfterMs(response?.headers['retry-after']) ?? backoffDelayMs(attempt);
      // A collector that answers asks to be retried; one that cannot be reached while the process
      // exits, or during a known outage, is not waited for.
      const unreachable = failure !== undefined && (this.outage !== undefined || isProcessExiting());
      const mayRetry = !unreachable && Date.now() + delay < deadline;
      if (!mayRetry) {
        const reason = failure !== undefined ? `${failure.code}: ${failure.message}` : `HTTP ${response!.status}`;
        this.undeliverable(reason, spanCount);
        return { ok: false, error: new Error(reason) };
      }
      await sleep(delay);
    }
  }

  private delivered(response: HttpResponse, spanCount: number): void {
    if (this.outage !== undefined) {
      diag.info(`the collector at ${this.config.tracesUrl} answers again; ${this.outage.lost} spans were lost while it did not`);
      this.outage = undefined;
    }
    const partial = this.encoding.readResponse(response.body);
    if (partial.rejectedSpans > 0 || partial.errorMessage !== '') {
      const message = truncate(partial.errorMessage);
      diag.once(
        'warn',
        `otlp-partial:${message}`,
        `the collector accepted a batch of ${spanCount} spans but rejected ${partial.rejectedSpans}: ${message || '(no message)'}`,
      );
    }
  }

  private rejected(response: HttpResponse, spanCount: number): void {
    const message = this.collectorMessage(response);
    diag.once(
      'error',
      `otlp-rejected:${response.status}:${message}`,
      `the collector at ${this.config.tracesUrl} refused ${spanCount} spans with HTTP ${response.status}` +
        `${message ? `: ${message}` : ''}${hintFor(response.status)}; such batches are not retried`,
    );
  }

  private undeliverable(reason: string, spanCount: number): void {
    if (this.outage !== undefined) {
      this.outage.lost += spanCount;
      diag.debug(`still cannot reach ${this.config.tracesUrl} (${reason}); ${spanCount} more spans lost`);
      return;
    }
    this.outage = { since: Date.now(), lost: spanCount };
    diag.warn(
      `cannot deliver spans to ${this.config.tracesUrl} (${reason}); spans are dropped until the collector answers (check OTEL_EXPORTER_OTLP_ENDPOINT); the application is not affected`,
    );
  }

  /** The collector's explanation: a google.rpc.Status (protobuf or JSON), else the text itself. */
  private collectorMessage(response: HttpResponse): string {
    if (response.body.length === 0) return '';
    const type = String(response.headers['content-type'] ?? '');
    if (type.includes('protobuf')) return truncate(decodeStatus(response.body).message);
    const text = response.body.toString('utf8');
    if (type.includes('json')) {
      try {
        const parsed = JSON.parse(text) as { message?: unknown };
        if (typeof parsed.message === 'string') return truncate(parsed.message);
      } catch {
        // fall through to the raw text
      }
    }
    return truncate(text.trim());
  }
}

function hintFor(status: number): string {
  if (status === 404)
    return ' (is the URL right? OTEL_EXPORTER_OTLP_ENDPOINT gets /v1/traces appended, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as is)';
  if (status === 401 || status === 403) return ' (check the credentials in OTEL_EXPORTER_OTLP_HEADERS)';
  if (status === 413) return ' (lower OTEL_BSP_MAX_EXPORT_BATCH_SIZE)';
  if (status === 415) return ' (try OTEL_EXPORTER_OTLP_PROTOCOL=http/json or http/protobuf)';
  return '';
}

function truncate(text: string): string {
  return text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH)}…` : text;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** zlib is loaded only when compression is configured. */
function zlib(): typeof import('node:zlib') {
  return require('node:zlib') as typeof import('node:zlib');
}

function gzipAsync(data: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => zlib().gzip(data, (error, result) => (error ? reject(error) : resolve(result))));
}
