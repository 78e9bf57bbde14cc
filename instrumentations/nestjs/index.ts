/**
 * NestJS 10 and 11, on the Express and the Fastify adapter: an INTERNAL span for the controller
 * method that handled the request (`ArticlesController.findOne`, with nestjs.type `handler`,
 * nestjs.controller, code.function.name and http.route), the parent of the work it starts (an
 * Observable it returns included: the span lasts until it completes), and, with `all`, one for
 * each guard, interceptor and pipe that ran (`guard AuthGuard`, `interceptor TimingInterceptor`,
 * `pipe ParseIntPipe`). An exception Nest's filters turn into a response is recorded on the span
 * where it was thrown (not again on the spans it passes through), and its type is the server
 * span's error.type if the response is a 5xx.
 *
 * Route naming is the adapter's: Nest registers each route on Express or Fastify with its full
 * path (global prefix and URI version included: `/api/v1/articles/:id`), so the Express and
 * Fastify instrumentations name the server span `GET /api/v1/articles/:id` from their own router
 * before Nest runs; this one never renames it (its handler span copies the route). The handlers
 * Nest registers are marked as traced above (framework.ts), so the adapter makes no `handler ...`
 * span of its own for them: a request reads server span > `ArticlesController.findOne` > its work.
 *
 * Nothing of the application is wrapped: controller methods, guards, interceptors and pipes stay
 * the objects Nest and its Reflect metadata know (route parameters, @HttpCode, @Header, @Redirect,
 * guard metadata, ExecutionContext.getHandler()). Patched inside @nestjs/core, where every HTTP
 * request goes through, the same in both majors:
 * - RouterExplorer.prototype.applyCallbackToRouter (router/router-explorer.js): the explorer's own
 *   router-method factory is wrapped so that each handler Nest registers on the adapter is marked
 *   first (declaration time only). Nest 11's Fastify adapter may register a function around that
 *   handler (FastifyAdapter.requireNonEmptyParams, @nestjs/platform-fastify's
 *   adapters/fastify-adapter.js): the mark is carried over to it.
 * - RouterExecutionContext.prototype.create (router/router-execution-context.js), called once per
 *   route (per request for request-scoped controllers): notes the controller and method names,
 *   and wraps, on the router's own consumer instances (WebSocket gateways, microservices and
 *   GraphQL resolvers have their own, left alone), InterceptorsConsumer.intercept (the handler
 *   span, see handler.ts) and, with `all`, GuardsConsumer.tryActivate and PipesConsumer.applyPipes
 *   (see enhancers.ts).
 * - ExceptionsHandler.prototype.next (exceptions/exceptions-handler.js), where every exception of
 *   a route or of Nest middleware reaches the exception filters: its type, for error.type.
 * The server span itself belongs to the http instrumentation. Below an unsampled server span
 * Nest makes no span: a request costs a context lookup.
 *
 * OTEL_INSTRUMENTATION_NESTJS_SPANS: `handler` (the default), `all` (plus guards, interceptors,
 * pipes) or `route` (no span of Nest's: the adapter's naming only, and still no adapter handler
 * span for Nest's handlers), as for every framework (see framework.ts). With `handler`, the time
 * guards and interceptors take before the handler shows as the gap between the server span's
 * start and the handler span's; pipes run inside the handler span (they make its arguments), so
 * their time and their failures (a 400 from ParseIntPipe) are the handler span's.
 *
 * Supported: @nestjs/core >=10 <12. Limitations: route naming needs the adapter's instrumentation
 * (express or fastify) on; with `handler`, an exception a guard or an interceptor throws has no
 * span to be recorded on (the response status says it, and error.type for a 5xx); a guard
 * returning false ends its span without error (Nest throws its ForbiddenException after it); an
 * @Sse() handler's span lasts as long as its stream; Nest middleware, and enhancers Nest runs
 * outside its HTTP router (gateways, microservices, GraphQL), get no span from this one.
 */
import { agentContext } from '../../src/instrumentation/api';
import { frameworkOutcome, isTracedAbove, markTracedAbove, readFrameworkSettings, type FrameworkSettings } from '../../src/instrumentation/framework';
import { setHttpServerError } from '../../src/instrumentation/http-server-request';
import type { Outcome } from '../../src/instrumentation/outcome';
import type { Instrumentation, InstrumentationContext, ModulePatch } from '../../src/instrumentation/types';
import { wrap } from '../../src/instrumentation/wrap';
import { tracedConsumer, tracedGuards, tracedPipes } from './enhancers';
import { noteHandler, tracedIntercept } from './handler';

export const SUPPORTED_NESTJS = '>=10 <12';

type Method = (this: unknown, ...args: unknown[]) => unknown;

/** The router's execution context creator: its consumers are the router's own. */
interface RouterExecutionContext {
  readonly interceptorsConsumer?: object;
  readonly guardsConsumer?: object;
  readonly pipesConsumer?: object;
}

const instrumentedContexts = new WeakSet<object>();

function instrumentConsumers(routerContext: RouterExecutionContext, ctx: InstrumentationContext<FrameworkSettings>, outcome: Outcome): void {
  if (instrumentedContexts.has(routerContext)) return;
  instrumentedContexts.add(routerContext);
  const { interceptorsConsumer, guardsConsumer, pipesConsumer } = routerContext;
  if (interceptorsConsumer !== undefined) wrap(ctx, interceptorsConsumer as { intercept: Method }, 'intercept', tracedIntercept(ctx, outcome));
  if (ctx.settings.spans !== 'all') return;
  if (guardsConsumer !== undefined)
    wrap(ctx, guardsConsumer as { tryActivate: Method }, 'tryActivate', tracedConsumer(0, tracedGuards, ctx, outcome));
  if (pipesConsumer !== undefined) wrap(ctx, pipesConsumer as { applyPipes: Method }, 'applyPipes', tracedConsumer(2, tracedPipes, ctx, outcome));
}

/** The router-method factories whose methods mark the handlers they register. */
const markingFactories = new WeakSet<object>();

/** `router.get(path, handler)` (and post, all, use...), marking the handler first. */
function markingRouteMethod(method: Method): Method {
  return function route(this: unknown) {
    const handler: unknown = arguments[arguments.length - 1];
    if (typeof handler === 'function') markTracedAbove(handler);
    return Reflect.apply(method, this, arguments);
  };
}

function markRoutesOf(factory: unknown, ctx: InstrumentationContext<FrameworkSettings>): void {
  if (factory === null || typeof factory !== 'object' || markingFactories.has(factory)) return;
  markingFactories.add(factory);
  wrap(
    ctx,
    factory as { get: Method },
    'get',
    (original: Method) =>
      function get(this: unknown) {
        const method = Reflect.apply(original, this, arguments);
        return typeof method === 'function' ? markingRouteMethod(method as Method) : method;
      },
  );
}

const patches: ModulePatch<FrameworkSettings>[] = [
  {
    module: '@nestjs/core',
    file: 'router/router-explorer.js',
    versions: SUPPORTED_NESTJS,
    patch(exports, ctx) {
      const prototype = (exports as { RouterExplorer?: { prototype?: object } } | undefined)?.RouterExplorer?.prototype;
      if (prototype === undefined) return;
      wrap(
        ctx,
        prototype as { applyCallbackToRouter: Method },
        'applyCallbackToRouter',
        (original: Method) =>
          function applyCallbackToRouter(this: { routerMethodFactory?: unknown }) {
            try {
              markRoutesOf(this?.routerMethodFactory, ctx);
            } catch (error) {
              ctx.reportError(error);
            }
            return Reflect.apply(original, this, arguments);
          },
      );
    },
  },
  {
    module: '@nestjs/core',
    file: 'router/router-execution-context.js',
    versions: SUPPORTED_NESTJS,
    patch(exports, ctx) {
      const prototype = (exports as { RouterExecutionContext?: { prototype?: object } } | undefined)?.RouterExecutionContext?.prototype;
      if (prototype === undefined || ctx.settings.spans === 'route') return;
      const outcome = frameworkOutcome(ctx);
      wrap(
        ctx,
        prototype as { create: Method },
        'create',
        (original: Method) =>
          function create(this: RouterExecutionContext, instance: unknown, callback: unknown, methodName: unknown) {
            try {
              instrumentConsumers(this, ctx, outcome);
              noteHandler(instance, callback, methodName);
            } catch (error) {
              ctx.reportError(error);
            }
            return Reflect.apply(original, this, arguments);
          },
      );
    },
  },
  {
    module: '@nestjs/core',
    file: 'exceptions/exceptions-handler.js',
    versions: SUPPORTED_NESTJS,
    patch(exports, ctx) {
      const prototype = (exports as { ExceptionsHandler?: { prototype?: object } } | undefined)?.ExceptionsHandler?.prototype;
      if (prototype === undefined) return;
      wrap(
        ctx,
        prototype as { next: Method },
        'next',
        (original: Method) =>
          function next(this: unknown, exception: unknown) {
            try {
              setHttpServerError(agentContext.active(), exception);
            } catch (error) {
              ctx.reportError(error);
            }
            return Reflect.apply(original, this, arguments);
          },
      );
    },
  },
  {
    // Nest 11.x: a route with parameters may be registered on Fastify through a function around Nest's handler.
    module: '@nestjs/platform-fastify',
    file: 'adapters/fastify-adapter.js',
    versions: SUPPORTED_NESTJS,
    patch(exports, ctx) {
      const prototype = (exports as { FastifyAdapter?: { prototype?: { requireNonEmptyParams?: unknown } } } | undefined)?.FastifyAdapter?.prototype;
      if (prototype === undefined || typeof prototype.requireNonEmptyParams !== 'function') return;
      wrap(
        ctx,
        prototype as { requireNonEmptyParams: Method },
        'requireNonEmptyParams',
        (original: Method) =>
          function requireNonEmptyParams(this: unknown, _url: unknown, handler: unknown) {
            const registered = Reflect.apply(original, this, arguments);
            if (registered !== handler && typeof registered === 'function' && isTracedAbove(handler)) markTracedAbove(registered);
            return registered;
          },
      );
    },
  },
];

export const nestjsInstrumentation: Instrumentation<FrameworkSettings> = {
  name: 'nestjs',
  readSettings: (env) => readFrameworkSettings(env, 'NESTJS'),
  patches,
};
