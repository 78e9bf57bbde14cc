import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { receiverForEachTest, type ReceivedSpan } from '../helpers/otlp-receiver';
import { APP_NODE_VERSION, FIXTURES, runApp, type Preload } from '../helpers/run-app';

const VERSION = (require('../../package.json') as { version: string }).version;

const receiver = receiverForEachTest();

function byName(spans: ReceivedSpan[]): Record<string, ReceivedSpan> {
  return Object.fromEntries(spans.map((span) => [span.name, span]));
}

/** Everything manual-api.{cjs,mjs} does, checked field by field on what the collector decoded. */
function expectManualApiTrace(spans: ReceivedSpan[], stdout: string): void {
  const printed = JSON.parse(stdout.trim()) as { agentActive: boolean; linkTarget: { traceId: string; spanId: string } };
  expect(printed.agentActive).toBe(true);
  expect(spans).toHaveLength(6);
  const { parent, child, 'link-target': linkTarget, producer, consumer, internal } = byName(spans);

  expect(parent!.traceId).toMatch(/^[0-9a-f]{32}$/);
  expect(parent!.spanId).toMatch(/^[0-9a-f]{16}$/);
  expect(parent!.parentSpanId).toBe('');
  expect(child!.traceId).toBe(parent!.traceId);
  expect(child!.parentSpanId).toBe(parent!.spanId);
  expect(linkTarget!.traceId).toBe(printed.linkTarget.traceId);
  expect(linkTarget!.traceId).not.toBe(parent!.traceId);
  // Sampled and random flags (a trace the agent starts), plus "has is-remote" (0x100) with a local parent (no 0x200).
  expect(parent!.flags).toBe(0x103);
  expect(child!.flags).toBe(0x103);

  expect([parent!.kind, child!.kind, producer!.kind, consumer!.kind, internal!.kind]).toEqual([2, 3, 4, 5, 1]);

  expect(parent!.attributes).toEqual({
    str: 'value',
    int: 42,
    negative: -7,
    big: 2 ** 40,
    double: 2.5,
    bool: true,
    strs: ['a', 'b'],
    ints: [1, 2],
    doubles: [1.5, 2.5],
    bools: [true, false],
  });
  expect(parent!.attributeTypes).toMatchObject({
    str: 'stringValue',
    int: 'intValue',
    negative: 'intValue',
    big: 'intValue',
    double: 'doubleValue',
    bool: 'boolValue',
    strs: 'arrayValue',
  });
  expect(parent!.status).toEqual({ code: 1, message: '' });
  expect(child!.status).toEqual({ code: 2, message: 'boom' });

  expect(child!.events.map((e) => e.name)).toEqual(['cache miss', 'exception']);
  expect(child!.events[0]!.attributes).toEqual({ key: 'user:1' });
  expect(child!.events[1]!.attributes).toMatchObject({ 'exception.type': 'TypeError', 'exception.message': 'boom' });
  expect(String(child!.events[1]!.attributes['exception.stacktrace'])).toContain('TypeError: boom');
  expect(child!.links).toEqual([
    {
      traceId: printed.linkTarget.traceId,
      spanId: printed.linkTarget.spanId,
      traceState: '',
      attributes: { reason: 'follows' },
      droppedAttributesCount: 0,
      flags: 0x103, // the linked span's sampled and random flags, and a local context
    },
  ]);
  for (const span of spans) {
    expect(span.droppedAttributesCount + span.droppedEventsCount + span.droppedLinksCount).toBe(0);
  }

  // Nanosecond timestamps: children inside the parent, the parent at least the 5 ms it waited.
  const start = BigInt(parent!.startTimeUnixNano);
  const end = BigInt(parent!.endTimeUnixNano);
  expect(end - start).toBeGreaterThanOrEqual(4_000_000n);
  expect(BigInt(child!.startTimeUnixNano)).toBeGreaterThanOrEqual(start);
  expect(BigInt(child!.endTimeUnixNano)).toBeLessThanOrEqual(end);
  expect(Number(start / 1_000_000n)).toBeGreaterThan(Date.now() - 60_000);

  expect(parent!.scope).toEqual({ name: 'fixture-lib', version: '3.2.1', schemaUrl: '' });
  expect(parent!.resource).toMatchObject({
    'service.name': 'e2e-manual',
    'telemetry.sdk.name': 'tracelet',
    'telemetry.sdk.language': 'nodejs',
    'telemetry.sdk.version': VERSION,
    'process.runtime.name': 'nodejs',
    'process.runtime.version': APP_NODE_VERSION,
    'host.name': hostname(),
    'os.type': 'linux',
    'deployment.environment.name': 'test',
  });
  expect(parent!.resource['process.pid']).toEqual(expect.any(Number));
}

describe('manual @opentelemetry/api spans reach the collector', () => {
  const variants: Array<[string, Preload]> = [
    ['manual-api.cjs', 'import'],
    ['manual-api.cjs', 'require'],
    ['manual-api.mjs', 'import'],
    ['manual-api.mjs', 'require'],
  ];
  for (const [script, preload] of variants) {
    it(`${script} started with --${preload}`, async () => {
      const result = await runApp({
        script: resolve(FIXTURES, script),
        preload,
        env: {
          OTEL_SERVICE_NAME: 'e2e-manual',
          OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test',
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver().endpoint,
        },
      });
      expect(result.code).toBe(0);
      expect(receiver().requests[0]!.path).toBe('/v1/traces');
      expectManualApiTrace(receiver().spans, result.stdout);
    });
  }

  const encodings: Array<[string, string]> = [
    ['http/protobuf', 'none'],
    ['http/protobuf', 'gzip'],
    ['http/json', 'none'],
    ['http/json', 'gzip'],
  ];
  for (const [protocol, compression] of encodings) {
    it(`over ${protocol} with compression ${compression}`, async () => {
      const result = await runApp({
        script: resolve(FIXTURES, 'manual-api.cjs'),
        env: {
          OTEL_SERVICE_NAME: 'e2e-manual',
          OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test',
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver().endpoint}/custom/traces`,
          OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
          OTEL_EXPORTER_OTLP_COMPRESSION: compression,
          OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=s3cret,x-team=pay%20ments',
        },
      });
      expect(result.code).toBe(0);
      const [request] = receiver().requests;
      expect(request!.path).toBe('/custom/traces');
      expect(request!.headers['content-type']).toBe(protocol === 'http/json' ? 'application/json' : 'application/x-protobuf');
      expect(request!.headers['content-encoding']).toBe(compression === 'gzip' ? 'gzip' : undefined);
      expect(request!.headers['x-api-key']).toBe('s3cret');
      expect(request!.headers['x-team']).toBe('pay ments');
      expect(request!.headers['user-agent']).toBe(`tracelet/${VERSION}`);
      expectManualApiTrace(receiver().spans, result.stdout);
    });
  }

  it('applies the OTEL_*_LIMIT variables and carries the dropped counts to the collector', async () => {
    const result = await runApp({
      script: resolve(FIXTURES, 'manual-api.cjs'),
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver().endpoint,
        OTEL_ATTRIBUTE_COUNT_LIMIT: '3',
        OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '2',
        OTEL_SPAN_EVENT_COUNT_LIMIT: '1',
        OTEL_SPAN_LINK_COUNT_LIMIT: '0',
      },
    });
    expect(result.code).toBe(0);
    const { parent, child } = byName(await receiver().waitForSpans(6));
    expect(parent!.attributes).toEqual({ str: 'va', int: 42, negative: -7 });
    expect(parent!.droppedAttributesCount).toBe(7);
    expect(child!.events.map((e) => e.name)).toEqual(['exception']);
    expect(child!.droppedEventsCount).toBe(1);
    expect(child!.events[0]!.attributes['exception.message']).toBe('bo');
    expect(child!.events[0]!.droppedAttributesCount).toBe(0);
    expect(child!.links).toEqual([]);
    expect(child!.droppedLinksCount).toBe(1);
  });
});
