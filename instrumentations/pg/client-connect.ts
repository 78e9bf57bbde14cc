import type { Span } from '@opentelemetry/api';
import { agentContext, SpanKind } from '../../src/instrumentation/api';
import { databaseSpanParent } from '../shared/database';
import type { InstrumentationContext } from '../../src/instrumentation/types';
import { Outcome, type AnyFunction } from '../../src/instrumentation/outcome';
import { wrap } from '../../src/instrumentation/wrap';
import { setConnectionAttributes, type PgConnectionTarget } from './connection';
import { describePgFailure } from './failure';
import type { PgSettings } from './index';

type Connect = (this: PgConnectionTarget, callback?: unknown) => unknown;

/** Span name for opening a connection: not a database operation the conventions name. */
export const CONNECT_SPAN_NAME = 'pg.connect';

/**
 * Client.prototype.connect, promise and callback forms: a CLIENT span from the call until the
 * server is ready for queries (TCP, TLS, authentication) or the attempt fails. Pools connect
 * their clients through it too.
 */
export function patchConnect(prototype: { connect: Connect }, ctx: InstrumentationContext<PgSettings>): void {
  const outcome = new Outcome(ctx, describePgFailure);
  wrap(
    ctx,
    prototype,
    'connect',
    (original: Connect) =>
      function connect(this: PgConnectionTarget, callback?: unknown) {
        const caller = agentContext.active();
        const parent = databaseSpanParent(ctx, caller);
        // Untraced, nothing to do: pg calls back from the socket it opens here, in this context.
        if (parent === undefined) return original.apply(this, arguments as unknown as [unknown]);
        let span: Span | undefined;
        let callArgs: ArrayLike<unknown> = arguments;
        try {
          span = ctx.tracer.startSpan(CONNECT_SPAN_NAME, { kind: SpanKind.CLIENT }, parent);
          setConnectionAttributes(span, this);
          if (typeof callback === 'function') callArgs = [outcome.callback(span, caller, callback as AnyFunction)];
        } catch (error) {
          ctx.reportError(error);
          if (span !== undefined) outcome.end(span);
          return original.apply(this, arguments as unknown as [unknown]);
        }
        return outcome.call(span, original as AnyFunction, this, callArgs, typeof callback === 'function');
      },
  );
}
