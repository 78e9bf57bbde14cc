import { agentContext } from '../api/active';
import { ROOT_CONTEXT } from '../api/context';
import { TRACE_FLAG_SAMPLED } from '../api/trace';
import { suppressTracing } from '../trace/suppress';
import type { ReadableSpan } from '../trace/types';
import type { SpanExporter, SpanProcessor } from './types';

const EXPORT_CONTEXT = suppressTracing(ROOT_CONTEXT);

/**
 * Hands each sampled span to the exporter as soon as it ends. Used for the console exporter,
 * which does its own grouping into traces, so a person sees output without the batch delay.
 */
export class SimpleSpanProcessor implements SpanProcessor {
  private readonly pending = new Set<Promise<unknown>>();
  private closed = false;

  constructor(private readonly exporter: SpanExporter) {}

  onEnd(span: ReadableSpan): void {
    if (this.closed || (span.spanContext().traceFlags & TRACE_FLAG_SAMPLED) === 0) return;
    const done = agentContext.with(EXPORT_CONTEXT, () => this.exporter.export([span]));
    this.pending.add(done);
    void done.finally(() => this.pending.delete(done));
  }

  hasPendingSpans(): boolean {
    return this.pending.size > 0;
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.pending);
  }

  flushAtExit(timeoutMs: number): void {
    this.exporter.exportAtExit?.([], timeoutMs);
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.forceFlush();
    await this.exporter.shutdown();
  }
}
