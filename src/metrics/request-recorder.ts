import type { RequestMetricsRecorder } from '../instrumentation/request-metrics';
import {
  ATTR_DB_NAMESPACE,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_QUERY_SUMMARY,
  ATTR_DB_RESPONSE_STATUS_CODE,
  ATTR_DB_SYSTEM_NAME,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_SCHEME,
} from '../semconv';
import type { EpochMillis } from '../trace/types';
import type { MetricData, MetricSource, Temporality } from './data';
import { Histogram } from './histogram';
import {
  DB_DURATION_BUCKETS,
  HTTP_DURATION_BUCKETS,
  METRIC_DB_CLIENT_OPERATION_DURATION,
  METRIC_HTTP_CLIENT_REQUEST_DURATION,
  METRIC_HTTP_SERVER_REQUEST_DURATION,
} from './names';

export interface RecorderOptions {
  readonly temporality: Temporality;
  readonly cardinalityLimit: number;
  readonly startTime: EpochMillis;
}

/**
 * The request duration histograms the instrumentations record into (requestMetrics.recorder).
 * Each method passes its arguments straight on as the keys of its histogram's series: no object,
 * no array, no string is made for an attribute set seen before.
 */
export class RequestMetrics implements RequestMetricsRecorder, MetricSource {
  readonly server: Histogram;
  readonly client: Histogram;
  readonly db: Histogram;

  constructor(options: RecorderOptions) {
    const common = { ...options, unit: 's' };
    this.server = new Histogram({
      ...common,
      name: METRIC_HTTP_SERVER_REQUEST_DURATION,
      description: 'Duration of HTTP server requests.',
      boundaries: HTTP_DURATION_BUCKETS,
      attributeNames: [
        ATTR_HTTP_REQUEST_METHOD,
        ATTR_HTTP_ROUTE,
        ATTR_HTTP_RESPONSE_STATUS_CODE,
        ATTR_ERROR_TYPE,
        ATTR_URL_SCHEME,
        ATTR_NETWORK_PROTOCOL_VERSION,
      ],
    });
    this.client = new Histogram({
      ...common,
      name: METRIC_HTTP_CLIENT_REQUEST_DURATION,
      description: 'Duration of HTTP client requests.',
      boundaries: HTTP_DURATION_BUCKETS,
      attributeNames: [
        ATTR_HTTP_REQUEST_METHOD,
        ATTR_HTTP_RESPONSE_STATUS_CODE,
        ATTR_ERROR_TYPE,
        ATTR_SERVER_ADDRESS,
        ATTR_SERVER_PORT,
        ATTR_NETWORK_PROTOCOL_VERSION,
      ],
    });
    this.db = new Histogram({
      ...common,
      name: METRIC_DB_CLIENT_OPERATION_DURATION,
      description: 'Duration of database client operations.',
      boundaries: DB_DURATION_BUCKETS,
      attributeNames: [
        ATTR_DB_SYSTEM_NAME,
        ATTR_DB_NAMESPACE,
        ATTR_DB_OPERATION_NAME,
        ATTR_DB_QUERY_SUMMARY,
        ATTR_DB_RESPONSE_STATUS_CODE,
        ATTR_ERROR_TYPE,
        ATTR_SERVER_ADDRESS,
        ATTR_SERVER_PORT,
      ],
    });
  }

  httpServer(
    seconds: number,
    method: string,
    route: string | undefined,
    statusCode: number,
    errorType: string | undefined,
    scheme: string,
    protocolVersion: string | undefined,
  ): void {
    try {
      this.server.record(seconds, method, route, statusCode || undefined, errorType, scheme, protocolVersion);
    } catch {
      // A metric is never worth an exception in the application's request.
    }
  }

  httpClient(
    seconds: number,
    method: string,
    statusCode: number,
    errorType: string | undefined,
    serverAddress: string | undefined,
    serverPort: number | undefined,
    protocolVersion: string | undefined,
  ): void {
    try {
      this.client.record(seconds, method, statusCode || undefined, errorType, serverAddress, serverPort || undefined, protocolVersion);
    } catch {
      // as above
    }
  }

  dbClient(
    seconds: number,
    system: string,
    namespace: string | undefined,
    operationName: string | undefined,
    querySummary: string | undefined,
    responseStatusCode: string | undefined,
    errorType: string | undefined,
    serverAddress: string | undefined,
    serverPort: number | undefined,
  ): void {
    try {
      this.db.record(seconds, system, namespace, operationName, querySummary, responseStatusCode, errorType, serverAddress, serverPort || undefined);
    } catch {
      // as above
    }
  }

  /** Measurements held now, over the three histograms. */
  totalCount(): number {
    return this.server.totalCount() + this.client.totalCount() + this.db.totalCount();
  }

  collect(now: EpochMillis, into: MetricData[]): void {
    this.server.collect(now, into);
    this.client.collect(now, into);
    this.db.collect(now, into);
  }
}
