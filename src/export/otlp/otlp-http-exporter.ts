import type { OtlpConfig } from '../../config/env';
import { diag } from '../../diag/logger';
import type { ExportResult, SpanEncoder, SpanExporter } from '../types';
import { HttpSender, type HttpResponse } from './http-post';
import { deliver, exportHeaders, gzipAsync, gzipSync, receiverMessage, truncateMessage } from './otlp-delivery';
import { postAtExit } from './post-at-exit';

const OK: ExportResult = { ok: true };

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
    this.headers = exportHeaders(config.headers, encoding.contentType, config.compression === 'gzip');
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
      const body = this.config.compression === 'gzip' ? gzipSync(encoded) : encoded;
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
    const outcome = await deliver(this.sender, this.headers, body, this.config.timeoutMs, this.outage !== undefined);
    switch (outcome.kind) {
      case 'delivered':
        this.delivered(outcome.response, spanCount);
        return OK;
      case 'rejected':
        this.rejected(outcome.response, spanCount);
        return { ok: false, error: new Error(`HTTP ${outcome.response.status}`) };
      case 'undeliverable':
        this.undeliverable(outcome.reason, spanCount);
        return { ok: false, error: new Error(outcome.reason) };
    }
  }

  private delivered(response: HttpResponse, spanCount: number): void {
    if (this.outage !== undefined) {
      diag.info(`the collector at ${this.config.tracesUrl} answers again; ${this.outage.lost} spans were lost while it did not`);
      this.outage = undefined;
    }
    const partial = this.encoding.readResponse(response.body);
    if (partial.rejectedSpans > 0 || partial.errorMessage !== '') {
      const message = truncateMessage(partial.errorMessage);
      diag.once(
        'warn',
        `otlp-partial:${message}`,
        `the collector accepted a batch of ${spanCount} spans but rejected ${partial.rejectedSpans}: ${message || '(no message)'}`,
      );
    }
  }

  private rejected(response: HttpResponse, spanCount: number): void {
    const message = receiverMessage(response);
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
}

function hintFor(status: number): string {
  if (status === 404)
    return ' (is the URL right? OTEL_EXPORTER_OTLP_ENDPOINT gets /v1/traces appended, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as is)';
  if (status === 401 || status === 403) return ' (check the credentials in OTEL_EXPORTER_OTLP_HEADERS)';
  if (status === 413) return ' (lower OTEL_BSP_MAX_EXPORT_BATCH_SIZE)';
  if (status === 415) return ' (try OTEL_EXPORTER_OTLP_PROTOCOL=http/json or http/protobuf)';
  return '';
}
