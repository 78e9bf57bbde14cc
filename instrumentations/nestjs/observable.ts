import type { Context, Span } from '@opentelemetry/api';
import { agentContext } from '../../src/instrumentation/api';
import type { Outcome } from '../../src/instrumentation/outcome';
import { endFailed } from './failure';

/**
 * Spans that last as long as an rxjs Observable's work (an interceptor's, a handler's or a
 * guard's). Nest consumes them by subscribing (lastValueFrom, mergeAll); what runs then is the
 * work: the handler under an interceptor, an interceptor's operators after it, a handler's
 * deferred calls. The instrumentation never subscribes itself (that would run the work twice).
 */

/** The part of rxjs's Subscriber and Subscription used here (rxjs 7, which Nest 10 and 11 need). */
interface Subscriber {
  next(value: unknown): void;
  error(error: unknown): void;
  complete(): void;
}

interface Subscription {
  unsubscribe(): void;
}

/** An rxjs Operator: what `lift` hands each subscriber and the source to. */
interface Operator {
  call(subscriber: Subscriber, source: ObservableLike): () => void;
}

export interface ObservableLike {
  subscribe(observer: Partial<Subscriber>): Subscription;
  lift(operator: Operator): ObservableLike;
}

/** What rxjs's own isObservable accepts from any copy of rxjs: `lift` and `subscribe`. */
export function isObservable(value: unknown): value is ObservableLike {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as ObservableLike).subscribe === 'function' &&
    typeof (value as ObservableLike).lift === 'function'
  );
}

/**
 * The same Observable, whose subscription runs in `context` (its span active, so the work it
 * starts is the span's child) and which ends `span` when it completes, fails (recorded), or is
 * unsubscribed from first (a client gone, a `takeUntil`). Made with the Observable's own `lift`, so
 * the result is an instance of the application's own Observable class, as Nest checks
 * (`instanceof Observable`), and each subscription to it subscribes once to the original.
 */
export function spanningObservable(observable: ObservableLike, span: Span, context: Context, outcome: Outcome): ObservableLike {
  const operator: Operator = {
    call(subscriber, source) {
      const inner = agentContext.with(context, () =>
        source.subscribe({
          next: (value) => subscriber.next(value),
          error: (error) => {
            endFailed(outcome, span, context, error);
            subscriber.error(error);
          },
          complete: () => {
            outcome.end(span);
            subscriber.complete();
          },
        }),
      );
      return () => {
        inner.unsubscribe();
        outcome.end(span);
      };
    },
  };
  return observable.lift(operator);
}
