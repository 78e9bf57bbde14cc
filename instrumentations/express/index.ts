/**
 * Express 4 and 5: names the HTTP server span after the route that matched (`GET /api/users/:id`,
 * with http.route), the prefixes of mounted routers and sub-apps included, and adds an INTERNAL
 * span for the route's handlers and, with `all`, for each middleware, router and sub-app that ran
 * (nested as the application nests them); the work a handler starts is the child of its span.
 *
 * Express publishes nothing before router 2.3's `express.router.request` TracingChannel, and that
 * channel reports a route's local pattern without the prefixes it is mounted under, so the
 * instrumentation patches, in the same two places for both majors:
 * - the router's `use`, to note on each new layer the path it was mounted at and what it is
 *   (a router, a sub-app, a middleware): declaration time, nothing per request;
 * - Layer's handle_request/handle_error (Express 4) and handleRequest/handleError (router 2, which
 *   Express 5 is built on), on the prototype: every layer of every router goes through them, so
 *   the application's own functions are never replaced and tools that list an app's routes see
 *   them unchanged. See handle.ts.
 * The server span itself belongs to the http instrumentation.
 *
 * OTEL_INSTRUMENTATION_EXPRESS_SPANS: `handler` (the default), `all` (plus middleware, routers,
 * sub-apps) or `route` (route naming only), as for every framework (see framework.ts).
 *
 * Supported: express >=4 <5 (its own router) and, for Express 5, router >=2 <3. Limitations: a
 * path given as an array is reported as its members joined by commas; Express 4 does not handle
 * a rejected async handler (the request hangs, without the agent too), so its span ends with the
 * response; a `router` package imported directly by an ES module (not through Express) is not
 * patched for mount prefixes.
 */
import { frameworkOutcome, readFrameworkSettings, type FrameworkSettings } from '../../src/instrumentation/framework';
import type { InstrumentationContext, Instrumentation, ModulePatch } from '../../src/instrumentation/types';
import { wrap } from '../../src/instrumentation/wrap';
import { tracedHandleError, tracedHandleRequest } from './handle';
import { annotateUse, usePathOf, type Router } from './layers';

type Use = (this: Router, ...args: unknown[]) => unknown;

function tracedUse(ctx: InstrumentationContext<FrameworkSettings>) {
  return (original: Use): Use =>
    function use(this: Router) {
      const stack = (this as Router | undefined)?.stack;
      const from = Array.isArray(stack) ? stack.length : -1;
      const result = Reflect.apply(original, this, arguments);
      if (from !== -1) {
        try {
          annotateUse(this, from, usePathOf(arguments));
        } catch (error) {
          ctx.reportError(error);
        }
      }
      return result;
    };
}

function patchLayer(names: { request: string; error: string }) {
  return (exports: unknown, ctx: InstrumentationContext<FrameworkSettings>): void => {
    const prototype = (exports as { prototype?: object } | undefined)?.prototype;
    if (prototype === undefined) return;
    const outcome = frameworkOutcome(ctx);
    wrap(ctx, prototype, names.request as never, tracedHandleRequest(ctx, outcome));
    wrap(ctx, prototype, names.error as never, tracedHandleError(ctx, outcome));
  };
}

const patches: ModulePatch<FrameworkSettings>[] = [
  // Express 4: its own router.
  {
    module: 'express',
    file: 'lib/router/layer.js',
    versions: '>=4 <5',
    patch: patchLayer({ request: 'handle_request', error: 'handle_error' }),
  },
  {
    module: 'express',
    file: 'lib/router/index.js',
    versions: '>=4 <5',
    patch(exports, ctx) {
      wrap(ctx, exports as { use: Use }, 'use', tracedUse(ctx));
    },
  },
  // Express 5: the router package.
  {
    module: 'router',
    file: 'lib/layer.js',
    versions: '>=2 <3',
    patch: patchLayer({ request: 'handleRequest', error: 'handleError' }),
  },
  {
    module: 'router',
    versions: '>=2 <3',
    // Reached through Express's require.
    importHook: false,
    patch(exports, ctx) {
      const prototype = (exports as { prototype?: { use: Use } } | undefined)?.prototype;
      if (prototype !== undefined) wrap(ctx, prototype, 'use', tracedUse(ctx));
    },
  },
];

export const expressInstrumentation: Instrumentation<FrameworkSettings> = {
  name: 'express',
  readSettings: (env) => readFrameworkSettings(env, 'EXPRESS'),
  patches,
};
