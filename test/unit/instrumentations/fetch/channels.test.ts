import * as dc from 'node:diagnostics_channel';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { fetchInstrumentation } from '../../../../instrumentations/fetch';
import { setPropagator } from '../../../../src/api/active';
import { agentContext, setSpan, SpanKind, SpanStatusCode, suppressTracing } from '../../../../src/instrumentation/api';
import { subscribeChannels } from '../../../../src/instrumentation/channels';
import { instrumentationContext } from '../../../helpers/instrumentation-context';
import { createPropagator } from '../../../../src/propagation/composite';
import { installContextManager } from '../../../helpers/context';
import { testProvider } from '../../../helpers/in-memory';

/**
 * The instrumentation fed undici's messages by hand, with a stand-in for undici's Request, for
 * what the end-to-end tests cannot provoke: both header shapes on one Node, a request published
 * twice, unknown methods, suppressed contexts.
 */
const manager = installContextManager();
setPropagator(createPropagator(['tracecontext']));
const { processor, tracer: parentTracer, provider } = testProvider();
const ctx = instrumentationContext(fetchInstrumentation, provider.getTracer('tracelet/fetch'), {
  OTEL_INSTRUMENTATION_HTTP_CLIENT_CAPTURE_REQUEST_HEADERS: 'x-tag',
});
const errors = ctx.errors;
const unsubscribe = subscribeChannels(fetchInstrumentation, ctx, manager.storage);
afterAll(unsubscribe);
beforeEach(() => {
  processor.spans.length = 0;
  errors.length = 0;
});

/** undici's Request as far as the instrumentation reads it: headers a string (undici 5) or an array. */
class FakeRequest {
  constructor(
    public headers: string | Array<string | string[]>,
    readonly method = 'GET',
    readonly origin = 'http://example.com:8080',
    readonly path = '/a?sig=s',
  ) {}
  addHeader(name: string, value: string): this {
    if (typeof this.headers === 'string') this.headers += `${name}: ${value}\r\n`;
    else this.headers.push(name, value);
    return this;
  }
}

const publish = (channel: string, message: object) => dc.channel(channel).publish(message);

/** Runs fn inside an active parent span; returns the parent's ids. */
function withinParent(fn: () => void): { traceId: string; spanId: string } {
  const parent = parentTracer.startSpan('parent');
  agentContext.with(setSpan(agentContext.active(), parent), fn);
  parent.end();
  return parent.spanContext();
}

const clientSpans = () => processor.spans.filter((span) => span.kind === SpanKind.CLIENT);

describe('fetch instrumentation on undici messages', () => {
  it('injects into undici 5 header blocks and ends the span when the response completes', () => {
    const request = new FakeRequest('x-tag: a\r\n');
    const parent = withinParent(() => publish('undici:request:create', { request }));
    publish('undici:client:sendHeaders', { request, headers: 'GET /a HTTP/1.1\r\n', socket: { remoteAddress: '10.0.0.1', remotePort: 8080 } });
    publish('undici:request:headers', { request, response: { statusCode: 204, headers: [] } });
    expect(clientSpans()).toEqual([]);
    publish('undici:request:trailers', { request, trailers: [] });

    const [span] = clientSpans();
    expect(span!.parentSpanId).toBe(parent.spanId);
    expect(span!.attributes).toEqual({
      'http.request.method': 'GET',
      'url.full': 'http://example.com:8080/a?sig=REDACTED',
      'server.address': 'example.com',
      'server.port': 8080,
      'http.request.header.x-tag': ['a'],
      'network.protocol.version': '1.1',
      'network.peer.address': '10.0.0.1',
      'network.peer.port': 8080,
      'http.response.status_code': 204,
    });
    const flags = span!.spanContext().traceFlags.toString(16).padStart(2, '0');
    expect(request.headers).toBe(`x-tag: a\r\ntraceparent: 00-${parent.traceId}-${span!.spanContext().spanId}-${flags}\r\n`);
    expect(errors).toEqual([]);
  });

  it('gives a request published twice one span and one traceparent', () => {
    const request = new FakeRequest([]);
    withinParent(() => {
      publish('undici:request:create', { request });
      publish('undici:request:create', { request });
    });
    publish('undici:request:trailers', { request, trailers: [] });
    publish('undici:request:trailers', { request, trailers: [] });
    expect(clientSpans()).toHaveLength(1);
    expect((request.headers as string[]).filter((item) => item === 'traceparent')).toHaveLength(1);
  });

  it('keeps a propagation header the caller set, whatever its case', () => {
    const request = new FakeRequest(['TraceParent', 'mine']);
    withinParent(() => publish('undici:request:create', { request }));
    expect(request.headers).toEqual(['TraceParent', 'mine']);
  });

  it('names a span of an unknown method HTTP and keeps the original', () => {
    const request = new FakeRequest([], 'PURGE');
    withinParent(() => publish('undici:request:create', { request }));
    publish('undici:request:trailers', { request, trailers: [] });
    const [span] = clientSpans();
    expect(span!.name).toBe('HTTP');
    expect(span!.attributes['http.request.method']).toBe('_OTHER');
    expect(span!.attributes['http.request.method_original']).toBe('PURGE');
  });

  it('leaves requests made with tracing suppressed alone: no span, no header', () => {
    const request = new FakeRequest([]);
    agentContext.with(suppressTracing(agentContext.active()), () => publish('undici:request:create', { request }));
    publish('undici:request:trailers', { request, trailers: [] });
    expect(processor.spans).toEqual([]);
    expect(request.headers).toEqual([]);
  });

  it('reports 5xx as an error with the status code as error.type', () => {
    const request = new FakeRequest([]);
    withinParent(() => publish('undici:request:create', { request }));
    publish('undici:request:headers', { request, response: { statusCode: 503, headers: [] } });
    publish('undici:request:trailers', { request, trailers: [] });
    const [span] = clientSpans();
    expect(span!.status).toEqual({ code: SpanStatusCode.ERROR });
    expect(span!.attributes['error.type']).toBe('503');
  });

  it('ends in error with the string code, or the name when the code is not a string; later errors change nothing', () => {
    const timedOut = new FakeRequest([]);
    const aborted = new FakeRequest([]);
    withinParent(() => {
      publish('undici:request:create', { request: timedOut });
      publish('undici:request:create', { request: aborted });
    });
    const timeout = Object.assign(new Error('Connect Timeout Error'), { name: 'ConnectTimeoutError', code: 'UND_ERR_CONNECT_TIMEOUT' });
    publish('undici:request:error', { request: timedOut, error: timeout });
    publish('undici:request:error', { request: aborted, error: new DOMException('This operation was aborted', 'AbortError') });
    publish('undici:request:error', { request: aborted, error: new Error('after the end') });

    const [first, second] = clientSpans();
    expect(first!.attributes['error.type']).toBe('UND_ERR_CONNECT_TIMEOUT');
    expect(first!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'Connect Timeout Error' });
    expect(first!.events.map((event) => event.name)).toEqual(['exception']);
    expect(second!.attributes['error.type']).toBe('AbortError');
    expect(second!.status.message).toBe('This operation was aborted');
    expect(clientSpans()).toHaveLength(2);
  });
});
