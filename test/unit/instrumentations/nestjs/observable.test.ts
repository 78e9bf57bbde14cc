import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defer, lastValueFrom, Observable, of, Subject, throwError, timer } from 'rxjs';
import { map } from 'rxjs/operators';
import { nestjsInstrumentation } from '../../../../instrumentations/nestjs';
import { isObservable, spanningObservable, type ObservableLike } from '../../../../instrumentations/nestjs/observable';
import { agentContext } from '../../../../src/api/active';
import { ROOT_CONTEXT } from '../../../../src/api/context';
import { getSpan, setSpan } from '../../../../src/api/trace';
import { frameworkOutcome } from '../../../../src/instrumentation/framework';
import { installContextManager, removeContextManager } from '../../../helpers/context';
import { testProvider } from '../../../helpers/in-memory';
import { instrumentationContext } from '../../../helpers/instrumentation-context';

beforeAll(() => {
  installContextManager();
});
afterAll(() => removeContextManager());

function setup() {
  const { tracer, processor } = testProvider();
  const ctx = instrumentationContext(nestjsInstrumentation, tracer, {}, { throwErrors: true });
  const span = tracer.startSpan('work');
  return { processor, span, context: setSpan(ROOT_CONTEXT, span), outcome: frameworkOutcome(ctx) };
}

const spanning = <T>(observable: Observable<T>, s: ReturnType<typeof setup>) =>
  spanningObservable(observable as unknown as ObservableLike, s.span, s.context, s.outcome) as unknown as Observable<T>;

describe('Observables spanning their work', () => {
  it('recognise an Observable of any rxjs copy by lift and subscribe, and nothing else', () => {
    expect(isObservable(of(1))).toBe(true);
    expect(isObservable(new Subject())).toBe(true);
    expect(isObservable({ subscribe() {}, lift() {} })).toBe(true);
    expect(isObservable({ subscribe() {} })).toBe(false);
    expect(isObservable(Promise.resolve(1))).toBe(false);
    expect(isObservable(null)).toBe(false);
    expect(isObservable(() => undefined)).toBe(false);
  });

  it('stay an Observable of the same class, emit the same values, and end the span when they complete', async () => {
    const s = setup();
    let subscriptions = 0;
    let activeWhileSubscribing: unknown;
    const source = defer(() => {
      subscriptions++;
      activeWhileSubscribing = getSpan(agentContext.active());
      return timer(5).pipe(map(() => 'done'));
    });
    const result = spanning(source, s);
    expect(result).toBeInstanceOf(Observable);
    expect(result).not.toBe(source);
    expect(s.span.isRecording()).toBe(true);
    expect(subscriptions).toBe(0);
    expect(await lastValueFrom(result)).toBe('done');
    expect(subscriptions).toBe(1);
    expect(activeWhileSubscribing).toBe(s.span);
    expect(s.processor.spans.map((span) => [span.name, span.status.code])).toEqual([['work', 0]]);
  });

  it('record an error and pass it on as it is', async () => {
    const s = setup();
    const failure = new Error('upstream down');
    await expect(
      lastValueFrom(
        spanning(
          throwError(() => failure),
          s,
        ),
      ),
    ).rejects.toBe(failure);
    expect(s.processor.spans[0]!.status).toEqual({ code: 2, message: 'upstream down' });
    expect(s.processor.spans[0]!.events.map((e) => e.name)).toEqual(['exception']);
  });

  it('end the span when unsubscribed from before completing (a client gone)', () => {
    const s = setup();
    const subject = new Subject<number>();
    const seen: number[] = [];
    const subscription = spanning(subject, s).subscribe((value) => seen.push(value));
    subject.next(1);
    expect(s.span.isRecording()).toBe(true);
    subscription.unsubscribe();
    subject.next(2);
    expect(seen).toEqual([1]);
    expect(s.span.isRecording()).toBe(false);
    expect(s.processor.spans[0]!.status.code).toBe(0);
  });
});
