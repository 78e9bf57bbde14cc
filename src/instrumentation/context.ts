import type { Tracer } from '@opentelemetry/api';
import { diag } from '../diag/logger';
import type { InstrumentationContext } from './types';

/**
 * How many failures of its own code an instrumentation may have before it is switched off. One
 * failure is a bug met once (a library object of an unexpected shape, say); failing again and
 * again means it costs the application on every call and traces nothing it can be trusted with.
 */
export const FAILURES_BEFORE_SWITCH_OFF = 10;

/**
 * What one instrumentation gets of the agent: its tracer, its settings, and where its failures go.
 * The first failure is reported (at error level, with where it happened); at the
 * FAILURES_BEFORE_SWITCH_OFF-th the instrumentation is switched off: `enabled` turns false,
 * its wrappers and channel subscribers then hand every call straight to the library, and a
 * warning says so. Spans already started still end.
 */
class InstrumentationRuntime<S> implements InstrumentationContext<S> {
  enabled = true;
  private failures = 0;

  constructor(
    private readonly name: string,
    readonly tracer: Tracer,
    readonly settings: S,
  ) {}

  reportError(error: unknown): void {
    this.failures++;
    if (this.failures === 1) {
      const detail = error instanceof Error ? (error.stack ?? error.message).split('\n').slice(0, 3).join(' | ') : String(error);
      diag.once(
        'error',
        `instrumentation-error:${this.name}`,
        `the ${this.name} instrumentation failed and stepped aside (the application call went on untouched): ${detail}`,
      );
    } else if (this.failures === FAILURES_BEFORE_SWITCH_OFF) {
      this.enabled = false;
      diag.warn(
        `the ${this.name} instrumentation failed ${FAILURES_BEFORE_SWITCH_OFF} times and is switched off for the life of the process; the application runs on, untraced by it`,
      );
    }
  }

  reportUnsupported(module: string, version: string, range: string): void {
    diag.once(
      'info',
      `unsupported:${this.name}:${module}@${version}`,
      `${module}@${version} is outside what the ${this.name} instrumentation supports (${range}); it runs uninstrumented`,
    );
  }
}

export function createInstrumentationContext<S>(name: string, tracer: Tracer, settings: S): InstrumentationContext<S> {
  return new InstrumentationRuntime(name, tracer, settings);
}
