import type { Tracer, TracerOptions, TracerProvider } from '@opentelemetry/api';
import type { SpanLimits } from '../config/env';
import type { SpanProcessor } from '../export/types';
import type { Sampler } from './sampler';
import { AgentTracer, type TracerHost } from './tracer';
import type { ReadableSpan } from './types';

export interface TracerProviderOptions {
  readonly sampler: Sampler;
  readonly limits: SpanLimits;
  readonly processors: readonly SpanProcessor[];
}

/** The agent's @opentelemetry/api TracerProvider: one per process, registered as the global one. */
export class AgentTracerProvider implements TracerProvider, TracerHost {
  readonly sampler: Sampler;
  readonly limits: SpanLimits;
  active = true;
  private readonly processors: readonly SpanProcessor[];
  private readonly tracers = new Map<string, AgentTracer>();
  private shutdownPromise: Promise<void> | undefined;

  constructor(options: TracerProviderOptions) {
    this.sampler = options.sampler;
    this.limits = options.limits;
    this.processors = options.processors;
  }

  getTracer(name: string, version?: string, options?: TracerOptions): Tracer {
    const schemaUrl = options?.schemaUrl;
    const key = `${name}\0${version ?? ''}\0${schemaUrl ?? ''}`;
    let tracer = this.tracers.get(key);
    if (tracer === undefined) {
      tracer = new AgentTracer(this, { name: String(name ?? ''), version, schemaUrl });
      this.tracers.set(key, tracer);
    }
    return tracer;
  }

  onSpanEnd(span: ReadableSpan): void {
    for (let i = 0; i < this.processors.length; i++) this.processors[i]!.onEnd(span);
  }

  hasPendingSpans(): boolean {
    return this.processors.some((processor) => processor.hasPendingSpans());
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.processors.map((processor) => processor.forceFlush()));
  }

  /** Synchronous last flush from the process 'exit' event. */
  flushAtExit(timeoutMs: number): void {
    for (const processor of this.processors) processor.flushAtExit(timeoutMs);
  }

  shutdown(): Promise<void> {
    if (this.shutdownPromise === undefined) {
      this.active = false;
      this.shutdownPromise = Promise.all(this.processors.map((processor) => processor.shutdown())).then(() => undefined);
    }
    return this.shutdownPromise;
  }
}
