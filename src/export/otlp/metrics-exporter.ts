import type { OtlpMetricsConfig } from '../../config/env';
import { diag } from '../../diag/logger';
import { dataPointCount, type MetricData } from '../../metrics/data';
import type { MetricsExporter } from '../../metrics/exporter';
import type { Resource } from '../../trace/types';
import { AGENT_NAME, AGENT_VERSION } from '../../version';
import { HttpSender, type HttpResponse } from './http-post';
import { encodeMetricsRequestJson } from './metrics-json';
import { encodeMetricsRequest, type MetricsScope } from './metrics-protobuf';
import { deliver, exportHeaders, gzipAsync, gzipSync, receiverMessage, truncateMessage } from './otlp-delivery';
import { postAtExit } from './post-at-exit';
import { decodeExportResponse } from './protobuf-response';

const SCOPE: MetricsScope = { name: AGENT_NAME, version: AGENT_VERSION };

/**
 * Sends each collection to /v1/metrics over OTLP/HTTP (protobuf or JSON, optionally gzipped), by
 * the same delivery rules as spans: retryable answers and network failures are retried within the
 * timeout, an outage is reported once and does not stop metrics (the next collection tries again).
 *
 * A final refusal (404, 405, 415, 501, ...) means the backend does not take metrics, typically
 * one that accepts only traces: it is reported once and `onRefused` turns metrics off, so the
 * process stops paying for them.
 */
export class OtlpMetricsExporter implements MetricsExporter {
  readonly description: string;
  private readonly sender: HttpSender;
  private readonly headers: Record<string, string>;
  private readonly gzip: boolean;
  private outage: { lost: number } | undefined;
  private refused = false;

  constructor(
    private readonly config: OtlpMetricsConfig,
    private readonly resource: Resource,
    private readonly onRefused: () => void,
    /** Spans go to the same collector, and their exporter reports its outages: ours are told at debug level. */
    private readonly outagesReportedBySpans = false,
  ) {
    this.sender = new HttpSender(config.url);
    this.gzip = config.compression === 'gzip';
    this.headers = exportHeaders(config.headers, config.protocol === 'http/json' ? 'application/json' : 'application/x-protobuf', this.gzip);
    this.description = `otlp ${config.protocol} ${config.url}`;
  }

  private encode(metrics: readonly MetricData[]): Uint8Array {
    return this.config.protocol === 'http/json'
      ? Buffer.from(encodeMetricsRequestJson(metrics, this.resource, SCOPE), 'utf8')
      : encodeMetricsRequest(metrics, this.resource, SCOPE);
  }

  async export(metrics: readonly MetricData[]): Promise<void> {
    if (this.refused || metrics.length === 0) return;
    const points = dataPointCount(metrics);
    try {
      const encoded = this.encode(metrics);
      const body = this.gzip ? await gzipAsync(encoded) : encoded;
      const outcome = await deliver(this.sender, this.headers, body, this.config.timeoutMs, this.outage !== undefined);
      if (outcome.kind === 'delivered') this.delivered(outcome.response, points);
      else if (outcome.kind === 'rejected') this.refuse(outcome.response.status, receiverMessage(outcome.response));
      else this.undeliverable(outcome.reason, points);
    } catch (error) {
      diag.once('error', `otlp-metrics-bug:${String(error)}`, `could not export metrics: ${String(error)}`);
    }
  }

  exportAtExit(metrics: readonly MetricData[], timeoutMs: number): void {
    if (this.refused || metrics.length === 0) return;
    try {
      const encoded = this.encode(metrics);
      const body = this.gzip ? gzipSync(encoded) : encoded;
      const outcome = postAtExit(this.config.url, this.headers, body, Math.min(timeoutMs, this.config.timeoutMs));
      if ('failure' in outcome) {
        diag.warn(`metrics could not be sent to ${this.config.url} before exit (${outcome.failure} failure)`);
      } else if (outcome.status < 200 || outcome.status >= 300) {
        diag.warn(`metrics sent to ${this.config.url} before exit were refused with HTTP ${outcome.status}`);
      }
    } catch (error) {
      diag.warn(`metrics could not be sent before exit: ${String(error)}`);
    }
  }

  async shutdown(): Promise<void> {
    this.sender.close();
  }

  private delivered(response: HttpResponse, points: number): void {
    if (this.outage !== undefined) {
      diag.info(`the receiver at ${this.config.url} answers again; ${this.outage.lost} metric data points were lost while it did not`);
      this.outage = undefined;
    }
    const partial = readPartialSuccess(response);
    if (partial.rejected > 0 || partial.message !== '') {
      const message = truncateMessage(partial.message);
      diag.once(
        'warn',
        `otlp-metrics-partial:${message}`,
        `the receiver accepted ${points} metric data points but rejected ${partial.rejected}: ${message || '(no message)'}`,
      );
    }
  }

  private refuse(status: number, message: string): void {
    if (this.refused) return;
    this.refused = true;
    this.sender.close();
    diag.warn(
      `the receiver at ${this.config.url} refused metrics with HTTP ${status}${message ? `: ${message}` : ''}; ` +
        `metrics are now off for this process (a backend that takes only traces? set OTEL_METRICS_EXPORTER=none to skip them, ` +
        `or point OTEL_EXPORTER_OTLP_METRICS_ENDPOINT at one that takes metrics); traces are not affected`,
    );
    this.onRefused();
  }

  private undeliverable(reason: string, points: number): void {
    if (this.outage !== undefined) {
      this.outage.lost += points;
      diag.debug(`still cannot reach ${this.config.url} (${reason}); ${points} more metric data points lost`);
      return;
    }
    this.outage = { lost: points };
    const message = `cannot deliver metrics to ${this.config.url} (${reason}); they are dropped until the receiver answers, trying again at the next export; the application is not affected`;
    if (this.outagesReportedBySpans) diag.debug(message);
    else diag.warn(message);
  }
}

/** ExportMetricsServiceResponse.partial_success, in the response's format. Never throws. */
function readPartialSuccess(response: HttpResponse): { rejected: number; message: string } {
  const body = response.body;
  if (body.length === 0) return { rejected: 0, message: '' };
  if (String(response.headers['content-type'] ?? '').includes('json')) {
    try {
      const partial = (JSON.parse(body.toString('utf8')) as { partialSuccess?: { rejectedDataPoints?: unknown; errorMessage?: unknown } } | null)
        ?.partialSuccess;
      const rejected = Number(partial?.rejectedDataPoints ?? 0);
      return {
        rejected: Number.isFinite(rejected) && rejected > 0 ? Math.floor(rejected) : 0,
        message: typeof partial?.errorMessage === 'string' ? partial.errorMessage : '',
      };
    } catch {
      return { rejected: 0, message: '' };
    }
  }
  // Same field numbers as the trace service's response (rejected count = 1, error message = 2).
  const { rejectedSpans, errorMessage } = decodeExportResponse(body);
  return { rejected: rejectedSpans, message: errorMessage };
}
