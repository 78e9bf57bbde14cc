import type { Context, Link, Span } from '@opentelemetry/api';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import {
  agentContext,
  getBaggage,
  getSpanContext,
  isSpanContextValid,
  newSpanId,
  newTraceId,
  NonRecordingSpan,
  agentPropagation,
  ROOT_CONTEXT,
  setBaggage,
  setSpan,
  SpanKind,
  SpanStatusCode,
  TRACE_FLAG_RANDOM,
} from '../../src/instrumentation/api';
import {
  captureHeaders,
  incomingHeader,
  httpSpanName,
  outgoingHeader,
  normaliseMethod,
  parseHostHeader,
  pathMatcher,
  redactQuery,
  splitTarget,
} from '../../src/instrumentation/http-semantics';
import { withServerRequest, type ServerRequest } from '../../src/instrumentation/http-server-request';
import { DroppedSpans, keepDroppedChildren, keepDroppedSpan, type KeepRules } from '../../src/instrumentation/kept-requests';
import { metricsClock, requestMetrics } from '../../src/instrumentation/request-metrics';
import type { InstrumentationContext } from '../../src/instrumentation/types';
import { Outcome, type DescribeFailure, type Failure } from '../../src/instrumentation/outcome';
import { wrap } from '../../src/instrumentation/wrap';
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_CLIENT_PORT,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_NETWORK_PEER_PORT,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_PATH,
  ATTR_URL_QUERY,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
  ATTR_HTTP_ROUTE,
  httpRequestHeaderAttribute,
  httpResponseHeaderAttribute,
  TRACELET_KEPT_BY_VALUE_ERROR,
  TRACELET_KEPT_BY_VALUE_SLOW,
} from '../../src/semconv';
import { ContextHook, kEmitHook, type EmitHook, type Hooked } from './emit';
import { NO_PEER, peerOf } from './peer';
import type { HttpSettings } from './settings';

/** error.type of a request whose connection closed before the response was complete. */
export const ABORTED = 'aborted';

/** The events a server emits per request: 'checkContinue' replaces 'request' for `Expect: 100-continue`. */
const REQUEST_EVENTS = new Set<string | symbol>(['request', 'checkContinue']);

type Emit = (this: Server, event: string | symbol, ...args: unknown[]) => boolean;

/**
 * Wraps `emit` of a server class so each incoming request gets a SERVER span, active while the
 * application's handler (and everything it awaits) runs.
 */
export function patchServer(prototype: Server, scheme: 'http' | 'https', ctx: InstrumentationContext<HttpSettings>): void {
  const settings = new ServerSettings(scheme, ctx);
  wrap(
    ctx,
    prototype as unknown as { emit: Emit },
    'emit',
    (original: Emit) =>
      function emit(this: Server, event: string | symbol) {
        if (!REQUEST_EVENTS.has(event)) return original.apply(this, arguments as unknown as Parameters<Emit>);
        let requestContext: Context | undefined;
        try {
          requestContext = startServerSpan(arguments[1] as IncomingMessage, arguments[2] as ServerResponse, settings);
        } catch (error) {
          ctx.reportError(error);
        }
        if (requestContext === undefined) return original.apply(this, arguments as unknown as Parameters<Emit>);
        return agentContext.apply(requestContext, original, this, arguments);
      },
  );
}

/** What every request of a server class needs, computed once. */
class ServerSettings {
  readonly excluded: ((path: string) => boolean) | undefined;
  readonly outcome: Outcome;
  readonly keep: KeepRules | undefined;

  constructor(
    readonly scheme: 'http' | 'https',
    readonly ctx: InstrumentationContext<HttpSettings>,
  ) {
    this.excluded = pathMatcher(ctx.settings.serverExcludedPaths);
    this.outcome = new Outcome(ctx, describeServerFailure);
    this.keep = ctx.settings.keep;
  }
}

/** A server span fails only when its connection closed before the response was complete (see end()). */
const CLOSED_EARLY: Failure = { type: ABORTED, message: 'the connection closed before the response was complete' };
const describeServerFailure: DescribeFailure = () => CLOSED_EARLY;

/** The request's span and what ends it, kept on the request and the response. */
class ServerRequestState implements ServerRequest, EmitHook {
  route: string | undefined = undefined;
  errorType: string | undefined = undefined;
  error: unknown = undefined;
  spansEndingWithResponse: Span[] | undefined = undefined;
  /** The context of the request: its span, active while the handler runs. */
  emitContext: Context = ROOT_CONTEXT;
  /** When the request came in (metricsClock), for its duration metric and the latency keep rule; NaN when neither needs it. */
  startedAt = NaN;
  /** The spans dropped under an unsampled request, in outline, while a keep rule may still record it (read by the tracer). */
  droppedSpans: DroppedSpans | undefined = undefined;
  private ended = false;

  constructor(
    /** Replaced by a recording span when a keep rule records a request the sampler dropped. */
    public span: Span,
    readonly method: string,
    /** Released when the span ends: timers the request started keep its context (and so this state) alive. */
    private response: ServerResponse | undefined,
    private readonly settings: ServerSettings,
    /** The context the span was started in: the parent of a span a keep rule records. */
    private readonly parent: Context,
  ) {}

  /** The response's 'finish' (or 'close', if it never finished) ends the span. */
  onEvent(target: object, event: string | symbol): void {
    const response = this.response;
    if (this.ended || target !== response || (event !== 'finish' && event !== 'close')) return;
    this.ended = true;
    this.response = undefined;
    this.end(response, event === 'close' && !response.writableFinished);
  }

  private end(response: ServerResponse, aborted: boolean): void {
    // What the span records and the metric reports alike: no status for a response never sent.
    const statusCode = response.headersSent || !aborted ? response.statusCode : 0;
    const errorType = aborted ? ABORTED : statusCode >= 500 ? (this.errorType ?? String(statusCode)) : undefined;
    if (this.startedAt === this.startedAt) this.measured(response, statusCode, errorType, metricsClock() - this.startedAt);
    // Work the request left running (a timer) keeps its context, and so this state, alive: not its outlines.
    this.droppedSpans = undefined;
    const span = this.span;
    if (span.isRecording()) {
      if (statusCode !== 0) {
        span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, statusCode);
        if (statusCode >= 500) {
          span.setAttribute(ATTR_ERROR_TYPE, errorType!);
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
      }
      captureHeaders(span, httpResponseHeaderAttribute, this.settings.ctx.settings.serverResponseHeaders, response, outgoingHeader);
    }
    const frameworkSpans = this.spansEndingWithResponse;
    if (frameworkSpans !== undefined) {
      this.spansEndingWithResponse = undefined;
      for (let i = frameworkSpans.length - 1; i >= 0; i--) this.settings.outcome.end(frameworkSpans[i]!);
    }
    if (aborted) this.settings.outcome.fail(span, undefined);
    else this.settings.outcome.end(span);
  }

  /** The duration metric, and the keep rules for a request the sampler dropped. */
  private measured(response: ServerResponse, statusCode: number, errorType: string | undefined, elapsedMs: number): void {
    const request = response.req as IncomingMessage | undefined;
    const keep = this.settings.keep;
    if (keep !== undefined && request !== undefined && !this.span.isRecording()) {
      const keptBy =
        keep.errors && errorType !== undefined
          ? TRACELET_KEPT_BY_VALUE_ERROR
          : keep.slowerThanMs > 0 && elapsedMs >= keep.slowerThanMs
            ? TRACELET_KEPT_BY_VALUE_SLOW
            : undefined;
      if (keptBy !== undefined) this.keep(request, keptBy, errorType !== undefined);
    }
    const recorder = requestMetrics.recorder;
    if (recorder === undefined) return;
    const scheme = request === undefined ? this.settings.scheme : requestScheme(request.headers, this.settings.scheme);
    recorder.httpServer(elapsedMs / 1000, this.method, this.route, statusCode, errorType, scheme, request?.httpVersion);
  }

  /**
   * Records the dropped request after all: its span with what every recorded request has and, on
   * a failed one, the exception a framework handled (its handler's span, which would hold it, was
   * not recorded). end() then adds the status as for any recorded request.
   */
  private keep(request: IncomingMessage, keptBy: string, failed: boolean): void {
    const { ctx } = this.settings;
    const name = httpSpanName(this.method, this.route);
    const remoteParent = getSpanContext(this.parent);
    const kept = keepDroppedSpan(ctx.tracer, this.span, name, SpanKind.SERVER, remoteParent, this.startedAt, keptBy);
    if (kept === undefined) return;
    if (this.droppedSpans !== undefined) keepDroppedChildren(this.droppedSpans, kept, keptBy);
    this.span = kept;
    const { method, original } = normaliseMethod(request.method, ctx.settings.knownMethods);
    recordRequest(kept, request, method, original, splitTarget(request.url ?? '/'), this.settings);
    if (this.route !== undefined) kept.setAttribute(ATTR_HTTP_ROUTE, this.route);
    if (failed && (this.error instanceof Error || typeof this.error === 'string')) kept.recordException(this.error);
  }
}

/** Starts the request's span and returns the context its handler runs in (undefined: leave it alone). */
function startServerSpan(request: IncomingMessage & Hooked, response: ServerResponse & Hooked, settings: ServerSettings): Context {
  const { ctx } = settings;
  const headers = request.headers;
  const target = splitTarget(request.url ?? '/');

  if (settings.excluded?.(target.path) === true) {
    // No span, but a trace passing through still propagates (and without one, work done for
    // this request starts no trace of its own).
    const passthrough = excludedRequestContext(headers, ctx);
    const hook = new ContextHook(passthrough);
    request[kEmitHook] = hook;
    response[kEmitHook] = hook;
    return passthrough;
  }

  const { parent, link } = incomingContext(headers, ctx);
  const { method, original } = normaliseMethod(request.method, ctx.settings.knownMethods);
  const span = ctx.tracer.startSpan(httpSpanName(method), { kind: SpanKind.SERVER, links: link === undefined ? undefined : [link] }, parent);
  if (span.isRecording()) recordRequest(span, request, method, original, target, settings);

  const state = new ServerRequestState(span, method, response, settings, parent);
  // A clock read only for a request something measures: its metric, or the latency rule of an unsampled one.
  if (requestMetrics.recorder !== undefined || (settings.keep !== undefined && !span.isRecording())) state.startedAt = metricsClock();
  if (settings.keep !== undefined && !span.isRecording()) state.droppedSpans = new DroppedSpans();
  const requestContext = withServerRequest(setSpan(parent, span), state);
  state.emitContext = requestContext;
  request[kEmitHook] = state;
  response[kEmitHook] = state;
  return requestContext;
}

/** The parent context of a request's span, per OTEL_INSTRUMENTATION_HTTP_SERVER_INCOMING_CONTEXT. */
function incomingContext(headers: IncomingHttpHeaders, ctx: InstrumentationContext<HttpSettings>): { parent: Context; link?: Link } {
  const policy = ctx.settings.incomingContext;
  if (policy === 'ignore') return { parent: ROOT_CONTEXT };
  const extracted = agentPropagation.extract(ROOT_CONTEXT, headers);
  if (policy === 'continue') return { parent: extracted };
  // restart: a new trace, linked to the caller's span; baggage is kept.
  const remote = getSpanContext(extracted);
  const baggage = getBaggage(extracted);
  return {
    parent: baggage === undefined ? ROOT_CONTEXT : setBaggage(ROOT_CONTEXT, baggage),
    link: remote !== undefined && isSpanContextValid(remote) ? { context: remote } : undefined,
  };
}

/** An excluded request continues the caller's trace if any, else runs under an unsampled one. */
function excludedRequestContext(headers: IncomingHttpHeaders, ctx: InstrumentationContext<HttpSettings>): Context {
  const { parent } = incomingContext(headers, ctx);
  const remote = getSpanContext(parent);
  if (remote !== undefined && isSpanContextValid(remote)) return parent;
  // Unsampled, and random: its ids come from the agent's generator (W3C Level 2).
  return setSpan(parent, new NonRecordingSpan({ traceId: newTraceId(), spanId: newSpanId(), traceFlags: TRACE_FLAG_RANDOM }));
}

function recordRequest(
  span: Span,
  request: IncomingMessage,
  method: string,
  originalMethod: string | undefined,
  target: { path: string; query: string | undefined },
  settings: ServerSettings,
): void {
  const headers = request.headers;
  const socket = request.socket;
  span.setAttribute(ATTR_HTTP_REQUEST_METHOD, method);
  if (originalMethod !== undefined) span.setAttribute(ATTR_HTTP_REQUEST_METHOD_ORIGINAL, originalMethod);
  span.setAttribute(ATTR_URL_PATH, target.path);
  if (target.query !== undefined) span.setAttribute(ATTR_URL_QUERY, redactQuery(target.query, settings.ctx.settings.sensitiveQuery));

  const forwarded = parseForwarded(headers.forwarded);
  span.setAttribute(ATTR_URL_SCHEME, webScheme(forwarded?.proto ?? firstValue(headers['x-forwarded-proto'])) ?? settings.scheme);
  const host = parseHostHeader(forwarded?.host ?? firstValue(headers['x-forwarded-host']) ?? headers.host);
  if (host !== undefined) {
    span.setAttribute(ATTR_SERVER_ADDRESS, host.address);
    if (host.port !== undefined) span.setAttribute(ATTR_SERVER_PORT, host.port);
  }
  const peer = socket ? peerOf(socket) : NO_PEER;
  const proxiedClient = forwarded?.for ?? firstValue(headers['x-forwarded-for']);
  if (proxiedClient !== undefined) span.setAttribute(ATTR_CLIENT_ADDRESS, proxiedClient);
  else if (peer.address !== undefined) {
    span.setAttribute(ATTR_CLIENT_ADDRESS, peer.address);
    if (peer.port !== undefined) span.setAttribute(ATTR_CLIENT_PORT, peer.port);
  }
  if (peer.address !== undefined) span.setAttribute(ATTR_NETWORK_PEER_ADDRESS, peer.address);
  if (peer.port !== undefined) span.setAttribute(ATTR_NETWORK_PEER_PORT, peer.port);
  span.setAttribute(ATTR_NETWORK_PROTOCOL_VERSION, request.httpVersion);
  const userAgent = headers['user-agent'];
  if (userAgent !== undefined) span.setAttribute(ATTR_USER_AGENT_ORIGINAL, userAgent);
  captureHeaders(span, httpRequestHeaderAttribute, settings.ctx.settings.serverRequestHeaders, request, incomingHeader);
}

/** The scheme the client used, when a proxy says so (http or https only: a header cannot add values). */
function requestScheme(headers: IncomingHttpHeaders, scheme: 'http' | 'https'): string {
  const proxied = headers.forwarded === undefined ? undefined : parseForwarded(headers.forwarded)?.proto;
  return webScheme(proxied ?? firstValue(headers['x-forwarded-proto'])) ?? scheme;
}

/** The first entry of a comma-separated header (the client nearest the origin of a proxy chain). */
function firstValue(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return undefined;
  const comma = text.indexOf(',');
  const first = (comma === -1 ? text : text.slice(0, comma)).trim();
  return first === '' ? undefined : first;
}

function webScheme(value: string | undefined): 'http' | 'https' | undefined {
  if (value === undefined) return undefined;
  const lower = value.toLowerCase();
  return lower === 'https' || lower === 'http' ? lower : undefined;
}

interface Forwarded {
  for?: string;
  host?: string;
  proto?: string;
}

/** `for`, `host` and `proto` of the first element of an RFC 7239 Forwarded header. */
export function parseForwarded(value: string | undefined): Forwarded | undefined {
  if (value === undefined) return undefined;
  const comma = value.indexOf(',');
  const element = comma === -1 ? value : value.slice(0, comma);
  const result: Forwarded = {};
  for (const pair of element.split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1) continue;
    const name = pair.slice(0, eq).trim().toLowerCase();
    let text = pair.slice(eq + 1).trim();
    if (text.startsWith('"') && text.endsWith('"') && text.length >= 2) text = text.slice(1, -1);
    if (name === 'for') result.for = stripForwardedPort(text);
    else if (name === 'host') result.host = text;
    else if (name === 'proto') result.proto = text;
  }
  return result.for === undefined && result.host === undefined && result.proto === undefined ? undefined : result;
}

/** `for` values may carry a port (`"[2001:db8::1]:4711"`, `192.0.2.60:80`): client.address is the address alone. */
function stripForwardedPort(value: string): string {
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    return close === -1 ? value : value.slice(1, close);
  }
  const colon = value.indexOf(':');
  return colon !== -1 && value.indexOf(':', colon + 1) === -1 ? value.slice(0, colon) : value;
}
