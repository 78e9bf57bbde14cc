import { agentContext, setSpan, SpanKind } from '../../src/instrumentation/api';
import type { InstrumentationContext } from '../../src/instrumentation/types';
import { ATTR_CODE_FUNCTION_NAME, ATTR_FASTIFY_HOOK_NAME, ATTR_FASTIFY_PLUGIN_NAME } from '../../src/semconv';
import { isThenable, recordError, stateOf } from './request-state';
import type { FastifySettings } from './index';

/** The request lifecycle hooks that get a span of their own. */
export const TRACED_HOOKS: ReadonlySet<string> = new Set([
  'onRequest',
  'preParsing',
  'preValidation',
  'preHandler',
  'preSerialization',
  'onSend',
]);

type HookFunction = (this: unknown, ...args: any[]) => unknown;

/** Marks the instrumentation's own wrappers, so that a function is never wrapped twice. */
export const kTraced = Symbol('tracelet.fastify.traced');

/**
 * Wraps a request hook so each call is an INTERNAL span, child of the request's server span and
 * active while the hook (and what it awaits) runs. The wrapper looks like the hook to Fastify:
 * same length and, for an async hook, an async function, so Fastify validates and runs it as it
 * would the original. The hook ends with the first of: its `done` being called, or its promise
 * settling; an error either way is recorded on the hook's span.
 */
export function wrapHook(
  hookName: string,
  hook: HookFunction,
  pluginName: string | undefined,
  ctx: InstrumentationContext<FastifySettings>,
): HookFunction {
  if (typeof hook !== 'function' || (hook as { [kTraced]?: boolean })[kTraced] === true) return hook;
  const functionName = hook.name || undefined;
  const spanName = `${hookName} ${functionName ?? pluginName ?? 'anonymous'}`;

  function traced(this: unknown, ...args: unknown[]): unknown {
    const state = stateOf(args[0]);
    if (state === undefined) return hook.apply(this, args);
    const span = ctx.tracer.startSpan(spanName, { kind: SpanKind.INTERNAL }, state.serverContext);
    const spanContext = setSpan(state.serverContext, span);
    // An unsampled span has nothing to end: the hook only runs in its context.
    if (!span.isRecording()) return agentContext.with(spanContext, hook, this, ...args);
    span.setAttribute(ATTR_FASTIFY_HOOK_NAME, hookName);
    if (functionName !== undefined) span.setAttribute(ATTR_CODE_FUNCTION_NAME, functionName);
    if (pluginName !== undefined) span.setAttribute(ATTR_FASTIFY_PLUGIN_NAME, pluginName);
    let ended = false;
    const end = (error: unknown): void => {
      if (ended) return;
      ended = true;
      if (error !== undefined && error !== null) recordError(span, error);
      span.end();
    };
    // Fastify always passes `done` last; a hook either calls it or returns a promise.
    const last = args.length - 1;
    const done = args[last];
    if (typeof done === 'function') {
      args[last] = function tracedDone(this: unknown, error: unknown) {
        end(error);
        return Reflect.apply(done, this, arguments);
      };
    }
    let result: unknown;
    try {
      result = agentContext.with(spanContext, hook, this, ...args);
    } catch (error) {
      end(error);
      throw error;
    }
    if (isThenable(result)) result.then(() => end(undefined), end);
    return result;
  }

  const wrapper: HookFunction =
    hook.constructor.name === 'AsyncFunction'
      ? async function (this: unknown, ...args: unknown[]) {
          return traced.apply(this, args);
        }
      : traced;
  Object.defineProperty(wrapper, 'length', { value: hook.length });
  Object.defineProperty(wrapper, 'name', { value: hook.name });
  Object.defineProperty(wrapper, kTraced, { value: true });
  return wrapper;
}
