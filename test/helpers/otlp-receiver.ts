import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach } from 'vitest';
import { ExportMetricsServiceRequest, ExportTraceServiceRequest, ExportTraceServiceResponse } from './otlp-schema.mjs';

/**
 * A loopback OTLP/HTTP trace receiver for tests. It decodes protobuf with protobufjs loading the
 * official opentelemetry-proto schema (shipped unmodified by @elastic/mockotlpserver), never with
 * the agent's own code, and reads OTLP/JSON by the OTLP JSON rules.
 */

export { ExportMetricsServiceRequest, ExportTraceServiceRequest, ExportTraceServiceResponse };

export type AttributeMap = Record<string, unknown>;

export interface ReceivedEvent {
  readonly name: string;
  readonly timeUnixNano: string;
  readonly attributes: AttributeMap;
  readonly droppedAttributesCount: number;
}

export interface ReceivedLink {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceState: string;
  readonly attributes: AttributeMap;
  readonly droppedAttributesCount: number;
  readonly flags: number;
}

/** One span as the receiver decoded it, with its resource and scope attached. */
export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly traceState: string;
  readonly flags: number;
  readonly name: string;
  /** OTLP enum: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  readonly startTimeUnixNano: string;
  readonly endTimeUnixNano: string;
  readonly attributes: AttributeMap;
  /** The OTLP value type of each attribute (stringValue, intValue, doubleValue, ...). */
  readonly attributeTypes: Record<string, string>;
  readonly droppedAttributesCount: number;
  readonly events: ReceivedEvent[];
  readonly droppedEventsCount: number;
  readonly links: ReceivedLink[];
  readonly droppedLinksCount: number;
  readonly status: { code: number; message: string };
  readonly resource: AttributeMap;
  readonly scope: { name: string; version: string; schemaUrl: string };
}

/**
 * A decoded OTLP message (protobufjs's object or parsed JSON): it has no static type here; what
 * the tests assert about it is the check.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
type Json = any;

export interface ReceivedRequest {
  readonly headers: IncomingHttpHeaders;
  readonly path: string;
  /** The decoded ExportTraceServiceRequest as a plain object (protobuf) or the parsed JSON. */
  readonly message: Json;
  readonly spans: ReceivedSpan[];
}

export interface Reply {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string | Uint8Array;
}

/** Decides the answer to the n-th request (0-based); default 200 with an empty response. */
export type Responder = (request: ReceivedRequest, index: number) => Reply | undefined;

/** One data point of a received metric; the fields its type has (number or histogram). */
export interface ReceivedPoint {
  readonly attributes: AttributeMap;
  readonly startTimeUnixNano: string;
  readonly timeUnixNano: string;
  /** A gauge's or sum's value, and which member held it. */
  readonly value?: number;
  readonly valueType?: 'asDouble' | 'asInt';
  readonly count?: number;
  readonly sum?: number;
  readonly bucketCounts?: number[];
  readonly explicitBounds?: number[];
  readonly min?: number;
  readonly max?: number;
}

/** One metric as the receiver decoded it, with its resource and scope attached. */
export interface ReceivedMetric {
  readonly name: string;
  readonly description: string;
  readonly unit: string;
  readonly type: 'gauge' | 'sum' | 'histogram' | 'exponentialHistogram' | 'summary' | 'none';
  /** OTLP AggregationTemporality: 1 delta, 2 cumulative (0 for gauges). */
  readonly temporality: number;
  readonly isMonotonic: boolean;
  readonly points: ReceivedPoint[];
  readonly resource: AttributeMap;
  readonly scope: { name: string; version: string };
}

export interface ReceivedMetricsRequest {
  readonly headers: IncomingHttpHeaders;
  readonly path: string;
  /** The decoded ExportMetricsServiceRequest as a plain object (protobuf) or the parsed JSON. */
  readonly message: Json;
  readonly metrics: ReceivedMetric[];
}

/** Decides the answer to the n-th metrics request (0-based); default 200. */
export type MetricsResponder = (request: ReceivedMetricsRequest, index: number) => Reply | undefined;

export class OtlpReceiver {
  readonly requests: ReceivedRequest[] = [];
  /** Every request that reached the receiver, including ones answered with an error (metrics requests not counted). */
  attempts = 0;
  /** Metrics requests (POST /v1/metrics) answered 2xx; kept apart from the trace requests above. */
  readonly metricsRequests: ReceivedMetricsRequest[] = [];
  /** Every metrics request, including ones answered with an error. */
  metricsAttempts = 0;
  private waiters: Array<() => void> = [];

  private constructor(
    private readonly server: Server,
    private readonly responder: Responder | undefined,
    private readonly metricsResponder: MetricsResponder | undefined,
  ) {}

  static async start(responder?: Responder, port = 0, metricsResponder?: MetricsResponder): Promise<OtlpReceiver> {
    let receiver: OtlpReceiver | undefined;
    const server = createServer((req, res) => receiver!.handle(req, res));
    receiver = new OtlpReceiver(server, responder, metricsResponder);
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return receiver;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Base URL for OTEL_EXPORTER_OTLP_ENDPOINT. */
  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Spans of every accepted (2xx) request. */
  get spans(): ReceivedSpan[] {
    return this.requests.flatMap((request) => request.spans);
  }

  async waitForSpans(count: number, timeoutMs = 10_000): Promise<ReceivedSpan[]> {
    const enough = (spans: ReceivedSpan[]) => (spans.length >= count ? spans : undefined);
    return this.waitUntil(enough, timeoutMs, () => `expected ${count} spans, received ${this.spans.length}`);
  }

  /**
   * What `find` makes of the spans received so far, once it is not undefined: asked again at
   * every request that arrives, until the time is up (then an error saying `failure()`).
   */
  async waitUntil<T>(find: (spans: ReceivedSpan[]) => T | undefined, timeoutMs: number, failure: () => string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = find(this.spans);
      if (found !== undefined) return found;
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(failure());
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Metrics of every accepted metrics request, in arrival order. */
  get metrics(): ReceivedMetric[] {
    return this.metricsRequests.flatMap((request) => request.metrics);
  }

  /** What `find` makes of the metrics received so far, once it is not undefined (else an error after timeoutMs). */
  async waitForMetrics<T>(find: (metrics: ReceivedMetric[]) => T | undefined, timeoutMs = 10_000, failure?: () => string): Promise<T> {
    return this.waitUntil(
      () => find(this.metrics),
      timeoutMs,
      failure ?? (() => `the expected metrics did not arrive; received: ${[...new Set(this.metrics.map((metric) => metric.name))].join(', ')}`),
    );
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if ((req.url ?? '').startsWith('/v1/metrics')) {
        this.handleMetrics(req, res, Buffer.concat(chunks));
        return;
      }
      const index = this.attempts++;
      let request: ReceivedRequest;
      try {
        request = decodeRequest(req, Buffer.concat(chunks));
      } catch (error) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(`undecodable: ${String(error)}`);
        return;
      }
      const reply = this.responder?.(request, index) ?? { status: 200 };
      if (reply.status >= 200 && reply.status < 300) this.requests.push(request);
      res.writeHead(reply.status, reply.headers ?? {});
      res.end(reply.body ?? (String(req.headers['content-type']).includes('json') ? '{}' : ''));
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    });
  }

  private handleMetrics(req: IncomingMessage, res: ServerResponse, raw: Buffer): void {
    const index = this.metricsAttempts++;
    let request: ReceivedMetricsRequest;
    try {
      request = decodeMetricsRequest(req, raw);
    } catch (error) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`undecodable: ${String(error)}`);
      return;
    }
    const reply = this.metricsResponder?.(request, index) ?? { status: 200 };
    if (reply.status >= 200 && reply.status < 300) this.metricsRequests.push(request);
    res.writeHead(reply.status, reply.headers ?? {});
    res.end(reply.body ?? (String(req.headers['content-type']).includes('json') ? '{}' : ''));
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

/**
 * A receiver of its own for each test of the calling file, started before the test and closed
 * after it (after the afterEach hooks the file registers later: those run first); the function
 * returned gives the current one.
 */
export function receiverForEachTest(): () => OtlpReceiver {
  let current: OtlpReceiver | undefined;
  beforeEach(async () => {
    current = await OtlpReceiver.start();
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return () => {
    if (current === undefined) throw new Error('there is a receiver only while a test runs');
    return current;
  };
}

/** How protobufjs turns a decoded message into the plain object the tests read. */
const AS_OBJECT = { longs: String, enums: Number, bytes: Array, defaults: true, arrays: true, oneofs: true };

function decodeRequest(req: IncomingMessage, raw: Buffer): ReceivedRequest {
  const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
  const type = String(req.headers['content-type']);
  if (type === 'application/x-protobuf') {
    const message = ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(body), AS_OBJECT);
    return { headers: req.headers, path: req.url ?? '', message, spans: spansFromJson(protobufToJsonShape(message)) };
  }
  if (type === 'application/json') {
    const message = JSON.parse(body.toString('utf8'));
    return { headers: req.headers, path: req.url ?? '', message, spans: spansFromJson(message) };
  }
  throw new Error(`unexpected content-type ${type}`);
}

const hex = (bytes: number[] | Uint8Array | undefined) => Buffer.from(bytes ?? []).toString('hex');

/** Flattens an OTLP AnyValue (protobuf toObject or JSON form) into a JS value and its type. */
function anyValue(value: Json): [unknown, string] {
  if (value === undefined || value === null) return [undefined, 'empty'];
  if (value.stringValue !== undefined && value.stringValue !== null) return [value.stringValue, 'stringValue'];
  if (value.boolValue !== undefined && value.boolValue !== null) return [value.boolValue, 'boolValue'];
  if (value.intValue !== undefined && value.intValue !== null) return [Number(value.intValue), 'intValue'];
  if (value.doubleValue !== undefined && value.doubleValue !== null) return [Number(value.doubleValue), 'doubleValue'];
  if (value.arrayValue !== undefined && value.arrayValue !== null) {
    return [(value.arrayValue.values ?? []).map((item: unknown) => anyValue(item)[0] ?? null), 'arrayValue'];
  }
  if (value.kvlistValue !== undefined && value.kvlistValue !== null) return [attributes(value.kvlistValue.values), 'kvlistValue'];
  if (value.bytesValue !== undefined && value.bytesValue !== null) return [value.bytesValue, 'bytesValue'];
  return [undefined, 'empty'];
}

function attributes(list: Json[] | undefined): AttributeMap {
  const out: AttributeMap = {};
  for (const { key, value } of list ?? []) out[key] = anyValue(value)[0];
  return out;
}

function attributeTypes(list: Json[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { key, value } of list ?? []) out[key] = anyValue(value)[1];
  return out;
}

/**
 * Brings protobufjs's decoded object to the OTLP/JSON shape (hex ids, only the set member of each
 * AnyValue oneof), so one reader serves both encodings.
 */
function protobufToJsonShape(message: Json): Json {
  const anyValue = (value: Json): Json => {
    if (value === undefined || value === null || value.value === undefined) return undefined;
    const field = value.value as string;
    return { [field]: field === 'arrayValue' ? { values: (value.arrayValue.values ?? []).map(anyValue) } : value[field] };
  };
  const keyValues = (list: Json[] | undefined) => (list ?? []).map(({ key, value }) => ({ key, value: anyValue(value) }));
  return {
    resourceSpans: (message.resourceSpans ?? []).map((resourceSpans: Json) => ({
      resource: { attributes: keyValues(resourceSpans.resource?.attributes) },
      scopeSpans: (resourceSpans.scopeSpans ?? []).map((scopeSpans: Json) => ({
        scope: scopeSpans.scope,
        schemaUrl: scopeSpans.schemaUrl,
        spans: (scopeSpans.spans ?? []).map((span: Json) => ({
          ...span,
          traceId: hex(span.traceId),
          spanId: hex(span.spanId),
          parentSpanId: hex(span.parentSpanId),
          attributes: keyValues(span.attributes),
          events: (span.events ?? []).map((event: Json) => ({ ...event, attributes: keyValues(event.attributes) })),
          links: (span.links ?? []).map((link: Json) => ({
            ...link,
            traceId: hex(link.traceId),
            spanId: hex(link.spanId),
            attributes: keyValues(link.attributes),
          })),
        })),
      })),
    })),
  };
}

function spansFromJson(message: Json): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of message.resourceSpans ?? []) {
    const resource = attributes(resourceSpans.resource?.attributes);
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      const scope = { name: scopeSpans.scope?.name ?? '', version: scopeSpans.scope?.version ?? '', schemaUrl: scopeSpans.schemaUrl ?? '' };
      for (const span of scopeSpans.spans ?? []) {
        spans.push({
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId ?? '',
          traceState: span.traceState ?? '',
          flags: span.flags ?? 0,
          name: span.name,
          kind: span.kind ?? 0,
          startTimeUnixNano: String(span.startTimeUnixNano),
          endTimeUnixNano: String(span.endTimeUnixNano),
          attributes: attributes(span.attributes),
          attributeTypes: attributeTypes(span.attributes),
          droppedAttributesCount: span.droppedAttributesCount ?? 0,
          events: (span.events ?? []).map((event: Json) => ({
            name: event.name,
            timeUnixNano: String(event.timeUnixNano),
            attributes: attributes(event.attributes),
            droppedAttributesCount: event.droppedAttributesCount ?? 0,
          })),
          droppedEventsCount: span.droppedEventsCount ?? 0,
          links: (span.links ?? []).map((link: Json) => ({
            traceId: link.traceId,
            spanId: link.spanId,
            traceState: link.traceState ?? '',
            attributes: attributes(link.attributes),
            droppedAttributesCount: link.droppedAttributesCount ?? 0,
            flags: link.flags ?? 0,
          })),
          droppedLinksCount: span.droppedLinksCount ?? 0,
          status: { code: span.status?.code ?? 0, message: span.status?.message ?? '' },
          resource,
          scope,
        });
      }
    }
  }
  return spans;
}

function decodeMetricsRequest(req: IncomingMessage, raw: Buffer): ReceivedMetricsRequest {
  const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
  const type = String(req.headers['content-type']);
  if (type === 'application/x-protobuf') {
    const message = ExportMetricsServiceRequest.toObject(ExportMetricsServiceRequest.decode(body), AS_OBJECT);
    return { headers: req.headers, path: req.url ?? '', message, metrics: metricsFromObject(message, true) };
  }
  if (type === 'application/json') {
    const message = JSON.parse(body.toString('utf8'));
    return { headers: req.headers, path: req.url ?? '', message, metrics: metricsFromObject(message, false) };
  }
  throw new Error(`unexpected content-type ${type}`);
}

const METRIC_TYPES = ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'] as const;

/** Reads protobufjs's object or OTLP/JSON into ReceivedMetric (one reader, two spellings of a oneof). */
function metricsFromObject(message: Json, fromProtobuf: boolean): ReceivedMetric[] {
  const keyValues = (list: Json[] | undefined) =>
    attributes((list ?? []).map(({ key, value }: Json) => ({ key, value: fromProtobuf ? protobufAnyValue(value) : value })));
  const number = (value: unknown) => (value === undefined || value === null ? undefined : Number(value));
  const metrics: ReceivedMetric[] = [];
  for (const resourceMetrics of message.resourceMetrics ?? []) {
    const resource = keyValues(resourceMetrics.resource?.attributes);
    for (const scopeMetrics of resourceMetrics.scopeMetrics ?? []) {
      const scope = { name: scopeMetrics.scope?.name ?? '', version: scopeMetrics.scope?.version ?? '' };
      for (const metric of scopeMetrics.metrics ?? []) {
        const type = fromProtobuf ? (metric.data ?? 'none') : (METRIC_TYPES.find((name) => metric[name] !== undefined) ?? 'none');
        const data = type === 'none' ? {} : metric[type];
        const points: ReceivedPoint[] = (data.dataPoints ?? []).map((point: Json) => {
          const valueType = fromProtobuf ? point.value : point.asDouble !== undefined ? 'asDouble' : point.asInt !== undefined ? 'asInt' : undefined;
          return {
            attributes: keyValues(point.attributes),
            startTimeUnixNano: String(point.startTimeUnixNano ?? '0'),
            timeUnixNano: String(point.timeUnixNano ?? '0'),
            value: valueType === undefined ? undefined : Number(point[valueType]),
            valueType,
            count: number(point.count),
            sum: number(point.sum),
            bucketCounts: point.bucketCounts?.map(Number),
            explicitBounds: point.explicitBounds?.map(Number),
            min: number(point.min),
            max: number(point.max),
          };
        });
        metrics.push({
          name: metric.name,
          description: metric.description ?? '',
          unit: metric.unit ?? '',
          type,
          temporality: data.aggregationTemporality ?? 0,
          isMonotonic: data.isMonotonic ?? false,
          points,
          resource,
          scope,
        });
      }
    }
  }
  return metrics;
}

/** protobufjs's AnyValue (with its `value` oneof name) in the OTLP/JSON shape. */
function protobufAnyValue(value: Json): Json {
  if (value === undefined || value === null || value.value === undefined) return undefined;
  const field = value.value as string;
  return { [field]: field === 'arrayValue' ? { values: (value.arrayValue.values ?? []).map(protobufAnyValue) } : value[field] };
}
