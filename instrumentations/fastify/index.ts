/**
 * Fastify 4 and 5: names the HTTP server span after the matched route (`GET /users/:id`, with
 * http.route) and adds INTERNAL spans for the route handler and for the request hooks around it
 * (onRequest, preParsing, preValidation, preHandler, preSerialization, onSend), children of the
 * server span; the work a handler or hook starts is the child of its span.
 *
 * Nothing of Fastify's internals is wrapped. Fastify publishes every new instance on the
 * `fastify.initialization` diagnostics channel; the instrumentation then uses public extension
 * points of that instance only:
 * - an onRequest hook (registered first, so it runs first) names the server span;
 * - an onRoute hook wraps each route's handler and its route-level hooks;
 * - addHook is wrapped so hooks registered by the application and its plugins (encapsulated
 *   contexts inherit it) are wrapped as they are added;
 * - onSend and onError hooks end a callback-style handler's span and record the error type.
 * The server span itself belongs to the http instrumentation (Fastify serves through node:http),
 * so the two together give one SERVER span per request, never two.
 *
 * OTEL_INSTRUMENTATION_FASTIFY_SPANS: `handler` (the default), `all` (handler and hooks) or
 * `route` (route naming only), as for every framework (see framework.ts).
 *
 * Supported: fastify >=4 <6 (checked on the instance's version; others are left alone, with an
 * info line). Limitations: instances created before the agent started are not seen; hooks and
 * handlers registered through Fastify internals rather than its API get no span; onResponse,
 * onTimeout and onRequestAbort hooks get no span (they run after the response).
 */
import type { Instrumentation, InstrumentationContext } from '../../src/instrumentation/types';
import { agentContext } from '../../src/instrumentation/api';
import { briefName, frameworkOutcome, isTracedAbove, readFrameworkSettings, type FrameworkSettings } from '../../src/instrumentation/framework';
import { setHttpRoute, setHttpServerError } from '../../src/instrumentation/http-server-request';
import { satisfies } from '../../src/instrumentation/version-range';
import { wrap } from '../../src/instrumentation/wrap';
import { endHandlerOnError, endHandlerOnSend, wrapHandler } from './handler';
import { TRACED_HOOKS, wrapHook } from './hooks';
import { stateOf, trackRequest } from './request-state';

export const SUPPORTED_FASTIFY = '>=4 <6';

const kInstrumented = Symbol('tracelet.fastify.instrumented');

type Done = (error?: unknown, value?: unknown) => void;
/** A hook of any of Fastify's shapes (the request hooks, onRoute, onError...). */
type Hook = (this: never, ...args: never[]) => unknown;
type AddHook = (this: FastifyInstance, name: string, fn: Hook) => unknown;

interface FastifyInstance {
  readonly version?: string;
  readonly pluginName?: string;
  addHook: AddHook;
  [kInstrumented]?: boolean;
}

interface FastifyRequest {
  readonly routeOptions?: { readonly url?: string };
  readonly routerPath?: string;
}

interface RouteOptions {
  url?: string;
  handler?: unknown;
  [hook: string]: unknown;
}

function instrumentInstance(fastify: FastifyInstance, ctx: InstrumentationContext<FrameworkSettings>): void {
  if (fastify === null || typeof fastify !== 'object' || fastify[kInstrumented] === true) return;
  const version = fastify.version;
  if (typeof version !== 'string' || !satisfies(version, SUPPORTED_FASTIFY)) {
    ctx.reportUnsupported('fastify', String(version), SUPPORTED_FASTIFY);
    return;
  }
  Object.defineProperty(fastify, kInstrumented, { value: true });
  const mode = ctx.settings.spans;
  const addHook = fastify.addHook;
  const outcome = frameworkOutcome(ctx);

  addHook.call(fastify, 'onRequest', function tracingOnRequest(request: FastifyRequest, _reply: unknown, done: Done) {
    try {
      // Switched off: no request state, so every hook and handler wrapper steps aside too.
      if (!ctx.enabled) return;
      const serverContext = agentContext.active();
      trackRequest(request, serverContext, outcome);
      const route = routeOf(request);
      if (route !== undefined) setHttpRoute(serverContext, route);
    } catch (error) {
      ctx.reportError(error);
    } finally {
      done();
    }
  });
  addHook.call(fastify, 'onError', function tracingOnError(request: unknown, _reply: unknown, error: unknown, done: Done) {
    try {
      const state = stateOf(request);
      if (state !== undefined) {
        endHandlerOnError(state, error);
        setHttpServerError(state.serverContext, error);
      }
    } catch (failure) {
      ctx.reportError(failure);
    }
    done();
  });
  if (mode === 'route') return;

  addHook.call(fastify, 'onSend', endHandlerOnSend);
  addHook.call(fastify, 'onRoute', function tracingOnRoute(this: FastifyInstance, route: RouteOptions) {
    try {
      const url = typeof route.url === 'string' ? route.url : '';
      if (typeof route.handler === 'function' && !isTracedAbove(route.handler)) route.handler = wrapHandler(route.handler as never, url, ctx);
      if (mode === 'all') for (const hookName of TRACED_HOOKS) wrapRouteHooks(route, hookName, pluginNameOf(this), ctx);
    } catch (error) {
      ctx.reportError(error);
    }
  });
  if (mode === 'all') {
    // Child instances (plugins) are created from this one and inherit the wrapper.
    wrap(
      ctx,
      fastify,
      'addHook',
      (original: AddHook) =>
        function addHook(this: FastifyInstance, name: string, fn: Hook) {
          if (typeof name !== 'string' || !TRACED_HOOKS.has(name) || typeof fn !== 'function') {
            return Reflect.apply(original, this, arguments);
          }
          const args = Array.prototype.slice.call(arguments);
          try {
            args[1] = wrapHook(name, fn, pluginNameOf(this), ctx);
          } catch (error) {
            ctx.reportError(error);
          }
          return Reflect.apply(original, this, args);
        },
    );
  }
}

/** The route template that matched; undefined for a request no route matched. */
function routeOf(request: FastifyRequest): string | undefined {
  // Fastify 4.10+ and 5 have routeOptions; only older 4.x fall back to routerPath (deprecated later).
  const options = request.routeOptions;
  const url = options === undefined ? request.routerPath : options.url;
  return typeof url === 'string' && url !== '' ? url : undefined;
}

function wrapRouteHooks(route: RouteOptions, hookName: string, pluginName: string | undefined, ctx: InstrumentationContext<FrameworkSettings>): void {
  const hooks = route[hookName];
  if (typeof hooks === 'function') route[hookName] = wrapHook(hookName, hooks as never, pluginName, ctx);
  else if (Array.isArray(hooks)) route[hookName] = hooks.map((hook) => wrapHook(hookName, hook, pluginName, ctx));
}

/**
 * The plugin registering a hook or route, briefly (Fastify names a child instance after its whole
 * plugin chain, and @fastify/autoload's plugins after their file's absolute path); undefined for
 * the root instance.
 */
function pluginNameOf(instance: FastifyInstance | undefined): string | undefined {
  const name = briefName(instance?.pluginName);
  return name !== 'fastify' ? name : undefined;
}

export const fastifyInstrumentation: Instrumentation<FrameworkSettings> = {
  name: 'fastify',
  readSettings: (env) => readFrameworkSettings(env, 'FASTIFY'),
  channelSource: { module: 'fastify', version: (message) => (message as { fastify?: { version?: string } } | undefined)?.fastify?.version },
  channels: [
    {
      channel: 'fastify.initialization',
      onMessage(message: { fastify?: FastifyInstance }, ctx) {
        if (message?.fastify !== undefined) instrumentInstance(message.fastify, ctx);
      },
    },
  ],
};
