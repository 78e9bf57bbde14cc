import type { ReadableSpan } from '../trace/types';

export interface ExportResult {
  readonly ok: boolean;
  /** Set when ok is false: why the batch was not delivered. */
  readonly error?: Error;
}

/**
 * Delivers finished spans somewhere. export() never rejects: failures come back as a result,
 * because the processor that calls it runs inside the host application.
 */
export interface SpanExporter {
  export(spans: readonly ReadableSpan[]): Promise<ExportResult>;
  /**
   * Last-chance delivery from a process 'exit' listener, where nothing asynchronous runs any more.
   * Blocks for at most timeoutMs.
   */
  exportAtExit?(spans: readonly ReadableSpan[], timeoutMs: number): void;
  shutdown(): Promise<void>;
}

/** Spans an exporter serialized ahead of export: only their count is the processor's business. */
export interface SpanPack {
  readonly count: number;
}

/** Collects ended spans into one pack at a time. */
export interface SpanPacker {
  /** Spans added since the last take(). */
  readonly count: number;
  /** Adds a span; if it throws, the pack is as it was before the call. */
  add(span: ReadableSpan): void;
  /** The spans added since the last take(), as a pack; the packer starts a new one. */
  take(): SpanPack;
}

/**
 * An exporter that serializes spans soon after they end, so that a batch processor queues
 * compact bytes instead of span objects. A queue of span objects waiting for their batch keeps
 * them alive across many young-generation collections: the garbage collector copies and
 * promotes them, and V8 grows the young generation (tens of MB of RSS under load) to cope.
 */
export interface PackingExporter extends SpanExporter {
  createPacker(): SpanPacker;
  exportPacks(packs: readonly SpanPack[]): Promise<ExportResult>;
  exportPacksAtExit(packs: readonly SpanPack[], timeoutMs: number): void;
}

/** How many spans some packs hold. */
export function spanCount(packs: readonly SpanPack[]): number {
  let count = 0;
  for (const pack of packs) count += pack.count;
  return count;
}

export function isPackingExporter(exporter: SpanExporter): exporter is PackingExporter {
  const candidate = exporter as Partial<PackingExporter>;
  return typeof candidate.createPacker === 'function' && typeof candidate.exportPacks === 'function' && typeof candidate.exportPacksAtExit === 'function';
}

/** Receives every span that ends; decides what gets exported and when. */
export interface SpanProcessor {
  onEnd(span: ReadableSpan): void;
  /** True while spans wait for export or an export is running. */
  hasPendingSpans(): boolean;
  forceFlush(): Promise<void>;
  /** Synchronous flush for the process 'exit' event. */
  flushAtExit(timeoutMs: number): void;
  shutdown(): Promise<void>;
}
