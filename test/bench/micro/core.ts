// Micro-benchmarks of the agent's hot path, on the agent's own modules (bundled by esbuild from
// src/ before the run): span start and end, context switching, W3C traceparent extract and
// inject, and OTLP/protobuf encoding of a full export batch. Prints one JSON line of results.
import { SpanKind, setSpan } from '../../../src/api/trace';
import { ROOT_CONTEXT } from '../../../src/api/context';
import { parseConfig } from '../../../src/config/env';
import { AsyncLocalStorageContextManager } from '../../../src/context/async-local-storage-context-manager';
import { encodeTraceRequest } from '../../../src/export/otlp/protobuf-encoder';
import { ProtobufSpanPacker } from '../../../src/export/otlp/protobuf-spans';
import { TraceContextPropagator } from '../../../src/propagation/trace-context';
import { detectResource } from '../../../src/trace/resource';
import { createSampler } from '../../../src/trace/sampler';
import { AgentTracerProvider } from '../../../src/trace/tracer-provider';
import type { ReadableSpan } from '../../../src/trace/types';
import { InMemoryProcessor } from '../../helpers/in-memory';

const MIN_MS = Number(process.argv[2] ?? 300);
const SAMPLES = Number(process.argv[3] ?? 5);

/** Keeps the last batch of ended spans (at most 512), the way the batch processor queues them. */
class LastBatch extends InMemoryProcessor {
  override onEnd(span: ReadableSpan): void {
    if (this.spans.length === 512) this.spans.length = 0;
    this.spans.push(span);
  }
}

const { config } = parseConfig({ OTEL_SERVICE_NAME: 'bench' });
const processor = new LastBatch();
const provider = new AgentTracerProvider({ sampler: createSampler('parentbased_always_on', 1), limits: config.limits, processors: [processor] });
const tracer = provider.getTracer('bench', '1.0.0');
const contextManager = new AsyncLocalStorageContextManager();
const propagator = new TraceContextPropagator();
const carrierGetter = { get: (carrier: Record<string, string>, key: string) => carrier[key], keys: Object.keys };
const carrierSetter = { set: (carrier: Record<string, string>, key: string, value: string) => void (carrier[key] = value) };

/** ops/s: the median of SAMPLES timed samples, each at least MIN_MS of `batch` calls. */
function measure(batch: number, body: (i: number) => void): number {
  const rates: number[] = [];
  for (let sample = 0; sample < SAMPLES; sample++) {
    let calls = 0;
    const start = process.hrtime.bigint();
    let elapsedNs = 0n;
    while (elapsedNs < BigInt(MIN_MS) * 1_000_000n) {
      for (let i = 0; i < batch; i++) body(i);
      calls += batch;
      elapsedNs = process.hrtime.bigint() - start;
    }
    rates.push(calls / (Number(elapsedNs) / 1e9));
  }
  rates.sort((a, b) => a - b);
  return rates[rates.length >> 1]!;
}

function serverSpan(i: number, spanTracer = tracer) {
  const span = spanTracer.startSpan('GET /users/:id', { kind: SpanKind.SERVER }, ROOT_CONTEXT);
  span.setAttributes({
    'http.request.method': 'GET',
    'url.path': `/users/${i}`,
    'url.scheme': 'http',
    'server.address': 'localhost',
    'server.port': 8080,
    'network.peer.address': '127.0.0.1',
    'network.peer.port': 50000 + (i & 1023),
    'network.protocol.version': '1.1',
    'user_agent.original': 'bench/1.0',
    'http.route': '/users/:id',
  });
  span.setAttribute('http.response.status_code', 200);
  span.end();
}

const results: Record<string, number> = {};
results['span start+end'] = measure(1000, () => tracer.startSpan('work', undefined, ROOT_CONTEXT).end());
results['HTTP server span (11 attributes)'] = measure(1000, serverSpan);

const parentSpan = tracer.startSpan('parent', undefined, ROOT_CONTEXT);
const parentContext = setSpan(ROOT_CONTEXT, parentSpan);
const noop = () => 0;
results['context.with (AsyncLocalStorage)'] = measure(1000, () => contextManager.with(parentContext, noop));

const incoming = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7' };
results['traceparent + tracestate extract'] = measure(1000, () => propagator.extract(ROOT_CONTEXT, incoming, carrierGetter));
results['traceparent inject'] = measure(1000, () => propagator.inject(parentContext, {}, carrierSetter));

processor.spans.length = 0;
for (let i = 0; i < 512; i++) serverSpan(i);
const batch = processor.spans;
if (batch.length !== 512) throw new Error(`expected a batch of 512 spans, got ${batch.length}`);
const resource = detectResource(config);
const encodedBytes = encodeTraceRequest(batch, resource).length;
results['OTLP protobuf encode, 512-span batch'] = measure(1, () => encodeTraceRequest(batch, resource));

// The whole per-span cost on the export path: started, 11 attributes, ended, serialized into a pack.
const packer = new ProtobufSpanPacker();
const packing = new AgentTracerProvider({
  sampler: createSampler('parentbased_always_on', 1),
  limits: config.limits,
  processors: [
    {
      onEnd(span: ReadableSpan) {
        packer.add(span);
        if (packer.count === 256) packer.take();
      },
      hasPendingSpans: () => false,
      forceFlush: async () => {},
      flushAtExit: () => {},
      shutdown: async () => {},
    },
  ],
});
const packingTracer = packing.getTracer('bench', '1.0.0');
results['HTTP server span, recorded and packed for export'] = measure(1000, (i) => serverSpan(i, packingTracer));

process.stdout.write(`${JSON.stringify({ results, encodedBytes })}\n`);
