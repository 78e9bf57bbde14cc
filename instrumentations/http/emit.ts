import type { EventEmitter } from 'node:events';
import type { Context } from '@opentelemetry/api';
import { context } from '../../src/instrumentation/api';
import type { InstrumentationContext } from '../../src/instrumentation/types';
import { wrap } from '../../src/instrumentation/wrap';

/**
 * Requests and responses are EventEmitters whose events Node fires from socket callbacks, that is
 * in whatever context created the (possibly reused, keep-alive) socket. So the `emit` of
 * IncomingMessage, ServerResponse and ClientRequest is wrapped once, at the prototype, and for
 * the objects the instrumentation marked:
 * - every listener runs in the request's context (the server span for a request being served,
 *   the caller's context for an outgoing request and its response);
 * - an observer sees each event first, to end spans, without adding listeners of its own (an
 *   'error' listener would swallow errors the application expects to crash on).
 */
export const kEmitContext = Symbol('tracelet.http.emitContext');
export const kObserver = Symbol('tracelet.http.observer');

export interface EmitObserver {
  onEvent(target: object, event: string | symbol, argument: unknown): void;
}

export interface Marked {
  [kEmitContext]?: Context;
  [kObserver]?: EmitObserver;
}

export function patchEmit(prototype: object, ctx: InstrumentationContext): void {
  wrap(prototype as { emit: (...args: any[]) => boolean }, 'emit', (original) =>
    function emit(this: Marked, event: string | symbol) {
      const observer = this[kObserver];
      if (observer !== undefined) {
        try {
          observer.onEvent(this, event, arguments[1]);
        } catch (error) {
          ctx.reportError(error);
        }
      }
      const emitContext = this[kEmitContext];
      // Only listeners need the context, and most events of a request have none.
      if (emitContext === undefined || (this as unknown as EventEmitter).listenerCount(event) === 0) {
        return original.apply(this, arguments);
      }
      return context.apply(emitContext, original, this, arguments);
    },
  );
}
