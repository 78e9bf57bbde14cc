import { createTraceState, SpanKind } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { ROOT_CONTEXT } from '../../../src/api/context';
import { setSpanContext, VerifiedSpanContext } from '../../../src/api/trace';
import { encodeTraceRequest } from '../../../src/export/otlp/protobuf-encoder';
import { parseTraceParent } from '../../../src/propagation/trace-context';
import { lastIdWords, newSpanId, newTraceId } from '../../../src/trace/id-generator';
import { traceIdWordsFromHex, wordFromHex } from '../../../src/trace/id-words';
import { SamplingDecision, type Sampler } from '../../../src/trace/sampler';
import type { ReadableSpan } from '../../../src/trace/types';
import { testProvider } from '../../helpers/in-memory';
import { ExportTraceServiceRequest } from '../../helpers/otlp-schema.mjs';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe('id words', () => {
  it('are the bytes of each generated id, as the hex says them', () => {
    for (let i = 0; i < 500; i++) {
      const traceId = newTraceId();
      const trace = traceIdWordsFromHex(traceId);
      expect([...lastIdWords]).toEqual([trace.word0, trace.word1, trace.word2, trace.word3]);
      const spanId = newSpanId();
      expect([lastIdWords[0], lastIdWords[1]]).toEqual([wordFromHex(spanId, 0), wordFromHex(spanId, 8)]);
    }
  });

  it('hold the first byte of each group of four in the low byte', () => {
    expect(wordFromHex('01020304', 0)).toBe(0x04030201);
    expect(wordFromHex('ffeeddcc', 0)).toBe(0xccddeeff | 0);
    const words = traceIdWordsFromHex('0af7651916cd43dd8448eb211c80319c');
    const bytes = Buffer.alloc(16);
    [words.word0, words.word1, words.word2, words.word3].forEach((word, i) => bytes.writeInt32LE(word, i * 4));
    expect(bytes.toString('hex')).toBe('0af7651916cd43dd8448eb211c80319c');
  });
});

describe('ids in the OTLP request', () => {
  /* eslint-disable @typescript-eslint/no-explicit-any -- decoded protobufjs messages are untyped */
  function decodedSpans(spans: readonly ReadableSpan[]): any[] {
    const request: any = ExportTraceServiceRequest.decode(encodeTraceRequest(spans, { attributes: {} }));
    return request.resourceSpans[0].scopeSpans[0].spans;
  }

  it('are the ids of each span, its parent and its links, however the context was made', () => {
    const { tracer, processor } = testProvider();
    const root = tracer.startSpan('root', { kind: SpanKind.SERVER }, ROOT_CONTEXT);
    const child = tracer.startSpan('child', undefined, setSpanContext(ROOT_CONTEXT, root.spanContext()));
    const remote = parseTraceParent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')!;
    remote.traceState = createTraceState('vendor=value');
    const fromRemote = tracer.startSpan('from-remote', undefined, setSpanContext(ROOT_CONTEXT, remote));
    const grandchild = tracer.startSpan('grandchild', undefined, setSpanContext(ROOT_CONTEXT, fromRemote.spanContext()));
    // A parent and a link the application made itself: plain objects, ids in hex only.
    const plain = { traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', traceFlags: 1 };
    const fromPlain = tracer.startSpan('from-plain', { links: [{ context: plain }, { context: remote }] }, setSpanContext(ROOT_CONTEXT, plain));
    for (const span of [grandchild, fromRemote, child, root, fromPlain]) span.end();

    expect(remote).toBeInstanceOf(VerifiedSpanContext);
    expect((remote as VerifiedSpanContext).traceIdWords).toBeDefined(); // worked out when its first child recorded
    const spans = processor.spans;
    const decoded = decodedSpans(spans);
    expect(decoded).toHaveLength(5);
    decoded.forEach((span, i) => {
      const recorded = spans[i]!;
      expect(span.name).toBe(recorded.name);
      expect(hex(span.traceId)).toBe(recorded.spanContext().traceId);
      expect(hex(span.spanId)).toBe(recorded.spanContext().spanId);
      expect(hex(span.parentSpanId)).toBe(recorded.parentSpanId ?? '');
    });
    const byName = Object.fromEntries(decoded.map((span) => [span.name, span]));
    expect(hex(byName['grandchild'].traceId)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(hex(byName['from-remote'].parentSpanId)).toBe('00f067aa0ba902b7');
    expect(byName['from-remote'].traceState).toBe('vendor=value');
    expect(hex(byName['from-plain'].traceId)).toBe('5b8efff798038103d269b633813fc60c');
    expect(hex(byName['from-plain'].parentSpanId)).toBe('eee19b7ec3c1b174');
    expect(byName['from-plain'].links.map((link: any) => [hex(link.traceId), hex(link.spanId)])).toEqual([
      ['5b8efff798038103d269b633813fc60c', 'eee19b7ec3c1b174'],
      ['4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7'],
    ]);
  });

  it('are those of the trace when a span records under a parent that did not', () => {
    // New traces are dropped, their children recorded: the trace id's words come from the hex.
    const sampler: Sampler = {
      shouldSample: (parent) => (parent === undefined ? SamplingDecision.Drop : SamplingDecision.RecordAndSample),
      toString: () => 'children only',
    };
    const { tracer, processor } = testProvider({ sampler });
    const root = tracer.startSpan('root', undefined, ROOT_CONTEXT);
    expect(root.isRecording()).toBe(false);
    const child = tracer.startSpan('child', undefined, setSpanContext(ROOT_CONTEXT, root.spanContext()));
    child.end();
    const [decoded] = decodedSpans(processor.spans);
    expect(hex(decoded.traceId)).toBe(root.spanContext().traceId);
    expect(hex(decoded.spanId)).toBe(child.spanContext().spanId);
    expect(hex(decoded.parentSpanId)).toBe(root.spanContext().spanId);
  });
});
