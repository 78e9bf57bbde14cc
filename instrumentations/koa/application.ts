import type { FrameworkSettings } from '../../src/instrumentation/framework';
import type { InstrumentationContext } from '../../src/instrumentation/types';
import { wrap } from '../../src/instrumentation/wrap';
import { isTracedDispatch } from './router';
import { tracedMiddleware, type Middleware } from './middleware';
import { isRecordedError, isTracedWrapper, noteServerError, stateOf, trackRequest, tracingOf } from './request-state';

/**
 * Koa's Application (both majors): `createContext` notes each request's server context,
 * `use` (with `all` only) wraps the middleware it adds, and the context prototype's `onerror`
 * notes the error Koa's own error handling answers with, for the server span's error.type.
 */

interface Application {
  middleware?: unknown;
}

interface ApplicationClass {
  readonly prototype: Application & {
    createContext(...args: unknown[]): unknown;
    use(fn: unknown): unknown;
  };
}

/** The Application class from what `require('koa')` or `import 'koa'` (its ES module wrapper's namespace) gives. */
export function applicationClassOf(exports: unknown): ApplicationClass | undefined {
  const candidate = typeof exports === 'function' ? exports : (exports as { default?: unknown } | null | undefined)?.default;
  if (typeof candidate !== 'function') return undefined;
  const prototype = (candidate as { prototype?: unknown }).prototype;
  return prototype !== null && typeof prototype === 'object' && typeof (prototype as { createContext?: unknown }).createContext === 'function'
    ? (candidate as ApplicationClass)
    : undefined;
}

export function patchApplication(exports: unknown, ctx: InstrumentationContext<FrameworkSettings>): void {
  const Application = applicationClassOf(exports);
  if (Application === undefined) return;
  const tracing = tracingOf(ctx);
  wrap(
    ctx,
    Application.prototype,
    'createContext',
    (original: Function) =>
      function createContext(this: unknown) {
        const koaContext: unknown = Reflect.apply(original, this, arguments);
        try {
          trackRequest(koaContext);
        } catch (error) {
          ctx.reportError(error);
        }
        return koaContext;
      },
  );
  if (tracing.spans === 'all') {
    wrap(
      ctx,
      Application.prototype,
      'use',
      (original: Function) =>
        function use(this: Application) {
          const list = this?.middleware;
          const before = Array.isArray(list) ? list.length : -1;
          // Koa validates, converts (a Koa 2 generator) and adds the middleware as it always does;
          // then the function it added is replaced by its traced wrapper.
          const result: unknown = Reflect.apply(original, this, arguments);
          if (before !== -1) {
            try {
              if (this.middleware === list && (list as unknown[]).length === before + 1) {
                const added = (list as unknown[])[before];
                if (typeof added === 'function' && !isTracedWrapper(added) && !isTracedDispatch(added)) {
                  (list as unknown[])[before] = tracedMiddleware(added as Middleware, tracing);
                }
              }
            } catch (error) {
              ctx.reportError(error);
            }
          }
          return result;
        },
    );
  }
}

/** Koa's context prototype: `onerror` is where an error no middleware handled reaches Koa. */
export function patchContext(exports: unknown, ctx: InstrumentationContext<FrameworkSettings>): void {
  if (exports === null || typeof exports !== 'object' || typeof (exports as { onerror?: unknown }).onerror !== 'function') return;
  const tracing = tracingOf(ctx);
  wrap(
    ctx,
    exports as { onerror: Function },
    'onerror',
    (original: Function) =>
      function onerror(this: unknown, error: unknown) {
        // Koa also calls it with null when the response finishes.
        if (error !== null && error !== undefined) {
          try {
            const state = stateOf(this);
            if (state !== undefined && state.recording && !isRecordedError(state, error)) noteServerError(tracing, state, error);
          } catch (failure) {
            ctx.reportError(failure);
          }
        }
        return Reflect.apply(original, this, arguments);
      },
  );
}
