import { parseConfig, type SpanLimits } from '../../src/config/env';
import type { SpanProcessor } from '../../src/export/types';
import { createSampler, type Sampler } from '../../src/trace/sampler';
import { AgentTracerProvider } from '../../src/trace/tracer-provider';
import type { ReadableSpan } from '../../src/trace/types';

/** Keeps every ended span (sampled or not) in memory. */
export class InMemoryProcessor implements SpanProcessor {
  readonly spans: ReadableSpan[] = [];
  onEnd(span: ReadableSpan): void {
    this.spans.push(span);
  }
  hasPendingSpans(): boolean {
    return false;
  }
  async forceFlush(): Promise<void> {}
  flushAtExit(): void {}
  async shutdown(): Promise<void> {}
}

export const DEFAULT_LIMITS: SpanLimits = parseConfig({}).config.limits;

export function testProvider(options: { sampler?: Sampler; limits?: Partial<SpanLimits> } = {}) {
  const processor = new InMemoryProcessor();
  const provider = new AgentTracerProvider({
    sampler: options.sampler ?? createSampler('parentbased_always_on', 1),
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    processors: [processor],
  });
  return { provider, processor, tracer: provider.getTracer('test', '1.0.0') };
}
