/**
 * Koa 2 and 3, with @koa/router: names the HTTP server span after the route that matched
 * (`GET /api/users/:id`, with http.route), the router's prefixes included, and adds an INTERNAL
 * `handler {route}` span for the matched route's stack (koa.type `request_handler`, http.route,
 * code.function.name: the stack's last function) and, with `all`, a span for each middleware of
 * the onion (`middleware {name}`, koa.type `middleware`: `app.use(fn)` and `router.use(fn)`) and
 * for each router's dispatch (`router {prefix}`, koa.type `router`). The work a handler or
 * middleware starts is the child of its span. A request no route matched keeps the
 * method-only name and no http.route.
 *
 * Koa publishes nothing (no diagnostics channel, no hooks), so the instrumentation patches:
 * - Application.prototype.createContext (the package's main export, so that both `require('koa')`
 *   and `import Koa from 'koa'`, whose ES module wrapper loads the class without require, are
 *   seen): Koa calls it first thing in its request callback, where the http instrumentation's
 *   context is active; the server context is kept on Koa's context object (a symbol slot), so
 *   middleware that run in a context of their own later are still placed in the right request.
 * - with `all` only, Application.prototype.use: after Koa has validated (and, in Koa 2,
 *   converted) the middleware and added it to `app.middleware`, the function it added is replaced
 *   by a wrapper of the same name. Without `all`, the application's middleware are never touched.
 * - the context prototype's onerror (lib/context.js): where an error no middleware handled
 *   reaches Koa; its type is noted for the server span (error.type, if the answer is a 5xx).
 * - @koa/router's Router.prototype.middleware/routes and match: see router.ts. Routes are named
 *   when their stack starts to run, from the layer's own path (@koa/router writes every prefix
 *   into it), so the name is the route that actually handled the request.
 * The server span itself belongs to the http instrumentation.
 *
 * Span tree: a Koa middleware span covers `fn(ctx, next)` until the promise it returns settles,
 * so the middleware downstream of it run inside it in time. Spans therefore nest as the onion
 * does: each is the child of the span of the middleware (or router) that called `next`, and a
 * waterfall shows a middleware's own time as the gaps around its child. Flat siblings of the
 * server span would overlap one another in time and read as work done in parallel. (A middleware
 * called from a context that is no longer the request's falls back to the server span.) With
 * `handler`, the handler span is the child of whatever span the request is in when its route runs:
 * the server span, unless the application made a span of its own active around `next`.
 *
 * Errors thrown or rejected through the onion are recorded (exception event, error status) on
 * the span where they happened, not again on the spans they pass through on the way up, and
 * noted for the server span's error.type (set only if the response is a 5xx, so an error an
 * upstream error-handling middleware answers with a 4xx leaves the server span a success). Koa's
 * own error handling (ctx.onerror, the app's 'error' event, statuses and bodies) is unchanged:
 * wrappers call the original with the same arguments and hand back its very result.
 *
 * Cost: per request, one small state object on Koa's context; per matched route, nothing
 * allocated (the layer's view is cached); an unsampled request gets its route named and no span
 * at all (so its downstream calls carry the server span's id), and a span's end is observed on
 * the middleware's own promise only when it records.
 *
 * OTEL_INSTRUMENTATION_KOA_SPANS: `handler` (the default), `all` (plus middleware and router
 * spans) or `route` (route naming only), as for every framework (see framework.ts).
 *
 * Supported: koa >=2 <4 (Koa 2.0 to 3.x share createContext, use, the middleware array and
 * context.onerror); @koa/router >=12 <16 (12 and 13 are tested; 14 is 13 with path-to-regexp 8,
 * 15 a TypeScript rewrite with a separate ES module build, both with the same Router.match,
 * middleware/routes and Layer path/methods/stack); the unscoped koa-router >=7 <15 (the same
 * router under its old name). Limitations: a middleware added to `app.middleware` directly, not
 * through `use`, gets no span; middleware a route declares before its handler
 * (`router.get('/x', auth, handler)`) run inside the handler span rather than in spans of their
 * own; an application that replaces `app.context.onerror` (koa-onerror) keeps error.type for
 * errors recorded on spans only; routes of other routers (koa-tree-router, koa-route) are not
 * named; a path given as a regular expression is reported in its source form.
 */
import { readFrameworkSettings, type FrameworkSettings } from '../../src/instrumentation/framework';
import type { Instrumentation, ModulePatch } from '../../src/instrumentation/types';
import { patchApplication, patchContext } from './application';
import { patchRouter } from './router';

export const SUPPORTED_KOA = '>=2 <4';
export const SUPPORTED_KOA_ROUTER = '>=12 <16';
export const SUPPORTED_UNSCOPED_KOA_ROUTER = '>=7 <15';

const patches: ModulePatch<FrameworkSettings>[] = [
  // CommonJS packages (koa's ES module entry imports its CommonJS main): no import hook needed.
  { module: 'koa', versions: SUPPORTED_KOA, importHook: false, patch: patchApplication },
  { module: 'koa', file: 'lib/context.js', versions: SUPPORTED_KOA, patch: patchContext },
  { module: '@koa/router', versions: SUPPORTED_KOA_ROUTER, importHook: false, patch: patchRouter },
  { module: 'koa-router', versions: SUPPORTED_UNSCOPED_KOA_ROUTER, importHook: false, patch: patchRouter },
];

export const koaInstrumentation: Instrumentation<FrameworkSettings> = {
  name: 'koa',
  readSettings: (env) => readFrameworkSettings(env, 'KOA'),
  patches,
};
