import type { ReadableSpan } from '../trace/types';

/**
 * The path of a span out of the process: a SpanProcessor receives it as it ends; the batch
 * processor has a SpanEncoder pack it (serialized ahead, on the next turn of the event loop),
 * turns some packs into the body of one request, and hands that to a SpanExporter, which only
 * sends bytes.
 */

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

/** Spans an encoder packed: only their count is the processor's business. */
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

/** What a receiver said it rejected of a delivered request (OTLP partial success). */
export interface ExportResponse {
  /** Spans the receiver rejected (ExportTracePartialSuccess.rejected_spans); 0 when all accepted. */
  readonly rejectedSpans: number;
  readonly errorMessage: string;
}

/**
 * One wire format (OTLP protobuf, OTLP JSON). Its packs hold spans serialized soon after they
 * end, so that the queue holds compact bytes instead of span objects: a queue of span objects
 * waiting for their batch keeps them alive across many young-generation collections, which the
 * garbage collector copies and promotes while V8 grows the young generation (tens of MB of RSS
 * under load) to cope.
 */
export interface SpanEncoder {
  /** The Content-Type of its requests. */
  readonly contentType: string;
  createPacker(): SpanPacker;
  /** The body of one request holding the spans of `packs` (made by this encoder's packers). */
  encode(packs: readonly SpanPack[]): Uint8Array;
  /** Reads a successful response's body, in the same format. Never throws: garbage reads as full success. */
  readResponse(body: Uint8Array): ExportResponse;
}

export interface ExportResult {
  readonly ok: boolean;
  /** Set when ok is false: why the request was not delivered. */
  readonly error?: Error;
}

/**
 * Sends encoded spans. send() never rejects: failures come back as a result, because the
 * processor that calls it runs inside the host application.
 */
export interface SpanExporter {
  send(body: Uint8Array, spanCount: number): Promise<ExportResult>;
  /**
   * Last-chance delivery from a process 'exit' listener, where nothing asynchronous runs any more.
   * Blocks for at most timeoutMs.
   */
  sendAtExit(body: Uint8Array, spanCount: number, timeoutMs: number): void;
  shutdown(): Promise<void>;
}

/** How many spans some packs hold. */
export function spanCount(packs: readonly SpanPack[]): number {
  let count = 0;
  for (const pack of packs) count += pack.count;
  return count;
}
