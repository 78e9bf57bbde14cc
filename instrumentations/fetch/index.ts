/**
 * HTTP client spans for global `fetch` (Node's bundled undici) and the npm `undici` package
 * (request, stream, Client, Pool, Agent, fetch), built on undici's diagnostics_channel events
 * rather than on wrapping anything: every undici copy in the process publishes on the same
 * channel names, so one subscription covers global fetch and any installed undici, whether it is
 * loaded through require, import or a bundler.
 *
 * - `undici:request:create`: published synchronously from the dispatch, in the caller's context
 *   (or, for a request a pool queued, in the context recorded when the pool took it: see
 *   pool-queue.ts, the one thing patched). Starts the CLIENT span and injects the trace context through `request.addHeader`, leaving
 *   alone any propagation header the caller set itself.
 * - `undici:request:headers`: status code, captured response headers, ERROR for 4xx and 5xx.
 * - `undici:client:sendHeaders`: the socket (network.peer.*) and the protocol version.
 * - `undici:request:trailers`: the response body was fully received; the span ends.
 * - `undici:request:error`: connection failures, timeouts and aborts; the span ends in error.
 *
 * Supported: undici 5.x and later, so global fetch on Node 18.19+ (bundled undici 5.26), 20 and
 * 22 (6.x) and 24 (7.x), and the npm package (undici 7 itself needs Node 20.18.1+).
 *
 * Known limitations:
 * - A span ends when the response body has been read to the end or the request fails. A body
 *   the application never reads (beyond what undici buffers) ends its span when undici gives up
 *   on it: the connection closes, or the unread Response is garbage-collected (an error then).
 * - http.request.resend_count is not known: redirects and retries are separate undici requests,
 *   each with its own span, all children of the caller's span.
 * - A pool of the undici copy bundled in Node cannot be hooked: were it to queue (it does not
 *   limit connections by default), its queued requests would be parented to the context that
 *   frees a connection.
 * - url.full never carries credentials of the caller's URL: fetch rejects such URLs before any
 *   request exists and undici drops them. Only an absolute-form path (a forward proxy's request)
 *   can hold them, and they are redacted.
 * - A caller-set traceparent is kept, but the other propagation headers (tracestate, baggage)
 *   the caller did not set are still added from the active context.
 * - network.peer.* and network.protocol.version are absent when no headers reached a socket
 *   (e.g. connection refused).
 * - Requests made in a context with tracing suppressed (the agent's own exports) get no span and
 *   no propagation headers; undici WebSocket and EventSource handshakes get a span like any request.
 */
import type { Span, TextMapSetter } from '@opentelemetry/api';
import { agentContext, isTracingSuppressed, agentPropagation, setSpan, SpanKind, SpanStatusCode } from '../../src/instrumentation/api';
import { captureHeaders, httpSpanName, normaliseMethod, describeHttpClientSpan } from '../../src/instrumentation/http-semantics';
import { outcomeOf, type Failure, type Measurement } from '../../src/instrumentation/outcome';
import { metricsClock, recordHttpClientDuration, requestMetrics } from '../../src/instrumentation/request-metrics';
import type { Instrumentation, InstrumentationContext } from '../../src/instrumentation/types';
import { SymbolSlot } from '../../src/instrumentation/symbol-slot';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_NETWORK_PEER_PORT,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
  httpRequestHeaderAttribute,
  httpResponseHeaderAttribute,
} from '../../src/semconv';
import { callerContextOf, poolQueuePatches } from './pool-queue';
import { requestServer, requestTarget } from './request-target';
import { hasRequestHeader, protocolVersion, requestHeaderValues, responseHeaderValues, type RawHeaders, type RequestHeaders } from './undici-headers';
import { readHttpSettings, type HttpSettings } from '../http/settings';

/** The parts of undici's internal Request object this instrumentation reads. */
interface UndiciRequest {
  readonly origin?: unknown;
  readonly path?: unknown;
  readonly method?: string;
  readonly headers?: RequestHeaders;
  addHeader(name: string, value: string): unknown;
}

interface CreateMessage {
  readonly request: UndiciRequest;
}

interface HeadersMessage {
  readonly request: UndiciRequest;
  readonly response: { readonly statusCode: number; readonly headers?: RawHeaders };
}

interface SendHeadersMessage {
  readonly request: UndiciRequest;
  readonly headers: unknown;
  readonly socket?: { readonly remoteAddress?: string; readonly remotePort?: number };
}

interface ErrorMessage {
  readonly request: UndiciRequest;
  readonly error: unknown;
}

/** The span of each request in flight; gone with the request object. */
const spans = new SymbolSlot<Span>('tracelet.fetch.span');

/**
 * http.client.request.duration of one request, sampled or not, while metrics are on: what its
 * span has or would have, gathered from the same channel messages, recorded as the span ends.
 */
class FetchMeasurement implements Measurement {
  private readonly start = metricsClock();
  serverAddress: string | undefined = undefined;
  serverPort: number | undefined = undefined;
  statusCode = 0;
  protocolVersion: string | undefined = undefined;

  constructor(private readonly method: string) {}

  /** The attributes of a dropped request's span that a keep rule records after all: those its metric has. */
  describeSpan(span: Span): void {
    describeHttpClientSpan(span, this.method, this.serverAddress, this.serverPort, this.statusCode, this.protocolVersion);
  }

  record(failure: Failure | undefined): void {
    recordHttpClientDuration(this.start, this.method, this.statusCode, failure?.type, this.serverAddress, this.serverPort, this.protocolVersion);
  }
}

/** The measurement of each request in flight, while metrics are on. */
const measurements = new SymbolSlot<FetchMeasurement>('tracelet.fetch.measurement');

/** The request's measurement, forgotten: it is recorded once. */
function takeMeasurement(request: UndiciRequest): FetchMeasurement | undefined {
  const measurement = measurements.get(request);
  if (measurement !== undefined) measurements.delete(request);
  return measurement;
}

/** Adds a propagation header (the agent's propagators name them in lowercase) unless the caller set it. */
const requestHeaderSetter: TextMapSetter<UndiciRequest> = {
  set(request, name, value) {
    if (!hasRequestHeader(request.headers, name)) request.addHeader(name, value);
  },
};

function onRequestCreate({ request }: CreateMessage, ctx: InstrumentationContext<HttpSettings>): void {
  // Two undici copies, or a message published twice, must not give a request two spans.
  if (spans.has(request)) return;
  const parent = callerContextOf(request) ?? agentContext.active();
  if (isTracingSuppressed(parent)) return;
  const http = ctx.settings;
  const { method, original } = normaliseMethod(request.method, http.knownMethods);
  // Sampled or not, while metrics are on.
  const measurement = requestMetrics.recorder === undefined ? undefined : new FetchMeasurement(method);
  const span = ctx.tracer.startSpan(httpSpanName(method), { kind: SpanKind.CLIENT }, parent);
  spans.set(request, span);
  agentPropagation.inject(setSpan(parent, span), request, requestHeaderSetter);
  if (measurement !== undefined) measurements.set(request, measurement);
  if (!span.isRecording()) {
    if (measurement !== undefined) {
      const server = requestServer(request.origin, request.path);
      measurement.serverAddress = server?.address;
      measurement.serverPort = server?.port;
    }
    return;
  }

  span.setAttribute(ATTR_HTTP_REQUEST_METHOD, method);
  if (original !== undefined) span.setAttribute(ATTR_HTTP_REQUEST_METHOD_ORIGINAL, original);
  const target = requestTarget(request.origin, request.path, http.sensitiveQuery);
  if (target !== undefined) {
    span.setAttribute(ATTR_URL_FULL, target.url);
    span.setAttribute(ATTR_SERVER_ADDRESS, target.address);
    if (target.port !== undefined) span.setAttribute(ATTR_SERVER_PORT, target.port);
    if (measurement !== undefined) {
      measurement.serverAddress = target.address;
      measurement.serverPort = target.port;
    }
  }
  if (http.clientRequestHeaders.length > 0) {
    const headers = request.headers;
    captureHeaders(span, httpRequestHeaderAttribute, http.clientRequestHeaders, headers, requestHeaderValues);
  }
}

function onSendHeaders({ request, headers, socket }: SendHeadersMessage): void {
  const span = spans.get(request);
  if (span === undefined) return;
  const measurement = measurements.get(request);
  if (!span.isRecording()) {
    if (measurement !== undefined) measurement.protocolVersion = protocolVersion(headers);
    return;
  }
  const version = protocolVersion(headers);
  if (measurement !== undefined) measurement.protocolVersion = version;
  if (version !== undefined) span.setAttribute(ATTR_NETWORK_PROTOCOL_VERSION, version);
  if (typeof socket?.remoteAddress === 'string') span.setAttribute(ATTR_NETWORK_PEER_ADDRESS, socket.remoteAddress);
  if (typeof socket?.remotePort === 'number') span.setAttribute(ATTR_NETWORK_PEER_PORT, socket.remotePort);
}

function onResponseHeaders({ request, response }: HeadersMessage, ctx: InstrumentationContext<HttpSettings>): void {
  const span = spans.get(request);
  if (span === undefined) return;
  const status = response.statusCode;
  const measurement = measurements.get(request);
  if (measurement !== undefined) measurement.statusCode = status;
  if (!span.isRecording()) return;
  span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
  if (status >= 400) {
    span.setAttribute(ATTR_ERROR_TYPE, String(status));
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  const names = ctx.settings.clientResponseHeaders;
  if (names.length > 0) {
    const raw = response.headers;
    captureHeaders(span, httpResponseHeaderAttribute, names, raw, responseHeaderValues);
  }
}

function onResponseComplete({ request }: CreateMessage, ctx: InstrumentationContext<HttpSettings>): void {
  const span = spans.get(request);
  if (span === undefined) return;
  spans.delete(request);
  outcomeOf(ctx).end(span, undefined, undefined, takeMeasurement(request));
}

/** error.type is the error's code (ECONNREFUSED, UND_ERR_CONNECT_TIMEOUT), else its name (AbortError). */
function onRequestError({ request, error }: ErrorMessage, ctx: InstrumentationContext<HttpSettings>): void {
  const span = spans.get(request);
  // Also undefined for an error published after the request already ended (undici 5 can do so).
  if (span === undefined) return;
  spans.delete(request);
  outcomeOf(ctx).fail(span, error, takeMeasurement(request));
}

export const fetchInstrumentation: Instrumentation<HttpSettings> = {
  name: 'fetch',
  readSettings: readHttpSettings,
  patches: poolQueuePatches,
  // The npm package's version when the hooks saw it load, else the undici bundled with Node.
  channelSource: { module: 'undici', version: () => process.versions.undici },
  channels: [
    { channel: 'undici:request:create', onMessage: onRequestCreate },
    { channel: 'undici:client:sendHeaders', onMessage: onSendHeaders },
    { channel: 'undici:request:headers', onMessage: onResponseHeaders },
    { channel: 'undici:request:trailers', onMessage: onResponseComplete },
    { channel: 'undici:request:error', onMessage: onRequestError },
  ],
};
