import type { EventEmitter } from 'node:events';
import type { Context } from '@opentelemetry/api';
import { agentContext } from '../../src/instrumentation/api';
import type { InstrumentationContext } from '../../src/instrumentation/types';
import { wrap } from '../../src/instrumentation/wrap';
import type { HttpSettings } from './settings';

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
export const kEmitHook = Symbol('tracelet.http.emitHook');

/** What the instrumentation keeps on a request, response or outgoing request it follows. */
export interface EmitHook {
  /** The context the object's listeners run in. */
  readonly emitContext: Context;
  /** Sees each event of the object first. */
  onEvent(target: object, event: string | symbol, argument: unknown): void;
}

export interface Hooked {
  [kEmitHook]?: EmitHook;
}

/** A hook that only sets the listeners' context. */
export class ContextHook implements EmitHook {
  constructor(readonly emitContext: Context) {}

  onEvent(): void {}
}

export function patchEmit(prototype: object, ctx: InstrumentationContext<HttpSettings>): void {
  wrap(
    ctx,
    prototype as { emit: Function },
    'emit',
    (original: Function) =>
      function emit(this: Hooked, event: string | symbol) {
        // One property read for the objects the instrumentation does not follow.
        const hook = this[kEmitHook];
        if (hook === undefined) return original.apply(this, arguments);
        try {
          hook.onEvent(this, event, arguments[1]);
        } catch (error) {
          ctx.reportError(error);
        }
        // Only listeners need the context, and most events of a request have none.
        if ((this as unknown as EventEmitter).listenerCount(event) === 0) return original.apply(this, arguments);
        return agentContext.apply(hook.emitContext, original, this, arguments);
      },
  );
}
