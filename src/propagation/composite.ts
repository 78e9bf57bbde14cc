import type { Context, TextMapGetter, TextMapPropagator, TextMapSetter } from '@opentelemetry/api';
import type { PropagatorName } from '../config/env';
import { B3Propagator } from './b3';
import { BaggagePropagator } from './baggage';
import { JaegerPropagator } from './jaeger';
import { TraceContextPropagator } from './trace-context';

/**
 * The propagator for OTEL_PROPAGATORS: every named propagator, in the listed order.
 * An empty list (OTEL_PROPAGATORS=none) injects and extracts nothing.
 */
export function createPropagator(names: readonly PropagatorName[]): TextMapPropagator {
  const propagators: TextMapPropagator[] = [];
  // A name listed twice would write its headers twice.
  for (const name of new Set(names)) propagators.push(createNamedPropagator(name));
  return new CompositePropagator(propagators);
}

/** Runs several propagators as one: extract in order (each on the previous result), inject all. */
export class CompositePropagator implements TextMapPropagator {
  private readonly fieldNames: readonly string[];

  constructor(private readonly propagators: readonly TextMapPropagator[]) {
    const fieldNames = new Set<string>();
    for (const propagator of propagators) {
      for (const field of propagator.fields()) fieldNames.add(field);
    }
    this.fieldNames = [...fieldNames];
  }

  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    for (const propagator of this.propagators) propagator.inject(context, carrier, setter);
  }

  /** Later propagators win where they find something, since each one extracts on top of the previous. */
  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    let result = context;
    for (const propagator of this.propagators) result = propagator.extract(result, carrier, getter);
    return result;
  }

  fields(): string[] {
    return this.fieldNames.slice();
  }
}

function createNamedPropagator(name: PropagatorName): TextMapPropagator {
  switch (name) {
    case 'tracecontext':
      return new TraceContextPropagator();
    case 'baggage':
      return new BaggagePropagator();
    case 'b3':
      return new B3Propagator({ injectEncoding: 'single' });
    case 'b3multi':
      return new B3Propagator({ injectEncoding: 'multi' });
    case 'jaeger':
      return new JaegerPropagator();
  }
}
