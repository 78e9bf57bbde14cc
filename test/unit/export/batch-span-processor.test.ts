import { context, trace, TraceFlags } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import type { BatchConfig } from '../../../src/config/env';
import { diag } from '../../../src/diag/logger';
import { BatchSpanProcessor, BURST_WINDOW_MS } from '../../../src/export/batch-span-processor';
import type { ExportResponse, ExportResult, SpanEncoder, SpanExporter, SpanPack, SpanPacker } from '../../../src/export/types';
import { isTracingSuppressed } from '../../../src/trace/suppress';
import type { ReadableSpan } from '../../../src/trace/types';
import { installContextManager } from '../../helpers/context';
import { makeSpan } from '../../helpers/spans';

/** Spans end at the same instant unless told otherwise: a burst, packed together. */
function fakeSpan(name: string, sampled = true, endTime = 1700000000100): ReadableSpan {
  return makeSpan({ name, endTime, context: { traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE } });
}

interface NamePack extends SpanPack {
  readonly names: string[];
}

/**
 * The encoder and the exporter at once: a pack is the spans' names (a span named
 * "unserializable" fails to be added), a request body their names as JSON. Records every pack,
 * every batch sent and every delivery at exit; each send stays pending until the test releases it
 * (or resolves at once).
 */
class ControlledExporter implements SpanEncoder, SpanExporter {
  readonly contentType = 'application/json';
  readonly added: string[] = [];
  readonly packed: string[][] = [];
  readonly exportedPacks: number[][] = [];
  readonly batches: string[][] = [];
  readonly atExit: string[][] = [];
  readonly suppressed: boolean[] = [];
  private releases: Array<() => void> = [];
  inFlight = 0;
  maxInFlight = 0;
  shutdownCalls = 0;
  constructor(private readonly immediate = true) {}

  createPacker(): SpanPacker {
    const fake = this;
    let open: string[] = [];
    return {
      get count() {
        return open.length;
      },
      add(span: ReadableSpan) {
        if (span.name === 'unserializable') throw new Error('cannot serialize');
        fake.added.push(span.name);
        open.push(span.name);
      },
      take(): NamePack {
        const packNames = open;
        open = [];
        fake.packed.push(packNames);
        return { count: packNames.length, names: packNames };
      },
    };
  }
  encode(packs: readonly SpanPack[]): Uint8Array {
    this.exportedPacks.push(packs.map((pack) => pack.count));
    return Buffer.from(JSON.stringify((packs as NamePack[]).flatMap((pack) => pack.names)));
  }
  readResponse(): ExportResponse {
    return { rejectedSpans: 0, errorMessage: '' };
  }

  send(body: Uint8Array): Promise<ExportResult> {
    this.batches.push(JSON.parse(Buffer.from(body).toString()) as string[]);
    this.suppressed.push(isTracingSuppressed(context.active()));
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return new Promise((resolve) => {
      const done = () => {
        this.inFlight--;
        resolve({ ok: true });
      };
      if (this.immediate) setImmediate(done);
      else this.releases.push(done);
    });
  }
  sendAtExit(body: Uint8Array): void {
    this.atExit.push(JSON.parse(Buffer.from(body).toString()) as string[]);
  }
  releaseAll(): void {
    const releases = this.releases;
    this.releases = [];
    for (const release of releases) release();
  }
  async shutdown(): Promise<void> {
    this.shutdownCalls++;
  }
}

/** The same fake, named for the tests about packing. */
class PackingFake extends ControlledExporter {}

const config = (overrides: Partial<BatchConfig> = {}): BatchConfig => ({
  scheduleDelayMs: 60_000,
  maxQueueSize: 100,
  maxExportBatchSize: 10,
  exportTimeoutMs: 30_000,
  ...overrides,
});
const tick = () => new Promise((resolve) => setImmediate(resolve));
const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

installContextManager();
const messages: string[] = [];
diag.setSink((line) => messages.push(line));
afterEach(() => {
  messages.length = 0;
});

describe('BatchSpanProcessor', () => {
  it('exports as soon as a batch is full, in batches of the configured size', async () => {
    const exporter = new ControlledExporter();
    const processor = new BatchSpanProcessor(exporter, exporter, config());
    for (const name of names('s', 25)) processor.onEnd(fakeSpan(name));
    await tick();
    await tick();
    expect(exporter.batches).toEqual([names('s', 10), names('s', 20).slice(10)]);
    await processor.forceFlush();
    expect(exporter.batches[2]).toEqual(names('s', 25).slice(20));
  });

  it('exports a partial batch after the schedule delay', async () => {
    const exporter = new ControlledExporter();
    const processor = new BatchSpanProcessor(exporter, exporter, config({ scheduleDelayMs: 30 }));
    processor.onEnd(fakeSpan('lonely'));
    await tick();
    expect(exporter.batches).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(exporter.batches).toEqual([['lonely']]);
  });

  it('ignores spans that are not sampled', async () => {
    const exporter = new ControlledExporter();
    const processor = new BatchSpanProcessor(exporter, exporter, config());
    processor.onEnd(fakeSpan('unsampled', false));
    await processor.forceFlush();
    expect(exporter.batches).toEqual([]);
    expect(processor.hasPendingSpans()).toBe(false);
  });

  it('runs one export at a time, in a root context with tracing suppressed', async () => {
    const exporter = new ControlledExporter(false);
    const processor = new BatchSpanProcessor(exporter, exporter, config({ maxExportBatchSize: 2 }));
    const parent = trace.setSpanContext(context.active(), { traceId: 'c'.repeat(32), spanId: 'd'.repeat(16), traceFlags: 1 });
    context.with(parent, () => {
      for (const name of names('s', 6)) processor.onEnd(fakeSpan(name));
    });
    await tick();
    expect(exporter.batches).toHaveLength(1);
    expect(processor.hasPendingSpans()).toBe(true);
    for (let i = 0; i < 3; i++) {
      exporter.releaseAll();
      await tick();
    }
    expect(exporter.batches).toEqual([
      ['s0', 's1'],
      ['s2', 's3'],
      ['s4', 's5'],
    ]);
    expect(exporter.maxInFlight).toBe(1);
    expect(exporter.suppressed.every(Boolean)).toBe(true);
  });

  it('drops new spans when the queue is full, counts them and says so once per burst', async () => {
    const exporter = new ControlledExporter(false);
    const processor = new BatchSpanProcessor(exporter, exporter, config({ maxQueueSize: 5, maxExportBatchSize: 5 }));
    for (const name of names('s', 5)) processor.onEnd(fakeSpan(name));
    await tick(); // the first five are being exported; the queue is empty again
    for (const name of names('t', 12)) processor.onEnd(fakeSpan(name));
    expect(processor.droppedSpans).toBe(7);
    const warnings = messages.filter((m) => m.includes('queue is full'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('OTEL_BSP_MAX_QUEUE_SIZE=5');
    exporter.releaseAll();
    await tick();
    exporter.releaseAll();
    await processor.forceFlush();
    expect(exporter.batches).toEqual([names('s', 5), names('t', 5)]);
    expect(messages.filter((m) => m.includes('queue is full'))).toHaveLength(2);
    expect(messages.at(-1)).toContain('6 new spans dropped (7 since start)');
  });

  it('hands queued and in-flight spans to the exporter synchronously at exit', async () => {
    const exporter = new ControlledExporter(false);
    const processor = new BatchSpanProcessor(exporter, exporter, config({ maxExportBatchSize: 2 }));
    for (const name of names('s', 3)) processor.onEnd(fakeSpan(name));
    await tick();
    processor.flushAtExit(1000);
    expect(exporter.atExit).toEqual([['s0', 's1', 's2']]);
    expect(processor.hasPendingSpans()).toBe(true); // the abandoned export is still running
  });

  it('counts a hung export as lost after OTEL_BSP_EXPORT_TIMEOUT and carries on', async () => {
    const exporter = new ControlledExporter(false);
    const processor = new BatchSpanProcessor(exporter, exporter, config({ exportTimeoutMs: 30, maxExportBatchSize: 1 }));
    processor.onEnd(fakeSpan('hangs'));
    processor.onEnd(fakeSpan('next'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(exporter.batches).toEqual([['hangs'], ['next']]);
    expect(messages.some((m) => m.includes('OTEL_BSP_EXPORT_TIMEOUT=30') && m.includes('1 spans'))).toBe(true);
  });

  it('packs a burst of spans on the next turn of the event loop, and exports whole packs', async () => {
    const exporter = new PackingFake();
    const processor = new BatchSpanProcessor(exporter, exporter, config({ maxQueueSize: 1000, maxExportBatchSize: 128 }));
    const ended = names('s', 300);
    for (const name of ended) processor.onEnd(fakeSpan(name));
    // The first, alone so far, at once; those that ended with it not on the path of their requests.
    expect(exporter.added).toEqual(['s0']);
    await tick();
    expect(exporter.added).toEqual(ended); // all at once: no span object outlives the next turn
    expect(exporter.packed).toEqual([ended.slice(0, 128), ended.slice(128, 256)]);
    await tick();
    expect(exporter.exportedPacks).toEqual([[128], [128]]);
    await processor.forceFlush();
    expect(exporter.packed.at(-1)).toEqual(ended.slice(256));
    expect(exporter.exportedPacks).toEqual([[128], [128], [44]]);
    expect(exporter.batches.flat()).toEqual(ended);
  });

  it('packs a lone span as it ends, without a turn of its own, and exports on a turn of its own', async () => {
    const exporter = new PackingFake();
    const processor = new BatchSpanProcessor(exporter, exporter, config({ maxExportBatchSize: 3 }));
    const start = 1700000000000;
    for (const [i, name] of ['a', 'b', 'c'].entries()) {
      processor.onEnd(fakeSpan(name, true, start + i * (BURST_WINDOW_MS * 2)));
      expect(exporter.added.at(-1)).toBe(name);
    }
    expect(exporter.batches).toEqual([]); // the batch is full, but not sent from the span's end
    await tick();
    expect(exporter.batches).toEqual([['a', 'b', 'c']]);
    // A span ending within the window of the last packing joins the next turn's burst.
    processor.onEnd(fakeSpan('d', true, start + 10 * BURST_WINDOW_MS));
    processor.onEnd(fakeSpan('e', true, start + 10 * BURST_WINDOW_MS + BURST_WINDOW_MS / 2));
    expect(exporter.added.at(-1)).toBe('d');
    await tick();
    expect(exporter.added.at(-1)).toBe('e');
  });

  it('at exit, packs what is still pending and hands queued and in-flight packs over', async () => {
    const exporter = new PackingFake(false);
    const processor = new BatchSpanProcessor(exporter, exporter, config({ maxQueueSize: 1000, maxExportBatchSize: 64 }));
    const ended = names('s', 70);
    for (const name of ended) processor.onEnd(fakeSpan(name));
    await tick();
    expect(exporter.exportedPacks).toEqual([[64]]); // in flight, never answered
    processor.flushAtExit(1000);
    expect(exporter.atExit).toEqual([ended]);
    expect(processor.hasPendingSpans()).toBe(true); // the abandoned export is still running
  });

  it('loses only the span that cannot be packed, says so once, and exports the others', async () => {
    const exporter = new PackingFake();
    const processor = new BatchSpanProcessor(exporter, exporter, config());
    processor.onEnd(fakeSpan('before'));
    processor.onEnd(fakeSpan('unserializable'));
    processor.onEnd(fakeSpan('unserializable'));
    processor.onEnd(fakeSpan('after'));
    await processor.forceFlush();
    expect(exporter.batches).toEqual([['before', 'after']]);
    expect(messages.filter((m) => m.includes('could not be serialized'))).toHaveLength(1);
  });

  it('never lets a failure of its own packing turn escape into the application', async () => {
    const exporter = new PackingFake();
    const original = exporter.createPacker.bind(exporter);
    exporter.createPacker = () => {
      const packer = original();
      return {
        get count() {
          return packer.count;
        },
        add: (span: ReadableSpan) => packer.add(span),
        take: () => {
          throw new Error('pack storage failed');
        },
      };
    };
    const processor = new BatchSpanProcessor(exporter, exporter, config({ maxExportBatchSize: 2 }));
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      processor.onEnd(fakeSpan('a'));
      processor.onEnd(fakeSpan('b'));
      await tick();
      await tick();
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    expect(uncaught).toEqual([]);
    expect(messages.some((m) => m.includes('could not be packed for export') && m.includes('pack storage failed'))).toBe(true);
  });

  it('flushes then shuts the exporter down once, ignoring spans that end afterwards', async () => {
    const exporter = new ControlledExporter();
    const processor = new BatchSpanProcessor(exporter, exporter, config());
    processor.onEnd(fakeSpan('before'));
    await processor.shutdown();
    await processor.shutdown();
    processor.onEnd(fakeSpan('after'));
    await processor.forceFlush();
    expect(exporter.batches).toEqual([['before']]);
    expect(exporter.shutdownCalls).toBe(1);
  });
});
