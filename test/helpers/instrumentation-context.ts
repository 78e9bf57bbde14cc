import type { Tracer } from '@opentelemetry/api';
import { parseSettings, type Env } from '../../src/config/env';
import { createInstrumentationContext } from '../../src/instrumentation/context';
import type { Instrumentation, InstrumentationContext } from '../../src/instrumentation/types';

export interface TestInstrumentationContext<S> extends InstrumentationContext<S> {
  /** Every failure the instrumentation reported, in order. */
  readonly errors: unknown[];
}

/**
 * An instrumentation's context as the agent builds it: its settings read from `env` by its own
 * readSettings, its failures reported (and counted towards switching it off) as in the agent,
 * and also collected in `errors` (a list of the test's own, if given); with `throwErrors`, a
 * failure fails the test at once.
 */
export function instrumentationContext<S>(
  instrumentation: Pick<Instrumentation<S>, 'name' | 'readSettings'>,
  tracer: Tracer,
  env: Env = {},
  options: { throwErrors?: boolean; errors?: unknown[] } = {},
): TestInstrumentationContext<S> {
  const settings =
    instrumentation.readSettings === undefined ? (undefined as S) : parseSettings(env, (reader) => instrumentation.readSettings!(reader)).settings;
  const real = createInstrumentationContext(instrumentation.name, tracer, settings);
  const errors = options.errors ?? [];
  return {
    tracer,
    settings,
    errors,
    get enabled() {
      return real.enabled;
    },
    reportError(error) {
      errors.push(error);
      real.reportError(error);
      if (options.throwErrors === true) throw error;
    },
    reportUnsupported(module, version, range) {
      real.reportUnsupported(module, version, range);
    },
  };
}
