import type { Context, Span, TextMapSetter } from '@opentelemetry/api';
import type { ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import type { Socket } from 'node:net';
import { agentContext, isTracingSuppressed, agentPropagation, setSpan, SpanKind, SpanStatusCode } from '../../src/instrumentation/api';
import {
  captureHeaders,
  defaultPort,
  incomingHeader,
  fullUrl,
  httpSpanName,
  normaliseMethod,
  outgoingHeader,
  describeHttpClientSpan,
} from '../../src/instrumentation/http-semantics';
import type { InstrumentationContext } from '../../src/instrumentation/types';
import { describeError, Outcome, type DescribeFailure, type Failure, type Measurement } from '../../src/instrumentation/outcome';
import { metricsClock, recordHttpClientDuration, requestMetrics } from '../../src/instrumentation/request-metrics';
import { wrap } from '../../src/instrumentation/wrap';
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
import { kEmitHook, type EmitHook, type Hooked } from './emit';
import { peerOf } from './peer';
import { ABORTED } from './server';
import type { HttpSettings } from './settings';

type RequestFunction = (...args: unknown[]) => ClientRequest;

interface HttpModule {
  request: RequestFunction;
  get: RequestFunction;
}

/**
 * Wraps request() and get() of http or https: each outgoing request gets a CLIENT span, child of
 * the active span, and carries the trace context in its headers.
 */
export function patchClient(module: HttpModule, scheme: 'http' | 'https', ctx: InstrumentationContext<HttpSettings>): void {
  const outcome = new Outcome(ctx, describeClientFailure);
  wrap(
    ctx,
    module,
    'request',
    (original: RequestFunction) =>
      function request(this: unknown) {
        return tracedRequest(original, this, arguments, scheme, ctx, outcome);
      },
  );
  // Node's own get() is request() then end(); calling the wrapped request() keeps it that way.
  wrap(
    ctx,
    module,
    'get',
    () =>
      function get(this: unknown) {
        const request = module.request.apply(this, arguments as unknown as unknown[]);
        request.end();
        return request;
      },
  );
}

const ABORTED_FAILURE: Failure = { type: ABORTED, message: 'the request was aborted' };

/** An error the request emitted, as it is (error.type its code, else its name); no error at all: aborted. */
const describeClientFailure: DescribeFailure = (error) => (error instanceof Error ? describeError(error) : ABORTED_FAILURE);

/** Sets an outgoing header unless the caller already set it (their own traceparent wins). */
const requestSetter: TextMapSetter<ClientRequest> = {
  set(request, key, value) {
    if (request.getHeader(key) === undefined && !request.headersSent) request.setHeader(key, value);
  },
};

/** Appends to a raw header array (the `headers: [name, value, ...]` form), unless already there. */
const arraySetter: TextMapSetter<string[]> = {
  set(headers, key, value) {
    for (let i = 0; i < headers.length; i += 2) if (String(headers[i]).toLowerCase() === key) return;
    headers.push(key, value);
  },
};

function tracedRequest(
  original: RequestFunction,
  self: unknown,
  args: IArguments,
  scheme: 'http' | 'https',
  ctx: InstrumentationContext<HttpSettings>,
  outcome: Outcome,
): ClientRequest {
  const parent = agentContext.active();
  if (isTracingSuppressed(parent)) return original.apply(self, args as unknown as unknown[]);

  let state: ClientRequestState | undefined;
  let callArgs: ArrayLike<unknown> = args;
  try {
    const target = describeTarget(args, scheme);
    if (target !== undefined) {
      const { method, original: methodOriginal } = normaliseMethod(target.method, ctx.settings.knownMethods);
      const span = ctx.tracer.startSpan(httpSpanName(method), { kind: SpanKind.CLIENT }, parent);
      state = new ClientRequestState(span, parent, ctx, outcome);
      // http.client.request.duration, sampled or not, while metrics are on.
      if (requestMetrics.recorder !== undefined) state.measure(method, target.host, target.port);
      if (span.isRecording()) {
        span.setAttribute(ATTR_HTTP_REQUEST_METHOD, method);
        if (methodOriginal !== undefined) span.setAttribute(ATTR_HTTP_REQUEST_METHOD_ORIGINAL, methodOriginal);
        span.setAttribute(
          ATTR_URL_FULL,
          fullUrl(target.scheme, target.host, target.port, target.path, ctx.settings.sensitiveQuery, target.hasCredentials),
        );
        span.setAttribute(ATTR_SERVER_ADDRESS, target.host);
        if (target.port !== undefined) span.setAttribute(ATTR_SERVER_PORT, target.port);
        // A Unix domain socket is its own peer address; a TCP peer is known once connected (see onSocket).
        if (target.socketPath !== undefined) span.setAttribute(ATTR_NETWORK_PEER_ADDRESS, target.socketPath);
      }
      if (target.rawHeaders !== undefined) {
        // Raw header arrays are written out in the constructor: inject into a copy beforehand.
        const headers = target.rawHeaders.slice();
        agentPropagation.inject(setSpan(parent, span), headers, arraySetter);
        callArgs = withOptions(args, target.optionsIndex, { ...target.options, headers });
        state.injected = true;
      }
    }
  } catch (error) {
    ctx.reportError(error);
    state = undefined;
    callArgs = args;
  }

  let request: ClientRequest & Hooked;
  try {
    request = original.apply(self, callArgs as unknown[]);
  } catch (error) {
    state?.fail(error);
    throw error;
  }
  if (state !== undefined) {
    try {
      request[kEmitHook] = state;
      if (!state.injected) agentPropagation.inject(setSpan(parent, state.span), request, requestSetter);
      if (state.span.isRecording()) {
        captureHeaders(state.span, httpRequestHeaderAttribute, ctx.settings.clientRequestHeaders, request, outgoingHeader);
      }
    } catch (error) {
      ctx.reportError(error);
    }
  }
  return request;
}

/**
 * An outgoing request's span, ended when its response has been read, or when it fails; and,
 * while metrics are on, its own duration measurement (sampled or not), recorded at that end.
 */
class ClientRequestState implements EmitHook, Measurement {
  injected = false;
  private response: IncomingMessage | undefined;
  private ended = false;
  /** metricsClock() at the request's start; -1 while metrics were off at its start. */
  private start = -1;
  private method = '';
  private serverAddress: string | undefined = undefined;
  private serverPort: number | undefined = undefined;

  constructor(
    readonly span: Span,
    /** The caller's context: the request's and the response's events run in it. */
    readonly emitContext: Context,
    private readonly ctx: InstrumentationContext<HttpSettings>,
    private readonly outcome: Outcome,
  ) {}

  onEvent(target: object, event: string | symbol, argument: unknown): void {
    if (this.ended) return;
    if (target === this.response) {
      if (event === 'end' || event === 'close') this.finish();
      else if (event === 'error') this.fail(argument);
      return;
    }
    switch (event) {
      case 'socket':
        this.onSocket(argument as Socket);
        break;
      case 'response':
        this.onResponse(argument as IncomingMessage & Hooked);
        break;
      case 'upgrade':
        this.onResponse(argument as IncomingMessage & Hooked);
        this.finish();
        break;
      case 'error':
        this.fail(argument);
        break;
      case 'close':
        if (this.response === undefined) this.fail(undefined);
        else this.finish();
        break;
    }
  }

  /** Failed: with the request's error, or with none when it closed before any response (aborted). */
  fail(error: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.outcome.fail(this.span, error, this.start === -1 ? undefined : this);
  }

  /** Measures the request's duration from now, with the attributes its span has. */
  measure(method: string, serverAddress: string, serverPort: number | undefined): void {
    this.start = metricsClock();
    this.method = method;
    this.serverAddress = serverAddress;
    this.serverPort = serverPort;
  }

  /**
   * http.client.request.duration as the span ends: the response's status (0 without one) and
   * protocol version; error.type the request's failure, else a 4xx or 5xx status, as on the span.
   */
  record(failure: Failure | undefined): void {
    const response = this.response;
    recordHttpClientDuration(
      this.start,
      this.method,
      response?.statusCode ?? 0,
      failure?.type,
      this.serverAddress,
      this.serverPort,
      response?.httpVersion,
    );
  }

  /** The attributes of a dropped request's span that a keep rule records after all: those its metric has. */
  describeSpan(span: Span): void {
    describeHttpClientSpan(span, this.method, this.serverAddress, this.serverPort, this.response?.statusCode ?? 0, this.response?.httpVersion);
  }

  /**
   * network.peer.*: a reused keep-alive socket knows its peer now; a new one once it connects
   * (a request that fails before connecting has no peer). A Unix domain socket has no address.
   */
  private onSocket(socket: Socket): void {
    if (!this.span.isRecording() || typeof socket?.once !== 'function') return;
    if (!socket.connecting) this.recordPeer(socket);
    else socket.once('connect', () => this.recordPeerSafely(socket));
  }

  /** From the socket's own listener, outside the emit hook's guard. */
  private recordPeerSafely(socket: Socket): void {
    try {
      this.recordPeer(socket);
    } catch (error) {
      this.ctx.reportError(error);
    }
  }

  private recordPeer(socket: Socket): void {
    if (this.ended) return;
    const { address, port } = peerOf(socket);
    if (typeof address !== 'string') return;
    this.span.setAttribute(ATTR_NETWORK_PEER_ADDRESS, address);
    if (typeof port === 'number') this.span.setAttribute(ATTR_NETWORK_PEER_PORT, port);
  }

  private onResponse(response: IncomingMessage & Hooked): void {
    this.response = response;
    // The response's events ('data', 'end') run in the caller's context too.
    response[kEmitHook] = this;
    const span = this.span;
    if (!span.isRecording()) return;
    const status = response.statusCode ?? 0;
    span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
    span.setAttribute(ATTR_NETWORK_PROTOCOL_VERSION, response.httpVersion);
    if (status >= 400) {
      span.setAttribute(ATTR_ERROR_TYPE, String(status));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    captureHeaders(span, httpResponseHeaderAttribute, this.ctx.settings.clientResponseHeaders, response, incomingHeader);
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.outcome.end(this.span, undefined, undefined, this.start === -1 ? undefined : this);
  }
}

interface Target {
  readonly scheme: string;
  readonly host: string;
  readonly port: number | undefined;
  readonly path: string;
  readonly method: string;
  readonly hasCredentials: boolean;
  /** options.socketPath: the request goes over this Unix domain socket (or Windows pipe). */
  readonly socketPath: string | undefined;
  readonly options: RequestOptions | undefined;
  readonly optionsIndex: number;
  readonly rawHeaders: string[] | undefined;
}

/**
 * Where a request goes, read from request()'s arguments the way Node reads them:
 * (url[, options][, callback]) or (options[, callback]); options win over the URL.
 * Undefined when the arguments are not valid (Node then throws on its own).
 */
function describeTarget(args: IArguments, defaultScheme: string): Target | undefined {
  let url: URL | undefined;
  let options: RequestOptions | undefined;
  let optionsIndex = 0;
  const first = args[0];
  if (typeof first === 'string') {
    url = parseUrl(first);
    if (url === undefined) return undefined;
  } else if (first instanceof URL) {
    url = first;
  } else if (first !== null && typeof first === 'object') {
    options = first as RequestOptions;
  }
  if (url !== undefined && args[1] !== null && typeof args[1] === 'object') {
    options = args[1] as RequestOptions;
    optionsIndex = 1;
  }
  const protocol = options?.protocol ?? url?.protocol ?? `${defaultScheme}:`;
  const scheme = protocol.endsWith(':') ? protocol.slice(0, -1) : protocol;
  const host = unbracket(options?.hostname ?? stripPort(options?.host ?? undefined) ?? url?.hostname ?? 'localhost');
  const explicitPort = options?.port ?? (url?.port ? url.port : undefined) ?? options?.defaultPort;
  const port = explicitPort === undefined || explicitPort === null ? defaultPort(scheme) : Number(explicitPort);
  const path = options?.path ?? (url === undefined ? '/' : `${url.pathname}${url.search}`);
  const method = (options?.method ?? 'GET').toUpperCase();
  const hasCredentials = Boolean(options?.auth ?? (url !== undefined && (url.username !== '' || url.password !== '')));
  const rawHeaders = Array.isArray(options?.headers) ? (options!.headers as string[]) : undefined;
  return {
    scheme,
    host,
    port: Number.isInteger(port) ? port : undefined,
    path,
    method,
    hasCredentials,
    socketPath: typeof options?.socketPath === 'string' ? options.socketPath : undefined,
    options,
    optionsIndex,
    rawHeaders,
  };
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** `host:port` in options.host: server.address is the host alone. */
function stripPort(host: string | undefined): string | undefined {
  if (host === undefined || host.startsWith('[')) return host;
  const colon = host.indexOf(':');
  return colon !== -1 && host.indexOf(':', colon + 1) === -1 ? host.slice(0, colon) : host;
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function withOptions(args: IArguments, index: number, options: RequestOptions): unknown[] {
  const copy = Array.prototype.slice.call(args) as unknown[];
  copy[index] = options;
  return copy;
}
