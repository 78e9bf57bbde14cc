/**
 * The duration metrics of the semantic conventions, recorded by the instrumentations for every
 * request and call, whether or not its trace is sampled: the agent sees all of them before any
 * sampling decision drops one. Instrumentations call the recorder of `requestMetrics` when it is
 * set (metrics on) and skip the clock reads altogether when it is not.
 *
 * Every argument is a plain value the instrumentation already has: nothing is allocated to record
 * (the recorder finds the series of a repeated attribute set without building a key). An
 * attribute passed as undefined (or a status code of 0) is left out of the series.
 */

export interface RequestMetricsRecorder {
  /** http.server.request.duration, in seconds. */
  httpServer(
    seconds: number,
    method: string,
    route: string | undefined,
    statusCode: number,
    errorType: string | undefined,
    scheme: string,
    protocolVersion: string | undefined,
  ): void;
  /** http.client.request.duration, in seconds. */
  httpClient(
    seconds: number,
    method: string,
    statusCode: number,
    errorType: string | undefined,
    serverAddress: string | undefined,
    serverPort: number | undefined,
    protocolVersion: string | undefined,
  ): void;
  /** db.client.operation.duration, in seconds. */
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
  ): void;
}

/** The recorder while metrics are on; undefined when they are off (or were turned off). */
export const requestMetrics: { recorder: RequestMetricsRecorder | undefined } = { recorder: undefined };

/** Monotonic milliseconds: a call's start and end for its duration. */
export function metricsClock(): number {
  return performance.now();
}

/**
 * http.client.request.duration of a request that started at `start` (metricsClock), for http,
 * https and fetch alike: error.type the request's failure, else a 4xx or 5xx status, as on its span.
 */
export function recordHttpClientDuration(
  start: number,
  method: string,
  statusCode: number,
  failureType: string | undefined,
  serverAddress: string | undefined,
  serverPort: number | undefined,
  protocolVersion: string | undefined,
): void {
  const recorder = requestMetrics.recorder;
  if (recorder === undefined) return;
  const errorType = failureType ?? (statusCode >= 400 ? String(statusCode) : undefined);
  recorder.httpClient((metricsClock() - start) / 1000, method, statusCode, errorType, serverAddress, serverPort, protocolVersion);
}
